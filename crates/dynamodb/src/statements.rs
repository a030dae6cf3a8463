//! PartiQL statements run on the engine: ExecuteStatement's and BatchExecuteStatement's SELECT,
//! INSERT, UPDATE and DELETE become Query, Scan, GetItem, PutItem, UpdateItem and DeleteItem
//! with generated expressions, so every rule of those operations applies unchanged.
//!
//! A SELECT whose WHERE has an equality on the partition key is a Query (with the first
//! condition on the sort key as its key condition); any other SELECT is a Scan. Either way the
//! whole WHERE is then evaluated on each item read, with DynamoDB's condition semantics, and
//! `Limit` counts the items read, as AWS counts them.

use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::codec::{decode_item, encode_item};
use crate::engine::{
    DeleteItemInput, Engine, Expressions, GetItemInput, PutItemInput, QueryInput, ReturnValues, ScanInput,
    TransactAction, TransactGetItem, TransactWriteItem, UpdateItemInput,
};
use crate::error::Error;
use crate::expr::{self, Condition, ConditionKind, ExpressionContext, Path, PathElement};
use crate::key::KeySchema;
use crate::partiql::{self, CompareOp, Expr, IsKind, Projection, Returning, Statement, UpdateAction, ValueError};
use crate::value::{AttributeValue, Item};

/// Deepest nesting of maps and lists in a value written by a statement.
const NESTING_MAX: usize = 32;

/// One ExecuteStatement request.
#[derive(Clone, Debug, Default)]
pub struct StatementInput {
    pub statement: String,
    pub parameters: Vec<AttributeValue>,
    pub consistent_read: bool,
    pub limit: Option<usize>,
    pub next_token: Option<String>,
    pub return_old_on_condition_failure: bool,
}

/// What a statement returned.
#[derive(Clone, Debug, Default)]
pub struct StatementOutput {
    pub table_name: String,
    /// The items read, or for a write with RETURNING the item's attributes.
    pub items: Vec<Item>,
    pub next_token: Option<String>,
    pub capacity_units: f64,
}

/// One statement of a BatchExecuteStatement request.
#[derive(Clone, Debug, Default)]
pub struct BatchStatementInput {
    pub statement: String,
    pub parameters: Vec<AttributeValue>,
    pub consistent_read: bool,
    pub return_old_on_condition_failure: bool,
}

/// The result of one statement of a batch: its table (once known), and the item read or the
/// statement's own error.
#[derive(Clone, Debug)]
pub struct BatchStatementOutput {
    pub table_name: Option<String>,
    pub result: Result<Option<Item>, Error>,
    pub capacity_units: f64,
}

/// One statement of an ExecuteTransaction request.
#[derive(Clone, Debug, Default)]
pub struct TransactionStatementInput {
    pub statement: String,
    pub parameters: Vec<AttributeValue>,
    pub return_old_on_condition_failure: bool,
}

/// What a transaction returned: one item (or none) per SELECT for a read transaction, and the
/// capacity consumed per table.
#[derive(Clone, Debug, Default)]
pub struct TransactionOutput {
    pub items: Option<Vec<Option<Item>>>,
    pub capacity: Vec<(String, f64)>,
}

/// A failure that may know its table.
struct Failure {
    table_name: Option<String>,
    error: Error,
}

impl From<Error> for Failure {
    fn from(error: Error) -> Failure {
        Failure {
            table_name: None,
            error,
        }
    }
}

fn invalid(message: impl Into<String>) -> Error {
    Error::Validation(message.into())
}

const INCOMPLETE_KEY: &str = "Where clause does not contain a mandatory equality on all key attributes";
const PARAMETER_COUNT: &str = "Number of parameters in request and statement don't match.";
const BATCH_SELECT_KEY: &str =
    "Select statements within BatchExecuteStatement must specify the primary key in the where clause.";
const BATCH_MIXED: &str = "Read and write requests together in the same batch is not supported.";
const NOT_BOOLEAN: &str = "WHERE clause must contain an expression that resolves to a boolean";
const EXISTS_OUTSIDE_TRANSACTION: &str = "EXISTS can only be used in ExecuteTransaction write requests.";
const TRANSACTION_MIXED: &str =
    "ExecuteTransaction API does not support both read and write operations in the same request.";
const TRANSACTION_SELECT_KEY: &str =
    "Select statements within ExecuteTransaction must specify the primary key in the where clause.";
const TRANSACTION_INDEX: &str = "Reads on indices are not supported within transactions.";
const DUPLICATE_ITEM: &str = "Duplicate primary key exists in table";

/// Parses a statement and checks it has a value for each `?`.
fn parse_statement(text: &str, parameters: &[AttributeValue]) -> Result<Statement, Error> {
    let (statement, count) = partiql::parse(text).map_err(|error| invalid(error.0))?;
    if count > parameters.len() {
        return Err(invalid(PARAMETER_COUNT));
    }
    Ok(statement)
}

/// A statement for ExecuteStatement or BatchExecuteStatement, where EXISTS has no place.
fn prepare(text: &str, parameters: &[AttributeValue]) -> Result<Statement, Error> {
    match parse_statement(text, parameters)? {
        Statement::Exists(_) => Err(invalid(EXISTS_OUTSIDE_TRANSACTION)),
        statement => Ok(statement),
    }
}

fn value_of(expr: &Expr, parameters: &[AttributeValue]) -> Result<AttributeValue, Error> {
    expr.value(parameters).map_err(|error| match error {
        ValueError::MissingParameter => invalid(PARAMETER_COUNT),
        ValueError::NotAValue => invalid("Unsupported operation: only literals and parameters can be used here"),
    })
}

