//! Template deployments at resource-group and subscription scope: PUT (201/200 with
//! `Azure-AsyncOperation`), operation status, GET, HEAD, list (paged, `$filter` on the
//! provisioning state), operations, validate, what-if (202 + `Location`), cancel, delete,
//! exportTemplate; and `calculateTemplateHash`.
//!
//! A deployment is stored as a schedule ([`Deployment`] with its [`Operation`]s): submitting
//! plans the template and fixes when every resource starts and ends; [`advance`], called
//! before every request, creates the resources whose operation has finished in
//! [`crate::arm::groups::GroupsState`] and applies complete mode. What a client sees at any
//! moment is computed from the schedule and the clock ([`deploy::render`]).
//!
//! The axum routes only pick `handle` (requests arrive in canonical spelling, see
//! [`crate::arm`]); it parses the path as sent, case-insensitively. The Java SDK's older
//! operations path (`/resourcegroups/{rg}/deployments/{name}/operations`, no `providers`
//! segment) is served too.
//!
//! Errors: the handlers return [`deploy::engine::ArmError`] (status and ARM's error body), which
//! `handle` turns into the response; checks run in the order ARM reports them (scope, name,
//! body, location, preflight). The state is locked once per request, never across an `.await`,
//! and persisted after every change.

#[path = "deploy/mod.rs"]
pub mod deploy;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{OriginalUri, Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json, json};
use time::OffsetDateTime;

use crate::Sim;
use crate::arm::groups::{GroupsState, Resource, ResourceGroup, group_id};
use crate::arm::operations::{self, NewOperation};
use crate::arm::request;
use crate::http::{Caller, RequestId, accepted_with_location, json_response, set_header};
use crate::state::SimState;
use deploy::engine::{self, ArmError, DeploymentRequest, Submission, Target};
use deploy::{render, runtime, schedule, text};
use landfall_template::hash::guid;

/// Deployments, top-level and nested, by lower-cased ID.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentsState {
    /// Deployments by lower-cased ID.
    #[serde(default)]
    pub deployments: BTreeMap<String, Deployment>,
}

/// One deployment: what was submitted, what ARM echoes, and its schedule.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    /// Full ID.
    pub id: String,
    /// Name.
    pub name: String,
    /// Subscription ID.
    pub subscription_id: String,
    /// Resource group name (resource-group scope).
    #[serde(default)]
    pub resource_group: Option<String>,
    /// Location (subscription-scope deployments).
    #[serde(default)]
    pub location: Option<String>,
    /// Tags of the deployment.
    #[serde(default)]
    pub tags: Option<Map<String, Json>>,
    /// `Incremental` or `Complete`.
    pub mode: String,
    /// The template as submitted (for `exportTemplate`).
    pub template: Json,
    /// `templateHash`.
    pub template_hash: String,
    /// Parameters as ARM echoes them (`{name: {type, value}}`, secure values left out).
    pub parameters: Json,
    /// Correlation ID of the request that created it.
    pub correlation_id: String,
    /// ID of its `operationStatuses` resource.
    pub status_id: String,
    /// When it was submitted (nested: when it started).
    #[serde(with = "time::serde::rfc3339")]
    pub submitted: OffsetDateTime,
    /// When it leaves `Accepted` (nested: when its first operation starts; never if unset).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub running_at: Option<OffsetDateTime>,
    /// When it reaches its terminal state.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub finish: Option<OffsetDateTime>,
    /// When it was cancelled.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub canceled_at: Option<OffsetDateTime>,
    /// True when it ends `Failed`.
    #[serde(default)]
    pub failed: bool,
    /// The error it reports once failed.
    #[serde(default)]
    pub error: Option<Json>,
    /// Outputs, computed at submission, shown once it succeeds.
    #[serde(default)]
    pub outputs: Option<Json>,
    /// `providers`.
    pub providers: Json,
    /// `dependencies`.
    pub dependencies: Json,
    /// For nested deployments: the lower-cased ID of the top-level deployment holding the
    /// schedule.
    #[serde(default)]
    pub root: Option<String>,
    /// The schedule (top-level deployments only).
    #[serde(default)]
    pub operations: Vec<Operation>,
    /// Complete mode: when the deletion of resources not in the template starts.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub cleanup_start: Option<OffsetDateTime>,
    /// Complete mode: when that deletion ends.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub cleanup_end: Option<OffsetDateTime>,
    /// True once complete mode's deletion has been applied (or there is none).
    #[serde(default)]
    pub cleanup_done: bool,
    /// True once nothing about it will change any more.
    #[serde(default)]
    pub settled: bool,
}

