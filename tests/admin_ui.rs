//! The browser admin at `/admin/` (first slice of #15): its security headers over HTTP, then a
//! tenant admin's journey in headless Chromium — a deep link that asks for a login first,
//! a wrong password, editing the home page with an XSS payload in its title (stored and shown
//! as text, never run), creating a nested page with a Markdown table, logging out; a new
//! owner's whole journey from sign-up. The installation operator's admin is in operator_ui.rs.

mod common;

use common::{Browser, PASSWORD, Root, accessible, axe_source, http};

/// Fills in the admin's login form and sends it.
fn log_in(b: &Browser, user: &str, password: &str) {
    b.type_into("#username", user);
    b.type_into("#password", password);
    b.click("#login-form button");
}

/// The status of a login over the API (200 or 401).
fn api_login(srv: &common::Server, user: &str, password: &str) -> u16 {
    let body = serde_json::json!({"username": user, "password": password}).to_string();
    let json = [("Content-Type", "application/json")];
    common::http_with_body(
        srv.port,
        "POST",
        "acme.localhost",
        "/api/auth/login",
        &json,
        body.as_bytes(),
    )
    .status
}

fn site() -> (Root, common::Server) {
    let root = Root::new();
    root.init_multi(10);
    root.create("acme").ok();
    let srv = root.serve(&[]);
    (root, srv)
}

