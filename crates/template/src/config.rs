//! The SAM CLI's configuration files: `samconfig.toml` parameter overrides and stack name, and
//! `--env-vars` env.json environment overrides.

use std::collections::BTreeMap;
use std::path::Path;

use crate::diagnostic::Diagnostic;
use crate::node::Location;

/// What samconfig.toml says for one command.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SamConfig {
    pub stack_name: Option<String>,
    /// `None` when no section gives `parameter_overrides`.
    pub parameter_overrides: Option<BTreeMap<String, String>>,
}

/// Reads `[<env>.<command>.parameters]` over `[<env>.global.parameters]` from
/// `APP_DIR/samconfig.toml`, as SAM CLI does: per option, the command's section wins; an option
/// is taken whole from one section (parameter overrides are not merged key by key).
pub fn read_samconfig(app_dir: &Path, config_env: &str, command: &str) -> Result<SamConfig, Diagnostic> {
    let path = app_dir.join("samconfig.toml");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(SamConfig::default());
    };
    let table: toml::Table = text.parse().map_err(|error: toml::de::Error| {
        let line = error
            .span()
            .map(|span| text[..span.start.min(text.len())].lines().count().max(1))
            .unwrap_or(0);
        Diagnostic::error(
            &Location {
                line,
                column: 1,
                ..Location::unknown(&path)
            },
            format!("invalid samconfig.toml: {}", error.message()),
        )
    })?;
    let section = |name: &str| -> Option<&toml::Table> {
        table
            .get(config_env)?
            .as_table()?
            .get(name)?
            .as_table()?
            .get("parameters")?
            .as_table()
    };
    let option = |key: &str| -> Option<&toml::Value> {
        section(command)
            .and_then(|s| s.get(key))
            .or_else(|| section("global").and_then(|s| s.get(key)))
    };
    let stack_name = option("stack_name").and_then(|v| v.as_str()).map(str::to_string);
    let parameter_overrides = match option("parameter_overrides") {
        Some(toml::Value::String(text)) => Some(parse_overrides_text(text)),
        Some(toml::Value::Array(items)) => {
            let mut overrides = BTreeMap::new();
            for item in items.iter().filter_map(|i| i.as_str()) {
                if let Some((name, value)) = split_override(item) {
                    overrides.insert(name, value);
                }
            }
            Some(overrides)
        }
        Some(_) => {
            return Err(Diagnostic::error(
                &Location::unknown(&path),
                "samconfig.toml: parameter_overrides must be a string or a list of strings",
            ));
        }
        None => None,
    };
    Ok(SamConfig {
        stack_name,
        parameter_overrides,
    })
}

/// `Name=Value` or CloudFormation's `ParameterKey=Name,ParameterValue=Value`.
pub fn split_override(item: &str) -> Option<(String, String)> {
    if let Some(rest) = item.strip_prefix("ParameterKey=") {
        let (name, value) = rest.split_once(",ParameterValue=")?;
        return Some((name.to_string(), value.to_string()));
    }
    let (name, value) = item.split_once('=')?;
    Some((name.trim().to_string(), value.to_string()))
}

/// Splits `A=1 B="two words" C=x` on spaces outside double quotes, removing the quotes.
pub fn parse_overrides_text(text: &str) -> BTreeMap<String, String> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut escaped = false;
    for c in text.chars() {
        match c {
            _ if escaped => {
                current.push(c);
                escaped = false;
            }
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ' ' | '\t' | '\n' if !quoted => {
                if !current.is_empty() {
                    tokens.push(std::mem::take(&mut current));
                }
            }
            _ => current.push(c),
        }
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    tokens.iter().filter_map(|t| split_override(t)).collect()
}

/// `--env-vars` in SAM CLI's shape: `{"Parameters": {...}, "<LogicalId>": {...}}`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EnvVars {
    /// For every function.
    pub all: BTreeMap<String, String>,
    /// Per function logical id; beats `all`.
    pub functions: BTreeMap<String, BTreeMap<String, String>>,
}

impl EnvVars {
    pub fn read(path: &Path) -> Result<EnvVars, Diagnostic> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Diagnostic::error(&Location::unknown(path), format!("cannot read the env-vars file: {e}")))?;
        let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
            Diagnostic::error(
                &Location {
                    line: e.line(),
                    column: e.column(),
                    ..Location::unknown(path)
                },
                format!("invalid env-vars JSON: {e}"),
            )
        })?;
        let Some(object) = value.as_object() else {
            return Err(Diagnostic::error(
                &Location::unknown(path),
                "the env-vars file must be a JSON object: {\"Parameters\": {...}, \"FunctionLogicalId\": {...}}",
            ));
        };
        let mut env = EnvVars::default();
        for (section, variables) in object {
            let Some(variables) = variables.as_object() else {
                continue;
            };
            let values: BTreeMap<String, String> = variables
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        match v {
                            serde_json::Value::String(s) => s.clone(),
                            other => other.to_string(),
                        },
                    )
                })
                .collect();
            if section == "Parameters" {
                env.all = values;
            } else {
                env.functions.insert(section.clone(), values);
            }
        }
        Ok(env)
    }

    /// Applies the overrides to a function's environment: only variables the template declares.
    pub fn apply(&self, function: &str, environment: &mut BTreeMap<String, String>) {
        for (name, value) in environment.iter_mut() {
            if let Some(own) = self.functions.get(function).and_then(|f| f.get(name)) {
                *value = own.clone();
            } else if let Some(shared) = self.all.get(name) {
                *value = shared.clone();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn override_strings_split_like_sam_cli() {
        let parsed = parse_overrides_text(
            r#"Stage="prod" TableName=inventory Greeting="welcome to prod" ParameterKey=X,ParameterValue=a,b"#,
        );
        let expected: BTreeMap<String, String> = [
            ("Stage", "prod"),
            ("TableName", "inventory"),
            ("Greeting", "welcome to prod"),
            ("X", "a,b"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(parsed, expected);
    }

    #[test]
    fn env_vars_override_only_declared_variables() {
        let env = EnvVars {
            all: [
                ("A".to_string(), "all".to_string()),
                ("NEW".to_string(), "x".to_string()),
            ]
            .into_iter()
            .collect(),
            functions: [(
                "F".to_string(),
                [("B".to_string(), "own".to_string())].into_iter().collect(),
            )]
            .into_iter()
            .collect(),
        };
        let mut environment: BTreeMap<String, String> =
            [("A".to_string(), "1".to_string()), ("B".to_string(), "2".to_string())]
                .into_iter()
                .collect();
        env.apply("F", &mut environment);
        assert_eq!(environment.get("A").map(String::as_str), Some("all"));
        assert_eq!(environment.get("B").map(String::as_str), Some("own"));
        assert!(!environment.contains_key("NEW"));
    }
}
