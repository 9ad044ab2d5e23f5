//! `t8k build`: renders tenants into bundles, with a progress bar on a terminal and a summary.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use t8k_builder::{BuildRequest, Outcome, Shard, Status, Summary, Themes};
use t8k_core::lifecycle::Installation;

use crate::cli::{BuildArgs, ThemeArgs};
use crate::{UsageError, output};

/// The themes folder: `--themes`, else `{root}/themes`, else `./themes`, else the themes
/// shipped next to the t8k sources.
pub fn themes_dir(args: &ThemeArgs, root: &str) -> PathBuf {
    if let Some(dir) = &args.themes {
        return dir.clone();
    }
    let candidates = [
        Path::new(root).join("themes"),
        PathBuf::from("themes"),
        Path::new(env!("CARGO_MANIFEST_DIR")).join("themes"),
    ];
    candidates
        .iter()
        .find(|p| p.join("default/theme.toml").is_file())
        .cloned()
        .unwrap_or_else(|| candidates[2].clone())
}

/// Queued build requests of tenants that can be built; requests of tenants that no longer
/// exist are dropped.
fn queued_tenants(
    inst: &Installation,
) -> Result<Vec<(t8k_core::TenantId, t8k_core::store::Version)>> {
    let mut out = vec![];
    for (id, seen) in t8k_core::queue::pending(inst.store())? {
        match inst.entry(id.as_str()) {
            Ok((entry, _)) if entry.active => out.push((id, seen)),
            Ok(_) => {} // inactive: kept until it is activated
            Err(_) => {
                t8k_core::queue::done(inst.store(), &id, &seen)?;
            }
        }
    }
    Ok(out)
}

pub fn out_dir(inst: &Installation, out: Option<PathBuf>) -> Result<PathBuf> {
    match out {
        Some(o) => Ok(o),
        None => t8k_builder::default_out(inst)
            .context("this data root has no local build/ folder; pass --out DIR"),
    }
}

pub fn run(inst: &Installation, root: &str, args: BuildArgs, json: bool) -> Result<()> {
    let shard = args
        .shard
        .as_deref()
        .map(Shard::parse)
        .transpose()
        .map_err(UsageError)?;
    if let Some(jobs) = args.jobs {
        rayon::ThreadPoolBuilder::new()
            .num_threads(jobs.max(1))
            .build_global()
            .context("cannot size the worker pool")?;
    }
    let themes =
        Themes::new(themes_dir(&args.themes, root)).tracking_localhost(inst.env.track_localhost);
    let queued = if args.queued {
        queued_tenants(inst)?
    } else {
        vec![]
    };
    if args.queued && queued.is_empty() {
        output::emit(json, &serde_json::json!({"queued": 0}), || {
            println!("No builds queued.")
        });
        return Ok(());
    }
    let out = out_dir(inst, args.out)?;
    // A build of every tenant is a pass: it serves the queue and is recorded, so the next
    // `--changed` (planned from the queue and two listings) can trust both.
    let every = args.tenants.is_empty() && !args.queued && args.cohort.is_none();
    let pass = every
        .then(|| t8k_builder::plan::Pass::current(&themes, inst.store()))
        .flatten();
    let plan = match every && args.changed && !args.rescan {
        true => Some(t8k_builder::plan::changed(
            inst,
            pass.as_ref(),
            &out,
            shard,
        )?),
        false => None,
    };
    // The build requests this build serves: all of them for every tenant, the named tenants'
    // for a named build.
    let queued = match (&plan, every) {
        (Some(p), _) => p.queued.clone(),
        (None, true) => t8k_core::queue::pending(inst.store())?,
        (None, false) if !args.queued => t8k_core::queue::pending(inst.store())?
            .into_iter()
            .filter(|(id, _)| args.tenants.iter().any(|t| t == id.as_str()))
            .collect(),
        (None, false) => queued,
    };
    let tenants = match (&args.cohort, args.queued) {
        (Some(rollout), _) => super::rollout::cohort(inst, rollout)?,
        (None, true) => queued.iter().map(|(id, _)| id.to_string()).collect(),
        (None, false) => args.tenants,
    };
    let req = BuildRequest {
        include_main: tenants.is_empty(),
        tenants,
        mode: t8k_builder::Mode {
            changed_only: args.changed,
            full: args.full,
            theme: None,
        },
        shard,
        out,
        planned: plan.filter(|p| !p.rescan).map(|p| p.tenants),
    };
    let summary = run_build(inst, &themes, &req, json)?;
    for (id, seen) in &queued {
        // A request is served when its tenant was built (or found unchanged) without error.
        let built = match &req.planned {
            Some(p) => p.contains(id),
            None => {
                shard.is_none_or(|s| s.contains(id.as_str()))
                    && inst.entry(id.as_str()).is_ok_and(|(e, _)| e.active)
            }
        };
        if built && !summary.failures.iter().any(|f| f.tenant == id.as_str()) {
            t8k_core::queue::done(inst.store(), id, seen)?;
        }
    }
    if let (Some(pass), 0) = (&pass, summary.failed) {
        pass.record(&req.out, shard)
            .with_context(|| format!("cannot record the pass in {}", req.out.display()))?;
    }
    output::emit(json, &summary, || print_summary(&summary));
    if summary.failed > 0 {
        anyhow::bail!(
            "{} of {} sites failed to build (listed above); the others were built",
            summary.failed,
            summary.tenants
        );
    }
    Ok(())
}

/// Builds with a progress bar (drawn only on a terminal, never with --json).
pub fn run_build(
    inst: &Installation,
    themes: &Themes,
    req: &BuildRequest,
    json: bool,
) -> Result<Summary> {
    let total = t8k_builder::select(inst, req)?.len() + usize::from(req.include_main);
    let bar = Arc::new(ProgressBar::with_draw_target(
        Some(total as u64),
        if json {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        },
    ));
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} building {pos}/{len} sites [{bar:30}] {elapsed} {msg}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    let progress = {
        let bar = bar.clone();
        move |o: &Outcome| {
            bar.set_message(o.tenant.clone());
            bar.inc(1);
            if o.status == Status::Failed {
                bar.suspend(|| {
                    eprintln!("failed: {}", o.error.as_deref().unwrap_or("unknown error"))
                });
            }
        }
    };
    let summary = t8k_builder::build(inst, themes, req, &progress)?;
    bar.finish_and_clear();
    Ok(summary)
}

pub fn print_summary(s: &Summary) {
    println!(
        "Built {} of {} sites ({} skipped unchanged, {} failed): {} pages in {:.2} s, {:.0} pages/s.",
        s.built, s.tenants, s.skipped, s.failed, s.pages, s.seconds, s.pages_per_second
    );
    if s.kept > 0 {
        println!(
            "Incremental: {} files rendered, {} kept from the last build.",
            s.written, s.kept
        );
    }
    let i = &s.images;
    if i.processed + i.reused + i.failed > 0 {
        println!(
            "Images: {} processed, {} reused from the variant cache, {} could not be decoded.",
            i.processed, i.reused, i.failed
        );
    }
    for w in &s.warnings {
        println!("warning: {w}");
    }
    if s.reclaimed.folders > 0 {
        println!(
            "Reclaimed {} staging folders of interrupted builds ({}).",
            s.reclaimed.folders,
            t8k_core::quota::format_size(s.reclaimed.bytes)
        );
    }
}
