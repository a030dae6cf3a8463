//! The engine: the catalog of tables and every operation, over a [`Store`].
//!
//! Reads go straight to the store's committed state. Writes run as jobs on the store's writer,
//! so a condition check and the write it guards are atomic, and jobs form a serial order.

use std::collections::{BTreeMap, HashMap};
use std::ops::{Bound, ControlFlow};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use stratus_storage::{KeyRange, Store, StoreError, WriteTxn, write};

use crate::codec::{Decoder, Encoder, decode_item, encode_item};
use crate::error::Error;
use crate::expr::{self, Condition, ConditionKind, ExpressionContext, KeyCondition, Path, SortKeyCondition, Update};
use crate::index::{IndexDefinition, IndexKind, IndexStatus, Projection};
use crate::key::{self, KeySchema, ScalarType};
use crate::stream::{self, StreamRecord};
use crate::table::{self, CreateTableInput, TableDefinition, TableStatus, UpdateTableInput};
use crate::value::{AttributeValue, ITEM_BYTES_MAX, Item, item_size_bytes};

#[path = "engine_batch.rs"]
mod batch;
#[path = "engine_collections.rs"]
mod collections;
#[cfg(test)]
#[path = "engine_collections_tests.rs"]
mod collections_tests;
#[path = "engine_streams.rs"]
mod streams;
#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;
pub use batch::{
    BatchGetOutput, BatchGetRequest, MultiWriteOutput, TransactAction, TransactGetItem, TransactWriteItem, WriteRequest,
};
pub use collections::{
    CollectionsPerTable, ITEM_COLLECTION_BYTES_MAX, ITEM_COLLECTION_LIMIT_ENV, ItemCollectionMetrics,
};
pub use streams::{ShardIteratorType, StreamDescription};

/// The catalog's storage space: table definitions, statistics and counters.
const META_SPACE: &str = "meta";
const NEXT_ID_KEY: &[u8] = b"next-table-id";
/// The last stream sequence number handed out.
const SEQUENCE_KEY: &[u8] = b"stream-sequence";
/// Largest page a Query or Scan returns before stopping: 1 MB of item data.
pub const PAGE_BYTES_MAX: usize = 1024 * 1024;

fn table_key(name: &str) -> Vec<u8> {
    format!("table/{name}").into_bytes()
}

/// A deleted table's definition, kept while its streams are readable (24 hours, as AWS keeps
/// a deleted table's stream).
fn retired_key(table_id: u64) -> Vec<u8> {
    format!("retired/{table_id:020}").into_bytes()
}

fn stats_key(id: u64) -> Vec<u8> {
    format!("stats/{id}").into_bytes()
}

fn stream_space(id: u64) -> String {
    format!("stream/{id}")
}

fn ttl_space(table_id: u64) -> String {
    format!("ttl/{table_id}")
}

fn index_stats_key(id: u64) -> Vec<u8> {
    format!("istats/{id}").into_bytes()
}

/// Takes the next id for a table, index or stream space (inside a write job).
fn next_id(txn: &mut dyn WriteTxn) -> Result<u64, StoreError> {
    let id = match txn.get(META_SPACE, NEXT_ID_KEY)? {
        Some(bytes) => Decoder::new(&bytes).varint().unwrap_or(1),
        None => 1,
    };
    let mut next = Encoder::new();
    next.varint(id + 1);
    txn.put(META_SPACE, NEXT_ID_KEY, &next.bytes)?;
    Ok(id)
}

/// Where the current time comes from, so tests control it.
pub trait Clock: Send + Sync {
    fn now_ms(&self) -> i64;
}

/// The system clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }
}

/// A table in the catalog: its definition and live statistics.
pub struct Table {
    pub definition: TableDefinition,
    space: String,
    /// Shared by every version of the definition (UpdateTable makes a new `Table`).
    stats: Arc<Stats>,
    /// Each index's statistics, by index id.
    index_stats: BTreeMap<u64, Arc<Stats>>,
    /// The engine's stream sequence counter.
    sequence: Arc<AtomicU64>,
}

/// About a write, for its stream record, TTL bookkeeping and item collection.
#[derive(Clone, Copy, Debug)]
pub struct WriteMeta {
    pub now_ms: i64,
    /// Done by DynamoDB itself (a TTL deletion).
    pub by_service: bool,
    /// The item collection limit the write is held to.
    pub collection_bytes_max: u64,
}

/// What a write did besides the item itself.
#[derive(Clone, Debug, Default)]
struct Stored {
    /// What each affected index cost.
    index_units: Vec<IndexUnits>,
    /// The item collection's size after the write (tables with local indexes).
    collection_bytes: Option<u64>,
}

#[derive(Default)]
struct Stats {
    item_count: AtomicI64,
    size_bytes: AtomicI64,
}

impl Stats {
    /// Records a write's effect and persists the figures in the same transaction.
    fn account(
        &self,
        txn: &mut dyn WriteTxn,
        key: &[u8],
        old: Option<usize>,
        new: Option<usize>,
    ) -> Result<(), StoreError> {
        let count_delta = i64::from(new.is_some()) - i64::from(old.is_some());
        let size_delta = new.unwrap_or(0) as i64 - old.unwrap_or(0) as i64;
        if count_delta == 0 && size_delta == 0 {
            return Ok(());
        }
        let count = self.item_count.fetch_add(count_delta, Ordering::Relaxed) + count_delta;
        let size = self.size_bytes.fetch_add(size_delta, Ordering::Relaxed) + size_delta;
        let mut encoder = Encoder::new();
        encoder.i64(count);
        encoder.i64(size);
        txn.put(META_SPACE, key, &encoder.bytes)
    }

    fn load(store: &dyn Store, key: &[u8]) -> Result<Stats, Error> {
        let (count, size) = match store.get(META_SPACE, key)? {
            Some(bytes) => {
                let mut decoder = Decoder::new(&bytes);
                (decoder.i64().map_err(corrupt)?, decoder.i64().map_err(corrupt)?)
            }
            None => (0, 0),
        };
        Ok(Stats {
            item_count: AtomicI64::new(count),
            size_bytes: AtomicI64::new(size),
        })
    }
}

impl Table {
    fn new(
        definition: TableDefinition,
        stats: Arc<Stats>,
        mut index_stats: BTreeMap<u64, Arc<Stats>>,
        sequence: Arc<AtomicU64>,
    ) -> Table {
        for index in definition.indexes() {
            index_stats.entry(index.id).or_default();
        }
        index_stats.retain(|id, _| definition.indexes().any(|i| i.id == *id));
        Table {
            space: definition.items_space(),
            definition,
            stats,
            index_stats,
            sequence,
        }
    }

    /// Records a write's effect on the statistics and persists them in the same transaction.
    fn account(&self, txn: &mut dyn WriteTxn, old: Option<usize>, new: Option<usize>) -> Result<(), StoreError> {
        self.stats.account(txn, &stats_key(self.definition.id), old, new)
    }

    /// Checks a new item against every index's key types, as a write must.
    fn check_indexes(&self, item: &Item) -> Result<(), Error> {
        self.definition.indexes().try_for_each(|index| index.check_item(item))
    }

