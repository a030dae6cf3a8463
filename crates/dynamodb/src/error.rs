//! The engine's errors, each knowing which AWS error it is; the wire layer adds the `__type`.

use std::fmt;

use crate::value::Item;

/// The message of `ItemCollectionSizeLimitExceededException`, and of the cancellation reason
/// `ItemCollectionSizeLimitExceeded`, as the API reference gives them.
pub const ITEM_COLLECTION_SIZE_EXCEEDED: &str = "Collection size exceeded.";

/// A failed DynamoDB operation.
#[derive(Clone, Debug, PartialEq)]
pub enum Error {
    /// `ValidationException`: the request is invalid; the message is AWS's.
    Validation(String),
    /// `ResourceNotFoundException`.
    ResourceNotFound(String),
    /// `ResourceInUseException`.
    ResourceInUse(String),
    /// `ConditionalCheckFailedException`, with the item when ReturnValuesOnConditionCheckFailure
    /// asked for it.
    ConditionalCheckFailed { item: Option<Item> },
    /// `LimitExceededException`.
    LimitExceeded(String),
    /// `DuplicateItemException`: a PartiQL INSERT of a key that exists.
    DuplicateItem,
    /// `ExpiredIteratorException` (DynamoDB Streams).
    ExpiredIterator(String),
    /// `TrimmedDataAccessException` (DynamoDB Streams).
    TrimmedDataAccess(String),
    /// `TransactionCanceledException`, with one reason per action, in order.
    TransactionCanceled { reasons: Vec<CancellationReason> },
    /// `IdempotentParameterMismatchException`: a ClientRequestToken reused for another request.
    IdempotentParameterMismatch(String),
    /// `TableNotFoundException` (the backup operations' own "not found").
    TableNotFound(String),
    /// `ItemCollectionSizeLimitExceededException`: a write would grow an item collection (the
    /// items of one partition of a table with local secondary indexes, and their entries in
    /// those indexes) past 10 GB.
    ItemCollectionSizeLimitExceeded,
    /// `InternalServerError`: a storage failure. The detail is logged, never sent.
    Internal(String),
}

/// Why one action of a cancelled transaction failed (`Code` "None" for the ones that did not).
#[derive(Debug, Clone, PartialEq)]
pub struct CancellationReason {
    pub code: String,
    pub message: Option<String>,
    /// The item as it was, when ReturnValuesOnConditionCheckFailure asked for it.
    pub item: Option<Item>,
}

impl Error {
    pub fn validation(message: impl Into<String>) -> Error {
        Error::Validation(message.into())
    }

    /// "Requested resource not found", as item operations say it.
    pub fn table_not_found() -> Error {
        Error::ResourceNotFound("Requested resource not found".to_string())
    }

    /// "Requested resource not found: Table: NAME not found", as table operations say it.
    pub fn named_table_not_found(name: &str) -> Error {
        Error::ResourceNotFound(format!("Requested resource not found: Table: {name} not found"))
    }

    /// AWS's error name, the part of `__type` after `#`.
    pub fn aws_code(&self) -> &'static str {
        match self {
            Error::Validation(_) => "ValidationException",
            Error::ResourceNotFound(_) => "ResourceNotFoundException",
            Error::ResourceInUse(_) => "ResourceInUseException",
            Error::ConditionalCheckFailed { .. } => "ConditionalCheckFailedException",
            Error::LimitExceeded(_) => "LimitExceededException",
            Error::DuplicateItem => "DuplicateItemException",
            Error::ExpiredIterator(_) => "ExpiredIteratorException",
            Error::TrimmedDataAccess(_) => "TrimmedDataAccessException",
            Error::TransactionCanceled { .. } => "TransactionCanceledException",
            Error::IdempotentParameterMismatch(_) => "IdempotentParameterMismatchException",
            Error::TableNotFound(_) => "TableNotFoundException",
            Error::ItemCollectionSizeLimitExceeded => "ItemCollectionSizeLimitExceededException",
            Error::Internal(_) => "InternalServerError",
        }
    }

    /// The message sent to the client.
    pub fn message(&self) -> &str {
        match self {
            Error::Validation(message)
            | Error::ResourceNotFound(message)
            | Error::ResourceInUse(message)
            | Error::LimitExceeded(message)
            | Error::ExpiredIterator(message)
            | Error::TrimmedDataAccess(message)
            | Error::IdempotentParameterMismatch(message)
            | Error::TableNotFound(message) => message,
            Error::TransactionCanceled { .. } => {
                "Transaction cancelled, please refer cancellation reasons for specific reasons"
            }
            Error::ConditionalCheckFailed { .. } => "The conditional request failed",
            Error::DuplicateItem => "Duplicate primary key exists in table",
            Error::ItemCollectionSizeLimitExceeded => ITEM_COLLECTION_SIZE_EXCEEDED,
            Error::Internal(_) => "Internal server error",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.aws_code(), self.message())
    }
}

impl std::error::Error for Error {}

impl From<stratus_storage::StoreError> for Error {
    fn from(error: stratus_storage::StoreError) -> Error {
        Error::Internal(error.to_string())
    }
}

impl From<crate::expr::ExprError> for Error {
    fn from(error: crate::expr::ExprError) -> Error {
        Error::Validation(error.0)
    }
}
