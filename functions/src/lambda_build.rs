//! The Lambda builder (`t8k-build`): builds and publishes queued tenants of a bucket data root,
//! one per event record, with the same lease, build and publish as `t8k worker`
//! ([`t8k_builder::job`]). It runs on the plain Lambda runtime (not lambda_http: no HTTP in
//! front of it) and takes:
//!
//! - **S3 event notifications** for `queue/builds/` (ObjectCreated): each record names a tenant
//!   by its request's key — so the request an editor's save writes starts its build;
//! - **SQS messages** whose body is such an S3 event (S3 → SQS → Lambda, where the queue's
//!   delivery delay debounces bursts), answered with `batchItemFailures` so SQS retries only
//!   the records that failed;
//! - `{"tenant": "acme"}` or `{"tenants": [...]}` (a direct invoke), and any other event — an
//!   EventBridge schedule — as "serve every queued tenant" (the safety net).
//!
//! A tenant another builder holds is waited for (up to a minute; its builds take seconds),
//! then served if its request is still there. The theme comes from `T8K_THEMES` (default
//! `themes/` in the package); the tenant's database and the bundle are in `/tmp`
//! (`T8K_CACHE`, [`crate::lambda`]).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lambda_http::lambda_runtime::{self, LambdaEvent, service_fn};
use serde_json::{Value, json};
use t8k_builder::job::{Job, Served, Turn};
use t8k_builder::{Themes, Warm};
use t8k_core::TenantId;
use t8k_core::lifecycle::Installation;

use crate::lambda::Error;

/// How long a tenant held by another builder is waited for.
const WAIT_FOR_HOLDER: Duration = Duration::from_secs(60);
const LEASE_SECS: i64 = 120;

struct Builder {
    inst: Installation,
    themes: Themes,
    out: PathBuf,
    /// Sites built by earlier invocations of this container.
    warm: Warm,
}

/// One thing an event asks for: a tenant (with the SQS message it came in, if any), or every
/// queued tenant.
#[derive(Debug, PartialEq)]
enum Target {
    Tenant(TenantId, Option<String>),
    Queue,
}

/// The tenant a request key of an S3 event names: `[prefix/]queue/builds/{tenant}` (the key
/// carries the data root's prefix in the bucket).
fn tenant_of_key(key: &str) -> Option<TenantId> {
    let at = key.rfind("queue/builds/")?;
    let key = t8k_core::Key::new(&key[at..]).ok()?;
    t8k_core::queue::request_at(&key, b"{}").map(|(id, _)| id)
}

fn targets(event: &Value) -> Vec<Target> {
    if let Some(records) = event["Records"].as_array() {
        let mut out = vec![];
        for r in records {
            if let Some(key) = r["s3"]["object"]["key"].as_str() {
                out.extend(tenant_of_key(key).map(|id| Target::Tenant(id, None)));
            } else if let Some(body) = r["body"].as_str() {
                let id = r["messageId"].as_str().map(str::to_owned);
                let inner: Value = serde_json::from_str(body).unwrap_or_default();
                for t in targets(&inner) {
                    out.push(match t {
                        Target::Tenant(tenant, _) => Target::Tenant(tenant, id.clone()),
                        Target::Queue => Target::Queue,
                    });
                }
            }
        }
        return out;
    }
    let named = event["tenant"].as_str().into_iter().chain(
        event["tenants"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str),
    );
    let ids: Vec<Target> = named
        .filter_map(|n| TenantId::trusted(n).ok())
        .map(|id| Target::Tenant(id, None))
        .collect();
    if ids.is_empty() {
        vec![Target::Queue]
    } else {
        ids
    }
}

