//! The least-privilege report: what each function did (action, resource, decision), what its
//! policies grant and it never used, the minimal statements that would allow exactly what it did,
//! and grants that are broader than they need to be.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use serde_json::{Value, json};

use crate::evaluate::{Decision, wildcard};
use crate::policy::{Effect, Matcher, Policy};

/// What one function did with one action on one resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageRecord {
    pub function: String,
    pub action: String,
    pub resource: String,
    pub allowed: u64,
    pub denied: u64,
}

/// function → action → resource → (allowed, denied) counts; nested so that counting a pair
/// seen before allocates nothing.
type Counts = BTreeMap<String, BTreeMap<String, BTreeMap<String, (u64, u64)>>>;

/// Usage as requests happen.
#[derive(Default)]
pub struct Usage {
    entries: Mutex<Counts>,
}

fn count<'a>(entries: &'a mut Counts, function: &str, action: &str, resource: &str) -> Option<&'a mut (u64, u64)> {
    if !entries.contains_key(function) {
        entries.insert(function.to_string(), BTreeMap::new());
    }
    let actions = entries.get_mut(function)?;
    if !actions.contains_key(action) {
        actions.insert(action.to_string(), BTreeMap::new());
    }
    let resources = actions.get_mut(action)?;
    if !resources.contains_key(resource) {
        resources.insert(resource.to_string(), (0, 0));
    }
    resources.get_mut(resource)
}

impl Usage {
    pub fn record(&self, function: &str, action: &str, resource: &str, decision: &Decision) {
        if let Ok(mut entries) = self.entries.lock()
            && let Some(entry) = count(&mut entries, function, action, resource)
        {
            if decision.is_allowed() {
                entry.0 += 1;
            } else {
                entry.1 += 1;
            }
        }
    }

    pub fn records(&self) -> Vec<UsageRecord> {
        let Ok(entries) = self.entries.lock() else {
            return Vec::new();
        };
        let mut records = Vec::new();
        for (function, actions) in entries.iter() {
            for (action, resources) in actions {
                for (resource, (allowed, denied)) in resources {
                    records.push(UsageRecord {
                        function: function.clone(),
                        action: action.clone(),
                        resource: resource.clone(),
                        allowed: *allowed,
                        denied: *denied,
                    });
                }
            }
        }
        records
    }

    /// Adds records kept from an earlier run.
    pub fn merge(&self, records: &[UsageRecord]) {
        if let Ok(mut entries) = self.entries.lock() {
            for record in records {
                if let Some(entry) = count(&mut entries, &record.function, &record.action, &record.resource) {
                    entry.0 += record.allowed;
                    entry.1 += record.denied;
                }
            }
        }
    }

    pub fn to_json(&self) -> Value {
        Value::Array(
            self.records()
                .into_iter()
                .map(|r| json!({"function": r.function, "action": r.action, "resource": r.resource, "allowed": r.allowed, "denied": r.denied}))
                .collect(),
        )
    }

