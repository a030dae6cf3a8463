//! Update expressions: SET / REMOVE / ADD / DELETE clauses, AWS's static validation, and their
//! application to an item with DynamoDB's semantics.

use std::cmp::Ordering;

use super::lexer::Tok;
use super::parser::{FuncCall, Operand, PResult, Parser, RawPath};
use super::{
    ExprError, ExpressionContext, OPERATORS_MAX, Path, PathElement, check_text, first, invalid, resolve_path,
    undefined_name, undefined_value,
};
use crate::value::{AttributeValue, Item};

const PARAMETER: &str = "UpdateExpression";
const KEYWORDS: &[&str] = &["SET", "REMOVE", "ADD", "DELETE"];

const MISSING: &str = "The provided expression refers to an attribute that does not exist in the item";
const INVALID_PATH: &str = "The document path provided in the update expression is invalid for update";
const WRONG_TYPE: &str = "An operand in the update expression has an incorrect data type";

/// A SET value, resolved.
#[derive(Clone, Debug, PartialEq)]
enum Value {
    Path(Path),
    Literal(AttributeValue),
    Plus(Box<Value>, Box<Value>),
    Minus(Box<Value>, Box<Value>),
    IfNotExists(Path, Box<Value>),
    ListAppend(Box<Value>, Box<Value>),
    /// Only in trees that failed validation.
    Invalid,
}

#[derive(Clone, Debug, PartialEq)]
enum Action {
    Set(Path, Value),
    Remove(Path),
    Add(Path, AttributeValue),
    Delete(Path, AttributeValue),
}

impl Action {
    fn path(&self) -> &Path {
        match self {
            Action::Set(path, _) | Action::Remove(path) | Action::Add(path, _) | Action::Delete(path, _) => path,
        }
    }
}

/// A parsed and resolved update expression.
#[derive(Clone, Debug, PartialEq)]
pub struct Update {
    actions: Vec<Action>,
}

#[derive(Debug)]
enum RawValue {
    Operand(Operand),
    Plus(Operand, Operand),
    Minus(Operand, Operand),
}

#[derive(Debug)]
enum RawAction {
    Set(RawPath, RawValue),
    Remove(RawPath),
    Add(RawPath, usize),
    Delete(RawPath, usize),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Section {
    Set,
    Remove,
    Add,
    Delete,
}

impl Section {
    fn name(self) -> &'static str {
        match self {
            Section::Set => "SET",
            Section::Remove => "REMOVE",
            Section::Add => "ADD",
            Section::Delete => "DELETE",
        }
    }
}

fn set_value(p: &mut Parser) -> PResult<RawValue> {
    let left = p.operand_parens(false)?;
    let branch = p.attempt(|p| {
        let plus = match p.peek() {
            Tok::Plus => true,
            Tok::Minus => false,
            _ => return p.fail(),
        };
        p.pos += 1;
        Ok((plus, p.operand_parens(false)?))
    });
    Ok(match branch {
        Ok((true, right)) => RawValue::Plus(left, right),
        Ok((false, right)) => RawValue::Minus(left, right),
        Err(_) => RawValue::Operand(left),
    })
}

fn set_action(p: &mut Parser) -> PResult<RawAction> {
    let path = p.path()?;
    p.expect(Tok::Eq)?;
    if p.peek() == Tok::LParen
        && let Ok(value) = p.attempt(|p| {
            p.expect(Tok::LParen)?;
            let value = set_value(p)?;
            p.expect(Tok::RParen)?;
            Ok(value)
        })
    {
        return Ok(RawAction::Set(path, value));
    }
    Ok(RawAction::Set(path, set_value(p)?))
}

fn section(p: &mut Parser) -> PResult<(Section, Vec<RawAction>)> {
    let section = if p.is_keyword_at(p.pos, "SET") {
        Section::Set
    } else if p.is_keyword_at(p.pos, "REMOVE") {
        Section::Remove
    } else if p.is_keyword_at(p.pos, "ADD") {
        Section::Add
    } else if p.is_keyword_at(p.pos, "DELETE") {
        Section::Delete
    } else {
        return p.fail();
    };
    p.pos += 1;
    let item = |p: &mut Parser| -> PResult<RawAction> {
        match section {
            Section::Set => set_action(p),
            Section::Remove => p.path().map(RawAction::Remove),
            Section::Add | Section::Delete => {
                let path = p.path()?;
                let value = p.expect(Tok::Value)?;
                Ok(if section == Section::Add {
                    RawAction::Add(path, value)
                } else {
                    RawAction::Delete(path, value)
                })
            }
        }
    };
    let mut actions = vec![item(p)?];
    while p.peek() == Tok::Comma {
        match p.attempt(|p| {
            p.expect(Tok::Comma)?;
            item(p)
        }) {
            Ok(action) => actions.push(action),
            Err(_) => break,
        }
    }
    Ok((section, actions))
}

