//! The local preview server (`t8k serve`): a local CDN that serves every built bundle by
//! `Host`, with the headers a CDN would send. Routing is one axum fallback handler; the host
//! table is rebuilt from the registry when the registry changes.

pub mod files;
pub mod pages;
pub mod tls;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use sha2::{Digest, Sha256};
use t8k_builder::publish::{Routes, SiteId, object_key};
use t8k_builder::render::redirect_target;
use t8k_core::TenantId;
use t8k_core::bandwidth::{self, Month};
use t8k_core::hosts::Site;
use t8k_core::lifecycle::Installation;
use t8k_core::store::Store;

/// Where pages come from.
pub enum Source {
    /// Built bundles: `{out}/{tenant}/` and `{out}/_main/`.
    Builds(PathBuf),
    /// Live published deploys in a bundle store, as `routes.json` names them.
    Deploys {
        store: Arc<dyn Store>,
        live: RwLock<Arc<HashMap<String, String>>>,
    },
}

pub struct ServeState {
    pub source: Source,
    /// The functions' state: its cache resolves hosts from the registry's host and tenant
    /// keys, so pages and `/api/` route by the same table.
    pub functions: t8k_functions::Shared,
    /// Bytes and requests served per tenant since the last flush to the data root
    /// ([`flush_bandwidth`]; the refresh loop calls it every second and once at shutdown).
    pub served: std::sync::Mutex<HashMap<TenantId, Month>>,
    /// When each tenant's bandwidth limit was last checked ([`flush_bandwidth`]).
    pub limits_checked: std::sync::Mutex<HashMap<TenantId, std::time::Instant>>,
}

/// How often a tenant being served has its month checked against its bandwidth limit.
const LIMIT_CHECK_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Counts one response to a tenant's site: the body bytes sent (none for HEAD and 304).
fn count(state: &ServeState, tenant: &TenantId, r: &Response) {
    let bytes = axum::body::HttpBody::size_hint(r.body())
        .exact()
        .unwrap_or(0);
    let mut served = state.served.lock().unwrap_or_else(|p| p.into_inner());
    *served.entry(tenant.clone()).or_default() += Month { bytes, requests: 1 };
}

/// Adds the counts gathered so far to `stats/{tenant}/bandwidth/{month}.json`. A count that
/// cannot be written is kept for the next flush; a crash loses at most the last second's.
/// Each tenant counted is then checked against its bandwidth limit, at most every
/// [`LIMIT_CHECK_EVERY`] (mails at 80% and 100%, the mark that suspends or throttles).
pub fn flush_bandwidth(inst: &Installation, state: &ServeState) {
    let taken = std::mem::take(&mut *state.served.lock().unwrap_or_else(|p| p.into_inner()));
    let now = t8k_core::timefmt::now();
    let month = bandwidth::month_of(now);
    let mut counted = vec![];
    for (tenant, m) in taken {
        if let Err(e) = bandwidth::add(inst.store(), &tenant, &month, m) {
            tracing::error!(%tenant, error = %e, "cannot record bandwidth; kept for the next flush");
            let mut served = state.served.lock().unwrap_or_else(|p| p.into_inner());
            *served.entry(tenant).or_default() += m;
        } else {
            counted.push(tenant);
        }
    }
    let mut checked = state
        .limits_checked
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    for tenant in counted {
        let due = checked
            .get(&tenant)
            .is_none_or(|t| t.elapsed() >= LIMIT_CHECK_EVERY);
        if !due {
            continue;
        }
        checked.insert(tenant.clone(), std::time::Instant::now());
        if let Err(e) = t8k_functions::bandwidth::enforce(inst, tenant.as_str(), now) {
            tracing::error!(%tenant, error = %e.message, "cannot check the bandwidth limit");
        }
    }
}

/// tenant → live deploy, from `routes.json`.
pub fn live_deploys(routes: &Routes) -> HashMap<String, String> {
    routes
        .routes
        .values()
        .map(|r| (r.tenant.clone(), r.deploy.clone()))
        .collect()
}

/// Static files by `Host`, with the functions at `/api/` for every host (each function
/// resolves its tenant from `Host` itself). The functions' routes carry their full paths and
/// are merged in, so an API request is matched once and its URI is never rewritten.
pub fn router(state: Arc<ServeState>, functions: t8k_functions::Shared) -> Router {
    Router::new()
        .fallback(handle)
        .with_state(state)
        .merge(t8k_functions::api(functions))
}

fn html(status: StatusCode, body: String, head: bool) -> Response {
    let len = body.len();
    let mut r = Response::new(if head {
        Body::empty()
    } else {
        Body::from(body)
    });
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    r
}

