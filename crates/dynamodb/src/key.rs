//! Key schemas and the storage key of an item.
//!
//! Storage key layout: `hash32(partition) ‖ len32(partition) ‖ partition ‖ sort`, where
//! `partition` and `sort` are the key values' ordered encodings (strings and binary as raw
//! bytes, numbers as [`Number::encode_ordered`]). The leading hash spreads partitions as
//! DynamoDB does and makes a parallel-scan segment a contiguous key range; the length prefix
//! keeps one partition's items contiguous; the sort key comes last, unterminated, so byte order
//! within a partition is DynamoDB's sort order.

use crate::error::Error;
use crate::number::Number;
use crate::value::{AttributeValue, Item, ValueType};

/// The types a key attribute can have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScalarType {
    S,
    N,
    B,
}

impl ScalarType {
    pub fn name(self) -> &'static str {
        match self {
            ScalarType::S => "S",
            ScalarType::N => "N",
            ScalarType::B => "B",
        }
    }

    pub fn from_name(name: &str) -> Option<ScalarType> {
        match name {
            "S" => Some(ScalarType::S),
            "N" => Some(ScalarType::N),
            "B" => Some(ScalarType::B),
            _ => None,
        }
    }

    pub fn value_type(self) -> ValueType {
        match self {
            ScalarType::S => ValueType::S,
            ScalarType::N => ValueType::N,
            ScalarType::B => ValueType::B,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyAttribute {
    pub name: String,
    pub scalar_type: ScalarType,
}

/// A table's (or later an index's) primary key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeySchema {
    pub hash: KeyAttribute,
    pub range: Option<KeyAttribute>,
}

/// Largest partition key value, in bytes.
pub const HASH_KEY_BYTES_MAX: usize = 2048;
/// Largest sort key value, in bytes.
pub const RANGE_KEY_BYTES_MAX: usize = 1024;

/// How an item or key is being supplied, which changes some of AWS's wording.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyUse {
    /// A whole item (PutItem): "Missing the key a in the item", "are not valid." wording.
    Item,
    /// A `Key` parameter (GetItem, UpdateItem, DeleteItem, ExclusiveStartKey).
    Key,
}

impl KeySchema {
    pub fn attributes(&self) -> impl Iterator<Item = &KeyAttribute> {
        std::iter::once(&self.hash).chain(self.range.as_ref())
    }

    pub fn is_key_attribute(&self, name: &str) -> bool {
        self.attributes().any(|attribute| attribute.name == name)
    }

    /// Validates the key attributes of a whole item and returns its storage key.
    pub fn item_key(&self, item: &Item) -> Result<Vec<u8>, Error> {
        for attribute in self.attributes() {
            let Some(value) = item.get(&attribute.name) else {
                return Err(Error::validation(format!(
                    "One or more parameter values were invalid: Missing the key {} in the item",
                    attribute.name
                )));
            };
            if value.value_type() != attribute.scalar_type.value_type() {
                return Err(Error::validation(format!(
                    "One or more parameter values were invalid: Type mismatch for key {} expected: {} actual: {}",
                    attribute.name,
                    attribute.scalar_type.name(),
                    value.value_type().name()
                )));
            }
        }
        self.checked_storage_key(item, KeyUse::Item)
    }

    /// Validates a `Key` parameter (exactly the key attributes, right types) and returns its
    /// storage key.
    pub fn key_of(&self, key: &Item) -> Result<Vec<u8>, Error> {
        let mismatch = || Error::validation("The provided key element does not match the schema");
        if key.len() != self.attributes().count() {
            return Err(mismatch());
        }
        for attribute in self.attributes() {
            match key.get(&attribute.name) {
                Some(value) if value.value_type() == attribute.scalar_type.value_type() => {}
                _ => return Err(mismatch()),
            }
        }
        self.checked_storage_key(key, KeyUse::Key)
    }

    /// Checks empty and oversized key values, then encodes. The attributes must be present
    /// with the right types.
    fn checked_storage_key(&self, item: &Item, key_use: KeyUse) -> Result<Vec<u8>, Error> {
        for (index, attribute) in self.attributes().enumerate() {
            let Some(value) = item.get(&attribute.name) else {
                continue;
            };
            let length = match value {
                AttributeValue::S(s) => s.len(),
                AttributeValue::B(b) => b.len(),
                _ => continue,
            };
            if length == 0 {
                let kind = if matches!(value, AttributeValue::S(_)) {
                    "string"
                } else {
                    "binary"
                };
                let lead = match key_use {
                    KeyUse::Item => "One or more parameter values are not valid.",
                    KeyUse::Key => "One or more parameter values were invalid:",
                };
                return Err(Error::validation(format!(
                    "{lead} The AttributeValue for a key attribute cannot contain an empty {kind} value. Key: {}",
                    attribute.name
                )));
            }
            if index == 0 && length > HASH_KEY_BYTES_MAX {
                return Err(Error::validation(
                    "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes",
                ));
            }
            if index == 1 && length > RANGE_KEY_BYTES_MAX {
                return Err(Error::validation(
                    "One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of 1024 bytes",
                ));
            }
        }
        self.storage_key(item)
            .ok_or_else(|| Error::validation("The provided key element does not match the schema"))
    }

