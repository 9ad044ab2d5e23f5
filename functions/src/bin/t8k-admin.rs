//! The `admin` function as an AWS Lambda binary (see `t8k_functions::lambda`).

#[tokio::main]
async fn main() -> Result<(), t8k_functions::lambda::Error> {
    t8k_functions::lambda::run(t8k_functions::router::Function::Admin).await
}
