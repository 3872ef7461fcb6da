//! The staff console's sign-in, on every backend: password and TOTP steps, the session cookie's
//! attributes, CSRF refusals, sign-out, the idle timeout, lockout and throttling as in the API.
//! And [`Console`], the signed-in browser-like client the other console tests use.

use std::collections::BTreeMap;
use std::sync::Mutex;

use probity::db::Backend;
use probity::domain::roles::Role;

use crate::helpers::{app, spawn_app, TestApp, PASSWORD};

pub fn tests() -> Vec<(&'static str, crate::helpers::AsyncTest)> {
    crate::tests![
        signing_in_sets_a_strict_cookie_and_opens_the_desk,
        a_wrong_password_is_refused_in_chinese_and_counts_as_in_the_api,
        totp_accounts_sign_in_on_a_second_page,
        roles_that_need_totp_must_enrol_before_anything_else,
        posts_without_the_token_or_from_elsewhere_are_refused,
        sign_out_ends_the_session_at_once,
        idle_sessions_end_after_the_configured_minutes,
        pages_need_a_sign_in_and_next_stays_inside_the_console,
        every_linked_page_renders_or_refuses_in_chinese_for_every_role,
        errors_around_console_handlers_are_chinese_pages,
        a_batch_lookup_that_is_not_multipart_is_refused_without_a_panic,
    ]
}

// ---------- the client ----------

/// One answer of the console, read whole.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
    pub content_type: String,
}

impl Page {
    /// Asserts a 200 HTML page and returns its body.
    pub fn ok(&self) -> &str {
        assert_eq!(
            self.status, 200,
            "expected 200, got {}: {}",
            self.status, self.body
        );
        assert!(
            self.content_type.starts_with("text/html"),
            "{}",
            self.content_type
        );
        &self.body
    }

    /// Asserts a 303 and returns where it leads.
    pub fn redirect(&self) -> &str {
        assert_eq!(
            self.status, 303,
            "expected 303, got {}: {}",
            self.status, self.body
        );
        self.location.as_deref().expect("a Location")
    }

    /// Asserts the Chinese 403 page.
    pub fn forbidden(&self) {
        assert_eq!(
            self.status, 403,
            "expected 403, got {}: {}",
            self.status, self.body
        );
        assert!(self.content_type.starts_with("text/html"));
        assert!(self.body.contains("没有权限"), "{}", self.body);
    }
}

/// A browser-like client of the console: keeps its cookies, follows no redirects.
pub struct Console<'a> {
    pub app: &'a TestApp,
    client: reqwest::Client,
    jar: Mutex<BTreeMap<String, String>>,
    /// The signed-in user's id (empty before signing in).
    pub user_id: String,
    pub username: String,
}

