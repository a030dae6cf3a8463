//! The DynamoDB engine: typed operations in, typed results out, over a [`stratus_storage::Store`].
//! It knows nothing of HTTP, JSON or IAM.

pub mod expr;
pub mod number;
pub mod value;
