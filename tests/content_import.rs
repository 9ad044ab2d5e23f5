//! `t8k content import|export` through the real binary: Hugo/Zola-shaped folders in, the same
//! shape out, all-or-nothing imports, quotas.

mod common;

use common::{Root, write_files};

const SITE: &[(&str, &str)] = &[
    (
        "home.md",
        "+++\ntitle = \"Home\"\nmenu = \"main\"\n+++\nWelcome.\n",
    ),
    (
        "about.md",
        "---\ntitle: About us\ndescription: Who we are\nmenu: [main, footer]\nweight: 5\n---\n# About\n\nText with a table:\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
    ),
    (
        "blog/first-post.md",
        "+++\ntitle = \"First post\"\ndate = 2024-05-01T10:00:00Z\ntags = [\"news\", \"intro\"]\n[extra]\nmood = \"happy\"\n+++\nHello *world*.\n",
    ),
    (
        "blog/draft.md",
        "---\ntitle: Unfinished\ndraft: true\nsubtitle: null\n---\nTBD\n",
    ),
    (
        "docs/_index.md",
        "+++\ntitle = \"Docs\"\n+++\n<!-- t8k:pane {\"class\":\"intro\"} -->\nIntro pane\n<!-- t8k:pane -->\nSecond pane\n",
    ),
];

fn setup() -> (Root, std::path::PathBuf) {
    let root = Root::new();
    root.init_multi(100);
    root.create("acme").ok();
    let src = root.dir.path().join("src");
    write_files(&src, SITE);
    (root, src)
}

fn import(root: &Root, dir: &std::path::Path, extra: &[&str]) -> common::Run {
    let mut args = vec!["--json", "content", "import", "acme", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    root.run(&args)
}

fn export(root: &Root, name: &str) -> std::path::PathBuf {
    let out = root.dir.path().join(name);
    root.run(&["content", "export", "acme", out.to_str().unwrap()])
        .ok();
    out
}

/// Every file under `dir` (relative path, text).
fn read_tree(dir: &std::path::Path) -> Vec<(String, String)> {
    common::bundle_files(dir)
        .into_iter()
        .map(|(n, b)| (n, String::from_utf8(b).unwrap()))
        .collect()
}

#[test]
fn import_export_import_is_lossless() {
    let (root, src) = setup();
    let r = import(&root, &src, &[]).ok().json();
    assert_eq!(
        r["files"], 6,
        "5 files and the section Hugo makes for blog/"
    );
    // `home` came with the starter content, so it is an update; the rest are new.
    assert_eq!(r["updated"], serde_json::json!(["home"]));
    assert_eq!(r["created"].as_array().unwrap().len(), 5);

    let first = export(&root, "export1");
    let names: Vec<_> = read_tree(&first).into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "about.md",
            "blog/_index.md",
            "blog/draft.md",
            "blog/first-post.md",
            "docs/_index.md",
            "home.md"
        ]
    );

    // Re-importing the export changes nothing at all: no page updated, same content version.
    let version = r["content_version"].as_i64().unwrap();
    let again = import(&root, &first, &[]).ok().json();
    assert_eq!(again["unchanged"], 6, "{again}");
    assert_eq!(again["updated"], serde_json::json!([]));
    assert_eq!(
        again["content_version"].as_i64().unwrap(),
        version,
        "unchanged pages must not bump the content version"
    );

    // And exporting again gives byte-identical files.
    let second = export(&root, "export2");
    assert_eq!(read_tree(&first), read_tree(&second));

    let post = std::fs::read_to_string(first.join("blog/first-post.md")).unwrap();
    for expected in [
        "title = \"First post\"",
        "date = \"2024-05-01T10:00:00Z\"",
        "tags = [",
        "mood = \"happy\"",
    ] {
        assert!(post.contains(expected), "{expected} missing from:\n{post}");
    }
    let about = std::fs::read_to_string(first.join("about.md")).unwrap();
    assert!(
        about.contains("menu = [\n    \"footer\",\n    \"main\",\n]")
            || about.contains("menu = [\"footer\", \"main\"]"),
        "{about}"
    );
    let docs = std::fs::read_to_string(first.join("docs/_index.md")).unwrap();
    assert!(
        docs.contains(
            "<!-- t8k:pane {\"class\":\"intro\"} -->\nIntro pane\n<!-- t8k:pane -->\nSecond pane"
        ),
        "{docs}"
    );
    let draft = std::fs::read_to_string(first.join("blog/draft.md")).unwrap();
    assert!(
        draft.starts_with("---\n") && draft.contains("draft: true"),
        "null values need YAML:\n{draft}"
    );
}

#[test]
fn changed_pages_alone_are_updated_and_bump_the_version() {
    let (root, src) = setup();
    let v1 = import(&root, &src, &[]).ok().json()["content_version"]
        .as_i64()
        .unwrap();
    std::fs::write(src.join("about.md"), "---\ntitle: About us\ndescription: Who we are now\nmenu: [main, footer]\nweight: 5\n---\nNew text\n").unwrap();
    let r = import(&root, &src, &[]).ok().json();
    assert_eq!(r["updated"], serde_json::json!(["about"]));
    assert_eq!(r["unchanged"], 5);
    assert!(r["content_version"].as_i64().unwrap() > v1);
}

