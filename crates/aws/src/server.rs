//! The AWS endpoint's HTTP server: one port, requests routed by `X-Amz-Target`, AWS's check
//! order, AWS's response headers, and a graceful stop.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use stratus_dynamodb::Engine;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::dynamodb::access::{self, Need};
use crate::dynamodb::{self, ApiError, Operation, TARGET_PREFIX};
use crate::iam::{Caller, Iam, Mode};
use crate::{lambda, sts};
use stratus_iam::sigv4::{AuthError, RequestParts};
use stratus_lambda::Lambda;

/// Largest request body accepted: 16 MB, as DynamoDB.
pub const REQUEST_BYTES_MAX: usize = 16 * 1024 * 1024;
/// How long in-flight requests may take to finish after a stop was asked for.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// The services behind the endpoint.
pub struct AwsEndpoint {
    pub dynamodb: Arc<Engine>,
    pub lambda: Arc<Lambda>,
    /// Stream triggers and schedules, once started.
    pub event_sources: std::sync::OnceLock<Arc<crate::event_sources::EventSources>>,
    /// Authentication and authorization of every request.
    pub iam: Arc<Iam>,
    request_ids: RequestIds,
}

impl AwsEndpoint {
    pub fn new(dynamodb: Arc<Engine>, lambda: Arc<Lambda>, iam: Arc<Iam>) -> AwsEndpoint {
        AwsEndpoint {
            dynamodb,
            lambda,
            event_sources: std::sync::OnceLock::new(),
            iam,
            request_ids: RequestIds::new(),
        }
    }
}

/// Request ids shaped like DynamoDB's: 52 characters of `[A-Z0-9]`.
struct RequestIds {
    seed: u64,
    counter: AtomicU64,
}

impl RequestIds {
    fn new() -> RequestIds {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        RequestIds {
            seed: nanos ^ (u64::from(std::process::id()) << 32),
            counter: AtomicU64::new(0),
        }
    }

    fn next(&self) -> String {
        const ALPHABET: &[u8; 36] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        let mut state = self.seed
            ^ self
                .counter
                .fetch_add(1, Ordering::Relaxed)
                .wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let mut id = String::with_capacity(52);
        for _ in 0..52 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            id.push(char::from(ALPHABET[(state % 36) as usize]));
        }
        id
    }
}

/// Serves connections from `listener` until `shutdown` turns true, then lets in-flight requests
/// finish (up to [`SHUTDOWN_GRACE`]).
pub async fn serve(listener: TcpListener, endpoint: Arc<AwsEndpoint>, mut shutdown: watch::Receiver<bool>) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, peer)) = accepted else { continue };
                let source_ip: Arc<str> = Arc::from(peer.ip().to_string());
                let _ = stream.set_nodelay(true);
                let endpoint = Arc::clone(&endpoint);
                let mut stop = shutdown.clone();
                // Request bodies make hyper wake its own task mid-poll (see stratus_lambda::inline).
                connections.spawn(stratus_lambda::inline::inline(async move {
                    let service = service_fn(move |request| {
                        let endpoint = Arc::clone(&endpoint);
                        let source_ip = Arc::clone(&source_ip);
                        async move { Ok::<_, Infallible>(route(&endpoint, request, &source_ip).await) }
                    });
                    let connection = hyper::server::conn::http1::Builder::new()
                        .keep_alive(true)
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

/// Resolves once a stop was asked for (or the sender is gone).
async fn until_stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopping| *stopping).await.map(|_| ());
}

/// The local address a listener is bound to, for printing.
pub fn local_address(listener: &TcpListener) -> Option<SocketAddr> {
    listener.local_addr().ok()
}

fn response(status: StatusCode, content_type: &'static str, body: Vec<u8>, request_id: &str) -> Response<Full<Bytes>> {
    let crc = crc32fast::hash(&body);
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-RequestId", value);
    }
    headers.insert("x-amz-crc32", HeaderValue::from(crc));
    response
}

fn error_response(error: &ApiError, request_id: &str) -> Response<Full<Bytes>> {
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST);
    response(status, "application/x-amz-json-1.0", error.body(), request_id)
}

