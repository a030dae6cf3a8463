//! The `stratus` command: run a serverless app's AWS endpoint, functions and tables on one
//! machine. Only this crate reads flags, the environment and sockets.

mod app;
mod cli;
mod credentials;
mod invoke;
mod validate;

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Parser;
use stratus_aws::AwsEndpoint;
use stratus_dynamodb::Engine;
use stratus_dynamodb::engine::SystemClock;
use stratus_lambda::{FunctionConfig, Lambda, LambdaOptions, LogLine, LogSink};
use stratus_storage::{MemoryStore, RedbStore, Store};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::cli::{Cli, Command, FunctionOptions, IamMode, StartArgs, TemplateOptions};

/// The account id of the local administrator and everything Stratus creates.
pub const ACCOUNT_ID: &str = "000000000000";

fn main() -> std::process::ExitCode {
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
    };
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
    credentials: Arc<credentials::LocalCredentials>,
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
    lambda
}

/// Prints function log lines as `[FunctionName] text`, on stdout or stderr.
pub fn terminal_sink(to_stderr: bool) -> LogSink {
    Arc::new(move |line: &LogLine| {
        let text = format!("[{}] {}\n", line.function, line.text);
        if to_stderr {
            let _ = std::io::stderr().lock().write_all(text.as_bytes());
        } else {
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
        }
    })
}

/// The file `stratus invoke` looks for to find a running `stratus start` of the same app.
pub fn discovery_file(app_dir: &Path) -> PathBuf {
    app_dir.join(".stratus").join("server.json")
}

fn start(args: StartArgs) -> Result<()> {
    let started = Instant::now();
    if args.iam != IamMode::Off {
        bail!(
            "--iam {} is not available yet: only --iam off (no signature or policy checks) is implemented",
            args.iam.name()
        );
    }
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
        let credentials = Arc::new(credentials::LocalCredentials::default());
        let options = lambda_options(
            &args.region,
            format!("http://{bound}"),
            &args.function_options,
            Arc::clone(&credentials),
            terminal_sink(false),
        );
        let lambda = Lambda::start(options, functions.clone())
            .with_context(|| format!("cannot prepare the runtime files in {}", cache.display()))?;
        let endpoint = Arc::new(AwsEndpoint::new(Arc::clone(&engine), Arc::clone(&lambda)));
        let (stop, stopping) = watch::channel(false);
        let server = tokio::spawn(stratus_aws::serve(listener, endpoint, stopping));

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
        println!("  IAM           off (requests need a SigV4-shaped Authorization header; nothing is verified)");
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
        lambda.shutdown().await;
        if discovery_written {
            let _ = std::fs::remove_file(&discovery);
        }
        drop(store);
        Ok::<(), anyhow::Error>(())
    })
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
