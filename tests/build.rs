//! `t8k build` end to end: fixture tenants built into temp data roots, the bundles checked;
//! builds killed mid-run leave staging folders that the next build reclaims.

mod common;

use std::collections::{BTreeSet, VecDeque};

use common::{
    Root, bundle_files as files, copy_dir, eventually, link_target as target, links, write_files,
};

fn fixture() -> Root {
    let root = Root::new();
    root.init_multi(100);
    root.create("acme").ok();
    let gazette = root.create_args("gazette");
    let mut args: Vec<&str> = gazette.iter().map(String::as_str).collect();
    args.extend_from_slice(&["--theme", "editorial"]);
    root.run(&args).ok();

    let src = root.dir.path().join("acme-src");
    let mut files: Vec<(String, String)> = vec![
        ("home.md".into(), "+++\ntitle = \"Acme\"\nmenu = \"main\"\ndescription = \"Bakery & café\"\n+++\n# Welcome\n\nSee [about](/about/) and [the menu](/menu/#breads).\n".into()),
        ("about.md".into(), "+++\ntitle = \"About\"\nmenu = [\"main\", \"footer\"]\nweight = 2\n+++\n## Who\n\nUs.[^1]\n\n[^1]: Really.\n".into()),
        ("menu.md".into(), "+++\ntitle = \"Menu\"\nmenu = \"main\"\n+++\n## Breads\n\n| a | b |\n|---|---|\n| 1 | 2 |\n".into()),
        ("secret.md".into(), "+++\ntitle = \"Secret draft\"\ndraft = true\nmenu = \"main\"\n+++\nNot yet.\n".into()),
        ("raw.md".into(), "+++\ntitle = \"Raw\"\n+++\nHi <script>alert(1)</script> <b onclick=\"x()\">bold</b>\n".into()),
    ];
    for i in 0..25 {
        files.push((
            format!("posts/post-{i:02}.md"),
            format!(
                "+++\ntitle = \"Post {i} <&>\"\ndate = 2024-01-{:02}\n+++\nBody of post {i}.\n",
                i + 1
            ),
        ));
    }
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    write_files(&src, &refs);
    root.run(&["content", "import", "acme", src.to_str().unwrap()])
        .ok();
    root
}

fn build(root: &Root, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["--json", "build"];
    all.extend_from_slice(args);
    root.run(&all).ok().json()
}

