//! Array functions: `array`, `concat`, `contains`, `createArray`, `empty`, `first`, `last`,
//! `flatten`, `indexOf`, `lastIndexOf`, `indexFromEnd`, `tryIndexFromEnd`, `intersection`,
//! `length`, `range`, `skip`, `take`, `union`.
//!
//! Strings are measured and cut in UTF-16 code units, as .NET does, so `length()` and the
//! indexes `indexOf()` returns match Azure's for text outside the Basic Multilingual Plane.
//! Every function that can grow a value checks the result against [`MAX_NODES`] and
//! [`MAX_DEPTH`]: ARM keeps templates small, and a fuzzed or hostile template must fail cleanly
//! rather than exhaust memory.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use super::{Args, FnDef, FnError};
use crate::eval::Evaluator;
use crate::value::{Deferred, Object, Value, get_ci, insert_ci, render_literal};

/// The array functions.
pub const FUNCTIONS: &[FnDef] = &[
    FnDef::new("array", array, 1, Some(1)).structural(),
    FnDef::new("concat", concat, 1, None).structural(),
    FnDef::new("contains", contains, 2, Some(2)),
    FnDef::new("createArray", create_array, 0, None).structural(),
    FnDef::new("empty", empty, 1, Some(1)).structural(),
    FnDef::new("first", first, 1, Some(1)).structural(),
    FnDef::new("last", last, 1, Some(1)).structural(),
    FnDef::new("flatten", flatten, 1, Some(1)).structural(),
    FnDef::new("indexOf", index_of, 2, Some(2)),
    FnDef::new("lastIndexOf", last_index_of, 2, Some(2)),
    FnDef::new("indexFromEnd", index_from_end, 2, Some(2)).structural(),
    FnDef::new("tryIndexFromEnd", try_index_from_end, 2, Some(2)).structural(),
    FnDef::new("intersection", intersection, 2, None),
    FnDef::new("length", length, 1, Some(1)).structural(),
    FnDef::new("range", range, 2, Some(2)),
    FnDef::new("skip", skip, 2, Some(2)).structural(),
    FnDef::new("take", take, 2, Some(2)).structural(),
    FnDef::new("union", union, 2, None).structural(),
];

/// Most values (array items, object properties and scalars, counted recursively) one
/// function result may hold.
pub const MAX_NODES: usize = 1_000_000;

/// Deepest nesting of arrays and objects a function result may have (the JSON reader's limit).
pub const MAX_DEPTH: usize = 512;

/// Longest string, in bytes, `concat` may build.
pub const MAX_STRING_BYTES: usize = 8 * 1024 * 1024;

/// `range()`'s documented limit on its count.
const MAX_RANGE_COUNT: i64 = 10_000;

/// Counts the values in `v` (itself included), stopping once `limit` is passed; errors when
/// the nesting is deeper than [`MAX_DEPTH`]. Iterative, so deep values cannot overflow the stack.
pub(crate) fn count_nodes(name: &str, v: &Value, limit: usize) -> Result<usize, FnError> {
    let mut stack: Vec<(&Value, usize)> = vec![(v, 0)];
    let mut count = 0usize;
    while let Some((v, depth)) = stack.pop() {
        count += 1;
        if count > limit {
            break;
        }
        if depth > MAX_DEPTH {
            return Err(FnError::call(
                name,
                format!("the result is nested more than {MAX_DEPTH} levels deep."),
            ));
        }
        match v {
            Value::Array(a) => stack.extend(a.iter().map(|x| (x, depth + 1))),
            Value::Object(o) => stack.extend(o.values().map(|x| (x, depth + 1))),
            _ => {}
        }
    }
    Ok(count)
}

/// Fails when a result holds more than [`MAX_NODES`] values or nests too deeply.
pub(crate) fn check_size(name: &str, v: &Value) -> Result<(), FnError> {
    if count_nodes(name, v, MAX_NODES)? > MAX_NODES {
        return Err(too_large(name));
    }
    Ok(())
}

/// The error for a result over [`MAX_NODES`].
pub(crate) fn too_large(name: &str) -> FnError {
    FnError::call(name, format!("the result would hold more than {MAX_NODES} values."))
}

/// A deferred call `name(args...)`, for results that depend on values known only at
/// deployment time.
pub(crate) fn deferred_call(name: &str, args: &[Value]) -> Value {
    let parts: Vec<String> = args.iter().map(render_literal).collect();
    Value::Deferred(Deferred { expr: format!("{name}({})", parts.join(", ")) })
}

