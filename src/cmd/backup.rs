//! `t8k backup` (init, a snapshot now or when due, list, verify, forget) and `t8k restore`: the
//! command-line face of core's [`t8k_core::backup`].

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use t8k_core::TenantId;
use t8k_core::backup::forget::Policy;
use t8k_core::backup::lock::Kind;
use t8k_core::backup::schedule::{self, Schedule};

use t8k_core::backup::chunks::Known;
use t8k_core::backup::{Repo, Secret};
use t8k_core::lifecycle::Installation;
use t8k_core::quota::format_size;
use t8k_core::registry::BackupSettings;
use t8k_core::tenant_config::TenantConfig;

use crate::UsageError;
use crate::cli::{BackupArgs, BackupCmd, RepoArgs, RestoreArgs};
use crate::output;

/// The passphrase: `--passphrase-file`'s first line, else `T8K_BACKUP_PASSPHRASE`.
fn passphrase(inst: &Installation, args: &RepoArgs) -> Result<Option<Secret>> {
    if let Some(f) = &args.passphrase_file {
        let text = std::fs::read_to_string(f)
            .with_context(|| format!("cannot read the passphrase file {}", f.display()))?;
        let line = text.lines().next().unwrap_or_default();
        if line.is_empty() {
            bail!("{} holds no passphrase on its first line", f.display());
        }
        return Ok(Some(Secret::new(line)));
    }
    Ok(inst.env.backup_passphrase.as_deref().map(Secret::new))
}

fn open_repo(inst: &Installation, args: &RepoArgs) -> Result<Repo> {
    let location = match &args.repo {
        Some(r) => r.clone(),
        None => inst.registry()?.0.backup.map(|b| b.repository).ok_or_else(|| {
            UsageError(
                "no backup repository yet: create one with `t8k backup init --to DIR|s3://bucket/prefix` (or pass --repo)".into(),
            )
        })?,
    };
    let store = t8k_core::store::open(&location, &inst.env, false)?;
    Ok(Repo::open(store, passphrase(inst, args)?.as_ref())?)
}

