//! Templates: reading one ([`Template`]), supplying parameters ([`Parameters`]) and planning a
//! deployment offline ([`plan`]) into a [`Plan`].
//!
//! - [`params`] owns parameter declarations, parameter files and ARM's validation rules.
//! - `frame` evaluates one template in one deployment: parameters and variables (lazily, with
//!   cycle detection), resources expanded through copy loops and conditions, child resources,
//!   nested deployments (inner scope as a child frame, outer scope inline), outputs.
//! - `graph` orders the resources into waves and names any dependency cycle.

mod frame;
mod graph;
pub mod params;

use std::collections::HashMap;
use std::sync::Arc;

use indexmap::IndexMap;

use crate::context::{DeploymentContext, DeploymentScope, Resolver};
use crate::error::{ErrorCode, TemplateError};
use crate::eval::UserFunction;
use crate::json::{self, Spans};
use crate::value::{Object, Value, get_ci};

pub use params::{ParameterDef, ParameterValue, Parameters};

/// Azure's limits on one template.
pub mod limits {
    /// Resources in a template, copy loops expanded.
    pub const RESOURCES: usize = 800;
    /// Parameters.
    pub const PARAMETERS: usize = 256;
    /// Variables.
    pub const VARIABLES: usize = 256;
    /// Outputs.
    pub const OUTPUTS: usize = 64;
    /// Template size in bytes.
    pub const SIZE_BYTES: usize = 4 * 1024 * 1024;
    /// Iterations of one copy loop.
    pub const COPY_COUNT: i64 = 800;
    /// Nesting depth of nested deployments planned offline.
    pub const NESTING: usize = 16;
}

/// A template, read and checked for shape.
#[derive(Clone, Debug)]
pub struct Template {
    root: Object,
    spans: Option<Spans>,
    parameters: IndexMap<String, ParameterDef>,
    functions: HashMap<(String, String), Arc<UserFunction>>,
    symbolic: bool,
}

