//! The build trigger's sender ([`t8k_core::trigger`] has the settings and the signature).
//!
//! Every path that queues a build writes `queue/builds/{tenant}` through the installation's
//! store, so the functions watch that one key instead of every caller: [`Notifying`] wraps the
//! store and tells the trigger about each request written. The trigger debounces per tenant —
//! the first request opens a window of `BUILD_WEBHOOK_DEBOUNCE_SECS`, later ones join it, and
//! one call for every tenant whose window closed goes out when it ends (trailing edge: a burst
//! of saves is one build, and it sees the last save). A call that fails (no answer, or not
//! 2xx) is retried with backoff, four attempts in all; the outcome is kept per tenant in
//! `stats/{tenant}/trigger.json` for `t8k report`. Nothing here fails an editor's save: the
//! request is in the queue whatever the webhook does, and a slow cron drains it too.
//!
//! The trigger runs on a thread of its own, so it works under `t8k serve` (one long-lived
//! process). A Lambda function is frozen between invocations, so a window still open when it
//! answers closes at its next invocation; there, wire the queue's S3 events instead (README).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::json;
use t8k_core::TenantId;
use t8k_core::key::Key;
use t8k_core::store::{Condition, Entry, Object, PutMeta, Store, StoreResult, Version};
use t8k_core::trigger::{Format, Record, SIGNATURE_HEADER, Webhook, signature};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Attempts per call, and the wait before the second (doubling after).
const ATTEMPTS: u32 = 4;
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const TIMEOUT: Duration = Duration::from_secs(10);

/// A build request written: the tenant and why.
type Requested = (TenantId, String);

/// Starts the trigger for `hook` and returns the store to use in its place: the same store,
/// telling the trigger about every build request written through it.
pub fn wrap(store: Box<dyn Store>, hook: Webhook) -> Box<dyn Store> {
    let inner: Arc<dyn Store> = Arc::from(store);
    let (tx, rx) = mpsc::unbounded_channel();
    let records = inner.clone();
    std::thread::Builder::new()
        .name("t8k-trigger".into())
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the build trigger");
            rt.block_on(debounce(hook, rx, records));
        })
        .expect("the build trigger's thread starts");
    Box::new(Notifying { inner, tx })
}

/// The installation's store, reporting build requests to the trigger.
struct Notifying {
    inner: Arc<dyn Store>,
    tx: mpsc::UnboundedSender<Requested>,
}

impl Notifying {
    fn notice(&self, key: &Key, bytes: &[u8]) {
        if let Some(request) = t8k_core::queue::request_at(key, bytes) {
            let _ = self.tx.send(request);
        }
    }
}

impl Store for Notifying {
    fn get(&self, key: &Key) -> StoreResult<Option<Object>> {
        self.inner.get(key)
    }
    fn put(&self, key: &Key, bytes: &[u8], cond: Condition) -> StoreResult<Version> {
        let v = self.inner.put(key, bytes, cond)?;
        self.notice(key, bytes);
        Ok(v)
    }
    fn put_with(
        &self,
        key: &Key,
        bytes: &[u8],
        cond: Condition,
        meta: &PutMeta,
    ) -> StoreResult<Version> {
        let v = self.inner.put_with(key, bytes, cond, meta)?;
        self.notice(key, bytes);
        Ok(v)
    }
    fn head(&self, key: &Key) -> StoreResult<Option<Version>> {
        self.inner.head(key)
    }
    fn copy(&self, from: &Key, to: &Key) -> StoreResult<()> {
        self.inner.copy(from, to)
    }
    fn delete(&self, key: &Key) -> StoreResult<()> {
        self.inner.delete(key)
    }
    fn list(&self, prefix: &Key) -> StoreResult<Vec<Entry>> {
        self.inner.list(prefix)
    }
    fn list_keys(&self, prefix: &Key) -> StoreResult<Vec<Key>> {
        self.inner.list_keys(prefix)
    }
    fn list_page(
        &self,
        prefix: &Key,
        after: Option<&Key>,
        limit: usize,
    ) -> StoreResult<Vec<Entry>> {
        self.inner.list_page(prefix, after, limit)
    }
    fn move_prefix(&self, from: &Key, to: &Key) -> StoreResult<()> {
        self.inner.move_prefix(from, to)
    }
    fn local_path(&self, key: &Key) -> Option<PathBuf> {
        self.inner.local_path(key)
    }
    fn describe(&self) -> String {
        self.inner.describe()
    }
    fn cache_dir(&self) -> Option<&Path> {
        self.inner.cache_dir()
    }
}

