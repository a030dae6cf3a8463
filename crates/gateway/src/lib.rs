//! API Gateway on the API port: every API of the template (REST APIs with payload 1.0, HTTP APIs
//! with payload 1.0 or 2.0) routed as AWS routes, Lambda authorizers, CORS, a static frontend,
//! the events and response mapping of each payload format, and access logs.
//!
//! Functions are invoked through [`stratus_lambda::Lambda::invoke`], the same interface the
//! Invoke API uses. The gateway knows nothing of DynamoDB or IAM policies for AWS callers.

pub mod authorizer;
pub mod cors;
pub mod decode;
pub mod event;
pub mod response;
pub mod routes;
pub mod statics;

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::header::{HeaderName, HeaderValue};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use stratus_lambda::{Call, InvocationType, Invoked, Lambda};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::authorizer::{Authorizer, Cache, Decision, Kind, Source};
use crate::cors::{HttpCors, RestCors};
use crate::event::Incoming;
use crate::response::{Flavor, Reply};
use crate::routes::{Entry, Match, Pattern};

/// Largest request body API Gateway accepts: 10 MB.
pub const REQUEST_BYTES_MAX: usize = 10 * 1024 * 1024;
/// How long in-flight requests may take to finish after a stop was asked for.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApiKind {
    Rest,
    Http,
}

/// One route of an API.
#[derive(Clone, Debug)]
pub struct RouteConfig {
    /// `GET`, …, or `ANY`.
    pub method: String,
    /// `/books/{id}`, or `$default` (HTTP APIs).
    pub path: String,
    /// The function's name.
    pub function: String,
    /// `1.0` or `2.0`.
    pub payload_version: String,
    /// `None`: the API's default; `Some("NONE")`: none.
    pub authorizer: Option<String>,
    /// `TimeoutInMillis` of the integration (50 ms up to the API type's maximum).
    pub timeout: Option<Duration>,
}

/// One API of the template.
#[derive(Clone, Debug)]
pub struct ApiConfig {
    pub logical_id: String,
    pub id: String,
    pub kind: ApiKind,
    pub stage: String,
    pub rest_cors: Option<RestCors>,
    pub http_cors: Option<HttpCors>,
    pub binary_media_types: Vec<String>,
    pub routes: Vec<RouteConfig>,
    pub authorizers: BTreeMap<String, Authorizer>,
    pub default_authorizer: Option<String>,
    pub stage_variables: BTreeMap<String, String>,
}

/// One line of the access log.
#[derive(Clone, Debug)]
pub struct AccessEntry {
    pub method: String,
    pub path: String,
    pub status: u16,
    pub latency: Duration,
    pub function: Option<String>,
    pub request_id: String,
    pub api: Option<String>,
}

pub type AccessLog = Arc<dyn Fn(&AccessEntry) + Send + Sync>;

#[derive(Clone)]
pub struct GatewayConfig {
    pub apis: Vec<ApiConfig>,
    pub static_dir: Option<PathBuf>,
    pub account: String,
    pub region: String,
    /// `--disable-authorizer`: run no authorizer.
    pub authorizers_enabled: bool,
    /// REST APIs' integration timeout (29 s).
    pub rest_timeout: Duration,
    /// HTTP APIs' integration timeout (30 s).
    pub http_timeout: Duration,
    pub access_log: Option<AccessLog>,
    /// The port clients reach the gateway on (`X-Forwarded-Port`).
    pub port: u16,
}

impl GatewayConfig {
    pub fn new(apis: Vec<ApiConfig>) -> GatewayConfig {
        GatewayConfig {
            apis,
            static_dir: None,
            account: "000000000000".to_string(),
            region: "us-east-1".to_string(),
            authorizers_enabled: true,
            rest_timeout: Duration::from_secs(29),
            http_timeout: Duration::from_secs(30),
            access_log: None,
            port: 3000,
        }
    }
}

struct ApiRuntime {
    config: ApiConfig,
    entries: Vec<Entry<usize>>,
}

/// The gateway: routing tables for every API, and the Lambda service behind them.
pub struct Gateway {
    config: GatewayConfig,
    apis: Vec<ApiRuntime>,
    lambda: Arc<Lambda>,
    cache: Cache,
}

/// Where a request went.
struct Routed<'a> {
    api: &'a ApiRuntime,
    route: &'a RouteConfig,
    parameters: Vec<(String, String)>,
    /// The path without the stage prefix.
    path: String,
}

