//! Evaluates CloudFormation intrinsic functions against parameters, pseudo parameters,
//! conditions, mappings and the local values of resources, keeping each node's location.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use crate::diagnostic::Diagnostic;
use crate::node::{Location, Node, Value};

/// How deep intrinsic functions may nest, and references chain, before we call it a cycle.
const DEPTH_MAX: usize = 64;

/// The pseudo parameters' local values.
#[derive(Clone, Debug)]
pub struct Pseudo {
    pub region: String,
    pub account: String,
    pub stack_name: String,
    pub partition: String,
    pub url_suffix: String,
}

impl Pseudo {
    pub fn local(region: &str, account: &str, stack_name: &str) -> Pseudo {
        Pseudo {
            region: region.to_string(),
            account: account.to_string(),
            stack_name: stack_name.to_string(),
            partition: "aws".to_string(),
            url_suffix: "amazonaws.com".to_string(),
        }
    }

    pub fn stack_id(&self) -> String {
        format!(
            "arn:{}:cloudformation:{}:{}:stack/{}/00000000-0000-0000-0000-000000000000",
            self.partition, self.region, self.account, self.stack_name
        )
    }
}

/// What `Ref` and `Fn::GetAtt` of a resource give, computed on demand by the caller.
pub trait ResourceValues {
    /// Whether the logical id names a resource (kept after conditions).
    fn exists(&self, logical_id: &str) -> bool;
    /// The value of `Ref`, evaluated with `evaluator` (it may itself need other values).
    fn reference(&self, logical_id: &str, evaluator: &Evaluator<'_>) -> Result<Node, Diagnostic>;
    /// The value of `Fn::GetAtt`; `Ok(None)` when the resource has no such attribute.
    fn attribute(
        &self,
        logical_id: &str,
        attribute: &str,
        evaluator: &Evaluator<'_>,
    ) -> Result<Option<Node>, Diagnostic>;
    /// All logical ids, for suggestions.
    fn names(&self) -> Vec<String>;
}

/// The evaluation context of one template.
pub struct Evaluator<'a> {
    pub pseudo: &'a Pseudo,
    /// Resolved parameter values (strings, or lists for list types).
    pub parameters: &'a BTreeMap<String, Node>,
    /// Condition name → its definition (evaluated on demand).
    pub condition_definitions: &'a BTreeMap<String, Node>,
    pub mappings: Option<&'a Node>,
    pub resources: &'a dyn ResourceValues,
    /// The template's folder, for `AWS::Include` of local files.
    pub base_dir: std::path::PathBuf,
    /// The chain of references being evaluated, to report cycles.
    active: RefCell<Vec<String>>,
    condition_values: RefCell<BTreeMap<String, bool>>,
}

/// The marker `Ref: AWS::NoValue` leaves: removed from the map or list that holds it.
fn no_value(location: &Location) -> Node {
    Node::new(
        Value::Map(vec![(
            "__NoValue".to_string(),
            Node::new(Value::Null, location.clone()),
        )]),
        location.clone(),
    )
}

pub fn is_no_value(node: &Node) -> bool {
    matches!(&node.value, Value::Map(entries) if entries.len() == 1 && entries[0].0 == "__NoValue")
}

fn string(text: impl Into<String>, location: &Location) -> Node {
    Node::new(Value::String(text.into()), location.clone())
}

/// Names close to `wanted`, for "did you mean" hints.
fn suggestion(wanted: &str, candidates: impl IntoIterator<Item = String>) -> Option<String> {
    let lower = wanted.to_ascii_lowercase();
    candidates.into_iter().find(|c| {
        let c = c.to_ascii_lowercase();
        c == lower || (c.len() > 3 && (c.contains(&lower) || lower.contains(&c)))
    })
}

