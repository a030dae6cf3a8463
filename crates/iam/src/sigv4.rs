//! AWS Signature Version 4, verified on the receiving side: the Authorization header and the
//! presigned-query forms are parsed with AWS's checks and messages, the canonical request is
//! rebuilt from what arrived, and the signature recomputed with the caller's secret.
//!
//! Written here rather than with `aws-sigv4`: that crate signs outgoing requests from its own
//! request model (and pulls in the smithy runtime); verification needs the canonical form of the
//! bytes that arrived, with AWS's error for each way a signature can be wrong.

use std::borrow::Cow;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::secret::Secret;

type HmacSha256 = Hmac<Sha256>;

/// How far a signature's time may be from the server's: 15 minutes.
pub const CLOCK_SKEW_SECONDS: i64 = 15 * 60;

/// A request as it arrived.
pub struct RequestParts<'a> {
    pub method: &'a str,
    /// The path as sent (still percent-encoded).
    pub path: &'a str,
    pub query: Option<&'a str>,
    /// (lower-case name, value) in arrival order, borrowed from the request.
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
}

impl<'a> RequestParts<'a> {
    fn header(&self, name: &str) -> Option<&'a str> {
        self.headers.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }

    fn query_pairs(&self) -> Vec<(String, String)> {
        self.query
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|pair| {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                (percent_decode(k), percent_decode(v))
            })
            .collect()
    }
}

/// Why authentication failed, by AWS's error names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthError {
    /// `MissingAuthenticationTokenException`.
    MissingAuthenticationToken,
    /// `IncompleteSignatureException`.
    IncompleteSignature(String),
    /// `InvalidSignatureException`.
    InvalidSignature(String),
    /// `UnrecognizedClientException`: an unknown access key or session token.
    UnrecognizedClient(String),
}

impl AuthError {
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::MissingAuthenticationToken => "MissingAuthenticationTokenException",
            AuthError::IncompleteSignature(_) => "IncompleteSignatureException",
            AuthError::InvalidSignature(_) => "InvalidSignatureException",
            AuthError::UnrecognizedClient(_) => "UnrecognizedClientException",
        }
    }

    pub fn message(&self) -> String {
        match self {
            AuthError::MissingAuthenticationToken => "Request is missing Authentication Token".to_string(),
            AuthError::IncompleteSignature(m) | AuthError::InvalidSignature(m) | AuthError::UnrecognizedClient(m) => {
                m.clone()
            }
        }
    }

    pub fn unknown_key() -> AuthError {
        AuthError::UnrecognizedClient("The security token included in the request is invalid.".to_string())
    }
}

/// A parsed signature, borrowing from the request where it can (an Authorization header's
/// fields are slices of it; a presigned URL's are decoded copies).
#[derive(Clone, Debug)]
pub struct Signature<'a> {
    pub access_key_id: Cow<'a, str>,
    /// `20261203`.
    pub date: Cow<'a, str>,
    pub region: Cow<'a, str>,
    pub service: Cow<'a, str>,
    /// Lower-case names joined by `;`, as listed (see [`Signature::signed_header_names`]).
    pub signed_headers: Cow<'a, str>,
    pub signature: Cow<'a, str>,
    /// `20261203T072540Z`.
    pub amz_date: Cow<'a, str>,
    pub security_token: Option<Cow<'a, str>>,
    /// From the query string rather than the Authorization header.
    pub presigned: bool,
    /// `X-Amz-Expires` of a presigned request, in seconds.
    pub expires: Option<i64>,
}

impl Signature<'_> {
    /// The signed header names, lower-case, in the order listed.
    pub fn signed_header_names(&self) -> impl Iterator<Item = &str> {
        self.signed_headers.split(';')
    }
}

/// The `index`th `/`-separated part of a credential, borrowed when the credential is.
fn scope_part<'a>(credential: &Cow<'a, str>, index: usize) -> Cow<'a, str> {
    match credential {
        Cow::Borrowed(text) => Cow::Borrowed(text.split('/').nth(index).unwrap_or("")),
        Cow::Owned(text) => Cow::Owned(text.split('/').nth(index).unwrap_or("").to_string()),
    }
}

