//! Policy evaluation as the IAM User Guide documents it for identity-based policies: an explicit
//! `Deny` wins, then an `Allow`; no matching statement is an implicit deny. Actions match
//! case-insensitively with `*` and `?`; resources case-sensitively, after policy variables
//! (`${aws:username}`, `${aws:PrincipalArn}`, …) are replaced from the request's context.

use std::collections::HashMap;

use crate::policy::{Condition, Effect, Matcher, Policy, SetQualifier, Statement};

/// The request context: condition keys (lower-case) and their values.
#[derive(Clone, Debug, Default)]
pub struct Context {
    values: HashMap<String, Vec<String>>,
}

impl Context {
    pub fn new() -> Context {
        Context::default()
    }

    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        self.values.insert(key.to_ascii_lowercase(), vec![value.into()]);
    }

    pub fn set_all(&mut self, key: &str, values: Vec<String>) {
        self.values.insert(key.to_ascii_lowercase(), values);
    }

    pub fn get(&self, key: &str) -> Option<&Vec<String>> {
        self.values.get(&key.to_ascii_lowercase())
    }
}

/// What is asked: an action (`dynamodb:PutItem`) on a resource ARN, in a context.
pub struct Request<'a> {
    pub action: &'a str,
    pub resource: &'a str,
    pub context: &'a Context,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// No statement allows it.
    ImplicitDeny,
    /// A `Deny` statement matched, in this policy.
    ExplicitDeny {
        policy: String,
    },
}

impl Decision {
    pub fn is_allowed(&self) -> bool {
        *self == Decision::Allow
    }
}

/// AWS's AccessDenied wording for a denial.
pub fn denial_message(principal: &str, action: &str, resource: &str, decision: &Decision) -> String {
    match decision {
        Decision::ExplicitDeny { .. } => format!(
            "User: {principal} is not authorized to perform: {action} on resource: {resource} with an explicit deny in an identity-based policy"
        ),
        _ => format!(
            "User: {principal} is not authorized to perform: {action} on resource: {resource} because no identity-based policy allows the {action} action"
        ),
    }
}

/// Whether evaluating these policies reads the request context at all (a condition, or a policy
/// variable in a resource): when not, callers may skip building it.
pub fn reads_context(policies: &[Policy]) -> bool {
    policies.iter().flat_map(|p| &p.statements).any(|statement| {
        let variable = |patterns: &Vec<String>| patterns.iter().any(|p| p.contains("${"));
        !statement.conditions.is_empty()
            || match &statement.resource {
                Matcher::Any(patterns) | Matcher::Not(patterns) => variable(patterns),
            }
    })
}

pub fn evaluate(policies: &[Policy], request: &Request<'_>) -> Decision {
    let mut allowed = false;
    for policy in policies {
        for statement in &policy.statements {
            if !statement_applies(statement, request) {
                continue;
            }
            match statement.effect {
                Effect::Deny => {
                    return Decision::ExplicitDeny {
                        policy: policy.source.clone(),
                    };
                }
                Effect::Allow => allowed = true,
            }
        }
    }
    if allowed {
        Decision::Allow
    } else {
        Decision::ImplicitDeny
    }
}

fn statement_applies(statement: &Statement, request: &Request<'_>) -> bool {
    let action_matches = |patterns: &[String]| {
        patterns
            .iter()
            .any(|pattern| wildcard_ignore_case(pattern, request.action))
    };
    let actions = match &statement.action {
        Matcher::Any(patterns) => action_matches(patterns),
        Matcher::Not(patterns) => !action_matches(patterns),
    };
    if !actions {
        return false;
    }
    let resource_matches = |patterns: &[String]| {
        patterns
            .iter()
            .any(|pattern| match substitute(pattern, request.context) {
                Some(pattern) => wildcard(&pattern, request.resource),
                None => false,
            })
    };
    let resources = match &statement.resource {
        Matcher::Any(patterns) => resource_matches(patterns),
        Matcher::Not(patterns) => !resource_matches(patterns),
    };
    resources && statement.conditions.iter().all(|c| condition_holds(c, request.context))
}

