//! One queued build served end to end — what `t8k worker` does for each tenant it picks from
//! the queue, and what the Lambda builder does per invocation: claim the tenant's lease (so two
//! workers never build one tenant at once), build it (incrementally), publish it, clear the
//! request it served (only if no newer request came meanwhile), release the lease. The lease is
//! renewed while the work runs; a worker that lost it (it stalled past its lease, and another
//! took over) stops before publishing.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, mpsc};
use std::time::Duration;

use serde::Serialize;
use t8k_core::TenantId;
use t8k_core::lifecycle::Installation;
use t8k_core::queue::{self, Lease};
use t8k_core::store::{Store, Version};

use crate::publish::{PublishRequest, PublishStatus, TenantPublish, publish};
use crate::{Mode, Outcome, Status, Themes, build_tenant};

/// Where and how a worker builds.
pub struct Job<'a> {
    pub inst: &'a Installation,
    pub themes: &'a Themes,
    /// The bundle folder (the data root's `build/`, or a local cache of a bucket root).
    pub out: &'a Path,
    /// The bundle store deploys go to.
    pub target: &'a dyn Store,
    /// Who this worker is (in each lease it holds).
    pub holder: &'a str,
    pub lease_secs: i64,
    /// What a long-running worker keeps of its sites between builds.
    pub warm: Option<&'a crate::Warm>,
}

/// What asking to serve a tenant's request came to.
#[derive(Debug)]
pub enum Turn {
    Served(Box<Served>),
    /// Another worker holds the tenant (it will serve the request, or leave it queued).
    Busy,
    /// No request is pending (another worker served it since it was listed).
    NothingQueued,
    /// The tenant is inactive: its request waits until it is activated.
    Inactive,
}

/// What serving one request did.
#[derive(Clone, Debug, Serialize)]
pub struct Served {
    pub tenant: String,
    pub holder: String,
    pub build: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publish: Option<TenantPublish>,
    /// The request was cleared (built and published, and not renewed meanwhile).
    pub cleared: bool,
    /// Unix milliseconds when the lease was taken and given back.
    pub started_ms: i64,
    pub finished_ms: i64,
    /// The version of the request served.
    #[serde(skip)]
    pub request: Option<Version>,
}

impl Served {
    pub fn failed(&self) -> bool {
        self.build.status == Status::Failed
            || self
                .publish
                .as_ref()
                .is_some_and(|p| p.status == PublishStatus::Failed)
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl Job<'_> {
    /// Serves the pending request of `id`, if no other worker holds the tenant.
    pub fn serve(&self, id: &TenantId) -> Result<Turn, t8k_core::Error> {
        let store = self.inst.store();
        let Some(lease) = queue::claim(store, id, self.holder, self.lease_secs)? else {
            return Ok(Turn::Busy);
        };
        // Read under the lease: whatever request is there now is ours to serve.
        let Some(seen) = queue::request_version(store, id)? else {
            queue::release(store, lease)?;
            return Ok(Turn::NothingQueued);
        };
        match self.inst.entry(id.as_str()) {
            Ok((entry, _)) if entry.active => {}
            Ok(_) => {
                queue::release(store, lease)?;
                return Ok(Turn::Inactive);
            }
            // Deleted since it asked: nothing to build, ever.
            Err(_) => {
                queue::done(store, id, &seen)?;
                queue::release(store, lease)?;
                return Ok(Turn::NothingQueued);
            }
        }
        let started_ms = now_ms();
        let lease = Mutex::new(lease);
        let lost = AtomicBool::new(false);
        let mut served = std::thread::scope(|s| {
            let (finished, done) = mpsc::channel::<()>();
            s.spawn(|| self.keep(&lease, done, &lost));
            let served = self.run(id, &seen, &lost);
            drop(finished);
            served
        });
        let lease: Lease = lease.into_inner().unwrap_or_else(|p| p.into_inner());
        queue::release(store, lease)?;
        served.started_ms = started_ms;
        served.finished_ms = now_ms();
        served.request = Some(seen);
        Ok(Turn::Served(Box::new(served)))
    }

    /// Renews the lease a third of the way through each term until the work finishes (its
    /// end drops the sender of `done`, which wakes this at once).
    fn keep(&self, lease: &Mutex<Lease>, done: mpsc::Receiver<()>, lost: &AtomicBool) {
        let term = Duration::from_secs((self.lease_secs.max(3) / 3) as u64);
        while let Err(mpsc::RecvTimeoutError::Timeout) = done.recv_timeout(term) {
            let mut held = lease.lock().unwrap_or_else(|p| p.into_inner());
            if !queue::renew(self.inst.store(), &mut held, self.lease_secs).unwrap_or(false) {
                tracing::warn!(tenant = %held.tenant, "worker: lease lost; not publishing");
                lost.store(true, Ordering::Relaxed);
                return;
            }
        }
    }

    fn run(&self, id: &TenantId, seen: &Version, lost: &AtomicBool) -> Served {
        let build = build_tenant(
            self.inst,
            self.themes,
            id,
            self.out,
            Mode::CHANGED,
            self.warm,
        );
        let mut served = Served {
            tenant: id.to_string(),
            holder: self.holder.to_owned(),
            build,
            publish: None,
            cleared: false,
            started_ms: 0,
            finished_ms: 0,
            request: None,
        };
        if served.build.status == Status::Failed || lost.load(Ordering::Relaxed) {
            return served;
        }
        let req = PublishRequest {
            tenants: vec![id.to_string()],
            shard: None,
            changed_only: true,
            concurrency: 8,
            bundles: self.out.to_owned(),
            include_main: false,
            routing: crate::publish::Routing::Published,
        };
        served.publish = match publish(self.inst, self.target, &req, &|_| {}) {
            Ok(mut s) => s.details.pop(),
            Err(e) => Some(TenantPublish {
                tenant: id.to_string(),
                error: Some(e.to_string()),
                ..Default::default()
            }),
        };
        if !served.failed() && !lost.load(Ordering::Relaxed) {
            served.cleared = queue::done(self.inst.store(), id, seen).unwrap_or(false);
        }
        served
    }
}
