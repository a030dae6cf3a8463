//! Secondary indexes: their definitions, the storage keys of their entries, projections, and the
//! key ranges a Query selects in them.
//!
//! An index entry lives in the index's own space under
//! `partition_prefix(index hash) ‖ escaped(index range) ‖ 00 00 ‖ table storage key`. The index
//! range is byte-stuffed (`00` → `00 FF`, then a `00 00` terminator) so entries sort by index key
//! first and the table key that follows cannot disturb that order; the table key makes entries of
//! items with equal index keys distinct. The value is the projected item.

use std::ops::Bound;

use crate::error::Error;
use crate::expr::{KeyCondition, SortKeyCondition};
use crate::key::{self, KeyAttribute, KeySchema, ScalarType};
use crate::table::Throughput;
use crate::value::{AttributeValue, Item, item_size_bytes};

/// A range of storage keys: start and end bounds.
pub type KeyBounds = (Bound<Vec<u8>>, Bound<Vec<u8>>);

/// Most global secondary indexes per table.
pub const GLOBAL_INDEXES_MAX: usize = 20;
/// Most local secondary indexes per table.
pub const LOCAL_INDEXES_MAX: usize = 5;
/// Most distinct projected non-key attributes over all of a table's indexes.
pub const PROJECTED_ATTRIBUTES_MAX: usize = 100;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IndexKind {
    Global,
    Local,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Projection {
    All,
    KeysOnly,
    /// `INCLUDE` with its non-key attributes.
    Include(Vec<String>),
}

impl Projection {
    pub fn type_name(&self) -> &'static str {
        match self {
            Projection::All => "ALL",
            Projection::KeysOnly => "KEYS_ONLY",
            Projection::Include(_) => "INCLUDE",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IndexStatus {
    /// Being built from the table's items (UpdateTable added it).
    Creating,
    Active,
    Deleting,
}

impl IndexStatus {
    pub fn name(self) -> &'static str {
        match self {
            IndexStatus::Creating => "CREATING",
            IndexStatus::Active => "ACTIVE",
            IndexStatus::Deleting => "DELETING",
        }
    }
}

/// A secondary index as stored in its table's definition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexDefinition {
    pub name: String,
    pub kind: IndexKind,
    /// Names the index's storage space; never reused.
    pub id: u64,
    pub key_schema: KeySchema,
    pub projection: Projection,
    /// A global index's own throughput on a provisioned table.
    pub throughput: Option<Throughput>,
    pub status: IndexStatus,
}

/// What CreateTable or UpdateTable asks for about one index, after the wire layer's checks.
#[derive(Clone, Debug, Default)]
pub struct IndexInput {
    pub name: String,
    /// (AttributeName, KeyType) in request order.
    pub key_schema: Vec<(String, String)>,
    /// `ALL`, `KEYS_ONLY`, `INCLUDE`, or none given.
    pub projection_type: Option<String>,
    pub non_key_attributes: Option<Vec<String>>,
    pub throughput: Option<Throughput>,
}

impl IndexDefinition {
    pub fn space(&self) -> String {
        format!("index/{}", self.id)
    }

    /// Whether Query and Scan may read it (not while being built).
    pub fn is_readable(&self) -> bool {
        self.status == IndexStatus::Active
    }

    /// Checks an item's index key attributes as a write must: present ones must have the
    /// declared type and may not be empty. Absent ones make the item absent from the index.
    pub fn check_item(&self, item: &Item) -> Result<(), Error> {
        for attribute in self.key_schema.attributes() {
            let Some(value) = item.get(&attribute.name) else {
                continue;
            };
            if value.value_type() != attribute.scalar_type.value_type() {
                return Err(Error::validation(format!(
                    "One or more parameter values were invalid: Type mismatch for Index Key {} Expected: {} Actual: {} IndexName: {}",
                    attribute.name,
                    attribute.scalar_type.name(),
                    value.value_type().name(),
                    self.name
                )));
            }
            let empty = match value {
                AttributeValue::S(s) => s.is_empty(),
                AttributeValue::B(b) => b.is_empty(),
                _ => false,
            };
            if empty {
                return Err(Error::validation(format!(
                    "One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty string value. IndexName: {}, IndexKey: {}",
                    self.name, attribute.name
                )));
            }
        }
        Ok(())
    }

    /// The index-key part of an entry's storage key, or `None` when the item lacks an index key
    /// attribute (sparse indexes) or has one of another type.
    pub fn index_prefix(&self, item: &Item) -> Option<Vec<u8>> {
        let hash = item.get(&self.key_schema.hash.name)?;
        if hash.value_type() != self.key_schema.hash.scalar_type.value_type() {
            return None;
        }
        let mut prefix = key::partition_prefix(hash)?;
        if let Some(range) = &self.key_schema.range {
            let value = item.get(&range.name)?;
            if value.value_type() != range.scalar_type.value_type() {
                return None;
            }
            let mut raw = Vec::new();
            key::encode_scalar(value, &mut raw)?;
            escape(&raw, &mut prefix);
            prefix.extend_from_slice(&[0, 0]);
        }
        Some(prefix)
    }

    /// The storage key of an item's entry.
    pub fn entry_key(&self, item: &Item, table_key: &[u8]) -> Option<Vec<u8>> {
        let mut entry = self.index_prefix(item)?;
        entry.extend_from_slice(table_key);
        Some(entry)
    }

    /// The attributes the index keeps of an item: the table's and the index's keys, and the
    /// projected ones.
    pub fn project(&self, item: &Item, table: &KeySchema) -> Item {
        match &self.projection {
            Projection::All => item.clone(),
            projection => item
                .iter()
                .filter(|(name, _)| {
                    table.is_key_attribute(name)
                        || self.key_schema.is_key_attribute(name)
                        || matches!(projection, Projection::Include(names) if names.contains(name))
                })
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect(),
        }
    }

    /// The size of an item's entry, as DynamoDB counts item sizes: what [`Self::project`] keeps,
    /// measured without copying it.
    pub fn projected_size_bytes(&self, item: &Item, table: &KeySchema) -> usize {
        match &self.projection {
            Projection::All => item_size_bytes(item),
            projection => item
                .iter()
                .filter(|(name, _)| {
                    table.is_key_attribute(name)
                        || self.key_schema.is_key_attribute(name)
                        || matches!(projection, Projection::Include(names) if names.contains(name))
                })
                .map(|(name, value)| name.len() + value.size_bytes())
                .sum(),
        }
    }

    /// The key attributes a LastEvaluatedKey of this index carries: the index's and the table's.
    pub fn evaluated_key(&self, item: &Item, table: &KeySchema) -> Item {
        table
            .attributes()
            .chain(self.key_schema.attributes())
            .filter_map(|attribute| item.get(&attribute.name).map(|v| (attribute.name.clone(), v.clone())))
            .collect()
    }

    /// The storage key an ExclusiveStartKey names in this index.
    pub fn start_key(&self, start: &Item, table: &KeySchema) -> Result<Vec<u8>, Error> {
        let invalid = || Error::validation("The provided starting key is invalid");
        let expected = table
            .attributes()
            .chain(self.key_schema.attributes())
            .map(|a| a.name.as_str())
            .collect::<std::collections::BTreeSet<_>>();
        if start.len() != expected.len() || start.keys().any(|name| !expected.contains(name.as_str())) {
            return Err(invalid());
        }
        let table_key = table.storage_key(start).ok_or_else(invalid)?;
        self.entry_key(start, &table_key).ok_or_else(invalid)
    }

    /// The entry-key range a key condition selects.
    pub fn query_range(&self, condition: &KeyCondition) -> Result<KeyBounds, Error> {
        let mismatch = || {
            Error::validation(
                "One or more parameter values were invalid: Condition parameter type does not match schema type",
            )
        };
        let schema = &self.key_schema;
        if condition.partition_value.value_type() != schema.hash.scalar_type.value_type() {
            return Err(mismatch());
        }
        let prefix = key::partition_prefix(&condition.partition_value).ok_or_else(mismatch)?;
        let partition_end = match key::prefix_successor(&prefix) {
            Some(end) => Bound::Excluded(end),
            None => Bound::Unbounded,
        };
        let Some(sort) = &condition.sort else {
            return Ok((Bound::Included(prefix), partition_end));
        };
        let Some(range) = &schema.range else {
            return Err(mismatch());
        };
        // `with(v, tail)`: the prefix, v escaped, then `tail` (00 00 sorts before every entry of
        // v; 00 01 after them).
        let with = |value: &AttributeValue, tail: &[u8]| -> Result<Vec<u8>, Error> {
            if value.value_type() != range.scalar_type.value_type() {
                return Err(mismatch());
            }
            let mut raw = Vec::new();
            key::encode_scalar(value, &mut raw).ok_or_else(mismatch)?;
            let mut bound = prefix.clone();
            escape(&raw, &mut bound);
            bound.extend_from_slice(tail);
            Ok(bound)
        };
        const FIRST: &[u8] = &[0, 0];
        const AFTER: &[u8] = &[0, 1];
        Ok(match sort {
            SortKeyCondition::Eq(v) => (Bound::Included(with(v, FIRST)?), Bound::Excluded(with(v, AFTER)?)),
            SortKeyCondition::Lt(v) => (Bound::Included(prefix.clone()), Bound::Excluded(with(v, FIRST)?)),
            SortKeyCondition::Le(v) => (Bound::Included(prefix.clone()), Bound::Excluded(with(v, AFTER)?)),
            SortKeyCondition::Gt(v) => (Bound::Included(with(v, AFTER)?), partition_end),
            SortKeyCondition::Ge(v) => (Bound::Included(with(v, FIRST)?), partition_end),
            SortKeyCondition::Between(low, high) => {
                let (start, end) = (with(low, FIRST)?, with(high, AFTER)?);
                if start > end {
                    return Err(Error::validation(
                        "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound",
                    ));
                }
                (Bound::Included(start), Bound::Excluded(end))
            }
            SortKeyCondition::BeginsWith(v) => {
                if range.scalar_type == ScalarType::N {
                    return Err(Error::validation(
                        "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N",
                    ));
                }
                let start = with(v, &[])?;
                let end = match key::prefix_successor(&start) {
                    Some(end) if end.len() >= prefix.len() => Bound::Excluded(end),
                    _ => partition_end,
                };
                (Bound::Included(start), end)
            }
        })
    }
}

/// Byte-stuffing that keeps byte order and makes the end findable: `00` → `00 FF`.
fn escape(raw: &[u8], out: &mut Vec<u8>) {
    for &byte in raw {
        out.push(byte);
        if byte == 0 {
            out.push(0xff);
        }
    }
}

/// The request an index comes from: CreateTable's indexes are ACTIVE at once, UpdateTable's
/// start CREATING (built in the background); one of their checks is worded differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IndexRequest {
    CreateTable,
    UpdateTable,
}

