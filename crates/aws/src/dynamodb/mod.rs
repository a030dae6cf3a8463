//! The DynamoDB JSON 1.0 front-end: `X-Amz-Target` parsed into an [`Operation`], the body into
//! wire types, checked as AWS checks them, handed to the engine, and the result rendered.

pub mod access;
pub mod legacy;
pub mod multi;
pub mod statements;
pub mod streams;
pub mod tables;
pub mod validate;
pub mod wire;

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use stratus_dynamodb::engine::{
    DeleteItemInput, Expressions, GetItemInput, ItemCollectionMetrics, PageOutput, PutItemInput, QueryInput,
    ReturnValues, ScanInput, Select, TableDescription, UpdateItemInput, WriteOutput,
};
use stratus_dynamodb::key::KeySchema;
use stratus_dynamodb::table::{Billing, BillingMode, CreateTableInput, Throughput, UpdateTableInput};
use stratus_dynamodb::{Engine, Error};

use self::legacy::{ExpectedIn, Ordered, Placeholders};
use self::validate::Constraints;
use self::wire::{ItemOut, ItemRequestIn, ReadRequestIn, WireItem, item_from_wire};

/// The `X-Amz-Target` prefix of every DynamoDB operation.
pub const TARGET_PREFIX: &str = "DynamoDB_20120810.";

macro_rules! operations {
    (supported: [$($supported:ident),*], later: [$($later:ident),*]) => {
        /// Every operation of DynamoDB's API, by AWS's names.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Operation { $($supported,)* $($later,)* }

        impl Operation {
            /// Parses the operation name after `DynamoDB_20120810.`.
            pub fn from_name(name: &str) -> Option<Operation> {
                match name {
                    $(stringify!($supported) => Some(Operation::$supported),)*
                    $(stringify!($later) => Some(Operation::$later),)*
                    _ => None,
                }
            }

            pub fn name(self) -> &'static str {
                match self {
                    $(Operation::$supported => stringify!($supported),)*
                    $(Operation::$later => stringify!($later),)*
                }
            }

            /// Whether Stratus implements this operation yet.
            pub fn is_supported(self) -> bool {
                matches!(self, $(Operation::$supported)|*)
            }
        }
    };
}

operations! {
    supported: [CreateTable, DescribeTable, ListTables, DeleteTable, UpdateTable, PutItem, GetItem, UpdateItem, DeleteItem, Query, Scan,
        BatchGetItem, BatchWriteItem, TransactGetItems, TransactWriteItems, UpdateTimeToLive, DescribeTimeToLive,
        TagResource, UntagResource, ListTagsOfResource, DescribeLimits, DescribeEndpoints, DescribeContinuousBackups,
        UpdateContinuousBackups, ExecuteStatement, BatchExecuteStatement, ExecuteTransaction],
    later: [CancelBulkOperation, CreateBackup, CreateGlobalTable,
        DeleteBackup, DeleteResourcePolicy, DescribeBackup, DescribeBulkOperation,
        DescribeContributorInsights, DescribeExport, DescribeGlobalTable, DescribeGlobalTableSettings,
        DescribeImport, DescribeKinesisStreamingDestination, DescribeTableReplicaAutoScaling,
        DisableKinesisStreamingDestination, EnableKinesisStreamingDestination, ExportTableToPointInTime, GetResourcePolicy, ImportTable, ListBackups, ListBulkOperations,
        ListContributorInsights, ListExports, ListGlobalTables, ListImports, PutResourcePolicy,
        RestoreTableFromBackup, RestoreTableToPointInTime, SearchVectors, StartBulkPutItems,
        UpdateContributorInsights,
        UpdateGlobalTable, UpdateGlobalTableSettings, UpdateKinesisStreamingDestination, UpdateTableReplicaAutoScaling]
}

/// An error as DynamoDB puts it on the wire.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// The full `__type`, e.g. `com.amazon.coral.validate#ValidationException`.
    pub type_name: &'static str,
    pub message: Option<String>,
    /// Coral service errors say `Message`; DynamoDB's own say `message`.
    pub capital_message: bool,
    pub status: u16,
    /// Extra members (the old `Item` of a failed condition).
    pub extra: Option<Map<String, Value>>,
}

impl ApiError {
    fn new(type_name: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            type_name,
            message: Some(message.into()),
            capital_message: false,
            status: 400,
            extra: None,
        }
    }

    pub fn validation(message: impl Into<String>) -> ApiError {
        ApiError::new("com.amazon.coral.validate#ValidationException", message)
    }

    pub fn serialization(message: Option<String>) -> ApiError {
        ApiError {
            type_name: "com.amazon.coral.service#SerializationException",
            message,
            capital_message: true,
            status: 400,
            extra: None,
        }
    }

    pub fn unknown_operation(message: Option<String>) -> ApiError {
        ApiError {
            type_name: "com.amazon.coral.service#UnknownOperationException",
            message,
            capital_message: false,
            status: 400,
            extra: None,
        }
    }

    pub fn missing_authentication() -> ApiError {
        ApiError::new(
            "com.amazon.coral.service#MissingAuthenticationTokenException",
            "Request is missing Authentication Token",
        )
    }

    pub fn incomplete_signature(message: impl Into<String>) -> ApiError {
        ApiError::new("com.amazon.coral.service#IncompleteSignatureException", message)
    }

    pub fn internal() -> ApiError {
        ApiError {
            type_name: "com.amazonaws.dynamodb.v20120810#InternalServerError",
            message: Some("Internal server error".to_string()),
            capital_message: false,
            status: 500,
            extra: None,
        }
    }

    /// The JSON body.
    pub fn body(&self) -> Vec<u8> {
        let mut body = Map::new();
        body.insert("__type".to_string(), Value::String(self.type_name.to_string()));
        if let Some(message) = &self.message {
            let key = if self.capital_message { "Message" } else { "message" };
            body.insert(key.to_string(), Value::String(message.clone()));
        }
        if let Some(extra) = &self.extra {
            body.extend(extra.clone());
        }
        serde_json::to_vec(&Value::Object(body)).unwrap_or_default()
    }
}

