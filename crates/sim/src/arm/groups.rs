//! Resource groups (create, get, update, list with tag filters, async delete) and the generic
//! resources inside them (get, list by group and by tag), plus the request routing that the
//! directory, provider, resource group, compute, MySQL, name, Key Vault and authorization
//! modules share.
//!
//! [`GroupsState`] is also where deployments put the resources they create.
//!
//! # Routing and case
//! ARM treats path segments and names case-insensitively (`resourcegroups` and `resourceGroups`
//! both work, `Microsoft.Compute` and `microsoft.compute` too) while axum matches paths
//! case-sensitively. These modules therefore register no axum routes: [`router`] installs one
//! *fallback* that parses every unmatched ARM path itself, comparing segments lower-cased, and
//! dispatches to the module that owns it. A path that belongs to another module (deployments:
//! `.../providers/Microsoft.Resources/deployments/...`, `calculateTemplateHash`) but arrived here
//! because its casing differs from the registered route is rewritten to its canonical casing
//! ([`canonical_path`]) and sent through the ARM router again, so those routes only need to be
//! registered once, in canonical form.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};
use time::OffsetDateTime;
use tower::ServiceExt;

use super::{authorization, compute, directory, keyvault, mysql, names, operations, providers};
use crate::Sim;
use crate::http::{Caller, accepted_with_location, arm_error, is_arm_path, json_response};
use crate::state::SimState;

/// Resource groups and resources, keyed by lower-cased ID.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupsState {
    /// Resource groups.
    pub groups: BTreeMap<String, ResourceGroup>,
    /// Resources (any type, any scope), created by deployments.
    pub resources: BTreeMap<String, Resource>,
}

/// A resource group.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceGroup {
    /// `/subscriptions/{sub}/resourceGroups/{name}`.
    pub id: String,
    /// Name as created.
    pub name: String,
    /// Location.
    pub location: String,
    /// Tags.
    #[serde(default)]
    pub tags: serde_json::Map<String, Json>,
    /// `managedBy`.
    #[serde(default)]
    pub managed_by: Option<String>,
    /// `Succeeded`, or `Deleting` while an async delete runs.
    pub provisioning_state: String,
    /// When the delete started, if deleting.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub delete_started: Option<OffsetDateTime>,
}

/// A resource as ARM's generic resource API returns it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resource {
    /// Full ID.
    pub id: String,
    /// Name (`parent/child` for child resources, as in templates).
    pub name: String,
    /// Type (`Microsoft.Storage/storageAccounts`).
    #[serde(rename = "type")]
    pub resource_type: String,
    /// Location.
    #[serde(default)]
    pub location: Option<String>,
    /// Tags.
    #[serde(default)]
    pub tags: serde_json::Map<String, Json>,
    /// `sku`, `kind`, `identity`, `zones`, `plan`... as given.
    #[serde(default)]
    pub extra: serde_json::Map<String, Json>,
    /// Properties, including `provisioningState` and the values Azure computes (endpoints,
    /// FQDNs).
    pub properties: Json,
    /// API version it was created with.
    pub api_version: String,
    /// When it was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_time: OffsetDateTime,
    /// When it last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub changed_time: OffsetDateTime,
}

impl GroupsState {
    /// The resource group with this ID (case-insensitive).
    pub fn group(&self, id: &str) -> Option<&ResourceGroup> {
        self.groups.get(&id.to_ascii_lowercase())
    }

    /// The resource group with this name in a subscription (case-insensitive).
    pub fn group_named(&self, subscription_id: &str, name: &str) -> Option<&ResourceGroup> {
        self.group(&group_id(subscription_id, name))
    }

    /// True while the group is being deleted (deployments into it must be refused).
    pub fn is_deleting(&self, subscription_id: &str, name: &str) -> bool {
        self.group_named(subscription_id, name)
            .is_some_and(|g| g.provisioning_state == "Deleting")
    }

    /// The resource with this ID (case-insensitive).
    pub fn resource(&self, id: &str) -> Option<&Resource> {
        self.resources.get(&id.to_ascii_lowercase())
    }

    /// Creates or replaces a resource.
    pub fn put_resource(&mut self, r: Resource) {
        self.resources.insert(r.id.to_ascii_lowercase(), r);
    }

    /// Removes a resource and its children; returns how many were removed.
    pub fn remove_resource(&mut self, id: &str) -> usize {
        let key = id.to_ascii_lowercase();
        let prefix = format!("{key}/");
        let before = self.resources.len();
        self.resources
            .retain(|k, _| *k != key && !k.starts_with(&prefix));
        before - self.resources.len()
    }

    /// Resources inside a resource group (by its ID).
    pub fn resources_in(&self, group_id: &str) -> impl Iterator<Item = &Resource> {
        let prefix = format!("{}/", group_id.to_ascii_lowercase());
        self.resources
            .iter()
            .filter(move |(k, _)| k.starts_with(&prefix))
            .map(|(_, r)| r)
    }
}

/// `/subscriptions/{sub}/resourceGroups/{name}`, the ID ARM gives a resource group.
pub fn group_id(subscription_id: &str, name: &str) -> String {
    format!("/subscriptions/{subscription_id}/resourceGroups/{name}")
}

/// Removes a resource and its children the way deleting it in Azure does: Key Vaults among
/// them are soft-deleted into [`keyvault::VaultsState`] (their names stay taken until purged),
/// role assignments scoped to them go too. Returns how many resources were removed.
pub fn delete_resource(state: &mut SimState, id: &str, now: OffsetDateTime) -> usize {
    let key = id.to_ascii_lowercase();
    let prefix = format!("{key}/");
    let doomed: Vec<Resource> = state
        .groups
        .resources
        .iter()
        .filter(|(k, _)| **k == key || k.starts_with(&prefix))
        .map(|(_, r)| r.clone())
        .collect();
    for r in &doomed {
        if r.resource_type.eq_ignore_ascii_case(keyvault::VAULT_TYPE) {
            state.vaults.soft_delete(r, now);
        }
    }
    state.authorization.remove_scope(id);
    state.groups.remove_resource(id)
}

/// The routes: one fallback serving every ARM path these modules own (see the module docs).
pub fn router() -> Router<Arc<Sim>> {
    Router::new().fallback(arm_fallback)
}

/// The kind of the async operation that deletes a resource group.
pub const DELETE_GROUP_OPERATION: &str = "deleteResourceGroup";

