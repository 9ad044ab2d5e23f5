//! Reading a built bundle: its files, the site-relative links in its HTML, and the file each
//! link is served from (the link checker the build and import tests share).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub fn bundle_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(
                    p.strip_prefix(dir).unwrap().to_string_lossy().into_owned(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    out
}

/// Root-relative link targets (`href`, `src` and every `srcset` candidate) in an HTML
/// document, entities decoded: the builder's own link check.
pub fn links(html: &str) -> Vec<String> {
    t8k_builder::links::site_links(html)
}

/// The file a link of a built bundle is served from: shared objects (`/_t8k/…`) from the
/// `_shared` folder beside the bundles, everything else from the bundle.
pub fn link_target(bundle: &Path, url: &str) -> PathBuf {
    let path = url.split(['#', '?']).next().unwrap();
    if let Some(rel) = path.strip_prefix("/_t8k/") {
        return bundle.parent().unwrap().join("_shared").join(rel);
    }
    if path.ends_with('/') {
        bundle.join(&path[1..]).join("index.html")
    } else {
        bundle.join(&path[1..])
    }
}
