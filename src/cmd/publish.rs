//! `t8k publish`: uploads built bundles as deploys and flips them live.

use anyhow::Result;
use t8k_builder::publish::{PublishRequest, PublishSummary, TenantPublish, publish};
use t8k_core::lifecycle::Installation;
use t8k_core::store::Store;

use super::build::out_dir;
use crate::cli::{PublishArgs, ToArgs};
use crate::{UsageError, output};

/// Runs `f` with the bundle store: `--to`, else the data root.
pub fn with_target<R>(
    inst: &Installation,
    to: &ToArgs,
    f: impl FnOnce(&dyn Store) -> Result<R>,
) -> Result<R> {
    match &to.to {
        Some(spec) => {
            let store = t8k_core::store::open(spec, &inst.env, false)?;
            f(store.as_ref())
        }
        None => f(inst.store()),
    }
}

pub fn run(inst: &Installation, args: PublishArgs, json: bool) -> Result<()> {
    if args.concurrency == 0 || args.concurrency > 1024 {
        return Err(UsageError("--concurrency must be 1–1024".into()).into());
    }
    let shard = args
        .shard
        .as_deref()
        .map(t8k_builder::Shard::parse)
        .transpose()
        .map_err(UsageError)?;
    let req = PublishRequest {
        shard,
        include_main: args.tenants.is_empty(),
        routing: Default::default(),
        tenants: args.tenants,
        changed_only: args.changed,
        concurrency: args.concurrency,
        bundles: match args.bundles {
            Some(b) => b,
            None => out_dir(inst, None)?,
        },
    };
    let summary = with_target(inst, &args.to, |target| {
        let bar = output::spinner(json, "{spinner} publishing: {pos} sites {elapsed} {msg}");
        let progress = |d: &TenantPublish| {
            bar.inc(1);
            bar.set_message(d.tenant.clone());
            if let Some(e) = &d.error {
                bar.suspend(|| eprintln!("failed: {e}"));
            }
        };
        let s = publish(inst, target, &req, &progress)?;
        bar.finish_and_clear();
        Ok(s)
    })?;
    output::emit(json, &summary, || print_summary(&summary));
    if summary.failed > 0 {
        anyhow::bail!(
            "{} of {} sites failed to publish (listed above); nothing was flipped for them",
            summary.failed,
            summary.tenants
        );
    }
    Ok(())
}

fn print_summary(s: &PublishSummary) {
    println!(
        "Published {} of {} sites ({} unchanged, {} failed): {} objects uploaded, {} copied server-side, {} sent, {:.2} s.",
        s.published,
        s.tenants,
        s.unchanged,
        s.failed,
        s.objects_uploaded,
        s.objects_copied,
        t8k_core::quota::format_size(s.bytes_sent),
        s.seconds
    );
}
