//! The manifest's expressions: Landfall's host functions over landfall-template's evaluator
//! ([`ManifestScope`]), the references an expression makes ([`references`]), the stage graph
//! those references define ([`StageGraph`]), the parameters of a stage ([`stage_parameters`])
//! and the offline plan of a whole instance ([`plan_instance`]).
//!
//! Host functions (names compared ignoring case, as ARM does):
//! - `inputs('x')`: a validated input value;
//! - `names('key')`: a derived resource name;
//! - `instanceTags()`: the tags every instance resource carries;
//! - `stageOutputs('stage')`: the outputs object of an earlier stage; in an offline plan the
//!   values only Azure knows are deferred, printed as the expression Azure will evaluate;
//! - `price('meter')`: in cost formulas only, the list price in the instance's region.

use std::collections::{BTreeSet, HashSet};

use indexmap::IndexMap;
use landfall_template::context::ResourceGroupInfo;
use landfall_template::eval::{Evaluator, Scope};
use landfall_template::expr::{Expr, ExprKind, TemplateString, parse_template_string};
use landfall_template::template::{MASK, Parameters, SecretValues};
use landfall_template::value::Object;
use landfall_template::{
    DeploymentContext, NoResolver, PlannedOutput, PlannedResource, Resolver, Value,
};
use serde_json::Value as Json;

use crate::bundle::Bundle;
use crate::error::EngineError;
use crate::inputs::ValidInputs;
use crate::manifest::Manifest;
use crate::target::Target;

/// The tag naming the instance a resource belongs to.
pub const TAG_INSTANCE: &str = "landfall-instance";
/// The tag carrying the platform version that installed a resource.
pub const TAG_VERSION: &str = "landfall-version";

static NO_RESOLVER: NoResolver = NoResolver;

// ---- references ---------------------------------------------------------------------------

/// Something an expression asks the host for.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reference {
    /// `inputs('name')`.
    Input(String),
    /// `names('key')`.
    Name(String),
    /// `stageOutputs('stage')`, with the output read from it when the expression names one
    /// (`stageOutputs('network').subnetId`).
    StageOutput {
        /// The stage.
        stage: String,
        /// The output, when read with `.name` or `['name']`.
        output: Option<String>,
    },
    /// `price(...)`, with the meter when it is a literal.
    Price(Option<String>),
    /// `instanceTags()`.
    InstanceTags,
}

/// The host references of one template string; an empty list for a literal. The error says
/// what is wrong with the expression (a syntax error, or a host function not called with a
/// literal name).
pub fn references(text: &str) -> Result<Vec<Reference>, String> {
    let expr = match parse_template_string(text) {
        Ok(TemplateString::Literal(_)) => return Ok(Vec::new()),
        Ok(TemplateString::Expression(e)) => e,
        Err(e) => return Err(format!("the expression '{text}' is not valid: {e}")),
    };
    let mut out = Vec::new();
    walk(&expr, None, &mut out)?;
    Ok(out)
}

/// The host references of every template string inside a JSON value.
pub fn json_references(v: &Json) -> Result<Vec<Reference>, String> {
    let mut out = Vec::new();
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Json::String(s) => out.extend(references(s)?),
            Json::Array(a) => stack.extend(a.iter().rev()),
            Json::Object(o) => stack.extend(o.values().rev()),
            _ => {}
        }
    }
    Ok(out)
}

fn literal_arg<'e>(fname: &str, args: &'e [Expr]) -> Result<&'e str, String> {
    match args {
        [
            Expr {
                kind: ExprKind::Str(s),
                ..
            },
        ] => Ok(s),
        _ => Err(format!(
            "{fname}() takes one name as a literal string, as in {fname}('name')"
        )),
    }
}

