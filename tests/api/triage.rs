//! Triage (issue 9, item 3): accept (routed by the rules, Art 15 refusal, no default rule),
//! transfer, escalate and merge, each with the reporter's view; already triaged, also under
//! concurrency. Frozen clock, both backends.

use chrono::{TimeZone, Utc};
use diesel::prelude::*;
use probity::clock::Clock;
use probity::db::schema::{audit_events, cases, reports};
use probity::db::Backend;
use probity::domain::roles::Role;
use serde_json::{json, Value};

use crate::helpers::{app, assert_problem, TestApp};

pub fn tests() -> Vec<(&'static str, crate::helpers::AsyncTest)> {
    crate::tests![
        each_triage_action_and_what_the_reporter_sees,
        art_15_subjects_are_refused_and_can_only_be_escalated,
        accept_without_a_default_rule_names_the_missing_rule,
        a_specific_rule_beats_the_default_end_to_end,
        a_report_is_triaged_once_even_by_two_at_the_same_time,
        bad_triage_bodies_name_their_fields,
    ]
}

const PLACES: &[crate::helpers::DivisionRow] = &[
    ("360734", "寻乌县", "county", None),
    ("360734100", "长宁镇", "township", Some("360734")),
    ("360734101", "晨光镇", "township", Some("360734")),
    ("360734100201", "城北村", "village", Some("360734100")),
    ("360734101201", "沙坝村", "village", Some("360734101")),
];

/// Everyone a case test needs: two teams with an investigator each, a default rule to team A.
pub struct World {
    pub app: TestApp,
    pub admin: String,
    pub intake: String,
    pub supervisor: String,
    pub auditor: String,
    /// (user id, token) of team A's and team B's investigators.
    pub inv_a: (String, String),
    pub inv_b: (String, String),
    pub team_a: String,
    pub team_b: String,
}

/// 2026-11-30 10:00 in the county (a Monday).
pub fn monday() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 2, 0, 0).unwrap()
}

