//! `ddb6`: the DynamoDB workloads of issue 6's benchmark (`bench/dynamodb6.sh`): secondary-index
//! Query vs base-table Query at two table sizes, BatchWriteItem and TransactWriteItems.
//!
//! Subcommands:
//!   wait     --endpoint URL --since EPOCH_SECS[.frac] [--timeout-secs 30] [--pid PID]
//!            poll ListTables every 1 ms until a 2xx; print ms elapsed since --since (fails at
//!            once if PID exits)
//!   create   --endpoint URL --table T
//!            CreateTable (pk S HASH, sk S RANGE, PAY_PER_REQUEST) with the global index `gsi1`
//!            (gpk S HASH, gsk S RANGE, projection ALL); waits until the table and its index are
//!            ACTIVE. A table that already exists is fine.
//!   load     --endpoint URL --table T --items N [--from 0] [--connections 4] [--max-secs 300] [--item-bytes 150]
//!            BatchWriteItem, 25 items a request, item i = pk `p{i/20}`, sk `{i%20}`,
//!            gpk `g{(i/400)*20 + i%20}`, gsk `{i}`, data filler (about --item-bytes by
//!            DynamoDB's size rule). UnprocessedItems are sent again (bounded). Every base
//!            partition and every index partition holds 20 items. Stops handing out batches at
//!            --max-secs; prints how many items were written and the complete prefix. `--from F`
//!            writes items F..F+N instead (F a multiple of 400, to grow a table in steps).
//!   query    --endpoint URL --table T [--index gsi1] --items K [--limit 10] --connections C
//!            --duration-secs S --max-requests M
//!            Query a random complete partition (of the first K items) per request, Limit 10;
//!            first checks 5 queries return Count = limit ("verified").
//!   batch    --endpoint URL --table T [--batch 25] --connections C --duration-secs S --max-requests M
//!            BatchWriteItem of `batch` new items per request (distinct keys; not retried);
//!            reports requests/s, items/s and unprocessed items.
//!   transact --endpoint URL --table T [--puts 2] [--updates 2] --connections C --duration-secs S
//!            --max-requests M
//!            TransactWriteItems: `puts` Puts of new items + `updates` Updates (ADD n 1) of counter
//!            items private to the connection (no conflicts between connections).
//!
//! Closed loop, keep-alive HTTP/1.1, SigV4-signed (test/test, us-east-1). Every loop is bounded by
//! time and count; only loopback endpoints are accepted. Results are one JSON line on stdout;
//! the first failed response of a run is printed on stderr.

#[path = "../hist.rs"]
#[allow(dead_code)]
mod hist;
#[path = "../http.rs"]
#[allow(dead_code)]
mod http;
#[path = "../sigv4.rs"]
#[allow(dead_code)]
mod sigv4;

use hist::Histogram;
use http::Conn;
use sigv4::Signer;
use std::collections::HashMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::process::exit;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const GSI: &str = "gsi1";
/// Items per base-table partition and per index partition.
const PART: u64 = 20;
/// Items in one block of the index layout: 20 index partitions of 20 items.
const BLOCK: u64 = PART * PART;

struct Args(HashMap<String, String>);

impl Args {
    fn parse(it: impl Iterator<Item = String>) -> Args {
        let mut m = HashMap::new();
        let mut it = it.peekable();
        while let Some(a) = it.next() {
            let Some(key) = a.strip_prefix("--") else { die(&format!("unexpected argument {a:?}")) };
            if let Some((k, v)) = key.split_once('=') {
                m.insert(k.to_string(), v.to_string());
            } else {
                match it.peek() {
                    Some(v) if !v.starts_with("--") => {
                        m.insert(key.to_string(), it.next().unwrap_or_default());
                    }
                    _ => {
                        m.insert(key.to_string(), "true".to_string());
                    }
                }
            }
        }
        Args(m)
    }
    fn str(&self, k: &str, default: &str) -> String {
        self.0.get(k).cloned().unwrap_or_else(|| default.to_string())
    }
    fn req(&self, k: &str) -> String {
        self.0.get(k).cloned().unwrap_or_else(|| die(&format!("missing --{k}")))
    }
    fn num<T: std::str::FromStr>(&self, k: &str, default: T) -> T {
        match self.0.get(k) {
            None => default,
            Some(v) => v.parse().unwrap_or_else(|_| die(&format!("bad --{k} {v:?}"))),
        }
    }
}

