//! One module per subcommand; `run` dispatches.

mod build;
mod config;
mod content;
mod demo;
mod init;
mod serve;
mod tenant;
mod user;

use std::process::ExitCode;

use anyhow::Result;
use t8k_core::LocalStore;
use t8k_core::lifecycle::Installation;
use t8k_core::settings::Env;

use crate::UsageError;
use crate::cli::{Cli, Command};

/// Turns `--root` into an installation handle.
pub fn open(root: &str) -> Result<Installation> {
    if root.contains("://") {
        return Err(UsageError(format!(
            "--root {root}: this version of t8k keeps its data root in a local directory; give a path such as ./t8k-data"
        ))
        .into());
    }
    Ok(Installation::new(
        Box::new(LocalStore::new(root)),
        Env::from_process(),
    ))
}

pub fn run(cli: Cli) -> Result<ExitCode> {
    let json = cli.json;
    match cli.command {
        Command::Init(args) => init::run(&open(&cli.root)?, args, json),
        Command::Config => config::run(&open(&cli.root)?, &cli.root, json),
        Command::Tenant(cmd) => tenant::run(&open(&cli.root)?, cmd, json),
        Command::Content(cmd) => content::run(&open(&cli.root)?, cmd, json),
        Command::User(cmd) => user::run(&open(&cli.root)?, cmd, json),
        Command::Build(args) => build::run(&open(&cli.root)?, &cli.root, args, json),
        Command::Serve(args) => serve::run(&open(&cli.root)?, &cli.root, args, json),
        Command::Demo(args) => demo::run(&open(&cli.root)?, &cli.root, args, json),
    }
    .map(|()| ExitCode::SUCCESS)
    .or_else(|e| match e.downcast_ref::<user::WrongPassword>() {
        Some(_) => Ok(ExitCode::FAILURE),
        None => Err(e),
    })
}
