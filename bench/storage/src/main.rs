//! Storage-engine micro-benchmark for ADR 0001: redb vs fjall vs SQLite on the workloads Stratus
//! puts on its store. Run `storage-bench` with no arguments: it runs each engine in its own child
//! process (so the memory figures are per engine), then prints markdown tables.
//!
//! Every loop is bounded in count and in time (`BENCH_PHASE_SECS`, default 120 s per phase); a
//! phase cut short by the deadline is marked with `*` and measured over what it did.

use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::hint::black_box;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const KEY_LEN: usize = 24;
const VALUE_LEN: usize = 150;
const WRITES: usize = 5_000;
const BATCHES: [usize; 2] = [16, 64];
const ITEMS: usize = 100_000;
const LOAD_BATCH: usize = 1_000;
const GETS: usize = 100_000;
const SCANS: usize = 10_000;
const SCAN_LEN: usize = 10;
const FSYNCS: usize = 2_000;
const CACHE_BYTES: usize = 64 * 1024 * 1024;
const ENGINES: [&str; 5] = ["redb", "stratus-redb-wal", "fjall", "sqlite-full", "sqlite-normal"];

type Kv = (Vec<u8>, Vec<u8>);

/// One engine, used the way Stratus would: a named space of byte keys, durable commits.
trait Engine {
    /// Writes `items` in one transaction and returns once the commit is durable (for the
    /// durable configurations).
    fn commit(&mut self, items: &[Kv]);
    /// Called once after loading, before the read phases (fjall: flush the memtable).
    fn settle(&mut self) {}
    fn get(&self, key: &[u8]) -> Option<usize>;
    /// Visits up to `n` entries from `start` on, in key order; returns the bytes seen.
    fn scan(&self, start: &[u8], n: usize) -> usize;
}

// ---------------------------------------------------------------------------------------------
// redb: as in crates/storage/src/redb_store.rs — one table per space, Durability::Immediate,
// a read transaction and table open per read.

const REDB_TABLE: redb::TableDefinition<'static, &'static [u8], &'static [u8]> = redb::TableDefinition::new("items");

struct Redb(redb::Database);

impl Redb {
    fn open(dir: &Path) -> Redb {
        let mut builder = redb::Database::builder();
        builder.set_cache_size(CACHE_BYTES);
        Redb(builder.create(dir.join("db.redb")).expect("redb open"))
    }
}

impl Engine for Redb {
    fn commit(&mut self, items: &[Kv]) {
        let mut txn = self.0.begin_write().expect("begin_write");
        txn.set_durability(redb::Durability::Immediate).expect("durability");
        {
            let mut table = txn.open_table(REDB_TABLE).expect("open_table");
            for (k, v) in items {
                table.insert(k.as_slice(), v.as_slice()).expect("insert");
            }
        }
        txn.commit().expect("commit");
    }

    fn get(&self, key: &[u8]) -> Option<usize> {
        use redb::ReadableDatabase;
        let txn = self.0.begin_read().expect("begin_read");
        let table = txn.open_table(REDB_TABLE).expect("open_table");
        table.get(key).expect("get").map(|v| v.value().len())
    }

    fn scan(&self, start: &[u8], n: usize) -> usize {
        use redb::ReadableDatabase;
        let txn = self.0.begin_read().expect("begin_read");
        let table = txn.open_table(REDB_TABLE).expect("open_table");
        let mut bytes = 0;
        for entry in table.range(start..).expect("range").take(n) {
            let (k, v) = entry.expect("entry");
            bytes += k.value().len() + v.value().len();
        }
        bytes
    }
}

// ---------------------------------------------------------------------------------------------
// fjall 3: one keyspace per space, a write batch per commit with PersistMode::SyncData.

struct Fjall {
    db: fjall::Database,
    items: fjall::Keyspace,
}

impl Fjall {
    fn open(dir: &Path) -> Fjall {
        let db = fjall::Database::builder(dir.join("fjall"))
            .cache_size(CACHE_BYTES as u64)
            .open()
            .expect("fjall open");
        let items = db
            .keyspace("items", fjall::KeyspaceCreateOptions::default)
            .expect("keyspace");
        Fjall { db, items }
    }
}