impl<'a> Console<'a> {
    /// A client with no cookies yet.
    pub fn anonymous(app: &'a TestApp) -> Console<'a> {
        Console {
            app,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            jar: Mutex::new(BTreeMap::new()),
            user_id: String::new(),
            username: String::new(),
        }
    }

    /// Creates staff member `username` with `roles` and signs them in through the login page.
    pub async fn sign_in(app: &'a TestApp, username: &str, roles: &[Role]) -> Console<'a> {
        let user_id = app.create_staff(username, roles, None).await;
        let mut console = Console::anonymous(app);
        console.user_id = user_id;
        console.username = username.to_string();
        let answer = console.login(username, PASSWORD).await;
        assert_eq!(answer.status, 303, "sign-in of {username}: {}", answer.body);
        console
    }

    /// Signs in as an existing account (password step; `Page` is the answer).
    pub async fn login(&self, username: &str, password: &str) -> Page {
        let form = self.get("/staff/login").await;
        let token = input_value(&form.body, "csrf_token").expect("the login form's token");
        self.post_raw(
            "/staff/login",
            &[
                ("csrf_token", token.as_str()),
                ("username", username),
                ("password", password),
            ],
        )
        .await
    }

    fn cookie_header(&self) -> String {
        self.jar
            .lock()
            .unwrap()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Every `Set-Cookie` of `response` as sent (for attribute checks).
    pub fn set_cookies(response: &reqwest::Response) -> Vec<String> {
        response
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_string)
            .collect()
    }

    fn keep_cookies(&self, response: &reqwest::Response) {
        let mut jar = self.jar.lock().unwrap();
        for line in Console::set_cookies(response) {
            let pair = line.split(';').next().unwrap_or_default();
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            let lower = line.to_ascii_lowercase();
            if value.is_empty() || lower.contains("max-age=0") {
                jar.remove(name.trim());
            } else {
                jar.insert(name.trim().to_string(), value.trim().to_string());
            }
        }
    }

    /// The value of cookie `name` this client holds.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.jar.lock().unwrap().get(name).cloned()
    }

    /// Replaces (or with `None` removes) cookie `name`.
    pub fn set_cookie(&self, name: &str, value: Option<&str>) {
        let mut jar = self.jar.lock().unwrap();
        match value {
            Some(v) => jar.insert(name.to_string(), v.to_string()),
            None => jar.remove(name),
        };
    }

    async fn read(&self, response: reqwest::Response) -> Page {
        self.keep_cookies(&response);
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let body = response.text().await.unwrap_or_default();
        Page {
            status,
            location,
            body,
            content_type,
        }
    }

    /// `GET path`, as a same-site navigation.
    pub async fn get(&self, path: &str) -> Page {
        let response = self
            .client
            .get(self.app.url(path))
            .header(reqwest::header::COOKIE, self.cookie_header())
            .header("sec-fetch-site", "same-origin")
            .send()
            .await
            .unwrap();
        self.read(response).await
    }

    /// `GET path` and the raw response (downloads).
    pub async fn get_response(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.app.url(path))
            .header(reqwest::header::COOKIE, self.cookie_header())
            .header("sec-fetch-site", "same-origin")
            .send()
            .await
            .unwrap()
    }

    /// The CSRF token of this sign-in's forms (read from the desk's sign-out form; from the
    /// TOTP enrolment page while enrolment is still needed).
    pub async fn csrf(&self) -> String {
        let mut page = self.get("/staff").await;
        if page.status == 303 {
            page = self.get("/staff/totp").await;
        }
        input_value(&page.body, "csrf_token").expect("a csrf_token on /staff")
    }

    /// POSTs `fields` as a form, with the sign-in's CSRF token added.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let token = self.csrf().await;
        let mut all = vec![("csrf_token", token.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &all).await
    }

    /// POSTs a `multipart/form-data` body (files and all; the caller adds `csrf_token`), as a
    /// same-origin form.
    pub async fn post_multipart(&self, path: &str, form: reqwest::multipart::Form) -> Page {
        let response = self
            .client
            .post(self.app.url(path))
            .header(reqwest::header::COOKIE, self.cookie_header())
            .header("sec-fetch-site", "same-origin")
            .multipart(form)
            .send()
            .await
            .unwrap();
        self.read(response).await
    }

    /// POSTs exactly `fields` (no token added), as a same-origin form.
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        self.post_with(path, fields, &[("sec-fetch-site", "same-origin")])
            .await
    }

    /// POSTs exactly `fields` with these extra headers.
    pub async fn post_with(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Page {
        let mut request = self
            .client
            .post(self.app.url(path))
            .header(reqwest::header::COOKIE, self.cookie_header())
            .form(fields);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.read(request.send().await.unwrap()).await
    }
}

/// The `value` of the first input named `name` in `html`.
pub fn input_value(html: &str, name: &str) -> Option<String> {
    crate::web::input_value(html, name)
}

