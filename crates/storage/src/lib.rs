//! Ordered key-value spaces behind one small interface, so the DynamoDB engine does not know which
//! embedded engine holds its bytes.
//!
//! A *space* is a named, ordered map of byte keys to byte values (a table's items, the catalog).
//! Reads see the latest committed state. Writes are *jobs*: closures that run on a single writer
//! against a transaction; the store batches the jobs that queue up while a commit is in flight
//! into one transaction and one fsync (group commit), and tells each job's caller only once its
//! writes are durable. Jobs in one batch run one after another, each seeing the writes of the
//! ones before it, so the order of jobs is a serial order of the writes.

mod memory;
mod redb_store;
mod wal;

use std::fmt;
use std::ops::{Bound, ControlFlow};

use std::sync::Arc;

pub use memory::MemoryStore;
pub use redb_store::RedbStore;

/// A failure of the storage engine itself (I/O, corruption), never of the caller's input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreError(pub String);

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "storage error: {}", self.0)
    }
}

impl std::error::Error for StoreError {}

impl StoreError {
    pub(crate) fn from_any(error: impl fmt::Display) -> StoreError {
        StoreError(error.to_string())
    }
}

/// A range of keys within a space.
#[derive(Clone, Debug)]
pub struct KeyRange<'a> {
    pub start: Bound<&'a [u8]>,
    pub end: Bound<&'a [u8]>,
}

impl<'a> KeyRange<'a> {
    pub fn all() -> KeyRange<'static> {
        KeyRange {
            start: Bound::Unbounded,
            end: Bound::Unbounded,
        }
    }

    /// True when no key can lie in the range (start above end, or equal and not both included).
    pub fn is_empty(&self) -> bool {
        use Bound::*;
        match (self.start, self.end) {
            (Included(s), Included(e)) => s > e,
            (Included(s), Excluded(e)) | (Excluded(s), Included(e)) | (Excluded(s), Excluded(e)) => s >= e,
            _ => false,
        }
    }
}

/// Called for each entry of a scan, in order; `Break` stops the scan.
pub type Visitor<'v> = dyn FnMut(&[u8], &[u8]) -> ControlFlow<()> + 'v;

/// Read access, both to the committed state and inside a write transaction.
pub trait Reader {
    fn get(&self, space: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    /// Visits the entries of `range` in key order (or reverse order).
    fn scan(&self, space: &str, range: KeyRange<'_>, reverse: bool, visit: &mut Visitor<'_>) -> Result<(), StoreError>;
}

/// A write transaction, as seen by one job.
pub trait WriteTxn: Reader {
    fn put(&mut self, space: &str, key: &[u8], value: &[u8]) -> Result<(), StoreError>;
    fn delete(&mut self, space: &str, key: &[u8]) -> Result<(), StoreError>;
    /// Removes a whole space and everything in it.
    fn drop_space(&mut self, space: &str) -> Result<(), StoreError>;
}

/// What a job hands back: called with the outcome of the commit its writes were part of.
pub type Completion = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
/// A unit of writing work, run on the store's writer.
pub type WriteJob = Box<dyn FnOnce(&mut dyn WriteTxn) -> Completion + Send>;

/// An ordered, transactional key-value store.
pub trait Store: Reader + Send + Sync + 'static {
    /// Queues a job. It runs on the writer; its completion is called after the commit.
    fn submit(&self, job: WriteJob);
    /// Whether acknowledged writes survive a crash.
    fn is_durable(&self) -> bool;
}

/// Runs `work` in a write transaction and returns its result once the writes are durable.
///
/// `work` returns `Err` only for storage failures; the whole batch is then rolled back and every
/// job in it fails. Logical failures (a condition that did not hold) belong in `R`, and the work
/// must not write before it has decided.
pub async fn write<R, F>(store: &Arc<dyn Store>, work: F) -> Result<R, StoreError>
where
    R: Send + 'static,
    F: FnOnce(&mut dyn WriteTxn) -> Result<R, StoreError> + Send + 'static,
{
    let (sender, receiver) = tokio::sync::oneshot::channel();
    store.submit(Box::new(move |txn| {
        let result = work(txn);
        Box::new(move |commit: Result<(), StoreError>| {
            let _ = sender.send(commit.and(result));
        })
    }));
    receiver
        .await
        .unwrap_or_else(|_| Err(StoreError("the store has shut down".to_string())))
}

/// Lets the runtime run its other tasks, and poll for I/O, before the caller goes on. A long
/// job made of many writes calls it between them: the in-memory store commits inside `submit`,
/// so `write` on it never waits, and such a job would otherwise hold its worker thread to the
/// end.
pub async fn yield_now() {
    tokio::task::yield_now().await;
}

#[cfg(test)]
mod suite;