impl Engine for Fjall {
    fn commit(&mut self, items: &[Kv]) {
        let mut batch = self.db.batch().durability(Some(fjall::PersistMode::SyncData));
        for (k, v) in items {
            batch.insert(&self.items, k.as_slice(), v.as_slice());
        }
        batch.commit().expect("commit");
    }

    fn settle(&mut self) {
        // Reads then come from on-disk tables through the block cache, as in a long-running
        // server, not from the memtable the load just filled.
        self.items.rotate_memtable_and_wait().expect("flush");
    }

    fn get(&self, key: &[u8]) -> Option<usize> {
        self.items.get(key).expect("get").map(|v| v.len())
    }

    fn scan(&self, start: &[u8], n: usize) -> usize {
        let mut bytes = 0;
        for guard in self.items.range(start..).take(n) {
            let (k, v) = guard.into_inner().expect("entry");
            bytes += k.len() + v.len();
        }
        bytes
    }
}

// ---------------------------------------------------------------------------------------------
// SQLite (rusqlite, bundled): a WITHOUT ROWID table per space, WAL, prepared statements.

struct Sqlite(rusqlite::Connection);

impl Sqlite {
    fn open(dir: &Path, synchronous: &str) -> Sqlite {
        let conn = rusqlite::Connection::open(dir.join("db.sqlite")).expect("sqlite open");
        conn.pragma_update(None, "journal_mode", "WAL").expect("wal");
        conn.pragma_update(None, "synchronous", synchronous)
            .expect("synchronous");
        conn.pragma_update(None, "cache_size", -((CACHE_BYTES / 1024) as i64))
            .expect("cache");
        conn.execute_batch("CREATE TABLE IF NOT EXISTS items (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID")
            .expect("create");
        Sqlite(conn)
    }
}

impl Engine for Sqlite {
    fn commit(&mut self, items: &[Kv]) {
        let txn = self.0.transaction().expect("begin");
        {
            let mut insert = txn
                .prepare_cached("INSERT OR REPLACE INTO items (k, v) VALUES (?1, ?2)")
                .expect("prepare");
            for (k, v) in items {
                insert.execute((k.as_slice(), v.as_slice())).expect("insert");
            }
        }
        txn.commit().expect("commit");
    }

    fn get(&self, key: &[u8]) -> Option<usize> {
        let mut select = self
            .0
            .prepare_cached("SELECT v FROM items WHERE k = ?1")
            .expect("prepare");
        let mut rows = select.query([key]).expect("query");
        rows.next()
            .expect("row")
            .map(|row| row.get_ref(0).expect("v").as_blob().expect("blob").len())
    }

    fn scan(&self, start: &[u8], n: usize) -> usize {
        let mut select = self
            .0
            .prepare_cached("SELECT k, v FROM items WHERE k >= ?1 ORDER BY k LIMIT ?2")
            .expect("prepare");
        let mut rows = select.query((start, n as i64)).expect("query");
        let mut bytes = 0;
        while let Some(row) = rows.next().expect("row") {
            bytes += row.get_ref(0).expect("k").as_blob().expect("blob").len();
            bytes += row.get_ref(1).expect("v").as_blob().expect("blob").len();
        }
        bytes
    }
}

// ---------------------------------------------------------------------------------------------
// The store Stratus ships (crates/storage RedbStore): redb committed without sync, plus one
// fdatasync'd append to its own write-ahead log per batch, checkpoints every few seconds. Driven
// through its real writer thread (submit a job, wait for the completion).

struct StratusStore(stratus_storage::RedbStore);

impl Engine for StratusStore {
    fn commit(&mut self, items: &[Kv]) {
        use stratus_storage::Store;
        let items = items.to_vec();
        let (done, wait) = std::sync::mpsc::channel();
        self.0.submit(Box::new(move |txn| {
            for (k, v) in &items {
                txn.put("items", k, v).expect("put");
            }
            Box::new(move |outcome| {
                let _ = done.send(outcome);
            })
        }));
        wait.recv().expect("writer gone").expect("commit");
    }

    fn get(&self, key: &[u8]) -> Option<usize> {
        use stratus_storage::Reader;
        self.0.get("items", key).expect("get").map(|v| v.len())
    }

