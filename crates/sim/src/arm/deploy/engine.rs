//! Reading a deployment request and turning it into a plan, a preflight verdict, a schedule
//! and the records ARM keeps: what PUT, validate and what-if share.
//!
//! The request body is read as ARM reads it (lenient JSON: comments, unquoted names, see
//! recordings/azure-cli/test_group_on_error_deployment_lastsuccessful.yaml). The template is
//! planned with landfall-template in a [`DeploymentContext`] built from the target, then
//! planned again with a resolver that knows what the created resources will look like, so
//! `reference()` and `list*()` in properties and outputs get real values.
//!
//! Errors: everything that refuses a request is an [`ArmError`] (status and ARM's error body),
//! from the body reader, the name rules, the template ([`template_error`]) and preflight; the
//! deployments handlers return it as the response. Nothing here touches the state: a
//! [`Submission`] reads what exists and returns the records for the handler to store.

use std::collections::HashMap;

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value as Json, json};
use time::OffsetDateTime;

use landfall_template::context::{
    DeploymentContext, DeploymentScope, ResourceGroupInfo, deployer_value,
};
use landfall_template::hash::{guid, murmur64, template_hash};
use landfall_template::template::{ParameterValue, Parameters};
use landfall_template::value::get_ci;
use landfall_template::{ErrorCode, Plan, PlannedResource, Template, TemplateError, Value};

use super::runtime::{self, RuntimeContext, RuntimeResolver};
use super::{preflight, render, schedule, text, whatif};
use crate::arm::deployments::{Deployment, Failure, Operation};
use crate::arm::groups::{GroupsState, ResourceGroup, group_id};
use crate::http::{Caller, arm_error_body};
use crate::{Identity, Sim};

/// An ARM error response: status and `{"error": {...}}` body.
#[derive(Clone, Debug)]
pub struct ArmError {
    /// HTTP status.
    pub status: StatusCode,
    /// The whole body.
    pub body: Json,
}

impl ArmError {
    /// `{"error": {"code", "message"}}`.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ArmError {
            status,
            body: json!({"error": {"code": code, "message": message.into()}}),
        }
    }

    /// `{"error": error}` with a prepared error object (details, additional info).
    pub fn with_error(status: StatusCode, error: Json) -> Self {
        ArmError {
            status,
            body: json!({ "error": error }),
        }
    }

    /// The HTTP response.
    pub fn into_response(self) -> Response {
        arm_error_body(self.status, self.body)
    }
}

/// `400 InvalidRequestContent`, ARM's answer to a body it cannot read.
pub fn invalid_content(detail: &str) -> ArmError {
    ArmError::new(
        StatusCode::BAD_REQUEST,
        "InvalidRequestContent",
        format!("The request content was invalid and could not be deserialized: '{detail}'."),
    )
}

/// `400 InvalidTemplate` for a template error, with where it is as ARM's `TemplateViolation`
/// additional info.
pub fn template_error(e: &TemplateError) -> ArmError {
    let inner = e.message.trim_end_matches('.').to_owned();
    let located = match e.pos {
        Some(p) if !inner.contains("line '") => format!(
            "The template {} at line '{}' and column '{}' is not valid: {inner}",
            what_is_at(e.path.as_deref().unwrap_or("")),
            p.line,
            p.column
        ),
        _ => inner,
    };
    let message = if e.message.starts_with("Deployment template") {
        match e.pos {
            Some(p) if !e.message.contains("line '") => format!(
                "{} (line '{}', column '{}').",
                e.message.trim_end_matches('.'),
                p.line,
                p.column
            ),
            _ => e.message.clone(),
        }
    } else if e.code == ErrorCode::InvalidExpression {
        format!(
            "Deployment template language expression evaluation failed: '{located}'. Please see https://aka.ms/arm-template-expressions for usage details."
        )
    } else {
        format!("Deployment template validation failed: '{located}'.")
    };
    let mut error = json!({"code": "InvalidTemplate", "message": message});
    if let Some(p) = e.pos {
        let path = e.path.as_ref().map_or_else(
            || "properties.template".to_owned(),
            |p| format!("properties.template.{p}"),
        );
        error["additionalInfo"] = json!([{
            "type": "TemplateViolation",
            "info": {"lineNumber": p.line, "linePosition": p.column, "path": path},
        }]);
    }
    ArmError::with_error(StatusCode::BAD_REQUEST, error)
}

/// What a template path points at, as ARM names it in errors (`resource 'resources[0]'`,
/// `output 'url'`, `variable 'x'`).
fn what_is_at(path: &str) -> String {
    let first = path.split('.').next().unwrap_or("");
    let second = path.split('.').nth(1).unwrap_or("");
    match first {
        "outputs" if !second.is_empty() => format!("output '{second}'"),
        "variables" if !second.is_empty() => format!("variable '{second}'"),
        "parameters" if !second.is_empty() => format!("parameter '{second}'"),
        f if f.starts_with("resources") => format!("resource '{f}'"),
        "" => "value".to_owned(),
        f => format!("property '{f}'"),
    }
}

