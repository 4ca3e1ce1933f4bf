//! The ARM expression language: recognising `[...]` strings and parsing them to a syntax tree.
//!
//! Grammar (ARM's, with its escape rules):
//! ```text
//! template string := "[[" literal-rest        (a literal starting with '[')
//!                  | "[" expr "]"            (an expression; blanks inside the brackets allowed)
//!                  | anything else           (a literal)
//! expr   := primary ( "." ident | "[" expr "]" )*
//! primary:= string | integer | ident ( "." ident )? "(" args? ")"
//! string := "'" ( "''" | not "'" )* "'"
//! ```

use std::fmt;

/// A byte range inside the template string the expression came from (brackets included).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

/// A node of the expression tree.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// What the node is.
    pub kind: ExprKind,
    /// Where it is in the template string.
    pub span: Span,
}

/// The kinds of expression nodes.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// A string literal.
    Str(String),
    /// An integer literal.
    Int(i64),
    /// A bare `true` or `false` (accepted leniently; ARM templates use `true()`).
    Bool(bool),
    /// A bare `null` (accepted leniently; ARM templates use `null()`).
    Null,
    /// A function call; `namespace` is set for user-defined functions (`ns.fn(...)`).
    Call {
        /// User-defined function namespace.
        namespace: Option<String>,
        /// Function name as written.
        name: String,
        /// Arguments.
        args: Vec<Expr>,
    },
    /// `base.name`.
    Property {
        /// The object.
        base: Box<Expr>,
        /// Property name.
        name: String,
    },
    /// `base[index]`.
    Index {
        /// The array or object.
        base: Box<Expr>,
        /// The index or key.
        index: Box<Expr>,
    },
}

/// A syntax error inside an expression, with the byte offset where it was found.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message} (at position {offset} of the expression)")]
pub struct SyntaxError {
    /// What is wrong.
    pub message: String,
    /// Byte offset in the template string.
    pub offset: usize,
}

/// What a template string holds.
#[derive(Clone, Debug, PartialEq)]
pub enum TemplateString<'a> {
    /// A literal string (`[[` escapes already removed).
    Literal(std::borrow::Cow<'a, str>),
    /// An expression.
    Expression(Expr),
}

/// True when a template string is an expression (`[...]` but not `[[...`).
pub fn is_expression(s: &str) -> bool {
    s.starts_with('[') && !s.starts_with("[[") && s.ends_with(']') && s.len() >= 2
}

/// Classifies a template string and parses it when it is an expression.
pub fn parse_template_string(s: &str) -> Result<TemplateString<'_>, SyntaxError> {
    if let Some(rest) = s.strip_prefix("[[") {
        // "[[" escapes a literal that starts with '[': drop one bracket.
        return Ok(TemplateString::Literal(std::borrow::Cow::Owned(format!(
            "[{rest}"
        ))));
    }
    if is_expression(s) {
        let inner_end = s.len() - 1;
        let mut p = Parser {
            src: s,
            i: 1,
            end: inner_end,
            depth: 0,
        };
        p.skip_ws();
        if p.i >= p.end {
            return Err(SyntaxError {
                message: "The expression is empty".into(),
                offset: 1,
            });
        }
        let e = p.expr()?;
        p.skip_ws();
        if p.i < p.end {
            return Err(p.err(&format!(
                "Unexpected '{}' after the end of the expression",
                p.rest_char()
            )));
        }
        return Ok(TemplateString::Expression(e));
    }
    Ok(TemplateString::Literal(std::borrow::Cow::Borrowed(s)))
}

/// Parses the inside of an expression (no brackets), e.g. `concat('a', 'b')`.
pub fn parse_expression(text: &str) -> Result<Expr, SyntaxError> {
    let mut p = Parser {
        src: text,
        i: 0,
        end: text.len(),
        depth: 0,
    };
    p.skip_ws();
    if p.i >= p.end {
        return Err(SyntaxError {
            message: "The expression is empty".into(),
            offset: 0,
        });
    }
    let e = p.expr()?;
    p.skip_ws();
    if p.i < p.end {
        return Err(p.err(&format!(
            "Unexpected '{}' after the end of the expression",
            p.rest_char()
        )));
    }
    Ok(e)
}

const MAX_DEPTH: usize = 256;

struct Parser<'a> {
    src: &'a str,
    i: usize,
    end: usize,
    depth: usize,
}

