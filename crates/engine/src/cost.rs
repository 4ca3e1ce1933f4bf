//! The monthly cost estimate: each line of the manifest's cost formula evaluated with
//! `inputs()` and `price()` against the dated list-price snapshot of the instance's region.
//!
//! ARM's `add`, `sub`, `mul`, `div`, `min` and `max` work on integers only, but prices are
//! decimals: in cost formulas those six compute with decimals (and `if` picks its branch
//! first), every other function is ARM's own.

use indexmap::IndexMap;
use landfall_template::Value;
use landfall_template::eval::Evaluator;
use landfall_template::expr::{Expr, ExprKind, TemplateString, parse_template_string};
use serde::{Deserialize, Serialize};

use crate::error::EngineError;
use crate::inputs::ValidInputs;
use crate::manifest::{CostCategory, Manifest};
use crate::render::{self, ManifestScope};
use crate::target::Target;

/// One billed resource.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct CostLine {
    /// Shown to people (`AKS user nodes`).
    pub label: String,
    /// Its segment of the stacked bar.
    pub category: CostCategory,
    /// The stage that creates it.
    pub stage: String,
    /// Per month, rounded to cents.
    pub monthly: f64,
}

/// The monthly estimate at list prices.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct CostEstimate {
    /// ISO currency code.
    pub currency: String,
    /// The day the prices were taken.
    pub price_date: String,
    /// Where they come from.
    pub source: String,
    /// One line per billed resource, in manifest order.
    pub lines: Vec<CostLine>,
    /// Sums per category, every category present (compute, database, storage, network).
    pub by_category: IndexMap<CostCategory, f64>,
    /// The sum of the lines.
    pub total: f64,
}

const CATEGORIES: [CostCategory; 4] = [
    CostCategory::Compute,
    CostCategory::Database,
    CostCategory::Storage,
    CostCategory::Network,
];

fn cents(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Evaluates every cost line for these inputs. A meter missing from the region's snapshot is
/// an error naming the meter and the region.
pub fn estimate(manifest: &Manifest, inputs: &ValidInputs) -> Result<CostEstimate, EngineError> {
    let target = Target {
        subscription_id: String::new(),
        tenant_id: String::new(),
        resource_group: None,
    };
    let ctx = render::deployment_context(
        &target,
        inputs.name("resourceGroup").unwrap_or("landfall-rg"),
        inputs.location(),
        "landfall-cost",
    );
    let mut scope = ManifestScope::new(manifest, inputs.values(), ctx)
        .with_names(inputs.names())
        .with_prices();
    let mut lines = Vec::with_capacity(manifest.cost.len());
    for item in &manifest.cost {
        let fail = |m: String| EngineError::Bundle(format!("cost line '{}': {m}", item.label));
        let amount = eval_formula(&mut scope, &item.monthly).map_err(fail)?;
        if !amount.is_finite() || amount < 0.0 {
            return Err(fail(format!(
                "the formula gives {amount}, which is not a monthly amount"
            )));
        }
        lines.push(CostLine {
            label: item.label.clone(),
            category: item.category,
            stage: item.stage.clone(),
            monthly: cents(amount),
        });
    }
    let mut by_category: IndexMap<CostCategory, f64> =
        CATEGORIES.iter().map(|c| (*c, 0.0)).collect();
    for l in &lines {
        *by_category.entry(l.category).or_insert(0.0) += l.monthly;
    }
    for v in by_category.values_mut() {
        *v = cents(*v);
    }
    let total = cents(lines.iter().map(|l| l.monthly).sum());
    Ok(CostEstimate {
        currency: manifest.prices.currency.clone(),
        price_date: manifest.prices.date.clone(),
        source: manifest.prices.source.clone(),
        lines,
        by_category,
        total,
    })
}

/// Evaluates one cost formula to an amount.
pub fn eval_formula(scope: &mut ManifestScope<'_>, text: &str) -> Result<f64, String> {
    let expr = match parse_template_string(text) {
        Ok(TemplateString::Expression(e)) => e,
        Ok(TemplateString::Literal(l)) => {
            return l
                .trim()
                .parse::<f64>()
                .map_err(|_| format!("'{text}' is neither a number nor an expression"));
        }
        Err(e) => return Err(format!("the formula '{text}' is not valid: {e}")),
    };
    match eval_decimal(scope, &expr, text)? {
        Value::Int(i) => Ok(i as f64),
        Value::Float(f) => Ok(f),
        other => Err(format!(
            "the formula gives {} instead of a number",
            other.type_name()
        )),
    }
}

fn as_number(v: &Value, fname: &str) -> Result<f64, String> {
    match v {
        Value::Int(i) => Ok(*i as f64),
        Value::Float(f) => Ok(*f),
        other => Err(format!(
            "{fname}() in a cost formula takes numbers, but got {}",
            other.type_name()
        )),
    }
}

fn eval_decimal(scope: &mut ManifestScope<'_>, e: &Expr, text: &str) -> Result<Value, String> {
    let ExprKind::Call {
        namespace: None,
        name,
        args,
    } = &e.kind
    else {
        return arm(scope, e, text);
    };
    let lower = name.to_ascii_lowercase();
    match lower.as_str() {
        "if" => {
            let [cond, yes, no] = args.as_slice() else {
                return Err("if() takes three arguments".into());
            };
            match eval_decimal(scope, cond, text)? {
                Value::Bool(true) => eval_decimal(scope, yes, text),
                Value::Bool(false) => eval_decimal(scope, no, text),
                other => Err(format!(
                    "if() needs true or false first, but got {}",
                    other.type_name()
                )),
            }
        }
        "add" | "sub" | "mul" | "div" | "min" | "max" => {
            let mut xs = Vec::with_capacity(args.len());
            for a in args {
                xs.push(as_number(&eval_decimal(scope, a, text)?, &lower)?);
            }
            let (fits, wants) = match lower.as_str() {
                "sub" | "div" => (xs.len() == 2, "two numbers"),
                "add" | "mul" => (xs.len() >= 2, "two or more numbers"),
                _ => (!xs.is_empty(), "one or more numbers"),
            };
            if !fits {
                return Err(format!("{lower}() in a cost formula takes {wants}"));
            }
            let r = match lower.as_str() {
                "add" => xs.iter().sum(),
                "mul" => xs.iter().product(),
                "sub" => xs[0] - xs[1],
                "div" if xs[1] == 0.0 => return Err("div() divides by zero".into()),
                "div" => xs[0] / xs[1],
                "min" => xs.iter().copied().fold(f64::INFINITY, f64::min),
                _ => xs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            };
            Ok(Value::Float(r))
        }
        _ => arm(scope, e, text),
    }
}

fn arm(scope: &mut ManifestScope<'_>, e: &Expr, text: &str) -> Result<Value, String> {
    Evaluator::new(scope)
        .eval(e)
        .map_err(|err| format!("{} (at position {} of '{text}')", err.message, err.offset))
}