fn die(msg: &str) -> ! {
    eprintln!("ddb6: {msg}");
    exit(2)
}

#[derive(Clone)]
struct Endpoint {
    addr: SocketAddr,
    host: String,
}

fn parse_endpoint(url: &str) -> Endpoint {
    let rest = url.strip_prefix("http://").unwrap_or_else(|| die("endpoint must be http://HOST:PORT"));
    let host = rest.trim_end_matches('/').to_string();
    let addr = host
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .unwrap_or_else(|| die(&format!("cannot resolve {host}")));
    if !addr.ip().is_loopback() {
        die("only loopback endpoints are allowed");
    }
    Endpoint { addr, host }
}

fn table_name(a: &Args) -> String {
    let t = a.str("table", "bench");
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.') {
        die("--table must be a plain table name");
    }
    t
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| die(&format!("runtime: {e}")))
}

fn squash(body: &[u8]) -> String {
    String::from_utf8_lossy(body).chars().filter(|c| !c.is_whitespace()).collect()
}

fn clip(body: &[u8]) -> String {
    let t = String::from_utf8_lossy(body);
    t.chars().take(400).collect()
}

/// xorshift64: filler text and random partitions.
struct Rng(u64);
impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    /// Alphanumeric, so it needs no JSON escaping.
    fn push_text(&mut self, n: usize, out: &mut String) {
        const ALPHA: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        for _ in 0..n {
            out.push(ALPHA[(self.next() % ALPHA.len() as u64) as usize] as char);
        }
    }
}

/// One item `{"pk":…,"sk":…,"gpk":…,"gsk":…,"data":…}` of about `item_bytes` by DynamoDB's size
/// rule (attribute names + values).
fn push_item(pk: &str, sk: &str, gpk: &str, gsk: &str, item_bytes: usize, rng: &mut Rng, out: &mut String) {
    let fixed = 2 + pk.len() + 2 + sk.len() + 3 + gpk.len() + 3 + gsk.len() + 4;
    let n = item_bytes.saturating_sub(fixed).max(1);
    out.push_str("{\"pk\":{\"S\":\"");
    out.push_str(pk);
    out.push_str("\"},\"sk\":{\"S\":\"");
    out.push_str(sk);
    out.push_str("\"},\"gpk\":{\"S\":\"");
    out.push_str(gpk);
    out.push_str("\"},\"gsk\":{\"S\":\"");
    out.push_str(gsk);
    out.push_str("\"},\"data\":{\"S\":\"");
    rng.push_text(n, out);
    out.push_str("\"}}");
}

/// The keys of loaded item `i`.
fn load_keys(i: u64) -> (String, String, String, String) {
    let gpart = (i / BLOCK) * PART + i % PART;
    (format!("p{:07}", i / PART), format!("{:02}", i % PART), format!("g{gpart:07}"), format!("{i:08}"))
}

/// Body of a BatchWriteItem putting `items` (pk, sk, gpk, gsk).
fn batch_body(table: &str, items: &[(String, String, String, String)], item_bytes: usize, rng: &mut Rng, out: &mut String) {
    out.clear();
    out.push_str("{\"RequestItems\":{\"");
    out.push_str(table);
    out.push_str("\":[");
    for (n, (pk, sk, gpk, gsk)) in items.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        out.push_str("{\"PutRequest\":{\"Item\":");
        push_item(pk, sk, gpk, gsk, item_bytes, rng, out);
        out.push_str("}}");
    }
    out.push_str("]}}");
}

