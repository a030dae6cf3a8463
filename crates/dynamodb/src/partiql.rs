//! PartiQL for DynamoDB: the statement language of ExecuteStatement and BatchExecuteStatement,
//! parsed into a typed [`Statement`]. Pure: text in, statement out, with AWS's messages.
//!
//! Supported: `SELECT` (projection list or `*`, `FROM "table"` or `"table"."index"`, `WHERE`,
//! `ORDER BY`), `INSERT INTO t VALUE {...}`, `UPDATE t SET ... REMOVE ... WHERE ...
//! [RETURNING ...]` and `DELETE FROM t WHERE ... [RETURNING ALL OLD *]`; `?` parameters; string,
//! number, boolean and null literals; `{'k': v}` maps, `[...]` lists and `<<...>>` sets.
//! Recursion is bounded by [`DEPTH_MAX`], so no input can exhaust the stack, and no input panics.

use std::fmt;

use crate::expr::{Path, PathElement};
use crate::number::Number;
use crate::value::{AttributeValue, Item};

/// Deepest nesting of expressions and values the parser follows.
pub const DEPTH_MAX: usize = 64;

/// The envelope of AWS's syntax errors.
const NOT_WELL_FORMED: &str = "Statement wasn't well formed, can't be processed: ";

/// A statement the parser refused, with AWS's complete ValidationException message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError(pub String);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ParseError {}

fn malformed(detail: &str) -> ParseError {
    ParseError(format!("{NOT_WELL_FORMED}{detail}"))
}

/// One parsed statement.
#[derive(Clone, Debug, PartialEq)]
pub enum Statement {
    Select(Select),
    Insert(Insert),
    Update(Update),
    Delete(Delete),
    /// `EXISTS(SELECT ...)`: a condition check, in ExecuteTransaction only.
    Exists(Select),
}

impl Statement {
    /// The table the statement names.
    pub fn table(&self) -> &str {
        match self {
            Statement::Select(select) | Statement::Exists(select) => &select.table,
            Statement::Insert(insert) => &insert.table,
            Statement::Update(update) => &update.table,
            Statement::Delete(delete) => &delete.table,
        }
    }