fn depth(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::M(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        AttributeValue::L(list) => 1 + list.iter().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

fn check_nesting(value: &AttributeValue) -> Result<(), Error> {
    if depth(value) > NESTING_MAX + 1 {
        return Err(invalid("Nesting Levels have exceeded supported limits"));
    }
    Ok(())
}

/// Generated placeholders for one engine operation.
#[derive(Default)]
struct Placeholders {
    names: HashMap<String, String>,
    placeholder_of: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Placeholders {
    fn name(&mut self, name: &str) -> String {
        if let Some(existing) = self.placeholder_of.get(name) {
            return existing.clone();
        }
        let placeholder = format!("#n{}", self.names.len());
        self.names.insert(placeholder.clone(), name.to_string());
        self.placeholder_of.insert(name.to_string(), placeholder.clone());
        placeholder
    }

    fn value(&mut self, value: AttributeValue) -> String {
        let placeholder = format!(":v{}", self.values.len());
        self.values.insert(placeholder.clone(), value);
        placeholder
    }

    fn path(&mut self, path: &Path) -> String {
        let mut text = String::new();
        for element in &path.0 {
            match element {
                PathElement::Attribute(name) => {
                    if !text.is_empty() {
                        text.push('.');
                    }
                    text.push_str(&self.name(name));
                }
                PathElement::Index(index) => text.push_str(&format!("[{index}]")),
            }
        }
        text
    }

    fn expressions(self) -> Expressions {
        Expressions {
            names: (!self.names.is_empty()).then_some(self.names),
            values: (!self.values.is_empty()).then_some(self.values),
        }
    }
}

/// The top-level attribute a path names, when it is nothing more.
fn top_level(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Path(Path(elements)) => match elements.as_slice() {
            [PathElement::Attribute(name)] => Some(name),
            _ => None,
        },
        _ => None,
    }
}

/// `attribute = value` (either way round): the attribute and the value's expression.
fn equality(expr: &Expr) -> Option<(&str, &Expr)> {
    let Expr::Compare(CompareOp::Eq, left, right) = expr else {
        return None;
    };
    let is_value = |e: &Expr| matches!(e, Expr::Literal(_) | Expr::Parameter(_) | Expr::List(_) | Expr::Map(_));
    match (top_level(left), top_level(right)) {
        (Some(name), None) if is_value(right) => Some((name, right.as_ref())),
        (None, Some(name)) if is_value(left) => Some((name, left.as_ref())),
        _ => None,
    }
}

fn key_type_mismatch(name: &str) -> Error {
    invalid(format!(
        "Key attribute's data type should match its data type in table's schema: Key {name}"
    ))
}

/// The item key a write's WHERE names with equalities on every key attribute, and the other
/// conditions. `None` when some key attribute has no equality.
fn full_key<'a>(
    filter: &'a Expr,
    schema: &KeySchema,
    parameters: &[AttributeValue],
) -> Result<Option<(Item, Vec<&'a Expr>)>, Error> {
    let mut key = Item::new();
    let mut rest = Vec::new();
    for condition in filter.conjuncts() {
        match equality(condition) {
            Some((name, value)) if schema.is_key_attribute(name) => {
                if key.contains_key(name) {
                    return Err(invalid(format!(
                        "Multiple conditions on same key {name}. Only single item Update/Insert/Delete are supported"
                    )));
                }
                key.insert(name.to_string(), value_of(value, parameters)?);
            }
            _ => rest.push(condition),
        }
    }
    for attribute in schema.attributes() {
        match key.get(&attribute.name) {
            None => return Ok(None),
            Some(value) if value.value_type() != attribute.scalar_type.value_type() => {
                return Err(key_type_mismatch(&attribute.name));
            }
            Some(_) => {}
        }
    }
    Ok(Some((key, rest)))
}

// ----- WHERE as a condition expression -----

/// Writes a WHERE condition in DynamoDB's condition expression syntax.
struct ConditionWriter<'p> {
    placeholders: Placeholders,
    parameters: &'p [AttributeValue],
}

impl ConditionWriter<'_> {
    fn operand(&mut self, expr: &Expr) -> Result<String, Error> {
        match expr {
            Expr::Path(path) => Ok(self.placeholders.path(path)),
            Expr::Literal(_) | Expr::Parameter(_) | Expr::List(_) | Expr::Map(_) => {
                let value = value_of(expr, self.parameters)?;
                Ok(self.placeholders.value(value))
            }
            Expr::Call(name, args) if name == "size" && args.len() == 1 => {
                Ok(format!("size({})", self.operand(&args[0])?))
            }
            Expr::Missing => Err(invalid("MISSING must be compared using IS operator")),
            Expr::Add(..) => Err(invalid("Unsupported operator in Condition Expression. Operator: +")),
            Expr::Subtract(..) => Err(invalid("Unsupported operator in Condition Expression. Operator: -")),
            _ => Err(invalid(NOT_BOOLEAN)),
        }
    }

    /// A condition as an operand of AND, OR or NOT: in parentheses when it is itself a chain.
    fn grouped(&mut self, expr: &Expr) -> Result<String, Error> {
        let text = self.condition(expr)?;
        let chain = matches!(
            expr,
            Expr::And(_)
                | Expr::Or(_)
                | Expr::Is {
                    kind: IsKind::Null,
                    negated: false,
                    ..
                }
        );
        Ok(if chain { format!("({text})") } else { text })
    }

    fn condition(&mut self, expr: &Expr) -> Result<String, Error> {
        match expr {
            Expr::And(terms) | Expr::Or(terms) => {
                let joiner = if matches!(expr, Expr::And(_)) { " AND " } else { " OR " };
                let parts = terms
                    .iter()
                    .map(|term| self.grouped(term))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(parts.join(joiner))
            }
            Expr::Not(inner) => Ok(format!("NOT {}", self.grouped(inner)?)),
            Expr::Compare(op, left, right) => Ok(format!(
                "{} {} {}",
                self.operand(left)?,
                op.symbol(),
                self.operand(right)?
            )),
            Expr::Between(subject, low, high) => Ok(format!(
                "{} BETWEEN {} AND {}",
                self.operand(subject)?,
                self.operand(low)?,
                self.operand(high)?
            )),
            Expr::In(subject, list) => {
                let subject = self.operand(subject)?;
                let list = list.iter().map(|e| self.operand(e)).collect::<Result<Vec<_>, _>>()?;
                Ok(format!("{subject} IN ({})", list.join(", ")))
            }
            Expr::Is { subject, negated, kind } => {
                let Expr::Path(path) = subject.as_ref() else {
                    return Err(invalid(
                        "The left hand side argument to IS must be a Variable Reference, Literal, or Path",
                    ));
                };
                let path = self.placeholders.path(path);
                let not = if *negated { "NOT " } else { "" };
                Ok(match kind {
                    IsKind::Missing if *negated => format!("attribute_exists({path})"),
                    IsKind::Missing => format!("attribute_not_exists({path})"),
                    // PartiQL: a missing attribute IS NULL too.
                    IsKind::Null => {
                        let null = self.placeholders.value(AttributeValue::S("NULL".to_string()));
                        let either = format!("attribute_not_exists({path}) OR attribute_type({path}, {null})");
                        if *negated { format!("NOT ({either})") } else { either }
                    }
                    IsKind::Type(type_name) => {
                        let type_name = self.placeholders.value(AttributeValue::S(type_name.to_string()));
                        format!("{not}attribute_type({path}, {type_name})")
                    }
                })
            }
            Expr::Call(name, args) => match name.as_str() {
                "begins_with" | "contains" | "attribute_type" => {
                    let args = args.iter().map(|e| self.operand(e)).collect::<Result<Vec<_>, _>>()?;
                    Ok(format!("{name}({})", args.join(", ")))
                }
                "exists" => Err(invalid(EXISTS_OUTSIDE_TRANSACTION)),
                "size" => Err(invalid(NOT_BOOLEAN)),
                other => Err(invalid(format!("Unrecognized function: {other}"))),
            },
            _ => Err(invalid(NOT_BOOLEAN)),
        }
    }
}