/// The delete operation running for a group (its ID and completion time), if any.
pub fn delete_operation(state: &SimState, group_id: &str) -> Option<(String, OffsetDateTime)> {
    state
        .operations
        .operations
        .values()
        .filter(|o| o.kind == DELETE_GROUP_OPERATION && o.target.eq_ignore_ascii_case(group_id))
        .max_by_key(|o| o.started)
        .map(|o| (o.id.clone(), o.completes))
}

/// Applies what is due by `now` (resource group deletions completing: the group, its
/// resources and role assignments go; its Key Vaults are soft-deleted).
pub fn advance(state: &mut SimState, now: OffsetDateTime) {
    let due: Vec<ResourceGroup> = state
        .groups
        .groups
        .values()
        .filter(|g| {
            g.provisioning_state == "Deleting"
                && delete_operation(state, &g.id).is_none_or(|(_, t)| t <= now)
        })
        .cloned()
        .collect();
    for g in due {
        let ids: Vec<String> = state
            .groups
            .resources_in(&g.id)
            .map(|r| r.id.clone())
            .collect();
        for id in ids {
            delete_resource(state, &id, now);
        }
        state.authorization.remove_scope(&g.id);
        state.groups.groups.remove(&g.id.to_ascii_lowercase());
    }
}

// ---------------------------------------------------------------------------------------------
// Requests

/// An ARM request as the handlers of these modules see it: the path split into segments
/// (percent-decoded, and lower-cased for matching), the query, the body, the caller.
pub(crate) struct ArmRequest {
    /// HTTP method.
    pub(crate) method: Method,
    /// The raw path.
    pub(crate) path: String,
    /// Path segments, percent-decoded, casing as sent.
    pub(crate) segments: Vec<String>,
    /// Path segments, percent-decoded, lower-cased.
    pub(crate) lower: Vec<String>,
    /// Query parameters, decoded (`+` as space), in order.
    pub(crate) query: Vec<(String, String)>,
    /// The body.
    pub(crate) body: Bytes,
    /// The signed-in principal (put there by the middleware).
    pub(crate) caller: Option<Caller>,
}

impl ArmRequest {
    /// Builds the view of a request.
    pub(crate) fn new(method: Method, uri: &Uri, body: Bytes, caller: Option<Caller>) -> Self {
        let path = uri.path().to_owned();
        let segments: Vec<String> = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| percent_decode(s, false))
            .collect();
        let lower = segments.iter().map(|s| s.to_ascii_lowercase()).collect();
        let query = uri
            .query()
            .unwrap_or("")
            .split('&')
            .filter(|kv| !kv.is_empty())
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                (percent_decode(k, true), percent_decode(v, true))
            })
            .collect();
        ArmRequest {
            method,
            path,
            segments,
            lower,
            query,
            body,
            caller,
        }
    }

    /// A query parameter (name compared case-insensitively, as ARM does).
    pub(crate) fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The `api-version` sent (the middleware has already refused requests without one).
    pub(crate) fn api_version(&self) -> &str {
        self.query("api-version").unwrap_or("")
    }

    /// The body as JSON, or ARM's `400 InvalidRequestContent` when it is missing or malformed.
    pub(crate) fn json_body(&self) -> Result<Json, Box<Response>> {
        let text = String::from_utf8_lossy(&self.body);
        if text.trim().is_empty() {
            return reject(invalid_content("The request content is empty."));
        }
        serde_json::from_str::<Json>(&text).map_err(|e| {
            let found = text
                .lines()
                .nth(e.line().saturating_sub(1))
                .and_then(|l| l.chars().nth(e.column().saturating_sub(1)))
                .unwrap_or(' ');
            invalid_content(&format!(
                "Unexpected character encountered while parsing value: {found}. Path '', line {}, position {}.",
                e.line(),
                e.column()
            ))
        })
        .map_err(Box::new)
    }

    /// The body as a JSON object (see [`ArmRequest::json_body`]).
    pub(crate) fn json_object(&self) -> Result<serde_json::Map<String, Json>, Box<Response>> {
        match self.json_body()? {
            Json::Object(m) => Ok(m),
            other => reject(invalid_content(&format!(
                "Error converting value {} to type 'Object'. Path '', line 1, position {}.",
                other,
                other.to_string().len()
            ))),
        }
    }

    /// A required string property of the JSON body.
    pub(crate) fn required_string(
        body: &serde_json::Map<String, Json>,
        name: &str,
    ) -> Result<String, Box<Response>> {
        match body.get(name) {
            Some(Json::String(s)) => Ok(s.clone()),
            _ => reject(invalid_content(&format!(
                "Required property '{name}' not found in JSON. Path '', line 1, position 1."
            ))),
        }
    }

    /// The caller, or ARM's 401 if the middleware did not authenticate one.
    pub(crate) fn caller(&self) -> Result<&Caller, Box<Response>> {
        self.caller
            .as_ref()
            .ok_or_else(|| {
                arm_error(
                    StatusCode::UNAUTHORIZED,
                    "AuthenticationFailed",
                    "Authentication failed. The 'Authorization' header is missing.",
                )
            })
            .map_err(Box::new)
    }

    /// The URL of this request's path (no query) on the simulator.
    pub(crate) fn url(&self, sim: &Sim) -> String {
        format!("{}{}", sim.base_url, self.path)
    }
}

/// A refusal as the error of a helper (`Response` is large, so it travels boxed).
pub(crate) fn reject<T>(r: Response) -> Result<T, Box<Response>> {
    Err(Box::new(r))
}

/// ARM's `400 InvalidRequestContent` with a deserializer message.
pub(crate) fn invalid_content(detail: &str) -> Response {
    arm_error(
        StatusCode::BAD_REQUEST,
        "InvalidRequestContent",
        format!("The request content was invalid and could not be deserialized: '{detail}'."),
    )
}

/// Decodes `%XX` escapes (and `+` as a space in query strings); invalid escapes stay as sent.
pub(crate) fn percent_decode(s: &str, plus_as_space: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = |b: u8| (b as char).to_digit(16);
                match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 3;
                    }
                    _ => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' if plus_as_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// RFC 3339 in UTC, as ARM writes timestamps.
