//! What Lambda says of an Invoke payload that is not JSON.
//!
//! Lambda parses the payload with Jackson and passes its message on, after two prefixes:
//! `Could not parse request body into json: Could not parse payload into json: Unrecognized token
//! 'notjson': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or
//! 'false')\n at [Source: (byte[])"notjson"; line: 1, column: 8]`. Stratus parses with serde_json
//! and words the common failures as Jackson does: a bare word, an unexpected character (with what
//! was expected there), the input ending early, and bytes that are not UTF-8. Anything else keeps
//! serde_json's own words after the same prefixes and location.

/// Jackson's list of what may start a value.
const VALUE_STARTS: &str = "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')";
/// Jackson quotes at most this much of the payload in its location.
const SNIPPET_BYTES: usize = 500;

/// Checks that `payload` is JSON (in UTF-8, which serde_json does not check in strings it
/// skips); if not, the detail after `Could not parse request body into json: `.
pub fn check(payload: &[u8]) -> Result<(), String> {
    let parsed = serde_json::from_slice::<serde::de::IgnoredAny>(payload);
    let utf8 = bad_utf8(payload);
    let (message, at) = match (parsed, utf8) {
        (Ok(_), None) => return Ok(()),
        (Ok(_), Some(bad)) => bad,
        (Err(error), utf8) => {
            let at = offset(payload, error.line(), error.column());
            match utf8 {
                Some((message, index)) if index <= at => (message, index),
                _ => describe(payload, &error, at),
            }
        }
    };
    let (line, column) = line_column(payload, at);
    Err(format!(
        "Could not parse payload into json: {message}\n at [Source: (byte[]){}; line: {line}, column: {column}]",
        source(payload)
    ))
}

/// The message for a syntax error found at byte `at`, and where Jackson would report it (just
/// past what it read).
fn describe(payload: &[u8], error: &serde_json::Error, at: usize) -> (String, usize) {
    let said = error.to_string();
    let said = said
        .strip_suffix(&format!(" at line {} column {}", error.line(), error.column()))
        .unwrap_or(&said)
        .to_string();
    if error.is_eof() {
        let open = open_at_end(payload);
        // A word cut short at the end (`tru`) is a bad token to Jackson, not an early end.
        let start = word_start(payload, payload.len());
        if open != Some(b'"') && start < payload.len() && payload[start].is_ascii_alphabetic() {
            let word = String::from_utf8_lossy(&payload[start..]);
            return (
                format!("Unrecognized token '{word}': was expecting {VALUE_STARTS}"),
                payload.len(),
            );
        }
        let message = match open {
            Some(b'{') => "Unexpected end-of-input: expected close marker for Object",
            Some(b'[') => "Unexpected end-of-input: expected close marker for Array",
            Some(_) => "Unexpected end-of-input: was expecting closing quote for a string value",
            None => "No content to map due to end-of-input",
        };
        return (message.to_string(), payload.len());
    }
    let Some(&byte) = payload.get(at) else {
        return (said, at);
    };
    let expecting = if said.starts_with("key must be a string") {
        "was expecting double-quote to start field name".to_string()
    } else if said.starts_with("expected `,` or `}`") {
        "was expecting comma to separate Object entries".to_string()
    } else if said.starts_with("expected `,` or `]`") {
        "was expecting comma to separate Array entries".to_string()
    } else if said.starts_with("expected `:`") {
        "was expecting a colon to separate field name and value".to_string()
    } else if said.starts_with("expected value") || said.starts_with("expected ident") {
        // A word where a value goes: Jackson reads all of it and names it.
        let start = word_start(payload, at);
        if payload[start].is_ascii_alphabetic() {
            let end = word_end(payload, start);
            let word = String::from_utf8_lossy(&payload[start..end]);
            return (
                format!("Unrecognized token '{word}': was expecting {VALUE_STARTS}"),
                end,
            );
        }
        format!("expected a valid value {VALUE_STARTS}")
    } else {
        return (said, at + 1);
    };
    (
        format!("Unexpected character ({}): {expecting}", char_description(byte)),
        at + 1,
    )
}

