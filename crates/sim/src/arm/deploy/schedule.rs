//! The provisioning schedule: how long each resource type takes, and when every operation of
//! a deployment starts and ends.
//!
//! Nothing runs in the background. When a deployment is submitted each operation gets a
//! duration (per type, divided by the speed factor, with seeded jitter) and possibly a
//! failure; [`compute`] then derives every start and end from the dependencies: an operation
//! starts when everything it depends on has succeeded, never when one of them failed, and a
//! nested deployment runs from its first inner operation to its last. Cancelling recomputes
//! with a cut-off: what had not started by then never starts.
//!
//! The functions here only change the [`Deployment`] and [`Operation`] records they are given;
//! [`crate::arm::deployments::advance`] applies their outcome to the resources as time passes.

use serde_json::{Value as Json, json};
use time::{Duration, OffsetDateTime};

use crate::arm::deployments::{Deployment, Operation};

/// Seconds a deployment stays `Accepted` before its first operation starts.
pub const ACCEPTED_SECS: f64 = 2.0;
/// Seconds between the last operation ending and the deployment's terminal state (output
/// evaluation).
pub const FINISH_SECS: f64 = 1.0;
/// Seconds a complete-mode deployment spends deleting what the template does not contain.
pub const CLEANUP_SECS: f64 = 2.0;
/// Seconds a nested deployment takes after its last inner operation.
pub const NESTED_FINISH_SECS: f64 = 1.0;

/// ARM's message for a deployment with a failed operation (recordings/java-fluent-sdk; the
/// recorded errors carry no `target`).
pub const DEPLOYMENT_FAILED_MESSAGE: &str = "At least one resource deployment operation failed. Please list deployment operations for details. Please see https://aka.ms/DeployOperations for usage details.";

/// How long a resource type takes to provision at speed 1, in seconds.
pub fn base_duration(resource_type: &str) -> f64 {
    let t = resource_type.to_ascii_lowercase();
    match t.as_str() {
        "microsoft.containerservice/managedclusters" => 600.0,
        "microsoft.containerservice/managedclusters/agentpools" => 240.0,
        "microsoft.dbformysql/flexibleservers" | "microsoft.dbforpostgresql/flexibleservers" => {
            480.0
        }
        "microsoft.dbformysql/flexibleservers/databases"
        | "microsoft.dbforpostgresql/flexibleservers/databases" => 60.0,
        "microsoft.dbformysql/flexibleservers/firewallrules"
        | "microsoft.dbformysql/flexibleservers/configurations" => 20.0,
        "microsoft.keyvault/vaults" => 30.0,
        "microsoft.keyvault/vaults/secrets" | "microsoft.keyvault/vaults/accesspolicies" => 5.0,
        "microsoft.storage/storageaccounts" => 25.0,
        "microsoft.containerregistry/registries" => 40.0,
        "microsoft.network/virtualnetworks"
        | "microsoft.network/virtualnetworks/subnets"
        | "microsoft.network/networksecuritygroups"
        | "microsoft.network/publicipaddresses"
        | "microsoft.network/networkinterfaces"
        | "microsoft.network/routetables" => 10.0,
        "microsoft.network/privatednszones"
        | "microsoft.network/privatednszones/virtualnetworklinks" => 30.0,
        "microsoft.network/privateendpoints" => 60.0,
        "microsoft.network/loadbalancers" => 20.0,
        "microsoft.network/applicationgateways" => 300.0,
        "microsoft.operationalinsights/workspaces" => 30.0,
        "microsoft.insights/components" => 15.0,
        "microsoft.authorization/roleassignments" => 5.0,
        "microsoft.managedidentity/userassignedidentities" => 5.0,
        "microsoft.resources/resourcegroups" => 2.0,
        "microsoft.compute/virtualmachines" => 120.0,
        "microsoft.web/serverfarms" => 15.0,
        "microsoft.web/sites" => 40.0,
        _ => {
            // Other types: 5 to 15 seconds, always the same for a type.
            let h = landfall_template::hash::murmur64(t.as_bytes());
            5.0 + (h % 11) as f64
        }
    }
}

/// True for a nested deployment's operation (it has no resource of its own).
pub fn is_container(op: &Operation) -> bool {
    op.resource.is_none()
        && op
            .resource_type
            .eq_ignore_ascii_case("Microsoft.Resources/deployments")
}

