//! The installation operator's admin at the main domain's `/admin/` (#15), in headless
//! Chromium: a key login by keyboard, the tenants table sorted and filtered, a quota lowered
//! below usage only once confirmed, a site deactivated and reactivated, the sign-up waiting for
//! its link, the overview — and axe-core on every view.

mod common;

use common::{Browser, PASSWORD, Root, accessible, axe_source, http};

/// The installation's operator at the main domain's `/admin/`: logs in with the admin key,
/// sorts and filters the tenants, lowers a quota below usage (only once confirmed),
/// deactivates and reactivates a site, and sees the sign-up waiting for its link.
#[test]
fn the_operator_manages_tenants_in_the_browser() {
    let root = Root::new();
    root.init_multi_with(10, &["--require-email-verification"]);
    root.create("acme").ok();
    root.create("bakery").ok();
    let key = root.admin_key();
    let srv = root.serve(&[]);
    let signup = serde_json::json!({"subdomain": "newco", "name": "Nia", "email": "nia@example.org", "password": PASSWORD});
    let json = [("Content-Type", "application/json")];
    let waiting = common::http_with_body(
        srv.port,
        "POST",
        "localhost",
        "/api/register",
        &json,
        signup.to_string().as_bytes(),
    );
    assert_eq!(waiting.status, 202, "{}", waiting.text());
    let Some(b) = Browser::start() else {
        return;
    };
    let axe = axe_source();
    let axe = axe.as_deref();
    let base = format!("http://localhost:{}/admin/", srv.port);
    b.open(&format!("{base}#/tenant/acme"));
    b.wait_text("#login-title", "Installation admin");
    accessible(&b, axe, "operator login");
    b.type_into("#key", "t8k_admin_not-it");
    b.keys("\n");
    b.wait_text("#status", "not the installation admin key");
    b.type_into("#key", &key);
    b.keys("\n");
    b.wait_text("#tenant-title", "(acme)");
    b.wait_text("#tenant-usage", "of 100");
    accessible(&b, axe, "tenant");

    // Pages below current usage (the home page): set only after the operator confirms.
    b.type_into("#quota-pages", "0");
    b.click("#quota-form button");
    assert!(
        common::eventually(5, || b.dialog_open()),
        "asks first: {}",
        b.text("#status")
    );
    b.accept_dialog();
    b.wait_text("#status", "Quotas saved for acme");
    b.wait_text("#tenant-usage", "1 of 0");
    let shown = root.run(&["--json", "tenant", "show", "acme"]).ok().json();
    assert_eq!(shown["usage"]["limits"]["max_pages"], 0, "{shown}");

    b.click("#toggle-active");
    assert!(common::eventually(5, || b.dialog_open()));
    b.accept_dialog();
    b.wait_text("#status", "acme is deactivated");
    assert_eq!(
        http(srv.port, "GET", "acme.localhost", "/api/auth/me", &[]).status,
        503
    );
    b.click("#toggle-active");
    b.wait_text("#status", "acme is active");

    // The table: filtered by name, sorted by any column (at first by name; a click on the
    // column sorted by turns it round).
    b.open(&format!("{base}#/tenants"));
    b.wait_text("#tenants tbody", "bakery");
    accessible(&b, axe, "tenants");
    b.click("th[data-key=tenant] button");
    let rows = b.text("#tenants tbody");
    let (a, k) = (rows.find("acme").unwrap(), rows.find("bakery").unwrap());
    assert!(k < a, "descending: {rows}");
    b.type_into("#filter", "bak");
    b.wait_text("#tenants-count", "1 of");
    assert!(!b.text("#tenants tbody").contains("acme"));

    b.open(&format!("{base}#/signups"));
    b.wait_text("#signups tbody", "nia@example.org");
    accessible(&b, axe, "sign-ups");
    b.open(&format!("{base}#/"));
    b.wait_text("#pending-link", "1 sign-up(s) waiting");
    b.wait_text("#capacity", "of 10");
    accessible(&b, axe, "overview");
    b.click("#logout");
    b.wait_text("#status", "Logged out");
    let me = http(srv.port, "GET", "localhost", "/api/admin/me", &[]);
    assert_eq!(me.status, 401);
}
