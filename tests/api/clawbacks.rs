//! Signer-based clawback (issue 11; SPEC.md rule 3 and "Clawbacks") on both backends, with the
//! clock frozen on Monday 2026-11-30: a clawback with three signers at three stages; bad bodies
//! named field by field; partial recoveries moving the status; over-recovery refused; 20
//! parallel recoveries; idempotent replay by reference; no endpoint (nor the database) changes a
//! signer; write-off keeping the liability visible; corrections keeping the original; CSV bytes
//! (BOM, Chinese, neutralised formula cells); overdue clawbacks in the queue and the reminders;
//! responsibility totals against an independent computation over a few hundred random
//! clawbacks and recoveries.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate};
use diesel::prelude::*;
use probity::db::schema::{audit_events, clawback_signers, clawbacks, jobs, recoveries};
use probity::db::Backend;
use probity::domain::roles::Role;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use crate::helpers::assert_problem;
use crate::triage::{json, world, World};

pub fn tests() -> Vec<(&'static str, crate::helpers::AsyncTest)> {
    crate::tests![
        a_clawback_with_three_signers_at_three_stages,
        only_a_filed_case_takes_a_clawback_and_only_its_workers_record_one,
        bad_clawback_bodies_name_their_fields,
        partial_recoveries_move_the_status_and_over_recovery_is_refused,
        a_replay_by_reference_records_nothing,
        parallel_recoveries_never_exceed_the_amount_due,
        no_endpoint_removes_or_changes_a_signer,
        a_write_off_keeps_the_liability_visible,
        corrections_keep_the_original_visible,
        csv_holds_the_bom_chinese_and_neutralised_cells,
        the_list_filters_and_pages,
        overdue_clawbacks_reach_the_queue_and_the_reminders,
        responsibility_agrees_with_an_independent_computation,
    ]
}

/// The world of `triage::world`, with officials at each level and a filed case.
struct Claw {
    w: World,
    /// 张某明 (村支书), 李某强 (村委会主任) of 城北村, 王某林 (乡镇长) of 长宁镇, 陈某国
    /// (县民政局局长) of 寻乌县.
    village: String,
    village2: String,
    township: String,
    county: String,
    case: String,
    case_number: String,
}

async fn official(w: &World, name: &str, post: &str, level: &str, division: &str) -> String {
    let r = w
        .app
        .post_as(
            "/api/v1/officials",
            &w.admin,
            &json!({"name": name, "post": post, "level": level, "division_code": division}),
        )
        .await;
    assert_eq!(r.status(), 201, "official {name}");
    json(r).await["id"].as_str().unwrap().to_string()
}

