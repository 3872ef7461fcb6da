use std::time::Duration;

use base64::Engine;
use chrono::TimeZone;
use diesel::prelude::*;
use probity::clock::Clock;
use probity::db::schema::audit_events;
use probity::db::Backend;
use probity::domain::roles::Role;
use secrecy::ExposeSecret;
use serde_json::{json, Value};

use crate::helpers::{app, assert_problem, spawn_app, TestApp, PASSWORD};
use crate::smtp::{Mode, SmtpServer};

pub fn tests() -> Vec<(&'static str, crate::helpers::AsyncTest)> {
    crate::tests![
        login_refresh_and_logout,
        reusing_a_spent_refresh_token_revokes_the_family,
        wrong_password_and_unknown_user_get_the_same_answer,
        forged_tokens_are_refused,
        missing_token_is_401_with_www_authenticate,
        deactivating_a_user_kills_their_token_at_once,
        role_change_and_password_reset_end_sessions,
        repeated_failures_throttle_then_lock_and_email_the_user,
        totp_is_required_for_admin_when_configured,
        each_role_gets_exactly_its_permissions,
        admin_manages_users_with_validation,
        service_api_keys_authenticate_and_can_be_revoked,
        changing_your_own_password_ends_your_sessions,
        an_access_token_expires_by_the_frozen_clock,
        a_lockout_ends_when_the_frozen_clock_passes_it,
    ]
}

