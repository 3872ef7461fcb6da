//! Officials: the people who hold posts in a division (村支书, 乡镇党委书记, …). Accused persons
//! and approval signers point to them. They are never deleted; `active = false` retires one.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::models::{NewOfficialRow, OfficialChanges, OfficialRow};
use crate::audit::{self, Actor};
use crate::db::schema::{divisions, officials};
use crate::db::DbConnection;
use crate::domain::divisions::Level;
use crate::domain::ids::OfficialId;

/// The posts of a village, as the speech names them.
pub const VILLAGE_POSTS: [&str; 2] = ["村支书", "村委会主任"];
/// The posts of a township's leadership, as the speech names them.
pub const TOWNSHIP_POSTS: [&str; 4] = ["乡镇党委书记", "乡镇长", "分管扶贫领导", "乡镇纪委书记"];
/// The county posts of the demo data: the heads of the three benefit offices whose approval is
/// the last stage of a benefit's approval chain (县级审批; SPEC.md → "Clawbacks"): 民政局 for
/// dibao, 住建局 for house renovation, 扶贫办 for poverty funds.
pub const COUNTY_POSTS: [&str; 3] = ["县民政局局长", "县住建局局长", "县扶贫办主任"];

/// An official, as the API shows one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Official {
    pub id: String,
    pub name: String,
    /// e.g. 村支书, 村委会主任, 乡镇党委书记, 乡镇长, 分管扶贫领导, 乡镇纪委书记.
    pub post: String,
    /// `village`, `township` or `county`: the level of the division.
    pub level: String,
    pub division_code: String,
    pub division_name: String,
    /// False once the official has left the post; kept for history.
    pub active: bool,
    /// Where the official is told that a clawback names them as a signer; null when none.
    pub email: Option<String>,
    pub created_at: DateTime<Utc>,
}

fn view((row, division_name): (OfficialRow, String)) -> Official {
    Official {
        id: row.id.into_string(),
        name: row.name,
        post: row.post,
        level: row.level.as_str().to_string(),
        division_code: row.division_code,
        division_name,
        active: row.active,
        email: row.email,
        created_at: row.created_at.and_utc(),
    }
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Official>> {
    officials::table
        .inner_join(divisions::table)
        .filter(officials::id.eq(id))
        .select((OfficialRow::as_select(), divisions::name))
        .first(conn)
        .optional()
        .map(|r| r.map(view))
}

/// Filters for [`list`]; `after` is the cursor `(division_code, id)` of the previous page.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub division: Option<String>,
    pub level: Option<Level>,
    pub active: Option<bool>,
    pub after: Option<(String, String)>,
}

/// A page of officials, ordered by division code, then id.
pub fn list(conn: &mut DbConnection, filter: &Filter, limit: i64) -> QueryResult<Vec<Official>> {
    let mut query = officials::table
        .inner_join(divisions::table)
        .select((OfficialRow::as_select(), divisions::name))
        .into_boxed();
    if let Some(d) = &filter.division {
        query = query.filter(officials::division_code.eq(d.clone()));
    }
    if let Some(l) = filter.level {
        query = query.filter(officials::level.eq(l.as_str()));
    }
    if let Some(a) = filter.active {
        query = query.filter(officials::active.eq(a));
    }
    if let Some((code, id)) = &filter.after {
        query = query.filter(
            officials::division_code
                .gt(code.clone())
                .or(officials::division_code
                    .eq(code.clone())
                    .and(officials::id.gt(id.clone()))),
        );
    }
    query
        .order((officials::division_code.asc(), officials::id.asc()))
        .limit(limit)
        .load(conn)
        .map(|rows| rows.into_iter().map(view).collect())
}

/// The cursor of an official in [`list`]'s order.
pub fn cursor_key(o: &Official) -> String {
    format!("{}/{}", o.division_code, o.id)
}

