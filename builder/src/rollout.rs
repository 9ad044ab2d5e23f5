//! Rollouts carried out: each step builds its new cohort tenants with the theme version into a
//! staging folder, compares every bundle with the tenant's current one ([`crate::compare`]),
//! and either halts (a build failed, links broke, pages were lost: nothing is published and
//! no tenant changes) or moves the cohort: pins each tenant to the version, builds it the
//! normal way and publishes it the normal way. `abort` pins every moved tenant back and makes
//! its previous deploy live again.
//!
//! The state is [`t8k_core::rollout`]'s document; each step holds its lease, so two operators
//! cannot take one step twice.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use rayon::prelude::*;
use t8k_core::TenantId;
use t8k_core::lifecycle::Installation;
use t8k_core::rollout::{self, Halt, Moved, Report, Rollout, State, Step};
use t8k_core::routes::SiteId;
use t8k_core::store::Store;
use t8k_core::tenant_config::TenantConfig;

use crate::{Mode, Status, Themes, build_tenant, compare, deploys, publish};

/// Which tenants a step adds.
#[derive(Clone, Debug)]
pub enum Selector {
    /// The first N% of the theme's tenants by the rollout's ranking.
    Percent(u32),
    /// These tenants.
    Tenants(Vec<String>),
    /// The tenants following this channel.
    Channel(String),
}

impl Selector {
    pub fn describe(&self) -> String {
        match self {
            Selector::Percent(p) => format!("{p}%"),
            Selector::Tenants(t) => format!("tenants {}", t.join(",")),
            Selector::Channel(c) => format!("channel {c}"),
        }
    }
}

/// What a rollout works with: the data root, the themes, the bundle folder and where deploys go.
pub struct Ctx<'a> {
    pub inst: &'a Installation,
    pub themes: &'a Themes,
    pub out: &'a Path,
    pub target: &'a dyn Store,
    /// Told of each tenant as it is checked, moved or restored: (tenant, what).
    pub progress: &'a (dyn Fn(&str, &str) + Sync),
}

fn invalid(what: impl Into<String>, message: impl Into<String>) -> t8k_core::Error {
    t8k_core::Error::invalid(what, message)
}

/// Starts the rollout of `theme@version` with its first step.
pub fn start(
    ctx: &Ctx,
    theme: &str,
    version: u32,
    first: Selector,
) -> Result<Rollout, t8k_core::Error> {
    check(&first)?;
    let r = rollout::create(ctx.inst.store(), theme, version)?;
    step(ctx, &r.id, first)
}

/// Takes the next step of a running (or halted) rollout.
pub fn advance(ctx: &Ctx, id: &str, next: Selector) -> Result<Rollout, t8k_core::Error> {
    check(&next)?;
    step(ctx, id, next)
}

fn check(selector: &Selector) -> Result<(), t8k_core::Error> {
    match selector {
        Selector::Percent(p) if !(1..=100).contains(p) => Err(invalid("--percent", "give 1–100")),
        Selector::Tenants(t) if t.is_empty() => Err(invalid("--tenants", "name at least one")),
        Selector::Channel(c) => t8k_core::themes::check_channel(c),
        _ => Ok(()),
    }
}

/// The theme's active tenants and their settings.
fn tenants_of(
    inst: &Installation,
    theme: &str,
) -> Result<BTreeMap<String, TenantConfig>, t8k_core::Error> {
    let mut out = BTreeMap::new();
    for entry in inst.list()?.into_iter().filter(|e| e.active) {
        let id = entry.tenant_id()?;
        let cfg = TenantConfig::load(inst.store(), &id)?;
        if cfg.theme == theme {
            out.insert(id.to_string(), cfg);
        }
    }
    Ok(out)
}