fn etag_of(bytes: &[u8]) -> String {
    format!("\"{}\"", hex::encode(&Sha256::digest(bytes)[..16]))
}

fn matches_etag(headers: &HeaderMap, etag: &str) -> bool {
    let Some(inm) = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    inm.split(',')
        .map(str::trim)
        .any(|t| t == "*" || t.trim_start_matches("W/") == etag)
}

fn file_response(
    status: StatusCode,
    rel: &str,
    bytes: Vec<u8>,
    req: &HeaderMap,
    head: bool,
) -> Response {
    // An alias of an imported page: a 301, as an edge reading `_redirects` would answer.
    if let Some(location) = redirect_target(&bytes).and_then(|t| HeaderValue::from_str(t).ok()) {
        let mut r = html(StatusCode::MOVED_PERMANENTLY, String::new(), true);
        r.headers_mut().insert(header::LOCATION, location);
        return r;
    }
    let etag = etag_of(&bytes);
    let not_modified = status == StatusCode::OK && matches_etag(req, &etag);
    let len = bytes.len();
    let body = if head || not_modified {
        Body::empty()
    } else {
        Body::from(bytes)
    };
    let mut r = Response::new(body);
    *r.status_mut() = if not_modified {
        StatusCode::NOT_MODIFIED
    } else {
        status
    };
    let h = r.headers_mut();
    h.insert(
        header::ETAG,
        HeaderValue::from_str(&etag).expect("hex etags are valid headers"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(files::cache_control(rel)),
    );
    if !not_modified {
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_str(&files::content_type(rel)).expect("mime types are valid headers"),
        );
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    }
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    r
}

