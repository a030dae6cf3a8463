//! Table definitions: validation of CreateTable/UpdateTable as AWS does it, and their stored form.

use std::collections::BTreeMap;

use crate::codec::{CorruptRecord, Decoder, Encoder};
use crate::error::Error;
use crate::index::{self, IndexDefinition, IndexInput, IndexKind, IndexStatus, Projection};
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
    Updating,
    Active,
    Deleting,
}

impl TableStatus {
    pub fn name(self) -> &'static str {
        match self {
            TableStatus::Creating => "CREATING",
            TableStatus::Updating => "UPDATING",
            TableStatus::Active => "ACTIVE",
            TableStatus::Deleting => "DELETING",
        }
    }
}

/// What a stream record carries (`StreamViewType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamViewType {
    KeysOnly,
    NewImage,
    OldImage,
    NewAndOldImages,
}

impl StreamViewType {
    pub fn name(self) -> &'static str {
        match self {
            StreamViewType::KeysOnly => "KEYS_ONLY",
            StreamViewType::NewImage => "NEW_IMAGE",
            StreamViewType::OldImage => "OLD_IMAGE",
            StreamViewType::NewAndOldImages => "NEW_AND_OLD_IMAGES",
        }
    }

    pub fn from_name(name: &str) -> Option<StreamViewType> {
        Some(match name {
            "KEYS_ONLY" => StreamViewType::KeysOnly,
            "NEW_IMAGE" => StreamViewType::NewImage,
            "OLD_IMAGE" => StreamViewType::OldImage,
            "NEW_AND_OLD_IMAGES" => StreamViewType::NewAndOldImages,
            _ => return None,
        })
    }

    fn code(self) -> u8 {
        match self {
            StreamViewType::KeysOnly => 0,
            StreamViewType::NewImage => 1,
            StreamViewType::OldImage => 2,
            StreamViewType::NewAndOldImages => 3,
        }
    }

    fn from_code(code: u8) -> Result<StreamViewType, CorruptRecord> {
        Ok(match code {
            0 => StreamViewType::KeysOnly,
            1 => StreamViewType::NewImage,
            2 => StreamViewType::OldImage,
            3 => StreamViewType::NewAndOldImages,
            _ => return Err(CorruptRecord("stream view type")),
        })
    }
}

/// One of a table's streams: the latest one, enabled or not, or an earlier one (a disabled
/// stream stays readable for 24 hours).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamState {
    pub enabled: bool,
    pub view_type: StreamViewType,
    /// `2026-12-03T08:00:00.000`: the stream's label, part of its ARN.
    pub label: String,
    /// Names the storage space of its records; a new stream gets a new one.
    pub id: u64,
    /// When it was disabled; `None` while enabled, and for a stream disabled before the
    /// definition recorded it (format version 2).
    pub disabled_ms: Option<i64>,
}

/// `StreamSpecification` of CreateTable / UpdateTable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamInput {
    pub enabled: bool,
    pub view_type: Option<StreamViewType>,
}

/// TimeToLive settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TtlState {
    pub attribute: String,
    pub enabled: bool,
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
    pub global_indexes: Option<Vec<IndexInput>>,
    pub local_indexes: Option<Vec<IndexInput>>,
    pub stream: Option<StreamInput>,
    pub tags: Vec<(String, String)>,
}

/// One entry of `GlobalSecondaryIndexUpdates`.
#[derive(Clone, Debug)]
pub enum IndexUpdate {
    Create(IndexInput),
    Update { name: String, throughput: Throughput },
    Delete { name: String },
}

/// What UpdateTable asks for.
#[derive(Clone, Debug, Default)]
pub struct UpdateTableInput {
    pub table_name: String,
    pub billing_mode: Option<BillingMode>,
    pub provisioned_throughput: Option<Throughput>,
    /// Needed by index creations: the attributes their keys use.
    pub attribute_definitions: Vec<(String, ScalarType)>,
    pub index_updates: Vec<IndexUpdate>,
    pub stream: Option<StreamInput>,
}

