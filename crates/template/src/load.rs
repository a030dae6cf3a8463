//! Loads a template into the app model: parameters, conditions, SAM's Globals, and each
//! resource turned into functions, tables, APIs and routes with their local values.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::diagnostic::{Diagnostic, Severity};
use crate::eval::{self, Evaluator, Pseudo, ResourceValues, plain};
use crate::model::{
    Api, ApiKind, App, Code, EventSource, Function, Index, KeyElement, Layer, Logging, Route, Table, Unsupported,
};
use crate::node::{Location, Node, Value};
use crate::{config, parameters, policies, yaml};

/// What the caller knows that the template does not.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    pub region: String,
    pub account: String,
    /// Defaults to the app folder's name.
    pub stack_name: Option<String>,
    /// From the command line; when given, they replace samconfig.toml's whole.
    pub parameter_overrides: BTreeMap<String, String>,
    /// samconfig.toml's config env (`default` unless chosen).
    pub config_env: String,
    /// samconfig.toml's command section: `local_start_api` for start, `local_invoke` for invoke.
    pub config_command: String,
    /// `--env-vars` file.
    pub env_vars: Option<PathBuf>,
}

impl Default for LoadOptions {
    fn default() -> LoadOptions {
        LoadOptions {
            region: "us-east-1".to_string(),
            account: "000000000000".to_string(),
            stack_name: None,
            parameter_overrides: BTreeMap::new(),
            config_env: "default".to_string(),
            config_command: "local_start_api".to_string(),
            env_vars: None,
        }
    }
}

/// Lambda runtime identifiers (those Stratus runs and those it only recognises).
const KNOWN_RUNTIMES: &[&str] = &[
    "python3.8",
    "python3.9",
    "python3.10",
    "python3.11",
    "python3.12",
    "python3.13",
    "python3.14",
    "python3.7",
    "python3.6",
    "python2.7",
    "nodejs24.x",
    "nodejs22.x",
    "nodejs20.x",
    "nodejs18.x",
    "nodejs16.x",
    "nodejs14.x",
    "nodejs12.x",
    "provided",
    "provided.al2",
    "provided.al2023",
    "java8",
    "java8.al2",
    "java11",
    "java17",
    "java21",
    "java25",
    "dotnet6",
    "dotnet8",
    "dotnetcore3.1",
    "ruby3.2",
    "ruby3.3",
    "ruby3.4",
    "ruby2.7",
    "go1.x",
];

const SAM_TRANSFORM: &str = "AWS::Serverless-2016-10-31";
const DEFAULT_TIMEOUT_SECONDS: u64 = 3;
const DEFAULT_MEMORY_MB: u64 = 128;

/// A resource as declared, after its Condition.
struct Resource {
    kind: String,
    properties: Option<Node>,
    location: Location,
}

/// Local values of resources, for `Ref` and `Fn::GetAtt`.
struct Resources<'a> {
    declared: &'a BTreeMap<String, Resource>,
    pseudo: &'a Pseudo,
}

fn arn(pseudo: &Pseudo, service: &str, region: bool, resource: &str) -> String {
    let region = if region { pseudo.region.as_str() } else { "" };
    format!(
        "arn:{}:{service}:{region}:{}:{resource}",
        pseudo.partition, pseudo.account
    )
}

/// A stable 10-character id for an API, derived from its logical id (API Gateway ids look alike).
pub fn api_id(logical_id: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in logical_id.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..10)
        .map(|i| char::from(ALPHABET[((hash >> (i * 6)) % ALPHABET.len() as u64) as usize]))
        .collect()
}

impl Resources<'_> {
    fn property(&self, logical_id: &str, name: &str, evaluator: &Evaluator<'_>) -> Result<Option<String>, Diagnostic> {
        let Some(node) = self
            .declared
            .get(logical_id)
            .and_then(|r| r.properties.as_ref())
            .and_then(|p| p.get(name))
        else {
            return Ok(None);
        };
        Ok(Some(plain(&evaluator.evaluate(node)?)))
    }

    /// The physical name of a resource: its name property, or the logical id.
    fn physical_name(&self, logical_id: &str, evaluator: &Evaluator<'_>) -> Result<String, Diagnostic> {
        let Some(resource) = self.declared.get(logical_id) else {
            return Ok(logical_id.to_string());
        };
        let property = match resource.kind.as_str() {
            "AWS::Serverless::Function" | "AWS::Lambda::Function" => "FunctionName",
            "AWS::DynamoDB::Table" | "AWS::Serverless::SimpleTable" => "TableName",
            "AWS::IAM::Role" => "RoleName",
            "AWS::Serverless::LayerVersion" | "AWS::Lambda::LayerVersion" => "LayerName",
            _ => return Ok(logical_id.to_string()),
        };
        Ok(self
            .property(logical_id, property, evaluator)?
            .unwrap_or_else(|| logical_id.to_string()))
    }
}

impl ResourceValues for Resources<'_> {
    fn exists(&self, logical_id: &str) -> bool {
        self.declared.contains_key(logical_id)
            || logical_id.strip_suffix("Role").is_some_and(|f| {
                self.declared
                    .get(f)
                    .is_some_and(|r| r.kind == "AWS::Serverless::Function")
            })
            || matches!(logical_id, "ServerlessRestApi" | "ServerlessHttpApi")
    }

    fn reference(&self, logical_id: &str, evaluator: &Evaluator<'_>) -> Result<Node, Diagnostic> {
        let location = self
            .declared
            .get(logical_id)
            .map(|r| r.location.clone())
            .unwrap_or_else(|| Location::unknown(Path::new("template")));
        let kind = self.declared.get(logical_id).map(|r| r.kind.as_str()).unwrap_or("");
        let value = match kind {
            "AWS::Serverless::Api"
            | "AWS::ApiGateway::RestApi"
            | "AWS::Serverless::HttpApi"
            | "AWS::ApiGatewayV2::Api" => api_id(logical_id),
            "AWS::Serverless::LayerVersion" | "AWS::Lambda::LayerVersion" => {
                format!(
                    "{}:1",
                    arn(
                        self.pseudo,
                        "lambda",
                        true,
                        &format!("layer:{}", self.physical_name(logical_id, evaluator)?)
                    )
                )
            }
            "" if matches!(logical_id, "ServerlessRestApi" | "ServerlessHttpApi") => api_id(logical_id),
            "AWS::IAM::ManagedPolicy" => {
                let name = self
                    .property(logical_id, "ManagedPolicyName", evaluator)?
                    .unwrap_or_else(|| logical_id.to_string());
                arn(self.pseudo, "iam", false, &format!("policy/{name}"))
            }
            _ => self.physical_name(logical_id, evaluator)?,
        };
        Ok(Node::new(Value::String(value), location))
    }

    fn attribute(
        &self,
        logical_id: &str,
        attribute: &str,
        evaluator: &Evaluator<'_>,
    ) -> Result<Option<Node>, Diagnostic> {
        let location = self
            .declared
            .get(logical_id)
            .map(|r| r.location.clone())
            .unwrap_or_else(|| Location::unknown(Path::new("template")));
        let kind = self
            .declared
            .get(logical_id)
            .map(|r| r.kind.clone())
            .unwrap_or_default();
        let name = || self.physical_name(logical_id, evaluator);
        let value = match (kind.as_str(), attribute) {
            ("AWS::Serverless::Function" | "AWS::Lambda::Function", "Arn") => {
                arn(self.pseudo, "lambda", true, &format!("function:{}", name()?))
            }
            ("AWS::DynamoDB::Table" | "AWS::Serverless::SimpleTable", "Arn") => {
                arn(self.pseudo, "dynamodb", true, &format!("table/{}", name()?))
            }
            ("AWS::DynamoDB::Table", "StreamArn") => arn(
                self.pseudo,
                "dynamodb",
                true,
                &format!("table/{}/stream/1970-01-01T00:00:00.000", name()?),
            ),
            ("AWS::IAM::Role", "Arn") => arn(self.pseudo, "iam", false, &format!("role/{}", name()?)),
            ("AWS::IAM::Role", "RoleId") => format!("AROA{}", api_id(logical_id).to_uppercase()),
            ("", "Arn") if logical_id.ends_with("Role") => {
                arn(self.pseudo, "iam", false, &format!("role/{logical_id}"))
            }
            ("AWS::Serverless::Api" | "AWS::ApiGateway::RestApi", "RootResourceId") => {
                api_id(&format!("{logical_id}/"))
            }
            ("AWS::Serverless::HttpApi" | "AWS::ApiGatewayV2::Api", "ApiEndpoint") => {
                format!(
                    "https://{}.execute-api.{}.{}",
                    api_id(logical_id),
                    self.pseudo.region,
                    self.pseudo.url_suffix
                )
            }
            ("AWS::Serverless::LayerVersion" | "AWS::Lambda::LayerVersion", "Arn") => {
                format!("{}:1", arn(self.pseudo, "lambda", true, &format!("layer:{}", name()?)))
            }
            (kind, _) if !is_supported(kind) && !kind.is_empty() => {
                // Not run locally: a recognisable placeholder keeps the rest of the app loading.
                format!(
                    "arn:{}:local-unsupported:{}:{}:{logical_id}/{attribute}",
                    self.pseudo.partition, self.pseudo.region, self.pseudo.account
                )
            }
            _ => return Ok(None),
        };
        Ok(Some(Node::new(Value::String(value), location)))
    }

    fn names(&self) -> Vec<String> {
        self.declared.keys().cloned().collect()
    }
}

