//! The wire side of table definitions: secondary indexes, streams and tags in CreateTable and
//! UpdateTable requests (member constraints as AWS words them), and their rendering in a
//! TableDescription.

use serde_json::{Value, json};
use stratus_dynamodb::engine::TableDescription;
use stratus_dynamodb::index::{IndexInput, IndexKind, IndexStatus, Projection};
use stratus_dynamodb::key::ScalarType;
use stratus_dynamodb::table::{Billing, IndexUpdate, StreamInput, StreamViewType};

use super::validate::Constraints;
use super::wire;

const PROJECTION_TYPES: &[&str] = &["ALL", "KEYS_ONLY", "INCLUDE"];
const STREAM_VIEW_TYPES: &[&str] = &["NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"];

/// Member constraints of one index and its conversion; `member` is e.g.
/// `globalSecondaryIndexes.1.member`.
pub fn index_in(c: &mut Constraints, member: &str, index: wire::IndexIn) -> IndexInput {
    c.not_null(&format!("{member}.projection"), &index.projection);
    if let Some(projection) = &index.projection {
        c.enumeration(
            &format!("{member}.projection.projectionType"),
            projection.projection_type.as_deref(),
            PROJECTION_TYPES,
        );
        if let Some(names) = &projection.non_key_attributes {
            let rendered = format!("[{}]", names.join(", "));
            c.list_length(
                &format!("{member}.projection.nonKeyAttributes"),
                &rendered,
                names.len(),
                1,
                20,
            );
        }
    }
    c.not_null(&format!("{member}.keySchema"), &index.key_schema);
    if let Some(schema) = &index.key_schema {
        for (position, element) in schema.iter().enumerate() {
            let element_member = format!("{member}.keySchema.{}.member", position + 1);
            c.enumeration(
                &format!("{element_member}.keyType"),
                element.key_type.as_deref(),
                &["HASH", "RANGE"],
            );
            c.not_null(&format!("{element_member}.keyType"), &element.key_type);
            c.not_null(&format!("{element_member}.attributeName"), &element.attribute_name);
        }
        let rendered = format!(
            "[{}]",
            schema
                .iter()
                .map(|k| format!(
                    "KeySchemaElement(attributeName={}, keyType={})",
                    k.attribute_name.as_deref().unwrap_or("null"),
                    k.key_type.as_deref().unwrap_or("null")
                ))
                .collect::<Vec<_>>()
                .join(", ")
        );
        c.list_length(&format!("{member}.keySchema"), &rendered, schema.len(), 1, 2);
    }
    c.table_name(&format!("{member}.indexName"), index.index_name.as_deref(), 3);
    c.not_null(&format!("{member}.indexName"), &index.index_name);
    let throughput = super::throughput_in(
        c,
        &format!("{member}.provisionedThroughput"),
        index.provisioned_throughput,
    );
    let projection = index.projection.unwrap_or_default();
    IndexInput {
        name: index.index_name.unwrap_or_default(),
        key_schema: index
            .key_schema
            .unwrap_or_default()
            .into_iter()
            .map(|k| (k.attribute_name.unwrap_or_default(), k.key_type.unwrap_or_default()))
            .collect(),
        projection_type: projection.projection_type,
        non_key_attributes: projection.non_key_attributes,
        throughput,
    }
}

pub fn indexes_in(c: &mut Constraints, member: &str, indexes: Option<Vec<wire::IndexIn>>) -> Option<Vec<IndexInput>> {
    indexes.map(|indexes| {
        indexes
            .into_iter()
            .enumerate()
            .map(|(position, index)| index_in(c, &format!("{member}.{}.member", position + 1), index))
            .collect()
    })
}

pub fn stream_in(c: &mut Constraints, stream: Option<wire::StreamSpecificationIn>) -> Option<StreamInput> {
    let stream = stream?;
    c.enumeration(
        "streamSpecification.streamViewType",
        stream.stream_view_type.as_deref(),
        STREAM_VIEW_TYPES,
    );
    c.not_null("streamSpecification.streamEnabled", &stream.stream_enabled);
    Some(StreamInput {
        enabled: stream.stream_enabled.unwrap_or(false),
        view_type: stream.stream_view_type.as_deref().and_then(StreamViewType::from_name),
    })
}