/// Collects requests into per-tenant windows and calls the webhook as they close.
async fn debounce(
    hook: Webhook,
    mut rx: mpsc::UnboundedReceiver<Requested>,
    store: Arc<dyn Store>,
) {
    let client = client();
    // Tenant → when its window closes, and the reasons gathered in it.
    let mut open: BTreeMap<TenantId, (Instant, Vec<String>)> = BTreeMap::new();
    loop {
        let next = open.values().map(|(at, _)| *at).min();
        let received = match next {
            Some(at) => tokio::select! {
                r = rx.recv() => Some(r),
                _ = tokio::time::sleep_until(at) => None,
            },
            None => Some(rx.recv().await),
        };
        match received {
            Some(Some((id, reason))) => {
                let closes = Instant::now() + hook.debounce;
                let (_, reasons) = open.entry(id).or_insert((closes, vec![]));
                if !reasons.contains(&reason) {
                    reasons.push(reason);
                }
            }
            // The store was dropped (the process is stopping): send what is open now.
            Some(None) => {
                let due = std::mem::take(&mut open);
                call(&hook, &client, store.as_ref(), due).await;
                return;
            }
            None => {
                let now = Instant::now();
                let (due, still) = std::mem::take(&mut open)
                    .into_iter()
                    .partition(|(_, (at, _))| *at <= now);
                open = still;
                call(&hook, &client, store.as_ref(), due).await;
            }
        }
    }
}

type HttpClient = Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    Full<Bytes>,
>;

fn client() -> HttpClient {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("aws-lc-rs supports the default TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .build();
    Client::builder(TokioExecutor::new()).build(https)
}

/// The body of a call for `due` in the hook's format.
fn body(hook: &Webhook, due: &BTreeMap<TenantId, (Instant, Vec<String>)>) -> Vec<u8> {
    let tenants: Vec<&str> = due.keys().map(TenantId::as_str).collect();
    let reasons: Vec<&String> = due.values().flat_map(|(_, r)| r).collect();
    let payload = json!({
        "tenants": tenants,
        "reasons": reasons,
        "sent": t8k_core::timefmt::now_rfc3339(),
    });
    let v = match hook.format {
        Format::Json => payload,
        Format::Github => json!({"event_type": "t8k-build", "client_payload": payload}),
    };
    serde_json::to_vec(&v).expect("JSON values serialise")
}

fn request(hook: &Webhook, body: &[u8]) -> hyper::Request<Full<Bytes>> {
    let r = hyper::Request::post(hook.url.as_str())
        .header("content-type", "application/json")
        .header("user-agent", concat!("t8k/", env!("CARGO_PKG_VERSION")));
    let r = match hook.format {
        Format::Json => r.header(SIGNATURE_HEADER, signature(&hook.secret, body)),
        Format::Github => r
            .header("authorization", format!("Bearer {}", hook.secret))
            .header("accept", "application/vnd.github+json")
            .header("x-github-api-version", "2022-11-28"),
    };
    r.body(Full::new(Bytes::copy_from_slice(body)))
        .expect("a valid request (the URL was checked at start)")
}

/// One call (with its retries) for the tenants whose windows closed; its outcome recorded for
/// each of them.
async fn call(
    hook: &Webhook,
    client: &HttpClient,
    store: &dyn Store,
    due: BTreeMap<TenantId, (Instant, Vec<String>)>,
) {
    if due.is_empty() {
        return;
    }
    let body = body(hook, &due);
    let mut record = Record {
        at: String::new(),
        ok: false,
        attempts: 0,
        status: None,
        error: None,
    };
    let mut backoff = FIRST_BACKOFF;
    while record.attempts < ATTEMPTS {
        if record.attempts > 0 {
            tokio::time::sleep(backoff).await;
            backoff *= 2;
        }
        record.attempts += 1;
        match tokio::time::timeout(TIMEOUT, client.request(request(hook, &body))).await {
            Ok(Ok(resp)) if resp.status().is_success() => {
                (record.ok, record.status, record.error) =
                    (true, Some(resp.status().as_u16()), None);
                break;
            }
            Ok(Ok(resp)) => {
                record.status = Some(resp.status().as_u16());
                record.error = Some(format!("the webhook answered {}", resp.status()));
            }
            Ok(Err(e)) => record.error = Some(format!("cannot reach the webhook: {e}")),
            Err(_) => record.error = Some(format!("no answer within {} s", TIMEOUT.as_secs())),
        }
    }
    record.at = t8k_core::timefmt::now_rfc3339();
    let tenants: Vec<&str> = due.keys().map(TenantId::as_str).collect();
    match &record.error {
        None => tracing::info!(?tenants, attempts = record.attempts, "build trigger sent"),
        Some(e) => {
            tracing::warn!(?tenants, attempts = record.attempts, error = %e, "build trigger failed")
        }
    }
    // The trigger's own thread: a blocking write holds up nothing else.
    for id in due.keys() {
        if let Err(e) = t8k_core::trigger::write_record(store, id, &record) {
            tracing::warn!(tenant = %id, error = %e, "cannot record the build trigger");
        }
    }
}
