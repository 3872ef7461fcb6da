//! Faults found in review, on both backends: cursors decoding to control characters, logout
//! ending the caller's own sign-in, full-width codes in queries, paths, PATCH bodies and the
//! CLI, invisible characters in emails and passwords, and the report form trimming a C1
//! control the API refuses.

use base64::Engine;
use diesel::prelude::*;
use probity::db::schema::{reports, users};
use probity::db::Backend;
use probity::domain::roles::Role;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, TestApp, TestDatabase};
use crate::reports::{example, seed_divisions};
use crate::web::{post_report, seed_places, Fields, FormPage};

pub fn tests() -> Vec<(&'static str, crate::helpers::AsyncTest)> {
    crate::tests![
        cursors_decoding_to_controls_are_refused_naming_cursor,
        logout_ends_the_bearers_own_sign_in_whatever_the_body,
        full_width_codes_are_folded_in_queries_patches_and_the_cli,
        invisible_characters_in_emails_are_refused,
        a_password_of_invisible_characters_is_too_short,
        the_form_refuses_a_trailing_c1_control_as_the_api_does,
    ]
}

/// Asserts a 422 `validation_failed` whose errors include `field` with `code`.
async fn assert_field(response: reqwest::Response, field: &str, code: &str) -> Value {
    let body = assert_problem(response, 422, "validation_failed").await;
    let found = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["field"] == field && e["code"] == code);
    assert!(found, "expected {field}/{code} in {body}");
    body
}

fn cursor(key: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key)
}

async fn user_count(app: &TestApp) -> i64 {
    app.db(|conn| users::table.count().get_result(conn).unwrap())
        .await
}

async fn report_count(app: &TestApp) -> i64 {
    app.db(|conn| reports::table.count().get_result(conn).unwrap())
        .await
}

async fn cursors_decoding_to_controls_are_refused_naming_cursor(backend: Backend) {
    let app = spawn_app(backend).await;
    seed_divisions(&app).await;
    let (_, token, _) = app.signed_in("admin", &[Role::Admin, Role::Intake]).await;

    // The input: `AAAA` is base64url of three NUL bytes, valid UTF-8.
    let officials_cursor = cursor("360734\u{0}/x");
    let paths = [
        "/api/v1/divisions?cursor=AAAA".to_string(),
        "/api/v1/users?cursor=AAAA".to_string(),
        "/api/v1/reports?cursor=AAAA".to_string(),
        "/api/v1/officials?cursor=AAAA".to_string(),
        format!("/api/v1/officials?cursor={officials_cursor}"),
        format!("/api/v1/users?cursor={}", cursor("wang\u{85}")),
        format!("/api/v1/divisions?cursor={}", cursor("3607\u{7f}")),
    ];
    for path in &paths {
        let body = assert_field(
            app.get_as(path, &token).await,
            "cursor",
            "control_character",
        )
        .await;
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("U+"),
            "{path}: {body}"
        );
    }
    // Public too: no token.
    assert_field(
        app.get("/api/v1/divisions?cursor=AAAA").await,
        "cursor",
        "control_character",
    )
    .await;

    // A cursor from a previous page still works.
    let first: Value = app
        .get("/api/v1/divisions?parent=360734&limit=1")
        .await
        .json()
        .await
        .unwrap();
    let next = first["next_cursor"].as_str().unwrap();
    let second = app
        .get(&format!(
            "/api/v1/divisions?parent=360734&limit=1&cursor={next}"
        ))
        .await;
    assert_eq!(second.status(), 200);
    let second: Value = second.json().await.unwrap();
    assert_eq!(second["items"][0]["code"], "360734101");
}

