//! Backups (#16) over the real binary, on a local data root into a folder repository: a tenant
//! with pages, menus, users, media and analytics is backed up, damaged and restored to exactly
//! what it was (databases row for row, files byte for byte, the same bundle when rebuilt);
//! snapshots are incremental; damage is found and refused; encryption needs the passphrase;
//! `--due` backs up only the tenants that are due and changed; retention and prune.

mod common;

use std::collections::BTreeMap;

use common::{
    PASSWORD, Root, Server, bundle_files, gradient_png, http_with_body, login_cookie, send_json,
    snapshot, upload_media,
};

/// The tenant's own files in the data root: config, databases (by content), media.
fn tenant_state(root: &Root, id: &str) -> BTreeMap<String, Vec<u8>> {
    let prefixes = [
        format!("config/{id}/"),
        format!("db/{id}/"),
        format!("media/{id}/"),
    ];
    snapshot(&root.path())
        .into_iter()
        .filter(|(k, _)| prefixes.iter().any(|p| k.starts_with(p)))
        .collect()
}

/// Stops the server as an operator would (SIGTERM), so it writes what it buffered.
fn stop(mut srv: Server) {
    unsafe { libc::kill(srv.child.id() as i32, libc::SIGTERM) };
    assert!(srv.child.wait().unwrap().success());
}

/// A multi-tenant root with `acme` holding one imported page.
fn acme_with_page(root: &Root, file: &str, title: &str, body: &str) {
    root.init_multi(10);
    root.create("acme").ok();
    let page = format!("---\ntitle: {title}\n---\n{body}\n");
    root.import_pages("acme", "pages", &[(file.to_owned(), page)]);
}

/// acme with something in every part: pages, a menu, a named user, an image, a visit rolled
/// up into analytics. Returns the image's media id.
fn full_tenant(root: &Root) -> String {
    acme_with_page(root, "about.md", "About us", "Who we are, in full.");
    let jo = root.password_file();
    root.run(&[
        "user",
        "add",
        "acme",
        "jo",
        "--password-file",
        jo.to_str().unwrap(),
    ])
    .ok();
    let srv = root.serve(&[]);
    let cookie = login_cookie(srv.port, "acme.localhost", "admin", PASSWORD);
    let mine = [
        ("Cookie", cookie.as_str()),
        ("Origin", "http://acme.localhost"),
    ];
    let menu = serde_json::json!({"items": [{"label": "About", "page": "about"}]});
    let r = send_json(
        srv.port,
        "PUT",
        "acme.localhost",
        "/api/menus/main",
        &mine,
        &menu.to_string(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = upload_media(srv.port, "acme.localhost", &cookie, &gradient_png(30, 20));
    assert_eq!(r.status, 201, "{}", r.text());
    let media_id = r.json()["media"]["id"].to_string();
    let beacon =
        serde_json::json!({"event": "PAGEVIEWED", "url": "https://acme.example.com/about/"});
    let headers = [
        ("Content-Type", "text/plain"),
        ("User-Agent", "Mozilla/5.0 Firefox/133.0"),
    ];
    let r = http_with_body(
        srv.port,
        "POST",
        "acme.localhost",
        "/api/beacon",
        &headers,
        beacon.to_string().as_bytes(),
    );
    assert_eq!(r.status, 202, "{}", r.text());
    stop(srv);
    root.run(&["analytics", "rollup", "acme"]).ok();
    media_id
}

/// Moves the tenant's last backup back to January, as if days had passed.
fn backed_up_long_ago(root: &Root, id: &str) {
    let status = root.file(&format!("stats/{id}/backup.json"));
    let mut s: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&status).unwrap()).unwrap();
    s["time"] = "2026-01-01T00:00:00Z".into();
    std::fs::write(&status, serde_json::to_vec(&s).unwrap()).unwrap();
}