/// A validated CreateTable: the table's key, billing and indexes (ids not assigned yet).
#[derive(Clone, Debug)]
pub struct ValidTable {
    pub key_schema: KeySchema,
    pub billing: Billing,
    pub global_indexes: Vec<IndexDefinition>,
    pub local_indexes: Vec<IndexDefinition>,
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
    pub global_indexes: Vec<IndexDefinition>,
    pub local_indexes: Vec<IndexDefinition>,
    /// The latest stream.
    pub stream: Option<StreamState>,
    /// Streams a newer one replaced, oldest first: disabled, and kept readable until 24 hours
    /// after they were disabled.
    pub previous_streams: Vec<StreamState>,
    pub ttl: Option<TtlState>,
    pub tags: BTreeMap<String, String>,
    pub point_in_time_recovery: bool,
}

/// Version 1 held the table's own fields; version 2 appends indexes, stream, TTL, tags and
/// backups after them; version 3 adds when the stream was disabled, and the previous streams
/// at the end.
const TABLE_FORMAT_VERSION: u8 = 3;

impl TableDefinition {
    /// The storage space holding the table's items.
    pub fn items_space(&self) -> String {
        format!("items/{}", self.id)
    }

    /// Every secondary index, global ones first.
    pub fn indexes(&self) -> impl Iterator<Item = &IndexDefinition> {
        self.global_indexes.iter().chain(self.local_indexes.iter())
    }

    pub fn index(&self, name: &str) -> Option<&IndexDefinition> {
        self.indexes().find(|i| i.name == name)
    }

    /// The enabled stream, if any.
    pub fn active_stream(&self) -> Option<&StreamState> {
        self.stream.as_ref().filter(|s| s.enabled)
    }

    /// Every stream kept: the previous ones, oldest first, then the latest.
    pub fn streams(&self) -> impl Iterator<Item = &StreamState> {
        self.previous_streams.iter().chain(self.stream.iter())
    }

    /// The kept stream with this label (the latest first, should two share one).
    pub fn stream_by_label(&self, label: &str) -> Option<&StreamState> {
        self.stream
            .iter()
            .chain(self.previous_streams.iter().rev())
            .find(|s| s.label == label)
    }

    /// The kept stream whose records space has this id.
    pub fn stream_by_id(&self, id: u64) -> Option<&StreamState> {
        self.streams().find(|s| s.id == id)
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
        e.varint(self.global_indexes.len() as u64);
        for index in &self.global_indexes {
            encode_index(&mut e, index);
        }
        e.varint(self.local_indexes.len() as u64);
        for index in &self.local_indexes {
            encode_index(&mut e, index);
        }
        match &self.stream {
            Some(stream) => {
                e.u8(1);
                encode_stream(&mut e, stream);
            }
            None => e.u8(0),
        }
        match &self.ttl {
            Some(ttl) => {
                e.u8(1);
                e.str(&ttl.attribute);
                e.u8(u8::from(ttl.enabled));
            }
            None => e.u8(0),
        }
        e.varint(self.tags.len() as u64);
        for (key, value) in &self.tags {
            e.str(key);
            e.str(value);
        }
        e.u8(u8::from(self.point_in_time_recovery));
        e.varint(self.previous_streams.len() as u64);
        for stream in &self.previous_streams {
            encode_stream(&mut e, stream);
        }
        e.bytes
    }