/// AWS words errors in generated expressions without the expression's parameter name.
fn expression_error(error: expr::ExprError) -> Error {
    let message = error.0;
    for prefix in [
        "Invalid FilterExpression: ",
        "Invalid ConditionExpression: ",
        "Invalid UpdateExpression: ",
        "Invalid KeyConditionExpression: ",
    ] {
        if let Some(rest) = message.strip_prefix(prefix) {
            return invalid(rest);
        }
    }
    invalid(message)
}

fn engine_error(error: Error) -> Error {
    match error {
        Error::Validation(message) => expression_error(expr::ExprError(message)),
        other => other,
    }
}

/// The WHERE conditions `terms` (joined by AND) as a condition expression, appended to
/// `placeholders`.
fn conditions_text(
    placeholders: Placeholders,
    terms: &[&Expr],
    parameters: &[AttributeValue],
) -> Result<(String, Placeholders), Error> {
    let mut writer = ConditionWriter {
        placeholders,
        parameters,
    };
    let text = match terms {
        [only] => writer.condition(only)?,
        _ => terms
            .iter()
            .map(|term| writer.grouped(term))
            .collect::<Result<Vec<_>, _>>()?
            .join(" AND "),
    };
    Ok((text, writer.placeholders))
}

/// The WHERE of a SELECT, parsed into a condition the engine evaluates on items.
fn filter_condition(filter: &Expr, parameters: &[AttributeValue]) -> Result<Condition, Error> {
    let (text, placeholders) = conditions_text(Placeholders::default(), &[filter], parameters)?;
    let expressions = placeholders.expressions();
    let mut context = ExpressionContext::new(expressions.names.as_ref(), expressions.values.as_ref());
    expr::parse_condition(ConditionKind::Filter, &text, &mut context).map_err(expression_error)
}

// ----- projection and paging -----

/// The name a selected path has in the result: its last attribute name and any list indexes
/// after it (`SELECT m.k[1]` gives `k[1]`).
fn output_name(path: &Path) -> String {
    let last_attribute = path
        .0
        .iter()
        .rposition(|element| matches!(element, PathElement::Attribute(_)))
        .unwrap_or(0);
    let mut name = String::new();
    for element in &path.0[last_attribute..] {
        match element {
            PathElement::Attribute(attribute) => name.push_str(attribute),
            PathElement::Index(index) => name.push_str(&format!("[{index}]")),
        }
    }
    name
}

fn check_projection(projection: &Projection) -> Result<(), Error> {
    if let Projection::Paths(paths) = projection {
        let names: Vec<String> = paths.iter().map(output_name).collect();
        for (index, name) in names.iter().enumerate() {
            if names[..index].contains(name) {
                return Err(invalid(format!("Duplicate identifiers in select clause: {name}")));
            }
        }
    }
    Ok(())
}

fn project(item: Item, projection: &Projection) -> Item {
    match projection {
        Projection::All => item,
        Projection::Paths(paths) => paths
            .iter()
            .filter_map(|path| path.get(&item).map(|value| (output_name(path), value.clone())))
            .collect(),
    }
}

const TOKEN_VERSION: &[u8] = b"PQ1";

/// FNV-1a, so a NextToken is only taken back by the statement that made it.
fn fingerprint(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x100_0000_01b3)
    })
}

fn encode_token(statement: &str, key: &Item) -> String {
    let mut bytes = TOKEN_VERSION.to_vec();
    bytes.extend_from_slice(&fingerprint(statement).to_be_bytes());
    bytes.extend_from_slice(&encode_item(key));
    BASE64.encode(bytes)
}

fn decode_token(statement: &str, token: &str) -> Result<Item, Error> {
    let bytes = BASE64.decode(token).map_err(|_| invalid("Invalid NextToken"))?;
    let header = TOKEN_VERSION.len() + 8;
    if bytes.len() < header || !bytes.starts_with(TOKEN_VERSION) {
        return Err(invalid("Invalid NextToken"));
    }
    if bytes[TOKEN_VERSION.len()..header] != fingerprint(statement).to_be_bytes() {
        return Err(invalid("The provided starting key is invalid"));
    }
    decode_item(&bytes[header..]).map_err(|_| invalid("Invalid NextToken"))
}

