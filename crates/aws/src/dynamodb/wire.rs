//! DynamoDB JSON 1.0 wire types: request members as clients send them, attribute values in
//! their `{"S": "..."}` form, and response rendering. Engine types are converted by hand here.

use std::collections::HashMap;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};
use stratus_dynamodb::number::Number;
use stratus_dynamodb::value::{AttributeValue, Item, SetError, ValueType};

use super::legacy::{AttributeUpdateIn, ConditionIn, ExpectedIn, Ordered};

/// Deepest nesting of maps and lists accepted (DynamoDB allows 32 levels).
const NESTING_MAX: usize = 32;

/// An attribute value as received: either a valid value or AWS's validation message for it,
/// reported later in AWS's order (type errors in JSON are SerializationExceptions at once).
#[derive(Clone, Debug, PartialEq)]
pub struct WireValue(pub Result<AttributeValue, String>);

/// Members of `{"S": ...}` collected before the value is validated.
#[derive(Default)]
struct Members {
    s: Option<String>,
    n: Option<String>,
    b: Option<Vec<u8>>,
    bool_: Option<bool>,
    null: Option<bool>,
    m: Option<HashMap<String, WireValue>>,
    l: Option<Vec<WireValue>>,
    ss: Option<Vec<String>>,
    ns: Option<Vec<String>>,
    bs: Option<Vec<Vec<u8>>>,
}

struct Base64Bytes(Vec<u8>);

impl<'de> Deserialize<'de> for Base64Bytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        BASE64.decode(text.as_bytes()).map(Base64Bytes).map_err(|_| {
            de::Error::custom(format!(
                "'{text}' can not be converted to a Blob: only base-64-encoded strings are convertible to bytes"
            ))
        })
    }
}

fn invalid(message: &str) -> String {
    format!("One or more parameter values were invalid: {message}")
}

fn set_message(error: SetError) -> String {
    match error {
        SetError::Duplicates(ValueType::Ns, _) => error.message(),
        _ => invalid(&error.message()),
    }
}

impl Members {
    fn into_value(self) -> Result<AttributeValue, String> {
        let present = [
            self.s.is_some(),
            self.n.is_some(),
            self.b.is_some(),
            self.bool_.is_some(),
            self.null.is_some(),
            self.m.is_some(),
            self.l.is_some(),
            self.ss.is_some(),
            self.ns.is_some(),
            self.bs.is_some(),
        ]
        .iter()
        .filter(|&&p| p)
        .count();
        if present == 0 {
            return Err("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes".into());
        }
        if present > 1 {
            return Err("Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes".into());
        }
        if let Some(s) = self.s {
            return Ok(AttributeValue::S(s));
        }
        if let Some(n) = self.n {
            return Number::parse(&n).map(AttributeValue::N).map_err(|e| e.message());
        }
        if let Some(b) = self.b {
            return Ok(AttributeValue::B(b));
        }
        if let Some(flag) = self.bool_ {
            return Ok(AttributeValue::Bool(flag));
        }
        if let Some(null) = self.null {
            return if null {
                Ok(AttributeValue::Null)
            } else {
                Err(invalid("Null attribute value types must have the value of true"))
            };
        }
        if let Some(map) = self.m {
            let mut item = Item::new();
            for (name, value) in map {
                item.insert(name, value.0?);
            }
            return Ok(AttributeValue::M(item));
        }
        if let Some(list) = self.l {
            return list
                .into_iter()
                .map(|v| v.0)
                .collect::<Result<Vec<_>, _>>()
                .map(AttributeValue::L);
        }
        if let Some(set) = self.ss {
            return AttributeValue::string_set(set).map_err(set_message);
        }
        if let Some(set) = self.ns {
            if set.is_empty() {
                return Err(invalid("An number set  may not be empty"));
            }
            let numbers = set
                .iter()
                .map(|n| Number::parse(n).map_err(|e| e.message()))
                .collect::<Result<Vec<_>, _>>()?;
            return AttributeValue::number_set(numbers).map_err(set_message);
        }
        if let Some(set) = self.bs {
            return AttributeValue::binary_set(set).map_err(set_message);
        }
        Err("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes".into())
    }
}

