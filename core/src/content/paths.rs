//! A page's address: a path of segments (`docs/getting-started/overview`), served at
//! `/docs/getting-started/overview/`. A one-segment path is the flat slug pages had before
//! sections. Paths are checked segment by segment here, before anything builds a store key or
//! an output file from them.
//!
//! Import derives paths as the source generator does ([`Generator`]): Hugo lower-cases the
//! content path and keeps letters, digits and `._-+~`; Zola slugifies file names (the `slug`
//! crate it uses itself) and keeps folder names as they are.

/// Longest segment, in bytes.
pub const MAX_SEGMENT: usize = 100;
/// Longest path, in bytes.
pub const MAX_PATH: usize = 400;
/// Deepest path.
pub const MAX_DEPTH: usize = 16;

/// First segments t8k answers itself on every host (the functions and the browser admin).
pub const RESERVED: &[&str] = &["api", "admin"];

/// Characters a segment may hold besides letters and digits (any script).
const PUNCTUATION: &[char] = &['-', '_', '.', '~', '+'];

/// One segment of a page path.
pub fn check_segment(seg: &str) -> Result<(), String> {
    if seg.is_empty() || seg.len() > MAX_SEGMENT {
        return Err(format!(
            "path segment {seg:?} must be 1–{MAX_SEGMENT} bytes"
        ));
    }
    if let Some(c) = seg
        .chars()
        .find(|&c| !(c.is_alphanumeric() || PUNCTUATION.contains(&c)))
    {
        return Err(format!(
            "path segment {seg:?} contains {c:?}; use letters, digits and - _ . ~ +"
        ));
    }
    if seg.starts_with('.') {
        return Err(format!(
            "path segment {seg:?} cannot start with a dot (no hidden files, no `..`)"
        ));
    }
    Ok(())
}

/// A page path: segments joined by `/`, no leading, trailing or doubled slash. The first
/// segment may not start with `_`: those are t8k's own paths (`/_t8k/` at the edge).
pub fn check_path(path: &str) -> Result<(), String> {
    if path.is_empty() || path.len() > MAX_PATH {
        return Err(format!("path {path:?} must be 1–{MAX_PATH} bytes"));
    }
    let segments: Vec<&str> = path.split('/').collect();
    if segments.len() > MAX_DEPTH {
        return Err(format!(
            "path {path:?} is {} segments deep; at most {MAX_DEPTH}",
            segments.len()
        ));
    }
    if segments.iter().any(|s| s.is_empty()) {
        return Err(format!(
            "path {path:?} has an empty segment; write it like docs/getting-started"
        ));
    }
    for seg in &segments {
        check_segment(seg).map_err(|m| format!("path {path:?}: {m}"))?;
    }
    if path.starts_with('_') {
        return Err(format!(
            "path {path:?} cannot start with an underscore (reserved for t8k's own paths)"
        ));
    }
    let first = segments[0].to_ascii_lowercase();
    if RESERVED.contains(&first.as_str()) {
        return Err(format!(
            "path {path:?} is under /{first}/, where t8k serves its own {}; give the page another slug or url",
            if first == "api" {
                "API"
            } else {
                "browser admin"
            }
        ));
    }
    Ok(())
}

/// A path as a URL: `docs/intro` → `/docs/intro/`; the home page's path → `/`.
pub fn url_of(path: &str, home: &str) -> String {
    if path == home {
        "/".to_owned()
    } else {
        format!("/{path}/")
    }
}

/// The path above `path` (`docs/a/b` → `docs/a`), `None` at the top.
pub fn parent(path: &str) -> Option<&str> {
    path.rsplit_once('/').map(|(p, _)| p)
}

/// Joins a parent path (maybe empty: the top) and a segment.
pub fn join(parent: &str, seg: &str) -> String {
    if parent.is_empty() {
        seg.to_owned()
    } else {
        format!("{parent}/{seg}")
    }
}

/// Whose rules turn file names into addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Generator {
    Hugo,
    Zola,
}

impl Generator {
    /// A folder's name as a path segment: Hugo sanitises and lower-cases it, Zola keeps it.
    pub fn folder_segment(self, name: &str) -> String {
        match self {
            Generator::Hugo => hugo_segment(name),
            Generator::Zola => name.to_owned(),
        }
    }

    /// A page's file stem (or `slug`) as a path segment.
    pub fn page_segment(self, stem: &str) -> String {
        match self {
            Generator::Hugo => hugo_segment(stem),
            Generator::Zola => slug::slugify(stem),
        }
    }

    /// A taxonomy term as a path segment (`Rust Tips` → `rust-tips`).
    pub fn term_segment(self, term: &str) -> String {
        match self {
            Generator::Hugo => hugo_segment(term),
            Generator::Zola => slug::slugify(term),
        }
    }
}

/// Hugo's path sanitising (`MakePathSanitized`): white space becomes `-`, letters, digits and
/// `._-+~` stay, anything else goes; then lower-case.
pub fn hugo_segment(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.trim().chars() {
        if c.is_whitespace() {
            out.push('-');
        } else if c.is_alphanumeric() || PUNCTUATION.contains(&c) {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// A path written in front matter (`url = "/docs/intro/"`, Zola's `path = "docs/intro"`):
/// slashes trimmed, `index.html` / `.html` endings kept as segments.
pub fn from_url(url: &str) -> String {
    url.trim().trim_matches('/').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_checked_segment_by_segment() {
        for ok in [
            "about",
            "docs/getting-started",
            "render_hooks",
            "v1.2/notes",
            "café/ünïcode",
            "About",
        ] {
            assert!(check_path(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "/docs",
            "docs/",
            "docs//x",
            "docs/../etc",
            "..",
            "a/.hidden",
            "a\\b",
            "a b",
            "a?b",
            "a#b",
            "a%2e",
            "_t8k",
            "x\u{7}",
        ] {
            assert!(check_path(bad).is_err(), "{bad:?}");
        }
        assert!(check_path("a/".repeat(16).trim_end_matches('/')).is_ok());
        assert!(check_path("a/".repeat(17).trim_end_matches('/')).is_err());
        assert!(check_path(&"x".repeat(101)).is_err());
        assert!(
            check_path("docs/_index").is_ok(),
            "only the first segment is reserved"
        );
    }

    #[test]
    fn generators_derive_segments_their_way() {
        assert_eq!(hugo_segment("Render_Hooks"), "render_hooks");
        assert_eq!(hugo_segment("My Page (draft)!"), "my-page-draft");
        assert_eq!(hugo_segment("Café"), "café");
        assert_eq!(Generator::Zola.page_segment("Render_Hooks"), "render-hooks");
        assert_eq!(Generator::Zola.page_segment("Café au lait"), "cafe-au-lait");
        assert_eq!(Generator::Zola.folder_segment("Blog"), "Blog");
        assert_eq!(url_of("docs/a", "home"), "/docs/a/");
        assert_eq!(url_of("home", "home"), "/");
        assert_eq!(parent("docs/a/b"), Some("docs/a"));
        assert_eq!(parent("docs"), None);
        assert_eq!(from_url("/docs/intro/"), "docs/intro");
    }
}
