//! Comparison functions: `coalesce`, `equals`, `greater`, `greaterOrEquals`, `less`,
//! `lessOrEquals`, and the culture-aware string order ARM uses for them and for `items()`.
//!
//! ARM compares strings with .NET's invariant-culture comparer, not ordinally: letters compare
//! case-insensitively first and case only breaks ties, lowercase first, so `greater('A', 'a')`
//! is true and `'a' < 'B'`. [`culture_cmp`] reproduces that order for the characters templates
//! use (ASCII in full; other characters by lower-cased code point after the ASCII letters).

use std::cmp::Ordering;

use super::{Args, FnDef, FnError};
use crate::eval::Evaluator;
use crate::value::{Deferred, Value, render_literal};

/// The comparison functions.
pub const FUNCTIONS: &[FnDef] = &[
    FnDef::new("coalesce", coalesce, 1, None)
        .structural()
        .handles_deferred(),
    FnDef::new("equals", equals, 2, Some(2)),
    FnDef::new("greater", greater, 2, Some(2)),
    FnDef::new("greaterOrEquals", greater_or_equals, 2, Some(2)),
    FnDef::new("less", less, 2, Some(2)),
    FnDef::new("lessOrEquals", less_or_equals, 2, Some(2)),
];

/// ASCII punctuation and symbols in the order of the Unicode root collation (which .NET's
/// invariant culture follows): all of them sort before digits, digits before letters.
const PUNCTUATION_ORDER: &str = "\t\n\u{b}\u{c}\r _-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$";

const DIGIT_BASE: u32 = 0x100;
const LETTER_BASE: u32 = 0x200;
const OTHER_BASE: u32 = 0x1000;

/// The primary collation weight of a character; `None` for characters the comparer ignores
/// (control characters).
fn primary_weight(c: char) -> Option<u32> {
    if c.is_ascii_alphabetic() {
        return Some(LETTER_BASE + u32::from(c.to_ascii_lowercase() as u8 - b'a'));
    }
    if c.is_ascii_digit() {
        return Some(DIGIT_BASE + u32::from(c as u8 - b'0'));
    }
    if let Some(i) = PUNCTUATION_ORDER.find(c) {
        return u32::try_from(i).ok().map(|i| i + 1);
    }
    if c.is_control() {
        return None;
    }
    let lower = c.to_lowercase().next().unwrap_or(c);
    Some(OTHER_BASE.saturating_add(u32::from(lower)))
}

/// The tertiary (case) weight: lowercase and caseless characters before uppercase.
fn case_weight(c: char) -> u8 {
    u8::from(c.is_uppercase())
}

/// Compares two strings the way ARM's culture-aware comparer does: by letters ignoring case
/// (punctuation, then digits, then letters), then by case at the first difference with
/// lowercase first. Strings that differ only in ignorable characters compare equal.
pub fn culture_cmp(a: &str, b: &str) -> Ordering {
    let primary = |s: &str| s.chars().filter_map(primary_weight).collect::<Vec<_>>();
    match primary(a).cmp(&primary(b)) {
        Ordering::Equal => {}
        other => return other,
    }
    let tertiary = |s: &str| {
        s.chars()
            .filter(|c| primary_weight(*c).is_some())
            .map(case_weight)
            .collect::<Vec<_>>()
    };
    tertiary(a).cmp(&tertiary(b))
}

fn coalesce(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    for (i, v) in args.iter().enumerate() {
        match v {
            Value::Null => {}
            // Whether this argument is null is only known at deployment time, so the answer
            // is too, unless an earlier argument already settled it.
            Value::Deferred(_) => {
                let rest: Vec<String> = args[i..].iter().map(render_literal).collect();
                return Ok(Value::Deferred(Deferred {
                    expr: format!("{name}({})", rest.join(", ")),
                }));
            }
            Value::Lambda(_) => {
                return Err(Args::new(name, args).type_error(i, "any type but a lambda"));
            }
            other => return Ok(other.clone()),
        }
    }
    Ok(Value::Null)
}

fn equals(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let a = Args::new(name, args);
    Ok(Value::Bool(a.any(0)?.arm_equals(a.any(1)?)))
}

/// Orders two comparable values: integers with integers, floats with floats, strings with
/// strings (culture-aware). Anything else is ARM's type error.
fn order(name: &str, args: &[Value]) -> Result<Ordering, FnError> {
    let a = Args::new(name, args);
    match (a.any(0)?, a.any(1)?) {
        (Value::Int(x), Value::Int(y)) => Ok(x.cmp(y)),
        (Value::Float(x), Value::Float(y)) => x
            .partial_cmp(y)
            .ok_or_else(|| FnError::call(name, "the floating-point values cannot be compared.")),
        (Value::String(x), Value::String(y)) => Ok(culture_cmp(x, y)),
        (Value::Int(_) | Value::Float(_) | Value::String(_), other) => Err(FnError::at(
            1,
            format!(
                "The template language function '{name}' expects its two parameters to be of the same type: both integers or both strings. The second parameter is of type '{}' and the first of type '{}'.",
                other.type_name(),
                args[0].type_name()
            ),
        )),
        _ => Err(a.type_error(0, "Integer or String")),
    }
}

fn greater(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    Ok(Value::Bool(order(name, args)? == Ordering::Greater))
}

fn greater_or_equals(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    Ok(Value::Bool(order(name, args)? != Ordering::Less))
}

fn less(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    Ok(Value::Bool(order(name, args)? == Ordering::Less))
}

fn less_or_equals(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    Ok(Value::Bool(order(name, args)? != Ordering::Greater))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uppercase_sorts_after_lowercase_only_as_a_tie_breaker() {
        assert_eq!(culture_cmp("A", "a"), Ordering::Greater);
        assert_eq!(culture_cmp("a", "B"), Ordering::Less);
        assert_eq!(culture_cmp("abcKey", "ABCKey"), Ordering::Less);
        assert_eq!(culture_cmp("ABCKey", "defKey"), Ordering::Less);
    }

    #[test]
    fn punctuation_then_digits_then_letters() {
        assert_eq!(culture_cmp("-", "0"), Ordering::Less);
        assert_eq!(culture_cmp("9", "a"), Ordering::Less);
        assert_eq!(culture_cmp("_", "-"), Ordering::Less);
        assert_eq!(culture_cmp("abc", "abc"), Ordering::Equal);
        assert_eq!(culture_cmp("ab", "abc"), Ordering::Less);
    }
}