struct Checker<'p, 's, 'c, 'a> {
    p: &'p Parser<'s>,
    ctx: &'c mut ExpressionContext<'a>,
    reserved: Option<String>,
    unknown_function: Option<String>,
    section: Option<String>,
    attr_name: Option<String>,
    attr_value: Option<String>,
    overlap: Option<String>,
    conflict: Option<String>,
    operand: Option<String>,
    function: Option<String>,
    operators: usize,
    paths: Vec<Path>,
}

/// What checking an operand found.
struct Checked {
    value: Value,
    /// A value's type or a function's result type.
    ty: Option<&'static str>,
    /// The type of a `:value` operand itself.
    immediate: Option<&'static str>,
}

impl Checker<'_, '_, '_, '_> {
    fn path(&mut self, raw: &RawPath) -> Path {
        let resolved = resolve_path(self.p, raw, self.ctx);
        if let Some(word) = resolved.reserved {
            first(&mut self.reserved, || {
                format!("Attribute name is a reserved keyword; reserved keyword: {word}")
            });
        }
        if let Some(name) = resolved.undefined {
            first(&mut self.attr_name, || undefined_name(&name));
        }
        resolved.path
    }

    fn literal(&mut self, token: usize) -> Option<AttributeValue> {
        let name = self.p.text(token);
        let value = self.ctx.value(name);
        if value.is_none() {
            first(&mut self.attr_value, || undefined_value(name));
        }
        value
    }

    fn target(&mut self, path: &Path) {
        if self.overlap.is_some() {
            return;
        }
        for earlier in &self.paths {
            if path.conflicts(earlier) {
                first(&mut self.conflict, || {
                    format!(
                        "Two document paths conflict with each other; must remove or rewrite one of these paths; path one: {}, path two: {}",
                        earlier.bracketed(),
                        path.bracketed()
                    )
                });
            } else if path.overlaps(earlier) {
                self.overlap = Some(format!(
                    "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: {}, path two: {}",
                    earlier.bracketed(),
                    path.bracketed()
                ));
                return;
            }
        }
        self.paths.push(path.clone());
    }

    fn operand(&mut self, operand: &Operand) -> Checked {
        match operand {
            Operand::Paren(inner) => self.operand(inner),
            Operand::Path(raw) => Checked {
                value: Value::Path(self.path(raw)),
                ty: None,
                immediate: None,
            },
            Operand::Value(token) => match self.literal(*token) {
                Some(value) => {
                    let ty = value.value_type().name();
                    Checked {
                        value: Value::Literal(value),
                        ty: Some(ty),
                        immediate: Some(ty),
                    }
                }
                None => Checked {
                    value: Value::Invalid,
                    ty: None,
                    immediate: None,
                },
            },
            Operand::Func(call) => self.call(call),
        }
    }

    fn operand_types(&mut self, name: &str, args: &[&Checked], wanted: &str) {
        if let Some(ty) = args.iter().filter_map(|c| c.immediate).find(|ty| *ty != wanted) {
            first(&mut self.function, || {
                format!(
                    "Incorrect operand type for operator or function; operator or function: {name}, operand type: {ty}"
                )
            });
        }
    }

    fn call(&mut self, call: &FuncCall) -> Checked {
        self.operators += 1;
        let mut args: Vec<Checked> = call.args.iter().map(|arg| self.operand(arg)).collect();
        let name = self.p.text(call.name_token);
        let invalid = Checked {
            value: Value::Invalid,
            ty: None,
            immediate: None,
        };
        if name != "if_not_exists" && name != "list_append" {
            first(&mut self.unknown_function, || {
                format!("Invalid function name; function: {name}")
            });
            return invalid;
        }
        if args.len() != 2 {
            first(&mut self.function, || {
                format!(
                    "Incorrect number of operands for operator or function; operator or function: {name}, number of operands: {}",
                    args.len()
                )
            });
            return invalid;
        }
        let second = args.remove(1);
        let first_arg = args.remove(0);
        if name == "if_not_exists" {
            let Value::Path(path) = first_arg.value else {
                first(&mut self.function, || {
                    format!("Operator or function requires a document path; operator or function: {name}")
                });
                return invalid;
            };
            Checked {
                ty: second.ty,
                value: Value::IfNotExists(path, Box::new(second.value)),
                immediate: None,
            }
        } else {
            self.operand_types(name, &[&first_arg, &second], "L");
            Checked {
                value: Value::ListAppend(Box::new(first_arg.value), Box::new(second.value)),
                ty: Some("L"),
                immediate: None,
            }
        }
    }