pub fn attribute_definitions_in(
    c: &mut Constraints,
    definitions: &[wire::AttributeDefinitionIn],
) -> Vec<(String, ScalarType)> {
    for (position, definition) in definitions.iter().enumerate() {
        let member = format!("attributeDefinitions.{}.member", position + 1);
        c.enumeration(
            &format!("{member}.attributeType"),
            definition.attribute_type.as_deref(),
            &["B", "N", "S"],
        );
        c.not_null(&format!("{member}.attributeType"), &definition.attribute_type);
        c.not_null(&format!("{member}.attributeName"), &definition.attribute_name);
    }
    definitions
        .iter()
        .map(|d| {
            let scalar = ScalarType::from_name(d.attribute_type.as_deref().unwrap_or("S")).unwrap_or(ScalarType::S);
            (d.attribute_name.clone().unwrap_or_default(), scalar)
        })
        .collect()
}

pub fn index_updates_in(c: &mut Constraints, updates: Option<Vec<wire::IndexUpdateIn>>) -> Vec<IndexUpdate> {
    let mut out = Vec::new();
    for (position, update) in updates.unwrap_or_default().into_iter().enumerate() {
        let member = format!("globalSecondaryIndexUpdates.{}.member", position + 1);
        if let Some(create) = update.create {
            out.push(IndexUpdate::Create(index_in(c, &format!("{member}.create"), create)));
        } else if let Some(change) = update.update {
            c.table_name(&format!("{member}.update.indexName"), change.index_name.as_deref(), 3);
            c.not_null(&format!("{member}.update.indexName"), &change.index_name);
            c.not_null(
                &format!("{member}.update.provisionedThroughput"),
                &change.provisioned_throughput,
            );
            let throughput = super::throughput_in(
                c,
                &format!("{member}.update.provisionedThroughput"),
                change.provisioned_throughput,
            );
            out.push(IndexUpdate::Update {
                name: change.index_name.unwrap_or_default(),
                throughput: throughput.unwrap_or(stratus_dynamodb::table::Throughput { read: 1, write: 1 }),
            });
        } else if let Some(delete) = update.delete {
            c.table_name(&format!("{member}.delete.indexName"), delete.index_name.as_deref(), 3);
            c.not_null(&format!("{member}.delete.indexName"), &delete.index_name);
            out.push(IndexUpdate::Delete {
                name: delete.index_name.unwrap_or_default(),
            });
        }
    }
    out
}

fn key_schema_json(schema: &stratus_dynamodb::key::KeySchema) -> Vec<Value> {
    let mut out = vec![json!({"AttributeName": schema.hash.name, "KeyType": "HASH"})];
    if let Some(range) = &schema.range {
        out.push(json!({"AttributeName": range.name, "KeyType": "RANGE"}));
    }
    out
}

fn projection_json(projection: &Projection) -> Value {
    match projection {
        Projection::Include(names) => json!({"ProjectionType": "INCLUDE", "NonKeyAttributes": names}),
        other => json!({"ProjectionType": other.type_name()}),
    }
}

/// Adds indexes and the stream to a TableDescription.
pub fn describe_extras(description: &TableDescription, table: &mut Value) {
    let mut globals = Vec::new();
    let mut locals = Vec::new();
    for index in &description.indexes {
        let definition = &index.definition;
        let mut value = json!({
            "IndexName": definition.name,
            "KeySchema": key_schema_json(&definition.key_schema),
            "Projection": projection_json(&definition.projection),
            "IndexSizeBytes": index.size_bytes,
            "ItemCount": index.item_count,
            "IndexArn": index.arn,
        });
        if definition.kind == IndexKind::Global {
            let (read, write) = match (definition.throughput, description.definition.billing) {
                (Some(t), Billing::Provisioned { .. }) => (t.read, t.write),
                _ => (0, 0),
            };
            value["IndexStatus"] = json!(definition.status.name());
            value["ProvisionedThroughput"] =
                json!({"NumberOfDecreasesToday": 0, "ReadCapacityUnits": read, "WriteCapacityUnits": write});
            if definition.status == IndexStatus::Creating {
                value["Backfilling"] = json!(true);
            }
            globals.push(value);
        } else {
            locals.push(value);
        }
    }
    if !globals.is_empty() {
        table["GlobalSecondaryIndexes"] = Value::Array(globals);
    }
    if !locals.is_empty() {
        table["LocalSecondaryIndexes"] = Value::Array(locals);
    }
    if let Some(stream) = &description.definition.stream {
        if stream.enabled {
            table["StreamSpecification"] = json!({"StreamEnabled": true, "StreamViewType": stream.view_type.name()});
        }
        table["LatestStreamLabel"] = json!(stream.label);
        if let Some(arn) = &description.stream_arn {
            table["LatestStreamArn"] = json!(arn);
        }
    }
}