async fn json(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

async fn refresh(app: &TestApp, token: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/auth/refresh"))
        .json(&json!({"refresh_token": token}))
        .send()
        .await
        .unwrap()
}

async fn login_refresh_and_logout(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_staff("li.ming", &[Role::Investigator], None)
        .await;
    let response = app.login("Li.Ming", PASSWORD).await;
    assert_eq!(response.status(), 200);
    let pair = json(response).await;
    assert_eq!(pair["token_type"], "Bearer");
    assert_eq!(pair["expires_in"], 900);
    assert_eq!(pair["totp_enrolment_required"], false);
    let access = pair["access_token"].as_str().unwrap();
    let me = json(app.get_as("/api/v1/me", access).await).await;
    assert_eq!(me["kind"], "staff");
    assert_eq!(me["user"]["username"], "li.ming");
    assert_eq!(me["user"]["roles"], json!(["investigator"]));
    assert!(me["user"].get("password_hash").is_none());

    // Refresh rotates: a new pair, both tokens different.
    let rotated = refresh(&app, pair["refresh_token"].as_str().unwrap()).await;
    assert_eq!(rotated.status(), 200);
    let rotated = json(rotated).await;
    assert_ne!(rotated["refresh_token"], pair["refresh_token"]);
    assert_eq!(
        app.get_as("/api/v1/me", rotated["access_token"].as_str().unwrap())
            .await
            .status(),
        200
    );

    // Logout revokes the family: the current refresh token stops working.
    let out = app
        .client
        .post(app.url("/api/v1/auth/logout"))
        .bearer_auth(rotated["access_token"].as_str().unwrap())
        .json(&json!({"refresh_token": rotated["refresh_token"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 204);
    let after = refresh(&app, rotated["refresh_token"].as_str().unwrap()).await;
    assert_problem(after, 401, "invalid_refresh_token").await;

    // Every sign-in event is audited, without the password or any token.
    let entries: Vec<(String, String)> = app
        .db(|conn| {
            audit_events::table
                .select((audit_events::action, audit_events::details))
                .load(conn)
                .unwrap()
        })
        .await;
    assert!(entries.iter().any(|(a, _)| a == "auth.login_succeeded"));
    assert!(entries.iter().any(|(a, _)| a == "auth.logout"));
    for (_, details) in &entries {
        assert!(!details.contains(PASSWORD));
        assert!(!details.contains(pair["refresh_token"].as_str().unwrap()));
    }
}

async fn reusing_a_spent_refresh_token_revokes_the_family(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, _, first) = app.signed_in("wang.fang", &[Role::Intake]).await;
    let second = json(refresh(&app, &first).await).await;
    let second = second["refresh_token"].as_str().unwrap().to_string();
    // An attacker replays the spent token…
    assert_problem(refresh(&app, &first).await, 401, "invalid_refresh_token").await;
    // …and the legitimate newer token of that family is revoked too.
    assert_problem(refresh(&app, &second).await, 401, "invalid_refresh_token").await;
    // A separate sign-in is unaffected.
    let (_, _, other) = {
        let r = json(app.login("wang.fang", PASSWORD).await).await;
        ((), (), r["refresh_token"].as_str().unwrap().to_string())
    };
    assert_eq!(refresh(&app, &other).await.status(), 200);
}

async fn wrong_password_and_unknown_user_get_the_same_answer(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_staff("zhao.lei", &[Role::Intake], None).await;
    let wrong = assert_problem(
        app.login("zhao.lei", "not the password at all").await,
        401,
        "invalid_credentials",
    )
    .await;
    let unknown = assert_problem(
        app.login("nobody.here", "not the password at all").await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_eq!(wrong["detail"], unknown["detail"]);
}

fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
}

fn hs256(key: &[u8], header: &Value, claims: &Value) -> String {
    use hmac::{Hmac, Mac};
    let signing_input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    mac.update(signing_input.as_bytes());
    format!("{signing_input}.{}", b64(&mac.finalize().into_bytes()))
}

async fn forged_tokens_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let (id, token, _) = app.signed_in("chen.jie", &[Role::Admin]).await;
    let key = hex::decode(
        app.settings
            .secrets
            .jwt_signing_key
            .as_ref()
            .unwrap()
            .expose_secret(),
    )
    .unwrap();
    let now = chrono::Utc::now().timestamp();
    // The real token's session: a forged token needs a live one to pass.
    let payload = token.split('.').nth(1).unwrap();
    let sid = serde_json::from_slice::<Value>(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()["sid"]
        .clone();
    let claims = |aud: &str, iss: &str, exp: i64| {
        json!({"sub": id, "roles": ["admin"], "iss": iss, "aud": aud, "exp": exp, "iat": now,
               "jti": "x", "tv": 0, "sid": sid})
    };
    let hs = json!({"alg": "HS256", "typ": "JWT"});
    // Sanity: a token we forge correctly with the real key is accepted…
    let good = hs256(&key, &hs, &claims("probity-api", "probity", now + 300));
    assert_eq!(app.get_as("/api/v1/me", &good).await.status(), 200);

    let mut tampered = token.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let mut forged_payload: Vec<&str> = token.split('.').collect();
    let escalated = b64(claims("probity-api", "probity", now + 300)
        .to_string()
        .as_bytes());
    forged_payload[1] = &escalated;
    let unsigned = format!(
        "{}.{}.",
        b64(json!({"alg": "none", "typ": "JWT"}).to_string().as_bytes()),
        b64(claims("probity-api", "probity", now + 300)
            .to_string()
            .as_bytes())
    );
    // HS/RS confusion: claims RS256 but is HMAC-signed with the server's secret.
    let confused = hs256(
        &key,
        &json!({"alg": "RS256", "typ": "JWT"}),
        &claims("probity-api", "probity", now + 300),
    );
    let mut no_session = claims("probity-api", "probity", now + 300);
    no_session.as_object_mut().unwrap().remove("sid");
    let mut other_session = claims("probity-api", "probity", now + 300);
    other_session["sid"] = json!(uuid::Uuid::new_v4().to_string());
    let cases = [
        ("no session id", hs256(&key, &hs, &no_session)),
        ("unknown session id", hs256(&key, &hs, &other_session)),
        ("tampered signature", tampered),
        ("payload swapped", forged_payload.join(".")),
        ("alg none", unsigned),
        ("RS256 header", confused),
        (
            "wrong audience",
            hs256(&key, &hs, &claims("other-api", "probity", now + 300)),
        ),
        (
            "wrong issuer",
            hs256(&key, &hs, &claims("probity-api", "evil", now + 300)),
        ),
        (
            "expired",
            hs256(&key, &hs, &claims("probity-api", "probity", now - 600)),
        ),
        (
            "wrong key",
            hs256(
                b"another secret entirely!!!!!!!!!",
                &hs,
                &claims("probity-api", "probity", now + 300),
            ),
        ),
        ("not a JWT", "abc.def".to_string()),
    ];
    for (what, forged) in cases {
        let response = app.get_as("/api/v1/me", &forged).await;
        assert_eq!(response.status(), 401, "{what} must be refused");
        assert_problem(response, 401, "unauthorized").await;
    }
}

async fn missing_token_is_401_with_www_authenticate(backend: Backend) {
    let app = spawn_app(backend).await;
    for path in [
        "/api/v1/me",
        "/api/v1/users",
        "/api/v1/audit/verify",
        "/api/v1/api-keys",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.headers()["www-authenticate"], "Bearer", "{path}");
        assert_problem(response, 401, "unauthorized").await;
    }
}

async fn deactivating_a_user_kills_their_token_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, admin, _) = app.signed_in("admin", &[Role::Admin]).await;
    let (id, token, refresh_token) = app.signed_in("sun.li", &[Role::Investigator]).await;
    assert_eq!(app.get_as("/api/v1/me", &token).await.status(), 200);
    let response = app
        .client
        .patch(app.url(&format!("/api/v1/users/{id}")))
        .bearer_auth(&admin)
        .json(&json!({"active": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(json(response).await["active"], false);
    assert_problem(app.get_as("/api/v1/me", &token).await, 401, "unauthorized").await;
    assert_eq!(refresh(&app, &refresh_token).await.status(), 401);
    assert_problem(
        app.login("sun.li", PASSWORD).await,
        401,
        "invalid_credentials",
    )
    .await;
}

async fn role_change_and_password_reset_end_sessions(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, admin, _) = app.signed_in("admin", &[Role::Admin]).await;
    let (id, token, _) = app.signed_in("zhou.min", &[Role::Investigator]).await;
    let patch = |body: Value| {
        app.client
            .patch(app.url(&format!("/api/v1/users/{id}")))
            .bearer_auth(&admin)
            .json(&body)
            .send()
    };
    let changed = patch(json!({"roles": ["supervisor"]})).await.unwrap();
    assert_eq!(json(changed).await["roles"], json!(["supervisor"]));
    assert_eq!(app.get_as("/api/v1/me", &token).await.status(), 401);
    let second = json(app.login("zhou.min", PASSWORD).await).await;
    let reset = patch(json!({"password": "a brand new long passphrase"}))
        .await
        .unwrap();
    assert_eq!(reset.status(), 200);
    assert_eq!(
        app.get_as("/api/v1/me", second["access_token"].as_str().unwrap())
            .await
            .status(),
        401
    );
    assert_eq!(app.login("zhou.min", PASSWORD).await.status(), 401);
    assert_eq!(
        app.login("zhou.min", "a brand new long passphrase")
            .await
            .status(),
        200
    );
}

async fn repeated_failures_throttle_then_lock_and_email_the_user(backend: Backend) {
    // Throttling: the 6th try within the delay window is refused with Retry-After.
    let app = spawn_app(backend).await;
    app.create_staff("liu.yang", &[Role::Intake], None).await;
    for _ in 0..5 {
        assert_problem(
            app.login("liu.yang", "wrong password attempt").await,
            401,
            "invalid_credentials",
        )
        .await;
    }
    let throttled = app.login("liu.yang", PASSWORD).await;
    let retry: u64 = throttled.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1);
    assert_problem(throttled, 429, "login_throttled").await;

    // Lockout: with no delay between tries, the 10th failure locks the account and mails its owner.
    let smtp = SmtpServer::start(Mode::Accept);
    let app = crate::helpers::app(backend)
        .mail_to(smtp.port)
        .set("auth.throttle_base_delay_secs", 0)
        .spawn()
        .await;
    app.create_staff("liu.yang", &[Role::Intake], Some("liu.yang@probity.test"))
        .await;
    for i in 0..10 {
        let r = app.login("liu.yang", "wrong password attempt").await;
        assert_eq!(r.status(), 401, "failure {i}");
    }
    let locked = app.login("liu.yang", PASSWORD).await;
    assert!(locked.headers().contains_key("retry-after"));
    assert_problem(locked, 401, "account_locked").await;
    let mails = tokio::task::spawn_blocking(move || smtp.wait_for(1, Duration::from_secs(15)))
        .await
        .unwrap();
    assert_eq!(mails.len(), 1, "lockout email delivered");
    assert_eq!(mails[0].to, vec!["liu.yang@probity.test".to_string()]);
    assert!(!mails[0].data.contains("wrong password attempt"));
    let actions: Vec<String> = app
        .db(|conn| {
            audit_events::table
                .select(audit_events::action)
                .load(conn)
                .unwrap()
        })
        .await;
    assert_eq!(
        actions.iter().filter(|a| *a == "auth.login_failed").count(),
        10
    );
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "auth.account_locked")
            .count(),
        1
    );
}

