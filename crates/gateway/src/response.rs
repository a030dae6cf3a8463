//! From a Lambda result to the HTTP response, with API Gateway's rules for each payload format:
//! status code, single and multi-value headers (merged in the order each API type merges them),
//! cookies, base64 bodies, the default Content-Type, and the inferred 2.0 format. A malformed
//! result is REST's 502 or HTTP API's 500. The validation rules are those real API Gateways
//! applied in LocalStack's AWS-validated tests (`test_aws_proxy_response_payload_format_validation`
//! and its `_v1` / `_v2` HTTP API counterparts): REST refuses members it does not know and needs no
//! `statusCode`; HTTP APIs ignore other members, and 1.0 needs a `statusCode`.

use base64::Engine as _;
use bytes::Bytes;
use serde_json::Value;

use crate::decode::media_type_matches;

/// An HTTP response to send.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    /// (name, value) pairs; a name may repeat.
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl Reply {
    pub fn json(status: u16, body: &str) -> Reply {
        Reply {
            status,
            headers: vec![("Content-Type".to_string(), "application/json".to_string())],
            body: Bytes::from(body.to_string()),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn set_header(&mut self, name: &str, value: String) {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.to_string(), value));
    }
}

/// REST API's answer to a failed or malformed integration.
pub fn rest_internal_error() -> Reply {
    let mut reply = Reply::json(502, r#"{"message": "Internal server error"}"#);
    reply.headers.push((
        "x-amzn-ErrorType".to_string(),
        "InternalServerErrorException".to_string(),
    ));
    reply
}

/// HTTP API's answer to a failed or malformed integration.
pub fn http_internal_error() -> Reply {
    Reply::json(500, r#"{"message":"Internal Server Error"}"#)
}

/// Which API produced the response, for the rules that differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    Rest,
    /// An HTTP API with payload format 1.0.
    HttpV1,
    HttpV2,
}

fn internal_error(flavor: Flavor) -> Reply {
    match flavor {
        Flavor::Rest => rest_internal_error(),
        _ => http_internal_error(),
    }
}

/// The members a REST API accepts in a payload 1.0 result: any other is a malformed result there
/// (HTTP APIs ignore other members).
const REST_RESULT_MEMBERS: [&str; 5] = ["statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"];

/// `statusCode` as a number or as a string of digits (`"201"`, which API Gateway accepts), in the
/// range of HTTP status codes.
fn status_code(value: &Value) -> Option<u16> {
    let number = match value {
        Value::Number(number) => number.as_u64()?,
        Value::String(text) if !text.is_empty() && text.len() <= 3 && text.bytes().all(|b| b.is_ascii_digit()) => {
            text.parse::<u64>().ok()?
        }
        _ => return None,
    };
    u16::try_from(number).ok().filter(|s| (100..=599).contains(s))
}

fn header_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

/// Maps a payload 1.0 result. `binary_media_types` and the request's `Accept` decide, for REST
/// APIs, whether a base64 body is decoded.
pub fn from_v1(payload: &[u8], flavor: Flavor, binary_media_types: &[String], accept: Option<&str>) -> Reply {
    let object = match serde_json::from_slice::<Value>(payload) {
        Ok(Value::Object(object)) => object,
        // A result that is not JSON at all: REST's body then has no space (as recorded).
        Err(_) if flavor == Flavor::Rest => {
            let mut reply = Reply::json(502, r#"{"message":"Internal server error"}"#);
            reply.headers.push((
                "x-amzn-ErrorType".to_string(),
                "InternalServerErrorException".to_string(),
            ));
            return reply;
        }
        _ => return internal_error(flavor),
    };
    // REST accepts only the documented members, and answers 200 when `statusCode` is left out;
    // HTTP APIs ignore other members and need a `statusCode`.
    if flavor == Flavor::Rest && object.keys().any(|key| !REST_RESULT_MEMBERS.contains(&key.as_str())) {
        return internal_error(flavor);
    }
    let status = match (object.get("statusCode"), flavor) {
        (None, Flavor::Rest) => Some(200),
        (None, _) => None,
        (Some(value), _) => status_code(value),
    };
    let Some(status) = status else {
        return internal_error(flavor);
    };
    let mut single: Vec<(String, String)> = Vec::new();
    match object.get("headers") {
        None | Some(Value::Null) => {}
        Some(Value::Object(headers)) => {
            for (name, value) in headers {
                match header_text(value) {
                    Some(text) => single.push((name.clone(), text)),
                    None => return internal_error(flavor),
                }
            }
        }
        Some(_) => return internal_error(flavor),
    }
    let mut multi: Vec<(String, String)> = Vec::new();
    match object.get("multiValueHeaders") {
        None | Some(Value::Null) => {}
        Some(Value::Object(headers)) => {
            for (name, values) in headers {
                let Value::Array(values) = values else {
                    return internal_error(flavor);
                };
                for value in values {
                    match header_text(value) {
                        Some(text) => multi.push((name.clone(), text)),
                        None => return internal_error(flavor),
                    }
                }
            }
        }
        Some(_) => return internal_error(flavor),
    }
    // A name in both lists: REST lists the multi values first, HTTP APIs the single one first.
    let mut headers = Vec::new();
    let (first, second) = match flavor {
        Flavor::Rest => (&multi, &single),
        _ => (&single, &multi),
    };
    for (name, value) in first.iter().chain(second.iter()) {
        headers.push((name.clone(), value.clone()));
    }
    let body_text = match object.get("body") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => text.clone(),
        Some(_) => return internal_error(flavor),
    };
    let base64 = match object.get("isBase64Encoded") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(flag)) => *flag,
        Some(_) => return internal_error(flavor),
    };
    let content_type = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.clone());
    let body = if base64 {
        let decode = match flavor {
            // REST converts base64 to binary only for binary media types (by Accept or the
            // response's own Content-Type); otherwise the client gets the base64 text.
            Flavor::Rest => {
                accept.is_some_and(|a| {
                    a.split(',')
                        .next()
                        .is_some_and(|first| media_type_matches(first, binary_media_types))
                }) || content_type
                    .as_deref()
                    .is_some_and(|c| media_type_matches(c, binary_media_types))
            }
            _ => true,
        };
        if decode {
            match base64::engine::general_purpose::STANDARD.decode(body_text.trim()) {
                Ok(bytes) => Bytes::from(bytes),
                Err(_) => return internal_error(flavor),
            }
        } else {
            Bytes::from(body_text)
        }
    } else {
        Bytes::from(body_text)
    };
    if content_type.is_none() {
        let default = match flavor {
            Flavor::Rest => "application/json",
            _ => "text/plain; charset=utf-8",
        };
        headers.push(("Content-Type".to_string(), default.to_string()));
    }
    Reply { status, headers, body }
}