/// Parses the request's signature with AWS's checks in AWS's order (everything that needs
/// neither the clock nor the secret).
pub fn parse<'a>(parts: &RequestParts<'a>, service: &str) -> Result<Signature<'a>, AuthError> {
    let header = parts.header("authorization");
    let query = if parts.query.is_some_and(|q| !q.is_empty()) {
        parts.query_pairs()
    } else {
        Vec::new()
    };
    let query_value = |name: &str| -> Option<Cow<'a, str>> {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| Cow::Owned(v.clone()))
    };
    let presigned = query.iter().any(|(k, _)| k == "X-Amz-Algorithm");
    if header.is_some() && presigned {
        return Err(AuthError::InvalidSignature(
            "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.".to_string(),
        ));
    }
    let (algorithm, credential, signed_headers, signature, amz_date, expires) = match header {
        Some(header) => {
            let Some((algorithm, rest)) = header.split_once(' ') else {
                return if header.starts_with("AWS4-") {
                    Err(AuthError::IncompleteSignature(format!(
                        "Unsupported AWS 'algorithm': '{header}' (only AWS4-HMAC-SHA256 for now). "
                    )))
                } else {
                    Err(AuthError::MissingAuthenticationToken)
                };
            };
            if !algorithm.starts_with("AWS4-") {
                return Err(AuthError::MissingAuthenticationToken);
            }
            // The first of each field counts.
            let mut fields: [(&str, Option<&'a str>); 3] =
                [("Credential", None), ("Signature", None), ("SignedHeaders", None)];
            for part in rest.split(',') {
                if let Some((k, v)) = part.trim().split_once('=') {
                    let k = k.trim();
                    if let Some(slot) = fields.iter_mut().find(|(name, value)| *name == k && value.is_none()) {
                        slot.1 = Some(v.trim());
                    }
                }
            }
            let field = |name: &str| fields.iter().find(|(k, _)| *k == name).and_then(|(_, v)| *v);
            let mut missing = String::new();
            for name in ["Credential", "Signature", "SignedHeaders"] {
                if field(name).is_none() {
                    missing.push_str(&format!("Authorization header requires '{name}' parameter. "));
                }
            }
            let date = parts.header("x-amz-date").or(parts.header("date"));
            if date.is_none() {
                missing
                    .push_str("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ");
            }
            if !missing.is_empty() {
                return Err(AuthError::IncompleteSignature(format!(
                    "{missing}Authorization={header}"
                )));
            }
            (
                Cow::Borrowed(algorithm),
                Cow::Borrowed(field("Credential").unwrap_or_default()),
                Cow::Borrowed(field("SignedHeaders").unwrap_or_default()),
                Cow::Borrowed(field("Signature").unwrap_or_default()),
                Cow::Borrowed(date.unwrap_or_default()),
                None,
            )
        }
        None if presigned => {
            let mut missing = String::new();
            for name in [
                "X-Amz-Credential",
                "X-Amz-Signature",
                "X-Amz-SignedHeaders",
                "X-Amz-Date",
            ] {
                if query_value(name).is_none() {
                    missing.push_str(&format!("AWS query-string parameters must include '{name}'. "));
                }
            }
            if !missing.is_empty() {
                return Err(AuthError::IncompleteSignature(format!(
                    "{missing}Re-examine the query-string parameters."
                )));
            }
            let expires = query_value("X-Amz-Expires").and_then(|e| e.parse::<i64>().ok());
            (
                query_value("X-Amz-Algorithm").unwrap_or_default(),
                query_value("X-Amz-Credential").unwrap_or_default(),
                query_value("X-Amz-SignedHeaders").unwrap_or_default(),
                query_value("X-Amz-Signature").unwrap_or_default(),
                query_value("X-Amz-Date").unwrap_or_default(),
                expires,
            )
        }
        None => return Err(AuthError::MissingAuthenticationToken),
    };
    if algorithm != "AWS4-HMAC-SHA256" {
        return Err(AuthError::IncompleteSignature(format!(
            "Unsupported AWS 'algorithm': '{algorithm}' (only AWS4-HMAC-SHA256 for now). "
        )));
    }
    if !is_basic_iso8601(&amz_date) {
        return Err(AuthError::IncompleteSignature(format!(
            "Date must be in ISO-8601 'basic format'. Got '{amz_date}'. See http://en.wikipedia.org/wiki/ISO_8601"
        )));
    }
    if credential.split('/').count() != 5 {
        return Err(AuthError::IncompleteSignature(format!(
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{credential}'"
        )));
    }
    // Usually listed lower-case, in plain ASCII, without spaces: then kept as sent (anything
    // else goes through the trim and lower-casing, which also strip Unicode whitespace).
    let signed_headers = if signed_headers
        .bytes()
        .any(|b| !b.is_ascii_graphic() || b.is_ascii_uppercase())
    {
        Cow::Owned(
            signed_headers
                .split(';')
                .map(|h| h.trim().to_ascii_lowercase())
                .collect::<Vec<_>>()
                .join(";"),
        )
    } else {
        signed_headers
    };
    if !signed_headers.split(';').any(|h| h == "host") {
        return Err(AuthError::InvalidSignature(
            "'Host' must be a 'SignedHeader' in the AWS Authorization.".to_string(),
        ));
    }
    let (access_key_id, date, region, scoped_service, terminator) = (
        scope_part(&credential, 0),
        scope_part(&credential, 1),
        scope_part(&credential, 2),
        scope_part(&credential, 3),
        scope_part(&credential, 4),
    );
    let mut problems = Vec::new();
    if region.is_empty()
        || !region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        problems.push(format!(
            "Credential should be scoped to a valid region, not '{region}'."
        ));
    }
    if scoped_service != service {
        problems.push(format!("Credential should be scoped to correct service: '{service}'."));
    }
    if terminator != "aws4_request" {
        problems.push(format!(
            "Credential should be scoped with a valid terminator: 'aws4_request', not '{terminator}'."
        ));
    }
    if date != amz_date[..8] {
        problems.push(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{date}' != '{}', from '{amz_date}'.",
            &amz_date[..8]
        ));
    }
    if !problems.is_empty() {
        return Err(AuthError::InvalidSignature(problems.join(" ")));
    }
    let security_token = match parts.header("x-amz-security-token") {
        Some(token) => Some(Cow::Borrowed(token)),
        None => query_value("X-Amz-Security-Token"),
    };
    Ok(Signature {
        access_key_id,
        date,
        region,
        service: scoped_service,
        signed_headers,
        signature,
        amz_date,
        security_token,
        presigned,
        expires,
    })
}

