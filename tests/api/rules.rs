//! Rules that moved where their names say (issue 8, item 3), seen from outside: report times
//! and deadlines follow the injected clock, frozen and moved by the test.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use probity::clock::Clock;
use probity::db::Backend;
use probity::domain::roles::Role;
use serde_json::Value;

use crate::helpers::{app, TestApp};
use crate::reports::{example, seed_divisions};

pub fn tests() -> Vec<(&'static str, crate::helpers::AsyncTest)> {
    crate::tests![a_frozen_clock_sets_received_times_numbers_and_overdue,]
}

/// 2026-12-31 16:30 UTC: already 2027-01-01 00:30 in the county (UTC+8).
fn new_year_in_the_county() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 31, 16, 30, 0).unwrap()
}

async fn queue_item(app: &TestApp, token: &str) -> Value {
    let queue: Value = app
        .get_as("/api/v1/reports?status=received", token)
        .await
        .json()
        .await
        .unwrap();
    queue["items"][0].clone()
}

async fn a_frozen_clock_sets_received_times_numbers_and_overdue(backend: Backend) {
    let clock = Clock::frozen(new_year_in_the_county());
    let app = app(backend).clock(clock.clone()).spawn().await;
    seed_divisions(&app).await;
    let response = app
        .client
        .post(app.url("/api/v1/reports"))
        .json(&example())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let receipt: Value = response.json().await.unwrap();
    // The year of the report number is the county's, not UTC's.
    assert_eq!(receipt["report_number"], "JB-2027-000001");
    let triage_due: NaiveDate = receipt["triage_due"].as_str().unwrap().parse().unwrap();
    assert!(triage_due > NaiveDate::from_ymd_opt(2027, 1, 1).unwrap());

    let (_, intake, _) = app.signed_in("xinfang", &[Role::Intake]).await;
    let item = queue_item(&app, &intake).await;
    assert_eq!(item["report_number"], "JB-2027-000001");
    let submitted_at: DateTime<Utc> = item["submitted_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        submitted_at,
        new_year_in_the_county(),
        "received at the frozen instant"
    );
    assert_eq!(item["triage_due"], receipt["triage_due"]);
    assert_eq!(item["overdue"], false);

    // Late on the due date (county time) the report is not overdue yet; the next day it is.
    let due_evening =
        triage_due.and_hms_opt(23, 0, 0).unwrap().and_utc() - chrono::Duration::hours(8);
    // Access tokens expire by the same clock (15 minutes), so sign in again after each move.
    clock.set(due_evening);
    let intake = sign_in(&app, "xinfang").await;
    assert_eq!(queue_item(&app, &intake).await["overdue"], false);
    clock.advance(chrono::Duration::hours(2));
    let intake = sign_in(&app, "xinfang").await;
    assert_eq!(queue_item(&app, &intake).await["overdue"], true);
}

/// A fresh access token for `username`, issued at the app clock's present time.
async fn sign_in(app: &crate::helpers::TestApp, username: &str) -> String {
    let response = app.login(username, crate::helpers::PASSWORD).await;
    assert_eq!(response.status(), 200, "login of {username}");
    let body: Value = response.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_string()
}
