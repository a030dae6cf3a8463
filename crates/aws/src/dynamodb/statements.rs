//! The PartiQL operations on the wire: ExecuteStatement and BatchExecuteStatement requests
//! checked as AWS checks them, run by the engine, and their results rendered.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Map, Value, json};
use stratus_dynamodb::statements::{BatchStatementInput, StatementInput, TransactionStatementInput};
use stratus_dynamodb::value::AttributeValue;
use stratus_dynamodb::{Engine, Error};

use super::validate::Constraints;
use super::wire::{ItemOut, WireValue, value_from_wire};
use super::{ApiError, ON_CONDITION_FAILURE, RETURN_CONSUMED, Reply, check, parse, to_json};

/// Longest statement, in characters.
const STATEMENT_CHARS_MAX: usize = 8192;
/// Longest NextToken, in characters.
const NEXT_TOKEN_CHARS_MAX: usize = 32768;
/// Most statements in one BatchExecuteStatement.
const BATCH_STATEMENTS_MAX: usize = 25;
/// Most statements in one ExecuteTransaction.
const TRANSACTION_STATEMENTS_MAX: usize = 100;
/// Longest ClientRequestToken, in characters.
const CLIENT_REQUEST_TOKEN_CHARS_MAX: usize = 36;

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct ExecuteStatementIn {
    pub statement: Option<String>,
    pub parameters: Option<Vec<WireValue>>,
    pub consistent_read: Option<bool>,
    pub next_token: Option<String>,
    pub limit: Option<i64>,
    pub return_consumed_capacity: Option<String>,
    pub return_values_on_condition_check_failure: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct BatchStatementIn {
    pub statement: Option<String>,
    pub parameters: Option<Vec<WireValue>>,
    pub consistent_read: Option<bool>,
    pub return_values_on_condition_check_failure: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct BatchExecuteStatementIn {
    pub statements: Option<Vec<BatchStatementIn>>,
    pub return_consumed_capacity: Option<String>,
}

fn statement_constraints(c: &mut Constraints, member: &str, statement: Option<&String>) {
    c.not_null(member, &statement);
    c.length(member, statement.map(String::as_str), 1, STATEMENT_CHARS_MAX);
}

fn parameters_constraints(c: &mut Constraints, member: &str, parameters: Option<&Vec<WireValue>>) {
    if let Some(parameters) = parameters
        && parameters.is_empty()
    {
        c.list_length(member, "[]", 0, 1, usize::MAX);
    }
}

/// One member of BatchExecuteStatement's or ExecuteTransaction's list, as AWS checks it
/// (`statements.1.member.statement`, …).
fn member_constraints(
    c: &mut Constraints,
    member: &str,
    statement: Option<&String>,
    parameters: Option<&Vec<WireValue>>,
    on_condition_failure: Option<&str>,
) {
    statement_constraints(c, &format!("{member}.statement"), statement);
    parameters_constraints(c, &format!("{member}.parameters"), parameters);
    c.enumeration(
        &format!("{member}.returnValuesOnConditionCheckFailure"),
        on_condition_failure,
        ON_CONDITION_FAILURE,
    );
}

fn parameters_in(parameters: Option<Vec<WireValue>>) -> Result<Vec<AttributeValue>, ApiError> {
    parameters
        .unwrap_or_default()
        .into_iter()
        .map(|value| value_from_wire(value).map_err(ApiError::validation))
        .collect()
}

fn capacity(mode: Option<&str>, table: &str, units: f64) -> Option<Value> {
    match mode {
        Some("TOTAL") => Some(json!({"TableName": table, "CapacityUnits": units})),
        Some("INDEXES") => Some(json!({"TableName": table, "CapacityUnits": units, "Table": {"CapacityUnits": units}})),
        _ => None,
    }
}

pub async fn execute_statement(engine: &Arc<Engine>, input: ExecuteStatementIn) -> Reply {
    let mut c = Constraints::new();
    statement_constraints(&mut c, "statement", input.statement.as_ref());
    parameters_constraints(&mut c, "parameters", input.parameters.as_ref());
    c.length("nextToken", input.next_token.as_deref(), 1, NEXT_TOKEN_CHARS_MAX);
    c.at_least("limit", input.limit, 1);
    c.enumeration(
        "returnConsumedCapacity",
        input.return_consumed_capacity.as_deref(),
        RETURN_CONSUMED,
    );
    c.enumeration(
        "returnValuesOnConditionCheckFailure",
        input.return_values_on_condition_check_failure.as_deref(),
        ON_CONDITION_FAILURE,
    );
    check(c)?;
    let parameters = parameters_in(input.parameters)?;
    let output = engine
        .execute_statement(StatementInput {
            statement: input.statement.unwrap_or_default(),
            parameters,
            consistent_read: input.consistent_read.unwrap_or(false),
            limit: input.limit.map(|limit| limit as usize),
            next_token: input.next_token,
            return_old_on_condition_failure: input.return_values_on_condition_check_failure.as_deref()
                == Some("ALL_OLD"),
        })
        .await?;
    let mut reply = Map::new();
    let items: Vec<Value> = output
        .items
        .iter()
        .map(|item| serde_json::to_value(ItemOut(item)).unwrap_or(Value::Null))
        .collect();
    reply.insert("Items".to_string(), Value::Array(items));
    if let Some(token) = output.next_token {
        reply.insert("NextToken".to_string(), Value::String(token));
    }
    if let Some(consumed) = capacity(
        input.return_consumed_capacity.as_deref(),
        &output.table_name,
        output.capacity_units,
    ) {
        reply.insert("ConsumedCapacity".to_string(), consumed);
    }
    to_json(&Value::Object(reply))
}

/// BatchStatementErrorCodeEnum for an error of one statement.
fn batch_error_code(error: &Error) -> &'static str {
    match error {
        Error::Validation(_)
        | Error::ResourceInUse(_)
        | Error::ExpiredIterator(_)
        | Error::TrimmedDataAccess(_)
        | Error::IdempotentParameterMismatch(_) => "ValidationError",
        Error::ResourceNotFound(_) | Error::TableNotFound(_) => "ResourceNotFound",
        Error::TransactionCanceled { .. } => "TransactionConflict",
        Error::ConditionalCheckFailed { .. } => "ConditionalCheckFailed",
        Error::DuplicateItem => "DuplicateItem",
        Error::LimitExceeded(_) => "RequestLimitExceeded",
        Error::ItemCollectionSizeLimitExceeded => "ItemCollectionSizeLimitExceeded",
        Error::Internal(_) => "InternalServerError",
    }
}

/// How AWS renders the `statements` list in a constraint message.
fn rendered_statements(statements: &[BatchStatementIn]) -> String {
    let shown: Vec<String> = statements
        .iter()
        .map(|s| {
            format!(
                "BatchStatementRequest(statement={}, parameters={}, consistentRead={}, returnValuesOnConditionCheckFailure={})",
                s.statement.as_deref().unwrap_or("null"),
                if s.parameters.is_some() { "[...]" } else { "null" },
                s.consistent_read.map_or("null".to_string(), |b| b.to_string()),
                s.return_values_on_condition_check_failure.as_deref().unwrap_or("null"),
            )
        })
        .collect();
    format!("[{}]", shown.join(", "))
}

pub async fn batch_execute_statement(engine: &Arc<Engine>, input: BatchExecuteStatementIn) -> Reply {
    let mut c = Constraints::new();
    c.not_null("statements", &input.statements);
    let given = input.statements.is_some();
    let statements = input.statements.unwrap_or_default();
    if given {
        c.list_length(
            "statements",
            &rendered_statements(&statements),
            statements.len(),
            1,
            BATCH_STATEMENTS_MAX,
        );
    }
    for (index, statement) in statements.iter().enumerate() {
        member_constraints(
            &mut c,
            &format!("statements.{}.member", index + 1),
            statement.statement.as_ref(),
            statement.parameters.as_ref(),
            statement.return_values_on_condition_check_failure.as_deref(),
        );
    }
    c.enumeration(
        "returnConsumedCapacity",
        input.return_consumed_capacity.as_deref(),
        RETURN_CONSUMED,
    );
    check(c)?;
    let mut inputs = Vec::with_capacity(statements.len());
    for statement in statements {
        inputs.push(BatchStatementInput {
            statement: statement.statement.unwrap_or_default(),
            parameters: parameters_in(statement.parameters)?,
            consistent_read: statement.consistent_read.unwrap_or(false),
            return_old_on_condition_failure: statement.return_values_on_condition_check_failure.as_deref()
                == Some("ALL_OLD"),
        });
    }
    let outputs = engine.batch_execute_statement(inputs).await?;
    let mut responses = Vec::with_capacity(outputs.len());
    let mut consumed: Vec<(String, f64)> = Vec::new();
    for output in &outputs {
        let mut response = Map::new();
        if let Some(table) = &output.table_name {
            response.insert("TableName".to_string(), Value::String(table.clone()));
            match consumed.iter_mut().find(|(name, _)| name == table) {
                Some((_, units)) => *units += output.capacity_units,
                None => consumed.push((table.clone(), output.capacity_units)),
            }
        }
        match &output.result {
            Ok(Some(item)) => {
                response.insert(
                    "Item".to_string(),
                    serde_json::to_value(ItemOut(item)).unwrap_or(Value::Null),
                );
            }
            Ok(None) => {}
            Err(error) => {
                if let Error::Internal(detail) = error {
                    eprintln!("stratus: internal error: {detail}");
                }
                let mut body = Map::new();
                body.insert("Code".to_string(), Value::String(batch_error_code(error).to_string()));
                body.insert("Message".to_string(), Value::String(error.message().to_string()));
                if let Error::ConditionalCheckFailed { item: Some(item) } = error {
                    body.insert(
                        "Item".to_string(),
                        serde_json::to_value(ItemOut(item)).unwrap_or(Value::Null),
                    );
                }
                response.insert("Error".to_string(), Value::Object(body));
            }
        }
        responses.push(Value::Object(response));
    }
    let mut reply = Map::new();
    reply.insert("Responses".to_string(), Value::Array(responses));
    let mode = input.return_consumed_capacity.as_deref();
    let capacities: Vec<Value> = consumed
        .iter()
        .filter_map(|(table, units)| capacity(mode, table, *units))
        .collect();
    if mode.is_some_and(|m| m != "NONE") {
        reply.insert("ConsumedCapacity".to_string(), Value::Array(capacities));
    }
    to_json(&Value::Object(reply))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct ParameterizedStatementIn {
    pub statement: Option<String>,
    pub parameters: Option<Vec<WireValue>>,
    pub return_values_on_condition_check_failure: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct ExecuteTransactionIn {
    pub transact_statements: Option<Vec<ParameterizedStatementIn>>,
    pub client_request_token: Option<String>,
    pub return_consumed_capacity: Option<String>,
}

/// FNV-1a of the request without its ClientRequestToken: a retry with the same token must be
/// the same request.
fn request_fingerprint(body: &[u8]) -> u64 {
    let mut request: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    if let Some(object) = request.as_object_mut() {
        object.remove("ClientRequestToken");
    }
    request.to_string().bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x100_0000_01b3)
    })
}

