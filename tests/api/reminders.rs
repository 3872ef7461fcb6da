//! Deadline reminders (issue 9, item 5) on both backends: two instances on one database run
//! the daily job across a county-day boundary, and the test SMTP listener receives exactly one
//! digest per person per day — to the assignee, to the team's supervisors for an unassigned
//! case, to every supervisor for a report awaiting triage — and none naming merged,
//! transferred or closed items; an instance started later that day sends nothing more.

use chrono::{TimeZone, Utc};
use probity::clock::Clock;
use probity::db::Backend;
use probity::domain::roles::Role;
use serde_json::json;

use crate::custodian::{json_of, World};
use crate::helpers::{app, TestApp, TestAppBuilder};
use crate::smtp::{Mode, ReceivedMail, SmtpServer};

pub fn tests() -> Vec<(&'static str, crate::helpers::AsyncTest)> {
    crate::tests![two_instances_send_one_digest_per_person_per_day]
}

fn instance(backend: Backend, clock: &Clock, smtp: &SmtpServer) -> TestAppBuilder {
    app(backend)
        .clock(clock.clone())
        .mail_to(smtp.port)
        .set("jobs.worker_enabled", "false")
}

/// A received email's body as text (the mailer sends UTF-8 text as base64).
pub fn body_of(mail: &ReceivedMail) -> String {
    use base64::Engine;
    let raw = mail.data.replace("\r\n", "\n");
    let (headers, body) = raw.split_once("\n\n").unwrap_or((raw.as_str(), ""));
    if headers.contains("Content-Transfer-Encoding: base64") {
        let compact: String = body.split_whitespace().collect();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(compact.trim_end_matches('.'))
            .expect("a base64 body");
        String::from_utf8(bytes).expect("a UTF-8 body")
    } else {
        body.to_string()
    }
}

/// The bodies of the reminder digests received so far by `address`.
fn digests_to(smtp: &SmtpServer, address: &str) -> Vec<String> {
    smtp.received()
        .into_iter()
        .filter(|m| m.to.iter().any(|t| t.contains(address)))
        .map(|m| body_of(&m))
        .filter(|body| body.contains("Deadline reminder ("))
        .collect()
}

async fn passes(apps: &[&TestApp]) {
    for _ in 0..3 {
        for a in apps {
            a.jobs.run_once().await.expect("a jobs pass");
        }
    }
}

async fn dispose(world: &World, case_id: &str, body: serde_json::Value) {
    let response = world
        .app
        .post_as(
            &format!("/api/v1/cases/{case_id}/disposition"),
            &world.supervisor.1,
            &body,
        )
        .await;
    assert_eq!(response.status(), 200, "disposition {body}");
}

async fn case_number(world: &World, case_id: &str) -> String {
    let view = world
        .app
        .get_as(&format!("/api/v1/cases/{case_id}"), &world.supervisor.1)
        .await;
    json_of(view).await["number"].as_str().unwrap().to_string()
}

async fn report_number(world: &World, report_id: &str) -> String {
    let id = report_id.to_string();
    world
        .app
        .db(move |conn| {
            use diesel::prelude::*;
            use probity::db::schema::reports;
            reports::table
                .find(id)
                .select(reports::number)
                .first::<String>(conn)
                .unwrap()
        })
        .await
}

