//! From the app model to running parts: function configurations for the Lambda service
//! (inline code written out, layers resolved), the template's tables created in the engine, and
//! where the cache lives.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use stratus_dynamodb::Engine;
use stratus_dynamodb::index::IndexInput;
use stratus_dynamodb::key::ScalarType;
use stratus_dynamodb::table::{BillingMode, CreateTableInput, StreamInput, StreamViewType, Throughput};
use stratus_lambda::FunctionConfig;
use stratus_template::model::{App, Code};
use stratus_template::{LoadOptions, Severity, find_template, load};

use crate::ACCOUNT_ID;

/// What loading a template needs from the command line.
pub struct TemplateArgs<'a> {
    pub app_dir: &'a Path,
    pub template: Option<&'a Path>,
    pub region: &'a str,
    pub stack_name: Option<&'a str>,
    pub parameter_overrides: BTreeMap<String, String>,
    pub config_env: &'a str,
    pub env_vars: Option<&'a Path>,
}

/// Loads the app's template: `Ok(None)` when there is none (only the AWS endpoint runs).
/// Problems are printed with file:line; errors make it fail.
pub fn load_app(args: &TemplateArgs<'_>) -> Result<Option<App>> {
    let template = match args.template {
        Some(path) => {
            if !path.is_file() {
                bail!("the template {} does not exist", path.display());
            }
            path.to_path_buf()
        }
        None => match find_template(args.app_dir) {
            Some(path) => path,
            None => return Ok(None),
        },
    };
    let options = LoadOptions {
        region: args.region.to_string(),
        account: ACCOUNT_ID.to_string(),
        stack_name: args.stack_name.map(str::to_string),
        parameter_overrides: args.parameter_overrides.clone(),
        config_env: args.config_env.to_string(),
        env_vars: args.env_vars.map(Path::to_path_buf),
        ..LoadOptions::default()
    };
    match load(&template, &options) {
        Ok(app) => {
            for warning in &app.warnings {
                eprintln!("{warning}");
            }
            Ok(Some(app))
        }
        Err(diagnostics) => {
            for diagnostic in &diagnostics {
                eprintln!("{diagnostic}");
            }
            let errors = diagnostics.iter().filter(|d| d.severity == Severity::Error).count();
            bail!("{} is not valid: {errors} error(s)", template.display())
        }
    }
}

/// The cache for runtimes, SDKs and dependencies: `STRATUS_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/stratus`, else `~/.cache/stratus`.
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("STRATUS_CACHE_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir).join("stratus");
    }
    match std::env::var_os("HOME").filter(|d| !d.is_empty()) {
        Some(home) => PathBuf::from(home).join(".cache").join("stratus"),
        None => std::env::temp_dir().join("stratus-cache"),
    }
}