/// Maps a payload 2.0 result, including the inferred format: a JSON object without
/// `statusCode`, or any other JSON value, is a 200 whose body is that JSON (a string unquoted).
pub fn from_v2(payload: &[u8]) -> Reply {
    // Anything but an object with `statusCode` is the body itself, byte for byte (a JSON string
    // unquoted), as recorded: even output that is not JSON.
    let object = match serde_json::from_slice::<Value>(payload) {
        Ok(Value::Object(object)) if object.contains_key("statusCode") => object,
        // An object that looks like Lambda's error payload is taken for a failed invocation.
        Ok(Value::Object(object)) if object.contains_key("errorMessage") => return http_internal_error(),
        Ok(Value::String(text)) => return inferred(Bytes::from(text)),
        _ => return inferred(Bytes::copy_from_slice(payload)),
    };
    let Some(status) = object.get("statusCode").and_then(status_code) else {
        return http_internal_error();
    };
    let mut headers: Vec<(String, String)> = Vec::new();
    match object.get("headers") {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (name, value) in map {
                match header_text(value) {
                    Some(text) => headers.push((name.clone(), text)),
                    None => return http_internal_error(),
                }
            }
        }
        Some(_) => return http_internal_error(),
    }
    match object.get("cookies") {
        None | Some(Value::Null) => {}
        Some(Value::Array(cookies)) => {
            for cookie in cookies {
                match cookie {
                    Value::String(text) => headers.push(("Set-Cookie".to_string(), text.clone())),
                    _ => return http_internal_error(),
                }
            }
        }
        Some(_) => return http_internal_error(),
    }
    let body_text = match object.get("body") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    };
    let body = match object.get("isBase64Encoded") {
        Some(Value::Bool(true)) => match base64::engine::general_purpose::STANDARD.decode(body_text.trim()) {
            Ok(bytes) => Bytes::from(bytes),
            Err(_) => return http_internal_error(),
        },
        None | Some(Value::Null) | Some(Value::Bool(false)) => Bytes::from(body_text),
        Some(_) => return http_internal_error(),
    };
    if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("content-type")) {
        headers.push(("Content-Type".to_string(), "text/plain; charset=utf-8".to_string()));
    }
    Reply { status, headers, body }
}