async fn totp_is_required_for_admin_when_configured(backend: Backend) {
    let app = app(backend)
        .set("auth.require_totp_for", "admin,supervisor")
        .spawn()
        .await;
    app.create_staff("root.admin", &[Role::Admin], None).await;
    let first = json(app.login("root.admin", PASSWORD).await).await;
    assert_eq!(first["totp_enrolment_required"], true);
    let limited = first["access_token"].as_str().unwrap();
    // The enrolment-only token cannot do admin work…
    assert_problem(
        app.get_as("/api/v1/users", limited).await,
        403,
        "totp_enrolment_required",
    )
    .await;
    // …but can enrol.
    let enrol = app.post_as("/api/v1/me/totp", limited, &json!({})).await;
    assert_eq!(enrol.status(), 200);
    let enrol = json(enrol).await;
    assert!(enrol["otpauth_uri"]
        .as_str()
        .unwrap()
        .starts_with("otpauth://totp/"));
    let secret = totp_rs::Secret::Encoded(enrol["secret"].as_str().unwrap().to_string())
        .to_bytes()
        .unwrap();
    let now = chrono::Utc::now().timestamp() as u64;
    let wrong = app
        .post_as(
            "/api/v1/me/totp/confirm",
            limited,
            &json!({"code": "000000"}),
        )
        .await;
    let code_now = probity::auth::totp::current_code(&secret, "root.admin", now);
    if code_now != "000000" {
        assert_problem(wrong, 422, "validation_failed").await;
    }
    let confirmed = app
        .post_as(
            "/api/v1/me/totp/confirm",
            limited,
            &json!({"code": code_now}),
        )
        .await;
    assert_eq!(confirmed.status(), 200);
    // Enrolment ends the enrolment-only session.
    assert_eq!(app.get_as("/api/v1/me", limited).await.status(), 401);
    // Now a password alone is not enough…
    assert_problem(
        app.login("root.admin", PASSWORD).await,
        401,
        "totp_required",
    )
    .await;
    // …the code just used cannot be replayed…
    let replay = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": "root.admin", "password": PASSWORD, "totp": code_now}))
        .send()
        .await
        .unwrap();
    assert_problem(replay, 401, "invalid_totp").await;
    // …and the next code signs in with full rights.
    let next = probity::auth::totp::current_code(&secret, "root.admin", now + 30);
    let full = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": "root.admin", "password": PASSWORD, "totp": next}))
        .send()
        .await
        .unwrap();
    assert_eq!(full.status(), 200);
    let full = json(full).await;
    assert_eq!(full["totp_enrolment_required"], false);
    assert_eq!(
        app.get_as("/api/v1/users", full["access_token"].as_str().unwrap())
            .await
            .status(),
        200
    );
    // Roles without the requirement sign in with a password alone.
    let (_, _, _) = app.signed_in("plain.intake", &[Role::Intake]).await;
}

