//! `loadgen`: closed-loop load generator for DynamoDB-JSON-1.0 endpoints.
//!
//! Subcommands (first argument; default `run`):
//!   run    --endpoint URL --op getitem|putitem|query|listtables|invoke|get --connections N
//!          --duration-secs S --max-requests M --table T [--threads K] [--label L]
//!          [--function NAME] (invoke: SigV4-signed Lambda Invoke, service `lambda`)
//!          [--path /hello] (get: plain GET on the gateway) [--expect TEXT] [--window N]
//!   setup  --endpoint URL --table T [--items N --connections C --max-secs S]
//!          create the table, preload hot keys + the query partition, verify, then
//!          optionally bulk-load N items
//!   load   like setup but only the bulk load
//!   wait   --endpoint URL --since EPOCH_SECS[.frac] [--timeout-secs S] [--pid PID]
//!          [--get PATH] [--any-status]
//!          poll ListTables (or GET PATH) until a 2xx (or any answer); print ms elapsed
//!          since --since (fails at once if PID exits)
//!   sign   --endpoint URL --time EPOCH_SECS --target T --body B
//!          print the signed request (for cross-checking against botocore);
//!          with --service lambda --method POST --path P: a REST-JSON request
//!   cold   --endpoint URL --function NAME --bump FILE --log FILE [--samples 10]
//!          [--settle-ms 700] [--baseline "PROGRAM ARGS"]: cold invocations, each after a code
//!          change (hot reload), each paired with one timed run of the baseline program
//!   spawn  [--runs 20] [--clear-env] -- PROGRAM ARGS...: median time to run a program to its
//!          exit (--clear-env: with only PATH in its environment, as Stratus starts functions)
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
    /// Lambda Invoke: `POST /2015-03-31/functions/NAME/invocations`, SigV4 service `lambda`.
    Invoke,
    /// A plain `GET PATH` (the gateway).
    Get,
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
    /// Per `window` successes: (seconds since start, p50 ns, p99 ns) of that window.
    windows: Vec<(f64, u64, u64)>,
}

struct Spec {
    op: Op,
    table: String,
    hot_keys: usize,
    item_bytes: usize,
    query_limit: usize,
    run_tag: u64,
    /// invoke: the function name; get: the path.
    function: String,
    path: String,
    /// A 2xx response whose body lacks this counts as an error.
    expect: Option<String>,
    window: u64,
    start: Instant,
}

