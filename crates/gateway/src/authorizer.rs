//! Lambda authorizers: REST TOKEN and REQUEST authorizers and HTTP API Lambda authorizers
//! (payload 1.0 and 2.0, simple and policy responses). Identity sources are checked before the
//! function runs, results are cached for the configured TTL keyed by the identity, and the
//! returned IAM policy is evaluated against the method (or route) ARN.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

/// What kind of authorizer, as SAM declares it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// REST `FunctionPayloadType: TOKEN` (the default): one header holds the token.
    RestToken { header: String, validation: Option<String> },
    /// REST `FunctionPayloadType: REQUEST`.
    RestRequest,
    /// HTTP API Lambda authorizer.
    HttpLambda {
        payload_version: String,
        simple_responses: bool,
    },
    /// JWT / Cognito / IAM or anything else Stratus does not check locally.
    NotChecked(String),
}

/// Where an identity value comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Header(String),
    Query(String),
    Other(String),
}

impl Source {
    /// `method.request.header.X`, `$request.header.X`, `method.request.querystring.q`,
    /// `$request.querystring.q`; anything else (stage variables, context) is kept as is.
    pub fn parse(text: &str) -> Source {
        let lower = text.to_ascii_lowercase();
        for prefix in ["method.request.header.", "$request.header."] {
            if lower.starts_with(prefix) {
                return Source::Header(text[prefix.len()..].to_ascii_lowercase());
            }
        }
        for prefix in ["method.request.querystring.", "$request.querystring."] {
            if lower.starts_with(prefix) {
                return Source::Query(text[prefix.len()..].to_string());
            }
        }
        Source::Other(text.to_string())
    }
}

#[derive(Clone, Debug)]
pub struct Authorizer {
    pub name: String,
    /// The function's name or ARN.
    pub function: String,
    pub kind: Kind,
    pub identity_sources: Vec<Source>,
    pub ttl: Duration,
}

/// What the authorizer decided.
#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    /// Go on; the value goes into requestContext.authorizer.
    Allow(Value),
    /// 401 `{"message":"Unauthorized"}`.
    Unauthorized,
    /// 403 with API Gateway's body for the API type.
    Forbidden { explicit: bool },
    /// The authorizer failed or answered nonsense: 500.
    Error,
}

/// A cached authorizer answer: the policy (re-evaluated per resource) or simple answer.
#[derive(Clone, Debug)]
struct Cached {
    answer: Value,
    until: Instant,
}

#[derive(Default)]
pub struct Cache {
    entries: Mutex<HashMap<(String, String), Cached>>,
}

impl Cache {
    pub fn get(&self, authorizer: &str, key: &str) -> Option<Value> {
        let mut entries = self.entries.lock().ok()?;
        let slot = (authorizer.to_string(), key.to_string());
        match entries.get(&slot) {
            Some(cached) if cached.until > Instant::now() => Some(cached.answer.clone()),
            Some(_) => {
                entries.remove(&slot);
                None
            }
            None => None,
        }
    }

    pub fn put(&self, authorizer: &str, key: &str, answer: Value, ttl: Duration) {
        if ttl.is_zero() {
            return;
        }
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() > 10_000 {
                entries.clear();
            }
            entries.insert(
                (authorizer.to_string(), key.to_string()),
                Cached {
                    answer,
                    until: Instant::now() + ttl,
                },
            );
        }
    }
}

/// Matches an ARN against a policy resource with `*` and `?` wildcards.
pub fn arn_matches(pattern: &str, arn: &str) -> bool {
    fn matches(pattern: &[u8], text: &[u8]) -> bool {
        let (mut p, mut t) = (0, 0);
        let (mut star, mut mark) = (None, 0);
        while t < text.len() {
            if p < pattern.len() && (pattern[p] == b'?' || pattern[p] == text[t]) {
                p += 1;
                t += 1;
            } else if p < pattern.len() && pattern[p] == b'*' {
                star = Some(p);
                mark = t;
                p += 1;
            } else if let Some(s) = star {
                p = s + 1;
                mark += 1;
                t = mark;
            } else {
                return false;
            }
        }
        while p < pattern.len() && pattern[p] == b'*' {
            p += 1;
        }
        p == pattern.len()
    }
    matches(pattern.as_bytes(), arn.as_bytes())
}

fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items.iter().filter_map(|v| v.as_str().map(str::to_string)).collect(),
        _ => Vec::new(),
    }
}

/// Evaluates an authorizer's IAM policy for `execute-api:Invoke` on `arn`: an explicit deny
/// wins, then an allow; no statement is an implicit deny.
pub fn evaluate_policy(policy: &Value, arn: &str) -> Result<bool, PolicyError> {
    let statements = match policy.get("Statement") {
        Some(Value::Array(items)) => items.clone(),
        Some(object @ Value::Object(_)) => vec![object.clone()],
        _ => return Err(PolicyError),
    };
    let mut allowed = false;
    for statement in &statements {
        let effect = statement.get("Effect").and_then(Value::as_str).ok_or(PolicyError)?;
        let actions = strings(statement.get("Action"));
        let action_matches = actions
            .iter()
            .any(|a| arn_matches(&a.to_ascii_lowercase(), "execute-api:invoke"));
        let resources = strings(statement.get("Resource"));
        let resource_matches = resources.iter().any(|r| arn_matches(r, arn));
        if !(action_matches && resource_matches) {
            continue;
        }
        match effect {
            "Deny" => return Ok(false),
            "Allow" => allowed = true,
            _ => return Err(PolicyError),
        }
    }
    Ok(allowed)
}

#[derive(Debug, PartialEq, Eq)]
pub struct PolicyError;