async fn logout(app: &TestApp, bearer: Option<&str>, body: Option<Value>) -> reqwest::Response {
    let mut request = app.client.post(app.url("/api/v1/auth/logout"));
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

async fn logout_ends_the_bearers_own_sign_in_whatever_the_body(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, access, refresh) = app.signed_in("li.ming", &[Role::Investigator]).await;

    // The inputs: a bogus refresh token with a valid bearer, and no Authorization.
    let bogus = logout(&app, Some(&access), Some(json!({"refresh_token": "bogus"}))).await;
    assert_field(bogus, "refresh_token", "other_session").await;
    assert_eq!(app.get_as("/api/v1/me", &access).await.status(), 200);
    let anonymous = logout(&app, None, Some(json!({"refresh_token": refresh}))).await;
    assert_problem(anonymous, 401, "unauthorized").await;
    assert_eq!(app.get_as("/api/v1/me", &access).await.status(), 200);

    // Another sign-in of the same user cannot be ended with this bearer.
    let other = app.login("li.ming", crate::helpers::PASSWORD).await;
    let other: Value = other.json().await.unwrap();
    let other_access = other["access_token"].as_str().unwrap();
    let other_refresh = other["refresh_token"].as_str().unwrap();
    let foreign = logout(
        &app,
        Some(&access),
        Some(json!({ "refresh_token": other_refresh })),
    )
    .await;
    assert_field(foreign, "refresh_token", "other_session").await;
    assert_eq!(app.get_as("/api/v1/me", other_access).await.status(), 200);
    assert_eq!(app.get_as("/api/v1/me", &access).await.status(), 200);

    // No body at all: the bearer's sign-in ends, and only it.
    assert_eq!(logout(&app, Some(&access), None).await.status(), 204);
    assert_problem(app.get_as("/api/v1/me", &access).await, 401, "unauthorized").await;
    let spent = app
        .client
        .post(app.url("/api/v1/auth/refresh"))
        .json(&json!({ "refresh_token": refresh }))
        .send()
        .await
        .unwrap();
    assert_eq!(spent.status(), 401);
    assert_eq!(app.get_as("/api/v1/me", other_access).await.status(), 200);
    // Ended already: a second logout is 401.
    assert_eq!(logout(&app, Some(&access), None).await.status(), 401);

    // `{}` and the sign-in's own refresh token both end it.
    assert_eq!(
        logout(&app, Some(other_access), Some(json!({})))
            .await
            .status(),
        204
    );
    assert_eq!(app.get_as("/api/v1/me", other_access).await.status(), 401);
    let (_, third_access, third_refresh) = app.signed_in("wu.fang", &[Role::Intake]).await;
    let own = logout(
        &app,
        Some(&third_access),
        Some(json!({ "refresh_token": third_refresh })),
    )
    .await;
    assert_eq!(own.status(), 204);
    assert_eq!(app.get_as("/api/v1/me", &third_access).await.status(), 401);

    // The contract says so.
    let doc: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    let operation = &doc["paths"]["/api/v1/auth/logout"]["post"];
    assert_eq!(
        operation["security"],
        json!([{"bearer": []}]),
        "{operation}"
    );
}