/// `20261203T072540Z`.
fn is_basic_iso8601(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 16
        && bytes[8] == b'T'
        && bytes[15] == b'Z'
        && bytes[..8].iter().all(u8::is_ascii_digit)
        && bytes[9..15].iter().all(u8::is_ascii_digit)
}

/// Epoch seconds of a basic ISO 8601 time.
pub fn parse_amz_date(text: &str) -> Option<i64> {
    if !is_basic_iso8601(text) {
        return None;
    }
    let number = |range: std::ops::Range<usize>| text.get(range)?.parse::<i64>().ok();
    let (year, month, day) = (number(0..4)?, number(4..6)?, number(6..8)?);
    let (hour, minute, second) = (number(9..11)?, number(11..13)?, number(13..15)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second)
}

/// `20261203T072540Z` of epoch seconds.
pub fn format_amz_date(epoch: i64) -> String {
    let days = epoch.div_euclid(86_400);
    let in_day = epoch.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        in_day / 3600,
        in_day % 3600 / 60,
        in_day % 60
    )
}

/// Checks the signature's time against `now` (epoch seconds): 15 minutes either way, or a
/// presigned request's own expiry.
pub fn check_time(signature: &Signature, now: i64) -> Result<(), AuthError> {
    let Some(signed_at) = parse_amz_date(&signature.amz_date) else {
        return Err(AuthError::IncompleteSignature(format!(
            "Date must be in ISO-8601 'basic format'. Got '{}'. See http://en.wikipedia.org/wiki/ISO_8601",
            signature.amz_date
        )));
    };
    if let Some(expires) = signature.expires {
        if now > signed_at + expires {
            return Err(AuthError::InvalidSignature(format!(
                "Signature expired: {} is now earlier than {} ({} - {expires} sec.)",
                format_amz_date(signed_at + expires),
                format_amz_date(now),
                format_amz_date(now)
            )));
        }
        return Ok(());
    }
    if signed_at < now - CLOCK_SKEW_SECONDS {
        return Err(AuthError::InvalidSignature(format!(
            "Signature expired: {} is now earlier than {} ({} - 15 min.)",
            signature.amz_date,
            format_amz_date(now - CLOCK_SKEW_SECONDS),
            format_amz_date(now)
        )));
    }
    if signed_at > now + CLOCK_SKEW_SECONDS {
        return Err(AuthError::InvalidSignature(format!(
            "Signature not yet current: {} is still later than {} ({} + 15 min.)",
            signature.amz_date,
            format_amz_date(now + CLOCK_SKEW_SECONDS),
            format_amz_date(now)
        )));
    }
    Ok(())
}

