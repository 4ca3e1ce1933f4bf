//! The .NET text semantics ARM inherits from its C# implementation.
//!
//! - Composite formatting for `format()`: `{index[,alignment][:formatString]}` with `{{`/`}}`
//!   escapes, as `String.Format(CultureInfo.InvariantCulture, ...)` does on .NET 6+.
//! - Standard (`C D E F G N P R X B`) and custom (`0 # . , % ‰ E0 ; 'lit' \x`) numeric format
//!   strings for 64-bit integers and doubles, invariant culture, following .NET Core 3.0+'s
//!   `Number.Formatting` (exact IEEE digits, midpoints rounded away from zero).
//! - Standard and custom date and time format strings for `utcNow()` and `dateTimeAdd()`.
//! - Newtonsoft.Json's compact serialisation (`string()`, `format()` of objects, template
//!   minification) and invariant upper/lower casing.
//!
//! Everything here is total: malformed formats give a [`FormatError`] with .NET's message,
//! never a panic, and sizes are bounded (see [`MAX_PRECISION`]).

use time::{OffsetDateTime, UtcOffset};

use crate::value::Value;

/// A .NET `FormatException`, carrying .NET's message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FormatError(pub String);

const BAD_FORMAT: &str = "Input string was not in a correct format.";
const BAD_SPECIFIER: &str = "Format specifier was invalid.";
const BAD_INDEX: &str = "Index (zero based) must be greater than or equal to zero and less than the size of the argument list.";

/// Largest precision accepted in a standard numeric format string (`F20`, `D8`...). .NET allows
/// up to 999,999,999, which only serves to exhaust memory; real templates use two digits.
pub const MAX_PRECISION: usize = 10_000;

/// Longest text `format()` builds: ARM caps a template at 4 MB, so nothing longer can be
/// deployed, and the cap keeps hostile alignments and precisions from exhausting memory.
pub const MAX_OUTPUT_BYTES: usize = 16 << 20;

/// .NET's own limits on a format item's index and alignment.
const INDEX_LIMIT: usize = 1_000_000;
const WIDTH_LIMIT: usize = 1_000_000;

fn bad_format() -> FormatError {
    FormatError(BAD_FORMAT.into())
}

fn bad_specifier() -> FormatError {
    FormatError(BAD_SPECIFIER.into())
}

/// Length in UTF-16 code units, the unit .NET counts string lengths and indexes in.
pub fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

// ---------------------------------------------------------------------------------------------
// Casing

/// `char.ToUpperInvariant`: simple (one-to-one) case mapping, so `ß` stays `ß`.
pub fn upper_char(c: char) -> char {
    // .NET keeps the dotless i as is under the invariant culture (Windows behaviour, which
    // .NET's ICU casing special-cases to match).
    if c == '\u{131}' {
        return c;
    }
    let mut it = c.to_uppercase();
    match (it.next(), it.next()) {
        (Some(u), None) => u,
        _ => match c {
            // Greek letters with ypogegrammeni: the full mapping expands to two letters, the
            // simple mapping (what .NET uses) goes to the prosgegrammeni form.
            '\u{1F80}'..='\u{1F87}' | '\u{1F90}'..='\u{1F97}' | '\u{1FA0}'..='\u{1FA7}' => {
                char::from_u32(u32::from(c) + 8).unwrap_or(c)
            }
            '\u{1FB3}' => '\u{1FBC}',
            '\u{1FC3}' => '\u{1FCC}',
            '\u{1FF3}' => '\u{1FFC}',
            _ => c,
        },
    }
}

/// `char.ToLowerInvariant`: simple case mapping.
pub fn lower_char(c: char) -> char {
    // U+0130 keeps its dot under the invariant culture (see `upper_char`).
    if c == '\u{130}' {
        return c;
    }
    let mut it = c.to_lowercase();
    match (it.next(), it.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

/// `string.ToUpperInvariant()`.
pub fn to_upper_invariant(s: &str) -> String {
    s.chars().map(upper_char).collect()
}

/// `string.ToLowerInvariant()` (no context-sensitive final sigma, unlike `str::to_lowercase`).
pub fn to_lower_invariant(s: &str) -> String {
    s.chars().map(lower_char).collect()
}

/// `StringComparison.OrdinalIgnoreCase` prefix test.
pub fn starts_with_ignore_case(s: &str, prefix: &str) -> bool {
    let mut it = s.chars();
    prefix
        .chars()
        .all(|p| it.next().is_some_and(|c| upper_char(c) == upper_char(p)))
}

/// `StringComparison.OrdinalIgnoreCase` suffix test.
pub fn ends_with_ignore_case(s: &str, suffix: &str) -> bool {
    let mut it = s.chars().rev();
    suffix
        .chars()
        .rev()
        .all(|p| it.next().is_some_and(|c| upper_char(c) == upper_char(p)))
}

/// `char.IsWhiteSpace`: the Unicode `White_Space` characters (same set as Rust's).
pub fn is_net_whitespace(c: char) -> bool {
    c.is_whitespace()
}

// ---------------------------------------------------------------------------------------------
// Newtonsoft.Json compact text

/// Compact JSON as Newtonsoft.Json writes it (`Formatting.None`) with the given quote character:
/// `"` for `string()` and template minification, `'` for `format()` arguments.
pub fn json_text(v: &Value, quote: char) -> String {
    let mut out = String::new();
    write_json(&mut out, v, quote);
    out
}

fn write_json(out: &mut String, v: &Value, quote: char) {
    match v {
        Value::Null | Value::Lambda(_) => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) => out.push_str(&json_double(*f)),
        Value::String(s) => write_json_string(out, s, quote),
        Value::Deferred(d) => write_json_string(out, &format!("[{}]", d.expr), quote),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(out, x, quote);
            }
            out.push(']');
        }
        Value::Object(o) => {
            out.push('{');
            for (i, (k, x)) in o.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(out, k, quote);
                out.push(':');
                write_json(out, x, quote);
            }
            out.push('}');
        }
    }
}

