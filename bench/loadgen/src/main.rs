//! `loadgen`: closed-loop load generator for DynamoDB-JSON-1.0 endpoints.
//!
//! Subcommands (first argument; default `run`):
//!   run    --endpoint URL --op getitem|putitem|query|listtables --connections N
//!          --duration-secs S --max-requests M --table T [--threads K] [--label L]
//!   setup  --endpoint URL --table T [--items N --connections C --max-secs S]
//!          create the table, preload hot keys + the query partition, verify, then
//!          optionally bulk-load N items
//!   load   like setup but only the bulk load
//!   wait   --endpoint URL --since EPOCH_SECS[.frac] [--timeout-secs S] [--pid PID]
//!          poll ListTables until a 2xx; print ms elapsed since --since
//!          (fails at once if PID exits)
//!   sign   --endpoint URL --time EPOCH_SECS --target T --body B
//!          print the signed request (for cross-checking against botocore)
//!
//! Every loop is bounded by time and count; only loopback endpoints are accepted.

mod hist;
mod http;
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

const TARGET_PREFIX: &str = "DynamoDB_20120810.";
const QUERY_PK: &str = "q";

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
    eprintln!("loadgen: {msg}");
    exit(2)
}

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

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn runtime(threads: usize) -> tokio::runtime::Runtime {
    let mut b = if threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(threads);
        b
    };
    b.enable_all().build().unwrap_or_else(|e| die(&format!("runtime: {e}")))
}

/// Cheap deterministic filler (xorshift), alphanumeric so it needs no JSON escaping.
struct Filler(u64);
impl Filler {
    fn push(&mut self, n: usize, out: &mut String) {
        const ALPHA: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        for _ in 0..n {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            out.push(ALPHA[(self.0 % ALPHA.len() as u64) as usize] as char);
        }
    }
}

/// PutItem body for an item of about `item_bytes` by DynamoDB's size rules
/// (attribute names + values): pk, sk, data.
fn put_body(table: &str, pk: &str, sk: &str, item_bytes: usize, f: &mut Filler, out: &mut String) {
    let fixed = "pk".len() + pk.len() + "sk".len() + sk.len() + "data".len();
    let n = item_bytes.saturating_sub(fixed).max(1);
    out.clear();
    out.push_str("{\"TableName\":\"");
    out.push_str(table);
    out.push_str("\",\"Item\":{\"pk\":{\"S\":\"");
    out.push_str(pk);
    out.push_str("\"},\"sk\":{\"S\":\"");
    out.push_str(sk);
    out.push_str("\"},\"data\":{\"S\":\"");
    f.push(n, out);
    out.push_str("\"}}}");
}

fn get_body(table: &str, pk: &str, sk: &str, out: &mut String) {
    out.clear();
    out.push_str("{\"TableName\":\"");
    out.push_str(table);
    out.push_str("\",\"Key\":{\"pk\":{\"S\":\"");
    out.push_str(pk);
    out.push_str("\"},\"sk\":{\"S\":\"");
    out.push_str(sk);
    out.push_str("\"}}}");
}

fn query_body(table: &str, limit: usize) -> String {
    format!(
        "{{\"TableName\":\"{table}\",\"KeyConditionExpression\":\"pk = :p\",\
         \"ExpressionAttributeValues\":{{\":p\":{{\"S\":\"{QUERY_PK}\"}}}},\"Limit\":{limit}}}"
    )
}

fn hot_pk(i: usize) -> String {
    format!("hot-{i:04}")
}

fn squash(body: &[u8]) -> String {
    String::from_utf8_lossy(body).chars().filter(|c| !c.is_whitespace()).collect()
}

/// One signed request on one connection; Ok((status, body)).
async fn call(conn: &mut Conn, signer: &mut Signer, op: &str, body: &str) -> std::io::Result<(u16, Vec<u8>)> {
    let mut req = Vec::with_capacity(512 + body.len());
    signer.write_request(now_secs(), &format!("{TARGET_PREFIX}{op}"), body.as_bytes(), &mut req);
    let r = conn.roundtrip(&req).await?;
    Ok((r.status, r.body))
}

// ---------------------------------------------------------------- run