fn walk(e: &Expr, output: Option<&str>, out: &mut Vec<Reference>) -> Result<(), String> {
    match &e.kind {
        ExprKind::Property { base, name } => walk(base, Some(name), out),
        ExprKind::Index { base, index } => {
            let key = match &index.kind {
                ExprKind::Str(s) => Some(s.as_str()),
                _ => None,
            };
            walk(base, key, out)?;
            walk(index, None, out)
        }
        ExprKind::Call {
            namespace: None,
            name,
            args,
        } => {
            match name.to_ascii_lowercase().as_str() {
                "inputs" => out.push(Reference::Input(literal_arg("inputs", args)?.into())),
                "names" => out.push(Reference::Name(literal_arg("names", args)?.into())),
                "stageoutputs" => out.push(Reference::StageOutput {
                    stage: literal_arg("stageOutputs", args)?.into(),
                    output: output.map(str::to_owned),
                }),
                "price" => out.push(Reference::Price(match args.as_slice() {
                    [
                        Expr {
                            kind: ExprKind::Str(s),
                            ..
                        },
                    ] => Some(s.clone()),
                    _ => None,
                })),
                "instancetags" => out.push(Reference::InstanceTags),
                _ => {}
            }
            args.iter().try_for_each(|a| walk(a, None, out))
        }
        ExprKind::Call { args, .. } => args.iter().try_for_each(|a| walk(a, None, out)),
        _ => Ok(()),
    }
}

// ---- the scope ----------------------------------------------------------------------------

enum Names<'a> {
    Known(&'a IndexMap<String, String>),
    Lazy {
        cache: IndexMap<String, Result<String, String>>,
        stack: Vec<String>,
    },
}

/// Answers Landfall's host functions for one evaluation of manifest expressions.
pub struct ManifestScope<'a> {
    manifest: &'a Manifest,
    context: DeploymentContext,
    inputs: &'a IndexMap<String, Json>,
    names: Names<'a>,
    stage_outputs: Option<&'a IndexMap<String, Value>>,
    prices: bool,
}

impl<'a> ManifestScope<'a> {
    /// A scope over input values; derived names are computed on demand from the manifest.
    pub fn new(
        manifest: &'a Manifest,
        inputs: &'a IndexMap<String, Json>,
        context: DeploymentContext,
    ) -> Self {
        ManifestScope {
            manifest,
            context,
            inputs,
            names: Names::Lazy {
                cache: IndexMap::new(),
                stack: Vec::new(),
            },
            stage_outputs: None,
            prices: false,
        }
    }

    /// Uses already derived names instead of computing them.
    pub fn with_names(mut self, names: &'a IndexMap<String, String>) -> Self {
        self.names = Names::Known(names);
        self
    }

    /// Makes `stageOutputs()` answer from these outputs (stage -> outputs object).
    pub fn with_stage_outputs(mut self, outputs: &'a IndexMap<String, Value>) -> Self {
        self.stage_outputs = Some(outputs);
        self
    }

    /// Makes `price()` answer (cost formulas).
    pub fn with_prices(mut self) -> Self {
        self.prices = true;
        self
    }

    /// Evaluates a template string; the error carries the position inside it.
    pub fn eval(&mut self, text: &str) -> Result<Value, String> {
        Evaluator::new(self)
            .eval_str(text)
            .map_err(|e| located(text, &e.message, e.offset))
    }

    /// Evaluates every template string inside a JSON value.
    pub fn eval_json(&mut self, v: &Json) -> Result<Value, String> {
        Evaluator::new(self)
            .eval_value(&Value::from_json(v.clone()))
            .map_err(|e| e.message)
    }

    /// The derived name `key`, computed from its expression if not known yet.
    pub fn derived_name(&mut self, key: &str) -> Result<String, String> {
        let stack = match &self.names {
            Names::Known(map) => {
                return map
                    .get(key)
                    .cloned()
                    .ok_or_else(|| format!("the manifest derives no name '{key}'"));
            }
            Names::Lazy { cache, stack } => {
                if let Some(r) = cache.get(key) {
                    return r.clone();
                }
                stack.clone()
            }
        };
        if stack.iter().any(|k| k == key) {
            let mut cycle: Vec<String> = stack.iter().map(|k| format!("names('{k}')")).collect();
            cycle.push(format!("names('{key}')"));
            return Err(format!(
                "the derived names refer to each other in a cycle: {}",
                cycle.join(" -> ")
            ));
        }
        let Some(def) = self.manifest.names.get(key) else {
            return Err(format!("the manifest derives no name '{key}'"));
        };
        let text = def.value.clone();
        if let Names::Lazy { stack, .. } = &mut self.names {
            stack.push(key.to_owned());
        }
        let result = match self.eval(&text) {
            Ok(Value::String(s)) => Ok(s),
            Ok(Value::Deferred(d)) => Err(format!(
                "the name '{key}' must be known before deployment, but it is computed by Azure ([{}])",
                d.expr
            )),
            Ok(other) => Err(format!(
                "the name '{key}' must be a string, but its expression gives {}",
                other.type_name()
            )),
            Err(e) => Err(format!("the name '{key}' could not be derived: {e}")),
        };
        if let Names::Lazy { cache, stack } = &mut self.names {
            stack.pop();
            cache.insert(key.to_owned(), result.clone());
        }
        result
    }