/// A deployment request body, read.
#[derive(Clone)]
pub struct DeploymentRequest {
    /// `location` (subscription-scope deployments).
    pub location: Option<String>,
    /// `tags`.
    pub tags: Option<Map<String, Json>>,
    /// `Incremental` or `Complete`.
    pub mode: String,
    /// The template.
    pub template: Template,
    /// The template as submitted, for `exportTemplate`.
    pub template_json: Json,
    /// Its `templateHash`.
    pub template_hash: String,
    /// Parameter values.
    pub parameters: Parameters,
}

impl std::fmt::Debug for DeploymentRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Parameter values stay out: secure ones among them are secrets.
        f.debug_struct("DeploymentRequest")
            .field("location", &self.location)
            .field("mode", &self.mode)
            .field("template_hash", &self.template_hash)
            .finish_non_exhaustive()
    }
}

/// Reads a PUT/validate/what-if body, with ARM's errors for what it cannot accept.
pub fn parse_request(body: &[u8]) -> Result<DeploymentRequest, ArmError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| invalid_content("The request content is not valid UTF-8."))?;
    if text.trim().is_empty() {
        return Err(invalid_content(
            "Required property 'properties' not found in JSON. Path '', line 1, position 0.",
        ));
    }
    let doc = landfall_template::json::parse(text).map_err(|e| {
        invalid_content(&format!(
            "{}. Path '', line {}, position {}.",
            e.message, e.pos.line, e.pos.column
        ))
    })?;
    let Value::Object(root) = &doc.value else {
        return Err(invalid_content(
            "Unexpected JSON token when reading DeploymentContent. Path '', line 1, position 1.",
        ));
    };
    let Some((props_key, Value::Object(props))) = root
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("properties"))
    else {
        return Err(invalid_content(
            "Required property 'properties' not found in JSON. Path '', line 1, position 1.",
        ));
    };
    let props_spans = doc.spans.prop(props_key);
    let mode = match get_ci(props, "mode") {
        Some(Value::String(m)) if m.eq_ignore_ascii_case("incremental") => "Incremental",
        Some(Value::String(m)) if m.eq_ignore_ascii_case("complete") => "Complete",
        Some(other) => {
            return Err(invalid_content(&format!(
                "Error converting value {} to type 'DeploymentMode'. Path 'properties.mode'",
                other.to_json()
            )));
        }
        None => {
            return Err(invalid_content(
                "Required property 'mode' not found in JSON. Path 'properties'",
            ));
        }
    };
    for link in ["templateLink", "parametersLink"] {
        if let Some(l) = get_ci(props, link).filter(|v| !v.is_null()) {
            let uri = l
                .get("uri")
                .or_else(|| l.get("id"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            return Err(ArmError::new(
                StatusCode::BAD_REQUEST,
                "InvalidContentLink",
                format!(
                    "Unable to download deployment content from '{uri}'. The simulated Azure cannot reach other hosts: send the content inline. Please see https://aka.ms/arm-deploy for usage details."
                ),
            ));
        }
    }
    let template_value = match root_prop(props, "template") {
        Some((_, v @ Value::Object(_))) => v.clone(),
        Some((_, Value::Null)) | None => {
            return Err(invalid_content(
                "The deployment content must have a 'template' or a 'templateLink' property. Path 'properties'",
            ));
        }
        Some((_, other)) => {
            return Err(invalid_content(&format!(
                "Unexpected value of type '{}' for 'properties.template': it must be an object. Path 'properties.template'",
                other.type_name()
            )));
        }
    };
    let template_spans = root_prop(props, "template")
        .and_then(|(k, _)| props_spans.and_then(|s| s.prop(k)))
        .cloned();
    let template = Template::from_value_with_spans(template_value.clone(), template_spans)
        .map_err(|e| template_error(&e))?;
    let parameters = match root_prop(props, "parameters") {
        None | Some((_, Value::Null)) => Parameters::new(),
        Some((k, v @ Value::Object(o))) => {
            if o.is_empty() {
                Parameters::new()
            } else {
                Parameters::from_document(v, props_spans.and_then(|s| s.prop(k)))
                    .map_err(|e| template_error(&e))?
            }
        }
        Some(_) => {
            return Err(invalid_content(
                "The 'parameters' property must be an object. Path 'properties.parameters'",
            ));
        }
    };
    Ok(DeploymentRequest {
        location: get_ci(root, "location")
            .and_then(Value::as_str)
            .map(str::to_owned),
        tags: match get_ci(root, "tags") {
            Some(Value::Object(t)) => match Value::Object(t.clone()).to_json() {
                Json::Object(m) => Some(m),
                _ => None,
            },
            _ => None,
        },
        mode: mode.to_owned(),
        template_json: template_value.to_json(),
        template_hash: template_hash(&template_value),
        template,
        parameters,
    })
}

/// A property of the request body, its name compared case-insensitively as ARM does.
fn root_prop<'a>(
    o: &'a landfall_template::value::Object,
    key: &str,
) -> Option<(&'a String, &'a Value)> {
    o.iter().find(|(k, _)| k.eq_ignore_ascii_case(key))
}

