//! `t8k analytics rollup` killed with SIGKILL at points spread over its run, then rerun: the
//! analytics database ends byte-for-byte equal in content to an uninterrupted rollup of the same
//! events, and at every kill the counts cover exactly the objects merged so far.

mod common;

use std::collections::BTreeMap;
use std::time::Instant;

use common::Root;
use t8k_core::analytics::{Event, write_batch};

const OBJECTS: usize = 1200;
const PER_OBJECT: usize = 150;

/// A tenant `acme` with no events yet.
fn platform() -> Root {
    let root = Root::new();
    root.init_multi(5);
    root.create("acme").ok();
    root
}

/// Deterministic events (an LCG, no randomness between the two roots): pages, verbs,
/// referrers and visitors in the last 20 hours.
fn events() -> Vec<Vec<Event>> {
    let mut seed: u64 = 0x7e57;
    let mut next = |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    let now_ms = t8k_core::timefmt::now().unix_timestamp() * 1000;
    let verbs = [
        "PAGEVIEWED",
        "PAGEVIEWED",
        "PAGEVIEWED",
        "GLOSSED",
        "READ",
        "CLICKED",
    ];
    (0..OBJECTS)
        .map(|_| {
            (0..PER_OBJECT)
                .map(|_| Event {
                    ts: now_ms - next(20 * 3600 * 1000) as i64,
                    event: verbs[next(verbs.len() as u64) as usize].into(),
                    path: format!("/post-{}/", next(60)),
                    referrer: (next(3) == 0).then(|| format!("ref-{}.example/", next(8))),
                    visitor: format!("{:016x}", next(4000)),
                    pane: None,
                    target: None,
                    props: Default::default(),
                })
                .collect()
        })
        .collect()
}

/// Stores the event objects in both roots under the same keys, as `t8k serve` would.
fn store_events(a: &Root, b: &Root) {
    let sa = t8k_core::store::open(
        a.path().to_str().unwrap(),
        &t8k_core::settings::Env::default(),
        false,
    )
    .unwrap();
    let tenant = t8k_core::TenantId::trusted("acme").unwrap();
    for batch in events() {
        let key = write_batch(sa.as_ref(), &tenant, &batch).unwrap();
        let to = b.file(key.as_str());
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(a.file(key.as_str()), to).unwrap();
    }
}

/// Every table of the analytics database but the bookkeeping one, rows sorted.
fn tables(root: &Root) -> BTreeMap<&'static str, Vec<String>> {
    let conn = rusqlite::Connection::open(root.file("db/acme/analytics.db")).unwrap();
    ["hourly", "visitors", "referrers", "entries"]
        .into_iter()
        .map(|t| {
            let mut q = conn.prepare(&format!("SELECT * FROM {t}")).unwrap();
            let n = q.column_count();
            let mut rows = q
                .query_map([], |r| {
                    (0..n)
                        .map(|i| {
                            r.get::<_, rusqlite::types::Value>(i)
                                .map(|v| format!("{v:?}"))
                        })
                        .collect::<rusqlite::Result<Vec<_>>>()
                        .map(|v| v.join("|"))
                })
                .unwrap()
                .collect::<rusqlite::Result<Vec<_>>>()
                .unwrap();
            rows.sort();
            (t, rows)
        })
        .collect()
}

/// (events counted in `hourly`, raw objects left that are not recorded as merged).
fn progress(root: &Root) -> (i64, usize) {
    let db = root.file("db/acme/analytics.db");
    let (counted, merged): (i64, Vec<String>) = if db.exists() {
        let conn = rusqlite::Connection::open(&db).unwrap();
        let counted = conn
            .query_row("SELECT coalesce(sum(count), 0) FROM hourly", [], |r| {
                r.get(0)
            })
            .unwrap();
        let merged = conn
            .prepare("SELECT key FROM merged")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        (counted, merged)
    } else {
        (0, vec![])
    };
    let key = |p: &std::path::PathBuf| {
        p.strip_prefix(root.path())
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned()
    };
    let left = root
        .event_files("acme")
        .iter()
        .filter(|p| !merged.contains(&key(p)))
        .count();
    (counted, left)
}

#[test]
fn a_rollup_killed_at_any_point_and_rerun_counts_every_event_exactly_once() {
    let (killed, reference) = (platform(), platform());
    store_events(&killed, &reference);
    let total = (OBJECTS * PER_OBJECT) as i64;

    let usage = |root: &Root| root.run(&["--json", "tenant", "usage", "acme"]).ok().json();
    let before = usage(&reference);
    let started = Instant::now();
    reference.run(&["analytics", "rollup", "acme"]).ok();
    let whole = started.elapsed();
    assert_eq!(progress(&reference), (total, 0));
    // Analytics grow with visitors, not with what the tenant stores: outside STORAGE_QUOTA.
    let after = usage(&reference);
    assert_eq!(after["storage_bytes"], before["storage_bytes"], "{after}");
    assert!(
        after["storage"]["analytics_bytes"].as_u64().unwrap() > 100_000,
        "{after}"
    );

    // Kill about a third of an uninterrupted run's time in, again and again: each run gets a
    // little further, and the uneven fractions land the kills at different points of the
    // read–merge–commit–delete cycle.
    let mut mid_run_kills = 0;
    for fraction in [0.30, 0.37, 0.23, 0.41, 0.27, 0.33, 0.5, 0.7] {
        let delay = whole.mul_f64(fraction);
        let mut child = killed
            .cmd(&["analytics", "rollup", "acme"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        child.kill().unwrap(); // SIGKILL: no destructor, no rollback but SQLite's own
        let finished = child.wait().unwrap().success();
        let (counted, left) = progress(&killed);
        assert_eq!(
            counted,
            (OBJECTS - left) as i64 * PER_OBJECT as i64,
            "counts cover exactly the objects merged, none twice"
        );
        eprintln!("killed at {delay:?}: {counted} events counted, {left} objects left");
        if finished || left == 0 {
            break;
        }
        mid_run_kills += usize::from(counted > 0);
    }
    assert!(
        mid_run_kills >= 1,
        "no kill landed after a commit and before the end (whole run {whole:?})"
    );

    let last = killed
        .run(&["--json", "analytics", "rollup", "acme"])
        .ok()
        .json();
    assert_eq!(last["tenants"][0]["skipped_lines"], 0);
    assert_eq!(progress(&killed), (total, 0));
    assert_eq!(
        tables(&killed),
        tables(&reference),
        "same figures as one clean run"
    );
    killed.run(&["analytics", "rollup", "acme"]).ok();
    assert_eq!(progress(&killed).0, total, "a rerun adds nothing");
}
