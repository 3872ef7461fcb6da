//! Teams, routing rules and conflict-of-interest declarations (issue 9, items 2 and 7): the
//! admin endpoints, the lookups other capabilities call (`routing::route`,
//! `conflicts::find_conflict`) on the real database, permissions and audit entries.

use chrono::{TimeZone, Utc};
use diesel::prelude::*;
use probity::clock::Clock;
use probity::db::schema::{audit_events, routing_rules};
use probity::db::Backend;
use probity::domain::ids::{RoutingRuleId, TeamId, UserId};
use probity::domain::report::Programme;
use probity::domain::roles::Role;
use probity::domain::subject_level::SubjectLevel;
use probity::routing::models::RoutingRuleRow;
use probity::routing::RoutingError;
use serde_json::{json, Value};

use crate::helpers::{app, assert_problem, TestApp};

pub fn tests() -> Vec<(&'static str, crate::helpers::AsyncTest)> {
    crate::tests![
        teams_are_created_listed_and_their_members_replaced,
        a_specific_rule_beats_the_default,
        without_a_default_rule_routing_says_an_administrator_must_create_one,
        a_duplicate_active_rule_is_refused_and_bad_fields_are_named,
        only_administrators_change_teams_and_rules,
        conflicts_are_declared_listed_and_withdrawn,
        a_declaration_covers_its_villages_and_the_county_covers_all,
    ]
}

const PLACES: &[crate::helpers::DivisionRow] = &[
    ("360734", "寻乌县", "county", None),
    ("360734100", "长宁镇", "township", Some("360734")),
    ("360734101", "晨光镇", "township", Some("360734")),
    ("360734100201", "城北村", "village", Some("360734100")),
    ("360734101201", "沙坝村", "village", Some("360734101")),
];

async fn started(backend: Backend) -> TestApp {
    let clock = Clock::frozen(Utc.with_ymd_and_hms(2026, 11, 30, 2, 0, 0).unwrap());
    let app = app(backend).clock(clock).spawn().await;
    app.insert_divisions(PLACES).await;
    app
}