/// A layer version: its content folder, by the ARN `!Ref` gives for it.
#[allow(clippy::too_many_arguments)]
fn layer(
    logical_id: &str,
    resource: &Resource,
    properties: &Node,
    base: &Path,
    values: &Resources<'_>,
    evaluator: &Evaluator<'_>,
    app: &mut App,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<(), Diagnostic> {
    let serverless = resource.kind == "AWS::Serverless::LayerVersion";
    let content_node = properties.get(if serverless { "ContentUri" } else { "Content" });
    let content = match content_node.map(|n| &n.value) {
        Some(Value::String(path)) if !path.starts_with("s3://") => Code::Directory(base.join(path)),
        Some(Value::String(path)) => Code::Remote(path.clone()),
        Some(Value::Map(_)) => Code::Remote("s3".to_string()),
        _ => Code::Directory(base.to_path_buf()),
    };
    if let Code::Directory(path) = &content
        && !path.is_dir()
    {
        let location = content_node
            .map(|n| n.location.clone())
            .unwrap_or_else(|| resource.location.clone());
        diagnostics.push(
            Diagnostic::error(
                &location,
                format!(
                    "layer '{logical_id}': the content folder {} does not exist",
                    path.strip_prefix(base).unwrap_or(path).display()
                ),
            )
            .with_hint("ContentUri is relative to the template's folder"),
        );
    }
    let arn = plain(&values.reference(logical_id, evaluator)?);
    app.layers.insert(
        arn.clone(),
        Layer {
            logical_id: logical_id.to_string(),
            arn,
            content,
            location: resource.location.clone(),
        },
    );
    Ok(())
}

fn is_supported(kind: &str) -> bool {
    matches!(
        kind,
        "AWS::Serverless::Function"
            | "AWS::Lambda::Function"
            | "AWS::Serverless::SimpleTable"
            | "AWS::DynamoDB::Table"
            | "AWS::Serverless::Api"
            | "AWS::Serverless::HttpApi"
            | "AWS::Serverless::LayerVersion"
            | "AWS::Lambda::LayerVersion"
            | "AWS::IAM::Role"
            | "AWS::IAM::Policy"
            | "AWS::IAM::ManagedPolicy"
            | "AWS::Lambda::Permission"
            | "AWS::Lambda::EventSourceMapping"
            | "AWS::ApiGateway::RestApi"
            | "AWS::ApiGatewayV2::Api"
            | "AWS::ApiGateway::Resource"
            | "AWS::ApiGateway::Method"
            | "AWS::ApiGateway::Stage"
            | "AWS::ApiGateway::Deployment"
            | "AWS::ApiGatewayV2::Route"
            | "AWS::ApiGatewayV2::Integration"
            | "AWS::ApiGatewayV2::Stage"
    )
}

/// Merges SAM Globals into a resource's properties: maps merge (the resource wins), lists
/// append (global entries first), anything else the resource overrides.
fn merge_globals(global: &Node, own: Option<&Node>) -> Node {
    let Some(own) = own else { return global.clone() };
    match (&global.value, &own.value) {
        (Value::Map(global_entries), Value::Map(own_entries))
            if global.intrinsic().is_none() && own.intrinsic().is_none() =>
        {
            let mut merged: Vec<(String, Node)> = Vec::new();
            for (key, value) in global_entries {
                let own_value = own_entries.iter().find(|(k, _)| k == key).map(|(_, v)| v);
                merged.push((key.clone(), merge_globals(value, own_value)));
            }
            for (key, value) in own_entries {
                if !global_entries.iter().any(|(k, _)| k == key) {
                    merged.push((key.clone(), value.clone()));
                }
            }
            Node::new(Value::Map(merged), own.location.clone())
        }
        (Value::List(global_items), Value::List(own_items)) => Node::new(
            Value::List(global_items.iter().chain(own_items).cloned().collect()),
            own.location.clone(),
        ),
        _ => own.clone(),
    }
}

fn node_to_json(node: &Node) -> serde_json::Value {
    serde_json::from_str(&eval::to_json(node)).unwrap_or(serde_json::Value::Null)
}

fn integer(node: Option<&Node>, field: &str, diagnostics: &mut Vec<Diagnostic>) -> Option<u64> {
    let node = node?;
    match node.as_str().map(str::parse::<u64>) {
        Some(Ok(value)) => Some(value),
        _ => {
            diagnostics.push(
                Diagnostic::error(
                    &node.location,
                    format!(
                        "{field} must be a whole number, not {} {}",
                        node.kind(),
                        eval::to_json(node)
                    ),
                )
                .with_hint(format!("write it as a number, e.g. `{field}: 30`")),
            );
            None
        }
    }
}

/// `LoggingConfig`: the format and levels Lambda reports and the runtime's logger follows.
/// Lambda's own START/END/REPORT lines in JSON and custom log groups are not reproduced
/// locally: a warning says so where they are asked for.
fn logging_config(config: &Node, logical_id: &str, name: &str, diagnostics: &mut Vec<Diagnostic>) -> Logging {
    // `None`: a format Lambda does not know (an error; levels are then checked but not also
    // reported as ignored).
    let known_format = match config.get("LogFormat") {
        None => Some("Text"),
        Some(node) => match plain(node).as_str() {
            "Text" => Some("Text"),
            "JSON" => Some("JSON"),
            other => {
                diagnostics.push(Diagnostic::error(
                    &node.location,
                    format!("function '{logical_id}': LoggingConfig LogFormat must be Text or JSON, not '{other}'"),
                ));
                None
            }
        },
    };
    let format = known_format.unwrap_or("Text");
    let level = |key: &str, allowed: &[&str], diagnostics: &mut Vec<Diagnostic>| {
        let node = config.get(key)?;
        let value = plain(node);
        if !allowed.contains(&value.as_str()) {
            diagnostics.push(Diagnostic::error(
                &node.location,
                format!(
                    "function '{logical_id}': LoggingConfig {key} must be one of {}, not '{value}'",
                    allowed.join(", ")
                ),
            ));
            return None;
        }
        if known_format == Some("Text") {
            diagnostics.push(
                Diagnostic::warning(
                    &node.location,
                    format!("function '{logical_id}': LoggingConfig {key} applies only with LogFormat JSON; ignored"),
                )
                .with_hint("log levels take effect with LogFormat JSON only"),
            );
        }
        (format == "JSON").then_some(value)
    };
    let application_level = level(
        "ApplicationLogLevel",
        &["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"],
        diagnostics,
    );
    let system_level = level("SystemLogLevel", &["DEBUG", "INFO", "WARN"], diagnostics);
    let group = config.get("LogGroup").and_then(|node| {
        let group = plain(node);
        // The API's constraint on LoggingConfig.LogGroup: 1 to 512 of these characters.
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/' | '#');
        if group.is_empty() || group.len() > 512 || !group.chars().all(allowed) {
            diagnostics.push(
                Diagnostic::error(
                    &node.location,
                    format!("function '{logical_id}': LoggingConfig LogGroup '{group}' is not a log group name"),
                )
                .with_hint("1 to 512 characters: letters, digits and . - _ / #"),
            );
            return None;
        }
        if group == format!("/aws/lambda/{name}") {
            // Lambda's default group, named: nothing custom about it (nor its streams' names).
            return None;
        }
        if group.starts_with("aws/") {
            diagnostics.push(
                Diagnostic::warning(
                    &node.location,
                    format!(
                        "function '{logical_id}': LoggingConfig LogGroup '{group}' begins with aws/, a name Lambda cannot create: on AWS its logs would not reach CloudWatch"
                    ),
                )
                .with_hint("choose a name that does not begin with aws/"),
            );
        } else {
            diagnostics.push(
                Diagnostic::warning(
                    &node.location,
                    format!(
                        "function '{logical_id}': its log group is {group} (AWS_LAMBDA_LOG_GROUP_NAME, the context, GetFunction); its logs stay in Stratus's terminal and console"
                    ),
                )
                .with_hint("no CloudWatch Logs locally"),
            );
        }
        Some(group)
    });
    let json = format == "JSON";
    Logging {
        format: format.to_string(),
        application_level: json.then(|| application_level.unwrap_or_else(|| "INFO".to_string())),
        system_level: json.then(|| system_level.unwrap_or_else(|| "INFO".to_string())),
        group,
    }
}

/// A whole number Lambda accepts only within `range` (its API refuses the rest at deploy time):
/// one outside it is reported where it is written and not used.
fn integer_within(
    node: Option<&Node>,
    field: &str,
    range: std::ops::RangeInclusive<u64>,
    unit: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<u64> {
    let value = integer(node, field, diagnostics)?;
    if range.contains(&value) {
        return Some(value);
    }
    if let Some(node) = node {
        let (low, high) = (range.start(), range.end());
        diagnostics.push(
            Diagnostic::error(
                &node.location,
                format!("{field} must be from {low} to {high} {unit}, not {value}"),
            )
            .with_hint(format!("Lambda refuses {field} outside {low}-{high} {unit}")),
        );
    }
    None
}

fn text(node: Option<&Node>) -> Option<String> {
    node.and_then(Node::as_str).map(str::to_string)
}

/// Reads the template and everything it declares.
pub fn load(template_path: &Path, options: &LoadOptions) -> Result<App, Vec<Diagnostic>> {
    let file = Arc::new(template_path.to_path_buf());
    let text = std::fs::read_to_string(template_path).map_err(|error| {
        vec![Diagnostic::error(
            &Location::unknown(template_path),
            format!("cannot read the template: {error}"),
        )]
    })?;
    let is_json = template_path.extension().is_some_and(|e| e == "json");
    let root = if is_json {
        yaml::parse_json(&text, &file)
    } else {
        yaml::parse(&text, &file)
    }
    .map_err(|d| vec![d])?;
    load_node(&root, template_path, options)
}

fn load_node(root: &Node, template_path: &Path, options: &LoadOptions) -> Result<App, Vec<Diagnostic>> {
    let mut diagnostics = Vec::new();
    let base = template_path.parent().map(Path::to_path_buf).unwrap_or_default();
    if root.as_map().is_none() {
        return Err(vec![Diagnostic::error(
            &root.location,
            "a template must be a map with a Resources section",
        )]);
    }
    let samconfig = config::read_samconfig(&base, &options.config_env, &options.config_command).map_err(|d| vec![d])?;
    let env_vars = options
        .env_vars
        .as_deref()
        .map(config::EnvVars::read)
        .transpose()
        .map_err(|d| vec![d])?;
    let overrides = if options.parameter_overrides.is_empty() {
        samconfig.parameter_overrides.clone().unwrap_or_default()
    } else {
        options.parameter_overrides.clone()
    };
    let stack_name = options
        .stack_name
        .clone()
        .or(samconfig.stack_name.clone())
        .unwrap_or_else(|| {
            let folder = std::fs::canonicalize(&base)
                .ok()
                .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()));
            folder.unwrap_or_else(|| "stratus".to_string())
        });
    let pseudo = Pseudo::local(&options.region, &options.account, &stack_name);

    let has_sam_transform = match root.get("Transform") {
        None => false,
        Some(transform) => {
            let names: Vec<String> = match &transform.value {
                Value::List(items) => items.iter().filter_map(Node::as_str).map(str::to_string).collect(),
                _ => transform.as_str().map(str::to_string).into_iter().collect(),
            };
            for name in names
                .iter()
                .filter(|n| n.as_str() != SAM_TRANSFORM && n.as_str() != "AWS::LanguageExtensions")
            {
                diagnostics.push(Diagnostic::warning(
                    &transform.location,
                    format!("transform {name} is not applied locally"),
                ));
            }
            names.iter().any(|n| n == SAM_TRANSFORM)
        }
    };

    let Some(resources_node) = root.get("Resources") else {
        return Err(vec![
            Diagnostic::error(&root.location, "the template has no Resources section")
                .with_hint("every template needs `Resources:` with at least one resource"),
        ]);
    };
    let parameters = parameters::resolve(root.get("Parameters"), &overrides, &mut diagnostics);
    let condition_definitions: BTreeMap<String, Node> = root
        .get("Conditions")
        .and_then(Node::as_map)
        .map(|e| e.iter().cloned().collect())
        .unwrap_or_default();

    // Conditions decide which resources exist, so they are evaluated without resources.
    struct NoResources;
    impl ResourceValues for NoResources {
        fn exists(&self, _: &str) -> bool {
            false
        }
        fn reference(&self, id: &str, _: &Evaluator<'_>) -> Result<Node, Diagnostic> {
            Err(Diagnostic::error(
                &Location::unknown(Path::new("template")),
                format!("conditions cannot refer to resources ({id})"),
            ))
        }
        fn attribute(&self, _: &str, _: &str, _: &Evaluator<'_>) -> Result<Option<Node>, Diagnostic> {
            Ok(None)
        }
        fn names(&self) -> Vec<String> {
            Vec::new()
        }
    }
    let mappings = root.get("Mappings");
    let no_resources = NoResources;
    let condition_evaluator = Evaluator::new(&pseudo, &parameters, &condition_definitions, mappings, &no_resources);

    let Some(resource_entries) = resources_node.as_map() else {
        return Err(vec![Diagnostic::error(
            &resources_node.location,
            "Resources must be a map of logical ids to resources",
        )]);
    };
    let mut declared = BTreeMap::new();
    for (logical_id, definition) in resource_entries {
        let Some(kind) = definition.get("Type").and_then(Node::as_str) else {
            diagnostics.push(
                Diagnostic::error(&definition.location, format!("resource '{logical_id}' has no Type"))
                    .with_hint("add e.g. `Type: AWS::Serverless::Function`"),
            );
            continue;
        };
        if let Some(condition) = definition.get("Condition").and_then(Node::as_str) {
            match condition_evaluator.condition(condition, &definition.location) {
                Ok(false) => continue,
                Ok(true) => {}
                Err(error) => {
                    diagnostics.push(error);
                    continue;
                }
            }
        }
        declared.insert(
            logical_id.clone(),
            Resource {
                kind: kind.to_string(),
                properties: definition.get("Properties").cloned(),
                location: definition.location.clone(),
            },
        );
    }

    // DependsOn cycles are as fatal as reference cycles.
    check_dependency_cycles(resource_entries, &mut diagnostics);

    let globals = root.get("Globals");
    if let Some(globals) = globals {
        check_globals(globals, &mut diagnostics);
    }
    if !has_sam_transform {
        for resource in declared.values().filter(|r| r.kind.starts_with("AWS::Serverless::")) {
            diagnostics.push(
                Diagnostic::error(
                    &resource.location,
                    format!(
                        "{} needs the SAM transform, but the template has no Transform section",
                        resource.kind
                    ),
                )
                .with_hint("add `Transform: AWS::Serverless-2016-10-31` after AWSTemplateFormatVersion"),
            );
        }
    }
    let values = Resources {
        declared: &declared,
        pseudo: &pseudo,
    };
    let mut evaluator = Evaluator::new(&pseudo, &parameters, &condition_definitions, mappings, &values);
    evaluator.base_dir = base.clone();
    let evaluator = evaluator;
    let mut app = App {
        template: template_path.to_path_buf(),
        stack_name: stack_name.clone(),
        region: options.region.clone(),
        account: options.account.clone(),
        ..App::default()
    };

    // `Metadata: {Stratus: {Frontend: folder}}` names the static frontend served beside the API.
    if let Some(frontend) = root
        .get("Metadata")
        .and_then(|m| m.get("Stratus"))
        .and_then(|s| s.get("Frontend"))
    {
        match &frontend.value {
            Value::String(folder) => {
                let path = base.join(folder);
                if !path.is_dir() {
                    diagnostics.push(
                        Diagnostic::error(
                            &frontend.location,
                            format!("the frontend folder {folder} does not exist"),
                        )
                        .with_hint("Metadata.Stratus.Frontend is relative to the template's folder"),
                    );
                }
                app.frontend = Some(path);
            }
            _ => diagnostics.push(
                Diagnostic::error(&frontend.location, "Metadata.Stratus.Frontend must be a folder name")
                    .with_hint("for example `Frontend: frontend`"),
            ),
        }
    }
    let mut described_apis: Vec<(String, Node, &str)> = Vec::new();
    for (logical_id, resource) in &declared {
        let global_section = match resource.kind.as_str() {
            "AWS::Serverless::Function" => globals.and_then(|g| g.get("Function")),
            "AWS::Serverless::Api" => globals.and_then(|g| g.get("Api")),
            "AWS::Serverless::HttpApi" => globals.and_then(|g| g.get("HttpApi")),
            "AWS::Serverless::SimpleTable" => globals.and_then(|g| g.get("SimpleTable")),
            _ => None,
        };
        let merged = match global_section {
            Some(global) => Some(merge_globals(global, resource.properties.as_ref())),
            None => resource.properties.clone(),
        };
        let properties = match merged.as_ref().map(|p| evaluator.evaluate(p)).transpose() {
            Ok(properties) => {
                properties.unwrap_or_else(|| Node::new(Value::Map(Vec::new()), resource.location.clone()))
            }
            Err(error) => {
                diagnostics.push(error);
                continue;
            }
        };
        let result = match resource.kind.as_str() {
            "AWS::Serverless::Function" | "AWS::Lambda::Function" => function(
                logical_id,
                resource,
                &properties,
                &base,
                &values,
                &evaluator,
                &mut app,
                &mut diagnostics,
            ),
            "AWS::DynamoDB::Table" | "AWS::Serverless::SimpleTable" => table(
                logical_id,
                resource,
                &properties,
                &values,
                &evaluator,
                &mut app,
                &mut diagnostics,
            ),
            "AWS::Serverless::Api" | "AWS::ApiGateway::RestApi" => {
                let stage = text(properties.get("StageName")).unwrap_or_else(|| "Prod".to_string());
                add_api(&mut app, logical_id, ApiKind::Rest, &stage, false, &resource.location);
                described_apis.push((logical_id.clone(), properties.clone(), "Cors"));
                Ok(())
            }
            "AWS::Serverless::HttpApi" | "AWS::ApiGatewayV2::Api" => {
                let stage = text(properties.get("StageName")).unwrap_or_else(|| "$default".to_string());
                add_api(&mut app, logical_id, ApiKind::Http, &stage, false, &resource.location);
                described_apis.push((logical_id.clone(), properties.clone(), "CorsConfiguration"));
                Ok(())
            }
            "AWS::Serverless::LayerVersion" | "AWS::Lambda::LayerVersion" => layer(
                logical_id,
                resource,
                &properties,
                &base,
                &values,
                &evaluator,
                &mut app,
                &mut diagnostics,
            ),
            "AWS::ApiGateway::Resource"
            | "AWS::ApiGateway::Method"
            | "AWS::ApiGateway::Stage"
            | "AWS::ApiGateway::Deployment"
            | "AWS::ApiGatewayV2::Route"
            | "AWS::ApiGatewayV2::Integration"
            | "AWS::ApiGatewayV2::Stage" => Ok(()),
            kind if is_supported(kind) => Ok(()),
            kind => {
                diagnostics.push(Diagnostic::warning(
                    &resource.location,
                    format!("resource '{logical_id}' of type {kind} is not run locally"),
                ));
                app.not_run.push(Unsupported {
                    logical_id: logical_id.clone(),
                    resource_type: kind.to_string(),
                    location: resource.location.clone(),
                });
                Ok(())
            }
        };
        if let Err(error) = result {
            diagnostics.push(error);
        }
    }
    // APIs are described once every function is known, so OpenAPI integrations can name them.
    for (logical_id, properties, cors_property) in &described_apis {
        describe_api(&mut app, logical_id, properties, cors_property);
    }
    // The implicit APIs that events create take their settings from Globals, as SAM does.
    for (logical_id, section, cors_property) in [
        ("ServerlessRestApi", "Api", "Cors"),
        ("ServerlessHttpApi", "HttpApi", "CorsConfiguration"),
    ] {
        if app.apis.get(logical_id).is_some_and(|a| a.implicit)
            && let Some(global) = globals.and_then(|g| g.get(section))
        {
            match evaluator.evaluate(global) {
                Ok(properties) => describe_api(&mut app, logical_id, &properties, cors_property),
                Err(error) => diagnostics.push(error),
            }
        }
    }
    attach_role_policies(&declared, &evaluator, &values, &mut app, &mut diagnostics);
    attach_event_source_mappings(&declared, &evaluator, &mut app, &mut diagnostics);
    raw_api_routes(&declared, &evaluator, &mut app, &mut diagnostics);
    check_route_collisions(&app, &mut diagnostics);
    if let Some(env_vars) = &env_vars {
        for function in app.functions.values_mut() {
            env_vars.apply(&function.logical_id, &mut function.environment);
        }
    }

    if diagnostics.iter().any(|d| d.severity == Severity::Error) {
        diagnostics.sort_by_key(|d| (d.severity != Severity::Error, d.location.line));
        return Err(diagnostics);
    }
    app.warnings = diagnostics;
    Ok(app)
}

