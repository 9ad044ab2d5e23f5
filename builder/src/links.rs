//! The site links of a built page and the file each is served from: the link check a rollout's
//! gate runs (and the build tests use). A link is root-relative (`/about/`, `/_t8k/assets/x.css`,
//! `/media/a.jpg`) in an `href`, a `src` or a `srcset` candidate; links to other hosts, to the
//! functions (`/api/…`) and fragments are not files of the bundle.

use std::path::{Path, PathBuf};

use memchr::memmem;

/// Root-relative link targets in an HTML document, entities decoded, in document order.
pub fn site_links(html: &str) -> Vec<String> {
    let mut out = vec![];
    for attr in ["href=\"", "src=\"", "srcset=\""] {
        for at in memmem::find_iter(html.as_bytes(), attr.as_bytes()) {
            let rest = &html[at + attr.len()..];
            let value = rest[..rest.find('"').unwrap_or(rest.len())].replace("&amp;", "&");
            let urls: Vec<&str> = if attr == "srcset=\"" {
                value
                    .split(',')
                    .filter_map(|c| c.split_whitespace().next())
                    .collect()
            } else {
                vec![value.as_str()]
            };
            out.extend(
                urls.into_iter()
                    .filter(|u| u.starts_with('/') && !u.starts_with("//"))
                    .map(str::to_owned),
            );
        }
    }
    out
}

/// The file a link of the bundle in `bundle` is served from, if it names one: shared objects
/// (`/_t8k/…`) from `shared`, a folder's `index.html`, or the file itself. `None` for links
/// that are not files (`/api/…`).
pub fn target(bundle: &Path, shared: &Path, url: &str) -> Option<PathBuf> {
    let path = url.split(['#', '?']).next().unwrap_or(url);
    if path.starts_with("/api/") {
        return None;
    }
    if let Some(rel) = path.strip_prefix("/_t8k/") {
        return Some(shared.join(rel));
    }
    let rel = path.trim_start_matches('/');
    if rel.is_empty() || path.ends_with('/') {
        return Some(bundle.join(rel).join("index.html"));
    }
    Some(bundle.join(rel))
}

/// Whether a link resolves to a file (a folder with an `index.html` counts, as an edge serves it).
pub fn resolves(bundle: &Path, shared: &Path, url: &str) -> bool {
    match target(bundle, shared, url) {
        None => true,
        Some(p) => p.is_file() || p.join("index.html").is_file(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_site_links_only() {
        let html = r#"<a href="/about/">a</a><a href="https://x.org/">x</a><img src="/media/a.jpg" srcset="/_t8k/img/a-400.webp 400w, /_t8k/img/a-800.webp 800w"><a href="/q?a=1&amp;b=2">q</a><a href="//cdn/x">c</a>"#;
        assert_eq!(
            site_links(html),
            [
                "/about/",
                "/q?a=1&b=2",
                "/media/a.jpg",
                "/_t8k/img/a-400.webp",
                "/_t8k/img/a-800.webp"
            ]
        );
    }

    #[test]
    fn resolves_folders_files_and_shared_objects() {
        let dir = tempfile::tempdir().unwrap();
        let (bundle, shared) = (dir.path().join("b"), dir.path().join("s"));
        std::fs::create_dir_all(bundle.join("about")).unwrap();
        std::fs::create_dir_all(shared.join("assets")).unwrap();
        std::fs::write(bundle.join("about/index.html"), "x").unwrap();
        std::fs::write(shared.join("assets/s.css"), "x").unwrap();
        for ok in [
            "/about/",
            "/about",
            "/about/#top",
            "/_t8k/assets/s.css",
            "/api/register",
        ] {
            assert!(resolves(&bundle, &shared, ok), "{ok}");
        }
        for broken in ["/about.html", "/gone/", "/_t8k/assets/t.css"] {
            assert!(!resolves(&bundle, &shared, broken), "{broken}");
        }
    }
}