/// Length of a string in UTF-16 code units, as .NET counts it.
pub(crate) fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

/// The UTF-16 code units `start..end` of `s` (clamped); a surrogate pair cut in half becomes
/// U+FFFD, the closest a Rust string can get to .NET's lone surrogate.
pub(crate) fn utf16_slice(s: &str, start: usize, end: usize) -> String {
    let units: Vec<u16> = s.encode_utf16().collect();
    let end = end.min(units.len());
    let start = start.min(end);
    String::from_utf16_lossy(&units[start..end])
}

fn array(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    match Args::new(name, args).any(0)? {
        Value::Array(a) => Ok(Value::Array(a.clone())),
        Value::Lambda(_) => Err(Args::new(name, args).type_error(0, "Int, String, Array or Object")),
        other => Ok(Value::Array(vec![other.clone()])),
    }
}

fn concat(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let arrays = args.iter().filter(|v| matches!(v, Value::Array(_))).count();
    if arrays == args.len() {
        let total: usize = args.iter().filter_map(Value::as_array).map(Vec::len).sum();
        if total > MAX_NODES {
            return Err(too_large(name));
        }
        let out = Value::Array(args.iter().filter_map(Value::as_array).flatten().cloned().collect());
        check_size(name, &out)?;
        return Ok(out);
    }
    if arrays > 0 {
        return Err(FnError::new(format!(
            "The provided parameters for language function '{name}' are invalid. Either all or none of the parameters must be an array. Please see https://aka.ms/arm-template-expressions/#concat for usage details."
        )));
    }
    let mut out = String::new();
    for (i, v) in args.iter().enumerate() {
        match v {
            Value::String(s) => out.push_str(s),
            Value::Int(n) => out.push_str(&n.to_string()),
            Value::Float(f) => out.push_str(&f.to_string()),
            // .NET renders booleans capitalised when converting them to text.
            Value::Bool(b) => out.push_str(if *b { "True" } else { "False" }),
            Value::Null => {}
            _ => return Err(Args::new(name, args).type_error(i, "String or Array")),
        }
        if out.len() > MAX_STRING_BYTES {
            return Err(FnError::call(
                name,
                format!("the result would be longer than {MAX_STRING_BYTES} bytes."),
            ));
        }
    }
    Ok(Value::String(out))
}

fn contains(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let a = Args::new(name, args);
    let item = a.any(1)?;
    let found = match a.any(0)? {
        Value::Array(items) => items.iter().any(|x| x.arm_equals(item)),
        Value::String(s) => s.contains(search_text(&a, item)?.as_str()),
        Value::Object(o) => get_ci(o, &search_text(&a, item)?).is_some(),
        _ => return Err(a.type_error(0, "Array, Object or String")),
    };
    Ok(Value::Bool(found))
}

/// The text to look for in a string or among object keys: strings as they are, integers in
/// decimal (ARM accepts both).
fn search_text(a: &Args<'_>, item: &Value) -> Result<String, FnError> {
    match item {
        Value::String(s) => Ok(s.clone()),
        Value::Int(n) => Ok(n.to_string()),
        _ => Err(a.type_error(1, "String or Integer")),
    }
}

fn create_array(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    if let Some(i) = args.iter().position(|v| matches!(v, Value::Lambda(_))) {
        return Err(Args::new(name, args).type_error(i, "String, Integer, Boolean, Array or Object"));
    }
    let out = Value::Array(args.to_vec());
    check_size(name, &out)?;
    Ok(out)
}

fn empty(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let a = Args::new(name, args);
    let is_empty = match a.any(0)? {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(v) => v.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => return Err(a.type_error(0, "Array, Object or String")),
    };
    Ok(Value::Bool(is_empty))
}

fn first(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let a = Args::new(name, args);
    match a.any(0)? {
        // An empty array gives null rather than an error, as in ARM.
        Value::Array(v) => Ok(v.first().cloned().unwrap_or(Value::Null)),
        Value::String(s) => Ok(Value::String(utf16_slice(s, 0, 1))),
        _ => Err(a.type_error(0, "Array or String")),
    }
}

fn last(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let a = Args::new(name, args);
    match a.any(0)? {
        Value::Array(v) => Ok(v.last().cloned().unwrap_or(Value::Null)),
        Value::String(s) => {
            let n = utf16_len(s);
            Ok(Value::String(utf16_slice(s, n.saturating_sub(1), n)))
        }
        _ => Err(a.type_error(0, "Array or String")),
    }
}