/// What SAM accepts in each Globals section.
const GLOBALS: &[(&str, &[&str])] = &[
    (
        "Function",
        &[
            "Handler",
            "Runtime",
            "CodeUri",
            "DeadLetterQueue",
            "Description",
            "MemorySize",
            "Timeout",
            "VpcConfig",
            "Environment",
            "Tags",
            "PropagateTags",
            "Tracing",
            "KmsKeyArn",
            "Layers",
            "AutoPublishAlias",
            "AutoPublishAliasAllProperties",
            "DeploymentPreference",
            "PermissionsBoundary",
            "ReservedConcurrentExecutions",
            "ProvisionedConcurrencyConfig",
            "AssumeRolePolicyDocument",
            "EventInvokeConfig",
            "Architectures",
            "EphemeralStorage",
            "SnapStart",
            "FunctionUrlConfig",
            "RuntimeManagementConfig",
            "LoggingConfig",
            "RecursiveLoop",
            "SourceKMSKeyArn",
            "CapacityProviderConfig",
            "FunctionScalingConfig",
        ],
    ),
    (
        "Api",
        &[
            "Auth",
            "Name",
            "DefinitionUri",
            "CacheClusterEnabled",
            "CacheClusterSize",
            "MergeDefinitions",
            "Variables",
            "EndpointConfiguration",
            "MethodSettings",
            "BinaryMediaTypes",
            "MinimumCompressionSize",
            "Cors",
            "GatewayResponses",
            "AccessLogSetting",
            "CanarySetting",
            "TracingEnabled",
            "OpenApiVersion",
            "Domain",
            "AlwaysDeploy",
            "PropagateTags",
        ],
    ),
    (
        "HttpApi",
        &[
            "Auth",
            "CorsConfiguration",
            "AccessLogSettings",
            "Tags",
            "DefaultRouteSettings",
            "RouteSettings",
            "Domain",
            "StageVariables",
            "DisableExecuteApiEndpoint",
            "PropagateTags",
        ],
    ),
    ("SimpleTable", &["SSESpecification"]),
    ("StateMachine", &["PropagateTags"]),
    ("LayerVersion", &["PropagateTags"]),
];

