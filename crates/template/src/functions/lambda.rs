//! Lambda functions: `filter`, `map`, `reduce`, `sort`, `toObject`, `groupBy`, `mapValues`.
//!
//! `map`, `filter` and `reduce` also pass the element's index when the lambda declares a
//! parameter for it. A lambda may see deferred values; when a deferred result decides
//! something these functions must know now (keep an element? which key? which order?), the
//! whole call becomes deferred.

use std::sync::Arc;

use indexmap::IndexMap;

use super::array::{MAX_NODES, count_nodes, too_large};
use super::{Args, FnDef, FnError};
use crate::eval::Evaluator;
use crate::value::{Deferred, Lambda, Object, Value, render_literal};

/// The lambda functions.
pub const FUNCTIONS: &[FnDef] = &[
    FnDef::new("filter", filter, 2, Some(2)).structural(),
    FnDef::new("map", map, 2, Some(2)).structural(),
    FnDef::new("reduce", reduce, 3, Some(3)).structural(),
    FnDef::new("sort", sort, 2, Some(2)).structural(),
    FnDef::new("toObject", to_object, 2, Some(3)).structural(),
    FnDef::new("groupBy", group_by, 2, Some(3)).structural(),
    FnDef::new("mapValues", map_values, 2, Some(2)).structural(),
];

/// Argument `i` as a lambda taking between `min` and `max` parameters.
fn lambda_arg<'a>(
    a: &Args<'a>,
    i: usize,
    min: usize,
    max: usize,
) -> Result<&'a Arc<Lambda>, FnError> {
    let l = a.lambda(i)?;
    let n = l.params.len();
    if n < min || n > max {
        let expected = if min == max {
            format!("{min}")
        } else {
            format!("between {min} and {max}")
        };
        return Err(FnError::at(
            i,
            format!(
                "Unable to evaluate template language function '{}': its lambda must take {expected} parameter(s), but it takes {n}.",
                a.name
            ),
        ));
    }
    Ok(l)
}

/// Calls a lambda; a lambda is not a value a lambda may return.
fn call(
    ev: &mut Evaluator<'_>,
    name: &str,
    l: &Lambda,
    args: Vec<Value>,
) -> Result<Value, FnError> {
    let v = ev.call_lambda(l, args)?;
    if matches!(v, Value::Lambda(_)) {
        return Err(FnError::call(name, "a lambda cannot return a lambda."));
    }
    Ok(v)
}

fn index(i: usize) -> Value {
    Value::Int(i64::try_from(i).unwrap_or(i64::MAX))
}

/// The whole call, deferred to deployment time.
fn deferred(name: &str, args: &[Value]) -> Value {
    let parts: Vec<String> = args.iter().map(render_literal).collect();
    Value::Deferred(Deferred {
        expr: format!("{name}({})", parts.join(", ")),
    })
}

/// Why a lambda's result cannot be used where a boolean or key is needed.
fn wrong_result(name: &str, expected: &str, got: &Value) -> FnError {
    FnError::call(
        name,
        format!(
            "its lambda must return a {expected}, but returned a value of type '{}'.",
            got.type_name()
        ),
    )
}

fn filter(ev: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let a = Args::new(name, args);
    let items = a.array(0)?;
    let l = lambda_arg(&a, 1, 1, 2)?;
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match call(ev, name, l, vec![item.clone(), index(i)])? {
            Value::Bool(true) => out.push(item.clone()),
            Value::Bool(false) => {}
            Value::Deferred(_) => return Ok(deferred(name, args)),
            other => return Err(wrong_result(name, "Boolean", &other)),
        }
    }
    Ok(Value::Array(out))
}

fn map(ev: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let a = Args::new(name, args);
    let items = a.array(0)?;
    let l = lambda_arg(&a, 1, 1, 2)?;
    let mut out = Vec::with_capacity(items.len());
    let mut budget = MAX_NODES;
    for (i, item) in items.iter().enumerate() {
        let v = call(ev, name, l, vec![item.clone(), index(i)])?;
        // Each result may be large (a lambda can build arrays), so the total is what counts.
        let n = count_nodes(name, &v, budget)?;
        budget = budget.checked_sub(n).ok_or_else(|| too_large(name))?;
        out.push(v);
    }
    Ok(Value::Array(out))
}

fn reduce(ev: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let a = Args::new(name, args);
    let items = a.array(0)?;
    let mut acc = a.any(1)?.clone();
    if matches!(acc, Value::Lambda(_)) {
        return Err(a.type_error(1, "any type but a lambda"));
    }
    let l = lambda_arg(&a, 2, 2, 3)?;
    for (i, item) in items.iter().enumerate() {
        acc = call(ev, name, l, vec![acc, item.clone(), index(i)])?;
    }
    Ok(acc)
}

/// Asks the lambda whether `x` goes before `y`; `None` when the answer is deferred.
fn before(
    ev: &mut Evaluator<'_>,
    name: &str,
    l: &Lambda,
    x: &Value,
    y: &Value,
) -> Result<Option<bool>, FnError> {
    match call(ev, name, l, vec![x.clone(), y.clone()])? {
        Value::Bool(b) => Ok(Some(b)),
        Value::Deferred(_) => Ok(None),
        other => Err(wrong_result(name, "Boolean", &other)),
    }
}

