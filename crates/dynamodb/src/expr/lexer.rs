//! Tokenizer for the expression language, and the shape of AWS's syntax-error messages.

/// Kinds of token. Keywords are plain identifiers; the parsers recognise them by text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tok {
    /// `[A-Za-z_][A-Za-z0-9_]*`
    Ident,
    /// `[0-9]+`
    Number,
    /// `#` followed by `[A-Za-z0-9_]+`
    Name,
    /// `:` followed by `[A-Za-z0-9_]+`
    Value,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Dot,
    Plus,
    Minus,
    /// Any other single character (including a lone `#` or `:`): never valid.
    Other,
    Eof,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Token {
    pub kind: Tok,
    pub start: usize,
    pub end: usize,
}

fn is_word_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

/// Splits `src` into tokens; the last one is always [`Tok::Eof`].
pub(crate) fn tokenize(src: &str) -> Vec<Token> {
    let bytes = src.as_bytes();
    let mut tokens = Vec::new();
    let mut position = 0;
    while position < bytes.len() {
        let byte = bytes[position];
        if matches!(byte, b' ' | b'\t' | b'\r' | b'\n') {
            position += 1;
            continue;
        }
        let start = position;
        let word_end = |from: usize| {
            let mut end = from;
            while end < bytes.len() && is_word_byte(bytes[end]) {
                end += 1;
            }
            end
        };
        let (kind, end) = match byte {
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => (Tok::Ident, word_end(start + 1)),
            b'0'..=b'9' => {
                let mut end = start + 1;
                while end < bytes.len() && bytes[end].is_ascii_digit() {
                    end += 1;
                }
                (Tok::Number, end)
            }
            b'#' | b':' => {
                let end = word_end(start + 1);
                if end == start + 1 {
                    (Tok::Other, end)
                } else if byte == b'#' {
                    (Tok::Name, end)
                } else {
                    (Tok::Value, end)
                }
            }
            b'=' => (Tok::Eq, start + 1),
            b'<' => match bytes.get(start + 1) {
                Some(b'=') => (Tok::Le, start + 2),
                Some(b'>') => (Tok::Ne, start + 2),
                _ => (Tok::Lt, start + 1),
            },
            b'>' => match bytes.get(start + 1) {
                Some(b'=') => (Tok::Ge, start + 2),
                _ => (Tok::Gt, start + 1),
            },
            b'(' => (Tok::LParen, start + 1),
            b')' => (Tok::RParen, start + 1),
            b'[' => (Tok::LBracket, start + 1),
            b']' => (Tok::RBracket, start + 1),
            b',' => (Tok::Comma, start + 1),
            b'.' => (Tok::Dot, start + 1),
            b'+' => (Tok::Plus, start + 1),
            b'-' => (Tok::Minus, start + 1),
            _ => {
                // One whole UTF-8 character.
                let width = src[start..].chars().next().map_or(1, char::len_utf8);
                (Tok::Other, start + width)
            }
        };
        tokens.push(Token { kind, start, end });
        position = end;
    }
    tokens.push(Token {
        kind: Tok::Eof,
        start: bytes.len(),
        end: bytes.len(),
    });
    tokens
}

/// AWS's syntax error for the token at `index`: the token's text (`<EOF>` at the end) and the
/// source text from the previous token through the next one.
pub(crate) fn syntax_error(src: &str, tokens: &[Token], index: usize) -> String {
    let Some(token) = tokens.get(index).or(tokens.last()) else {
        return "Syntax error; token: \"<EOF>\", near: \"\"".to_string();
    };
    let text = if token.kind == Tok::Eof {
        "<EOF>"
    } else {
        src.get(token.start..token.end).unwrap_or("")
    };
    let from = index
        .checked_sub(1)
        .and_then(|i| tokens.get(i))
        .map_or(token.start, |t| t.start);
    let to = tokens.get(index + 1).map_or(token.end, |t| t.end);
    let near = src.get(from..to).unwrap_or("");
    format!("Syntax error; token: \"{text}\", near: \"{near}\"")
}