fn check_globals(globals: &Node, diagnostics: &mut Vec<Diagnostic>) {
    let Some(sections) = globals.as_map() else {
        diagnostics.push(Diagnostic::error(
            &globals.location,
            "Globals must be a map of sections (Function, Api, HttpApi, SimpleTable)",
        ));
        return;
    };
    for (section, properties) in sections {
        let Some((_, allowed)) = GLOBALS.iter().find(|(name, _)| name == section) else {
            let names: Vec<String> = GLOBALS.iter().map(|(n, _)| n.to_string()).collect();
            let close = names.iter().find(|n| {
                n.to_ascii_lowercase().contains(&section.to_ascii_lowercase())
                    || section.to_ascii_lowercase().contains(&n.to_ascii_lowercase())
            });
            let hint = match close {
                Some(close) => format!("did you mean {close}?"),
                None => format!("Globals sections are {}", names.join(", ")),
            };
            diagnostics.push(
                Diagnostic::error(&properties.location, format!("'{section}' is not a Globals section"))
                    .with_hint(hint),
            );
            continue;
        };
        for (property, value) in properties.as_map().unwrap_or(&[]) {
            if !allowed.contains(&property.as_str()) {
                let hint = match property.as_str() {
                    "Policies" | "Role" => {
                        format!("move {property} into each function (Globals cannot grant permissions)")
                    }
                    _ => format!("set {property} on each resource instead"),
                };
                diagnostics.push(
                    Diagnostic::error(
                        &value.location,
                        format!("'{property}' is not a supported property of '{section}' in Globals"),
                    )
                    .with_hint(hint),
                );
            }
        }
    }
}

fn check_dependency_cycles(resources: &[(String, Node)], diagnostics: &mut Vec<Diagnostic>) {
    let mut edges: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for (id, definition) in resources {
        let mut targets = BTreeSet::new();
        match definition.get("DependsOn").map(|d| &d.value) {
            Some(Value::String(target)) => {
                targets.insert(target.clone());
            }
            Some(Value::List(items)) => targets.extend(items.iter().filter_map(Node::as_str).map(str::to_string)),
            _ => {}
        }
        if let Some(properties) = definition.get("Properties").and_then(Node::as_map) {
            // SAM turns a function's Events into resources of their own, so an event naming an
            // API that names the function back is not a cycle.
            for (name, value) in properties {
                if name != "Events" {
                    eval::references(value, &mut targets);
                }
            }
        }
        edges.insert(id.as_str(), targets);
    }
    // Depth-first search for a cycle, reporting the first one found.
    fn visit<'a>(
        node: &'a str,
        edges: &'a BTreeMap<&str, BTreeSet<String>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|n| *n == node) {
            let mut cycle: Vec<String> = path[start..].iter().map(|s| s.to_string()).collect();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node);
        if let Some(targets) = edges.get(node) {
            for target in targets {
                if let Some((key, _)) = edges.get_key_value(target.as_str())
                    && let Some(cycle) = visit(key, edges, path, done)
                {
                    return Some(cycle);
                }
            }
        }
        path.pop();
        done.insert(node);
        None
    }
    let mut done = BTreeSet::new();
    for (id, definition) in resources {
        if let Some(cycle) = visit(id.as_str(), &edges, &mut Vec::new(), &mut done) {
            diagnostics.push(
                Diagnostic::error(
                    &definition.location,
                    format!("circular dependency: {}", cycle.join(" → ")),
                )
                .with_hint("a resource cannot depend on itself through Ref, GetAtt, Sub or DependsOn"),
            );
            return;
        }
    }
}

