//! Deployment functions (`parameters`, `variables`, `deployment`, `environment`, `deployer`)
//! and the two that read the evaluator's own state: `copyIndex` and `lambdaVariables`.

use super::{Args, FnDef, FnError};
use crate::eval::Evaluator;
use crate::value::Value;

/// The deployment functions.
pub const FUNCTIONS: &[FnDef] = &[
    FnDef::new("parameters", parameters, 1, Some(1)),
    FnDef::new("variables", variables, 1, Some(1)),
    FnDef::new("deployment", deployment, 0, Some(0)),
    FnDef::new("environment", environment, 0, Some(0)),
    FnDef::new("deployer", deployer, 0, Some(0)),
    FnDef::new("copyIndex", copy_index, 0, Some(2)),
    FnDef::new("lambdaVariables", lambda_variables, 1, Some(1)),
];

fn parameters(ev: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let p = Args::new(name, args).str(0)?;
    if let Some(r) = ev.function_parameter(p) {
        return r.map_err(|m| FnError::at(0, m));
    }
    ev.scope().parameter(p).map_err(|m| FnError::at(0, m))
}

fn variables(ev: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let v = Args::new(name, args).str(0)?;
    if ev.in_user_function() {
        return Err(FnError::at(
            0,
            "The template function 'variables' is not allowed in user-defined functions.",
        ));
    }
    ev.scope().variable(v).map_err(|m| FnError::at(0, m))
}

fn deployment(ev: &mut Evaluator<'_>, _: &str, _: &[Value]) -> Result<Value, FnError> {
    Ok(ev.scope().deployment())
}

fn environment(ev: &mut Evaluator<'_>, _: &str, _: &[Value]) -> Result<Value, FnError> {
    Ok(ev.context().environment.clone())
}

fn deployer(ev: &mut Evaluator<'_>, _: &str, _: &[Value]) -> Result<Value, FnError> {
    Ok(ev.context().deployer.clone())
}

fn copy_index(ev: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let a = Args::new(name, args);
    // copyIndex(), copyIndex(offset), copyIndex('loop'), copyIndex('loop', offset).
    let (loop_name, offset) = match args {
        [] => (None, 0),
        [Value::Int(o)] => (None, *o),
        [Value::String(l)] => (Some(l.as_str()), 0),
        [Value::String(l), _] => (Some(l.as_str()), a.int(1)?),
        [_] => return Err(a.type_error(0, "Integer or String")),
        _ => return Err(a.type_error(0, "String")),
    };
    let i = ev.scope().copy_index(loop_name).map_err(FnError::new)?;
    i.checked_add(offset)
        .map(Value::Int)
        .ok_or_else(|| FnError::call(name, "the result overflows a 64-bit integer."))
}

fn lambda_variables(ev: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let v = Args::new(name, args).str(0)?;
    ev.lambda_variable(v)
        .cloned()
        .ok_or_else(|| FnError::at(0, format!("The lambda variable '{v}' is not defined here.")))
}