async fn two_instances_send_one_digest_per_person_per_day(backend: Backend) {
    let smtp = SmtpServer::start(Mode::Accept);
    // Monday 2026-11-23, 10:00 in the county: the reports arrive.
    let clock = Clock::frozen(Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap());
    let world = World::start(instance(backend, &clock, &smtp)).await;
    let a = &world.app;
    let inv = a
        .create_staff("inv", &[Role::Investigator], Some("inv@probity.test"))
        .await;
    a.create_staff("sup_other", &[Role::Supervisor], Some("other@probity.test"))
        .await;
    let sup = world.supervisor.0.clone();
    world.set_members(&[&sup, &inv]).await;

    // R1 waits for triage (due 5 working days later, Monday 11-30).
    let (r1, _) = world.submit(false).await;
    // C1: assigned to inv, on hold until Tuesday 12-01.
    let (r2, _) = world.submit(false).await;
    let c1 = world.accept(&r2).await;
    let assigned = a
        .post_as(
            &format!("/api/v1/cases/{c1}/assign"),
            &world.supervisor.1,
            &json!({ "assignee_id": inv }),
        )
        .await;
    assert_eq!(assigned.status(), 200);
    dispose(
        &world,
        &c1,
        json!({"disposition": "on_hold", "review_on": "2026-12-01"}),
    )
    .await;
    // C2: unassigned, on hold until Wednesday 11-25 (overdue by 11-30).
    let (r3, _) = world.submit(false).await;
    let c2 = world.accept(&r3).await;
    dispose(
        &world,
        &c2,
        json!({"disposition": "on_hold", "review_on": "2026-11-25"}),
    )
    .await;
    // Merged, transferred and closed items are never named.
    let (r4, _) = world.submit(false).await;
    world.merge(&r4, &c1).await;
    let (r5, _) = world.submit(false).await;
    let transferred = a
        .post_as(
            &format!("/api/v1/reports/{r5}/triage"),
            &world.supervisor.1,
            &json!({"action": "transfer", "to_body": "县民政局", "reason": "属民政部门职责"}),
        )
        .await;
    assert_eq!(transferred.status(), 200);
    let (r6, _) = world.submit(false).await;
    let c3 = world.accept(&r6).await;
    dispose(
        &world,
        &c3,
        json!({"disposition": "close_without_action", "reason": "查无实据"}),
    )
    .await;
    let (r1n, c1n, c2n, c3n) = (
        report_number(&world, &r1).await,
        case_number(&world, &c1).await,
        case_number(&world, &c2).await,
        case_number(&world, &c3).await,
    );
    let never = [
        report_number(&world, &r4).await,
        report_number(&world, &r5).await,
        c3n,
    ];

    // Monday 11-30, 09:00 in the county: two instances on the database.
    clock.set(Utc.with_ymd_and_hms(2026, 11, 30, 1, 0, 0).unwrap());
    let b = instance(backend, &clock, &smtp)
        .sharing_database(a)
        .spawn()
        .await;
    passes(&[a, &b]).await;
    let to_inv = digests_to(&smtp, "inv@probity.test");
    let to_sup = digests_to(&smtp, "sup@probity.test");
    let to_other = digests_to(&smtp, "other@probity.test");
    assert_eq!(to_inv.len(), 1, "one digest to the assignee");
    assert_eq!(to_sup.len(), 1, "one digest to the team's supervisor");
    assert_eq!(
        to_other.len(),
        1,
        "one digest to the other supervisor (triage)"
    );
    assert!(to_inv[0].contains(&c1n));
    assert!(!to_inv[0].contains(&c2n) && !to_inv[0].contains(&r1n));
    assert!(to_sup[0].contains(&c2n) && to_sup[0].contains(&r1n));
    assert!(!to_sup[0].contains(&c1n), "C1 has an assignee");
    assert!(to_other[0].contains(&r1n));
    assert!(!to_other[0].contains(&c2n), "C2's team has a supervisor");
    for mail in smtp.received() {
        let body = body_of(&mail);
        for number in &never {
            assert!(!body.contains(number.as_str()), "{number} named");
        }
        assert!(!body.contains("张某某") && !body.contains("李某"));
    }

    // Later the same day, and after midnight in the county: one more each, once.
    clock.advance(chrono::Duration::hours(14));
    passes(&[&b, a]).await;
    assert_eq!(digests_to(&smtp, "inv@probity.test").len(), 1);
    clock.advance(chrono::Duration::hours(1));
    passes(&[&b, a]).await;
    assert_eq!(digests_to(&smtp, "inv@probity.test").len(), 2);
    assert_eq!(digests_to(&smtp, "sup@probity.test").len(), 2);
    assert_eq!(digests_to(&smtp, "other@probity.test").len(), 2);

    // A restart the same day queues nothing new.
    b.stop().await;
    let c = instance(backend, &clock, &smtp)
        .sharing_database(a)
        .spawn()
        .await;
    passes(&[&c, a]).await;
    assert_eq!(digests_to(&smtp, "inv@probity.test").len(), 2);
    assert_eq!(digests_to(&smtp, "sup@probity.test").len(), 2);
    assert_eq!(digests_to(&smtp, "other@probity.test").len(), 2);
}
