//! Two bundles of one site compared, for a rollout's report: pages added and removed, pages
//! whose HTML changed, links the new bundle breaks, the size change, and a structural summary
//! (elements gained or lost across the pages, titles changed) instead of screenshots.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use t8k_core::rollout::Report;

use crate::links;

/// Names listed per kind (all are counted).
const LISTED: usize = 20;

/// The elements whose counts the structural summary compares.
const ELEMENTS: [&str; 16] = [
    "header", "nav", "main", "footer", "article", "section", "aside", "h1", "h2", "h3", "form",
    "img", "script", "link", "a", "table",
];

/// One bundle: its files' sizes, its pages, and the shared folder its `/_t8k/` links use.
struct Bundle {
    dir: PathBuf,
    shared: PathBuf,
    sizes: BTreeMap<String, u64>,
}

impl Bundle {
    fn open(dir: &Path, shared: &Path) -> Bundle {
        let mut sizes = BTreeMap::new();
        for entry in walkdir::WalkDir::new(dir).into_iter().flatten() {
            if !entry.file_type().is_file() {
                continue;
            }
            if let (Ok(rel), Ok(meta)) = (entry.path().strip_prefix(dir), entry.metadata()) {
                sizes.insert(rel.to_string_lossy().replace('\\', "/"), meta.len());
            }
        }
        Bundle {
            dir: dir.to_owned(),
            shared: shared.to_owned(),
            sizes,
        }
    }

    fn pages(&self) -> BTreeSet<&str> {
        self.sizes
            .keys()
            .filter(|p| p.ends_with(".html"))
            .map(String::as_str)
            .collect()
    }

    fn html(&self, page: &str) -> String {
        std::fs::read_to_string(self.dir.join(page)).unwrap_or_default()
    }

    /// Every `page → link` that resolves to nothing.
    fn broken(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for page in self.pages() {
            for link in links::site_links(&self.html(page)) {
                if !links::resolves(&self.dir, &self.shared, &link) {
                    out.insert(format!("/{page} → {link}"));
                }
            }
        }
        out
    }
}

/// Compares the site's current bundle (`before`) with the one the new version built (`after`);
/// each bundle's shared objects are in the `_shared` folder beside it.
pub fn compare(before: &Path, after: &Path) -> Report {
    let shared_of = |b: &Path| b.parent().unwrap_or(b).join("_shared");
    let old = Bundle::open(before, &shared_of(before));
    let new = Bundle::open(after, &shared_of(after));
    let (old_pages, new_pages) = (old.pages(), new.pages());
    let listed = |set: Vec<&&str>| set.into_iter().map(|p| p.to_string()).collect::<Vec<_>>();
    let mut changed = vec![];
    let mut counts = (BTreeMap::new(), BTreeMap::new());
    let mut titles = 0;
    for page in old_pages.intersection(&new_pages) {
        let (a, b) = (old.html(page), new.html(page));
        if a == b {
            continue;
        }
        changed.push(page.to_string());
        tally(&a, &mut counts.0);
        tally(&b, &mut counts.1);
        titles += usize::from(title(&a) != title(&b));
    }
    let broken_before = old.broken();
    let mut structure = deltas(&counts.0, &counts.1);
    if titles > 0 {
        structure.push(format!("title changed on {titles} page(s)"));
    }
    Report {
        error: None,
        pages_before: old_pages.len(),
        pages_after: new_pages.len(),
        added: listed(new_pages.difference(&old_pages).collect()),
        removed: listed(old_pages.difference(&new_pages).collect()),
        changed: changed.len(),
        changed_pages: changed.into_iter().take(LISTED).collect(),
        broken_links: new
            .broken()
            .into_iter()
            .filter(|l| !broken_before.contains(l))
            .collect(),
        bytes_before: old.sizes.values().sum(),
        bytes_after: new.sizes.values().sum(),
        structure,
    }
}

/// Counts the opening tags of [`ELEMENTS`] in a page.
fn tally(html: &str, counts: &mut BTreeMap<&'static str, i64>) {
    for name in ELEMENTS {
        let open = format!("<{name}");
        let n = memchr::memmem::find_iter(html.as_bytes(), open.as_bytes())
            .filter(|at| {
                html.as_bytes()
                    .get(at + open.len())
                    .is_some_and(|c| matches!(c, b' ' | b'>' | b'\n' | b'/'))
            })
            .count();
        *counts.entry(name).or_default() += n as i64;
    }
}

/// "+12 <nav>, -3 <footer>" lines for elements whose count changed across the changed pages.
fn deltas(
    before: &BTreeMap<&'static str, i64>,
    after: &BTreeMap<&'static str, i64>,
) -> Vec<String> {
    ELEMENTS
        .iter()
        .filter_map(|name| {
            let d = after.get(name).unwrap_or(&0) - before.get(name).unwrap_or(&0);
            (d != 0).then(|| format!("{d:+} <{name}> across the changed pages"))
        })
        .collect()
}

fn title(html: &str) -> &str {
    let Some(start) = html.find("<title>") else {
        return "";
    };
    let rest = &html[start + 7..];
    &rest[..rest.find("</title>").unwrap_or(rest.len())]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, files: &[(&str, &str)]) {
        for (rel, body) in files {
            let p = dir.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, body).unwrap();
        }
    }

    #[test]
    fn reports_what_a_new_version_changes() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a/site"), dir.path().join("b/site"));
        write(
            &a,
            &[
                (
                    "index.html",
                    "<title>Home</title><nav></nav><a href=\"/about/\">",
                ),
                ("about/index.html", "<title>About</title>"),
                ("old/index.html", "x"),
            ],
        );
        write(
            &b,
            &[
                (
                    "index.html",
                    "<title>Home!</title><a href=\"/about.html\"><footer>",
                ),
                ("about/index.html", "<title>About</title>"),
                ("new/index.html", "<a href=\"/gone/\">"),
            ],
        );
        let r = compare(&a, &b);
        assert_eq!((r.pages_before, r.pages_after), (3, 3));
        assert_eq!(r.added, ["new/index.html"]);
        assert_eq!(r.removed, ["old/index.html"]);
        assert_eq!(
            (r.changed, r.changed_pages.clone()),
            (1, vec!["index.html".to_owned()])
        );
        assert_eq!(
            r.broken_links,
            ["/index.html → /about.html", "/new/index.html → /gone/"]
        );
        assert!(
            r.structure
                .contains(&"-1 <nav> across the changed pages".to_owned())
        );
        assert!(
            r.structure
                .contains(&"+1 <footer> across the changed pages".to_owned())
        );
        assert!(
            r.structure
                .contains(&"title changed on 1 page(s)".to_owned())
        );
        assert!(r.gate().unwrap().contains("broken link"));
    }
}
