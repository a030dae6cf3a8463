//! SAM / CloudFormation templates in, the app model out. Pure: files in, model out; no network,
//! no processes, no environment.

pub mod config;
pub mod diagnostic;
pub mod eval;
pub mod load;
pub mod model;
pub mod node;
pub mod parameters;
pub mod policies;
pub mod render;
pub mod yaml;

pub use diagnostic::{Diagnostic, Severity};
pub use load::{LoadOptions, find_template, load};
pub use model::App;
