use std::collections::HashSet;
use std::time::Duration;

use diesel::prelude::*;
use probity::audit::{self, Actor};
use probity::db::schema::jobs;
use probity::db::{self, Backend};
use probity::jobs::{JobRow, STATUS_DEAD, STATUS_DONE, STATUS_PENDING};
use probity::notify::{self, EnqueueError};

use crate::helpers::{app, eventually, spawn_app, TestApp};
use crate::smtp::{Mode, SmtpServer};

pub fn tests() -> Vec<(&'static str, crate::helpers::AsyncTest)> {
    crate::tests![
        a_queued_email_reaches_the_smtp_listener,
        a_refusing_server_means_retries_then_dead,
        with_mail_off_rows_stay_pending,
        two_instances_never_send_a_row_twice,
        an_unknown_template_is_refused_and_nothing_is_written,
    ]
}

async fn enqueue(app: &TestApp, recipient: &str) -> String {
    let recipient = recipient.to_string();
    app.db(move |conn| {
        db::write_tx(conn, |conn| {
            let id = notify::enqueue(
                conn,
                "mail_test",
                &recipient,
                serde_json::json!({"requested_by": "api test"}),
            )?;
            audit::record(
                conn,
                probity::clock::Clock::system().now_naive(),
                &Actor::System,
                "mail.test_queued",
                "job",
                &id,
                serde_json::json!({}),
            )?;
            Ok::<_, anyhow::Error>(id)
        })
        .unwrap()
    })
    .await
}

async fn row(app: &TestApp, id: &str) -> JobRow {
    let id = id.to_string();
    app.db(move |conn| {
        jobs::table
            .find(id)
            .select(JobRow::as_select())
            .first(conn)
            .unwrap()
    })
    .await
}

async fn a_queued_email_reaches_the_smtp_listener(backend: Backend) {
    let smtp = SmtpServer::start(Mode::Accept);
    let app = app(backend).mail_to(smtp.port).spawn().await;
    let id = enqueue(&app, "investigator@probity.test").await;

    let mails = tokio::task::spawn_blocking(move || {
        let m = smtp.wait_for(1, Duration::from_secs(15));
        (m, smtp)
    })
    .await
    .unwrap()
    .0;
    assert_eq!(mails.len(), 1, "one email received");
    let mail = &mails[0];
    assert_eq!(mail.to, vec!["investigator@probity.test".to_string()]);
    assert_eq!(
        mail.header("Message-ID").unwrap(),
        format!("<{id}@probity.outbox>")
    );
    assert!(mail.header("Subject").is_some());

    let sent = eventually(Duration::from_secs(10), || async {
        let r = row(&app, &id).await;
        (r.status == STATUS_DONE).then_some(r)
    })
    .await
    .expect("row marked sent");
    assert_eq!(sent.attempts, 1);
    assert_eq!(sent.kind, "email");
    assert!(sent.finished_at.is_some());
    assert!(sent.last_error.is_none());
}

async fn a_refusing_server_means_retries_then_dead(backend: Backend) {
    let smtp = SmtpServer::start(Mode::RejectRecipients);
    let app = app(backend)
        .mail_to(smtp.port)
        .set("jobs.max_attempts", 3)
        .spawn()
        .await;
    let id = enqueue(&app, "nobody@probity.test").await;
    let dead = eventually(Duration::from_secs(20), || async {
        let r = row(&app, &id).await;
        (r.status == STATUS_DEAD).then_some(r)
    })
    .await
    .expect("row dead-lettered");
    assert_eq!(dead.attempts, 3, "tried exactly max_attempts times");
    let error = dead.last_error.expect("last error kept");
    assert!(error.contains("550"), "{error}");
    assert_eq!(smtp.refused(), 3, "the server saw every attempt");
    assert!(smtp.received().is_empty());
}

async fn with_mail_off_rows_stay_pending(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = enqueue(&app, "someone@probity.test").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let r = row(&app, &id).await;
    assert_eq!(r.status, STATUS_PENDING);
    assert_eq!(r.attempts, 0);
}

async fn two_instances_never_send_a_row_twice(backend: Backend) {
    const ROWS: usize = 40;
    let smtp = SmtpServer::start(Mode::Accept);
    // Mail off while queueing, so both instances start racing for the same full queue.
    let first = app(backend).spawn().await;
    let mut ids = Vec::new();
    for i in 0..ROWS {
        ids.push(enqueue(&first, &format!("staff{i}@probity.test")).await);
    }
    first.stop().await;
    let a = app(backend)
        .mail_to(smtp.port)
        .set("jobs.batch_size", 3)
        .sharing_database(&first)
        .spawn()
        .await;
    let b = app(backend)
        .mail_to(smtp.port)
        .set("jobs.batch_size", 3)
        .sharing_database(&first)
        .spawn()
        .await;

    let all_sent = eventually(Duration::from_secs(60), || async {
        let pending: i64 = a
            .db(|conn| {
                jobs::table
                    .filter(jobs::kind.eq("email"))
                    .filter(jobs::status.ne(STATUS_DONE))
                    .count()
                    .get_result(conn)
                    .unwrap()
            })
            .await;
        (pending == 0).then_some(())
    })
    .await;
    assert!(all_sent.is_some(), "every row sent");
    // Give a double send, if any, the time to arrive.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mails = smtp.received();
    assert_eq!(mails.len(), ROWS, "each row delivered exactly once");
    let message_ids: HashSet<String> = mails
        .iter()
        .filter_map(|m| m.header("Message-ID"))
        .collect();
    let expected: HashSet<String> = ids
        .iter()
        .map(|id| format!("<{id}@probity.outbox>"))
        .collect();
    assert_eq!(message_ids, expected);
    let attempts: Vec<i32> = b
        .db(|conn| {
            jobs::table
                .filter(jobs::kind.eq("email"))
                .select(jobs::attempts)
                .load(conn)
                .unwrap()
        })
        .await;
    assert!(
        attempts.iter().all(|&n| n == 1),
        "no row claimed twice: {attempts:?}"
    );
}

async fn an_unknown_template_is_refused_and_nothing_is_written(backend: Backend) {
    let app = spawn_app(backend).await;
    let result = app
        .db(|conn| {
            db::write_tx(conn, |conn| {
                notify::enqueue(
                    conn,
                    "no_such_template",
                    "x@probity.test",
                    serde_json::json!({}),
                )
            })
        })
        .await;
    assert!(matches!(result, Err(EnqueueError::UnknownTemplate(_))));
    let count: i64 = app
        .db(|conn| {
            jobs::table
                .filter(jobs::kind.eq("email"))
                .count()
                .get_result(conn)
                .unwrap()
        })
        .await;
    assert_eq!(count, 0);
}
