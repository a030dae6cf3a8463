//! Command-line flags, as the brief's command-line contract gives them.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(name = "stratus", version, about = "Run an AWS SAM serverless app on one machine")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Serve the app: the AWS endpoint (DynamoDB, Lambda) and the template's functions and tables.
    Start(StartArgs),
    /// Run one invocation of a function, like `sam local invoke`: result on stdout, logs on stderr.
    Invoke(InvokeArgs),
    /// Load the template and print what it declares, and every problem with file:line.
    Validate(ValidateArgs),
    /// IAM tools: `stratus iam report` shows what each function used, left unused and was denied.
    #[command(subcommand)]
    Iam(IamCommand),
}

#[derive(Subcommand)]
pub enum IamCommand {
    /// Per function: permissions used, granted but unused, denied; the least-privilege policy
    /// that would allow exactly what ran; over-broad grants. From a running `stratus start` of
    /// the app, or else what the last one saved.
    Report(ReportArgs),
}

#[derive(Args)]
pub struct ReportArgs {
    /// The app folder (holding template.yaml).
    #[arg(default_value = ".")]
    pub app_dir: PathBuf,
    /// The template file (default: APP_DIR/template.yaml, .yml or .json).
    #[arg(long)]
    pub template: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// The region of the app's ARNs.
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
    /// Where the app's data lives (default APP_DIR/.stratus/).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    #[command(flatten)]
    pub template_options: TemplateOptions,
}

/// Template options shared by `start` and `invoke`.
#[derive(Args, Clone)]
pub struct TemplateOptions {
    /// Parameter values, as NAME=VALUE.
    #[arg(long, num_args = 1..)]
    pub parameter_overrides: Vec<String>,
    /// The stack name the template sees as AWS::StackName (default: the app folder's name).
    #[arg(long)]
    pub stack_name: Option<String>,
    /// The samconfig.toml environment to read.
    #[arg(long, default_value = "default")]
    pub config_env: String,
    /// Environment variable overrides in SAM CLI's env.json shape.
    #[arg(long)]
    pub env_vars: Option<PathBuf>,
}

/// How functions run, shared by `start` and `invoke`.
#[derive(Args, Clone)]
pub struct FunctionOptions {
    /// Instances a function without ReservedConcurrentExecutions may run at once (further
    /// invocations wait for a free one).
    #[arg(long, default_value_t = 16)]
    pub max_instances: u32,
    /// Seconds an idle instance is kept warm.
    #[arg(long, default_value_t = 600)]
    pub idle_timeout: u64,
    /// Seconds before the two retries of a failed asynchronous invocation (AWS: 60 and 120).
    #[arg(long, value_delimiter = ',', default_values_t = [60.0, 120.0])]
    pub async_retry_delays: Vec<f64>,
    /// Do not install requirements.txt / package.json dependencies or the AWS SDK.
    #[arg(long)]
    pub no_install: bool,
}

#[derive(Args)]
pub struct InvokeArgs {
    /// The function: its logical id in the template or its name.
    pub function: String,
    /// The app folder (holding template.yaml).
    #[arg(default_value = ".")]
    pub app_dir: PathBuf,
    /// The template file (default: APP_DIR/template.yaml, .yml or .json).
    #[arg(long)]
    pub template: Option<PathBuf>,
    /// The event: a JSON file, or - for standard input (default: {}).
    #[arg(long, short = 'e')]
    pub event: Option<String>,
    /// The region functions see.
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
    /// Where the app's data lives when no `stratus start` is running (default APP_DIR/.stratus/).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// IAM mode of the endpoint a standalone invocation starts for the function's SDK calls.
    #[arg(long, value_enum, default_value = "enforce")]
    pub iam: IamMode,
    #[command(flatten)]
    pub template_options: TemplateOptions,
    #[command(flatten)]
    pub function_options: FunctionOptions,
}

#[derive(Args)]
pub struct ValidateArgs {
    /// The app folder (holding template.yaml).
    #[arg(default_value = ".")]
    pub app_dir: PathBuf,
    /// The template file (default: APP_DIR/template.yaml, .yml or .json).
    #[arg(long)]
    pub template: Option<PathBuf>,
    /// Parameter values, as NAME=VALUE.
    #[arg(long, num_args = 1..)]
    pub parameter_overrides: Vec<String>,
    /// The stack name the template sees as AWS::StackName (default: the app folder's name).
    #[arg(long)]
    pub stack_name: Option<String>,
    /// The region the template sees as AWS::Region.
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
    /// The samconfig.toml environment to read.
    #[arg(long, default_value = "default")]
    pub config_env: String,
    /// Environment variable overrides in SAM CLI's env.json shape.
    #[arg(long)]
    pub env_vars: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// `[Function] line` and one access line per request.
    Text,
    /// One JSON object per line.
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum IamMode {
    /// Verify signatures and refuse what the caller's policies do not allow, as AWS would.
    Enforce,
    /// Verify signatures; evaluate policies but only log what would be refused.
    Audit,
    /// Check neither signatures nor policies, as DynamoDB Local.
    Off,
}

impl IamMode {
    pub fn name(self) -> &'static str {
        match self {
            IamMode::Enforce => "enforce",
            IamMode::Audit => "audit",
            IamMode::Off => "off",
        }
    }
}

#[derive(Args)]
pub struct StartArgs {
    /// The app folder (holding template.yaml); data lives in APP_DIR/.stratus/ by default.
    #[arg(default_value = ".")]
    pub app_dir: PathBuf,
    /// The template file (default: APP_DIR/template.yaml, .yml or .json).
    #[arg(long)]
    pub template: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,
    /// Port of the API gateway (every API of the template, and the frontend).
    #[arg(long, default_value_t = 3000)]
    pub api_port: u16,
    /// Serve a static frontend from DIR on the API port (default: the template's
    /// `Metadata.Stratus.Frontend`).
    #[arg(long = "static", value_name = "DIR")]
    pub static_dir: Option<PathBuf>,
    /// Run no Lambda authorizer: every request reaches its function.
    #[arg(long)]
    pub disable_authorizer: bool,
    /// How function logs and access logs are printed.
    #[arg(long, value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// Port of the AWS endpoint (DynamoDB, …).
    #[arg(long, default_value_t = 4566)]
    pub aws_port: u16,
    /// Where to keep data (default APP_DIR/.stratus/).
    #[arg(long, conflicts_with = "in_memory")]
    pub data_dir: Option<PathBuf>,
    /// Keep everything in memory and discard it at exit.
    #[arg(long)]
    pub in_memory: bool,
    /// IAM mode: `enforce` refuses as AWS would, `audit` logs would-be denials, `off` checks
    /// neither signatures nor policies.
    #[arg(long, value_enum, default_value = "enforce")]
    pub iam: IamMode,
    /// The region the endpoint reports in ARNs.
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
    /// Seconds between sweeps for expired TTL items.
    #[arg(long, default_value_t = 1.0)]
    pub ttl_sweep_interval: f64,
    /// Seconds an item is kept past its TTL before the sweep deletes it (AWS: up to a few days;
    /// reads return it until then, as on AWS).
    #[arg(long, default_value_t = 0.0)]
    pub ttl_delay: f64,
    #[command(flatten)]
    pub template_options: TemplateOptions,
    #[command(flatten)]
    pub function_options: FunctionOptions,
}