async fn each_role_gets_exactly_its_permissions(backend: Backend) {
    let app = spawn_app(backend).await;
    // (path, roles allowed)
    let table: [(&str, &[Role]); 4] = [
        ("/api/v1/me", &Role::ALL),
        ("/api/v1/users", &[Role::Admin]),
        ("/api/v1/api-keys", &[Role::Admin]),
        (
            "/api/v1/audit/verify",
            &[Role::Admin, Role::Supervisor, Role::Auditor],
        ),
    ];
    for role in Role::ALL {
        let (_, token, _) = app.signed_in(&format!("user.{role}"), &[role]).await;
        for (path, allowed) in &table {
            let response = app.get_as(path, &token).await;
            if allowed.contains(&role) {
                assert_eq!(response.status(), 200, "{role} may GET {path}");
            } else {
                assert_problem(response, 403, "forbidden").await;
            }
        }
        // Creating users and API keys: admin only.
        let create = app
            .post_as(
                "/api/v1/api-keys",
                &token,
                &json!({"name": format!("key for {role}"), "scopes": ["benefit-status:read"]}),
            )
            .await;
        if role == Role::Admin {
            assert_eq!(create.status(), 201);
        } else {
            assert_problem(create, 403, "forbidden").await;
        }
    }
}

async fn admin_manages_users_with_validation(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, admin, _) = app.signed_in("admin", &[Role::Admin]).await;
    let bad = app
        .post_as(
            "/api/v1/users",
            &admin,
            &json!({"username": "X", "display_name": "", "email": "not-an-email",
                    "roles": ["root"], "password": "short"}),
        )
        .await;
    let problem = assert_problem(bad, 422, "validation_failed").await;
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for field in ["username", "display_name", "email", "roles", "password"] {
        assert!(fields.contains(&field), "{field} reported in {problem}");
    }
    let common = app
        .post_as(
            "/api/v1/users",
            &admin,
            &json!({"username": "qian.hua", "display_name": "钱华", "roles": ["intake"],
                    "password": "Password1234"}),
        )
        .await;
    let problem = assert_problem(common, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["code"], "common_password");

    let created = app
        .post_as(
            "/api/v1/users",
            &admin,
            &json!({"username": "qian.hua", "display_name": "钱华", "email": "qian@probity.test",
                    "roles": ["intake", "investigator"], "password": "绿水青山就是金山银山2026"}),
        )
        .await;
    assert_eq!(created.status(), 201);
    let created = json(created).await;
    assert_eq!(created["roles"], json!(["intake", "investigator"]));
    assert_eq!(
        app.login("qian.hua", "绿水青山就是金山银山2026")
            .await
            .status(),
        200
    );
    let again = app
        .post_as(
            "/api/v1/users",
            &admin,
            &json!({"username": "qian.hua", "display_name": "x", "roles": ["intake"],
                    "password": "another long passphrase"}),
        )
        .await;
    assert_problem(again, 409, "username_taken").await;

    // Cursor pagination: one per page, then the next.
    let page1 = json(app.get_as("/api/v1/users?limit=1", &admin).await).await;
    assert_eq!(page1["items"].as_array().unwrap().len(), 1);
    let cursor = page1["next_cursor"].as_str().unwrap();
    let page2 = json(
        app.get_as(&format!("/api/v1/users?limit=1&cursor={cursor}"), &admin)
            .await,
    )
    .await;
    assert_ne!(page2["items"][0]["id"], page1["items"][0]["id"]);
    let all = json(app.get_as("/api/v1/users?limit=200", &admin).await).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 2);
    assert!(all["next_cursor"].is_null());
    assert_problem(
        app.get_as("/api/v1/users?limit=0", &admin).await,
        422,
        "validation_failed",
    )
    .await;
    assert_problem(
        app.get_as("/api/v1/users/no-such-id", &admin).await,
        404,
        "not_found",
    )
    .await;
    let fetched = json(
        app.get_as(
            &format!("/api/v1/users/{}", created["id"].as_str().unwrap()),
            &admin,
        )
        .await,
    )
    .await;
    assert_eq!(fetched["display_name"], "钱华");
}

