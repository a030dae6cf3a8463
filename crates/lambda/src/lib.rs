//! Lambda functions as local processes, exactly as their code expects to run on Lambda: the
//! Runtime API (server side), managed runtimes with Stratus's bootstraps, pools of warm
//! instances, reserved concurrency, timeouts, memory limits, logs, asynchronous invocations with
//! retries and hot reload.
//!
//! The only crate that spawns processes. It knows nothing of HTTP callers (the AWS endpoint and
//! the gateway call [`Lambda::invoke`]) and reads no flags or environment of its own.

pub mod config;
mod deps;
pub mod error;
mod function;
pub mod ids;
pub mod inline;
mod instance;
pub mod logs;
mod payload;
mod process;
pub mod runtime;
mod watch;
mod watchdog;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::watch as signal;
use tokio::task::JoinHandle;

pub use config::{CredentialIssuer, Credentials, FunctionConfig, LambdaOptions, LogSink, default_instances_max};
pub use error::{ASYNC_REQUEST_BYTES_MAX, InvokeError, REQUEST_BYTES_MAX, RESPONSE_BYTES_MAX};
pub use function::{Call, Completed, RESERVED_VARIABLES, error_payload};
pub use logs::LogLine;

pub use process::Reaper;

/// The hidden `stratus __reaper` command (see [`Reaper`]).
pub fn run_reaper() -> i32 {
    process::reap()
}

use crate::function::{FunctionState, ServiceContext};
use crate::logs::LogBook;
use crate::runtime::Interpreters;

/// How an invocation is run (`X-Amz-Invocation-Type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvocationType {
    RequestResponse,
    Event,
    DryRun,
}

/// What `Lambda::invoke` returns.
#[derive(Debug)]
pub enum Invoked {
    /// A synchronous invocation's result (the function may still have failed: see
    /// `function_error`).
    Completed(Completed),
    /// Queued for asynchronous execution, under this request id.
    Queued { request_id: String },
    /// A dry run: the call would have been allowed.
    DryRun,
}

/// What GetFunction / ListFunctions describe.
#[derive(Clone, Debug)]
pub struct FunctionInfo {
    pub config: FunctionConfig,
    pub instances: u32,
    pub busy: u32,
}

/// The Lambda service: every function of the app.
pub struct Lambda {
    options: LambdaOptions,
    functions: BTreeMap<String, Arc<FunctionState>>,
    runtime_dir: PathBuf,
    interpreters: Interpreters,
    watchdog: Arc<watchdog::Watchdog>,
    instance_ids: AtomicU64,
    stopping: AtomicBool,
    stop: signal::Sender<bool>,
    background: Mutex<Vec<JoinHandle<()>>>,
    async_tasks: Mutex<tokio::task::JoinSet<()>>,
}

impl Lambda {
    /// Starts the service (inside a Tokio runtime): installs the bootstraps into the cache and
    /// starts the reaper and the code watcher. Functions start lazily, at their first invocation.
    pub fn start(options: LambdaOptions, functions: Vec<FunctionConfig>) -> std::io::Result<Arc<Lambda>> {
        let runtime_dir = runtime::install_bootstraps(&options.cache_dir)?;
        let sequence = Arc::new(AtomicU64::new(1));
        let mut states = BTreeMap::new();
        for config in functions {
            let logs = Arc::new(LogBook::new(
                &config.name,
                &config.arn,
                logs::SystemLog::of(&config.log_format, config.system_log_level.as_deref()),
                options.log_lines_max,
                Arc::clone(&sequence),
                options.log_sink.clone(),
            ));
            let name = config.name.clone();
            states.insert(name, Arc::new(FunctionState::new(config, &options, logs)));
        }
        let (stop, _) = signal::channel(false);
        let lambda = Arc::new(Lambda {
            options,
            functions: states,
            runtime_dir,
            interpreters: Interpreters::default(),
            watchdog: Arc::default(),
            instance_ids: AtomicU64::new(1),
            stopping: AtomicBool::new(false),
            stop,
            background: Mutex::new(Vec::new()),
            async_tasks: Mutex::new(tokio::task::JoinSet::new()),
        });
        let reaper = tokio::spawn(reap(Arc::downgrade(&lambda)));
        let watcher = tokio::spawn(watch_code(Arc::downgrade(&lambda)));
        let probes = tokio::spawn(probe_interpreters(Arc::downgrade(&lambda)));
        let watchdog = tokio::spawn(Arc::clone(&lambda.watchdog).run());
        if let Ok(mut background) = lambda.background.lock() {
            background.push(reaper);
            background.push(watcher);
            background.push(probes);
            background.push(watchdog);
        }
        Ok(lambda)
    }

