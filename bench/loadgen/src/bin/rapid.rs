//! `rapid`: a minimal Lambda Runtime API server that drives one of Stratus's bootstraps
//! (or any runtime) as fast as it will go, to measure the runtime's own costs without Stratus:
//!
//! * init: process spawn → its first `GET /runtime/invocation/next`;
//! * turnaround: the `next` response written → the `POST /invocation/ID/response` fully read
//!   (event parsing, the handler, marshalling, the bootstrap's own HTTP);
//! * cycle: one `next` response to the following one (turnaround + the 202 + the next GET).
//!
//! usage: rapid [--invocations 20000] [--max-secs 30] [--spawns 10] [--event '{}'] [--direct] -- PROGRAM ARGS...
//!
//! `--direct`: the runtime gets its connection handed to it instead of connecting, as Stratus
//! hands its Node bootstrap one end of a socket pair (here as its stdin, with
//! `_STRATUS_RUNTIME_FD=0`).
//!
//! The first spawn serves `--invocations` invocations (bounded by `--max-secs`) for the warm
//! figures; every spawn times init and its first invocation. The child gets this process's
//! environment plus `AWS_LAMBDA_RUNTIME_API`; its stdout/stderr go to a pipe that a thread
//! drains, as Stratus does. Blocking std I/O, one connection: nothing here is async.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::unix::net::UnixStream;
use std::process::{Child, Command, Stdio, exit};
use std::time::{Duration, Instant};

fn die(msg: &str) -> ! {
    eprintln!("rapid: {msg}");
    exit(2)
}

struct Reader {
    stream: Box<dyn Read>,
    buf: Vec<u8>,
}

struct Req {
    method: String,
    path: String,
}

impl Reader {
    /// Reads one request (head + Content-Length body); None on EOF.
    fn request(&mut self) -> Option<Req> {
        let head_end = loop {
            if let Some(i) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i;
            }
            self.fill()?;
        };
        let head = String::from_utf8_lossy(&self.buf[..head_end]).into_owned();
        let mut lines = head.split("\r\n");
        let mut first = lines.next().unwrap_or("").split(' ');
        let method = first.next().unwrap_or("").to_string();
        let path = first.next().unwrap_or("").to_string();
        let mut length = 0usize;
        for line in lines {
            if let Some((k, v)) = line.split_once(':')
                && k.trim().eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse().unwrap_or(0);
            }
        }
        let total = head_end + 4 + length;
        while self.buf.len() < total {
            self.fill()?;
        }
        self.buf.drain(..total);
        Some(Req { method, path })
    }

    fn fill(&mut self) -> Option<()> {
        let mut chunk = [0u8; 16 * 1024];
        match self.stream.read(&mut chunk) {
            Ok(0) | Err(_) => None,
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                Some(())
            }
        }
    }
}

fn spawn(argv: &[String], address: &str, direct: Option<UnixStream>) -> Child {
    let mut command = Command::new(&argv[0]);
    command.args(&argv[1..]).env("AWS_LAMBDA_RUNTIME_API", address);
    match direct {
        Some(theirs) => command.env("_STRATUS_RUNTIME_FD", "0").stdin(Stdio::from(std::os::fd::OwnedFd::from(theirs))),
        None => command.stdin(Stdio::null()),
    };
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| die(&format!("cannot run {}: {e}", argv[0])));
    for mut pipe in [child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>), child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>)]
        .into_iter()
        .flatten()
    {
        std::thread::spawn(move || {
            let mut sink = [0u8; 64 * 1024];
            let mut shown = 0usize;
            while let Ok(n) = pipe.read(&mut sink) {
                if n == 0 {
                    break;
                }
                // Show the first bytes of unexpected output (an init error) once.
                let text = String::from_utf8_lossy(&sink[..n]);
                if shown < 2000 && !text.starts_with('\u{1e}') {
                    eprint!("{}", &text[..text.len().min(2000 - shown)]);
                    shown += n;
                }
            }
        });
    }
    child
}