    fn input(&self, args: &[Value]) -> Result<Value, String> {
        let name = one_string("inputs", args)?;
        if self.manifest.input(name).is_none() {
            return Err(format!("the manifest has no input '{name}'"));
        }
        self.inputs
            .get(name)
            .map(|v| Value::from_json(v.clone()))
            .ok_or_else(|| format!("the input '{name}' has no value"))
    }

    fn stage_output(&self, args: &[Value]) -> Result<Value, String> {
        let stage = one_string("stageOutputs", args)?;
        let Some(outputs) = self.stage_outputs else {
            return Err(
                "stageOutputs() can be used only in stage parameters and instance outputs".into(),
            );
        };
        if self.manifest.stage(stage).is_none() {
            return Err(format!("the manifest has no stage '{stage}'"));
        }
        outputs.get(stage).cloned().ok_or_else(|| {
            format!("the outputs of the stage '{stage}' are not known yet: it has not finished")
        })
    }

    fn price(&self, args: &[Value]) -> Result<Value, String> {
        let meter = one_string("price", args)?;
        if !self.prices {
            return Err("price() can be used only in cost formulas".into());
        }
        let region = self
            .inputs
            .get("location")
            .and_then(Json::as_str)
            .unwrap_or(&self.context.location);
        let prices = &self.manifest.prices;
        let Some(table) = prices.regions.get(region) else {
            return Err(format!(
                "the price snapshot of {} has no prices for the region '{region}'",
                prices.date
            ));
        };
        table.get(meter).map(|p| Value::Float(*p)).ok_or_else(|| {
            format!(
                "the price snapshot of {} has no price for the meter '{meter}' in the region '{region}'",
                prices.date
            )
        })
    }

    fn instance_tags(&self, args: &[Value]) -> Result<Value, String> {
        if !args.is_empty() {
            return Err("instanceTags() takes no arguments".into());
        }
        let instance = self
            .inputs
            .get("name")
            .and_then(Json::as_str)
            .ok_or("the input 'name' has no value")?;
        let mut o = Object::new();
        o.insert(TAG_INSTANCE.into(), Value::str(instance));
        o.insert(TAG_VERSION.into(), Value::str(&self.manifest.version));
        Ok(Value::Object(o))
    }
}

fn one_string<'v>(fname: &str, args: &'v [Value]) -> Result<&'v str, String> {
    match args {
        [Value::String(s)] => Ok(s),
        _ => Err(format!("{fname}() takes one string argument")),
    }
}

fn located(text: &str, message: &str, offset: usize) -> String {
    format!("{message} (at position {offset} of '{text}')")
}

impl Scope for ManifestScope<'_> {
    fn context(&self) -> &DeploymentContext {
        &self.context
    }

    fn parameter(&mut self, name: &str) -> Result<Value, String> {
        Err(format!(
            "parameters('{name}') cannot be used in the manifest; use inputs('{name}')"
        ))
    }

    fn variable(&mut self, name: &str) -> Result<Value, String> {
        Err(format!(
            "variables('{name}') cannot be used in the manifest"
        ))
    }

    fn resolver(&self) -> &dyn Resolver {
        &NO_RESOLVER
    }

    fn host_function(&mut self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        let r = match name.to_ascii_lowercase().as_str() {
            "inputs" => self.input(args),
            "names" => one_string("names", args)
                .map(str::to_owned)
                .and_then(|k| self.derived_name(&k).map(Value::String)),
            "instancetags" => self.instance_tags(args),
            "stageoutputs" => self.stage_output(args),
            "price" => self.price(args),
            _ => return None,
        };
        Some(r)
    }
}