    pub fn decode(bytes: &[u8]) -> Result<TableDefinition, CorruptRecord> {
        let mut d = Decoder::new(bytes);
        let version = d.u8()?;
        if !(1..=TABLE_FORMAT_VERSION).contains(&version) {
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
        let mut global_indexes = Vec::new();
        let mut local_indexes = Vec::new();
        let mut stream = None;
        let mut previous_streams = Vec::new();
        let mut ttl = None;
        let mut tags = BTreeMap::new();
        let mut point_in_time_recovery = false;
        if version >= 2 {
            for _ in 0..d.varint()?.min(64) {
                global_indexes.push(decode_index(&mut d, IndexKind::Global)?);
            }
            for _ in 0..d.varint()?.min(64) {
                local_indexes.push(decode_index(&mut d, IndexKind::Local)?);
            }
            if d.u8()? == 1 {
                stream = Some(decode_stream(&mut d, version)?);
            }
            if d.u8()? == 1 {
                ttl = Some(TtlState {
                    attribute: d.string()?,
                    enabled: d.u8()? == 1,
                });
            }
            for _ in 0..d.varint()?.min(100_000) {
                let key = d.string()?;
                let value = d.string()?;
                tags.insert(key, value);
            }
            point_in_time_recovery = d.u8()? == 1;
        }
        if version >= 3 {
            for _ in 0..d.varint()?.min(100_000) {
                previous_streams.push(decode_stream(&mut d, version)?);
            }
        }
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
            global_indexes,
            local_indexes,
            stream,
            previous_streams,
            ttl,
            tags,
            point_in_time_recovery,
        })
    }
}

fn encode_stream(e: &mut Encoder, stream: &StreamState) {
    e.u8(u8::from(stream.enabled));
    e.u8(stream.view_type.code());
    e.str(&stream.label);
    e.varint(stream.id);
    match stream.disabled_ms {
        Some(ms) => {
            e.u8(1);
            e.i64(ms);
        }
        None => e.u8(0),
    }
}

/// A stream as `encode_stream` writes it; version 2 had no disabled time.
fn decode_stream(d: &mut Decoder<'_>, version: u8) -> Result<StreamState, CorruptRecord> {
    let enabled = d.u8()? == 1;
    let view_type = StreamViewType::from_code(d.u8()?)?;
    let label = d.string()?;
    let id = d.varint()?;
    let disabled_ms = if version >= 3 && d.u8()? == 1 {
        Some(d.i64()?)
    } else {
        None
    };
    Ok(StreamState {
        enabled,
        view_type,
        label,
        id,
        disabled_ms,
    })
}

fn encode_key_schema(e: &mut Encoder, schema: &KeySchema) {
    e.str(&schema.hash.name);
    e.str(schema.hash.scalar_type.name());
    match &schema.range {
        Some(range) => {
            e.u8(1);
            e.str(&range.name);
            e.str(range.scalar_type.name());
        }
        None => e.u8(0),
    }
}

fn decode_key_schema(d: &mut Decoder<'_>) -> Result<KeySchema, CorruptRecord> {
    let hash = KeyAttribute {
        name: d.string()?,
        scalar_type: ScalarType::from_name(&d.string()?).ok_or(CorruptRecord("scalar type"))?,
    };
    let range = match d.u8()? {
        0 => None,
        _ => Some(KeyAttribute {
            name: d.string()?,
            scalar_type: ScalarType::from_name(&d.string()?).ok_or(CorruptRecord("scalar type"))?,
        }),
    };
    Ok(KeySchema { hash, range })
}

fn encode_index(e: &mut Encoder, index: &IndexDefinition) {
    e.str(&index.name);
    e.varint(index.id);
    encode_key_schema(e, &index.key_schema);
    match &index.projection {
        Projection::All => e.u8(0),
        Projection::KeysOnly => e.u8(1),
        Projection::Include(names) => {
            e.u8(2);
            e.varint(names.len() as u64);
            for name in names {
                e.str(name);
            }
        }
    }
    match index.throughput {
        Some(t) => {
            e.u8(1);
            e.i64(t.read);
            e.i64(t.write);
        }
        None => e.u8(0),
    }
    e.u8(match index.status {
        IndexStatus::Creating => 0,
        IndexStatus::Active => 1,
        IndexStatus::Deleting => 2,
    });
}