    /// Writes (or deletes) an item and keeps every index, the statistics and the item
    /// collection's size in step, inside a write job. A write that would grow its item
    /// collection past the limit fails with nothing written.
    fn store_item(
        &self,
        txn: &mut dyn WriteTxn,
        key: &[u8],
        old: Option<&Item>,
        new: Option<&Item>,
        encoded: Option<&[u8]>,
        meta: WriteMeta,
    ) -> Result<Result<Stored, Error>, StoreError> {
        let collection = self.collection_change(txn, key, old, new)?;
        if collection
            .as_ref()
            .is_some_and(|c| c.exceeds(meta.collection_bytes_max))
        {
            return Ok(Err(Error::ItemCollectionSizeLimitExceeded));
        }
        let collection_bytes = collection.as_ref().map(|c| c.after);
        self.store_extras(txn, key, old, new, meta)?;
        match new {
            Some(item) => match encoded {
                Some(bytes) => txn.put(&self.space, key, bytes)?,
                None => txn.put(&self.space, key, &encode_item(item))?,
            },
            None if old.is_some() => txn.delete(&self.space, key)?,
            None => {
                return Ok(Ok(Stored {
                    index_units: Vec::new(),
                    collection_bytes,
                }));
            }
        }
        if let Some(change) = &collection {
            self.store_collection(txn, change)?;
        }
        self.account(txn, old.map(item_size_bytes), new.map(item_size_bytes))?;
        let mut units = Vec::new();
        for index in self.definition.indexes() {
            if index.status == IndexStatus::Deleting {
                continue;
            }
            let used = self.store_entry(txn, index, key, old, new)?;
            if used > 0.0 {
                units.push(IndexUnits {
                    name: index.name.clone(),
                    global: index.kind == IndexKind::Global,
                    units: used,
                });
            }
        }
        Ok(Ok(Stored {
            index_units: units,
            collection_bytes,
        }))
    }

    /// The stream record and the TTL index entry of a write.
    fn store_extras(
        &self,
        txn: &mut dyn WriteTxn,
        key: &[u8],
        old: Option<&Item>,
        new: Option<&Item>,
        meta: WriteMeta,
    ) -> Result<(), StoreError> {
        if let Some(stream) = self.definition.active_stream() {
            let keys = self.definition.key_schema.key_item(new.or(old).unwrap_or(&Item::new()));
            if let Some(mut record) =
                StreamRecord::of_write(stream.view_type, keys, old, new, meta.now_ms, meta.by_service)
            {
                let sequence = self.sequence.fetch_add(1, Ordering::SeqCst) + 1;
                record.sequence = sequence;
                txn.put(&stream_space(stream.id), &sequence.to_be_bytes(), &record.encode())?;
                txn.put(META_SPACE, SEQUENCE_KEY, &sequence.to_be_bytes())?;
            }
        }
        if let Some(ttl) = self.definition.ttl.as_ref().filter(|t| t.enabled) {
            let space = ttl_space(self.definition.id);
            let old_key = old
                .and_then(|i| stream::expiry_seconds(i, &ttl.attribute))
                .and_then(|e| stream::ttl_key(e, key));
            let new_key = new
                .and_then(|i| stream::expiry_seconds(i, &ttl.attribute))
                .and_then(|e| stream::ttl_key(e, key));
            if old_key != new_key {
                if let Some(old_key) = old_key {
                    txn.delete(&space, &old_key)?;
                }
                if let Some(new_key) = new_key {
                    txn.put(&space, &new_key, &[])?;
                }
            }
        }
        Ok(())
    }

    /// Adds an item's entry to an index being built, unless a write already did.
    fn backfill_entry(
        &self,
        txn: &mut dyn WriteTxn,
        index: &IndexDefinition,
        key: &[u8],
        item: &Item,
    ) -> Result<(), StoreError> {
        let Some(entry) = index.entry_key(item, key) else {
            return Ok(());
        };
        let space = index.space();
        if txn.get(&space, &entry)?.is_some() {
            return Ok(());
        }
        let projected = index.project(item, &self.definition.key_schema);
        txn.put(&space, &entry, &encode_item(&projected))?;
        let stats = self.index_stats.get(&index.id).cloned().unwrap_or_default();
        stats.account(txn, &index_stats_key(index.id), None, Some(item_size_bytes(&projected)))
    }

    /// Keeps one index's entry for an item in step with a write; returns the write units it cost
    /// (an entry added, updated or removed is one write by its size; a changed index key, two).
    fn store_entry(
        &self,
        txn: &mut dyn WriteTxn,
        index: &IndexDefinition,
        key: &[u8],
        old: Option<&Item>,
        new: Option<&Item>,
    ) -> Result<f64, StoreError> {
        let schema = &self.definition.key_schema;
        let space = index.space();
        let mut old_entry = old.and_then(|item| index.entry_key(item, key));
        let new_entry = new.and_then(|item| index.entry_key(item, key));
        // While the index is built, an item the build has not reached yet has no entry: there
        // is nothing to replace or remove, nor to take off the index's figures.
        if index.status == IndexStatus::Creating
            && let Some(old_key) = &old_entry
            && txn.get(&space, old_key)?.is_none()
        {
            old_entry = None;
        }
        let old_size = old
            .filter(|_| old_entry.is_some())
            .map(|item| item_size_bytes(&index.project(item, schema)));
        let stats_key = index_stats_key(index.id);
        let stats = self.index_stats.get(&index.id).cloned().unwrap_or_default();
        let mut units = 0.0;
        match (&old_entry, &new_entry) {
            (Some(old_key), Some(new_key)) if old_key == new_key => {
                let projected = new.map(|item| index.project(item, schema)).unwrap_or_default();
                let new_size = item_size_bytes(&projected);
                if old_size != Some(new_size) || old.map(|o| index.project(o, schema)) != Some(projected.clone()) {
                    units += write_units(new_size.max(old_size.unwrap_or(0)));
                }
                txn.put(&space, new_key, &encode_item(&projected))?;
                stats.account(txn, &stats_key, old_size, Some(new_size))?;
            }
            _ => {
                if let Some(old_key) = &old_entry {
                    txn.delete(&space, old_key)?;
                    stats.account(txn, &stats_key, old_size, None)?;
                    units += write_units(old_size.unwrap_or(0));
                }
                if let Some(new_key) = &new_entry {
                    let projected = new.map(|item| index.project(item, schema)).unwrap_or_default();
                    txn.put(&space, new_key, &encode_item(&projected))?;
                    let size = item_size_bytes(&projected);
                    stats.account(txn, &stats_key, None, Some(size))?;
                    units += write_units(size);
                }
            }
        }
        Ok(units)
    }
}

/// Capacity an index consumed in a write (or read), for `ReturnConsumedCapacity: INDEXES`.
#[derive(Clone, Debug, PartialEq)]
pub struct IndexUnits {
    pub name: String,
    pub global: bool,
    pub units: f64,
}

/// An index's figures for DescribeTable.
#[derive(Clone, Debug)]
pub struct IndexDescription {
    pub definition: IndexDefinition,
    pub arn: String,
    pub item_count: i64,
    pub size_bytes: i64,
}