/// Jackson's description of a character: `'x' (code 120)`, `(CTRL-CHAR, code 10)`.
fn char_description(byte: u8) -> String {
    if byte.is_ascii_control() {
        format!("(CTRL-CHAR, code {byte})")
    } else {
        format!("'{}' (code {byte})", byte as char)
    }
}

/// Where the word that contains byte `at` starts (serde_json reports a bad literal such as `tru`
/// after its first letters).
fn word_start(payload: &[u8], at: usize) -> usize {
    let mut start = at;
    while start > 0 && payload[start - 1].is_ascii_alphanumeric() {
        start -= 1;
    }
    start
}

fn word_end(payload: &[u8], start: usize) -> usize {
    let mut end = start;
    while end < payload.len() && (payload[end].is_ascii_alphanumeric() || payload[end] == b'_') {
        end += 1;
    }
    end
}

/// The first byte that is not UTF-8, and Jackson's message for it.
fn bad_utf8(payload: &[u8]) -> Option<(String, usize)> {
    let error = std::str::from_utf8(payload).err()?;
    let index = error.valid_up_to();
    let first = payload[index];
    // A byte that cannot start a sequence, else the sequence's next byte is the bad one.
    let starts = matches!(first, 0xC2..=0xF4);
    match payload.get(index + 1) {
        Some(&next) if starts => Some((format!("Invalid UTF-8 middle byte 0x{next:x}"), index + 1)),
        _ => Some((format!("Invalid UTF-8 start byte 0x{first:x}"), index)),
    }
}

/// The byte offset of serde_json's 1-based line and column (the byte it stopped at).
fn offset(payload: &[u8], line: usize, column: usize) -> usize {
    let mut start = 0;
    for _ in 1..line {
        match payload[start..].iter().position(|&b| b == b'\n') {
            Some(newline) => start += newline + 1,
            None => break,
        }
    }
    (start + column.saturating_sub(1)).min(payload.len())
}

/// Jackson's 1-based line and column of the position just before byte `at`.
fn line_column(payload: &[u8], at: usize) -> (usize, usize) {
    let before = &payload[..at.min(payload.len())];
    let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
    let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    (line, at - line_start + 1)
}

/// The payload as Jackson quotes it: `"…"`, cut at 500 bytes with `[truncated N bytes]` after.
fn source(payload: &[u8]) -> String {
    let shown = &payload[..payload.len().min(SNIPPET_BYTES)];
    let mut text = format!("\"{}\"", String::from_utf8_lossy(shown));
    if payload.len() > SNIPPET_BYTES {
        text.push_str(&format!("[truncated {} bytes]", payload.len() - SNIPPET_BYTES));
    }
    text
}

/// What is still open where the payload ends: `{`, `[` or `"` (a string), innermost last.
fn open_at_end(payload: &[u8]) -> Option<u8> {
    let mut stack = Vec::new();
    let mut in_string = false;
    let mut escaped = false;
    for &b in payload {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => stack.push(b),
            b'}' | b']' => {
                stack.pop();
            }
            _ => {}
        }
    }
    if in_string { Some(b'"') } else { stack.last().copied() }
}

#[cfg(test)]
mod tests {
    use super::check;

    fn detail(payload: &[u8]) -> String {
        check(payload).err().unwrap_or_else(|| panic!("{payload:?} passed"))
    }

    #[test]
    fn json_passes() {
        for payload in [
            &b"{}"[..],
            b"[1, 2]",
            b"\"caf\xc3\xa9\"",
            b" null ",
            b"{\"a\":{\"b\":[true]}}",
        ] {
            assert_eq!(check(payload), Ok(()), "{}", String::from_utf8_lossy(payload));
        }
    }

