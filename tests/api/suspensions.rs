//! Village benefit suspension until remediation (issue 12) on both backends with a frozen
//! clock: filing suspends the village in the filing's own transaction; two filed cases in one
//! village lift only when both plans are verified complete (the last verification lifts, by
//! that supervisor); a rejected item is submitted again (with a file); the status API now and
//! `?on=` before, during, after and on the day of the lift; a 10,000-code batch with unknown
//! codes; the list with pages and CSV; the benefit offices' emails at the test SMTP listener;
//! webhooks delivered with a valid signature to a real listener, retried after a 500; overdue
//! items in the daily reminder; the public `/suspensions` page and its switch.

use std::sync::{Arc, Mutex};

use chrono::{Duration, TimeZone, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use probity::db::schema::{divisions, jobs, suspension_events, suspensions};
use probity::db::{Backend, DbConnection};
use probity::domain::roles::Role;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{app, assert_problem, TestApp, TestAppBuilder};
use crate::smtp::{Mode, SmtpServer};
use crate::triage::{json, world_on, World};

pub fn tests() -> Vec<(&'static str, crate::helpers::AsyncTest)> {
    crate::tests![
        filing_suspends_the_village_in_the_same_transaction,
        two_cases_lift_only_when_both_plans_are_verified,
        a_rejected_item_is_submitted_again_with_its_history,
        remediation_items_are_checked_and_guarded,
        status_on_a_day_before_during_after_and_on_the_day_of_the_lift,
        a_batch_of_10000_codes_with_unknown_ones,
        service_keys_read_status_and_nothing_else,
        the_suspension_list_pages_and_exports_csv,
        benefit_offices_receive_the_suspension_and_lift_emails,
        a_webhook_is_delivered_signed_and_retried_after_a_500,
        webhook_subscribers_are_managed_by_an_admin,
        overdue_items_join_the_daily_reminder,
        the_public_page_lists_villages_suspended_now,
        the_public_page_can_be_switched_off,
        suspension_history_cannot_be_edited,
    ]
}

const TOWNSHIP: &str = "360734100";
const VILLAGE: &str = "360734100201";
const OTHER_TOWNSHIP: &str = "360734101";
const OTHER_VILLAGE: &str = "360734101201";

/// The triage world, with no background worker (the tests drive the jobs), plain-HTTP webhook
/// receivers allowed, and access tokens that outlive the days the tests move the clock by.
async fn start(builder: TestAppBuilder) -> World {
    world_on(
        builder
            .set("jobs.worker_enabled", "false")
            .set("webhooks.allow_http", "true")
            .set("auth.access_token_ttl_secs", 100 * 86_400),
        true,
    )
    .await
}

async fn start_on(backend: Backend) -> World {
    start(app(backend)).await
}

/// A case filed in `village` (of `township`): accepted, `file` asked by team A's investigator,
/// approved by the supervisor. Returns (case id, case number, filing answer).
async fn file_case(w: &World, township: &str, village: &str) -> (String, String, Value) {
    let (report, _) = w.report(township, village, "张某某").await;
    let case = w.accept(&report).await["case_id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = w
        .app
        .post_as(
            &format!("/api/v1/cases/{case}/disposition"),
            &w.inv_a.1,
            &json!({"disposition": "file"}),
        )
        .await;
    assert_eq!(r.status(), 200, "file asked");
    let r = w
        .app
        .post_as(
            &format!("/api/v1/cases/{case}/filing-decision"),
            &w.supervisor,
            &json!({"approve": true, "reason": "立案审查调查"}),
        )
        .await;
    assert_eq!(r.status(), 200, "filing approved");
    let filed = json(r).await;
    let number = filed["number"].as_str().unwrap().to_string();
    (case, number, filed)
}

/// A case asked for filing but not yet filed: (case id).
async fn filing_requested(w: &World, township: &str, village: &str) -> String {
    let (report, _) = w.report(township, village, "李某某").await;
    let case = w.accept(&report).await["case_id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = w
        .app
        .post_as(
            &format!("/api/v1/cases/{case}/disposition"),
            &w.inv_a.1,
            &json!({"disposition": "file"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    case
}

async fn add_item(w: &World, case: &str, description: &str, due_on: &str) -> Value {
    let r = w
        .app
        .post_as(
            &format!("/api/v1/cases/{case}/remediation-items"),
            &w.inv_a.1,
            &json!({"description": description, "responsible_unit": "城北村村委会", "due_on": due_on}),
        )
        .await;
    assert_eq!(r.status(), 201, "item added");
    json(r).await
}

async fn act(w: &World, token: &str, item: &str, action: &str, body: Value) -> reqwest::Response {
    w.app
        .post_as(
            &format!("/api/v1/remediation-items/{item}/{action}"),
            token,
            &body,
        )
        .await
}

async fn submit(w: &World, item: &str) -> Value {
    let r = act(
        w,
        &w.inv_a.1,
        item,
        "submit",
        json!({"evidence": "已重新评议并张榜公示"}),
    )
    .await;
    assert_eq!(r.status(), 200, "submitted");
    json(r).await
}

async fn verify(w: &World, item: &str) -> Value {
    let r = act(w, &w.supervisor, item, "verify", json!({})).await;
    assert_eq!(r.status(), 200, "verified");
    json(r).await
}

/// One item added, submitted and verified: the verification's answer.
async fn remediate(w: &World, case: &str) -> Value {
    let item = add_item(w, case, "重新评议低保对象并公示", "2026-12-31").await;
    let id = item["id"].as_str().unwrap();
    submit(w, id).await;
    verify(w, id).await
}

async fn status(w: &World, path: &str) -> Value {
    let r = w.app.get_as(path, &w.auditor).await;
    assert_eq!(r.status(), 200, "{path}");
    json(r).await
}

/// Passes of the jobs worker until one claims nothing (at most 20).
async fn drain(app: &TestApp) {
    for _ in 0..20 {
        let report = app.jobs.run_once().await.expect("a jobs pass");
        if report.claimed == 0 {
            return;
        }
    }
    panic!("jobs kept coming");
}

/// A service API key (admin-made) with `scopes`: its secret.
async fn service_key(w: &World, scopes: &[&str]) -> (String, String) {
    let r = w
        .app
        .post_as(
            "/api/v1/api-keys",
            &w.admin,
            &json!({"name": "民政局低保发放系统", "scopes": scopes}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let body = json(r).await;
    (
        body["id"].as_str().unwrap().to_string(),
        body["secret"].as_str().unwrap().to_string(),
    )
}

async fn with_key(app: &TestApp, path: &str, key: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .header("X-Api-Key", key)
        .send()
        .await
        .unwrap()
}

/// Makes inserts into `table` fail (a trigger), to prove a transaction leaves nothing.
async fn refuse_inserts(app: &TestApp, table: &'static str) {
    app.db(move |conn| {
        match conn {
            DbConnection::Sqlite(c) => c.batch_execute(&format!(
                "CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} \
                 BEGIN SELECT RAISE(ABORT, 'forced failure'); END;"
            )),
            DbConnection::Postgresql(c) => c.batch_execute(&format!(
                "CREATE OR REPLACE FUNCTION probity_test_refuse() RETURNS trigger \
                 LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'forced failure'; END $$; \
                 CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} \
                 FOR EACH ROW EXECUTE FUNCTION probity_test_refuse();"
            )),
        }
        .unwrap()
    })
    .await;
}

async fn allow_inserts(app: &TestApp, table: &'static str) {
    app.db(move |conn| {
        match conn {
            DbConnection::Sqlite(c) => c.batch_execute(&format!("DROP TRIGGER refuse_{table};")),
            DbConnection::Postgresql(c) => {
                c.batch_execute(&format!("DROP TRIGGER refuse_{table} ON {table};"))
            }
        }
        .unwrap()
    })
    .await;
}

async fn suspension_count(app: &TestApp) -> i64 {
    app.db(|conn| suspensions::table.count().get_result(conn).unwrap())
        .await
}

async fn filing_suspends_the_village_in_the_same_transaction(backend: Backend) {
    let w = start_on(backend).await;
    let path = format!("/api/v1/villages/{VILLAGE}/benefit-status");
    let case = filing_requested(&w, TOWNSHIP, VILLAGE).await;
    let before = status(&w, &path).await;
    assert_eq!(before["suspended"], false, "asked for filing is not filed");
    assert_eq!(before["village_name"], "城北村");
    assert_eq!(before["since"], Value::Null);
    assert_eq!(before["policies"], Value::Null);

    // A failure writing the status row (the last write of the filing) leaves no suspension and
    // no filed case: one transaction.
    refuse_inserts(&w.app, "suspension_periods").await;
    let r = w
        .app
        .post_as(
            &format!("/api/v1/cases/{case}/filing-decision"),
            &w.supervisor,
            &json!({"approve": true}),
        )
        .await;
    assert_problem(r, 500, "internal_error").await;
    assert_eq!(suspension_count(&w.app).await, 0);
    let view = json(
        w.app
            .get_as(&format!("/api/v1/cases/{case}"), &w.auditor)
            .await,
    )
    .await;
    assert_eq!(view["status"], "filing_requested");
    assert_eq!(status(&w, &path).await["suspended"], false);
    allow_inserts(&w.app, "suspension_periods").await;

    let r = w
        .app
        .post_as(
            &format!("/api/v1/cases/{case}/filing-decision"),
            &w.supervisor,
            &json!({"approve": true}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let filed = json(r).await;
    let number = filed["number"].as_str().unwrap();
    let now = status(&w, &path).await;
    assert_eq!(now["suspended"], true);
    assert_eq!(
        now["since"], "2026-11-30T02:00:00Z",
        "the filing's own instant"
    );
    assert_eq!(now["blocking_cases"], json!([number]));
    assert_eq!(now["policies"], "全部涉农优惠政策");
    assert_eq!(now["suspension_id"], filed["suspension_id"]);
    assert_eq!(now["lifted_at"], Value::Null);
    // Every staff role reads it; the other village is not suspended.
    for token in [&w.intake, &w.inv_b.1, &w.admin] {
        let r = w.app.get_as(&path, token).await;
        assert_eq!(json(r).await["suspended"], true);
    }
    let other = status(
        &w,
        &format!("/api/v1/villages/{OTHER_VILLAGE}/benefit-status"),
    )
    .await;
    assert_eq!(other["suspended"], false);
    // The opening is announced through the jobs system, in the same transaction.
    let announced: i64 = w
        .app
        .db(|conn| {
            jobs::table
                .filter(jobs::kind.eq("suspension_announce"))
                .count()
                .get_result(conn)
                .unwrap()
        })
        .await;
    assert_eq!(announced, 1);

    // Unknown villages, townships and bad dates.
    for code in ["360734100999", TOWNSHIP, "abc"] {
        let r = w
            .app
            .get_as(
                &format!("/api/v1/villages/{code}/benefit-status"),
                &w.auditor,
            )
            .await;
        assert_problem(r, 404, "unknown_village").await;
    }
    let r = w
        .app
        .get_as(&format!("{path}?on=yesterday"), &w.auditor)
        .await;
    let p = assert_problem(r, 422, "validation_failed").await;
    assert_eq!(p["errors"][0]["field"], "on");
    // Full-width digits from a phone keyboard fold.
    let r = w
        .app
        .get_as(
            "/api/v1/villages/３６０７３４１００２０１/benefit-status?on=２０２６－１１－３０",
            &w.auditor,
        )
        .await;
    assert_eq!(json(r).await["suspended"], true);
    assert_problem(w.app.get(&path).await, 401, "unauthorized").await;
}

async fn two_cases_lift_only_when_both_plans_are_verified(backend: Backend) {
    let w = start_on(backend).await;
    let path = format!("/api/v1/villages/{VILLAGE}/benefit-status");
    let (first, first_number, filed) = file_case(&w, TOWNSHIP, VILLAGE).await;
    w.app.clock.advance(Duration::hours(1));
    let (second, second_number, joined) = file_case(&w, TOWNSHIP, VILLAGE).await;
    assert_eq!(
        joined["suspension_id"], filed["suspension_id"],
        "the second case joins the open suspension"
    );
    let suspension = filed["suspension_id"].as_str().unwrap().to_string();
    assert_eq!(
        status(&w, &path).await["blocking_cases"],
        json!([first_number, second_number])
    );

    // The first case's plan, two items: verifying one completes nothing.
    let a = add_item(&w, &first, "重新评议低保对象", "2026-12-31").await;
    let b = add_item(&w, &first, "追回违规发放的低保金", "2027-01-31").await;
    assert_eq!(a["status"], "open");
    assert_eq!(a["case_number"], first_number.as_str());
    for item in [&a, &b] {
        submit(&w, item["id"].as_str().unwrap()).await;
    }
    let v = verify(&w, a["id"].as_str().unwrap()).await;
    assert_eq!(v["status"], "verified");
    assert_eq!(v["plan_complete"], false);
    assert_eq!(v["suspension"], Value::Null);

    // The second verification completes the first plan: the case is cleared, but the second
    // case still blocks, and the answer names it.
    w.app.clock.advance(Duration::hours(1));
    let v = verify(&w, b["id"].as_str().unwrap()).await;
    assert_eq!(v["plan_complete"], true);
    assert_eq!(v["suspension"]["lifted"], false);
    assert_eq!(v["suspension"]["suspension_id"], suspension.as_str());
    assert_eq!(v["suspension"]["still_blocking"], json!([second_number]));
    let now = status(&w, &path).await;
    assert_eq!(now["suspended"], true);
    assert_eq!(now["blocking_cases"], json!([second_number]));
    // A complete plan is closed.
    let r = w
        .app
        .post_as(
            &format!("/api/v1/cases/{first}/remediation-items"),
            &w.inv_a.1,
            &json!({"description": "补充", "responsible_unit": "乡政府", "due_on": "2026-12-31"}),
        )
        .await;
    assert_problem(r, 409, "remediation_plan_complete").await;
    let plan = json(
        w.app
            .get_as(
                &format!("/api/v1/cases/{first}/remediation-items"),
                &w.auditor,
            )
            .await,
    )
    .await;
    assert_eq!(plan["complete"], true);
    assert_eq!(plan["items"].as_array().unwrap().len(), 2);

    // The second plan's last verification lifts, in its transaction, by that supervisor.
    w.app.clock.advance(Duration::hours(1));
    let v = remediate(&w, &second).await;
    assert_eq!(v["plan_complete"], true);
    assert_eq!(v["suspension"]["lifted"], true);
    assert_eq!(v["suspension"]["still_blocking"], json!([]));
    let now = status(&w, &path).await;
    assert_eq!(now["suspended"], false);
    assert_eq!(now["blocking_cases"], json!([]));

    let s = suspension.clone();
    let (lifted_at, lifted_by, events): (
        Option<chrono::NaiveDateTime>,
        Option<String>,
        Vec<String>,
    ) = w
        .app
        .db(move |conn| {
            let (at, by) = suspensions::table
                .find(&s)
                .select((suspensions::lifted_at, suspensions::lifted_by))
                .first(conn)
                .unwrap();
            let events = suspension_events::table
                .filter(suspension_events::suspension_id.eq(&s))
                .order((suspension_events::at, suspension_events::event.desc()))
                .select(suspension_events::event)
                .load(conn)
                .unwrap();
            (at, by, events)
        })
        .await;
    assert_eq!(lifted_at, Some(w.app.clock.now_naive()));
    let supervisor_id: String = json(w.app.get_as("/api/v1/me", &w.supervisor).await).await["user"]
        ["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(lifted_by.as_deref(), Some(supervisor_id.as_str()));
    // In time order; the last case cleared and the lift share their instant.
    assert_eq!(
        events,
        [
            "opened",
            "case_joined",
            "case_cleared",
            "lifted",
            "case_cleared"
        ]
    );
    // The lift is audited and announced.
    let lifted_audit: i64 = w
        .app
        .db(|conn| {
            use probity::db::schema::audit_events;
            audit_events::table
                .filter(audit_events::action.eq("suspension.lifted"))
                .count()
                .get_result(conn)
                .unwrap()
        })
        .await;
    assert_eq!(lifted_audit, 1);

    // A case filed afterwards opens a new suspension; the old one stays as it was.
    w.app.clock.advance(Duration::hours(1));
    let (_, third, refiled) = file_case(&w, TOWNSHIP, VILLAGE).await;
    assert_ne!(refiled["suspension_id"], filed["suspension_id"]);
    let now = status(&w, &path).await;
    assert_eq!(now["blocking_cases"], json!([third]));
    assert_eq!(suspension_count(&w.app).await, 2);
}

async fn a_rejected_item_is_submitted_again_with_its_history(backend: Backend) {
    let w = start_on(backend).await;
    let (case, _, _) = file_case(&w, TOWNSHIP, VILLAGE).await;
    let item = add_item(&w, &case, "重新评议低保对象并公示", "2026-12-20").await;
    let id = item["id"].as_str().unwrap().to_string();
    assert_eq!(item["allowed_actions"], json!(["submit"]));
    assert_eq!(item["version"], 1);

    // Evidence with a file, through multipart: the photo is cleaned and encrypted like a
    // report's evidence.
    let form = reqwest::multipart::Form::new()
        .part(
            "submission",
            reqwest::multipart::Part::text(
                json!({"evidence": "评议会记录和公示照片", "version": 1}).to_string(),
            )
            .mime_str("application/json")
            .unwrap(),
        )
        .part(
            "file",
            reqwest::multipart::Part::bytes(crate::web::PNG.to_vec())
                .file_name("公示.png")
                .mime_str("image/png")
                .unwrap(),
        );
    let r = w
        .app
        .client
        .post(w.app.url(&format!("/api/v1/remediation-items/{id}/submit")))
        .bearer_auth(&w.inv_a.1)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let submitted = json(r).await;
    assert_eq!(submitted["status"], "submitted");
    assert_eq!(submitted["evidence"], "评议会记录和公示照片");
    assert_eq!(submitted["allowed_actions"], json!(["verify", "reject"]));
    let files = submitted["files"].as_array().unwrap().clone();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0]["content_type"], "image/png");
    let file_id = files[0]["id"].as_str().unwrap();
    let r = w
        .app
        .get_as(&format!("/api/v1/remediation-files/{file_id}"), &w.auditor)
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().as_ref(), crate::web::PNG);

    // Only a supervisor decides; a reason is required to reject.
    let r = act(&w, &w.inv_a.1, &id, "verify", json!({})).await;
    assert_problem(r, 403, "forbidden").await;
    let r = act(&w, &w.supervisor, &id, "reject", json!({})).await;
    let p = assert_problem(r, 422, "validation_failed").await;
    assert_eq!(p["errors"][0]["field"], "reason");
    let r = act(
        &w,
        &w.supervisor,
        &id,
        "reject",
        json!({"reason": "照片看不清", "version": 1}),
    )
    .await;
    let p = assert_problem(r, 409, "version_conflict").await;
    assert_eq!(p["version"], 2);
    w.app.clock.advance(Duration::hours(2));
    let r = act(
        &w,
        &w.supervisor,
        &id,
        "reject",
        json!({"reason": "照片看不清，公示名单不全"}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let rejected = json(r).await;
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["rejection_reason"], "照片看不清，公示名单不全");
    assert_eq!(rejected["allowed_actions"], json!(["submit"]));

    // A rejected item cannot be verified; it is submitted again.
    let r = act(&w, &w.supervisor, &id, "verify", json!({})).await;
    let p = assert_problem(r, 409, "invalid_transition").await;
    assert_eq!(p["item_status"], "rejected");
    assert_eq!(p["allowed_actions"], json!(["submit"]));
    w.app.clock.advance(Duration::hours(2));
    let again = submit(&w, &id).await;
    assert_eq!(again["status"], "submitted");
    assert_eq!(again["rejection_reason"], Value::Null);
    let v = verify(&w, &id).await;
    assert_eq!(v["status"], "verified");
    assert_eq!(v["allowed_actions"], json!([]));
    assert_eq!(v["suspension"]["lifted"], true, "the village's only case");

    // The whole history stays, the first submission and the rejection too.
    let item = json(
        w.app
            .get_as(&format!("/api/v1/remediation-items/{id}"), &w.auditor)
            .await,
    )
    .await;
    let events: Vec<&str> = item["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        ["created", "submitted", "rejected", "submitted", "verified"]
    );
    assert_eq!(item["history"][1]["evidence"], "评议会记录和公示照片");
    assert_eq!(item["history"][2]["reason"], "照片看不清，公示名单不全");
    assert_eq!(item["files"][0]["event_id"], item["history"][1]["id"]);
    let r = act(
        &w,
        &w.inv_a.1,
        &id,
        "submit",
        json!({"evidence": "再交一次"}),
    )
    .await;
    assert_problem(r, 409, "invalid_transition").await;
}

async fn remediation_items_are_checked_and_guarded(backend: Backend) {
    let w = start_on(backend).await;
    let not_filed = filing_requested(&w, TOWNSHIP, VILLAGE).await;
    let body = json!({"description": "整改", "responsible_unit": "村委会", "due_on": "2026-12-31"});
    let r = w
        .app
        .post_as(
            &format!("/api/v1/cases/{not_filed}/remediation-items"),
            &w.inv_a.1,
            &body,
        )
        .await;
    assert_problem(r, 409, "case_not_filed").await;
    let (case, _, _) = file_case(&w, TOWNSHIP, VILLAGE).await;
    let r = w
        .app
        .post_as(
            &format!("/api/v1/cases/{case}/remediation-items"),
            &w.inv_a.1,
            &json!({"description": " ", "responsible_unit": "村委会\n乡政府", "due_on": "2026-11-29"}),
        )
        .await;
    let p = assert_problem(r, 422, "validation_failed").await;
    let fields: Vec<(&str, &str)> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        fields,
        [
            ("description", "required"),
            ("responsible_unit", "invalid_characters"),
            ("due_on", "out_of_range")
        ]
    );
    // Another team's investigator, the auditor and intake may not add items.
    for token in [&w.inv_b.1, &w.auditor, &w.intake] {
        let r = w
            .app
            .post_as(
                &format!("/api/v1/cases/{case}/remediation-items"),
                token,
                &body,
            )
            .await;
        assert_problem(r, 403, "forbidden").await;
    }
    let r = w
        .app
        .get_as(
            &format!("/api/v1/cases/{case}/remediation-items"),
            &w.inv_b.1,
        )
        .await;
    assert_problem(r, 403, "forbidden").await;
    let r = act(&w, &w.supervisor, "no-such-item", "verify", json!({})).await;
    assert_problem(r, 404, "not_found").await;
    let item = add_item(&w, &case, "整改", "２０２６－１２－３１").await;
    assert_eq!(item["due_on"], "2026-12-31");
    let id = item["id"].as_str().unwrap();
    let r = act(&w, &w.inv_a.1, id, "submit", json!({"evidence": ""})).await;
    let p = assert_problem(r, 422, "validation_failed").await;
    assert_eq!(p["errors"][0]["field"], "evidence");
    let r = w
        .app
        .client
        .post(w.app.url(&format!("/api/v1/remediation-items/{id}/submit")))
        .bearer_auth(&w.inv_a.1)
        .header("content-type", "text/plain")
        .body("evidence")
        .send()
        .await
        .unwrap();
    assert_problem(r, 415, "unsupported_media_type").await;
    let r = act(&w, &w.inv_b.1, id, "submit", json!({"evidence": "x"})).await;
    assert_problem(r, 403, "forbidden").await;
    // Overdue once the due date passed while it waits for evidence.
    w.app
        .clock
        .set(Utc.with_ymd_and_hms(2027, 1, 2, 2, 0, 0).unwrap());
    let item = json(
        w.app
            .get_as(&format!("/api/v1/remediation-items/{id}"), &w.auditor)
            .await,
    )
    .await;
    assert_eq!(item["overdue"], true);
}

async fn status_on_a_day_before_during_after_and_on_the_day_of_the_lift(backend: Backend) {
    let w = start_on(backend).await;
    let path = format!("/api/v1/villages/{VILLAGE}/benefit-status");
    // Filed on Monday 2026-11-30 at 10:00 in the county.
    let (case, number, _) = file_case(&w, TOWNSHIP, VILLAGE).await;
    // Lifted on 2026-12-03 at 23:30 in the county (15:30 UTC): suspended all that day.
    w.app
        .clock
        .set(Utc.with_ymd_and_hms(2026, 12, 3, 15, 30, 0).unwrap());
    let v = remediate(&w, &case).await;
    assert_eq!(v["suspension"]["lifted"], true);
    let on = |day: &str| format!("{path}?on={day}");
    let before = status(&w, &on("2026-11-29")).await;
    assert_eq!(before["suspended"], false);
    assert_eq!(before["on"], "2026-11-29");
    let first = status(&w, &on("2026-11-30")).await;
    assert_eq!(first["suspended"], true, "the day it started");
    assert_eq!(first["since"], "2026-11-30T02:00:00Z");
    assert_eq!(first["blocking_cases"], json!([number]));
    let during = status(&w, &on("2026-12-02")).await;
    assert_eq!(during["suspended"], true);
    assert_eq!(during["lifted_at"], "2026-12-03T15:30:00Z");
    let lift_day = status(&w, &on("2026-12-03")).await;
    assert_eq!(lift_day["suspended"], true, "the day of the lift");
    assert_eq!(lift_day["blocking_cases"], json!([number]));
    let after = status(&w, &on("2026-12-04")).await;
    assert_eq!(after["suspended"], false, "the day after");
    assert_eq!(after["since"], Value::Null);
    let now = status(&w, &path).await;
    assert_eq!(now["suspended"], false);
    assert_eq!(now["on"], Value::Null);
    // A lift at 00:10 in the county (16:10 UTC the day before) suspends that county day only
    // for ten minutes, and it still counts.
    w.app
        .clock
        .set(Utc.with_ymd_and_hms(2026, 12, 10, 2, 0, 0).unwrap());
    let (case, _, _) = file_case(&w, OTHER_TOWNSHIP, OTHER_VILLAGE).await;
    w.app
        .clock
        .set(Utc.with_ymd_and_hms(2026, 12, 11, 16, 10, 0).unwrap());
    remediate(&w, &case).await;
    let other = format!("/api/v1/villages/{OTHER_VILLAGE}/benefit-status?on=");
    assert_eq!(
        status(&w, &format!("{other}2026-12-12")).await["suspended"],
        true
    );
    assert_eq!(
        status(&w, &format!("{other}2026-12-13")).await["suspended"],
        false
    );
    assert_eq!(
        status(&w, &format!("{other}2026-12-09")).await["suspended"],
        false
    );
}

/// Inserts `n` more villages under 长宁镇 (codes 360734900000 + i), marked demo.
async fn more_villages(app: &TestApp, n: usize) -> Vec<String> {
    let codes: Vec<String> = (0..n)
        .map(|i| format!("{}", 360_734_900_000u64 + i as u64))
        .collect();
    let rows = codes.clone();
    app.db(move |conn| {
        for chunk in rows.chunks(500) {
            let values: Vec<_> = chunk
                .iter()
                .map(|code| {
                    (
                        divisions::code.eq(code.clone()),
                        divisions::name.eq(format!("村{code}")),
                        divisions::level.eq("village"),
                        divisions::parent_code.eq(Some(TOWNSHIP)),
                        divisions::demo.eq(true),
                    )
                })
                .collect();
            // A multi-row insert is built per backend (not over the multi-backend).
            let insert = diesel::insert_into(divisions::table).values(values);
            match conn {
                DbConnection::Postgresql(c) => insert.execute(c),
                DbConnection::Sqlite(c) => insert.execute(c),
            }
            .unwrap();
        }
    })
    .await;
    codes
}

async fn a_batch_of_10000_codes_with_unknown_ones(backend: Backend) {
    let w = start_on(backend).await;
    let (_, number, _) = file_case(&w, TOWNSHIP, VILLAGE).await;
    let (_, key) = service_key(&w, &["benefit-status:read"]).await;
    let mut codes = more_villages(&w.app, 9_990).await;
    // 10,000 in all: the suspended village (twice), one not suspended, unknown codes, a
    // township's code, one typed with full-width digits.
    codes.extend([
        VILLAGE.to_string(),
        OTHER_VILLAGE.to_string(),
        "360734100999".to_string(),
        "nonsense".to_string(),
        TOWNSHIP.to_string(),
        VILLAGE.to_string(),
        "３６０７３４１０１２０１".to_string(),
        String::new(),
        "360734199201".to_string(),
        "360734900000".to_string(),
    ]);
    codes.rotate_right(3);
    assert_eq!(codes.len(), 10_000);
    let started = std::time::Instant::now();
    let r = w
        .app
        .client
        .post(w.app.url("/api/v1/benefit-status/batch"))
        .header("X-Api-Key", &key)
        .json(&json!({"village_codes": codes, "on": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let answer = json(r).await;
    eprintln!(
        "batch of 10000 ({}): {:?}",
        backend.name(),
        started.elapsed()
    );
    let results = answer["results"].as_array().unwrap();
    assert_eq!(results.len(), 10_000);
    for (asked, got) in codes.iter().zip(results) {
        // Known codes come back folded; unknown ones as asked.
        let expected = if got.get("error").is_some() {
            asked.clone()
        } else {
            probity::domain::text::compact_code(asked)
        };
        assert_eq!(got["village_code"].as_str().unwrap(), expected);
        match asked.as_str() {
            VILLAGE => {
                assert_eq!(got["suspended"], true);
                assert_eq!(got["blocking_cases"], json!([number]));
                assert_eq!(got["since"], "2026-11-30T02:00:00Z");
                assert_eq!(got["village_name"], "城北村");
            }
            "360734100999" | "nonsense" | TOWNSHIP | "" | "360734199201" => {
                assert_eq!(got["error"], "unknown_village", "{asked}");
                assert!(got.get("suspended").is_none());
            }
            _ => {
                assert_eq!(got["suspended"], false, "{asked}");
                assert_eq!(got["blocking_cases"], json!([]));
            }
        }
    }
    // On a day before the filing, nobody was suspended.
    let r = w
        .app
        .client
        .post(w.app.url("/api/v1/benefit-status/batch"))
        .bearer_auth(&w.auditor)
        .json(&json!({"village_codes": [VILLAGE, "x"], "on": "2026-11-29"}))
        .send()
        .await
        .unwrap();
    let answer = json(r).await;
    assert_eq!(answer["on"], "2026-11-29");
    assert_eq!(answer["results"][0]["suspended"], false);
    assert_eq!(answer["results"][1]["error"], "unknown_village");
    // Too many, none, or a bad date: the request is refused as a whole.
    codes.push(VILLAGE.to_string());
    for (body, field, code) in [
        (json!({"village_codes": codes}), "village_codes", "too_many"),
        (json!({"village_codes": []}), "village_codes", "required"),
        (json!({"on": null}), "village_codes", "required"),
        (
            json!({"village_codes": [VILLAGE], "on": "31/12/2026"}),
            "on",
            "invalid_date",
        ),
    ] {
        let r = w
            .app
            .post_as("/api/v1/benefit-status/batch", &w.auditor, &body)
            .await;
        let p = assert_problem(r, 422, "validation_failed").await;
        assert_eq!(p["errors"][0]["field"], field);
        assert_eq!(p["errors"][0]["code"], code);
    }
}

async fn service_keys_read_status_and_nothing_else(backend: Backend) {
    let w = start_on(backend).await;
    file_case(&w, TOWNSHIP, VILLAGE).await;
    let path = format!("/api/v1/villages/{VILLAGE}/benefit-status");
    let (key_id, key) = service_key(&w, &["benefit-status:read"]).await;
    // The first use reads the key's row; later ones are answered from memory, the same.
    for _ in 0..3 {
        let r = with_key(&w.app, &path, &key).await;
        assert_eq!(r.status(), 200);
        assert_eq!(json(r).await["suspended"], true);
    }
    let r = w
        .app
        .client
        .get(w.app.url(&path))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "as a bearer token too");
    let r = with_key(&w.app, "/api/v1/suspensions?active=true", &key).await;
    assert_eq!(r.status(), 200);
    // A wrong secret for a cached key, an unknown key, a key without the scope, a staff
    // endpoint.
    let wrong = format!("{}x", &key[..key.len() - 1]);
    assert_problem(with_key(&w.app, &path, &wrong).await, 401, "unauthorized").await;
    assert_problem(
        with_key(&w.app, &path, "pk_0000_nope").await,
        401,
        "unauthorized",
    )
    .await;
    let (_, recoveries) = service_key(&w, &["recoveries:write"]).await;
    assert_problem(with_key(&w.app, &path, &recoveries).await, 403, "forbidden").await;
    assert_problem(
        with_key(&w.app, "/api/v1/cases", &key).await,
        403,
        "forbidden",
    )
    .await;
    // last_used_at is written, at most once a minute.
    async fn used(app: &TestApp, id: String) -> Option<chrono::NaiveDateTime> {
        app.db(move |conn| {
            use probity::db::schema::api_keys;
            api_keys::table
                .find(id)
                .select(api_keys::last_used_at)
                .first::<Option<chrono::NaiveDateTime>>(conn)
                .unwrap()
        })
        .await
    }
    let first_use = used(&w.app, key_id.clone()).await;
    assert_eq!(first_use, Some(w.app.clock.now_naive()));
    w.app.clock.advance(Duration::seconds(61));
    assert_eq!(with_key(&w.app, &path, &key).await.status(), 200);
    assert_eq!(
        used(&w.app, key_id.clone()).await,
        Some(w.app.clock.now_naive()),
        "marked again after a minute"
    );
    // Revoked: refused at once on this instance, cached or not.
    let r = w
        .app
        .post_as(
            &format!("/api/v1/api-keys/{key_id}/revoke"),
            &w.admin,
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_problem(with_key(&w.app, &path, &key).await, 401, "unauthorized").await;
}

async fn the_suspension_list_pages_and_exports_csv(backend: Backend) {
    let w = start_on(backend).await;
    // A village whose name a spreadsheet would run as a formula.
    w.app
        .insert_divisions(&[(
            "360734100202",
            "=HYPERLINK(\"http://x\")村",
            "village",
            Some(TOWNSHIP),
        )])
        .await;
    let (first, n1, _) = file_case(&w, TOWNSHIP, VILLAGE).await;
    w.app.clock.advance(Duration::hours(1));
    let (_, n2, _) = file_case(&w, OTHER_TOWNSHIP, OTHER_VILLAGE).await;
    w.app.clock.advance(Duration::hours(1));
    let (_, n3, _) = file_case(&w, TOWNSHIP, "360734100202").await;
    w.app.clock.advance(Duration::hours(1));
    remediate(&w, &first).await;

    let all = json(w.app.get_as("/api/v1/suspensions", &w.auditor).await).await;
    let numbers: Vec<&Value> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["case_numbers"][0])
        .collect();
    assert_eq!(
        numbers,
        [&json!(n3), &json!(n2), &json!(n1)],
        "newest first"
    );
    assert_eq!(all["next_cursor"], Value::Null);
    let lifted = &all["items"][2];
    assert_eq!(lifted["village_code"], VILLAGE);
    assert_eq!(lifted["village_name"], "城北村");
    assert_eq!(lifted["started_at"], "2026-11-30T02:00:00Z");
    assert!(lifted["lifted_at"].is_string());
    let active = json(
        w.app
            .get_as("/api/v1/suspensions?active=true", &w.auditor)
            .await,
    )
    .await;
    assert_eq!(active["items"].as_array().unwrap().len(), 2);
    let done = json(
        w.app
            .get_as("/api/v1/suspensions?active=false", &w.auditor)
            .await,
    )
    .await;
    assert_eq!(done["items"][0]["case_numbers"], json!([n1]));
    // Pages of one.
    let mut seen = Vec::new();
    let mut next = "/api/v1/suspensions?limit=1".to_string();
    loop {
        let page = json(w.app.get_as(&next, &w.auditor).await).await;
        for item in page["items"].as_array().unwrap() {
            seen.push(item["id"].as_str().unwrap().to_string());
        }
        match page["next_cursor"].as_str() {
            Some(c) => next = format!("/api/v1/suspensions?limit=1&cursor={c}"),
            None => break,
        }
    }
    let ids: Vec<String> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(seen, ids);
    for bad in ["?limit=0", "?cursor=%%%", "?cursor=bm9wZQ"] {
        let r = w
            .app
            .get_as(&format!("/api/v1/suspensions{bad}"), &w.auditor)
            .await;
        assert_problem(r, 422, "validation_failed").await;
    }

    // CSV: a BOM, the header, every row; the formula-like name neutralised.
    let r = w
        .app
        .client
        .get(w.app.url("/api/v1/suspensions?active=true"))
        .bearer_auth(&w.auditor)
        .header("Accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "text/csv; charset=utf-8"
    );
    let bytes = r.bytes().await.unwrap();
    assert!(bytes.starts_with("\u{FEFF}".as_bytes()), "a UTF-8 BOM");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        [
            "id",
            "village_code",
            "village_name",
            "started_at",
            "lifted_at",
            "case_numbers"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(&rows[0][2], "'=HYPERLINK(\"http://x\")村");
    assert_eq!(&rows[0][5], n3.as_str());
    assert_eq!(&rows[1][2], "沙坝村");
    assert_eq!(&rows[1][4], "", "not lifted");
}

async fn benefit_offices_receive_the_suspension_and_lift_emails(backend: Backend) {
    let smtp = SmtpServer::start(Mode::Accept);
    let w = start(
        app(backend)
            .mail_to(smtp.port)
            .set("benefits.offices[0].name", "县民政局")
            .set("benefits.offices[0].programme", "dibao")
            .set("benefits.offices[0].email", "dibao@mzj.example.cn")
            .set("benefits.offices[1].name", "县住建局")
            .set("benefits.offices[1].programme", "house_renovation")
            .set("benefits.offices[1].email", "gz@zjj.example.cn"),
    )
    .await;
    let (case, number, _) = file_case(&w, TOWNSHIP, VILLAGE).await;
    drain(&w.app).await;
    let started = smtp.wait_for(2, std::time::Duration::from_secs(10));
    let to_office = |mails: &[crate::smtp::ReceivedMail], office: &str, phrase: &str| {
        mails
            .iter()
            .filter(|m| m.to.iter().any(|t| t.contains(office)))
            .map(crate::reminders::body_of)
            .filter(|b| b.contains(phrase))
            .collect::<Vec<_>>()
    };
    for office in ["dibao@mzj.example.cn", "gz@zjj.example.cn"] {
        let bodies = to_office(&started, office, "暂停实施");
        assert_eq!(bodies.len(), 1, "one suspension email to {office}");
        assert!(bodies[0].contains("城北村"));
        assert!(bodies[0].contains(VILLAGE));
        assert!(bodies[0].contains(&number));
        assert!(
            bodies[0].contains("2026-11-30 10:00"),
            "county time: {}",
            bodies[0]
        );
    }
    assert!(to_office(&started, "dibao@", "县民政局").len() == 1);
    // A second case joining changes nothing for a payer: no email.
    file_case(&w, TOWNSHIP, VILLAGE).await;
    drain(&w.app).await;
    assert_eq!(smtp.received().len(), 2);
    // Running the announcement again (at least once) sends nothing twice.
    let event: String = w
        .app
        .db(|conn| {
            suspension_events::table
                .filter(suspension_events::event.eq("opened"))
                .select(suspension_events::id)
                .first(conn)
                .unwrap()
        })
        .await;
    let state = probity::suspensions::announce::AnnounceState {
        offices: w.app.settings.benefits.offices.clone(),
        webhook_max_attempts: 3,
    };
    let now = w.app.clock.now_naive();
    let again = w
        .app
        .db(move |conn| probity::suspensions::announce::fan_out(conn, &event, &state, now).unwrap())
        .await;
    assert_eq!(again, 0);

    // Lifting: both plans verified; one lift email to each office.
    w.app.clock.advance(Duration::days(2));
    remediate(&w, &case).await;
    let second: String = w
        .app
        .db(move |conn| {
            use probity::db::schema::cases;
            cases::table
                .filter(cases::number.ne(number))
                .select(cases::id)
                .first(conn)
                .unwrap()
        })
        .await;
    remediate(&w, &second).await;
    drain(&w.app).await;
    let all = smtp.wait_for(4, std::time::Duration::from_secs(10));
    assert_eq!(all.len(), 4);
    for office in ["dibao@mzj.example.cn", "gz@zjj.example.cn"] {
        let bodies = to_office(&all, office, "恢复实施");
        assert_eq!(bodies.len(), 1, "one lift email to {office}");
        assert!(bodies[0].contains("2026-12-02 10:00"), "{}", bodies[0]);
    }
}

/// What the test's webhook receiver got: headers (lower-case names) and body.
#[derive(Debug, Clone)]
struct Delivery {
    headers: Vec<(String, String)>,
    body: String,
}

impl Delivery {
    fn header(&self, name: &str) -> String {
        self.headers
            .iter()
            .find(|(n, _)| n == &name.to_ascii_lowercase())
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }
}

/// A plain HTTP/1.1 listener in the test process: answers 500 to the first request, 200 to
/// the others, and keeps every request.
async fn webhook_receiver() -> (String, Arc<Mutex<Vec<Delivery>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/probity/hook", listener.local_addr().unwrap());
    let got: Arc<Mutex<Vec<Delivery>>> = Arc::new(Mutex::new(Vec::new()));
    let kept = got.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let kept = kept.clone();
            tokio::spawn(async move {
                let mut raw = Vec::new();
                let mut buf = [0u8; 4096];
                let (head_end, length) = loop {
                    let n = socket.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    raw.extend_from_slice(&buf[..n]);
                    if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&raw[..end]).to_lowercase();
                        let length = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .map(|v| v.trim().parse::<usize>().unwrap())
                            .unwrap_or(0);
                        break (end + 4, length);
                    }
                };
                while raw.len() < head_end + length {
                    let n = socket.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    raw.extend_from_slice(&buf[..n]);
                }
                let head = String::from_utf8_lossy(&raw[..head_end]).to_string();
                let headers = head
                    .lines()
                    .skip(1)
                    .filter_map(|l| l.split_once(':'))
                    .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
                    .collect();
                let body = String::from_utf8(raw[head_end..].to_vec()).unwrap();
                let first = {
                    let mut kept = kept.lock().unwrap();
                    kept.push(Delivery { headers, body });
                    kept.len() == 1
                };
                let answer: &[u8] = if first {
                    b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                } else {
                    b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
                };
                let _ = socket.write_all(answer).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    (url, got)
}

/// Checks a delivery as a receiver would: HMAC-SHA256 of `<t>.<body>` with the secret.
fn signature_ok(delivery: &Delivery, secret: &str) -> bool {
    use hmac::{Hmac, Mac};
    let header = delivery.header("probity-signature");
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", value)) => t = Some(value.to_string()),
            Some(("v1", value)) => v1 = Some(value.to_string()),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return false;
    };
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{}", delivery.body).as_bytes());
    mac.verify_slice(&hex::decode(v1).unwrap_or_default())
        .is_ok()
}

async fn a_webhook_is_delivered_signed_and_retried_after_a_500(backend: Backend) {
    let w = start(
        app(backend)
            .set("jobs.backoff_base_secs", "0")
            .set("jobs.backoff_max_secs", "0"),
    )
    .await;
    let (url, got) = webhook_receiver().await;
    let (key_id, _) = service_key(&w, &["benefit-status:read"]).await;
    let r = w
        .app
        .post_as(
            "/api/v1/webhooks",
            &w.admin,
            &json!({"api_key_id": key_id, "url": url}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let hook = json(r).await;
    let secret = hook["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"));

    let (case, number, filed) = file_case(&w, TOWNSHIP, VILLAGE).await;
    // The announcement queues the delivery; the first attempt gets a 500 and is retried.
    w.app.jobs.run_once().await.unwrap();
    w.app.jobs.run_once().await.unwrap();
    let (status, attempts, error): (String, i32, Option<String>) = w
        .app
        .db(|conn| {
            jobs::table
                .filter(jobs::kind.eq("webhook_delivery"))
                .select((jobs::status, jobs::attempts, jobs::last_error))
                .first(conn)
                .unwrap()
        })
        .await;
    assert_eq!((status.as_str(), attempts), ("pending", 1));
    assert!(error.unwrap().contains("500"), "the failure is kept");
    drain(&w.app).await;
    let deliveries = got.lock().unwrap().clone();
    assert_eq!(deliveries.len(), 2, "one failed attempt, one delivered");
    let (first, second) = (&deliveries[0], &deliveries[1]);
    assert!(!first.header("probity-delivery").is_empty());
    assert_eq!(
        first.header("probity-delivery"),
        second.header("probity-delivery"),
        "the same delivery id on every attempt, for de-duplication"
    );
    assert_eq!(second.body, first.body, "the same body on every attempt");
    for d in &deliveries {
        assert!(signature_ok(d, &secret), "a valid signature: {d:?}");
        assert!(!signature_ok(d, "whsec_wrong"));
        assert_eq!(d.header("probity-event"), "suspension.started");
        assert!(d.header("content-type").starts_with("application/json"));
    }
    let event: Value = serde_json::from_str(&second.body).unwrap();
    assert_eq!(event["type"], "suspension.started");
    assert_eq!(event["suspension"]["id"], filed["suspension_id"]);
    assert_eq!(event["suspension"]["village_code"], VILLAGE);
    assert_eq!(event["suspension"]["case_numbers"], json!([number]));
    assert_eq!(event["suspension"]["lifted_at"], Value::Null);
    let t: i64 = second.header("probity-signature")[2..12].parse().unwrap();
    assert_eq!(
        t,
        w.app.clock.now().timestamp(),
        "signed at the attempt's time"
    );

    // The lift is pushed too.
    w.app.clock.advance(Duration::days(1));
    remediate(&w, &case).await;
    drain(&w.app).await;
    let deliveries = got.lock().unwrap().clone();
    assert_eq!(deliveries.len(), 3);
    let lifted = &deliveries[2];
    assert!(signature_ok(lifted, &secret));
    assert_eq!(lifted.header("probity-event"), "suspension.lifted");
    assert_ne!(
        lifted.header("probity-delivery"),
        first.header("probity-delivery")
    );
    let event: Value = serde_json::from_str(&lifted.body).unwrap();
    assert_eq!(event["type"], "suspension.lifted");
    assert!(event["suspension"]["lifted_at"].is_string());

    // A deactivated subscriber gets nothing more.
    let hook_id = hook["id"].as_str().unwrap();
    let r = w
        .app
        .client
        .patch(w.app.url(&format!("/api/v1/webhooks/{hook_id}")))
        .bearer_auth(&w.admin)
        .json(&json!({"active": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    file_case(&w, TOWNSHIP, VILLAGE).await;
    drain(&w.app).await;
    assert_eq!(got.lock().unwrap().len(), 3);
}

async fn webhook_subscribers_are_managed_by_an_admin(backend: Backend) {
    let w = start(app(backend)).await;
    let (key_id, _) = service_key(&w, &["benefit-status:read"]).await;
    let (other_key, _) = service_key(&w, &["recoveries:write"]).await;
    let create = |body: Value| {
        let w = &w;
        async move { w.app.post_as("/api/v1/webhooks", &w.admin, &body).await }
    };
    let r = w
        .app
        .post_as(
            "/api/v1/webhooks",
            &w.supervisor,
            &json!({"api_key_id": key_id, "url": "https://pay.example.cn/hook"}),
        )
        .await;
    assert_problem(r, 403, "forbidden").await;
    for (body, field, code) in [
        (
            json!({"url": "https://pay.example.cn/hook"}),
            "api_key_id",
            "required",
        ),
        (
            json!({"api_key_id": "nope", "url": "https://pay.example.cn/hook"}),
            "api_key_id",
            "unknown_api_key",
        ),
        (
            json!({"api_key_id": other_key, "url": "https://pay.example.cn/hook"}),
            "api_key_id",
            "not_allowed",
        ),
        (
            json!({"api_key_id": key_id, "url": "pay.example.cn"}),
            "url",
            "invalid_format",
        ),
        (json!({"api_key_id": key_id}), "url", "required"),
    ] {
        let p = assert_problem(create(body).await, 422, "validation_failed").await;
        assert_eq!(p["errors"][0]["field"], field);
        assert_eq!(p["errors"][0]["code"], code);
    }
    let r = create(json!({"api_key_id": key_id, "url": "https://pay.example.cn/hook"})).await;
    assert_eq!(r.status(), 201);
    let hook = json(r).await;
    let id = hook["id"].as_str().unwrap().to_string();
    assert_eq!(hook["active"], true);
    assert_eq!(
        hook["events"],
        json!(["suspension.started", "suspension.lifted"])
    );
    let r = create(json!({"api_key_id": key_id, "url": "https://other.example.cn/"})).await;
    assert_problem(r, 409, "webhook_exists").await;
    let listed = json(w.app.get_as("/api/v1/webhooks", &w.admin).await).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert!(listed["items"][0].get("secret").is_none(), "never listed");
    let patch = |body: Value| {
        let w = &w;
        let id = id.clone();
        async move {
            w.app
                .client
                .patch(w.app.url(&format!("/api/v1/webhooks/{id}")))
                .bearer_auth(&w.admin)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let r = patch(json!({"url": "https://pay.example.cn/v2", "rotate_secret": true})).await;
    assert_eq!(r.status(), 200);
    let changed = json(r).await;
    assert_eq!(changed["url"], "https://pay.example.cn/v2");
    assert!(changed["secret"].as_str().unwrap().starts_with("whsec_"));
    assert_ne!(changed["secret"], hook["secret"]);
    let r = patch(json!({"active": false})).await;
    let changed = json(r).await;
    assert_eq!(changed["active"], false);
    assert_eq!(changed["secret"], Value::Null);
    let r = w
        .app
        .client
        .delete(w.app.url(&format!("/api/v1/webhooks/{id}")))
        .bearer_auth(&w.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(json(r).await["removed_at"].is_string());
    let kept = json(
        w.app
            .get_as(&format!("/api/v1/webhooks/{id}"), &w.admin)
            .await,
    )
    .await;
    assert!(kept["removed_at"].is_string(), "the row stays");
    assert_problem(patch(json!({"active": true})).await, 404, "not_found").await;
    // The key may now have a new subscriber; production-like settings refuse plain HTTP.
    let r = create(json!({"api_key_id": key_id, "url": "http://127.0.0.1:9/hook"})).await;
    assert_eq!(
        r.status(),
        201,
        "plain HTTP is allowed in this test's settings"
    );
}

async fn overdue_items_join_the_daily_reminder(backend: Backend) {
    let w = start_on(backend).await;
    w.app
        .create_staff("super2", &[Role::Supervisor], Some("super2@probity.test"))
        .await;
    let (case, number, _) = file_case(&w, TOWNSHIP, VILLAGE).await;
    add_item(&w, &case, "重新评议", "2026-12-01").await;
    add_item(&w, &case, "公示", "2026-12-02").await;
    let done = add_item(&w, &case, "退回", "2026-12-01").await;
    submit(&w, done["id"].as_str().unwrap()).await;
    // Thursday 2026-12-03, 09:00 in the county: two items wait for evidence past their date.
    w.app
        .clock
        .set(Utc.with_ymd_and_hms(2026, 12, 3, 1, 0, 0).unwrap());
    w.app.jobs.run_once().await.unwrap();
    w.app.jobs.run_once().await.unwrap();
    let digests: Vec<Value> = w
        .app
        .db(|conn| {
            jobs::table
                .filter(jobs::kind.eq("email"))
                .select(jobs::payload)
                .load::<String>(conn)
                .unwrap()
        })
        .await
        .iter()
        .map(|p| serde_json::from_str::<Value>(p).unwrap())
        .filter(|p| p["template"] == "deadline_reminder" && p["recipient"] == "super2@probity.test")
        .collect();
    assert_eq!(digests.len(), 1, "one email per person per day");
    let overdue = digests[0]["data"]["overdue"].as_array().unwrap();
    assert!(
        overdue.contains(&json!(format!("{number} 整改事项 2 项（2026-12-01）"))),
        "{overdue:?}"
    );
    // Running the day's job again queues nothing more.
    w.app.clock.advance(Duration::hours(3));
    w.app.jobs.run_once().await.unwrap();
    let count: i64 = w
        .app
        .db(|conn| {
            jobs::table
                .filter(jobs::kind.eq("email"))
                .filter(jobs::payload.like("%super2@probity.test%"))
                .count()
                .get_result(conn)
                .unwrap()
        })
        .await;
    assert_eq!(count, 1);
}

async fn the_public_page_lists_villages_suspended_now(backend: Backend) {
    let w = start_on(backend).await;
    let r = w.app.get("/suspensions").await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("目前没有暂停实施涉农优惠政策的村"));
    let (first, number, _) = file_case(&w, TOWNSHIP, VILLAGE).await;
    let (_, number2, _) = file_case(&w, TOWNSHIP, VILLAGE).await;
    w.app.clock.advance(Duration::days(1));
    let (_, other, _) = file_case(&w, OTHER_TOWNSHIP, OTHER_VILLAGE).await;
    let r = w.app.get("/suspensions").await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = r.text().await.unwrap();
    assert!(html.contains("<html lang=\"zh-CN\">"));
    assert!(html.contains("/static/probity.css"), "the site's layout");
    assert!(!html.contains("<script"), "no JavaScript");
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "nothing from elsewhere"
    );
    assert!(html.contains("目前共有 <strong>2</strong> 个村"));
    assert!(
        html.contains("<td>长宁镇</td><td>城北村</td><td>2026年11月30日</td><td>2</td>"),
        "{html}"
    );
    assert!(html.contains("<td>晨光镇</td><td>沙坝村</td><td>2026年12月01日</td><td>1</td>"));
    for n in [&number, &number2, &other] {
        assert!(!html.contains(n.as_str()), "no case details");
    }
    assert!(!html.contains("张某某"));
    // Lifted villages leave the page, once both cases' plans are verified.
    let second: String = w
        .app
        .db(move |conn| {
            use probity::db::schema::cases;
            cases::table
                .filter(cases::number.eq(number2))
                .select(cases::id)
                .first(conn)
                .unwrap()
        })
        .await;
    remediate(&w, &first).await;
    let html = w.app.get("/suspensions").await.text().await.unwrap();
    assert!(html.contains("城北村"), "one of its two cases still blocks");
    remediate(&w, &second).await;
    let html = w.app.get("/suspensions").await.text().await.unwrap();
    assert!(!html.contains("城北村"));
    assert!(html.contains("沙坝村"));
}

async fn the_public_page_can_be_switched_off(backend: Backend) {
    let w = start(app(backend).set("benefits.public_page", "false")).await;
    file_case(&w, TOWNSHIP, VILLAGE).await;
    let r = w.app.get("/suspensions").await;
    assert_eq!(r.status(), 404);
    let html = r.text().await.unwrap();
    assert!(html.contains("页面不存在"));
    assert!(!html.contains("城北村"));
    // The API answers as before.
    let s = status(&w, &format!("/api/v1/villages/{VILLAGE}/benefit-status")).await;
    assert_eq!(s["suspended"], true);
}

async fn suspension_history_cannot_be_edited(backend: Backend) {
    let w = start_on(backend).await;
    let (case, _, _) = file_case(&w, TOWNSHIP, VILLAGE).await;
    remediate(&w, &case).await;
    let refused = w
        .app
        .db(|conn| {
            [
                "UPDATE suspension_events SET event = 'opened'",
                "DELETE FROM suspension_events",
                "DELETE FROM suspension_cases",
                "DELETE FROM suspensions",
                "UPDATE suspensions SET lifted_at = NULL",
                "DELETE FROM remediation_events",
            ]
            .iter()
            .map(|sql| diesel::sql_query(*sql).execute(conn).is_err())
            .collect::<Vec<_>>()
        })
        .await;
    assert_eq!(refused, [true; 6], "every edit of the history is refused");
}
