//! The in-memory store, for `--in-memory` runs and tests: the same semantics, no durability.
//!
//! A job runs holding the write lock, so readers never see half of a job's writes.

use std::collections::BTreeMap;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::{KeyRange, Reader, Store, StoreError, Visitor, WriteJob, WriteTxn};

type Spaces = BTreeMap<String, BTreeMap<Vec<u8>, Vec<u8>>>;

#[derive(Default)]
pub struct MemoryStore {
    spaces: RwLock<Spaces>,
}

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    fn read(&self) -> RwLockReadGuard<'_, Spaces> {
        self.spaces.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write_lock(&self) -> RwLockWriteGuard<'_, Spaces> {
        self.spaces.write().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn scan_in(spaces: &Spaces, space: &str, range: KeyRange<'_>, reverse: bool, visit: &mut Visitor<'_>) {
    let Some(entries) = spaces.get(space) else { return };
    // BTreeMap::range panics on inverted ranges; such ranges hold nothing.
    if range.is_empty() {
        return;
    }
    let bounds = (range.start, range.end);
    if reverse {
        for (key, value) in entries.range::<[u8], _>(bounds).rev() {
            if visit(key, value).is_break() {
                return;
            }
        }
    } else {
        for (key, value) in entries.range::<[u8], _>(bounds) {
            if visit(key, value).is_break() {
                return;
            }
        }
    }
}

impl Reader for MemoryStore {
    fn get(&self, space: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.read().get(space).and_then(|entries| entries.get(key)).cloned())
    }

    fn scan(&self, space: &str, range: KeyRange<'_>, reverse: bool, visit: &mut Visitor<'_>) -> Result<(), StoreError> {
        scan_in(&self.read(), space, range, reverse, visit);
        Ok(())
    }
}

struct MemoryTxn<'a>(&'a mut Spaces);

impl Reader for MemoryTxn<'_> {
    fn get(&self, space: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.0.get(space).and_then(|entries| entries.get(key)).cloned())
    }

    fn scan(&self, space: &str, range: KeyRange<'_>, reverse: bool, visit: &mut Visitor<'_>) -> Result<(), StoreError> {
        scan_in(self.0, space, range, reverse, visit);
        Ok(())
    }
}

impl WriteTxn for MemoryTxn<'_> {
    fn put(&mut self, space: &str, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        self.0
            .entry(space.to_string())
            .or_default()
            .insert(key.to_vec(), value.to_vec());
        Ok(())
    }

    fn delete(&mut self, space: &str, key: &[u8]) -> Result<(), StoreError> {
        if let Some(entries) = self.0.get_mut(space) {
            entries.remove(key);
        }
        Ok(())
    }

    fn drop_space(&mut self, space: &str) -> Result<(), StoreError> {
        self.0.remove(space);
        Ok(())
    }
}

impl Store for MemoryStore {
    fn submit(&self, job: WriteJob) {
        let completion = {
            let mut spaces = self.write_lock();
            job(&mut MemoryTxn(&mut spaces))
        };
        completion(Ok(()));
    }

    fn is_durable(&self) -> bool {
        false
    }
}
