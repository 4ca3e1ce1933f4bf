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
use crate::value::{Deferred, Object, Value, get_ci, render_literal};

/// The array functions.
pub const FUNCTIONS: &[FnDef] = &[
    FnDef::new("array", array, 1, Some(1)).structural(),
    FnDef::new("concat", concat, 1, None).structural(),
    FnDef::new("contains", contains, 2, Some(2)),
    FnDef::new("createArray", create_array, 0, None)
        .structural()
        .handles_deferred(),
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
    FnDef::new("distinct", distinct, 1, Some(1)).structural(),
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
    FnError::call(
        name,
        format!("the result would hold more than {MAX_NODES} values."),
    )
}

/// A deferred call `name(args...)`, for results that depend on values known only at
/// deployment time.
pub(crate) fn deferred_call(name: &str, args: &[Value]) -> Value {
    let parts: Vec<String> = args.iter().map(render_literal).collect();
    Value::Deferred(Deferred {
        expr: format!("{name}({})", parts.join(", ")),
    })
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

/// Feeds a value into a hasher consistently with [`Value::arm_equals`]: equal values hash
/// equally (object keys are folded and sorted, `-0.0` counts as `0.0`). Deep levels are cut
/// off, which only makes hashes coarser.
fn hash_value(v: &Value, h: &mut DefaultHasher, depth: usize) {
    std::mem::discriminant(v).hash(h);
    if depth > 32 {
        return;
    }
    match v {
        Value::Null | Value::Lambda(_) => {}
        Value::Bool(b) => b.hash(h),
        Value::Int(i) => i.hash(h),
        Value::Float(f) => (if *f == 0.0 { 0.0f64 } else { *f }).to_bits().hash(h),
        Value::String(s) => s.hash(h),
        Value::Deferred(d) => d.expr.hash(h),
        Value::Array(a) => {
            a.len().hash(h);
            for x in a {
                hash_value(x, h, depth + 1);
            }
        }
        Value::Object(o) => {
            o.len().hash(h);
            let mut entries: Vec<(String, &Value)> =
                o.iter().map(|(k, v)| (k.to_ascii_lowercase(), v)).collect();
            entries.sort_by(|x, y| x.0.cmp(&y.0));
            for (k, x) in entries {
                k.hash(h);
                hash_value(x, h, depth + 1);
            }
        }
    }
}

/// A set of values under [`Value::arm_equals`], so de-duplicating stays fast on big arrays.
#[derive(Default)]
pub(crate) struct ValueSet<'a> {
    buckets: HashMap<u64, Vec<&'a Value>>,
}

impl<'a> ValueSet<'a> {
    fn key(v: &Value) -> u64 {
        let mut h = DefaultHasher::new();
        hash_value(v, &mut h, 0);
        h.finish()
    }

    /// True if an equal value is in the set.
    pub(crate) fn contains(&self, v: &Value) -> bool {
        self.buckets
            .get(&Self::key(v))
            .is_some_and(|b| b.iter().any(|x| x.arm_equals(v)))
    }

    /// Adds a value; false if an equal one was already there.
    pub(crate) fn insert(&mut self, v: &'a Value) -> bool {
        let bucket = self.buckets.entry(Self::key(v)).or_default();
        if bucket.iter().any(|x| x.arm_equals(v)) {
            return false;
        }
        bucket.push(v);
        true
    }
}

/// An object being built with ARM's case-insensitive property names: setting a property
/// whose name matches an existing one (exactly, else ignoring ASCII case) replaces its value
/// and keeps the existing spelling, like `value::insert_ci` but without scanning every key.
pub(crate) struct CiObject {
    /// The object.
    pub(crate) object: Object,
    folded: HashMap<String, String>,
}

impl CiObject {
    /// Starts from an existing object.
    pub(crate) fn from_object(object: Object) -> CiObject {
        let mut folded = HashMap::with_capacity(object.len());
        for k in object.keys() {
            folded
                .entry(k.to_ascii_lowercase())
                .or_insert_with(|| k.clone());
        }
        CiObject { object, folded }
    }

