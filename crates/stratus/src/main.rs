//! The `stratus` command: run a serverless app's AWS endpoint, functions and tables on one
//! machine. Only this crate reads flags, the environment and sockets.

mod app;
mod batched;
mod cli;
mod credentials;
mod invoke;
mod report;
mod validate;

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Parser;
use stratus_aws::AwsEndpoint;
use stratus_aws::iam::{Iam, Mode};
use stratus_dynamodb::Engine;
use stratus_dynamodb::engine::SystemClock;
use stratus_lambda::{CredentialIssuer, FunctionConfig, Lambda, LambdaOptions, LogLine, LogSink};
use stratus_storage::{MemoryStore, RedbStore, Store};
use stratus_template::model::App;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::cli::{Cli, Command, FunctionOptions, IamCommand, IamMode, LogFormat, StartArgs, TemplateOptions};

/// The account id of the local administrator and everything Stratus creates.
pub const ACCOUNT_ID: &str = "000000000000";

fn main() -> std::process::ExitCode {
    // `stratus __reaper`: not a user command; kills the functions' process groups when Stratus
    // dies (see stratus_lambda::Reaper). Checked before clap.
    if std::env::args_os().nth(1).is_some_and(|a| a == "__reaper") {
        let code = stratus_lambda::run_reaper();
        return std::process::ExitCode::from(u8::try_from(code).unwrap_or(1));
    }
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Start(args) => start(args),
        Command::Invoke(args) => match invoke::run(args) {
            Ok(true) => Ok(()),
            Ok(false) => return std::process::ExitCode::FAILURE,
            Err(error) => Err(error),
        },
        Command::Validate(args) => match validate::run(args) {
            Ok(true) => Ok(()),
            Ok(false) => return std::process::ExitCode::FAILURE,
            Err(error) => Err(error),
        },
        Command::Iam(IamCommand::Report(args)) => report::run(args),
    };
    batched::flush();
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("stratus: error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Where the data lives: `--data-dir`, or `APP_DIR/.stratus/`.
fn data_dir(args: &StartArgs) -> PathBuf {
    args.data_dir.clone().unwrap_or_else(|| args.app_dir.join(".stratus"))
}

pub fn open_store(in_memory: bool, directory: &Path) -> Result<Arc<dyn Store>> {
    if in_memory {
        return Ok(Arc::new(MemoryStore::new()));
    }
    std::fs::create_dir_all(directory)
        .with_context(|| format!("cannot create the data directory {}", directory.display()))?;
    let path = directory.join("dynamodb.redb");
    let store = RedbStore::open(&path).with_context(|| {
        format!(
            "cannot open the data file {} (is another Stratus using it?)",
            path.display()
        )
    })?;
    Ok(Arc::new(store))
}

pub fn template_args<'a>(
    app_dir: &'a Path,
    template: Option<&'a Path>,
    region: &'a str,
    options: &'a TemplateOptions,
) -> Result<app::TemplateArgs<'a>> {
    Ok(app::TemplateArgs {
        app_dir,
        template,
        region,
        stack_name: options.stack_name.as_deref(),
        parameter_overrides: validate::parse_overrides(&options.parameter_overrides)?,
        config_env: &options.config_env,
        env_vars: options.env_vars.as_deref(),
    })
}

