//! Deploying the platform to a cloud as one stack (`t8k deploy`).

pub mod aws;