/// The functions Stratus can run, and a warning for each it cannot.
pub fn function_configs(app: &App, cache_dir: &Path) -> (Vec<FunctionConfig>, Vec<String>) {
    let mut configs = Vec::new();
    let mut warnings = Vec::new();
    for function in app.functions.values() {
        let Some(runtime) = function.runtime.clone() else {
            warnings.push(format!(
                "function {} has no Runtime (an image package?): not run locally",
                function.logical_id
            ));
            continue;
        };
        let handler = function.handler.clone().unwrap_or_else(|| "bootstrap".to_string());
        let code_dir = match &function.code {
            Code::Directory(path) => path.clone(),
            Code::Inline(source) => match write_inline(cache_dir, &function.name, &runtime, &handler, source) {
                Ok(dir) => dir,
                Err(error) => {
                    warnings.push(format!(
                        "function {}: cannot write its inline code: {error:#}",
                        function.logical_id
                    ));
                    continue;
                }
            },
            Code::Remote(location) => {
                warnings.push(format!(
                    "function {}: its code is at {location}, not in a local folder: not run locally (point CodeUri at the folder)",
                    function.logical_id
                ));
                continue;
            }
        };
        // Functions run with their code folder as working directory: paths must be absolute.
        let code_dir = absolute(&code_dir);
        let mut layer_dirs = Vec::new();
        let mut layer_arns = Vec::new();
        for layer in &function.layers {
            match app.layers.get(layer).map(|l| (&l.content, &l.arn)) {
                Some((Code::Directory(dir), arn)) => {
                    layer_dirs.push(absolute(dir));
                    layer_arns.push(arn.clone());
                }
                _ => warnings.push(format!(
                    "function {}: layer {layer} is not a local folder in this template: left out",
                    function.logical_id
                )),
            }
        }
        configs.push(FunctionConfig {
            name: function.name.clone(),
            logical_id: function.logical_id.clone(),
            arn: function.arn.clone(),
            runtime,
            handler,
            code_dir,
            timeout: Duration::from_secs(function.timeout_seconds.max(1)),
            memory_mb: function.memory_mb,
            environment: function.environment.clone(),
            layer_dirs,
            reserved_concurrency: function.reserved_concurrency.map(|r| r.min(u64::from(u32::MAX)) as u32),
            role_arn: function.role_arn.clone(),
            architectures: function.architectures.clone(),
            layer_arns,
            description: function.description.clone(),
            tracing_mode: function.tracing_mode.clone(),
            ephemeral_storage_mb: function.ephemeral_storage_mb,
            tags: function.tags.clone(),
            log_format: function.logging.format.clone(),
            application_log_level: function.logging.application_level.clone(),
            system_log_level: function.logging.system_level.clone(),
            log_group: function.logging.group.clone(),
        });
    }
    (configs, warnings)
}

/// Each function's role policies as IAM evaluates them. A managed policy whose document
/// Stratus does not know grants nothing locally (noted), as does a document IAM cannot parse.
pub fn function_policies(app: &App) -> (HashMap<String, Arc<Vec<stratus_iam::Policy>>>, Vec<String>) {
    let mut policies = HashMap::new();
    let mut notes = Vec::new();
    for function in app.functions.values() {
        let mut parsed = Vec::new();
        for policy in &function.policies {
            let Some(document) = &policy.document else {
                notes.push(format!(
                    "{}: the managed policy {} is unknown to Stratus and grants nothing locally",
                    function.logical_id,
                    policy.arn.as_deref().unwrap_or(&policy.source)
                ));
                continue;
            };
            match stratus_iam::Policy::parse(&policy.source, document) {
                Ok(policy) => parsed.push(policy),
                Err(error) => notes.push(format!(
                    "{}: policy {} is not valid IAM and grants nothing: {error}",
                    function.logical_id, policy.source
                )),
            }
        }
        policies.insert(function.name.clone(), Arc::new(parsed));
    }
    (policies, notes)
}

/// `path` made absolute (and resolved, when it exists).
pub fn absolute(path: &Path) -> PathBuf {
    if let Ok(resolved) = path.canonicalize() {
        return resolved;
    }
    match std::env::current_dir() {
        Ok(current) if path.is_relative() => current.join(path),
        _ => path.to_path_buf(),
    }
}

/// Writes `InlineCode` to `cache/inline/<function>/<module>.<ext>` so it runs like a folder.
fn write_inline(cache_dir: &Path, name: &str, runtime: &str, handler: &str, source: &str) -> Result<PathBuf> {
    let module = handler.rsplit_once('.').map(|(m, _)| m).unwrap_or("index");
    let extension = if runtime.starts_with("python") {
        "py"
    } else if runtime.starts_with("nodejs") {
        "js"
    } else {
        bail!("inline code needs a python or nodejs runtime, not {runtime}");
    };
    let dir = cache_dir.join("inline").join(name);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let file = dir.join(format!("{module}.{extension}"));
    if std::fs::read_to_string(&file).ok().as_deref() != Some(source) {
        std::fs::write(&file, source).with_context(|| format!("cannot write {}", file.display()))?;
    }
    Ok(dir)
}