#[derive(Clone, Copy, PartialEq)]
enum Op {
    GetItem,
    PutItem,
    Query,
    ListTables,
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
}

struct Spec {
    op: Op,
    table: String,
    hot_keys: usize,
    item_bytes: usize,
    query_limit: usize,
    run_tag: u64,
}

async fn worker(mut conn: Conn, host: String, spec: Arc<Spec>, idx: usize, shared: Arc<Shared>) -> WorkerOut {
    let mut signer = Signer::new("test", "test", "us-east-1", &host);
    let mut out = WorkerOut { hist: Histogram::default(), ok: 0, errors: 0 };
    let mut body = String::with_capacity(512);
    let mut req = Vec::with_capacity(1024);
    let mut filler = Filler(0x9E37_79B9_7F4A_7C15 ^ (idx as u64 + 1).wrapping_mul(0x1234_5678_9abc_def1));
    let target = match spec.op {
        Op::GetItem => "DynamoDB_20120810.GetItem",
        Op::PutItem => "DynamoDB_20120810.PutItem",
        Op::Query => "DynamoDB_20120810.Query",
        Op::ListTables => "DynamoDB_20120810.ListTables",
    };
    if spec.op == Op::Query {
        body = query_body(&spec.table, spec.query_limit);
    } else if spec.op == Op::ListTables {
        body = "{}".to_string();
    }
    let mut seq: u64 = 0;
    let mut hot = idx * 7;
    loop {
        if Instant::now() >= shared.deadline || shared.issued.fetch_add(1, Ordering::Relaxed) >= shared.max_requests {
            break;
        }
        match spec.op {
            Op::GetItem => {
                hot = (hot + 1) % spec.hot_keys;
                get_body(&spec.table, &hot_pk(hot), "0", &mut body);
            }
            Op::PutItem => {
                let pk = format!("put-{:x}-{idx}-{seq}", spec.run_tag);
                put_body(&spec.table, &pk, "0", spec.item_bytes, &mut filler, &mut body);
            }
            Op::Query | Op::ListTables => {}
        }
        seq += 1;
        req.clear();
        signer.write_request(now_secs(), target, body.as_bytes(), &mut req);
        let t0 = Instant::now();
        // A stuck server must not hang the run: give up 5 s past the deadline.
        let limit = shared.deadline.saturating_duration_since(t0) + Duration::from_secs(5);
        let res = match tokio::time::timeout(limit, conn.roundtrip(&req)).await {
            Ok(r) => r,
            Err(_) => {
                conn.reset();
                Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "request timed out"))
            }
        };
        match res {
            Ok(r) if (200..300).contains(&r.status) => {
                out.hist.record(t0.elapsed().as_nanos() as u64);
                out.ok += 1;
            }
            Ok(r) => {
                out.errors += 1;
                if !shared.printed_error.swap(true, Ordering::Relaxed) {
                    eprintln!("loadgen: first error: HTTP {}: {}", r.status, String::from_utf8_lossy(&r.body));
                }
            }
            Err(e) => {
                out.errors += 1;
                if !shared.printed_error.swap(true, Ordering::Relaxed) {
                    eprintln!("loadgen: first error: {e}");
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
    }
    out
}

fn cmd_run(a: &Args) {
    let ep = parse_endpoint(&a.req("endpoint"));
    let op_name = a.req("op").to_ascii_lowercase();
    let op = match op_name.as_str() {
        "getitem" => Op::GetItem,
        "putitem" => Op::PutItem,
        "query" => Op::Query,
        "listtables" => Op::ListTables,
        o => die(&format!("unknown --op {o}")),
    };
    let connections: usize = a.num("connections", 1);
    let duration = Duration::from_secs_f64(a.num("duration-secs", 10.0));
    let max_requests: u64 = a.num("max-requests", 10_000_000);
    let threads: usize = a.num("threads", 1);
    let spec = Arc::new(Spec {
        op,
        table: a.str("table", "bench"),
        hot_keys: a.num::<usize>("hot-keys", 100).max(1),
        item_bytes: a.num("item-bytes", 150),
        query_limit: a.num("query-limit", 10),
        run_tag: SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(1),
    });
    if connections == 0 || connections > 1024 {
        die("--connections must be 1..=1024");
    }
    let rt = runtime(threads);
    let (outs, secs) = rt.block_on(async {
        let mut conns = Vec::new();
        for _ in 0..connections {
            match tokio::time::timeout(Duration::from_secs(5), Conn::connect(ep.addr)).await {
                Ok(Ok(c)) => conns.push(c),
                Ok(Err(e)) => die(&format!("connect {}: {e}", ep.host)),
                Err(_) => die(&format!("connect {}: timeout", ep.host)),
            }
        }
        let start = Instant::now();
        let shared = Arc::new(Shared {
            issued: AtomicU64::new(0),
            printed_error: AtomicBool::new(false),
            max_requests,
            deadline: start + duration,
        });
        let handles: Vec<_> = conns
            .into_iter()
            .enumerate()
            .map(|(i, c)| tokio::spawn(worker(c, ep.host.clone(), spec.clone(), i, shared.clone())))
            .collect();
        let mut outs = Vec::new();
        for h in handles {
            if let Ok(o) = h.await {
                outs.push(o);
            }
        }
        (outs, start.elapsed().as_secs_f64())
    });
    let mut hist = Histogram::default();
    let (mut ok, mut errors) = (0u64, 0u64);
    for o in &outs {
        hist.merge(&o.hist);
        ok += o.ok;
        errors += o.errors;
    }
    debug_assert_eq!(ok, hist.count());
    let us = |ns: u64| (ns as f64 / 100.0).round() / 10.0;
    let label = a.0.get("label").map(|l| format!("\"target\":\"{l}\",")).unwrap_or_default();
    println!(
        "{{{label}\"op\":\"{op_name}\",\"connections\":{connections},\"requests\":{},\"errors\":{errors},\
         \"seconds\":{:.3},\"rps\":{:.1},\"p50_us\":{},\"p99_us\":{},\"max_us\":{}}}",
        ok + errors,
        secs,
        ok as f64 / secs.max(1e-9),
        us(hist.quantile(0.50)),
        us(hist.quantile(0.99)),
        us(hist.max()),
    );
}

// ---------------------------------------------------------------- setup / load

async fn setup(ep: &Endpoint, table: &str, hot_keys: usize, query_items: usize, item_bytes: usize) -> Result<String, String> {
    let mut conn = Conn::connect(ep.addr).await.map_err(|e| format!("connect: {e}"))?;
    let mut s = Signer::new("test", "test", "us-east-1", &ep.host);
    let t0 = Instant::now();
    let create = format!(
        "{{\"TableName\":\"{table}\",\"AttributeDefinitions\":[{{\"AttributeName\":\"pk\",\"AttributeType\":\"S\"}},\
         {{\"AttributeName\":\"sk\",\"AttributeType\":\"S\"}}],\"KeySchema\":[{{\"AttributeName\":\"pk\",\"KeyType\":\"HASH\"}},\
         {{\"AttributeName\":\"sk\",\"KeyType\":\"RANGE\"}}],\"BillingMode\":\"PAY_PER_REQUEST\"}}"
    );
    let (st, body) = call(&mut conn, &mut s, "CreateTable", &create).await.map_err(|e| format!("CreateTable: {e}"))?;
    if !(200..300).contains(&st) && !String::from_utf8_lossy(&body).contains("ResourceInUseException") {
        return Err(format!("CreateTable: HTTP {st}: {}", String::from_utf8_lossy(&body)));
    }
    // Wait for ACTIVE (dynalite/moto may report CREATING first); bounded at 30 s / 30k polls.
    let describe = format!("{{\"TableName\":\"{table}\"}}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut active = false;
    for _ in 0..30_000 {
        let (st, body) = call(&mut conn, &mut s, "DescribeTable", &describe).await.map_err(|e| format!("DescribeTable: {e}"))?;
        if (200..300).contains(&st) && squash(&body).contains("\"TableStatus\":\"ACTIVE\"") {
            active = true;
            break;
        }
        if Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    if !active {
        return Err("table did not become ACTIVE within 30 s".into());
    }
    let create_ms = t0.elapsed().as_secs_f64() * 1e3;
    let mut f = Filler(42);
    let mut body = String::new();
    for i in 0..hot_keys {
        put_body(table, &hot_pk(i), "0", item_bytes, &mut f, &mut body);
        let (st, rb) = call(&mut conn, &mut s, "PutItem", &body).await.map_err(|e| format!("PutItem: {e}"))?;
        if !(200..300).contains(&st) {
            return Err(format!("PutItem: HTTP {st}: {}", String::from_utf8_lossy(&rb)));
        }
    }
    for i in 0..query_items {
        put_body(table, QUERY_PK, &format!("{i:04}"), item_bytes, &mut f, &mut body);
        let (st, rb) = call(&mut conn, &mut s, "PutItem", &body).await.map_err(|e| format!("PutItem: {e}"))?;
        if !(200..300).contains(&st) {
            return Err(format!("PutItem: HTTP {st}: {}", String::from_utf8_lossy(&rb)));
        }
    }
    // Verify that the data reads back as the benchmark expects.
    let mut problems = Vec::new();
    get_body(table, &hot_pk(0), "0", &mut body);
    let (st, rb) = call(&mut conn, &mut s, "GetItem", &body).await.map_err(|e| format!("GetItem: {e}"))?;
    if !(200..300).contains(&st) || !squash(&rb).contains("\"Item\":{") {
        problems.push(format!("GetItem did not return the item: HTTP {st}: {}", String::from_utf8_lossy(&rb)));
    }
    let (st, rb) = call(&mut conn, &mut s, "Query", &query_body(table, 10)).await.map_err(|e| format!("Query: {e}"))?;
    if !(200..300).contains(&st) || !squash(&rb).contains("\"Count\":10") {
        let t = String::from_utf8_lossy(&rb);
        problems.push(format!("Query did not return 10 items: HTTP {st}: {}", &t[..t.len().min(300)]));
    }
    for p in &problems {
        eprintln!("loadgen setup: WARNING: {p}");
    }
    Ok(format!(
        "\"create_ms\":{create_ms:.1},\"preloaded\":{},\"verified\":{}",
        hot_keys + query_items,
        problems.is_empty()
    ))
}

async fn bulk_load(ep: &Endpoint, table: &str, items: u64, connections: usize, max_secs: f64, item_bytes: usize) -> String {
    let next = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let printed = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(max_secs);
    let mut handles = Vec::new();
    for c in 0..connections {
        let (next, done, errors, printed) = (next.clone(), done.clone(), errors.clone(), printed.clone());
        let (addr, host, table) = (ep.addr, ep.host.clone(), table.to_string());
        handles.push(tokio::spawn(async move {
            let Ok(mut conn) = Conn::connect(addr).await else {
                errors.fetch_add(1, Ordering::Relaxed);
                return;
            };
            let mut s = Signer::new("test", "test", "us-east-1", &host);
            let mut f = Filler(7 + c as u64);
            let mut body = String::new();
            let mut req = Vec::new();
            let mut consecutive_errors = 0;
            while Instant::now() < deadline && consecutive_errors < 100 {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= items {
                    break;
                }
                put_body(&table, &format!("item-{i:08}"), "0", item_bytes, &mut f, &mut body);
                req.clear();
                s.write_request(now_secs(), "DynamoDB_20120810.PutItem", body.as_bytes(), &mut req);
                let res = match tokio::time::timeout(Duration::from_secs(10), conn.roundtrip(&req)).await {
                    Ok(r) => r,
                    Err(_) => {
                        conn.reset();
                        Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "request timed out"))
                    }
                };
                match res {
                    Ok(r) if (200..300).contains(&r.status) => {
                        done.fetch_add(1, Ordering::Relaxed);
                        consecutive_errors = 0;
                    }
                    other => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        consecutive_errors += 1;
                        if !printed.swap(true, Ordering::Relaxed) {
                            match other {
                                Ok(r) => eprintln!("loadgen load: first error: HTTP {}: {}", r.status, String::from_utf8_lossy(&r.body)),
                                Err(e) => eprintln!("loadgen load: first error: {e}"),
                            }
                        }
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                }
            }
        }));
    }
    for h in handles {
        let _ = h.await;
    }
    let secs = start.elapsed().as_secs_f64();
    let n = done.load(Ordering::Relaxed);
    format!(
        "\"loaded\":{n},\"requested\":{items},\"load_errors\":{},\"load_seconds\":{secs:.3},\"load_rps\":{:.1},\"complete\":{}",
        errors.load(Ordering::Relaxed),
        n as f64 / secs.max(1e-9),
        n >= items
    )
}

fn cmd_setup(a: &Args, create: bool) {
    let ep = parse_endpoint(&a.req("endpoint"));
    let table = a.str("table", "bench");
    let items: u64 = a.num("items", 0);
    let connections: usize = a.num::<usize>("connections", 4).clamp(1, 256);
    let max_secs: f64 = a.num("max-secs", 300.0);
    let item_bytes: usize = a.num("item-bytes", 150);
    let rt = runtime(a.num("threads", 1));
    let mut parts = Vec::new();
    rt.block_on(async {
        if create {
            match tokio::time::timeout(
                Duration::from_secs(120),
                setup(&ep, &table, a.num("hot-keys", 100), a.num("query-items", 100), item_bytes),
            )
            .await
            {
                Ok(Ok(s)) => parts.push(s),
                Ok(Err(e)) => {
                    eprintln!("loadgen setup: {e}");
                    println!("{{\"setup\":\"error\"}}");
                    exit(1);
                }
                Err(_) => {
                    eprintln!("loadgen setup: timed out");
                    println!("{{\"setup\":\"error\"}}");
                    exit(1);
                }
            }
        }
        if items > 0 {
            parts.push(bulk_load(&ep, &table, items, connections, max_secs, item_bytes).await);
        }
    });
    println!("{{\"setup\":\"ok\",{}}}", parts.join(","));
}

// ---------------------------------------------------------------- wait / sign

fn cmd_wait(a: &Args) {
    let ep = parse_endpoint(&a.req("endpoint"));
    let since: f64 = a.req("since").replace(',', ".").parse().unwrap_or_else(|_| die("bad --since"));
    let timeout = Duration::from_secs_f64(a.num("timeout-secs", 60.0));
    let pid: Option<u32> = a.0.get("pid").map(|p| p.parse().unwrap_or_else(|_| die("bad --pid")));
    let rt = runtime(1);
    let start = Instant::now();
    let ok = rt.block_on(async {
        let mut s = Signer::new("test", "test", "us-east-1", &ep.host);
        let mut req = Vec::new();
        // 1 ms between attempts, bounded by the timeout (and so by count).
        while start.elapsed() < timeout {
            if let Some(pid) = pid {
                if !process_alive(pid) {
                    eprintln!("loadgen wait: process {pid} exited before it was ready");
                    return false;
                }
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

/// False once /proc/PID is gone or the process is a zombie.
fn process_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // state is the field after the parenthesised command name
        Ok(s) => s.rsplit_once(')').map(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X'])).unwrap_or(true),
        Err(_) => false,
    }
}

fn cmd_sign(a: &Args) {
    let ep = parse_endpoint(&a.req("endpoint"));
    let mut s = Signer::new(&a.str("access-key", "test"), &a.str("secret", "test"), "us-east-1", &ep.host);
    let mut out = Vec::new();
    s.write_request(a.num("time", now_secs()), &a.str("target", "DynamoDB_20120810.ListTables"), a.str("body", "{}").as_bytes(), &mut out);
    print!("{}", String::from_utf8_lossy(&out));
}

fn main() {
    let mut args = std::env::args().skip(1).peekable();
    let sub = match args.peek().map(|s| s.as_str()) {
        Some("run" | "setup" | "load" | "wait" | "sign") => args.next().unwrap_or_default(),
        Some("-h" | "--help") | None => {
            eprintln!("{}", include_str!("usage.txt"));
            exit(if args.peek().is_none() { 2 } else { 0 });
        }
        _ => "run".to_string(),
    };
    let a = Args::parse(args);
    match sub.as_str() {
        "run" => cmd_run(&a),
        "setup" => cmd_setup(&a, true),
        "load" => cmd_setup(&a, false),
        "wait" => cmd_wait(&a),
        "sign" => cmd_sign(&a),
        _ => unreachable!(),
    }
}
