//! Limits that must hold when requests race, on one served platform: image decoding stays
//! inside the process's memory budget (measured on the server's peak RSS), and MAX_PAGES,
//! MAX_USERS and STORAGE_QUOTA hold under 20 concurrent writes each.

mod common;

use common::{
    PASSWORD, Root, flat_png, login_cookie, noisy_png, race, send_json, tally, upload_media,
};

const BUDGET_MIB: u64 = 64;

fn usage(root: &Root, id: &str) -> serde_json::Value {
    root.run(&["--json", "tenant", "usage", id]).ok().json()
}

/// A field of `/proc/{pid}/status`, in KiB.
fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[test]
fn limits_hold_under_concurrent_writes() {
    let mut root = Root::new();
    root.env
        .push(("T8K_DECODE_BUDGET".into(), format!("{BUDGET_MIB}MiB")));
    root.env.push(("T8K_DECODE_WAIT_MS".into(), "60000".into()));
    root.init_multi(10);
    root.create("acme").ok();
    root.create("other").ok();
    let srv = root.serve(&[]);
    let other = login_cookie(srv.port, "other.localhost", "admin", PASSWORD);
    decoding_stays_inside_the_memory_budget(srv.port, srv.child.id(), &other);
    page_and_user_limits_hold(&root, srv.port, &other);
    let acme = login_cookie(srv.port, "acme.localhost", "admin", PASSWORD);
    the_storage_quota_holds(&root, srv.port, &acme);
}

/// Eight concurrent 4000 × 4000 images (48 MB each decoded, a few KB sent). Without a shared
/// budget they decode side by side (~384 MB); with 64 MiB, one at a time.
fn decoding_stays_inside_the_memory_budget(port: u16, pid: u32, session: &str) {
    let images: Vec<Vec<u8>> = (0..8).map(|i| flat_png(4000, 4000, i as u8 * 20)).collect();
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").unwrap(); // reset the peak
    let base = status_kib(pid, "VmRSS:");
    let statuses = race(images.len(), |i| {
        upload_media(port, "other.localhost", session, &images[i]).status
    });
    assert!(statuses.iter().all(|&s| s == 201), "{statuses:?}");
    let peak = status_kib(pid, "VmHWM:");
    let grown_mib = peak.saturating_sub(base) / 1024;
    println!(
        "decode burst: RSS {} MiB → peak {} MiB (+{grown_mib} MiB)",
        base / 1024,
        peak / 1024
    );
    assert!(
        grown_mib < BUDGET_MIB + 40,
        "RSS grew by {grown_mib} MiB with a {BUDGET_MIB} MiB decode budget"
    );
}

/// Room for three more pages and three more users, 20 racing creates of each.
fn page_and_user_limits_hold(root: &Root, port: u16, session: &str) {
    let now = usage(root, "other");
    let (pages, users) = (
        now["pages"].as_u64().unwrap(),
        now["users"].as_u64().unwrap(),
    );
    root.run(&[
        "tenant",
        "set-quota",
        "other",
        "--pages",
        &(pages + 3).to_string(),
        "--users",
        &(users + 3).to_string(),
    ])
    .ok();
    let create = |path: &str, body: String| {
        send_json(
            port,
            "POST",
            "other.localhost",
            path,
            &[("Cookie", session)],
            &body,
        )
        .status
    };
    let created = race(20, |i| {
        let page = serde_json::json!({"slug": format!("race-{i}"), "title": "Racing", "panes": [{"markdown": "x", "options": {}}]});
        create("/api/pages", page.to_string())
    });
    assert_eq!(tally(&created, 201), 3, "{created:?}");
    let added = race(20, |i| {
        let user = serde_json::json!({"username": format!("racer{i}"), "role": "editor", "email": format!("r{i}@example.org"), "password": PASSWORD});
        create("/api/users", user.to_string())
    });
    assert_eq!(tally(&added, 201), 3, "{added:?}");
    let now = usage(root, "other");
    assert_eq!(
        (now["pages"].as_u64(), now["users"].as_u64()),
        (Some(pages + 3), Some(users + 3))
    );
}

/// Little storage left, 20 concurrent uploads of distinct images: never above the quota.
fn the_storage_quota_holds(root: &Root, port: u16, session: &str) {
    let images: Vec<Vec<u8>> = (0..20).map(|i| noisy_png(120, 120, i)).collect();
    let size = images[0].len() as u64;
    let used = usage(root, "acme")["storage_bytes"].as_u64().unwrap();
    let quota = used + 4 * size + size / 2;
    root.run(&[
        "tenant",
        "set-quota",
        "acme",
        "--storage",
        &format!("{quota}B"),
    ])
    .ok();
    let statuses = race(images.len(), |i| {
        upload_media(port, "acme.localhost", session, &images[i]).status
    });
    let stored = tally(&statuses, 201);
    assert!(
        statuses.iter().all(|&s| s == 201 || s == 413),
        "{statuses:?}"
    );
    assert!((1..=4).contains(&stored), "{stored} stored: {statuses:?}");
    // What STORAGE_QUOTA counts: the database's pages (its WAL file is scratch space that
    // holds the same pages) and the media objects.
    let media = usage(root, "acme")["storage"]["media_bytes"]
        .as_u64()
        .unwrap();
    let db = rusqlite::Connection::open(root.file("db/acme/site.db")).unwrap();
    let db_bytes: u64 = db
        .query_row(
            "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let rows: u64 = db
        .query_row("SELECT count(*) FROM media_files", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        rows, stored as u64,
        "every accepted upload is listed, no other"
    );
    assert!(
        db_bytes + media <= quota,
        "{db_bytes} + {media} bytes stored, above the quota of {quota}"
    );
}