/// ARM's rules for deployment names (1 to 64 letters, digits, `-._()`).
pub fn check_name(name: &str) -> Result<(), ArmError> {
    let len = name.chars().count();
    if len > 64 {
        return Err(ArmError::new(
            StatusCode::BAD_REQUEST,
            "DeploymentNameLengthLimitExceeded",
            format!(
                "The provided deployment name '{name}' has a length of '{len}' which exceeds the maximum length of '64'. Please see https://aka.ms/arm-deploy for usage details."
            ),
        ));
    }
    let bad: String = name
        .chars()
        .filter(|c| !(c.is_alphanumeric() || matches!(c, '-' | '.' | '_' | '(' | ')')))
        .collect();
    if len == 0 || !bad.is_empty() {
        return Err(ArmError::new(
            StatusCode::BAD_REQUEST,
            "DeploymentNameInvalidCharacters",
            format!(
                "The provided deployment name '{name}' has these invalid characters: '{bad}'. The name can only be a letter, digit, '-', '.', '_', '(' or ')'. Please see https://aka.ms/arm-deploy for usage details."
            ),
        ));
    }
    Ok(())
}

/// Where a deployment goes: a subscription, and a resource group for resource-group scope.
#[derive(Clone, Debug)]
pub struct Target {
    /// Subscription ID.
    pub subscription_id: String,
    /// The target resource group (resource-group scope).
    pub group: Option<ResourceGroup>,
    /// Deployment name.
    pub name: String,
}

impl Target {
    /// The deployment's resource ID.
    pub fn deployment_id(&self) -> String {
        match &self.group {
            Some(g) => format!(
                "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Resources/deployments/{}",
                self.subscription_id, g.name, self.name
            ),
            None => format!(
                "/subscriptions/{}/providers/Microsoft.Resources/deployments/{}",
                self.subscription_id, self.name
            ),
        }
    }
}

/// Everything a request needs besides its body.
pub struct Submission<'a> {
    /// The simulator (scenario, speed, random numbers).
    pub sim: &'a Sim,
    /// What exists.
    pub groups: &'a GroupsState,
    /// Tenant and subscription.
    pub identity: &'a Identity,
    /// Where.
    pub target: &'a Target,
    /// The body.
    pub req: &'a DeploymentRequest,
    /// Who.
    pub caller: &'a Caller,
    /// The correlation ID of the request.
    pub correlation: &'a str,
    /// Now.
    pub now: OffsetDateTime,
}

