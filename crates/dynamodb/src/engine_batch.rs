//! The engine's multi-item operations: BatchGetItem, BatchWriteItem, TransactGetItems and
//! TransactWriteItems.
//!
//! Each runs as one job on the store's writer, so a batch is applied at one point of the serial
//! order (nothing is ever left unprocessed) and a transaction is serialisable with respect to
//! every other write: its conditions are checked and its writes applied with nothing in between.
//! The conflicts AWS reports between concurrent transactions (`TransactionConflict`) cannot
//! arise.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use stratus_storage::write;

use super::collections::{CollectionCheck, CollectionsPerTable, record_collection};
use super::{Engine, Expressions, Table, load, parse_condition_opt, parse_projection_opt, read_units, write_units};
use crate::error::{CancellationReason, Error, ITEM_COLLECTION_SIZE_EXCEEDED};
use crate::expr::{self, Condition, ConditionKind, ExpressionContext, Update};
use crate::value::{ITEM_BYTES_MAX, Item, item_size_bytes};

/// Most keys one BatchGetItem may ask for.
pub const BATCH_GET_KEYS_MAX: usize = 100;
/// Most data one BatchGetItem returns before leaving the rest unprocessed: 16 MB.
pub const BATCH_GET_BYTES_MAX: usize = 16 * 1024 * 1024;
/// Most actions in one transaction.
#[allow(dead_code)]
pub const TRANSACTION_ITEMS_MAX: usize = 100;
/// Most data one transaction may write: 4 MB.
pub const TRANSACTION_BYTES_MAX: usize = 4 * 1024 * 1024;
/// How long a ClientRequestToken makes a transaction idempotent: 10 minutes.
pub const IDEMPOTENCY_WINDOW_MS: i64 = 10 * 60 * 1000;

/// One request of BatchWriteItem.
#[derive(Clone, Debug)]
pub enum WriteRequest {
    Put(Item),
    /// The key of the item to delete.
    Delete(Item),
}

/// One table's part of BatchGetItem.
#[derive(Clone, Debug, Default)]
pub struct BatchGetRequest {
    pub table_name: String,
    pub keys: Vec<Item>,
    pub projection_expression: Option<String>,
    pub expressions: Expressions,
    pub consistent_read: bool,
}

#[derive(Clone, Debug, Default)]
pub struct BatchGetOutput {
    /// Items found, per table, in request order of the tables.
    pub responses: Vec<(String, Vec<Item>)>,
    /// Keys not read because the response reached 16 MB, per table.
    pub unprocessed: Vec<(String, Vec<Item>)>,
    /// Read capacity per table.
    pub capacity: Vec<(String, f64)>,
}

/// One action of TransactWriteItems.
#[derive(Clone, Debug)]
pub enum TransactAction {
    Put { item: Item },
    Update { key: Item, update_expression: String },
    Delete { key: Item },
    ConditionCheck { key: Item },
}

#[derive(Clone, Debug)]
pub struct TransactWriteItem {
    pub table_name: String,
    pub action: TransactAction,
    pub condition_expression: Option<String>,
    pub expressions: Expressions,
    pub return_old_on_condition_failure: bool,
}

/// One Get of TransactGetItems.
#[derive(Clone, Debug, Default)]
pub struct TransactGetItem {
    pub table_name: String,
    pub key: Item,
    pub projection_expression: Option<String>,
    pub expressions: Expressions,
}

/// Capacity consumed per table.
pub type Capacity = Vec<(String, f64)>;

/// What BatchWriteItem and TransactWriteItems report: capacity per table and the item
/// collections they reached (tables with local secondary indexes only).
#[derive(Clone, Debug, Default)]
pub struct MultiWriteOutput {
    pub capacity: Capacity,
    pub item_collections: CollectionsPerTable,
}

/// A remembered transaction: its request digest, when it ran, what it reported.
type Remembered = (u64, i64, MultiWriteOutput);

/// Remembers recent transactions by ClientRequestToken.
#[derive(Default)]
pub struct Idempotency {
    tokens: Mutex<HashMap<String, Remembered>>,
}