impl Template {
    /// Reads template text as ARM does (comments and other leniencies accepted).
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        if text.len() > limits::SIZE_BYTES {
            return Err(TemplateError::new(
                ErrorCode::LimitExceeded,
                format!(
                    "The template is {} bytes, larger than the limit of {} bytes (4 MB).",
                    text.len(),
                    limits::SIZE_BYTES
                ),
            ));
        }
        let doc = json::parse(text).map_err(|e| {
            let mut err = TemplateError::new(
                ErrorCode::InvalidJson,
                format!("The template is not valid JSON: {}", e.message),
            );
            err.pos = Some(e.pos);
            err
        })?;
        Template::build(doc.value, Some(doc.spans))
    }

    /// Builds a template from an already parsed value (positions unknown).
    pub fn from_value(v: Value) -> Result<Template, TemplateError> {
        Template::build(v, None)
    }

    /// Builds a template from a value and, when known, where its parts came from.
    pub fn from_value_with_spans(
        v: Value,
        spans: Option<Spans>,
    ) -> Result<Template, TemplateError> {
        Template::build(v, spans)
    }

    fn build(v: Value, spans: Option<Spans>) -> Result<Template, TemplateError> {
        let locate = |e: TemplateError| e.located(spans.as_ref());
        let Value::Object(root) = v else {
            return Err(TemplateError::new(
                ErrorCode::InvalidTemplate,
                "The template must be a JSON object.",
            ));
        };
        let symbolic = matches!(get_ci(&root, "languageVersion"), Some(Value::String(s)) if s.starts_with('2'));
        match get_ci(&root, "resources") {
            Some(Value::Array(_)) => {}
            Some(Value::Object(_)) if symbolic => {}
            Some(Value::Object(_)) => {
                return Err(locate(
                    TemplateError::new(
                        ErrorCode::InvalidTemplate,
                        "The template 'resources' is an object, which needs \"languageVersion\": \"2.0\"; otherwise it must be an array.",
                    )
                    .at_path("resources"),
                ));
            }
            Some(_) => {
                return Err(locate(
                    TemplateError::new(
                        ErrorCode::InvalidTemplate,
                        "The template 'resources' must be an array.",
                    )
                    .at_path("resources"),
                ));
            }
            None => {
                return Err(TemplateError::new(
                    ErrorCode::InvalidTemplate,
                    "Required property 'resources' not found in the template.",
                ));
            }
        }
        for (section, limit) in [
            ("parameters", limits::PARAMETERS),
            ("variables", limits::VARIABLES),
            ("outputs", limits::OUTPUTS),
        ] {
            match get_ci(&root, section) {
                None | Some(Value::Null) => {}
                Some(Value::Object(o)) if o.len() > limit => {
                    return Err(locate(
                        TemplateError::new(
                            ErrorCode::LimitExceeded,
                            format!(
                                "The template has {} {section}, more than the limit of {limit}.",
                                o.len()
                            ),
                        )
                        .at_path(section),
                    ));
                }
                Some(Value::Object(_)) => {}
                Some(_) => {
                    return Err(locate(
                        TemplateError::new(
                            ErrorCode::InvalidTemplate,
                            format!("The template '{section}' must be an object."),
                        )
                        .at_path(section),
                    ));
                }
            }
        }
        let defs = get_ci(&root, "definitions").and_then(Value::as_object);
        let mut parameters = IndexMap::new();
        if let Some(Value::Object(ps)) = get_ci(&root, "parameters") {
            for (name, decl) in ps {
                let def = ParameterDef::parse(name, decl, defs, &format!("parameters.{name}"))
                    .map_err(locate)?;
                parameters.insert(name.clone(), def);
            }
        }
        let functions = read_functions(&root).map_err(locate)?;
        Ok(Template {
            root,
            spans,
            parameters,
            functions,
            symbolic,
        })
    }

    /// The declared parameters, in order.
    pub fn parameters(&self) -> &IndexMap<String, ParameterDef> {
        &self.parameters
    }

    /// True for languageVersion 2.0 templates (symbolic resource names).
    pub fn is_symbolic(&self) -> bool {
        self.symbolic
    }

    /// The template as a JSON value.
    pub fn root(&self) -> &Object {
        &self.root
    }

    /// The scope the `$schema` says the template deploys at.
    pub fn target_scope(&self) -> DeploymentScope {
        let schema = get_ci(&self.root, "$schema")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_ascii_lowercase();
        if schema.contains("subscriptiondeploymenttemplate") {
            DeploymentScope::Subscription
        } else if schema.contains("managementgroupdeploymenttemplate") {
            DeploymentScope::ManagementGroup
        } else if schema.contains("tenantdeploymenttemplate") {
            DeploymentScope::Tenant
        } else {
            DeploymentScope::ResourceGroup
        }
    }

    pub(crate) fn spans(&self) -> Option<&Spans> {
        self.spans.as_ref()
    }

    pub(crate) fn user_function(&self, ns: &str, name: &str) -> Option<Arc<UserFunction>> {
        self.functions
            .get(&(ns.to_ascii_lowercase(), name.to_ascii_lowercase()))
            .cloned()
    }
}

fn read_functions(
    root: &Object,
) -> Result<HashMap<(String, String), Arc<UserFunction>>, TemplateError> {
    let mut out = HashMap::new();
    let Some(fs) = get_ci(root, "functions") else {
        return Ok(out);
    };
    let Value::Array(namespaces) = fs else {
        return Err(TemplateError::new(
            ErrorCode::InvalidTemplate,
            "The template 'functions' must be an array of namespaces.",
        )
        .at_path("functions"));
    };
    for (i, ns) in namespaces.iter().enumerate() {
        let path = format!("functions[{i}]");
        let ns_name = ns.get("namespace").and_then(Value::as_str).ok_or_else(|| {
            TemplateError::new(
                ErrorCode::InvalidTemplate,
                "A user-defined function namespace needs a 'namespace' name.",
            )
            .at_path(&path)
        })?;
        let Some(Value::Object(members)) = ns.get("members") else {
            continue;
        };
        for (fname, f) in members {
            let fpath = format!("{path}.members.{fname}");
            let mut params = Vec::new();
            if let Some(Value::Array(ps)) = f.get("parameters") {
                for p in ps {
                    let pname = p.get("name").and_then(Value::as_str).ok_or_else(|| {
                        TemplateError::new(ErrorCode::InvalidTemplate, format!("A parameter of the user-defined function '{ns_name}.{fname}' has no name."))
                            .at_path(&fpath)
                    })?;
                    let ty = p.get("type").and_then(Value::as_str).unwrap_or("any");
                    params.push((pname.to_owned(), ty.to_owned()));
                }
            }
            let output = f.get("output").ok_or_else(|| {
                TemplateError::new(
                    ErrorCode::InvalidTemplate,
                    format!("The user-defined function '{ns_name}.{fname}' has no 'output'."),
                )
                .at_path(&fpath)
            })?;
            let output_type = output
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("any")
                .to_owned();
            let value = output.get("value").cloned().unwrap_or(Value::Null);
            out.insert(
                (ns_name.to_ascii_lowercase(), fname.to_ascii_lowercase()),
                Arc::new(UserFunction {
                    params,
                    output_type,
                    output: value,
                }),
            );
        }
    }
    Ok(out)
}

