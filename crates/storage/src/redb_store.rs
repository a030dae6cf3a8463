//! The durable store on redb: one redb table per space, one writer thread doing group commit.
//!
//! Why a writer thread: redb allows one write transaction at a time and each durable commit costs
//! an fsync. The thread takes every job that queued up while the previous commit was in flight,
//! runs them in one transaction and commits once, so N concurrent writers pay one fsync, not N.

use std::collections::HashMap;
use std::ops::Bound;
use std::path::Path;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;

use redb::{Database, Durability, ReadableDatabase, ReadableTable, TableDefinition, TableError};

use crate::{Completion, KeyRange, Reader, Store, StoreError, Visitor, WriteJob, WriteTxn};

/// Jobs taken into one transaction at most, so one commit's latency stays bounded.
const BATCH_JOBS_MAX: usize = 512;

fn definition(space: &str) -> TableDefinition<'_, &'static [u8], &'static [u8]> {
    TableDefinition::new(space)
}

pub struct RedbStore {
    database: Arc<Database>,
    jobs: Mutex<Option<mpsc::Sender<WriteJob>>>,
    writer: Mutex<Option<thread::JoinHandle<()>>>,
}

impl RedbStore {
    /// Opens (or creates) the database file; a database left by a crash is recovered by redb.
    pub fn open(path: &Path) -> Result<RedbStore, StoreError> {
        let mut builder = Database::builder();
        // Keep idle memory small; the OS page cache still serves hot pages.
        builder.set_cache_size(64 * 1024 * 1024);
        let database = Arc::new(builder.create(path).map_err(StoreError::from_any)?);
        let (sender, receiver) = mpsc::channel::<WriteJob>();
        let writer_database = Arc::clone(&database);
        let writer = thread::Builder::new()
            .name("stratus-store-writer".to_string())
            .spawn(move || run_writer(&writer_database, &receiver))
            .map_err(StoreError::from_any)?;
        Ok(RedbStore {
            database,
            jobs: Mutex::new(Some(sender)),
            writer: Mutex::new(Some(writer)),
        })
    }

    /// Stops taking jobs, lets the writer finish the queued ones, and waits for it.
    pub fn close(&self) {
        let sender = self.jobs.lock().unwrap_or_else(|p| p.into_inner()).take();
        drop(sender);
        let writer = self.writer.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(writer) = writer {
            let _ = writer.join();
        }
    }
}

impl Drop for RedbStore {
    fn drop(&mut self) {
        self.close();
    }
}

fn run_writer(database: &Database, jobs: &mpsc::Receiver<WriteJob>) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < BATCH_JOBS_MAX {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let (completions, outcome) = run_batch(database, batch);
        for completion in completions {
            completion(outcome.clone());
        }
    }
}

fn run_batch(database: &Database, batch: Vec<WriteJob>) -> (Vec<Completion>, Result<(), StoreError>) {
    let mut transaction = match database.begin_write() {
        Ok(transaction) => transaction,
        Err(error) => return (fail_all(batch), Err(StoreError::from_any(error))),
    };
    if let Err(error) = transaction.set_durability(Durability::Immediate) {
        return (fail_all(batch), Err(StoreError::from_any(error)));
    }
    let mut completions = Vec::with_capacity(batch.len());
    let failure = {
        let mut txn = RedbTxn {
            transaction: &transaction,
            tables: HashMap::new(),
            failure: None,
        };
        for job in batch {
            completions.push(job(&mut txn));
        }
        txn.failure.take()
    };
    let outcome = match failure {
        Some(error) => {
            let _ = transaction.abort();
            Err(error)
        }
        None => transaction.commit().map_err(StoreError::from_any),
    };
    (completions, outcome)
}

/// Jobs that never ran still get told, through a no-op transaction, that nothing was written.
fn fail_all(batch: Vec<WriteJob>) -> Vec<Completion> {
    let mut failed = FailedTxn;
    batch.into_iter().map(|job| job(&mut failed)).collect()
}

struct FailedTxn;

fn unavailable<T>() -> Result<T, StoreError> {
    Err(StoreError("the write transaction could not start".to_string()))
}

impl Reader for FailedTxn {
    fn get(&self, _: &str, _: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        unavailable()
    }
    fn scan(&self, _: &str, _: KeyRange<'_>, _: bool, _: &mut Visitor<'_>) -> Result<(), StoreError> {
        unavailable()
    }
}

impl WriteTxn for FailedTxn {
    fn put(&mut self, _: &str, _: &[u8], _: &[u8]) -> Result<(), StoreError> {
        unavailable()
    }
    fn delete(&mut self, _: &str, _: &[u8]) -> Result<(), StoreError> {
        unavailable()
    }
    fn drop_space(&mut self, _: &str) -> Result<(), StoreError> {
        unavailable()
    }
}

/// One batch's transaction, with the tables it opened kept open until the commit.
struct RedbTxn<'t> {
    transaction: &'t redb::WriteTransaction,
    tables: HashMap<String, redb::Table<'t, &'static [u8], &'static [u8]>>,
    /// The first storage failure; the batch is rolled back if set.
    failure: Option<StoreError>,
}