/// Creates the template's tables that do not exist yet. A table that exists with another key
/// schema is an error: its data is kept, never silently dropped.
pub async fn create_tables(app: &App, engine: &Arc<Engine>) -> Result<Vec<String>> {
    let mut notes = Vec::new();
    for table in app.tables.values() {
        let key = |element: &stratus_template::model::KeyElement| -> Result<(String, ScalarType)> {
            let scalar = ScalarType::from_name(&element.attribute_type).with_context(|| {
                format!(
                    "table {}: key attribute {} has type {}, not S, N or B",
                    table.logical_id, element.name, element.attribute_type
                )
            })?;
            Ok((element.name.clone(), scalar))
        };
        let mut attribute_definitions = vec![key(&table.hash)?];
        let mut key_schema = vec![(table.hash.name.clone(), "HASH".to_string())];
        if let Some(range) = &table.range {
            attribute_definitions.push(key(range)?);
            key_schema.push((range.name.clone(), "RANGE".to_string()));
        }
        if let Ok(existing) = engine.describe_table(&table.name) {
            let schema = &existing.definition.key_schema;
            let same_hash =
                schema.hash.name == table.hash.name && schema.hash.scalar_type.name() == table.hash.attribute_type;
            let same_range = match (&schema.range, &table.range) {
                (None, None) => true,
                (Some(have), Some(want)) => have.name == want.name && have.scalar_type.name() == want.attribute_type,
                _ => false,
            };
            if !(same_hash && same_range) {
                let describe = |hash: (&str, &str), range: Option<(&str, &str)>| {
                    let mut text = format!("{} {} HASH", hash.0, hash.1);
                    if let Some((name, kind)) = range {
                        text.push_str(&format!(", {name} {kind} RANGE"));
                    }
                    text
                };
                let have = describe(
                    (&schema.hash.name, schema.hash.scalar_type.name()),
                    schema.range.as_ref().map(|r| (r.name.as_str(), r.scalar_type.name())),
                );
                let want = describe(
                    (&table.hash.name, &table.hash.attribute_type),
                    table
                        .range
                        .as_ref()
                        .map(|r| (r.name.as_str(), r.attribute_type.as_str())),
                );
                bail!(
                    "{}: table {} already holds data with key schema ({have}), but the template declares ({want}). \
                     Stratus keeps the data and will not change the key: delete the table \
                     (aws dynamodb delete-table --table-name {} --endpoint-url …) or start with another --data-dir",
                    table.location,
                    table.name,
                    table.name
                );
            }
            continue;
        }
        let billing_mode = if table.billing_mode == "PROVISIONED" {
            BillingMode::Provisioned
        } else {
            BillingMode::PayPerRequest
        };
        let provisioned_throughput =
            (billing_mode == BillingMode::Provisioned).then_some(Throughput { read: 5, write: 5 });
        let index_input = |index: &stratus_template::model::Index| -> Result<IndexInput> {
            let mut schema = vec![(index.hash.name.clone(), "HASH".to_string())];
            if let Some(range) = &index.range {
                schema.push((range.name.clone(), "RANGE".to_string()));
            }
            Ok(IndexInput {
                name: index.name.clone(),
                key_schema: schema,
                projection_type: Some(index.projection.clone()),
                non_key_attributes: (index.projection == "INCLUDE").then(|| index.non_key_attributes.clone()),
                throughput: provisioned_throughput,
            })
        };
        for index in table.global_indexes.iter().chain(table.local_indexes.iter()) {
            for element in std::iter::once(&index.hash).chain(index.range.as_ref()) {
                if !attribute_definitions.iter().any(|(name, _)| name == &element.name) {
                    attribute_definitions.push(key(element)?);
                }
            }
        }
        let global_indexes = (!table.global_indexes.is_empty())
            .then(|| table.global_indexes.iter().map(index_input).collect::<Result<Vec<_>>>())
            .transpose()?;
        let local_indexes = (!table.local_indexes.is_empty())
            .then(|| {
                table
                    .local_indexes
                    .iter()
                    .map(|i| index_input(i).map(|i| IndexInput { throughput: None, ..i }))
                    .collect::<Result<Vec<_>>>()
            })
            .transpose()?;
        let stream = table.stream_view_type.as_deref().map(|view| StreamInput {
            enabled: true,
            view_type: StreamViewType::from_name(view),
        });
        let input = CreateTableInput {
            table_name: table.name.clone(),
            attribute_definitions,
            key_schema,
            billing_mode: Some(billing_mode),
            provisioned_throughput,
            global_indexes,
            local_indexes,
            stream,
            tags: Vec::new(),
        };
        engine.create_table(input).await.map_err(|e| {
            anyhow::anyhow!(
                "{}: cannot create table {}: {}",
                table.location,
                table.name,
                e.message()
            )
        })?;
    }
    // TimeToLiveSpecification: enabled on tables that declare it (new or kept), as a stack
    // update would.
    for table in app.tables.values() {
        let Some(attribute) = &table.ttl_attribute else {
            continue;
        };
        let current = engine.describe_time_to_live(&table.name).ok().flatten();
        if current.as_ref().is_some_and(|t| t.enabled && &t.attribute == attribute) {
            continue;
        }
        if let Err(error) = engine.update_time_to_live(&table.name, true, attribute).await {
            notes.push(format!(
                "table {}: TimeToLiveSpecification not applied: {}",
                table.name,
                error.message()
            ));
        }
    }
    Ok(notes)
}

