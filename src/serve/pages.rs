//! The server's own pages, for requests no bundle can answer.

pub fn unknown_host(host: &str) -> String {
    page(
        "Site not found",
        &format!(
            "No site is hosted at <strong>{}</strong>. Check the address, or create the site with <code>t8k tenant create</code>.",
            escape(host)
        ),
    )
}

pub fn unavailable(name: &str) -> String {
    page(
        "Site unavailable",
        &format!(
            "The site <strong>{}</strong> is unavailable at the moment. Please come back later.",
            escape(name)
        ),
    )
}

/// A tenant whose month reached its bandwidth limit under `suspend` (with 503 and
/// `Retry-After`: the first of next month).
pub fn bandwidth_limit(name: &str) -> String {
    page(
        "Bandwidth limit reached",
        &format!(
            "The site <strong>{}</strong> has used this month's bandwidth. It will be back when \
             the month turns, or sooner if its limit is raised.",
            escape(name)
        ),
    )
}

pub fn not_built(name: &str) -> String {
    page(
        "Site not built yet",
        &format!(
            "The site <strong>{}</strong> has not been built. Run <code>t8k build {0}</code>.",
            escape(name)
        ),
    )
}

pub fn not_published(name: &str) -> String {
    page(
        "Site not published yet",
        &format!(
            "The site <strong>{}</strong> has no live deploy. Run <code>t8k publish {0}</code>.",
            escape(name)
        ),
    )
}

pub fn not_found() -> String {
    page("Page not found", "There is nothing at this address.")
}

pub fn bad_request(why: &str) -> String {
    page("Bad request", &escape(why))
}

/// A page of the server's own, in the look of the others.
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<meta name=\"color-scheme\" content=\"light dark\"><title>{title}</title>\
<style>body{{font:1.1rem/1.6 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1.25rem}}</style></head>\
<body><main><h1>{title}</h1><p>{body}</p></main></body></html>\n"
    )
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