/// Everything DescribeTable reports.
#[derive(Clone, Debug)]
pub struct TableDescription {
    pub definition: TableDefinition,
    pub status: TableStatus,
    pub arn: String,
    pub item_count: i64,
    pub size_bytes: i64,
    /// Global indexes first, then local ones, in definition order.
    pub indexes: Vec<IndexDescription>,
    /// `arn:…:table/T/stream/LABEL` of the latest stream.
    pub stream_arn: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ReturnValues {
    #[default]
    None,
    AllOld,
    UpdatedOld,
    AllNew,
    UpdatedNew,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Select {
    #[default]
    AllAttributes,
    AllProjectedAttributes,
    SpecificAttributes,
    Count,
}

/// Capacity an operation consumed, when the request asked for it.
#[derive(Clone, Debug, PartialEq)]
pub struct ConsumedCapacity {
    pub table_name: String,
    pub capacity_units: f64,
    pub read_capacity_units: Option<f64>,
    pub write_capacity_units: Option<f64>,
}

/// The expression parameters every item operation shares.
#[derive(Clone, Debug, Default)]
pub struct Expressions {
    pub names: Option<HashMap<String, String>>,
    pub values: Option<HashMap<String, AttributeValue>>,
}

#[derive(Clone, Debug, Default)]
pub struct PutItemInput {
    pub table_name: String,
    pub item: Item,
    pub condition_expression: Option<String>,
    pub expressions: Expressions,
    pub return_values: ReturnValues,
    pub return_old_on_condition_failure: bool,
}

#[derive(Clone, Debug, Default)]
pub struct GetItemInput {
    pub table_name: String,
    pub key: Item,
    pub projection_expression: Option<String>,
    pub expressions: Expressions,
    pub consistent_read: bool,
}

#[derive(Clone, Debug, Default)]
pub struct UpdateItemInput {
    pub table_name: String,
    pub key: Item,
    pub update_expression: Option<String>,
    pub condition_expression: Option<String>,
    pub expressions: Expressions,
    pub return_values: ReturnValues,
    pub return_old_on_condition_failure: bool,
}

#[derive(Clone, Debug, Default)]
pub struct DeleteItemInput {
    pub table_name: String,
    pub key: Item,
    pub condition_expression: Option<String>,
    pub expressions: Expressions,
    pub return_values: ReturnValues,
    pub return_old_on_condition_failure: bool,
}

/// Result of Put/Update/Delete: the attributes ReturnValues asked for, and the item sizes
/// that capacity is computed from.
#[derive(Clone, Debug, Default)]
pub struct WriteOutput {
    pub attributes: Option<Item>,
    /// The table's own write units.
    pub capacity_units: f64,
    /// What each affected index cost.
    pub index_units: Vec<IndexUnits>,
    /// The item collection the write reached, in a table with local secondary indexes.
    pub item_collection: Option<ItemCollectionMetrics>,
}

#[derive(Clone, Debug, Default)]
pub struct GetItemOutput {
    pub item: Option<Item>,
    pub capacity_units: f64,
}

#[derive(Clone, Debug, Default)]
pub struct QueryInput {
    pub table_name: String,
    pub index_name: Option<String>,
    pub key_condition_expression: Option<String>,
    pub filter_expression: Option<String>,
    pub projection_expression: Option<String>,
    pub expressions: Expressions,
    pub select: Option<Select>,
    pub limit: Option<usize>,
    pub exclusive_start_key: Option<Item>,
    pub scan_index_forward: bool,
    pub consistent_read: bool,
}

#[derive(Clone, Debug, Default)]
pub struct ScanInput {
    pub table_name: String,
    pub index_name: Option<String>,
    pub filter_expression: Option<String>,
    pub projection_expression: Option<String>,
    pub expressions: Expressions,
    pub select: Option<Select>,
    pub limit: Option<usize>,
    pub exclusive_start_key: Option<Item>,
    pub segment: Option<u32>,
    pub total_segments: Option<u32>,
    pub consistent_read: bool,
}

#[derive(Clone, Debug, Default)]
pub struct PageOutput {
    /// `None` when Select is COUNT.
    pub items: Option<Vec<Item>>,
    pub count: usize,
    pub scanned_count: usize,
    pub last_evaluated_key: Option<Item>,
    pub capacity_units: f64,
    /// The index read (name, global), whose capacity `capacity_units` is.
    pub index: Option<(String, bool)>,
}

/// The DynamoDB engine.
pub struct Engine {
    store: Arc<dyn Store>,
    catalog: RwLock<BTreeMap<String, Arc<Table>>>,
    /// Deleted tables whose (now disabled) streams are still readable, oldest first.
    retired: RwLock<Vec<Arc<TableDefinition>>>,
    clock: Arc<dyn Clock>,
    sequence: Arc<AtomicU64>,
    idempotency: batch::Idempotency,
    /// How large an item collection may grow (10 GB unless tests lower it).
    item_collection_bytes_max: AtomicU64,
    pub region: String,
    pub account: String,
}

fn corrupt(error: impl std::fmt::Display) -> Error {
    Error::Internal(error.to_string())
}

/// Write capacity units for an item of `bytes` (1 KB each, at least 1).
fn write_units(bytes: usize) -> f64 {
    bytes.div_ceil(1024).max(1) as f64
}

/// Read capacity units for `bytes` read (4 KB each, at least 1; half for eventual consistency).
fn read_units(bytes: usize, consistent: bool) -> f64 {
    let units = bytes.div_ceil(4096).max(1) as f64;
    if consistent { units } else { units / 2.0 }
}

impl Engine {
    /// Opens the engine over a store, loading the catalog.
    pub fn open(store: Arc<dyn Store>, clock: Arc<dyn Clock>, region: &str, account: &str) -> Result<Engine, Error> {
        let mut catalog = BTreeMap::new();
        let mut definitions = Vec::new();
        let last_sequence = match store.get(META_SPACE, SEQUENCE_KEY)? {
            Some(bytes) => bytes
                .as_slice()
                .try_into()
                .map(u64::from_be_bytes)
                .map_err(|_| corrupt("sequence"))?,
            None => 0,
        };
        let sequence = Arc::new(AtomicU64::new(last_sequence));
        store.scan(
            META_SPACE,
            KeyRange {
                start: Bound::Included(b"table/"),
                end: Bound::Excluded(b"table0"),
            },
            false,
            &mut |_, value| {
                definitions.push(TableDefinition::decode(value));
                ControlFlow::Continue(())
            },
        )?;
        let mut retired = Vec::new();
        store.scan(
            META_SPACE,
            KeyRange {
                start: Bound::Included(b"retired/"),
                end: Bound::Excluded(b"retired0"),
            },
            false,
            &mut |_, value| {
                retired.push(TableDefinition::decode(value));
                ControlFlow::Continue(())
            },
        )?;
        let retired = retired
            .into_iter()
            .map(|d| d.map(Arc::new).map_err(corrupt))
            .collect::<Result<Vec<_>, Error>>()?;
        for definition in definitions {
            let definition = definition.map_err(corrupt)?;
            let stats = Arc::new(Stats::load(store.as_ref(), &stats_key(definition.id))?);
            let mut index_stats = BTreeMap::new();
            for index in definition.indexes() {
                index_stats.insert(
                    index.id,
                    Arc::new(Stats::load(store.as_ref(), &index_stats_key(index.id))?),
                );
            }
            catalog.insert(
                definition.name.clone(),
                Arc::new(Table::new(definition, stats, index_stats, Arc::clone(&sequence))),
            );
        }
        Ok(Engine {
            store,
            catalog: RwLock::new(catalog),
            retired: RwLock::new(retired),
            clock,
            sequence,
            idempotency: batch::Idempotency::default(),
            item_collection_bytes_max: AtomicU64::new(ITEM_COLLECTION_BYTES_MAX),
            region: region.to_string(),
            account: account.to_string(),
        })
    }

    fn meta(&self) -> WriteMeta {
        WriteMeta {
            now_ms: self.clock.now_ms(),
            by_service: false,
            collection_bytes_max: self.item_collection_bytes_max(),
        }
    }

    /// How large an item collection may grow: [`ITEM_COLLECTION_BYTES_MAX`], or what
    /// [`Engine::set_item_collection_bytes_max`] made it (the binary applies
    /// [`ITEM_COLLECTION_LIMIT_ENV`]).
    pub fn item_collection_bytes_max(&self) -> u64 {
        self.item_collection_bytes_max.load(Ordering::Relaxed)
    }

    /// Lowers (or raises) the item collection limit, so tests can reach it; writes queued after
    /// the call are held to it.
    pub fn set_item_collection_bytes_max(&self, bytes: u64) {
        self.item_collection_bytes_max.store(bytes, Ordering::Relaxed);
    }

    pub fn table_arn(&self, name: &str) -> String {
        format!("arn:aws:dynamodb:{}:{}:table/{name}", self.region, self.account)
    }

    /// The partition and sort key names of a table, or of one of its indexes (IAM's
    /// `dynamodb:LeadingKeys` needs them); `None` when there is no such table or index.
    pub fn key_names(&self, table: &str, index: Option<&str>) -> Option<(String, Option<String>)> {
        let catalog = self.catalog();
        let definition = &catalog.get(table)?.definition;
        let schema = match index {
            Some(name) => &definition.index(name)?.key_schema,
            None => &definition.key_schema,
        };
        Some((schema.hash.name.clone(), schema.range.as_ref().map(|r| r.name.clone())))
    }

    fn catalog(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Arc<Table>>> {
        self.catalog.read().unwrap_or_else(|p| p.into_inner())
    }

    fn catalog_mut(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Arc<Table>>> {
        self.catalog.write().unwrap_or_else(|p| p.into_inner())
    }

    fn retired(&self) -> std::sync::RwLockReadGuard<'_, Vec<Arc<TableDefinition>>> {
        self.retired.read().unwrap_or_else(|p| p.into_inner())
    }

    fn retired_mut(&self) -> std::sync::RwLockWriteGuard<'_, Vec<Arc<TableDefinition>>> {
        self.retired.write().unwrap_or_else(|p| p.into_inner())
    }

    /// The table for an item operation ("Requested resource not found" when missing).
    fn table(&self, name: &str) -> Result<Arc<Table>, Error> {
        self.catalog().get(name).cloned().ok_or_else(Error::table_not_found)
    }

    fn describe(&self, table: &Table, status: TableStatus) -> TableDescription {
        let arn = self.table_arn(&table.definition.name);
        let indexes = table
            .definition
            .indexes()
            .map(|index| {
                let stats = table.index_stats.get(&index.id);
                IndexDescription {
                    definition: index.clone(),
                    arn: format!("{arn}/index/{}", index.name),
                    item_count: stats.map_or(0, |s| s.item_count.load(Ordering::Relaxed).max(0)),
                    size_bytes: stats.map_or(0, |s| s.size_bytes.load(Ordering::Relaxed).max(0)),
                }
            })
            .collect();
        let stream_arn = table
            .definition
            .stream
            .as_ref()
            .map(|stream| format!("{arn}/stream/{}", stream.label));
        TableDescription {
            definition: table.definition.clone(),
            status,
            arn,
            item_count: table.stats.item_count.load(Ordering::Relaxed).max(0),
            size_bytes: table.stats.size_bytes.load(Ordering::Relaxed).max(0),
            indexes,
            stream_arn,
        }
    }

    // ----- tables -----

    pub async fn create_table(&self, input: CreateTableInput) -> Result<TableDescription, Error> {
        let valid = table::validate_create(&input)?;
        let name = input.table_name.clone();
        if self.catalog().contains_key(&name) {
            return Err(Error::ResourceInUse(format!("Table already exists: {name}")));
        }
        let now = self.clock.now_ms();
        let pay_per_request_since_ms = (valid.billing == table::Billing::PayPerRequest).then_some(now);
        let stream = match input.stream {
            Some(table::StreamInput {
                enabled: true,
                view_type,
            }) => {
                let view_type = view_type.ok_or_else(|| {
                    Error::validation("StreamSpecification.StreamViewType must be specified when StreamEnabled is true")
                })?;
                Some(table::StreamState {
                    enabled: true,
                    view_type,
                    label: table::stream_label(now),
                    id: 0,
                    disabled_ms: None,
                })
            }
            _ => None,
        };
        let definition = TableDefinition {
            name: name.clone(),
            id: 0,
            key_schema: valid.key_schema,
            attribute_definitions: input.attribute_definitions,
            billing: valid.billing,
            created_at_ms: now,
            last_increase_ms: None,
            last_decrease_ms: None,
            decreases_today: 0,
            pay_per_request_since_ms,
            global_indexes: valid.global_indexes,
            local_indexes: valid.local_indexes,
            stream,
            previous_streams: Vec::new(),
            ttl: None,
            tags: input.tags.into_iter().collect(),
            point_in_time_recovery: false,
        };
        let created = write(&self.store, move |txn| {
            if txn.get(META_SPACE, &table_key(&definition.name))?.is_some() {
                return Ok(None);
            }
            let mut definition = TableDefinition {
                id: next_id(txn)?,
                ..definition
            };
            for index in definition
                .global_indexes
                .iter_mut()
                .chain(definition.local_indexes.iter_mut())
            {
                index.id = next_id(txn)?;
            }
            if let Some(stream) = &mut definition.stream {
                stream.id = next_id(txn)?;
            }
            txn.put(META_SPACE, &table_key(&definition.name), &definition.encode())?;
            Ok(Some(definition))
        })
        .await?;
        let Some(definition) = created else {
            return Err(Error::ResourceInUse(format!("Table already exists: {name}")));
        };
        let table = Arc::new(Table::new(
            definition,
            Arc::default(),
            BTreeMap::new(),
            Arc::clone(&self.sequence),
        ));
        self.catalog_mut().insert(name, Arc::clone(&table));
        Ok(self.describe(&table, TableStatus::Creating))
    }

    pub fn describe_table(&self, name: &str) -> Result<TableDescription, Error> {
        let table = self
            .catalog()
            .get(name)
            .cloned()
            .ok_or_else(|| Error::named_table_not_found(name))?;
        Ok(self.describe(&table, TableStatus::Active))
    }

    /// Table names in order, starting after `exclusive_start`, at most `limit`; and the name to
    /// continue from when more remain.
    pub fn list_tables(&self, exclusive_start: Option<&str>, limit: usize) -> (Vec<String>, Option<String>) {
        let catalog = self.catalog();
        let start = match exclusive_start {
            Some(name) => Bound::Excluded(name.to_string()),
            None => Bound::Unbounded,
        };
        let mut names: Vec<String> = catalog
            .range::<String, _>((start, Bound::Unbounded))
            .map(|(name, _)| name.clone())
            .take(limit + 1)
            .collect();
        let more = names.len() > limit;
        names.truncate(limit);
        let last = if more { names.last().cloned() } else { None };
        (names, last)
    }

    pub async fn delete_table(&self, name: &str) -> Result<TableDescription, Error> {
        let table = self
            .catalog()
            .get(name)
            .cloned()
            .ok_or_else(|| Error::named_table_not_found(name))?;
        let description = self.describe(&table, TableStatus::Deleting);
        let id = table.definition.id;
        let space = table.space.clone();
        let table_name = name.to_string();
        let indexes: Vec<(u64, String)> = table.definition.indexes().map(|i| (i.id, i.space())).collect();
        // As on AWS, the table's stream is disabled, not dropped: its records (and those of the
        // previous streams) stay readable until 24 hours after they were disabled, when
        // `trim_streams` drops them with the retired definition.
        let retired = (table.definition.streams().next().is_some()).then(|| {
            let now = self.clock.now_ms();
            let mut definition = table.definition.clone();
            if let Some(mut stream) = definition.stream.take() {
                if stream.enabled || stream.disabled_ms.is_none() {
                    stream.disabled_ms = Some(now);
                }
                stream.enabled = false;
                definition.previous_streams.push(stream);
            }
            Arc::new(definition)
        });
        let retired_record = retired.as_ref().map(|d| (retired_key(id), d.encode()));
        let ttl = ttl_space(id);
        let collections = table.collections_space();
        // Leave the catalog first so no new write job targets the table; jobs already queued
        // check the catalog again on the writer and find it gone.
        self.catalog_mut().remove(name);
        write(&self.store, move |txn| {
            txn.delete(META_SPACE, &table_key(&table_name))?;
            txn.delete(META_SPACE, &stats_key(id))?;
            for (index_id, index_space) in &indexes {
                txn.delete(META_SPACE, &index_stats_key(*index_id))?;
                txn.drop_space(index_space)?;
            }
            if let Some((key, value)) = &retired_record {
                txn.put(META_SPACE, key, value)?;
            }
            txn.drop_space(&ttl)?;
            txn.drop_space(&collections)?;
            txn.drop_space(&space)
        })
        .await?;
        if let Some(retired) = retired {
            self.retired_mut().push(retired);
        }
        Ok(description)
    }

    pub async fn update_table(&self, input: UpdateTableInput) -> Result<TableDescription, Error> {
        let table = self
            .catalog()
            .get(&input.table_name)
            .cloned()
            .ok_or_else(|| Error::named_table_not_found(&input.table_name))?;
        let definition = table::apply_update(&table.definition, &input, self.clock.now_ms())?;
        let stored = write(&self.store, move |txn| {
            let mut definition = definition;
            for index in definition.global_indexes.iter_mut() {
                if index.id == 0 {
                    index.id = next_id(txn)?;
                }
            }
            // A new stream gets its own records space; the previous one keeps its records.
            if let Some(stream) = &mut definition.stream
                && stream.id == 0
            {
                stream.id = next_id(txn)?;
            }
            txn.put(META_SPACE, &table_key(&definition.name), &definition.encode())?;
            Ok(definition)
        })
        .await?;
        let updated = Arc::new(Table::new(
            stored,
            Arc::clone(&table.stats),
            table.index_stats.clone(),
            Arc::clone(&self.sequence),
        ));
        self.catalog_mut()
            .insert(input.table_name.clone(), Arc::clone(&updated));
        let status = if updated
            .definition
            .global_indexes
            .iter()
            .any(|i| i.status != IndexStatus::Active)
        {
            TableStatus::Updating
        } else {
            TableStatus::Active
        };
        Ok(self.describe(&updated, status))
    }

    /// Replaces a table's definition in the catalog and the store (inside `write`).
    async fn replace_definition(
        &self,
        name: &str,
        change: impl FnOnce(&mut TableDefinition) + Send + 'static,
    ) -> Result<Option<Arc<Table>>, Error> {
        let Some(table) = self.catalog().get(name).cloned() else {
            return Ok(None);
        };
        let mut definition = table.definition.clone();
        change(&mut definition);
        let stored = definition.clone();
        write(&self.store, move |txn| {
            txn.put(META_SPACE, &table_key(&stored.name), &stored.encode())
        })
        .await?;
        let updated = Arc::new(Table::new(
            definition,
            Arc::clone(&table.stats),
            table.index_stats.clone(),
            Arc::clone(&self.sequence),
        ));
        let mut catalog = self.catalog_mut();
        match catalog.get(name) {
            Some(current) if current.definition.id == updated.definition.id => {
                catalog.insert(name.to_string(), Arc::clone(&updated));
                Ok(Some(updated))
            }
            _ => Ok(None),
        }
    }

    /// Index work UpdateTable started: builds CREATING global indexes from the table's items,
    /// then marks them ACTIVE; drops DELETING ones. Call it in the background after UpdateTable
    /// (and after opening the store, to finish work a restart interrupted).
    pub async fn finish_index_changes(self: &Arc<Self>) -> Result<(), Error> {
        let names: Vec<String> = self
            .catalog()
            .values()
            .filter(|t| {
                t.definition
                    .global_indexes
                    .iter()
                    .any(|i| i.status != IndexStatus::Active)
            })
            .map(|t| t.definition.name.clone())
            .collect();
        for name in names {
            let Some(table) = self.catalog().get(&name).cloned() else {
                continue;
            };
            for index in table.definition.global_indexes.clone() {
                match index.status {
                    IndexStatus::Creating => {
                        self.backfill(&name, &index).await?;
                        let index_id = index.id;
                        self.replace_definition(&name, move |definition| {
                            for candidate in definition.global_indexes.iter_mut() {
                                if candidate.id == index_id {
                                    candidate.status = IndexStatus::Active;
                                }
                            }
                        })
                        .await?;
                    }
                    IndexStatus::Deleting => {
                        let index_id = index.id;
                        let space = index.space();
                        let updated = self
                            .replace_definition(&name, move |definition| {
                                definition.global_indexes.retain(|candidate| candidate.id != index_id);
                            })
                            .await?;
                        if updated.is_some() {
                            write(&self.store, move |txn| {
                                txn.delete(META_SPACE, &index_stats_key(index_id))?;
                                txn.drop_space(&space)
                            })
                            .await?;
                        }
                    }
                    IndexStatus::Active => {}
                }
            }
        }
        Ok(())
    }

    /// Writes an index entry for every item of the table, a batch of keys per job; each job
    /// re-reads its items so concurrent writes (which maintain the index themselves) win.
    async fn backfill(self: &Arc<Self>, name: &str, index: &IndexDefinition) -> Result<(), Error> {
        const BATCH: usize = 500;
        let mut after: Option<Vec<u8>> = None;
        loop {
            let Some(table) = self.catalog().get(name).cloned() else {
                return Ok(());
            };
            let mut keys: Vec<Vec<u8>> = Vec::with_capacity(BATCH);
            let start = match &after {
                Some(key) => Bound::Excluded(key.as_slice()),
                None => Bound::Unbounded,
            };
            self.store.scan(
                &table.space,
                KeyRange {
                    start,
                    end: Bound::Unbounded,
                },
                false,
                &mut |key, _| {
                    keys.push(key.to_vec());
                    if keys.len() >= BATCH {
                        ControlFlow::Break(())
                    } else {
                        ControlFlow::Continue(())
                    }
                },
            )?;
            let Some(last) = keys.last().cloned() else {
                return Ok(());
            };
            let done = keys.len() < BATCH;
            let index = index.clone();
            let table_for_job = Arc::clone(&table);
            write(&self.store, move |txn| {
                for key in &keys {
                    let item = match txn.get(&table_for_job.space, key)? {
                        Some(bytes) => match decode_item(&bytes) {
                            Ok(item) => item,
                            Err(_) => continue,
                        },
                        None => continue,
                    };
                    table_for_job.backfill_entry(txn, &index, key, &item)?;
                }
                Ok(())
            })
            .await?;
            if done {
                return Ok(());
            }
            after = Some(last);
            // On the in-memory store the write above never waits: without this, a big table's
            // build would hold its worker thread from the first batch to the last, and requests
            // queued behind it (DescribeTable, the writes the build races with) would wait for
            // the whole build.
            stratus_storage::yield_now().await;
        }
    }

    // ----- items -----

    /// Whether `table` is still the catalog's table of that name (checked on the writer, so a
    /// write queued behind a DeleteTable does not resurrect the table's space).
    fn still_current(&self, table: &Table) -> bool {
        self.catalog()
            .get(&table.definition.name)
            .is_some_and(|t| t.definition.id == table.definition.id)
    }

    pub async fn put_item(self: &Arc<Self>, input: PutItemInput) -> Result<WriteOutput, Error> {
        if !matches!(input.return_values, ReturnValues::None | ReturnValues::AllOld) {
            return Err(Error::validation("ReturnValues can only be ALL_OLD or NONE"));
        }
        let mut context = ExpressionContext::new(input.expressions.names.as_ref(), input.expressions.values.as_ref());
        let condition = parse_condition_opt(
            ConditionKind::Condition,
            input.condition_expression.as_deref(),
            &mut context,
        )?;
        context.check_unused()?;
        let table = self.table(&input.table_name)?;
        let key = table.definition.key_schema.item_key(&input.item)?;
        table.check_indexes(&input.item)?;
        let new_size = item_size_bytes(&input.item);
        if new_size > ITEM_BYTES_MAX {
            return Err(Error::validation("Item size has exceeded the maximum allowed size"));
        }
        let encoded = encode_item(&input.item);
        let item = input.item;
        let engine = Arc::clone(self);
        let return_values = input.return_values;
        let return_old = input.return_old_on_condition_failure;
        let meta = self.meta();
        write(&self.store, move |txn| {
            let old = match engine.read_checked(txn, &table, &key, condition.as_ref(), return_old)? {
                Ok(old) => old,
                Err(error) => return Ok(Err(error)),
            };
            let stored = match table.store_item(txn, &key, old.as_ref(), Some(&item), Some(&encoded), meta)? {
                Ok(stored) => stored,
                Err(error) => return Ok(Err(error)),
            };
            let old_size = old.as_ref().map(item_size_bytes);
            let units = write_units(old_size.unwrap_or(0).max(new_size));
            let attributes = if return_values == ReturnValues::AllOld {
                old
            } else {
                None
            };
            Ok(Ok(WriteOutput {
                attributes,
                capacity_units: units,
                item_collection: table.collection_metrics(&item, &stored),
                index_units: stored.index_units,
            }))
        })
        .await?
    }

    pub fn get_item(&self, input: GetItemInput) -> Result<GetItemOutput, Error> {
        let mut context = ExpressionContext::new(input.expressions.names.as_ref(), input.expressions.values.as_ref());
        let projection = parse_projection_opt(input.projection_expression.as_deref(), &mut context)?;
        context.check_unused()?;
        let table = self.table(&input.table_name)?;
        let key = table.definition.key_schema.key_of(&input.key)?;
        let item = match self.store.get(&table.space, &key)? {
            Some(bytes) => Some(decode_item(&bytes).map_err(corrupt)?),
            None => None,
        };
        let size = item.as_ref().map_or(0, item_size_bytes);
        let item = match (item, &projection) {
            (Some(item), Some(paths)) => Some(expr::project(&item, paths)),
            (item, _) => item,
        };
        Ok(GetItemOutput {
            item,
            capacity_units: read_units(size, input.consistent_read),
        })
    }

    pub async fn update_item(self: &Arc<Self>, input: UpdateItemInput) -> Result<WriteOutput, Error> {
        let mut context = ExpressionContext::new(input.expressions.names.as_ref(), input.expressions.values.as_ref());
        let update = match input.update_expression.as_deref() {
            Some(text) => Some(expr::parse_update(text, &mut context)?),
            None => None,
        };
        let condition = parse_condition_opt(
            ConditionKind::Condition,
            input.condition_expression.as_deref(),
            &mut context,
        )?;
        context.check_unused()?;
        let table = self.table(&input.table_name)?;
        let key = table.definition.key_schema.key_of(&input.key)?;
        if let Some(update) = &update {
            let key_names: Vec<&str> = table
                .definition
                .key_schema
                .attributes()
                .map(|a| a.name.as_str())
                .collect();
            update.check_key_attributes(&key_names)?;
        }
        let engine = Arc::clone(self);
        let key_item = input.key;
        let return_values = input.return_values;
        let return_old = input.return_old_on_condition_failure;
        let meta = self.meta();
        write(&self.store, move |txn| {
            let old = match engine.read_checked(txn, &table, &key, condition.as_ref(), return_old)? {
                Ok(old) => old,
                Err(error) => return Ok(Err(error)),
            };
            let mut new = old.clone().unwrap_or_else(|| key_item.clone());
            if let Some(update) = &update
                && let Err(error) = update.apply(&mut new)
            {
                return Ok(Err(error.into()));
            }
            let new_size = item_size_bytes(&new);
            if new_size > ITEM_BYTES_MAX {
                return Ok(Err(Error::validation(
                    "Item size to update has exceeded the maximum allowed size",
                )));
            }
            if let Err(error) = table.check_indexes(&new) {
                return Ok(Err(error));
            }
            let stored = match table.store_item(txn, &key, old.as_ref(), Some(&new), None, meta)? {
                Ok(stored) => stored,
                Err(error) => return Ok(Err(error)),
            };
            let old_size = old.as_ref().map(item_size_bytes);
            let units = write_units(old_size.unwrap_or(0).max(new_size));
            let updated_paths = || update.as_ref().map(Update::updated_paths).unwrap_or_default();
            let attributes = match return_values {
                ReturnValues::None => None,
                ReturnValues::AllOld => old,
                ReturnValues::AllNew => Some(new),
                ReturnValues::UpdatedOld => old.map(|old| expr::project(&old, &updated_paths())),
                ReturnValues::UpdatedNew => Some(expr::project(&new, &updated_paths())),
            };
            let attributes = attributes.filter(|a| !a.is_empty());
            Ok(Ok(WriteOutput {
                attributes,
                capacity_units: units,
                item_collection: table.collection_metrics(&key_item, &stored),
                index_units: stored.index_units,
            }))
        })
        .await?
    }

    pub async fn delete_item(self: &Arc<Self>, input: DeleteItemInput) -> Result<WriteOutput, Error> {
        if !matches!(input.return_values, ReturnValues::None | ReturnValues::AllOld) {
            return Err(Error::validation("ReturnValues can only be ALL_OLD or NONE"));
        }
        let mut context = ExpressionContext::new(input.expressions.names.as_ref(), input.expressions.values.as_ref());
        let condition = parse_condition_opt(
            ConditionKind::Condition,
            input.condition_expression.as_deref(),
            &mut context,
        )?;
        context.check_unused()?;
        let table = self.table(&input.table_name)?;
        let key = table.definition.key_schema.key_of(&input.key)?;
        let engine = Arc::clone(self);
        let key_item = input.key;
        let return_values = input.return_values;
        let return_old = input.return_old_on_condition_failure;
        let meta = self.meta();
        write(&self.store, move |txn| {
            let old = match engine.read_checked(txn, &table, &key, condition.as_ref(), return_old)? {
                Ok(old) => old,
                Err(error) => return Ok(Err(error)),
            };
            let old_size = old.as_ref().map(item_size_bytes);
            let stored = match table.store_item(txn, &key, old.as_ref(), None, None, meta)? {
                Ok(stored) => stored,
                Err(error) => return Ok(Err(error)),
            };
            let attributes = if return_values == ReturnValues::AllOld {
                old
            } else {
                None
            };
            Ok(Ok(WriteOutput {
                attributes,
                capacity_units: write_units(old_size.unwrap_or(0)),
                item_collection: table.collection_metrics(&key_item, &stored),
                index_units: stored.index_units,
            }))
        })
        .await?
    }

    /// Inside a write job: checks the table still exists, reads the current item and evaluates
    /// the condition against it. `Ok(Err(_))` is the operation's own failure.
    fn read_checked(
        &self,
        txn: &mut dyn WriteTxn,
        table: &Table,
        key: &[u8],
        condition: Option<&Condition>,
        return_old: bool,
    ) -> Result<Result<Option<Item>, Error>, StoreError> {
        if !self.still_current(table) {
            return Ok(Err(Error::table_not_found()));
        }
        let old = match load(txn, &table.space, key)? {
            Ok(old) => old,
            Err(error) => return Ok(Err(error)),
        };
        if let Some(condition) = condition
            && !condition.evaluate(old.as_ref().unwrap_or(&Item::new()))
        {
            return Ok(Err(Error::ConditionalCheckFailed {
                item: if return_old { old } else { None },
            }));
        }
        Ok(Ok(old))
    }

    // ----- query and scan -----

    /// The index a Query or Scan names, if it may be read as asked.
    fn readable_index<'t>(&self, table: &'t Table, name: &str, consistent: bool) -> Result<&'t IndexDefinition, Error> {
        let Some(index) = table
            .definition
            .index(name)
            .filter(|i| i.status != IndexStatus::Deleting)
        else {
            return Err(Error::validation(format!(
                "The table does not have the specified index: {name}"
            )));
        };
        if index.kind == IndexKind::Global && consistent {
            return Err(Error::validation(
                "Consistent reads are not supported on global secondary indexes",
            ));
        }
        if !index.is_readable() {
            return Err(Error::validation(format!(
                "Cannot read from backfilling global secondary index: {name}"
            )));
        }
        Ok(index)
    }