#[cfg(test)]
fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    push_hex(&mut out, bytes);
    out
}

/// Appends the lower-case hex of `bytes` to `out`.
fn push_hex(out: &mut String, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for byte in bytes {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 15)]));
    }
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC takes keys of any length: new_from_slice cannot fail.
    match HmacSha256::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(data);
            mac.finalize().into_bytes().into()
        }
        Err(_) => [0; 32],
    }
}

/// RFC 3986 encoding as SigV4 wants it: unreserved characters kept, everything else `%XX`.
fn uri_encode(text: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(text.len());
    push_uri_encoded(&mut out, text, keep_slash);
    out
}

/// Appends [`uri_encode`]'s form of `text` to `out`.
fn push_uri_encoded(out: &mut String, text: &str, keep_slash: bool) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(char::from(byte)),
            b'/' if keep_slash => out.push('/'),
            _ => {
                out.push('%');
                out.push(char::from(HEX[usize::from(byte >> 4)]));
                out.push(char::from(HEX[usize::from(byte & 15)]));
            }
        }
    }
}

/// Decodes `%XX` escapes and `+` (form encoding).
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%'
            && index + 2 < bytes.len()
            && let (Some(high), Some(low)) = (
                (bytes[index + 1] as char).to_digit(16),
                (bytes[index + 2] as char).to_digit(16),
            )
        {
            out.push((high * 16 + low) as u8);
            index += 3;
            continue;
        }
        out.push(if bytes[index] == b'+' { b' ' } else { bytes[index] });
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The canonical request of what arrived, for the headers the signature lists.
pub fn canonical_request(parts: &RequestParts<'_>, signature: &Signature) -> String {
    let mut canonical = String::with_capacity(512);
    canonical.push_str(parts.method);
    canonical.push('\n');
    // Non-S3 services encode each path segment twice: the path arrives encoded once.
    let path = if parts.path.is_empty() { "/" } else { parts.path };
    push_uri_encoded(&mut canonical, path, true);
    canonical.push('\n');
    if parts.query.is_some_and(|q| !q.is_empty()) {
        let mut query: Vec<(String, String)> = parts
            .query_pairs()
            .into_iter()
            .filter(|(k, _)| !(signature.presigned && k == "X-Amz-Signature"))
            .map(|(k, v)| (uri_encode(&k, false), uri_encode(&v, false)))
            .collect();
        query.sort();
        for (index, (k, v)) in query.iter().enumerate() {
            if index > 0 {
                canonical.push('&');
            }
            canonical.push_str(k);
            canonical.push('=');
            canonical.push_str(v);
        }
    }
    canonical.push('\n');
    for name in signature.signed_header_names() {
        canonical.push_str(name);
        canonical.push(':');
        let mut first = true;
        for (_, value) in parts.headers.iter().filter(|(n, _)| *n == name) {
            if !first {
                canonical.push(',');
            }
            first = false;
            // Trimmed, inner runs of spaces collapsed to one (most values need neither).
            let plain = value.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
                && !value.starts_with(' ')
                && !value.ends_with(' ')
                && !value.contains("  ");
            if plain {
                canonical.push_str(value);
                continue;
            }
            for (index, word) in value.split_whitespace().enumerate() {
                if index > 0 {
                    canonical.push(' ');
                }
                canonical.push_str(word);
            }
        }
        canonical.push('\n');
    }
    canonical.push('\n');
    canonical.push_str(&signature.signed_headers);
    canonical.push('\n');
    // The payload is hashed from the bytes that arrived: an `x-amz-content-sha256` header that
    // claims another hash cannot make a changed body verify. `UNSIGNED-PAYLOAD` is honoured where
    // the client declared it (in the header, or in a presigned URL's `X-Amz-Content-Sha256`, as
    // S3 uses it); the headers stay signed. Other presigned URLs sign the (empty) body's hash, as
    // the SDKs compute it for every service but S3.
    let unsigned = match parts.header("x-amz-content-sha256") {
        Some(declared) => declared == "UNSIGNED-PAYLOAD",
        None => {
            signature.presigned
                && parts
                    .query_pairs()
                    .iter()
                    .any(|(k, v)| k == "X-Amz-Content-Sha256" && v == "UNSIGNED-PAYLOAD")
        }
    };
    if unsigned {
        canonical.push_str("UNSIGNED-PAYLOAD");
    } else {
        push_hex(&mut canonical, &Sha256::digest(parts.body));
    }
    canonical
}