impl From<Error> for ApiError {
    fn from(error: Error) -> ApiError {
        match error {
            Error::Validation(message) => ApiError::validation(message),
            Error::ResourceNotFound(message) => {
                ApiError::new("com.amazonaws.dynamodb.v20120810#ResourceNotFoundException", message)
            }
            Error::ResourceInUse(message) => {
                ApiError::new("com.amazonaws.dynamodb.v20120810#ResourceInUseException", message)
            }
            Error::LimitExceeded(message) => {
                ApiError::new("com.amazonaws.dynamodb.v20120810#LimitExceededException", message)
            }
            Error::DuplicateItem => ApiError::new(
                "com.amazonaws.dynamodb.v20120810#DuplicateItemException",
                "Duplicate primary key exists in table",
            ),
            Error::ExpiredIterator(message) => {
                ApiError::new("com.amazonaws.dynamodb.v20120810#ExpiredIteratorException", message)
            }
            Error::TrimmedDataAccess(message) => {
                ApiError::new("com.amazonaws.dynamodb.v20120810#TrimmedDataAccessException", message)
            }
            Error::TransactionCanceled { reasons } => {
                let codes: Vec<&str> = reasons.iter().map(|r| r.code.as_str()).collect();
                let mut failure = ApiError::new(
                    "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
                    format!(
                        "Transaction cancelled, please refer cancellation reasons for specific reasons [{}]",
                        codes.join(", ")
                    ),
                );
                failure.capital_message = true;
                let reasons: Vec<Value> = reasons
                    .iter()
                    .map(|reason| {
                        let mut entry = Map::new();
                        entry.insert("Code".to_string(), json!(reason.code));
                        if let Some(message) = &reason.message {
                            entry.insert("Message".to_string(), json!(message));
                        }
                        if let Some(item) = &reason.item {
                            entry.insert(
                                "Item".to_string(),
                                serde_json::to_value(ItemOut(item)).unwrap_or(Value::Null),
                            );
                        }
                        Value::Object(entry)
                    })
                    .collect();
                let mut extra = Map::new();
                extra.insert("CancellationReasons".to_string(), Value::Array(reasons));
                failure.extra = Some(extra);
                failure
            }
            Error::TableNotFound(message) => {
                ApiError::new("com.amazonaws.dynamodb.v20120810#TableNotFoundException", message)
            }
            Error::ItemCollectionSizeLimitExceeded => ApiError::new(
                "com.amazonaws.dynamodb.v20120810#ItemCollectionSizeLimitExceededException",
                stratus_dynamodb::error::ITEM_COLLECTION_SIZE_EXCEEDED,
            ),
            Error::IdempotentParameterMismatch(message) => ApiError::new(
                "com.amazonaws.dynamodb.v20120810#IdempotentParameterMismatchException",
                message,
            ),
            Error::ConditionalCheckFailed { item } => {
                let mut failure = ApiError::new(
                    "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
                    "The conditional request failed",
                );
                if let Some(item) = item {
                    let mut extra = Map::new();
                    extra.insert(
                        "Item".to_string(),
                        serde_json::to_value(ItemOut(&item)).unwrap_or(Value::Null),
                    );
                    failure.extra = Some(extra);
                }
                failure
            }
            Error::Internal(detail) => {
                eprintln!("stratus: internal error: {detail}");
                ApiError::internal()
            }
        }
    }
}

pub(crate) type Reply = Result<Vec<u8>, ApiError>;

/// Parses the body into an operation's wire type. Syntax errors were already reported; what is
/// left are members of the wrong JSON type.
pub(crate) fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return serde_json::from_slice(b"{}").map_err(|e| ApiError::serialization(Some(e.to_string())));
    }
    serde_json::from_slice(body).map_err(|error| ApiError::serialization(Some(serialization_message(&error))))
}

/// Turns serde's wording into something close to AWS's ("... cannot be converted to String").
fn serialization_message(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let text = text.split(" at line ").next().unwrap_or(&text).to_string();
    if let Some(rest) = text.strip_prefix("invalid type: ") {
        let found = rest.split(',').next().unwrap_or(rest);
        let expected = rest.split("expected ").nth(1).unwrap_or("");
        let kind = if found.starts_with("integer") || found.starts_with("floating") {
            "NUMBER_VALUE"
        } else if found.starts_with("boolean") {
            "BOOLEAN_VALUE"
        } else if found.starts_with("string") {
            "STRING_VALUE"
        } else if found.starts_with("map") {
            return "Start of structure or map found where not expected".to_string();
        } else if found.starts_with("sequence") {
            return "Start of list found where not expected".to_string();
        } else {
            return text;
        };
        let target = if expected.contains("string") {
            "String"
        } else if expected.contains("i64") || expected.contains("integer") {
            "Long"
        } else if expected.contains("bool") {
            "Boolean"
        } else if expected.contains("map") || expected.contains("struct") || expected.contains("AttributeValue") {
            return "Unexpected field type".to_string();
        } else {
            "the expected type"
        };
        return format!("{kind} cannot be converted to {target}");
    }
    text
}

pub(crate) fn to_json<T: Serialize>(value: &T) -> Reply {
    serde_json::to_vec(value).map_err(|_| ApiError::internal())
}

/// Runs one operation on its body and returns the response body.
pub async fn handle(engine: &Arc<Engine>, operation: Operation, body: &[u8]) -> Reply {
    match operation {
        Operation::CreateTable => create_table(engine, parse(body)?).await,
        Operation::DescribeTable => describe_table(engine, parse(body)?),
        Operation::ListTables => list_tables(engine, parse(body)?),
        Operation::DeleteTable => delete_table(engine, parse(body)?).await,
        Operation::UpdateTable => update_table(engine, parse(body)?).await,
        Operation::PutItem => put_item(engine, parse(body)?).await,
        Operation::GetItem => get_item(engine, parse(body)?),
        Operation::UpdateItem => update_item(engine, parse(body)?).await,
        Operation::DeleteItem => delete_item(engine, parse(body)?).await,
        Operation::Query => query(engine, parse(body)?),
        Operation::Scan => scan(engine, parse(body)?),
        Operation::ExecuteStatement => statements::execute_statement(engine, parse(body)?).await,
        Operation::BatchExecuteStatement => statements::batch_execute_statement(engine, parse(body)?).await,
        Operation::ExecuteTransaction => statements::execute_transaction(engine, body).await,
        Operation::BatchWriteItem => multi::batch_write_item(engine, parse(body)?).await,
        Operation::BatchGetItem => multi::batch_get_item(engine, parse(body)?),
        Operation::TransactWriteItems => multi::transact_write_items(engine, body).await,
        Operation::TransactGetItems => multi::transact_get_items(engine, parse(body)?).await,
        Operation::UpdateTimeToLive => multi::update_time_to_live(engine, parse(body)?).await,
        Operation::DescribeTimeToLive => multi::describe_time_to_live(engine, parse(body)?),
        Operation::TagResource => multi::tag_resource(engine, parse(body)?).await,
        Operation::UntagResource => multi::untag_resource(engine, parse(body)?).await,
        Operation::ListTagsOfResource => multi::list_tags_of_resource(engine, parse(body)?),
        Operation::DescribeLimits => to_json(&json!({
            "AccountMaxReadCapacityUnits": 80000,
            "AccountMaxWriteCapacityUnits": 80000,
            "TableMaxReadCapacityUnits": 40000,
            "TableMaxWriteCapacityUnits": 40000,
        })),
        Operation::DescribeContinuousBackups => multi::describe_continuous_backups(engine, parse(body)?),
        Operation::UpdateContinuousBackups => multi::update_continuous_backups(engine, parse(body)?).await,
        other => Err(ApiError::unknown_operation(Some(format!(
            "Stratus does not implement {} yet; see docs/compatibility.md",
            other.name()
        )))),
    }
}

