//! Sign-in hardening (issue 7, faults 4–6): the login throttle and lockout hold under
//! concurrent bursts, a TOTP code signs in once, and every kind of sign-out ends its session at
//! once.
//!
//! Design stated here and in docs/security.md: a session is one sign-in. Logging out ends that
//! sign-in only; the same user's other sign-ins go on. A password change or reset, a role change
//! and deactivation end every sign-in of the user.

use std::time::Duration;

use diesel::prelude::*;
use futures_util::future::join_all;
use futures_util::stream::{FuturesUnordered, StreamExt};
use probity::db::schema::audit_events;
use probity::db::Backend;
use probity::domain::roles::Role;
use serde_json::{json, Value};

use crate::helpers::{app, assert_problem, spawn_app, TestApp, PASSWORD};
use crate::smtp::{Mode, SmtpServer};

pub fn tests() -> Vec<(&'static str, crate::helpers::AsyncTest)> {
    crate::tests![
        a_burst_of_wrong_passwords_is_checked_at_most_the_configured_number_of_times,
        a_correct_password_in_a_used_up_burst_gets_no_token,
        a_burst_from_one_source_across_accounts_is_throttled_per_source,
        a_burst_locks_the_account_once_and_sends_one_email,
        bursts_for_several_accounts_lock_each_once,
        one_totp_code_signs_in_once_however_many_arrive,
        a_totp_code_used_once_is_refused_afterwards,
        concurrent_totp_confirmations_enable_once,
        logout_ends_the_access_token_at_once,
        logout_ends_one_sign_in_and_leaves_the_others,
        refresh_token_reuse_ends_the_sign_in_at_once,
        password_change_and_admin_actions_end_every_session,
    ]
}

const WRONG: &str = "wrong password attempt";

async fn json(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

async fn login_body(app: &TestApp, body: Value) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/auth/login"))
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// `n` concurrent sign-ins; returns (status, problem code or "") for each.
async fn burst(app: &TestApp, attempts: Vec<(String, String)>) -> Vec<(u16, String)> {
    join_all(attempts.into_iter().map(|(username, password)| async move {
        let response = app.login(&username, &password).await;
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        (
            status,
            body["code"].as_str().unwrap_or_default().to_string(),
        )
    }))
    .await
}

fn count(results: &[(u16, String)], status: u16, code: &str) -> usize {
    results
        .iter()
        .filter(|(s, c)| *s == status && c == code)
        .count()
}

async fn audit_count(app: &TestApp, action: &'static str) -> usize {
    app.db(move |conn| {
        audit_events::table
            .filter(audit_events::action.eq(action))
            .count()
            .get_result::<i64>(conn)
            .unwrap() as usize
    })
    .await
}

// ---------- fault 4: the throttle is atomic ----------

/// The input: 30 concurrent wrong sign-ins for one account. A long delay keeps the
/// window open for the whole burst, so exactly the configured 5 are checked.
async fn a_burst_of_wrong_passwords_is_checked_at_most_the_configured_number_of_times(
    backend: Backend,
) {
    let app = app(backend)
        .set("auth.throttle_base_delay_secs", 60)
        .spawn()
        .await;
    app.create_staff("wang.fang", &[Role::Intake], None).await;
    let results = burst(&app, vec![("wang.fang".into(), WRONG.into()); 30]).await;
    assert_eq!(
        count(&results, 401, "invalid_credentials"),
        5,
        "{results:?}"
    );
    assert_eq!(count(&results, 429, "login_throttled"), 25, "{results:?}");
    assert_eq!(audit_count(&app, "auth.login_failed").await, 5);
    // Variant: the account name in other letter case is the same account, still throttled.
    assert_problem(
        app.login("WANG.FANG", PASSWORD).await,
        429,
        "login_throttled",
    )
    .await;

    // Variant: with 3 attempts allowed, a burst of 12 for an unknown account is checked 3 times
    // (an unknown name gets the same treatment, so the answer reveals nothing).
    let app = crate::helpers::app(backend)
        .set("auth.throttle_after_failures", 3)
        .set("auth.throttle_base_delay_secs", 60)
        .spawn()
        .await;
    let results = burst(&app, vec![("nobody.here".into(), WRONG.into()); 12]).await;
    assert_eq!(
        count(&results, 401, "invalid_credentials"),
        3,
        "{results:?}"
    );
    assert_eq!(count(&results, 429, "login_throttled"), 9, "{results:?}");
}

/// A correct password sent in the same burst, once the allowance is used up, gets no token.
async fn a_correct_password_in_a_used_up_burst_gets_no_token(backend: Backend) {
    let app = app(backend)
        .set("auth.throttle_base_delay_secs", 60)
        .spawn()
        .await;
    app.create_staff("zhao.lei", &[Role::Intake], None).await;
    type Attempt<'a> =
        std::pin::Pin<Box<dyn std::future::Future<Output = (bool, u16)> + Send + 'a>>;
    let attempt = |password: &'static str| -> Attempt<'_> {
        let app = &app;
        Box::pin(async move {
            let r = app.login("zhao.lei", password).await;
            (password == PASSWORD, r.status().as_u16())
        })
    };
    let mut pending: FuturesUnordered<Attempt<'_>> = (0..30).map(|_| attempt(WRONG)).collect();
    let mut statuses = Vec::new();
    let mut correct_sent = false;
    while let Some((correct, status)) = pending.next().await {
        if correct {
            assert_eq!(
                status, 429,
                "the correct password must not pass a used-up gate"
            );
        } else {
            statuses.push(status);
        }
        // The first 429 means every allowed attempt is taken: send the right password now,
        // while the rest of the burst is still in flight.
        if status == 429 && !correct_sent {
            correct_sent = true;
            pending.push(attempt(PASSWORD));
        }
    }
    assert!(correct_sent);
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 5);
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 25);
    assert_eq!(audit_count(&app, "auth.login_succeeded").await, 0);
    // Variant: after the burst, the right password is still refused until the wait ends.
    assert_problem(
        app.login("zhao.lei", PASSWORD).await,
        429,
        "login_throttled",
    )
    .await;
}

