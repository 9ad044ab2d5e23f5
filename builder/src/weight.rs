//! Page weight: the bytes a browser fetches to show a page — its HTML and the stylesheets,
//! scripts, images and other files it loads from the site or the shared objects
//! (`/_t8k/assets/…`, `/_t8k/img/…`). Found from each rendered page's HTML as it is written
//! (`src` of any element, `href` of `<link>`; `<a>` links are navigation, not load), so an
//! incremental build looks only at the pages it renders and keeps the others' weights.
//! Of an image with a `srcset`, the `src` is counted (the candidate a browser picks depends on
//! its screen). Files on other hosts are not counted: they are not this site's bandwidth.

use memchr::memmem;
use serde::{Deserialize, Serialize};

/// The local files `html` loads, as site paths (`/_t8k/assets/x.css`, `/media/a.jpg`),
/// without query or fragment, each once.
pub fn loads(html: &[u8]) -> Vec<String> {
    let mut found = vec![];
    for attr in [&b" src=\""[..], &b" href=\""[..]] {
        for at in memmem::find_iter(html, attr) {
            let start = at + attr.len();
            let Some(len) = memchr::memchr(b'"', &html[start..]) else {
                continue;
            };
            match tag_name(html, at) {
                None => continue,
                Some((name, tag)) if attr == b" href=\"" && !loaded_link(name, tag) => continue,
                _ => {}
            }
            if let Some(path) = local_path(&html[start..start + len]) {
                found.push(path);
            }
        }
    }
    found.sort_unstable();
    found.dedup();
    found
}

/// The name of the tag an attribute at `at` is in and the tag's text up to its `>`, if the
/// attribute is in a tag.
fn tag_name(html: &[u8], at: usize) -> Option<(&[u8], &[u8])> {
    let open = memchr::memrchr(b'<', &html[..at])?;
    if memchr::memchr(b'>', &html[open..at]).is_some() {
        return None; // text, not inside a tag
    }
    let close = memchr::memchr(b'>', &html[at..]).map_or(html.len(), |c| at + c);
    let tag = &html[open + 1..close];
    let end = tag
        .iter()
        .position(|b| b.is_ascii_whitespace())
        .unwrap_or(tag.len());
    Some((&tag[..end], tag))
}

/// A `<link>` the browser fetches as it shows the page: a stylesheet, an icon, a preload or
/// a web manifest (not an `alternate` feed, a `canonical` address or a `prefetch` for later).
fn loaded_link(name: &[u8], tag: &[u8]) -> bool {
    const LOADED: [&str; 6] = [
        "stylesheet",
        "icon",
        "preload",
        "modulepreload",
        "manifest",
        "apple-touch-icon",
    ];
    if !name.eq_ignore_ascii_case(b"link") {
        return false;
    }
    let Some(at) = memmem::find(tag, b"rel=\"") else {
        return false;
    };
    let rel = &tag[at + 5..];
    let rel = &rel[..memchr::memchr(b'"', rel).unwrap_or(rel.len())];
    let rel = String::from_utf8_lossy(rel).to_ascii_lowercase();
    rel.split_ascii_whitespace().any(|r| LOADED.contains(&r))
}

/// A root-relative URL (`/x/y.css?v=1`) as a path (`/x/y.css`); others (`https:`, `//cdn`,
/// `data:`, `#top`, relative) are `None`.
fn local_path(url: &[u8]) -> Option<String> {
    let url = std::str::from_utf8(url).ok()?;
    if !url.starts_with('/') || url.starts_with("//") {
        return None;
    }
    let end = url.find(['?', '#']).unwrap_or(url.len());
    let path = &url[..end];
    (path.len() > 1).then(|| path.replace("&amp;", "&"))
}

/// One build's figures, kept in the site's build history (`t8k report` shows their trend).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BuildMetrics {
    /// Wall-clock seconds of the site's build.
    pub seconds: f64,
    /// HTML pages in the bundle.
    pub pages: usize,
    /// Bytes of the site's own files in the bundle (shared theme assets and image variants
    /// are stored once for every site and not counted here).
    pub bundle_bytes: u64,
    /// Median and 95th percentile of the pages' weight, in bytes.
    pub page_weight_p50: u64,
    pub page_weight_p95: u64,
}

impl BuildMetrics {
    /// A build's figures from its bundle's bytes and its pages' weights (the seconds are
    /// filled in once the build is over).
    pub fn of(bundle_bytes: u64, weights: &mut [u64], pages: usize) -> BuildMetrics {
        BuildMetrics {
            seconds: 0.0,
            pages,
            bundle_bytes,
            page_weight_p50: quantile(weights, 0.5),
            page_weight_p95: quantile(weights, 0.95),
        }
    }
}

/// The `q`-quantile (0–1) of `values` by the nearest-rank method (what a reader can check by
/// hand: the value at rank ⌈q·n⌉ of the sorted list); 0 for none.
pub fn quantile(values: &mut [u64], q: f64) -> u64 {
    if values.is_empty() {
        return 0;
    }
    values.sort_unstable();
    let rank = (q * values.len() as f64).ceil().max(1.0) as usize;
    values[rank.min(values.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_loads_its_styles_scripts_and_images_but_not_its_links() {
        let html = br#"<!doctype html><html><head>
<link rel="stylesheet" href="/_t8k/assets/style.1a2b3c4d.css">
<link rel="icon" href="/favicon.ico?v=2">
<link rel="alternate" type="application/atom+xml" href="/atom.xml"><link rel="canonical" href="/x/">
<script src="/_t8k/assets/t.js" defer></script>
<script src="https://cdn.example.com/x.js"></script>
</head><body><a href="/about/">About</a> <a href="/files/doc.pdf">PDF</a>
<img src="/_t8k/img/ab/cd-800.webp" srcset="/_t8k/img/ab/cd-400.webp 400w" alt="x">
<img src="/media/photo.jpg#x"><img src="data:image/png;base64,AAAA"><img src="//cdn/x.png">
<p>write src="/not/an/attribute" in text</p>
<img src="/_t8k/img/ab/cd-800.webp"></body></html>"#;
        assert_eq!(
            loads(html),
            [
                "/_t8k/assets/style.1a2b3c4d.css",
                "/_t8k/assets/t.js",
                "/_t8k/img/ab/cd-800.webp",
                "/favicon.ico",
                "/media/photo.jpg",
            ]
        );
    }

    #[test]
    fn quantiles_by_nearest_rank() {
        let mut v: Vec<u64> = (1..=20).rev().collect();
        assert_eq!(quantile(&mut v, 0.5), 10);
        assert_eq!(quantile(&mut v, 0.95), 19);
        assert_eq!(quantile(&mut [7], 0.95), 7);
        assert_eq!(quantile(&mut [], 0.5), 0);
    }
}
