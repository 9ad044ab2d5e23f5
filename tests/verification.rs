//! Sign-up with email verification over real HTTP: the name is reserved as `pending` (and
//! counts against max_tenants) until the emailed link is followed; links are single-use,
//! signed, and expire, freeing the name; with no SMTP server the mail lands in `outbox/`; a
//! mail server that is down refuses the sign-up and keeps nothing.

mod common;

use common::{PASSWORD, Root, Server, eventually, get, http, send_json, verify_link};

fn post(srv: &Server, path: &str, body: &serde_json::Value) -> common::HttpResponse {
    send_json(
        srv.port,
        "POST",
        "example.com",
        path,
        &[],
        &body.to_string(),
    )
}

fn signup(srv: &Server, name: &str, email: &str) -> common::HttpResponse {
    post(
        srv,
        "/api/register",
        &serde_json::json!({"subdomain": name, "name": "Kim", "email": email, "password": PASSWORD}),
    )
}

/// A verifying installation, served; `ttl` sets the link lifetime in seconds.
fn platform(max: u64, ttl: Option<u64>) -> (Root, Server) {
    let root = verifying_root(max, ttl);
    let srv = root.serve(&[]);
    (root, srv)
}

/// A verifying installation (not served).
fn verifying_root(max: u64, ttl: Option<u64>) -> Root {
    let mut root = Root::new();
    root.env
        .push(("T8K_SIGNUPS_PER_IP_HOUR".into(), "100".into()));
    if let Some(t) = ttl {
        root.env.push(("T8K_VERIFY_TTL_SECS".into(), t.to_string()));
    }
    root.init_multi_with(max, &["--require-email-verification"]);
    root
}

/// The mails in the data root's outbox (no SMTP server configured).
fn outbox(root: &Root) -> Vec<String> {
    let Ok(dir) = std::fs::read_dir(root.file("outbox")) else {
        return vec![];
    };
    let mut mails: Vec<_> = dir
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    mails.sort();
    mails
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

fn token_of(mail: &str) -> String {
    let link = verify_link(mail).unwrap_or_else(|| panic!("no link in {mail}"));
    link.split_once("token=").unwrap().1.to_owned()
}

fn confirm(srv: &Server, token: &str) -> common::HttpResponse {
    post(
        srv,
        "/api/register/verify",
        &serde_json::json!({ "token": token }),
    )
}

fn status_of(root: &Root, id: &str) -> Option<String> {
    root.entry(id)
        .map(|t| t["status"].as_str().unwrap().to_owned())
}

#[test]
fn pending_reservation_holds_the_name_until_its_link_is_used_once() {
    let (root, srv) = platform(100, None);
    let r = signup(&srv, "kims-kitchen", "kim@example.org");
    assert_eq!(r.status, 202, "{}", r.text());
    assert_eq!(r.json()["sent_via"], "outbox");
    assert_eq!(status_of(&root, "kims-kitchen").as_deref(), Some("pending"));
    assert!(
        !root.file("config/kims-kitchen").exists(),
        "no tenant files yet"
    );
    assert!(root.listed_ids().is_empty());

    // The name is held: checks say taken, a second sign-up is refused.
    let check = get(
        srv.port,
        "example.com",
        "/api/register/check?name=kims-kitchen",
    );
    assert_eq!(check.json()["available"], false);
    assert_eq!(
        signup(&srv, "kims-kitchen", "other@example.org").status,
        409
    );

    let listed = root.run(&["--json", "tenant", "pending"]).ok().json();
    assert_eq!(listed[0]["tenant"], "kims-kitchen");
    assert_eq!(listed[0]["email"], "kim@example.org");

    let mails = outbox(&root);
    assert_eq!(mails.len(), 1, "one mail, in outbox/");
    assert!(mails[0].contains("To: kim@example.org"), "{}", mails[0]);
    let token = token_of(&mails[0]);

    // A tampered token is refused and changes nothing.
    let mut bad = token.clone();
    bad.pop();
    bad.push(if token.ends_with('A') { 'B' } else { 'A' });
    assert_eq!(confirm(&srv, &bad).status, 400);
    assert_eq!(confirm(&srv, "not-a-token").status, 400);
    assert_eq!(status_of(&root, "kims-kitchen").as_deref(), Some("pending"));

    // The link page on a tenant's host is refused: verification lives on the main domain.
    assert_eq!(
        http(
            srv.port,
            "GET",
            "kims-kitchen.localhost",
            &format!("/api/register/verify?token={token}"),
            &[]
        )
        .status,
        404
    );

    let r = confirm(&srv, &token);
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(root.listed_ids(), ["kims-kitchen"]);
    assert!(root.file("queue/builds/kims-kitchen").is_file());
    assert!(!root.file("config/t8k/pending/kims-kitchen.json").exists());
    let again = confirm(&srv, &token);
    assert_eq!(again.status, 410, "{}", again.text());
    assert_eq!(again.json()["error"]["code"], "gone");
}

#[test]
fn reservations_count_against_max_tenants() {
    let (root, srv) = platform(2, None);
    assert_eq!(signup(&srv, "first", "a@example.org").status, 202);
    assert_eq!(signup(&srv, "second", "b@example.org").status, 202);
    let full = signup(&srv, "third", "c@example.org");
    assert_eq!(full.status, 409, "{}", full.text());
    assert_eq!(full.json()["error"]["code"], "full");
    assert_eq!(status_of(&root, "third"), None);
}

#[test]
fn expired_links_are_refused_and_free_the_name() {
    let (root, srv) = platform(100, Some(2));
    assert_eq!(signup(&srv, "slowpoke", "slow@example.org").status, 202);
    let token = token_of(&outbox(&root)[0]);
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let r = confirm(&srv, &token);
    assert_eq!(r.status, 410, "{}", r.text());
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
    assert!(root.listed_ids().is_empty());
    let check = get(srv.port, "example.com", "/api/register/check?name=slowpoke");
    assert_eq!(check.json()["available"], true, "the name is free again");

    // Someone else takes the name; the first link stays dead.
    assert_eq!(signup(&srv, "slowpoke", "fast@example.org").status, 202);
    let fresh = token_of(&outbox(&root)[1]);
    assert_eq!(confirm(&srv, &token).status, 410);
    assert_eq!(confirm(&srv, &fresh).status, 201);
    let env: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.file("config/slowpoke/env.json")).unwrap())
            .unwrap();
    assert_eq!(env["ADMIN_EMAIL"], "fast@example.org");
}

