//! `t8k install --systemd`: writes the units of [`crate::install`] and says how to enable them.

use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::cli::InstallArgs;
use crate::install::{self, Plan};
use crate::{UsageError, output};

/// The data root of a server when `--root` was left at its default (a folder here).
const SERVER_ROOT: &str = "/var/lib/t8k";

pub fn run(root: &str, args: InstallArgs, json: bool) -> Result<()> {
    let root = match root {
        "t8k-data" => PathBuf::from(SERVER_ROOT),
        r if r.starts_with("s3://") => {
            return Err(UsageError(
                "--root: a server's units use a local data root (a bucket root runs on Lambda, see \"Deploy on AWS\")".into(),
            )
            .into());
        }
        r => PathBuf::from(r),
    };
    let bin = match args.bin {
        Some(b) => b,
        None => std::env::current_exe().context("cannot find this t8k binary; pass --bin")?,
    };
    let plan = Plan {
        bin,
        user: args.user,
        root,
        sites: args.sites,
        nginx_dir: args.nginx_dir,
        access_log: args.access_log,
        port: args.port,
        env_file: args.env_file,
        backups: args.backups,
    };
    install::check(&plan).map_err(UsageError)?;
    let files = install::files(&plan);
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create --out {}", args.out.display()))?;
    let changed = crate::edge::write(&args.out, &files)?;
    let names: Vec<&str> = files.iter().map(|f| f.rel.as_str()).collect();
    let steps = install::next_steps(&args.out);
    let report =
        serde_json::json!({"out": args.out, "files": names, "changed": changed, "next": steps});
    output::emit(json, &report, || {
        println!(
            "Wrote {} files into {}{}.",
            names.len(),
            args.out.display(),
            if changed { "" } else { " (all as they were)" }
        );
        println!("To install and start them (as root):\n\n{steps}");
    });
    Ok(())
}