pub(crate) fn timestamp(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// `405` for a path that exists with another method.
pub(crate) fn method_not_allowed(req: &ArmRequest) -> Response {
    arm_error(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        format!(
            "The requested resource does not support http method '{}'.",
            req.method
        ),
    )
}

/// ARM's answer for a path it has no route for: the type under `Microsoft.Resources`.
fn unknown_route(req: &ArmRequest) -> Response {
    let t = req.segments.last().cloned().unwrap_or_default();
    arm_error(
        StatusCode::NOT_FOUND,
        "InvalidResourceType",
        format!(
            "The resource type '{t}' could not be found in the namespace 'Microsoft.Resources' for api version '{}'.",
            req.api_version()
        ),
    )
}

/// `404 ResourceGroupNotFound`.
pub(crate) fn group_not_found(name: &str) -> Response {
    arm_error(
        StatusCode::NOT_FOUND,
        "ResourceGroupNotFound",
        format!("Resource group '{name}' could not be found."),
    )
}

// ---------------------------------------------------------------------------------------------
// Dispatch

async fn arm_fallback(State(sim): State<Arc<Sim>>, req: Request) -> Response {
    if !is_arm_path(req.uri().path()) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let (parts, body) = req.into_parts();
    let lower: Vec<String> = parts
        .uri
        .path()
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| s.to_ascii_lowercase())
        .collect();
    if owned_by_deployments(&lower) {
        let canonical = canonical_path(parts.uri.path());
        if canonical != parts.uri.path() {
            return redispatch(sim, parts, body, &canonical).await;
        }
    }
    let body = match axum::body::to_bytes(body, 32 * 1024 * 1024).await {
        Ok(b) => b,
        Err(_) => {
            return arm_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestContentTooLarge",
                "The request content size exceeds the maximum allowed size.",
            );
        }
    };
    let caller = parts.extensions.get::<Caller>().cloned();
    let req = ArmRequest::new(parts.method, &parts.uri, body, caller);
    dispatch(&sim, &req)
}

/// Sends a request whose path casing differed from the registered route through the ARM
/// router again, with the canonical path.
async fn redispatch(
    sim: Arc<Sim>,
    mut parts: axum::http::request::Parts,
    body: axum::body::Body,
    canonical: &str,
) -> Response {
    static ARM: OnceLock<Router<Arc<Sim>>> = OnceLock::new();
    let path_and_query = match parts.uri.query() {
        Some(q) => format!("{canonical}?{q}"),
        None => canonical.to_owned(),
    };
    let Ok(uri) = path_and_query.parse::<Uri>() else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    parts.uri = uri;
    let router = ARM.get_or_init(super::router).clone().with_state(sim);
    match router.oneshot(Request::from_parts(parts, body)).await {
        Ok(r) => r,
        Err(never) => match never {},
    }
}

/// True for paths served by the deployments module (`.../providers/Microsoft.Resources/
/// deployments...` at any scope, `calculateTemplateHash`).
fn owned_by_deployments(lower: &[String]) -> bool {
    // The legacy form `/subscriptions/{s}/resourcegroups/{rg}/deployments/...` too.
    let legacy = lower.get(2).is_some_and(|s| s == "resourcegroups")
        && lower.get(4).is_some_and(|s| s == "deployments");
    legacy
        || lower.windows(3).any(|w| {
            w[0] == "providers"
                && w[1] == "microsoft.resources"
                && (w[2] == "deployments" || w[2] == "calculatetemplatehash")
        })
}

