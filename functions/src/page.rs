//! Small HTML pages for the flows a browser follows without JavaScript (the sign-up form, the
//! link in a verification email). Every dynamic part is escaped (pulldown-cmark's escaper).

use axum::http::StatusCode;
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse, Response};

use crate::error::ApiError;

/// Escapes text for HTML element content and double-quoted attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    pulldown_cmark_escape::escape_html(&mut out, text).expect("writing to a String cannot fail");
    out
}

/// A page; `body` is trusted HTML (callers escape what they interpolate).
pub fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{}</title>\
<style>body{{font:17px/1.5 system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem}}\
button{{font:inherit;padding:.5rem 1.2rem}}</style></head><body><main><h1>{}</h1>{body}</main></body></html>",
        esc(title),
        esc(title)
    );
    let mut r = (status, Html(html)).into_response();
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    r
}

/// An error as a page, for requests a person makes in a browser.
pub fn error(e: &ApiError) -> Response {
    page(
        e.status,
        "Something went wrong",
        &format!("<p>{}</p>", esc(&e.message)),
    )
}

/// True when a browser navigated here (a followed link or a submitted form), not a script.
pub fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}