    #[test]
    fn messages_are_worded_as_jacksons() {
        let cases: &[(&[u8], &str)] = &[
            (
                b"notjson",
                "Unrecognized token 'notjson': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')\n at [Source: (byte[])\"notjson\"; line: 1, column: 8]",
            ),
            (
                b"tru",
                "Unrecognized token 'tru': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')\n at [Source: (byte[])\"tru\"; line: 1, column: 4]",
            ),
            (
                b"{not json",
                "Unexpected character ('n' (code 110)): was expecting double-quote to start field name\n at [Source: (byte[])\"{not json\"; line: 1, column: 3]",
            ),
            (
                b"{\"a\":1 \"b\":2}",
                "Unexpected character ('\"' (code 34)): was expecting comma to separate Object entries\n at [Source: (byte[])\"{\"a\":1 \"b\":2}\"; line: 1, column: 9]",
            ),
            (
                b"[1 2]",
                "Unexpected character ('2' (code 50)): was expecting comma to separate Array entries\n at [Source: (byte[])\"[1 2]\"; line: 1, column: 5]",
            ),
            (
                b"{\"a\" 1}",
                "Unexpected character ('1' (code 49)): was expecting a colon to separate field name and value\n at [Source: (byte[])\"{\"a\" 1}\"; line: 1, column: 7]",
            ),
            (
                b"{\"a\":\n  %}",
                "Unexpected character ('%' (code 37)): expected a valid value (JSON String, Number, Array, Object or token 'null', 'true' or 'false')\n at [Source: (byte[])\"{\"a\":\n  %}\"; line: 2, column: 4]",
            ),
            (
                b"{\"a\":1",
                "Unexpected end-of-input: expected close marker for Object\n at [Source: (byte[])\"{\"a\":1\"; line: 1, column: 7]",
            ),
            (
                b"[1,",
                "Unexpected end-of-input: expected close marker for Array\n at [Source: (byte[])\"[1,\"; line: 1, column: 4]",
            ),
            (
                b"\"abc",
                "Unexpected end-of-input: was expecting closing quote for a string value\n at [Source: (byte[])\"\"abc\"; line: 1, column: 5]",
            ),
        ];
        for (payload, expected) in cases {
            let want = format!("Could not parse payload into json: {expected}");
            assert_eq!(detail(payload), want, "{}", String::from_utf8_lossy(payload));
        }
    }

    #[test]
    fn bytes_that_are_not_utf8_are_named() {
        assert!(
            detail(b"{\"a\":\"\xa7\"}")
                .starts_with("Could not parse payload into json: Invalid UTF-8 start byte 0xa7\n"),
            "{}",
            detail(b"{\"a\":\"\xa7\"}")
        );
        assert!(detail(b"\"\xc3(\"").contains("Invalid UTF-8 middle byte 0x28"));
    }

    #[test]
    fn any_bytes_get_an_answer() {
        // Every cut of some JSON, and pseudo-random bytes: an answer each, never a panic.
        let doc = "{\"a\": [1, -2.5e3, true, null, \"x\\\"y\"],\n \"b\": {\"c\": \"caf\u{e9}\"}}".as_bytes();
        for end in 0..=doc.len() {
            let _ = check(&doc[..end]);
        }
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let alphabet = b"{}[]\",:-0123456789aefln \n\\\xa7\xc3";
        for _ in 0..2000 {
            let mut bytes = Vec::new();
            for _ in 0..(state % 24) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                bytes.push(alphabet[(state % alphabet.len() as u64) as usize]);
            }
            let _ = check(&bytes);
        }
    }

    #[test]
    fn a_long_payload_is_quoted_in_part() {
        let mut payload = b"{".to_vec();
        payload.extend(std::iter::repeat_n(b'x', 700));
        let text = detail(&payload);
        assert!(text.contains("[truncated 201 bytes]"), "{text}");
        assert!(text.len() < 800, "{text}");
    }
}