/// Imports one small page named `name` (a content change).
fn add_page(root: &Root, id: &str, name: &str) {
    let page = (
        format!("{name}.md"),
        format!("---\ntitle: {name}\n---\nFresh.\n"),
    );
    root.import_pages(id, name, &[page]);
}

/// An installation with one tenant, acme, and a backup repository.
fn acme_with_repository() -> Root {
    let root = Root::new();
    root.init_multi(10);
    root.create("acme").ok();
    root.run(&["backup", "init", "--to", &repo(&root)]).ok();
    root
}

fn repo(root: &Root) -> String {
    root.dir.path().join("backups").to_str().unwrap().to_owned()
}

#[test]
fn a_tenant_restored_from_its_snapshot_is_the_tenant_that_was_backed_up() {
    let root = Root::new();
    let media_id = full_tenant(&root);
    root.run(&["build", "acme"]).ok();
    let bundle = bundle_files(&root.file("build/acme"));
    let before = tenant_state(&root, "acme");
    assert!(
        before.keys().any(|k| k.starts_with("media/acme/"))
            && before.contains_key("db/acme/analytics.db"),
        "{:?}",
        before.keys()
    );

    root.run(&["backup", "init", "--to", &repo(&root)]).ok();
    let first = root.run(&["--json", "backup", "acme"]).ok().json();
    let taken = &first["snapshots"][0];
    assert!(taken["new_bytes"].as_u64().unwrap() > 0, "{first}");
    // Nothing changed: the second snapshot stores nothing new.
    let second = root.run(&["--json", "backup", "acme"]).ok().json();
    assert_eq!(second["snapshots"][0]["new_bytes"], 0, "{second}");

    // Damage: a page deleted, a password changed, the image removed.
    let srv = root.serve(&[]);
    let cookie = login_cookie(srv.port, "acme.localhost", "admin", PASSWORD);
    let mine = [
        ("Cookie", cookie.as_str()),
        ("Origin", "http://acme.localhost"),
    ];
    for path in [
        "/api/pages/about".to_owned(),
        format!("/api/media/{media_id}"),
    ] {
        let r = send_json(srv.port, "DELETE", "acme.localhost", &path, &mine, "");
        assert_eq!(r.status, 204, "{path}: {}", r.text());
    }
    drop(srv);
    let other = root.dir.path().join("other-password");
    std::fs::write(&other, "a different passphrase\n").unwrap();
    root.run(&[
        "user",
        "passwd",
        "acme",
        "jo",
        "--password-file",
        other.to_str().unwrap(),
    ])
    .ok();
    assert_ne!(tenant_state(&root, "acme"), before);

    let restored = root.run(&["--json", "restore", "acme"]).ok().json();
    assert_eq!(
        restored["snapshot"], second["snapshots"][0]["snapshot"],
        "the newest"
    );
    let previous = restored["previous_in_trash"].as_str().unwrap();
    assert!(
        root.file(previous).join("tenant.json").is_file(),
        "the damaged state is in the trash"
    );
    assert_eq!(
        tenant_state(&root, "acme"),
        before,
        "every row, file and byte"
    );
    let db = rusqlite::Connection::open(root.file("db/acme/site.db")).unwrap();
    let check: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let jo = root.password_file();
    root.run(&[
        "user",
        "verify",
        "acme",
        "jo",
        "--password-file",
        jo.to_str().unwrap(),
    ])
    .ok();
    root.run(&["build", "acme"]).ok();
    assert_eq!(
        bundle_files(&root.file("build/acme")),
        bundle,
        "the same site, byte for byte"
    );

    // The same snapshot as a new tenant: its own id, address and media keys.
    root.run(&["restore", "acme", "--as", "acme-copy"]).ok();
    let env: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.file("config/acme-copy/env.json")).unwrap())
            .unwrap();
    assert_eq!(
        (env["TENANT_ID"].as_str(), env["SITE_URL"].as_str()),
        (Some("acme-copy"), Some("https://acme-copy.example.com"))
    );
    root.run(&["build", "acme-copy"]).ok();
    let copy = bundle_files(&root.file("build/acme-copy"));
    assert!(
        copy.keys().any(|k| k.starts_with("media/")),
        "its image is served: {:?}",
        copy.keys()
    );
    root.run(&["restore", "acme", "--as", "acme-copy"])
        .fails(1, "already taken");
}