impl Submission<'_> {
    /// The template functions' view of the deployment (`resourceGroup()`, `subscription()`,
    /// `deployment()`, `utcNow()`...); `seed` makes `newGuid()` repeatable for one submission.
    fn context(&self, seed: u64) -> DeploymentContext {
        let t = self.target;
        let (scope, resource_group, mut location) = match &t.group {
            Some(g) => (
                DeploymentScope::ResourceGroup,
                ResourceGroupInfo {
                    name: g.name.clone(),
                    location: g.location.clone(),
                    tags: (!g.tags.is_empty()).then(|| g.tags.clone()),
                    managed_by: g.managed_by.clone(),
                },
                g.location.clone(),
            ),
            None => (
                DeploymentScope::Subscription,
                ResourceGroupInfo::default(),
                String::new(),
            ),
        };
        if let Some(l) = &self.req.location {
            location = l.clone();
        }
        let upn = if self.caller.name.contains('@') {
            self.caller.name.as_str()
        } else {
            ""
        };
        DeploymentContext {
            scope,
            subscription_id: t.subscription_id.clone(),
            subscription_name: self.identity.subscription_name.clone(),
            tenant_id: self.identity.tenant_id.clone(),
            tenant_display_name: self.identity.tenant_name.clone(),
            resource_group,
            deployment_name: t.name.clone(),
            location,
            deployer: deployer_value(&self.caller.object_id, &self.caller.tenant_id, upn),
            now: self.now,
            guid_seed: Some(seed),
            ..DeploymentContext::default()
        }
    }

    /// Plans the template with `resolver` answering `reference()` and `list*()`.
    fn plan(
        &self,
        ctx: &DeploymentContext,
        resolver: &dyn landfall_template::Resolver,
    ) -> Result<Plan, ArmError> {
        landfall_template::plan(&self.req.template, &self.req.parameters, ctx, resolver)
            .map_err(|e| template_error(&e))
    }

    /// The ID of this submission's `operationStatuses` resource.
    fn status_id(&self) -> String {
        text::status_id(&[
            &self.target.deployment_id(),
            self.correlation,
            &text::fmt_time(self.now),
        ])
    }

    /// What the computed values of created resources depend on besides the resources.
    fn runtime_context(&self) -> RuntimeContext {
        RuntimeContext {
            tenant_id: self.identity.tenant_id.clone(),
            now: text::fmt_time(self.now),
        }
    }

    /// Plans and runs preflight: the plan, or the error ARM answers with.
    fn checked_plan(&self, ctx: &DeploymentContext) -> Result<Plan, ArmError> {
        let existing = RuntimeResolver {
            planned: HashMap::new(),
            groups: self.groups,
        };
        let plan = self.plan(ctx, &existing)?;
        let scenario = self.sim.faults.scenario();
        let sub = &self.target.subscription_id;
        let violations = preflight::policy_violations(&plan, scenario, sub);
        if !violations.is_empty() {
            return Err(ArmError::with_error(
                StatusCode::BAD_REQUEST,
                json!({
                    "code": "InvalidTemplateDeployment",
                    "message": "The template deployment failed because of policy violation. Please see details for more information.",
                    "details": violations,
                }),
            ));
        }
        let mut errors = self.missing_groups(&plan);
        errors.extend(preflight::check(&plan, scenario, sub));
        if !errors.is_empty() {
            return Err(ArmError::with_error(
                StatusCode::BAD_REQUEST,
                json!({
                    "code": "InvalidTemplateDeployment",
                    "message": format!(
                        "The template deployment '{}' is not valid according to the validation procedure. The tracking id is '{}'. See inner errors for details.",
                        self.target.name, self.correlation
                    ),
                    "details": [{
                        "code": "PreflightValidationCheckFailed",
                        "message": "Preflight validation failed. Please refer to the details for the specific errors.",
                        "details": errors,
                    }],
                }),
            ));
        }
        Ok(plan)
    }

    /// Resource groups the plan deploys into that neither exist nor are created by it.
    fn missing_groups(&self, plan: &Plan) -> Vec<Json> {
        let created: Vec<String> = plan
            .resources
            .iter()
            .filter(|r| {
                r.resource_type
                    .eq_ignore_ascii_case("Microsoft.Resources/resourceGroups")
            })
            .map(|r| r.id.to_ascii_lowercase())
            .collect();
        let mut missing: Vec<String> = Vec::new();
        for r in &plan.resources {
            let Some(rg) = runtime::resource_group_of(&r.id) else {
                continue;
            };
            let sub = r.id.split('/').nth(2).unwrap_or_default();
            let id = group_id(sub, &rg);
            if self.groups.group(&id).is_none()
                && !created.contains(&id.to_ascii_lowercase())
                && !missing.iter().any(|m| m.eq_ignore_ascii_case(&rg))
            {
                missing.push(rg);
            }
        }
        missing
            .into_iter()
            .map(|rg| {
                json!({
                    "code": "ResourceGroupNotFound",
                    "message": format!("Resource group '{rg}' could not be found."),
                })
            })
            .collect()
    }

    /// The body of a successful `validate`.
    pub fn validate(&self) -> Result<Json, ArmError> {
        let status_id = self.status_id();
        let ctx = self.context(murmur64(status_id.as_bytes()));
        let plan = self.checked_plan(&ctx)?;
        let rctx = self.runtime_context();
        let key = self.target.deployment_id().to_ascii_lowercase();
        let ops = operations(&plan, &key, self.correlation, &status_id, &rctx, |_| {
            (0.0, None)
        });
        let mut props = Map::new();
        props.insert("templateHash".into(), self.req.template_hash.clone().into());
        props.insert("parameters".into(), parameters_echo(self.req, &ctx));
        props.insert("mode".into(), self.req.mode.clone().into());
        props.insert("provisioningState".into(), "Succeeded".into());
        props.insert("timestamp".into(), text::fmt_time(self.now).into());
        props.insert("duration".into(), "PT0S".into());
        props.insert("correlationId".into(), self.correlation.into());
        props.insert("providers".into(), providers_json(&ops, &key));
        props.insert("dependencies".into(), dependencies_json(&ops, &key));
        props.insert(
            "validatedResources".into(),
            plan.resources
                .iter()
                .map(|r| json!({"id": r.id}))
                .collect::<Vec<_>>()
                .into(),
        );
        Ok(render::envelope(
            &self.target.deployment_id(),
            &self.target.name,
            self.req
                .location
                .as_deref()
                .filter(|_| self.target.group.is_none()),
            self.req.tags.as_ref(),
            props,
        ))
    }

    /// The result of a what-if: `{status, properties: {correlationId, changes}}`.
    pub fn what_if(&self) -> Result<Json, ArmError> {
        let ctx = self.context(murmur64(self.status_id().as_bytes()));
        let plan = self.plan(&ctx, &landfall_template::NoResolver)?;
        let group_id = self.target.group.as_ref().map(|g| g.id.clone());
        let changes = whatif::changes(
            &plan,
            self.groups,
            group_id.as_deref(),
            self.req.mode == "Complete",
        );
        Ok(json!({
            "status": "Succeeded",
            "properties": {"correlationId": self.correlation, "changes": changes},
        }))
    }

    /// Plans, checks and schedules a deployment: the top-level record and one record per
    /// nested deployment.
    pub fn submit(&self) -> Result<(Deployment, Vec<Deployment>), ArmError> {
        let id = self.target.deployment_id();
        let key = id.to_ascii_lowercase();
        let status_id = self.status_id();
        let ctx = self.context(murmur64(format!("{key}|{status_id}").as_bytes()));
        let mut plan = self.checked_plan(&ctx)?;
        let rctx = self.runtime_context();
        // Values only the created resources know: plan again with them (twice, for values
        // computed from other computed values).
        for _ in 0..2 {
            let resolver = RuntimeResolver {
                planned: plan
                    .resources
                    .iter()
                    .map(|r| (r.id.to_ascii_lowercase(), runtime::resource_json(r, &rctx)))
                    .collect(),
                groups: self.groups,
            };
            match landfall_template::plan(&self.req.template, &self.req.parameters, &ctx, &resolver)
            {
                Ok(p) => plan = p,
                Err(e) => {
                    // Only where, never the message: it may quote parameter values, secure
                    // ones included.
                    tracing::debug!(
                        code = ?e.code,
                        path = e.path.as_deref().unwrap_or(""),
                        "planning with runtime values failed, keeping the offline plan"
                    );
                    break;
                }
            }
        }
        let speed = speed(self.sim);
        let scenario = self.sim.faults.scenario();
        let sim = self.sim;
        let ops = operations(&plan, &key, self.correlation, &status_id, &rctx, |r| {
            let jitter = 1.0 + (sim.faults.random() * 0.2 - 0.1);
            let duration = schedule::base_duration(&r.resource_type) * jitter / speed;
            (duration, failure_for(sim, scenario, r, speed))
        });
        let mut root = Deployment {
            id: id.clone(),
            name: self.target.name.clone(),
            subscription_id: self.target.subscription_id.clone(),
            resource_group: self.target.group.as_ref().map(|g| g.name.clone()),
            location: self
                .req
                .location
                .clone()
                .filter(|_| self.target.group.is_none()),
            tags: self.req.tags.clone(),
            mode: self.req.mode.clone(),
            template: self.req.template_json.clone(),
            template_hash: self.req.template_hash.clone(),
            parameters: parameters_echo(self.req, &ctx),
            correlation_id: self.correlation.to_owned(),
            status_id,
            submitted: self.now,
            running_at: Some(self.now + schedule::secs(schedule::ACCEPTED_SECS / speed)),
            finish: None,
            canceled_at: None,
            failed: false,
            error: None,
            outputs: Some(outputs_json(&plan)),
            providers: providers_json(&ops, &key),
            dependencies: dependencies_json(&ops, &key),
            root: None,
            operations: ops,
            cleanup_start: None,
            cleanup_end: None,
            cleanup_done: false,
            settled: false,
        };
        schedule::settle_root(&mut root, speed);
        let nested = plan
            .resources
            .iter()
            .filter(|r| is_deployment(r))
            .map(|r| {
                let mut n = nested_record(r, &root);
                schedule::settle_nested(&mut n, &root);
                n
            })
            .collect();
        Ok((root, nested))
    }
}