/// The tenants `selector` adds to the rollout.
fn choose(
    r: &Rollout,
    on_theme: &BTreeMap<String, TenantConfig>,
    selector: &Selector,
) -> Result<Vec<String>, t8k_core::Error> {
    let moved: BTreeSet<String> = r.moved.keys().cloned().collect();
    let fresh = |t: &&String| !moved.contains(*t);
    match selector {
        Selector::Percent(p) => {
            if *p <= r.percent {
                return Err(invalid(
                    format!("rollout '{}'", r.id),
                    format!(
                        "it is at {}% already; advance to more (e.g. --percent {})",
                        r.percent,
                        (r.percent * 2).clamp(r.percent + 1, 100)
                    ),
                ));
            }
            let eligible: Vec<String> = on_theme.keys().cloned().collect();
            Ok(rollout::cohort(&r.id, &eligible, &moved, *p))
        }
        Selector::Tenants(list) => {
            for t in list {
                if !on_theme.contains_key(t) {
                    return Err(invalid(
                        format!("tenant '{t}'"),
                        format!(
                            "it is not an active tenant on theme '{}'; `t8k tenant list` shows them",
                            r.theme
                        ),
                    ));
                }
            }
            Ok(list.iter().filter(fresh).cloned().collect())
        }
        Selector::Channel(c) => Ok(on_theme
            .iter()
            .filter(|(_, cfg)| {
                cfg.release_channel == *c || (c == "stable" && cfg.release_channel.is_empty())
            })
            .map(|(t, _)| t)
            .filter(fresh)
            .cloned()
            .collect()),
    }
}

/// One step: choose, check, then halt or move.
fn step(ctx: &Ctx, id: &str, selector: Selector) -> Result<Rollout, t8k_core::Error> {
    let store = ctx.inst.store();
    let r = rollout::begin(store, id, &selector.describe())?;
    let chosen = tenants_of(ctx.inst, &r.theme)
        .and_then(|on_theme| Ok((choose(&r, &on_theme, &selector)?, on_theme)));
    let (cohort, on_theme) = match chosen {
        Ok(chosen) => chosen,
        // A step that cannot be chosen (already at that share, a tenant not on the theme)
        // changes nothing: the lease goes, the rollout stays as it was.
        Err(e) => {
            rollout::end(store, id, |_| {})?;
            return Err(e);
        }
    };
    match take_step(ctx, &r, &selector, &cohort, &on_theme) {
        Ok(done) => Ok(done),
        Err(e) => {
            let cause = format!("the step stopped: {e}");
            rollout::end(store, id, |r| halt(r, None, &cause))?;
            Err(e)
        }
    }
}

fn halt(r: &mut Rollout, tenant: Option<String>, cause: &str) {
    r.state = State::Halted;
    r.halt = Some(Halt {
        tenant,
        cause: cause.to_owned(),
        at: t8k_core::timefmt::now_rfc3339(),
    });
}

fn take_step(
    ctx: &Ctx,
    r: &Rollout,
    selector: &Selector,
    cohort: &[String],
    on_theme: &BTreeMap<String, TenantConfig>,
) -> Result<Rollout, t8k_core::Error> {
    let store = ctx.inst.store();
    let started = t8k_core::timefmt::now_rfc3339();
    let reports = try_version(ctx, r, cohort)?;
    let mut step = Step {
        target: selector.describe(),
        started,
        finished: None,
        tenants: cohort.to_vec(),
        outcome: "halted".into(),
        builder: crate::fingerprint::BUILDER_VERSION.into(),
        reports,
    };
    if let Some((tenant, cause)) = step
        .reports
        .iter()
        .find_map(|(t, report)| Some((t.clone(), report.gate()?)))
    {
        step.finished = Some(t8k_core::timefmt::now_rfc3339());
        return rollout::end(store, &r.id, |r| {
            halt(r, Some(tenant.clone()), &cause);
            r.steps.push(step.clone());
        });
    }
    let number = r.steps.len();
    move_cohort(ctx, r, cohort, number)?;
    step.outcome = "passed".into();
    step.finished = Some(t8k_core::timefmt::now_rfc3339());
    let everyone = on_theme
        .keys()
        .all(|t| cohort.contains(t) || r.moved.contains_key(t));
    let complete = matches!(selector, Selector::Percent(100)) || (everyone && !on_theme.is_empty());
    if complete {
        for channel in t8k_core::themes::CHANNELS {
            t8k_core::themes::set_channel(store, &r.theme, channel, r.version)?;
        }
    } else if let Selector::Channel(c) = selector {
        t8k_core::themes::set_channel(store, &r.theme, c, r.version)?;
    }
    rollout::end(store, &r.id, |r| {
        r.steps.push(step.clone());
        r.halt = None;
        r.state = if complete {
            State::Completed
        } else {
            State::Running
        };
        if let Selector::Percent(p) = selector {
            r.percent = *p;
        }
        if complete {
            r.percent = 100;
        }
    })
}

