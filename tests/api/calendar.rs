//! The working-day calendar (issue 9, item 1): read from the calendar folder, missing years
//! named by `/readyz` and `GET /api/v1/calendar`, December deadlines counted on weekends only
//! in a year without a calendar, reload through the admin endpoint and `probity calendar check`.

use chrono::{DateTime, TimeZone, Utc};
use diesel::prelude::*;
use probity::clock::Clock;
use probity::db::schema::audit_events;
use probity::db::Backend;
use probity::domain::roles::Role;
use probity::startup::Application;
use serde_json::{json, Value};

use crate::helpers::{app, assert_problem, TestApp, TestDatabase};
use crate::reports::{example, seed_divisions};

pub fn tests() -> Vec<(&'static str, crate::helpers::AsyncTest)> {
    crate::tests![
        december_names_next_year_as_missing_and_stays_ready,
        a_december_report_gets_a_january_deadline_on_weekends_only,
        a_friday_night_report_arrived_on_the_county_saturday,
        the_admin_reload_picks_up_a_new_year_and_refuses_a_bad_file,
        a_bad_calendar_file_stops_the_start,
        calendar_check_prints_the_years_and_refuses_a_bad_file,
        serve_reloads_the_calendar_on_sighup,
    ]
}

const SHIPPED_2026: &str = include_str!("../../config/calendar/2026.toml");

/// 2027 with New Year's Day as a holiday: enough to tell it from "weekends only".
const FILE_2027: &str = "year = 2027\nholidays = [\"2027-01-01\"]\nmakeup_workdays = []\n";

/// Mon 28 Dec 2026, 10:00 in the county.
fn december() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 28, 2, 0, 0).unwrap()
}

/// A calendar folder holding only the shipped 2026 file.
fn folder_with_2026() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("2026.toml"), SHIPPED_2026).unwrap();
    dir
}

async fn spawn_in_december(backend: Backend, calendar_dir: Option<&std::path::Path>) -> TestApp {
    let mut builder = app(backend).clock(Clock::frozen(december()));
    if let Some(dir) = calendar_dir {
        builder = builder.set("calendar.dir", dir.display());
    }
    builder.spawn().await
}