impl Idempotency {
    fn check(&self, token: &str, fingerprint: u64, now_ms: i64) -> Result<Option<MultiWriteOutput>, Error> {
        let Ok(mut tokens) = self.tokens.lock() else {
            return Ok(None);
        };
        tokens.retain(|_, (_, at, _)| now_ms - *at < IDEMPOTENCY_WINDOW_MS);
        match tokens.get(token) {
            Some((seen, _, output)) if *seen == fingerprint => Ok(Some(output.clone())),
            Some(_) => Err(Error::IdempotentParameterMismatch(
                "The request uses the same client token as a previous, but non-identical request.".to_string(),
            )),
            None => Ok(None),
        }
    }

    fn remember(&self, token: &str, fingerprint: u64, now_ms: i64, output: &MultiWriteOutput) {
        if let Ok(mut tokens) = self.tokens.lock() {
            tokens.insert(token.to_string(), (fingerprint, now_ms, output.clone()));
        }
    }
}

/// A parsed, validated transaction action, ready for the writer.
struct Prepared {
    table: Arc<Table>,
    key: Vec<u8>,
    /// `ItemCollectionKey` of the item written.
    collection_key: Item,
    action: PreparedAction,
    condition: Option<Condition>,
    return_old: bool,
}

enum PreparedAction {
    Put(Item),
    Update { update: Update, key_item: Item },
    Delete,
    Check,
}

fn add_units(capacity: &mut Vec<(String, f64)>, table: &str, units: f64) {
    match capacity.iter_mut().find(|(name, _)| name == table) {
        Some((_, total)) => *total += units,
        None => capacity.push((table.to_string(), units)),
    }
}

/// A key that failed a schema check, in BatchWriteItem's wording.
fn batch_key_error(error: Error) -> Error {
    match &error {
        Error::Validation(message)
            if message.contains("Missing the key") || message.contains("Type mismatch for key") =>
        {
            Error::validation("The provided key element does not match the schema")
        }
        _ => error,
    }
}

impl Engine {
    pub async fn batch_write_item(
        self: &Arc<Self>,
        requests: Vec<(String, Vec<WriteRequest>)>,
    ) -> Result<MultiWriteOutput, Error> {
        // Per table: (storage key, the item to put or None to delete, the item or key written).
        type Writes = Vec<(Vec<u8>, Option<Item>, Item)>;
        let mut work: Vec<(Arc<Table>, Writes)> = Vec::new();
        for (table_name, table_requests) in requests {
            let table = self.table(&table_name)?;
            let mut seen = HashSet::new();
            let mut writes = Vec::with_capacity(table_requests.len());
            for request in table_requests {
                let (key, item, written) = match request {
                    WriteRequest::Put(item) => {
                        let key = table.definition.key_schema.item_key(&item).map_err(batch_key_error)?;
                        if item_size_bytes(&item) > ITEM_BYTES_MAX {
                            return Err(Error::validation("Item size has exceeded the maximum allowed size"));
                        }
                        table.check_indexes(&item)?;
                        let written = table.collection_key(&item);
                        (key, Some(item), written)
                    }
                    WriteRequest::Delete(key) => {
                        let storage = table.definition.key_schema.key_of(&key)?;
                        (storage, None, table.collection_key(&key))
                    }
                };
                if !seen.insert(key.clone()) {
                    return Err(Error::validation("Provided list of item keys contains duplicates"));
                }
                writes.push((key, item, written));
            }
            work.push((table, writes));
        }
        let engine = Arc::clone(self);
        let meta = self.meta();
        write(&self.store, move |txn| {
            // Every table checked, every old item read and every item collection checked
            // before anything is written: the batch fails whole (a job cannot take back its
            // writes).
            let mut olds = Vec::new();
            let mut collections = CollectionCheck::default();
            for (table, writes) in &work {
                if !engine.still_current(table) {
                    return Ok(Err(Error::table_not_found()));
                }
                for (key, item, _) in writes {
                    let old = match load(txn, &table.space, key)? {
                        Ok(old) => old,
                        Err(error) => return Ok(Err(error)),
                    };
                    if !collections.admit(txn, table, key, old.as_ref(), item.as_ref(), meta.collection_bytes_max)? {
                        return Ok(Err(Error::ItemCollectionSizeLimitExceeded));
                    }
                    olds.push(old);
                }
            }
            let mut olds = olds.into_iter();
            let mut output = MultiWriteOutput::default();
            for (table, writes) in &work {
                for (key, item, written) in writes {
                    let old = olds.next().flatten();
                    let stored = match table.store_item(txn, key, old.as_ref(), item.as_ref(), None, meta)? {
                        Ok(stored) => stored,
                        Err(error) => return Ok(Err(error)),
                    };
                    let size = old
                        .as_ref()
                        .map_or(0, item_size_bytes)
                        .max(item.as_ref().map_or(0, item_size_bytes));
                    add_units(&mut output.capacity, &table.definition.name, write_units(size));
                    if let Some(bytes) = stored.collection_bytes {
                        record_collection(
                            &mut output.item_collections,
                            &table.definition.name,
                            written.clone(),
                            bytes,
                        );
                    }
                }
            }
            Ok(Ok(output))
        })
        .await?
    }