pub(crate) fn check(constraints: Constraints) -> Result<(), ApiError> {
    match constraints.finish() {
        Some(message) => Err(ApiError::validation(message)),
        None => Ok(()),
    }
}

// ----- tables -----

fn epoch_seconds(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

fn table_description_json(description: &TableDescription) -> Value {
    let definition = &description.definition;
    let mut key_schema = vec![json!({"AttributeName": definition.key_schema.hash.name, "KeyType": "HASH"})];
    if let Some(range) = &definition.key_schema.range {
        key_schema.push(json!({"AttributeName": range.name, "KeyType": "RANGE"}));
    }
    let attribute_definitions: Vec<Value> = definition
        .attribute_definitions
        .iter()
        .map(|(name, scalar)| json!({"AttributeName": name, "AttributeType": scalar.name()}))
        .collect();
    let (read, write) = match definition.billing {
        Billing::Provisioned { read, write } => (read, write),
        Billing::PayPerRequest => (0, 0),
    };
    let mut throughput = json!({"NumberOfDecreasesToday": definition.decreases_today, "ReadCapacityUnits": read, "WriteCapacityUnits": write});
    if let Some(ms) = definition.last_increase_ms {
        throughput["LastIncreaseDateTime"] = json!(epoch_seconds(ms));
    }
    if let Some(ms) = definition.last_decrease_ms {
        throughput["LastDecreaseDateTime"] = json!(epoch_seconds(ms));
    }
    let mut table = json!({
        "AttributeDefinitions": attribute_definitions,
        "TableName": definition.name,
        "KeySchema": key_schema,
        "TableStatus": description.status.name(),
        "CreationDateTime": epoch_seconds(definition.created_at_ms),
        "ProvisionedThroughput": throughput,
        "TableSizeBytes": description.size_bytes,
        "ItemCount": description.item_count,
        "TableArn": description.arn,
        "TableId": table_id(definition.id, definition.created_at_ms),
        "DeletionProtectionEnabled": false,
    });
    if definition.billing_mode() == BillingMode::PayPerRequest || definition.pay_per_request_since_ms.is_some() {
        let mut summary = json!({"BillingMode": definition.billing_mode().name()});
        if let Some(ms) = definition.pay_per_request_since_ms {
            summary["LastUpdateToPayPerRequestDateTime"] = json!(epoch_seconds(ms));
        }
        table["BillingModeSummary"] = summary;
    }
    tables::describe_extras(description, &mut table);
    table
}

/// A stable UUID-shaped id for a table, derived from its catalog id and creation time.
fn table_id(id: u64, created_at_ms: i64) -> String {
    let mut state = id ^ (created_at_ms as u64).rotate_left(17) ^ 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let (a, b) = (next(), next());
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        ((b >> 48) & 0x3fff) | 0x8000,
        b & 0xffff_ffff_ffff
    )
}

pub(crate) fn throughput_in(
    constraints: &mut Constraints,
    member: &str,
    throughput: Option<wire::ThroughputIn>,
) -> Option<Throughput> {
    let throughput = throughput?;
    constraints.not_null(
        &format!("{member}.writeCapacityUnits"),
        &throughput.write_capacity_units,
    );
    constraints.at_least(
        &format!("{member}.writeCapacityUnits"),
        throughput.write_capacity_units,
        1,
    );
    constraints.not_null(&format!("{member}.readCapacityUnits"), &throughput.read_capacity_units);
    constraints.at_least(
        &format!("{member}.readCapacityUnits"),
        throughput.read_capacity_units,
        1,
    );
    Some(Throughput {
        read: throughput.read_capacity_units.unwrap_or(0),
        write: throughput.write_capacity_units.unwrap_or(0),
    })
}

fn billing_mode(name: Option<&str>) -> Option<BillingMode> {
    match name {
        Some("PROVISIONED") => Some(BillingMode::Provisioned),
        Some("PAY_PER_REQUEST") => Some(BillingMode::PayPerRequest),
        _ => None,
    }
}

