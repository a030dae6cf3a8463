//! Condition expressions (ConditionExpression, FilterExpression, and the shared front half of
//! KeyConditionExpression): grammar, AWS's static validation, and evaluation against an item.

use std::borrow::Cow;
use std::cmp::Ordering;

use super::lexer::Tok;
use super::parser::{FuncCall, Operand, PResult, Parser};
use super::{
    ConditionKind, ExprError, ExpressionContext, IN_OPERANDS_MAX, OPERATORS_MAX, Path, check_text, first, invalid,
    resolve_path, undefined_name, undefined_value,
};
use crate::number::Number;
use crate::value::{AttributeValue, Item, ValueType};

/// Words that are syntax in conditions.
const KEYWORDS: &[&str] = &["AND", "OR", "NOT", "BETWEEN", "IN"];

/// The comparison operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub(crate) fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "<>",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }

    fn from_token(kind: Tok) -> Option<CmpOp> {
        Some(match kind {
            Tok::Eq => CmpOp::Eq,
            Tok::Ne => CmpOp::Ne,
            Tok::Lt => CmpOp::Lt,
            Tok::Le => CmpOp::Le,
            Tok::Gt => CmpOp::Gt,
            Tok::Ge => CmpOp::Ge,
            _ => return None,
        })
    }
}

/// The functions a condition may call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Func {
    AttributeExists,
    AttributeNotExists,
    AttributeType,
    BeginsWith,
    Contains,
    Size,
}

impl Func {
    /// Function names are case-sensitive (AWS rejects `attRIbute_exIsts`).
    fn from_name(name: &str) -> Option<Func> {
        Some(match name {
            "attribute_exists" => Func::AttributeExists,
            "attribute_not_exists" => Func::AttributeNotExists,
            "attribute_type" => Func::AttributeType,
            "begins_with" => Func::BeginsWith,
            "contains" => Func::Contains,
            "size" => Func::Size,
            _ => return None,
        })
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Func::AttributeExists => "attribute_exists",
            Func::AttributeNotExists => "attribute_not_exists",
            Func::AttributeType => "attribute_type",
            Func::BeginsWith => "begins_with",
            Func::Contains => "contains",
            Func::Size => "size",
        }
    }

    fn arity(self) -> usize {
        match self {
            Func::AttributeExists | Func::AttributeNotExists | Func::Size => 1,
            Func::AttributeType | Func::BeginsWith | Func::Contains => 2,
        }
    }
}

/// A resolved operand.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Op {
    Path(Path),
    Value(AttributeValue),
    Size(Box<Op>),
    /// Only present in trees that failed validation; never evaluated.
    Invalid,
}

/// A resolved condition tree.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Node {
    Cmp(CmpOp, Op, Op),
    Between(Op, Op, Op),
    In(Op, Vec<Op>),
    Func(Func, Vec<Op>),
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
}

/// A parsed and resolved condition.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    pub(crate) root: Node,
}

/// The syntax tree as written.
#[derive(Debug)]
enum RawCond {
    Cmp(CmpOp, Operand, Operand),
    Between(Operand, Operand, Operand),
    In(Operand, Vec<Operand>),
    Func(FuncCall),
    And(Vec<RawCond>),
    Or(Vec<RawCond>),
    Not(Box<RawCond>),
    Paren(Box<RawCond>),
}

fn or_cond(p: &mut Parser) -> PResult<RawCond> {
    let mut terms = vec![and_cond(p)?];
    while p.is_keyword_at(p.pos, "OR") {
        match p.attempt(|p| {
            p.keyword("OR")?;
            and_cond(p)
        }) {
            Ok(term) => terms.push(term),
            Err(_) => break,
        }
    }
    Ok(if terms.len() == 1 {
        terms.remove(0)
    } else {
        RawCond::Or(terms)
    })
}

fn and_cond(p: &mut Parser) -> PResult<RawCond> {
    let mut terms = vec![not_cond(p)?];
    while p.is_keyword_at(p.pos, "AND") {
        match p.attempt(|p| {
            p.keyword("AND")?;
            not_cond(p)
        }) {
            Ok(term) => terms.push(term),
            Err(_) => break,
        }
    }
    Ok(if terms.len() == 1 {
        terms.remove(0)
    } else {
        RawCond::And(terms)
    })
}

