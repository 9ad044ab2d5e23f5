//! One module per subcommand; `run` dispatches.

mod analytics;
mod backup;
mod build;
mod certs;
mod config;
mod content;
mod demo;
mod deploys;
mod domain;
mod edge;
mod init;
mod install;
mod notice;
mod publish;
mod report;
mod rollout;
mod serve;
mod shell;
pub(crate) mod tenant;
mod theme;
mod usage;
mod user;
mod worker;

use std::process::ExitCode;

use anyhow::Result;
use t8k_core::lifecycle::Installation;
use t8k_core::settings::Env;

use crate::UsageError;
use crate::cli::{Cli, Command};

/// Turns `--root` into an installation handle. A bucket root must prove it honours
/// conditional writes before anything is read or written.
pub fn open(root: &str, endpoint: Option<&str>) -> Result<Installation> {
    if root.contains("://") && !root.starts_with("s3://") {
        return Err(UsageError(format!(
            "--root {root}: a data root is a local directory (./t8k-data) or a bucket (s3://bucket/prefix)"
        ))
        .into());
    }
    let mut env = Env::from_process()?;
    if let Some(url) = endpoint {
        env.s3_endpoint = Some(url.to_owned());
    }
    let store = t8k_core::store::open(root, &env, true)?;
    Ok(Installation::new(store, env))
}

pub fn run(cli: Cli) -> Result<ExitCode> {
    let json = cli.json;
    match cli.command {
        Command::Init(args) => {
            init::run(&open(&cli.root, cli.endpoint_url.as_deref())?, args, json)
        }
        Command::Config(args) => config::run(
            &open(&cli.root, cli.endpoint_url.as_deref())?,
            &cli.root,
            args.cmd,
            json,
        ),
        Command::Tenant(cmd) => {
            tenant::run(&open(&cli.root, cli.endpoint_url.as_deref())?, cmd, json)
        }
        Command::Domain(cmd) => {
            domain::run(&open(&cli.root, cli.endpoint_url.as_deref())?, cmd, json)
        }
        Command::Edge(cmd) => edge::run(&open(&cli.root, cli.endpoint_url.as_deref())?, cmd, json),
        Command::Certs(cmd) => {
            certs::run(&open(&cli.root, cli.endpoint_url.as_deref())?, cmd, json)
        }
        Command::Registry(crate::cli::RegistryCmd::Compact) => {
            domain::compact(&open(&cli.root, cli.endpoint_url.as_deref())?, json)
        }
        Command::Content(cmd) => {
            content::run(&open(&cli.root, cli.endpoint_url.as_deref())?, cmd, json)
        }
        Command::User(cmd) => user::run(&open(&cli.root, cli.endpoint_url.as_deref())?, cmd, json),
        Command::Build(args) => build::run(
            &open(&cli.root, cli.endpoint_url.as_deref())?,
            &cli.root,
            args,
            json,
        ),
        Command::Serve(args) => serve::run(
            &open(&cli.root, cli.endpoint_url.as_deref())?,
            &cli.root,
            args,
            json,
        ),
        Command::Worker(args) => worker::run(
            &open(&cli.root, cli.endpoint_url.as_deref())?,
            &cli.root,
            args,
            json,
        ),
        Command::Publish(args) => {
            publish::run(&open(&cli.root, cli.endpoint_url.as_deref())?, args, json)
        }
        Command::Theme(cmd) => {
            theme::run(&open(&cli.root, cli.endpoint_url.as_deref())?, cmd, json)
        }
        Command::Rollout(cmd) => rollout::run(
            &open(&cli.root, cli.endpoint_url.as_deref())?,
            &cli.root,
            cmd,
            json,
        ),
        Command::Notice(cmd) => {
            notice::run(&open(&cli.root, cli.endpoint_url.as_deref())?, cmd, json)
        }
        Command::Report { html, limit, after } => report::run(
            &open(&cli.root, cli.endpoint_url.as_deref())?,
            html,
            &report::Page { limit, after },
            json,
        ),
        Command::Analytics(cmd) => {
            analytics::run(&open(&cli.root, cli.endpoint_url.as_deref())?, cmd, json)
        }
        Command::Usage(cmd) => {
            usage::run(&open(&cli.root, cli.endpoint_url.as_deref())?, cmd, json)
        }
        Command::Deploys { tenant, to } => deploys::list(
            &open(&cli.root, cli.endpoint_url.as_deref())?,
            &tenant,
            &to,
            json,
        ),
        Command::Rollback { tenant, deploy, to } => deploys::rollback(
            &open(&cli.root, cli.endpoint_url.as_deref())?,
            &tenant,
            deploy.as_deref(),
            &to,
            json,
        ),
        Command::Gc { keep, grace, to } => deploys::gc(
            &open(&cli.root, cli.endpoint_url.as_deref())?,
            keep,
            &grace,
            &to,
            json,
        ),
        Command::Backup(args) => {
            backup::run(&open(&cli.root, cli.endpoint_url.as_deref())?, args, json)
        }
        Command::Restore(args) => {
            backup::restore(&open(&cli.root, cli.endpoint_url.as_deref())?, args, json)
        }
        Command::Install(args) => install::run(&cli.root, args, json),
        Command::Deploy(crate::cli::DeployCmd::Aws(args)) => crate::deploy::aws::run(args, json),
        Command::Completions { shell } => shell::completions(shell),
        Command::Man { out } => shell::man(out.as_deref()),
        Command::Demo(args) => demo::run(
            &open(&cli.root, cli.endpoint_url.as_deref())?,
            &cli.root,
            args,
            json,
        ),
    }
    .map(|()| ExitCode::SUCCESS)
    .or_else(|e| match e.downcast_ref::<user::WrongPassword>() {
        Some(_) => Ok(ExitCode::FAILURE),
        None => Err(e),
    })
}
