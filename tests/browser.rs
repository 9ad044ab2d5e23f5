//! The sign-up page in a real browser (headless Chromium over WebDriver): with JavaScript the
//! address is checked as it is typed and the form is submitted with fetch, and the page shows
//! what happened — the site created, or "check your email" when verification is on.

mod common;

use common::{Browser, PASSWORD, Root, eventually};

fn sign_up_in_browser(verify: bool) -> (Root, String) {
    let mut root = Root::new();
    root.env
        .push(("T8K_SIGNUPS_PER_IP_HOUR".into(), "100".into()));
    let mut init = vec!["init", "--multi", "--domain", "example.com"];
    if verify {
        init.push("--require-email-verification");
    }
    root.run(&init).ok();
    root.run(&["build"]).ok();
    let srv = root.serve(&[]);
    let browser = Browser::start();
    browser.open(&format!("http://localhost:{}/sandbox/register/", srv.port));

    browser.type_into("#subdomain", "www");
    assert!(
        eventually(5, || browser.text("#subdomain-status").contains("reserved")),
        "a reserved name is flagged as it is typed: {:?}",
        browser.text("#subdomain-status")
    );
    browser.type_into("#subdomain", "bakery");
    assert!(
        eventually(5, || browser.text("#subdomain-status")
            == "bakery is available"),
        "{:?}",
        browser.text("#subdomain-status")
    );
    browser.type_into("#name", "Ada");
    browser.type_into("#email", "ada@example.org");
    browser.type_into("#password", PASSWORD);
    browser.click("button[type=submit]");
    let mut shown = String::new();
    eventually(10, || {
        shown = browser.text("main");
        !shown.contains("Create my site")
    });
    (root, shown)
}

#[test]
fn javascript_sign_up_creates_the_site_in_place() {
    let (root, shown) = sign_up_in_browser(false);
    assert!(shown.contains("Your site is ready"), "{shown}");
    assert!(shown.contains("https://bakery.example.com/"), "{shown}");
    assert_eq!(root.listed_ids(), ["bakery"]);
}

#[test]
fn javascript_sign_up_with_verification_asks_to_check_email() {
    let (root, shown) = sign_up_in_browser(true);
    assert!(shown.contains("Check your email"), "{shown}");
    assert!(shown.contains("ada@example.org"), "{shown}");
    assert!(
        root.listed_ids().is_empty(),
        "no tenant before the link is followed"
    );
    assert_eq!(
        root.run(&["--json", "tenant", "pending"]).ok().json()[0]["tenant"],
        "bakery"
    );
}
