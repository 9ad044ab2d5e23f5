//! `t8k usage ingest`: the edge's access logs → each tenant's bandwidth per day;
//! `t8k usage check`: each tenant's month against its bandwidth limit;
//! `t8k usage snapshot`: today's usage of every tenant, for growth and capacity trends.

use std::path::Path;

use anyhow::{Context, Result};
use t8k_core::Key;
use t8k_core::edge_logs::{Format, Ingest, Report, Source, files_of};
use t8k_core::lifecycle::Installation;

use crate::cli::{AccessLogArg, UsageCmd};
use crate::{UsageError, output};

pub fn run(inst: &Installation, cmd: UsageCmd, json: bool) -> Result<()> {
    match cmd {
        UsageCmd::Ingest { format, sources } => ingest(inst, format, &sources, json),
        UsageCmd::Check { tenants } => check(inst, tenants, json),
        UsageCmd::Snapshot => snapshot(inst, json),
    }
}

/// Records today's snapshots; a tenant that cannot be measured fails the run (exit 1) after
/// the others are recorded, so cron reports it and the next run completes the day.
fn snapshot(inst: &Installation, json: bool) -> Result<()> {
    let taken = t8k_core::growth::snapshot(inst, t8k_core::timefmt::now())?;
    output::emit(json, &taken, || {
        let i = &taken.installation;
        println!(
            "{}: {} tenants recorded, {} already were. Totals: {} tenants of {}, {} pages, {} stored, {} visitors (30 d).",
            taken.date,
            taken.recorded,
            taken.already,
            i.tenants,
            i.max_tenants,
            i.sum.pages,
            t8k_core::quota::format_size(i.sum.storage_bytes),
            i.sum.visitors_30d
        );
    });
    if !taken.failed.is_empty() {
        anyhow::bail!(
            "{} tenants could not be measured (the installation's day waits for them): {}",
            taken.failed.len(),
            taken.failed.join("; ")
        );
    }
    Ok(())
}

/// Checks `tenants` (all when empty) and prints each standing.
fn check(inst: &Installation, mut tenants: Vec<String>, json: bool) -> Result<()> {
    if tenants.is_empty() {
        inst.each_tenant(|e| {
            tenants.push(e.id);
            Ok(())
        })?;
    }
    let now = t8k_core::timefmt::now();
    let mut out = vec![];
    for id in &tenants {
        let standing = t8k_functions::bandwidth::enforce(inst, id, now)
            .with_context(|| format!("checking {id}'s bandwidth"))?;
        out.push(Checked {
            tenant: id,
            standing,
        });
    }
    output::emit(json, &out, || {
        let rows = out.iter().map(|c| {
            let mut row = crate::cmd::tenant::bandwidth_row(&c.standing);
            row[0] = c.tenant.to_owned();
            row
        });
        println!(
            "{}",
            output::table(&["tenant", "served", "limit", "use"], rows.collect())
        );
    });
    Ok(())
}

#[derive(serde::Serialize)]
struct Checked<'a> {
    tenant: &'a str,
    #[serde(flatten)]
    standing: t8k_core::lifecycle::BandwidthStanding,
}

fn ingest(inst: &Installation, format: AccessLogArg, sources: &[String], json: bool) -> Result<()> {
    let format = match format {
        AccessLogArg::Nginx => Format::Nginx,
        AccessLogArg::Cloudfront => Format::Cloudfront,
        AccessLogArg::S3 => Format::S3,
    };
    let hosts = inst.host_map()?;
    let mut total = Report::default();
    for spec in sources {
        let report = match spec.strip_prefix("s3://") {
            Some(rest) => bucket(inst, &hosts, format, rest)?,
            None => {
                let path = Path::new(spec);
                if !path.exists() {
                    return Err(UsageError(format!("{spec}: no such file or folder")).into());
                }
                let files: Vec<Source> = files_of(path)?.into_iter().map(Source::File).collect();
                let ingest = Ingest {
                    store: inst.store(),
                    logs: None,
                    hosts: &hosts,
                    format,
                };
                ingest
                    .run(&files)
                    .with_context(|| format!("reading {spec}"))?
            }
        };
        merge(&mut total, report);
    }
    // What was just counted may cross a limit.
    let now = t8k_core::timefmt::now();
    for tenant in total.tenants.keys() {
        t8k_functions::bandwidth::enforce(inst, tenant, now)
            .with_context(|| format!("checking {tenant}'s bandwidth limit"))?;
    }
    output::emit(json, &total, || print(&total));
    Ok(())
}

/// The log objects under `bucket/prefix` (`s3://` taken off).
fn bucket(
    inst: &Installation,
    hosts: &t8k_core::hosts::HostMap,
    format: Format,
    rest: &str,
) -> Result<Report> {
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let prefix = Key::new(prefix).map_err(|_| {
        UsageError(format!(
            "s3://{rest}: name the logs' prefix too, e.g. s3://{bucket}/cloudfront/"
        ))
    })?;
    let logs = t8k_core::store::open(&format!("s3://{bucket}"), &inst.env, false)?;
    let mut keys: Vec<Key> = logs.list(&prefix)?.into_iter().map(|e| e.key).collect();
    keys.sort();
    let objects: Vec<Source> = keys.into_iter().map(Source::Object).collect();
    let ingest = Ingest {
        store: inst.store(),
        logs: Some(logs.as_ref()),
        hosts,
        format,
    };
    Ok(ingest.run(&objects)?)
}

fn merge(total: &mut Report, r: Report) {
    total.sources += r.sources;
    total.unchanged += r.unchanged;
    total.lines += r.lines;
    total.counted += r.counted;
    total.malformed += r.malformed;
    total.unattributed += r.unattributed;
    total.left_for_later += r.left_for_later;
    for (t, m) in r.tenants {
        *total.tenants.entry(t).or_default() += m;
    }
    for e in r.examples {
        if total.examples.len() < 5 {
            total.examples.push(e);
        }
    }
}

fn print(r: &Report) {
    println!(
        "{} sources ({} with nothing new): {} lines, {} counted, {} for no tenant, {} malformed",
        r.sources, r.unchanged, r.lines, r.counted, r.unattributed, r.malformed
    );
    for (tenant, m) in &r.tenants {
        println!(
            "  {tenant}: {} in {} requests",
            t8k_core::quota::format_size(m.bytes),
            m.requests
        );
    }
    if r.left_for_later > 0 {
        println!("A line still being written waits for the next run.");
    }
    for e in &r.examples {
        eprintln!("malformed: {e}");
    }
}
