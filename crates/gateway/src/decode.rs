//! Small text helpers the gateway needs: percent-decoding as API Gateway applies it, query
//! strings, header names in their usual capitalisation, and API Gateway's time formats.

/// Decodes `%XX` escapes (invalid escapes are kept as written); `+` stays `+`.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%'
            && index + 2 < bytes.len()
            && let (Some(high), Some(low)) = (hex(bytes[index + 1]), hex(bytes[index + 2]))
        {
            out.push(high << 4 | low);
            index += 3;
            continue;
        }
        out.push(bytes[index]);
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(byte: u8) -> Option<u8> {
    (byte as char).to_digit(16).map(|d| d as u8)
}

/// A query string's pairs in order, decoded (`+` is a space in query strings).
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (
                percent_decode(&key.replace('+', " ")),
                percent_decode(&value.replace('+', " ")),
            )
        })
        .collect()
}

/// `content-type` → `Content-Type`: HTTP/1.1 header names arrive case-insensitive and hyper
/// lowercases them; REST API events show them as clients usually write them.
pub fn title_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = true;
    for c in name.chars() {
        if upper {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        upper = c == '-';
    }
    out
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `03/Dec/2026:07:25:40 +0000` (requestContext.requestTime / time).
pub fn request_time(epoch_ms: u64) -> String {
    let seconds = epoch_ms / 1000;
    let (year, month, day) = stratus_lambda::ids::civil_from_days((seconds / 86_400) as i64);
    let in_day = seconds % 86_400;
    format!(
        "{day:02}/{}/{year:04}:{:02}:{:02}:{:02} +0000",
        MONTHS[(month as usize).saturating_sub(1) % 12],
        in_day / 3600,
        in_day % 3600 / 60,
        in_day % 60
    )
}

/// Whether a media type matches one of `patterns` (`image/png`, `image/*`, `*/*`).
pub fn media_type_matches(media_type: &str, patterns: &[String]) -> bool {
    let media_type = media_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if media_type.is_empty() {
        return false;
    }
    let (kind, subtype) = media_type.split_once('/').unwrap_or((&media_type, ""));
    patterns.iter().any(|pattern| {
        // SAM writes `~1` for `/` in BinaryMediaTypes (a JSON pointer escape).
        let pattern = pattern.replace("~1", "/").to_ascii_lowercase();
        let (pattern_kind, pattern_subtype) = pattern.split_once('/').unwrap_or((&pattern, ""));
        (pattern_kind == "*" || pattern_kind == kind) && (pattern_subtype == "*" || pattern_subtype == subtype)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_as_api_gateway_shows_values() {
        assert_eq!(percent_decode("Hello%20World"), "Hello World");
        assert_eq!(percent_decode("%E2%98%95%20Coffee"), "☕ Coffee");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%4"), "%4");
        assert_eq!(percent_decode("a+b"), "a+b");
        assert_eq!(
            query_pairs("q=Hello%20World&tag=C%23%20Programming&tag=.NET%20Core&flag&x=a+b"),
            vec![
                ("q".to_string(), "Hello World".to_string()),
                ("tag".to_string(), "C# Programming".to_string()),
                ("tag".to_string(), ".NET Core".to_string()),
                ("flag".to_string(), String::new()),
                ("x".to_string(), "a b".to_string()),
            ]
        );
    }

    #[test]
    fn header_names_and_times_look_like_api_gateways() {
        assert_eq!(title_case("content-type"), "Content-Type");
        assert_eq!(title_case("x-amzn-trace-id"), "X-Amzn-Trace-Id");
        assert_eq!(request_time(1_744_668_967_561), "14/Apr/2025:22:16:07 +0000");
    }

    #[test]
    fn binary_media_types_match_with_wildcards() {
        let types = vec!["image/png".to_string(), "application~1octet-stream".to_string()];
        assert!(media_type_matches("image/png", &types));
        assert!(media_type_matches("application/octet-stream; charset=binary", &types));
        assert!(!media_type_matches("image/jpeg", &types));
        assert!(media_type_matches("image/jpeg", &["image/*".to_string()]));
        assert!(media_type_matches("text/html", &["*/*".to_string()]));
        assert!(!media_type_matches("", &["*/*".to_string()]));
    }
}
