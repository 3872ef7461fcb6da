//! The custodian workflow for reporter identity (issue 9, item 8; SPEC.md → "Reporter identity
//! (custodian)"), on both backends with a frozen clock: request, denial, approval, the
//! requester's read (and nobody else's), expiry after 24 hours, a supervisor deciding their own
//! request, the disclosure in the case view and the reporter's view, and the audit entries.
//! Also the shared set-up of the case tests (`World`, used by `assign` and `reminders`).

use chrono::{DateTime, TimeZone, Utc};
use diesel::prelude::*;
use probity::clock::Clock;
use probity::db::schema::{audit_events, reports};
use probity::db::Backend;
use probity::domain::roles::Role;
use serde_json::{json, Value};

use crate::helpers::{app, assert_problem, TestApp, TestAppBuilder, PASSWORD};

pub fn tests() -> Vec<(&'static str, crate::helpers::AsyncTest)> {
    crate::tests![the_custodian_workflow_from_request_to_expiry]
}

pub const PLACES: &[crate::helpers::DivisionRow] = &[
    ("360734", "寻乌县", "county", None),
    ("360734100", "长宁镇", "township", Some("360734")),
    ("360734101", "晨光镇", "township", Some("360734")),
    ("360734100201", "城北村", "village", Some("360734100")),
    ("360734101201", "沙坝村", "village", Some("360734101")),
];

/// Monday 2026-11-30, 10:00 in the county.
pub fn monday() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 2, 0, 0).unwrap()
}

