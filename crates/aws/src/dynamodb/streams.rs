//! The DynamoDB Streams API (`X-Amz-Target: DynamoDBStreams_20120810.<Op>`, JSON 1.0):
//! ListStreams, DescribeStream, GetShardIterator, GetRecords; and the rendering of stream
//! records, shared with the Lambda events of stream triggers.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Map, Value, json};
use stratus_dynamodb::Engine;
use stratus_dynamodb::engine::ShardIteratorType;
use stratus_dynamodb::stream::{self, StreamRecord};

use super::validate::Constraints;
use super::wire::ItemOut;
use super::{Reply, check, parse, to_json};

/// The `X-Amz-Target` prefix of the Streams API.
pub const TARGET_PREFIX: &str = "DynamoDBStreams_20120810.";

/// Every operation of the Streams API, by AWS's names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    ListStreams,
    DescribeStream,
    GetShardIterator,
    GetRecords,
}

impl Operation {
    pub fn from_name(name: &str) -> Option<Operation> {
        Some(match name {
            "ListStreams" => Operation::ListStreams,
            "DescribeStream" => Operation::DescribeStream,
            "GetShardIterator" => Operation::GetShardIterator,
            "GetRecords" => Operation::GetRecords,
            _ => return None,
        })
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct ListStreamsIn {
    table_name: Option<String>,
    limit: Option<i64>,
    exclusive_start_stream_arn: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct DescribeStreamIn {
    stream_arn: Option<String>,
    limit: Option<i64>,
    exclusive_start_shard_id: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct GetShardIteratorIn {
    stream_arn: Option<String>,
    shard_id: Option<String>,
    shard_iterator_type: Option<String>,
    sequence_number: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct GetRecordsIn {
    shard_iterator: Option<String>,
    limit: Option<i64>,
}

pub async fn handle(engine: &Arc<Engine>, operation: Operation, body: &[u8]) -> Reply {
    match operation {
        Operation::ListStreams => list_streams(engine, parse(body)?),
        Operation::DescribeStream => describe_stream(engine, parse(body)?),
        Operation::GetShardIterator => get_shard_iterator(engine, parse(body)?),
        Operation::GetRecords => get_records(engine, parse(body)?),
    }
}

fn list_streams(engine: &Arc<Engine>, input: ListStreamsIn) -> Reply {
    let mut c = Constraints::new();
    c.table_name("tableName", input.table_name.as_deref(), 3);
    c.at_least("limit", input.limit, 1);
    c.at_most("limit", input.limit, 100);
    c.length(
        "exclusiveStartStreamArn",
        input.exclusive_start_stream_arn.as_deref(),
        37,
        1024,
    );
    check(c)?;
    let limit = input.limit.unwrap_or(100) as usize;
    let (streams, last) = engine.list_streams(
        input.table_name.as_deref(),
        input.exclusive_start_stream_arn.as_deref(),
        limit,
    )?;
    let streams: Vec<Value> = streams
        .into_iter()
        .map(|(arn, table, label)| json!({"StreamArn": arn, "TableName": table, "StreamLabel": label}))
        .collect();
    let mut out = json!({"Streams": streams});
    if let Some(last) = last {
        out["LastEvaluatedStreamArn"] = json!(last);
    }
    to_json(&out)
}

fn describe_stream(engine: &Arc<Engine>, input: DescribeStreamIn) -> Reply {
    let mut c = Constraints::new();
    c.length("streamArn", input.stream_arn.as_deref(), 37, 1024);
    c.not_null("streamArn", &input.stream_arn);
    c.at_least("limit", input.limit, 1);
    c.at_most("limit", input.limit, 100);
    c.length(
        "exclusiveStartShardId",
        input.exclusive_start_shard_id.as_deref(),
        28,
        65,
    );
    check(c)?;
    let description = engine.describe_stream(input.stream_arn.as_deref().unwrap_or(""))?;
    let mut key_schema = vec![json!({"AttributeName": description.key_schema.hash.name, "KeyType": "HASH"})];
    if let Some(range) = &description.key_schema.range {
        key_schema.push(json!({"AttributeName": range.name, "KeyType": "RANGE"}));
    }
    let mut range = Map::new();
    range.insert(
        "StartingSequenceNumber".to_string(),
        json!(stream::sequence_text(description.first_sequence.unwrap_or(1))),
    );
    if !description.stream.enabled {
        range.insert(
            "EndingSequenceNumber".to_string(),
            json!(stream::sequence_text(description.last_sequence.unwrap_or(0))),
        );
    }
    // The one shard is listed unless the caller already paged past it.
    let shards = if input.exclusive_start_shard_id.as_deref() == Some(description.shard_id.as_str()) {
        Vec::new()
    } else {
        vec![json!({"ShardId": description.shard_id, "SequenceNumberRange": Value::Object(range)})]
    };
    to_json(&json!({"StreamDescription": {
        "StreamArn": description.arn,
        "StreamLabel": description.stream.label,
        "StreamStatus": if description.stream.enabled { "ENABLED" } else { "DISABLED" },
        "StreamViewType": description.stream.view_type.name(),
        "CreationRequestDateTime": description.created_ms as f64 / 1000.0,
        "TableName": description.table_name,
        "KeySchema": key_schema,
        "Shards": shards,
    }}))
}

fn get_shard_iterator(engine: &Arc<Engine>, input: GetShardIteratorIn) -> Reply {
    let mut c = Constraints::new();
    c.enumeration(
        "shardIteratorType",
        input.shard_iterator_type.as_deref(),
        &["TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"],
    );
    c.not_null("shardIteratorType", &input.shard_iterator_type);
    c.length("streamArn", input.stream_arn.as_deref(), 37, 1024);
    c.not_null("streamArn", &input.stream_arn);
    c.length("shardId", input.shard_id.as_deref(), 28, 65);
    c.not_null("shardId", &input.shard_id);
    c.length("sequenceNumber", input.sequence_number.as_deref(), 21, 40);
    check(c)?;
    let kind = input
        .shard_iterator_type
        .as_deref()
        .and_then(ShardIteratorType::from_name)
        .unwrap_or(ShardIteratorType::Latest);
    let iterator = engine.get_shard_iterator(
        input.stream_arn.as_deref().unwrap_or(""),
        input.shard_id.as_deref().unwrap_or(""),
        kind,
        input.sequence_number.as_deref(),
    )?;
    to_json(&json!({"ShardIterator": iterator}))
}

fn get_records(engine: &Arc<Engine>, input: GetRecordsIn) -> Reply {
    let mut c = Constraints::new();
    c.at_least("limit", input.limit, 1);
    c.at_most("limit", input.limit, stream::RECORDS_MAX as i64);
    c.length("shardIterator", input.shard_iterator.as_deref(), 1, 2048);
    c.not_null("shardIterator", &input.shard_iterator);
    check(c)?;
    let limit = input.limit.unwrap_or(stream::RECORDS_MAX as i64) as usize;
    let (records, next) = engine.get_records(input.shard_iterator.as_deref().unwrap_or(""), limit)?;
    let records: Vec<Value> = records
        .iter()
        .map(|record| record_json(record, &engine.region, false))
        .collect();
    let mut out = json!({"Records": records});
    if let Some(next) = next {
        out["NextShardIterator"] = json!(next);
    }
    to_json(&out)
}

/// A stream record as the Streams API renders it, or (`lambda_event`) as a Lambda event record
/// renders it: lower-case `userIdentity` members and whole-second creation times there.
pub fn record_json(record: &StreamRecord, region: &str, lambda_event: bool) -> Value {
    let mut dynamodb = Map::new();
    let created = if lambda_event {
        json!(record.created_ms.div_euclid(1000))
    } else {
        json!((record.created_ms.div_euclid(1000)) as f64)
    };
    dynamodb.insert("ApproximateCreationDateTime".to_string(), created);
    dynamodb.insert(
        "Keys".to_string(),
        serde_json::to_value(ItemOut(&record.keys)).unwrap_or(Value::Null),
    );
    if let Some(image) = &record.new_image {
        dynamodb.insert(
            "NewImage".to_string(),
            serde_json::to_value(ItemOut(image)).unwrap_or(Value::Null),
        );
    }
    if let Some(image) = &record.old_image {
        dynamodb.insert(
            "OldImage".to_string(),
            serde_json::to_value(ItemOut(image)).unwrap_or(Value::Null),
        );
    }
    dynamodb.insert(
        "SequenceNumber".to_string(),
        json!(stream::sequence_text(record.sequence)),
    );
    dynamodb.insert("SizeBytes".to_string(), json!(record.size_bytes));
    dynamodb.insert("StreamViewType".to_string(), json!(record.view_type.name()));
    let mut out = json!({
        "eventID": event_id(record.sequence),
        "eventName": record.event_name.name(),
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": Value::Object(dynamodb),
    });
    if record.by_service {
        out["userIdentity"] = if lambda_event {
            json!({"type": "Service", "principalId": "dynamodb.amazonaws.com"})
        } else {
            json!({"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"})
        };
    }
    out
}

/// A 32-hex-digit event id, stable per record.
fn event_id(sequence: u64) -> String {
    let mut x = sequence ^ 0x9e37_79b9_7f4a_7c15;
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    let high = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    let low = high.rotate_left(29) ^ sequence;
    format!("{high:016x}{low:016x}")
}