    pub fn is_read(&self) -> bool {
        matches!(self, Statement::Select(_))
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Select {
    pub projection: Projection,
    pub table: String,
    pub index: Option<String>,
    pub filter: Option<Expr>,
    pub order_by: Option<OrderBy>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Projection {
    All,
    Paths(Vec<Path>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct OrderBy {
    pub path: Path,
    pub descending: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Insert {
    pub table: String,
    pub value: Expr,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Update {
    pub table: String,
    pub actions: Vec<UpdateAction>,
    pub filter: Expr,
    pub returning: Option<Returning>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum UpdateAction {
    Set(Path, Expr),
    Remove(Path),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Delete {
    pub table: String,
    pub filter: Expr,
    pub returning: Option<Returning>,
}

/// `RETURNING (ALL | MODIFIED) (OLD | NEW) *`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Returning {
    AllOld,
    ModifiedOld,
    AllNew,
    ModifiedNew,
}

impl Returning {
    pub fn text(self) -> &'static str {
        match self {
            Returning::AllOld => "ALL OLD *",
            Returning::ModifiedOld => "MODIFIED OLD *",
            Returning::AllNew => "ALL NEW *",
            Returning::ModifiedNew => "MODIFIED NEW *",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CompareOp {
    /// The operator in DynamoDB's condition expression syntax.
    pub fn symbol(self) -> &'static str {
        match self {
            CompareOp::Eq => "=",
            CompareOp::Ne => "<>",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
        }
    }
}

/// What `IS [NOT]` tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IsKind {
    Missing,
    Null,
    /// A type test, by DynamoDB type name (`IS STRING` is `S`).
    Type(&'static str),
}

/// An expression: a WHERE condition, a SET value or an INSERT item.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Path(Path),
    Literal(AttributeValue),
    /// The n-th `?` of the statement, from 0.
    Parameter(usize),
    Missing,
    List(Vec<Expr>),
    Map(Vec<(String, Expr)>),
    Not(Box<Expr>),
    /// Two or more conditions, all of which must hold.
    And(Vec<Expr>),
    /// Two or more conditions, one of which must hold.
    Or(Vec<Expr>),
    Compare(CompareOp, Box<Expr>, Box<Expr>),
    Between(Box<Expr>, Box<Expr>, Box<Expr>),
    In(Box<Expr>, Vec<Expr>),
    Is {
        subject: Box<Expr>,
        negated: bool,
        kind: IsKind,
    },
    /// A function call; the name is lower case.
    Call(String, Vec<Expr>),
    Add(Box<Expr>, Box<Expr>),
    Subtract(Box<Expr>, Box<Expr>),
}

/// Why an expression has no value of its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ValueError {
    /// A `?` beyond the parameters given.
    MissingParameter,
    /// Not a literal, parameter, list or map (a path, a comparison, ...).
    NotAValue,
}

impl Expr {
    /// The value of a literal expression (literals, parameters, lists and maps of them).
    pub fn value(&self, parameters: &[AttributeValue]) -> Result<AttributeValue, ValueError> {
        self.value_at(parameters, 0)
    }

    fn value_at(&self, parameters: &[AttributeValue], depth: usize) -> Result<AttributeValue, ValueError> {
        if depth > DEPTH_MAX {
            return Err(ValueError::NotAValue);
        }
        match self {
            Expr::Literal(value) => Ok(value.clone()),
            Expr::Parameter(index) => parameters.get(*index).cloned().ok_or(ValueError::MissingParameter),
            Expr::List(elements) => elements
                .iter()
                .map(|e| e.value_at(parameters, depth + 1))
                .collect::<Result<Vec<_>, _>>()
                .map(AttributeValue::L),
            Expr::Map(members) => {
                let mut map = Item::new();
                for (name, value) in members {
                    map.insert(name.clone(), value.value_at(parameters, depth + 1)?);
                }
                Ok(AttributeValue::M(map))
            }
            _ => Err(ValueError::NotAValue),
        }
    }

    /// The conditions of a top-level AND (or the expression itself).
    pub fn conjuncts(&self) -> Vec<&Expr> {
        match self {
            Expr::And(terms) => terms.iter().collect(),
            other => vec![other],
        }
    }
}

/// Parses one statement; `Ok` also tells how many `?` parameters it has.
pub fn parse(text: &str) -> Result<(Statement, usize), ParseError> {
    let tokens = lex(text)?;
    let mut parser = Parser {
        tokens,
        pos: 0,
        depth: 0,
        parameters: 0,
    };
    let statement = parser.statement()?;
    if parser.peek() == &Tok::Punct(";") {
        parser.pos += 1;
    }
    if parser.peek() != &Tok::Eof {
        return Err(malformed("Unexpected token after expression"));
    }
    Ok((statement, parser.parameters))
}

// ----- lexer -----

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    /// An unquoted identifier or keyword, as written.
    Ident(String),
    /// A double-quoted identifier.
    Quoted(String),
    /// A single-quoted string.
    Str(String),
    Number(String),
    Param,
    Punct(&'static str),
    Eof,
}

const PUNCTUATION: &[&str] = &[
    "<<", ">>", "<>", "!=", "<=", ">=", "(", ")", "[", "]", "{", "}", ",", ".", ":", "*", ";", "=", "<", ">", "+", "-",
    "/", "%",
];

fn lex(text: &str) -> Result<Vec<Tok>, ParseError> {
    let lex_error = || malformed("");
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == '-' && chars.get(i + 1) == Some(&'-') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            continue;
        }
        if c == '/' && chars.get(i + 1) == Some(&'*') {
            i += 2;
            loop {
                if i + 1 >= chars.len() {
                    return Err(lex_error());
                }
                if chars[i] == '*' && chars[i + 1] == '/' {
                    i += 2;
                    break;
                }
                i += 1;
            }
            continue;
        }
        if c == '\'' || c == '"' {
            let mut value = String::new();
            i += 1;
            loop {
                let Some(&next) = chars.get(i) else {
                    return Err(lex_error());
                };
                if next == c {
                    if chars.get(i + 1) == Some(&c) {
                        value.push(c);
                        i += 2;
                        continue;
                    }
                    i += 1;
                    break;
                }
                value.push(next);
                i += 1;
            }
            tokens.push(if c == '\'' { Tok::Str(value) } else { Tok::Quoted(value) });
            continue;
        }
        if c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            if i < chars.len() && chars[i] == '.' {
                i += 1;
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
            }
            if i < chars.len() && (chars[i] == 'e' || chars[i] == 'E') {
                let mut j = i + 1;
                if j < chars.len() && (chars[j] == '+' || chars[j] == '-') {
                    j += 1;
                }
                if j < chars.len() && chars[j].is_ascii_digit() {
                    while j < chars.len() && chars[j].is_ascii_digit() {
                        j += 1;
                    }
                    i = j;
                }
            }
            tokens.push(Tok::Number(chars[start..i].iter().collect()));
            continue;
        }
        if c.is_alphabetic() || c == '_' || c == '$' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$') {
                i += 1;
            }
            tokens.push(Tok::Ident(chars[start..i].iter().collect()));
            continue;
        }
        if c == '?' {
            tokens.push(Tok::Param);
            i += 1;
            continue;
        }
        let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
        match PUNCTUATION.iter().find(|p| rest.starts_with(**p)) {
            Some(punct) => {
                tokens.push(Tok::Punct(punct));
                i += punct.chars().count();
            }
            None => return Err(lex_error()),
        }
    }
    tokens.push(Tok::Eof);
    Ok(tokens)
}

/// PartiQL's reserved words (SQL-92's and PartiQL's own). A reserved word is an attribute or
/// table name only in double quotes.
const KEYWORDS: &[&str] = &[
    "ABSOLUTE",
    "ACTION",
    "ADD",
    "ALL",
    "ALLOCATE",
    "ALTER",
    "AND",
    "ANY",
    "ARE",
    "AS",
    "ASC",
    "ASSERTION",
    "AT",
    "AUTHORIZATION",
    "AVG",
    "BAG",
    "BEGIN",
    "BETWEEN",
    "BIT",
    "BIT_LENGTH",
    "BY",
    "CASCADE",
    "CASCADED",
    "CASE",
    "CAST",
    "CATALOG",
    "CHAR",
    "CHARACTER",
    "CHARACTER_LENGTH",
    "CHAR_LENGTH",
    "CHECK",
    "CLOSE",
    "COALESCE",
    "COLLATE",
    "COLLATION",
    "COLUMN",
    "COMMIT",
    "CONFLICT",
    "CONNECT",
    "CONNECTION",
    "CONSTRAINT",
    "CONSTRAINTS",
    "CONTINUE",
    "CONVERT",
    "CORRESPONDING",
    "COUNT",
    "CREATE",
    "CROSS",
    "CURRENT",
    "CURRENT_DATE",
    "CURRENT_TIME",
    "CURRENT_TIMESTAMP",
    "CURRENT_USER",
    "CURSOR",
    "DATE",
    "DEALLOCATE",
    "DEC",
    "DECIMAL",
    "DECLARE",
    "DEFAULT",
    "DEFERRABLE",
    "DEFERRED",
    "DELETE",
    "DESC",
    "DESCRIBE",
    "DESCRIPTOR",
    "DIAGNOSTICS",
    "DISCONNECT",
    "DISTINCT",
    "DO",
    "DOMAIN",
    "DOUBLE",
    "DROP",
    "ELSE",
    "END",
    "ESCAPE",
    "EXCEPT",
    "EXCEPTION",
    "EXEC",
    "EXECUTE",
    "EXISTS",
    "EXTERNAL",
    "EXTRACT",
    "FALSE",
    "FETCH",
    "FIRST",
    "FLOAT",
    "FOR",
    "FOREIGN",
    "FOUND",
    "FROM",
    "FULL",
    "GET",
    "GLOBAL",
    "GO",
    "GOTO",
    "GRANT",
    "GROUP",
    "HAVING",
    "HOUR",
    "IDENTITY",
    "IMMEDIATE",
    "IN",
    "INDEX",
    "INDICATOR",
    "INITIALLY",
    "INNER",
    "INPUT",
    "INSENSITIVE",
    "INSERT",
    "INT",
    "INTEGER",
    "INTERSECT",
    "INTERVAL",
    "INTO",
    "IS",
    "ISOLATION",
    "JOIN",
    "KEY",
    "LANGUAGE",
    "LAST",
    "LEFT",
    "LET",
    "LEVEL",
    "LIKE",
    "LIMIT",
    "LIST",
    "LOCAL",
    "LOWER",
    "MATCH",
    "MAX",
    "MIN",
    "MINUTE",
    "MISSING",
    "MODIFIED",
    "MODULE",
    "MONTH",
    "NAMES",
    "NATIONAL",
    "NATURAL",
    "NCHAR",
    "NEW",
    "NEXT",
    "NO",
    "NOT",
    "NOTHING",
    "NULL",
    "NULLIF",
    "NUMERIC",
    "OCTET_LENGTH",
    "OF",
    "OFFSET",
    "OLD",
    "ON",
    "ONLY",
    "OPEN",
    "OPTION",
    "OR",
    "ORDER",
    "OUTER",
    "OUTPUT",
    "OVERLAPS",
    "PAD",
    "PARTIAL",
    "PIVOT",
    "POSITION",
    "PRECISION",
    "PREPARE",
    "PRESERVE",
    "PRIMARY",
    "PRIOR",
    "PRIVILEGES",
    "PROCEDURE",
    "PUBLIC",
    "READ",
    "REAL",
    "REFERENCES",
    "RELATIVE",
    "REMOVE",
    "RESTRICT",
    "RETURNING",
    "REVOKE",
    "RIGHT",
    "ROLLBACK",
    "ROWS",
    "SCHEMA",
    "SCROLL",
    "SECOND",
    "SECTION",
    "SELECT",
    "SESSION",
    "SESSION_USER",
    "SET",
    "SEXP",
    "SIZE",
    "SMALLINT",
    "SOME",
    "SPACE",
    "SQL",
    "SQLCODE",
    "SQLERROR",
    "SQLSTATE",
    "STRUCT",
    "SUBSTRING",
    "SUM",
    "SYSTEM_USER",
    "TABLE",
    "TEMPORARY",
    "THEN",
    "TIME",
    "TIMESTAMP",
    "TO",
    "TRANSACTION",
    "TRANSLATE",
    "TRANSLATION",
    "TRIM",
    "TRUE",
    "TUPLE",
    "UNION",
    "UNIQUE",
    "UNKNOWN",
    "UNPIVOT",
    "UPDATE",
    "UPPER",
    "USAGE",
    "USER",
    "USING",
    "VALUE",
    "VALUES",
    "VARCHAR",
    "VARYING",
    "VIEW",
    "WHEN",
    "WHENEVER",
    "WHERE",
    "WITH",
    "WORK",
    "WRITE",
    "YEAR",
    "ZONE",
];

/// Keywords that act as operators (a misplaced one is an "Unexpected operator").
const OPERATOR_KEYWORDS: &[&str] = &["AND", "OR", "IS", "LIKE", "BETWEEN", "IN"];

fn is_keyword(word: &str) -> bool {
    KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(word))
}

/// Functions whose names are reserved words but still call like functions.
const KEYWORD_FUNCTIONS: &[&str] = &["SIZE", "EXISTS"];

// ----- parser -----

struct Parser {
    tokens: Vec<Tok>,
    pos: usize,
    depth: usize,
    parameters: usize,
}

type PResult<T> = Result<T, ParseError>;

impl Parser {
    fn peek(&self) -> &Tok {
        self.tokens.get(self.pos).unwrap_or(&Tok::Eof)
    }