fn flatten(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let a = Args::new(name, args);
    let outer = a.array(0)?;
    let mut out = Vec::new();
    for (i, item) in outer.iter().enumerate() {
        match item {
            Value::Array(inner) => out.extend(inner.iter().cloned()),
            Value::Deferred(_) => return Ok(deferred_call(name, args)),
            other => {
                return Err(FnError::at(
                    0,
                    format!(
                        "Unable to evaluate template language function '{name}': every element of the array must be an array, but element {i} is of type '{}'.",
                        other.type_name()
                    ),
                ));
            }
        }
    }
    Ok(Value::Array(out))
}

/// Case-insensitive search for `needle` in `haystack`; returns the UTF-16 offsets of the
/// matches' starts (all of them, so callers can take the first or the last).
fn find_ci(haystack: &str, needle: &str) -> Vec<usize> {
    // Simple per-character lower-casing keeps one folded character per source character, so
    // offsets map back exactly.
    let fold = |c: char| {
        let mut lower = c.to_lowercase();
        match (lower.next(), lower.next()) {
            (Some(l), None) => l,
            _ => c,
        }
    };
    let mut hay: Vec<(char, usize)> = Vec::new();
    let mut offset = 0usize;
    for c in haystack.chars() {
        hay.push((fold(c), offset));
        offset += c.len_utf16();
    }
    let needle: Vec<char> = needle.chars().map(fold).collect();
    if needle.is_empty() {
        return vec![0, offset];
    }
    if needle.len() > hay.len() {
        return Vec::new();
    }
    (0..=hay.len() - needle.len())
        .filter(|&i| hay[i..i + needle.len()].iter().map(|(c, _)| *c).eq(needle.iter().copied()))
        .map(|i| hay[i].1)
        .collect()
}

fn to_int(name: &str, n: usize) -> Result<Value, FnError> {
    i64::try_from(n)
        .map(Value::Int)
        .map_err(|_| FnError::call(name, "the index does not fit in a 64-bit integer."))
}

fn index_search(name: &str, args: &[Value], last: bool) -> Result<Value, FnError> {
    let a = Args::new(name, args);
    let item = a.any(1)?;
    match a.any(0)? {
        Value::Array(items) => {
            let pos = if last {
                items.iter().rposition(|x| x.arm_equals(item))
            } else {
                items.iter().position(|x| x.arm_equals(item))
            };
            pos.map_or(Ok(Value::Int(-1)), |p| to_int(name, p))
        }
        Value::String(s) => {
            let needle = a.str(1)?;
            let hits = find_ci(s, needle);
            let hit = if last { hits.last() } else { hits.first() };
            hit.map_or(Ok(Value::Int(-1)), |p| to_int(name, *p))
        }
        _ => Err(a.type_error(0, "Array or String")),
    }
}

fn index_of(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    index_search(name, args, false)
}

fn last_index_of(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    index_search(name, args, true)
}

/// The element `from_end` places from the end (1 is the last); `None` when out of range.
/// A count below 1 is an argument error in both `indexFromEnd` and `tryIndexFromEnd`.
pub(crate) fn element_from_end<'v>(
    name: &str,
    items: &'v [Value],
    from_end: i64,
    arg: usize,
) -> Result<Option<&'v Value>, FnError> {
    if from_end < 1 {
        return Err(FnError::at(
            arg,
            format!(
                "Unable to evaluate template language function '{name}': the index from the end must be 1 or more, but was {from_end}."
            ),
        ));
    }
    let back = usize::try_from(from_end).unwrap_or(usize::MAX);
    Ok(items.len().checked_sub(back).and_then(|i| items.get(i)))
}

fn index_from_end(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let a = Args::new(name, args);
    let items = a.array(0)?;
    let n = a.int(1)?;
    element_from_end(name, items, n, 1)?.cloned().ok_or_else(|| {
        FnError::at(
            1,
            format!(
                "Unable to evaluate template language function '{name}': the index from the end {n} is out of range for an array of length {}.",
                items.len()
            ),
        )
    })
}

fn try_index_from_end(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let a = Args::new(name, args);
    let items = a.array(0)?;
    Ok(element_from_end(name, items, a.int(1)?, 1)?.cloned().unwrap_or(Value::Null))
}

