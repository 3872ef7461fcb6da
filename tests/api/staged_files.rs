//! Evidence is encrypted to disk before the database transaction ("staged"). A submission that
//! is refused — at any step — or answered as an idempotent replay leaves no staged file behind;
//! an accepted one keeps exactly its own files (issue 8).

use diesel::prelude::*;
use probity::db::schema::attachments;
use probity::db::Backend;
use reqwest::multipart::{Form, Part};
use serde_json::json;

use crate::evidence::{pdf_sized, png_sized};
use crate::helpers::{app, assert_problem, TestApp};
use crate::reports::{example, seed_divisions};

pub fn tests() -> Vec<(&'static str, crate::helpers::AsyncTest)> {
    crate::tests![
        refused_submissions_leave_no_staged_file,
        a_replay_keeps_only_the_first_submissions_files,
    ]
}

fn png_part() -> Part {
    Part::bytes(png_sized(5_000))
        .file_name("photo.png")
        .mime_str("image/png")
        .unwrap()
}

fn pdf_part() -> Part {
    Part::bytes(pdf_sized(2_000))
        .file_name("scan.pdf")
        .mime_str("application/pdf")
        .unwrap()
}

async fn post(app: &TestApp, form: Form, key: Option<&str>) -> reqwest::Response {
    let mut request = app.client.post(app.url("/api/v1/reports")).multipart(form);
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    request.send().await.unwrap()
}

/// The names of the files in the evidence folder (`<data.dir>/attachments`), sorted.
fn on_disk(app: &TestApp) -> Vec<String> {
    let dir = app.settings.data.dir.join("attachments");
    let mut names: Vec<String> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => panic!("reading {}: {e}", dir.display()),
    };
    names.sort();
    names
}

/// The storage names the attachment rows point at, sorted.
async fn attached(app: &TestApp) -> Vec<String> {
    let mut names: Vec<String> = app
        .db(|conn| {
            attachments::table
                .select(attachments::storage_name)
                .load(conn)
                .unwrap()
        })
        .await;
    names.sort();
    names
}

async fn refused_submissions_leave_no_staged_file(backend: Backend) {
    let app = app(backend)
        .set("server.json_body_limit", 4096)
        .set("reports.max_attachments", 2)
        .spawn()
        .await;
    seed_divisions(&app).await;

    // Refused by validation, after the files were staged.
    let invalid = Form::new()
        .text("report", json!({"programme": "dibao"}).to_string())
        .part("files", png_part())
        .part("files", pdf_part());
    assert_problem(post(&app, invalid, None).await, 422, "validation_failed").await;
    assert_eq!(
        on_disk(&app),
        Vec::<String>::new(),
        "after a validation failure"
    );

    // The `report` field is over the JSON limit, read after a file was staged.
    let mut long = example();
    long["description"] = json!("很".repeat(3000));
    let over_limit = Form::new()
        .part("files", png_part())
        .text("report", long.to_string());
    assert_problem(post(&app, over_limit, None).await, 413, "payload_too_large").await;
    assert_eq!(
        on_disk(&app),
        Vec::<String>::new(),
        "after an over-limit report"
    );

    // No `report` field at all; then one that is not JSON.
    let missing = Form::new().part("files", png_part());
    assert_problem(post(&app, missing, None).await, 422, "validation_failed").await;
    let malformed = Form::new()
        .text("report", "{not json")
        .part("files", pdf_part());
    assert_problem(post(&app, malformed, None).await, 400, "malformed_json").await;
    assert_eq!(
        on_disk(&app),
        Vec::<String>::new(),
        "after a bad `report` field"
    );

    // Too many files: the ones already staged go too.
    let many = Form::new()
        .text("report", example().to_string())
        .part("files", png_part())
        .part("files", pdf_part())
        .part("files", pdf_part());
    assert_problem(post(&app, many, None).await, 422, "validation_failed").await;
    assert_eq!(on_disk(&app), Vec::<String>::new(), "after too many files");

    // Refused after validation: the public may not log a phone report.
    let mut phone = example();
    phone["channel"] = json!("phone");
    let staff_only = Form::new()
        .text("report", phone.to_string())
        .part("files", png_part());
    assert_problem(
        post(&app, staff_only, None).await,
        403,
        "channel_requires_staff",
    )
    .await;
    assert_eq!(on_disk(&app), Vec::<String>::new(), "after a 403");
    assert_eq!(attached(&app).await, Vec::<String>::new());
}

async fn a_replay_keeps_only_the_first_submissions_files(backend: Backend) {
    let app = app(backend).spawn().await;
    seed_divisions(&app).await;
    let form = || {
        Form::new()
            .text("report", example().to_string())
            .part("files", png_part())
            .part("files", pdf_part())
    };
    let first = post(&app, form(), Some("staged-0001")).await;
    assert_eq!(first.status(), 201);
    let kept = attached(&app).await;
    assert_eq!(kept.len(), 2);
    assert_eq!(
        on_disk(&app),
        kept,
        "an accepted submission keeps exactly its files"
    );

    // The same request again is a replay: same answer, its own staged copies deleted.
    let again = post(&app, form(), Some("staged-0001")).await;
    assert_eq!(again.status(), 201);
    assert_eq!(attached(&app).await, kept);
    assert_eq!(on_disk(&app), kept, "after a replay");

    // The same key with other content is a conflict: nothing more is kept either.
    let other = Form::new()
        .text("report", example().to_string())
        .part("files", pdf_part());
    assert_problem(
        post(&app, other, Some("staged-0001")).await,
        409,
        "idempotency_key_reused",
    )
    .await;
    assert_eq!(attached(&app).await, kept);
    assert_eq!(on_disk(&app), kept, "after a conflict");
}
