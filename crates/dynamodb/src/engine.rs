//! The engine: the catalog of tables and every operation, over a [`Store`].
//!
//! Reads go straight to the store's committed state. Writes run as jobs on the store's writer,
//! so a condition check and the write it guards are atomic, and jobs form a serial order.

use std::collections::{BTreeMap, HashMap};
use std::ops::{Bound, ControlFlow};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};

use stratus_storage::{KeyRange, Store, StoreError, WriteTxn, write};

use crate::codec::{Decoder, Encoder, decode_item, encode_item};
use crate::error::Error;
use crate::expr::{self, Condition, ConditionKind, ExpressionContext, KeyCondition, Path, SortKeyCondition, Update};
use crate::key::{self, KeySchema, ScalarType};
use crate::table::{self, CreateTableInput, TableDefinition, TableStatus, UpdateTableInput};
use crate::value::{AttributeValue, ITEM_BYTES_MAX, Item, item_size_bytes};

/// The catalog's storage space: table definitions, statistics and counters.
const META_SPACE: &str = "meta";
const NEXT_ID_KEY: &[u8] = b"next-table-id";
/// Largest page a Query or Scan returns before stopping: 1 MB of item data.
pub const PAGE_BYTES_MAX: usize = 1024 * 1024;

fn table_key(name: &str) -> Vec<u8> {
    format!("table/{name}").into_bytes()
}

fn stats_key(id: u64) -> Vec<u8> {
    format!("stats/{id}").into_bytes()
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
}

#[derive(Default)]
struct Stats {
    item_count: AtomicI64,
    size_bytes: AtomicI64,
}

impl Table {
    fn new(definition: TableDefinition, stats: Arc<Stats>) -> Table {
        Table {
            space: definition.items_space(),
            definition,
            stats,
        }
    }

    /// Records a write's effect on the statistics and persists them in the same transaction.
    fn account(&self, txn: &mut dyn WriteTxn, old: Option<usize>, new: Option<usize>) -> Result<(), StoreError> {
        let count_delta = i64::from(new.is_some()) - i64::from(old.is_some());
        let size_delta = new.unwrap_or(0) as i64 - old.unwrap_or(0) as i64;
        let count = self.stats.item_count.fetch_add(count_delta, Ordering::Relaxed) + count_delta;
        let size = self.stats.size_bytes.fetch_add(size_delta, Ordering::Relaxed) + size_delta;
        let mut encoder = Encoder::new();
        encoder.i64(count);
        encoder.i64(size);
        txn.put(META_SPACE, &stats_key(self.definition.id), &encoder.bytes)
    }
}

/// Everything DescribeTable reports.
#[derive(Clone, Debug)]
pub struct TableDescription {
    pub definition: TableDefinition,
    pub status: TableStatus,
    pub arn: String,
    pub item_count: i64,
    pub size_bytes: i64,
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
    pub capacity_units: f64,
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
}

