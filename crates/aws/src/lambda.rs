//! The Lambda API (REST-JSON, `/2015-03-31/functions/...`): Invoke, GetFunction,
//! GetFunctionConfiguration, ListFunctions and the deprecated InvokeAsync. Requests are parsed
//! into an [`Operation`] first, then dispatched to [`stratus_lambda::Lambda`].

use std::sync::{Arc, LazyLock};

use base64::Engine as _;
use bytes::Bytes;
use serde_json::{Map, Value, json};
use stratus_lambda::{Call, FunctionInfo, InvocationType, InvokeError, Invoked, Lambda};

/// The Lambda operations Stratus answers, by AWS's names.
#[derive(Debug, PartialEq, Eq)]
pub enum Operation {
    Invoke {
        function: String,
    },
    InvokeAsync {
        function: String,
    },
    GetFunction {
        function: String,
    },
    GetFunctionConfiguration {
        function: String,
    },
    ListFunctions,
    /// A Lambda path Stratus does not serve (named for the error message).
    Unsupported {
        method: String,
        path: String,
    },
}

/// Whether a request path belongs to the Lambda API.
pub fn is_lambda_path(path: &str) -> bool {
    path.starts_with("/2015-03-31/functions") || path.starts_with("/2014-11-13/functions")
}

/// Percent-decoding of one path segment (function names and ARNs arrive encoded, `%3A` for `:`).
fn decode_segment(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%'
            && index + 2 < bytes.len()
            && let (Some(high), Some(low)) = (hex_value(bytes[index + 1]), hex_value(bytes[index + 2]))
        {
            out.push(high << 4 | low);
            index += 3;
            continue;
        }
        out.push(bytes[index]);
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_value(byte: u8) -> Option<u8> {
    (byte as char).to_digit(16).map(|d| d as u8)
}

pub fn parse(method: &hyper::Method, path: &str) -> Operation {
    let unsupported = || Operation::Unsupported {
        method: method.to_string(),
        path: path.to_string(),
    };
    if let Some(rest) = path.strip_prefix("/2014-11-13/functions/") {
        let rest = rest.trim_end_matches('/');
        if let Some(function) = rest.strip_suffix("/invoke-async")
            && method == hyper::Method::POST
        {
            return Operation::InvokeAsync {
                function: decode_segment(function),
            };
        }
        return unsupported();
    }
    let Some(rest) = path.strip_prefix("/2015-03-31/functions") else {
        return unsupported();
    };
    let rest = rest.trim_start_matches('/');
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    match (method, segments.as_slice()) {
        (&hyper::Method::GET, []) => Operation::ListFunctions,
        (&hyper::Method::GET, [function]) => Operation::GetFunction {
            function: decode_segment(function),
        },
        (&hyper::Method::GET, [function, "configuration"]) => Operation::GetFunctionConfiguration {
            function: decode_segment(function),
        },
        (&hyper::Method::POST, [function, "invocations"]) => Operation::Invoke {
            function: decode_segment(function),
        },
        _ => unsupported(),
    }
}

/// The service model's patterns for a function name (`NamespacedFunctionName`) and a qualifier
/// (`NumericLatestPublishedOrAliasQualifier`), as AWS's validation message quotes them.
const FUNCTION_NAME_PATTERN: &str = r"(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?";
const FUNCTION_NAME_MAX: usize = 256;
const QUALIFIER_PATTERN: &str = r"\$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+";
const QUALIFIER_MAX: usize = 128;

/// The qualifier's pattern for matching: anchored, the `-` of its class moved to the end (see
/// `stratus_lambda::function_name_is_valid`, which matches function names).
static QUALIFIER: LazyLock<Option<regex_lite::Regex>> =
    LazyLock::new(|| regex_lite::Regex::new(r"^(\$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9_$-]+)$").ok());

/// AWS's `ValidationException` for a function name or `Qualifier` that breaks the model's
/// constraints, checked before anything is looked up.
fn validate_names(function: &str, qualifier: Option<&str>) -> Result<(), Answer> {
    let invalid = |message: String| {
        Err(error_answer(
            "ValidationException",
            400,
            &format!("1 validation error detected: {message}"),
            None,
        ))
    };
    let check = |value: &str, member: &str, max: usize, matches: bool, pattern: &str| {
        if value.chars().count() > max {
            return invalid(format!(
                "Value '{value}' at '{member}' failed to satisfy constraint: Member must have length less than or equal to {max}"
            ));
        }
        if !matches {
            return invalid(format!(
                "Value '{value}' at '{member}' failed to satisfy constraint: Member must satisfy regular expression pattern: {pattern}"
            ));
        }
        Ok(())
    };
    let valid = stratus_lambda::function_name_is_valid(function);
    check(
        function,
        "functionName",
        FUNCTION_NAME_MAX,
        valid,
        FUNCTION_NAME_PATTERN,
    )?;
    match qualifier {
        Some(qualifier) if !qualifier.is_empty() => {
            let valid = QUALIFIER.as_ref().is_none_or(|r| r.is_match(qualifier));
            check(qualifier, "qualifier", QUALIFIER_MAX, valid, QUALIFIER_PATTERN)
        }
        _ => Ok(()),
    }
}

/// A Lambda API answer: status, headers, body.
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Bytes,
    pub content_type: &'static str,
}