fn next_response(id: u64, event: &[u8]) -> Vec<u8> {
    let deadline = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64 + 900_000)
        .unwrap_or(0);
    let mut r = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nLambda-Runtime-Aws-Request-Id: {id:08x}-0000-4000-8000-000000000000\r\n\
         Lambda-Runtime-Deadline-Ms: {deadline}\r\nLambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:000000000000:function:bench\r\n\
         Lambda-Runtime-Trace-Id: Root=1-00000000-000000000000000000000000;Sampled=0\r\nContent-Length: {}\r\n\r\n",
        event.len()
    )
    .into_bytes();
    r.extend_from_slice(event);
    r
}

const ACCEPTED: &[u8] = b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n{\"status\":\"OK\"}";

struct SpawnResult {
    init_ms: f64,
    first_ms: f64,
    turnaround_us: Vec<f64>,
    cycle_us: Vec<f64>,
    seconds: f64,
}

fn one_spawn(argv: &[String], invocations: u64, max_secs: f64, event: &[u8], direct: bool) -> SpawnResult {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| die(&format!("bind: {e}")));
    let address = listener.local_addr().map(|a| a.to_string()).unwrap_or_default();
    let t_spawn = Instant::now();
    if direct {
        let (ours, theirs) = UnixStream::pair().unwrap_or_else(|e| die(&format!("socketpair: {e}")));
        let child = spawn(argv, &address, Some(theirs));
        ours.set_read_timeout(Some(Duration::from_secs(20))).ok();
        let writer = ours.try_clone().unwrap_or_else(|e| die(&format!("clone: {e}")));
        return serve(child, Box::new(ours), Box::new(writer), t_spawn, invocations, max_secs, event);
    }
    let mut child = spawn(argv, &address, None);
    listener.set_nonblocking(true).ok();
    let stream = loop {
        match listener.accept() {
            Ok((s, _)) => break s,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if t_spawn.elapsed() > Duration::from_secs(20) {
                    let _ = child.kill();
                    die("the runtime never connected");
                }
                if let Ok(Some(status)) = child.try_wait() {
                    die(&format!("the runtime exited before connecting: {status}"));
                }
                std::thread::sleep(Duration::from_micros(100));
            }
            Err(e) => die(&format!("accept: {e}")),
        }
    };
    stream.set_nonblocking(false).ok();
    stream.set_nodelay(true).ok();
    stream.set_read_timeout(Some(Duration::from_secs(20))).ok();
    let writer = stream.try_clone().unwrap_or_else(|e| die(&format!("clone: {e}")));
    serve(child, Box::new(stream), Box::new(writer), t_spawn, invocations, max_secs, event)
}

fn serve(
    mut child: Child,
    stream: Box<dyn Read>,
    mut writer: Box<dyn Write>,
    t_spawn: Instant,
    invocations: u64,
    max_secs: f64,
    event: &[u8],
) -> SpawnResult {
    let mut reader = Reader { stream, buf: Vec::with_capacity(64 * 1024) };
    let mut out = SpawnResult { init_ms: 0.0, first_ms: 0.0, turnaround_us: Vec::new(), cycle_us: Vec::new(), seconds: 0.0 };
    let deadline = Instant::now() + Duration::from_secs_f64(max_secs);
    let mut served = 0u64;
    let mut sent_at: Option<Instant> = None;
    let mut start = Instant::now();
    loop {
        let Some(req) = reader.request() else { die("the runtime closed the connection") };
        let now = Instant::now();
        if req.method == "GET" && req.path.ends_with("/invocation/next") {
            if served == 0 {
                out.init_ms = t_spawn.elapsed().as_secs_f64() * 1e3;
                start = now;
            }
            if served >= invocations || now >= deadline {
                break;
            }
            served += 1;
            let resp = next_response(served, event);
            let at = Instant::now();
            if let Some(prev) = sent_at {
                out.cycle_us.push(at.duration_since(prev).as_secs_f64() * 1e6);
            }
            writer.write_all(&resp).unwrap_or_else(|e| die(&format!("write: {e}")));
            sent_at = Some(at);
        } else if req.method == "POST" && req.path.ends_with("/response") {
            if let Some(at) = sent_at {
                out.turnaround_us.push(now.duration_since(at).as_secs_f64() * 1e6);
            }
            if served == 1 {
                out.first_ms = t_spawn.elapsed().as_secs_f64() * 1e3;
            }
            writer.write_all(ACCEPTED).unwrap_or_else(|e| die(&format!("write: {e}")));
        } else {
            let _ = child.kill();
            die(&format!("unexpected request {} {} (an init or invocation error?)", req.method, req.path));
        }
    }
    out.seconds = start.elapsed().as_secs_f64();
    let _ = child.kill();
    let _ = child.wait();
    out
}

