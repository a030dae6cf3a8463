//! `stratus iam report [APP_DIR] [--json]`: what each function of the app did under IAM — the
//! permissions it used, those its role grants and it never used, those it was refused — the
//! least-privilege policy that allows exactly what it did, and grants broader than needed.
//!
//! Usage comes from a running `stratus start` of the app (`GET /_stratus/iam/usage`), or else
//! from what the last one saved in its data folder when it stopped.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use stratus_aws::iam::Iam;
use stratus_iam::report::{FunctionReport, Usage, UsageRecord, function_report};

use crate::cli::ReportArgs;
use crate::{app, discovery_file, template_args};

const USAGE_FILE: &str = "iam-usage.json";

/// Saves what functions did, for a report after the server stopped.
pub fn save_usage(data_dir: &Path, iam: &Iam) {
    let path = data_dir.join(USAGE_FILE);
    let body = json!({"usage": iam.usage.to_json()});
    if let Err(error) = std::fs::write(&path, body.to_string()) {
        eprintln!("stratus: cannot save the IAM usage to {}: {error}", path.display());
    }
}

/// `GET path` on a loopback endpoint, plain HTTP/1.1.
fn http_get(endpoint: &str, path: &str) -> Option<Vec<u8>> {
    let authority = endpoint.trim_start_matches("http://").trim_end_matches('/');
    let address = authority.parse::<std::net::SocketAddr>().ok()?;
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(2)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).ok()?;
    let split = response.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&response[..split]);
    if !head.starts_with("HTTP/1.1 200") {
        return None;
    }
    Some(response[split + 4..].to_vec())
}

/// Where the usage comes from, and the records.
fn usage(app_dir: &Path, data_dir: &Path) -> Result<(String, Vec<UsageRecord>)> {
    if let Ok(text) = std::fs::read_to_string(discovery_file(app_dir))
        && let Ok(server) = serde_json::from_str::<Value>(&text)
        && let Some(endpoint) = server.get("aws_endpoint").and_then(Value::as_str)
        && let Some(body) = http_get(endpoint, "/_stratus/iam/usage")
        && let Ok(value) = serde_json::from_slice::<Value>(&body)
    {
        let mode = value.get("mode").and_then(Value::as_str).unwrap_or("enforce");
        let source = format!("the running Stratus at {endpoint} (--iam {mode})");
        return Ok((source, Usage::records_from_json(&value["usage"])));
    }
    let path = data_dir.join(USAGE_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let value: Value =
                serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
            Ok((
                format!("{} (saved by the last stratus start)", path.display()),
                Usage::records_from_json(&value["usage"]),
            ))
        }
        Err(_) => bail!(
            "no IAM usage yet: start the app with `stratus start {}` (IAM enforce or audit), exercise it, then run the report while it runs or after it stopped",
            app_dir.display()
        ),
    }
}

fn report_json(report: &FunctionReport, logical_id: &str, role: &str) -> Value {
    let records = |records: &[UsageRecord]| -> Vec<Value> {
        records
            .iter()
            .map(|r| json!({"action": r.action, "resource": r.resource, "allowed": r.allowed, "denied": r.denied}))
            .collect()
    };
    json!({
        "function": report.function,
        "logicalId": logical_id,
        "role": role,
        "used": records(&report.used),
        "denied": records(&report.denied),
        "unused": report.unused.iter().map(|(action, policy)| json!({"action": action, "policy": policy})).collect::<Vec<_>>(),
        "overBroad": report.broad,
        "proposedPolicy": report.proposed,
    })
}

pub fn run(args: ReportArgs) -> Result<()> {
    let template_args = template_args(
        &args.app_dir,
        args.template.as_deref(),
        &args.region,
        &args.template_options,
    )?;
    let Some(app) = app::load_app(&template_args)? else {
        bail!(
            "no template.yaml, template.yml or template.json in {} (use --template FILE)",
            args.app_dir.display()
        );
    };
    let data_dir: PathBuf = args.data_dir.clone().unwrap_or_else(|| args.app_dir.join(".stratus"));
    let (source, records) = usage(&args.app_dir, &data_dir)?;
    let (policies, notes) = app::function_policies(&app);
    let mut reports = Vec::new();
    for function in app.functions.values() {
        let granted = policies.get(&function.name).cloned().unwrap_or_default();
        let report = function_report(&function.name, &granted, &records);
        reports.push(report_json(&report, &function.logical_id, &function.role_arn));
    }
    if args.json {
        let out = json!({"source": source, "functions": reports, "notes": notes});
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
        return Ok(());
    }
    let mut out = String::new();
    out.push_str(&format!("IAM report for {}\n", app.template.display()));
    out.push_str(&format!("Usage from {source}\n"));
    for note in &notes {
        out.push_str(&format!("Note: {note}\n"));
    }
    for report in &reports {
        out.push_str(&format!(
            "\n{} ({})  role {}\n",
            report["logicalId"].as_str().unwrap_or(""),
            report["function"].as_str().unwrap_or(""),
            report["role"].as_str().unwrap_or("")
        ));
        let list = |title: &str, items: &Value, out: &mut String, line: &dyn Fn(&Value) -> String| {
            let items = items.as_array().cloned().unwrap_or_default();
            if items.is_empty() {
                out.push_str(&format!("  {title}: none\n"));
                return;
            }
            out.push_str(&format!("  {title}:\n"));
            for item in &items {
                out.push_str(&format!("    {}\n", line(item)));
            }
        };
        let field = |item: &Value, name: &str| item[name].as_str().unwrap_or("").to_string();
        list("Used", &report["used"], &mut out, &|r| {
            format!(
                "{} on {}  ({} allowed)",
                field(r, "action"),
                field(r, "resource"),
                r["allowed"]
            )
        });
        list("Denied", &report["denied"], &mut out, &|r| {
            format!(
                "{} on {}  ({} denied)",
                field(r, "action"),
                field(r, "resource"),
                r["denied"]
            )
        });
        list("Granted but unused", &report["unused"], &mut out, &|r| {
            format!("{}  (from {})", field(r, "action"), field(r, "policy"))
        });
        list("Over-broad grants", &report["overBroad"], &mut out, &|r| {
            r.as_str().unwrap_or("").to_string()
        });
        if report["used"].as_array().is_some_and(|u| !u.is_empty())
            || report["denied"].as_array().is_some_and(|d| !d.is_empty())
        {
            out.push_str("  Least-privilege policy (allows exactly what ran, including what was denied):\n");
            let text = serde_json::to_string_pretty(&report["proposedPolicy"]).unwrap_or_default();
            for line in text.lines() {
                out.push_str(&format!("    {line}\n"));
            }
        }
    }
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    Ok(())
}