/// The Lambda service's settings from the command line and the environment.
pub fn lambda_options(
    region: &str,
    aws_endpoint_url: String,
    options: &FunctionOptions,
    credentials: Arc<dyn CredentialIssuer>,
    log_sink: LogSink,
) -> LambdaOptions {
    let mut lambda = LambdaOptions::new(app::cache_dir(), aws_endpoint_url, credentials);
    lambda.region = region.to_string();
    lambda.account = ACCOUNT_ID.to_string();
    lambda.instances_max = options.max_instances.max(1);
    lambda.idle_timeout = Duration::from_secs(options.idle_timeout.max(1));
    let delay = |index: usize, default: f64| {
        let seconds = options.async_retry_delays.get(index).copied().unwrap_or(default);
        Duration::from_secs_f64(if seconds.is_finite() {
            seconds.clamp(0.0, 3600.0)
        } else {
            default
        })
    };
    lambda.async_retry_delays = [delay(0, 60.0), delay(1, 120.0)];
    lambda.install_dependencies = !options.no_install;
    lambda.host_path = std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".to_string());
    lambda.log_sink = Some(log_sink);
    // Through /proc/self/exe: the helper starts even if the binary was rebuilt or removed since.
    lambda.reaper = Some(stratus_lambda::Reaper::start(PathBuf::from("/proc/self/exe")));
    lambda
}

/// Prints function log lines as `[FunctionName] text`, on stdout or stderr.
pub fn terminal_sink(to_stderr: bool) -> LogSink {
    log_sink(to_stderr, LogFormat::Text, false)
}

/// `batched`: gathered and written a few milliseconds later (`stratus start`, where every
/// request logs several lines); otherwise written at once (`stratus invoke`, whose logs must
/// come out before its result).
fn log_sink(to_stderr: bool, format: LogFormat, batched: bool) -> LogSink {
    Arc::new(move |line: &LogLine| {
        let text = match format {
            LogFormat::Text => format!("[{}] {}\n", line.function, line.text),
            LogFormat::Json => format!(
                "{}\n",
                serde_json::json!({
                    "type": "log",
                    "time": stratus_lambda::ids::iso_timestamp(line.time_ms),
                    "function": &*line.function,
                    "requestId": line.request_id.as_deref(),
                    "message": line.text,
                })
            ),
        };
        let stream = if to_stderr {
            batched::Stream::Stderr
        } else {
            batched::Stream::Stdout
        };
        if batched {
            batched::write(stream, &text);
        } else {
            batched::write_now(stream, text.as_bytes());
        }
    })
}

/// Prints one line per gateway request.
fn access_log(format: LogFormat) -> stratus_gateway::AccessLog {
    Arc::new(move |entry: &stratus_gateway::AccessEntry| {
        let text = match format {
            LogFormat::Text => format!(
                "[gateway] {} {} {} {:.2} ms {} {}\n",
                entry.method,
                entry.path,
                entry.status,
                entry.latency.as_secs_f64() * 1000.0,
                entry.function.as_deref().unwrap_or("-"),
                entry.request_id
            ),
            LogFormat::Json => format!(
                "{}\n",
                serde_json::json!({
                    "type": "access",
                    "time": stratus_lambda::ids::iso_timestamp(stratus_lambda::logs::now_ms()),
                    "method": entry.method,
                    "path": entry.path,
                    "status": entry.status,
                    "latencyMs": (entry.latency.as_secs_f64() * 1_000_000.0).round() / 1000.0,
                    "function": entry.function,
                    "api": entry.api,
                    "requestId": entry.request_id,
                })
            ),
        };
        batched::write(batched::Stream::Stdout, &text);
    })
}

/// The file `stratus invoke` looks for to find a running `stratus start` of the same app.
pub fn discovery_file(app_dir: &Path) -> PathBuf {
    app_dir.join(".stratus").join("server.json")
}

