//! Backups (#16) where things go wrong or live elsewhere: an `s3://` data root backed up into
//! an `s3://` repository (moto); the repository's storage cut off mid-backup; the backup
//! killed (SIGKILL) at spread-out points; backups taken while a writer commits edits.

mod common;

use common::{Moto, Proxy, Root};

/// Pages of pseudo-random words (so chunks do not repeat), `size` bytes each.
fn pages(n: usize, size: usize, seed: u64) -> Vec<(String, String)> {
    let mut x = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    (0..n)
        .map(|i| {
            let mut text = String::with_capacity(size);
            while text.len() < size {
                x = x
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                text.push_str(&format!("w{:x} ", x >> 40));
            }
            (
                format!("page-{seed}-{i}.md"),
                format!("---\ntitle: Page {i}\n---\n{text}\n"),
            )
        })
        .collect()
}

/// A backup repository in the test's folder.
fn init_repository(root: &Root) {
    let repo = root.dir.path().join("backups");
    root.run(&["backup", "init", "--to", repo.to_str().unwrap()])
        .ok();
}

fn snapshots(root: &Root) -> usize {
    root.run(&["--json", "backup", "list"])
        .ok()
        .json()
        .as_array()
        .unwrap()
        .len()
}

#[test]
fn a_bucket_root_backs_up_into_a_bucket_and_restores_from_it() {
    let Some(s3) = Moto::start() else { return };
    s3.create_bucket("backups");
    let root = Root::s3(&s3, "platform");
    root.init_multi(10);
    root.create("acme").ok();
    root.import_pages("acme", "pages", &pages(3, 20_000, 1));
    root.run(&["backup", "init", "--to", "s3://backups/t8k"])
        .ok();
    let first = root.run(&["--json", "backup", "acme"]).ok().json();
    assert!(
        first["snapshots"][0]["new_bytes"].as_u64().unwrap() > 60_000,
        "{first}"
    );
    root.run(&["backup", "verify", "--full"]).ok();
    root.run(&["restore", "acme", "--as", "acme-copy"]).ok();
    let copy = root.run(&[
        "--json",
        "content",
        "export",
        "acme-copy",
        root.dir.path().join("out").to_str().unwrap(),
    ]);
    copy.ok();
    assert!(
        root.dir.path().join("out/page-1-2.md").is_file(),
        "the pages came back"
    );
    assert!(s3.object("backups", "t8k/config.json").is_some());
}

#[test]
fn an_outage_of_the_repository_mid_backup_records_nothing_and_the_rerun_reuses_what_was_sent() {
    let Some(s3) = Moto::start() else { return };
    s3.create_bucket("backups");
    let proxy = Proxy::start(s3.port);
    let mut root = Root::new().with_s3(&s3);
    for (k, v) in root.env.iter_mut() {
        if k == "AWS_ENDPOINT_URL" {
            *v = format!("http://127.0.0.1:{}", proxy.port);
        }
    }
    root.init_multi(10);
    root.create("acme").ok();
    root.import_pages("acme", "pages", &pages(20, 40_000, 2));
    root.run(&["backup", "init", "--to", "s3://backups/cut"])
        .ok();
    proxy.fail_after(300_000);
    let out = root.run(&["backup", "acme"]);
    assert!(!proxy.is_up(), "the outage did not happen mid-backup");
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!("127.0.0.1:{}", proxy.port)),
        "names the endpoint: {}",
        out.stderr
    );
    proxy.up();
    assert_eq!(snapshots(&root), 0, "no snapshot recorded");
    let status: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.file("stats/acme/backup.json")).unwrap())
            .unwrap();
    assert_eq!(status["failures"], 1, "{status}");
    let again = root.run(&["--json", "backup", "acme"]).ok().json();
    let s = &again["snapshots"][0];
    assert!(
        s["new_bytes"].as_u64() < s["size"].as_u64(),
        "what was sent before the cut is reused: {again}"
    );
    root.run(&["backup", "verify", "--full"]).ok();
}