fn returning_values(returning: Option<Returning>) -> ReturnValues {
    match returning {
        None => ReturnValues::None,
        Some(Returning::AllOld) => ReturnValues::AllOld,
        Some(Returning::ModifiedOld) => ReturnValues::UpdatedOld,
        Some(Returning::AllNew) => ReturnValues::AllNew,
        Some(Returning::ModifiedNew) => ReturnValues::UpdatedNew,
    }
}

/// A flipped comparison, for `value < attribute`.
fn flipped(op: CompareOp) -> CompareOp {
    match op {
        CompareOp::Lt => CompareOp::Gt,
        CompareOp::Le => CompareOp::Ge,
        CompareOp::Gt => CompareOp::Lt,
        CompareOp::Ge => CompareOp::Le,
        other => other,
    }
}

fn is_value(expr: &Expr) -> bool {
    matches!(expr, Expr::Literal(_) | Expr::Parameter(_))
}

impl Engine {
    fn statement_key_schema(&self, table_name: &str) -> Result<KeySchema, Error> {
        match self.describe_table(table_name) {
            Ok(description) => Ok(description.definition.key_schema),
            Err(Error::ResourceNotFound(_)) => Err(Error::table_not_found()),
            Err(other) => Err(other),
        }
    }

    /// Runs one PartiQL statement (ExecuteStatement).
    pub async fn execute_statement(self: &Arc<Self>, input: StatementInput) -> Result<StatementOutput, Error> {
        let statement = prepare(&input.statement, &input.parameters)?;
        match statement {
            Statement::Select(ref select) => {
                check_projection(&select.projection)?;
                self.select(&input, select)
            }
            write => self
                .write_statement(write, &input.parameters, input.return_old_on_condition_failure)
                .await
                .map_err(|failure| failure.error),
        }
    }

    fn select(&self, input: &StatementInput, select: &partiql::Select) -> Result<StatementOutput, Error> {
        let schema = match &select.index {
            None => self.statement_key_schema(&select.table)?,
            Some(index) => {
                let definition = match self.describe_table(&select.table) {
                    Ok(description) => description.definition,
                    Err(Error::ResourceNotFound(_)) => return Err(Error::table_not_found()),
                    Err(other) => return Err(other),
                };
                match definition.index(index) {
                    Some(index) => index.key_schema.clone(),
                    None => {
                        return Err(invalid(format!("The table does not have the specified index: {index}")));
                    }
                }
            }
        };
        let parameters = &input.parameters;
        let filter = match &select.filter {
            Some(filter) => Some(filter_condition(filter, parameters)?),
            None => None,
        };
        let exclusive_start_key = match &input.next_token {
            Some(token) => Some(decode_token(&input.statement, token)?),
            None => None,
        };
        // The key condition: an equality on the partition key and the first condition on the
        // sort key, each against a literal or a parameter.
        let mut key_placeholders = Placeholders::default();
        let mut key_terms = Vec::new();
        let conjuncts = select.filter.as_ref().map(Expr::conjuncts).unwrap_or_default();
        let hash = conjuncts
            .iter()
            .find_map(|c| equality(c).filter(|(name, value)| *name == schema.hash.name && is_value(value)));
        if let Some((name, value)) = hash {
            let value = value_of(value, parameters)?;
            if value.value_type() != schema.hash.scalar_type.value_type() {
                return Err(key_type_mismatch(name));
            }
            let (name, value) = (key_placeholders.name(name), key_placeholders.value(value));
            key_terms.push(format!("{name} = {value}"));
            if let Some(range) = &schema.range {
                let on_range = |e: &Expr| top_level(e) == Some(range.name.as_str());
                let mut range_term = None;
                for condition in &conjuncts {
                    range_term = match condition {
                        Expr::Compare(op, left, right) if on_range(left) && is_value(right) => {
                            Some((*op, vec![right.as_ref()]))
                        }
                        Expr::Compare(op, left, right) if on_range(right) && is_value(left) => {
                            Some((flipped(*op), vec![left.as_ref()]))
                        }
                        Expr::Between(subject, low, high) if on_range(subject) && is_value(low) && is_value(high) => {
                            Some((CompareOp::Eq, vec![low.as_ref(), high.as_ref()]))
                        }
                        Expr::Call(function, args)
                            if function == "begins_with"
                                && args.len() == 2
                                && on_range(&args[0])
                                && is_value(&args[1]) =>
                        {
                            Some((CompareOp::Eq, vec![&args[1]]))
                        }
                        _ => None,
                    }
                    .filter(|(op, _)| *op != CompareOp::Ne)
                    .map(|term| (*condition, term));
                    if range_term.is_some() {
                        break;
                    }
                }
                if let Some((condition, (op, values))) = range_term {
                    let values = values
                        .into_iter()
                        .map(|v| value_of(v, parameters))
                        .collect::<Result<Vec<_>, _>>()?;
                    if values.iter().any(|v| v.value_type() != range.scalar_type.value_type()) {
                        return Err(key_type_mismatch(&range.name));
                    }
                    let name = key_placeholders.name(&range.name);
                    let values: Vec<String> = values.into_iter().map(|v| key_placeholders.value(v)).collect();
                    key_terms.push(match condition {
                        Expr::Between(..) => format!("{name} BETWEEN {} AND {}", values[0], values[1]),
                        Expr::Call(..) => format!("begins_with({name}, {})", values[0]),
                        _ => format!("{name} {} {}", op.symbol(), values[0]),
                    });
                }
            }
        }
        let mut scan_index_forward = true;
        if let Some(order) = &select.order_by {
            if select.filter.is_none() {
                return Err(invalid(
                    "Must have WHERE clause in the statement when using ORDER BY clause.",
                ));
            }
            if key_terms.is_empty() {
                return Err(invalid(
                    "Must have at least one non-optional hash key condition in WHERE clause when using ORDER BY clause.",
                ));
            }
            match top_level(&Expr::Path(order.path.clone())) {
                Some(name) if schema.is_key_attribute(name) => {
                    if schema.range.as_ref().is_some_and(|r| r.name == name) {
                        scan_index_forward = !order.descending;
                    }
                }
                _ => {
                    return Err(invalid(format!(
                        "Variable reference {} in ORDER BY clause must be part of the primary key",
                        order.path
                    )));
                }
            }
        }
        let page = if key_terms.is_empty() {
            self.scan(ScanInput {
                table_name: select.table.clone(),
                index_name: select.index.clone(),
                limit: input.limit,
                exclusive_start_key,
                consistent_read: input.consistent_read,
                ..ScanInput::default()
            })?
        } else {
            self.query(QueryInput {
                table_name: select.table.clone(),
                index_name: select.index.clone(),
                key_condition_expression: Some(key_terms.join(" AND ")),
                expressions: key_placeholders.expressions(),
                limit: input.limit,
                exclusive_start_key,
                scan_index_forward,
                consistent_read: input.consistent_read,
                ..QueryInput::default()
            })
            .map_err(engine_error)?
        };
        let items = page
            .items
            .unwrap_or_default()
            .into_iter()
            .filter(|item| filter.as_ref().is_none_or(|f| f.evaluate(item)))
            .map(|item| project(item, &select.projection))
            .collect();
        Ok(StatementOutput {
            table_name: select.table.clone(),
            items,
            next_token: page.last_evaluated_key.map(|key| encode_token(&input.statement, &key)),
            capacity_units: page.capacity_units,
        })
    }

