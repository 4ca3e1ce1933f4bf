//! Lenient JSON, as Azure Resource Manager reads templates and parameter files.
//!
//! ARM parses with Newtonsoft.Json, which accepts more than RFC 8259: `//` and `/* */` comments,
//! single-quoted strings, unquoted property names, trailing commas, raw line breaks inside
//! strings (multi-line strings) and a byte-order mark. Duplicate property names are rejected,
//! as ARM does. The parser records where every value starts so errors can say where.

use indexmap::IndexMap;

use crate::value::{Object, Value};

/// A 1-based line and column in the source text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pos {
    /// 1-based line.
    pub line: u32,
    /// 1-based column (in characters).
    pub column: u32,
}

/// Where each value of a parsed document starts, mirroring the value's shape.
#[derive(Clone, Debug)]
pub enum Spans {
    /// A scalar.
    Leaf(Pos),
    /// An array and the spans of its items.
    Array(Pos, Vec<Spans>),
    /// An object and the spans of its properties.
    Object(Pos, IndexMap<String, Spans>),
}

impl Spans {
    /// Where this value starts.
    pub fn pos(&self) -> Pos {
        match self {
            Spans::Leaf(p) | Spans::Array(p, _) | Spans::Object(p, _) => *p,
        }
    }

    /// The spans of a property (case-insensitive, like ARM).
    pub fn prop(&self, key: &str) -> Option<&Spans> {
        match self {
            Spans::Object(_, m) => m.get(key).or_else(|| {
                m.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(key))
                    .map(|(_, v)| v)
            }),
            _ => None,
        }
    }

    /// The spans of an array item.
    pub fn item(&self, i: usize) -> Option<&Spans> {
        match self {
            Spans::Array(_, v) => v.get(i),
            _ => None,
        }
    }

    /// The spans of the value at a JSON path, if the path exists.
    pub fn node(&self, path: &str) -> Option<&Spans> {
        let mut cur = self;
        for seg in path_segments(path) {
            cur = match seg {
                PathSeg::Key(k) => cur.prop(k)?,
                PathSeg::Index(i) => cur.item(i)?,
            };
        }
        Some(cur)
    }

    /// Follows a JSON path such as `resources[2].properties.name`; stops at the deepest known
    /// value.
    pub fn find(&self, path: &str) -> Pos {
        let mut cur = self;
        for seg in path_segments(path) {
            let next = match seg {
                PathSeg::Key(k) => cur.prop(k),
                PathSeg::Index(i) => cur.item(i),
            };
            match next {
                Some(n) => cur = n,
                None => break,
            }
        }
        cur.pos()
    }
}

enum PathSeg<'a> {
    Key(&'a str),
    Index(usize),
}

fn path_segments(path: &str) -> Vec<PathSeg<'_>> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            out.push(PathSeg::Key(key));
        }
        while let Some(stripped) = rest.strip_prefix('[') {
            let end = stripped.find(']').unwrap_or(stripped.len());
            if let Ok(i) = stripped[..end].parse() {
                out.push(PathSeg::Index(i));
            }
            rest = stripped.get(end + 1..).unwrap_or("");
        }
    }
    out
}

/// A JSON syntax error with its position.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message} at line {}, column {}", pos.line, pos.column)]
pub struct JsonError {
    /// What is wrong.
    pub message: String,
    /// Where.
    pub pos: Pos,
}

/// A parsed document: the value and where each part of it came from.
#[derive(Clone, Debug)]
pub struct Document {
    /// The value.
    pub value: Value,
    /// Source positions, same shape as `value`.
    pub spans: Spans,
}

/// Parses lenient JSON text.
pub fn parse(text: &str) -> Result<Document, JsonError> {
    let mut p = Parser {
        src: text.as_bytes(),
        text,
        i: 0,
        line: 1,
        col: 1,
        depth: 0,
    };
    if text.starts_with('\u{feff}') {
        p.i = 3;
    }
    p.skip_ws()?;
    let (value, spans) = p.value()?;
    p.skip_ws()?;
    if p.i < p.src.len() {
        return Err(p.err("Additional text found after the end of the JSON value"));
    }
    Ok(Document { value, spans })
}

