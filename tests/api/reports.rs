use std::time::Duration;

use diesel::prelude::*;
use probity::crypto::DataKey;
use probity::db::schema::{attachments, audit_events, jobs, reports};
use probity::db::Backend;
use probity::domain::roles::Role;
use reqwest::multipart::{Form, Part};
use secrecy::ExposeSecret;
use serde_json::{json, Value};

use crate::helpers::{app, assert_problem, spawn_app, TestApp};

pub fn tests() -> Vec<(&'static str, crate::helpers::AsyncTest)> {
    crate::tests![
        a_real_name_report_gets_a_receipt_and_its_identity_is_encrypted,
        an_anonymous_report_carries_no_identity,
        every_validation_rule_answers_422_with_its_field,
        idempotent_replays_return_the_same_receipt,
        bursts_are_rate_limited,
        follow_up_with_right_and_wrong_codes,
        evidence_is_encrypted_on_disk_and_downloads_byte_for_byte,
        bad_evidence_is_refused,
        intake_logs_phone_reports,
        intake_sees_the_queue_and_the_thread_but_never_the_identity,
    ]
}

const PLACES: &[crate::helpers::DivisionRow] = &[
    ("360734", "寻乌县", "county", None),
    ("360734100", "长宁镇", "township", Some("360734")),
    ("360734101", "晨光镇", "township", Some("360734")),
    ("360734100201", "长宁镇某村", "village", Some("360734100")),
    ("360734101201", "晨光镇某村", "village", Some("360734101")),
];

pub async fn seed_divisions(app: &TestApp) {
    app.insert_divisions(PLACES).await;
}

pub fn example() -> Value {
    json!({
        "programme": "dibao",
        "misconduct": ["favouritism", "black_box"],
        "township_code": "360734100",
        "village_code": "360734100201",
        "accused": [{"name": "张某某", "position": "村支书"}],
        "description": "村支书把低保名额给了自己的亲戚,评议会没有公示,群众意见很大。",
        "occurred_from": "2026-03-01",
        "occurred_to": "2026-05-31",
        "anonymous": false,
        "reporter": {"name": "李某", "id_number": "11010519491231002X", "phone": "13800138000",
                     "email": null, "address": null}
    })
}

fn anonymous() -> Value {
    let mut body = example();
    body["anonymous"] = json!(true);
    body.as_object_mut().unwrap().remove("reporter");
    body
}

