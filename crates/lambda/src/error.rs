//! Errors of the Invoke path that are not the function's own: each knows its AWS error name,
//! HTTP status and message. A function's failure (its exception, a timeout, a crash) is not an
//! `InvokeError`: it is a result with `function_error` set, as Lambda returns it.

use std::fmt;

/// Largest synchronous invocation payload: 6 MB.
pub const REQUEST_BYTES_MAX: usize = 6 * 1024 * 1024;
/// Largest asynchronous (`Event`) invocation payload: 1 MB (AWS raised it from 256 KB in 2025).
pub const ASYNC_REQUEST_BYTES_MAX: usize = 1024 * 1024;
/// Largest response a function may return: 6 MB plus 100 bytes, as the Runtime API accepts.
pub const RESPONSE_BYTES_MAX: usize = 6 * 1024 * 1024 + 100;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InvokeError {
    /// `ResourceNotFoundException` (404): no such function or qualifier.
    FunctionNotFound { arn: String },
    /// `ResourceNotFoundException` (404): an ARN of another region.
    RegionUnreachable { from: String, here: String },
    /// `InvalidParameterValueException` (400).
    InvalidParameterValue(String),
    /// `TooManyRequestsException` (429): the function's reserved concurrency is in use.
    Throttled,
    /// `RequestTooLargeException` (413): the payload is over the limit for the invocation type.
    RequestTooLarge { limit: usize },
    /// `InvalidRequestContentException` (400): the payload is not JSON.
    InvalidRequestContent(String),
    /// `ServiceException` (500): Stratus failed (a spawn error, the service stopping).
    Service(String),
}

impl InvokeError {
    /// AWS's error code (the `x-amzn-ErrorType` header).
    pub fn code(&self) -> &'static str {
        match self {
            InvokeError::FunctionNotFound { .. } | InvokeError::RegionUnreachable { .. } => "ResourceNotFoundException",
            InvokeError::InvalidParameterValue(_) => "InvalidParameterValueException",
            InvokeError::Throttled => "TooManyRequestsException",
            InvokeError::RequestTooLarge { .. } => "RequestTooLargeException",
            InvokeError::InvalidRequestContent(_) => "InvalidRequestContentException",
            InvokeError::Service(_) => "ServiceException",
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            InvokeError::FunctionNotFound { .. } | InvokeError::RegionUnreachable { .. } => 404,
            InvokeError::InvalidParameterValue(_) => 400,
            InvokeError::Throttled => 429,
            InvokeError::RequestTooLarge { .. } => 413,
            InvokeError::InvalidRequestContent(_) => 400,
            InvokeError::Service(_) => 500,
        }
    }

    pub fn message(&self) -> String {
        match self {
            InvokeError::FunctionNotFound { arn } => format!("Function not found: {arn}"),
            InvokeError::RegionUnreachable { from, here } => {
                format!("Functions from '{from}' are not reachable in this region ('{here}')")
            }
            InvokeError::InvalidParameterValue(message) => message.clone(),
            InvokeError::Throttled => "Rate Exceeded.".to_string(),
            InvokeError::RequestTooLarge { limit } => {
                format!("Request must be smaller than {limit} bytes for the InvokeFunction operation")
            }
            InvokeError::InvalidRequestContent(detail) => {
                format!("Could not parse request body into json: {detail}")
            }
            InvokeError::Service(detail) => detail.clone(),
        }
    }

    /// The `Reason` member AWS adds to some errors.
    pub fn reason(&self) -> Option<&'static str> {
        match self {
            InvokeError::Throttled => Some("ReservedFunctionConcurrentInvocationLimitExceeded"),
            _ => None,
        }
    }
}

impl fmt::Display for InvokeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.message())
    }
}

impl std::error::Error for InvokeError {}
