//! Event sources that invoke functions: DynamoDB stream triggers (a function's `DynamoDB` event
//! or an `AWS::Lambda::EventSourceMapping`) and schedules (`Schedule` / `ScheduleV2` events).
//!
//! Both go through [`Lambda::invoke`], the same way the Invoke API does. A stream trigger polls
//! its table's stream, filters records (FilterCriteria), batches them (BatchSize,
//! MaximumBatchingWindowInSeconds), invokes synchronously, retries failed batches (optionally
//! bisecting them), honours ReportBatchItemFailures, and records its position in the store so it
//! resumes after a restart. A schedule invokes asynchronously at each fire time, or when fired by
//! hand (`POST /_stratus/schedules/{function}/{event}`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde_json::{Value, json};
use stratus_dynamodb::Engine;
use stratus_dynamodb::stream::StreamRecord;
use stratus_lambda::{Call, InvocationType, Invoked, Lambda};
use tokio::sync::{Notify, watch};

use crate::dynamodb::streams::record_json;
use crate::schedule::{Schedule, iso_seconds};

/// How often an idle stream trigger looks for new records.
const POLL_INTERVAL: Duration = Duration::from_millis(200);

#[derive(Clone, Debug)]
pub struct StreamTrigger {
    pub function: String,
    /// The event's name in the template (part of the consumer's identity).
    pub name: String,
    pub table: String,
    pub batch_size: usize,
    pub batching_window: Duration,
    /// `TRIM_HORIZON` or `LATEST`.
    pub starting_position: String,
    /// FilterCriteria patterns (any one matching keeps a record).
    pub filters: Vec<Value>,
    /// `MaximumRetryAttempts`; `None` retries until the records expire, as AWS's default.
    pub maximum_retries: Option<u64>,
    pub bisect_on_error: bool,
    pub report_batch_item_failures: bool,
    pub enabled: bool,
}

impl StreamTrigger {
    /// From a function's `DynamoDB` event properties (SAM's names).
    pub fn from_event(function: &str, name: &str, properties: &Value) -> Option<StreamTrigger> {
        let stream = properties.get("Stream")?.as_str()?;
        let table = stream.split("table/").nth(1)?.split('/').next()?.to_string();
        let filters = properties
            .get("FilterCriteria")
            .and_then(|f| f.get("Filters"))
            .and_then(Value::as_array)
            .map(|filters| {
                filters
                    .iter()
                    .filter_map(|f| f.get("Pattern").and_then(Value::as_str))
                    .filter_map(|p| serde_json::from_str(p).ok())
                    .collect()
            })
            .unwrap_or_default();
        let number = |key: &str| {
            properties
                .get(key)
                .and_then(|v| v.as_i64().or_else(|| v.as_str()?.parse().ok()))
        };
        Some(StreamTrigger {
            function: function.to_string(),
            name: name.to_string(),
            table,
            batch_size: number("BatchSize").unwrap_or(100).clamp(1, 10_000) as usize,
            batching_window: Duration::from_secs(
                number("MaximumBatchingWindowInSeconds").unwrap_or(0).clamp(0, 300) as u64
            ),
            starting_position: properties
                .get("StartingPosition")
                .and_then(Value::as_str)
                .unwrap_or("LATEST")
                .to_string(),
            filters,
            maximum_retries: number("MaximumRetryAttempts").filter(|n| *n >= 0).map(|n| n as u64),
            bisect_on_error: properties.get("BisectBatchOnFunctionError") == Some(&Value::Bool(true)),
            report_batch_item_failures: properties
                .get("FunctionResponseTypes")
                .and_then(Value::as_array)
                .is_some_and(|types| types.iter().any(|t| t == "ReportBatchItemFailures")),
            enabled: properties.get("Enabled") != Some(&Value::Bool(false)),
        })
    }
}

#[derive(Clone, Debug)]
pub struct ScheduleTrigger {
    pub function: String,
    pub name: String,
    /// As written (`rate(5 minutes)`).
    pub expression: String,
    pub schedule: Schedule,
    /// The `Input`: the event sent instead of the scheduled event.
    pub input: Option<String>,
    /// The rule's (or schedule's) name, for the event's `resources`.
    pub rule_name: String,
    /// From `ScheduleV2` (EventBridge Scheduler) rather than an EventBridge rule.
    pub scheduler: bool,
    pub enabled: bool,
    /// `ScheduleExpressionTimezone` (`ScheduleV2` only): its name and its rules.
    pub timezone: Option<(String, jiff::tz::TimeZone)>,
}