fn not_cond(p: &mut Parser) -> PResult<RawCond> {
    if p.is_keyword_at(p.pos, "NOT") {
        return p.attempt(|p| {
            p.keyword("NOT")?;
            p.nested(not_cond).map(|inner| RawCond::Not(Box::new(inner)))
        });
    }
    primary_cond(p)
}

fn primary_cond(p: &mut Parser) -> PResult<RawCond> {
    if let Ok(simple) = p.attempt(simple_cond) {
        return Ok(simple);
    }
    p.attempt(|p| {
        p.expect(Tok::LParen)?;
        let inner = p.nested(or_cond)?;
        p.expect(Tok::RParen)?;
        Ok(RawCond::Paren(Box::new(inner)))
    })
}

fn simple_cond(p: &mut Parser) -> PResult<RawCond> {
    let left = p.operand_parens(true)?;
    let after_left = p.pos;
    let branch = p.attempt(|p| {
        if let Some(op) = CmpOp::from_token(p.peek()) {
            p.pos += 1;
            let right = p.operand_parens(true)?;
            return Ok(Branch::Cmp(op, right));
        }
        if p.is_keyword_at(p.pos, "BETWEEN") {
            p.pos += 1;
            let low = p.operand_parens(true)?;
            p.keyword("AND")?;
            let high = p.operand_parens(true)?;
            return Ok(Branch::Between(low, high));
        }
        if p.is_keyword_at(p.pos, "IN") {
            p.pos += 1;
            p.expect(Tok::LParen)?;
            let mut list = vec![p.operand_parens(true)?];
            while p.peek() == Tok::Comma {
                p.pos += 1;
                list.push(p.operand_parens(true)?);
            }
            p.expect(Tok::RParen)?;
            return Ok(Branch::In(list));
        }
        p.fail()
    });
    match (branch, left) {
        (Ok(Branch::Cmp(op, right)), left) => Ok(RawCond::Cmp(op, left, right)),
        (Ok(Branch::Between(low, high)), left) => Ok(RawCond::Between(left, low, high)),
        (Ok(Branch::In(list)), left) => Ok(RawCond::In(left, list)),
        (Err(_), Operand::Func(call)) => {
            p.pos = after_left;
            Ok(RawCond::Func(call))
        }
        (Err(_), _) => p.fail(),
    }
}

enum Branch {
    Cmp(CmpOp, Operand),
    Between(Operand, Operand),
    In(Vec<Operand>),
}

/// Errors of one simple condition, by AWS's categories, each keeping its first message. The
/// first simple condition (left to right) with any error decides; within it the categories
/// rank distinct operands, reserved words, undefined placeholders, operand counts, then types.
#[derive(Default)]
struct Local {
    reserved: Option<String>,
    attr: Option<String>,
    operand: Option<String>,
    distinct: Option<String>,
    function: Option<String>,
}

/// What checking an operand found.
struct Checked {
    op: Op,
    /// The operand's type where known statically: a value's type or a function's result.
    ty: Option<&'static str>,
    /// The value itself, for a `:value` operand.
    immediate: Option<AttributeValue>,
}

/// Validation across the whole expression, by AWS's categories in priority order.
struct Checker<'p, 's, 'c, 'a> {
    p: &'p Parser<'s>,
    ctx: &'c mut ExpressionContext<'a>,
    parens: Option<String>,
    unknown_function: Option<String>,
    misused_function: Option<String>,
    condition: Option<String>,
    operators: usize,
}

const ALL_TYPES_ANY_ORDER: &str = "{NS,SS,L,BS,N,M,B,BOOL,NULL,S}";

impl Checker<'_, '_, '_, '_> {
    fn redundant(&mut self) {
        first(&mut self.parens, || {
            "The expression has redundant parentheses;".to_string()
        });
    }

    fn finish(&mut self, local: Local) {
        if self.condition.is_none() {
            self.condition = local
                .distinct
                .or(local.reserved)
                .or(local.attr)
                .or(local.operand)
                .or(local.function);
        }
    }

    fn misused(&mut self, operands: &[&Operand]) {
        for operand in operands {
            if let Operand::Func(call) = operand.unwrap_parens() {
                let name = self.p.text(call.name_token);
                if name != "size" {
                    first(&mut self.misused_function, || {
                        format!("The function is not allowed to be used this way in an expression; function: {name}")
                    });
                    return;
                }
            }
        }
    }