    /// INSERT, UPDATE or DELETE.
    async fn write_statement(
        self: &Arc<Self>,
        statement: Statement,
        parameters: &[AttributeValue],
        return_old: bool,
    ) -> Result<StatementOutput, Failure> {
        if let Statement::Delete(delete) = &statement
            && let Some(returning) = delete.returning.filter(|r| *r != Returning::AllOld)
        {
            return Err(invalid(format!(
                "Invalid returning clause: RETURNING {}. Only RETURNING ALL OLD * is allowed in DELETE statements.",
                returning.text()
            ))
            .into());
        }
        let table_name = statement.table().to_string();
        let schema = self.statement_key_schema(&table_name)?;
        let known = |error: Error| Failure {
            table_name: Some(table_name.clone()),
            error,
        };
        match statement {
            Statement::Insert(insert) => {
                let AttributeValue::M(item) = value_of(&insert.value, parameters).map_err(known)? else {
                    return Err(known(invalid(
                        "Unsupported format in item expression. Please use struct format {...} to express item values for insert statement.",
                    )));
                };
                for value in item.values() {
                    check_nesting(value).map_err(known)?;
                }
                for attribute in schema.attributes() {
                    match item.get(&attribute.name) {
                        None => {
                            return Err(known(invalid(format!(
                                "Key attribute should be present in the item: Key {}",
                                attribute.name
                            ))));
                        }
                        Some(value) if value.value_type() != attribute.scalar_type.value_type() => {
                            return Err(known(key_type_mismatch(&attribute.name)));
                        }
                        Some(_) => {}
                    }
                }
                let mut placeholders = Placeholders::default();
                let condition = format!("attribute_not_exists({})", placeholders.name(&schema.hash.name));
                let output = self
                    .put_item(PutItemInput {
                        table_name: table_name.clone(),
                        item,
                        condition_expression: Some(condition),
                        expressions: placeholders.expressions(),
                        ..PutItemInput::default()
                    })
                    .await
                    .map_err(|error| match error {
                        Error::ConditionalCheckFailed { .. } => Error::DuplicateItem,
                        other => other,
                    })
                    .map_err(known)?;
                Ok(StatementOutput {
                    table_name,
                    items: Vec::new(),
                    next_token: None,
                    capacity_units: output.capacity_units,
                })
            }
            Statement::Update(update) => {
                let (key, rest) = full_key(&update.filter, &schema, parameters)
                    .map_err(known)?
                    .ok_or_else(|| known(invalid(INCOMPLETE_KEY)))?;
                let mut placeholders = Placeholders::default();
                let update_expression = update_text(&mut placeholders, &update.actions, parameters).map_err(known)?;
                let exists = format!("attribute_exists({})", placeholders.name(&schema.hash.name));
                let (condition, placeholders) = if rest.is_empty() {
                    (exists, placeholders)
                } else {
                    let (text, placeholders) = conditions_text(placeholders, &rest, parameters).map_err(known)?;
                    (format!("{exists} AND ({text})"), placeholders)
                };
                let output = self
                    .update_item(UpdateItemInput {
                        table_name: table_name.clone(),
                        key,
                        update_expression: Some(update_expression),
                        condition_expression: Some(condition),
                        expressions: placeholders.expressions(),
                        return_values: returning_values(update.returning),
                        return_old_on_condition_failure: return_old,
                    })
                    .await
                    .map_err(engine_error)
                    .map_err(known)?;
                Ok(StatementOutput {
                    table_name,
                    items: output.attributes.into_iter().collect(),
                    next_token: None,
                    capacity_units: output.capacity_units,
                })
            }
            Statement::Delete(delete) => {
                let (key, rest) = full_key(&delete.filter, &schema, parameters)
                    .map_err(known)?
                    .ok_or_else(|| known(invalid(INCOMPLETE_KEY)))?;
                // Other conditions must hold of an item that exists; deleting nothing succeeds.
                let (condition, placeholders) = if rest.is_empty() {
                    (None, Placeholders::default())
                } else {
                    let mut placeholders = Placeholders::default();
                    let missing = format!("attribute_not_exists({})", placeholders.name(&schema.hash.name));
                    let (text, placeholders) = conditions_text(placeholders, &rest, parameters).map_err(known)?;
                    (Some(format!("{missing} OR ({text})")), placeholders)
                };
                let output = self
                    .delete_item(DeleteItemInput {
                        table_name: table_name.clone(),
                        key,
                        condition_expression: condition,
                        expressions: placeholders.expressions(),
                        return_values: returning_values(delete.returning),
                        return_old_on_condition_failure: return_old,
                    })
                    .await
                    .map_err(engine_error)
                    .map_err(known)?;
                Ok(StatementOutput {
                    table_name,
                    items: output.attributes.into_iter().collect(),
                    next_token: None,
                    capacity_units: output.capacity_units,
                })
            }
            Statement::Select(_) => Err(known(invalid(BATCH_MIXED))),
            Statement::Exists(_) => Err(known(invalid(EXISTS_OUTSIDE_TRANSACTION))),
        }
    }