/// The deployment context manifest expressions see: the target's subscription and tenant,
/// the instance's resource group and region.
pub fn deployment_context(
    target: &Target,
    resource_group: &str,
    location: &str,
    deployment_name: &str,
) -> DeploymentContext {
    let mut c = DeploymentContext::default();
    if !target.subscription_id.is_empty() {
        c.subscription_id = target.subscription_id.clone();
    }
    if !target.tenant_id.is_empty() {
        c.tenant_id = target.tenant_id.clone();
    }
    c.resource_group = ResourceGroupInfo {
        name: resource_group.to_owned(),
        location: location.to_owned(),
        tags: None,
        managed_by: None,
    };
    c.location = location.to_owned();
    c.deployment_name = deployment_name.to_owned();
    c
}

/// The instance's resource group: the target's when it names one, else the manifest's derived
/// `resourceGroup` name, else `rg-<bundle>-<instance>`.
pub fn resource_group(manifest: &Manifest, inputs: &ValidInputs, target: &Target) -> String {
    resource_group_of(
        manifest,
        target,
        inputs.name("resourceGroup"),
        inputs.instance(),
    )
}

pub(crate) fn resource_group_of(
    manifest: &Manifest,
    target: &Target,
    derived: Option<&str>,
    instance: &str,
) -> String {
    target
        .resource_group
        .clone()
        .or_else(|| derived.map(str::to_owned))
        .unwrap_or_else(|| format!("rg-{}-{instance}", manifest.name))
}

/// The name of a stage's deployment in Azure: `landfall-<instance>-<stage>`, cut to ARM's
/// 64-character limit.
pub fn deployment_name(inputs: &ValidInputs, stage: &str) -> String {
    format!("landfall-{}-{stage}", inputs.instance())
        .chars()
        .take(64)
        .collect()
}

// ---- the stage graph ----------------------------------------------------------------------

/// Which stages wait for which, from the `stageOutputs()` references in stage parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StageGraph {
    deps: IndexMap<String, Vec<String>>,
}

impl StageGraph {
    /// The graph of a manifest; an error names unknown stages and any cycle.
    pub fn from_manifest(manifest: &Manifest) -> Result<StageGraph, EngineError> {
        StageGraph::build(manifest).map_err(|p| EngineError::Bundle(p.join("; ")))
    }

    pub(crate) fn build(manifest: &Manifest) -> Result<StageGraph, Vec<String>> {
        let mut problems = Vec::new();
        let mut deps: IndexMap<String, Vec<String>> = IndexMap::new();
        for stage in &manifest.stages {
            let mut mine = BTreeSet::new();
            for (p, v) in &stage.parameters {
                let refs = match json_references(v) {
                    Ok(r) => r,
                    Err(e) => {
                        problems.push(format!("stage '{}', parameter '{p}': {e}", stage.name));
                        continue;
                    }
                };
                for r in refs {
                    if let Reference::StageOutput { stage: dep, .. } = r {
                        if dep == stage.name {
                            problems.push(format!(
                                "stage '{}', parameter '{p}': a stage cannot use its own outputs",
                                stage.name
                            ));
                        } else if manifest.stage(&dep).is_none() {
                            problems.push(format!(
                                "stage '{}', parameter '{p}': stageOutputs('{dep}') names no stage",
                                stage.name
                            ));
                        } else {
                            mine.insert(dep);
                        }
                    }
                }
            }
            // Keep the manifest's order among dependencies, for stable displays.
            let ordered = manifest
                .stages
                .iter()
                .filter(|s| mine.contains(&s.name))
                .map(|s| s.name.clone())
                .collect();
            deps.insert(stage.name.clone(), ordered);
        }
        let graph = StageGraph { deps };
        if let Some(cycle) = graph.find_cycle() {
            problems.push(format!(
                "the stages depend on each other in a cycle: {}",
                cycle.join(" -> ")
            ));
        }
        if problems.is_empty() {
            Ok(graph)
        } else {
            Err(problems)
        }
    }