    pub fn options(&self) -> &LambdaOptions {
        &self.options
    }

    /// Finds a function by name, full ARN or partial ARN (`ACCOUNT:function:NAME`), with an
    /// optional qualifier in the name or given separately, and returns it with the qualifier
    /// that applies. Only `$LATEST` exists locally, in this region and account.
    pub fn resolve(
        &self,
        name: &str,
        qualifier: Option<&str>,
    ) -> Result<(&FunctionConfig, Option<String>), InvokeError> {
        let named = parse_function_name(name);
        let given = qualifier.filter(|q| !q.is_empty());
        if let (Some(given), Some(derived)) = (given, named.qualifier)
            && given != derived
        {
            return Err(InvokeError::InvalidParameterValue(
                "The derived qualifier from the function name does not match the specified qualifier.".to_string(),
            ));
        }
        if let Some(region) = named.region
            && region != self.options.region
        {
            return Err(InvokeError::RegionUnreachable {
                from: region.to_string(),
                here: self.options.region.clone(),
            });
        }
        let qualifier = given.or(named.qualifier);
        let account = named.account.unwrap_or(&self.options.account);
        let not_found = || InvokeError::FunctionNotFound {
            arn: named.arn(&self.options.region, &self.options.account, qualifier),
        };
        let state = match self.functions.get(named.name) {
            Some(state) if account == self.options.account => state,
            _ => return Err(not_found()),
        };
        if let Some(q) = qualifier
            && q != "$LATEST"
        {
            return Err(not_found());
        }
        Ok((&state.config, qualifier.map(str::to_string)))
    }

    /// Describes every function, in name order.
    pub fn functions(&self) -> Vec<FunctionInfo> {
        self.functions.values().map(|s| info(s)).collect()
    }

    pub fn function(&self, name: &str, qualifier: Option<&str>) -> Result<FunctionInfo, InvokeError> {
        let (config, _) = self.resolve(name, qualifier)?;
        let state = self
            .functions
            .get(&config.name)
            .ok_or_else(|| InvokeError::Service("function vanished".to_string()))?;
        Ok(info(state))
    }

    /// Log lines of a function after sequence number `after`.
    pub fn logs(&self, function: &str, after: Option<u64>) -> Vec<LogLine> {
        self.functions
            .get(function)
            .map(|s| s.logs.since(after))
            .unwrap_or_default()
    }

    /// Every function's log lines after `after`, in order.
    pub fn all_logs(&self, after: Option<u64>) -> Vec<LogLine> {
        let mut lines: Vec<LogLine> = self.functions.values().flat_map(|s| s.logs.since(after)).collect();
        lines.sort_by_key(|l| l.sequence);
        lines
    }

    /// The log of one invocation, from whichever function ran it.
    pub fn invocation_log(&self, request_id: &str) -> String {
        self.functions
            .values()
            .map(|s| s.logs.invocation(request_id))
            .find(|log| !log.is_empty())
            .unwrap_or_default()
    }