#[test]
fn bundles_hold_every_page_and_every_link_resolves() {
    let root = fixture();
    let summary = build(&root, &[]);
    assert_eq!(
        (summary["built"].as_u64(), summary["failed"].as_u64()),
        (Some(3), Some(0)),
        "{summary}"
    );
    let acme = root.file("build/acme");

    for slug in ["about", "menu", "raw"]
        .into_iter()
        .map(String::from)
        .chain((0..25).map(|i| format!("posts/post-{i:02}")))
    {
        assert!(
            acme.join(&slug).join("index.html").is_file(),
            "{slug} missing"
        );
    }
    assert!(
        acme.join("index.html").is_file() && !acme.join("home").exists(),
        "home is served at /"
    );
    assert!(!acme.join("secret").exists(), "drafts are not built");
    for f in [
        "404.html",
        "sitemap.xml",
        "robots.txt",
        "atom.xml",
        "pages/index.html",
        "pages/2/index.html",
        "pages/3/index.html",
    ] {
        assert!(acme.join(f).is_file(), "{f} missing");
    }

    // Every internal link of every bundle resolves to a file.
    for bundle in ["acme", "gazette", "_main"].map(|b| root.file(&format!("build/{b}"))) {
        for (name, bytes) in files(&bundle)
            .into_iter()
            .filter(|(n, _)| n.ends_with(".html"))
        {
            for url in links(&String::from_utf8(bytes).unwrap()) {
                assert!(
                    target(&bundle, &url).is_file(),
                    "{}/{name} links to missing {url}",
                    bundle.display()
                );
            }
        }
    }

    // Every published page is reachable by following links from the home page.
    let mut seen = BTreeSet::new();
    let mut queue = VecDeque::from([acme.join("index.html")]);
    while let Some(p) = queue.pop_front() {
        if !seen.insert(p.clone()) || p.extension().is_none_or(|e| e != "html") {
            continue;
        }
        for url in links(&std::fs::read_to_string(&p).unwrap()) {
            queue.push_back(target(&acme, &url));
        }
    }
    for (name, _) in files(&acme)
        .into_iter()
        .filter(|(n, _)| n.ends_with("index.html"))
    {
        assert!(
            seen.contains(&acme.join(&name)),
            "{name} is not reachable from the home page"
        );
    }

    // The draft is in no menu, listing, sitemap or feed; raw HTML was sanitised.
    let all_text: String = files(&acme)
        .into_values()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .collect();
    assert!(!all_text.contains("Secret draft") && !all_text.contains("/secret/"));
    let raw = std::fs::read_to_string(acme.join("raw/index.html")).unwrap();
    assert!(
        !raw.contains("<script>alert") && !raw.contains("onclick") && raw.contains("<b>bold</b>"),
        "{raw}"
    );
    // Titles are escaped, markdown extensions on, canonical and OpenGraph absolute.
    let post = std::fs::read_to_string(acme.join("posts/post-03/index.html")).unwrap();
    assert!(post.contains("Post 3 &lt;&amp;&gt;"));
    assert!(
        post.contains("<link rel=\"canonical\" href=\"https://acme.example.com/posts/post-03/\">")
    );
    assert!(post.contains(
        "<meta property=\"og:url\" content=\"https://acme.example.com/posts/post-03/\">"
    ));
    assert!(post.contains("<time datetime=\"2024-01-04\">4 January 2024</time>"));
    let about = std::fs::read_to_string(acme.join("about/index.html")).unwrap();
    assert!(
        about.contains("id=\"who\"") && about.contains("footnote"),
        "{about}"
    );
    // Theme assets are shared objects: once beside the bundles, none inside them.
    let gazette = std::fs::read_to_string(root.file("build/gazette/index.html")).unwrap();
    assert!(
        gazette.contains("href=\"/_t8k/assets/editorial."),
        "{gazette}"
    );
    assert!(
        root.file("build/_shared/assets")
            .read_dir()
            .unwrap()
            .any(|e| e
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("editorial."))
    );
    assert!(
        !root.file("build/gazette/assets").exists() && !root.file("build/acme/assets").exists()
    );
    let register = std::fs::read_to_string(root.file("build/_main/sandbox/register/index.html"))
        .expect("public sign-up page on the main domain");
    // The form posts without JavaScript; the enhancement script is served beside it.
    assert!(register.contains(r#"method="post" action="/api/register""#));
    let script = register
        .split(r#"<script src="/_t8k/"#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the sign-up page loads its enhancement script");
    let js = std::fs::read_to_string(root.file(&format!("build/_shared/{script}"))).unwrap();
    assert!(js.contains("/api/register/check") || js.contains("data-check"));
}

#[test]
fn sitemap_feed_and_robots_are_well_formed_with_the_right_urls() {
    let root = fixture();
    build(&root, &[]);
    let acme = root.file("build/acme");
    let sitemap = std::fs::read_to_string(acme.join("sitemap.xml")).unwrap();
    let doc = roxmltree::Document::parse(&sitemap).expect("sitemap.xml is XML");
    let locs: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("loc"))
        .filter_map(|n| n.text())
        .collect();
    assert_eq!(
        locs.len(),
        4 + 1 + 25 + 3,
        "home, about, menu, raw, the posts section, 25 posts, 3 listing pages: {locs:?}"
    );
    for loc in &locs {
        let path = loc
            .strip_prefix("https://acme.example.com")
            .unwrap_or_else(|| panic!("{loc} is not under SITE_URL"));
        assert!(target(&acme, path).is_file(), "sitemap lists missing {loc}");
    }

    let feed = std::fs::read_to_string(acme.join("atom.xml")).unwrap();
    let doc = roxmltree::Document::parse(&feed).expect("atom.xml is XML");
    let entries: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("entry"))
        .collect();
    assert_eq!(entries.len(), 25, "dated pages only");
    let first = entries[0]
        .descendants()
        .find(|n| n.has_tag_name("title"))
        .unwrap()
        .text()
        .unwrap();
    assert_eq!(
        first, "Post 24 <&>",
        "newest first, text unescaped by the parser"
    );
    assert_eq!(
        doc.descendants()
            .find(|n| n.has_tag_name("updated"))
            .unwrap()
            .text(),
        Some("2024-01-25T00:00:00Z")
    );

    let robots = std::fs::read_to_string(acme.join("robots.txt")).unwrap();
    assert!(robots.contains("Sitemap: https://acme.example.com/sitemap.xml"));
}

#[test]
fn builds_are_deterministic() {
    let root = fixture();
    let a = root.dir.path().join("a");
    let b = root.dir.path().join("b");
    build(&root, &["--out", a.to_str().unwrap()]);
    build(&root, &["--out", b.to_str().unwrap()]);
    for t in ["acme", "gazette", "_main"] {
        let (fa, fb) = (files(&a.join(t)), files(&b.join(t)));
        assert!(!fa.is_empty());
        assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
        for (name, bytes) in &fa {
            assert!(
                fb[name] == *bytes,
                "{t}/{name} differs between two builds of the same inputs"
            );
        }
    }
}

#[test]
fn changed_skips_untouched_tenants_and_rebuilds_touched_ones() {
    let root = fixture();
    build(&root, &[]);
    // Nothing queued, every tenant built: only the main site is even looked at.
    let again = build(&root, &["--changed"]);
    assert_eq!(
        (again["built"].as_u64(), again["skipped"].as_u64()),
        (Some(0), Some(1)),
        "{again}"
    );

    let more = root.dir.path().join("more");
    write_files(
        &more,
        &[("extra.md", "+++\ntitle = \"Extra\"\n+++\nNew.\n")],
    );
    root.run(&["content", "import", "acme", more.to_str().unwrap()])
        .ok();
    let after = build(&root, &["--changed"]);
    assert_eq!(
        (after["built"].as_u64(), after["tenants"].as_u64()),
        (Some(1), Some(2)),
        "acme and the main site: {after}"
    );
    assert!(root.file("build/acme/extra/index.html").is_file());

    // A config change (env.json: here the editor's password) also counts, and so does a
    // tenant not built yet. A quota is no input of the bundle: changing one asks for nothing.
    root.run(&["tenant", "set-quota", "acme", "--pages", "50"])
        .ok();
    let pw = root.password_file();
    root.run(&[
        "user",
        "passwd",
        "gazette",
        "editor",
        "--password-file",
        pw.to_str().unwrap(),
    ])
    .ok();
    root.create("newbie").ok();
    let after = build(&root, &["--changed"]);
    assert_eq!(after["built"].as_u64(), Some(2), "{after}");
    assert!(root.file("build/newbie/index.html").is_file());

    // A change behind t8k's back leaves no trace in the queue; --rescan finds it.
    let env_path = root.file("config/gazette/env.json");
    let mut env: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&env_path).unwrap()).unwrap();
    env["SITE_NAME"] = "Edited by hand".into();
    std::fs::write(&env_path, serde_json::to_vec(&env).unwrap()).unwrap();
    assert_eq!(build(&root, &["--changed"])["built"].as_u64(), Some(0));
    let rescanned = build(&root, &["--changed", "--rescan"]);
    assert_eq!(
        (rescanned["built"].as_u64(), rescanned["tenants"].as_u64()),
        (Some(1), Some(4)),
        "{rescanned}"
    );

    // A theme edit makes every tenant on it a candidate again.
    let theme = root.dir.path().join("themes");
    copy_dir(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("themes"),
        &theme,
    );
    let css = theme.join("editorial/static/editorial.css");
    let mut bytes = std::fs::read(&css).unwrap();
    bytes.extend_from_slice(b"\n/* edited */\n");
    std::fs::write(&css, bytes).unwrap();
    let t = theme.to_str().unwrap();
    let first = build(&root, &["--changed", "--themes", t]);
    assert_eq!(
        first["tenants"].as_u64(),
        Some(4),
        "a new pass looks at all: {first}"
    );
    let second = build(&root, &["--changed", "--themes", t]);
    assert_eq!(second["tenants"].as_u64(), Some(1), "{second}");
}