fn pct(v: &mut [f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() - 1) as f64 * q).round() as usize]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let split = args.iter().position(|a| a == "--").unwrap_or_else(|| die("usage: rapid [options] -- PROGRAM ARGS"));
    let (opts, argv) = (&args[..split], &args[split + 1..]);
    if argv.is_empty() {
        die("no program");
    }
    let mut invocations: u64 = 20_000;
    let mut max_secs: f64 = 30.0;
    let mut spawns: usize = 10;
    let mut event = b"{}".to_vec();
    let mut direct = false;
    let mut it = opts.iter();
    while let Some(o) = it.next() {
        if o == "--direct" {
            direct = true;
            continue;
        }
        let v = it.next().unwrap_or_else(|| die(&format!("{o} needs a value")));
        match o.as_str() {
            "--invocations" => invocations = v.parse().unwrap_or_else(|_| die("bad --invocations")),
            "--max-secs" => max_secs = v.parse().unwrap_or_else(|_| die("bad --max-secs")),
            "--spawns" => spawns = v.parse().unwrap_or_else(|_| die("bad --spawns")),
            "--event" => event = v.clone().into_bytes(),
            _ => die(&format!("unknown option {o}")),
        }
    }
    let invocations = invocations.clamp(1, 10_000_000);
    let spawns = spawns.clamp(1, 1000);
    let mut inits = Vec::new();
    let mut firsts = Vec::new();
    let mut warm = None;
    for i in 0..spawns {
        let r = one_spawn(argv, if i == 0 { invocations } else { 1 }, max_secs, &event, direct);
        inits.push(r.init_ms);
        firsts.push(r.first_ms);
        if i == 0 {
            warm = Some(r);
        }
    }
    let mut w = warm.unwrap_or_else(|| die("no run"));
    // The first 10% of the warm run is warm-up (JIT, caches): left out.
    let skip = w.turnaround_us.len() / 10;
    let mut turn: Vec<f64> = w.turnaround_us[skip..].to_vec();
    let mut cycle: Vec<f64> = w.cycle_us[skip.min(w.cycle_us.len())..].to_vec();
    let n = w.turnaround_us.len();
    let rps = n as f64 / w.seconds.max(1e-9);
    w.turnaround_us.clear();
    println!(
        "{{\"program\":\"{}\",\"invocations\":{n},\"rps\":{rps:.1},\"turnaround_p50_us\":{:.1},\"turnaround_p99_us\":{:.1},\
         \"cycle_p50_us\":{:.1},\"spawns\":{spawns},\"init_ms_p50\":{:.2},\"first_response_ms_p50\":{:.2}}}",
        argv.join(" ").replace('\\', "\\\\").replace('"', "\\\""),
        pct(&mut turn, 0.50),
        pct(&mut turn, 0.99),
        pct(&mut cycle, 0.50),
        pct(&mut inits, 0.50),
        pct(&mut firsts, 0.50),
    );
}
