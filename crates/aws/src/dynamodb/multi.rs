//! The wire side of the multi-item operations (BatchGetItem, BatchWriteItem, TransactGetItems,
//! TransactWriteItems), TimeToLive and the small table operations (tags, limits, endpoints,
//! continuous backups).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Map, Value, json};
use stratus_dynamodb::Engine;
use stratus_dynamodb::engine::{
    BatchGetRequest, CollectionsPerTable, Expressions, TransactAction, TransactGetItem, TransactWriteItem, WriteRequest,
};

use super::validate::Constraints;
use super::wire::{ItemOut, WireItem, item_from_wire};
use super::{ApiError, Reply, check, collection_metrics_json, expressions, parse, to_json};

fn item(item: Option<WireItem>) -> Result<stratus_dynamodb::value::Item, ApiError> {
    item_from_wire(item.unwrap_or_default()).map_err(ApiError::validation)
}

fn capacity_json(mode: Option<&str>, capacity: &[(String, f64)]) -> Option<Value> {
    let list: Vec<Value> = match mode {
        Some("TOTAL") => capacity
            .iter()
            .map(|(table, units)| json!({"TableName": table, "CapacityUnits": units}))
            .collect(),
        Some("INDEXES") => capacity
            .iter()
            .map(
                |(table, units)| json!({"TableName": table, "CapacityUnits": units, "Table": {"CapacityUnits": units}}),
            )
            .collect(),
        _ => return None,
    };
    Some(Value::Array(list))
}

const RETURN_CONSUMED: &[&str] = &["INDEXES", "TOTAL", "NONE"];

/// `ItemCollectionMetrics` of BatchWriteItem and TransactWriteItems: per table, the item
/// collections written, when asked for (`SIZE`) and when a table with local secondary indexes
/// was written.
fn collections_json(mode: Option<&str>, collections: &CollectionsPerTable) -> Option<Value> {
    if mode != Some("SIZE") || collections.is_empty() {
        return None;
    }
    let tables: Map<String, Value> = collections
        .iter()
        .map(|(table, entries)| {
            let entries = entries.iter().map(collection_metrics_json).collect();
            (table.clone(), Value::Array(entries))
        })
        .collect();
    Some(Value::Object(tables))
}

// ----- BatchWriteItem -----

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct BatchWriteIn {
    request_items: Option<BTreeMap<String, Vec<WriteRequestIn>>>,
    return_consumed_capacity: Option<String>,
    return_item_collection_metrics: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct WriteRequestIn {
    put_request: Option<PutRequestIn>,
    delete_request: Option<DeleteRequestIn>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct PutRequestIn {
    item: Option<WireItem>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct DeleteRequestIn {
    key: Option<WireItem>,
}

pub async fn batch_write_item(engine: &Arc<Engine>, input: BatchWriteIn) -> Reply {
    let mut c = Constraints::new();
    c.enumeration(
        "returnConsumedCapacity",
        input.return_consumed_capacity.as_deref(),
        RETURN_CONSUMED,
    );
    c.enumeration(
        "returnItemCollectionMetrics",
        input.return_item_collection_metrics.as_deref(),
        &["SIZE", "NONE"],
    );
    c.not_null("requestItems", &input.request_items);
    let request_items = input.request_items.unwrap_or_default();
    if let Some((_, requests)) = request_items.iter().find(|(_, r)| r.is_empty() || r.len() > 25) {
        let rendered = format!(
            "{{{}}}",
            request_items
                .iter()
                .map(|(table, r)| format!("{table}=[{} entries]", r.len()))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let _ = requests;
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value '{rendered}' at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 25, Member must have length greater than or equal to 1]"
        )));
    }
    if request_items.is_empty() {
        return Err(ApiError::validation(
            "1 validation error detected: Value '{}' at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1",
        ));
    }
    check(c)?;
    let total: usize = request_items.values().map(Vec::len).sum();
    if total > 25 {
        return Err(ApiError::validation(
            "Too many items requested for the BatchWriteItem call",
        ));
    }
    let mut requests = Vec::new();
    for (table, entries) in request_items {
        let mut writes = Vec::with_capacity(entries.len());
        for entry in entries {
            match (entry.put_request, entry.delete_request) {
                (Some(put), None) => writes.push(WriteRequest::Put(item(put.item)?)),
                (None, Some(delete)) => writes.push(WriteRequest::Delete(item(delete.key)?)),
                _ => {
                    return Err(ApiError::validation(
                        "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes",
                    ));
                }
            }
        }
        requests.push((table, writes));
    }
    let output = engine.batch_write_item(requests).await?;
    let mut out = json!({"UnprocessedItems": {}});
    if let Some(consumed) = capacity_json(input.return_consumed_capacity.as_deref(), &output.capacity) {
        out["ConsumedCapacity"] = consumed;
    }
    if let Some(metrics) = collections_json(
        input.return_item_collection_metrics.as_deref(),
        &output.item_collections,
    ) {
        out["ItemCollectionMetrics"] = metrics;
    }
    to_json(&out)
}

