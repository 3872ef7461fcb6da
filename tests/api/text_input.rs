//! Issue 7, faults 1, 2, 3 and 9: the text rules of `domain::text` on every kind of input, on
//! both backends. Controls are refused with 422 naming the field and nothing is stored;
//! invisible text does not satisfy "required"; CRLF counts as one character; full-width codes
//! are read as their ASCII forms.

use diesel::prelude::*;
use probity::db::schema::{divisions, report_messages, reports, users};
use probity::db::Backend;
use probity::domain::roles::Role;
use reqwest::multipart::Form;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, TestApp};
use crate::reports::{example, seed_divisions};
use crate::web::{post_report, receipt, seed_places, Fields, FormPage};

pub fn tests() -> Vec<(&'static str, crate::helpers::AsyncTest)> {
    crate::tests![
        control_characters_in_a_report_are_refused_naming_the_field,
        control_characters_are_refused_on_every_staff_endpoint,
        query_parameters_and_cursors_never_answer_500,
        invisible_text_does_not_satisfy_required_fields,
        a_crlf_description_of_10000_characters_is_accepted_by_the_api,
        a_crlf_description_of_10000_characters_is_accepted_by_the_form,
        control_characters_typed_into_the_form_come_back_in_chinese,
        full_width_codes_are_read_as_ascii,
    ]
}