fn decode_index(d: &mut Decoder<'_>, kind: IndexKind) -> Result<IndexDefinition, CorruptRecord> {
    let name = d.string()?;
    let id = d.varint()?;
    let key_schema = decode_key_schema(d)?;
    let projection = match d.u8()? {
        0 => Projection::All,
        1 => Projection::KeysOnly,
        2 => {
            let mut names = Vec::new();
            for _ in 0..d.varint()?.min(1000) {
                names.push(d.string()?);
            }
            Projection::Include(names)
        }
        _ => return Err(CorruptRecord("projection")),
    };
    let throughput = match d.u8()? {
        0 => None,
        _ => Some(Throughput {
            read: d.i64()?,
            write: d.i64()?,
        }),
    };
    let status = match d.u8()? {
        0 => IndexStatus::Creating,
        1 => IndexStatus::Active,
        2 => IndexStatus::Deleting,
        _ => return Err(CorruptRecord("index status")),
    };
    Ok(IndexDefinition {
        name,
        kind,
        id,
        key_schema,
        projection,
        throughput,
        status,
    })
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
pub fn validate_create(input: &CreateTableInput) -> Result<ValidTable, Error> {
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
    let has_indexes = input.global_indexes.is_some() || input.local_indexes.is_some();
    if !has_indexes && keys.len() != definitions.len() {
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
    let key_schema = KeySchema { hash, range };
    let provisioned = matches!(billing, Billing::Provisioned { .. });
    let mut local_indexes = Vec::new();
    if let Some(inputs) = &input.local_indexes {
        if inputs.is_empty() {
            return Err(invalid("List of LocalSecondaryIndexes is empty"));
        }
        if key_schema.range.is_none() {
            return Err(invalid(
                "Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex",
            ));
        }
        local_indexes = index::definitions_from(
            inputs,
            IndexKind::Local,
            &input.attribute_definitions,
            provisioned,
            index::IndexRequest::CreateTable,
        )?;
        for local in &local_indexes {
            if local.key_schema.hash.name != key_schema.hash.name {
                return Err(invalid(format!(
                    "Index KeySchema does not have the same leading hash key as table KeySchema for index: {}. index hash key: {}, table hash key: {}",
                    local.name, local.key_schema.hash.name, key_schema.hash.name
                )));
            }
        }
        if local_indexes.len() > index::LOCAL_INDEXES_MAX {
            return Err(invalid(format!(
                "Number of LocalSecondaryIndexes exceeds per-table limit of {}",
                index::LOCAL_INDEXES_MAX
            )));
        }
    }
    let mut global_indexes = Vec::new();
    if let Some(inputs) = &input.global_indexes {
        if inputs.is_empty() {
            return Err(invalid("List of GlobalSecondaryIndexes is empty"));
        }
        global_indexes = index::definitions_from(
            inputs,
            IndexKind::Global,
            &input.attribute_definitions,
            provisioned,
            index::IndexRequest::CreateTable,
        )?;
        if let Some(clash) = global_indexes
            .iter()
            .find(|g| local_indexes.iter().any(|l| l.name == g.name))
        {
            return Err(invalid(format!("Duplicate index name: {}", clash.name)));
        }
        if global_indexes.len() > index::GLOBAL_INDEXES_MAX {
            return Err(invalid(format!(
                "GlobalSecondaryIndex count exceeds the per-table limit of {}",
                index::GLOBAL_INDEXES_MAX
            )));
        }
    }
    if has_indexes {
        let mut used: Vec<&str> = key_schema.attributes().map(|a| a.name.as_str()).collect();
        for index in global_indexes.iter().chain(local_indexes.iter()) {
            for attribute in index.key_schema.attributes() {
                if !used.contains(&attribute.name.as_str()) {
                    used.push(&attribute.name);
                }
            }
        }
        if definitions.iter().any(|d| !used.contains(d)) {
            return Err(invalid(format!(
                "Some AttributeDefinitions are not used. AttributeDefinitions: [{}], keys used: [{}]",
                definitions.join(", "),
                used.join(", ")
            )));
        }
    }
    Ok(ValidTable {
        key_schema,
        billing,
        global_indexes,
        local_indexes,
    })
}

/// Applies an UpdateTable request to a definition, with AWS's checks.
pub fn apply_update(
    current: &TableDefinition,
    input: &UpdateTableInput,
    now_ms: i64,
) -> Result<TableDefinition, Error> {
    let billing_change = input.billing_mode.is_some() || input.provisioned_throughput.is_some();
    if !billing_change && input.index_updates.is_empty() && input.stream.is_none() {
        return Err(Error::validation(
            "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required",
        ));
    }
    let mut next = current.clone();
    if billing_change {
        apply_billing(current, input, now_ms, &mut next)?;
    }
    apply_index_updates(current, input, &mut next)?;
    if let Some(stream) = input.stream {
        apply_stream(current, stream, now_ms, &mut next)?;
    }
    Ok(next)
}

/// `StreamSpecification` of UpdateTable: a new stream (a new label and records space) or the
/// current one disabled.
fn apply_stream(
    current: &TableDefinition,
    input: StreamInput,
    now_ms: i64,
    next: &mut TableDefinition,
) -> Result<(), Error> {
    let enabled = current.active_stream().is_some();
    if input.enabled {
        if enabled {
            return Err(Error::validation(format!(
                "Table already has an enabled stream: TableName: {}",
                current.name
            )));
        }
        let Some(view_type) = input.view_type else {
            return Err(Error::validation(
                "StreamSpecification.StreamViewType must be specified when StreamEnabled is true",
            ));
        };
        // The disabled stream stays readable beside the new one.
        if let Some(mut previous) = next.stream.take() {
            previous.disabled_ms.get_or_insert(now_ms);
            next.previous_streams.push(previous);
        }
        // Labels name streams in ARNs: two enabled within one millisecond still differ.
        let mut label_ms = now_ms;
        while next.stream_by_label(&stream_label(label_ms)).is_some() {
            label_ms += 1;
        }
        next.stream = Some(StreamState {
            enabled: true,
            view_type,
            label: stream_label(label_ms),
            id: 0,
            disabled_ms: None,
        });
    } else {
        // AWS says the same whether the table never had a stream or its stream is disabled.
        if !enabled {
            return Err(Error::validation(format!(
                "Table has no stream to disable: TableName: {}",
                current.name
            )));
        }
        if let Some(stream) = &mut next.stream {
            stream.enabled = false;
            stream.disabled_ms = Some(now_ms);
        }
    }
    Ok(())
}

/// A stream label: the creation time as `2026-12-03T08:00:00.123` (UTC).
pub fn stream_label(ms: i64) -> String {
    let seconds = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = seconds.div_euclid(86_400);
    let in_day = seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}",
        in_day / 3600,
        in_day % 3600 / 60,
        in_day % 60
    )
}