/// Replaces `${key}` policy variables (and the `${*}`, `${?}`, `${$}` escapes); `None` when a
/// variable has no value, which makes the element match nothing.
fn substitute<'a>(pattern: &'a str, context: &Context) -> Option<std::borrow::Cow<'a, str>> {
    if !pattern.contains("${") {
        return Some(std::borrow::Cow::Borrowed(pattern));
    }
    let mut out = String::with_capacity(pattern.len());
    let mut rest = pattern;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}')?;
        let name = &after[..end];
        match name {
            "*" => out.push(LITERAL_STAR),
            "?" => out.push(LITERAL_QUESTION),
            "$" => out.push('$'),
            _ => {
                // `${key, 'default'}` supplies a default.
                let (key, default) = match name.split_once(',') {
                    Some((key, default)) => (key.trim(), Some(default.trim().trim_matches('\''))),
                    None => (name, None),
                };
                // A variable's value is literal text: its `*` and `?` are not wildcards.
                let value = match context.get(key).and_then(|v| v.first()) {
                    Some(value) => value.as_str(),
                    None => default?,
                };
                out.extend(value.chars().map(|c| match c {
                    '*' => LITERAL_STAR,
                    '?' => LITERAL_QUESTION,
                    other => other,
                }));
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Some(std::borrow::Cow::Owned(out))
}

/// In a substituted pattern, a literal `*` (from `${*}` or a variable's value).
const LITERAL_STAR: char = '\u{1}';
/// In a substituted pattern, a literal `?`.
const LITERAL_QUESTION: char = '\u{2}';

/// `*` matches any run of characters, `?` exactly one.
pub fn wildcard(pattern: &str, text: &str) -> bool {
    wildcard_with(pattern, text, |a, b| a == b)
}

/// [`wildcard`], comparing ASCII letters case-insensitively (action names).
pub fn wildcard_ignore_case(pattern: &str, text: &str) -> bool {
    wildcard_with(pattern, text, |a, b| a.eq_ignore_ascii_case(&b))
}

fn wildcard_with(pattern: &str, text: &str, same: impl Fn(u8, u8) -> bool) -> bool {
    let (pattern, text) = (pattern.as_bytes(), text.as_bytes());
    let (mut p, mut t) = (0usize, 0usize);
    let (mut star, mut mark) = (None, 0usize);
    while t < text.len() {
        let literal = |byte: u8| match byte {
            1 => b'*',
            2 => b'?',
            other => other,
        };
        if p < pattern.len() && (pattern[p] == b'?' || same(literal(pattern[p]), text[t])) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some(p);
            mark = t;
            p += 1;
        } else if let Some(s) = star {
            p = s + 1;
            mark += 1;
            t = mark;
        } else {
            return false;
        }
    }
    while p < pattern.len() && pattern[p] == b'*' {
        p += 1;
    }
    p == pattern.len()
}

pub fn is_known_operator(operator: &str) -> bool {
    matches!(
        operator,
        "StringEquals"
            | "StringNotEquals"
            | "StringEqualsIgnoreCase"
            | "StringNotEqualsIgnoreCase"
            | "StringLike"
            | "StringNotLike"
            | "NumericEquals"
            | "NumericNotEquals"
            | "NumericLessThan"
            | "NumericLessThanEquals"
            | "NumericGreaterThan"
            | "NumericGreaterThanEquals"
            | "DateEquals"
            | "DateNotEquals"
            | "DateLessThan"
            | "DateLessThanEquals"
            | "DateGreaterThan"
            | "DateGreaterThanEquals"
            | "Bool"
            | "BinaryEquals"
            | "IpAddress"
            | "NotIpAddress"
            | "ArnEquals"
            | "ArnLike"
            | "ArnNotEquals"
            | "ArnNotLike"
            | "Null"
    )
}

/// Whether the operator is a negation (true when nothing in the context matches).
fn negated(operator: &str) -> bool {
    matches!(
        operator,
        "StringNotEquals"
            | "StringNotEqualsIgnoreCase"
            | "StringNotLike"
            | "NumericNotEquals"
            | "DateNotEquals"
            | "NotIpAddress"
            | "ArnNotEquals"
            | "ArnNotLike"
    )
}