    fn distinct(&mut self, local: &mut Local, operator: &str, a: &Op, b: &Op) {
        if let (Op::Path(x), Op::Path(y)) = (a, b)
            && x == y
        {
            first(&mut local.distinct, || {
                format!(
                    "The first operand must be distinct from the remaining operands for this operator or function; operator: {operator}, first operand: {}",
                    x.bracketed()
                )
            });
        }
    }

    fn operand(&mut self, operand: &Operand, local: &mut Local) -> Checked {
        match operand {
            Operand::Paren(inner) => {
                if matches!(**inner, Operand::Paren(_)) {
                    self.redundant();
                }
                self.operand(inner, local)
            }
            Operand::Path(raw) => {
                if raw.redundant {
                    self.redundant();
                }
                let resolved = resolve_path(self.p, raw, self.ctx);
                if let Some(word) = resolved.reserved {
                    first(&mut local.reserved, || {
                        format!("Attribute name is a reserved keyword; reserved keyword: {word}")
                    });
                }
                if let Some(name) = resolved.undefined {
                    first(&mut local.attr, || undefined_name(&name));
                }
                Checked {
                    op: Op::Path(resolved.path),
                    ty: None,
                    immediate: None,
                }
            }
            Operand::Value(token) => {
                let name = self.p.text(*token);
                match self.ctx.value(name) {
                    Some(value) => Checked {
                        op: Op::Value(value.clone()),
                        ty: Some(value.value_type().name()),
                        immediate: Some(value),
                    },
                    None => {
                        first(&mut local.attr, || undefined_value(name));
                        Checked {
                            op: Op::Invalid,
                            ty: None,
                            immediate: None,
                        }
                    }
                }
            }
            Operand::Func(call) => {
                let (func, mut args, ty) = self.call(call, local);
                let op = match func {
                    Some(Func::Size) if args.len() == 1 => Op::Size(Box::new(args.remove(0))),
                    _ => Op::Invalid,
                };
                Checked {
                    op,
                    ty,
                    immediate: None,
                }
            }
        }
    }

    /// Checks a function call; returns the function (if known and well-formed), its resolved
    /// arguments and its result type.
    fn call(&mut self, call: &FuncCall, local: &mut Local) -> (Option<Func>, Vec<Op>, Option<&'static str>) {
        self.operators += 1;
        let checked: Vec<Checked> = call.args.iter().map(|arg| self.operand(arg, local)).collect();
        let arg_refs: Vec<&Operand> = call.args.iter().collect();
        self.misused(&arg_refs);
        let name = self.p.text(call.name_token);
        let args: Vec<Op> = checked.iter().map(|c| c.op.clone()).collect();
        let Some(func) = Func::from_name(name) else {
            first(&mut self.unknown_function, || {
                format!("Invalid function name; function: {name}")
            });
            return (None, args, None);
        };
        if args.len() != func.arity() {
            first(&mut local.operand, || {
                format!(
                    "Incorrect number of operands for operator or function; operator or function: {name}, number of operands: {}",
                    args.len()
                )
            });
            return (None, args, None);
        }
        if args.len() == 2 {
            self.distinct(local, name, &args[0], &args[1]);
        }
        let operand_type = |local: &mut Local, ty: &str| {
            first(&mut local.function, || {
                format!(
                    "Incorrect operand type for operator or function; operator or function: {name}, operand type: {ty}"
                )
            });
        };
        let ty = match func {
            Func::AttributeExists | Func::AttributeNotExists => {
                if !matches!(call.args[0].unwrap_parens(), Operand::Path(_)) {
                    first(&mut local.function, || {
                        format!("Operator or function requires a document path; operator or function: {name}")
                    });
                }
                None
            }
            Func::BeginsWith => {
                if let Some(ty) = checked.iter().filter_map(|c| c.ty).find(|ty| *ty != "S" && *ty != "B") {
                    operand_type(local, ty);
                }
                Some("BOOL")
            }
            Func::AttributeType => {
                match (&checked[1].immediate, checked[1].ty) {
                    (Some(AttributeValue::S(type_name)), _) => {
                        if ValueType::from_name(type_name).is_none() {
                            first(&mut local.function, || {
                                format!(
                                    "Invalid attribute type name found; type: {type_name}, valid types: {{B,NULL,SS,BOOL,L,BS,N,NS,S,M}}"
                                )
                            });
                        }
                    }
                    (_, Some(ty)) => operand_type(local, ty),
                    (_, None) => operand_type(local, ALL_TYPES_ANY_ORDER),
                }
                Some("BOOL")
            }
            Func::Size => {
                if let Some(ty) = checked[0].ty.filter(|ty| matches!(*ty, "N" | "BOOL" | "NULL")) {
                    operand_type(local, ty);
                }
                Some("N")
            }
            Func::Contains => Some("BOOL"),
        };
        (Some(func), args, ty)
    }