#[test]
fn a_bad_file_is_reported_with_path_and_line_and_nothing_is_imported() {
    let (root, src) = setup();
    write_files(
        &src,
        &[
            ("broken.md", "+++\ntitle = \"ok\"\ndraft = \"maybe\"\n+++\n"),
            ("unclosed.md", "+++\ntitle = \"never closed\"\n"),
        ],
    );
    let before = root.run(&["--json", "tenant", "show", "acme"]).ok().json();
    let out = root
        .run(&["content", "import", "acme", src.to_str().unwrap()])
        .fails(1, "nothing was imported");
    assert!(
        out.stderr.contains("broken.md:3:") && out.stderr.contains("draft"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("unclosed.md:1:"),
        "every bad file is listed: {}",
        out.stderr
    );
    let after = root.run(&["--json", "tenant", "show", "acme"]).ok().json();
    assert_eq!(before["content_version"], after["content_version"]);
    assert_eq!(after["usage"]["pages"], 1);

    let dup = root.dir.path().join("dup");
    write_files(
        &dup,
        &[
            ("a.md", "+++\ntitle = \"A\"\nslug = \"same\"\n+++\n"),
            ("b.md", "+++\ntitle = \"B\"\nslug = \"same\"\n+++\n"),
        ],
    );
    root.run(&["content", "import", "acme", dup.to_str().unwrap()])
        .fails(1, "also used by");
    root.run(&["content", "import", "acme", "/nonexistent/folder"])
        .fails(1, "is not a folder");
}

#[test]
fn prune_deletes_pages_not_in_the_folder_but_never_home() {
    let (root, src) = setup();
    import(&root, &src, &[]).ok();
    std::fs::remove_file(src.join("blog/draft.md")).unwrap();
    let r = import(&root, &src, &["--prune"]).ok().json();
    assert_eq!(r["deleted"], serde_json::json!(["blog/draft"]));
    assert_eq!(
        root.run(&["--json", "tenant", "usage", "acme"]).ok().json()["pages"],
        5
    );

    let only = root.dir.path().join("only");
    write_files(&only, &[("x.md", "+++\ntitle = \"X\"\n+++\n")]);
    root.run(&[
        "content",
        "import",
        "acme",
        only.to_str().unwrap(),
        "--prune",
    ])
    .fails(1, "home page");
    assert_eq!(
        root.run(&["--json", "tenant", "usage", "acme"]).ok().json()["pages"],
        5,
        "refused prune changed nothing"
    );
}

#[test]
fn imports_past_max_pages_or_storage_are_refused_and_change_nothing() {
    let (root, src) = setup();
    root.run(&["tenant", "set-quota", "acme", "--pages", "3"])
        .ok();
    let out = root
        .run(&["content", "import", "acme", src.to_str().unwrap()])
        .fails(1, "MAX_PAGES is 3");
    assert!(out.stderr.contains("6 story fragments"), "{}", out.stderr);
    assert_eq!(
        root.run(&["--json", "tenant", "usage", "acme"]).ok().json()["pages"],
        1
    );

    root.run(&[
        "tenant",
        "set-quota",
        "acme",
        "--pages",
        "100",
        "--storage",
        "200kB",
    ])
    .ok();
    let big = root.dir.path().join("big");
    let body = "lorem ipsum dolor sit amet ".repeat(20_000);
    write_files(
        &big,
        &[("big.md", &format!("+++\ntitle = \"Big\"\n+++\n{body}"))],
    );
    root.run(&["content", "import", "acme", big.to_str().unwrap()])
        .fails(1, "STORAGE_QUOTA is 200kB");
    assert_eq!(
        root.run(&["--json", "tenant", "usage", "acme"]).ok().json()["pages"],
        1
    );
}

#[test]
fn export_refuses_a_non_empty_folder_without_force() {
    let (root, _) = setup();
    let out = root.dir.path().join("busy");
    write_files(&out, &[("keep.txt", "mine")]);
    root.run(&["content", "export", "acme", out.to_str().unwrap()])
        .fails(1, "--force");
    root.run(&[
        "content",
        "export",
        "acme",
        out.to_str().unwrap(),
        "--force",
    ])
    .ok();
    assert_eq!(
        std::fs::read_to_string(out.join("keep.txt")).unwrap(),
        "mine"
    );
    assert!(out.join("home.md").is_file());
}

#[test]
fn lenient_front_matter_and_underscored_slugs_import_as_hugo_and_zola_build_them() {
    let root = Root::new();
    root.init_multi(100);
    root.create("acme").ok();
    let src = root.dir.path().join("lenient");
    write_files(
        &src,
        &[
            (
                "intro.md",
                "\u{feff}\n\n+++\ntitle = \"Intro\"\n+++\nHello.\n",
            ),
            (
                "setup.md",
                "---\nweight: 2\n---\n# Setting things up\n\nSteps.\n",
            ),
            ("release_notes.md", "+++\n+++\nNothing new.\n"),
            (
                "hooks.md",
                "+++\ntitle = \"Hooks\"\nslug = \"render_hooks\"\n+++\nHooks.\n",
            ),
        ],
    );
    let report = import(&root, &src, &[]).ok().json();
    assert_eq!(report["created"].as_array().unwrap().len(), 4, "{report}");
    root.run(&["build", "acme"]).ok();
    for (slug, title) in [
        ("intro", "Intro"),
        ("setup", "Setting things up"),
        ("release_notes", "Release notes"),
        ("render_hooks", "Hooks"),
    ] {
        let page =
            std::fs::read_to_string(root.path().join(format!("build/acme/{slug}/index.html")))
                .unwrap_or_else(|e| panic!("{slug}: {e}"));
        assert!(page.contains(&format!("<title>{title}")), "{slug}: {page}");
    }
}
