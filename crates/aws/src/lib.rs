//! The AWS endpoint.
