//! Nothing of a deleted tenant survives into a new tenant of the same name, and a restore
//! brings all of it back: pages, deploys, analytics, bandwidth, build history, queued builds,
//! routes — in the data root and in a separate bundle store. A walk of the data root fails on
//! any key family `layout::owner_of` does not classify, so a new per-tenant feature cannot be
//! forgotten by delete.

mod common;

use std::path::Path;

use common::{PASSWORD, Root, Server, eventually, get, http_with_body, login_cookie, send_json};
use t8k_core::key::layout::{Owner, owner_of};

/// Every key of a local data root, with who owns it. Panics on a key family no code declares
/// in `layout::owner_of`: a feature that stores something new per tenant must classify it,
/// or delete would leave it behind for the next tenant of that name.
fn owners(root: &Path) -> Vec<(String, Owner)> {
    let mut out = vec![];
    for e in walkdir::WalkDir::new(root).min_depth(1) {
        let e = e.unwrap();
        if !e.file_type().is_file() {
            continue;
        }
        let rel = e.path().strip_prefix(root).unwrap().to_str().unwrap();
        // Temp, lock and staging files are not keys (dot-led segments).
        let Ok(key) = t8k_core::Key::new(rel) else {
            continue;
        };
        let owner = owner_of(&key).unwrap_or_else(|| {
            panic!("{rel}: a key family that layout::owner_of does not classify")
        });
        out.push((rel.to_owned(), owner));
    }
    out
}

/// The keys of tenant `id` outside the trash.
fn of_tenant(root: &Root, id: &str) -> Vec<String> {
    owners(&root.path())
        .into_iter()
        .filter(|(k, o)| *o == Owner::Tenant(id.into()) && !k.starts_with("trash/"))
        .map(|(k, _)| k)
        .collect()
}

/// `routes.json` of a bundle store folder.
fn routes(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("routes.json")).unwrap()).unwrap()
}

fn acme_route(dir: &Path) -> serde_json::Value {
    routes(dir)["routes"]["acme.example.com"].clone()
}

