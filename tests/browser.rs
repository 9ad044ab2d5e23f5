//! The sign-up page in a real browser (headless Chromium over WebDriver): with JavaScript the
//! address is checked as it is typed and the form is submitted with fetch, and the page shows
//! what happened — the site created, or "check your email" when verification is on. And the
//! tracker: a page view in the browser arrives, is rolled up and shows in the dashboard.

mod common;

use common::{Browser, PASSWORD, Root, eventually};

fn sign_up_in_browser(verify: bool) -> Option<(Root, String)> {
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
    let browser = Browser::start()?;
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
    Some((root, shown))
}

#[test]
fn javascript_sign_up_creates_the_site_in_place() {
    let Some((root, shown)) = sign_up_in_browser(false) else {
        return;
    };
    assert!(shown.contains("Your site is ready"), "{shown}");
    // Where `t8k serve` serves it (a local preview), with its admin.
    assert!(shown.contains("http://bakery.localhost:"), "{shown}");
    assert!(shown.contains("/admin/ (log in as admin)"), "{shown}");
    assert_eq!(root.listed_ids(), ["bakery"]);
}

#[test]
fn javascript_sign_up_with_verification_asks_to_check_email() {
    let Some((root, shown)) = sign_up_in_browser(true) else {
        return;
    };
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

/// Event lines stored for a tenant, parsed.
fn events_of(root: &Root, tenant: &str) -> Vec<serde_json::Value> {
    let lines = root.event_lines(tenant);
    lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn tracked_site(track_localhost: bool) -> (Root, common::Server) {
    let mut root = Root::new();
    if track_localhost {
        root.env.push(("T8K_TRACK_LOCALHOST".into(), "1".into()));
    }
    root.init_multi(10);
    root.create("acme").ok();
    root.run(&["build"]).ok();
    let srv = root.serve(&[]);
    (root, srv)
}

#[test]
fn the_tracker_reports_a_page_view_that_rollup_counts() {
    let (root, srv) = tracked_site(true);
    let Some(browser) = Browser::start() else {
        return;
    };
    browser.open(&format!("http://acme.localhost:{}/", srv.port));
    assert!(
        eventually(10, || !events_of(&root, "acme").is_empty()),
        "the PAGEVIEWED beacon arrives and is written within a second or so"
    );
    let events = events_of(&root, "acme");
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(
        (events[0]["event"].as_str(), events[0]["path"].as_str()),
        (Some("PAGEVIEWED"), Some("/"))
    );
    // Leaving the page hides it: the tracker sends its Core Web Vitals, once.
    browser.open("about:blank");
    assert!(
        eventually(10, || events_of(&root, "acme").len() == 2),
        "the VITALS beacon arrives as the page hides: {:?}",
        events_of(&root, "acme")
    );
    let vitals = events_of(&root, "acme")
        .into_iter()
        .find(|e| e["event"] == "VITALS")
        .expect("a VITALS event");
    assert_eq!(vitals["path"], "/");
    let measured = |m: &str| vitals["props"][m].as_f64();
    let (lcp, cls, ttfb) = (measured("lcp"), measured("cls"), measured("ttfb"));
    assert!(lcp.is_some_and(|v| v > 0.0 && v < 60_000.0), "{vitals}");
    assert!(
        ttfb.is_some_and(|v| (0.0..60_000.0).contains(&v)),
        "{vitals}"
    );
    assert_eq!(cls, Some(0.0), "a page that does not move: {vitals}");
    drop(browser);
    let rolled = root
        .run(&["--json", "analytics", "rollup", "acme"])
        .ok()
        .json();
    assert_eq!(rolled["tenants"][0]["events"], 2);
    let db = rusqlite::Connection::open(root.file("db/acme/analytics.db")).unwrap();
    let views: i64 = db
        .query_row(
            "SELECT sum(count) FROM hourly WHERE event = 'PAGEVIEWED' AND path = '/'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let visitors: i64 = db
        .query_row("SELECT count(*) FROM visitors", [], |r| r.get(0))
        .unwrap();
    assert_eq!((views, visitors), (1, 1));

    // And the tenant's admin sees it in the dashboard's figures and charts.
    let cookie = common::login_cookie(srv.port, "acme.localhost", "admin", PASSWORD);
    let auth = [("Cookie", cookie.as_str())];
    let figures = common::http(
        srv.port,
        "GET",
        "acme.localhost",
        "/api/analytics?days=7",
        &auth,
    );
    assert_eq!(figures.status, 200, "{}", figures.text());
    let f = figures.json();
    assert_eq!(
        (f["pageviews"].as_u64(), f["visitors"].as_u64()),
        (Some(1), Some(1)),
        "{f}"
    );
    assert_eq!(f["daily"][6]["pageviews"], 1, "today is the last day: {f}");
    assert_eq!(
        (
            f["pages"][0]["path"].as_str(),
            f["pages"][0]["views"].as_u64()
        ),
        (Some("/"), Some(1))
    );
    // One sample each: its p75 is the sample rounded up to 10 ms (below a second, as here)
    // or 50 ms (below five), in web.dev's bands.
    let up = |v: f64| {
        let step = if v <= 1000.0 { 10.0 } else { 50.0 };
        (v / step).ceil() * step
    };
    for (metric, value) in [("lcp", lcp.unwrap()), ("ttfb", ttfb.unwrap())] {
        let fig = &f["vitals"][metric];
        assert_eq!(fig["p75"].as_f64(), Some(up(value)), "{metric}: {fig}");
        assert_eq!(fig["samples"], 1);
        let good = if metric == "lcp" { 2500.0 } else { 800.0 };
        if up(value) <= good {
            assert_eq!(fig["band"], "good", "{metric}: {fig}");
        }
    }
    assert_eq!(f["vitals"]["cls"]["p75"].as_f64(), Some(0.0));
    assert_eq!(
        f["daily"][6]["vitals"], f["vitals"],
        "today's p75 is the period's: {f}"
    );
    assert_eq!(f["vitals"]["cls"]["band"], "good");
    assert_eq!(f["vitals_pages"][0]["path"], "/", "{f}");
    let page = common::http(
        srv.port,
        "GET",
        "acme.localhost",
        "/api/analytics/dashboard",
        &auth,
    );
    assert_eq!(page.status, 200);
    let html = page.text();
    assert!(html.contains("<svg") && !html.contains("<script"), "{html}");
}

#[test]
fn the_tracker_is_silent_on_localhost_previews_by_default() {
    let (root, srv) = tracked_site(false);
    let Some(browser) = Browser::start() else {
        return;
    };
    browser.open(&format!("http://acme.localhost:{}/", srv.port));
    assert!(!browser.text("main").is_empty(), "the page loaded");
    std::thread::sleep(std::time::Duration::from_millis(2500));
    assert!(events_of(&root, "acme").is_empty());
}