    pub fn query(&self, input: QueryInput) -> Result<PageOutput, Error> {
        let mut context = ExpressionContext::new(input.expressions.names.as_ref(), input.expressions.values.as_ref());
        let table = self.table(&input.table_name)?;
        let index = match &input.index_name {
            Some(name) => Some(self.readable_index(&table, name, input.consistent_read)?),
            None => None,
        };
        let schema = index.map_or(&table.definition.key_schema, |i| &i.key_schema);
        let Some(key_text) = input.key_condition_expression.as_deref() else {
            return Err(Error::validation(
                "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.",
            ));
        };
        let key_condition = expr::parse_key_condition(
            key_text,
            &mut context,
            &schema.hash.name,
            schema.range.as_ref().map(|r| r.name.as_str()),
        )?;
        let filter = parse_condition_opt(ConditionKind::Filter, input.filter_expression.as_deref(), &mut context)?;
        let projection = parse_projection_opt(input.projection_expression.as_deref(), &mut context)?;
        context.check_unused()?;
        if let Some(filter) = &filter
            && let Some(key) = filter
                .paths()
                .into_iter()
                .find(|path| schema.is_key_attribute(path.top()))
        {
            return Err(Error::validation(format!(
                "Filter Expression can only contain non-primary key attributes: Primary key attribute: {}",
                key.top()
            )));
        }
        let select = check_select(input.select, projection.is_some(), index)?;
        let (mut start, mut end) = match index {
            Some(index) => index.query_range(&key_condition)?,
            None => query_range(schema, &key_condition)?,
        };
        if let Some(exclusive) = &input.exclusive_start_key {
            let after = match index {
                Some(index) => index.start_key(exclusive, &table.definition.key_schema)?,
                None => schema
                    .key_of(exclusive)
                    .map_err(|_| Error::validation("The provided starting key is invalid"))?,
            };
            if input.scan_index_forward {
                start = Bound::Excluded(after);
            } else {
                end = Bound::Excluded(after);
            }
        }
        let reverse = !input.scan_index_forward;
        self.page(
            &table,
            index,
            start,
            end,
            reverse,
            &input.limit,
            filter.as_ref(),
            projection.as_deref(),
            select,
            input.consistent_read,
        )
    }

