//! The events API Gateway sends to Lambda: the REST proxy event (payload 1.0, also used by HTTP
//! APIs configured for 1.0) and the HTTP API payload 2.0 event, built field by field as AWS builds
//! them (see `../shared/reference/apigw/` for the recorded shapes).

use base64::Engine as _;
use serde_json::{Map, Value, json};

use crate::decode::{percent_decode, query_pairs, request_time, title_case};

/// A request as the gateway received it, with what routing found.
pub struct Incoming<'a> {
    pub method: &'a str,
    /// The raw path, percent-encoded, without the stage prefix.
    pub path: &'a str,
    /// The path as the client sent it (with the stage prefix, if any).
    pub full_path: &'a str,
    pub query: Option<&'a str>,
    /// Header (lower-case name, value) pairs in arrival order.
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
    pub source_ip: String,
    pub request_id: &'a str,
    pub epoch_ms: u64,
    pub api_id: &'a str,
    pub account: &'a str,
    pub stage: &'a str,
    /// The route's path (`/books/{id}`), or `$default`.
    pub resource: &'a str,
    /// `GET /books/{id}` or `$default`.
    pub route_key: String,
    /// (name, raw value) pairs.
    pub path_parameters: &'a [(String, String)],
    /// Encode the body as base64 (binary media type, or non-text on HTTP APIs).
    pub base64_body: bool,
    /// What the authorizer returned for the request context, if any.
    pub authorizer: Option<Value>,
    pub stage_variables: &'a std::collections::BTreeMap<String, String>,
}

impl Incoming<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    fn domain(&self) -> String {
        self.header("host").unwrap_or("localhost").to_string()
    }

    fn body_value(&self) -> Value {
        if self.body.is_empty() {
            return Value::Null;
        }
        if self.base64_body {
            Value::String(base64::engine::general_purpose::STANDARD.encode(self.body))
        } else {
            Value::String(String::from_utf8_lossy(self.body).into_owned())
        }
    }
}

/// The payload 1.0 event. `decode_path_parameters` is true for HTTP APIs (REST keeps them
/// encoded, as recorded).
pub fn v1(request: &Incoming<'_>, http_api: bool) -> Value {
    let mut headers = Map::new();
    let mut multi_headers: Map<String, Value> = Map::new();
    for (name, value) in request.headers {
        let name = title_case(name);
        headers.insert(name.clone(), Value::String(value.clone()));
        match multi_headers.get_mut(&name) {
            Some(Value::Array(values)) => values.push(Value::String(value.clone())),
            _ => {
                multi_headers.insert(name, json!([value]));
            }
        }
    }
    let pairs = request.query.map(query_pairs).unwrap_or_default();
    let (query, multi_query) = if pairs.is_empty() {
        (Value::Null, Value::Null)
    } else {
        let mut single = Map::new();
        let mut multi: Map<String, Value> = Map::new();
        for (key, value) in pairs {
            single.insert(key.clone(), Value::String(value.clone()));
            match multi.get_mut(&key) {
                Some(Value::Array(values)) => values.push(Value::String(value)),
                _ => {
                    multi.insert(key, json!([value]));
                }
            }
        }
        (Value::Object(single), Value::Object(multi))
    };
    let path_parameters = if request.path_parameters.is_empty() {
        Value::Null
    } else {
        let map: Map<String, Value> = request
            .path_parameters
            .iter()
            .map(|(k, v)| {
                let value = if http_api { percent_decode(v) } else { v.clone() };
                (k.clone(), Value::String(value))
            })
            .collect();
        Value::Object(map)
    };
    let domain = request.domain();
    let domain_prefix = domain.split('.').next().unwrap_or("").to_string();
    // REST shows a missing User-Agent as null, HTTP APIs (payload 1.0) as "".
    let user_agent = match request.header("user-agent") {
        Some(agent) => Value::String(agent.to_string()),
        None if http_api => Value::String(String::new()),
        None => Value::Null,
    };
    let stage_variables = if request.stage_variables.is_empty() {
        Value::Null
    } else {
        Value::Object(
            request
                .stage_variables
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        )
    };
    let mut context = json!({
        "accountId": request.account,
        "apiId": request.api_id,
        "domainName": domain,
        "domainPrefix": domain_prefix,
        "extendedRequestId": request.request_id,
        "httpMethod": request.method,
        "identity": {
            "accessKey": null,
            "accountId": null,
            "caller": null,
            "cognitoAuthenticationProvider": null,
            "cognitoAuthenticationType": null,
            "cognitoIdentityId": null,
            "cognitoIdentityPoolId": null,
            "principalOrgId": null,
            "sourceIp": request.source_ip,
            "user": null,
            "userAgent": user_agent,
            "userArn": null,
        },
        "path": if http_api { percent_decode(request.full_path) } else { stage_path(request.stage, request.path) },
        "protocol": "HTTP/1.1",
        "requestId": request.request_id,
        "requestTime": request_time(request.epoch_ms),
        "requestTimeEpoch": request.epoch_ms,
        "resourceId": if http_api { request.route_key.clone() } else { resource_id(request.resource) },
        "resourcePath": request.resource,
        "stage": request.stage,
    });
    if let Some(object) = context.as_object_mut() {
        if let Some(authorizer) = &request.authorizer {
            object.insert("authorizer".to_string(), authorizer.clone());
        }
        if http_api {
            object.insert("routeKey".to_string(), Value::String(request.route_key.clone()));
        }
    }
    let mut event = json!({
        "resource": request.resource,
        "path": request.path,
        "httpMethod": request.method,
        "headers": if headers.is_empty() { Value::Null } else { Value::Object(headers) },
        "multiValueHeaders": if multi_headers.is_empty() { Value::Null } else { Value::Object(multi_headers) },
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": path_parameters,
        "stageVariables": stage_variables,
        "requestContext": context,
        "body": request.body_value(),
        "isBase64Encoded": request.base64_body && !request.body.is_empty(),
    });
    if http_api && let Some(object) = event.as_object_mut() {
        object.insert("version".to_string(), Value::String("1.0".to_string()));
    }
    event
}