/// One resource operation of a deployment.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    /// `operationId` (16 hex digits).
    pub operation_id: String,
    /// Lower-cased ID of the deployment it belongs to (nested deployments own theirs).
    pub owner: String,
    /// Target resource ID.
    pub resource_id: String,
    /// Target resource type.
    pub resource_type: String,
    /// Target resource name as the template gives it.
    pub resource_name: String,
    /// Indexes of the operations it waits for.
    pub depends_on: Vec<usize>,
    /// How long it takes, in seconds (speed factor applied).
    pub duration_secs: f64,
    /// How it fails, if the scenario says so.
    #[serde(default)]
    pub failure: Option<Failure>,
    /// When it starts (never, if unset).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub start: Option<OffsetDateTime>,
    /// When it ends.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub end: Option<OffsetDateTime>,
    /// True when it ends `Failed`.
    #[serde(default)]
    pub failed: bool,
    /// True for a nested deployment cut short by a cancellation.
    #[serde(default)]
    pub canceled: bool,
    /// `trackingId`.
    pub tracking_id: String,
    /// `serviceRequestId`.
    pub service_request_id: String,
    /// The resource it creates, as ARM will return it (none for nested deployments).
    #[serde(default)]
    pub resource: Option<Json>,
    /// True once the resource exists in the resource group.
    #[serde(default)]
    pub materialised: bool,
}

/// How an operation fails.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Failure {
    /// `statusCode` of the operation (`Conflict`, `BadRequest`...).
    pub status_code: String,
    /// Seconds after its start (speed factor applied).
    pub after_secs: f64,
    /// The provider's error (`{code, message}`).
    pub error: Json,
}

/// What-if takes this long before its result is ready, in seconds at speed 1.
const WHAT_IF_SECS: f64 = 2.0;
/// Page size of the deployment list when `$top` is not given.
const PAGE_SIZE: usize = 100;
/// API version used in links when the request has none (it always has one).
const DEFAULT_API_VERSION: &str = "2024-03-01";

/// The routes, in the spelling [`crate::arm::canonical_path`] gives every request. Each
/// pattern only selects `handle`; the path is parsed there.
pub fn router() -> Router<Arc<Sim>> {
    let group_scope = "/subscriptions/{subscription_id}/resourcegroups/{resource_group_name}";
    let mut r = Router::new();
    for scope in [group_scope, "/subscriptions/{subscription_id}"] {
        let base = format!("{scope}/providers/Microsoft.Resources/deployments");
        r = r
            .route(&base, any(handle))
            .route(&format!("{base}/"), any(handle))
            .route(&format!("{base}/{{*rest}}"), any(handle));
    }
    r.route(&format!("{group_scope}/deployments/{{*rest}}"), any(handle))
        .route(
            "/providers/Microsoft.Resources/calculateTemplateHash",
            post(calculate_template_hash),
        )
}

/// A request path, parsed.
struct Path {
    /// As sent (checked against the identity's by `target`).
    subscription_id: String,
    /// At resource-group scope.
    resource_group: Option<String>,
    /// The deployment; none for the collection.
    name: Option<String>,
    /// What follows the name, lower-cased: `operations`, `operationstatuses/{id}`...
    rest: Vec<String>,
}

/// Splits a deployments path (any scope, any casing, the legacy form too); `None` for a
/// path that is not one.
fn parse_path(path: &str) -> Option<Path> {
    let segs: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| request::percent_decode(s, false))
        .collect();
    let is = |i: usize, word: &str| segs.get(i).is_some_and(|s| s.eq_ignore_ascii_case(word));
    if !is(0, "subscriptions") {
        return None;
    }
    let subscription_id = segs.get(1)?.clone();
    let mut i = 2;
    let mut resource_group = None;
    if is(i, "resourcegroups") {
        resource_group = Some(segs.get(i + 1)?.clone());
        i += 2;
    }
    if is(i, "providers") && is(i + 1, "microsoft.resources") && is(i + 2, "deployments") {
        i += 3;
    } else if resource_group.is_some() && is(i, "deployments") {
        i += 1;
    } else {
        return None;
    }
    Some(Path {
        subscription_id,
        resource_group,
        name: segs.get(i).cloned(),
        rest: segs
            .get(i + 1..)
            .map(|r| r.iter().map(|s| s.to_ascii_lowercase()).collect())
            .unwrap_or_default(),
    })
}

/// What every handler needs from the request.
struct Call {
    sim: Arc<Sim>,
    query: String,
    caller: Caller,
    correlation: String,
}

impl Call {
    /// The request's `api-version`, for the links in responses.
    fn api_version(&self) -> String {
        request::query_param(&self.query, "api-version")
            .unwrap_or_else(|| DEFAULT_API_VERSION.to_owned())
    }

    /// Runs `f` on the deployment a path names, the top-level deployment holding its schedule,
    /// and now; ARM's 404s when there is no such deployment (yet).
    fn read<T>(
        &self,
        path: &Path,
        name: &str,
        f: impl FnOnce(&Deployment, &Deployment, OffsetDateTime) -> Result<T, ArmError>,
    ) -> Result<T, ArmError> {
        let state = self.sim.lock_state();
        let now = self.sim.now();
        let target = target(&state, path, name)?;
        let (d, root) = find(&state, &target, now)?;
        f(d, root, now)
    }

    /// The checks PUT, validate and what-if share, in the order ARM reports them: scope,
    /// (for PUT) a group being deleted, the name, the body (parsed before the state was
    /// locked), a location at subscription scope.
    fn checked(
        &self,
        state: &SimState,
        path: &Path,
        name: &str,
        parsed: Result<DeploymentRequest, ArmError>,
        refuse_deleting_group: bool,
    ) -> Result<(Target, DeploymentRequest), ArmError> {
        let target = target(state, path, name)?;
        if refuse_deleting_group
            && target
                .group
                .as_ref()
                .is_some_and(|g| g.provisioning_state.eq_ignore_ascii_case("Deleting"))
        {
            return Err(being_deleted(&target));
        }
        engine::check_name(name)?;
        let req = parsed?;
        check_location(&target, &req)?;
        Ok((target, req))
    }