/// One resource the deployment will create or update.
#[derive(Clone, Debug)]
pub struct PlannedResource {
    /// Full resource ID.
    pub id: String,
    /// Resource type (`Microsoft.Storage/storageAccounts`).
    pub resource_type: String,
    /// Resource name as the template gives it (`parent/child` for child resources).
    pub name: String,
    /// API version.
    pub api_version: String,
    /// Location, if the resource has one.
    pub location: Option<Value>,
    /// IDs of the resources this one waits for.
    pub depends_on: Vec<String>,
    /// Evaluated `properties` (`Null` when the resource has none).
    pub properties: Value,
    /// The other evaluated top-level fields (`sku`, `kind`, `tags`, `identity`, `zones`...).
    pub extra: Object,
    /// Symbolic name (languageVersion 2.0).
    pub symbolic_name: Option<String>,
    /// Copy loop name and index, for resources from a copy loop.
    pub copy: Option<(String, i64)>,
    /// The nested deployment this resource belongs to (its ID); `None` at top level.
    pub deployment: Option<String>,
}

/// One output of the deployment.
#[derive(Clone, Debug)]
pub struct PlannedOutput {
    /// Type as ARM reports it (`String`, `Int`, `Bool`, `Object`, `Array`, `SecureString`...).
    pub output_type: String,
    /// The value (possibly deferred).
    pub value: Value,
}

/// The offline plan of a deployment.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// Every resource, nested deployments flattened, in template order.
    pub resources: Vec<PlannedResource>,
    /// Resource IDs in waves: each wave depends only on earlier ones.
    pub order: Vec<Vec<String>>,
    /// Outputs by name.
    pub outputs: IndexMap<String, PlannedOutput>,
    /// IDs of resources left out because their condition is false.
    pub skipped: Vec<String>,
    /// Values of secure parameters, so displays of the plan can mask them.
    pub secrets: SecretValues,
}

/// The string values of `secureString`/`secureObject` parameters: [`Plan::to_json`] masks them
/// wherever they appear, and `Debug` never prints them.
#[derive(Clone, Default)]
pub struct SecretValues(Vec<String>);

impl std::fmt::Debug for SecretValues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretValues({} redacted)", self.0.len())
    }
}

/// What a masked secret prints as.
pub const MASK: &str = "********";

impl SecretValues {
    /// Collects every string inside a secure parameter's value.
    fn collect(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) if !s.is_empty() => out.push(s.clone()),
            Value::Array(a) => a.iter().for_each(|x| SecretValues::collect(x, out)),
            Value::Object(o) => o.values().for_each(|x| SecretValues::collect(x, out)),
            _ => {}
        }
    }

    /// True when there is nothing to mask.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value with every secret masked: whole strings, and inside longer strings (a
    /// connection string built with `format()`) for secrets of four characters or more.
    pub fn mask(&self, v: &Value) -> Value {
        if self.0.is_empty() {
            return v.clone();
        }
        match v {
            Value::String(s) => {
                if self.0.iter().any(|x| x == s) {
                    return Value::str(MASK);
                }
                let mut out = s.clone();
                for x in self.0.iter().filter(|x| x.chars().count() >= 4) {
                    if out.contains(x.as_str()) {
                        out = out.replace(x.as_str(), MASK);
                    }
                }
                Value::String(out)
            }
            Value::Array(a) => Value::Array(a.iter().map(|x| self.mask(x)).collect()),
            Value::Object(o) => {
                Value::Object(o.iter().map(|(k, x)| (k.clone(), self.mask(x))).collect())
            }
            other => other.clone(),
        }
    }
}

