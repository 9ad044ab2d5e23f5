//! Mapping a request path to a file of a bundle, refusing every form of traversal, and the
//! caching headers each kind of file gets.

use percent_encoding::percent_decode_str;

/// Why a path was refused.
#[derive(Debug, PartialEq, Eq)]
pub struct BadPath(pub &'static str);

/// Turns a raw request path (still percent-encoded) into a relative file path inside a bundle.
/// Refuses `..` and `.` segments (also encoded, `%2e%2e`), backslashes, NUL and control
/// characters, empty segments (`//etc`), and anything that is not UTF-8.
pub fn resolve(raw: &str) -> Result<String, BadPath> {
    let raw = raw.split(['?', '#']).next().unwrap_or("");
    if !raw.starts_with('/') {
        return Err(BadPath("the path must start with /"));
    }
    let decoded = percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| BadPath("the path is not UTF-8"))?;
    if decoded.contains('\\') || decoded.chars().any(char::is_control) {
        return Err(BadPath(
            "backslashes and control characters are not allowed",
        ));
    }
    let body = &decoded[1..];
    let (dirs, is_dir) = match body.strip_suffix('/') {
        Some(d) => (d, true),
        None => (body, body.is_empty()),
    };
    let mut parts = vec![];
    if !dirs.is_empty() {
        for seg in dirs.split('/') {
            if seg.is_empty() || seg == "." || seg == ".." {
                return Err(BadPath("empty, `.` and `..` path segments are not allowed"));
            }
            if seg.starts_with('.') {
                return Err(BadPath("hidden files are not served"));
            }
            parts.push(seg);
        }
    }
    let mut rel = parts.join("/");
    if is_dir {
        if !rel.is_empty() {
            rel.push('/');
        }
        rel.push_str("index.html");
    }
    Ok(rel)
}

pub use t8k_builder::http::{cache_control, content_type};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_paths() {
        assert_eq!(resolve("/").unwrap(), "index.html");
        assert_eq!(resolve("/about/").unwrap(), "about/index.html");
        assert_eq!(
            resolve("/assets/style.1a2b3c4d.css?v=1").unwrap(),
            "assets/style.1a2b3c4d.css"
        );
        assert_eq!(resolve("/caf%C3%A9/").unwrap(), "café/index.html");
    }

    #[test]
    fn refuses_traversal_in_every_form() {
        for bad in [
            "/../etc/passwd",
            "/a/../../x",
            "/%2e%2e/x",
            "/%2E%2E/%2e%2e/etc",
            "/a/..%2f..%2fetc",
            "/..\\x",
            "/a%5c..%5cx",
            "/a%00.html",
            "//etc/passwd",
            "/./x",
            "/.t8k/locks",
            "/%ff",
            "relative",
            "/a/%2e/b",
        ] {
            assert!(resolve(bad).is_err(), "{bad} must be refused");
        }
    }

    #[test]
    fn headers() {
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(content_type("atom.xml"), "text/xml; charset=utf-8");
        assert_eq!(content_type("a.png"), "image/png");
        assert_eq!(
            cache_control("assets/style.1a2b3c4d.css"),
            "public, max-age=31536000, immutable"
        );
        assert_eq!(
            cache_control("index.html"),
            "public, max-age=0, must-revalidate"
        );
        assert_eq!(
            cache_control("sitemap.xml"),
            "public, max-age=0, must-revalidate"
        );
        assert_eq!(cache_control("assets/logo.png"), "public, max-age=3600");
    }
}
