//! Issue 7, fault 10: every `probity` command exits in order, with the exit code it means, on
//! both backends; and the CLI refuses email addresses the API refuses.

use probity::db::Backend;

use crate::cli::probity;
use crate::helpers::TestDatabase;

pub fn tests() -> Vec<(&'static str, crate::helpers::AsyncTest)> {
    crate::tests![
        thirty_user_creates_in_a_row_all_exit_with_their_code,
        cli_refuses_email_addresses_the_api_refuses,
    ]
}

const PASSWORD: &str = "a long admin passphrase\n";

/// On PostgreSQL about one run in four used to end in SIGSEGV (139) or SIGABRT (134) after
/// printing its answer: r2d2 was still opening a connection (libpq, OpenSSL) on its own thread
/// while `exit` ran OpenSSL's cleanup. 30 runs, alternating a created user and a refused bad
/// username, must each end with exactly their code: 0, and 2 with the reason.
async fn thirty_user_creates_in_a_row_all_exit_with_their_code(backend: Backend) {
    let db = std::sync::Arc::new(TestDatabase::create(backend));
    let db_for_runs = db.clone();
    let outcomes = tokio::task::spawn_blocking(move || {
        (0..30)
            .map(|i| {
                let good = format!("clerk{i}");
                let username = if i % 2 == 0 {
                    good.as_str()
                } else {
                    "Bad Name!"
                };
                let out = probity(
                    &db_for_runs,
                    &["user", "create", "--username", username, "--role", "intake"],
                    Some(PASSWORD),
                );
                (i, out)
            })
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    for (i, out) in outcomes {
        let stderr = String::from_utf8_lossy(&out.stderr);
        if i % 2 == 0 {
            assert_eq!(
                out.status.code(),
                Some(0),
                "run {i}: {:?} {stderr}",
                out.status
            );
            assert!(String::from_utf8_lossy(&out.stdout).contains("created user"));
        } else {
            assert_eq!(
                out.status.code(),
                Some(2),
                "run {i}: {:?} {stderr}",
                out.status
            );
            assert!(stderr.contains("username must be"), "run {i}: {stderr}");
        }
    }
    // And a read-only command the same way.
    let verify = probity(&db, &["audit", "verify"], None);
    assert_eq!(verify.status.code(), Some(0), "{:?}", verify.status);
}

/// `user create --email` and `mail test --to` use the API's own address rule: a line break,
/// a header injection and a malformed address are refused with exit 2 and the reason, and
/// nothing is written.
async fn cli_refuses_email_addresses_the_api_refuses(backend: Backend) {
    let db = TestDatabase::create(backend);
    for (i, bad) in [
        "clerk@example.org\nBcc: all@example.org",
        "clerk@exam\r\nple.org",
        "not an address",
    ]
    .into_iter()
    .enumerate()
    {
        let username = format!("clerk{i}");
        let create = probity(
            &db,
            &[
                "user",
                "create",
                "--username",
                &username,
                "--role",
                "intake",
                "--email",
                bad,
            ],
            Some(PASSWORD),
        );
        let stderr = String::from_utf8_lossy(&create.stderr);
        assert_eq!(create.status.code(), Some(2), "{bad:?}: {stderr}");
        assert!(
            stderr.contains("--email: not a valid email address"),
            "{stderr}"
        );
        assert!(!String::from_utf8_lossy(&create.stdout).contains("created user"));

        let mail = probity(&db, &["mail", "test", "--to", bad], None);
        let stderr = String::from_utf8_lossy(&mail.stderr);
        assert_eq!(mail.status.code(), Some(2), "{bad:?}: {stderr}");
        assert!(
            stderr.contains("--to: not a valid email address"),
            "{stderr}"
        );
    }
    // Nothing was written: a good address now creates the first user and queues the first mail.
    let create = probity(
        &db,
        &[
            "user",
            "create",
            "--username",
            "clerk",
            "--role",
            "intake",
            "--email",
            "clerk@example.org",
        ],
        Some(PASSWORD),
    );
    assert_eq!(create.status.code(), Some(0), "{:?}", create.status);
    let mail = probity(&db, &["mail", "test", "--to", "clerk@example.org"], None);
    assert_eq!(mail.status.code(), Some(0), "{:?}", mail.status);
    let verify = probity(&db, &["audit", "verify"], None);
    let report: serde_json::Value = serde_json::from_slice(&verify.stdout).unwrap();
    assert_eq!(
        report["checked"], 2,
        "only the good user and the good mail were recorded"
    );
}