async fn route(endpoint: &AwsEndpoint, request: Request<Incoming>, source_ip: &str) -> Response<Full<Bytes>> {
    let request_id = endpoint.request_ids.next();
    if request.uri().path() == "/_stratus/health" && request.method() == Method::GET {
        return response(
            StatusCode::OK,
            "application/json",
            br#"{"status":"ok"}"#.to_vec(),
            &request_id,
        );
    }
    if request.uri().path().starts_with("/_stratus/schedules") {
        return schedules(endpoint, &request, &request_id).await;
    }
    if request.uri().path() == "/_stratus/logs" && request.method() == Method::GET {
        return invocation_log(endpoint, &request, &request_id);
    }
    if lambda::is_lambda_path(request.uri().path()) {
        // Lambda's request ids are UUIDs.
        let request_id = stratus_lambda::ids::request_id();
        return handle_lambda(endpoint, request, &request_id, source_ip).await;
    }
    if request.uri().path() == "/_stratus/iam/usage" && request.method() == Method::GET {
        let body = serde_json::json!({"mode": endpoint.iam.mode.name(), "usage": endpoint.iam.usage.to_json()});
        return response(
            StatusCode::OK,
            "application/json",
            body.to_string().into_bytes(),
            &request_id,
        );
    }
    handle_aws(endpoint, request, &request_id, source_ip).await
}

/// `GET /_stratus/schedules` lists the schedules; `POST /_stratus/schedules/{function}/{event}`
/// fires one now (for testing a scheduled function without waiting).
async fn schedules(endpoint: &AwsEndpoint, request: &Request<Incoming>, request_id: &str) -> Response<Full<Bytes>> {
    let Some(sources) = endpoint.event_sources.get() else {
        return response(
            StatusCode::NOT_FOUND,
            "application/json",
            br#"{"message":"no schedules"}"#.to_vec(),
            request_id,
        );
    };
    let rest = request
        .uri()
        .path()
        .trim_start_matches("/_stratus/schedules")
        .trim_matches('/');
    if request.method() == Method::GET && rest.is_empty() {
        let now = stratus_lambda::logs::now_ms() as i64 / 1000;
        let list: Vec<serde_json::Value> = sources
            .schedules()
            .iter()
            .map(|s| {
                serde_json::json!({
                    "function": s.function,
                    "event": s.name,
                    "enabled": s.enabled,
                    "rule": s.rule_name,
                    "expression": s.expression,
                    "timezone": s.timezone.as_ref().map(|(name, _)| name),
                    "next": s.next_after(now).map(crate::schedule::iso_seconds),
                })
            })
            .collect();
        return response(
            StatusCode::OK,
            "application/json",
            serde_json::json!({"schedules": list}).to_string().into_bytes(),
            request_id,
        );
    }
    let Some((function, event)) = rest.split_once('/') else {
        return response(
            StatusCode::NOT_FOUND,
            "application/json",
            br#"{"message":"use /_stratus/schedules/{function}/{event}"}"#.to_vec(),
            request_id,
        );
    };
    if request.method() != Method::POST {
        return response(
            StatusCode::METHOD_NOT_ALLOWED,
            "application/json",
            br#"{"message":"POST fires a schedule"}"#.to_vec(),
            request_id,
        );
    }
    match sources.fire(function, event).await {
        Some(Ok(invocation)) => response(
            StatusCode::ACCEPTED,
            "application/json",
            serde_json::json!({"fired": true, "requestId": invocation})
                .to_string()
                .into_bytes(),
            request_id,
        ),
        Some(Err(error)) => response(
            StatusCode::BAD_GATEWAY,
            "application/json",
            serde_json::json!({"message": error}).to_string().into_bytes(),
            request_id,
        ),
        None => response(
            StatusCode::NOT_FOUND,
            "application/json",
            br#"{"message":"no such schedule"}"#.to_vec(),
            request_id,
        ),
    }
}

/// `GET /_stratus/logs?request_id=ID`: the whole log of one invocation (for `stratus invoke`).
fn invocation_log(endpoint: &AwsEndpoint, request: &Request<Incoming>, request_id: &str) -> Response<Full<Bytes>> {
    let wanted = request
        .uri()
        .query()
        .unwrap_or("")
        .split('&')
        .find_map(|pair| pair.strip_prefix("request_id="))
        .unwrap_or("");
    let log = endpoint.lambda.invocation_log(wanted);
    response(
        StatusCode::OK,
        "text/plain; charset=utf-8",
        log.into_bytes(),
        request_id,
    )
}

