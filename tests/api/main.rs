//! Probity's API tests: one binary, every test run once per backend — SQLite always, and
//! PostgreSQL when `PROBITY_TEST_DATABASE_URL` is set. The run says which backends it covered.

mod helpers;
mod smtp;

mod audit;
mod auth;
mod auth_hardening;
mod busy;
mod calendar;
mod cases;
mod cli;
mod cli_exit;
mod divisions;
mod errors;
mod evidence;
mod health;
mod jobs;
mod logging;
mod migrations;
mod openapi;
mod outbox;
mod reports;
mod review_fixes;
mod routing;
mod rules;
mod staged_files;
mod text_input;
mod triage;
mod web;

mod assign;
mod clawbacks;
mod custodian;
mod lifecycle;
mod messages;
mod objections;
mod queue;
mod reminders;
mod suspensions;

mod console;
mod console_admin;
mod console_benefits;
mod console_browser;
mod console_cases;
mod console_intake;
mod console_sections;

use std::panic::AssertUnwindSafe;

use libtest_mimic::{Arguments, Failed, Trial};
use probity::db::Backend;

fn all_tests() -> Vec<(&'static str, Vec<(&'static str, helpers::AsyncTest)>)> {
    vec![
        ("health", health::tests()),
        ("errors", errors::tests()),
        ("audit", audit::tests()),
        ("auth", auth::tests()),
        ("auth_hardening", auth_hardening::tests()),
        ("jobs", jobs::tests()),
        ("outbox", outbox::tests()),
        ("logging", logging::tests()),
        ("cli", cli::tests()),
        ("cli_exit", cli_exit::tests()),
        ("busy", busy::tests()),
        ("divisions", divisions::tests()),
        ("reports", reports::tests()),
        ("staged_files", staged_files::tests()),
        ("rules", rules::tests()),
        ("web", web::tests()),
        ("text_input", text_input::tests()),
        ("evidence", evidence::tests()),
        ("openapi", openapi::tests()),
        ("review_fixes", review_fixes::tests()),
        ("routing", routing::tests()),
        ("calendar", calendar::tests()),
        ("triage", triage::tests()),
        ("cases", cases::tests()),
        ("custodian", custodian::tests()),
        ("assign", assign::tests()),
        ("queue", queue::tests()),
        ("reminders", reminders::tests()),
        ("messages", messages::tests()),
        ("suspensions", suspensions::tests()),
        ("lifecycle", lifecycle::tests()),
        ("console", console::tests()),
        ("console_intake", console_intake::tests()),
        ("console_cases", console_cases::tests()),
        ("console_sections", console_sections::tests()),
        ("console_benefits", console_benefits::tests()),
        ("console_admin", console_admin::tests()),
        ("objections", objections::tests()),
        ("clawbacks", clawbacks::tests()),
    ]
}

fn run(backend: Backend, test: helpers::AsyncTest) -> Result<(), Failed> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| runtime.block_on(test(backend))));
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    outcome.map_err(|panic| {
        let message = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "test panicked".into());
        Failed::from(message)
    })
}

fn main() {
    let args = Arguments::from_args();
    // One line per panic: the panic test's deliberate panic should not print a backtrace.
    std::panic::set_hook(Box::new(|info| eprintln!("panic: {info}")));
    helpers::init_logging();
    let backends = helpers::backends();
    let names: Vec<&str> = backends.iter().map(|b| b.name()).collect();
    println!("Probity API tests on backends: {}", names.join(", "));
    if !backends.contains(&Backend::Postgres) {
        println!(
            "PostgreSQL: not run (set {} to a postgres:// URL whose user may create databases)",
            helpers::PG_ENV
        );
    }

    let mut trials: Vec<Trial> = migrations::trials();
    trials.extend(web::trials());
    trials.extend(console_browser::trials());
    for (module, tests) in all_tests() {
        for (name, test) in tests {
            for &backend in &backends {
                trials.push(Trial::test(
                    format!("{}::{module}::{name}", backend.name()),
                    move || run(backend, test),
                ));
            }
        }
    }
    let conclusion = libtest_mimic::run(&args, trials);
    println!(
        "backends covered: {} ({} passed, {} failed)",
        names.join(", "),
        conclusion.num_passed,
        conclusion.num_failed
    );
    conclusion.exit();
}
