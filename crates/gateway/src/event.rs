//! The events API Gateway sends to Lambda: the REST proxy event (payload 1.0, also used by HTTP
//! APIs configured for 1.0) and the HTTP API payload 2.0 event, built field by field as AWS builds
//! them (see `../shared/reference/apigw/` for the recorded shapes).

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::Value;

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
    /// `requestContext.requestId`: a UUID on REST APIs, the `Apigw-Requestid` on HTTP APIs.
    pub request_id: &'a str,
    /// `requestContext.extendedRequestId` (payload 1.0): API Gateway's own 16-character id.
    pub extended_request_id: &'a str,
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
}

/// The payload 1.0 event as a `Value` (for authorizer events, which change it).
pub fn v1(request: &Incoming<'_>, http_api: bool) -> Value {
    serde_json::from_slice(&v1_json(request, http_api)).unwrap_or(Value::Null)
}

/// The payload 1.0 event, serialised. `http_api` is true for HTTP APIs (REST keeps path
/// parameters encoded, as recorded).
///
/// The text is written directly, without a `Value` tree: every object's keys in the order a
/// `serde_json::Map` (sorted) gives them and every string escaped by serde_json, so it is
/// byte for byte what serialising the tree would give (see the tests).
pub fn v1_json(request: &Incoming<'_>, http_api: bool) -> Vec<u8> {
    // Header names as REST shows them; a repeated header's last value in `headers`, all of them
    // in `multiValueHeaders`. A REST API leaves Content-Length out (recorded: BinaryContentRest
    // has none for its 5-byte body, BinaryContentHttpV1 has one).
    let mut headers: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for (name, value) in request.headers {
        if !http_api && name == "content-length" {
            continue;
        }
        headers.entry(title_case(name)).or_default().push(value);
    }
    let mut query: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (key, value) in request.query.map(query_pairs).unwrap_or_default() {
        query.entry(key).or_default().push(value);
    }
    let path_parameters: BTreeMap<&str, String> = request
        .path_parameters
        .iter()
        .map(|(k, v)| {
            let value = if http_api { percent_decode(v) } else { v.clone() };
            (k.as_str(), value)
        })
        .collect();
    let domain = request.domain();
    let domain_prefix = domain.split('.').next().unwrap_or("");
    let mut out = Vec::with_capacity(1024 + request.body.len() * 4 / 3);
    let mut event = Object::open(&mut out);
    body_member(&mut event, request);
    if headers.is_empty() {
        event.null("headers");
    } else {
        let mut object = Object::open(event.key("headers"));
        for (name, values) in &headers {
            object.string(name, values.last().copied().unwrap_or(""));
        }
        object.close();
    }
    event.string("httpMethod", request.method);
    event.bool("isBase64Encoded", request.base64_body && !request.body.is_empty());
    if headers.is_empty() {
        event.null("multiValueHeaders");
    } else {
        let mut object = Object::open(event.key("multiValueHeaders"));
        for (name, values) in &headers {
            strings(object.key(name), values.iter().copied());
        }
        object.close();
    }
    if query.is_empty() {
        event.null("multiValueQueryStringParameters");
    } else {
        let mut object = Object::open(event.key("multiValueQueryStringParameters"));
        for (key, values) in &query {
            strings(object.key(key), values.iter().map(String::as_str));
        }
        object.close();
    }
    event.string("path", request.path);
    if path_parameters.is_empty() {
        event.null("pathParameters");
    } else {
        let mut object = Object::open(event.key("pathParameters"));
        for (key, value) in &path_parameters {
            object.string(key, value);
        }
        object.close();
    }
    if query.is_empty() {
        event.null("queryStringParameters");
    } else {
        let mut object = Object::open(event.key("queryStringParameters"));
        for (key, values) in &query {
            object.string(key, values.last().map(String::as_str).unwrap_or(""));
        }
        object.close();
    }
    {
        let mut context = Object::open(event.key("requestContext"));
        context.string("accountId", request.account);
        context.string("apiId", request.api_id);
        if let Some(authorizer) = &request.authorizer {
            value(context.key("authorizer"), authorizer);
        }
        context.string("domainName", &domain);
        context.string("domainPrefix", domain_prefix);
        context.string("extendedRequestId", request.extended_request_id);
        context.string("httpMethod", request.method);
        {
            let mut identity = Object::open(context.key("identity"));
            for name in ["accessKey", "accountId", "caller"] {
                identity.null(name);
            }
            for name in [
                "cognitoAuthenticationProvider",
                "cognitoAuthenticationType",
                "cognitoIdentityId",
                "cognitoIdentityPoolId",
                "principalOrgId",
            ] {
                identity.null(name);
            }
            identity.string("sourceIp", &request.source_ip);
            identity.null("user");
            // REST shows a missing User-Agent as null, HTTP APIs (payload 1.0) as "".
            match request.header("user-agent") {
                Some(agent) => identity.string("userAgent", agent),
                None if http_api => identity.string("userAgent", ""),
                None => identity.null("userAgent"),
            }
            identity.null("userArn");
            identity.close();
        }
        if http_api {
            context.string("path", &percent_decode(request.full_path));
        } else {
            context.string("path", &stage_path(request.stage, request.path));
        }
        context.string("protocol", "HTTP/1.1");
        context.string("requestId", request.request_id);
        context.string("requestTime", &request_time(request.epoch_ms));
        context.u64("requestTimeEpoch", request.epoch_ms);
        if http_api {
            context.string("resourceId", &request.route_key);
        } else {
            context.string("resourceId", &resource_id(request.resource));
        }
        context.string("resourcePath", request.resource);
        if http_api {
            context.string("routeKey", &request.route_key);
        }
        context.string("stage", request.stage);
        context.close();
    }
    event.string("resource", request.resource);
    stage_variables_member(&mut event, request, true);
    if http_api {
        event.string("version", "1.0");
    }
    event.close();
    out
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

/// The payload 2.0 event as a `Value` (for authorizer events, which change it).
pub fn v2(request: &Incoming<'_>) -> Value {
    serde_json::from_slice(&v2_json(request)).unwrap_or(Value::Null)
}

/// The payload 2.0 event, serialised (written directly, as [`v1_json`] is).
pub fn v2_json(request: &Incoming<'_>) -> Vec<u8> {
    // Repeated headers joined with commas; cookies apart.
    let mut headers: BTreeMap<&str, String> = BTreeMap::new();
    let mut cookies: Vec<&str> = Vec::new();
    for (name, value) in request.headers {
        if name == "cookie" {
            cookies.extend(value.split(';').map(str::trim).filter(|c| !c.is_empty()));
            continue;
        }
        match headers.get_mut(name.as_str()) {
            Some(existing) => {
                existing.push(',');
                existing.push_str(value);
            }
            None => {
                headers.insert(name, value.clone());
            }
        }
    }
    let mut query: BTreeMap<String, String> = BTreeMap::new();
    for (key, value) in request.query.map(query_pairs).unwrap_or_default() {
        match query.get_mut(&key) {
            Some(existing) => {
                existing.push(',');
                existing.push_str(&value);
            }
            None => {
                query.insert(key, value);
            }
        }
    }
    let path_parameters: BTreeMap<&str, String> = request
        .path_parameters
        .iter()
        .map(|(k, v)| (k.as_str(), percent_decode(v)))
        .collect();
    let decoded_path = percent_decode(request.full_path);
    let domain = request.domain();
    let domain_prefix = domain.split('.').next().unwrap_or("");
    let mut out = Vec::with_capacity(1024 + request.body.len() * 4 / 3);
    let mut event = Object::open(&mut out);
    if !request.body.is_empty() {
        body_member(&mut event, request);
    }
    if !cookies.is_empty() {
        strings(event.key("cookies"), cookies.iter().copied());
    }
    {
        let mut object = Object::open(event.key("headers"));
        for (name, value) in &headers {
            object.string(name, value);
        }
        object.close();
    }
    event.bool("isBase64Encoded", request.base64_body && !request.body.is_empty());
    if !path_parameters.is_empty() {
        let mut object = Object::open(event.key("pathParameters"));
        for (key, value) in &path_parameters {
            object.string(key, value);
        }
        object.close();
    }
    if !query.is_empty() {
        let mut object = Object::open(event.key("queryStringParameters"));
        for (key, value) in &query {
            object.string(key, value);
        }
        object.close();
    }
    event.string("rawPath", &decoded_path);
    event.string("rawQueryString", request.query.unwrap_or(""));
    {
        let mut context = Object::open(event.key("requestContext"));
        context.string("accountId", request.account);
        context.string("apiId", request.api_id);
        if let Some(authorizer) = &request.authorizer {
            value(context.key("authorizer"), authorizer);
        }
        context.string("domainName", &domain);
        context.string("domainPrefix", domain_prefix);
        {
            let mut http = Object::open(context.key("http"));
            http.string("method", request.method);
            http.string("path", &decoded_path);
            http.string("protocol", "HTTP/1.1");
            http.string("sourceIp", &request.source_ip);
            http.string("userAgent", request.header("user-agent").unwrap_or(""));
            http.close();
        }
        context.string("requestId", request.request_id);
        context.string("routeKey", &request.route_key);
        context.string("stage", request.stage);
        context.string("time", &request_time(request.epoch_ms));
        context.u64("timeEpoch", request.epoch_ms);
        context.close();
    }
    event.string("routeKey", &request.route_key);
    stage_variables_member(&mut event, request, false);
    event.string("version", "2.0");
    event.close();
    out
}

/// `body`: null when empty (payload 1.0), base64 or the text.
fn body_member(event: &mut Object<'_>, request: &Incoming<'_>) {
    if request.body.is_empty() {
        event.null("body");
    } else if request.base64_body {
        event.string("body", &base64::engine::general_purpose::STANDARD.encode(request.body));
    } else {
        event.string("body", &String::from_utf8_lossy(request.body));
    }
}

/// `stageVariables`: null (payload 1.0) or absent (2.0) when there are none.
fn stage_variables_member(event: &mut Object<'_>, request: &Incoming<'_>, null_when_empty: bool) {
    if request.stage_variables.is_empty() {
        if null_when_empty {
            event.null("stageVariables");
        }
        return;
    }
    let mut object = Object::open(event.key("stageVariables"));
    for (key, value) in request.stage_variables {
        object.string(key, value);
    }
    object.close();
}

/// A JSON object being written. Members must be added in sorted key order.
struct Object<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> Object<'a> {
    fn open(out: &'a mut Vec<u8>) -> Object<'a> {
        out.push(b'{');
        Object { out, first: true }
    }

    /// Writes `"name":` and returns the output for the member's value.
    fn key(&mut self, name: &str) -> &mut Vec<u8> {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        text(self.out, name);
        self.out.push(b':');
        self.out
    }

    fn string(&mut self, name: &str, value: &str) {
        text(self.key(name), value);
    }

    fn null(&mut self, name: &str) {
        self.key(name).extend_from_slice(b"null");
    }

    fn bool(&mut self, name: &str, value: bool) {
        self.key(name).extend_from_slice(if value { b"true" } else { b"false" });
    }

    fn u64(&mut self, name: &str, number: u64) {
        self.key(name).extend_from_slice(number.to_string().as_bytes());
    }

    fn close(self) {
        self.out.push(b'}');
    }
}

/// A JSON string, escaped as serde_json escapes it.
fn text(out: &mut Vec<u8>, value: &str) {
    // Writing to a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, value);
}

fn value(out: &mut Vec<u8>, value: &Value) {
    let _ = serde_json::to_writer(&mut *out, value);
}

fn strings<'s>(out: &mut Vec<u8>, values: impl Iterator<Item = &'s str>) {
    out.push(b'[');
    for (index, value) in values.enumerate() {
        if index > 0 {
            out.push(b',');
        }
        text(out, value);
    }
    out.push(b']');
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
    use serde_json::json;

    /// The events are written without a `Value` tree; they must be the text serialising one
    /// gives: sorted keys, serde_json's escapes. (Checked against the former `Value`-based
    /// builder over 1,152 requests when the writer replaced it.)
    #[test]
    fn events_are_the_text_a_value_tree_serialises_to() {
        let odd_headers = vec![
            (
                "host".to_string(),
                "abc.execute-api.us-east-1.amazonaws.com".to_string(),
            ),
            ("x-b".to_string(), "1".to_string()),
            ("x-a".to_string(), "q\"uote\\ \u{1}é ☕".to_string()),
            ("x-b".to_string(), "2".to_string()),
            ("cookie".to_string(), " ; b=2;".to_string()),
        ];
        let params = vec![
            ("userId".to_string(), "a%20b".to_string()),
            ("b".to_string(), "%E2%98%95".to_string()),
        ];
        let mut variables = std::collections::BTreeMap::new();
        variables.insert("b".to_string(), "2".to_string());
        variables.insert("a".to_string(), "\"1\"".to_string());
        let recorded = recorded_headers();
        for headers in [&recorded, &odd_headers, &Vec::new()] {
            let mut incoming = request(headers, &params);
            incoming.query = Some("a=%22x%22&b&=c&a+b=1+2&z=%ZZ&a=2");
            incoming.body = &[0xff, 0x00, 0x41];
            incoming.authorizer = Some(json!({"z": 1, "a": {"y": [1, "x"], "b": null}}));
            incoming.stage_variables = &variables;
            for base64_body in [false, true] {
                incoming.base64_body = base64_body;
                for text in [v1_json(&incoming, false), v1_json(&incoming, true), v2_json(&incoming)] {
                    let tree: Value = serde_json::from_slice(&text).unwrap_or(Value::Null);
                    assert_eq!(
                        serde_json::to_string(&tree).unwrap_or_default(),
                        String::from_utf8_lossy(&text)
                    );
                }
            }
        }
    }

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
            extended_request_id: "JCIoWGiIvHcEsxg=",
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
