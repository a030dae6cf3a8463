//! What the service needs to know about each function and about itself. The binary builds
//! these from the app model and the command line; this crate reads no flags or environment.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::logs::LogLine;
use crate::process::Reaper;

/// One function, as the service runs it.
#[derive(Clone, Debug)]
pub struct FunctionConfig {
    /// The physical name (`FunctionName`, or the logical id).
    pub name: String,
    /// The template's logical id (also accepted by `stratus invoke`).
    pub logical_id: String,
    /// `arn:aws:lambda:REGION:ACCOUNT:function:NAME`.
    pub arn: String,
    /// `python3.12`, `nodejs20.x`, `provided.al2023`, …
    pub runtime: String,
    /// `app.handler`; for `provided` runtimes, passed through as `_HANDLER`.
    pub handler: String,
    /// The folder holding the code (`LAMBDA_TASK_ROOT`).
    pub code_dir: PathBuf,
    pub timeout: Duration,
    pub memory_mb: u64,
    /// The template's `Environment.Variables` with `--env-vars` applied.
    pub environment: BTreeMap<String, String>,
    /// The content folders of the function's layers, in order (what AWS mounts at `/opt`).
    pub layer_dirs: Vec<PathBuf>,
    /// `ReservedConcurrentExecutions`: more concurrent invocations are throttled.
    pub reserved_concurrency: Option<u32>,
    /// The execution role, whose credentials the function's processes get.
    pub role_arn: String,
    /// `x86_64` or `arm64` (recorded; the host's architecture runs the code).
    pub architectures: Vec<String>,
    /// The ARNs of the layers in `layer_dirs`, in the same order.
    pub layer_arns: Vec<String>,
    /// What GetFunction reports and nothing runs differently for: the template's
    /// `Description`, tracing mode, `/tmp` size and tags.
    pub description: String,
    pub tracing_mode: String,
    pub ephemeral_storage_mb: u64,
    pub tags: BTreeMap<String, String>,
    /// `LoggingConfig`: `Text` or `JSON`; with JSON, the application and system log levels.
    /// The application level and the format reach the runtime (`AWS_LAMBDA_LOG_FORMAT`,
    /// `AWS_LAMBDA_LOG_LEVEL`), whose logger follows them, as on Lambda.
    pub log_format: String,
    pub application_log_level: Option<String>,
    pub system_log_level: Option<String>,
    /// `LoggingConfig.LogGroup`, when the template names one other than the default.
    pub log_group: Option<String>,
}

impl FunctionConfig {
    /// The function's log group: the template's, else Lambda's default `/aws/lambda/NAME`.
    pub fn log_group_name(&self) -> String {
        self.log_group
            .clone()
            .unwrap_or_else(|| format!("/aws/lambda/{}", self.name))
    }
}

/// Temporary credentials handed to one instance.
#[derive(Clone)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("session_token", &"<redacted>")
            .finish()
    }
}

/// Mints credentials for a function's role each time an instance starts (and forgets them when
/// it stops). The IAM layer implements it so that requests signed with them map back to the role.
pub trait CredentialIssuer: Send + Sync {
    fn issue(&self, function: &FunctionConfig, instance: u64) -> Credentials;
    fn revoke(&self, _access_key_id: &str) {}
}

/// Where each log line goes besides the service's own buffer (the terminal, in the binary).
pub type LogSink = Arc<dyn Fn(&LogLine) + Send + Sync>;

/// Service-wide settings.
#[derive(Clone)]
pub struct LambdaOptions {
    pub region: String,
    pub account: String,
    /// `AWS_ENDPOINT_URL` for functions: Stratus's AWS endpoint.
    pub aws_endpoint_url: String,
    /// Instances a function without reserved concurrency may run at once; further invocations
    /// wait for one to free up (a local machine's limit, not AWS's, so it queues, not throttles).
    /// See [`default_instances_max`].
    pub instances_max: u32,
    /// Idle instances are stopped after this long.
    pub idle_timeout: Duration,
    /// How long the init phase may take before the instance is given up.
    pub init_timeout: Duration,
    /// Cached runtime files, installed SDKs and dependencies.
    pub cache_dir: PathBuf,
    /// Delays before the two retries of a failed asynchronous (`Event`) invocation.
    pub async_retry_delays: [Duration; 2],
    /// How often code folders are checked for changes (hot reload).
    pub watch_interval: Duration,
    /// Install missing SDKs and `requirements.txt` / `package.json` dependencies.
    pub install_dependencies: bool,
    /// The host's `PATH`, used to find interpreters and given to functions.
    pub host_path: String,
    /// Lines kept per function for the console and `LogType: Tail`.
    pub log_lines_max: usize,
    pub credentials: Arc<dyn CredentialIssuer>,
    pub log_sink: Option<LogSink>,
    /// Kills the functions' own child processes too when Stratus dies (see [`Reaper`]). Without
    /// it only the function processes die with Stratus.
    pub reaper: Option<Arc<Reaper>>,
}

/// The default of [`LambdaOptions::instances_max`]: twice the CPUs this process may use, from 4
/// to 16. Instances beyond the machine's cores compete for them with Stratus and each other:
/// with 16 callers on 2 cores, 4 instances of a function served a trivial handler 20-90 % faster
/// than 16 (Node most), with a lower p99 (`docs/benchmarks.md`). Callers beyond it wait.
pub fn default_instances_max() -> u32 {
    let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
    u32::try_from(cpus.saturating_mul(2)).unwrap_or(u32::MAX).clamp(4, 16)
}

impl LambdaOptions {
    /// Defaults for tests and embedders; the binary sets every field from its flags.
    pub fn new(cache_dir: PathBuf, aws_endpoint_url: String, credentials: Arc<dyn CredentialIssuer>) -> LambdaOptions {
        LambdaOptions {
            region: "us-east-1".to_string(),
            account: "000000000000".to_string(),
            aws_endpoint_url,
            instances_max: default_instances_max(),
            idle_timeout: Duration::from_secs(600),
            init_timeout: Duration::from_secs(10),
            cache_dir,
            async_retry_delays: [Duration::from_secs(60), Duration::from_secs(120)],
            watch_interval: Duration::from_millis(250),
            install_dependencies: true,
            host_path: "/usr/local/bin:/usr/bin:/bin".to_string(),
            log_lines_max: 5000,
            credentials,
            log_sink: None,
            reaper: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_pool_follows_the_cpus_within_bounds() {
        let default = default_instances_max();
        assert!((4..=16).contains(&default), "{default}");
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        assert_eq!(default as usize, (cpus * 2).clamp(4, 16));
    }
}