    fn scan(&self, start: &[u8], n: usize) -> usize {
        use std::ops::{Bound, ControlFlow};
        use stratus_storage::{KeyRange, Reader};
        let range = KeyRange {
            start: Bound::Included(start),
            end: Bound::Unbounded,
        };
        let (mut bytes, mut seen) = (0, 0);
        self.0
            .scan("items", range, false, &mut |k, v| {
                bytes += k.len() + v.len();
                seen += 1;
                if seen >= n {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            })
            .expect("scan");
        bytes
    }
}

fn open(engine: &str, dir: &Path) -> Box<dyn Engine> {
    fs::create_dir_all(dir).expect("mkdir");
    match engine {
        "redb" => Box::new(Redb::open(dir)),
        "stratus-redb-wal" => Box::new(StratusStore(
            stratus_storage::RedbStore::open(&dir.join("db.redb")).expect("stratus store open"),
        )),
        "fjall" => Box::new(Fjall::open(dir)),
        "sqlite-full" => Box::new(Sqlite::open(dir, "FULL")),
        "sqlite-normal" => Box::new(Sqlite::open(dir, "NORMAL")),
        other => panic!("unknown engine {other}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Data, timing, reporting helpers.

/// splitmix64: deterministic, dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            v.swap(i, self.below(i + 1));
        }
    }
}

/// 24-byte keys that sort in numeric order, like a partition key plus sort key.
fn key(i: usize) -> Vec<u8> {
    let k = format!("pk#{i:021}").into_bytes();
    debug_assert_eq!(k.len(), KEY_LEN);
    k
}

/// `n` items with distinct keys in random order.
fn items(rng: &mut Rng, n: usize) -> Vec<Kv> {
    let mut ids: Vec<usize> = (0..n).collect();
    rng.shuffle(&mut ids);
    ids.into_iter().map(|i| (key(i), rng.bytes(VALUE_LEN))).collect()
}

fn phase_limit() -> Duration {
    let secs = std::env::var("BENCH_PHASE_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(120);
    Duration::from_secs(secs)
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Latencies (ns) of each op, the ops' count, total elapsed, and whether the deadline cut it.
struct Timed {
    lat: Vec<u64>,
    elapsed: Duration,
    cut: bool,
}

impl Timed {
    fn run(count: usize, limit: Duration, mut op: impl FnMut(usize)) -> Timed {
        let mut lat = Vec::with_capacity(count);
        let start = Instant::now();
        let mut cut = false;
        for i in 0..count {
            let t = Instant::now();
            op(i);
            lat.push(t.elapsed().as_nanos() as u64);
            if start.elapsed() > limit {
                cut = i + 1 < count;
                break;
            }
        }
        let elapsed = start.elapsed();
        lat.sort_unstable();
        Timed { lat, elapsed, cut }
    }
    fn rate(&self, per_op: usize) -> f64 {
        (self.lat.len() * per_op) as f64 / self.elapsed.as_secs_f64()
    }
    fn mark(&self) -> &'static str {
        if self.cut { "*" } else { "" }
    }
}

fn dir_bytes(dir: &Path) -> u64 {
    let mut total = 0;
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                total += dir_bytes(&path);
            } else if let Ok(meta) = entry.metadata() {
                // Allocated blocks, not apparent length: fjall preallocates a sparse journal.
                total += std::os::unix::fs::MetadataExt::blocks(&meta) * 512;
            }
        }
    }
    total
}

