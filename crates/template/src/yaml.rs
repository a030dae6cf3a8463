//! Loads YAML (and JSON, which YAML reads too) into [`Node`]s with their lines, turning
//! CloudFormation's short-form tags (`!Ref`, `!GetAtt A.B`, `!Sub`, …) into their long forms.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::diagnostic::Diagnostic;
use crate::node::{Location, Node, Value};

/// Deepest nesting accepted; real templates stay far below.
const DEPTH_MAX: usize = 200;

/// The long form of each short-form tag.
fn long_form(tag: &str) -> Option<&'static str> {
    Some(match tag {
        "Ref" => "Ref",
        "Condition" => "Condition",
        "GetAtt" => "Fn::GetAtt",
        "Sub" => "Fn::Sub",
        "Join" => "Fn::Join",
        "Select" => "Fn::Select",
        "Split" => "Fn::Split",
        "If" => "Fn::If",
        "Equals" => "Fn::Equals",
        "And" => "Fn::And",
        "Or" => "Fn::Or",
        "Not" => "Fn::Not",
        "FindInMap" => "Fn::FindInMap",
        "Base64" => "Fn::Base64",
        "GetAZs" => "Fn::GetAZs",
        "ImportValue" => "Fn::ImportValue",
        "Cidr" => "Fn::Cidr",
        "Length" => "Fn::Length",
        "ToJsonString" => "Fn::ToJsonString",
        "Transform" => "Fn::Transform",
        _ => return None,
    })
}

enum Frame {
    List {
        items: Vec<Node>,
        tag: Option<Tag>,
        location: Location,
        anchor: usize,
    },
    Map {
        entries: Vec<(String, Node)>,
        key: Option<(String, Location)>,
        tag: Option<Tag>,
        location: Location,
        anchor: usize,
    },
}

struct Builder {
    file: Arc<PathBuf>,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    root: Option<Node>,
    error: Option<Diagnostic>,
    documents: usize,
}

impl Builder {
    fn location(&self, mark: Marker) -> Location {
        Location::new(&self.file, mark.line(), mark.col() + 1)
    }

    fn fail(&mut self, diagnostic: Diagnostic) {
        if self.error.is_none() {
            self.error = Some(diagnostic);
        }
    }

    fn apply_tag(&mut self, tag: Option<Tag>, node: Node) -> Node {
        let Some(tag) = tag else { return node };
        if tag.handle != "!" {
            // Standard tags such as !!str keep the node as it is.
            return node;
        }
        let Some(name) = long_form(&tag.suffix) else {
            self.fail(
                Diagnostic::error(&node.location, format!("unknown tag !{}", tag.suffix)).with_hint(
                    "CloudFormation's short forms are !Ref, !GetAtt, !Sub, !Join, !Select, !Split, !If, !Equals, !And, !Or, !Not, !FindInMap, !Base64, !Condition, !GetAZs, !ImportValue, !Cidr",
                ),
            );
            return node;
        };
        let location = node.location.clone();
        let argument = if name == "Fn::GetAtt" {
            match &node.value {
                Value::String(text) => match text.split_once('.') {
                    Some((resource, attribute)) => Node::new(
                        Value::List(vec![
                            Node::new(Value::String(resource.to_string()), location.clone()),
                            Node::new(Value::String(attribute.to_string()), location.clone()),
                        ]),
                        location.clone(),
                    ),
                    None => node,
                },
                _ => node,
            }
        } else {
            node
        };
        Node::new(Value::Map(vec![(name.to_string(), argument)]), location)
    }

