//! Deployments and their operations as ARM shows them at a given moment, computed from the
//! stored schedule: `DeploymentExtended`, `DeploymentOperation` and the operation status.
//!
//! Shapes: recordings/java-fluent-sdk/canDeployVirtualNetwork.json (deployment, operations
//! with `DeploymentCleanup` and `EvaluateDeploymentOutput`),
//! samples_testDeployUsingARMTemplateWithDeploymentOperations.json (running and failed
//! operations, `statusMessage`), recordings/azd/*.yaml (outputs, secure parameters).
//!
//! Pure functions of a stored deployment and a moment: nothing is written, nothing fails.

use std::collections::HashMap;

use serde_json::{Map, Value as Json, json};
use time::OffsetDateTime;

use super::schedule::{is_container, operation_error};
use super::text::{fmt_duration, fmt_time, operation_id};
use crate::arm::deployments::{Deployment, Operation};

/// `Accepted`, `Running`, `Succeeded`, `Failed` or `Canceled` at `now`.
pub fn state_at(d: &Deployment, now: OffsetDateTime) -> &'static str {
    if d.canceled_at.is_some_and(|c| now >= c) {
        return "Canceled";
    }
    match d.running_at {
        Some(r) if now >= r => {}
        _ => return "Accepted",
    }
    if d.finish.is_none_or(|f| now < f) {
        "Running"
    } else if d.failed {
        "Failed"
    } else {
        "Succeeded"
    }
}

/// True once the state can no longer change.
pub fn is_terminal(state: &str) -> bool {
    matches!(state, "Succeeded" | "Failed" | "Canceled")
}

/// Whether a client can see the deployment: nested deployments exist once they start.
pub fn visible(d: &Deployment, now: OffsetDateTime) -> bool {
    d.root.is_none() || d.running_at.is_some_and(|s| s <= now)
}

/// The deployment each nested deployment belongs to, by lower-cased ID.
fn parents(ops: &[Operation]) -> HashMap<String, &str> {
    ops.iter()
        .filter(|o| is_container(o))
        .map(|o| (o.resource_id.to_ascii_lowercase(), o.owner.as_str()))
        .collect()
}

/// True when operation `op` belongs to deployment `key`, directly or through nested
/// deployments.
fn in_subtree(parents: &HashMap<String, &str>, op: &Operation, key: &str) -> bool {
    let mut owner = op.owner.as_str();
    for _ in 0..64 {
        if owner == key {
            return true;
        }
        match parents.get(owner) {
            Some(p) => owner = p,
            None => return false,
        }
    }
    false
}

/// The last moment something happened to the deployment, up to `now`.
fn last_event(d: &Deployment, ops: &[Operation], now: OffsetDateTime) -> OffsetDateTime {
    let key = d.id.to_ascii_lowercase();
    let mut events = vec![
        Some(d.submitted),
        d.running_at,
        d.cleanup_start,
        d.cleanup_end,
    ];
    for o in ops.iter().filter(|o| o.owner == key) {
        events.push(o.start);
        events.push(o.end);
    }
    events
        .into_iter()
        .flatten()
        .filter(|t| *t <= now)
        .max()
        .unwrap_or(d.submitted)
}

/// The deployment's `DeploymentExtended` body at `now`. `root` is the top-level deployment
/// that holds the schedule (the deployment itself when it is top-level).
pub fn deployment_json(d: &Deployment, root: &Deployment, now: OffsetDateTime) -> Json {
    let ops = &root.operations;
    let key = d.id.to_ascii_lowercase();
    let state = state_at(d, now);
    let timestamp = match state {
        "Canceled" => d.canceled_at.unwrap_or(now),
        "Succeeded" | "Failed" => d.finish.unwrap_or(now),
        _ => last_event(d, ops, now),
    };
    let mut p = Map::new();
    p.insert("templateHash".into(), d.template_hash.clone().into());
    p.insert("parameters".into(), d.parameters.clone());
    p.insert("mode".into(), d.mode.clone().into());
    p.insert("provisioningState".into(), state.into());
    p.insert("timestamp".into(), fmt_time(timestamp).into());
    p.insert(
        "duration".into(),
        fmt_duration(timestamp - d.submitted).into(),
    );
    p.insert("correlationId".into(), d.correlation_id.clone().into());
    p.insert("providers".into(), d.providers.clone());
    p.insert("dependencies".into(), d.dependencies.clone());
    // Recorded failed and cancelled deployments list no outputs or output resources; a
    // succeeded one always lists its output resources (`[]` when none), and its outputs when
    // it has some or when it deployed nothing (azd's empty "down" template shows `{}`).
    if state == "Succeeded" {
        let parents = parents(ops);
        let created: Vec<Json> = ops
            .iter()
            .filter(|o| {
                !is_container(o)
                    && !o.failed
                    && o.end.is_some_and(|e| e <= now)
                    && in_subtree(&parents, o, &key)
            })
            .map(|o| json!({"id": o.resource_id}))
            .collect();
        let outputs = d
            .outputs
            .as_ref()
            .and_then(Json::as_object)
            .cloned()
            .unwrap_or_default();
        if !outputs.is_empty() || created.is_empty() {
            p.insert("outputs".into(), Json::Object(outputs));
        }
        p.insert("outputResources".into(), created.into());
    }
    if state == "Failed"
        && let Some(e) = &d.error
    {
        p.insert("error".into(), e.clone());
    }
    envelope(&d.id, &d.name, d.location.as_deref(), d.tags.as_ref(), p)
}

