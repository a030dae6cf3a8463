//! The DynamoDB engine: typed operations in, typed results out, over a [`stratus_storage::Store`].
//! It knows nothing of HTTP, JSON or IAM.

pub mod codec;
pub mod engine;
pub mod error;
pub mod expr;
pub mod index;
pub mod key;
pub mod number;
pub mod partiql;
pub mod statements;
pub mod stream;
pub mod table;
pub mod value;

pub use engine::Engine;
pub use error::Error;
