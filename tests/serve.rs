//! `t8k serve` end to end: a real server process on a free loopback port, raw HTTP requests.

mod common;

use common::{Root, eventually, get, http, write_files};

fn built() -> Root {
    let root = Root::new();
    root.init_multi(100);
    root.create("acme").ok();
    root.create("other").ok();
    root.run(&["build"]).ok();
    root
}

#[test]
fn routes_by_host_with_cdn_headers_and_conditional_gets() {
    let root = built();
    let srv = root.serve(&[]);
    let home = get(srv.port, "acme.localhost", "/");
    assert_eq!(home.status, 200);
    assert_eq!(
        home.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(
        home.header("cache-control"),
        Some("public, max-age=0, must-revalidate")
    );
    assert!(
        home.text().contains("Welcome to Test Site"),
        "{}",
        home.text()
    );
    let etag = home.header("etag").unwrap().to_owned();

    // Same tenant through its other host names.
    for host in [
        "acme.example.com",
        "ACME.example.com:443",
        "acme.localhost:8080",
    ] {
        assert_eq!(get(srv.port, host, "/").body, home.body, "{host}");
    }
    assert_ne!(
        get(srv.port, "other.localhost", "/").body,
        home.body,
        "tenants are isolated"
    );

    let again = http(
        srv.port,
        "GET",
        "acme.localhost",
        "/",
        &[("If-None-Match", &etag)],
    );
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    assert_eq!(again.header("etag"), Some(etag.as_str()));

    let head = http(srv.port, "HEAD", "acme.localhost", "/", &[]);
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(
        head.header("content-length")
            .unwrap()
            .parse::<usize>()
            .unwrap(),
        home.body.len()
    );

    let css_url = home
        .text()
        .split("href=\"/_t8k/assets/")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    // The theme's stylesheet is shared by every site on the theme, at one path on every host.
    let css = get(
        srv.port,
        "acme.localhost",
        &format!("/_t8k/assets/{css_url}"),
    );
    assert_eq!(css.status, 200);
    assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
    assert_eq!(
        css.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );

    let sitemap = get(srv.port, "acme.localhost", "/sitemap.xml");
    assert_eq!(
        (sitemap.status, sitemap.header("content-type")),
        (200, Some("text/xml; charset=utf-8"))
    );
    let dir = get(srv.port, "acme.localhost", "/pages");
    assert_eq!((dir.status, dir.header("location")), (301, Some("/pages/")));
    assert_eq!(
        http(
            srv.port,
            "POST",
            "acme.localhost",
            "/",
            &[("Content-Length", "0")]
        )
        .status,
        405
    );
}

#[test]
fn missing_pages_unknown_hosts_and_the_main_domain() {
    let root = built();
    let srv = root.serve(&[]);
    let missing = get(srv.port, "acme.localhost", "/no/such/page/");
    assert_eq!(missing.status, 404);
    assert!(
        missing.text().contains("Page not found") && missing.text().contains("Test Site"),
        "the tenant's own 404.html"
    );

    let unknown = get(srv.port, "nobody.example.com", "/");
    assert_eq!(unknown.status, 404);
    assert!(unknown.text().contains("No site is hosted"));

    let main = get(srv.port, "example.com", "/");
    assert_eq!(main.status, 200);
    assert!(main.text().contains("Your website on example.com"));
    let register = get(srv.port, "localhost", "/sandbox/register/");
    assert_eq!(register.status, 200);
    assert!(
        register.text().contains("action=\"/api/register\"")
            && register.text().contains("<label for=\"subdomain\">")
    );
}

#[test]
fn path_traversal_is_refused_in_every_form() {
    let root = built();
    std::fs::write(root.file("build/secret.txt"), "outside the bundle").unwrap();
    let srv = root.serve(&[]);
    for path in [
        "/../secret.txt",
        "/../../etc/passwd",
        "/%2e%2e/secret.txt",
        "/%2E%2E/%2e%2e/etc/passwd",
        "/..%2fsecret.txt",
        "/..%5csecret.txt",
        "/..\\secret.txt",
        "/index.html%00.css",
        "//etc/passwd",
        "/./index.html",
        "/assets/../../secret.txt",
    ] {
        let r = get(srv.port, "acme.localhost", path);
        assert!(
            r.status == 400 || r.status == 404,
            "{path} gave {}",
            r.status
        );
        assert!(
            !r.text().contains("outside the bundle") && !r.text().contains("root:"),
            "{path} leaked"
        );
    }
}

#[test]
fn inactive_tenants_get_503_and_registry_changes_apply_live() {
    let root = built();
    let srv = root.serve(&[]);
    assert_eq!(get(srv.port, "acme.localhost", "/").status, 200);
    root.run(&["tenant", "deactivate", "acme"]).ok();
    assert!(
        eventually(5, || get(srv.port, "acme.localhost", "/").status == 503),
        "deactivation not picked up"
    );
    assert!(
        get(srv.port, "acme.localhost", "/")
            .text()
            .contains("Site unavailable")
    );
    assert_eq!(get(srv.port, "other.localhost", "/").status, 200);

    // A custom domain added to the registry routes to its tenant.
    root.run(&["domain", "add", "other", "www.other-site.test", "--trust"])
        .ok();
    assert!(
        eventually(5, || get(srv.port, "www.other-site.test", "/").status
            == 200),
        "custom domain not routed"
    );
}

#[test]
fn watch_rebuilds_a_tenant_when_its_content_changes() {
    let root = built();
    let srv = root.serve(&["--watch"]);
    let src = root.dir.path().join("src");
    write_files(
        &src,
        &[(
            "fresh.md",
            "+++\ntitle = \"Fresh off the press\"\n+++\nNew page.\n",
        )],
    );
    root.run(&["content", "import", "acme", src.to_str().unwrap()])
        .ok();
    assert!(
        eventually(10, || get(srv.port, "acme.localhost", "/fresh/").status
            == 200),
        "--watch did not rebuild acme"
    );
    assert!(
        get(srv.port, "acme.localhost", "/fresh/")
            .text()
            .contains("Fresh off the press")
    );
}
