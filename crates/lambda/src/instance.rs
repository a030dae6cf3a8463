//! One instance of a function: its process, the Runtime API server it talks to, and the reader
//! of its output. An instance runs one invocation at a time.
//!
//! Each instance gets its own Runtime API listener on a loopback port, because the Runtime API's
//! paths carry no instance identity: the port is the identity.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body as _, Incoming};
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use crate::error::RESPONSE_BYTES_MAX;
use crate::logs::{LogBook, Report, now_ms};
use crate::process;
use crate::runtime::{Family, Launch};

/// A pipe's capacity on Linux (16 pages): the most output a process can have written and not
/// yet seen read when it posts its result.
const PIPE_BYTES: usize = 64 * 1024;
/// Longest log line kept whole; longer output is split (CloudWatch's event limit is 256 KB).
pub const LOG_LINE_BYTES_MAX: usize = 256 * 1024;
/// Stack of an instance's output thread (it splits lines and hands them to the log).
const OUTPUT_THREAD_STACK_BYTES: usize = 256 * 1024;

/// An invocation handed to an instance.
pub struct Dispatch {
    pub request_id: Arc<str>,
    pub payload: Bytes,
    pub invoked_arn: String,
    pub trace_id: String,
    pub client_context: Option<String>,
    pub cognito_identity: Option<String>,
    pub timeout: Duration,
    /// Told when the runtime takes the invocation (the end of init for a new instance).
    pub picked: oneshot::Sender<Instant>,
    pub reply: oneshot::Sender<Outcome>,
}

/// What the runtime said about an invocation.
#[derive(Debug)]
pub enum Outcome {
    Response(Bytes),
    /// `/invocation/{id}/error`: the body as posted, and the error-type header.
    Error {
        body: Bytes,
        error_type: Option<String>,
    },
    /// `/init/error`: init failed; the instance is finished.
    InitError {
        body: Bytes,
        error_type: Option<String>,
    },
    /// The response was over [`RESPONSE_BYTES_MAX`].
    ResponseTooLarge,
}

struct Open {
    request_id: Arc<str>,
    reply: oneshot::Sender<Outcome>,
}

/// The read end of the instance's stdout/stderr pipe (non-blocking) and the start of a line
/// not yet ended. Read by the output thread when output arrives, and by whoever ends an
/// invocation (the runtime's response, the process's exit), so the lines an invocation wrote
/// are in its log before its END line without the function marking the end of its output:
/// everything it wrote before posting its result is in the pipe by then.
struct Output {
    reader: std::io::PipeReader,
    pending: Vec<u8>,
    buffer: Vec<u8>,
    ended: bool,
}

/// State shared by the instance's server, its output reader and the invoker.
pub struct Shared {
    dispatches: tokio::sync::Mutex<mpsc::Receiver<Dispatch>>,
    open: Mutex<Option<Open>>,
    /// The invocation the output currently belongs to.
    log_request: Mutex<Option<Arc<str>>>,
    output: Mutex<Output>,
    init_error: Mutex<Option<Outcome>>,
    pub logs: Arc<LogBook>,
}

impl Shared {
    fn push_log(&self, text: String) {
        let request = self.log_request.lock().ok().and_then(|r| r.clone());
        self.logs.push(request.as_ref(), text, false);
    }

    /// Logs what the output pipe holds now (at most one pipe's worth), a last line without its
    /// newline included.
    pub fn flush_output(&self) {
        self.read_output(PIPE_BYTES, true);
    }

    /// Writes END and REPORT after the function's output: what the pipe holds (at most one
    /// pipe's worth, so a process that keeps writing cannot hold the caller here), and a last
    /// line without its newline, which ends with the invocation.
    pub fn close_invocation(&self, report: Report) {
        self.read_output(PIPE_BYTES, true);
        self.logs.finish(&report);
    }

