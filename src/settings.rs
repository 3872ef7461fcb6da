//! Settings: `config/default.toml` (embedded in the binary, so it runs anywhere) → the file for
//! `PROBITY_ENV` (`development` by default) → `PROBITY__SECTION__KEY` environment variables.
//! `DATABASE_URL`, when set, overrides `database.url`.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize, Serializer};

const DEFAULT_TOML: &str = include_str!("../config/default.toml");

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Settings {
    #[serde(default = "default_environment")]
    pub environment: String,
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub data: DataSettings,
    #[serde(default)]
    pub secrets: SecretSettings,
    pub mail: MailSettings,
    pub jobs: JobSettings,
    pub auth: AuthSettings,
    pub reports: ReportSettings,
    #[serde(default)]
    pub deadlines: DeadlineSettings,
    #[serde(default)]
    pub accountability: AccountabilitySettings,
    #[serde(default)]
    pub argon2: Argon2Settings,
    pub log: LogSettings,
    #[serde(default)]
    pub calendar: CalendarSettings,
    #[serde(default)]
    pub benefits: BenefitSettings,
    #[serde(default)]
    pub webhooks: WebhookSettings,
    #[serde(default)]
    pub console: ConsoleSettings,
    /// Secrets generated into the data folder by this load (development only), to be logged
    /// once logging is up.
    #[serde(skip)]
    pub generated_secrets: Vec<&'static str>,
}

