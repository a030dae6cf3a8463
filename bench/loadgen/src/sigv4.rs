//! Minimal AWS Signature Version 4 for DynamoDB JSON 1.0 POSTs to `/`, and for REST-JSON
//! requests such as Lambda's Invoke (`POST /2015-03-31/functions/NAME/invocations`).
//!
//! Signs `content-type;host;x-amz-date;x-amz-target` (DynamoDB) or `content-type;host;x-amz-date`
//! (REST) like the AWS SDKs do.
//! The signing key is cached per day and the date strings per second, so the
//! per-request cost is two SHA-256 passes plus one HMAC.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::fmt::Write as _;

type HmacSha256 = Hmac<Sha256>;

pub const CONTENT_TYPE: &str = "application/x-amz-json-1.0";
const SIGNED_HEADERS: &str = "content-type;host;x-amz-date;x-amz-target";
const SIGNED_HEADERS_TOKEN: &str = "content-type;host;x-amz-date;x-amz-security-token;x-amz-target";

pub struct Signer {
    access_key: String,
    secret: String,
    region: String,
    service: String,
    host: String,
    cached_sec: u64,
    amz_date: String,  // 20240101T000000Z
    date: String,      // 20240101
    key_date: String,  // date the signing key belongs to
    signing_key: [u8; 32],
    scratch: String,
    /// A session token (temporary credentials), signed as `x-amz-security-token`.
    token: Option<String>,
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut m = HmacSha256::new_from_slice(key).expect("hmac accepts any key length");
    m.update(data);
    m.finalize().into_bytes().into()
}

pub fn hex(bytes: &[u8], out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(HEX[(b >> 4) as usize] as char);
        out.push(HEX[(b & 15) as usize] as char);
    }
}

/// Days since 1970-01-01 to (year, month, day) — Howard Hinnant's civil_from_days.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

pub fn amz_date(epoch_secs: u64) -> String {
    let days = (epoch_secs / 86_400) as i64;
    let rem = epoch_secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z", rem / 3600, (rem / 60) % 60, rem % 60)
}

impl Signer {
    pub fn new(access_key: &str, secret: &str, region: &str, host: &str) -> Self {
        Self::for_service(access_key, secret, region, host, "dynamodb")
    }

    pub fn for_service(access_key: &str, secret: &str, region: &str, host: &str, service: &str) -> Self {
        Signer {
            access_key: access_key.into(),
            secret: secret.into(),
            region: region.into(),
            service: service.into(),
            host: host.into(),
            cached_sec: u64::MAX,
            amz_date: String::new(),
            date: String::new(),
            key_date: String::new(),
            signing_key: [0; 32],
            scratch: String::with_capacity(512),
            token: None,
        }
    }

    /// The DynamoDB signer of a run: the administrator `test`/`test`, or the credentials in
    /// `LOADGEN_ACCESS_KEY_ID` / `LOADGEN_SECRET_ACCESS_KEY` / `LOADGEN_SESSION_TOKEN` (a
    /// function's minted credentials, for the IAM benchmark).
    pub fn from_env(region: &str, host: &str) -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        match (var("LOADGEN_ACCESS_KEY_ID"), var("LOADGEN_SECRET_ACCESS_KEY")) {
            (Some(key), Some(secret)) => {
                let mut signer = Self::new(&key, &secret, region, host);
                signer.token = var("LOADGEN_SESSION_TOKEN");
                signer
            }
            _ => Self::new("test", "test", region, host),
        }
    }

    fn set_time(&mut self, epoch_secs: u64) {
        if epoch_secs == self.cached_sec {
            return;
        }
        self.cached_sec = epoch_secs;
        self.amz_date = amz_date(epoch_secs);
        self.date = self.amz_date[..8].to_string();
        if self.key_date != self.date {
            let k = hmac(format!("AWS4{}", self.secret).as_bytes(), self.date.as_bytes());
            let k = hmac(&k, self.region.as_bytes());
            let k = hmac(&k, self.service.as_bytes());
            self.signing_key = hmac(&k, b"aws4_request");
            self.key_date = self.date.clone();
        }
    }

    /// Appends a complete HTTP/1.1 request (headers + body) for `target` to `out`.
    pub fn write_request(&mut self, epoch_secs: u64, target: &str, body: &[u8], out: &mut Vec<u8>) {
        self.set_time(epoch_secs);
        let s = &mut self.scratch;
        s.clear();
        // Canonical request.
        s.push_str("POST\n/\n\ncontent-type:");
        s.push_str(CONTENT_TYPE);
        s.push_str("\nhost:");
        s.push_str(&self.host);
        s.push_str("\nx-amz-date:");
        s.push_str(&self.amz_date);
        if let Some(token) = &self.token {
            s.push_str("\nx-amz-security-token:");
            s.push_str(token);
        }
        s.push_str("\nx-amz-target:");
        s.push_str(target);
        s.push_str("\n\n");
        let signed_headers = if self.token.is_some() { SIGNED_HEADERS_TOKEN } else { SIGNED_HEADERS };
        s.push_str(signed_headers);
        s.push('\n');
        hex(&Sha256::digest(body), s);
        let creq_hash = Sha256::digest(s.as_bytes());
        // String to sign.
        s.clear();
        s.push_str("AWS4-HMAC-SHA256\n");
        s.push_str(&self.amz_date);
        s.push('\n');
        let _ = write!(s, "{}/{}/{}/aws4_request\n", self.date, self.region, self.service);
        hex(&creq_hash, s);
        let sig = hmac(&self.signing_key, s.as_bytes());
        s.clear();
        hex(&sig, s);

        let _ = write!(
            VecWriter(out),
            "POST / HTTP/1.1\r\nHost: {}\r\nContent-Type: {}\r\nX-Amz-Target: {}\r\nX-Amz-Date: {}\r\n\
             Authorization: AWS4-HMAC-SHA256 Credential={}/{}/{}/{}/aws4_request, SignedHeaders={}, Signature={}\r\n",
            self.host,
            CONTENT_TYPE,
            target,
            self.amz_date,
            self.access_key,
            self.date,
            self.region,
            self.service,
            signed_headers,
            s,
        );
        if let Some(token) = &self.token {
            let _ = write!(VecWriter(out), "X-Amz-Security-Token: {token}\r\n");
        }
        let _ = write!(VecWriter(out), "Content-Length: {}\r\n\r\n", body.len());
        out.extend_from_slice(body);
    }
}

