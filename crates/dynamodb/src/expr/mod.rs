//! The DynamoDB expression language (being written).
