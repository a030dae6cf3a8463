//! Function logs: every line a function process writes, and the START / END / REPORT lines
//! Lambda adds (as `platform.start` / `platform.report` JSON records for a function whose
//! LoggingConfig says JSON), kept per function in a bounded buffer (for the console and
//! `LogType: Tail`) and passed to a sink (the terminal).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::Notify;

use crate::config::LogSink;

/// One line of a function's log.
#[derive(Clone, Debug)]
pub struct LogLine {
    /// Increases by one per line across the whole service, for followers.
    pub sequence: u64,
    pub time_ms: u64,
    pub function: Arc<str>,
    /// The invocation the line belongs to, when one was running.
    pub request_id: Option<Arc<str>>,
    pub text: String,
    /// START, END, REPORT and Stratus's own notes, as opposed to the function's output.
    pub platform: bool,
}

/// How Lambda's own lines are written, from the function's LoggingConfig.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SystemLog {
    /// `LogFormat: Text`: the START, END and REPORT lines.
    #[default]
    Text,
    /// `LogFormat: JSON`: one `platform.start` and one `platform.report` record per invocation
    /// (there is no END record), as Lambda writes them to CloudWatch.
    Json,
    /// `LogFormat: JSON` with `SystemLogLevel: WARN`: those two records are INFO events, so
    /// neither is written.
    JsonWarn,
}

impl SystemLog {
    /// From LoggingConfig's `LogFormat` and `SystemLogLevel`.
    pub fn of(format: &str, system_level: Option<&str>) -> SystemLog {
        match (format, system_level) {
            ("JSON", Some("WARN")) => SystemLog::JsonWarn,
            ("JSON", _) => SystemLog::Json,
            _ => SystemLog::Text,
        }
    }
}

/// The lines of one function, newest last, at most `lines_max`.
pub struct LogBook {
    function: Arc<str>,
    /// The unqualified ARN, for `platform.start`'s `functionArn`.
    function_arn: Arc<str>,
    system: SystemLog,
    lines: Mutex<VecDeque<LogLine>>,
    lines_max: usize,
    sequence: Arc<std::sync::atomic::AtomicU64>,
    sink: Option<LogSink>,
    pub(crate) changed: Notify,
}

impl LogBook {
    pub(crate) fn new(
        function: &str,
        function_arn: &str,
        system: SystemLog,
        lines_max: usize,
        sequence: Arc<std::sync::atomic::AtomicU64>,
        sink: Option<LogSink>,
    ) -> LogBook {
        LogBook {
            function: Arc::from(function),
            function_arn: Arc::from(function_arn),
            system,
            lines: Mutex::new(VecDeque::new()),
            lines_max: lines_max.max(1),
            sequence,
            sink,
            changed: Notify::new(),
        }
    }

    pub(crate) fn push(&self, request_id: Option<&Arc<str>>, text: String, platform: bool) {
        let line = LogLine {
            sequence: self.sequence.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            time_ms: now_ms(),
            function: Arc::clone(&self.function),
            request_id: request_id.cloned(),
            text,
            platform,
        };
        if let Some(sink) = &self.sink {
            sink(&line);
        }
        if let Ok(mut lines) = self.lines.lock() {
            if lines.len() >= self.lines_max {
                lines.pop_front();
            }
            lines.push_back(line);
        }
        self.changed.notify_waiters();
    }

    /// The invocation's START line (or `platform.start` record).
    pub(crate) fn start(&self, request_id: &Arc<str>) {
        let text = match self.system {
            SystemLog::Text => format!("START RequestId: {request_id} Version: $LATEST"),
            SystemLog::Json => platform_record(
                now_ms(),
                "platform.start",
                &ordered(&[
                    ("requestId", Some(json(&**request_id))),
                    ("functionArn", Some(json(&*self.function_arn))),
                    ("version", Some(json("$LATEST"))),
                ]),
            ),
            SystemLog::JsonWarn => return,
        };
        self.push(Some(request_id), text, true);
    }

    /// INIT_REPORT (or a `platform.initReport` record) for an init phase that failed or timed
    /// out, with the time since the process started.
    pub(crate) fn init_report(&self, request_id: &Arc<str>, took: Duration, status: &str, error_type: Option<&str>) {
        let text = match self.system {
            SystemLog::Text => {
                let mut line = format!(
                    "INIT_REPORT Init Duration: {} ms\tPhase: init\tStatus: {status}",
                    millis(took)
                );
                if let Some(error_type) = error_type {
                    line.push_str(&format!("\tError Type: {error_type}"));
                }
                line
            }
            SystemLog::Json => platform_record(
                now_ms(),
                "platform.initReport",
                &ordered(&[
                    ("initializationType", Some(json("on-demand"))),
                    ("phase", Some(json("init"))),
                    ("status", Some(json(status))),
                    ("errorType", error_type.map(json)),
                    ("metrics", Some(ordered(&[("durationMs", Some(json(record_ms(took))))]))),
                ]),
            ),
            SystemLog::JsonWarn => return,
        };
        self.push(Some(request_id), text, true);
    }

