//! Micro-benchmarks of one page: Markdown → HTML, and the full page render through the
//! `default` theme. Run: `cargo bench -p t8k-builder`.

use std::path::PathBuf;

use t8k_builder::markdown::{Ids, render};
use t8k_builder::theme::Theme;

/// The standard SSG corpus page body: three lorem-ipsum paragraphs (~845 bytes with front matter).
const BODY: &str = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. Sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat.\n\nDuis aute irure dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur. Excepteur sint occaecat cupidatat non proident, sunt in culpa qui officia deserunt mollit anim id est laborum.\n\nCurabitur pretium tincidunt lacus. Nulla gravida orci a odio. Nullam varius, turpis et commodo pharetra, est eros bibendum elit, nec luctus magna felis sollicitudin mauris. Integer in mauris eu nibh euismod gravida.\n";

fn main() {
    divan::main();
}

#[divan::bench]
fn markdown_one_page() -> usize {
    render(divan::black_box(BODY), &mut Ids::default(), false)
        .html
        .len()
}

#[divan::bench]
fn markdown_with_raw_html_sanitised() -> usize {
    let md = format!("{BODY}\n<div class=\"note\">Raw <b>HTML</b> <script>x()</script></div>\n");
    render(divan::black_box(&md), &mut Ids::default(), false)
        .html
        .len()
}

#[divan::bench]
fn template_render_one_page(bencher: divan::Bencher) {
    let themes = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../themes");
    let theme = Theme::load(&themes, "default", false).expect("the default theme loads");
    let html = render(BODY, &mut Ids::default(), false).html;
    let mut ctx = tera::Context::new();
    ctx.insert("site", &serde_json::json!({
        "id": "bench", "name": "Bench", "url": "https://bench.example.com", "description": "", "lang": "en",
        "home_url": "/", "listing_url": "/pages/", "feed_url": "/atom.xml",
        "brand": {"colours": [], "primary": null, "on_primary": null, "accent": null, "logo": null},
        "menus": {"main": [{"label": "Home", "url": "/"}]}, "assets": theme.asset_urls,
    }));
    ctx.insert("page", &serde_json::json!({
        "kind": "page", "title": "A page", "description": "", "slug": "a-page", "url": "/a-page/",
        "permalink": "https://bench.example.com/a-page/", "date": null, "date_display": null,
        "panes": [{"html": html, "class": "", "options": {}}], "toc": [], "menu": [], "social_image": null,
    }));
    bencher.bench_local(|| {
        theme
            .tera
            .render("page.html", divan::black_box(&ctx))
            .unwrap()
            .len()
    });
}
