//! Reference data: the public division listing, admin changes to divisions and officials, the
//! CSV import (all or nothing), the demo data set, and the two commands.

use std::process::Command;

use diesel::prelude::*;
use probity::audit::Actor;
use probity::db::schema::{audit_events, divisions, officials};
use probity::db::Backend;
use probity::domain::roles::Role;
use serde_json::{json, Value};

use crate::helpers::{app, assert_problem, spawn_app, TestApp, TestDatabase};

pub fn tests() -> Vec<(&'static str, crate::helpers::AsyncTest)> {
    crate::tests![
        public_listing_needs_no_sign_in,
        demo_data_loads_once_and_lists_the_townships,
        import_adds_and_renames,
        a_bad_row_imports_nothing,
        each_division_rule_is_enforced,
        officials_are_managed_and_filtered,
        only_admins_change_reference_data,
        commands_import_divisions_and_load_demo_data,
    ]
}

const TREE: &str = "code,name,level,parent_code
360734,寻乌县,county,
360734100,长宁镇,township,360734
360734101,晨光镇,township,360734
360734100201,城北村,village,360734100
360734101201,沙坝村,village,360734101
";

async fn json(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

async fn patch_as(app: &TestApp, path: &str, token: &str, body: &Value) -> reqwest::Response {
    app.client
        .patch(app.url(path))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn post_csv(app: &TestApp, token: &str, body: impl Into<reqwest::Body>) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/divisions/import"))
        .bearer_auth(token)
        .header("content-type", "text/csv; charset=utf-8")
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn import_ok(app: &TestApp, token: &str, csv: &str) -> Value {
    let response = post_csv(app, token, csv.to_string()).await;
    assert_eq!(response.status(), 200, "import of\n{csv}");
    json(response).await
}

async fn admin(app: &TestApp) -> String {
    app.signed_in("admin", &[Role::Admin]).await.1
}

async fn division_count(app: &TestApp) -> i64 {
    app.db(|conn| divisions::table.count().get_result(conn).unwrap())
        .await
}

async fn audit_actions(app: &TestApp) -> Vec<(String, String, String)> {
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

/// The `(field, code)` pairs of a 422.
fn field_errors(problem: &Value) -> Vec<(String, String)> {
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

fn codes(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap().to_string())
        .collect()
}

async fn public_listing_needs_no_sign_in(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = admin(&app).await;
    import_ok(&app, &token, TREE).await;

    let top = app.get("/api/v1/divisions").await;
    assert_eq!(top.status(), 200);
    let top = json(top).await;
    assert_eq!(
        top,
        json!({"items": [{"code": "360734", "name": "寻乌县", "level": "county",
                          "parent_code": null, "demo": false}],
               "next_cursor": null})
    );

    let townships = json(app.get("/api/v1/divisions?parent=360734").await).await;
    assert_eq!(codes(&townships), ["360734100", "360734101"]);
    assert_eq!(townships["items"][0]["name"], "长宁镇");
    assert_eq!(townships["items"][0]["level"], "township");
    assert_eq!(townships["items"][0]["parent_code"], "360734");

    let villages = json(app.get("/api/v1/divisions?parent=360734100").await).await;
    assert_eq!(codes(&villages), ["360734100201"]);
    assert_eq!(villages["items"][0]["name"], "城北村");
    let none = json(app.get("/api/v1/divisions?parent=360734100201").await).await;
    assert_eq!(none["items"], json!([]));

    let unknown = app.get("/api/v1/divisions?parent=999999").await;
    let problem = assert_problem(unknown, 404, "not_found").await;
    assert!(problem["detail"].as_str().unwrap().contains("division"));

    // One division, and pages of children.
    let one = json(app.get("/api/v1/divisions/360734101").await).await;
    assert_eq!(one["name"], "晨光镇");
    assert_problem(app.get("/api/v1/divisions/360799").await, 404, "not_found").await;
    let first = json(app.get("/api/v1/divisions?parent=360734&limit=1").await).await;
    assert_eq!(codes(&first), ["360734100"]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = json(
        app.get(&format!(
            "/api/v1/divisions?parent=360734&limit=1&cursor={cursor}"
        ))
        .await,
    )
    .await;
    assert_eq!(codes(&second), ["360734101"]);

    // The listing is in the OpenAPI document, public: an empty security requirement list.
    let doc = json(app.get("/api/v1/openapi.json").await).await;
    let get = &doc["paths"]["/api/v1/divisions"]["get"];
    assert!(get.is_object(), "GET /api/v1/divisions documented");
    assert_eq!(get["security"], serde_json::json!([]));
    assert!(doc["paths"]["/api/v1/divisions/import"]["post"].is_object());
    assert!(doc["paths"]["/api/v1/officials/{id}"]["patch"].is_object());
}

async fn demo_data_loads_once_and_lists_the_townships(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = admin(&app).await;
    let now = app.clock.now_naive();
    let loaded = app
        .db(move |conn| probity::divisions::demo::load(conn, now, &Actor::Cli).unwrap())
        .await;
    assert_eq!((loaded.divisions_added, loaded.officials_added), (61, 153));
    let again = app
        .db(move |conn| probity::divisions::demo::load(conn, now, &Actor::Cli).unwrap())
        .await;
    assert_eq!((again.divisions_added, again.officials_added), (0, 0));
    assert_eq!(division_count(&app).await, 61);

    let townships = json(app.get("/api/v1/divisions?parent=360734").await).await;
    let items = townships["items"].as_array().unwrap();
    assert_eq!(items.len(), 15);
    let names: Vec<&str> = items.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "长宁镇",
            "晨光镇",
            "留车镇",
            "南桥镇",
            "吉潭镇",
            "澄江镇",
            "桂竹帽镇",
            "文峰乡",
            "三标乡",
            "水源乡",
            "罗珊乡",
            "丹溪乡",
            "项山乡",
            "龙廷乡",
            "菖蒲乡"
        ]
    );
    assert_eq!(items[0]["code"], "360734100");
    assert_eq!(items[1]["code"], "360734101");
    assert_eq!(items[2]["code"], "360734102");
    assert!(items.iter().all(|t| t["demo"] == true));
    let county = json(app.get("/api/v1/divisions").await).await;
    assert_eq!(county["items"][0]["name"], "寻乌县");
    assert_eq!(county["items"][0]["demo"], true);

    let village_names = |page: Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["name"].as_str().unwrap().to_string())
            .collect()
    };
    let code_of = |name: &str| {
        items
            .iter()
            .find(|t| t["name"] == name)
            .unwrap()
            .get("code")
            .unwrap()
            .as_str()
            .unwrap()
            .to_string()
    };
    let guizhumao = village_names(
        json(
            app.get(&format!("/api/v1/divisions?parent={}", code_of("桂竹帽镇")))
                .await,
        )
        .await,
    );
    assert!(guizhumao.contains(&"上坪村".to_string()), "{guizhumao:?}");
    assert!(guizhumao.contains(&"焦子坝村".to_string()), "{guizhumao:?}");
    let wenfeng = village_names(
        json(
            app.get(&format!("/api/v1/divisions?parent={}", code_of("文峰乡")))
                .await,
        )
        .await,
    );
    assert!(wenfeng.contains(&"杨梅村".to_string()), "{wenfeng:?}");

    // Each township has its four leaders; each village its two.
    let leaders = json(
        app.get_as("/api/v1/officials?division=360734100", &token)
            .await,
    )
    .await;
    let mut posts: Vec<&str> = leaders["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["post"].as_str().unwrap())
        .collect();
    posts.sort();
    let mut expected = ["乡镇党委书记", "乡镇长", "分管扶贫领导", "乡镇纪委书记"];
    expected.sort();
    assert_eq!(posts, expected);
    assert_eq!(leaders["items"][0]["division_name"], "长宁镇");
    let villages = json(
        app.get_as("/api/v1/officials?level=village&limit=200", &token)
            .await,
    )
    .await;
    assert_eq!(villages["items"].as_array().unwrap().len(), 90);

    // A real import over the demo rows makes them real data; loading the demo again keeps that.
    let counts = import_ok(
        &app,
        &token,
        "code,name,level,parent_code\n360734,寻乌县,county,\n360734100,长宁镇,township,360734\n",
    )
    .await;
    assert_eq!(counts, json!({"inserted": 0, "updated": 2, "unchanged": 0}));
    app.db(move |conn| probity::divisions::demo::load(conn, now, &Actor::Cli).unwrap())
        .await;
    let townships = json(app.get("/api/v1/divisions?parent=360734").await).await;
    assert_eq!(townships["items"][0]["demo"], false);
    assert_eq!(townships["items"][1]["demo"], true);

    // Every insert was audited, and the chain still verifies.
    let actions = audit_actions(&app).await;
    let created = |what: &str| actions.iter().filter(|(a, ..)| a == what).count();
    assert_eq!(created("division.created"), 61);
    assert_eq!(created("official.created"), 153);
    let verify = json(app.get_as("/api/v1/audit/verify", &token).await).await;
    assert_eq!(verify["status"], "ok", "{verify}");
}

async fn import_adds_and_renames(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = admin(&app).await;
    let first = import_ok(&app, &token, TREE).await;
    assert_eq!(first, json!({"inserted": 5, "updated": 0, "unchanged": 0}));
    assert_eq!(division_count(&app).await, 5);

    // A township renamed, a new village under a township already in the database, one row
    // as it was.
    let second = import_ok(
        &app,
        &token,
        "code,name,level,parent_code\n360734101,晨光镇(新),township,360734\n\
         360734101202,河角村,village,360734101\n360734100,长宁镇,township,360734\n",
    )
    .await;
    assert_eq!(second, json!({"inserted": 1, "updated": 1, "unchanged": 1}));
    let townships = json(app.get("/api/v1/divisions?parent=360734").await).await;
    assert_eq!(townships["items"][1]["name"], "晨光镇(新)");
    let villages = json(app.get("/api/v1/divisions?parent=360734101").await).await;
    assert_eq!(codes(&villages), ["360734101201", "360734101202"]);

    let actions = audit_actions(&app).await;
    assert_eq!(
        actions
            .iter()
            .filter(|(a, ..)| a == "division.created")
            .count(),
        6
    );
    let renamed: Vec<_> = actions
        .iter()
        .filter(|(a, ..)| a == "division.updated")
        .collect();
    assert_eq!(renamed.len(), 1);
    assert_eq!(renamed[0].1, "360734101");
    assert!(renamed[0].2.contains("晨光镇(新)"), "{}", renamed[0].2);
}

async fn a_bad_row_imports_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = admin(&app).await;
    let audit_before = audit_actions(&app).await.len();

    // Line 5: the village's code does not start with its township's.
    let one_bad = "code,name,level,parent_code
360734,寻乌县,county,
360734100,长宁镇,township,360734
360734100201,城北村,village,360734100
360734101201,沙坝村,village,360734100
360734100202,城南村,village,360734100
";
    let problem = assert_problem(
        post_csv(&app, &token, one_bad).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(
        field_errors(&problem),
        [("line 5".to_string(), "not_under_parent".to_string())]
    );
    let message = problem["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("360734101201") && message.contains("360734100"),
        "{message}"
    );
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .contains("Nothing was imported"));
    assert_eq!(division_count(&app).await, 0, "nothing imported");
    assert_eq!(
        audit_actions(&app).await.len(),
        audit_before,
        "nothing audited"
    );

    // One error per bad row, each naming its line; good rows are not mentioned.
    let many_bad = "code,name,level,parent_code
360734,寻乌县,county,
36073410,长宁镇,township,360734
360734101,晨光镇,town,360734
360734102,留车镇,township,360734
360734103201,大坝村,village,360734103
360734102,留车镇,township,360734
";
    let problem = assert_problem(
        post_csv(&app, &token, many_bad).await,
        422,
        "validation_failed",
    )
    .await;
    let expected: Vec<(String, String)> = [
        ("line 3", "wrong_length"),
        ("line 4", "unknown_level"),
        ("line 6", "unknown_parent"),
        ("line 7", "duplicate_code"),
    ]
    .iter()
    .map(|(f, c)| (f.to_string(), c.to_string()))
    .collect();
    assert_eq!(field_errors(&problem), expected);
    assert_eq!(division_count(&app).await, 0);

    // A wrong header is line 1; a spreadsheet's GBK file, or another content type, is refused.
    let problem = assert_problem(
        post_csv(&app, &token, "code,name,parent\n360734,寻乌县,\n").await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_errors(&problem)[0].0, "line 1");
    let gbk: Vec<u8> =
        b"code,name,level,parent_code\n360734,\xd1\xb0\xce\xda\xcf\xd8,county,\n".to_vec();
    assert_problem(post_csv(&app, &token, gbk).await, 422, "invalid_encoding").await;
    let as_json = app
        .post_as("/api/v1/divisions/import", &token, &json!({"csv": TREE}))
        .await;
    assert_problem(as_json, 415, "unsupported_media_type").await;
    assert_eq!(division_count(&app).await, 0);

    // The same file with the bad row fixed goes in whole.
    let fixed = one_bad.replace("360734101201,沙坝村", "360734100203,沙坝村");
    let counts = import_ok(&app, &token, &fixed).await;
    assert_eq!(counts["inserted"], 5);
}

