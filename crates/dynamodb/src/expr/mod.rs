//! The DynamoDB expression language: condition, filter, key-condition, update and projection
//! expressions — parsing with AWS's validation messages, evaluation against items, and
//! application of updates.
//!
//! Every request shares one [`ExpressionContext`] (its `ExpressionAttributeNames` and
//! `ExpressionAttributeValues`). Callers parse the request's expressions in AWS's order —
//! UpdateExpression, ConditionExpression, KeyConditionExpression, FilterExpression,
//! ProjectionExpression — and then call [`ExpressionContext::check_unused`].

mod condition;
mod key_condition;
mod lexer;
mod parser;
mod projection;
mod reserved;
mod update;

#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet};
use std::fmt;

use crate::value::{AttributeValue, Item};

pub use condition::{Condition, parse_condition};
pub use key_condition::{KeyCondition, SortKeyCondition, parse_key_condition};
pub use projection::{parse_projection, project};
pub use update::{Update, parse_update};

use parser::{Parser, RawElem, RawPath};

/// Longest expression accepted, in bytes.
pub(crate) const EXPRESSION_BYTES_MAX: usize = 4096;
/// Most operators and functions one expression may contain.
pub(crate) const OPERATORS_MAX: usize = 300;
/// Most operands on the right of `IN`.
pub(crate) const IN_OPERANDS_MAX: usize = 100;

/// An expression error carrying AWS's complete message (the ValidationException text), e.g.
/// "Invalid UpdateExpression: Syntax error; token: \"INVALID\", near: \"INVALID SYNTAX\"".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExprError(pub String);

impl fmt::Display for ExprError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ExprError {}

/// One step of a document path.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PathElement {
    Attribute(String),
    Index(usize),
}

/// A document path with its placeholders already substituted.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Path(pub Vec<PathElement>);

impl Path {
    /// The value at this path in `item`, if there is one.
    pub fn get<'a>(&self, item: &'a Item) -> Option<&'a AttributeValue> {
        let mut elements = self.0.iter();
        let mut current = match elements.next()? {
            PathElement::Attribute(name) => item.get(name)?,
            PathElement::Index(_) => return None,
        };
        for element in elements {
            current = match (element, current) {
                (PathElement::Attribute(name), AttributeValue::M(map)) => map.get(name)?,
                (PathElement::Index(index), AttributeValue::L(list)) => list.get(*index)?,
                _ => return None,
            };
        }
        Some(current)
    }

    /// The top-level attribute name ("" for a malformed path starting with an index).
    pub fn top(&self) -> &str {
        match self.0.first() {
            Some(PathElement::Attribute(name)) => name,
            _ => "",
        }
    }

    /// AWS's rendering in messages: `[a, b, [1]]`.
    pub(crate) fn bracketed(&self) -> String {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|element| match element {
                PathElement::Attribute(name) => name.clone(),
                PathElement::Index(index) => format!("[{index}]"),
            })
            .collect();
        format!("[{}]", parts.join(", "))
    }

    /// Whether one path is a prefix of the other (or they are equal).
    pub(crate) fn overlaps(&self, other: &Path) -> bool {
        self.0.iter().zip(&other.0).all(|(a, b)| a == b)
    }

    /// Whether the paths share a prefix and then differ in kind (a name against an index).
    pub(crate) fn conflicts(&self, other: &Path) -> bool {
        for (a, b) in self.0.iter().zip(&other.0) {
            match (a, b) {
                (PathElement::Attribute(x), PathElement::Attribute(y)) if x == y => {}
                (PathElement::Index(x), PathElement::Index(y)) if x == y => {}
                (PathElement::Attribute(_), PathElement::Attribute(_))
                | (PathElement::Index(_), PathElement::Index(_)) => return false,
                _ => return true,
            }
        }
        false
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (position, element) in self.0.iter().enumerate() {
            match element {
                PathElement::Attribute(name) if position == 0 => f.write_str(name)?,
                PathElement::Attribute(name) => write!(f, ".{name}")?,
                PathElement::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

/// The request's ExpressionAttributeNames / ExpressionAttributeValues, shared by all the
/// expressions of one request, recording which placeholders were used.
pub struct ExpressionContext<'a> {
    names: Option<&'a HashMap<String, String>>,
    values: Option<&'a HashMap<String, AttributeValue>>,
    used_names: HashSet<String>,
    used_values: HashSet<String>,
}

impl<'a> ExpressionContext<'a> {
    pub fn new(
        names: Option<&'a HashMap<String, String>>,
        values: Option<&'a HashMap<String, AttributeValue>>,
    ) -> Self {
        ExpressionContext {
            names,
            values,
            used_names: HashSet::new(),
            used_values: HashSet::new(),
        }
    }

    /// After all the request's expressions were parsed: AWS's errors for placeholders no
    /// expression used, names first, keys listed in sorted order.
    pub fn check_unused(&self) -> Result<(), ExprError> {
        fn unused<'k>(keys: impl Iterator<Item = &'k String>, used: &HashSet<String>) -> Vec<&'k str> {
            let mut list: Vec<&str> = keys.filter(|k| !used.contains(*k)).map(String::as_str).collect();
            list.sort_unstable();
            list
        }
        if let Some(names) = self.names {
            let list = unused(names.keys(), &self.used_names);
            if !list.is_empty() {
                return Err(ExprError(format!(
                    "Value provided in ExpressionAttributeNames unused in expressions: keys: {{{}}}",
                    list.join(", ")
                )));
            }
        }
        if let Some(values) = self.values {
            let list = unused(values.keys(), &self.used_values);
            if !list.is_empty() {
                return Err(ExprError(format!(
                    "Value provided in ExpressionAttributeValues unused in expressions: keys: {{{}}}",
                    list.join(", ")
                )));
            }
        }
        Ok(())
    }

    /// The attribute name a `#name` placeholder stands for, marking it used.
    pub(crate) fn name(&mut self, placeholder: &str) -> Option<String> {
        let name = self.names?.get(placeholder)?.clone();
        self.used_names.insert(placeholder.to_string());
        Some(name)
    }

    /// The value a `:value` placeholder stands for, marking it used.
    pub(crate) fn value(&mut self, placeholder: &str) -> Option<AttributeValue> {
        let value = self.values?.get(placeholder)?.clone();
        self.used_values.insert(placeholder.to_string());
        Some(value)
    }
}

