//! The case lifecycle (issue 10) on both backends with a frozen clock: filing opens the primary
//! and the accountability investigation (一案双查) and the village's suspension in one
//! transaction (a forced failure at each step leaves nothing), escalation to the county and the
//! configurable map, conclusions with checked sanctions, false accusations for supervisors only,
//! every close blocker at once, concurrent closes, reopening with the history kept, and what the
//! reporter reads.

use std::path::Path;

use chrono::NaiveDate;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use probity::db::schema::{
    audit_events, cases, false_accusations, investigation_officials, investigations, jobs,
    officials, remediation_items, reports, suspension_cases, suspension_events, suspensions,
};
use probity::db::{Backend, DbConnection};
use probity::domain::roles::Role;
use serde_json::{json, Value};

use crate::helpers::{app, assert_problem, TestApp, TestAppBuilder, PASSWORD};
use crate::triage::{json, world_on, World};

pub fn tests() -> Vec<(&'static str, crate::helpers::AsyncTest)> {
    crate::tests![
        filing_a_village_case_opens_both_investigations_and_the_suspension,
        the_accountability_investigation_goes_to_another_investigator_without_a_conflict,
        a_township_case_escalates_to_the_county_and_a_county_case_gets_none,
        the_escalation_map_is_configuration,
        a_failure_anywhere_in_filing_leaves_nothing,
        conclusions_are_checked_and_the_last_one_concludes_the_case,
        a_false_accusation_is_for_supervisors_only_and_never_flags_the_reporter,
        every_close_blocker_appears_together_and_nobody_overrides_them,
        concurrent_closes_have_one_winner,
        reopening_restores_the_investigation_and_keeps_its_history,
        the_reporter_reads_the_outcome_and_nothing_else,
        a_recorded_clawback_answers_the_clawback_question,
        reassigning_a_filed_case_keeps_the_two_investigations_apart,
        the_case_view_offers_reopen_only_when_reopen_is_allowed,
        feedback_that_ends_the_feedback_deadline_changes_the_version,
        assigning_a_closed_case_says_why_without_talking_of_merging,
    ]
}

/// The triage world plus what the lifecycle needs: team A's two investigators with email
/// addresses, and officials on record.
pub(crate) struct Life {
    pub(crate) w: World,
    /// (user id, token) of team A's investigators.
    pub(crate) ina: (String, String),
    pub(crate) inc: (String, String),
    /// 长宁镇's leaders on record, in the order of the four posts.
    pub(crate) leaders: Vec<String>,
    /// 城北村's party secretary (the accused).
    pub(crate) village_official: String,
    /// A county-level official of 寻乌县.
    pub(crate) county_official: String,
}

pub(crate) const VILLAGE: &str = "360734100201";
pub(crate) const TOWNSHIP: &str = "360734100";
const COUNTY: &str = "360734";

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// Inserts an official directly, `seconds` after now (so creation order is known).
async fn official(
    app: &TestApp,
    name: &'static str,
    post: &'static str,
    level: &'static str,
    division: &'static str,
    active: bool,
    seconds: i64,
) -> String {
    let id = uuid::Uuid::new_v4().to_string();
    let at = app.clock.now_naive() + chrono::Duration::seconds(seconds);
    let row = id.clone();
    app.db(move |conn| {
        diesel::insert_into(officials::table)
            .values((
                officials::id.eq(row),
                officials::name.eq(name),
                officials::post.eq(post),
                officials::level.eq(level),
                officials::division_code.eq(division),
                officials::active.eq(active),
                officials::created_at.eq(at),
            ))
            .execute(conn)
            .unwrap();
    })
    .await;
    id
}

/// An investigator with an email address, signed in: (id, token).
async fn investigator(app: &TestApp, name: &str) -> (String, String) {
    let id = app
        .create_staff(
            name,
            &[Role::Investigator],
            Some(&format!("{name}@probity.test")),
        )
        .await;
    let token = json(app.login(name, PASSWORD).await).await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    (id, token)
}

impl Life {
    async fn start(backend: Backend) -> Life {
        Life::on(app(backend)).await
    }

    pub(crate) async fn on(builder: TestAppBuilder) -> Life {
        let w = world_on(builder, true).await;
        let ina = investigator(&w.app, "ina").await;
        let inc = investigator(&w.app, "inc").await;
        w.set_team_a(&[&ina.0, &inc.0]).await;
        let app = &w.app;
        // Inserted out of post order: the investigation lists them in post order.
        let discipline = official(
            app,
            "刘纪委书记",
            "乡镇纪委书记",
            "township",
            TOWNSHIP,
            true,
            1,
        )
        .await;
        let head = official(app, "王镇长", "乡镇长", "township", TOWNSHIP, true, 2).await;
        let secretary =
            official(app, "张书记", "乡镇党委书记", "township", TOWNSHIP, true, 3).await;
        let deputy = official(
            app,
            "李副镇长",
            "分管扶贫领导",
            "township",
            TOWNSHIP,
            true,
            4,
        )
        .await;
        // Not leaders of the investigation: a former secretary, a township cadre of another post,
        // another township's secretary.
        official(
            app,
            "老书记",
            "乡镇党委书记",
            "township",
            TOWNSHIP,
            false,
            5,
        )
        .await;
        official(app, "赵干事", "党政办干事", "township", TOWNSHIP, true, 6).await;
        official(
            app,
            "陈书记",
            "乡镇党委书记",
            "township",
            "360734101",
            true,
            7,
        )
        .await;
        let village_official =
            official(app, "张村支书", "村支书", "village", VILLAGE, true, 8).await;
        let county_official =
            official(app, "孙主任", "县扶贫办主任", "county", COUNTY, true, 9).await;
        Life {
            w,
            ina,
            inc,
            leaders: vec![secretary, head, deputy, discipline],
            village_official,
            county_official,
        }
    }

    fn app(&self) -> &TestApp {
        &self.w.app
    }

    fn sup(&self) -> &str {
        &self.w.supervisor
    }

    /// Accepts `report` at `level` naming `accused`, assigns it to `ina`, and asks for filing:
    /// the case id.
    pub(crate) async fn request_filing(
        &self,
        report: &str,
        level: &str,
        accused: &[&str],
    ) -> String {
        let r = self
            .w
            .triage(
                report,
                json!({"action": "accept", "subject_level": level, "accused_official_ids": accused}),
            )
            .await;
        assert_eq!(r.status(), 201);
        let case = json(r).await["case_id"].as_str().unwrap().to_string();
        let r = self
            .app()
            .post_as(
                &format!("/api/v1/cases/{case}/assign"),
                self.sup(),
                &json!({"assignee_id": self.ina.0}),
            )
            .await;
        assert_eq!(r.status(), 200, "assign");
        let r = self
            .app()
            .post_as(
                &format!("/api/v1/cases/{case}/disposition"),
                &self.ina.1,
                &json!({"disposition": "file"}),
            )
            .await;
        assert_eq!(r.status(), 200, "file");
        case
    }