/// A string literal escaped as Newtonsoft's default `StringEscapeHandling` does.
fn write_json_string(out: &mut String, s: &str, quote: char) {
    out.push(quote);
    for c in s.chars() {
        match c {
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\u{c}' => out.push_str("\\f"),
            '\u{8}' => out.push_str("\\b"),
            '\\' => out.push_str("\\\\"),
            // Newtonsoft always escapes these three (JavaScript line terminators).
            '\u{85}' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", u32::from(c)));
            }
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push(quote);
}

/// A double as Newtonsoft writes it: round-trip digits, with `.0` added to whole numbers.
fn json_double(x: f64) -> String {
    let s = format_double_default(x);
    if !x.is_finite() || s.contains(['.', 'E', 'e']) {
        s
    } else {
        s + ".0"
    }
}

/// `double.ToString(CultureInfo.InvariantCulture)`: shortest round-trip digits, scientific
/// notation beyond 15 integer digits or below 1e-4 (`1E+20`, `1E-05`).
pub fn format_double_default(x: f64) -> String {
    format_float(x, "").unwrap_or_else(|_| x.to_string())
}

/// How `format()` and `string()` render a scalar value without a format string.
pub fn display_scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => format_double_default(*f),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Null | Value::Lambda(_) => String::new(),
        Value::Deferred(d) => format!("[{}]", d.expr),
        Value::Array(_) | Value::Object(_) => json_text(v, '"'),
    }
}

// ---------------------------------------------------------------------------------------------
// Composite formatting