    /// The invocation's END and REPORT lines (or its `platform.report` record).
    pub(crate) fn finish(&self, report: &Report) {
        let id = &report.request_id;
        match self.system {
            SystemLog::Text => {
                self.push(Some(id), format!("END RequestId: {id}"), true);
                self.push(Some(id), report.line(), true);
            }
            SystemLog::Json => self.push(Some(id), report.record(now_ms()), true),
            SystemLog::JsonWarn => {}
        }
    }

    /// Lines with a sequence number above `after`, oldest first.
    pub fn since(&self, after: Option<u64>) -> Vec<LogLine> {
        let Ok(lines) = self.lines.lock() else {
            return Vec::new();
        };
        lines
            .iter()
            .filter(|line| after.is_none_or(|after| line.sequence > after))
            .cloned()
            .collect()
    }

    /// The log of one invocation as CloudWatch shows it: every line, newline-terminated.
    pub fn invocation(&self, request_id: &str) -> String {
        let Ok(lines) = self.lines.lock() else {
            return String::new();
        };
        let mut text = String::new();
        for line in lines.iter().filter(|l| l.request_id.as_deref() == Some(request_id)) {
            text.push_str(&line.text);
            text.push('\n');
        }
        text
    }
}

/// The last 4 KB of an invocation's log, as `X-Amz-Log-Result` carries it (before base64).
pub fn tail(log: &str) -> &str {
    const TAIL_BYTES: usize = 4096;
    if log.len() <= TAIL_BYTES {
        return log;
    }
    let mut start = log.len() - TAIL_BYTES;
    while !log.is_char_boundary(start) {
        start += 1;
    }
    &log[start..]
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// `Duration: 12.34 ms` style, two decimals.
pub fn millis(duration: Duration) -> String {
    format!("{:.2}", duration.as_secs_f64() * 1000.0)
}

/// One JSON value, encoded.
fn json(value: impl serde::Serialize) -> String {
    serde_json::to_string(&value).unwrap_or_else(|_| "null".to_string())
}

/// A JSON object of already encoded values, keys in the order given, `None` left out (a map
/// would sort the keys; Lambda's records have `time`, `type`, `record` in that order).
fn ordered(fields: &[(&str, Option<String>)]) -> String {
    let mut out = String::from("{");
    for (key, value) in fields {
        if let Some(value) = value {
            if out.len() > 1 {
                out.push(',');
            }
            out.push_str(&json(key));
            out.push(':');
            out.push_str(value);
        }
    }
    out.push('}');
    out
}

/// A system log record of the JSON log format.
fn platform_record(time_ms: u64, kind: &str, record: &str) -> String {
    ordered(&[
        ("time", Some(json(crate::ids::iso_timestamp(time_ms)))),
        ("type", Some(json(kind))),
        ("record", Some(record.to_string())),
    ])
}

/// Milliseconds with three decimals, as the JSON records give them.
fn record_ms(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

/// What REPORT says about one invocation.
#[derive(Clone, Debug)]
pub struct Report {
    pub request_id: Arc<str>,
    pub duration: Duration,
    pub memory_mb: u64,
    pub max_memory_used_mb: u64,
    pub init_duration: Option<Duration>,
    /// `timeout`, `error` (a crash) or none.
    pub status: Option<&'static str>,
    /// With `error`: what failed (`Runtime.ExitError`, `Runtime.OutOfMemory`, …).
    pub error_type: Option<String>,
}

impl Report {
    /// Billed Duration in ms. Since August 2025 Lambda bills the init phase of a cold start too.
    fn billed_ms(&self) -> u128 {
        (self.duration + self.init_duration.unwrap_or_default())
            .as_nanos()
            .div_ceil(1_000_000)
            .max(1)
    }

    pub fn line(&self) -> String {
        let billed = self.billed_ms();
        let mut line = format!(
            "REPORT RequestId: {}\tDuration: {} ms\tBilled Duration: {} ms\tMemory Size: {} MB\tMax Memory Used: {} MB",
            self.request_id,
            millis(self.duration),
            billed,
            self.memory_mb,
            self.max_memory_used_mb
        );
        if let Some(init) = self.init_duration {
            line.push_str(&format!("\tInit Duration: {} ms", millis(init)));
        }
        if let Some(status) = self.status {
            line.push_str(&format!("\tStatus: {status}"));
        }
        if let (Some("error"), Some(error_type)) = (self.status, &self.error_type) {
            line.push_str(&format!("\tError Type: {error_type}"));
        }
        line
    }

    /// The `platform.report` record of the JSON log format, written at `time_ms`.
    pub fn record(&self, time_ms: u64) -> String {
        let metrics = ordered(&[
            ("durationMs", Some(json(record_ms(self.duration)))),
            ("billedDurationMs", Some(json(self.billed_ms() as u64))),
            ("memorySizeMB", Some(json(self.memory_mb))),
            ("maxMemoryUsedMB", Some(json(self.max_memory_used_mb))),
            ("initDurationMs", self.init_duration.map(|init| json(record_ms(init)))),
        ]);
        let error_type = match (self.status, &self.error_type) {
            (Some("error"), Some(error_type)) => Some(json(error_type)),
            _ => None,
        };
        let record = ordered(&[
            ("requestId", Some(json(&*self.request_id))),
            ("metrics", Some(metrics)),
            ("status", Some(json(self.status.unwrap_or("success")))),
            ("errorType", error_type),
        ]);
        platform_record(time_ms, "platform.report", &record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_rounds_billed_duration_up_to_the_millisecond() {
        let report = Report {
            request_id: Arc::from("r1"),
            duration: Duration::from_micros(1_234),
            memory_mb: 128,
            max_memory_used_mb: 40,
            init_duration: Some(Duration::from_micros(150_500)),
            status: None,
            error_type: None,
        };
        assert_eq!(
            report.line(),
            "REPORT RequestId: r1\tDuration: 1.23 ms\tBilled Duration: 152 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB\tInit Duration: 150.50 ms"
        );
        let exact = Report {
            duration: Duration::from_millis(3),
            init_duration: None,
            status: Some("timeout"),
            ..report
        };
        assert!(exact.line().contains("Billed Duration: 3 ms"));
        assert!(exact.line().ends_with("Status: timeout"));
    }

    #[test]
    fn report_record_has_lambdas_json_shape() {
        let report = Report {
            request_id: Arc::from("r1"),
            duration: Duration::from_micros(1_234_567),
            memory_mb: 128,
            max_memory_used_mb: 40,
            init_duration: Some(Duration::from_micros(150_500)),
            status: None,
            error_type: None,
        };
        // 2026-12-03T08:00:00.123Z
        let record: serde_json::Value = serde_json::from_str(&report.record(1_796_284_800_123)).expect("a JSON record");
        assert_eq!(
            record,
            serde_json::json!({
                "time": "2026-12-03T08:00:00.123Z",
                "type": "platform.report",
                "record": {
                    "requestId": "r1",
                    "metrics": {"durationMs": 1234.567, "billedDurationMs": 1386, "memorySizeMB": 128,
                                "maxMemoryUsedMB": 40, "initDurationMs": 150.5},
                    "status": "success",
                },
            })
        );
        // Keys in Lambda's order, not sorted.
        assert_eq!(
            report.record(1_796_284_800_123),
            r#"{"time":"2026-12-03T08:00:00.123Z","type":"platform.report","record":{"requestId":"r1","metrics":{"durationMs":1234.567,"billedDurationMs":1386,"memorySizeMB":128,"maxMemoryUsedMB":40,"initDurationMs":150.5},"status":"success"}}"#
        );
        let crashed = Report {
            init_duration: None,
            status: Some("error"),
            error_type: Some("Runtime.ExitError".to_string()),
            ..report
        };
        let record: serde_json::Value = serde_json::from_str(&crashed.record(0)).expect("a JSON record");
        assert_eq!(record["record"]["status"], "error");
        assert_eq!(record["record"]["errorType"], "Runtime.ExitError");
        assert!(record["record"]["metrics"].get("initDurationMs").is_none());
        assert!(
            crashed
                .line()
                .ends_with("\tStatus: error\tError Type: Runtime.ExitError")
        );
    }

    #[test]
    fn system_log_follows_format_and_level() {
        assert_eq!(SystemLog::of("Text", None), SystemLog::Text);
        assert_eq!(SystemLog::of("JSON", None), SystemLog::Json);
        assert_eq!(SystemLog::of("JSON", Some("DEBUG")), SystemLog::Json);
        assert_eq!(SystemLog::of("JSON", Some("INFO")), SystemLog::Json);
        assert_eq!(SystemLog::of("JSON", Some("WARN")), SystemLog::JsonWarn);
    }

    #[test]
    fn tail_keeps_the_last_4_kb_on_a_character_boundary() {
        let log = format!("{}{}", "é".repeat(3000), "end\n");
        let tail = tail(&log);
        assert!(tail.len() <= 4096 && tail.len() >= 4090);
        assert!(tail.ends_with("end\n"));
        assert_eq!(super::tail("short"), "short");
    }
}