    /// Reads up to about `limit` bytes of what the pipe holds now and logs its complete lines
    /// (with `flush`, the incomplete last one too). Returns false once the pipe has ended (the
    /// process and everything it started are gone).
    fn read_output(&self, limit: usize, flush: bool) -> bool {
        use std::io::Read;
        let Ok(mut output) = self.output.lock() else {
            return false;
        };
        let output = &mut *output;
        let mut taken = 0;
        while !output.ended && taken < limit {
            match output.reader.read(&mut output.buffer) {
                Ok(0) => output.ended = true,
                Ok(read) => {
                    taken += read;
                    output.pending.extend_from_slice(&output.buffer[..read]);
                    split_lines(self, &mut output.pending);
                }
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
                Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(_) => output.ended = true,
            }
        }
        if (flush || output.ended) && !output.pending.is_empty() {
            let rest = std::mem::take(&mut output.pending);
            handle_line(self, &rest);
        }
        !output.ended
    }

    /// The init error the runtime posted, if any (taken once).
    pub fn take_init_error(&self) -> Option<Outcome> {
        self.init_error.lock().ok().and_then(|mut e| e.take())
    }

    pub fn set_log_request(&self, request_id: Option<Arc<str>>) {
        if let Ok(mut current) = self.log_request.lock() {
            *current = request_id;
        }
    }
}

/// A running instance.
pub struct Instance {
    pub pid: u32,
    /// The code generation it loaded (hot reload retires older ones).
    pub generation: u64,
    pub sender: mpsc::Sender<Dispatch>,
    pub shared: Arc<Shared>,
    /// `Some("exit status 1")` / `Some("signal: killed")` once the process is gone.
    pub exited: watch::Receiver<Option<String>>,
    pub spawned_at: Instant,
    /// Set once init finished (at the first pick-up).
    pub initialized: bool,
    pub last_used: Instant,
    pub access_key_id: String,
    /// The most memory the process has used, in MB, as last read (also by the watchdog).
    pub peak_mb: Arc<AtomicU64>,
    /// The memory figures of the function process, once opened.
    memory: Option<Arc<process::Memory>>,
    server: JoinHandle<()>,
}

impl Instance {
    pub fn is_alive(&self) -> bool {
        self.exited.borrow().is_none()
    }

    /// The memory figures of the function process, opened at the first reading; `None` when
    /// the process is gone.
    pub fn memory(&mut self) -> Option<&Arc<process::Memory>> {
        if self.memory.is_none() {
            self.memory = process::Memory::open(self.pid).map(Arc::new);
        }
        self.memory.as_ref()
    }

    /// Reads the most memory the process has used now (the kernel's high-water mark) into
    /// `peak_mb`.
    pub fn read_peak(&mut self) {
        if let Some(usage) = self.memory().and_then(|m| m.usage()) {
            self.peak_mb.fetch_max(usage.peak_mb(), Ordering::Relaxed);
        }
    }

    /// The most memory the process has used, in MB (rounded up), as last read.
    pub fn peak(&self) -> u64 {
        self.peak_mb.load(Ordering::Relaxed)
    }

    /// SIGKILLs the process group (unless the process has exited: its group was killed then,
    /// and its number may since belong to another) and stops the server.
    pub fn kill(&self) {
        if self.is_alive() {
            process::kill_group(self.pid);
        }
        self.server.abort();
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
    }
}

/// What an instance needs to start.
pub struct SpawnSpec<'a> {
    pub generation: u64,
    pub launch: &'a Launch,
    pub code_dir: PathBuf,
    pub environment: BTreeMap<String, String>,
    pub logs: Arc<LogBook>,
    /// The request the first output lines belong to (the invocation the instance starts for).
    pub first_request: Option<Arc<str>>,
    /// Told of the instance's process group, to kill it if Stratus dies.
    pub reaper: Option<Arc<process::Reaper>>,
    pub access_key_id: String,
}