    fn find_cycle(&self) -> Option<Vec<String>> {
        // 0 unvisited, 1 on the current path, 2 done.
        let mut state: IndexMap<&str, u8> = self.deps.keys().map(|k| (k.as_str(), 0)).collect();
        for start in self.deps.keys() {
            if state.get(start.as_str()) != Some(&0) {
                continue;
            }
            let mut path: Vec<&str> = Vec::new();
            let mut stack: Vec<(&str, usize)> = vec![(start.as_str(), 0)];
            while let Some((node, i)) = stack.pop() {
                if i == 0 {
                    state.insert(node, 1);
                    path.push(node);
                }
                let next = self.deps.get(node).and_then(|d| d.get(i));
                match next {
                    Some(n) => {
                        stack.push((node, i + 1));
                        match state.get(n.as_str()) {
                            Some(0) => stack.push((n.as_str(), 0)),
                            Some(1) => {
                                let from = path.iter().position(|p| p == n).unwrap_or(0);
                                let mut cycle: Vec<String> =
                                    path[from..].iter().map(|s| (*s).to_owned()).collect();
                                cycle.push(n.clone());
                                return Some(cycle);
                            }
                            _ => {}
                        }
                    }
                    None => {
                        state.insert(node, 2);
                        path.pop();
                    }
                }
            }
        }
        None
    }

    /// The stages, in manifest order.
    pub fn stages(&self) -> impl Iterator<Item = &str> {
        self.deps.keys().map(String::as_str)
    }