/// `String.Format(CultureInfo.InvariantCulture, format, args)` with ARM's argument rendering:
/// booleans `True`/`False`, numbers through .NET numeric format strings, `null` empty, objects
/// and arrays as single-quoted compact JSON (`{'a':'b'}`).
pub fn composite_format(format: &str, args: &[Value]) -> Result<String, FormatError> {
    let f: Vec<char> = format.chars().collect();
    let mut out = String::with_capacity(format.len());
    let mut i = 0;
    let next = |i: &mut usize| -> Result<char, FormatError> {
        let c = f.get(*i).copied().ok_or_else(bad_format)?;
        *i += 1;
        Ok(c)
    };
    while i < f.len() {
        let ch = f[i];
        i += 1;
        match ch {
            '}' => {
                if f.get(i) == Some(&'}') {
                    i += 1;
                    out.push('}');
                } else {
                    return Err(bad_format());
                }
            }
            '{' => {
                if f.get(i) == Some(&'{') {
                    i += 1;
                    out.push('{');
                    continue;
                }
                let mut c = next(&mut i)?;
                let mut index = c.to_digit(10).ok_or_else(bad_format)? as usize;
                c = next(&mut i)?;
                while let Some(d) = c.to_digit(10) {
                    index = index * 10 + d as usize;
                    if index >= INDEX_LIMIT {
                        return Err(bad_format());
                    }
                    c = next(&mut i)?;
                }
                while c == ' ' {
                    c = next(&mut i)?;
                }
                let mut left = false;
                let mut width = 0usize;
                if c == ',' {
                    c = next(&mut i)?;
                    while c == ' ' {
                        c = next(&mut i)?;
                    }
                    if c == '-' {
                        left = true;
                        c = next(&mut i)?;
                    }
                    width = c.to_digit(10).ok_or_else(bad_format)? as usize;
                    c = next(&mut i)?;
                    while let Some(d) = c.to_digit(10) {
                        width = width * 10 + d as usize;
                        if width >= WIDTH_LIMIT {
                            return Err(bad_format());
                        }
                        c = next(&mut i)?;
                    }
                    while c == ' ' {
                        c = next(&mut i)?;
                    }
                }
                let mut item_format = None;
                if c != '}' {
                    if c != ':' {
                        return Err(bad_format());
                    }
                    let start = i;
                    loop {
                        match f.get(i) {
                            None | Some('{') => return Err(bad_format()),
                            Some('}') => break,
                            Some(_) => i += 1,
                        }
                    }
                    item_format = Some(f[start..i].iter().collect::<String>());
                    i += 1;
                }
                let arg = args
                    .get(index)
                    .ok_or_else(|| FormatError(BAD_INDEX.into()))?;
                let s = format_arg(arg, item_format.as_deref())?;
                let pad = width.saturating_sub(utf16_len(&s));
                if !left {
                    out.extend(std::iter::repeat_n(' ', pad));
                }
                out.push_str(&s);
                if left {
                    out.extend(std::iter::repeat_n(' ', pad));
                }
                if out.len() > MAX_OUTPUT_BYTES {
                    return Err(FormatError(format!(
                        "The formatted string would be longer than {MAX_OUTPUT_BYTES} bytes."
                    )));
                }
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

/// One `format()` argument with an optional format string; only numbers use it (strings and
/// booleans are not `IFormattable` in .NET).
fn format_arg(v: &Value, item_format: Option<&str>) -> Result<String, FormatError> {
    match v {
        Value::Int(i) => format_int(*i, item_format.unwrap_or("")),
        Value::Float(x) => format_float(*x, item_format.unwrap_or("")),
        Value::Array(_) | Value::Object(_) => Ok(json_text(v, '\'')),
        other => Ok(display_scalar(other)),
    }
}

// ---------------------------------------------------------------------------------------------
// Numbers

/// A number as .NET's `NumberBuffer` holds it: `0.d1d2d3... × 10^scale`.
#[derive(Clone, Debug)]
struct Number {
    negative: bool,
    /// ASCII digits, most significant first; empty for zero.
    digits: Vec<u8>,
    scale: i64,
    /// Floating-point numbers keep their sign when they round to zero (`-0.00`).
    float: bool,
}

impl Number {
    fn from_i64(v: i64) -> Number {
        let digits: Vec<u8> = if v == 0 {
            Vec::new()
        } else {
            v.unsigned_abs().to_string().into_bytes()
        };
        Number {
            negative: v < 0,
            scale: digits.len() as i64,
            digits,
            float: false,
        }
    }

    /// Parses Rust's `{:e}` output (`d.ddde±x`) of a non-negative finite double.
    fn from_exp_text(text: &str, negative: bool) -> Number {
        let (mantissa, exp) = text.split_once('e').unwrap_or((text, "0"));
        let exp: i64 = exp.parse().unwrap_or(0);
        let mut digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
        while digits.last() == Some(&b'0') {
            digits.pop();
        }
        let scale = if digits.is_empty() { 0 } else { exp + 1 };
        Number {
            negative,
            digits,
            scale,
            float: true,
        }
    }

    /// The exact decimal value of a double (at most 767 significant digits).
    fn exact(x: f64) -> Number {
        Number::from_exp_text(&format!("{:.766e}", x.abs()), x.is_sign_negative())
    }

    /// The shortest digits that round-trip, as .NET Core 3.0+ `R` and default `G` use.
    fn shortest(x: f64) -> Number {
        Number::from_exp_text(&format!("{:e}", x.abs()), x.is_sign_negative())
    }

    fn digit(&self, i: usize) -> Option<char> {
        self.digits.get(i).map(|d| char::from(*d))
    }

    /// .NET's `RoundNumber`: keep `pos` digits, rounding half up on the digits held.
    fn round(&mut self, pos: i64) {
        let len = self.digits.len() as i64;
        let mut i: i64 = 0;
        while i < pos && i < len {
            i += 1;
        }
        if i == pos && i < len && self.digits[i as usize] >= b'5' {
            while i > 0 && self.digits[(i - 1) as usize] == b'9' {
                i -= 1;
            }
            if i > 0 {
                self.digits[(i - 1) as usize] += 1;
            } else {
                self.scale += 1;
                self.digits[0] = b'1';
                i = 1;
            }
        } else {
            while i > 0 && self.digits[(i - 1) as usize] == b'0' {
                i -= 1;
            }
        }
        if i == 0 {
            if !self.float {
                self.negative = false;
            }
            self.scale = 0;
        }
        self.digits.truncate(i as usize);
    }
}

/// A parsed numeric format string.
enum Spec {
    /// A standard format: letter and optional precision.
    Standard(char, Option<usize>),
    /// Anything else is a custom format.
    Custom,
}

/// .NET's `ParseFormatSpecifier`: a letter followed only by digits is standard.
fn parse_spec(format: &str) -> Result<Spec, FormatError> {
    let mut chars = format.chars();
    let Some(first) = chars.next() else {
        return Ok(Spec::Standard('G', None));
    };
    if first == '\0' {
        return Ok(Spec::Standard('G', None));
    }
    if !first.is_ascii_alphabetic() {
        return Ok(Spec::Custom);
    }
    let rest: Vec<char> = chars.take_while(|c| *c != '\0').collect();
    if rest.is_empty() {
        return Ok(Spec::Standard(first, None));
    }
    if !rest.iter().all(char::is_ascii_digit) {
        return Ok(Spec::Custom);
    }
    let mut n: usize = 0;
    for d in rest {
        if n >= 100_000_000 {
            return Err(bad_specifier());
        }
        n = n * 10 + d.to_digit(10).unwrap_or(0) as usize;
    }
    if n > MAX_PRECISION {
        return Err(FormatError(format!(
            "The precision specifier {n} exceeds the supported maximum of {MAX_PRECISION}."
        )));
    }
    Ok(Spec::Standard(first, Some(n)))
}

/// `long.ToString(format, CultureInfo.InvariantCulture)`.
pub fn format_int(value: i64, format: &str) -> Result<String, FormatError> {
    match parse_spec(format)? {
        Spec::Custom => Ok(custom_number(Number::from_i64(value), format)),
        Spec::Standard(c, digits) => {
            let up = c.to_ascii_uppercase();
            if up == 'D' || (up == 'G' && digits.unwrap_or(0) < 1) {
                let d = if up == 'D' { digits.unwrap_or(0) } else { 0 };
                let body = format!("{:0>d$}", value.unsigned_abs());
                Ok(if value < 0 { format!("-{body}") } else { body })
            } else if up == 'X' {
                let d = digits.unwrap_or(0);
                Ok(if c == 'X' {
                    format!("{:0>d$X}", value as u64)
                } else {
                    format!("{:0>d$x}", value as u64)
                })
            } else if up == 'B' {
                let d = digits.unwrap_or(0);
                Ok(format!("{:0>d$b}", value as u64))
            } else {
                // `R` on integers is `G` with all digits (its precision is ignored).
                let (c, digits) = match c {
                    'R' => ('G', None),
                    'r' => ('g', None),
                    _ => (c, digits),
                };
                standard_number(Number::from_i64(value), c, digits)
            }
        }
    }
}

/// `double.ToString(format, CultureInfo.InvariantCulture)` (.NET Core 3.0+ semantics).
pub fn format_float(x: f64, format: &str) -> Result<String, FormatError> {
    let spec = parse_spec(format)?;
    if x.is_nan() {
        return Ok("NaN".into());
    }
    if x.is_infinite() {
        return Ok(if x > 0.0 { "Infinity" } else { "-Infinity" }.into());
    }
    match spec {
        Spec::Custom => {
            // .NET formats custom patterns from 15 significant digits, then rounds again.
            let mut n = Number::exact(x);
            n.round(15);
            Ok(custom_number(n, format))
        }
        Spec::Standard(c, digits) => {
            let up = c.to_ascii_uppercase();
            match up {
                'R' | 'G' if up == 'R' || digits.unwrap_or(0) == 0 => {
                    let n = Number::shortest(x);
                    let max = (n.digits.len()).max(15);
                    let g = if c.is_ascii_uppercase() { 'G' } else { 'g' };
                    standard_number(n, g, Some(max))
                }
                'G' => {
                    let mut n = Number::exact(x);
                    n.round(digits.unwrap_or(0) as i64);
                    standard_number(n, c, digits)
                }
                'E' | 'F' | 'N' | 'C' | 'P' => standard_number(Number::exact(x), c, digits),
                _ => Err(bad_specifier()),
            }
        }
    }
}

/// .NET's `NumberToString` for the standard specifiers shared by integers and doubles.
fn standard_number(
    mut n: Number,
    format: char,
    digits: Option<usize>,
) -> Result<String, FormatError> {
    let mut sb = String::new();
    let prec = |default: usize| digits.unwrap_or(default) as i64;
    match format {
        'C' | 'c' => {
            let d = prec(2);
            n.round(n.scale + d);
            // Invariant culture: "¤n" and "(¤n)".
            if n.negative {
                sb.push('(');
            }
            sb.push('¤');
            format_fixed(&mut sb, &n, d, true);
            if n.negative {
                sb.push(')');
            }
        }
        'F' | 'f' => {
            let d = prec(2);
            n.round(n.scale + d);
            if n.negative {
                sb.push('-');
            }
            format_fixed(&mut sb, &n, d, false);
        }
        'N' | 'n' => {
            let d = prec(2);
            n.round(n.scale + d);
            if n.negative {
                sb.push('-');
            }
            format_fixed(&mut sb, &n, d, true);
        }
        'E' | 'e' => {
            let d = prec(6) + 1;
            n.round(d);
            if n.negative {
                sb.push('-');
            }
            format_scientific(&mut sb, &n, d, format);
        }
        'G' | 'g' => {
            let mut d = digits.map_or(-1, |d| d as i64);
            if d < 1 {
                d = n.digits.len() as i64;
            }
            n.round(d);
            if n.negative {
                sb.push('-');
            }
            format_general(&mut sb, &n, d, if format == 'G' { 'E' } else { 'e' });
        }
        'P' | 'p' => {
            let d = prec(2);
            n.scale += 2;
            n.round(n.scale + d);
            // Invariant culture: "n %" and "-n %".
            if n.negative {
                sb.push('-');
            }
            format_fixed(&mut sb, &n, d, true);
            sb.push_str(" %");
        }
        _ => return Err(bad_specifier()),
    }
    Ok(sb)
}

fn format_exponent(sb: &mut String, value: i64, exp_char: char, min_digits: usize, plus: bool) {
    sb.push(exp_char);
    if value < 0 {
        sb.push('-');
    } else if plus {
        sb.push('+');
    }
    sb.push_str(&format!("{:0>min_digits$}", value.unsigned_abs()));
}

fn format_general(sb: &mut String, n: &Number, max_digits: i64, exp_char: char) {
    let mut dig_pos = n.scale;
    let mut scientific = false;
    if dig_pos > max_digits || dig_pos < -3 {
        dig_pos = 1;
        scientific = true;
    }
    let mut cur = 0;
    if dig_pos > 0 {
        while dig_pos > 0 {
            match n.digit(cur) {
                Some(d) => {
                    sb.push(d);
                    cur += 1;
                }
                None => sb.push('0'),
            }
            dig_pos -= 1;
        }
    } else {
        sb.push('0');
    }
    if cur < n.digits.len() || dig_pos < 0 {
        sb.push('.');
        while dig_pos < 0 {
            sb.push('0');
            dig_pos += 1;
        }
        while let Some(d) = n.digit(cur) {
            sb.push(d);
            cur += 1;
        }
    }
    if scientific {
        format_exponent(sb, n.scale - 1, exp_char, 2, true);
    }
}

fn format_scientific(sb: &mut String, n: &Number, max_digits: i64, exp_char: char) {
    let mut cur = 0;
    let mut next_digit = || {
        let d = n.digit(cur).unwrap_or('0');
        cur += 1;
        d
    };
    sb.push(next_digit());
    if max_digits != 1 {
        sb.push('.');
    }
    for _ in 1..max_digits {
        sb.push(next_digit());
    }
    let e = if n.digits.is_empty() { 0 } else { n.scale - 1 };
    format_exponent(sb, e, exp_char, 3, true);
}

/// Integer part (grouped by three with `,` when asked), then `max_digits` decimals.
fn format_fixed(sb: &mut String, n: &Number, max_digits: i64, grouped: bool) {
    let dig_pos = n.scale;
    let mut cur = 0usize;
    if dig_pos > 0 {
        let int_len = dig_pos as usize;
        let int_digits: Vec<char> = (0..int_len).map(|i| n.digit(i).unwrap_or('0')).collect();
        cur = int_len.min(n.digits.len());
        for (i, d) in int_digits.iter().enumerate() {
            if grouped && i > 0 && (int_len - i).is_multiple_of(3) {
                sb.push(',');
            }
            sb.push(*d);
        }
    } else {
        sb.push('0');
    }
    if max_digits > 0 {
        sb.push('.');
        let mut m = max_digits;
        if dig_pos < 0 {
            let zeros = (-dig_pos).min(m);
            sb.extend(std::iter::repeat_n('0', zeros as usize));
            m -= zeros;
        }
        while m > 0 {
            match n.digit(cur) {
                Some(d) => {
                    sb.push(d);
                    cur += 1;
                }
                None => sb.push('0'),
            }
            m -= 1;
        }
    }
}

/// .NET's `FindSection`: where section `section` (0 positive, 1 negative, 2 zero) of a
/// custom format starts; 0 when it does not exist or is empty.
fn find_section(f: &[char], section: i32) -> usize {
    if section == 0 {
        return 0;
    }
    let mut section = section;
    let mut src = 0;
    loop {
        let Some(&ch) = f.get(src) else {
            return 0;
        };
        src += 1;
        match ch {
            '\'' | '"' => {
                while let Some(&c) = f.get(src) {
                    if c == '\0' {
                        break;
                    }
                    src += 1;
                    if c == ch {
                        break;
                    }
                }
            }
            '\\' if f.get(src).is_some_and(|c| *c != '\0') => src += 1,
            ';' => {
                section -= 1;
                if section != 0 {
                    continue;
                }
                return match f.get(src) {
                    Some(&c) if c != '\0' && c != ';' => src,
                    _ => 0,
                };
            }
            '\0' => return 0,
            _ => {}
        }
    }
}

/// .NET's `NumberToStringFormat`: custom numeric format strings.
fn custom_number(mut n: Number, format: &str) -> String {
    let f: Vec<char> = format.chars().collect();
    let at = |i: usize| f.get(i).copied().unwrap_or('\0');
    let mut section = find_section(
        &f,
        if n.digits.is_empty() {
            2
        } else if n.negative {
            1
        } else {
            0
        },
    );
    let mut digit_count: i64;
    let mut decimal_pos: i64;
    let mut first_digit: i64;
    let mut last_digit: i64;
    let mut scientific: bool;
    let mut thousand_pos: i64;
    let mut thousand_count: i64 = 0;
    let mut thousand_seps: bool;
    loop {
        digit_count = 0;
        decimal_pos = -1;
        first_digit = i64::from(i32::MAX);
        last_digit = 0;
        scientific = false;
        thousand_pos = -1;
        thousand_seps = false;
        let mut scale_adjust: i64 = 0;
        let mut src = section;
        while src < f.len() {
            let ch = f[src];
            src += 1;
            if ch == '\0' || ch == ';' {
                break;
            }
            match ch {
                '#' => digit_count += 1,
                '0' => {
                    if first_digit == i64::from(i32::MAX) {
                        first_digit = digit_count;
                    }
                    digit_count += 1;
                    last_digit = digit_count;
                }
                '.' if decimal_pos < 0 => decimal_pos = digit_count,
                ',' if digit_count > 0 && decimal_pos < 0 => {
                    if thousand_pos >= 0 {
                        if thousand_pos == digit_count {
                            thousand_count += 1;
                            continue;
                        }
                        thousand_seps = true;
                    }
                    thousand_pos = digit_count;
                    thousand_count = 1;
                }
                '%' => scale_adjust += 2,
                '\u{2030}' => scale_adjust += 3,
                '\'' | '"' => {
                    while src < f.len() && f[src] != '\0' {
                        let c = f[src];
                        src += 1;
                        if c == ch {
                            break;
                        }
                    }
                }
                '\\' if src < f.len() && f[src] != '\0' => src += 1,
                'E' | 'e'
                    if at(src) == '0' || (matches!(at(src), '+' | '-') && at(src + 1) == '0') =>
                {
                    loop {
                        src += 1;
                        if at(src) != '0' || src >= f.len() {
                            break;
                        }
                    }
                    scientific = true;
                }
                _ => {}
            }
        }
        if decimal_pos < 0 {
            decimal_pos = digit_count;
        }
        if thousand_pos >= 0 {
            if thousand_pos == decimal_pos {
                scale_adjust -= thousand_count * 3;
            } else {
                thousand_seps = true;
            }
        }
        if !n.digits.is_empty() {
            n.scale += scale_adjust;
            let pos = if scientific {
                digit_count
            } else {
                n.scale + digit_count - decimal_pos
            };
            n.round(pos);
            if n.digits.is_empty() {
                let zero_section = find_section(&f, 2);
                if zero_section != section {
                    section = zero_section;
                    continue;
                }
            }
        } else {
            if !n.float {
                n.negative = false;
            }
            n.scale = 0;
        }
        break;
    }

    first_digit = if first_digit < decimal_pos {
        decimal_pos - first_digit
    } else {
        0
    };
    last_digit = if last_digit > decimal_pos {
        decimal_pos - last_digit
    } else {
        0
    };
    let (mut dig_pos, mut adjust) = if scientific {
        (decimal_pos, 0)
    } else {
        (n.scale.max(decimal_pos), n.scale - decimal_pos)
    };

    // Positions (counted from the decimal point) after which a group separator goes.
    let mut seps: Vec<i64> = Vec::new();
    if thousand_seps {
        let total_digits = dig_pos + adjust.min(0);
        let num_digits = first_digit.max(total_digits);
        let mut group_total = 3;
        while num_digits > group_total {
            seps.push(group_total);
            group_total += 3;
        }
    }
    let mut sep_ctr = seps.len() as i64 - 1;
    let mut out = String::new();
    let push_sep = |out: &mut String, dig_pos: i64, sep_ctr: &mut i64| {
        if thousand_seps
            && dig_pos > 1
            && *sep_ctr >= 0
            && let Some(p) = seps.get(*sep_ctr as usize)
            && dig_pos == p + 1
        {
            out.push(',');
            *sep_ctr -= 1;
        }
    };

    if n.negative && section == 0 && n.scale != 0 {
        out.push('-');
    }
    let mut decimal_written = false;
    let mut cur = 0usize;
    let mut src = section;
    while src < f.len() {
        let ch = f[src];
        src += 1;
        if ch == '\0' || ch == ';' {
            break;
        }
        if adjust > 0 && matches!(ch, '#' | '0' | '.') {
            while adjust > 0 {
                match n.digit(cur) {
                    Some(d) => {
                        out.push(d);
                        cur += 1;
                    }
                    None => out.push('0'),
                }
                push_sep(&mut out, dig_pos, &mut sep_ctr);
                dig_pos -= 1;
                adjust -= 1;
            }
        }
        match ch {
            '#' | '0' => {
                let c = if adjust < 0 {
                    adjust += 1;
                    (dig_pos <= first_digit).then_some('0')
                } else if let Some(d) = n.digit(cur) {
                    cur += 1;
                    Some(d)
                } else {
                    (dig_pos > last_digit).then_some('0')
                };
                if let Some(c) = c {
                    out.push(c);
                    push_sep(&mut out, dig_pos, &mut sep_ctr);
                }
                dig_pos -= 1;
            }
            '.' => {
                if dig_pos == 0
                    && !decimal_written
                    && (last_digit < 0 || (decimal_pos < digit_count && cur < n.digits.len()))
                {
                    out.push('.');
                    decimal_written = true;
                }
            }
            '\u{2030}' => out.push('\u{2030}'),
            '%' => out.push('%'),
            ',' => {}
            '\'' | '"' => {
                while src < f.len() && f[src] != '\0' && f[src] != ch {
                    out.push(f[src]);
                    src += 1;
                }
                if src < f.len() && f[src] != '\0' {
                    src += 1;
                }
            }
            '\\' => {
                if src < f.len() && f[src] != '\0' {
                    out.push(f[src]);
                    src += 1;
                }
            }
            'E' | 'e' => {
                if scientific {
                    let mut plus = false;
                    let mut zeros = 0usize;
                    if at(src) == '0' {
                        zeros += 1;
                    } else if at(src) == '+' && at(src + 1) == '0' {
                        plus = true;
                    } else if at(src) == '-' && at(src + 1) == '0' {
                    } else {
                        out.push(ch);
                        continue;
                    }
                    loop {
                        src += 1;
                        if src >= f.len() || f[src] != '0' {
                            break;
                        }
                        zeros += 1;
                    }
                    let exp = if n.digits.is_empty() {
                        0
                    } else {
                        n.scale - decimal_pos
                    };
                    format_exponent(&mut out, exp, ch, zeros.min(10), plus);
                    scientific = false;
                } else {
                    out.push(ch);
                    if src < f.len() {
                        if matches!(f[src], '+' | '-') {
                            out.push(f[src]);
                            src += 1;
                        }
                        while src < f.len() && f[src] == '0' {
                            out.push('0');
                            src += 1;
                        }
                    }
                }
            }
            other => out.push(other),
        }
    }
    if n.negative && section == 0 && n.scale == 0 && !out.is_empty() {
        out.insert(0, '-');
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Dates

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// `DateTime.ToString(format, CultureInfo.InvariantCulture)` for a UTC `DateTime` (an offset
/// other than zero is rendered as `DateTimeOffset` would, for `K` and `z`).
pub fn format_datetime(dt: OffsetDateTime, format: &str) -> Result<String, FormatError> {
    let mut chars = format.chars();
    let pattern: &str = match (chars.next(), chars.next()) {
        (None, _) => "MM/dd/yyyy HH:mm:ss",
        (Some(c), None) => {
            let utc = dt.checked_to_offset(UtcOffset::UTC).unwrap_or(dt);
            return match c {
                'd' => format_custom_date(dt, "MM/dd/yyyy"),
                'D' => format_custom_date(dt, "dddd, dd MMMM yyyy"),
                'f' => format_custom_date(dt, "dddd, dd MMMM yyyy HH:mm"),
                'F' => format_custom_date(dt, "dddd, dd MMMM yyyy HH:mm:ss"),
                'g' => format_custom_date(dt, "MM/dd/yyyy HH:mm"),
                'G' => format_custom_date(dt, "MM/dd/yyyy HH:mm:ss"),
                'm' | 'M' => format_custom_date(dt, "MMMM dd"),
                'o' | 'O' => format_custom_date(dt, "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK"),
                'r' | 'R' => format_custom_date(utc, "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'"),
                's' => format_custom_date(dt, "yyyy'-'MM'-'dd'T'HH':'mm':'ss"),
                't' => format_custom_date(dt, "HH:mm"),
                'T' => format_custom_date(dt, "HH:mm:ss"),
                'u' => format_custom_date(utc, "yyyy'-'MM'-'dd HH':'mm':'ss'Z'"),
                'U' => format_custom_date(utc, "dddd, dd MMMM yyyy HH:mm:ss"),
                'y' | 'Y' => format_custom_date(dt, "yyyy MMMM"),
                _ => Err(bad_format()),
            };
        }
        _ => format,
    };
    format_custom_date(dt, pattern)
}

/// How many times `ch` repeats from `i`.
fn repeat_len(f: &[char], i: usize, ch: char) -> usize {
    f[i..].iter().take_while(|c| **c == ch).count()
}

fn push_padded(out: &mut String, value: i64, width: usize) {
    out.push_str(&format!("{value:0>width$}"));
}

/// .NET's `DateTimeFormat.FormatCustomized` with the invariant culture.
fn format_custom_date(dt: OffsetDateTime, format: &str) -> Result<String, FormatError> {
    let f: Vec<char> = format.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < f.len() {
        let ch = f[i];
        let len = match ch {
            'g' | 'h' | 'H' | 'm' | 's' | 'f' | 'F' | 't' | 'd' | 'M' | 'y' | 'z' => {
                repeat_len(&f, i, ch)
            }
            _ => 1,
        };
        let mut consumed = len;
        match ch {
            'g' => out.push_str("A.D."),
            'h' => {
                let h = i64::from(dt.hour() % 12);
                push_padded(&mut out, if h == 0 { 12 } else { h }, len.min(2));
            }
            'H' => push_padded(&mut out, i64::from(dt.hour()), len.min(2)),
            'm' => push_padded(&mut out, i64::from(dt.minute()), len.min(2)),
            's' => push_padded(&mut out, i64::from(dt.second()), len.min(2)),
            'f' | 'F' => {
                if len > 7 {
                    return Err(bad_format());
                }
                let ticks = i64::from(dt.nanosecond() / 100);
                let mut fraction = ticks / 10i64.pow(7 - len as u32);
                if ch == 'f' {
                    push_padded(&mut out, fraction, len);
                } else {
                    let mut effective = len;
                    while effective > 0 && fraction % 10 == 0 {
                        fraction /= 10;
                        effective -= 1;
                    }
                    if effective > 0 {
                        push_padded(&mut out, fraction, effective);
                    } else if out.ends_with('.') {
                        out.pop();
                    }
                }
            }
            't' => {
                let designator = if dt.hour() < 12 { "AM" } else { "PM" };
                out.push_str(if len == 1 {
                    &designator[..1]
                } else {
                    designator
                });
            }
            'd' => match len {
                1 | 2 => push_padded(&mut out, i64::from(dt.day()), len),
                3 => out.push_str(&DAYS[dt.weekday().number_days_from_sunday() as usize][..3]),
                _ => out.push_str(DAYS[dt.weekday().number_days_from_sunday() as usize]),
            },
            'M' => {
                let m = u8::from(dt.month());
                let name = MONTHS[usize::from(m - 1)];
                match len {
                    1 | 2 => push_padded(&mut out, i64::from(m), len),
                    3 => out.push_str(&name[..3]),
                    _ => out.push_str(name),
                }
            }
            'y' => {
                let year = i64::from(dt.year());
                if len <= 2 {
                    push_padded(&mut out, year % 100, len);
                } else {
                    push_padded(&mut out, year, len);
                }
            }
            'z' => {
                let (h, m, _) = dt.offset().as_hms();
                let negative = h < 0 || m < 0;
                out.push(if negative { '-' } else { '+' });
                let (h, m) = (i64::from(h.unsigned_abs()), i64::from(m.unsigned_abs()));
                if len <= 1 {
                    out.push_str(&h.to_string());
                } else {
                    push_padded(&mut out, h, 2);
                    if len >= 3 {
                        out.push(':');
                        push_padded(&mut out, m, 2);
                    }
                }
            }
            'K' => {
                if dt.offset().is_utc() {
                    out.push('Z');
                } else {
                    let (h, m, _) = dt.offset().as_hms();
                    out.push(if h < 0 || m < 0 { '-' } else { '+' });
                    push_padded(&mut out, i64::from(h.unsigned_abs()), 2);
                    out.push(':');
                    push_padded(&mut out, i64::from(m.unsigned_abs()), 2);
                }
            }
            ':' => out.push(':'),
            '/' => out.push('/'),
            '\'' | '"' => {
                let mut j = i + 1;
                let mut closed = false;
                while j < f.len() {
                    let c = f[j];
                    j += 1;
                    if c == ch {
                        closed = true;
                        break;
                    } else if c == '\\' {
                        let escaped = f.get(j).ok_or_else(bad_format)?;
                        out.push(*escaped);
                        j += 1;
                    } else {
                        out.push(c);
                    }
                }
                if !closed {
                    return Err(FormatError(format!(
                        "Cannot find a matching quote character for the character '{ch}'."
                    )));
                }
                consumed = j - i;
            }
            '%' => match f.get(i + 1) {
                Some(&next) if next != '%' => {
                    out.push_str(&format_custom_date(dt, &next.to_string())?);
                    consumed = 2;
                }
                _ => return Err(bad_format()),
            },
            '\\' => {
                let escaped = f.get(i + 1).ok_or_else(bad_format)?;
                out.push(*escaped);
                consumed = 2;
            }
            other => out.push(other),
        }
        i += consumed;
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should stop loudly.
mod tests {
    use super::*;
    use crate::value::Object;

    fn obj(pairs: &[(&str, Value)]) -> Value {
        let mut o = Object::new();
        for (k, v) in pairs {
            o.insert((*k).to_owned(), v.clone());
        }
        Value::Object(o)
    }

    #[test]
    fn composite_renders_arm_argument_kinds() {
        let args = [
            Value::Bool(false),
            Value::Int(12948),
            Value::str("hello!"),
            obj(&[("a", Value::str("b")), ("!c", Value::Int(2))]),
            Value::Array(vec![Value::Bool(true), Value::Int(2893), Value::str("abc")]),
        ];
        assert_eq!(
            composite_format(">{0}<>{1}<>{2}<>{3}<>{4}<", &args).unwrap(),
            ">False<>12948<>hello!<>{'a':'b','!c':2}<>[true,2893,'abc']<"
        );
    }

    #[test]
    fn composite_handles_escapes_alignment_and_errors() {
        let args = [Value::Int(42), Value::str("ab")];
        assert_eq!(composite_format("{{{0}}}", &args).unwrap(), "{42}");
        assert_eq!(
            composite_format("[{1,5}][{1,-5}]", &args).unwrap(),
            "[   ab][ab   ]"
        );
        assert_eq!(composite_format("{0 , 6:D4}", &args).unwrap(), "  0042");
        assert_eq!(composite_format("{2}", &args).unwrap_err().0, BAD_INDEX);
        for bad in [
            "{", "}", "{0", "{a}", "{0:{}", "{0,}", "{0,x}", "{-1}", "{ 0}", "x}y",
        ] {
            assert_eq!(
                composite_format(bad, &args).unwrap_err().0,
                BAD_FORMAT,
                "{bad}"
            );
        }
        assert!(composite_format("{1000000}", &args).is_err());
        assert!(composite_format("{0,1000000}", &args).is_err());
        let huge = "{0,999999}".repeat(20);
        assert!(
            composite_format(&huge, &args)
                .unwrap_err()
                .0
                .contains("longer than")
        );
    }

    #[test]
    fn composite_ignores_format_strings_on_strings_and_booleans() {
        let args = [Value::str("x"), Value::Bool(true), Value::Null];
        assert_eq!(
            composite_format("{0:N2}{1:D3}[{2}]", &args).unwrap(),
            "xTrue[]"
        );
    }

    #[test]
    fn standard_integer_formats_match_dotnet() {
        let cases: &[(i64, &str, &str)] = &[
            (8175133, "N0", "8,175,133"),
            (8175133, "N", "8,175,133.00"),
            (-1234, "N1", "-1,234.0"),
            (42, "D5", "00042"),
            (-42, "D5", "-00042"),
            (42, "d", "42"),
            (255, "X", "FF"),
            (255, "x4", "00ff"),
            (-1, "X", "FFFFFFFFFFFFFFFF"),
            (5, "B8", "00000101"),
            (1234, "C", "¤1,234.00"),
            (-1234, "C0", "(¤1,234)"),
            (1, "P", "100.00 %"),
            (-1, "P0", "-100 %"),
            (12345, "E", "1.234500E+004"),
            (12345, "e2", "1.23e+004"),
            (12345, "G3", "1.23E+04"),
            (12345, "G", "12345"),
            (12345, "G0", "12345"),
            (12345, "F", "12345.00"),
            (0, "E", "0.000000E+000"),
            (123, "R", "123"),
            (i64::MIN, "D", "-9223372036854775808"),
            (i64::MIN, "N0", "-9,223,372,036,854,775,808"),
            (15, "E0", "2E+001"),
        ];
        for (v, f, want) in cases {
            assert_eq!(format_int(*v, f).unwrap(), *want, "{v} {f}");
        }
    }

    #[test]
    fn unknown_standard_specifier_is_an_error() {
        assert_eq!(format_int(1, "Q").unwrap_err().0, BAD_SPECIFIER);
        assert_eq!(format_float(1.0, "D").unwrap_err().0, BAD_SPECIFIER);
        assert_eq!(format_float(1.0, "X2").unwrap_err().0, BAD_SPECIFIER);
        assert!(format_int(1, "F99999").is_err());
        assert!(format_int(1, "F9999999999").is_err());
    }

    #[test]
    fn standard_double_formats_match_dotnet() {
        let cases: &[(f64, &str, &str)] = &[
            (1.5, "", "1.5"),
            (0.1, "", "0.1"),
            (1e20, "", "1E+20"),
            (1e15, "", "1E+15"),
            (123456789012345.0, "", "123456789012345"),
            (0.0001, "", "0.0001"),
            (0.00001, "", "1E-05"),
            (-0.0, "", "-0"),
            (1e20, "r", "1e+20"),
            (1234.5678, "F2", "1234.57"),
            (0.5, "F0", "1"),
            (1.5, "F0", "2"),
            (2.5, "F0", "3"),
            (-0.001, "F2", "-0.00"),
            (1234.5678, "N", "1,234.57"),
            (1234.5678, "E2", "1.23E+003"),
            (0.5, "P", "50.00 %"),
            (1234.5678, "G6", "1234.57"),
            (0.000012345, "G3", "1.23E-05"),
            (1234.5, "C", "¤1,234.50"),
            (-1234.5, "C", "(¤1,234.50)"),
            (f64::NAN, "F2", "NaN"),
            (f64::INFINITY, "", "Infinity"),
            (f64::NEG_INFINITY, "", "-Infinity"),
        ];
        for (v, f, want) in cases {
            assert_eq!(format_float(*v, f).unwrap(), *want, "{v} {f}");
        }
    }

    #[test]
    fn custom_numeric_formats_match_dotnet() {
        let ints: &[(i64, &str, &str)] = &[
            (123, "00000", "00123"),
            (1234567, "#,#", "1,234,567"),
            (1234567, "#,##0.00", "1,234,567.00"),
            (1234567, "#,,", "1"),
            (1234567890, "#,,,", "1"),
            (0, "#", ""),
            (0, "0", "0"),
            (-5, "0;(0)", "(5)"),
            (0, "0;(0);'zero'", "zero"),
            (5, "'val: '0", "val: 5"),
            (5, "\\#0", "#5"),
            (12, "0%", "1200%"),
            (-12, "0", "-12"),
            (123456, "0.00E+00", "1.23E+05"),
            (123456, "0.0e0", "1.2e5"),
            (42, "ab0cd", "ab42cd"),
            (1234, "0000.0", "1234.0"),
            (7, "0E", "7E"),
            (7, "0E+", "7E+"),
        ];
        for (v, f, want) in ints {
            assert_eq!(format_int(*v, f).unwrap(), *want, "{v} {f}");
        }
        let floats: &[(f64, &str, &str)] = &[
            (1234.5678, "0.00", "1234.57"),
            (0.5, "#.##", ".5"),
            (-0.4, "0", "-0"),
            (0.125, "0.00", "0.13"),
            (1.005, "0.00", "1.01"),
            (0.25, "0%", "25%"),
            (1234.5678, "#,##0.0", "1,234.6"),
        ];
        for (v, f, want) in floats {
            assert_eq!(format_float(*v, f).unwrap(), *want, "{v} {f}");
        }
    }

    #[test]
    fn custom_formats_never_panic_on_odd_input() {
        for f in [
            "", ";", ";;", "E", "E+", "E-0", "'", "\"", "\\", "0.0.0", ",,,,", "%%%‰", "#;#;#;#",
            "0\0x",
        ] {
            let _ = format_int(-12345, f);
            let _ = format_float(-0.0, f);
            let _ = format_float(1e300, f);
        }
    }

    #[test]
    fn json_text_escapes_like_newtonsoft() {
        let v = Value::str("a\"b'c\\\n\u{1}\u{2028}é");
        assert_eq!(json_text(&v, '"'), "\"a\\\"b'c\\\\\\n\\u0001\\u2028é\"");
        assert_eq!(json_text(&v, '\''), "'a\"b\\'c\\\\\\n\\u0001\\u2028é'");
        assert_eq!(json_text(&Value::Float(3.0), '"'), "3.0");
        assert_eq!(json_text(&Value::Float(1e20), '"'), "1E+20");
        assert_eq!(json_text(&Value::Float(0.25), '"'), "0.25");
    }

    #[test]
    fn invariant_casing_is_simple_mapping() {
        assert_eq!(to_upper_invariant("straße ǆ ı"), "STRAßE Ǆ ı");
        assert_eq!(to_lower_invariant("ΟΔΟΣ İ"), "οδοσ İ");
        assert_eq!(to_upper_invariant("ᾳ"), "ᾼ");
        assert!(starts_with_ignore_case("abcdef", "ABC"));
        assert!(ends_with_ignore_case("abcdef", "DeF"));
        assert!(!ends_with_ignore_case("ef", "def"));
    }

    fn date(text: &str) -> OffsetDateTime {
        OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).unwrap()
    }

    #[test]
    fn standard_date_formats_match_invariant_culture() {
        let d = date("2019-03-05T17:53:18.1234567Z");
        let cases = [
            ("d", "03/05/2019"),
            ("D", "Tuesday, 05 March 2019"),
            ("f", "Tuesday, 05 March 2019 17:53"),
            ("F", "Tuesday, 05 March 2019 17:53:18"),
            ("g", "03/05/2019 17:53"),
            ("G", "03/05/2019 17:53:18"),
            ("M", "March 05"),
            ("o", "2019-03-05T17:53:18.1234567Z"),
            ("R", "Tue, 05 Mar 2019 17:53:18 GMT"),
            ("s", "2019-03-05T17:53:18"),
            ("t", "17:53"),
            ("T", "17:53:18"),
            ("u", "2019-03-05 17:53:18Z"),
            ("U", "Tuesday, 05 March 2019 17:53:18"),
            ("y", "2019 March"),
        ];
        for (f, want) in cases {
            assert_eq!(format_datetime(d, f).unwrap(), want, "{f}");
        }
        assert_eq!(format_datetime(d, "q").unwrap_err().0, BAD_FORMAT);
    }

    #[test]
    fn custom_date_formats_match_dotnet() {
        let d = date("2019-03-05T07:03:08.1200000Z");
        let cases = [
            ("yyyyMMddTHHmmssZ", "20190305T070308Z"),
            ("M d", "3 5"),
            ("%d", "5"),
            ("h:mm tt", "7:03 AM"),
            ("hh t", "07 A"),
            ("ddd, MMM yy", "Tue, Mar 19"),
            ("yyyyy", "02019"),
            ("%y", "19"),
            ("%M", "3"),
            ("ss.fff", "08.120"),
            ("ss.FFF", "08.12"),
            ("ss.FFFFFFF", "08.12"),
            ("HH:mm:ss.F", "07:03:08.1"),
            ("z zz zzz K", "+0 +00 +00:00 Z"),
            ("'quoted' \\y \"x\\\"\"", "quoted y x\""),
            ("g", "03/05/2019 07:03"),
            ("gg", "A.D."),
        ];
        for (f, want) in cases {
            assert_eq!(format_datetime(d, f).unwrap(), want, "{f}");
        }
        let whole = date("2019-03-05T07:03:08Z");
        assert_eq!(format_datetime(whole, "ss.FF").unwrap(), "08");
        for bad in ["'open", "%", "%%", "ffffffff", "x\\"] {
            assert!(format_datetime(d, bad).is_err(), "{bad}");
        }
    }
}
