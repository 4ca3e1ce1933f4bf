//! Object functions: `createObject`, `items`, `json`, `null`, `objectKeys`, `shallowMerge`,
//! `tryGet`. (`contains`, `empty`, `intersection`, `length` and `union` work on objects too
//! and live with the array functions.)

use super::array::{CiObject, check_size, deferred_call, element_from_end};
use super::comparison::culture_cmp;
use super::{Args, FnDef, FnError};
use crate::eval::Evaluator;
use crate::value::{Deferred, Object, Value, render_literal};

/// The object functions.
pub const FUNCTIONS: &[FnDef] = &[
    FnDef::new("createObject", create_object, 0, None)
        .structural()
        .handles_deferred(),
    FnDef::new("items", items, 1, Some(1)).structural(),
    FnDef::new("json", json, 1, Some(1)),
    FnDef::new("null", null, 0, Some(0)),
    FnDef::new("objectKeys", object_keys, 1, Some(1)).structural(),
    FnDef::new("shallowMerge", shallow_merge, 1, Some(1)).structural(),
    FnDef::new("tryGet", try_get, 2, None).structural(),
];

fn create_object(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let a = Args::new(name, args);
    if !args.len().is_multiple_of(2) {
        return Err(FnError::call(
            name,
            format!(
                "it takes an even number of arguments (key, value, key, value...), but {} were given.",
                args.len()
            ),
        ));
    }
    if args
        .iter()
        .step_by(2)
        .any(|k| matches!(k, Value::Deferred(_)))
    {
        // A key known only at deployment time: the object's shape is unknown.
        return Ok(super::deferred_call(name, args));
    }
    let mut out = Object::with_capacity(args.len() / 2);
    for i in (0..args.len()).step_by(2) {
        let key = a.str(i)?;
        let value = a.any(i + 1)?;
        if matches!(value, Value::Lambda(_)) {
            return Err(a.type_error(i + 1, "String, Integer, Boolean, Array or Object"));
        }
        // Same rule as a template's JSON: a property name may appear only once.
        if out.contains_key(key) {
            return Err(FnError::at(
                i,
                format!(
                    "Unable to evaluate template language function '{name}': the key '{key}' is given more than once."
                ),
            ));
        }
        out.insert(key.to_owned(), value.clone());
    }
    let out = Value::Object(out);
    check_size(name, &out)?;
    Ok(out)
}

/// The order `items()` returns entries in: culture-aware by key (digits, then letters ignoring
/// case, lowercase first on ties), ordinal as the last word so the order is total.
fn key_order(a: &str, b: &str) -> std::cmp::Ordering {
    culture_cmp(a, b).then_with(|| a.cmp(b))
}

fn items(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let o = Args::new(name, args).object(0)?;
    let mut entries: Vec<(&String, &Value)> = o.iter().collect();
    entries.sort_by(|x, y| key_order(x.0, y.0));
    let out = entries
        .into_iter()
        .map(|(k, v)| {
            let mut entry = Object::with_capacity(2);
            entry.insert("key".into(), Value::String(k.clone()));
            entry.insert("value".into(), v.clone());
            Value::Object(entry)
        })
        .collect();
    let out = Value::Array(out);
    check_size(name, &out)?;
    Ok(out)
}

fn json(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let text = Args::new(name, args).str(0)?;
    crate::json::parse_value(text).map_err(|e| {
        FnError::at(
            0,
            format!(
                "Unable to evaluate template language function '{name}': the argument is not valid JSON: {e}."
            ),
        )
    })
}

fn null(_: &mut Evaluator<'_>, _: &str, _: &[Value]) -> Result<Value, FnError> {
    Ok(Value::Null)
}

fn object_keys(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let o = Args::new(name, args).object(0)?;
    Ok(Value::Array(
        o.keys().map(|k| Value::String(k.clone())).collect(),
    ))
}

fn shallow_merge(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let list = Args::new(name, args).array(0)?;
    let mut out = CiObject::from_object(Object::new());
    for (i, item) in list.iter().enumerate() {
        match item {
            Value::Object(o) => {
                for (k, v) in o {
                    out.set(k, v.clone());
                }
            }
            Value::Deferred(_) => return Ok(deferred_call(name, args)),
            other => {
                return Err(FnError::at(
                    0,
                    format!(
                        "Unable to evaluate template language function '{name}': every element of the array must be an object, but element {i} is of type '{}'.",
                        other.type_name()
                    ),
                ));
            }
        }
    }
    Ok(Value::Object(out.object))
}

/// `tryGet(value, keyOrIndex, ...)`: follows a path of object keys, array indexes and
/// `{value, fromEnd}` from-the-end indexes; anything missing along the way gives null.
fn try_get(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let a = Args::new(name, args);
    let mut cur = a.any(0)?;
    for i in 1..args.len() {
        let seg = a.any(i)?;
        let next = match (cur, seg) {
            (Value::Null, _) => return Ok(Value::Null),
            (Value::Deferred(d), _) => {
                let rest: Vec<String> = args[i..].iter().map(render_literal).collect();
                return Ok(Value::Deferred(Deferred {
                    expr: format!("{name}({}, {})", d.expr, rest.join(", ")),
                }));
            }
            (Value::Object(o), Value::String(k)) => crate::value::get_ci(o, k),
            (Value::Array(items), Value::Int(n)) => {
                usize::try_from(*n).ok().and_then(|n| items.get(n))
            }
            (Value::Array(items), Value::Object(spec)) => {
                let (from_end, n) = index_spec(name, spec, i)?;
                if from_end {
                    element_from_end(name, items, n, i)?
                } else {
                    usize::try_from(n).ok().and_then(|n| items.get(n))
                }
            }
            (Value::Object(_), _) => return Err(a.type_error(i, "String")),
            (Value::Array(_), _) => return Err(a.type_error(i, "Integer")),
            (other, _) => {
                return Err(FnError::at(
                    i,
                    format!(
                        "Unable to evaluate template language function '{name}': a value of type '{}' has no properties or elements to get.",
                        other.type_name()
                    ),
                ));
            }
        };
        match next {
            Some(v) => cur = v,
            None => return Ok(Value::Null),
        }
    }
    Ok(cur.clone())
}

/// Reads an index segment `{"value": n, "fromEnd": bool}` (what Bicep emits for `[^n]`).
fn index_spec(name: &str, spec: &Object, arg: usize) -> Result<(bool, i64), FnError> {
    let invalid = || {
        FnError::at(
            arg,
            format!(
                "Unable to evaluate template language function '{name}': an index object must look like {{\"value\": <integer>, \"fromEnd\": <boolean>}}."
            ),
        )
    };
    let n = crate::value::get_ci(spec, "value")
        .and_then(Value::as_int)
        .ok_or_else(invalid)?;
    let from_end = match crate::value::get_ci(spec, "fromEnd") {
        None => false,
        Some(v) => v.as_bool().ok_or_else(invalid)?,
    };
    Ok((from_end, n))
}
