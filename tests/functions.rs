//! The functions over real HTTP, mounted by `t8k serve` at `/api/`: login, sessions bound to
//! their tenant, logout, rate limits, quota, and JSON errors for bad input.

mod common;

use common::{PASSWORD, Root, Server, http, http_with_body, send_json, session_cookie};

fn platform() -> (Root, Server) {
    common::served_platform()
}

fn login(srv: &Server, host: &str, user: &str, password: &str) -> common::HttpResponse {
    let body = serde_json::json!({"username": user, "password": password}).to_string();
    send_json(srv.port, "POST", host, "/api/auth/login", &[], &body)
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
    let c = session_cookie(&ok);

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
            me.json()["user"].as_str(),
            me.json()["role"].as_str(),
            me.json()["tenant"].as_str()
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
    assert_eq!(cross.json()["error"]["code"], "unauthorized");

    let quota = http(
        srv.port,
        "GET",
        "acme.localhost",
        "/api/quota",
        &[("Cookie", &c)],
    );
    assert_eq!(quota.status, 200);
    let q = quota.json();
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
    let r = http_with_body(
        srv.port,
        "POST",
        "acme.example.com",
        "/api/auth/login",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        body.as_bytes(),
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
        (other.status, other.json()["error"]["message"].as_str()),
        (401, Some("wrong user name or password"))
    );
    for _ in 0..4 {
        let r = login(&srv, "acme.localhost", "admin", "wrong password");
        assert_eq!(r.status, 401);
        assert_eq!(r.json()["error"]["message"], "wrong user name or password");
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
    assert_eq!(limited.json()["error"]["code"], "rate_limited");
}

#[test]
fn bad_requests_get_json_errors_with_the_right_status() {
    let (root, srv) = platform();
    let big = "x".repeat(100_000);
    let r = send_json(
        srv.port,
        "POST",
        "acme.localhost",
        "/api/auth/login",
        &[],
        &big,
    );
    assert_eq!(r.status, 413);
    assert_eq!(r.json()["error"]["code"], "too_large");

    let r = send_json(
        srv.port,
        "POST",
        "acme.localhost",
        "/api/auth/login",
        &[("Content-Length", "9")],
        "{not json",
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"]["code"], "bad_request");

    assert_eq!(
        http(srv.port, "GET", "acme.localhost", "/api/nothing", &[]).json()["error"]["code"],
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
    let admin = session_cookie(&login(&srv, "acme.localhost", "admin", PASSWORD));
    let add = |c: &str, name: &str, role: &str| {
        let body = serde_json::json!({"username": name, "role": role, "email": format!("{name}@acme.test"), "password": PASSWORD}).to_string();
        send_json(
            srv.port,
            "POST",
            "acme.localhost",
            "/api/users",
            &[("Cookie", c)],
            &body,
        )
    };
    assert_eq!(add(&admin, "jo", "editor").status, 201);
    let jo = session_cookie(&login(&srv, "acme.localhost", "jo", PASSWORD));
    let me = http(
        srv.port,
        "GET",
        "acme.localhost",
        "/api/auth/me",
        &[("Cookie", &jo)],
    )
    .json();
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
    let users = http(
        srv.port,
        "GET",
        "acme.localhost",
        "/api/users",
        &[("Cookie", &admin)],
    )
    .json();
    assert!(
        !users
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["username"] == "sneaky")
    );

    // A password reset ends the editor's sessions; disabling blocks logins.
    let body = r#"{"password": "a whole new secret"}"#;
    let r = send_json(
        srv.port,
        "PATCH",
        "acme.localhost",
        "/api/users/jo",
        &[("Cookie", &admin)],
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
        send_json(
            srv.port,
            "PATCH",
            "acme.localhost",
            "/api/users/jo",
            &[("Cookie", &admin)],
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
        (full.status, full.json()["error"]["code"].as_str()),
        (409, Some("quota"))
    );
    assert_eq!(
        root.run(&["--json", "tenant", "usage", "acme"]).ok().json()["users"],
        5
    );
}