    pub fn records_from_json(value: &Value) -> Vec<UsageRecord> {
        value
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|item| {
                        Some(UsageRecord {
                            function: item.get("function")?.as_str()?.to_string(),
                            action: item.get("action")?.as_str()?.to_string(),
                            resource: item.get("resource")?.as_str()?.to_string(),
                            allowed: item.get("allowed")?.as_u64()?,
                            denied: item.get("denied")?.as_u64()?,
                        })
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// One function's part of the report.
#[derive(Clone, Debug)]
pub struct FunctionReport {
    pub function: String,
    pub used: Vec<UsageRecord>,
    pub denied: Vec<UsageRecord>,
    /// Allowed action patterns (with their policy) no request used.
    pub unused: Vec<(String, String)>,
    /// A policy document allowing exactly what was used or refused.
    pub proposed: Value,
    /// Grants broader than needed (`dynamodb:*`, `*`, `Resource: *`).
    pub broad: Vec<String>,
}

/// Actions that have no resource and need `Resource: *`.
fn is_account_level(action: &str) -> bool {
    matches!(
        action.to_ascii_lowercase().as_str(),
        "dynamodb:listtables"
            | "dynamodb:liststreams"
            | "dynamodb:describelimits"
            | "dynamodb:describeendpoints"
            | "lambda:listfunctions"
    )
}

pub fn function_report(function: &str, policies: &[Policy], records: &[UsageRecord]) -> FunctionReport {
    let mine: Vec<&UsageRecord> = records.iter().filter(|r| r.function == function).collect();
    let used: Vec<UsageRecord> = mine.iter().filter(|r| r.allowed > 0).map(|r| (*r).clone()).collect();
    let denied: Vec<UsageRecord> = mine.iter().filter(|r| r.denied > 0).map(|r| (*r).clone()).collect();
    let mut unused = Vec::new();
    let mut broad = Vec::new();
    for policy in policies {
        for statement in policy.statements.iter().filter(|s| s.effect == Effect::Allow) {
            let Matcher::Any(actions) = &statement.action else {
                broad.push(format!("{}: NotAction allows everything but a list", policy.source));
                continue;
            };
            let resources: Vec<&String> = match &statement.resource {
                Matcher::Any(resources) => resources.iter().collect(),
                Matcher::Not(_) => Vec::new(),
            };
            for action in actions {
                let lower = action.to_ascii_lowercase();
                if lower == "*" || lower.ends_with(":*") {
                    broad.push(format!("{}: grants {action}", policy.source));
                }
                // Log actions are CloudWatch's: Lambda's own logging uses them, not requests.
                if lower.starts_with("logs:") {
                    continue;
                }
                if !used.iter().any(|r| wildcard(&lower, &r.action.to_ascii_lowercase())) {
                    unused.push((action.clone(), policy.source.clone()));
                }
            }
            if resources.iter().any(|r| r.as_str() == "*")
                && actions
                    .iter()
                    .any(|a| !is_account_level(a) && !a.to_ascii_lowercase().starts_with("logs:"))
            {
                broad.push(format!("{}: Resource \"*\" for {}", policy.source, actions.join(", ")));
            }
        }
    }
    broad.sort();
    broad.dedup();
    // The minimal policy: for each resource, the actions used or refused on it; resources that
    // need the same actions share a statement.
    let mut by_resource: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for record in &mine {
        by_resource
            .entry(record.resource.clone())
            .or_default()
            .insert(record.action.clone());
    }
    let mut by_actions: BTreeMap<Vec<String>, Vec<String>> = BTreeMap::new();
    for (resource, actions) in by_resource {
        by_actions
            .entry(actions.into_iter().collect())
            .or_default()
            .push(resource);
    }
    let statements: Vec<Value> = by_actions
        .into_iter()
        .map(|(actions, resources)| json!({"Effect": "Allow", "Action": actions, "Resource": resources}))
        .collect();
    FunctionReport {
        function: function.to_string(),
        used,
        denied,
        unused,
        proposed: json!({"Version": "2012-10-17", "Statement": statements}),
        broad,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_shows_use_gaps_and_breadth() {
        let policy = Policy::parse(
            "DynamoDBCrudPolicy",
            &json!({"Statement": [
                {"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"], "Resource": "arn:aws:dynamodb:us-east-1:0:table/Books"},
                {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}
            ]}),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let usage = Usage::default();
        usage.record(
            "Books",
            "dynamodb:GetItem",
            "arn:aws:dynamodb:us-east-1:0:table/Books",
            &Decision::Allow,
        );
        usage.record(
            "Books",
            "dynamodb:GetItem",
            "arn:aws:dynamodb:us-east-1:0:table/Books",
            &Decision::Allow,
        );
        usage.record(
            "Books",
            "dynamodb:Query",
            "arn:aws:dynamodb:us-east-1:0:table/Other",
            &Decision::ImplicitDeny,
        );
        let report = function_report("Books", &[policy], &usage.records());
        assert_eq!(report.used.len(), 1);
        assert_eq!(report.used[0].allowed, 2);
        assert_eq!(report.denied.len(), 1);
        assert!(report.unused.iter().any(|(a, _)| a == "dynamodb:PutItem"));
        assert!(report.unused.iter().any(|(a, _)| a == "dynamodb:DeleteItem"));
        assert!(!report.unused.iter().any(|(a, _)| a == "dynamodb:GetItem"));
        assert!(report.broad.iter().any(|b| b.contains("grants dynamodb:*")));
        assert!(report.broad.iter().any(|b| b.contains("Resource \"*\"")));
        assert_eq!(
            report.proposed["Statement"],
            json!([
                {"Effect": "Allow", "Action": ["dynamodb:GetItem"], "Resource": ["arn:aws:dynamodb:us-east-1:0:table/Books"]},
                {"Effect": "Allow", "Action": ["dynamodb:Query"], "Resource": ["arn:aws:dynamodb:us-east-1:0:table/Other"]}
            ])
        );
        let round = Usage::records_from_json(&usage.to_json());
        assert_eq!(round, usage.records());
    }
}