impl<'a> Evaluator<'a> {
    pub fn new(
        pseudo: &'a Pseudo,
        parameters: &'a BTreeMap<String, Node>,
        condition_definitions: &'a BTreeMap<String, Node>,
        mappings: Option<&'a Node>,
        resources: &'a dyn ResourceValues,
    ) -> Evaluator<'a> {
        Evaluator {
            pseudo,
            parameters,
            condition_definitions,
            mappings,
            resources,
            base_dir: std::path::PathBuf::new(),
            active: RefCell::new(Vec::new()),
            condition_values: RefCell::new(BTreeMap::new()),
        }
    }

    /// Runs `work` with `name` on the reference chain, failing on a cycle.
    pub fn guarded<T>(
        &self,
        name: &str,
        location: &Location,
        work: impl FnOnce() -> Result<T, Diagnostic>,
    ) -> Result<T, Diagnostic> {
        {
            let mut active = self.active.borrow_mut();
            if let Some(start) = active.iter().position(|n| n == name) {
                let mut chain: Vec<String> = active[start..].to_vec();
                chain.push(name.to_string());
                return Err(
                    Diagnostic::error(location, format!("circular reference: {}", chain.join(" → "))).with_hint(
                        "break the cycle: a resource cannot depend, through Ref, GetAtt, Sub or DependsOn, on itself",
                    ),
                );
            }
            if active.len() >= DEPTH_MAX {
                return Err(Diagnostic::error(location, "references nest too deeply"));
            }
            active.push(name.to_string());
        }
        let result = work();
        self.active.borrow_mut().pop();
        result
    }

    /// The value of a condition by name.
    pub fn condition(&self, name: &str, location: &Location) -> Result<bool, Diagnostic> {
        if let Some(value) = self.condition_values.borrow().get(name) {
            return Ok(*value);
        }
        let Some(definition) = self.condition_definitions.get(name) else {
            let known: Vec<String> = self.condition_definitions.keys().cloned().collect();
            let mut error = Diagnostic::error(location, format!("unknown condition '{name}'"));
            if let Some(close) = suggestion(name, known) {
                error = error.with_hint(format!("did you mean '{close}'?"));
            } else {
                error = error.with_hint("define it in the template's Conditions section");
            }
            return Err(error);
        };
        let value = self.guarded(&format!("Condition {name}"), location, || {
            let evaluated = self.evaluate(definition)?;
            match evaluated.value {
                Value::Bool(value) => Ok(value),
                _ => Err(Diagnostic::error(
                    &definition.location,
                    format!("condition '{name}' must be built from Fn::Equals, Fn::And, Fn::Or, Fn::Not or Condition"),
                )),
            }
        })?;
        self.condition_values.borrow_mut().insert(name.to_string(), value);
        Ok(value)
    }

    /// Evaluates every intrinsic function in `node`, dropping `AWS::NoValue` entries.
    pub fn evaluate(&self, node: &Node) -> Result<Node, Diagnostic> {
        if let Some((name, argument)) = node.intrinsic() {
            return self.intrinsic(name, argument, &node.location);
        }
        if let Value::Map(entries) = &node.value
            && entries.len() == 1
            && entries[0].0 == "Condition"
            && let Some(name) = entries[0].1.as_str()
        {
            return Ok(Node::new(
                Value::Bool(self.condition(name, &node.location)?),
                node.location.clone(),
            ));
        }
        Ok(match &node.value {
            Value::Map(entries) => {
                let mut evaluated = Vec::with_capacity(entries.len());
                for (key, value) in entries {
                    let value = self.evaluate(value)?;
                    if !is_no_value(&value) {
                        evaluated.push((key.clone(), value));
                    }
                }
                Node::new(Value::Map(evaluated), node.location.clone())
            }
            Value::List(items) => {
                let mut evaluated = Vec::with_capacity(items.len());
                for item in items {
                    let item = self.evaluate(item)?;
                    if !is_no_value(&item) {
                        evaluated.push(item);
                    }
                }
                Node::new(Value::List(evaluated), node.location.clone())
            }
            _ => node.clone(),
        })
    }

    fn expect_string(&self, node: &Node, function: &str) -> Result<String, Diagnostic> {
        let evaluated = self.evaluate(node)?;
        match &evaluated.value {
            Value::String(s) | Value::Number(s) => Ok(s.clone()),
            Value::Bool(b) => Ok(b.to_string()),
            _ => Err(Diagnostic::error(
                &node.location,
                format!("{function} expects a string here, not {}", evaluated.kind()),
            )),
        }
    }

    fn expect_list(&self, node: &Node, function: &str) -> Result<Vec<Node>, Diagnostic> {
        let evaluated = self.evaluate(node)?;
        match evaluated.value {
            Value::List(items) => Ok(items),
            _ => Err(Diagnostic::error(
                &node.location,
                format!("{function} expects a list here, not {}", evaluated.kind()),
            )),
        }
    }

    fn arguments<'n>(
        &self,
        argument: &'n Node,
        function: &str,
        count: std::ops::RangeInclusive<usize>,
    ) -> Result<&'n [Node], Diagnostic> {
        match argument.as_list() {
            Some(items) if count.contains(&items.len()) => Ok(items),
            _ => Err(Diagnostic::error(
                &argument.location,
                format!(
                    "{function} takes a list of {} arguments",
                    if count.start() == count.end() {
                        count.start().to_string()
                    } else {
                        format!("{} to {}", count.start(), count.end())
                    }
                ),
            )),
        }
    }

    fn boolean(&self, node: &Node, function: &str) -> Result<bool, Diagnostic> {
        let evaluated = self.evaluate(node)?;
        match evaluated.value {
            Value::Bool(b) => Ok(b),
            Value::String(s) if s == "true" || s == "false" => Ok(s == "true"),
            _ => Err(Diagnostic::error(
                &node.location,
                format!("{function} expects a condition here, not {}", evaluated.kind()),
            )),
        }
    }

    fn intrinsic(&self, name: &str, argument: &Node, location: &Location) -> Result<Node, Diagnostic> {
        match name {
            "Ref" => {
                let target = argument
                    .as_str()
                    .ok_or_else(|| Diagnostic::error(location, "Ref takes the name of a parameter or resource"))?;
                self.reference(target, location)
            }
            "Fn::GetAtt" => {
                let (resource, attribute) = match &argument.value {
                    Value::List(items) if items.len() == 2 => (
                        self.expect_string(&items[0], "Fn::GetAtt")?,
                        self.expect_string(&items[1], "Fn::GetAtt")?,
                    ),
                    Value::String(text) => match text.split_once('.') {
                        Some((r, a)) => (r.to_string(), a.to_string()),
                        None => {
                            return Err(Diagnostic::error(
                                location,
                                "Fn::GetAtt takes [Resource, Attribute] or \"Resource.Attribute\"",
                            ));
                        }
                    },
                    _ => {
                        return Err(Diagnostic::error(
                            location,
                            "Fn::GetAtt takes [Resource, Attribute] or \"Resource.Attribute\"",
                        ));
                    }
                };
                self.attribute(&resource, &attribute, location)
            }
            "Fn::Sub" => self.sub(argument, location),
            "Fn::Join" => {
                let items = self.arguments(argument, "Fn::Join", 2..=2)?;
                let delimiter = self.expect_string(&items[0], "Fn::Join")?;
                let parts = self.expect_list(&items[1], "Fn::Join")?;
                let mut texts = Vec::with_capacity(parts.len());
                for part in &parts {
                    texts.push(self.expect_string(part, "Fn::Join")?);
                }
                Ok(string(texts.join(&delimiter), location))
            }
            "Fn::Select" => {
                let items = self.arguments(argument, "Fn::Select", 2..=2)?;
                let index_text = self.expect_string(&items[0], "Fn::Select")?;
                let index: usize = index_text.parse().map_err(|_| {
                    Diagnostic::error(
                        &items[0].location,
                        format!("Fn::Select index must be a non-negative integer, not '{index_text}'"),
                    )
                })?;
                let list = self.expect_list(&items[1], "Fn::Select")?;
                let length = list.len();
                list.into_iter().nth(index).ok_or_else(|| {
                    Diagnostic::error(
                        location,
                        format!("Fn::Select index {index} is out of range for a list of {length}"),
                    )
                })
            }
            "Fn::Split" => {
                let items = self.arguments(argument, "Fn::Split", 2..=2)?;
                let delimiter = self.expect_string(&items[0], "Fn::Split")?;
                let text = self.expect_string(&items[1], "Fn::Split")?;
                if delimiter.is_empty() {
                    return Err(Diagnostic::error(
                        &items[0].location,
                        "Fn::Split needs a non-empty delimiter",
                    ));
                }
                Ok(Node::new(
                    Value::List(
                        text.split(delimiter.as_str())
                            .map(|part| string(part, location))
                            .collect(),
                    ),
                    location.clone(),
                ))
            }
            "Fn::If" => {
                let items = self.arguments(argument, "Fn::If", 3..=3)?;
                let condition = items[0]
                    .as_str()
                    .ok_or_else(|| Diagnostic::error(&items[0].location, "Fn::If takes a condition name first"))?;
                if self.condition(condition, &items[0].location)? {
                    self.evaluate(&items[1])
                } else {
                    self.evaluate(&items[2])
                }
            }
            "Fn::Equals" => {
                let items = self.arguments(argument, "Fn::Equals", 2..=2)?;
                let (a, b) = (self.evaluate(&items[0])?, self.evaluate(&items[1])?);
                Ok(Node::new(Value::Bool(plain(&a) == plain(&b)), location.clone()))
            }
            "Fn::And" | "Fn::Or" => {
                let items = self.arguments(argument, name, 2..=10)?;
                let mut values = Vec::with_capacity(items.len());
                for item in items {
                    values.push(self.boolean(item, name)?);
                }
                let result = if name == "Fn::And" {
                    values.iter().all(|v| *v)
                } else {
                    values.iter().any(|v| *v)
                };
                Ok(Node::new(Value::Bool(result), location.clone()))
            }
            "Fn::Not" => {
                let items = self.arguments(argument, "Fn::Not", 1..=1)?;
                Ok(Node::new(
                    Value::Bool(!self.boolean(&items[0], "Fn::Not")?),
                    location.clone(),
                ))
            }
            "Fn::FindInMap" => self.find_in_map(argument, location),
            "Fn::Base64" => {
                let text = self.expect_string(argument, "Fn::Base64")?;
                Ok(string(base64(text.as_bytes()), location))
            }
            "Fn::GetAZs" => Err(Diagnostic::error(
                location,
                "Fn::GetAZs is not available locally: it lists the Availability Zones of an AWS region",
            )
            .with_hint("use a Parameter (e.g. AvailabilityZone, Default us-east-1a) instead")),
            "Fn::Length" => {
                let list = self.expect_list(argument, "Fn::Length")?;
                Ok(Node::new(Value::Number(list.len().to_string()), location.clone()))
            }
            "Fn::ToJsonString" => {
                let evaluated = self.evaluate(argument)?;
                Ok(string(to_json(&evaluated), location))
            }
            "Fn::ImportValue" => Err(Diagnostic::error(
                location,
                "Fn::ImportValue is not available locally: it reads another deployed stack's exports",
            )
            .with_hint(
                "pass the value in with a parameter and --parameter-overrides, or a Fn::If on a local condition",
            )),
            "Fn::Cidr" => Err(Diagnostic::error(
                location,
                "Fn::Cidr is not available locally: Stratus runs no VPC networking",
            )
            .with_hint("move networking resources to a separate stack, or put the value in a parameter")),
            "Fn::Transform" => self.include(argument, location),
            other => Err(Diagnostic::error(
                location,
                format!("unknown intrinsic function {other}"),
            )),
        }
    }

    /// `Fn::Transform` with `AWS::Include` of a local file (as `sam local` reads it); other
    /// macros cannot run locally.
    fn include(&self, argument: &Node, location: &Location) -> Result<Node, Diagnostic> {
        let name = argument
            .get("Name")
            .map(|n| self.expect_string(n, "Fn::Transform"))
            .transpose()?;
        if name.as_deref() != Some("AWS::Include") {
            return Err(Diagnostic::error(
                location,
                format!(
                    "Fn::Transform {} (a macro) is not available locally",
                    name.unwrap_or_default()
                ),
            )
            .with_hint(
                "only AWS::Include of a local file and the AWS::Serverless-2016-10-31 transform are applied by Stratus",
            ));
        }
        let Some(file) = argument.get("Parameters").and_then(|p| p.get("Location")) else {
            return Err(Diagnostic::error(
                location,
                "AWS::Include needs Parameters: {Location: FILE}",
            ));
        };
        let file = self.expect_string(file, "AWS::Include")?;
        if file.starts_with("s3://") {
            return Err(
                Diagnostic::error(location, format!("AWS::Include of {file} is not available locally"))
                    .with_hint("point Location at a file beside the template"),
            );
        }
        let path = self.base_dir.join(&file);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Diagnostic::error(location, format!("AWS::Include: cannot read {}: {e}", path.display())))?;
        let included = std::sync::Arc::new(path.clone());
        let node = if path.extension().is_some_and(|e| e == "json") {
            crate::yaml::parse_json(&text, &included)?
        } else {
            crate::yaml::parse(&text, &included)?
        };
        self.guarded(&format!("include {}", path.display()), location, || {
            self.evaluate(&node)
        })
    }

    /// `Ref` of a parameter, pseudo parameter or resource.
    pub fn reference(&self, target: &str, location: &Location) -> Result<Node, Diagnostic> {
        let pseudo = match target {
            "AWS::Region" => Some(self.pseudo.region.clone()),
            "AWS::AccountId" => Some(self.pseudo.account.clone()),
            "AWS::StackName" => Some(self.pseudo.stack_name.clone()),
            "AWS::StackId" => Some(self.pseudo.stack_id()),
            "AWS::Partition" => Some(self.pseudo.partition.clone()),
            "AWS::URLSuffix" => Some(self.pseudo.url_suffix.clone()),
            "AWS::NoValue" => return Ok(no_value(location)),
            "AWS::NotificationARNs" => return Ok(Node::new(Value::List(Vec::new()), location.clone())),
            _ => None,
        };
        if let Some(value) = pseudo {
            return Ok(string(value, location));
        }
        if let Some(value) = self.parameters.get(target) {
            return Ok(Node::new(value.value.clone(), location.clone()));
        }
        if self.resources.exists(target) {
            return self.guarded(target, location, || self.resources.reference(target, self));
        }
        let mut candidates: Vec<String> = self.parameters.keys().cloned().collect();
        candidates.extend(self.resources.names());
        let mut error = Diagnostic::error(
            location,
            format!("Ref to '{target}', which is not a parameter, pseudo parameter or resource of this template"),
        );
        error = match suggestion(target, candidates) {
            Some(close) => error.with_hint(format!("did you mean '{close}'?")),
            None => error.with_hint("define it under Parameters or Resources, or check the spelling"),
        };
        Err(error)
    }

    /// `Fn::GetAtt` of a resource.
    pub fn attribute(&self, resource: &str, attribute: &str, location: &Location) -> Result<Node, Diagnostic> {
        if !self.resources.exists(resource) {
            let mut error = Diagnostic::error(
                location,
                format!("Fn::GetAtt of '{resource}', which is not a resource of this template"),
            );
            if let Some(close) = suggestion(resource, self.resources.names()) {
                error = error.with_hint(format!("did you mean '{close}'?"));
            }
            return Err(error);
        }
        let key = format!("{resource}.{attribute}");
        match self.guarded(&key, location, || self.resources.attribute(resource, attribute, self))? {
            Some(node) => Ok(Node::new(node.value, location.clone())),
            None => Err(Diagnostic::error(
                location,
                format!(
                    "Fn::GetAtt: resource '{resource}' has no attribute '{attribute}' (or Stratus cannot give it locally)"
                ),
            )),
        }
    }

    fn sub(&self, argument: &Node, location: &Location) -> Result<Node, Diagnostic> {
        let (template, variables) = match &argument.value {
            Value::String(text) => (text.clone(), None),
            Value::List(items) if items.len() == 2 => (self.expect_string(&items[0], "Fn::Sub")?, Some(&items[1])),
            _ => {
                return Err(Diagnostic::error(
                    location,
                    "Fn::Sub takes a string, or [string, {Name: value, ...}]",
                ));
            }
        };
        let mut variable_values = BTreeMap::new();
        if let Some(variables) = variables {
            let entries = variables.as_map().ok_or_else(|| {
                Diagnostic::error(
                    &variables.location,
                    "Fn::Sub's second argument must be a map of variable names to values",
                )
            })?;
            for (name, value) in entries {
                variable_values.insert(name.clone(), self.expect_string(value, "Fn::Sub")?);
            }
        }
        let mut out = String::with_capacity(template.len());
        let mut rest = template.as_str();
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                return Err(Diagnostic::error(location, "Fn::Sub: '${' without a closing '}'"));
            };
            let expression = &after[..end];
            if let Some(literal) = expression.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
            } else {
                let name = expression.trim();
                let value = if let Some(value) = variable_values.get(name) {
                    value.clone()
                } else if let Some((resource, attribute)) = name.split_once('.').filter(|_| !name.starts_with("AWS::"))
                {
                    plain(&self.attribute(resource, attribute, location)?)
                } else {
                    let node = self.reference(name, location)?;
                    match &node.value {
                        Value::List(items) => items.iter().map(plain).collect::<Vec<_>>().join(","),
                        _ => plain(&node),
                    }
                };
                out.push_str(&value);
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(string(out, location))
    }

    fn find_in_map(&self, argument: &Node, location: &Location) -> Result<Node, Diagnostic> {
        let items = self.arguments(argument, "Fn::FindInMap", 3..=4)?;
        let map_name = self.expect_string(&items[0], "Fn::FindInMap")?;
        let top = self.expect_string(&items[1], "Fn::FindInMap")?;
        let second = self.expect_string(&items[2], "Fn::FindInMap")?;
        let found = self
            .mappings
            .and_then(|m| m.get(&map_name))
            .and_then(|m| m.get(&top))
            .and_then(|m| m.get(&second));
        match found {
            Some(value) => self.evaluate(value),
            None => match items.get(3).and_then(|d| d.get("DefaultValue")) {
                Some(default) => self.evaluate(default),
                None => Err(Diagnostic::error(
                    location,
                    format!("Fn::FindInMap: no value at Mappings.{map_name}.{top}.{second}"),
                )
                .with_hint("check the names against the Mappings section")),
            },
        }
    }
}