async fn json(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

async fn put_as(app: &TestApp, path: &str, token: &str, body: &Value) -> reqwest::Response {
    app.client
        .put(app.url(path))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn delete_as(app: &TestApp, path: &str, token: &str) -> reqwest::Response {
    app.client
        .delete(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn create_team(app: &TestApp, token: &str, name: &str) -> String {
    let response = app
        .post_as("/api/v1/teams", token, &json!({ "name": name }))
        .await;
    assert_eq!(response.status(), 201, "team {name}");
    let body = json(response).await;
    assert_eq!(body["name"], name);
    body["id"].as_str().unwrap().to_string()
}

async fn create_rule(app: &TestApp, token: &str, rule: Value) -> Value {
    let response = app.post_as("/api/v1/routing-rules", token, &rule).await;
    assert_eq!(response.status(), 201, "rule {rule}");
    json(response).await
}

/// The audit actions recorded so far, in order.
async fn actions(app: &TestApp) -> Vec<(String, String)> {
    app.db(|conn| {
        audit_events::table
            .order(audit_events::seq)
            .select((audit_events::action, audit_events::entity_id))
            .load(conn)
            .unwrap()
    })
    .await
}

async fn route(
    app: &TestApp,
    programme: Programme,
    township: &'static str,
    level: SubjectLevel,
) -> Result<TeamId, String> {
    app.db(move |conn| {
        probity::routing::route(conn, programme, township, level).map_err(|e| match e {
            RoutingError::NoDefaultRule => "no_default_rule".to_string(),
            other => other.to_string(),
        })
    })
    .await
}

async fn teams_are_created_listed_and_their_members_replaced(backend: Backend) {
    let app = started(backend).await;
    let (_, admin, _) = app.signed_in("admin", &[Role::Admin]).await;
    let anna = app.create_staff("anna", &[Role::Investigator], None).await;
    let bo = app.create_staff("bodhi", &[Role::Investigator], None).await;
    let gone = app.create_staff("gone", &[Role::Investigator], None).await;
    let response = app
        .client
        .patch(app.url(&format!("/api/v1/users/{gone}")))
        .bearer_auth(&admin)
        .json(&json!({ "active": false }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let first = create_team(&app, &admin, "第一纪检监察室").await;
    let second = create_team(&app, &admin, "第二纪检监察室").await;
    let again = app
        .post_as(
            "/api/v1/teams",
            &admin,
            &json!({ "name": " 第一纪检监察室 " }),
        )
        .await;
    assert_problem(again, 409, "team_exists").await;
    let empty = app
        .post_as("/api/v1/teams", &admin, &json!({ "name": "  " }))
        .await;
    let body = assert_problem(empty, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "name");

    let path = format!("/api/v1/teams/{first}/members");
    let response = put_as(&app, &path, &admin, &json!({ "user_ids": [bo, anna, bo] })).await;
    assert_eq!(response.status(), 200);
    let team = json(response).await;
    let usernames: Vec<&str> = team["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["username"].as_str().unwrap())
        .collect();
    assert_eq!(usernames, ["anna", "bodhi"]);

    // Unknown and deactivated users are named per field; nothing changes.
    let response = put_as(
        &app,
        &path,
        &admin,
        &json!({ "user_ids": [anna, "nobody", gone] }),
    )
    .await;
    let body = assert_problem(response, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "user_ids[1]");
    assert_eq!(body["errors"][0]["code"], "unknown_user");
    assert_eq!(body["errors"][1]["field"], "user_ids[2]");
    assert_eq!(body["errors"][1]["code"], "inactive_user");
    let missing = put_as(
        &app,
        "/api/v1/teams/no-such-team/members",
        &admin,
        &json!({ "user_ids": [] }),
    )
    .await;
    assert_problem(missing, 404, "not_found").await;

    // Replace: bo only.
    let response = put_as(&app, &path, &admin, &json!({ "user_ids": [bo] })).await;
    assert_eq!(response.status(), 200);
    let (first_id, anna_id, bo_id) = (
        TeamId::from(first.as_str()),
        UserId::from(anna.as_str()),
        UserId::from(bo.as_str()),
    );
    let (members, anna_in, bo_in, bo_teams) = app
        .db(move |conn| {
            (
                probity::routing::members(conn, &first_id).unwrap(),
                probity::routing::is_member(conn, &first_id, &anna_id).unwrap(),
                probity::routing::is_member(conn, &first_id, &bo_id).unwrap(),
                probity::routing::teams_of(conn, &bo_id).unwrap(),
            )
        })
        .await;
    assert_eq!(members, [UserId::from(bo.as_str())]);
    assert!(!anna_in && bo_in);
    assert_eq!(bo_teams, [TeamId::from(first.as_str())]);

    // Supervisors list teams too, by name, with members, one page at a time.
    let (_, supervisor, _) = app.signed_in("sup", &[Role::Supervisor]).await;
    let response = app.get_as("/api/v1/teams?limit=1", &supervisor).await;
    assert_eq!(response.status(), 200);
    let page = json(response).await;
    assert_eq!(page["items"][0]["id"], first);
    assert_eq!(page["items"][0]["members"][0]["user_id"], bo);
    let cursor = page["next_cursor"].as_str().unwrap().to_string();
    let page = json(
        app.get_as(
            &format!("/api/v1/teams?limit=1&cursor={cursor}"),
            &supervisor,
        )
        .await,
    )
    .await;
    assert_eq!(page["items"][0]["id"], second);
    assert_eq!(page["items"][0]["members"], json!([]));

    let recorded = actions(&app).await;
    let ours: Vec<(&str, &str)> = recorded
        .iter()
        .filter(|(a, _)| a.starts_with("team."))
        .map(|(a, e)| (a.as_str(), e.as_str()))
        .collect();
    assert_eq!(
        ours,
        [
            ("team.created", first.as_str()),
            ("team.created", second.as_str()),
            ("team.members_replaced", first.as_str()),
            ("team.members_replaced", first.as_str()),
        ]
    );
}

async fn a_specific_rule_beats_the_default(backend: Backend) {
    let app = started(backend).await;
    let (_, admin, _) = app.signed_in("admin", &[Role::Admin]).await;
    let general = create_team(&app, &admin, "综合室").await;
    let dibao = create_team(&app, &admin, "低保专班").await;
    let changning = create_team(&app, &admin, "长宁片区").await;

    let default = create_rule(
        &app,
        &admin,
        json!({ "programme": null, "township_code": null, "subject_level": null, "team_id": general }),
    )
    .await;
    assert_eq!(default["is_default"], true);
    assert_eq!(default["specificity"], 0);
    let by_programme = create_rule(
        &app,
        &admin,
        json!({ "programme": "dibao", "team_id": dibao }),
    )
    .await;
    // A full-width township code is folded.
    let by_both = create_rule(
        &app,
        &admin,
        json!({ "programme": "dibao", "township_code": "３６０７３４１００", "team_id": changning }),
    )
    .await;
    assert_eq!(by_both["township_code"], "360734100");
    assert_eq!(by_both["specificity"], 2);
    assert_eq!(by_both["programme"], "dibao");
    assert_eq!(by_both["subject_level"], Value::Null);

    let (_, supervisor, _) = app.signed_in("sup", &[Role::Supervisor]).await;
    let listed = json(app.get_as("/api/v1/routing-rules", &supervisor).await).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 3);

    let village = SubjectLevel::Village;
    let to = |t: &str| Ok(TeamId::from(t));
    assert_eq!(
        route(&app, Programme::Dibao, "360734100", village).await,
        to(&changning)
    );
    assert_eq!(
        route(&app, Programme::Dibao, "360734101", village).await,
        to(&dibao)
    );
    assert_eq!(
        route(&app, Programme::HouseRenovation, "360734100", village).await,
        to(&general)
    );

    // Retiring the most specific rule: its cases go to the next one; the rule stays listed
    // with `include_retired`.
    let id = by_both["id"].as_str().unwrap();
    let response = delete_as(&app, &format!("/api/v1/routing-rules/{id}"), &admin).await;
    assert_eq!(response.status(), 200);
    let retired = json(response).await;
    assert_eq!(retired["retired_at"], "2026-11-30T02:00:00Z");
    let again = delete_as(&app, &format!("/api/v1/routing-rules/{id}"), &admin).await;
    assert_problem(again, 409, "already_retired").await;
    assert_eq!(
        route(&app, Programme::Dibao, "360734100", village).await,
        to(&dibao)
    );
    let active = json(app.get_as("/api/v1/routing-rules", &admin).await).await;
    assert_eq!(active["items"].as_array().unwrap().len(), 2);
    let all = json(
        app.get_as("/api/v1/routing-rules?include_retired=true", &admin)
            .await,
    )
    .await;
    assert_eq!(all["items"].as_array().unwrap().len(), 3);
    // A retired combination may be created again.
    create_rule(
        &app,
        &admin,
        json!({ "programme": "dibao", "township_code": "360734100", "team_id": changning }),
    )
    .await;

    let recorded = actions(&app).await;
    let created = recorded
        .iter()
        .filter(|(a, _)| a == "routing_rule.created")
        .count();
    assert_eq!(created, 4);
    assert!(recorded.contains(&("routing_rule.retired".to_string(), id.to_string())));
    assert!(recorded.contains(&(
        "routing_rule.created".to_string(),
        by_programme["id"].as_str().unwrap().to_string()
    )));
}

async fn without_a_default_rule_routing_says_an_administrator_must_create_one(backend: Backend) {
    let app = started(backend).await;
    let (_, admin, _) = app.signed_in("admin", &[Role::Admin]).await;
    let level = SubjectLevel::Township;
    assert_eq!(
        route(&app, Programme::Dibao, "360734100", level).await,
        Err("no_default_rule".to_string())
    );
    let team = create_team(&app, &admin, "低保专班").await;
    create_rule(
        &app,
        &admin,
        json!({ "programme": "dibao", "team_id": team }),
    )
    .await;
    assert_eq!(
        route(&app, Programme::Dibao, "360734100", level).await,
        Ok(TeamId::from(team.as_str()))
    );
    assert_eq!(
        route(&app, Programme::Other, "360734100", level).await,
        Err("no_default_rule".to_string())
    );
    // The error as an API answer: 422 with a message naming the remedy.
    let api: probity::error::ApiError = RoutingError::NoDefaultRule.into();
    assert_eq!(api.status.as_u16(), 422);
    assert_eq!(api.code.as_str(), "no_default_rule");
    assert!(api
        .detail
        .contains("administrator must create a default routing rule"));
}

async fn a_duplicate_active_rule_is_refused_and_bad_fields_are_named(backend: Backend) {
    let app = started(backend).await;
    let (_, admin, _) = app.signed_in("admin", &[Role::Admin]).await;
    let team = create_team(&app, &admin, "综合室").await;
    let other = create_team(&app, &admin, "第二室").await;
    create_rule(
        &app,
        &admin,
        json!({ "township_code": "360734100", "subject_level": "village", "team_id": team }),
    )
    .await;
    // The same conditions for another team: still a duplicate.
    let response = app
        .post_as(
            "/api/v1/routing-rules",
            &admin,
            &json!({ "township_code": "360734100", "subject_level": "village", "team_id": other }),
        )
        .await;
    assert_problem(response, 409, "rule_exists").await;
    create_rule(&app, &admin, json!({ "team_id": team })).await;
    let response = app
        .post_as(
            "/api/v1/routing-rules",
            &admin,
            &json!({ "team_id": other }),
        )
        .await;
    assert_problem(response, 409, "rule_exists").await;

    let response = app
        .post_as(
            "/api/v1/routing-rules",
            &admin,
            &json!({
                "programme": "lottery",
                "township_code": "360734100201",
                "subject_level": "province",
                "team_id": "no-such-team",
            }),
        )
        .await;
    let body = assert_problem(response, 422, "validation_failed").await;
    let fields: Vec<(&str, &str)> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        fields,
        [
            ("programme", "unknown_value"),
            ("subject_level", "unknown_value"),
            ("township_code", "unknown_township"),
            ("team_id", "unknown_team"),
        ]
    );
    let recorded = actions(&app).await;
    let created = recorded
        .iter()
        .filter(|(a, _)| a == "routing_rule.created")
        .count();
    assert_eq!(created, 2);

    // The database holds the rule too, for writers racing past the check: a second active
    // default is refused by the unique index (NULL conditions count as one value).
    let team_id = TeamId::from(other.as_str());
    let inserted = app
        .db(move |conn| {
            diesel::insert_into(routing_rules::table)
                .values(RoutingRuleRow {
                    id: RoutingRuleId::generate(),
                    programme: None,
                    township_code: None,
                    subject_level: None,
                    team_id,
                    created_at: chrono::NaiveDate::from_ymd_opt(2026, 11, 30)
                        .unwrap()
                        .and_hms_opt(3, 0, 0)
                        .unwrap(),
                    retired_at: None,
                })
                .execute(conn)
        })
        .await;
    assert!(
        matches!(
            inserted,
            Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _
            ))
        ),
        "{inserted:?}"
    );
}

async fn only_administrators_change_teams_and_rules(backend: Backend) {
    let app = started(backend).await;
    let (_, admin, _) = app.signed_in("admin", &[Role::Admin]).await;
    let team = create_team(&app, &admin, "综合室").await;
    let rule = create_rule(&app, &admin, json!({ "team_id": team })).await;
    let rule_path = format!("/api/v1/routing-rules/{}", rule["id"].as_str().unwrap());
    let members_path = format!("/api/v1/teams/{team}/members");
    for (name, role) in [
        ("sup", Role::Supervisor),
        ("inv", Role::Investigator),
        ("intake", Role::Intake),
    ] {
        let (_, token, _) = app.signed_in(name, &[role]).await;
        let r = app
            .post_as("/api/v1/teams", &token, &json!({ "name": "x" }))
            .await;
        assert_problem(r, 403, "forbidden").await;
        let r = put_as(&app, &members_path, &token, &json!({ "user_ids": [] })).await;
        assert_problem(r, 403, "forbidden").await;
        let r = app
            .post_as("/api/v1/routing-rules", &token, &json!({ "team_id": team }))
            .await;
        assert_problem(r, 403, "forbidden").await;
        let r = delete_as(&app, &rule_path, &token).await;
        assert_problem(r, 403, "forbidden").await;
        let may_read = role == Role::Supervisor;
        for path in ["/api/v1/teams", "/api/v1/routing-rules"] {
            let r = app.get_as(path, &token).await;
            if may_read {
                assert_eq!(r.status(), 200, "{name} reads {path}");
            } else {
                assert_problem(r, 403, "forbidden").await;
            }
        }
    }
    let r = app.get_as("/api/v1/teams", "not-a-token").await;
    assert_eq!(r.status(), 401);
    // Nothing was changed by the refused requests.
    let recorded = actions(&app).await;
    let changes = recorded
        .iter()
        .filter(|(a, _)| a.starts_with("team.") || a.starts_with("routing_rule."))
        .count();
    assert_eq!(changes, 2);
}

async fn conflicts_are_declared_listed_and_withdrawn(backend: Backend) {
    let app = started(backend).await;
    let (anna, anna_token, _) = app.signed_in("anna", &[Role::Investigator]).await;
    let (bo, bo_token, _) = app.signed_in("bodhi", &[Role::Intake]).await;
    let (_, supervisor, _) = app.signed_in("sup", &[Role::Supervisor]).await;
    let (_, admin, _) = app.signed_in("admin", &[Role::Admin]).await;

    let response = app
        .post_as(
            "/api/v1/me/conflicts",
            &anna_token,
            &json!({ "division_code": "360734100201", "reason": "本人配偶的娘家在该村" }),
        )
        .await;
    assert_eq!(response.status(), 201);
    let declared = json(response).await;
    assert_eq!(declared["user_id"], anna);
    assert_eq!(declared["active"], true);
    assert_eq!(declared["declared_at"], "2026-11-30T02:00:00Z");
    assert_eq!(declared["withdrawn_at"], Value::Null);
    let id = declared["id"].as_str().unwrap().to_string();
    let response = app
        .post_as(
            "/api/v1/me/conflicts",
            &bo_token,
            &json!({ "division_code": "360734101", "reason": "曾在该镇任职" }),
        )
        .await;
    assert_eq!(response.status(), 201);

    let bad = app
        .post_as(
            "/api/v1/me/conflicts",
            &anna_token,
            &json!({ "division_code": "999999999", "reason": "" }),
        )
        .await;
    let body = assert_problem(bad, 422, "validation_failed").await;
    let fields: Vec<(&str, &str)> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        fields,
        [
            ("reason", "required"),
            ("division_code", "unknown_division")
        ]
    );

    // Each sees their own; supervisors and administrators see all; investigators may not.
    let mine = json(app.get_as("/api/v1/me/conflicts", &anna_token).await).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    assert_eq!(mine["items"][0]["id"], id);
    for token in [&supervisor, &admin] {
        let all = json(app.get_as("/api/v1/conflicts", token).await).await;
        assert_eq!(all["items"].as_array().unwrap().len(), 2);
    }
    let of_bo = json(
        app.get_as(&format!("/api/v1/conflicts?user_id={bo}"), &supervisor)
            .await,
    )
    .await;
    assert_eq!(of_bo["items"].as_array().unwrap().len(), 1);
    assert_eq!(of_bo["items"][0]["division_code"], "360734101");
    let refused = app.get_as("/api/v1/conflicts", &anna_token).await;
    assert_problem(refused, 403, "forbidden").await;

    // Withdrawing: only one's own, with a reason, once; the row stays on record.
    let path = format!("/api/v1/me/conflicts/{id}/withdraw");
    let other = app
        .post_as(&path, &bo_token, &json!({ "reason": "不是我的" }))
        .await;
    assert_problem(other, 404, "not_found").await;
    let no_reason = app
        .post_as(&path, &anna_token, &json!({ "reason": " " }))
        .await;
    assert_problem(no_reason, 422, "validation_failed").await;
    app.clock.advance(chrono::Duration::minutes(5));
    let response = app
        .post_as(&path, &anna_token, &json!({ "reason": "已离婚" }))
        .await;
    assert_eq!(response.status(), 200);
    let withdrawn = json(response).await;
    assert_eq!(withdrawn["active"], false);
    assert_eq!(withdrawn["withdrawn_at"], "2026-11-30T02:05:00Z");
    assert_eq!(withdrawn["withdrawn_reason"], "已离婚");
    assert_eq!(withdrawn["reason"], "本人配偶的娘家在该村");
    let twice = app
        .post_as(&path, &anna_token, &json!({ "reason": "再次" }))
        .await;
    assert_problem(twice, 409, "already_retired").await;
    let active = json(
        app.get_as("/api/v1/conflicts?active=true", &supervisor)
            .await,
    )
    .await;
    assert_eq!(active["items"].as_array().unwrap().len(), 1);
    let all = json(app.get_as("/api/v1/conflicts", &supervisor).await).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 2);

    let recorded = actions(&app).await;
    let ours: Vec<&str> = recorded
        .iter()
        .filter(|(a, _)| a.starts_with("conflict."))
        .map(|(a, _)| a.as_str())
        .collect();
    assert_eq!(
        ours,
        [
            "conflict.declared",
            "conflict.declared",
            "conflict.withdrawn"
        ]
    );
    assert!(recorded.contains(&("conflict.withdrawn".to_string(), id)));
}

async fn a_declaration_covers_its_villages_and_the_county_covers_all(backend: Backend) {
    let app = started(backend).await;
    let (anna, anna_token, _) = app.signed_in("anna", &[Role::Investigator]).await;
    let (bo, bo_token, _) = app.signed_in("bodhi", &[Role::Investigator]).await;
    let declare = |token: String, code: &'static str| {
        let app = &app;
        async move {
            let r = app
                .post_as(
                    "/api/v1/me/conflicts",
                    &token,
                    &json!({ "division_code": code, "reason": "亲属在此" }),
                )
                .await;
            assert_eq!(r.status(), 201);
            json(r).await["id"].as_str().unwrap().to_string()
        }
    };
    let township = declare(anna_token.clone(), "360734100").await;
    let county = declare(bo_token.clone(), "360734").await;

    let find = |user: &str, township: &'static str, village: Option<&'static str>| {
        let user = UserId::from(user);
        let app = &app;
        async move {
            app.db(move |conn| {
                probity::conflicts::find_conflict(conn, &user, township, village)
                    .unwrap()
                    .map(|d| d.id.into_string())
            })
            .await
        }
    };
    // Anna's township declaration covers its villages, not the other township.
    assert_eq!(
        find(&anna, "360734100", Some("360734100201")).await,
        Some(township.clone())
    );
    assert_eq!(find(&anna, "360734100", None).await, Some(township.clone()));
    assert_eq!(find(&anna, "360734101", Some("360734101201")).await, None);
    // Bo's county declaration covers everything in the county.
    assert_eq!(
        find(&bo, "360734101", Some("360734101201")).await,
        Some(county.clone())
    );
    // A village declaration covers that village only.
    let (carl, carl_token, _) = app.signed_in("carl", &[Role::Investigator]).await;
    let village = declare(carl_token.clone(), "360734101201").await;
    assert_eq!(
        find(&carl, "360734101", Some("360734101201")).await,
        Some(village.clone())
    );
    assert_eq!(find(&carl, "360734101", None).await, None);
    // A withdrawn declaration no longer counts.
    let r = app
        .post_as(
            &format!("/api/v1/me/conflicts/{township}/withdraw"),
            &anna_token,
            &json!({ "reason": "亲属已迁出" }),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(find(&anna, "360734100", Some("360734100201")).await, None);
}
