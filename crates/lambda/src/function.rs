//! One function: its pool of instances, its concurrency limit, and the life of an invocation
//! from dispatch to END/REPORT, including the failures Lambda itself reports (timeouts, crashes,
//! out of memory, a broken runtime).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};

use crate::config::{FunctionConfig, LambdaOptions};
use crate::deps::{self, Paths};
use crate::error::InvokeError;
use crate::ids;
use crate::instance::{self, Dispatch, Instance, Outcome, SpawnSpec};
use crate::logs::{LogBook, Report};
use crate::runtime::{self, Family, Interpreters, Launch};

/// Environment variables Lambda reserves: the template cannot set them.
pub const RESERVED_VARIABLES: &[&str] = &[
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
];

/// What one invocation asks for.
#[derive(Clone, Debug, Default)]
pub struct Call {
    pub payload: Bytes,
    /// The ARN the caller used (with its qualifier), passed to the runtime.
    pub invoked_arn: String,
    /// Decoded `X-Amz-Client-Context` JSON.
    pub client_context: Option<String>,
    pub cognito_identity: Option<String>,
    /// Return the invocation's log with the result.
    pub tail: bool,
    /// The request id to use (retries of an asynchronous invocation keep theirs).
    pub request_id: Option<String>,
    /// The payload is JSON the caller wrote itself (the gateway's events): not checked again.
    pub payload_is_json: bool,
}

/// How an invocation ended, as the Invoke API reports it.
#[derive(Clone, Debug)]
pub struct Completed {
    pub request_id: String,
    pub payload: Bytes,
    /// `Unhandled` when the function failed (`X-Amz-Function-Error`).
    pub function_error: Option<String>,
    /// The error type (`Runtime.ExitError`, `ValueError`, …) when it failed.
    pub error_type: Option<String>,
    /// The invocation's whole log, when `Call::tail` asked for it.
    pub log: Option<String>,
    pub duration: Duration,
    /// Init duration when this invocation started a new instance.
    pub init_duration: Option<Duration>,
    /// The warm instance it was given had died: run it again on a new one.
    pub(crate) instance_gone: bool,
}

impl Completed {
    fn gone(id: &str) -> Completed {
        Completed {
            request_id: id.to_string(),
            payload: Bytes::new(),
            function_error: None,
            error_type: None,
            log: None,
            duration: Duration::ZERO,
            init_duration: None,
            instance_gone: true,
        }
    }
}

/// What preparing a code generation gave: how to run it, or why it cannot run.
type Preparation = Result<Arc<Prepared>, Unrunnable>;

/// Runtime and search paths worked out for a code generation.
pub struct Prepared {
    generation: u64,
    launch: Launch,
    paths: Paths,
}

/// Why the function cannot run at all; each invocation reports it as a function error.
#[derive(Clone, Debug)]
pub struct Unrunnable {
    pub error_type: String,
    pub message: String,
}

pub struct FunctionState {
    pub config: FunctionConfig,
    pub logs: Arc<LogBook>,
    slots: Arc<Semaphore>,
    reserved: bool,
    idle: Mutex<Vec<Instance>>,
    /// Instances alive (idle or busy).
    pub live: AtomicU32,
    pub busy: AtomicU32,
    pub generation: AtomicU64,
    /// The last preparation and the code generation it was made for.
    prepared: tokio::sync::Mutex<Option<(u64, Preparation)>>,
    pub fingerprint: Mutex<Option<u64>>,
    warned: AtomicBool,
    /// Extra, per-function environment for every instance (built once).
    base_environment: BTreeMap<String, String>,
}

impl FunctionState {
    pub fn new(config: FunctionConfig, options: &LambdaOptions, logs: Arc<LogBook>) -> FunctionState {
        let (permits, reserved) = match config.reserved_concurrency {
            Some(reserved) => (reserved as usize, true),
            None => (options.instances_max.max(1) as usize, false),
        };
        let base_environment = base_environment(&config, options, &logs);
        FunctionState {
            config,
            logs,
            slots: Arc::new(Semaphore::new(permits)),
            reserved,
            idle: Mutex::new(Vec::new()),
            live: AtomicU32::new(0),
            busy: AtomicU32::new(0),
            generation: AtomicU64::new(0),
            prepared: tokio::sync::Mutex::new(None),
            fingerprint: Mutex::new(None),
            warned: AtomicBool::new(false),
            base_environment,
        }
    }