/// The form controls of `html` (inputs other than hidden ones, selects, text areas) that have no
/// `<label for>` naming their id and no `aria-label`: each as its opening tag.
pub fn unlabelled_controls(html: &str) -> Vec<String> {
    let mut missing = Vec::new();
    for tag in ["<input", "<select", "<textarea"] {
        for (at, _) in html.match_indices(tag) {
            let end = html[at..].find('>').map_or(html.len(), |e| at + e + 1);
            let element = &html[at..end];
            let attr = |name: &str| {
                element
                    .split(&format!(" {name}=\""))
                    .nth(1)
                    .and_then(|rest| rest.split('"').next())
                    .map(str::to_string)
            };
            if matches!(attr("type").as_deref(), Some("hidden" | "submit")) {
                continue;
            }
            if element.contains("aria-label=") {
                continue;
            }
            let labelled = attr("id").is_some_and(|id| html.contains(&format!("for=\"{id}\"")));
            if !labelled {
                missing.push(element.to_string());
            }
        }
    }
    missing
}

/// Asserts a page is light and self-contained: under 100 KB, nothing loaded from elsewhere;
/// and that every form control has its label.
pub fn assert_self_contained(path: &str, html: &str) {
    let unlabelled = unlabelled_controls(html);
    assert!(
        unlabelled.is_empty(),
        "{path}: controls without a label: {unlabelled:#?}"
    );
    assert!(html.len() < 100 * 1024, "{path} is {} bytes", html.len());
    for attr in [
        "src=\"http",
        "href=\"http",
        "src=\"//",
        "href=\"//",
        "url(http",
        "@import",
    ] {
        assert!(!html.contains(attr), "{path} loads from elsewhere: {attr}");
    }
    assert!(
        html.contains("lang=\"zh-CN\""),
        "{path} is not marked Chinese"
    );
}

// ---------- tests ----------