/// Adds to each function the policies of its role that live in other resources: an explicit
/// `AWS::IAM::Role` (its managed and inline policies), and `AWS::IAM::Policy` /
/// `AWS::IAM::ManagedPolicy` resources that list the role (explicit or SAM-generated).
/// `AWS::Lambda::EventSourceMapping`: an event of the function it names, as SAM's own event
/// types record them (`Stream` for DynamoDB and Kinesis, `Queue` for SQS).
fn attach_event_source_mappings(
    declared: &BTreeMap<String, Resource>,
    evaluator: &Evaluator<'_>,
    app: &mut App,
    diagnostics: &mut Vec<Diagnostic>,
) {
    for (logical_id, resource) in declared
        .iter()
        .filter(|(_, r)| r.kind == "AWS::Lambda::EventSourceMapping")
    {
        let properties = match resource.properties.as_ref().map(|p| evaluator.evaluate(p)).transpose() {
            Ok(Some(properties)) => properties,
            Ok(None) => continue,
            Err(error) => {
                diagnostics.push(error);
                continue;
            }
        };
        let function_name = text(properties.get("FunctionName")).unwrap_or_default();
        // FunctionName is a name, an ARN (with or without a qualifier) or a partial ARN.
        let short = function_name
            .rsplit_once(":function:")
            .map(|(_, rest)| rest.split(':').next().unwrap_or(rest).to_string())
            .unwrap_or_else(|| function_name.clone());
        let Some(function) = app
            .functions
            .values_mut()
            .find(|f| f.name == short || f.logical_id == short || f.arn == function_name)
        else {
            diagnostics.push(
                Diagnostic::error(
                    &resource.location,
                    format!("event source mapping '{logical_id}' names the function {function_name}, which this template does not declare"),
                )
                .with_hint("FunctionName: !Ref TheFunction"),
            );
            continue;
        };
        let source = text(properties.get("EventSourceArn")).unwrap_or_default();
        let kind = if source.contains(":dynamodb:") {
            "DynamoDB"
        } else if source.contains(":sqs:") {
            "SQS"
        } else if source.contains(":kinesis:") {
            "Kinesis"
        } else {
            "EventSourceMapping"
        };
        let mut event = node_to_json(&properties);
        if let Some(object) = event.as_object_mut() {
            object.remove("FunctionName");
            if let Some(arn) = object.remove("EventSourceArn") {
                let key = if kind == "SQS" { "Queue" } else { "Stream" };
                object.insert(key.to_string(), arn);
            }
        }
        function.events.push(EventSource {
            name: logical_id.clone(),
            kind: kind.to_string(),
            properties: event,
        });
    }
}

fn attach_role_policies(
    declared: &BTreeMap<String, Resource>,
    evaluator: &Evaluator<'_>,
    values: &Resources<'_>,
    app: &mut App,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let mut by_role: BTreeMap<String, Vec<policies::Policy>> = BTreeMap::new();
    let mut managed_documents: BTreeMap<String, serde_json::Value> = BTreeMap::new();
    let mut roles: BTreeMap<String, String> = BTreeMap::new(); // role ARN → role name
    let evaluated = |resource: &Resource| resource.properties.as_ref().map(|p| evaluator.evaluate(p)).transpose();
    for (logical_id, resource) in declared.iter().filter(|(_, r)| r.kind == "AWS::IAM::ManagedPolicy") {
        match evaluated(resource) {
            Ok(Some(properties)) => {
                let Ok(reference) = values.reference(logical_id, evaluator) else {
                    continue;
                };
                let policy_arn = plain(&reference);
                let document = properties
                    .get("PolicyDocument")
                    .map(node_to_json)
                    .unwrap_or(serde_json::Value::Null);
                managed_documents.insert(policy_arn.clone(), document.clone());
                for role in properties.get("Roles").and_then(Node::as_list).unwrap_or(&[]) {
                    by_role.entry(plain(role)).or_default().push(policies::Policy {
                        source: format!("managed {logical_id}"),
                        document: Some(document.clone()),
                        arn: Some(policy_arn.clone()),
                    });
                }
            }
            Ok(None) => {}
            Err(error) => diagnostics.push(error),
        }
    }
    for (logical_id, resource) in declared {
        let properties = match resource.kind.as_str() {
            "AWS::IAM::Role" | "AWS::IAM::Policy" => match evaluated(resource) {
                Ok(Some(properties)) => properties,
                Ok(None) => continue,
                Err(error) => {
                    diagnostics.push(error);
                    continue;
                }
            },
            _ => continue,
        };
        if resource.kind == "AWS::IAM::Role" {
            let Ok(name) = values.physical_name(logical_id, evaluator) else {
                continue;
            };
            roles.insert(arn(values.pseudo, "iam", false, &format!("role/{name}")), name.clone());
            let attached = by_role.entry(name).or_default();
            for managed in properties
                .get("ManagedPolicyArns")
                .and_then(Node::as_list)
                .unwrap_or(&[])
            {
                let policy_arn = plain(managed);
                let mut policy = policies::managed(&policy_arn, values.pseudo);
                if let Some(document) = managed_documents.get(&policy_arn) {
                    policy.document = Some(document.clone());
                }
                attached.push(policy);
            }
            for inline in properties.get("Policies").and_then(Node::as_list).unwrap_or(&[]) {
                let name = text(inline.get("PolicyName")).unwrap_or_default();
                attached.push(policies::Policy {
                    source: format!("role {logical_id} / inline {name}"),
                    document: inline.get("PolicyDocument").map(node_to_json),
                    arn: None,
                });
            }
        } else {
            let name = text(properties.get("PolicyName")).unwrap_or_else(|| logical_id.clone());
            let document = properties.get("PolicyDocument").map(node_to_json);
            for role in properties.get("Roles").and_then(Node::as_list).unwrap_or(&[]) {
                by_role.entry(plain(role)).or_default().push(policies::Policy {
                    source: format!("policy {name}"),
                    document: document.clone(),
                    arn: None,
                });
            }
        }
    }
    for function in app.functions.values_mut() {
        let role_name = roles.get(&function.role_arn).cloned().or_else(|| {
            function
                .role_arn
                .strip_prefix(&format!(
                    "arn:{}:iam::{}:role/",
                    values.pseudo.partition, values.pseudo.account
                ))
                .map(str::to_string)
        });
        let generated = format!("{}Role", function.logical_id);
        match role_name {
            Some(name) if roles.values().any(|r| *r == name) || name == generated => {
                if let Some(attached) = by_role.get(&name) {
                    function.policies.extend(attached.iter().cloned());
                }
            }
            _ => diagnostics.push(
                Diagnostic::warning(
                    &function.location,
                    format!(
                        "function '{}': role {} is not in the template; its permissions are unknown locally",
                        function.logical_id, function.role_arn
                    ),
                )
                .with_hint("declare the role in the template (AWS::IAM::Role) or use Policies"),
            ),
        }
    }
}

fn add_api(app: &mut App, logical_id: &str, kind: ApiKind, stage: &str, implicit: bool, location: &Location) {
    app.apis.entry(logical_id.to_string()).or_insert_with(|| Api {
        logical_id: logical_id.to_string(),
        id: api_id(logical_id),
        kind,
        stage: stage.to_string(),
        implicit,
        cors: None,
        auth: None,
        binary_media_types: Vec::new(),
        stage_variables: BTreeMap::new(),
        location: location.clone(),
    });
}

