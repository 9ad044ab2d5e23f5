//! `t8k worker`: drains the build queue continuously. Each of `--jobs` threads lists the queue,
//! takes the first tenant whose lease it can claim ([`t8k_builder::job`]), builds and publishes
//! it, and lists again; with nothing to take it waits — on a local root for the queue folder to
//! change (inotify: an edit wakes it at once), on a bucket root by listing again after a
//! backoff that grows to `--max-idle`. SIGTERM or Ctrl-C stops it: no new tenant is taken, the
//! running builds finish and their leases are released.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};
use t8k_builder::job::{Job, Served, Turn};
use t8k_builder::{Themes, Warm};
use t8k_core::lifecycle::Installation;
use t8k_core::store::Version;
use t8k_core::{Key, TenantId, queue};
use t8k_functions::watch::{Scope, Watcher};

use super::build::{out_dir, themes_dir};
use super::publish::with_target;
use crate::UsageError;
use crate::cli::WorkerArgs;

/// What every thread of one worker shares.
struct Shared<'a> {
    job: Job<'a>,
    args: &'a WorkerArgs,
    stop: &'a AtomicBool,
    /// Requests whose build or publish failed: not retried until the tenant asks again (a new
    /// request has a new version), so a broken site does not spin a worker.
    failed: Mutex<HashMap<TenantId, Version>>,
    json: bool,
}

pub fn run(inst: &Installation, root: &str, args: WorkerArgs, json: bool) -> Result<()> {
    if args.jobs == 0 || args.jobs > 256 || args.lease < 3 || args.max_idle <= 0.0 {
        return Err(UsageError(
            "--jobs must be 1–256, --lease at least 3 seconds, --max-idle above 0".into(),
        )
        .into());
    }
    inst.registry()?;
    let themes = Themes::new(themes_dir(&args.target.themes, root))
        .tracking_localhost(inst.env.track_localhost);
    let out = out_dir(inst, args.target.out.clone())?;
    on_stop_signal()?;
    let stop = &STOP;
    let holder = holder();
    let warm = Warm::new(args.keep_sites);
    with_target(inst, &args.target.to, |target| {
        let shared = Shared {
            job: Job {
                inst,
                themes: &themes,
                out: &out,
                target,
                holder: &holder,
                lease_secs: args.lease,
                warm: Some(&warm),
            },
            args: &args,
            stop,
            failed: Mutex::default(),
            json,
        };
        if !json {
            eprintln!(
                "t8k worker {holder}: {} jobs, bundles in {}",
                args.jobs,
                out.display()
            );
        }
        std::thread::scope(|s| {
            for me in 0..args.jobs {
                let shared = &shared;
                s.spawn(move || work(shared, me));
            }
        });
        Ok(())
    })
}

/// This process (`host/pid/start`) and a random suffix: names this worker in its leases.
fn holder() -> String {
    let mut rand = [0u8; 3];
    getrandom::fill(&mut rand).expect("the OS random source is available");
    let process = t8k_core::lifecycle::process::current();
    format!("{process}/{}", hex::encode(rand))
}

/// One thread: take a tenant, serve it, repeat; wait when there is nothing to take.
fn work(shared: &Shared, me: usize) {
    let store = shared.job.inst.store();
    let queue = Key::new("queue/builds").expect("constant key");
    let folder = store.local_path(&queue);
    let watcher = folder.as_ref().and_then(|dir| {
        std::fs::create_dir_all(dir).ok()?;
        let w = Watcher::new()?;
        w.watch(dir, &Scope::Queue).then_some(w)
    });
    let mut idle = Duration::from_millis(250);
    while !shared.stop.load(Ordering::Relaxed) {
        if let (Some(w), Some(dir)) = (&watcher, &folder) {
            // Again each round: a folder removed and made again needs a new watch.
            let _ = std::fs::create_dir_all(dir);
            w.watch(dir, &Scope::Queue);
            w.changes(); // what a listing now sees is handled; later events wake the wait
        }
        match take_one(shared, me) {
            Ok(true) => {
                idle = Duration::from_millis(250);
                continue;
            }
            Ok(false) if shared.args.once => return,
            Ok(false) => {}
            Err(e) => {
                tracing::error!(error = format!("{e:#}"), "worker: cannot read the queue");
                if shared.args.once {
                    return;
                }
            }
        }
        let max = Duration::from_secs_f64(shared.args.max_idle);
        match &watcher {
            Some(w) => w.wait(max.min(Duration::from_secs(1))),
            None => {
                sleep_unless_stopped(idle, shared.stop);
                idle = (idle * 2).min(max);
            }
        }
    }
}