/// Builds each cohort tenant's current bundle (brought up to date) and its bundle with the
/// version (in a staging folder), and compares them.
fn try_version(
    ctx: &Ctx,
    r: &Rollout,
    cohort: &[String],
) -> Result<BTreeMap<String, Report>, t8k_core::Error> {
    let staging = tempfile::tempdir().map_err(|e| t8k_core::Error::Io {
        path: std::env::temp_dir().display().to_string(),
        source: e,
    })?;
    let trial = Mode {
        changed_only: false,
        full: true,
        theme: Some(r.version),
    };
    Ok(cohort
        .par_iter()
        .map(|tenant| {
            (ctx.progress)(tenant, "checking");
            let report = match TenantId::trusted(tenant) {
                Err(e) => failed(format!("{e}")),
                Ok(id) => {
                    let now = build_tenant(ctx.inst, ctx.themes, &id, ctx.out, Mode::CHANGED, None);
                    let next = build_tenant(ctx.inst, ctx.themes, &id, staging.path(), trial, None);
                    match (now.status, next.status) {
                        (Status::Failed, _) => failed(format!(
                            "its current version does not build either: {}",
                            now.error.unwrap_or_default()
                        )),
                        (_, Status::Failed) => failed(next.error.unwrap_or_default()),
                        _ => compare::compare(&ctx.out.join(tenant), &staging.path().join(tenant)),
                    }
                }
            };
            (tenant.clone(), report)
        })
        .collect())
}

fn failed(error: String) -> Report {
    Report {
        error: Some(error),
        ..Report::default()
    }
}

/// Moves the cohort: records what each tenant had, pins it, builds it and publishes it.
fn move_cohort(
    ctx: &Ctx,
    r: &Rollout,
    cohort: &[String],
    number: usize,
) -> Result<(), t8k_core::Error> {
    let store = ctx.inst.store();
    let mut ids = vec![];
    for tenant in cohort {
        let id = TenantId::trusted(tenant)?;
        let cfg = TenantConfig::load(store, &id)?;
        let live = t8k_core::routes::read_live(ctx.target, &SiteId::Tenant(id.clone()))?;
        let moved = Moved {
            previous_version: cfg.theme_version,
            previous_deploy: live.map(|l| l.deploy),
            deploy: None,
            step: number,
        };
        // Recorded before anything changes, so an abort after a crash knows what to restore.
        rollout::update(store, &r.id, |doc| {
            if doc.moved.contains_key(tenant) {
                return Ok(None);
            }
            doc.moved.insert(tenant.clone(), moved.clone());
            Ok(Some(()))
        })?;
        pin(store, &id, Some(r.version))?;
        ids.push(id);
    }
    for id in &ids {
        (ctx.progress)(id.as_str(), "building");
        let built = build_tenant(ctx.inst, ctx.themes, id, ctx.out, Mode::CHANGED, None);
        if let Some(e) = built.error {
            return Err(invalid(
                format!("tenant '{id}'"),
                format!("it passed its check but then failed to build: {e}"),
            ));
        }
    }
    let req = publish::PublishRequest {
        tenants: cohort.to_vec(),
        shard: None,
        changed_only: true,
        concurrency: 16,
        bundles: ctx.out.to_owned(),
        include_main: false,
        routing: publish::Routing::Published,
    };
    let progress = |d: &publish::TenantPublish| (ctx.progress)(&d.tenant, "published");
    let summary = publish::publish(ctx.inst, ctx.target, &req, &progress)?;
    if let Some(f) = summary.details.iter().find(|d| d.error.is_some()) {
        return Err(invalid(
            format!("tenant '{}'", f.tenant),
            format!(
                "it could not be published: {}",
                f.error.clone().unwrap_or_default()
            ),
        ));
    }
    for id in &ids {
        let live = t8k_core::routes::read_live(ctx.target, &SiteId::Tenant(id.clone()))?;
        rollout::update(store, &r.id, |doc| {
            let m = doc.moved.get_mut(id.as_str());
            match (m, &live) {
                (Some(m), Some(l)) => {
                    m.deploy = Some(l.deploy.clone());
                    Ok(Some(()))
                }
                _ => Ok(None),
            }
        })?;
    }
    Ok(())
}