    pub fn batch_get_item(&self, requests: Vec<BatchGetRequest>) -> Result<BatchGetOutput, Error> {
        let total: usize = requests.iter().map(|r| r.keys.len()).sum();
        if total > BATCH_GET_KEYS_MAX {
            return Err(Error::validation("Too many items requested for the BatchGetItem call"));
        }
        struct Parsed {
            table: Arc<Table>,
            keys: Vec<(Vec<u8>, Item)>,
            projection: Option<Vec<expr::Path>>,
            consistent: bool,
        }
        let mut parsed = Vec::with_capacity(requests.len());
        for request in requests {
            let mut context =
                ExpressionContext::new(request.expressions.names.as_ref(), request.expressions.values.as_ref());
            let projection = parse_projection_opt(request.projection_expression.as_deref(), &mut context)?;
            context.check_unused()?;
            let table = self.table(&request.table_name)?;
            let mut seen = HashSet::new();
            let mut keys = Vec::with_capacity(request.keys.len());
            for key in request.keys {
                let storage = table.definition.key_schema.key_of(&key)?;
                if !seen.insert(storage.clone()) {
                    return Err(Error::validation("Provided list of item keys contains duplicates"));
                }
                keys.push((storage, key));
            }
            parsed.push(Parsed {
                table,
                keys,
                projection,
                consistent: request.consistent_read,
            });
        }
        let mut output = BatchGetOutput::default();
        let mut bytes = 0usize;
        for request in parsed {
            let name = request.table.definition.name.clone();
            let mut found = Vec::new();
            let mut left = Vec::new();
            let mut read = 0usize;
            for (storage, key) in request.keys {
                if bytes >= BATCH_GET_BYTES_MAX {
                    left.push(key);
                    continue;
                }
                if let Some(raw) = self.store.get(&request.table.space, &storage)? {
                    let item = crate::codec::decode_item(&raw).map_err(super::corrupt)?;
                    let size = item_size_bytes(&item);
                    bytes += size;
                    read += size;
                    found.push(match &request.projection {
                        Some(paths) => expr::project(&item, paths),
                        None => item,
                    });
                }
            }
            add_units(&mut output.capacity, &name, read_units(read, request.consistent));
            output.responses.push((name.clone(), found));
            if !left.is_empty() {
                output.unprocessed.push((name, left));
            }
        }
        Ok(output)
    }

