//! The `stratus` command: run a serverless app's AWS endpoint (and later its APIs and functions)
//! on one machine. Only this crate reads flags, the environment and sockets.

mod cli;
mod validate;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Parser;
use stratus_aws::AwsEndpoint;
use stratus_dynamodb::Engine;
use stratus_dynamodb::engine::SystemClock;
use stratus_storage::{MemoryStore, RedbStore, Store};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::cli::{Cli, Command, IamMode, StartArgs};

/// The account id of the local administrator and everything Stratus creates.
pub const ACCOUNT_ID: &str = "000000000000";

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Start(args) => start(args),
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

fn open_store(args: &StartArgs) -> Result<Arc<dyn Store>> {
    if args.in_memory {
        return Ok(Arc::new(MemoryStore::new()));
    }
    let directory = data_dir(args);
    std::fs::create_dir_all(&directory)
        .with_context(|| format!("cannot create the data directory {}", directory.display()))?;
    let path = directory.join("dynamodb.redb");
    let store = RedbStore::open(&path).with_context(|| format!("cannot open the data file {}", path.display()))?;
    Ok(Arc::new(store))
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
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let store = open_store(&args)?;
        let engine = Engine::open(Arc::clone(&store), Arc::new(SystemClock), &args.region, ACCOUNT_ID)
            .map_err(|e| anyhow::anyhow!("cannot load the DynamoDB catalog: {e}"))?;
        let endpoint = Arc::new(AwsEndpoint::new(Arc::new(engine)));
        let address = SocketAddr::new(args.host, args.aws_port);
        let listener = TcpListener::bind(address)
            .await
            .with_context(|| format!("cannot listen on {address} (is another Stratus running? use --aws-port)"))?;
        let bound = listener.local_addr().unwrap_or(address);
        let (stop, stopping) = watch::channel(false);
        let server = tokio::spawn(stratus_aws::serve(listener, endpoint, stopping));

        println!("Stratus {}", env!("CARGO_PKG_VERSION"));
        println!(
            "  AWS endpoint  http://{bound}   (DynamoDB; region {}, account {ACCOUNT_ID})",
            args.region
        );
        if args.in_memory {
            println!("  Data          in memory (discarded at exit)");
        } else {
            println!("  Data          {}", data_dir(&args).display());
        }
        println!("  IAM           off (requests need a SigV4-shaped Authorization header; nothing is verified)");
        println!("Stratus ready in {} ms", started.elapsed().as_millis());

        wait_for_signal().await;
        eprintln!("stratus: stopping");
        let _ = stop.send(true);
        let _ = server.await;
        drop(store);
        Ok::<(), anyhow::Error>(())
    })
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