/// Days since 1970-01-01 to a Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// `GlobalSecondaryIndexUpdates`: at most one index created or deleted at a time, as AWS.
fn apply_index_updates(
    current: &TableDefinition,
    input: &UpdateTableInput,
    next: &mut TableDefinition,
) -> Result<(), Error> {
    if input.index_updates.is_empty() {
        return Ok(());
    }
    let changing = input
        .index_updates
        .iter()
        .filter(|u| matches!(u, IndexUpdate::Create(_) | IndexUpdate::Delete { .. }))
        .count();
    let busy = current.global_indexes.iter().any(|i| i.status != IndexStatus::Active);
    if changing > 1 || (changing == 1 && busy) {
        return Err(Error::LimitExceeded(
            "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table"
                .to_string(),
        ));
    }
    let provisioned = matches!(next.billing, Billing::Provisioned { .. });
    for update in &input.index_updates {
        match update {
            IndexUpdate::Create(index_input) => {
                if current.index(&index_input.name).is_some() {
                    return Err(invalid(format!("Index with name {} already exists", index_input.name)));
                }
                let mut defined = current.attribute_definitions.clone();
                for (name, scalar) in &input.attribute_definitions {
                    match defined.iter().find(|(n, _)| n == name) {
                        Some((_, existing)) if existing != scalar => {
                            return Err(invalid(format!(
                                "Cannot change the type of an attribute definition: {name}"
                            )));
                        }
                        Some(_) => {}
                        None => defined.push((name.clone(), *scalar)),
                    }
                }
                let created = index::definitions_from(
                    std::slice::from_ref(index_input),
                    IndexKind::Global,
                    &defined,
                    provisioned,
                    index::IndexRequest::UpdateTable,
                )?;
                if next.global_indexes.len() + created.len() > index::GLOBAL_INDEXES_MAX {
                    return Err(invalid(format!(
                        "GlobalSecondaryIndex count exceeds the per-table limit of {}",
                        index::GLOBAL_INDEXES_MAX
                    )));
                }
                next.attribute_definitions = defined;
                next.global_indexes.extend(created);
            }
            IndexUpdate::Delete { name } => {
                let Some(index) = next.global_indexes.iter_mut().find(|i| &i.name == name) else {
                    return Err(Error::ResourceNotFound(format!(
                        "Requested resource not found: Index: {name} not found for table: {}",
                        current.name
                    )));
                };
                index.status = IndexStatus::Deleting;
            }
            IndexUpdate::Update { name, throughput } => {
                let Some(index) = next.global_indexes.iter_mut().find(|i| &i.name == name) else {
                    return Err(Error::ResourceNotFound(format!(
                        "Requested resource not found: Index: {name} not found for table: {}",
                        current.name
                    )));
                };
                if !provisioned {
                    return Err(invalid(format!(
                        "ProvisionedThroughput should not be specified for index: {name} when BillingMode is PAY_PER_REQUEST"
                    )));
                }
                check_capacity(*throughput)?;
                index.throughput = Some(*throughput);
            }
        }
    }
    Ok(())
}