fn start(args: StartArgs) -> Result<()> {
    let started = Instant::now();
    if !args.app_dir.is_dir() {
        bail!("the app directory {} does not exist", args.app_dir.display());
    }
    let template_args = template_args(
        &args.app_dir,
        args.template.as_deref(),
        &args.region,
        &args.template_options,
    )?;
    let app = app::load_app(&template_args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let store = open_store(args.in_memory, &data_dir(&args))?;
        let engine = Arc::new(
            Engine::open(Arc::clone(&store), Arc::new(SystemClock), &args.region, ACCOUNT_ID)
                .map_err(|e| anyhow::anyhow!("cannot load the DynamoDB catalog: {e}"))?,
        );
        apply_engine_environment(&engine);
        let seconds = |value: f64, default: f64| {
            Duration::from_secs_f64(if value.is_finite() && value >= 0.0 {
                value.min(86_400.0)
            } else {
                default
            })
        };
        stratus_aws::start_background(
            &engine,
            stratus_aws::BackgroundOptions {
                ttl_sweep_interval: seconds(args.ttl_sweep_interval, 1.0),
                ttl_delay: seconds(args.ttl_delay, 0.0),
            },
        );
        let mut notes = Vec::new();
        if let Some(app) = &app {
            notes.extend(app::create_tables(app, &engine).await?);
        }
        let address = SocketAddr::new(args.host, args.aws_port);
        let listener = TcpListener::bind(address)
            .await
            .with_context(|| format!("cannot listen on {address} (is another Stratus running? use --aws-port)"))?;
        let bound = listener.local_addr().unwrap_or(address);
        let cache = app::cache_dir();
        let (functions, warnings): (Vec<FunctionConfig>, Vec<String>) = match &app {
            Some(app) => app::function_configs(app, &cache),
            None => (Vec::new(), Vec::new()),
        };
        notes.extend(warnings);
        let (iam, issuer, iam_notes) = build_iam(app.as_ref(), args.iam, &args.region, args.log_format);
        notes.extend(iam_notes);
        let options = lambda_options(
            &args.region,
            format!("http://{bound}"),
            &args.function_options,
            issuer,
            log_sink(false, args.log_format, true),
        );
        let lambda = Lambda::start(options, functions.clone())
            .with_context(|| format!("cannot prepare the runtime files in {}", cache.display()))?;
        let endpoint = Arc::new(AwsEndpoint::new(
            Arc::clone(&engine),
            Arc::clone(&lambda),
            Arc::clone(&iam),
        ));
        let (stop, stopping) = watch::channel(false);
        let (stream_triggers, schedules, source_notes) = match &app {
            Some(app) => app::event_sources(app),
            None => (Vec::new(), Vec::new(), Vec::new()),
        };
        notes.extend(source_notes);
        let source_lines: Vec<String> = stream_triggers
            .iter()
            .map(|t| format!("{} ← stream of table {} ({})", t.function, t.table, t.starting_position))
            .chain(schedules.iter().map(|s| {
                let state = if s.enabled { "" } else { ", disabled" };
                let zone = s
                    .timezone
                    .as_ref()
                    .map(|(name, _)| format!(", {name}"))
                    .unwrap_or_default();
                format!("{} ← schedule {} ({}{zone}{state})", s.function, s.name, s.expression)
            }))
            .collect();
        let sources = stratus_aws::event_sources::start(
            Arc::clone(&engine),
            Arc::clone(&lambda),
            stream_triggers,
            schedules,
            stopping.clone(),
        );
        let _ = endpoint.event_sources.set(sources);
        let server = tokio::spawn(stratus_aws::serve(listener, endpoint, stopping.clone()));

        // The gateway: the template's APIs and the frontend on the API port.
        let (apis, api_notes) = match &app {
            Some(app) => app::gateway_apis(app),
            None => (Vec::new(), Vec::new()),
        };
        notes.extend(api_notes);
        let static_dir = args
            .static_dir
            .clone()
            .or_else(|| app.as_ref().and_then(|a| a.frontend.clone()));
        if let Some(dir) = &static_dir
            && !dir.is_dir()
        {
            bail!("the static folder {} does not exist", dir.display());
        }
        let gateway_address = SocketAddr::new(args.host, args.api_port);
        let serve_gateway = app.is_some() || static_dir.is_some();
        let mut gateway_server = None;
        let mut gateway_bound = None;
        let mut route_lines = Vec::new();
        if serve_gateway {
            let gateway_listener = TcpListener::bind(gateway_address).await.with_context(|| {
                format!("cannot listen on {gateway_address} for the APIs (is another Stratus running? use --api-port)")
            })?;
            let bound = gateway_listener.local_addr().unwrap_or(gateway_address);
            let mut config = stratus_gateway::GatewayConfig::new(apis);
            config.static_dir = static_dir.clone();
            config.account = ACCOUNT_ID.to_string();
            config.region = args.region.clone();
            config.authorizers_enabled = !args.disable_authorizer;
            config.access_log = Some(access_log(args.log_format));
            config.port = bound.port();
            let gateway = Arc::new(stratus_gateway::Gateway::new(config, Arc::clone(&lambda)));
            route_lines = gateway.describe_routes();
            gateway_server = Some(tokio::spawn(stratus_gateway::serve(
                gateway_listener,
                gateway,
                stopping,
            )));
            gateway_bound = Some(bound);
        }

        println!("Stratus {}", env!("CARGO_PKG_VERSION"));
        println!(
            "  AWS endpoint  http://{bound}   (DynamoDB, Lambda; region {}, account {ACCOUNT_ID})",
            args.region
        );
        if args.in_memory {
            println!("  Data          in memory (discarded at exit)");
        } else {
            println!("  Data          {}", data_dir(&args).display());
        }
        match args.iam {
            IamMode::Enforce => println!(
                "  IAM           enforce (SigV4 verified; admin key {}/{}; functions get their roles' permissions)",
                credentials::ADMIN_ACCESS_KEY_ID,
                credentials::ADMIN_SECRET_ACCESS_KEY
            ),
            IamMode::Audit => {
                println!("  IAM           audit (SigV4 verified; would-be denials are logged, nothing is refused)")
            }
            IamMode::Off => {
                println!("  IAM           off (requests need a SigV4-shaped Authorization header; nothing is verified)")
            }
        }
        if let Some(bound) = gateway_bound {
            println!("  API           http://{bound}");
            if let Some(dir) = &static_dir {
                println!("  Frontend      http://{bound}/  (files from {})", dir.display());
            }
            // Like `sam local start-api`: each route once per function, with its methods.
            let mut mounted: Vec<(String, String, Vec<String>)> = Vec::new();
            for (_, method, path, function) in &route_lines {
                match mounted.iter_mut().find(|(f, p, _)| f == function && p == path) {
                    Some((_, _, methods)) => methods.push(method.clone()),
                    None => mounted.push((function.clone(), path.clone(), vec![method.clone()])),
                }
            }
            for (function, path, methods) in mounted {
                if path == "$default" {
                    println!(
                        "    Mounting {function} at http://{bound}/ ($default: every unmatched path) [{}]",
                        methods.join(", ")
                    );
                    continue;
                }
                println!(
                    "    Mounting {function} at http://{bound}{path} [{}]",
                    methods.join(", ")
                );
            }
        }
        if let Some(app) = &app {
            println!("  Template      {}", app.template.display());
            if !functions.is_empty() {
                println!("  Functions ({}, started on first use):", functions.len());
                for function in &functions {
                    println!(
                        "    {:<28} {:<16} {}",
                        function.name, function.runtime, function.handler
                    );
                }
            }
            if !app.tables.is_empty() {
                println!("  Tables ({}):", app.tables.len());
                for table in app.tables.values() {
                    println!("    {}", table.name);
                }
            }
        }
        if !source_lines.is_empty() {
            println!("  Event sources (schedules fire now with POST /_stratus/schedules/FUNCTION/EVENT):");
            for line in &source_lines {
                println!("    {line}");
            }
        }
        for note in &notes {
            println!("  Note: {note}");
        }
        let discovery = discovery_file(&args.app_dir);
        let discovery_written = write_discovery(&discovery, bound, app.as_ref().map(|a| a.template.as_path()));
        println!("Stratus ready in {} ms", started.elapsed().as_millis());
        let _ = std::io::stdout().flush();

        wait_for_signal().await;
        eprintln!("stratus: stopping");
        let _ = stop.send(true);
        let _ = server.await;
        if let Some(gateway_server) = gateway_server {
            let _ = gateway_server.await;
        }
        lambda.shutdown().await;
        if discovery_written {
            let _ = std::fs::remove_file(&discovery);
        }
        if !args.in_memory && iam.mode != Mode::Off {
            report::save_usage(&data_dir(&args), &iam);
        }
        drop(store);
        Ok::<(), anyhow::Error>(())
    })
}