pub async fn spawn(spec: SpawnSpec<'_>) -> std::io::Result<Instance> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let address = listener.local_addr()?;
    let (reader, writer) = std::io::pipe()?;
    let writer_err = writer.try_clone()?;
    // The thread waits on its own descriptor of the pipe; reads go through `Shared`.
    let readiness = reader.try_clone()?;
    process::set_nonblocking(&reader)?;
    let (sender, receiver) = mpsc::channel(1);
    let shared = Arc::new(Shared {
        dispatches: tokio::sync::Mutex::new(receiver),
        open: Mutex::new(None),
        log_request: Mutex::new(spec.first_request.clone()),
        output: Mutex::new(Output {
            reader,
            pending: Vec::new(),
            buffer: vec![0u8; PIPE_BYTES],
            ended: false,
        }),
        init_error: Mutex::new(None),
        logs: Arc::clone(&spec.logs),
    });
    // Stratus's own bootstraps (Node and Python) also get a connection of their own to the
    // Runtime API, as a descriptor they read and write with blocking calls. For Node that means
    // no `net` module to load (with the V8 flags Lambda passes, Node compiles it without its
    // code cache: ~8 ms of every cold start) and no event-loop turn per request; for both, no
    // TCP stack on either side of each exchange. `AWS_LAMBDA_RUNTIME_API` is served all the
    // same (custom runtimes use it, and the bootstraps fall back to it).
    let (direct_ours, direct_theirs) = if matches!(spec.launch.family, Family::Node | Family::Python) {
        let (ours, theirs) = std::os::unix::net::UnixStream::pair()?;
        ours.set_nonblocking(true)?;
        (Some(tokio::net::UnixStream::from_std(ours)?), Some(theirs))
    } else {
        (None, None)
    };
    let server = tokio::spawn(serve(listener, direct_ours, Arc::clone(&shared)));

    let mut command = tokio::process::Command::new(&spec.launch.program);
    command
        .args(&spec.launch.args)
        .current_dir(&spec.code_dir)
        .env_clear()
        .envs(&spec.environment)
        .env("AWS_LAMBDA_RUNTIME_API", address.to_string())
        .stdin(std::process::Stdio::null())
        .stdout(writer)
        .stderr(writer_err);
    let reaped = spec.reaper.as_ref().is_some_and(|r| r.is_running());
    // Every function process starts under the lock: none may inherit another's descriptor.
    let spawned = {
        let _inheriting = process::INHERITING.lock();
        let spawned = match &direct_theirs {
            Some(theirs) => {
                use std::os::fd::AsRawFd as _;
                command.env("_STRATUS_RUNTIME_FD", theirs.as_raw_fd().to_string());
                process::set_inheritable(theirs).and_then(|()| process::spawn(&mut command, reaped))
            }
            None => process::spawn(&mut command, reaped),
        };
        // The child has its own copy now; Stratus's is closed before the next spawn may start.
        drop(direct_theirs);
        spawned
    };
    let child = match spawned {
        Ok(child) => child,
        Err(error) => {
            server.abort();
            return Err(error);
        }
    };
    // The pipe's write ends now live in the child only, so the reader sees end-of-file when
    // the process (and anything it started) is gone.
    drop(command);
    let pid = child.id().unwrap_or(0);
    if let Some(reaper) = &spec.reaper {
        reaper.watch(pid);
    }
    let (exit_sender, exited) = watch::channel(None);
    tokio::spawn(wait_for_exit(child, exit_sender, spec.reaper));
    // Output is read on a thread of its own, not in a task, and only when some arrives: a
    // function that writes nothing costs no wake-up (its invocations' logs are completed by
    // whoever ends them, see `Output`). Output and the runtime's result arriving together at a
    // runtime worker would make it wake the other worker to share them.
    let reader_shared = Arc::clone(&shared);
    let started = std::thread::Builder::new()
        .name(format!("stratus-output-{pid}"))
        .stack_size(OUTPUT_THREAD_STACK_BYTES)
        .spawn(move || follow_output(readiness, reader_shared));
    if let Err(error) = started {
        process::kill_group(pid);
        server.abort();
        return Err(error);
    }
    Ok(Instance {
        pid,
        generation: spec.generation,
        sender,
        shared,
        exited,
        spawned_at: Instant::now(),
        initialized: false,
        last_used: Instant::now(),
        access_key_id: spec.access_key_id,
        peak_mb: Arc::new(AtomicU64::new(0)),
        memory: None,
        server,
    })
}

