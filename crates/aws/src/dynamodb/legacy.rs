//! The legacy (pre-expression) parameters older SDKs and ORMs still send — AttributesToGet,
//! KeyConditions, QueryFilter, ScanFilter, Expected, AttributeUpdates, ConditionalOperator —
//! checked with AWS's messages and translated into the engine's expressions.
//!
//! The translation writes every attribute name and value as a generated placeholder
//! (`#legacy0`, `:legacy0`, ...) whose prefix appears nowhere in the request's own expressions
//! or placeholder maps, so a generated placeholder never collides with one the caller wrote.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};
use stratus_dynamodb::engine::Expressions;
use stratus_dynamodb::key::KeySchema;
use stratus_dynamodb::value::{AttributeValue, ValueType};

use super::ApiError;
use super::validate::Constraints;
use super::wire::WireValue;

/// A JSON object whose members keep the order they were sent in: AWS reports the first invalid
/// member in that order. Members whose value is `null` are dropped, as AWS drops them.
pub struct Ordered<T>(pub Vec<(String, T)>);

impl<T> Default for Ordered<T> {
    fn default() -> Self {
        Ordered(Vec::new())
    }
}

impl<T> Ordered<T> {
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Ordered<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OrderedVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for OrderedVisitor<T> {
            type Value = Ordered<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Ordered<T>, A::Error> {
                let mut members = Vec::new();
                while let Some(key) = access.next_key::<String>()? {
                    if let Some(value) = access.next_value::<Option<T>>()? {
                        members.push((key, value));
                    }
                }
                Ok(Ordered(members))
            }
        }
        deserializer.deserialize_map(OrderedVisitor(PhantomData))
    }
}

/// A `Condition` of KeyConditions, QueryFilter or ScanFilter.
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct ConditionIn {
    pub comparison_operator: Option<String>,
    pub attribute_value_list: Option<Vec<WireValue>>,
}

/// An `ExpectedAttributeValue` of Expected.
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct ExpectedIn {
    pub value: Option<WireValue>,
    pub exists: Option<bool>,
    pub comparison_operator: Option<String>,
    pub attribute_value_list: Option<Vec<WireValue>>,
}

/// An `AttributeValueUpdate` of AttributeUpdates.
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct AttributeUpdateIn {
    pub action: Option<String>,
    pub value: Option<WireValue>,
}

/// ComparisonOperator's values in the order AWS lists them in its enum message.
const COMPARISON_OPERATORS: &[&str] = &[
    "IN",
    "NULL",
    "BETWEEN",
    "LT",
    "NOT_CONTAINS",
    "EQ",
    "GT",
    "NOT_NULL",
    "NE",
    "LE",
    "BEGINS_WITH",
    "GE",
    "CONTAINS",
];
const CONDITIONAL_OPERATORS: &[&str] = &["OR", "AND"];
const ATTRIBUTE_ACTIONS: &[&str] = &["ADD", "PUT", "DELETE"];

/// Most values one generated `IN (...)` lists; longer lists become several joined by OR.
const IN_OPERANDS_MAX: usize = 100;

/// A ComparisonOperator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comparison {
    Eq,
    Ne,
    Le,
    Lt,
    Ge,
    Gt,
    NotNull,
    Null,
    Contains,
    NotContains,
    BeginsWith,
    In,
    Between,
}

