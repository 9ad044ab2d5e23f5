//! Request tracing and logs. Every request gets an id (`x-request-id`: kept when a proxy in
//! front already set one, else a new one, [`Ids`]), echoed in the response and carried by its span and
//! by every error logged while it runs; a 500 shows the client only that id
//! ([`crate::error::ApiError::disclose`]).
//!
//! Spans and logs name the method, the path (never the query: verification tokens travel
//! there), the host and the status — never a header, cookie, body or password.

use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::response::Response;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::HeaderValue;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;
use tracing::Span;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::FmtSpan;

/// How log lines look.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// One line per event, coloured on a terminal.
    Human,
    /// One JSON object per line (Lambda, log shippers).
    Json,
}

/// Crates whose `trace` output could carry request bytes; a bare level in `T8K_LOG` does not
/// lower them below `info` unless the filter names them.
const QUIET: [&str; 5] = ["hyper", "h2", "aws_smithy_runtime", "aws_sigv4", "rustls"];

/// Installs the process's log subscriber: `filter` in `EnvFilter` syntax (`T8K_LOG`, e.g.
/// `info`, `t8k_builder=debug`), logs to stderr. Returns an error naming the bad directive.
pub fn init(filter: &str, format: LogFormat) -> Result<(), String> {
    let mut directives = filter.to_owned();
    for c in QUIET.iter().filter(|c| !filter.contains(*c)) {
        directives.push_str(&format!(",{c}=info"));
    }
    let filter = EnvFilter::try_new(&directives).map_err(|e| {
        format!("T8K_LOG={filter:?} is not a log filter ({e}); write it like info, debug or t8k_builder=debug,warn")
    })?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_span_events(FmtSpan::NONE);
    let done = match format {
        LogFormat::Json => builder.json().with_current_span(true).try_init(),
        LogFormat::Human => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
    };
    // A subscriber already installed (tests, an embedding program) is kept.
    let _ = done;
    Ok(())
}

/// Wraps a router in the request id and trace layers.
pub fn layers(router: Router) -> Router {
    router
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(span)
                .on_request(())
                .on_response(on_response)
                .on_failure(()),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(Ids::new()))
}

/// Request ids unique across processes without a system call per request (a UUID v4 reads the
/// OS random source each time): the process's random prefix, then a counter —
/// `3f9a0c1e52b7d4a8-1a2b`.
#[derive(Clone)]
pub struct Ids {
    prefix: Arc<str>,
    next: Arc<AtomicU64>,
}

impl Ids {
    pub fn new() -> Ids {
        let mut seed = [0u8; 8];
        // Without the OS random source the time stands in; ids stay unique per process.
        if getrandom::fill(&mut seed).is_err() {
            seed = t8k_core::timefmt::now()
                .unix_timestamp_nanos()
                .to_le_bytes()[..8]
                .try_into()
                .unwrap_or_default();
        }
        Ids {
            prefix: hex::encode(seed).into(),
            next: Arc::new(AtomicU64::new(1)),
        }
    }
}

impl Default for Ids {
    fn default() -> Ids {
        Ids::new()
    }
}

impl MakeRequestId for Ids {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let id = format!("{}-{n:x}", self.prefix);
        HeaderValue::from_maybe_shared(axum::body::Bytes::from(id))
            .ok()
            .map(RequestId::new)
    }
}

fn request_id(req: &Request) -> &str {
    req.headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

fn span(req: &Request) -> Span {
    tracing::debug_span!(
        "request",
        id = request_id(req),
        method = %req.method(),
        path = req.uri().path(),
        host = req.headers().get("host").and_then(|h| h.to_str().ok()).unwrap_or(""),
    )
}

fn on_response(r: &Response, latency: Duration, _: &Span) {
    tracing::debug!(
        status = r.status().as_u16(),
        ms = latency.as_secs_f64() * 1e3,
        "answered"
    );
}
