//! Shared set-up for the `landfall-template` fuzz targets: a deterministic deployment context
//! and the expression evaluation both targets run.

use std::sync::OnceLock;

use landfall_template::eval::{Evaluator, SimpleScope};
use landfall_template::expr::{self, TemplateString};
use landfall_template::{DeploymentContext, NoResolver, Value};

/// The default context with a fixed clock and GUID seed, so a crash replays exactly:
/// `utcNow()` is 2026-01-01T00:00:00Z and `newGuid()` draws from seed 0.
pub fn context() -> &'static DeploymentContext {
    static CONTEXT: OnceLock<DeploymentContext> = OnceLock::new();
    CONTEXT.get_or_init(|| DeploymentContext {
        now: time::OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(1_767_225_600),
        guid_seed: Some(0),
        ..DeploymentContext::default()
    })
}

/// A scope with a few parameters and variables of every shape, so `parameters('…')` and
/// `variables('…')` in fuzzed expressions lead somewhere.
pub fn scope() -> SimpleScope<'static> {
    let mut scope = SimpleScope::new(context().clone(), &NoResolver);
    let sample = |text: &str| landfall_template::json::parse_value(text).unwrap_or(Value::Null);
    for (name, value) in [
        ("inputString", Value::str("foo bar")),
        (
            "inputArray",
            sample(r#"["foo", false, 123, {"a": [1, 2]}]"#),
        ),
        (
            "inputObj",
            sample(r#"{"a": "b", "$c": 2, "nested": {"x": [true, null]}}"#),
        ),
        ("count", Value::Int(3)),
    ] {
        scope.parameters.insert(name.into(), value.clone());
        scope.variables.insert(name.into(), value);
    }
    scope
}

/// Evaluates `text` as a template string (`[...]` is an expression, anything else a literal)
/// and, when it is not bracketed, also as the inside of an expression.
pub fn eval_expression(text: &str) {
    let mut scope = scope();
    let mut evaluator = Evaluator::new(&mut scope);
    let _ = evaluator.eval_str(text);
    if !matches!(
        expr::parse_template_string(text),
        Ok(TemplateString::Expression(_))
    ) && let Ok(e) = expr::parse_expression(text)
    {
        let _ = evaluator.eval(&e);
    }
}
