//! Item collections: in a table with local secondary indexes, the items of one partition and
//! their entries in those indexes. DynamoDB caps each at 10 GB and reports its size to writes
//! that ask (`ReturnItemCollectionMetrics: SIZE`).
//!
//! Each collection's size is a counter in the table's `collections/{id}` space, keyed by the
//! partition's storage-key prefix, kept by `Table::store_item` in the transaction of the write.
//! A collection without a counter is measured from its partition's items the first time a write
//! reaches it: an empty collection costs one seek, and a table written before Stratus kept
//! counters gets exact figures without a pass over it at open. An emptied collection's counter
//! is removed, so counters never outlive their partitions.
//!
//! Sizes follow the API reference's definition of `SizeEstimateRangeGB`: "the size of all the
//! items in the table, plus the size of all attributes projected into all of the local secondary
//! indexes", each measured as DynamoDB measures items (the figures DescribeTable reports). The
//! Developer Guide's storage estimate for index entries adds 100 bytes of overhead per entry;
//! that is left out here, so the sum of every collection of a table is exactly its
//! `TableSizeBytes` plus its local indexes' `IndexSizeBytes`.

use std::collections::HashMap;
use std::ops::{Bound, ControlFlow};

use stratus_storage::{KeyRange, StoreError, WriteTxn};

use super::{Stored, Table};
use crate::codec::decode_item;
use crate::key;
use crate::value::{Item, item_size_bytes};

/// The largest an item collection may grow: 10 GB.
pub const ITEM_COLLECTION_BYTES_MAX: u64 = 10 * GIB;

/// Overrides [`ITEM_COLLECTION_BYTES_MAX`] when set to a number of bytes, so tests can reach the
/// limit without writing 10 GB. Read by the binary, which sets it with
/// `Engine::set_item_collection_bytes_max`.
pub const ITEM_COLLECTION_LIMIT_ENV: &str = "STRATUS_ITEM_COLLECTION_LIMIT_BYTES";

const GIB: u64 = 1024 * 1024 * 1024;

fn collections_space(table_id: u64) -> String {
    format!("collections/{table_id}")
}

/// An item collection a write reached, for `ReturnItemCollectionMetrics: SIZE`.
#[derive(Clone, Debug, PartialEq)]
pub struct ItemCollectionMetrics {
    /// `ItemCollectionKey`: the partition key attribute and its value.
    pub key: Item,
    /// The collection's size after the write.
    pub size_bytes: u64,
}

impl ItemCollectionMetrics {
    /// `SizeEstimateRangeGB`: the whole gigabytes at or below the size and the next one up
    /// (`[0.0, 1.0]` for any collection under 1 GB, as DynamoDB answers for small collections).
    /// AWS estimates; Stratus knows the size exactly and reports the 1 GB bracket around it.
    pub fn size_estimate_range_gb(&self) -> [f64; 2] {
        let lower = self.size_bytes / GIB;
        [lower as f64, (lower + 1) as f64]
    }
}

/// The item collections one multi-item write reached, per table in the order the tables were
/// first written, each collection once (with its size after the last write to it).
pub type CollectionsPerTable = Vec<(String, Vec<ItemCollectionMetrics>)>;

/// Records that a write left a table's collection at `size_bytes`.
pub(super) fn record_collection(collections: &mut CollectionsPerTable, table: &str, key: Item, size_bytes: u64) {
    let position = match collections.iter().position(|(name, _)| name == table) {
        Some(position) => position,
        None => {
            collections.push((table.to_string(), Vec::new()));
            collections.len() - 1
        }
    };
    let entries = &mut collections[position].1;
    match entries.iter_mut().find(|entry| entry.key == key) {
        Some(entry) => entry.size_bytes = size_bytes,
        None => entries.push(ItemCollectionMetrics { key, size_bytes }),
    }
}

/// Whether a collection going from `before` to `after` bytes breaks the limit `max`.
fn grows_past(before: u64, after: u64, max: u64) -> bool {
    after > before && after > max
}

/// A write's effect on its item collection.
#[derive(Clone, Debug)]
pub(super) struct CollectionChange {
    /// The partition's storage-key prefix: the counter's key.
    partition: Vec<u8>,
    pub before: u64,
    pub after: u64,
    /// Whether a counter is stored (else `before` was measured from the items).
    stored: bool,
}

impl CollectionChange {
    /// Whether the write breaks the limit: it grows the collection past `max`. Writes that keep
    /// or shrink a collection are allowed even above the limit, as DynamoDB allows them.
    pub fn exceeds(&self, max: u64) -> bool {
        grows_past(self.before, self.after, max)
    }
}

impl Table {
    /// Whether the table has item collections: it has a local secondary index.
    pub(super) fn has_collections(&self) -> bool {
        !self.definition.local_indexes.is_empty()
    }