#[test]
fn one_failing_tenant_does_not_stop_the_others_and_exits_1() {
    let root = fixture();
    let env_path = root.file("config/gazette/env.json");
    let mut env: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&env_path).unwrap()).unwrap();
    env["THEME"] = "no-such-theme".into();
    std::fs::write(&env_path, serde_json::to_vec(&env).unwrap()).unwrap();
    let out = root.run(&["build"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("no-such-theme"), "{}", out.stderr);
    assert!(
        root.file("build/acme/index.html").is_file(),
        "the other tenant was built"
    );
}

#[test]
fn shards_split_the_tenants_and_named_builds_check_names() {
    let root = fixture();
    root.create("third").ok();
    let one = build(&root, &["--shard", "1/2"]);
    let two = build(&root, &["--shard", "2/2"]);
    assert_eq!(
        one["tenants"].as_u64().unwrap() + two["tenants"].as_u64().unwrap(),
        3 + 2,
        "3 tenants + the main site twice"
    );
    root.run(&["build", "--shard", "3/2"]).fails(2, "I/N");
    root.run(&["build", "nosuch"]).fails(1, "does not exist");
    root.run(&["tenant", "deactivate", "third"]).ok();
    root.run(&["build", "third"]).fails(1, "inactive");
    let only = build(&root, &["acme"]);
    assert_eq!(only["tenants"], 1);
}

