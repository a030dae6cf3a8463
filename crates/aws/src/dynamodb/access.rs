//! What each DynamoDB and DynamoDB Streams operation asks of IAM: the actions, the resource ARNs
//! and the request's condition keys, as the Service Authorization Reference lists them.
//!
//! Single-item operations need their own action on the table; Query and Scan on an index need
//! the index ARN; BatchGetItem and BatchWriteItem need their own action on every table they name
//! (AWS checks `dynamodb:BatchWriteItem`, as its denials show, not PutItem/DeleteItem);
//! TransactWriteItems and TransactGetItems need the action of each member (PutItem, UpdateItem,
//! DeleteItem, ConditionCheckItem, GetItem) with `dynamodb:EnclosingOperation` set; PartiQL
//! statements need `dynamodb:PartiQL{Select,Insert,Update,Delete}`.
//!
//! A request too malformed to name its resource needs nothing here: validation refuses it next.

use std::collections::HashMap;

use serde_json::Value;
use stratus_dynamodb::Engine;
use stratus_dynamodb::expr::{ExpressionContext, parse_key_condition, parse_projection, parse_update};
use stratus_dynamodb::partiql::{self, Statement};
use stratus_dynamodb::value::AttributeValue;

use super::Operation;
use super::streams;
use super::wire::{WireValue, value_from_wire};

/// One permission a request needs.
#[derive(Clone, Debug, PartialEq)]
pub struct Need {
    pub action: String,
    pub resource: String,
    /// The request's condition keys for this permission (the caller's global keys come apart).
    pub keys: Vec<(&'static str, Vec<String>)>,
}

impl Need {
    /// A permission with a full action name (`lambda:InvokeFunction`).
    pub fn of(action: impl Into<String>, resource: String) -> Need {
        Need {
            action: action.into(),
            resource,
            keys: Vec::new(),
        }
    }

    fn new(action: &str, resource: String) -> Need {
        Need {
            action: format!("dynamodb:{action}"),
            resource,
            keys: Vec::new(),
        }
    }

    fn key(mut self, name: &'static str, values: Vec<String>) -> Need {
        self.keys.push((name, values));
        self
    }

    fn key_opt(self, name: &'static str, value: Option<String>) -> Need {
        match value {
            Some(value) => self.key(name, vec![value]),
            None => self,
        }
    }
}

fn text<'a>(body: &'a Value, name: &str) -> Option<&'a str> {
    body.get(name).and_then(Value::as_str)
}

/// The account-level resource.
fn any() -> String {
    "*".to_string()
}

/// What a DynamoDB operation needs; the request's condition keys only with `keys` (the
/// caller's policies read them: callers skip the work when no policy has a condition).
pub fn needs(engine: &Engine, operation: Operation, body: &Value, keys: bool) -> Vec<Need> {
    let table_need = |action: &str| match text(body, "TableName") {
        Some(table) => vec![Need::new(action, engine.table_arn(table))],
        None => Vec::new(),
    };
    match operation {
        Operation::ListTables | Operation::DescribeLimits | Operation::DescribeEndpoints => {
            vec![Need::new(operation.name(), any())]
        }
        Operation::TagResource | Operation::UntagResource | Operation::ListTagsOfResource => {
            match text(body, "ResourceArn") {
                Some(arn) => vec![Need::new(operation.name(), arn.to_string())],
                None => Vec::new(),
            }
        }
        Operation::GetItem | Operation::PutItem | Operation::UpdateItem | Operation::DeleteItem => {
            let Some(table) = text(body, "TableName") else {
                return Vec::new();
            };
            vec![item_need(engine, operation.name(), table, body, None, keys)]
        }
        Operation::Query | Operation::Scan => {
            let Some(table) = text(body, "TableName") else {
                return Vec::new();
            };
            vec![read_need(engine, operation, table, body, keys)]
        }
        Operation::BatchGetItem => batch_needs(engine, body, "BatchGetItem", keys),
        Operation::BatchWriteItem => batch_needs(engine, body, "BatchWriteItem", keys),
        Operation::TransactWriteItems => transact_needs(engine, body, "TransactWriteItems", keys),
        Operation::TransactGetItems => transact_needs(engine, body, "TransactGetItems", keys),
        Operation::ExecuteStatement => statement_need(engine, text(body, "Statement"), None)
            .into_iter()
            .collect(),
        Operation::BatchExecuteStatement => body
            .get("Statements")
            .and_then(Value::as_array)
            .map(|statements| {
                statements
                    .iter()
                    .filter_map(|s| statement_need(engine, text(s, "Statement"), None))
                    .collect()
            })
            .unwrap_or_default(),
        Operation::ExecuteTransaction => body
            .get("TransactStatements")
            .and_then(Value::as_array)
            .map(|statements| {
                statements
                    .iter()
                    .filter_map(|s| statement_need(engine, text(s, "Statement"), Some("ExecuteTransaction")))
                    .collect()
            })
            .unwrap_or_default(),
        // Every other operation names one table and needs its own action on it.
        other => table_need(other.name()),
    }
}

