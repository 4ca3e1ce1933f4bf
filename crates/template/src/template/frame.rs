//! One template evaluated in one deployment: a frame.
//!
//! Planning runs in three passes over the frame's resources:
//! 1. expand: copy loops, conditions, child resources and outer-scope nested templates become
//!    instances with a type, name and full ID (so later references can find them);
//! 2. evaluate: each instance's body, in template order, except that referencing a nested
//!    deployment evaluates it first (inner-scope ones are planned as child frames);
//! 3. wire: explicit, implicit (`reference`/`list*`), parent and serial-copy dependencies become
//!    index edges; nested deployments are flattened into the result.
//!
//! Parameters and variables are evaluated lazily with cycle detection, so declaration order
//! does not matter, as in ARM.

use std::collections::HashMap;

use indexmap::IndexMap;

use super::{PlannedOutput, PlannedResource, Template, limits};
use crate::context::{DeploymentContext, DeploymentScope, Resolver};
use crate::error::{ErrorCode, TemplateError};
use crate::eval::{Evaluator, Scope, UserFunction};
use crate::json::Spans;
use crate::value::{Object, Value, get_ci};

/// What a frame produces.
pub(crate) struct FrameResult {
    pub resources: Vec<PlannedResource>,
    pub deps: Vec<Vec<usize>>,
    pub outputs: IndexMap<String, PlannedOutput>,
    pub skipped: Vec<String>,
}

/// Where resource IDs of an instance are rooted.
#[derive(Clone, Debug)]
struct Target {
    scope: DeploymentScope,
    subscription_id: String,
    resource_group: String,
    management_group: String,
}

impl Target {
    fn base(&self) -> String {
        match self.scope {
            DeploymentScope::ResourceGroup => {
                format!(
                    "/subscriptions/{}/resourceGroups/{}",
                    self.subscription_id, self.resource_group
                )
            }
            DeploymentScope::Subscription => format!("/subscriptions/{}", self.subscription_id),
            DeploymentScope::ManagementGroup => {
                format!(
                    "/providers/Microsoft.Management/managementGroups/{}",
                    self.management_group
                )
            }
            DeploymentScope::Tenant => String::new(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Pending,
    Evaluating,
    Done,
}

struct Instance<'t> {
    raw: &'t Object,
    path: String,
    symbolic: Option<String>,
    copy_ctx: Vec<(String, i64)>,
    own_copy: Option<(String, i64)>,
    serial_batch: Option<i64>,
    resource_type: String,
    name: String,
    id: String,
    api_version: String,
    existing: bool,
    enabled: bool,
    parent: Option<usize>,
    nested_in: Option<usize>,
    target: Target,
    is_deployment: bool,
    inner_scope: bool,
    declared_deps: Vec<(String, String)>,
    state: State,
    body: Object,
    nested: Option<FrameResult>,
    nested_outputs: Option<Value>,
}

struct Frame<'t> {
    template: &'t Template,
    spans: Option<&'t Spans>,
    ctx: DeploymentContext,
    resolver: &'t dyn Resolver,
    depth: usize,
    supplied: Vec<(String, Value)>,
    params: LazyValues,
    vars: LazyValues,
    copy_stack: Vec<(String, i64)>,
    instances: Vec<Instance<'t>>,
    current: Option<usize>,
    implicit: Vec<(usize, usize)>,
    pending: Option<TemplateError>,
    sequence: u64,
    in_default: usize,
}

const META_KEYS: &[&str] = &[
    "type",
    "name",
    "apiVersion",
    "dependsOn",
    "copy",
    "condition",
    "resources",
    "existing",
    "comments",
    "metadata",
    "scope",
    "resourceGroup",
    "subscriptionId",
];

/// Plans one template: the entry point for the top-level template and for inner-scope nested
/// deployments.
pub(crate) fn plan_frame<'t>(
    template: &'t Template,
    supplied: Vec<(String, Value)>,
    ctx: DeploymentContext,
    resolver: &'t dyn Resolver,
    depth: usize,
    spans: Option<&'t Spans>,
) -> Result<FrameResult, TemplateError> {
    let mut f = Frame {
        template,
        spans,
        ctx,
        resolver,
        depth,
        supplied,
        params: LazyValues::default(),
        vars: LazyValues::default(),
        copy_stack: Vec::new(),
        instances: Vec::new(),
        current: None,
        implicit: Vec::new(),
        pending: None,
        // Nested frames start their sequence apart so seeded GUIDs differ between them.
        sequence: (depth as u64) << 32,
        in_default: 0,
    };
    f.check_parameters()?;
    f.expand_all()?;
    for i in 0..f.instances.len() {
        f.ensure_body(i)?;
    }
    let outputs = f.outputs(get_ci(template.root(), "outputs"), "outputs")?;
    f.wire(outputs)
}

impl<'t> Frame<'t> {
    fn error(&self, code: ErrorCode, message: impl Into<String>, path: &str) -> TemplateError {
        let mut e = TemplateError::new(code, message).at_path(path);
        e.pos = self.spans.map(|s| s.find(path));
        e
    }

    fn base_target(&self) -> Target {
        Target {
            scope: self.ctx.scope,
            subscription_id: self.ctx.subscription_id.clone(),
            resource_group: self.ctx.resource_group.name.clone(),
            management_group: self.ctx.management_group.clone(),
        }
    }

    // ---- parameters -------------------------------------------------------------------------

    fn check_parameters(&mut self) -> Result<(), TemplateError> {
        let declared = self.template.parameters();
        let unknown: Vec<&str> = self
            .supplied
            .iter()
            .filter(|(k, _)| !declared.keys().any(|d| d.eq_ignore_ascii_case(k)))
            .map(|(k, _)| k.as_str())
            .collect();
        if !unknown.is_empty() {
            let allowed: Vec<&str> = declared.keys().map(String::as_str).collect();
            return Err(TemplateError::new(
                ErrorCode::UndeclaredParameter,
                format!(
                    "Deployment template validation failed: 'The template parameters '{}' in the parameters file are not valid; they are not present in the original template and can therefore not be provided at deployment time. The only supported parameters for this template are '{}'. Please see https://aka.ms/arm-pass-parameter-values for usage details.'",
                    unknown.join(", "),
                    allowed.join(", ")
                ),
            )
            .at_path(format!("parameters.{}", unknown[0])));
        }
        let names: Vec<String> = declared.keys().cloned().collect();
        for name in names {
            if let Err(m) = self.parameter(&name) {
                return Err(self.pending.take().unwrap_or_else(|| {
                    self.error(
                        ErrorCode::InvalidParameter,
                        m,
                        &format!("parameters.{name}"),
                    )
                }));
            }
        }
        Ok(())
    }

