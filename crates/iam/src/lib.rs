//! IAM for Stratus: who is calling (SigV4 verification against known credentials) and may they
//! (the policy language and AWS's evaluation logic).
//!
//! Authentication and authorization are kept apart: [`sigv4`] and [`credentials`] turn a request
//! into a [`credentials::Principal`]; [`evaluate`] decides an action on a resource for it.
//! No I/O and no async: requests and policies in, decisions out.

pub mod credentials;
pub mod evaluate;
pub mod policy;
pub mod report;
pub mod secret;
pub mod sigv4;

pub use credentials::{Credentials, Principal};
pub use evaluate::{Decision, Request};
pub use policy::Policy;
pub use secret::Secret;