impl<'t> RedbTxn<'t> {
    fn note<T>(&mut self, result: Result<T, StoreError>) -> Result<T, StoreError> {
        if let Err(error) = &result
            && self.failure.is_none()
        {
            self.failure = Some(error.clone());
        }
        result
    }

    fn table(&mut self, space: &str) -> Result<&mut redb::Table<'t, &'static [u8], &'static [u8]>, StoreError> {
        if !self.tables.contains_key(space) {
            let table = self
                .transaction
                .open_table(definition(space))
                .map_err(StoreError::from_any);
            let table = self.note(table)?;
            self.tables.insert(space.to_string(), table);
        }
        self.tables
            .get_mut(space)
            .ok_or_else(|| StoreError("table vanished".to_string()))
    }
}

/// One entry of a redb range iterator.
type RangeEntry<'a> = Result<
    (
        redb::AccessGuard<'a, &'static [u8]>,
        redb::AccessGuard<'a, &'static [u8]>,
    ),
    redb::StorageError,
>;

fn scan_table<T: ReadableTable<&'static [u8], &'static [u8]>>(
    table: &T,
    range: KeyRange<'_>,
    reverse: bool,
    visit: &mut Visitor<'_>,
) -> Result<(), StoreError> {
    if range.is_empty() {
        return Ok(());
    }
    let bounds: (Bound<&[u8]>, Bound<&[u8]>) = (range.start, range.end);
    let entries = table.range::<&[u8]>(bounds).map_err(StoreError::from_any)?;
    let mut step = |entry: RangeEntry<'_>| match entry {
        Ok((key, value)) => Ok(visit(key.value(), value.value()).is_break()),
        Err(error) => Err(StoreError::from_any(error)),
    };
    if reverse {
        for entry in entries.rev() {
            if step(entry)? {
                break;
            }
        }
    } else {
        for entry in entries {
            if step(entry)? {
                break;
            }
        }
    }
    Ok(())
}

impl Reader for RedbTxn<'_> {
    fn get(&self, space: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        if let Some(table) = self.tables.get(space) {
            let value = table.get(key).map_err(StoreError::from_any)?;
            return Ok(value.map(|v| v.value().to_vec()));
        }
        match self.transaction.open_table(definition(space)) {
            Ok(table) => Ok(table
                .get(key)
                .map_err(StoreError::from_any)?
                .map(|v| v.value().to_vec())),
            Err(error) => Err(StoreError::from_any(error)),
        }
    }

    fn scan(&self, space: &str, range: KeyRange<'_>, reverse: bool, visit: &mut Visitor<'_>) -> Result<(), StoreError> {
        if let Some(table) = self.tables.get(space) {
            return scan_table(table, range, reverse, visit);
        }
        let table = self
            .transaction
            .open_table(definition(space))
            .map_err(StoreError::from_any)?;
        scan_table(&table, range, reverse, visit)
    }
}

impl WriteTxn for RedbTxn<'_> {
    fn put(&mut self, space: &str, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        let result = self
            .table(space)?
            .insert(key, value)
            .map(|_| ())
            .map_err(StoreError::from_any);
        self.note(result)
    }

    fn delete(&mut self, space: &str, key: &[u8]) -> Result<(), StoreError> {
        let result = self.table(space)?.remove(key).map(|_| ()).map_err(StoreError::from_any);
        self.note(result)
    }

    fn drop_space(&mut self, space: &str) -> Result<(), StoreError> {
        self.tables.remove(space);
        let result = self
            .transaction
            .delete_table(definition(space))
            .map(|_| ())
            .map_err(StoreError::from_any);
        self.note(result)
    }
}

impl Reader for RedbStore {
    fn get(&self, space: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let transaction = self.database.begin_read().map_err(StoreError::from_any)?;
        let table = match transaction.open_table(definition(space)) {
            Ok(table) => table,
            Err(TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(error) => return Err(StoreError::from_any(error)),
        };
        let value = table.get(key).map_err(StoreError::from_any)?;
        Ok(value.map(|v| v.value().to_vec()))
    }

    fn scan(&self, space: &str, range: KeyRange<'_>, reverse: bool, visit: &mut Visitor<'_>) -> Result<(), StoreError> {
        let transaction = self.database.begin_read().map_err(StoreError::from_any)?;
        let table = match transaction.open_table(definition(space)) {
            Ok(table) => table,
            Err(TableError::TableDoesNotExist(_)) => return Ok(()),
            Err(error) => return Err(StoreError::from_any(error)),
        };
        scan_table(&table, range, reverse, visit)
    }
}

impl Store for RedbStore {
    fn submit(&self, job: WriteJob) {
        let sender = self.jobs.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let rejected = match sender {
            Some(sender) => sender.send(job).err().map(|e| e.0),
            None => Some(job),
        };
        if let Some(job) = rejected {
            let completion = job(&mut FailedTxn);
            completion(Err(StoreError("the store is closed".to_string())));
        }
    }

    fn is_durable(&self) -> bool {
        true
    }
}
