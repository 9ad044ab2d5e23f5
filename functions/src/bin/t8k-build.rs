//! The Lambda builder: builds and publishes queued tenants of a bucket data root, one per
//! S3 or SQS event record (see `t8k_functions::lambda_build`).

#[tokio::main]
async fn main() -> Result<(), t8k_functions::lambda::Error> {
    t8k_functions::lambda_build::run().await
}