/// Number of unprocessed requests in a BatchWriteItem response (0 for `"UnprocessedItems":{}`).
fn unprocessed(body: &[u8]) -> u64 {
    match unprocessed_request(body) {
        None => 0,
        Some(obj) => count(obj.as_bytes(), b"\"PutRequest\"") + count(obj.as_bytes(), b"\"DeleteRequest\""),
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn count(hay: &[u8], needle: &[u8]) -> u64 {
    hay.windows(needle.len()).filter(|w| *w == needle).count() as u64
}

/// The unprocessed requests of a BatchWriteItem response as the `RequestItems` of a new request:
/// the text of the `UnprocessedItems` object (a map of table → requests), if non-empty.
fn unprocessed_request(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let at = text.find("\"UnprocessedItems\"")? + 18;
    let rest = &text[at..];
    let open = rest.find('{')?;
    // Match braces (values hold no braces inside strings: keys and filler are alphanumeric).
    let mut depth = 0usize;
    for (i, c) in rest[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    let obj = &rest[open..open + i + 1];
                    return if obj.chars().filter(|c| !c.is_whitespace()).count() <= 2 { None } else { Some(obj.to_string()) };
                }
            }
            _ => {}
        }
    }
    None
}

struct Client {
    conn: Conn,
    signer: Signer,
    req: Vec<u8>,
}

impl Client {
    async fn new(ep: &Endpoint) -> std::io::Result<Client> {
        let conn = match tokio::time::timeout(Duration::from_secs(5), Conn::connect(ep.addr)).await {
            Ok(r) => r?,
            Err(_) => return Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out")),
        };
        Ok(Client { conn, signer: Signer::new("test", "test", "us-east-1", &ep.host), req: Vec::with_capacity(8192) })
    }

    /// One signed call, bounded by `limit`. Ok((status, body)).
    async fn call(&mut self, op: &str, body: &str, limit: Duration) -> std::io::Result<(u16, Vec<u8>)> {
        self.req.clear();
        self.signer.write_request(now_secs(), &format!("DynamoDB_20120810.{op}"), body.as_bytes(), &mut self.req);
        match tokio::time::timeout(limit, self.conn.roundtrip(&self.req)).await {
            Ok(r) => r.map(|r| (r.status, r.body)),
            Err(_) => {
                self.conn.reset();
                Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "request timed out"))
            }
        }
    }
}

// ---------------------------------------------------------------- wait

/// False once /proc/PID is gone or the process is a zombie.
fn process_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => s.rsplit_once(')').map(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X'])).unwrap_or(true),
        Err(_) => false,
    }
}