/// Flips one byte of one object: `verify --full` names it, and a restore that needs it refuses
/// before changing anything.
#[test]
fn a_damaged_object_is_named_and_never_restored() {
    let root = acme_with_repository();
    root.run(&["backup", "acme"]).ok();
    root.run(&["backup", "verify", "--full"]).ok();
    let objects = root.dir.path().join("backups/objects");
    let victim = walk(&objects)
        .into_iter()
        .max_by_key(|p| std::fs::metadata(p).unwrap().len())
        .unwrap();
    let mut bytes = std::fs::read(&victim).unwrap();
    bytes[100] ^= 0x20;
    std::fs::write(&victim, bytes).unwrap();
    let name = victim.file_name().unwrap().to_str().unwrap().to_owned();
    root.run(&["backup", "verify"]).ok(); // present: the quick check passes
    root.run(&["backup", "verify", "--full"]).fails(1, &name);
    let before = tenant_state(&root, "acme");
    root.run(&["restore", "acme"]).fails(1, &name);
    // No snapshot that early, or by that name: refused, nothing changed.
    root.run(&["restore", "acme", "--at", "2020-01-01T00:00:00Z"])
        .fails(1, "no snapshot of 'acme' at or before 2020-01-01");
    root.run(&["restore", "acme", "--snapshot", "20200101T000000Z-00000000"])
        .fails(1, "no snapshot");
    assert_eq!(tenant_state(&root, "acme"), before, "nothing changed");
    assert!(
        root.run(&["--json", "tenant", "trash"])
            .ok()
            .json()
            .as_array()
            .unwrap()
            .is_empty()
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p))
        } else {
            out.push(p)
        }
    }
    out
}

#[test]
fn an_encrypted_repository_needs_its_passphrase_and_holds_no_plain_content() {
    let mut root = Root::new();
    acme_with_page(
        &root,
        "secret.md",
        "Secret",
        "The sourdough starter is fed at dawn.",
    );
    let pass = root.dir.path().join("passphrase");
    std::fs::write(&pass, "a long backup passphrase\n").unwrap();
    let pass = pass.to_str().unwrap();
    root.run(&["backup", "init", "--to", &repo(&root), "--encrypt"])
        .fails(2, "passphrase");
    root.run(&[
        "backup",
        "init",
        "--to",
        &repo(&root),
        "--encrypt",
        "--passphrase-file",
        pass,
    ])
    .ok();
    root.run(&["backup", "acme", "--passphrase-file", pass])
        .ok();
    for f in walk(&root.dir.path().join("backups")) {
        let bytes = std::fs::read(&f).unwrap();
        assert!(
            !bytes.windows(9).any(|w| w == b"sourdough"),
            "{} holds plain content",
            f.display()
        );
    }
    root.run(&["backup", "list"])
        .fails(1, "T8K_BACKUP_PASSPHRASE");
    let wrong = root.dir.path().join("wrong");
    std::fs::write(&wrong, "not it\n").unwrap();
    root.run(&[
        "backup",
        "list",
        "--passphrase-file",
        wrong.to_str().unwrap(),
    ])
    .fails(1, "wrong passphrase");
    root.env.push((
        "T8K_BACKUP_PASSPHRASE".into(),
        "a long backup passphrase".into(),
    ));
    root.run(&["restore", "acme", "--as", "acme-back"]).ok();
    assert!(
        std::fs::read_to_string(root.file("config/acme-back/env.json"))
            .unwrap()
            .contains("acme-back")
    );
}

