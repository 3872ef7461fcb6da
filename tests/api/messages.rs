//! Messages to the reporters (issue 9, item 6; SPEC.md → "Case": `POST /cases/{id}/messages`),
//! on both backends with a frozen clock and a real SMTP listener: a message reaches every report
//! of the case or the one named, reporters read it (never staff names or notes), an
//! acknowledgement stops the real-name acknowledgement deadline, a feedback the feedback
//! deadline, and a reporter who gave an email gets one content-free "there is news" email whose
//! job row holds no address.

use diesel::prelude::*;
use probity::db::schema::{jobs, reports};
use probity::db::Backend;
use serde_json::{json, Value};

use crate::helpers::{app, assert_problem};
use crate::reminders::body_of;
use crate::smtp::{Mode, SmtpServer};
use crate::triage::{json, world_on, World};

pub fn tests() -> Vec<(&'static str, crate::helpers::AsyncTest)> {
    crate::tests![
        messages_reach_reporters_and_stop_the_deadlines_they_answer,
        invalid_messages_are_refused_per_field,
    ]
}

/// A real-name report with an email address; returns (report id, receipt code).
async fn report_with_email(w: &World, email: &str) -> (String, String) {
    let body = json!({
        "programme": "dibao",
        "misconduct": ["favouritism"],
        "township_code": "360734100",
        "village_code": "360734100201",
        "accused": [{"name": "张某某", "position": "村支书"}],
        "description": "村支书把低保名额给了自己的亲戚,评议会没有公示,群众意见很大。",
        "anonymous": false,
        "reporter": {"name": "王某", "id_number": "11010519491231002X",
                     "phone": "13800138001", "email": email, "address": null}
    });
    let r = w
        .app
        .client
        .post(w.app.url("/api/v1/reports"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let receipt = json(r).await;
    let number = receipt["report_number"].as_str().unwrap().to_string();
    let id = w
        .app
        .db(move |conn| {
            reports::table
                .filter(reports::number.eq(number))
                .select(reports::id)
                .first::<String>(conn)
                .unwrap()
        })
        .await;
    (id, receipt["receipt_code"].as_str().unwrap().to_string())
}

async fn send(w: &World, token: &str, case: &str, body: Value) -> reqwest::Response {
    w.app
        .post_as(&format!("/api/v1/cases/{case}/messages"), token, &body)
        .await
}

async fn case_view(w: &World, case: &str) -> Value {
    json(
        w.app
            .get_as(&format!("/api/v1/cases/{case}"), &w.supervisor)
            .await,
    )
    .await
}

async fn messages_reach_reporters_and_stop_the_deadlines_they_answer(backend: Backend) {
    let smtp = SmtpServer::start(Mode::Accept);
    let builder = app(backend)
        .mail_to(smtp.port)
        .set("jobs.worker_enabled", "false");
    let w = world_on(builder, true).await;
    let (first, first_code) = report_with_email(&w, "wang@example.com").await;
    let case = w.accept(&first).await;
    let case = case["case_id"].as_str().unwrap().to_string();
    let (second, second_code) = w.report("360734100", "360734100201", "张某某").await;
    let r = w
        .triage(
            &second,
            json!({"action": "merge", "case_id": case, "reason": "同一事项"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let before = case_view(&w, &case).await;
    assert!(before["deadlines"]["acknowledge_by"].is_string());
    let version = before["version"].as_i64().unwrap();

    // A question to the merged report's reporter alone.
    let r = send(
        &w,
        &w.inv_a.1,
        &case,
        json!({"body": "请补充评议会的时间。", "kind": "question", "report_id": second}),
    )
    .await;
    assert_eq!(r.status(), 201);
    let sent = json(r).await;
    assert_eq!(sent["messages"].as_array().unwrap().len(), 1);
    assert_eq!(sent["messages"][0]["report_id"], second.as_str());
    assert_eq!(sent["version"], version, "a question stops no deadline");
    let second_view = w.reporter_view(&second_code).await;
    let thread = second_view["messages"].as_array().unwrap();
    assert_eq!(thread.len(), 1);
    assert_eq!(thread[0]["body"], "请补充评议会的时间。");
    assert_eq!(thread[0]["kind"], "question");
    assert_eq!(thread[0]["from"], "commission");
    assert!(
        !second_view.to_string().contains("inv_a") && !second_view.to_string().contains(&w.inv_a.0),
        "no staff name or id reaches a reporter"
    );
    let first_view = w.reporter_view(&first_code).await;
    assert_eq!(
        first_view["messages"],
        json!([]),
        "the question named one report"
    );
    assert_eq!(first_view["next_deadline"]["kind"], "acknowledge");

    // An acknowledgement to every report, a minute later, stops the acknowledgement deadline.
    w.app.clock.advance(chrono::Duration::minutes(1));
    let r = send(
        &w,
        &w.supervisor,
        &case,
        json!({"body": "您反映的问题已受理，正在办理。", "kind": "acknowledgement",
               "version": version}),
    )
    .await;
    assert_eq!(r.status(), 201);
    let sent = json(r).await;
    assert_eq!(sent["messages"].as_array().unwrap().len(), 2);
    assert_eq!(sent["version"], version + 1);
    let after = case_view(&w, &case).await;
    assert_eq!(after["deadlines"]["acknowledge_by"], Value::Null);
    assert_eq!(after["version"], version + 1);
    let kinds: Vec<&str> = after["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["question", "acknowledgement", "acknowledgement"]);
    for code in [&first_code, &second_code] {
        let view = w.reporter_view(code).await;
        assert_eq!(view["next_deadline"], Value::Null, "acknowledged");
        assert_eq!(
            view["messages"].as_array().unwrap().last().unwrap()["kind"],
            "acknowledgement"
        );
    }
    // The version sent is now stale.
    let r = send(
        &w,
        &w.supervisor,
        &case,
        json!({"body": "x", "kind": "question", "version": version}),
    )
    .await;
    let p = assert_problem(r, 409, "version_conflict").await;
    assert_eq!(p["version"], version + 1);

    w.app.clock.advance(chrono::Duration::minutes(1));
    // Feedback gives the result: refused while there is none (the case is only registered).
    // Its deadline is the lifecycle's: tests/api/lifecycle.rs sends it through this endpoint
    // after a conclusion and sees `feedback_due` end and the version move.
    let r = send(
        &w,
        &w.inv_a.1,
        &case,
        json!({"body": "经核查，您反映的问题已处理。", "kind": "feedback"}),
    )
    .await;
    let p = assert_problem(r, 409, "feedback_too_early").await;
    assert_eq!(p["case_status"], "registered");
    let after = case_view(&w, &case).await;
    assert_eq!(
        after["messages"].as_array().unwrap().len(),
        3,
        "nothing written"
    );

    // The reporter with an address is told, once per message that reached them (the
    // acknowledgement), by an email with nothing of the case in it. The job rows hold the
    // report id, never the address.
    let payloads: Vec<String> = w
        .app
        .db(|conn| {
            jobs::table
                .filter(jobs::kind.eq("reporter_news"))
                .select(jobs::payload)
                .load(conn)
                .unwrap()
        })
        .await;
    assert_eq!(payloads.len(), 1, "{payloads:?}");
    assert!(payloads.iter().all(|p| !p.contains("wang@example.com")));
    for _ in 0..3 {
        w.app.jobs.run_once().await.expect("a jobs pass");
    }
    let mails = smtp.received();
    let to_reporter: Vec<_> = mails
        .iter()
        .filter(|m| m.to.iter().any(|t| t.contains("wang@example.com")))
        .collect();
    assert_eq!(
        to_reporter.len(),
        1,
        "one per message reaching the reporter"
    );
    let number = after["number"].as_str().unwrap();
    for mail in to_reporter {
        let body = body_of(mail);
        assert!(body.contains("有新的答复"), "{body}");
        for secret in ["已受理", number, "张某某", "王某"] {
            assert!(!body.contains(secret), "the email carries {secret}: {body}");
        }
    }
}

async fn invalid_messages_are_refused_per_field(backend: Backend) {
    let w = world_on(app(backend), true).await;
    let (report, _) = w.report("360734100", "360734100201", "张某某").await;
    let case = w.accept(&report).await["case_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (other, _) = w.report("360734100", "360734100201", "李某某").await;

    let r = send(&w, &w.inv_a.1, &case, json!({})).await;
    let p = assert_problem(r, 422, "validation_failed").await;
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["body", "kind"]);
    let r = send(&w, &w.inv_a.1, &case, json!({"body": "x", "kind": "reply"})).await;
    let p = assert_problem(r, 422, "validation_failed").await;
    assert_eq!(p["errors"][0]["code"], "unknown_value");
    let r = send(
        &w,
        &w.inv_a.1,
        &case,
        json!({"body": "x", "kind": "question", "report_id": other}),
    )
    .await;
    let p = assert_problem(r, 422, "validation_failed").await;
    assert_eq!(p["errors"][0]["field"], "report_id");
    assert_eq!(p["errors"][0]["code"], "report_not_in_case");
    // Another team's investigator, an auditor (reads only), intake: refused.
    for token in [&w.inv_b.1, &w.auditor, &w.intake] {
        let r = send(&w, token, &case, json!({"body": "x", "kind": "question"})).await;
        assert_problem(r, 403, "forbidden").await;
    }
    let r = send(
        &w,
        &w.inv_a.1,
        "no-such-case",
        json!({"body": "x", "kind": "question"}),
    )
    .await;
    assert_problem(r, 404, "not_found").await;
    // Nothing was written by the refusals.
    let view = case_view(&w, &case).await;
    assert_eq!(view["messages"], json!([]));
}