/// Per-source throttling is atomic too: 30 concurrent wrong sign-ins from one address, each for
/// a different account (existing and unknown), are checked 5 times in all.
async fn a_burst_from_one_source_across_accounts_is_throttled_per_source(backend: Backend) {
    let app = app(backend)
        .set("auth.throttle_base_delay_secs", 60)
        .spawn()
        .await;
    for i in 0..10 {
        app.create_staff(&format!("staff.{i}"), &[Role::Intake], None)
            .await;
    }
    let attempts = (0..30)
        .map(|i| (format!("staff.{i}"), WRONG.to_string()))
        .collect();
    let results = burst(&app, attempts).await;
    assert_eq!(
        count(&results, 401, "invalid_credentials"),
        5,
        "{results:?}"
    );
    assert_eq!(count(&results, 429, "login_throttled"), 25, "{results:?}");
    // Variant: an account nobody tried is still held back at this source.
    assert_problem(app.login("staff.9", PASSWORD).await, 429, "login_throttled").await;
}

/// With no delay between tries, a burst of 30 wrong passwords reaches the lockout: exactly 10
/// are checked, the rest are refused as locked, and the owner gets one email.
async fn a_burst_locks_the_account_once_and_sends_one_email(backend: Backend) {
    let smtp = SmtpServer::start(Mode::Accept);
    let app = app(backend)
        .mail_to(smtp.port)
        .set("auth.throttle_base_delay_secs", 0)
        .spawn()
        .await;
    app.create_staff("liu.yang", &[Role::Intake], Some("liu.yang@probity.test"))
        .await;
    let results = burst(&app, vec![("liu.yang".into(), WRONG.into()); 30]).await;
    assert_eq!(
        count(&results, 401, "invalid_credentials"),
        10,
        "{results:?}"
    );
    assert_eq!(count(&results, 401, "account_locked"), 20, "{results:?}");
    assert_problem(app.login("liu.yang", PASSWORD).await, 401, "account_locked").await;
    let mails = tokio::task::spawn_blocking(move || {
        let mails = smtp.wait_for(1, Duration::from_secs(15));
        // Anything more would already be queued with the first: give it one more poll.
        let again = smtp.wait_for(2, Duration::from_millis(500));
        (mails, again.len())
    })
    .await
    .unwrap();
    assert_eq!(mails.0.len(), 1);
    assert_eq!(mails.1, 1, "exactly one lockout email");
    assert_eq!(mails.0[0].to, vec!["liu.yang@probity.test".to_string()]);
    assert_eq!(audit_count(&app, "auth.account_locked").await, 1);
    assert_eq!(audit_count(&app, "auth.login_failed").await, 10);
}