async fn create_table(engine: &Arc<Engine>, input: wire::CreateTableIn) -> Reply {
    let mut c = Constraints::new();
    c.not_null("attributeDefinitions", &input.attribute_definitions);
    let definitions = input.attribute_definitions.unwrap_or_default();
    let attribute_definitions = tables::attribute_definitions_in(&mut c, &definitions);
    let local_indexes = tables::indexes_in(&mut c, "localSecondaryIndexes", input.local_secondary_indexes);
    c.table_name("tableName", input.table_name.as_deref(), 3);
    c.not_null("tableName", &input.table_name);
    c.enumeration(
        "billingMode",
        input.billing_mode.as_deref(),
        &["PROVISIONED", "PAY_PER_REQUEST"],
    );
    let global_indexes = tables::indexes_in(&mut c, "globalSecondaryIndexes", input.global_secondary_indexes);
    let throughput = throughput_in(&mut c, "provisionedThroughput", input.provisioned_throughput);
    let stream = tables::stream_in(&mut c, input.stream_specification);
    c.not_null("keySchema", &input.key_schema);
    let key_schema_given = input.key_schema.is_some();
    let key_schema = input.key_schema.unwrap_or_default();
    for (index, element) in key_schema.iter().enumerate() {
        let member = format!("keySchema.{}.member", index + 1);
        c.enumeration(
            &format!("{member}.keyType"),
            element.key_type.as_deref(),
            &["HASH", "RANGE"],
        );
        c.not_null(&format!("{member}.keyType"), &element.key_type);
        c.not_null(&format!("{member}.attributeName"), &element.attribute_name);
    }
    let rendered_schema = format!(
        "[{}]",
        key_schema
            .iter()
            .map(|k| format!(
                "KeySchemaElement(attributeName={}, keyType={})",
                k.attribute_name.as_deref().unwrap_or("null"),
                k.key_type.as_deref().unwrap_or("null")
            ))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if key_schema_given {
        c.list_length("keySchema", &rendered_schema, key_schema.len(), 1, 2);
    }
    check(c)?;
    let tags = input
        .tags
        .unwrap_or_default()
        .into_iter()
        .map(|t| (t.key.unwrap_or_default(), t.value.unwrap_or_default()))
        .collect();
    let request = CreateTableInput {
        table_name: input.table_name.unwrap_or_default(),
        attribute_definitions,
        key_schema: key_schema
            .into_iter()
            .map(|k| (k.attribute_name.unwrap_or_default(), k.key_type.unwrap_or_default()))
            .collect(),
        billing_mode: billing_mode(input.billing_mode.as_deref()),
        provisioned_throughput: throughput,
        global_indexes,
        local_indexes,
        stream,
        tags,
    };
    let description = engine.create_table(request).await?;
    to_json(&json!({"TableDescription": table_description_json(&description)}))
}

fn table_name_only(input: wire::TableNameIn) -> Result<String, ApiError> {
    let mut c = Constraints::new();
    c.table_name("tableName", input.table_name.as_deref(), 3);
    c.not_null("tableName", &input.table_name);
    check(c)?;
    Ok(input.table_name.unwrap_or_default())
}

fn describe_table(engine: &Arc<Engine>, input: wire::TableNameIn) -> Reply {
    let name = table_name_only(input)?;
    let description = engine.describe_table(&name)?;
    to_json(&json!({"Table": table_description_json(&description)}))
}

async fn delete_table(engine: &Arc<Engine>, input: wire::TableNameIn) -> Reply {
    let name = table_name_only(input)?;
    let description = engine.delete_table(&name).await?;
    to_json(&json!({"TableDescription": table_description_json(&description)}))
}

fn list_tables(engine: &Arc<Engine>, input: wire::ListTablesIn) -> Reply {
    let mut c = Constraints::new();
    c.table_name(
        "exclusiveStartTableName",
        input.exclusive_start_table_name.as_deref(),
        3,
    );
    c.at_least("limit", input.limit, 1);
    c.at_most("limit", input.limit, 100);
    check(c)?;
    let limit = input.limit.unwrap_or(100) as usize;
    let (names, last) = engine.list_tables(input.exclusive_start_table_name.as_deref(), limit);
    let mut out = json!({"TableNames": names});
    if let Some(last) = last {
        out["LastEvaluatedTableName"] = json!(last);
    }
    to_json(&out)
}

async fn update_table(engine: &Arc<Engine>, input: wire::UpdateTableIn) -> Reply {
    let mut c = Constraints::new();
    let definitions = input.attribute_definitions.unwrap_or_default();
    let attribute_definitions = tables::attribute_definitions_in(&mut c, &definitions);
    c.table_name("tableName", input.table_name.as_deref(), 3);
    c.not_null("tableName", &input.table_name);
    c.enumeration(
        "billingMode",
        input.billing_mode.as_deref(),
        &["PROVISIONED", "PAY_PER_REQUEST"],
    );
    let throughput = throughput_in(&mut c, "provisionedThroughput", input.provisioned_throughput);
    let index_updates = tables::index_updates_in(&mut c, input.global_secondary_index_updates);
    let stream = tables::stream_in(&mut c, input.stream_specification);
    check(c)?;
    let request = UpdateTableInput {
        table_name: input.table_name.unwrap_or_default(),
        billing_mode: billing_mode(input.billing_mode.as_deref()),
        provisioned_throughput: throughput,
        attribute_definitions,
        index_updates,
        stream,
    };
    let changes_indexes = !request.index_updates.is_empty();
    let description = engine.update_table(request).await?;
    if changes_indexes {
        // Index builds and drops run in the background, as on AWS (CREATING, then ACTIVE).
        let engine = Arc::clone(engine);
        tokio::spawn(async move {
            let _ = engine.finish_index_changes().await;
        });
    }
    to_json(&json!({"TableDescription": table_description_json(&description)}))
}

// ----- items -----

const RETURN_VALUES: &[&str] = &["ALL_NEW", "UPDATED_OLD", "ALL_OLD", "NONE", "UPDATED_NEW"];
const RETURN_CONSUMED: &[&str] = &["INDEXES", "TOTAL", "NONE"];
const RETURN_METRICS: &[&str] = &["SIZE", "NONE"];
const ON_CONDITION_FAILURE: &[&str] = &["ALL_OLD", "NONE"];

fn return_values(name: Option<&str>) -> ReturnValues {
    match name {
        Some("ALL_OLD") => ReturnValues::AllOld,
        Some("UPDATED_OLD") => ReturnValues::UpdatedOld,
        Some("ALL_NEW") => ReturnValues::AllNew,
        Some("UPDATED_NEW") => ReturnValues::UpdatedNew,
        _ => ReturnValues::None,
    }
}

/// Checks ExpressionAttributeNames/Values the way AWS does before any expression is parsed.
/// `expression_used` says whether the request has any expression; `values_null_message` is the
/// tail AWS adds when values come without one ("ConditionExpression is null").
pub(crate) fn expressions(
    names: Option<HashMap<String, String>>,
    values: Option<WireItem>,
    names_allowed: bool,
    values_allowed: bool,
    values_null_message: &str,
) -> Result<Expressions, ApiError> {
    if values.is_some() && !values_allowed {
        return Err(ApiError::validation(format!(
            "ExpressionAttributeValues can only be specified when using expressions: {values_null_message}"
        )));
    }
    if names.is_some() && !names_allowed {
        return Err(ApiError::validation(
            "ExpressionAttributeNames can only be specified when using expressions",
        ));
    }
    if names.as_ref().is_some_and(HashMap::is_empty) {
        return Err(ApiError::validation("ExpressionAttributeNames must not be empty"));
    }
    if values.as_ref().is_some_and(HashMap::is_empty) {
        return Err(ApiError::validation("ExpressionAttributeValues must not be empty"));
    }
    if let Some(names) = &names {
        let mut keys: Vec<&String> = names.keys().collect();
        keys.sort();
        if let Some(bad) = keys.into_iter().find(|k| !valid_placeholder(k, '#')) {
            return Err(ApiError::validation(format!(
                "ExpressionAttributeNames contains invalid key: Syntax error; key: \"{bad}\""
            )));
        }
    }
    let values = match values {
        Some(values) => {
            let mut keys: Vec<&String> = values.keys().collect();
            keys.sort();
            if let Some(bad) = keys.into_iter().find(|k| !valid_placeholder(k, ':')) {
                return Err(ApiError::validation(format!(
                    "ExpressionAttributeValues contains invalid key: Syntax error; key: \"{bad}\""
                )));
            }
            let mut converted = HashMap::with_capacity(values.len());
            for (key, value) in values {
                match value.0 {
                    Ok(value) => {
                        converted.insert(key, value);
                    }
                    Err(message) => {
                        return Err(ApiError::validation(format!(
                            "ExpressionAttributeValues contains invalid value: {message} for key {key}"
                        )));
                    }
                }
            }
            Some(converted)
        }
        None => None,
    };
    Ok(Expressions { names, values })
}

/// `#name` / `:value`: the sigil then one or more of `[A-Za-z0-9_]`.
fn valid_placeholder(key: &str, sigil: char) -> bool {
    let mut chars = key.chars();
    chars.next() == Some(sigil) && {
        let rest = chars.as_str();
        !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    }
}

/// Item and read operations accept table names from 1 character (AWS checks the 3-character
/// minimum only where tables are created, described or deleted).
const ITEM_TABLE_NAME_MIN: usize = 1;

fn item_constraints(c: &mut Constraints, input: &ItemRequestIn) {
    c.table_name("tableName", input.table_name.as_deref(), ITEM_TABLE_NAME_MIN);
    c.not_null("tableName", &input.table_name);
    c.enumeration("returnValues", input.return_values.as_deref(), RETURN_VALUES);
    c.enumeration(
        "returnConsumedCapacity",
        input.return_consumed_capacity.as_deref(),
        RETURN_CONSUMED,
    );
    c.enumeration(
        "returnItemCollectionMetrics",
        input.return_item_collection_metrics.as_deref(),
        RETURN_METRICS,
    );
    c.enumeration(
        "returnValuesOnConditionCheckFailure",
        input.return_values_on_condition_check_failure.as_deref(),
        ON_CONDITION_FAILURE,
    );
    legacy::conditional_operator_constraints(c, input.conditional_operator.as_deref());
    legacy::expected_constraints(c, input.expected.as_ref());
    legacy::attribute_updates_constraints(c, input.attribute_updates.as_ref());
}

fn wire_item(item: Option<WireItem>) -> Result<stratus_dynamodb::value::Item, ApiError> {
    item_from_wire(item.unwrap_or_default()).map_err(ApiError::validation)
}

fn consumed(mode: Option<&str>, table: &str, units: f64) -> Option<Value> {
    consumed_with_indexes(mode, table, units, &[])
}

/// ConsumedCapacity of a write: the table's units plus each index's, broken down for INDEXES.
fn consumed_with_indexes(
    mode: Option<&str>,
    table: &str,
    units: f64,
    indexes: &[stratus_dynamodb::engine::IndexUnits],
) -> Option<Value> {
    let total = units + indexes.iter().map(|i| i.units).sum::<f64>();
    match mode {
        Some("TOTAL") => Some(json!({"TableName": table, "CapacityUnits": total})),
        Some("INDEXES") => {
            let mut value = json!({"TableName": table, "CapacityUnits": total, "Table": {"CapacityUnits": units}});
            for (key, global) in [("GlobalSecondaryIndexes", true), ("LocalSecondaryIndexes", false)] {
                let part: Map<String, Value> = indexes
                    .iter()
                    .filter(|i| i.global == global)
                    .map(|i| (i.name.clone(), json!({"CapacityUnits": i.units})))
                    .collect();
                if !part.is_empty() {
                    value[key] = Value::Object(part);
                }
            }
            Some(value)
        }
        _ => None,
    }
}

/// ConsumedCapacity of a read of a table or of one index.
fn consumed_page(mode: Option<&str>, table: &str, output: &PageOutput) -> Option<Value> {
    match &output.index {
        None => consumed(mode, table, output.capacity_units),
        Some((name, global)) => {
            let units = output.capacity_units;
            match mode {
                Some("TOTAL") => Some(json!({"TableName": table, "CapacityUnits": units})),
                Some("INDEXES") => {
                    let key = if *global {
                        "GlobalSecondaryIndexes"
                    } else {
                        "LocalSecondaryIndexes"
                    };
                    let mut value =
                        json!({"TableName": table, "CapacityUnits": units, "Table": {"CapacityUnits": 0.0}});
                    value[key] = json!({name.clone(): {"CapacityUnits": units}});
                    Some(value)
                }
                _ => None,
            }
        }
    }
}

/// One `ItemCollectionMetrics` entry.
pub(crate) fn collection_metrics_json(metrics: &ItemCollectionMetrics) -> Value {
    json!({
        "ItemCollectionKey": serde_json::to_value(ItemOut(&metrics.key)).unwrap_or(Value::Null),
        "SizeEstimateRangeGB": metrics.size_estimate_range_gb(),
    })
}

/// The reply of an item operation: `Attributes` or `Item`, `ConsumedCapacity` and
/// `ItemCollectionMetrics`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ItemReply<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    attributes: Option<ItemOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    item: Option<ItemOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    consumed_capacity: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    item_collection_metrics: Option<Value>,
}

