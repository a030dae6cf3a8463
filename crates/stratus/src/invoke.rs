//! `stratus invoke FUNCTION`: one invocation, like `sam local invoke`. Through a running
//! `stratus start` of the same app when there is one (same tables, warm instances), otherwise
//! standalone: the app's store, an AWS endpoint on a free port for the function's SDK calls, and
//! the function, stopped again when the result is in.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use stratus_aws::AwsEndpoint;
use stratus_dynamodb::Engine;
use stratus_dynamodb::engine::SystemClock;
use stratus_lambda::{Call, InvocationType, Invoked, Lambda};
use stratus_template::model::App;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::cli::InvokeArgs;
use crate::{
    ACCOUNT_ID, app, build_iam, credentials, discovery_file, lambda_options, open_store, template_args, terminal_sink,
};

pub fn run(args: InvokeArgs) -> Result<bool> {
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
    let function = find_function(&app, &args.function)?;
    let event = read_event(args.event.as_deref())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        if let Some(endpoint) = running_server(&args.app_dir, &app).await {
            return through_server(&endpoint, &function, event).await;
        }
        standalone(&args, &app, &function, event).await
    })
}

/// The function's physical name, from its logical id or name.
fn find_function(app: &App, wanted: &str) -> Result<String> {
    if let Some(function) = app.functions.get(wanted) {
        return Ok(function.name.clone());
    }
    if let Some(function) = app.functions.values().find(|f| f.name == wanted) {
        return Ok(function.name.clone());
    }
    let known: Vec<&str> = app.functions.keys().map(String::as_str).collect();
    bail!(
        "{} has no function {wanted} (functions: {})",
        app.template.display(),
        if known.is_empty() {
            "none".to_string()
        } else {
            known.join(", ")
        }
    )
}

fn read_event(event: Option<&str>) -> Result<Bytes> {
    let (text, source) = match event {
        None => return Ok(Bytes::from_static(b"{}")),
        Some("-") => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("cannot read the event from standard input")?;
            (text, "standard input".to_string())
        }
        Some(path) => (
            std::fs::read_to_string(path).with_context(|| format!("cannot read the event file {path}"))?,
            path.to_string(),
        ),
    };
    if let Err(error) = serde_json::from_str::<serde::de::IgnoredAny>(&text) {
        bail!(
            "the event in {source} is not JSON: {error} (line {}, column {})",
            error.line(),
            error.column()
        );
    }
    Ok(Bytes::from(text))
}

/// The AWS endpoint of a `stratus start` serving this app's template, if one is up.
async fn running_server(app_dir: &Path, app: &App) -> Option<String> {
    let text = std::fs::read_to_string(discovery_file(app_dir)).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    let pid = json.get("pid")?.as_u64()?;
    if !Path::new(&format!("/proc/{pid}")).exists() {
        return None;
    }
    let template = app.template.canonicalize().unwrap_or_else(|_| app.template.clone());
    if json.get("template")?.as_str()? != template.display().to_string() {
        return None;
    }
    let endpoint = json.get("aws_endpoint")?.as_str()?.to_string();
    let (status, _, _) = request(&endpoint, hyper::Method::GET, "/_stratus/health", &[], Bytes::new())
        .await
        .ok()?;
    (status == 200).then_some(endpoint)
}

/// A plain HTTP/1.1 request on a fresh connection.
async fn request(
    endpoint: &str,
    method: hyper::Method,
    path: &str,
    headers: &[(&str, String)],
    body: Bytes,
) -> Result<(u16, hyper::HeaderMap, Bytes)> {
    let authority = endpoint.trim_start_matches("http://").trim_end_matches('/').to_string();
    let stream = tokio::net::TcpStream::connect(&authority)
        .await
        .with_context(|| format!("cannot connect to {endpoint}"))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
        .await
        .context("HTTP handshake failed")?;
    tokio::spawn(connection);
    let mut builder = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("host", authority.as_str());
    for (name, value) in headers {
        builder = builder.header(*name, value.as_str());
    }
    let request = builder.body(Full::new(body)).context("cannot build the request")?;
    let response = sender.send_request(request).await.context("the request failed")?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .context("cannot read the response")?
        .to_bytes();
    Ok((status, headers, body))
}