fn apply_billing(
    current: &TableDefinition,
    input: &UpdateTableInput,
    now_ms: i64,
    next: &mut TableDefinition,
) -> Result<(), Error> {
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
    Ok(())
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
            ..CreateTableInput::default()
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
        let valid = validate_create(&input(&[("b", N), ("a", S)], &[("a", "HASH"), ("b", "RANGE")])).expect("valid");
        assert_eq!(valid.key_schema.range.map(|r| r.scalar_type), Some(N));
        assert_eq!(valid.billing, Billing::PayPerRequest);
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
            global_indexes: vec![IndexDefinition {
                name: "bySk".into(),
                kind: IndexKind::Global,
                id: 9,
                key_schema: KeySchema {
                    hash: KeyAttribute {
                        name: "sk".into(),
                        scalar_type: ScalarType::N,
                    },
                    range: None,
                },
                projection: Projection::Include(vec!["title".into()]),
                throughput: Some(Throughput { read: 1, write: 2 }),
                status: IndexStatus::Creating,
            }],
            local_indexes: Vec::new(),
            stream: Some(StreamState {
                enabled: true,
                view_type: StreamViewType::NewAndOldImages,
                label: "2026-12-03T08:00:00.000".into(),
                id: 11,
                disabled_ms: None,
            }),
            previous_streams: vec![
                StreamState {
                    enabled: false,
                    view_type: StreamViewType::KeysOnly,
                    label: "2026-12-01T08:00:00.000".into(),
                    id: 10,
                    disabled_ms: None,
                },
                StreamState {
                    enabled: false,
                    view_type: StreamViewType::NewImage,
                    label: "2026-12-02T08:00:00.000".into(),
                    id: 12,
                    disabled_ms: Some(1_764_662_400_000),
                },
            ],
            ttl: Some(TtlState {
                attribute: "expires".into(),
                enabled: true,
            }),
            tags: [("team".to_string(), "books".to_string())].into_iter().collect(),
            point_in_time_recovery: true,
        };
        assert_eq!(TableDefinition::decode(&definition.encode()), Ok(definition));
    }

    fn plain_definition() -> TableDefinition {
        TableDefinition {
            name: "books".into(),
            id: 7,
            key_schema: KeySchema {
                hash: KeyAttribute {
                    name: "pk".into(),
                    scalar_type: ScalarType::S,
                },
                range: None,
            },
            attribute_definitions: vec![("pk".into(), ScalarType::S)],
            billing: Billing::PayPerRequest,
            created_at_ms: 1_700_000_000_123,
            last_increase_ms: None,
            last_decrease_ms: None,
            decreases_today: 0,
            pay_per_request_since_ms: Some(1_700_000_000_123),
            global_indexes: Vec::new(),
            local_indexes: Vec::new(),
            stream: None,
            previous_streams: Vec::new(),
            ttl: None,
            tags: BTreeMap::new(),
            point_in_time_recovery: false,
        }
    }

    #[test]
    fn definitions_stored_by_format_version_2_still_decode() {
        // `plain_definition` with a disabled KEYS_ONLY stream, as version 2 encoded it.
        let hex = "0205626f6f6b73070102706b015302706b015300010000018bcfe5687b0000010000018bcfe5687b00000001000017\
                   323032332d31312d31345432323a31333a32302e3132330b000000";
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .filter_map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
            .collect();
        let expected = TableDefinition {
            stream: Some(StreamState {
                enabled: false,
                view_type: StreamViewType::KeysOnly,
                label: "2023-11-14T22:13:20.123".into(),
                id: 11,
                disabled_ms: None,
            }),
            ..plain_definition()
        };
        assert_eq!(TableDefinition::decode(&bytes), Ok(expected));
    }

    fn stream_update(enabled: bool) -> UpdateTableInput {
        UpdateTableInput {
            table_name: "books".into(),
            stream: Some(StreamInput {
                enabled,
                view_type: enabled.then_some(StreamViewType::NewImage),
            }),
            ..UpdateTableInput::default()
        }
    }

    #[test]
    fn reenabling_a_stream_keeps_the_disabled_one() {
        let start = 1_700_000_000_000;
        let enabled = apply_update(&plain_definition(), &stream_update(true), start).expect("enable");
        let disabled = apply_update(&enabled, &stream_update(false), start + 5).expect("disable");
        let disabled_stream = disabled.stream.clone().expect("the latest stream stays named");
        assert_eq!(
            (disabled_stream.enabled, disabled_stream.disabled_ms),
            (false, Some(start + 5))
        );
        let no_stream = Err(Error::validation("Table has no stream to disable: TableName: books"));
        assert_eq!(
            apply_update(&plain_definition(), &stream_update(false), start),
            no_stream
        );
        assert_eq!(apply_update(&disabled, &stream_update(false), start + 6), no_stream);
        // Re-enabled within the same millisecond as the first: the new label still differs.
        let reenabled = apply_update(&disabled, &stream_update(true), start).expect("re-enable");
        assert_eq!(reenabled.previous_streams, vec![disabled_stream.clone()]);
        let latest = reenabled.stream.clone().expect("a new stream");
        assert!(latest.enabled && latest.id == 0 && latest.label != disabled_stream.label);
        assert_eq!(
            reenabled.stream_by_label(&disabled_stream.label),
            Some(&disabled_stream)
        );
        assert_eq!(reenabled.stream_by_label(&latest.label), Some(&latest));
        assert_eq!(reenabled.streams().count(), 2);
    }
}