fn status_kb(field: &str) -> u64 {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn emit(name: &str, value: impl std::fmt::Display) {
    println!("RESULT\t{name}\t{value}");
}

// ---------------------------------------------------------------------------------------------
// Child modes.

/// All phases for one engine, each write phase in a fresh database under `root`.
fn run_engine(engine: &str, root: &Path) {
    let limit = phase_limit();
    let mut rng = Rng(0x5EED);

    let only = std::env::var("BENCH_PHASES").unwrap_or_else(|_| "single,batch,read".into());
    let wanted = |phase: &str| only.split(',').any(|p| p == phase);

    // Durable single writes: one commit per write.
    let writes = items(&mut rng, WRITES);
    if wanted("single") {
        let mut db = open(engine, &root.join("single"));
        let t = Timed::run(writes.len(), limit, |i| db.commit(&writes[i..=i]));
        emit(
            "single_p50_us",
            format!("{:.0}{}", percentile(&t.lat, 50.0) as f64 / 1e3, t.mark()),
        );
        emit("single_p99_us", format!("{:.0}", percentile(&t.lat, 99.0) as f64 / 1e3));
        emit("single_wps", format!("{:.0}{}", t.rate(1), t.mark()));
    }

    // Group commit: the same writes, one durable commit per batch.
    for batch in BATCHES.into_iter().filter(|_| wanted("batch")) {
        let mut db = open(engine, &root.join(format!("batch{batch}")));
        let chunks: Vec<&[Kv]> = writes.chunks(batch).collect();
        let t = Timed::run(chunks.len(), limit, |i| db.commit(chunks[i]));
        emit(
            &format!("batch{batch}_wps"),
            format!("{:.0}{}", t.rate(batch), t.mark()),
        );
        emit(
            &format!("batch{batch}_commit_p50_us"),
            format!("{:.0}", percentile(&t.lat, 50.0) as f64 / 1e3),
        );
    }

    // Load 100k items (durable commits of 1,000), settle, reopen, then read.
    if !wanted("read") {
        return;
    }
    let load_dir = root.join("load");
    let loaded = items(&mut rng, ITEMS);
    {
        let mut db = open(engine, &load_dir);
        let chunks: Vec<&[Kv]> = loaded.chunks(LOAD_BATCH).collect();
        let t = Timed::run(chunks.len(), limit * 2, |i| db.commit(chunks[i]));
        emit("load_s", format!("{:.2}{}", t.elapsed.as_secs_f64(), t.mark()));
        db.settle();
    }
    emit("disk_mb", format!("{:.1}", dir_bytes(&load_dir) as f64 / 1e6));
    let db = open(engine, &load_dir);
    let gets: Vec<Vec<u8>> = (0..GETS).map(|_| key(rng.below(ITEMS))).collect();
    // Warm the engine's cache and the OS page cache with one untimed pass over the keys.
    for k in gets.iter().take(ITEMS) {
        black_box(db.get(k));
    }
    let t = Timed::run(gets.len(), limit, |i| {
        assert_eq!(black_box(db.get(&gets[i])), Some(VALUE_LEN));
    });
    emit("get_p50_ns", format!("{}{}", percentile(&t.lat, 50.0), t.mark()));
    emit("get_p99_ns", percentile(&t.lat, 99.0));
    emit("get_rps", format!("{:.0}{}", t.rate(1), t.mark()));

    let starts: Vec<Vec<u8>> = (0..SCANS).map(|_| key(rng.below(ITEMS - SCAN_LEN))).collect();
    let t = Timed::run(starts.len(), limit, |i| {
        assert_eq!(
            black_box(db.scan(&starts[i], SCAN_LEN)),
            SCAN_LEN * (KEY_LEN + VALUE_LEN)
        );
    });
    emit(
        "scan_p50_us",
        format!("{:.1}{}", percentile(&t.lat, 50.0) as f64 / 1e3, t.mark()),
    );
    emit("scan_p99_us", format!("{:.1}", percentile(&t.lat, 99.0) as f64 / 1e3));
    emit("scan_ps", format!("{:.0}{}", t.rate(1), t.mark()));
    emit("peak_rss_mb", format!("{:.1}", status_kb("VmHWM:") as f64 / 1024.0));
}

/// Opens the loaded database, reads 1,000 keys, and reports the process's resident memory.
fn run_idle(engine: &str, dir: &Path) {
    let before = status_kb("VmRSS:");
    if engine != "none" {
        let db = open(engine, dir);
        let mut rng = Rng(7);
        for _ in 0..1_000 {
            black_box(db.get(&key(rng.below(ITEMS))));
        }
        emit("idle_rss_kb", status_kb("VmRSS:"));
        drop(db);
    } else {
        emit("idle_rss_kb", before);
    }
}

// ---------------------------------------------------------------------------------------------
// Parent: runs the children and the fdatasync floor, prints markdown.

fn child(args: &[&str]) -> BTreeMap<String, String> {
    let exe = std::env::current_exe().expect("current_exe");
    let out = Command::new(exe).args(args).output().expect("spawn child");
    if !out.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&out.stderr));
        panic!("child {args:?} failed: {}", out.status);
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut parts = l.split('\t');
            if parts.next() != Some("RESULT") {
                return None;
            }
            Some((parts.next()?.to_string(), parts.next()?.to_string()))
        })
        .collect()
}

