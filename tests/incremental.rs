//! Page-level incremental builds: after every edit of a randomised sequence (title, pane, draft
//! toggle, delete, new page, menu, date that reorders listings, terms, aliases), the bundle an
//! incremental `t8k build` leaves is byte for byte the one a `--full` build makes from scratch
//! — and the incremental build rendered only a few files for an edit to one page's body. Half
//! the builds are a long-running builder's (what `t8k worker` keeps between builds: the
//! last manifest, the page rows brought up to date by their revisions), taking turns with
//! `t8k build` processes on the same bundle folder.

mod common;

use common::{Root, bundle_files, write_files};
use t8k_core::TenantId;
use t8k_core::content::edit::{self, Mode};
use t8k_core::content::menus::{self, Menu, MenuItem};
use t8k_core::content::{Page, Pane};
use t8k_core::store::local::LocalStore;

/// A small xorshift generator: the sequence is reproducible from the seed printed on failure.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

fn site(root: &Root, id: &str, theme: &str) {
    let mut args = root.create_args(id);
    args.extend(["--theme".into(), theme.into()]);
    root.run(&args.iter().map(String::as_str).collect::<Vec<_>>())
        .ok();
    let src = root.dir.path().join(format!("{id}-src"));
    let mut files: Vec<(String, String)> = vec![
        ("home.md".into(), "+++\ntitle = \"Home\"\nmenu = \"main\"\n+++\nWelcome.\n".into()),
        ("about.md".into(), "+++\ntitle = \"About\"\nmenu = \"main\"\nweight = 2\naliases = [\"/who/\"]\n+++\n## Who\n\nUs.\n".into()),
        ("posts/_index.md".into(), "+++\ntitle = \"Posts\"\nmenu = \"main\"\n+++\nAll the posts.\n".into()),
    ];
    for i in 0..30 {
        files.push((
            format!("posts/post-{i:02}.md"),
            format!(
                "+++\ntitle = \"Post {i}\"\ndate = 2024-02-{:02}\ntags = [\"t{}\", \"all\"]\n+++\nBody of post {i}.\n\n## Part\n\nMore.\n",
                i % 28 + 1,
                i % 4
            ),
        ));
    }
    // A page with an image without alt text: a warning every build must report.
    files.push((
        "photo/index.md".into(),
        "+++\ntitle = \"Photo\"\n+++\n![](pic.png)\n".into(),
    ));
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    write_files(&src, &refs);
    std::fs::write(src.join("photo/pic.png"), common::gradient_png(64, 48)).unwrap();
    root.run(&["content", "import", id, src.to_str().unwrap()])
        .ok();
}

/// One random edit; returns what it did and whether only one page's body changed.
fn edit(store: &LocalStore, id: &TenantId, rng: &mut Rng, step: usize) -> (String, bool) {
    let slugs: Vec<String> = edit::list(store, id)
        .unwrap()
        .into_iter()
        .map(|s| s.slug)
        .filter(|s| s.starts_with("posts/post-"))
        .collect();
    let slug = slugs[rng.below(slugs.len())].clone();
    let mut page: Page = edit::get(store, id, &slug).unwrap().unwrap();
    let save = |p: &Page| edit::save(store, id, p, Mode::Update).unwrap();
    match rng.below(9) {
        0 => {
            page.title = format!("Retitled {step}");
            save(&page);
            (format!("title of {slug}"), false)
        }
        1 => {
            page.panes[0].markdown = format!("A new body, step {step}.\n\n- one\n- two\n");
            save(&page);
            (format!("pane of {slug}"), !page.draft)
        }
        2 => {
            page.draft = !page.draft;
            save(&page);
            (format!("draft toggle of {slug}"), false)
        }
        3 => {
            edit::delete(store, id, &slug).unwrap();
            (format!("delete {slug}"), false)
        }
        4 => {
            let mut new = Page::new(format!("posts/new-{step}"), format!("New {step}"));
            new.date = Some(format!("2025-01-{:02}", rng.below(28) + 1));
            new.panes = vec![Pane {
                markdown: format!("Fresh page {step}."),
                options: Default::default(),
            }];
            edit::save(store, id, &new, Mode::Create).unwrap();
            (format!("new page {}", new.slug), false)
        }
        5 => {
            let menu = Menu {
                name: "main".into(),
                title: String::new(),
                items: vec![
                    MenuItem {
                        label: format!("Pick {step}"),
                        page: Some(slug.clone()),
                        url: None,
                        weight: 1,
                    },
                    MenuItem {
                        label: "About".into(),
                        page: Some("about".into()),
                        url: None,
                        weight: 2,
                    },
                ],
            };
            menus::put(store, id, &menu).unwrap();
            (format!("main menu now links {slug}"), false)
        }
        6 => {
            page.date = Some(format!(
                "20{:02}-0{}-11",
                20 + rng.below(6),
                rng.below(9) + 1
            ));
            save(&page);
            (format!("date of {slug} (listings reorder)"), false)
        }
        7 => {
            page.taxonomies
                .insert("tags".into(), vec![format!("t{}", rng.below(6))]);
            save(&page);
            (format!("tags of {slug}"), false)
        }
        _ => {
            page.aliases = vec![format!("old-{step}")];
            save(&page);
            (format!("alias of {slug}"), false)
        }
    }
}