    /// Runs a BatchExecuteStatement: every statement on its own (not a transaction), each with
    /// its own result. Reads must name a whole primary key.
    pub async fn batch_execute_statement(
        self: &Arc<Self>,
        statements: Vec<BatchStatementInput>,
    ) -> Result<Vec<BatchStatementOutput>, Error> {
        let prepared: Vec<Result<Statement, Error>> = statements
            .iter()
            .map(|s| prepare(&s.statement, &s.parameters))
            .collect();
        let mut kinds = prepared.iter().flatten().map(Statement::is_read);
        if let Some(first) = kinds.next()
            && kinds.any(|read| read != first)
        {
            return Err(invalid(BATCH_MIXED));
        }
        let mut outputs = Vec::with_capacity(statements.len());
        for (input, statement) in statements.iter().zip(prepared) {
            let outcome = match statement {
                Err(error) => Err(Failure::from(error)),
                Ok(Statement::Select(select)) => self.batch_select(input, &select),
                Ok(write) => self
                    .write_statement(write, &input.parameters, input.return_old_on_condition_failure)
                    .await
                    .map(|output| (None, output.table_name, output.capacity_units)),
            };
            outputs.push(match outcome {
                Ok((item, table_name, capacity_units)) => BatchStatementOutput {
                    table_name: Some(table_name),
                    result: Ok(item),
                    capacity_units,
                },
                Err(failure) => BatchStatementOutput {
                    table_name: failure.table_name,
                    result: Err(failure.error),
                    capacity_units: 0.0,
                },
            });
        }
        Ok(outputs)
    }

    /// A SELECT of a batch: one GetItem.
    fn batch_select(
        &self,
        input: &BatchStatementInput,
        select: &partiql::Select,
    ) -> Result<(Option<Item>, String, f64), Failure> {
        let table_name = select.table.clone();
        let schema = self.statement_key_schema(&table_name)?;
        let known = |error: Error| Failure {
            table_name: Some(table_name.clone()),
            error,
        };
        check_projection(&select.projection).map_err(known)?;
        let parameters = &input.parameters;
        let keyed = match (&select.filter, &select.index) {
            (Some(filter), None) => full_key(filter, &schema, parameters).map_err(known)?,
            _ => None,
        };
        let Some((key, rest)) = keyed else {
            return Err(known(invalid(BATCH_SELECT_KEY)));
        };
        let condition = if rest.is_empty() {
            None
        } else {
            let rest: Vec<Expr> = rest.into_iter().cloned().collect();
            Some(filter_condition(&Expr::And(rest), parameters).map_err(known)?)
        };
        let output = self
            .get_item(GetItemInput {
                table_name: table_name.clone(),
                key,
                consistent_read: input.consistent_read,
                ..GetItemInput::default()
            })
            .map_err(known)?;
        let item = output
            .item
            .filter(|item| condition.as_ref().is_none_or(|c| c.evaluate(item)))
            .map(|item| project(item, &select.projection));
        Ok((item, table_name, output.capacity_units))
    }
}

impl Engine {
    /// Runs an ExecuteTransaction: all reads (one consistent snapshot of whole-key SELECTs) or
    /// all writes (INSERT, UPDATE, DELETE and EXISTS condition checks, all or nothing).
    /// `fingerprint` identifies the request for ClientRequestToken idempotency.
    pub async fn execute_transaction(
        self: &Arc<Self>,
        statements: Vec<TransactionStatementInput>,
        token: Option<String>,
        fingerprint: u64,
    ) -> Result<TransactionOutput, Error> {
        let at = |index: usize, error: Error| match error {
            Error::Validation(message) => {
                invalid(format!("Validation failed in TransactStatements[{index}]: {message}"))
            }
            other => other,
        };
        let mut parsed = Vec::with_capacity(statements.len());
        for (index, input) in statements.iter().enumerate() {
            parsed.push(parse_statement(&input.statement, &input.parameters).map_err(|e| at(index, e))?);
        }
        let reads = parsed.iter().filter(|s| s.is_read()).count();
        if reads > 0 && reads < parsed.len() {
            return Err(invalid(TRANSACTION_MIXED));
        }
        if reads > 0 {
            let mut gets = Vec::with_capacity(parsed.len());
            let mut shapes = Vec::with_capacity(parsed.len());
            for (index, (statement, input)) in parsed.iter().zip(&statements).enumerate() {
                let Statement::Select(select) = statement else {
                    return Err(invalid(TRANSACTION_MIXED));
                };
                if select.index.is_some() {
                    return Err(at(index, invalid(TRANSACTION_INDEX)));
                }
                check_projection(&select.projection).map_err(|e| at(index, e))?;
                let schema = self.statement_key_schema(&select.table)?;
                let keyed = match &select.filter {
                    Some(filter) => full_key(filter, &schema, &input.parameters).map_err(|e| at(index, e))?,
                    None => None,
                };
                let Some((key, rest)) = keyed else {
                    return Err(at(index, invalid(TRANSACTION_SELECT_KEY)));
                };
                let condition = if rest.is_empty() {
                    None
                } else {
                    let rest: Vec<Expr> = rest.into_iter().cloned().collect();
                    Some(filter_condition(&Expr::And(rest), &input.parameters).map_err(|e| at(index, e))?)
                };
                gets.push(TransactGetItem {
                    table_name: select.table.clone(),
                    key,
                    ..TransactGetItem::default()
                });
                shapes.push((condition, select.projection.clone()));
            }
            let (items, capacity) = self.transact_get_items(gets).await?;
            let items = items
                .into_iter()
                .zip(shapes)
                .map(|(item, (condition, projection))| {
                    item.filter(|item| condition.as_ref().is_none_or(|c| c.evaluate(item)))
                        .map(|item| project(item, &projection))
                })
                .collect();
            return Ok(TransactionOutput {
                items: Some(items),
                capacity,
            });
        }
        let mut writes = Vec::with_capacity(parsed.len());
        let mut inserts = Vec::new();
        for (index, (statement, input)) in parsed.into_iter().zip(&statements).enumerate() {
            let write = self.transaction_write(statement, input).map_err(|e| at(index, e))?;
            if write.0 {
                inserts.push(index);
            }
            writes.push(write.1);
        }
        let output = self
            .transact_write_items(writes, token, fingerprint)
            .await
            .map_err(|error| match error {
                // An INSERT's key condition failing is a duplicate item.
                Error::TransactionCanceled { mut reasons } => {
                    for index in &inserts {
                        if let Some(reason) = reasons.get_mut(*index)
                            && reason.code == "ConditionalCheckFailed"
                        {
                            reason.code = "DuplicateItem".to_string();
                            reason.message = Some(DUPLICATE_ITEM.to_string());
                            reason.item = None;
                        }
                    }
                    Error::TransactionCanceled { reasons }
                }
                other => other,
            })?;
        Ok(TransactionOutput {
            items: None,
            capacity: output.capacity,
        })
    }