/// A case of `w` taken to `filed`: a report accepted, disposed `file`, filing approved.
async fn filed_case(w: &World) -> (String, String) {
    let (report, _) = w.report("360734100", "360734100201", "张某明").await;
    let accepted = w.accept(&report).await;
    let case = accepted["case_id"].as_str().unwrap().to_string();
    let r = w
        .app
        .post_as(
            &format!("/api/v1/cases/{case}/disposition"),
            &w.inv_a.1,
            &json!({"disposition": "file"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let r = w
        .app
        .post_as(
            &format!("/api/v1/cases/{case}/filing-decision"),
            &w.supervisor,
            &json!({"approve": true}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let view = json(r).await;
    assert_eq!(view["status"], "filed");
    (case, view["number"].as_str().unwrap().to_string())
}

async fn claw(backend: Backend) -> Claw {
    let w = world(backend, true).await;
    let village = official(&w, "张某明", "村支书", "village", "360734100201").await;
    let village2 = official(&w, "李某强", "村委会主任", "village", "360734100201").await;
    let township = official(&w, "王某林", "乡镇长", "township", "360734100").await;
    let county = official(&w, "陈某国", "县民政局局长", "county", "360734").await;
    let (case, case_number) = filed_case(&w).await;
    Claw {
        w,
        village,
        village2,
        township,
        county,
        case,
        case_number,
    }
}

impl Claw {
    /// A valid body: 王某 of 城北村, ¥3,600.00 of house renovation, due 2027-03-31, signed at
    /// the three stages.
    fn body(&self) -> Value {
        json!({
            "beneficiary": {"name": "王某", "id_number": "11010519491231002X",
                            "village_code": "360734100201"},
            "programme": "house_renovation",
            "grant_period_from": "2025-01-01", "grant_period_to": "2025-12-31",
            "amount_due_fen": 360000,
            "due_on": "2027-03-31",
            "signers": [
                {"official_id": self.village, "stage": "village_deliberation", "signed_on": "2025-03-02"},
                {"official_id": self.township, "stage": "township_review", "signed_on": "2025-03-10"},
                {"official_id": self.county, "stage": "county_approval", "signed_on": "2025-03-20"}
            ]
        })
    }

    async fn post(&self, token: &str, body: &Value) -> reqwest::Response {
        self.w
            .app
            .post_as(
                &format!("/api/v1/cases/{}/clawbacks", self.case),
                token,
                body,
            )
            .await
    }

    /// Records a clawback of `amount` fen due on `due_on`; returns its view.
    async fn clawback(&self, amount: i64, due_on: &str) -> Value {
        let mut body = self.body();
        body["amount_due_fen"] = json!(amount);
        body["due_on"] = json!(due_on);
        let r = self.post(&self.w.inv_a.1, &body).await;
        assert_eq!(r.status(), 201);
        json(r).await
    }

    async fn recover(
        &self,
        token: &str,
        id: &str,
        amount: Value,
        reference: &str,
    ) -> reqwest::Response {
        self.w
            .app
            .post_as(
                &format!("/api/v1/clawbacks/{id}/recoveries"),
                token,
                &json!({"amount_fen": amount, "paid_on": "2026-11-30",
                        "payer": {"kind": "beneficiary"}, "reference": reference}),
            )
            .await
    }

    async fn get(&self, token: &str, id: &str) -> Value {
        let r = self
            .w
            .app
            .get_as(&format!("/api/v1/clawbacks/{id}"), token)
            .await;
        assert_eq!(r.status(), 200);
        json(r).await
    }

    async fn responsibility(&self, official: &str) -> Value {
        let r = self
            .w
            .app
            .get_as(
                &format!("/api/v1/officials/{official}/responsibility"),
                &self.w.auditor,
            )
            .await;
        assert_eq!(r.status(), 200);
        json(r).await
    }
}

impl Claw {
    /// Signs the world's staff in again: after the frozen clock moves by days, their access
    /// tokens (15 minutes) have expired.
    async fn sign_in_again(&mut self) {
        async fn token(app: &crate::helpers::TestApp, user: &str) -> String {
            let r = app.login(user, crate::helpers::PASSWORD).await;
            assert_eq!(r.status(), 200, "login of {user}");
            json(r).await["access_token"].as_str().unwrap().to_string()
        }
        self.w.supervisor = token(&self.w.app, "super").await;
        self.w.auditor = token(&self.w.app, "auditor").await;
        self.w.inv_a.1 = token(&self.w.app, "inv_a").await;
    }
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

async fn a_clawback_with_three_signers_at_three_stages(backend: Backend) {
    let c = claw(backend).await;
    // The county official has an address; the others have none.
    let r =
        c.w.app
            .client
            .patch(c.w.app.url(&format!("/api/v1/officials/{}", c.county)))
            .bearer_auth(&c.w.admin)
            .json(&json!({"email": "chen@minzheng.example"}))
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(json(r).await["email"], "chen@minzheng.example");
    let case = c.case.clone();
    assert!(
        !c.w.app
            .db(move |conn| probity::clawbacks::recorded_for_case(conn, &case).unwrap())
            .await
    );

    let r = c.post(&c.w.inv_a.1, &c.body()).await;
    assert_eq!(r.status(), 201);
    let v = json(r).await;
    assert_eq!(v["status"], "open");
    assert_eq!(v["case_id"], c.case.as_str());
    assert_eq!(v["case_number"], c.case_number.as_str());
    assert_eq!(v["programme"], "house_renovation");
    for (field, fen) in [
        ("amount_due_fen", 360000),
        ("recovered_fen", 0),
        ("written_off_fen", 0),
        ("outstanding_fen", 360000),
    ] {
        assert_eq!(v[field], fen, "{field}");
    }
    assert_eq!(v["beneficiary"]["name"], "王某");
    assert_eq!(v["beneficiary"]["id_number_masked"], "1101**********002X");
    assert_eq!(v["beneficiary"]["township_code"], "360734100");
    assert_eq!(v["due_on"], "2027-03-31");
    assert_eq!(v["overdue"], false);
    assert_eq!(v["recoveries"], json!([]));
    assert_eq!(v["amendments"], json!([]));
    assert_eq!(v["write_off"], Value::Null);
    let signers = v["signers"].as_array().unwrap();
    let stages: Vec<(&str, &str, &str, &str)> = signers
        .iter()
        .map(|s| {
            (
                s["official_id"].as_str().unwrap(),
                s["stage"].as_str().unwrap(),
                s["level"].as_str().unwrap(),
                s["signed_on"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        stages,
        [
            (
                c.village.as_str(),
                "village_deliberation",
                "village",
                "2025-03-02"
            ),
            (
                c.township.as_str(),
                "township_review",
                "township",
                "2025-03-10"
            ),
            (c.county.as_str(), "county_approval", "county", "2025-03-20"),
        ]
    );
    assert_eq!(signers[0]["stage_zh"], "村评议");
    assert_eq!(signers[2]["name"], "陈某国");
    let claw_id = id(&v);
    assert_eq!(c.get(&c.w.auditor, &claw_id).await, v, "GET gives the same");

    // Sealed at rest: neither the name nor the ID number is in the row's bytes.
    let cid = claw_id.clone();
    let (name, id_number, masked): (Vec<u8>, Vec<u8>, String) =
        c.w.app
            .db(move |conn| {
                clawbacks::table
                    .find(cid)
                    .select((
                        clawbacks::beneficiary_name,
                        clawbacks::beneficiary_id_number,
                        clawbacks::beneficiary_id_masked,
                    ))
                    .first(conn)
                    .unwrap()
            })
            .await;
    assert!(!name.windows("王某".len()).any(|w| w == "王某".as_bytes()));
    assert!(!id_number.windows(6).any(|w| w == b"110105"));
    assert_eq!(masked, "1101**********002X");

    // The clawback answers the case's clawback question, and its deadline is the case's.
    let case = c.case.clone();
    assert!(
        c.w.app
            .db(move |conn| probity::clawbacks::recorded_for_case(conn, &case).unwrap())
            .await
    );
    let case = json(
        c.w.app
            .get_as(&format!("/api/v1/cases/{}", c.case), &c.w.supervisor)
            .await,
    )
    .await;
    assert_eq!(case["deadlines"]["clawback_due"], "2027-03-31");

    // Audited in the same transaction, naming no beneficiary.
    let cid = claw_id.clone();
    let (action, details): (String, String) =
        c.w.app
            .db(move |conn| {
                audit_events::table
                    .filter(audit_events::entity_type.eq("clawback"))
                    .filter(audit_events::entity_id.eq(cid))
                    .select((audit_events::action, audit_events::details))
                    .first(conn)
                    .unwrap()
            })
            .await;
    assert_eq!(action, "clawback.recorded");
    assert!(!details.contains("王某") && !details.contains("11010519491231002X"));
    assert!(details.contains("county_approval"));

    // One email, to the one signer with an address, naming no beneficiary.
    let payloads: Vec<String> =
        c.w.app
            .db(|conn| {
                jobs::table
                    .filter(jobs::kind.eq("email"))
                    .select(jobs::payload)
                    .load(conn)
                    .unwrap()
            })
            .await;
    let to_signers: Vec<&String> = payloads
        .iter()
        .filter(|p| p.contains("clawback_signer"))
        .collect();
    assert_eq!(to_signers.len(), 1, "{payloads:?}");
    assert!(to_signers[0].contains("chen@minzheng.example"));
    assert!(to_signers[0].contains("¥3,600.00"));
    assert!(!to_signers[0].contains("王某"));

    // The responsibility of each signer holds it whole.
    for o in [&c.village, &c.township, &c.county] {
        let r = c.responsibility(o).await;
        assert_eq!(r["clawbacks_signed"], 1);
        assert_eq!(r["due_fen"], 360000);
        assert_eq!(r["outstanding_fen"], 360000);
    }
    assert_eq!(c.responsibility(&c.village2).await["clawbacks_signed"], 0);
}

async fn only_a_filed_case_takes_a_clawback_and_only_its_workers_record_one(backend: Backend) {
    let c = claw(backend).await;
    let (report, _) = c.w.report("360734100", "360734100201", "张某明").await;
    let registered = c.w.accept(&report).await["case_id"]
        .as_str()
        .unwrap()
        .to_string();
    let r =
        c.w.app
            .post_as(
                &format!("/api/v1/cases/{registered}/clawbacks"),
                &c.w.supervisor,
                &c.body(),
            )
            .await;
    let p = assert_problem(r, 409, "case_not_filed").await;
    assert_eq!(p["status"], 409);
    assert!(p["detail"].as_str().unwrap().contains("registered"));

    // Another team's investigator, a benefits officer and an auditor may not record one.
    let r = c.post(&c.w.inv_b.1, &c.body()).await;
    assert_problem(r, 403, "forbidden").await;
    let (_, benefits, _) = c.w.app.signed_in("benefits", &[Role::Benefits]).await;
    assert_problem(c.post(&benefits, &c.body()).await, 403, "forbidden").await;
    assert_problem(c.post(&c.w.auditor, &c.body()).await, 403, "forbidden").await;
    let r =
        c.w.app
            .post_as(
                "/api/v1/cases/no-such-case/clawbacks",
                &c.w.supervisor,
                &c.body(),
            )
            .await;
    assert_problem(r, 404, "not_found").await;
    // A supervisor may.
    assert_eq!(c.post(&c.w.supervisor, &c.body()).await.status(), 201);
    // Another team's investigator cannot read it either.
    let r =
        c.w.app
            .get_as(&format!("/api/v1/clawbacks?case={}", c.case), &c.w.inv_b.1)
            .await;
    assert_eq!(json(r).await["items"], json!([]));
}

async fn bad_clawback_bodies_name_their_fields(backend: Backend) {
    let c = claw(backend).await;
    let fields = |p: &Value| -> Vec<(String, String)> {
        p["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["field"].as_str().unwrap().to_string(),
                    e["code"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    for (amount, code) in [
        (json!(1.0), "invalid"),
        (json!(1.5), "invalid"),
        (json!("360000"), "invalid"),
        (json!(null), "invalid"),
        (json!(-1), "out_of_range"),
        (json!(0), "out_of_range"),
        (json!(10_000_000_000_001_i64), "out_of_range"),
    ] {
        let mut body = c.body();
        body["amount_due_fen"] = amount.clone();
        let p = assert_problem(c.post(&c.w.inv_a.1, &body).await, 422, "validation_failed").await;
        assert_eq!(
            fields(&p),
            [("amount_due_fen".to_string(), code.to_string())],
            "{amount}"
        );
    }
    let mut body = c.body();
    body["amount_due_fen"] = json!(10_000_000_000_000_i64);
    assert_eq!(
        c.post(&c.w.inv_a.1, &body).await.status(),
        201,
        "10^13 fen is accepted"
    );

    // Every bad field at once.
    let body = json!({
        "beneficiary": {"name": "", "id_number": "110105194912310021", "village_code": "360734100999"},
        "programme": "other",
        "grant_period_from": "2025-12-31", "grant_period_to": "2025-01-01",
        "amount_due_fen": 100,
        "due_on": "2026-11-29",
        "signers": [
            {"official_id": c.village, "stage": "county_approval", "signed_on": "2025-03-02"},
            {"official_id": c.village, "stage": "village_deliberation", "signed_on": "2026-12-01"},
            {"official_id": "no-such-official", "stage": "township_review", "signed_on": "2025-03-02"},
            {"official_id": c.county, "stage": "approval", "signed_on": "2025-3-2x"}
        ]
    });
    let p = assert_problem(c.post(&c.w.inv_a.1, &body).await, 422, "validation_failed").await;
    let found = fields(&p);
    for expected in [
        ("beneficiary.name", "required"),
        ("beneficiary.id_number", "bad_check_digit"),
        ("programme", "unknown_value"),
        ("grant_period_to", "before_start"),
        ("due_on", "out_of_range"),
        ("signers[1].official_id", "duplicate_signer"),
        ("signers[1].signed_on", "in_future"),
        ("signers[3].stage", "unknown_value"),
        ("signers[3].signed_on", "invalid_date"),
    ] {
        assert!(
            found.contains(&(expected.0.to_string(), expected.1.to_string())),
            "{expected:?} in {found:?}"
        );
    }
    // What only the database can tell: unknown village and official, and a level that is not
    // the stage's.
    let mut body = c.body();
    body["beneficiary"]["village_code"] = json!("360734100999");
    body["signers"] = json!([
        {"official_id": c.village, "stage": "county_approval", "signed_on": "2025-03-02"},
        {"official_id": "no-such-official", "stage": "township_review", "signed_on": "2025-03-02"}
    ]);
    let p = assert_problem(c.post(&c.w.inv_a.1, &body).await, 422, "validation_failed").await;
    assert_eq!(
        fields(&p),
        [
            (
                "beneficiary.village_code".to_string(),
                "unknown_village".to_string()
            ),
            (
                "signers[0].stage".to_string(),
                "stage_level_mismatch".to_string()
            ),
            (
                "signers[1].official_id".to_string(),
                "unknown_official".to_string()
            ),
        ]
    );
    let mut body = c.body();
    body["signers"] = json!([]);
    let p = assert_problem(c.post(&c.w.inv_a.1, &body).await, 422, "validation_failed").await;
    assert_eq!(
        fields(&p),
        [("signers".to_string(), "required".to_string())]
    );
    // Nothing of those was written.
    let n: i64 =
        c.w.app
            .db(|conn| clawbacks::table.count().get_result(conn).unwrap())
            .await;
    assert_eq!(n, 1);
}

async fn partial_recoveries_move_the_status_and_over_recovery_is_refused(backend: Backend) {
    let c = claw(backend).await;
    let v = c.clawback(100_000, "2027-03-31").await;
    let claw_id = id(&v);
    let inv = c.w.inv_a.1.clone();

    let r = c.recover(&inv, &claw_id, json!(30_000), "HZ-001").await;
    assert_eq!(r.status(), 201);
    let a = json(r).await;
    assert_eq!(a["status"], "partly_recovered");
    assert_eq!(a["recovered_fen"], 30_000);
    assert_eq!(a["outstanding_fen"], 70_000);
    assert_eq!(a["recovery"]["amount_fen"], 30_000);
    assert_eq!(a["recovery"]["reference"], "HZ-001");
    assert_eq!(a["recoveries"].as_array().unwrap().len(), 1);

    // A benefits officer, and a disbursement system's key with `recoveries:write`.
    let (_, benefits, _) = c.w.app.signed_in("benefits", &[Role::Benefits]).await;
    let r = c
        .recover(&benefits, &claw_id, json!(20_000), "HZ-002")
        .await;
    assert_eq!(r.status(), 201);
    assert_eq!(json(r).await["outstanding_fen"], 50_000);
    let key = |scopes: Value| {
        let app = &c.w.app;
        let admin = c.w.admin.clone();
        async move {
            let r = app
                .post_as(
                    "/api/v1/api-keys",
                    &admin,
                    &json!({"name": "民政局发放系统", "scopes": scopes}),
                )
                .await;
            assert_eq!(r.status(), 201);
            json(r).await["secret"].as_str().unwrap().to_string()
        }
    };
    let writer = key(json!(["recoveries:write"])).await;
    let reader_only = key(json!(["benefit-status:read"])).await;
    let by_key = |secret: String, reference: &'static str| {
        let app = &c.w.app;
        let url = app.url(&format!("/api/v1/clawbacks/{claw_id}/recoveries"));
        let village = c.village.clone();
        async move {
            app.client
                .post(url)
                .header("X-Api-Key", secret)
                .json(&json!({"amount_fen": 10_000, "paid_on": "2026-11-27",
                              "payer": {"kind": "signer", "official_id": village},
                              "reference": reference}))
                .send()
                .await
                .unwrap()
        }
    };
    assert_problem(by_key(reader_only, "K-1").await, 403, "forbidden").await;
    let r = by_key(writer, "K-1").await;
    assert_eq!(r.status(), 201);
    let a = json(r).await;
    assert_eq!(a["outstanding_fen"], 40_000);
    assert!(a["recovery"]["recorded_by"]
        .as_str()
        .unwrap()
        .starts_with("service:"));
    assert_eq!(
        a["recovery"]["payer"],
        json!({"kind": "signer", "official_id": c.village})
    );
    // An auditor reads but does not record; a payer who did not sign is refused.
    assert_problem(
        c.recover(&c.w.auditor, &claw_id, json!(1), "A-1").await,
        403,
        "forbidden",
    )
    .await;
    let r =
        c.w.app
            .post_as(
                &format!("/api/v1/clawbacks/{claw_id}/recoveries"),
                &inv,
                &json!({"amount_fen": 1, "paid_on": "2026-11-30",
                    "payer": {"kind": "signer", "official_id": c.village2}, "reference": "X-1"}),
            )
            .await;
    let p = assert_problem(r, 422, "validation_failed").await;
    assert_eq!(p["errors"][0]["code"], "not_a_signer");
    // Bad amounts and dates are named.
    for (amount, code) in [
        (json!(1.0), "invalid"),
        (json!(0), "out_of_range"),
        (json!("5"), "invalid"),
    ] {
        let p = assert_problem(
            c.recover(&inv, &claw_id, amount, "B-1").await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(p["errors"][0]["field"], "amount_fen");
        assert_eq!(p["errors"][0]["code"], code);
    }

    // Beyond what is outstanding: refused, naming it; nothing recorded.
    let r = c.recover(&inv, &claw_id, json!(40_001), "HZ-003").await;
    let p = assert_problem(r, 422, "over_recovery").await;
    assert_eq!(p["outstanding_fen"], 40_000);
    assert!(p["detail"].as_str().unwrap().contains("¥400.00"));
    let r = c.recover(&inv, &claw_id, json!(40_000), "HZ-003").await;
    assert_eq!(r.status(), 201);
    let a = json(r).await;
    assert_eq!(a["status"], "recovered");
    assert_eq!(a["outstanding_fen"], 0);
    assert_eq!(a["recovered_fen"], 100_000);
    let p = assert_problem(
        c.recover(&inv, &claw_id, json!(1), "HZ-004").await,
        422,
        "over_recovery",
    )
    .await;
    assert_eq!(p["outstanding_fen"], 0);
    // The case's clawback deadline ends with the money.
    let case = json(
        c.w.app
            .get_as(&format!("/api/v1/cases/{}", c.case), &c.w.supervisor)
            .await,
    )
    .await;
    assert_eq!(case["deadlines"]["clawback_due"], Value::Null);
    let audited: i64 =
        c.w.app
            .db(|conn| {
                audit_events::table
                    .filter(audit_events::action.eq("clawback.recovery_recorded"))
                    .count()
                    .get_result(conn)
                    .unwrap()
            })
            .await;
    assert_eq!(audited, 4);
}

async fn a_replay_by_reference_records_nothing(backend: Backend) {
    let c = claw(backend).await;
    let claw_id = id(&c.clawback(1_000, "2027-03-31").await);
    let inv = c.w.inv_a.1.clone();
    let r = c.recover(&inv, &claw_id, json!(1_000), "ZZ-9").await;
    assert_eq!(r.status(), 201);
    let first = json(r).await;
    assert_eq!(first["status"], "recovered");
    c.w.app.clock.advance(Duration::minutes(5));
    // Nothing is outstanding now, and the replay is still answered as the first time.
    let r = c.recover(&inv, &claw_id, json!(1_000), "ZZ-9").await;
    assert_eq!(r.status(), 200);
    let replay = json(r).await;
    assert_eq!(replay["recovery"], first["recovery"]);
    assert_eq!(replay["recoveries"].as_array().unwrap().len(), 1);
    assert_eq!(replay["version"], first["version"]);
    let r = c.recover(&inv, &claw_id, json!(999), "ZZ-9").await;
    let p = assert_problem(r, 409, "reference_reused").await;
    assert_eq!(p["amount_fen"], 1_000);
    let n: i64 =
        c.w.app
            .db(|conn| recoveries::table.count().get_result(conn).unwrap())
            .await;
    assert_eq!(n, 1);
}

/// 20 recoveries of 60 fen each, sent at once against 1,000 fen due. The "Done when"
/// asks for "exactly 1,000 recovered, 16 accepted and 4 refused", which no ledger can give:
/// 16 × 60 = 960, and a 17th would make 1,020, more than is due. What the rule guarantees, and
/// what is tested: 16 accepted, 4 refused `over_recovery` (40 fen outstanding, less than 60),
/// 960 recovered, 40 outstanding, and never more than 1,000 recovered.
async fn parallel_recoveries_never_exceed_the_amount_due(backend: Backend) {
    let c = claw(backend).await;
    let claw_id = id(&c.clawback(1_000, "2027-03-31").await);
    let inv = c.w.inv_a.1.clone();
    let sends = (0..20).map(|i| {
        let (c, inv, claw_id) = (&c, inv.clone(), claw_id.clone());
        async move {
            c.recover(&inv, &claw_id, json!(60), &format!("PAR-{i:02}"))
                .await
        }
    });
    let answers = futures_util::future::join_all(sends).await;
    let mut accepted = 0;
    let mut refused = 0;
    for r in answers {
        match r.status().as_u16() {
            201 => accepted += 1,
            422 => {
                let p = assert_problem(r, 422, "over_recovery").await;
                assert_eq!(p["outstanding_fen"], 40);
                refused += 1;
            }
            other => panic!("unexpected {other}: {}", r.text().await.unwrap()),
        }
    }
    assert_eq!((accepted, refused), (16, 4));
    let v = c.get(&c.w.supervisor, &claw_id).await;
    assert_eq!(v["recovered_fen"], 960);
    assert_eq!(v["outstanding_fen"], 40);
    assert_eq!(v["status"], "partly_recovered");
    let cid = claw_id.clone();
    let stored: Vec<i64> =
        c.w.app
            .db(move |conn| {
                recoveries::table
                    .filter(recoveries::clawback_id.eq(cid))
                    .select(recoveries::amount_fen)
                    .load(conn)
                    .unwrap()
            })
            .await;
    assert_eq!(stored.len(), 16);
    assert!(stored.iter().sum::<i64>() <= 1_000);
}

async fn no_endpoint_removes_or_changes_a_signer(backend: Backend) {
    let c = claw(backend).await;
    let v = c.clawback(5_000, "2027-03-31").await;
    let claw_id = id(&v);
    let app = &c.w.app;
    let body = json!({"signers": []});
    for method in [
        reqwest::Method::PATCH,
        reqwest::Method::PUT,
        reqwest::Method::DELETE,
    ] {
        for (path, status, code) in [
            (
                format!("/api/v1/clawbacks/{claw_id}"),
                405,
                "method_not_allowed",
            ),
            (
                format!("/api/v1/clawbacks/{claw_id}/recoveries"),
                405,
                "method_not_allowed",
            ),
            (
                format!("/api/v1/clawbacks/{claw_id}/signers"),
                404,
                "not_found",
            ),
            (
                format!("/api/v1/clawbacks/{claw_id}/signers/{}", c.village),
                404,
                "not_found",
            ),
        ] {
            let r = app
                .client
                .request(method.clone(), app.url(&path))
                .bearer_auth(&c.w.supervisor)
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_problem(r, status, code).await;
        }
    }
    // Nor can the database change or remove one.
    let cid = claw_id.clone();
    let (update, delete) = app
        .db(move |conn| {
            let update = diesel::update(
                clawback_signers::table.filter(clawback_signers::clawback_id.eq(cid.clone())),
            )
            .set(clawback_signers::stage.eq("county_approval"))
            .execute(conn);
            let delete = diesel::delete(
                clawback_signers::table.filter(clawback_signers::clawback_id.eq(cid)),
            )
            .execute(conn);
            (update.is_err(), delete.is_err())
        })
        .await;
    assert!(update && delete, "the triggers refuse UPDATE and DELETE");
    let after = c.get(&c.w.supervisor, &claw_id).await;
    assert_eq!(after["signers"], v["signers"]);
    assert_eq!(after["version"], v["version"]);
}

async fn a_write_off_keeps_the_liability_visible(backend: Backend) {
    let c = claw(backend).await;
    let claw_id = id(&c.clawback(50_000, "2027-03-31").await);
    let inv = c.w.inv_a.1.clone();
    assert_eq!(
        c.recover(&inv, &claw_id, json!(20_000), "W-1")
            .await
            .status(),
        201
    );
    let path = format!("/api/v1/clawbacks/{claw_id}/write-off");
    let r =
        c.w.app
            .post_as(&path, &inv, &json!({"reason": "户主已故"}))
            .await;
    assert_problem(r, 403, "forbidden").await;
    let r = c.w.app.post_as(&path, &c.w.supervisor, &json!({})).await;
    let p = assert_problem(r, 422, "validation_failed").await;
    assert_eq!(p["errors"][0]["field"], "reason");
    let r =
        c.w.app
            .post_as(
                &path,
                &c.w.supervisor,
                &json!({"reason": "户主已故，无财产可供执行", "version": 1}),
            )
            .await;
    assert_problem(r, 409, "version_conflict").await;
    let r =
        c.w.app
            .post_as(
                &path,
                &c.w.supervisor,
                &json!({"reason": "户主已故，无财产可供执行"}),
            )
            .await;
    assert_eq!(r.status(), 200);
    let v = json(r).await;
    assert_eq!(v["status"], "written_off");
    assert_eq!(v["recovered_fen"], 20_000);
    assert_eq!(v["written_off_fen"], 30_000);
    assert_eq!(v["outstanding_fen"], 0);
    assert_eq!(v["write_off"]["amount_fen"], 30_000);
    assert_eq!(v["write_off"]["reason"], "户主已故，无财产可供执行");
    // Each signer stays liable on record: the amount shows as written off, not recovered.
    for o in [&c.village, &c.township, &c.county] {
        let r = c.responsibility(o).await;
        assert_eq!(r["clawbacks_signed"], 1);
        assert_eq!(r["due_fen"], 50_000);
        assert_eq!(r["recovered_fen"], 20_000);
        assert_eq!(r["written_off_fen"], 30_000);
        assert_eq!(r["outstanding_fen"], 0);
        assert_eq!(r["clawbacks"][0]["status"], "written_off");
    }
    let r =
        c.w.app
            .post_as(&path, &c.w.supervisor, &json!({"reason": "again"}))
            .await;
    assert_problem(r, 409, "nothing_outstanding").await;
    let p = assert_problem(
        c.recover(&inv, &claw_id, json!(1), "W-2").await,
        422,
        "over_recovery",
    )
    .await;
    assert_eq!(p["outstanding_fen"], 0);
    // Listed as written off.
    let r =
        c.w.app
            .get_as("/api/v1/clawbacks?status=written_off", &c.w.auditor)
            .await;
    let items = json(r).await["items"].clone();
    assert_eq!(items.as_array().unwrap().len(), 1);
    assert_eq!(items[0]["written_off_fen"], 30_000);
}

async fn corrections_keep_the_original_visible(backend: Backend) {
    let c = claw(backend).await;
    let claw_id = id(&c.clawback(360_000, "2027-03-31").await);
    let inv = c.w.inv_a.1.clone();
    assert_eq!(
        c.recover(&inv, &claw_id, json!(100_000), "C-1")
            .await
            .status(),
        201
    );
    let path = format!("/api/v1/clawbacks/{claw_id}/amendments");
    let amend = |body: Value| {
        let (app, path, inv) = (&c.w.app, path.clone(), inv.clone());
        async move { app.post_as(&path, &inv, &body).await }
    };
    let p = assert_problem(
        amend(json!({"reason": "核减", "amount_due_fen": 99_999})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "below_recovered");
    let p = assert_problem(
        amend(json!({"amount_due_fen": 300_000})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "reason");
    let p = assert_problem(
        amend(json!({"reason": "无变化", "amount_due_fen": 360_000})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "no_change");
    let p = assert_problem(
        amend(json!({"reason": "x", "amount_due_fen": 300_000.5})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "invalid");

    let r = amend(
        json!({"reason": "核实后实际多发金额为3000元", "amount_due_fen": 300_000,
                         "due_on": "2027-06-30"}),
    )
    .await;
    assert_eq!(r.status(), 201);
    let v = json(r).await;
    assert_eq!(v["amount_due_fen"], 300_000);
    assert_eq!(v["outstanding_fen"], 200_000);
    assert_eq!(v["due_on"], "2027-06-30");
    assert_eq!(v["recorded"]["amount_due_fen"], 360_000);
    assert_eq!(v["recorded"]["due_on"], "2027-03-31");
    assert_eq!(
        v["amendments"][0]["changes"],
        json!({"amount_due_fen": {"from": 360_000, "to": 300_000},
               "due_on": {"from": "2027-03-31", "to": "2027-06-30"}})
    );
    assert_eq!(v["amendments"][0]["reason"], "核实后实际多发金额为3000元");
    // A second correction: both stay, the first record too.
    let r = amend(json!({"reason": "复核", "amount_due_fen": 320_000})).await;
    let v = json(r).await;
    assert_eq!(v["amendments"].as_array().unwrap().len(), 2);
    assert_eq!(v["recorded"]["amount_due_fen"], 360_000);
    assert_eq!(v["amount_due_fen"], 320_000);
    let actions: Vec<String> =
        c.w.app
            .db(|conn| {
                audit_events::table
                    .filter(audit_events::entity_type.eq("clawback"))
                    .order(audit_events::seq)
                    .select(audit_events::action)
                    .load(conn)
                    .unwrap()
            })
            .await;
    assert_eq!(
        actions,
        [
            "clawback.recorded",
            "clawback.recovery_recorded",
            "clawback.amended",
            "clawback.amended"
        ]
    );
    // The case's clawback deadline followed the correction.
    let case = json(
        c.w.app
            .get_as(&format!("/api/v1/cases/{}", c.case), &c.w.supervisor)
            .await,
    )
    .await;
    assert_eq!(case["deadlines"]["clawback_due"], "2027-06-30");
}

async fn csv_of(app: &crate::helpers::TestApp, path: &str, token: &str) -> Vec<u8> {
    let r = app
        .client
        .get(app.url(path))
        .bearer_auth(token)
        .header("Accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{path}");
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "text/csv; charset=utf-8"
    );
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment; filename="));
    r.bytes().await.unwrap().to_vec()
}

async fn csv_holds_the_bom_chinese_and_neutralised_cells(backend: Backend) {
    let c = claw(backend).await;
    let mut body = c.body();
    body["beneficiary"]["name"] = json!("=HYPERLINK(\"http://evil.example\",\"王某\")");
    let r = c.post(&c.w.inv_a.1, &body).await;
    assert_eq!(r.status(), 201);
    c.w.app.clock.advance(Duration::seconds(1));
    let mut body = c.body();
    body["beneficiary"]["name"] = json!("@刘某");
    body["programme"] = json!("dibao");
    assert_eq!(c.post(&c.w.inv_a.1, &body).await.status(), 201);
    c.w.app.clock.advance(Duration::seconds(1));
    let mut body = c.body();
    body["beneficiary"]["name"] = json!("-1+1");
    assert_eq!(c.post(&c.w.inv_a.1, &body).await.status(), 201);

    let bytes = csv_of(&c.w.app, "/api/v1/clawbacks", &c.w.auditor).await;
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "the BOM");
    let text = std::str::from_utf8(&bytes[3..]).expect("UTF-8");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 3);
    let names: Vec<&str> = rows.iter().map(|r| &r[col("beneficiary_name")]).collect();
    assert_eq!(
        names,
        [
            "'=HYPERLINK(\"http://evil.example\",\"王某\")",
            "'@刘某",
            "'-1+1"
        ]
    );
    assert_eq!(&rows[0][col("village_name")], "城北村");
    assert_eq!(&rows[0][col("township_name")], "长宁镇");
    assert_eq!(&rows[0][col("programme_zh")], "农村危旧土坯房改造");
    assert_eq!(&rows[1][col("programme_zh")], "低保");
    assert_eq!(&rows[0][col("status_zh")], "待追回");
    assert_eq!(&rows[0][col("amount_due_fen")], "360000");
    assert_eq!(&rows[0][col("beneficiary_id_masked")], "1101**********002X");
    assert!(rows[0][col("signers")].contains("张某明（村支书，村评议，2025-03-02）"));
    // No cell of the file begins with a formula character.
    for row in &rows {
        for cell in row {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{cell}"
            );
        }
    }

    // A signer's responsibility and the county summary, the same way.
    let bytes = csv_of(
        &c.w.app,
        &format!("/api/v1/officials/{}/responsibility", c.village),
        &c.w.supervisor,
    )
    .await;
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    assert_eq!(text.lines().count(), 4, "header and three clawbacks");
    assert!(text.contains("张某明,村支书"));
    assert!(text.contains("城北村"));
    let bytes = csv_of(&c.w.app, "/api/v1/clawbacks/summary", &c.w.auditor).await;
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(lines[1].starts_with("360734100,长宁镇,dibao,低保,1,360000,"));
    assert!(lines[2].starts_with("360734100,长宁镇,house_renovation,农村危旧土坯房改造,2,720000,"));
    assert!(lines[3].starts_with(",全县合计,,,3,1080000,0,0,1080000,0,0"));
    // JSON when JSON is asked for (or nothing is).
    let r =
        c.w.app
            .get_as("/api/v1/clawbacks/summary", &c.w.auditor)
            .await;
    let s = json(r).await;
    assert_eq!(s["total"]["due_fen"], 1_080_000);
    assert_eq!(s["items"][0]["township_name"], "长宁镇");
    assert_eq!(s["on"], "2026-11-30");
}

async fn the_list_filters_and_pages(backend: Backend) {
    let c = claw(backend).await;
    // A second between them, so the list's order (oldest first) is theirs.
    let tick = || c.w.app.clock.advance(Duration::seconds(1));
    let a = id(&c.clawback(1_000, "2027-01-31").await);
    tick();
    let b = id(&c.clawback(2_000, "2026-12-15").await);
    tick();
    let mut body = c.body();
    body["programme"] = json!("dibao");
    body["signers"] = json!([{"official_id": c.village2, "stage": "village_deliberation",
                              "signed_on": "2025-04-01"}]);
    let r = c.post(&c.w.inv_a.1, &body).await;
    let d = id(&json(r).await);
    assert_eq!(
        c.recover(&c.w.inv_a.1, &b, json!(500), "L-1")
            .await
            .status(),
        201
    );
    let ids = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect()
    };
    let list = |q: String| {
        let (app, token) = (&c.w.app, c.w.auditor.clone());
        async move { json(app.get_as(&format!("/api/v1/clawbacks{q}"), &token).await).await }
    };
    assert_eq!(
        ids(&list(String::new()).await),
        [a.as_str(), b.as_str(), d.as_str()]
    );
    assert_eq!(
        ids(&list("?status=partly_recovered".into()).await),
        [b.as_str()]
    );
    assert_eq!(
        ids(&list("?status=open".into()).await),
        [a.as_str(), d.as_str()]
    );
    assert_eq!(
        ids(&list(format!("?signer={}", c.village2)).await),
        [d.as_str()]
    );
    assert_eq!(
        ids(&list(format!("?signer={}", c.county)).await),
        [a.as_str(), b.as_str()]
    );
    assert_eq!(ids(&list("?programme=dibao".into()).await), [d.as_str()]);
    assert_eq!(
        ids(&list("?township=360734100&village=360734100201".into()).await).len(),
        3
    );
    assert_eq!(ids(&list("?township=360734101".into()).await).len(), 0);
    assert_eq!(ids(&list(format!("?case={}", c.case)).await).len(), 3);
    assert_eq!(ids(&list("?overdue=true".into()).await).len(), 0);
    // Pages of one, by cursor.
    let first = list("?limit=1".into()).await;
    assert_eq!(ids(&first), [a.as_str()]);
    assert_eq!(first["items"][0]["signers"].as_array().unwrap().len(), 3);
    let cursor = first["next_cursor"].as_str().unwrap().to_string();
    let second = list(format!("?limit=1&cursor={cursor}")).await;
    assert_eq!(ids(&second), [b.as_str()]);
    // A filtered page continues past rows the filter drops.
    let open_first = list("?status=open&limit=1".into()).await;
    let cursor = open_first["next_cursor"].as_str().unwrap().to_string();
    assert_eq!(
        ids(&list(format!("?status=open&limit=1&cursor={cursor}")).await),
        [d.as_str()]
    );
    // Bad filters are named.
    let r =
        c.w.app
            .get_as(
                "/api/v1/clawbacks?status=paid&programme=other&limit=0&cursor=%25%25",
                &c.w.auditor,
            )
            .await;
    let p = assert_problem(r, 422, "validation_failed").await;
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for f in ["status", "programme", "limit", "cursor"] {
        assert!(fields.contains(&f), "{f} in {fields:?}");
    }
    // Intake and admin do not read clawbacks.
    let r = c.w.app.get_as("/api/v1/clawbacks", &c.w.intake).await;
    assert_problem(r, 403, "forbidden").await;
    let r =
        c.w.app
            .get_as("/api/v1/clawbacks/summary", &c.w.admin)
            .await;
    assert_problem(r, 403, "forbidden").await;
    let r =
        c.w.app
            .get_as(
                "/api/v1/officials/no-such-official/responsibility",
                &c.w.auditor,
            )
            .await;
    assert_problem(r, 404, "not_found").await;
    let r =
        c.w.app
            .get_as("/api/v1/clawbacks/no-such-id", &c.w.auditor)
            .await;
    assert_problem(r, 404, "not_found").await;
}

async fn overdue_clawbacks_reach_the_queue_and_the_reminders(backend: Backend) {
    let mut c = claw(backend).await;
    let claw_id = id(&c.clawback(8_000, "2026-12-15").await);
    async fn queue(c: &Claw, q: &str) -> Value {
        json(
            c.w.app
                .get_as(&format!("/api/v1/cases{q}"), &c.w.supervisor)
                .await,
        )
        .await
    }
    let page = queue(&c, "?overdue=false").await;
    let item = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == c.case.as_str())
        .cloned()
        .unwrap();
    assert_eq!(item["due_on"], "2026-12-15");
    assert_eq!(queue(&c, "?overdue=true").await["items"], json!([]));

    // Past the deadline with money outstanding: in the overdue queue, and in the reminder
    // digest of the case's team supervisors (unassigned case), marked as a clawback date.
    c.w.app.clock.advance(Duration::days(17)); // Thursday 2026-12-17
    c.sign_in_again().await;
    let page = queue(&c, "?overdue=true").await;
    assert_eq!(page["items"][0]["id"], c.case.as_str());
    assert_eq!(page["items"][0]["overdue"], true);
    let v = c.get(&c.w.supervisor, &claw_id).await;
    assert_eq!(v["overdue"], true);
    let today = NaiveDate::from_ymd_opt(2026, 12, 17).unwrap();
    let sup_email = "lead@jiwei.example";
    c.w.app
        .create_staff("sup_mail", &[Role::Supervisor], Some(sup_email))
        .await;
    let digests =
        c.w.app
            .db(move |conn| {
                probity::reminders::digests(
                    conn,
                    &probity::domain::calendar::WorkingCalendar::shipped(),
                    today,
                )
                .unwrap()
            })
            .await;
    let digest = digests
        .values()
        .find(|d| d.email == sup_email)
        .expect("a digest to the supervisor");
    assert_eq!(
        digest.overdue,
        [format!("{}（2026-12-15，追回）", c.case_number)]
    );
    let r =
        c.w.app
            .get_as("/api/v1/clawbacks?overdue=true", &c.w.auditor)
            .await;
    assert_eq!(json(r).await["items"][0]["id"], claw_id.as_str());
    let s = json(
        c.w.app
            .get_as("/api/v1/clawbacks/summary", &c.w.auditor)
            .await,
    )
    .await;
    assert_eq!(s["total"]["overdue_clawbacks"], 1);
    assert_eq!(s["total"]["overdue_fen"], 8_000);

    // Recovered in full: out of the overdue queue and the reminders.
    let r =
        c.w.app
            .post_as(
                &format!("/api/v1/clawbacks/{claw_id}/recoveries"),
                &c.w.inv_a.1,
                &json!({"amount_fen": 8_000, "paid_on": "2026-12-16",
                    "payer": {"kind": "beneficiary"}, "reference": "Q-1"}),
            )
            .await;
    assert_eq!(r.status(), 201);
    assert_eq!(queue(&c, "?overdue=true").await["items"], json!([]));
    let digests =
        c.w.app
            .db(move |conn| {
                probity::reminders::digests(
                    conn,
                    &probity::domain::calendar::WorkingCalendar::shipped(),
                    today,
                )
                .unwrap()
            })
            .await;
    assert!(digests.values().all(|d| d.overdue.is_empty()));
}

/// A few hundred random clawbacks with random recoveries and write-offs, recorded through the
/// library's own functions (quicker than HTTP for setup), then every signer's responsibility
/// read through the API and compared with totals computed here, independently, from what the
/// test itself decided (seeded, so a failure repeats).
async fn responsibility_agrees_with_an_independent_computation(backend: Backend) {
    use probity::audit::Actor;
    use probity::cases::Viewer;
    use probity::clawbacks::{ledger, record, Reader, When};

    let mut c = claw(backend).await;
    let (sup_id, _, _) = c.w.app.signed_in("sup_seed", &[Role::Supervisor]).await;
    let mut villagers = vec![c.village.clone(), c.village2.clone()];
    for (i, v) in ["360734100201", "360734101201"].iter().enumerate() {
        villagers.push(official(&c.w, &format!("赵某{i}"), "村支书", "village", v).await);
    }
    let townships = vec![
        c.township.clone(),
        official(&c.w, "孙某", "分管扶贫领导", "township", "360734101").await,
    ];
    let counties = vec![
        c.county.clone(),
        official(&c.w, "黄某平", "县住建局局长", "county", "360734").await,
    ];
    let mut cases = vec![c.case.clone()];
    for _ in 0..2 {
        cases.push(filed_case(&c.w).await.0);
    }
    let key = probity::crypto::DataKey::new(c.w.app.settings.secrets.key_bytes("data_key"));
    let clock = c.w.app.clock.clone();
    let when = When {
        now: clock.now_naive(),
        today: probity::domain::deadlines::today_in_county(clock.now()),
    };
    let everyone: Vec<String> = villagers
        .iter()
        .chain(&townships)
        .chain(&counties)
        .cloned()
        .collect();

    /// What the test decided for one clawback.
    #[derive(Default, Clone)]
    struct Expected {
        due: i128,
        recovered: i128,
        written_off: i128,
        due_on: NaiveDate,
        signers: Vec<String>,
    }
    let expected: Vec<Expected> = c
        .w
        .app
        .db(move |conn| {
            let mut rng = rand::rngs::StdRng::seed_from_u64(11);
            let viewer = Viewer {
                user_id: sup_id.clone(),
                roles: vec![Role::Supervisor],
            };
            let reader = Reader {
                user_id: Some(sup_id.clone()),
                roles: vec![Role::Supervisor],
            };
            let actor = Actor::User(sup_id.clone());
            let mut out = Vec::new();
            for n in 0..240 {
                let pick = |rng: &mut rand::rngs::StdRng, from: &[String], max: usize| {
                    let k = rng.gen_range(0..=max.min(from.len()));
                    let mut chosen: Vec<String> = Vec::new();
                    while chosen.len() < k {
                        let o = from[rng.gen_range(0..from.len())].clone();
                        if !chosen.contains(&o) {
                            chosen.push(o);
                        }
                    }
                    chosen
                };
                let mut signers: Vec<(String, &str)> = Vec::new();
                signers.extend(pick(&mut rng, &villagers, 2).into_iter().map(|o| (o, "village_deliberation")));
                signers.extend(pick(&mut rng, &townships, 1).into_iter().map(|o| (o, "township_review")));
                signers.extend(pick(&mut rng, &counties, 1).into_iter().map(|o| (o, "county_approval")));
                if signers.is_empty() {
                    signers.push((counties[0].clone(), "county_approval"));
                }
                let due = rng.gen_range(1..=2_000_000_i64);
                let due_on = when.today + Duration::days(rng.gen_range(0..60));
                let programme = ["dibao", "house_renovation", "poverty_identification"][n % 3];
                let body: record::ClawbackRequest = serde_json::from_value(json!({
                    "beneficiary": {"name": format!("户主{n}"), "id_number": "11010519491231002X",
                                    "village_code": "360734100201"},
                    "programme": programme,
                    "grant_period_from": "2025-01-01", "grant_period_to": "2025-12-31",
                    "amount_due_fen": due,
                    "due_on": due_on.to_string(),
                    "signers": signers.iter().map(|(o, s)| json!({"official_id": o, "stage": s, "signed_on": "2025-05-01"})).collect::<Vec<_>>(),
                }))
                .unwrap();
                let case = &cases[n % cases.len()];
                let v = record::record(conn, &key, &viewer, &actor, case, &body, when)
                    .unwrap_or_else(|e| panic!("clawback {n}: {e}"));
                let mut e = Expected {
                    due: due.into(),
                    due_on,
                    signers: signers.into_iter().map(|(o, _)| o).collect(),
                    ..Expected::default()
                };
                for r in 0..rng.gen_range(0..4) {
                    let left = e.due - e.recovered;
                    if left == 0 {
                        break;
                    }
                    let amount = rng.gen_range(1..=left as i64);
                    let body: ledger::RecoveryRequest = serde_json::from_value(json!({
                        "amount_fen": amount, "paid_on": "2026-11-30",
                        "payer": {"kind": "beneficiary"}, "reference": format!("R{n}-{r}"),
                    }))
                    .unwrap();
                    ledger::record_recovery(conn, &key, &reader, &actor, &v.id, &body, when)
                        .unwrap();
                    e.recovered += i128::from(amount);
                }
                if rng.gen_bool(0.1) && e.due > e.recovered {
                    let body = ledger::WriteOffRequest {
                        reason: Some("无力偿还".into()),
                        version: None,
                    };
                    ledger::write_off(conn, &key, &reader, &actor, &v.id, &body, when).unwrap();
                    e.written_off = e.due - e.recovered;
                }
                out.push(e);
            }
            out
        })
        .await;

    // A month later some are overdue.
    c.w.app.clock.advance(Duration::days(30));
    c.sign_in_again().await;
    let today = probity::domain::deadlines::today_in_county(c.w.app.clock.now());
    for official in &everyone {
        let mine: Vec<&Expected> = expected
            .iter()
            .filter(|e| e.signers.contains(official))
            .collect();
        let sum = |f: &dyn Fn(&Expected) -> i128| mine.iter().map(|e| f(e)).sum::<i128>();
        let outstanding = |e: &Expected| e.due - e.recovered - e.written_off;
        let want = json!({
            "clawbacks_signed": mine.len(),
            "due_fen": sum(&|e| e.due) as i64,
            "recovered_fen": sum(&|e| e.recovered) as i64,
            "written_off_fen": sum(&|e| e.written_off) as i64,
            "outstanding_fen": sum(&outstanding) as i64,
            "overdue_fen": sum(&|e| if e.due_on < today { outstanding(e) } else { 0 }) as i64,
        });
        let got = c.responsibility(official).await;
        let got_totals: HashMap<&str, Value> = [
            "clawbacks_signed",
            "due_fen",
            "recovered_fen",
            "written_off_fen",
            "outstanding_fen",
            "overdue_fen",
        ]
        .into_iter()
        .map(|k| (k, got[k].clone()))
        .collect();
        let want_totals: HashMap<&str, Value> =
            got_totals.keys().map(|k| (*k, want[*k].clone())).collect();
        assert_eq!(got_totals, want_totals, "official {official}");
        assert_eq!(got["clawbacks"].as_array().unwrap().len(), mine.len());
    }
    // The county summary's total agrees too.
    let s = json(
        c.w.app
            .get_as("/api/v1/clawbacks/summary", &c.w.auditor)
            .await,
    )
    .await;
    let total = |f: &dyn Fn(&Expected) -> i128| expected.iter().map(f).sum::<i128>() as i64;
    assert_eq!(s["total"]["clawbacks"], expected.len());
    assert_eq!(s["total"]["due_fen"], total(&|e| e.due));
    assert_eq!(s["total"]["recovered_fen"], total(&|e| e.recovered));
    assert_eq!(s["total"]["written_off_fen"], total(&|e| e.written_off));
    assert_eq!(
        s["total"]["outstanding_fen"],
        total(&|e| e.due - e.recovered - e.written_off)
    );
}
