//! Evaluating expressions: the evaluator, the scope it asks for names, and evaluation errors.
//!
//! The evaluator knows the language (calls, property and index access, lambdas, user-defined
//! functions, deferred values); the function library lives in [`crate::functions`]; what the
//! names `parameters('x')`, `variables('y')` and `copyIndex()` mean is the [`Scope`]'s business,
//! which the template module implements for a whole deployment.

use std::sync::Arc;

use crate::context::{DeploymentContext, Resolver};
use crate::expr::{Expr, ExprKind, Span, TemplateString, parse_template_string};
use crate::functions::{self, FnError};
use crate::value::{Deferred, Lambda, Value, get_ci, render_literal};

/// An evaluation error, located inside the template string.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct EvalError {
    /// What went wrong, in ARM's words where ARM has them.
    pub message: String,
    /// Byte offset in the template string where the failing part starts.
    pub offset: usize,
}

/// A user-defined function from a template's `functions` section.
#[derive(Clone, Debug)]
pub struct UserFunction {
    /// Parameter names and declared types, in order.
    pub params: Vec<(String, String)>,
    /// Declared output type.
    pub output_type: String,
    /// Output value (a template value, usually an expression string).
    pub output: Value,
}

/// Answers the names an expression can ask for. Implemented by the template module for a
/// deployment and by [`SimpleScope`] for standalone expressions.
pub trait Scope {
    /// The deployment's context.
    fn context(&self) -> &DeploymentContext;

    /// The value of `parameters(name)`; `Err` carries ARM's message.
    fn parameter(&mut self, name: &str) -> Result<Value, String>;

    /// The value of `variables(name)`.
    fn variable(&mut self, name: &str) -> Result<Value, String>;

    /// `copyIndex()` (innermost loop) or `copyIndex('loop')`, without offset.
    fn copy_index(&self, loop_name: Option<&str>) -> Result<i64, String> {
        let _ = loop_name;
        Err(
            "The template function 'copyIndex' is not expected at this location. The function \
             can only be used in a resource, property or variable with a copy loop."
                .into(),
        )
    }

    /// A user-defined function.
    fn user_function(&self, namespace: &str, name: &str) -> Option<Arc<UserFunction>> {
        let _ = (namespace, name);
        None
    }

    /// The resolver for live values.
    fn resolver(&self) -> &dyn Resolver;

    /// The value `deployment()` returns.
    fn deployment(&self) -> Value {
        let mut props = crate::value::Object::new();
        props.insert("mode".into(), Value::str("Incremental"));
        props.insert("provisioningState".into(), Value::str("Accepted"));
        let mut o = crate::value::Object::new();
        o.insert("name".into(), Value::str(&self.context().deployment_name));
        o.insert("properties".into(), Value::Object(props));
        Value::Object(o)
    }

    /// Resolves `reference()` of something this deployment itself creates: a symbolic name
    /// (languageVersion 2.0) or the ID or name of a resource or nested deployment in the same
    /// template. `None` when the target is not local; `Some(Err)` for a local target that cannot
    /// be referenced. A known local value (a nested deployment's outputs) may be returned.
    fn local_reference(&mut self, target: &str, full: bool) -> Option<Result<Value, String>> {
        let _ = (target, full);
        None
    }

    /// True where `utcNow()` and `newGuid()` may run: ARM allows them only in parameter
    /// default values (a lone expression allows them too).
    fn allows_nondeterministic(&self) -> bool {
        true
    }

    /// A number that grows by one on every call within a deployment: `newGuid()` with a seeded
    /// context draws from it, so two calls never return the same GUID.
    fn next_sequence(&mut self) -> u64 {
        0
    }

    /// The full ID of a resource this deployment declares, from its symbolic name
    /// (languageVersion 2.0), plain name or relative ID; `None` if it declares no such resource.
    fn local_resource_id(&mut self, name: &str) -> Option<String> {
        let _ = name;
        None
    }

    /// A function the host adds to the language (Landfall's manifest adds `inputs()` and
    /// `stageOutputs()`), consulted only for names that are not built-in functions. `None`
    /// when the host has no such function; `Some(Err)` carries the message for a failed call.
    /// The arguments arrive evaluated.
    fn host_function(&mut self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        let _ = (name, args);
        None
    }
}

