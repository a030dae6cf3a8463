//! CORS as API Gateway applies it. REST APIs (SAM `Cors`): SAM adds an `OPTIONS` method with a
//! mock integration to every path, answering the preflight; actual responses come from the
//! function untouched. HTTP APIs (`CorsConfiguration`): API Gateway answers preflights itself and
//! puts its CORS headers on every response, replacing the function's.

use serde_json::Value;

use crate::response::Reply;

/// A REST API's `Cors`: the header values exactly as SAM sets them (SAM's values are quoted
/// strings, `"'*'"`, and land in the mock integration's response unquoted).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RestCors {
    pub allow_origin: String,
    pub allow_methods: Option<String>,
    pub allow_headers: Option<String>,
    pub max_age: Option<String>,
    pub allow_credentials: bool,
}

/// An HTTP API's `CorsConfiguration`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HttpCors {
    pub allow_origins: Vec<String>,
    pub allow_methods: Vec<String>,
    pub allow_headers: Vec<String>,
    pub expose_headers: Vec<String>,
    pub max_age: Option<i64>,
    pub allow_credentials: bool,
}

/// `'*'` → `*` (SAM wants single quotes inside the YAML string).
fn unquote(text: &str) -> String {
    let trimmed = text.trim();
    trimmed
        .strip_prefix('\'')
        .and_then(|t| t.strip_suffix('\''))
        .unwrap_or(trimmed)
        .to_string()
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn list(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Array(items)) => items.iter().filter_map(text).collect(),
        Some(Value::String(s)) => s
            .split(',')
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .collect(),
        _ => Vec::new(),
    }
}

impl RestCors {
    /// From SAM's `Cors`: a string (the allowed origin) or an object.
    pub fn from_sam(value: &Value) -> Option<RestCors> {
        match value {
            Value::String(origin) => Some(RestCors {
                allow_origin: unquote(origin),
                ..RestCors::default()
            }),
            Value::Object(object) => Some(RestCors {
                allow_origin: object.get("AllowOrigin").and_then(text).map(|t| unquote(&t))?,
                allow_methods: object.get("AllowMethods").and_then(text).map(|t| unquote(&t)),
                allow_headers: object.get("AllowHeaders").and_then(text).map(|t| unquote(&t)),
                max_age: object.get("MaxAge").and_then(text).map(|t| unquote(&t)),
                allow_credentials: object
                    .get("AllowCredentials")
                    .is_some_and(|v| v == &Value::Bool(true) || v.as_str() == Some("true")),
            }),
            _ => None,
        }
    }

    /// The mock integration's answer to `OPTIONS` on a path with these methods.
    pub fn preflight(&self, path_methods: &[String]) -> Reply {
        let mut reply = Reply::json(200, "");
        let methods = self.allow_methods.clone().unwrap_or_else(|| {
            let mut methods: Vec<String> = if path_methods.iter().any(|m| m == "ANY") {
                ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"]
                    .iter()
                    .map(|m| m.to_string())
                    .collect()
            } else {
                let mut own: Vec<String> = path_methods.to_vec();
                own.push("OPTIONS".to_string());
                own
            };
            methods.sort();
            methods.dedup();
            methods.join(",")
        });
        reply.set_header("Access-Control-Allow-Methods", methods);
        reply.set_header("Access-Control-Allow-Origin", self.allow_origin.clone());
        if let Some(headers) = &self.allow_headers {
            reply.set_header("Access-Control-Allow-Headers", headers.clone());
        }
        if let Some(max_age) = &self.max_age {
            reply.set_header("Access-Control-Max-Age", max_age.clone());
        }
        if self.allow_credentials {
            reply.set_header("Access-Control-Allow-Credentials", "true".to_string());
        }
        reply
    }
}

impl HttpCors {
    /// From SAM's `CorsConfiguration`: `true` (allow every origin, header and method) or an
    /// object.
    pub fn from_sam(value: &Value) -> Option<HttpCors> {
        match value {
            Value::Bool(true) => Some(HttpCors {
                allow_origins: vec!["*".to_string()],
                allow_methods: vec!["*".to_string()],
                allow_headers: vec!["*".to_string()],
                ..HttpCors::default()
            }),
            Value::Object(object) => Some(HttpCors {
                allow_origins: list(object.get("AllowOrigins")),
                allow_methods: list(object.get("AllowMethods")),
                allow_headers: list(object.get("AllowHeaders")),
                expose_headers: list(object.get("ExposeHeaders")),
                max_age: object
                    .get("MaxAge")
                    .and_then(|v| v.as_i64().or_else(|| v.as_str()?.parse().ok())),
                allow_credentials: object
                    .get("AllowCredentials")
                    .is_some_and(|v| v == &Value::Bool(true) || v.as_str() == Some("true")),
            }),
            _ => None,
        }
    }

    fn origin_allowed(&self, origin: &str) -> Option<String> {
        if self.allow_origins.iter().any(|o| o == "*") {
            // With credentials a wildcard cannot be echoed as `*`.
            return Some(if self.allow_credentials {
                origin.to_string()
            } else {
                "*".to_string()
            });
        }
        self.allow_origins
            .iter()
            .any(|o| o.eq_ignore_ascii_case(origin))
            .then(|| origin.to_string())
    }