async fn worker(mut conn: Conn, host: String, spec: Arc<Spec>, idx: usize, shared: Arc<Shared>) -> WorkerOut {
    let mut signer = match spec.op {
        Op::Invoke => Signer::for_service("test", "test", "us-east-1", &host, "lambda"),
        _ => Signer::from_env("us-east-1", &host),
    };
    let mut out = WorkerOut { hist: Histogram::default(), ok: 0, errors: 0, windows: Vec::new() };
    let mut window_hist = Histogram::default();
    let invoke_path = format!("/2015-03-31/functions/{}/invocations", spec.function);
    let get_request = format!("GET {} HTTP/1.1\r\nHost: {host}\r\nAccept: */*\r\n\r\n", spec.path);
    let mut body = String::with_capacity(512);
    let mut req = Vec::with_capacity(1024);
    let mut filler = Filler(0x9E37_79B9_7F4A_7C15 ^ (idx as u64 + 1).wrapping_mul(0x1234_5678_9abc_def1));
    let target = match spec.op {
        Op::GetItem => "DynamoDB_20120810.GetItem",
        Op::PutItem => "DynamoDB_20120810.PutItem",
        Op::Query => "DynamoDB_20120810.Query",
        Op::ListTables => "DynamoDB_20120810.ListTables",
        Op::Invoke | Op::Get => "",
    };
    if spec.op == Op::Query {
        body = query_body(&spec.table, spec.query_limit);
    } else if spec.op == Op::ListTables || spec.op == Op::Invoke {
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
            Op::Query | Op::ListTables | Op::Invoke | Op::Get => {}
        }
        seq += 1;
        req.clear();
        match spec.op {
            Op::Invoke => signer.write_rest_request(now_secs(), "POST", &invoke_path, body.as_bytes(), &mut req),
            Op::Get => req.extend_from_slice(get_request.as_bytes()),
            _ => signer.write_request(now_secs(), target, body.as_bytes(), &mut req),
        }
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
            Ok(r) if (200..300).contains(&r.status) && !r.function_error && body_expected(&spec, &r.body) => {
                let ns = t0.elapsed().as_nanos() as u64;
                out.hist.record(ns);
                out.ok += 1;
                if spec.window > 0 {
                    window_hist.record(ns);
                    if out.ok % spec.window == 0 {
                        out.windows.push((
                            spec.start.elapsed().as_secs_f64(),
                            window_hist.quantile(0.50),
                            window_hist.quantile(0.99),
                        ));
                        window_hist = Histogram::default();
                    }
                }
            }
            Ok(r) => {
                out.errors += 1;
                if !shared.printed_error.swap(true, Ordering::Relaxed) {
                    let what = if r.function_error { " (X-Amz-Function-Error)" } else { "" };
                    eprintln!("loadgen: first error: HTTP {}{what}: {}", r.status, String::from_utf8_lossy(&r.body));
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

fn body_expected(spec: &Spec, body: &[u8]) -> bool {
    match &spec.expect {
        None => true,
        Some(text) => body.windows(text.len().max(1)).any(|w| w == text.as_bytes()),
    }
}

fn cmd_run(a: &Args) {
    let ep = parse_endpoint(&a.req("endpoint"));
    let op_name = a.req("op").to_ascii_lowercase();
    let op = match op_name.as_str() {
        "getitem" => Op::GetItem,
        "putitem" => Op::PutItem,
        "query" => Op::Query,
        "listtables" => Op::ListTables,
        "invoke" => Op::Invoke,
        "get" => Op::Get,
        o => die(&format!("unknown --op {o}")),
    };
    let window: u64 = a.num("window", 0);
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
        function: a.str("function", "bench"),
        path: a.str("path", "/"),
        expect: a.0.get("expect").cloned(),
        window,
        start: Instant::now(), // reset below, just before the workers start
    });
    if connections == 0 || connections > 1024 {
        die("--connections must be 1..=1024");
    }
    if window > 0 && connections != 1 {
        die("--window needs --connections 1");
    }
    if !spec.path.starts_with('/') || spec.path.contains([' ', '\r', '\n']) {
        die("--path must start with / and hold no spaces");
    }
    if spec.function.is_empty() || !spec.function.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        die("--function must be a plain function name");
    }
    let mut spec = spec;
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
        if let Some(s) = Arc::get_mut(&mut spec) {
            s.start = start;
        }
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
    let mut windows = String::new();
    if window > 0 {
        let marks: Vec<(f64, u64, u64)> = outs.iter().flat_map(|o| o.windows.iter().copied()).collect();
        let mut last = 0.0;
        let parts: Vec<String> = marks
            .iter()
            .map(|&(t, p50, p99)| {
                let rps = window as f64 / (t - last).max(1e-9);
                last = t;
                format!("{{\"rps\":{rps:.1},\"p50_us\":{},\"p99_us\":{}}}", us(p50), us(p99))
            })
            .collect();
        windows = format!(",\"window\":{window},\"windows\":[{}]", parts.join(","));
    }
    println!(
        "{{{label}\"op\":\"{op_name}\",\"connections\":{connections},\"requests\":{},\"errors\":{errors},\
         \"seconds\":{:.3},\"rps\":{:.1},\"p50_us\":{},\"p99_us\":{},\"max_us\":{}{windows}}}",
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
    // --get PATH: poll a plain GET (e.g. /_stratus/health on the API port) instead of ListTables.
    let get: Option<String> = a.0.get("get").cloned();
    // --any-status: any HTTP answer counts (the port is up), not only a 2xx.
    let any_status = a.0.contains_key("any-status");
    if get.as_deref().is_some_and(|p| !p.starts_with('/') || p.contains([' ', '\r', '\n'])) {
        die("--get must be a path");
    }
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
            match &get {
                Some(path) => req.extend_from_slice(format!("GET {path} HTTP/1.1\r\nHost: {}\r\n\r\n", ep.host).as_bytes()),
                None => s.write_request(now_secs(), "DynamoDB_20120810.ListTables", b"{}", &mut req),
            }
            let attempt = async {
                let mut c = Conn::connect(ep.addr).await?;
                c.roundtrip(&req).await
            };
            if let Ok(Ok(r)) = tokio::time::timeout(Duration::from_secs(2), attempt).await {
                if any_status || (200..300).contains(&r.status) {
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
    let service = a.str("service", "dynamodb");
    let mut s = Signer::for_service(&a.str("access-key", "test"), &a.str("secret", "test"), "us-east-1", &ep.host, &service);
    let mut out = Vec::new();
    if let Some(path) = a.0.get("path") {
        s.write_rest_request(a.num("time", now_secs()), &a.str("method", "POST"), path, a.str("body", "{}").as_bytes(), &mut out);
    } else {
        s.write_request(a.num("time", now_secs()), &a.str("target", "DynamoDB_20120810.ListTables"), a.str("body", "{}").as_bytes(), &mut out);
    }
    print!("{}", String::from_utf8_lossy(&out));
}

// ---------------------------------------------------------------- cold / spawn

fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    Some(if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 })
}

fn json_num(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.2}")).unwrap_or_else(|| "null".into())
}