    fn context(&self) -> ServiceContext<'_> {
        ServiceContext {
            options: &self.options,
            watchdog: &self.watchdog,
            runtime_dir: &self.runtime_dir,
            interpreters: &self.interpreters,
            instance_ids: &self.instance_ids,
            stopping: &self.stopping,
            stop_signal: self.stop.subscribe(),
        }
    }

    /// Invokes a function as the Invoke API does.
    pub async fn invoke(
        self: &Arc<Self>,
        name: &str,
        qualifier: Option<&str>,
        invocation_type: InvocationType,
        mut call: Call,
    ) -> Result<Invoked, InvokeError> {
        if self.stopping.load(Ordering::SeqCst) {
            return Err(InvokeError::Service("Stratus is stopping".to_string()));
        }
        let (config, qualifier) = self.resolve(name, qualifier)?;
        let limit = match invocation_type {
            InvocationType::Event => ASYNC_REQUEST_BYTES_MAX,
            _ => REQUEST_BYTES_MAX,
        };
        if call.payload.len() > limit {
            return Err(InvokeError::RequestTooLarge { limit });
        }
        if !call.payload_is_json
            && !call.payload.iter().all(u8::is_ascii_whitespace)
            && let Err(detail) = payload::check(&call.payload)
        {
            return Err(InvokeError::InvalidRequestContent(detail));
        }
        if !call.payload_is_json && call.payload.iter().all(u8::is_ascii_whitespace) {
            call.payload = Bytes::from_static(b"{}");
        }
        if call.invoked_arn.is_empty() {
            // The ARN the caller used, qualified if the caller named a version or alias.
            call.invoked_arn = match &qualifier {
                Some(q) => format!("{}:{q}", config.arn),
                None => config.arn.clone(),
            };
        }
        let state = self
            .functions
            .get(&config.name)
            .cloned()
            .ok_or_else(|| InvokeError::Service("function vanished".to_string()))?;
        match invocation_type {
            InvocationType::DryRun => Ok(Invoked::DryRun),
            InvocationType::RequestResponse => {
                let context = self.context();
                Ok(Invoked::Completed(state.invoke(&context, call).await?))
            }
            InvocationType::Event => {
                let request_id = call.request_id.get_or_insert_with(ids::request_id).clone();
                let lambda = Arc::clone(self);
                if let Ok(mut tasks) = self.async_tasks.lock() {
                    while tasks.try_join_next().is_some() {}
                    tasks.spawn(async move { lambda.run_event(state, call).await });
                }
                Ok(Invoked::Queued { request_id })
            }
        }
    }

    /// An asynchronous invocation: run, and on a function error retry twice after the configured
    /// delays, as Lambda does; throttles wait and retry too.
    async fn run_event(self: Arc<Self>, state: Arc<FunctionState>, mut call: Call) {
        // Every attempt of one event has the same request id, as on AWS.
        call.request_id.get_or_insert_with(ids::request_id);
        let mut failures = 0usize;
        let mut throttles = 0u32;
        loop {
            if self.stopping.load(Ordering::SeqCst) {
                return;
            }
            let context = self.context();
            match state.invoke(&context, call.clone()).await {
                Ok(completed) if completed.function_error.is_none() => return,
                Ok(completed) => {
                    if failures >= self.options.async_retry_delays.len() {
                        state.logs.push(
                            None,
                            format!(
                                "Asynchronous invocation {} failed {} times ({}); the event is discarded",
                                completed.request_id,
                                failures + 1,
                                completed.error_type.unwrap_or_else(|| "error".to_string())
                            ),
                            true,
                        );
                        return;
                    }
                    let delay = self.options.async_retry_delays[failures];
                    failures += 1;
                    tokio::time::sleep(delay).await;
                }
                Err(InvokeError::Throttled) => {
                    throttles += 1;
                    // Lambda keeps throttled events for up to six hours; back off up to 5 s.
                    let delay = Duration::from_millis(100u64 << throttles.min(6)).min(Duration::from_secs(5));
                    tokio::time::sleep(delay).await;
                }
                Err(_) => return,
            }
        }
    }

    /// Stops every instance and refuses new invocations.
    pub async fn shutdown(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        let _ = self.stop.send(true);
        for state in self.functions.values() {
            state.stop_all();
        }
        if let Ok(background) = self.background.lock() {
            for task in background.iter() {
                task.abort();
            }
        }
        let mut tasks = match self.async_tasks.lock() {
            Ok(mut tasks) => std::mem::take(&mut *tasks),
            Err(_) => return,
        };
        tasks.abort_all();
        while tasks.join_next().await.is_some() {}
        // Invokers see the stop and kill their instances; give them a moment to do so.
        for _ in 0..50 {
            if self.functions.values().all(|s| s.busy.load(Ordering::SeqCst) == 0) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

fn info(state: &FunctionState) -> FunctionInfo {
    FunctionInfo {
        config: state.config.clone(),
        instances: state.live.load(Ordering::SeqCst),
        busy: state.busy.load(Ordering::SeqCst),
    }
}

/// A function as the Lambda API lets callers name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FunctionRef<'a> {
    pub region: Option<&'a str>,
    pub account: Option<&'a str>,
    pub name: &'a str,
    pub qualifier: Option<&'a str>,
}

impl FunctionRef<'_> {
    /// The ARN this names, with `region` and `account` where the name gives none, qualified by
    /// `qualifier` (the one that applies, which may come from outside the name).
    pub fn arn(&self, region: &str, account: &str, qualifier: Option<&str>) -> String {
        let base = format!(
            "arn:aws:lambda:{}:{}:function:{}",
            self.region.unwrap_or(region),
            self.account.unwrap_or(account),
            self.name
        );
        match qualifier {
            Some(q) => format!("{base}:{q}"),
            None => base,
        }
    }
}