/// A scope for evaluating a lone expression: fixed parameters and variables, no copy loops.
pub struct SimpleScope<'r> {
    /// The context.
    pub context: DeploymentContext,
    /// Parameter values.
    pub parameters: crate::value::Object,
    /// Variable values (already evaluated).
    pub variables: crate::value::Object,
    /// The resolver.
    pub resolver: &'r dyn Resolver,
    sequence: u64,
}

impl<'r> SimpleScope<'r> {
    /// A scope with the given context and nothing else.
    pub fn new(context: DeploymentContext, resolver: &'r dyn Resolver) -> Self {
        SimpleScope {
            context,
            parameters: Default::default(),
            variables: Default::default(),
            resolver,
            sequence: 0,
        }
    }
}

impl Scope for SimpleScope<'_> {
    fn context(&self) -> &DeploymentContext {
        &self.context
    }

    fn parameter(&mut self, name: &str) -> Result<Value, String> {
        get_ci(&self.parameters, name).cloned().ok_or_else(|| {
            format!("The template parameter '{name}' is not found. Please see https://aka.ms/arm-syntax-parameters for usage details.")
        })
    }

    fn variable(&mut self, name: &str) -> Result<Value, String> {
        get_ci(&self.variables, name).cloned().ok_or_else(|| {
            format!("The template variable '{name}' is not found. Please see https://aka.ms/arm-syntax-variables for usage details.")
        })
    }

    fn resolver(&self) -> &dyn Resolver {
        self.resolver
    }

    fn next_sequence(&mut self) -> u64 {
        self.sequence += 1;
        self.sequence
    }
}

const MAX_DEPTH: usize = 200;
const MAX_LAMBDA_CALLS: u64 = 1_000_000;

/// Evaluates expressions against a scope.
pub struct Evaluator<'s> {
    pub(crate) scope: &'s mut dyn Scope,
    pub(crate) lambda_vars: Vec<(String, Value)>,
    pub(crate) fn_params: Option<Vec<(String, Value)>>,
    depth: usize,
    lambda_calls: u64,
}

impl<'s> Evaluator<'s> {
    /// An evaluator over `scope`.
    pub fn new(scope: &'s mut dyn Scope) -> Self {
        Evaluator {
            scope,
            lambda_vars: Vec::new(),
            fn_params: None,
            depth: 0,
            lambda_calls: 0,
        }
    }

    /// The scope.
    pub fn scope(&mut self) -> &mut dyn Scope {
        &mut *self.scope
    }

    /// The deployment context.
    pub fn context(&self) -> &DeploymentContext {
        self.scope.context()
    }

    /// Evaluates a template string: an expression if it is one, else the literal.
    pub fn eval_str(&mut self, s: &str) -> Result<Value, EvalError> {
        match parse_template_string(s) {
            Ok(TemplateString::Literal(l)) => Ok(Value::String(l.into_owned())),
            Ok(TemplateString::Expression(e)) => self.eval(&e),
            Err(e) => Err(EvalError {
                message: format!(
                    "The template language expression '{s}' is not valid: {}",
                    e.message
                ),
                offset: e.offset,
            }),
        }
    }

    /// Evaluates every expression string inside a template value (arrays and objects deeply).
    /// Property names are not evaluated, as in ARM.
    pub fn eval_value(&mut self, v: &Value) -> Result<Value, EvalError> {
        match v {
            Value::String(s) => self.eval_str(s),
            Value::Array(a) => a
                .iter()
                .map(|x| self.eval_value(x))
                .collect::<Result<_, _>>()
                .map(Value::Array),
            Value::Object(o) => {
                let mut out = crate::value::Object::with_capacity(o.len());
                for (k, x) in o {
                    out.insert(k.clone(), self.eval_value(x)?);
                }
                Ok(Value::Object(out))
            }
            other => Ok(other.clone()),
        }
    }