    pub fn scan(&self, input: ScanInput) -> Result<PageOutput, Error> {
        let mut context = ExpressionContext::new(input.expressions.names.as_ref(), input.expressions.values.as_ref());
        let filter = parse_condition_opt(ConditionKind::Filter, input.filter_expression.as_deref(), &mut context)?;
        let projection = parse_projection_opt(input.projection_expression.as_deref(), &mut context)?;
        context.check_unused()?;
        let table = self.table(&input.table_name)?;
        let index = match &input.index_name {
            Some(name) => Some(self.readable_index(&table, name, input.consistent_read)?),
            None => None,
        };
        let select = check_select(input.select, projection.is_some(), index)?;
        let (segment_start, segment_end) = match (input.segment, input.total_segments) {
            (Some(segment), Some(total)) => {
                let (start, end) = key::segment_bounds(segment, total);
                (Bound::Included(start), end.map_or(Bound::Unbounded, Bound::Excluded))
            }
            _ => (Bound::Unbounded, Bound::Unbounded),
        };
        let start = match &input.exclusive_start_key {
            Some(exclusive) => Bound::Excluded(match index {
                Some(index) => index.start_key(exclusive, &table.definition.key_schema)?,
                None => table
                    .definition
                    .key_schema
                    .key_of(exclusive)
                    .map_err(|_| Error::validation("The provided starting key is invalid"))?,
            }),
            None => segment_start,
        };
        self.page(
            &table,
            index,
            start,
            segment_end,
            false,
            &input.limit,
            filter.as_ref(),
            projection.as_deref(),
            select,
            input.consistent_read,
        )
    }

