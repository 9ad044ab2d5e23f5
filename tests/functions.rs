//! The functions over real HTTP, mounted by `t8k serve` at `/api/`: login, sessions bound to
//! their tenant, logout, rate limits, quota, and JSON errors for bad input.

mod common;

use common::{PASSWORD, Root, Server, assert_unchanged, http, snapshot};

fn platform() -> (Root, Server) {
    let root = Root::new();
    root.init_multi(100);
    root.create("acme").ok();
    root.create("other").ok();
    root.run(&["build"]).ok();
    let srv = root.serve(&[]);
    (root, srv)
}

fn login(srv: &Server, host: &str, user: &str, password: &str) -> common::HttpResponse {
    let body = serde_json::json!({"username": user, "password": password}).to_string();
    let len = body.len().to_string();
    http_body(
        srv.port,
        "POST",
        host,
        "/api/auth/login",
        &[
            ("Content-Type", "application/json"),
            ("Content-Length", &len),
        ],
        &body,
    )
}

fn http_body(
    port: u16,
    method: &str,
    host: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> common::HttpResponse {
    common::http_with_body(port, method, host, path, headers, body.as_bytes())
}

fn cookie(r: &common::HttpResponse) -> String {
    r.header("set-cookie")
        .expect("a session cookie")
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

fn json(r: &common::HttpResponse) -> serde_json::Value {
    serde_json::from_slice(&r.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", r.text()))
}

#[test]
fn login_me_logout_with_a_tenant_bound_session() {
    let (_root, srv) = platform();
    let ok = login(&srv, "acme.localhost", "admin", PASSWORD);
    assert_eq!(ok.status, 200, "{}", ok.text());
    let set = ok.header("set-cookie").unwrap();
    assert!(
        set.starts_with("t8k_session=")
            && set.contains("HttpOnly")
            && set.contains("SameSite=Strict"),
        "{set}"
    );
    let c = cookie(&ok);

    let me = http(
        srv.port,
        "GET",
        "acme.localhost",
        "/api/auth/me",
        &[("Cookie", &c)],
    );
    assert_eq!(me.status, 200);
    assert_eq!(
        (
            json(&me)["user"].as_str(),
            json(&me)["role"].as_str(),
            json(&me)["tenant"].as_str()
        ),
        (Some("admin"), Some("admin"), Some("acme"))
    );

    // The same cookie at another tenant's host: refused.
    let cross = http(
        srv.port,
        "GET",
        "other.localhost",
        "/api/auth/me",
        &[("Cookie", &c)],
    );
    assert_eq!(cross.status, 401);
    assert_eq!(json(&cross)["error"]["code"], "unauthorized");

    let quota = http(
        srv.port,
        "GET",
        "acme.localhost",
        "/api/quota",
        &[("Cookie", &c)],
    );
    assert_eq!(quota.status, 200);
    let q = json(&quota);
    assert_eq!(
        (q["pages"]["used"].as_u64(), q["pages"]["limit"].as_u64()),
        (Some(1), Some(100))
    );
    assert!(q["storage"]["used"].as_u64().unwrap() > 0);
    assert!(
        q["bandwidth"]["used"].is_null(),
        "unmeasured figures are unknown, not invented"
    );

    let out = http(
        srv.port,
        "POST",
        "acme.localhost",
        "/api/auth/logout",
        &[("Cookie", &c), ("Content-Length", "0")],
    );
    assert_eq!(out.status, 204);
    assert_eq!(
        http(
            srv.port,
            "GET",
            "acme.localhost",
            "/api/auth/me",
            &[("Cookie", &c)]
        )
        .status,
        401,
        "logout revokes the token"
    );
    assert_eq!(
        http(srv.port, "GET", "acme.localhost", "/api/quota", &[]).status,
        401
    );
}

#[test]
fn secure_cookie_outside_localhost_and_form_logins() {
    let (_root, srv) = platform();
    let body = format!("username=admin&password={}", PASSWORD.replace(' ', "+"));
    let len = body.len().to_string();
    let r = http_body(
        srv.port,
        "POST",
        "acme.example.com",
        "/api/auth/login",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Content-Length", &len),
        ],
        &body,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let set = r.header("set-cookie").unwrap();
    assert!(
        set.starts_with("__Host-t8k_session=") && set.contains("Secure") && set.contains("Path=/"),
        "{set}"
    );
}

#[test]
fn repeated_failures_are_rate_limited_with_retry_after() {
    let (_root, srv) = platform();
    // An unknown account fails exactly like a wrong password (and counts as a failure).
    let other = login(&srv, "other.localhost", "nobody", "whatever123");
    assert_eq!(
        (other.status, json(&other)["error"]["message"].as_str()),
        (401, Some("wrong user name or password"))
    );
    for _ in 0..4 {
        let r = login(&srv, "acme.localhost", "admin", "wrong password");
        assert_eq!(r.status, 401);
        assert_eq!(json(&r)["error"]["message"], "wrong user name or password");
    }
    // Five failures from this address within a minute: even the right password waits.
    let limited = login(&srv, "acme.localhost", "admin", PASSWORD);
    assert_eq!(limited.status, 429);
    assert!(
        limited
            .header("retry-after")
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    assert_eq!(json(&limited)["error"]["code"], "rate_limited");
}

#[test]
fn bad_requests_get_json_errors_with_the_right_status() {
    let (root, srv) = platform();
    let big = "x".repeat(100_000);
    let len = big.len().to_string();
    let r = http_body(
        srv.port,
        "POST",
        "acme.localhost",
        "/api/auth/login",
        &[
            ("Content-Type", "application/json"),
            ("Content-Length", &len),
        ],
        &big,
    );
    assert_eq!(r.status, 413);
    assert_eq!(json(&r)["error"]["code"], "too_large");

    let r = http_body(
        srv.port,
        "POST",
        "acme.localhost",
        "/api/auth/login",
        &[
            ("Content-Type", "application/json"),
            ("Content-Length", "9"),
        ],
        "{not json",
    );
    assert_eq!(r.status, 400);
    assert_eq!(json(&r)["error"]["code"], "bad_request");

    assert_eq!(
        json(&http(
            srv.port,
            "GET",
            "acme.localhost",
            "/api/nothing",
            &[]
        ))["error"]["code"],
        "not_found"
    );
    let unknown = login(&srv, "nobody.example.com", "admin", PASSWORD);
    assert_eq!(unknown.status, 404);
    root.run(&["tenant", "deactivate", "acme"]).ok();
    assert_eq!(login(&srv, "acme.localhost", "admin", PASSWORD).status, 503);
}

#[test]
fn admins_manage_users_and_editors_are_refused_admin_routes() {
    let (root, srv) = platform();
    let admin = cookie(&login(&srv, "acme.localhost", "admin", PASSWORD));
    let add = |c: &str, name: &str, role: &str| {
        let body = serde_json::json!({"username": name, "role": role, "email": format!("{name}@acme.test"), "password": PASSWORD}).to_string();
        let len = body.len().to_string();
        http_body(
            srv.port,
            "POST",
            "acme.localhost",
            "/api/users",
            &[
                ("Content-Type", "application/json"),
                ("Content-Length", &len),
                ("Cookie", c),
            ],
            &body,
        )
    };
    assert_eq!(add(&admin, "jo", "editor").status, 201);
    let jo = cookie(&login(&srv, "acme.localhost", "jo", PASSWORD));
    let me = json(&http(
        srv.port,
        "GET",
        "acme.localhost",
        "/api/auth/me",
        &[("Cookie", &jo)],
    ));
    assert_eq!(me["role"], "editor");

    // The editor at admin routes: 403, and nothing changes.
    assert_eq!(
        http(
            srv.port,
            "GET",
            "acme.localhost",
            "/api/users",
            &[("Cookie", &jo)]
        )
        .status,
        403
    );
    assert_eq!(add(&jo, "sneaky", "admin").status, 403);
    let users = json(&http(
        srv.port,
        "GET",
        "acme.localhost",
        "/api/users",
        &[("Cookie", &admin)],
    ));
    assert!(
        !users
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["username"] == "sneaky")
    );

    // A password reset ends the editor's sessions; disabling blocks logins.
    let body = r#"{"password": "a whole new secret"}"#;
    let r = http_body(
        srv.port,
        "PATCH",
        "acme.localhost",
        "/api/users/jo",
        &[
            ("Content-Type", "application/json"),
            ("Content-Length", &body.len().to_string()),
            ("Cookie", &admin),
        ],
        body,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        http(
            srv.port,
            "GET",
            "acme.localhost",
            "/api/auth/me",
            &[("Cookie", &jo)]
        )
        .status,
        401
    );
    assert_eq!(
        login(&srv, "acme.localhost", "jo", "a whole new secret").status,
        200
    );
    let body = r#"{"disabled": true}"#;
    assert_eq!(
        http_body(
            srv.port,
            "PATCH",
            "acme.localhost",
            "/api/users/jo",
            &[
                ("Content-Type", "application/json"),
                ("Content-Length", &body.len().to_string()),
                ("Cookie", &admin)
            ],
            body
        )
        .status,
        200
    );
    assert_eq!(
        login(&srv, "acme.localhost", "jo", "a whole new secret").status,
        401
    );

    // MAX_USERS bounds the accounts: admin + jo + 3 more = 5 (the default), then 409.
    for name in ["ann", "bob", "cy"] {
        assert_eq!(add(&admin, name, "editor").status, 201);
    }
    let full = add(&admin, "dee", "editor");
    assert_eq!(
        (full.status, json(&full)["error"]["code"].as_str()),
        (409, Some("quota"))
    );
    assert_eq!(
        root.run(&["--json", "tenant", "usage", "acme"]).ok().json()["users"],
        5
    );
}

#[test]
fn hostile_requests_are_refused_and_change_nothing() {
    let (root, srv) = platform();
    let admin = cookie(&login(&srv, "acme.localhost", "admin", PASSWORD));
    let other = cookie(&login(&srv, "other.localhost", "admin", PASSWORD));
    let send = |method: &str, host: &str, path: &str, cookie: &str, body: &str| {
        let len = body.len().to_string();
        http_body(
            srv.port,
            method,
            host,
            path,
            &[
                ("Content-Type", "application/json"),
                ("Content-Length", &len),
                ("Cookie", cookie),
            ],
            body,
        )
    };
    // An editor account, to call admin-only routes with.
    let jo =
        serde_json::json!({"username": "jo", "role": "editor", "password": PASSWORD}).to_string();
    assert_eq!(
        send("POST", "acme.localhost", "/api/users", &admin, &jo).status,
        201
    );
    let editor = cookie(&login(&srv, "acme.localhost", "jo", PASSWORD));
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
        (
            "POST",
            "acme.localhost@evil.test",
            "/api/pages".into(),
            admin.as_str(),
            page("p"),
            404,
        ),
        (
            "POST",
            "",
            "/api/pages".into(),
            admin.as_str(),
            page("p"),
            404,
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

#[test]
fn bandwidth_served_by_t8k_serve_is_counted_and_reported() {
    let (root, srv) = platform();
    let c = cookie(&login(&srv, "acme.localhost", "admin", PASSWORD));
    let quota = || {
        json(&http(
            srv.port,
            "GET",
            "acme.localhost",
            "/api/quota",
            &[("Cookie", &c)],
        ))["bandwidth"]
            .clone()
    };
    assert!(
        quota()["used"].is_null(),
        "nothing served yet: not measured"
    );

    let mut sent = 0;
    for path in ["/", "/", "/nope/"] {
        sent += common::get(srv.port, "acme.localhost", path).body.len();
    }
    let head = http(srv.port, "HEAD", "acme.localhost", "/", &[]);
    assert!(head.body.is_empty());
    common::get(srv.port, "other.localhost", "/");
    assert!(
        common::eventually(5, || quota()["used"] == sent as u64),
        "counted within a second or so: {} of {sent}",
        quota()
    );
    assert_eq!(quota()["requests"], 4, "three GETs and a HEAD");
    assert!(quota()["limit"].is_null());

    // A second server counting into the same data root adds to the same month, and a
    // graceful stop (SIGTERM) flushes what it counted last.
    let mut srv2 = root.serve(&[]);
    let more = common::get(srv2.port, "acme.localhost", "/").body.len();
    unsafe { libc::kill(srv2.child.id() as i32, libc::SIGTERM) };
    assert!(srv2.child.wait().unwrap().success());
    assert_eq!(quota()["used"], (sent + more) as u64, "flushed at shutdown");
}