/// SIGKILL at spread-out points of `backup --all`: `backup list` never shows a partial
/// snapshot, `verify --full` passes after each kill, and the run after completes, reusing the
/// objects the killed runs stored.
#[test]
fn a_backup_killed_anywhere_leaves_no_partial_snapshot_and_the_next_run_reuses_its_objects() {
    let root = Root::new();
    root.init_multi(10);
    for (i, id) in ["acme", "bakery", "cafe", "deli"].into_iter().enumerate() {
        root.create(id).ok();
        root.import_pages(id, &format!("p{i}"), &pages(8, 100_000, i as u64 + 10));
    }
    let reference = root.dir.path().join("reference");
    let killed = root.dir.path().join("backups");
    root.run(&["backup", "init", "--to", reference.to_str().unwrap()])
        .ok();
    let started = std::time::Instant::now();
    let whole_run = root.run(&["--json", "backup", "--all"]).ok().json();
    let whole = started.elapsed();
    let total: u64 = whole_run["snapshots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["new_bytes"].as_u64().unwrap())
        .sum();
    root.run(&["backup", "init", "--to", killed.to_str().unwrap()])
        .ok();
    let mut landed = 0;
    for fraction in [0.15, 0.35, 0.55, 0.75, 0.9] {
        let mut child = root
            .cmd(&["backup", "--all"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(whole.mul_f64(fraction));
        child.kill().unwrap();
        let finished = child.wait().unwrap().success();
        let listed = root.run(&["--json", "backup", "list"]).ok().json();
        root.run(&["backup", "verify", "--full"]).ok();
        eprintln!(
            "killed at {fraction}: {} snapshots listed, finished: {finished}",
            listed.as_array().unwrap().len()
        );
        landed += usize::from(!finished);
        for s in listed.as_array().unwrap() {
            assert_eq!(s["files"], 2, "a listed snapshot is whole: {s}");
        }
    }
    assert!(
        landed >= 2,
        "too few kills landed mid-run (whole run {whole:?})"
    );
    let last = root.run(&["--json", "backup", "--all"]).ok().json();
    let sent: u64 = last["snapshots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["new_bytes"].as_u64().unwrap())
        .sum();
    assert!(
        sent < total,
        "the killed runs' objects are reused: {sent} of {total} bytes sent"
    );
    root.run(&["backup", "verify", "--full"]).ok();
    // The killed runs' locks name processes that are gone: prune is not held back by them.
    root.run(&["backup", "forget", "--keep-daily", "1", "--prune"])
        .ok();
}

/// A writer commits two rows a transaction while backups run: every snapshot restores to a
/// database that passes integrity_check and holds a whole number of commits.
#[test]
fn snapshots_taken_while_edits_commit_restore_to_a_committed_state() {
    let root = Root::new();
    root.init_multi(20);
    root.create("acme").ok();
    init_repository(&root);
    let db = root.file("db/acme/site.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch("CREATE TABLE load_test (n INTEGER PRIMARY KEY, pad TEXT)")
        .unwrap();
    drop(conn);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (stop, db) = (stop.clone(), db.clone());
        std::thread::spawn(move || {
            let mut conn = rusqlite::Connection::open(&db).unwrap();
            conn.busy_timeout(std::time::Duration::from_secs(10))
                .unwrap();
            let mut i = 0i64;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let tx = conn.transaction().unwrap();
                for n in [2 * i, 2 * i + 1] {
                    tx.execute(
                        "INSERT INTO load_test VALUES (?1, ?2)",
                        rusqlite::params![n, "x".repeat(500)],
                    )
                    .unwrap();
                }
                tx.commit().unwrap();
                i += 1;
            }
            i
        })
    };
    for _ in 0..4 {
        root.run(&["backup", "acme"]).ok();
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let commits = writer.join().unwrap();
    assert!(commits > 10, "the writer ran alongside ({commits} commits)");
    let listed = root.run(&["--json", "backup", "list"]).ok().json();
    let mut most = 0;
    for (i, s) in listed.as_array().unwrap().iter().enumerate() {
        let copy = format!("load-{i}");
        root.run(&[
            "restore",
            "acme",
            "--snapshot",
            s["snapshot"].as_str().unwrap(),
            "--as",
            &copy,
        ])
        .ok();
        let conn = rusqlite::Connection::open(root.file(&format!("db/{copy}/site.db"))).unwrap();
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
        let (rows, max): (i64, Option<i64>) = conn
            .query_row("SELECT count(*), max(n) FROM load_test", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!(rows % 2, 0, "a whole number of commits");
        assert_eq!(
            max.map_or(0, |m| m + 1),
            rows,
            "rows 0..{rows}, none missing"
        );
        most = most.max(rows);
    }
    assert!(most > 0, "a snapshot caught the writer's commits");
}

/// `--installation` keeps the registry, host keys and secrets too; `--into` writes any
/// snapshot's files out (checked) without touching the installation.
#[test]
fn the_installation_configuration_is_snapshotted_and_any_snapshot_can_be_written_out() {
    let root = Root::new();
    root.init_multi(10);
    root.create("acme").ok();
    init_repository(&root);
    let taken = root
        .run(&["--json", "backup", "acme", "--installation"])
        .ok()
        .json();
    assert!(
        taken["installation"]["files"].as_u64().unwrap() >= 3,
        "{taken}"
    );
    let out = root.dir.path().join("config-out");
    root.run(&["restore", "--installation", "--into", out.to_str().unwrap()])
        .ok();
    for file in [
        "config/t8k/tenants.json",
        "config/t8k/tenants/acme",
        "config/t8k/hosts/acme.example.com.json",
    ] {
        assert_eq!(
            std::fs::read(out.join(file)).unwrap(),
            std::fs::read(root.file(file)).unwrap(),
            "{file}"
        );
    }
    let acme = root.dir.path().join("acme-out");
    let before = common::snapshot(&root.path());
    root.run(&["restore", "acme", "--into", acme.to_str().unwrap()])
        .ok();
    assert!(acme.join("db/acme/site.db").is_file() && acme.join("config/acme/env.json").is_file());
    common::assert_unchanged(
        &before,
        &common::snapshot(&root.path()),
        "--into changes nothing",
    );
    root.run(&["restore", "--installation"]).fails(2, "--into");
}