    fn resolve_parameter(&mut self, name: &str) -> Result<Value, TemplateError> {
        let Some((declared_name, def)) = self
            .template
            .parameters()
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
        else {
            return Err(TemplateError::new(
                ErrorCode::InvalidExpression,
                format!(
                    "The template parameter '{name}' is not found. Please see https://aka.ms/arm-syntax-parameters for usage details."
                ),
            ));
        };
        let path = format!("parameters.{declared_name}");
        let supplied = self
            .supplied
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone());
        let value = match (supplied, &def.default) {
            (Some(v), _) => v,
            (None, Some(default)) => {
                let saved_copy = std::mem::take(&mut self.copy_stack);
                let saved_current = self.current.take();
                self.in_default += 1;
                let r = self.eval_node(default, &format!("{path}.defaultValue"));
                self.in_default -= 1;
                self.copy_stack = saved_copy;
                self.current = saved_current;
                r?
            }
            (None, None) if def.nullable => Value::Null,
            (None, None) => {
                let pos = self.spans.map(|s| s.find(&path)).unwrap_or_default();
                let mut e = TemplateError::new(
                    ErrorCode::MissingParameter,
                    format!(
                        "Deployment template validation failed: 'The value for the template parameter '{declared_name}' at line '{}' and column '{}' is not provided. Please see https://aka.ms/resource-manager-parameter-files for usage details.'",
                        pos.line, pos.column
                    ),
                )
                .at_path(&path);
                e.pos = self.spans.map(|_| pos);
                return Err(e);
            }
        };
        def.validate(&value)
            .map_err(|m| self.error(ErrorCode::InvalidParameter, m, &path))?;
        Ok(value)
    }

    // ---- variables ----------------------------------------------------------------------------

    fn resolve_variable(&mut self, name: &str) -> Result<Value, TemplateError> {
        let vars = get_ci(self.template.root(), "variables").and_then(Value::as_object);
        let direct = vars.and_then(|v| {
            v.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name) && !k.eq_ignore_ascii_case("copy"))
        });
        let saved_copy = std::mem::take(&mut self.copy_stack);
        let saved_current = self.current.take();
        let r = if let Some((declared, raw)) = direct {
            self.eval_node(raw, &format!("variables.{declared}"))
        } else if let Some((i, spec)) = vars
            .and_then(|v| get_ci(v, "copy"))
            .and_then(Value::as_array)
            .and_then(|loops| {
                loops.iter().enumerate().find(|(_, l)| {
                    l.get("name")
                        .and_then(Value::as_str)
                        .is_some_and(|n| n.eq_ignore_ascii_case(name))
                })
            })
        {
            self.copy_loop(spec, &format!("variables.copy[{i}]"))
        } else {
            Err(TemplateError::new(
                ErrorCode::InvalidExpression,
                format!(
                    "The template variable '{name}' is not found. Please see https://aka.ms/arm-syntax-variables for usage details."
                ),
            ))
        };
        self.copy_stack = saved_copy;
        self.current = saved_current;
        r
    }

    /// Evaluates a `{name, count, input}` copy specification into an array.
    fn copy_loop(&mut self, spec: &Value, path: &str) -> Result<Value, TemplateError> {
        let name = spec
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let count = self.copy_count(spec.get("count"), &format!("{path}.count"))?;
        let Some(input) = spec.get("input") else {
            return Err(self.error(
                ErrorCode::InvalidTemplate,
                format!("The copy loop '{name}' has no 'input'."),
                path,
            ));
        };
        let mut items = Vec::with_capacity(count as usize);
        for i in 0..count {
            self.copy_stack.push((name.clone(), i));
            let r = self.eval_node(input, &format!("{path}.input"));
            self.copy_stack.pop();
            items.push(r?);
        }
        Ok(Value::Array(items))
    }

    fn copy_count(&mut self, count: Option<&Value>, path: &str) -> Result<i64, TemplateError> {
        let Some(count) = count else {
            return Err(self.error(
                ErrorCode::InvalidTemplate,
                "The copy loop has no 'count'.",
                path,
            ));
        };
        match self.eval_node(count, path)? {
            Value::Int(n) if (0..=limits::COPY_COUNT).contains(&n) => Ok(n),
            Value::Int(n) => Err(self.error(
                ErrorCode::LimitExceeded,
                format!(
                    "The copy count '{n}' is not valid: it must be between 0 and {}.",
                    limits::COPY_COUNT
                ),
                path,
            )),
            Value::Deferred(d) => Err(self.error(
                ErrorCode::InvalidTemplate,
                format!(
                    "The copy count must be known before deployment, but it depends on '{}'.",
                    d.expr
                ),
                path,
            )),
            other => Err(self.error(
                ErrorCode::InvalidTemplate,
                format!(
                    "The copy count must be an integer, but it is of type '{}'.",
                    other.type_name()
                ),
                path,
            )),
        }
    }

    // ---- walking template values -------------------------------------------------------------

    /// Evaluates a template value: expressions in strings, recursively, with property copy
    /// loops (`"copy": [{name, count, input}]` inside an object).
    fn eval_node(&mut self, v: &Value, path: &str) -> Result<Value, TemplateError> {
        match v {
            Value::String(s) => self.eval_string(s, path),
            Value::Array(a) => {
                let mut out = Vec::with_capacity(a.len());
                for (i, x) in a.iter().enumerate() {
                    out.push(self.eval_node(x, &format!("{path}[{i}]"))?);
                }
                Ok(Value::Array(out))
            }
            Value::Object(o) => {
                let mut out = Object::with_capacity(o.len());
                for (k, x) in o {
                    if k.eq_ignore_ascii_case("copy") && is_property_copy(x) {
                        if let Value::Array(loops) = x {
                            for (i, spec) in loops.iter().enumerate() {
                                let name = spec
                                    .get("name")
                                    .and_then(Value::as_str)
                                    .unwrap_or_default()
                                    .to_owned();
                                let arr = self.copy_loop(spec, &format!("{path}.copy[{i}]"))?;
                                out.insert(name, arr);
                            }
                        }
                        continue;
                    }
                    let child = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    out.insert(k.clone(), self.eval_node(x, &child)?);
                }
                Ok(Value::Object(out))
            }
            other => Ok(other.clone()),
        }
    }

    fn eval_string(&mut self, s: &str, path: &str) -> Result<Value, TemplateError> {
        if !s.starts_with('[') {
            return Ok(Value::String(s.to_owned()));
        }
        let r = Evaluator::new(self).eval_str(s);
        r.map_err(|e| {
            if let Some(p) = self.pending.take() {
                return p;
            }
            let shown: String = if s.chars().count() > 300 {
                format!("{}...", s.chars().take(300).collect::<String>())
            } else {
                s.to_owned()
            };
            let mut err = self.error(
                ErrorCode::InvalidExpression,
                format!(
                    "Unable to process the template language expression '{shown}': {}",
                    e.message
                ),
                path,
            );
            err.expr_offset = Some(e.offset);
            err
        })
    }

    fn eval_str_field(
        &mut self,
        raw: &Object,
        key: &str,
        path: &str,
    ) -> Result<Option<String>, TemplateError> {
        let Some((k, v)) = raw.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)) else {
            return Ok(None);
        };
        let p = format!("{path}.{k}");
        match self.eval_node(v, &p)? {
            Value::String(s) => Ok(Some(s)),
            Value::Deferred(d) => Ok(Some(format!("[{}]", d.expr))),
            other => Err(self.error(
                ErrorCode::InvalidTemplate,
                format!(
                    "The '{key}' of a resource must be a string, but it is of type '{}'.",
                    other.type_name()
                ),
                &p,
            )),
        }
    }

    // ---- pass 1: expanding resources ----------------------------------------------------------

    fn expand_all(&mut self) -> Result<(), TemplateError> {
        let root: &'t Object = self.template.root();
        let target = self.base_target();
        match get_ci(root, "resources") {
            Some(Value::Array(rs)) => {
                for (i, r) in rs.iter().enumerate() {
                    self.expand(r, format!("resources[{i}]"), None, None, None, &[], &target)?;
                }
            }
            Some(Value::Object(rs)) => {
                for (sym, r) in rs {
                    self.expand(
                        r,
                        format!("resources.{sym}"),
                        Some(sym.clone()),
                        None,
                        None,
                        &[],
                        &target,
                    )?;
                }
            }
            _ => {}
        }
        let top = self
            .instances
            .iter()
            .filter(|i| i.nested_in.is_none() && !i.existing)
            .count();
        if top > limits::RESOURCES {
            return Err(TemplateError::new(
                ErrorCode::LimitExceeded,
                format!(
                    "The template has {top} resources (copy loops expanded), more than the limit of {}.",
                    limits::RESOURCES
                ),
            ));
        }
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (i, inst) in self.instances.iter().enumerate() {
            if !inst.enabled
                || inst.existing
                || inst.nested_in.is_some()
                || inst.id.starts_with('[')
            {
                continue;
            }
            if seen.contains_key(&inst.id.to_ascii_lowercase()) {
                return Err(self.error(
                    ErrorCode::InvalidTemplate,
                    format!("Deployment template validation failed: 'The resource '{}' is defined multiple times in a template.'", inst.id),
                    &inst.path,
                ));
            }
            seen.insert(inst.id.to_ascii_lowercase(), i);
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)] // The expansion context is genuinely this wide.
    fn expand(
        &mut self,
        decl: &'t Value,
        path: String,
        symbolic: Option<String>,
        parent: Option<usize>,
        nested_in: Option<usize>,
        outer_copy: &[(String, i64)],
        target: &Target,
    ) -> Result<(), TemplateError> {
        let Value::Object(raw) = decl else {
            return Err(self.error(
                ErrorCode::InvalidTemplate,
                "A template resource must be an object.",
                &path,
            ));
        };
        let copy = get_ci(raw, "copy");
        let iterations: Vec<Option<(String, i64)>> = match copy {
            None => vec![None],
            Some(Value::Object(c)) => {
                let name = match get_ci(c, "name") {
                    Some(Value::String(n)) => n.clone(),
                    _ => {
                        return Err(self.error(
                            ErrorCode::InvalidTemplate,
                            "The resource copy loop needs a 'name'.",
                            &format!("{path}.copy"),
                        ));
                    }
                };
                self.copy_stack = outer_copy.to_vec();
                let n = self.copy_count(get_ci(c, "count"), &format!("{path}.copy.count"))?;
                (0..n).map(|i| Some((name.clone(), i))).collect()
            }
            Some(_) => {
                return Err(self.error(
                    ErrorCode::InvalidTemplate,
                    "The resource 'copy' must be an object.",
                    &format!("{path}.copy"),
                ));
            }
        };
        let serial_batch = match copy {
            Some(Value::Object(c))
                if get_ci(c, "mode")
                    .and_then(Value::as_str)
                    .is_some_and(|m| m.eq_ignore_ascii_case("serial")) =>
            {
                Some(
                    get_ci(c, "batchSize")
                        .and_then(Value::as_int)
                        .unwrap_or(1)
                        .max(1),
                )
            }
            _ => None,
        };
        for own in iterations {
            let mut copy_ctx = outer_copy.to_vec();
            if let Some(c) = &own {
                copy_ctx.push(c.clone());
            }
            self.copy_stack = copy_ctx.clone();
            self.expand_one(
                raw,
                &path,
                symbolic.clone(),
                parent,
                nested_in,
                copy_ctx,
                own,
                serial_batch,
                target,
            )?;
        }
        self.copy_stack.clear();
        Ok(())
    }

    /// Expands one instance; expressions in its name, type and dependencies that use
    /// `reference()` count as its implicit dependencies.
    #[allow(clippy::too_many_arguments)] // See `expand`.
    fn expand_one(
        &mut self,
        raw: &'t Object,
        path: &str,
        symbolic: Option<String>,
        parent: Option<usize>,
        nested_in: Option<usize>,
        copy_ctx: Vec<(String, i64)>,
        own_copy: Option<(String, i64)>,
        serial_batch: Option<i64>,
        target: &Target,
    ) -> Result<(), TemplateError> {
        let saved = self.current.replace(self.instances.len());
        let r = self.expand_one_inner(
            raw,
            path,
            symbolic,
            parent,
            nested_in,
            copy_ctx,
            own_copy,
            serial_batch,
            target,
        );
        self.current = saved;
        r
    }

    #[allow(clippy::too_many_arguments)] // See `expand`.
    fn expand_one_inner(
        &mut self,
        raw: &'t Object,
        path: &str,
        symbolic: Option<String>,
        parent: Option<usize>,
        nested_in: Option<usize>,
        copy_ctx: Vec<(String, i64)>,
        own_copy: Option<(String, i64)>,
        serial_batch: Option<i64>,
        target: &Target,
    ) -> Result<(), TemplateError> {
        let enabled = match raw
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("condition"))
        {
            None => true,
            Some((k, c)) => match self.eval_node(c, &format!("{path}.{k}"))? {
                Value::Bool(b) => b,
                // Known only at deployment time: plan the resource as if it will exist.
                Value::Deferred(_) => true,
                other => {
                    return Err(self.error(
                        ErrorCode::InvalidTemplate,
                        format!(
                            "The resource condition must be a Boolean, but it is of type '{}'.",
                            other.type_name()
                        ),
                        &format!("{path}.{k}"),
                    ));
                }
            },
        };
        let existing = matches!(get_ci(raw, "existing"), Some(Value::Bool(true)));
        let mut ty = self.eval_str_field(raw, "type", path)?.ok_or_else(|| {
            self.error(
                ErrorCode::InvalidTemplate,
                "The template resource is missing its 'type'.",
                path,
            )
        })?;
        let mut name = self.eval_str_field(raw, "name", path)?.ok_or_else(|| {
            self.error(
                ErrorCode::InvalidTemplate,
                "The template resource is missing its 'name'.",
                path,
            )
        })?;
        let api_version = self
            .eval_str_field(raw, "apiVersion", path)?
            .unwrap_or_default();
        if api_version.is_empty() && !existing {
            return Err(self.error(
                ErrorCode::InvalidTemplate,
                format!(
                    "The template resource '{name}' of type '{ty}' is missing its 'apiVersion'."
                ),
                path,
            ));
        }
        if let Some(p) = parent
            && !ty.contains('/')
        {
            let (pt, pn) = (&self.instances[p].resource_type, &self.instances[p].name);
            ty = format!("{pt}/{ty}");
            name = format!("{pn}/{name}");
        }
        // Cross-scope placement: `resourceGroup`, `subscriptionId` and `scope` properties.
        let mut own_target = target.clone();
        let rg = self.eval_str_field(raw, "resourceGroup", path)?;
        let sub = self.eval_str_field(raw, "subscriptionId", path)?;
        if let Some(s) = &sub {
            own_target.subscription_id = s.clone();
            own_target.scope = DeploymentScope::Subscription;
        }
        if let Some(r) = &rg {
            own_target.resource_group = r.clone();
            own_target.scope = DeploymentScope::ResourceGroup;
        }
        let scope_prop = self.eval_str_field(raw, "scope", path)?;
        let is_deployment = ty.eq_ignore_ascii_case("Microsoft.Resources/deployments");
        let base = match &scope_prop {
            Some(s) => self.scope_base(s, &own_target),
            None => own_target.base(),
        };
        let id = if ty.eq_ignore_ascii_case("Microsoft.Resources/resourceGroups") {
            format!(
                "/subscriptions/{}/resourceGroups/{name}",
                own_target.subscription_id
            )
        } else if name.starts_with('[') {
            format!("{base}/providers/{ty}/{name}")
        } else {
            let type_segs: Vec<&str> = ty.split('/').collect();
            let name_segs: Vec<&str> = name.split('/').collect();
            if type_segs.len() < 2 || type_segs.len() != name_segs.len() + 1 {
                return Err(self.error(
                    ErrorCode::InvalidTemplate,
                    format!(
                        "Deployment template validation failed: 'The template resource '{name}' for type '{ty}' has incorrect segment lengths. A nested resource type must have identical number of segments as its resource name. A root resource type must have segment length one greater than its resource name.'"
                    ),
                    path,
                ));
            }
            let mut id = format!("{base}/providers/{}", type_segs[0]);
            for (t, n) in type_segs[1..].iter().zip(&name_segs) {
                id.push('/');
                id.push_str(t);
                id.push('/');
                id.push_str(n);
            }
            id
        };
        let mut declared_deps = Vec::new();
        if let Some((k, deps)) = raw
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("dependsOn"))
        {
            let dpath = format!("{path}.{k}");
            match self.eval_node(deps, &dpath)? {
                Value::Array(items) => {
                    for (j, d) in items.into_iter().enumerate() {
                        match d {
                            Value::String(s) => declared_deps.push((s, format!("{dpath}[{j}]"))),
                            Value::Deferred(d) => declared_deps
                                .push((format!("[{}]", d.expr), format!("{dpath}[{j}]"))),
                            other => {
                                return Err(self.error(
                                    ErrorCode::InvalidTemplate,
                                    format!("A 'dependsOn' entry must be a string, but it is of type '{}'.", other.type_name()),
                                    &format!("{dpath}[{j}]"),
                                ));
                            }
                        }
                    }
                }
                _ => {
                    return Err(self.error(
                        ErrorCode::InvalidTemplate,
                        "The resource 'dependsOn' must be an array.",
                        &dpath,
                    ));
                }
            }
        }
        let props = get_ci(raw, "properties").and_then(Value::as_object);
        let inner_scope = is_deployment
            && props
                .and_then(|p| get_ci(p, "expressionEvaluationOptions"))
                .and_then(|o| o.get("scope"))
                .and_then(Value::as_str)
                .is_some_and(|s| s.eq_ignore_ascii_case("inner"));
        let idx = self.instances.len();
        self.instances.push(Instance {
            raw,
            path: path.to_owned(),
            symbolic,
            copy_ctx: copy_ctx.clone(),
            own_copy,
            serial_batch,
            resource_type: ty,
            name,
            id,
            api_version,
            existing,
            enabled: enabled && parent.is_none_or(|p| self.instances[p].enabled),
            parent,
            nested_in,
            target: own_target.clone(),
            is_deployment,
            inner_scope,
            declared_deps,
            state: State::Pending,
            body: Object::new(),
            nested: None,
            nested_outputs: None,
        });
        // Child resources declared inside this one (classic templates).
        if let Some(Value::Array(children)) = get_ci(raw, "resources") {
            for (j, c) in children.iter().enumerate() {
                self.expand(
                    c,
                    format!("{path}.resources[{j}]"),
                    None,
                    Some(idx),
                    nested_in,
                    &copy_ctx,
                    target,
                )?;
            }
        }
        // Outer-scope nested templates are part of this frame: their expressions see this
        // frame's parameters and variables.
        if is_deployment
            && !inner_scope
            && let Some(Value::Object(inner)) = props.and_then(|p| get_ci(p, "template"))
        {
            let child_target = deployment_target(&own_target, rg.is_some(), sub.is_some());
            match get_ci(inner, "resources") {
                Some(Value::Array(rs)) => {
                    for (j, r) in rs.iter().enumerate() {
                        let p = format!("{path}.properties.template.resources[{j}]");
                        self.expand(r, p, None, None, Some(idx), &copy_ctx, &child_target)?;
                    }
                }
                Some(Value::Object(rs)) => {
                    for (sym, r) in rs {
                        let p = format!("{path}.properties.template.resources.{sym}");
                        self.expand(
                            r,
                            p,
                            Some(sym.clone()),
                            None,
                            Some(idx),
                            &copy_ctx,
                            &child_target,
                        )?;
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The ID prefix for an extension resource's `scope` property.
    fn scope_base(&mut self, scope: &str, target: &Target) -> String {
        if scope.starts_with('/') {
            return scope.trim_end_matches('/').to_owned();
        }
        if let Some(i) = self.find(scope, false).first() {
            return self.instances[*i].id.clone();
        }
        // A relative ID such as `Microsoft.Storage/storageAccounts/name`.
        format!(
            "{}/providers/{}",
            target.base(),
            scope.trim_end_matches('/')
        )
    }

    // ---- finding resources ---------------------------------------------------------------------

    /// Instances a `dependsOn` entry or a `reference()` target names: symbolic name (with an
    /// optional `[index]`), full ID, relative `Namespace/type/name` ID, copy loop name (only
    /// for `dependsOn`), or plain resource name.
    fn find(&self, target: &str, allow_loop: bool) -> Vec<usize> {
        let t = target.trim();
        if self.template.is_symbolic() {
            let (sym, index) = match t.strip_suffix(']').and_then(|x| x.split_once('[')) {
                Some((s, i)) => (s, i.trim().parse::<i64>().ok()),
                None => (t, None),
            };
            let hits: Vec<usize> = self
                .instances
                .iter()
                .enumerate()
                .filter(|(_, inst)| {
                    inst.symbolic
                        .as_deref()
                        .is_some_and(|s| s.eq_ignore_ascii_case(sym))
                        && index
                            .is_none_or(|i| inst.own_copy.as_ref().is_some_and(|(_, c)| *c == i))
                })
                .map(|(i, _)| i)
                .collect();
            if !hits.is_empty() {
                return hits;
            }
        }
        let by = |pred: &dyn Fn(&Instance<'_>) -> bool| -> Vec<usize> {
            self.instances
                .iter()
                .enumerate()
                .filter(|(_, i)| pred(i))
                .map(|(i, _)| i)
                .collect()
        };
        if t.starts_with('/') {
            return by(&|i| i.id.eq_ignore_ascii_case(t));
        }
        if allow_loop {
            let hits = by(&|i| {
                i.own_copy
                    .as_ref()
                    .is_some_and(|(n, _)| n.eq_ignore_ascii_case(t))
            });
            if !hits.is_empty() {
                return hits;
            }
        }
        if t.contains('/') {
            let hits = by(&|i| relative_id(&i.id).is_some_and(|r| r.eq_ignore_ascii_case(t)));
            if !hits.is_empty() {
                return hits;
            }
        }
        let hits = by(&|i| i.name.eq_ignore_ascii_case(t));
        if !hits.is_empty() {
            return hits;
        }
        // A child declared inside its parent is known by its own short name too, as Azure
        // resolves `"dependsOn": ["Subnet1"]` for `VNet1/Subnet1` declared under `VNet1`.
        by(&|i| {
            i.parent.is_some()
                && i.name
                    .rsplit('/')
                    .next()
                    .is_some_and(|n| n.eq_ignore_ascii_case(t))
        })
    }

    // ---- pass 2: bodies -----------------------------------------------------------------------

    fn ensure_body(&mut self, idx: usize) -> Result<(), TemplateError> {
        match self.instances[idx].state {
            State::Done => return Ok(()),
            State::Evaluating => {
                let inst = &self.instances[idx];
                return Err(self.error(
                    ErrorCode::CircularDependency,
                    format!("Deployment template validation failed: 'Circular dependency detected on resource: '{}'.'", inst.id),
                    &inst.path,
                ));
            }
            State::Pending => {}
        }
        if !self.instances[idx].enabled {
            self.instances[idx].state = State::Done;
            return Ok(());
        }
        self.instances[idx].state = State::Evaluating;
        let saved_copy =
            std::mem::replace(&mut self.copy_stack, self.instances[idx].copy_ctx.clone());
        let saved_current = self.current.replace(idx);
        let r = self.evaluate_body(idx);
        self.copy_stack = saved_copy;
        self.current = saved_current;
        self.instances[idx].state = State::Done;
        r
    }

    fn evaluate_body(&mut self, idx: usize) -> Result<(), TemplateError> {
        let raw = self.instances[idx].raw;
        let path = self.instances[idx].path.clone();
        let is_deployment = self.instances[idx].is_deployment;
        let mut body = Object::new();
        for (k, v) in raw {
            if META_KEYS.iter().any(|m| m.eq_ignore_ascii_case(k)) {
                continue;
            }
            let p = format!("{path}.{k}");
            if is_deployment && k.eq_ignore_ascii_case("properties") {
                body.insert(k.clone(), self.deployment_properties(v, &p)?);
            } else {
                body.insert(k.clone(), self.eval_node(v, &p)?);
            }
        }
        self.instances[idx].body = body;
        if is_deployment {
            self.plan_nested(idx)?;
        }
        Ok(())
    }

    /// A deployment's properties: everything evaluated here except the nested template, whose
    /// expressions belong to the nested deployment.
    fn deployment_properties(&mut self, v: &Value, path: &str) -> Result<Value, TemplateError> {
        let Value::Object(o) = v else {
            return self.eval_node(v, path);
        };
        let mut out = Object::new();
        for (k, x) in o {
            if k.eq_ignore_ascii_case("template") {
                out.insert(k.clone(), x.clone());
            } else {
                out.insert(k.clone(), self.eval_node(x, &format!("{path}.{k}"))?);
            }
        }
        Ok(Value::Object(out))
    }

    fn plan_nested(&mut self, idx: usize) -> Result<(), TemplateError> {
        let inst = &self.instances[idx];
        let props = inst
            .body
            .get("properties")
            .or_else(|| get_ci(&inst.body, "properties"));
        let Some(Value::Object(props)) = props.cloned() else {
            return Ok(());
        };
        let Some(Value::Object(inner)) = get_ci(&props, "template").cloned() else {
            // A linked template (templateLink) cannot be read offline.
            return Ok(());
        };
        let path = inst.path.clone();
        if !inst.inner_scope {
            let raw_outputs = get_ci(inst.raw, "properties")
                .and_then(|p| p.get("template"))
                .and_then(|t| t.get("outputs"));
            let outputs =
                self.outputs(raw_outputs, &format!("{path}.properties.template.outputs"))?;
            self.instances[idx].nested_outputs = Some(outputs_value(&outputs));
            return Ok(());
        }
        if self.depth + 1 >= limits::NESTING {
            return Err(self.error(
                ErrorCode::LimitExceeded,
                format!(
                    "Nested deployments are more than {} levels deep.",
                    limits::NESTING
                ),
                &path,
            ));
        }
        let mut supplied = Vec::new();
        if let Some(Value::Object(ps)) = get_ci(&props, "parameters") {
            for (k, entry) in ps {
                let v = match entry.get("value") {
                    Some(v) => v.clone(),
                    None if entry.get("reference").is_some() => {
                        Value::Deferred(crate::value::Deferred {
                            expr: format!("keyVaultSecret('{k}')"),
                        })
                    }
                    None => {
                        return Err(self.error(
                            ErrorCode::InvalidParameter,
                            format!("The nested deployment parameter '{k}' has neither a 'value' nor a 'reference'."),
                            &format!("{path}.properties.parameters.{k}"),
                        ));
                    }
                };
                supplied.push((k.clone(), v));
            }
        }
        let tpath = format!("{path}.properties.template");
        let child_spans = self.spans.and_then(|s| s.node(&tpath)).cloned();
        let template = Template::from_value_with_spans(Value::Object(inner), child_spans)
            .map_err(|e| prefix(e, &tpath))?;
        let t = self.instances[idx].target.clone();
        let mut ctx = self.ctx.clone();
        let has_rg = get_ci(self.instances[idx].raw, "resourceGroup").is_some();
        let has_sub = get_ci(self.instances[idx].raw, "subscriptionId").is_some();
        let child = deployment_target(&t, has_rg, has_sub);
        ctx.scope = child.scope;
        ctx.subscription_id = child.subscription_id;
        ctx.resource_group.name = child.resource_group;
        ctx.deployment_name = self.instances[idx].name.clone();
        if let Some(Value::String(l)) = get_ci(&self.instances[idx].body, "location") {
            ctx.location = l.clone();
        }
        let result = plan_frame(
            &template,
            supplied,
            ctx,
            self.resolver,
            self.depth + 1,
            template.spans(),
        )
        .map_err(|e| prefix(e, &tpath))?;
        self.instances[idx].nested_outputs = Some(outputs_value(&result.outputs));
        self.instances[idx].nested = Some(result);
        Ok(())
    }

    // ---- outputs ------------------------------------------------------------------------------

    fn outputs(
        &mut self,
        raw: Option<&Value>,
        path: &str,
    ) -> Result<IndexMap<String, PlannedOutput>, TemplateError> {
        let mut out = IndexMap::new();
        let Some(Value::Object(outputs)) = raw else {
            return Ok(out);
        };
        let saved_current = self.current.take();
        let saved_copy = std::mem::take(&mut self.copy_stack);
        let r = (|| {
            for (name, o) in outputs {
                let p = format!("{path}.{name}");
                let Value::Object(decl) = o else {
                    return Err(self.error(
                        ErrorCode::InvalidTemplate,
                        format!("The template output '{name}' must be an object."),
                        &p,
                    ));
                };
                if let Some(c) = get_ci(decl, "condition") {
                    match self.eval_node(c, &format!("{p}.condition"))? {
                        Value::Bool(false) => continue,
                        Value::Bool(true) | Value::Deferred(_) => {}
                        other => {
                            return Err(self.error(
                                ErrorCode::InvalidTemplate,
                                format!("The output condition must be a Boolean, but it is of type '{}'.", other.type_name()),
                                &format!("{p}.condition"),
                            ));
                        }
                    }
                }
                let ty = get_ci(decl, "type")
                    .and_then(Value::as_str)
                    .unwrap_or("object")
                    .to_owned();
                let value = if let Some(copy) = get_ci(decl, "copy") {
                    let count = self.copy_count(copy.get("count"), &format!("{p}.copy.count"))?;
                    let Some(input) = copy.get("input") else {
                        return Err(self.error(
                            ErrorCode::InvalidTemplate,
                            format!("The copy loop of output '{name}' has no 'input'."),
                            &p,
                        ));
                    };
                    let mut items = Vec::new();
                    for i in 0..count {
                        self.copy_stack.push((String::new(), i));
                        let r = self.eval_node(input, &format!("{p}.copy.input"));
                        self.copy_stack.pop();
                        items.push(r?);
                    }
                    Value::Array(items)
                } else {
                    match get_ci(decl, "value") {
                        Some(v) => self.eval_node(v, &format!("{p}.value"))?,
                        None => Value::Null,
                    }
                };
                let nullable = matches!(get_ci(decl, "nullable"), Some(Value::Bool(true)));
                if crate::eval::type_mismatch(&value, &ty).is_some()
                    && !(nullable && value.is_null())
                {
                    return Err(self.error(
                        ErrorCode::InvalidTemplate,
                        format!(
                            "The template output '{name}' is not valid: Template output JToken type is not valid. Expected '{}'. Actual '{}'.",
                            output_type_name(&ty),
                            value.type_name()
                        ),
                        &p,
                    ));
                }
                out.insert(
                    name.clone(),
                    PlannedOutput {
                        output_type: output_type_name(&ty),
                        value,
                    },
                );
            }
            Ok(out)
        })();
        self.current = saved_current;
        self.copy_stack = saved_copy;
        r
    }

    // ---- pass 3: wiring -----------------------------------------------------------------------

    #[allow(clippy::needless_range_loop)] // Indexes tie instances, edges and output slots together.
    fn wire(
        mut self,
        outputs: IndexMap<String, PlannedOutput>,
    ) -> Result<FrameResult, TemplateError> {
        let n = self.instances.len();
        let mut deps: Vec<Vec<usize>> = vec![Vec::new(); n];
        for i in 0..n {
            let inst = &self.instances[i];
            if !inst.enabled || inst.existing {
                continue;
            }
            for (d, dpath) in &inst.declared_deps {
                let hits = self.find(d, true);
                if hits.is_empty() {
                    return Err(self.error(
                        ErrorCode::InvalidTemplate,
                        format!("Deployment template validation failed: 'The resource '{d}' is not defined in the template. Please see https://aka.ms/arm-syntax for usage details.'"),
                        dpath,
                    ));
                }
                deps[i].extend(hits);
            }
            if let Some(p) = inst.parent {
                deps[i].push(p);
            }
            if let (Some(batch), Some((loop_name, index))) = (inst.serial_batch, &inst.own_copy) {
                // Serial copy: each batch waits for the whole previous batch.
                let prev = index / batch - 1;
                if prev >= 0 {
                    for (j, other) in self.instances.iter().enumerate() {
                        if std::ptr::eq(other.raw, inst.raw)
                            && other.copy_ctx[..other.copy_ctx.len().saturating_sub(1)]
                                == inst.copy_ctx[..inst.copy_ctx.len().saturating_sub(1)]
                            && other
                                .own_copy
                                .as_ref()
                                .is_some_and(|(l, k)| l == loop_name && k / batch == prev)
                        {
                            deps[i].push(j);
                        }
                    }
                }
            }
        }
        for &(from, to) in &self.implicit {
            deps[from].push(to);
        }
        // Outer-scope nested resources start after their deployment's dependencies; the
        // deployment completes after them.
        for i in 0..n {
            if let Some(d) = self.instances[i].nested_in {
                let inherited = deps[d].clone();
                deps[i].extend(inherited);
                deps[d].push(i);
            }
        }
        let deployed = |inst: &Instance<'_>| inst.enabled && !inst.existing;
        let mut map = vec![usize::MAX; n];
        let mut resources = Vec::new();
        let mut out_deps: Vec<Vec<usize>> = Vec::new();
        let mut skipped = Vec::new();
        let mut nested_spans: Vec<(usize, usize, usize)> = Vec::new();
        for i in 0..n {
            let inst = &mut self.instances[i];
            if inst.existing {
                continue;
            }
            if !inst.enabled {
                skipped.push(inst.id.clone());
                continue;
            }
            map[i] = resources.len();
            let mut body = std::mem::take(&mut inst.body);
            let properties = body.shift_remove("properties").unwrap_or(Value::Null);
            let location = body.shift_remove("location");
            resources.push(PlannedResource {
                id: inst.id.clone(),
                resource_type: inst.resource_type.clone(),
                name: inst.name.clone(),
                api_version: inst.api_version.clone(),
                location,
                depends_on: Vec::new(),
                properties,
                extra: body,
                symbolic_name: inst.symbolic.clone(),
                copy: inst.own_copy.clone(),
                deployment: None,
            });
            out_deps.push(Vec::new());
            if let Some(child) = inst.nested.take() {
                let base = resources.len();
                let count = child.resources.len();
                let dep_id = inst.id.clone();
                for (mut r, ds) in child.resources.into_iter().zip(child.deps) {
                    r.deployment.get_or_insert_with(|| dep_id.clone());
                    resources.push(r);
                    out_deps.push(ds.into_iter().map(|d| d + base).collect());
                }
                skipped.extend(child.skipped);
                nested_spans.push((map[i], base, count));
            }
        }
        for i in 0..n {
            if map[i] == usize::MAX {
                continue;
            }
            let mut ds: Vec<usize> = deps[i]
                .iter()
                .filter(|&&d| d != i && deployed(&self.instances[d]))
                .map(|&d| map[d])
                .filter(|&d| d != usize::MAX)
                .collect();
            ds.sort_unstable();
            ds.dedup();
            out_deps[map[i]] = ds;
        }
        for (i, inst) in self.instances.iter().enumerate() {
            if map[i] != usize::MAX
                && let Some(d) = inst.nested_in
                && map[d] != usize::MAX
            {
                resources[map[i]].deployment = Some(self.instances[d].id.clone());
            }
        }
        for (dep, base, count) in nested_spans {
            let inherited = out_deps[dep].clone();
            for j in base..base + count {
                out_deps[j].extend(inherited.iter().copied());
                out_deps[j].sort_unstable();
                out_deps[j].dedup();
            }
            out_deps[dep].extend(base..base + count);
        }
        let ids: Vec<String> = resources.iter().map(|r| r.id.clone()).collect();
        for (r, ds) in resources.iter_mut().zip(&out_deps) {
            r.depends_on = ds.iter().map(|&d| ids[d].clone()).collect();
        }
        Ok(FrameResult {
            resources,
            deps: out_deps,
            outputs,
            skipped,
        })
    }
}

impl Scope for Frame<'_> {
    fn context(&self) -> &DeploymentContext {
        &self.ctx
    }

    fn parameter(&mut self, name: &str) -> Result<Value, String> {
        self.lazy_value(Named::Parameter, name)
    }

    fn variable(&mut self, name: &str) -> Result<Value, String> {
        self.lazy_value(Named::Variable, name)
    }

    fn copy_index(&self, loop_name: Option<&str>) -> Result<i64, String> {
        match loop_name {
            None => self.copy_stack.last().map(|(_, i)| *i).ok_or_else(|| {
                "The template function 'copyIndex' is not expected at this location. The function can only be used in a resource, property or variable with a copy loop.".to_owned()
            }),
            Some(l) => self
                .copy_stack
                .iter()
                .rev()
                .find(|(n, _)| n.eq_ignore_ascii_case(l))
                .map(|(_, i)| *i)
                .ok_or_else(|| format!("The template copy loop '{l}' is not found or copyIndex('{l}') is not used inside it.")),
        }
    }

    fn user_function(&self, namespace: &str, name: &str) -> Option<std::sync::Arc<UserFunction>> {
        self.template.user_function(namespace, name)
    }

    fn resolver(&self) -> &dyn Resolver {
        self.resolver
    }

    fn next_sequence(&mut self) -> u64 {
        self.sequence += 1;
        self.sequence
    }

    fn allows_nondeterministic(&self) -> bool {
        self.in_default > 0
    }

    fn deployment(&self) -> Value {
        let mut props = Object::new();
        props.insert(
            "template".into(),
            Value::Object(self.template.root().clone()),
        );
        props.insert(
            "templateHash".into(),
            Value::String(crate::hash::template_hash(&Value::Object(
                self.template.root().clone(),
            ))),
        );
        let mut params = Object::new();
        for (k, v) in &self.supplied {
            let mut o = Object::new();
            o.insert("value".into(), v.clone());
            params.insert(k.clone(), Value::Object(o));
        }
        props.insert("parameters".into(), Value::Object(params));
        props.insert("mode".into(), Value::str("Incremental"));
        props.insert("provisioningState".into(), Value::str("Accepted"));
        let mut o = Object::new();
        o.insert("name".into(), Value::str(&self.ctx.deployment_name));
        o.insert("properties".into(), Value::Object(props));
        if self.ctx.scope != DeploymentScope::ResourceGroup {
            o.insert("location".into(), Value::str(&self.ctx.location));
        }
        Value::Object(o)
    }

    fn local_reference(&mut self, target: &str, full: bool) -> Option<Result<Value, String>> {
        if let Some(sym) = target.strip_prefix("references:") {
            let hits = self.find(sym, true);
            if hits.is_empty() {
                return None;
            }
            let mut items = Vec::new();
            for h in hits {
                match self.local_reference_one(h, full) {
                    Ok(Some(v)) => items.push(v),
                    Ok(None) => {
                        let id = &self.instances[h].id;
                        items.push(Value::Deferred(crate::value::Deferred {
                            expr: format!(
                                "reference('{id}'{})",
                                if full { ", 'Full'" } else { "" }
                            ),
                        }));
                    }
                    Err(m) => return Some(Err(m)),
                }
            }
            return Some(Ok(Value::Array(items)));
        }
        let hits = self.find(target, false);
        let &[h] = hits.as_slice() else {
            return None;
        };
        match self.local_reference_one(h, full) {
            Ok(Some(v)) => Some(Ok(v)),
            Ok(None) => None,
            Err(m) => Some(Err(m)),
        }
    }

    fn local_resource_id(&mut self, name: &str) -> Option<String> {
        if name.starts_with('/') {
            return None;
        }
        match self.find(name, false).as_slice() {
            [h] => Some(self.instances[*h].id.clone()),
            _ => None,
        }
    }
}

/// Parameters and variables are evaluated on first use, once.
#[derive(Default)]
struct LazyValues {
    values: HashMap<String, Value>,
    in_progress: Vec<String>,
}

#[derive(Clone, Copy)]
enum Named {
    Parameter,
    Variable,
}

impl Frame<'_> {
    /// A parameter's or variable's value, evaluated on first use; a name that needs itself is
    /// an error naming the chain. The precise error (with its path) is kept in `pending`.
    fn lazy_value(&mut self, kind: Named, name: &str) -> Result<Value, String> {
        let key = name.to_ascii_lowercase();
        let (slot, word) = match kind {
            Named::Parameter => (&mut self.params, "parameter"),
            Named::Variable => (&mut self.vars, "variable"),
        };
        if let Some(v) = slot.values.get(&key) {
            return Ok(v.clone());
        }
        if slot.in_progress.contains(&key) {
            let mut chain = slot.in_progress.clone();
            chain.push(key);
            return Err(format!(
                "The template {word} '{name}' refers to itself: {}.",
                chain.join(" -> ")
            ));
        }
        slot.in_progress.push(key.clone());
        let r = match kind {
            Named::Parameter => self.resolve_parameter(name),
            Named::Variable => self.resolve_variable(name),
        };
        let slot = match kind {
            Named::Parameter => &mut self.params,
            Named::Variable => &mut self.vars,
        };
        slot.in_progress.pop();
        match r {
            Ok(v) => {
                slot.values.insert(key, v.clone());
                Ok(v)
            }
            Err(e) => {
                let m = e.message.clone();
                if e.path.is_some() {
                    self.pending.get_or_insert(e);
                }
                Err(m)
            }
        }
    }
}

impl Frame<'_> {
    /// The locally known value of `reference()` to one instance, recording the implicit
    /// dependency; `Ok(None)` when only Azure knows it.
    fn local_reference_one(&mut self, h: usize, full: bool) -> Result<Option<Value>, String> {
        if let Some(c) = self.current
            && c != h
        {
            self.implicit.push((c, h));
        }
        if !self.instances[h].is_deployment || self.instances[h].existing {
            return Ok(None);
        }
        if self.instances[h].state == State::Evaluating {
            return Err(format!(
                "Circular dependency detected on resource: '{}'.",
                self.instances[h].id
            ));
        }
        if let Err(e) = self.ensure_body(h) {
            let m = e.message.clone();
            self.pending.get_or_insert(e);
            return Err(m);
        }
        let Some(outputs) = self.instances[h].nested_outputs.clone() else {
            return Ok(None);
        };
        let mut props = Object::new();
        props.insert("outputs".into(), outputs);
        props.insert("provisioningState".into(), Value::str("Succeeded"));
        if !full {
            return Ok(Some(Value::Object(props)));
        }
        let inst = &self.instances[h];
        let mut o = Object::new();
        o.insert("id".into(), Value::str(&inst.id));
        o.insert("name".into(), Value::str(&inst.name));
        o.insert("type".into(), Value::str(&inst.resource_type));
        o.insert("apiVersion".into(), Value::str(&inst.api_version));
        o.insert("properties".into(), Value::Object(props));
        Ok(Some(Value::Object(o)))
    }
}