fn inferred(body: Bytes) -> Reply {
    Reply {
        status: 200,
        headers: vec![("Content-Type".to_string(), "application/json".to_string())],
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cases recorded from real API Gateways (`observed-gateway-behaviour.json`): the Lambda
    /// output, the flavor, and the status, body and headers the client got.
    #[test]
    fn results_map_as_recorded() {
        struct Case {
            output: &'static str,
            flavor: Flavor,
            status: u16,
            body: &'static str,
            headers: &'static [(&'static str, &'static str)],
        }
        let cases = [
            Case {
                output: r#"{"statusCode":201,"body":"{\"message\":\"Created\"}"}"#,
                flavor: Flavor::Rest,
                status: 201,
                body: r#"{"message":"Created"}"#,
                headers: &[("Content-Type", "application/json")],
            },
            Case {
                output: r#"{"statusCode":201,"body":"{\"message\":\"Created\"}"}"#,
                flavor: Flavor::HttpV1,
                status: 201,
                body: r#"{"message":"Created"}"#,
                headers: &[("Content-Type", "text/plain; charset=utf-8")],
            },
            Case {
                output: r#"{"statusCode":200,"headers":{"Content-Type":"application/json","X-Custom-Header":"single-value","Combined-Header":"single-value"},"multiValueHeaders":{"X-Multi-Header":["multi-value1","multi-value2"],"Combined-Header":["multi-value1","multi-value2"]},"body":"x"}"#,
                flavor: Flavor::Rest,
                status: 200,
                body: "x",
                headers: &[
                    ("X-Multi-Header", "multi-value1"),
                    ("X-Multi-Header", "multi-value2"),
                    ("Combined-Header", "multi-value1"),
                    ("Combined-Header", "multi-value2"),
                    ("Content-Type", "application/json"),
                    ("X-Custom-Header", "single-value"),
                    ("Combined-Header", "single-value"),
                ],
            },
            Case {
                output: r#"{"statusCode":0,"body":"{\"key\":\"This body should be replaced\"}"}"#,
                flavor: Flavor::Rest,
                status: 502,
                body: r#"{"message": "Internal server error"}"#,
                headers: &[
                    ("Content-Type", "application/json"),
                    ("x-amzn-ErrorType", "InternalServerErrorException"),
                ],
            },
            Case {
                output: r#"{"statusCode":0,"body":"x"}"#,
                flavor: Flavor::HttpV1,
                status: 500,
                body: r#"{"message":"Internal Server Error"}"#,
                headers: &[("Content-Type", "application/json")],
            },
            Case {
                output: "Not a valid proxy response object",
                flavor: Flavor::Rest,
                status: 502,
                body: r#"{"message":"Internal server error"}"#,
                headers: &[("Content-Type", "application/json")],
            },
        ];
        for (index, case) in cases.iter().enumerate() {
            let reply = from_v1(case.output.as_bytes(), case.flavor, &[], None);
            assert_eq!(reply.status, case.status, "case {index}");
            assert_eq!(reply.body, Bytes::from(case.body), "case {index}");
            for (name, value) in case.headers {
                assert!(
                    reply.headers.iter().any(|(n, v)| n == name && v == value),
                    "case {index}: {name}: {value} in {:?}",
                    reply.headers
                );
            }
        }
    }

    #[test]
    fn v2_results_map_as_recorded() {
        let cases: &[(&str, u16, &str, &str)] = &[
            (
                r#"{"statusCode":201,"body":"{\"message\":\"Created\"}"}"#,
                201,
                r#"{"message":"Created"}"#,
                "text/plain; charset=utf-8",
            ),
            (
                r#"{"statusCode":200,"body":"eyJtZXNzYWdlIjoiSGVsbG8sIEFQSSBHYXRld2F5IHYyISJ9","isBase64Encoded":true}"#,
                200,
                r#"{"message":"Hello, API Gateway v2!"}"#,
                "text/plain; charset=utf-8",
            ),
            (
                r#"{"statusCode":201,"body":"{\"key\":\"value\"}","headers":{"Content-Type":"application/xml"}}"#,
                201,
                r#"{"key":"value"}"#,
                "application/xml",
            ),
            (r#""test""#, 200, "test", "application/json"),
            (
                r#""Special \"quoted\" text""#,
                200,
                r#"Special "quoted" text"#,
                "application/json",
            ),
            (
                r#"{"message":"no status code"}"#,
                200,
                r#"{"message":"no status code"}"#,
                "application/json",
            ),
            (
                r#"{"statusCode": 200.5, "body": "Hello"}"#,
                500,
                r#"{"message":"Internal Server Error"}"#,
                "application/json",
            ),
            ("not json", 200, "not json", "application/json"),
            (
                r#"{"name": "John Doe", "age":"#,
                200,
                r#"{"name": "John Doe", "age":"#,
                "application/json",
            ),
            ("[1, 2, 3]", 200, "[1, 2, 3]", "application/json"),
        ];
        for (output, status, body, content_type) in cases {
            let reply = from_v2(output.as_bytes());
            assert_eq!(reply.status, *status, "{output}");
            assert_eq!(reply.body, Bytes::from(body.to_string()), "{output}");
            assert_eq!(reply.header("content-type"), Some(*content_type), "{output}");
        }
        let with_cookies = from_v2(br#"{"statusCode":200,"cookies":["a=1","b=2; Max-Age=5"]}"#);
        let cookies: Vec<&str> = with_cookies
            .headers
            .iter()
            .filter(|(n, _)| n == "Set-Cookie")
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(cookies, vec!["a=1", "b=2; Max-Age=5"]);
    }

    /// LocalStack's AWS-validated tests of the result format (repository localstack/localstack,
    /// tests/aws/services/apigateway/test_apigateway_lambda.py:
    /// `test_aws_proxy_response_payload_format_validation` and `test_lambda_aws_proxy_response_format`;
    /// the HTTP API suite's `test_aws_proxy_response_payload_format_validation_v1` / `_v2`): the
    /// result and the status each API type answered with.
    #[test]
    fn result_validation_as_aws_answers() {
        let rest: &[(&str, u16)] = &[
            (r#"{"statusCode": 200}"#, 200),
            (
                r#"{"statusCode": 200, "headers": {"test-header": "value", "header-bool": true}}"#,
                200,
            ),
            (r#"{"statusCode": 200, "headers": null}"#, 200),
            (r#"{"statusCode": 200, "wrongValue": "value"}"#, 502),
            (r#"{}"#, 200),
            (
                r#"{"statusCode": 200, "body": "dGVzdC1kYXRh", "isBase64Encoded": true}"#,
                200,
            ),
            (
                r#"{"statusCode": 200, "multiValueHeaders": {"test-multi": ["value1", "value2"]}}"#,
                200,
            ),
            (
                r#"{"statusCode": 200, "multiValueHeaders": {"test-multi-invalid": "value1"}}"#,
                502,
            ),
            (r#"{"statusCode": "test"}"#, 502),
            (r#"{"statusCode": "201"}"#, 201),
            (r#""justAString""#, 502),
            (r#"{"headers": {"test-header": "value"}}"#, 200),
        ];
        for (output, status) in rest {
            let reply = from_v1(output.as_bytes(), Flavor::Rest, &[], None);
            assert_eq!(reply.status, *status, "REST {output}");
        }
        let only_headers = from_v1(br#"{"headers": {"test-header": "value"}}"#, Flavor::Rest, &[], None);
        assert_eq!(only_headers.header("test-header"), Some("value"));
        assert_eq!(only_headers.body, Bytes::new());
        let with_bool = from_v1(
            br#"{"statusCode": 200, "headers": {"b": true}}"#,
            Flavor::Rest,
            &[],
            None,
        );
        assert_eq!(with_bool.header("b"), Some("true"));

        let http_v1: &[(&str, u16)] = &[
            (r#"{"statusCode": 200}"#, 200),
            (
                r#"{"statusCode": 200, "headers": {"test-header": "value", "header-bool": true}}"#,
                200,
            ),
            (r#"{"statusCode": 200, "wrongValue": "value"}"#, 200),
            (r#"{}"#, 500),
            (
                r#"{"statusCode": 200, "body": "dGVzdC1kYXRh", "isBase64Encoded": true}"#,
                200,
            ),
            (
                r#"{"statusCode": 200, "multiValueHeaders": {"test-multi-invalid": "value1"}}"#,
                500,
            ),
            (r#"{"statusCode": "test"}"#, 500),
            (r#"{"statusCode": "201"}"#, 201),
            (r#""justAString""#, 500),
            (r#"{"headers": {"test-header": "value"}}"#, 500),
        ];
        for (output, status) in http_v1 {
            let reply = from_v1(output.as_bytes(), Flavor::HttpV1, &[], None);
            assert_eq!(reply.status, *status, "HTTP 1.0 {output}");
        }

        let http_v2: &[(&str, u16, &str)] = &[
            (r#"{"statusCode": 200}"#, 200, ""),
            (r#"{"statusCode": 200, "wrongValue": "value"}"#, 200, ""),
            (r#"{}"#, 200, "{}"),
            (
                r#"{"statusCode": 200, "body": "dGVzdC1kYXRh", "isBase64Encoded": true}"#,
                200,
                "test-data",
            ),
            (r#"{"statusCode": 200, "body": "dGVzdC1kYXRh"}"#, 200, "dGVzdC1kYXRh"),
            (
                r#"{"statusCode": 200, "cookies": {"test-cookies-invalid": "value1"}}"#,
                500,
                "",
            ),
            (r#"{"statusCode": "test"}"#, 500, ""),
            (r#"{"statusCode": "201"}"#, 201, ""),
            (r#""justAString""#, 200, "justAString"),
            (
                r#"{"headers": {"test-header": "value"}}"#,
                200,
                r#"{"headers": {"test-header": "value"}}"#,
            ),
            (r#"{"errorMessage": "test fake error message"}"#, 500, ""),
            (r#""null""#, 200, "null"),
            (r#""""#, 200, ""),
            (r#""errorMessage""#, 200, "errorMessage"),
        ];
        for (output, status, body) in http_v2 {
            let reply = from_v2(output.as_bytes());
            assert_eq!(reply.status, *status, "HTTP 2.0 {output}");
            if *status != 500 {
                assert_eq!(reply.body, Bytes::from(body.to_string()), "HTTP 2.0 {output}");
            }
        }
    }

    #[test]
    fn status_codes_are_numbers_or_strings_of_digits() {
        for (value, status) in [
            (serde_json::json!(201), Some(201)),
            (serde_json::json!("201"), Some(201)),
            (serde_json::json!("0"), None),
            (serde_json::json!(0), None),
            (serde_json::json!("2O1"), None),
            (serde_json::json!(" 201"), None),
            (serde_json::json!("+201"), None),
            (serde_json::json!(""), None),
            (serde_json::json!("99999999999999999999999"), None),
            (serde_json::json!(200.5), None),
            (serde_json::json!(null), None),
        ] {
            assert_eq!(status_code(&value), status, "{value}");
        }
    }

    #[test]
    fn rest_decodes_base64_only_for_binary_media_types() {
        let output =
            br#"{"statusCode":200,"headers":{"Content-Type":"image/png"},"body":"AQIDBAU=","isBase64Encoded":true}"#;
        let as_text = from_v1(output, Flavor::Rest, &[], None);
        assert_eq!(as_text.body, Bytes::from_static(b"AQIDBAU="));
        let binary = from_v1(output, Flavor::Rest, &["image/png".to_string()], None);
        assert_eq!(binary.body, Bytes::from_static(&[1, 2, 3, 4, 5]));
        let by_accept = from_v1(output, Flavor::Rest, &["*/*".to_string()], Some("image/png"));
        assert_eq!(by_accept.body, Bytes::from_static(&[1, 2, 3, 4, 5]));
        let http = from_v1(output, Flavor::HttpV1, &[], None);
        assert_eq!(http.body, Bytes::from_static(&[1, 2, 3, 4, 5]));
    }
}
