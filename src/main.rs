//! `t8k`: the command line of a multi-tenant website platform. Arguments are parsed into
//! plain values ([`cli`]), turned into an [`t8k_core::lifecycle::Installation`], and handed to
//! one module per subcommand ([`cmd`]).

mod acme;
mod cli;
mod cmd;
mod deploy;
mod edge;
mod hint;
mod install;
mod jobs;
mod lambda_jobs;
mod output;
mod secrets;
mod serve;

use std::process::ExitCode;

/// mimalloc: the request path allocates small, short-lived values on two threads at once,
/// where glibc's allocator spent a sixth of `t8k serve`'s time (perf, `GET /api/quota`).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;

/// An error in how the command was called (exit code 2), as opposed to a failure (1).
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// mimalloc gives freed memory back to the system only after a delay (10 ms, ten times that
/// for its arenas). Where that matters — after an image decode, before its share of the decode
/// budget is returned — `t8k serve` calls this to give it back at once.
fn give_freed_memory_back() {
    // SAFETY: `mi_collect` may be called from any thread at any time.
    unsafe { libmimalloc_sys::mi_collect(true) }
}

/// `t8k tenant list --json | head` ends quietly when `head` goes, as Unix tools do: Rust
/// ignores SIGPIPE, so the next print would panic instead. The servers keep ignoring it (a
/// client that hangs up must never stop them; their sockets are written without SIGPIPE
/// anyway).
fn stop_quietly_on_a_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: restoring a signal's default action at start-up, before any thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn main() -> ExitCode {
    if lambda_jobs::started_by_lambda() {
        return as_lambda();
    }
    let cli = cli::Cli::parse();
    let format = match cli.log_format {
        cli::LogFormatArg::Human => t8k_functions::trace::LogFormat::Human,
        cli::LogFormatArg::Json => t8k_functions::trace::LogFormat::Json,
    };
    let long_running = matches!(
        cli.command,
        cli::Command::Serve(_) | cli::Command::Demo(_) | cli::Command::Worker(_)
    );
    if !long_running {
        stop_quietly_on_a_closed_pipe();
    }
    let filter = cli
        .log
        .clone()
        .unwrap_or_else(|| if long_running { "info" } else { "warn" }.to_owned());
    if let Err(why) = t8k_functions::trace::init(&filter, format) {
        eprintln!("error: {why}");
        return ExitCode::from(2);
    }
    match cmd::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            if let Some(hint) = hint::for_error(&err) {
                eprintln!("hint: {hint}");
            }
            if err.downcast_ref::<UsageError>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// The scheduled jobs' Lambda function (see [`lambda_jobs`]): JSON logs for CloudWatch.
fn as_lambda() -> ExitCode {
    let json = t8k_functions::trace::LogFormat::Json;
    let started = t8k_core::settings::Env::from_process()
        .map_err(anyhow::Error::from)
        .and_then(|env| {
            let filter = env.log.unwrap_or_else(|| "info".into());
            t8k_functions::trace::init(&filter, json).map_err(anyhow::Error::msg)
        });
    if let Err(err) = started.and_then(|()| lambda_jobs::run()) {
        eprintln!("error: {err:#}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