pub async fn json_of(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

/// A report as the public submits it: real-name unless `anonymous`.
pub fn report_body(anonymous: bool) -> Value {
    let mut body = json!({
        "programme": "dibao",
        "misconduct": ["favouritism"],
        "township_code": "360734100",
        "village_code": "360734100201",
        "accused": [{"name": "张某某", "position": "村支书"}],
        "description": "村支书把低保名额给了自己的亲戚,评议会没有公示,群众意见很大。",
        "occurred_from": "2026-03-01",
        "occurred_to": "2026-05-31",
        "anonymous": anonymous,
        "reporter": {"name": "李某", "id_number": "11010519491231002X", "phone": "13800138000",
                     "email": "li@example.test", "address": "城北村三组"}
    });
    if anonymous {
        body.as_object_mut().unwrap().remove("reporter");
    }
    body
}

/// A team with a default routing rule, a supervisor and an intake officer.
pub struct World {
    pub app: TestApp,
    pub admin: String,
    pub team_id: String,
    /// (id, token)
    pub supervisor: (String, String),
}

impl World {
    /// Starts `builder` with the places, an administrator, team "第一纪检监察室" with the default
    /// rule, and a supervisor `sup` (member of the team, email sup@probity.test).
    pub async fn start(builder: TestAppBuilder) -> World {
        let app = builder.spawn().await;
        World::on(app).await
    }

    pub async fn on(app: TestApp) -> World {
        app.insert_divisions(PLACES).await;
        let (_, admin, _) = app.signed_in("admin", &[Role::Admin]).await;
        let response = app
            .post_as("/api/v1/teams", &admin, &json!({"name": "第一纪检监察室"}))
            .await;
        assert_eq!(response.status(), 201);
        let team_id = json_of(response).await["id"].as_str().unwrap().to_string();
        let rule = json!({"programme": null, "township_code": null, "subject_level": null,
                          "team_id": team_id});
        let response = app.post_as("/api/v1/routing-rules", &admin, &rule).await;
        assert_eq!(response.status(), 201);
        let sup = app
            .create_staff("sup", &[Role::Supervisor], Some("sup@probity.test"))
            .await;
        let sup_token = token(&app, "sup").await;
        let world = World {
            app,
            admin,
            team_id,
            supervisor: (sup.clone(), sup_token),
        };
        world.set_members(&[&sup]).await;
        world
    }

    /// Replaces the team's members.
    pub async fn set_members(&self, ids: &[&str]) {
        let response = self
            .app
            .client
            .put(
                self.app
                    .url(&format!("/api/v1/teams/{}/members", self.team_id)),
            )
            .bearer_auth(&self.admin)
            .json(&json!({ "user_ids": ids }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "members");
    }

    /// Submits a report; returns (report id, receipt code).
    pub async fn submit(&self, anonymous: bool) -> (String, String) {
        let response = self
            .app
            .client
            .post(self.app.url("/api/v1/reports"))
            .json(&report_body(anonymous))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "submission");
        let receipt = json_of(response).await;
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

    /// Accepts report `report_id` (as the supervisor): the new case's id.
    pub async fn accept(&self, report_id: &str) -> String {
        let response = self
            .app
            .post_as(
                &format!("/api/v1/reports/{report_id}/triage"),
                &self.supervisor.1,
                &json!({"action": "accept", "subject_level": "village"}),
            )
            .await;
        assert_eq!(response.status(), 201, "accept");
        json_of(response).await["case_id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Merges report `report_id` into case `case_id`.
    pub async fn merge(&self, report_id: &str, case_id: &str) {
        let response = self
            .app
            .post_as(
                &format!("/api/v1/reports/{report_id}/triage"),
                &self.supervisor.1,
                &json!({"action": "merge", "case_id": case_id, "reason": "同一事项"}),
            )
            .await;
        assert_eq!(response.status(), 200, "merge");
    }
}

/// A fresh access token of `username` (tokens expire by the application's clock).
pub async fn token(app: &TestApp, username: &str) -> String {
    let response = app.login(username, PASSWORD).await;
    assert_eq!(response.status(), 200, "login of {username}");
    json_of(response).await["access_token"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The audit entries recorded so far: (action, entity id, details).
pub async fn audit_entries(app: &TestApp) -> Vec<(String, String, String)> {
    app.db(|conn| {
        audit_events::table
            .order(audit_events::seq)
            .select((
                audit_events::action,
                audit_events::entity_id,
                audit_events::details,
            ))
            .load(conn)
            .unwrap()
    })
    .await
}

async fn ask(app: &TestApp, token: &str, case_id: &str, reason: Value) -> reqwest::Response {
    app.post_as(
        &format!("/api/v1/cases/{case_id}/identity-requests"),
        token,
        &json!({ "reason": reason }),
    )
    .await
}

async fn decide(app: &TestApp, token: &str, request_id: &str, approve: bool) -> reqwest::Response {
    app.post_as(
        &format!("/api/v1/identity-requests/{request_id}/decision"),
        token,
        &json!({"approve": approve, "reason": "核查需要"}),
    )
    .await
}

async fn read(app: &TestApp, token: &str, case_id: &str) -> reqwest::Response {
    app.get_as(&format!("/api/v1/cases/{case_id}/reporter-identity"), token)
        .await
}

async fn the_custodian_workflow_from_request_to_expiry(backend: Backend) {
    let clock = Clock::frozen(monday());
    let world = World::start(app(backend).clock(clock.clone())).await;
    let app = &world.app;
    let inv = app.create_staff("inv", &[Role::Investigator], None).await;
    let inv2 = app.create_staff("inv2", &[Role::Investigator], None).await;
    let sup2 = app.create_staff("sup2", &[Role::Supervisor], None).await;
    app.create_staff("outsider", &[Role::Investigator], None)
        .await;
    world
        .set_members(&[&world.supervisor.0, &inv, &inv2, &sup2])
        .await;
    let (inv_t, inv2_t, sup2_t, out_t) = (
        token(app, "inv").await,
        token(app, "inv2").await,
        token(app, "sup2").await,
        token(app, "outsider").await,
    );
    let sup_t = world.supervisor.1.clone();

    let (real, code) = world.submit(false).await;
    let (anon, _) = world.submit(true).await;
    let case_id = world.accept(&real).await;
    world.merge(&anon, &case_id).await;

    // Nobody reads without an approved request of their own.
    assert_problem(
        read(app, &inv_t, &case_id).await,
        403,
        "identity_access_required",
    )
    .await;
    assert_problem(
        read(app, &sup_t, &case_id).await,
        403,
        "identity_access_required",
    )
    .await;
    // Only staff who see the case may ask, and with a reason.
    assert_problem(
        ask(app, &out_t, &case_id, json!("需要")).await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        ask(app, &inv_t, &case_id, json!("  ")).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(
        ask(app, &inv_t, "no-such-case", json!("需要"))
            .await
            .status(),
        404
    );

    // A request, denied.
    let first = ask(app, &inv_t, &case_id, json!("需要联系举报人核实细节")).await;
    assert_eq!(first.status(), 201);
    let first = json_of(first).await;
    assert_eq!(first["status"], "pending");
    assert_eq!(first["requester_id"], inv.as_str());
    let first_id = first["id"].as_str().unwrap().to_string();
    // Investigators do not decide.
    assert_problem(
        decide(app, &inv2_t, &first_id, true).await,
        403,
        "forbidden",
    )
    .await;
    let denied = decide(app, &sup2_t, &first_id, false).await;
    assert_eq!(denied.status(), 200);
    let denied = json_of(denied).await;
    assert_eq!(denied["status"], "denied");
    assert_eq!(denied["decided_by"], sup2.as_str());
    assert!(denied["expires_at"].is_null());
    assert_problem(
        decide(app, &sup_t, &first_id, true).await,
        409,
        "already_decided",
    )
    .await;
    assert_problem(
        read(app, &inv_t, &case_id).await,
        403,
        "identity_access_required",
    )
    .await;

    // A supervisor's own request is decided by another supervisor, never by themselves.
    let own = json_of(ask(app, &sup_t, &case_id, json!("督办需要")).await).await;
    let own_id = own["id"].as_str().unwrap();
    assert_problem(decide(app, &sup_t, own_id, true).await, 403, "own_request").await;

    // A second request, approved: the requester alone reads, for 24 hours.
    let second = json_of(ask(app, &inv_t, &case_id, json!("需要当面核实")).await).await;
    let second_id = second["id"].as_str().unwrap().to_string();
    let approved = json_of(decide(app, &sup_t, &second_id, true).await).await;
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["expires_at"], "2026-12-01T02:00:00Z");

    let identity = read(app, &inv_t, &case_id).await;
    assert_eq!(identity.status(), 200);
    let identity = json_of(identity).await;
    let reports_read = identity["reports"].as_array().unwrap();
    assert_eq!(
        reports_read.len(),
        1,
        "the anonymous report has nothing to reveal"
    );
    assert_eq!(reports_read[0]["report_id"], real.as_str());
    assert_eq!(reports_read[0]["name"], "李某");
    assert_eq!(reports_read[0]["id_number"], "11010519491231002X");
    assert_eq!(reports_read[0]["phone"], "13800138000");
    assert_eq!(reports_read[0]["email"], "li@example.test");
    assert_eq!(reports_read[0]["address"], "城北村三组");
    for other in [&inv2_t, &sup2_t, &sup_t, &out_t] {
        assert_problem(
            read(app, other, &case_id).await,
            403,
            "identity_access_required",
        )
        .await;
    }

    // The staff case view says to whom; the reporter's view says when, naming nobody.
    let case = json_of(
        app.get_as(&format!("/api/v1/cases/{case_id}"), &sup_t)
            .await,
    )
    .await;
    let disclosures = case["identity_disclosures"].as_array().unwrap();
    assert_eq!(disclosures.len(), 1);
    assert_eq!(disclosures[0]["report_id"], real.as_str());
    assert_eq!(disclosures[0]["to_user_id"], inv.as_str());
    assert_eq!(disclosures[0]["at"], "2026-11-30T02:00:00Z");
    let session = app
        .client
        .post(app.url("/api/v1/reporter/session"))
        .json(&json!({ "receipt_code": code }))
        .send()
        .await
        .unwrap();
    assert_eq!(session.status(), 200);
    let reporter = json_of(session).await["token"]
        .as_str()
        .unwrap()
        .to_string();
    let view = app.get_as("/api/v1/reporter/report", &reporter).await;
    let text = view.text().await.unwrap();
    let view: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(view["identity_disclosed_at"], "2026-11-30T02:00:00Z");
    assert_eq!(
        view["identity_disclosure_zh"],
        "办理人员已查阅您的身份信息（2026年11月30日 10:00）"
    );
    assert!(!text.contains(&inv) && !text.contains("测试 inv"));

    // 23 hours later the requester still reads; at 24 hours the access has expired.
    clock.advance(chrono::Duration::hours(23));
    let inv_t = token(app, "inv").await;
    assert_eq!(read(app, &inv_t, &case_id).await.status(), 200);
    clock.advance(chrono::Duration::hours(1));
    let inv_t = token(app, "inv").await;
    assert_problem(
        read(app, &inv_t, &case_id).await,
        403,
        "identity_access_required",
    )
    .await;

    // Every request, decision and read is audited, never with the identity.
    let entries = audit_entries(app).await;
    let count = |action: &str| entries.iter().filter(|e| e.0 == action).count();
    assert_eq!(count("identity.requested"), 3);
    assert_eq!(count("identity.denied"), 1);
    assert_eq!(count("identity.approved"), 1);
    assert_eq!(count("identity.read"), 2);
    for (_, _, details) in &entries {
        for secret in [
            "李某",
            "11010519491231002X",
            "13800138000",
            "li@example.test",
            "城北村三组",
        ] {
            assert!(!details.contains(secret), "audit details hold {secret}");
        }
    }
}