fn default_environment() -> String {
    "development".into()
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    pub json_body_limit: usize,
    pub shutdown_timeout_secs: u64,
    pub workers: usize,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct DatabaseSettings {
    pub url: String,
    pub pool_size: u32,
    pub connect_timeout_secs: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct DataSettings {
    pub dir: PathBuf,
}

/// The deployment's secrets. Each is 32 random bytes, hex-encoded.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct SecretSettings {
    /// In development, missing secrets are generated into `<data>/secrets.toml`.
    #[serde(default)]
    pub generate_missing: bool,
    #[serde(default, serialize_with = "redact")]
    pub jwt_signing_key: Option<SecretString>,
    #[serde(default, serialize_with = "redact")]
    pub data_key: Option<SecretString>,
    #[serde(default, serialize_with = "redact")]
    pub receipt_salt: Option<SecretString>,
}

pub const SECRET_NAMES: [&str; 3] = ["jwt_signing_key", "data_key", "receipt_salt"];

impl SecretSettings {
    fn slot(&mut self, name: &str) -> &mut Option<SecretString> {
        match name {
            "jwt_signing_key" => &mut self.jwt_signing_key,
            "data_key" => &mut self.data_key,
            "receipt_salt" => &mut self.receipt_salt,
            other => unreachable!("unknown secret {other}"),
        }
    }

    /// The 32 key bytes of a secret that `Settings::load` has made sure is present.
    pub fn key_bytes(&self, name: &str) -> [u8; 32] {
        let mut copy = self.clone();
        let secret = copy
            .slot(name)
            .clone()
            .expect("secrets are checked at load");
        decode_key(secret.expose_secret()).expect("secrets are checked at load")
    }
}

fn decode_key(hex_key: &str) -> anyhow::Result<[u8; 32]> {
    let bytes = hex::decode(hex_key.trim()).map_err(|_| anyhow!("is not hex"))?;
    bytes
        .try_into()
        .map_err(|_| anyhow!("must be 32 bytes (64 hex characters)"))
}

fn redact<S: Serializer>(value: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(_) => s.serialize_str("[redacted]"),
        None => s.serialize_str("(not set)"),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MailTls {
    None,
    Starttls,
    Tls,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct MailSettings {
    pub enabled: bool,
    pub host: String,
    pub port: u16,
    pub tls: MailTls,
    #[serde(default)]
    pub username: String,
    #[serde(default, serialize_with = "redact")]
    pub password: Option<SecretString>,
    pub from: String,
    pub timeout_secs: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
/// The background jobs worker (`[jobs]`): how often it looks for due jobs, how many it takes at
/// once, retries and the lease. See `crate::jobs`.
pub struct JobSettings {
    /// Whether this instance runs the background jobs loop. Off: jobs are left to other
    /// instances (or to `Worker::run_once`, as the tests do).
    pub worker_enabled: bool,
    /// Idle wait between passes that found nothing to do.
    pub poll_interval_ms: u64,
    /// Jobs claimed per pass.
    pub batch_size: i64,
    /// Tries before a job is `dead`, for jobs that do not set their own.
    pub max_attempts: i32,
    pub backoff_base_secs: u64,
    pub backoff_max_secs: u64,
    /// A claimed job is not claimed again by another worker for this long.
    pub lease_secs: u64,
    /// One run of one job is abandoned (and counts as a failed attempt) after this long.
    pub run_timeout_secs: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct AuthSettings {
    pub issuer: String,
    pub audience: String,
    pub access_token_ttl_secs: u64,
    pub refresh_token_ttl_secs: u64,
    /// Roles that must sign in with TOTP. Accepts a list or a comma-separated string.
    #[serde(deserialize_with = "list_or_csv")]
    pub require_totp_for: Vec<String>,
    /// Failures (per account and per source) before each try must wait.
    pub throttle_after_failures: u32,
    pub throttle_base_delay_secs: u64,
    pub throttle_max_delay_secs: u64,
    /// Failures before the account is locked.
    pub lock_after_failures: u32,
    pub lockout_minutes: u64,
    /// Seconds a verified service API key is trusted from memory before its row is read again
    /// (`auth::api_keys::KeyCache`). A revocation takes effect at once on the instance that
    /// revoked it, and within this many seconds on the others.
    #[serde(default = "default_api_key_cache_secs")]
    pub api_key_cache_secs: u64,
}

fn default_api_key_cache_secs() -> u64 {
    10
}

/// The staff console (`[console]`, issue 13; docs/console.md).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct ConsoleSettings {
    /// A console sign-in ends after this many minutes without a request (default 30).
    pub idle_minutes: u32,
}

impl Default for ConsoleSettings {
    fn default() -> ConsoleSettings {
        ConsoleSettings { idle_minutes: 30 }
    }
}

/// Village benefit suspension (`[benefits]`, SPEC.md rule 4; issue 12).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct BenefitSettings {
    /// Serve the public page `/suspensions` (villages suspended now); off: 404.
    pub public_page: bool,
    /// The benefit offices told by email of every suspension and lift (民政局 for dibao,
    /// 住建局 for house renovation, 扶贫办 for poverty funds). Checked at load.
    pub offices: Vec<BenefitOffice>,
}

impl Default for BenefitSettings {
    fn default() -> BenefitSettings {
        BenefitSettings {
            public_page: true,
            offices: Vec::new(),
        }
    }
}

/// One benefit office: `{ name = "县民政局", programme = "dibao", email = "…" }`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct BenefitOffice {
    pub name: String,
    /// `dibao | house_renovation | poverty_identification | other`: the programme it pays.
    pub programme: String,
    pub email: String,
}

/// Webhook deliveries to disbursement systems (`[webhooks]`; `suspensions::webhooks`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct WebhookSettings {
    /// Accept `http://` subscriber URLs (development and tests); otherwise `https://` only.
    pub allow_http: bool,
    /// Seconds one delivery attempt may take (connect, send, answer).
    pub timeout_secs: u64,
    /// Attempts before a delivery is `dead` (backoff as every job: `jobs.backoff_*`).
    pub max_attempts: i32,
}

impl Default for WebhookSettings {
    fn default() -> WebhookSettings {
        WebhookSettings {
            allow_http: false,
            timeout_secs: 10,
            max_attempts: 12,
        }
    }
}

impl BenefitSettings {
    /// Checks every office: a name, a known programme, a valid email address.
    ///
    /// Errors: the first bad office, by its position and field.
    pub fn check(&self) -> anyhow::Result<()> {
        for (i, office) in self.offices.iter().enumerate() {
            if office.name.trim().is_empty() {
                bail!("benefits.offices[{i}].name is empty");
            }
            if crate::domain::report::Programme::parse(&office.programme).is_none() {
                bail!(
                    "benefits.offices[{i}].programme {:?} is not one of {}",
                    office.programme,
                    crate::domain::report::Programme::names()
                );
            }
            if !crate::domain::email::is_valid(&office.email) {
                bail!(
                    "benefits.offices[{i}].email {:?} is not an email address",
                    office.email
                );
            }
        }
        Ok(())
    }
}

/// Deadlines no rule fixes (`[deadlines]`, SPEC.md: "Deadlines that no rule fixes are
/// configuration"). A key left out takes its default.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct DeadlineSettings {
    /// Calendar days for a preliminary verification (初步核实) from the day it is decided
    /// (SPEC.md: "Preliminary verification defaults to 60 days").
    pub preliminary_verification_days: u32,
    /// Calendar days for the primary investigation of a filed case, from the filing day (90:
    /// the limit on 审查调查 in the commission's supervision rules).
    pub investigation_days: u32,
    /// Calendar days for the accountability investigation (一案双查), from the filing day
    /// (SPEC.md: "the accountability investigation [defaults] to 90 days").
    pub accountability_days: u32,
}