/// Records an API's CORS, auth and binary media types, and the routes of its OpenAPI body.
fn describe_api(app: &mut App, logical_id: &str, properties: &Node, cors_property: &str) {
    let functions: BTreeMap<String, String> = app
        .functions
        .values()
        .map(|f| (f.arn.clone(), f.logical_id.clone()))
        .collect();
    let kind = app.apis.get(logical_id).map(|a| a.kind);
    if let Some(api) = app.apis.get_mut(logical_id) {
        api.cors = properties.get(cors_property).map(node_to_json);
        api.auth = properties.get("Auth").map(node_to_json);
        api.binary_media_types = properties
            .get("BinaryMediaTypes")
            .and_then(Node::as_list)
            .map(|l| l.iter().map(plain).collect())
            .unwrap_or_default();
        let variables = properties.get("Variables").or(properties.get("StageVariables"));
        if let Some(entries) = variables.and_then(Node::as_map) {
            api.stage_variables = entries.iter().map(|(k, v)| (k.clone(), plain(v))).collect();
        }
    }
    // Routes declared in an OpenAPI DefinitionBody (or Body) through Lambda proxy integrations.
    let Some(paths) = properties
        .get("DefinitionBody")
        .or(properties.get("Body"))
        .and_then(|d| d.get("paths"))
        .and_then(Node::as_map)
    else {
        return;
    };
    for (path, operations) in paths {
        for (method, operation) in operations.as_map().unwrap_or(&[]) {
            let Some(integration) = operation.get("x-amazon-apigateway-integration") else {
                continue;
            };
            let uri = integration.get("uri").map(plain).unwrap_or_default();
            let Some(function) = functions
                .iter()
                .find(|(arn, _)| uri.contains(arn.as_str()))
                .map(|(_, id)| id.clone())
            else {
                continue;
            };
            let method = if method == "x-amazon-apigateway-any-method" {
                "ANY".to_string()
            } else {
                method.to_ascii_uppercase()
            };
            let payload_version = integration.get("payloadFormatVersion").map(plain).unwrap_or_else(|| {
                if kind == Some(ApiKind::Http) {
                    "2.0".into()
                } else {
                    "1.0".into()
                }
            });
            let exists = app
                .routes
                .iter()
                .any(|r| r.api == logical_id && r.method == method && r.path == *path);
            if !exists {
                app.routes.push(Route {
                    api: logical_id.to_string(),
                    method,
                    path: path.clone(),
                    function,
                    payload_version,
                    authorizer: None,
                    timeout_ms: None,
                    location: operation.location.clone(),
                });
            }
        }
    }
}

/// Routes of raw API Gateway resources: `AWS::ApiGateway::Method` on a chain of
/// `AWS::ApiGateway::Resource`s, and `AWS::ApiGatewayV2::Route` with its `Integration`.
fn raw_api_routes(
    declared: &BTreeMap<String, Resource>,
    evaluator: &Evaluator<'_>,
    app: &mut App,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let functions: Vec<(String, String)> = app
        .functions
        .values()
        .map(|f| (f.arn.clone(), f.logical_id.clone()))
        .collect();
    let function_for = |uri: &str| {
        functions
            .iter()
            .find(|(arn, _)| uri.contains(arn.as_str()))
            .map(|(_, id)| id.clone())
    };
    let api_for = |id: &str| declared.keys().find(|logical| api_id(logical) == id).cloned();
    let mut evaluated: BTreeMap<&str, Node> = BTreeMap::new();
    for (logical_id, resource) in declared {
        if !resource.kind.starts_with("AWS::ApiGateway") {
            continue;
        }
        match resource.properties.as_ref().map(|p| evaluator.evaluate(p)).transpose() {
            Ok(Some(properties)) => {
                evaluated.insert(logical_id.as_str(), properties);
            }
            Ok(None) => {}
            Err(error) => diagnostics.push(error),
        }
    }
    // The path of a REST resource: its PathPart after its parent's path, up to the root.
    let path_of = |resource_id: &str| -> Option<String> {
        let mut parts = Vec::new();
        let mut current = resource_id.to_string();
        for _ in 0..64 {
            let Some(properties) = evaluated.get(current.as_str()).filter(|_| {
                declared
                    .get(&current)
                    .is_some_and(|r| r.kind == "AWS::ApiGateway::Resource")
            }) else {
                break;
            };
            parts.push(properties.get("PathPart").map(plain).unwrap_or_default());
            current = properties.get("ParentId").map(plain).unwrap_or_default();
        }
        parts.reverse();
        Some(format!("/{}", parts.join("/")))
    };
    for (logical_id, properties) in &evaluated {
        let Some(resource) = declared.get(*logical_id) else {
            continue;
        };
        let location = resource.location.clone();
        match resource.kind.as_str() {
            "AWS::ApiGateway::Method" => {
                let Some(api) = properties.get("RestApiId").map(plain).and_then(|id| api_for(&id)) else {
                    continue;
                };
                let Some(integration) = properties.get("Integration") else {
                    continue;
                };
                let Some(function) = integration.get("Uri").map(plain).and_then(|uri| function_for(&uri)) else {
                    continue;
                };
                let resource_id = properties.get("ResourceId").map(plain).unwrap_or_default();
                let Some(path) = path_of(&resource_id) else { continue };
                app.routes.push(Route {
                    api,
                    method: properties
                        .get("HttpMethod")
                        .map(plain)
                        .unwrap_or_default()
                        .to_ascii_uppercase(),
                    path,
                    function,
                    payload_version: "1.0".to_string(),
                    authorizer: None,
                    timeout_ms: None,
                    location,
                });
            }
            "AWS::ApiGatewayV2::Route" => {
                let Some(api) = properties.get("ApiId").map(plain).and_then(|id| api_for(&id)) else {
                    continue;
                };
                let route_key = properties.get("RouteKey").map(plain).unwrap_or_default();
                let target = properties.get("Target").map(plain).unwrap_or_default();
                let integration_id = target.strip_prefix("integrations/").unwrap_or(&target).to_string();
                let Some(integration) = evaluated.get(integration_id.as_str()) else {
                    continue;
                };
                let Some(function) = integration
                    .get("IntegrationUri")
                    .map(plain)
                    .and_then(|uri| function_for(&uri))
                else {
                    continue;
                };
                let (method, path) = match route_key.split_once(' ') {
                    Some((method, path)) => (method.to_ascii_uppercase(), path.to_string()),
                    None => ("ANY".to_string(), route_key.clone()),
                };
                let payload_version = integration
                    .get("PayloadFormatVersion")
                    .map(plain)
                    .unwrap_or_else(|| "2.0".to_string());
                app.routes.push(Route {
                    api,
                    method,
                    path,
                    function,
                    payload_version,
                    authorizer: None,
                    timeout_ms: None,
                    location,
                });
            }
            _ => {}
        }
    }
}