/// The reply of PutItem, UpdateItem and DeleteItem. `ItemCollectionMetrics` comes only when
/// asked for (`SIZE`) and only for tables with local secondary indexes.
fn write_reply(output: &WriteOutput, capacity: Option<Value>, return_item_collection_metrics: Option<&str>) -> Reply {
    let metrics = output
        .item_collection
        .as_ref()
        .filter(|_| return_item_collection_metrics == Some("SIZE"))
        .map(collection_metrics_json);
    to_json(&ItemReply {
        attributes: output.attributes.as_ref().map(ItemOut),
        item: None,
        consumed_capacity: capacity,
        item_collection_metrics: metrics,
    })
}

/// Legacy `Expected` (with ConditionalOperator) as a condition expression.
fn expected_condition(
    placeholders: &mut Placeholders,
    expected: Option<Ordered<ExpectedIn>>,
    operator: Option<&str>,
) -> Result<Option<String>, ApiError> {
    legacy::check_conditional_operator(operator, &[expected.as_ref().map(Ordered::len)])?;
    let Some(expected) = expected else {
        return Ok(None);
    };
    let terms = legacy::expected(expected)?;
    Ok(placeholders.condition(&terms, operator))
}

/// The condition of PutItem and DeleteItem (ConditionExpression or legacy Expected) and the
/// expression parameters.
fn write_condition(input: &mut ItemRequestIn) -> Result<(Option<String>, Expressions), ApiError> {
    legacy::check_mixing(
        &[
            ("Expected", input.expected.is_some()),
            ("ConditionalOperator", input.conditional_operator.is_some()),
        ],
        &[("ConditionExpression", input.condition_expression.is_some())],
    )?;
    let has_condition = input.condition_expression.is_some();
    let mut expressions = expressions(
        input.expression_attribute_names.take(),
        input.expression_attribute_values.take(),
        has_condition,
        has_condition,
        "ConditionExpression is null",
    )?;
    let mut placeholders = Placeholders::new(&[]);
    let condition = match expected_condition(
        &mut placeholders,
        input.expected.take(),
        input.conditional_operator.as_deref(),
    )? {
        Some(text) => Some(text),
        None => input.condition_expression.take(),
    };
    placeholders.merge_into(&mut expressions);
    Ok((condition, expressions))
}