fn intersection(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let a = Args::new(name, args);
    match a.any(0)? {
        Value::Array(first) => {
            let others = (1..args.len()).map(|i| a.array(i)).collect::<Result<Vec<_>, _>>()?;
            let mut out: Vec<Value> = Vec::new();
            for item in first {
                let everywhere = others.iter().all(|o| o.iter().any(|x| x.arm_equals(item)));
                if everywhere && !out.iter().any(|x| x.arm_equals(item)) {
                    out.push(item.clone());
                }
            }
            Ok(Value::Array(out))
        }
        Value::Object(first) => {
            let others = (1..args.len()).map(|i| a.object(i)).collect::<Result<Vec<_>, _>>()?;
            let out: Object = first
                .iter()
                .filter(|(k, v)| others.iter().all(|o| get_ci(o, k).is_some_and(|w| v.arm_equals(w))))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            Ok(Value::Object(out))
        }
        _ => Err(a.type_error(0, "Array or Object")),
    }
}

fn length(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let a = Args::new(name, args);
    let n = match a.any(0)? {
        Value::String(s) => utf16_len(s),
        Value::Array(v) => v.len(),
        Value::Object(o) => o.len(),
        _ => return Err(a.type_error(0, "Array, Object or String")),
    };
    to_int(name, n)
}

fn range(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let a = Args::new(name, args);
    let start = a.int(0)?;
    let count = a.int(1)?;
    if !(0..=MAX_RANGE_COUNT).contains(&count) {
        return Err(FnError::at(
            1,
            format!(
                "Unable to evaluate template language function '{name}': the count must be a non-negative integer no greater than {MAX_RANGE_COUNT}, but was {count}."
            ),
        ));
    }
    // Documented limit: startIndex + count must not pass Int32.MaxValue.
    if start.checked_add(count).is_none_or(|end| end > i64::from(i32::MAX)) {
        return Err(FnError::at(
            0,
            format!(
                "Unable to evaluate template language function '{name}': the sum of the start index {start} and the count {count} must be no greater than {}.",
                i32::MAX
            ),
        ));
    }
    Ok(Value::Array((start..start + count).map(Value::Int).collect()))
}

/// `skip`/`take`'s count as a length: negative counts clamp to zero.
fn clamp_count(n: i64) -> usize {
    usize::try_from(n.max(0)).unwrap_or(usize::MAX)
}

fn skip(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let a = Args::new(name, args);
    let n = clamp_count(a.int(1)?);
    match a.any(0)? {
        Value::Array(v) => Ok(Value::Array(v.iter().skip(n).cloned().collect())),
        Value::String(s) => Ok(Value::String(utf16_slice(s, n, usize::MAX))),
        _ => Err(a.type_error(0, "Array or String")),
    }
}

fn take(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let a = Args::new(name, args);
    let n = clamp_count(a.int(1)?);
    match a.any(0)? {
        Value::Array(v) => Ok(Value::Array(v.iter().take(n).cloned().collect())),
        Value::String(s) => Ok(Value::String(utf16_slice(s, 0, n))),
        _ => Err(a.type_error(0, "Array or String")),
    }
}

/// Merges `from` into `into` the way `union` does for objects: later values win, objects
/// nested on both sides merge recursively, anything else (arrays included) is replaced.
fn deep_merge(into: &mut Object, from: &Object, depth: usize) {
    for (k, v) in from {
        let merged = match (get_ci(into, k), v) {
            (Some(Value::Object(old)), Value::Object(new)) if depth < MAX_DEPTH => {
                let mut old = old.clone();
                deep_merge(&mut old, new, depth + 1);
                Value::Object(old)
            }
            // A deferred side may turn out to be an object that ARM would merge, so the
            // merged property is only known at deployment time.
            (Some(old @ Value::Object(_)), new @ Value::Deferred(_))
            | (Some(old @ Value::Deferred(_)), new @ Value::Object(_)) => {
                deferred_call("union", &[old.clone(), new.clone()])
            }
            _ => v.clone(),
        };
        insert_ci(into, k.clone(), merged);
    }
}

fn union(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let a = Args::new(name, args);
    let out = match a.any(0)? {
        Value::Array(_) => {
            let mut out: Vec<Value> = Vec::new();
            for i in 0..args.len() {
                for item in a.array(i)? {
                    if !out.iter().any(|x| x.arm_equals(item)) {
                        out.push(item.clone());
                    }
                }
            }
            Value::Array(out)
        }
        Value::Object(_) => {
            let mut out = Object::new();
            for i in 0..args.len() {
                deep_merge(&mut out, a.object(i)?, 0);
            }
            Value::Object(out)
        }
        _ => return Err(a.type_error(0, "Array or Object")),
    };
    check_size(name, &out)?;
    Ok(out)
}
