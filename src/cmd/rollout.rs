//! `t8k rollout start|advance|status|halt|abort`, and the tenants of `t8k build --cohort`.

use anyhow::Result;
use t8k_builder::Themes;
use t8k_builder::rollout::{self as run_rollout, Ctx, Selector};
use t8k_core::lifecycle::Installation;
use t8k_core::rollout::{self, Rollout, State};

use super::build::{out_dir, themes_dir};
use super::publish::with_target;
use crate::cli::{BuildTarget, CohortArgs, RolloutCmd};
use crate::{UsageError, output};

pub fn run(inst: &Installation, root: &str, cmd: RolloutCmd, json: bool) -> Result<()> {
    match cmd {
        RolloutCmd::Start {
            spec,
            cohort,
            target,
        } => {
            let (theme, version) = t8k_core::themes::parse_spec(&spec)?;
            let selector = selector(cohort)?;
            let r = with_ctx(inst, root, &target, json, |ctx| {
                Ok(run_rollout::start(ctx, &theme, version, selector)?)
            })?;
            finish(&r, json)
        }
        RolloutCmd::Advance { id, cohort, target } => {
            let id = resolve(inst, id)?;
            let selector = selector(cohort)?;
            let r = with_ctx(inst, root, &target, json, |ctx| {
                Ok(run_rollout::advance(ctx, &id, selector)?)
            })?;
            finish(&r, json)
        }
        RolloutCmd::Status { id } => status(inst, id, json),
        RolloutCmd::Halt { id, reason } => {
            let id = resolve(inst, id)?;
            let r = run_rollout::halt_by_hand(inst.store(), &id, &reason)?;
            output::emit(json, &r, || {
                println!(
                    "Rollout {id} is halted; `t8k rollout advance` resumes it, `t8k rollout abort` undoes it."
                )
            });
            Ok(())
        }
        RolloutCmd::Abort { id, target } => {
            let id = resolve(inst, id)?;
            let r = with_ctx(inst, root, &target, json, |ctx| {
                Ok(run_rollout::abort(ctx, &id)?)
            })?;
            finish(&r, json)
        }
    }
}

/// The tenants a rollout has moved, for `t8k build --cohort`.
pub fn cohort(inst: &Installation, id: &str) -> Result<Vec<String>> {
    let r = rollout::read(inst.store(), id)?;
    if r.moved.is_empty() {
        return Err(UsageError(format!(
            "rollout '{id}' has moved no tenant yet; `t8k rollout status {id}` shows it"
        ))
        .into());
    }
    Ok(r.moved.into_keys().collect())
}

fn selector(c: CohortArgs) -> Result<Selector> {
    Ok(match (c.percent, c.tenants, c.channel) {
        (Some(p), None, None) => Selector::Percent(p),
        (None, Some(t), None) => Selector::Tenants(t),
        (None, None, Some(ch)) => Selector::Channel(ch),
        _ => return Err(UsageError("give one of --percent, --tenants, --channel".into()).into()),
    })
}

fn resolve(inst: &Installation, id: Option<String>) -> Result<String> {
    Ok(match id {
        Some(id) => id,
        None => rollout::current(inst.store())?.id,
    })
}

fn with_ctx<R>(
    inst: &Installation,
    root: &str,
    target: &BuildTarget,
    json: bool,
    f: impl FnOnce(&Ctx) -> Result<R>,
) -> Result<R> {
    let themes =
        Themes::new(themes_dir(&target.themes, root)).tracking_localhost(inst.env.track_localhost);
    let out = out_dir(inst, target.out.clone())?;
    let bar = output::spinner(json, "{spinner} {elapsed} {msg}");
    let progress = |tenant: &str, what: &str| bar.set_message(format!("{what} {tenant}"));
    let r = with_target(inst, &target.to, |store| {
        let ctx = Ctx {
            inst,
            themes: &themes,
            out: &out,
            target: store,
            progress: &progress,
        };
        f(&ctx)
    });
    bar.finish_and_clear();
    r
}

/// Prints the rollout; a halted one is an error (exit 1), naming the tenant and the cause.
fn finish(r: &Rollout, json: bool) -> Result<()> {
    output::emit(json, r, || print(r));
    if r.state == State::Halted {
        let halt = r.halt.as_ref();
        anyhow::bail!(
            "rollout {} halted{}: {}; nothing of this step was published. Fix the theme and push a new version, `t8k rollout advance` to retry, or `t8k rollout abort {}`",
            r.id,
            halt.and_then(|h| h.tenant.as_deref())
                .map(|t| format!(" at tenant '{t}'"))
                .unwrap_or_default(),
            halt.map(|h| h.cause.as_str())
                .unwrap_or("no cause recorded"),
            r.id
        );
    }
    Ok(())
}

fn status(inst: &Installation, id: Option<String>, json: bool) -> Result<()> {
    let all = match id {
        Some(id) => vec![rollout::read(inst.store(), &id)?],
        None => rollout::list(inst.store())?,
    };
    output::emit(json, &all, || {
        if all.is_empty() {
            println!("No rollouts yet; `t8k rollout start THEME@VERSION --percent 5` starts one.");
        }
        for r in &all {
            print(r);
        }
    });
    Ok(())
}

fn print(r: &Rollout) {
    println!(
        "Rollout {} ({}@{}): {}, {}% — {} tenant(s) moved.",
        r.id,
        r.theme,
        r.version,
        rollout::state_name(r.state),
        r.percent,
        r.moved.len()
    );
    if let Some(lease) = &r.advancing {
        println!(
            "  step {} being taken by {} since {}",
            lease.target, lease.by, lease.started
        );
    }
    if let Some(h) = &r.halt {
        println!(
            "  halted{}: {}",
            h.tenant
                .as_deref()
                .map(|t| format!(" at '{t}'"))
                .unwrap_or_default(),
            h.cause
        );
    }
    for (n, step) in r.steps.iter().enumerate() {
        println!(
            "  step {}: {} — {} ({} new tenant(s))",
            n + 1,
            step.target,
            step.outcome,
            step.tenants.len()
        );
        for (tenant, rep) in &step.reports {
            let verdict = rep.gate().unwrap_or_else(|| "ok".into());
            println!(
                "    {tenant}: {verdict}; pages {}→{} (+{} −{}), {} changed, bundle {:+} bytes{}",
                rep.pages_before,
                rep.pages_after,
                rep.added.len(),
                rep.removed.len(),
                rep.changed,
                rep.bytes_after as i64 - rep.bytes_before as i64,
                if rep.structure.is_empty() {
                    String::new()
                } else {
                    format!("; {}", rep.structure.join(", "))
                }
            );
        }
    }
}
