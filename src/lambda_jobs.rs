//! `t8k` as the Lambda function that runs the scheduled jobs on AWS: started by the Lambda
//! runtime (`AWS_LAMBDA_RUNTIME_API` set, no arguments), it takes EventBridge events
//! `{"job": "rollup"}` and runs that job's CLI commands ([`crate::jobs`]) in this process,
//! against `T8K_ROOT`, each as `t8k --root $T8K_ROOT --json COMMAND` would. Only the jobs of
//! the table run: an event cannot name a command.
//!
//! The job's logs go to CloudWatch (standard output and error); a failed command fails the
//! invocation, so Lambda retries it and then sends the event to the dead-letter queue.

use anyhow::{Context, Result, anyhow, bail};
use clap::Parser;
use lambda_http::lambda_runtime::{self, LambdaEvent, service_fn};
use serde_json::{Value, json};

use crate::cli::Cli;
use crate::jobs::{Host, Job, jobs};

/// True when the runtime started this binary as a function (no arguments of its own).
pub fn started_by_lambda() -> bool {
    #[allow(clippy::disallowed_methods)] // which program to be, decided before any configuration
    let runtime = std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some();
    runtime && std::env::args_os().len() == 1
}

/// The job an event names, from the AWS table for `host`.
fn job_named(event: &Value, host: &Host) -> Result<Job> {
    let name = event["job"].as_str().ok_or_else(|| {
        anyhow!("the event names no job: send {{\"job\": NAME}} (an EventBridge schedule's input)")
    })?;
    let all = jobs(host);
    let known: Vec<_> = all.iter().map(|j| j.name).collect();
    all.into_iter()
        .find(|j| j.name == name)
        .ok_or_else(|| anyhow!("no job {name:?}: the jobs are {}", known.join(", ")))
}

/// Runs each command of the job in turn, as the CLI would.
fn run_job(event: &Value) -> Result<Value> {
    let env = t8k_core::settings::Env::from_process()?;
    let root = env
        .root
        .context("T8K_ROOT is not set: give the function its data root")?;
    let logs = env.edge_logs.unwrap_or_default();
    let routes = env.routes_store.unwrap_or_default();
    let host = Host::Aws {
        logs: &logs,
        root: &root,
        routes: &routes,
    };
    let job = job_named(event, &host)?;
    if job.name == "routes" && routes.is_empty() {
        bail!("T8K_ROUTES_STORE is not set: give the jobs function the KeyValueStore's ARN");
    }
    let mut done = vec![];
    for command in &job.commands {
        let mut argv = vec!["t8k", "--root", &root, "--json"];
        argv.extend(command.split_whitespace());
        let cli = Cli::try_parse_from(&argv).map_err(|e| anyhow!("t8k {command}: {e}"))?;
        let code = crate::cmd::run(cli).with_context(|| format!("t8k {command}"))?;
        if code != std::process::ExitCode::SUCCESS {
            bail!("t8k {command} exited with {code:?}");
        }
        done.push(command.clone());
    }
    Ok(json!({"job": job.name, "ran": done}))
}

/// Serves events until the runtime stops the process.
pub fn run() -> Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime
        .block_on(lambda_runtime::run(service_fn(
            |ev: LambdaEvent<Value>| async move {
                let answer = tokio::task::spawn_blocking(move || run_job(&ev.payload)).await?;
                answer.map_err(|e| lambda_runtime::Error::from(format!("{e:#}")))
            },
        )))
        .map_err(|e| anyhow!("{e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_names_a_job_of_the_table_and_nothing_else() {
        let host = Host::Aws {
            logs: "s3://l/cf/",
            root: "s3://d",
            routes: "arn:aws:cloudfront::1:key-value-store/k",
        };
        let rollup = job_named(&json!({"job": "rollup"}), &host).unwrap();
        assert_eq!(rollup.commands, ["analytics rollup"]);
        let usage = job_named(&json!({"job": "usage"}), &host).unwrap();
        assert_eq!(
            usage.commands[0],
            "usage ingest --format cloudfront s3://l/cf/"
        );
        let routes = job_named(&json!({"job": "routes"}), &host).unwrap();
        assert!(
            routes.commands[0].ends_with("--kvs-id arn:aws:cloudfront::1:key-value-store/k --sync")
        );
        let err = job_named(&json!({"job": "tenant delete acme"}), &host).unwrap_err();
        assert!(
            err.to_string().contains("the jobs are rollup, domains"),
            "{err}"
        );
        assert!(job_named(&json!({}), &host).is_err());
        assert!(
            job_named(&json!({"job": "certs"}), &host).is_err(),
            "ACM renews CloudFront's certificates"
        );
    }
}