/// A build by a long-running builder that keeps `warm` between builds, shaped as the
/// `t8k --json build` summary the test compares.
fn built_warm(root: &Root, warm: &t8k_builder::Warm, tenant: &str) -> serde_json::Value {
    let inst = t8k_core::lifecycle::Installation::new(
        Box::new(LocalStore::new(root.path())),
        Default::default(),
    );
    let themes =
        t8k_builder::Themes::new(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("themes"));
    let id = TenantId::trusted(tenant).unwrap();
    let mode = t8k_builder::Mode::CHANGED;
    let o = t8k_builder::build_tenant(&inst, &themes, &id, &root.file("build"), mode, Some(warm));
    assert!(o.error.is_none(), "{o:?}");
    let warnings: Vec<String> = o
        .warnings
        .iter()
        .map(|w| format!("tenant '{tenant}', {w}"))
        .collect();
    serde_json::json!({"warnings": warnings, "written": o.written, "kept": o.kept})
}

fn built(root: &Root, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["--json", "build"];
    all.extend_from_slice(args);
    let s = root.run(&all).ok().json();
    assert_eq!(s["failed"].as_u64(), Some(0), "{s}");
    s
}

#[test]
fn incremental_builds_equal_full_builds_after_random_edits() {
    #[allow(clippy::disallowed_methods)] // the test's own switch, not t8k's config
    let seed = std::env::var("T8K_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    let root = Root::new();
    root.init_multi(10);
    site(&root, "acme", "default");
    site(&root, "gazette", "editorial");
    let first = built(&root, &["acme", "gazette"]);
    assert_eq!(first["kept"].as_u64(), Some(0), "a first build renders all");
    let store = LocalStore::new(root.path());
    let full = root.dir.path().join("full");
    let mut rng = Rng(seed);
    let mut small_edits = 0;
    let warm = t8k_builder::Warm::new(4);
    for step in 0..24 {
        let tenant = ["acme", "gazette"][step % 2];
        let id = TenantId::trusted(tenant).unwrap();
        let (what, body_only) = edit(&store, &id, &mut rng, step);
        // Steps 4–7 and 12–15 by the long-running builder: each tenant twice in a row (the
        // second time from what it kept), then after `t8k build` rewrote its manifest.
        let inc = match step % 8 >= 4 {
            true => built_warm(&root, &warm, tenant),
            false => built(&root, &[tenant]),
        };
        let whole = built(&root, &[tenant, "--full", "--out", full.to_str().unwrap()]);
        assert_eq!(
            inc["warnings"], whole["warnings"],
            "seed {seed}, step {step} ({what}): kept pages keep their warnings"
        );
        assert!(inc["warnings"].to_string().contains("no alt text"), "{inc}");
        let (a, b) = (
            bundle_files(&root.file(&format!("build/{tenant}"))),
            bundle_files(&full.join(tenant)),
        );
        let names =
            |m: &std::collections::BTreeMap<String, Vec<u8>>| m.keys().cloned().collect::<Vec<_>>();
        assert_eq!(
            names(&a),
            names(&b),
            "seed {seed}, step {step} ({what}): the incremental bundle has other files"
        );
        for (name, bytes) in &a {
            assert!(
                b[name] == *bytes,
                "seed {seed}, step {step} ({what}): {tenant}/{name} differs from a full build"
            );
        }
        if body_only {
            // The page, the sitemap (its lastmod), and the listing pages that list it (all
            // pages, its section, its two terms: they are keyed by the pages they list).
            let written = inc["written"].as_u64().unwrap();
            assert!(
                written <= 6 && inc["kept"].as_u64().unwrap() > 40,
                "seed {seed}, step {step} ({what}): {inc}"
            );
            small_edits += 1;
        }
    }
    eprintln!("seed {seed}: {small_edits} body-only edits");
}

#[test]
fn a_build_killed_after_it_began_replacing_files_is_followed_by_a_full_one() {
    let root = Root::new();
    root.init_multi(10);
    site(&root, "acme", "default");
    built(&root, &["acme"]);
    let manifest = root.file("build/acme.pages");
    assert!(manifest.is_file());
    // What a build killed half-way through putting files in place leaves: a bundle that is
    // part old, part new, and no manifest (it is removed before the first file is replaced).
    std::fs::write(root.file("build/acme/about/index.html"), b"half-written").unwrap();
    std::fs::remove_file(&manifest).unwrap();
    let next = built(&root, &["acme"]);
    assert_eq!(next["kept"].as_u64(), Some(0), "no manifest: a full build");
    assert_ne!(
        std::fs::read(root.file("build/acme/about/index.html")).unwrap(),
        b"half-written"
    );
    let again = built(&root, &["acme"]);
    assert_eq!(again["written"].as_u64(), Some(0), "{again}");
}
