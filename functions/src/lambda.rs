//! Running one function under the AWS Lambda runtime API (lambda_http; API Gateway HTTP APIs
//! and Function URLs, payload format 2.0). Each binary in `src/bin/` is this with its
//! [`Function`]. Configuration comes from the environment: `T8K_ROOT` (the data root, usually
//! `s3://bucket/prefix`), the standard `AWS_*` variables (and `AWS_ENDPOINT_URL` for MinIO),
//! and the functions' own (`T8K_SMTP_PASSWORD`, rate limits). Tenant databases are cached under
//! `$T8K_CACHE`, else `/tmp/.cache/t8k` (Lambda sets no `HOME`; `/tmp` is its writable disk).

use std::sync::Arc;

use t8k_core::lifecycle::Installation;
use t8k_core::settings::Env;

use crate::router::{Function, function_app};
use crate::state::AppState;

pub type Error = lambda_http::Error;

/// Opens the data root named by `T8K_ROOT`. The conditional-write probe is skipped: it costs
/// several requests per cold start, and `t8k` runs it whenever the operator touches the root.
pub(crate) async fn installation(env: Env) -> Result<Installation, Error> {
    let root = env.root.clone().ok_or(
        "T8K_ROOT is not set: give the function its data root, e.g. T8K_ROOT=s3://bucket/prefix",
    )?;
    let store = t8k_core::store::open_async(&root, &env, false).await?;
    Ok(Installation::new(store, env))
}

/// Serves `f` until the runtime stops the process.
pub async fn run(f: Function) -> Result<(), Error> {
    let env = Env::from_process()?;
    let filter = env.log.clone().unwrap_or_else(|| "info".into());
    crate::trace::init(&filter, crate::trace::LogFormat::Json)?;
    let state = Arc::new(AppState::new(installation(env).await?)?);
    lambda_http::run(function_app(f, state)).await
}