    /// What an item adds to its collection: its size, and the size of its entry in each local
    /// index that holds it (a sparse index holds only items with its sort key).
    fn collection_share(&self, item: &Item) -> u64 {
        let schema = &self.definition.key_schema;
        let entries: usize = self
            .definition
            .local_indexes
            .iter()
            .filter(|index| index.index_prefix(item).is_some())
            .map(|index| index.projected_size_bytes(item, schema))
            .sum();
        (item_size_bytes(item) + entries) as u64
    }

    /// A collection's size once `new` replaces `old` in it.
    fn collection_after(&self, before: u64, old: Option<&Item>, new: Option<&Item>) -> u64 {
        let removed = old.map_or(0, |item| self.collection_share(item));
        let added = new.map_or(0, |item| self.collection_share(item));
        (before + added).saturating_sub(removed)
    }

    /// `ItemCollectionKey` for an item or key of this table: its partition key attribute.
    pub(super) fn collection_key(&self, item: &Item) -> Item {
        let name = &self.definition.key_schema.hash.name;
        item.get(name)
            .map(|value| Item::from([(name.clone(), value.clone())]))
            .unwrap_or_default()
    }

    /// The metrics of a stored write, for the item or key written.
    pub(super) fn collection_metrics(&self, item: &Item, stored: &Stored) -> Option<ItemCollectionMetrics> {
        stored.collection_bytes.map(|size_bytes| ItemCollectionMetrics {
            key: self.collection_key(item),
            size_bytes,
        })
    }

    /// A collection's size inside a write job, and whether it has a counter. Without one it is
    /// measured from the partition's items (nothing to read for a new partition).
    fn collection_size(&self, txn: &mut dyn WriteTxn, partition: &[u8]) -> Result<(u64, bool), StoreError> {
        if let Some(bytes) = txn.get(&collections_space(self.definition.id), partition)? {
            let size = <[u8; 8]>::try_from(bytes.as_slice()).map_or(0, u64::from_be_bytes);
            return Ok((size, true));
        }
        let end = key::prefix_successor(partition);
        let mut size = 0u64;
        txn.scan(
            &self.space,
            KeyRange {
                start: Bound::Included(partition),
                end: end.as_deref().map_or(Bound::Unbounded, Bound::Excluded),
            },
            false,
            &mut |_, value| {
                // An undecodable item counts for nothing, as the index builds skip it too.
                if let Ok(item) = decode_item(value) {
                    size += self.collection_share(&item);
                }
                ControlFlow::Continue(())
            },
        )?;
        Ok((size, false))
    }

    /// The effect on its collection of writing `new` over `old` at `key` (inside a write job,
    /// before anything is written); `None` for a table without local indexes.
    pub(super) fn collection_change(
        &self,
        txn: &mut dyn WriteTxn,
        key: &[u8],
        old: Option<&Item>,
        new: Option<&Item>,
    ) -> Result<Option<CollectionChange>, StoreError> {
        if !self.has_collections() {
            return Ok(None);
        }
        let partition = key::partition_of(key).to_vec();
        let (before, stored) = self.collection_size(txn, &partition)?;
        let after = self.collection_after(before, old, new);
        Ok(Some(CollectionChange {
            partition,
            before,
            after,
            stored,
        }))
    }

    /// Stores a collection's new size (inside the write's job); an emptied collection's counter
    /// goes.
    pub(super) fn store_collection(&self, txn: &mut dyn WriteTxn, change: &CollectionChange) -> Result<(), StoreError> {
        let space = collections_space(self.definition.id);
        if change.after == 0 {
            if change.stored {
                txn.delete(&space, &change.partition)?;
            }
            return Ok(());
        }
        if !change.stored || change.after != change.before {
            txn.put(&space, &change.partition, &change.after.to_be_bytes())?;
        }
        Ok(())
    }

    /// The space of the table's collection counters (dropped with the table).
    pub(super) fn collections_space(&self) -> String {
        collections_space(self.definition.id)
    }
}

/// Checks the writes of one multi-item job against the limit, in order, before any is applied
/// (a job cannot take back what it wrote): each write sees the collection as the earlier ones
/// left it.
#[derive(Default)]
pub(super) struct CollectionCheck {
    /// Sizes so far, by (table id, partition prefix).
    sizes: HashMap<(u64, Vec<u8>), u64>,
}

impl CollectionCheck {
    /// Whether writing `new` over `old` at `key` keeps the collection within `max`; if so the
    /// write counts for the writes checked after it.
    pub fn admit(
        &mut self,
        txn: &mut dyn WriteTxn,
        table: &Table,
        key: &[u8],
        old: Option<&Item>,
        new: Option<&Item>,
        max: u64,
    ) -> Result<bool, StoreError> {
        if !table.has_collections() {
            return Ok(true);
        }
        let partition = key::partition_of(key).to_vec();
        let slot = (table.definition.id, partition);
        let before = match self.sizes.get(&slot) {
            Some(size) => *size,
            None => table.collection_size(txn, &slot.1)?.0,
        };
        let after = table.collection_after(before, old, new);
        if grows_past(before, after, max) {
            return Ok(false);
        }
        self.sizes.insert(slot, after);
        Ok(true)
    }
}