/// The Lambda API's pattern for a function name (the service model's `NamespacedFunctionName`),
/// anchored, with named groups, and each character class's `-` moved to its end (where Java,
/// which the model's patterns are written for, and Rust's regex both read it as itself).
static FUNCTION_NAME: std::sync::LazyLock<Option<regex_lite::Regex>> = std::sync::LazyLock::new(|| {
    regex_lite::Regex::new(concat!(
        r"^(?:arn:(?:aws[a-zA-Z-]*)?:lambda:)?",
        r"(?:(?P<region>(?:eusc-)?[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d{1}):)?",
        r"(?:(?P<account>\d{12}):)?",
        r"(?:function:)?",
        r"(?P<name>[a-zA-Z0-9_.-]+)",
        r"(?::(?P<qualifier>\$LATEST(?:\.PUBLISHED)?|[a-zA-Z0-9_-]+))?$",
    ))
    .ok()
});

/// A bare name (no `:`, only the name's characters): the pattern's answer for it without
/// running the pattern (regex_lite takes microseconds, and every invocation asks).
fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// Whether `name` is a function name, partial ARN or ARN the Lambda API accepts.
pub fn function_name_is_valid(name: &str) -> bool {
    is_plain_name(name) || FUNCTION_NAME.as_ref().is_some_and(|r| r.is_match(name))
}

/// `arn:aws:lambda:R:A:function:NAME[:Q]`, `A:function:NAME[:Q]`, `NAME[:Q]` and the other
/// forms the API's pattern allows (`R:A:function:NAME`, `function:NAME`, an ARN without
/// `function:`). A name the pattern refuses is taken whole, unqualified (the API refuses it
/// before any lookup; `stratus invoke` then finds no such function).
pub fn parse_function_name(name: &str) -> FunctionRef<'_> {
    let whole = FunctionRef {
        region: None,
        account: None,
        name,
        qualifier: None,
    };
    if is_plain_name(name) {
        return whole;
    }
    let Some(captures) = FUNCTION_NAME.as_ref().and_then(|r| r.captures(name)) else {
        return whole;
    };
    let group = |g: &str| captures.name(g).map(|m| &name[m.start()..m.end()]);
    match group("name") {
        Some(function) => FunctionRef {
            region: group("region"),
            account: group("account"),
            name: function,
            qualifier: group("qualifier"),
        },
        None => whole,
    }
}

/// Finds and asks the interpreters of the app's runtimes (and compiles the Python bootstrap for
/// them) right after start, so the first invocation does not wait for that (about 100 ms through
/// a pyenv shim). An invocation that comes first waits for the same answer.
async fn probe_interpreters(lambda: std::sync::Weak<Lambda>) {
    let Some(lambda) = lambda.upgrade() else { return };
    let mut runtimes: BTreeMap<&str, &FunctionConfig> = BTreeMap::new();
    for state in lambda.functions.values() {
        let family = runtime::Family::of(&state.config.runtime);
        if matches!(family, Some(runtime::Family::Python | runtime::Family::Node)) {
            runtimes.entry(state.config.runtime.as_str()).or_insert(&state.config);
        }
    }
    // At once: the first invocation may be of any of them. (Aborted with the service: the
    // set's tasks go with it.)
    let mut probes = tokio::task::JoinSet::new();
    for config in runtimes.into_values() {
        let config = config.clone();
        let lambda = Arc::clone(&lambda);
        probes.spawn(async move {
            let options = &lambda.options;
            let _ = runtime::resolve(&config, &lambda.runtime_dir, &options.host_path, &lambda.interpreters).await;
        });
    }
    drop(lambda);
    while probes.join_next().await.is_some() {}
}

async fn reap(lambda: std::sync::Weak<Lambda>) {
    let mut interval = tokio::time::interval(Duration::from_secs(5));
    loop {
        interval.tick().await;
        let Some(lambda) = lambda.upgrade() else { return };
        for state in lambda.functions.values() {
            state.reap(lambda.options.idle_timeout);
        }
    }
}