#[test]
fn a_mail_server_that_is_down_refuses_the_sign_up_and_keeps_nothing() {
    let (root, srv) = platform(100, None);
    let closed = common::free_port();
    root.use_smtp(closed);
    let r = signup(&srv, "unlucky", "u@example.org");
    assert_eq!(r.status, 502, "{}", r.text());
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&format!("127.0.0.1:{closed}"))
    );
    assert_eq!(status_of(&root, "unlucky"), None, "the name is released");
    assert!(!root.file("config/t8k/pending/unlucky.json").exists());
    assert!(outbox(&root).is_empty());

    // Bad SMTP settings are refused by the CLI, and change nothing.
    root.run(&[
        "config",
        "smtp",
        "--host",
        "127.0.0.1",
        "--from",
        "not an address",
    ])
    .fails(2, "--from");
    root.run(&["config", "smtp", "--off"]).ok();
    assert!(root.registry().get("smtp").is_none());
    assert!(eventually(2, || signup(&srv, "lucky", "l@example.org")
        .status
        == 202));
}

#[test]
fn the_log_at_trace_level_holds_no_password_token_or_cookie() {
    let mut root = verifying_root(100, None);
    root.env.push(("T8K_LOG".into(), "trace".into()));
    let log_path = root.path().join("serve.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let srv = root.serve_to(&[], log.into());
    assert_eq!(signup(&srv, "kims-kitchen", "kim@example.org").status, 202);
    let token = token_of(&outbox(&root)[0]);
    let page = get(
        srv.port,
        "example.com",
        &format!("/api/register/verify?token={token}"),
    );
    assert_eq!(page.status, 200);
    assert_eq!(confirm(&srv, &token).status, 201);
    let host = "kims-kitchen.example.com";
    let wrong = "wrong-horse-battery-staple";
    let body = serde_json::json!({"username": "admin", "password": wrong}).to_string();
    let refused = send_json(srv.port, "POST", host, "/api/auth/login", &[], &body);
    assert_eq!(refused.status, 401);
    let cookie = common::login_cookie(srv.port, host, "admin", PASSWORD);
    let me = http(
        srv.port,
        "GET",
        host,
        "/api/auth/me",
        &[("Cookie", &cookie)],
    );
    assert_eq!(me.status, 200);
    let request_id = me
        .header("x-request-id")
        .expect("every answer names its request id");
    drop(srv);
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        log.contains(request_id) && log.contains("/api/auth/login"),
        "requests are traced, by id and path: {log}"
    );
    let session = cookie.split_once('=').unwrap().1;
    for (what, secret) in [
        ("the password", PASSWORD),
        ("a wrong password", wrong),
        ("the verification token", token.as_str()),
        ("the session token", session),
    ] {
        assert!(!log.contains(secret), "{what} is in the log");
    }
}