/// A request's method, URI and headers (moved out of the request, not copied), kept for
/// signature verification once the body has arrived.
struct Head {
    method: Method,
    uri: hyper::Uri,
    headers: hyper::HeaderMap,
    query: Option<String>,
}

impl Head {
    fn of(request: Request<Incoming>) -> (Head, Incoming) {
        let (parts, body) = request.into_parts();
        let query = parts.uri.query().map(str::to_string);
        (
            Head {
                method: parts.method,
                uri: parts.uri,
                headers: parts.headers,
                query,
            },
            body,
        )
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// (lower-case name, value) pairs in arrival order, as the verifier reads them (borrowed
    /// when UTF-8, as nearly every value is; otherwise decoded lossily).
    fn header_pairs(&self) -> Vec<(&str, std::borrow::Cow<'_, str>)> {
        self.headers
            .iter()
            .map(|(name, value)| (name.as_str(), String::from_utf8_lossy(value.as_bytes())))
            .collect()
    }

    fn query_auth(&self) -> bool {
        self.query.as_deref().is_some_and(|q| q.contains("X-Amz-Algorithm="))
    }
}

/// Authenticates a request for `service`: with IAM off, only the shape of the Authorization
/// header is checked (as DynamoDB Local does).
fn authenticate(
    iam: &Iam,
    head: &Head,
    body: &[u8],
    service: &str,
    source_ip: &str,
) -> Result<Option<Caller>, AuthError> {
    if iam.mode == Mode::Off {
        return match check_authorization_shape(head.header("authorization"), head.query_auth()) {
            Ok(()) => Ok(None),
            Err(error) => Err(auth_error_of(&error)),
        };
    }
    let decoded = head.header_pairs();
    let headers: Vec<(&str, &str)> = decoded.iter().map(|(name, value)| (*name, value.as_ref())).collect();
    let parts = RequestParts {
        method: head.method.as_str(),
        path: head.uri.path(),
        query: head.query.as_deref(),
        headers: &headers,
        body,
    };
    iam.authenticate(&parts, service, source_ip)
}

/// The shape check's DynamoDB error as an authentication error.
fn auth_error_of(error: &ApiError) -> AuthError {
    let message = error.message.clone().unwrap_or_default();
    match error.type_name.rsplit('#').next().unwrap_or("") {
        "MissingAuthenticationTokenException" => AuthError::MissingAuthenticationToken,
        "IncompleteSignatureException" => AuthError::IncompleteSignature(message),
        _ => AuthError::InvalidSignature(message),
    }
}

/// An authentication failure as DynamoDB puts it (HTTP 400, `com.amazon.coral.service#…`).
fn dynamodb_auth_error(error: &AuthError) -> ApiError {
    let type_name = match error {
        AuthError::MissingAuthenticationToken => "com.amazon.coral.service#MissingAuthenticationTokenException",
        AuthError::IncompleteSignature(_) => "com.amazon.coral.service#IncompleteSignatureException",
        AuthError::InvalidSignature(_) => "com.amazon.coral.service#InvalidSignatureException",
        AuthError::UnrecognizedClient(_) => "com.amazon.coral.service#UnrecognizedClientException",
    };
    ApiError {
        type_name,
        message: Some(error.message()),
        capital_message: false,
        status: 400,
        extra: None,
    }
}

fn access_denied(message: String) -> ApiError {
    ApiError {
        type_name: "com.amazon.coral.service#AccessDeniedException",
        message: Some(message),
        capital_message: true,
        status: 400,
        extra: None,
    }
}

/// Whether a caller's permissions are evaluated (function credentials are; the administrator
/// and IAM-off callers are not), so requests that need no evaluation skip building it.
fn evaluated(caller: Option<&Caller>) -> bool {
    caller.is_some_and(|c| matches!(c.principal.as_ref(), stratus_iam::Principal::Role { .. }))
}

/// The Lambda API (REST-JSON): routed by path, any content type, SigV4-authenticated.
async fn handle_lambda(
    endpoint: &AwsEndpoint,
    request: Request<Incoming>,
    request_id: &str,
    source_ip: &str,
) -> Response<Full<Bytes>> {
    let operation = lambda::parse(request.method(), request.uri().path());
    let (head, incoming) = Head::of(request);
    let header = |name: &str| head.header(name).map(str::to_string);
    let headers = lambda::InvokeHeaders {
        invocation_type: header("x-amz-invocation-type"),
        log_type: header("x-amz-log-type"),
        client_context: header("x-amz-client-context"),
    };
    let lambda_auth_error = |error: &AuthError| {
        let status = 403;
        lambda_response(
            lambda::error_answer(error.code(), status, &error.message(), None),
            request_id,
        )
    };
    // Without a signature at all there is nothing to wait for.
    if head.header("authorization").is_none() && !head.query_auth() {
        return lambda_auth_error(&AuthError::MissingAuthenticationToken);
    }
    let declared_length = header("content-length").and_then(|v| v.parse::<u64>().ok());
    let limit = stratus_lambda::REQUEST_BYTES_MAX;
    let too_large = || {
        lambda_response(
            lambda::error_answer(
                "RequestTooLargeException",
                413,
                &format!("Request must be smaller than {limit} bytes for the InvokeFunction operation"),
                None,
            ),
            request_id,
        )
    };
    if declared_length.is_some_and(|length| length > limit as u64) {
        return too_large();
    }
    let body = match Limited::new(incoming, limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) => {
            if error.downcast_ref::<http_body_util::LengthLimitError>().is_some() {
                return too_large();
            }
            return lambda_response(
                lambda::error_answer(
                    "InvalidRequestContentException",
                    400,
                    "The request body could not be read",
                    None,
                ),
                request_id,
            );
        }
    };
    let caller = match authenticate(&endpoint.iam, &head, &body, "lambda", source_ip) {
        Ok(caller) => caller,
        Err(error) => return lambda_auth_error(&error),
    };
    // Every caller is checked here, the administrator too: another account's function needs a
    // resource-based policy whoever asks (see Iam::authorize).
    if caller.is_some() {
        let needs = lambda_needs(&endpoint.lambda, &operation, head.query.as_deref());
        if let Err(denied) = endpoint.iam.authorize(caller.as_ref(), &needs) {
            let mut answer = lambda::Answer::json(403, &serde_json::json!({"Message": denied.message}));
            answer
                .headers
                .push(("x-amzn-ErrorType", "AccessDeniedException".to_string()));
            return lambda_response(answer, request_id);
        }
    }
    let answer = lambda::handle(&endpoint.lambda, operation, head.query.as_deref(), headers, body).await;
    lambda_response(answer, request_id)
}