pub fn parse_cursor_key(key: &str) -> Option<(String, String)> {
    let (code, id) = key.split_once('/')?;
    Some((code.to_string(), id.to_string()))
}

/// A checked new official.
#[derive(Debug, Clone)]
pub struct NewOfficial {
    pub name: String,
    pub post: String,
    pub level: Level,
    pub division_code: String,
    pub active: bool,
    /// Checked with `domain::email::check`.
    pub email: Option<String>,
}

/// Inserts an official and records `official.created`. Call inside `db::write_tx`, after
/// checking the division exists at the official's level.
///
/// `now` is its creation time (the caller's clock). Returns the new id. Errors: any database
/// error.
pub fn insert(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    actor: &Actor,
    new: &NewOfficial,
    via: &str,
) -> QueryResult<String> {
    let official_id = OfficialId::generate();
    let id = official_id.as_str().to_string();
    diesel::insert_into(officials::table)
        .values(NewOfficialRow {
            id: &official_id,
            name: &new.name,
            post: &new.post,
            level: new.level,
            division_code: &new.division_code,
            active: new.active,
            created_at: now,
            email: new.email.as_deref(),
        })
        .execute(conn)?;
    audit::record(
        conn,
        now,
        actor,
        "official.created",
        "official",
        &id,
        serde_json::json!({
            "name": new.name,
            "post": new.post,
            "level": new.level.as_str(),
            "division_code": new.division_code,
            "active": new.active,
            "email": new.email,
            "via": via,
        }),
    )?;
    Ok(id)
}

/// The new values of an official after a change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct OfficialChange {
    pub name: Option<String>,
    pub post: Option<String>,
    pub level: Option<Level>,
    pub division_code: Option<String>,
    pub active: Option<bool>,
    /// `Some(None)` removes the address.
    pub email: Option<Option<String>>,
}

/// Applies a checked change and records `official.updated` with what changed, from and to.
/// Fields equal to the current value are not changes. Returns the changed fields' names.
/// `now` is the audit entry's time (the caller's clock). Errors: any database error.
pub fn update(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    actor: &Actor,
    current: &Official,
    change: &OfficialChange,
) -> QueryResult<Vec<&'static str>> {
    let mut from = serde_json::Map::new();
    let mut to = serde_json::Map::new();
    let mut note = |field: &'static str, old: serde_json::Value, new: serde_json::Value| {
        if old != new {
            from.insert(field.into(), old);
            to.insert(field.into(), new);
        }
    };
    let target = officials::table.find(&current.id);
    if let Some(name) = &change.name {
        note("name", current.name.clone().into(), name.clone().into());
    }
    if let Some(post) = &change.post {
        note("post", current.post.clone().into(), post.clone().into());
    }
    if let Some(level) = change.level {
        note("level", current.level.clone().into(), level.as_str().into());
    }
    if let Some(code) = &change.division_code {
        note(
            "division_code",
            current.division_code.clone().into(),
            code.clone().into(),
        );
    }
    if let Some(active) = change.active {
        note("active", current.active.into(), active.into());
    }
    if let Some(email) = &change.email {
        note("email", current.email.clone().into(), email.clone().into());
    }
    let changed: Vec<&'static str> = ["name", "post", "level", "division_code", "active", "email"]
        .into_iter()
        .filter(|f| to.contains_key(*f))
        .collect();
    if changed.is_empty() {
        return Ok(changed);
    }
    diesel::update(target)
        .set(&OfficialChanges {
            name: change.name.as_deref(),
            post: change.post.as_deref(),
            level: change.level,
            division_code: change.division_code.as_deref(),
            active: change.active,
            email: change.email.as_ref().map(|e| e.as_deref()),
        })
        .execute(conn)?;
    audit::record(
        conn,
        now,
        actor,
        "official.updated",
        "official",
        &current.id,
        serde_json::json!({"changed": changed, "from": from, "to": to}),
    )?;
    Ok(changed)
}