/// Canonical casing for the keyword segments of an ARM path, as routes are registered:
/// `subscriptions`, `resourcegroups`, `providers`, the provider namespace as its provider
/// spells it, `deployments`, `operations`, `operationStatuses`, `validate`, `whatIf`, `cancel`,
/// `exportTemplate`, `calculateTemplateHash`... Names (subscription IDs, group names,
/// resource names) are never touched: keywords are only recognised at keyword positions.
pub fn canonical_path(path: &str) -> String {
    const KEYWORDS: &[&str] = &[
        "subscriptions",
        "resourcegroups",
        "providers",
        "locations",
        "resources",
        "operationresults",
        "tenants",
        "deployments",
        "operations",
        "operationStatuses",
        "validate",
        "whatIf",
        "cancel",
        "exportTemplate",
        "calculateTemplateHash",
    ];
    let mut out = String::with_capacity(path.len());
    let mut keyword_next = true;
    let mut namespace_next = false;
    for seg in path.split('/').filter(|s| !s.is_empty()) {
        out.push('/');
        if namespace_next {
            let ns = providers::provider(seg).map_or(seg, |p| p.namespace);
            out.push_str(ns);
            namespace_next = false;
            keyword_next = true;
            continue;
        }
        if keyword_next {
            let canonical = KEYWORDS
                .iter()
                .find(|k| k.eq_ignore_ascii_case(seg))
                .copied();
            out.push_str(canonical.unwrap_or(seg));
            if seg.eq_ignore_ascii_case("providers") {
                namespace_next = true;
            } else {
                keyword_next = false;
            }
        } else {
            out.push_str(seg);
            keyword_next = true;
        }
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

/// Finds `providers/Microsoft.Authorization/{permissions|roleAssignments|roleDefinitions}`.
fn authorization_index(l: &[&str]) -> Option<usize> {
    (0..l.len().saturating_sub(2)).rev().find(|&i| {
        l[i] == "providers"
            && l[i + 1] == "microsoft.authorization"
            && matches!(
                l[i + 2],
                "permissions" | "roleassignments" | "roledefinitions"
            )
            && l.len() <= i + 4
    })
}

fn dispatch(sim: &Sim, req: &ArmRequest) -> Response {
    let l: Vec<&str> = req.lower.iter().map(String::as_str).collect();
    if let Some(i) = authorization_index(&l) {
        return authorization::handle(sim, req, i);
    }
    let get = req.method == Method::GET;
    match l.as_slice() {
        ["tenants"] if get => directory::list_tenants(sim, req),
        ["subscriptions"] if get => directory::list_subscriptions(sim, req),
        ["tenants"] | ["subscriptions"] => method_not_allowed(req),
        ["subscriptions", _, rest @ ..] => {
            let sub = req.segments[1].clone();
            if let Err(r) = directory::check_subscription(sim, req, &sub) {
                return *r;
            }
            subscription_scope(sim, req, &sub, rest)
        }
        _ => unknown_route(req),
    }
}

fn subscription_scope(sim: &Sim, req: &ArmRequest, sub: &str, rest: &[&str]) -> Response {
    let m = &req.method;
    let get = *m == Method::GET;
    let post = *m == Method::POST;
    // Indexes into `req.segments` are `2 + i` for `rest[i]`.
    let seg = |i: usize| req.segments.get(2 + i).map_or("", String::as_str);
    match rest {
        [] if get => directory::get_subscription(sim, req, sub),
        ["locations"] if get => directory::list_locations(sim, req, sub),
        ["operationresults", _] if get => operations::poll(sim, req, sub, seg(1)),
        ["resourcegroups"] if get => list_groups(sim, req, sub),
        ["resourcegroups", _] => group(sim, req, sub, seg(1)),
        ["resourcegroups", _, "resources"] if get => list_group_resources(sim, req, sub, seg(1)),
        ["resourcegroups", _, "providers", _, _, ..] => generic(sim, req, sub, Some(seg(1))),
        ["resources"] if get => list_subscription_resources(sim, req, sub),
        ["providers"] if get => providers::list(sim, req, sub),
        ["providers", _] if get => providers::get(sim, req, sub, seg(1)),
        ["providers", _, "register"] if post => providers::register(sim, req, sub, seg(1), true),
        ["providers", _, "unregister"] if post => providers::register(sim, req, sub, seg(1), false),
        ["providers", "microsoft.compute", "locations", _, "usages"] if get => {
            compute::usages(sim, req, sub, seg(3))
        }
        ["providers", "microsoft.compute", "skus"] if get => compute::skus(sim, req),
        [
            "providers",
            "microsoft.dbformysql",
            "locations",
            _,
            "capabilities",
        ] if get => mysql::capabilities(sim, req, seg(3)),
        ["providers", "microsoft.dbformysql", "checknameavailability"] if post => {
            names::mysql(sim, req, None)
        }
        [
            "providers",
            "microsoft.dbformysql",
            "locations",
            _,
            "checknameavailability",
        ] if post => names::mysql(sim, req, Some(seg(3))),
        ["providers", "microsoft.storage", "checknameavailability"] if post => {
            names::storage(sim, req)
        }
        ["providers", "microsoft.keyvault", "checknameavailability"] if post => {
            names::keyvault(sim, req)
        }
        ["providers", "microsoft.keyvault", "deletedvaults"] if get => {
            keyvault::list(sim, req, sub)
        }
        [
            "providers",
            "microsoft.keyvault",
            "locations",
            _,
            "deletedvaults",
            _,
        ] if get => keyvault::get(sim, req, sub, seg(3), seg(5)),
        [
            "providers",
            "microsoft.keyvault",
            "locations",
            _,
            "deletedvaults",
            _,
            "purge",
        ] if post => keyvault::purge(sim, req, sub, seg(3), seg(5)),
        ["providers", _, "register" | "unregister"] => method_not_allowed(req),
        ["providers", _, _, ..] => generic(sim, req, sub, None),
        []
        | ["locations"]
        | ["operationresults", _]
        | ["resourcegroups"]
        | ["resources"]
        | ["resourcegroups", _, "resources"]
        | ["providers"]
        | ["providers", _] => method_not_allowed(req),
        _ => unknown_route(req),
    }
}

// ---------------------------------------------------------------------------------------------
// Resource groups

/// Checks a resource group name against ARM's rules: 1 to 90 letters, digits, `-`, `.`, `_`,
/// `(`, `)`, not ending in `.`.
pub fn validate_group_name(name: &str) -> Result<(), (String, String)> {
    let invalid: String = name
        .chars()
        .filter(|c| !(c.is_alphanumeric() || matches!(c, '-' | '.' | '_' | '(' | ')')))
        .collect();
    if !invalid.is_empty() {
        return Err((
            "InvalidResourceGroup".into(),
            format!(
                "The provided resource group name '{name}' has these invalid characters: '{invalid}'. The name can only be a letter, digit, '-', '.', '(', ')' or '_'."
            ),
        ));
    }
    if name.chars().count() > 90 || name.is_empty() {
        return Err((
            "InvalidResourceGroup".into(),
            format!(
                "The provided resource group name '{name}' is invalid. The name must be between 1 and 90 characters long."
            ),
        ));
    }
    if name.ends_with('.') {
        return Err((
            "InvalidResourceGroup".into(),
            format!(
                "The provided resource group name '{name}' has these invalid trailing characters: '.'. The name cannot end with characters: '.'."
            ),
        ));
    }
    Ok(())
}

/// The JSON ARM returns for a resource group.
pub fn group_json(g: &ResourceGroup) -> Json {
    let mut o = serde_json::Map::new();
    o.insert("id".into(), json!(g.id));
    o.insert("name".into(), json!(g.name));
    o.insert("type".into(), json!("Microsoft.Resources/resourceGroups"));
    o.insert("location".into(), json!(g.location));
    if let Some(m) = &g.managed_by {
        o.insert("managedBy".into(), json!(m));
    }
    if !g.tags.is_empty() {
        o.insert("tags".into(), Json::Object(g.tags.clone()));
    }
    o.insert(
        "properties".into(),
        json!({"provisioningState": g.provisioning_state}),
    );
    Json::Object(o)
}

fn group(sim: &Sim, req: &ArmRequest, sub: &str, name: &str) -> Response {
    match req.method {
        Method::GET | Method::HEAD => {
            let st = sim.lock_state();
            match st.groups.group_named(sub, name) {
                Some(_) if req.method == Method::HEAD => StatusCode::NO_CONTENT.into_response(),
                Some(g) => json_response(StatusCode::OK, group_json(g)),
                None => group_not_found(name),
            }
        }
        Method::PUT => put_group(sim, req, sub, name),
        Method::PATCH => patch_group(sim, req, sub, name),
        Method::DELETE => delete_group(sim, req, sub, name),
        _ => method_not_allowed(req),
    }
}

fn tags_of(
    body: &serde_json::Map<String, Json>,
) -> Result<Option<serde_json::Map<String, Json>>, Box<Response>> {
    match body.get("tags") {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Object(t)) => Ok(Some(
            t.iter()
                .map(|(k, v)| {
                    let v = match v {
                        Json::String(s) => Json::String(s.clone()),
                        other => Json::String(other.to_string()),
                    };
                    (k.clone(), v)
                })
                .collect(),
        )),
        Some(other) => reject(invalid_content(&format!(
            "Error converting value {other} to type 'Dictionary`2'. Path 'tags', line 1, position 1."
        ))),
    }
}

fn put_group(sim: &Sim, req: &ArmRequest, sub: &str, name: &str) -> Response {
    let body = match req.json_object() {
        Ok(b) => b,
        Err(r) => return *r,
    };
    if let Err((code, message)) = validate_group_name(name) {
        return arm_error(StatusCode::BAD_REQUEST, &code, message);
    }
    let location = match body.get("location") {
        Some(Json::String(l)) if !l.trim().is_empty() => l.clone(),
        _ => {
            return arm_error(
                StatusCode::BAD_REQUEST,
                "LocationRequired",
                "The location property is required for this definition.",
            );
        }
    };
    let Some(region) = directory::region(&location).filter(|r| r.is_physical()) else {
        let available: Vec<&str> = directory::regions()
            .iter()
            .filter(|r| r.is_physical())
            .map(|r| r.name)
            .collect();
        return arm_error(
            StatusCode::BAD_REQUEST,
            "LocationNotAvailableForResourceGroup",
            format!(
                "The provided location '{location}' is not available for resource group. List of available regions is '{}'.",
                available.join(",")
            ),
        );
    };
    let tags = match tags_of(&body) {
        Ok(t) => t,
        Err(r) => return *r,
    };
    let managed_by = body
        .get("managedBy")
        .and_then(Json::as_str)
        .map(str::to_owned);
    let mut st = sim.lock_state();
    let key = group_id(sub, name).to_ascii_lowercase();
    let (status, g) = match st.groups.groups.get_mut(&key) {
        Some(g) if g.provisioning_state == "Deleting" => {
            return arm_error(
                StatusCode::CONFLICT,
                "ResourceGroupBeingDeleted",
                format!(
                    "The resource group '{}' is in deprovisioning state and cannot perform this operation.",
                    g.name
                ),
            );
        }
        Some(g) if g.location != region.name => {
            return arm_error(
                StatusCode::CONFLICT,
                "InvalidResourceGroupLocation",
                format!(
                    "Invalid resource group location '{location}'. The Resource group already exists in location '{}'.",
                    g.location
                ),
            );
        }
        Some(g) => {
            g.tags = tags.unwrap_or_default();
            if managed_by.is_some() {
                g.managed_by = managed_by;
            }
            (StatusCode::OK, g.clone())
        }
        None => {
            let g = ResourceGroup {
                id: group_id(sub, name),
                name: name.to_owned(),
                location: region.name.to_owned(),
                tags: tags.unwrap_or_default(),
                managed_by,
                provisioning_state: "Succeeded".into(),
                delete_started: None,
            };
            st.groups.groups.insert(key, g.clone());
            (StatusCode::CREATED, g)
        }
    };
    sim.persist(&st);
    json_response(status, group_json(&g))
}

fn patch_group(sim: &Sim, req: &ArmRequest, sub: &str, name: &str) -> Response {
    let body = match req.json_object() {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let tags = match tags_of(&body) {
        Ok(t) => t,
        Err(r) => return *r,
    };
    let mut st = sim.lock_state();
    let key = group_id(sub, name).to_ascii_lowercase();
    let Some(g) = st.groups.groups.get_mut(&key) else {
        return group_not_found(name);
    };
    if g.provisioning_state == "Deleting" {
        return arm_error(
            StatusCode::CONFLICT,
            "ResourceGroupBeingDeleted",
            format!(
                "The resource group '{}' is in deprovisioning state and cannot perform this operation.",
                g.name
            ),
        );
    }
    if let Some(t) = tags {
        g.tags = t;
    }
    if let Some(m) = body.get("managedBy").and_then(Json::as_str) {
        g.managed_by = Some(m.to_owned());
    }
    let out = group_json(g);
    sim.persist(&st);
    json_response(StatusCode::OK, out)
}

/// How long deleting a group takes at speed 1: a base plus a little per resource.
fn delete_duration(resources: usize, speed: f64) -> time::Duration {
    let secs = (30.0 + 10.0 * resources as f64).min(900.0) / speed.max(0.001);
    time::Duration::milliseconds((secs * 1000.0) as i64)
}

fn delete_group(sim: &Sim, req: &ArmRequest, sub: &str, name: &str) -> Response {
    let now = sim.now();
    let mut st = sim.lock_state();
    let key = group_id(sub, name).to_ascii_lowercase();
    let Some(g) = st.groups.groups.get(&key).cloned() else {
        return group_not_found(name);
    };
    // ARM answers a repeated delete with the operation already running.
    if g.provisioning_state == "Deleting"
        && let Some((op, _)) = delete_operation(&st, &g.id)
    {
        let url = operations::polling_url(&sim.base_url, sub, &op, req.api_version());
        return accepted_with_location(&url, 0);
    }
    let count = st.groups.resources_in(&g.id).count();
    let duration = delete_duration(count, sim.options.speed);
    let job = format!(
        "RESOURCEGROUPDELETIONJOB-{}-{}",
        operations::job_escape(&g.name),
        g.location.to_ascii_uppercase()
    );
    let op = st.operations.start_with(operations::NewOperation {
        job_id: Some(job),
        location: Some(g.location.clone()),
        ..operations::NewOperation::new(DELETE_GROUP_OPERATION, &g.id, now, duration)
    });
    if let Some(group) = st.groups.groups.get_mut(&key) {
        group.provisioning_state = "Deleting".into();
        group.delete_started = Some(now);
    }
    sim.persist(&st);
    // Azure sends `Retry-After: 0` here and on the polls (azd recordings): clients use their
    // own default interval.
    let url = operations::polling_url(&sim.base_url, sub, &op, req.api_version());
    accepted_with_location(&url, 0)
}

// ---------------------------------------------------------------------------------------------
// Lists, filters, paging

/// One clause of an OData `$filter` as ARM accepts it for groups and resources.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Clause {
    /// `field eq 'value'` (or `ne` when `negate`).
    Compare {
        /// Field name, lower-cased.
        field: String,
        /// Value.
        value: String,
        /// `ne` instead of `eq`.
        negate: bool,
    },
    /// `substringof('value', field)`.
    Substring {
        /// Field name, lower-cased.
        field: String,
        /// Value.
        value: String,
    },
    /// `startswith(field, 'value')`.
    StartsWith {
        /// Field name, lower-cased.
        field: String,
        /// Value.
        value: String,
    },
}

/// Parses `a eq 'x' and substringof('y', name) and startswith(tagValue, 'z')`.
pub(crate) fn parse_filter(filter: &str) -> Result<Vec<Clause>, Box<Response>> {
    let bad = || {
        arm_error(
            StatusCode::BAD_REQUEST,
            "InvalidFilterInQueryString",
            format!("The filter '{filter}' is not valid."),
        )
    };
    let tokens = tokenize(filter).ok_or_else(bad)?;
    let mut clauses = Vec::new();
    let mut i = 0;
    loop {
        let lower = |t: &Token| match t {
            Token::Word(w) => w.to_ascii_lowercase(),
            _ => String::new(),
        };
        let word = tokens.get(i).map(lower).ok_or_else(bad)?;
        match word.as_str() {
            "substringof" | "startswith" => {
                // f ( a , b )
                let (Some(Token::Open), Some(a), Some(Token::Comma), Some(b), Some(Token::Close)) = (
                    tokens.get(i + 1),
                    tokens.get(i + 2),
                    tokens.get(i + 3),
                    tokens.get(i + 4),
                    tokens.get(i + 5),
                ) else {
                    return reject(bad());
                };
                let clause = match (word.as_str(), a, b) {
                    ("substringof", Token::Str(v), Token::Word(f)) => Clause::Substring {
                        field: f.to_ascii_lowercase(),
                        value: v.clone(),
                    },
                    ("startswith", Token::Word(f), Token::Str(v)) => Clause::StartsWith {
                        field: f.to_ascii_lowercase(),
                        value: v.clone(),
                    },
                    _ => return reject(bad()),
                };
                clauses.push(clause);
                i += 6;
            }
            "" => return reject(bad()),
            field => {
                let (Some(Token::Word(op)), Some(Token::Str(v))) =
                    (tokens.get(i + 1), tokens.get(i + 2))
                else {
                    return reject(bad());
                };
                let negate = match op.to_ascii_lowercase().as_str() {
                    "eq" => false,
                    "ne" => true,
                    _ => return reject(bad()),
                };
                clauses.push(Clause::Compare {
                    field: field.to_owned(),
                    value: v.clone(),
                    negate,
                });
                i += 3;
            }
        }
        match tokens.get(i) {
            None => break,
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("and") => i += 1,
            Some(_) => return reject(bad()),
        }
    }
    Ok(clauses)
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Str(String),
    Open,
    Close,
    Comma,
}

fn tokenize(s: &str) -> Option<Vec<Token>> {
    let mut out = Vec::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' => i += 1,
            '(' => {
                out.push(Token::Open);
                i += 1;
            }
            ')' => {
                out.push(Token::Close);
                i += 1;
            }
            ',' => {
                out.push(Token::Comma);
                i += 1;
            }
            '\'' => {
                let mut v = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return None,
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            v.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(&ch) => {
                            v.push(ch);
                            i += 1;
                        }
                    }
                }
                out.push(Token::Str(v));
            }
            _ => {
                let start = i;
                while i < chars.len() && !matches!(chars[i], ' ' | '\t' | '(' | ')' | ',' | '\'') {
                    i += 1;
                }
                out.push(Token::Word(chars[start..i].iter().collect()));
            }
        }
    }
    Some(out)
}