/// The permission a Lambda operation needs: its action on the function's ARN (qualified when
/// the request names a version or alias).
fn lambda_needs(lambda: &Lambda, operation: &lambda::Operation, query: Option<&str>) -> Vec<Need> {
    let options = lambda.options();
    let function_arn = |function: &str| {
        // The ARN the request names: another account's function is that account's resource.
        let named = stratus_lambda::parse_function_name(function);
        let qualifier = lambda::query_parameter(query, "Qualifier")
            .filter(|q| !q.is_empty())
            .or(named.qualifier.map(str::to_string));
        named.arn(&options.region, &options.account, qualifier.as_deref())
    };
    let need = |action: &str, resource: String| vec![Need::of(format!("lambda:{action}"), resource)];
    match operation {
        lambda::Operation::Invoke { function } => need("InvokeFunction", function_arn(function)),
        lambda::Operation::InvokeAsync { function } => need("InvokeAsync", function_arn(function)),
        lambda::Operation::GetFunction { function } => need("GetFunction", function_arn(function)),
        lambda::Operation::GetFunctionConfiguration { function } => {
            need("GetFunctionConfiguration", function_arn(function))
        }
        lambda::Operation::ListFunctions => need("ListFunctions", "*".to_string()),
        lambda::Operation::Unsupported { .. } => Vec::new(),
    }
}

fn lambda_response(answer: lambda::Answer, request_id: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(answer.body));
    *response.status_mut() = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(answer.content_type));
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-RequestId", value);
    }
    for (name, value) in answer.headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    response
}