async fn submit(app: &TestApp, body: &Value) -> Value {
    let response = app
        .client
        .post(app.url("/api/v1/reports"))
        .json(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

async fn december_names_next_year_as_missing_and_stays_ready(backend: Backend) {
    // The tests' configuration folder is the repository's: it ships 2026 only.
    let app = spawn_in_december(backend, None).await;
    let response = app.get("/readyz").await;
    assert_eq!(
        response.status(),
        200,
        "a missing year keeps the server ready"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    assert_eq!(body["calendar"]["years"], json!([2026]));
    assert_eq!(body["calendar"]["missing_years"], json!([2027]));
    assert_eq!(body["calendar"]["source"], "folder");

    // Any staff member sees the same status.
    let (_, token, _) = app
        .signed_in("li.investigator", &[Role::Investigator])
        .await;
    let response = app.get_as("/api/v1/calendar", &token).await;
    assert_eq!(response.status(), 200);
    let status: Value = response.json().await.unwrap();
    assert_eq!(status, body["calendar"]);
    assert_problem(app.get("/api/v1/calendar").await, 401, "unauthorized").await;

    // In 2027, with no file for it or for 2028, both are missing (a new sign-in: the clock
    // moved past the first token's lifetime).
    app.clock
        .set(Utc.with_ymd_and_hms(2027, 3, 1, 2, 0, 0).unwrap());
    let (_, token, _) = app.signed_in("wang.auditor", &[Role::Auditor]).await;
    let status: Value = app
        .get_as("/api/v1/calendar", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["missing_years"], json!([2027, 2028]));
}

async fn a_december_report_gets_a_january_deadline_on_weekends_only(backend: Backend) {
    let app = spawn_in_december(backend, None).await;
    seed_divisions(&app).await;
    let receipt = submit(&app, &example()).await;
    // Mon 28 Dec + 5 working days: Tue 29, Wed 30, Thu 31, Fri 1 Jan (no 2027 calendar, so a
    // weekday counts even on New Year's Day), Mon 4 Jan.
    assert_eq!(receipt["triage_due"], "2027-01-04");
    // + 15: … Fri 1, Mon 4–Fri 8, Mon 11–Fri 15, Mon 18 Jan.
    assert_eq!(receipt["acknowledge_by"], "2027-01-18");
}

async fn a_friday_night_report_arrived_on_the_county_saturday(backend: Backend) {
    // Fri 9 Oct 2026, 23:30 UTC = Sat 10 Oct, 07:30 in the county: a make-up working Saturday.
    let at = Utc.with_ymd_and_hms(2026, 10, 9, 23, 30, 0).unwrap();
    let app = app(backend).clock(Clock::frozen(at)).spawn().await;
    seed_divisions(&app).await;
    let receipt = submit(&app, &example()).await;
    // From Sat 10 Oct: Mon 12, Tue 13, Wed 14, Thu 15, Fri 16. Counting from the UTC date
    // (Fri 9) would have given Thu 15 Oct.
    assert_eq!(receipt["triage_due"], "2026-10-16");
}

async fn the_admin_reload_picks_up_a_new_year_and_refuses_a_bad_file(backend: Backend) {
    let dir = folder_with_2026();
    let app = spawn_in_december(backend, Some(dir.path())).await;
    seed_divisions(&app).await;
    let (_, admin, _) = app.signed_in("admin", &[Role::Admin]).await;
    let (_, intake, _) = app.signed_in("intake", &[Role::Intake]).await;

    // Only administrators reload.
    let refused = app
        .post_as("/api/v1/calendar/reload", &intake, &json!({}))
        .await;
    assert_problem(refused, 403, "forbidden").await;

    // The administrator adds 2027 without a restart.
    std::fs::write(dir.path().join("2027.toml"), FILE_2027).unwrap();
    let response = app
        .post_as("/api/v1/calendar/reload", &admin, &json!({}))
        .await;
    assert_eq!(response.status(), 200);
    let status: Value = response.json().await.unwrap();
    assert_eq!(status["years"], json!([2026, 2027]));
    assert_eq!(status["missing_years"], json!([]));
    let ready: Value = app.get("/readyz").await.json().await.unwrap();
    assert_eq!(ready["calendar"], status);

    // New reports count with it: 1 Jan 2027 is now a holiday.
    let receipt = submit(&app, &example()).await;
    assert_eq!(receipt["triage_due"], "2027-01-05");

    // The reload is in the audit log, by the administrator.
    let actions: Vec<(String, String)> = app
        .db(|conn| {
            audit_events::table
                .filter(audit_events::action.eq("calendar.reloaded"))
                .select((audit_events::action, audit_events::details))
                .load(conn)
                .unwrap()
        })
        .await;
    assert_eq!(actions.len(), 1);
    assert!(actions[0].1.contains("2027"), "{}", actions[0].1);

    // A bad file is refused, naming the file and line, and the calendar in use stays.
    std::fs::write(
        dir.path().join("2028.toml"),
        "year = 2028\nholidays = [\n  \"2027-12-31\",\n]\nmakeup_workdays = []\n",
    )
    .unwrap();
    let response = app
        .post_as("/api/v1/calendar/reload", &admin, &json!({}))
        .await;
    let problem = assert_problem(response, 422, "calendar_invalid").await;
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("2028.toml:3"), "{detail}");
    let (_, reader, _) = app.signed_in("auditor", &[Role::Auditor]).await;
    let status: Value = app
        .get_as("/api/v1/calendar", &reader)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["years"], json!([2026, 2027]));
    let receipt = submit(&app, &example()).await;
    assert_eq!(
        receipt["triage_due"], "2027-01-05",
        "the old calendar stays"
    );
}

async fn a_bad_calendar_file_stops_the_start(backend: Backend) {
    let dir = folder_with_2026();
    std::fs::write(
        dir.path().join("2027.toml"),
        "year = 2027\nholidays = []\nmakeup_workdays = [\"2027-01-06\"]\n",
    )
    .unwrap();
    let db = TestDatabase::create(backend);
    let settings = app(backend)
        .set("calendar.dir", dir.path().display())
        .settings(&db);
    let error = match Application::builder(settings).build().await {
        Ok(_) => panic!("a bad calendar file must stop the start"),
        Err(e) => format!("{e:#}"),
    };
    assert!(error.contains("2027.toml:3"), "{error}");
    assert!(error.contains("Saturdays or Sundays"), "{error}");
}

async fn calendar_check_prints_the_years_and_refuses_a_bad_file(backend: Backend) {
    let db = TestDatabase::create(backend);
    let dir = folder_with_2026();
    let folder = dir.path().display().to_string();
    let out = crate::cli::probity(&db, &["calendar", "check", "--dir", &folder], None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("years: 2026"), "{stdout}");

    std::fs::write(dir.path().join("2027.toml"), "year = 2027\nholidays = [\n").unwrap();
    let out = crate::cli::probity(&db, &["calendar", "check", "--dir", &folder], None);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("2027.toml"), "{stderr}");
}