/// Parses lenient JSON text into a value, discarding positions.
pub fn parse_value(text: &str) -> Result<Value, JsonError> {
    parse(text).map(|d| d.value)
}

const MAX_DEPTH: usize = 512;

struct Parser<'a> {
    src: &'a [u8],
    text: &'a str,
    i: usize,
    line: u32,
    col: u32,
    depth: usize,
}

impl Parser<'_> {
    fn pos(&self) -> Pos {
        Pos {
            line: self.line,
            column: self.col,
        }
    }

    fn err(&self, msg: &str) -> JsonError {
        JsonError {
            message: msg.to_owned(),
            pos: self.pos(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.src.get(self.i).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.text[self.i..].chars().next()?;
        self.i += c.len_utf8();
        if c == '\n' {
            self.line += 1;
            self.col = 1;
        } else {
            self.col += 1;
        }
        Some(c)
    }

    fn skip_ws(&mut self) -> Result<(), JsonError> {
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\n' | b'\r' | 0x0c) => {
                    self.bump();
                }
                Some(b'/') => match self.src.get(self.i + 1) {
                    Some(b'/') => {
                        while let Some(c) = self.peek() {
                            if c == b'\n' {
                                break;
                            }
                            self.bump();
                        }
                    }
                    Some(b'*') => {
                        let start = self.pos();
                        self.bump();
                        self.bump();
                        loop {
                            match self.peek() {
                                None => {
                                    return Err(JsonError {
                                        message: "Unterminated comment".into(),
                                        pos: start,
                                    });
                                }
                                Some(b'*') if self.src.get(self.i + 1) == Some(&b'/') => {
                                    self.bump();
                                    self.bump();
                                    break;
                                }
                                _ => {
                                    self.bump();
                                }
                            }
                        }
                    }
                    _ => return Err(self.err("Unexpected character '/'")),
                },
                _ => {
                    // Non-ASCII whitespace (no-break space and friends) is whitespace to .NET.
                    if let Some(c) = self.text[self.i..].chars().next()
                        && !c.is_ascii()
                        && c.is_whitespace()
                    {
                        self.bump();
                        continue;
                    }
                    return Ok(());
                }
            }
        }
    }

    fn value(&mut self) -> Result<(Value, Spans), JsonError> {
        let pos = self.pos();
        match self.peek() {
            None => Err(self.err("Unexpected end of JSON")),
            Some(b'{') => self.object(),
            Some(b'[') => self.array(),
            Some(q @ (b'"' | b'\'')) => {
                let s = self.string(q)?;
                Ok((Value::String(s), Spans::Leaf(pos)))
            }
            Some(b'-' | b'+' | b'0'..=b'9' | b'.') => {
                let v = self.number()?;
                Ok((v, Spans::Leaf(pos)))
            }
            Some(c) if c.is_ascii_alphabetic() => {
                let word = self.word();
                let v = match word.as_str() {
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    "null" | "undefined" => Value::Null,
                    "NaN" => Value::Float(f64::NAN),
                    "Infinity" => Value::Float(f64::INFINITY),
                    _ => {
                        return Err(JsonError {
                            message: format!("Unexpected token '{word}'"),
                            pos,
                        });
                    }
                };
                Ok((v, Spans::Leaf(pos)))
            }
            Some(_) => {
                let c = self.text[self.i..].chars().next().unwrap_or('?');
                Err(self.err(&format!("Unexpected character '{c}'")))
            }
        }
    }

    fn word(&mut self) -> String {
        let start = self.i;
        while let Some(c) = self.peek() {
            if c.is_ascii_alphanumeric() || c == b'_' || c == b'$' {
                self.bump();
            } else {
                break;
            }
        }
        self.text[start..self.i].to_owned()
    }

    fn enter(&mut self) -> Result<(), JsonError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err("JSON nested too deeply"));
        }
        Ok(())
    }

    fn object(&mut self) -> Result<(Value, Spans), JsonError> {
        let pos = self.pos();
        self.enter()?;
        self.bump();
        let mut obj = Object::new();
        let mut spans = IndexMap::new();
        loop {
            self.skip_ws()?;
            match self.peek() {
                Some(b'}') => {
                    self.bump();
                    break;
                }
                None => return Err(self.err("Unexpected end of JSON while reading an object")),
                _ => {}
            }
            let key_pos = self.pos();
            let key = match self.peek() {
                Some(q @ (b'"' | b'\'')) => self.string(q)?,
                Some(c) if c.is_ascii_alphabetic() || c == b'_' || c == b'$' => self.word(),
                _ => return Err(self.err("Expected a property name")),
            };
            self.skip_ws()?;
            if self.peek() != Some(b':') {
                return Err(self.err(&format!("Expected ':' after property name '{key}'")));
            }
            self.bump();
            self.skip_ws()?;
            let (v, s) = self.value()?;
            if obj.contains_key(&key) {
                return Err(JsonError {
                    message: format!(
                        "Property with the same name already exists on object: '{key}'"
                    ),
                    pos: key_pos,
                });
            }
            obj.insert(key.clone(), v);
            spans.insert(key, s);
            self.skip_ws()?;
            match self.peek() {
                Some(b',') => {
                    self.bump();
                }
                Some(b'}') => {}
                None => return Err(self.err("Unexpected end of JSON while reading an object")),
                Some(_) => return Err(self.err("Expected ',' or '}' after an object property")),
            }
        }
        self.depth -= 1;
        Ok((Value::Object(obj), Spans::Object(pos, spans)))
    }

    fn array(&mut self) -> Result<(Value, Spans), JsonError> {
        let pos = self.pos();
        self.enter()?;
        self.bump();
        let mut items = Vec::new();
        let mut spans = Vec::new();
        loop {
            self.skip_ws()?;
            match self.peek() {
                Some(b']') => {
                    self.bump();
                    break;
                }
                None => return Err(self.err("Unexpected end of JSON while reading an array")),
                _ => {}
            }
            let (v, s) = self.value()?;
            items.push(v);
            spans.push(s);
            self.skip_ws()?;
            match self.peek() {
                Some(b',') => {
                    self.bump();
                }
                Some(b']') => {}
                None => return Err(self.err("Unexpected end of JSON while reading an array")),
                Some(_) => return Err(self.err("Expected ',' or ']' after an array item")),
            }
        }
        self.depth -= 1;
        Ok((Value::Array(items), Spans::Array(pos, spans)))
    }

    fn string(&mut self, quote: u8) -> Result<String, JsonError> {
        let start = self.pos();
        self.bump();
        let mut out = String::new();
        loop {
            let Some(c) = self.bump() else {
                return Err(JsonError {
                    message: "Unterminated string".into(),
                    pos: start,
                });
            };
            match c {
                c if c as u32 == quote as u32 => return Ok(out),
                '\\' => {
                    let Some(e) = self.bump() else {
                        return Err(JsonError {
                            message: "Unterminated string".into(),
                            pos: start,
                        });
                    };
                    match e {
                        '"' => out.push('"'),
                        '\'' => out.push('\''),
                        '\\' => out.push('\\'),
                        '/' => out.push('/'),
                        'b' => out.push('\u{8}'),
                        'f' => out.push('\u{c}'),
                        'n' => out.push('\n'),
                        'r' => out.push('\r'),
                        't' => out.push('\t'),
                        'u' => {
                            let cp = self.hex4()?;
                            if (0xD800..0xDC00).contains(&cp) {
                                // A surrogate pair: the low half must follow as another \u escape.
                                if self.peek() == Some(b'\\')
                                    && self.src.get(self.i + 1) == Some(&b'u')
                                {
                                    self.bump();
                                    self.bump();
                                    let lo = self.hex4()?;
                                    if (0xDC00..0xE000).contains(&lo) {
                                        let c = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                                        out.push(char::from_u32(c).unwrap_or('\u{fffd}'));
                                    } else {
                                        // A lone high surrogate: .NET keeps it as U+FFFD when
                                        // the string becomes UTF-8; the second escape stands.
                                        out.push('\u{fffd}');
                                        out.push(char::from_u32(lo).unwrap_or('\u{fffd}'));
                                    }
                                } else {
                                    out.push('\u{fffd}');
                                }
                            } else {
                                out.push(char::from_u32(cp).unwrap_or('\u{fffd}'));
                            }
                        }
                        other => {
                            return Err(self.err(&format!("Bad JSON escape sequence '\\{other}'")));
                        }
                    }
                }
                c => out.push(c),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let mut v = 0u32;
        for _ in 0..4 {
            let d = self
                .peek()
                .and_then(|c| (c as char).to_digit(16))
                .ok_or_else(|| self.err("Bad \\u escape: expected four hex digits"))?;
            self.bump();
            v = v * 16 + d;
        }
        Ok(v)
    }

    fn number(&mut self) -> Result<Value, JsonError> {
        let pos = self.pos();
        let start = self.i;
        while let Some(c) = self.peek() {
            if c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.' | b'e' | b'E') {
                self.bump();
            } else {
                break;
            }
        }
        let text = self.text[start..self.i].trim_start_matches('+');
        if let Ok(i) = text.parse::<i64>() {
            return Ok(Value::Int(i));
        }
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Value::Float(f)),
            _ => Err(JsonError {
                message: format!("Invalid number '{text}'"),
                pos,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_comments_trailing_commas_and_single_quotes() {
        let doc = parse("{ // a comment\n 'a': [1, 2,], /* block */ b: \"x\", }").unwrap();
        assert_eq!(doc.value.get("a").unwrap().as_array().unwrap().len(), 2);
        assert_eq!(doc.value.get("B").unwrap().as_str(), Some("x"));
    }

    #[test]
    fn keeps_multiline_strings() {
        let v = parse_value("{\"s\": \"line1\nline2\"}").unwrap();
        assert_eq!(v.get("s").unwrap().as_str(), Some("line1\nline2"));
    }

    #[test]
    fn rejects_duplicate_properties_with_position() {
        let e = parse("{\n  \"a\": 1,\n  \"a\": 2\n}").unwrap_err();
        assert!(e.message.contains("'a'"), "{e}");
        assert_eq!(e.pos, Pos { line: 3, column: 3 });
    }

    #[test]
    fn spans_find_nested_paths() {
        let doc = parse("{\n \"resources\": [\n  {\"name\": \"x\"}\n ]\n}").unwrap();
        assert_eq!(
            doc.spans.find("resources[0].name"),
            Pos {
                line: 3,
                column: 12
            }
        );
    }

    #[test]
    fn big_integers_become_floats_and_ints_stay_ints() {
        assert!(matches!(parse_value("5").unwrap(), Value::Int(5)));
        assert!(matches!(parse_value("1.5").unwrap(), Value::Float(_)));
        assert!(matches!(
            parse_value("99999999999999999999").unwrap(),
            Value::Float(_)
        ));
    }

    #[test]
    fn lone_surrogates_do_not_panic() {
        let v = parse_value(r#""\ud800\u0041""#).unwrap();
        assert_eq!(v.as_str(), Some("\u{fffd}A"));
    }

    #[test]
    fn unterminated_input_is_an_error() {
        assert!(parse("{\"a\": [1, 2").is_err());
        assert!(parse("/* open").is_err());
        assert!(parse("{} x").is_err());
    }
}
