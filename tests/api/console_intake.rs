//! The console's 工作台 and 待受理 (issue 13), on every backend with a frozen clock: the desk's
//! cards per role with counts that match the lists they link to; the intake queue and a
//! report's page with its four triage forms, each calling the API's own triage (accept with the
//! routing team shown first, merge among the similar cases), refusals in Chinese with the API's
//! status; evidence through the API's audited path; the supervisors' lists of identity-access
//! requests and objections; 403 in Chinese for everyone else; never the reporter's identity.

use chrono::{TimeZone, Utc};
use diesel::prelude::*;
use probity::db::schema::{audit_events, reports};
use probity::db::Backend;
use probity::domain::roles::Role;
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};

use crate::console::{assert_self_contained, Console, Page};
use crate::helpers::{TestApp, PASSWORD};
use crate::triage::{json, world, World};

pub fn tests() -> Vec<(&'static str, crate::helpers::AsyncTest)> {
    crate::tests![
        the_desk_shows_each_role_its_cards_with_the_lists_counts,
        intake_pages_open_for_intake_and_supervisors_only,
        the_intake_queue_pages_by_fifty_without_skipping_any,
        accepting_from_the_form_opens_the_routed_case,
        refusals_come_back_in_chinese_with_the_apis_status_and_what_was_typed,
        merge_lists_the_similar_cases_and_joins_the_chosen_one,
        evidence_downloads_write_the_same_audit_entry_as_the_api,
    ]
}

/// What the reporter of every report in these tests gave as their identity: none of it may
/// appear on a console page.
const IDENTITY: [&str; 3] = ["李某", "11010519491231002X", "13800138000"];

fn assert_no_identity(path: &str, html: &str) {
    for value in IDENTITY {
        assert!(!html.contains(value), "{path} shows the reporter's {value}");
    }
}

/// A page that must render: 200, self-contained, without the reporter's identity.
fn good<'p>(path: &str, page: &'p Page) -> &'p str {
    let html = page.ok();
    assert_self_contained(path, html);
    assert_no_identity(path, html);
    html
}

/// Signs existing account `username` (created by the world) in to the console.
async fn console_as<'a>(app: &'a TestApp, username: &str) -> Console<'a> {
    let mut console = Console::anonymous(app);
    let answer = console.login(username, PASSWORD).await;
    assert_eq!(answer.status, 303, "console sign-in of {username}");
    console.username = username.to_string();
    console
}

/// The count a desk card shows, when the card is there.
fn count(html: &str, key: &str) -> Option<i64> {
    crate::web::text_of(html, &format!("count-{key}")).map(|t| t.parse().unwrap())
}

/// A fresh API token (tokens expire by the application's clock).
async fn token(app: &TestApp, username: &str) -> String {
    crate::custodian::token(app, username).await
}

async fn case_view(app: &TestApp, token: &str, case: &str) -> Value {
    let r = app.get_as(&format!("/api/v1/cases/{case}"), token).await;
    assert_eq!(r.status(), 200);
    json(r).await
}

/// The number of a report, by id.
async fn number_of(app: &TestApp, report: &str) -> String {
    let report = report.to_string();
    app.db(move |conn| {
        reports::table
            .find(report)
            .select(reports::number)
            .first::<String>(conn)
            .unwrap()
    })
    .await
}

