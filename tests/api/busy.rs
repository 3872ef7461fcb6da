//! Issue 7: the bounded Argon2 pool answers 503 `server_busy` with `Retry-After` when its queue
//! is full, never 500; and report submissions honour `server.json_body_limit` with 413.

use futures_util::future::join_all;
use probity::db::Backend;
use serde_json::json;

use crate::helpers::{app, assert_problem};
use crate::reports::{example, seed_divisions};

pub fn tests() -> Vec<(&'static str, crate::helpers::AsyncTest)> {
    crate::tests![
        a_burst_beyond_the_argon2_queue_gets_503_with_retry_after,
        report_json_over_the_body_limit_is_413,
        multipart_report_field_over_the_body_limit_is_413,
    ]
}

/// One Argon2 worker and no queue: of 48 concurrent submissions, those that find the worker
/// busy get 503 `server_busy` with `Retry-After`; none gets a 500; each 201 is a stored report;
/// and once the burst is over, submissions and receipt checks work again.
async fn a_burst_beyond_the_argon2_queue_gets_503_with_retry_after(backend: Backend) {
    let app = app(backend)
        .set("argon2.workers", 1)
        .set("argon2.queue_capacity", 0)
        .set("reports.submit_per_source_per_hour", 1000)
        .set("reports.submit_global_per_minute", 1000)
        .spawn()
        .await;
    seed_divisions(&app).await;
    let mut body = example();
    body["anonymous"] = json!(true);
    body.as_object_mut().unwrap().remove("reporter");
    let answers = join_all((0..48).map(|_| {
        app.client
            .post(app.url("/api/v1/reports"))
            .json(&body)
            .send()
    }))
    .await;
    let mut created = 0;
    let mut busy = 0;
    for answer in answers {
        let answer = answer.unwrap();
        match answer.status().as_u16() {
            201 => created += 1,
            503 => {
                assert_eq!(
                    answer.headers().get("retry-after").unwrap(),
                    "1",
                    "503 says when to retry"
                );
                assert_problem(answer, 503, "server_busy").await;
                busy += 1;
            }
            other => panic!(
                "unexpected status {other}: {}",
                answer.text().await.unwrap()
            ),
        }
    }
    assert!(busy > 0, "the burst filled the queue ({created} created)");
    assert!(created > 0, "the worker kept hashing ({busy} busy)");
    let stored: i64 = app
        .db(|conn| {
            use diesel::prelude::*;
            use probity::db::schema::reports;
            reports::table.count().get_result(conn).unwrap()
        })
        .await;
    assert_eq!(
        stored, created,
        "every 201 is stored, no 503 wrote a report"
    );

    // The normal path, one request at a time, still works: submit, then open with the code.
    let receipt = app
        .client
        .post(app.url("/api/v1/reports"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(receipt.status(), 201);
    let receipt: serde_json::Value = receipt.json().await.unwrap();
    let session = app
        .client
        .post(app.url("/api/v1/reporter/session"))
        .json(&json!({"receipt_code": receipt["receipt_code"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(session.status(), 200);
}

/// A JSON submission over `server.json_body_limit` gets 413 problem+json; one under it is taken.
async fn report_json_over_the_body_limit_is_413(backend: Backend) {
    let app = app(backend)
        .set("server.json_body_limit", 4096)
        .spawn()
        .await;
    seed_divisions(&app).await;
    let mut body = example();
    // Over 4 KiB in UTF-8, though under the description's 10,000-character limit.
    body["description"] = json!("村支书把低保名额给了自己的亲戚。".repeat(100));
    let too_big = app
        .client
        .post(app.url("/api/v1/reports"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let problem = assert_problem(too_big, 413, "payload_too_large").await;
    assert!(problem["detail"].as_str().unwrap().contains("4096"));
    // Padding the JSON with whitespace counts too: the limit is on bytes sent.
    let padded = format!("{}{}", example(), " ".repeat(5000));
    let too_big = app
        .client
        .post(app.url("/api/v1/reports"))
        .header("content-type", "application/json")
        .body(padded)
        .send()
        .await
        .unwrap();
    assert_problem(too_big, 413, "payload_too_large").await;
    let fits = app
        .client
        .post(app.url("/api/v1/reports"))
        .json(&example())
        .send()
        .await
        .unwrap();
    assert_eq!(fits.status(), 201);
}

/// The multipart `report` field obeys the same limit: 413, not 400, with or without files, and
/// no file of a refused submission is kept.
async fn multipart_report_field_over_the_body_limit_is_413(backend: Backend) {
    let app = app(backend)
        .set("server.json_body_limit", 4096)
        .spawn()
        .await;
    seed_divisions(&app).await;
    let mut body = example();
    body["description"] = json!("评议会没有公示。".repeat(200));
    // A WAV header: audio is stored as sent (nothing to clean), so the file is staged.
    let wav = {
        let mut bytes = b"RIFF\x24\x00\x00\x00WAVEfmt ".to_vec();
        bytes.extend_from_slice(&[0u8; 64]);
        bytes
    };
    for with_file in [false, true] {
        let mut form = reqwest::multipart::Form::new();
        if with_file {
            // The file comes first, so it is stored before the oversize field is seen.
            form = form.part(
                "files",
                reqwest::multipart::Part::bytes(wav.clone()).file_name("voice.wav"),
            );
        }
        form = form.text("report", body.to_string());
        let answer = app
            .client
            .post(app.url("/api/v1/reports"))
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_problem(answer, 413, "payload_too_large").await;
    }
    let attachments = app.settings.data.dir.join("attachments");
    let kept = std::fs::read_dir(&attachments).map_or(0, |d| d.count());
    assert_eq!(kept, 0, "no staged file outlives the refusal");
    let form = reqwest::multipart::Form::new().text("report", example().to_string());
    let fits = app
        .client
        .post(app.url("/api/v1/reports"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(fits.status(), 201);
}
