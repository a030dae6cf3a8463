//! Identifiers shaped like Lambda's: request ids (UUID v4 text), X-Ray trace ids, log stream
//! names. Unique, not secret (credentials come from the issuer the binary supplies).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

static COUNTER: AtomicU64 = AtomicU64::new(0);
/// `std::process::id() << 40`, taken once: `getpid` is a system call.
static PROCESS_BITS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();

/// 64 fresh pseudo-random bits: a time- and process-seeded counter through a mixer.
pub fn random_u64() -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let process = *PROCESS_BITS.get_or_init(|| u64::from(std::process::id()) << 40);
    let mut x = nanos ^ process ^ count.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    // splitmix64's finaliser.
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// `8476a536-e9f4-41e8-9739-2dfe598c3fcd`.
pub fn request_id() -> String {
    let high = random_u64();
    let low = random_u64();
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let bytes = (u128::from(high) << 64 | u128::from(low)).to_be_bytes();
    let mut hex = String::with_capacity(36);
    for (index, byte) in bytes.iter().enumerate() {
        let byte = match index {
            6 => (byte & 0x0f) | 0x40,
            8 => (byte & 0x3f) | 0x80,
            _ => *byte,
        };
        if matches!(index, 4 | 6 | 8 | 10) {
            hex.push('-');
        }
        hex.push(char::from(DIGITS[usize::from(byte >> 4)]));
        hex.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    hex
}

/// `Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=0`.
pub fn trace_id() -> String {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!(
        "Root=1-{seconds:08x}-{:08x}{:016x};Parent={:016x};Sampled=0",
        random_u64() as u32,
        random_u64(),
        random_u64()
    )
}

/// `2026/12/03/[$LATEST]0123456789abcdef0123456789abcdef`; in a custom log group, with the
/// function's name before `[$LATEST]`, as Lambda names the streams there.
pub fn log_stream_name(function: Option<&str>) -> String {
    let days = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() / 86_400)
        .unwrap_or(0);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}/{month:02}/{day:02}/{}[$LATEST]{:016x}{:016x}",
        function.unwrap_or(""),
        random_u64(),
        random_u64()
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// An ISO 8601 UTC timestamp with milliseconds: `2026-12-03T07:25:40.123Z`.
pub fn iso_timestamp(time_ms: u64) -> String {
    let seconds = time_ms / 1000;
    let (year, month, day) = civil_from_days((seconds / 86_400) as i64);
    let in_day = seconds % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        in_day / 3600,
        in_day % 3600 / 60,
        in_day % 60,
        time_ms % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_version_4_uuids_and_distinct() {
        let a = request_id();
        let b = request_id();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"));
        assert_eq!(a.matches('-').count(), 4);
    }

    #[test]
    fn dates_convert_as_the_calendar_says() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(20_790), (2026, 12, 3));
        assert_eq!(iso_timestamp(1_796_290_000_123), "2026-12-03T09:26:40.123Z");
    }

    #[test]
    fn trace_ids_have_the_xray_shape() {
        let trace = trace_id();
        assert!(trace.starts_with("Root=1-"));
        assert!(trace.ends_with(";Sampled=0"));
        assert_eq!(trace.split(';').count(), 3);
    }
}