    /// The stages `stage` waits for (empty for an unknown stage).
    pub fn depends_on(&self, stage: &str) -> &[String] {
        self.deps.get(stage).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The stages that wait for `stage`, directly.
    pub fn dependents(&self, stage: &str) -> Vec<&str> {
        self.deps
            .iter()
            .filter(|(_, d)| d.iter().any(|x| x == stage))
            .map(|(k, _)| k.as_str())
            .collect()
    }

    /// The stages in waves: each wave waits only for earlier waves.
    pub fn waves(&self) -> Vec<Vec<&str>> {
        let mut done: HashSet<String> = HashSet::new();
        let mut waves = Vec::new();
        loop {
            let wave = self.ready(&done);
            if wave.is_empty() {
                return waves;
            }
            done.extend(wave.iter().map(|s| (*s).to_owned()));
            waves.push(wave);
        }
    }

    /// The stages not in `done` whose dependencies are all in `done`, in manifest order.
    pub fn ready(&self, done: &HashSet<String>) -> Vec<&str> {
        self.deps
            .iter()
            .filter(|(k, d)| !done.contains(*k) && d.iter().all(|x| done.contains(x)))
            .map(|(k, _)| k.as_str())
            .collect()
    }
}

// ---- stage parameters and plans -------------------------------------------------------------

fn template_error(stage: &str, message: impl Into<String>) -> EngineError {
    EngineError::Template {
        stage: stage.to_owned(),
        message: message.into(),
    }
}

/// The error with every secret input value masked in its message: expression and template
/// errors may quote the values they failed on.
fn masked(e: EngineError, inputs: &ValidInputs) -> EngineError {
    let secrets = inputs.secret_values();
    let mask = |m: String| {
        let mut v = Json::String(m);
        mask_json(&mut v, &secrets);
        match v {
            Json::String(s) => s,
            other => other.to_string(),
        }
    };
    match e {
        EngineError::Template { stage, message } => EngineError::Template {
            stage,
            message: mask(message),
        },
        EngineError::Bundle(m) => EngineError::Bundle(mask(m)),
        other => other,
    }
}

/// Evaluates a stage's parameters; outputs of other stages come from `outputs`.
fn render(
    bundle: &Bundle,
    stage: &str,
    inputs: &ValidInputs,
    target: &Target,
    outputs: &IndexMap<String, Value>,
) -> Result<(IndexMap<String, Value>, DeploymentContext), EngineError> {
    let manifest = &bundle.manifest;
    let def = manifest
        .stage(stage)
        .ok_or_else(|| EngineError::NotFound(format!("the manifest has no stage '{stage}'")))?;
    for dep in bundle.stage_graph().depends_on(stage) {
        if !outputs.contains_key(dep) {
            return Err(template_error(
                stage,
                format!("it needs the outputs of the stage '{dep}', which has not finished"),
            ));
        }
    }
    let rg = resource_group(manifest, inputs, target);
    let ctx = deployment_context(
        target,
        &rg,
        inputs.location(),
        &deployment_name(inputs, stage),
    );
    let mut scope = ManifestScope::new(manifest, inputs.values(), ctx.clone())
        .with_names(inputs.names())
        .with_stage_outputs(outputs);
    let mut out = IndexMap::new();
    for (name, v) in &def.parameters {
        let value = scope
            .eval_json(v)
            .map_err(|e| template_error(stage, format!("parameter '{name}': {e}")))?;
        out.insert(name.clone(), value);
    }
    Ok((out, ctx))
}

/// The parameters of a stage in the ARM form (`{"p": {"value": v}}`), from the inputs and the
/// outputs of the stages it waits for (stage -> outputs object as Azure returned it). Every
/// value is checked against the template's declaration.
pub fn stage_parameters(
    bundle: &Bundle,
    stage: &str,
    inputs: &ValidInputs,
    target: &Target,
    outputs: &IndexMap<String, Json>,
) -> Result<serde_json::Map<String, Json>, EngineError> {
    let outputs: IndexMap<String, Value> = outputs
        .iter()
        .map(|(k, v)| (k.clone(), Value::from_json(v.clone())))
        .collect();
    let (values, _) =
        render(bundle, stage, inputs, target, &outputs).map_err(|e| masked(e, inputs))?;
    let template = bundle.template(stage)?;
    let mut out = serde_json::Map::new();
    for (name, v) in values {
        if let Value::Deferred(d) = &v {
            return Err(template_error(
                stage,
                format!("parameter '{name}' is not known yet ([{}])", d.expr),
            ));
        }
        if let Some(decl) = template.parameters().get(&name) {
            decl.validate(&v).map_err(|e| {
                masked(
                    template_error(stage, format!("parameter '{name}': {e}")),
                    inputs,
                )
            })?;
        }
        out.insert(name, serde_json::json!({ "value": v.to_json() }));
    }
    Ok(out)
}

/// The offline plan of one stage.
#[derive(Clone)]
pub struct StagePlan {
    /// Machine name.
    pub name: String,
    /// Shown to people.
    pub label: String,
    /// The stages it waits for.
    pub depends_on: Vec<String>,
    /// The deployment's name in Azure.
    pub deployment_name: String,
    /// The parameters as rendered (values only Azure knows are deferred).
    pub parameters: IndexMap<String, Value>,
    /// What it will create, nested deployments flattened.
    pub resources: Vec<PlannedResource>,
    /// Resource IDs in dependency waves.
    pub order: Vec<Vec<String>>,
    /// Its outputs (possibly deferred).
    pub outputs: IndexMap<String, PlannedOutput>,
    /// Resources left out by a false condition.
    pub skipped: Vec<String>,
    secrets: SecretValues,
}

impl std::fmt::Debug for StagePlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Property values may hold secrets: only the shape is shown.
        f.debug_struct("StagePlan")
            .field("name", &self.name)
            .field("depends_on", &self.depends_on)
            .field(
                "resources",
                &self.resources.iter().map(|r| &r.id).collect::<Vec<_>>(),
            )
            .field("outputs", &self.outputs.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl StagePlan {
    /// The outputs as an object (name -> value), the form `stageOutputs()` answers with.
    pub fn outputs_value(&self) -> Value {
        Value::Object(
            self.outputs
                .iter()
                .map(|(k, o)| (k.clone(), o.value.clone()))
                .collect(),
        )
    }

    /// The stage as JSON with every secret masked: secure parameters and outputs, and any
    /// secret input value wherever it appears.
    pub fn to_json(&self, secret_values: &[String]) -> Json {
        let plan = landfall_template::Plan {
            resources: self.resources.clone(),
            order: self.order.clone(),
            outputs: self.outputs.clone(),
            skipped: self.skipped.clone(),
            secrets: self.secrets.clone(),
        };
        let mut parameters = serde_json::Map::new();
        for (k, v) in &self.parameters {
            parameters.insert(k.clone(), self.secrets.mask(v).to_json());
        }
        let mut v = serde_json::json!({
            "name": self.name,
            "label": self.label,
            "dependsOn": self.depends_on,
            "deploymentName": self.deployment_name,
            "parameters": parameters,
        });
        if let (Json::Object(o), Json::Object(p)) = (&mut v, plan.to_json()) {
            o.extend(p);
        }
        mask_json(&mut v, secret_values);
        v
    }
}

/// Plans one stage offline. `outputs` holds the outputs objects of the stages it waits for
/// (from their plans or from Azure); values only Azure knows stay deferred.
pub fn plan_stage(
    bundle: &Bundle,
    stage: &str,
    inputs: &ValidInputs,
    target: &Target,
    outputs: &IndexMap<String, Value>,
) -> Result<StagePlan, EngineError> {
    let (values, ctx) =
        render(bundle, stage, inputs, target, outputs).map_err(|e| masked(e, inputs))?;
    let def = bundle
        .manifest
        .stage(stage)
        .ok_or_else(|| EngineError::NotFound(format!("the manifest has no stage '{stage}'")))?;
    let template = bundle.template(stage)?;
    let mut params = Parameters::new();
    for (k, v) in &values {
        params.set(k.clone(), v.clone());
    }
    let plan = landfall_template::plan(template, &params, &ctx, &NO_RESOLVER).map_err(|e| {
        masked(
            template_error(stage, format!("{}: {e}", def.template)),
            inputs,
        )
    })?;
    Ok(StagePlan {
        name: def.name.clone(),
        label: def.label.clone(),
        depends_on: bundle.stage_graph().depends_on(stage).to_vec(),
        deployment_name: ctx.deployment_name.clone(),
        parameters: values,
        resources: plan.resources,
        order: plan.order,
        outputs: plan.outputs,
        skipped: plan.skipped,
        secrets: plan.secrets,
    })
}

/// The offline plan of every stage of an instance.
#[derive(Clone)]
pub struct InstancePlan {
    /// The resource group.
    pub resource_group: String,
    /// The region.
    pub location: String,
    /// Every stage, in dependency waves (manifest order within a wave).
    pub stages: Vec<StagePlan>,
    secret_values: Vec<String>,
}

impl std::fmt::Debug for InstancePlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstancePlan")
            .field("resource_group", &self.resource_group)
            .field("location", &self.location)
            .field("stages", &self.stages)
            .finish_non_exhaustive()
    }
}