/// The DynamoDB engine.
pub struct Engine {
    store: Arc<dyn Store>,
    catalog: RwLock<BTreeMap<String, Arc<Table>>>,
    clock: Arc<dyn Clock>,
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
        for definition in definitions {
            let definition = definition.map_err(corrupt)?;
            let (count, size) = match store.get(META_SPACE, &stats_key(definition.id))? {
                Some(bytes) => {
                    let mut decoder = Decoder::new(&bytes);
                    (decoder.i64().map_err(corrupt)?, decoder.i64().map_err(corrupt)?)
                }
                None => (0, 0),
            };
            let stats = Arc::new(Stats {
                item_count: AtomicI64::new(count),
                size_bytes: AtomicI64::new(size),
            });
            catalog.insert(definition.name.clone(), Arc::new(Table::new(definition, stats)));
        }
        Ok(Engine {
            store,
            catalog: RwLock::new(catalog),
            clock,
            region: region.to_string(),
            account: account.to_string(),
        })
    }

    pub fn table_arn(&self, name: &str) -> String {
        format!("arn:aws:dynamodb:{}:{}:table/{name}", self.region, self.account)
    }

    fn catalog(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Arc<Table>>> {
        self.catalog.read().unwrap_or_else(|p| p.into_inner())
    }

    fn catalog_mut(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Arc<Table>>> {
        self.catalog.write().unwrap_or_else(|p| p.into_inner())
    }

    /// The table for an item operation ("Requested resource not found" when missing).
    fn table(&self, name: &str) -> Result<Arc<Table>, Error> {
        self.catalog().get(name).cloned().ok_or_else(Error::table_not_found)
    }

    fn describe(&self, table: &Table, status: TableStatus) -> TableDescription {
        TableDescription {
            definition: table.definition.clone(),
            status,
            arn: self.table_arn(&table.definition.name),
            item_count: table.stats.item_count.load(Ordering::Relaxed).max(0),
            size_bytes: table.stats.size_bytes.load(Ordering::Relaxed).max(0),
        }
    }

    // ----- tables -----

    pub async fn create_table(&self, input: CreateTableInput) -> Result<TableDescription, Error> {
        let (key_schema, billing) = table::validate_create(&input)?;
        let name = input.table_name.clone();
        if self.catalog().contains_key(&name) {
            return Err(Error::ResourceInUse(format!("Table already exists: {name}")));
        }
        let now = self.clock.now_ms();
        let pay_per_request_since_ms = (billing == table::Billing::PayPerRequest).then_some(now);
        let definition = TableDefinition {
            name: name.clone(),
            id: 0,
            key_schema,
            attribute_definitions: input.attribute_definitions,
            billing,
            created_at_ms: now,
            last_increase_ms: None,
            last_decrease_ms: None,
            decreases_today: 0,
            pay_per_request_since_ms,
        };
        let created = write(&self.store, move |txn| {
            if txn.get(META_SPACE, &table_key(&definition.name))?.is_some() {
                return Ok(None);
            }
            let id = match txn.get(META_SPACE, NEXT_ID_KEY)? {
                Some(bytes) => Decoder::new(&bytes).varint().unwrap_or(1),
                None => 1,
            };
            let mut next = Encoder::new();
            next.varint(id + 1);
            txn.put(META_SPACE, NEXT_ID_KEY, &next.bytes)?;
            let definition = TableDefinition { id, ..definition };
            txn.put(META_SPACE, &table_key(&definition.name), &definition.encode())?;
            Ok(Some(definition))
        })
        .await?;
        let Some(definition) = created else {
            return Err(Error::ResourceInUse(format!("Table already exists: {name}")));
        };
        let table = Arc::new(Table::new(definition, Arc::default()));
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
        // Leave the catalog first so no new write job targets the table; jobs already queued
        // check the catalog again on the writer and find it gone.
        self.catalog_mut().remove(name);
        write(&self.store, move |txn| {
            txn.delete(META_SPACE, &table_key(&table_name))?;
            txn.delete(META_SPACE, &stats_key(id))?;
            txn.drop_space(&space)
        })
        .await?;
        Ok(description)
    }

    pub async fn update_table(&self, input: UpdateTableInput) -> Result<TableDescription, Error> {
        let table = self
            .catalog()
            .get(&input.table_name)
            .cloned()
            .ok_or_else(|| Error::named_table_not_found(&input.table_name))?;
        let definition = table::apply_update(&table.definition, &input, self.clock.now_ms())?;
        let stored = definition.clone();
        write(&self.store, move |txn| {
            txn.put(META_SPACE, &table_key(&stored.name), &stored.encode())
        })
        .await?;
        let updated = Arc::new(Table::new(definition, Arc::clone(&table.stats)));
        self.catalog_mut()
            .insert(input.table_name.clone(), Arc::clone(&updated));
        Ok(self.describe(&updated, TableStatus::Active))
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
        let new_size = item_size_bytes(&input.item);
        if new_size > ITEM_BYTES_MAX {
            return Err(Error::validation("Item size has exceeded the maximum allowed size"));
        }
        let encoded = encode_item(&input.item);
        let engine = Arc::clone(self);
        let return_values = input.return_values;
        let return_old = input.return_old_on_condition_failure;
        write(&self.store, move |txn| {
            let old = match engine.read_checked(txn, &table, &key, condition.as_ref(), return_old)? {
                Ok(old) => old,
                Err(error) => return Ok(Err(error)),
            };
            txn.put(&table.space, &key, &encoded)?;
            let old_size = old.as_ref().map(item_size_bytes);
            table.account(txn, old_size, Some(new_size))?;
            let units = write_units(old_size.unwrap_or(0).max(new_size));
            let attributes = if return_values == ReturnValues::AllOld {
                old
            } else {
                None
            };
            Ok(Ok(WriteOutput {
                attributes,
                capacity_units: units,
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
            txn.put(&table.space, &key, &encode_item(&new))?;
            let old_size = old.as_ref().map(item_size_bytes);
            table.account(txn, old_size, Some(new_size))?;
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
        let return_values = input.return_values;
        let return_old = input.return_old_on_condition_failure;
        write(&self.store, move |txn| {
            let old = match engine.read_checked(txn, &table, &key, condition.as_ref(), return_old)? {
                Ok(old) => old,
                Err(error) => return Ok(Err(error)),
            };
            let old_size = old.as_ref().map(item_size_bytes);
            if old.is_some() {
                txn.delete(&table.space, &key)?;
                table.account(txn, old_size, None)?;
            }
            let attributes = if return_values == ReturnValues::AllOld {
                old
            } else {
                None
            };
            Ok(Ok(WriteOutput {
                attributes,
                capacity_units: write_units(old_size.unwrap_or(0)),
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

    pub fn query(&self, input: QueryInput) -> Result<PageOutput, Error> {
        let mut context = ExpressionContext::new(input.expressions.names.as_ref(), input.expressions.values.as_ref());
        let table = self.table(&input.table_name)?;
        if let Some(index) = &input.index_name {
            return Err(Error::validation(format!(
                "The table does not have the specified index: {index}"
            )));
        }
        let schema = &table.definition.key_schema;
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
        let select = check_select(input.select, projection.is_some())?;
        let (mut start, mut end) = query_range(schema, &key_condition)?;
        if let Some(exclusive) = &input.exclusive_start_key {
            let after = schema
                .key_of(exclusive)
                .map_err(|_| Error::validation("The provided starting key is invalid"))?;
            if input.scan_index_forward {
                start = Bound::Excluded(after);
            } else {
                end = Bound::Excluded(after);
            }
        }
        let reverse = !input.scan_index_forward;
        self.page(
            &table,
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
        if let Some(index) = &input.index_name {
            return Err(Error::validation(format!(
                "The table does not have the specified index: {index}"
            )));
        }
        let select = check_select(input.select, projection.is_some())?;
        let (segment_start, segment_end) = match (input.segment, input.total_segments) {
            (Some(segment), Some(total)) => {
                let (start, end) = key::segment_bounds(segment, total);
                (Bound::Included(start), end.map_or(Bound::Unbounded, Bound::Excluded))
            }
            _ => (Bound::Unbounded, Bound::Unbounded),
        };
        let start = match &input.exclusive_start_key {
            Some(exclusive) => Bound::Excluded(
                table
                    .definition
                    .key_schema
                    .key_of(exclusive)
                    .map_err(|_| Error::validation("The provided starting key is invalid"))?,
            ),
            None => segment_start,
        };
        self.page(
            &table,
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

    /// Reads one page of a key range: at most `limit` items evaluated and at most 1 MB.
    #[allow(clippy::too_many_arguments)]
    fn page(
        &self,
        table: &Table,
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
        let mut stopped_early = false;
        let mut failure: Option<Error> = None;
        let range = KeyRange {
            start: as_ref_bound(&start),
            end: as_ref_bound(&end),
        };
        self.store.scan(&table.space, range, reverse, &mut |_, value| {
            if output.scanned_count >= limit || bytes_read >= PAGE_BYTES_MAX {
                stopped_early = true;
                return ControlFlow::Break(());
            }
            let item = match decode_item(value) {
                Ok(item) => item,
                Err(error) => {
                    failure = Some(corrupt(error));
                    return ControlFlow::Break(());
                }
            };
            output.scanned_count += 1;
            bytes_read += item_size_bytes(&item);
            last_key = Some(key_schema.key_item(&item));
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

fn check_select(select: Option<Select>, has_projection: bool) -> Result<Select, Error> {
    match (select, has_projection) {
        (None, true) => Ok(Select::SpecificAttributes),
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
        (Some(Select::AllProjectedAttributes), _) => Err(Error::validation(
            "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName",
        )),
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
