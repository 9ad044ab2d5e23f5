//! Self-service sign-up over real HTTP on the main domain: availability checks, creation with
//! the atomic claim (50 racing sign-ups → one winner), max_tenants, rate limits, the form
//! without JavaScript, and the path on to a queued build, a served site and a login.

mod common;

use common::{Root, Server, eventually, get, http_with_body, send_json};

fn signup_body(name: &str, email: &str) -> String {
    serde_json::json!({"subdomain": name, "name": "Ada", "email": email, "organisation": "Ada's Bakery", "password": "correct horse battery"}).to_string()
}

fn post_json(srv: &Server, host: &str, path: &str, body: &str) -> common::HttpResponse {
    send_json(srv.port, "POST", host, path, &[], body)
}

fn platform(max: u64, generous_limits: bool) -> (Root, Server) {
    let mut root = Root::new();
    if generous_limits {
        root.env
            .push(("T8K_SIGNUPS_PER_IP_HOUR".into(), "1000".into()));
        root.env
            .push(("T8K_SIGNUPS_PER_EMAIL_HOUR".into(), "1000".into()));
    }
    root.init_multi(max);
    root.run(&["build"]).ok();
    let srv = root.serve(&[]);
    (root, srv)
}

#[test]
fn check_reports_rules_and_availability() {
    let (root, srv) = platform(100, true);
    root.create("taken").ok();
    let r = get(srv.port, "example.com", "/api/register/check?name=www");
    assert_eq!(
        (r.json()["available"].as_bool(), r.json()["rule"].as_str()),
        (Some(false), Some("reserved"))
    );
    let r = get(
        srv.port,
        "example.com",
        "/api/register/check?name=Fresh-Name",
    );
    assert_eq!(
        (r.json()["available"].as_bool(), r.json()["name"].as_str()),
        (Some(true), Some("fresh-name"))
    );
    let r = get(srv.port, "example.com", "/api/register/check?name=taken");
    assert_eq!(
        (r.json()["available"].as_bool(), r.json()["rule"].as_str()),
        (Some(false), Some("taken"))
    );
    let r = get(srv.port, "example.com", "/api/register/check?name=a_b");
    assert_eq!(r.json()["rule"], "characters");
    assert_eq!(
        get(srv.port, "taken.localhost", "/api/register/check?name=x").status,
        404,
        "sign-up lives on the main domain"
    );
}

#[test]
fn sign_up_then_queued_build_then_served_site_and_login() {
    let (root, srv) = platform(100, true);
    let r = post_json(
        &srv,
        "example.com",
        "/api/register",
        &signup_body("adas-bakery", "ada@example.org"),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["tenant"], "adas-bakery");
    assert_eq!(
        (r.json()["url"].as_str(), r.json()["login"].as_str()),
        (
            Some("https://adas-bakery.example.com/"),
            Some("https://adas-bakery.example.com/admin/")
        ),
        "the site and its browser admin"
    );
    assert_eq!(root.listed_ids(), ["adas-bakery"]);
    let env: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.file("config/adas-bakery/env.json")).unwrap())
            .unwrap();
    assert_eq!(
        (
            env["SITE_NAME"].as_str(),
            env["ORGANISATION"].as_str(),
            env["ADMIN_EMAIL"].as_str()
        ),
        (
            Some("Ada's Bakery"),
            Some("Ada's Bakery"),
            Some("ada@example.org")
        )
    );
    assert!(
        root.file("queue/builds/adas-bakery").is_file(),
        "a build request is queued"
    );

    let built = root.run(&["--json", "build", "--queued"]).ok().json();
    assert_eq!(built["built"], 1);
    assert!(
        !root.file("queue/builds/adas-bakery").exists(),
        "the request is consumed"
    );
    assert_eq!(
        root.run(&["--json", "build", "--queued"]).ok().json()["queued"],
        0
    );

    assert!(
        eventually(5, || get(srv.port, "adas-bakery.localhost", "/").status
            == 200),
        "the new site is served"
    );
    assert!(
        get(srv.port, "adas-bakery.localhost", "/")
            .text()
            .contains("Ada&#39;s Bakery")
            || get(srv.port, "adas-bakery.localhost", "/")
                .text()
                .contains("Ada's Bakery")
    );
    let login = post_json(
        &srv,
        "adas-bakery.localhost",
        "/api/auth/login",
        &serde_json::json!({"username": "admin", "password": "correct horse battery"}).to_string(),
    );
    assert_eq!(login.status, 200, "{}", login.text());

    // The same name again: 409, and nothing changes.
    let again = post_json(
        &srv,
        "example.com",
        "/api/register",
        &signup_body("ADAS-BAKERY", "other@example.org"),
    );
    assert_eq!(
        (again.status, again.json()["error"]["code"].as_str()),
        (409, Some("taken"))
    );

    // On a local preview the links point where `t8k serve` serves the site.
    let local = format!("localhost:{}", srv.port);
    let r = post_json(
        &srv,
        &local,
        "/api/register",
        &signup_body("bobs-bikes", "bob@example.org"),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        r.json()["login"].as_str(),
        Some(format!("http://bobs-bikes.localhost:{}/admin/", srv.port).as_str())
    );
}