    /// Reads one page of a key range of the table or an index: at most `limit` items evaluated
    /// and at most 1 MB. A local index that does not hold every attribute asked for reads the
    /// rest from the table, as DynamoDB does.
    #[allow(clippy::too_many_arguments)]
    fn page(
        &self,
        table: &Table,
        index: Option<&IndexDefinition>,
        start: Bound<Vec<u8>>,
        end: Bound<Vec<u8>>,
        reverse: bool,
        limit: &Option<usize>,
        filter: Option<&Condition>,
        projection: Option<&[Path]>,
        select: Select,
        consistent: bool,
    ) -> Result<PageOutput, Error> {
        let limit = limit.unwrap_or(usize::MAX);
        let mut output = PageOutput {
            items: (select != Select::Count).then(Vec::new),
            ..PageOutput::default()
        };
        let mut bytes_read = 0usize;
        let mut last_key: Option<Item> = None;
        let key_schema = &table.definition.key_schema;
        let fetch_from_table = index.is_some_and(|index| {
            index.kind == IndexKind::Local
                && index.projection != Projection::All
                && (select == Select::AllAttributes
                    || projection.is_some_and(|paths| {
                        paths.iter().any(|path| {
                            let top = path.top();
                            !key_schema.is_key_attribute(top)
                                && !index.key_schema.is_key_attribute(top)
                                && !matches!(&index.projection, Projection::Include(names) if names.iter().any(|n| n == top))
                        })
                    }))
        });
        let mut stopped_early = false;
        let mut failure: Option<Error> = None;
        let range = KeyRange {
            start: as_ref_bound(&start),
            end: as_ref_bound(&end),
        };
        let space = match index {
            Some(index) => index.space(),
            None => table.space.clone(),
        };
        self.store.scan(&space, range, reverse, &mut |_, value| {
            if output.scanned_count >= limit || bytes_read >= PAGE_BYTES_MAX {
                stopped_early = true;
                return ControlFlow::Break(());
            }
            let mut item = match decode_item(value) {
                Ok(item) => item,
                Err(error) => {
                    failure = Some(corrupt(error));
                    return ControlFlow::Break(());
                }
            };
            output.scanned_count += 1;
            bytes_read += item_size_bytes(&item);
            last_key = Some(match index {
                Some(index) => index.evaluated_key(&item, key_schema),
                None => key_schema.key_item(&item),
            });
            if fetch_from_table && let Some(table_key) = key_schema.storage_key(&item) {
                match self.store.get(&table.space, &table_key) {
                    Ok(Some(bytes)) => match decode_item(&bytes) {
                        Ok(full) => item = full,
                        Err(error) => {
                            failure = Some(corrupt(error));
                            return ControlFlow::Break(());
                        }
                    },
                    Ok(None) => {}
                    Err(error) => {
                        failure = Some(error.into());
                        return ControlFlow::Break(());
                    }
                }
            }
            if filter.is_none_or(|f| f.evaluate(&item)) {
                output.count += 1;
                if let Some(items) = &mut output.items {
                    items.push(match projection {
                        Some(paths) => expr::project(&item, paths),
                        None => item,
                    });
                }
            }
            ControlFlow::Continue(())
        })?;
        if let Some(error) = failure {
            return Err(error);
        }
        // AWS reports a LastEvaluatedKey whenever the page stopped at the Limit or the size cap,
        // even when no items follow.
        if stopped_early || (output.scanned_count >= limit && output.scanned_count > 0) || bytes_read >= PAGE_BYTES_MAX
        {
            output.last_evaluated_key = last_key;
        }
        output.capacity_units = read_units(bytes_read, consistent);
        output.index = index.map(|i| (i.name.clone(), i.kind == IndexKind::Global));
        Ok(output)
    }
}

