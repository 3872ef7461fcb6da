//! The `probity` binary itself: bootstrap an admin, verify the audit chain.

use std::io::Write;
use std::process::{Command, Stdio};

use probity::db::Backend;

use crate::helpers::TestDatabase;

pub fn tests() -> Vec<(&'static str, crate::helpers::AsyncTest)> {
    crate::tests![
        user_create_bootstraps_an_admin_and_audit_verify_passes,
        serve_stops_gracefully_on_sigterm,
    ]
}

pub(crate) fn probity(
    db: &TestDatabase,
    args: &[&str],
    stdin: Option<&str>,
) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_probity"))
        .args(args)
        .env("PROBITY_ENV", "development")
        .env("DATABASE_URL", &db.url)
        .env("PROBITY__DATA__DIR", db.dir())
        .env("PROBITY__LOG__LEVEL", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("probity runs");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    child.wait_with_output().unwrap()
}

async fn user_create_bootstraps_an_admin_and_audit_verify_passes(backend: Backend) {
    let db = std::sync::Arc::new(TestDatabase::create(backend));
    let out = probity(
        &db,
        &[
            "user",
            "create",
            "--username",
            "admin",
            "--role",
            "admin",
            "--email",
            "admin@probity.test",
        ],
        Some("a long admin passphrase\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("created user"));

    // The same username again is refused with a clear message.
    let again = probity(
        &db,
        &["user", "create", "--username", "admin", "--role", "admin"],
        Some("a long admin passphrase\n"),
    );
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("taken"));

    // A short password is refused by policy.
    let short = probity(
        &db,
        &["user", "create", "--username", "bob", "--role", "intake"],
        Some("short\n"),
    );
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 12"));

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(db.dir()).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "the data folder is private");
    }

    let verify = probity(&db, &["audit", "verify"], None);
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&verify.stdout).unwrap();
    assert_eq!(report["status"], "ok");
    assert_eq!(report["checked"], 1, "one audit entry: the user's creation");

    let config = probity(&db, &["check-config"], None);
    assert!(config.status.success());
    let shown = String::from_utf8_lossy(&config.stdout);
    assert!(shown.contains("[redacted]"));
    let secrets: toml::Table = std::fs::read_to_string(db.dir().join("secrets.toml"))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(secrets.len(), 3);
    for (name, value) in secrets {
        assert!(
            !shown.contains(value.as_str().unwrap()),
            "{name} leaked by check-config"
        );
    }

    // The bootstrapped admin signs in through the API and creates another account.
    let app = crate::helpers::app(backend)
        .with_database(db.clone())
        .spawn()
        .await;
    let login = app.login("admin", "a long admin passphrase").await;
    assert_eq!(login.status(), 200);
    let token: serde_json::Value = login.json().await.unwrap();
    let created = app
        .post_as(
            "/api/v1/users",
            token["access_token"].as_str().unwrap(),
            &serde_json::json!({"username": "intake1", "display_name": "信访室 一",
                                "roles": ["intake"], "password": "another long passphrase"}),
        )
        .await;
    assert_eq!(created.status(), 201);
}

/// The real binary serves, and SIGTERM stops it gracefully with exit status 0.
async fn serve_stops_gracefully_on_sigterm(backend: Backend) {
    use std::io::{BufRead, BufReader};
    let db = TestDatabase::create(backend);
    let mut child = Command::new(env!("CARGO_BIN_EXE_probity"))
        .arg("serve")
        .env("PROBITY_ENV", "development")
        .env("DATABASE_URL", &db.url)
        .env("PROBITY__DATA__DIR", db.dir())
        .env("PROBITY__SERVER__PORT", "0")
        .env("PROBITY__SERVER__WORKERS", "1")
        .env("PROBITY__LOG__LEVEL", "info")
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
    let health = reqwest::get(format!("http://127.0.0.1:{port}/healthz"))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let rest: Vec<String> =
        tokio::task::spawn_blocking(move || lines.map_while(Result::ok).collect())
            .await
            .unwrap();
    let exit = child.wait().unwrap();
    assert!(exit.success(), "exit status {exit}");
    assert!(
        rest.iter().any(|l| l.contains("graceful shutdown")),
        "{rest:?}"
    );
    assert!(
        rest.iter().any(|l| l.contains("Probity stopped")),
        "{rest:?}"
    );
}