/// Hot reload: functions that have run are checked for code changes on an interval.
async fn watch_code(weak: std::sync::Weak<Lambda>) {
    let interval = match weak.upgrade() {
        Some(lambda) => lambda.options.watch_interval,
        None => return,
    };
    let mut ticker = tokio::time::interval(interval.max(Duration::from_millis(20)));
    loop {
        ticker.tick().await;
        let Some(lambda) = weak.upgrade() else { return };
        let states: Vec<Arc<FunctionState>> = lambda.functions.values().cloned().collect();
        drop(lambda);
        for state in states {
            let known = state.fingerprint.lock().ok().and_then(|f| *f);
            let Some(known) = known else { continue };
            let dirs = state.watched_dirs();
            let current = match tokio::task::spawn_blocking(move || watch::fingerprint(&dirs)).await {
                Ok(current) => current,
                Err(_) => continue,
            };
            if current != known {
                if let Ok(mut fingerprint) = state.fingerprint.lock() {
                    *fingerprint = Some(current);
                }
                state.retire_instances();
                state.logs.push(
                    None,
                    format!("Code of {} changed: the next invocation loads it", state.config.name),
                    true,
                );
                // Its runtime and dependencies are worked out now (an install, if a manifest
                // changed, starts at once), not on the next invocation's path.
                if let Some(lambda) = weak.upgrade() {
                    tokio::spawn(async move {
                        let _ = state.prepare(&lambda.context()).await;
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_names_split_as_the_invoke_api_reads_them() {
        let cases = [
            ("books", ("books", None)),
            ("books:$LATEST", ("books", Some("$LATEST"))),
            ("arn:aws:lambda:us-east-1:000000000000:function:books", ("books", None)),
            (
                "arn:aws:lambda:us-east-1:000000000000:function:books:live",
                ("books", Some("live")),
            ),
            ("000000000000:function:books", ("books", None)),
            ("000000000000:function:books:1", ("books", Some("1"))),
        ];
        for (input, expected) in cases {
            let named = parse_function_name(input);
            assert_eq!((named.name, named.qualifier), expected, "{input}");
        }
    }

    #[test]
    fn function_names_give_their_region_and_account() {
        let cases = [
            ("books", (None, None)),
            (
                "arn:aws:lambda:eu-west-1:000000000000:function:books",
                (Some("eu-west-1"), Some("000000000000")),
            ),
            ("111111111111:function:books:live", (None, Some("111111111111"))),
            (
                "us-west-2:111111111111:function:books",
                (Some("us-west-2"), Some("111111111111")),
            ),
            // An ARN may leave out `function:`.
            (
                "arn:aws:lambda:us-east-1:111111111111:books",
                (Some("us-east-1"), Some("111111111111")),
            ),
            ("function:books", (None, None)),
        ];
        for (input, (region, account)) in cases {
            let named = parse_function_name(input);
            assert_eq!(
                (named.region, named.account, named.name),
                (region, account, "books"),
                "{input}"
            );
        }
        // Not an account: twelve characters that are not all digits.
        assert!(!function_name_is_valid("abcdefghijkl:function:books"));
        assert_eq!(
            parse_function_name("abcdefghijkl:function:books").name,
            "abcdefghijkl:function:books"
        );
        for name in [
            "books",
            "books.v2",
            "a-b_c:live",
            "books:$LATEST",
            "books:$LATEST.PUBLISHED",
        ] {
            assert!(function_name_is_valid(name), "{name}");
        }
        for name in ["bad name!", "Echo,2", "books:a:b", ""] {
            assert!(!function_name_is_valid(name), "{name}");
        }
    }

    #[test]
    fn a_plain_name_is_read_as_the_pattern_reads_it() {
        for name in [
            "books",
            "Books.v2",
            "a-b_c",
            "123456789012",
            "us-east-1",
            "arn",
            "function",
            "x",
        ] {
            assert!(is_plain_name(name), "{name}");
            let pattern = FUNCTION_NAME.as_ref().and_then(|r| r.captures(name));
            let whole = pattern.and_then(|c| c.name("name")).map(|m| m.as_str());
            assert_eq!(whole, Some(name), "the pattern takes {name} whole as the name");
        }
        for name in ["", "a:b", "a b", "ä", "a/b"] {
            assert!(!is_plain_name(name), "{name}");
        }
    }
}