impl Answer {
    pub fn json(status: u16, value: &Value) -> Answer {
        Answer {
            status,
            headers: Vec::new(),
            body: Bytes::from(value.to_string()),
            content_type: "application/json",
        }
    }
}

/// AWS's REST-JSON error: `x-amzn-ErrorType` and `{"Type": "User", "message": ...}`. The
/// message member is `Message` for the errors whose model spells it so (ResourceNotFound,
/// Service), `message` for the rest.
pub fn error_answer(code: &'static str, status: u16, message: &str, reason: Option<&str>) -> Answer {
    let mut body = Map::new();
    if let Some(reason) = reason {
        body.insert("Reason".to_string(), Value::String(reason.to_string()));
    }
    let kind = if status >= 500 { "Service" } else { "User" };
    body.insert("Type".to_string(), Value::String(kind.to_string()));
    let member = match code {
        "ResourceNotFoundException" | "ServiceException" => "Message",
        _ => "message",
    };
    body.insert(member.to_string(), Value::String(message.to_string()));
    let mut answer = Answer::json(status, &Value::Object(body));
    answer.headers.push(("x-amzn-ErrorType", code.to_string()));
    answer
}

fn invoke_error(error: &InvokeError) -> Answer {
    let mut answer = error_answer(error.code(), error.status(), &error.message(), error.reason());
    if matches!(error, InvokeError::Throttled) {
        answer.headers.push(("Retry-After", "1".to_string()));
    }
    answer
}

/// Parsed query parameters (`Qualifier`, `Marker`, `MaxItems`).
pub fn query_parameter(query: Option<&str>, name: &str) -> Option<String> {
    query?.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (key == name).then(|| decode_segment(&value.replace('+', " ")))
    })
}

/// Headers of an Invoke request that matter.
pub struct InvokeHeaders {
    pub invocation_type: Option<String>,
    pub log_type: Option<String>,
    pub client_context: Option<String>,
}