/// The fields a filter can test on a group or resource.
struct Fields<'a> {
    name: &'a str,
    resource_type: &'a str,
    location: &'a str,
    resource_group: &'a str,
    tags: &'a serde_json::Map<String, Json>,
}

/// Whether an item passes every clause. `tagName`/`tagValue` pairs are evaluated together:
/// a tag with that name (case-insensitive) and that value.
fn matches(clauses: &[Clause], f: &Fields<'_>) -> Result<bool, String> {
    let tag_name = clauses.iter().find_map(|c| match c {
        Clause::Compare {
            field,
            value,
            negate: false,
        } if field == "tagname" => Some(value),
        _ => None,
    });
    for c in clauses {
        let ok = match c {
            Clause::Compare {
                field,
                value,
                negate,
            } => {
                let hit = match field.as_str() {
                    "tagname" => f.tags.keys().any(|k| k.eq_ignore_ascii_case(value)),
                    "tagvalue" => f.tags.iter().any(|(k, v)| {
                        tag_name.is_none_or(|n| k.eq_ignore_ascii_case(n))
                            && v.as_str() == Some(value.as_str())
                    }),
                    "name" => f.name.eq_ignore_ascii_case(value),
                    "resourcetype" => f.resource_type.eq_ignore_ascii_case(value),
                    "location" => {
                        directory::normalize_location(f.location)
                            == directory::normalize_location(value)
                    }
                    "resourcegroup" => f.resource_group.eq_ignore_ascii_case(value),
                    other => return Err(other.to_owned()),
                };
                hit != *negate
            }
            Clause::Substring { field, value } => {
                let hay = match field.as_str() {
                    "name" => f.name,
                    "resourcegroup" => f.resource_group,
                    other => return Err(other.to_owned()),
                };
                hay.to_ascii_lowercase()
                    .contains(&value.to_ascii_lowercase())
            }
            Clause::StartsWith { field, value } => match field.as_str() {
                "tagvalue" => f.tags.iter().any(|(k, v)| {
                    tag_name.is_none_or(|n| k.eq_ignore_ascii_case(n))
                        && v.as_str().is_some_and(|s| s.starts_with(value.as_str()))
                }),
                "name" => f
                    .name
                    .to_ascii_lowercase()
                    .starts_with(&value.to_ascii_lowercase()),
                other => return Err(other.to_owned()),
            },
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

/// A page of `items` with ARM's `nextLink` (`$skiptoken`) when more remain.
pub(crate) fn page(sim: &Sim, req: &ArmRequest, items: Vec<Json>, default_size: usize) -> Json {
    let size = req
        .query("$top")
        .and_then(|t| t.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default_size);
    let start = req
        .query("$skiptoken")
        .and_then(decode_skiptoken)
        .unwrap_or(0);
    let end = start.saturating_add(size).min(items.len());
    let value: Vec<Json> = items
        .get(start.min(items.len())..end)
        .map(<[Json]>::to_vec)
        .unwrap_or_default();
    let mut out = json!({ "value": value });
    if end < items.len() {
        let mut q: Vec<String> = req
            .query
            .iter()
            .filter(|(k, _)| !k.eq_ignore_ascii_case("$skiptoken"))
            .map(|(k, v)| format!("{}={}", encode_query(k), encode_query(v)))
            .collect();
        q.push(format!("%24skiptoken={}", encode_skiptoken(end)));
        out["nextLink"] = json!(format!("{}?{}", req.url(sim), q.join("&")));
    }
    out
}

fn encode_skiptoken(offset: usize) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{{\"offset\":{offset}}}"))
}

fn decode_skiptoken(token: &str) -> Option<usize> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.trim_end_matches('='))
        .ok()?;
    let v: Json = serde_json::from_slice(&bytes).ok()?;
    v.get("offset")?.as_u64().map(|n| n as usize)
}