    /// Encodes the storage key of an item whose key attributes are known to be valid.
    pub fn storage_key(&self, item: &Item) -> Option<Vec<u8>> {
        let hash = item.get(&self.hash.name)?;
        let mut key = partition_prefix(hash)?;
        if let Some(range) = &self.range {
            encode_scalar(item.get(&range.name)?, &mut key)?;
        }
        Some(key)
    }

    /// The key attributes of an item, as returned in LastEvaluatedKey.
    pub fn key_item(&self, item: &Item) -> Item {
        self.attributes()
            .filter_map(|attribute| item.get(&attribute.name).map(|v| (attribute.name.clone(), v.clone())))
            .collect()
    }
}

/// Appends the ordered encoding of a key value; `None` for non-key types.
pub fn encode_scalar(value: &AttributeValue, out: &mut Vec<u8>) -> Option<()> {
    match value {
        AttributeValue::S(s) => out.extend_from_slice(s.as_bytes()),
        AttributeValue::B(b) => out.extend_from_slice(b),
        AttributeValue::N(n) => n.encode_ordered(out),
        _ => return None,
    }
    Some(())
}

/// The storage-key prefix shared by every item of one partition.
pub fn partition_prefix(hash: &AttributeValue) -> Option<Vec<u8>> {
    let mut encoded = Vec::with_capacity(32);
    encode_scalar(hash, &mut encoded)?;
    let mut key = Vec::with_capacity(encoded.len() + 40);
    key.extend_from_slice(&partition_hash(&encoded).to_be_bytes());
    key.extend_from_slice(&(encoded.len() as u32).to_be_bytes());
    key.extend_from_slice(&encoded);
    Some(key)
}

/// The partition prefix a storage key starts with (`hash32 ‖ len32 ‖ partition`): the part every
/// item of one partition shares.
pub fn partition_of(storage_key: &[u8]) -> &[u8] {
    let length = storage_key
        .get(4..8)
        .and_then(|bytes| <[u8; 4]>::try_from(bytes).ok())
        .map_or(0, |bytes| u32::from_be_bytes(bytes) as usize);
    &storage_key[..(8 + length).min(storage_key.len())]
}

/// FNV-1a over the encoded partition value. Stored on disk: never change it.
pub fn partition_hash(encoded: &[u8]) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for &byte in encoded {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}

/// The smallest byte string greater than every string starting with `prefix`, or `None` when
/// there is none (all bytes 0xff).
pub fn prefix_successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut successor = prefix.to_vec();
    while let Some(last) = successor.pop() {
        if last < 0xff {
            successor.push(last + 1);
            return Some(successor);
        }
    }
    None
}

/// The bounds of parallel-scan segment `segment` of `total`, as hash prefixes: `[start, end)`.
pub fn segment_bounds(segment: u32, total: u32) -> (Vec<u8>, Option<Vec<u8>>) {
    let span = 1u64 << 32;
    let start = (u64::from(segment) * span / u64::from(total)) as u32;
    let end = u64::from(segment + 1) * span / u64::from(total);
    let end = (end < span).then(|| (end as u32).to_be_bytes().to_vec());
    (start.to_be_bytes().to_vec(), end)
}