/// Turns an authorizer's answer into a decision for `arn`.
pub fn decide(kind: &Kind, answer: &Value, arn: &str) -> Decision {
    if let Kind::HttpLambda {
        simple_responses: true,
        payload_version,
    } = kind
        && payload_version == "2.0"
    {
        return match answer.get("isAuthorized") {
            Some(Value::Bool(true)) => Decision::Allow(json!({"lambda": context_of(answer)})),
            Some(Value::Bool(false)) => Decision::Forbidden { explicit: false },
            _ => Decision::Error,
        };
    }
    let Some(policy) = answer.get("policyDocument") else {
        return Decision::Error;
    };
    let principal = answer.get("principalId").cloned().unwrap_or(Value::Null);
    match evaluate_policy(policy, arn) {
        Ok(true) => {
            let context = context_of(answer);
            let value = match kind {
                Kind::HttpLambda { payload_version, .. } if payload_version == "2.0" => {
                    json!({"lambda": context, "principalId": principal})
                }
                _ => {
                    let mut object = Map::new();
                    object.insert("principalId".to_string(), principal);
                    for (key, value) in context {
                        object.insert(key, value);
                    }
                    object.insert("integrationLatency".to_string(), json!(0));
                    Value::Object(object)
                }
            };
            Decision::Allow(value)
        }
        Ok(false) => {
            let explicit = policy
                .get("Statement")
                .map(|s| match s {
                    Value::Array(items) => items.iter().any(|st| st.get("Effect") == Some(&json!("Deny"))),
                    other => other.get("Effect") == Some(&json!("Deny")),
                })
                .unwrap_or(false);
            Decision::Forbidden { explicit }
        }
        Err(PolicyError) => Decision::Error,
    }
}

/// The authorizer's `context`, limited to the scalar values API Gateway passes on.
fn context_of(answer: &Value) -> Map<String, Value> {
    match answer.get("context") {
        Some(Value::Object(context)) => context
            .iter()
            .filter(|(_, v)| matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_)))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        _ => Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:execute-api:us-east-1:000000000000:abc123/Prod/GET/books/1";

    fn policy(effect: &str, resource: &str) -> Value {
        json!({"principalId": "user-1", "policyDocument": {"Version": "2012-10-17", "Statement": [
            {"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}
        ]}, "context": {"tenant": "t1", "count": 2, "nested": {"dropped": true}}})
    }

    #[test]
    fn policies_are_evaluated_against_the_method_arn() {
        let rest = Kind::RestRequest;
        match decide(&rest, &policy("Allow", ARN), ARN) {
            Decision::Allow(context) => {
                assert_eq!(context["principalId"], "user-1");
                assert_eq!(context["tenant"], "t1");
                assert_eq!(context["count"], 2);
                assert!(context.get("nested").is_none());
            }
            other => panic!("expected allow, got {other:?}"),
        }
        let wildcard = "arn:aws:execute-api:us-east-1:000000000000:abc123/*/GET/*";
        assert!(matches!(
            decide(&rest, &policy("Allow", wildcard), ARN),
            Decision::Allow(_)
        ));
        let elsewhere = "arn:aws:execute-api:us-east-1:000000000000:abc123/Prod/POST/books";
        assert_eq!(
            decide(&rest, &policy("Allow", elsewhere), ARN),
            Decision::Forbidden { explicit: false }
        );
        assert_eq!(
            decide(&rest, &policy("Deny", ARN), ARN),
            Decision::Forbidden { explicit: true }
        );
        assert_eq!(decide(&rest, &json!({"principalId": "x"}), ARN), Decision::Error);
        let both = json!({"policyDocument": {"Statement": [
            {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": "*"},
            {"Action": "execute-api:*", "Effect": "Deny", "Resource": ARN}
        ]}});
        assert_eq!(decide(&rest, &both, ARN), Decision::Forbidden { explicit: true });
    }

    #[test]
    fn simple_responses_allow_or_forbid() {
        let kind = Kind::HttpLambda {
            payload_version: "2.0".to_string(),
            simple_responses: true,
        };
        match decide(&kind, &json!({"isAuthorized": true, "context": {"user": "u"}}), ARN) {
            Decision::Allow(value) => assert_eq!(value, json!({"lambda": {"user": "u"}})),
            other => panic!("expected allow, got {other:?}"),
        }
        assert_eq!(
            decide(&kind, &json!({"isAuthorized": false}), ARN),
            Decision::Forbidden { explicit: false }
        );
        assert_eq!(decide(&kind, &json!({"nope": 1}), ARN), Decision::Error);
    }

    #[test]
    fn identity_sources_parse_both_notations() {
        assert_eq!(
            Source::parse("method.request.header.Authorization"),
            Source::Header("authorization".into())
        );
        assert_eq!(
            Source::parse("$request.header.X-Token"),
            Source::Header("x-token".into())
        );
        assert_eq!(
            Source::parse("method.request.querystring.tenant"),
            Source::Query("tenant".into())
        );
        assert_eq!(Source::parse("$request.querystring.q"), Source::Query("q".into()));
        assert!(matches!(Source::parse("$context.identity.sourceIp"), Source::Other(_)));
    }

    #[test]
    fn arn_wildcards() {
        assert!(arn_matches("*", ARN));
        assert!(arn_matches("arn:aws:execute-api:*:*:abc123/*", ARN));
        assert!(arn_matches(
            "arn:aws:execute-api:us-east-1:000000000000:abc123/Prod/GET/books/?",
            ARN
        ));
        assert!(!arn_matches(
            "arn:aws:execute-api:us-east-1:000000000000:abc123/Prod/GET/books",
            ARN
        ));
    }
}
