//! The template function library: one module per family of ARM's documentation, one table
//! merged at first use.
//!
//! A function is a [`FnDef`]: its canonical name, arity and a plain `fn` that gets the evaluator
//! (for scope, lambdas and the resolver) and its already-evaluated arguments. Deferred arguments
//! never reach a function unless it says it can carry them (`structural`: it only moves values
//! around, like `createArray`) or handle them (`handles_deferred`).

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use crate::eval::Evaluator;
use crate::value::{Lambda, Object, Value};

pub mod array;
pub mod cidr;
pub mod comparison;
pub mod date;
pub mod deployment;
pub mod lambda;
pub mod logical;
pub mod numeric;
pub mod object;
pub mod resource;
pub mod string;

/// A built-in function body: `(evaluator, name as called, arguments)`.
pub type Builtin = fn(&mut Evaluator<'_>, &str, &[Value]) -> Result<Value, FnError>;

/// A built-in template function.
#[derive(Clone, Copy)]
pub struct FnDef {
    /// Canonical name as documented (`createArray`).
    pub name: &'static str,
    /// The body.
    pub f: Builtin,
    /// Fewest arguments.
    pub min_args: usize,
    /// Most arguments; `None` for variadic.
    pub max_args: Option<usize>,
    /// Moves values without looking inside them, so nested deferred values may pass through.
    pub structural: bool,
    /// Receives deferred arguments itself (even at top level).
    pub handles_deferred: bool,
}

impl FnDef {
    /// A function taking between `min` and `max` arguments (`None`: no upper bound).
    pub const fn new(name: &'static str, f: Builtin, min: usize, max: Option<usize>) -> FnDef {
        FnDef {
            name,
            f,
            min_args: min,
            max_args: max,
            structural: false,
            handles_deferred: false,
        }
    }

    /// Marks the function as structural (see the module docs).
    pub const fn structural(mut self) -> FnDef {
        self.structural = true;
        self
    }

    /// Marks the function as handling deferred arguments itself.
    pub const fn handles_deferred(mut self) -> FnDef {
        self.handles_deferred = true;
        self
    }
}

/// A function failure; `arg` points at the argument to blame, for the error position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FnError {
    /// ARM-style message.
    pub message: String,
    /// Index of the argument at fault.
    pub arg: Option<usize>,
}

impl FnError {
    /// An error about the call as a whole.
    pub fn new(message: impl Into<String>) -> FnError {
        FnError {
            message: message.into(),
            arg: None,
        }
    }

    /// An error about one argument.
    pub fn at(arg: usize, message: impl Into<String>) -> FnError {
        FnError {
            message: message.into(),
            arg: Some(arg),
        }
    }

    /// "Unable to evaluate template language function 'name': detail".
    pub fn call(name: &str, detail: impl std::fmt::Display) -> FnError {
        FnError::new(format!(
            "Unable to evaluate template language function '{name}': {detail}"
        ))
    }
}

fn all_tables() -> [&'static [FnDef]; 11] {
    [
        array::FUNCTIONS,
        cidr::FUNCTIONS,
        comparison::FUNCTIONS,
        date::FUNCTIONS,
        deployment::FUNCTIONS,
        lambda::FUNCTIONS,
        logical::FUNCTIONS,
        numeric::FUNCTIONS,
        object::FUNCTIONS,
        resource::FUNCTIONS,
        string::FUNCTIONS,
    ]
}

static TABLE: LazyLock<HashMap<String, &'static FnDef>> = LazyLock::new(|| {
    let mut m = HashMap::new();
    for table in all_tables() {
        for def in table {
            m.insert(def.name.to_ascii_lowercase(), def);
        }
    }
    m
});

/// Finds a built-in function by lower-cased name.
pub fn lookup(lower_name: &str) -> Option<&'static FnDef> {
    TABLE.get(lower_name).copied()
}

/// Every built-in function's canonical name (for docs and tests).
pub fn names() -> Vec<&'static str> {
    let mut v: Vec<&str> = all_tables()
        .iter()
        .flat_map(|t| t.iter().map(|d| d.name))
        .collect();
    v.sort_unstable();
    v
}

