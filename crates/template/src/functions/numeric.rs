//! Numeric functions: `add`, `sub`, `mul`, `div`, `mod`, `int`, `float`, `max`, `min`.
//!
//! ARM integers are 64-bit; arithmetic that leaves that range is an error, never a wrap or a
//! panic. `div` and `mod` truncate toward zero, as .NET does.

use super::{Args, FnDef, FnError};
use crate::eval::Evaluator;
use crate::value::Value;

/// The numeric functions.
pub const FUNCTIONS: &[FnDef] = &[
    FnDef::new("add", add, 2, Some(2)),
    FnDef::new("sub", sub, 2, Some(2)),
    FnDef::new("mul", mul, 2, Some(2)),
    FnDef::new("div", div, 2, Some(2)),
    FnDef::new("mod", modulo, 2, Some(2)),
    FnDef::new("int", int, 1, Some(1)),
    FnDef::new("float", float, 1, Some(1)),
    FnDef::new("max", max, 1, None),
    FnDef::new("min", min, 1, None),
];

fn overflow(name: &str) -> FnError {
    FnError::call(name, "the result does not fit in a 64-bit integer.")
}

/// Applies a checked integer operation to the two integer arguments.
fn arith(name: &str, args: &[Value], op: fn(i64, i64) -> Option<i64>) -> Result<Value, FnError> {
    let a = Args::new(name, args);
    let (x, y) = (a.int(0)?, a.int(1)?);
    op(x, y).map(Value::Int).ok_or_else(|| overflow(name))
}

fn add(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    arith(name, args, i64::checked_add)
}

fn sub(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    arith(name, args, i64::checked_sub)
}

fn mul(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    arith(name, args, i64::checked_mul)
}

fn nonzero_divisor(name: &str, args: &[Value]) -> Result<(), FnError> {
    if Args::new(name, args).int(1)? == 0 {
        return Err(FnError::at(
            1,
            format!(
                "Unable to evaluate template language function '{name}': the divisor is zero; division by zero is not defined."
            ),
        ));
    }
    Ok(())
}

fn div(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    Args::new(name, args).int(0)?;
    nonzero_divisor(name, args)?;
    arith(name, args, i64::checked_div)
}

fn modulo(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    Args::new(name, args).int(0)?;
    nonzero_divisor(name, args)?;
    // i64::MIN % -1 overflows in .NET too (OverflowException), so checked_rem's None stays
    // an error.
    arith(name, args, i64::checked_rem)
}

fn int(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let a = Args::new(name, args);
    match a.any(0)? {
        Value::Int(n) => Ok(Value::Int(*n)),
        Value::String(s) => {
            // .NET's integer parsing allows surrounding white space and a leading sign.
            let t = s.trim_matches(|c: char| c.is_ascii_whitespace());
            let body = t.strip_prefix(['+', '-']).unwrap_or(t);
            let valid = !body.is_empty() && body.bytes().all(|b| b.is_ascii_digit());
            let parsed = if valid { t.parse::<i64>().ok() } else { None };
            parsed.map(Value::Int).ok_or_else(|| {
                FnError::at(
                    0,
                    format!("Unable to evaluate template language function '{name}': the string '{s}' is not a valid 64-bit integer."),
                )
            })
        }
        Value::Float(f) => {
            // Only whole numbers convert exactly; anything else would silently lose digits.
            if f.fract() == 0.0 && *f >= -9.223_372_036_854_776e18 && *f < 9.223_372_036_854_776e18
            {
                Ok(Value::Int(*f as i64))
            } else {
                Err(FnError::at(
                    0,
                    format!(
                        "Unable to evaluate template language function '{name}': the number {f} is not a whole 64-bit integer."
                    ),
                ))
            }
        }
        _ => Err(a.type_error(0, "String or Integer")),
    }
}

fn float(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let a = Args::new(name, args);
    let f = match a.any(0)? {
        Value::Int(n) => *n as f64,
        Value::Float(f) => *f,
        Value::String(s) => {
            let t = s.trim_matches(|c: char| c.is_ascii_whitespace());
            // Rust also reads "inf" and "NaN", which JSON cannot carry; only plain decimal
            // notation is accepted.
            let plain = !t.is_empty()
                && t.bytes()
                    .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'));
            match t.parse::<f64>() {
                Ok(f) if plain => f,
                _ => {
                    return Err(FnError::at(
                        0,
                        format!(
                            "Unable to evaluate template language function '{name}': the string '{s}' is not a valid floating-point number."
                        ),
                    ));
                }
            }
        }
        _ => return Err(a.type_error(0, "String or Integer")),
    };
    if !f.is_finite() {
        return Err(FnError::call(name, "the number is too large to represent."));
    }
    Ok(Value::Float(f))
}

/// The integers `max`/`min` work on: one array argument, or the arguments themselves.
fn integers(name: &str, args: &[Value]) -> Result<Vec<i64>, FnError> {
    let a = Args::new(name, args);
    let (items, from_array) = match args {
        [Value::Array(items)] => (items.as_slice(), true),
        _ => (args, false),
    };
    if items.is_empty() {
        return Err(FnError::at(
            0,
            format!("Unable to evaluate template language function '{name}': the array is empty."),
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, v)| match v {
            Value::Int(n) => Ok(*n),
            _ if from_array => Err(FnError::at(
                0,
                format!(
                    "Unable to evaluate template language function '{name}': the array must contain only integers, but element {i} is of type '{}'.",
                    v.type_name()
                ),
            )),
            _ => Err(a.type_error(i, "Integer")),
        })
        .collect()
}

fn max(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let values = integers(name, args)?;
    values
        .into_iter()
        .max()
        .map(Value::Int)
        .ok_or_else(|| FnError::call(name, "no values."))
}

fn min(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let values = integers(name, args)?;
    values
        .into_iter()
        .min()
        .map(Value::Int)
        .ok_or_else(|| FnError::call(name, "no values."))
}