impl ScheduleTrigger {
    pub fn from_event(function: &str, name: &str, kind: &str, properties: &Value) -> Result<ScheduleTrigger, String> {
        let scheduler = kind == "ScheduleV2";
        let key = if scheduler { "ScheduleExpression" } else { "Schedule" };
        let expression = properties
            .get(key)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("{function}: the {kind} event {name} has no {key}"))?;
        let schedule = Schedule::parse(expression).map_err(|e| format!("{function}: event {name}: {e}"))?;
        let timezone = match properties.get("ScheduleExpressionTimezone").and_then(Value::as_str) {
            Some(zone) if scheduler => Some((
                zone.to_string(),
                crate::schedule::time_zone(zone).map_err(|e| format!("{function}: event {name}: {e}"))?,
            )),
            _ => None,
        };
        let enabled = properties.get("Enabled") != Some(&Value::Bool(false))
            && properties.get("State").and_then(Value::as_str) != Some("DISABLED");
        Ok(ScheduleTrigger {
            function: function.to_string(),
            name: name.to_string(),
            expression: expression.to_string(),
            schedule,
            input: properties.get("Input").and_then(Value::as_str).map(str::to_string),
            rule_name: properties
                .get("Name")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| format!("{function}{name}")),
            scheduler,
            enabled,
            timezone,
        })
    }

    /// The first fire time strictly after `after` (epoch seconds), on the schedule's time zone.
    pub fn next_after(&self, after: i64) -> Option<i64> {
        self.schedule
            .next_after_in(after, self.timezone.as_ref().map(|(_, zone)| zone))
    }
}

/// The running event sources, for firing schedules by hand.
pub struct EventSources {
    schedules: BTreeMap<(String, String), (ScheduleTrigger, Arc<Notify>)>,
    lambda: Arc<Lambda>,
    region: String,
    account: String,
}

impl EventSources {
    /// Every schedule: (function, event, expression as parsed, enabled).
    pub fn schedules(&self) -> Vec<&ScheduleTrigger> {
        self.schedules.values().map(|(trigger, _)| trigger).collect()
    }

    /// Invokes a schedule's function now, as its next fire would.
    pub async fn fire(&self, function: &str, event: &str) -> Option<Result<String, String>> {
        let (trigger, _) = self.schedules.get(&(function.to_string(), event.to_string()))?;
        let now = stratus_lambda::logs::now_ms() as i64 / 1000;
        Some(fire_schedule(&self.lambda, trigger, now, &self.region, &self.account).await)
    }
}

/// Starts every trigger and schedule; they stop when `stop` turns true.
pub fn start(
    engine: Arc<Engine>,
    lambda: Arc<Lambda>,
    streams: Vec<StreamTrigger>,
    schedules: Vec<ScheduleTrigger>,
    stop: watch::Receiver<bool>,
) -> Arc<EventSources> {
    for trigger in streams.into_iter().filter(|t| t.enabled) {
        let engine = Arc::clone(&engine);
        let lambda = Arc::clone(&lambda);
        let stop = stop.clone();
        tokio::spawn(async move { poll_stream(engine, lambda, trigger, stop).await });
    }
    let region = engine.region.clone();
    let account = engine.account.clone();
    let mut registry = BTreeMap::new();
    for trigger in schedules {
        let notify = Arc::new(Notify::new());
        if trigger.enabled {
            let lambda = Arc::clone(&lambda);
            let stop = stop.clone();
            let own = trigger.clone();
            let (region, account) = (region.clone(), account.clone());
            tokio::spawn(async move { run_schedule(lambda, own, stop, region, account).await });
        }
        registry.insert((trigger.function.clone(), trigger.name.clone()), (trigger, notify));
    }
    Arc::new(EventSources {
        schedules: registry,
        lambda,
        region,
        account,
    })
}

async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await.map(|_| ());
}