impl Parser<'_> {
    fn err(&self, msg: &str) -> SyntaxError {
        SyntaxError {
            message: msg.to_owned(),
            offset: self.i,
        }
    }

    fn peek(&self) -> Option<u8> {
        if self.i < self.end {
            self.src.as_bytes().get(self.i).copied()
        } else {
            None
        }
    }

    fn rest_char(&self) -> char {
        self.src[self.i..].chars().next().unwrap_or(' ')
    }

    fn skip_ws(&mut self) {
        while let Some(c) = self.peek() {
            if c.is_ascii_whitespace() {
                self.i += 1;
            } else {
                break;
            }
        }
    }

    fn expect(&mut self, c: u8, what: &str) -> Result<(), SyntaxError> {
        self.skip_ws();
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else if self.peek().is_none() {
            Err(self.err(&format!("Expected {what} but the expression ended")))
        } else {
            Err(self.err(&format!("Expected {what} but found '{}'", self.rest_char())))
        }
    }

    fn expr(&mut self) -> Result<Expr, SyntaxError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err("The expression is nested too deeply"));
        }
        let start = self.i;
        let mut e = self.primary()?;
        loop {
            self.skip_ws();
            match self.peek() {
                Some(b'.') => {
                    self.i += 1;
                    self.skip_ws();
                    // A property name starts like an identifier: `x.0` is not a property
                    // access (and would print back as the number `x.0`).
                    if self.peek().is_some_and(|c| c.is_ascii_digit()) {
                        return Err(self.err("Expected a property name after '.'"));
                    }
                    let name = self
                        .ident()
                        .ok_or_else(|| self.err("Expected a property name after '.'"))?;
                    e = Expr {
                        kind: ExprKind::Property {
                            base: Box::new(e),
                            name,
                        },
                        span: Span { start, end: self.i },
                    };
                }
                Some(b'[') => {
                    self.i += 1;
                    self.skip_ws();
                    let index = self.expr()?;
                    self.expect(b']', "']'")?;
                    e = Expr {
                        kind: ExprKind::Index {
                            base: Box::new(e),
                            index: Box::new(index),
                        },
                        span: Span { start, end: self.i },
                    };
                }
                _ => break,
            }
        }
        self.depth -= 1;
        Ok(e)
    }

    fn ident(&mut self) -> Option<String> {
        let start = self.i;
        while let Some(c) = self.peek() {
            if c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c == b'@' {
                self.i += 1;
            } else {
                break;
            }
        }
        (self.i > start).then(|| self.src[start..self.i].to_owned())
    }

    fn primary(&mut self) -> Result<Expr, SyntaxError> {
        self.skip_ws();
        let start = self.i;
        match self.peek() {
            None => Err(self.err("Expected a value but the expression ended")),
            Some(b'\'') => {
                self.i += 1;
                let mut out = String::new();
                loop {
                    match self.peek() {
                        None => {
                            return Err(SyntaxError {
                                message: "The string literal is not terminated".into(),
                                offset: start,
                            });
                        }
                        Some(b'\'') => {
                            if self.src.as_bytes().get(self.i + 1) == Some(&b'\'')
                                && self.i + 1 < self.end
                            {
                                out.push('\'');
                                self.i += 2;
                            } else {
                                self.i += 1;
                                break;
                            }
                        }
                        Some(_) => {
                            let c = self.rest_char();
                            out.push(c);
                            self.i += c.len_utf8();
                        }
                    }
                }
                Ok(Expr {
                    kind: ExprKind::Str(out),
                    span: Span { start, end: self.i },
                })
            }
            Some(c) if c.is_ascii_digit() || c == b'-' || c == b'+' => {
                self.i += 1;
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.i += 1;
                }
                let text = &self.src[start..self.i];
                if self.peek() == Some(b'.')
                    && self
                        .src
                        .as_bytes()
                        .get(self.i + 1)
                        .is_some_and(u8::is_ascii_digit)
                {
                    return Err(self.err(
                        "Floating-point literals are not supported in expressions; use json('1.5')",
                    ));
                }
                let n = text
                    .trim_start_matches('+')
                    .parse::<i64>()
                    .map_err(|_| SyntaxError {
                        message: format!("The integer literal '{text}' is not valid"),
                        offset: start,
                    })?;
                Ok(Expr {
                    kind: ExprKind::Int(n),
                    span: Span { start, end: self.i },
                })
            }
            Some(c) if c.is_ascii_alphabetic() || c == b'_' || c == b'$' => {
                let first = self.ident().unwrap_or_default();
                self.skip_ws();
                let (namespace, name) = if self.peek() == Some(b'.') {
                    // `ns.fn(` is a user-defined function call; anything else after '.' is an error
                    // here because a bare identifier cannot have properties.
                    let save = self.i;
                    self.i += 1;
                    self.skip_ws();
                    match self.ident() {
                        Some(n) => {
                            self.skip_ws();
                            if self.peek() == Some(b'(') {
                                (Some(first), n)
                            } else {
                                self.i = save;
                                return self.bare(first, start);
                            }
                        }
                        None => {
                            self.i = save;
                            return self.bare(first, start);
                        }
                    }
                } else {
                    (None, first)
                };
                self.skip_ws();
                if self.peek() != Some(b'(') {
                    return self.bare(name, start);
                }
                self.i += 1;
                let mut args = Vec::new();
                self.skip_ws();
                if self.peek() == Some(b')') {
                    self.i += 1;
                } else {
                    loop {
                        args.push(self.expr()?);
                        self.skip_ws();
                        match self.peek() {
                            Some(b',') => {
                                self.i += 1;
                            }
                            Some(b')') => {
                                self.i += 1;
                                break;
                            }
                            None => {
                                return Err(self.err(&format!(
                                    "The call to '{name}' is missing its closing ')'"
                                )));
                            }
                            Some(_) => {
                                return Err(self.err(&format!(
                                    "Expected ',' or ')' in the call to '{name}' but found '{}'",
                                    self.rest_char()
                                )));
                            }
                        }
                    }
                }
                Ok(Expr {
                    kind: ExprKind::Call {
                        namespace,
                        name,
                        args,
                    },
                    span: Span { start, end: self.i },
                })
            }
            Some(_) => Err(self.err(&format!(
                "Unexpected '{}' in the expression",
                self.rest_char()
            ))),
        }
    }

    fn bare(&mut self, word: String, start: usize) -> Result<Expr, SyntaxError> {
        let kind = match word.to_ascii_lowercase().as_str() {
            "true" => ExprKind::Bool(true),
            "false" => ExprKind::Bool(false),
            "null" => ExprKind::Null,
            _ => {
                return Err(SyntaxError {
                    message: format!(
                        "'{word}' is not a function call: function names must be followed by '('"
                    ),
                    offset: start,
                });
            }
        };
        Ok(Expr {
            kind,
            span: Span { start, end: self.i },
        })
    }
}