pub async fn execute_transaction(engine: &Arc<Engine>, body: &[u8]) -> Reply {
    let input: ExecuteTransactionIn = parse(body)?;
    let mut c = Constraints::new();
    c.not_null("transactStatements", &input.transact_statements);
    let given = input.transact_statements.is_some();
    let statements = input.transact_statements.unwrap_or_default();
    if given {
        let rendered = format!(
            "[{}]",
            statements
                .iter()
                .map(|s| format!(
                    "ParameterizedStatement(statement={}, parameters={}, returnValuesOnConditionCheckFailure={})",
                    s.statement.as_deref().unwrap_or("null"),
                    if s.parameters.is_some() { "[...]" } else { "null" },
                    s.return_values_on_condition_check_failure.as_deref().unwrap_or("null"),
                ))
                .collect::<Vec<_>>()
                .join(", ")
        );
        c.list_length(
            "transactStatements",
            &rendered,
            statements.len(),
            1,
            TRANSACTION_STATEMENTS_MAX,
        );
    }
    for (index, statement) in statements.iter().enumerate() {
        member_constraints(
            &mut c,
            &format!("transactStatements.{}.member", index + 1),
            statement.statement.as_ref(),
            statement.parameters.as_ref(),
            statement.return_values_on_condition_check_failure.as_deref(),
        );
    }
    c.length(
        "clientRequestToken",
        input.client_request_token.as_deref(),
        1,
        CLIENT_REQUEST_TOKEN_CHARS_MAX,
    );
    c.enumeration(
        "returnConsumedCapacity",
        input.return_consumed_capacity.as_deref(),
        RETURN_CONSUMED,
    );
    check(c)?;
    let mut inputs = Vec::with_capacity(statements.len());
    for statement in statements {
        inputs.push(TransactionStatementInput {
            statement: statement.statement.unwrap_or_default(),
            parameters: parameters_in(statement.parameters)?,
            return_old_on_condition_failure: statement.return_values_on_condition_check_failure.as_deref()
                == Some("ALL_OLD"),
        });
    }
    let output = engine
        .execute_transaction(inputs, input.client_request_token, request_fingerprint(body))
        .await?;
    let mut reply = Map::new();
    if let Some(items) = &output.items {
        let responses: Vec<Value> = items
            .iter()
            .map(|item| match item {
                Some(item) => json!({"Item": serde_json::to_value(ItemOut(item)).unwrap_or(Value::Null)}),
                None => json!({}),
            })
            .collect();
        reply.insert("Responses".to_string(), Value::Array(responses));
    }
    let mode = input.return_consumed_capacity.as_deref();
    if mode.is_some_and(|m| m != "NONE") {
        let capacities: Vec<Value> = output
            .capacity
            .iter()
            .filter_map(|(table, units)| capacity(mode, table, *units))
            .collect();
        reply.insert("ConsumedCapacity".to_string(), Value::Array(capacities));
    }
    to_json(&Value::Object(reply))
}