async fn each_division_rule_is_enforced(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = admin(&app).await;
    let create = |body: Value| {
        let app = &app;
        let token = &token;
        async move { app.post_as("/api/v1/divisions", token, &body).await }
    };
    let county = create(json!({"code": "360734", "name": "寻乌县", "level": "county"})).await;
    assert_eq!(county.status(), 201);
    assert_eq!(
        json(county).await,
        json!({"code": "360734", "name": "寻乌县", "level": "county", "parent_code": null,
               "demo": false})
    );
    let township = create(
        json!({"code": "360734100", "name": " 长宁镇 ", "level": "township",
                                 "parent_code": "360734"}),
    )
    .await;
    assert_eq!(township.status(), 201);
    assert_eq!(json(township).await["name"], "长宁镇");

    let long_name = "村".repeat(51);
    let cases = [
        (
            json!({"code": "36073A", "name": "x", "level": "county"}),
            "code",
            "not_digits",
        ),
        (
            json!({"code": "3607341", "name": "x", "level": "township", "parent_code": "360734"}),
            "code",
            "wrong_length",
        ),
        (
            json!({"code": "360734100201", "name": "x", "level": "village", "parent_code": "360734"}),
            "parent_code",
            "wrong_parent_level",
        ),
        (
            json!({"code": "360735101", "name": "x", "level": "township", "parent_code": "360734"}),
            "code",
            "not_under_parent",
        ),
        (
            json!({"code": "360734101201", "name": "x", "level": "village",
                   "parent_code": "360734101"}),
            "parent_code",
            "unknown_parent",
        ),
        (
            json!({"code": "360734101", "name": "x", "level": "township"}),
            "parent_code",
            "required",
        ),
        (
            json!({"code": "360735", "name": "x", "level": "county", "parent_code": "360734"}),
            "parent_code",
            "not_allowed",
        ),
        (
            json!({"code": "360734101", "name": "", "level": "township", "parent_code": "360734"}),
            "name",
            "invalid_length",
        ),
        (
            json!({"code": "360734101", "name": long_name, "level": "township",
                   "parent_code": "360734"}),
            "name",
            "invalid_length",
        ),
        (
            json!({"code": "360734101", "name": "x", "level": "town", "parent_code": "360734"}),
            "level",
            "unknown_level",
        ),
    ];
    for (body, field, code) in cases {
        let problem = assert_problem(create(body.clone()).await, 422, "validation_failed").await;
        assert_eq!(
            field_errors(&problem),
            [(field.to_string(), code.to_string())],
            "{body}"
        );
    }
    let taken = create(
        json!({"code": "360734100", "name": "x", "level": "township",
                              "parent_code": "360734"}),
    )
    .await;
    assert_problem(taken, 409, "division_exists").await;
    assert_eq!(
        division_count(&app).await,
        2,
        "refused requests wrote nothing"
    );

    // Renaming: only the name changes, and it is audited.
    let renamed = patch_as(
        &app,
        "/api/v1/divisions/360734100",
        &token,
        &json!({"name": "长宁镇(城区)"}),
    )
    .await;
    assert_eq!(renamed.status(), 200);
    let renamed = json(renamed).await;
    assert_eq!(renamed["name"], "长宁镇(城区)");
    assert_eq!(renamed["level"], "township");
    let problem = assert_problem(
        patch_as(
            &app,
            "/api/v1/divisions/360734100",
            &token,
            &json!({"name": ""}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_errors(&problem)[0].0, "name");
    assert_problem(
        patch_as(
            &app,
            "/api/v1/divisions/360734100",
            &token,
            &json!({"level": "village"}),
        )
        .await,
        422,
        "invalid_body",
    )
    .await;
    assert_problem(
        patch_as(
            &app,
            "/api/v1/divisions/360799100",
            &token,
            &json!({"name": "x"}),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    let shown = json(app.get("/api/v1/divisions/360734100").await).await;
    assert_eq!(shown["name"], "长宁镇(城区)");
    let actions = audit_actions(&app).await;
    let update = actions
        .iter()
        .find(|(a, ..)| a == "division.updated")
        .expect("rename audited");
    assert_eq!(update.1, "360734100");
    assert!(update.2.contains("长宁镇(城区)"));
    assert_eq!(
        actions
            .iter()
            .filter(|(a, ..)| a == "division.created")
            .count(),
        2
    );
}

async fn officials_are_managed_and_filtered(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = admin(&app).await;
    import_ok(&app, &token, TREE).await;
    let create = |body: Value| {
        let app = &app;
        let token = &token;
        async move { app.post_as("/api/v1/officials", token, &body).await }
    };

    let secretary = create(
        json!({"name": "张某某", "post": "乡镇党委书记", "level": "township",
                                  "division_code": "360734100"}),
    )
    .await;
    assert_eq!(secretary.status(), 201);
    let secretary = json(secretary).await;
    assert_eq!(secretary["name"], "张某某");
    assert_eq!(secretary["division_name"], "长宁镇");
    assert_eq!(secretary["active"], true);
    let secretary_id = secretary["id"].as_str().unwrap().to_string();
    for (name, post, level, division) in [
        ("李某某", "乡镇纪委书记", "township", "360734100"),
        ("王某某", "村支书", "village", "360734100201"),
        ("赵某某", "村委会主任", "village", "360734100201"),
        ("刘某某", "村支书", "village", "360734101201"),
    ] {
        let r = create(json!({"name": name, "post": post, "level": level,
                              "division_code": division}))
        .await;
        assert_eq!(r.status(), 201, "{name}");
    }

    // Validation: level against the division, unknown division, unknown level, empty fields.
    let cases = [
        (
            json!({"name": "陈某某", "post": "村支书", "level": "village", "division_code": "360734100"}),
            vec![("level", "level_mismatch")],
        ),
        (
            json!({"name": "陈某某", "post": "村支书", "level": "village", "division_code": "360734100299"}),
            vec![("division_code", "unknown_division")],
        ),
        (
            json!({"name": "陈某某", "post": "村长", "level": "hamlet", "division_code": "360734100201"}),
            vec![("level", "unknown_level")],
        ),
        (
            json!({"name": " ", "post": "", "level": "village", "division_code": "360734100201"}),
            vec![("name", "invalid_length"), ("post", "invalid_length")],
        ),
    ];
    for (body, expected) in cases {
        let problem = assert_problem(create(body.clone()).await, 422, "validation_failed").await;
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(f, c)| (f.to_string(), c.to_string()))
            .collect();
        assert_eq!(field_errors(&problem), expected, "{body}");
    }
    let stored: i64 = app
        .db(|conn| officials::table.count().get_result(conn).unwrap())
        .await;
    assert_eq!(stored, 5);

    // Filters.
    let names = |page: &Value| -> Vec<String> {
        let mut n: Vec<String> = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["name"].as_str().unwrap().to_string())
            .collect();
        n.sort();
        n
    };
    let village = json(
        app.get_as("/api/v1/officials?division=360734100201", &token)
            .await,
    )
    .await;
    assert_eq!(names(&village), ["王某某", "赵某某"]);
    let township = json(app.get_as("/api/v1/officials?level=township", &token).await).await;
    assert_eq!(names(&township), ["张某某", "李某某"]);
    let both = json(
        app.get_as(
            "/api/v1/officials?level=village&division=360734101201",
            &token,
        )
        .await,
    )
    .await;
    assert_eq!(names(&both), ["刘某某"]);
    let problem = assert_problem(
        app.get_as("/api/v1/officials?level=mayor", &token).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_errors(&problem)[0].0, "level");

    // Cursor pagination walks every official once.
    let mut seen = Vec::new();
    let mut path = "/api/v1/officials?limit=2".to_string();
    loop {
        let page = json(app.get_as(&path, &token).await).await;
        for o in page["items"].as_array().unwrap() {
            seen.push(o["id"].as_str().unwrap().to_string());
        }
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/officials?limit=2&cursor={c}"),
            None => break,
        }
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!((seen.len(), unique.len()), (5, 5));
    assert_problem(
        app.get_as("/api/v1/officials?cursor=bm9wZQ", &token).await,
        422,
        "validation_failed",
    )
    .await;

    // One official; changes; retirement instead of deletion.
    let path = format!("/api/v1/officials/{secretary_id}");
    let one = json(app.get_as(&path, &token).await).await;
    assert_eq!(one, secretary);
    assert_problem(
        app.get_as("/api/v1/officials/no-such-id", &token).await,
        404,
        "not_found",
    )
    .await;
    let retired = patch_as(
        &app,
        &path,
        &token,
        &json!({"active": false, "name": "张某"}),
    )
    .await;
    assert_eq!(retired.status(), 200);
    let retired = json(retired).await;
    assert_eq!(
        (retired["active"].clone(), retired["name"].clone()),
        (json!(false), json!("张某"))
    );
    let active = json(
        app.get_as("/api/v1/officials?level=township&active=true", &token)
            .await,
    )
    .await;
    assert_eq!(names(&active), ["李某某"]);
    let inactive = json(app.get_as("/api/v1/officials?active=false", &token).await).await;
    assert_eq!(names(&inactive), ["张某"]);

    // Moving to a village needs the level to follow.
    let problem = assert_problem(
        patch_as(
            &app,
            &path,
            &token,
            &json!({"division_code": "360734100201"}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(
        field_errors(&problem),
        [("division_code".to_string(), "level_mismatch".to_string())]
    );
    let moved = patch_as(
        &app,
        &path,
        &token,
        &json!({"division_code": "360734100201", "level": "village", "post": "村支书"}),
    )
    .await;
    assert_eq!(moved.status(), 200);
    let moved = json(moved).await;
    assert_eq!(moved["division_name"], "城北村");
    assert_eq!(moved["level"], "village");
    assert_problem(
        patch_as(&app, &path, &token, &json!({"name": ""})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_problem(
        patch_as(&app, &path, &token, &json!({"id": "other"})).await,
        422,
        "invalid_body",
    )
    .await;
    assert_problem(
        patch_as(
            &app,
            "/api/v1/officials/no-such-id",
            &token,
            &json!({"active": false}),
        )
        .await,
        404,
        "not_found",
    )
    .await;

    // Audited: five creations, two updates naming what changed.
    let actions = audit_actions(&app).await;
    assert_eq!(
        actions
            .iter()
            .filter(|(a, ..)| a == "official.created")
            .count(),
        5
    );
    let updates: Vec<_> = actions
        .iter()
        .filter(|(a, ..)| a == "official.updated")
        .collect();
    assert_eq!(updates.len(), 2);
    assert!(updates.iter().all(|(_, id, _)| id == &secretary_id));
    let first: Value = serde_json::from_str(&updates[0].2).unwrap();
    assert_eq!(first["changed"], json!(["name", "active"]));
    assert_eq!(first["from"]["active"], true);
}

async fn only_admins_change_reference_data(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = admin(&app).await;
    import_ok(&app, &token, TREE).await;
    let official = json(
        app.post_as(
            "/api/v1/officials",
            &token,
            &json!({"name": "张某某", "post": "村支书", "level": "village",
                    "division_code": "360734100201"}),
        )
        .await,
    )
    .await;
    let official_path = format!("/api/v1/officials/{}", official["id"].as_str().unwrap());
    let (_, investigator, _) = app
        .signed_in("li.ming", &[Role::Investigator, Role::Supervisor])
        .await;
    let new_division = json!({"code": "360734102", "name": "留车镇", "level": "township",
                              "parent_code": "360734"});
    let forbidden = [
        app.post_as("/api/v1/divisions", &investigator, &new_division)
            .await,
        patch_as(
            &app,
            "/api/v1/divisions/360734100",
            &investigator,
            &json!({"name": "x"}),
        )
        .await,
        post_csv(&app, &investigator, TREE).await,
        app.post_as(
            "/api/v1/officials",
            &investigator,
            &json!({"name": "李某某", "post": "村委会主任", "level": "village",
                    "division_code": "360734100201"}),
        )
        .await,
        patch_as(
            &app,
            &official_path,
            &investigator,
            &json!({"active": false}),
        )
        .await,
    ];
    for response in forbidden {
        assert_problem(response, 403, "forbidden").await;
    }
    // Case workers and intake read officials (to link accused people); others may not.
    assert_eq!(
        app.get_as("/api/v1/officials", &investigator)
            .await
            .status(),
        200
    );
    assert_eq!(
        app.get_as(&official_path, &investigator).await.status(),
        200
    );
    let (_, benefits, _) = app.signed_in("mzj", &[Role::Benefits]).await;
    assert_problem(
        app.get_as("/api/v1/officials", &benefits).await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        app.get_as(&official_path, &benefits).await,
        403,
        "forbidden",
    )
    .await;
    let anonymous = [
        app.client
            .post(app.url("/api/v1/divisions"))
            .json(&new_division)
            .send()
            .await
            .unwrap(),
        app.get("/api/v1/officials").await,
        app.client
            .post(app.url("/api/v1/divisions/import"))
            .header("content-type", "text/csv")
            .body(TREE)
            .send()
            .await
            .unwrap(),
    ];
    for response in anonymous {
        assert_problem(response, 401, "unauthorized").await;
    }
    // Nothing changed; the public listing is open to everyone, signed in or not.
    assert_eq!(division_count(&app).await, 5);
    assert_eq!(
        json(app.get_as(&official_path, &token).await).await["active"],
        true
    );
    assert_eq!(
        app.get("/api/v1/divisions?parent=360734").await.status(),
        200
    );
    assert_eq!(
        app.get_as("/api/v1/divisions?parent=360734", &investigator)
            .await
            .status(),
        200
    );
}

fn probity(db: &TestDatabase, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_probity"))
        .args(args)
        .env("PROBITY_ENV", "development")
        .env("DATABASE_URL", &db.url)
        .env("PROBITY__DATA__DIR", db.dir())
        .env("PROBITY__LOG__LEVEL", "warn")
        .output()
        .expect("probity runs")
}

async fn commands_import_divisions_and_load_demo_data(backend: Backend) {
    let db = std::sync::Arc::new(TestDatabase::create(backend));
    let bad = db.dir().join("bad.csv");
    std::fs::write(&bad, TREE.replace("360734101,晨光镇", "36073410,晨光镇")).unwrap();
    let out = probity(&db, &["import-divisions", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 4:") && stderr.contains("9 digits"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was imported"), "{stderr}");

    let good = db.dir().join("good.csv");
    std::fs::write(&good, TREE).unwrap();
    let out = probity(&db, &["import-divisions", good.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("5 inserted, 0 updated"));

    let out = probity(&db, &["demo-data"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The county and 长宁镇, 晨光镇 and their villages were there already.
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("56 divisions and 153 officials added"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = probity(&db, &["demo-data"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("0 divisions and 0 officials added"));

    let app = app(backend).with_database(db.clone()).spawn().await;
    let townships = json(app.get("/api/v1/divisions?parent=360734").await).await;
    assert_eq!(townships["items"].as_array().unwrap().len(), 15);
    // Imported rows stay real data; the rest is marked as the demo.
    assert_eq!(townships["items"][0]["demo"], false);
    assert_eq!(townships["items"][2]["demo"], true);
}