/// The gateway's view of the template's APIs: routes with physical function names, CORS,
/// binary media types and Lambda authorizers.
pub fn gateway_apis(app: &App) -> (Vec<stratus_gateway::ApiConfig>, Vec<String>) {
    use stratus_gateway::authorizer::{Authorizer, Kind, Source};
    use stratus_gateway::cors::{HttpCors, RestCors};
    use stratus_gateway::{ApiConfig, ApiKind, RouteConfig};
    use stratus_template::model::ApiKind as ModelKind;

    let mut notes = Vec::new();
    let mut apis = Vec::new();
    for api in app.apis.values() {
        let kind = match api.kind {
            ModelKind::Rest => ApiKind::Rest,
            ModelKind::Http => ApiKind::Http,
        };
        let routes: Vec<RouteConfig> = app
            .routes
            .iter()
            .filter(|r| r.api == api.logical_id)
            .map(|r| RouteConfig {
                method: r.method.to_ascii_uppercase(),
                path: r.path.clone(),
                function: app
                    .functions
                    .get(&r.function)
                    .map(|f| f.name.clone())
                    .unwrap_or_else(|| r.function.clone()),
                payload_version: r.payload_version.clone(),
                authorizer: r.authorizer.clone(),
                timeout: r.timeout_ms.map(Duration::from_millis),
            })
            .collect();
        let mut authorizers = std::collections::BTreeMap::new();
        let auth = api.auth.as_ref();
        if let Some(serde_json::Value::Object(declared)) = auth.and_then(|a| a.get("Authorizers")) {
            for (name, definition) in declared {
                let identity = definition.get("Identity");
                let list = |key: &str| -> Vec<String> {
                    identity
                        .and_then(|i| i.get(key))
                        .and_then(|v| v.as_array())
                        .map(|items| items.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
                        .unwrap_or_default()
                };
                let mut sources: Vec<Source> = list("Headers")
                    .into_iter()
                    .map(|h| Source::Header(h.to_ascii_lowercase()))
                    .collect();
                sources.extend(list("QueryStrings").into_iter().map(Source::Query));
                if let Some(serde_json::Value::String(source)) = definition.get("IdentitySource") {
                    sources.extend(source.split(',').map(|s| Source::parse(s.trim())));
                }
                let ttl = identity
                    .and_then(|i| i.get("ReauthorizeEvery"))
                    .and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()))
                    .unwrap_or(300);
                let function = definition
                    .get("FunctionArn")
                    .and_then(|v| v.as_str())
                    .map(str::to_string);
                let kind_of = match (kind, &function) {
                    (_, None) => {
                        let what = if definition.get("JwtConfiguration").is_some() {
                            "JWT"
                        } else if definition.get("UserPoolArn").is_some() {
                            "Cognito"
                        } else {
                            "non-Lambda"
                        };
                        notes.push(format!(
                            "API {}: the {what} authorizer {name} is not checked locally (requests pass)",
                            api.logical_id
                        ));
                        Kind::NotChecked(what.to_string())
                    }
                    (ApiKind::Rest, Some(_)) => {
                        let payload = definition
                            .get("FunctionPayloadType")
                            .and_then(|v| v.as_str())
                            .unwrap_or("TOKEN");
                        if payload.eq_ignore_ascii_case("REQUEST") {
                            Kind::RestRequest
                        } else {
                            Kind::RestToken {
                                header: identity
                                    .and_then(|i| i.get("Header"))
                                    .and_then(|v| v.as_str())
                                    .unwrap_or("Authorization")
                                    .to_string(),
                                validation: identity
                                    .and_then(|i| i.get("ValidationExpression"))
                                    .and_then(|v| v.as_str())
                                    .map(str::to_string),
                            }
                        }
                    }
                    (ApiKind::Http, Some(_)) => Kind::HttpLambda {
                        payload_version: definition
                            .get("AuthorizerPayloadFormatVersion")
                            .map(|v| match v {
                                serde_json::Value::Number(n) => format!("{:.1}", n.as_f64().unwrap_or(2.0)),
                                other => other.as_str().unwrap_or("2.0").to_string(),
                            })
                            .unwrap_or_else(|| "2.0".to_string()),
                        simple_responses: definition
                            .get("EnableSimpleResponses")
                            .is_some_and(|v| v == &serde_json::Value::Bool(true)),
                    },
                };
                authorizers.insert(
                    name.clone(),
                    Authorizer {
                        name: name.clone(),
                        function: function.unwrap_or_default(),
                        kind: kind_of,
                        identity_sources: sources,
                        ttl: Duration::from_secs(ttl),
                    },
                );
            }
        }
        let default_authorizer = auth
            .and_then(|a| a.get("DefaultAuthorizer"))
            .and_then(|v| v.as_str())
            .map(str::to_string);
        let uses_iam = routes.iter().any(|r| r.authorizer.as_deref() == Some("AWS_IAM"))
            || default_authorizer.as_deref() == Some("AWS_IAM");
        if uses_iam {
            notes.push(format!(
                "API {}: AWS_IAM authorization on routes is not checked yet (requests pass)",
                api.logical_id
            ));
        }
        let (rest_cors, http_cors) = match (kind, &api.cors) {
            (ApiKind::Rest, Some(cors)) => (RestCors::from_sam(cors), None),
            (ApiKind::Http, Some(cors)) => (None, HttpCors::from_sam(cors)),
            _ => (None, None),
        };
        apis.push(ApiConfig {
            logical_id: api.logical_id.clone(),
            id: api.id.clone(),
            kind,
            stage: api.stage.clone(),
            rest_cors,
            http_cors,
            binary_media_types: api.binary_media_types.clone(),
            routes,
            authorizers,
            default_authorizer,
            stage_variables: api.stage_variables.clone(),
        });
    }
    (apis, notes)
}