/// The positive form of a negated operator.
fn positive(operator: &str) -> &str {
    match operator {
        "StringNotEquals" => "StringEquals",
        "StringNotEqualsIgnoreCase" => "StringEqualsIgnoreCase",
        "StringNotLike" => "StringLike",
        "NumericNotEquals" => "NumericEquals",
        "DateNotEquals" => "DateEquals",
        "NotIpAddress" => "IpAddress",
        "ArnNotEquals" => "ArnEquals",
        "ArnNotLike" => "ArnLike",
        other => other,
    }
}

fn condition_holds(condition: &Condition, context: &Context) -> bool {
    let present = context.get(&condition.key).filter(|v| !v.is_empty());
    if condition.operator == "Null" {
        let wants_absent = condition.values.iter().any(|v| v.eq_ignore_ascii_case("true"));
        return present.is_none() == wants_absent;
    }
    let Some(values) = present else {
        // A missing key: ...IfExists and ForAllValues hold; negations hold; the rest do not.
        return condition.if_exists
            || condition.qualifier == SetQualifier::ForAllValues
            || negated(&condition.operator);
    };
    let operator = positive(&condition.operator);
    let one = |value: &String| {
        condition
            .values
            .iter()
            .filter_map(|pattern| substitute(pattern, context))
            .any(|pattern| {
                if matches!(operator, "StringLike" | "ArnLike" | "ArnEquals") {
                    compare(operator, &pattern, value)
                } else {
                    // Operators without wildcards compare the literal text.
                    let literal = pattern.replace(LITERAL_STAR, "*").replace(LITERAL_QUESTION, "?");
                    compare(operator, &literal, value)
                }
            })
    };
    let matched = match condition.qualifier {
        SetQualifier::ForAllValues => values.iter().all(one),
        SetQualifier::ForAnyValue => values.iter().any(one),
        SetQualifier::None => values.iter().any(one),
    };
    if negated(&condition.operator) {
        !matched
    } else {
        matched
    }
}

fn compare(operator: &str, pattern: &str, value: &str) -> bool {
    match operator {
        "StringEquals" => pattern == value,
        "StringEqualsIgnoreCase" => pattern.eq_ignore_ascii_case(value),
        "StringLike" => wildcard(pattern, value),
        "NumericEquals"
        | "NumericLessThan"
        | "NumericLessThanEquals"
        | "NumericGreaterThan"
        | "NumericGreaterThanEquals" => {
            let (Ok(bound), Ok(actual)) = (pattern.parse::<f64>(), value.parse::<f64>()) else {
                return false;
            };
            match operator {
                "NumericEquals" => actual == bound,
                "NumericLessThan" => actual < bound,
                "NumericLessThanEquals" => actual <= bound,
                "NumericGreaterThan" => actual > bound,
                _ => actual >= bound,
            }
        }
        "DateEquals" | "DateLessThan" | "DateLessThanEquals" | "DateGreaterThan" | "DateGreaterThanEquals" => {
            let (Some(bound), Some(actual)) = (parse_date(pattern), parse_date(value)) else {
                return false;
            };
            match operator {
                "DateEquals" => actual == bound,
                "DateLessThan" => actual < bound,
                "DateLessThanEquals" => actual <= bound,
                "DateGreaterThan" => actual > bound,
                _ => actual >= bound,
            }
        }
        "Bool" => pattern.eq_ignore_ascii_case(value),
        "BinaryEquals" => pattern == value,
        "IpAddress" => ip_in(pattern, value),
        "ArnEquals" | "ArnLike" => arn_matches(pattern, value),
        _ => false,
    }
}

/// ARN conditions compare each colon-separated part, with wildcards within a part.
fn arn_matches(pattern: &str, value: &str) -> bool {
    let pattern_parts: Vec<&str> = pattern.splitn(6, ':').collect();
    let value_parts: Vec<&str> = value.splitn(6, ':').collect();
    pattern_parts.len() == value_parts.len()
        && pattern_parts
            .iter()
            .zip(value_parts.iter())
            .all(|(p, v)| wildcard(p, v))
}