/// The text of a scalar node (lists joined by commas).
pub fn plain(node: &Node) -> String {
    match &node.value {
        Value::String(s) | Value::Number(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Null => String::new(),
        Value::List(items) => items.iter().map(plain).collect::<Vec<_>>().join(","),
        Value::Map(_) => to_json(node),
    }
}

/// Renders a node as JSON (for Fn::ToJsonString and messages).
pub fn to_json(node: &Node) -> String {
    fn quote(text: &str, out: &mut String) {
        out.push('"');
        for c in text.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => out.push(c),
            }
        }
        out.push('"');
    }
    fn write(node: &Node, out: &mut String) {
        match &node.value {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Number(n) => out.push_str(n),
            Value::String(s) => quote(s, out),
            Value::List(items) => {
                out.push('[');
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        out.push(',');
                    }
                    write(item, out);
                }
                out.push(']');
            }
            Value::Map(entries) => {
                out.push('{');
                for (index, (key, value)) in entries.iter().enumerate() {
                    if index > 0 {
                        out.push(',');
                    }
                    quote(key, out);
                    out.push(':');
                    write(value, out);
                }
                out.push('}');
            }
        }
    }
    let mut out = String::new();
    write(node, &mut out);
    out
}

fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Logical ids a node refers to through Ref, GetAtt and Sub (for dependency order and cycles).
pub fn references(node: &Node, out: &mut BTreeSet<String>) {
    if let Some((name, argument)) = node.intrinsic() {
        match name {
            "Ref" => {
                if let Some(target) = argument.as_str() {
                    out.insert(target.to_string());
                }
            }
            "Fn::GetAtt" => match &argument.value {
                Value::List(items) => {
                    if let Some(target) = items.first().and_then(Node::as_str) {
                        out.insert(target.to_string());
                    }
                }
                Value::String(text) => {
                    out.insert(text.split('.').next().unwrap_or(text).to_string());
                }
                _ => {}
            },
            "Fn::Sub" => {
                let text = match &argument.value {
                    Value::String(text) => Some(text.as_str()),
                    Value::List(items) => items.first().and_then(Node::as_str),
                    _ => None,
                };
                if let Some(text) = text {
                    let mut rest = text;
                    while let Some(start) = rest.find("${") {
                        let after = &rest[start + 2..];
                        let Some(end) = after.find('}') else { break };
                        let name = &after[..end];
                        if !name.starts_with('!') {
                            out.insert(name.split('.').next().unwrap_or(name).trim().to_string());
                        }
                        rest = &after[end + 1..];
                    }
                }
            }
            _ => {}
        }
    }
    match &node.value {
        Value::Map(entries) => entries.iter().for_each(|(_, v)| references(v, out)),
        Value::List(items) => items.iter().for_each(|v| references(v, out)),
        _ => {}
    }
}