    /// The stored spelling of a property name, if present.
    pub(crate) fn key(&self, key: &str) -> Option<&str> {
        if let Some((k, _)) = self.object.get_key_value(key) {
            return Some(k);
        }
        self.folded
            .get(&key.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// The value of a property, if present.
    pub(crate) fn get(&self, key: &str) -> Option<&Value> {
        self.key(key).and_then(|k| self.object.get(k))
    }

    /// Sets a property (see the type docs).
    pub(crate) fn set(&mut self, key: &str, value: Value) {
        match self.key(key).map(str::to_owned) {
            Some(existing) => {
                self.object.insert(existing, value);
            }
            None => {
                self.folded.insert(key.to_ascii_lowercase(), key.to_owned());
                self.object.insert(key.to_owned(), value);
            }
        }
    }
}

fn array(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    match Args::new(name, args).any(0)? {
        Value::Array(a) => Ok(Value::Array(a.clone())),
        Value::Lambda(_) => {
            Err(Args::new(name, args).type_error(0, "Int, String, Array or Object"))
        }
        other => {
            let out = Value::Array(vec![other.clone()]);
            check_size(name, &out)?;
            Ok(out)
        }
    }
}

fn concat(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let arrays = args.iter().filter(|v| matches!(v, Value::Array(_))).count();
    if arrays == args.len() {
        let total: usize = args.iter().filter_map(Value::as_array).map(Vec::len).sum();
        if total > MAX_NODES {
            return Err(too_large(name));
        }
        let out = Value::Array(
            args.iter()
                .filter_map(Value::as_array)
                .flatten()
                .cloned()
                .collect(),
        );
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
        return Err(
            Args::new(name, args).type_error(i, "String, Integer, Boolean, Array or Object")
        );
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
    // Knuth-Morris-Pratt keeps long inputs linear: `failure[i]` is the length of the longest
    // proper prefix of `needle[..=i]` that is also its suffix.
    let mut failure = vec![0usize; needle.len()];
    let mut k = 0;
    for i in 1..needle.len() {
        while k > 0 && needle[i] != needle[k] {
            k = failure[k - 1];
        }
        if needle[i] == needle[k] {
            k += 1;
        }
        failure[i] = k;
    }
    let mut hits = Vec::new();
    let mut matched = 0;
    for (i, (c, _)) in hay.iter().enumerate() {
        while matched > 0 && *c != needle[matched] {
            matched = failure[matched - 1];
        }
        if *c == needle[matched] {
            matched += 1;
        }
        if matched == needle.len() {
            hits.push(hay[i + 1 - matched].1);
            matched = failure[matched - 1];
        }
    }
    hits
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
    Ok(element_from_end(name, items, a.int(1)?, 1)?
        .cloned()
        .unwrap_or(Value::Null))
}

fn intersection(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let a = Args::new(name, args);
    match a.any(0)? {
        Value::Array(first) => {
            let mut others = Vec::with_capacity(args.len());
            for i in 1..args.len() {
                let mut set = ValueSet::default();
                for x in a.array(i)? {
                    set.insert(x);
                }
                others.push(set);
            }
            let mut seen = ValueSet::default();
            let mut out: Vec<Value> = Vec::new();
            for item in first {
                if others.iter().all(|o| o.contains(item)) && seen.insert(item) {
                    out.push(item.clone());
                }
            }
            Ok(Value::Array(out))
        }
        Value::Object(first) => {
            let others = (1..args.len())
                .map(|i| a.object(i).map(|o| CiObject::from_object(o.clone())))
                .collect::<Result<Vec<_>, _>>()?;
            let out: Object = first
                .iter()
                .filter(|(k, v)| {
                    others
                        .iter()
                        .all(|o| o.get(k).is_some_and(|w| v.arm_equals(w)))
                })
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
    if start
        .checked_add(count)
        .is_none_or(|end| end > i64::from(i32::MAX))
    {
        return Err(FnError::at(
            0,
            format!(
                "Unable to evaluate template language function '{name}': the sum of the start index {start} and the count {count} must be no greater than {}.",
                i32::MAX
            ),
        ));
    }
    Ok(Value::Array(
        (start..start + count).map(Value::Int).collect(),
    ))
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
fn deep_merge(into: &mut CiObject, from: &Object, depth: usize) {
    for (k, v) in from {
        let merged = match (into.get(k), v) {
            (Some(Value::Object(old)), Value::Object(new)) if depth < MAX_DEPTH => {
                let mut old = CiObject::from_object(old.clone());
                deep_merge(&mut old, new, depth + 1);
                Value::Object(old.object)
            }
            // A deferred side may turn out to be an object that ARM would merge, so the
            // merged property is only known at deployment time.
            (Some(old @ Value::Object(_)), new @ Value::Deferred(_))
            | (Some(old @ Value::Deferred(_)), new @ Value::Object(_)) => {
                deferred_call("union", &[old.clone(), new.clone()])
            }
            _ => v.clone(),
        };
        into.set(k, merged);
    }
}

/// `distinct(array)`: the items without repeats, first occurrence kept, compared as `equals`.
fn distinct(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let items = Args::new(name, args).array(0)?;
    let mut out: Vec<Value> = Vec::with_capacity(items.len());
    for item in items {
        if !out.iter().any(|seen| seen.arm_equals(item)) {
            out.push(item.clone());
        }
    }
    Ok(Value::Array(out))
}

fn union(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let a = Args::new(name, args);
    let out = match a.any(0)? {
        Value::Array(_) => {
            let arrays = (0..args.len())
                .map(|i| a.array(i))
                .collect::<Result<Vec<_>, _>>()?;
            let mut seen = ValueSet::default();
            let mut out: Vec<Value> = Vec::new();
            for item in arrays.into_iter().flatten() {
                if seen.insert(item) {
                    out.push(item.clone());
                }
            }
            Value::Array(out)
        }
        Value::Object(_) => {
            let mut out = CiObject::from_object(Object::new());
            for i in 0..args.len() {
                deep_merge(&mut out, a.object(i)?, 0);
            }
            Value::Object(out.object)
        }
        _ => return Err(a.type_error(0, "Array or Object")),
    };
    check_size(name, &out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_ci_reports_overlapping_matches_in_utf16_units() {
        assert_eq!(find_ci("aaaa", "AA"), vec![0, 1, 2]);
        assert_eq!(find_ci("aaab", "aab"), vec![1]);
        assert_eq!(find_ci("😀abcABC", "bc"), vec![3, 6]);
        assert_eq!(find_ci("abc", "abcd"), Vec::<usize>::new());
        assert_eq!(find_ci("abc", ""), vec![0, 3]);
    }

    #[test]
    fn utf16_slices_replace_split_surrogate_pairs() {
        assert_eq!(utf16_slice("😀x", 0, 1), "\u{fffd}");
        assert_eq!(utf16_slice("😀x", 2, 99), "x");
        assert_eq!(utf16_slice("abc", 5, 2), "");
    }
}