fn check_route_collisions(app: &App, diagnostics: &mut Vec<Diagnostic>) {
    let mut seen: BTreeMap<(String, String, String), &Route> = BTreeMap::new();
    for route in &app.routes {
        let key = (route.api.clone(), route.method.to_ascii_uppercase(), route.path.clone());
        if let Some(first) = seen.get(&key) {
            diagnostics.push(
                Diagnostic::error(
                    &route.location,
                    format!(
                        "route {} {} on API {} is declared twice: by {} and by {} (line {})",
                        route.method, route.path, route.api, route.function, first.function, first.location.line
                    ),
                )
                .with_hint("give one of them another path or method"),
            );
        } else {
            seen.insert(key, route);
        }
    }
    // REST APIs build a resource tree: one variable name per level under one parent.
    let rest_apis: Vec<&str> = app
        .apis
        .values()
        .filter(|a| a.kind == ApiKind::Rest)
        .map(|a| a.logical_id.as_str())
        .collect();
    let mut variables: BTreeMap<(String, String), (String, &Route)> = BTreeMap::new();
    let mut reported = std::collections::BTreeSet::new();
    for route in app.routes.iter().filter(|r| rest_apis.contains(&r.api.as_str())) {
        let mut parent = String::new();
        for segment in route.path.split('/').filter(|s| !s.is_empty()) {
            let variable = segment
                .strip_prefix('{')
                .and_then(|s| s.strip_suffix('}'))
                .map(|s| s.trim_end_matches('+').to_string());
            if let Some(variable) = variable {
                let slot = (route.api.clone(), parent.clone());
                match variables.get(&slot) {
                    Some((existing, first)) if existing != &variable => {
                        if reported.insert(slot.clone()) {
                            diagnostics.push(
                                Diagnostic::error(
                                    &route.location,
                                    format!(
                                        "route {} {} on API {}: A sibling ({{{existing}}}) of this resource already has a variable path part -- only one is allowed (route {} {}, line {})",
                                        route.method, route.path, route.api, first.method, first.path, first.location.line
                                    ),
                                )
                                .with_hint("use the same variable name at this level in every path of the API"),
                            );
                        }
                    }
                    Some(_) => {}
                    None => {
                        variables.insert(slot, (variable, route));
                    }
                }
            }
            parent.push('/');
            parent.push_str(
                segment
                    .trim_start_matches('{')
                    .trim_end_matches('}')
                    .trim_end_matches('+'),
            );
            if segment.starts_with('{') {
                // Levels below a variable are keyed by its position, not its name.
                parent = format!("{}/{{}}", parent.rsplit_once('/').map(|(p, _)| p).unwrap_or(""));
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn function(
    logical_id: &str,
    resource: &Resource,
    properties: &Node,
    base: &Path,
    values: &Resources<'_>,
    evaluator: &Evaluator<'_>,
    app: &mut App,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<(), Diagnostic> {
    let serverless = resource.kind == "AWS::Serverless::Function";
    let name = values.physical_name(logical_id, evaluator)?;
    let function_arn = arn(values.pseudo, "lambda", true, &format!("function:{name}"));
    let code_node = if serverless {
        properties.get("CodeUri").or(properties.get("InlineCode"))
    } else {
        properties.get("Code")
    };
    let package_image = text(properties.get("PackageType")).as_deref() == Some("Image");
    let code = match code_node {
        Some(node) if serverless && properties.get("InlineCode").is_some() && properties.get("CodeUri").is_none() => {
            Code::Inline(plain(node))
        }
        Some(node) => match &node.value {
            Value::String(path) if !path.starts_with("s3://") => Code::Directory(base.join(path)),
            Value::String(path) => Code::Remote(path.clone()),
            Value::Map(_) => {
                if let Some(zip) = node.get("ZipFile") {
                    Code::Inline(plain(zip))
                } else {
                    diagnostics.push(
                        Diagnostic::warning(
                            &node.location,
                            format!("function '{logical_id}': code in S3 cannot run locally"),
                        )
                        .with_hint("point CodeUri at a local folder"),
                    );
                    Code::Remote(eval::to_json(node))
                }
            }
            _ => Code::Directory(base.to_path_buf()),
        },
        None if package_image => Code::Remote(text(properties.get("ImageUri")).unwrap_or_default()),
        None => Code::Directory(base.to_path_buf()),
    };
    let handler = text(properties.get("Handler"));
    let runtime = text(properties.get("Runtime"));
    if let (Some(name), Some(node)) = (runtime.as_deref(), properties.get("Runtime"))
        && !KNOWN_RUNTIMES.contains(&name)
    {
        let digits: String = name.chars().filter(char::is_ascii_digit).collect();
        let close = KNOWN_RUNTIMES.iter().find(|known| {
            let known_digits: String = known.chars().filter(char::is_ascii_digit).collect();
            known_digits == digits && known.chars().next() == name.chars().next()
        });
        let mut error = Diagnostic::error(&node.location, format!("unknown runtime {name}"));
        error = match close {
            Some(close) => error.with_hint(format!("did you mean {close}? Stratus runs python3.8 … python3.14, nodejs18.x … nodejs24.x, provided.al2 and provided.al2023")),
            None => error.with_hint("Stratus runs python3.8 … python3.14, nodejs18.x … nodejs24.x, provided.al2 and provided.al2023"),
        };
        diagnostics.push(error);
    }
    if !package_image && handler.is_none() && !matches!(runtime.as_deref(), Some(r) if r.starts_with("provided")) {
        diagnostics.push(
            Diagnostic::error(&resource.location, format!("function '{logical_id}' has no Handler")).with_hint(
                "add `Handler: app.handler` (file app.py or app.js, function handler), or set it in Globals.Function",
            ),
        );
    }
    if let Code::Directory(path) = &code
        && !path.is_dir()
    {
        let location = code_node
            .map(|n| n.location.clone())
            .unwrap_or_else(|| resource.location.clone());
        diagnostics.push(
            Diagnostic::error(
                &location,
                format!(
                    "function '{logical_id}': the code folder {} does not exist",
                    path.strip_prefix(base).unwrap_or(path).display()
                ),
            )
            .with_hint("CodeUri is relative to the template's folder"),
        );
    }
    let mut environment = BTreeMap::new();
    if let Some(variables) = properties
        .get("Environment")
        .and_then(|e| e.get("Variables"))
        .and_then(Node::as_map)
    {
        for (key, value) in variables {
            environment.insert(key.clone(), plain(value));
        }
    }
    let role_arn = match properties.get("Role") {
        Some(role) => plain(role),
        None => arn(values.pseudo, "iam", false, &format!("role/{logical_id}Role")),
    };
    let mut policies = Vec::new();
    if serverless && properties.get("Role").is_none() {
        policies.push(policies::managed("AWSLambdaBasicExecutionRole", values.pseudo));
        let entries: Vec<&Node> = match properties.get("Policies").map(|p| &p.value) {
            Some(Value::List(items)) => items.iter().collect(),
            Some(_) => properties.get("Policies").into_iter().collect(),
            None => Vec::new(),
        };
        for (index, entry) in entries.into_iter().enumerate() {
            match &entry.value {
                Value::String(name) => policies.push(policies::managed(name, values.pseudo)),
                Value::Map(members) if entry.get("Statement").is_some() => {
                    let mut document = node_to_json(entry);
                    if document.get("Version").is_none()
                        && let Some(object) = document.as_object_mut()
                    {
                        object.insert("Version".to_string(), serde_json::Value::String("2012-10-17".to_string()));
                    }
                    let _ = members;
                    policies.push(policies::Policy { source: format!("inline {logical_id}RolePolicy{index}"), document: Some(document), arn: None });
                }
                Value::Map(members) if members.len() == 1 => {
                    let (template, parameters) = &members[0];
                    match policies::expand_template(template, &node_to_json(parameters), values.pseudo, &entry.location) {
                        Ok(Some(mut policy)) => {
                            policy.source = format!("{template} ({logical_id}RolePolicy{index})");
                            policies.push(policy);
                        }
                        Ok(None) => {
                            diagnostics.push(Diagnostic::warning(&entry.location, format!("policy template {template} is not expanded locally: its permissions are not known to Stratus")));
                            policies.push(policies::Policy { source: template.clone(), document: None, arn: None });
                        }
                        Err(error) => diagnostics.push(error),
                    }
                }
                _ => diagnostics.push(
                    Diagnostic::error(&entry.location, format!("function '{logical_id}': a Policies entry must be a managed policy name, a policy template or a policy document"))
                        .with_hint("e.g. `- AWSLambdaBasicExecutionRole`, `- DynamoDBCrudPolicy: {TableName: !Ref Table}` or `- Statement: [...]`"),
                ),
            }
        }
        if let Some(entries) = properties.get("Events").and_then(Node::as_map) {
            let kinds: BTreeSet<String> = entries.iter().filter_map(|(_, e)| text(e.get("Type"))).collect();
            if kinds.contains("DynamoDB") {
                policies.push(policies::managed("AWSLambdaDynamoDBExecutionRole", values.pseudo));
            }
            if kinds.contains("SQS") {
                policies.push(policies::managed("AWSLambdaSQSQueueExecutionRole", values.pseudo));
            }
        }
    }
    let mut events = Vec::new();
    if let Some(entries) = properties.get("Events").and_then(Node::as_map) {
        for (event_name, event) in entries {
            let kind = text(event.get("Type")).unwrap_or_default();
            let event_properties = event.get("Properties");
            if kind == "Api" || kind == "HttpApi" {
                let http = kind == "HttpApi";
                let explicit = event_properties
                    .and_then(|p| p.get(if http { "ApiId" } else { "RestApiId" }))
                    .map(plain);
                let api_logical = match explicit {
                    Some(id) => declared_api_for(values, &id).unwrap_or(id),
                    None => {
                        let implicit = if http { "ServerlessHttpApi" } else { "ServerlessRestApi" };
                        let stage = if http { "$default" } else { "Prod" };
                        add_api(
                            app,
                            implicit,
                            if http { ApiKind::Http } else { ApiKind::Rest },
                            stage,
                            true,
                            &event.location,
                        );
                        implicit.to_string()
                    }
                };
                let method = event_properties
                    .and_then(|p| p.get("Method"))
                    .map(plain)
                    .unwrap_or_else(|| if http { "ANY".into() } else { String::new() });
                let path = event_properties
                    .and_then(|p| p.get("Path"))
                    .map(plain)
                    .unwrap_or_else(|| if http { "$default".into() } else { String::new() });
                if !http && (method.is_empty() || path.is_empty()) {
                    diagnostics.push(Diagnostic::error(
                        &event.location,
                        format!("event '{event_name}' of '{logical_id}': an Api event needs Path and Method"),
                    ));
                    continue;
                }
                let payload_version = event_properties
                    .and_then(|p| p.get("PayloadFormatVersion"))
                    .map(plain)
                    .unwrap_or_else(|| if http { "2.0".into() } else { "1.0".into() });
                let authorizer = event_properties
                    .and_then(|p| p.get("Auth"))
                    .and_then(|a| a.get("Authorizer"))
                    .map(plain);
                let timeout_ms = event_properties
                    .and_then(|p| p.get("TimeoutInMillis"))
                    .and_then(|t| plain(t).parse::<u64>().ok());
                app.routes.push(Route {
                    api: api_logical,
                    method: method.to_ascii_uppercase(),
                    path,
                    function: logical_id.to_string(),
                    payload_version,
                    authorizer,
                    timeout_ms,
                    location: event.location.clone(),
                });
            }
            events.push(EventSource {
                name: event_name.clone(),
                kind,
                properties: event_properties.map(node_to_json).unwrap_or(serde_json::Value::Null),
            });
        }
    }
    let layers = properties
        .get("Layers")
        .and_then(Node::as_list)
        .map(|l| l.iter().map(plain).collect())
        .unwrap_or_default();
    let architectures = properties
        .get("Architectures")
        .and_then(Node::as_list)
        .map(|l| l.iter().map(plain).collect())
        .unwrap_or_else(|| vec!["x86_64".to_string()]);
    let timeout_seconds = integer_within(properties.get("Timeout"), "Timeout", 1..=900, "seconds", diagnostics)
        .unwrap_or(DEFAULT_TIMEOUT_SECONDS);
    let memory_mb = integer_within(
        properties.get("MemorySize"),
        "MemorySize",
        128..=10240,
        "MB",
        diagnostics,
    )
    .unwrap_or(DEFAULT_MEMORY_MB);
    let reserved_concurrency = integer(
        properties.get("ReservedConcurrentExecutions"),
        "ReservedConcurrentExecutions",
        diagnostics,
    );
    let description = properties.get("Description").map(plain).unwrap_or_default();
    let tracing = if serverless {
        properties.get("Tracing")
    } else {
        properties.get("TracingConfig").and_then(|t| t.get("Mode"))
    };
    // SAM's `Tracing: Disabled` leaves the function without a TracingConfig: Lambda's default.
    let tracing_mode = match tracing.map(plain).as_deref() {
        Some("Active") => "Active".to_string(),
        _ => "PassThrough".to_string(),
    };
    let ephemeral_storage_mb = integer_within(
        properties.get("EphemeralStorage").and_then(|e| e.get("Size")),
        "EphemeralStorage Size",
        512..=10240,
        "MB",
        diagnostics,
    )
    .unwrap_or(512);
    let mut tags = BTreeMap::new();
    match properties.get("Tags").map(|t| &t.value) {
        // SAM: a map of names to values.
        Some(Value::Map(entries)) => {
            for (key, value) in entries {
                tags.insert(key.clone(), plain(value));
            }
        }
        // CloudFormation: a list of {Key, Value}.
        Some(Value::List(items)) => {
            for item in items {
                if let (Some(key), Some(value)) = (item.get("Key"), item.get("Value")) {
                    tags.insert(plain(key), plain(value));
                }
            }
        }
        _ => {}
    }
    if serverless {
        tags.insert("lambda:createdBy".to_string(), "SAM".to_string());
    }
    let logging = properties
        .get("LoggingConfig")
        .map(|config| logging_config(config, logical_id, &name, diagnostics))
        .unwrap_or_default();
    app.functions.insert(
        logical_id.to_string(),
        Function {
            logical_id: logical_id.to_string(),
            name,
            arn: function_arn,
            runtime,
            handler,
            code,
            timeout_seconds,
            memory_mb,
            environment,
            architectures,
            layers,
            role_arn,
            policies,
            reserved_concurrency,
            description,
            tracing_mode,
            logging,
            ephemeral_storage_mb,
            tags,
            events,
            location: resource.location.clone(),
        },
    );
    Ok(())
}

/// The logical id of the declared API whose local id is `id` (what `!Ref MyApi` resolved to).
fn declared_api_for(values: &Resources<'_>, id: &str) -> Option<String> {
    values
        .declared
        .keys()
        .find(|logical_id| api_id(logical_id) == id)
        .cloned()
}

fn key_element(name: &str, definitions: &[(String, String)], location: &Location) -> Result<KeyElement, Diagnostic> {
    let attribute_type = definitions
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, t)| t.clone())
        .ok_or_else(|| {
            Diagnostic::error(
                location,
                format!("key attribute '{name}' is not in AttributeDefinitions"),
            )
            .with_hint(format!(
                "add `- AttributeName: {name}` with its AttributeType (S, N or B)"
            ))
        })?;
    Ok(KeyElement {
        name: name.to_string(),
        attribute_type,
    })
}

fn key_schema(
    schema: Option<&Node>,
    definitions: &[(String, String)],
    location: &Location,
) -> Result<(KeyElement, Option<KeyElement>), Diagnostic> {
    let elements = schema
        .and_then(Node::as_list)
        .ok_or_else(|| Diagnostic::error(location, "KeySchema is missing or not a list"))?;
    let mut hash = None;
    let mut range = None;
    for element in elements {
        let name = text(element.get("AttributeName")).unwrap_or_default();
        match text(element.get("KeyType")).as_deref() {
            Some("HASH") => hash = Some(key_element(&name, definitions, &element.location)?),
            Some("RANGE") => range = Some(key_element(&name, definitions, &element.location)?),
            _ => return Err(Diagnostic::error(&element.location, "KeyType must be HASH or RANGE")),
        }
    }
    let hash = hash.ok_or_else(|| Diagnostic::error(location, "KeySchema has no HASH key"))?;
    Ok((hash, range))
}

fn table(
    logical_id: &str,
    resource: &Resource,
    properties: &Node,
    values: &Resources<'_>,
    evaluator: &Evaluator<'_>,
    app: &mut App,
    _diagnostics: &mut [Diagnostic],
) -> Result<(), Diagnostic> {
    let name = values.physical_name(logical_id, evaluator)?;
    let table_arn = arn(values.pseudo, "dynamodb", true, &format!("table/{name}"));
    let location = &resource.location;
    let (hash, range, global_indexes, local_indexes, billing_mode) = if resource.kind == "AWS::Serverless::SimpleTable"
    {
        let primary = properties.get("PrimaryKey");
        let hash = KeyElement {
            name: primary
                .and_then(|p| text(p.get("Name")))
                .unwrap_or_else(|| "id".to_string()),
            attribute_type: match primary.and_then(|p| text(p.get("Type"))).as_deref() {
                Some("Number") => "N".to_string(),
                Some("Binary") => "B".to_string(),
                _ => "S".to_string(),
            },
        };
        let billing = if properties.get("ProvisionedThroughput").is_some() {
            "PROVISIONED"
        } else {
            "PAY_PER_REQUEST"
        };
        (hash, None, Vec::new(), Vec::new(), billing.to_string())
    } else {
        let definitions: Vec<(String, String)> = properties
            .get("AttributeDefinitions")
            .and_then(Node::as_list)
            .map(|list| {
                list.iter()
                    .map(|d| {
                        (
                            text(d.get("AttributeName")).unwrap_or_default(),
                            text(d.get("AttributeType")).unwrap_or_default(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let (hash, range) = key_schema(properties.get("KeySchema"), &definitions, location)?;
        let indexes = |section: &str| -> Result<Vec<Index>, Diagnostic> {
            let mut indexes = Vec::new();
            for index in properties.get(section).and_then(Node::as_list).unwrap_or(&[]) {
                let (hash, range) = key_schema(index.get("KeySchema"), &definitions, &index.location)?;
                indexes.push(Index {
                    name: text(index.get("IndexName")).unwrap_or_default(),
                    hash,
                    range,
                    projection: index
                        .get("Projection")
                        .and_then(|p| text(p.get("ProjectionType")))
                        .unwrap_or_else(|| "KEYS_ONLY".to_string()),
                    non_key_attributes: index
                        .get("Projection")
                        .and_then(|p| p.get("NonKeyAttributes"))
                        .and_then(Node::as_list)
                        .map(|names| names.iter().map(plain).collect())
                        .unwrap_or_default(),
                });
            }
            Ok(indexes)
        };
        let billing = text(properties.get("BillingMode")).unwrap_or_else(|| "PROVISIONED".to_string());
        (
            hash,
            range,
            indexes("GlobalSecondaryIndexes")?,
            indexes("LocalSecondaryIndexes")?,
            billing,
        )
    };
    let stream_view_type = properties
        .get("StreamSpecification")
        .and_then(|s| text(s.get("StreamViewType")));
    let ttl_attribute = properties
        .get("TimeToLiveSpecification")
        .filter(|t| {
            t.get("Enabled")
                .is_some_and(|e| matches!(e.value, Value::Bool(true)) || plain(e) == "true")
        })
        .and_then(|t| text(t.get("AttributeName")));
    app.tables.insert(
        logical_id.to_string(),
        Table {
            logical_id: logical_id.to_string(),
            name,
            arn: table_arn,
            hash,
            range,
            global_indexes,
            local_indexes,
            billing_mode,
            stream_view_type,
            ttl_attribute,
            location: location.clone(),
        },
    );
    Ok(())
}

/// The template file in an app folder: `template.yaml`, `template.yml` or `template.json`.
pub fn find_template(app_dir: &Path) -> Option<PathBuf> {
    ["template.yaml", "template.yml", "template.json"]
        .iter()
        .map(|name| app_dir.join(name))
        .find(|p| p.is_file())
}
