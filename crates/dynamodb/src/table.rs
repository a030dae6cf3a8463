//! Table definitions: validation of CreateTable/UpdateTable as AWS does it, and their stored form.

use crate::codec::{CorruptRecord, Decoder, Encoder};
use crate::error::Error;
use crate::key::{KeyAttribute, KeySchema, ScalarType};

/// Largest provisioned capacity AWS accepts for one dimension.
const CAPACITY_UNITS_MAX: i64 = 1_000_000_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Billing {
    Provisioned { read: i64, write: i64 },
    PayPerRequest,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BillingMode {
    Provisioned,
    PayPerRequest,
}

impl BillingMode {
    pub fn name(self) -> &'static str {
        match self {
            BillingMode::Provisioned => "PROVISIONED",
            BillingMode::PayPerRequest => "PAY_PER_REQUEST",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Throughput {
    pub read: i64,
    pub write: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableStatus {
    Creating,
    Active,
    Deleting,
}

impl TableStatus {
    pub fn name(self) -> &'static str {
        match self {
            TableStatus::Creating => "CREATING",
            TableStatus::Active => "ACTIVE",
            TableStatus::Deleting => "DELETING",
        }
    }
}

/// What CreateTable asks for, after the wire layer checked member types, enums and lengths.
#[derive(Clone, Debug, Default)]
pub struct CreateTableInput {
    pub table_name: String,
    /// (AttributeName, AttributeType) in request order; types already one of S/N/B.
    pub attribute_definitions: Vec<(String, ScalarType)>,
    /// (AttributeName, KeyType) in request order; KeyType already HASH or RANGE.
    pub key_schema: Vec<(String, String)>,
    pub billing_mode: Option<BillingMode>,
    pub provisioned_throughput: Option<Throughput>,
}

/// What UpdateTable asks for (billing and throughput; index changes come later).
#[derive(Clone, Debug, Default)]
pub struct UpdateTableInput {
    pub table_name: String,
    pub billing_mode: Option<BillingMode>,
    pub provisioned_throughput: Option<Throughput>,
}

/// A table as stored in the catalog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableDefinition {
    pub name: String,
    /// Names the storage space of the items; never reused.
    pub id: u64,
    pub key_schema: KeySchema,
    pub attribute_definitions: Vec<(String, ScalarType)>,
    pub billing: Billing,
    pub created_at_ms: i64,
    pub last_increase_ms: Option<i64>,
    pub last_decrease_ms: Option<i64>,
    pub decreases_today: u32,
    /// When the table last switched to PAY_PER_REQUEST.
    pub pay_per_request_since_ms: Option<i64>,
}

const TABLE_FORMAT_VERSION: u8 = 1;

impl TableDefinition {
    /// The storage space holding the table's items.
    pub fn items_space(&self) -> String {
        format!("items/{}", self.id)
    }

    pub fn billing_mode(&self) -> BillingMode {
        match self.billing {
            Billing::Provisioned { .. } => BillingMode::Provisioned,
            Billing::PayPerRequest => BillingMode::PayPerRequest,
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut e = Encoder::new();
        e.u8(TABLE_FORMAT_VERSION);
        e.str(&self.name);
        e.varint(self.id);
        e.varint(self.attribute_definitions.len() as u64);
        for (name, scalar) in &self.attribute_definitions {
            e.str(name);
            e.str(scalar.name());
        }
        e.str(&self.key_schema.hash.name);
        e.str(self.key_schema.hash.scalar_type.name());
        match &self.key_schema.range {
            Some(range) => {
                e.u8(1);
                e.str(&range.name);
                e.str(range.scalar_type.name());
            }
            None => e.u8(0),
        }
        match self.billing {
            Billing::Provisioned { read, write } => {
                e.u8(0);
                e.i64(read);
                e.i64(write);
            }
            Billing::PayPerRequest => e.u8(1),
        }
        e.i64(self.created_at_ms);
        for optional in [
            self.last_increase_ms,
            self.last_decrease_ms,
            self.pay_per_request_since_ms,
        ] {
            match optional {
                Some(ms) => {
                    e.u8(1);
                    e.i64(ms);
                }
                None => e.u8(0),
            }
        }
        e.varint(u64::from(self.decreases_today));
        e.bytes
    }

    pub fn decode(bytes: &[u8]) -> Result<TableDefinition, CorruptRecord> {
        let mut d = Decoder::new(bytes);
        if d.u8()? != TABLE_FORMAT_VERSION {
            return Err(CorruptRecord("unknown table format version"));
        }
        let name = d.string()?;
        let id = d.varint()?;
        let count = d.varint()?;
        let mut attribute_definitions = Vec::new();
        for _ in 0..count.min(64) {
            let attribute = d.string()?;
            let scalar = ScalarType::from_name(&d.string()?).ok_or(CorruptRecord("scalar type"))?;
            attribute_definitions.push((attribute, scalar));
        }
        let hash_name = d.string()?;
        let hash_type = ScalarType::from_name(&d.string()?).ok_or(CorruptRecord("scalar type"))?;
        let range = match d.u8()? {
            0 => None,
            _ => {
                let name = d.string()?;
                let scalar_type = ScalarType::from_name(&d.string()?).ok_or(CorruptRecord("scalar type"))?;
                Some(KeyAttribute { name, scalar_type })
            }
        };
        let billing = match d.u8()? {
            0 => Billing::Provisioned {
                read: d.i64()?,
                write: d.i64()?,
            },
            _ => Billing::PayPerRequest,
        };
        let created_at_ms = d.i64()?;
        let mut optional = || -> Result<Option<i64>, CorruptRecord> {
            Ok(match d.u8()? {
                0 => None,
                _ => Some(d.i64()?),
            })
        };
        let last_increase_ms = optional()?;
        let last_decrease_ms = optional()?;
        let pay_per_request_since_ms = optional()?;
        let decreases_today = u32::try_from(d.varint()?).unwrap_or(u32::MAX);
        Ok(TableDefinition {
            name,
            id,
            key_schema: KeySchema {
                hash: KeyAttribute {
                    name: hash_name,
                    scalar_type: hash_type,
                },
                range,
            },
            attribute_definitions,
            billing,
            created_at_ms,
            last_increase_ms,
            last_decrease_ms,
            decreases_today,
            pay_per_request_since_ms,
        })
    }
}

fn invalid(message: impl AsRef<str>) -> Error {
    Error::validation(format!(
        "One or more parameter values were invalid: {}",
        message.as_ref()
    ))
}

fn check_capacity(throughput: Throughput) -> Result<(), Error> {
    if throughput.read > CAPACITY_UNITS_MAX {
        return Err(Error::validation(format!(
            "Given value {} for ReadCapacityUnits is out of bounds",
            throughput.read
        )));
    }
    if throughput.write > CAPACITY_UNITS_MAX {
        return Err(Error::validation(format!(
            "Given value {} for WriteCapacityUnits is out of bounds",
            throughput.write
        )));
    }
    Ok(())
}

/// The semantic checks of CreateTable, in AWS's order; returns the key schema and billing.
pub fn validate_create(input: &CreateTableInput) -> Result<(KeySchema, Billing), Error> {
    let billing = match input.billing_mode {
        Some(BillingMode::PayPerRequest) => {
            if input.provisioned_throughput.is_some() {
                return Err(invalid(
                    "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
                ));
            }
            Billing::PayPerRequest
        }
        _ => {
            let Some(throughput) = input.provisioned_throughput else {
                return Err(invalid(
                    "ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED",
                ));
            };
            check_capacity(throughput)?;
            Billing::Provisioned {
                read: throughput.read,
                write: throughput.write,
            }
        }
    };
    let definitions: Vec<&str> = input
        .attribute_definitions
        .iter()
        .map(|(name, _)| name.as_str())
        .collect();
    let keys: Vec<&str> = input.key_schema.iter().map(|(name, _)| name.as_str()).collect();
    if keys.len() > definitions.len() {
        return Err(Error::validation(
            "Invalid KeySchema: Some index key attribute have no definition",
        ));
    }
    if keys.iter().any(|key| !definitions.contains(key)) {
        return Err(invalid(format!(
            "Some index key attributes are not defined in AttributeDefinitions. Keys: [{}], AttributeDefinitions: [{}]",
            keys.join(", "),
            definitions.join(", ")
        )));
    }
    if keys.len() == 2 && keys[0] == keys[1] {
        return Err(Error::validation(
            "Both the Hash Key and the Range Key element in the KeySchema have the same name",
        ));
    }
    if input.key_schema.first().map(|(_, kind)| kind.as_str()) != Some("HASH") {
        return Err(Error::validation(
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
        ));
    }
    if let Some((_, kind)) = input.key_schema.get(1)
        && kind != "RANGE"
    {
        return Err(Error::validation(
            "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type",
        ));
    }
    let mut unique = definitions.clone();
    unique.sort_unstable();
    unique.dedup();
    if unique.len() != definitions.len() {
        return Err(invalid("Duplicate AttributeName in AttributeDefinitions"));
    }
    if keys.len() != definitions.len() {
        return Err(invalid(
            "Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions",
        ));
    }
    let attribute = |name: &str| -> Result<KeyAttribute, Error> {
        let scalar_type = input
            .attribute_definitions
            .iter()
            .find(|(defined, _)| defined == name)
            .map(|(_, scalar)| *scalar)
            .ok_or_else(|| invalid("Some index key attributes are not defined in AttributeDefinitions"))?;
        Ok(KeyAttribute {
            name: name.to_string(),
            scalar_type,
        })
    };
    let hash = attribute(keys[0])?;
    let range = keys.get(1).map(|name| attribute(name)).transpose()?;
    Ok((KeySchema { hash, range }, billing))
}

/// Applies an UpdateTable request to a definition, with AWS's checks.
pub fn apply_update(
    current: &TableDefinition,
    input: &UpdateTableInput,
    now_ms: i64,
) -> Result<TableDefinition, Error> {
    if input.billing_mode.is_none() && input.provisioned_throughput.is_none() {
        return Err(Error::validation(
            "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required",
        ));
    }
    let mut next = current.clone();
    let mode = input.billing_mode.unwrap_or(current.billing_mode());
    match mode {
        BillingMode::PayPerRequest => {
            if input.provisioned_throughput.is_some() {
                return Err(invalid(
                    "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
                ));
            }
            if current.billing != Billing::PayPerRequest {
                next.pay_per_request_since_ms = Some(now_ms);
            }
            next.billing = Billing::PayPerRequest;
        }
        BillingMode::Provisioned => {
            let Some(requested) = input.provisioned_throughput else {
                return Err(invalid(
                    "ProvisionedThroughput must be specified when BillingMode is PROVISIONED",
                ));
            };
            check_capacity(requested)?;
            if let Billing::Provisioned { read, write } = current.billing {
                if read == requested.read && write == requested.write {
                    return Err(Error::validation(format!(
                        "The provisioned throughput for the table will not change. The requested value equals the current value. Current ReadCapacityUnits provisioned for the table: {read}. Requested ReadCapacityUnits: {}. Current WriteCapacityUnits provisioned for the table: {write}. Requested WriteCapacityUnits: {}. Refer to the Amazon DynamoDB Developer Guide for current limits and how to request higher limits.",
                        requested.read, requested.write
                    )));
                }
                if requested.read > read || requested.write > write {
                    next.last_increase_ms = Some(now_ms);
                }
                if requested.read < read || requested.write < write {
                    next.last_decrease_ms = Some(now_ms);
                    next.decreases_today += 1;
                }
            }
            next.billing = Billing::Provisioned {
                read: requested.read,
                write: requested.write,
            };
        }
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(definitions: &[(&str, ScalarType)], keys: &[(&str, &str)]) -> CreateTableInput {
        CreateTableInput {
            table_name: "t".into(),
            attribute_definitions: definitions.iter().map(|(n, t)| (n.to_string(), *t)).collect(),
            key_schema: keys.iter().map(|(n, k)| (n.to_string(), k.to_string())).collect(),
            billing_mode: Some(BillingMode::PayPerRequest),
            provisioned_throughput: None,
        }
    }

    #[test]
    fn create_table_checks_in_aws_order() {
        use ScalarType::*;
        let cases: Vec<(CreateTableInput, &str)> = vec![
            (
                input(&[("b", S)], &[("a", "HASH")]),
                "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [a], AttributeDefinitions: [b]",
            ),
            (
                input(&[("a", S), ("b", S)], &[("a", "HASH")]),
                "One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions",
            ),
            (
                input(&[("a", S), ("b", S)], &[("a", "HASH"), ("a", "RANGE")]),
                "Both the Hash Key and the Range Key element in the KeySchema have the same name",
            ),
            (
                input(&[("a", S), ("b", S)], &[("a", "RANGE"), ("b", "HASH")]),
                "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
            ),
            (
                input(&[("a", S), ("b", S)], &[("a", "HASH"), ("b", "HASH")]),
                "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type",
            ),
            (
                input(&[("a", S)], &[("a", "HASH"), ("b", "RANGE")]),
                "Invalid KeySchema: Some index key attribute have no definition",
            ),
            (
                CreateTableInput {
                    billing_mode: None,
                    ..input(&[("a", S)], &[("a", "HASH")])
                },
                "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED",
            ),
            (
                CreateTableInput {
                    provisioned_throughput: Some(Throughput { read: 1, write: 1 }),
                    ..input(&[("a", S)], &[("a", "HASH")])
                },
                "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
            ),
        ];
        for (input, message) in cases {
            assert_eq!(validate_create(&input).map(|_| ()), Err(Error::validation(message)));
        }
        let (schema, billing) =
            validate_create(&input(&[("b", N), ("a", S)], &[("a", "HASH"), ("b", "RANGE")])).expect("valid");
        assert_eq!(schema.range.map(|r| r.scalar_type), Some(N));
        assert_eq!(billing, Billing::PayPerRequest);
    }

    #[test]
    fn definitions_round_trip() {
        let definition = TableDefinition {
            name: "books".into(),
            id: 7,
            key_schema: KeySchema {
                hash: KeyAttribute {
                    name: "pk".into(),
                    scalar_type: ScalarType::S,
                },
                range: Some(KeyAttribute {
                    name: "sk".into(),
                    scalar_type: ScalarType::N,
                }),
            },
            attribute_definitions: vec![("pk".into(), ScalarType::S), ("sk".into(), ScalarType::N)],
            billing: Billing::Provisioned { read: 5, write: 3 },
            created_at_ms: 1_700_000_000_123,
            last_increase_ms: None,
            last_decrease_ms: Some(5),
            decreases_today: 1,
            pay_per_request_since_ms: None,
        };
        assert_eq!(TableDefinition::decode(&definition.encode()), Ok(definition));
    }
}