    /// One write of a transaction; `true` when it is an INSERT.
    fn transaction_write(
        &self,
        statement: Statement,
        input: &TransactionStatementInput,
    ) -> Result<(bool, TransactWriteItem), Error> {
        let parameters = &input.parameters;
        let table_name = statement.table().to_string();
        let schema = self.statement_key_schema(&table_name)?;
        let returning = match &statement {
            Statement::Update(update) => update.returning,
            Statement::Delete(delete) => delete.returning,
            _ => None,
        };
        if returning.is_some() {
            return Err(invalid("RETURNING is not supported in ExecuteTransaction"));
        }
        let mut placeholders = Placeholders::default();
        let (insert, action, condition) = match statement {
            Statement::Insert(insert) => {
                let AttributeValue::M(item) = value_of(&insert.value, parameters)? else {
                    return Err(invalid(
                        "Unsupported format in item expression. Please use struct format {...} to express item values for insert statement.",
                    ));
                };
                for value in item.values() {
                    check_nesting(value)?;
                }
                for attribute in schema.attributes() {
                    match item.get(&attribute.name) {
                        None => {
                            return Err(invalid(format!(
                                "Key attribute should be present in the item: Key {}",
                                attribute.name
                            )));
                        }
                        Some(value) if value.value_type() != attribute.scalar_type.value_type() => {
                            return Err(key_type_mismatch(&attribute.name));
                        }
                        Some(_) => {}
                    }
                }
                let condition = format!("attribute_not_exists({})", placeholders.name(&schema.hash.name));
                (true, TransactAction::Put { item }, Some(condition))
            }
            Statement::Update(update) => {
                let (key, rest) =
                    full_key(&update.filter, &schema, parameters)?.ok_or_else(|| invalid(INCOMPLETE_KEY))?;
                let update_expression = update_text(&mut placeholders, &update.actions, parameters)?;
                let exists = format!("attribute_exists({})", placeholders.name(&schema.hash.name));
                let condition = if rest.is_empty() {
                    exists
                } else {
                    let (text, returned) = conditions_text(std::mem::take(&mut placeholders), &rest, parameters)?;
                    placeholders = returned;
                    format!("{exists} AND ({text})")
                };
                (
                    false,
                    TransactAction::Update { key, update_expression },
                    Some(condition),
                )
            }
            Statement::Delete(delete) => {
                let (key, rest) =
                    full_key(&delete.filter, &schema, parameters)?.ok_or_else(|| invalid(INCOMPLETE_KEY))?;
                let condition = if rest.is_empty() {
                    None
                } else {
                    let missing = format!("attribute_not_exists({})", placeholders.name(&schema.hash.name));
                    let (text, returned) = conditions_text(std::mem::take(&mut placeholders), &rest, parameters)?;
                    placeholders = returned;
                    Some(format!("{missing} OR ({text})"))
                };
                (false, TransactAction::Delete { key }, condition)
            }
            Statement::Exists(select) => {
                let keyed = match (&select.filter, &select.index) {
                    (Some(filter), None) => full_key(filter, &schema, parameters)?,
                    _ => None,
                };
                let Some((key, rest)) = keyed.filter(|(_, rest)| !rest.is_empty()) else {
                    return Err(invalid(
                        "EXISTS() must contain a single item read with additional condition",
                    ));
                };
                let exists = format!("attribute_exists({})", placeholders.name(&schema.hash.name));
                let (text, returned) = conditions_text(std::mem::take(&mut placeholders), &rest, parameters)?;
                placeholders = returned;
                (
                    false,
                    TransactAction::ConditionCheck { key },
                    Some(format!("{exists} AND ({text})")),
                )
            }
            Statement::Select(_) => return Err(invalid(TRANSACTION_MIXED)),
        };
        Ok((
            insert,
            TransactWriteItem {
                table_name,
                action,
                condition_expression: condition,
                expressions: placeholders.expressions(),
                return_old_on_condition_failure: input.return_old_on_condition_failure,
            },
        ))
    }
}