pub async fn handle(
    lambda: &Arc<Lambda>,
    operation: Operation,
    query: Option<&str>,
    headers: InvokeHeaders,
    body: Bytes,
) -> Answer {
    let named = match &operation {
        Operation::Invoke { function }
        | Operation::InvokeAsync { function }
        | Operation::GetFunction { function }
        | Operation::GetFunctionConfiguration { function } => Some(function.as_str()),
        Operation::ListFunctions | Operation::Unsupported { .. } => None,
    };
    if let Some(function) = named
        && let Err(answer) = validate_names(function, query_parameter(query, "Qualifier").as_deref())
    {
        return answer;
    }
    match operation {
        Operation::Invoke { function } => invoke(lambda, &function, query, headers, body).await,
        Operation::InvokeAsync { function } => {
            let call = Call {
                payload: body,
                ..Call::default()
            };
            match lambda.invoke(&function, None, InvocationType::Event, call).await {
                Ok(_) => Answer::json(202, &json!({"Status": 202})),
                Err(error) => invoke_error(&error),
            }
        }
        Operation::GetFunction { function } => {
            let qualifier = query_parameter(query, "Qualifier");
            match lambda.function(&function, qualifier.as_deref()) {
                Ok(info) => Answer::json(200, &get_function(&info)),
                Err(error) => invoke_error(&error),
            }
        }
        Operation::GetFunctionConfiguration { function } => {
            let qualifier = query_parameter(query, "Qualifier");
            match lambda.function(&function, qualifier.as_deref()) {
                Ok(info) => Answer::json(200, &configuration(&info)),
                Err(error) => invoke_error(&error),
            }
        }
        Operation::ListFunctions => list_functions(lambda, query),
        Operation::Unsupported { method, path } => error_answer(
            "UnknownOperationException",
            404,
            &format!("Stratus does not serve the Lambda API operation {method} {path} yet"),
            None,
        ),
    }
}

async fn invoke(
    lambda: &Arc<Lambda>,
    function: &str,
    query: Option<&str>,
    headers: InvokeHeaders,
    body: Bytes,
) -> Answer {
    let invocation_type = match headers.invocation_type.as_deref().unwrap_or("RequestResponse") {
        "RequestResponse" => InvocationType::RequestResponse,
        "Event" => InvocationType::Event,
        "DryRun" => InvocationType::DryRun,
        other => {
            return error_answer(
                "InvalidParameterValueException",
                400,
                &format!(
                    "1 validation error detected: Value '{other}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]"
                ),
                None,
            );
        }
    };
    let tail = match headers.log_type.as_deref().unwrap_or("None") {
        "None" => false,
        "Tail" => true,
        other => {
            return error_answer(
                "InvalidParameterValueException",
                400,
                &format!(
                    "1 validation error detected: Value '{other}' at 'logType' failed to satisfy constraint: Member must satisfy enum value set: [None, Tail]"
                ),
                None,
            );
        }
    };
    let client_context = match headers.client_context.as_deref() {
        None | Some("") => None,
        Some(encoded) => {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .filter(|text| serde_json::from_str::<Map<String, Value>>(text).is_ok());
            match decoded {
                Some(text) => Some(text),
                None => {
                    return error_answer(
                        "InvalidRequestContentException",
                        400,
                        "Client context must be a valid Base64-encoded JSON object.",
                        None,
                    );
                }
            }
        }
    };
    let qualifier = query_parameter(query, "Qualifier");
    let call = Call {
        payload: body,
        // "Lambda passes the ClientContext object to your function for synchronous invocations only."
        client_context: client_context.filter(|_| invocation_type == InvocationType::RequestResponse),
        tail: tail && invocation_type == InvocationType::RequestResponse,
        ..Call::default()
    };
    match lambda
        .invoke(function, qualifier.as_deref(), invocation_type, call)
        .await
    {
        Ok(Invoked::Completed(completed)) => {
            let mut answer = Answer {
                status: 200,
                headers: vec![("X-Amz-Executed-Version", "$LATEST".to_string())],
                body: completed.payload,
                content_type: "application/json",
            };
            if let Some(error) = completed.function_error {
                answer.headers.push(("X-Amz-Function-Error", error));
            }
            if let Some(log) = completed.log {
                let tail = stratus_lambda::logs::tail(&log);
                answer.headers.push((
                    "X-Amz-Log-Result",
                    base64::engine::general_purpose::STANDARD.encode(tail),
                ));
            }
            answer.headers.push(("x-amzn-RequestId", completed.request_id));
            answer
        }
        Ok(Invoked::Queued { request_id }) => Answer {
            status: 202,
            headers: vec![("x-amzn-RequestId", request_id)],
            body: Bytes::new(),
            content_type: "application/json",
        },
        Ok(Invoked::DryRun) => Answer {
            status: 204,
            headers: Vec::new(),
            body: Bytes::new(),
            content_type: "application/json",
        },
        Err(error) => invoke_error(&error),
    }
}