pub async fn json(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

pub async fn world(backend: Backend, default_rule: bool) -> World {
    world_on(app(backend), default_rule).await
}

/// As [`world`], over an app builder with settings of the test's own.
pub async fn world_on(builder: crate::helpers::TestAppBuilder, default_rule: bool) -> World {
    let app = builder
        .clock(Clock::frozen(monday()))
        .set("reports.submit_per_source_per_hour", 1000)
        .spawn()
        .await;
    app.insert_divisions(PLACES).await;
    let (_, admin, _) = app.signed_in("admin", &[Role::Admin]).await;
    let (_, intake, _) = app.signed_in("intake", &[Role::Intake]).await;
    let (_, supervisor, _) = app.signed_in("super", &[Role::Supervisor]).await;
    let (_, auditor, _) = app.signed_in("auditor", &[Role::Auditor]).await;
    let (a_id, a_token, _) = app.signed_in("inv_a", &[Role::Investigator]).await;
    let (b_id, b_token, _) = app.signed_in("inv_b", &[Role::Investigator]).await;
    let mut teams = Vec::new();
    for (name, member) in [("第一纪检监察室", &a_id), ("第二纪检监察室", &b_id)] {
        let r = app
            .post_as("/api/v1/teams", &admin, &json!({ "name": name }))
            .await;
        assert_eq!(r.status(), 201);
        let id = json(r).await["id"].as_str().unwrap().to_string();
        let r = app
            .client
            .put(app.url(&format!("/api/v1/teams/{id}/members")))
            .bearer_auth(&admin)
            .json(&json!({ "user_ids": [member] }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "members of {name}");
        teams.push(id);
    }
    let world = World {
        app,
        admin,
        intake,
        supervisor,
        auditor,
        inv_a: (a_id, a_token),
        inv_b: (b_id, b_token),
        team_b: teams.pop().unwrap(),
        team_a: teams.pop().unwrap(),
    };
    if default_rule {
        world.rule(json!(null), json!(null), &world.team_a).await;
    }
    world
}

impl World {
    pub async fn rule(&self, programme: Value, township: Value, team: &str) {
        let r = self
            .app
            .post_as(
                "/api/v1/routing-rules",
                &self.admin,
                &json!({ "programme": programme, "township_code": township,
                         "subject_level": null, "team_id": team }),
            )
            .await;
        assert_eq!(r.status(), 201);
    }

    /// Submits a real-name report (in `village` of `township`, naming `accused`) and returns
    /// (report id, receipt code).
    pub async fn report(&self, township: &str, village: &str, accused: &str) -> (String, String) {
        let body = json!({
            "programme": "dibao",
            "misconduct": ["favouritism"],
            "township_code": township,
            "village_code": village,
            "accused": [{"name": accused, "position": "村支书"}],
            "description": "村支书把低保名额给了自己的亲戚,评议会没有公示,群众意见很大。",
            "anonymous": false,
            "reporter": {"name": "李某", "id_number": "11010519491231002X",
                         "phone": "13800138000", "email": null, "address": null}
        });
        let r = self
            .app
            .client
            .post(self.app.url("/api/v1/reports"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let receipt = json(r).await;
        let number = receipt["report_number"].as_str().unwrap().to_string();
        let id = self
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

    pub async fn triage(&self, report: &str, body: Value) -> reqwest::Response {
        self.app
            .post_as(
                &format!("/api/v1/reports/{report}/triage"),
                &self.intake,
                &body,
            )
            .await
    }

    /// Accepts `report` as a village-level matter; returns the 201 body.
    pub async fn accept(&self, report: &str) -> Value {
        let r = self
            .triage(
                report,
                json!({"action": "accept", "subject_level": "village"}),
            )
            .await;
        assert_eq!(r.status(), 201);
        json(r).await
    }

    /// A reporter session token for `code`.
    pub async fn reporter(&self, code: &str) -> String {
        let r = self
            .app
            .client
            .post(self.app.url("/api/v1/reporter/session"))
            .json(&json!({ "receipt_code": code }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        json(r).await["token"].as_str().unwrap().to_string()
    }

    pub async fn reporter_view(&self, code: &str) -> Value {
        let token = self.reporter(code).await;
        json(self.app.get_as("/api/v1/reporter/report", &token).await).await
    }
}

async fn actions(app: &TestApp) -> Vec<String> {
    app.db(|conn| {
        audit_events::table
            .order(audit_events::seq)
            .select(audit_events::action)
            .load(conn)
            .unwrap()
    })
    .await
}

async fn each_triage_action_and_what_the_reporter_sees(backend: Backend) {
    let w = world(backend, true).await;
    let (accepted, code1) = w.report("360734100", "360734100201", "张某某").await;
    let (transferred, code2) = w.report("360734100", "360734100201", "王某").await;
    let (escalated, code3) = w.report("360734100", "360734100201", "赵某").await;
    let (merged, code4) = w.report("360734100", "360734100201", "张某某").await;

    let case = w.accept(&accepted).await;
    assert_eq!(case["report_id"], accepted.as_str());
    assert_eq!(case["case_number"], "AJ-2026-000001");
    assert_eq!(case["team_id"], w.team_a.as_str());
    assert_eq!(case["assignee_id"], Value::Null);
    let case_id = case["case_id"].as_str().unwrap().to_string();
    let view = w.reporter_view(&code1).await;
    assert_eq!(view["status"], "accepted");
    assert_eq!(view["status_zh"], "已受理，正在办理");

    let r = w
        .triage(
            &transferred,
            json!({"action": "transfer", "to_body": "县民政局", "reason": "属民政部门职责"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let body = json(r).await;
    assert_eq!(body["status"], "transferred");
    assert_eq!(body["report_id"], transferred.as_str());
    assert_eq!(
        w.reporter_view(&code2).await["status_zh"],
        "已转交县民政局办理"
    );

    let r = w
        .triage(
            &escalated,
            json!({"action": "escalate", "to_body": "赣州市纪委", "reason": "市管干部"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(json(r).await["status"], "escalated");
    assert_eq!(
        w.reporter_view(&code3).await["status_zh"],
        "已上报赣州市纪委办理"
    );

    // The similar cases for the repeat report: the open case naming the same person.
    let similar = json(
        w.app
            .get_as(&format!("/api/v1/reports/{merged}/similar"), &w.intake)
            .await,
    )
    .await;
    assert_eq!(similar["items"][0]["case_id"], case_id.as_str());
    assert_eq!(similar["items"][0]["overlapping_names"], json!(["张某某"]));

    let r = w
        .triage(
            &merged,
            json!({"action": "merge", "case_id": case_id, "reason": "同一事项"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let body = json(r).await;
    assert_eq!(body["status"], "merged");
    assert_eq!(body["case_id"], case_id.as_str());
    let merged_token = w.reporter(&code4).await;
    let view = json(w.app.get_as("/api/v1/reporter/report", &merged_token).await).await;
    assert_eq!(view["status_zh"], "已并入正在办理的案件一并处理");
    // The merged report's reporter can still follow up; the case shows both reports and the
    // reply, and no second case was opened.
    let r = w
        .app
        .post_as(
            "/api/v1/reporter/messages",
            &merged_token,
            &json!({"body": "补充：公示栏没有张贴名单。"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let case = json(
        w.app
            .get_as(&format!("/api/v1/cases/{case_id}"), &w.supervisor)
            .await,
    )
    .await;
    assert_eq!(case["report_ids"], json!([accepted, merged]));
    assert_eq!(case["messages"][0]["report_id"], merged.as_str());
    assert_eq!(case["messages"][0]["from"], "reporter");
    assert_eq!(case["status"], "registered");
    let text = case.to_string();
    assert!(!text.contains("李某") && !text.contains("13800138000"));
    let n: i64 = w
        .app
        .db(|conn| cases::table.count().get_result(conn).unwrap())
        .await;
    assert_eq!(n, 1);

    let done = actions(&w.app).await;
    for a in [
        "report.accepted",
        "case.created",
        "report.transferred",
        "report.escalated",
        "report.merged",
        "case.report_merged",
    ] {
        assert!(done.iter().any(|d| d == a), "{a} audited in {done:?}");
    }
}

async fn art_15_subjects_are_refused_and_can_only_be_escalated(backend: Backend) {
    let w = world(backend, true).await;
    let (report, code) = w.report("360734100", "360734100201", "某县委书记").await;
    for level in ["above_county", "commission_head"] {
        let r = w
            .triage(&report, json!({"action": "accept", "subject_level": level}))
            .await;
        assert_problem(r, 422, "must_escalate").await;
    }
    assert_eq!(w.reporter_view(&code).await["status"], "received");
    let r = w
        .triage(
            &report,
            json!({"action": "escalate", "to_body": "赣州市纪委", "reason": "Art 15"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let queue = json(w.app.get_as("/api/v1/cases", &w.supervisor).await).await;
    assert_eq!(queue["items"], json!([]), "never in the county queue");
}

async fn accept_without_a_default_rule_names_the_missing_rule(backend: Backend) {
    let w = world(backend, false).await;
    let (report, _) = w.report("360734100", "360734100201", "张某").await;
    let r = w
        .triage(
            &report,
            json!({"action": "accept", "subject_level": "village"}),
        )
        .await;
    let problem = assert_problem(r, 422, "no_default_rule").await;
    assert!(problem["detail"].as_str().unwrap().contains("default"));
    // Nothing was written: the report can still be accepted once the rule exists.
    w.rule(json!(null), json!(null), &w.team_b).await;
    assert_eq!(w.accept(&report).await["team_id"], w.team_b.as_str());
}

async fn a_specific_rule_beats_the_default_end_to_end(backend: Backend) {
    let w = world(backend, true).await;
    w.rule(json!(null), json!("360734101"), &w.team_b).await;
    let (in_b, _) = w.report("360734101", "360734101201", "甲").await;
    let (elsewhere, _) = w.report("360734100", "360734100201", "乙").await;
    assert_eq!(w.accept(&in_b).await["team_id"], w.team_b.as_str());
    assert_eq!(w.accept(&elsewhere).await["team_id"], w.team_a.as_str());
}

async fn a_report_is_triaged_once_even_by_two_at_the_same_time(backend: Backend) {
    let w = world(backend, true).await;
    let (report, _) = w.report("360734100", "360734100201", "张某").await;
    w.accept(&report).await;
    let again = w
        .triage(
            &report,
            json!({"action": "transfer", "to_body": "县民政局", "reason": "再次"}),
        )
        .await;
    assert_problem(again, 409, "already_triaged").await;

    let (raced, _) = w.report("360734100", "360734100201", "李某某").await;
    let body = json!({"action": "accept", "subject_level": "village"});
    let (a, b) = tokio::join!(w.triage(&raced, body.clone()), w.triage(&raced, body));
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [201, 409]);
    let n: i64 = w
        .app
        .db(|conn| cases::table.count().get_result(conn).unwrap())
        .await;
    assert_eq!(n, 2, "one case per accepted report");

    let r = w
        .triage(
            "no-such-report",
            json!({"action": "accept", "subject_level": "village"}),
        )
        .await;
    assert_problem(r, 404, "not_found").await;
    // An investigator may not triage.
    let r = w
        .app
        .post_as(
            &format!("/api/v1/reports/{raced}/triage"),
            &w.inv_a.1,
            &json!({"action": "escalate", "to_body": "x", "reason": "y"}),
        )
        .await;
    assert_problem(r, 403, "forbidden").await;
}

async fn bad_triage_bodies_name_their_fields(backend: Backend) {
    let w = world(backend, true).await;
    let (report, _) = w.report("360734100", "360734100201", "张某").await;
    let fields = |p: Value| {
        p["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let p = assert_problem(
        w.triage(&report, json!({"action": "transfer"})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(fields(p), ["to_body", "reason"]);
    // The body's name is one line: the reporter reads it as 已转交…办理.
    for to_body in ["县\r\n民政局", "县民政局\n二科", "县\t民政局"] {
        let p = assert_problem(
            w.triage(
                &report,
                json!({"action": "transfer", "to_body": to_body, "reason": "x"}),
            )
            .await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(fields(p.clone()), ["to_body"], "{to_body:?}");
        assert_eq!(p["errors"][0]["code"], "invalid_characters");
    }
    let p = assert_problem(
        w.triage(&report, json!({"action": "merge", "reason": "x"}))
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(fields(p), ["case_id"]);
    let p = assert_problem(
        w.triage(
            &report,
            json!({"action": "accept", "subject_level": "province"}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(fields(p), ["subject_level"]);
    let p = assert_problem(
        w.triage(&report, json!({"action": "discard"})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(fields(p), ["action"]);
    let r = w
        .triage(
            &report,
            json!({"action": "merge", "case_id": "nope", "reason": "x"}),
        )
        .await;
    assert_problem(r, 404, "not_found").await;
}
