//! What every request passes before a handler acts on it, tried the way a hostile user would,
//! on one served platform: cross-site writes from a sibling tenant's page are refused (Origin,
//! fetch metadata, JSON-only bodies); a request names exactly one host (RFC 9112 §3.2); user
//! text cannot pose as the platform's words in mail; menu links cannot smuggle `//host`
//! through a backslash; and 20 concurrent wrong passwords get exactly five checks.

mod common;

use std::io::{Read, Write};

use common::{HttpResponse, PASSWORD, Root, http_with_body, login_cookie, race, send_json, tally};

/// A request sent byte for byte as given (two Host headers, absolute-form targets).
fn raw(port: u16, request: &str) -> u16 {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut head = [0u8; 12];
    s.read_exact(&mut head).unwrap();
    std::str::from_utf8(&head[9..12]).unwrap().parse().unwrap()
}

fn page_body(slug: &str) -> String {
    serde_json::json!({"slug": slug, "title": "Planted", "panes": [{"markdown": "x", "options": {}}]})
        .to_string()
}

/// `POST /api/pages` at acme with a JSON page and the given headers.
fn post_page(port: u16, headers: &[(&str, &str)], slug: &str) -> HttpResponse {
    send_json(
        port,
        "POST",
        "acme.localhost",
        "/api/pages",
        headers,
        &page_body(slug),
    )
}

#[test]
fn hostile_requests_are_stopped_before_any_handler_acts() {
    let (root, srv) = common::served_platform();
    let c = login_cookie(srv.port, "acme.localhost", "admin", PASSWORD);
    cross_site_writes_are_refused(&root, srv.port, &c);
    user_text_cannot_pose_as_the_platform(&root, srv.port, &c);
    a_request_names_one_host(srv.port);
    // Last: it locks this address out of logins for a minute.
    login_attempts_are_counted_before_the_hash(srv.port);
}