/// Waits for the function process; then, as Lambda ends the whole environment, kills what it
/// left running in its group.
async fn wait_for_exit(
    mut child: tokio::process::Child,
    exited: watch::Sender<Option<String>>,
    reaper: Option<Arc<process::Reaper>>,
) {
    let pid = child.id();
    let description = match child.wait().await {
        Ok(status) => describe_exit(status),
        Err(error) => format!("wait failed: {error}"),
    };
    if let Some(pid) = pid {
        process::kill_group(pid);
        if let Some(reaper) = reaper {
            reaper.forget(pid);
        }
    }
    let _ = exited.send(Some(description));
}

/// Go's wording, which Lambda's messages use: `exit status 1`, `signal: killed`.
fn describe_exit(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    if let Some(code) = status.code() {
        return format!("exit status {code}");
    }
    let signal = status.signal().unwrap_or(0);
    let name = match signal {
        libc::SIGKILL => "killed",
        libc::SIGSEGV => "segmentation fault",
        libc::SIGABRT => "aborted",
        libc::SIGTERM => "terminated",
        libc::SIGBUS => "bus error",
        libc::SIGINT => "interrupt",
        libc::SIGPIPE => "broken pipe",
        _ => return format!("signal: {signal}"),
    };
    format!("signal: {name}")
}

/// The output thread: waits until the pipe has something to read (or has ended), then reads it.
/// Ends at end-of-file: when the process and everything it started are gone.
fn follow_output(readiness: std::io::PipeReader, shared: Arc<Shared>) {
    // One pipe's worth per turn: the lock is free between turns for an invocation's end.
    while process::wait_readable(&readiness).is_ok() && shared.read_output(PIPE_BYTES, false) {}
}

/// Logs each complete line of `pending` and keeps the rest; a line over
/// [`LOG_LINE_BYTES_MAX`] is split.
fn split_lines(shared: &Shared, pending: &mut Vec<u8>) {
    let mut start = 0;
    while let Some(offset) = pending[start..].iter().position(|b| *b == b'\n') {
        handle_line(shared, &pending[start..start + offset]);
        start += offset + 1;
    }
    pending.drain(..start);
    while pending.len() > LOG_LINE_BYTES_MAX {
        let rest = pending.split_off(LOG_LINE_BYTES_MAX);
        handle_line(shared, pending);
        *pending = rest;
    }
}

fn handle_line(shared: &Shared, line: &[u8]) {
    let text = String::from_utf8_lossy(line);
    let text = text.strip_suffix('\r').unwrap_or(&text);
    shared.push_log(text.to_string());
}

type Body = Full<Bytes>;