/// The fields a single-table request names, borrowed from its body.
#[derive(serde::Deserialize)]
pub struct Target<'a> {
    #[serde(rename = "TableName", borrow, default)]
    table: Option<std::borrow::Cow<'a, str>>,
    #[serde(rename = "IndexName", borrow, default)]
    index: Option<std::borrow::Cow<'a, str>>,
}

/// The table and index a request body names, read straight from its bytes (no document tree);
/// `None` when the body is not a JSON object or names them with the wrong types. Reading it
/// also checks that the whole body is well-formed JSON.
pub fn target(body: &[u8]) -> Option<Target<'_>> {
    serde_json::from_slice(body).ok()
}

/// [`needs`] without condition keys for the single-table item operations, from the body's
/// [`target`]; `None` for other operations or bodies.
pub fn plain_needs(engine: &Engine, operation: Operation, target: Option<&Target<'_>>) -> Option<Vec<Need>> {
    let single = matches!(
        operation,
        Operation::GetItem
            | Operation::PutItem
            | Operation::UpdateItem
            | Operation::DeleteItem
            | Operation::Query
            | Operation::Scan
            | Operation::DescribeTable
    );
    if !single {
        return None;
    }
    let target = target?;
    let Some(table) = &target.table else {
        return Some(Vec::new());
    };
    let resource = match (&target.index, operation) {
        (Some(index), Operation::Query | Operation::Scan) => format!("{}/index/{index}", engine.table_arn(table)),
        _ => engine.table_arn(table),
    };
    Some(vec![Need::new(operation.name(), resource)])
}

/// What a DynamoDB Streams operation needs.
pub fn stream_needs(engine: &Engine, operation: streams::Operation, body: &Value) -> Vec<Need> {
    match operation {
        streams::Operation::ListStreams => vec![Need::new("ListStreams", any())],
        streams::Operation::DescribeStream | streams::Operation::GetShardIterator => {
            let action = match operation {
                streams::Operation::DescribeStream => "DescribeStream",
                _ => "GetShardIterator",
            };
            match text(body, "StreamArn") {
                Some(arn) => vec![Need::new(action, arn.to_string())],
                None => Vec::new(),
            }
        }
        streams::Operation::GetRecords => text(body, "ShardIterator")
            .and_then(|iterator| engine.iterator_stream_arn(iterator))
            .map(|arn| vec![Need::new("GetRecords", arn)])
            .unwrap_or_default(),
    }
}

/// A request's ExpressionAttributeNames and ExpressionAttributeValues, decoded for the parsers.
struct Placeholders {
    names: Option<HashMap<String, String>>,
    values: Option<HashMap<String, AttributeValue>>,
}