    /// TransactWriteItems. `token` and `fingerprint` (a digest of the request without its
    /// token) make a retried transaction a no-op for 10 minutes.
    pub async fn transact_write_items(
        self: &Arc<Self>,
        items: Vec<TransactWriteItem>,
        token: Option<String>,
        fingerprint: u64,
    ) -> Result<MultiWriteOutput, Error> {
        let now = self.clock.now_ms();
        if let Some(token) = &token
            && let Some(output) = self.idempotency.check(token, fingerprint, now)?
        {
            return Ok(output);
        }
        let mut prepared = Vec::with_capacity(items.len());
        let mut seen: HashSet<(String, Vec<u8>)> = HashSet::new();
        let mut written_bytes = 0usize;
        for item in items {
            let mut context = ExpressionContext::new(item.expressions.names.as_ref(), item.expressions.values.as_ref());
            let update = match &item.action {
                TransactAction::Update { update_expression, .. } => {
                    Some(expr::parse_update(update_expression, &mut context)?)
                }
                _ => None,
            };
            let condition = parse_condition_opt(
                ConditionKind::Condition,
                item.condition_expression.as_deref(),
                &mut context,
            )?;
            context.check_unused()?;
            let table = self.table(&item.table_name)?;
            let schema = &table.definition.key_schema;
            let (key, collection_key, action) = match item.action {
                TransactAction::Put { item: new } => {
                    let key = schema.item_key(&new)?;
                    let size = item_size_bytes(&new);
                    if size > ITEM_BYTES_MAX {
                        return Err(Error::validation("Item size has exceeded the maximum allowed size"));
                    }
                    table.check_indexes(&new)?;
                    written_bytes += size;
                    (key, table.collection_key(&new), PreparedAction::Put(new))
                }
                TransactAction::Update { key, .. } => {
                    let storage = schema.key_of(&key)?;
                    let Some(update) = update else {
                        return Err(Error::validation("Update expression is missing"));
                    };
                    let names: Vec<&str> = schema.attributes().map(|a| a.name.as_str()).collect();
                    update.check_key_attributes(&names)?;
                    let collection_key = table.collection_key(&key);
                    (
                        storage,
                        collection_key,
                        PreparedAction::Update { update, key_item: key },
                    )
                }
                TransactAction::Delete { key } => {
                    (schema.key_of(&key)?, table.collection_key(&key), PreparedAction::Delete)
                }
                TransactAction::ConditionCheck { key } => {
                    (schema.key_of(&key)?, table.collection_key(&key), PreparedAction::Check)
                }
            };
            if !seen.insert((table.definition.name.clone(), key.clone())) {
                return Err(Error::validation(
                    "Transaction request cannot include multiple operations on one item",
                ));
            }
            prepared.push(Prepared {
                table,
                key,
                collection_key,
                action,
                condition,
                return_old: item.return_old_on_condition_failure,
            });
        }
        if written_bytes > TRANSACTION_BYTES_MAX {
            return Err(Error::validation(
                "Transaction request size has exceeded the maximum allowed size of 4MB",
            ));
        }
        let engine = Arc::clone(self);
        let meta = self.meta();
        let result = write(&self.store, move |txn| {
            // First every check, with nothing written; then every write.
            let mut reasons = Vec::with_capacity(prepared.len());
            let mut plans: Vec<(Option<Item>, Option<Item>)> = Vec::with_capacity(prepared.len());
            let mut failed = false;
            let mut collections = CollectionCheck::default();
            for step in &prepared {
                if !engine.still_current(&step.table) {
                    return Ok(Err(Error::table_not_found()));
                }
                let old = match load(txn, &step.table.space, &step.key)? {
                    Ok(old) => old,
                    Err(error) => return Ok(Err(error)),
                };
                if let Some(condition) = &step.condition
                    && !condition.evaluate(old.as_ref().unwrap_or(&Item::new()))
                {
                    failed = true;
                    reasons.push(CancellationReason {
                        code: "ConditionalCheckFailed".to_string(),
                        message: Some("The conditional request failed".to_string()),
                        item: if step.return_old { old.clone() } else { None },
                    });
                    plans.push((old, None));
                    continue;
                }
                let new = match &step.action {
                    PreparedAction::Put(item) => Some(item.clone()),
                    PreparedAction::Delete => None,
                    PreparedAction::Check => old.clone(),
                    PreparedAction::Update { update, key_item } => {
                        let mut new = old.clone().unwrap_or_else(|| key_item.clone());
                        let outcome = update.apply(&mut new).map_err(Error::from).and_then(|()| {
                            if item_size_bytes(&new) > ITEM_BYTES_MAX {
                                Err(Error::validation(
                                    "Item size to update has exceeded the maximum allowed size",
                                ))
                            } else {
                                step.table.check_indexes(&new)
                            }
                        });
                        if let Err(error) = outcome {
                            failed = true;
                            reasons.push(CancellationReason {
                                code: "ValidationError".to_string(),
                                message: Some(error.message().to_string()),
                                item: None,
                            });
                            plans.push((old, None));
                            continue;
                        }
                        Some(new)
                    }
                };
                let writes = !matches!(step.action, PreparedAction::Check);
                if writes
                    && !collections.admit(
                        txn,
                        &step.table,
                        &step.key,
                        old.as_ref(),
                        new.as_ref(),
                        meta.collection_bytes_max,
                    )?
                {
                    failed = true;
                    reasons.push(CancellationReason {
                        code: "ItemCollectionSizeLimitExceeded".to_string(),
                        message: Some(ITEM_COLLECTION_SIZE_EXCEEDED.to_string()),
                        item: None,
                    });
                    plans.push((old, None));
                    continue;
                }
                reasons.push(CancellationReason {
                    code: "None".to_string(),
                    message: None,
                    item: None,
                });
                plans.push((old, new));
            }
            if failed {
                return Ok(Err(Error::TransactionCanceled { reasons }));
            }
            let mut output = MultiWriteOutput::default();
            for (step, (old, new)) in prepared.iter().zip(plans.iter()) {
                let size = old
                    .as_ref()
                    .map_or(0, item_size_bytes)
                    .max(new.as_ref().map_or(0, item_size_bytes));
                // Transactional writes cost twice their units.
                add_units(
                    &mut output.capacity,
                    &step.table.definition.name,
                    2.0 * write_units(size),
                );
                if matches!(step.action, PreparedAction::Check) {
                    continue;
                }
                let stored = match step
                    .table
                    .store_item(txn, &step.key, old.as_ref(), new.as_ref(), None, meta)?
                {
                    Ok(stored) => stored,
                    Err(error) => return Ok(Err(error)),
                };
                if let Some(bytes) = stored.collection_bytes {
                    record_collection(
                        &mut output.item_collections,
                        &step.table.definition.name,
                        step.collection_key.clone(),
                        bytes,
                    );
                }
            }
            Ok(Ok(output))
        })
        .await??;
        if let Some(token) = &token {
            self.idempotency.remember(token, fingerprint, now, &result);
        }
        Ok(result)
    }