impl fmt::Display for Expr {
    /// Prints the expression back in ARM syntax (without brackets).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::Str(s) => write!(f, "'{}'", s.replace('\'', "''")),
            ExprKind::Int(i) => write!(f, "{i}"),
            ExprKind::Bool(b) => write!(f, "{b}"),
            ExprKind::Null => f.write_str("null"),
            ExprKind::Call {
                namespace,
                name,
                args,
            } => {
                if let Some(ns) = namespace {
                    write!(f, "{ns}.")?;
                }
                write!(f, "{name}(")?;
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{a}")?;
                }
                f.write_str(")")
            }
            ExprKind::Property { base, name } => write!(f, "{base}.{name}"),
            ExprKind::Index { base, index } => write!(f, "{base}[{index}]"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expr(s: &str) -> Expr {
        match parse_template_string(s).unwrap() {
            TemplateString::Expression(e) => e,
            other => panic!("not an expression: {other:?}"),
        }
    }

    #[test]
    fn double_bracket_is_a_literal() {
        assert_eq!(
            parse_template_string("[[1,2,3 ]").unwrap(),
            TemplateString::Literal("[1,2,3 ]".into())
        );
    }

    #[test]
    fn quotes_escape_by_doubling() {
        let e = expr("['it''s']");
        assert_eq!(e.kind, ExprKind::Str("it's".into()));
    }

    #[test]
    fn blanks_inside_brackets_are_allowed() {
        let e = expr("[ variables('var1') ]");
        assert!(matches!(e.kind, ExprKind::Call { ref name, .. } if name == "variables"));
    }

    #[test]
    fn property_and_index_chains() {
        let e = expr("[reference('x').outputs['a'][0].value]");
        assert_eq!(e.to_string(), "reference('x').outputs['a'][0].value");
    }

    #[test]
    fn user_function_namespace() {
        let e = expr("[ns.fn(1, -2)]");
        assert!(matches!(e.kind, ExprKind::Call { namespace: Some(ref ns), .. } if ns == "ns"));
    }

    #[test]
    fn errors_carry_offsets() {
        let err = parse_template_string("[concat('a' 'b')]").unwrap_err();
        assert_eq!(err.offset, 12);
        let err = parse_template_string("[concat('a']").unwrap_err();
        assert!(err.message.contains("closing"), "{err}");
    }

    #[test]
    fn not_expressions() {
        assert!(matches!(
            parse_template_string("abc").unwrap(),
            TemplateString::Literal(_)
        ));
        assert!(matches!(
            parse_template_string("[abc").unwrap(),
            TemplateString::Literal(_)
        ));
    }
}