#[test]
fn the_admin_is_served_with_a_strict_content_security_policy_on_every_tenant_host() {
    let (_root, srv) = site();
    let moved = http(srv.port, "GET", "acme.localhost", "/admin", &[]);
    assert_eq!(
        (moved.status, moved.header("location")),
        (301, Some("/admin/"))
    );
    let page = http(srv.port, "GET", "acme.localhost", "/admin/", &[]);
    assert_eq!(page.status, 200);
    let csp = page.header("content-security-policy").unwrap_or_default();
    for rule in [
        "script-src 'self'",
        "frame-ancestors 'none'",
        "default-src 'none'",
    ] {
        assert!(csp.contains(rule), "{rule} missing from {csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    let html = page.text();
    assert!(
        !html.contains("<script>") && !html.contains("style=\""),
        "nothing inline, so the policy needs no exception"
    );
    for asset in [
        "/admin/app.js",
        "/admin/core.js",
        "/admin/pages.js",
        "/admin/app.css",
    ] {
        let r = http(srv.port, "GET", "acme.localhost", asset, &[]);
        assert_eq!(r.status, 200, "{asset}");
    }
    assert_eq!(
        http(srv.port, "GET", "acme.localhost", "/admin/nope", &[]).status,
        404
    );
    // The main domain's /admin/ is the installation's, under the same policy.
    let ops = http(srv.port, "GET", "localhost", "/admin/", &[]);
    assert!(ops.text().contains("ops.js"), "{}", ops.text());
    assert_eq!(ops.header("content-security-policy"), Some(csp));
    assert!(
        !page.text().contains("ops.js"),
        "a tenant host never gets it"
    );
}

#[test]
fn an_admin_logs_in_edits_and_creates_pages_in_the_browser() {
    let (root, srv) = site();
    let Some(b) = Browser::start() else {
        return;
    };
    let axe = axe_source();
    let axe = axe.as_deref();
    let base = format!("http://acme.localhost:{}/admin/", srv.port);
    // A deep link asks for a login first, then goes where it pointed.
    b.open(&format!("{base}#/edit/home"));
    b.wait_text("#login-title", "Log in");
    accessible(&b, axe, "login");
    log_in(&b, "admin", "not the password");
    b.wait_text("#status", "wrong user name or password");
    b.type_into("#password", PASSWORD);
    b.click("#login-form button");
    b.wait_text("#editor-title", "Edit");
    b.wait_text("#preview", "Welcome");
    accessible(&b, axe, "editor");

    // A title holding markup is stored and shown as text.
    let payload = "<img src=x onerror=alert(1)> Bakery";
    b.type_into("#title", payload);
    b.click("#save");
    b.wait_text("#status", "Saved");
    assert!(!b.dialog_open(), "the payload never runs");
    let cookie = common::login_cookie(srv.port, "acme.localhost", "admin", PASSWORD);
    let auth = [("Cookie", cookie.as_str())];
    let home = http(srv.port, "GET", "acme.localhost", "/api/pages/home", &auth).json();
    assert_eq!(home["title"], payload);
    assert_eq!(home["panes"].as_array().unwrap().len(), 3, "panes kept");
    b.open(&format!("{base}#/pages"));
    b.wait_text("#pages tbody", payload);
    assert!(!b.dialog_open());
    accessible(&b, axe, "pages");

    // A new page at a nested address, with a Markdown table.
    b.click("#new-page");
    b.wait_text("#editor-title", "New page");
    b.type_into("#title", "Opening hours");
    b.type_into("#slug", "visit/hours");
    b.type_into(
        "#pane-0",
        "| Day | Hours |\n|---|---|\n| Mon | 8–18 |\n\n<img src=x onerror=alert(1)>\n",
    );
    // The preview is the builder's rendering: the table, and the payload made inert.
    b.wait_text("#preview table", "Mon");
    assert!(!b.dialog_open(), "the preview runs nothing");
    b.click("#save");
    b.wait_text("#status", "Saved “Opening hours”");
    let hours = http(
        srv.port,
        "GET",
        "acme.localhost",
        "/api/pages/visit/hours",
        &auth,
    );
    assert_eq!(hours.status, 200, "{}", hours.text());
    assert!(
        hours.json()["panes"][0]["markdown"]
            .as_str()
            .unwrap()
            .contains("| Mon | 8–18 |")
    );
    root.run(&["build", "acme"]).ok();
    let built = std::fs::read_to_string(root.file("build/acme/visit/hours/index.html")).unwrap();
    assert!(built.contains("<table>"), "{built}");

    // Two editors: a save made elsewhere after this tab opened the page is never overwritten.
    b.open(&format!("{base}#/edit/visit%2Fhours"));
    b.wait_text("#editor-title", "Edit Opening hours");
    let mut other = hours.json();
    other["title"] = "Hours (edited elsewhere)".into();
    let put = common::send_json(
        srv.port,
        "PUT",
        "acme.localhost",
        "/api/pages/visit/hours",
        &auth,
        &other.to_string(),
    );
    assert_eq!(put.status, 200, "{}", put.text());
    b.type_into("#title", "Hours (this tab)");
    b.click("#save");
    assert!(
        common::eventually(10, || b.dialog_open()),
        "the conflict is shown"
    );
    b.accept_dialog();
    b.wait_text("#editor-title", "Edit Hours (edited elsewhere)");
    let now = http(
        srv.port,
        "GET",
        "acme.localhost",
        "/api/pages/visit/hours",
        &auth,
    )
    .json();
    assert_eq!(
        now["title"], "Hours (edited elsewhere)",
        "nothing was overwritten"
    );

    // Menus: an item added, moved to the top and saved with the menu.
    b.open(&format!("{base}#/menus"));
    b.wait_text("#menus", "Main");
    accessible(&b, axe, "menus");
    b.click("button[aria-label='Add an item to Main']");
    b.type_into("#label-main-1", "Hours");
    b.type_into("#target-main-1", "visit/hours");
    b.click("button[aria-label='Move item 2 up']");
    b.click("#menus button[type='submit']");
    b.wait_text("#status", "Saved the Main menu");
    let menus = http(srv.port, "GET", "acme.localhost", "/api/menus", &auth).json();
    let items = &menus[0]["items"];
    assert_eq!(
        (items[0]["label"].as_str(), items[0]["page"].as_str()),
        (Some("Hours"), Some("visit/hours")),
        "{menus}"
    );
    assert_eq!(items.as_array().unwrap().len(), 2, "{menus}");

    // Media: an image with its alt text, listed with its Markdown; over quota, said so.
    let image = root.dir.path().join("gradient.png");
    std::fs::write(&image, common::gradient_png(40, 30)).unwrap();
    b.open(&format!("{base}#/media"));
    b.wait_text("#media-title", "Media");
    accessible(&b, axe, "media");
    b.choose_file("#upload-file", &image);
    b.type_into("#upload-alt", "A blue gradient");
    b.click("#upload-form button");
    b.wait_text("#status", "Uploaded");
    b.wait_text("#media", "A blue gradient");
    // Its thumbnail shows before any build has published it.
    let shown = "document.querySelector('#media img').naturalWidth";
    assert!(
        common::eventually(5, || b.eval(shown) == 40),
        "thumbnail: {}",
        b.eval(shown)
    );
    let listed = http(srv.port, "GET", "acme.localhost", "/api/media", &auth).json();
    assert_eq!(listed[0]["alt"], "A blue gradient", "{listed}");
    root.run(&["tenant", "set-quota", "acme", "--storage", "1KB", "--force"])
        .ok();
    let other = root.dir.path().join("noisy.png");
    std::fs::write(&other, common::noisy_png(64, 64, 7)).unwrap();
    b.choose_file("#upload-file", &other);
    b.type_into("#upload-alt", "Noise");
    b.click("#upload-form button");
    b.wait_text("#status", "Over your storage quota");
    root.run(&["tenant", "set-quota", "acme", "--storage", "100MB"])
        .ok();

    // The dashboard: usage against every quota, and the last 30 days.
    b.open(&format!("{base}#/"));
    let usage = b.wait_text("#usage", "Pages");
    assert!(usage.contains("Storage") && usage.contains("of"), "{usage}");
    b.wait_text("#traffic", "visitors");
    b.wait_text("#backups-state", "keeps no backups yet");
    let repo = root.dir.path().join("backups");
    root.run(&["backup", "init", "--to", repo.to_str().unwrap()])
        .ok();
    root.run(&["backup", "acme"]).ok();
    b.open(&format!("{base}#/pages"));
    b.open(&format!("{base}#/"));
    b.wait_text("#backups-state", "1 kept");
    b.click("#restore-point");
    b.wait_text("#status", "Asked");
    accessible(&b, axe, "dashboard");
    // Publish now: a build is asked for, and the page says when the site is live.
    b.click("#publish-now");
    b.wait_text("#publish-state", "A build is waiting");
    root.run(&["build", "--queued"]).ok();
    root.run(&["publish", "acme"]).ok();
    b.wait_text("#status", "Your site is live");
    b.wait_text("#publish-state", "Live since");
    // Screenshots at phone and desktop widths, for people to look at (the paths are printed).
    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("admin-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    for (name, width, height, view) in [
        ("dashboard-phone", 390, 844, "#/"),
        ("editor-desktop", 1280, 900, "#/edit/visit%2Fhours"),
    ] {
        b.resize(width, height);
        b.open(&format!("{base}{view}"));
        b.wait_text("main", "");
        std::thread::sleep(std::time::Duration::from_millis(500));
        let png = b.screenshot();
        assert!(png.starts_with(b"\x89PNG"), "{name} is a PNG");
        let file = shots.join(format!("admin-{name}.png"));
        std::fs::write(&file, png).unwrap();
        println!("screenshot: {}", file.display());
    }

    b.open(&format!("{base}#/analytics"));
    b.wait_text("#top-pages", "Nothing yet");
    // No traffic yet: the charts say so in words, not as empty boxes.
    b.wait_text(
        "#views-chart .no-data",
        "No visits recorded in these 30 days yet.",
    );
    accessible(&b, axe, "analytics");

    // Users: an admin adds an editor, disables and enables them.
    b.open(&format!("{base}#/users"));
    b.wait_text("#users-quota", "accounts used");
    accessible(&b, axe, "users");
    b.type_into("#new-username", "jo");
    b.type_into("#new-email", "jo@example.com");
    b.type_into("#new-password", PASSWORD);
    b.click("#add-user button");
    b.wait_text("#status", "Added jo");
    b.wait_text("#users tbody", "jo <jo@example.com>");
    b.click("#users button[aria-label='Disable jo']");
    b.wait_text("#status", "Disabled jo");
    assert_eq!(
        api_login(&srv, "jo", PASSWORD),
        401,
        "a disabled account cannot log in"
    );
    b.click("#users button[aria-label='Enable jo']");
    b.wait_text("#status", "Enabled jo");

    // A session that ends (the password was set elsewhere) sends the next action to the
    // login, and back to where it was after.
    let reset = common::send_json(
        srv.port,
        "PATCH",
        "acme.localhost",
        "/api/users/admin",
        &auth,
        &serde_json::json!({"password": PASSWORD}).to_string(),
    );
    assert_eq!(reset.status, 200, "{}", reset.text());
    b.open(&format!("{base}#/media"));
    b.wait_text("#status", "Your session has ended");
    log_in(&b, "admin", PASSWORD);
    b.wait_text("#media-title", "Media");

    // Domains: one added shows the DNS records to create; removed, it is gone. (No DNS check
    // here: it would ask a resolver outside the machine.)
    b.open(&format!("{base}#/domains"));
    b.wait_text("#own-domain", "acme");
    b.type_into("#new-domain", "www.acme-bakery.test");
    b.click("#add-domain button");
    b.wait_text("#status", "Added www.acme-bakery.test");
    let card = b.wait_text("#domains", "_t8k-verify.www.acme-bakery.test");
    assert!(
        card.contains("Waiting for its DNS records")
            && card.contains("CNAME")
            && card.contains("No certificate of its own yet"),
        "{card}"
    );
    accessible(&b, axe, "domains");
    b.click("button[aria-label='Remove www.acme-bakery.test']");
    assert!(common::eventually(5, || b.dialog_open()));
    b.accept_dialog();
    b.wait_text("#status", "Removed www.acme-bakery.test");

    // Logging out ends the session: the next view is the login.
    b.click("#logout");
    b.wait_text("#status", "Logged out");
    b.open(&format!("{base}#/pages"));
    b.wait_text("#login-title", "Log in");

    // Keyboard only, on a fresh load: the login takes the focus; Tab to the password, Enter
    // to log in.
    b.open("about:blank");
    b.open(&format!("{base}#/pages"));
    b.wait_text("#login-title", "Log in");
    b.keys(&format!("admin\t{PASSWORD}\n"));
    b.wait_text("#pages-title", "Pages");
    // Tab to "New page", Enter; the title has the focus, Tab to the address, Enter saves.
    b.keys("\t\n");
    b.wait_text("#editor-title", "New page");
    b.keys("Made by keyboard\tby-keyboard\n");
    b.wait_text("#status", "Saved");
    let fresh = common::login_cookie(srv.port, "acme.localhost", "admin", PASSWORD);
    let made = http(
        srv.port,
        "GET",
        "acme.localhost",
        "/api/pages/by-keyboard",
        &[("Cookie", fresh.as_str())],
    );
    assert_eq!(made.json()["title"], "Made by keyboard", "{}", made.text());
    b.open(&format!("{base}#/pages"));
    b.wait_text("#pages tbody", "Made by keyboard");

    // An editor is not offered the admins' pages, and is refused them.
    b.click("#logout");
    b.wait_text("#login-title", "Log in");
    log_in(&b, "jo", PASSWORD);
    b.wait_text("#pages-title", "Pages");
    assert_eq!(b.find_text("#users-link").as_deref(), Some(""), "hidden");
    b.open(&format!("{base}#/users"));
    b.wait_text("#status", "Only the site’s admins manage users");

    // Anyone changes their own password, giving the current one.
    let fresh = "a brand new passphrase 42";
    b.open(&format!("{base}#/password"));
    b.wait_text("#password-title", "Change your password");
    accessible(&b, axe, "password");
    b.type_into("#current-password", "not it");
    b.type_into("#new-password-1", fresh);
    b.type_into("#new-password-2", fresh);
    b.click("#password-form button");
    b.wait_text("#status", "current password is not right");
    b.type_into("#current-password", PASSWORD);
    b.type_into("#new-password-1", fresh);
    b.type_into("#new-password-2", fresh);
    b.click("#password-form button");
    b.wait_text("#status", "Password changed");
    assert_eq!(
        (
            api_login(&srv, "jo", PASSWORD),
            api_login(&srv, "jo", fresh)
        ),
        (401, 200)
    );
    b.open(&format!("{base}#/pages"));
    b.wait_text("#pages-title", "Pages");
}

/// The whole path a new site owner takes, in the browser: sign up on the main site, confirm
/// by the link mailed through a real SMTP server, follow the link to the new site's admin,
/// log in, write a page with a table (the preview shows it), publish, see the page served on
/// the site's own host, and see that visit in the dashboard after a rollup.
#[test]
fn a_new_owner_goes_from_sign_up_to_a_visited_page() {
    let Some(smtp) = common::Smtp::start() else {
        return;
    };
    let mut root = Root::new();
    root.env
        .push(("T8K_SIGNUPS_PER_IP_HOUR".into(), "100".into()));
    // The tracker reports from this localhost preview too.
    root.env.push(("T8K_TRACK_LOCALHOST".into(), "1".into()));
    let init = [
        "init",
        "--multi",
        "--domain",
        "example.com",
        "--require-email-verification",
    ];
    root.run(&init).ok();
    root.use_smtp(smtp.port);
    root.run(&["build"]).ok();
    let srv = root.serve(&[]);
    let Some(b) = Browser::start() else {
        return;
    };
    let main = format!("http://localhost:{}", srv.port);
    b.open(&format!("{main}/sandbox/register/"));
    b.type_into("#subdomain", "lena");
    b.wait_text("#subdomain-status", "lena is available");
    b.type_into("#name", "Lena");
    b.type_into("#email", "lena@example.org");
    b.type_into("#password", PASSWORD);
    b.click("button[type=submit]");
    b.wait_text("main", "Check your email");

    assert!(
        common::eventually(10, || !smtp.messages().is_empty()),
        "the email arrives"
    );
    let link = common::verify_link(&smtp.messages().remove(0)).expect("a link in the mail");
    b.open(&format!("{main}{link}"));
    b.click("main form button");
    b.wait_text("main", "Your site is ready");
    b.click("main a[href$='/admin/']");
    b.wait_text("#login-title", "Log in");
    log_in(&b, "admin", PASSWORD);
    b.wait_text("#dashboard-title", "Dashboard");

    b.click("#nav a[href='#/pages']");
    b.wait_text("#pages-title", "Pages");
    b.click("#new-page");
    b.wait_text("#editor-title", "New page");
    b.type_into("#title", "Menu of the day");
    b.type_into("#slug", "menu-of-the-day");
    b.type_into("#pane-0", "| Dish | Price |\n|---|---|\n| Soup | 4 |\n");
    b.wait_text("#preview table", "Soup");
    b.click("#save");
    b.wait_text("#status", "Saved");

    b.click("#nav a[href='#/']");
    b.wait_text("#dashboard-title", "Dashboard");
    b.wait_text("#publish-state", "Not published yet");
    b.click("#publish-now");
    b.wait_text("#publish-state", "A build is waiting");
    root.run(&["build", "--queued"]).ok();
    root.run(&["publish", "lena"]).ok();
    b.wait_text("#status", "Your site is live");

    let site = format!("http://lena.localhost:{}", srv.port);
    b.open(&format!("{site}/menu-of-the-day/"));
    b.wait_text("main table", "Soup");
    // The beacon is written a moment after the page loads: roll up until it is counted.
    let mut counted = 0;
    let rolled = common::eventually(10, || {
        let r = root
            .run(&["--json", "analytics", "rollup", "lena"])
            .ok()
            .json();
        counted += r["tenants"][0]["events"].as_u64().unwrap_or(0);
        counted > 0
    });
    assert!(rolled, "the visit is reported and rolled up");
    b.open(&format!("{site}/admin/#/"));
    b.wait_text("#traffic", "1 page views");
    b.click("#nav a[href='#/analytics']");
    b.wait_text("#top-pages", "/menu-of-the-day/");
    b.wait_text("#totals", "1 page views");
    // The charts, now with a visit: named, labelled, legible at phone and desktop widths.
    let summary = || b.eval("document.querySelector('#views-chart desc')?.textContent ?? ''");
    assert!(
        common::eventually(10, || summary()
            .as_str()
            .unwrap()
            .contains("latest 1 page views")),
        "{}",
        summary()
    );
    for width in [1280, 390] {
        let problems = common::chart_problems(&b, "admin-analytics", width);
        assert!(problems.is_empty(), "{width}px: {problems:#?}");
    }
}
