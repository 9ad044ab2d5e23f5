//! HTTP metadata of bundle files, shared by publishing (object metadata) and the preview server
//! (response headers), so a CDN in front of a bucket and `t8k serve` send the same headers.

pub fn content_type(rel: &str) -> String {
    let mime = mime_guess::from_path(rel).first_or_octet_stream();
    match mime.type_() {
        mime_guess::mime::TEXT => format!("{mime}; charset=utf-8"),
        _ if mime.subtype() == "xml"
            || mime.suffix().is_some_and(|s| s == "xml")
            || mime.subtype() == "javascript"
            || mime.subtype() == "json" =>
        {
            format!("{mime}; charset=utf-8")
        }
        _ => mime.to_string(),
    }
}

/// Content-hashed assets and every shared object (`_t8k/…`, named by its hash) never change;
/// pages and feeds must be revalidated so a new deploy shows at once; anything else may be
/// cached for an hour.
pub fn cache_control(rel: &str) -> &'static str {
    let shared = rel.trim_start_matches('/').starts_with("_t8k/");
    let hashed = shared
        || rel.starts_with("assets/")
            && rel.rsplit('/').next().is_some_and(|name| {
                name.split('.')
                    .rev()
                    .nth(1)
                    .is_some_and(|h| h.len() == 8 && h.chars().all(|c| c.is_ascii_hexdigit()))
            });
    if hashed {
        "public, max-age=31536000, immutable"
    } else if rel.ends_with(".html")
        || rel.ends_with(".xml")
        || rel.ends_with(".txt")
        || rel.ends_with(".json")
    {
        "public, max-age=0, must-revalidate"
    } else {
        "public, max-age=3600"
    }
}
