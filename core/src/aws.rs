//! What t8k's AWS clients (S3, Parameter Store, CloudFront's KeyValueStore) share: the SDK's
//! configuration from t8k's settings, and a way to run a request from code that is not async.

use std::future::Future;

use aws_config::meta::region::RegionProviderChain;
use aws_config::{Region, SdkConfig};

/// The SDK's configuration: credentials and endpoints from the standard AWS variables (or
/// the function's role), `endpoint` when t8k was given one, and `region` (`AWS_REGION`),
/// else the SDK's own chain, else us-east-1 (S3-compatible servers need some region).
pub async fn sdk_config(region: Option<String>, endpoint: Option<String>) -> SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(url) = endpoint {
        loader = loader.endpoint_url(url);
    }
    loader = match region {
        Some(r) => loader.region(Region::new(r)),
        None => loader.region(RegionProviderChain::default_provider().or_else("us-east-1")),
    };
    loader.load().await
}

/// Runs `fut` on a thread and runtime of its own, and waits for it: callable from anywhere,
/// async code included (where `block_on` would panic). For the few requests made outside a
/// store (a parameter at start, a sync), which need no runtime kept alive.
pub fn run_apart<T, F>(fut: F) -> std::io::Result<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let run = move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map(|rt| rt.block_on(fut))
    };
    std::thread::spawn(run)
        .join()
        .map_err(|_| std::io::Error::other("the request's thread stopped"))?
}