/// The error ARM gives for `utcNow()` or `newGuid()` outside a parameter default value.
pub fn only_in_parameter_defaults(ev: &Evaluator<'_>, name: &str) -> Result<(), FnError> {
    if ev.scope.allows_nondeterministic() {
        Ok(())
    } else {
        Err(FnError::new(format!(
            "The template function '{name}' is not expected at this location. The function can only be used in a parameter default value. Please see https://aka.ms/arm-functions for usage details."
        )))
    }
}

/// The call itself as a deferred value, for arguments only a deployment knows.
pub fn deferred_call(name: &str, args: &[Value]) -> Value {
    let parts: Vec<String> = args.iter().map(crate::value::render_literal).collect();
    Value::Deferred(crate::value::Deferred {
        expr: format!("{name}({})", parts.join(", ")),
    })
}

const ORDINALS: [&str; 10] = [
    "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
];

/// "first", "second"... for argument positions in messages.
pub fn ordinal(i: usize) -> String {
    ORDINALS
        .get(i)
        .map_or_else(|| format!("{}th", i + 1), |s| (*s).to_owned())
}

/// Typed access to a function's arguments with ARM-style errors.
pub struct Args<'a> {
    /// Function name as called.
    pub name: &'a str,
    /// Evaluated arguments.
    pub values: &'a [Value],
}

impl<'a> Args<'a> {
    /// Wraps arguments.
    pub fn new(name: &'a str, values: &'a [Value]) -> Self {
        Args { name, values }
    }

    /// Number of arguments.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True with no arguments.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Argument `i` of any type.
    pub fn any(&self, i: usize) -> Result<&'a Value, FnError> {
        self.values.get(i).ok_or_else(|| {
            FnError::call(
                self.name,
                format!("the {} argument is missing.", ordinal(i)),
            )
        })
    }

    /// The type error for argument `i`.
    pub fn type_error(&self, i: usize, expected: &str) -> FnError {
        let got = self.values.get(i).map_or("none", Value::type_name);
        FnError::at(
            i,
            format!(
                "The template language function '{}' expects its {} parameter to be of type '{expected}'. The provided value is of type '{got}'. Please see https://aka.ms/arm-functions for usage details.",
                self.name,
                ordinal(i)
            ),
        )
    }

    /// Argument `i` as a string.
    pub fn str(&self, i: usize) -> Result<&'a str, FnError> {
        match self.any(i)? {
            Value::String(s) => Ok(s),
            _ => Err(self.type_error(i, "String")),
        }
    }

    /// Argument `i` as an integer.
    pub fn int(&self, i: usize) -> Result<i64, FnError> {
        match self.any(i)? {
            Value::Int(n) => Ok(*n),
            _ => Err(self.type_error(i, "Integer")),
        }
    }

    /// Argument `i` as a boolean.
    pub fn bool(&self, i: usize) -> Result<bool, FnError> {
        match self.any(i)? {
            Value::Bool(b) => Ok(*b),
            _ => Err(self.type_error(i, "Boolean")),
        }
    }

    /// Argument `i` as an array.
    pub fn array(&self, i: usize) -> Result<&'a Vec<Value>, FnError> {
        match self.any(i)? {
            Value::Array(a) => Ok(a),
            _ => Err(self.type_error(i, "Array")),
        }
    }

    /// Argument `i` as an object.
    pub fn object(&self, i: usize) -> Result<&'a Object, FnError> {
        match self.any(i)? {
            Value::Object(o) => Ok(o),
            _ => Err(self.type_error(i, "Object")),
        }
    }

    /// Argument `i` as a lambda.
    pub fn lambda(&self, i: usize) -> Result<&'a Arc<Lambda>, FnError> {
        match self.any(i)? {
            Value::Lambda(l) => Ok(l),
            _ => Err(self.type_error(i, "Lambda")),
        }
    }

    /// Optional argument `i` as a string.
    pub fn opt_str(&self, i: usize) -> Result<Option<&'a str>, FnError> {
        if i < self.values.len() {
            self.str(i).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Optional argument `i` as an integer.
    pub fn opt_int(&self, i: usize) -> Result<Option<i64>, FnError> {
        if i < self.values.len() {
            self.int(i).map(Some)
        } else {
            Ok(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_names_are_unique_across_families() {
        let names = names();
        let mut lower: Vec<String> = names.iter().map(|n| n.to_ascii_lowercase()).collect();
        lower.sort();
        let before = lower.len();
        lower.dedup();
        assert_eq!(before, lower.len(), "a function is defined in two families");
    }
}