async fn service_api_keys_authenticate_and_can_be_revoked(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, admin, _) = app.signed_in("admin", &[Role::Admin]).await;
    let bad = app
        .post_as(
            "/api/v1/api-keys",
            &admin,
            &json!({"name": "民政局", "scopes": ["everything"]}),
        )
        .await;
    assert_problem(bad, 422, "validation_failed").await;
    let created = app
        .post_as(
            "/api/v1/api-keys",
            &admin,
            &json!({"name": "民政局低保发放系统", "scopes": ["benefit-status:read"]}),
        )
        .await;
    assert_eq!(created.status(), 201);
    let created = json(created).await;
    let secret = created["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("pk_"));

    let me = json(app.get_as("/api/v1/me", &secret).await).await;
    assert_eq!(me["kind"], "service");
    assert_eq!(me["service"]["scopes"], json!(["benefit-status:read"]));
    let via_header = app
        .client
        .get(app.url("/api/v1/me"))
        .header("x-api-key", &secret)
        .send()
        .await
        .unwrap();
    assert_eq!(via_header.status(), 200);
    // A service key is not staff.
    assert_problem(app.get_as("/api/v1/users", &secret).await, 403, "forbidden").await;
    // A wrong secret for a real key id fails.
    let wrong = format!("{}x", &secret[..secret.len() - 1]);
    assert_problem(app.get_as("/api/v1/me", &wrong).await, 401, "unauthorized").await;

    let listed = json(app.get_as("/api/v1/api-keys", &admin).await).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert!(!listed.to_string().contains(&secret[10..]));
    assert!(listed[0]["last_used_at"].is_string());

    let id = created["id"].as_str().unwrap();
    let revoked = app
        .post_as(&format!("/api/v1/api-keys/{id}/revoke"), &admin, &json!({}))
        .await;
    assert_eq!(revoked.status(), 200);
    assert_problem(app.get_as("/api/v1/me", &secret).await, 401, "unauthorized").await;
    let stored: Vec<String> = app
        .db(|conn| {
            probity::db::schema::api_keys::table
                .select(probity::db::schema::api_keys::secret_hash)
                .load(conn)
                .unwrap()
        })
        .await;
    assert!(!stored[0].contains(&secret[20..]), "only a hash is stored");
}