/// The speed factor, sanitised.
pub fn speed(sim: &Sim) -> f64 {
    let s = sim.options.speed;
    if s.is_finite() && s > 0.0 { s } else { 1.0 }
}

/// True for a nested deployment (`Microsoft.Resources/deployments`).
fn is_deployment(r: &PlannedResource) -> bool {
    r.resource_type
        .eq_ignore_ascii_case("Microsoft.Resources/deployments")
}

/// The conflict error a provider gives when a globally unique name is taken.
fn taken_error(resource_type: &str, name: &str) -> Option<Json> {
    let (code, message) = match resource_type.to_ascii_lowercase().as_str() {
        "microsoft.storage/storageaccounts" => (
            "StorageAccountAlreadyTaken",
            format!("The storage account named {name} is already taken."),
        ),
        "microsoft.keyvault/vaults" => (
            "VaultAlreadyExists",
            format!(
                "The vault name '{name}' is already in use. Vault names are globally unique so it is possible that the name is already taken. If you are sure that the vault name was not taken then it is possible that a vault with the same name was recently deleted but not purged after being placed in a recoverable state. If the vault is in a recoverable state then the vault will need to be purged before reusing the name. For more information on VaultAlreadyExists, soft delete and purging a vault follow this link https://go.microsoft.com/fwlink/?linkid=2147740."
            ),
        ),
        "microsoft.dbformysql/flexibleservers" | "microsoft.dbforpostgresql/flexibleservers" => (
            "ServerNameAlreadyExists",
            "Specified server name is already used.".to_owned(),
        ),
        "microsoft.containerregistry/registries" => (
            "AlreadyInUse",
            format!(
                "The registry DNS name {}.azurecr.io is already in use. You can check if the name is already claimed using following API: https://docs.microsoft.com/en-us/rest/api/containerregistry/registries/checknameavailability",
                name.to_ascii_lowercase()
            ),
        ),
        _ => return None,
    };
    Some(json!({"code": code, "message": message}))
}

