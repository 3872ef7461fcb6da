//! `/suspensions`: the villages whose agriculture-related preferential policies are suspended
//! now (SPEC.md → "Suspensions": "lists the villages suspended now, with since-date and number
//! of cases, and nothing more"; issue 12, item 6). Villagers learn that their benefits wait for
//! remediation. `benefits.public_page = false` turns it off (404).

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use diesel::prelude::*;

use crate::db::schema::{divisions, suspension_periods};
use crate::db::{self, DbPool};
use crate::domain::benefit_status::PeriodCase;
use crate::domain::schedule::county_date;
use crate::suspensions::SuspensionsState;

/// The most villages the page lists.
const MAX_ROWS: i64 = 2000;

/// One line of the page.
pub struct Row {
    pub township: String,
    pub village: String,
    /// The county date the suspension began.
    pub since: String,
    pub cases: usize,
}

#[derive(Template)]
#[template(path = "web/suspensions.html")]
struct SuspensionsPage {
    as_of: String,
    rows: Vec<Row>,
    truncated: bool,
}

/// An open period, with its village, as the page reads it.
#[derive(Debug, Clone, Queryable)]
struct OpenPeriodRow {
    village_name: String,
    township_code: Option<String>,
    started_at: chrono::NaiveDateTime,
    cases: String,
}

/// `GET /suspensions`.
pub async fn page(pool: web::Data<DbPool>, state: web::Data<SuspensionsState>) -> HttpResponse {
    if !state.public_page {
        return super::error_page(
            StatusCode::NOT_FOUND,
            "页面不存在",
            "您要找的页面不存在。",
            "/",
            "回到首页",
        );
    }
    let now = state.clock.now();
    let found = db::run(&pool, |conn| {
        let open: Vec<OpenPeriodRow> = suspension_periods::table
            .inner_join(divisions::table.on(divisions::code.eq(suspension_periods::village_code)))
            .filter(suspension_periods::lifted_at.is_null())
            .order((divisions::parent_code, divisions::code))
            .limit(MAX_ROWS + 1)
            .select((
                divisions::name,
                divisions::parent_code,
                suspension_periods::started_at,
                suspension_periods::cases,
            ))
            .load(conn)?;
        let parents: Vec<String> = open
            .iter()
            .filter_map(|r| r.township_code.clone())
            .collect();
        let townships: HashMap<String, String> = divisions::table
            .filter(divisions::code.eq_any(parents))
            .select((divisions::code, divisions::name))
            .load::<(String, String)>(conn)?
            .into_iter()
            .collect();
        Ok((open, townships))
    })
    .await;
    let (mut open, townships) = match found {
        Ok(found) => found,
        Err(e) => return super::server_error(&e, "/"),
    };
    let truncated = open.len() as i64 > MAX_ROWS;
    open.truncate(MAX_ROWS as usize);
    let rows = open
        .into_iter()
        .map(|r| Row {
            township: r
                .township_code
                .as_ref()
                .and_then(|c| townships.get(c).cloned())
                .unwrap_or_default(),
            since: county_date(r.started_at.and_utc())
                .format("%Y年%m月%d日")
                .to_string(),
            cases: serde_json::from_str::<Vec<PeriodCase>>(&r.cases)
                .map(|c| c.len())
                .unwrap_or(0),
            village: r.village_name,
        })
        .collect();
    super::render(
        StatusCode::OK,
        &SuspensionsPage {
            as_of: (now + chrono::Duration::hours(8))
                .format("%Y年%m月%d日 %H:%M")
                .to_string(),
            rows,
            truncated,
        },
    )
}