    fn value(&mut self, raw: &RawValue) -> Value {
        match raw {
            RawValue::Operand(operand) => self.operand(operand).value,
            RawValue::Plus(a, b) | RawValue::Minus(a, b) => {
                self.operators += 1;
                let (a, b) = (self.operand(a), self.operand(b));
                let plus = matches!(raw, RawValue::Plus(..));
                self.operand_types(if plus { "+" } else { "-" }, &[&a, &b], "N");
                let (a, b) = (Box::new(a.value), Box::new(b.value));
                if plus { Value::Plus(a, b) } else { Value::Minus(a, b) }
            }
        }
    }

    fn operator_type(&mut self, operator: &str, value: &AttributeValue) {
        let name = match value {
            AttributeValue::S(_) => "STRING",
            AttributeValue::N(_) if operator == "ADD" => return,
            AttributeValue::N(_) => "NUMBER",
            AttributeValue::B(_) => "BINARY",
            AttributeValue::Null => "NULL",
            AttributeValue::Bool(_) => "BOOLEAN",
            AttributeValue::L(_) => "LIST",
            AttributeValue::M(_) => "MAP",
            AttributeValue::Ss(_) | AttributeValue::Ns(_) | AttributeValue::Bs(_) => return,
        };
        first(&mut self.operand, || {
            format!("Incorrect operand type for operator or function; operator: {operator}, operand type: {name}")
        });
    }

    fn action(&mut self, raw: &RawAction) -> Option<Action> {
        match raw {
            RawAction::Set(raw_path, raw_value) => {
                let path = self.path(raw_path);
                let value = self.value(raw_value);
                self.target(&path);
                Some(Action::Set(path, value))
            }
            RawAction::Remove(raw_path) => {
                let path = self.path(raw_path);
                self.target(&path);
                Some(Action::Remove(path))
            }
            RawAction::Add(raw_path, token) | RawAction::Delete(raw_path, token) => {
                let add = matches!(raw, RawAction::Add(..));
                let path = self.path(raw_path);
                let value = self.literal(*token);
                self.target(&path);
                let value = value?;
                self.operator_type(if add { "ADD" } else { "DELETE" }, &value);
                Some(if add {
                    Action::Add(path, value)
                } else {
                    Action::Delete(path, value)
                })
            }
        }
    }
}

/// Parses, validates and resolves an update expression.
pub fn parse_update(text: &str, ctx: &mut ExpressionContext) -> Result<Update, ExprError> {
    check_text(PARAMETER, text)?;
    let mut p = Parser::new(text, KEYWORDS, false);
    let mut sections = Vec::new();
    let parsed = (|| -> PResult<()> {
        sections.push(section(&mut p)?);
        while !p.at_end() {
            sections.push(section(&mut p)?);
        }
        Ok(())
    })();
    if parsed.is_err() {
        return Err(invalid(PARAMETER, p.syntax_error()));
    }
    let mut checker = Checker {
        p: &p,
        ctx,
        reserved: None,
        unknown_function: None,
        section: None,
        attr_name: None,
        attr_value: None,
        overlap: None,
        conflict: None,
        operand: None,
        function: None,
        operators: 0,
        paths: Vec::new(),
    };
    let mut seen = Vec::new();
    let mut actions = Vec::new();
    for (section, raw_actions) in &sections {
        actions.extend(raw_actions.iter().filter_map(|raw| checker.action(raw)));
        if seen.contains(section) {
            first(&mut checker.section, || {
                format!(
                    "The \"{}\" section can only be used once in an update expression;",
                    section.name()
                )
            });
        }
        seen.push(*section);
    }
    if checker.operators > OPERATORS_MAX {
        return Err(invalid(
            PARAMETER,
            format_args!(
                "The expression contains too many operators; operator count: {}",
                checker.operators
            ),
        ));
    }
    let error = checker
        .reserved
        .or(checker.unknown_function)
        .or(checker.section)
        .or(checker.attr_name)
        .or(checker.attr_value)
        .or(checker.overlap)
        .or(checker.conflict)
        .or(checker.operand)
        .or(checker.function);
    match error {
        Some(message) => Err(invalid(PARAMETER, message)),
        None => Ok(Update { actions }),
    }
}

fn error(message: &str) -> ExprError {
    ExprError(message.to_string())
}

