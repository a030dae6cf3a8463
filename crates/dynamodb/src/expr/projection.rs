//! Projection expressions: parsing a list of document paths, and cutting an item down to them.

use std::collections::BTreeMap;

use super::lexer::Tok;
use super::parser::{PResult, Parser};
use super::{
    ExprError, ExpressionContext, Path, PathElement, check_text, first, invalid, resolve_path, undefined_name,
};
use crate::value::{AttributeValue, Item};

const PARAMETER: &str = "ProjectionExpression";

/// Parses a ProjectionExpression into its paths, in the order written.
pub fn parse_projection(text: &str, ctx: &mut ExpressionContext) -> Result<Vec<Path>, ExprError> {
    check_text(PARAMETER, text)?;
    let mut p = Parser::new(text, &[], false);
    let mut raw_paths = Vec::new();
    let parsed = (|| -> PResult<()> {
        raw_paths.push(p.path()?);
        while !p.at_end() {
            p.expect(Tok::Comma)?;
            raw_paths.push(p.path()?);
        }
        Ok(())
    })();
    if parsed.is_err() {
        return Err(invalid(PARAMETER, p.syntax_error()));
    }
    let (mut reserved, mut undefined, mut overlap, mut conflict) = (None, None, None, None);
    let mut paths: Vec<Path> = Vec::with_capacity(raw_paths.len());
    for raw in &raw_paths {
        let resolved = resolve_path(&p, raw, ctx);
        if let Some(word) = resolved.reserved {
            first(&mut reserved, || {
                format!("Attribute name is a reserved keyword; reserved keyword: {word}")
            });
        }
        if let Some(name) = resolved.undefined {
            first(&mut undefined, || undefined_name(&name));
        }
        paths.push(resolved.path);
    }
    for (index, path) in paths.iter().enumerate() {
        if overlap.is_some() {
            break;
        }
        for earlier in &paths[..index] {
            let message = |kind: &str| {
                format!(
                    "Two document paths {kind} with each other; must remove or rewrite one of these paths; path one: {}, path two: {}",
                    earlier.bracketed(),
                    path.bracketed()
                )
            };
            if path.conflicts(earlier) {
                first(&mut conflict, || message("conflict"));
            } else if path.overlaps(earlier) {
                overlap = Some(message("overlap"));
                break;
            }
        }
    }
    match reserved.or(undefined).or(overlap).or(conflict) {
        Some(message) => Err(invalid(PARAMETER, message)),
        None => Ok(paths),
    }
}

/// The projected shape being built.
enum Node {
    Leaf(AttributeValue),
    Map(BTreeMap<String, Node>),
    List(BTreeMap<usize, Node>),
}

impl Node {
    fn into_value(self) -> AttributeValue {
        match self {
            Node::Leaf(value) => value,
            Node::Map(map) => AttributeValue::M(map.into_iter().map(|(k, v)| (k, v.into_value())).collect()),
            Node::List(list) => AttributeValue::L(list.into_values().map(Node::into_value).collect()),
        }
    }
}

/// Inserts `value` at `rest` below `node`; a leaf already covering the place wins.
fn insert(node: &mut Node, rest: &[PathElement], value: AttributeValue) {
    let Some((element, tail)) = rest.split_first() else {
        *node = Node::Leaf(value);
        return;
    };
    let child = match (node, element) {
        (Node::Map(map), PathElement::Attribute(name)) => map.entry(name.clone()).or_insert_with(|| empty_for(tail)),
        (Node::List(list), PathElement::Index(index)) => list.entry(*index).or_insert_with(|| empty_for(tail)),
        _ => return,
    };
    if tail.is_empty() {
        *child = Node::Leaf(value);
    } else {
        insert(child, tail, value);
    }
}

fn empty_for(rest: &[PathElement]) -> Node {
    match rest.first() {
        Some(PathElement::Index(_)) => Node::List(BTreeMap::new()),
        _ => Node::Map(BTreeMap::new()),
    }
}

/// The item restricted to the paths, as DynamoDB returns projections: nested maps keep only
/// the projected members; projected list elements keep their relative order, compacted.
pub fn project(item: &Item, paths: &[Path]) -> Item {
    let mut root = Node::Map(BTreeMap::new());
    for path in paths {
        if !matches!(path.0.first(), Some(PathElement::Attribute(_))) {
            continue;
        }
        if let Some(value) = path.get(item) {
            insert(&mut root, &path.0, value.clone());
        }
    }
    match root.into_value() {
        AttributeValue::M(map) => map,
        _ => Item::new(),
    }
}