/// Reads back the number a sort key ends with (used by tests and diagnostics).
pub fn decode_number(bytes: &[u8]) -> Option<Number> {
    Number::decode_ordered(bytes).map(|(number, _)| number)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(hash: ScalarType, range: Option<ScalarType>) -> KeySchema {
        KeySchema {
            hash: KeyAttribute {
                name: "pk".into(),
                scalar_type: hash,
            },
            range: range.map(|scalar_type| KeyAttribute {
                name: "sk".into(),
                scalar_type,
            }),
        }
    }

    fn item(pairs: &[(&str, AttributeValue)]) -> Item {
        pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
    }

    fn n(text: &str) -> AttributeValue {
        AttributeValue::N(Number::parse(text).expect("number"))
    }

    #[test]
    fn sort_keys_order_as_dynamodb_orders_them() {
        let table = schema(ScalarType::S, Some(ScalarType::N));
        let keys: Vec<Vec<u8>> = ["-10", "-1.5", "0", "2", "10", "1e20"]
            .iter()
            .map(|t| {
                table
                    .item_key(&item(&[("pk", AttributeValue::S("p".into())), ("sk", n(t))]))
                    .expect("key")
            })
            .collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]));

        let table = schema(ScalarType::S, Some(ScalarType::S));
        let keys: Vec<Vec<u8>> = ["A", "B", "a", "aa", "b", "é"]
            .iter()
            .map(|t| {
                table
                    .item_key(&item(&[
                        ("pk", AttributeValue::S("p".into())),
                        ("sk", AttributeValue::S(t.to_string())),
                    ]))
                    .expect("key")
            })
            .collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]));

        let table = schema(ScalarType::S, Some(ScalarType::B));
        let keys: Vec<Vec<u8>> = [vec![0u8], vec![0, 0], vec![1], vec![255]]
            .into_iter()
            .map(|b| {
                table
                    .item_key(&item(&[
                        ("pk", AttributeValue::S("p".into())),
                        ("sk", AttributeValue::B(b)),
                    ]))
                    .expect("key")
            })
            .collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn one_partition_is_one_contiguous_range() {
        let table = schema(ScalarType::S, Some(ScalarType::S));
        let a = partition_prefix(&AttributeValue::S("a".into())).expect("prefix");
        let ab = partition_prefix(&AttributeValue::S("ab".into())).expect("prefix");
        let in_a = table
            .item_key(&item(&[
                ("pk", AttributeValue::S("a".into())),
                ("sk", AttributeValue::S("b".into())),
            ]))
            .expect("key");
        assert!(in_a.starts_with(&a));
        assert!(!in_a.starts_with(&ab));
    }

    #[test]
    fn key_validation_messages() {
        let table = schema(ScalarType::S, Some(ScalarType::S));
        let cases: Vec<(Item, KeyUse, &str)> = vec![
            (
                item(&[("sk", AttributeValue::S("x".into()))]),
                KeyUse::Item,
                "One or more parameter values were invalid: Missing the key pk in the item",
            ),
            (
                item(&[("pk", n("1")), ("sk", AttributeValue::S("x".into()))]),
                KeyUse::Item,
                "One or more parameter values were invalid: Type mismatch for key pk expected: S actual: N",
            ),
            (
                item(&[
                    ("pk", AttributeValue::S("".into())),
                    ("sk", AttributeValue::S("x".into())),
                ]),
                KeyUse::Item,
                "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: pk",
            ),
            (
                item(&[
                    ("pk", AttributeValue::S("".into())),
                    ("sk", AttributeValue::S("x".into())),
                ]),
                KeyUse::Key,
                "One or more parameter values were invalid: The AttributeValue for a key attribute cannot contain an empty string value. Key: pk",
            ),
            (
                item(&[
                    ("pk", AttributeValue::S("x".repeat(2049))),
                    ("sk", AttributeValue::S("x".into())),
                ]),
                KeyUse::Item,
                "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes",
            ),
            (
                item(&[
                    ("pk", AttributeValue::S("x".into())),
                    ("sk", AttributeValue::S("x".repeat(1025))),
                ]),
                KeyUse::Item,
                "One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of 1024 bytes",
            ),
            (
                item(&[("pk", AttributeValue::S("x".into()))]),
                KeyUse::Key,
                "The provided key element does not match the schema",
            ),
            (
                item(&[
                    ("pk", AttributeValue::S("x".into())),
                    ("sk", AttributeValue::S("x".into())),
                    ("other", n("1")),
                ]),
                KeyUse::Key,
                "The provided key element does not match the schema",
            ),
        ];
        for (input, key_use, message) in cases {
            let result = match key_use {
                KeyUse::Item => table.item_key(&input),
                KeyUse::Key => table.key_of(&input),
            };
            assert_eq!(result, Err(Error::validation(message)));
        }
        assert!(
            table
                .key_of(&item(&[
                    ("pk", AttributeValue::S("x".repeat(2048))),
                    ("sk", AttributeValue::S("y".repeat(1024)))
                ]))
                .is_ok()
        );
    }

    #[test]
    fn segments_cover_the_hash_space() {
        let (start, end) = segment_bounds(0, 1);
        assert_eq!((start, end), (vec![0, 0, 0, 0], None));
        let (_, first_end) = segment_bounds(0, 3);
        let (second_start, _) = segment_bounds(1, 3);
        assert_eq!(first_end, Some(second_start));
        assert_eq!(segment_bounds(2, 3).1, None);
    }
}