/// The longest anything takes (a year): keeps absurd scenario values or speed factors from
/// overflowing the calendar.
const MAX_SECS: f64 = 365.0 * 86_400.0;

/// A duration from seconds: negative, NaN and infinite values become zero or the maximum.
pub fn secs(s: f64) -> Duration {
    if s.is_nan() || s <= 0.0 {
        Duration::ZERO
    } else {
        Duration::seconds_f64(s.min(MAX_SECS))
    }
}

/// Operations in an order where every operation comes after those it depends on.
fn topological(ops: &[Operation]) -> Vec<usize> {
    let n = ops.len();
    let mut indegree = vec![0usize; n];
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, op) in ops.iter().enumerate() {
        for &d in &op.depends_on {
            if d < n && d != i {
                indegree[i] += 1;
                dependents[d].push(i);
            }
        }
    }
    let mut ready: Vec<usize> = (0..n).filter(|&i| indegree[i] == 0).collect();
    let mut out = Vec::with_capacity(n);
    while let Some(i) = ready.pop() {
        out.push(i);
        for &j in &dependents[i] {
            indegree[j] -= 1;
            if indegree[j] == 0 {
                ready.push(j);
            }
        }
    }
    // A cycle cannot come from a plan; anything left over never starts.
    out
}

/// When an operation waiting for `deps` starts: when the last of them ends (`running_at` if
/// none). `Err` when it never starts because one of them failed or never started; `true`
/// there if that was a cancellation's doing (`cut`), not a failure's.
fn ready_after(
    ops: &[Operation],
    deps: &[usize],
    cut: &[bool],
    running_at: OffsetDateTime,
) -> Result<OffsetDateTime, bool> {
    if deps
        .iter()
        .any(|&d| ops[d].start.is_none() || ops[d].failed)
    {
        return Err(deps.iter().any(|&d| cut[d]));
    }
    Ok(deps
        .iter()
        .filter_map(|&d| ops[d].end)
        .max()
        .unwrap_or(running_at))
}

/// Sets every operation's start, end and outcome. `running_at` is when the deployment leaves
/// `Accepted`; nothing starts after `cancel_at`.
pub fn compute(
    ops: &mut [Operation],
    running_at: OffsetDateTime,
    cancel_at: Option<OffsetDateTime>,
) {
    let n = ops.len();
    let order = topological(ops);
    for op in ops.iter_mut() {
        op.start = None;
        op.end = None;
        op.failed = false;
        op.canceled = false;
    }
    // Cut by a cancellation (as opposed to blocked by a failure).
    let mut cut = vec![false; n];
    let keys: Vec<String> = ops
        .iter()
        .map(|o| o.resource_id.to_ascii_lowercase())
        .collect();
    for &i in &order {
        if is_container(&ops[i]) {
            let children: Vec<usize> = (0..n).filter(|&j| ops[j].owner == keys[i]).collect();
            let outside: Vec<usize> = ops[i]
                .depends_on
                .iter()
                .copied()
                .filter(|d| *d < n && !children.contains(d))
                .collect();
            let ready = match ready_after(ops, &outside, &cut, running_at) {
                Ok(t) => t,
                Err(was_cut) => {
                    cut[i] = was_cut;
                    continue;
                }
            };
            if children.is_empty() {
                if cancel_at.is_some_and(|c| ready > c) {
                    cut[i] = true;
                    continue;
                }
                ops[i].start = Some(ready);
                ops[i].end = Some(ready + secs(ops[i].duration_secs));
                continue;
            }
            let started: Vec<usize> = children
                .iter()
                .copied()
                .filter(|&c| ops[c].start.is_some())
                .collect();
            let Some(start) = started.iter().filter_map(|&c| ops[c].start).min() else {
                cut[i] = children.iter().any(|&c| cut[c]);
                continue;
            };
            let last = started
                .iter()
                .filter_map(|&c| ops[c].end)
                .max()
                .unwrap_or(start);
            ops[i].start = Some(start);
            ops[i].end = Some(last + secs(ops[i].duration_secs));
            ops[i].failed = children
                .iter()
                .any(|&c| ops[c].failed || (ops[c].start.is_none() && !cut[c]));
            ops[i].canceled = !ops[i].failed && children.iter().any(|&c| cut[c]);
        } else {
            let deps: Vec<usize> = ops[i]
                .depends_on
                .iter()
                .copied()
                .filter(|d| *d < n)
                .collect();
            let ready = match ready_after(ops, &deps, &cut, running_at) {
                Ok(t) => t,
                Err(was_cut) => {
                    cut[i] = was_cut;
                    continue;
                }
            };
            if cancel_at.is_some_and(|c| ready > c) {
                cut[i] = true;
                continue;
            }
            let took = match &ops[i].failure {
                Some(f) => f.after_secs,
                None => ops[i].duration_secs,
            };
            ops[i].start = Some(ready);
            ops[i].end = Some(ready + secs(took));
            ops[i].failed = ops[i].failure.is_some();
        }
    }
}

