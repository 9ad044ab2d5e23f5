//! `t8k worker`: two worker processes on one data root (local, and a moto S3 bucket) drain a
//! queue of tenants — each tenant built and published exactly once, never by both at once; a
//! worker killed mid-build leaves a lease that the other takes over once it is void (its holder
//! is dead), and every tenant ends published.

mod common;

use std::io::BufRead;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};

use common::{Moto, Root, eventually, write_files};
use serde_json::Value;

/// A `t8k --json worker` process and the lines it printed (one per tenant served).
struct Worker {
    child: Child,
    served: Arc<Mutex<Vec<Value>>>,
}

impl Worker {
    fn start(root: &Root, cache: Option<&std::path::Path>, jobs: &str) -> Worker {
        let args = ["--json", "worker", "--jobs", jobs, "--max-idle", "0.5"];
        let mut cmd = root.cmd(&args);
        if let Some(c) = cache {
            cmd.env("T8K_CACHE", c);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let served = Arc::new(Mutex::new(vec![]));
        let out = child.stdout.take().unwrap();
        let sink = served.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                let v: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("worker printed {line:?}: {e}"));
                sink.lock().unwrap().push(v);
            }
        });
        Worker { child, served }
    }

    /// SIGTERM, then the exit status must be success (running builds finish first).
    fn stop(mut self) -> Vec<Value> {
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let status = self.child.wait().unwrap();
        assert!(status.success(), "a stopped worker exits cleanly: {status}");
        std::thread::sleep(std::time::Duration::from_millis(100));
        self.served.lock().unwrap().clone()
    }
}

/// `n` tenants, each with `pages` pages, all queued for a build (the import queues them).
fn queued_tenants(root: &Root, n: usize, pages: usize) -> Vec<String> {
    root.init_multi(n as u64 + 5);
    let src = root.dir.path().join("src");
    let files: Vec<(String, String)> = (0..pages)
        .map(|i| {
            (
                format!("p{i}.md"),
                format!("+++\ntitle = \"Page {i}\"\n+++\nBody {i}.\n"),
            )
        })
        .collect();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    write_files(&src, &refs);
    let ids: Vec<String> = (0..n).map(|i| format!("site{i:03}")).collect();
    for id in &ids {
        root.run(&[
            "tenant",
            "create",
            id,
            "--name",
            "Site",
            "--email",
            "a@example.com",
            "--no-admin-password",
        ])
        .ok();
        root.run(&[
            "tenant",
            "set-quota",
            id,
            "--pages",
            &(pages + 10).to_string(),
        ])
        .ok();
        root.run(&["content", "import", id, src.to_str().unwrap()])
            .ok();
    }
    ids
}

/// Whether the workers between them cleared every tenant's request.
fn all_served(ids: &[String], workers: &[&Worker]) -> bool {
    let served: Vec<Value> = workers
        .iter()
        .flat_map(|w| w.served.lock().unwrap().clone())
        .collect();
    ids.iter().all(|id| {
        served
            .iter()
            .any(|s| s["tenant"] == id.as_str() && s["cleared"] == true)
    })
}

/// Build requests left in a local root's queue.
fn left_in_queue(root: &Root) -> usize {
    std::fs::read_dir(root.file("queue/builds")).map_or(0, |d| d.count())
}

/// Each tenant served (built and its request cleared) exactly once across all workers, and
/// published: one deploy, live.
fn assert_each_once(root: &Root, ids: &[String], served: &[Value]) {
    for id in ids {
        let mine: Vec<&Value> = served
            .iter()
            .filter(|s| s["tenant"] == id.as_str() && s["cleared"] == true)
            .collect();
        assert_eq!(mine.len(), 1, "{id} served once: {mine:?}");
        assert_eq!(mine[0]["publish"]["status"], "published", "{id}");
        let deploys = root.run(&["--json", "deploys", id]).ok().json();
        assert_eq!(
            deploys.as_array().map(Vec::len),
            Some(1),
            "{id}: one deploy: {deploys}"
        );
        // The edge map sends the tenant's host to that deploy (each worker updated only its
        // tenants' routes).
        if root.spec.is_none() {
            let routes: Value =
                serde_json::from_slice(&std::fs::read(root.file("routes.json")).unwrap()).unwrap();
            let routed = routes["routes"]
                .as_object()
                .unwrap()
                .values()
                .any(|r| r["tenant"] == id.as_str() && r["deploy"] == deploys[0]["deploy"]);
            assert!(routed, "{id} routed to its deploy: {routes}");
        }
    }
}