async fn run_schedule(
    lambda: Arc<Lambda>,
    trigger: ScheduleTrigger,
    mut stop: watch::Receiver<bool>,
    region: String,
    account: String,
) {
    loop {
        let now = stratus_lambda::logs::now_ms() as i64 / 1000;
        let Some(next) = trigger.next_after(now) else {
            return;
        };
        let wait = Duration::from_secs((next - now).max(0) as u64);
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stopped(&mut stop) => return,
        }
        let _ = fire_schedule(&lambda, &trigger, next, &region, &account).await;
    }
}

/// The event a schedule sends: its Input, or EventBridge's scheduled event.
fn schedule_event(trigger: &ScheduleTrigger, at: i64, region: &str, account: &str) -> Value {
    if let Some(input) = &trigger.input
        && let Ok(value) = serde_json::from_str::<Value>(input)
    {
        return value;
    }
    let (source, resource) = if trigger.scheduler {
        (
            "aws.scheduler",
            format!(
                "arn:aws:scheduler:{region}:{account}:schedule/default/{}",
                trigger.rule_name
            ),
        )
    } else {
        (
            "aws.events",
            format!("arn:aws:events:{region}:{account}:rule/{}", trigger.rule_name),
        )
    };
    json!({
        "version": "0",
        "id": stratus_lambda::ids::request_id(),
        "detail-type": "Scheduled Event",
        "source": source,
        "account": account,
        "time": iso_seconds(at),
        "region": region,
        "resources": [resource],
        "detail": {},
    })
}

async fn fire_schedule(
    lambda: &Arc<Lambda>,
    trigger: &ScheduleTrigger,
    at: i64,
    region: &str,
    account: &str,
) -> Result<String, String> {
    let event = schedule_event(trigger, at, region, account);
    let call = Call {
        payload: Bytes::from(event.to_string()),
        ..Call::default()
    };
    // EventBridge invokes asynchronously (with Lambda's retries).
    match lambda
        .invoke(&trigger.function, None, InvocationType::Event, call)
        .await
    {
        Ok(Invoked::Queued { request_id }) => Ok(request_id),
        Ok(_) => Ok(String::new()),
        Err(error) => Err(error.to_string()),
    }
}

/// Whether a record (as a Lambda event record) matches an event filter pattern.
pub fn pattern_matches(pattern: &Value, value: Option<&Value>) -> bool {
    match pattern {
        Value::Object(fields) => fields.iter().all(|(key, sub)| {
            let inner = value.and_then(|v| v.get(key));
            pattern_matches(sub, inner)
        }),
        Value::Array(alternatives) => alternatives.iter().any(|alternative| match alternative {
            Value::Object(rule) => rule_matches(rule, value),
            literal => value.is_some_and(|v| v == literal || v.as_array().is_some_and(|items| items.contains(literal))),
        }),
        literal => value == Some(literal),
    }
}

/// Content filters: prefix, anything-but, exists, numeric.
fn rule_matches(rule: &serde_json::Map<String, Value>, value: Option<&Value>) -> bool {
    if let Some(prefix) = rule.get("prefix").and_then(Value::as_str) {
        return value.and_then(Value::as_str).is_some_and(|v| v.starts_with(prefix));
    }
    if let Some(exists) = rule.get("exists").and_then(Value::as_bool) {
        return value.is_some() == exists;
    }
    if let Some(excluded) = rule.get("anything-but") {
        let Some(value) = value else { return false };
        return match excluded {
            Value::Array(items) => !items.contains(value),
            other => other != value,
        };
    }
    if let Some(Value::Array(conditions)) = rule.get("numeric") {
        let Some(number) = value.and_then(|v| v.as_f64().or_else(|| v.as_str()?.parse().ok())) else {
            return false;
        };
        return conditions.chunks(2).all(|pair| match pair {
            [Value::String(op), bound] => {
                let Some(bound) = bound.as_f64() else { return false };
                match op.as_str() {
                    "<" => number < bound,
                    "<=" => number <= bound,
                    ">" => number > bound,
                    ">=" => number >= bound,
                    "=" => number == bound,
                    _ => false,
                }
            }
            _ => false,
        });
    }
    false
}