/// The HTTP status a provider error comes with.
fn status_for(code: &str) -> &'static str {
    let c = code.to_ascii_lowercase();
    if c.contains("conflict")
        || c.contains("alreadyexists")
        || c.contains("taken")
        || c.contains("inuse")
        || c.contains("quota")
        || c == "operationnotallowed"
    {
        "Conflict"
    } else if c.contains("notfound") {
        "NotFound"
    } else if c.contains("internal") {
        "InternalServerError"
    } else if c.contains("forbidden") || c.contains("authorization") {
        "Forbidden"
    } else {
        "BadRequest"
    }
}

/// Whether (and how) the scenario makes a resource fail.
fn failure_for(
    sim: &Sim,
    scenario: &crate::faults::Scenario,
    r: &PlannedResource,
    speed: f64,
) -> Option<Failure> {
    let last = r.name.rsplit('/').next().unwrap_or(&r.name);
    let is_top_level = !r.name.contains('/');
    if is_top_level
        && scenario
            .taken_names
            .iter()
            .any(|n| n.eq_ignore_ascii_case(last))
        && let Some(error) = taken_error(&r.resource_type, last)
    {
        return Some(Failure {
            status_code: "Conflict".into(),
            after_secs: 3.0 / speed,
            error,
        });
    }
    let f = sim.faults.resource_fault(&r.resource_type, &r.name)?;
    let code = if f.code.is_empty() {
        "ResourceDeploymentFailure".to_owned()
    } else {
        f.code.clone()
    };
    let message = if f.message.is_empty() {
        "The resource write operation failed to complete successfully, because it reached terminal provisioning state 'Failed'.".to_owned()
    } else {
        f.message.clone()
    };
    let error = if f.target.is_empty() {
        json!({"code": code, "message": message})
    } else {
        json!({"code": code, "target": f.target, "message": message})
    };
    Some(Failure {
        status_code: status_for(&code).into(),
        after_secs: f.after_seconds.max(0.0) / speed,
        error,
    })
}

/// One operation per planned resource, dependencies as indexes; `timing` gives each
/// resource's duration and failure.
fn operations(
    plan: &Plan,
    root_key: &str,
    correlation: &str,
    status_id: &str,
    rctx: &RuntimeContext,
    mut timing: impl FnMut(&PlannedResource) -> (f64, Option<Failure>),
) -> Vec<Operation> {
    let index: HashMap<String, usize> = plan
        .resources
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.to_ascii_lowercase(), i))
        .collect();
    plan.resources
        .iter()
        .map(|r| {
            let container = is_deployment(r);
            let (duration_secs, failure) = if container {
                (schedule::NESTED_FINISH_SECS, None)
            } else {
                timing(r)
            };
            Operation {
                operation_id: text::operation_id(&[correlation, status_id, &r.id]),
                owner: r
                    .deployment
                    .as_ref()
                    .map_or_else(|| root_key.to_owned(), |d| d.to_ascii_lowercase()),
                resource_id: r.id.clone(),
                resource_type: r.resource_type.clone(),
                resource_name: r.name.clone(),
                depends_on: r
                    .depends_on
                    .iter()
                    .filter_map(|d| index.get(&d.to_ascii_lowercase()).copied())
                    .collect(),
                duration_secs,
                failure,
                start: None,
                end: None,
                failed: false,
                canceled: false,
                tracking_id: guid(&[correlation, status_id, &r.id, "tracking"]),
                service_request_id: guid(&[correlation, status_id, &r.id, "service"]),
                resource: (!container).then(|| runtime::resource_json(r, rctx)),
                materialised: false,
            }
        })
        .collect()
}

