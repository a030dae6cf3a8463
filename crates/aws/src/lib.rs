//! The AWS endpoint: one HTTP port speaking AWS's wire protocols, dispatching to the services.
//! DynamoDB (JSON 1.0, by `X-Amz-Target`) and Lambda (REST-JSON, by path).

pub mod dynamodb;
pub mod event_sources;
pub mod iam;
pub mod lambda;
pub mod schedule;
pub mod server;
pub mod sts;

pub use server::{AwsEndpoint, serve};

/// Background work of the DynamoDB engine.
#[derive(Clone, Copy, Debug)]
pub struct BackgroundOptions {
    /// How often expired TTL items are looked for.
    pub ttl_sweep_interval: std::time::Duration,
    /// How long after its expiry an item is deleted (AWS takes up to a few days).
    pub ttl_delay: std::time::Duration,
}

impl Default for BackgroundOptions {
    fn default() -> BackgroundOptions {
        BackgroundOptions {
            ttl_sweep_interval: std::time::Duration::from_secs(1),
            ttl_delay: std::time::Duration::ZERO,
        }
    }
}

/// Starts the background work the services need: index builds and drops that a restart
/// interrupted, the TTL sweep, and the 24-hour trim of stream records.
pub fn start_background(engine: &std::sync::Arc<stratus_dynamodb::Engine>, options: BackgroundOptions) {
    let indexes = std::sync::Arc::clone(engine);
    tokio::spawn(async move {
        let _ = indexes.finish_index_changes().await;
    });
    let sweeper = std::sync::Arc::downgrade(engine);
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(options.ttl_sweep_interval.max(std::time::Duration::from_millis(50)));
        let mut ticks: u64 = 0;
        loop {
            ticker.tick().await;
            ticks += 1;
            let Some(engine) = sweeper.upgrade() else { return };
            let delay_ms = i64::try_from(options.ttl_delay.as_millis()).unwrap_or(i64::MAX);
            if let Err(error) = engine.sweep_expired(delay_ms).await {
                eprintln!("stratus: TTL sweep failed: {error}");
            }
            // Stream records older than 24 hours go about once a minute.
            if ticks.is_multiple_of(60) {
                let _ = engine.trim_streams().await;
            }
        }
    });
}
