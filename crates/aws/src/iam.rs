//! IAM at the AWS endpoint: every request is authenticated (SigV4 against the known
//! credentials) and, for function credentials, each permission it needs is evaluated against
//! the function's role policies before any service sees it.
//!
//! `enforce` refuses as AWS would; `audit` authenticates the same way but only logs what it
//! would have refused (with AWS's message); `off` checks neither signatures nor policies, as
//! DynamoDB Local (a SigV4-shaped Authorization header is still required, as there).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use stratus_iam::evaluate::{self, Context, Decision};
use stratus_iam::report::Usage;
use stratus_iam::sigv4::{self, AuthError, RequestParts};
use stratus_iam::{Credentials, Principal};

use crate::dynamodb::access::Need;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    Enforce,
    Audit,
    Off,
}

impl Mode {
    pub fn from_name(name: &str) -> Option<Mode> {
        match name {
            "enforce" => Some(Mode::Enforce),
            "audit" => Some(Mode::Audit),
            "off" => Some(Mode::Off),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Mode::Enforce => "enforce",
            Mode::Audit => "audit",
            Mode::Off => "off",
        }
    }
}

/// Where audit-mode findings go (the server's log).
pub type AuditSink = Box<dyn Fn(&str) + Send + Sync>;

pub struct Iam {
    pub mode: Mode,
    pub credentials: Arc<Credentials>,
    /// What each function used, allowed or refused (for `stratus iam report`).
    pub usage: Usage,
    region: String,
    audit: AuditSink,
    /// Signing keys derived before, by access key: (date, region, service, key). Deriving one
    /// takes four HMACs; a key's scope changes once a day.
    signing_keys: RwLock<HashMap<String, SigningKey>>,
    /// Seconds added to the system clock for signature times (a testing aid).
    clock_offset: i64,
}

struct SigningKey {
    date: String,
    region: String,
    service: String,
    key: [u8; 32],
}

/// Derived keys kept at most (minted keys come and go with instances).
const SIGNING_KEYS_MAX: usize = 4096;

/// An authenticated caller and where the request came from.
#[derive(Clone, Debug)]
pub struct Caller {
    pub principal: Arc<Principal>,
    pub source_ip: String,
}

/// A refused request: AWS's AccessDeniedException message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Denied {
    pub message: String,
}

impl Iam {
    pub fn new(mode: Mode, credentials: Arc<Credentials>, region: &str, audit: AuditSink) -> Iam {
        Iam {
            mode,
            credentials,
            usage: Usage::default(),
            region: region.to_string(),
            audit,
            signing_keys: RwLock::new(HashMap::new()),
            clock_offset: 0,
        }
    }