fn bar(len: Option<u64>, what: &str, json: bool) -> ProgressBar {
    let target = if json {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    };
    let bar = ProgressBar::with_draw_target(len, target);
    let template = format!("{{spinner}} {what} {{pos}}/{{len}} [{{bar:30}}] {{elapsed}} {{msg}}");
    bar.set_style(
        ProgressStyle::with_template(&template)
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar
}

pub fn run(inst: &Installation, args: BackupArgs, json: bool) -> Result<()> {
    match args.cmd {
        Some(BackupCmd::Init {
            to,
            encrypt,
            schedule,
            repo,
        }) => init(inst, &to, encrypt, &schedule, &repo, json),
        Some(BackupCmd::List { tenant, repo }) => list(inst, tenant.as_deref(), &repo, json),
        Some(BackupCmd::Verify { full, repo }) => verify(inst, full, &repo, json),
        Some(BackupCmd::Forget {
            keep_hourly,
            keep_daily,
            keep_weekly,
            keep_monthly,
            prune,
            repo,
        }) => {
            let policy = Policy {
                hourly: keep_hourly,
                daily: keep_daily,
                weekly: keep_weekly,
                monthly: keep_monthly,
            };
            forget(inst, policy, prune, &repo, json)
        }
        None => {
            let ids = if args.due {
                due(inst)?
            } else if args.all {
                all(inst)?
            } else if args.installation && args.tenants.is_empty() {
                vec![]
            } else if args.tenants.is_empty() {
                return Err(UsageError(
                    "name the tenants to back up, or give --all or --due".into(),
                )
                .into());
            } else {
                args.tenants
                    .iter()
                    .map(|t| Ok(inst.entry(t)?.1))
                    .collect::<Result<_>>()?
            };
            if ids.is_empty() && !args.installation {
                // Nothing due: the repository (and its passphrase's key derivation) not needed.
                output::emit(json, &json!({"snapshots": []}), || {
                    println!("Nothing to back up.")
                });
                return Ok(());
            }
            let repo = open_repo(inst, &args.repo)?;
            backup(inst, &repo, ids, args.installation, json)
        }
    }
}

fn init(
    inst: &Installation,
    to: &str,
    encrypt: bool,
    schedule: &str,
    args: &RepoArgs,
    json: bool,
) -> Result<()> {
    Schedule::parse(schedule)?;
    let pass = passphrase(inst, args)?;
    if encrypt && pass.is_none() {
        return Err(UsageError(
            "--encrypt needs a passphrase: --passphrase-file FILE or T8K_BACKUP_PASSPHRASE".into(),
        )
        .into());
    }
    let store = t8k_core::store::open(to, &inst.env, false)?;
    let repo = Repo::init(store, if encrypt { pass.as_ref() } else { None })?;
    inst.set_backup(BackupSettings {
        repository: to.to_owned(),
        schedule: Some(schedule.to_owned()),
    })?;
    output::emit(
        json,
        &json!({"repository": to, "encrypted": repo.config.recipient.is_some(), "schedule": schedule}),
        || {
            println!(
                "Backup repository ready at {to}{}.",
                if encrypt {
                    " (encrypted: keep the passphrase safe, without it nothing can be restored)"
                } else {
                    ""
                }
            );
            println!(
                "Back up with `t8k backup --all`, or every hour from cron with `t8k backup --due`."
            );
        },
    );
    Ok(())
}

fn all(inst: &Installation) -> Result<Vec<TenantId>> {
    let mut ids = vec![];
    inst.each_tenant(|e| {
        ids.push(e.tenant_id()?);
        Ok(())
    })?;
    Ok(ids)
}

/// The tenants whose schedule is due and whose files changed since their last snapshot.
fn due(inst: &Installation) -> Result<Vec<TenantId>> {
    let default = schedule::installation_default(&inst.registry()?.0)?.unwrap_or(Schedule::Daily);
    let now = t8k_core::timefmt::now();
    let mut ids = vec![];
    inst.each_tenant(|e| {
        let id = e.tenant_id()?;
        // A tenant whose schedule or state cannot be read is backed up anyway (its files are
        // copied as they are): its data is what matters, and one damaged tenant must not stop
        // the others' backups. A failure is then recorded like any other.
        let check = TenantConfig::load(inst.store(), &id)
            .and_then(|cfg| schedule::schedule_of(&cfg, default))
            .and_then(|s| schedule::due(inst.store(), &id, s, now));
        if check.as_ref().map_or(true, |d| d.is_ok()) {
            ids.push(id);
        }
        Ok(())
    })?;
    Ok(ids)
}

/// One tenant's snapshot, recorded in its backup status either way.
fn snapshot_one(
    inst: &Installation,
    repo: &Repo,
    id: &TenantId,
    known: &Known,
) -> Result<serde_json::Value> {
    let taken = repo.snapshot(inst, id, known);
    let outcome = taken
        .as_ref()
        .map(|m| (m.id.as_str(), m.time.as_str(), m.fingerprint.as_str()))
        .map_err(|e| e.to_string());
    schedule::record(inst.store(), id, outcome)?;
    Ok(match taken {
        Ok(m) => {
            json!({"tenant": id, "snapshot": m.id, "files": m.files.len(), "size": m.size, "new_bytes": m.new_bytes})
        }
        Err(e) => json!({"tenant": id, "error": e.to_string()}),
    })
}

/// Backs up `ids`, a few tenants at a time (reading, hashing and sealing use a core each),
/// reporting in the order given.
fn backup(
    inst: &Installation,
    repo: &Repo,
    ids: Vec<TenantId>,
    installation: bool,
    json: bool,
) -> Result<()> {
    let _lock = repo.lock(Kind::Backup)?;
    let known = repo.known()?;
    let shared = match installation {
        true => {
            let m = repo.snapshot_installation(inst, &known)?;
            Some(
                json!({"snapshot": m.id, "files": m.files.len(), "size": m.size, "new_bytes": m.new_bytes}),
            )
        }
        false => None,
    };
    let bar = bar(Some(ids.len() as u64), "backing up", json);
    let next = AtomicUsize::new(0);
    let results: Vec<Mutex<Option<Result<serde_json::Value>>>> =
        ids.iter().map(|_| Mutex::new(None)).collect();
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(4);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(id) = ids.get(i) else { break };
                    let row = snapshot_one(inst, repo, id, &known);
                    *results[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(row);
                    bar.inc(1);
                }
            });
        }
    });
    let mut rows = vec![];
    for r in results {
        if let Some(row) = r.into_inner().unwrap_or_else(|e| e.into_inner()) {
            rows.push(row?);
        }
    }
    let failed = rows.iter().filter(|r| r["error"].is_string()).count();
    bar.finish_and_clear();
    output::emit(
        json,
        &json!({"repository": repo.describe(), "snapshots": rows, "installation": shared}),
        || {
            if let Some(m) = &shared {
                println!(
                    "installation: snapshot {} ({} files)",
                    m["snapshot"].as_str().unwrap_or_default(),
                    m["files"]
                );
            } else if rows.is_empty() {
                println!("Nothing to back up.");
            }
            for r in &rows {
                match r["error"].as_str() {
                    Some(e) => {
                        println!("{}: FAILED: {e}", r["tenant"].as_str().unwrap_or_default())
                    }
                    None => println!(
                        "{}: snapshot {} ({} files, {}, {} new)",
                        r["tenant"].as_str().unwrap_or_default(),
                        r["snapshot"].as_str().unwrap_or_default(),
                        r["files"],
                        format_size(r["size"].as_u64().unwrap_or(0)),
                        format_size(r["new_bytes"].as_u64().unwrap_or(0))
                    ),
                }
            }
        },
    );
    let first_error = rows
        .iter()
        .find_map(|r| r["error"].as_str().map(str::to_owned));
    if let Some(e) = first_error {
        bail!(
            "{failed} tenant(s) could not be backed up to {}; no snapshot was recorded for them. The first: {e}",
            repo.describe()
        );
    }
    Ok(())
}