/// Variant: bursts for three accounts at once (one with a lower lock threshold set for all):
/// each account is checked exactly `lock_after` times and locked once.
async fn bursts_for_several_accounts_lock_each_once(backend: Backend) {
    let app = app(backend)
        .set("auth.throttle_base_delay_secs", 0)
        .set("auth.lock_after_failures", 4)
        .spawn()
        .await;
    let names = ["a.one", "b.two", "c.three"];
    for name in names {
        app.create_staff(name, &[Role::Intake], None).await;
    }
    let attempts = (0..36)
        .map(|i| (names[i % 3].to_string(), WRONG.to_string()))
        .collect();
    let results: Vec<(&str, (u16, String))> = burst(&app, attempts)
        .await
        .into_iter()
        .enumerate()
        .map(|(i, r)| (names[i % 3], r))
        .collect();
    for name in names {
        let mine: Vec<(u16, String)> = results
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, r)| r.clone())
            .collect();
        assert_eq!(
            count(&mine, 401, "invalid_credentials"),
            4,
            "{name}: {mine:?}"
        );
        assert_eq!(count(&mine, 401, "account_locked"), 8, "{name}: {mine:?}");
    }
    assert_eq!(audit_count(&app, "auth.account_locked").await, 3);
}

// ---------- fault 5: one TOTP code signs in once ----------

/// A user with TOTP enabled through the API; returns the secret. The confirmation uses the
/// current step, so the next fresh code is the one for the following step.
async fn totp_user(app: &TestApp, username: &str) -> Vec<u8> {
    app.create_staff(username, &[Role::Admin], None).await;
    let pair = json(app.login(username, PASSWORD).await).await;
    let token = pair["access_token"].as_str().unwrap();
    let enrol = json(app.post_as("/api/v1/me/totp", token, &json!({})).await).await;
    let secret = totp_rs::Secret::Encoded(enrol["secret"].as_str().unwrap().to_string())
        .to_bytes()
        .unwrap();
    let now = chrono::Utc::now().timestamp() as u64;
    let code = probity::auth::totp::current_code(&secret, username, now);
    let confirmed = app
        .post_as("/api/v1/me/totp/confirm", token, &json!({"code": code}))
        .await;
    assert_eq!(confirmed.status(), 200);
    secret
}

fn next_code(secret: &[u8], username: &str) -> String {
    let now = chrono::Utc::now().timestamp() as u64;
    probity::auth::totp::current_code(secret, username, now + 30)
}

