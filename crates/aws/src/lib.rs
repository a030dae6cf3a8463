//! The AWS endpoint: one HTTP port speaking AWS's wire protocols, dispatching to the services.
//! DynamoDB (JSON 1.0, by `X-Amz-Target`) and Lambda (REST-JSON, by path).

pub mod dynamodb;
pub mod lambda;
pub mod server;

pub use server::{AwsEndpoint, serve};

/// Starts the background work the services need: index builds and drops that a restart
/// interrupted (and, later, TTL sweeps and stream trimming).
pub fn start_background(engine: &std::sync::Arc<stratus_dynamodb::Engine>) {
    let engine = std::sync::Arc::clone(engine);
    tokio::spawn(async move {
        let _ = engine.finish_index_changes().await;
    });
}
