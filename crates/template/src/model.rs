//! The app model: what a template declares, resolved to local values, ready to run.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::diagnostic::Diagnostic;
use crate::node::Location;

/// Everything Stratus runs for one template.
#[derive(Clone, Debug, Default)]
pub struct App {
    pub template: PathBuf,
    pub stack_name: String,
    pub region: String,
    pub account: String,
    pub functions: BTreeMap<String, Function>,
    pub tables: BTreeMap<String, Table>,
    pub apis: BTreeMap<String, Api>,
    pub routes: Vec<Route>,
    /// The static frontend folder (`Metadata.Stratus.Frontend`), served on the API port.
    pub frontend: Option<PathBuf>,
    /// Layer versions by the ARN functions name them with (`…:layer:NAME:1`).
    pub layers: BTreeMap<String, Layer>,
    /// Resources kept in the model but not run locally.
    pub not_run: Vec<Unsupported>,
    /// Warnings (errors make loading fail instead).
    pub warnings: Vec<Diagnostic>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Code {
    /// A folder (CodeUri / Code as a local path), resolved against the template's folder.
    Directory(PathBuf),
    /// Inline source (`InlineCode`, `Code.ZipFile`).
    Inline(String),
    /// In S3 or an image registry: not runnable locally.
    Remote(String),
}

#[derive(Clone, Debug)]
pub struct Function {
    pub logical_id: String,
    pub name: String,
    pub arn: String,
    pub runtime: Option<String>,
    pub handler: Option<String>,
    pub code: Code,
    pub timeout_seconds: u64,
    pub memory_mb: u64,
    pub environment: BTreeMap<String, String>,
    pub architectures: Vec<String>,
    pub layers: Vec<String>,
    /// The role's ARN (its own implicit role for SAM functions without `Role`).
    pub role_arn: String,
    /// The policies of the function's role, expanded to documents where Stratus knows them.
    pub policies: Vec<crate::policies::Policy>,
    pub reserved_concurrency: Option<u64>,
    /// `Description`.
    pub description: String,
    /// `Tracing` (SAM) or `TracingConfig.Mode`: `Active` or `PassThrough`.
    pub tracing_mode: String,
    /// `EphemeralStorage.Size` in MB (512 unless set).
    pub ephemeral_storage_mb: u64,
    /// `Tags`, with the `lambda:createdBy: SAM` tag SAM adds to its functions.
    pub tags: BTreeMap<String, String>,
    /// `LoggingConfig`'s format and levels.
    pub logging: Logging,
    pub events: Vec<EventSource>,
    pub location: Location,
}

/// A function's `LoggingConfig`, as Lambda reports it: `Text` without levels, or `JSON` with
/// both levels (`INFO` unless set).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Logging {
    /// `Text` or `JSON`.
    pub format: String,
    /// `ApplicationLogLevel` (JSON only): what the runtime's logger lets through.
    pub application_level: Option<String>,
    /// `SystemLogLevel` (JSON only).
    pub system_level: Option<String>,
    /// `LogGroup`, when it names a group other than Lambda's default `/aws/lambda/NAME`.
    pub group: Option<String>,
}

impl Default for Logging {
    fn default() -> Logging {
        Logging {
            format: "Text".to_string(),
            application_level: None,
            system_level: None,
            group: None,
        }
    }
}

/// A function's event source, recorded for the issues that act on them.
#[derive(Clone, Debug)]
pub struct EventSource {
    pub name: String,
    pub kind: String,
    pub properties: serde_json::Value,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyElement {
    pub name: String,
    /// `S`, `N` or `B`.
    pub attribute_type: String,
}

#[derive(Clone, Debug)]
pub struct Index {
    pub name: String,
    pub hash: KeyElement,
    pub range: Option<KeyElement>,
    pub projection: String,
    /// `NonKeyAttributes` of an `INCLUDE` projection.
    pub non_key_attributes: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct Table {
    pub logical_id: String,
    pub name: String,
    pub arn: String,
    pub hash: KeyElement,
    pub range: Option<KeyElement>,
    pub global_indexes: Vec<Index>,
    pub local_indexes: Vec<Index>,
    pub billing_mode: String,
    pub stream_view_type: Option<String>,
    pub ttl_attribute: Option<String>,
    pub location: Location,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApiKind {
    /// API Gateway REST API (payload 1.0).
    Rest,
    /// API Gateway HTTP API (payload 2.0 by default).
    Http,
}

#[derive(Clone, Debug)]
pub struct Api {
    pub logical_id: String,
    pub id: String,
    pub kind: ApiKind,
    pub stage: String,
    /// Created by an event rather than declared.
    pub implicit: bool,
    /// `Cors` (REST) or `CorsConfiguration` (HTTP), as written after evaluation.
    pub cors: Option<serde_json::Value>,
    /// `Auth` (authorizers, default authorizer), as written after evaluation.
    pub auth: Option<serde_json::Value>,
    pub binary_media_types: Vec<String>,
    /// `Variables` (REST) / `StageVariables` (HTTP): the stage's variables.
    pub stage_variables: BTreeMap<String, String>,
    pub location: Location,
}

#[derive(Clone, Debug)]
pub struct Route {
    pub api: String,
    pub method: String,
    pub path: String,
    pub function: String,
    pub payload_version: String,
    pub authorizer: Option<String>,
    /// The integration timeout (`TimeoutInMillis`), when the event sets one.
    pub timeout_ms: Option<u64>,
    pub location: Location,
}

/// `AWS::Serverless::LayerVersion` / `AWS::Lambda::LayerVersion`: content AWS mounts at `/opt`.
#[derive(Clone, Debug)]
pub struct Layer {
    pub logical_id: String,
    pub arn: String,
    /// `ContentUri` / `Content` (a local folder, or remote).
    pub content: Code,
    pub location: Location,
}

#[derive(Clone, Debug)]
pub struct Unsupported {
    pub logical_id: String,
    pub resource_type: String,
    pub location: Location,
}
