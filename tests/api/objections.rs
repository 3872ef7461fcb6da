//! Objections and the case timeline (issue 10, items 6 and 7), on both backends with a frozen
//! clock: an objection is refused before feedback, then taken once per feedback, queued for
//! supervisors with its own deadline (15 working days) on the case and in the queue, flagged
//! overdue when the clock passes it, shown to the reporter in Chinese (API and `/follow-up`),
//! and decided when a supervisor reopens the case. The timeline lists the case's
//! events in order and never carries the reporter's identity.

use chrono::{TimeZone, Utc};
use diesel::prelude::*;
use probity::db::schema::{jobs, report_messages, users};
use probity::db::Backend;
use probity::domain::roles::Role;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, TestApp};
use crate::triage::{json, world, World};

pub fn tests() -> Vec<(&'static str, crate::helpers::AsyncTest)> {
    crate::tests![
        an_objection_after_feedback_has_its_own_deadline_in_the_queue,
        the_follow_up_page_takes_an_objection_in_chinese,
        the_timeline_lists_the_case_in_order_without_identity,
    ]
}

/// Records a result fed back to the reporter of `report_id` (a staff message of kind
/// `feedback` of case `case_id`), as `POST /cases/{id}/messages` does.
pub async fn send_feedback(app: &TestApp, case_id: &str, report_id: &str, author: &str) {
    let (case_id, report_id, author) = (
        case_id.to_string(),
        report_id.to_string(),
        author.to_string(),
    );
    let now = app.clock.now_naive();
    app.db(move |conn| {
        diesel::insert_into(report_messages::table)
            .values((
                report_messages::id.eq(uuid::Uuid::new_v4().to_string()),
                report_messages::report_id.eq(report_id),
                report_messages::author_kind.eq("staff"),
                report_messages::author_id.eq(Some(author)),
                report_messages::body.eq("经核查，反映的问题部分属实，已责成村里整改。"),
                report_messages::created_at.eq(now),
                report_messages::kind.eq("feedback"),
                report_messages::case_id.eq(Some(case_id)),
            ))
            .execute(conn)
            .unwrap();
    })
    .await;
}

async fn object(w: &World, token: &str, body: Value) -> reqwest::Response {
    w.app
        .post_as("/api/v1/reporter/objections", token, &body)
        .await
}

/// A fresh staff token (tokens expire by the application's clock).
async fn fresh(app: &TestApp, username: &str) -> String {
    crate::custodian::token(app, username).await
}