/// The input: six concurrent sign-ins with the same fresh code; exactly one succeeds.
/// (The throttle allows 20 tries here so that all six are evaluated.)
async fn one_totp_code_signs_in_once_however_many_arrive(backend: Backend) {
    let app = app(backend)
        .set("auth.throttle_after_failures", 20)
        .set("auth.lock_after_failures", 40)
        .spawn()
        .await;
    let secret = totp_user(&app, "root.admin").await;
    let code = next_code(&secret, "root.admin");
    let body = json!({"username": "root.admin", "password": PASSWORD, "totp": code});
    let results: Vec<(u16, Value)> = join_all((0..6).map(|_| async {
        let r = login_body(&app, body.clone()).await;
        (r.status().as_u16(), r.json().await.unwrap())
    }))
    .await;
    let ok: Vec<&Value> = results
        .iter()
        .filter(|(s, _)| *s == 200)
        .map(|(_, b)| b)
        .collect();
    assert_eq!(ok.len(), 1, "{results:?}");
    assert!(ok[0]["access_token"].is_string());
    for (status, body) in results.iter().filter(|(s, _)| *s != 200) {
        assert_eq!(*status, 401);
        assert_eq!(body["code"], "invalid_totp");
    }
    assert_eq!(audit_count(&app, "auth.login_succeeded").await, 2); // enrolment + this one

    // Variant: the same code with an extra space and surrounding blanks is the same code.
    let spaced =
        json!({"username": "root.admin", "password": PASSWORD, "totp": format!(" {code} ")});
    assert_problem(login_body(&app, spaced).await, 401, "invalid_totp").await;

    // Variant: twelve concurrent sign-ins for two TOTP users with their own fresh codes: one
    // success each.
    let other = totp_user(&app, "second.admin").await;
    let third = totp_user(&app, "third.admin").await;
    let bodies: Vec<Value> = (0..12)
        .map(|i| {
            let (name, secret) = if i % 2 == 0 {
                ("second.admin", &other)
            } else {
                ("third.admin", &third)
            };
            json!({"username": name, "password": PASSWORD, "totp": next_code(secret, name)})
        })
        .collect();
    let statuses: Vec<(usize, u16)> = join_all(bodies.into_iter().enumerate().map(|(i, b)| {
        let app = &app;
        async move { (i % 2, login_body(app, b).await.status().as_u16()) }
    }))
    .await;
    for who in 0..2 {
        let mine: Vec<u16> = statuses
            .iter()
            .filter(|(w, _)| *w == who)
            .map(|(_, s)| *s)
            .collect();
        assert_eq!(mine.iter().filter(|s| **s == 200).count(), 1, "{mine:?}");
        assert_eq!(mine.iter().filter(|s| **s == 401).count(), 5, "{mine:?}");
    }
}

/// The same code sent twice one after the other: the second is refused; so is the code of the
/// step before (the one the confirmation used).
async fn a_totp_code_used_once_is_refused_afterwards(backend: Backend) {
    let app = spawn_app(backend).await;
    let secret = totp_user(&app, "sun.admin").await;
    let now = chrono::Utc::now().timestamp() as u64;
    let confirmation_code = probity::auth::totp::current_code(&secret, "sun.admin", now);
    let code = next_code(&secret, "sun.admin");
    let body = json!({"username": "sun.admin", "password": PASSWORD, "totp": code});
    assert_eq!(login_body(&app, body.clone()).await.status(), 200);
    assert_problem(login_body(&app, body).await, 401, "invalid_totp").await;
    if confirmation_code != code {
        let older =
            json!({"username": "sun.admin", "password": PASSWORD, "totp": confirmation_code});
        assert_problem(login_body(&app, older).await, 401, "invalid_totp").await;
    }
    // Each refusal was audited as a failed sign-in with its reason.
    let reasons: Vec<String> = app
        .db(|conn| {
            audit_events::table
                .filter(audit_events::action.eq("auth.login_failed"))
                .select(audit_events::details)
                .load::<String>(conn)
                .unwrap()
        })
        .await;
    assert!(
        reasons.iter().any(|d| d.contains("totp")),
        "failed TOTP sign-ins are audited: {reasons:?}"
    );
}

/// Confirming enrolment accepts a code once too: six concurrent confirmations with one code
/// enable TOTP once; none of the others gets 200.
async fn concurrent_totp_confirmations_enable_once(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_staff("qian.admin", &[Role::Admin], None).await;
    let pair = json(app.login("qian.admin", PASSWORD).await).await;
    let token = pair["access_token"].as_str().unwrap();
    let enrol = json(app.post_as("/api/v1/me/totp", token, &json!({})).await).await;
    let secret = totp_rs::Secret::Encoded(enrol["secret"].as_str().unwrap().to_string())
        .to_bytes()
        .unwrap();
    let now = chrono::Utc::now().timestamp() as u64;
    let code = probity::auth::totp::current_code(&secret, "qian.admin", now);
    let statuses: Vec<u16> = join_all((0..6).map(|_| async {
        app.post_as("/api/v1/me/totp/confirm", token, &json!({"code": code}))
            .await
            .status()
            .as_u16()
    }))
    .await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    // The others are refused: already enabled (409), or the session ended (401).
    assert!(
        statuses.iter().all(|s| [200, 401, 409].contains(s)),
        "{statuses:?}"
    );
    assert_eq!(audit_count(&app, "user.totp_enabled").await, 1);
    // Variant: the code that confirmed cannot then sign in.
    let body = json!({"username": "qian.admin", "password": PASSWORD, "totp": code});
    assert_problem(login_body(&app, body).await, 401, "invalid_totp").await;
}