async fn put_item(engine: &Arc<Engine>, mut input: ItemRequestIn) -> Reply {
    let mut c = Constraints::new();
    item_constraints(&mut c, &input);
    c.not_null("item", &input.item);
    check(c)?;
    let item = wire_item(input.item.take())?;
    let (condition_expression, expressions) = write_condition(&mut input)?;
    let table_name = input.table_name.unwrap_or_default();
    let output = engine
        .put_item(PutItemInput {
            table_name: table_name.clone(),
            item,
            condition_expression,
            expressions,
            return_values: return_values(input.return_values.as_deref()),
            return_old_on_condition_failure: input.return_values_on_condition_check_failure.as_deref()
                == Some("ALL_OLD"),
        })
        .await?;
    write_reply(
        &output,
        consumed_with_indexes(
            input.return_consumed_capacity.as_deref(),
            &table_name,
            output.capacity_units,
            &output.index_units,
        ),
        input.return_item_collection_metrics.as_deref(),
    )
}

fn get_item(engine: &Arc<Engine>, input: ItemRequestIn) -> Reply {
    let mut c = Constraints::new();
    c.table_name("tableName", input.table_name.as_deref(), 3);
    c.not_null("tableName", &input.table_name);
    c.enumeration(
        "returnConsumedCapacity",
        input.return_consumed_capacity.as_deref(),
        RETURN_CONSUMED,
    );
    legacy::attributes_to_get_constraints(&mut c, "attributesToGet", input.attributes_to_get.as_ref());
    c.not_null("key", &input.key);
    check(c)?;
    let key = wire_item(input.key)?;
    legacy::check_mixing(
        &[("AttributesToGet", input.attributes_to_get.is_some())],
        &[("ProjectionExpression", input.projection_expression.is_some())],
    )?;
    if let Some(names) = &input.attributes_to_get {
        legacy::check_attributes_to_get(names)?;
    }
    let has_projection = input.projection_expression.is_some();
    let mut expressions = expressions(
        input.expression_attribute_names,
        input.expression_attribute_values,
        has_projection,
        false,
        "ProjectionExpression is null",
    )?;
    let mut placeholders = Placeholders::new(&[]);
    let projection_expression = match &input.attributes_to_get {
        Some(names) => Some(placeholders.projection(names)),
        None => input.projection_expression,
    };
    placeholders.merge_into(&mut expressions);
    let table_name = input.table_name.unwrap_or_default();
    let consistent = input.consistent_read.unwrap_or(false);
    let output = engine.get_item(GetItemInput {
        table_name: table_name.clone(),
        key,
        projection_expression,
        expressions,
        consistent_read: consistent,
    })?;
    let capacity = consumed(
        input.return_consumed_capacity.as_deref(),
        &table_name,
        output.capacity_units,
    );
    to_json(&ItemReply {
        attributes: None,
        item: output.item.as_ref().map(ItemOut),
        consumed_capacity: capacity,
        item_collection_metrics: None,
    })
}

async fn update_item(engine: &Arc<Engine>, input: ItemRequestIn) -> Reply {
    let mut c = Constraints::new();
    item_constraints(&mut c, &input);
    c.not_null("key", &input.key);
    check(c)?;
    let key = wire_item(input.key)?;
    legacy::check_mixing(
        &[
            ("AttributeUpdates", input.attribute_updates.is_some()),
            ("Expected", input.expected.is_some()),
            ("ConditionalOperator", input.conditional_operator.is_some()),
        ],
        &[
            ("UpdateExpression", input.update_expression.is_some()),
            ("ConditionExpression", input.condition_expression.is_some()),
        ],
    )?;
    let has_expression = input.update_expression.is_some() || input.condition_expression.is_some();
    let mut expressions = expressions(
        input.expression_attribute_names,
        input.expression_attribute_values,
        has_expression,
        has_expression,
        "UpdateExpression and ConditionExpression are null",
    )?;
    let mut placeholders = Placeholders::new(&[]);
    let legacy_updates = input.attribute_updates.is_some();
    let update_expression = match input.attribute_updates {
        Some(updates) => placeholders.attribute_updates(updates)?,
        None => input.update_expression,
    };
    let condition_expression =
        match expected_condition(&mut placeholders, input.expected, input.conditional_operator.as_deref())? {
            Some(text) => Some(text),
            None => input.condition_expression,
        };
    placeholders.merge_into(&mut expressions);
    let table_name = input.table_name.unwrap_or_default();
    let output = engine
        .update_item(UpdateItemInput {
            table_name: table_name.clone(),
            key,
            update_expression,
            condition_expression,
            expressions,
            return_values: return_values(input.return_values.as_deref()),
            return_old_on_condition_failure: input.return_values_on_condition_check_failure.as_deref()
                == Some("ALL_OLD"),
        })
        .await
        .map_err(|error| match error {
            // AttributeUpdates report a type clash in ADD or DELETE in their own words.
            Error::Validation(message) if legacy_updates && message == legacy::EXPRESSION_TYPE_MISMATCH => {
                Error::validation(legacy::UPDATE_TYPE_MISMATCH)
            }
            other => other,
        })?;
    write_reply(
        &output,
        consumed_with_indexes(
            input.return_consumed_capacity.as_deref(),
            &table_name,
            output.capacity_units,
            &output.index_units,
        ),
        input.return_item_collection_metrics.as_deref(),
    )
}