impl Signer {
    /// Appends a complete signed REST request: `METHOD path` (no query string; the path must
    /// already be in canonical, URI-encoded form) with a JSON body.
    pub fn write_rest_request(&mut self, epoch_secs: u64, method: &str, path: &str, body: &[u8], out: &mut Vec<u8>) {
        const REST_SIGNED: &str = "content-type;host;x-amz-date";
        const REST_TYPE: &str = "application/json";
        self.set_time(epoch_secs);
        let s = &mut self.scratch;
        s.clear();
        s.push_str(method);
        s.push('\n');
        s.push_str(path);
        s.push_str("\n\ncontent-type:");
        s.push_str(REST_TYPE);
        s.push_str("\nhost:");
        s.push_str(&self.host);
        s.push_str("\nx-amz-date:");
        s.push_str(&self.amz_date);
        s.push_str("\n\n");
        s.push_str(REST_SIGNED);
        s.push('\n');
        hex(&Sha256::digest(body), s);
        let creq_hash = Sha256::digest(s.as_bytes());
        s.clear();
        s.push_str("AWS4-HMAC-SHA256\n");
        s.push_str(&self.amz_date);
        s.push('\n');
        let _ = write!(s, "{}/{}/{}/aws4_request\n", self.date, self.region, self.service);
        hex(&creq_hash, s);
        let sig = hmac(&self.signing_key, s.as_bytes());
        s.clear();
        hex(&sig, s);
        let _ = write!(
            VecWriter(out),
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: {REST_TYPE}\r\nX-Amz-Date: {}\r\n\
             Authorization: AWS4-HMAC-SHA256 Credential={}/{}/{}/{}/aws4_request, SignedHeaders={REST_SIGNED}, Signature={}\r\n\
             Content-Length: {}\r\n\r\n",
            self.host,
            self.amz_date,
            self.access_key,
            self.date,
            self.region,
            self.service,
            s,
            body.len()
        );
        out.extend_from_slice(body);
    }
}

struct VecWriter<'a>(&'a mut Vec<u8>);
impl std::fmt::Write for VecWriter<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(amz_date(0), "19700101T000000Z");
        assert_eq!(amz_date(1_700_000_000), "20231114T221320Z");
        assert_eq!(amz_date(951_782_400), "20000229T000000Z");
    }

    /// Reference computed with botocore's SigV4Auth (see bench/README.md).
    #[test]
    fn matches_botocore() {
        let mut s = Signer::new("test", "test", "us-east-1", "127.0.0.1:8000");
        let mut out = Vec::new();
        s.write_request(1_700_000_000, "DynamoDB_20120810.ListTables", b"{}", &mut out);
        let text = String::from_utf8(out).unwrap();
        let auth = text.lines().find(|l| l.starts_with("Authorization:")).unwrap();
        assert!(auth.contains("Credential=test/20231114/us-east-1/dynamodb/aws4_request"));
        assert!(auth.ends_with(&format!("Signature={}", BOTOCORE_SIG)), "{auth}");
    }
    const BOTOCORE_SIG: &str = "06615545549bcd2dac7eaf242c1b6847218b43d40078c0ac0a7766f488dddf2c";
}
