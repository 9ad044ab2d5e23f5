//! Request tracing and logs. Every function request gets an id (`x-request-id`: a proxy's is
//! kept when it is a plain token, else a new one, [`Ids`]), echoed in the response and carried
//! by its span and by every error logged while it runs; a 500 shows the client only that id
//! ([`crate::error::ApiError::disclose`]).
//!
//! Spans and logs name the method, the path (never the query: verification tokens travel
//! there), the host and the status — never a header, cookie, body or password.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use tracing::Instrument;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::FmtSpan;

use crate::error::REQUEST_ID;

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
        format!("the log filter {filter:?} (--log or T8K_LOG) is not a log filter ({e}); write it like info, debug or t8k_builder=debug,warn")
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

/// The header that carries a request's id, in and out.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

static IDS: LazyLock<Ids> = LazyLock::new(Ids::new);

/// The one layer in front of every function (see [`crate::router`]): gives the request its id
/// (a proxy's `x-request-id` is kept), runs the request checks ([`crate::host::checks`]) and
/// the handler inside a span and with the id known to errors ([`REQUEST_ID`]), echoes the id
/// on the answer and logs status and duration at debug. One plain tower layer, not axum's
/// `from_fn` nor tower-http's request-id pair and `TraceLayer` (together 10–15% of a cached
/// request here, `from_fn` alone a boxed service and two futures more): it runs on every
/// request.
#[derive(Clone, Copy, Default)]
pub struct Trace;

impl<S> tower::Layer<S> for Trace {
    type Service = Traced<S>;
    fn layer(&self, inner: S) -> Traced<S> {
        Traced(inner)
    }
}

/// A route behind [`Trace`].
#[derive(Clone)]
pub struct Traced<S>(S);

impl<S> tower::Service<Request> for Traced<S>
where
    S: tower::Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        let id = request_id(&mut req);
        let span = tracing::debug_span!(
            "request",
            id = id.to_str().unwrap_or(""),
            method = %req.method(),
            path = req.uri().path(),
            host = req.headers().get("host").and_then(|h| h.to_str().ok()).unwrap_or(""),
        );
        let checked = span.in_scope(|| crate::host::checks(&mut req));
        // The service that was made ready is the one called (tower's contract); a clone
        // stays behind for the next request.
        let ready = self.0.clone();
        let mut inner = std::mem::replace(&mut self.0, ready);
        let started = (!span.is_disabled()).then(Instant::now);
        let answered = async move {
            let mut r = match checked {
                Ok(()) => REQUEST_ID.scope(Some(id.clone()), inner.call(req)).await?,
                Err(refused) => refused.into_response(),
            };
            if let Some(t) = started {
                let ms = t.elapsed().as_secs_f64() * 1e3;
                tracing::debug!(status = r.status().as_u16(), ms, "answered");
            }
            r.headers_mut().insert(REQUEST_ID_HEADER, id);
            Ok(r)
        };
        Box::pin(answered.instrument(span))
    }
}

/// The request's id: a proxy's when it is plain ([`plain_id`]), else a new one, set on the
/// request so handlers see the same.
fn request_id(req: &mut Request) -> HeaderValue {
    match req.headers().get(&REQUEST_ID_HEADER) {
        Some(id) if plain_id(id.as_bytes()) => id.clone(),
        _ => {
            let id = IDS.next();
            req.headers_mut().insert(REQUEST_ID_HEADER, id.clone());
            id
        }
    }
}

/// An id from outside is kept only when it is a plain token (1–128 of `A–Z a–z 0–9 . _ -`),
/// so nothing a client sends lands in a log line or an error body as it is.
fn plain_id(id: &[u8]) -> bool {
    (1..=128).contains(&id.len())
        && id
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Request ids unique across processes without a system call per request (a UUID v4 reads the
/// OS random source each time): the process's random prefix, then a counter —
/// `3f9a0c1e52b7d4a8-1a2b`.
pub struct Ids {
    /// Eight random bytes in hex.
    prefix: [u8; 16],
    next: AtomicU64,
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
            prefix: {
                let mut prefix = [0u8; 16];
                let _ = hex::encode_to_slice(seed, &mut prefix);
                prefix
            },
            next: AtomicU64::new(1),
        }
    }

    /// The next id, as a header value (written without `format!`: this runs per request).
    pub fn next(&self) -> HeaderValue {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let mut counter = [0u8; 16];
        let _ = hex::encode_to_slice(n.to_be_bytes(), &mut counter);
        let digits = counter.iter().position(|&d| d != b'0').unwrap_or(15);
        let mut id = [0u8; 16 + 1 + 16];
        id[..16].copy_from_slice(&self.prefix);
        id[16] = b'-';
        let len = 17 + 16 - digits;
        id[17..len].copy_from_slice(&counter[digits..]);
        HeaderValue::from_bytes(&id[..len]).unwrap_or(HeaderValue::from_static("unnumbered"))
    }
}

impl Default for Ids {
    fn default() -> Ids {
        Ids::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_ids_from_outside_are_kept() {
        assert!(plain_id(b"req-67a2-abc_def.9"));
        for bad in [
            &b""[..],
            b"a b",
            b"<script>",
            &[b'a'; 129][..],
            "é".as_bytes(),
        ] {
            assert!(!plain_id(bad), "{bad:?}");
        }
        let (a, b) = (IDS.next(), IDS.next());
        assert_ne!(a, b);
        assert!(plain_id(a.as_bytes()), "our own ids pass the same rule");
        let ids = Ids::new();
        let made: Vec<String> = (0..17)
            .map(|_| ids.next().to_str().unwrap().to_owned())
            .collect();
        let (prefix, n) = made[0].split_once('-').unwrap();
        assert!(prefix.len() == 16 && prefix.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(n, "1", "the counter, in hex without leading zeros");
        assert_eq!(made[15], format!("{prefix}-10"));
        assert_eq!(made[16], format!("{prefix}-11"));
    }
}