/// Orders paths element by element (names before indexes, indexes numerically).
fn path_order(a: &Path, b: &Path) -> Ordering {
    for (x, y) in a.0.iter().zip(&b.0) {
        let order = match (x, y) {
            (PathElement::Attribute(x), PathElement::Attribute(y)) => x.cmp(y),
            (PathElement::Index(x), PathElement::Index(y)) => x.cmp(y),
            (PathElement::Attribute(_), PathElement::Index(_)) => Ordering::Less,
            (PathElement::Index(_), PathElement::Attribute(_)) => Ordering::Greater,
        };
        if order != Ordering::Equal {
            return order;
        }
    }
    a.0.len().cmp(&b.0.len())
}

/// The container holding a path's last element.
enum Parent<'a> {
    Map(&'a mut Item),
    List(&'a mut Vec<AttributeValue>),
}

enum NavError {
    /// Some element on the way does not exist.
    Missing,
    /// Some element on the way is not a map or list as the path requires.
    WrongType,
}

/// Walks to the container of the path's last element.
fn parent<'a, 'p>(item: &'a mut Item, path: &'p Path) -> Result<(Parent<'a>, &'p PathElement), NavError> {
    let Some((last, prefix)) = path.0.split_last() else {
        return Err(NavError::WrongType);
    };
    let mut current = Parent::Map(item);
    for element in prefix {
        let child = match (current, element) {
            (Parent::Map(map), PathElement::Attribute(name)) => map.get_mut(name).ok_or(NavError::Missing)?,
            (Parent::List(list), PathElement::Index(index)) => list.get_mut(*index).ok_or(NavError::Missing)?,
            _ => return Err(NavError::WrongType),
        };
        current = match child {
            AttributeValue::M(map) => Parent::Map(map),
            AttributeValue::L(list) => Parent::List(list),
            _ => return Err(NavError::WrongType),
        };
    }
    Ok((current, last))
}

/// Stores `value` at `path` (a list index past the end appends).
fn put(item: &mut Item, path: &Path, value: AttributeValue) -> Result<(), ExprError> {
    match parent(item, path) {
        Ok((Parent::Map(map), PathElement::Attribute(name))) => {
            map.insert(name.clone(), value);
            Ok(())
        }
        Ok((Parent::List(list), PathElement::Index(index))) => {
            match list.get_mut(*index) {
                Some(slot) => *slot = value,
                None => list.push(value),
            }
            Ok(())
        }
        Ok(_) | Err(NavError::WrongType) => Err(error(INVALID_PATH)),
        Err(NavError::Missing) => Err(error(MISSING)),
    }
}

/// Removes the value at `path`; a missing last element is not an error.
fn remove(item: &mut Item, path: &Path) -> Result<(), ExprError> {
    match parent(item, path) {
        Ok((Parent::Map(map), PathElement::Attribute(name))) => {
            map.remove(name);
            Ok(())
        }
        Ok((Parent::List(list), PathElement::Index(index))) => {
            if *index < list.len() {
                list.remove(*index);
            }
            Ok(())
        }
        Ok(_) | Err(_) => Err(error(INVALID_PATH)),
    }
}

fn evaluate(value: &Value, item: &Item) -> Result<AttributeValue, ExprError> {
    match value {
        Value::Path(path) => path.get(item).cloned().ok_or_else(|| error(MISSING)),
        Value::Literal(value) => Ok(value.clone()),
        Value::Plus(a, b) | Value::Minus(a, b) => {
            let AttributeValue::N(x) = evaluate(a, item)? else {
                return Err(error(WRONG_TYPE));
            };
            let AttributeValue::N(y) = evaluate(b, item)? else {
                return Err(error(WRONG_TYPE));
            };
            let result = if matches!(value, Value::Plus(..)) {
                x.add(&y)
            } else {
                x.sub(&y)
            };
            result.map(AttributeValue::N).map_err(|e| ExprError(e.message()))
        }
        Value::IfNotExists(path, fallback) => match path.get(item) {
            Some(existing) => Ok(existing.clone()),
            None => evaluate(fallback, item),
        },
        Value::ListAppend(a, b) => {
            let AttributeValue::L(mut x) = evaluate(a, item)? else {
                return Err(error(WRONG_TYPE));
            };
            let AttributeValue::L(y) = evaluate(b, item)? else {
                return Err(error(WRONG_TYPE));
            };
            x.extend(y);
            Ok(AttributeValue::L(x))
        }
        Value::Invalid => Err(error(WRONG_TYPE)),
    }
}

/// ADD: numbers are summed, sets united; a missing attribute takes the operand.
fn add(existing: Option<&AttributeValue>, operand: &AttributeValue) -> Result<AttributeValue, ExprError> {
    let mut result = match (existing, operand) {
        (None, AttributeValue::N(_) | AttributeValue::Ss(_) | AttributeValue::Ns(_) | AttributeValue::Bs(_)) => {
            return Ok(operand.clone());
        }
        (Some(AttributeValue::N(x)), AttributeValue::N(y)) => {
            return x.add(y).map(AttributeValue::N).map_err(|e| ExprError(e.message()));
        }
        (Some(AttributeValue::Ss(x)), AttributeValue::Ss(y)) => {
            AttributeValue::Ss(x.iter().chain(y).cloned().collect())
        }
        (Some(AttributeValue::Ns(x)), AttributeValue::Ns(y)) => {
            AttributeValue::Ns(x.iter().chain(y).cloned().collect())
        }
        (Some(AttributeValue::Bs(x)), AttributeValue::Bs(y)) => {
            AttributeValue::Bs(x.iter().chain(y).cloned().collect())
        }
        _ => return Err(error(WRONG_TYPE)),
    };
    result.normalize_set();
    Ok(result)
}

/// DELETE: the set minus the operand's members; `None` when nothing is left.
fn subtract(existing: &AttributeValue, operand: &AttributeValue) -> Result<Option<AttributeValue>, ExprError> {
    let result = match (existing, operand) {
        (AttributeValue::Ss(x), AttributeValue::Ss(y)) => {
            let rest: Vec<String> = x.iter().filter(|v| !y.contains(v)).cloned().collect();
            (!rest.is_empty()).then_some(AttributeValue::Ss(rest))
        }
        (AttributeValue::Ns(x), AttributeValue::Ns(y)) => {
            let rest: Vec<_> = x.iter().filter(|v| !y.contains(v)).cloned().collect();
            (!rest.is_empty()).then_some(AttributeValue::Ns(rest))
        }
        (AttributeValue::Bs(x), AttributeValue::Bs(y)) => {
            let rest: Vec<Vec<u8>> = x.iter().filter(|v| !y.contains(v)).cloned().collect();
            (!rest.is_empty()).then_some(AttributeValue::Bs(rest))
        }
        _ => return Err(error(WRONG_TYPE)),
    };
    Ok(result)
}

impl Update {
    /// "One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key"
    pub fn check_key_attributes(&self, key_names: &[&str]) -> Result<(), ExprError> {
        for action in &self.actions {
            let top = action.path().top();
            if key_names.contains(&top) {
                return Err(ExprError(format!(
                    "One or more parameter values were invalid: Cannot update attribute {top}. This attribute is part of the key"
                )));
            }
        }
        Ok(())
    }

    /// Applies SET/REMOVE/ADD/DELETE in AWS's semantics to `item` (which may start empty for an
    /// upsert). Every SET value is computed from the item as it was before the update. On error
    /// the item may be partly changed (callers discard it).
    pub fn apply(&self, item: &mut Item) -> Result<(), ExprError> {
        let mut sets = Vec::new();
        let mut removes = Vec::new();
        for action in &self.actions {
            match action {
                Action::Set(path, value) => sets.push((path, evaluate(value, item)?)),
                Action::Remove(path) => removes.push(path),
                Action::Add(..) | Action::Delete(..) => {}
            }
        }
        // Appends past the end of a list land in index order; removals from one list go from
        // the highest index down so that every index refers to the original list.
        sets.sort_by(|a, b| path_order(a.0, b.0));
        removes.sort_by(|a, b| path_order(b, a));
        for (path, value) in sets {
            put(item, path, value)?;
        }
        for path in removes {
            remove(item, path)?;
        }
        for action in &self.actions {
            match action {
                Action::Add(path, operand) => {
                    let combined = add(path.get(item), operand)?;
                    put(item, path, combined)?;
                }
                Action::Delete(path, operand) => {
                    if let Err(NavError::Missing) = parent(item, path).map(|_| ()) {
                        return Err(error(INVALID_PATH));
                    }
                    let Some(existing) = path.get(item) else { continue };
                    match subtract(existing, operand)? {
                        Some(rest) => put(item, path, rest)?,
                        None => remove(item, path)?,
                    }
                }
                Action::Set(..) | Action::Remove(_) => {}
            }
        }
        Ok(())
    }

    /// The document paths this update writes (for ReturnValues UPDATED_OLD / UPDATED_NEW).
    pub fn updated_paths(&self) -> Vec<Path> {
        self.actions.iter().map(|action| action.path().clone()).collect()
    }
}
