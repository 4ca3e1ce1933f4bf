//! Logical functions. `if`, `and` and `or` evaluate their arguments lazily, so the evaluator
//! implements them as special forms; the rest are here.

use super::{Args, FnDef, FnError};
use crate::eval::Evaluator;
use crate::value::Value;

/// The logical functions.
pub const FUNCTIONS: &[FnDef] = &[
    FnDef::new("bool", bool_fn, 1, Some(1)),
    FnDef::new("true", true_fn, 0, Some(0)),
    FnDef::new("false", false_fn, 0, Some(0)),
    FnDef::new("not", not, 1, Some(1)),
];

fn bool_fn(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let a = Args::new(name, args);
    match a.any(0)? {
        Value::Bool(b) => Ok(Value::Bool(*b)),
        Value::Int(i) => Ok(Value::Bool(*i != 0)),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(FnError::at(
                0,
                format!(
                    "Unable to evaluate template language function 'bool': the string '{s}' is not a valid Boolean."
                ),
            )),
        },
        _ => Err(a.type_error(0, "Boolean, Integer or String")),
    }
}

fn true_fn(_: &mut Evaluator<'_>, _: &str, _: &[Value]) -> Result<Value, FnError> {
    Ok(Value::Bool(true))
}

fn false_fn(_: &mut Evaluator<'_>, _: &str, _: &[Value]) -> Result<Value, FnError> {
    Ok(Value::Bool(false))
}

fn not(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    Ok(Value::Bool(!Args::new(name, args).bool(0)?))
}