/// A nested deployment's record, from its planned resource.
fn nested_record(r: &PlannedResource, root: &Deployment) -> Deployment {
    let p = &r.properties;
    let template = p.get("template").cloned();
    let declared = template
        .as_ref()
        .and_then(|t| t.get("parameters"))
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut parameters = Map::new();
    if let Some(Value::Object(ps)) = p.get("parameters") {
        for (name, entry) in ps {
            let declared_type = get_ci(&declared, name)
                .and_then(|d| d.get("type"))
                .and_then(Value::as_str)
                .map(str::to_owned);
            let value = entry.get("value").cloned().unwrap_or(Value::Null);
            parameters.insert(
                name.clone(),
                echo_entry(declared_type.as_deref(), Some(&value)),
            );
        }
    }
    let key = r.id.to_ascii_lowercase();
    let mode = p
        .get("mode")
        .and_then(Value::as_str)
        .map_or("Incremental", |m| {
            if m.eq_ignore_ascii_case("complete") {
                "Complete"
            } else {
                "Incremental"
            }
        });
    let segs: Vec<&str> = r.id.split('/').collect();
    let subscription_id = segs.get(2).map_or_else(String::new, |s| (*s).to_owned());
    Deployment {
        id: r.id.clone(),
        name: r.name.rsplit('/').next().unwrap_or(&r.name).to_owned(),
        subscription_id,
        resource_group: runtime::resource_group_of(&r.id),
        location: r
            .location
            .as_ref()
            .and_then(Value::as_str)
            .map(str::to_owned),
        tags: match r.extra.get("tags").map(Value::to_json) {
            Some(Json::Object(t)) => Some(t),
            _ => None,
        },
        mode: mode.to_owned(),
        template_hash: template
            .as_ref()
            .map_or_else(|| "0".to_owned(), template_hash),
        template: template.as_ref().map_or(Json::Null, Value::to_json),
        parameters: Json::Object(parameters),
        correlation_id: root.correlation_id.clone(),
        status_id: text::status_id(&[&r.id, &root.status_id]),
        submitted: root.submitted,
        running_at: None,
        finish: None,
        canceled_at: None,
        failed: false,
        error: None,
        outputs: None,
        providers: providers_json(&root.operations, &key),
        dependencies: dependencies_json(&root.operations, &key),
        root: Some(root.id.to_ascii_lowercase()),
        operations: Vec::new(),
        cleanup_start: None,
        cleanup_end: None,
        cleanup_done: true,
        settled: false,
    }
}

/// ARM's name for a parameter type (`String`, `SecureString`, `Int`...).
fn type_name(declared: Option<&str>, value: Option<&Value>) -> String {
    match declared.map(str::to_ascii_lowercase).as_deref() {
        Some("string") => "String".into(),
        Some("securestring") => "SecureString".into(),
        Some("int") => "Int".into(),
        Some("bool") => "Bool".into(),
        Some("object") => "Object".into(),
        Some("secureobject") => "SecureObject".into(),
        Some("array") => "Array".into(),
        _ => match value {
            Some(Value::Int(_)) => "Int".into(),
            Some(Value::Bool(_)) => "Bool".into(),
            Some(Value::Object(_)) => "Object".into(),
            Some(Value::Array(_)) => "Array".into(),
            _ => "String".into(),
        },
    }
}

/// One parameter as a deployment shows it: `{type, value}`, without the value when secure.
fn echo_entry(declared: Option<&str>, value: Option<&Value>) -> Json {
    let ty = type_name(declared, value);
    if ty.starts_with("Secure") {
        return json!({ "type": ty });
    }
    match value {
        Some(v) => json!({"type": ty, "value": v.to_json()}),
        None => json!({ "type": ty }),
    }
}