#[test]
fn fifty_racing_sign_ups_for_one_name_have_one_winner_and_max_tenants_holds() {
    let (root, srv) = platform(3, true);
    let port = srv.port;
    let handles: Vec<_> = (0..50)
        .map(|i| {
            std::thread::spawn(move || {
                let body = signup_body("contested", &format!("user{i}@example.org"));
                send_json(port, "POST", "example.com", "/api/register", &[], &body).status
            })
        })
        .collect();
    let statuses: Vec<u16> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(
        statuses.iter().filter(|&&s| s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|&s| s == 201 || s == 409),
        "{statuses:?}"
    );
    assert_eq!(root.listed_ids(), ["contested"]);

    assert_eq!(
        post_json(
            &srv,
            "example.com",
            "/api/register",
            &signup_body("second", "b@example.org")
        )
        .status,
        201
    );
    assert_eq!(
        post_json(
            &srv,
            "example.com",
            "/api/register",
            &signup_body("third", "c@example.org")
        )
        .status,
        201
    );
    let full = post_json(
        &srv,
        "example.com",
        "/api/register",
        &signup_body("fourth", "d@example.org"),
    );
    assert_eq!(
        (full.status, full.json()["error"]["code"].as_str()),
        (409, Some("full"))
    );
    assert_eq!(root.listed_ids().len(), 3);
}

#[test]
fn bad_sign_ups_are_refused_and_change_nothing() {
    let (root, srv) = platform(100, false);
    let bad_name = post_json(
        &srv,
        "example.com",
        "/api/register",
        &signup_body("admin", "a@example.org"),
    );
    assert_eq!(bad_name.status, 400);
    assert!(
        bad_name.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("reserved")
    );
    let short_pw = post_json(&srv, "example.com", "/api/register", &serde_json::json!({"subdomain": "okname", "name": "A", "email": "a@example.org", "password": "short"}).to_string());
    assert_eq!(short_pw.status, 400);
    let bad_email = post_json(
        &srv,
        "example.com",
        "/api/register",
        &signup_body("okname", "not-an-email"),
    );
    assert_eq!(bad_email.status, 400);
    assert_eq!(
        post_json(&srv, "example.com", "/api/register", "{\"subdomain\": ").status,
        400
    );
    let sql = post_json(
        &srv,
        "example.com",
        "/api/register",
        &signup_body("x'; DROP TABLE users;--", "a@example.org"),
    );
    assert_eq!(sql.status, 400);
    assert_eq!(
        post_json(
            &srv,
            "acme.localhost",
            "/api/register",
            &signup_body("okname", "a@example.org")
        )
        .status,
        404
    );
    assert!(root.listed_ids().is_empty(), "nothing was created");

    // Per-email limit (3 an hour by default): the fourth valid sign-up with one email waits.
    for name in ["one-site", "two-site", "three-site"] {
        assert_eq!(
            post_json(
                &srv,
                "example.com",
                "/api/register",
                &signup_body(name, "same@example.org")
            )
            .status,
            201
        );
    }
    let limited = post_json(
        &srv,
        "example.com",
        "/api/register",
        &signup_body("four-site", "same@example.org"),
    );
    assert_eq!(limited.status, 429);
    assert!(limited.header("retry-after").is_some());
    assert_eq!(root.listed_ids().len(), 3);
}

#[test]
fn the_form_works_without_javascript_and_closed_sign_up_is_refused() {
    let (root, srv) = platform(100, true);
    let body = "subdomain=formsite&name=Ada&email=ada%40example.org&organisation=&password=correct+horse+battery";
    let r = http_with_body(
        srv.port,
        "POST",
        "example.com",
        "/api/register",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Accept", "text/html"),
        ],
        body.as_bytes(),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert!(r.text().contains("Your site is ready") && r.text().contains("formsite.example.com"));
    assert_eq!(root.listed_ids(), ["formsite"]);
    drop(srv);

    let closed = Root::new();
    closed
        .run(&[
            "init",
            "--multi",
            "--domain",
            "example.com",
            "--public-registration",
            "false",
        ])
        .ok();
    let srv = closed.serve(&[]);
    let r = post_json(
        &srv,
        "example.com",
        "/api/register",
        &signup_body("newsite", "a@example.org"),
    );
    assert_eq!(
        (r.status, r.json()["error"]["code"].as_str()),
        (403, Some("forbidden"))
    );
}
