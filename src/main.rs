use std::process::ExitCode;

use clap::Parser;

/// Every exit is orderly (issue 7, fault 10): the command runs to completion, the runtime is
/// shut down (its blocking threads joined), the database pools' threads are quiet, and only then
/// does `main` return its exit code. `std::process::exit` is not called while anything still
/// uses libpq, so OpenSSL's exit handlers never run under a connection being opened.
fn main() -> ExitCode {
    let cli = probity::cli::Cli::parse();
    let outcome = {
        let system = actix_web::rt::System::new();
        system.block_on(probity::cli::run(cli))
        // `system` drops here: the runtime stops and joins its blocking threads.
    };
    probity::db::quiesce();
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprintln!("probity: {error:#}");
            ExitCode::from(2)
        }
    }
}