/// The floor under any durable commit: a 150-byte append + fdatasync (the file grows, so the
/// filesystem journals the new size too), and a 150-byte overwrite inside a preallocated, synced
/// file + fdatasync (data only). Returns (append p50, append p99, overwrite p50, overwrite p99) ns.
fn fsync_floor(dir: &Path) -> [u64; 4] {
    use std::os::unix::fs::FileExt;
    let record = [0xA5u8; VALUE_LEN];
    let path = dir.join("fsync-floor-append.log");
    let mut file = OpenOptions::new().create(true).append(true).open(&path).expect("open");
    let append = Timed::run(FSYNCS, phase_limit(), |_| {
        file.write_all(&record).expect("append");
        file.sync_data().expect("fdatasync");
    });
    let path = dir.join("fsync-floor-overwrite.log");
    let file = OpenOptions::new()
        .create(true)
        .truncate(true)
        .read(true)
        .write(true)
        .open(&path)
        .expect("open");
    file.write_all_at(&vec![0u8; FSYNCS * VALUE_LEN], 0).expect("prefill");
    file.sync_all().expect("fsync");
    let overwrite = Timed::run(FSYNCS, phase_limit(), |i| {
        file.write_all_at(&record, (i * VALUE_LEN) as u64).expect("pwrite");
        file.sync_data().expect("fdatasync");
    });
    [
        percentile(&append.lat, 50.0),
        percentile(&append.lat, 99.0),
        percentile(&overwrite.lat, 50.0),
        percentile(&overwrite.lat, 99.0),
    ]
}