    fn push_value(&mut self, node: Node) {
        match self.stack.last_mut() {
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
            Some(Frame::List { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                None => {
                    let key_text = match &node.value {
                        Value::String(s) | Value::Number(s) => s.clone(),
                        Value::Bool(b) => b.to_string(),
                        Value::Null => String::new(),
                        _ => {
                            let location = node.location.clone();
                            self.fail(Diagnostic::error(
                                &location,
                                "a map key must be a plain value, not a list or map",
                            ));
                            return;
                        }
                    };
                    if let Some(Frame::Map { entries, key, .. }) = self.stack.last_mut() {
                        if let Some((_, first)) = entries.iter().find(|(k, _)| *k == key_text) {
                            let message = format!(
                                "duplicate key '{key_text}' (first written at line {})",
                                first.location.line
                            );
                            let location = node.location.clone();
                            self.fail(Diagnostic::error(&location, message).with_hint("remove or rename one of them"));
                            return;
                        }
                        *key = Some((key_text, node.location));
                    }
                }
                Some((name, _)) => entries.push((name, node)),
            },
        }
    }
}

fn scalar(text: String, style: TScalarStyle, location: Location) -> Node {
    if style != TScalarStyle::Plain {
        return Node::new(Value::String(text), location);
    }
    let value = match text.as_str() {
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        "true" | "True" | "TRUE" => Value::Bool(true),
        "false" | "False" | "FALSE" => Value::Bool(false),
        _ if looks_numeric(&text) => Value::Number(text),
        _ => Value::String(text),
    };
    Node::new(value, location)
}

/// YAML 1.2 core-schema integers and floats.
fn looks_numeric(text: &str) -> bool {
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    if body.is_empty() {
        return false;
    }
    let mut seen_digit = false;
    let mut seen_point = false;
    let mut seen_exponent = false;
    let mut previous = ' ';
    for c in body.chars() {
        match c {
            '0'..='9' => seen_digit = true,
            '.' if !seen_point && !seen_exponent => seen_point = true,
            'e' | 'E' if seen_digit && !seen_exponent => seen_exponent = true,
            '-' | '+' if previous == 'e' || previous == 'E' => {}
            _ => return false,
        }
        previous = c;
    }
    seen_digit && !matches!(previous, 'e' | 'E' | '-' | '+')
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        let location = self.location(mark);
        match event {
            Event::DocumentStart => {
                self.documents += 1;
                if self.documents > 1 {
                    self.fail(Diagnostic::error(
                        &location,
                        "a template holds one YAML document; found a second ('---')",
                    ));
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                let node = scalar(text, style, location);
                let node = self.apply_tag(tag, node);
                if anchor > 0 {
                    self.anchors.insert(anchor, node.clone());
                }
                self.push_value(node);
            }
            Event::Alias(anchor) => match self.anchors.get(&anchor).cloned() {
                Some(node) => self.push_value(node),
                None => self.fail(Diagnostic::error(&location, "alias to an unknown anchor")),
            },
            Event::SequenceStart(anchor, tag) => {
                if self.stack.len() >= DEPTH_MAX {
                    self.fail(Diagnostic::error(&location, "the template nests too deeply"));
                    return;
                }
                self.stack.push(Frame::List {
                    items: Vec::new(),
                    tag,
                    location,
                    anchor,
                });
            }
            Event::MappingStart(anchor, tag) => {
                if self.stack.len() >= DEPTH_MAX {
                    self.fail(Diagnostic::error(&location, "the template nests too deeply"));
                    return;
                }
                self.stack.push(Frame::Map {
                    entries: Vec::new(),
                    key: None,
                    tag,
                    location,
                    anchor,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, tag, anchor) = match self.stack.pop() {
                    Some(Frame::List {
                        items,
                        tag,
                        location,
                        anchor,
                    }) => (Node::new(Value::List(items), location), tag, anchor),
                    Some(Frame::Map {
                        entries,
                        tag,
                        location,
                        anchor,
                        ..
                    }) => (Node::new(Value::Map(entries), location), tag, anchor),
                    None => return,
                };
                let node = self.apply_tag(tag, node);
                if anchor > 0 {
                    self.anchors.insert(anchor, node.clone());
                }
                self.push_value(node);
            }
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => {}
        }
    }
}

/// Parses a JSON template: strictly as JSON first (so a trailing comma is an error with its
/// line), then into nodes through the YAML reader, which keeps lines.
pub fn parse_json(text: &str, file: &Arc<PathBuf>) -> Result<Node, Diagnostic> {
    if let Err(error) = serde_json::from_str::<serde::de::IgnoredAny>(text) {
        let location = Location::new(file, error.line().max(1), error.column().max(1));
        let message = error.to_string();
        let mut message = message.split(" at line ").next().unwrap_or(&message).to_string();
        // serde_json reports a trailing comma as the missing key or value after it.
        let before: String = text
            .lines()
            .take(error.line().saturating_sub(1))
            .chain(
                text.lines()
                    .nth(error.line().saturating_sub(1))
                    .map(|l| l.get(..error.column().saturating_sub(1)).unwrap_or(l)),
            )
            .collect::<Vec<_>>()
            .join("\n");
        if before.trim_end().ends_with(',') {
            message = "trailing comma".to_string();
        }
        return Err(Diagnostic::error(&location, format!("invalid JSON: {message}"))
            .with_hint("JSON allows no comma after the last member; check quotes and commas near this position"));
    }
    parse(text, file)
}

/// Parses a YAML template text.
pub fn parse(text: &str, file: &Arc<PathBuf>) -> Result<Node, Diagnostic> {
    if text.trim().is_empty() {
        return Err(
            Diagnostic::error(&Location::new(file, 1, 1), "the template is empty").with_hint(
                "a SAM template needs at least `Transform: AWS::Serverless-2016-10-31` and a `Resources:` section",
            ),
        );
    }
    let mut builder = Builder {
        file: Arc::clone(file),
        stack: Vec::new(),
        anchors: HashMap::new(),
        root: None,
        error: None,
        documents: 0,
    };
    let mut parser = Parser::new_from_str(text);
    if let Err(error) = parser.load(&mut builder, true) {
        let marker = error.marker();
        let location = Location::new(file, marker.line(), marker.col() + 1);
        let mut diagnostic = Diagnostic::error(&location, format!("invalid YAML: {}", error.info()));
        if text
            .lines()
            .nth(marker.line().saturating_sub(1))
            .is_some_and(|l| l.contains('\t'))
        {
            diagnostic = diagnostic.with_hint("YAML does not allow tabs for indentation; use spaces");
        } else {
            diagnostic = diagnostic.with_hint("check the indentation and the quoting on this line and the one before");
        }
        return Err(diagnostic);
    }
    if let Some(error) = builder.error {
        return Err(error);
    }
    builder
        .root
        .ok_or_else(|| Diagnostic::error(&Location::new(file, 1, 1), "the template is empty"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Node, Diagnostic> {
        parse(text, &Arc::new(PathBuf::from("template.yaml")))
    }

    #[test]
    fn short_forms_become_long_forms_with_lines() {
        let node = load("A:\n  B: !Ref Param\n  C: !GetAtt Table.Arn\n  D: !Sub 'x-${AWS::Region}'\n  E: !If [Cond, 1, !Ref AWS::NoValue]\n").expect("parses");
        let b = node.get("A").and_then(|a| a.get("B")).expect("B");
        assert_eq!(
            b.intrinsic().map(|(n, a)| (n, a.as_str())),
            Some(("Ref", Some("Param")))
        );
        assert_eq!(b.location.line, 2);
        let c = node.get("A").and_then(|a| a.get("C")).expect("C");
        let (name, argument) = c.intrinsic().expect("intrinsic");
        assert_eq!(name, "Fn::GetAtt");
        let parts: Vec<&str> = argument
            .as_list()
            .expect("list")
            .iter()
            .filter_map(Node::as_str)
            .collect();
        assert_eq!(parts, vec!["Table", "Arn"]);
        let e = node.get("A").and_then(|a| a.get("E")).expect("E");
        assert_eq!(e.intrinsic().map(|(n, _)| n), Some("Fn::If"));
    }

    #[test]
    fn scalars_are_typed_as_yaml_core_schema() {
        let node = load("a: 1\nb: '1'\nc: true\nd: 1.5e3\ne: 08x\nf:\n").expect("parses");
        assert_eq!(node.get("a").map(|n| &n.value), Some(&Value::Number("1".into())));
        assert_eq!(node.get("b").map(|n| &n.value), Some(&Value::String("1".into())));
        assert_eq!(node.get("c").map(|n| &n.value), Some(&Value::Bool(true)));
        assert_eq!(node.get("d").map(|n| &n.value), Some(&Value::Number("1.5e3".into())));
        assert_eq!(node.get("e").map(|n| &n.value), Some(&Value::String("08x".into())));
        assert_eq!(node.get("f").map(|n| &n.value), Some(&Value::Null));
    }

    #[test]
    fn errors_say_where_and_how_to_fix() {
        let cases = [
            ("a: 1\nb: !Foo x\n", 2, "unknown tag !Foo"),
            ("a: 1\na: 2\n", 2, "duplicate key 'a' (first written at line 1)"),
            ("a:\n\t- b\n", 2, "invalid YAML"),
            ("", 1, "the template is empty"),
        ];
        for (text, line, message) in cases {
            let error = load(text).expect_err(text);
            assert_eq!(error.location.line, line, "{text:?}: {error}");
            assert!(error.message.starts_with(message), "{text:?}: {error}");
        }
    }

    #[test]
    fn json_is_strict() {
        let file = Arc::new(PathBuf::from("template.json"));
        let error = parse_json("{\n  \"a\": 1,\n}", &file).expect_err("trailing comma");
        assert_eq!(error.location.line, 3);
        assert!(error.message.starts_with("invalid JSON: trailing comma"), "{error}");
    }

    #[test]
    fn json_templates_load_too() {
        let node = load(
            "{\"Resources\": {\"T\": {\"Type\": \"AWS::DynamoDB::Table\", \"Properties\": {\"X\": {\"Ref\": \"P\"}}}}}",
        )
        .expect("parses");
        let x = node
            .get("Resources")
            .and_then(|r| r.get("T"))
            .and_then(|t| t.get("Properties"))
            .and_then(|p| p.get("X"))
            .expect("x");
        assert_eq!(x.intrinsic().map(|(n, _)| n), Some("Ref"));
    }

    #[test]
    fn garbage_never_panics() {
        let mut state = 0x1234_5678_9abc_def0u64;
        let alphabet = b"ab:- \n\t!{}[],'\"&*#|>%@`?RefSub.1";
        for _ in 0..3000 {
            let mut text = String::new();
            for _ in 0..(state % 60) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                text.push(char::from(alphabet[(state % alphabet.len() as u64) as usize]));
            }
            let _ = load(&text);
        }
    }
}