/// The stream triggers and schedules of the template's functions, and a note for each event
/// that cannot run.
pub fn event_sources(
    app: &App,
) -> (
    Vec<stratus_aws::event_sources::StreamTrigger>,
    Vec<stratus_aws::event_sources::ScheduleTrigger>,
    Vec<String>,
) {
    use stratus_aws::event_sources::{ScheduleTrigger, StreamTrigger};
    let mut streams = Vec::new();
    let mut schedules = Vec::new();
    let mut notes = Vec::new();
    for function in app.functions.values() {
        for event in &function.events {
            match event.kind.as_str() {
                "DynamoDB" => match StreamTrigger::from_event(&function.name, &event.name, &event.properties) {
                    Some(trigger) => streams.push(trigger),
                    None => notes.push(format!(
                        "function {}: the DynamoDB event {} names no table stream Stratus knows",
                        function.logical_id, event.name
                    )),
                },
                "Schedule" | "ScheduleV2" => {
                    match ScheduleTrigger::from_event(&function.name, &event.name, &event.kind, &event.properties) {
                        Ok(trigger) => schedules.push(trigger),
                        Err(error) => notes.push(error),
                    }
                }
                "Api" | "HttpApi" => {}
                other => notes.push(format!(
                    "function {}: {other} events are not run locally ({})",
                    function.logical_id, event.name
                )),
            }
        }
    }
    (streams, schedules, notes)
}