    /// Evaluates a parsed expression.
    pub fn eval(&mut self, e: &Expr) -> Result<Value, EvalError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            self.depth -= 1;
            return Err(EvalError {
                message:
                    "The template language expression is nested too deeply or recurses without end."
                        .into(),
                offset: e.span.start,
            });
        }
        let r = self.eval_inner(e);
        self.depth -= 1;
        r
    }

    fn eval_inner(&mut self, e: &Expr) -> Result<Value, EvalError> {
        match &e.kind {
            ExprKind::Str(s) => Ok(Value::String(s.clone())),
            ExprKind::Int(i) => Ok(Value::Int(*i)),
            ExprKind::Bool(b) => Ok(Value::Bool(*b)),
            ExprKind::Null => Ok(Value::Null),
            ExprKind::Property { base, name } => {
                let b = self.eval(base)?;
                access_property(&b, name).map_err(|message| EvalError {
                    message,
                    offset: e.span.start,
                })
            }
            ExprKind::Index { base, index } => {
                let b = self.eval(base)?;
                let i = self.eval(index)?;
                access_index(&b, &i).map_err(|message| EvalError {
                    message,
                    offset: index.span.start,
                })
            }
            ExprKind::Call {
                namespace: Some(ns),
                name,
                args,
            } => self.call_user(ns, name, args, e.span),
            ExprKind::Call {
                namespace: None,
                name,
                args,
            } => self.call(name, args, e.span),
        }
    }

    fn call(&mut self, name: &str, args: &[Expr], span: Span) -> Result<Value, EvalError> {
        let lower = name.to_ascii_lowercase();
        // Special forms: their arguments are evaluated lazily or not at all.
        match lower.as_str() {
            "if" => return self.call_if(args, span),
            "and" | "or" => return self.call_and_or(&lower, args, span),
            "lambda" => return self.make_lambda(args, span),
            _ => {}
        }
        let def = match functions::lookup(&lower) {
            Some(d) => d,
            None if lower.starts_with("list") => &functions::resource::LIST_FN,
            None => {
                let mut values = Vec::with_capacity(args.len());
                for a in args {
                    values.push(self.eval(a)?);
                }
                if let Some(result) = self.scope.host_function(name, &values) {
                    return result.map_err(|message| EvalError {
                        message,
                        offset: span.start,
                    });
                }
                return Err(EvalError {
                    message: format!(
                        "The template function '{name}' is not valid. Please see https://aka.ms/arm-functions for usage details."
                    ),
                    offset: span.start,
                });
            }
        };
        let mut values = Vec::with_capacity(args.len());
        for a in args {
            values.push(self.eval(a)?);
        }
        if values.len() < def.min_args || def.max_args.is_some_and(|m| values.len() > m) {
            return Err(EvalError {
                message: arity_message(def.name, def.min_args, def.max_args, values.len()),
                offset: span.start,
            });
        }
        let defer = values.iter().any(|v| matches!(v, Value::Deferred(_)))
            || (!def.structural && values.iter().any(Value::contains_deferred));
        if defer && !def.handles_deferred {
            return Ok(Value::Deferred(Deferred {
                expr: render_call(name, &values),
            }));
        }
        let f = def.f;
        let call_name = if def.name == "list*" { name } else { def.name };
        match f(self, call_name, &values) {
            Ok(v) => Ok(v),
            Err(FnError { message, arg }) => {
                let offset = arg
                    .and_then(|i| args.get(i))
                    .map_or(span.start, |a| a.span.start);
                Err(EvalError { message, offset })
            }
        }
    }

    fn call_if(&mut self, args: &[Expr], span: Span) -> Result<Value, EvalError> {
        if args.len() != 3 {
            return Err(EvalError {
                message: arity_message("if", 3, Some(3), args.len()),
                offset: span.start,
            });
        }
        let cond = self.eval(&args[0])?;
        match cond {
            Value::Bool(true) => self.eval(&args[1]),
            Value::Bool(false) => self.eval(&args[2]),
            Value::Deferred(d) => {
                let a = self.eval(&args[1])?;
                let b = self.eval(&args[2])?;
                Ok(Value::Deferred(Deferred {
                    expr: format!(
                        "if({}, {}, {})",
                        d.expr,
                        render_literal(&a),
                        render_literal(&b)
                    ),
                }))
            }
            other => Err(EvalError {
                message: format!(
                    "Unable to evaluate template language function 'if': the first parameter must be a Boolean, but was of type '{}'.",
                    other.type_name()
                ),
                offset: args[0].span.start,
            }),
        }
    }

    fn call_and_or(&mut self, name: &str, args: &[Expr], span: Span) -> Result<Value, EvalError> {
        if args.len() < 2 {
            return Err(EvalError {
                message: arity_message(name, 2, None, args.len()),
                offset: span.start,
            });
        }
        let short = name == "or";
        let mut deferred = Vec::new();
        for a in args {
            match self.eval(a)? {
                Value::Bool(b) if b == short => return Ok(Value::Bool(short)),
                Value::Bool(_) => {}
                Value::Deferred(d) => deferred.push(d.expr),
                other => {
                    return Err(EvalError {
                        message: format!(
                            "Unable to evaluate template language function '{name}': all parameters must be Booleans, but one was of type '{}'.",
                            other.type_name()
                        ),
                        offset: a.span.start,
                    });
                }
            }
        }
        if deferred.is_empty() {
            Ok(Value::Bool(!short))
        } else if deferred.len() == 1 {
            Ok(Value::Deferred(Deferred {
                expr: deferred.remove(0),
            }))
        } else {
            Ok(Value::Deferred(Deferred {
                expr: format!("{name}({})", deferred.join(", ")),
            }))
        }
    }

    fn make_lambda(&mut self, args: &[Expr], span: Span) -> Result<Value, EvalError> {
        let Some((body, params)) = args.split_last() else {
            return Err(EvalError {
                message: arity_message("lambda", 1, None, 0),
                offset: span.start,
            });
        };
        let mut names = Vec::with_capacity(params.len());
        for p in params {
            match &p.kind {
                ExprKind::Str(s) => names.push(s.clone()),
                _ => {
                    return Err(EvalError {
                        message: "The lambda parameter names must be string literals.".into(),
                        offset: p.span.start,
                    });
                }
            }
        }
        Ok(Value::Lambda(Arc::new(Lambda {
            params: names,
            body: body.clone(),
            captured: self.lambda_vars.clone(),
        })))
    }

    /// Calls a lambda with arguments (used by `map`, `filter`, `reduce`...).
    pub fn call_lambda(&mut self, lambda: &Lambda, args: Vec<Value>) -> Result<Value, FnError> {
        self.lambda_calls += 1;
        if self.lambda_calls > MAX_LAMBDA_CALLS {
            // Nested lambdas over large ranges can multiply into billions of calls.
            return Err(FnError::new(format!(
                "The template language expression is too expensive: it makes more than {MAX_LAMBDA_CALLS} lambda calls."
            )));
        }
        if args.len() < lambda.params.len() {
            return Err(FnError::new(format!(
                "The lambda expects {} argument(s) but was given {}.",
                lambda.params.len(),
                args.len()
            )));
        }
        let saved = std::mem::replace(&mut self.lambda_vars, lambda.captured.clone());
        for (n, v) in lambda.params.iter().zip(args) {
            self.lambda_vars.push((n.clone(), v));
        }
        let r = self.eval(&lambda.body);
        self.lambda_vars = saved;
        r.map_err(|e| FnError::new(e.message))
    }

    /// The value of a lambda variable, innermost first.
    pub fn lambda_variable(&self, name: &str) -> Option<&Value> {
        self.lambda_vars
            .iter()
            .rev()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// A parameter of the user-defined function being evaluated, if inside one.
    pub fn function_parameter(&self, name: &str) -> Option<Result<Value, String>> {
        self.fn_params.as_ref().map(|ps| {
            ps.iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
                .ok_or_else(|| {
                    format!("The user-defined function parameter '{name}' is not found.")
                })
        })
    }

    /// True while evaluating the body of a user-defined function.
    pub fn in_user_function(&self) -> bool {
        self.fn_params.is_some()
    }

    fn call_user(
        &mut self,
        ns: &str,
        name: &str,
        args: &[Expr],
        span: Span,
    ) -> Result<Value, EvalError> {
        let Some(f) = self.scope.user_function(ns, name) else {
            return Err(EvalError {
                message: format!(
                    "The template function '{ns}.{name}' is not valid: no user-defined function '{name}' in namespace '{ns}'. Please see https://aka.ms/arm-syntax-functions for usage details."
                ),
                offset: span.start,
            });
        };
        if args.len() != f.params.len() {
            return Err(EvalError {
                message: format!(
                    "The user-defined function '{ns}.{name}' expects {} argument(s) but was given {}.",
                    f.params.len(),
                    args.len()
                ),
                offset: span.start,
            });
        }
        let mut bound = Vec::with_capacity(args.len());
        for ((pname, ptype), a) in f.params.iter().zip(args) {
            let v = self.eval(a)?;
            if let Some(msg) = type_mismatch(&v, ptype) {
                return Err(EvalError {
                    message: format!(
                        "The user-defined function '{ns}.{name}' parameter '{pname}' {msg}"
                    ),
                    offset: a.span.start,
                });
            }
            bound.push((pname.clone(), v));
        }
        let saved_params = self.fn_params.replace(bound);
        let saved_lambda = std::mem::take(&mut self.lambda_vars);
        let r = self.eval_value(&f.output);
        self.fn_params = saved_params;
        self.lambda_vars = saved_lambda;
        r.map_err(|e| EvalError {
            message: format!(
                "The user-defined function '{ns}.{name}' failed: {}",
                e.message
            ),
            offset: span.start,
        })
    }
}