/// Median over rounds of a metric ("123*" counts as 123 and keeps the mark), with min–max when
/// `range` is set and there is more than one round.
fn summarize(runs: &[BTreeMap<String, String>], metric: &str, range: bool) -> String {
    let cut = runs.iter().any(|r| r.get(metric).is_some_and(|v| v.ends_with('*')));
    let mut values: Vec<f64> = runs
        .iter()
        .filter_map(|r| r.get(metric)?.trim_end_matches('*').parse().ok())
        .collect();
    if values.is_empty() {
        return "-".into();
    }
    values.sort_by(f64::total_cmp);
    let decimals = runs
        .iter()
        .find_map(|r| r.get(metric))
        .and_then(|v| v.trim_end_matches('*').split('.').nth(1).map(str::len))
        .unwrap_or(0);
    let fmt = |v: f64| format!("{v:.decimals$}");
    let median = values[values.len() / 2];
    let mark = if cut { "*" } else { "" };
    if range && values.len() > 1 {
        format!(
            "{}{mark} ({}–{})",
            fmt(median),
            fmt(values[0]),
            fmt(values[values.len() - 1])
        )
    } else {
        format!("{}{mark}", fmt(median))
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("--engine") => return run_engine(&args[2], Path::new(&args[3])),
        Some("--idle") => return run_idle(&args[2], Path::new(&args[3])),
        Some(other) => {
            eprintln!(
                "usage: storage-bench   (no arguments; env BENCH_DIR, BENCH_ROUNDS, BENCH_PHASE_SECS, BENCH_ENGINES)\nunknown argument {other}"
            );
            std::process::exit(2);
        }
        None => {}
    }

    let base = std::env::var_os("BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let root = base.join(format!("stratus-storage-bench-{}", std::process::id()));
    fs::create_dir_all(&root).expect("mkdir root");
    let engines: Vec<String> = std::env::var("BENCH_ENGINES")
        .map(|s| s.split(',').map(str::to_string).collect())
        .unwrap_or_else(|_| ENGINES.iter().map(|s| s.to_string()).collect());
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3)
        .clamp(1, 20);
    eprintln!(
        "data under {}; {rounds} rounds; engine order rotates each round",
        root.display()
    );

    let baseline = child(&["--idle", "none", "-"]);
    let base_kb: u64 = baseline["idle_rss_kb"].parse().unwrap_or(0);
    let mut floors = Vec::new();
    let mut results: Vec<(String, Vec<BTreeMap<String, String>>)> =
        engines.iter().map(|e| (e.clone(), Vec::new())).collect();
    for round in 0..rounds {
        floors.push(fsync_floor(&root));
        for n in 0..engines.len() {
            let slot = (n + round) % engines.len();
            let engine = engines[slot].clone();
            let dir = root.join(format!("{engine}-{round}"));
            let started = Instant::now();
            let mut r = child(&["--engine", &engine, dir.to_str().expect("utf-8 path")]);
            r.extend(child(&[
                "--idle",
                &engine,
                dir.join("load").to_str().expect("utf-8 path"),
            ]));
            eprintln!("round {round}: {engine} took {:.1} s", started.elapsed().as_secs_f64());
            let _ = fs::remove_dir_all(&dir);
            results[slot].1.push(r);
        }
    }
    let _ = fs::remove_dir_all(&root);

    let floor_runs: Vec<BTreeMap<String, String>> = floors
        .iter()
        .map(|f| {
            ["append_p50", "append_p99", "overwrite_p50", "overwrite_p99"]
                .iter()
                .zip(f)
                .map(|(k, v)| (k.to_string(), format!("{:.0}", *v as f64 / 1e3)))
                .collect()
        })
        .collect();
    println!("\nMedian of {rounds} rounds (min–max over rounds in brackets where shown).\n");
    println!(
        "fdatasync floor, {FSYNCS} runs each: 150-byte append + fdatasync p50 {} µs, p99 {} µs; \
         150-byte overwrite in a preallocated file + fdatasync p50 {} µs, p99 {} µs\n",
        summarize(&floor_runs, "append_p50", true),
        summarize(&floor_runs, "append_p99", false),
        summarize(&floor_runs, "overwrite_p50", true),
        summarize(&floor_runs, "overwrite_p99", false),
    );
    println!(
        "Writes: {WRITES} puts of {KEY_LEN}-byte keys and {VALUE_LEN}-byte values, random order, single thread, fresh database each.\n"
    );
    println!(
        "| engine | single p50 µs | single p99 µs | single writes/s | batch 16 writes/s | batch 64 writes/s | load 100k (1k/commit) s | disk MB |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for (engine, runs) in &results {
        println!(
            "| {engine} | {} | {} | {} | {} | {} | {} | {} |",
            summarize(runs, "single_p50_us", true),
            summarize(runs, "single_p99_us", false),
            summarize(runs, "single_wps", true),
            summarize(runs, "batch16_wps", true),
            summarize(runs, "batch64_wps", true),
            summarize(runs, "load_s", false),
            summarize(runs, "disk_mb", false),
        );
    }
    println!(
        "\nReads: {ITEMS} items loaded, flushed, reopened, one warm-up pass; {GETS} random gets, {SCANS} scans of {SCAN_LEN} keys, single thread.\n"
    );
    println!(
        "| engine | get p50 ns | get p99 ns | gets/s | scan10 p50 µs | scan10 p99 µs | scans/s | RSS after open + 1k gets MB (bare process {:.1}) | peak RSS whole run MB |",
        base_kb as f64 / 1024.0
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (engine, runs) in &results {
        let rss: Vec<BTreeMap<String, String>> = runs
            .iter()
            .map(|r| {
                let kb: f64 = r.get("idle_rss_kb").and_then(|v| v.parse().ok()).unwrap_or(0.0);
                BTreeMap::from([("mb".to_string(), format!("{:.1}", kb / 1024.0))])
            })
            .collect();
        println!(
            "| {engine} | {} | {} | {} | {} | {} | {} | {} | {} |",
            summarize(runs, "get_p50_ns", false),
            summarize(runs, "get_p99_ns", false),
            summarize(runs, "get_rps", false),
            summarize(runs, "scan_p50_us", false),
            summarize(runs, "scan_p99_us", false),
            summarize(runs, "scan_ps", false),
            summarize(&rss, "mb", false),
            summarize(runs, "peak_rss_mb", false),
        );
    }
    println!(
        "\n`*` = a phase cut by BENCH_PHASE_SECS. sqlite-normal is WAL + synchronous=NORMAL: NOT durable on ack \
         (the WAL is fsynced only at checkpoint), shown for reference only."
    );
}