async fn through_server(endpoint: &str, function: &str, event: Bytes) -> Result<bool> {
    eprintln!("stratus: invoking {function} through the running Stratus at {endpoint}");
    let path = format!("/2015-03-31/functions/{function}/invocations");
    let authority = endpoint.trim_start_matches("http://").trim_end_matches('/');
    let amz_date = stratus_iam::sigv4::format_amz_date(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0),
    );
    let mut headers = vec![
        ("content-type".to_string(), "application/json".to_string()),
        ("host".to_string(), authority.to_string()),
        ("x-amz-date".to_string(), amz_date.clone()),
        ("x-amz-log-type".to_string(), "Tail".to_string()),
    ];
    // Signed with the administrator key, as the AWS CLI would sign it.
    let authorization = stratus_iam::sigv4::authorization_header(
        &stratus_iam::sigv4::RequestParts {
            method: "POST",
            path: &path,
            query: None,
            headers: &headers
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_str()))
                .collect::<Vec<_>>(),
            body: &event,
        },
        credentials::ADMIN_ACCESS_KEY_ID,
        &stratus_iam::Secret::new(credentials::ADMIN_SECRET_ACCESS_KEY),
        "us-east-1",
        "lambda",
        &amz_date,
    );
    headers.push(("authorization".to_string(), authorization));
    let headers: Vec<(&str, String)> = headers
        .iter()
        .filter(|(name, _)| name != "host")
        .map(|(name, value)| (name.as_str(), value.clone()))
        .collect();
    let (status, headers, body) = request(endpoint, hyper::Method::POST, &path, &headers, event).await?;
    if status != 200 {
        bail!("the Invoke API answered {status}: {}", String::from_utf8_lossy(&body));
    }
    let request_id = headers
        .get("x-amzn-requestid")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let log = match request(
        endpoint,
        hyper::Method::GET,
        &format!("/_stratus/logs?request_id={request_id}"),
        &[],
        Bytes::new(),
    )
    .await
    {
        Ok((200, _, log)) if !log.is_empty() => String::from_utf8_lossy(&log).into_owned(),
        _ => headers
            .get("x-amz-log-result")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v).ok())
            .map(|v| String::from_utf8_lossy(&v).into_owned())
            .unwrap_or_default(),
    };
    let _ = std::io::stderr().write_all(log.as_bytes());
    print_result(&body);
    Ok(!headers.contains_key("x-amz-function-error"))
}

fn print_result(payload: &[u8]) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(payload);
    let _ = stdout.write_all(b"\n");
    let _ = stdout.flush();
}

async fn standalone(args: &InvokeArgs, app: &App, function: &str, event: Bytes) -> Result<bool> {
    let data_dir = args.data_dir.clone().unwrap_or_else(|| args.app_dir.join(".stratus"));
    let store = open_store(false, &data_dir)?;
    let engine = Arc::new(
        Engine::open(Arc::clone(&store), Arc::new(SystemClock), &args.region, ACCOUNT_ID)
            .map_err(|e| anyhow::anyhow!("cannot load the DynamoDB catalog: {e}"))?,
    );
    crate::apply_engine_environment(&engine);
    stratus_aws::start_background(&engine, stratus_aws::BackgroundOptions::default());
    for note in app::create_tables(app, &engine).await? {
        eprintln!("stratus: note: {note}");
    }
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .await
        .context("cannot listen on a loopback port")?;
    let bound = listener.local_addr().context("no local address")?;
    let cache = app::cache_dir();
    let (functions, warnings) = app::function_configs(app, &cache);
    for warning in warnings {
        eprintln!("stratus: warning: {warning}");
    }
    let (iam, issuer, iam_notes) = build_iam(Some(app), args.iam, &args.region, crate::cli::LogFormat::Text);
    for note in iam_notes {
        eprintln!("stratus: note: {note}");
    }
    let options = lambda_options(
        &args.region,
        format!("http://{bound}"),
        &args.function_options,
        issuer,
        terminal_sink(true),
    );
    let lambda = Lambda::start(options, functions)
        .with_context(|| format!("cannot prepare the runtime files in {}", cache.display()))?;
    let endpoint = Arc::new(AwsEndpoint::new(Arc::clone(&engine), Arc::clone(&lambda), iam));
    let (stop, stopping) = watch::channel(false);
    let server = tokio::spawn(stratus_aws::serve(listener, endpoint, stopping));
    let call = Call {
        payload: event,
        ..Call::default()
    };
    let result = lambda
        .invoke(function, None, InvocationType::RequestResponse, call)
        .await;
    lambda.shutdown().await;
    let _ = stop.send(true);
    let _ = server.await;
    drop(engine);
    drop(store);
    match result {
        Ok(Invoked::Completed(completed)) => {
            print_result(&completed.payload);
            Ok(completed.function_error.is_none())
        }
        Ok(_) => Ok(true),
        Err(error) => bail!("{error}"),
    }
}