fn json_list(v: &[f64]) -> String {
    format!("[{}]", v.iter().map(|x| format!("{x:.2}")).collect::<Vec<_>>().join(","))
}

/// The file's text from byte `from` on (at most 16 MB).
fn read_from(path: &str, from: u64) -> std::io::Result<String> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(path)?;
    f.seek(SeekFrom::Start(from))?;
    let mut bytes = Vec::new();
    f.take(16 << 20).read_to_end(&mut bytes)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The REPORT line of `request_id` in a Stratus log: (Duration ms, Init Duration ms).
fn report_of(log: &str, request_id: &str) -> Option<(f64, Option<f64>)> {
    let line = log.lines().rev().find(|l| l.contains("REPORT RequestId: ") && l.contains(request_id))?;
    let field = |name: &str| -> Option<f64> {
        let at = line.find(name)? + name.len();
        line[at..].split_whitespace().next()?.parse().ok()
    };
    Some((field("\tDuration: ")?, field("Init Duration: ")))
}

/// Cold invocations through the Invoke API: for each sample, change a file in the function's
/// code folder (hot reload retires the warm instance), wait for the watcher to notice, then time
/// one invocation. The Stratus log (its stdout) gives each invocation's REPORT line, so a sample
/// counts as cold only if its REPORT has an Init Duration.
fn cmd_cold(a: &Args) {
    let ep = parse_endpoint(&a.req("endpoint"));
    let function = a.req("function");
    let bump = std::path::PathBuf::from(a.req("bump"));
    let log_path = a.req("log");
    let samples: usize = a.num::<usize>("samples", 10).clamp(1, 1000);
    let settle = Duration::from_millis(a.num("settle-ms", 700));
    let expect = a.0.get("expect").cloned();
    // --baseline "PROGRAM ARGS": timed once before each sample (spawn to exit), so that the
    // interpreter's own start-up and the cold start are measured side by side, in pairs.
    let baseline: Vec<String> = a.str("baseline", "").split_whitespace().map(str::to_string).collect();
    let clear_env = a.0.contains_key("clear-env");
    let rt = runtime(1);
    let path = format!("/2015-03-31/functions/{function}/invocations");
    let (mut lat, mut init, mut dur, mut warm) = (Vec::new(), Vec::new(), Vec::new(), 0usize);
    let (mut base, mut diff) = (Vec::new(), Vec::new());
    rt.block_on(async {
        let mut signer = Signer::for_service("test", "test", "us-east-1", &ep.host, "lambda");
        let mut req = Vec::new();
        for i in 0..samples {
            let base_ms = baseline.split_first().map(|(program, args)| time_program(program, args, clear_env));
            if let Err(e) = std::fs::write(&bump, format!("{i} {:?}\n", SystemTime::now())) {
                die(&format!("cannot write {}: {e}", bump.display()));
            }
            tokio::time::sleep(settle).await;
            let Ok(Ok(mut conn)) = tokio::time::timeout(Duration::from_secs(5), Conn::connect(ep.addr)).await else {
                die("cannot connect");
            };
            conn.capture_request_id = true;
            req.clear();
            signer.write_rest_request(now_secs(), "POST", &path, b"{}", &mut req);
            // Only the log written from here on is searched for this invocation's REPORT.
            let log_from = std::fs::metadata(&log_path).map(|m| m.len()).unwrap_or(0);
            let t0 = Instant::now();
            let r = match tokio::time::timeout(Duration::from_secs(30), conn.roundtrip(&req)).await {
                Ok(Ok(r)) => r,
                Ok(Err(e)) => die(&format!("cold invoke: {e}")),
                Err(_) => die("cold invoke timed out"),
            };
            let ms = t0.elapsed().as_secs_f64() * 1e3;
            if !(200..300).contains(&r.status) || r.function_error || !expect.as_ref().is_none_or(|t| squash(&r.body).contains(t.as_str())) {
                die(&format!("cold invoke failed: HTTP {}: {}", r.status, String::from_utf8_lossy(&r.body)));
            }
            let id = r.request_id.unwrap_or_default();
            // The REPORT line follows the response by a little (it waits for the output's end).
            let mut report = None;
            for _ in 0..200 {
                if let Ok(text) = read_from(&log_path, log_from) {
                    report = report_of(&text, &id);
                }
                if report.is_some() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            match report {
                Some((d, Some(i))) => {
                    if let Some(b) = base_ms {
                        base.push(b);
                        diff.push(ms - b);
                    }
                    lat.push(ms);
                    init.push(i);
                    dur.push(d);
                }
                _ => warm += 1,
            }
        }
    });
    let (l, i, d, b) = (lat.clone(), init.clone(), dur.clone(), base.clone());
    println!(
        "{{\"function\":\"{function}\",\"cold\":{},\"not_cold\":{warm},\"baseline_ms_p50\":{},\"cold_minus_baseline_ms_p50\":{},\
         \"latency_ms_p50\":{},\"init_ms_p50\":{},\
         \"duration_ms_p50\":{},\"baseline_ms\":{},\"latency_ms\":{},\"init_ms\":{},\"duration_ms\":{}}}",
        lat.len(),
        json_num(median(&mut base)),
        json_num(median(&mut diff)),
        json_num(median(&mut lat)),
        json_num(median(&mut init)),
        json_num(median(&mut dur)),
        json_list(&b),
        json_list(&l),
        json_list(&i),
        json_list(&d),
    );
}

/// Milliseconds to run a program to its exit (stdio to /dev/null).
/// With `clear_env`, the program gets only `PATH`, as Stratus clears a function's environment.
fn time_program(program: &str, args: &[String], clear_env: bool) -> f64 {
    let mut command = std::process::Command::new(program);
    if clear_env {
        command.env_clear();
        if let Some(path) = std::env::var_os("PATH") {
            command.env("PATH", path);
        }
    }
    let t0 = Instant::now();
    let status = command
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap_or_else(|e| die(&format!("cannot run {program}: {e}")));
    if !status.success() {
        die(&format!("{program} failed: {status}"));
    }
    t0.elapsed().as_secs_f64() * 1e3
}

/// Runs PROGRAM ARGS `runs` times (stdio to /dev/null) and prints the median wall time.
fn cmd_spawn(runs: usize, clear_env: bool, argv: &[String]) {
    let Some((program, args)) = argv.split_first() else { die("spawn needs -- PROGRAM ARGS") };
    let mut times = Vec::new();
    for _ in 0..runs.clamp(1, 1000) {
        times.push(time_program(program, args, clear_env));
    }
    let all = times.clone();
    let min = all.iter().copied().fold(f64::INFINITY, f64::min);
    println!(
        "{{\"program\":\"{}\",\"clear_env\":{clear_env},\"runs\":{},\"median_ms\":{},\"min_ms\":{min:.2},\"ms\":{}}}",
        argv.join(" ").replace('\\', "\\\\").replace('"', "\\\""),
        all.len(),
        json_num(median(&mut times)),
        json_list(&all)
    );
}

fn main() {
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().map(|s| s.as_str()) == Some("spawn") {
        let rest: Vec<String> = args.skip(1).collect();
        let split = rest.iter().position(|a| a == "--").unwrap_or_else(|| die("spawn needs -- PROGRAM ARGS"));
        let a = Args::parse(rest[..split].iter().cloned());
        cmd_spawn(a.num("runs", 20), a.0.contains_key("clear-env"), &rest[split + 1..]);
        return;
    }
    let sub = match args.peek().map(|s| s.as_str()) {
        Some("run" | "setup" | "load" | "wait" | "sign" | "cold") => args.next().unwrap_or_default(),
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
        "cold" => cmd_cold(&a),
        _ => unreachable!(),
    }
}
