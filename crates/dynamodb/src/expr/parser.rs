//! The token-stream parser shared by every expression kind: backtracking recursive descent
//! (ordered choice, as AWS's grammar behaves), document paths, operands and function calls.
//! It builds an unresolved syntax tree; the per-kind modules validate and resolve it.

use super::lexer::{self, Tok, Token};

/// Deepest nesting of parentheses, functions and NOTs accepted (keeps recursion bounded).
pub(crate) const MAX_DEPTH: usize = 64;

/// A parse failure; where it happened is tracked in [`Parser::furthest`].
#[derive(Debug)]
pub(crate) struct Fail;

pub(crate) type PResult<T> = Result<T, Fail>;

/// One element of a document path as written.
#[derive(Clone, Debug)]
pub(crate) enum RawElem {
    /// A bare name: the token index (for the reserved-word check and its text).
    Name(usize),
    /// A `#name` placeholder: the token index.
    Placeholder(usize),
    Index(usize),
}

#[derive(Clone, Debug)]
pub(crate) struct RawPath {
    pub elems: Vec<RawElem>,
    /// Written with doubled parentheses somewhere, as in `((a.b)).c`.
    pub redundant: bool,
    /// The whole path is `( path )` with nothing after it.
    pub wrapped: bool,
}

#[derive(Clone, Debug)]
pub(crate) enum Operand {
    Path(RawPath),
    /// A `:value` placeholder: the token index.
    Value(usize),
    Func(FuncCall),
    Paren(Box<Operand>),
}

impl Operand {
    /// The operand without any parentheses around it.
    pub fn unwrap_parens(&self) -> &Operand {
        let mut operand = self;
        while let Operand::Paren(inner) = operand {
            operand = inner;
        }
        operand
    }
}

#[derive(Clone, Debug)]
pub(crate) struct FuncCall {
    pub name_token: usize,
    pub args: Vec<Operand>,
}

pub(crate) struct Parser<'s> {
    pub src: &'s str,
    pub tokens: Vec<Token>,
    pub pos: usize,
    /// The furthest token index at which an expectation failed.
    pub furthest: usize,
    depth: usize,
    /// Words that are syntax in this expression kind and so cannot name attributes or functions.
    keywords: &'static [&'static str],
    /// Whether a path may start with a parenthesised path, as in `(a.b).c` (conditions only).
    grouped_paths: bool,
}

impl<'s> Parser<'s> {
    pub fn new(src: &'s str, keywords: &'static [&'static str], grouped_paths: bool) -> Self {
        Parser {
            src,
            tokens: lexer::tokenize(src),
            pos: 0,
            furthest: 0,
            depth: 0,
            keywords,
            grouped_paths,
        }
    }

    pub fn kind_at(&self, index: usize) -> Tok {
        self.tokens.get(index).map_or(Tok::Eof, |t| t.kind)
    }

    pub fn peek(&self) -> Tok {
        self.kind_at(self.pos)
    }

    pub fn text(&self, index: usize) -> &'s str {
        self.tokens
            .get(index)
            .and_then(|t| self.src.get(t.start..t.end))
            .unwrap_or("")
    }

    /// Records a failed expectation at the current position.
    pub fn fail<T>(&mut self) -> PResult<T> {
        self.furthest = self.furthest.max(self.pos);
        Err(Fail)
    }

    pub fn expect(&mut self, kind: Tok) -> PResult<usize> {
        if self.peek() == kind {
            self.pos += 1;
            Ok(self.pos - 1)
        } else {
            self.fail()
        }
    }

    pub fn is_keyword_at(&self, index: usize, keyword: &str) -> bool {
        self.kind_at(index) == Tok::Ident && self.text(index).eq_ignore_ascii_case(keyword)
    }

    /// Consumes the keyword if it is next.
    pub fn keyword(&mut self, keyword: &str) -> PResult<usize> {
        if self.is_keyword_at(self.pos, keyword) {
            self.pos += 1;
            Ok(self.pos - 1)
        } else {
            self.fail()
        }
    }

    /// An identifier that is not one of this kind's keywords.
    pub fn identifier(&mut self) -> PResult<usize> {
        let index = self.pos;
        if self.peek() == Tok::Ident && !self.keywords.iter().any(|k| self.is_keyword_at(index, k)) {
            self.pos += 1;
            Ok(index)
        } else {
            self.fail()
        }
    }