#[test]
fn two_workers_build_and_publish_every_queued_tenant_exactly_once() {
    let root = Root::new();
    let ids = queued_tenants(&root, 50, 3);
    let a = Worker::start(&root, None, "2");
    let b = Worker::start(&root, None, "2");
    assert!(eventually(180, || all_served(&ids, &[&a, &b])));
    let mut served = a.stop();
    let from_b = b.stop();
    let (na, nb) = (served.len(), from_b.len());
    served.extend(from_b);
    assert_each_once(&root, &ids, &served);
    assert_eq!(left_in_queue(&root), 0);
    assert_eq!(na + nb, 50, "nothing built twice: {na} + {nb}");
    // The leases are given back.
    for id in &ids {
        let lease: Value = serde_json::from_slice(
            &std::fs::read(root.file(&format!("queue/leases/{id}"))).unwrap(),
        )
        .unwrap();
        assert_eq!(lease["expires"], 0, "{id}: {lease}");
    }

    // An edit is picked up by a waiting worker within moments, incrementally.
    let w = Worker::start(&root, None, "2");
    let more = root.dir.path().join("more");
    write_files(
        &more,
        &[("p1.md", "+++\ntitle = \"Page 1\"\n+++\nEdited.\n")],
    );
    root.run(&["content", "import", "site007", more.to_str().unwrap()])
        .ok();
    assert!(eventually(30, || w.served.lock().unwrap().len() == 1));
    let served = w.stop();
    assert_eq!(served[0]["tenant"], "site007");
    // The page, the sitemap and the listing that shows it; the rest is kept.
    let (written, kept) = (&served[0]["build"]["written"], &served[0]["build"]["kept"]);
    assert!(
        written.as_u64() <= Some(4) && kept.as_u64() >= Some(3),
        "{}",
        served[0]
    );
}

#[test]
fn a_worker_killed_mid_build_leaves_its_tenant_to_the_other() {
    let root = Root::new();
    let ids = queued_tenants(&root, 12, 400);
    let mut a = Worker::start(&root, None, "1");
    // Wait until `a` holds a live lease, then kill it without warning.
    let mut held = None;
    let found = eventually(120, || {
        for id in &ids {
            let Ok(bytes) = std::fs::read(root.file(&format!("queue/leases/{id}"))) else {
                continue;
            };
            let lease: Value = serde_json::from_slice(&bytes).unwrap_or_default();
            if lease["expires"].as_i64().unwrap_or(0) > 0 {
                unsafe { libc::kill(a.child.id() as i32, libc::SIGKILL) };
                held = Some((id.clone(), lease));
                return true;
            }
        }
        false
    });
    assert!(found, "worker a took a tenant");
    a.child.wait().unwrap();
    let (victim, lease) = held.unwrap();
    let after: Value = serde_json::from_slice(
        &std::fs::read(root.file(&format!("queue/leases/{victim}"))).unwrap(),
    )
    .unwrap();
    // Its lease is still there, naming a process that no longer runs.
    assert_eq!(after, lease, "the killed worker held {victim}");
    let b = Worker::start(&root, None, "2");
    assert!(
        eventually(180, || all_served(&ids, &[&a, &b])),
        "the other worker drains the queue"
    );
    let mut served = b.stop();
    served.extend(a.served.lock().unwrap().clone());
    assert_each_once(&root, &ids, &served);
    assert_eq!(left_in_queue(&root), 0);
    let by_b = served
        .iter()
        .any(|s| s["tenant"] == victim.as_str() && s["holder"] != lease["holder"]);
    assert!(
        by_b,
        "{victim}, held by the killed worker, was built by the other"
    );
}

#[test]
fn two_workers_share_a_bucket_root() {
    let Some(s3) = Moto::start() else { return };
    let root = Root::s3(&s3, "workers");
    let ids = queued_tenants(&root, 8, 3);
    let other_cache = root.dir.path().join("cache-b");
    let a = Worker::start(&root, None, "2");
    let b = Worker::start(&root, Some(&other_cache), "2");
    assert!(eventually(180, || all_served(&ids, &[&a, &b])));
    let mut served = a.stop();
    served.extend(b.stop());
    assert_each_once(&root, &ids, &served);
    assert!(s3.objects(&s3.bucket, "workers/queue/builds/").is_empty());
}