/// AWS's order of checks for a JSON-protocol request (and STS's query protocol).
async fn handle_aws(
    endpoint: &AwsEndpoint,
    request: Request<Incoming>,
    request_id: &str,
    source_ip: &str,
) -> Response<Full<Bytes>> {
    let content_type = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let json_content =
        content_type.starts_with("application/x-amz-json-1.0") || content_type.starts_with("application/json");
    let form_content = content_type.starts_with("application/x-www-form-urlencoded");
    let host = request
        .headers()
        .get("host")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_string();
    let query_action = request.uri().query().is_some_and(|q| q.contains("Action="));
    if (request.method() == Method::POST && form_content) || (request.method() == Method::GET && query_action) {
        return handle_query_protocol(endpoint, request, source_ip).await;
    }
    if request.method() != Method::POST || !json_content {
        return response(
            StatusCode::NOT_FOUND,
            "application/xml",
            b"<UnknownOperationException/>".to_vec(),
            request_id,
        );
    }
    let declared_length = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared_length.is_some_and(|length| length > REQUEST_BYTES_MAX as u64) {
        return too_large(request_id);
    }
    let (head, incoming) = Head::of(request);
    let target = head.header("x-amz-target").map(str::to_string);
    let body = match Limited::new(incoming, REQUEST_BYTES_MAX).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) => {
            if error.downcast_ref::<http_body_util::LengthLimitError>().is_some() {
                return too_large(request_id);
            }
            return error_response(&ApiError::serialization(None), request_id);
        }
    };
    // 2. The body must be JSON (an empty body counts as `{}`). One pass checks it and reads the
    // table and index names a function's permissions are checked against; only a body that
    // does not name them as strings is read again to tell valid JSON from invalid.
    let blank = body.iter().all(u8::is_ascii_whitespace);
    let named = if blank { None } else { access::target(&body) };
    if !blank && named.is_none() && serde_json::from_slice::<serde::de::IgnoredAny>(&body).is_err() {
        return error_response(&ApiError::serialization(None), request_id);
    }
    // The body as a document, for the permissions a function's request needs.
    let document = || serde_json::from_slice::<serde_json::Value>(&body).unwrap_or(serde_json::Value::Null);
    // 3. The target must name an operation (of DynamoDB, or of DynamoDB Streams).
    if let Some(name) = target
        .as_deref()
        .and_then(|t| t.strip_prefix(dynamodb::streams::TARGET_PREFIX))
    {
        let Some(operation) = dynamodb::streams::Operation::from_name(name) else {
            return error_response(&ApiError::unknown_operation(None), request_id);
        };
        // 4-5. Authentication, then the permissions the request needs.
        let caller = match authenticate(&endpoint.iam, &head, &body, "dynamodb", source_ip) {
            Ok(caller) => caller,
            Err(error) => return error_response(&dynamodb_auth_error(&error), request_id),
        };
        if evaluated(caller.as_ref()) {
            let needs = access::stream_needs(&endpoint.dynamodb, operation, &document());
            if let Err(denied) = endpoint.iam.authorize(caller.as_ref(), &needs) {
                return error_response(&access_denied(denied.message), request_id);
            }
        }
        return match dynamodb::streams::handle(&endpoint.dynamodb, operation, &body).await {
            Ok(body) => response(StatusCode::OK, "application/x-amz-json-1.0", body, request_id),
            Err(error) => error_response(&error, request_id),
        };
    }
    let operation = target
        .as_deref()
        .and_then(|t| t.strip_prefix(TARGET_PREFIX))
        .and_then(Operation::from_name);
    let Some(operation) = operation else {
        return error_response(&ApiError::unknown_operation(None), request_id);
    };
    // 4-5. Authentication, then the permissions the request needs.
    let caller = match authenticate(&endpoint.iam, &head, &body, "dynamodb", source_ip) {
        Ok(caller) => caller,
        Err(error) => return error_response(&dynamodb_auth_error(&error), request_id),
    };
    if evaluated(caller.as_ref()) {
        let keys = caller.as_ref().is_some_and(|c| c.principal.reads_context());
        let plain = if keys {
            None
        } else {
            access::plain_needs(&endpoint.dynamodb, operation, named.as_ref())
        };
        let needs = plain.unwrap_or_else(|| access::needs(&endpoint.dynamodb, operation, &document(), keys));
        if let Err(denied) = endpoint.iam.authorize(caller.as_ref(), &needs) {
            return error_response(&access_denied(denied.message), request_id);
        }
    }
    if operation == Operation::DescribeEndpoints {
        // SDKs with endpoint discovery call back where this answer points: here.
        let body = serde_json::json!({"Endpoints": [{"Address": host, "CachePeriodInMinutes": 1440}]});
        return response(
            StatusCode::OK,
            "application/x-amz-json-1.0",
            body.to_string().into_bytes(),
            request_id,
        );
    }
    match dynamodb::handle(&endpoint.dynamodb, operation, &body).await {
        Ok(body) => response(StatusCode::OK, "application/x-amz-json-1.0", body, request_id),
        Err(error) => error_response(&error, request_id),
    }
}