async fn submit(app: &TestApp, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/reports"))
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn count_reports(app: &TestApp) -> i64 {
    app.db(|conn| reports::table.count().get_result(conn).unwrap())
        .await
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

/// The issue's input: `\u0000` in the description, which PostgreSQL answered 500.
fn with_nul_description() -> Value {
    let mut body = example();
    body["description"] =
        json!("村支书把低保名额给了自己的亲戚，\u{0}评议会没有公示，群众意见很大。");
    body
}

/// A 10,000-character description (line breaks counted once) typed with CRLF line breaks.
fn crlf_description() -> (String, String) {
    let line = "很".repeat(99);
    let mut typed = format!("{line}\r\n").repeat(99);
    typed.push_str(&"多".repeat(100));
    let stored = typed.replace("\r\n", "\n");
    assert_eq!(stored.chars().count(), 10_000);
    assert!(typed.chars().count() > 10_000);
    (typed, stored)
}

async fn control_characters_in_a_report_are_refused_naming_the_field(backend: Backend) {
    let app = spawn_app(backend).await;
    seed_divisions(&app).await;

    assert_field(
        submit(&app, &with_nul_description()).await,
        "description",
        "control_character",
    )
    .await;

    let mut body = example();
    body["accused"][0]["name"] = json!("张\u{1}某");
    assert_field(
        submit(&app, &body).await,
        "accused[0].name",
        "control_character",
    )
    .await;

    let mut body = example();
    body["reporter"]["address"] = json!("上坪村\u{1b}[31m三组");
    body["occurred_from"] = json!("2026-03-01\u{7f}");
    let problem = assert_field(
        submit(&app, &body).await,
        "reporter.address",
        "control_character",
    )
    .await;
    let errors = problem["errors"].as_array().unwrap();
    assert!(
        errors.iter().any(|e| e["field"] == "occurred_from"),
        "every field is named"
    );
    assert!(errors
        .iter()
        .any(|e| e["message"].as_str().unwrap().contains("U+001B")));

    // The same through the multipart `report` field.
    let form = Form::new().text("report", with_nul_description().to_string());
    let response = app
        .client
        .post(app.url("/api/v1/reports"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_field(response, "description", "control_character").await;

    // C1 controls too, and a key holding one.
    let mut body = example();
    body["reporter"]["name"] = json!("李\u{85}某");
    assert_field(
        submit(&app, &body).await,
        "reporter.name",
        "control_character",
    )
    .await;

    assert_eq!(count_reports(&app).await, 0, "nothing was stored");
    // A tab and line breaks are text, not controls.
    let mut body = example();
    body["description"] =
        json!("村支书把低保名额给了自己的亲戚，\t评议会没有公示，\n群众意见很大。");
    assert_eq!(submit(&app, &body).await.status(), 201);
    assert_eq!(count_reports(&app).await, 1);
}

async fn control_characters_are_refused_on_every_staff_endpoint(backend: Backend) {
    let app = spawn_app(backend).await;
    seed_divisions(&app).await;
    let (_, admin, _) = app.signed_in("admin", &[Role::Admin]).await;

    let user = json!({"username": "wang\u{0}", "display_name": "王某", "email": null,
                      "roles": ["intake"], "password": "a long and unusual pass phrase 7"});
    assert_field(
        app.post_as("/api/v1/users", &admin, &user).await,
        "username",
        "control_character",
    )
    .await;
    let user = json!({"username": "wang", "display_name": "王\u{2}某", "email": null,
                      "roles": ["intake"], "password": "a long and unusual pass phrase 7"});
    assert_field(
        app.post_as("/api/v1/users", &admin, &user).await,
        "display_name",
        "control_character",
    )
    .await;
    let stored: i64 = app
        .db(|conn| {
            users::table
                .filter(users::username.like("wang%"))
                .count()
                .get_result(conn)
                .unwrap()
        })
        .await;
    assert_eq!(stored, 0, "no user was created");

    let division = json!({"code": "360734102", "name": "新\u{0}镇", "level": "township",
                          "parent_code": "360734"});
    assert_field(
        app.post_as("/api/v1/divisions", &admin, &division).await,
        "name",
        "control_character",
    )
    .await;
    let stored: i64 = app
        .db(|conn| {
            divisions::table
                .filter(divisions::code.eq("360734102"))
                .count()
                .get_result(conn)
                .unwrap()
        })
        .await;
    assert_eq!(stored, 0, "no division was created");

    // Signing in: the gate answers before any password is checked.
    let response = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": "admin\u{0}", "password": "x"}))
        .send()
        .await
        .unwrap();
    assert_field(response, "username", "control_character").await;

    // A reporter's follow-up message.
    let receipt: Value = submit(&app, &example()).await.json().await.unwrap();
    let session: Value = app
        .client
        .post(app.url("/api/v1/reporter/session"))
        .json(&json!({"receipt_code": receipt["receipt_code"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = session["token"].as_str().unwrap();
    assert_field(
        app.post_as(
            "/api/v1/reporter/messages",
            token,
            &json!({"body": "还有\u{0}照片"}),
        )
        .await,
        "body",
        "control_character",
    )
    .await;
    let messages: i64 = app
        .db(|conn| report_messages::table.count().get_result(conn).unwrap())
        .await;
    assert_eq!(messages, 0, "no message was stored");
}

async fn query_parameters_and_cursors_never_answer_500(backend: Backend) {
    let app = spawn_app(backend).await;
    seed_divisions(&app).await;
    let (_, admin, _) = app.signed_in("admin", &[Role::Admin]).await;

    assert_field(
        app.get_as("/api/v1/divisions?parent=3607%00", &admin).await,
        "parent",
        "control_character",
    )
    .await;
    assert_field(
        app.get_as("/api/v1/users?cursor=%01abc", &admin).await,
        "cursor",
        "control_character",
    )
    .await;
    // Percent-decodes to bytes that are not UTF-8.
    assert_field(
        app.get_as("/api/v1/users?cursor=%FF%FE", &admin).await,
        "cursor",
        "invalid_encoding",
    )
    .await;
    // Valid base64url of bytes that are not UTF-8 (0xFF 0xFE), and not base64 at all.
    assert_field(
        app.get_as("/api/v1/users?cursor=__4", &admin).await,
        "cursor",
        "invalid",
    )
    .await;
    assert_field(
        app.get_as("/api/v1/users?cursor=not*base64!", &admin).await,
        "cursor",
        "invalid",
    )
    .await;
    // A path parameter.
    assert_field(
        app.get_as("/api/v1/users/abc%00def", &admin).await,
        "path",
        "control_character",
    )
    .await;
    assert_field(
        app.get_as("/api/v1/divisions/360734%00", &admin).await,
        "path",
        "control_character",
    )
    .await;
}

async fn invisible_text_does_not_satisfy_required_fields(backend: Backend) {
    let app = spawn_app(backend).await;
    seed_divisions(&app).await;

    // The issue's input: 20 zero-width spaces.
    let mut body = example();
    body["description"] = json!("\u{200b}".repeat(20));
    assert_field(submit(&app, &body).await, "description", "required").await;

    // Five visible characters padded with ideographic spaces and BOMs.
    let mut body = example();
    body["description"] = json!(format!("有人冒领{}钱", "\u{3000}\u{feff}".repeat(20)));
    assert_field(submit(&app, &body).await, "description", "too_short").await;

    // A reporter name of zero-width joiners, an accused name of Hangul fillers.
    let mut body = example();
    body["reporter"]["name"] = json!("\u{200d}\u{200d}\u{200d}");
    body["accused"][0]["name"] = json!("\u{3164}\u{115f}");
    let problem = assert_field(submit(&app, &body).await, "reporter.name", "required").await;
    assert!(problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["field"] == "accused[0].name"));
    assert_eq!(count_reports(&app).await, 0, "nothing was stored");

    // Staff-side names follow the same rule.
    let (_, admin, _) = app.signed_in("admin", &[Role::Admin]).await;
    let division = json!({"code": "360734102", "name": "\u{200b}\u{2060}", "level": "township",
                          "parent_code": "360734"});
    assert_field(
        app.post_as("/api/v1/divisions", &admin, &division).await,
        "name",
        "invalid_length",
    )
    .await;
    let user = json!({"username": "wang", "display_name": "\u{feff}\u{3000}", "email": null,
                      "roles": ["intake"], "password": "a long and unusual pass phrase 7"});
    assert_field(
        app.post_as("/api/v1/users", &admin, &user).await,
        "display_name",
        "invalid_length",
    )
    .await;

    // A follow-up message of invisible characters.
    let receipt: Value = submit(&app, &example()).await.json().await.unwrap();
    let session: Value = app
        .client
        .post(app.url("/api/v1/reporter/session"))
        .json(&json!({"receipt_code": receipt["receipt_code"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = session["token"].as_str().unwrap();
    assert_field(
        app.post_as(
            "/api/v1/reporter/messages",
            token,
            &json!({"body": "\u{200b}\u{200c}\u{3000}"}),
        )
        .await,
        "body",
        "required",
    )
    .await;
}

async fn stored_descriptions(app: &TestApp) -> Vec<String> {
    app.db(|conn| {
        reports::table
            .select(reports::description)
            .load::<String>(conn)
            .unwrap()
    })
    .await
}

async fn a_crlf_description_of_10000_characters_is_accepted_by_the_api(backend: Backend) {
    let app = spawn_app(backend).await;
    seed_divisions(&app).await;
    let (typed, stored) = crlf_description();
    let mut body = example();
    body["description"] = json!(typed);
    assert_eq!(submit(&app, &body).await.status(), 201);
    // Lone CRs too.
    let mut body = example();
    body["description"] = json!(typed.replace("\r\n", "\r"));
    assert_eq!(submit(&app, &body).await.status(), 201);
    assert_eq!(
        stored_descriptions(&app).await,
        vec![stored.clone(), stored]
    );

    // One character more is over the limit.
    let mut body = example();
    body["description"] = json!(format!("{typed}多"));
    assert_field(submit(&app, &body).await, "description", "too_long").await;
    assert_eq!(count_reports(&app).await, 2);
}

async fn a_crlf_description_of_10000_characters_is_accepted_by_the_form(backend: Backend) {
    let app = spawn_app(backend).await;
    seed_places(&app).await;
    let (typed, stored) = crlf_description();
    let page = FormPage::open(&app, "/report", &[]).await;
    let mut fields = Fields::anonymous();
    fields.set("description", &typed);
    let response = post_report(&app, &page, &fields, &[], None).await;
    assert_eq!(response.status(), 200);
    let (number, _) = receipt(&response.text().await.unwrap());
    assert!(number.starts_with("JB-"));
    assert_eq!(stored_descriptions(&app).await, vec![stored]);
}

async fn control_characters_typed_into_the_form_come_back_in_chinese(backend: Backend) {
    let app = spawn_app(backend).await;
    seed_places(&app).await;
    let page = FormPage::open(&app, "/report", &[]).await;
    let mut fields = Fields::anonymous();
    fields.set(
        "description",
        "村支书把低保名额给了自己的亲戚，\u{0}评议会没有公示，群众意见很大。",
    );
    let response = post_report(&app, &page, &fields, &[], None).await;
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    assert!(html.contains("控制字符"), "the Chinese message is shown");

    let page = FormPage::open(&app, "/report", &[]).await;
    let mut fields = Fields::anonymous();
    fields.set("description", &"\u{200b}".repeat(20));
    let response = post_report(&app, &page, &fields, &[], None).await;
    assert_eq!(response.status(), 422);
    assert!(response.text().await.unwrap().contains("请写明事情经过"));
    assert_eq!(count_reports(&app).await, 0, "nothing was stored");
}

async fn full_width_codes_are_read_as_ascii(backend: Backend) {
    let app = spawn_app(backend).await;
    seed_divisions(&app).await;

    // The issue's input, with a full-width phone and division codes.
    let mut body = example();
    body["reporter"]["id_number"] = json!("１１０１０５１９４９１２３１００２Ｘ");
    body["reporter"]["phone"] = json!("１３８－００１３－８０００");
    body["reporter"]["email"] = json!("ｌｉ＠ｅｘａｍｐｌｅ．ｃｏｍ");
    body["township_code"] = json!("３６０７３４１００");
    body["village_code"] = json!("３６０７３４１００２０１");
    body["occurred_from"] = json!("２０２６－０３－０１");
    let response = submit(&app, &body).await;
    assert_eq!(response.status(), 201);
    let receipt: Value = response.json().await.unwrap();
    let village: String = app
        .db(|conn| {
            reports::table
                .select(reports::village_code)
                .first(conn)
                .unwrap()
        })
        .await;
    assert_eq!(village, "360734100201");

    // A lower-case full-width x and ideographic spaces between groups.
    let mut body = example();
    body["reporter"]["id_number"] = json!("１１０１０５　１９４９１２３１　００２ｘ");
    assert_eq!(submit(&app, &body).await.status(), 201);

    // The receipt code in full-width digits with full-width hyphens.
    let code: String = receipt["receipt_code"]
        .as_str()
        .unwrap()
        .chars()
        .map(|c| match c {
            '0'..='9' => char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap(),
            _ => '－',
        })
        .collect();
    let response = app
        .client
        .post(app.url("/api/v1/reporter/session"))
        .json(&json!({ "receipt_code": code }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{code}");

    // A division code typed full-width.
    let (_, admin, _) = app.signed_in("admin", &[Role::Admin]).await;
    let response = app
        .get_as("/api/v1/divisions/３６０７３４１００", &admin)
        .await;
    assert_eq!(response.status(), 200);
    let division: Value = response.json().await.unwrap();
    assert_eq!(division["code"], "360734100");
    let created = app
        .post_as(
            "/api/v1/divisions",
            &admin,
            &json!({"code": "３６０７３４１０２", "name": "新镇", "level": "township",
                    "parent_code": "３６０７３４"}),
        )
        .await;
    assert_eq!(created.status(), 201);
}