impl InstancePlan {
    /// A stage's plan.
    pub fn stage(&self, name: &str) -> Option<&StagePlan> {
        self.stages.iter().find(|s| s.name == name)
    }

    /// How many resources the instance will have.
    pub fn resource_count(&self) -> usize {
        self.stages.iter().map(|s| s.resources.len()).sum()
    }

    /// The plan as JSON, secrets masked: `{"resourceGroup", "location", "stages": [...]}`.
    pub fn to_json(&self) -> Json {
        serde_json::json!({
            "resourceGroup": self.resource_group,
            "location": self.location,
            "stages": self
                .stages
                .iter()
                .map(|s| s.to_json(&self.secret_values))
                .collect::<Vec<_>>(),
        })
    }
}

/// Plans every stage offline, in dependency order: a stage's `stageOutputs()` come from the
/// plans of the stages it waits for, deferred where only Azure will know them.
pub fn plan_instance(
    bundle: &Bundle,
    inputs: &ValidInputs,
    target: &Target,
) -> Result<InstancePlan, EngineError> {
    let mut outputs: IndexMap<String, Value> = IndexMap::new();
    let mut stages = Vec::new();
    for wave in bundle.stage_graph().waves() {
        for stage in wave {
            let plan = plan_stage(bundle, stage, inputs, target, &outputs)?;
            outputs.insert(stage.to_owned(), plan.outputs_value());
            stages.push(plan);
        }
    }
    Ok(InstancePlan {
        resource_group: resource_group(&bundle.manifest, inputs, target),
        location: inputs.location().to_owned(),
        stages,
        secret_values: inputs.secret_values(),
    })
}