#[test]
fn every_tenant_page_loads_the_small_tracker_and_the_main_site_does_not() {
    let root = fixture();
    build(&root, &[]);
    let home = std::fs::read_to_string(root.file("build/acme/index.html")).unwrap();
    let src = home
        .split(r#"<script src="/_t8k/"#)
        .find(|s| s.starts_with("assets/t8k."))
        .and_then(|s| s.split('"').next())
        .expect("the tracker is loaded from the shared assets");
    assert!(home.contains(r#"data-endpoint="/api/beacon""#));
    assert!(
        !home.contains("data-local"),
        "silent on localhost unless enabled"
    );
    let tracker = std::fs::read(root.file(&format!("build/_shared/{src}"))).unwrap();
    // Page views, reading, clicks and Core Web Vitals in at most 2 KB.
    assert!(
        tracker.len() <= 2048,
        "the tracker is {} bytes",
        tracker.len()
    );
    let js = String::from_utf8(tracker).unwrap();
    for needle in [
        "doNotTrack",
        "globalPrivacyControl",
        "sendBeacon",
        "keepalive",
        "7e3",
        "42e3",
    ] {
        assert!(js.contains(needle), "{needle}");
    }
    assert!(
        home.contains("data-pane=\"1\""),
        "panes are marked for GLOSSED/READ"
    );
    let landing = std::fs::read_to_string(root.file("build/_main/index.html")).unwrap();
    assert!(!landing.contains("t8k."), "no beacons from the main domain");
}

/// Staging folders of builds in `build/`.
fn staging_folders(root: &Root) -> Vec<String> {
    std::fs::read_dir(root.file("build"))
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.contains(".staging-") && !n.ends_with(".lease"))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn builds_killed_mid_run_leave_folders_the_next_build_reclaims() {
    let root = Root::new();
    root.init_multi(10);
    root.create("acme").ok();
    let body = "Words of a long page. ".repeat(400);
    let pages: Vec<(String, String)> = (0..1500)
        .map(|i| {
            (
                format!("page-{i:04}.md"),
                format!("+++\ntitle = \"Page {i}\"\n+++\n{body}\n"),
            )
        })
        .collect();
    root.run(&["tenant", "set-quota", "acme", "--pages", "2000"])
        .ok();
    root.import_pages("acme", "content", &pages);
    // Kill a build mid-run (at growing moments, until one leaves its staging folder).
    let quiet = |args: &[&str]| {
        let mut c = root.cmd(args);
        c.stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        c.spawn().unwrap()
    };
    // Mid-run: the staging folder left behind already holds files (a kill before the first
    // write leaves an empty one, which the next attempt reclaims).
    let holds_files = || {
        staging_folders(&root).iter().any(|f| {
            std::fs::read_dir(root.file(&format!("build/{f}")))
                .is_ok_and(|mut d| d.next().is_some())
        })
    };
    let mut delay = 50;
    while !holds_files() && delay < 20_000 {
        let mut child = quiet(&["build", "acme"]);
        std::thread::sleep(std::time::Duration::from_millis(delay));
        unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
        child.wait().unwrap();
        delay += 100;
    }
    let left = staging_folders(&root);
    assert_eq!(left.len(), 1, "no build was killed mid-run: {left:?}");
    // The next build reclaims it and says so; while that build runs, its own folder is never
    // taken by a third.
    let reclaiming = root
        .cmd(&["--json", "build", "acme"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    assert!(eventually(30, || {
        let now = staging_folders(&root);
        now.len() == 1 && now != left
    }));
    let third = root.run(&["--json", "build", "acme"]).ok().json();
    assert_eq!(third["reclaimed"]["folders"], 0, "{third}");
    let out = reclaiming.wait_with_output().unwrap();
    assert!(out.status.success(), "the running build was not disturbed");
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["reclaimed"]["folders"], 1, "{r}");
    assert!(r["reclaimed"]["bytes"].as_u64().unwrap() > 0, "{r}");
    assert_eq!(staging_folders(&root), Vec::<String>::new());
    let human = root.run(&["build", "acme"]).ok().stdout;
    assert!(
        !human.contains("Reclaimed"),
        "nothing left to reclaim: {human}"
    );
}