impl Builder {
    /// Serves `id`, waiting for another builder that holds it.
    fn serve(&self, job: &Job, id: &TenantId) -> Result<Option<Served>, String> {
        let since = Instant::now();
        loop {
            match job.serve(id).map_err(|e| e.to_string())? {
                Turn::Served(s) if s.failed() => return Err(format!("{}", json!(s))),
                Turn::Served(s) => return Ok(Some(*s)),
                // An inactive tenant's request waits for its activation, which asks again.
                Turn::NothingQueued | Turn::Inactive => return Ok(None),
                Turn::Busy if since.elapsed() > WAIT_FOR_HOLDER => {
                    return Err(format!("tenant '{id}' is held by another builder"));
                }
                Turn::Busy => std::thread::sleep(Duration::from_millis(250)),
            }
        }
    }

    fn handle(&self, event: &Value, request: &str) -> Value {
        let holder = format!("lambda-{request}");
        let job = Job {
            inst: &self.inst,
            themes: &self.themes,
            out: &self.out,
            target: self.inst.store(),
            holder: &holder,
            lease_secs: LEASE_SECS,
            // A reused container keeps its sites' last builds (their bundles stay in /tmp).
            warm: Some(&self.warm),
        };
        let (mut served, mut failures, mut errors) = (vec![], vec![], vec![]);
        let mut work: Vec<(TenantId, Option<String>)> = vec![];
        for target in targets(event) {
            match target {
                Target::Tenant(id, message) => work.push((id, message)),
                Target::Queue => match t8k_core::queue::pending_ids(self.inst.store()) {
                    Ok(all) => work.extend(all.into_iter().map(|id| (id, None))),
                    Err(e) => errors.push(json!({"error": e.to_string()})),
                },
            }
        }
        for (id, message) in work {
            match self.serve(&job, &id) {
                Ok(s) => served.extend(s),
                Err(e) => {
                    tracing::warn!(tenant = %id, error = %e, "build failed");
                    errors.push(json!({"tenant": id, "error": e}));
                    failures.extend(message.map(|m| json!({"itemIdentifier": m})));
                }
            }
        }
        json!({"served": served, "errors": errors, "batchItemFailures": failures})
    }
}

/// Serves events until the runtime stops the process.
pub async fn run() -> Result<(), Error> {
    let env = t8k_core::settings::Env::from_process()?;
    let filter = env.log.clone().unwrap_or_else(|| "info".into());
    crate::trace::init(&filter, crate::trace::LogFormat::Json)?;
    let themes = Themes::new(env.themes.clone().unwrap_or_else(|| "themes".into()));
    let inst = crate::lambda::installation(env).await?;
    let out = t8k_builder::default_out(&inst).ok_or("no folder for bundles")?;
    let builder = Arc::new(Builder {
        inst,
        themes,
        out,
        warm: Warm::new(8),
    });
    lambda_runtime::run(service_fn(move |ev: LambdaEvent<Value>| {
        let builder = builder.clone();
        async move {
            let request = ev.context.request_id.clone();
            let answer =
                tokio::task::spawn_blocking(move || builder.handle(&ev.payload, &request)).await?;
            Ok::<Value, Error>(answer)
        }
    }))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> TenantId {
        TenantId::trusted(s).unwrap()
    }

    #[test]
    fn events_name_their_tenants() {
        let s3 = json!({"Records": [{"eventSource": "aws:s3", "s3": {"object": {"key": "t8k/queue/builds/acme"}}}]});
        assert_eq!(targets(&s3), vec![Target::Tenant(id("acme"), None)]);
        let sqs = json!({"Records": [{"messageId": "m1", "body": s3.to_string()}]});
        assert_eq!(
            targets(&sqs),
            vec![Target::Tenant(id("acme"), Some("m1".into()))]
        );
        assert_eq!(
            targets(&json!({"tenants": ["acme", "beta"]})),
            vec![
                Target::Tenant(id("acme"), None),
                Target::Tenant(id("beta"), None)
            ]
        );
        assert_eq!(
            targets(&json!({"source": "aws.events"})),
            vec![Target::Queue]
        );
        // A key outside the queue, or a name that is no tenant id, names nothing.
        let odd = json!({"Records": [{"s3": {"object": {"key": "db/acme/site.db"}}}, {"s3": {"object": {"key": "queue/builds/../x"}}}]});
        assert!(targets(&odd).is_empty());
    }
}
