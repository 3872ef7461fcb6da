//! Logging with tracing. Request lines come from `http::request_span` and never carry a client
//! address or user agent.

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

use crate::settings::LogSettings;

/// Installs the global subscriber writing to stderr. `RUST_LOG` wins over `log.level`.
pub fn init(log: &LogSettings) {
    init_with_writer(log, std::io::stderr);
}

pub fn init_with_writer<W>(log: &LogSettings, writer: W)
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&log.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_target(false);
    let result = if log.format == "json" {
        builder.json().try_init()
    } else {
        builder.with_ansi(false).try_init()
    };
    // A second init (tests, or a CLI command after serve) keeps the first subscriber.
    let _ = result;
}