/// The REST requestContext.path: the stage, then the path.
fn stage_path(stage: &str, path: &str) -> String {
    format!("/{stage}{path}")
}

/// A stable six-character resource id per route path, as REST APIs show one.
fn resource_id(resource: &str) -> String {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in resource.bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..6)
        .map(|i| char::from(ALPHABET[((hash >> (i * 5)) % 36) as usize]))
        .collect()
}

/// The payload 2.0 event.
pub fn v2(request: &Incoming<'_>) -> Value {
    let mut headers: Map<String, Value> = Map::new();
    let mut cookies: Vec<Value> = Vec::new();
    for (name, value) in request.headers {
        if name == "cookie" {
            cookies.extend(
                value
                    .split(';')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(|c| Value::String(c.to_string())),
            );
            continue;
        }
        match headers.get_mut(name) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(value);
            }
            _ => {
                headers.insert(name.clone(), Value::String(value.clone()));
            }
        }
    }
    let decoded_path = percent_decode(request.full_path);
    let user_agent = request.header("user-agent").unwrap_or("").to_string();
    let domain = request.domain();
    let domain_prefix = domain.split('.').next().unwrap_or("").to_string();
    let mut context = json!({
        "accountId": request.account,
        "apiId": request.api_id,
        "domainName": domain,
        "domainPrefix": domain_prefix,
        "http": {
            "method": request.method,
            "path": decoded_path,
            "protocol": "HTTP/1.1",
            "sourceIp": request.source_ip,
            "userAgent": user_agent,
        },
        "requestId": request.request_id,
        "routeKey": request.route_key,
        "stage": request.stage,
        "time": request_time(request.epoch_ms),
        "timeEpoch": request.epoch_ms,
    });
    if let (Some(authorizer), Some(object)) = (&request.authorizer, context.as_object_mut()) {
        object.insert("authorizer".to_string(), authorizer.clone());
    }
    let mut event = Map::new();
    event.insert("version".to_string(), json!("2.0"));
    event.insert("routeKey".to_string(), json!(request.route_key));
    event.insert("rawPath".to_string(), json!(decoded_path));
    event.insert("rawQueryString".to_string(), json!(request.query.unwrap_or("")));
    if !cookies.is_empty() {
        event.insert("cookies".to_string(), Value::Array(cookies));
    }
    event.insert("headers".to_string(), Value::Object(headers));
    let pairs = request.query.map(query_pairs).unwrap_or_default();
    if !pairs.is_empty() {
        let mut query: Map<String, Value> = Map::new();
        for (key, value) in pairs {
            match query.get_mut(&key) {
                Some(Value::String(existing)) => {
                    existing.push(',');
                    existing.push_str(&value);
                }
                _ => {
                    query.insert(key, Value::String(value));
                }
            }
        }
        event.insert("queryStringParameters".to_string(), Value::Object(query));
    }
    event.insert("requestContext".to_string(), context);
    if !request.body.is_empty() {
        event.insert("body".to_string(), request.body_value());
    }
    if !request.stage_variables.is_empty() {
        let map: Map<String, Value> = request
            .stage_variables
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        event.insert("stageVariables".to_string(), Value::Object(map));
    }
    if !request.path_parameters.is_empty() {
        let map: Map<String, Value> = request
            .path_parameters
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(percent_decode(v))))
            .collect();
        event.insert("pathParameters".to_string(), Value::Object(map));
    }
    event.insert(
        "isBase64Encoded".to_string(),
        Value::Bool(request.base64_body && !request.body.is_empty()),
    );
    Value::Object(event)
}