impl Comparison {
    fn from_name(name: &str) -> Option<Comparison> {
        Some(match name {
            "EQ" => Comparison::Eq,
            "NE" => Comparison::Ne,
            "LE" => Comparison::Le,
            "LT" => Comparison::Lt,
            "GE" => Comparison::Ge,
            "GT" => Comparison::Gt,
            "NOT_NULL" => Comparison::NotNull,
            "NULL" => Comparison::Null,
            "CONTAINS" => Comparison::Contains,
            "NOT_CONTAINS" => Comparison::NotContains,
            "BEGINS_WITH" => Comparison::BeginsWith,
            "IN" => Comparison::In,
            "BETWEEN" => Comparison::Between,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Comparison::Eq => "EQ",
            Comparison::Ne => "NE",
            Comparison::Le => "LE",
            Comparison::Lt => "LT",
            Comparison::Ge => "GE",
            Comparison::Gt => "GT",
            Comparison::NotNull => "NOT_NULL",
            Comparison::Null => "NULL",
            Comparison::Contains => "CONTAINS",
            Comparison::NotContains => "NOT_CONTAINS",
            Comparison::BeginsWith => "BEGINS_WITH",
            Comparison::In => "IN",
            Comparison::Between => "BETWEEN",
        }
    }

    fn takes(self, count: usize) -> bool {
        match self {
            Comparison::Null | Comparison::NotNull => count == 0,
            Comparison::In => count >= 1,
            Comparison::Between => count == 2,
            _ => count == 1,
        }
    }

    /// The value types the operator's AttributeValueList may hold.
    fn allowed(self) -> &'static [ValueType] {
        use ValueType::*;
        match self {
            Comparison::Eq | Comparison::Ne => &[S, N, B, Ss, Ns, Bs],
            Comparison::BeginsWith => &[S, B],
            Comparison::Null | Comparison::NotNull => &[],
            _ => &[S, N, B],
        }
    }

    /// Operators a Query's KeyConditions cannot use on any key.
    fn indexable(self) -> bool {
        !matches!(
            self,
            Comparison::Null
                | Comparison::NotNull
                | Comparison::Ne
                | Comparison::Contains
                | Comparison::NotContains
                | Comparison::In
        )
    }
}

/// One checked legacy condition: an attribute, an operator and its values.
#[derive(Clone, Debug, PartialEq)]
pub struct Term {
    pub attribute: String,
    pub comparison: Comparison,
    pub values: Vec<AttributeValue>,
}

fn invalid(message: impl fmt::Display) -> ApiError {
    ApiError::validation(format!("One or more parameter values were invalid: {message}"))
}

fn values_of(list: Vec<WireValue>) -> Result<Vec<AttributeValue>, ApiError> {
    list.into_iter()
        .map(|value| value.0.map_err(ApiError::validation))
        .collect()
}

