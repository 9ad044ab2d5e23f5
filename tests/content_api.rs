//! The content API over real HTTP, and the whole path from sign-up to a published page:
//! sign-up → email through a real SMTP server → verify link → login → create a story
//! fragment → `build --queued` → `publish` → served.

mod common;

use common::{
    PASSWORD, Root, Server, Smtp, eventually, get, http, http_with_body, send_json, verify_link,
};

fn send(
    srv: &Server,
    method: &str,
    host: &str,
    path: &str,
    cookie: &str,
    body: &serde_json::Value,
) -> common::HttpResponse {
    let cookie = [("Cookie", cookie)];
    send_json(srv.port, method, host, path, &cookie, &body.to_string())
}

fn login(srv: &Server, host: &str, user: &str, password: &str) -> String {
    common::login_cookie(srv.port, host, user, password)
}

fn page(slug: &str, title: &str) -> serde_json::Value {
    serde_json::json!({"slug": slug, "title": title, "description": "d", "menus": ["main"], "panes": [{"markdown": format!("# {title}\n\nHello."), "options": {}}]})
}

#[test]
fn editors_create_update_and_delete_story_fragments() {
    let root = Root::new();
    root.init_multi(100);
    root.create("acme").ok();
    root.create("other").ok();
    let pw = root.password_file();
    root.run(&[
        "user",
        "add",
        "acme",
        "jo",
        "--role",
        "editor",
        "--password-file",
        pw.to_str().unwrap(),
    ])
    .ok();
    let srv = root.serve(&[]);
    let c = login(&srv, "acme.localhost", "jo", PASSWORD);
    let before = root.run(&["--json", "tenant", "show", "acme"]).ok().json()["content_version"]
        .as_i64()
        .unwrap();

    let r = send(
        &srv,
        "POST",
        "acme.localhost",
        "/api/pages",
        &c,
        &page("about", "About us"),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert!(
        root.file("queue/builds/acme").is_file(),
        "the change queued a build"
    );
    let got = http(
        srv.port,
        "GET",
        "acme.localhost",
        "/api/pages/about",
        &[("Cookie", &c)],
    )
    .json();
    assert_eq!(
        (got["title"].as_str(), got["panes"][0]["markdown"].as_str()),
        (Some("About us"), Some("# About us\n\nHello."))
    );
    assert_eq!(
        send(
            &srv,
            "POST",
            "acme.localhost",
            "/api/pages",
            &c,
            &page("about", "Again")
        )
        .status,
        400,
        "slug taken"
    );

    let r = send(
        &srv,
        "PUT",
        "acme.localhost",
        "/api/pages/about",
        &c,
        &page("about", "About the bakery"),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let list = http(
        srv.port,
        "GET",
        "acme.localhost",
        "/api/pages",
        &[("Cookie", &c)],
    )
    .json();
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|p| p["title"] == "About the bakery")
    );
    assert!(
        root.run(&["--json", "tenant", "show", "acme"]).ok().json()["content_version"]
            .as_i64()
            .unwrap()
            > before
    );

    // A page's address is a path: nested pages are created, read and deleted by it.
    let nested = "docs/getting-started";
    let create =
        |body: &serde_json::Value| send(&srv, "POST", "acme.localhost", "/api/pages", &c, body);
    let r = create(&page(nested, "Getting started"));
    assert_eq!(r.status, 201, "{}", r.text());
    let got = http(
        srv.port,
        "GET",
        "acme.localhost",
        &format!("/api/pages/{nested}"),
        &[("Cookie", &c)],
    );
    assert_eq!(
        (got.status, got.json()["title"].as_str()),
        (200, Some("Getting started"))
    );
    // Its ETag guards an update: one made meanwhile by someone else is refused, not lost.
    let etag = got.header("etag").expect("an ETag").to_owned();
    let put = |title: &str, if_match: &str| {
        let headers = [("Cookie", c.as_str()), ("If-Match", if_match)];
        let body = page(nested, title).to_string();
        common::send_json(
            srv.port,
            "PUT",
            "acme.localhost",
            &format!("/api/pages/{nested}"),
            &headers,
            &body,
        )
    };
    assert_eq!(put("First editor", &etag).status, 200);
    let stale = put("Second editor", &etag);
    assert_eq!(
        (stale.status, stale.json()["error"]["code"].as_str()),
        (409, Some("conflict")),
        "{}",
        stale.text()
    );
    let now = http(
        srv.port,
        "GET",
        "acme.localhost",
        &format!("/api/pages/{nested}"),
        &[("Cookie", &c)],
    );
    assert_eq!(now.json()["title"], "First editor");
    assert_eq!(
        put("Second editor", now.header("etag").unwrap()).status,
        200
    );
    for bad in ["docs/../etc", "docs//x", "/docs/x", "docs/.env"] {
        let r = create(&page(bad, "Bad"));
        assert_eq!(r.status, 400, "{bad}: {}", r.text());
    }
    let r = http(
        srv.port,
        "DELETE",
        "acme.localhost",
        &format!("/api/pages/{nested}"),
        &[("Cookie", &c)],
    );
    assert_eq!(r.status, 204);

    // Refusals that change nothing.
    assert_eq!(
        send(
            &srv,
            "POST",
            "acme.localhost",
            "/api/pages",
            &c,
            &page("x'; DROP TABLE story_fragments;--", "Evil")
        )
        .status,
        400
    );
    assert_eq!(
        send(
            &srv,
            "PUT",
            "acme.localhost",
            "/api/pages/nope",
            &c,
            &page("nope", "Nope")
        )
        .status,
        404
    );
    assert_eq!(
        http(
            srv.port,
            "DELETE",
            "acme.localhost",
            "/api/pages/home",
            &[("Cookie", &c)]
        )
        .status,
        400,
        "the home page stays"
    );
    assert_eq!(
        send(
            &srv,
            "POST",
            "other.localhost",
            "/api/pages",
            &c,
            &page("mine", "Mine")
        )
        .status,
        401,
        "a session of acme at other"
    );
    assert_eq!(
        send(
            &srv,
            "POST",
            "acme.localhost",
            "/api/pages",
            "",
            &page("anon", "Anon")
        )
        .status,
        401
    );
    root.run(&["tenant", "set-quota", "acme", "--pages", "2", "--force"])
        .ok();
    let full = send(
        &srv,
        "POST",
        "acme.localhost",
        "/api/pages",
        &c,
        &page("third", "Third"),
    );
    assert_eq!(
        (full.status, full.json()["error"]["code"].as_str()),
        (409, Some("quota"))
    );
    assert_eq!(
        root.run(&["--json", "tenant", "usage", "acme"]).ok().json()["pages"],
        2
    );

    assert_eq!(
        http(
            srv.port,
            "DELETE",
            "acme.localhost",
            "/api/pages/about",
            &[("Cookie", &c)]
        )
        .status,
        204
    );
    assert_eq!(
        http(
            srv.port,
            "GET",
            "acme.localhost",
            "/api/pages/about",
            &[("Cookie", &c)]
        )
        .status,
        404
    );
}