async fn submit(app: &TestApp, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/reports"))
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn json_of(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

fn data_key(app: &TestApp) -> DataKey {
    let hex_key = app
        .settings
        .secrets
        .data_key
        .as_ref()
        .unwrap()
        .expose_secret()
        .to_string();
    DataKey::new(hex::decode(hex_key).unwrap().try_into().unwrap())
}

#[allow(clippy::type_complexity)]
async fn identity_columns(
    app: &TestApp,
) -> Vec<(
    String,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
    String,
)> {
    app.db(|conn| {
        reports::table
            .select((
                reports::id,
                reports::reporter_name,
                reports::reporter_id_number,
                reports::reporter_phone,
                reports::receipt_hash,
            ))
            .load(conn)
            .unwrap()
    })
    .await
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

async fn a_real_name_report_gets_a_receipt_and_its_identity_is_encrypted(backend: Backend) {
    let app = spawn_app(backend).await;
    seed_divisions(&app).await;
    let response = submit(&app, &example()).await;
    assert_eq!(response.status(), 201);
    let receipt = json_of(response).await;
    let number = receipt["report_number"].as_str().unwrap();
    assert!(
        number.starts_with("JB-20") && number.ends_with("-000001"),
        "{number}"
    );
    let code = receipt["receipt_code"].as_str().unwrap();
    assert_eq!(code.len(), 19);
    assert!(code
        .split(' ')
        .all(|g| g.len() == 4 && g.chars().all(|c| c.is_ascii_digit())));
    assert_eq!(receipt["status"], "received");
    assert!(
        receipt["acknowledge_by"].is_string(),
        "real-name reports are acknowledged"
    );
    assert!(receipt["triage_due"].as_str().unwrap() < receipt["acknowledge_by"].as_str().unwrap());

    // The database holds no plaintext identity and no receipt code.
    let rows = identity_columns(&app).await;
    assert_eq!(rows.len(), 1);
    let (id, name, id_number, phone, receipt_hash) = rows[0].clone();
    for (column, secret) in [
        (&name, "李某"),
        (&id_number, "11010519491231002X"),
        (&phone, "13800138000"),
    ] {
        let stored = column.as_ref().expect("stored encrypted");
        assert!(
            !contains(stored, secret),
            "plaintext {secret} in the database"
        );
    }
    assert!(!receipt_hash.contains(&code.replace(' ', "")));
    // …but the data key opens it, bound to this report and field.
    let key = data_key(&app);
    assert_eq!(
        key.decrypt(&name.unwrap(), &format!("report:{id}:name"))
            .unwrap(),
        "李某".as_bytes()
    );
    assert!(key
        .decrypt(&phone.clone().unwrap(), &format!("report:{id}:name"))
        .is_err());

    // Nothing identifying reaches the audit log.
    let details: Vec<String> = app
        .db(|conn| {
            audit_events::table
                .select(audit_events::details)
                .load(conn)
                .unwrap()
        })
        .await;
    assert!(details.iter().any(|d| d.contains(number)));
    for d in &details {
        for secret in ["李某", "11010519491231002X", "13800138000"] {
            assert!(!d.contains(secret), "identity in audit: {d}");
        }
    }

    // A second report gets the next number.
    let second = json_of(submit(&app, &anonymous()).await).await;
    assert!(second["report_number"]
        .as_str()
        .unwrap()
        .ends_with("-000002"));
}

async fn an_anonymous_report_carries_no_identity(backend: Backend) {
    let app = spawn_app(backend).await;
    seed_divisions(&app).await;
    let response = submit(&app, &anonymous()).await;
    assert_eq!(response.status(), 201);
    let receipt = json_of(response).await;
    assert!(receipt["acknowledge_by"].is_null());
    let rows = identity_columns(&app).await;
    assert!(rows[0].1.is_none() && rows[0].2.is_none() && rows[0].3.is_none());
}

async fn every_validation_rule_answers_422_with_its_field(backend: Backend) {
    let app = spawn_app(backend).await;
    seed_divisions(&app).await;
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(2))
        .format("%Y-%m-%d")
        .to_string();
    type Change = Box<dyn Fn(&mut Value) + Send + Sync>;
    let cases: Vec<(&str, Change, &str, &str)> = vec![
        (
            "unknown programme",
            Box::new(|b| b["programme"] = json!("housing")),
            "programme",
            "unknown_value",
        ),
        (
            "unknown misconduct",
            Box::new(|b| b["misconduct"] = json!(["bribery"])),
            "misconduct[0]",
            "unknown_value",
        ),
        (
            "no misconduct",
            Box::new(|b| b["misconduct"] = json!([])),
            "misconduct",
            "required",
        ),
        (
            "village elsewhere",
            Box::new(|b| b["village_code"] = json!("360734101201")),
            "village_code",
            "village_not_in_township",
        ),
        (
            "unknown township",
            Box::new(|b| b["township_code"] = json!("999999999")),
            "township_code",
            "unknown_township",
        ),
        (
            "short description",
            Box::new(|b| b["description"] = json!("太短")),
            "description",
            "too_short",
        ),
        (
            "long description",
            Box::new(|b| b["description"] = json!("长".repeat(10_001))),
            "description",
            "too_long",
        ),
        (
            "future date",
            Box::new(move |b| b["occurred_to"] = json!(tomorrow.clone())),
            "occurred_to",
            "in_future",
        ),
        (
            "real name without name",
            Box::new(|b| b["reporter"]["name"] = json!(null)),
            "reporter.name",
            "required",
        ),
        (
            "wrong check digit",
            Box::new(|b| b["reporter"]["id_number"] = json!("110105194912310021")),
            "reporter.id_number",
            "bad_check_digit",
        ),
        (
            "bad mobile",
            Box::new(|b| b["reporter"]["phone"] = json!("1380013800")),
            "reporter.phone",
            "invalid_phone",
        ),
        (
            "mobile not starting with 1",
            Box::new(|b| b["reporter"]["phone"] = json!("23800138000")),
            "reporter.phone",
            "invalid_phone",
        ),
        (
            "real name without reporter",
            Box::new(|b| {
                b.as_object_mut().unwrap().remove("reporter");
            }),
            "reporter",
            "required",
        ),
    ];
    for (what, change, field, code) in cases {
        let mut body = example();
        change(&mut body);
        let problem = assert_problem(submit(&app, &body).await, 422, "validation_failed").await;
        let errors = problem["errors"].as_array().unwrap();
        assert!(
            errors
                .iter()
                .any(|e| e["field"] == field && e["code"] == code),
            "{what}: expected {field}/{code} in {problem}"
        );
    }
    // All problems at once, and nothing was written.
    let mut body = example();
    body["programme"] = json!("x");
    body["description"] = json!("短");
    let problem = assert_problem(submit(&app, &body).await, 422, "validation_failed").await;
    assert!(problem["errors"].as_array().unwrap().len() >= 2);
    let count: i64 = app
        .db(|conn| reports::table.count().get_result(conn).unwrap())
        .await;
    assert_eq!(count, 0);
    // Malformed JSON is a 400, a wrong shape a 422.
    let malformed = app
        .client
        .post(app.url("/api/v1/reports"))
        .header("content-type", "application/json")
        .body("{\"programme\":")
        .send()
        .await
        .unwrap();
    assert_problem(malformed, 400, "malformed_json").await;
}

async fn idempotent_replays_return_the_same_receipt(backend: Backend) {
    let app = spawn_app(backend).await;
    seed_divisions(&app).await;
    let send = |body: Value, key: &'static str| {
        app.client
            .post(app.url("/api/v1/reports"))
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
    };
    let first = send(example(), "key-0001").await.unwrap();
    assert_eq!(first.status(), 201);
    let first = json_of(first).await;
    let again = send(example(), "key-0001").await.unwrap();
    assert_eq!(again.status(), 201);
    let again = json_of(again).await;
    assert_eq!(first, again, "the same number and receipt code");
    let count: i64 = app
        .db(|conn| reports::table.count().get_result(conn).unwrap())
        .await;
    assert_eq!(count, 1, "no second report");
    let different = send(anonymous(), "key-0001").await.unwrap();
    assert_problem(different, 409, "idempotency_key_reused").await;
    // The saved answer is encrypted: the receipt code is not on disk in clear.
    let saved: Vec<Vec<u8>> = app
        .db(|conn| {
            probity::db::schema::idempotency_keys::table
                .select(probity::db::schema::idempotency_keys::response)
                .load(conn)
                .unwrap()
        })
        .await;
    let code = first["receipt_code"].as_str().unwrap();
    assert!(!contains(&saved[0], code) && !contains(&saved[0], &code.replace(' ', "")));
    // Another key is another report.
    assert_eq!(send(example(), "key-0002").await.unwrap().status(), 201);
}

async fn bursts_are_rate_limited(backend: Backend) {
    let app = app(backend)
        .set("reports.submit_per_source_per_hour", 3)
        .set("reports.receipt_checks_per_source_per_hour", 3)
        .spawn()
        .await;
    seed_divisions(&app).await;
    for _ in 0..3 {
        assert_eq!(submit(&app, &anonymous()).await.status(), 201);
    }
    let limited = submit(&app, &anonymous()).await;
    assert!(
        limited.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    assert_problem(limited, 429, "rate_limited").await;
    for _ in 0..3 {
        let r = app
            .client
            .post(app.url("/api/v1/reporter/session"))
            .json(&json!({"receipt_code": "0000 0000 0000 0000"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
    }
    let r = app
        .client
        .post(app.url("/api/v1/reporter/session"))
        .json(&json!({"receipt_code": "0000 0000 0000 0000"}))
        .send()
        .await
        .unwrap();
    assert_problem(r, 429, "rate_limited").await;
}

async fn session(app: &TestApp, code: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/reporter/session"))
        .json(&json!({"receipt_code": code}))
        .send()
        .await
        .unwrap()
}

async fn follow_up_with_right_and_wrong_codes(backend: Backend) {
    let app = spawn_app(backend).await;
    seed_divisions(&app).await;
    app.create_staff("xinfang", &[Role::Intake], Some("xinfang@probity.test"))
        .await;
    let receipt = json_of(submit(&app, &example()).await).await;
    let code = receipt["receipt_code"].as_str().unwrap().to_string();

    let wrong = assert_problem(
        session(&app, "1234 5678 9012 3456").await,
        401,
        "invalid_receipt_code",
    )
    .await;
    let malformed = assert_problem(session(&app, "12").await, 401, "invalid_receipt_code").await;
    assert_eq!(
        wrong["detail"], malformed["detail"],
        "the same answer either way"
    );

    let opened = session(&app, &code.replace(' ', "")).await;
    assert_eq!(opened.status(), 200);
    let token = json_of(opened).await["token"].as_str().unwrap().to_string();
    let view = json_of(app.get_as("/api/v1/reporter/report", &token).await).await;
    assert_eq!(view["report_number"], receipt["report_number"]);
    assert_eq!(view["programme_zh"], "低保");
    assert_eq!(view["township"]["name"], "长宁镇");
    assert_eq!(view["status"], "received");
    assert!(view["status_explanation_zh"]
        .as_str()
        .unwrap()
        .contains("工作日"));
    assert_eq!(view["next_deadline"]["kind"], "triage");
    assert!(
        view.get("reporter").is_none(),
        "the view never echoes identity"
    );

    let reply = app
        .post_as(
            "/api/v1/reporter/messages",
            &token,
            &json!({"body": "我还有村民评议会的照片可以提供。"}),
        )
        .await;
    assert_eq!(reply.status(), 201);
    let view = json_of(app.get_as("/api/v1/reporter/report", &token).await).await;
    assert_eq!(view["messages"][0]["from"], "reporter");
    assert_eq!(
        view["messages"][0]["body"],
        "我还有村民评议会的照片可以提供。"
    );
    assert_problem(
        app.post_as("/api/v1/reporter/messages", &token, &json!({"body": "  "}))
            .await,
        422,
        "validation_failed",
    )
    .await;

    // Intake is told there is a reply — without its content.
    let queued: Vec<(String, String)> = app
        .db(|conn| {
            jobs::table
                .filter(jobs::kind.ne("sweep_expired_replays"))
                .filter(jobs::kind.ne("deadline_reminders"))
                .select((jobs::kind, jobs::payload))
                .load(conn)
                .unwrap()
        })
        .await;
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].0, "email");
    let email: serde_json::Value = serde_json::from_str(&queued[0].1).unwrap();
    assert_eq!(email["template"], "reporter_message");
    assert_eq!(email["recipient"], "xinfang@probity.test");
    assert!(!queued[0].1.contains("照片"));

    // A reporter token is not a staff token, and needs a session at all.
    assert_eq!(app.get_as("/api/v1/me", &token).await.status(), 401);
    assert_eq!(app.get("/api/v1/reporter/report").await.status(), 401);
}

/// Valid files (evidence is parsed to remove its metadata): a PNG and a PDF of about `len`.
fn png(len: usize) -> Vec<u8> {
    crate::evidence::png_sized(len)
}

fn pdf(len: usize) -> Vec<u8> {
    crate::evidence::pdf_sized(len)
}

fn file_part(data: Vec<u8>, name: &str, mime: &str) -> Part {
    Part::bytes(data)
        .file_name(name.to_string())
        .mime_str(mime)
        .unwrap()
}

async fn submit_multipart(app: &TestApp, form: Form) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/reports"))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

async fn evidence_is_encrypted_on_disk_and_downloads_byte_for_byte(backend: Backend) {
    let app = spawn_app(backend).await;
    seed_divisions(&app).await;
    let photo = png(200_000);
    let scan = pdf(3_000);
    let form = Form::new()
        .text("report", example().to_string())
        .part(
            "files",
            file_part(photo.clone(), "村委会公示栏.png", "image/png"),
        )
        .part(
            "files",
            file_part(scan.clone(), "名单.pdf", "application/pdf"),
        );
    let response = submit_multipart(&app, form).await;
    assert_eq!(response.status(), 201);
    let receipt = json_of(response).await;

    let stored: Vec<(String, String, String, i64)> = app
        .db(|conn| {
            attachments::table
                .order(attachments::size_bytes.desc())
                .select((
                    attachments::id,
                    attachments::storage_name,
                    attachments::content_type,
                    attachments::size_bytes,
                ))
                .load(conn)
                .unwrap()
        })
        .await;
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[0].2, "image/png");
    assert_eq!(stored[1].2, "application/pdf");
    assert_eq!(stored[0].3, photo.len() as i64);
    let attachment_dir = app.settings.data.dir.join("attachments");
    for (_, storage_name, _, _) in &stored {
        assert!(
            !storage_name.contains("公示") && !storage_name.contains(".png"),
            "no client file name"
        );
        let on_disk = std::fs::read(attachment_dir.join(storage_name)).unwrap();
        assert!(
            !contains(&on_disk, "%PDF") && !on_disk.windows(4).any(|w| w == b"\x89PNG"),
            "encrypted at rest"
        );
    }

    // Staff download: decrypted, byte for byte, as an attachment.
    let (_, intake, _) = app.signed_in("xinfang", &[Role::Intake]).await;
    let download = app
        .get_as(&format!("/api/v1/attachments/{}", stored[0].0), &intake)
        .await;
    assert_eq!(download.status(), 200);
    assert_eq!(download.headers()["content-type"], "image/png");
    assert!(download.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    assert_eq!(download.headers()["x-content-type-options"], "nosniff");
    assert_eq!(download.bytes().await.unwrap().to_vec(), photo);
    let download = app
        .get_as(&format!("/api/v1/attachments/{}", stored[1].0), &intake)
        .await;
    // A PDF is written anew without its Info dictionary (tests/api/evidence.rs); its page
    // content comes back unchanged.
    let page = b"BT /F1 12 Tf 20 100 Td (evidence) Tj ET";
    assert!(contains(&scan, "(evidence) Tj"));
    assert!(download
        .bytes()
        .await
        .unwrap()
        .windows(page.len())
        .any(|w| w == page));
    // Roles without case or intake work may not read evidence; the public may not at all.
    let (_, benefits, _) = app.signed_in("mzj", &[Role::Benefits]).await;
    assert_eq!(
        app.get_as(&format!("/api/v1/attachments/{}", stored[0].0), &benefits)
            .await
            .status(),
        403
    );
    assert_eq!(
        app.get(&format!("/api/v1/attachments/{}", stored[0].0))
            .await
            .status(),
        401
    );

    // The reporter adds more evidence after submitting.
    let token = json_of(session(&app, receipt["receipt_code"].as_str().unwrap()).await).await
        ["token"]
        .as_str()
        .unwrap()
        .to_string();
    let more = app
        .client
        .post(app.url("/api/v1/reporter/attachments"))
        .bearer_auth(&token)
        .multipart(Form::new().part(
            "files",
            file_part(pdf(1_000), "补充.pdf", "application/pdf"),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(more.status(), 201);
    let view = json_of(app.get_as("/api/v1/reporter/report", &token).await).await;
    assert_eq!(view["evidence"].as_array().unwrap().len(), 3);
}

async fn bad_evidence_is_refused(backend: Backend) {
    let app = app(backend)
        .set("reports.max_attachment_bytes", 50_000)
        .set("reports.max_attachments", 2)
        .spawn()
        .await;
    seed_divisions(&app).await;
    let text = Form::new().text("report", example().to_string()).part(
        "files",
        file_part(
            b"just words pretending to be evidence".to_vec(),
            "a.pdf",
            "application/pdf",
        ),
    );
    assert_problem(
        submit_multipart(&app, text).await,
        415,
        "unsupported_attachment_type",
    )
    .await;
    let big = Form::new()
        .text("report", example().to_string())
        .part("files", file_part(png(60_000), "big.png", "image/png"));
    assert_problem(
        submit_multipart(&app, big).await,
        413,
        "attachment_too_large",
    )
    .await;
    let many = Form::new()
        .text("report", example().to_string())
        .part("files", file_part(pdf(100), "1.pdf", "application/pdf"))
        .part("files", file_part(pdf(100), "2.pdf", "application/pdf"))
        .part("files", file_part(pdf(100), "3.pdf", "application/pdf"));
    assert_problem(submit_multipart(&app, many).await, 422, "validation_failed").await;
    let invalid = Form::new()
        .text("report", json!({"programme": "dibao"}).to_string())
        .part("files", file_part(pdf(100), "1.pdf", "application/pdf"));
    assert_problem(
        submit_multipart(&app, invalid).await,
        422,
        "validation_failed",
    )
    .await;
    // Nothing was kept: no report, no attachment row, no file on disk.
    let count: i64 = app
        .db(|conn| reports::table.count().get_result(conn).unwrap())
        .await;
    assert_eq!(count, 0);
    let files: i64 = app
        .db(|conn| attachments::table.count().get_result(conn).unwrap())
        .await;
    assert_eq!(files, 0);
    // The staged files are deleted when the refused request's guard drops; poll rather than
    // sleep in case that happens just after the answer.
    let dir = app.settings.data.dir.join("attachments");
    let count_left = || std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0);
    let emptied = crate::helpers::eventually(Duration::from_secs(5), || async {
        (count_left() == 0).then_some(())
    })
    .await;
    assert!(
        emptied.is_some(),
        "no encrypted leftovers in {}: {} files",
        dir.display(),
        count_left()
    );
}

async fn intake_logs_phone_reports(backend: Backend) {
    let app = spawn_app(backend).await;
    seed_divisions(&app).await;
    let mut phone = example();
    phone["channel"] = json!("phone");
    assert_problem(submit(&app, &phone).await, 403, "channel_requires_staff").await;
    let (intake_id, intake, _) = app.signed_in("xinfang", &[Role::Intake]).await;
    let logged = app.post_as("/api/v1/reports", &intake, &phone).await;
    assert_eq!(logged.status(), 201);
    let receipt = json_of(logged).await;
    assert_eq!(
        receipt["receipt_code"].as_str().unwrap().len(),
        19,
        "a code for the paper receipt"
    );
    let (channel, logged_by): (String, Option<String>) = app
        .db(|conn| {
            reports::table
                .select((reports::channel, reports::logged_by))
                .first(conn)
                .unwrap()
        })
        .await;
    assert_eq!(channel, "phone");
    assert_eq!(logged_by, Some(intake_id));
    let (_, investigator, _) = app.signed_in("jiancha", &[Role::Investigator]).await;
    assert_problem(
        app.post_as("/api/v1/reports", &investigator, &phone).await,
        403,
        "forbidden",
    )
    .await;
    // The same validation applies to staff-logged reports.
    phone["description"] = json!("短");
    assert_problem(
        app.post_as("/api/v1/reports", &intake, &phone).await,
        422,
        "validation_failed",
    )
    .await;
}

async fn intake_sees_the_queue_and_the_thread_but_never_the_identity(backend: Backend) {
    let app = spawn_app(backend).await;
    seed_divisions(&app).await;
    let receipt = json_of(submit(&app, &example()).await).await;
    submit(&app, &anonymous()).await;
    let token = json_of(session(&app, receipt["receipt_code"].as_str().unwrap()).await).await
        ["token"]
        .as_str()
        .unwrap()
        .to_string();
    app.post_as(
        "/api/v1/reporter/messages",
        &token,
        &json!({"body": "补充：评议会没有通知我们。"}),
    )
    .await;

    let (_, intake, _) = app.signed_in("xinfang", &[Role::Intake]).await;
    let queue = json_of(
        app.get_as("/api/v1/reports?status=received&limit=1", &intake)
            .await,
    )
    .await;
    assert_eq!(queue["items"].as_array().unwrap().len(), 1);
    assert_eq!(queue["items"][0]["report_number"], receipt["report_number"]);
    assert_eq!(queue["items"][0]["overdue"], false);
    let cursor = queue["next_cursor"].as_str().unwrap();
    let next = json_of(
        app.get_as(
            &format!("/api/v1/reports?status=received&limit=1&cursor={cursor}"),
            &intake,
        )
        .await,
    )
    .await;
    assert_eq!(next["items"][0]["anonymous"], true);
    // Staff find a report by its number (SPEC.md), typed plainly, in full width or lower case.
    let second = next["items"][0]["report_number"]
        .as_str()
        .unwrap()
        .to_string();
    let full_width: String = second
        .chars()
        .map(|c| match c {
            '0'..='9' | 'A'..='Z' | '-' => char::from_u32(c as u32 + 0xFEE0).unwrap(),
            other => other,
        })
        .collect();
    for typed in [second.clone(), second.to_lowercase(), full_width] {
        let found = json_of(
            app.get_as(
                &format!("/api/v1/reports?number={}", urlencode(&typed)),
                &intake,
            )
            .await,
        )
        .await;
        let items = found["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{typed}");
        assert_eq!(items[0]["report_number"], second.as_str());
    }
    let none = json_of(
        app.get_as("/api/v1/reports?number=JB-1999-000001", &intake)
            .await,
    )
    .await;
    assert!(none["items"].as_array().unwrap().is_empty());
    assert_problem(
        app.get_as("/api/v1/reports?status=lost", &intake).await,
        422,
        "validation_failed",
    )
    .await;

    let id = queue["items"][0]["id"].as_str().unwrap();
    let details = app.get_as(&format!("/api/v1/reports/{id}"), &intake).await;
    assert_eq!(details.status(), 200);
    let text = details.text().await.unwrap();
    let view: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(view["accused"][0]["name"], "张某某");
    assert_eq!(view["messages"][0]["body"], "补充：评议会没有通知我们。");
    for secret in ["李某", "11010519491231002X", "13800138000"] {
        assert!(
            !text.contains(secret),
            "identity leaked into the staff view"
        );
    }
    let (_, benefits, _) = app.signed_in("mzj", &[Role::Benefits]).await;
    assert_problem(
        app.get_as("/api/v1/reports", &benefits).await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        app.get_as("/api/v1/reports/nope", &intake).await,
        404,
        "not_found",
    )
    .await;
}

/// Percent-encodes every byte outside the unreserved set, for query values in tests.
fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