enum Outcome<'a> {
    Routed(Routed<'a>),
    Reply(Reply, Option<&'a ApiRuntime>),
}

impl Gateway {
    pub fn new(config: GatewayConfig, lambda: Arc<Lambda>) -> Gateway {
        let apis = config
            .apis
            .iter()
            .map(|api| ApiRuntime {
                entries: api
                    .routes
                    .iter()
                    .enumerate()
                    .map(|(index, route)| Entry {
                        method: route.method.to_ascii_uppercase(),
                        pattern: Pattern::parse(if route.path == "$default" { "/" } else { &route.path }),
                        default_route: route.path == "$default",
                        target: index,
                    })
                    .collect(),
                config: api.clone(),
            })
            .collect();
        Gateway {
            config,
            apis,
            lambda,
            cache: Cache::default(),
        }
    }

    /// Each API's reachable paths (with and without the stage prefix), for the start summary.
    pub fn describe_routes(&self) -> Vec<(String, String, String, String)> {
        let mut lines = Vec::new();
        for api in &self.apis {
            for route in &api.config.routes {
                lines.push((
                    api.config.logical_id.clone(),
                    route.method.clone(),
                    route.path.clone(),
                    route.function.clone(),
                ));
            }
        }
        lines
    }

    /// The API a path belongs to on this shared port: the one with a route for it (the stage
    /// prefix stripped when it names that API's stage), else the one whose stage the path starts
    /// with.
    fn owner<'a>(&'a self, raw_path: &str) -> Option<&'a ApiRuntime> {
        let with_route = self.apis.iter().find(|api| {
            candidate_paths(&api.config, raw_path)
                .iter()
                .any(|path| routes::path_matches(&api.entries, path, api.config.kind == ApiKind::Rest))
        });
        with_route.or_else(|| {
            let first = raw_path.trim_start_matches('/').split('/').next().unwrap_or("");
            self.apis
                .iter()
                .find(|api| !first.is_empty() && api.config.stage == first && api.config.stage != "$default")
        })
    }

    fn route<'a>(&'a self, method: &str, raw_path: &str, headers: &[(String, String)]) -> Outcome<'a> {
        let origin = header(headers, "origin");
        let preflight =
            method == "OPTIONS" && origin.is_some() && header(headers, "access-control-request-method").is_some();
        let owner = self.owner(raw_path);
        // HTTP APIs with CORS answer preflights themselves, before routing.
        if preflight
            && let Some(api) = owner
            && let Some(cors) = &api.config.http_cors
        {
            let reply = cors.preflight(origin.unwrap_or(""), header(headers, "access-control-request-headers"));
            return Outcome::Reply(reply, Some(api));
        }
        // REST APIs with Cors: SAM's OPTIONS mock on every resource, unless the path declares
        // OPTIONS itself (an ANY method does not count).
        if method == "OPTIONS"
            && let Some(api) = owner
            && let Some(cors) = &api.config.rest_cors
        {
            for path in candidate_paths(&api.config, raw_path) {
                if let Some(methods) = routes::rest_resource_methods(&api.entries, &path) {
                    if methods.iter().any(|m| m == "OPTIONS") {
                        break;
                    }
                    return Outcome::Reply(cors.preflight(&methods), Some(api));
                }
            }
        }
        let mut method_not_allowed: Option<&ApiRuntime> = None;
        for api in &self.apis {
            for path in candidate_paths(&api.config, raw_path) {
                let found = match api.config.kind {
                    ApiKind::Rest => routes::match_rest(&api.entries, method, &path),
                    ApiKind::Http => routes::match_http(&api.entries, method, &path),
                };
                match found {
                    Match::Found { route, parameters } => {
                        return Outcome::Routed(Routed {
                            api,
                            route: &api.config.routes[route],
                            parameters,
                            path,
                        });
                    }
                    Match::MethodNotAllowed => {
                        method_not_allowed = method_not_allowed.or(Some(api));
                    }
                    Match::NotFound => {}
                }
            }
        }
        if let Some(api) = method_not_allowed {
            return Outcome::Reply(missing_authentication_token(), Some(api));
        }
        match self.no_route_kind(owner) {
            Some(ApiKind::Http) => Outcome::Reply(
                Reply::json(404, r#"{"message":"Not Found"}"#),
                owner.or(self.apis.first()),
            ),
            _ => Outcome::Reply(missing_authentication_token(), None),
        }
    }

    /// Handles one request end to end.
    pub async fn handle(&self, request: Request<hyper::body::Incoming>, peer: SocketAddr) -> Response<Full<Bytes>> {
        let started = Instant::now();
        let epoch_ms = stratus_lambda::logs::now_ms();
        // REST's requestId and x-amzn-RequestId are UUIDs; API Gateway's own id (REST's
        // extendedRequestId and x-amz-apigw-id, HTTP APIs' requestId and Apigw-Requestid) is not.
        let request_id = stratus_lambda::ids::request_id();
        let apigw_id = apigw_request_id();
        let method = request.method().as_str().to_string();
        let raw_path = request.uri().path().to_string();
        let query = request.uri().query().map(str::to_string);
        if raw_path == "/_stratus/health" {
            return to_response(Reply::json(200, r#"{"status":"ok"}"#), &method);
        }
        let headers: Vec<(String, String)> = request
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let declared = header(&headers, "content-length").and_then(|v| v.parse::<u64>().ok());
        let body = if declared.is_some_and(|l| l > REQUEST_BYTES_MAX as u64) {
            None
        } else {
            match Limited::new(request.into_body(), REQUEST_BYTES_MAX).collect().await {
                Ok(collected) => Some(collected.to_bytes()),
                Err(_) => None,
            }
        };
        let answer = match body {
            None => Answer {
                reply: Reply::json(413, r#"{"message":"Request Entity Too Large"}"#),
                function: None,
                api: None,
                kind: Some(self.no_route_kind(self.owner(&raw_path)).unwrap_or(ApiKind::Rest)),
                trace: None,
            },
            Some(body) => {
                let source_ip = peer.ip().to_string();
                let context = RequestParts {
                    method: &method,
                    raw_path: &raw_path,
                    query: query.as_deref(),
                    headers: &headers,
                    body: &body,
                    source_ip,
                    request_id: &request_id,
                    apigw_id: &apigw_id,
                    epoch_ms,
                };
                self.respond(&context).await
            }
        };
        let Answer {
            mut reply,
            function,
            api: api_name,
            kind,
            trace,
        } = answer;
        // The id the client sees: HTTP APIs answer with API Gateway's own only.
        let logged_id = match kind {
            Some(ApiKind::Http) => &apigw_id,
            _ => &request_id,
        };
        if let Some(log) = &self.config.access_log {
            log(&AccessEntry {
                method: method.clone(),
                path: match &query {
                    Some(q) => format!("{raw_path}?{q}"),
                    None => raw_path.clone(),
                },
                status: reply.status,
                latency: started.elapsed(),
                function,
                request_id: logged_id.clone(),
                api: api_name,
            });
        }
        // The headers the gateway adds, as recorded (V1_APIHeadersRest, V1_APIHeadersHttpV1,
        // V2_HttpAPIHeaders): REST sends x-amzn-RequestId, x-amz-apigw-id and, for an answer of
        // the integration, X-Amzn-Trace-Id; HTTP APIs send Apigw-Requestid alone.
        match kind {
            Some(ApiKind::Http) => reply.headers.push(("Apigw-Requestid".to_string(), apigw_id)),
            Some(ApiKind::Rest) => {
                reply.headers.push(("x-amzn-RequestId".to_string(), request_id));
                reply.headers.push(("x-amz-apigw-id".to_string(), apigw_id));
                if let Some(trace) = trace {
                    reply.headers.push(("X-Amzn-Trace-Id".to_string(), trace));
                }
            }
            // Static files are Stratus's own.
            None => reply.headers.push(("x-amzn-RequestId".to_string(), request_id)),
        }
        to_response(reply, &method)
    }

    /// The kind of API whose error a request that reached no route gets: the API the path
    /// belongs to (`owner`), else REST's when there is one.
    fn no_route_kind(&self, owner: Option<&ApiRuntime>) -> Option<ApiKind> {
        owner.map(|a| a.config.kind).or_else(|| {
            if self.apis.iter().any(|a| a.config.kind == ApiKind::Rest) {
                Some(ApiKind::Rest)
            } else {
                self.apis.first().map(|a| a.config.kind)
            }
        })
    }

    async fn respond(&self, request: &RequestParts<'_>) -> Answer {
        let routed = match self.route(request.method, request.raw_path, request.headers) {
            Outcome::Routed(routed) => routed,
            Outcome::Reply(reply, api) => {
                let static_file = |reply: Reply| Answer {
                    reply,
                    function: None,
                    api: None,
                    kind: None,
                    trace: None,
                };
                if reply.status == 403
                    && api.is_none()
                    && matches!(request.method, "GET" | "HEAD")
                    && let Some(dir) = &self.config.static_dir
                {
                    return static_file(self.static_file(dir, request.raw_path).await);
                }
                if reply.status == 404
                    && matches!(request.method, "GET" | "HEAD")
                    && let Some(dir) = &self.config.static_dir
                {
                    return static_file(self.static_file(dir, request.raw_path).await);
                }
                // The gateway's own answer, for its API (none: REST's Missing Authentication Token).
                return Answer {
                    reply,
                    function: None,
                    api: api.map(|a| a.config.logical_id.clone()),
                    kind: Some(api.map_or(ApiKind::Rest, |a| a.config.kind)),
                    trace: None,
                };
            }
        };
        let api = &routed.api.config;
        let function = routed.route.function.clone();
        let (mut reply, trace) = self.integrate(request, &routed).await;
        if let Some(cors) = &api.http_cors {
            cors.apply(header(request.headers, "origin"), &mut reply);
        }
        Answer {
            reply,
            function: Some(function),
            api: Some(api.logical_id.clone()),
            kind: Some(api.kind),
            trace,
        }
    }

    async fn static_file(&self, dir: &std::path::Path, path: &str) -> Reply {
        let Some(file) = statics::resolve(dir, path) else {
            return Reply {
                status: 404,
                headers: vec![("Content-Type".to_string(), "text/plain; charset=utf-8".to_string())],
                body: Bytes::from_static(b"Not Found\n"),
            };
        };
        match tokio::fs::read(&file).await {
            Ok(content) => Reply {
                status: 200,
                headers: vec![
                    ("Content-Type".to_string(), statics::content_type(&file).to_string()),
                    ("Cache-Control".to_string(), "no-cache".to_string()),
                ],
                body: Bytes::from(content),
            },
            Err(_) => Reply::json(500, r#"{"message":"Internal Server Error"}"#),
        }
    }

    /// Authorizes, builds the event, invokes the function and maps its result. With the reply
    /// comes, for a REST API whose function was invoked, the response's `X-Amzn-Trace-Id`.
    async fn integrate(&self, request: &RequestParts<'_>, routed: &Routed<'_>) -> (Reply, Option<String>) {
        let api = &routed.api.config;
        let route = routed.route;
        let flavor = match (api.kind, route.payload_version.as_str()) {
            (ApiKind::Rest, _) => Flavor::Rest,
            (ApiKind::Http, "1.0") => Flavor::HttpV1,
            (ApiKind::Http, _) => Flavor::HttpV2,
        };
        let resource = route.path.clone();
        let route_key = if route.path == "$default" {
            "$default".to_string()
        } else {
            format!("{} {}", route.method, route.path)
        };
        let content_type = header(request.headers, "content-type");
        let base64_body = match api.kind {
            ApiKind::Rest => content_type.is_some_and(|c| decode::media_type_matches(c, &api.binary_media_types)),
            ApiKind::Http => !event::http_api_body_is_text(content_type, request.body),
        };
        let mut headers: Vec<(String, String)> = request.headers.to_vec();
        if header(&headers, "x-forwarded-for").is_none() {
            headers.push(("x-forwarded-for".to_string(), request.source_ip.clone()));
        }
        if header(&headers, "x-forwarded-port").is_none() {
            headers.push(("x-forwarded-port".to_string(), self.config.port.to_string()));
        }
        if header(&headers, "x-forwarded-proto").is_none() {
            headers.push(("x-forwarded-proto".to_string(), "http".to_string()));
        }
        if header(&headers, "x-amzn-trace-id").is_none() {
            let trace = stratus_lambda::ids::trace_id();
            let root = trace.split(';').next().unwrap_or("").to_string();
            headers.push(("x-amzn-trace-id".to_string(), root));
        }
        let stage = api.stage.clone();
        let method_arn = format!(
            "arn:aws:execute-api:{}:{}:{}/{}/{}/{}",
            self.config.region,
            self.config.account,
            api.id,
            stage,
            request.method,
            routed.path.trim_start_matches('/')
        );
        let mut incoming = Incoming {
            method: request.method,
            path: &routed.path,
            full_path: request.raw_path,
            query: request.query,
            headers: &headers,
            body: request.body,
            source_ip: request.source_ip.clone(),
            request_id: match api.kind {
                ApiKind::Rest => request.request_id,
                ApiKind::Http => request.apigw_id,
            },
            extended_request_id: request.apigw_id,
            epoch_ms: request.epoch_ms,
            api_id: &api.id,
            account: &self.config.account,
            stage: &stage,
            resource: &resource,
            route_key: route_key.clone(),
            path_parameters: &routed.parameters,
            base64_body,
            authorizer: None,
            stage_variables: &api.stage_variables,
        };
        // Lambda authorizers.
        let authorizer_name = match route.authorizer.as_deref() {
            Some("NONE") => None,
            Some(name) => Some(name.to_string()),
            None => api.default_authorizer.clone(),
        };
        if self.config.authorizers_enabled
            && let Some(name) = authorizer_name
            && let Some(authorizer) = api.authorizers.get(&name)
        {
            match self.authorize(authorizer, &incoming, &method_arn, flavor).await {
                Decision::Allow(context) => incoming.authorizer = Some(context),
                Decision::Unauthorized => return (Reply::json(401, r#"{"message":"Unauthorized"}"#), None),
                Decision::Forbidden { explicit } => {
                    let reply = match api.kind {
                        ApiKind::Rest if explicit => Reply::json(
                            403,
                            r#"{"Message":"User is not authorized to access this resource with an explicit deny"}"#,
                        ),
                        ApiKind::Rest => {
                            Reply::json(403, r#"{"Message":"User is not authorized to access this resource"}"#)
                        }
                        ApiKind::Http => Reply::json(403, r#"{"message":"Forbidden"}"#),
                    };
                    return (reply, None);
                }
                Decision::Error => {
                    let reply = match api.kind {
                        ApiKind::Rest => {
                            let mut reply = Reply::json(500, r#"{"message": null}"#);
                            reply.headers.push((
                                "x-amzn-ErrorType".to_string(),
                                "AuthorizerConfigurationException".to_string(),
                            ));
                            reply
                        }
                        ApiKind::Http => response::http_internal_error(),
                    };
                    return (reply, None);
                }
            }
        }
        // REST answers from the integration carry the request's trace, as recorded.
        let trace = match api.kind {
            ApiKind::Rest => Some(response_trace(header(&headers, "x-amzn-trace-id").unwrap_or(""))),
            ApiKind::Http => None,
        };
        let event = match flavor {
            Flavor::HttpV2 => event::v2_json(&incoming),
            Flavor::Rest => event::v1_json(&incoming, false),
            Flavor::HttpV1 => event::v1_json(&incoming, true),
        };
        let maximum = match api.kind {
            ApiKind::Rest => self.config.rest_timeout,
            ApiKind::Http => self.config.http_timeout,
        };
        let timeout = route
            .timeout
            .map(|t| t.clamp(Duration::from_millis(50), maximum))
            .unwrap_or(maximum);
        let payload = match self.invoke(&route.function, event, timeout).await {
            Invocation::Completed(payload) => payload,
            Invocation::Failed => {
                let reply = match flavor {
                    Flavor::Rest => response::rest_internal_error(),
                    _ => response::http_internal_error(),
                };
                return (reply, trace);
            }
            Invocation::TimedOut => {
                let reply = match api.kind {
                    ApiKind::Rest => {
                        let mut reply = Reply::json(504, r#"{"message": "Endpoint request timed out"}"#);
                        reply.headers.push((
                            "x-amzn-ErrorType".to_string(),
                            "InternalServerErrorException".to_string(),
                        ));
                        reply
                    }
                    ApiKind::Http => Reply::json(503, r#"{"message":"Service Unavailable"}"#),
                };
                return (reply, trace);
            }
        };
        let reply = match flavor {
            Flavor::HttpV2 => response::from_v2(&payload),
            _ => response::from_v1(
                &payload,
                flavor,
                &api.binary_media_types,
                header(request.headers, "accept"),
            ),
        };
        (reply, trace)
    }

    /// Runs a function with `event`; the invocation goes on in its own task when the gateway
    /// stops waiting (as on AWS, the function runs to its own timeout).
    async fn invoke(&self, function: &str, event: Vec<u8>, timeout: Duration) -> Invocation {
        let payload = Bytes::from(event);
        let lambda = Arc::clone(&self.lambda);
        let function = function.to_string();
        let invocation = Detachable::new(async move {
            let call = Call {
                payload,
                payload_is_json: true,
                ..Call::default()
            };
            lambda
                .invoke(&function, None, InvocationType::RequestResponse, call)
                .await
        });
        match tokio::time::timeout(timeout, invocation).await {
            Err(_) => Invocation::TimedOut,
            Ok(Ok(Ok(Invoked::Completed(completed)))) if completed.function_error.is_none() => {
                Invocation::Completed(completed.payload)
            }
            Ok(_) => Invocation::Failed,
        }
    }

    async fn authorize(
        &self,
        authorizer: &Authorizer,
        request: &Incoming<'_>,
        method_arn: &str,
        flavor: Flavor,
    ) -> Decision {
        if let Kind::NotChecked(_) = authorizer.kind {
            return Decision::Allow(Value::Null);
        }
        // Identity sources: each must be present and non-empty, or 401 without calling.
        let mut identity = Vec::new();
        let sources: Vec<Source> = match &authorizer.kind {
            Kind::RestToken { header, .. } => vec![Source::Header(header.to_ascii_lowercase())],
            _ => authorizer.identity_sources.clone(),
        };
        for source in &sources {
            let value = match source {
                Source::Header(name) => header(request.headers, name).map(str::to_string),
                Source::Query(name) => request
                    .query
                    .map(decode::query_pairs)
                    .unwrap_or_default()
                    .into_iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v),
                Source::Other(text) => Some(text.clone()),
            };
            match value {
                Some(value) if !value.is_empty() => identity.push(value),
                _ => return Decision::Unauthorized,
            }
        }
        if let Kind::RestToken {
            validation: Some(pattern),
            ..
        } = &authorizer.kind
            && let Ok(regex) = regex_lite::Regex::new(&format!("^(?:{pattern})$"))
            && !identity.first().is_some_and(|token| regex.is_match(token))
        {
            return Decision::Unauthorized;
        }
        let cache_key = identity.join("\u{1f}");
        let cacheable = !identity.is_empty();
        let answer = match cacheable
            .then(|| self.cache.get(&authorizer.name, &cache_key))
            .flatten()
        {
            Some(answer) => answer,
            None => {
                let event = authorizer_event(authorizer, request, method_arn, &identity, flavor);
                let payload = match serde_json::to_vec(&event) {
                    Ok(payload) => Bytes::from(payload),
                    Err(_) => return Decision::Error,
                };
                let call = Call {
                    payload,
                    ..Call::default()
                };
                let result = self
                    .lambda
                    .invoke(&authorizer.function, None, InvocationType::RequestResponse, call)
                    .await;
                let completed = match result {
                    Ok(Invoked::Completed(completed)) => completed,
                    _ => return Decision::Error,
                };
                if completed.function_error.is_some() {
                    // `throw new Error("Unauthorized")` / `raise Exception("Unauthorized")` is
                    // API Gateway's documented way to answer 401.
                    let message = serde_json::from_slice::<Value>(&completed.payload)
                        .ok()
                        .and_then(|v| v.get("errorMessage").and_then(Value::as_str).map(str::to_string));
                    return if message.as_deref() == Some("Unauthorized") {
                        Decision::Unauthorized
                    } else {
                        Decision::Error
                    };
                }
                let Ok(answer) = serde_json::from_slice::<Value>(&completed.payload) else {
                    return Decision::Error;
                };
                if cacheable {
                    self.cache
                        .put(&authorizer.name, &cache_key, answer.clone(), authorizer.ttl);
                }
                answer
            }
        };
        authorizer::decide(&authorizer.kind, &answer, method_arn)
    }
}

/// The event an authorizer function receives.
fn authorizer_event(
    authorizer: &Authorizer,
    request: &Incoming<'_>,
    method_arn: &str,
    identity: &[String],
    flavor: Flavor,
) -> Value {
    match &authorizer.kind {
        Kind::RestToken { .. } => json!({
            "type": "TOKEN",
            "authorizationToken": identity.first().cloned().unwrap_or_default(),
            "methodArn": method_arn,
        }),
        Kind::HttpLambda { payload_version, .. } if payload_version == "2.0" => {
            let mut event = event::v2(request);
            if let Some(object) = event.as_object_mut() {
                object.insert("type".to_string(), json!("REQUEST"));
                object.insert("routeArn".to_string(), json!(method_arn));
                object.insert("identitySource".to_string(), json!(identity));
                object.remove("body");
                object.remove("isBase64Encoded");
            }
            event
        }
        _ => {
            let mut event = event::v1(request, flavor != Flavor::Rest);
            if let Some(object) = event.as_object_mut() {
                object.insert("type".to_string(), json!("REQUEST"));
                object.insert("methodArn".to_string(), json!(method_arn));
                if flavor != Flavor::Rest {
                    object.insert("identitySource".to_string(), json!(identity.join(",")));
                }
                object.remove("body");
                object.remove("isBase64Encoded");
            }
            event
        }
    }
}

enum Invocation {
    Completed(Bytes),
    Failed,
    TimedOut,
}

/// A future run in the caller's task, yet as safely as in a task of its own: a panic inside
/// becomes `Err(Panicked)`, and if it is dropped before it is done (the integration timeout, or
/// the client going away, which drops the request's future) it goes on in a spawned task to its
/// end. Running an invocation this way saves a task and a wake-up per request over `spawn`.
struct Detachable<F: Future + Send + 'static>
where
    F::Output: Send + 'static,
{
    future: Option<std::pin::Pin<Box<F>>>,
}

/// The future of a [`Detachable`] panicked.
#[derive(Debug)]
struct Panicked;

impl<F: Future + Send + 'static> Detachable<F>
where
    F::Output: Send + 'static,
{
    fn new(future: F) -> Detachable<F> {
        Detachable {
            future: Some(Box::pin(future)),
        }
    }
}

impl<F: Future + Send + 'static> Future for Detachable<F>
where
    F::Output: Send + 'static,
{
    type Output = Result<F::Output, Panicked>;

    fn poll(mut self: std::pin::Pin<&mut Self>, context: &mut std::task::Context<'_>) -> std::task::Poll<Self::Output> {
        use std::task::Poll;
        let Some(future) = self.future.as_mut() else {
            return Poll::Ready(Err(Panicked));
        };
        let polled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| future.as_mut().poll(context)));
        match polled {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => {
                self.future = None;
                Poll::Ready(Ok(output))
            }
            Err(_) => {
                self.future = None;
                Poll::Ready(Err(Panicked))
            }
        }
    }
}

impl<F: Future + Send + 'static> Drop for Detachable<F>
where
    F::Output: Send + 'static,
{
    fn drop(&mut self) {
        if let Some(future) = self.future.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            drop(runtime.spawn(future));
        }
    }
}

struct RequestParts<'a> {
    method: &'a str,
    raw_path: &'a str,
    query: Option<&'a str>,
    headers: &'a [(String, String)],
    body: &'a Bytes,
    source_ip: String,
    /// A UUID: REST's `requestContext.requestId` and `x-amzn-RequestId`.
    request_id: &'a str,
    /// API Gateway's own id (see [`apigw_request_id`]).
    apigw_id: &'a str,
    epoch_ms: u64,
}

/// What answering a request gave: the reply, and what the access log and the gateway's own
/// response headers need.
struct Answer {
    reply: Reply,
    function: Option<String>,
    api: Option<String>,
    /// The kind of API that answered (`None`: a static file).
    kind: Option<ApiKind>,
    /// REST: the `X-Amzn-Trace-Id` of an answer from the integration.
    trace: Option<String>,
}

/// API Gateway's own request id (REST's `extendedRequestId` and `x-amz-apigw-id`, HTTP APIs'
/// `requestId` and `Apigw-Requestid`): 11 bytes in URL-safe base64, 16 characters ending in `=`,
/// like the recorded `JCIoWGiIvHcEsxg=`.
fn apigw_request_id() -> String {
    let mut bytes = [0u8; 11];
    bytes[..8].copy_from_slice(&stratus_lambda::ids::random_u64().to_be_bytes());
    bytes[8..].copy_from_slice(&stratus_lambda::ids::random_u64().to_be_bytes()[..3]);
    base64::engine::general_purpose::URL_SAFE.encode(bytes)
}

/// A REST response's `X-Amzn-Trace-Id`: the trace the event's `X-Amzn-Trace-Id` names (`Root=…`),
/// with a parent segment of the gateway's, as recorded
/// (`Root=1-67fd87ce-39b57ec370e7a7551e8f43db;Parent=752c273a1dbf0dc3;Sampled=0;…`).
fn response_trace(event_trace: &str) -> String {
    let root = event_trace
        .split(';')
        .map(str::trim)
        .find(|part| part.starts_with("Root="))
        .map(str::to_string);
    let root = root.unwrap_or_else(|| {
        let fresh = stratus_lambda::ids::trace_id();
        fresh.split(';').next().unwrap_or("").to_string()
    });
    format!("{root};Parent={:016x};Sampled=0", stratus_lambda::ids::random_u64())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// The paths to try for an API: without the stage prefix first (when the path starts with the
/// stage name, as the deployed URL does), then as sent (as `sam local start-api` serves it).
fn candidate_paths(api: &ApiConfig, raw_path: &str) -> Vec<String> {
    let mut paths = Vec::with_capacity(2);
    if api.stage != "$default" && !api.stage.is_empty() {
        let prefix = format!("/{}", api.stage);
        if raw_path == prefix {
            paths.push("/".to_string());
        } else if let Some(rest) = raw_path.strip_prefix(&format!("{prefix}/")) {
            paths.push(format!("/{rest}"));
        }
    }
    paths.push(raw_path.to_string());
    paths
}

fn missing_authentication_token() -> Reply {
    let mut reply = Reply::json(403, r#"{"message":"Missing Authentication Token"}"#);
    reply.headers.push((
        "x-amzn-ErrorType".to_string(),
        "MissingAuthenticationTokenException".to_string(),
    ));
    reply
}

fn to_response(reply: Reply, method: &str) -> Response<Full<Bytes>> {
    let body = if method == "HEAD" { Bytes::new() } else { reply.body };
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    for (name, value) in reply.headers {
        if name.eq_ignore_ascii_case("content-length") || name.eq_ignore_ascii_case("transfer-encoding") {
            continue;
        }
        if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(&value)) {
            headers.append(name, value);
        }
    }
    response
}

/// Serves the gateway on `listener` until `shutdown` turns true.
pub async fn serve(listener: TcpListener, gateway: Arc<Gateway>, mut shutdown: watch::Receiver<bool>) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, peer)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let gateway = Arc::clone(&gateway);
                let mut stop = shutdown.clone();
                // Request bodies make hyper wake its own task mid-poll (see stratus_lambda::inline).
                connections.spawn(stratus_lambda::inline::inline(async move {
                    let service = service_fn(move |request| {
                        let gateway = Arc::clone(&gateway);
                        async move { Ok::<_, Infallible>(gateway.handle(request, peer).await) }
                    });
                    let connection = hyper::server::conn::http1::Builder::new()
                        .keep_alive(true)
                        .title_case_headers(true)
                        .serve_connection(TokioIo::new(stream), service);
                    let mut connection = std::pin::pin!(connection);
                    tokio::select! {
                        _ = connection.as_mut() => {}
                        _ = until_stopped(&mut stop) => {
                            connection.as_mut().graceful_shutdown();
                            let _ = connection.await;
                        }
                    }
                }));
            }
            _ = until_stopped(&mut shutdown) => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
}

async fn until_stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopping| *stopping).await.map(|_| ());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apigw_ids_have_the_recorded_form() {
        // Recorded: x-amz-apigw-id "JCIoWGiIvHcEsxg=", Apigw-Requestid "JCIn6iOMPHcEP2Q=".
        let first = apigw_request_id();
        assert_eq!(first.len(), 16, "{first}");
        assert!(first.ends_with('='), "{first}");
        assert!(
            first[..15]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{first}"
        );
        assert_ne!(first, apigw_request_id());
    }

    #[test]
    fn the_response_trace_continues_the_events_trace() {
        let trace = response_trace("Root=1-67fd87ce-39b57ec370e7a7551e8f43db");
        let parts: Vec<&str> = trace.split(';').collect();
        assert_eq!(parts.len(), 3, "{trace}");
        assert_eq!(parts[0], "Root=1-67fd87ce-39b57ec370e7a7551e8f43db");
        assert!(
            parts[1].starts_with("Parent=") && parts[1].len() == "Parent=".len() + 16,
            "{trace}"
        );
        assert_eq!(parts[2], "Sampled=0");
        let client = response_trace("Self=1-a-b; Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=x");
        assert!(
            client.starts_with("Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent="),
            "{client}"
        );
        assert!(response_trace("garbage").starts_with("Root=1-"));
    }

    #[tokio::test]
    async fn a_detachable_future_gives_its_output_or_its_panic() {
        assert_eq!(Detachable::new(async { 7 }).await.ok(), Some(7));
        let panicking = Detachable::new(async {
            if std::hint::black_box(true) {
                panic!("in the invocation");
            }
            1
        });
        assert!(panicking.await.is_err());
    }

    #[tokio::test]
    async fn a_dropped_detachable_future_runs_to_its_end() {
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        let (done, finished) = tokio::sync::oneshot::channel();
        let slow = Detachable::new(async move {
            let _ = released.await;
            let _ = done.send("finished");
        });
        // The caller stops waiting, as on the integration timeout; the future goes on.
        assert!(tokio::time::timeout(Duration::from_millis(1), slow).await.is_err());
        let _ = release.send(());
        let outcome = tokio::time::timeout(Duration::from_secs(5), finished).await;
        assert_eq!(outcome.ok().and_then(Result::ok), Some("finished"));
    }
}