/// A stable bottom-up merge sort driven by the lambda. An element from the right run goes
/// first only when the lambda says it is strictly before the left one, so equal elements keep
/// their order, and an inconsistent lambda just yields some order (no panic, unlike
/// `slice::sort_by`). `None` when a comparison is deferred.
fn merge_sort(
    ev: &mut Evaluator<'_>,
    name: &str,
    l: &Lambda,
    items: &[Value],
) -> Result<Option<Vec<usize>>, FnError> {
    let n = items.len();
    let mut order: Vec<usize> = (0..n).collect();
    let mut next: Vec<usize> = Vec::with_capacity(n);
    let mut width = 1usize;
    while width < n {
        next.clear();
        let mut start = 0;
        while start < n {
            let mid = start.saturating_add(width).min(n);
            let end = mid.saturating_add(width).min(n);
            let (mut i, mut j) = (start, mid);
            while i < mid && j < end {
                match before(ev, name, l, &items[order[j]], &items[order[i]])? {
                    Some(true) => {
                        next.push(order[j]);
                        j += 1;
                    }
                    Some(false) => {
                        next.push(order[i]);
                        i += 1;
                    }
                    None => return Ok(None),
                }
            }
            next.extend_from_slice(&order[i..mid]);
            next.extend_from_slice(&order[j..end]);
            start = end;
        }
        std::mem::swap(&mut order, &mut next);
        width = width.saturating_mul(2);
    }
    Ok(Some(order))
}

fn sort(ev: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let a = Args::new(name, args);
    let items = a.array(0)?;
    let l = lambda_arg(&a, 1, 2, 2)?;
    match merge_sort(ev, name, l, items)? {
        Some(order) => Ok(Value::Array(
            order.into_iter().map(|i| items[i].clone()).collect(),
        )),
        None => Ok(deferred(name, args)),
    }
}

/// Runs the key lambda: `Ok(None)` when the key is deferred.
fn key_of(
    ev: &mut Evaluator<'_>,
    name: &str,
    l: &Lambda,
    item: &Value,
) -> Result<Option<String>, FnError> {
    match call(ev, name, l, vec![item.clone()])? {
        Value::String(k) => Ok(Some(k)),
        Value::Deferred(_) => Ok(None),
        other => Err(wrong_result(name, "String", &other)),
    }
}

/// Runs the optional value lambda, or keeps the element itself.
fn value_of(
    ev: &mut Evaluator<'_>,
    name: &str,
    l: Option<&Arc<Lambda>>,
    item: &Value,
) -> Result<Value, FnError> {
    match l {
        Some(l) => call(ev, name, l, vec![item.clone()]),
        None => Ok(item.clone()),
    }
}

fn to_object(ev: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let a = Args::new(name, args);
    let items = a.array(0)?;
    let key_fn = lambda_arg(&a, 1, 1, 1)?;
    let value_fn = if args.len() > 2 {
        Some(lambda_arg(&a, 2, 1, 1)?)
    } else {
        None
    };
    let mut out = Object::with_capacity(items.len());
    let mut budget = MAX_NODES;
    for item in items {
        let Some(key) = key_of(ev, name, key_fn, item)? else {
            return Ok(deferred(name, args));
        };
        if out.contains_key(&key) {
            return Err(FnError::call(
                name,
                format!(
                    "the key '{key}' is produced by more than one element; keys must be unique."
                ),
            ));
        }
        let v = value_of(ev, name, value_fn, item)?;
        let n = count_nodes(name, &v, budget)?;
        budget = budget.checked_sub(n).ok_or_else(|| too_large(name))?;
        out.insert(key, v);
    }
    Ok(Value::Object(out))
}

fn group_by(ev: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let a = Args::new(name, args);
    let items = a.array(0)?;
    let key_fn = lambda_arg(&a, 1, 1, 1)?;
    let value_fn = if args.len() > 2 {
        Some(lambda_arg(&a, 2, 1, 1)?)
    } else {
        None
    };
    let mut groups: IndexMap<String, Vec<Value>> = IndexMap::new();
    let mut budget = MAX_NODES;
    for item in items {
        let Some(key) = key_of(ev, name, key_fn, item)? else {
            return Ok(deferred(name, args));
        };
        let v = value_of(ev, name, value_fn, item)?;
        let n = count_nodes(name, &v, budget)?;
        budget = budget.checked_sub(n).ok_or_else(|| too_large(name))?;
        groups.entry(key).or_default().push(v);
    }
    Ok(Value::Object(
        groups
            .into_iter()
            .map(|(k, v)| (k, Value::Array(v)))
            .collect(),
    ))
}

fn map_values(ev: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let a = Args::new(name, args);
    let o = a.object(0)?;
    let l = lambda_arg(&a, 1, 1, 1)?;
    let mut out = Object::with_capacity(o.len());
    let mut budget = MAX_NODES;
    for (k, v) in o {
        let v = call(ev, name, l, vec![v.clone()])?;
        let n = count_nodes(name, &v, budget)?;
        budget = budget.checked_sub(n).ok_or_else(|| too_large(name))?;
        out.insert(k.clone(), v);
    }
    Ok(Value::Object(out))
}