impl<'de> Deserialize<'de> for WireValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ValueVisitor;
        impl<'de> Visitor<'de> for ValueVisitor {
            type Value = WireValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an AttributeValue structure")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<WireValue, A::Error> {
                let mut members = Members::default();
                while let Some(key) = access.next_key::<std::borrow::Cow<'de, str>>()? {
                    match key.as_ref() {
                        "S" => members.s = access.next_value()?,
                        "N" => members.n = access.next_value()?,
                        "B" => members.b = access.next_value::<Option<Base64Bytes>>()?.map(|b| b.0),
                        "BOOL" => members.bool_ = access.next_value()?,
                        "NULL" => members.null = access.next_value()?,
                        "M" => members.m = access.next_value()?,
                        "L" => members.l = access.next_value()?,
                        "SS" => members.ss = access.next_value()?,
                        "NS" => members.ns = access.next_value()?,
                        "BS" => {
                            members.bs = access
                                .next_value::<Option<Vec<Base64Bytes>>>()?
                                .map(|v| v.into_iter().map(|b| b.0).collect())
                        }
                        _ => {
                            access.next_value::<de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(WireValue(members.into_value()))
            }
        }
        deserializer.deserialize_map(ValueVisitor)
    }
}

/// A map of attribute name to value (an item, a key, ExpressionAttributeValues).
pub type WireItem = HashMap<String, WireValue>;

/// Converts a received item, returning the first invalid value's message.
pub fn item_from_wire(item: WireItem) -> Result<Item, String> {
    let mut converted = Item::new();
    for (name, value) in item {
        let value = value.0?;
        if depth(&value) > NESTING_MAX {
            return Err("Nesting Levels have exceeded supported limits".to_string());
        }
        converted.insert(name, value);
    }
    Ok(converted)
}

/// Converts one received value (a PartiQL parameter), checking its nesting.
pub fn value_from_wire(value: WireValue) -> Result<AttributeValue, String> {
    let value = value.0?;
    if depth(&value) > NESTING_MAX {
        return Err("Nesting Levels have exceeded supported limits".to_string());
    }
    Ok(value)
}

fn depth(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::M(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        AttributeValue::L(list) => 1 + list.iter().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// Renders an attribute value as DynamoDB JSON.
pub struct Av<'a>(pub &'a AttributeValue);

impl Serialize for Av<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        match self.0 {
            AttributeValue::S(s) => map.serialize_entry("S", s)?,
            AttributeValue::N(n) => map.serialize_entry("N", &n.to_string())?,
            AttributeValue::B(b) => map.serialize_entry("B", &BASE64.encode(b))?,
            AttributeValue::Bool(b) => map.serialize_entry("BOOL", b)?,
            AttributeValue::Null => map.serialize_entry("NULL", &true)?,
            AttributeValue::M(m) => map.serialize_entry("M", &ItemOut(m))?,
            AttributeValue::L(l) => map.serialize_entry("L", &ListOut(l))?,
            AttributeValue::Ss(set) => map.serialize_entry("SS", set)?,
            AttributeValue::Ns(set) => {
                let texts: Vec<String> = set.iter().map(Number::to_string).collect();
                map.serialize_entry("NS", &texts)?
            }
            AttributeValue::Bs(set) => {
                let texts: Vec<String> = set.iter().map(|b| BASE64.encode(b)).collect();
                map.serialize_entry("BS", &texts)?
            }
        }
        map.end()
    }
}

struct ListOut<'a>(&'a [AttributeValue]);

impl Serialize for ListOut<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for value in self.0 {
            seq.serialize_element(&Av(value))?;
        }
        seq.end()
    }
}

/// Renders an item as DynamoDB JSON.
pub struct ItemOut<'a>(pub &'a Item);

impl Serialize for ItemOut<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in self.0 {
            map.serialize_entry(name, &Av(value))?;
        }
        map.end()
    }
}