/// `FunctionConfiguration` as GetFunction and ListFunctions return it.
fn configuration(info: &FunctionInfo) -> Value {
    let config = &info.config;
    let mut value = json!({
        "FunctionName": config.name,
        "FunctionArn": config.arn,
        "Runtime": config.runtime,
        "Role": config.role_arn,
        "Handler": config.handler,
        "CodeSize": 0,
        "Description": config.description,
        "Timeout": config.timeout.as_secs(),
        "MemorySize": config.memory_mb,
        "LastModified": "1970-01-01T00:00:00.000+0000",
        "CodeSha256": "",
        "Version": "$LATEST",
        "TracingConfig": {"Mode": config.tracing_mode},
        "RevisionId": format!("{:08x}-0000-4000-8000-000000000000", fnv(config.arn.as_bytes())),
        "State": "Active",
        "LastUpdateStatus": "Successful",
        "PackageType": "Zip",
        "Architectures": config.architectures,
        "EphemeralStorage": {"Size": config.ephemeral_storage_mb},
        "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
        "LoggingConfig": logging_config(config),
    });
    if let Some(object) = value.as_object_mut() {
        if !config.environment.is_empty() {
            object.insert("Environment".to_string(), json!({"Variables": config.environment}));
        }
        if !config.layer_arns.is_empty() {
            let layers: Vec<Value> = config
                .layer_arns
                .iter()
                .map(|arn| json!({"Arn": arn, "CodeSize": 0}))
                .collect();
            object.insert("Layers".to_string(), Value::Array(layers));
        }
    }
    value
}

fn get_function(info: &FunctionInfo) -> Value {
    let mut value = json!({
        "Configuration": configuration(info),
        "Code": {"RepositoryType": "Local", "Location": info.config.code_dir.display().to_string()},
        "Tags": info.config.tags,
    });
    if let (Some(reserved), Some(object)) = (info.config.reserved_concurrency, value.as_object_mut()) {
        object.insert(
            "Concurrency".to_string(),
            json!({"ReservedConcurrentExecutions": reserved}),
        );
    }
    value
}

/// The `FunctionConfiguration` fields ListFunctions leaves out (its documentation lists them).
const GET_FUNCTION_ONLY: &[&str] = &[
    "State",
    "StateReasonCode",
    "StateReason",
    "LastUpdateStatus",
    "LastUpdateStatusReason",
    "LastUpdateStatusReasonCode",
    "RuntimeVersionConfig",
];

fn list_functions(lambda: &Lambda, query: Option<&str>) -> Answer {
    // "ListFunctions returns a maximum of 50 items in each response, even if you set the
    // number higher."
    let max_items = match query_parameter(query, "MaxItems").map(|m| m.parse::<usize>()) {
        None => 50,
        Some(Ok(n)) if (1..=10_000).contains(&n) => n.min(50),
        Some(_) => {
            return error_answer(
                "InvalidParameterValueException",
                400,
                "1 validation error detected: Value at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 10000",
                None,
            );
        }
    };
    let functions = lambda.functions();
    let start = match query_parameter(query, "Marker") {
        None => 0,
        Some(marker) => match marker.parse::<usize>() {
            Ok(index) if index <= functions.len() => index,
            _ => {
                return error_answer("InvalidParameterValueException", 400, "Invalid Marker", None);
            }
        },
    };
    let page: Vec<Value> = functions
        .iter()
        .skip(start)
        .take(max_items)
        .map(|info| {
            let mut value = configuration(info);
            // ListFunctions returns a subset of the configuration: the state fields are
            // GetFunction's only.
            if let Some(object) = value.as_object_mut() {
                for field in GET_FUNCTION_ONLY {
                    object.remove(*field);
                }
            }
            value
        })
        .collect();
    let mut body = Map::new();
    body.insert("Functions".to_string(), Value::Array(page));
    if start + max_items < functions.len() {
        body.insert("NextMarker".to_string(), Value::String((start + max_items).to_string()));
    }
    Answer::json(200, &Value::Object(body))
}

