//! The IAM policy language: documents parsed into statements (Effect, Action/NotAction,
//! Resource/NotResource, Condition), with the element rules of the IAM User Guide's grammar.

use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// `Action` / `NotAction` (or the resource pair).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Matcher {
    /// Matches when any pattern matches.
    Any(Vec<String>),
    /// Matches when no pattern matches (`NotAction`, `NotResource`).
    Not(Vec<String>),
}

/// `ForAllValues:` / `ForAnyValue:` on a multivalued key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetQualifier {
    None,
    ForAllValues,
    ForAnyValue,
}

/// One key of one condition operator: `"StringEquals": {"aws:SourceIp": [...]}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Condition {
    /// The operator without `IfExists` and the set qualifier (`StringLike`).
    pub operator: String,
    pub if_exists: bool,
    pub qualifier: SetQualifier,
    /// The context key, lower-cased (keys are case-insensitive).
    pub key: String,
    pub values: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    pub action: Matcher,
    pub resource: Matcher,
    pub conditions: Vec<Condition>,
}

/// A policy document with where it came from (for denial messages and the report).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub source: String,
    pub statements: Vec<Statement>,
}

fn strings(value: &Value, element: &str) -> Result<Vec<String>, String> {
    match value {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.clone()),
                other => Err(format!("{element} must hold strings, not {other}")),
            })
            .collect(),
        other => Err(format!("{element} must be a string or a list of strings, not {other}")),
    }
}

/// Condition values: strings, numbers and booleans all compare as text.
fn condition_values(value: &Value) -> Result<Vec<String>, String> {
    let one = |v: &Value| match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(format!(
            "a condition value must be a string, number or boolean, not {other}"
        )),
    };
    match value {
        Value::Array(items) => items.iter().map(one).collect(),
        other => Ok(vec![one(other)?]),
    }
}

fn matcher(statement: &serde_json::Map<String, Value>, positive: &str, negative: &str) -> Result<Matcher, String> {
    match (statement.get(positive), statement.get(negative)) {
        (Some(value), None) => Ok(Matcher::Any(strings(value, positive)?)),
        (None, Some(value)) => Ok(Matcher::Not(strings(value, negative)?)),
        (Some(_), Some(_)) => Err(format!("a statement cannot have both {positive} and {negative}")),
        (None, None) => Err(format!("a statement needs {positive} or {negative}")),
    }
}

impl Policy {
    /// Parses a policy document (JSON) from `source` (its name in messages).
    pub fn parse(source: &str, document: &Value) -> Result<Policy, String> {
        let statements = match document.get("Statement") {
            Some(Value::Array(items)) => items.clone(),
            Some(object @ Value::Object(_)) => vec![object.clone()],
            Some(_) => return Err(format!("{source}: Statement must be an object or a list")),
            None => return Err(format!("{source}: the policy has no Statement")),
        };
        let mut parsed = Vec::with_capacity(statements.len());
        for statement in &statements {
            let Value::Object(statement) = statement else {
                return Err(format!("{source}: each Statement must be an object"));
            };
            let effect = match statement.get("Effect").and_then(Value::as_str) {
                Some("Allow") => Effect::Allow,
                Some("Deny") => Effect::Deny,
                other => return Err(format!("{source}: Effect must be Allow or Deny, not {other:?}")),
            };
            let action = matcher(statement, "Action", "NotAction").map_err(|e| format!("{source}: {e}"))?;
            let resource = matcher(statement, "Resource", "NotResource").map_err(|e| format!("{source}: {e}"))?;
            let mut conditions = Vec::new();
            if let Some(block) = statement.get("Condition") {
                let Value::Object(operators) = block else {
                    return Err(format!("{source}: Condition must be an object"));
                };
                for (operator, keys) in operators {
                    let Value::Object(keys) = keys else {
                        return Err(format!("{source}: condition {operator} must map keys to values"));
                    };
                    let (qualifier, rest) = if let Some(rest) = operator.strip_prefix("ForAllValues:") {
                        (SetQualifier::ForAllValues, rest)
                    } else if let Some(rest) = operator.strip_prefix("ForAnyValue:") {
                        (SetQualifier::ForAnyValue, rest)
                    } else {
                        (SetQualifier::None, operator.as_str())
                    };
                    let (base, if_exists) = match rest.strip_suffix("IfExists") {
                        Some(base) => (base, true),
                        None => (rest, false),
                    };
                    if !crate::evaluate::is_known_operator(base) {
                        return Err(format!("{source}: unknown condition operator {operator}"));
                    }
                    for (key, values) in keys {
                        conditions.push(Condition {
                            operator: base.to_string(),
                            if_exists,
                            qualifier,
                            key: key.to_ascii_lowercase(),
                            values: condition_values(values).map_err(|e| format!("{source}: {e}"))?,
                        });
                    }
                }
            }
            parsed.push(Statement {
                sid: statement.get("Sid").and_then(Value::as_str).map(str::to_string),
                effect,
                action,
                resource,
                conditions,
            });
        }
        Ok(Policy {
            source: source.to_string(),
            statements: parsed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn documents_parse_with_single_and_list_forms() {
        let policy = Policy::parse(
            "inline",
            &json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "dynamodb:GetItem",
                "Resource": ["arn:aws:dynamodb:*:*:table/a"],
                "Condition": {"ForAllValues:StringEqualsIfExists": {"dynamodb:Attributes": ["id", "name"]}, "Bool": {"aws:SecureTransport": false}}}}),
        );
        let policy = policy.unwrap_or_else(|e| panic!("{e}"));
        let statement = &policy.statements[0];
        assert_eq!(statement.action, Matcher::Any(vec!["dynamodb:GetItem".into()]));
        assert_eq!(statement.conditions.len(), 2);
        let attributes = statement.conditions.iter().find(|c| c.key == "dynamodb:attributes");
        assert!(
            attributes.is_some_and(|c| c.if_exists
                && c.qualifier == SetQualifier::ForAllValues
                && c.operator == "StringEquals")
        );
        assert!(
            statement
                .conditions
                .iter()
                .any(|c| c.values == vec!["false".to_string()])
        );
    }

    #[test]
    fn malformed_documents_are_refused() {
        for document in [
            json!({}),
            json!({"Statement": [{"Effect": "Maybe", "Action": "*", "Resource": "*"}]}),
            json!({"Statement": [{"Effect": "Allow", "Action": "*", "NotAction": "x", "Resource": "*"}]}),
            json!({"Statement": [{"Effect": "Allow", "Resource": "*"}]}),
            json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"StringSorta": {"a": "b"}}}]}),
        ] {
            assert!(Policy::parse("bad", &document).is_err(), "{document}");
        }
    }
}