    /// The code folders a change in which retires instances.
    pub fn watched_dirs(&self) -> Vec<PathBuf> {
        let mut dirs = vec![self.config.code_dir.clone()];
        dirs.extend(self.config.layer_dirs.iter().cloned());
        dirs
    }

    /// A new code generation: idle instances stop now, busy ones when they finish.
    pub fn retire_instances(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        let retired: Vec<Instance> = self
            .idle
            .lock()
            .map(|mut idle| idle.drain(..).collect())
            .unwrap_or_default();
        self.live.fetch_sub(retired.len() as u32, Ordering::SeqCst);
        drop(retired);
    }

    /// Stops idle instances unused for `idle_timeout`.
    pub fn reap(&self, idle_timeout: Duration) {
        let reaped: Vec<Instance> = match self.idle.lock() {
            Ok(mut idle) => {
                let (old, keep): (Vec<Instance>, Vec<Instance>) = idle
                    .drain(..)
                    .partition(|i| i.last_used.elapsed() >= idle_timeout || !i.is_alive());
                *idle = keep;
                old
            }
            Err(_) => Vec::new(),
        };
        self.live.fetch_sub(reaped.len() as u32, Ordering::SeqCst);
    }

    /// Stops every idle instance (busy ones are killed by their invokers seeing the stop).
    pub fn stop_all(&self) {
        let stopped: Vec<Instance> = self
            .idle
            .lock()
            .map(|mut idle| idle.drain(..).collect())
            .unwrap_or_default();
        self.live.fetch_sub(stopped.len() as u32, Ordering::SeqCst);
    }

    pub async fn acquire_slot(&self) -> Result<OwnedSemaphorePermit, InvokeError> {
        if self.reserved {
            return Arc::clone(&self.slots)
                .try_acquire_owned()
                .map_err(|_| InvokeError::Throttled);
        }
        Arc::clone(&self.slots)
            .acquire_owned()
            .await
            .map_err(|_| InvokeError::Service("Stratus is stopping".to_string()))
    }

    pub(crate) async fn prepare(&self, context: &ServiceContext<'_>) -> Result<Arc<Prepared>, Unrunnable> {
        let generation = self.generation.load(Ordering::SeqCst);
        let mut slot = self.prepared.lock().await;
        // A failure stands until the code changes (a new generation), as a success does.
        if let Some((made_for, result)) = slot.as_ref()
            && *made_for == generation
        {
            return result.clone();
        }
        if let Ok(mut fingerprint) = self.fingerprint.lock()
            && fingerprint.is_none()
        {
            *fingerprint = Some(crate::watch::fingerprint(&self.watched_dirs()));
        }
        let result = self.prepare_now(context, generation).await;
        *slot = Some((generation, result.clone()));
        result
    }

    async fn prepare_now(&self, context: &ServiceContext<'_>, generation: u64) -> Result<Arc<Prepared>, Unrunnable> {
        let launch = runtime::resolve(
            &self.config,
            context.runtime_dir,
            &context.options.host_path,
            context.interpreters,
        )
        .await
        .map_err(|e| Unrunnable {
            error_type: e.error_type.to_string(),
            message: e.message,
        })?;
        if let Some(warning) = &launch.warning
            && !self.warned.swap(true, Ordering::SeqCst)
        {
            self.logs.push(None, format!("Warning: {warning}"), true);
        }
        let deps_context = deps::Context {
            function: &self.config,
            launch: &launch,
            cache_dir: &context.options.cache_dir,
            install: context.options.install_dependencies,
            logs: &self.logs,
        };
        let paths = deps::prepare(&deps_context).await.map_err(|message| Unrunnable {
            error_type: "Stratus.DependencyInstallError".to_string(),
            message,
        })?;
        Ok(Arc::new(Prepared {
            generation,
            launch,
            paths,
        }))
    }