    /// The engine's view of a checked request.
    fn submission<'a>(
        &'a self,
        state: &'a SimState,
        target: &'a Target,
        req: &'a DeploymentRequest,
        now: OffsetDateTime,
    ) -> Submission<'a> {
        Submission {
            sim: &self.sim,
            groups: &state.groups,
            identity: &state.identity,
            target,
            req,
            caller: &self.caller,
            correlation: &self.correlation,
            now,
        }
    }

    /// Starts an async operation on a deployment (`job` names its kind in the operation ID,
    /// as ARM's do) and returns the URL to poll.
    fn start_operation(
        &self,
        state: &mut SimState,
        target: &Target,
        job: &str,
        mut op: NewOperation<'_>,
    ) -> String {
        op.job_id = Some(job_id(job, target, &self.correlation));
        op.location = Some(job_location(target));
        let id = state.operations.start_with(op);
        operations::polling_url(
            &self.sim.base_url,
            &target.subscription_id,
            &id,
            &self.api_version(),
        )
    }
}

/// Every deployment request.
async fn handle(
    State(sim): State<Arc<Sim>>,
    OriginalUri(uri): OriginalUri,
    req: Request,
) -> Response {
    let method = req.method().clone();
    let uri_path = uri.path().to_owned();
    let query = req.uri().query().unwrap_or("").to_owned();
    let caller = req
        .extensions()
        .get::<Caller>()
        .cloned()
        .unwrap_or_else(|| {
            let id = &sim.options.identity;
            Caller {
                object_id: id.client_object_id.clone(),
                tenant_id: id.tenant_id.clone(),
                name: id.client_id.clone(),
            }
        });
    let correlation = correlation_of(req.headers(), req.extensions().get::<RequestId>());
    let body = match axum::body::to_bytes(req.into_body(), 16 * 1024 * 1024).await {
        Ok(b) => b,
        Err(_) => {
            return ArmError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestContentTooLarge",
                "The request content size exceeds the maximum size allowed.",
            )
            .into_response();
        }
    };
    let Some(path) = parse_path(&uri_path) else {
        return not_found_path(&method, &uri_path);
    };
    let call = Call {
        sim,
        query,
        caller,
        correlation,
    };
    let rest: Vec<&str> = path.rest.iter().map(String::as_str).collect();
    let result = match (&method, path.name.as_deref(), rest.as_slice()) {
        (m, None, []) if m == Method::GET => list(&call, &path),
        (m, Some(name), []) if m == Method::PUT => put(&call, &path, name, &body),
        (m, Some(name), []) if m == Method::GET => get(&call, &path, name),
        (m, Some(name), []) if m == Method::HEAD => head(&call, &path, name),
        (m, Some(name), []) if m == Method::DELETE => delete(&call, &path, name),
        (m, Some(name), ["operationstatuses", id]) if m == Method::GET => {
            operation_status(&call, &path, name, id)
        }
        (m, Some(name), ["operations"]) if m == Method::GET => operations(&call, &path, name),
        (m, Some(name), ["operations", id]) if m == Method::GET => {
            operation(&call, &path, name, id)
        }
        (m, Some(name), ["validate"]) if m == Method::POST => validate(&call, &path, name, &body),
        (m, Some(name), ["whatif"]) if m == Method::POST => what_if(&call, &path, name, &body),
        (m, Some(name), ["cancel"]) if m == Method::POST => cancel(&call, &path, name),
        (m, Some(name), ["exporttemplate"]) if m == Method::POST => {
            export_template(&call, &path, name)
        }
        (_, None, [])
        | (_, Some(_), [])
        | (_, Some(_), ["operationstatuses", _])
        | (_, Some(_), ["operations"])
        | (_, Some(_), ["operations", _])
        | (_, Some(_), ["validate" | "whatif" | "cancel" | "exporttemplate"]) => {
            Err(ArmError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                format!("The requested resource does not support http method '{method}'."),
            ))
        }
        _ => return not_found_path(&method, &uri_path),
    };
    result.unwrap_or_else(ArmError::into_response)
}

/// ARM's `404` for a path under `deployments` it has no operation for.
fn not_found_path(method: &Method, path: &str) -> Response {
    ArmError::new(
        StatusCode::NOT_FOUND,
        "NotFound",
        format!("No HTTP resource was found that matches the request URI '{path}' for method '{method}'."),
    )
    .into_response()
}

