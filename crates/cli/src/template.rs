//! `landfall template expr` and `landfall template eval`.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use landfall_template::context::ContextFile;
use landfall_template::eval::{Evaluator, SimpleScope};
use landfall_template::template::Parameters;
use landfall_template::{NoResolver, Template, Value};

/// The `template` subcommands.
#[derive(Subcommand)]
pub enum TemplateCommand {
    /// Evaluate one expression and print its value as JSON.
    Expr {
        /// The expression, with or without the surrounding brackets: "[concat('a', 'b')]".
        expression: String,
        /// Deployment context JSON: subscriptionId, tenantId, resourceGroup {name, location},
        /// deploymentName, location, scope, now, parameters, variables (all optional).
        #[arg(long)]
        context: Option<PathBuf>,
    },
    /// Plan a template offline and print resources, dependency waves and outputs as JSON.
    Eval {
        /// The template file.
        template: PathBuf,
        /// A parameter file (`parameters.X.value`).
        #[arg(long)]
        parameters: Option<PathBuf>,
        /// Deployment context JSON (see `template expr --help`).
        #[arg(long)]
        context: Option<PathBuf>,
    },
}

/// Runs a `template` subcommand.
pub fn run(cmd: TemplateCommand) -> Result<(), String> {
    match cmd {
        TemplateCommand::Expr {
            expression,
            context,
        } => expr(&expression, context.as_deref()),
        TemplateCommand::Eval {
            template,
            parameters,
            context,
        } => eval(&template, parameters.as_deref(), context.as_deref()),
    }
}

fn read(path: &Path, what: &str) -> Result<String, String> {
    std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the {what} '{}': {e}", path.display()))
}

fn context_file(path: Option<&Path>) -> Result<ContextFile, String> {
    match path {
        None => Ok(ContextFile::default()),
        Some(p) => ContextFile::parse(&read(p, "context file")?)
            .map_err(|e| format!("{}: {e}", p.display())),
    }
}

fn to_object(
    map: &Option<serde_json::Map<String, serde_json::Value>>,
) -> landfall_template::value::Object {
    map.iter()
        .flatten()
        .map(|(k, v)| (k.clone(), Value::from_json(v.clone())))
        .collect()
}

fn print_json(v: &serde_json::Value) -> Result<(), String> {
    let text =
        serde_json::to_string_pretty(v).map_err(|e| format!("cannot print the result: {e}"))?;
    println!("{text}");
    Ok(())
}

fn expr(expression: &str, context: Option<&Path>) -> Result<(), String> {
    let file = context_file(context)?;
    let mut scope = SimpleScope::new(file.to_context()?, &NoResolver);
    scope.parameters = to_object(&file.parameters);
    scope.variables = to_object(&file.variables);
    let trimmed = expression.trim();
    let text = if trimmed.starts_with('[') && trimmed.ends_with(']') {
        trimmed.to_owned()
    } else {
        format!("[{trimmed}]")
    };
    let value = Evaluator::new(&mut scope)
        .eval_str(&text)
        .map_err(|e| format!("{} (at position {} of '{text}')", e.message, e.offset))?;
    print_json(&value.to_json())
}

fn eval(template: &Path, parameters: Option<&Path>, context: Option<&Path>) -> Result<(), String> {
    let file = context_file(context)?;
    let tpl = Template::parse(&read(template, "template")?)
        .map_err(|e| format!("{}: {e}", template.display()))?;
    let mut ctx = file.to_context()?;
    if file.scope.is_none() {
        ctx.scope = tpl.target_scope();
    }
    let mut params = Parameters::new();
    for (k, v) in to_object(&file.parameters) {
        params.set(k, v);
    }
    if let Some(p) = parameters {
        let from_file = Parameters::parse(&read(p, "parameters file")?)
            .map_err(|e| format!("{}: {e}", p.display()))?;
        params.values.extend(from_file.values);
    }
    let plan = landfall_template::plan(&tpl, &params, &ctx, &NoResolver)
        .map_err(|e| format!("{}: {e}", template.display()))?;
    print_json(&plan.to_json())
}