    fn environment(
        &self,
        prepared: &Prepared,
        context: &ServiceContext<'_>,
        instance_id: u64,
    ) -> (BTreeMap<String, String>, String) {
        let mut environment = self.base_environment.clone();
        let launch = &prepared.launch;
        if let Some(execution_env) = &launch.execution_env {
            environment.insert("AWS_EXECUTION_ENV".to_string(), execution_env.clone());
        }
        environment.insert(
            "LAMBDA_RUNTIME_DIR".to_string(),
            launch.runtime_dir.display().to_string(),
        );
        // A custom log group's streams carry the function's name, as Lambda names them.
        let stream_function = self.config.log_group.as_ref().map(|_| self.config.name.as_str());
        environment.insert(
            "AWS_LAMBDA_LOG_STREAM_NAME".to_string(),
            ids::log_stream_name(stream_function),
        );
        let credentials = context.options.credentials.issue(&self.config, instance_id);
        environment.insert("AWS_ACCESS_KEY_ID".to_string(), credentials.access_key_id.clone());
        environment.insert(
            "AWS_SECRET_ACCESS_KEY".to_string(),
            credentials.secret_access_key.clone(),
        );
        environment.insert("AWS_SESSION_TOKEN".to_string(), credentials.session_token.clone());
        let mut path: Vec<PathBuf> = prepared.paths.bin.clone();
        path.extend(std::env::split_paths(&context.options.host_path));
        if let Ok(joined) = std::env::join_paths(&path) {
            environment.insert("PATH".to_string(), joined.to_string_lossy().into_owned());
        }
        if !prepared.paths.lib.is_empty()
            && let Ok(joined) = std::env::join_paths(&prepared.paths.lib)
        {
            environment.insert("LD_LIBRARY_PATH".to_string(), joined.to_string_lossy().into_owned());
        }
        let modules_variable = match launch.family {
            Family::Python => Some("PYTHONPATH"),
            Family::Node => Some("NODE_PATH"),
            Family::Custom => None,
        };
        if let Some(variable) = modules_variable {
            let mut modules = prepared.paths.modules.clone();
            // The template may set PYTHONPATH / NODE_PATH itself; Lambda keeps its own entries.
            if let Some(own) = self.config.environment.get(variable) {
                modules.extend(std::env::split_paths(own));
            }
            if !modules.is_empty()
                && let Ok(joined) = std::env::join_paths(&modules)
            {
                environment.insert(variable.to_string(), joined.to_string_lossy().into_owned());
            }
        }
        if launch.family == Family::Python {
            environment.insert("PYTHONUNBUFFERED".to_string(), "1".to_string());
            environment.insert(
                "PYTHONPYCACHEPREFIX".to_string(),
                context.options.cache_dir.join("pycache").display().to_string(),
            );
        }
        (environment, credentials.access_key_id)
    }

    fn take_idle(&self) -> Option<Instance> {
        let generation = self.generation.load(Ordering::SeqCst);
        let mut idle = self.idle.lock().ok()?;
        while let Some(instance) = idle.pop() {
            if instance.generation == generation && instance.is_alive() {
                return Some(instance);
            }
            self.live.fetch_sub(1, Ordering::SeqCst);
        }
        None
    }

