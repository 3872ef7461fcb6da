//! `spawn_app`: a real server on a random port over a fresh database — a new SQLite file, or a
//! new PostgreSQL database created for the test and dropped after it.

use std::future::Future;
use std::io::Write;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use probity::clock::Clock;
use probity::db::{Backend, DbConnection, DbPool};
use probity::domain::roles::Role;
use probity::jobs::worker::Worker;
use probity::settings::{LogSettings, Settings};
use probity::startup::{Application, ExtraJobs, ExtraRoutes};

pub const PG_ENV: &str = "PROBITY_TEST_DATABASE_URL";

pub type AsyncTest = fn(Backend) -> Pin<Box<dyn Future<Output = ()> + Send>>;

/// Lists a module's tests: `tests![a, b]` → `vec![("a", a), ("b", b)]`.
#[macro_export]
macro_rules! tests {
    ($($name:ident),* $(,)?) => {
        vec![$((stringify!($name), (|b| Box::pin($name(b))) as $crate::helpers::AsyncTest)),*]
    };
}

// ---------- logs ----------

/// Everything the server logs during the test run, for tests that inspect log lines.
pub fn captured_logs() -> String {
    String::from_utf8_lossy(&log_buffer().lock().unwrap()).into_owned()
}

fn log_buffer() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| Arc::new(Mutex::new(Vec::new())))
}

struct CapturingWriter {
    echo: bool,
}