    fn cond(&mut self, cond: &RawCond) -> Node {
        match cond {
            RawCond::Paren(inner) => {
                if matches!(**inner, RawCond::Paren(_)) {
                    self.redundant();
                }
                self.cond(inner)
            }
            RawCond::Not(inner) => {
                self.operators += 1;
                Node::Not(Box::new(self.cond(inner)))
            }
            RawCond::And(terms) => {
                self.operators += terms.len().saturating_sub(1);
                Node::And(terms.iter().map(|t| self.cond(t)).collect())
            }
            RawCond::Or(terms) => {
                self.operators += terms.len().saturating_sub(1);
                Node::Or(terms.iter().map(|t| self.cond(t)).collect())
            }
            RawCond::Cmp(op, left, right) => {
                self.operators += 1;
                let mut local = Local::default();
                let a = self.operand(left, &mut local);
                let b = self.operand(right, &mut local);
                self.misused(&[left, right]);
                self.distinct(&mut local, op.symbol(), &a.op, &b.op);
                self.finish(local);
                Node::Cmp(*op, a.op, b.op)
            }
            RawCond::Between(subject, low, high) => {
                self.operators += 1;
                let mut local = Local::default();
                let a = self.operand(subject, &mut local);
                let lo = self.operand(low, &mut local);
                let hi = self.operand(high, &mut local);
                self.misused(&[subject, low, high]);
                if let (Some(x), Some(y)) = (&lo.immediate, &hi.immediate) {
                    let bounds = || {
                        format!(
                            "lower bound operand: AttributeValue: {}, upper bound operand: AttributeValue: {}",
                            render(x),
                            render(y)
                        )
                    };
                    if x.value_type() != y.value_type() {
                        first(&mut local.function, || {
                            format!(
                                "The BETWEEN operator requires same data type for lower and upper bounds; {}",
                                bounds()
                            )
                        });
                    } else if compare(x, y) == Some(Ordering::Greater) {
                        first(&mut local.function, || {
                            format!(
                                "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; {}",
                                bounds()
                            )
                        });
                    }
                }
                self.finish(local);
                Node::Between(a.op, lo.op, hi.op)
            }
            RawCond::In(subject, list) => {
                self.operators += 1;
                let mut local = Local::default();
                let a = self.operand(subject, &mut local);
                let ops: Vec<Op> = list.iter().map(|o| self.operand(o, &mut local).op).collect();
                let mut all: Vec<&Operand> = vec![subject];
                all.extend(list.iter());
                self.misused(&all);
                if list.len() > IN_OPERANDS_MAX {
                    first(&mut local.operand, || {
                        format!(
                            "The IN operator is provided with too many operands; number of operands: {}",
                            list.len()
                        )
                    });
                }
                self.finish(local);
                Node::In(a.op, ops)
            }
            RawCond::Func(call) => {
                let mut local = Local::default();
                let (func, args, _) = self.call(call, &mut local);
                if func == Some(Func::Size) || (func.is_none() && self.p.text(call.name_token) == "size") {
                    first(&mut self.misused_function, || {
                        "The function is not allowed to be used this way in an expression; function: size".to_string()
                    });
                }
                self.finish(local);
                match func {
                    Some(func) => Node::Func(func, args),
                    None => Node::And(Vec::new()),
                }
            }
        }
    }
}

