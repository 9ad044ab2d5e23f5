//! Correctness under concurrency and crashes, with real processes and real files: racing
//! creates of one id, racing creates against `max_tenants`, and creates killed with SIGKILL.

mod common;

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::Root;

fn spawn_create(root: &Root, id: &str) -> Child {
    let args = root.create_args(id);
    root.cmd(&args.iter().map(String::as_str).collect::<Vec<_>>())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn finish(children: Vec<Child>) -> Vec<(bool, String)> {
    children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            (
                out.status.success(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        })
        .collect()
}

#[test]
fn twenty_racing_creates_of_one_id_have_exactly_one_winner() {
    let root = Root::new();
    root.init_multi(100);
    let results = finish((0..20).map(|_| spawn_create(&root, "same-id")).collect());
    let winners = results.iter().filter(|(ok, _)| *ok).count();
    assert_eq!(winners, 1, "{results:#?}");
    for (_, err) in results.iter().filter(|(ok, _)| !ok) {
        assert!(err.contains("already taken"), "loser said: {err}");
    }
    assert_eq!(root.registry()["tenants"].as_array().unwrap().len(), 1);
    assert_eq!(root.entries().len(), 1, "the losers left no entry");
    assert_eq!(root.listed_ids(), ["same-id"]);
    root.run(&["tenant", "show", "same-id"]).ok();
}

#[test]
fn max_tenants_is_never_exceeded_by_racing_creates() {
    let root = Root::new();
    root.init_multi(10);
    let results = finish(
        (0..30)
            .map(|i| spawn_create(&root, &format!("tenant-{i:02}")))
            .collect(),
    );
    let winners = results.iter().filter(|(ok, _)| *ok).count();
    assert_eq!(winners, 10, "{results:#?}");
    for (_, err) in results.iter().filter(|(ok, _)| !ok) {
        assert!(err.contains("max_tenants is 10"), "loser said: {err}");
    }
    let listed = root.listed_ids();
    assert_eq!(listed.len(), 10);
    for id in listed {
        root.run(&["tenant", "show", &id]).ok();
    }
}

fn jitter_ms(max: u64) -> u64 {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).unwrap();
    u64::from_le_bytes(b) % max.max(1)
}

#[test]
fn creates_killed_at_random_moments_leave_no_half_tenant() {
    let root = Root::new();
    root.init_multi(1000);
    // How long one create takes here (the fastest of a few, as other tests may load the
    // machine), to spread the kills over its whole run.
    let span = (0..4)
        .map(|i| {
            let t0 = Instant::now();
            root.create(&format!("warmup-{i}")).ok();
            t0.elapsed().as_millis() as u64
        })
        .min()
        .unwrap()
        .max(5);

    // At least 36 kills swept across the run; then, until 3 kills have landed inside the
    // claimed window (the crash-recovery path), more kills aimed at delays that hit it.
    const SWEEP: u64 = 36;
    const MAX_TRIALS: u64 = 100;
    let mut killed_before_done = 0;
    let mut killed_while_claimed = 0;
    let mut claimed_delays: Vec<u64> = vec![];
    let mut trial = 0;
    while trial < SWEEP || (killed_while_claimed < 3 && trial < MAX_TRIALS) {
        let id = format!("kill-{trial:02}");
        let delay = match (trial < SWEEP, claimed_delays.as_slice()) {
            (false, hits) if !hits.is_empty() => {
                hits[jitter_ms(hits.len() as u64) as usize] + jitter_ms(3)
            }
            _ => span * (trial % SWEEP) / SWEEP + jitter_ms(span / 4 + 1),
        };
        trial += 1;
        let mut child = spawn_create(&root, &id);
        std::thread::sleep(Duration::from_millis(delay));
        child.kill().unwrap(); // SIGKILL
        if !child.wait().unwrap().success() {
            killed_before_done += 1;
        }

        // The registry still parses, and every listed tenant is complete.
        let reg = root.registry();
        assert!(reg["tenants"].is_array());
        if root.entry(&id).is_some_and(|e| e["status"] == "creating") {
            killed_while_claimed += 1;
            claimed_delays.push(delay);
        }
        let listed = root.listed_ids();
        for t in &listed {
            root.run(&["tenant", "show", t]).ok();
        }
        if listed.contains(&id) {
            assert!(root.file(&format!("config/{id}/env.json")).is_file());
            continue;
        }
        // Not listed: the id must be free to create again, and the result complete.
        root.create(&id).ok();
        root.run(&["tenant", "show", &id]).ok();
        assert_eq!(
            reg["tenants"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|t| t["id"] == id.as_str() && t["status"] == "active")
                .count(),
            0
        );
    }
    eprintln!(
        "{killed_before_done} of {trial} creates killed mid-run, {killed_while_claimed} of them after claiming the name"
    );
    assert!(
        killed_before_done >= 10,
        "only {killed_before_done} of {trial} kills landed mid-create; the test did not exercise crashes"
    );
    assert!(
        killed_while_claimed >= 3,
        "only {killed_while_claimed} kills left a claim behind; the recovery path was not exercised"
    );
    // No claim is left behind once every id has been created again, and each tenant holds
    // exactly one place of max_tenants.
    let entries = root.entries();
    let unfinished: Vec<_> = entries.iter().filter(|t| t["status"] != "active").collect();
    assert!(unfinished.is_empty(), "{unfinished:#?}");
    assert_eq!(root.listed_ids().len() as u64, trial + 4);
    let mut places: Vec<u64> = entries
        .iter()
        .map(|e| e["slot"].as_u64().unwrap())
        .collect();
    places.sort();
    places.dedup();
    assert_eq!(
        places.len(),
        entries.len(),
        "two tenants on one place: {entries:#?}"
    );
}
