//! The AWS endpoint: one HTTP port speaking AWS's wire protocols, dispatching to the services.
//! Only the DynamoDB JSON 1.0 protocol is served so far.

pub mod dynamodb;
pub mod server;

pub use server::{AwsEndpoint, serve};
