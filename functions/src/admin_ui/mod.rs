//! The browser admin at `/admin/`: a static app (one HTML page, one stylesheet, ES modules
//! a view each, no build step) shared by every tenant and talking only to that host's `/api/`.
//! On the main domain the same address serves the installation admin (`ops.html`): the
//! operator's tenants, sign-ups and report, behind the installation admin key.
//! Served by the auth function, so wherever the functions run (`t8k serve`, Lambda, behind an
//! edge) the admin does too. Every answer carries a strict Content-Security-Policy: scripts
//! and styles from this origin only (none inline), no other origin at all, never framed.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use t8k_core::hosts::Site;

use crate::error::ApiError;
use crate::state::{Shared, host_of, read, site_of_host};

/// Where the admin lives: `/admin` redirects to `/admin/`.
pub const ROUTES: [&str; 3] = ["/admin", "/admin/", "/admin/{*file}"];

/// Every file of the app: its path under `/admin/`, its text, its type.
const FILES: &[(&str, &str, &str)] = &[
    ("", include_str!("index.html"), HTML),
    (
        "app.css",
        include_str!("app.css"),
        "text/css; charset=utf-8",
    ),
    ("ops.html", include_str!("ops.html"), HTML),
    ("analytics.js", include_str!("analytics.js"), JS),
    ("app.js", include_str!("app.js"), JS),
    ("core.js", include_str!("core.js"), JS),
    ("dashboard.js", include_str!("dashboard.js"), JS),
    ("domains.js", include_str!("domains.js"), JS),
    ("figures.js", include_str!("figures.js"), JS),
    ("media.js", include_str!("media.js"), JS),
    ("menus.js", include_str!("menus.js"), JS),
    ("ops.js", include_str!("ops.js"), JS),
    ("tenants.js", include_str!("tenants.js"), JS),
    ("pages.js", include_str!("pages.js"), JS),
    ("users.js", include_str!("users.js"), JS),
];

const JS: &str = "text/javascript; charset=utf-8";
const HTML: &str = "text/html; charset=utf-8";

pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                       connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

fn file(path: &str) -> Option<(&'static str, &'static str)> {
    let name = path.strip_prefix("/admin/")?;
    FILES
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, text, kind)| (*text, *kind))
}

pub async fn serve(State(state): State<Shared>, headers: HeaderMap, uri: Uri) -> Response {
    if uri.path() == "/admin" {
        let mut r = StatusCode::MOVED_PERMANENTLY.into_response();
        r.headers_mut()
            .insert(header::LOCATION, HeaderValue::from_static("/admin/"));
        return r;
    }
    let mut path = uri.path();
    if path == "/admin/" {
        let host = host_of(&headers).to_owned();
        match read(&state, move |st| Ok(site_of_host(st, &host)?.0)).await {
            Ok(Some(Site::Main)) => path = "/admin/ops.html",
            Ok(_) => {}
            Err(e) => return e.into_response(),
        }
    }
    let Some((body, content_type)) = file(path) else {
        return ApiError::not_found("no such admin file; the admin is at /admin/").into_response();
    };
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // Revalidated on every load, so an upgrade shows at once.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The modules `name` imports (`from './x.js'`).
    fn imports(name: &str) -> Vec<String> {
        let text = FILES.iter().find(|(n, _, _)| *n == name).unwrap().1;
        text.split("from './")
            .skip(1)
            .filter_map(|rest| rest.split_once('\'').map(|(m, _)| m.to_owned()))
            .collect()
    }

    /// Every module an admin page's script reaches is served, and preloaded by the page (so
    /// the browser fetches the graph at once, not one import level a round trip).
    #[test]
    fn every_imported_module_is_served_and_preloaded() {
        for (page, entry) in [("", "app.js"), ("ops.html", "ops.js")] {
            let html = file(&format!("/admin/{page}")).unwrap().0;
            let (mut seen, mut todo) = (vec![], imports(entry));
            while let Some(m) = todo.pop() {
                if seen.contains(&m) {
                    continue;
                }
                assert!(file(&format!("/admin/{m}")).is_some(), "{m} is not served");
                let preload = format!("<link rel=\"modulepreload\" href=\"/admin/{m}\">");
                assert!(html.contains(&preload), "{page:?} does not preload {m}");
                todo.extend(imports(&m));
                seen.push(m);
            }
            assert!(seen.len() >= 3, "{entry} imports {seen:?}");
        }
    }
}
