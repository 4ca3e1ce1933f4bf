//! What-if: the template's plan compared with what exists, as ARM reports it: one change per
//! resource (`Create`, `Modify`, `NoChange`, `Deploy`, `Delete`, `Ignore`) with `before`,
//! `after` and, for modifications, a `delta` of property changes by dotted path.
//!
//! Shapes: recordings/java-fluent-sdk/canPostDeploymentWhatIfOnResourceGroup.json,
//! recordings/azd/Test_CLI_ProvisionState.yaml, specs/examples/*WhatIf*.
//!
//! Reads the plan and [`crate::arm::groups::GroupsState`] only; the result becomes an async
//! operation's body in [`crate::arm::deployments`].

use std::collections::HashSet;

use serde_json::{Map, Value as Json, json};

use landfall_template::{Plan, PlannedResource};

use super::runtime;
use crate::arm::groups::{GroupsState, Resource};

/// The last segment of a resource name (`VNet1/Subnet1` -> `Subnet1`), as what-if shows it.
fn short_name(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

/// A planned resource as what-if's `after` shows it.
fn after_of(r: &PlannedResource) -> Json {
    let mut o = Map::new();
    o.insert("apiVersion".into(), r.api_version.clone().into());
    o.insert("id".into(), r.id.clone().into());
    if let Some(l) = &r.location {
        o.insert("location".into(), l.to_json());
    }
    o.insert("name".into(), short_name(&r.name).into());
    for (k, v) in &r.extra {
        o.insert(k.clone(), v.to_json());
    }
    if !r.properties.is_null() {
        o.insert("properties".into(), r.properties.to_json());
    }
    // What-if shows the provider's defaults in `after`, as the resource will have them.
    if let Some(Json::Object(mut props)) = o.remove("properties") {
        runtime::apply_defaults(&r.resource_type.to_ascii_lowercase(), &mut o, &mut props);
        o.insert("properties".into(), Json::Object(props));
    } else {
        runtime::apply_defaults(
            &r.resource_type.to_ascii_lowercase(),
            &mut o,
            &mut Map::new(),
        );
    }
    o.insert("type".into(), r.resource_type.clone().into());
    Json::Object(o)
}

/// An existing resource as what-if's `before` shows it: what a template sets, without the
/// values the provider computes.
fn before_of(e: &Resource) -> Json {
    let mut o = Map::new();
    o.insert("apiVersion".into(), e.api_version.clone().into());
    o.insert("id".into(), e.id.clone().into());
    if let Some(l) = &e.location {
        o.insert("location".into(), l.clone().into());
    }
    o.insert("name".into(), short_name(&e.name).into());
    if !e.tags.is_empty() {
        o.insert("tags".into(), Json::Object(e.tags.clone()));
    }
    for (k, v) in &e.extra {
        o.insert(k.clone(), v.clone());
    }
    if let Some(identity) = o.get_mut("identity").and_then(Json::as_object_mut) {
        identity.remove("principalId");
        identity.remove("tenantId");
    }
    // Etags are concurrency tokens, not configuration.
    o.remove("etag");
    if let Json::Object(p) = &e.properties {
        let mut p = p.clone();
        for k in runtime::computed_property_names(&e.resource_type) {
            p.remove(*k);
        }
        if let Some(Json::Array(subnets)) = p.get_mut("subnets") {
            for s in subnets.iter_mut().filter_map(Json::as_object_mut) {
                s.remove("etag");
            }
        }
        if !p.is_empty() {
            o.insert("properties".into(), Json::Object(p));
        }
    }
    o.insert("type".into(), e.resource_type.clone().into());
    Json::Object(o)
}

/// A property by name, compared case-insensitively as ARM does.
fn get_ci<'a>(o: &'a Map<String, Json>, key: &str) -> Option<&'a Json> {
    o.get(key).or_else(|| {
        o.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// Property changes from `before` to `after`, leaves by dotted path.
fn diff(before: &Json, after: &Json, path: &str, out: &mut Vec<Json>) {
    let join = |k: &str| {
        if path.is_empty() {
            k.to_owned()
        } else {
            format!("{path}.{k}")
        }
    };
    match (before, after) {
        (Json::Object(b), Json::Object(a)) => {
            for (k, av) in a {
                match get_ci(b, k) {
                    None => out.push(json!({
                        "path": join(k), "propertyChangeType": "Create", "after": av
                    })),
                    Some(bv) => diff(bv, av, &join(k), out),
                }
            }
            for (k, bv) in b {
                if get_ci(a, k).is_none() {
                    out.push(json!({
                        "path": join(k), "propertyChangeType": "Delete", "before": bv
                    }));
                }
            }
        }
        (b, a) if b == a => {}
        (Json::Number(x), Json::Number(y)) if x.as_f64() == y.as_f64() => {}
        (b, a) => out.push(json!({
            "path": path, "propertyChangeType": "Modify", "before": b, "after": a
        })),
    }
}

/// The fields of a resource what-if compares (everything but identity and API version).
fn comparable(v: &Json) -> Json {
    let mut v = v.clone();
    if let Some(o) = v.as_object_mut() {
        for k in ["id", "name", "type", "apiVersion"] {
            o.remove(k);
        }
    }
    v
}

/// True when the plan could not evaluate part of the resource (a `reference()` to something
/// not yet created): what-if then reports it as `Deploy`, not as a precise change.
fn contains_deferred(r: &PlannedResource) -> bool {
    r.properties.contains_deferred()
        || r.extra
            .values()
            .any(landfall_template::Value::contains_deferred)
        || r.location
            .as_ref()
            .is_some_and(landfall_template::Value::contains_deferred)
}

/// The changes a deployment of `plan` would make. `group_id` is the target resource group of
/// a resource-group deployment; `complete` is the deployment mode.
pub fn changes(
    plan: &Plan,
    groups: &GroupsState,
    group_id: Option<&str>,
    complete: bool,
) -> Vec<Json> {
    let mut out = Vec::new();
    let mut planned: HashSet<String> = HashSet::new();
    for r in &plan.resources {
        planned.insert(r.id.to_ascii_lowercase());
        if r.resource_type
            .eq_ignore_ascii_case("Microsoft.Resources/deployments")
        {
            // ARM expands nested deployments into their resources.
            continue;
        }
        let after = after_of(r);
        let before = if r
            .resource_type
            .eq_ignore_ascii_case("Microsoft.Resources/resourceGroups")
        {
            groups.group(&r.id).map(|g| {
                let mut o = Map::new();
                o.insert("apiVersion".into(), r.api_version.clone().into());
                o.insert("id".into(), g.id.clone().into());
                o.insert("location".into(), g.location.clone().into());
                o.insert("name".into(), g.name.clone().into());
                if !g.tags.is_empty() {
                    o.insert("tags".into(), Json::Object(g.tags.clone()));
                }
                o.insert("type".into(), "Microsoft.Resources/resourceGroups".into());
                Json::Object(o)
            })
        } else {
            groups.resource(&r.id).map(before_of)
        };
        let Some(before) = before else {
            out.push(json!({"resourceId": r.id, "changeType": "Create", "after": after}));
            continue;
        };
        if contains_deferred(r) {
            out.push(json!({
                "resourceId": r.id, "changeType": "Deploy", "before": before, "after": after
            }));
            continue;
        }
        let mut delta = Vec::new();
        diff(&comparable(&before), &comparable(&after), "", &mut delta);
        if delta.is_empty() {
            out.push(json!({
                "resourceId": r.id, "changeType": "NoChange", "before": before, "after": after
            }));
        } else {
            out.push(json!({
                "resourceId": r.id, "changeType": "Modify",
                "before": before, "after": after, "delta": delta
            }));
        }
    }
    if let Some(group_id) = group_id {
        let keep = |id: &str| {
            let id = id.to_ascii_lowercase();
            planned
                .iter()
                .any(|p| id == *p || id.starts_with(&format!("{p}/")))
        };
        for e in groups.resources_in(group_id) {
            if keep(&e.id) {
                continue;
            }
            if complete {
                out.push(json!({
                    "resourceId": e.id, "changeType": "Delete", "before": before_of(e)
                }));
            } else {
                out.push(json!({"resourceId": e.id, "changeType": "Ignore"}));
            }
        }
    }
    out
}