    /// Checks signature times against a clock shifted by `seconds` (the binary sets it from
    /// `STRATUS_CLOCK_OFFSET_SECONDS`: a testing aid for replaying a captured request "later").
    pub fn with_clock_offset(mut self, seconds: i64) -> Iam {
        self.clock_offset = seconds;
        self
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    /// Authenticates a request for `service`; `Ok(None)` when IAM is off.
    pub fn authenticate(
        &self,
        parts: &RequestParts<'_>,
        service: &str,
        source_ip: &str,
    ) -> Result<Option<Caller>, AuthError> {
        if self.mode == Mode::Off {
            return Ok(None);
        }
        let signature = sigv4::parse(parts, service)?;
        sigv4::check_time(&signature, now_seconds() + self.clock_offset)?;
        let (secret, principal) = self.credentials.authenticate(&signature)?;
        let key = self.signing_key(&signature, &secret);
        sigv4::verify_with_key(parts, &signature, &key)?;
        Ok(Some(Caller {
            principal,
            source_ip: source_ip.to_string(),
        }))
    }

    /// The signing key of a signature's scope, derived once per key and scope.
    fn signing_key(&self, signature: &sigv4::Signature<'_>, secret: &stratus_iam::Secret) -> [u8; 32] {
        if let Ok(keys) = self.signing_keys.read()
            && let Some(known) = keys.get(signature.access_key_id.as_ref())
            && known.date == signature.date
            && known.region == signature.region
            && known.service == signature.service
        {
            return known.key;
        }
        let key = sigv4::signing_key(secret, &signature.date, &signature.region, &signature.service);
        if let Ok(mut keys) = self.signing_keys.write() {
            if keys.len() >= SIGNING_KEYS_MAX {
                keys.clear();
            }
            keys.insert(
                signature.access_key_id.to_string(),
                SigningKey {
                    date: signature.date.to_string(),
                    region: signature.region.to_string(),
                    service: signature.service.to_string(),
                    key,
                },
            );
        }
        key
    }

    /// Decides every permission a request needs, in order; the first refusal is returned
    /// (in enforce mode) or logged (in audit mode). The administrator may do everything.
    pub fn authorize(&self, caller: Option<&Caller>, needs: &[Need]) -> Result<(), Denied> {
        let Some(caller) = caller else {
            return Ok(());
        };
        // Another account's resource is allowed only by that account's resource-based policy,
        // and none exists locally: refused whoever asks, as AWS refuses it.
        for need in needs {
            if arn_account(&need.resource).is_some_and(|account| account != caller.principal.account()) {
                let message = format!(
                    "User: {} is not authorized to perform: {} on resource: {} because no resource-based policy allows the {} action",
                    caller.principal.arn(),
                    need.action,
                    need.resource,
                    need.action
                );
                match self.mode {
                    Mode::Enforce => return Err(Denied { message }),
                    Mode::Audit => (self.audit)(&format!("IAM audit: would refuse AccessDeniedException: {message}")),
                    Mode::Off => {}
                }
            }
        }
        let Principal::Role { function, policies, .. } = caller.principal.as_ref() else {
            return Ok(());
        };
        let reads_context = caller.principal.reads_context();
        let base = if reads_context {
            self.context(caller)
        } else {
            Context::new()
        };
        for need in needs {
            let mut context = base.clone();
            for (key, values) in &need.keys {
                context.set_all(key, values.clone());
            }
            let decision = evaluate::evaluate(
                policies,
                &evaluate::Request {
                    action: &need.action,
                    resource: &need.resource,
                    context: &context,
                },
            );
            self.usage.record(function, &need.action, &need.resource, &decision);
            if decision == Decision::Allow {
                continue;
            }
            let message = evaluate::denial_message(&caller.principal.arn(), &need.action, &need.resource, &decision);
            match self.mode {
                Mode::Enforce => return Err(Denied { message }),
                Mode::Audit => (self.audit)(&format!("IAM audit: would refuse AccessDeniedException: {message}")),
                Mode::Off => {}
            }
        }
        Ok(())
    }

    /// The global condition keys of a request.
    fn context(&self, caller: &Caller) -> Context {
        let mut context = Context::new();
        let now = now_seconds();
        let principal = caller.principal.as_ref();
        context.set("aws:SourceIp", caller.source_ip.clone());
        context.set("aws:CurrentTime", iso8601(now));
        context.set("aws:EpochTime", now.to_string());
        context.set("aws:SecureTransport", "false");
        context.set("aws:RequestedRegion", self.region.clone());
        context.set("aws:PrincipalAccount", principal.account().to_string());
        context.set("aws:userid", principal.user_id());
        match principal {
            Principal::Role { role_arn, .. } => {
                // For a role session, aws:PrincipalArn is the role's ARN.
                context.set("aws:PrincipalArn", role_arn.clone());
                context.set("aws:PrincipalType", "AssumedRole");
            }
            Principal::Admin { .. } => {
                context.set("aws:PrincipalArn", principal.arn());
                context.set("aws:PrincipalType", "Account");
            }
        }
        context
    }
}

/// The account an ARN names (`arn:PARTITION:SERVICE:REGION:ACCOUNT:...`), if it names one: twelve
/// digits (AWS-managed ARNs such as `arn:aws:iam::aws:policy/...` name none).
fn arn_account(arn: &str) -> Option<&str> {
    let mut parts = arn.strip_prefix("arn:")?.split(':');
    let account = parts.nth(3)?;
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())).then_some(account)
}

fn now_seconds() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// `2026-12-03T08:00:00Z`, as `aws:CurrentTime` is given.
fn iso8601(epoch: i64) -> String {
    let basic = sigv4::format_amz_date(epoch);
    // 20261203T080000Z → 2026-12-03T08:00:00Z
    format!(
        "{}-{}-{}T{}:{}:{}Z",
        &basic[0..4],
        &basic[4..6],
        &basic[6..8],
        &basic[9..11],
        &basic[11..13],
        &basic[13..15]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn current_time_is_extended_iso8601() {
        assert_eq!(iso8601(1_796_284_800), "2026-12-03T08:00:00Z");
    }

    #[test]
    fn an_arn_names_its_account() {
        let cases = [
            (
                "arn:aws:lambda:us-east-1:111111111111:function:Echo",
                Some("111111111111"),
            ),
            (
                "arn:aws:dynamodb:us-east-1:000000000000:table/books",
                Some("000000000000"),
            ),
            ("arn:aws:s3:::bucket", None),
            ("*", None),
            ("arn:aws:iam", None),
            ("arn:aws:iam::aws:policy/ReadOnlyAccess", None),
        ];
        for (arn, account) in cases {
            assert_eq!(arn_account(arn), account, "{arn}");
        }
    }
}