/// Percent-encodes a query component.
pub(crate) fn encode_query(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn list_groups(sim: &Sim, req: &ArmRequest, sub: &str) -> Response {
    let clauses = match req.query("$filter").map(parse_filter).transpose() {
        Ok(c) => c.unwrap_or_default(),
        Err(r) => return *r,
    };
    let tag_clause = |c: &Clause| matches!(c, Clause::Compare { field, negate: false, .. } if field == "tagname" || field == "tagvalue");
    if !clauses.iter().all(tag_clause) {
        return arm_error(
            StatusCode::BAD_REQUEST,
            "InvalidFilterInQueryString",
            format!(
                "The filter '{}' is not valid. Resource groups can be filtered by tagName and tagValue only.",
                req.query("$filter").unwrap_or_default()
            ),
        );
    }
    let st = sim.lock_state();
    let prefix = format!("/subscriptions/{}/", sub.to_ascii_lowercase());
    let mut items = Vec::new();
    for (k, g) in &st.groups.groups {
        if !k.starts_with(&prefix) {
            continue;
        }
        let f = Fields {
            name: &g.name,
            resource_type: "Microsoft.Resources/resourceGroups",
            location: &g.location,
            resource_group: &g.name,
            tags: &g.tags,
        };
        if matches(&clauses, &f).unwrap_or(false) {
            items.push(group_json(g));
        }
    }
    drop(st);
    json_response(StatusCode::OK, page(sim, req, items, 1000))
}

/// True for a resource ARM lists in `/resources`: a tracked top-level resource
/// (`.../providers/{ns}/{type}/{name}`), not a child or extension resource.
fn listed(r: &Resource) -> bool {
    let lower = r.id.to_ascii_lowercase();
    let Some((_, after)) = lower.split_once("/providers/") else {
        return false;
    };
    !after.contains("/providers/") && after.split('/').count() == 3
}

/// The generic-resource JSON of list responses (no properties unless expanded).
fn listed_json(r: &Resource, expand: &[String]) -> Json {
    let mut o = serde_json::Map::new();
    o.insert("id".into(), json!(r.id));
    o.insert("name".into(), json!(r.name));
    o.insert("type".into(), json!(r.resource_type));
    for k in ["sku", "kind", "managedBy"] {
        if let Some(v) = r.extra.get(k) {
            o.insert(k.into(), v.clone());
        }
    }
    if let Some(l) = &r.location {
        o.insert("location".into(), json!(l));
    }
    if !r.tags.is_empty() {
        o.insert("tags".into(), Json::Object(r.tags.clone()));
    }
    for k in ["identity", "plan", "zones", "extendedLocation"] {
        if let Some(v) = r.extra.get(k) {
            o.insert(k.into(), v.clone());
        }
    }
    if expand.iter().any(|e| e == "createdtime") {
        o.insert("createdTime".into(), json!(timestamp(r.created_time)));
    }
    if expand.iter().any(|e| e == "changedtime") {
        o.insert("changedTime".into(), json!(timestamp(r.changed_time)));
    }
    if expand.iter().any(|e| e == "provisioningstate") {
        let state = r
            .properties
            .get("provisioningState")
            .cloned()
            .unwrap_or_else(|| json!("Succeeded"));
        o.insert("provisioningState".into(), state);
    }
    Json::Object(o)
}

/// The JSON of a generic resource GET: the envelope plus properties.
pub fn resource_json(r: &Resource) -> Json {
    let mut o = serde_json::Map::new();
    o.insert("id".into(), json!(r.id));
    let name = r.id.rsplit('/').next().unwrap_or(&r.name);
    o.insert("name".into(), json!(name));
    o.insert("type".into(), json!(r.resource_type));
    for k in ["sku", "kind", "managedBy"] {
        if let Some(v) = r.extra.get(k) {
            o.insert(k.into(), v.clone());
        }
    }
    if let Some(l) = &r.location {
        o.insert("location".into(), json!(l));
    }
    if !r.tags.is_empty() {
        o.insert("tags".into(), Json::Object(r.tags.clone()));
    }
    for (k, v) in &r.extra {
        if !o.contains_key(k) {
            o.insert(k.clone(), v.clone());
        }
    }
    o.insert("properties".into(), r.properties.clone());
    Json::Object(o)
}

fn list_resources(sim: &Sim, req: &ArmRequest, prefix: &str, group_name: Option<&str>) -> Response {
    let clauses = match req.query("$filter").map(parse_filter).transpose() {
        Ok(c) => c.unwrap_or_default(),
        Err(r) => return *r,
    };
    let expand: Vec<String> = req
        .query("$expand")
        .unwrap_or("")
        .split(',')
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect();
    let st = sim.lock_state();
    if let Some(name) = group_name
        && st.groups.group(prefix.trim_end_matches('/')).is_none()
    {
        return group_not_found(name);
    }
    let mut items = Vec::new();
    for (k, r) in &st.groups.resources {
        if !k.starts_with(prefix) || !listed(r) {
            continue;
        }
        let rg =
            r.id.split('/')
                .nth(4)
                .filter(|_| {
                    r.id.split('/')
                        .nth(3)
                        .is_some_and(|s| s.eq_ignore_ascii_case("resourcegroups"))
                })
                .unwrap_or("");
        let f = Fields {
            name: &r.name,
            resource_type: &r.resource_type,
            location: r.location.as_deref().unwrap_or(""),
            resource_group: rg,
            tags: &r.tags,
        };
        match matches(&clauses, &f) {
            Ok(true) => items.push(listed_json(r, &expand)),
            Ok(false) => {}
            Err(field) => {
                return arm_error(
                    StatusCode::BAD_REQUEST,
                    "InvalidFilterInQueryString",
                    format!(
                        "The filter '{}' is not valid: the property '{field}' cannot be filtered on.",
                        req.query("$filter").unwrap_or_default()
                    ),
                );
            }
        }
    }
    drop(st);
    json_response(StatusCode::OK, page(sim, req, items, 1000))
}

fn list_group_resources(sim: &Sim, req: &ArmRequest, sub: &str, rg: &str) -> Response {
    let prefix = format!("{}/", group_id(sub, rg).to_ascii_lowercase());
    list_resources(sim, req, &prefix, Some(rg))
}

fn list_subscription_resources(sim: &Sim, req: &ArmRequest, sub: &str) -> Response {
    let prefix = format!("/subscriptions/{}/", sub.to_ascii_lowercase());
    list_resources(sim, req, &prefix, None)
}

// ---------------------------------------------------------------------------------------------
// Generic resources

/// `GET`/`HEAD`/`DELETE` of any resource ID (and `GET` of a type collection) under a
/// subscription or resource group.
fn generic(sim: &Sim, req: &ArmRequest, sub: &str, rg: Option<&str>) -> Response {
    let id = format!("/{}", req.segments.join("/"));
    let p = req.lower.iter().position(|s| s == "providers").unwrap_or(0);
    let namespace = req.segments.get(p + 1).cloned().unwrap_or_default();
    // After the namespace: type, name, type, name... An odd count ends on a type: a collection.
    let tail: Vec<&str> = req.segments[(p + 2).min(req.segments.len())..]
        .iter()
        .map(String::as_str)
        .collect();
    let types: Vec<&str> = tail.iter().step_by(2).copied().collect();
    let full_type = format!("{namespace}/{}", types.join("/"));
    let collection = tail.len() % 2 == 1;
    match req.method {
        Method::GET | Method::HEAD => {}
        Method::DELETE if !collection => {}
        _ => return method_not_allowed(req),
    }
    let now = sim.now();
    let mut st = sim.lock_state();
    if let Some(rg) = rg
        && st.groups.group_named(sub, rg).is_none()
    {
        return group_not_found(rg);
    }
    if collection {
        let collection_id = id.to_ascii_lowercase();
        let value: Vec<Json> = st
            .groups
            .resources
            .iter()
            .filter(|(k, r)| {
                r.resource_type.eq_ignore_ascii_case(&full_type)
                    && k.rsplit_once('/').is_some_and(|(p, _)| p == collection_id)
            })
            .map(|(_, r)| resource_json(r))
            .collect();
        if value.is_empty()
            && let Some(r) = unknown_type(&namespace, &types, req)
        {
            return r;
        }
        return json_response(StatusCode::OK, json!({ "value": value }));
    }
    if req.method == Method::DELETE {
        let removed = delete_resource(&mut st, &id, now);
        if removed == 0 {
            return StatusCode::NO_CONTENT.into_response();
        }
        sim.persist(&st);
        return StatusCode::OK.into_response();
    }
    match st.groups.resource(&id) {
        Some(_) if req.method == Method::HEAD => StatusCode::NO_CONTENT.into_response(),
        Some(r) => json_response(StatusCode::OK, resource_json(r)),
        None => {
            if let Some(r) = unknown_type(&namespace, &types, req) {
                return r;
            }
            if req.method == Method::HEAD {
                return StatusCode::NOT_FOUND.into_response();
            }
            let names: Vec<&str> = tail.iter().skip(1).step_by(2).copied().collect();
            let mut typed = namespace.clone();
            for (t, n) in types.iter().zip(names.iter()) {
                typed.push('/');
                typed.push_str(t);
                typed.push('/');
                typed.push_str(n);
            }
            resource_not_found(&typed, rg)
        }
    }
}

/// ARM's `404 ResourceNotFound` for a resource (`Microsoft.Storage/storageAccounts/name`).
pub fn resource_not_found(typed_name: &str, group: Option<&str>) -> Response {
    arm_error(
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
        format!(
            "The Resource '{typed_name}' under resource group '{}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
            group.unwrap_or("<null>")
        ),
    )
}

/// ARM's error for a namespace or type it does not know, if that is the case.
fn unknown_type(namespace: &str, types: &[&str], req: &ArmRequest) -> Option<Response> {
    let Some(p) = providers::provider(namespace) else {
        if providers::is_known_namespace(namespace) {
            return None;
        }
        return Some(arm_error(
            StatusCode::NOT_FOUND,
            "InvalidResourceNamespace",
            format!("The resource namespace '{namespace}' is invalid."),
        ));
    };
    let path = types.join("/");
    if p.resource_types.is_empty() || providers::resource_type(namespace, &path).is_some() {
        return None;
    }
    Some(arm_error(
        StatusCode::NOT_FOUND,
        "InvalidResourceType",
        format!(
            "The resource type '{path}' could not be found in the namespace '{}' for api version '{}'.",
            p.namespace,
            req.api_version()
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_path_fixes_keyword_casing_only() {
        assert_eq!(
            canonical_path(
                "/subscriptions/S/resourceGroups/RG/providers/microsoft.resources/Deployments/Validate/operationstatuses/1"
            ),
            "/subscriptions/S/resourcegroups/RG/providers/Microsoft.Resources/deployments/Validate/operationStatuses/1"
        );
        assert_eq!(
            canonical_path("/SUBSCRIPTIONS/s/providers/Microsoft.Resources/deployments/d/whatif"),
            "/subscriptions/s/providers/Microsoft.Resources/deployments/d/whatIf"
        );
    }

    #[test]
    fn filters_parse_tag_pairs_and_functions() {
        let c = parse_filter("tagname eq 'department' and tagValue eq 'it''s'").unwrap();
        assert_eq!(c.len(), 2);
        assert!(parse_filter("substringof('demo', name)").is_ok());
        assert!(parse_filter("tagName eq").is_err());
        assert!(parse_filter("name gt 'x'").is_err());
    }

    #[test]
    fn group_names_follow_arm_rules() {
        assert!(validate_group_name("rg-a_b.(c)").is_ok());
        assert!(validate_group_name("rg.").is_err());
        assert!(validate_group_name("a b").is_err());
        assert!(validate_group_name(&"a".repeat(91)).is_err());
        assert!(validate_group_name(&"a".repeat(90)).is_ok());
    }

    #[test]
    fn percent_decoding_handles_plus_and_bad_escapes() {
        assert_eq!(percent_decode("a%20b+c", true), "a b c");
        assert_eq!(percent_decode("a%2", false), "a%2");
        assert_eq!(percent_decode("%zz", false), "%zz");
    }

    #[test]
    fn skiptokens_round_trip() {
        assert_eq!(decode_skiptoken(&encode_skiptoken(42)), Some(42));
        assert_eq!(decode_skiptoken("garbage!"), None);
    }
}
