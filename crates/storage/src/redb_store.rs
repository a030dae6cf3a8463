//! The durable store on redb: one redb table per space, one writer thread doing group commit,
//! and a write-ahead log for durability.
//!
//! Why a writer thread: redb allows one write transaction at a time. The thread takes every job
//! that queued up while the previous batch was in flight and runs them in one transaction, so N
//! concurrent writers share one sync.
//!
//! Why a log: a durable redb commit costs several syncs (about 0.5 ms here). Instead each batch's
//! logical writes are appended to the log and `fdatasync`ed (one sync of an append), and only then
//! is the redb transaction committed without durability, so readers never see a write that is not
//! yet on disk. Every few seconds, or when the log grows, a checkpoint commits redb durably,
//! records the log generation it covers, and starts a new log file. Opening replays what the last
//! checkpoint does not cover. See `wal.rs`.

use std::collections::HashMap;
use std::ops::Bound;
use std::path::Path;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use redb::{Database, Durability, ReadableDatabase, ReadableTable, TableDefinition, TableError};

use crate::wal::{self, LogEntry, Wal};
use crate::{Completion, KeyRange, Reader, Store, StoreError, Visitor, WriteJob, WriteTxn};

/// Jobs taken into one transaction at most, so one commit's latency stays bounded.
const BATCH_JOBS_MAX: usize = 512;
/// Checkpoint when the log holds this much.
const CHECKPOINT_LOG_BYTES: u64 = 64 * 1024 * 1024;
/// Checkpoint a non-empty log at least this often.
const CHECKPOINT_INTERVAL: Duration = Duration::from_secs(5);
/// Where redb records the highest log generation its durable state covers.
const CHECKPOINT_TABLE: TableDefinition<'static, &'static str, u64> = TableDefinition::new("stratus-wal");
const CHECKPOINT_KEY: &str = "checkpointed-generation";

fn definition(space: &str) -> TableDefinition<'_, &'static [u8], &'static [u8]> {
    TableDefinition::new(space)
}

pub struct RedbStore {
    database: Arc<Database>,
    jobs: Mutex<Option<mpsc::Sender<WriteJob>>>,
    writer: Mutex<Option<thread::JoinHandle<()>>>,
}