fn list(inst: &Installation, tenant: Option<&str>, args: &RepoArgs, json: bool) -> Result<()> {
    let repo = open_repo(inst, args)?;
    let tenant = tenant.map(TenantId::trusted).transpose()?;
    let mut rows = vec![];
    for s in repo.list(tenant.as_ref())? {
        let m = repo.manifest(&s.tenant, &s.id)?;
        rows.push(json!({"tenant": m.tenant, "snapshot": m.id, "time": m.time, "files": m.files.len(), "size": m.size, "new_bytes": m.new_bytes}));
    }
    output::emit(json, &rows, || {
        let cells = rows
            .iter()
            .map(|r| {
                vec![
                    r["time"].as_str().unwrap_or_default().to_owned(),
                    r["tenant"].as_str().unwrap_or_default().to_owned(),
                    r["snapshot"].as_str().unwrap_or_default().to_owned(),
                    format_size(r["size"].as_u64().unwrap_or(0)),
                    format_size(r["new_bytes"].as_u64().unwrap_or(0)),
                ]
            })
            .collect();
        println!(
            "{}",
            output::table(&["time", "tenant", "snapshot", "size", "new"], cells)
        );
    });
    Ok(())
}

fn verify(inst: &Installation, full: bool, args: &RepoArgs, json: bool) -> Result<()> {
    let repo = open_repo(inst, args)?;
    let bar = bar(None, "checking objects", json);
    let v = repo.verify(full, |n| bar.inc(n))?;
    bar.finish_and_clear();
    output::emit(json, &v, || {
        for d in &v.damage {
            println!(
                "DAMAGED: snapshot {}/{}: object {}: {}",
                d.tenant, d.snapshot, d.object, d.problem
            );
        }
        println!(
            "{} snapshots, {} objects checked{}.",
            v.snapshots,
            v.objects,
            if full { " (read back in full)" } else { "" }
        );
    });
    if let Some(d) = v.damage.first() {
        bail!(
            "{} damaged object reference(s) in {}, the first: snapshot {}/{}, object {}: {}",
            v.damage.len(),
            repo.describe(),
            d.tenant,
            d.snapshot,
            d.object,
            d.problem
        );
    }
    Ok(())
}

fn forget(
    inst: &Installation,
    policy: Policy,
    prune: bool,
    args: &RepoArgs,
    json: bool,
) -> Result<()> {
    let repo = open_repo(inst, args)?;
    let f = repo.forget(policy, prune)?;
    output::emit(json, &f, || {
        println!(
            "Kept {} snapshots, forgot {}.",
            f.kept.len(),
            f.forgotten.len()
        );
        if prune {
            println!(
                "Pruned {} objects ({}).",
                f.pruned_objects,
                format_size(f.pruned_bytes)
            );
        }
    });
    Ok(())
}

pub fn restore(inst: &Installation, args: RestoreArgs, json: bool) -> Result<()> {
    let repo = open_repo(inst, &args.repo)?;
    let name = match (&args.tenant, args.installation) {
        (_, true) => t8k_core::backup::snapshot::INSTALLATION.to_owned(),
        (Some(t), false) => t.clone(),
        (None, false) => {
            return Err(
                UsageError("name the tenant to restore, or give --installation".into()).into(),
            );
        }
    };
    let m = match &args.snapshot {
        Some(id) => repo.manifest(&name, id)?,
        None if args.installation => {
            let newest = repo.list(None)?.into_iter().rfind(|s| s.tenant == name);
            let newest = newest.ok_or_else(|| {
                anyhow::anyhow!(
                    "no installation snapshot; take one with `t8k backup --installation`"
                )
            })?;
            repo.manifest(&newest.tenant, &newest.id)?
        }
        None => {
            let tenant = TenantId::trusted(&name)
                .map_err(|e| UsageError(format!("{name:?} is not a tenant id: {e}")))?;
            repo.pick(&tenant, None, args.at.as_deref())?
        }
    };
    if let Some(dir) = &args.into {
        let n = repo.extract(&m, dir)?;
        output::emit(
            json,
            &json!({"snapshot": m.id, "files": n, "into": dir}),
            || {
                println!(
                    "Wrote the {n} files of snapshot {} under {}.",
                    m.id,
                    dir.display()
                );
            },
        );
        return Ok(());
    }
    let as_id = args
        .as_id
        .as_deref()
        .map(|a| inst.validate_name(a))
        .transpose()?;
    let r = repo.restore(inst, &m, as_id.as_ref())?;
    output::emit(json, &r, || {
        println!(
            "Restored {} from snapshot {} ({} files, {}).",
            r.tenant,
            r.snapshot,
            r.files,
            format_size(r.bytes)
        );
        if let Some(t) = &r.previous_in_trash {
            println!(
                "Its state before the restore is in {t} (`t8k tenant restore {} --from {t}` after deleting it undoes this).",
                r.tenant
            );
        }
        println!(
            "A build is queued: `t8k build --queued && t8k publish --changed` brings the site back live."
        );
    });
    Ok(())
}