async fn delete_item(engine: &Arc<Engine>, mut input: ItemRequestIn) -> Reply {
    let mut c = Constraints::new();
    item_constraints(&mut c, &input);
    c.not_null("key", &input.key);
    check(c)?;
    let key = wire_item(input.key.take())?;
    let (condition_expression, expressions) = write_condition(&mut input)?;
    let table_name = input.table_name.unwrap_or_default();
    let output = engine
        .delete_item(DeleteItemInput {
            table_name: table_name.clone(),
            key,
            condition_expression,
            expressions,
            return_values: return_values(input.return_values.as_deref()),
            return_old_on_condition_failure: input.return_values_on_condition_check_failure.as_deref()
                == Some("ALL_OLD"),
        })
        .await?;
    write_reply(
        &output,
        consumed_with_indexes(
            input.return_consumed_capacity.as_deref(),
            &table_name,
            output.capacity_units,
            &output.index_units,
        ),
        input.return_item_collection_metrics.as_deref(),
    )
}

// ----- query and scan -----

const SELECT: &[&str] = &[
    "SPECIFIC_ATTRIBUTES",
    "COUNT",
    "ALL_ATTRIBUTES",
    "ALL_PROJECTED_ATTRIBUTES",
];

fn select(name: Option<&str>) -> Option<Select> {
    match name {
        Some("SPECIFIC_ATTRIBUTES") => Some(Select::SpecificAttributes),
        Some("COUNT") => Some(Select::Count),
        Some("ALL_ATTRIBUTES") => Some(Select::AllAttributes),
        Some("ALL_PROJECTED_ATTRIBUTES") => Some(Select::AllProjectedAttributes),
        _ => None,
    }
}

fn read_constraints(c: &mut Constraints, input: &ReadRequestIn) {
    c.table_name("tableName", input.table_name.as_deref(), ITEM_TABLE_NAME_MIN);
    c.not_null("tableName", &input.table_name);
    c.table_name("indexName", input.index_name.as_deref(), 3);
    c.enumeration("select", input.select.as_deref(), SELECT);
    c.at_least("limit", input.limit, 1);
    c.enumeration(
        "returnConsumedCapacity",
        input.return_consumed_capacity.as_deref(),
        RETURN_CONSUMED,
    );
    legacy::condition_constraints(c, "keyConditions", input.key_conditions.as_ref());
    legacy::condition_constraints(c, "queryFilter", input.query_filter.as_ref());
    legacy::condition_constraints(c, "scanFilter", input.scan_filter.as_ref());
    legacy::conditional_operator_constraints(c, input.conditional_operator.as_deref());
    legacy::attributes_to_get_constraints(c, "attributesToGet", input.attributes_to_get.as_ref());
}

fn start_key(key: Option<WireItem>) -> Result<Option<stratus_dynamodb::value::Item>, ApiError> {
    match key {
        Some(key) => item_from_wire(key)
            .map(Some)
            .map_err(|message| ApiError::validation(format!("The provided starting key is invalid: {message}"))),
        None => Ok(None),
    }
}

/// The key schema a read uses: the table's, or its index's ("Requested resource not found" when
/// there is no such table; `None` when there is no such index, which the engine reports).
fn read_key_schema(engine: &Engine, table_name: &str, index: Option<&str>) -> Result<Option<KeySchema>, ApiError> {
    let definition = match engine.describe_table(table_name) {
        Ok(description) => description.definition,
        Err(Error::ResourceNotFound(_)) => return Err(Error::table_not_found().into()),
        Err(other) => return Err(other.into()),
    };
    Ok(match index {
        Some(name) => definition.index(name).map(|index| index.key_schema.clone()),
        None => Some(definition.key_schema),
    })
}

/// Every text a generated placeholder must not collide with: the request's own expressions and
/// the keys of its placeholder maps.
fn taken_texts<'a>(expressions: &'a Expressions, texts: &[Option<&'a String>]) -> Vec<&'a str> {
    let mut taken: Vec<&str> = texts.iter().flatten().map(|text| text.as_str()).collect();
    if let Some(names) = &expressions.names {
        taken.extend(names.keys().map(String::as_str));
    }
    if let Some(values) = &expressions.values {
        taken.extend(values.keys().map(String::as_str));
    }
    taken
}

/// Query and Scan results, rendered straight from the engine's items.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PageOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    items: Option<ItemsOut<'a>>,
    count: usize,
    scanned_count: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_evaluated_key: Option<ItemOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    consumed_capacity: Option<Value>,
}

struct ItemsOut<'a>(&'a [stratus_dynamodb::value::Item]);

impl Serialize for ItemsOut<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(ItemOut))
    }
}

fn page_reply(output: &PageOutput, capacity: Option<Value>) -> Reply {
    to_json(&PageOut {
        items: output.items.as_deref().map(ItemsOut),
        count: output.count,
        scanned_count: output.scanned_count,
        last_evaluated_key: output.last_evaluated_key.as_ref().map(ItemOut),
        consumed_capacity: capacity,
    })
}

