//! Small HTML pages for the flows a browser follows without JavaScript (the sign-up form, the
//! link in a verification email), and the charts and tables of figure pages (the analytics
//! dashboard, `t8k report --html`). Every dynamic part is escaped (pulldown-cmark's escaper).

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
        &format!("<p>{}</p>", esc(&e.disclose().0)),
    )
}

/// True when a browser navigated here (a followed link or a submitted form), not a script.
pub fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

/// Styles for charts ([`crate::chart`]) and [`table`] on figure pages (the dashboard,
/// `t8k report --html`).
pub const FIGURES_STYLE: &str = ".chart-box{margin:0 0 1.5rem}.chart-box figcaption{font-weight:600;margin:.2rem 0}\
.chart{display:block;width:100%;max-width:48rem;height:auto}.chart .mark{fill:#1f5fbf}\
.chart .line{fill:none;stroke:#1f5fbf;stroke-width:2}.chart .grid{stroke:#e1e4e8}.chart .axis{stroke:#555}\
.chart text{font:13px system-ui,sans-serif;fill:#333}.chart .latest{font-weight:600;fill:#123c7a}\
.no-data{margin:0;padding:1rem;background:#f5f6f8;color:#333;border-radius:4px}\
.chart-box details{font-size:.9rem;margin-top:.3rem}\
.band{padding:0 .3rem;border-radius:3px;color:#111}.band.Good{background:#d7f0dc}.band.NeedsImprovement{background:#fbe9c2}.band.Poor{background:#f8d3d0}\
.scroll{overflow-x:auto}table{border-collapse:collapse;width:100%}td,th{padding:.3rem .5rem;border-bottom:1px solid #ddd;text-align:left}";

/// A table in a sideways-scrolling box; cells are trusted HTML (callers escape).
pub fn table(head: &[&str], rows: Vec<Vec<String>>) -> String {
    if rows.is_empty() {
        return "<p class=\"empty\">Nothing yet.</p>".into();
    }
    let th: String = head.iter().map(|h| format!("<th>{h}</th>")).collect();
    let body: String = rows
        .iter()
        .map(|r| {
            format!(
                "<tr>{}</tr>",
                r.iter()
                    .map(|c| format!("<td>{c}</td>"))
                    .collect::<String>()
            )
        })
        .collect();
    format!(
        "<div class=\"scroll\" tabindex=\"0\" role=\"region\" aria-label=\"{}\"><table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table></div>",
        // A region that scrolls sideways is reached by keyboard, and named by its columns.
        esc(&format!("table: {}", head.join(", ")))
    )
}
