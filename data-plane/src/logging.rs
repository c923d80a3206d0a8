//! Log setup: `tracing` to stderr, text or JSON, filtered by `RUST_LOG` (default `info`).
//! The request path logs only at debug level, so info-level output stays off the hot path
//! (but for a backend failure's one warning). Text lines carry ANSI colours only when stderr
//! is a terminal and `NO_COLOR` is unset, so a log file or a pipe gets plain text.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::cli::LogFormat;

/// Installs the global subscriber (call once, from `main`).
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colours());
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}

/// Whether text lines are coloured: stderr is a terminal and `NO_COLOR` is unset or empty.
pub fn colours() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}