fn query(engine: &Arc<Engine>, input: ReadRequestIn) -> Reply {
    let mut c = Constraints::new();
    read_constraints(&mut c, &input);
    check(c)?;
    // KeyConditions may go with the other expressions; only KeyConditionExpression excludes it.
    legacy::check_mixing(
        &[
            ("AttributesToGet", input.attributes_to_get.is_some()),
            ("QueryFilter", input.query_filter.is_some()),
            ("ConditionalOperator", input.conditional_operator.is_some()),
            (
                "KeyConditions",
                input.key_conditions.is_some() && input.key_condition_expression.is_some(),
            ),
        ],
        &[
            ("ProjectionExpression", input.projection_expression.is_some()),
            ("FilterExpression", input.filter_expression.is_some()),
            ("KeyConditionExpression", input.key_condition_expression.is_some()),
        ],
    )?;
    legacy::check_conditional_operator(
        input.conditional_operator.as_deref(),
        &[input.query_filter.as_ref().map(Ordered::len)],
    )?;
    let filter_terms = input.query_filter.map(legacy::conditions).transpose()?;
    if let Some(names) = &input.attributes_to_get {
        legacy::check_attributes_to_get(names)?;
    }
    let exclusive_start_key = start_key(input.exclusive_start_key)?;
    let has_values_expression = input.key_condition_expression.is_some() || input.filter_expression.is_some();
    let mut expressions = expressions(
        input.expression_attribute_names,
        input.expression_attribute_values,
        has_values_expression || input.projection_expression.is_some(),
        has_values_expression,
        "FilterExpression and KeyConditionExpression are null",
    )?;
    let key_terms = input.key_conditions.map(legacy::conditions).transpose()?;
    if let Some(terms) = &key_terms {
        legacy::check_key_condition_count(terms)?;
    }
    legacy::check_select(
        input.select.as_deref(),
        input.attributes_to_get.is_some(),
        "1 validation error detected: ",
    )?;
    let table_name = input.table_name.unwrap_or_default();
    if (key_terms.is_some() || filter_terms.is_some())
        && let Some(schema) = read_key_schema(engine, &table_name, input.index_name.as_deref())?
    {
        if let Some(terms) = &key_terms {
            legacy::check_key_conditions(terms, &schema)?;
        }
        if let Some(terms) = &filter_terms {
            legacy::check_query_filter_keys(terms, &schema)?;
        }
    }
    let mut placeholders = Placeholders::new(&taken_texts(
        &expressions,
        &[
            input.key_condition_expression.as_ref(),
            input.filter_expression.as_ref(),
            input.projection_expression.as_ref(),
        ],
    ));
    let key_condition_expression = match &key_terms {
        Some(terms) => placeholders.condition(terms, None),
        None => input.key_condition_expression,
    };
    let filter_expression = match &filter_terms {
        Some(terms) => placeholders.condition(terms, input.conditional_operator.as_deref()),
        None => input.filter_expression,
    };
    let projection_expression = match &input.attributes_to_get {
        Some(names) => Some(placeholders.projection(names)),
        None => input.projection_expression,
    };
    placeholders.merge_into(&mut expressions);
    let consistent = input.consistent_read.unwrap_or(false);
    let output = engine.query(QueryInput {
        table_name: table_name.clone(),
        index_name: input.index_name,
        key_condition_expression,
        filter_expression,
        projection_expression,
        expressions,
        select: select(input.select.as_deref()),
        limit: input.limit.map(|l| l as usize),
        exclusive_start_key,
        scan_index_forward: input.scan_index_forward.unwrap_or(true),
        consistent_read: consistent,
    })?;
    page_reply(
        &output,
        consumed_page(input.return_consumed_capacity.as_deref(), &table_name, &output),
    )
}

fn scan(engine: &Arc<Engine>, input: ReadRequestIn) -> Reply {
    let mut c = Constraints::new();
    read_constraints(&mut c, &input);
    c.at_least("segment", input.segment, 0);
    c.at_most("segment", input.segment, 999_999);
    c.at_least("totalSegments", input.total_segments, 1);
    c.at_most("totalSegments", input.total_segments, 1_000_000);
    check(c)?;
    legacy::check_mixing(
        &[
            ("AttributesToGet", input.attributes_to_get.is_some()),
            ("ScanFilter", input.scan_filter.is_some()),
            ("ConditionalOperator", input.conditional_operator.is_some()),
        ],
        &[
            ("ProjectionExpression", input.projection_expression.is_some()),
            ("FilterExpression", input.filter_expression.is_some()),
        ],
    )?;
    legacy::check_conditional_operator(
        input.conditional_operator.as_deref(),
        &[input.scan_filter.as_ref().map(Ordered::len)],
    )?;
    if let Some(names) = &input.attributes_to_get {
        legacy::check_attributes_to_get(names)?;
    }
    let filter_terms = input.scan_filter.map(legacy::conditions).transpose()?;
    match (input.segment, input.total_segments) {
        (Some(_), None) => {
            return Err(ApiError::validation(
                "The TotalSegments parameter is required but was not present in the request when Segment parameter is present",
            ));
        }
        (None, Some(_)) => {
            return Err(ApiError::validation(
                "The Segment parameter is required but was not present in the request when parameter TotalSegments is present",
            ));
        }
        (Some(segment), Some(total)) if segment >= total => {
            return Err(ApiError::validation(format!(
                "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: {segment} is not less than TotalSegments: {total}"
            )));
        }
        _ => {}
    }
    let exclusive_start_key = start_key(input.exclusive_start_key)?;
    let has_filter = input.filter_expression.is_some();
    let mut expressions = expressions(
        input.expression_attribute_names,
        input.expression_attribute_values,
        has_filter || input.projection_expression.is_some(),
        has_filter,
        "FilterExpression is null",
    )?;
    legacy::check_select(input.select.as_deref(), input.attributes_to_get.is_some(), "")?;
    let mut placeholders = Placeholders::new(&[]);
    let filter_expression = match &filter_terms {
        Some(terms) => placeholders.condition(terms, input.conditional_operator.as_deref()),
        None => input.filter_expression,
    };
    let projection_expression = match &input.attributes_to_get {
        Some(names) => Some(placeholders.projection(names)),
        None => input.projection_expression,
    };
    placeholders.merge_into(&mut expressions);
    let table_name = input.table_name.unwrap_or_default();
    let consistent = input.consistent_read.unwrap_or(false);
    let output = engine.scan(ScanInput {
        table_name: table_name.clone(),
        index_name: input.index_name,
        filter_expression,
        projection_expression,
        expressions,
        select: select(input.select.as_deref()),
        limit: input.limit.map(|l| l as usize),
        exclusive_start_key,
        segment: input.segment.map(|s| s as u32),
        total_segments: input.total_segments.map(|s| s as u32),
        consistent_read: consistent,
    })?;
    page_reply(
        &output,
        consumed_page(input.return_consumed_capacity.as_deref(), &table_name, &output),
    )
}
