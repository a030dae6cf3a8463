//! A complete, stable text rendering of the app model: the golden files of the template corpus
//! are written in it, so a change in what a template resolves to shows up as a diff.

use std::fmt::Write;

use crate::diagnostic::{Diagnostic, Severity};
use crate::model::{ApiKind, App, Code};

/// Paths are shown relative to the template's folder so goldens do not depend on the checkout.
fn relative(app: &App, path: &std::path::Path) -> String {
    let base = app.template.parent().unwrap_or(std::path::Path::new(""));
    match path.strip_prefix(base) {
        Ok(rest) if rest.as_os_str().is_empty() => ".".to_string(),
        Ok(rest) => rest.display().to_string(),
        Err(_) => path.display().to_string(),
    }
}

pub fn render(app: &App) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "stack: {}", app.stack_name);
    for function in app.functions.values() {
        let _ = writeln!(out, "function {}:", function.logical_id);
        let _ = writeln!(out, "  name: {}", function.name);
        let _ = writeln!(out, "  arn: {}", function.arn);
        let _ = writeln!(out, "  runtime: {}", function.runtime.as_deref().unwrap_or("-"));
        let _ = writeln!(out, "  handler: {}", function.handler.as_deref().unwrap_or("-"));
        let code = match &function.code {
            Code::Directory(path) => format!("folder {}", relative(app, path)),
            Code::Inline(source) => format!("inline ({} bytes)", source.len()),
            Code::Remote(location) => format!("remote {location}"),
        };
        let _ = writeln!(out, "  code: {code}");
        let _ = writeln!(
            out,
            "  timeout: {}s, memory: {} MB, architectures: {}",
            function.timeout_seconds,
            function.memory_mb,
            function.architectures.join(",")
        );
        if let Some(reserved) = function.reserved_concurrency {
            let _ = writeln!(out, "  reserved concurrency: {reserved}");
        }
        if function.logging.format != "Text" {
            let logging = &function.logging;
            let _ = writeln!(
                out,
                "  logs: {}, application level {}, system level {}",
                logging.format,
                logging.application_level.as_deref().unwrap_or("-"),
                logging.system_level.as_deref().unwrap_or("-")
            );
        }
        if let Some(group) = &function.logging.group {
            let _ = writeln!(out, "  log group: {group}");
        }
        for (name, value) in &function.environment {
            let _ = writeln!(out, "  env {name}={value}");
        }
        for layer in &function.layers {
            let _ = writeln!(out, "  layer {layer}");
        }
        let _ = writeln!(out, "  role: {}", function.role_arn);
        for policy in &function.policies {
            let document = policy
                .document
                .as_ref()
                .map(|d| d.to_string())
                .unwrap_or_else(|| "(document not known locally)".to_string());
            let arn = policy.arn.as_deref().map(|a| format!(" {a}")).unwrap_or_default();
            let _ = writeln!(out, "  policy {}{arn}: {document}", policy.source);
        }
        for event in &function.events {
            let _ = writeln!(out, "  event {} ({}): {}", event.name, event.kind, event.properties);
        }
    }
    if let Some(frontend) = &app.frontend {
        let _ = writeln!(out, "frontend: folder {}", relative(app, frontend));
    }
    for layer in app.layers.values() {
        let content = match &layer.content {
            Code::Directory(path) => format!("folder {}", relative(app, path)),
            Code::Inline(source) => format!("inline ({} bytes)", source.len()),
            Code::Remote(location) => format!("remote {location}"),
        };
        let _ = writeln!(out, "layer {}: {}, {content}", layer.logical_id, layer.arn);
    }
    for api in app.apis.values() {
        let kind = match api.kind {
            ApiKind::Rest => "REST",
            ApiKind::Http => "HTTP",
        };
        let implicit = if api.implicit { " (implicit)" } else { "" };
        let _ = writeln!(
            out,
            "api {} {kind}{implicit}: id {}, stage {}",
            api.logical_id, api.id, api.stage
        );
    }
    for route in &app.routes {
        let authorizer = route
            .authorizer
            .as_deref()
            .map(|a| format!(", authorizer {a}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "route {} {} {} -> {} (payload {}{authorizer})",
            route.api, route.method, route.path, route.function, route.payload_version
        );
    }
    for table in app.tables.values() {
        let range = table
            .range
            .as_ref()
            .map(|r| format!(", {} {} RANGE", r.name, r.attribute_type))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "table {}: name {}, {} {} HASH{range}, {}",
            table.logical_id, table.name, table.hash.name, table.hash.attribute_type, table.billing_mode
        );
        let _ = writeln!(out, "  arn: {}", table.arn);
        for index in table
            .global_indexes
            .iter()
            .map(|i| ("GSI", i))
            .chain(table.local_indexes.iter().map(|i| ("LSI", i)))
        {
            let (kind, index) = index;
            let range = index
                .range
                .as_ref()
                .map(|r| format!(", {} RANGE", r.name))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  {kind} {}: {} HASH{range}, projection {}",
                index.name, index.hash.name, index.projection
            );
        }
        if let Some(view) = &table.stream_view_type {
            let _ = writeln!(out, "  stream: {view}");
        }
        if let Some(ttl) = &table.ttl_attribute {
            let _ = writeln!(out, "  ttl: {ttl}");
        }
    }
    for unsupported in &app.not_run {
        let _ = writeln!(
            out,
            "not run locally: {} ({})",
            unsupported.logical_id, unsupported.resource_type
        );
    }
    out.push_str(&render_diagnostics(&app.warnings, app));
    out
}

/// Diagnostics with the file name only (not the checkout's path) and line:column.
pub fn render_diagnostics(diagnostics: &[Diagnostic], app: &App) -> String {
    let mut out = String::new();
    for diagnostic in diagnostics {
        let level = match diagnostic.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let file = diagnostic
            .location
            .file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let _ = write!(
            out,
            "{level} {file}:{}:{}: {}",
            diagnostic.location.line, diagnostic.location.column, diagnostic.message
        );
        if let Some(hint) = &diagnostic.hint {
            let _ = write!(out, " [hint: {hint}]");
        }
        out.push('\n');
    }
    let _ = app;
    out
}