    pub fn at_end(&self) -> bool {
        self.peek() == Tok::Eof
    }

    pub fn syntax_error(&self) -> String {
        lexer::syntax_error(self.src, &self.tokens, self.furthest)
    }

    /// Runs `f`, restoring the position when it fails.
    pub fn attempt<T>(&mut self, f: impl FnOnce(&mut Self) -> PResult<T>) -> PResult<T> {
        let saved = self.pos;
        let result = f(self);
        if result.is_err() {
            self.pos = saved;
        }
        result
    }

    /// Runs `f` one nesting level deeper, failing beyond [`MAX_DEPTH`].
    pub fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> PResult<T>) -> PResult<T> {
        if self.depth >= MAX_DEPTH {
            return self.fail();
        }
        self.depth += 1;
        let result = f(self);
        self.depth -= 1;
        result
    }

    /// `name | #name | ( path )`, then any number of `.name`, `.#name`, `[digits]`.
    pub fn path(&mut self) -> PResult<RawPath> {
        let mut path = match self.peek() {
            Tok::Name => {
                self.pos += 1;
                RawPath {
                    elems: vec![RawElem::Placeholder(self.pos - 1)],
                    redundant: false,
                    wrapped: false,
                }
            }
            Tok::LParen if self.grouped_paths => self.attempt(|p| {
                p.nested(|p| {
                    p.expect(Tok::LParen)?;
                    let inner = p.path()?;
                    p.expect(Tok::RParen)?;
                    Ok(RawPath {
                        redundant: inner.redundant || inner.wrapped,
                        wrapped: true,
                        elems: inner.elems,
                    })
                })
            })?,
            _ => {
                let index = self.identifier()?;
                RawPath {
                    elems: vec![RawElem::Name(index)],
                    redundant: false,
                    wrapped: false,
                }
            }
        };
        loop {
            let element = self.attempt(|p| match p.peek() {
                Tok::Dot => {
                    p.pos += 1;
                    if p.peek() == Tok::Name {
                        p.pos += 1;
                        Ok(RawElem::Placeholder(p.pos - 1))
                    } else {
                        p.identifier().map(RawElem::Name)
                    }
                }
                Tok::LBracket => {
                    p.pos += 1;
                    if p.peek() != Tok::Number {
                        return p.fail();
                    }
                    let Ok(index) = p.text(p.pos).parse::<usize>() else {
                        return p.fail();
                    };
                    p.pos += 1;
                    p.expect(Tok::RBracket)?;
                    Ok(RawElem::Index(index))
                }
                _ => p.fail(),
            });
            match element {
                Ok(element) => {
                    path.elems.push(element);
                    path.wrapped = false;
                }
                Err(Fail) => return Ok(path),
            }
        }
    }

    /// `( operand )` (any depth) or an operand.
    pub fn operand_parens(&mut self, allow_double: bool) -> PResult<Operand> {
        if self.peek() == Tok::LParen {
            let parenthesised = self.attempt(|p| {
                p.nested(|p| {
                    p.expect(Tok::LParen)?;
                    let inner = if allow_double {
                        p.operand_parens(true)?
                    } else {
                        p.operand()?
                    };
                    p.expect(Tok::RParen)?;
                    Ok(Operand::Paren(Box::new(inner)))
                })
            });
            if parenthesised.is_ok() {
                return parenthesised;
            }
        }
        self.operand()
    }

    /// A function call, a `:value` or a document path.
    pub fn operand(&mut self) -> PResult<Operand> {
        if self.peek() == Tok::Value {
            self.pos += 1;
            return Ok(Operand::Value(self.pos - 1));
        }
        if self.peek() == Tok::Ident
            && self.kind_at(self.pos + 1) == Tok::LParen
            && let Ok(call) = self.attempt(Self::function_call)
        {
            return Ok(Operand::Func(call));
        }
        self.path().map(Operand::Path)
    }

    /// `name ( operand, ... )`
    pub fn function_call(&mut self) -> PResult<FuncCall> {
        let name_token = self.identifier()?;
        self.nested(|p| {
            p.expect(Tok::LParen)?;
            let mut args = vec![p.operand_parens(p.grouped_paths)?];
            while p.peek() == Tok::Comma {
                p.pos += 1;
                args.push(p.operand_parens(p.grouped_paths)?);
            }
            p.expect(Tok::RParen)?;
            Ok(FuncCall { name_token, args })
        })
    }
}