    /// API Gateway's own answer to a preflight (`OPTIONS` with `Origin` and
    /// `Access-Control-Request-Method`): 204, with CORS headers when the origin is allowed.
    pub fn preflight(&self, origin: &str, request_headers: Option<&str>) -> Reply {
        let mut reply = Reply {
            status: 204,
            headers: Vec::new(),
            body: bytes::Bytes::new(),
        };
        let Some(allowed) = self.origin_allowed(origin) else {
            return reply;
        };
        reply.set_header("Access-Control-Allow-Origin", allowed);
        if !self.allow_methods.is_empty() {
            let methods = if self.allow_methods.iter().any(|m| m == "*") {
                "DELETE,GET,HEAD,OPTIONS,PATCH,POST,PUT".to_string()
            } else {
                self.allow_methods.join(",")
            };
            reply.set_header("Access-Control-Allow-Methods", methods);
        }
        if !self.allow_headers.is_empty() {
            let headers = if self.allow_headers.iter().any(|h| h == "*") {
                request_headers.unwrap_or("*").to_string()
            } else {
                self.allow_headers.join(",")
            };
            reply.set_header("Access-Control-Allow-Headers", headers);
        }
        if let Some(max_age) = self.max_age {
            reply.set_header("Access-Control-Max-Age", max_age.to_string());
        }
        if self.allow_credentials {
            reply.set_header("Access-Control-Allow-Credentials", "true".to_string());
        }
        reply
    }

    /// Puts CORS headers on an actual response (the function's own CORS headers are dropped).
    pub fn apply(&self, origin: Option<&str>, reply: &mut Reply) {
        reply
            .headers
            .retain(|(name, _)| !name.to_ascii_lowercase().starts_with("access-control-"));
        let Some(origin) = origin else { return };
        let Some(allowed) = self.origin_allowed(origin) else {
            return;
        };
        reply.set_header("Access-Control-Allow-Origin", allowed);
        if !self.expose_headers.is_empty() {
            reply.set_header("Access-Control-Expose-Headers", self.expose_headers.join(","));
        }
        if self.allow_credentials {
            reply.set_header("Access-Control-Allow-Credentials", "true".to_string());
        }
        if !self.allow_origins.iter().any(|o| o == "*") || self.allow_credentials {
            reply.headers.push(("Vary".to_string(), "Origin".to_string()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rest_cors_unquotes_sam_values_and_answers_preflight() {
        let cors = RestCors::from_sam(&json!({
            "AllowMethods": "'GET,POST,OPTIONS'",
            "AllowHeaders": "'Content-Type,Authorization'",
            "AllowOrigin": "'https://example.com'",
            "MaxAge": "'600'",
        }))
        .unwrap_or_default();
        let reply = cors.preflight(&["GET".to_string()]);
        assert_eq!(reply.status, 200);
        assert_eq!(reply.header("access-control-allow-origin"), Some("https://example.com"));
        assert_eq!(reply.header("access-control-allow-methods"), Some("GET,POST,OPTIONS"));
        assert_eq!(
            reply.header("access-control-allow-headers"),
            Some("Content-Type,Authorization")
        );
        assert_eq!(reply.header("access-control-max-age"), Some("600"));
        let simple = RestCors::from_sam(&json!("'*'")).unwrap_or_default();
        let reply = simple.preflight(&["POST".to_string(), "GET".to_string()]);
        assert_eq!(reply.header("access-control-allow-methods"), Some("GET,OPTIONS,POST"));
        assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
    }

    #[test]
    fn http_cors_checks_the_origin_and_replaces_function_headers() {
        let cors = HttpCors::from_sam(&json!({
            "AllowOrigins": ["https://app.example.com"],
            "AllowMethods": ["GET", "POST"],
            "AllowHeaders": ["content-type"],
            "ExposeHeaders": ["x-request-id"],
            "MaxAge": 300,
        }))
        .unwrap_or_default();
        let allowed = cors.preflight("https://app.example.com", Some("content-type"));
        assert_eq!(allowed.status, 204);
        assert_eq!(
            allowed.header("access-control-allow-origin"),
            Some("https://app.example.com")
        );
        assert_eq!(allowed.header("access-control-allow-methods"), Some("GET,POST"));
        assert_eq!(allowed.header("access-control-max-age"), Some("300"));
        let refused = cors.preflight("https://evil.example.com", None);
        assert_eq!(refused.status, 204);
        assert_eq!(refused.header("access-control-allow-origin"), None);
        let mut reply = Reply::json(200, "{}");
        reply
            .headers
            .push(("Access-Control-Allow-Origin".to_string(), "*".to_string()));
        cors.apply(Some("https://app.example.com"), &mut reply);
        assert_eq!(
            reply.header("access-control-allow-origin"),
            Some("https://app.example.com")
        );
        assert_eq!(reply.header("access-control-expose-headers"), Some("x-request-id"));
        let mut other = Reply::json(200, "{}");
        cors.apply(Some("https://evil.example.com"), &mut other);
        assert_eq!(other.header("access-control-allow-origin"), None);
    }
}