fn consumer_name(trigger: &StreamTrigger) -> String {
    format!("{}/{}", trigger.function, trigger.name)
}

async fn poll_stream(
    engine: Arc<Engine>,
    lambda: Arc<Lambda>,
    trigger: StreamTrigger,
    mut stop: watch::Receiver<bool>,
) {
    let name = consumer_name(&trigger);
    let mut position: Option<(u64, u64)> = engine.consumer_position(&name).ok().flatten();
    let mut failures = 0u32;
    loop {
        if *stop.borrow() {
            return;
        }
        let Some((stream_arn, stream_id, last)) = engine.table_stream(&trigger.table) else {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                _ = stopped(&mut stop) => return,
            }
        };
        // A new stream (or a first start): begin where StartingPosition says.
        let after = match position {
            Some((id, sequence)) if id == stream_id => sequence,
            _ => {
                let start = if trigger.starting_position == "TRIM_HORIZON" {
                    0
                } else {
                    last
                };
                position = Some((stream_id, start));
                let _ = engine.set_consumer_position(&name, stream_id, start).await;
                start
            }
        };
        let mut records = engine
            .stream_records_after(stream_id, after, trigger.batch_size)
            .unwrap_or_default();
        if !records.is_empty() && records.len() < trigger.batch_size && !trigger.batching_window.is_zero() {
            // Wait out the batching window for a fuller batch.
            tokio::select! {
                _ = tokio::time::sleep(trigger.batching_window) => {}
                _ = stopped(&mut stop) => return,
            }
            records = engine
                .stream_records_after(stream_id, after, trigger.batch_size)
                .unwrap_or_default();
        }
        if records.is_empty() {
            tokio::select! {
                _ = tokio::time::sleep(POLL_INTERVAL) => continue,
                _ = stopped(&mut stop) => return,
            }
        }
        let region = engine.region.clone();
        let events: Vec<(u64, Value)> = records
            .iter()
            .map(|record| {
                let mut value = record_json(record, &region, true);
                value["eventSourceARN"] = json!(stream_arn);
                (record.sequence, value)
            })
            .filter(|(_, value)| {
                trigger.filters.is_empty() || trigger.filters.iter().any(|p| pattern_matches(p, Some(value)))
            })
            .collect();
        let last_sequence = records.last().map_or(after, |r: &StreamRecord| r.sequence);
        if events.is_empty() {
            position = Some((stream_id, last_sequence));
            let _ = engine.set_consumer_position(&name, stream_id, last_sequence).await;
            continue;
        }
        match deliver(&lambda, &trigger, &events, &mut stop).await {
            Delivery::Done(through) => {
                failures = 0;
                let through = through.unwrap_or(last_sequence);
                position = Some((stream_id, through));
                let _ = engine.set_consumer_position(&name, stream_id, through).await;
            }
            Delivery::Failed => {
                failures += 1;
                if trigger.maximum_retries.is_some_and(|max| u64::from(failures) > max) {
                    // Retries exhausted: skip the batch, as AWS does (without an on-failure
                    // destination the records are dropped).
                    eprintln!(
                        "stratus: {}: the batch of stream records ending at {last_sequence} failed {failures} times; skipped",
                        trigger.function
                    );
                    failures = 0;
                    position = Some((stream_id, last_sequence));
                    let _ = engine.set_consumer_position(&name, stream_id, last_sequence).await;
                    continue;
                }
                let backoff = Duration::from_millis(200u64 << failures.min(6)).min(Duration::from_secs(10));
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = stopped(&mut stop) => return,
                }
            }
            Delivery::Stopped => return,
        }
    }
}

enum Delivery {
    /// Processed through this sequence number (all, when `None`).
    Done(Option<u64>),
    Failed,
    Stopped,
}