// ---------- fault 6: sign-out ends the session at once ----------

/// Signs out the bearer `access`'s sign-in, naming its `refresh_token` too.
async fn logout(app: &TestApp, access: &str, refresh_token: &str) {
    let response = app
        .client
        .post(app.url("/api/v1/auth/logout"))
        .bearer_auth(access)
        .json(&json!({"refresh_token": refresh_token}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
}

async fn refresh(app: &TestApp, token: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/auth/refresh"))
        .json(&json!({"refresh_token": token}))
        .send()
        .await
        .unwrap()
}

/// The input: after logout the access token answers 401 on /me and on an admin
/// endpoint at once; variants: a token from a refresh of the same sign-in, and the refresh token.
async fn logout_ends_the_access_token_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, access, refresh_token) = app.signed_in("admin.wu", &[Role::Admin]).await;
    assert_eq!(app.get_as("/api/v1/me", &access).await.status(), 200);
    assert_eq!(app.get_as("/api/v1/users", &access).await.status(), 200);
    logout(&app, &access, &refresh_token).await;
    assert_problem(app.get_as("/api/v1/me", &access).await, 401, "unauthorized").await;
    assert_problem(
        app.get_as("/api/v1/users", &access).await,
        401,
        "unauthorized",
    )
    .await;
    assert_eq!(refresh(&app, &refresh_token).await.status(), 401);

    // Variant: a sign-in refreshed twice; logging out with the newest refresh token ends the
    // access tokens of every step of that sign-in.
    let (_, first_access, r1) = app.signed_in("admin.zheng", &[Role::Admin]).await;
    let second = json(refresh(&app, &r1).await).await;
    let third = json(refresh(&app, second["refresh_token"].as_str().unwrap()).await).await;
    let tokens = [
        first_access,
        second["access_token"].as_str().unwrap().to_string(),
        third["access_token"].as_str().unwrap().to_string(),
    ];
    for t in &tokens {
        assert_eq!(app.get_as("/api/v1/users", t).await.status(), 200);
    }
    logout(
        &app,
        third["access_token"].as_str().unwrap(),
        third["refresh_token"].as_str().unwrap(),
    )
    .await;
    for t in &tokens {
        assert_eq!(app.get_as("/api/v1/me", t).await.status(), 401);
        assert_eq!(app.get_as("/api/v1/users", t).await.status(), 401);
    }
    let audited = audit_count(&app, "auth.logout").await;
    assert_eq!(audited, 2);
}

/// Design: logging out ends one sign-in. Another sign-in of the same user (another device)
/// keeps working, and a new sign-in after logout works.
async fn logout_ends_one_sign_in_and_leaves_the_others(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, laptop, laptop_refresh) = app.signed_in("ma.lin", &[Role::Investigator]).await;
    let phone = json(app.login("ma.lin", PASSWORD).await).await;
    let phone_access = phone["access_token"].as_str().unwrap();
    logout(&app, &laptop, &laptop_refresh).await;
    assert_eq!(app.get_as("/api/v1/me", &laptop).await.status(), 401);
    assert_eq!(app.get_as("/api/v1/me", phone_access).await.status(), 200);
    let renewed = refresh(&app, phone["refresh_token"].as_str().unwrap()).await;
    assert_eq!(renewed.status(), 200);
    // Logging out twice is 401 (that sign-in is over); the other sign-in naming an unknown
    // or a foreign refresh token is refused (422) and ends nothing.
    let twice = app
        .client
        .post(app.url("/api/v1/auth/logout"))
        .bearer_auth(&laptop)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(twice.status(), 401);
    for foreign in ["not-a-token", laptop_refresh.as_str()] {
        let refused = app
            .client
            .post(app.url("/api/v1/auth/logout"))
            .bearer_auth(phone_access)
            .json(&json!({ "refresh_token": foreign }))
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 422);
    }
    assert_eq!(app.get_as("/api/v1/me", phone_access).await.status(), 200);
    let again = json(app.login("ma.lin", PASSWORD).await).await;
    assert_eq!(
        app.get_as("/api/v1/me", again["access_token"].as_str().unwrap())
            .await
            .status(),
        200
    );
}