fn cross_site_writes_are_refused(root: &Root, port: u16, session: &str) {
    let cookie = ("Cookie", session);
    let pages = || root.run(&["--json", "tenant", "usage", "acme"]).ok().json()["pages"].clone();
    let users = || root.run(&["--json", "user", "list", "acme"]).ok().json();
    let (pages_before, users_before) = (pages(), users());

    // A page of a sibling tenant, another site, an opaque origin, fetch metadata from another
    // site, and no evidence at all: each refused, nothing written.
    for origin in [
        "http://other.localhost",
        "https://evil.test",
        "null",
        "http://acme.localhost.evil.test",
    ] {
        let r = post_page(port, &[cookie, ("Origin", origin)], "planted");
        assert_eq!(r.status, 403, "{origin}: {}", r.text());
        let form = http_with_body(
            port,
            "POST",
            "acme.localhost",
            "/api/users",
            &[
                cookie,
                ("Origin", origin),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            b"username=mallory&role=admin&email=m%40evil.test&password=correct+horse+battery",
        );
        assert_eq!(form.status, 403, "{origin}: {}", form.text());
    }
    for extra in [
        [("Sec-Fetch-Site", "same-site"), ("Origin", "")],
        [("Sec-Fetch-Site", "cross-site"), ("Origin", "")],
        [("X-Nothing", "1"), ("Origin", "")],
    ] {
        let mut headers = vec![cookie];
        headers.extend_from_slice(&extra);
        let r = post_page(port, &headers, "planted");
        assert_eq!(r.status, 403, "{extra:?}: {}", r.text());
    }
    // JSON endpoints take JSON only: a form or text/plain body (which a cross-site form can
    // send without asking) is refused even from the right origin.
    for ctype in ["application/x-www-form-urlencoded", "text/plain", ""] {
        let r = http_with_body(
            port,
            "POST",
            "acme.localhost",
            "/api/pages",
            &[cookie, ("Content-Type", ctype)],
            page_body("planted").as_bytes(),
        );
        assert_eq!(r.status, 415, "{ctype:?}: {}", r.text());
    }
    assert_eq!((pages(), users()), (pages_before, users_before));

    // The tenant's own page may write, by Origin or by fetch metadata.
    let own = post_page(port, &[cookie], "mine");
    assert_eq!(own.status, 201, "{}", own.text());
    let fetched = send_json(
        port,
        "DELETE",
        "acme.localhost",
        "/api/pages/mine",
        &[cookie, ("Origin", ""), ("Sec-Fetch-Site", "same-origin")],
        "",
    );
    assert_eq!(fetched.status, 204, "{}", fetched.text());
    // Sign-up on the main domain from a tenant's page is a cross-site write too.
    assert_eq!(signup(port, "Nia", "", "http://acme.localhost").status, 403);
}

fn signup(port: u16, name: &str, org: &str, origin: &str) -> HttpResponse {
    let body = serde_json::json!({"subdomain": "newco", "name": name, "email": "n@example.org", "organisation": org, "password": "correct horse battery"});
    send_json(
        port,
        "POST",
        "example.com",
        "/api/register",
        &[("Origin", origin)],
        &body.to_string(),
    )
}

fn user_text_cannot_pose_as_the_platform(root: &Root, port: u16, session: &str) {
    // Text that would read as the platform's own words in a mail, or differently from what
    // it is, is refused where it is accepted, with the rule named.
    for (name, org) in [
        (
            "Nia\r\n\r\nYour account is locked. Log in at https://evil.test to unlock it.",
            "",
        ),
        ("Nia", "Acme\u{202E}kcab"),
        (&"N".repeat(101) as &str, ""),
    ] {
        let r = signup(port, name, org, "http://example.com");
        assert_eq!(r.status, 400, "{name:?} {org:?}: {}", r.text());
    }
    assert!(!root.listed_ids().contains(&"newco".to_owned()));
    let r = root.run(&[
        "tenant",
        "create",
        "newco",
        "--name",
        "Evil\u{2066}Co",
        "--email",
        "n@example.org",
        "--no-admin-password",
    ]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("site name"), "{}", r.stderr);

    // A menu link with a backslash, which browsers read as `//evil.test`.
    let menu =
        serde_json::json!({"title": "Main", "items": [{"label": "Home", "url": "/\\evil.test/"}]});
    let r = send_json(
        port,
        "PUT",
        "acme.localhost",
        "/api/menus/main",
        &[("Cookie", session)],
        &menu.to_string(),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("backslash"), "{}", r.text());
}

/// One request, one host (RFC 9112 §3.2), the same on the static side and the API.
fn a_request_names_one_host(port: u16) {
    for path in ["/", "/api/auth/me"] {
        let two = format!(
            "GET {path} HTTP/1.1\r\nHost: acme.localhost\r\nHost: other.localhost\r\nConnection: close\r\n\r\n"
        );
        assert_eq!(raw(port, &two), 400, "two Host headers on {path}");
        let disagree = format!(
            "GET http://other.localhost{path} HTTP/1.1\r\nHost: acme.localhost\r\nConnection: close\r\n\r\n"
        );
        assert_eq!(raw(port, &disagree), 400, "absolute form vs Host on {path}");
        let none = format!("GET {path} HTTP/1.0\r\n\r\n");
        assert_eq!(raw(port, &none), 400, "no host on {path}");
    }
    let absolute =
        "GET http://acme.localhost/ HTTP/1.1\r\nHost: acme.localhost\r\nConnection: close\r\n\r\n";
    assert_eq!(raw(port, absolute), 200);
}

/// 20 concurrent wrong passwords for one account get exactly five password checks; the rest
/// are told to wait.
fn login_attempts_are_counted_before_the_hash(port: u16) {
    let body = serde_json::json!({"username": "admin", "password": "wrong password!"}).to_string();
    let statuses = race(20, |_| {
        send_json(
            port,
            "POST",
            "other.localhost",
            "/api/auth/login",
            &[],
            &body,
        )
        .status
    });
    assert_eq!(tally(&statuses, 401), 5, "{statuses:?}");
    assert_eq!(tally(&statuses, 429), 15, "{statuses:?}");
}
