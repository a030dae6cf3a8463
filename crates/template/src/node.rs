//! The template as a tree of nodes that remember where they were written, so every problem can
//! be reported with file and line. YAML and JSON templates both load into it.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where a node was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    pub file: Arc<PathBuf>,
    /// 1-based.
    pub line: usize,
    /// 1-based.
    pub column: usize,
}

impl Location {
    pub fn new(file: &Arc<PathBuf>, line: usize, column: usize) -> Location {
        Location {
            file: Arc::clone(file),
            line,
            column,
        }
    }

    pub fn unknown(file: &Path) -> Location {
        Location {
            file: Arc::new(file.to_path_buf()),
            line: 0,
            column: 0,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.file.display())
        } else {
            write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
        }
    }
}

/// A value in the template.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    /// Numbers keep their text: CloudFormation passes them on as written.
    Number(String),
    String(String),
    List(Vec<Node>),
    /// Keys in the order written.
    Map(Vec<(String, Node)>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub value: Value,
    pub location: Location,
}

impl Node {
    pub fn new(value: Value, location: Location) -> Node {
        Node { value, location }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) | Value::Number(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(String, Node)]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Node]> {
        match &self.value {
            Value::List(items) => Some(items),
            _ => None,
        }
    }

    /// If this node is an intrinsic function (`{"Ref": ...}`, `{"Fn::X": ...}`), its name and
    /// argument.
    pub fn intrinsic(&self) -> Option<(&str, &Node)> {
        match &self.value {
            Value::Map(entries) if entries.len() == 1 => {
                let (name, argument) = &entries[0];
                (name == "Ref" || name.starts_with("Fn::")).then_some((name.as_str(), argument))
            }
            _ => None,
        }
    }

    /// A short description of the node's kind, for messages.
    pub fn kind(&self) -> &'static str {
        match &self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::List(_) => "a list",
            Value::Map(_) => "a map",
        }
    }
}