/// Accepts `report` (village level) and returns the case id.
async fn accepted(w: &World, report: &str) -> String {
    w.accept(report).await["case_id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn assign(w: &World, case: &str, to: &str) {
    let r = w
        .app
        .post_as(
            &format!("/api/v1/cases/{case}/assign"),
            &w.supervisor,
            &json!({ "assignee_id": to }),
        )
        .await;
    assert_eq!(r.status(), 200, "assign {case}");
}

async fn dispose(w: &World, case: &str, body: Value) {
    let r = w
        .app
        .post_as(
            &format!("/api/v1/cases/{case}/disposition"),
            &w.inv_a.1,
            &body,
        )
        .await;
    assert_eq!(r.status(), 200, "disposition of {case}: {body}");
}

// ---------- the desk ----------

async fn the_desk_shows_each_role_its_cards_with_the_lists_counts(backend: Backend) {
    // Monday 2026-11-30 in the county.
    let w = world(backend, true).await;
    let village = ("360734100", "360734100201");
    // inv_a's cases: one due Tuesday, one due Thursday, one due in three weeks (the real-name
    // acknowledgement); one more of team A nobody is assigned to, asking for filing.
    let mut mine = Vec::new();
    for _ in 0..3 {
        let (report, _) = w.report(village.0, village.1, "张某某").await;
        let case = accepted(&w, &report).await;
        assign(&w, &case, &w.inv_a.0).await;
        mine.push(case);
    }
    dispose(
        &w,
        &mine[0],
        json!({"disposition": "on_hold", "review_on": "2026-12-01"}),
    )
    .await;
    dispose(
        &w,
        &mine[1],
        json!({"disposition": "on_hold", "review_on": "2026-12-03"}),
    )
    .await;
    let (report, _) = w.report(village.0, village.1, "王某").await;
    let filing = accepted(&w, &report).await;
    dispose(&w, &filing, json!({"disposition": "file"})).await;
    // A request for the identity of mine[2]'s reporter, by inv_a.
    let r = w
        .app
        .post_as(
            &format!("/api/v1/cases/{}/identity-requests", mine[2]),
            &w.inv_a.1,
            &json!({"reason": "需要向举报人当面核实有关情况"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    // An objection to the result fed back on a case closed without action.
    let (report, code) = w.report(village.0, village.1, "赵某").await;
    let closed = accepted(&w, &report).await;
    dispose(
        &w,
        &closed,
        json!({"disposition": "close_without_action", "reason": "反映的问题已在年度复核中纠正"}),
    )
    .await;
    crate::objections::send_feedback(&w.app, &closed, &report, &w.inv_a.0).await;
    let reporter = w.reporter(&code).await;
    let r = w
        .app
        .post_as(
            "/api/v1/reporter/objections",
            &reporter,
            &json!({"body": "我不同意这个结果，村支书仍在优亲厚友。"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    // Two reports nobody has triaged.
    for name in ["钱某", "孙某"] {
        w.report(village.0, village.1, name).await;
    }

    // Wednesday 2026-12-02: mine[0] is overdue, mine[1] is due within 2 working days.
    w.app
        .clock
        .set(Utc.with_ymd_and_hms(2026, 12, 2, 2, 0, 0).unwrap());
    let inv_token = token(&w.app, "inv_a").await;
    let sup_token = token(&w.app, "super").await;

    // The investigator: three cards, counted as the API's queue counts them.
    let inv = console_as(&w.app, "inv_a").await;
    let desk = inv.get("/staff").await;
    let html = good("/staff", &desk);
    assert_eq!(count(html, "mine"), Some(3));
    assert_eq!(count(html, "overdue"), Some(1));
    assert_eq!(count(html, "due-soon"), Some(1));
    assert_eq!(count(html, "intake"), None);
    assert_eq!(count(html, "filing"), None);
    assert!(html.contains("href=\"/staff/cases?assignee=me\""));
    let links = html.replace("&#38;", "&");
    assert!(links.contains("href=\"/staff/cases?assignee=me&overdue=true\""));
    assert!(links.contains("href=\"/staff/cases?assignee=me&due_within_days=2\""));
    assert!(
        html.contains("截至2026年12月4日"),
        "2 working days after Wednesday"
    );
    let api_total = |page: &Value| -> i64 {
        page["counts"]
            .as_object()
            .unwrap()
            .values()
            .map(|n| n.as_i64().unwrap())
            .sum()
    };
    let all = json(w.app.get_as("/api/v1/cases?assignee=me", &inv_token).await).await;
    assert_eq!(api_total(&all), 3);
    let overdue = json(
        w.app
            .get_as("/api/v1/cases?assignee=me&overdue=true", &inv_token)
            .await,
    )
    .await;
    assert_eq!(api_total(&overdue), 1);
    assert_eq!(overdue["items"][0]["id"], mine[0].as_str());

    // The intake officer: the reports awaiting triage.
    let intake = Console::sign_in(&w.app, "c.intake", &[Role::Intake]).await;
    let html = good("/staff", &intake.get("/staff").await).to_string();
    assert_eq!(count(&html, "intake"), Some(2));
    assert!(html.contains("其中超过受理期限 0 件"));
    assert_eq!(count(&html, "mine"), None);
    assert_eq!(count(&html, "filing"), None);
    let intake_token = token(&w.app, "intake").await;
    let received = json(
        w.app
            .get_as("/api/v1/reports?status=received", &intake_token)
            .await,
    )
    .await;
    assert_eq!(received["items"].as_array().unwrap().len(), 2);

    // The supervisor: triage and the three decisions.
    let sup = console_as(&w.app, "super").await;
    let html = good("/staff", &sup.get("/staff").await).to_string();
    assert_eq!(count(&html, "intake"), Some(2));
    assert_eq!(count(&html, "filing"), Some(1));
    assert_eq!(count(&html, "identity"), Some(1));
    assert_eq!(count(&html, "objections"), Some(1));
    assert_eq!(
        count(&html, "mine"),
        None,
        "supervisors are not assigned cases"
    );
    assert!(html.contains("href=\"/staff/cases?status=filing_requested\""));
    assert!(html.contains("href=\"/staff/identity-requests\""));
    assert!(html.contains("href=\"/staff/objections\""));
    let filing_page = json(
        w.app
            .get_as("/api/v1/cases?status=filing_requested", &sup_token)
            .await,
    )
    .await;
    assert_eq!(filing_page["items"][0]["id"], filing.as_str());
    let objections = json(
        w.app
            .get_as("/api/v1/objections?status=open", &sup_token)
            .await,
    )
    .await;
    assert_eq!(objections["items"].as_array().unwrap().len(), 1);

    // Their lists link to the case page's sections where the decisions are taken.
    let page = sup.get("/staff/identity-requests").await;
    let html = good("/staff/identity-requests", &page);
    let number = case_view(&w.app, &sup_token, &mine[2]).await["number"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(html.contains(&number));
    assert!(html.contains(&format!("href=\"/staff/cases/{}#identity\"", mine[2])));
    assert!(html.contains("测试 inv_a"), "the requester, by name");
    assert!(html.contains("需要向举报人当面核实有关情况"));
    let page = sup.get("/staff/objections").await;
    let html = good("/staff/objections", &page);
    assert!(html.contains(&format!("href=\"/staff/cases/{closed}#actions\"")));
    assert!(html.contains("村支书仍在优亲厚友"));
    // A bad cursor is a Chinese 422 page, not JSON.
    let bad = sup.get("/staff/identity-requests?cursor=%25%25").await;
    assert_eq!(bad.status, 422);
    assert!(bad.content_type.starts_with("text/html"));

    // Roles nothing waits on: no cards, and the lists are not theirs.
    for (name, role) in [
        ("c.auditor", Role::Auditor),
        ("c.benefits", Role::Benefits),
        ("c.admin", Role::Admin),
    ] {
        let console = Console::sign_in(&w.app, name, &[role]).await;
        let html = good("/staff", &console.get("/staff").await).to_string();
        assert!(html.contains("id=\"nothing-waiting\""), "{role}");
        assert!(!html.contains("class=\"count\""), "{role}");
        console.get("/staff/identity-requests").await.forbidden();
        console.get("/staff/objections").await.forbidden();
    }
    for console in [&inv, &intake] {
        console.get("/staff/identity-requests").await.forbidden();
        console.get("/staff/objections").await.forbidden();
    }

    // A week on, both reports are past their triage deadline (5 working days).
    w.app
        .clock
        .set(Utc.with_ymd_and_hms(2026, 12, 8, 2, 0, 0).unwrap());
    let intake = console_as(&w.app, "c.intake").await;
    let html = good("/staff", &intake.get("/staff").await).to_string();
    assert!(html.contains("其中超过受理期限 2 件"), "{html}");
}

// ---------- the intake pages ----------

async fn intake_pages_open_for_intake_and_supervisors_only(backend: Backend) {
    let w = world(backend, true).await;
    let (first, _) = w.report("360734100", "360734100201", "张某某").await;
    let (second, _) = w.report("360734101", "360734101201", "刘某").await;
    let (first_no, second_no) = (
        number_of(&w.app, &first).await,
        number_of(&w.app, &second).await,
    );
    for (name, role) in [("c.intake", Role::Intake), ("c.super", Role::Supervisor)] {
        let console = Console::sign_in(&w.app, name, &[role]).await;
        let html = good("/staff/intake", &console.get("/staff/intake").await).to_string();
        let (a, b) = (
            html.find(&first_no).unwrap(),
            html.find(&second_no).unwrap(),
        );
        assert!(a < b, "the earliest deadline first");
        assert!(html.contains(&format!("href=\"/staff/reports/{first}\"")));
        assert!(html.contains("城北村") && html.contains("沙坝村"));
        assert!(html.contains("网上举报") && html.contains("低保"));
        assert!(html.contains("aria-current=\"page\">待受理"));
        let path = format!("/staff/reports/{first}");
        let html = good(&path, &console.get(&path).await).to_string();
        assert!(html.contains("村支书把低保名额给了自己的亲戚"));
        assert!(html.contains("张某某（村支书）"));
        assert!(html.contains("实名举报"));
        for form in ["form-accept", "form-transfer", "form-escalate"] {
            assert!(html.contains(&format!("id=\"{form}\"")), "{role}: {form}");
        }
        // Merging needs a similar open case; there is none yet (see the merge test).
        assert!(html.contains("并入已有案件") && html.contains("id=\"no-similar\""));
        assert!(html.contains("<label for=\"transfer-to\">"));
        assert!(html.contains("<label for=\"accept-level\">"));
        assert!(console
            .get("/staff/reports/no-such-report")
            .await
            .body
            .contains("找不到"));
    }
    for (name, role) in [
        ("c.inv", Role::Investigator),
        ("c.benefits", Role::Benefits),
        ("c.auditor", Role::Auditor),
        ("c.admin", Role::Admin),
    ] {
        let console = Console::sign_in(&w.app, name, &[role]).await;
        console.get("/staff/intake").await.forbidden();
        console
            .get(&format!("/staff/reports/{first}"))
            .await
            .forbidden();
        let html = console.get("/staff").await.body;
        assert!(
            !html.contains("href=\"/staff/intake\""),
            "{role}: no 待受理"
        );
        // Nor can they triage by posting the form.
        console
            .post(
                &format!("/staff/reports/{first}/triage"),
                &[("action", "accept"), ("subject_level", "village")],
            )
            .await
            .forbidden();
    }
    let still = json(
        w.app
            .get_as(&format!("/api/v1/reports/{first}"), &w.intake)
            .await,
    )
    .await;
    assert_eq!(still["status"], "received");
}

async fn the_intake_queue_pages_by_fifty_without_skipping_any(backend: Backend) {
    let w = world(backend, true).await;
    let mut numbers = Vec::new();
    for _ in 0..52 {
        let (report, _) = w.report("360734100", "360734100201", "张某某").await;
        numbers.push(number_of(&w.app, &report).await);
    }
    // One is triaged already: it is not listed.
    let (triaged, _) = w.report("360734100", "360734100201", "张某某").await;
    w.accept(&triaged).await;
    let triaged = number_of(&w.app, &triaged).await;
    let intake = Console::sign_in(&w.app, "c.intake", &[Role::Intake]).await;
    let first = intake.get("/staff/intake").await;
    let html = good("/staff/intake", &first).to_string();
    let listed = |html: &str| -> Vec<String> {
        numbers
            .iter()
            .filter(|n| html.contains(n.as_str()))
            .cloned()
            .collect()
    };
    assert_eq!(listed(&html), numbers[..50].to_vec());
    assert!(!html.contains(&triaged));
    let next = html
        .split("rel=\"next\"")
        .next()
        .unwrap()
        .rsplit("href=\"")
        .next()
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&#38;", "&");
    assert!(next.starts_with("/staff/intake?cursor="), "{next}");
    let second = intake.get(&next).await;
    let html = good(&next, &second).to_string();
    assert_eq!(listed(&html), numbers[50..].to_vec());
    assert!(html.contains("href=\"/staff/intake\">回到第一页"));
    assert!(!html.contains("rel=\"next\""));
    let bad = intake.get("/staff/intake?cursor=%2A%2A").await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("有误"), "{}", bad.body);
}

async fn accepting_from_the_form_opens_the_routed_case(backend: Backend) {
    let w = world(backend, true).await;
    // Township 晨光镇's dibao reports go to team B; everything else to team A (the default).
    w.rule(json!("dibao"), json!("360734101"), &w.team_b).await;
    let (report, _) = w.report("360734101", "360734101201", "刘某").await;
    let r = w
        .app
        .post_as(
            "/api/v1/officials",
            &w.admin,
            &json!({"name": "刘某", "post": "村支书", "level": "village",
                    "division_code": "360734101201"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let official = json(r).await["id"].as_str().unwrap().to_string();
    let intake = Console::sign_in(&w.app, "c.intake", &[Role::Intake]).await;
    let path = format!("/staff/reports/{report}");
    let html = good(&path, &intake.get(&path).await).to_string();
    // The routing rules' choice, shown before anything is written.
    let preview = html.split("id=\"routing-preview\"").nth(1).unwrap();
    let cell = preview
        .split("data-level=\"village\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap();
    assert_eq!(cell, "第二纪检监察室");
    assert!(html.contains("村干部（分给第二纪检监察室）"));
    // The officials of the village and township, to link as accused.
    assert!(html.contains(&format!(
        "name=\"accused_official_ids\" value=\"{official}\""
    )));
    assert!(html.contains("沙坝村 村支书（刘某）"));
    let cases: i64 = w
        .app
        .db(|conn| {
            probity::db::schema::cases::table
                .count()
                .get_result(conn)
                .unwrap()
        })
        .await;
    assert_eq!(cases, 0, "the preview writes nothing");

    let done = intake
        .post(
            &format!("/staff/reports/{report}/triage"),
            &[
                ("action", "accept"),
                ("subject_level", "village"),
                ("accused_official_ids", &official),
                ("note", "群众反映集中，尽快核查"),
            ],
        )
        .await;
    // An intake officer may not read cases: back to the queue, told it was accepted.
    assert_eq!(done.redirect(), "/staff/intake?done=accepted");
    let accepted = intake.get("/staff/intake?done=accepted").await;
    assert!(good("/staff/intake", &accepted).contains("举报已受理"));
    let of_report = report.clone();
    let case: String = w
        .app
        .db(move |conn| {
            probity::db::schema::reports::table
                .find(of_report)
                .select(probity::db::schema::reports::case_id)
                .first::<Option<String>>(conn)
                .unwrap()
                .expect("the report has its case")
        })
        .await;
    let view = case_view(&w.app, &w.supervisor, &case).await;
    assert_eq!(view["team_id"], w.team_b.as_str());
    assert_eq!(view["status"], "registered");
    assert_eq!(view["subject_level"], "village");
    assert_eq!(view["accused_official_ids"], json!([official]));
    assert_eq!(view["report_ids"], json!([report]));
    // Triaged: the report page shows no forms any more, and the queue no longer lists it.
    let html = good(&path, &intake.get(&path).await).to_string();
    assert!(html.contains("id=\"triaged\""));
    assert!(!html.contains("id=\"form-accept\""));
    assert!(html.contains("已受理"));
    let queue = intake.get("/staff/intake").await;
    assert!(good("/staff/intake", &queue).contains("id=\"queue-empty\""));
    // The audit log says who accepted, as for the API.
    let actor: String = w
        .app
        .db(move |conn| {
            audit_events::table
                .filter(audit_events::action.eq("report.accepted"))
                .select(audit_events::actor)
                .first(conn)
                .unwrap()
        })
        .await;
    assert!(actor.contains(&intake.user_id), "{actor}");
}

async fn refusals_come_back_in_chinese_with_the_apis_status_and_what_was_typed(backend: Backend) {
    let w = world(backend, true).await;
    let (report, _) = w.report("360734100", "360734100201", "张某某").await;
    let intake = Console::sign_in(&w.app, "c.intake", &[Role::Intake]).await;
    let triage = format!("/staff/reports/{report}/triage");

    // Art 15: a subject above the county is escalated, never accepted: 422 as in the API.
    let api = w
        .triage(
            &report,
            json!({"action": "accept", "subject_level": "above_county"}),
        )
        .await;
    assert_eq!(api.status(), 422);
    assert_eq!(json(api).await["code"], "must_escalate");
    let refused = intake
        .post(
            &triage,
            &[
                ("action", "accept"),
                ("subject_level", "above_county"),
                ("note", "涉及市管干部"),
            ],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("应当上报"), "{}", refused.body);
    assert!(refused.body.contains("must_escalate"));
    assert!(
        refused.body.contains(">涉及市管干部</textarea>"),
        "the note is kept"
    );
    assert_self_contained(&triage, &refused.body);
    assert_no_identity(&triage, &refused.body);

    // Missing fields: named beside their fields, the typed values kept, only on that form.
    let refused = intake
        .post(
            &triage,
            &[
                ("action", "transfer"),
                ("to_body", ""),
                ("reason", "属于民政部门职责"),
            ],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("有些内容填写有误"));
    let transfer = refused
        .body
        .split("id=\"form-transfer\"")
        .nth(1)
        .unwrap()
        .split("</form>")
        .next()
        .unwrap();
    assert!(transfer.contains("class=\"field-error\""), "{transfer}");
    assert!(transfer.contains(">属于民政部门职责</textarea>"));
    let escalate = refused.body.split("id=\"form-escalate\"").nth(1).unwrap();
    assert!(!escalate.contains("class=\"field-error\""));
    assert!(!escalate.contains("属于民政部门职责"));
    let refused = intake
        .post(&triage, &[("action", "accept"), ("subject_level", "")])
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused
        .body
        .split("id=\"form-accept\"")
        .nth(1)
        .unwrap()
        .contains("class=\"field-error\""));

    // Transferred through the form: the reporter is told where it went.
    let done = intake
        .post(
            &triage,
            &[
                ("action", "transfer"),
                ("to_body", "县民政局"),
                ("reason", "属于民政部门职责"),
            ],
        )
        .await;
    assert_eq!(done.redirect(), "/staff/intake?done=transferred");
    let queue = intake.get("/staff/intake?done=transferred").await;
    assert!(good("/staff/intake", &queue).contains("举报已转交有关部门办理"));
    let view = json(
        w.app
            .get_as(&format!("/api/v1/reports/{report}"), &w.intake)
            .await,
    )
    .await;
    assert_eq!(view["status"], "transferred");

    // Triaged already: 409 as in the API, in Chinese, and no form is offered again.
    let api = w
        .triage(
            &report,
            json!({"action": "escalate", "to_body": "赣州市纪委监委", "reason": "x"}),
        )
        .await;
    assert_eq!(api.status(), 409);
    let again = intake
        .post(
            &triage,
            &[
                ("action", "escalate"),
                ("to_body", "赣州市纪委监委"),
                ("reason", "涉及市管干部"),
            ],
        )
        .await;
    assert_eq!(again.status, 409);
    assert!(again.body.contains("已经处理过"), "{}", again.body);
    assert!(again.body.contains("already_triaged"));
    assert!(!again.body.contains("id=\"form-escalate\""));

    // Escalating another report works from its form.
    let (other, code) = w.report("360734100", "360734100201", "县委某领导").await;
    let done = intake
        .post(
            &format!("/staff/reports/{other}/triage"),
            &[
                ("action", "escalate"),
                ("to_body", "赣州市纪委监委"),
                ("reason", "反映市管干部问题"),
            ],
        )
        .await;
    assert_eq!(done.redirect(), "/staff/intake?done=escalated");
    let reporter = w.reporter_view(&code).await;
    assert_eq!(reporter["status"], "escalated");

    // Without the form's token nothing happens.
    let (third, _) = w.report("360734100", "360734100201", "周某").await;
    let forged = intake
        .post_raw(
            &format!("/staff/reports/{third}/triage"),
            &[("action", "accept"), ("subject_level", "village")],
        )
        .await;
    assert_eq!(forged.status, 403);
    assert!(forged.body.contains("页面已过期"));
}

async fn merge_lists_the_similar_cases_and_joins_the_chosen_one(backend: Backend) {
    let w = world(backend, true).await;
    let (first, _) = w.report("360734100", "360734100201", "张某某").await;
    let case = accepted(&w, &first).await;
    let number = case_view(&w.app, &w.supervisor, &case).await["number"]
        .as_str()
        .unwrap()
        .to_string();
    let (repeat, _) = w.report("360734100", "360734100201", "张某某").await;
    let (elsewhere, _) = w.report("360734101", "360734101201", "刘某").await;
    let sup = console_as(&w.app, "super").await;

    // The similar cases, as `GET /api/v1/reports/{id}/similar` lists them.
    let similar = json(
        w.app
            .get_as(&format!("/api/v1/reports/{repeat}/similar"), &w.intake)
            .await,
    )
    .await;
    assert_eq!(similar["items"][0]["case_id"], case.as_str());
    let path = format!("/staff/reports/{repeat}");
    let html = good(&path, &sup.get(&path).await).to_string();
    let table = html.split("id=\"similar-cases\"").nth(1).unwrap();
    assert!(table.contains(&number));
    assert!(table.contains(&format!("value=\"{case}\"")));
    assert!(table.contains("张某某"), "the shared accused name");
    let path = format!("/staff/reports/{elsewhere}");
    let html = good(&path, &sup.get(&path).await).to_string();
    assert!(html.contains("id=\"no-similar\""));
    assert!(!html.contains("id=\"similar-cases\""));
    assert!(!html.contains("id=\"form-merge\""), "no merge to offer");

    // Without a reason: refused, the chosen case still chosen.
    let triage = format!("/staff/reports/{repeat}/triage");
    let refused = sup
        .post(&triage, &[("action", "merge"), ("case_id", &case)])
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused
        .body
        .contains(&format!("value=\"{case}\" id=\"merge-case-1\" checked")));
    let done = sup
        .post(
            &triage,
            &[
                ("action", "merge"),
                ("case_id", &case),
                ("reason", "同一村支书的同一问题"),
            ],
        )
        .await;
    assert_eq!(done.redirect(), "/staff/intake?done=merged");
    let view = case_view(&w.app, &w.supervisor, &case).await;
    assert_eq!(view["report_ids"], json!([first, repeat]));
    let queue = sup.get("/staff/intake?done=merged").await;
    assert!(good("/staff/intake", &queue).contains("举报已并入所选的案件"));
}

// ---------- evidence ----------

async fn evidence_downloads_write_the_same_audit_entry_as_the_api(backend: Backend) {
    let w = world(backend, true).await;
    let photo = crate::evidence::png_sized(3000);
    let body = json!({
        "programme": "dibao",
        "misconduct": ["favouritism"],
        "township_code": "360734100",
        "village_code": "360734100201",
        "accused": [{"name": "张某某", "position": "村支书"}],
        "description": "村支书把低保名额给了自己的亲戚,评议会没有公示,群众意见很大。",
        "anonymous": false,
        "reporter": {"name": "李某", "id_number": "11010519491231002X",
                     "phone": "13800138000", "email": null, "address": null}
    });
    let form = Form::new().text("report", body.to_string()).part(
        "files",
        Part::bytes(photo.clone())
            .file_name("公示栏.png")
            .mime_str("image/png")
            .unwrap(),
    );
    let r = w
        .app
        .client
        .post(w.app.url("/api/v1/reports"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let (report, attachment): (String, String) = w
        .app
        .db(|conn| {
            probity::db::schema::attachments::table
                .select((
                    probity::db::schema::attachments::report_id,
                    probity::db::schema::attachments::id,
                ))
                .first(conn)
                .unwrap()
        })
        .await;
    let intake = Console::sign_in(&w.app, "c.intake", &[Role::Intake]).await;
    let path = format!("/staff/reports/{report}");
    let html = good(&path, &intake.get(&path).await).to_string();
    let href = format!("/staff/reports/{report}/evidence/{attachment}");
    assert!(html.contains(&format!("href=\"{href}\"")), "{html}");

    let response = intake.get_response(&href).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/png");
    let disposition = response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    let from_console = response.bytes().await.unwrap().to_vec();
    let api = w
        .app
        .get_as(&format!("/api/v1/attachments/{attachment}"), &w.intake)
        .await;
    assert_eq!(api.status(), 200);
    assert_eq!(
        api.headers()["content-disposition"].to_str().unwrap(),
        disposition
    );
    assert_eq!(api.bytes().await.unwrap().to_vec(), from_console);
    assert_eq!(from_console, photo);

    // Two entries, the same but for who downloaded.
    let entries: Vec<(String, String, String, String)> = w
        .app
        .db(|conn| {
            audit_events::table
                .filter(audit_events::action.eq("attachment.downloaded"))
                .order(audit_events::seq)
                .select((
                    audit_events::actor,
                    audit_events::entity_type,
                    audit_events::entity_id,
                    audit_events::details,
                ))
                .load(conn)
                .unwrap()
        })
        .await;
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert!(entries[0].0.contains(&intake.user_id), "{:?}", entries[0]);
    assert_eq!(entries[0].1, "report");
    assert_eq!(entries[0].2, report);
    assert_eq!(
        serde_json::from_str::<Value>(&entries[0].3).unwrap(),
        json!({"attachment": attachment})
    );
    assert_eq!(
        (&entries[0].1, &entries[0].2, &entries[0].3),
        (&entries[1].1, &entries[1].2, &entries[1].3)
    );
    assert_ne!(entries[0].0, entries[1].0);

    // Through another report's path, or for a role that may not read evidence: nothing, and
    // nothing audited.
    let (other, _) = w.report("360734100", "360734100201", "王某").await;
    let wrong = intake
        .get(&format!("/staff/reports/{other}/evidence/{attachment}"))
        .await;
    assert_eq!(wrong.status, 404);
    assert!(wrong.body.contains("找不到"));
    let benefits = Console::sign_in(&w.app, "c.benefits", &[Role::Benefits]).await;
    benefits.get(&href).await.forbidden();
    let count: i64 = w
        .app
        .db(|conn| {
            audit_events::table
                .filter(audit_events::action.eq("attachment.downloaded"))
                .count()
                .get_result(conn)
                .unwrap()
        })
        .await;
    assert_eq!(count, 2);
}