impl Placeholders {
    fn of(body: &Value) -> Placeholders {
        let names = body
            .get("ExpressionAttributeNames")
            .and_then(|names| serde_json::from_value::<HashMap<String, String>>(names.clone()).ok());
        let values = body.get("ExpressionAttributeValues").and_then(|values| {
            let wire = serde_json::from_value::<HashMap<String, WireValue>>(values.clone()).ok()?;
            wire.into_iter()
                .map(|(name, value)| value_from_wire(value).ok().map(|v| (name, v)))
                .collect::<Option<HashMap<_, _>>>()
        });
        Placeholders { names, values }
    }

    fn context(&self) -> ExpressionContext<'_> {
        ExpressionContext::new(self.names.as_ref(), self.values.as_ref())
    }
}

/// A key value as condition keys see it: the string, the number or the base64 text.
fn scalar_text(value: &Value) -> Option<String> {
    ["S", "N", "B"]
        .iter()
        .find_map(|kind| value.get(kind).and_then(Value::as_str).map(str::to_string))
}

fn attribute_text(value: &AttributeValue) -> Option<String> {
    use base64::Engine as _;
    match value {
        AttributeValue::S(s) => Some(s.clone()),
        AttributeValue::N(n) => Some(n.to_string()),
        AttributeValue::B(b) => Some(base64::engine::general_purpose::STANDARD.encode(b)),
        _ => None,
    }
}

/// The top-level attribute names a projection (or `AttributesToGet`) reads.
fn projected(body: &Value, placeholders: &Placeholders) -> Option<Vec<String>> {
    if let Some(expression) = text(body, "ProjectionExpression") {
        let mut context = placeholders.context();
        let paths = parse_projection(expression, &mut context).ok()?;
        return Some(paths.iter().map(|p| p.top().to_string()).collect());
    }
    body.get("AttributesToGet")
        .and_then(Value::as_array)
        .map(|names| names.iter().filter_map(Value::as_str).map(str::to_string).collect())
}

fn sorted_unique(mut names: Vec<String>) -> Vec<String> {
    names.sort();
    names.dedup();
    names
}

/// GetItem, PutItem, UpdateItem, DeleteItem (and the members of a transaction).
fn item_need(engine: &Engine, action: &str, table: &str, body: &Value, enclosing: Option<&str>, keys: bool) -> Need {
    if !keys {
        return Need::new(action, engine.table_arn(table));
    }
    let placeholders = Placeholders::of(body);
    let key_source = if action == "PutItem" {
        body.get("Item")
    } else {
        body.get("Key")
    };
    let partition = engine.key_names(table, None).map(|(hash, _)| hash);
    let leading = partition
        .as_deref()
        .and_then(|hash| key_source.and_then(|k| k.get(hash)))
        .and_then(scalar_text);
    let mut attributes: Vec<String> = key_source
        .and_then(Value::as_object)
        .map(|key| key.keys().cloned().collect())
        .unwrap_or_default();
    match action {
        "GetItem" => {
            if let Some(names) = projected(body, &placeholders) {
                attributes.extend(names);
            }
        }
        "UpdateItem" => {
            if let Some(expression) = text(body, "UpdateExpression") {
                let mut context = placeholders.context();
                if let Ok(update) = parse_update(expression, &mut context) {
                    attributes.extend(update.updated_paths().iter().map(|p| p.top().to_string()));
                }
            }
            if let Some(updates) = body.get("AttributeUpdates").and_then(Value::as_object) {
                attributes.extend(updates.keys().cloned());
            }
        }
        _ => {}
    }
    let mut need = Need::new(action, engine.table_arn(table))
        .key_opt("dynamodb:LeadingKeys", leading)
        .key("dynamodb:Attributes", sorted_unique(attributes));
    if action == "GetItem" {
        let select = if body.get("ProjectionExpression").is_some() || body.get("AttributesToGet").is_some() {
            "SPECIFIC_ATTRIBUTES"
        } else {
            "ALL_ATTRIBUTES"
        };
        need = need.key("dynamodb:Select", vec![select.to_string()]);
    } else {
        let returns = text(body, "ReturnValues").unwrap_or("NONE").to_string();
        need = need.key("dynamodb:ReturnValues", vec![returns]);
    }
    need = need.key(
        "dynamodb:ReturnConsumedCapacity",
        vec![text(body, "ReturnConsumedCapacity").unwrap_or("NONE").to_string()],
    );
    need.key_opt("dynamodb:EnclosingOperation", enclosing.map(str::to_string))
}

