//! `stratus validate`: load the template, print what it declares and every problem found.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Result, bail};
use stratus_template::model::{ApiKind, Code};
use stratus_template::{LoadOptions, find_template, load};

use crate::ACCOUNT_ID;
use crate::cli::ValidateArgs;

/// Splits `NAME=VALUE` overrides.
pub fn parse_overrides(pairs: &[String]) -> Result<BTreeMap<String, String>> {
    let mut overrides = BTreeMap::new();
    for pair in pairs {
        let Some((name, value)) = pair.split_once('=') else {
            bail!("--parameter-overrides takes NAME=VALUE pairs; got '{pair}'");
        };
        overrides.insert(name.trim().to_string(), value.to_string());
    }
    Ok(overrides)
}

pub fn run(args: ValidateArgs) -> Result<bool> {
    let template: PathBuf = match args.template.clone().or_else(|| find_template(&args.app_dir)) {
        Some(path) => path,
        None => bail!(
            "no template.yaml, template.yml or template.json in {} (use --template FILE)",
            args.app_dir.display()
        ),
    };
    let options = LoadOptions {
        region: args.region.clone(),
        account: ACCOUNT_ID.to_string(),
        stack_name: args.stack_name.clone(),
        parameter_overrides: parse_overrides(&args.parameter_overrides)?,
        config_env: args.config_env.clone(),
        env_vars: args.env_vars.clone(),
        ..LoadOptions::default()
    };
    let app = match load(&template, &options) {
        Ok(app) => app,
        Err(diagnostics) => {
            for diagnostic in &diagnostics {
                eprintln!("{diagnostic}");
            }
            let errors = diagnostics
                .iter()
                .filter(|d| d.severity == stratus_template::Severity::Error)
                .count();
            eprintln!("{} is not valid: {errors} error(s)", template.display());
            return Ok(false);
        }
    };
    println!("Template {} (stack {})", template.display(), app.stack_name);
    println!("Functions ({}):", app.functions.len());
    for function in app.functions.values() {
        let code = match &function.code {
            Code::Directory(path) => path.display().to_string(),
            Code::Inline(_) => "inline code".to_string(),
            Code::Remote(location) => format!("remote: {location}"),
        };
        println!(
            "  {:<24} {:<16} {:<24} {}  timeout {}s, memory {} MB",
            function.logical_id,
            function.runtime.as_deref().unwrap_or("-"),
            function.handler.as_deref().unwrap_or("-"),
            code,
            function.timeout_seconds,
            function.memory_mb
        );
    }
    println!("Routes ({}):", app.routes.len());
    for route in &app.routes {
        let api = app.apis.get(&route.api);
        let kind = match api.map(|a| a.kind) {
            Some(ApiKind::Http) => "HTTP API",
            _ => "REST API",
        };
        println!(
            "  {:<7} {:<32} → {:<24} ({kind} {}, payload {})",
            route.method, route.path, route.function, route.api, route.payload_version
        );
    }
    println!("Tables ({}):", app.tables.len());
    for table in app.tables.values() {
        let range = table
            .range
            .as_ref()
            .map(|r| format!(", {} {} RANGE", r.name, r.attribute_type))
            .unwrap_or_default();
        println!(
            "  {:<24} name {} — {} {} HASH{range}; {} GSI, {} LSI",
            table.logical_id,
            table.name,
            table.hash.name,
            table.hash.attribute_type,
            table.global_indexes.len(),
            table.local_indexes.len()
        );
    }
    println!("Permissions:");
    for function in app.functions.values() {
        let policies: Vec<String> = function.policies.iter().map(|p| p.source.clone()).collect();
        println!(
            "  {:<24} role {}; policies: {}",
            function.logical_id,
            function.role_arn,
            if policies.is_empty() {
                "none".to_string()
            } else {
                policies.join(", ")
            }
        );
    }
    if !app.not_run.is_empty() {
        println!(
            "Not run locally: {}",
            app.not_run
                .iter()
                .map(|u| format!("{} ({})", u.logical_id, u.resource_type))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    for warning in &app.warnings {
        eprintln!("{warning}");
    }
    println!("{} is valid ({} warning(s))", template.display(), app.warnings.len());
    Ok(true)
}