pub fn string_to_sign(signature: &Signature, canonical: &str) -> String {
    let mut out = String::with_capacity(160);
    for part in [
        "AWS4-HMAC-SHA256\n",
        &signature.amz_date,
        "\n",
        &signature.date,
        "/",
        &signature.region,
        "/",
        &signature.service,
        "/aws4_request\n",
    ] {
        out.push_str(part);
    }
    push_hex(&mut out, &Sha256::digest(canonical.as_bytes()));
    out
}

/// The signing key a secret derives for a day, region and service (the four-HMAC chain; the
/// same for every request of that scope, so callers may keep it).
pub fn signing_key(secret: &Secret, date: &str, region: &str, service: &str) -> [u8; 32] {
    let key = hmac(format!("AWS4{}", secret.expose()).as_bytes(), date.as_bytes());
    let key = hmac(&key, region.as_bytes());
    let key = hmac(&key, service.as_bytes());
    hmac(&key, b"aws4_request")
}

/// The signature the secret gives for a string to sign.
pub fn sign(secret: &Secret, signature: &Signature, string_to_sign: &str) -> String {
    let key = signing_key(secret, &signature.date, &signature.region, &signature.service);
    hex(&hmac(&key, string_to_sign.as_bytes()))
}

/// Verifies the signature with the caller's secret (after [`parse`] and [`check_time`]).
pub fn verify(parts: &RequestParts<'_>, signature: &Signature, secret: &Secret) -> Result<(), AuthError> {
    let key = signing_key(secret, &signature.date, &signature.region, &signature.service);
    verify_with_key(parts, signature, &key)
}

/// [`verify`] with the scope's signing key already derived.
pub fn verify_with_key(parts: &RequestParts<'_>, signature: &Signature, key: &[u8; 32]) -> Result<(), AuthError> {
    let canonical = canonical_request(parts, signature);
    let to_sign = string_to_sign(signature, &canonical);
    let mut expected = String::with_capacity(64);
    push_hex(&mut expected, &hmac(key, to_sign.as_bytes()));
    if crate::secret::constant_time_eq(expected.as_bytes(), signature.signature.as_bytes()) {
        return Ok(());
    }
    Err(AuthError::InvalidSignature(format!(
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.\n\nThe Canonical String for this request should have been\n'{canonical}'\n\nThe String-to-Sign should have been\n'{to_sign}'\n"
    )))
}

