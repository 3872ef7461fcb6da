//! The command line: `probity [serve]`, `migrate`, `user create`, `audit verify`,
//! `check-config`, `mail test`, `import-divisions`, `demo-data`, `generate-cases` and
//! `bench-data` (benchmark data, never in production), `calendar check`, `states`.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};

use crate::audit::{self, Actor};
use crate::clock::Clock;
use crate::domain::roles::Role;
use crate::settings::Settings;
use crate::startup::{open_database, Application};
use crate::{calendar, db, divisions, domain, hashing, notify, telemetry, users};

#[derive(Debug, Parser)]
#[command(
    name = "probity",
    version,
    about = "Probity: reports of poverty-relief abuse, handled by the rules"
)]
pub struct Cli {
    /// Folder holding default.toml and <PROBITY_ENV>.toml.
    #[arg(
        long,
        env = "PROBITY_CONFIG_DIR",
        default_value = "config",
        global = true
    )]
    pub config_dir: PathBuf,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API and web pages (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage staff accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Audit log tools.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Print the effective configuration, secrets redacted.
    CheckConfig,
    /// Mail tools.
    Mail {
        #[command(subcommand)]
        command: MailCommand,
    },
    /// Import administrative divisions from a UTF-8 CSV file (code,name,level,parent_code):
    /// all rows or none; exits 1 and lists the bad lines.
    ImportDivisions {
        /// The CSV file.
        file: PathBuf,
    },
    /// Load the demo data set (寻乌县: townships, villages, officials); safe to run again.
    DemoData,
    /// Add synthetic cases for benchmarks (docs/benchmarks.md): the demo county, ten teams of
    /// ten investigators, and COUNT cases spread over statuses, teams, assignees, villages,
    /// programmes and deadlines around today. Refused in production.
    GenerateCases {
        /// How many cases to add.
        #[arg(long)]
        count: u64,
        /// An existing staff account (username) that joins the first team and gets its share
        /// of that team's cases, for `assignee=me`.
        #[arg(long)]
        assignee: Option<String>,
        /// Varies the spread; the same seed and count give the same queue.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// The working-day calendar (config/calendar/<year>.toml).
    Calendar {
        #[command(subcommand)]
        command: CalendarCommand,
    },
    /// Print the case state machine as a Mermaid state diagram, drawn from the code's own
    /// transition table (docs/case-handling.md holds it).
    States,
    /// Benchmark data for `scripts/bench-benefit-status.sh` (docs/benchmarks.md): generated
    /// villages and suspension periods, into an empty database only; refused in production.
    BenchData {
        /// Villages to generate (100 per township, 100 townships per county).
        #[arg(long, default_value_t = 700_000)]
        villages: u64,
        /// Suspension periods to generate.
        #[arg(long, default_value_t = 100_000)]
        periods: u64,
    },
}

#[derive(Debug, Subcommand)]
pub enum CalendarCommand {
    /// Check the calendar files and print the years they hold and the missing ones; exits 1
    /// naming the file and line of a bad file. A running server reloads on SIGHUP or
    /// `POST /api/v1/calendar/reload`.
    Check {
        /// The folder to check instead of the configured one (`calendar.dir`).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a staff account. The password is read from standard input (prompted on a terminal).
    Create {
        #[arg(long)]
        username: String,
        /// One or more of admin, intake, investigator, supervisor, benefits, auditor.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long)]
        email: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the hash chain; exits 1 and names the first bad entry if it is broken.
    Verify,
}

#[derive(Debug, Subcommand)]
pub enum MailCommand {
    /// Queue a test email through the outbox (sent by a running server with mail enabled).
    Test {
        #[arg(long)]
        to: String,
    },
}

/// Runs one command and returns the exit code to end with: 0 on success, 1 when a check the
/// command makes fails (`audit verify` finds a broken chain, `import-divisions` has bad lines).
///
/// Errors (the caller prints them and exits 2): bad settings or arguments, an unreachable
/// database, a refused input. Never exits the process itself: `main` first shuts the runtime
/// down and waits for the database pools' threads (issue 7, fault 10).
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let settings = Settings::load(&cli.config_dir)?;
    telemetry::init(&settings.log);
    if !settings.generated_secrets.is_empty() {
        tracing::warn!(
            file = %settings.secrets_file().display(),
            secrets = ?settings.generated_secrets,
            "generated development secrets; production must supply its own"
        );
    }
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            tracing::info!(environment = %settings.environment, "starting Probity");
            Application::build(settings)
                .await?
                .run_until_stopped()
                .await?;
        }
        Command::Migrate => {
            open_database(&settings).await?;
            println!("migrations are up to date");
        }
        Command::CheckConfig => {
            print!("{}", settings.redacted_toml());
        }
        Command::States => {
            print!("{}", crate::domain::case_status::mermaid());
        }
        Command::User {
            command:
                UserCommand::Create {
                    username,
                    roles,
                    display_name,
                    email,
                },
        } => {
            let roles = roles
                .iter()
                .map(|r| r.parse::<Role>())
                .collect::<Result<Vec<_>, _>>()?;
            // Code-like arguments fold as the API folds them (domain::text rule 4), so the
            // command line accepts the full-width `ａ＠ｂ．ｃ` that `POST /api/v1/users` accepts.
            let username = domain::text::fold_code(&username).to_lowercase();
            let email = email.map(|e| domain::text::fold_email(&e));
            if let Some(email) = &email {
                domain::email::check(email).map_err(|e| anyhow::anyhow!("--email: {e}"))?;
            }
            let password = read_password()?;
            crate::domain::password_policy::check_policy(&username, &password)?;
            // The same Argon2 pool type as the server's, with one worker for one hash.
            let hash = tokio::task::spawn_blocking(move || {
                let pool = hashing::HashPool::new(1, 1);
                pool.run_blocking(move |memory| hashing::password_hash(memory, &password))
            })
            .await??;
            let new_user = users::NewUser {
                display_name: display_name.unwrap_or_else(|| username.clone()),
                username,
                email,
                roles,
            };
            let id = with_connection(&settings, move |conn| {
                Ok(users::create_user(
                    conn,
                    Clock::system().now_naive(),
                    &Actor::Cli,
                    &new_user,
                    &hash,
                )?)
            })
            .await?;
            println!("created user {id}");
        }
        Command::Audit {
            command: AuditCommand::Verify,
        } => {
            // Read-only: never migrates, so an auditor's newer binary cannot change the schema.
            let url = settings.database.url.clone();
            let report = tokio::task::spawn_blocking(move || {
                let (pool, _) = db::connect(&url, 1, std::time::Duration::from_secs(10))?;
                let mut conn = pool.get()?;
                if db::has_pending_migrations(&mut conn)? {
                    bail!(
                        "the database is not migrated to this version; run `probity migrate` first"
                    );
                }
                Ok::<_, anyhow::Error>(audit::verify(&mut conn)?)
            })
            .await??;
            println!("{}", serde_json::to_string_pretty(&report)?);
            if !report.is_ok() {
                return Ok(ExitCode::from(1));
            }
        }
        Command::Mail {
            command: MailCommand::Test { to },
        } => {
            let to = domain::text::fold_email(&to);
            domain::email::check(&to).map_err(|e| anyhow::anyhow!("--to: {e}"))?;
            let id = with_connection(&settings, move |conn| {
                db::write_tx(conn, |conn| {
                    let id = notify::enqueue(
                        conn,
                        "mail_test",
                        &to,
                        serde_json::json!({ "requested_by": "probity mail test" }),
                    )?;
                    audit::record(
                        conn,
                        Clock::system().now_naive(),
                        &Actor::Cli,
                        "mail.test_queued",
                        "outbox",
                        &id,
                        serde_json::json!({}),
                    )?;
                    Ok::<_, anyhow::Error>(id)
                })
            })
            .await?;
            println!("queued outbox row {id}");
        }
        Command::ImportDivisions { file } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let text = String::from_utf8(bytes).map_err(|_| {
                anyhow::anyhow!(
                    "{} is not UTF-8 text; save it as \"CSV UTF-8\"",
                    file.display()
                )
            })?;
            let outcome = with_connection(&settings, move |conn| {
                Ok(divisions::import_csv(
                    conn,
                    Clock::system().now_naive(),
                    &Actor::Cli,
                    &text,
                ))
            })
            .await?;
            match outcome {
                Ok(c) => println!(
                    "imported divisions: {} inserted, {} updated, {} unchanged",
                    c.inserted, c.updated, c.unchanged
                ),
                Err(divisions::ImportError::Invalid(errors)) => {
                    for e in &errors {
                        eprintln!("{}: {}: {}", file.display(), e.field, e.message);
                    }
                    eprintln!("nothing was imported: {} line(s) have errors", errors.len());
                    return Ok(ExitCode::from(1));
                }
                Err(e) => return Err(e.into()),
            }
        }
        Command::Calendar {
            command: CalendarCommand::Check { dir },
        } => {
            let dir = dir.unwrap_or_else(|| settings.calendar_dir());
            match calendar::load(&dir) {
                Ok((loaded, source)) => {
                    let today = domain::deadlines::today_in_county(Clock::system().now());
                    let years: Vec<String> = loaded.years().iter().map(|y| y.to_string()).collect();
                    match source {
                        calendar::CalendarSource::Folder => {
                            println!("calendar folder: {}", dir.display())
                        }
                        calendar::CalendarSource::Shipped => println!(
                            "calendar folder: {} does not exist; the shipped calendars are used",
                            dir.display()
                        ),
                    }
                    if years.is_empty() {
                        println!("years: none");
                    } else {
                        println!("years: {}", years.join(", "));
                    }
                    for year in loaded.missing_years(today) {
                        println!("missing: {year} (deadlines in it count weekends only)");
                    }
                }
                Err(e) => {
                    eprintln!("probity: calendar invalid: {e}");
                    return Ok(ExitCode::from(1));
                }
            }
        }
        Command::GenerateCases {
            count,
            assignee,
            seed,
        } => {
            if settings.environment == "production" {
                bail!("generate-cases writes synthetic cases: it is refused in production");
            }
            let opts = crate::cases::generate::GenerateOptions {
                count,
                assignee: assignee.map(|a| domain::text::fold_code(&a).to_lowercase()),
                seed,
            };
            let started = std::time::Instant::now();
            let done = with_connection(&settings, move |conn| {
                crate::cases::generate::generate(
                    conn,
                    Clock::system().now_naive(),
                    &Actor::Cli,
                    &opts,
                    |n| {
                        if n % 100_000 == 0 || n == opts.count {
                            eprintln!("generate-cases: {n} of {}", opts.count);
                        }
                    },
                )
            })
            .await?;
            println!(
                "generated {} cases in {:.1} s: {}",
                done.cases,
                started.elapsed().as_secs_f64(),
                serde_json::to_string(&done)?
            );
        }
        Command::BenchData { villages, periods } => {
            if settings.is_production() {
                bail!("bench-data is refused in production: it writes synthetic data");
            }
            let g = with_connection(&settings, move |conn| {
                crate::suspensions::bench_data::generate(conn, villages, periods)
            })
            .await?;
            println!(
                "bench data: {} counties, {} townships, {} villages, {} suspension periods ({} in force)",
                g.counties, g.townships, g.villages, g.periods, g.open
            );
        }
        Command::DemoData => {
            let c = with_connection(&settings, |conn| {
                divisions::demo::load(conn, Clock::system().now_naive(), &Actor::Cli)
            })
            .await?;
            println!(
                "demo data: {} divisions and {} officials added (existing ones are kept)",
                c.divisions_added, c.officials_added
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Opens the database, runs `f` with one connection on a blocking thread, and drops the pool
/// there before returning, so no pool outlives the command.
async fn with_connection<T, F>(settings: &Settings, f: F) -> anyhow::Result<T>
where
    F: FnOnce(&mut db::DbConnection) -> anyhow::Result<T> + Send + 'static,
    T: Send + 'static,
{
    let (pool, _) = open_database(settings).await?;
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get()?;
        f(&mut conn)
    })
    .await?
}

fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let second = rpassword::prompt_password("Repeat password: ")?;
        if first != second {
            bail!("the passwords do not match");
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from standard input")?;
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    }
}