/// Reuse of a spent refresh token is treated as theft: that sign-in ends at once, access
/// tokens included; the user's other sign-ins go on.
async fn refresh_token_reuse_ends_the_sign_in_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, access, spent) = app.signed_in("tang.yu", &[Role::Admin]).await;
    let other = json(app.login("tang.yu", PASSWORD).await).await;
    let rotated = json(refresh(&app, &spent).await).await;
    let rotated_access = rotated["access_token"].as_str().unwrap();
    assert_eq!(
        app.get_as("/api/v1/users", rotated_access).await.status(),
        200
    );
    assert_problem(refresh(&app, &spent).await, 401, "invalid_refresh_token").await;
    assert_eq!(app.get_as("/api/v1/me", &access).await.status(), 401);
    assert_eq!(
        app.get_as("/api/v1/users", rotated_access).await.status(),
        401
    );
    assert_eq!(
        refresh(&app, rotated["refresh_token"].as_str().unwrap())
            .await
            .status(),
        401
    );
    assert_eq!(
        app.get_as("/api/v1/me", other["access_token"].as_str().unwrap())
            .await
            .status(),
        200
    );
}

/// A password change ends every sign-in of the account, the other devices' too; so do an
/// admin's password reset and deactivation.
async fn password_change_and_admin_actions_end_every_session(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, admin, _) = app.signed_in("admin.gao", &[Role::Admin]).await;
    let (id, first, _) = app.signed_in("lu.xin", &[Role::Investigator]).await;
    let second = json(app.login("lu.xin", PASSWORD).await).await;
    let second_access = second["access_token"].as_str().unwrap();
    let new_password = "江河湖海 2026 换了密码";
    let changed = app
        .post_as(
            "/api/v1/me/password",
            &first,
            &json!({"current_password": PASSWORD, "new_password": new_password}),
        )
        .await;
    assert_eq!(changed.status(), 204);
    assert_eq!(app.get_as("/api/v1/me", &first).await.status(), 401);
    assert_eq!(app.get_as("/api/v1/me", second_access).await.status(), 401);
    assert_eq!(
        refresh(&app, second["refresh_token"].as_str().unwrap())
            .await
            .status(),
        401
    );

    // Variant: an admin's password reset ends the new sign-ins.
    let third = json(app.login("lu.xin", new_password).await).await;
    let third_access = third["access_token"].as_str().unwrap();
    let patch = |body: Value| {
        app.client
            .patch(app.url(&format!("/api/v1/users/{id}")))
            .bearer_auth(&admin)
            .json(&body)
            .send()
    };
    let reset = patch(json!({"password": "a brand new long passphrase"}))
        .await
        .unwrap();
    assert_eq!(reset.status(), 200);
    assert_eq!(app.get_as("/api/v1/me", third_access).await.status(), 401);

    // Variant: deactivation ends them too, and the admin's own session is untouched.
    let fourth = json(app.login("lu.xin", "a brand new long passphrase").await).await;
    let fourth_access = fourth["access_token"].as_str().unwrap();
    assert_eq!(app.get_as("/api/v1/me", fourth_access).await.status(), 200);
    let off = patch(json!({"active": false})).await.unwrap();
    assert_eq!(off.status(), 200);
    assert_eq!(app.get_as("/api/v1/me", fourth_access).await.status(), 401);
    assert_eq!(app.get_as("/api/v1/users", &admin).await.status(), 200);
}