/// The error of one failed operation, as the deployment's `error.details` lists it.
fn detail_for(ops: &[Operation], i: usize) -> Json {
    if is_container(&ops[i]) {
        deployment_failed(ops, &ops[i].resource_id.to_ascii_lowercase())
    } else {
        let e = ops[i]
            .failure
            .as_ref()
            .map_or_else(|| json!({}), |f| f.error.clone());
        json!({
            "code": e.get("code").cloned().unwrap_or_else(|| "InternalServerError".into()),
            "message": e.get("message").cloned().unwrap_or_else(|| "".into()),
        })
    }
}

/// The error of a failed deployment (`owner` is its lower-cased ID): `DeploymentFailed` with
/// one detail per failed operation it owns.
pub fn deployment_failed(ops: &[Operation], owner: &str) -> Json {
    json!({
        "code": "DeploymentFailed",
        "message": DEPLOYMENT_FAILED_MESSAGE,
        "details": details_for(ops, owner),
    })
}

/// The details of a deployment's error: one entry per failed operation it owns.
pub fn details_for(ops: &[Operation], owner: &str) -> Vec<Json> {
    (0..ops.len())
        .filter(|&i| ops[i].owner == owner && ops[i].failed)
        .map(|i| detail_for(ops, i))
        .collect()
}

/// The error object of an operation (its `statusMessage.error`).
pub fn operation_error(ops: &[Operation], i: usize) -> Json {
    if is_container(&ops[i]) {
        detail_for(ops, i)
    } else {
        ops[i]
            .failure
            .as_ref()
            .map_or_else(|| json!({}), |f| f.error.clone())
    }
}

/// Derives a top-level deployment's timeline from its operations: when it finishes, whether
/// it failed, its complete-mode cleanup, and its error.
pub fn settle_root(dep: &mut Deployment, speed: f64) {
    let running_at = dep.running_at.unwrap_or(dep.submitted);
    compute(&mut dep.operations, running_at, dep.canceled_at);
    let key = dep.id.to_ascii_lowercase();
    let mut last = dep
        .operations
        .iter()
        .filter_map(|o| o.end)
        .max()
        .unwrap_or(running_at)
        .max(running_at);
    dep.failed = dep.operations.iter().any(|o| o.failed)
        || dep
            .operations
            .iter()
            .any(|o| o.start.is_none() && dep.canceled_at.is_none());
    dep.cleanup_start = None;
    dep.cleanup_end = None;
    if dep.mode.eq_ignore_ascii_case("Complete") && !dep.failed && dep.canceled_at.is_none() {
        let end = last + secs(CLEANUP_SECS / speed);
        dep.cleanup_start = Some(last);
        dep.cleanup_end = Some(end);
        last = end;
    }
    dep.finish = Some(last + secs(FINISH_SECS / speed));
    dep.error = dep.failed.then(|| deployment_failed(&dep.operations, &key));
}

/// Brings a nested deployment's record in line with its operation in the top-level
/// deployment's schedule.
pub fn settle_nested(nested: &mut Deployment, root: &Deployment) {
    let key = nested.id.to_ascii_lowercase();
    let Some(op) = root
        .operations
        .iter()
        .find(|o| is_container(o) && o.resource_id.eq_ignore_ascii_case(&nested.id))
    else {
        return;
    };
    nested.running_at = op.start;
    nested.submitted = op.start.unwrap_or(root.submitted);
    nested.finish = op.end;
    nested.failed = op.failed;
    nested.canceled_at = if op.canceled { root.canceled_at } else { None };
    nested.error = op.failed.then(|| deployment_failed(&root.operations, &key));
}