    /// TransactGetItems: every item read at one point of the serial order.
    pub async fn transact_get_items(
        self: &Arc<Self>,
        items: Vec<TransactGetItem>,
    ) -> Result<(Vec<Option<Item>>, Vec<(String, f64)>), Error> {
        let mut prepared = Vec::with_capacity(items.len());
        for item in items {
            let mut context = ExpressionContext::new(item.expressions.names.as_ref(), item.expressions.values.as_ref());
            let projection = parse_projection_opt(item.projection_expression.as_deref(), &mut context)?;
            context.check_unused()?;
            let table = self.table(&item.table_name)?;
            let key = table.definition.key_schema.key_of(&item.key)?;
            prepared.push((table, key, projection));
        }
        let result = write(&self.store, move |txn| {
            let mut items = Vec::with_capacity(prepared.len());
            let mut capacity = Vec::new();
            for (table, key, projection) in &prepared {
                let item = match load(txn, &table.space, key)? {
                    Ok(item) => item,
                    Err(error) => return Ok(Err(error)),
                };
                let size = item.as_ref().map_or(0, item_size_bytes);
                add_units(&mut capacity, &table.definition.name, 2.0 * read_units(size, true));
                items.push(match (item, projection) {
                    (Some(item), Some(paths)) => Some(expr::project(&item, paths)),
                    (item, _) => item,
                });
            }
            Ok(Ok((items, capacity)))
        })
        .await??;
        Ok(result)
    }
}