/// Epoch seconds of an ISO 8601 date-time (`2026-12-03T08:00:00Z`, `2026-12-03`) or of a
/// number of epoch seconds.
fn parse_date(text: &str) -> Option<f64> {
    if let Ok(seconds) = text.parse::<f64>() {
        return Some(seconds);
    }
    let (date, time) = match text.split_once('T') {
        Some((date, time)) => (date, time.trim_end_matches('Z')),
        None => (text, "00:00:00"),
    };
    let mut d = date.split('-');
    let (year, month, day): (i64, i64, i64) = (
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
    );
    let mut t = time.split(':');
    let hour: i64 = t.next().unwrap_or("0").parse().ok()?;
    let minute: i64 = t.next().unwrap_or("0").parse().ok()?;
    let second: f64 = t.next().unwrap_or("0").split('+').next()?.parse().ok()?;
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    Some((days * 86_400 + hour * 3600 + minute * 60) as f64 + second)
}

/// Whether an IPv4 address is in a CIDR block (or equals an address).
fn ip_in(cidr: &str, address: &str) -> bool {
    let parse = |text: &str| -> Option<u32> {
        let octets: Vec<u8> = text.split('.').map(|o| o.parse().ok()).collect::<Option<Vec<_>>>()?;
        let [a, b, c, d] = octets.as_slice() else { return None };
        Some(u32::from_be_bytes([*a, *b, *c, *d]))
    };
    let (network, bits) = match cidr.split_once('/') {
        Some((network, bits)) => (network, bits.parse::<u32>().unwrap_or(33)),
        None => (cidr, 32),
    };
    let (Some(network), Some(address)) = (parse(network), parse(address)) else {
        return cidr == address;
    };
    if bits > 32 {
        return false;
    }
    let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
    network & mask == address & mask
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy(document: serde_json::Value) -> Policy {
        Policy::parse("test", &document).unwrap_or_else(|e| panic!("{e}"))
    }

    fn decide(policies: &[Policy], action: &str, resource: &str, context: &Context) -> Decision {
        evaluate(
            policies,
            &Request {
                action,
                resource,
                context,
            },
        )
    }

    const TABLE: &str = "arn:aws:dynamodb:us-east-1:000000000000:table/Books";

    /// The policy examples of the IAM User Guide (the evaluation logic, NotAction, NotResource,
    /// policy variables, condition operators and set qualifiers), one row each: the policy, the
    /// request, its context, and the documented outcome.
    #[test]
    fn the_iam_user_guides_examples() {
        let allow = Decision::Allow;
        let implicit = Decision::ImplicitDeny;
        let explicit = Decision::ExplicitDeny { policy: "test".into() };
        let none: &[(&str, &[&str])] = &[];
        type Row<'a> = (
            &'a str,
            serde_json::Value,
            &'a str,
            &'a str,
            &'a [(&'a str, &'a [&'a str])],
            Decision,
        );
        let rows: Vec<Row<'_>> = vec![
            (
                "NotAction with Allow: everything but IAM — S3 allowed",
                json!({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}),
                "s3:GetObject",
                "arn:aws:s3:::bucket/key",
                none,
                allow.clone(),
            ),
            (
                "NotAction with Allow: everything but IAM — IAM not allowed",
                json!({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}),
                "iam:CreateUser",
                "arn:aws:iam::123456789012:user/x",
                none,
                implicit.clone(),
            ),
            (
                "NotAction with Deny and BoolIfExists: without MFA everything but IAM is denied",
                json!({"Effect": "Deny", "NotAction": ["iam:*"], "Resource": "*",
                       "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}),
                "s3:ListBucket",
                "arn:aws:s3:::bucket",
                none,
                explicit.clone(),
            ),
            (
                "NotAction with Deny and BoolIfExists: with MFA nothing is denied",
                json!({"Effect": "Deny", "NotAction": ["iam:*"], "Resource": "*",
                       "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}),
                "s3:ListBucket",
                "arn:aws:s3:::bucket",
                &[("aws:MultiFactorAuthPresent", &["true"])],
                implicit.clone(),
            ),
            (
                "NotResource with Deny: every other bucket is denied",
                json!({"Effect": "Deny", "Action": "s3:*",
                       "NotResource": ["arn:aws:s3:::HRBucket/Payroll", "arn:aws:s3:::HRBucket/Payroll/*"]}),
                "s3:GetObject",
                "arn:aws:s3:::Other/x",
                none,
                explicit.clone(),
            ),
            (
                "NotResource with Deny: the payroll folder is not denied",
                json!({"Effect": "Deny", "Action": "s3:*",
                       "NotResource": ["arn:aws:s3:::HRBucket/Payroll", "arn:aws:s3:::HRBucket/Payroll/*"]}),
                "s3:GetObject",
                "arn:aws:s3:::HRBucket/Payroll/2026.csv",
                none,
                implicit.clone(),
            ),
            (
                "${aws:username} in a resource: the user's own folder",
                json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/home/${aws:username}/*"}),
                "s3:GetObject",
                "arn:aws:s3:::bucket/home/alice/notes.txt",
                &[("aws:username", &["alice"])],
                allow.clone(),
            ),
            (
                "${aws:username} in a resource: another user's folder",
                json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/home/${aws:username}/*"}),
                "s3:GetObject",
                "arn:aws:s3:::bucket/home/bob/notes.txt",
                &[("aws:username", &["alice"])],
                implicit.clone(),
            ),
            (
                "a policy variable with no value makes the element match nothing",
                json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/${aws:username}/*"}),
                "s3:GetObject",
                "arn:aws:s3:::bucket//x",
                none,
                implicit.clone(),
            ),
            (
                "${*} is a literal asterisk",
                json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/${*}"}),
                "s3:GetObject",
                "arn:aws:s3:::bucket/anything",
                none,
                implicit.clone(),
            ),
            (
                "${*} matches an asterisk in the resource",
                json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/${*}"}),
                "s3:GetObject",
                "arn:aws:s3:::bucket/*",
                none,
                allow.clone(),
            ),
            (
                "a variable's value is literal: a username of * matches only *",
                json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/${aws:username}"}),
                "s3:GetObject",
                "arn:aws:s3:::bucket/alice",
                &[("aws:username", &["*"])],
                implicit.clone(),
            ),
            (
                "DateGreaterThan/DateLessThan on aws:CurrentTime: inside the window",
                json!({"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*",
                       "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2026-01-01T00:00:00Z"},
                                     "DateLessThan": {"aws:CurrentTime": "2026-12-31T23:59:59Z"}}}),
                "dynamodb:GetItem",
                "arn:aws:dynamodb:us-east-1:1:table/T",
                &[("aws:CurrentTime", &["2026-12-03T08:00:00Z"])],
                allow.clone(),
            ),
            (
                "DateGreaterThan/DateLessThan on aws:CurrentTime: after the window",
                json!({"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*",
                       "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2026-01-01T00:00:00Z"},
                                     "DateLessThan": {"aws:CurrentTime": "2026-06-30T23:59:59Z"}}}),
                "dynamodb:GetItem",
                "arn:aws:dynamodb:us-east-1:1:table/T",
                &[("aws:CurrentTime", &["2026-12-03T08:00:00Z"])],
                implicit.clone(),
            ),
            (
                "NotIpAddress with Deny: a request from outside the range is denied",
                json!({"Effect": "Deny", "Action": "*", "Resource": "*",
                       "Condition": {"NotIpAddress": {"aws:SourceIp": ["192.0.2.0/24", "203.0.113.0/24"]}}}),
                "dynamodb:GetItem",
                "arn:aws:dynamodb:us-east-1:1:table/T",
                &[("aws:SourceIp", &["198.51.100.7"])],
                explicit.clone(),
            ),
            (
                "NotIpAddress with Deny: a request from inside the range is not",
                json!({"Effect": "Deny", "Action": "*", "Resource": "*",
                       "Condition": {"NotIpAddress": {"aws:SourceIp": ["192.0.2.0/24", "203.0.113.0/24"]}}}),
                "dynamodb:GetItem",
                "arn:aws:dynamodb:us-east-1:1:table/T",
                &[("aws:SourceIp", &["203.0.113.9"])],
                implicit.clone(),
            ),
            (
                "several values of one key are ORed",
                json!({"Effect": "Allow", "Action": "dynamodb:Query", "Resource": "*",
                       "Condition": {"StringEquals": {"dynamodb:Select": ["SPECIFIC_ATTRIBUTES", "COUNT"]}}}),
                "dynamodb:Query",
                "arn:aws:dynamodb:us-east-1:1:table/T",
                &[("dynamodb:Select", &["COUNT"])],
                allow.clone(),
            ),
            (
                "several keys are ANDed",
                json!({"Effect": "Allow", "Action": "dynamodb:Query", "Resource": "*",
                       "Condition": {"StringEquals": {"dynamodb:Select": "COUNT", "dynamodb:ReturnValues": "NONE"}}}),
                "dynamodb:Query",
                "arn:aws:dynamodb:us-east-1:1:table/T",
                &[("dynamodb:Select", &["COUNT"]), ("dynamodb:ReturnValues", &["ALL_OLD"])],
                implicit.clone(),
            ),
            (
                "ForAllValues with every requested attribute in the list",
                json!({"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*",
                       "Condition": {"ForAllValues:StringEquals": {"dynamodb:Attributes": ["id", "title"]}}}),
                "dynamodb:GetItem",
                "arn:aws:dynamodb:us-east-1:1:table/T",
                &[("dynamodb:Attributes", &["id", "title"])],
                allow.clone(),
            ),
            (
                "ForAllValues with one attribute outside the list",
                json!({"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*",
                       "Condition": {"ForAllValues:StringEquals": {"dynamodb:Attributes": ["id", "title"]}}}),
                "dynamodb:GetItem",
                "arn:aws:dynamodb:us-east-1:1:table/T",
                &[("dynamodb:Attributes", &["id", "secret"])],
                implicit.clone(),
            ),
            (
                "ForAllValues with the key absent holds (the guide's warning)",
                json!({"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*",
                       "Condition": {"ForAllValues:StringEquals": {"dynamodb:Attributes": ["id"]}}}),
                "dynamodb:GetItem",
                "arn:aws:dynamodb:us-east-1:1:table/T",
                none,
                allow.clone(),
            ),
            (
                "ForAnyValue with the key absent does not hold",
                json!({"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*",
                       "Condition": {"ForAnyValue:StringEquals": {"dynamodb:Attributes": ["id"]}}}),
                "dynamodb:GetItem",
                "arn:aws:dynamodb:us-east-1:1:table/T",
                none,
                implicit.clone(),
            ),
            (
                "Null: true when the key is absent",
                json!({"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"Null": {"aws:TokenIssueTime": "true"}}}),
                "dynamodb:GetItem",
                "arn:aws:dynamodb:us-east-1:1:table/T",
                none,
                explicit.clone(),
            ),
            (
                "ArnLike on aws:PrincipalArn with a wildcard",
                json!({"Effect": "Allow", "Action": "*", "Resource": "*",
                       "Condition": {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/Dev*"}}}),
                "dynamodb:GetItem",
                "arn:aws:dynamodb:us-east-1:1:table/T",
                &[("aws:PrincipalArn", &["arn:aws:iam::123456789012:role/DevOps"])],
                allow.clone(),
            ),
            (
                "StringNotEquals with the key absent holds",
                json!({"Effect": "Deny", "Action": "*", "Resource": "*",
                       "Condition": {"StringNotEquals": {"aws:RequestedRegion": "eu-west-1"}}}),
                "dynamodb:GetItem",
                "arn:aws:dynamodb:us-east-1:1:table/T",
                none,
                explicit.clone(),
            ),
        ];
        for (name, statement, action, resource, keys, expected) in rows {
            let document = json!({"Version": "2012-10-17", "Statement": [statement]});
            let mut context = Context::new();
            for (key, values) in keys {
                context.set_all(key, values.iter().map(|v| v.to_string()).collect());
            }
            assert_eq!(
                decide(&[policy(document)], action, resource, &context),
                expected,
                "{name}"
            );
        }
    }

    /// The IAM User Guide's evaluation logic: explicit deny beats allow beats implicit deny.
    #[test]
    fn deny_beats_allow_beats_nothing() {
        let context = Context::new();
        let allow = policy(json!({"Statement": [{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}]}));
        let deny =
            policy(json!({"Statement": [{"Effect": "Deny", "Action": "dynamodb:DeleteItem", "Resource": TABLE}]}));
        assert_eq!(
            decide(std::slice::from_ref(&allow), "dynamodb:GetItem", TABLE, &context),
            Decision::Allow
        );
        assert_eq!(
            decide(&[allow.clone(), deny.clone()], "dynamodb:DeleteItem", TABLE, &context),
            Decision::ExplicitDeny { policy: "test".into() }
        );
        assert_eq!(
            decide(&[deny], "dynamodb:GetItem", TABLE, &context),
            Decision::ImplicitDeny
        );
        assert_eq!(decide(&[], "dynamodb:GetItem", TABLE, &context), Decision::ImplicitDeny);
        // Actions are case-insensitive, resources are not.
        assert_eq!(decide(&[allow], "DynamoDB:getitem", TABLE, &context), Decision::Allow);
        let exact =
            policy(json!({"Statement": [{"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": TABLE}]}));
        assert_eq!(
            decide(&[exact], "dynamodb:GetItem", &TABLE.to_lowercase(), &context),
            Decision::ImplicitDeny
        );
    }

    #[test]
    fn not_action_and_not_resource() {
        let context = Context::new();
        let everything_but_delete =
            policy(json!({"Statement": [{"Effect": "Allow", "NotAction": ["dynamodb:Delete*"], "Resource": "*"}]}));
        assert_eq!(
            decide(
                std::slice::from_ref(&everything_but_delete),
                "dynamodb:PutItem",
                TABLE,
                &context
            ),
            Decision::Allow
        );
        assert_eq!(
            decide(&[everything_but_delete], "dynamodb:DeleteTable", TABLE, &context),
            Decision::ImplicitDeny
        );
        let other_tables =
            policy(json!({"Statement": [{"Effect": "Allow", "Action": "dynamodb:GetItem", "NotResource": TABLE}]}));
        assert_eq!(
            decide(std::slice::from_ref(&other_tables), "dynamodb:GetItem", TABLE, &context),
            Decision::ImplicitDeny
        );
        assert_eq!(
            decide(
                &[other_tables],
                "dynamodb:GetItem",
                "arn:aws:dynamodb:us-east-1:000000000000:table/Other",
                &context
            ),
            Decision::Allow
        );
    }

    /// The DynamoDB developer guide's fine-grained access example: LeadingKeys must be the
    /// caller's id, and only some attributes.
    #[test]
    fn leading_keys_and_attributes_conditions() {
        let document = json!({"Statement": [{"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:PutItem"], "Resource": TABLE,
        "Condition": {
            "ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["${aws:userid}"], "dynamodb:Attributes": ["id", "title", "owner"]},
            "StringEqualsIfExists": {"dynamodb:Select": "SPECIFIC_ATTRIBUTES"}
        }}]});
        let policies = [policy(document)];
        let mut context = Context::new();
        context.set("aws:userid", "user-1");
        context.set_all("dynamodb:LeadingKeys", vec!["user-1".into()]);
        context.set_all("dynamodb:Attributes", vec!["id".into(), "title".into()]);
        assert_eq!(decide(&policies, "dynamodb:GetItem", TABLE, &context), Decision::Allow);
        context.set_all("dynamodb:LeadingKeys", vec!["user-2".into()]);
        assert_eq!(
            decide(&policies, "dynamodb:GetItem", TABLE, &context),
            Decision::ImplicitDeny
        );
        context.set_all("dynamodb:LeadingKeys", vec!["user-1".into()]);
        context.set_all("dynamodb:Attributes", vec!["id".into(), "secret".into()]);
        assert_eq!(
            decide(&policies, "dynamodb:GetItem", TABLE, &context),
            Decision::ImplicitDeny
        );
        context.set_all("dynamodb:Attributes", vec!["id".into()]);
        context.set("dynamodb:Select", "ALL_ATTRIBUTES");
        assert_eq!(
            decide(&policies, "dynamodb:GetItem", TABLE, &context),
            Decision::ImplicitDeny
        );
    }

    #[test]
    fn policy_variables_in_resources() {
        let document = json!({"Statement": [{"Effect": "Allow", "Action": "dynamodb:*",
            "Resource": "arn:aws:dynamodb:us-east-1:000000000000:table/${aws:username}-*"}]});
        let policies = [policy(document)];
        let mut context = Context::new();
        assert_eq!(
            decide(
                &policies,
                "dynamodb:GetItem",
                "arn:aws:dynamodb:us-east-1:000000000000:table/alice-notes",
                &context
            ),
            Decision::ImplicitDeny,
            "an unresolved variable matches nothing"
        );
        context.set("aws:username", "alice");
        assert_eq!(
            decide(
                &policies,
                "dynamodb:GetItem",
                "arn:aws:dynamodb:us-east-1:000000000000:table/alice-notes",
                &context
            ),
            Decision::Allow
        );
        // The escapes stand for literal characters, which wildcards then match only as such.
        assert_eq!(substitute("a${*}b${?}", &context).as_deref(), Some("a\u{1}b\u{2}"));
        assert!(wildcard("a\u{1}b\u{2}", "a*b?"));
        assert!(!wildcard("a\u{1}b", "axb"));
    }

    #[test]
    fn operators_behave_as_documented() {
        let mut context = Context::new();
        context.set("aws:SourceIp", "127.0.0.1");
        context.set("aws:CurrentTime", "2026-12-03T08:00:00Z");
        context.set("aws:SecureTransport", "false");
        context.set(
            "aws:PrincipalArn",
            "arn:aws:sts::000000000000:assumed-role/BooksRole/Books",
        );
        context.set("dynamodb:ReturnValues", "NONE");
        let holds = |operator: &str, key: &str, values: serde_json::Value| {
            let document = json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {operator: {key: values}}}]});
            decide(&[policy(document)], "dynamodb:GetItem", TABLE, &context) == Decision::Allow
        };
        assert!(holds("IpAddress", "aws:SourceIp", json!("127.0.0.0/8")));
        assert!(!holds("IpAddress", "aws:SourceIp", json!("10.0.0.0/8")));
        assert!(holds("NotIpAddress", "aws:SourceIp", json!("10.0.0.0/8")));
        assert!(holds("DateLessThan", "aws:CurrentTime", json!("2027-01-01T00:00:00Z")));
        assert!(!holds(
            "DateGreaterThan",
            "aws:CurrentTime",
            json!("2027-01-01T00:00:00Z")
        ));
        assert!(holds("Bool", "aws:SecureTransport", json!(false)));
        assert!(holds(
            "ArnLike",
            "aws:PrincipalArn",
            json!("arn:aws:sts::*:assumed-role/BooksRole/*")
        ));
        assert!(!holds(
            "ArnEquals",
            "aws:PrincipalArn",
            json!("arn:aws:sts::000000000000:assumed-role/Other/Books")
        ));
        assert!(holds(
            "StringNotEquals",
            "dynamodb:ReturnValues",
            json!(["ALL_OLD", "ALL_NEW"])
        ));
        assert!(holds("StringLike", "dynamodb:ReturnValues", json!("N*")));
        assert!(holds("Null", "dynamodb:Select", json!("true")));
        assert!(!holds("Null", "dynamodb:ReturnValues", json!("true")));
        assert!(
            !holds("StringEquals", "dynamodb:Select", json!("COUNT")),
            "a missing key fails a positive operator"
        );
        assert!(holds("StringEqualsIfExists", "dynamodb:Select", json!("COUNT")));
        assert!(!holds("NumericLessThan", "aws:EpochTime", json!(1)));
        assert!(
            holds("ForAllValues:StringEquals", "dynamodb:Attributes", json!(["id"])),
            "ForAllValues holds for a missing key"
        );
        assert!(!holds("ForAnyValue:StringEquals", "dynamodb:Attributes", json!(["id"])));
    }
}