/// A deployment as ARM shows it: `{id, name, type, location?, tags?, properties}`.
pub fn envelope(
    id: &str,
    name: &str,
    location: Option<&str>,
    tags: Option<&Map<String, Json>>,
    props: Map<String, Json>,
) -> Json {
    let mut o = Map::new();
    o.insert("id".into(), id.into());
    o.insert("name".into(), name.into());
    o.insert("type".into(), "Microsoft.Resources/deployments".into());
    if let Some(l) = location {
        o.insert("location".into(), l.into());
    }
    if let Some(t) = tags {
        o.insert("tags".into(), Json::Object(t.clone()));
    }
    o.insert("properties".into(), Json::Object(props));
    Json::Object(o)
}

/// The body of `GET .../operationStatuses/{id}`.
pub fn status_json(d: &Deployment, now: OffsetDateTime) -> Json {
    let state = state_at(d, now);
    match (&d.error, state) {
        (Some(e), "Failed") => json!({"status": state, "error": e}),
        _ => json!({ "status": state }),
    }
}

/// Operation `i` of the schedule as ARM lists it at `now`; none before it starts.
fn operation_json(
    d: &Deployment,
    ops: &[Operation],
    i: usize,
    now: OffsetDateTime,
) -> Option<Json> {
    let op = &ops[i];
    let start = op.start.filter(|s| *s <= now)?;
    let done = op.end.filter(|e| *e <= now);
    let state = match done {
        None => "Running",
        Some(_) if op.failed => "Failed",
        Some(_) if op.canceled => "Canceled",
        Some(_) => "Succeeded",
    };
    let timestamp = done.unwrap_or(now);
    let status_code = match state {
        "Running" => "Created".to_owned(),
        "Succeeded" => "OK".to_owned(),
        "Failed" => op
            .failure
            .as_ref()
            .map_or_else(|| "Conflict".to_owned(), |f| f.status_code.clone()),
        _ => "Conflict".to_owned(),
    };
    let mut p = Map::new();
    p.insert("provisioningOperation".into(), "Create".into());
    p.insert("provisioningState".into(), state.into());
    p.insert("timestamp".into(), fmt_time(timestamp).into());
    p.insert("duration".into(), fmt_duration(timestamp - start).into());
    p.insert("trackingId".into(), op.tracking_id.clone().into());
    p.insert(
        "serviceRequestId".into(),
        op.service_request_id.clone().into(),
    );
    p.insert("statusCode".into(), status_code.into());
    if state == "Failed" {
        p.insert(
            "statusMessage".into(),
            json!({"status": "Failed", "error": operation_error(ops, i)}),
        );
    }
    p.insert(
        "targetResource".into(),
        json!({
            "id": op.resource_id,
            "resourceType": op.resource_type,
            "resourceName": op.resource_name,
        }),
    );
    Some(json!({
        "id": format!("{}/operations/{}", d.id, op.operation_id),
        "operationId": op.operation_id,
        "properties": p,
    }))
}

/// A step of the deployment itself (`DeploymentCleanup`, `EvaluateDeploymentOutput`).
fn step_json(
    d: &Deployment,
    kind: &str,
    id: String,
    start: OffsetDateTime,
    end: OffsetDateTime,
    now: OffsetDateTime,
) -> Json {
    let done = end <= now;
    let timestamp = if done { end } else { now };
    json!({
        "id": format!("{}/operations/{id}", d.id),
        "operationId": id,
        "properties": {
            "provisioningOperation": kind,
            "provisioningState": if done { "Succeeded" } else { "Running" },
            "timestamp": fmt_time(timestamp),
            "duration": fmt_duration(timestamp - start),
            "trackingId": landfall_template::hash::guid(&[&d.correlation_id, &id, kind]),
            "statusCode": "OK",
        },
    })
}

/// The deployment's operations visible at `now`, newest first, as ARM lists them.
pub fn operations_json(d: &Deployment, root: &Deployment, now: OffsetDateTime) -> Vec<Json> {
    let ops = &root.operations;
    let key = d.id.to_ascii_lowercase();
    let mut mine: Vec<usize> = (0..ops.len())
        .filter(|&i| ops[i].owner == key && ops[i].start.is_some_and(|s| s <= now))
        .collect();
    mine.sort_by(|&a, &b| ops[b].start.cmp(&ops[a].start).then(b.cmp(&a)));
    let mut out = Vec::new();
    if d.root.is_none()
        && let (Some(s), Some(e)) = (d.cleanup_start, d.cleanup_end)
        && s <= now
    {
        let id = operation_id(&[&d.correlation_id, &d.status_id, "DeploymentCleanup"]);
        out.push(step_json(d, "DeploymentCleanup", id, s, e, now));
    }
    out.extend(
        mine.into_iter()
            .filter_map(|i| operation_json(d, ops, i, now)),
    );
    if d.root.is_none()
        && state_at(d, now) == "Succeeded"
        && d.outputs
            .as_ref()
            .and_then(Json::as_object)
            .is_some_and(|o| !o.is_empty())
        && let Some(finish) = d.finish
    {
        let start = d
            .cleanup_end
            .or_else(|| ops.iter().filter_map(|o| o.end).max())
            .unwrap_or(finish)
            .min(finish);
        out.push(step_json(
            d,
            "EvaluateDeploymentOutput",
            d.status_id.clone(),
            start,
            finish,
            now,
        ));
    }
    out
}