/// Every declared parameter with its value (defaults evaluated), as ARM echoes them; secure
/// values are never returned (recordings/azd: `"secureValue": {"type": "SecureString"}`).
fn parameters_echo(req: &DeploymentRequest, ctx: &DeploymentContext) -> Json {
    let defs = req.template.parameters();
    let mut values: HashMap<String, Value> = HashMap::new();
    let names: Vec<&String> = defs
        .iter()
        .filter(|(n, d)| {
            !d.is_secure()
                && !matches!(
                    req.parameters.get(n),
                    Some(ParameterValue::KeyVaultReference { .. })
                )
        })
        .map(|(n, _)| n)
        .collect();
    for chunk in names.chunks(60) {
        let mut root = req.template.root().clone();
        let symbolic = req.template.is_symbolic();
        root.retain(|k, _| {
            !["resources", "outputs", "variables"]
                .iter()
                .any(|s| k.eq_ignore_ascii_case(s))
        });
        root.insert(
            "resources".into(),
            if symbolic {
                Value::Object(Default::default())
            } else {
                Value::Array(Vec::new())
            },
        );
        let mut outputs = landfall_template::value::Object::new();
        for (i, name) in chunk.iter().enumerate() {
            let mut o = landfall_template::value::Object::new();
            o.insert("type".into(), Value::str("any"));
            o.insert(
                "value".into(),
                Value::str(format!("[parameters('{}')]", name.replace('\'', "''"))),
            );
            outputs.insert(format!("p{i}"), Value::Object(o));
        }
        root.insert("outputs".into(), Value::Object(outputs));
        let evaluated = Template::from_value(Value::Object(root)).and_then(|t| {
            landfall_template::plan(&t, &req.parameters, ctx, &landfall_template::NoResolver)
        });
        if let Ok(p) = evaluated {
            for (i, name) in chunk.iter().enumerate() {
                if let Some(o) = p.outputs.get(&format!("p{i}")) {
                    values.insert((*name).clone(), o.value.clone());
                }
            }
        }
    }
    let mut out = Map::new();
    for (name, def) in defs {
        let supplied = req.parameters.get(name);
        let entry = match supplied {
            Some(ParameterValue::KeyVaultReference {
                vault_id,
                secret_name,
                secret_version,
            }) => {
                let mut reference =
                    json!({"keyVault": {"id": vault_id}, "secretName": secret_name});
                if let Some(v) = secret_version {
                    reference["secretVersion"] = v.clone().into();
                }
                json!({"type": type_name(def.ty.as_deref(), None), "reference": reference})
            }
            _ => {
                let value = values
                    .get(name)
                    .cloned()
                    .or_else(|| supplied.map(ParameterValue::to_value));
                echo_entry(def.ty.as_deref(), value.as_ref())
            }
        };
        out.insert(name.clone(), entry);
    }
    Json::Object(out)
}

/// Outputs as a deployment shows them: `{name: {type, value}}`, names camel-cased as ARM
/// does, secure values left out.
fn outputs_json(plan: &Plan) -> Json {
    let mut o = Map::new();
    for (name, out) in &plan.outputs {
        let entry = if out.output_type.starts_with("Secure") {
            json!({"type": out.output_type})
        } else {
            json!({"type": out.output_type, "value": out.value.to_json()})
        };
        o.insert(text::camel_case(name), entry);
    }
    Json::Object(o)
}

/// `providers`: the namespaces, types and locations of the resources a deployment owns.
pub fn providers_json(ops: &[Operation], owner: &str) -> Json {
    // (namespace, [(resource type, [locations])]), in order of first appearance.
    type Types = Vec<(String, Vec<Json>)>;
    let mut out: Vec<(String, Types)> = Vec::new();
    for op in ops.iter().filter(|o| o.owner == owner) {
        let Some((ns, rt)) = op.resource_type.split_once('/') else {
            continue;
        };
        let location = op
            .resource
            .as_ref()
            .and_then(|r| r.get("location"))
            .cloned()
            .unwrap_or(Json::Null);
        let pos = match out.iter().position(|(n, _)| n.eq_ignore_ascii_case(ns)) {
            Some(p) => p,
            None => {
                out.push((ns.to_owned(), Vec::new()));
                out.len() - 1
            }
        };
        let types = &mut out[pos].1;
        let tpos = match types.iter().position(|(t, _)| t.eq_ignore_ascii_case(rt)) {
            Some(p) => p,
            None => {
                types.push((rt.to_owned(), Vec::new()));
                types.len() - 1
            }
        };
        if !types[tpos].1.contains(&location) {
            types[tpos].1.push(location);
        }
    }
    Json::Array(
        out.into_iter()
            .map(|(ns, types)| {
                json!({
                    "namespace": ns,
                    "resourceTypes": types.into_iter().map(|(t, locations)| {
                        json!({"resourceType": t, "locations": locations})
                    }).collect::<Vec<_>>(),
                })
            })
            .collect(),
    )
}

/// `dependencies`: each resource a deployment owns that depends on others it owns.
pub fn dependencies_json(ops: &[Operation], owner: &str) -> Json {
    let target = |o: &Operation| json!({"id": o.resource_id, "resourceType": o.resource_type, "resourceName": o.resource_name});
    Json::Array(
        ops.iter()
            .filter(|o| o.owner == owner)
            .filter_map(|o| {
                let deps: Vec<Json> = o
                    .depends_on
                    .iter()
                    .filter_map(|&d| ops.get(d))
                    .filter(|d| d.owner == owner)
                    .map(target)
                    .collect();
                (!deps.is_empty()).then(|| {
                    json!({
                        "dependsOn": deps,
                        "id": o.resource_id,
                        "resourceType": o.resource_type,
                        "resourceName": o.resource_name,
                    })
                })
            })
            .collect(),
    )
}
