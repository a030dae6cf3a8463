//! Key condition expressions (Query's KeyConditionExpression): a condition restricted to an
//! equality on the partition key and at most one condition on the sort key.

use super::condition::{CmpOp, Func, Node, Op, parse_condition};
use super::{ConditionKind, ExprError, ExpressionContext};
use crate::value::AttributeValue;

/// The condition on the sort key.
#[derive(Clone, Debug, PartialEq)]
pub enum SortKeyCondition {
    Eq(AttributeValue),
    Lt(AttributeValue),
    Le(AttributeValue),
    Gt(AttributeValue),
    Ge(AttributeValue),
    Between(AttributeValue, AttributeValue),
    BeginsWith(AttributeValue),
}

/// A parsed key condition: the partition key's value and the sort key's condition, if any.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyCondition {
    pub partition_value: AttributeValue,
    pub sort: Option<SortKeyCondition>,
}

/// One simple condition on one key attribute.
struct KeyTerm {
    attribute: String,
    condition: SortKeyCondition,
}

fn error(message: impl Into<String>) -> ExprError {
    ExprError(message.into())
}

/// The values an operand list carries, checking AWS's rules on which operand names the key.
fn key_term(node: &Node) -> Result<KeyTerm, ExprError> {
    let (operator, operands): (&str, Vec<&Op>) = match node {
        Node::Cmp(op, a, b) => (op.symbol(), vec![a, b]),
        Node::Between(a, lo, hi) => {
            if !matches!(a, Op::Path(_)) {
                return Err(error(
                    "Invalid condition in KeyConditionExpression: BETWEEN operator must have the key attribute as its first operand",
                ));
            }
            ("BETWEEN", vec![a, lo, hi])
        }
        Node::Func(Func::BeginsWith, args) => {
            if !matches!(args.first(), Some(Op::Path(_))) {
                return Err(error(
                    "Invalid condition in KeyConditionExpression: begins_with operator must have the key attribute as its first operand",
                ));
            }
            ("begins_with", args.iter().collect())
        }
        _ => {
            return Err(error(
                "Invalid condition in KeyConditionExpression: No key attribute specified",
            ));
        }
    };
    let mut attribute: Option<(usize, String)> = None;
    let mut values = Vec::new();
    for (position, operand) in operands.iter().enumerate() {
        match operand {
            Op::Path(path) => {
                if attribute.is_some() {
                    return Err(error(
                        "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition",
                    ));
                }
                if path.0.len() > 1 {
                    return Err(error(
                        "KeyConditionExpressions cannot have conditions on nested attributes",
                    ));
                }
                attribute = Some((position, path.top().to_string()));
            }
            Op::Size(_) => return Err(error("KeyConditionExpressions cannot contain nested operations")),
            Op::Value(value) => values.push(value.clone()),
            Op::Invalid => {
                return Err(error(
                    "Invalid condition in KeyConditionExpression: No key attribute specified",
                ));
            }
        }
    }
    let Some((position, attribute)) = attribute else {
        return Err(error(
            "Invalid condition in KeyConditionExpression: No key attribute specified",
        ));
    };
    let mut values = values.into_iter();
    let mut next = || {
        values
            .next()
            .ok_or_else(|| error("Invalid condition in KeyConditionExpression: No key attribute specified"))
    };
    let condition = match operator {
        "BETWEEN" => SortKeyCondition::Between(next()?, next()?),
        "begins_with" => SortKeyCondition::BeginsWith(next()?),
        symbol => {
            let value = next()?;
            // `:v < key` reads as `key > :v`.
            let flipped = position != 0;
            match (symbol, flipped) {
                ("=", _) => SortKeyCondition::Eq(value),
                ("<", false) | (">", true) => SortKeyCondition::Lt(value),
                ("<=", false) | (">=", true) => SortKeyCondition::Le(value),
                (">", false) | ("<", true) => SortKeyCondition::Gt(value),
                _ => SortKeyCondition::Ge(value),
            }
        }
    };
    Ok(KeyTerm { attribute, condition })
}

/// Walks the tree in AWS's order, collecting one term per simple condition.
fn collect(node: &Node, terms: &mut Vec<KeyTerm>) -> Result<(), ExprError> {
    match node {
        Node::Or(_) => Err(error("Invalid operator used in KeyConditionExpression: OR")),
        Node::Not(_) => Err(error("Invalid operator used in KeyConditionExpression: NOT")),
        Node::In(..) => Err(error("Invalid operator used in KeyConditionExpression: IN")),
        Node::Cmp(CmpOp::Ne, ..) => Err(error("Invalid operator used in KeyConditionExpression: <>")),
        Node::Func(
            func @ (Func::AttributeExists | Func::AttributeNotExists | Func::AttributeType | Func::Contains),
            _,
        ) => Err(error(format!(
            "Invalid operator used in KeyConditionExpression: {}",
            func.name()
        ))),
        Node::Func(Func::Size, _) => Err(error("KeyConditionExpressions cannot contain nested operations")),
        Node::And(children) => children.iter().try_for_each(|child| collect(child, terms)),
        Node::Cmp(..) | Node::Between(..) | Node::Func(Func::BeginsWith, _) => {
            let term = key_term(node)?;
            if terms.iter().any(|t| t.attribute == term.attribute) {
                return Err(error("KeyConditionExpressions must only contain one condition per key"));
            }
            terms.push(term);
            Ok(())
        }
    }
}

/// Parses a Query KeyConditionExpression against the key schema (`range_key` `None` for a
/// hash-only table or index). Type checks of the values against the schema are the caller's.
pub fn parse_key_condition(
    text: &str,
    ctx: &mut ExpressionContext,
    hash_key: &str,
    range_key: Option<&str>,
) -> Result<KeyCondition, ExprError> {
    let condition = parse_condition(ConditionKind::KeyCondition, text, ctx)?;
    let mut terms = Vec::new();
    collect(&condition.root, &mut terms)?;
    let Some(hash_position) = terms.iter().position(|t| t.attribute == hash_key) else {
        return Err(error(format!("Query condition missed key schema element: {hash_key}")));
    };
    let hash = terms.remove(hash_position);
    let SortKeyCondition::Eq(partition_value) = hash.condition else {
        return Err(error("Query key condition not supported"));
    };
    let sort = match terms.pop() {
        None => None,
        Some(term) if terms.is_empty() && Some(term.attribute.as_str()) == range_key => Some(term.condition),
        Some(_) => return Err(error("Query key condition not supported")),
    };
    Ok(KeyCondition { partition_value, sort })
}