/// Checks a value against an ARM type name; `Some(message)` when it does not match.
pub fn type_mismatch(v: &Value, ty: &str) -> Option<String> {
    let ok = match ty.to_ascii_lowercase().as_str() {
        "string" | "securestring" => matches!(v, Value::String(_)),
        "int" => matches!(v, Value::Int(_)),
        "bool" => matches!(v, Value::Bool(_)),
        "object" | "secureobject" => matches!(v, Value::Object(_)),
        "array" => matches!(v, Value::Array(_)),
        _ => true,
    };
    if ok || matches!(v, Value::Deferred(_)) {
        None
    } else {
        Some(format!(
            "expects a value of type '{ty}' but the provided value is of type '{}'.",
            v.type_name()
        ))
    }
}

fn arity_message(name: &str, min: usize, max: Option<usize>, got: usize) -> String {
    let expected = match max {
        Some(m) if m == min => format!("exactly {min}"),
        Some(m) => format!("between {min} and {m}"),
        None => format!("at least {min}"),
    };
    format!(
        "Unable to evaluate template language function '{name}': it takes {expected} argument(s) but {got} were given. Please see https://aka.ms/arm-functions for usage details."
    )
}

fn render_call(name: &str, args: &[Value]) -> String {
    let parts: Vec<String> = args.iter().map(render_literal).collect();
    format!("{name}({})", parts.join(", "))
}