/// The query protocol (form-encoded `Action=…`): STS.
async fn handle_query_protocol(
    endpoint: &AwsEndpoint,
    request: Request<Incoming>,
    source_ip: &str,
) -> Response<Full<Bytes>> {
    let request_id = stratus_lambda::ids::request_id();
    let (head, incoming) = Head::of(request);
    let body = match Limited::new(incoming, sts::REQUEST_BYTES_MAX).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let mut parameters = sts::form_pairs(head.query.as_deref().unwrap_or(""));
    parameters.extend(sts::form_pairs(&String::from_utf8_lossy(&body)));
    let answer = match authenticate(&endpoint.iam, &head, &body, "sts", source_ip) {
        Ok(caller) => sts::handle(&endpoint.iam, caller.as_ref(), &parameters, &request_id),
        Err(error) => sts::auth_error(&error, &request_id),
    };
    let mut reply = Response::new(Full::new(Bytes::from(answer.body)));
    *reply.status_mut() = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::BAD_REQUEST);
    reply
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        reply.headers_mut().insert("x-amzn-RequestId", value);
    }
    reply
}

fn too_large(request_id: &str) -> Response<Full<Bytes>> {
    let error = ApiError {
        type_name: "com.amazon.coral.service#RequestEntityTooLargeException",
        message: Some(format!(
            "Request body exceeds the maximum allowed size of {REQUEST_BYTES_MAX} bytes"
        )),
        capital_message: false,
        status: 413,
        extra: None,
    };
    error_response(&error, request_id)
}

/// Checks that the request carries SigV4 authentication in a valid shape, with AWS's messages.
pub fn check_authorization_shape(authorization: Option<&str>, query_auth: bool) -> Result<(), ApiError> {
    let Some(header) = authorization else {
        return if query_auth {
            Ok(())
        } else {
            Err(ApiError::missing_authentication())
        };
    };
    if query_auth {
        return Err(ApiError::new_invalid_signature(
            "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.",
        ));
    }
    let Some(rest) = header.strip_prefix("AWS4-HMAC-SHA256") else {
        if header.starts_with("AWS4-") {
            let algorithm = header.split_whitespace().next().unwrap_or("");
            return Err(ApiError::incomplete_signature(format!(
                "Unsupported AWS 'algorithm': '{algorithm}' (only AWS4-HMAC-SHA256 for now). "
            )));
        }
        return Err(ApiError::missing_authentication());
    };
    let mut missing = String::new();
    for part in ["Credential", "Signature", "SignedHeaders"] {
        if !rest
            .split([',', ' '])
            .any(|p| p.trim_start().starts_with(&format!("{part}=")))
        {
            missing.push_str(&format!("Authorization header requires '{part}' parameter. "));
        }
    }
    if !missing.is_empty() {
        return Err(ApiError::incomplete_signature(format!(
            "{missing}Authorization={header}"
        )));
    }
    Ok(())
}

impl ApiError {
    fn new_invalid_signature(message: &str) -> ApiError {
        ApiError {
            type_name: "com.amazon.coral.service#InvalidSignatureException",
            message: Some(message.to_string()),
            capital_message: false,
            status: 400,
            extra: None,
        }
    }
}