// ----- requests -----

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct AttributeDefinitionIn {
    pub attribute_name: Option<String>,
    pub attribute_type: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct KeySchemaElementIn {
    pub attribute_name: Option<String>,
    pub key_type: Option<String>,
}

#[derive(Deserialize, Default, Clone, Copy)]
#[serde(rename_all = "PascalCase")]
pub struct ThroughputIn {
    pub read_capacity_units: Option<i64>,
    pub write_capacity_units: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct CreateTableIn {
    pub table_name: Option<String>,
    pub attribute_definitions: Option<Vec<AttributeDefinitionIn>>,
    pub key_schema: Option<Vec<KeySchemaElementIn>>,
    pub billing_mode: Option<String>,
    pub provisioned_throughput: Option<ThroughputIn>,
    pub local_secondary_indexes: Option<Vec<IndexIn>>,
    pub global_secondary_indexes: Option<Vec<IndexIn>>,
    pub stream_specification: Option<StreamSpecificationIn>,
    pub tags: Option<Vec<TagIn>>,
}

/// A GlobalSecondaryIndex / LocalSecondaryIndex of CreateTable, or the `Create` of an update.
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct IndexIn {
    pub index_name: Option<String>,
    pub key_schema: Option<Vec<KeySchemaElementIn>>,
    pub projection: Option<ProjectionIn>,
    pub provisioned_throughput: Option<ThroughputIn>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct ProjectionIn {
    pub projection_type: Option<String>,
    pub non_key_attributes: Option<Vec<String>>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct StreamSpecificationIn {
    pub stream_enabled: Option<bool>,
    pub stream_view_type: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct TagIn {
    pub key: Option<String>,
    pub value: Option<String>,
}

/// One entry of `GlobalSecondaryIndexUpdates`.
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct IndexUpdateIn {
    pub create: Option<IndexIn>,
    pub update: Option<IndexThroughputIn>,
    pub delete: Option<IndexNameIn>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct IndexThroughputIn {
    pub index_name: Option<String>,
    pub provisioned_throughput: Option<ThroughputIn>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct IndexNameIn {
    pub index_name: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct TableNameIn {
    pub table_name: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct ListTablesIn {
    pub exclusive_start_table_name: Option<String>,
    pub limit: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateTableIn {
    pub table_name: Option<String>,
    pub billing_mode: Option<String>,
    pub provisioned_throughput: Option<ThroughputIn>,
    pub attribute_definitions: Option<Vec<AttributeDefinitionIn>>,
    pub global_secondary_index_updates: Option<Vec<IndexUpdateIn>>,
    pub stream_specification: Option<StreamSpecificationIn>,
}

/// Members shared by the item operations; each operation reads the ones it has.
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct ItemRequestIn {
    pub table_name: Option<String>,
    pub item: Option<WireItem>,
    pub key: Option<WireItem>,
    pub condition_expression: Option<String>,
    pub update_expression: Option<String>,
    pub projection_expression: Option<String>,
    pub expression_attribute_names: Option<HashMap<String, String>>,
    pub expression_attribute_values: Option<WireItem>,
    pub return_values: Option<String>,
    pub return_consumed_capacity: Option<String>,
    pub return_item_collection_metrics: Option<String>,
    pub return_values_on_condition_check_failure: Option<String>,
    pub consistent_read: Option<bool>,
    // Legacy (non-expression) parameters, translated into expressions (see `legacy.rs`).
    pub expected: Option<Ordered<ExpectedIn>>,
    pub conditional_operator: Option<String>,
    pub attribute_updates: Option<Ordered<AttributeUpdateIn>>,
    pub attributes_to_get: Option<Vec<String>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct ReadRequestIn {
    pub table_name: Option<String>,
    pub index_name: Option<String>,
    pub key_condition_expression: Option<String>,
    pub filter_expression: Option<String>,
    pub projection_expression: Option<String>,
    pub expression_attribute_names: Option<HashMap<String, String>>,
    pub expression_attribute_values: Option<WireItem>,
    pub select: Option<String>,
    pub limit: Option<i64>,
    pub exclusive_start_key: Option<WireItem>,
    pub scan_index_forward: Option<bool>,
    pub consistent_read: Option<bool>,
    pub segment: Option<i64>,
    pub total_segments: Option<i64>,
    pub return_consumed_capacity: Option<String>,
    pub key_conditions: Option<Ordered<ConditionIn>>,
    pub query_filter: Option<Ordered<ConditionIn>>,
    pub scan_filter: Option<Ordered<ConditionIn>>,
    pub conditional_operator: Option<String>,
    pub attributes_to_get: Option<Vec<String>>,
}

// ----- responses -----

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ConsumedCapacityOut {
    pub table_name: String,
    pub capacity_units: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table: Option<CapacityOut>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CapacityOut {
    pub capacity_units: f64,
}