/// Invokes the function with a batch; with bisection, a failing batch is split and its halves
/// tried in order until the failure is isolated.
async fn deliver(
    lambda: &Arc<Lambda>,
    trigger: &StreamTrigger,
    events: &[(u64, Value)],
    stop: &mut watch::Receiver<bool>,
) -> Delivery {
    if *stop.borrow() {
        return Delivery::Stopped;
    }
    let records: Vec<&Value> = events.iter().map(|(_, v)| v).collect();
    let payload = json!({"Records": records});
    let call = Call {
        payload: Bytes::from(payload.to_string()),
        ..Call::default()
    };
    let outcome = lambda
        .invoke(&trigger.function, None, InvocationType::RequestResponse, call)
        .await;
    let completed = match outcome {
        Ok(Invoked::Completed(completed)) => completed,
        _ => return Delivery::Failed,
    };
    if completed.function_error.is_some() {
        if trigger.bisect_on_error && events.len() > 1 {
            let (first, second) = events.split_at(events.len() / 2);
            return match Box::pin(deliver(lambda, trigger, first, stop)).await {
                Delivery::Done(None) => Box::pin(deliver(lambda, trigger, second, stop)).await,
                other => other,
            };
        }
        return Delivery::Failed;
    }
    if trigger.report_batch_item_failures
        && let Ok(response) = serde_json::from_slice::<Value>(&completed.payload)
        && let Some(failures) = response.get("batchItemFailures").and_then(Value::as_array)
    {
        let failed: Vec<u64> = failures
            .iter()
            .filter_map(|f| f.get("itemIdentifier").and_then(Value::as_str))
            .filter_map(stratus_dynamodb::stream::parse_sequence)
            .collect();
        if let Some(first_failed) = failed.iter().min() {
            // Checkpoint before the first failure; the rest is retried.
            let before = events.iter().map(|(s, _)| *s).filter(|s| s < first_failed).max();
            return match before {
                Some(sequence) => Delivery::Done(Some(sequence)),
                None => Delivery::Failed,
            };
        }
    }
    Delivery::Done(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_patterns_match_as_event_filtering_does() {
        let record =
            json!({"eventName": "INSERT", "dynamodb": {"NewImage": {"status": {"S": "open"}, "total": {"N": "12"}}}});
        let cases = [
            (json!({"eventName": ["INSERT", "MODIFY"]}), true),
            (json!({"eventName": ["REMOVE"]}), false),
            (json!({"dynamodb": {"NewImage": {"status": {"S": ["open"]}}}}), true),
            (
                json!({"dynamodb": {"NewImage": {"status": {"S": [{"prefix": "op"}]}}}}),
                true,
            ),
            (
                json!({"dynamodb": {"NewImage": {"status": {"S": [{"anything-but": ["open"]}]}}}}),
                false,
            ),
            (
                json!({"dynamodb": {"NewImage": {"total": {"N": [{"numeric": [">", 10, "<=", 20]}]}}}}),
                true,
            ),
            (json!({"dynamodb": {"OldImage": [{"exists": false}]}}), true),
        ];
        for (pattern, expected) in cases {
            assert_eq!(pattern_matches(&pattern, Some(&record)), expected, "{pattern}");
        }
    }

    #[test]
    fn triggers_read_sam_properties() {
        let properties = json!({"Stream": "arn:aws:dynamodb:us-east-1:000000000000:table/orders/stream/1970-01-01T00:00:00.000",
            "BatchSize": 25, "StartingPosition": "TRIM_HORIZON", "MaximumRetryAttempts": 2,
            "FunctionResponseTypes": ["ReportBatchItemFailures"], "BisectBatchOnFunctionError": true});
        let trigger = StreamTrigger::from_event("Fn", "Changes", &properties);
        let trigger = trigger.as_ref();
        assert_eq!(trigger.map(|t| t.table.as_str()), Some("orders"));
        assert_eq!(trigger.map(|t| t.batch_size), Some(25));
        assert_eq!(trigger.and_then(|t| t.maximum_retries), Some(2));
        assert!(trigger.is_some_and(|t| t.report_batch_item_failures && t.bisect_on_error && t.enabled));
        let schedule = ScheduleTrigger::from_event(
            "Fn",
            "Nightly",
            "Schedule",
            &json!({"Schedule": "cron(0 3 * * ? *)", "Input": "{\"report\": \"daily\"}"}),
        );
        assert!(schedule.as_ref().is_ok_and(|s| s.input.is_some() && s.enabled));
        let event = schedule
            .map(|s| schedule_event(&s, 0, "us-east-1", "000000000000"))
            .unwrap_or_default();
        assert_eq!(event, json!({"report": "daily"}));
    }
}