async fn serve(listener: TcpListener, direct: Option<tokio::net::UnixStream>, shared: Arc<Shared>) {
    let mut connections = tokio::task::JoinSet::new();
    if let Some(stream) = direct {
        connections.spawn(crate::inline::inline(serve_connection(stream, Arc::clone(&shared))));
    }
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                connections.spawn(crate::inline::inline(serve_connection(stream, Arc::clone(&shared))));
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn serve_connection<S>(stream: S, shared: Arc<Shared>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |request| {
        let shared = Arc::clone(&shared);
        async move { Ok::<_, Infallible>(route(&shared, request).await) }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

fn json_response(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn api_error(status: StatusCode, error_type: &str, message: &str) -> Response<Body> {
    json_response(
        status,
        serde_json::json!({"errorMessage": message, "errorType": error_type}).to_string(),
    )
}

fn accepted() -> Response<Body> {
    json_response(StatusCode::ACCEPTED, Bytes::from_static(br#"{"status":"OK"}"#))
}

async fn route(shared: &Arc<Shared>, request: Request<Incoming>) -> Response<Body> {
    let path = request.uri().path().to_string();
    let Some(rest) = path.strip_prefix("/2018-06-01/runtime/") else {
        return api_error(StatusCode::NOT_FOUND, "NotFound", "Not Found");
    };
    match (request.method(), rest) {
        (&Method::GET, "invocation/next") => next(shared).await,
        (&Method::POST, "init/error") => init_error(shared, request).await,
        (&Method::POST, rest) if rest.starts_with("invocation/") => {
            let rest = &rest["invocation/".len()..];
            if let Some(id) = rest.strip_suffix("/response") {
                let id = id.to_string();
                respond(shared, &id, request).await
            } else if let Some(id) = rest.strip_suffix("/error") {
                let id = id.to_string();
                error(shared, &id, request).await
            } else {
                api_error(StatusCode::NOT_FOUND, "NotFound", "Not Found")
            }
        }
        _ => api_error(StatusCode::NOT_FOUND, "NotFound", "Not Found"),
    }
}

async fn next(shared: &Arc<Shared>) -> Response<Body> {
    if shared.open.lock().map(|o| o.is_some()).unwrap_or(false) {
        return api_error(
            StatusCode::FORBIDDEN,
            "InvalidStateTransition",
            "State transition from Running to Ready failed for runtime. Error: the current invocation has no response yet",
        );
    }
    let dispatch = {
        let mut receiver = shared.dispatches.lock().await;
        receiver.recv().await
    };
    let Some(dispatch) = dispatch else {
        return api_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            "Internal Server Error",
        );
    };
    let deadline_ms = now_ms() + dispatch.timeout.as_millis() as u64;
    shared.set_log_request(Some(Arc::clone(&dispatch.request_id)));
    shared.logs.start(&dispatch.request_id);
    if let Ok(mut open) = shared.open.lock() {
        *open = Some(Open {
            request_id: Arc::clone(&dispatch.request_id),
            reply: dispatch.reply,
        });
    }
    let _ = dispatch.picked.send(Instant::now());
    let mut response = Response::new(Full::new(dispatch.payload));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let mut set = |name: &'static str, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    set("lambda-runtime-aws-request-id", &dispatch.request_id);
    set("lambda-runtime-deadline-ms", &deadline_ms.to_string());
    set("lambda-runtime-invoked-function-arn", &dispatch.invoked_arn);
    set("lambda-runtime-trace-id", &dispatch.trace_id);
    if let Some(context) = &dispatch.client_context {
        set("lambda-runtime-client-context", context);
    }
    if let Some(identity) = &dispatch.cognito_identity {
        set("lambda-runtime-cognito-identity", identity);
    }
    response
}

/// Takes the open invocation if `id` names it.
fn take_open(shared: &Shared, id: &str) -> Option<Open> {
    let mut open = shared.open.lock().ok()?;
    if open.as_ref().is_some_and(|o| &*o.request_id == id) {
        open.take()
    } else {
        None
    }
}

enum ReadBody {
    Complete(Bytes),
    TooLarge,
    Truncated,
}

/// How much of a too-large body is still read (and dropped) before the 413 goes out: a runtime
/// still sending then reads the answer instead of finding its connection reset under it.
const DRAIN_BYTES_MAX: usize = 64 * 1024 * 1024;

async fn read_body(request: Request<Incoming>) -> ReadBody {
    let mut body = request.into_body();
    let mut chunks: Vec<Bytes> = Vec::new();
    let mut total = 0usize;
    // A body announced bigger than the drain would take is refused without reading it.
    if body
        .size_hint()
        .exact()
        .is_some_and(|n| n > (RESPONSE_BYTES_MAX + DRAIN_BYTES_MAX) as u64)
    {
        return ReadBody::TooLarge;
    }
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            // Cut short while over the limit: still too large, as it was at the limit.
            return if total > RESPONSE_BYTES_MAX {
                ReadBody::TooLarge
            } else {
                ReadBody::Truncated
            };
        };
        let Ok(data) = frame.into_data() else { continue };
        total += data.len();
        if total > RESPONSE_BYTES_MAX {
            chunks.clear();
            if total > RESPONSE_BYTES_MAX + DRAIN_BYTES_MAX {
                break;
            }
        } else {
            chunks.push(data);
        }
    }
    if total > RESPONSE_BYTES_MAX {
        return ReadBody::TooLarge;
    }
    match chunks.len() {
        0 => ReadBody::Complete(Bytes::new()),
        1 => ReadBody::Complete(chunks.swap_remove(0)),
        _ => ReadBody::Complete(Bytes::from(chunks.concat())),
    }
}

fn error_type_header(request: &Request<Incoming>) -> Option<String> {
    request
        .headers()
        .get("lambda-runtime-function-error-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

async fn respond(shared: &Arc<Shared>, id: &str, request: Request<Incoming>) -> Response<Body> {
    let mode = request
        .headers()
        .get("lambda-runtime-function-response-mode")
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase);
    if let Some(mode) = mode
        && mode != "streaming"
        && mode != "buffered"
    {
        return api_error(
            StatusCode::BAD_REQUEST,
            "InvalidFunctionResponseMode",
            "Invalid function response mode",
        );
    }
    let Some(open) = take_open(shared, id) else {
        return api_error(StatusCode::BAD_REQUEST, "InvalidRequestID", "Invalid request ID");
    };
    match read_body(request).await {
        ReadBody::Complete(body) => {
            let _ = open.reply.send(Outcome::Response(body));
            accepted()
        }
        ReadBody::TooLarge => {
            let _ = open.reply.send(Outcome::ResponseTooLarge);
            api_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestEntityTooLarge",
                &format!("Exceeded maximum allowed payload size ({RESPONSE_BYTES_MAX} bytes)."),
            )
        }
        ReadBody::Truncated => {
            let _ = open.reply.send(Outcome::Error {
                body: Bytes::from_static(
                    br#"{"errorMessage":"The runtime's response was cut short","errorType":"Runtime.TruncatedResponse"}"#,
                ),
                error_type: Some("Runtime.TruncatedResponse".to_string()),
            });
            api_error(
                StatusCode::BAD_REQUEST,
                "TruncatedHTTPRequest",
                "HTTP request detected as truncated",
            )
        }
    }
}

async fn error(shared: &Arc<Shared>, id: &str, request: Request<Incoming>) -> Response<Body> {
    let error_type = error_type_header(&request);
    let Some(open) = take_open(shared, id) else {
        return api_error(StatusCode::BAD_REQUEST, "InvalidRequestID", "Invalid request ID");
    };
    let body = match read_body(request).await {
        ReadBody::Complete(body) => body,
        ReadBody::TooLarge | ReadBody::Truncated => Bytes::new(),
    };
    let body = error_body(body, error_type.as_deref());
    let _ = open.reply.send(Outcome::Error { body, error_type });
    accepted()
}

/// The error payload the caller sees: the runtime's body when it sent one, else one built from
/// the error-type header, as Lambda does.
fn error_body(body: Bytes, error_type: Option<&str>) -> Bytes {
    if !body.iter().all(u8::is_ascii_whitespace) {
        return body;
    }
    let error_type = error_type.unwrap_or("Runtime.Unknown");
    Bytes::from(serde_json::json!({"errorMessage": "", "errorType": error_type}).to_string())
}

async fn init_error(shared: &Arc<Shared>, request: Request<Incoming>) -> Response<Body> {
    let error_type = error_type_header(&request);
    let body = match read_body(request).await {
        ReadBody::Complete(body) => body,
        _ => Bytes::new(),
    };
    let body = error_body(body, error_type.as_deref());
    let outcome = Outcome::InitError { body, error_type };
    // The invocation the instance was started for is still waiting in the channel: give it the
    // error. Otherwise keep it for whoever looks when the process exits.
    let waiting = match shared.dispatches.try_lock() {
        Ok(mut receiver) => receiver.try_recv().ok(),
        Err(_) => None,
    };
    match waiting {
        Some(dispatch) => {
            let _ = dispatch.reply.send(outcome);
        }
        None => {
            if let Ok(mut slot) = shared.init_error.lock() {
                *slot = Some(outcome);
            }
        }
    }
    accepted()
}