/// `--due`: a tenant is backed up when its schedule says so and its files changed since its
/// last snapshot; an unchanged one costs no snapshot; `off` is never backed up.
#[test]
fn backup_due_takes_only_the_tenants_that_are_due_and_changed() {
    let root = Root::new();
    root.init_multi(10);
    for id in ["acme", "bakery", "broken", "quiet"] {
        root.create(id).ok();
    }
    // A tenant whose env.json no longer parses is backed up all the same (its bytes as they
    // are), and does not stop the others.
    let env_json = std::fs::read(root.file("config/broken/env.json")).unwrap();
    std::fs::write(root.file("config/broken/env.json"), "{ not json").unwrap();
    let env = root.file("config/quiet/env.json");
    let mut cfg: serde_json::Value = serde_json::from_slice(&std::fs::read(&env).unwrap()).unwrap();
    cfg["BACKUP_SCHEDULE"] = "off".into();
    std::fs::write(&env, serde_json::to_vec_pretty(&cfg).unwrap()).unwrap();
    root.run(&["backup", "init", "--to", &repo(&root)]).ok();
    let tenants = |r: &serde_json::Value| -> Vec<String> {
        r["snapshots"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["tenant"].as_str().unwrap().to_owned())
            .collect()
    };
    let first = root.run(&["--json", "backup", "--due"]).ok().json();
    assert_eq!(tenants(&first), ["acme", "bakery", "broken"], "{first}");
    let report = root.run(&["--json", "report"]).ok().json();
    assert!(
        common::report_row(&report, "broken")["problems"]
            .to_string()
            .contains("unreadable"),
        "{report}"
    );
    // Its owner mends it.
    std::fs::write(root.file("config/broken/env.json"), &env_json).unwrap();
    let again = root.run(&["--json", "backup", "--due"]).ok().json();
    assert!(
        tenants(&again).is_empty(),
        "backed up an hour ago at most: {again}"
    );
    // A day later: acme changed, bakery did not.
    for id in ["acme", "bakery"] {
        backed_up_long_ago(&root, id);
    }
    add_page(&root, "acme", "news");
    let later = root.run(&["--json", "backup", "--due"]).ok().json();
    assert_eq!(tenants(&later), ["acme"], "{later}");
}

#[test]
fn forget_keeps_what_the_policy_says_and_prune_frees_the_rest_but_never_during_a_backup() {
    let root = acme_with_repository();
    for i in 0..3 {
        root.import_pages(
            "acme",
            &format!("p{i}"),
            &[(
                format!("page-{i}.md"),
                format!(
                    "---\ntitle: Page {i}\n---\n{}\n",
                    "text ".repeat(4000 * (i + 1))
                ),
            )],
        );
        root.run(&["backup", "acme"]).ok();
    }
    let listed = root.run(&["--json", "backup", "list"]).ok().json();
    assert_eq!(listed.as_array().unwrap().len(), 3);
    // A backup in progress (its lock is fresh): prune refuses, nothing is forgotten.
    let lock = root.dir.path().join("backups/locks/backup-test.json");
    let held = serde_json::json!({"kind": "backup", "since": now_rfc3339(), "pid": 1});
    std::fs::write(&lock, held.to_string()).unwrap();
    root.run(&["backup", "forget", "--keep-daily", "1", "--prune"])
        .fails(1, "a backup of this repository is running");
    assert_eq!(
        root.run(&["--json", "backup", "list"])
            .ok()
            .json()
            .as_array()
            .unwrap()
            .len(),
        3
    );
    // A lock left by a process that died hours ago does not hold prune back.
    let stale = serde_json::json!({"kind": "backup", "since": "2020-01-01T00:00:00Z", "pid": 1});
    std::fs::write(&lock, stale.to_string()).unwrap();
    let f = root
        .run(&["--json", "backup", "forget", "--keep-daily", "1", "--prune"])
        .ok()
        .json();
    assert_eq!(
        (
            f["kept"].as_array().unwrap().len(),
            f["forgotten"].as_array().unwrap().len()
        ),
        (1, 2),
        "{f}"
    );
    assert!(f["pruned_bytes"].as_u64().unwrap() > 0, "{f}");
    assert_eq!(
        f["kept"][0]["id"], listed[2]["snapshot"],
        "the newest of the day"
    );
    root.run(&["backup", "verify", "--full"]).ok();
    root.run(&["restore", "acme", "--as", "acme-kept"]).ok();
    root.run(&["backup", "forget"])
        .fails(1, "at least one --keep");
}