/// Uses every feature that stores something under acme's id: content, a build and a
/// publish, a visit counted by the server, a beacon, a content edit that queues a build.
/// Returns the owner's session cookie once every background write has landed.
fn use_everything(root: &Root, srv: &Server) -> String {
    let page = get(srv.port, "acme.localhost", "/secret-recipe/");
    assert!(page.status == 200 && page.text().contains("sourdough"));
    let beacon = serde_json::json!({"event": "PAGEVIEWED", "url": "https://acme.example.com/secret-recipe/"});
    let r = http_with_body(
        srv.port,
        "POST",
        "acme.localhost",
        "/api/beacon",
        &[
            ("Content-Type", "text/plain"),
            ("User-Agent", "Mozilla/5.0 Firefox/133.0"),
        ],
        beacon.to_string().as_bytes(),
    );
    assert_eq!(r.status, 202, "{}", r.text());
    let c = login_cookie(srv.port, "acme.localhost", "admin", PASSWORD);
    let edit = serde_json::json!({"slug": "secret-recipe", "title": "Secret recipe", "panes": [{"markdown": "Edited.", "options": {}}]});
    let r = send_json(
        srv.port,
        "PUT",
        "acme.localhost",
        "/api/pages/secret-recipe",
        &[("Cookie", &c)],
        &edit.to_string(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    // Written in the background (events batched each second, bandwidth flushed each
    // second): wait for the objects themselves, not their temp files.
    let has = |prefix: &str| {
        of_tenant(root, "acme")
            .iter()
            .any(|k| k.starts_with(prefix))
    };
    assert!(eventually(10, || has("events/acme/") && has("stats/acme/bandwidth/")));
    c
}

/// The new owner's figures, read before the new site has any traffic of its own.
fn assert_figures_start_at_zero(root: &Root) {
    root.run(&["analytics", "rollup"]).ok();
    let report = root.run(&["--json", "report"]).ok().json();
    let row = common::report_row(&report, "acme");
    assert_eq!(row["pageviews_30d"], 0, "{row}");
    assert_eq!(row["failures_30d"], 0, "{row}");
    assert!(
        row["built"].is_null() && row["published"].is_null(),
        "{row}"
    );
    assert!(
        row["bandwidth_month"].is_null() || row["bandwidth_month"] == 0,
        "{row}"
    );
    assert_eq!(row["build_queued"], false, "{row}");
    let deploys = root.run(&["--json", "deploys", "acme"]).ok().json();
    assert_eq!(deploys.as_array().map_or(0, Vec::len), 0, "{deploys}");
}

#[test]
fn a_recreated_tenant_inherits_nothing_and_restore_brings_everything_back() {
    let root = Root::new();
    root.init_multi(10);
    root.create("acme").ok();
    root.import_pages(
        "acme",
        "content",
        &[(
            "secret-recipe.md".into(),
            "+++\ntitle = \"Secret recipe\"\n+++\nThe old owner's sourdough.\n".into(),
        )],
    );
    root.run(&["build"]).ok();
    root.run(&["publish"]).ok();
    let srv = root.serve(&[]);
    let old_session = use_everything(&root, &srv);
    let before = of_tenant(&root, "acme");
    for family in [
        "build/acme/",
        "build/acme.build.json",
        "build/acme.history.jsonl",
        "sites/acme/",
        "events/acme/",
        "stats/acme/",
        "queue/builds/acme",
        "db/acme/",
    ] {
        assert!(
            before.iter().any(|k| k.starts_with(family)),
            "{family} in {before:?}"
        );
    }
    assert!(acme_route(&root.path()).is_object());

    let deleted = root
        .run(&["--json", "tenant", "delete", "acme", "--yes"])
        .ok()
        .json();
    let trash = deleted["trash"].as_str().unwrap().to_owned();
    assert_eq!(of_tenant(&root, "acme"), Vec::<String>::new());
    assert!(acme_route(&root.path()).is_null());

    // Another owner takes the name. The server that was running all along serves nothing
    // of the old site, and every figure of the new one starts at zero.
    root.run(&[
        "tenant",
        "create",
        "acme",
        "--name",
        "New Owner",
        "--email",
        "new@example.org",
        "--admin-password-file",
        root.password_file().to_str().unwrap(),
    ])
    .ok();
    assert_figures_start_at_zero(&root);
    assert!(eventually(10, || get(srv.port, "acme.localhost", "/")
        .text()
        .contains("Site not built yet")));
    let old = get(srv.port, "acme.localhost", "/secret-recipe/");
    assert!(!old.text().contains("sourdough"), "{}", old.text());
    let me = common::http(
        srv.port,
        "GET",
        "acme.localhost",
        "/api/auth/me",
        &[("Cookie", &old_session)],
    );
    assert_eq!(me.status, 401, "the old owner's session: {}", me.text());
    root.run(&["build", "acme"]).ok();
    let home = get(srv.port, "acme.localhost", "/");
    assert!(home.status == 200 && home.text().contains("New Owner"));
    assert_eq!(
        get(srv.port, "acme.localhost", "/secret-recipe/").status,
        404
    );

    // The old owner's tenant comes back whole: pages, deploys, events, usage, queue.
    root.run(&["tenant", "delete", "acme", "--yes"]).ok();
    root.run(&["tenant", "restore", "acme", "--from", &trash])
        .ok();
    let restored = of_tenant(&root, "acme");
    for k in &before {
        // SQLite may fold its WAL on close; everything else comes back key for key.
        if !k.ends_with("-wal") {
            assert!(restored.contains(k), "{k} not restored: {restored:?}");
        }
    }
    assert!(acme_route(&root.path()).is_object());
    assert!(eventually(10, || get(
        srv.port,
        "acme.localhost",
        "/secret-recipe/"
    )
    .text()
    .contains("sourdough")));
}

#[test]
fn deploys_in_a_separate_bundle_store_go_and_come_back_with_the_tenant() {
    let root = Root::new();
    root.init_multi(10);
    root.create("acme").ok();
    root.create("other").ok();
    let bundles = root.dir.path().join("bundles");
    let to = bundles.to_str().unwrap();
    root.run(&["build"]).ok();
    root.run(&["publish", "--to", to]).ok();
    assert!(acme_route(&bundles).is_object());

    let deleted = root
        .run(&["--json", "tenant", "delete", "acme", "--yes", "--to", to])
        .ok()
        .json();
    let trash = deleted["trash"].as_str().unwrap();
    assert!(!bundles.join("sites/acme").exists());
    assert!(bundles.join(trash).join("sites/live.json").exists());
    assert!(acme_route(&bundles).is_null());

    // A new owner of the name, then another tenant's publish: the edge map must not route
    // the name to the old owner's deploy.
    root.create("acme").ok();
    root.run(&["build", "other"]).ok();
    root.run(&["publish", "other", "--to", to]).ok();
    assert!(acme_route(&bundles).is_null());

    root.run(&["tenant", "delete", "acme", "--yes"]).ok();
    root.run(&["tenant", "restore", "acme", "--from", trash, "--to", to])
        .ok();
    assert!(bundles.join("sites/acme/live.json").exists());
    assert!(acme_route(&bundles).is_object());
}
