use diesel::prelude::*;
use probity::audit::{self, Actor};
use probity::db::schema::audit_events;
use probity::db::{self, Backend, DbConnection};

use crate::helpers::{spawn_app, TestApp};

pub fn tests() -> Vec<(&'static str, crate::helpers::AsyncTest)> {
    crate::tests![
        a_fresh_chain_verifies,
        recorded_entries_verify_and_link,
        an_edited_row_is_named_as_the_first_bad_entry,
        a_deleted_entry_is_detected,
        concurrent_writers_do_not_fork_the_chain,
        a_rolled_back_change_leaves_no_audit_entry,
    ]
}

fn record_n(conn: &mut DbConnection, n: usize, actor: &str) {
    for i in 0..n {
        db::write_tx(conn, |conn| {
            audit::record(
                conn,
                probity::clock::Clock::system().now_naive(),
                &Actor::User(actor.to_string()),
                "test.event",
                "thing",
                &format!("{actor}-{i}"),
                serde_json::json!({"i": i, "note": "某某村 改动"}),
            )
        })
        .expect("audit entry written");
    }
}

/// An auditor's token, and how many audit entries exist after signing them in (the account's
/// creation and its sign-in are audited too).
async fn auditor(app: &TestApp) -> (String, i64) {
    let (_, token, _) = app
        .signed_in("auditor", &[probity::domain::roles::Role::Auditor])
        .await;
    let base: i64 = app
        .db(|conn| audit_events::table.count().get_result(conn).unwrap())
        .await;
    (token, base)
}

async fn verify_api(app: &TestApp, token: &str) -> serde_json::Value {
    let response = app.get_as("/api/v1/audit/verify", token).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn tamper(app: &TestApp, sql: String) {
    app.db(move |conn| diesel::sql_query(sql).execute(conn).unwrap())
        .await;
}

async fn a_fresh_chain_verifies(backend: Backend) {
    let app = spawn_app(backend).await;
    let direct = app.db(|conn| audit::verify(conn).unwrap()).await;
    assert!(direct.is_ok());
    assert_eq!(direct.checked, 0);
    // Signing in is audited: the auditor's creation and sign-in are the first entries.
    let (token, base) = auditor(&app).await;
    assert_eq!(base, 2);
    let report = verify_api(&app, &token).await;
    assert_eq!(report["status"], "ok");
    assert_eq!(report["checked"], 2);
}

async fn recorded_entries_verify_and_link(backend: Backend) {
    let app = spawn_app(backend).await;
    let (token, base) = auditor(&app).await;
    app.db(|conn| record_n(conn, 5, "alice")).await;
    let report = verify_api(&app, &token).await;
    assert_eq!(report["status"], "ok", "{report}");
    assert_eq!(report["checked"], base + 5);
    assert!(report["first_bad_seq"].is_null());

    let rows: Vec<(i64, String, String)> = app
        .db(|conn| {
            audit_events::table
                .order(audit_events::seq)
                .select((
                    audit_events::seq,
                    audit_events::prev_hash,
                    audit_events::hash,
                ))
                .load(conn)
                .unwrap()
        })
        .await;
    assert_eq!(
        rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        (1..=base + 5).collect::<Vec<_>>()
    );
    for pair in rows.windows(2) {
        assert_eq!(
            pair[1].1, pair[0].2,
            "each entry holds the previous entry's hash"
        );
    }
}

async fn an_edited_row_is_named_as_the_first_bad_entry(backend: Backend) {
    let app = spawn_app(backend).await;
    let (token, base) = auditor(&app).await;
    app.db(|conn| record_n(conn, 4, "bob")).await;
    let bad = base + 2;
    // Tamper directly in the database, as an attacker with SQL access would.
    tamper(
        &app,
        format!("UPDATE audit_events SET actor = 'user:mallory' WHERE seq = {bad}"),
    )
    .await;
    let report = verify_api(&app, &token).await;
    assert_eq!(report["status"], "broken", "{report}");
    assert_eq!(report["first_bad_seq"], bad);
    assert!(report["reason"].as_str().unwrap().contains("hash"));

    // The library call (used by `probity audit verify`) agrees.
    let direct = app.db(|conn| audit::verify(conn).unwrap()).await;
    assert_eq!(direct.first_bad_seq, Some(bad));
    assert!(!direct.is_ok());

    // Editing details is caught as well.
    tamper(
        &app,
        format!("UPDATE audit_events SET actor = 'user:bob', details = '{{\"i\":99}}' WHERE seq = {bad}"),
    )
    .await;
    assert_eq!(verify_api(&app, &token).await["first_bad_seq"], bad);
}

async fn a_deleted_entry_is_detected(backend: Backend) {
    let app = spawn_app(backend).await;
    let (token, base) = auditor(&app).await;
    app.db(|conn| record_n(conn, 4, "carol")).await;
    tamper(
        &app,
        format!("DELETE FROM audit_events WHERE seq = {}", base + 3),
    )
    .await;
    let report = verify_api(&app, &token).await;
    assert_eq!(report["status"], "broken");
    assert_eq!(report["first_bad_seq"], base + 3);

    // Removing the newest entry is caught by the chain head.
    let app = spawn_app(backend).await;
    let (token, base) = auditor(&app).await;
    app.db(|conn| record_n(conn, 3, "dave")).await;
    tamper(
        &app,
        format!("DELETE FROM audit_events WHERE seq = {}", base + 3),
    )
    .await;
    let report = verify_api(&app, &token).await;
    assert_eq!(report["status"], "broken");
    assert_eq!(report["first_bad_seq"], base + 3);
}

async fn concurrent_writers_do_not_fork_the_chain(backend: Backend) {
    let app = spawn_app(backend).await;
    let (token, base) = auditor(&app).await;
    let mut writers = Vec::new();
    for w in 0..4 {
        let pool = app.pool.clone();
        writers.push(tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().unwrap();
            record_n(&mut conn, 15, &format!("writer{w}"));
        }));
    }
    for w in writers {
        w.await.unwrap();
    }
    let report = verify_api(&app, &token).await;
    assert_eq!(report["status"], "ok", "{report}");
    assert_eq!(report["checked"], base + 60);
}

async fn a_rolled_back_change_leaves_no_audit_entry(backend: Backend) {
    let app = spawn_app(backend).await;
    let (token, base) = auditor(&app).await;
    let result: Result<(), diesel::result::Error> = app
        .db(|conn| {
            db::write_tx(conn, |conn| {
                audit::record(
                    conn,
                    probity::clock::Clock::system().now_naive(),
                    &Actor::System,
                    "test.event",
                    "thing",
                    "x",
                    serde_json::json!({}),
                )?;
                Err(diesel::result::Error::RollbackTransaction)
            })
        })
        .await;
    assert!(result.is_err());
    let count: i64 = app
        .db(|conn| audit_events::table.count().get_result(conn).unwrap())
        .await;
    assert_eq!(count, base);
    assert_eq!(verify_api(&app, &token).await["status"], "ok");
}