/// The correlation ID ARM records: the client's `x-ms-correlation-request-id`, else the
/// request ID.
fn correlation_of(headers: &HeaderMap, request_id: Option<&RequestId>) -> String {
    headers
        .get("x-ms-correlation-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .or_else(|| request_id.map(|r| r.0.clone()))
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

/// Checks the subscription and resource group of a path: the [`Target`], or ARM's 404.
fn target(state: &SimState, path: &Path, name: &str) -> Result<Target, ArmError> {
    if !path
        .subscription_id
        .eq_ignore_ascii_case(&state.identity.subscription_id)
    {
        return Err(ArmError::new(
            StatusCode::NOT_FOUND,
            "SubscriptionNotFound",
            format!(
                "The subscription '{}' could not be found.",
                path.subscription_id
            ),
        ));
    }
    let subscription_id = state.identity.subscription_id.clone();
    let group = match &path.resource_group {
        Some(rg) => match state.groups.group_named(&subscription_id, rg) {
            Some(g) => Some(g.clone()),
            None => {
                return Err(ArmError::new(
                    StatusCode::NOT_FOUND,
                    "ResourceGroupNotFound",
                    format!("Resource group '{rg}' could not be found."),
                ));
            }
        },
        None => None,
    };
    Ok(Target {
        subscription_id,
        group,
        name: name.to_owned(),
    })
}

/// `404 DeploymentNotFound`.
fn not_found(name: &str) -> ArmError {
    ArmError::new(
        StatusCode::NOT_FOUND,
        "DeploymentNotFound",
        format!("Deployment '{name}' could not be found."),
    )
}

/// The deployment a path names, visible at `now`, and the top-level deployment holding its
/// schedule.
fn find<'a>(
    state: &'a SimState,
    target: &Target,
    now: OffsetDateTime,
) -> Result<(&'a Deployment, &'a Deployment), ArmError> {
    let key = target.deployment_id().to_ascii_lowercase();
    let d = state
        .deployments
        .deployments
        .get(&key)
        .filter(|d| render::visible(d, now))
        .ok_or_else(|| not_found(&target.name))?;
    let root = match &d.root {
        Some(r) => state
            .deployments
            .deployments
            .get(r)
            .ok_or_else(|| not_found(&target.name))?,
        None => d,
    };
    Ok((d, root))
}

/// A JSON answer, as the handlers here return them.
fn respond(status: StatusCode, body: Json) -> Result<Response, ArmError> {
    Ok(json_response(status, body))
}

/// `PUT`: checks, plans, runs preflight and schedules the deployment; `201` (`200` when it
/// replaces a finished one) with `Azure-AsyncOperation` pointing at its operation status.
fn put(call: &Call, path: &Path, name: &str, body: &Bytes) -> Result<Response, ArmError> {
    let parsed = engine::parse_request(body);
    let sim = &call.sim;
    let (status, body, location) = {
        let mut state = sim.lock_state();
        let now = sim.now();
        let (target, req) = call.checked(&state, path, name, parsed, true)?;
        let key = target.deployment_id().to_ascii_lowercase();
        let existing = state.deployments.deployments.get(&key);
        if let Some(d) = existing.filter(|d| !render::is_terminal(render::state_at(d, now))) {
            return Err(ArmError::new(
                StatusCode::CONFLICT,
                "DeploymentActive",
                format!(
                    "Unable to edit or replace deployment '{name}': previous deployment from '{}' is still active (expiration time is '{}'). Please see https://aka.ms/arm-deploy for usage details.",
                    text::fmt_time(d.submitted),
                    text::fmt_time(d.submitted + time::Duration::days(14))
                ),
            ));
        }
        let replacing = existing.is_some();
        let (root, nested) = call.submission(&state, &target, &req, now).submit()?;
        let body = render::deployment_json(&root, &root, now);
        let location = format!(
            "{}{}/operationStatuses/{}?api-version={}",
            sim.base_url,
            root.id,
            root.status_id,
            call.api_version()
        );
        remove_with_nested(&mut state.deployments, &key);
        for n in nested {
            state
                .deployments
                .deployments
                .insert(n.id.to_ascii_lowercase(), n);
        }
        state.deployments.deployments.insert(key, root);
        sim.persist(&state);
        let status = if replacing {
            StatusCode::OK
        } else {
            StatusCode::CREATED
        };
        (status, body, location)
    };
    let mut r = json_response(status, body);
    set_header(r.headers_mut(), "azure-asyncoperation", &location);
    // As ARM sends it on deployment writes (recordings/azd).
    set_header(r.headers_mut(), "x-ms-deployment-engine-version", "1.628.3");
    Ok(r)
}

/// `409 ResourceGroupBeingDeleted` for a deployment into a group being deleted.
fn being_deleted(target: &Target) -> ArmError {
    let rg = target.group.as_ref().map_or("", |g| g.name.as_str());
    ArmError::new(
        StatusCode::CONFLICT,
        "ResourceGroupBeingDeleted",
        format!(
            "The resource group '{rg}' is in deprovisioning state and cannot perform this operation."
        ),
    )
}

/// Subscription-scope deployments need a location.
fn check_location(target: &Target, req: &DeploymentRequest) -> Result<(), ArmError> {
    if target.group.is_none() && req.location.as_deref().is_none_or(str::is_empty) {
        return Err(ArmError::new(
            StatusCode::BAD_REQUEST,
            "LocationRequired",
            "The location property is required for this definition.",
        ));
    }
    Ok(())
}

/// Removes a deployment and, for a top-level one, its nested deployments.
fn remove_with_nested(state: &mut DeploymentsState, key: &str) {
    if state.deployments.remove(key).is_some() {
        state
            .deployments
            .retain(|_, d| d.root.as_deref() != Some(key));
    }
}

/// `GET`: the deployment as it stands now.
fn get(call: &Call, path: &Path, name: &str) -> Result<Response, ArmError> {
    let body = call.read(path, name, |d, root, now| {
        Ok(render::deployment_json(d, root, now))
    })?;
    respond(StatusCode::OK, body)
}

/// `HEAD`: `204` if the deployment exists, else `404`.
fn head(call: &Call, path: &Path, name: &str) -> Result<Response, ArmError> {
    let status = match call.read(path, name, |_, _, _| Ok(())) {
        Ok(()) => StatusCode::NO_CONTENT,
        Err(_) => StatusCode::NOT_FOUND,
    };
    Ok(status.into_response())
}

/// `DELETE` of a finished deployment: `202` and an operation to poll; `204` if it does not
/// exist; `409` while it runs.
fn delete(call: &Call, path: &Path, name: &str) -> Result<Response, ArmError> {
    let sim = &call.sim;
    let location = {
        let mut state = sim.lock_state();
        let now = sim.now();
        let target = target(&state, path, name)?;
        let key = target.deployment_id().to_ascii_lowercase();
        let Ok((d, _)) = find(&state, &target, now) else {
            return Ok(StatusCode::NO_CONTENT.into_response());
        };
        if !render::is_terminal(render::state_at(d, now)) {
            return Err(ArmError::new(
                StatusCode::CONFLICT,
                "DeploymentActive",
                format!(
                    "Unable to delete deployment '{name}': the deployment is still active. Cancel it or wait for it to complete. Please see https://aka.ms/arm-deploy for usage details."
                ),
            ));
        }
        remove_with_nested(&mut state.deployments, &key);
        let deployment_id = target.deployment_id();
        let op = NewOperation {
            final_status: 204,
            ..NewOperation::new(
                "deleteDeployment",
                &deployment_id,
                now,
                time::Duration::ZERO,
            )
        };
        let url = call.start_operation(&mut state, &target, "DeploymentDeletionJob", op);
        sim.persist(&state);
        url
    };
    Ok(accepted_with_location(&location, 1))
}

/// The `jobId` inside an async operation's ID, as ARM writes them
/// (`DeploymentWhatIfJob-RG8F084041-DPA8F084041-F12DB0AF:2DB0B1:...` at resource-group scope,
/// `DeploymentWhatIfJob--NAME-...` at subscription scope; recordings).
fn job_id(kind: &str, target: &Target, correlation: &str) -> String {
    let suffix = operations::job_escape(&guid(&[correlation, &target.name, kind]));
    match &target.group {
        Some(g) => format!(
            "{kind}-{}-{}-{suffix}",
            operations::job_escape(&g.name),
            operations::job_escape(&target.name)
        ),
        None => format!("{kind}--{}-{suffix}", operations::job_escape(&target.name)),
    }
}

/// The `jobLocation` of its async operations: the group's region, `global` at subscription
/// scope.
fn job_location(target: &Target) -> String {
    target
        .group
        .as_ref()
        .map_or_else(|| "global".to_owned(), |g| g.location.clone())
}

/// `GET .../operationStatuses/{id}`: what `Azure-AsyncOperation` pollers read.
fn operation_status(call: &Call, path: &Path, name: &str, id: &str) -> Result<Response, ArmError> {
    let body = call.read(path, name, |d, _, now| {
        if !d.status_id.eq_ignore_ascii_case(id) {
            return Err(ArmError::new(
                StatusCode::NOT_FOUND,
                "NotFound",
                format!("The operation status '{id}' of deployment '{name}' could not be found."),
            ));
        }
        Ok(render::status_json(d, now))
    })?;
    respond(StatusCode::OK, body)
}

/// `GET .../operations` (`$top` honoured).
fn operations(call: &Call, path: &Path, name: &str) -> Result<Response, ArmError> {
    let mut value = call.read(path, name, |d, root, now| {
        Ok(render::operations_json(d, root, now))
    })?;
    if let Some(top) = request::query_param(&call.query, "$top").and_then(|t| t.parse().ok()) {
        value.truncate(top);
    }
    respond(StatusCode::OK, json!({ "value": value }))
}

/// `GET .../operations/{id}`.
fn operation(call: &Call, path: &Path, name: &str, id: &str) -> Result<Response, ArmError> {
    let body = call.read(path, name, |d, root, now| {
        render::operations_json(d, root, now)
            .into_iter()
            .find(|o| {
                o.get("operationId")
                    .and_then(Json::as_str)
                    .is_some_and(|o| o.eq_ignore_ascii_case(id))
            })
            .ok_or_else(|| {
                ArmError::new(
                    StatusCode::NOT_FOUND,
                    "DeploymentOperationNotFound",
                    format!(
                        "Deployment operation '{id}' of deployment '{name}' could not be found."
                    ),
                )
            })
    })?;
    respond(StatusCode::OK, body)
}

/// `POST .../validate`: the checks and plan of a `PUT`, nothing scheduled.
fn validate(call: &Call, path: &Path, name: &str, body: &Bytes) -> Result<Response, ArmError> {
    let parsed = engine::parse_request(body);
    let result = {
        let state = call.sim.lock_state();
        let now = call.sim.now();
        let (target, req) = call.checked(&state, path, name, parsed, false)?;
        call.submission(&state, &target, &req, now).validate()?
    };
    respond(StatusCode::OK, result)
}

/// `POST .../whatIf`: `202` and an operation whose result is the list of changes.
fn what_if(call: &Call, path: &Path, name: &str, body: &Bytes) -> Result<Response, ArmError> {
    let parsed = engine::parse_request(body);
    let sim = &call.sim;
    let speed = engine::speed(sim);
    let (location, retry) = {
        let mut state = sim.lock_state();
        let now = sim.now();
        let (target, req) = call.checked(&state, path, name, parsed, false)?;
        let result = call.submission(&state, &target, &req, now).what_if()?;
        let wait = WHAT_IF_SECS / speed;
        // Azure answers `Retry-After: 0` (recordings/azd), which clients read as "use your
        // default interval" (30 s for azure-core): say how long it really takes instead.
        let retry = wait.clamp(1.0, 3600.0).ceil() as u64;
        let deployment_id = target.deployment_id();
        let op = NewOperation {
            result: Some(result),
            ..NewOperation::new("whatIf", &deployment_id, now, schedule::secs(wait))
        };
        let url = call.start_operation(&mut state, &target, "DeploymentWhatIfJob", op);
        sim.persist(&state);
        (url, retry)
    };
    Ok(accepted_with_location(&location, retry))
}

/// `POST .../cancel`: nothing starts after now; what runs finishes; `204`.
fn cancel(call: &Call, path: &Path, name: &str) -> Result<Response, ArmError> {
    let sim = &call.sim;
    let mut state = sim.lock_state();
    let now = sim.now();
    let target = target(&state, path, name)?;
    let key = target.deployment_id().to_ascii_lowercase();
    let (d, _) = find(&state, &target, now)?;
    if d.root.is_some() || render::is_terminal(render::state_at(d, now)) {
        return Err(ArmError::new(
            StatusCode::CONFLICT,
            "DeploymentCannotBeCancelled",
            format!(
                "The deployment '{name}' cannot be cancelled: only a top-level deployment whose provisioning state is 'Accepted' or 'Running' can be cancelled."
            ),
        ));
    }
    let speed = engine::speed(sim);
    if let Some(root) = state.deployments.deployments.get_mut(&key) {
        root.canceled_at = Some(now);
        schedule::settle_root(root, speed);
    }
    if let Some(root) = state.deployments.deployments.get(&key).cloned() {
        for n in state
            .deployments
            .deployments
            .values_mut()
            .filter(|n| n.root.as_deref() == Some(key.as_str()))
        {
            schedule::settle_nested(n, &root);
        }
    }
    sim.persist(&state);
    drop(state);
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST .../exportTemplate`: the template as submitted.
fn export_template(call: &Call, path: &Path, name: &str) -> Result<Response, ArmError> {
    let body = call.read(path, name, |d, _, _| Ok(json!({ "template": d.template })))?;
    respond(StatusCode::OK, body)
}

/// `provisioningState eq 'X'` from a `$filter`.
fn state_filter(query: &str) -> Result<Option<String>, ArmError> {
    let Some(filter) = request::query_param(query, "$filter") else {
        return Ok(None);
    };
    let lower = filter.to_ascii_lowercase();
    let parsed = lower
        .trim()
        .strip_prefix("provisioningstate")
        .map(str::trim_start)
        .and_then(|s| s.strip_prefix("eq"))
        .map(str::trim)
        .and_then(|s| s.strip_prefix('\''))
        .and_then(|s| s.strip_suffix('\''));
    match parsed {
        Some(v) => Ok(Some(v.to_owned())),
        None => Err(ArmError::new(
            StatusCode::BAD_REQUEST,
            "InvalidFilter",
            format!(
                "The filter '{filter}' is not valid: deployments can be filtered by provisioningState only, e.g. \"provisioningState eq 'Failed'\"."
            ),
        )),
    }
}

/// `GET` of the collection: paged (`$top`, `$skiptoken`), `$filter` on the provisioning
/// state.
fn list(call: &Call, path: &Path) -> Result<Response, ArmError> {
    let filter = state_filter(&call.query)?;
    let top = match request::query_param(&call.query, "$top") {
        Some(t) => match t.parse::<usize>() {
            Ok(n) if n > 0 => n,
            _ => {
                return Err(ArmError::new(
                    StatusCode::BAD_REQUEST,
                    "InvalidTopQueryParameter",
                    format!(
                        "The value '{t}' of the query parameter '$top' is not valid: it must be a positive integer."
                    ),
                ));
            }
        },
        None => PAGE_SIZE,
    };
    let skip = request::query_param(&call.query, "$skiptoken")
        .and_then(|t| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(t)
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| {
            s.strip_prefix("offset:")
                .and_then(|n| n.parse::<usize>().ok())
        })
        .unwrap_or(0);
    let body = {
        let state = call.sim.lock_state();
        let now = call.sim.now();
        let target = target(&state, path, "")?;
        let scope_rg = target.group.as_ref().map(|g| g.name.clone());
        let all: Vec<Json> = state
            .deployments
            .deployments
            .values()
            .filter(|d| {
                d.subscription_id
                    .eq_ignore_ascii_case(&target.subscription_id)
                    && match (&scope_rg, &d.resource_group) {
                        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                        (None, None) => true,
                        _ => false,
                    }
                    && render::visible(d, now)
                    && filter
                        .as_ref()
                        .is_none_or(|f| render::state_at(d, now).eq_ignore_ascii_case(f))
            })
            .map(|d| {
                let root = d
                    .root
                    .as_ref()
                    .and_then(|r| state.deployments.deployments.get(r))
                    .unwrap_or(d);
                render::deployment_json(d, root, now)
            })
            .collect();
        let page: Vec<Json> = all.iter().skip(skip).take(top).cloned().collect();
        let mut body = json!({ "value": page });
        if skip.saturating_add(top) < all.len() {
            let token = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(format!("offset:{}", skip.saturating_add(top)));
            let base = match &target.group {
                Some(g) => format!(
                    "{}/subscriptions/{}/resourcegroups/{}/providers/Microsoft.Resources/deployments/",
                    call.sim.base_url, target.subscription_id, g.name
                ),
                None => format!(
                    "{}/subscriptions/{}/providers/Microsoft.Resources/deployments/",
                    call.sim.base_url, target.subscription_id
                ),
            };
            let mut link = format!(
                "{base}?api-version={}&%24skiptoken={token}",
                request::percent_encode(&call.api_version())
            );
            if let Some(t) = request::query_param(&call.query, "$top") {
                link.push_str(&format!("&%24top={}", request::percent_encode(&t)));
            }
            if let Some(f) = request::query_param(&call.query, "$filter") {
                link.push_str(&format!("&%24filter={}", request::percent_encode(&f)));
            }
            body["nextLink"] = link.into();
        }
        body
    };
    respond(StatusCode::OK, body)
}

/// `POST /providers/Microsoft.Resources/calculateTemplateHash`: the minified template and its
/// hash (specs/examples/resources-2024-03-01_CalculateTemplateHash.json).
async fn calculate_template_hash(body: Bytes) -> Response {
    let text = String::from_utf8_lossy(&body);
    match landfall_template::json::parse_value(&text) {
        Ok(v) => json_response(
            StatusCode::OK,
            json!({
                "minifiedTemplate": landfall_template::hash::minified_template(&v),
                "templateHash": landfall_template::hash::template_hash(&v),
            }),
        ),
        Err(e) => engine::invalid_content(&format!(
            "{}. Path '', line {}, position {}.",
            e.message, e.pos.line, e.pos.column
        ))
        .into_response(),
    }
}

/// Applies what is due by `now`: resources whose operation finished are created, complete
/// mode removes what the template does not contain, and deployments of deleted resource
/// groups go with them.
pub fn advance(state: &mut SimState, now: OffsetDateTime) {
    let due: Vec<String> = state
        .deployments
        .deployments
        .iter()
        .filter(|(_, d)| d.root.is_none() && !d.settled)
        .map(|(k, _)| k.clone())
        .collect();
    for key in due {
        if let Some(d) = state.deployments.deployments.get_mut(&key) {
            materialise(d, &mut state.groups, now);
        }
    }
    forget_deleted_groups(state);
}

/// Creates the resources of finished operations and applies complete mode.
fn materialise(d: &mut Deployment, groups: &mut GroupsState, now: OffsetDateTime) {
    for op in d.operations.iter_mut() {
        if op.materialised || op.failed || op.end.is_none_or(|e| e > now) || op.start.is_none() {
            continue;
        }
        if let Some(resource) = &op.resource {
            apply(resource, groups, now);
        }
        op.materialised = true;
    }
    if !d.cleanup_done {
        match d.cleanup_end {
            Some(end) if end <= now => {
                complete_mode_cleanup(d, groups);
                d.cleanup_done = true;
            }
            Some(_) => {}
            None => d.cleanup_done = true,
        }
    }
    let ended = d.canceled_at.is_some_and(|c| c <= now) || d.finish.is_some_and(|f| f <= now);
    let all_done = d
        .operations
        .iter()
        .all(|o| o.start.is_none() || o.failed || o.materialised);
    d.settled = ended && all_done && d.cleanup_done;
}

/// Puts a created resource (or resource group) where ARM's resource APIs find it.
fn apply(resource: &Json, groups: &mut GroupsState, now: OffsetDateTime) {
    let id = resource.get("id").and_then(Json::as_str).unwrap_or("");
    let ty = resource.get("type").and_then(Json::as_str).unwrap_or("");
    if ty.eq_ignore_ascii_case("Microsoft.Resources/resourceGroups") {
        let name = resource.get("name").and_then(Json::as_str).unwrap_or("");
        let tags = resource
            .get("tags")
            .and_then(Json::as_object)
            .cloned()
            .unwrap_or_default();
        let key = id.to_ascii_lowercase();
        match groups.groups.get_mut(&key) {
            Some(g) => g.tags = tags,
            None => {
                // Built through serde so fields the groups module adds later take their
                // defaults.
                let group = serde_json::from_value::<ResourceGroup>(json!({
                    "id": id,
                    "name": name,
                    "location": resource.get("location").and_then(Json::as_str).unwrap_or(""),
                    "tags": tags,
                    "provisioningState": "Succeeded",
                }));
                match group {
                    Ok(g) => {
                        groups.groups.insert(key, g);
                    }
                    Err(e) => tracing::warn!("cannot create resource group '{id}': {e}"),
                }
            }
        }
        return;
    }
    if let Some(rg) = runtime::resource_group_of(id) {
        let sub = id.split('/').nth(2).unwrap_or("");
        if groups.group_named(sub, &rg).is_none() {
            // The group was deleted while the resource was being created.
            return;
        }
    }
    let previous = groups.resource(id).cloned();
    let Some(r) = runtime::to_resource(resource, now, previous.as_ref()) else {
        return;
    };
    if ty.eq_ignore_ascii_case("Microsoft.Network/virtualNetworks/subnets") {
        add_subnet_to_parent(groups, &r);
    }
    groups.put_resource(r);
}

/// A subnet created as its own resource also shows in its virtual network's `subnets`.
fn add_subnet_to_parent(groups: &mut GroupsState, subnet: &Resource) {
    let Some((parent_id, _)) = subnet.id.rsplit_once("/subnets/") else {
        return;
    };
    let Some(parent) = groups.resources.get_mut(&parent_id.to_ascii_lowercase()) else {
        return;
    };
    let short = subnet.name.rsplit('/').next().unwrap_or(&subnet.name);
    let mut entry = json!({
        "name": short,
        "id": subnet.id,
        "etag": subnet.extra.get("etag"),
        "type": "Microsoft.Network/virtualNetworks/subnets",
        "properties": subnet.properties,
    });
    // A write to a subnet is a write to its network: both get the subnet's new etag.
    match subnet.extra.get("etag") {
        Some(etag) => {
            parent.extra.insert("etag".into(), etag.clone());
        }
        None => {
            if let Some(o) = entry.as_object_mut() {
                o.remove("etag");
            }
        }
    }
    let Some(props) = parent.properties.as_object_mut() else {
        return;
    };
    let subnets = props
        .entry("subnets")
        .or_insert_with(|| Json::Array(Vec::new()));
    if let Json::Array(list) = subnets {
        match list.iter_mut().find(|s| {
            s.get("name")
                .and_then(Json::as_str)
                .is_some_and(|n| n.eq_ignore_ascii_case(short))
        }) {
            Some(existing) => *existing = entry,
            None => list.push(entry),
        }
    }
}

/// Complete mode: removes the resources of the target group the template does not contain.
fn complete_mode_cleanup(d: &Deployment, groups: &mut GroupsState) {
    let Some(rg) = &d.resource_group else {
        return;
    };
    let group = group_id(&d.subscription_id, rg);
    let planned: Vec<String> = d
        .operations
        .iter()
        .map(|o| o.resource_id.to_ascii_lowercase())
        .collect();
    let keep = |id: &str| {
        let id = id.to_ascii_lowercase();
        planned
            .iter()
            .any(|p| id == *p || id.starts_with(&format!("{p}/")))
    };
    let doomed: Vec<String> = groups
        .resources_in(&group)
        .filter(|r| !keep(&r.id))
        .map(|r| r.id.clone())
        .collect();
    for id in doomed {
        groups.remove_resource(&id);
    }
}

/// Deployments live in their resource group: when it is gone, so are they.
fn forget_deleted_groups(state: &mut SimState) {
    let groups = &state.groups;
    let gone = |d: &Deployment| {
        d.resource_group
            .as_ref()
            .is_some_and(|rg| groups.group_named(&d.subscription_id, rg).is_none())
    };
    let doomed: Vec<String> = state
        .deployments
        .deployments
        .iter()
        .filter(|(_, d)| match &d.root {
            None => gone(d),
            // A nested deployment may target a group its deployment creates later.
            Some(root) => {
                gone(d)
                    && state
                        .deployments
                        .deployments
                        .get(root)
                        .is_none_or(|r| r.settled)
            }
        })
        .map(|(k, _)| k.clone())
        .collect();
    for key in doomed {
        remove_with_nested(&mut state.deployments, &key);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // A failing test should stop loudly.
mod tests {
    use super::*;

    #[test]
    fn paths_parse_whatever_the_casing() {
        let p = parse_path(
            "/subscriptions/s/RESOURCEGROUPS/rg/providers/microsoft.resources/DEPLOYMENTS/d/operationStatuses/1",
        )
        .unwrap();
        assert_eq!(p.resource_group.as_deref(), Some("rg"));
        assert_eq!(p.name.as_deref(), Some("d"));
        assert_eq!(p.rest, vec!["operationstatuses", "1"]);
        let p = parse_path("/subscriptions/s/resourcegroups/rg/deployments/d/operations").unwrap();
        assert_eq!(p.rest, vec!["operations"]);
        let p = parse_path("/subscriptions/s/providers/Microsoft.Resources/deployments/").unwrap();
        assert!(p.resource_group.is_none() && p.name.is_none());
        assert!(parse_path("/subscriptions/s/providers/Microsoft.Storage/x").is_none());
        let p = parse_path(
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Resources/deployments/a%28b%29",
        )
        .unwrap();
        assert_eq!(p.name.as_deref(), Some("a(b)"));
    }

    #[test]
    fn filters_name_a_provisioning_state() {
        assert_eq!(
            state_filter("$filter=provisioningState%20eq%20'Failed'").unwrap(),
            Some("failed".into())
        );
        assert_eq!(state_filter("api-version=1").unwrap(), None);
        assert!(state_filter("$filter=name eq 'x'").is_err());
    }
}