/// The instance's outputs (key -> value) from the outputs of its stages as Azure returned
/// them; an output whose stage has not finished is left out.
pub fn instance_outputs(
    manifest: &Manifest,
    inputs: &ValidInputs,
    stage_outputs: &IndexMap<String, Json>,
) -> Result<Json, EngineError> {
    let outputs: IndexMap<String, Value> = stage_outputs
        .iter()
        .map(|(k, v)| (k.clone(), Value::from_json(v.clone())))
        .collect();
    let ctx = deployment_context(
        &Target {
            subscription_id: String::new(),
            tenant_id: String::new(),
            resource_group: None,
        },
        inputs.name("resourceGroup").unwrap_or_default(),
        inputs.location(),
        "landfall-outputs",
    );
    let mut scope = ManifestScope::new(manifest, inputs.values(), ctx)
        .with_names(inputs.names())
        .with_stage_outputs(&outputs);
    let mut out = serde_json::Map::new();
    for (key, def) in &manifest.outputs {
        let finished = references(&def.value)
            .map_err(|e| EngineError::Bundle(format!("output '{key}': {e}")))?
            .iter()
            .all(|r| match r {
                Reference::StageOutput { stage, .. } => outputs.contains_key(stage),
                _ => true,
            });
        if !finished {
            continue;
        }
        let v = scope
            .eval(&def.value)
            .map_err(|e| masked(EngineError::Bundle(format!("output '{key}': {e}")), inputs))?;
        out.insert(key.clone(), v.to_json());
    }
    let mut v = Json::Object(out);
    mask_json(&mut v, &inputs.secret_values());
    Ok(v)
}

/// Replaces every secret inside a JSON value: whole strings, and inside longer strings for
/// secrets of four characters or more (as [`SecretValues::mask`] does for templates).
pub fn mask_json(v: &mut Json, secrets: &[String]) {
    if secrets.is_empty() {
        return;
    }
    match v {
        Json::String(s) => {
            if secrets.iter().any(|x| x == s) {
                *s = MASK.into();
                return;
            }
            for x in secrets.iter().filter(|x| x.chars().count() >= 4) {
                if s.contains(x.as_str()) {
                    *s = s.replace(x.as_str(), MASK);
                }
            }
        }
        Json::Array(a) => a.iter_mut().for_each(|x| mask_json(x, secrets)),
        Json::Object(o) => o.values_mut().for_each(|x| mask_json(x, secrets)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_find_host_calls_and_the_output_read() {
        let refs = references(
            "[concat(inputs('name'), names('kv'), stageOutputs('network').subnetId, stageOutputs('data')['x'], price(concat('vm/', inputs('size'))), instanceTags())]",
        )
        .unwrap();
        assert_eq!(
            refs,
            vec![
                Reference::Input("name".into()),
                Reference::Name("kv".into()),
                Reference::StageOutput {
                    stage: "network".into(),
                    output: Some("subnetId".into())
                },
                Reference::StageOutput {
                    stage: "data".into(),
                    output: Some("x".into())
                },
                Reference::Price(None),
                Reference::Input("size".into()),
                Reference::InstanceTags,
            ]
        );
        assert!(references("plain text").unwrap().is_empty());
        assert!(references("[[not an expression]").unwrap().is_empty());
    }

    #[test]
    fn host_names_must_be_literal() {
        let e = references("[inputs(concat('na', 'me'))]").unwrap_err();
        assert!(e.contains("inputs('name')"), "{e}");
        let e = references("[stageOutputs()]").unwrap_err();
        assert!(e.contains("literal string"), "{e}");
        let e = references("[concat('a', ]").unwrap_err();
        assert!(e.contains("not valid"), "{e}");
    }

    #[test]
    fn masking_covers_whole_and_embedded_secrets() {
        let mut v = serde_json::json!({"a": "s3cret-pass", "b": ["x;pwd=s3cret-pass;"], "c": 1});
        mask_json(&mut v, &["s3cret-pass".into()]);
        assert_eq!(
            v,
            serde_json::json!({"a": MASK, "b": [format!("x;pwd={MASK};")], "c": 1})
        );
    }
}
