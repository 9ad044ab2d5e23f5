//! Importing whole Hugo and Zola sites: fixture sites that use nested sections, page bundles
//! with images, headless sections with cascade, aliases, taxonomies, shortcodes, pages
//! without titles, blank lines before front matter, underscores and upper-case file names.
//! Each is imported and built; the Hugo fixture is also built by Debian's `hugo` and the two
//! address sets compared; every internal link of the bundle resolves.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{Root, bundle_files, gradient_png, link_target, links, write_files};

/// Templates just big enough for `hugo` to write every page (the comparison needs its file
/// list, not its looks).
const HUGO_LAYOUTS: &[(&str, &str)] = &[
    (
        "layouts/_default/single.html",
        "<h1>{{ .Title }}</h1>{{ .Content }}",
    ),
    (
        "layouts/_default/list.html",
        "<h1>{{ .Title }}</h1>{{ .Content }}{{ range .Pages }}<a href=\"{{ .RelPermalink }}\">{{ .Title }}</a>{{ end }}",
    ),
    ("layouts/index.html", "{{ .Content }}"),
    // The site's own shortcode (t8k warns about it), and `details`, built into Hugo only
    // from 0.140 (Debian ships an older one).
    ("layouts/shortcodes/unknowncode.html", "x"),
    (
        "layouts/shortcodes/details.html",
        "<details><summary>{{ .Get \"summary\" }}</summary>{{ .Inner | markdownify }}</details>",
    ),
];

const HUGO_SITE: &[(&str, &str)] = &[
    (
        "content/docs/plain.md",
        "# Plain page\n\nNo front matter at all.\n",
    ),
    (
        "content/docs/json.md",
        "{\n  \"title\": \"JSON front matter\",\n  \"date\": \"2019-03-05 10:00:00 +0200\"\n}\nBody.\n",
    ),
    (
        "hugo.toml",
        "baseURL = \"https://example.org/\"\ntitle = \"Docs\"\ndisableKinds = [\"RSS\", \"sitemap\", \"robotsTXT\"]\n[params]\nversion = \"2.4\"\n",
    ),
    (
        "content/_index.md",
        "+++\ntitle = \"Home\"\n+++\nWelcome. Read the [guide]({{< ref \"docs/guide/_index.md\" >}}) for v{{< param version >}}.\n",
    ),
    (
        "content/docs/_index.md",
        "---\ntitle: Documentation\n---\nAll the docs.\n",
    ),
    (
        "content/docs/guide/_index.md",
        "\n\n+++\ntitle = \"Guide\"\nweight = 1\n+++\nStart with [installing]({{< relref \"install\" >}}).\n",
    ),
    (
        "content/docs/guide/install.md",
        "+++\ntitle = \"Install\"\nweight = 1\ntags = [\"Setup\", \"Linux\"]\naliases = [\"/old/install/\", \"setup\"]\n+++\n{{< highlight sh >}}\napt install thing\n{{< /highlight >}}\n\nNext: [configure]({{< ref \"/docs/guide/deep/configure.md#options\" >}}).\n",
    ),
    (
        "content/docs/guide/deep/configure.md",
        "\u{feff}---\ntags: [Setup]\ncategories: [Reference]\n---\n# Configure it\n\n## Options\n\n{{< details summary=\"All options\" >}}\n*many*\n{{< /details >}}\n",
    ),
    (
        "content/docs/render_hooks.md",
        "+++\ntitle = \"Render hooks\"\n+++\nHooks. {{< unknowncode x >}}\n",
    ),
    (
        "content/docs/Upper_Case.md",
        "+++\ntitle = \"Upper\"\n+++\nCase.\n",
    ),
    (
        "content/docs/moved.md",
        "+++\ntitle = \"Moved\"\nurl = \"/elsewhere/moved-here/\"\n+++\nMoved.\n",
    ),
    (
        "content/docs/named.md",
        "+++\ntitle = \"Named\"\nslug = \"a-better-name\"\n+++\nNamed.\n",
    ),
    (
        "content/blog/first-post/index.md",
        "+++\ntitle = \"First post\"\ndate = 2024-05-01\n+++\n![A cat](cat.png)\n\n{{< figure src=\"cat.png\" caption=\"The cat\" >}}\n\n{{< youtube dQw4w9WgXcQ >}}\n\n{{< vimeo 146022717 >}}\n",
    ),
    (
        "content/blog/first-post/notes.md",
        "+++\ntitle = \"Bundle resource\"\n+++\nNot a page.\n",
    ),
    (
        "content/snippets/_index.md",
        "+++\ntitle = \"Snippets\"\n[cascade._build]\nrender = \"never\"\nlist = \"never\"\n+++\n",
    ),
    (
        "content/snippets/note.md",
        "+++\ntitle = \"Snippet\"\n+++\nIncluded elsewhere.\n",
    ),
    (
        "content/headless/index.md",
        "+++\ntitle = \"Headless\"\nheadless = true\n+++\n",
    ),
];

