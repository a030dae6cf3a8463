//! Template parameters: overrides (command line, samconfig.toml, env.json) over defaults, with
//! CloudFormation's type and constraint checks.

use std::collections::BTreeMap;

use crate::diagnostic::Diagnostic;
use crate::node::{Location, Node, Value};

/// Resolves every declared parameter to a value node (a string, or a list for list types).
pub fn resolve(
    declared: Option<&Node>,
    overrides: &BTreeMap<String, String>,
    diagnostics: &mut Vec<Diagnostic>,
) -> BTreeMap<String, Node> {
    let mut values = BTreeMap::new();
    let Some(declared) = declared else { return values };
    let Some(entries) = declared.as_map() else {
        diagnostics.push(Diagnostic::error(
            &declared.location,
            "Parameters must be a map of parameter names to definitions",
        ));
        return values;
    };
    for (name, definition) in entries {
        let kind = definition.get("Type").and_then(Node::as_str).unwrap_or("String");
        if kind.starts_with("AWS::SSM::Parameter::") {
            // The value is the name of an SSM parameter, which only AWS can read.
            let key = overrides
                .get(name)
                .cloned()
                .or_else(|| definition.get("Default").and_then(text_of));
            let Some(key) = key else {
                diagnostics.push(
                    Diagnostic::error(
                        &definition.location,
                        format!("parameter '{name}' has no Default and no value was given"),
                    )
                    .with_hint(format!(
                        "pass one: --parameter-overrides {name}=VALUE (or in samconfig.toml parameter_overrides)"
                    )),
                );
                values.insert(
                    name.clone(),
                    Node::new(Value::String(String::new()), definition.location.clone()),
                );
                continue;
            };
            diagnostics.push(
                Diagnostic::warning(&definition.location, format!("parameter '{name}' names the SSM parameter {key}, which cannot be read locally; its value is left unresolved"))
                    .with_hint("for local runs use a String parameter with the value itself, or override the environment variable with --env-vars"),
            );
            values.insert(
                name.clone(),
                Node::new(
                    Value::String(format!("<unresolved SSM parameter {key}>")),
                    definition.location.clone(),
                ),
            );
            continue;
        }
        match resolve_one(name, definition, overrides.get(name)) {
            Ok(value) => {
                values.insert(name.clone(), value);
            }
            Err(error) => {
                diagnostics.push(error);
                // A placeholder keeps every Ref to it from reporting a second, misleading error.
                values.insert(
                    name.clone(),
                    Node::new(Value::String(String::new()), definition.location.clone()),
                );
            }
        }
    }
    for name in overrides.keys() {
        if !entries.iter().any(|(declared, _)| declared == name) {
            diagnostics.push(
                Diagnostic::warning(
                    &declared.location,
                    format!("parameter override '{name}' matches no parameter of the template"),
                )
                .with_hint("check the spelling against the Parameters section"),
            );
        }
    }
    values
}

fn text_of(node: &Node) -> Option<String> {
    match &node.value {
        Value::String(s) | Value::Number(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::List(items) => Some(items.iter().filter_map(text_of).collect::<Vec<_>>().join(",")),
        _ => None,
    }
}

fn resolve_one(name: &str, definition: &Node, override_value: Option<&String>) -> Result<Node, Diagnostic> {
    let location = &definition.location;
    let kind = definition
        .get("Type")
        .and_then(Node::as_str)
        .unwrap_or("String")
        .to_string();
    let (text, source) = match (override_value, definition.get("Default")) {
        (Some(value), _) => (value.clone(), "the override"),
        (None, Some(default)) => match text_of(default) {
            Some(text) => (text, "the Default"),
            None => {
                return Err(Diagnostic::error(
                    &default.location,
                    format!("parameter '{name}': Default must be a plain value"),
                ));
            }
        },
        (None, None) => {
            return Err(Diagnostic::error(
                location,
                format!("parameter '{name}' has no Default and no value was given"),
            )
            .with_hint(format!(
                "pass one: stratus start --parameter-overrides {name}=VALUE (or in samconfig.toml parameter_overrides)"
            )));
        }
    };
    if kind.starts_with("AWS::SSM::Parameter::Value<") && override_value.is_none() {
        return Err(Diagnostic::error(
            location,
            format!("parameter '{name}' reads the SSM Parameter Store, which is not available locally"),
        )
        .with_hint(format!("pass its value: --parameter-overrides {name}=VALUE")));
    }
    let is_list = kind == "CommaDelimitedList" || kind.starts_with("List<");
    let parts: Vec<String> = if is_list {
        text.split(',').map(|p| p.trim().to_string()).collect()
    } else {
        vec![text.clone()]
    };
    let numeric = kind == "Number" || kind == "List<Number>";
    for part in &parts {
        if numeric && part.parse::<f64>().is_err() {
            return Err(Diagnostic::error(
                location,
                format!("parameter '{name}' is of type {kind}, but {source} '{part}' is not a number"),
            ));
        }
        check_constraints(name, definition, part, source)?;
    }
    let value = if is_list {
        Value::List(
            parts
                .into_iter()
                .map(|p| Node::new(Value::String(p), location.clone()))
                .collect(),
        )
    } else {
        Value::String(text)
    };
    Ok(Node::new(value, location.clone()))
}

fn number(node: Option<&Node>) -> Option<f64> {
    node.and_then(Node::as_str).and_then(|s| s.parse().ok())
}

fn check_constraints(name: &str, definition: &Node, value: &str, source: &str) -> Result<(), Diagnostic> {
    let location: &Location = &definition.location;
    let fail = |what: String| -> Result<(), Diagnostic> {
        let mut error = Diagnostic::error(location, format!("parameter '{name}': {source} '{value}' {what}"));
        if let Some(description) = definition.get("ConstraintDescription").and_then(Node::as_str) {
            error = error.with_hint(description.to_string());
        }
        Err(error)
    };
    if let Some(allowed) = definition.get("AllowedValues").and_then(Node::as_list) {
        let allowed: Vec<String> = allowed.iter().filter_map(text_of).collect();
        if !allowed.iter().any(|a| a == value) {
            return fail(format!("is not one of the AllowedValues [{}]", allowed.join(", ")));
        }
    }
    if let Some(pattern) = definition.get("AllowedPattern").and_then(Node::as_str) {
        match regex_lite::Regex::new(&format!("^(?:{pattern})$")) {
            Ok(regex) if !regex.is_match(value) => return fail(format!("does not match the AllowedPattern {pattern}")),
            Ok(_) => {}
            Err(_) => {
                return Err(Diagnostic::error(
                    location,
                    format!("parameter '{name}': AllowedPattern {pattern} is not a valid pattern"),
                ));
            }
        }
    }
    let length = value.chars().count() as f64;
    if let Some(min) = number(definition.get("MinLength"))
        && length < min
    {
        return fail(format!("is shorter than MinLength {min}"));
    }
    if let Some(max) = number(definition.get("MaxLength"))
        && length > max
    {
        return fail(format!("is longer than MaxLength {max}"));
    }
    if let Ok(numeric) = value.parse::<f64>() {
        if let Some(min) = number(definition.get("MinValue"))
            && numeric < min
        {
            return fail(format!("is below MinValue {min}"));
        }
        if let Some(max) = number(definition.get("MaxValue"))
            && numeric > max
        {
            return fail(format!("is above MaxValue {max}"));
        }
    }
    Ok(())
}