async fn changing_your_own_password_ends_your_sessions(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, token, refresh_token) = app.signed_in("he.ping", &[Role::Investigator]).await;
    let wrong = app
        .post_as(
            "/api/v1/me/password",
            &token,
            &json!({"current_password": "not it at all!!", "new_password": "山高水长 2026 新的登录密码"}),
        )
        .await;
    assert_problem(wrong, 401, "invalid_credentials").await;
    let weak = app
        .post_as(
            "/api/v1/me/password",
            &token,
            &json!({"current_password": PASSWORD, "new_password": "password1234"}),
        )
        .await;
    assert_problem(weak, 422, "validation_failed").await;
    let changed = app
        .post_as(
            "/api/v1/me/password",
            &token,
            &json!({"current_password": PASSWORD, "new_password": "山高水长 2026 新的登录密码"}),
        )
        .await;
    assert_eq!(changed.status(), 204);
    assert_eq!(app.get_as("/api/v1/me", &token).await.status(), 401);
    assert_eq!(refresh(&app, &refresh_token).await.status(), 401);
    assert_eq!(app.login("he.ping", PASSWORD).await.status(), 401);
    assert_eq!(
        app.login("he.ping", "山高水长 2026 新的登录密码")
            .await
            .status(),
        200
    );
}

/// A frozen clock, years away from the real time, so nothing passes by the system clock.
fn frozen_clock() -> Clock {
    Clock::frozen(chrono::Utc.with_ymd_and_hms(2024, 2, 29, 9, 30, 0).unwrap())
}

async fn an_access_token_expires_by_the_frozen_clock(backend: Backend) {
    let clock = frozen_clock();
    let app = app(backend).clock(clock.clone()).spawn().await;
    let (_, access, refresh_token) = app.signed_in("zhou.lan", &[Role::Intake]).await;
    // Issued under the frozen clock (in the past by the system clock) and still good.
    assert_eq!(app.get_as("/api/v1/me", &access).await.status(), 200);
    // At its 900-second lifetime plus the 5-second leeway it still works…
    clock.advance(chrono::Duration::seconds(905));
    assert_eq!(app.get_as("/api/v1/me", &access).await.status(), 200);
    // …one second later it has expired, without anyone waiting.
    clock.advance(chrono::Duration::seconds(1));
    assert_problem(app.get_as("/api/v1/me", &access).await, 401, "unauthorized").await;
    // The refresh token (12 hours) still works and gives a token good at the clock's time.
    let response = refresh(&app, &refresh_token).await;
    assert_eq!(response.status(), 200);
    let pair = json(response).await;
    let renewed = pair["access_token"].as_str().unwrap();
    assert_eq!(app.get_as("/api/v1/me", renewed).await.status(), 200);
    // Past the refresh token's own lifetime, it is refused too.
    clock.advance(chrono::Duration::hours(13));
    assert_problem(
        refresh(&app, pair["refresh_token"].as_str().unwrap()).await,
        401,
        "invalid_refresh_token",
    )
    .await;
}

async fn a_lockout_ends_when_the_frozen_clock_passes_it(backend: Backend) {
    let clock = frozen_clock();
    let locked_at = clock.now();
    let app = app(backend)
        .clock(clock.clone())
        .set("auth.throttle_base_delay_secs", 0)
        .spawn()
        .await;
    app.create_staff("wu.hao", &[Role::Intake], None).await;
    for i in 0..10 {
        let r = app.login("wu.hao", "wrong password attempt").await;
        assert_eq!(r.status(), 401, "failure {i}");
    }
    // Locked for 15 minutes by the application's clock.
    assert_problem(app.login("wu.hao", PASSWORD).await, 401, "account_locked").await;
    clock.advance(chrono::Duration::minutes(14));
    let still = app.login("wu.hao", PASSWORD).await;
    let retry: u64 = still.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(retry, 60, "one minute of the lock left");
    assert_problem(still, 401, "account_locked").await;
    // Once the clock passes the lock, the right password signs in.
    clock.advance(chrono::Duration::minutes(1) + chrono::Duration::seconds(1));
    assert_eq!(app.login("wu.hao", PASSWORD).await.status(), 200);
    // The audit entries carry the clock's time, not the system's.
    let locks: Vec<chrono::NaiveDateTime> = app
        .db(|conn| {
            audit_events::table
                .filter(audit_events::action.eq("auth.account_locked"))
                .select(audit_events::occurred_at)
                .load(conn)
                .unwrap()
        })
        .await;
    assert_eq!(locks, vec![locked_at.naive_utc()]);
}
