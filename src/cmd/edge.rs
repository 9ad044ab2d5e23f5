//! `t8k edge nginx|caddy|cloudfront`: writes an edge's configuration from the host table, once
//! or, with `--watch`, again within a second of each change (then runs `--reload`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use t8k_core::lifecycle::Installation;
use t8k_core::store::Store;

use crate::cli::{EdgeArgs, EdgeCmd};
use crate::edge::{self, Output, RedirectCache, Table, caddy, cloudfront, nginx};
use crate::{UsageError, output};

pub fn run(inst: &Installation, cmd: EdgeCmd, json: bool) -> Result<()> {
    let common = match &cmd {
        EdgeCmd::Nginx { common, .. }
        | EdgeCmd::Caddy { common, .. }
        | EdgeCmd::Cloudfront { common, .. } => common,
    };
    std::fs::create_dir_all(&common.out)
        .with_context(|| format!("cannot create --out {}", common.out.display()))?;
    let out = std::fs::canonicalize(&common.out)?;
    let opened;
    let bundles: &dyn Store = match &common.from {
        Some(spec) => {
            opened = t8k_core::store::open(spec, &inst.env, false)?;
            opened.as_ref()
        }
        None => inst.store(),
    };
    let render = |table: &Table| render(&cmd, table, &out, bundles);
    let mut cache = RedirectCache::default();
    let table = Table::read(inst, bundles, &mut cache)?;
    let files = render(&table)?;
    let changed = edge::write(&out, &files)?;
    if let EdgeCmd::Cloudfront {
        kvs_id, sync: true, ..
    } = &cmd
    {
        return sync_store(inst, &table, kvs_id, json);
    }
    report(&table, &out, &files, json);
    if common.watch {
        // The server may be running the configuration this run just replaced.
        if let (true, Some(cmd)) = (changed, &common.reload) {
            reload(cmd);
        }
        watch(inst, common, bundles, &out, &mut cache, render)?;
    }
    Ok(())
}

fn render(cmd: &EdgeCmd, table: &Table, out: &Path, bundles: &dyn Store) -> Result<Vec<Output>> {
    let out_s = path_text(out)?;
    Ok(match cmd {
        EdgeCmd::Nginx {
            common,
            listen,
            tls_listen,
            origin,
            access_log,
            throttle_rate,
        } => {
            let sites = match origin {
                Some(_) => None,
                None => Some(sites_folder(bundles)?),
            };
            nginx::render(
                table,
                &nginx::Options {
                    sites: sites.as_deref(),
                    origin: origin.as_deref(),
                    functions: &common.functions,
                    listen,
                    tls_listen,
                    out: &out_s,
                    access_log,
                    throttle_rate,
                },
            )
        }
        EdgeCmd::Caddy {
            common,
            http_port,
            https_port,
            acme_ca,
            acme_ca_root,
            admin,
        } => {
            let root = acme_ca_root.as_deref().map(path_text).transpose()?;
            caddy::render(
                table,
                &caddy::Options {
                    sites: &sites_folder(bundles)?,
                    functions: &common.functions,
                    http_port: *http_port,
                    https_port: *https_port,
                    acme_ca: acme_ca.as_deref(),
                    acme_ca_root: root.as_deref(),
                    admin,
                    out: &out_s,
                },
            )
        }
        EdgeCmd::Cloudfront { kvs_id, .. } => cloudfront::render(table, kvs_id),
    })
}

/// `--sync`: the KeyValueStore gets the rows that changed.
fn sync_store(inst: &Installation, table: &Table, arn: &str, json: bool) -> Result<()> {
    if !arn.starts_with("arn:") {
        return Err(UsageError(format!(
            "--sync needs the KeyValueStore's ARN as --kvs-id (got {arn:?}); the stack's RoutesStore output"
        ))
        .into());
    }
    let done = edge::kvs_sync::sync(&inst.env, arn, cloudfront::rows(table))?;
    output::emit(json, &done, || {
        println!(
            "KeyValueStore {arn}: {} put, {} deleted, {} unchanged.",
            done.put, done.deleted, done.unchanged
        );
    });
    Ok(())
}

/// The folder of a local bundle store, which holds `sites/` (a web server reads it directly).
fn sites_folder(bundles: &dyn Store) -> Result<String> {
    let Some(routes) = bundles.local_path(&t8k_core::routes::routes_key()) else {
        return Err(UsageError(format!(
            "the bundle store {} is a bucket: give nginx --origin URL (its path-style address) to proxy to it, or serve a local copy",
            bundles.describe()
        ))
        .into());
    };
    let dir = routes.parent().unwrap_or(Path::new("."));
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    path_text(&dir)
}

fn path_text(p: &Path) -> Result<String> {
    match p.to_str() {
        Some(s) if !s.contains(['"', '\n', '{', '}', ';']) => Ok(s.to_owned()),
        _ => bail!(
            "{} cannot be written into a server configuration; use a plain path",
            p.display()
        ),
    }
}

fn report(table: &Table, out: &Path, files: &[Output], json: bool) {
    let names: Vec<PathBuf> = files.iter().map(|f| out.join(&f.rel)).collect();
    let value = serde_json::json!({
        "out": out,
        "hosts": table.routes.len(),
        "certificates": table.certs.len(),
        "files": names,
    });
    output::emit(json, &value, || {
        println!(
            "Wrote {} files to {} ({} hosts, {} certificates).",
            files.len(),
            out.display(),
            table.routes.len(),
            table.certs.len()
        );
    });
}

/// Regenerates once a second when the routes or certificates changed; runs `--reload` after
/// each change. Runs until stopped.
fn watch(
    inst: &Installation,
    common: &EdgeArgs,
    bundles: &dyn Store,
    out: &Path,
    cache: &mut RedirectCache,
    render: impl Fn(&Table) -> Result<Vec<Output>>,
) -> Result<()> {
    loop {
        std::thread::sleep(Duration::from_secs(1));
        let files = match Table::read(inst, bundles, cache).and_then(|t| render(&t)) {
            Ok(f) => f,
            Err(e) => {
                tracing::error!(
                    error = format!("{e:#}"),
                    "cannot read the routes; kept the last configuration"
                );
                continue;
            }
        };
        if edge::write(out, &files)? {
            tracing::info!(out = %out.display(), "edge configuration regenerated");
            if let Some(cmd) = &common.reload {
                reload(cmd);
            }
        }
    }
}

fn reload(cmd: &str) {
    match std::process::Command::new("sh").args(["-c", cmd]).status() {
        Ok(s) if s.success() => {}
        Ok(s) => tracing::error!(command = cmd, status = %s, "the reload command failed"),
        Err(e) => tracing::error!(command = cmd, error = %e, "cannot run the reload command"),
    }
}