/// Query and Scan: the table, or the index they read.
fn read_need(engine: &Engine, operation: Operation, table: &str, body: &Value, keys: bool) -> Need {
    let index = text(body, "IndexName");
    let resource = match index {
        Some(index) => format!("{}/index/{index}", engine.table_arn(table)),
        None => engine.table_arn(table),
    };
    if !keys {
        return Need::new(operation.name(), resource);
    }
    let placeholders = Placeholders::of(body);
    let attributes = projected(body, &placeholders);
    let select = match text(body, "Select") {
        Some(select) => select.to_string(),
        None if attributes.is_some() => "SPECIFIC_ATTRIBUTES".to_string(),
        None if index.is_some() => "ALL_PROJECTED_ATTRIBUTES".to_string(),
        None => "ALL_ATTRIBUTES".to_string(),
    };
    let mut need = Need::new(operation.name(), resource)
        .key("dynamodb:Select", vec![select])
        .key(
            "dynamodb:ReturnConsumedCapacity",
            vec![text(body, "ReturnConsumedCapacity").unwrap_or("NONE").to_string()],
        );
    if let Some(attributes) = attributes {
        need = need.key("dynamodb:Attributes", sorted_unique(attributes));
    }
    if operation == Operation::Query {
        let leading = engine
            .key_names(table, index)
            .and_then(|(hash, range)| query_partition(body, &placeholders, &hash, range.as_deref()));
        need = need.key_opt("dynamodb:LeadingKeys", leading);
    }
    need
}

/// The partition key value a Query reads: from its KeyConditionExpression, or the legacy
/// KeyConditions.
fn query_partition(body: &Value, placeholders: &Placeholders, hash: &str, range: Option<&str>) -> Option<String> {
    if let Some(expression) = text(body, "KeyConditionExpression") {
        let mut context = placeholders.context();
        let condition = parse_key_condition(expression, &mut context, hash, range).ok()?;
        return attribute_text(&condition.partition_value);
    }
    body.get("KeyConditions")
        .and_then(|conditions| conditions.get(hash))
        .and_then(|condition| condition.get("AttributeValueList"))
        .and_then(Value::as_array)
        .and_then(|values| values.first())
        .and_then(scalar_text)
}

/// BatchGetItem / BatchWriteItem: the batch's own action on each table, with every partition
/// key value it touches there.
fn batch_needs(engine: &Engine, body: &Value, action: &str, keys: bool) -> Vec<Need> {
    let Some(tables) = body.get("RequestItems").and_then(Value::as_object) else {
        return Vec::new();
    };
    if !keys {
        return tables
            .keys()
            .map(|table| Need::new(action, engine.table_arn(table)))
            .collect();
    }
    let mut needs = Vec::new();
    for (table, requests) in tables {
        let hash = engine.key_names(table, None).map(|(hash, _)| hash);
        let mut leading = Vec::new();
        let mut attributes = Vec::new();
        let mut keys: Vec<&Value> = Vec::new();
        if action == "BatchGetItem" {
            if let Some(list) = requests.get("Keys").and_then(Value::as_array) {
                keys.extend(list);
            }
            if let Some(names) = projected(requests, &Placeholders::of(requests)) {
                attributes.extend(names);
            }
        } else if let Some(list) = requests.as_array() {
            for request in list {
                if let Some(item) = request.get("PutRequest").and_then(|r| r.get("Item")) {
                    keys.push(item);
                }
                if let Some(key) = request.get("DeleteRequest").and_then(|r| r.get("Key")) {
                    keys.push(key);
                }
            }
        }
        for key in keys {
            if let Some(value) = hash.as_deref().and_then(|h| key.get(h)).and_then(scalar_text) {
                leading.push(value);
            }
            if let Some(object) = key.as_object() {
                attributes.extend(object.keys().cloned());
            }
        }
        let mut need = Need::new(action, engine.table_arn(table))
            .key("dynamodb:LeadingKeys", sorted_unique(leading))
            .key("dynamodb:Attributes", sorted_unique(attributes))
            .key(
                "dynamodb:ReturnConsumedCapacity",
                vec![text(body, "ReturnConsumedCapacity").unwrap_or("NONE").to_string()],
            );
        if action == "BatchGetItem" {
            let select = if requests.get("ProjectionExpression").is_some() || requests.get("AttributesToGet").is_some()
            {
                "SPECIFIC_ATTRIBUTES"
            } else {
                "ALL_ATTRIBUTES"
            };
            need = need.key("dynamodb:Select", vec![select.to_string()]);
        }
        needs.push(need);
    }
    needs
}