/// True when an object's `copy` value is a list of property copy loops.
fn is_property_copy(v: &Value) -> bool {
    match v {
        Value::Array(items) => {
            !items.is_empty()
                && items
                    .iter()
                    .all(|i| i.get("name").is_some() && i.get("input").is_some())
        }
        _ => false,
    }
}

/// The target of a nested deployment's own resources.
fn deployment_target(t: &Target, has_rg: bool, has_sub: bool) -> Target {
    let mut child = t.clone();
    if has_rg {
        child.scope = DeploymentScope::ResourceGroup;
    } else if has_sub {
        child.scope = DeploymentScope::Subscription;
    }
    child
}

/// `Namespace/type/name/...` part of a full resource ID (after the last `/providers/`).
fn relative_id(id: &str) -> Option<&str> {
    let lower = id.to_ascii_lowercase();
    lower
        .rfind("/providers/")
        .map(|i| &id[i + "/providers/".len()..])
}

/// Outputs as `reference(deployment).outputs` shows them: `{name: {type, value}}`.
fn outputs_value(outputs: &IndexMap<String, PlannedOutput>) -> Value {
    let mut o = Object::new();
    for (k, out) in outputs {
        let mut e = Object::new();
        e.insert("type".into(), Value::str(&out.output_type));
        e.insert("value".into(), out.value.clone());
        o.insert(k.clone(), Value::Object(e));
    }
    Value::Object(o)
}

fn output_type_name(ty: &str) -> String {
    match ty.to_ascii_lowercase().as_str() {
        "string" => "String".into(),
        "securestring" => "SecureString".into(),
        "int" => "Int".into(),
        "bool" => "Bool".into(),
        "object" => "Object".into(),
        "secureobject" => "SecureObject".into(),
        "array" => "Array".into(),
        _ => ty.to_owned(),
    }
}

/// Re-roots a nested template's error path under the outer template.
fn prefix(mut e: TemplateError, outer: &str) -> TemplateError {
    e.path = Some(match e.path.take() {
        Some(p) => format!("{outer}.{p}"),
        None => outer.to_owned(),
    });
    e
}