    fn put_idle(&self, mut instance: Instance, stopping: bool) {
        if stopping || instance.generation != self.generation.load(Ordering::SeqCst) || !instance.is_alive() {
            self.live.fetch_sub(1, Ordering::SeqCst);
            return;
        }
        instance.last_used = Instant::now();
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(instance);
        } else {
            self.live.fetch_sub(1, Ordering::SeqCst);
        }
    }

    fn failure(&self, request_id: &str, error_type: &str, message: String, started: Instant) -> Completed {
        let id: Arc<str> = Arc::from(request_id);
        self.logs.start(&id);
        self.logs.push(Some(&id), format!("{error_type}: {message}"), true);
        self.logs.finish(&Report {
            request_id: Arc::clone(&id),
            duration: started.elapsed(),
            memory_mb: self.config.memory_mb,
            max_memory_used_mb: 0,
            init_duration: None,
            status: Some("error"),
            error_type: Some(error_type.to_string()),
        });
        Completed {
            request_id: request_id.to_string(),
            payload: error_payload(error_type, &message),
            function_error: Some("Unhandled".to_string()),
            error_type: Some(error_type.to_string()),
            log: None,
            duration: started.elapsed(),
            init_duration: None,
            instance_gone: false,
        }
    }

    /// Runs one invocation on an instance (starting one when none is idle).
    pub async fn invoke(&self, context: &ServiceContext<'_>, call: Call) -> Result<Completed, InvokeError> {
        let _permit = self.acquire_slot().await?;
        let started = Instant::now();
        let request_id = call.request_id.clone().unwrap_or_else(ids::request_id);
        let prepared = match self.prepare(context).await {
            Ok(prepared) => prepared,
            Err(unrunnable) => {
                let mut completed = self.failure(&request_id, &unrunnable.error_type, unrunnable.message, started);
                if call.tail {
                    completed.log = Some(self.logs.invocation(&request_id));
                }
                return Ok(completed);
            }
        };
        let id: Arc<str> = Arc::from(request_id.as_str());
        let mut attempts = 0;
        loop {
            attempts += 1;
            // After a warm instance was found dead, start a fresh one.
            let idle = if attempts == 1 { self.take_idle() } else { None };
            let (mut instance, cold) = match idle {
                Some(instance) => (instance, false),
                None => {
                    let instance_id = context.instance_ids.fetch_add(1, Ordering::Relaxed);
                    let (environment, access_key_id) = self.environment(&prepared, context, instance_id);
                    let spec = SpawnSpec {
                        generation: prepared.generation,
                        launch: &prepared.launch,
                        code_dir: self.config.code_dir.clone(),
                        environment,
                        logs: Arc::clone(&self.logs),
                        first_request: Some(Arc::clone(&id)),
                        reaper: context.options.reaper.clone(),
                        access_key_id,
                    };
                    match instance::spawn(spec).await {
                        Ok(instance) => {
                            self.live.fetch_add(1, Ordering::SeqCst);
                            (instance, true)
                        }
                        Err(error) => {
                            let message = format!("cannot start {}: {error}", prepared.launch.program.display());
                            let mut completed =
                                self.failure(&request_id, "Runtime.InvalidEntrypoint", message, started);
                            if call.tail {
                                completed.log = Some(self.logs.invocation(&request_id));
                            }
                            return Ok(completed);
                        }
                    }
                }
            };
            if !cold {
                instance.shared.set_log_request(Some(Arc::clone(&id)));
            }
            self.busy.fetch_add(1, Ordering::SeqCst);
            let result = self.run(context, &mut instance, cold, &id, call.clone(), started).await;
            self.busy.fetch_sub(1, Ordering::SeqCst);
            let (completed, healthy) = result;
            let stopping = context.stopping.load(Ordering::SeqCst);
            if healthy {
                self.put_idle(instance, stopping);
            } else {
                instance.kill();
                self.live.fetch_sub(1, Ordering::SeqCst);
                context.options.credentials.revoke(&instance.access_key_id);
            }
            if completed.instance_gone && attempts < 2 && !stopping {
                continue;
            }
            return Ok(completed);
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn run(
        &self,
        context: &ServiceContext<'_>,
        instance: &mut Instance,
        cold: bool,
        id: &Arc<str>,
        call: Call,
        started: Instant,
    ) -> (Completed, bool) {
        let timeout = self.config.timeout;
        let (picked_sender, mut picked) = oneshot::channel();
        let (reply_sender, mut reply) = oneshot::channel();
        let dispatch = Dispatch {
            request_id: Arc::clone(id),
            payload: call.payload,
            invoked_arn: call.invoked_arn,
            trace_id: ids::trace_id(),
            client_context: call.client_context,
            cognito_identity: call.cognito_identity,
            timeout,
            picked: picked_sender,
            reply: reply_sender,
        };
        let mut exited = instance.exited.clone();
        let exit_view = instance.exited.clone();
        let shared = Arc::clone(&instance.shared);
        let mut stop = context.stop_signal.clone();
        if instance.sender.try_send(dispatch).is_err() {
            let completed = self.failure(
                id,
                "Runtime.ExitError",
                format!("RequestId: {id} Error: Runtime exited without providing a reason"),
                started,
            );
            return (completed, false);
        }

        // A new instance first runs its init phase, up to the pick-up (the end of init), and its
        // handler's deadline and memory checks start then. A warm instance's runtime is waiting
        // in `next` and takes the invocation at once, so its pick-up is not waited for on its own
        // (a wake-up less per invocation): it is read when the invocation ends, and the one timer
        // turns from the pick-up limit into the deadline if it fires first.
        let init_limit = context.options.init_timeout.max(Duration::from_millis(100));
        let waiting_since = tokio::time::Instant::now();
        let mut picked_at = None;
        let timer = tokio::time::sleep(if cold { init_limit } else { init_limit.min(timeout) });
        tokio::pin!(timer);
        if cold {
            enum Phase {
                Picked(Instant),
                Ended(EndParts),
                Gone,
            }
            let phase = tokio::select! {
                biased;
                at = &mut picked => match at {
                    Ok(at) => Phase::Picked(at),
                    Err(_) => Phase::Gone,
                },
                outcome = &mut reply => match outcome {
                    Ok(outcome) => Phase::Ended(EndParts::Outcome(outcome)),
                    Err(_) => Phase::Gone,
                },
                _ = wait_exit(&mut exited) => Phase::Gone,
                _ = &mut timer => Phase::Ended(EndParts::InitTimeout),
                _ = wait_stop(&mut stop) => Phase::Ended(EndParts::Stopping),
            };
            match phase {
                Phase::Picked(at) => {
                    picked_at = Some(at);
                    timer.as_mut().reset(tokio::time::Instant::from_std(at + timeout));
                    // What init used, while the process is surely there to be read.
                    instance.read_peak();
                }
                Phase::Ended(end) => {
                    return self
                        .conclude(context, instance, id, end, cold, None, started, &shared, call.tail)
                        .await;
                }
                Phase::Gone => {
                    return self
                        .unpicked(
                            context, instance, id, cold, started, &shared, call.tail, &mut reply, &exit_view,
                        )
                        .await;
                }
            }
        }
        // Memory is checked every 10 ms while the handler runs (over MemorySize: killed).
        let watch = instance.memory().cloned().map(|memory| {
            let peak = Arc::clone(&instance.peak_mb);
            context
                .watchdog
                .watch(memory, instance.pid, self.config.memory_mb, peak)
        });
        let watched = watch.as_ref().map(|w| Arc::clone(&w.watched));
        let out_of_memory = async {
            match &watched {
                Some(watched) => watched.exceeded().await,
                None => std::future::pending().await,
            }
        };
        tokio::pin!(out_of_memory);
        enum Ending {
            Replied(Outcome),
            ReplyGone,
            OutOfMemory,
            Exited,
            Timeout,
            InitTimeout,
            Stopping,
        }
        let ending = loop {
            tokio::select! {
                biased;
                outcome = &mut reply => break match outcome {
                    Ok(outcome) => Ending::Replied(outcome),
                    Err(_) => Ending::ReplyGone,
                },
                _ = &mut out_of_memory => break Ending::OutOfMemory,
                _ = wait_exit(&mut exited) => break Ending::Exited,
                _ = &mut timer => {
                    picked_at = picked_at.or_else(|| picked.try_recv().ok());
                    let now = tokio::time::Instant::now();
                    match picked_at {
                        Some(at) => {
                            let deadline = tokio::time::Instant::from_std(at + timeout);
                            if now >= deadline {
                                break Ending::Timeout;
                            }
                            timer.as_mut().reset(deadline);
                        }
                        None if now >= waiting_since + init_limit => break Ending::InitTimeout,
                        None => timer.as_mut().reset(waiting_since + init_limit),
                    }
                }
                _ = wait_stop(&mut stop) => break Ending::Stopping,
            }
        };
        drop(watch);
        let exceeded = watched.as_ref().is_some_and(|w| w.is_exceeded());
        let Some(picked_at) = picked_at.or_else(|| picked.try_recv().ok()) else {
            // A warm instance that never took the invocation.
            let end = match ending {
                Ending::Replied(outcome) => EndParts::Outcome(outcome),
                Ending::ReplyGone | Ending::Exited => {
                    return self
                        .unpicked(
                            context, instance, id, cold, started, &shared, call.tail, &mut reply, &exit_view,
                        )
                        .await;
                }
                Ending::OutOfMemory => EndParts::OutOfMemory,
                Ending::Timeout | Ending::InitTimeout => EndParts::InitTimeout,
                Ending::Stopping => EndParts::Stopping,
            };
            return self
                .conclude(context, instance, id, end, cold, None, started, &shared, call.tail)
                .await;
        };
        let end = match ending {
            Ending::Replied(outcome) => EndParts::Outcome(outcome),
            Ending::ReplyGone if exceeded => EndParts::OutOfMemory,
            Ending::ReplyGone => EndParts::Exited(exit_description(&exit_view)),
            Ending::OutOfMemory => EndParts::OutOfMemory,
            // A reply posted just before the exit still counts.
            Ending::Exited => match reply.try_recv() {
                Ok(outcome) => EndParts::Outcome(outcome),
                Err(_) if exceeded => EndParts::OutOfMemory,
                Err(_) => EndParts::Exited(exit_description(&exit_view)),
            },
            Ending::Timeout | Ending::InitTimeout => EndParts::Timeout,
            Ending::Stopping => EndParts::Stopping,
        };
        let init_duration = cold.then(|| picked_at.saturating_duration_since(instance.spawned_at));
        instance.initialized = true;
        self.conclude(
            context,
            instance,
            id,
            end,
            cold,
            init_duration,
            picked_at,
            &shared,
            call.tail,
        )
        .await
    }

    /// The instance went away without taking the invocation: an init error it posted, or for
    /// a warm instance that died, a retry on a new one.
    #[allow(clippy::too_many_arguments)]
    async fn unpicked(
        &self,
        context: &ServiceContext<'_>,
        instance: &mut Instance,
        id: &Arc<str>,
        cold: bool,
        started: Instant,
        shared: &Arc<instance::Shared>,
        tail: bool,
        reply: &mut oneshot::Receiver<Outcome>,
        exit_view: &tokio::sync::watch::Receiver<Option<String>>,
    ) -> (Completed, bool) {
        // The init error arrives on the reply (its sender dropped the pick-up one).
        let end = match reply.try_recv().ok().or_else(|| shared.take_init_error()) {
            Some(outcome) => EndParts::Outcome(outcome),
            // A warm instance that died before taking the invocation: try a new one.
            None if !cold => return (Completed::gone(id), false),
            None => EndParts::Exited(exit_description(exit_view)),
        };
        self.conclude(context, instance, id, end, cold, None, started, shared, tail)
            .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn conclude(
        &self,
        _context: &ServiceContext<'_>,
        instance: &mut Instance,
        id: &Arc<str>,
        parts: EndParts,
        cold: bool,
        init_duration: Option<Duration>,
        since: Instant,
        shared: &Arc<instance::Shared>,
        tail: bool,
    ) -> (Completed, bool) {
        let duration = since.elapsed();
        let timeout = self.config.timeout;
        // An init that failed or ran out of time gets INIT_REPORT, before START, as on Lambda.
        let init_failed = match &parts {
            EndParts::Outcome(Outcome::InitError { .. }) => Some("error"),
            EndParts::InitTimeout => Some("timeout"),
            // A new process that died (or was killed for its memory) before taking the event.
            EndParts::Exited(_) | EndParts::OutOfMemory if cold && !instance.initialized => Some("error"),
            _ => None,
        };
        let (payload, function_error, error_type, healthy, status, platform_line) = match parts {
            EndParts::Outcome(Outcome::Response(body)) => (body, None, None, true, None, None),
            EndParts::Outcome(Outcome::Error { body, error_type }) => {
                let error_type = error_type.or_else(|| body_error_type(&body));
                (body, Some("Unhandled"), error_type, true, None, None)
            }
            EndParts::Outcome(Outcome::InitError { body, error_type }) => {
                // INIT_REPORT and REPORT name the header's type as Lambda checks it.
                let error_type = platform_error_type(error_type.as_deref());
                (body, Some("Unhandled"), Some(error_type), false, Some("error"), None)
            }
            EndParts::Outcome(Outcome::ResponseTooLarge) => {
                let message = format!(
                    "Response payload size exceeded maximum allowed payload size ({} bytes).",
                    crate::error::RESPONSE_BYTES_MAX
                );
                let line = format!("RequestId: {id} Error: {message}");
                (
                    error_payload("Function.ResponseSizeTooLarge", &message),
                    Some("Unhandled"),
                    Some("Function.ResponseSizeTooLarge".to_string()),
                    true,
                    None,
                    Some(line),
                )
            }
            EndParts::Exited(description) => {
                let message = if description == "exit status 0" {
                    format!("RequestId: {id} Error: Runtime exited without providing a reason")
                } else {
                    format!("RequestId: {id} Error: Runtime exited with error: {description}")
                };
                let line = format!("{message}\nRuntime.ExitError");
                (
                    error_payload("Runtime.ExitError", &message),
                    Some("Unhandled"),
                    Some("Runtime.ExitError".to_string()),
                    false,
                    Some("error"),
                    Some(line),
                )
            }
            EndParts::Timeout => {
                let seconds = format!("{:.2}", timeout.as_secs_f64());
                let message = format!("RequestId: {id} Error: Task timed out after {seconds} seconds");
                let line = format!(
                    "{} {id} Task timed out after {seconds} seconds",
                    ids::iso_timestamp(crate::logs::now_ms())
                );
                (
                    error_payload("Sandbox.Timedout", &message),
                    Some("Unhandled"),
                    Some("Sandbox.Timedout".to_string()),
                    false,
                    Some("timeout"),
                    Some(line),
                )
            }
            EndParts::InitTimeout => {
                let message = format!(
                    "RequestId: {id} Error: the runtime did not finish its init phase within {:.2} seconds",
                    _context.options.init_timeout.as_secs_f64()
                );
                (
                    error_payload("Sandbox.Timedout", &message),
                    Some("Unhandled"),
                    Some("Sandbox.Timedout".to_string()),
                    false,
                    Some("timeout"),
                    Some(message.clone()),
                )
            }
            EndParts::OutOfMemory => {
                let message = format!("RequestId: {id} Error: Runtime exited with error: signal: killed");
                let line = format!("{message}\nRuntime.OutOfMemory");
                (
                    error_payload("Runtime.OutOfMemory", &message),
                    Some("Unhandled"),
                    Some("Runtime.OutOfMemory".to_string()),
                    false,
                    Some("error"),
                    Some(line),
                )
            }
            EndParts::Stopping => {
                let message = format!("RequestId: {id} Error: Stratus is stopping");
                (
                    error_payload("Runtime.ExitError", &message),
                    Some("Unhandled"),
                    Some("Runtime.ExitError".to_string()),
                    false,
                    Some("error"),
                    Some(message.clone()),
                )
            }
        };
        // The exact peak is read here after a cold start, and before any kill (a dead process has
        // no figures left to read). A warm instance's figure is kept current by the watchdog,
        // off this path (see watchdog.rs).
        if cold || !healthy {
            instance.read_peak();
        }
        if !healthy && instance.is_alive() {
            crate::process::kill_group(instance.pid);
        }
        let picked = instance.initialized;
        if let Some(init_status) = init_failed {
            // What init wrote (its traceback) comes before INIT_REPORT, as on Lambda.
            shared.flush_output();
            self.logs.init_report(
                id,
                instance.spawned_at.elapsed(),
                init_status,
                error_type.as_deref().filter(|_| init_status == "error"),
            );
        }
        if !picked {
            // Never reached the handler: START was not written by the runtime's `next`.
            self.logs.start(id);
        }
        if let Some(line) = platform_line {
            for text in line.split('\n') {
                self.logs.push(Some(id), text.to_string(), true);
            }
        }
        let max_used = instance.peak();
        let report = Report {
            request_id: Arc::clone(id),
            duration,
            memory_mb: self.config.memory_mb,
            max_memory_used_mb: if status == Some("error") && error_type.as_deref() == Some("Runtime.OutOfMemory") {
                self.config.memory_mb.max(max_used)
            } else {
                max_used
            },
            init_duration: if cold { init_duration } else { None },
            status,
            error_type: status.and(error_type.clone()),
        };
        shared.close_invocation(report);
        let log = tail.then(|| self.logs.invocation(id));
        (
            Completed {
                request_id: id.to_string(),
                payload,
                function_error: function_error.map(str::to_string),
                error_type,
                log,
                duration,
                init_duration: if cold { init_duration } else { None },
                instance_gone: false,
            },
            healthy,
        )
    }
}

/// The ends of an invocation, once known.
enum EndParts {
    Outcome(Outcome),
    Exited(String),
    Timeout,
    InitTimeout,
    OutOfMemory,
    Stopping,
}

/// Resolves once the process is gone (the guard of `wait_for` is not held across awaits).
async fn wait_exit(exited: &mut tokio::sync::watch::Receiver<Option<String>>) {
    let _ = exited.wait_for(Option::is_some).await.map(|_| ());
}

async fn wait_stop(stop: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await.map(|_| ());
}

fn exit_description(exited: &tokio::sync::watch::Receiver<Option<String>>) -> String {
    exited.borrow().clone().unwrap_or_else(|| "exit status 0".to_string())
}

/// `{"errorType": ..., "errorMessage": ...}`, the shape Lambda gives its own errors.
pub fn error_payload(error_type: &str, message: &str) -> Bytes {
    Bytes::from(serde_json::json!({"errorType": error_type, "errorMessage": message}).to_string())
}

/// The error type Lambda's own records give a runtime-reported error: the runtime's
/// `Lambda-Runtime-Function-Error-Type` when it is `Runtime.` or `Function.` and a capitalised
/// word (`Runtime.ImportModuleError`), otherwise `Function.Unknown` for a `Function.` prefix and
/// `Runtime.Unknown` for anything else, a missing header included. The caller's payload keeps
/// the runtime's own `errorType`.
fn platform_error_type(header: Option<&str>) -> String {
    let header = header.unwrap_or("");
    for prefix in ["Runtime.", "Function."] {
        if let Some(word) = header.strip_prefix(prefix) {
            let mut chars = word.chars();
            let capitalised = chars.next().is_some_and(|c| c.is_ascii_uppercase());
            if capitalised && word.len() >= 2 && chars.all(|c| c.is_ascii_alphabetic()) {
                return header.to_string();
            }
        }
    }
    if header.starts_with("Function.") {
        "Function.Unknown".to_string()
    } else {
        "Runtime.Unknown".to_string()
    }
}

fn body_error_type(body: &Bytes) -> Option<String> {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()?
        .get("errorType")?
        .as_str()
        .map(str::to_string)
}

/// Things every invocation of the service shares.
pub struct ServiceContext<'a> {
    pub options: &'a LambdaOptions,
    pub watchdog: &'a crate::watchdog::Watchdog,
    pub runtime_dir: &'a std::path::Path,
    pub interpreters: &'a Interpreters,
    pub instance_ids: &'a AtomicU64,
    pub stopping: &'a AtomicBool,
    pub stop_signal: tokio::sync::watch::Receiver<bool>,
}

/// The environment every instance of `config` shares (credentials and paths come per instance).
fn base_environment(config: &FunctionConfig, options: &LambdaOptions, logs: &LogBook) -> BTreeMap<String, String> {
    let mut environment = BTreeMap::new();
    let mut ignored = Vec::new();
    for (key, value) in &config.environment {
        if RESERVED_VARIABLES.contains(&key.as_str()) {
            ignored.push(key.clone());
            continue;
        }
        environment.insert(key.clone(), value.clone());
    }
    if !ignored.is_empty() {
        logs.push(
            None,
            format!(
                "Warning: {} sets reserved environment variables that Lambda does not let functions set: {} (ignored)",
                config.name,
                ignored.join(", ")
            ),
            true,
        );
    }
    let set = |environment: &mut BTreeMap<String, String>, key: &str, value: String| {
        environment.insert(key.to_string(), value);
    };
    set(&mut environment, "_HANDLER", config.handler.clone());
    set(
        &mut environment,
        "LAMBDA_TASK_ROOT",
        config.code_dir.display().to_string(),
    );
    set(&mut environment, "AWS_LAMBDA_FUNCTION_NAME", config.name.clone());
    set(&mut environment, "AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_string());
    set(
        &mut environment,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        config.memory_mb.to_string(),
    );
    set(&mut environment, "AWS_LAMBDA_LOG_GROUP_NAME", config.log_group_name());
    set(
        &mut environment,
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "on-demand".to_string(),
    );
    set(&mut environment, "AWS_REGION", options.region.clone());
    set(&mut environment, "AWS_DEFAULT_REGION", options.region.clone());
    if !config.environment.contains_key("AWS_ENDPOINT_URL") {
        set(&mut environment, "AWS_ENDPOINT_URL", options.aws_endpoint_url.clone());
    }
    if config.log_format == "JSON" {
        set(&mut environment, "AWS_LAMBDA_LOG_FORMAT", "JSON".to_string());
        if let Some(level) = &config.application_log_level {
            set(&mut environment, "AWS_LAMBDA_LOG_LEVEL", level.clone());
        }
    }
    set(&mut environment, "TZ", ":UTC".to_string());
    if !config.environment.contains_key("LANG") {
        set(&mut environment, "LANG", "en_US.UTF-8".to_string());
    }
    if !config.environment.contains_key("AWS_XRAY_CONTEXT_MISSING") {
        set(&mut environment, "AWS_XRAY_CONTEXT_MISSING", "LOG_ERROR".to_string());
    }
    // The host's AWS config and credentials files must not leak into functions (Lambda has
    // none), or a profile's region or keys would override the function's own.
    let nowhere = options.cache_dir.join("no-aws-config");
    set(
        &mut environment,
        "AWS_CONFIG_FILE",
        nowhere.join("config").display().to_string(),
    );
    set(
        &mut environment,
        "AWS_SHARED_CREDENTIALS_FILE",
        nowhere.join("credentials").display().to_string(),
    );
    environment
}

#[cfg(test)]
mod tests {
    use super::platform_error_type;

    #[test]
    fn runtime_error_types_are_checked_as_lambda_checks_them() {
        let cases = [
            (None, "Runtime.Unknown"),
            (Some(""), "Runtime.Unknown"),
            (Some("Runtime.ImportModuleError"), "Runtime.ImportModuleError"),
            (Some("Function.MyError"), "Function.MyError"),
            (Some("RuntimeError"), "Runtime.Unknown"),
            (Some("Custom.InitFailed"), "Runtime.Unknown"),
            (Some("Runtime.lowercase"), "Runtime.Unknown"),
            (Some("Runtime.A"), "Runtime.Unknown"),
            (Some("Runtime.My2Error"), "Runtime.Unknown"),
            (Some("Function.bad"), "Function.Unknown"),
            (Some(" Runtime.Spaced"), "Runtime.Unknown"),
        ];
        for (header, expected) in cases {
            assert_eq!(platform_error_type(header), expected, "{header:?}");
        }
    }
}