/// TransactWriteItems / TransactGetItems: each member's own action.
fn transact_needs(engine: &Engine, body: &Value, enclosing: &str, keys: bool) -> Vec<Need> {
    let Some(items) = body.get("TransactItems").and_then(Value::as_array) else {
        return Vec::new();
    };
    let members = [
        ("Put", "PutItem"),
        ("Update", "UpdateItem"),
        ("Delete", "DeleteItem"),
        ("ConditionCheck", "ConditionCheckItem"),
        ("Get", "GetItem"),
    ];
    items
        .iter()
        .filter_map(|item| {
            let (member, action) = members.iter().find(|(member, _)| item.get(member).is_some())?;
            let request = item.get(member)?;
            let table = text(request, "TableName")?;
            Some(item_need(engine, action, table, request, Some(enclosing), keys))
        })
        .collect()
}

/// A PartiQL statement's action on its table (or the index a SELECT reads).
fn statement_need(engine: &Engine, statement: Option<&str>, enclosing: Option<&str>) -> Option<Need> {
    let (statement, _) = partiql::parse(statement?).ok()?;
    let table = statement.table().to_string();
    let (action, resource) = match &statement {
        Statement::Select(select) | Statement::Exists(select) => (
            "PartiQLSelect",
            match &select.index {
                Some(index) => format!("{}/index/{index}", engine.table_arn(&table)),
                None => engine.table_arn(&table),
            },
        ),
        Statement::Insert(_) => ("PartiQLInsert", engine.table_arn(&table)),
        Statement::Update(_) => ("PartiQLUpdate", engine.table_arn(&table)),
        Statement::Delete(_) => ("PartiQLDelete", engine.table_arn(&table)),
    };
    Some(Need::new(action, resource).key_opt("dynamodb:EnclosingOperation", enclosing.map(str::to_string)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::Arc;

    fn engine() -> Engine {
        let store = Arc::new(stratus_storage::MemoryStore::new());
        let clock = Arc::new(stratus_dynamodb::engine::SystemClock);
        match Engine::open(store, clock, "us-east-1", "000000000000") {
            Ok(engine) => engine,
            Err(error) => panic!("{error:?}"),
        }
    }

    const TABLE: &str = "arn:aws:dynamodb:us-east-1:000000000000:table/T";

    /// An operation, its body, and the (action, resource) pairs it needs.
    type Case = (Operation, Value, Vec<(&'static str, String)>);

    #[test]
    fn actions_and_resources_per_operation() {
        let engine = engine();
        let cases: Vec<Case> = vec![
            (Operation::ListTables, json!({}), vec![("dynamodb:ListTables", any())]),
            (
                Operation::GetItem,
                json!({"TableName": "T", "Key": {"pk": {"S": "a"}}}),
                vec![("dynamodb:GetItem", TABLE.to_string())],
            ),
            (
                Operation::Query,
                json!({"TableName": "T", "IndexName": "byDate"}),
                vec![("dynamodb:Query", format!("{TABLE}/index/byDate"))],
            ),
            (
                Operation::BatchWriteItem,
                json!({"RequestItems": {"T": [], "U": []}}),
                vec![
                    ("dynamodb:BatchWriteItem", TABLE.to_string()),
                    (
                        "dynamodb:BatchWriteItem",
                        "arn:aws:dynamodb:us-east-1:000000000000:table/U".to_string(),
                    ),
                ],
            ),
            (
                Operation::TransactWriteItems,
                json!({"TransactItems": [
                    {"Put": {"TableName": "T", "Item": {}}},
                    {"ConditionCheck": {"TableName": "T", "Key": {}}},
                    {"Delete": {"TableName": "T", "Key": {}}},
                    {"Update": {"TableName": "T", "Key": {}}}
                ]}),
                vec![
                    ("dynamodb:PutItem", TABLE.to_string()),
                    ("dynamodb:ConditionCheckItem", TABLE.to_string()),
                    ("dynamodb:DeleteItem", TABLE.to_string()),
                    ("dynamodb:UpdateItem", TABLE.to_string()),
                ],
            ),
            (
                Operation::ExecuteStatement,
                json!({"Statement": "SELECT * FROM \"T\".\"byDate\""}),
                vec![("dynamodb:PartiQLSelect", format!("{TABLE}/index/byDate"))],
            ),
            (
                Operation::ExecuteStatement,
                json!({"Statement": "DELETE FROM T WHERE pk = 'a'"}),
                vec![("dynamodb:PartiQLDelete", TABLE.to_string())],
            ),
            (Operation::DescribeTable, json!({}), vec![]),
            (
                Operation::UpdateTimeToLive,
                json!({"TableName": "T"}),
                vec![("dynamodb:UpdateTimeToLive", TABLE.to_string())],
            ),
        ];
        for (operation, body, expected) in cases {
            let got: Vec<(String, String)> = needs(&engine, operation, &body, true)
                .into_iter()
                .map(|n| (n.action, n.resource))
                .collect();
            let expected: Vec<(String, String)> = expected.into_iter().map(|(a, r)| (a.to_string(), r)).collect();
            assert_eq!(got, expected, "{operation:?} {body}");
        }
    }

    #[test]
    fn the_plain_path_needs_what_the_document_path_needs() {
        let engine = engine();
        let bodies = [
            (Operation::GetItem, json!({"TableName": "T", "Key": {"pk": {"S": "a"}}})),
            (
                Operation::Query,
                json!({"TableName": "T", "IndexName": "byDate", "KeyConditionExpression": "d = :d"}),
            ),
            (Operation::Scan, json!({"TableName": "T"})),
            (Operation::PutItem, json!({"TableName": "Té", "Item": {}})),
            (Operation::DescribeTable, json!({"TableName": "T", "IndexName": "x"})),
            (Operation::DeleteItem, json!({"Key": {}})),
        ];
        for (operation, body) in bodies {
            let bytes = body.to_string().into_bytes();
            assert_eq!(
                plain_needs(&engine, operation, target(&bytes).as_ref()),
                Some(needs(&engine, operation, &body, false)),
                "{operation:?} {body}"
            );
        }
        assert_eq!(
            plain_needs(&engine, Operation::BatchGetItem, target(b"{}").as_ref()),
            None
        );
        assert_eq!(
            plain_needs(&engine, Operation::GetItem, target(br#"{"TableName": 5}"#).as_ref()),
            None
        );
    }

    #[test]
    fn transaction_members_carry_the_enclosing_operation() {
        let engine = engine();
        let body = json!({"TransactItems": [{"Get": {"TableName": "T", "Key": {"pk": {"S": "a"}}}}]});
        let needs = needs(&engine, Operation::TransactGetItems, &body, true);
        assert_eq!(needs.len(), 1);
        assert!(
            needs[0]
                .keys
                .contains(&("dynamodb:EnclosingOperation", vec!["TransactGetItems".to_string()]))
        );
    }
}
