//! SAM / CloudFormation templates in, the app model out. Pure: files in, model out; no network,
//! no processes, no environment.

pub mod diagnostic;
pub mod node;
pub mod yaml;