/// Builds index definitions from requests, with AWS's checks (in AWS's order). `defined` are
/// the table's AttributeDefinitions; ids are assigned by the caller.
pub fn definitions_from(
    inputs: &[IndexInput],
    kind: IndexKind,
    defined: &[(String, ScalarType)],
    provisioned: bool,
    request: IndexRequest,
) -> Result<Vec<IndexDefinition>, Error> {
    let status = match request {
        IndexRequest::CreateTable => IndexStatus::Active,
        IndexRequest::UpdateTable => IndexStatus::Creating,
    };
    let invalid = |message: String| Error::validation(format!("One or more parameter values were invalid: {message}"));
    let names: Vec<&str> = defined.iter().map(|(n, _)| n.as_str()).collect();
    let mut out = Vec::new();
    for input in inputs {
        let keys: Vec<&str> = input.key_schema.iter().map(|(n, _)| n.as_str()).collect();
        if keys.iter().any(|k| !names.contains(k)) {
            return Err(invalid(format!(
                "Some index key attributes are not defined in AttributeDefinitions. Keys: [{}], AttributeDefinitions: [{}]",
                keys.join(", "),
                names.join(", ")
            )));
        }
        if keys.len() == 2 && keys[0] == keys[1] {
            return Err(Error::validation(
                "Both the Hash Key and the Range Key element in the KeySchema have the same name",
            ));
        }
        if input.key_schema.first().map(|(_, t)| t.as_str()) != Some("HASH") {
            return Err(Error::validation(
                "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
            ));
        }
        if let Some((_, t)) = input.key_schema.get(1)
            && t != "RANGE"
        {
            return Err(Error::validation(
                "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type",
            ));
        }
        if kind == IndexKind::Local && keys.len() != 2 {
            return Err(invalid(format!(
                "Index KeySchema does not have a range key for index: {}",
                input.name
            )));
        }
        let projection = match input.projection_type.as_deref() {
            None => return Err(invalid("Unknown ProjectionType: null".to_string())),
            Some(kind_name) => {
                if input.non_key_attributes.is_some() && kind_name != "INCLUDE" {
                    return Err(invalid(format!(
                        "ProjectionType is {kind_name}, but NonKeyAttributes is specified"
                    )));
                }
                match (kind_name, &input.non_key_attributes) {
                    ("ALL", _) => Projection::All,
                    ("KEYS_ONLY", _) => Projection::KeysOnly,
                    (_, Some(names)) => Projection::Include(names.clone()),
                    (_, None) => {
                        return Err(invalid(format!(
                            "ProjectionType is {kind_name}, but NonKeyAttributes is not specified"
                        )));
                    }
                }
            }
        };
        if kind == IndexKind::Global {
            match (provisioned, input.throughput) {
                (false, Some(_)) => {
                    return Err(invalid(format!(
                        "ProvisionedThroughput should not be specified for index: {} when BillingMode is PAY_PER_REQUEST",
                        input.name
                    )));
                }
                (true, None) => {
                    let wording = match request {
                        IndexRequest::CreateTable => "is not specified",
                        IndexRequest::UpdateTable => "must be specified",
                    };
                    return Err(invalid(format!(
                        "ProvisionedThroughput {wording} for index: {}",
                        input.name
                    )));
                }
                _ => {}
            }
        }
        if out.iter().any(|d: &IndexDefinition| d.name == input.name) {
            return Err(invalid(format!("Duplicate index name: {}", input.name)));
        }
        let attribute = |name: &str| -> Option<KeyAttribute> {
            defined.iter().find(|(n, _)| n == name).map(|(n, t)| KeyAttribute {
                name: n.clone(),
                scalar_type: *t,
            })
        };
        let Some(hash) = attribute(keys[0]) else {
            return Err(invalid(
                "Some index key attributes are not defined in AttributeDefinitions".to_string(),
            ));
        };
        let range = keys.get(1).and_then(|k| attribute(k));
        out.push(IndexDefinition {
            name: input.name.clone(),
            kind,
            id: 0,
            key_schema: KeySchema { hash, range },
            projection,
            throughput: if kind == IndexKind::Global {
                input.throughput
            } else {
                None
            },
            status,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::number::Number;

    fn index(range: Option<ScalarType>) -> IndexDefinition {
        IndexDefinition {
            name: "byStatus".into(),
            kind: IndexKind::Global,
            id: 7,
            key_schema: KeySchema {
                hash: KeyAttribute {
                    name: "status".into(),
                    scalar_type: ScalarType::S,
                },
                range: range.map(|scalar_type| KeyAttribute {
                    name: "rank".into(),
                    scalar_type,
                }),
            },
            projection: Projection::KeysOnly,
            throughput: None,
            status: IndexStatus::Active,
        }
    }

    fn item(status: &str, rank: AttributeValue) -> Item {
        [
            ("status".to_string(), AttributeValue::S(status.into())),
            ("rank".to_string(), rank),
        ]
        .into_iter()
        .collect()
    }

    fn number(text: &str) -> AttributeValue {
        Number::parse(text)
            .map(AttributeValue::N)
            .unwrap_or(AttributeValue::Null)
    }

    #[test]
    fn entries_sort_by_index_key_whatever_the_table_key() {
        let index = index(Some(ScalarType::S));
        let keys: Vec<Vec<u8>> = [
            ("a", &[0xff, 0xff][..]),
            ("a\u{0}", &[0][..]),
            ("ab", &[0][..]),
            ("b", &[0][..]),
        ]
        .iter()
        .filter_map(|(rank, table_key)| index.entry_key(&item("open", AttributeValue::S((*rank).into())), table_key))
        .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
    }

    #[test]
    fn ranges_select_exactly_the_matching_entries() {
        let index = index(Some(ScalarType::N));
        let entry = |rank: &str| {
            index
                .entry_key(&item("open", number(rank)), &[9, 9, 9])
                .unwrap_or_default()
        };
        let inside = |range: &KeyBounds, key: &Vec<u8>| {
            let after_start = match &range.0 {
                Bound::Included(s) => key >= s,
                Bound::Excluded(s) => key > s,
                Bound::Unbounded => true,
            };
            let before_end = match &range.1 {
                Bound::Included(e) => key <= e,
                Bound::Excluded(e) => key < e,
                Bound::Unbounded => true,
            };
            after_start && before_end
        };
        let condition = |sort: SortKeyCondition| KeyCondition {
            partition_value: AttributeValue::S("open".into()),
            sort: Some(sort),
        };
        let cases = [
            (SortKeyCondition::Eq(number("5")), vec!["5"], vec!["4", "6", "50"]),
            (SortKeyCondition::Lt(number("5")), vec!["-1", "4.99"], vec!["5", "6"]),
            (SortKeyCondition::Le(number("5")), vec!["5", "4"], vec!["5.01"]),
            (SortKeyCondition::Gt(number("5")), vec!["5.5", "100"], vec!["5", "1"]),
            (SortKeyCondition::Ge(number("5")), vec!["5", "7"], vec!["4.9"]),
            (
                SortKeyCondition::Between(number("2"), number("4")),
                vec!["2", "3", "4"],
                vec!["1", "5"],
            ),
        ];
        for (sort, yes, no) in cases {
            let range = index
                .query_range(&condition(sort.clone()))
                .unwrap_or((Bound::Unbounded, Bound::Unbounded));
            for rank in yes {
                assert!(inside(&range, &entry(rank)), "{sort:?} should hold {rank}");
            }
            for rank in no {
                assert!(!inside(&range, &entry(rank)), "{sort:?} should not hold {rank}");
            }
        }
    }

    #[test]
    fn items_without_the_index_key_are_not_in_the_index() {
        let index = index(Some(ScalarType::S));
        let mut partial = Item::new();
        partial.insert("status".into(), AttributeValue::S("open".into()));
        assert!(index.entry_key(&partial, &[1]).is_none());
        let wrong = item("open", number("1"));
        assert!(index.entry_key(&wrong, &[1]).is_none());
        assert!(index.check_item(&wrong).is_err());
    }
}