/// Orders two scalars of the same type (S, N or B).
fn compare(a: &AttributeValue, b: &AttributeValue) -> Option<Ordering> {
    match (a, b) {
        (AttributeValue::S(x), AttributeValue::S(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (AttributeValue::N(x), AttributeValue::N(y)) => Some(x.cmp(y)),
        (AttributeValue::B(x), AttributeValue::B(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// The checks on an operator's values shared by Condition and ExpectedAttributeValue.
fn check_values(comparison: Comparison, values: &[AttributeValue], check_types: bool) -> Result<(), ApiError> {
    if !comparison.takes(values.len()) {
        return Err(invalid(format_args!(
            "Invalid number of argument(s) for the {} ComparisonOperator",
            comparison.name()
        )));
    }
    if let Some(first) = values.first()
        && values.iter().any(|v| v.value_type() != first.value_type())
    {
        return Err(invalid(
            "AttributeValues inside AttributeValueList must be of same type",
        ));
    }
    if check_types && let Some(bad) = values.iter().find(|v| !comparison.allowed().contains(&v.value_type())) {
        return Err(invalid(format_args!(
            "ComparisonOperator {} is not valid for {} AttributeValue type",
            comparison.name(),
            bad.value_type().name()
        )));
    }
    if comparison == Comparison::Between && compare(&values[0], &values[1]) == Some(Ordering::Greater) {
        return Err(ApiError::validation(
            "The BETWEEN condition was provided a range where the lower bound is greater than the upper bound",
        ));
    }
    Ok(())
}

// ----- member constraints -----

/// `Value 'X' at 'queryFilter.a.member.comparisonOperator' failed to satisfy constraint: ...`
pub fn condition_constraints(c: &mut Constraints, member: &str, conditions: Option<&Ordered<ConditionIn>>) {
    for (name, condition) in conditions.map(|c| c.0.as_slice()).unwrap_or_default() {
        let path = format!("{member}.{name}.member.comparisonOperator");
        c.not_null(&path, &condition.comparison_operator);
        c.enumeration(&path, condition.comparison_operator.as_deref(), COMPARISON_OPERATORS);
    }
}

pub fn expected_constraints(c: &mut Constraints, expected: Option<&Ordered<ExpectedIn>>) {
    for (name, condition) in expected.map(|c| c.0.as_slice()).unwrap_or_default() {
        c.enumeration(
            &format!("expected.{name}.member.comparisonOperator"),
            condition.comparison_operator.as_deref(),
            COMPARISON_OPERATORS,
        );
    }
}

pub fn attribute_updates_constraints(c: &mut Constraints, updates: Option<&Ordered<AttributeUpdateIn>>) {
    for (name, update) in updates.map(|u| u.0.as_slice()).unwrap_or_default() {
        c.enumeration(
            &format!("attributeUpdates.{name}.member.action"),
            update.action.as_deref(),
            ATTRIBUTE_ACTIONS,
        );
    }
}

pub fn conditional_operator_constraints(c: &mut Constraints, operator: Option<&str>) {
    c.enumeration("conditionalOperator", operator, CONDITIONAL_OPERATORS);
}

pub fn attributes_to_get_constraints(c: &mut Constraints, member: &str, names: Option<&Vec<String>>) {
    if let Some(names) = names {
        let rendered = format!("[{}]", names.join(", "));
        c.list_length(member, &rendered, names.len(), 1, 255);
    }
}

// ----- request-level checks -----

/// AWS's refusal of legacy and expression parameters in one request; `legacy` and
/// `expression` name each parameter and whether the request has it.
pub fn check_mixing(legacy: &[(&str, bool)], expression: &[(&str, bool)]) -> Result<(), ApiError> {
    let present = |list: &[(&str, bool)]| -> Vec<String> {
        list.iter()
            .filter(|(_, present)| *present)
            .map(|(name, _)| name.to_string())
            .collect()
    };
    let (legacy, expression) = (present(legacy), present(expression));
    if legacy.is_empty() || expression.is_empty() {
        return Ok(());
    }
    Err(ApiError::validation(format!(
        "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {{{}}} Expression parameters: {{{}}}",
        legacy.join(", "),
        expression.join(", ")
    )))
}

/// ConditionalOperator needs a condition map (Expected, QueryFilter or ScanFilter) with at
/// least two members; `sizes` holds the sizes of the maps the request has.
pub fn check_conditional_operator(operator: Option<&str>, sizes: &[Option<usize>]) -> Result<(), ApiError> {
    if operator.is_none() {
        return Ok(());
    }
    if sizes.iter().all(Option::is_none) {
        return Err(ApiError::validation(
            "ConditionalOperator cannot be used without Filter or Expected",
        ));
    }
    if sizes.iter().flatten().any(|size| *size <= 1) {
        return Err(ApiError::validation(
            "ConditionalOperator can only be used when Filter or Expected has two or more elements",
        ));
    }
    Ok(())
}

/// "Duplicate value in attribute name" for a repeated AttributesToGet entry.
pub fn check_attributes_to_get(names: &[String]) -> Result<(), ApiError> {
    for (index, name) in names.iter().enumerate() {
        if names[..index].contains(name) {
            return Err(invalid(format_args!("Duplicate value in attribute name: {name}")));
        }
    }
    Ok(())
}

/// Select values that cannot go with AttributesToGet, and how AWS names them.
pub fn check_select(select: Option<&str>, has_attributes_to_get: bool, prefix: &str) -> Result<(), ApiError> {
    if !has_attributes_to_get {
        return Ok(());
    }
    let described = match select {
        Some("ALL_ATTRIBUTES") => "ALL_ATTRIBUTES",
        Some("COUNT") => "only the Count",
        _ => return Ok(()),
    };
    Err(ApiError::validation(format!(
        "{prefix}Cannot specify the AttributesToGet when choosing to get {described}"
    )))
}

/// A Condition map (KeyConditions, QueryFilter, ScanFilter) checked into terms.
pub fn conditions(map: Ordered<ConditionIn>) -> Result<Vec<Term>, ApiError> {
    let mut terms = Vec::with_capacity(map.len());
    for (attribute, condition) in map.0 {
        let values = values_of(condition.attribute_value_list.unwrap_or_default())?;
        let Some(comparison) = condition.comparison_operator.as_deref().and_then(Comparison::from_name) else {
            // The member constraints already refused a missing or unknown operator.
            continue;
        };
        check_values(comparison, &values, true)?;
        terms.push(Term {
            attribute,
            comparison,
            values,
        });
    }
    Ok(terms)
}

/// Expected checked into terms.
pub fn expected(map: Ordered<ExpectedIn>) -> Result<Vec<Term>, ApiError> {
    let mut terms = Vec::with_capacity(map.len());
    for (attribute, condition) in map.0 {
        if condition.attribute_value_list.is_some() && condition.value.is_some() {
            return Err(invalid(format_args!(
                "Value and AttributeValueList cannot be used together for Attribute: {attribute}"
            )));
        }
        if let Some(name) = condition.comparison_operator.as_deref() {
            if condition.exists.is_some() {
                return Err(invalid(format_args!(
                    "Exists and ComparisonOperator cannot be used together for Attribute: {attribute}"
                )));
            }
            let Some(comparison) = Comparison::from_name(name) else {
                continue;
            };
            let values = match (condition.attribute_value_list, condition.value) {
                (Some(list), _) => values_of(list)?,
                (None, Some(value)) => vec![value.0.map_err(ApiError::validation)?],
                (None, None) => {
                    if !matches!(comparison, Comparison::Null | Comparison::NotNull) {
                        return Err(invalid(format_args!(
                            "Value or AttributeValueList must be used with ComparisonOperator: {name} for Attribute: {attribute}"
                        )));
                    }
                    Vec::new()
                }
            };
            check_values(comparison, &values, true)?;
            terms.push(Term {
                attribute,
                comparison,
                values,
            });
            continue;
        }
        if condition.attribute_value_list.is_some() {
            return Err(invalid(format_args!(
                "AttributeValueList can only be used with a ComparisonOperator for Attribute: {attribute}"
            )));
        }
        let exists = condition.exists.unwrap_or(true);
        match (exists, condition.value) {
            (true, None) => {
                let shown = if condition.exists.is_some() { "true" } else { "null" };
                return Err(invalid(format_args!(
                    "Value must be provided when Exists is {shown} for Attribute: {attribute}"
                )));
            }
            (false, Some(_)) => {
                return Err(invalid(format_args!(
                    "Value cannot be used when Exists is false for Attribute: {attribute}"
                )));
            }
            (true, Some(value)) => terms.push(Term {
                attribute,
                comparison: Comparison::Eq,
                values: vec![value.0.map_err(ApiError::validation)?],
            }),
            (false, None) => terms.push(Term {
                attribute,
                comparison: Comparison::Null,
                values: Vec::new(),
            }),
        }
    }
    Ok(terms)
}

/// KeyConditions name one or two attributes (checked before the table is looked up).
pub fn check_key_condition_count(terms: &[Term]) -> Result<(), ApiError> {
    if terms.len() != 1 && terms.len() != 2 {
        return Err(ApiError::validation("Conditions can be of length 1 or 2 only"));
    }
    Ok(())
}

/// The checks a Query makes of its KeyConditions against the table's key schema, in AWS's
/// order (the hash key first).
pub fn check_key_conditions(terms: &[Term], schema: &KeySchema) -> Result<(), ApiError> {
    let find = |name: &str| terms.iter().find(|term| term.attribute == name);
    let hash_only = schema.range.is_none();
    for (index, attribute) in schema.attributes().enumerate() {
        let is_hash = index == 0;
        if is_hash && hash_only && terms.len() > 1 {
            return Err(ApiError::validation("Query key condition not supported"));
        }
        let Some(term) = find(&attribute.name) else {
            if is_hash || terms.len() > 1 {
                return Err(ApiError::validation(format!(
                    "Query condition missed key schema element: {}",
                    attribute.name
                )));
            }
            continue;
        };
        if !term.comparison.indexable() {
            return Err(ApiError::validation(
                "Attempted conditional constraint is not an indexable operation",
            ));
        }
        if term
            .values
            .iter()
            .any(|value| value.value_type() != attribute.scalar_type.value_type())
        {
            return Err(invalid("Condition parameter type does not match schema type"));
        }
        if is_hash && term.comparison != Comparison::Eq {
            return Err(ApiError::validation("Query key condition not supported"));
        }
    }
    Ok(())
}

/// QueryFilter may not name a key attribute.
pub fn check_query_filter_keys(filter: &[Term], schema: &KeySchema) -> Result<(), ApiError> {
    for attribute in schema.attributes() {
        if filter.iter().any(|term| term.attribute == attribute.name) {
            return Err(ApiError::validation(format!(
                "QueryFilter can only contain non-primary key attributes: Primary key attribute: {}",
                attribute.name
            )));
        }
    }
    Ok(())
}

// ----- translation -----

/// Generated placeholders for one request.
pub struct Placeholders {
    prefix: String,
    names: HashMap<String, String>,
    placeholder_of: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Placeholders {
    /// Placeholders whose prefix occurs in none of `taken` (the request's own expressions and
    /// placeholder keys).
    pub fn new(taken: &[&str]) -> Placeholders {
        let mut prefix = "legacy".to_string();
        let mut attempt = 0u32;
        while taken
            .iter()
            .any(|text| text.contains(&format!("#{prefix}")) || text.contains(&format!(":{prefix}")))
        {
            attempt += 1;
            prefix = format!("legacy{attempt}x");
        }
        Placeholders {
            prefix,
            names: HashMap::new(),
            placeholder_of: HashMap::new(),
            values: HashMap::new(),
        }
    }

    fn name(&mut self, attribute: &str) -> String {
        if let Some(existing) = self.placeholder_of.get(attribute) {
            return existing.clone();
        }
        let placeholder = format!("#{}{}", self.prefix, self.names.len());
        self.names.insert(placeholder.clone(), attribute.to_string());
        self.placeholder_of.insert(attribute.to_string(), placeholder.clone());
        placeholder
    }

    fn value(&mut self, value: &AttributeValue) -> String {
        let placeholder = format!(":{}{}", self.prefix, self.values.len());
        self.values.insert(placeholder.clone(), value.clone());
        placeholder
    }

    /// Adds the generated placeholders to the request's own.
    pub fn merge_into(self, expressions: &mut Expressions) {
        if !self.names.is_empty() {
            expressions.names.get_or_insert_with(HashMap::new).extend(self.names);
        }
        if !self.values.is_empty() {
            expressions.values.get_or_insert_with(HashMap::new).extend(self.values);
        }
    }

    /// `#a, #b` for AttributesToGet.
    pub fn projection(&mut self, names: &[String]) -> String {
        names.iter().map(|name| self.name(name)).collect::<Vec<_>>().join(", ")
    }

    fn term(&mut self, term: &Term) -> String {
        let name = self.name(&term.attribute);
        let values: Vec<String> = term.values.iter().map(|value| self.value(value)).collect();
        let first = values.first().cloned().unwrap_or_default();
        match term.comparison {
            Comparison::Eq => format!("{name} = {first}"),
            Comparison::Ne => format!("{name} <> {first}"),
            Comparison::Le => format!("{name} <= {first}"),
            Comparison::Lt => format!("{name} < {first}"),
            Comparison::Ge => format!("{name} >= {first}"),
            Comparison::Gt => format!("{name} > {first}"),
            Comparison::NotNull => format!("attribute_exists({name})"),
            Comparison::Null => format!("attribute_not_exists({name})"),
            Comparison::Contains => format!("contains({name}, {first})"),
            Comparison::NotContains => format!("NOT contains({name}, {first})"),
            Comparison::BeginsWith => format!("begins_with({name}, {first})"),
            Comparison::Between => {
                let second = values.get(1).cloned().unwrap_or_default();
                format!("{name} BETWEEN {first} AND {second}")
            }
            Comparison::In => {
                let groups: Vec<String> = values
                    .chunks(IN_OPERANDS_MAX)
                    .map(|chunk| format!("{name} IN ({})", chunk.join(", ")))
                    .collect();
                if groups.len() == 1 {
                    groups.concat()
                } else {
                    format!("({})", groups.join(" OR "))
                }
            }
        }
    }

    /// The terms joined by ConditionalOperator (AND unless it says OR); `None` for no terms.
    pub fn condition(&mut self, terms: &[Term], operator: Option<&str>) -> Option<String> {
        if terms.is_empty() {
            return None;
        }
        let joiner = if operator == Some("OR") { " OR " } else { " AND " };
        Some(
            terms
                .iter()
                .map(|term| self.term(term))
                .collect::<Vec<_>>()
                .join(joiner),
        )
    }

    /// AttributeUpdates checked and written as an UpdateExpression (`None` when empty).
    pub fn attribute_updates(&mut self, updates: Ordered<AttributeUpdateIn>) -> Result<Option<String>, ApiError> {
        let (mut sets, mut removes, mut adds, mut deletes) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (attribute, update) in updates.0 {
            let value = match update.value {
                Some(value) => Some(value.0.map_err(ApiError::validation)?),
                None => None,
            };
            let action = update.action.as_deref().unwrap_or("PUT");
            let name = self.name(&attribute);
            match (action, value) {
                ("DELETE", None) => removes.push(name),
                (_, None) => {
                    return Err(invalid(
                        "Only DELETE action is allowed when no attribute value is specified",
                    ));
                }
                ("DELETE", Some(value)) => {
                    if !matches!(
                        value,
                        AttributeValue::Ss(_) | AttributeValue::Ns(_) | AttributeValue::Bs(_)
                    ) {
                        return Err(invalid(format_args!(
                            "DELETE action with value is not supported for the type {}",
                            value.value_type().name()
                        )));
                    }
                    let value = self.value(&value);
                    deletes.push(format!("{name} {value}"));
                }
                ("ADD", Some(value)) => match value {
                    AttributeValue::N(_) | AttributeValue::Ss(_) | AttributeValue::Ns(_) | AttributeValue::Bs(_) => {
                        let value = self.value(&value);
                        adds.push(format!("{name} {value}"));
                    }
                    AttributeValue::L(_) => {
                        // ADD of a list appends to it, starting from an empty list.
                        let empty = self.value(&AttributeValue::L(Vec::new()));
                        let value = self.value(&value);
                        sets.push(format!("{name} = list_append(if_not_exists({name}, {empty}), {value})"));
                    }
                    other => {
                        return Err(invalid(format_args!(
                            "ADD action is not supported for the type {}",
                            other.value_type().name()
                        )));
                    }
                },
                (_, Some(value)) => {
                    let value = self.value(&value);
                    sets.push(format!("{name} = {value}"));
                }
            }
        }
        let mut clauses = Vec::new();
        for (keyword, list) in [("SET", sets), ("REMOVE", removes), ("ADD", adds), ("DELETE", deletes)] {
            if !list.is_empty() {
                clauses.push(format!("{keyword} {}", list.join(", ")));
            }
        }
        Ok((!clauses.is_empty()).then(|| clauses.join(" ")))
    }
}

/// The engine's type error for an update, as legacy AttributeUpdates report it.
pub const UPDATE_TYPE_MISMATCH: &str = "Type mismatch for attribute to update";
/// The engine's message that [`UPDATE_TYPE_MISMATCH`] replaces.
pub const EXPRESSION_TYPE_MISMATCH: &str = "An operand in the update expression has an incorrect data type";

#[cfg(test)]
mod tests {
    use super::*;
    use stratus_dynamodb::number::Number;

    fn s(text: &str) -> AttributeValue {
        AttributeValue::S(text.to_string())
    }

    fn n(text: &str) -> AttributeValue {
        AttributeValue::N(Number::parse(text).unwrap_or_else(|_| Number::from_i64(0)))
    }

    fn term(attribute: &str, comparison: Comparison, values: Vec<AttributeValue>) -> Term {
        Term {
            attribute: attribute.to_string(),
            comparison,
            values,
        }
    }

    #[test]
    fn terms_become_expressions() {
        let mut p = Placeholders::new(&[]);
        let text = p.condition(
            &[
                term("a.b", Comparison::Eq, vec![s("x")]),
                term("c", Comparison::NotContains, vec![s("y")]),
                term("a.b", Comparison::Between, vec![n("1"), n("2")]),
                term("d", Comparison::Null, vec![]),
            ],
            Some("OR"),
        );
        assert_eq!(
            text.as_deref(),
            Some(
                "#legacy0 = :legacy0 OR NOT contains(#legacy1, :legacy1) OR #legacy0 BETWEEN :legacy2 AND :legacy3 OR attribute_not_exists(#legacy2)"
            )
        );
        let mut expressions = Expressions::default();
        p.merge_into(&mut expressions);
        let names = expressions.names.unwrap_or_default();
        assert_eq!(names.get("#legacy0").map(String::as_str), Some("a.b"));
        assert_eq!(expressions.values.map(|v| v.len()), Some(4));
    }

    #[test]
    fn long_in_lists_are_split() {
        let mut p = Placeholders::new(&[]);
        let values: Vec<AttributeValue> = (0..150).map(|i| n(&i.to_string())).collect();
        let text = p
            .condition(&[term("a", Comparison::In, values)], None)
            .unwrap_or_default();
        assert!(text.starts_with("(#legacy0 IN (:legacy0, "), "{text}");
        assert!(text.contains(") OR #legacy0 IN (:legacy100, "), "{text}");
    }

    #[test]
    fn prefix_avoids_the_callers_placeholders() {
        let p = Placeholders::new(&["#legacy0 = :v", ":legacy1x"]);
        assert_eq!(p.prefix, "legacy2x");
    }

    #[test]
    fn conditional_operator_rules() {
        assert!(check_conditional_operator(None, &[None]).is_ok());
        assert_eq!(
            check_conditional_operator(Some("OR"), &[None, None]).map_err(|e| e.message),
            Err(Some(
                "ConditionalOperator cannot be used without Filter or Expected".to_string()
            ))
        );
        assert!(check_conditional_operator(Some("OR"), &[Some(1)]).is_err());
        assert!(check_conditional_operator(Some("OR"), &[Some(2)]).is_ok());
    }

    #[test]
    fn value_checks_match_aws() {
        let message = |r: Result<(), ApiError>| r.err().and_then(|e| e.message);
        assert_eq!(
            message(check_values(Comparison::Eq, &[], true)).as_deref(),
            Some(
                "One or more parameter values were invalid: Invalid number of argument(s) for the EQ ComparisonOperator"
            )
        );
        assert_eq!(
            message(check_values(
                Comparison::Lt,
                &[AttributeValue::Ss(vec!["a".into()])],
                true
            ))
            .as_deref(),
            Some(
                "One or more parameter values were invalid: ComparisonOperator LT is not valid for SS AttributeValue type"
            )
        );
        assert_eq!(
            message(check_values(Comparison::In, &[s("a"), n("1")], true)).as_deref(),
            Some(
                "One or more parameter values were invalid: AttributeValues inside AttributeValueList must be of same type"
            )
        );
        assert_eq!(
            message(check_values(Comparison::Between, &[n("5"), n("3")], true)).as_deref(),
            Some("The BETWEEN condition was provided a range where the lower bound is greater than the upper bound")
        );
        assert!(check_values(Comparison::In, &[s("a"), s("b"), s("c")], true).is_ok());
    }
}