const ZOLA_SITE: &[(&str, &str)] = &[
    (
        "config.toml",
        "base_url = \"https://example.org\"\ntitle = \"Z\"\ntaxonomies = [{ name = \"tags\" }]\n",
    ),
    (
        "content/_index.md",
        "+++\ntitle = \"Zola home\"\n+++\nSee [the intro](@/documentation/getting-started/overview.md#first).\n",
    ),
    (
        "content/documentation/_index.md",
        "+++\ntitle = \"Documentation\"\nsort_by = \"weight\"\n+++\n",
    ),
    (
        "content/documentation/getting-started/_index.md",
        "\n+++\ntitle = \"Getting started\"\n+++\n",
    ),
    (
        "content/documentation/getting-started/overview.md",
        "+++\ntitle = \"Overview\"\n[taxonomies]\ntags = [\"Intro\", \"Tera 1.x\"]\n+++\n## First\n\n{{ youtube(id=\"dQw4w9WgXcQ\") }}\n",
    ),
    (
        "content/documentation/getting-started/Render_Hooks.md",
        "+++\n+++\n# Render hooks in Zola\n",
    ),
    (
        "content/blog/2024-03-02-launch-day.md",
        "+++\ntitle = \"Launch\"\naliases = [\"/news/launch/\"]\n+++\nBack to [docs](@/documentation/_index.md).\n",
    ),
    (
        "content/blog/with-assets/index.md",
        "+++\ntitle = \"Assets\"\n+++\n![plan](plan.png)\n\n{{ figure(src=\"plan.png\", caption=\"The plan\") }}\n\n{{ vimeo(id=\"146022717\") }}\n\n{% details(summary=\"Why\") %}\nBecause **so**.\n{% end %}\n",
    ),
    (
        "content/hidden.md",
        "+++\ntitle = \"Hidden\"\nrender = false\n+++\n",
    ),
];

fn import(root: &Root, dir: &Path, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["--json", "content", "import", "acme", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    root.run(&args).ok().json()
}

fn setup(name: &str, site: &[(&str, &str)], image: &str) -> (Root, std::path::PathBuf) {
    let root = Root::new();
    root.init_multi(10);
    root.create("acme").ok();
    let src = root.dir.path().join(name);
    write_files(&src, site);
    std::fs::write(src.join(image), gradient_png(40, 30)).unwrap();
    (root, src)
}

/// Folders holding an `index.html`, as `/a/b/` URLs.
fn page_urls(bundle: &Path) -> BTreeSet<String> {
    bundle_files(bundle)
        .into_keys()
        .filter_map(|f| f.strip_suffix("index.html").map(|d| format!("/{d}")))
        .collect()
}

fn report_of<'a>(r: &'a serde_json::Value, file: &str) -> &'a serde_json::Value {
    r["report"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["file"] == file)
        .unwrap_or_else(|| panic!("{file} not in the report: {r:#}"))
}