impl Plan {
    /// The plan as JSON: `{"resources":[{"id","type","name","apiVersion","location","dependsOn",
    /// "properties",...}],"order":[[ids]],"outputs":{"name":{"type","value"}},"skipped":[ids]}`.
    /// Secure parameter values are masked wherever they appear, and secure outputs entirely.
    pub fn to_json(&self) -> serde_json::Value {
        let shown = |v: &Value| self.secrets.mask(v).to_json();
        let resources: Vec<serde_json::Value> = self
            .resources
            .iter()
            .map(|r| {
                let mut o = serde_json::Map::new();
                o.insert("id".into(), r.id.clone().into());
                o.insert("type".into(), r.resource_type.clone().into());
                o.insert("name".into(), r.name.clone().into());
                o.insert("apiVersion".into(), r.api_version.clone().into());
                o.insert(
                    "location".into(),
                    r.location.as_ref().map_or(serde_json::Value::Null, shown),
                );
                o.insert("dependsOn".into(), r.depends_on.clone().into());
                o.insert("properties".into(), shown(&r.properties));
                for (k, v) in &r.extra {
                    o.insert(k.clone(), shown(v));
                }
                if let Some(s) = &r.symbolic_name {
                    o.insert("symbolicName".into(), s.clone().into());
                }
                if let Some((name, index)) = &r.copy {
                    o.insert(
                        "copy".into(),
                        serde_json::json!({"name": name, "index": index}),
                    );
                }
                if let Some(d) = &r.deployment {
                    o.insert("deployment".into(), d.clone().into());
                }
                serde_json::Value::Object(o)
            })
            .collect();
        let outputs: serde_json::Map<String, serde_json::Value> = self
            .outputs
            .iter()
            .map(|(k, o)| {
                let value = if o.output_type.starts_with("Secure") {
                    serde_json::Value::String(MASK.into())
                } else {
                    shown(&o.value)
                };
                (
                    k.clone(),
                    serde_json::json!({"type": o.output_type, "value": value}),
                )
            })
            .collect();
        serde_json::json!({
            "resources": resources,
            "order": self.order,
            "outputs": outputs,
            "skipped": self.skipped,
        })
    }

    /// The resource with this ID (case-insensitive).
    pub fn resource(&self, id: &str) -> Option<&PlannedResource> {
        self.resources
            .iter()
            .find(|r| r.id.eq_ignore_ascii_case(id))
    }
}

/// Plans a deployment of `template` with `parameters` in `context`, offline: values only Azure
/// knows come from `resolver` or are deferred.
pub fn plan(
    template: &Template,
    parameters: &Parameters,
    context: &DeploymentContext,
    resolver: &dyn Resolver,
) -> Result<Plan, TemplateError> {
    let mut secrets = Vec::new();
    for (name, def) in template.parameters() {
        if def.is_secure()
            && let Some(v) = parameters.get(name)
        {
            SecretValues::collect(&v.to_value(), &mut secrets);
        }
    }
    let supplied: Vec<(String, Value)> = parameters
        .values
        .iter()
        .map(|(k, v)| (k.clone(), v.to_value()))
        .collect();
    let result = frame::plan_frame(
        template,
        supplied,
        context.clone(),
        resolver,
        0,
        template.spans(),
    )?;
    let order = graph::waves(&result.resources, &result.deps).map_err(|cycle| {
        let names: Vec<&str> = cycle.iter().map(|&i| result.resources[i].id.as_str()).collect();
        TemplateError::new(
            ErrorCode::CircularDependency,
            format!(
                "Deployment template validation failed: 'Circular dependency detected on resource: '{}'. The cycle is: {}.'",
                names.first().copied().unwrap_or(""),
                names.join(" -> ")
            ),
        )
    })?;
    let order = order
        .into_iter()
        .map(|wave| {
            wave.into_iter()
                .map(|i| result.resources[i].id.clone())
                .collect()
        })
        .collect();
    Ok(Plan {
        resources: result.resources,
        order,
        outputs: result.outputs,
        skipped: result.skipped,
        secrets: SecretValues(secrets),
    })
}
