//! The `beacon` function as an AWS Lambda binary (see `t8k_functions::lambda`): each accepted
//! event is written to the data root before the 202.

#[tokio::main]
async fn main() -> Result<(), t8k_functions::lambda::Error> {
    t8k_functions::lambda::run(t8k_functions::router::Function::Beacon).await
}