/// Every site-relative link of every HTML file resolves to a file of the bundle.
fn assert_links_resolve(bundle: &Path) -> usize {
    let mut checked = 0;
    for (name, bytes) in bundle_files(bundle)
        .into_iter()
        .filter(|(n, _)| n.ends_with(".html"))
    {
        for url in links(&String::from_utf8(bytes).unwrap()) {
            assert!(
                link_target(bundle, &url).is_file(),
                "{name} links to missing {url}"
            );
            checked += 1;
        }
    }
    checked
}

#[test]
fn a_hugo_site_keeps_the_addresses_hugo_gives_it_and_every_link_resolves() {
    let (root, src) = setup("hugo-site", HUGO_SITE, "content/blog/first-post/cat.png");

    // A dry run reports per file and writes nothing.
    let dry = import(&root, &src, &["--dry-run"]);
    assert_eq!(
        (dry["dry_run"].as_bool(), dry["generator"].as_str()),
        (Some(true), Some("hugo"))
    );
    assert!(
        root.run(&[
            "--json",
            "content",
            "export",
            "acme",
            root.dir.path().join("x").to_str().unwrap()
        ])
        .ok()
        .json()["files"]
            .as_array()
            .unwrap()
            .len()
            == 1,
        "the dry run wrote nothing"
    );

    let r = import(&root, &src, &[]);
    assert_eq!(
        r["files"], 13,
        "12 files and the blog section Hugo makes: {r:#}"
    );
    assert_eq!(r["media"], 1);
    for (file, why) in [
        ("blog/first-post/notes.md", "resource of the page bundle"),
        ("snippets/_index.md", "cascade from snippets/_index.md"),
        ("snippets/note.md", "cascade from snippets/_index.md"),
        ("headless/index.md", "headless"),
    ] {
        let f = report_of(&r, file);
        assert_eq!(f["status"], "skipped", "{file}: {f}");
        assert!(f["reason"].as_str().unwrap().contains(why), "{file}: {f}");
    }
    let unknown = report_of(&r, "docs/render_hooks.md");
    assert!(
        unknown["warnings"][0]
            .as_str()
            .unwrap()
            .contains("unknowncode"),
        "{unknown}"
    );
    assert_eq!(
        report_of(&r, "docs/Upper_Case.md")["url"],
        "/docs/upper_case/"
    );

    root.run(&["build"]).ok();
    let bundle = root.file("build/acme");
    let ours = page_urls(&bundle);

    // The same content built by hugo itself: the same page addresses (t8k adds its own
    // all-pages listing).
    let hugo_out = root.dir.path().join("hugo-public");
    write_files(&src, HUGO_LAYOUTS);
    if common::needs("hugo", common::on_path("hugo").is_some()) {
        let status = std::process::Command::new("hugo")
            .args([
                "--quiet",
                "--source",
                src.to_str().unwrap(),
                "--destination",
                hugo_out.to_str().unwrap(),
            ])
            .status()
            .unwrap();
        assert!(status.success(), "hugo failed on the fixture");
        let ours_comparable: BTreeSet<String> = ours
            .iter()
            .filter(|u| !u.starts_with("/pages/"))
            .cloned()
            .collect();
        assert_eq!(
            ours_comparable,
            page_urls(&hugo_out),
            "t8k vs hugo page addresses"
        );
    }

    // Sections list their pages; breadcrumbs, terms, redirects, shortcodes, media.
    let read = |rel: &str| {
        std::fs::read_to_string(bundle.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    };
    let guide = read("docs/guide/index.html");
    assert!(
        guide.contains("href=\"/docs/guide/deep/configure/\""),
        "a folder without _index.md belongs to the section above: {guide}"
    );
    assert!(
        guide.contains("href=\"/docs/guide/install/\">Install"),
        "{guide}"
    );
    let install = read("docs/guide/install/index.html");
    assert!(
        install.contains("class=\"breadcrumbs\"")
            && install.contains("href=\"/docs/guide/\">Guide"),
        "{install}"
    );
    assert!(
        install.contains("href=\"/tags/setup/\" rel=\"tag\">Setup"),
        "{install}"
    );
    assert!(
        install.contains("language-sh"),
        "highlight became a fenced block: {install}"
    );
    assert!(
        install.contains("href=\"/docs/guide/deep/configure/#options\""),
        "{install}"
    );
    let tag = read("tags/setup/index.html");
    assert!(
        tag.contains("/docs/guide/install/") && tag.contains("/docs/guide/deep/configure/"),
        "{tag}"
    );
    for alias in ["old/install/index.html", "docs/guide/setup/index.html"] {
        assert!(read(alias).contains("/docs/guide/install/\""), "{alias}");
    }
    assert!(read("_redirects").contains("/old/install/ /docs/guide/install/ 301"));
    let srv = root.serve(&[]);
    let moved = common::http(srv.port, "GET", "acme.localhost", "/old/install/", &[]);
    assert_eq!(
        (moved.status, moved.header("location")),
        (301, Some("/docs/guide/install/")),
        "t8k serve answers an alias with a 301"
    );
    let configure = read("docs/guide/deep/configure/index.html");
    assert!(
        configure.contains("<details><summary>All options</summary>")
            && configure.contains("<em>many</em>"),
        "{configure}"
    );
    assert!(
        configure.contains("<title>Configure it"),
        "title from the first heading"
    );
    let post = read("blog/first-post/index.html");
    assert!(
        post.contains("youtube-nocookie.com/embed/dQw4w9WgXcQ")
            && post.contains("player.vimeo.com/video/146022717")
            && post.contains("<figcaption>The cat</figcaption>"),
        "{post}"
    );
    let img = links(&post)
        .into_iter()
        .find(|u| u.starts_with("/_t8k/img/"))
        .expect("the bundle image is media, shown through its variants");
    assert!(link_target(&bundle, &img).is_file());
    assert!(read("index.html").contains("v2.4"), "param from hugo.toml");
    assert!(
        read("docs/render_hooks/index.html").contains("{{&lt; unknowncode x &gt;}}"),
        "unknown shortcodes stay visible"
    );
    assert!(assert_links_resolve(&bundle) > 20);

    // Export writes the same tree back; importing it changes nothing.
    let out = root.dir.path().join("exported");
    root.run(&["content", "export", "acme", out.to_str().unwrap()])
        .ok();
    for f in [
        "_index.md",
        "docs/_index.md",
        "docs/guide/_index.md",
        "docs/guide/install.md",
        "moved-here.md",
    ] {
        assert!(out.join(f).is_file(), "{f} exported");
    }
    let again = import(&root, &out, &[]);
    assert_eq!(
        (
            again["created"].as_array().unwrap().len(),
            again["updated"].as_array().unwrap().len()
        ),
        (0, 0),
        "{again:#}"
    );
}

#[test]
fn a_zola_site_keeps_zola_addresses_and_its_internal_links() {
    let (root, src) = setup("zola-site", ZOLA_SITE, "content/blog/with-assets/plan.png");
    let r = import(&root, &src.join("content"), &[]);
    assert_eq!(r["generator"], "zola", "{r:#}");
    let urls: BTreeSet<&str> = r["report"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["file"].as_str().unwrap().ends_with(".md"))
        .filter_map(|f| f["url"].as_str())
        .collect();
    assert_eq!(
        urls,
        BTreeSet::from([
            "/",
            "/documentation/",
            "/documentation/getting-started/",
            "/documentation/getting-started/overview/",
            "/documentation/getting-started/render-hooks/",
            "/blog/launch-day/",
            "/blog/with-assets/",
        ]),
        "Zola slugifies file names (underscores too), keeps folder names, reads dates from file names"
    );
    assert_eq!(report_of(&r, "hidden.md")["status"], "skipped");
    root.run(&["build"]).ok();
    let bundle = root.file("build/acme");
    let home = std::fs::read_to_string(bundle.join("index.html")).unwrap();
    assert!(
        home.contains("href=\"/documentation/getting-started/overview/#first\""),
        "{home}"
    );
    assert!(
        bundle.join("news/launch/index.html").is_file()
            && bundle.join("tags/intro/index.html").is_file()
    );
    let assets = std::fs::read_to_string(bundle.join("blog/with-assets/index.html")).unwrap();
    for needle in [
        "<figcaption>The plan</figcaption>",
        "player.vimeo.com/video/146022717",
        "<details><summary>Why</summary>",
        "<strong>so</strong>",
    ] {
        assert!(assets.contains(needle), "{needle}: {assets}");
    }
    assert_eq!(
        assets.matches("<picture>").count(),
        2,
        "the image and the figure show the imported media's variants: {assets}"
    );
    let launch = std::fs::read_to_string(bundle.join("blog/launch-day/index.html")).unwrap();
    assert!(launch.contains("2024"), "the date came from the file name");
    assert!(assert_links_resolve(&bundle) > 10);
}

#[test]
fn broken_files_stop_the_import_unless_skipped_and_bad_paths_are_refused() {
    let (root, src) = setup(
        "broken",
        &[
            ("good.md", "+++\ntitle = \"Good\"\n+++\nFine.\n"),
            ("bad.md", "+++\ntitle = \"Bad\"\ndraft = \"yes\"\n+++\n"),
            (
                "escape.md",
                "+++\ntitle = \"Escape\"\nurl = \"/../../etc/passwd/\"\n+++\n",
            ),
            ("same.md", "+++\ntitle = \"Same\"\nslug = \"good\"\n+++\n"),
        ],
        "stray.png",
    );
    let failed = root
        .run(&["content", "import", "acme", src.to_str().unwrap()])
        .fails(1, "nothing was imported");
    for needle in ["bad.md:3", "escape.md", "\"..\"", "same.md", "also used by"] {
        assert!(
            failed.stderr.contains(needle),
            "{needle}: {}",
            failed.stderr
        );
    }
    let r = import(&root, &src, &["--skip-invalid"]);
    assert_eq!(
        (r["files"].as_u64(), r["errors"].as_u64()),
        (Some(1), Some(3)),
        "{r:#}"
    );
    assert_eq!(report_of(&r, "stray.png")["status"], "skipped");
    assert_eq!(r["created"], serde_json::json!(["good"]));
}

#[test]
fn an_import_refused_for_max_pages_stores_no_media() {
    let (root, src) = setup(
        "bundled",
        &[
            ("a/index.md", "+++\ntitle = \"A\"\n+++\n![x](pic.png)\n"),
            ("b.md", "+++\ntitle = \"B\"\n+++\n"),
        ],
        "a/pic.png",
    );
    root.run(&["tenant", "set-quota", "acme", "--pages", "2", "--force"])
        .ok();
    root.run(&["content", "import", "acme", src.to_str().unwrap()])
        .fails(1, "MAX_PAGES");
    let stored = std::fs::read_dir(root.file("media/acme"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(stored, 0, "no media stored");
}

#[test]
fn translations_are_skipped_and_default_language_files_keep_their_page() {
    let (root, src) = setup(
        "multilingual",
        &[
            (
                "config.toml",
                "base_url = \"https://example.org\"\ndefault_language = \"en\"\n[languages.fr]\n",
            ),
            ("content/_index.md", "+++\ntitle = \"Home\"\n+++\n"),
            ("content/about.md", "+++\ntitle = \"About\"\n+++\n"),
            ("content/about.fr.md", "+++\ntitle = \"À propos\"\n+++\n"),
            ("content/contact.en.md", "+++\ntitle = \"Contact\"\n+++\n"),
            ("content/_index.fr.md", "+++\ntitle = \"Accueil\"\n+++\n"),
        ],
        "content/unused.png",
    );
    let r = import(&root, &src, &[]);
    assert_eq!(r["files"], 3, "{r:#}");
    for fr in ["about.fr.md", "_index.fr.md"] {
        let f = report_of(&r, fr);
        assert_eq!(f["status"], "skipped", "{f}");
        assert!(f["reason"].as_str().unwrap().contains("translation"), "{f}");
    }
    assert_eq!(report_of(&r, "contact.en.md")["url"], "/contact/");
}