fn cmd_wait(a: &Args) {
    let ep = parse_endpoint(&a.req("endpoint"));
    let since: f64 = a.req("since").replace(',', ".").parse().unwrap_or_else(|_| die("bad --since"));
    let timeout = Duration::from_secs_f64(a.num("timeout-secs", 30.0));
    let pid: Option<u32> = a.0.get("pid").map(|p| p.parse().unwrap_or_else(|_| die("bad --pid")));
    let rt = runtime();
    let start = Instant::now();
    let ok = rt.block_on(async {
        let mut s = Signer::new("test", "test", "us-east-1", &ep.host);
        let mut req = Vec::new();
        // 1 ms between attempts, bounded by the timeout (and so by count).
        while start.elapsed() < timeout {
            if pid.is_some_and(|p| !process_alive(p)) {
                eprintln!("ddb6 wait: the server exited before it was ready");
                return false;
            }
            req.clear();
            s.write_request(now_secs(), "DynamoDB_20120810.ListTables", b"{}", &mut req);
            let attempt = async {
                let mut c = Conn::connect(ep.addr).await?;
                c.roundtrip(&req).await
            };
            if let Ok(Ok(r)) = tokio::time::timeout(Duration::from_secs(2), attempt).await {
                if (200..300).contains(&r.status) {
                    return true;
                }
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        false
    });
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0);
    if ok {
        println!("{{\"ready_ms\":{:.1}}}", (now - since) * 1e3);
    } else {
        println!("{{\"ready_ms\":null}}");
        exit(1);
    }
}

// ---------------------------------------------------------------- create

fn cmd_create(a: &Args) {
    let ep = parse_endpoint(&a.req("endpoint"));
    let table = table_name(a);
    let rt = runtime();
    let res = rt.block_on(async {
        let mut c = Client::new(&ep).await.map_err(|e| format!("connect: {e}"))?;
        let t0 = Instant::now();
        let create = format!(
            "{{\"TableName\":\"{table}\",\"AttributeDefinitions\":[\
             {{\"AttributeName\":\"pk\",\"AttributeType\":\"S\"}},{{\"AttributeName\":\"sk\",\"AttributeType\":\"S\"}},\
             {{\"AttributeName\":\"gpk\",\"AttributeType\":\"S\"}},{{\"AttributeName\":\"gsk\",\"AttributeType\":\"S\"}}],\
             \"KeySchema\":[{{\"AttributeName\":\"pk\",\"KeyType\":\"HASH\"}},{{\"AttributeName\":\"sk\",\"KeyType\":\"RANGE\"}}],\
             \"GlobalSecondaryIndexes\":[{{\"IndexName\":\"{GSI}\",\"KeySchema\":[\
             {{\"AttributeName\":\"gpk\",\"KeyType\":\"HASH\"}},{{\"AttributeName\":\"gsk\",\"KeyType\":\"RANGE\"}}],\
             \"Projection\":{{\"ProjectionType\":\"ALL\"}}}}],\
             \"BillingMode\":\"PAY_PER_REQUEST\"}}"
        );
        let lim = Duration::from_secs(30);
        let (st, body) = c.call("CreateTable", &create, lim).await.map_err(|e| format!("CreateTable: {e}"))?;
        if !(200..300).contains(&st) && !String::from_utf8_lossy(&body).contains("ResourceInUseException") {
            return Err(format!("CreateTable: HTTP {st}: {}", clip(&body)));
        }
        // Table and index ACTIVE; bounded at 60 s / 12k polls.
        let describe = format!("{{\"TableName\":\"{table}\"}}");
        let deadline = Instant::now() + Duration::from_secs(60);
        for _ in 0..12_000 {
            let (st, body) = c.call("DescribeTable", &describe, lim).await.map_err(|e| format!("DescribeTable: {e}"))?;
            let s = squash(&body);
            if (200..300).contains(&st)
                && s.contains("\"TableStatus\":\"ACTIVE\"")
                && s.contains("\"IndexStatus\":\"ACTIVE\"")
            {
                return Ok(t0.elapsed().as_secs_f64() * 1e3);
            }
            if Instant::now() >= deadline {
                return Err(format!("table or index not ACTIVE within 60 s: {}", clip(&body)));
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        Err("table or index not ACTIVE".into())
    });
    match res {
        Ok(ms) => println!("{{\"table\":\"{table}\",\"create_ms\":{ms:.1}}}"),
        Err(e) => {
            eprintln!("ddb6 create: {e}");
            println!("{{\"table\":\"{table}\",\"error\":\"create failed\"}}");
            exit(1);
        }
    }
}

// ---------------------------------------------------------------- load

fn cmd_load(a: &Args) {
    let ep = parse_endpoint(&a.req("endpoint"));
    let table = table_name(a);
    let items: u64 = a.num("items", 1000);
    let connections: usize = a.num::<usize>("connections", 4).clamp(1, 64);
    let max_secs: f64 = a.num("max-secs", 300.0);
    let item_bytes: usize = a.num("item-bytes", 150);
    let from: u64 = a.num("from", 0);
    if from % BLOCK != 0 {
        die(&format!("--from must be a multiple of {BLOCK}"));
    }
    const BATCH: u64 = 25;
    let batches = items.div_ceil(BATCH);
    let next = Arc::new(AtomicU64::new(0));
    let done_items = Arc::new(AtomicU64::new(0));
    let requests = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let retries = Arc::new(AtomicU64::new(0));
    let printed = Arc::new(AtomicBool::new(false));
    let complete: Arc<Vec<AtomicBool>> = Arc::new((0..batches).map(|_| AtomicBool::new(false)).collect());
    let rt = runtime();
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(max_secs);
    rt.block_on(async {
        let mut handles = Vec::new();
        for c in 0..connections {
            let (next, done_items, requests, errors, retries, printed, complete) =
                (next.clone(), done_items.clone(), requests.clone(), errors.clone(), retries.clone(), printed.clone(), complete.clone());
            let (ep, table) = (ep.clone(), table.clone());
            handles.push(tokio::spawn(async move {
                let Ok(mut cl) = Client::new(&ep).await else {
                    errors.fetch_add(1, Ordering::Relaxed);
                    return;
                };
                let mut rng = Rng::new(7 + c as u64);
                let mut body = String::with_capacity(8192);
                let mut consecutive_errors = 0;
                let mut keys = Vec::with_capacity(BATCH as usize);
                while Instant::now() < deadline && consecutive_errors < 100 {
                    let b = next.fetch_add(1, Ordering::Relaxed);
                    if b >= batches {
                        break;
                    }
                    keys.clear();
                    for i in b * BATCH..((b + 1) * BATCH).min(items) {
                        keys.push(load_keys(from + i));
                    }
                    batch_body(&table, &keys, item_bytes, &mut rng, &mut body);
                    let mut pending = keys.len() as u64;
                    // The batch and then its unprocessed remainder; at most 50 attempts.
                    for attempt in 0..50 {
                        requests.fetch_add(1, Ordering::Relaxed);
                        match cl.call("BatchWriteItem", &body, Duration::from_secs(30)).await {
                            Ok((st, rb)) if (200..300).contains(&st) => {
                                consecutive_errors = 0;
                                let left = unprocessed(&rb).min(pending);
                                done_items.fetch_add(pending - left, Ordering::Relaxed);
                                pending = left;
                                if left == 0 {
                                    break;
                                }
                                match unprocessed_request(&rb) {
                                    Some(obj) => {
                                        body = format!("{{\"RequestItems\":{obj}}}");
                                        retries.fetch_add(1, Ordering::Relaxed);
                                        tokio::time::sleep(Duration::from_millis(1 << attempt.min(6))).await;
                                    }
                                    None => break,
                                }
                            }
                            other => {
                                errors.fetch_add(1, Ordering::Relaxed);
                                consecutive_errors += 1;
                                if !printed.swap(true, Ordering::Relaxed) {
                                    match other {
                                        Ok((st, rb)) => eprintln!("ddb6 load: first error: HTTP {st}: {}", clip(&rb)),
                                        Err(e) => eprintln!("ddb6 load: first error: {e}"),
                                    }
                                }
                                tokio::time::sleep(Duration::from_millis(5)).await;
                                if consecutive_errors >= 100 {
                                    break;
                                }
                            }
                        }
                    }
                    if pending == 0 {
                        complete[b as usize].store(true, Ordering::Relaxed);
                    }
                }
            }));
        }
        for h in handles {
            let _ = h.await;
        }
    });
    let secs = start.elapsed().as_secs_f64();
    let loaded = done_items.load(Ordering::Relaxed);
    let first_incomplete = complete.iter().position(|b| !b.load(Ordering::Relaxed)).map(|b| b as u64 * BATCH).unwrap_or(items);
    let prefix = first_incomplete.min(items);
    println!(
        "{{\"table\":\"{table}\",\"from\":{from},\"requested\":{items},\"loaded\":{loaded},\"prefix\":{},\"complete\":{},\
         \"requests\":{},\"errors\":{},\"unprocessed_retries\":{},\"seconds\":{secs:.3},\"items_per_s\":{:.1},\
         \"connections\":{connections},\"item_bytes\":{item_bytes}}}",
        from + prefix,
        prefix >= items,
        requests.load(Ordering::Relaxed),
        errors.load(Ordering::Relaxed),
        retries.load(Ordering::Relaxed),
        loaded as f64 / secs.max(1e-9),
    );
}

// ---------------------------------------------------------------- timed runs

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Query,
    Batch,
    Transact,
}

struct Spec {
    kind: Kind,
    table: String,
    index: Option<String>,
    /// Query: complete partitions to choose from.
    partitions: u64,
    limit: u64,
    batch: usize,
    puts: usize,
    updates: usize,
    item_bytes: usize,
    tag: u64,
}

impl Spec {
    fn target(&self) -> &'static str {
        match self.kind {
            Kind::Query => "Query",
            Kind::Batch => "BatchWriteItem",
            Kind::Transact => "TransactWriteItems",
        }
    }

    fn query_body(&self, part: u64, out: &mut String) {
        out.clear();
        let (attr, prefix) = if self.index.is_some() { ("gpk", 'g') } else { ("pk", 'p') };
        out.push_str("{\"TableName\":\"");
        out.push_str(&self.table);
        out.push('"');
        if let Some(ix) = &self.index {
            out.push_str(",\"IndexName\":\"");
            out.push_str(ix);
            out.push('"');
        }
        use std::fmt::Write as _;
        let _ = write!(
            out,
            ",\"KeyConditionExpression\":\"{attr} = :p\",\"ExpressionAttributeValues\":{{\":p\":{{\"S\":\"{prefix}{part:07}\"}}}},\"Limit\":{}}}",
            self.limit
        );
    }

    /// The body of request `seq` of connection `conn`.
    fn body(&self, conn: usize, seq: u64, rng: &mut Rng, out: &mut String) {
        match self.kind {
            Kind::Query => {
                let part = rng.below(self.partitions);
                self.query_body(part, out);
            }
            Kind::Batch => {
                let keys: Vec<_> = (0..self.batch)
                    .map(|j| {
                        let pk = format!("b{:x}-{conn}-{seq}", self.tag);
                        (pk, format!("{j:02}"), format!("bg{:x}-{conn}-{}", self.tag, (seq as usize * self.batch + j) % 1000), format!("{seq:08}-{j:02}"))
                    })
                    .collect();
                batch_body(&self.table, &keys, self.item_bytes, rng, out);
            }
            Kind::Transact => {
                out.clear();
                out.push_str("{\"TransactItems\":[");
                let mut first = true;
                for j in 0..self.puts {
                    if !first {
                        out.push(',');
                    }
                    first = false;
                    out.push_str("{\"Put\":{\"TableName\":\"");
                    out.push_str(&self.table);
                    out.push_str("\",\"Item\":");
                    let pk = format!("t{:x}-{conn}-{seq}", self.tag);
                    let gpk = format!("tg{:x}-{conn}-{}", self.tag, seq % 1000);
                    push_item(&pk, &format!("{j:02}"), &gpk, &format!("{seq:08}-{j:02}"), self.item_bytes, rng, out);
                    out.push_str("}}");
                }
                for j in 0..self.updates {
                    if !first {
                        out.push(',');
                    }
                    first = false;
                    // Distinct counters within a transaction; private to this connection.
                    let k = (seq as usize * self.updates + j) % 64;
                    use std::fmt::Write as _;
                    let _ = write!(
                        out,
                        "{{\"Update\":{{\"TableName\":\"{}\",\"Key\":{{\"pk\":{{\"S\":\"ctr{:x}-{conn}-{k:02}\"}},\"sk\":{{\"S\":\"0\"}}}},\
                         \"UpdateExpression\":\"ADD n :one\",\"ExpressionAttributeValues\":{{\":one\":{{\"N\":\"1\"}}}}}}}}",
                        self.table, self.tag
                    );
                }
                out.push_str("]}");
            }
        }
    }

    /// Requests of one call.
    fn items_per_request(&self) -> u64 {
        match self.kind {
            Kind::Query => 1,
            Kind::Batch => self.batch as u64,
            Kind::Transact => (self.puts + self.updates) as u64,
        }
    }
}

struct Shared {
    issued: AtomicU64,
    printed_error: AtomicBool,
    max_requests: u64,
    deadline: Instant,
}

struct WorkerOut {
    hist: Histogram,
    ok: u64,
    errors: u64,
    unprocessed: u64,
    returned: u64,
}

/// `"Count":N` of a Query response.
fn count_of(body: &[u8]) -> Option<u64> {
    let at = find(body, b"\"Count\"")? + 7;
    let digits: String = body[at..]
        .iter()
        .copied()
        .skip_while(|b| b.is_ascii_whitespace() || *b == b':')
        .take_while(|b| b.is_ascii_digit())
        .map(|b| b as char)
        .collect();
    digits.parse().ok()
}

async fn worker(mut cl: Client, spec: Arc<Spec>, idx: usize, shared: Arc<Shared>) -> WorkerOut {
    let mut out = WorkerOut { hist: Histogram::default(), ok: 0, errors: 0, unprocessed: 0, returned: 0 };
    let mut rng = Rng::new(0x5151 + idx as u64 * 7919 + spec.tag);
    let mut body = String::with_capacity(8192);
    let target = format!("DynamoDB_20120810.{}", spec.target());
    let mut seq: u64 = 0;
    loop {
        if Instant::now() >= shared.deadline || shared.issued.fetch_add(1, Ordering::Relaxed) >= shared.max_requests {
            break;
        }
        spec.body(idx, seq, &mut rng, &mut body);
        seq += 1;
        cl.req.clear();
        cl.signer.write_request(now_secs(), &target, body.as_bytes(), &mut cl.req);
        let t0 = Instant::now();
        // A stuck server must not hang the run: give up 5 s past the deadline.
        let limit = shared.deadline.saturating_duration_since(t0) + Duration::from_secs(5);
        let res = match tokio::time::timeout(limit, cl.conn.roundtrip(&cl.req)).await {
            Ok(r) => r,
            Err(_) => {
                cl.conn.reset();
                Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "request timed out"))
            }
        };
        match res {
            Ok(r) if (200..300).contains(&r.status) => {
                out.hist.record(t0.elapsed().as_nanos() as u64);
                out.ok += 1;
                match spec.kind {
                    Kind::Batch => out.unprocessed += unprocessed(&r.body),
                    Kind::Query => out.returned += count_of(&r.body).unwrap_or(0),
                    Kind::Transact => {}
                }
            }
            Ok(r) => {
                out.errors += 1;
                if !shared.printed_error.swap(true, Ordering::Relaxed) {
                    eprintln!("ddb6: first error ({}): HTTP {}: {}", spec.target(), r.status, clip(&r.body));
                }
            }
            Err(e) => {
                out.errors += 1;
                if !shared.printed_error.swap(true, Ordering::Relaxed) {
                    eprintln!("ddb6: first error ({}): {e}", spec.target());
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
    }
    out
}

/// Five queries outside the timed loop: do they return `limit` items?
async fn verify(ep: &Endpoint, spec: &Spec) -> Result<(), String> {
    let mut cl = Client::new(ep).await.map_err(|e| format!("connect: {e}"))?;
    let mut rng = Rng::new(99);
    let mut body = String::new();
    for _ in 0..5 {
        spec.body(0, 0, &mut rng, &mut body);
        let (st, rb) = cl.call("Query", &body, Duration::from_secs(30)).await.map_err(|e| format!("Query: {e}"))?;
        if !(200..300).contains(&st) {
            return Err(format!("Query: HTTP {st}: {}", clip(&rb)));
        }
        if count_of(&rb) != Some(spec.limit) {
            return Err(format!("Query returned Count {:?}, not {}: {}", count_of(&rb), spec.limit, clip(&rb)));
        }
    }
    Ok(())
}

fn cmd_timed(a: &Args, kind: Kind) {
    let ep = parse_endpoint(&a.req("endpoint"));
    let connections: usize = a.num("connections", 1);
    if connections == 0 || connections > 256 {
        die("--connections must be 1..=256");
    }
    let duration = Duration::from_secs_f64(a.num("duration-secs", 10.0));
    let max_requests: u64 = a.num("max-requests", 1_000_000);
    let items: u64 = a.num("items", 0);
    let spec = Arc::new(Spec {
        kind,
        table: table_name(a),
        index: a.0.get("index").cloned().filter(|s| !s.is_empty()),
        partitions: (items / BLOCK) * PART,
        limit: a.num("limit", 10),
        batch: a.num::<usize>("batch", 25).clamp(1, 25),
        puts: a.num::<usize>("puts", 2).min(100),
        updates: a.num::<usize>("updates", 2).min(64),
        item_bytes: a.num("item-bytes", 150),
        tag: SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(1) & 0xffff_ffff_ffff,
    });
    if kind == Kind::Query && spec.partitions == 0 {
        die(&format!("--items must be at least {BLOCK} (complete partitions to query)"));
    }
    if kind == Kind::Transact && spec.puts + spec.updates == 0 {
        die("a transaction needs --puts or --updates");
    }
    let rt = runtime();
    let (verified, outs, secs) = rt.block_on(async {
        let verified = if kind == Kind::Query {
            match verify(&ep, &spec).await {
                Ok(()) => true,
                Err(e) => {
                    eprintln!("ddb6 query: WARNING: {e}");
                    false
                }
            }
        } else {
            true
        };
        let mut clients = Vec::new();
        for _ in 0..connections {
            match Client::new(&ep).await {
                Ok(c) => clients.push(c),
                Err(e) => die(&format!("connect {}: {e}", ep.host)),
            }
        }
        let start = Instant::now();
        let shared = Arc::new(Shared {
            issued: AtomicU64::new(0),
            printed_error: AtomicBool::new(false),
            max_requests,
            deadline: start + duration,
        });
        let handles: Vec<_> = clients
            .into_iter()
            .enumerate()
            .map(|(i, c)| tokio::spawn(worker(c, spec.clone(), i, shared.clone())))
            .collect();
        let mut outs = Vec::new();
        for h in handles {
            if let Ok(o) = h.await {
                outs.push(o);
            }
        }
        (verified, outs, start.elapsed().as_secs_f64())
    });
    let mut hist = Histogram::default();
    let (mut ok, mut errors, mut unproc, mut returned) = (0u64, 0u64, 0u64, 0u64);
    for o in &outs {
        hist.merge(&o.hist);
        ok += o.ok;
        errors += o.errors;
        unproc += o.unprocessed;
        returned += o.returned;
    }
    let us = |ns: u64| (ns as f64 / 100.0).round() / 10.0;
    let op = match kind {
        Kind::Query => if spec.index.is_some() { "query_gsi" } else { "query_table" },
        Kind::Batch => "batchwrite",
        Kind::Transact => "transactwrite",
    };
    let extra = match kind {
        Kind::Query => format!(
            ",\"partitions\":{},\"limit\":{},\"verified\":{verified},\"avg_returned\":{:.2}",
            spec.partitions,
            spec.limit,
            returned as f64 / ok.max(1) as f64
        ),
        Kind::Batch => format!(
            ",\"batch\":{},\"unprocessed\":{unproc},\"items_per_s\":{:.1}",
            spec.batch,
            (ok * spec.items_per_request()).saturating_sub(unproc) as f64 / secs.max(1e-9)
        ),
        Kind::Transact => format!(
            ",\"puts\":{},\"updates\":{},\"items_per_s\":{:.1}",
            spec.puts,
            spec.updates,
            (ok * spec.items_per_request()) as f64 / secs.max(1e-9)
        ),
    };
    println!(
        "{{\"op\":\"{op}\",\"table\":\"{}\",\"connections\":{connections},\"requests\":{},\"errors\":{errors},\
         \"seconds\":{secs:.3},\"rps\":{:.1},\"p50_us\":{},\"p99_us\":{},\"max_us\":{}{extra}}}",
        spec.table,
        ok + errors,
        ok as f64 / secs.max(1e-9),
        us(hist.quantile(0.50)),
        us(hist.quantile(0.99)),
        us(hist.max()),
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let sub = args.next().unwrap_or_default();
    let a = Args::parse(args);
    match sub.as_str() {
        "wait" => cmd_wait(&a),
        "create" => cmd_create(&a),
        "load" => cmd_load(&a),
        "query" => cmd_timed(&a, Kind::Query),
        "batch" => cmd_timed(&a, Kind::Batch),
        "transact" => cmd_timed(&a, Kind::Transact),
        _ => {
            eprintln!("usage: ddb6 wait|create|load|query|batch|transact --endpoint http://127.0.0.1:PORT --table T ... (see the top of src/bin/ddb6.rs)");
            exit(2);
        }
    }
}