fn as_ref_bound(bound: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match bound {
        Bound::Included(key) => Bound::Included(key.as_slice()),
        Bound::Excluded(key) => Bound::Excluded(key.as_slice()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

fn check_select(
    select: Option<Select>,
    has_projection: bool,
    index: Option<&IndexDefinition>,
) -> Result<Select, Error> {
    match (select, has_projection) {
        (None, true) => Ok(Select::SpecificAttributes),
        (None, false) if index.is_some() => Ok(Select::AllProjectedAttributes),
        (None, false) => Ok(Select::AllAttributes),
        (Some(Select::SpecificAttributes), false) => Err(Error::validation(
            "Must specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES",
        )),
        (Some(Select::AllAttributes), true) => Err(Error::validation(
            "Cannot specify the ProjectionExpression when choosing to get ALL_ATTRIBUTES",
        )),
        (Some(Select::Count), true) => Err(Error::validation(
            "Cannot specify the ProjectionExpression when choosing to get COUNT",
        )),
        (Some(Select::AllProjectedAttributes), _) if index.is_none() => Err(Error::validation(
            "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName",
        )),
        (Some(Select::AllProjectedAttributes), true) => Err(Error::validation(
            "Cannot specify the ProjectionExpression when choosing to get ALL_PROJECTED_ATTRIBUTES",
        )),
        (Some(Select::AllAttributes), false)
            if index.is_some_and(|i| i.kind == IndexKind::Global && i.projection != Projection::All) =>
        {
            let name = index.map(|i| i.name.as_str()).unwrap_or_default();
            Err(Error::validation(format!(
                "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global secondary index {name} because its projection type is not ALL"
            )))
        }
        (Some(select), _) => Ok(select),
    }
}

fn parse_condition_opt(
    kind: ConditionKind,
    text: Option<&str>,
    context: &mut ExpressionContext<'_>,
) -> Result<Option<Condition>, Error> {
    Ok(match text {
        Some(text) => Some(expr::parse_condition(kind, text, context)?),
        None => None,
    })
}

fn parse_projection_opt(text: Option<&str>, context: &mut ExpressionContext<'_>) -> Result<Option<Vec<Path>>, Error> {
    Ok(match text {
        Some(text) => Some(expr::parse_projection(text, context)?),
        None => None,
    })
}

/// Reads and decodes an item inside a write job.
fn load(txn: &mut dyn WriteTxn, space: &str, key: &[u8]) -> Result<Result<Option<Item>, Error>, StoreError> {
    Ok(match txn.get(space, key)? {
        Some(bytes) => decode_item(&bytes).map(Some).map_err(corrupt),
        None => Ok(None),
    })
}

/// The storage-key range a key condition selects.
/// A range of storage keys: start and end bounds.
type KeyBounds = (Bound<Vec<u8>>, Bound<Vec<u8>>);

fn query_range(schema: &KeySchema, condition: &KeyCondition) -> Result<KeyBounds, Error> {
    let type_mismatch = || {
        Error::validation(
            "One or more parameter values were invalid: Condition parameter type does not match schema type",
        )
    };
    if condition.partition_value.value_type() != schema.hash.scalar_type.value_type() {
        return Err(type_mismatch());
    }
    let prefix = key::partition_prefix(&condition.partition_value).ok_or_else(type_mismatch)?;
    let partition_end = match key::prefix_successor(&prefix) {
        Some(end) => Bound::Excluded(end),
        None => Bound::Unbounded,
    };
    let Some(sort) = &condition.sort else {
        return Ok((Bound::Included(prefix), partition_end));
    };
    let Some(range) = &schema.range else {
        return Err(type_mismatch());
    };
    let with = |value: &AttributeValue| -> Result<Vec<u8>, Error> {
        if value.value_type() != range.scalar_type.value_type() {
            return Err(type_mismatch());
        }
        let mut key = prefix.clone();
        key::encode_scalar(value, &mut key).ok_or_else(type_mismatch)?;
        Ok(key)
    };
    Ok(match sort {
        SortKeyCondition::Eq(v) => {
            let key = with(v)?;
            (Bound::Included(key.clone()), Bound::Included(key))
        }
        SortKeyCondition::Lt(v) => (Bound::Included(prefix.clone()), Bound::Excluded(with(v)?)),
        SortKeyCondition::Le(v) => (Bound::Included(prefix.clone()), Bound::Included(with(v)?)),
        SortKeyCondition::Gt(v) => (Bound::Excluded(with(v)?), partition_end),
        SortKeyCondition::Ge(v) => (Bound::Included(with(v)?), partition_end),
        SortKeyCondition::Between(low, high) => {
            let (low, high) = (with(low)?, with(high)?);
            if low > high {
                return Err(Error::validation(
                    "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound",
                ));
            }
            (Bound::Included(low), Bound::Included(high))
        }
        SortKeyCondition::BeginsWith(v) => {
            if range.scalar_type == ScalarType::N {
                return Err(Error::validation(
                    "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N",
                ));
            }
            let start = with(v)?;
            let end = match key::prefix_successor(&start) {
                Some(end) if end.len() >= prefix.len() => Bound::Excluded(end),
                _ => partition_end,
            };
            (Bound::Included(start), end)
        }
    })
}