// ----- BatchGetItem -----

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct BatchGetIn {
    request_items: Option<BTreeMap<String, KeysAndAttributesIn>>,
    return_consumed_capacity: Option<String>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(rename_all = "PascalCase")]
struct KeysAndAttributesIn {
    keys: Option<Vec<WireItemJson>>,
    projection_expression: Option<String>,
    expression_attribute_names: Option<HashMap<String, String>>,
    consistent_read: Option<bool>,
    attributes_to_get: Option<Vec<String>>,
}

/// A key kept both parsed and as sent, to hand unprocessed keys back unchanged.
#[derive(Clone, Default)]
struct WireItemJson {
    raw: Value,
}

impl<'de> Deserialize<'de> for WireItemJson {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(WireItemJson {
            raw: Value::deserialize(deserializer)?,
        })
    }
}

impl WireItemJson {
    fn parse(&self) -> Result<stratus_dynamodb::value::Item, ApiError> {
        let wire: WireItem =
            serde_json::from_value(self.raw.clone()).map_err(|e| ApiError::serialization(Some(e.to_string())))?;
        item_from_wire(wire).map_err(ApiError::validation)
    }
}

pub fn batch_get_item(engine: &Arc<Engine>, input: BatchGetIn) -> Reply {
    let mut c = Constraints::new();
    c.enumeration(
        "returnConsumedCapacity",
        input.return_consumed_capacity.as_deref(),
        RETURN_CONSUMED,
    );
    c.not_null("requestItems", &input.request_items);
    check(c)?;
    let request_items = input.request_items.unwrap_or_default();
    if request_items.is_empty() {
        return Err(ApiError::validation(
            "1 validation error detected: Value '{}' at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1",
        ));
    }
    let mut requests = Vec::new();
    let mut originals: BTreeMap<String, KeysAndAttributesIn> = BTreeMap::new();
    for (table, entry) in &request_items {
        if entry.attributes_to_get.is_some() && entry.projection_expression.is_some() {
            return Err(ApiError::validation(
                "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}",
            ));
        }
        let keys = entry.keys.clone().unwrap_or_default();
        if keys.is_empty() || keys.len() > 100 {
            return Err(ApiError::validation(format!(
                "1 validation error detected: Value at 'requestItems.{table}.member.keys' failed to satisfy constraint: Member must have length less than or equal to 100, Member must have length greater than or equal to 1"
            )));
        }
        let expressions: Expressions = expressions(
            entry.expression_attribute_names.clone(),
            None,
            entry.projection_expression.is_some(),
            false,
            "",
        )?;
        // AttributesToGet is a projection of top-level names.
        let projection = match (&entry.projection_expression, &entry.attributes_to_get) {
            (Some(p), _) => Some(p.clone()),
            (None, Some(names)) => Some(names.join(", ")),
            _ => None,
        };
        let mut parsed = Vec::with_capacity(keys.len());
        for key in &keys {
            parsed.push(key.parse()?);
        }
        requests.push(BatchGetRequest {
            table_name: table.clone(),
            keys: parsed,
            projection_expression: projection,
            expressions,
            consistent_read: entry.consistent_read.unwrap_or(false),
        });
        originals.insert(table.clone(), entry.clone());
    }
    let output = engine.batch_get_item(requests)?;
    let mut responses = Map::new();
    for (table, items) in &output.responses {
        let items: Vec<Value> = items
            .iter()
            .map(|i| serde_json::to_value(ItemOut(i)).unwrap_or(Value::Null))
            .collect();
        responses.insert(table.clone(), Value::Array(items));
    }
    let mut unprocessed = Map::new();
    for (table, keys) in &output.unprocessed {
        let mut entry = json!({"Keys": keys.iter().map(|k| serde_json::to_value(ItemOut(k)).unwrap_or(Value::Null)).collect::<Vec<_>>()});
        if let Some(original) = originals.get(table) {
            if let Some(p) = &original.projection_expression {
                entry["ProjectionExpression"] = json!(p);
            }
            if let Some(names) = &original.expression_attribute_names {
                entry["ExpressionAttributeNames"] = json!(names);
            }
            if let Some(consistent) = original.consistent_read {
                entry["ConsistentRead"] = json!(consistent);
            }
            if let Some(names) = &original.attributes_to_get {
                entry["AttributesToGet"] = json!(names);
            }
        }
        unprocessed.insert(table.clone(), entry);
    }
    let mut out = json!({"Responses": Value::Object(responses), "UnprocessedKeys": Value::Object(unprocessed)});
    if let Some(consumed) = capacity_json(input.return_consumed_capacity.as_deref(), &output.capacity) {
        out["ConsumedCapacity"] = consumed;
    }
    to_json(&out)
}