/// Which parameter an expression came from: it prefixes messages ("Invalid ConditionExpression: ...").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConditionKind {
    Condition,
    Filter,
    KeyCondition,
}

impl ConditionKind {
    pub(crate) fn parameter(self) -> &'static str {
        match self {
            ConditionKind::Condition => "ConditionExpression",
            ConditionKind::Filter => "FilterExpression",
            ConditionKind::KeyCondition => "KeyConditionExpression",
        }
    }
}

/// `Invalid <parameter>: <message>`.
pub(crate) fn invalid(parameter: &str, message: impl fmt::Display) -> ExprError {
    ExprError(format!("Invalid {parameter}: {message}"))
}

/// The checks every expression kind makes before parsing: not empty, not too long.
pub(crate) fn check_text(parameter: &str, text: &str) -> Result<(), ExprError> {
    if text.trim_matches([' ', '\t', '\r', '\n']).is_empty() {
        return Err(invalid(parameter, "The expression can not be empty;"));
    }
    if text.len() > EXPRESSION_BYTES_MAX {
        return Err(invalid(
            parameter,
            format_args!(
                "Expression size has exceeded the maximum allowed size; expression size: {}",
                text.len()
            ),
        ));
    }
    Ok(())
}

/// What resolving a written path found.
pub(crate) struct ResolvedPath {
    /// The path; undefined placeholders stay as their own text.
    pub path: Path,
    /// The first bare name that is a reserved word, as written.
    pub reserved: Option<String>,
    /// The first `#name` placeholder without a definition.
    pub undefined: Option<String>,
}

pub(crate) fn resolve_path(parser: &Parser, raw: &RawPath, ctx: &mut ExpressionContext) -> ResolvedPath {
    let mut reserved = None;
    let mut undefined = None;
    let mut elements = Vec::with_capacity(raw.elems.len());
    for element in &raw.elems {
        elements.push(match element {
            RawElem::Name(token) => {
                let text = parser.text(*token);
                if reserved.is_none() && reserved::is_reserved(text) {
                    reserved = Some(text.to_string());
                }
                PathElement::Attribute(text.to_string())
            }
            RawElem::Placeholder(token) => {
                let text = parser.text(*token);
                match ctx.name(text) {
                    Some(name) => PathElement::Attribute(name),
                    None => {
                        if undefined.is_none() {
                            undefined = Some(text.to_string());
                        }
                        PathElement::Attribute(text.to_string())
                    }
                }
            }
            RawElem::Index(index) => PathElement::Index(*index),
        });
    }
    ResolvedPath {
        path: Path(elements),
        reserved,
        undefined,
    }
}

/// AWS's message for a placeholder name without a definition.
pub(crate) fn undefined_name(name: &str) -> String {
    format!("An expression attribute name used in the document path is not defined; attribute name: {name}")
}

/// AWS's message for a value placeholder without a definition.
pub(crate) fn undefined_value(name: &str) -> String {
    format!("An expression attribute value used in expression is not defined; attribute value: {name}")
}

/// Sets `slot` unless it already holds an earlier message.
pub(crate) fn first(slot: &mut Option<String>, message: impl FnOnce() -> String) {
    if slot.is_none() {
        *slot = Some(message());
    }
}