async fn full_width_codes_are_folded_in_queries_patches_and_the_cli(backend: Backend) {
    let app = spawn_app(backend).await;
    seed_divisions(&app).await;
    let (_, admin, _) = app.signed_in("admin", &[Role::Admin]).await;

    // `?parent=` full-width lists the same children as half-width.
    let half: Value = app
        .get("/api/v1/divisions?parent=360734")
        .await
        .json()
        .await
        .unwrap();
    let full = app.get("/api/v1/divisions?parent=３６０７３４").await;
    assert_eq!(full.status(), 200);
    let full: Value = full.json().await.unwrap();
    assert_eq!(full["items"], half["items"]);
    assert_eq!(full["items"].as_array().unwrap().len(), 2);

    // An official at a village, found by a full-width `?division=`, moved by a full-width PATCH.
    let created = app
        .post_as(
            "/api/v1/officials",
            &admin,
            &json!({"name": "王某某", "post": "村支书", "level": "village",
                    "division_code": "３６０７３４１００２０１"}),
        )
        .await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["division_code"], "360734100201");
    let found: Value = app
        .get_as(
            "/api/v1/officials?division=３６０７３４１００２０１",
            &admin,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found["items"].as_array().unwrap().len(), 1, "{found}");
    let id = created["id"].as_str().unwrap();
    let moved = app
        .client
        .patch(app.url(&format!("/api/v1/officials/{id}")))
        .bearer_auth(&admin)
        .json(&json!({"division_code": "３６０７３４１０１２０１"}))
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), 200);
    let moved: Value = moved.json().await.unwrap();
    assert_eq!(moved["division_code"], "360734101201");

    // A user's email changed full-width is stored folded, as on create.
    let user = app
        .post_as(
            "/api/v1/users",
            &admin,
            &json!({"username": "ｚｈａｏ", "display_name": "赵某", "email": "ｚ＠ｅｘａｍｐｌｅ．ｏｒｇ",
                    "roles": ["intake"], "password": "a long and unusual pass phrase 7"}),
        )
        .await;
    assert_eq!(user.status(), 201);
    let user: Value = user.json().await.unwrap();
    assert_eq!(
        (user["username"].clone(), user["email"].clone()),
        (json!("zhao"), json!("z@example.org"))
    );
    let changed = app
        .client
        .patch(app.url(&format!("/api/v1/users/{}", user["id"].as_str().unwrap())))
        .bearer_auth(&admin)
        .json(&json!({"email": "ｚｈａｏ＠ｅｘａｍｐｌｅ．ｏｒｇ"}))
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
    let changed: Value = changed.json().await.unwrap();
    assert_eq!(changed["email"], "zhao@example.org");

    // The CLI takes the full-width email (and username) the API takes.
    let db = std::sync::Arc::new(TestDatabase::create(backend));
    let out = crate::cli::probity(
        &db,
        &[
            "user",
            "create",
            "--username",
            "ｃｈｅｎ",
            "--role",
            "admin",
            "--email",
            "ａ＠ｂ．ｃｎ",
        ],
        Some("a long admin passphrase\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cli_app = crate::helpers::app(backend)
        .with_database(db.clone())
        .spawn()
        .await;
    let login = cli_app.login("chen", "a long admin passphrase").await;
    assert_eq!(login.status(), 200);
    let token: Value = login.json().await.unwrap();
    let me: Value = cli_app
        .get_as("/api/v1/me", token["access_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["user"]["email"], "a@b.cn");
}

async fn invisible_characters_in_emails_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    seed_divisions(&app).await;
    let (_, admin, _) = app.signed_in("admin", &[Role::Admin]).await;
    let before = user_count(&app).await;

    for (i, email) in [
        "a@b.cn\u{200b}",
        "\u{200b}a@b.cn",
        "a\u{feff}@b.cn",
        "a@b\u{2060}.cn",
    ]
    .into_iter()
    .enumerate()
    {
        let user = json!({"username": format!("wang{i}"), "display_name": "王某", "email": email,
                          "roles": ["intake"], "password": "a long and unusual pass phrase 7"});
        assert_field(
            app.post_as("/api/v1/users", &admin, &user).await,
            "email",
            "invalid",
        )
        .await;

        let mut report = example();
        report["reporter"]["email"] = json!(email);
        let response = app
            .client
            .post(app.url("/api/v1/reports"))
            .json(&report)
            .send()
            .await
            .unwrap();
        assert_field(response, "reporter.email", "invalid_email").await;
    }
    assert_eq!(user_count(&app).await, before, "no user was created");
    assert_eq!(report_count(&app).await, 0, "no report was stored");

    // An invisible character cannot be patched in either.
    let id: String = app
        .db(|conn| {
            users::table
                .select(users::id)
                .first::<String>(conn)
                .unwrap()
        })
        .await;
    let patched = app
        .client
        .patch(app.url(&format!("/api/v1/users/{id}")))
        .bearer_auth(&admin)
        .json(&json!({"email": "a@b.cn\u{200b}"}))
        .send()
        .await
        .unwrap();
    assert_field(patched, "email", "invalid").await;
}

async fn a_password_of_invisible_characters_is_too_short(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, admin, _) = app.signed_in("admin", &[Role::Admin]).await;
    let before = user_count(&app).await;
    // The input: 20 characters, none of them visible.
    let invisible = "\u{200b}\u{3164}\u{2800}\u{ad}".repeat(5);
    assert_eq!(invisible.chars().count(), 20);
    let padded = format!("abc{}", "\u{200b}".repeat(20));
    for password in [invisible, padded] {
        let user = json!({"username": "wang", "display_name": "王某", "email": null,
                          "roles": ["intake"], "password": password});
        assert_field(
            app.post_as("/api/v1/users", &admin, &user).await,
            "password",
            "too_short",
        )
        .await;
    }
    assert_eq!(user_count(&app).await, before, "no user was created");
}

async fn the_form_refuses_a_trailing_c1_control_as_the_api_does(backend: Backend) {
    let app = spawn_app(backend).await;
    seed_places(&app).await;

    // The input: an accused name ending in NEL (U+0085), which `str::trim` drops.
    let page = FormPage::open(&app, "/report", &[]).await;
    let mut fields = Fields::anonymous();
    fields.set("accused_name", "张三\u{85}");
    let response = post_report(&app, &page, &fields, &[], None).await;
    assert_eq!(response.status(), 422);
    assert!(response.text().await.unwrap().contains("控制字符"));

    // A leading one, in the reporter's name of a real-name report.
    let page = FormPage::open(&app, "/report", &[]).await;
    let mut fields = Fields::real_name(&crate::web::id_number("36073419800101001"));
    fields.set("reporter_name", "\u{85}李某");
    let response = post_report(&app, &page, &fields, &[], None).await;
    assert_eq!(response.status(), 422);
    assert!(response.text().await.unwrap().contains("控制字符"));
    assert_eq!(report_count(&app).await, 0, "nothing was stored");

    // The API answers the same input the same way.
    let mut body = example();
    body["township_code"] = json!("360734106");
    body["village_code"] = json!("360734106201");
    body["accused"][0]["name"] = json!("张三\u{85}");
    let response = app
        .client
        .post(app.url("/api/v1/reports"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_field(response, "accused[0].name", "control_character").await;
    assert_eq!(report_count(&app).await, 0);
}