// ----- TransactWriteItems / TransactGetItems -----

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct TransactWriteIn {
    transact_items: Option<Vec<TransactWriteEntryIn>>,
    client_request_token: Option<String>,
    return_consumed_capacity: Option<String>,
    return_item_collection_metrics: Option<String>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(rename_all = "PascalCase")]
struct TransactWriteEntryIn {
    put: Option<TransactActionIn>,
    update: Option<TransactActionIn>,
    delete: Option<TransactActionIn>,
    condition_check: Option<TransactActionIn>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(rename_all = "PascalCase")]
struct TransactActionIn {
    table_name: Option<String>,
    item: Option<WireItemJson>,
    key: Option<WireItemJson>,
    update_expression: Option<String>,
    condition_expression: Option<String>,
    projection_expression: Option<String>,
    expression_attribute_names: Option<HashMap<String, String>>,
    expression_attribute_values: Option<WireItemJson>,
    return_values_on_condition_check_failure: Option<String>,
}

fn fingerprint(value: &Value) -> u64 {
    let text = value.to_string();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

pub async fn transact_write_items(engine: &Arc<Engine>, body: &[u8]) -> Reply {
    let input: TransactWriteIn = parse(body)?;
    let mut c = Constraints::new();
    c.enumeration(
        "returnConsumedCapacity",
        input.return_consumed_capacity.as_deref(),
        RETURN_CONSUMED,
    );
    c.enumeration(
        "returnItemCollectionMetrics",
        input.return_item_collection_metrics.as_deref(),
        &["SIZE", "NONE"],
    );
    c.length("clientRequestToken", input.client_request_token.as_deref(), 1, 36);
    c.not_null("transactItems", &input.transact_items);
    let entries = input.transact_items.clone().unwrap_or_default();
    if input.transact_items.is_some() && (entries.is_empty() || entries.len() > 100) {
        let rendered = format!("[{} entries]", entries.len());
        c.list_length("transactItems", &rendered, entries.len(), 1, 100);
    }
    check(c)?;
    let mut items = Vec::with_capacity(entries.len());
    for (position, entry) in entries.iter().enumerate() {
        let chosen = [
            entry.put.as_ref().map(|a| ("Put", a)),
            entry.update.as_ref().map(|a| ("Update", a)),
            entry.delete.as_ref().map(|a| ("Delete", a)),
            entry.condition_check.as_ref().map(|a| ("ConditionCheck", a)),
        ];
        let chosen: Vec<(&str, &TransactActionIn)> = chosen.into_iter().flatten().collect();
        let [(kind, action)] = chosen.as_slice() else {
            return Err(ApiError::validation(format!(
                "TransactItems can only contain one of Check, Put, Update or Delete (transactItems.{} )",
                position + 1
            )));
        };
        let values = match &action.expression_attribute_values {
            Some(values) => Some(
                serde_json::from_value::<WireItem>(values.raw.clone())
                    .map_err(|e| ApiError::serialization(Some(e.to_string())))?,
            ),
            None => None,
        };
        let uses_expressions = action.condition_expression.is_some() || action.update_expression.is_some();
        let expressions = expressions(
            action.expression_attribute_names.clone(),
            values,
            uses_expressions,
            uses_expressions,
            "ConditionExpression",
        )?;
        let key = || {
            action
                .key
                .as_ref()
                .map(WireItemJson::parse)
                .transpose()
                .map(Option::unwrap_or_default)
        };
        let transact_action = match *kind {
            "Put" => TransactAction::Put {
                item: action
                    .item
                    .as_ref()
                    .map(WireItemJson::parse)
                    .transpose()?
                    .unwrap_or_default(),
            },
            "Update" => TransactAction::Update {
                key: key()?,
                update_expression: action.update_expression.clone().unwrap_or_default(),
            },
            "Delete" => TransactAction::Delete { key: key()? },
            _ => {
                if action.condition_expression.is_none() {
                    return Err(ApiError::validation(format!(
                        "1 validation error detected: Value null at 'transactItems.{}.member.conditionCheck.conditionExpression' failed to satisfy constraint: Member must not be null",
                        position + 1
                    )));
                }
                TransactAction::ConditionCheck { key: key()? }
            }
        };
        items.push(TransactWriteItem {
            table_name: action.table_name.clone().unwrap_or_default(),
            action: transact_action,
            condition_expression: action.condition_expression.clone(),
            expressions,
            return_old_on_condition_failure: action.return_values_on_condition_check_failure.as_deref()
                == Some("ALL_OLD"),
        });
    }
    // The token's request, without the token, decides whether a retry is the same request.
    let mut without_token: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    if let Some(object) = without_token.as_object_mut() {
        object.remove("ClientRequestToken");
    }
    let output = engine
        .transact_write_items(items, input.client_request_token.clone(), fingerprint(&without_token))
        .await?;
    let mut out = json!({});
    if let Some(consumed) = capacity_json(input.return_consumed_capacity.as_deref(), &output.capacity) {
        out["ConsumedCapacity"] = consumed;
    }
    if let Some(metrics) = collections_json(
        input.return_item_collection_metrics.as_deref(),
        &output.item_collections,
    ) {
        out["ItemCollectionMetrics"] = metrics;
    }
    to_json(&out)
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct TransactGetIn {
    transact_items: Option<Vec<TransactGetEntryIn>>,
    return_consumed_capacity: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct TransactGetEntryIn {
    get: Option<TransactActionIn>,
}

pub async fn transact_get_items(engine: &Arc<Engine>, input: TransactGetIn) -> Reply {
    let mut c = Constraints::new();
    c.enumeration(
        "returnConsumedCapacity",
        input.return_consumed_capacity.as_deref(),
        RETURN_CONSUMED,
    );
    c.not_null("transactItems", &input.transact_items);
    let entries = input.transact_items.unwrap_or_default();
    let rendered = format!("[{} entries]", entries.len());
    c.list_length("transactItems", &rendered, entries.len(), 1, 100);
    check(c)?;
    let mut items = Vec::with_capacity(entries.len());
    for entry in entries {
        let Some(get) = entry.get else {
            return Err(ApiError::validation("TransactItems can only contain Get"));
        };
        let expressions = expressions(
            get.expression_attribute_names.clone(),
            None,
            get.projection_expression.is_some(),
            false,
            "",
        )?;
        items.push(TransactGetItem {
            table_name: get.table_name.clone().unwrap_or_default(),
            key: get
                .key
                .as_ref()
                .map(WireItemJson::parse)
                .transpose()?
                .unwrap_or_default(),
            projection_expression: get.projection_expression.clone(),
            expressions,
        });
    }
    let (found, capacity) = engine.transact_get_items(items).await?;
    let responses: Vec<Value> = found
        .iter()
        .map(|item| match item {
            Some(item) => json!({"Item": serde_json::to_value(ItemOut(item)).unwrap_or(Value::Null)}),
            None => json!({}),
        })
        .collect();
    let mut out = json!({"Responses": responses});
    if let Some(consumed) = capacity_json(input.return_consumed_capacity.as_deref(), &capacity) {
        out["ConsumedCapacity"] = consumed;
    }
    to_json(&out)
}

// ----- TimeToLive -----

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateTtlIn {
    table_name: Option<String>,
    time_to_live_specification: Option<TtlSpecificationIn>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct TtlSpecificationIn {
    enabled: Option<bool>,
    attribute_name: Option<String>,
}

pub async fn update_time_to_live(engine: &Arc<Engine>, input: UpdateTtlIn) -> Reply {
    let mut c = Constraints::new();
    c.table_name("tableName", input.table_name.as_deref(), 3);
    c.not_null("tableName", &input.table_name);
    c.not_null("timeToLiveSpecification", &input.time_to_live_specification);
    if let Some(spec) = &input.time_to_live_specification {
        c.length(
            "timeToLiveSpecification.attributeName",
            spec.attribute_name.as_deref(),
            1,
            255,
        );
        c.not_null("timeToLiveSpecification.attributeName", &spec.attribute_name);
        c.not_null("timeToLiveSpecification.enabled", &spec.enabled);
    }
    check(c)?;
    let spec = input.time_to_live_specification.unwrap_or_default();
    let state = engine
        .update_time_to_live(
            input.table_name.as_deref().unwrap_or(""),
            spec.enabled.unwrap_or(false),
            spec.attribute_name.as_deref().unwrap_or(""),
        )
        .await?;
    to_json(&json!({"TimeToLiveSpecification": {"Enabled": state.enabled, "AttributeName": state.attribute}}))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct TableNameIn {
    table_name: Option<String>,
}

pub fn describe_time_to_live(engine: &Arc<Engine>, input: TableNameIn) -> Reply {
    let mut c = Constraints::new();
    c.table_name("tableName", input.table_name.as_deref(), 1);
    c.not_null("tableName", &input.table_name);
    check(c)?;
    let ttl = engine.describe_time_to_live(input.table_name.as_deref().unwrap_or(""))?;
    let description = match ttl {
        Some(ttl) if ttl.enabled => json!({"TimeToLiveStatus": "ENABLED", "AttributeName": ttl.attribute}),
        _ => json!({"TimeToLiveStatus": "DISABLED"}),
    };
    to_json(&json!({"TimeToLiveDescription": description}))
}

// ----- tags and continuous backups -----

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct TagResourceIn {
    resource_arn: Option<String>,
    tags: Option<Vec<super::wire::TagIn>>,
    tag_keys: Option<Vec<String>>,
    next_token: Option<String>,
}

fn arn_constraints(c: &mut Constraints, arn: &Option<String>) {
    c.length("resourceArn", arn.as_deref(), 1, 1283);
    c.not_null("resourceArn", arn);
}

pub async fn tag_resource(engine: &Arc<Engine>, input: TagResourceIn) -> Reply {
    let mut c = Constraints::new();
    arn_constraints(&mut c, &input.resource_arn);
    c.not_null("tags", &input.tags);
    for (position, tag) in input.tags.iter().flatten().enumerate() {
        c.length(&format!("tags.{}.member.key", position + 1), tag.key.as_deref(), 1, 128);
        c.not_null(&format!("tags.{}.member.key", position + 1), &tag.key);
        c.length(
            &format!("tags.{}.member.value", position + 1),
            tag.value.as_deref(),
            0,
            256,
        );
        c.not_null(&format!("tags.{}.member.value", position + 1), &tag.value);
    }
    check(c)?;
    let tags = input
        .tags
        .unwrap_or_default()
        .into_iter()
        .map(|t| (t.key.unwrap_or_default(), t.value.unwrap_or_default()))
        .collect();
    engine
        .tag_resource(input.resource_arn.as_deref().unwrap_or(""), tags)
        .await?;
    to_json(&json!({}))
}

pub async fn untag_resource(engine: &Arc<Engine>, input: TagResourceIn) -> Reply {
    let mut c = Constraints::new();
    arn_constraints(&mut c, &input.resource_arn);
    c.not_null("tagKeys", &input.tag_keys);
    check(c)?;
    engine
        .untag_resource(
            input.resource_arn.as_deref().unwrap_or(""),
            input.tag_keys.unwrap_or_default(),
        )
        .await?;
    to_json(&json!({}))
}

pub fn list_tags_of_resource(engine: &Arc<Engine>, input: TagResourceIn) -> Reply {
    let mut c = Constraints::new();
    arn_constraints(&mut c, &input.resource_arn);
    check(c)?;
    let _ = input.next_token;
    let tags: Vec<Value> = engine
        .list_tags(input.resource_arn.as_deref().unwrap_or(""))?
        .into_iter()
        .map(|(key, value)| json!({"Key": key, "Value": value}))
        .collect();
    to_json(&json!({"Tags": tags}))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct ContinuousBackupsIn {
    table_name: Option<String>,
    point_in_time_recovery_specification: Option<PitrIn>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct PitrIn {
    point_in_time_recovery_enabled: Option<bool>,
}

fn continuous_backups(engine: &Arc<Engine>, name: &str, enabled: bool) -> Value {
    let mut recovery = json!({"PointInTimeRecoveryStatus": if enabled { "ENABLED" } else { "DISABLED" }});
    if enabled {
        let now = engine.now_ms() as f64 / 1000.0;
        let created = engine.created_at_ms(name).unwrap_or(0) as f64 / 1000.0;
        recovery["EarliestRestorableDateTime"] = json!(created);
        recovery["LatestRestorableDateTime"] = json!(now);
        recovery["RecoveryPeriodInDays"] = json!(35);
    }
    json!({"ContinuousBackupsDescription": {
        "ContinuousBackupsStatus": "ENABLED",
        "PointInTimeRecoveryDescription": recovery,
    }})
}

pub fn describe_continuous_backups(engine: &Arc<Engine>, input: ContinuousBackupsIn) -> Reply {
    let mut c = Constraints::new();
    c.table_name("tableName", input.table_name.as_deref(), 3);
    c.not_null("tableName", &input.table_name);
    check(c)?;
    let name = input.table_name.unwrap_or_default();
    let enabled = engine.point_in_time_recovery(&name)?;
    to_json(&continuous_backups(engine, &name, enabled))
}

pub async fn update_continuous_backups(engine: &Arc<Engine>, input: ContinuousBackupsIn) -> Reply {
    let mut c = Constraints::new();
    c.table_name("tableName", input.table_name.as_deref(), 3);
    c.not_null("tableName", &input.table_name);
    c.not_null(
        "pointInTimeRecoverySpecification",
        &input.point_in_time_recovery_specification,
    );
    if let Some(spec) = &input.point_in_time_recovery_specification {
        c.not_null(
            "pointInTimeRecoverySpecification.pointInTimeRecoveryEnabled",
            &spec.point_in_time_recovery_enabled,
        );
    }
    check(c)?;
    let name = input.table_name.unwrap_or_default();
    let enabled = input
        .point_in_time_recovery_specification
        .and_then(|s| s.point_in_time_recovery_enabled)
        .unwrap_or(false);
    let enabled = engine.set_point_in_time_recovery(&name, enabled).await?;
    to_json(&continuous_backups(engine, &name, enabled))
}