/// A real-name report accepted as a case, then closed without action, so that no deadline of
/// its own runs and the objection's is the only one: (case id, report id, receipt code).
async fn closed_case(w: &World) -> (String, String, String) {
    let (report, code) = w.report("360734100", "360734100201", "张某某").await;
    let case = w.accept(&report).await["case_id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = w
        .app
        .post_as(
            &format!("/api/v1/cases/{case}/disposition"),
            &w.inv_a.1,
            &json!({"disposition": "close_without_action", "reason": "反映的问题已在年度复核中纠正"}),
        )
        .await;
    assert_eq!(r.status(), 200, "closed without action");
    (case, report, code)
}

async fn an_objection_after_feedback_has_its_own_deadline_in_the_queue(backend: Backend) {
    let w = world(backend, true).await;
    w.app
        .create_staff("sup_mail", &[Role::Supervisor], Some("sup@probity.test"))
        .await;
    let (case, report, code) = closed_case(&w).await;
    let reporter = w.reporter(&code).await;
    let queue_item = |page: &Value| {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == case.as_str())
            .cloned()
    };
    let page = json(w.app.get_as("/api/v1/cases", &w.supervisor).await).await;
    assert_eq!(queue_item(&page).unwrap()["due_on"], Value::Null);

    // Before any feedback: refused with a stable code, and the reporter's view says so.
    let p = assert_problem(
        object(&w, &reporter, json!({"body": "我不同意"})).await,
        409,
        "objection_not_open",
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("告知办理结果后"));
    let view = w.reporter_view(&code).await;
    assert_eq!(view["may_object"], false);
    assert_eq!(view["objections"], json!([]));

    send_feedback(&w.app, &case, &report, &w.inv_a.0).await;
    let view = w.reporter_view(&code).await;
    assert_eq!(view["may_object"], true);

    // A blank objection names its field.
    let p = assert_problem(
        object(&w, &reporter, json!({"body": "  "})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "body");

    // Monday 2026-11-30: due 15 working days later, Monday 2026-12-21.
    let body = "村支书的亲戚至今仍在领低保，整改没有落实。";
    let r = object(&w, &reporter, json!({ "body": body })).await;
    assert_eq!(r.status(), 201);
    let made = json(r).await;
    assert_eq!(made["status"], "open");
    assert_eq!(made["due_on"], "2026-12-21");
    assert_eq!(made["body"], body);
    assert_eq!(
        made["status_zh"],
        "县纪委已收到您的异议，将在2026年12月21日前处理。"
    );
    let objection_id = made["id"].as_str().unwrap().to_string();

    // One objection per feedback.
    assert_problem(
        object(&w, &reporter, json!({"body": "再次提出"})).await,
        409,
        "objection_already_made",
    )
    .await;
    let view = w.reporter_view(&code).await;
    assert_eq!(view["may_object"], false);
    assert_eq!(view["objections"][0]["id"], objection_id.as_str());
    assert_eq!(view["objections"][0]["status_zh"], made["status_zh"]);

    // Supervisors are told, without the objection's content.
    let emails: Vec<String> = w
        .app
        .db(|conn| {
            jobs::table
                .filter(jobs::kind.eq("email"))
                .select(jobs::payload)
                .load(conn)
                .unwrap()
        })
        .await;
    let told: Vec<&String> = emails
        .iter()
        .filter(|p| p.contains("objection_received"))
        .collect();
    assert_eq!(
        told.len(),
        1,
        "the one supervisor with an address: {emails:?}"
    );
    assert!(told[0].contains("sup@probity.test") && told[0].contains("AJ-2026-000001"));
    assert!(!told[0].contains("整改没有落实"));

    // The supervisors' list, the case and the queue carry the objection's deadline.
    let list = json(
        w.app
            .get_as("/api/v1/objections?status=open", &w.supervisor)
            .await,
    )
    .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let item = &list["items"][0];
    assert_eq!(item["id"], objection_id.as_str());
    assert_eq!(item["case_id"], case.as_str());
    assert_eq!(item["case_number"], "AJ-2026-000001");
    assert_eq!(item["report_id"], report.as_str());
    assert_eq!(item["due_on"], "2026-12-21");
    assert_eq!(item["overdue"], false);
    assert_eq!(list["next_cursor"], Value::Null);
    // Investigators see those of their teams' cases only; intake none.
    let mine = json(w.app.get_as("/api/v1/objections", &w.inv_a.1).await).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    let theirs = json(w.app.get_as("/api/v1/objections", &w.inv_b.1).await).await;
    assert_eq!(theirs["items"], json!([]));
    assert_problem(
        w.app.get_as("/api/v1/objections", &w.intake).await,
        403,
        "forbidden",
    )
    .await;
    let p = assert_problem(
        w.app
            .get_as("/api/v1/objections?status=closed&limit=0", &w.supervisor)
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"].as_array().unwrap().len(), 2);

    let view = json(
        w.app
            .get_as(&format!("/api/v1/cases/{case}"), &w.supervisor)
            .await,
    )
    .await;
    assert_eq!(view["status"], "closed_without_action");
    assert_eq!(view["deadlines"]["objection_due"], "2026-12-21");
    assert_eq!(view["due_on"], "2026-12-21");
    assert_eq!(view["overdue"], false);
    assert_eq!(view["objections"][0]["id"], objection_id.as_str());
    assert_eq!(view["objections"][0]["body"], body);
    let page = json(w.app.get_as("/api/v1/cases", &w.supervisor).await).await;
    let item = queue_item(&page).unwrap();
    assert_eq!(item["due_on"], "2026-12-21");
    assert_eq!(item["objection_due"], "2026-12-21");
    assert_eq!(item["overdue"], false);

    // On the deadline it is not overdue yet; the next day it is, everywhere.
    w.app
        .clock
        .set(Utc.with_ymd_and_hms(2026, 12, 21, 2, 0, 0).unwrap());
    let sup = fresh(&w.app, "super").await;
    let page = json(w.app.get_as("/api/v1/cases?overdue=true", &sup).await).await;
    assert!(queue_item(&page).is_none());
    w.app
        .clock
        .set(Utc.with_ymd_and_hms(2026, 12, 22, 2, 0, 0).unwrap());
    let sup = fresh(&w.app, "super").await;
    let page = json(w.app.get_as("/api/v1/cases?overdue=true", &sup).await).await;
    assert_eq!(queue_item(&page).unwrap()["overdue"], true);
    let view = json(w.app.get_as(&format!("/api/v1/cases/{case}"), &sup).await).await;
    assert_eq!(view["overdue"], true);
    assert_eq!(view["objections"][0]["overdue"], true);
    let list = json(w.app.get_as("/api/v1/objections?status=open", &sup).await).await;
    assert_eq!(list["items"][0]["overdue"], true);

    // The daily reminders name the closed case while its objection is open.
    let inv_a = w.inv_a.0.clone();
    w.app
        .db(move |conn| {
            diesel::update(users::table.find(inv_a))
                .set(users::email.eq(Some("inv_a@probity.test")))
                .execute(conn)
                .unwrap()
        })
        .await;
    let label = "AJ-2026-000001（2026-12-21）".to_string();
    assert_eq!(reminded(&w.app).await, vec![label.clone()]);

    // The reporter's real-name report is acknowledged (so no deadline of its own runs), then
    // a supervisor reopens the case: the reopening decides the open objection in its
    // transaction (`objections::decide_open`) and recomputes due_on without it.
    let sup_id: String = w
        .app
        .db(|conn| {
            users::table
                .filter(users::username.eq("super"))
                .select(users::id)
                .first(conn)
                .unwrap()
        })
        .await;
    let r = w
        .app
        .post_as(
            &format!("/api/v1/cases/{case}/messages"),
            &sup,
            &json!({"body": "您的异议已收到。", "kind": "acknowledgement"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let r = w
        .app
        .post_as(
            &format!("/api/v1/cases/{case}/reopen"),
            &sup,
            &json!({"reason": "举报人提出异议，重新办理"}),
        )
        .await;
    assert_eq!(r.status(), 200, "reopened");
    assert_eq!(json(r).await["status"], "registered");
    let list = json(w.app.get_as("/api/v1/objections?status=open", &sup).await).await;
    assert_eq!(list["items"], json!([]));
    let list = json(
        w.app
            .get_as("/api/v1/objections?status=decided", &sup)
            .await,
    )
    .await;
    let item = &list["items"][0];
    assert_eq!(item["outcome"], "case_reopened");
    assert_eq!(item["decided_by"], sup_id.as_str());
    assert_eq!(item["overdue"], false);
    let view = json(w.app.get_as(&format!("/api/v1/cases/{case}"), &sup).await).await;
    assert_eq!(view["deadlines"]["objection_due"], Value::Null);
    assert_eq!(view["due_on"], Value::Null);
    assert_eq!(view["overdue"], false);
    let page = json(w.app.get_as("/api/v1/cases?overdue=true", &sup).await).await;
    assert!(queue_item(&page).is_none());
    let page = json(w.app.get_as("/api/v1/cases", &sup).await).await;
    assert_eq!(queue_item(&page).unwrap()["objection_due"], Value::Null);
    assert!(reminded(&w.app).await.is_empty());
    let view = w.reporter_view(&code).await;
    assert_eq!(view["objections"][0]["status"], "decided");
    assert!(view["objections"][0]["status_zh"]
        .as_str()
        .unwrap()
        .contains("已重新办理此案"));
    // A new feedback (after the case was handled again) opens a new objection.
    assert_eq!(view["may_object"], false);
    send_feedback(&w.app, &case, &report, &w.inv_a.0).await;
    let reporter = w.reporter(&code).await;
    let r = object(&w, &reporter, json!({"body": "仍然不同意"})).await;
    assert_eq!(r.status(), 201);
    // Received Tuesday 2026-12-22: due 15 working days later.
    assert_eq!(json(r).await["due_on"], "2027-01-12");
}

/// The overdue items of today's reminder digests (`reminders::digests`), every recipient.
async fn reminded(app: &TestApp) -> Vec<String> {
    let today = probity::domain::deadlines::today_in_county(app.clock.now());
    app.db(move |conn| {
        let calendar = probity::domain::calendar::WorkingCalendar::shipped();
        probity::reminders::digests(conn, &calendar, today)
            .unwrap()
            .into_values()
            .flat_map(|d| d.overdue)
            .collect()
    })
    .await
}

/// `name=value` of the `Set-Cookie` naming `name`.
fn cookie(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap().to_string())
        .unwrap_or_else(|| panic!("a {name} cookie"))
}

async fn the_follow_up_page_takes_an_objection_in_chinese(backend: Backend) {
    use crate::web::{text_of, FormPage};
    let w = world(backend, true).await;
    let app = &w.app;
    let (case, report, code) = closed_case(&w).await;

    let code_page = FormPage::open(app, "/follow-up", &[]).await;
    let r = app
        .client
        .post(app.url("/follow-up"))
        .header("cookie", &code_page.cookie)
        .form(&[
            ("csrf_token", code_page.token.as_str()),
            ("receipt_code", code.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let session = cookie(&r, "probity_reporter");

    // Before feedback: no form, a word on when one may object, and a refused post says why.
    let page = FormPage::open(app, "/follow-up/report", &[&session, &code_page.cookie]).await;
    assert!(!page.html.contains("action=\"/follow-up/objections\""));
    assert!(page.html.contains("县纪委告知办理结果后，如果您不同意"));
    let post = |token: String, cookie: String, body: &'static str| {
        let session = session.clone();
        async move {
            app.client
                .post(app.url("/follow-up/objections"))
                .header("cookie", format!("{session}; {cookie}"))
                .form(&[("csrf_token", token.as_str()), ("body", body)])
                .send()
                .await
                .unwrap()
        }
    };
    let r = post(page.token.clone(), page.cookie.clone(), "我不同意").await;
    assert_eq!(r.status(), 409);
    let html = r.text().await.unwrap();
    assert!(text_of(&html, "objection-error")
        .unwrap()
        .contains("县纪委告知办理结果后，才能对结果提出异议"));

    // After feedback the form is there; a blank objection comes back in Chinese.
    send_feedback(app, &case, &report, &w.inv_a.0).await;
    let page = FormPage::open(app, "/follow-up/report", &[&session, &code_page.cookie]).await;
    assert!(page.html.contains("action=\"/follow-up/objections\""));
    assert!(page.html.contains("经核查，反映的问题部分属实"));
    let r = post(page.token.clone(), page.cookie.clone(), "   ").await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(text_of(&html, "objection-error")
        .unwrap()
        .contains("请写明您对办理结果有什么异议"));

    // A forged post (no CSRF token) is refused and records nothing.
    let r = app
        .client
        .post(app.url("/follow-up/objections"))
        .header("cookie", format!("{session}; {}", page.cookie))
        .form(&[("body", "伪造")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    let body = "整改没有落实，名单上还有村支书的亲戚。";
    let r = post(page.token.clone(), page.cookie.clone(), body).await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers()["location"],
        "/follow-up/report?done=objection#objections"
    );
    let after = FormPage::open(
        app,
        "/follow-up/report?done=objection",
        &[&session, &page.cookie],
    )
    .await;
    for words in [
        "异议已提交",
        "对办理结果的异议",
        body,
        "县纪委已收到您的异议，将在2026年12月21日前处理。",
    ] {
        assert!(after.html.contains(words), "the page shows {words}");
    }
    assert!(!after.html.contains("action=\"/follow-up/objections\""));
    assert!(!after.html.contains("inv_a") && !after.html.contains("测试"));
    let view = w.reporter_view(&code).await;
    assert_eq!(view["objections"].as_array().unwrap().len(), 1);
}

async fn the_timeline_lists_the_case_in_order_without_identity(backend: Backend) {
    let w = world(backend, true).await;
    let app = &w.app;
    // A real-name report with every identity field filled in.
    let r = app
        .client
        .post(app.url("/api/v1/reports"))
        .json(&crate::custodian::report_body(false))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let receipt = json(r).await;
    let code = receipt["receipt_code"].as_str().unwrap().to_string();
    let number = receipt["report_number"].as_str().unwrap().to_string();
    let report: String = app
        .db(move |conn| {
            probity::db::schema::reports::table
                .filter(probity::db::schema::reports::number.eq(number))
                .select(probity::db::schema::reports::id)
                .first(conn)
                .unwrap()
        })
        .await;
    let case = w.accept(&report).await["case_id"]
        .as_str()
        .unwrap()
        .to_string();
    let inv = w.inv_a.1.clone();
    let r = app
        .post_as(
            &format!("/api/v1/cases/{case}/notes"),
            &inv,
            &json!({"body": "已约谈村会计。"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let r = app
        .post_as(
            &format!("/api/v1/cases/{case}/disposition"),
            &inv,
            &json!({"disposition": "preliminary_verification"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    // The identity is requested, approved and read: the read is on the timeline, the identity
    // is not.
    let r = app
        .post_as(
            &format!("/api/v1/cases/{case}/identity-requests"),
            &inv,
            &json!({"reason": "需要当面核实情况"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let request = json(r).await["id"].as_str().unwrap().to_string();
    let r = app
        .post_as(
            &format!("/api/v1/identity-requests/{request}/decision"),
            &w.supervisor,
            &json!({"approve": true, "reason": "同意"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let r = app
        .get_as(&format!("/api/v1/cases/{case}/reporter-identity"), &inv)
        .await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("11010519491231002X"));
    send_feedback(app, &case, &report, &w.inv_a.0).await;
    let reporter = w.reporter(&code).await;
    let r = object(&w, &reporter, json!({"body": "我不同意这个结果。"})).await;
    assert_eq!(r.status(), 201);
    let objection = json(r).await["id"].as_str().unwrap().to_string();

    let path = format!("/api/v1/cases/{case}/timeline");
    let r = app.get_as(&path, &w.supervisor).await;
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    for identity in [
        "李某",
        "11010519491231002X",
        "13800138000",
        "li@example.test",
        "城北村三组",
    ] {
        assert!(
            !text.contains(identity),
            "the timeline never shows {identity}: {text}"
        );
    }
    let timeline: Value = serde_json::from_str(&text).unwrap();
    let items = timeline["items"].as_array().unwrap();
    let events: Vec<(String, String)> = items
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_string(),
                e["entity_type"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected = [
        ("report.submitted", "report"),
        ("report.accepted", "report"),
        ("case.created", "case"),
        ("case.note_added", "case"),
        ("case.disposition", "case"),
        ("identity.requested", "identity_request"),
        ("identity.approved", "identity_request"),
        ("identity.read", "case"),
        ("objection.filed", "objection"),
        ("case.objection_received", "case"),
    ];
    assert_eq!(
        events,
        expected
            .iter()
            .map(|(a, t)| (a.to_string(), t.to_string()))
            .collect::<Vec<_>>()
    );
    let seqs: Vec<i64> = items.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|p| p[0] < p[1]), "ordered by seq");
    assert_eq!(items[0]["entity_id"], report.as_str());
    assert_eq!(items[0]["actor"], json!({"kind": "reporter"}));
    assert_eq!(items[3]["actor"]["kind"], "user");
    assert_eq!(items[3]["actor"]["user_id"], w.inv_a.0.as_str());
    assert_eq!(items[4]["details"]["to"], "preliminary_verification");
    assert_eq!(items[8]["entity_id"], objection.as_str());
    assert_eq!(items[8]["details"]["due_on"], "2026-12-21");
    assert!(items[0]["at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(timeline["next_cursor"], Value::Null);

    // Pages of three give the same events.
    let mut paged = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}?limit=3&cursor={c}"),
            None => format!("{path}?limit=3"),
        };
        let page = json(app.get_as(&url, &w.auditor).await).await;
        paged.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(&paged, items);

    // Only staff who may see the case.
    assert_problem(app.get_as(&path, &w.inv_b.1).await, 403, "forbidden").await;
    assert_problem(app.get_as(&path, &w.intake).await, 403, "forbidden").await;
    assert_problem(
        app.get_as("/api/v1/cases/no-such-case/timeline", &w.supervisor)
            .await,
        404,
        "not_found",
    )
    .await;
    let p = assert_problem(
        app.get_as(&format!("{path}?cursor=bm90LWEtc2Vx"), &w.supervisor)
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "cursor");
}
