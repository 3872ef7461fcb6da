//! The queue's counts per status at scale (issue 9, "1,000,000 cases"): `case_counts`, kept by
//! triggers on `cases` (migration 000013), equals a grouped count of `cases` after every kind of
//! write — triage, assignment, dispositions, a filing decision, and plain SQL that moves, bulk
//! updates and deletes cases — and the queue's `counts` equal a count of the matching cases for
//! the filters read from it and for those counted from `cases`. Frozen clock, both backends.

use std::collections::BTreeMap;

use diesel::prelude::*;
use probity::db::schema::{case_counts, case_notes, cases, reports};
use probity::db::Backend;
use serde_json::{json, Value};

use crate::triage::{json, world, World};

pub fn tests() -> Vec<(&'static str, crate::helpers::AsyncTest)> {
    crate::tests![queue_counts_follow_every_write_to_cases]
}

/// The fields of a case the counts depend on.
#[derive(Debug, Clone, Queryable)]
struct Counted {
    team_id: String,
    assignee_id: Option<String>,
    status: String,
    due_on: chrono::NaiveDate,
}

async fn counted(w: &World) -> Vec<Counted> {
    w.app
        .db(|conn| {
            cases::table
                .select((
                    cases::team_id,
                    cases::assignee_id,
                    cases::status,
                    cases::due_on,
                ))
                .load(conn)
                .unwrap()
        })
        .await
}

/// `case_counts` (rows with cases) equals the grouped count of `cases`.
async fn assert_table_matches(w: &World, after: &str) {
    let mut expected: BTreeMap<(String, String, String), i64> = BTreeMap::new();
    for c in counted(w).await {
        *expected
            .entry((c.team_id, c.assignee_id.unwrap_or_default(), c.status))
            .or_default() += 1;
    }
    let stored: Vec<(String, String, String, i64)> = w
        .app
        .db(|conn| {
            case_counts::table
                .filter(case_counts::n.ne(0))
                .select((
                    case_counts::team_id,
                    case_counts::assignee_id,
                    case_counts::status,
                    case_counts::n,
                ))
                .load(conn)
                .unwrap()
        })
        .await;
    let stored: BTreeMap<(String, String, String), i64> = stored
        .into_iter()
        .map(|(t, a, s, n)| ((t, a, s), n))
        .collect();
    assert_eq!(stored, expected, "case_counts after {after}");
}

/// The queue's counts for `query` as `token` equal the cases `keep` selects, per status.
async fn assert_counts(w: &World, token: &str, query: &str, keep: impl Fn(&Counted) -> bool) {
    let page = json(w.app.get_as(&format!("/api/v1/cases{query}"), token).await).await;
    let mut expected: BTreeMap<String, Value> = probity::domain::case_status::CaseStatus::ALL
        .iter()
        .map(|s| (s.as_str().to_string(), json!(0)))
        .collect();
    for c in counted(w).await.iter().filter(|c| keep(c)) {
        let n = expected.get_mut(&c.status).unwrap();
        *n = json!(n.as_i64().unwrap() + 1);
    }
    let got: BTreeMap<String, Value> = serde_json::from_value(page["counts"].clone()).unwrap();
    assert_eq!(got, expected, "counts of {query:?}");
}

