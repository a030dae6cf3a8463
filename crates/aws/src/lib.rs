//! The AWS endpoint: one HTTP port speaking AWS's wire protocols, dispatching to the services.
//! DynamoDB (JSON 1.0, by `X-Amz-Target`) and Lambda (REST-JSON, by path).

pub mod dynamodb;
pub mod lambda;
pub mod server;

pub use server::{AwsEndpoint, serve};
