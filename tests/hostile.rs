//! Hostile requests to the functions over real HTTP — host spoofing, oversized and malformed
//! bodies, SQL metacharacters, path traversal, an editor at admin routes — are refused with a
//! JSON error, and the data root is left exactly as it was (files, and databases row by row).

mod common;

use common::{PASSWORD, Server, assert_unchanged, send_json, snapshot};

fn login(srv: &Server, host: &str, user: &str, password: &str) -> String {
    common::login_cookie(srv.port, host, user, password)
}

#[test]
fn hostile_requests_are_refused_and_change_nothing() {
    let (root, srv) = common::served_platform();
    let admin = login(&srv, "acme.localhost", "admin", PASSWORD);
    let other = login(&srv, "other.localhost", "admin", PASSWORD);
    let send = |method: &str, host: &str, path: &str, cookie: &str, body: &str| {
        send_json(srv.port, method, host, path, &[("Cookie", cookie)], body)
    };
    // An editor account, to call admin-only routes with.
    let jo =
        serde_json::json!({"username": "jo", "role": "editor", "password": PASSWORD}).to_string();
    assert_eq!(
        send("POST", "acme.localhost", "/api/users", &admin, &jo).status,
        201
    );
    let editor = login(&srv, "acme.localhost", "jo", PASSWORD);
    let before = snapshot(&root.path());

    let page =
        |slug: &str| serde_json::json!({"slug": slug, "title": "T", "panes": []}).to_string();
    let big = format!("{{\"slug\": \"{}\"}}", "x".repeat(70_000));
    let cases: Vec<(&str, &str, String, &str, String, u16)> = vec![
        // Host spoofing: acme's session at other's host, and hosts that resolve to no site.
        (
            "POST",
            "other.localhost",
            "/api/pages".into(),
            admin.as_str(),
            page("p"),
            401,
        ),
        (
            "POST",
            "acme.localhost.evil.test",
            "/api/pages".into(),
            admin.as_str(),
            page("p"),
            404,
        ),
        // Not host names at all: a bad request (RFC 9112 §3.2), before any handler.
        (
            "POST",
            "acme.localhost@evil.test",
            "/api/pages".into(),
            admin.as_str(),
            page("p"),
            400,
        ),
        (
            "POST",
            "",
            "/api/pages".into(),
            admin.as_str(),
            page("p"),
            400,
        ),
        (
            "DELETE",
            "acme.localhost",
            "/api/pages/home".into(),
            other.as_str(),
            String::new(),
            401,
        ),
        // Oversized and malformed bodies.
        (
            "POST",
            "acme.localhost",
            "/api/pages".into(),
            admin.as_str(),
            big.clone(),
            413,
        ),
        (
            "PUT",
            "acme.localhost",
            "/api/menus/main".into(),
            admin.as_str(),
            big,
            413,
        ),
        (
            "POST",
            "acme.localhost",
            "/api/pages".into(),
            admin.as_str(),
            "{\"slug\": ".into(),
            400,
        ),
        (
            "POST",
            "acme.localhost",
            "/api/pages".into(),
            admin.as_str(),
            "[1, 2]".into(),
            400,
        ),
        // SQL metacharacters and traversal in slugs and names.
        (
            "POST",
            "acme.localhost",
            "/api/pages".into(),
            admin.as_str(),
            page("x'; DROP TABLE panes;--"),
            400,
        ),
        (
            "GET",
            "acme.localhost",
            "/api/pages/x'%20OR%20'1'='1".into(),
            admin.as_str(),
            String::new(),
            400,
        ),
        (
            "DELETE",
            "acme.localhost",
            "/api/pages/..%2F..%2Fconfig".into(),
            admin.as_str(),
            String::new(),
            400,
        ),
        (
            "DELETE",
            "acme.localhost",
            "/api/media/..%2F..%2Fconfig%2Ft8k".into(),
            admin.as_str(),
            String::new(),
            404,
        ),
        (
            "PATCH",
            "acme.localhost",
            "/api/users/x'%20OR%201=1--".into(),
            admin.as_str(),
            r#"{"disabled": true}"#.into(),
            400,
        ),
        // An editor at admin routes, tenant and installation.
        (
            "POST",
            "acme.localhost",
            "/api/users".into(),
            editor.as_str(),
            jo.replace("jo", "jo2"),
            403,
        ),
        (
            "PATCH",
            "acme.localhost",
            "/api/users/jo".into(),
            editor.as_str(),
            r#"{"disabled": false}"#.into(),
            403,
        ),
        (
            "GET",
            "example.com",
            "/api/admin/tenants".into(),
            editor.as_str(),
            String::new(),
            401,
        ),
        (
            "POST",
            "example.com",
            "/api/admin/tenants/acme/deactivate".into(),
            editor.as_str(),
            String::new(),
            401,
        ),
        (
            "POST",
            "example.com",
            "/api/admin/tenants/acme/deactivate".into(),
            admin.as_str(),
            String::new(),
            401,
        ),
    ];
    for (method, host, path, c, body, status) in &cases {
        let r = send(method, host, path, c, body);
        assert_eq!(r.status, *status, "{method} {host}{path}: {}", r.text());
        assert!(
            serde_json::from_slice::<serde_json::Value>(&r.body)
                .is_ok_and(|v| v["error"]["code"].is_string()),
            "{method} {path}: a JSON error"
        );
    }
    assert_unchanged(
        &before,
        &snapshot(&root.path()),
        "no refused request changed the data root",
    );
}