fn fnv(bytes: &[u8]) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in bytes {
        hash ^= u32::from(*byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}

/// GetFunction's `LoggingConfig`: the levels appear with the JSON format only.
fn logging_config(config: &stratus_lambda::FunctionConfig) -> serde_json::Value {
    let mut logging = json!({"LogFormat": config.log_format, "LogGroup": config.log_group_name()});
    if let Some(object) = logging.as_object_mut() {
        if let Some(level) = &config.application_log_level {
            object.insert("ApplicationLogLevel".to_string(), json!(level));
        }
        if let Some(level) = &config.system_log_level {
            object.insert("SystemLogLevel".to_string(), json!(level));
        }
    }
    logging
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_qualifiers_are_checked_against_the_model() {
        let cases = [
            ("books", None, true),
            ("books.v2", None, true),
            ("my-func_1", Some("$LATEST"), true),
            ("books:live", None, true),
            ("arn:aws:lambda:us-east-1:000000000000:function:books", None, true),
            (
                "arn:aws:lambda:eu-west-1:000000000000:function:books:$LATEST",
                None,
                true,
            ),
            ("000000000000:function:books:1", Some("1"), true),
            ("bad name!", None, false),
            ("Echo,2", None, false),
            ("books:a:b", None, false),
            ("", None, false),
            ("books", Some("bad!"), false),
            ("books", Some("prod-2_x"), true),
        ];
        for (function, qualifier, valid) in cases {
            let result = validate_names(function, qualifier);
            assert_eq!(result.is_ok(), valid, "{function} {qualifier:?}");
        }
        let too_long = "f".repeat(FUNCTION_NAME_MAX + 1);
        let Err(answer) = validate_names(&too_long, None) else {
            panic!("a 257-character name passed");
        };
        let body: Value = serde_json::from_slice(&answer.body).unwrap_or_default();
        assert!(
            body["message"]
                .as_str()
                .is_some_and(|m| m.ends_with("Member must have length less than or equal to 256")),
            "{body}"
        );
    }

    #[test]
    fn paths_parse_into_operations() {
        let get = hyper::Method::GET;
        let post = hyper::Method::POST;
        let cases = [
            (
                &post,
                "/2015-03-31/functions/books/invocations",
                Operation::Invoke {
                    function: "books".into(),
                },
            ),
            (
                &post,
                "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Abooks/invocations",
                Operation::Invoke {
                    function: "arn:aws:lambda:us-east-1:000000000000:function:books".into(),
                },
            ),
            (&get, "/2015-03-31/functions/", Operation::ListFunctions),
            (&get, "/2015-03-31/functions", Operation::ListFunctions),
            (
                &get,
                "/2015-03-31/functions/books",
                Operation::GetFunction {
                    function: "books".into(),
                },
            ),
            (
                &get,
                "/2015-03-31/functions/books/configuration",
                Operation::GetFunctionConfiguration {
                    function: "books".into(),
                },
            ),
            (
                &post,
                "/2014-11-13/functions/books/invoke-async/",
                Operation::InvokeAsync {
                    function: "books".into(),
                },
            ),
        ];
        for (method, path, expected) in cases {
            assert_eq!(parse(method, path), expected, "{method} {path}");
        }
        assert!(matches!(
            parse(&hyper::Method::DELETE, "/2015-03-31/functions/books"),
            Operation::Unsupported { .. }
        ));
    }

    #[test]
    fn percent_decoding_leaves_broken_escapes_alone() {
        assert_eq!(decode_segment("a%3Ab"), "a:b");
        assert_eq!(decode_segment("a%3"), "a%3");
        assert_eq!(decode_segment("%zz"), "%zz");
        assert_eq!(decode_segment("%24LATEST"), "$LATEST");
    }
}