impl RedbStore {
    /// Opens (or creates) the database file, replays the write-ahead log past the last
    /// checkpoint, and starts the writer. A database left by a crash opens cleanly: redb's
    /// durable state is the last checkpoint, and the log holds every acknowledged write since.
    pub fn open(path: &Path) -> Result<RedbStore, StoreError> {
        let mut builder = Database::builder();
        // Keep idle memory small; the OS page cache still serves hot pages.
        builder.set_cache_size(64 * 1024 * 1024);
        let database = Arc::new(builder.create(path).map_err(StoreError::from_any)?);
        let log = recover(&database, path)?;
        let (sender, receiver) = mpsc::channel::<WriteJob>();
        let writer_database = Arc::clone(&database);
        let writer = thread::Builder::new()
            .name("stratus-store-writer".to_string())
            .spawn(move || Writer::new(writer_database, log).run(&receiver))
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

/// Replays the log generations the last checkpoint does not cover, checkpoints, and returns a
/// fresh log.
fn recover(database: &Database, path: &Path) -> Result<Wal, StoreError> {
    let checkpointed = {
        let transaction = database.begin_read().map_err(StoreError::from_any)?;
        match transaction.open_table(CHECKPOINT_TABLE) {
            Ok(table) => table
                .get(CHECKPOINT_KEY)
                .map_err(StoreError::from_any)?
                .map_or(0, |v| v.value()),
            Err(TableError::TableDoesNotExist(_)) => 0,
            Err(error) => return Err(StoreError::from_any(error)),
        }
    };
    let generations = wal::generations(path).map_err(StoreError::from_any)?;
    let newest = generations.last().copied().unwrap_or(0).max(checkpointed);
    if generations.iter().all(|&g| g <= checkpointed) && newest == checkpointed {
        // Nothing to replay (a clean stop or a new database): no sync needed to open.
        for generation in generations {
            let _ = std::fs::remove_file(wal::file_path(path, generation));
        }
        return Ok(Wal::new(path, newest + 1));
    }
    let mut transaction = database.begin_write().map_err(StoreError::from_any)?;
    transaction
        .set_durability(Durability::Immediate)
        .map_err(StoreError::from_any)?;
    {
        let mut txn = RedbTxn::new(&transaction, false);
        for &generation in generations.iter().filter(|&&g| g > checkpointed) {
            let records = wal::read_records(&wal::file_path(path, generation)).map_err(StoreError::from_any)?;
            for entries in records {
                for entry in entries {
                    match entry {
                        LogEntry::Put { space, key, value } => txn.put(&space, &key, &value)?,
                        LogEntry::Delete { space, key } => txn.delete(&space, &key)?,
                        LogEntry::DropSpace { space } => txn.drop_space(&space)?,
                    }
                }
            }
        }
        if let Some(error) = txn.failure.take() {
            return Err(error);
        }
    }
    {
        let mut table = transaction.open_table(CHECKPOINT_TABLE).map_err(StoreError::from_any)?;
        table.insert(CHECKPOINT_KEY, newest).map_err(StoreError::from_any)?;
    }
    transaction.commit().map_err(StoreError::from_any)?;
    for generation in generations {
        let _ = std::fs::remove_file(wal::file_path(path, generation));
    }
    Ok(Wal::new(path, newest + 1))
}

/// The writer thread's state.
struct Writer {
    database: Arc<Database>,
    log: Wal,
    last_checkpoint: Instant,
    /// Set when the log or redb failed mid-batch: the outcome of later writes could not be
    /// guaranteed, so every later write is refused until a restart replays the log.
    broken: Option<StoreError>,
}

impl Writer {
    fn new(database: Arc<Database>, log: Wal) -> Writer {
        Writer {
            database,
            log,
            last_checkpoint: Instant::now(),
            broken: None,
        }
    }

    fn run(mut self, jobs: &mpsc::Receiver<WriteJob>) {
        loop {
            let first = match jobs.recv_timeout(Duration::from_millis(500)) {
                Ok(job) => job,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    self.maybe_checkpoint();
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            };
            let mut batch = vec![first];
            while batch.len() < BATCH_JOBS_MAX {
                match jobs.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            let (completions, outcome) = self.run_batch(batch);
            for completion in completions {
                completion(outcome.clone());
            }
            self.maybe_checkpoint();
        }
        self.checkpoint();
    }

    fn run_batch(&mut self, batch: Vec<WriteJob>) -> (Vec<Completion>, Result<(), StoreError>) {
        if let Some(error) = &self.broken {
            return (fail_all(batch), Err(error.clone()));
        }
        let mut transaction = match self.database.begin_write() {
            Ok(transaction) => transaction,
            Err(error) => return (fail_all(batch), Err(StoreError::from_any(error))),
        };
        if let Err(error) = transaction.set_durability(Durability::None) {
            return (fail_all(batch), Err(StoreError::from_any(error)));
        }
        let mut completions = Vec::with_capacity(batch.len());
        let (failure, log) = {
            let mut txn = RedbTxn::new(&transaction, true);
            for job in batch {
                completions.push(job(&mut txn));
            }
            (txn.failure.take(), std::mem::take(&mut txn.log))
        };
        if let Some(error) = failure {
            let _ = transaction.abort();
            return (completions, Err(error));
        }
        if !log.is_empty()
            && let Err(error) = self.log.append(&log)
        {
            let _ = transaction.abort();
            let error = StoreError(format!("cannot write the write-ahead log: {error}"));
            self.broken = Some(error.clone());
            return (completions, Err(error));
        }
        let outcome = transaction.commit().map_err(StoreError::from_any);
        if let Err(error) = &outcome {
            self.broken = Some(error.clone());
        }
        (completions, outcome)
    }

    fn maybe_checkpoint(&mut self) {
        let due = self.log.bytes >= CHECKPOINT_LOG_BYTES
            || (self.log.bytes > 0 && self.last_checkpoint.elapsed() >= CHECKPOINT_INTERVAL);
        if due {
            self.checkpoint();
        }
    }

    /// Commits redb durably, records that the current log generation is covered, and starts
    /// the next log file.
    fn checkpoint(&mut self) {
        if self.broken.is_some() || self.log.bytes == 0 {
            return;
        }
        let result = (|| -> Result<(), StoreError> {
            let mut transaction = self.database.begin_write().map_err(StoreError::from_any)?;
            transaction
                .set_durability(Durability::Immediate)
                .map_err(StoreError::from_any)?;
            {
                let mut table = transaction.open_table(CHECKPOINT_TABLE).map_err(StoreError::from_any)?;
                table
                    .insert(CHECKPOINT_KEY, self.log.generation)
                    .map_err(StoreError::from_any)?;
            }
            transaction.commit().map_err(StoreError::from_any)?;
            self.log.rotate().map_err(StoreError::from_any)
        })();
        self.last_checkpoint = Instant::now();
        if let Err(error) = result {
            // The log still holds everything; a later checkpoint or the next open catches up.
            eprintln!("stratus: storage checkpoint failed: {error}");
        }
    }
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
    /// The batch's writes, encoded for the write-ahead log (when logging).
    log: Vec<u8>,
    logging: bool,
}

impl<'t> RedbTxn<'t> {
    fn new(transaction: &'t redb::WriteTransaction, logging: bool) -> RedbTxn<'t> {
        RedbTxn {
            transaction,
            tables: HashMap::new(),
            failure: None,
            log: Vec::new(),
            logging,
        }
    }

    fn record(&mut self, entry: LogEntry) {
        if self.logging {
            wal::encode_entry(&mut self.log, &entry);
        }
    }

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
        self.note(result)?;
        self.record(LogEntry::Put {
            space: space.to_string(),
            key: key.to_vec(),
            value: value.to_vec(),
        });
        Ok(())
    }

    fn delete(&mut self, space: &str, key: &[u8]) -> Result<(), StoreError> {
        let result = self.table(space)?.remove(key).map(|_| ()).map_err(StoreError::from_any);
        self.note(result)?;
        self.record(LogEntry::Delete {
            space: space.to_string(),
            key: key.to_vec(),
        });
        Ok(())
    }

    fn drop_space(&mut self, space: &str) -> Result<(), StoreError> {
        self.tables.remove(space);
        let result = self
            .transaction
            .delete_table(definition(space))
            .map(|_| ())
            .map_err(StoreError::from_any);
        self.note(result)?;
        self.record(LogEntry::DropSpace {
            space: space.to_string(),
        });
        Ok(())
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