/// Sets (or clears) a tenant's `THEME_VERSION`.
pub fn pin(store: &dyn Store, id: &TenantId, version: Option<u32>) -> Result<(), t8k_core::Error> {
    TenantConfig::update(store, id, |cfg| {
        if cfg.theme_version == version {
            return Ok(None);
        }
        cfg.theme_version = version;
        Ok(Some(()))
    })?;
    Ok(())
}

/// Puts every tenant the rollout moved back on its previous version, with its previous deploy
/// live (the rollback `t8k rollback` does). A tenant that fails is named and the rollout stays
/// halted; running `abort` again finishes it.
pub fn abort(ctx: &Ctx, id: &str) -> Result<Rollout, t8k_core::Error> {
    let store = ctx.inst.store();
    let r = rollout::begin(store, id, "abort")?;
    let mut problems = vec![];
    for (tenant, moved) in &r.moved {
        (ctx.progress)(tenant, "restoring");
        if let Err(e) = restore(ctx, tenant, moved) {
            problems.push(format!("{tenant}: {e}"));
        }
    }
    if !r.moved.is_empty() {
        crate::publish::write_routes(ctx.target, &ctx.inst.host_map()?)?;
    }
    let step = Step {
        target: "abort".into(),
        started: t8k_core::timefmt::now_rfc3339(),
        finished: Some(t8k_core::timefmt::now_rfc3339()),
        tenants: r.moved.keys().cloned().collect(),
        outcome: if problems.is_empty() {
            "passed"
        } else {
            "halted"
        }
        .into(),
        builder: crate::fingerprint::BUILDER_VERSION.into(),
        reports: BTreeMap::new(),
    };
    rollout::end(store, id, |r| {
        r.steps.push(step.clone());
        if problems.is_empty() {
            r.state = State::Aborted;
        } else {
            halt(
                r,
                None,
                &format!("abort incomplete ({}); run it again", problems.join("; ")),
            );
        }
    })
}

fn restore(ctx: &Ctx, tenant: &str, moved: &Moved) -> Result<(), t8k_core::Error> {
    let id = TenantId::trusted(tenant)?;
    match ctx.inst.entry(tenant) {
        Ok(_) => pin(ctx.inst.store(), &id, moved.previous_version)?,
        Err(t8k_core::Error::NoSuchTenant(_)) => return Ok(()), // deleted since
        Err(e) => return Err(e),
    }
    // The local bundle goes back too: a `publish --changed` must not send the version's bytes.
    let built = build_tenant(ctx.inst, ctx.themes, &id, ctx.out, Mode::CHANGED, None);
    if let Some(e) = built.error {
        return Err(invalid(
            format!("tenant '{tenant}'"),
            format!("its previous version does not build: {e}"),
        ));
    }
    if let Some(deploy) = &moved.previous_deploy {
        deploys::rollback(ctx.target, &SiteId::Tenant(id), Some(deploy))?;
    }
    Ok(())
}

/// Halts a rollout by hand (and frees a step whose process died).
pub fn halt_by_hand(store: &dyn Store, id: &str, why: &str) -> Result<Rollout, t8k_core::Error> {
    let done = rollout::update(store, id, |r| {
        if r.state.finished() {
            return Err(invalid(
                format!("rollout '{id}'"),
                format!(
                    "it is {}; there is nothing to halt",
                    rollout::state_name(r.state)
                ),
            ));
        }
        r.advancing = None;
        halt(r, None, why);
        Ok(Some(r.clone()))
    })?;
    Ok(done.expect("halting always writes"))
}