async fn serve_reloads_the_calendar_on_sighup(backend: Backend) {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let db = TestDatabase::create(backend);
    let dir = folder_with_2026();
    let mut child = Command::new(env!("CARGO_BIN_EXE_probity"))
        .arg("serve")
        .env("PROBITY_ENV", "development")
        .env("DATABASE_URL", &db.url)
        .env("PROBITY__DATA__DIR", db.dir())
        .env("PROBITY__SERVER__PORT", "0")
        .env("PROBITY__SERVER__WORKERS", "1")
        .env("PROBITY__LOG__LEVEL", "info")
        .env("PROBITY__CALENDAR__DIR", dir.path())
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("probity serve starts");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let port = loop {
        let line = lines.next().expect("server logs its address").unwrap();
        if let Some(rest) = line.split("address=http://127.0.0.1:").nth(1) {
            break rest
                .split_whitespace()
                .next()
                .unwrap()
                .parse::<u16>()
                .unwrap();
        }
    };
    let readyz = format!("http://127.0.0.1:{port}/readyz");
    let before: Value = reqwest::get(&readyz).await.unwrap().json().await.unwrap();
    assert_eq!(before["calendar"]["years"], json!([2026]));

    std::fs::write(dir.path().join("2027.toml"), FILE_2027).unwrap();
    let signal = |name: &str| {
        let status = Command::new("kill")
            .args([name, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    };
    signal("-HUP");
    // The reload logs the years it loaded; wait for that line.
    let mut lines = tokio::task::spawn_blocking(move || {
        for line in lines.by_ref() {
            let line = line.unwrap();
            if line.contains("working-day calendar loaded") {
                return lines;
            }
        }
        panic!("the server never logged the reload");
    })
    .await
    .unwrap();
    let after: Value = reqwest::get(&readyz).await.unwrap().json().await.unwrap();
    assert_eq!(after["calendar"]["years"], json!([2026, 2027]));

    // A bad file on SIGHUP is logged and the calendar in use stays.
    std::fs::write(dir.path().join("2028.toml"), "year = 2028\nholidays = [\n").unwrap();
    signal("-HUP");
    lines = tokio::task::spawn_blocking(move || {
        for line in lines.by_ref() {
            let line = line.unwrap();
            if line.contains("calendar not reloaded") {
                return lines;
            }
        }
        panic!("the server never logged the refused reload");
    })
    .await
    .unwrap();
    let after: Value = reqwest::get(&readyz).await.unwrap().json().await.unwrap();
    assert_eq!(after["calendar"]["years"], json!([2026, 2027]));

    signal("-TERM");
    let _rest: Vec<String> =
        tokio::task::spawn_blocking(move || lines.map_while(Result::ok).collect())
            .await
            .unwrap();
    let exit = child.wait().unwrap();
    assert!(exit.success(), "exit status {exit}");
}
