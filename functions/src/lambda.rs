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

/// Behind CloudFront, API Gateway receives its own name as `Host` (it routes by it), and
/// the site's host comes as `X-Forwarded-Host`, which CloudFront's viewer-request function
/// sets from the visitor's `Host` (`t8k edge cloudfront`). It becomes the request's `Host`,
/// from which the tenant is resolved as everywhere else. A caller who reaches the API
/// directly and sets it gains nothing it could not get by sending that `Host` to CloudFront:
/// sessions are still checked against the tenant.
async fn forwarded_host(mut req: axum::extract::Request) -> axum::extract::Request {
    let Some(site) = req.headers().get("x-forwarded-host").cloned() else {
        return req;
    };
    // lambda_http puts API Gateway's name in the URI too: it must agree with Host.
    let mut parts = req.uri().clone().into_parts();
    if parts.authority.is_some() {
        parts.authority = site.to_str().ok().and_then(|s| s.parse().ok());
        if let Ok(uri) = axum::http::Uri::from_parts(parts) {
            *req.uri_mut() = uri;
        }
    }
    req.headers_mut().insert(axum::http::header::HOST, site);
    req
}

/// Serves `f` until the runtime stops the process.
pub async fn run(f: Function) -> Result<(), Error> {
    let env = Env::from_process()?;
    let filter = env.log.clone().unwrap_or_else(|| "info".into());
    crate::trace::init(&filter, crate::trace::LogFormat::Json)?;
    let state = Arc::new(AppState::new(installation(env).await?)?);
    let app = function_app(f, state).layer(axum::middleware::map_request(forwarded_host));
    lambda_http::run(app).await
}