impl Write for CapturingWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        log_buffer().lock().unwrap().extend_from_slice(buf);
        if self.echo {
            std::io::stderr().write_all(buf)?;
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub fn init_logging() {
    let echo = std::env::var("TEST_LOG").is_ok();
    probity::telemetry::init_with_writer(
        &LogSettings {
            level: "info".into(),
            format: "pretty".into(),
        },
        move || CapturingWriter { echo },
    );
}

// ---------- databases ----------

pub fn backends() -> Vec<Backend> {
    let mut backends = vec![Backend::Sqlite];
    if std::env::var(PG_ENV).is_ok_and(|v| !v.trim().is_empty()) {
        backends.push(Backend::Postgres);
    }
    backends
}

/// A database that exists for one test.
pub struct TestDatabase {
    pub url: String,
    pg_admin: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

impl TestDatabase {
    pub fn create(backend: Backend) -> TestDatabase {
        let dir = tempfile::tempdir().expect("temp dir");
        match backend {
            Backend::Sqlite => TestDatabase {
                url: dir.path().join("probity.db").display().to_string(),
                pg_admin: None,
                _dir: dir,
            },
            Backend::Postgres => {
                let admin_url = std::env::var(PG_ENV).expect("PostgreSQL test URL");
                let name = format!("probity_test_{}", uuid::Uuid::new_v4().simple());
                let mut admin = PgConnection::establish(&admin_url)
                    .unwrap_or_else(|e| panic!("cannot reach PostgreSQL at {PG_ENV}: {e}"));
                admin
                    .batch_execute(&format!("CREATE DATABASE {name}"))
                    .expect("create test database");
                let mut url = url::Url::parse(&admin_url).expect("valid PostgreSQL URL");
                url.set_path(&name);
                TestDatabase {
                    url: url.to_string(),
                    pg_admin: Some((admin_url, name)),
                    _dir: dir,
                }
            }
        }
    }

    pub fn dir(&self) -> &Path {
        self._dir.path()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = &self.pg_admin {
            if let Ok(mut admin) = PgConnection::establish(admin_url) {
                let _ =
                    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

// ---------- the app ----------

pub struct TestApp {
    pub address: String,
    pub pool: DbPool,
    pub settings: Settings,
    pub client: reqwest::Client,
    pub db: Arc<TestDatabase>,
    /// The clock this instance reads: frozen when built with `.clock(..)`.
    pub clock: Clock,
    /// The instance's jobs worker: `run_once()` drives it without waiting.
    pub jobs: Arc<Worker>,
    handle: actix_web::dev::ServerHandle,
}

pub struct TestAppBuilder {
    backend: Backend,
    overrides: Vec<(&'static str, String)>,
    extra: Option<ExtraRoutes>,
    extra_jobs: Option<ExtraJobs>,
    clock: Option<Clock>,
    db: Option<Arc<TestDatabase>>,
}

pub fn app(backend: Backend) -> TestAppBuilder {
    TestAppBuilder {
        backend,
        overrides: Vec::new(),
        extra: None,
        extra_jobs: None,
        clock: None,
        db: None,
    }
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    app(backend).spawn().await
}

fn random_key() -> String {
    use rand::RngCore;
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    hex::encode(key)
}

impl TestAppBuilder {
    /// Overrides one setting, e.g. `.set("mail.enabled", "true")`.
    pub fn set(mut self, key: &'static str, value: impl ToString) -> Self {
        self.overrides.push((key, value.to_string()));
        self
    }

    pub fn extra_routes(mut self, extra: ExtraRoutes) -> Self {
        self.extra = Some(extra);
        self
    }

    /// Serve with this clock (e.g. `Clock::frozen(..)`, shared by several instances); move it
    /// with `clock.set` / `clock.advance`, then drive the jobs with `jobs.run_once()`.
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Registers extra job kinds (test probes) beside the real ones.
    pub fn extra_jobs(mut self, extra: ExtraJobs) -> Self {
        self.extra_jobs = Some(extra);
        self
    }

    /// Mail on, delivered to the given test SMTP port, with fast retries.
    pub fn mail_to(self, smtp_port: u16) -> Self {
        self.set("mail.enabled", "true")
            .set("mail.host", "127.0.0.1")
            .set("mail.port", smtp_port)
            .set("mail.tls", "none")
            .set("jobs.poll_interval_ms", "100")
            .set("jobs.backoff_base_secs", "0")
            .set("jobs.backoff_max_secs", "0")
    }

    /// Serve over the database of another test app (several instances on one database).
    pub fn sharing_database(mut self, other: &TestApp) -> Self {
        self.db = Some(other.db.clone());
        self
    }

    pub fn with_database(mut self, db: Arc<TestDatabase>) -> Self {
        self.db = Some(db);
        self
    }

    pub fn settings(&self, db: &TestDatabase) -> Settings {
        let mut overrides: Vec<(&str, String)> = vec![
            ("server.host", "127.0.0.1".into()),
            ("server.port", "0".into()),
            ("server.workers", "1".into()),
            ("server.shutdown_timeout_secs", "1".into()),
            ("database.url", db.url.clone()),
            ("database.pool_size", "4".into()),
            ("data.dir", db.dir().display().to_string()),
            ("secrets.jwt_signing_key", random_key()),
            ("secrets.data_key", random_key()),
            ("secrets.receipt_salt", random_key()),
            ("mail.enabled", "false".into()),
        ];
        overrides.extend(self.overrides.iter().cloned());
        Settings::load_with(Path::new("config"), "test", &overrides).expect("test settings load")
    }

    pub async fn spawn(self) -> TestApp {
        let db = self
            .db
            .clone()
            .unwrap_or_else(|| Arc::new(TestDatabase::create(self.backend)));
        let settings = self.settings(&db);
        let settings_copy = settings.clone();
        let application = Application::builder(settings)
            .clock(self.clock.clone().unwrap_or_else(Clock::system))
            .extra_routes(self.extra)
            .extra_jobs(self.extra_jobs)
            .build()
            .await
            .expect("application builds");
        let address = format!("http://127.0.0.1:{}", application.port());
        let pool = application.pool();
        let handle = application.handle();
        let clock = application.clock();
        let jobs = application.jobs();
        tokio::spawn(application.run_until_stopped());
        TestApp {
            address,
            pool,
            settings: settings_copy,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            db,
            clock,
            jobs,
            handle,
        }
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request sent")
    }

    /// Runs blocking database work with a pooled connection.
    pub async fn db<T, F>(&self, f: F) -> T
    where
        F: FnOnce(&mut DbConnection) -> T + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || f(&mut pool.get().expect("pooled connection")))
            .await
            .expect("database task")
    }

    pub async fn stop(&self) {
        self.handle.stop(true).await;
    }

    /// The server's handle, for tests that stop it while something else is going on.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.handle.clone()
    }
}

/// Asserts an answer is problem+json with the given status and code, and returns the document.
pub async fn assert_problem(
    response: reqwest::Response,
    status: u16,
    code: &str,
) -> serde_json::Value {
    assert_eq!(response.status().as_u16(), status, "status");
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    assert_eq!(content_type, "application/problem+json");
    let body: serde_json::Value = response.json().await.expect("problem body is JSON");
    assert_eq!(body["code"], code, "problem code in {body}");
    assert_eq!(body["status"], status, "problem status in {body}");
    assert!(body["title"].is_string() && body["detail"].is_string() && body["type"].is_string());
    body
}

/// Polls `check` until it returns Some or the timeout passes.
pub async fn eventually<T, F, Fut>(timeout: std::time::Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = std::time::Instant::now();
    loop {
        if let Some(v) = check().await {
            return Some(v);
        }
        if start.elapsed() > timeout {
            return None;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

// ---------- staff ----------

pub const PASSWORD: &str = "correct horse battery staple 2026";

impl TestApp {
    /// Creates a staff account directly (as `probity user create` does) and returns its id.
    pub async fn create_staff(
        &self,
        username: &str,
        roles: &[Role],
        email: Option<&str>,
    ) -> String {
        let user = probity::users::NewUser {
            username: username.to_string(),
            display_name: format!("测试 {username}"),
            email: email.map(str::to_string),
            roles: roles.to_vec(),
        };
        let now = self.clock.now_naive();
        self.db(move |conn| {
            let mut memory = probity::hashing::Memory::standalone();
            let hash = probity::hashing::password_hash(&mut memory, PASSWORD).unwrap();
            probity::users::create_user(conn, now, &probity::audit::Actor::Cli, &user, &hash)
                .unwrap()
        })
        .await
    }

    pub async fn login(&self, username: &str, password: &str) -> reqwest::Response {
        self.client
            .post(self.url("/api/v1/auth/login"))
            .json(&serde_json::json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap()
    }

    /// A signed-in staff member with these roles: (user id, access token, refresh token).
    pub async fn signed_in(&self, username: &str, roles: &[Role]) -> (String, String, String) {
        let id = self.create_staff(username, roles, None).await;
        let response = self.login(username, PASSWORD).await;
        assert_eq!(response.status(), 200, "login of {username}");
        let body: serde_json::Value = response.json().await.unwrap();
        (
            id,
            body["access_token"].as_str().unwrap().to_string(),
            body["refresh_token"].as_str().unwrap().to_string(),
        )
    }

    pub async fn get_as(&self, path: &str, token: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_as(
        &self,
        path: &str,
        token: &str,
        body: &serde_json::Value,
    ) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }
}

// ---------- reference data ----------

/// (code, name, level, parent code)
pub type DivisionRow = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
);

impl TestApp {
    /// Inserts divisions directly, marked demo.
    pub async fn insert_divisions(&self, rows: &'static [DivisionRow]) {
        use diesel::prelude::*;
        use probity::db::schema::divisions;
        self.db(move |conn| {
            for (code, name, level, parent) in rows {
                diesel::insert_into(divisions::table)
                    .values((
                        divisions::code.eq(*code),
                        divisions::name.eq(*name),
                        divisions::level.eq(*level),
                        divisions::parent_code.eq(*parent),
                        divisions::demo.eq(true),
                    ))
                    .execute(conn)
                    .unwrap();
            }
        })
        .await;
    }
}