fn now_rfc3339() -> String {
    let out = std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// The operator sees each tenant's last backup and its health in `t8k report`; a tenant's
/// admins list their snapshots and ask for a restore point, which the next `--due` takes.
#[test]
fn backups_show_in_the_report_and_a_tenant_admin_asks_for_a_restore_point() {
    let root = Root::new();
    root.init_multi(10);
    root.create("acme").ok();
    let problems = |root: &Root| {
        common::report_row(&root.run(&["--json", "report"]).ok().json(), "acme")["problems"]
            .to_string()
    };
    assert!(
        !problems(&root).contains("backup"),
        "no repository, no backup health"
    );
    root.run(&["backup", "init", "--to", &repo(&root)]).ok();
    assert!(
        problems(&root).contains("never backed up"),
        "{}",
        problems(&root)
    );
    let taken = root.run(&["--json", "backup", "acme"]).ok().json();
    let id = taken["snapshots"][0]["snapshot"]
        .as_str()
        .unwrap()
        .to_owned();
    let report = root.run(&["--json", "report"]).ok().json();
    let row = common::report_row(&report, "acme");
    assert_eq!(row["backup"]["snapshot"], id.as_str());
    assert!(!row["problems"].to_string().contains("backup"), "{row}");
    // Three days later, changed since: the report says so.
    backed_up_long_ago(&root, "acme");
    add_page(&root, "acme", "news");
    assert!(
        problems(&root).contains("no backup in 48 h"),
        "{}",
        problems(&root)
    );
    root.run(&["backup", "acme"]).ok();

    let srv = root.serve(&[]);
    let cookie = login_cookie(srv.port, "acme.localhost", "admin", PASSWORD);
    let mine = [
        ("Cookie", cookie.as_str()),
        ("Origin", "http://acme.localhost"),
    ];
    let listed = common::http(srv.port, "GET", "acme.localhost", "/api/backups", &mine).json();
    let snapshots = listed["snapshots"].as_array().unwrap();
    assert_eq!(snapshots.len(), 2, "{listed}");
    assert_eq!(snapshots[0]["snapshot"], id.as_str());
    assert!(snapshots[0]["time"].as_str().unwrap().ends_with('Z'));
    // Nothing changed since the last snapshot: a restore point asked for is that snapshot.
    let asked = send_json(
        srv.port,
        "POST",
        "acme.localhost",
        "/api/backups",
        &mine,
        "",
    );
    assert_eq!(asked.status, 202, "{}", asked.text());
    let due = root.run(&["--json", "backup", "--due"]).ok().json();
    assert!(due["snapshots"].as_array().unwrap().is_empty(), "{due}");
    // Changed, and asked for within the hour: taken although the schedule is daily.
    add_page(&root, "acme", "more");
    let asked = send_json(
        srv.port,
        "POST",
        "acme.localhost",
        "/api/backups",
        &mine,
        "",
    );
    assert_eq!(asked.status, 202, "{}", asked.text());
    let status = std::fs::read_to_string(root.file("stats/acme/backup.json")).unwrap();
    let due = root.run(&["--json", "backup", "--due"]).ok().json();
    assert_eq!(due["snapshots"][0]["tenant"], "acme", "{due} {status}");
}
