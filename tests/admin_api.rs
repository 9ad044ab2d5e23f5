//! The installation admin API over real HTTP: its own credential (the admin API key, never a
//! tenant session), the main domain only, and the same operations as the CLI — list with
//! usage, show, deactivate/activate (the tenant's functions answer 503 meanwhile), set quotas.

mod common;

use common::{PASSWORD, Root, Server, http, send_json};

fn call(
    srv: &Server,
    method: &str,
    host: &str,
    path: &str,
    auth: &str,
    body: &str,
) -> common::HttpResponse {
    let bearer = format!("Bearer {auth}");
    let headers: &[(&str, &str)] = if auth.is_empty() {
        &[]
    } else {
        &[("Authorization", &bearer)]
    };
    send_json(srv.port, method, host, path, headers, body)
}

fn setup() -> (Root, Server, String) {
    let root = Root::new();
    root.init_multi(10);
    root.create("acme").ok();
    root.create("harbor").ok();
    let key = root.admin_key();
    let srv = root.serve(&[]);
    (root, srv, key)
}

#[test]
fn only_the_admin_key_opens_the_admin_api() {
    let (root, srv, key) = setup();
    let list = |auth: &str, host: &str| call(&srv, "GET", host, "/api/admin/tenants", auth, "");
    assert_eq!(list("", "example.com").status, 401);
    assert_eq!(list("t8k_admin_0000", "example.com").status, 401);
    let last = if key.ends_with('0') { '1' } else { '0' };
    let wrong = format!("{}{last}", &key[..key.len() - 1]);
    assert_eq!(list(&wrong, "example.com").status, 401);

    // A tenant admin's session is no credential here.
    let cookie = common::login_cookie(srv.port, "acme.localhost", "admin", PASSWORD);
    let with_cookie = http(
        srv.port,
        "GET",
        "example.com",
        "/api/admin/tenants",
        &[("Cookie", &cookie)],
    );
    assert_eq!(with_cookie.status, 401);

    // The key works on the main domain only.
    assert_eq!(list(&key, "acme.localhost").status, 404);
    let r = list(&key, "example.com");
    assert_eq!(r.status, 200, "{}", r.text());
    let body = r.json();
    assert_eq!(body["count"], 2);
    assert_eq!(body["max_tenants"], 10);
    let acme = &body["tenants"][0];
    assert_eq!(acme["id"], "acme");
    assert_eq!(acme["status"], "active");
    assert!(acme["usage"]["pages"]["used"].as_u64().unwrap() >= 1);
    assert!(acme["usage"]["storage"]["used"].as_u64().unwrap() > 0);

    // A new key replaces the old one.
    let fresh = root.admin_key();
    assert_eq!(list(&key, "example.com").status, 401);
    assert_eq!(list(&fresh, "example.com").status, 200);
}

#[test]
fn operators_deactivate_activate_and_set_quotas() {
    let (root, srv, key) = setup();
    let me = || http(srv.port, "GET", "acme.localhost", "/api/auth/me", &[]).status;
    assert_eq!(me(), 401, "active: the function answers (no session)");

    let r = call(
        &srv,
        "POST",
        "example.com",
        "/api/admin/tenants/acme/deactivate",
        &key,
        "",
    );
    assert_eq!((r.status, r.json()["changed"].as_bool()), (200, Some(true)));
    assert_eq!(me(), 503, "deactivated at once");
    let listed = root.run(&["--json", "tenant", "show", "acme"]).ok().json();
    assert_eq!(listed["entry"]["status"], "inactive");
    let r = call(
        &srv,
        "POST",
        "example.com",
        "/api/admin/tenants/acme/activate",
        &key,
        "",
    );
    assert_eq!(r.status, 200);
    assert_eq!(me(), 401);

    let put_quota = |body: &str| {
        call(
            &srv,
            "PUT",
            "example.com",
            "/api/admin/tenants/acme/quota",
            &key,
            body,
        )
    };
    // Below current usage: refused, nothing changed.
    let before = std::fs::read(root.file("config/acme/env.json")).unwrap();
    let r = put_quota(r#"{"pages": 0}"#);
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(
        r.json()["error"]["code"],
        "below_usage",
        "the admin asks to confirm"
    );
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("below current usage")
    );
    let r = put_quota(r#"{"storage": "lots"}"#);
    assert_eq!(r.status, 400, "{}", r.text());
    for (body, names) in [
        (r#"{"bandwidth": "lots"}"#, "BANDWIDTH_QUOTA"),
        (r#"{"bandwidth_policy": "block"}"#, "BANDWIDTH_POLICY"),
    ] {
        let r = put_quota(body);
        assert_eq!(r.status, 400, "{}", r.text());
        assert!(r.text().contains(names), "{}", r.text());
    }
    assert_eq!(
        std::fs::read(root.file("config/acme/env.json")).unwrap(),
        before
    );
    // A bandwidth limit and policy: the answer shows the month against them.
    let r = put_quota(r#"{"bandwidth": "10GB", "bandwidth_policy": "throttle"}"#);
    assert_eq!(r.status, 200, "{}", r.text());
    let bw = &r.json()["bandwidth"];
    assert_eq!(
        (
            bw["limit"]["bytes"].as_u64(),
            bw["limit"]["policy"].as_str()
        ),
        (Some(10_000_000_000), Some("throttle")),
        "{bw}"
    );
    assert!(bw["over"].is_null(), "{bw}");

    let r = put_quota(r#"{"pages": 7, "storage": "5MB"}"#);
    assert_eq!(r.status, 200, "{}", r.text());
    let shown = call(
        &srv,
        "GET",
        "example.com",
        "/api/admin/tenants/acme",
        &key,
        "",
    )
    .json();
    assert_eq!(shown["usage"]["pages"]["limit"], 7);
    assert_eq!(shown["usage"]["storage"]["quota"], "5MB");
    assert_eq!(
        root.run(&["--json", "tenant", "show", "acme"]).ok().json()["usage"]["limits"]["max_pages"],
        7
    );

    let missing = call(
        &srv,
        "POST",
        "example.com",
        "/api/admin/tenants/nope/deactivate",
        &key,
        "",
    );
    assert_eq!(missing.status, 404);
    let odd = call(
        &srv,
        "GET",
        "example.com",
        "/api/admin/tenants/..%2Fconfig",
        &key,
        "",
    );
    assert_eq!(odd.status, 404);
}
