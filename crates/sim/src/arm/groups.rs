//! Resource groups (create, get, update, list with tag filters, async delete) and the generic
//! resources inside them (get, HEAD, delete, list by group, by subscription and by type, with
//! ARM's OData `$filter` subset and `$expand`).
//!
//! [`GroupsState`] is where every resource of the simulated cloud lives: deployments put the
//! resources they create here ([`GroupsState::put_resource`]), and [`delete_resource`] removes
//! them the way Azure does (Key Vaults are soft-deleted, role assignments on them go too).
//! Deleting a group is asynchronous: the group turns `Deleting` and an operation in
//! [`super::operations`] completes it; [`advance`] removes what is due.
//!
//! Requests reach the handlers here through the ARM dispatcher ([`super`]); a refusal is an
//! ARM error response returned as it is.

use std::collections::BTreeMap;

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};
use time::OffsetDateTime;

use super::request::{ArmRequest, invalid_content, method_not_allowed, page, reject};
use super::{directory, keyvault, operations, providers};
use crate::Sim;
use crate::http::{accepted_with_location, arm_error, json_response, rfc3339};
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
// Resource groups

/// `404 ResourceGroupNotFound`.
pub(crate) fn group_not_found(name: &str) -> Response {
    arm_error(
        StatusCode::NOT_FOUND,
        "ResourceGroupNotFound",
        format!("Resource group '{name}' could not be found."),
    )
}

/// `409 ResourceGroupBeingDeleted`: a group cannot change while its delete runs.
fn group_being_deleted(name: &str) -> Response {
    arm_error(
        StatusCode::CONFLICT,
        "ResourceGroupBeingDeleted",
        format!(
            "The resource group '{name}' is in deprovisioning state and cannot perform this operation."
        ),
    )
}

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

/// `GET`/`HEAD`/`PUT`/`PATCH`/`DELETE /subscriptions/{sub}/resourcegroups/{name}`.
pub(super) fn group(sim: &Sim, req: &ArmRequest, sub: &str, name: &str) -> Response {
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

/// The `tags` of a body (`None` when absent), values as strings as ARM stores them.
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

/// `PUT`: creates (`201`) or updates (`200`) a group; its location cannot change.
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
        Some(g) if g.provisioning_state == "Deleting" => return group_being_deleted(&g.name),
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

/// `PATCH`: updates tags and `managedBy`.
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
        return group_being_deleted(&g.name);
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

/// `DELETE`: `202` and an operation to poll; the group and what is in it go when it
/// completes ([`advance`]).
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

/// The clauses of the request's `$filter` (none without one), or ARM's 400.
pub(crate) fn filter_clauses(req: &ArmRequest) -> Result<Vec<Clause>, Box<Response>> {
    Ok(req
        .query("$filter")
        .map(parse_filter)
        .transpose()?
        .unwrap_or_default())
}

/// ARM's `400 InvalidFilterInQueryString`; `why` follows "is not valid" (`.` at least).
fn invalid_filter(filter: &str, why: &str) -> Response {
    arm_error(
        StatusCode::BAD_REQUEST,
        "InvalidFilterInQueryString",
        format!("The filter '{filter}' is not valid{why}"),
    )
}

/// Parses `a eq 'x' and substringof('y', name) and startswith(tagValue, 'z')`.
pub(crate) fn parse_filter(filter: &str) -> Result<Vec<Clause>, Box<Response>> {
    let bad = || invalid_filter(filter, ".");
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

/// Splits a filter into words, quoted strings (`''` escapes a quote) and punctuation;
/// `None` for an unterminated string.
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

/// `GET /subscriptions/{sub}/resourcegroups` (`$filter` on tags, `$top`, paged).
pub(super) fn list_groups(sim: &Sim, req: &ArmRequest, sub: &str) -> Response {
    let clauses = match filter_clauses(req) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let tag_clause = |c: &Clause| matches!(c, Clause::Compare { field, negate: false, .. } if field == "tagname" || field == "tagvalue");
    if !clauses.iter().all(tag_clause) {
        return invalid_filter(
            req.query("$filter").unwrap_or_default(),
            ". Resource groups can be filtered by tagName and tagValue only.",
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

/// What every generic-resource answer starts with: `id`, `name`, `type`, `sku`, `kind`,
/// `managedBy`, `location` and `tags`, in ARM's order.
fn envelope(r: &Resource, name: &str) -> serde_json::Map<String, Json> {
    let mut o = serde_json::Map::new();
    o.insert("id".into(), json!(r.id));
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
    // A tracked resource (one with a location) is listed with its tags, `{}` when it has none.
    if !r.tags.is_empty() || r.location.is_some() {
        o.insert("tags".into(), Json::Object(r.tags.clone()));
    }
    o
}

/// The generic-resource JSON of list responses (no properties unless expanded).
fn listed_json(r: &Resource, expand: &[String]) -> Json {
    let mut o = envelope(r, &r.name);
    for k in ["identity", "plan", "zones", "extendedLocation"] {
        if let Some(v) = r.extra.get(k) {
            o.insert(k.into(), v.clone());
        }
    }
    if expand.iter().any(|e| e == "createdtime") {
        o.insert("createdTime".into(), json!(rfc3339(r.created_time)));
    }
    if expand.iter().any(|e| e == "changedtime") {
        o.insert("changedTime".into(), json!(rfc3339(r.changed_time)));
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
    let name = r.id.rsplit('/').next().unwrap_or(&r.name);
    let mut o = envelope(r, name);
    for (k, v) in &r.extra {
        if !o.contains_key(k) {
            o.insert(k.clone(), v.clone());
        }
    }
    o.insert("properties".into(), r.properties.clone());
    Json::Object(o)
}

/// The tracked resources under `prefix` (a lower-cased scope ID and `/`) that pass the
/// `$filter`, paged; `group_name` makes a missing group a `404`.
fn list_resources(sim: &Sim, req: &ArmRequest, prefix: &str, group_name: Option<&str>) -> Response {
    let clauses = match filter_clauses(req) {
        Ok(c) => c,
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
                return invalid_filter(
                    req.query("$filter").unwrap_or_default(),
                    &format!(": the property '{field}' cannot be filtered on."),
                );
            }
        }
    }
    drop(st);
    json_response(StatusCode::OK, page(sim, req, items, 1000))
}

/// `GET /subscriptions/{sub}/resourcegroups/{rg}/resources`.
pub(super) fn list_group_resources(sim: &Sim, req: &ArmRequest, sub: &str, rg: &str) -> Response {
    let prefix = format!("{}/", group_id(sub, rg).to_ascii_lowercase());
    list_resources(sim, req, &prefix, Some(rg))
}

/// `GET /subscriptions/{sub}/resources`.
pub(super) fn list_subscription_resources(sim: &Sim, req: &ArmRequest, sub: &str) -> Response {
    let prefix = format!("/subscriptions/{}/", sub.to_ascii_lowercase());
    list_resources(sim, req, &prefix, None)
}

// ---------------------------------------------------------------------------------------------
// Generic resources

/// `GET`/`HEAD`/`DELETE` of any resource ID (and `GET` of a type collection) under a
/// subscription or resource group.
pub(super) fn generic(sim: &Sim, req: &ArmRequest, sub: &str, rg: Option<&str>) -> Response {
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
}