fn sleep_unless_stopped(d: Duration, stop: &AtomicBool) {
    let until = std::time::Instant::now() + d;
    while std::time::Instant::now() < until && !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(50).min(d));
    }
}

/// Serves the first request this thread can claim (threads start at different places in the
/// queue, so they do not all race for its head); false when there was none to take.
fn take_one(shared: &Shared, me: usize) -> Result<bool> {
    let store = shared.job.inst.store();
    let mut pending = queue::pending_ids(store)?;
    if pending.is_empty() {
        return Ok(false);
    }
    let start = me * pending.len() / shared.args.jobs;
    pending.rotate_left(start);
    for id in pending {
        if shared.stop.load(Ordering::Relaxed) {
            return Ok(false);
        }
        if let Some(bad) = shared.failed.lock().expect("lock").get(&id).cloned()
            && queue::request_version(store, &id)? == Some(bad)
        {
            continue;
        }
        let turn = shared
            .job
            .serve(&id)
            .with_context(|| format!("tenant '{id}'"))?;
        match turn {
            Turn::Served(served) => {
                if let (true, Some(v)) = (served.failed(), served.request.clone()) {
                    shared.failed.lock().expect("lock").insert(id, v);
                }
                report(&served, shared.json);
                return Ok(true);
            }
            // Its request waits for `t8k tenant activate`, which asks again.
            Turn::Inactive => {
                if let Some(v) = queue::request_version(store, &id)? {
                    shared.failed.lock().expect("lock").insert(id, v);
                }
            }
            Turn::Busy | Turn::NothingQueued => {}
        }
    }
    Ok(false)
}

fn report(s: &Served, json: bool) {
    if json {
        println!("{}", serde_json::to_string(s).expect("reports serialise"));
        return;
    }
    let secs = (s.finished_ms - s.started_ms) as f64 / 1e3;
    let build = match &s.build.error {
        Some(e) => format!("build failed: {e}"),
        None => format!(
            "{:?} ({} files rendered, {} kept)",
            s.build.status, s.build.written, s.build.kept
        )
        .to_lowercase(),
    };
    let publish = match &s.publish {
        Some(p) => match &p.error {
            Some(e) => format!("; publish failed: {e}"),
            None => format!(
                "; {:?} {}",
                p.status,
                p.deploy.as_deref().unwrap_or_default()
            )
            .to_lowercase(),
        },
        None => String::new(),
    };
    println!("{}: {build}{publish} in {secs:.2} s", s.tenant);
}

/// Set by SIGTERM or Ctrl-C.
static STOP: AtomicBool = AtomicBool::new(false);

/// Sets [`STOP`] on SIGTERM or Ctrl-C: a thread with a small runtime waits for them (installed
/// before any work starts, so an early signal stops the worker gracefully too).
fn on_stop_signal() -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the signal handler")?;
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{SignalKind, signal};
        let _guard = runtime.enter();
        let int = signal(SignalKind::interrupt()).context("cannot handle Ctrl-C")?;
        let term = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
        (int, term)
    };
    std::thread::spawn(move || {
        runtime.block_on(async move {
            #[cfg(unix)]
            {
                let (mut int, mut term) = signals;
                tokio::select! { _ = int.recv() => {}, _ = term.recv() => {} }
            }
            #[cfg(not(unix))]
            let _ = tokio::signal::ctrl_c().await;
        });
        STOP.store(true, Ordering::Relaxed);
    });
    Ok(())
}