    fn peek_at(&self, offset: usize) -> &Tok {
        self.tokens.get(self.pos + offset).unwrap_or(&Tok::Eof)
    }

    fn is_keyword_at(&self, offset: usize, keyword: &str) -> bool {
        matches!(self.peek_at(offset), Tok::Ident(word) if word.eq_ignore_ascii_case(keyword))
    }

    fn at_keyword(&self, keyword: &str) -> bool {
        self.is_keyword_at(0, keyword)
    }

    fn eat_keyword(&mut self, keyword: &str) -> bool {
        let found = self.at_keyword(keyword);
        if found {
            self.pos += 1;
        }
        found
    }

    fn expect_keyword(&mut self, keyword: &str) -> PResult<()> {
        if self.eat_keyword(keyword) {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn eat_punct(&mut self, punct: &str) -> bool {
        let found = matches!(self.peek(), Tok::Punct(p) if *p == punct);
        if found {
            self.pos += 1;
        }
        found
    }

    fn expect_punct(&mut self, punct: &str) -> PResult<()> {
        if self.eat_punct(punct) {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    /// AWS's message for the token the parser stopped at.
    fn unexpected(&self) -> ParseError {
        malformed(match self.peek() {
            Tok::Eof | Tok::Punct(";") => "Unexpected term",
            Tok::Ident(word) if OPERATOR_KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(word)) => "Unexpected operator",
            Tok::Ident(word) if is_keyword(word) => "Unexpected keyword",
            Tok::Punct("=" | "<>" | "!=" | "<" | "<=" | ">" | ">=" | "+" | "-" | "*" | "/" | "%") => {
                "Unexpected operator"
            }
            _ => "Unexpected token",
        })
    }

    fn nested<T>(&mut self, f: impl FnOnce(&mut Parser) -> PResult<T>) -> PResult<T> {
        if self.depth >= DEPTH_MAX {
            return Err(malformed("Expression is nested too deeply"));
        }
        self.depth += 1;
        let result = f(self);
        self.depth -= 1;
        result
    }

    fn statement(&mut self) -> PResult<Statement> {
        if self.eat_keyword("SELECT") {
            return self.select().map(Statement::Select);
        }
        if self.eat_keyword("INSERT") {
            return self.insert().map(Statement::Insert);
        }
        if self.eat_keyword("UPDATE") {
            return self.update().map(Statement::Update);
        }
        if self.eat_keyword("DELETE") {
            return self.delete().map(Statement::Delete);
        }
        if self.at_keyword("EXISTS") && self.peek_at(1) == &Tok::Punct("(") {
            self.pos += 2;
            self.expect_keyword("SELECT")?;
            let select = self.select()?;
            self.expect_punct(")")?;
            return Ok(Statement::Exists(select));
        }
        match self.peek() {
            Tok::Eof | Tok::Punct(";") => Err(malformed("Unexpected term")),
            Tok::Ident(word) if is_keyword(word) => Err(malformed("Unexpected keyword")),
            _ => Err(malformed("Expected data manipulation")),
        }
    }

    /// A table, attribute or index name: an unquoted identifier that is not a reserved word, or
    /// any double-quoted one.
    fn name(&mut self) -> Option<String> {
        match self.peek().clone() {
            Tok::Quoted(name) => {
                self.pos += 1;
                Some(name)
            }
            Tok::Ident(name) if !is_keyword(&name) => {
                self.pos += 1;
                Some(name)
            }
            _ => None,
        }
    }

    /// After a table name: an alias (`t`, `AS t`) is refused with AWS's own message.
    fn refuse_alias(&self) -> PResult<()> {
        match self.peek() {
            Tok::Ident(word) if word.eq_ignore_ascii_case("AS") || !is_keyword(word) => {
                Err(ParseError("Aliasing is not supported".to_string()))
            }
            Tok::Quoted(_) => Err(ParseError("Aliasing is not supported".to_string())),
            _ => Ok(()),
        }
    }

    fn select(&mut self) -> PResult<Select> {
        let projection = if self.eat_punct("*") {
            if self.peek() == &Tok::Punct(",") {
                return Err(ParseError(
                    "Other attributes should not be present in the projection when '*' is used.".to_string(),
                ));
            }
            Projection::All
        } else {
            let mut paths = vec![self.path()?];
            while self.eat_punct(",") {
                if self.peek() == &Tok::Punct("*") {
                    return Err(ParseError(
                        "Other attributes should not be present in the projection when '*' is used.".to_string(),
                    ));
                }
                paths.push(self.path()?);
            }
            Projection::Paths(paths)
        };
        self.expect_keyword("FROM")?;
        let table = self.name().ok_or_else(|| self.unexpected())?;
        let mut index = None;
        if self.eat_punct(".") {
            index = Some(self.name().ok_or_else(|| self.unexpected())?);
            if self.peek() == &Tok::Punct(".") {
                return Err(ParseError(
                    "A path may contain at most 2 components in the FROM clause".to_string(),
                ));
            }
        }
        self.refuse_alias()?;
        let filter = if self.eat_keyword("WHERE") {
            Some(self.expr()?)
        } else {
            None
        };
        let order_by = if self.eat_keyword("ORDER") {
            self.expect_keyword("BY")?;
            let path = self.path()?;
            let descending = if self.eat_keyword("DESC") {
                true
            } else {
                self.eat_keyword("ASC");
                false
            };
            Some(OrderBy { path, descending })
        } else {
            None
        };
        if self.at_keyword("LIMIT") {
            return Err(ParseError("Unsupported clause: LIMIT".to_string()));
        }
        Ok(Select {
            projection,
            table,
            index,
            filter,
            order_by,
        })
    }

    fn insert(&mut self) -> PResult<Insert> {
        self.expect_keyword("INTO")?;
        let table = self.name().ok_or_else(|| self.unexpected())?;
        if !self.eat_keyword("VALUE") {
            if self.at_keyword("VALUES") {
                return Err(ParseError(
                    "Unsupported operation: Inserting multiple items in a single statement is not supported, use \"INSERT INTO tableName VALUE item\" instead".to_string(),
                ));
            }
            return Err(match self.peek() {
                Tok::Ident(word) if !is_keyword(word) => malformed("Unexpected token after expression"),
                _ => self.unexpected(),
            });
        }
        let value = self.expr()?;
        if self.at_keyword("RETURNING") {
            return Err(ParseError("RETURNING is not supported in INSERT".to_string()));
        }
        Ok(Insert { table, value })
    }

    fn update(&mut self) -> PResult<Update> {
        let table = self.name().ok_or_else(|| self.unexpected())?;
        self.refuse_alias()?;
        let mut actions = Vec::new();
        loop {
            if self.eat_keyword("SET") {
                loop {
                    let path = self.path()?;
                    self.expect_punct("=")?;
                    let value = self.expr()?;
                    actions.push(UpdateAction::Set(path, value));
                    if !self.eat_punct(",") {
                        break;
                    }
                }
            } else if self.eat_keyword("REMOVE") {
                loop {
                    actions.push(UpdateAction::Remove(self.path()?));
                    if !self.eat_punct(",") {
                        break;
                    }
                }
            } else {
                break;
            }
        }
        if actions.is_empty() {
            return Err(self.unexpected());
        }
        let filter = self.where_clause()?;
        let returning = self.returning()?;
        Ok(Update {
            table,
            actions,
            filter,
            returning,
        })
    }

    fn delete(&mut self) -> PResult<Delete> {
        self.expect_keyword("FROM")?;
        let table = self
            .name()
            .ok_or_else(|| malformed("Expected identifier for simple path"))?;
        self.refuse_alias()?;
        let filter = self.where_clause()?;
        let returning = self.returning()?;
        Ok(Delete {
            table,
            filter,
            returning,
        })
    }

    /// The mandatory WHERE of UPDATE and DELETE.
    fn where_clause(&mut self) -> PResult<Expr> {
        if self.eat_keyword("WHERE") {
            return self.expr();
        }
        match self.peek() {
            Tok::Eof | Tok::Punct(";") => Err(ParseError(
                "Where clause does not contain a mandatory equality on all key attributes".to_string(),
            )),
            _ => Err(malformed("Unexpected token after expression")),
        }
    }

    fn returning(&mut self) -> PResult<Option<Returning>> {
        if !self.eat_keyword("RETURNING") {
            return Ok(None);
        }
        let all = if self.eat_keyword("ALL") {
            true
        } else if self.eat_keyword("MODIFIED") {
            false
        } else {
            return Err(self.unexpected());
        };
        let old = if self.eat_keyword("OLD") {
            true
        } else if self.eat_keyword("NEW") {
            false
        } else {
            return Err(self.unexpected());
        };
        if !self.eat_punct("*") {
            return Err(ParseError(
                "Expected '*' after ( MODIFIED | ALL ) ( NEW | OLD ) in RETURNING clause".to_string(),
            ));
        }
        Ok(Some(match (all, old) {
            (true, true) => Returning::AllOld,
            (false, true) => Returning::ModifiedOld,
            (true, false) => Returning::AllNew,
            (false, false) => Returning::ModifiedNew,
        }))
    }

    /// A document path: a name, then `.name`, `[n]` or `['name']` steps.
    fn path(&mut self) -> PResult<Path> {
        let first = self.name().ok_or_else(|| self.unexpected())?;
        self.path_steps(first)
    }

    fn path_steps(&mut self, first: String) -> PResult<Path> {
        let mut elements = vec![PathElement::Attribute(first)];
        loop {
            if self.peek() == &Tok::Punct(".") {
                self.pos += 1;
                let name = match self.peek().clone() {
                    Tok::Quoted(name) | Tok::Ident(name) => {
                        self.pos += 1;
                        name
                    }
                    _ => return Err(self.unexpected()),
                };
                elements.push(PathElement::Attribute(name));
            } else if self.peek() == &Tok::Punct("[") {
                self.pos += 1;
                match self.peek().clone() {
                    Tok::Number(text) => {
                        let index = text
                            .parse::<usize>()
                            .map_err(|_| ParseError("Unexpected path component".to_string()))?;
                        self.pos += 1;
                        elements.push(PathElement::Index(index));
                    }
                    Tok::Str(name) => {
                        self.pos += 1;
                        elements.push(PathElement::Attribute(name));
                    }
                    _ => return Err(self.unexpected()),
                }
                self.expect_punct("]")?;
            } else {
                break;
            }
        }
        Ok(Path(elements))
    }

    fn expr(&mut self) -> PResult<Expr> {
        self.nested(Parser::or)
    }

    /// The operand after AND / OR.
    fn right_operand(&mut self, f: fn(&mut Parser) -> PResult<Expr>) -> PResult<Expr> {
        if matches!(self.peek(), Tok::Eof | Tok::Punct(";") | Tok::Punct(")")) {
            return Err(malformed("Missing right-hand side expression of infix operator"));
        }
        f(self)
    }

    fn or(&mut self) -> PResult<Expr> {
        let mut terms = vec![self.and()?];
        while self.eat_keyword("OR") {
            terms.push(self.right_operand(Parser::and)?);
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Expr::Or(terms)
        })
    }

    fn and(&mut self) -> PResult<Expr> {
        let mut terms = vec![self.not()?];
        while self.eat_keyword("AND") {
            terms.push(self.right_operand(Parser::not)?);
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Expr::And(terms)
        })
    }

    fn not(&mut self) -> PResult<Expr> {
        if self.eat_keyword("NOT") {
            return self.nested(|p| p.not().map(|inner| Expr::Not(Box::new(inner))));
        }
        self.predicate()
    }

    fn predicate(&mut self) -> PResult<Expr> {
        let left = self.additive()?;
        let op = match self.peek() {
            Tok::Punct("=") => Some(CompareOp::Eq),
            Tok::Punct("<>" | "!=") => Some(CompareOp::Ne),
            Tok::Punct("<") => Some(CompareOp::Lt),
            Tok::Punct("<=") => Some(CompareOp::Le),
            Tok::Punct(">") => Some(CompareOp::Gt),
            Tok::Punct(">=") => Some(CompareOp::Ge),
            _ => None,
        };
        if let Some(op) = op {
            self.pos += 1;
            let right = self.additive()?;
            return Ok(Expr::Compare(op, Box::new(left), Box::new(right)));
        }
        let negated = self.at_keyword("NOT") && (self.is_keyword_at(1, "BETWEEN") || self.is_keyword_at(1, "IN"));
        if negated {
            self.pos += 1;
        }
        if self.eat_keyword("BETWEEN") {
            let low = self.additive()?;
            self.expect_keyword("AND")?;
            let high = self.additive()?;
            let between = Expr::Between(Box::new(left), Box::new(low), Box::new(high));
            return Ok(if negated { Expr::Not(Box::new(between)) } else { between });
        }
        if self.eat_keyword("IN") {
            let close = if self.eat_punct("[") {
                "]"
            } else if self.eat_punct("(") {
                ")"
            } else {
                return Err(ParseError(
                    "IN operator must have a left hand argument of type Variable Reference and right hand argument of type Seq with at least one member".to_string(),
                ));
            };
            let mut list = vec![self.expr()?];
            while self.eat_punct(",") {
                list.push(self.expr()?);
            }
            self.expect_punct(close)?;
            let within = Expr::In(Box::new(left), list);
            return Ok(if negated { Expr::Not(Box::new(within)) } else { within });
        }
        if self.eat_keyword("IS") {
            let negated = self.eat_keyword("NOT");
            let kind = self.is_kind()?;
            return Ok(Expr::Is {
                subject: Box::new(left),
                negated,
                kind,
            });
        }
        Ok(left)
    }

    fn is_kind(&mut self) -> PResult<IsKind> {
        let Tok::Ident(word) = self.peek().clone() else {
            return Err(malformed("Expected type name"));
        };
        let upper = word.to_ascii_uppercase();
        let kind = match upper.as_str() {
            "MISSING" => IsKind::Missing,
            "NULL" => IsKind::Null,
            "BOOLEAN" | "BOOL" => IsKind::Type("BOOL"),
            "STRING" => IsKind::Type("S"),
            "NUMERIC" => IsKind::Type("N"),
            "BLOB" => IsKind::Type("B"),
            "STRUCT" | "TUPLE" => IsKind::Type("M"),
            "LIST" => IsKind::Type("L"),
            "INT" | "INTEGER" | "INT4" | "INT8" | "SMALLINT" | "FLOAT" | "REAL" | "DOUBLE" | "DECIMAL" | "DEC"
            | "CHAR" | "CHARACTER" | "VARCHAR" | "SYMBOL" | "CLOB" | "BAG" | "SEXP" | "DATE" | "TIME" | "TIMESTAMP" => {
                return Err(ParseError(format!(
                    "Unsupported data type for IS operator: {upper}. Supported data types are [MISSING, NULL, BOOLEAN, BLOB, STRING, NUMERIC, STRUCT, TUPLE, LIST]"
                )));
            }
            _ => return Err(malformed("Expected type name")),
        };
        self.pos += 1;
        Ok(kind)
    }

    fn additive(&mut self) -> PResult<Expr> {
        let mut left = self.unary()?;
        for _ in 0..=DEPTH_MAX {
            if self.eat_punct("+") {
                let right = self.unary()?;
                left = Expr::Add(Box::new(left), Box::new(right));
            } else if self.eat_punct("-") {
                let right = self.unary()?;
                left = Expr::Subtract(Box::new(left), Box::new(right));
            } else {
                return Ok(left);
            }
        }
        Err(malformed("Expression is nested too deeply"))
    }

    fn unary(&mut self) -> PResult<Expr> {
        if self.peek() == &Tok::Punct("-")
            && let Tok::Number(text) = self.peek_at(1).clone()
        {
            self.pos += 2;
            return number(&format!("-{text}")).map(Expr::Literal);
        }
        if self.eat_punct("+")
            && let Tok::Number(text) = self.peek().clone()
        {
            self.pos += 1;
            return number(&text).map(Expr::Literal);
        }
        self.nested(Parser::primary)
    }

    fn primary(&mut self) -> PResult<Expr> {
        match self.peek().clone() {
            Tok::Str(text) => {
                self.pos += 1;
                Ok(Expr::Literal(AttributeValue::S(text)))
            }
            Tok::Number(text) => {
                self.pos += 1;
                number(&text).map(Expr::Literal)
            }
            Tok::Param => {
                self.pos += 1;
                let index = self.parameters;
                self.parameters += 1;
                Ok(Expr::Parameter(index))
            }
            Tok::Punct("(") => {
                self.pos += 1;
                let inner = self.expr()?;
                self.expect_punct(")")?;
                Ok(inner)
            }
            Tok::Punct("[") => {
                self.pos += 1;
                let mut elements = Vec::new();
                if !self.eat_punct("]") {
                    loop {
                        elements.push(self.expr()?);
                        if !self.eat_punct(",") {
                            break;
                        }
                    }
                    self.expect_punct("]")?;
                }
                Ok(Expr::List(elements))
            }
            Tok::Punct("{") => {
                self.pos += 1;
                let mut members: Vec<(String, Expr)> = Vec::new();
                if !self.eat_punct("}") {
                    loop {
                        let Tok::Str(key) = self.peek().clone() else {
                            return Err(self.unexpected());
                        };
                        self.pos += 1;
                        self.expect_punct(":")?;
                        let value = self.expr()?;
                        if members.iter().any(|(k, _)| *k == key) {
                            return Err(ParseError(format!("Duplicate keys in tuple. Key: {key} under root")));
                        }
                        members.push((key, value));
                        if !self.eat_punct(",") {
                            break;
                        }
                    }
                    self.expect_punct("}")?;
                }
                Ok(Expr::Map(members))
            }
            Tok::Punct("<<") => {
                self.pos += 1;
                self.bag()
            }
            Tok::Quoted(name) => {
                self.pos += 1;
                self.path_steps(name).map(Expr::Path)
            }
            Tok::Ident(word) => {
                let upper = word.to_ascii_uppercase();
                match upper.as_str() {
                    "TRUE" | "FALSE" => {
                        self.pos += 1;
                        return Ok(Expr::Literal(AttributeValue::Bool(upper == "TRUE")));
                    }
                    "NULL" => {
                        self.pos += 1;
                        return Ok(Expr::Literal(AttributeValue::Null));
                    }
                    "MISSING" => {
                        self.pos += 1;
                        return Ok(Expr::Missing);
                    }
                    _ => {}
                }
                let callable = !is_keyword(&word) || KEYWORD_FUNCTIONS.contains(&upper.as_str());
                if callable && self.peek_at(1) == &Tok::Punct("(") {
                    self.pos += 2;
                    let mut args = Vec::new();
                    if !self.eat_punct(")") {
                        loop {
                            args.push(self.expr()?);
                            if !self.eat_punct(",") {
                                break;
                            }
                        }
                        self.expect_punct(")")?;
                    }
                    return Ok(Expr::Call(word.to_ascii_lowercase(), args));
                }
                if is_keyword(&word) {
                    return Err(self.unexpected());
                }
                self.pos += 1;
                self.path_steps(word).map(Expr::Path)
            }
            _ => Err(self.unexpected()),
        }
    }

    /// `<< ... >>`: a string, number or binary set of literals.
    fn bag(&mut self) -> PResult<Expr> {
        const BAG_TYPES: &str =
            "Unsupported data type in Bag. DynamoDB only supports either numbers or strings in bags";
        let mut values = Vec::new();
        if !self.eat_punct(">>") {
            loop {
                let value = match self.unary()? {
                    Expr::Literal(value @ (AttributeValue::S(_) | AttributeValue::N(_))) => value,
                    _ => return Err(ParseError(BAG_TYPES.to_string())),
                };
                values.push(value);
                if !self.eat_punct(",") {
                    break;
                }
            }
            self.expect_punct(">>")?;
        }
        if values.is_empty() {
            return Err(ParseError("Empty bags are not supported".to_string()));
        }
        let set = if values.iter().all(|v| matches!(v, AttributeValue::S(_))) {
            AttributeValue::string_set(
                values
                    .into_iter()
                    .filter_map(|v| match v {
                        AttributeValue::S(s) => Some(s),
                        _ => None,
                    })
                    .collect(),
            )
        } else if values.iter().all(|v| matches!(v, AttributeValue::N(_))) {
            AttributeValue::number_set(
                values
                    .into_iter()
                    .filter_map(|v| match v {
                        AttributeValue::N(n) => Some(n),
                        _ => None,
                    })
                    .collect(),
            )
        } else {
            return Err(ParseError(BAG_TYPES.to_string()));
        };
        set.map(Expr::Literal)
            .map_err(|_| ParseError("Input collection contains duplicates".to_string()))
    }
}

/// A number literal; out-of-range numbers get DynamoDB's number messages.
fn number(text: &str) -> PResult<AttributeValue> {
    // An exponent that does not fit 32 bits is refused by the parser itself, with no detail.
    if let Some(position) = text.find(['e', 'E']) {
        let exponent = text[position + 1..].trim_start_matches(['+', '-']);
        let digits = exponent.trim_start_matches('0');
        let fits = digits.len() <= 10 && digits.parse::<i64>().unwrap_or(0) <= i64::from(i32::MAX);
        if !fits {
            return Err(malformed(""));
        }
    }
    Number::parse(text)
        .map(AttributeValue::N)
        .map_err(|error| ParseError(format!("{} under root", error.message())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Statement {
        match parse(text) {
            Ok((statement, _)) => statement,
            Err(error) => panic!("{text}: {error}"),
        }
    }

    fn err(text: &str) -> String {
        match parse(text) {
            Ok(statement) => panic!("{text}: parsed as {statement:?}"),
            Err(error) => error.0,
        }
    }

    fn path(names: &[&str]) -> Path {
        Path(names.iter().map(|n| PathElement::Attribute(n.to_string())).collect())
    }

    fn s(text: &str) -> Expr {
        Expr::Literal(AttributeValue::S(text.to_string()))
    }

    fn n(text: &str) -> Expr {
        Expr::Literal(AttributeValue::N(Number::parse(text).unwrap_or(Number::ZERO)))
    }

    fn p(names: &[&str]) -> Expr {
        Expr::Path(path(names))
    }

    fn eq(a: Expr, b: Expr) -> Expr {
        Expr::Compare(CompareOp::Eq, Box::new(a), Box::new(b))
    }

    #[test]
    fn valid_statements() {
        let cases: Vec<(&str, Statement)> = vec![
            (
                "SELECT * FROM \"Music\"",
                Statement::Select(Select {
                    projection: Projection::All,
                    table: "Music".into(),
                    index: None,
                    filter: None,
                    order_by: None,
                }),
            ),
            (
                "select a, b.c, d[1], \"e f\" from t where pk = ? and sk >= 3;",
                Statement::Select(Select {
                    projection: Projection::Paths(vec![
                        path(&["a"]),
                        path(&["b", "c"]),
                        Path(vec![PathElement::Attribute("d".into()), PathElement::Index(1)]),
                        path(&["e f"]),
                    ]),
                    table: "t".into(),
                    index: None,
                    filter: Some(Expr::And(vec![
                        eq(p(&["pk"]), Expr::Parameter(0)),
                        Expr::Compare(CompareOp::Ge, Box::new(p(&["sk"])), Box::new(n("3"))),
                    ])),
                    order_by: None,
                }),
            ),
            (
                "SELECT * FROM \"t\".\"by_date\" WHERE pk = 'a' ORDER BY sk DESC",
                Statement::Select(Select {
                    projection: Projection::All,
                    table: "t".into(),
                    index: Some("by_date".into()),
                    filter: Some(eq(p(&["pk"]), s("a"))),
                    order_by: Some(OrderBy {
                        path: path(&["sk"]),
                        descending: true,
                    }),
                }),
            ),
            (
                "INSERT INTO \"t\" VALUE {'pk': 'a', 'n': -1.5, 'l': [1, 'x', true, null], 'm': {'k': ?}, 's': <<'b', 'a'>>}",
                Statement::Insert(Insert {
                    table: "t".into(),
                    value: Expr::Map(vec![
                        ("pk".into(), s("a")),
                        ("n".into(), n("-1.5")),
                        (
                            "l".into(),
                            Expr::List(vec![
                                n("1"),
                                s("x"),
                                Expr::Literal(AttributeValue::Bool(true)),
                                Expr::Literal(AttributeValue::Null),
                            ]),
                        ),
                        ("m".into(), Expr::Map(vec![("k".into(), Expr::Parameter(0))])),
                        (
                            "s".into(),
                            Expr::Literal(AttributeValue::Ss(vec!["a".into(), "b".into()])),
                        ),
                    ]),
                }),
            ),
            (
                "UPDATE t SET a = ?, b = b + 1 SET c = list_append(c, [2]) REMOVE d, e[0] WHERE pk = ? RETURNING MODIFIED NEW *",
                Statement::Update(Update {
                    table: "t".into(),
                    actions: vec![
                        UpdateAction::Set(path(&["a"]), Expr::Parameter(0)),
                        UpdateAction::Set(path(&["b"]), Expr::Add(Box::new(p(&["b"])), Box::new(n("1")))),
                        UpdateAction::Set(
                            path(&["c"]),
                            Expr::Call("list_append".into(), vec![p(&["c"]), Expr::List(vec![n("2")])]),
                        ),
                        UpdateAction::Remove(path(&["d"])),
                        UpdateAction::Remove(Path(vec![PathElement::Attribute("e".into()), PathElement::Index(0)])),
                    ],
                    filter: eq(p(&["pk"]), Expr::Parameter(1)),
                    returning: Some(Returning::ModifiedNew),
                }),
            ),
            (
                "DELETE FROM \"t\" WHERE pk = 'a' AND NOT begins_with(\"name\", 'x') RETURNING ALL OLD *",
                Statement::Delete(Delete {
                    table: "t".into(),
                    filter: Expr::And(vec![
                        eq(p(&["pk"]), s("a")),
                        Expr::Not(Box::new(Expr::Call("begins_with".into(), vec![p(&["name"]), s("x")]))),
                    ]),
                    returning: Some(Returning::AllOld),
                }),
            ),
            (
                "SELECT * FROM t WHERE a IS NOT MISSING OR b IN [1, 2] OR c NOT BETWEEN 1 AND 2 -- comment",
                Statement::Select(Select {
                    projection: Projection::All,
                    table: "t".into(),
                    index: None,
                    filter: Some(Expr::Or(vec![
                        Expr::Is {
                            subject: Box::new(p(&["a"])),
                            negated: true,
                            kind: IsKind::Missing,
                        },
                        Expr::In(Box::new(p(&["b"])), vec![n("1"), n("2")]),
                        Expr::Not(Box::new(Expr::Between(
                            Box::new(p(&["c"])),
                            Box::new(n("1")),
                            Box::new(n("2")),
                        ))),
                    ])),
                    order_by: None,
                }),
            ),
            (
                "EXISTS(SELECT * FROM \"t\" WHERE pk = 'a' AND n > 1)",
                Statement::Exists(Select {
                    projection: Projection::All,
                    table: "t".into(),
                    index: None,
                    filter: Some(Expr::And(vec![
                        eq(p(&["pk"]), s("a")),
                        Expr::Compare(CompareOp::Gt, Box::new(p(&["n"])), Box::new(n("1"))),
                    ])),
                    order_by: None,
                }),
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(ok(text), expected, "{text}");
        }
    }

    #[test]
    fn parameters_are_counted_in_order() {
        let (_, count) = parse("UPDATE t SET a = ? WHERE pk = ? AND x IN (?, ?)").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(count, 4);
        assert_eq!(parse("SELECT * FROM t WHERE a = '?'").map(|(_, c)| c), Ok(0));
    }

    #[test]
    fn invalid_statements() {
        let w = |detail: &str| format!("{NOT_WELL_FORMED}{detail}");
        let cases: Vec<(&str, String)> = vec![
            ("SELECT * FROM t WHERE pk = 1 foo", w("Unexpected token after expression")),
            ("DELETE FROM t WHERE pk = 1 ORDER BY pk", w("Unexpected token after expression")),
            ("SELECT * FROM t WHERE pk = 1)", w("Unexpected token after expression")),
            ("SELECT * FROM t WHERE", w("Unexpected term")),
            ("SELECT * FROM t WHERE NOT", w("Unexpected term")),
            ("SELECT * FROM t WHERE (", w("Unexpected term")),
            ("SELECT * FROM", w("Unexpected term")),
            ("SELECT * FROM t WHERE pk = 'a' AND", w("Missing right-hand side expression of infix operator")),
            ("SELECT * FROM t WHERE pk = 'a' OR", w("Missing right-hand side expression of infix operator")),
            ("SELECT * FROM t WHERE ORDER BY pk", w("Unexpected keyword")),
            ("SELECT * FROM t WHERE IS NULL", w("Unexpected operator")),
            ("SELECT * FROM t WHERE pk = LIKE", w("Unexpected operator")),
            ("SELECT * FROM t WHERE pk = 'a' AND x IS FOO", w("Expected type name")),
            ("DELETE FROM", w("Expected identifier for simple path")),
            ("DELETE FROM WHERE pk = 'a'", w("Expected identifier for simple path")),
            ("SLECT * FROM t", w("Expected data manipulation")),
            ("", w("Unexpected term")),
            ("SELECT * FROM t WHERE pk = 1 # note", w("")),
            ("SELECT * FROM t WHERE pk = 1 /* note", w("")),
            ("SELECT * FROM t WHERE pk = 'open", w("")),
            ("SELECT * FROM t WHERE pk = 1e2147483648", w("")),
            ("SELECT * FROM t x WHERE pk = 'a'", "Aliasing is not supported".into()),
            ("SELECT * FROM t AS x", "Aliasing is not supported".into()),
            ("UPDATE t x SET a = 1 WHERE pk = 'a'", "Aliasing is not supported".into()),
            ("INSERT INTO t x VALUE {'pk': 'a'}", w("Unexpected token after expression")),
            (
                "SELECT * FROM t WHERE pk = 1e126",
                "Number overflow. Attempting to store a number with magnitude larger than supported range under root"
                    .into(),
            ),
            (
                "SELECT * FROM t WHERE pk = 123456789012345678901234567890123456789",
                "Attempting to store more than 38 significant digits in a Number under root".into(),
            ),
            (
                "UPDATE t SET a = 1 WHERE",
                w("Unexpected term"),
            ),
            (
                "UPDATE t SET a = 1",
                "Where clause does not contain a mandatory equality on all key attributes".into(),
            ),
            ("SELECT * FROM t LIMIT 5", "Unsupported clause: LIMIT".into()),
            (
                "SELECT *, a FROM t",
                "Other attributes should not be present in the projection when '*' is used.".into(),
            ),
            ("INSERT INTO t VALUE {'pk': 'a'} RETURNING ALL NEW *", "RETURNING is not supported in INSERT".into()),
            ("INSERT INTO t VALUE {'pk': <<>>}", "Empty bags are not supported".into()),
            (
                "INSERT INTO t VALUE {'pk': <<?>>}",
                "Unsupported data type in Bag. DynamoDB only supports either numbers or strings in bags".into(),
            ),
            (
                "INSERT INTO t VALUE {'pk': <<1, 'a'>>}",
                "Unsupported data type in Bag. DynamoDB only supports either numbers or strings in bags".into(),
            ),
            ("INSERT INTO t VALUE {'a': 1, 'a': 2}", "Duplicate keys in tuple. Key: a under root".into()),
            (
                "UPDATE t SET a = 1 WHERE pk = 'a' RETURNING ALL OLD",
                "Expected '*' after ( MODIFIED | ALL ) ( NEW | OLD ) in RETURNING clause".into(),
            ),
            ("SELECT * FROM t WHERE pad = 'none'", w("Unexpected keyword")),
            (
                "SELECT * FROM a.b.c",
                "A path may contain at most 2 components in the FROM clause".into(),
            ),
            (
                "SELECT * FROM t WHERE x IS INT",
                "Unsupported data type for IS operator: INT. Supported data types are [MISSING, NULL, BOOLEAN, BLOB, STRING, NUMERIC, STRUCT, TUPLE, LIST]".into(),
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(err(text), expected, "{text}");
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let deep = format!("SELECT * FROM t WHERE {}a = 1{}", "(".repeat(5000), ")".repeat(5000));
        assert!(parse(&deep).is_err());
        let deep_not = format!("SELECT * FROM t WHERE {}a = 1", "NOT ".repeat(5000));
        assert!(parse(&deep_not).is_err());
        let long_sum = format!("UPDATE t SET a = a{} WHERE pk = 'a'", " + 1".repeat(2000));
        assert!(parse(&long_sum).is_err());
        let long_and = format!("SELECT * FROM t WHERE a = 1{}", " AND a = 1".repeat(800));
        assert!(parse(&long_and).is_ok());
        let deep_list = format!("INSERT INTO t VALUE {{'a': {}1{}}}", "[".repeat(5000), "]".repeat(5000));
        assert!(parse(&deep_list).is_err());
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        // A small deterministic fuzz: every prefix and byte-flip of a few statements.
        let seeds = [
            "SELECT a.b[1], \"c\" FROM \"t\".\"i\" WHERE pk = ? AND (x BETWEEN 1 AND 2 OR y IN [1,2]) ORDER BY sk DESC",
            "UPDATE t SET a = set_add(a, <<'x'>>), b = b - 1.5e3 REMOVE c WHERE pk = 'k' RETURNING ALL NEW *",
            "INSERT INTO t VALUE {'pk': 'a', 'm': {'l': [<<1, 2>>, -0.5, 'it''s']}}",
            "DELETE FROM \"t\" WHERE pk = 'a' AND x IS NOT MISSING /* c */ -- d",
        ];
        let alphabet = [
            '(', ')', '[', ']', '{', '}', '<', '>', '\'', '"', '?', '-', '.', 'e', ',', ' ', 'é', '*',
        ];
        for seed in seeds {
            let chars: Vec<char> = seed.chars().collect();
            for end in 0..=chars.len() {
                let prefix: String = chars[..end].iter().collect();
                let _ = parse(&prefix);
            }
            for (position, _) in chars.iter().enumerate() {
                for replacement in alphabet {
                    let mut mutated = chars.clone();
                    mutated[position] = replacement;
                    let text: String = mutated.into_iter().collect();
                    let _ = parse(&text);
                }
            }
        }
    }

    #[test]
    fn values_of_literal_expressions() {
        let (statement, _) = parse("INSERT INTO t VALUE {'pk': ?, 'l': [?, 'x']}").unwrap_or_else(|e| panic!("{e}"));
        let Statement::Insert(insert) = statement else {
            panic!("not an insert")
        };
        let params = [AttributeValue::S("k".into()), AttributeValue::Bool(false)];
        let value = insert.value.value(&params);
        let mut expected = Item::new();
        expected.insert("pk".into(), AttributeValue::S("k".into()));
        expected.insert(
            "l".into(),
            AttributeValue::L(vec![AttributeValue::Bool(false), AttributeValue::S("x".into())]),
        );
        assert_eq!(value, Ok(AttributeValue::M(expected)));
        assert_eq!(insert.value.value(&params[..1]), Err(ValueError::MissingParameter));
    }
}