async fn handle(
    State(state): State<Arc<ServeState>>,
    method: Method,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let head = method == Method::HEAD;
    if method != Method::GET && !head {
        let mut r = html(
            StatusCode::METHOD_NOT_ALLOWED,
            pages::bad_request("only GET and HEAD are served here"),
            false,
        );
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    // The same one-host rule as the functions (RFC 9112 §3.2).
    let host = match t8k_functions::host::target_host(&headers, &uri) {
        Ok(h) => h,
        Err(why) => return html(StatusCode::BAD_REQUEST, pages::bad_request(&why), head),
    };
    let owned = host.to_owned();
    let resolved = t8k_functions::state::read(&state.functions, move |st| {
        Ok(t8k_functions::state::site_of_host(st, &owned)?)
    })
    .await;
    let (site, registry) = match resolved {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(host, error = ?e, "cannot resolve the host");
            return html(
                StatusCode::INTERNAL_SERVER_ERROR,
                pages::bad_request("the registry could not be read; see the server log"),
                head,
            );
        }
    };
    match &site {
        None => html(StatusCode::NOT_FOUND, pages::unknown_host(host), head),
        Some(Site::Tenant {
            id, active: false, ..
        }) => html(
            StatusCode::SERVICE_UNAVAILABLE,
            pages::unavailable(id.as_str()),
            head,
        ),
        Some(Site::Tenant {
            id, over: Some(o), ..
        }) if o.suspends(t8k_core::timefmt::now()) => {
            let mut r = html(
                StatusCode::SERVICE_UNAVAILABLE,
                pages::bandwidth_limit(id.as_str()),
                head,
            );
            if let Ok(v) = HeaderValue::from_str(&o.retry_after()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            r
        }
        Some(Site::Tenant { id, .. }) => {
            let site = SiteId::Tenant(id.clone());
            let r = serve_site(&state, &site, id.as_str(), &uri, &headers, head).await;
            count(&state, id, &r);
            r
        }
        Some(Site::Main) => {
            let domain = registry.reg.domain.as_str();
            serve_site(&state, &SiteId::Main, domain, &uri, &headers, head).await
        }
    }
}

/// A shared object (`/_t8k/assets/…`, `/_t8k/img/…`), the same on every host: from the
/// builds' `_shared/` folder or the bundle store's `sites/_shared/`.
async fn from_shared(state: &ServeState, rel: &str, headers: &HeaderMap, head: bool) -> Response {
    let found = match &state.source {
        Source::Builds(out) => Ok(tokio::fs::read(out.join(t8k_core::shared::SITE).join(rel))
            .await
            .ok()),
        Source::Deploys { store, .. } => {
            let (store, rel) = (store.clone(), rel.to_owned());
            tokio::task::spawn_blocking(move || -> Result<Option<Vec<u8>>, String> {
                let key = t8k_core::shared::key(&rel).map_err(|e| e.to_string())?;
                let object = store.get(&key).map_err(|e| e.to_string())?;
                Ok(object.map(|o| o.bytes))
            })
            .await
            .unwrap_or_else(|e| Err(e.to_string()))
        }
    };
    match found {
        Ok(Some(bytes)) => {
            file_response(StatusCode::OK, &format!("_t8k/{rel}"), bytes, headers, head)
        }
        Ok(None) => html(StatusCode::NOT_FOUND, pages::not_found(), head),
        Err(e) => html(
            StatusCode::BAD_GATEWAY,
            pages::bad_request(&format!("the bundle store failed: {e}")),
            head,
        ),
    }
}

/// A file of one site's bundle: from the local build or the live deploy.
async fn serve_site(
    state: &ServeState,
    site: &SiteId,
    name: &str,
    uri: &Uri,
    headers: &HeaderMap,
    head: bool,
) -> Response {
    if let Some(rel) = t8k_core::shared::rel_of_path(uri.path()) {
        return from_shared(state, rel, headers, head).await;
    }
    let rel = match files::resolve(uri.path()) {
        Ok(rel) => rel,
        Err(files::BadPath(why)) => {
            return html(StatusCode::BAD_REQUEST, pages::bad_request(why), head);
        }
    };
    match &state.source {
        Source::Builds(out) => {
            from_bundle(&out.join(site.folder()), name, &rel, uri, headers, head).await
        }
        Source::Deploys { store, live } => {
            let deploy = live
                .read()
                .expect("live table lock")
                .get(site.folder())
                .cloned();
            match deploy {
                Some(deploy) => {
                    from_deploy(store.clone(), site, &deploy, &rel, uri, headers, head).await
                }
                None => html(StatusCode::NOT_FOUND, pages::not_published(name), head),
            }
        }
    }
}

fn redirect_to_dir(uri: &Uri) -> Response {
    let mut r = html(StatusCode::MOVED_PERMANENTLY, String::new(), true);
    let location = format!("{}/", uri.path());
    r.headers_mut().insert(
        header::LOCATION,
        HeaderValue::from_str(&location).unwrap_or(HeaderValue::from_static("/")),
    );
    r
}

async fn from_bundle(
    bundle: &std::path::Path,
    name: &str,
    rel: &str,
    uri: &Uri,
    headers: &HeaderMap,
    head: bool,
) -> Response {
    if !bundle.is_dir() {
        return html(StatusCode::NOT_FOUND, pages::not_built(name), head);
    }
    let path = bundle.join(rel);
    match tokio::fs::read(&path).await {
        Ok(bytes) => file_response(StatusCode::OK, rel, bytes, headers, head),
        Err(_) if path.is_dir() => redirect_to_dir(uri),
        Err(_) => match tokio::fs::read(bundle.join("404.html")).await {
            Ok(bytes) => file_response(StatusCode::NOT_FOUND, "404.html", bytes, headers, head),
            Err(_) => html(StatusCode::NOT_FOUND, pages::not_found(), head),
        },
    }
}

/// Reads one object of a deploy off the async threads (the store is blocking).
async fn fetch(
    store: Arc<dyn Store>,
    site: &SiteId,
    deploy: &str,
    rel: &str,
) -> Result<Option<Vec<u8>>, String> {
    let key = object_key(site, deploy, rel).map_err(|e| e.to_string())?;
    tokio::task::spawn_blocking(move || {
        store
            .get(&key)
            .map(|o| o.map(|o| o.bytes))
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())?
}

async fn from_deploy(
    store: Arc<dyn Store>,
    site: &SiteId,
    deploy: &str,
    rel: &str,
    uri: &Uri,
    headers: &HeaderMap,
    head: bool,
) -> Response {
    let unavailable = |e: String| {
        html(
            StatusCode::BAD_GATEWAY,
            pages::bad_request(&format!("the bundle store failed: {e}")),
            head,
        )
    };
    match fetch(store.clone(), site, deploy, rel).await {
        Ok(Some(bytes)) => return file_response(StatusCode::OK, rel, bytes, headers, head),
        Ok(None) => {}
        Err(e) => return unavailable(e),
    }
    if !rel.ends_with("index.html")
        && matches!(
            fetch(store.clone(), site, deploy, &format!("{rel}/index.html")).await,
            Ok(Some(_))
        )
    {
        return redirect_to_dir(uri);
    }
    match fetch(store, site, deploy, "404.html").await {
        Ok(Some(bytes)) => file_response(StatusCode::NOT_FOUND, "404.html", bytes, headers, head),
        Ok(None) => html(StatusCode::NOT_FOUND, pages::not_found(), head),
        Err(e) => unavailable(e),
    }
}
