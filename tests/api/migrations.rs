//! Checks that do not need a running server: the migration folders, settings, start-up errors.

use std::collections::BTreeSet;
use std::path::Path;

use libtest_mimic::{Failed, Trial};
use probity::settings::Settings;

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test(
            "migrations::both_backends_have_the_same_migrations",
            same_migrations,
        ),
        Trial::test(
            "settings::production_refuses_to_start_without_secrets",
            production_needs_secrets,
        ),
        Trial::test(
            "settings::development_generates_private_secrets",
            development_generates_secrets,
        ),
        Trial::test(
            "startup::an_unreachable_database_is_named_with_its_cause",
            unreachable_database,
        ),
    ]
}

fn migration_names(folder: &str) -> BTreeSet<String> {
    std::fs::read_dir(Path::new("migrations").join(folder))
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().is_dir())
        .map(|e| {
            for file in ["up.sql", "down.sql"] {
                assert!(e.path().join(file).exists(), "{:?} lacks {file}", e.path());
            }
            e.file_name().to_string_lossy().into_owned()
        })
        .collect()
}

fn same_migrations() -> Result<(), Failed> {
    let sqlite = migration_names("sqlite");
    let postgres = migration_names("postgres");
    if sqlite.is_empty() {
        return Err("no migrations found".into());
    }
    if sqlite != postgres {
        return Err(format!("sqlite {sqlite:?} != postgres {postgres:?}").into());
    }
    Ok(())
}

fn production_needs_secrets() -> Result<(), Failed> {
    let dir = tempfile::tempdir().unwrap();
    let err = Settings::load_with(
        Path::new("config"),
        "production",
        &[("data.dir", dir.path().display().to_string())],
    )
    .err()
    .ok_or("production started without secrets")?;
    let message = format!("{err:#}");
    for name in [
        "PROBITY__SECRETS__JWT_SIGNING_KEY",
        "PROBITY__SECRETS__DATA_KEY",
        "PROBITY__SECRETS__RECEIPT_SALT",
    ] {
        if !message.contains(name) {
            return Err(format!("{name} not named in: {message}").into());
        }
    }
    if dir.path().join("secrets.toml").exists() {
        return Err("production must not generate secrets".into());
    }
    Ok(())
}

fn development_generates_secrets() -> Result<(), Failed> {
    let dir = tempfile::tempdir().unwrap();
    let overrides = [("data.dir", dir.path().display().to_string())];
    let first = Settings::load_with(Path::new("config"), "development", &overrides)?;
    let file = dir.path().join("secrets.toml");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file)?.permissions().mode() & 0o777;
        if mode != 0o600 {
            return Err(format!("secrets.toml has mode {mode:o}").into());
        }
    }
    // A second start reuses the stored secrets.
    let second = Settings::load_with(Path::new("config"), "development", &overrides)?;
    if first.secrets.key_bytes("data_key") != second.secrets.key_bytes("data_key") {
        return Err("the data key changed between starts".into());
    }
    let shown = first.redacted_toml();
    let key = hex::encode(first.secrets.key_bytes("data_key"));
    if shown.contains(&key) || !shown.contains("[redacted]") {
        return Err(format!("check-config output leaks or does not redact: {shown}").into());
    }
    Ok(())
}

fn unreachable_database() -> Result<(), Failed> {
    let err = match probity::db::connect(
        "postgres://probity:hunter2@127.0.0.1:9/nodb",
        1,
        std::time::Duration::from_secs(2),
    ) {
        Ok(_) => return Err("connected to a closed port".into()),
        Err(e) => format!("{e:#}"),
    };
    if !err.contains("postgres://probity:***@127.0.0.1:9/nodb") || err.contains("hunter2") {
        return Err(format!("URL not named or not masked: {err}").into());
    }
    if !err.to_lowercase().contains("connect") {
        return Err(format!("cause missing: {err}").into());
    }
    Ok(())
}