/// Testing aids read from the environment: `STRATUS_ITEM_COLLECTION_LIMIT_BYTES` lowers the
/// 10 GB item-collection limit of tables with local indexes.
pub fn apply_engine_environment(engine: &Engine) {
    if let Some(bytes) = std::env::var(stratus_dynamodb::engine::ITEM_COLLECTION_LIMIT_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        engine.set_item_collection_bytes_max(bytes);
    }
}

/// IAM for an app: the administrator key, each function's role policies, and the issuer that
/// mints function credentials. Audit findings are printed on stderr.
pub fn build_iam(
    app: Option<&App>,
    mode: IamMode,
    region: &str,
    format: LogFormat,
) -> (Arc<Iam>, Arc<dyn CredentialIssuer>, Vec<String>) {
    let keys = Arc::new(stratus_iam::Credentials::new(
        ACCOUNT_ID,
        credentials::ADMIN_ACCESS_KEY_ID,
        credentials::ADMIN_SECRET_ACCESS_KEY,
    ));
    let (policies, notes) = match app {
        Some(app) => app::function_policies(app),
        None => Default::default(),
    };
    let mode = match mode {
        IamMode::Enforce => Mode::Enforce,
        IamMode::Audit => Mode::Audit,
        IamMode::Off => Mode::Off,
    };
    let audit: stratus_aws::iam::AuditSink = Box::new(move |message: &str| {
        let text = match format {
            LogFormat::Text => format!("[iam] {message}\n"),
            LogFormat::Json => format!(
                "{}\n",
                serde_json::json!({
                    "type": "iam",
                    "time": stratus_lambda::ids::iso_timestamp(stratus_lambda::logs::now_ms()),
                    "message": message,
                })
            ),
        };
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    });
    // A testing aid: check signature times against a shifted clock.
    let clock_offset = std::env::var("STRATUS_CLOCK_OFFSET_SECONDS")
        .ok()
        .and_then(|v| v.trim().parse::<i64>().ok())
        .unwrap_or(0);
    let iam = Arc::new(Iam::new(mode, Arc::clone(&keys), region, audit).with_clock_offset(clock_offset));
    let issuer: Arc<dyn CredentialIssuer> = Arc::new(credentials::FunctionCredentials::new(keys, policies));
    (iam, issuer, notes)
}

/// Records where this server listens, for `stratus invoke`.
fn write_discovery(path: &Path, address: SocketAddr, template: Option<&Path>) -> bool {
    let Some(parent) = path.parent() else { return false };
    if std::fs::create_dir_all(parent).is_err() {
        return false;
    }
    let template = template
        .map(|t| {
            t.canonicalize()
                .unwrap_or_else(|_| t.to_path_buf())
                .display()
                .to_string()
        })
        .unwrap_or_default();
    let body = serde_json::json!({
        "pid": std::process::id(),
        "aws_endpoint": format!("http://{address}"),
        "template": template,
    });
    std::fs::write(path, body.to_string()).is_ok()
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let terminate = signal(SignalKind::terminate());
        let interrupt = signal(SignalKind::interrupt());
        match (terminate, interrupt) {
            (Ok(mut terminate), Ok(mut interrupt)) => {
                tokio::select! {
                    _ = terminate.recv() => {}
                    _ = interrupt.recv() => {}
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