async fn queue_counts_follow_every_write_to_cases(backend: Backend) {
    let w = world(backend, true).await;
    w.rule(json!(null), json!("360734101"), &w.team_b).await;
    let mut ids = Vec::new();
    for township in ["360734100", "360734100", "360734100", "360734101"] {
        let village = format!("{township}201");
        let (report, _) = w.report(township, &village, "甲").await;
        ids.push(
            w.accept(&report).await["case_id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    assert_table_matches(&w, "triage").await;

    let sup = w.supervisor.clone();
    let (inv_a, inv_a_token) = w.inv_a.clone();
    let r = w
        .app
        .post_as(
            &format!("/api/v1/cases/{}/assign", ids[0]),
            &sup,
            &json!({ "assignee_id": inv_a }),
        )
        .await;
    assert_eq!(r.status(), 200);
    for (id, body) in [
        (&ids[0], json!({"disposition": "preliminary_verification"})),
        (
            &ids[1],
            json!({"disposition": "on_hold", "review_on": "2026-12-03"}),
        ),
        (
            &ids[2],
            json!({"disposition": "close_without_action", "reason": "查无实据"}),
        ),
        (&ids[3], json!({"disposition": "file"})),
    ] {
        let r = w
            .app
            .post_as(&format!("/api/v1/cases/{id}/disposition"), &sup, &body)
            .await;
        assert_eq!(r.status(), 200, "{body}");
    }
    let r = w
        .app
        .post_as(
            &format!("/api/v1/cases/{}/filing-decision", ids[3]),
            &sup,
            &json!({"approve": true}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_table_matches(&w, "assignment, dispositions and a filing decision").await;

    // Read from case_counts: no filter, team, assignee, an investigator's own teams.
    let (team_a, team_b) = (w.team_a.clone(), w.team_b.clone());
    assert_counts(&w, &sup, "", |_| true).await;
    assert_counts(&w, &sup, &format!("?team={team_a}"), |c| {
        c.team_id == team_a
    })
    .await;
    assert_counts(&w, &sup, &format!("?assignee={inv_a}"), |c| {
        c.assignee_id.as_deref() == Some(inv_a.as_str())
    })
    .await;
    assert_counts(&w, &inv_a_token, "?assignee=me", |c| {
        c.assignee_id.as_deref() == Some(inv_a.as_str())
    })
    .await;
    assert_counts(&w, &inv_a_token, "", |c| c.team_id == team_a).await;
    assert_counts(&w, &w.inv_b.1, "?status=filed", |c| c.team_id == team_b).await;
    assert_counts(&w, &sup, "?team=no-such-team", |_| false).await;
    // Counted from cases: an empty assignee matches no case (never the unassigned ones), and
    // the deadline and place filters.
    assert_counts(&w, &sup, "?assignee=", |_| false).await;
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
    assert_counts(&w, &sup, "?overdue=false", |c| c.due_on >= today).await;
    assert_counts(&w, &inv_a_token, "?assignee=me&overdue=false", |c| {
        c.assignee_id.as_deref() == Some(inv_a.as_str()) && c.due_on >= today
    })
    .await;
    assert_counts(&w, &sup, "?due_before=2026-12-04", |c| {
        c.due_on < chrono::NaiveDate::from_ymd_opt(2026, 12, 4).unwrap()
    })
    .await;
    assert_counts(
        &w,
        &sup,
        &format!("?township=360734101&team={team_b}"),
        |c| c.team_id == team_b,
    )
    .await;

    // Writes that no endpoint makes yet (a move to another team, one statement changing many
    // cases, a delete) keep the counts too: the triggers see every write.
    let (moved, gone) = (ids[1].clone(), ids[2].clone());
    let (a, b) = (team_a.clone(), team_b.clone());
    w.app
        .db(move |conn| {
            diesel::update(cases::table.find(&moved))
                .set(cases::team_id.eq(&b))
                .execute(conn)
                .unwrap();
            diesel::update(cases::table.filter(cases::team_id.eq(&a)))
                .set((
                    cases::status.eq("closed"),
                    cases::assignee_id.eq(None::<String>),
                ))
                .execute(conn)
                .unwrap();
            diesel::update(reports::table.filter(reports::case_id.eq(&gone)))
                .set(reports::case_id.eq(None::<String>))
                .execute(conn)
                .unwrap();
            diesel::delete(case_notes::table.filter(case_notes::case_id.eq(&gone)))
                .execute(conn)
                .unwrap();
            diesel::delete(cases::table.find(&gone))
                .execute(conn)
                .unwrap();
        })
        .await;
    assert_table_matches(&w, "a move, a bulk update and a delete").await;
    assert_counts(&w, &sup, "", |_| true).await;
    assert_counts(&w, &sup, &format!("?team={team_b}"), |c| {
        c.team_id == team_b
    })
    .await;
}
