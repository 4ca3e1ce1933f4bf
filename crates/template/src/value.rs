//! The values ARM expressions compute with.
//!
//! ARM values are JSON values with three twists: integers are 64-bit and distinct from floats,
//! object property names compare case-insensitively, and during offline planning a value may be
//! unknown until the deployment runs ([`Value::Deferred`]). Lambdas are values too, but only as
//! arguments to the lambda functions.

use std::fmt;
use std::sync::Arc;

use indexmap::IndexMap;

use crate::expr::Expr;

/// An ARM object: insertion-ordered, keys compared case-insensitively on lookup.
pub type Object = IndexMap<String, Value>;

/// A value produced by evaluating an ARM expression or reading template JSON.
#[derive(Clone, Debug)]
pub enum Value {
    /// JSON `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A 64-bit integer, the only number type ARM templates declare.
    Int(i64),
    /// A floating-point number (from `json()`, `float()` or a template literal).
    Float(f64),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Value>),
    /// An object.
    Object(Object),
    /// A value known only once the deployment runs (`reference()`, `list*()`...).
    Deferred(Deferred),
    /// A lambda, as passed to `map`, `filter` and the other lambda functions.
    Lambda(Arc<Lambda>),
}

/// A value that cannot be computed offline, with the expression that will compute it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deferred {
    /// The expression (without brackets), with every argument known offline already substituted.
    pub expr: String,
}

/// A lambda: parameter names, body, and the lambda variables it closed over.
#[derive(Debug)]
pub struct Lambda {
    /// Parameter names in declaration order.
    pub params: Vec<String>,
    /// The body expression.
    pub body: Expr,
    /// Lambda variables visible where the lambda was written (for nested lambdas).
    pub captured: Vec<(String, Value)>,
}

impl Value {
    /// The ARM type name used in error messages (`String`, `Integer`, `Object`...).
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "Null",
            Value::Bool(_) => "Boolean",
            Value::Int(_) => "Integer",
            Value::Float(_) => "Float",
            Value::String(_) => "String",
            Value::Array(_) => "Array",
            Value::Object(_) => "Object",
            Value::Deferred(_) => "Deferred",
            Value::Lambda(_) => "Lambda",
        }
    }

    /// Wraps a string.
    pub fn str(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    /// The string inside, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The integer inside, if this is an integer.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The boolean inside, if this is a boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The array inside, if this is an array.
    pub fn as_array(&self) -> Option<&Vec<Value>> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The object inside, if this is an object.
    pub fn as_object(&self) -> Option<&Object> {
        match self {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }

    /// True for `Null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// True when this value or anything inside it is deferred.
    pub fn contains_deferred(&self) -> bool {
        match self {
            Value::Deferred(_) => true,
            Value::Array(a) => a.iter().any(Value::contains_deferred),
            Value::Object(o) => o.values().any(Value::contains_deferred),
            _ => false,
        }
    }

    /// Looks up an object property the way ARM does: exact match first, then case-insensitive.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_object().and_then(|o| get_ci(o, key))
    }

    /// Converts from `serde_json`, keeping integers as integers.
    pub fn from_json(v: serde_json::Value) -> Value {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(b),
            serde_json::Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Value::Int(i)
                } else if let Some(u) = n.as_u64() {
                    Value::Float(u as f64)
                } else {
                    Value::Float(n.as_f64().unwrap_or(0.0))
                }
            }
            serde_json::Value::String(s) => Value::String(s),
            serde_json::Value::Array(a) => {
                Value::Array(a.into_iter().map(Value::from_json).collect())
            }
            serde_json::Value::Object(o) => Value::Object(
                o.into_iter()
                    .map(|(k, v)| (k, Value::from_json(v)))
                    .collect(),
            ),
        }
    }

    /// Converts to `serde_json`. Deferred values become the string `"[expr]"`, the way Azure's
    /// what-if shows values it cannot evaluate; lambdas become `null`.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null | Value::Lambda(_) => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Int(i) => serde_json::Value::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::Array(a) => serde_json::Value::Array(a.iter().map(Value::to_json).collect()),
            Value::Object(o) => {
                serde_json::Value::Object(o.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
            }
            Value::Deferred(d) => serde_json::Value::String(format!("[{}]", d.expr)),
        }
    }

    /// Compact JSON text, as `string()` prints objects and arrays (Newtonsoft.Json's rules).
    pub fn to_json_string(&self) -> String {
        crate::netfmt::json_text(self, '"')
    }

    /// Deep equality as `equals()` defines it: case-sensitive strings, case-insensitive keys,
    /// `1` and `1.0` not equal (different types).
    pub fn arm_equals(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Float(a), Value::Float(b)) => a == b,
            (Value::String(a), Value::String(b)) => a == b,
            (Value::Array(a), Value::Array(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.arm_equals(y))
            }
            (Value::Object(a), Value::Object(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .all(|(k, v)| get_ci(b, k).is_some_and(|w| v.arm_equals(w)))
            }
            (Value::Deferred(a), Value::Deferred(b)) => a == b,
            _ => false,
        }
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        self.arm_equals(other)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Int(i)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl fmt::Display for Value {
    /// Renders a value the way ARM interpolates it into a string: strings raw, other values as
    /// compact JSON.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::String(s) => f.write_str(s),
            Value::Deferred(d) => write!(f, "[{}]", d.expr),
            other => f.write_str(&other.to_json_string()),
        }
    }
}

/// Case-insensitive object lookup: exact key first (cheap), then ASCII case-insensitive.
pub fn get_ci<'a>(o: &'a Object, key: &str) -> Option<&'a Value> {
    o.get(key).or_else(|| {
        o.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// The key as stored in the object, matched case-insensitively.
pub fn key_ci<'a>(o: &'a Object, key: &str) -> Option<&'a str> {
    if o.contains_key(key) {
        return o.get_key_value(key).map(|(k, _)| k.as_str());
    }
    o.keys()
        .find(|k| k.eq_ignore_ascii_case(key))
        .map(String::as_str)
}

/// Inserts or replaces a property, replacing an existing key that differs only by case.
pub fn insert_ci(o: &mut Object, key: String, value: Value) {
    if let Some(existing) = key_ci(o, &key).map(str::to_owned) {
        o.insert(existing, value);
    } else {
        o.insert(key, value);
    }
}

/// Renders a value as an ARM expression literal (used to print deferred expressions).
pub fn render_literal(v: &Value) -> String {
    match v {
        Value::Null => "null()".into(),
        Value::Lambda(l) => {
            let mut parts: Vec<String> = l
                .params
                .iter()
                .map(|p| format!("'{}'", p.replace('\'', "''")))
                .collect();
            parts.push(l.body.to_string());
            format!("lambda({})", parts.join(", "))
        }
        Value::Bool(true) => "true()".into(),
        Value::Bool(false) => "false()".into(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => format!("json('{f}')"),
        Value::String(s) => format!("'{}'", s.replace('\'', "''")),
        // Containers holding deferred values print as calls, so the expression stays valid.
        Value::Array(a) if v.contains_deferred() => {
            let parts: Vec<String> = a.iter().map(render_literal).collect();
            format!("createArray({})", parts.join(", "))
        }
        Value::Object(o) if v.contains_deferred() => {
            let parts: Vec<String> = o
                .iter()
                .map(|(k, x)| format!("'{}', {}", k.replace('\'', "''"), render_literal(x)))
                .collect();
            format!("createObject({})", parts.join(", "))
        }
        Value::Array(_) | Value::Object(_) => {
            format!("json('{}')", v.to_json_string().replace('\'', "''"))
        }
        Value::Deferred(d) => d.expr.clone(),
    }
}