impl Default for DeadlineSettings {
    fn default() -> DeadlineSettings {
        DeadlineSettings {
            preliminary_verification_days: 60,
            investigation_days: 90,
            accountability_days: 90,
        }
    }
}

/// One case, two investigations (`[accountability]`, SPEC.md rule 2).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct AccountabilitySettings {
    /// Subject level → the level whose leadership an accountability investigation looks into
    /// (`village = "township"`, `township = "county"` by default). Checked at load: each target
    /// lies above its key.
    pub escalation: crate::domain::investigation::EscalationMap,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ReportSettings {
    /// Files per submission or upload request.
    pub max_attachments: usize,
    pub max_attachment_bytes: u64,
    /// How long an Idempotency-Key replay returns the saved answer.
    pub idempotency_hours: u64,
    pub reporter_session_minutes: u64,
    /// Working days to accept or transfer a report (Art 14, 16).
    pub triage_working_days: u32,
    /// Working days to acknowledge a real-name report.
    pub acknowledge_working_days: u32,
    /// Rate limits, per source address (in memory only) and for the whole instance.
    pub submit_per_source_per_hour: u32,
    pub submit_global_per_minute: u32,
    pub receipt_checks_per_source_per_hour: u32,
    pub receipt_checks_global_per_minute: u32,
}

fn list_or_csv<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum ListOrCsv {
        List(Vec<String>),
        Csv(String),
    }
    Ok(match ListOrCsv::deserialize(d)? {
        ListOrCsv::List(v) => v,
        ListOrCsv::Csv(s) => s
            .split(',')
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
            .collect(),
    })
}

/// The bounded pool every Argon2 hash runs on (receipt codes, staff passwords); see
/// `crate::hashing` and issue 7, "Memory under load".
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Argon2Settings {
    /// Hashing threads, each holding one reused memory block (up to 19 MiB); 0 means one per core.
    pub workers: usize,
    /// Hashes that may wait for a worker; beyond that the server answers 503 `server_busy`.
    pub queue_capacity: usize,
}

impl Default for Argon2Settings {
    fn default() -> Argon2Settings {
        Argon2Settings {
            workers: 0,
            queue_capacity: 256,
        }
    }
}

/// Where the working-day calendar is read from (see `docs/calendar.md`).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct CalendarSettings {
    /// The folder of `<year>.toml` files; `<config dir>/calendar` when not set (filled in by
    /// [`Settings::load_with`], so it is always `Some` afterwards). When the folder does not
    /// exist, the calendars compiled into the binary are used.
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct LogSettings {
    pub level: String,
    pub format: String,
}

impl Settings {
    /// Loads settings from `config_dir` for the environment named by `PROBITY_ENV`.
    pub fn load(config_dir: &Path) -> anyhow::Result<Settings> {
        let environment = std::env::var("PROBITY_ENV").unwrap_or_else(|_| "development".into());
        Self::load_with(config_dir, &environment, &[])
    }