    async fn approve(&self, case: &str) -> reqwest::Response {
        self.app()
            .post_as(
                &format!("/api/v1/cases/{case}/filing-decision"),
                self.sup(),
                &json!({"approve": true, "reason": "经初步核实，需立案审查调查"}),
            )
            .await
    }

    /// A filed village-level case of a new real-name report: (case id, report id, receipt code,
    /// filing answer).
    pub(crate) async fn filed(&self) -> (String, String, String, Value) {
        let (report, code) = self.w.report(TOWNSHIP, VILLAGE, "张某某").await;
        let case = self
            .request_filing(&report, "village", &[&self.village_official])
            .await;
        let r = self.approve(&case).await;
        assert_eq!(r.status(), 200, "filing approved");
        (case, report, code, json(r).await)
    }

    /// A filed village-level case of a new anonymous report: (case id, filing answer).
    async fn filed_anonymous(&self) -> (String, Value) {
        let body = json!({
            "programme": "dibao",
            "misconduct": ["favouritism"],
            "township_code": TOWNSHIP,
            "village_code": VILLAGE,
            "accused": [{"name": "张某某", "position": "村支书"}],
            "description": "村支书把低保名额给了自己的亲戚,评议会没有公示。",
            "anonymous": true
        });
        let r = self
            .app()
            .client
            .post(self.app().url("/api/v1/reports"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let number = json(r).await["report_number"].as_str().unwrap().to_string();
        let report: String = self
            .app()
            .db(move |conn| {
                reports::table
                    .filter(reports::number.eq(number))
                    .select(reports::id)
                    .first(conn)
                    .unwrap()
            })
            .await;
        let case = self
            .request_filing(&report, "village", &[&self.village_official])
            .await;
        let r = self.approve(&case).await;
        assert_eq!(r.status(), 200);
        (case, json(r).await)
    }

    async fn conclude(&self, token: &str, investigation: &Value, body: Value) -> reqwest::Response {
        self.app()
            .post_as(
                &format!(
                    "/api/v1/investigations/{}/conclude",
                    investigation["id"].as_str().unwrap()
                ),
                token,
                &body,
            )
            .await
    }

    async fn case(&self, token: &str, case: &str) -> Value {
        let r = self
            .app()
            .get_as(&format!("/api/v1/cases/{case}"), token)
            .await;
        assert_eq!(r.status(), 200);
        json(r).await
    }

    async fn close(&self, token: &str, case: &str, body: Value) -> reqwest::Response {
        self.app()
            .post_as(&format!("/api/v1/cases/{case}/close"), token, &body)
            .await
    }

    /// A `feedback` message to `report` of `case`, through `POST /cases/{id}/messages`.
    async fn send_feedback(&self, case: &str, report: &str) {
        let r = self
            .app()
            .post_as(
                &format!("/api/v1/cases/{case}/messages"),
                self.sup(),
                &json!({"body": "您反映的问题已核查处理，特此反馈。", "kind": "feedback",
                        "report_id": report}),
            )
            .await;
        assert_eq!(r.status(), 201, "feedback sent");
    }

    /// A remediation item on `case`, as the remediation endpoints will write one.
    pub(crate) async fn remediation_item(&self, case: &str) {
        let case = case.to_string();
        let (now, by) = (self.app().clock.now_naive(), self.ina.0.clone());
        self.app()
            .db(move |conn| {
                diesel::insert_into(remediation_items::table)
                    .values((
                        remediation_items::id.eq(uuid::Uuid::new_v4().to_string()),
                        remediation_items::case_id.eq(case),
                        remediation_items::description.eq("重新评议低保对象并公示"),
                        remediation_items::responsible_unit.eq("长宁镇人民政府"),
                        remediation_items::due_on.eq(d(2027, 1, 31)),
                        remediation_items::status.eq("open"),
                        remediation_items::version.eq(1),
                        remediation_items::created_by.eq(by),
                        remediation_items::created_at.eq(now),
                        remediation_items::updated_at.eq(now),
                    ))
                    .execute(conn)
                    .unwrap();
            })
            .await;
    }

    async fn audit_actions(&self) -> Vec<(String, String, String)> {
        #[derive(Queryable)]
        struct Entry {
            action: String,
            entity_type: String,
            entity_id: String,
        }
        self.app()
            .db(|conn| {
                audit_events::table
                    .order(audit_events::seq)
                    .select((
                        audit_events::action,
                        audit_events::entity_type,
                        audit_events::entity_id,
                    ))
                    .load::<Entry>(conn)
                    .unwrap()
                    .into_iter()
                    .map(|e| (e.action, e.entity_type, e.entity_id))
                    .collect()
            })
            .await
    }
}

impl World {
    /// Replaces team A's members.
    async fn set_team_a(&self, members: &[&str]) {
        let r = self
            .app
            .client
            .put(
                self.app
                    .url(&format!("/api/v1/teams/{}/members", self.team_a)),
            )
            .bearer_auth(&self.admin)
            .json(&json!({ "user_ids": members }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
}

/// The `investigation_assigned` emails queued: (recipient, case number), sorted.
async fn assignment_emails(app: &TestApp) -> Vec<(String, String)> {
    let payloads: Vec<String> = app
        .db(|conn| {
            jobs::table
                .filter(jobs::kind.eq("email"))
                .select(jobs::payload)
                .load(conn)
                .unwrap()
        })
        .await;
    let mut out: Vec<(String, String)> = payloads
        .iter()
        .map(|p| serde_json::from_str::<Value>(p).unwrap())
        .filter(|p| p["template"] == "investigation_assigned")
        .map(|p| {
            (
                p["recipient"].as_str().unwrap().to_string(),
                p["data"]["case_number"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

fn codes(problem: &Value) -> Vec<String> {
    problem["blockers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["code"].as_str().unwrap().to_string())
        .collect()
}

fn field_codes(problem: &Value) -> Vec<(String, String)> {
    problem["errors"]
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
}

async fn filing_a_village_case_opens_both_investigations_and_the_suspension(backend: Backend) {
    let l = Life::start(backend).await;
    let (case, _, _, filed) = l.filed().await;
    assert_eq!(filed["status"], "filed");
    assert_eq!(filed["accountability"]["opened"], true);
    assert_eq!(filed["accountability"]["target_level"], "township");
    let items = filed["investigations"].as_array().unwrap();
    assert_eq!(items.len(), 2, "exactly one accountability investigation");
    let (primary, account) = (&items[0], &items[1]);
    assert_eq!(primary["kind"], "primary");
    assert_eq!(primary["target_level"], "village");
    assert_eq!(primary["target_division_code"], VILLAGE);
    assert_eq!(primary["official_ids"], json!([l.village_official]));
    assert_eq!(primary["assignee_id"], l.ina.0.as_str());
    assert_eq!(primary["status"], "open");
    assert_eq!(primary["outcome"], Value::Null);
    // Filed on 2026-11-30 (county): 90 calendar days each by default.
    assert_eq!(primary["due_on"], "2027-02-28");
    assert_eq!(account["kind"], "accountability");
    assert_eq!(account["target_level"], "township");
    assert_eq!(account["target_division_code"], TOWNSHIP);
    assert_eq!(
        account["official_ids"],
        json!(l.leaders),
        "the four posts, in order; not the former, other posts or other townships"
    );
    assert_eq!(
        account["assignee_id"],
        l.inc.0.as_str(),
        "the other investigator"
    );
    assert_eq!(account["assignment_note"], Value::Null);
    assert_eq!(account["due_on"], "2027-02-28");
    assert_eq!(filed["accountability"]["investigation_id"], account["id"]);
    assert_eq!(filed["deadlines"]["investigation_due"], "2027-02-28");
    assert_eq!(filed["allowed_actions"], json!(["close"]));
    let suspension = filed["suspension_id"].as_str().unwrap().to_string();

    // The rows, the history and the audit entries.
    let s = suspension.clone();
    let (open, joined, events): (i64, i64, Vec<String>) = l
        .app()
        .db(move |conn| {
            (
                suspensions::table
                    .filter(suspensions::village_code.eq(VILLAGE))
                    .filter(suspensions::lifted_at.is_null())
                    .count()
                    .get_result(conn)
                    .unwrap(),
                suspension_cases::table
                    .filter(suspension_cases::suspension_id.eq(&s))
                    .count()
                    .get_result(conn)
                    .unwrap(),
                suspension_events::table
                    .filter(suspension_events::suspension_id.eq(&s))
                    .order(suspension_events::at)
                    .select(suspension_events::event)
                    .load(conn)
                    .unwrap(),
            )
        })
        .await;
    assert_eq!((open, joined, events), (1, 1, vec!["opened".to_string()]));
    let audit = l.audit_actions().await;
    let has = |action: &str, entity_type: &str, id: &str| {
        audit
            .iter()
            .any(|(a, t, e)| a == action && t == entity_type && e == id)
    };
    assert!(has("case.filing_approved", "case", &case));
    for inv in items {
        assert!(has(
            "investigation.opened",
            "investigation",
            inv["id"].as_str().unwrap()
        ));
    }
    assert!(has("suspension.opened", "suspension", &suspension));
    let number = filed["number"].as_str().unwrap().to_string();
    assert_eq!(
        assignment_emails(l.app()).await,
        [
            ("ina@probity.test".to_string(), number.clone()),
            ("inc@probity.test".to_string(), number.clone())
        ],
        "both assignees are told, through the jobs system"
    );

    // The case and the investigations endpoint show the same.
    let listed = json(
        l.app()
            .get_as(&format!("/api/v1/cases/{case}/investigations"), &l.ina.1)
            .await,
    )
    .await;
    assert_eq!(listed["items"], filed["investigations"]);
    assert_eq!(listed["next_cursor"], Value::Null);
    let view = l.case(&l.w.auditor, &case).await;
    assert_eq!(view["suspension_id"], suspension.as_str());
    assert_eq!(view["investigations"], filed["investigations"]);
    assert_problem(
        l.app()
            .get_as(
                &format!("/api/v1/cases/{case}/investigations"),
                &l.w.inv_b.1,
            )
            .await,
        403,
        "forbidden",
    )
    .await;

    // A second filed case in the village joins the open suspension.
    let (second, _, _, filed2) = l.filed().await;
    assert_ne!(second, case);
    assert_eq!(filed2["suspension_id"], suspension.as_str());
    let s = suspension.clone();
    let (count, events): (i64, Vec<String>) = l
        .app()
        .db(move |conn| {
            (
                suspensions::table.count().get_result(conn).unwrap(),
                suspension_events::table
                    .filter(suspension_events::suspension_id.eq(&s))
                    .order((suspension_events::at, suspension_events::event.desc()))
                    .select(suspension_events::event)
                    .load(conn)
                    .unwrap(),
            )
        })
        .await;
    assert_eq!(count, 1);
    assert_eq!(events, ["opened", "case_joined"]);
    let audit = l.audit_actions().await;
    assert!(audit
        .iter()
        .any(|(a, t, e)| a == "suspension.case_joined" && t == "suspension" && *e == suspension));
}

async fn the_accountability_investigation_goes_to_another_investigator_without_a_conflict(
    backend: Backend,
) {
    let l = Life::start(backend).await;
    // A team of one: nobody else; the note says why.
    l.w.set_team_a(&[&l.ina.0]).await;
    let (_, _, _, filed) = l.filed().await;
    let account = &filed["investigations"][1];
    assert_eq!(account["assignee_id"], Value::Null);
    assert!(account["assignment_note"]
        .as_str()
        .unwrap()
        .contains("no other active investigator"));

    // inc declared a conflict on the township; ind is free.
    let ind = investigator(l.app(), "ind").await;
    l.w.set_team_a(&[&l.ina.0, &l.inc.0]).await;
    let r = l
        .app()
        .post_as(
            "/api/v1/me/conflicts",
            &l.inc.1,
            &json!({"division_code": TOWNSHIP, "reason": "配偶在该镇任职"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let (_, _, _, filed) = l.filed().await;
    let account = &filed["investigations"][1];
    assert_eq!(account["assignee_id"], Value::Null);
    assert!(account["assignment_note"]
        .as_str()
        .unwrap()
        .contains("conflict of interest"));
    l.w.set_team_a(&[&l.ina.0, &l.inc.0, &ind.0]).await;
    let (_, _, _, filed) = l.filed().await;
    assert_eq!(filed["investigations"][0]["assignee_id"], l.ina.0.as_str());
    assert_eq!(filed["investigations"][1]["assignee_id"], ind.0.as_str());
}

async fn a_township_case_escalates_to_the_county_and_a_county_case_gets_none(backend: Backend) {
    let l = Life::start(backend).await;
    let (report, _) = l.w.report(TOWNSHIP, VILLAGE, "王镇长").await;
    let case = l
        .request_filing(&report, "township", &[&l.leaders[1]])
        .await;
    let filed = json(l.approve(&case).await).await;
    let items = filed["investigations"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["target_level"], "township");
    assert_eq!(items[0]["target_division_code"], TOWNSHIP);
    assert_eq!(items[1]["kind"], "accountability");
    assert_eq!(items[1]["target_level"], "county");
    assert_eq!(items[1]["target_division_code"], COUNTY);
    assert_eq!(items[1]["official_ids"], json!([l.county_official]));
    assert_eq!(filed["accountability"]["target_level"], "county");
    assert!(
        filed["suspension_id"].is_string(),
        "the village is suspended"
    );

    let (report, _) = l.w.report(TOWNSHIP, VILLAGE, "孙主任").await;
    let case = l
        .request_filing(&report, "county", &[&l.county_official])
        .await;
    let r = l.approve(&case).await;
    assert_eq!(r.status(), 200);
    let filed = json(r).await;
    let items = filed["investigations"].as_array().unwrap();
    assert_eq!(
        items.len(),
        1,
        "a county-level subject gets no accountability investigation"
    );
    assert_eq!(items[0]["kind"], "primary");
    assert_eq!(items[0]["target_level"], "county");
    assert_eq!(items[0]["target_division_code"], COUNTY);
    assert_eq!(filed["accountability"]["opened"], false);
    assert!(filed["accountability"]["reason"]
        .as_str()
        .unwrap()
        .contains("county-level"));
    assert_eq!(filed["deadlines"]["investigation_due"], "2027-02-28");
}

async fn the_escalation_map_is_configuration(backend: Backend) {
    let l = Life::on(
        app(backend)
            .set("accountability.escalation.village", "county")
            .set("deadlines.accountability_days", 30),
    )
    .await;
    let (_, _, _, filed) = l.filed().await;
    let account = &filed["investigations"][1];
    assert_eq!(account["target_level"], "county");
    assert_eq!(account["target_division_code"], COUNTY);
    assert_eq!(account["official_ids"], json!([l.county_official]));
    assert_eq!(account["due_on"], "2026-12-30");
    assert_eq!(filed["deadlines"]["investigation_due"], "2026-12-30");
}

/// Every row filing writes, and the case's own state.
#[derive(Debug, PartialEq, Eq)]
struct Counts {
    status: String,
    version: i32,
    investigations: i64,
    officials: i64,
    suspensions: i64,
    suspension_cases: i64,
    suspension_events: i64,
    audit: i64,
    jobs: i64,
}

async fn counts(app: &TestApp, case: &str) -> Counts {
    let case = case.to_string();
    app.db(move |conn| {
        #[derive(Queryable)]
        struct State {
            status: String,
            version: i32,
        }
        let state: State = cases::table
            .find(&case)
            .select((cases::status, cases::version))
            .first(conn)
            .unwrap();
        Counts {
            status: state.status,
            version: state.version,
            investigations: investigations::table.count().get_result(conn).unwrap(),
            officials: investigation_officials::table
                .count()
                .get_result(conn)
                .unwrap(),
            suspensions: suspensions::table.count().get_result(conn).unwrap(),
            suspension_cases: suspension_cases::table.count().get_result(conn).unwrap(),
            suspension_events: suspension_events::table.count().get_result(conn).unwrap(),
            audit: audit_events::table.count().get_result(conn).unwrap(),
            jobs: jobs::table.count().get_result(conn).unwrap(),
        }
    })
    .await
}

/// Makes every insert into `table` fail, with a trigger of the test's own (no code hook).
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

async fn a_failure_anywhere_in_filing_leaves_nothing(backend: Backend) {
    // No worker: nothing else writes jobs while the counts are compared.
    let l = Life::on(app(backend).set("jobs.worker_enabled", "false")).await;
    let (report, _) = l.w.report(TOWNSHIP, VILLAGE, "张某某").await;
    let case = l
        .request_filing(&report, "village", &[&l.village_official])
        .await;
    let before = counts(l.app(), &case).await;
    assert_eq!(before.status, "filing_requested");
    for table in [
        "audit_events",
        "investigations",
        "investigation_officials",
        "jobs",
        "suspensions",
        "suspension_cases",
        "suspension_events",
    ] {
        refuse_inserts(l.app(), table).await;
        assert_problem(l.approve(&case).await, 500, "internal_error").await;
        assert_eq!(
            counts(l.app(), &case).await,
            before,
            "a failure inserting into {table} left something behind"
        );
        allow_inserts(l.app(), table).await;
    }
    let r = l.approve(&case).await;
    assert_eq!(r.status(), 200);
    let after = counts(l.app(), &case).await;
    assert_eq!(after.status, "filed");
    assert_eq!(after.version, before.version + 1);
    assert_eq!(after.investigations, 2);
    assert_eq!(after.officials, 5, "one accused and four leaders");
    assert_eq!(
        (
            after.suspensions,
            after.suspension_cases,
            after.suspension_events
        ),
        (1, 1, 1)
    );
    // Two assignment emails, and the suspension's announcement to the benefit offices and
    // webhook subscribers (issue 12).
    assert_eq!(after.jobs, before.jobs + 3);
    assert_eq!(after.audit, before.audit + 4);
}

async fn conclusions_are_checked_and_the_last_one_concludes_the_case(backend: Backend) {
    let l = Life::start(backend).await;
    let (case, _, _, filed) = l.filed().await;
    let (primary, account) = (&filed["investigations"][0], &filed["investigations"][1]);
    let ina = l.ina.1.clone();

    let p = assert_problem(
        l.conclude(&ina, primary, json!({})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(
        field_codes(&p),
        [
            ("outcome".to_string(), "required".to_string()),
            ("findings".to_string(), "required".to_string())
        ]
    );
    let p = assert_problem(
        l.conclude(
            &ina,
            primary,
            json!({"outcome": "duty_fulfilled", "findings": "x"}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(
        field_codes(&p)[0],
        ("outcome".into(), "unknown_value".into())
    );
    let bad = json!({
        "outcome": "substantiated",
        "findings": "查实。",
        "sanctions": [
            {"official_id": "nobody", "category": "party", "type": "demerit",
             "decided_on": "2026-12-01", "document_number": " "},
            {"official_id": l.village_official, "category": "police", "type": "warning",
             "decided_on": "yesterday", "document_number": "寻纪发〔2026〕1号\n附件"}
        ]
    });
    let p = assert_problem(
        l.conclude(&ina, primary, bad).await,
        422,
        "validation_failed",
    )
    .await;
    let got = field_codes(&p);
    for (field, code) in [
        ("sanctions[0].official_id", "unknown_official"),
        ("sanctions[0].type", "unknown_value"),
        ("sanctions[0].decided_on", "in_future"),
        ("sanctions[0].document_number", "required"),
        ("sanctions[1].category", "unknown_value"),
        ("sanctions[1].decided_on", "invalid_date"),
        ("sanctions[1].document_number", "invalid_characters"),
    ] {
        assert!(
            got.contains(&(field.to_string(), code.to_string())),
            "{field} {code} in {got:?}"
        );
    }
    let sanction = json!({"official_id": l.village_official, "category": "party",
                          "type": "serious_warning", "decided_on": "2026-11-28",
                          "document_number": "寻纪发〔2026〕12号"});
    let p = assert_problem(
        l.conclude(
            &ina,
            primary,
            json!({"outcome": "unsubstantiated", "findings": "x", "sanctions": [sanction]}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(
        field_codes(&p),
        [("sanctions".into(), "not_allowed".into())]
    );
    // An accountability investigation sanctions the township's leadership, nobody else.
    let p = assert_problem(
        l.conclude(
            &l.inc.1,
            account,
            json!({"outcome": "duty_not_fulfilled", "findings": "x", "sanctions": [sanction],
                   "false_accusation": {"reason": "x"}}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(
        field_codes(&p),
        [
            (
                "sanctions[0].official_id".to_string(),
                "not_target_official".to_string()
            ),
            ("false_accusation".to_string(), "not_allowed".to_string())
        ]
    );
    // Other teams and readers do not conclude.
    for token in [&l.w.inv_b.1, &l.w.auditor] {
        let r = l
            .conclude(
                token,
                primary,
                json!({"outcome": "substantiated", "findings": "x"}),
            )
            .await;
        assert_problem(r, 403, "forbidden").await;
    }

    let r = l
        .conclude(
            &ina,
            primary,
            json!({
                "outcome": "substantiated",
                "findings": "村支书将低保名额给予亲属三户，评议结果未公示。",
                "sanctions": [sanction, {"official_id": l.village_official,
                    "category": "government", "type": "demerit", "decided_on": "2026-11-29",
                    "document_number": "寻监发〔2026〕3号"}],
                "version": 1
            }),
        )
        .await;
    assert_eq!(r.status(), 200);
    let done = json(r).await;
    assert_eq!(done["status"], "concluded");
    assert_eq!(done["outcome"], "substantiated");
    assert_eq!(done["concluded_by"], l.ina.0.as_str());
    assert_eq!(done["sanctions"][0]["type"], "serious_warning");
    assert_eq!(done["sanctions"][1]["document_number"], "寻监发〔2026〕3号");
    assert_eq!(
        done["case_status"], "filed",
        "the accountability one is open"
    );
    let calendar = probity::calendar::load(Path::new("config/calendar"))
        .unwrap()
        .0;
    let feedback_due = calendar.add_working_days(d(2026, 11, 30), 15).to_string();
    assert_eq!(done["feedback_due"], feedback_due.as_str());
    assert_problem(
        l.conclude(
            &ina,
            primary,
            json!({"outcome": "substantiated", "findings": "x"}),
        )
        .await,
        409,
        "investigation_concluded",
    )
    .await;
    let p = assert_problem(
        l.conclude(
            &l.inc.1,
            account,
            json!({"outcome": "duty_fulfilled", "findings": "x", "version": 7}),
        )
        .await,
        409,
        "version_conflict",
    )
    .await;
    assert_eq!(p["version"], 1);

    let r = l
        .conclude(
            &l.inc.1,
            account,
            json!({
                "outcome": "duty_not_fulfilled",
                "findings": "镇党委对低保评议监督缺位，未组织复核。",
                "sanctions": [{"official_id": l.leaders[3], "category": "organisational",
                    "type": "admonishment_talk", "decided_on": "2026-11-30",
                    "document_number": "寻纪〔2026〕诫字5号"}]
            }),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(json(r).await["case_status"], "concluded");
    let view = l.case(l.sup(), &case).await;
    assert_eq!(view["status"], "concluded");
    assert_eq!(view["deadlines"]["feedback_due"], feedback_due.as_str());
    assert_eq!(view["deadlines"]["investigation_due"], Value::Null);
    assert_eq!(view["due_on"], feedback_due.as_str());
    assert_eq!(view["allowed_actions"], json!(["close", "reopen"]));
    let queue = json(
        l.app()
            .get_as("/api/v1/cases?status=concluded", l.sup())
            .await,
    )
    .await;
    assert_eq!(queue["items"][0]["id"], case.as_str());
    assert_eq!(queue["items"][0]["feedback_due"], feedback_due.as_str());
    let actions: Vec<String> = l.audit_actions().await.into_iter().map(|a| a.0).collect();
    for a in [
        "investigation.concluded",
        "case.investigation_concluded",
        "case.concluded",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} audited");
    }
}

async fn a_false_accusation_is_for_supervisors_only_and_never_flags_the_reporter(backend: Backend) {
    let l = Life::start(backend).await;
    let (case, report, code, filed) = l.filed().await;
    let r = l
        .conclude(
            &l.ina.1,
            &filed["investigations"][0],
            json!({"outcome": "unsubstantiated", "findings": "经查，名额评定符合规定。",
                   "false_accusation": {"reason": "举报人捏造事实诬告他人"}}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let answer = json(r).await;
    assert!(answer.get("false_accusation").is_none(), "{answer}");
    let path = format!("/api/v1/cases/{case}/investigations");
    for token in [&l.ina.1, &l.w.auditor] {
        let listed = json(l.app().get_as(&path, token).await).await;
        assert!(!listed.to_string().contains("捏造"), "{listed}");
        assert!(!l.case(token, &case).await.to_string().contains("捏造"));
    }
    let listed = json(l.app().get_as(&path, l.sup()).await).await;
    assert_eq!(
        listed["items"][0]["false_accusation"]["reason"],
        "举报人捏造事实诬告他人"
    );
    assert_eq!(
        l.case(l.sup(), &case).await["investigations"][0]["false_accusation"]["recorded_by"],
        l.ina.0.as_str()
    );
    // The reporter reads 不属实 like any untrue report; nothing about them changed.
    let view = l.w.reporter_view(&code).await;
    assert_eq!(view["outcome_zh"], "经核查，您反映的问题不属实。");
    let text = view.to_string();
    assert!(
        !text.contains("诬告") && !text.contains("accusation"),
        "{text}"
    );
    let (anonymous, status, findings): (bool, String, i64) = l
        .app()
        .db(move |conn| {
            #[derive(Queryable)]
            struct R {
                anonymous: bool,
                status: String,
            }
            let r: R = reports::table
                .find(&report)
                .select((reports::anonymous, reports::status))
                .first(conn)
                .unwrap();
            (
                r.anonymous,
                r.status,
                false_accusations::table.count().get_result(conn).unwrap(),
            )
        })
        .await;
    assert_eq!(
        (anonymous, status.as_str(), findings),
        (false, "accepted", 1)
    );
    let details: Vec<String> = l
        .app()
        .db(|conn| {
            audit_events::table
                .filter(audit_events::entity_type.eq("false_accusation"))
                .select(audit_events::details)
                .load(conn)
                .unwrap()
        })
        .await;
    assert_eq!(details.len(), 1);
    assert!(!details[0].contains("捏造"), "{}", details[0]);
    // The case's timeline: filing's investigations and suspension for everyone who reads the
    // case; the false-accusation finding for supervisors only.
    let actions = |t: &Value| -> Vec<String> {
        t["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap().to_string())
            .collect()
    };
    let path = format!("/api/v1/cases/{case}/timeline?limit=100");
    let for_sup = actions(&json(l.app().get_as(&path, l.sup()).await).await);
    for action in [
        "investigation.opened",
        "investigation.concluded",
        "false_accusation.recorded",
    ] {
        assert!(for_sup.iter().any(|a| a == action), "{action}: {for_sup:?}");
    }
    assert!(
        for_sup.iter().any(|a| a.starts_with("suspension.")),
        "{for_sup:?}"
    );
    for token in [&l.ina.1, &l.w.auditor] {
        let seen = actions(&json(l.app().get_as(&path, token).await).await);
        assert!(
            seen.iter().any(|a| a == "investigation.concluded"),
            "{seen:?}"
        );
        assert!(
            !seen.iter().any(|a| a.starts_with("false_accusation")),
            "{seen:?}"
        );
    }
}

async fn every_close_blocker_appears_together_and_nobody_overrides_them(backend: Backend) {
    let l = Life::start(backend).await;
    let (case, report, _, filed) = l.filed().await;
    let (primary, account) = (&filed["investigations"][0], &filed["investigations"][1]);
    let p_id = primary["id"].as_str().unwrap();
    let a_id = account["id"].as_str().unwrap();
    let body = json!({"reason": "办理完毕"});

    let p = assert_problem(
        l.close(l.sup(), &case, body.clone()).await,
        409,
        "close_blocked",
    )
    .await;
    assert_eq!(
        codes(&p),
        [
            "investigation_open",
            "investigation_open",
            "feedback_not_sent"
        ]
    );
    assert_eq!(p["blockers"][0]["investigation_id"], p_id);
    assert_eq!(p["blockers"][1]["investigation_id"], a_id);

    let r = l
        .conclude(
            &l.ina.1,
            primary,
            json!({"outcome": "substantiated", "findings": "查实。"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let p = assert_problem(
        l.close(l.sup(), &case, body.clone()).await,
        409,
        "close_blocked",
    )
    .await;
    assert_eq!(
        codes(&p),
        [
            "investigation_open",
            "clawback_unanswered",
            "remediation_plan_missing",
            "feedback_not_sent"
        ],
        "every blocker, not just the first"
    );
    assert_eq!(p["blockers"][0]["investigation_id"], a_id);
    assert_eq!(p["blockers"][3]["report_ids"], json!([report]));
    // No override: an administrator may not close, nor an investigator.
    assert_problem(
        l.close(&l.w.admin, &case, body.clone()).await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        l.close(&l.ina.1, &case, body.clone()).await,
        403,
        "forbidden",
    )
    .await;

    // The clawback statement.
    let statement = format!("/api/v1/cases/{case}/clawback-statement");
    let p = assert_problem(
        l.app()
            .post_as(
                &statement,
                &l.ina.1,
                &json!({"no_improper_payment": false, "reason": "x"}),
            )
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(
        field_codes(&p),
        [("no_improper_payment".into(), "not_allowed".into())]
    );
    let p = assert_problem(
        l.app()
            .post_as(&statement, &l.ina.1, &json!({"no_improper_payment": true}))
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_codes(&p), [("reason".into(), "required".into())]);
    let r = l
        .app()
        .post_as(
            &statement,
            &l.ina.1,
            &json!({"no_improper_payment": true, "reason": "经核查，无违规发放资金"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let s = json(r).await;
    assert_eq!(s["case_id"], case.as_str());
    assert_eq!(s["no_improper_payment"], true);
    assert_eq!(s["recorded_by"], l.ina.0.as_str());
    let p = assert_problem(
        l.close(l.sup(), &case, body.clone()).await,
        409,
        "close_blocked",
    )
    .await;
    assert_eq!(
        codes(&p),
        [
            "investigation_open",
            "remediation_plan_missing",
            "feedback_not_sent"
        ]
    );
    l.remediation_item(&case).await;
    let p = assert_problem(
        l.close(l.sup(), &case, body.clone()).await,
        409,
        "close_blocked",
    )
    .await;
    assert_eq!(codes(&p), ["investigation_open", "feedback_not_sent"]);
    l.send_feedback(&case, &report).await;
    let view = l.case(l.sup(), &case).await;
    assert_eq!(
        view["deadlines"]["feedback_due"],
        Value::Null,
        "feedback sent"
    );
    let p = assert_problem(
        l.close(l.sup(), &case, body.clone()).await,
        409,
        "close_blocked",
    )
    .await;
    assert_eq!(codes(&p), ["investigation_open"]);

    let r = l
        .conclude(
            &l.inc.1,
            account,
            json!({"outcome": "duty_fulfilled", "findings": "镇党委已履行监督职责。"}),
        )
        .await;
    assert_eq!(json(r).await["case_status"], "concluded");
    let p = assert_problem(
        l.close(l.sup(), &case, json!({})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_codes(&p), [("reason".into(), "required".into())]);
    let version = l.case(l.sup(), &case).await["version"].as_i64().unwrap();
    assert_problem(
        l.close(
            l.sup(),
            &case,
            json!({"reason": "x", "version": version - 1}),
        )
        .await,
        409,
        "version_conflict",
    )
    .await;
    let r = l
        .close(
            l.sup(),
            &case,
            json!({"reason": "办理完毕", "version": version}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let closed = json(r).await;
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["close_reason"], "办理完毕");
    assert_eq!(closed["closed_by"], l.w.supervisor_id().await.as_str());
    assert_eq!(closed["due_on"], Value::Null);
    assert_eq!(closed["allowed_actions"], json!(["reopen"]));
    let p = assert_problem(
        l.close(l.sup(), &case, body.clone()).await,
        409,
        "invalid_transition",
    )
    .await;
    assert_eq!(p["status"], 409);
    assert_problem(
        l.app()
            .post_as(
                &statement,
                &l.ina.1,
                &json!({"no_improper_payment": true, "reason": "x"}),
            )
            .await,
        409,
        "case_not_filed",
    )
    .await;

    // A case not filed cannot close, and the refusal names what it allows.
    let (other, _) = l.w.report(TOWNSHIP, VILLAGE, "某某").await;
    let other = l.w.accept(&other).await["case_id"]
        .as_str()
        .unwrap()
        .to_string();
    let p = assert_problem(
        l.close(l.sup(), &other, body).await,
        409,
        "invalid_transition",
    )
    .await;
    assert_eq!(p["allowed_actions"][0], "inquiry");
}

async fn concurrent_closes_have_one_winner(backend: Backend) {
    let l = Life::start(backend).await;
    // Anonymous, unsubstantiated: nothing blocks once both investigations are concluded.
    let (case, filed) = l.filed_anonymous().await;
    for (token, inv, outcome) in [
        (&l.ina.1, &filed["investigations"][0], "unsubstantiated"),
        (&l.inc.1, &filed["investigations"][1], "duty_fulfilled"),
    ] {
        let r = l
            .conclude(
                token,
                inv,
                json!({"outcome": outcome, "findings": "经查不实。"}),
            )
            .await;
        assert_eq!(r.status(), 200);
    }
    let body = json!({"reason": "办理完毕"});
    let (a, b) = tokio::join!(
        l.close(l.sup(), &case, body.clone()),
        l.close(l.sup(), &case, body.clone())
    );
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409]);
    let closes = l
        .audit_actions()
        .await
        .into_iter()
        .filter(|(a, _, e)| a == "case.closed" && *e == case)
        .count();
    assert_eq!(closes, 1, "closed once");
    assert_eq!(l.case(l.sup(), &case).await["status"], "closed");
}

async fn reopening_restores_the_investigation_and_keeps_its_history(backend: Backend) {
    let l = Life::start(backend).await;
    let (case, report, _, filed) = l.filed().await;
    let (primary, account) = (&filed["investigations"][0], &filed["investigations"][1]);
    let sanction = json!({"official_id": l.village_official, "category": "party",
                          "type": "warning", "decided_on": "2026-11-30",
                          "document_number": "寻纪发〔2026〕20号"});
    let r = l
        .conclude(
            &l.ina.1,
            primary,
            json!({"outcome": "partly_substantiated", "findings": "部分属实：一户不符合条件。",
                   "sanctions": [sanction]}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let r = l
        .conclude(
            &l.inc.1,
            account,
            json!({"outcome": "duty_fulfilled", "findings": "镇党委已履行监督职责。"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let statement = format!("/api/v1/cases/{case}/clawback-statement");
    let r = l
        .app()
        .post_as(
            &statement,
            &l.ina.1,
            &json!({"no_improper_payment": true, "reason": "未发放"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    l.remediation_item(&case).await;
    l.send_feedback(&case, &report).await;
    let r = l.close(l.sup(), &case, json!({"reason": "办理完毕"})).await;
    assert_eq!(r.status(), 200);

    // The reporter objected with new evidence a minute later.
    l.app().clock.advance(chrono::Duration::minutes(1));
    let path = format!("/api/v1/cases/{case}/reopen");
    assert_problem(
        l.app()
            .post_as(&path, &l.ina.1, &json!({"reason": "x"}))
            .await,
        403,
        "forbidden",
    )
    .await;
    let p = assert_problem(
        l.app()
            .post_as(&path, l.sup(), &json!({"reason": " "}))
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_codes(&p), [("reason".into(), "required".into())]);
    let r = l
        .app()
        .post_as(
            &path,
            l.sup(),
            &json!({"reason": "举报人提出异议并补充新证据"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let reopened = json(r).await;
    assert_eq!(reopened["status"], "filed");
    assert_eq!(reopened["close_reason"], Value::Null);
    assert_eq!(reopened["deadlines"]["feedback_due"], Value::Null);
    let p = &reopened["investigations"][0];
    assert_eq!(p["status"], "open");
    assert_eq!(p["outcome"], Value::Null);
    assert_eq!(p["findings"], Value::Null);
    assert_eq!(p["sanctions"], json!([]));
    assert_eq!(p["due_on"], "2027-02-28");
    let earlier = &p["earlier_conclusions"][0];
    assert_eq!(earlier["outcome"], "partly_substantiated");
    assert_eq!(earlier["findings"], "部分属实：一户不符合条件。");
    assert_eq!(
        earlier["sanctions"][0]["document_number"],
        "寻纪发〔2026〕20号"
    );
    assert_eq!(earlier["reopen_reason"], "举报人提出异议并补充新证据");
    assert_eq!(reopened["investigations"][1]["status"], "concluded", "kept");
    assert_eq!(reopened["deadlines"]["investigation_due"], "2027-02-28");

    // A filed case with its primary open has nothing to reopen.
    let p = assert_problem(
        l.app()
            .post_as(&path, l.sup(), &json!({"reason": "再次"}))
            .await,
        409,
        "invalid_transition",
    )
    .await;
    assert_eq!(p["allowed_actions"], json!(["close"]));
    let p = assert_problem(
        l.close(l.sup(), &case, json!({"reason": "x"})).await,
        409,
        "close_blocked",
    )
    .await;
    assert_eq!(codes(&p), ["investigation_open", "feedback_not_sent"]);

    // Concluded again: the feedback sent before the reopen does not count for the new result.
    let r = l
        .conclude(
            &l.ina.1,
            &reopened["investigations"][0],
            json!({"outcome": "substantiated", "findings": "补充核查：三户均不符合条件。"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(json(r).await["case_status"], "concluded");
    let p = assert_problem(
        l.close(l.sup(), &case, json!({"reason": "x"})).await,
        409,
        "close_blocked",
    )
    .await;
    assert_eq!(codes(&p), ["feedback_not_sent"]);
    l.send_feedback(&case, &report).await;
    let r = l.close(l.sup(), &case, json!({"reason": "复查完毕"})).await;
    assert_eq!(r.status(), 200);
    let view = l.case(l.sup(), &case).await;
    assert_eq!(view["investigations"][0]["outcome"], "substantiated");
    assert_eq!(
        view["investigations"][0]["earlier_conclusions"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let audit = l.audit_actions().await;
    let count = |action: &str| audit.iter().filter(|(a, _, _)| a == action).count();
    assert_eq!(count("case.reopened"), 1);
    assert_eq!(count("investigation.reopened"), 1);
    assert_eq!(count("investigation.concluded"), 3);
    assert_eq!(count("case.closed"), 2);

    // A case closed without action goes back to registered.
    let (other, _) = l.w.report(TOWNSHIP, VILLAGE, "某某").await;
    let other = l.w.accept(&other).await["case_id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = l
        .app()
        .post_as(
            &format!("/api/v1/cases/{other}/disposition"),
            l.sup(),
            &json!({"disposition": "close_without_action", "reason": "已整改到位"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let r = l
        .app()
        .post_as(
            &format!("/api/v1/cases/{other}/reopen"),
            l.sup(),
            &json!({"reason": "发现新线索"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let view = json(r).await;
    assert_eq!(view["status"], "registered");
    assert_eq!(view["disposition"], Value::Null);
    assert_eq!(view["investigations"], json!([]));
}

async fn the_reporter_reads_the_outcome_and_nothing_else(backend: Backend) {
    let l = Life::start(backend).await;
    let (_, _, code, filed) = l.filed().await;
    let before = l.w.reporter_view(&code).await;
    assert_eq!(before["outcome_zh"], Value::Null);
    assert_eq!(before["status"], "accepted");
    let r = l
        .conclude(
            &l.ina.1,
            &filed["investigations"][0],
            json!({
                "outcome": "substantiated",
                "findings": "村支书将低保名额给予亲属三户。",
                "sanctions": [{"official_id": l.village_official, "category": "party",
                    "type": "serious_warning", "decided_on": "2026-11-28",
                    "document_number": "寻纪发〔2026〕12号"}]
            }),
        )
        .await;
    assert_eq!(r.status(), 200);
    let view = l.w.reporter_view(&code).await;
    assert_eq!(view["status"], "concluded");
    assert_eq!(view["status_zh"], "已办结");
    assert_eq!(
        view["outcome_zh"],
        "经核查，您反映的问题属实，已依规依纪依法处理。"
    );
    assert_eq!(view["next_deadline"]["kind"], "feedback");
    let text = view.to_string();
    let staff_ids = [l.ina.0.clone(), l.inc.0.clone(), l.w.supervisor_id().await];
    for secret in [
        "寻纪发",
        "村支书将低保名额",
        "serious_warning",
        "严重警告",
        "张村支书",
        "测试",
        &staff_ids[0],
        &staff_ids[1],
        &staff_ids[2],
    ] {
        assert!(
            !text.contains(secret),
            "the reporter's view shows {secret}: {text}"
        );
    }

    // The /follow-up page says the same, and no more.
    let code_page = crate::web::FormPage::open(l.app(), "/follow-up", &[]).await;
    let r = l
        .app()
        .client
        .post(l.app().url("/follow-up"))
        .header("cookie", &code_page.cookie)
        .header("sec-fetch-site", "same-origin")
        .form(&[
            ("csrf_token", code_page.token.as_str()),
            ("receipt_code", code.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let session = crate::web::cookie_pair(&crate::web::set_cookie(&r, "probity_reporter").unwrap());
    let page =
        crate::web::FormPage::open(l.app(), "/follow-up/report", &[&session, &code_page.cookie])
            .await;
    assert!(
        page.html
            .contains("办理结果：经核查，您反映的问题属实，已依规依纪依法处理。"),
        "{}",
        page.html
    );
    assert!(page.html.contains("办理结果反馈期限"));
    for secret in ["寻纪发", "村支书将低保名额", "严重警告", "张村支书", "测试"]
    {
        assert!(!page.html.contains(secret), "the page shows {secret}");
    }
}

impl World {
    /// The supervisor's user id.
    async fn supervisor_id(&self) -> String {
        json(self.app.get_as("/api/v1/me", &self.supervisor).await).await["user"]["id"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

/// Recording a clawback answers the case's clawback question for the closing guard (issue 11,
/// item 2), just as a clawback statement does.
async fn a_recorded_clawback_answers_the_clawback_question(backend: Backend) {
    let l = Life::start(backend).await;
    let (case, _, _, filed) = l.filed().await;
    let r = l
        .conclude(
            &l.ina.1,
            &filed["investigations"][0],
            json!({"outcome": "substantiated", "findings": "村支书违规将亲属纳入低保。"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let body = json!({"reason": "办结"});
    let p = assert_problem(
        l.close(l.sup(), &case, body.clone()).await,
        409,
        "close_blocked",
    )
    .await;
    assert!(
        codes(&p).contains(&"clawback_unanswered".to_string()),
        "{p}"
    );
    let r = l
        .app()
        .post_as(
            &format!("/api/v1/cases/{case}/clawbacks"),
            &l.ina.1,
            &json!({
                "beneficiary": {"name": "王某", "id_number": "11010519491231002X",
                                "village_code": VILLAGE},
                "programme": "dibao",
                "grant_period_from": "2025-01-01", "grant_period_to": "2025-12-31",
                "amount_due_fen": 360000,
                "due_on": "2027-03-31",
                "signers": [{"official_id": l.village_official, "stage": "village_deliberation",
                             "signed_on": "2025-03-02"}]
            }),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let p = assert_problem(l.close(l.sup(), &case, body).await, 409, "close_blocked").await;
    assert!(
        !codes(&p).contains(&"clawback_unanswered".to_string()),
        "{p}"
    );
    assert!(
        codes(&p).contains(&"remediation_plan_missing".to_string()),
        "{p}"
    );
}

// ---------------------------------------------------------------------------------------------
// Defects found by trying to break issues 9–11 (branch `brk`). Each test states the expected
// behaviour; they fail until the product is fixed.

/// 一案双查 (issue 10, item 2): the accountability investigation goes to another investigator
/// than the primary's. `POST /cases/{id}/assign` moves the primary investigation with the case,
/// so reassigning a filed case to the accountability investigator must not leave one person
/// holding both investigations (refused, or the accountability one moved to somebody else).
async fn reassigning_a_filed_case_keeps_the_two_investigations_apart(backend: Backend) {
    let l = Life::start(backend).await;
    let (case, _, _, filed) = l.filed().await;
    assert_eq!(filed["investigations"][0]["assignee_id"], l.ina.0.as_str());
    assert_eq!(filed["investigations"][1]["assignee_id"], l.inc.0.as_str());
    let r = l
        .app()
        .post_as(
            &format!("/api/v1/cases/{case}/assign"),
            l.sup(),
            &json!({"assignee_id": l.inc.0}),
        )
        .await;
    let status = r.status().as_u16();
    assert!(status < 500, "assign answered {status}");
    let view = l.case(l.sup(), &case).await;
    let primary = &view["investigations"][0];
    let account = &view["investigations"][1];
    assert_eq!(primary["kind"], "primary");
    assert_eq!(account["kind"], "accountability");
    assert!(
        primary["assignee_id"].is_null() || primary["assignee_id"] != account["assignee_id"],
        "after assign ({status}) one investigator holds both investigations: {} and {}",
        primary["assignee_id"],
        account["assignee_id"]
    );
}

/// The case view's `allowed_actions` lists what the case allows now (SPEC.md "Case"): a filed
/// case whose primary investigation is open cannot be reopened (409 `invalid_transition`), so
/// the view must not offer `reopen`.
async fn the_case_view_offers_reopen_only_when_reopen_is_allowed(backend: Backend) {
    let l = Life::start(backend).await;
    let (case, _, _, _) = l.filed().await;
    let p = assert_problem(
        l.app()
            .post_as(
                &format!("/api/v1/cases/{case}/reopen"),
                l.sup(),
                &json!({"reason": "重新调查"}),
            )
            .await,
        409,
        "invalid_transition",
    )
    .await;
    assert!(
        !p["allowed_actions"]
            .as_array()
            .unwrap()
            .contains(&json!("reopen")),
        "{p}"
    );
    let view = l.case(l.sup(), &case).await;
    assert_eq!(
        view["allowed_actions"], p["allowed_actions"],
        "the case view offers other actions than the refusal names"
    );
}

/// Every change of a case adds one to its `version` (SPEC.md "Case": stale versions are 409
/// `version_conflict`). The feedback message that ends `feedback_due` changes the case's
/// deadlines and `due_on`, so it must change `version` too, and the message answer must carry
/// the new version.
async fn feedback_that_ends_the_feedback_deadline_changes_the_version(backend: Backend) {
    let l = Life::start(backend).await;
    let (case, report, _, filed) = l.filed().await;
    let r = l
        .conclude(
            &l.ina.1,
            &filed["investigations"][0],
            json!({"outcome": "unsubstantiated", "findings": "经核查，反映问题不属实。"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let before = l.case(l.sup(), &case).await;
    assert!(before["deadlines"]["feedback_due"].is_string(), "{before}");
    let r = l
        .app()
        .post_as(
            &format!("/api/v1/cases/{case}/messages"),
            l.sup(),
            &json!({"body": "经核查，您反映的问题不属实。", "kind": "feedback",
                    "report_id": report}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let answer = json(r).await;
    let after = l.case(l.sup(), &case).await;
    assert!(after["deadlines"]["feedback_due"].is_null(), "{after}");
    assert!(
        after["version"].as_i64().unwrap() > before["version"].as_i64().unwrap(),
        "feedback_due went from {} to null but the version stayed {}",
        before["deadlines"]["feedback_due"],
        after["version"]
    );
    assert_eq!(
        answer["version"], after["version"],
        "the message answer's version"
    );
}

/// `POST /cases/{id}/assign` on a closed case is 409 `case_not_open` (docs/custodian.md); its
/// `detail` must speak of assigning, not of merging a report.
async fn assigning_a_closed_case_says_why_without_talking_of_merging(backend: Backend) {
    let l = Life::start(backend).await;
    let (report, _) = l.w.report(TOWNSHIP, VILLAGE, "张某某").await;
    let r =
        l.w.triage(
            &report,
            json!({"action": "accept", "subject_level": "village", "accused_official_ids": []}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let case = json(r).await["case_id"].as_str().unwrap().to_string();
    let r = l
        .app()
        .post_as(
            &format!("/api/v1/cases/{case}/disposition"),
            l.sup(),
            &json!({"disposition": "close_without_action", "reason": "不属于受理范围"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let p = assert_problem(
        l.app()
            .post_as(
                &format!("/api/v1/cases/{case}/assign"),
                l.sup(),
                &json!({"assignee_id": l.ina.0}),
            )
            .await,
        409,
        "case_not_open",
    )
    .await;
    let detail = p["detail"].as_str().unwrap();
    assert!(!detail.contains("merged"), "detail: {detail}");
}