async fn signing_in_sets_a_strict_cookie_and_opens_the_desk(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = app
        .create_staff("li.zhen", &[Role::Investigator], None)
        .await;
    let console = Console::anonymous(&app);
    let form = console.get("/staff/login").await;
    let html = form.ok();
    assert_self_contained("/staff/login", html);
    assert!(html.contains("<label for=\"username\">用户名</label>"));
    let token = input_value(html, "csrf_token").unwrap();
    let response = console
        .client
        .post(app.url("/staff/login"))
        .header(reqwest::header::COOKIE, console.cookie_header())
        .header("sec-fetch-site", "same-origin")
        .form(&[
            ("csrf_token", token.as_str()),
            ("username", "LI.ZHEN"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/staff");
    let session = Console::set_cookies(&response)
        .into_iter()
        .find(|c| c.starts_with("probity_staff="))
        .expect("a session cookie");
    assert!(session.contains("HttpOnly"), "{session}");
    assert!(session.contains("SameSite=Strict"), "{session}");
    assert!(session.contains("Path=/staff"), "{session}");
    assert!(!session.contains("Secure"), "plain HTTP here: {session}");
    console.keep_cookies(&response);
    let desk = console.get("/staff").await;
    let html = desk.ok();
    assert_self_contained("/staff", html);
    assert!(html.contains("测试 li.zhen"));
    assert!(
        html.contains("href=\"/staff/cases\""),
        "investigators see 案件"
    );
    assert!(!html.contains("href=\"/staff/admin\""), "but not 管理");
    // The database holds the token's hash only.
    let cookie = console.cookie("probity_staff").unwrap();
    let stored: Vec<Option<String>> = app
        .db(move |conn| {
            use diesel::prelude::*;
            use probity::db::schema::staff_sessions;
            staff_sessions::table
                .filter(staff_sessions::user_id.eq(&id))
                .select(staff_sessions::console_token_hash)
                .load(conn)
                .unwrap()
        })
        .await;
    assert_eq!(stored.len(), 1);
    assert_eq!(
        stored[0].as_deref(),
        Some(probity::auth::tokens::hash_token(&cookie).as_str())
    );
    // Over HTTPS (as the proxy in front says) the cookie is Secure.
    let https = Console::anonymous(&app);
    let form = https.get("/staff/login").await;
    let token = input_value(&form.body, "csrf_token").unwrap();
    let response = https
        .client
        .post(app.url("/staff/login"))
        .header(reqwest::header::COOKIE, https.cookie_header())
        .header("sec-fetch-site", "same-origin")
        .header("x-forwarded-proto", "https")
        .form(&[
            ("csrf_token", token.as_str()),
            ("username", "li.zhen"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let session = Console::set_cookies(&response)
        .into_iter()
        .find(|c| c.starts_with("probity_staff="))
        .expect("a session cookie");
    assert!(session.contains("Secure"), "{session}");
}

async fn a_wrong_password_is_refused_in_chinese_and_counts_as_in_the_api(backend: Backend) {
    let app = app(backend)
        .set("auth.lock_after_failures", 3)
        .set("auth.throttle_after_failures", 100)
        .spawn()
        .await;
    app.create_staff("zhao.lin", &[Role::Intake], None).await;
    let console = Console::anonymous(&app);
    let wrong = console.login("zhao.lin", "not the password at all").await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("用户名或密码不正确"), "{}", wrong.body);
    assert_eq!(
        input_value(&wrong.body, "username").as_deref(),
        Some("zhao.lin")
    );
    assert!(console.cookie("probity_staff").is_none());
    console.login("zhao.lin", "not the password at all").await;
    let locked = console.login("zhao.lin", "not the password at all").await;
    assert_eq!(locked.status, 401);
    // Locked: even the right password is refused now, on the console as in the API.
    let right = console.login("zhao.lin", PASSWORD).await;
    assert_eq!(right.status, 401);
    assert!(right.body.contains("锁定"), "{}", right.body);
    let api = app.login("zhao.lin", PASSWORD).await;
    assert_eq!(api.status(), 401);
    let problem: serde_json::Value = api.json().await.unwrap();
    assert_eq!(problem["code"], "account_locked");
}

fn code_for(secret_base32: &str, account: &str, at: chrono::DateTime<chrono::Utc>) -> String {
    let secret = totp_rs::Secret::Encoded(secret_base32.to_string())
        .to_bytes()
        .unwrap();
    probity::auth::totp::current_code(&secret, account, at.timestamp() as u64)
}

/// Enrols `console`'s account in TOTP through the console; returns the base32 secret. The
/// confirmation ends every sign-in of the account.
async fn enrol(console: &Console<'_>) -> String {
    let started = console.post("/staff/totp", &[("action", "start")]).await;
    let html = started.ok();
    let secret = crate::web::text_of(html, "totp-secret").expect("the secret is shown");
    let code = code_for(&secret, &console.username, console.app.clock.now());
    let confirmed = console
        .post("/staff/totp", &[("action", "confirm"), ("code", &code)])
        .await;
    assert_eq!(confirmed.redirect(), "/staff/login?totp_enabled=1");
    secret
}

async fn totp_accounts_sign_in_on_a_second_page(backend: Backend) {
    let clock = probity::clock::Clock::frozen(
        chrono::DateTime::parse_from_rfc3339("2026-12-07T02:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc),
    );
    let app = app(backend).clock(clock.clone()).spawn().await;
    let console = Console::sign_in(&app, "qian.wen", &[Role::Supervisor]).await;
    let secret = enrol(&console).await;
    // Enrolling ended the sign-in.
    assert_eq!(console.get("/staff").await.status, 303);
    clock.advance(chrono::Duration::seconds(60));
    let first = console.login("qian.wen", PASSWORD).await;
    assert_eq!(first.redirect(), "/staff/login/totp");
    assert!(console.cookie("probity_staff").is_none());
    let form = console.get("/staff/login/totp").await;
    let token = input_value(form.ok(), "csrf_token").unwrap();
    let wrong = console
        .post_raw(
            "/staff/login/totp",
            &[("csrf_token", token.as_str()), ("totp", "000000")],
        )
        .await;
    let right_code = code_for(&secret, "qian.wen", clock.now());
    if right_code != "000000" {
        assert_eq!(wrong.status, 401);
        assert!(wrong.body.contains("动态验证码不正确"), "{}", wrong.body);
    }
    let signed = console
        .post_raw(
            "/staff/login/totp",
            &[
                ("csrf_token", token.as_str()),
                ("totp", right_code.as_str()),
            ],
        )
        .await;
    assert_eq!(signed.redirect(), "/staff");
    console.get("/staff").await.ok();
    // The same code cannot open a second sign-in (as in the API).
    let other = Console::anonymous(&app);
    assert_eq!(
        other.login("qian.wen", PASSWORD).await.redirect(),
        "/staff/login/totp"
    );
    let token = input_value(&other.get("/staff/login/totp").await.body, "csrf_token").unwrap();
    let replay = other
        .post_raw(
            "/staff/login/totp",
            &[
                ("csrf_token", token.as_str()),
                ("totp", right_code.as_str()),
            ],
        )
        .await;
    assert_eq!(replay.status, 401);
    // A forged pending cookie is not a password.
    let forger = Console::anonymous(&app);
    forger.set_cookie("probity_staff_pending", Some("eA.eA.99999999999.eA"));
    assert_eq!(
        forger.get("/staff/login/totp").await.redirect(),
        "/staff/login"
    );
}

async fn roles_that_need_totp_must_enrol_before_anything_else(backend: Backend) {
    let app = app(backend)
        .set("auth.require_totp_for", "admin")
        .spawn()
        .await;
    let console = Console::sign_in(&app, "sun.admin", &[Role::Admin]).await;
    assert_eq!(console.get("/staff").await.redirect(), "/staff/totp");
    let page = console.get("/staff/totp").await;
    assert!(page.ok().contains("生成密钥"));
    enrol(&console).await;
    assert_eq!(console.get("/staff").await.status, 303);
}

async fn posts_without_the_token_or_from_elsewhere_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let console = Console::sign_in(&app, "zhou.yi", &[Role::Supervisor]).await;
    let token = console.csrf().await;
    // No token.
    let none = console.post_raw("/staff/sign-out", &[]).await;
    assert_eq!(none.status, 403);
    assert!(none.body.contains("页面已过期"), "{}", none.body);
    // Another sign-in's token.
    let other = Console::sign_in(&app, "wu.er", &[Role::Supervisor]).await;
    let theirs = other.csrf().await;
    let wrong = console
        .post_raw("/staff/sign-out", &[("csrf_token", theirs.as_str())])
        .await;
    assert_eq!(wrong.status, 403);
    // The right token from another site.
    let cross = console
        .post_with(
            "/staff/sign-out",
            &[("csrf_token", token.as_str())],
            &[("sec-fetch-site", "cross-site")],
        )
        .await;
    assert_eq!(cross.status, 403);
    let origin = console
        .post_with(
            "/staff/sign-out",
            &[("csrf_token", token.as_str())],
            &[("origin", "https://evil.example")],
        )
        .await;
    assert_eq!(origin.status, 403);
    // The login form refuses a post without its token too.
    let anonymous = Console::anonymous(&app);
    let login = anonymous
        .post_raw(
            "/staff/login",
            &[("username", "zhou.yi"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(login.status, 403);
    // Still signed in after all of that.
    console.get("/staff").await.ok();
}

async fn sign_out_ends_the_session_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let console = Console::sign_in(&app, "zheng.san", &[Role::Investigator]).await;
    let stolen = console.cookie("probity_staff").unwrap();
    let out = console.post("/staff/sign-out", &[]).await;
    assert_eq!(out.redirect(), "/staff/login?signed_out=1");
    assert!(
        console.cookie("probity_staff").is_none(),
        "the cookie is cleared"
    );
    // The old cookie, replayed, opens nothing.
    console.set_cookie("probity_staff", Some(&stolen));
    let after = console.get("/staff/cases").await;
    assert!(after.redirect().starts_with("/staff/login"));
    let ended: usize = app
        .db(|conn| {
            use diesel::prelude::*;
            use probity::db::schema::staff_sessions;
            staff_sessions::table
                .filter(staff_sessions::ended_at.is_not_null())
                .count()
                .get_result::<i64>(conn)
                .unwrap() as usize
        })
        .await;
    assert_eq!(ended, 1);
}

async fn idle_sessions_end_after_the_configured_minutes(backend: Backend) {
    let clock = probity::clock::Clock::frozen(
        chrono::DateTime::parse_from_rfc3339("2026-12-07T02:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc),
    );
    let app = app(backend)
        .clock(clock.clone())
        .set("console.idle_minutes", 10)
        .spawn()
        .await;
    let console = Console::sign_in(&app, "feng.si", &[Role::Investigator]).await;
    // Used every 9 minutes, it stays open.
    for _ in 0..3 {
        clock.advance(chrono::Duration::minutes(9));
        console.get("/staff").await.ok();
    }
    clock.advance(chrono::Duration::minutes(11));
    let expired = console.get("/staff/cases").await;
    assert_eq!(
        expired.redirect(),
        "/staff/login?expired=1&next=%2Fstaff%2Fcases"
    );
    let notice = console.get("/staff/login?expired=1").await;
    assert!(notice.ok().contains("10 分钟"));
    // Ended for good: the session row too.
    clock.advance(chrono::Duration::minutes(1));
    assert!(console
        .get("/staff")
        .await
        .redirect()
        .starts_with("/staff/login"));
}

async fn pages_need_a_sign_in_and_next_stays_inside_the_console(backend: Backend) {
    let app = spawn_app(backend).await;
    let nobody = Console::anonymous(&app);
    assert_eq!(
        nobody.get("/staff").await.redirect(),
        "/staff/login?next=%2Fstaff"
    );
    // A signed-in user goes on to `next` after the password, but only inside /staff.
    app.create_staff("chen.wu", &[Role::Investigator], None)
        .await;
    let form = nobody.get("/staff/login?next=//evil.example/").await;
    assert_eq!(input_value(form.ok(), "next").as_deref(), Some(""));
    let token = input_value(&form.body, "csrf_token").unwrap();
    let done = nobody
        .post_raw(
            "/staff/login",
            &[
                ("csrf_token", token.as_str()),
                ("username", "chen.wu"),
                ("password", PASSWORD),
                ("next", "https://evil.example/"),
            ],
        )
        .await;
    assert_eq!(done.redirect(), "/staff");
    let again = Console::anonymous(&app);
    let form = again.get("/staff/login").await;
    let token = input_value(&form.body, "csrf_token").unwrap();
    let done = again
        .post_raw(
            "/staff/login",
            &[
                ("csrf_token", token.as_str()),
                ("username", "chen.wu"),
                ("password", PASSWORD),
                ("next", "/staff/cases?overdue=true"),
            ],
        )
        .await;
    assert_eq!(done.redirect(), "/staff/cases?overdue=true");
}

/// The `/staff` links (`href="/staff…"`) of `html`, without fragments, unescaped.
fn staff_links(html: &str) -> Vec<String> {
    let mut links = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find("href=\"/staff") {
        rest = &rest[at + 6..];
        let end = rest.find('"').unwrap_or(rest.len());
        let link = rest[..end].replace("&amp;", "&");
        let link = link.split('#').next().unwrap_or_default().to_string();
        if !link.is_empty() {
            links.push(link);
        }
        rest = &rest[end..];
    }
    links
}

/// Every page reachable by links from the desk of a user holding every role, over a world with
/// a filed case (both investigations, the suspension), an unassigned report and officials: each
/// renders (HTML under 100 KB, nothing from elsewhere, Chinese), and for each single role each
/// of those pages either renders or answers the Chinese 403 (or sends them on to sign in
/// again: never a 500, never JSON).
async fn every_linked_page_renders_or_refuses_in_chinese_for_every_role(backend: Backend) {
    let life = crate::lifecycle::Life::on(app(backend)).await;
    let app = &life.w.app;
    life.filed().await;
    life.w
        .report(
            crate::lifecycle::TOWNSHIP,
            crate::lifecycle::VILLAGE,
            "王某",
        )
        .await;
    let all = Console::sign_in(app, "everyone", &Role::ALL).await;
    let mut seen = std::collections::BTreeSet::new();
    let mut queue = std::collections::VecDeque::from(["/staff".to_string()]);
    let mut pages = Vec::new();
    while let Some(path) = queue.pop_front() {
        if !seen.insert(path.clone()) || seen.len() > 250 {
            continue;
        }
        let page = all.get(&path).await;
        assert!(
            page.status == 200 || page.status == 303,
            "{path}: {} {}",
            page.status,
            page.body
        );
        if page.status != 200 || !page.content_type.starts_with("text/html") {
            continue;
        }
        assert_self_contained(&path, &page.body);
        pages.push(path.clone());
        for link in staff_links(&page.body) {
            if !seen.contains(&link) {
                queue.push_back(link);
            }
        }
    }
    assert!(
        pages.len() >= 8,
        "only {} pages reached: {pages:?}",
        pages.len()
    );
    for role in Role::ALL {
        let one = Console::sign_in(app, &format!("only.{role}"), &[role]).await;
        for path in &pages {
            let page = one.get(path).await;
            match page.status {
                200 => assert_self_contained(path, &page.body),
                403 => page.forbidden(),
                404 => assert!(page.body.contains("找不到"), "{role} {path}: {}", page.body),
                other => panic!("{role} {path}: {other} {}", page.body),
            }
        }
    }
}

/// Asserts `page` is one of the console's Chinese error pages with `status`, not problem+json.
fn assert_chinese_error(what: &str, page: &Page, status: u16) {
    assert_eq!(page.status, status, "{what}: {}", page.body);
    assert!(
        page.content_type.starts_with("text/html"),
        "{what}: {} {}",
        page.content_type,
        page.body
    );
    assert!(
        page.body.contains("lang=\"zh-CN\""),
        "{what}: {}",
        page.body
    );
    assert!(!page.body.contains("\"type\""), "{what}: {}", page.body);
}

/// Errors raised around the console's handlers (a method the path does not take, a query its
/// extractor refuses) were answered as the API's problem+json; they are Chinese
/// pages like every other console answer.
async fn errors_around_console_handlers_are_chinese_pages(backend: Backend) {
    let app = spawn_app(backend).await;
    let console = Console::sign_in(&app, "han.qi", &[Role::Supervisor]).await;
    // GET on a POST-only path (a link typed or bookmarked by hand).
    let get = console.get("/staff/sign-out").await;
    assert_chinese_error("GET /staff/sign-out", &get, 405);
    assert!(get.body.contains("访问方式有误"), "{}", get.body);
    // A method no console path takes.
    let put = reqwest::Client::new()
        .put(app.url("/staff/cases"))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status().as_u16(), 405);
    let content_type = put.headers()[reqwest::header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .to_string();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    // A query the page's extractor cannot read (a repeated field, a number that is not one).
    let anonymous = Console::anonymous(&app);
    let twice = anonymous
        .get("/staff/login?next=/staff&next=/staff/cases")
        .await;
    assert_chinese_error("repeated next", &twice, 400);
    let not_a_number = console.get("/staff/cases/x?timeline_after=abc").await;
    assert!(
        not_a_number.content_type.starts_with("text/html"),
        "{not_a_number:?}"
    );
    assert!(not_a_number.body.contains("lang=\"zh-CN\""));
    // The API keeps its problem+json.
    let api = reqwest::Client::new()
        .put(app.url("/api/v1/cases"))
        .send()
        .await
        .unwrap();
    let content_type = api.headers()[reqwest::header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        content_type.starts_with("application/problem+json"),
        "{content_type}"
    );
}

/// A batch lookup posted as an ordinary form (not multipart) panicked the handler ("Multipart
/// polled after finish": the refusal drained a body that had already failed) and answered 500.
async fn a_batch_lookup_that_is_not_multipart_is_refused_without_a_panic(backend: Backend) {
    let app = spawn_app(backend).await;
    let console = Console::sign_in(&app, "lu.ba", &[Role::Benefits]).await;
    let page = console
        .post("/staff/suspensions/batch", &[("on", "2026-01-01")])
        .await;
    assert_chinese_error("urlencoded batch", &page, 400);
    assert!(page.body.contains("提交有误"), "{}", page.body);
    console.get("/staff/suspensions").await.ok();
}