    /// Like `load`, for a named environment, with `overrides` (`section.key`, value) applied last.
    /// Tests use this to point the data folder and database at temporary places.
    pub fn load_with(
        config_dir: &Path,
        environment: &str,
        overrides: &[(&str, String)],
    ) -> anyhow::Result<Settings> {
        if !matches!(environment, "development" | "production" | "test") {
            bail!("PROBITY_ENV must be development, production or test, not {environment:?}");
        }
        let env_file = config_dir.join(format!("{environment}.toml"));
        if environment == "production" && !env_file.exists() {
            bail!(
                "{} is missing: production needs its configuration file (set PROBITY_CONFIG_DIR \
                 or --config-dir to the folder holding it)",
                env_file.display()
            );
        }
        let mut builder = config::Config::builder()
            .add_source(config::File::from_str(
                DEFAULT_TOML,
                config::FileFormat::Toml,
            ))
            .add_source(config::File::from(config_dir.join("default.toml")).required(false))
            .add_source(config::File::from(env_file).required(false))
            .add_source(
                config::Environment::with_prefix("PROBITY")
                    .prefix_separator("__")
                    .separator("__"),
            )
            .set_override("environment", environment)?;
        if let Ok(url) = std::env::var("DATABASE_URL") {
            builder = builder.set_override("database.url", url)?;
        }
        for (key, value) in overrides {
            builder = builder.set_override(*key, value.clone())?;
        }
        let mut settings: Settings = builder
            .build()
            .context("reading configuration")?
            .try_deserialize()
            .context("configuration is invalid")?;
        if settings.calendar.dir.is_none() {
            settings.calendar.dir = Some(config_dir.join("calendar"));
        }
        settings.resolve_secrets()?;
        settings.benefits.check()?;
        if settings.console.idle_minutes == 0 {
            anyhow::bail!("console.idle_minutes must be at least 1");
        }
        Ok(settings)
    }

    pub fn is_production(&self) -> bool {
        self.environment == "production"
    }

    /// The calendar folder: `calendar.dir`, or `<config dir>/calendar`.
    pub fn calendar_dir(&self) -> PathBuf {
        self.calendar
            .dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("config/calendar"))
    }

    pub fn secrets_file(&self) -> PathBuf {
        self.data.dir.join("secrets.toml")
    }

    /// Fills missing secrets from `<data>/secrets.toml`, generating that file in development.
    /// In production every secret must come from configuration; the error lists what is missing.
    fn resolve_secrets(&mut self) -> anyhow::Result<()> {
        let generate = self.secrets.generate_missing && !self.is_production();
        if generate {
            let file = self.secrets_file();
            let stored = read_secrets_file(&file)?;
            let mut generated = Vec::new();
            let mut to_store = stored.clone();
            for name in SECRET_NAMES {
                if self.secrets.slot(name).is_some() {
                    continue;
                }
                let value = match table_str(&stored, name) {
                    Some(v) => v,
                    None => {
                        let mut key = [0u8; 32];
                        rand::rngs::OsRng.fill_bytes(&mut key);
                        let v = hex::encode(key);
                        to_store.insert(name.to_string(), toml::Value::String(v.clone()));
                        generated.push(name);
                        v
                    }
                };
                *self.secrets.slot(name) = Some(SecretString::from(value));
            }
            if !generated.is_empty() {
                write_secrets_file(&file, &to_store)?;
                self.generated_secrets = generated;
            }
        }
        let missing: Vec<String> = SECRET_NAMES
            .iter()
            .filter(|n| self.secrets.slot(n).is_none())
            .map(|n| format!("PROBITY__SECRETS__{}", n.to_uppercase()))
            .collect();
        if !missing.is_empty() {
            bail!(
                "missing required secrets: {}. Each is 32 random bytes as 64 hex characters \
                 (for example `openssl rand -hex 32`)",
                missing.join(", ")
            );
        }
        for name in SECRET_NAMES {
            let secret = self.secrets.slot(name).clone().expect("checked above");
            decode_key(secret.expose_secret())
                .with_context(|| format!("secret {name} is malformed"))?;
        }
        Ok(())
    }

    /// The effective configuration as TOML, secrets redacted.
    pub fn redacted_toml(&self) -> String {
        let mut shown = self.clone();
        shown.database.url = crate::db::mask_url(&self.database.url);
        toml::to_string_pretty(&shown).unwrap_or_else(|e| format!("# cannot render: {e}"))
    }
}

fn read_secrets_file(path: &Path) -> anyhow::Result<toml::Table> {
    match std::fs::read_to_string(path) {
        Ok(text) => text
            .parse::<toml::Table>()
            .with_context(|| format!("{} is not valid TOML", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(toml::Table::new()),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
    .map(|table| {
        table
            .into_iter()
            .filter(|(_, v)| v.is_str())
            .collect::<toml::Table>()
    })
}

fn table_str(table: &toml::Table, key: &str) -> Option<String> {
    table.get(key).and_then(|v| v.as_str().map(str::to_owned))
}

fn write_secrets_file(path: &Path, table: &toml::Table) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let text = format!(
        "# Development secrets generated by Probity. Never use these in production.\n{}",
        toml::to_string(table)?
    );
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    use std::io::Write;
    let mut file = options
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    Ok(())
}