/// `base.name`, with ARM's case-insensitive lookup and its error message.
pub fn access_property(base: &Value, name: &str) -> Result<Value, String> {
    match base {
        Value::Object(o) => get_ci(o, name).cloned().ok_or_else(|| {
            let keys: Vec<&str> = o.keys().map(String::as_str).collect();
            format!(
                "The language expression property '{name}' doesn't exist, available properties are '{}'.",
                keys.join(", ")
            )
        }),
        Value::Deferred(d) => Ok(Value::Deferred(Deferred { expr: format!("{}.{name}", d.expr) })),
        other => Err(format!(
            "The language expression property '{name}' can't be evaluated, property name must be a string... the value is of type '{}' which has no properties.",
            other.type_name()
        )),
    }
}

/// `base[index]` on arrays (integer index) and objects (string key).
pub fn access_index(base: &Value, index: &Value) -> Result<Value, String> {
    match (base, index) {
        (Value::Deferred(d), i) => Ok(Value::Deferred(Deferred {
            expr: format!("{}[{}]", d.expr, render_literal(i)),
        })),
        (b, Value::Deferred(d)) => Ok(Value::Deferred(Deferred {
            expr: format!("{}[{}]", render_literal(b), d.expr),
        })),
        (Value::Array(a), Value::Int(i)) => {
            if *i < 0 || *i as usize >= a.len() {
                Err(format!(
                    "The language expression property array index '{i}' is out of bounds."
                ))
            } else {
                Ok(a[*i as usize].clone())
            }
        }
        (Value::Object(_), Value::String(k)) => access_property(base, k),
        (Value::Array(_), other) => Err(format!(
            "The language expression property array index must be an integer, but was of type '{}'.",
            other.type_name()
        )),
        (Value::Object(_), other) => Err(format!(
            "The language expression property name must be a string, but was of type '{}'.",
            other.type_name()
        )),
        (other, _) => Err(format!(
            "The language expression can't be indexed: the value is of type '{}'.",
            other.type_name()
        )),
    }
}