#[test]
fn from_sign_up_to_a_published_page() {
    let Some(smtp) = Smtp::start() else { return };
    let mut root = Root::new();
    root.env
        .push(("T8K_SIGNUPS_PER_IP_HOUR".into(), "100".into()));
    root.run(&[
        "init",
        "--multi",
        "--domain",
        "example.com",
        "--require-email-verification",
    ])
    .ok();
    root.use_smtp(smtp.port);
    root.run(&["build"]).ok();
    let bundles = root.dir.path().join("bundles");
    let bundles = bundles.to_str().unwrap();
    let srv = root.serve(&[]);
    let signup = serde_json::json!({"subdomain": "lena", "name": "Lena", "email": "lena@example.org", "password": PASSWORD});
    let r = send(&srv, "POST", "example.com", "/api/register", "", &signup);
    assert_eq!(r.status, 202, "{}", r.text());
    assert_eq!(r.json()["status"], "pending");
    assert!(
        root.listed_ids().is_empty(),
        "no tenant before verification"
    );

    assert!(
        eventually(10, || !smtp.messages().is_empty()),
        "the email arrives"
    );
    let mail = smtp.messages().remove(0);
    assert!(mail.contains("To: lena@example.org"), "{mail}");
    let link = verify_link(&mail).unwrap_or_else(|| panic!("no link in {mail}"));
    let shown = http(
        srv.port,
        "GET",
        "example.com",
        &link,
        &[("Accept", "text/html")],
    );
    assert_eq!(shown.status, 200, "{}", shown.text());
    assert!(
        shown
            .text()
            .contains("<form method=\"post\" action=\"/api/register/verify\">")
    );
    let token = link.split_once("token=").unwrap().1;
    let form = format!("token={token}");
    let confirm = |accept: &str| {
        http_with_body(
            srv.port,
            "POST",
            "example.com",
            "/api/register/verify",
            &[
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Accept", accept),
            ],
            form.as_bytes(),
        )
    };
    let created = confirm("text/html");
    assert_eq!(created.status, 201, "{}", created.text());
    assert!(created.text().contains("Your site is ready"));
    assert_eq!(root.listed_ids(), ["lena"]);
    assert_eq!(
        confirm("application/json").status,
        410,
        "the link works once"
    );
    assert!(
        eventually(5, || http(
            srv.port,
            "GET",
            "lena.localhost",
            "/api/auth/me",
            &[]
        )
        .status
            == 401),
        "the new tenant is routed"
    );
    let c = login(&srv, "lena.localhost", "admin", PASSWORD);
    assert_eq!(
        send(
            &srv,
            "POST",
            "lena.localhost",
            "/api/pages",
            &c,
            &page("hello-world", "Hello, world")
        )
        .status,
        201
    );
    drop(srv);

    assert_eq!(
        root.run(&["--json", "build", "--queued"]).ok().json()["built"],
        1
    );
    let published = root
        .run(&["--json", "publish", "--changed", "--to", bundles])
        .ok()
        .json();
    assert!(published["published"].as_u64().unwrap() >= 1, "{published}");
    let srv = root.serve(&["--from", bundles]);
    let r = get(srv.port, "lena.localhost", "/hello-world/");
    assert_eq!(r.status, 200);
    assert!(r.text().contains("Hello, world"));
}