/// Signs a request as an SDK would (for Stratus's own clients, such as `stratus invoke`): every
/// header in `parts` is signed; `parts` must hold `host` and an `x-amz-date` of `amz_date`.
pub fn authorization_header(
    parts: &RequestParts<'_>,
    access_key_id: &str,
    secret: &Secret,
    region: &str,
    service: &str,
    amz_date: &str,
) -> String {
    let mut signed_headers: Vec<String> = parts
        .headers
        .iter()
        .map(|(name, _)| name.to_ascii_lowercase())
        .collect();
    signed_headers.sort();
    signed_headers.dedup();
    let signature = Signature {
        access_key_id: Cow::Borrowed(access_key_id),
        date: Cow::Borrowed(amz_date.get(..8).unwrap_or("")),
        region: Cow::Borrowed(region),
        service: Cow::Borrowed(service),
        signed_headers: Cow::Owned(signed_headers.join(";")),
        signature: Cow::Borrowed(""),
        amz_date: Cow::Borrowed(amz_date),
        security_token: None,
        presigned: false,
        expires: None,
    };
    let canonical = canonical_request(parts, &signature);
    let signed = sign(secret, &signature, &string_to_sign(&signature, &canonical));
    format!(
        "AWS4-HMAC-SHA256 Credential={access_key_id}/{}/{region}/{service}/aws4_request, SignedHeaders={}, Signature={signed}",
        signature.date, signature.signed_headers
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `GET /` with these headers and no body.
    fn get_root<'a>(headers: &'a [(&'a str, &'a str)]) -> RequestParts<'a> {
        RequestParts {
            method: "GET",
            path: "/",
            query: None,
            headers,
            body: b"",
        }
    }

    /// AWS's own example (IAM docs, "Signature Version 4 test suite": get-vanilla), with the
    /// example credentials AKIDEXAMPLE / wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY.
    #[test]
    fn the_aws_test_suite_get_vanilla_signature_verifies() {
        let headers = vec![
            ("host", "example.amazonaws.com"),
            ("x-amz-date", "20150830T123600Z"),
            (
                "authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
            ),
        ];
        let parts = get_root(&headers);
        let signature = parse(&parts, "service").unwrap_or_else(|e| panic!("{e:?}"));
        let secret = Secret::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
        assert_eq!(
            canonical_request(&parts, &signature),
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(verify(&parts, &signature, &secret), Ok(()));
        let wrong = Secret::new("not the secret");
        assert!(
            matches!(verify(&parts, &signature, &wrong), Err(AuthError::InvalidSignature(m)) if m.starts_with("The request signature we calculated"))
        );
        assert_eq!(
            check_time(&signature, parse_amz_date("20150830T124000Z").unwrap_or(0)),
            Ok(())
        );
        assert!(matches!(
            check_time(&signature, parse_amz_date("20150830T130000Z").unwrap_or(0)),
            Err(AuthError::InvalidSignature(m)) if m == "Signature expired: 20150830T123600Z is now earlier than 20150830T124500Z (20150830T130000Z - 15 min.)"
        ));
    }

    #[test]
    fn malformed_signatures_get_awss_messages() {
        let cases: Vec<(&str, Option<&str>, AuthError)> = vec![
            ("", None, AuthError::MissingAuthenticationToken),
            (
                "AWS4-HMAC-SHA256 Credential=a/20150830/us-east-1/dynamodb/aws4_request",
                Some("20150830T123600Z"),
                AuthError::IncompleteSignature("Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization=AWS4-HMAC-SHA256 Credential=a/20150830/us-east-1/dynamodb/aws4_request".to_string()),
            ),
            (
                "AWS4-HMAC-SHA256 Credential=a/b/c/d, SignedHeaders=host, Signature=x",
                Some("20150830T123600Z"),
                AuthError::IncompleteSignature("Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'a/b/c/d'".to_string()),
            ),
            (
                "AWS4-HMAC-SHA256 Credential=a/20150830/us-east-1/dynamodb/aws4_request, SignedHeaders=x-amz-date, Signature=x",
                Some("20150830T123600Z"),
                AuthError::InvalidSignature("'Host' must be a 'SignedHeader' in the AWS Authorization.".to_string()),
            ),
            (
                "AWS4-HMAC-SHA256 Credential=a/20150829/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=x",
                Some("20150830T123600Z"),
                AuthError::InvalidSignature("Credential should be scoped to correct service: 'dynamodb'. Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20150829' != '20150830', from '20150830T123600Z'.".to_string()),
            ),
            (
                "AWS4-HMAC-SHA256 Credential=a/20150830/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=x",
                Some("201"),
                AuthError::IncompleteSignature("Date must be in ISO-8601 'basic format'. Got '201'. See http://en.wikipedia.org/wiki/ISO_8601".to_string()),
            ),
        ];
        for (authorization, date, expected) in cases {
            let mut headers = vec![("host", "localhost")];
            if !authorization.is_empty() {
                headers.push(("authorization", authorization));
            }
            if let Some(date) = date {
                headers.push(("x-amz-date", date));
            }
            let parts = RequestParts {
                method: "POST",
                path: "/",
                query: None,
                headers: &headers,
                body: b"{}",
            };
            assert_eq!(parse(&parts, "dynamodb").map(|_| ()), Err(expected), "{authorization}");
        }
    }

    #[test]
    fn a_signed_request_verifies_and_a_changed_body_does_not() {
        let secret = Secret::new("test");
        let body_hash = sha256_hex(br#"{"TableName":"T"}"#);
        let mut headers = vec![
            ("host", "127.0.0.1:4566"),
            ("x-amz-date", "20261203T080000Z"),
            ("x-amz-content-sha256", body_hash.as_str()),
        ];
        let body = br#"{"TableName":"T"}"#;
        let parts = RequestParts {
            method: "POST",
            path: "/",
            query: None,
            headers: &headers,
            body,
        };
        let header = authorization_header(&parts, "test", &secret, "us-east-1", "dynamodb", "20261203T080000Z");
        headers.push(("authorization", header.as_str()));
        let check = |body: &[u8]| {
            let parts = RequestParts {
                method: "POST",
                path: "/",
                query: None,
                headers: &headers,
                body,
            };
            let signature = parse(&parts, "dynamodb").unwrap_or_else(|e| panic!("{e:?}"));
            verify(&parts, &signature, &secret)
        };
        assert_eq!(check(body), Ok(()));
        // The x-amz-content-sha256 header still claims the old body's hash: no use.
        assert!(matches!(
            check(br#"{"TableName":"U"}"#),
            Err(AuthError::InvalidSignature(_))
        ));
    }

    #[test]
    fn header_values_are_trimmed_and_inner_spaces_collapsed() {
        let authorization = "AWS4-HMAC-SHA256 Credential=K/20150830/us-east-1/service/aws4_request, SignedHeaders=Host;My-Header1;X-Amz-Date, Signature=x";
        let headers = vec![
            ("host", "example.amazonaws.com"),
            ("my-header1", "  value1   value2\t"),
            ("my-header1", "plain value"),
            ("x-amz-date", "20150830T123600Z"),
            ("authorization", authorization),
        ];
        let parts = get_root(&headers);
        let signature = parse(&parts, "service").unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(signature.signed_headers, "host;my-header1;x-amz-date");
        assert_eq!(signature.access_key_id, "K");
        assert_eq!(
            canonical_request(&parts, &signature),
            "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value1 value2,plain value\nx-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn signed_header_names_are_trimmed_of_unicode_whitespace_too() {
        let authorization = "AWS4-HMAC-SHA256 Credential=K/20150830/us-east-1/service/aws4_request, SignedHeaders=host\u{a0};x-amz-date, Signature=x";
        let headers = vec![
            ("host", "example.amazonaws.com"),
            ("x-amz-date", "20150830T123600Z"),
            ("authorization", authorization),
        ];
        let parts = get_root(&headers);
        let signature = parse(&parts, "service").unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(signature.signed_headers, "host;x-amz-date");
    }

    #[test]
    fn dates_round_trip() {
        assert_eq!(
            format_amz_date(parse_amz_date("20261203T072540Z").unwrap_or(0)),
            "20261203T072540Z"
        );
        assert_eq!(parse_amz_date("20261303T072540Z"), None);
    }
}