/// AWS's `{T:value}` rendering of a value in BETWEEN messages.
fn render(value: &AttributeValue) -> String {
    let body = match value {
        AttributeValue::S(s) => s.clone(),
        AttributeValue::N(n) => n.to_string(),
        AttributeValue::B(b) => base64(b),
        AttributeValue::Bool(b) => b.to_string(),
        AttributeValue::Null => "true".to_string(),
        AttributeValue::Ss(set) => format!("[{}]", set.join(", ")),
        AttributeValue::Ns(set) => format!("[{}]", set.iter().map(Number::to_string).collect::<Vec<_>>().join(", ")),
        AttributeValue::Bs(set) => format!("[{}]", set.iter().map(|b| base64(b)).collect::<Vec<_>>().join(", ")),
        AttributeValue::L(list) => format!("[{}]", list.iter().map(render).collect::<Vec<_>>().join(", ")),
        AttributeValue::M(map) => {
            format!(
                "{{{}}}",
                map.iter()
                    .map(|(k, v)| format!("{k}={}", render(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    };
    format!("{{{}:{body}}}", value.value_type().name())
}

fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Parses, validates and resolves a condition; also the first half of key conditions.
pub fn parse_condition(kind: ConditionKind, text: &str, ctx: &mut ExpressionContext) -> Result<Condition, ExprError> {
    let parameter = kind.parameter();
    check_text(parameter, text)?;
    let mut p = Parser::new(text, KEYWORDS, true);
    let raw = match or_cond(&mut p).and_then(|raw| if p.at_end() { Ok(raw) } else { p.fail() }) {
        Ok(raw) => raw,
        Err(_) => return Err(invalid(parameter, p.syntax_error())),
    };
    let mut checker = Checker {
        p: &p,
        ctx,
        parens: None,
        unknown_function: None,
        misused_function: None,
        condition: None,
        operators: 0,
    };
    let root = checker.cond(&raw);
    if checker.operators > OPERATORS_MAX {
        return Err(invalid(
            parameter,
            format_args!(
                "The expression contains too many operators; operator count: {}",
                checker.operators
            ),
        ));
    }
    let error = checker
        .parens
        .or(checker.unknown_function)
        .or(checker.misused_function)
        .or(checker.condition);
    match error {
        Some(message) => Err(invalid(parameter, message)),
        None => Ok(Condition { root }),
    }
}

/// Orders two values of the same scalar type (S, N or B); `None` otherwise.
pub(crate) fn compare(a: &AttributeValue, b: &AttributeValue) -> Option<Ordering> {
    match (a, b) {
        (AttributeValue::S(x), AttributeValue::S(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (AttributeValue::N(x), AttributeValue::N(y)) => Some(x.cmp(y)),
        (AttributeValue::B(x), AttributeValue::B(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// `size()` as DynamoDB computes it: UTF-16 code units of a string, bytes of a binary,
/// members of a set, list or map.
pub(crate) fn size_of(value: &AttributeValue) -> Option<usize> {
    Some(match value {
        AttributeValue::S(s) => s.encode_utf16().count(),
        AttributeValue::B(b) => b.len(),
        AttributeValue::Ss(set) => set.len(),
        AttributeValue::Ns(set) => set.len(),
        AttributeValue::Bs(set) => set.len(),
        AttributeValue::L(list) => list.len(),
        AttributeValue::M(map) => map.len(),
        AttributeValue::N(_) | AttributeValue::Bool(_) | AttributeValue::Null => return None,
    })
}

fn resolve<'a>(op: &'a Op, item: &'a Item) -> Option<Cow<'a, AttributeValue>> {
    match op {
        Op::Path(path) => path.get(item).map(Cow::Borrowed),
        Op::Value(value) => Some(Cow::Borrowed(value)),
        Op::Size(inner) => {
            let size = size_of(resolve(inner, item)?.as_ref())?;
            Some(Cow::Owned(AttributeValue::N(Number::from_i64(
                i64::try_from(size).unwrap_or(i64::MAX),
            ))))
        }
        Op::Invalid => None,
    }
}

fn contains(haystack: &AttributeValue, needle: &AttributeValue) -> bool {
    match (haystack, needle) {
        (AttributeValue::S(s), AttributeValue::S(sub)) => s.contains(sub.as_str()),
        (AttributeValue::B(b), AttributeValue::B(sub)) => {
            sub.is_empty() || b.windows(sub.len()).any(|window| window == sub.as_slice())
        }
        (AttributeValue::Ss(set), AttributeValue::S(member)) => set.contains(member),
        (AttributeValue::Ns(set), AttributeValue::N(member)) => set.contains(member),
        (AttributeValue::Bs(set), AttributeValue::B(member)) => set.contains(member),
        (AttributeValue::L(list), member) => list.contains(member),
        _ => false,
    }
}

pub(crate) fn evaluate_node(node: &Node, item: &Item) -> bool {
    match node {
        Node::And(terms) => terms.iter().all(|t| evaluate_node(t, item)),
        Node::Or(terms) => terms.iter().any(|t| evaluate_node(t, item)),
        Node::Not(inner) => !evaluate_node(inner, item),
        Node::Cmp(op, a, b) => {
            let (a, b) = (resolve(a, item), resolve(b, item));
            match op {
                CmpOp::Eq => matches!((a, b), (Some(x), Some(y)) if x == y),
                CmpOp::Ne => match (a, b) {
                    (Some(x), Some(y)) => x != y,
                    (None, None) => false,
                    _ => true,
                },
                _ => {
                    let (Some(x), Some(y)) = (a, b) else { return false };
                    let Some(order) = compare(&x, &y) else { return false };
                    match op {
                        CmpOp::Lt => order == Ordering::Less,
                        CmpOp::Le => order != Ordering::Greater,
                        CmpOp::Gt => order == Ordering::Greater,
                        _ => order != Ordering::Less,
                    }
                }
            }
        }
        Node::Between(subject, low, high) => {
            let (Some(x), Some(lo), Some(hi)) = (resolve(subject, item), resolve(low, item), resolve(high, item))
            else {
                return false;
            };
            matches!(compare(&x, &lo), Some(Ordering::Greater | Ordering::Equal))
                && matches!(compare(&x, &hi), Some(Ordering::Less | Ordering::Equal))
        }
        Node::In(subject, list) => {
            let Some(x) = resolve(subject, item) else { return false };
            list.iter()
                .any(|candidate| resolve(candidate, item).is_some_and(|c| c == x))
        }
        Node::Func(func, args) => {
            let arg = |index: usize| args.get(index).and_then(|op| resolve(op, item));
            match func {
                Func::AttributeExists => arg(0).is_some(),
                Func::AttributeNotExists => arg(0).is_none(),
                Func::AttributeType => match (arg(0), arg(1)) {
                    (Some(value), Some(ty)) => match ty.as_ref() {
                        AttributeValue::S(name) => value.value_type().name() == name,
                        _ => false,
                    },
                    _ => false,
                },
                Func::BeginsWith => match (arg(0), arg(1)) {
                    (Some(value), Some(prefix)) => match (value.as_ref(), prefix.as_ref()) {
                        (AttributeValue::S(s), AttributeValue::S(p)) => s.starts_with(p.as_str()),
                        (AttributeValue::B(b), AttributeValue::B(p)) => b.starts_with(p),
                        _ => false,
                    },
                    _ => false,
                },
                Func::Contains => match (arg(0), arg(1)) {
                    (Some(haystack), Some(needle)) => contains(&haystack, &needle),
                    _ => false,
                },
                Func::Size => false,
            }
        }
    }
}

impl Condition {
    /// `item` is the current item, or an empty map when there is none.
    pub fn evaluate(&self, item: &Item) -> bool {
        evaluate_node(&self.root, item)
    }

    /// Every document path the condition reads, in the order written.
    pub fn paths(&self) -> Vec<&Path> {
        fn operand<'a>(op: &'a Op, out: &mut Vec<&'a Path>) {
            match op {
                Op::Path(path) => out.push(path),
                Op::Size(inner) => operand(inner, out),
                Op::Value(_) | Op::Invalid => {}
            }
        }
        fn node<'a>(n: &'a Node, out: &mut Vec<&'a Path>) {
            match n {
                Node::Cmp(_, a, b) => {
                    operand(a, out);
                    operand(b, out);
                }
                Node::Between(a, b, c) => [a, b, c].into_iter().for_each(|op| operand(op, out)),
                Node::In(subject, list) => {
                    operand(subject, out);
                    list.iter().for_each(|op| operand(op, out));
                }
                Node::Func(_, args) => args.iter().for_each(|op| operand(op, out)),
                Node::And(terms) | Node::Or(terms) => terms.iter().for_each(|t| node(t, out)),
                Node::Not(inner) => node(inner, out),
            }
        }
        let mut out = Vec::new();
        node(&self.root, &mut out);
        out
    }
}