/// The SET/REMOVE (and set_add / set_delete) actions of an UPDATE as an UpdateExpression.
fn update_text(
    placeholders: &mut Placeholders,
    actions: &[UpdateAction],
    parameters: &[AttributeValue],
) -> Result<String, Error> {
    let (mut sets, mut removes, mut adds, mut deletes) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for action in actions {
        match action {
            UpdateAction::Remove(path) => removes.push(placeholders.path(path)),
            UpdateAction::Set(path, Expr::Call(function, args))
                if function == "set_add" || function == "set_delete" =>
            {
                let operation = if function == "set_add" { "ADD" } else { "DELETE" };
                if args.len() != 2 {
                    return Err(invalid(format!("SET_{operation} must have exactly two arguments")));
                }
                if !matches!(&args[0], Expr::Path(first) if first == path) {
                    return Err(invalid(format!(
                        "The first argument to SET_{operation} must equal the assignment value"
                    )));
                }
                let set = value_of(&args[1], parameters)?;
                if !matches!(
                    set,
                    AttributeValue::Ss(_) | AttributeValue::Ns(_) | AttributeValue::Bs(_)
                ) {
                    return Err(invalid(format!(
                        "The second argument to SET_{operation} must be a value with type SET"
                    )));
                }
                let clause = format!("{} {}", placeholders.path(path), placeholders.value(set));
                if operation == "ADD" {
                    adds.push(clause);
                } else {
                    deletes.push(clause);
                }
            }
            UpdateAction::Set(path, value) => {
                let target = placeholders.path(path);
                let value = set_value(placeholders, value, parameters, 0)?;
                sets.push(format!("{target} = {value}"));
            }
        }
    }
    let mut clauses = Vec::new();
    for (keyword, list) in [("SET", sets), ("REMOVE", removes), ("ADD", adds), ("DELETE", deletes)] {
        if !list.is_empty() {
            clauses.push(format!("{keyword} {}", list.join(", ")));
        }
    }
    Ok(clauses.join(" "))
}

/// A SET value: a literal or parameter, a path, `a + b`, `a - b`, `list_append(a, b)` or
/// `if_not_exists(path, value)`.
fn set_value(
    placeholders: &mut Placeholders,
    expr: &Expr,
    parameters: &[AttributeValue],
    depth: usize,
) -> Result<String, Error> {
    if depth > partiql::DEPTH_MAX {
        return Err(invalid("Nesting Levels have exceeded supported limits"));
    }
    let mut inner = |e: &Expr| set_value(placeholders, e, parameters, depth + 1);
    match expr {
        Expr::Path(_) | Expr::Literal(_) | Expr::Parameter(_) | Expr::List(_) | Expr::Map(_) => {
            if let Expr::Path(path) = expr {
                return Ok(placeholders.path(path));
            }
            let value = value_of(expr, parameters)?;
            check_nesting(&value)?;
            Ok(placeholders.value(value))
        }
        Expr::Add(a, b) => Ok(format!("{} + {}", inner(a)?, inner(b)?)),
        Expr::Subtract(a, b) => Ok(format!("{} - {}", inner(a)?, inner(b)?)),
        Expr::Call(function, args) if (function == "list_append" || function == "if_not_exists") && args.len() == 2 => {
            Ok(format!("{function}({}, {})", inner(&args[0])?, inner(&args[1])?))
        }
        Expr::Call(function, _) if function == "list_append" || function == "if_not_exists" => Err(invalid(format!(
            "Incorrect number of operands for operator or function; operator or function: {function}"
        ))),
        Expr::Call(function, _) => Err(invalid(format!("Unrecognized function: {function}"))),
        Expr::Missing => Err(invalid("MISSING must be compared using IS operator")),
        _ => Err(invalid("Unsupported operator in Update Expression")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_names_are_the_last_attribute() {
        let path = |elements: Vec<PathElement>| Path(elements);
        let a = |n: &str| PathElement::Attribute(n.to_string());
        assert_eq!(output_name(&path(vec![a("m"), a("k"), PathElement::Index(1)])), "k[1]");
        assert_eq!(output_name(&path(vec![a("l"), PathElement::Index(0)])), "l[0]");
        assert_eq!(output_name(&path(vec![a("a")])), "a");
    }

    #[test]
    fn tokens_belong_to_their_statement() {
        let mut key = Item::new();
        key.insert("pk".into(), AttributeValue::S("a".into()));
        let token = encode_token("SELECT * FROM t", &key);
        assert_eq!(decode_token("SELECT * FROM t", &token), Ok(key));
        assert_eq!(
            decode_token("SELECT * FROM u", &token),
            Err(invalid("The provided starting key is invalid"))
        );
        assert_eq!(decode_token("SELECT * FROM t", "!!"), Err(invalid("Invalid NextToken")));
        assert_eq!(
            decode_token("SELECT * FROM t", "UFEx"),
            Err(invalid("Invalid NextToken"))
        );
    }

    #[test]
    fn where_clauses_become_conditions() {
        let (statement, _) = partiql::parse(
            "SELECT * FROM t WHERE (a = 1 OR NOT b <> 'x') AND c BETWEEN 1 AND ? AND d IN [1, 2] AND e IS NOT MISSING AND begins_with(f.g, 'p') AND size(h) > 2",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let Statement::Select(select) = statement else {
            panic!("not a select")
        };
        let filter = select.filter.unwrap_or(Expr::Missing);
        let (text, placeholders) = conditions_text(Placeholders::default(), &[&filter], &[AttributeValue::Bool(true)])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            text,
            "(#n0 = :v0 OR NOT #n1 <> :v1) AND #n2 BETWEEN :v2 AND :v3 AND #n3 IN (:v4, :v5) AND attribute_exists(#n4) AND begins_with(#n5.#n6, :v6) AND size(#n7) > :v7"
        );
        assert_eq!(placeholders.values.get(":v3"), Some(&AttributeValue::Bool(true)));
    }
}