/// Whether an HTTP API sends this body as text: text types, JSON, XML, JavaScript, forms,
/// YAML or GraphQL in valid UTF-8; anything else is base64-encoded.
pub fn http_api_body_is_text(content_type: Option<&str>, body: &[u8]) -> bool {
    if std::str::from_utf8(body).is_err() {
        return false;
    }
    let Some(content_type) = content_type else { return true };
    let media = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    media.starts_with("text/")
        || [
            "json",
            "xml",
            "javascript",
            "x-www-form-urlencoded",
            "yaml",
            "graphql",
            "csv",
        ]
        .iter()
        .any(|kind| media.contains(kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request<'a>(headers: &'a [(String, String)], params: &'a [(String, String)]) -> Incoming<'a> {
        Incoming {
            method: "POST",
            path: "/test9/api/users/123/orders",
            full_path: "/test9/api/users/123/orders",
            query: Some("status=pending&tag=important&tag=urgent"),
            headers,
            body: b"",
            source_ip: "127.0.0.1".to_string(),
            request_id: "r-1",
            epoch_ms: 1_744_668_836_573,
            api_id: "abc123",
            account: "000000000000",
            stage: "$default",
            resource: "/test9/api/users/{userId}/orders",
            route_key: "POST /test9/api/users/{userId}/orders".to_string(),
            path_parameters: params,
            base64_body: false,
            authorizer: None,
            stage_variables: &NO_VARIABLES,
        }
    }

    static NO_VARIABLES: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();

    fn recorded_headers() -> Vec<(String, String)> {
        vec![
            ("user-agent".to_string(), "TestAgent".to_string()),
            ("accept".to_string(), "text/html".to_string()),
            ("accept".to_string(), "application/json".to_string()),
            ("cookie".to_string(), "session=abc123; theme=dark".to_string()),
            ("x-custom-header".to_string(), "value1".to_string()),
        ]
    }

    #[test]
    fn v2_joins_repeats_splits_cookies_and_omits_empty_members() {
        let headers = recorded_headers();
        let params = vec![("userId".to_string(), "123".to_string())];
        let event = v2(&request(&headers, &params));
        assert_eq!(event["routeKey"], "POST /test9/api/users/{userId}/orders");
        assert_eq!(event["rawQueryString"], "status=pending&tag=important&tag=urgent");
        assert_eq!(event["queryStringParameters"]["tag"], "important,urgent");
        assert_eq!(event["cookies"], json!(["session=abc123", "theme=dark"]));
        assert!(event["headers"].get("cookie").is_none());
        assert_eq!(event["headers"]["accept"], "text/html,application/json");
        assert_eq!(event["pathParameters"]["userId"], "123");
        assert!(event.get("body").is_none());
        assert!(event.get("stageVariables").is_none());
        assert_eq!(event["isBase64Encoded"], false);
        assert_eq!(event["requestContext"]["time"], "14/Apr/2025:22:13:56 +0000");
    }

    #[test]
    fn v1_keeps_last_query_value_and_every_header_value() {
        let headers = recorded_headers();
        let params = vec![("userId".to_string(), "a%20b".to_string())];
        let mut incoming = request(&headers, &params);
        incoming.stage = "Prod";
        let rest = v1(&incoming, false);
        assert_eq!(rest["queryStringParameters"]["tag"], "urgent");
        assert_eq!(
            rest["multiValueQueryStringParameters"]["tag"],
            json!(["important", "urgent"])
        );
        assert_eq!(rest["headers"]["Cookie"], "session=abc123; theme=dark");
        assert_eq!(rest["headers"]["Accept"], "application/json");
        assert_eq!(
            rest["multiValueHeaders"]["Accept"],
            json!(["text/html", "application/json"])
        );
        assert_eq!(rest["pathParameters"]["userId"], "a%20b");
        assert_eq!(rest["body"], Value::Null);
        assert_eq!(rest["requestContext"]["path"], "/Prod/test9/api/users/123/orders");
        assert!(rest.get("version").is_none());
        let http = v1(&incoming, true);
        assert_eq!(http["pathParameters"]["userId"], "a b");
        assert_eq!(http["version"], "1.0");
    }

    #[test]
    fn http_apis_base64_what_is_not_text() {
        assert!(http_api_body_is_text(Some("application/json"), b"{}"));
        assert!(http_api_body_is_text(Some("text/plain; charset=utf-8"), b"hi"));
        assert!(!http_api_body_is_text(Some("application/octet-stream"), b"hi"));
        assert!(!http_api_body_is_text(Some("text/plain"), &[0xff, 0xfe]));
        assert!(http_api_body_is_text(None, b"plain"));
    }
}
