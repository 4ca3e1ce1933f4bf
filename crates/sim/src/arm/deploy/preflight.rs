//! Preflight: what ARM and the resource providers check before a deployment starts, and turn
//! into `400 InvalidTemplateDeployment` on validate and on PUT. The scenario decides what
//! fails: policy denials, regional vCPU quotas, VM sizes not offered.
//!
//! Shapes: the nested `InvalidTemplateDeployment` -> `PreflightValidationCheckFailed` ->
//! details error is specs/examples/deployments-2025-04-01_PostDeploymentValidateOnResourceGroup.json;
//! the quota and size messages are the ones AKS and Compute return (QuotaExceeded with
//! "Preflight validation check for resource(s) for container service ...", "The VM size of
//! AgentPoolProfile:... is not allowed", SkuNotAvailable); the policy shape is ARM's
//! `RequestDisallowedByPolicy` with `PolicyViolation` additional info.
//!
//! Pure functions of the plan and the scenario: they return the error details, and
//! [`super::engine`] wraps them in ARM's envelope.

use std::collections::BTreeMap;

use serde_json::{Value as Json, json};

use landfall_template::hash::guid;
use landfall_template::{Plan, PlannedResource};

use crate::arm::directory::normalize_location;
use crate::faults::Scenario;

/// A VM size's vCPUs and the quota family it counts against (`Standard_D4s_v3` -> 4,
/// `standardDSv3Family`).
pub fn vm_size_info(size: &str) -> Option<(i64, String)> {
    let lower = size.to_ascii_lowercase();
    let body = lower
        .strip_prefix("standard_")
        .or(lower.strip_prefix("basic_"))?;
    let (base, version) = match body.split_once('_') {
        Some((b, v)) => (b, Some(v)),
        None => (body, None),
    };
    let letters: String = base.chars().take_while(char::is_ascii_alphabetic).collect();
    let rest = &base[letters.len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    if letters.is_empty() || digits.is_empty() {
        return None;
    }
    let mut after = &rest[digits.len()..];
    // Constrained sizes (`E32-16s_v3`) count the constrained vCPUs.
    let mut vcpus: i64 = digits.parse().ok()?;
    if let Some(stripped) = after.strip_prefix('-') {
        let c: String = stripped.chars().take_while(char::is_ascii_digit).collect();
        if let Ok(n) = c.parse() {
            vcpus = n;
        }
        after = &stripped[c.len()..];
    }
    let suffix: String = after
        .chars()
        .filter(char::is_ascii_alphabetic)
        .collect::<String>()
        .to_ascii_uppercase();
    let letters = letters.to_ascii_uppercase();
    let family = if letters == "B" && version.is_none() {
        "standardBSFamily".to_owned()
    } else {
        format!(
            "standard{letters}{suffix}{}Family",
            version.map(str::to_ascii_lowercase).unwrap_or_default()
        )
    };
    Some((vcpus, family))
}

/// One node pool or VM: where it runs, its size, how many, in which zones.
struct Compute {
    resource: usize,
    pool: Option<String>,
    size: String,
    count: i64,
    zones: Vec<String>,
    location: String,
}

/// A string property, if it is one.
fn text(v: Option<&landfall_template::Value>) -> Option<String> {
    v.and_then(landfall_template::Value::as_str)
        .map(str::to_owned)
}

/// Availability zones as strings (templates give them as numbers or strings).
fn zones_of(v: Option<&landfall_template::Value>) -> Vec<String> {
    v.and_then(landfall_template::Value::as_array)
        .map(|a| {
            a.iter()
                .map(|z| match z {
                    landfall_template::Value::Int(i) => i.to_string(),
                    other => other.as_str().unwrap_or_default().to_owned(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// An AKS node pool from its profile (an `agentPoolProfiles` entry, or the properties of an
/// `agentPools` child resource: the same fields); none without a `vmSize`.
fn agent_pool(
    resource: usize,
    pool: Option<String>,
    profile: &landfall_template::Value,
    location: String,
) -> Option<Compute> {
    Some(Compute {
        resource,
        pool,
        size: text(profile.get("vmSize"))?,
        count: profile
            .get("count")
            .and_then(landfall_template::Value::as_int)
            .unwrap_or(1),
        zones: zones_of(profile.get("availabilityZones")),
        location,
    })
}

/// The compute a plan asks for: AKS node pools (inline and as child resources) and VMs.
fn compute_of(plan: &Plan) -> Vec<Compute> {
    let mut out = Vec::new();
    for (i, r) in plan.resources.iter().enumerate() {
        let ty = r.resource_type.to_ascii_lowercase();
        let location = r
            .location
            .as_ref()
            .and_then(landfall_template::Value::as_str)
            .map(normalize_location)
            .unwrap_or_default();
        let p = &r.properties;
        match ty.as_str() {
            "microsoft.containerservice/managedclusters" => {
                let profiles = p
                    .get("agentPoolProfiles")
                    .and_then(landfall_template::Value::as_array)
                    .into_iter()
                    .flatten();
                for pool in profiles {
                    let name = text(pool.get("name"));
                    out.extend(agent_pool(i, name, pool, location.clone()));
                }
            }
            "microsoft.containerservice/managedclusters/agentpools" => {
                let name = r.name.rsplit('/').next().map(str::to_owned);
                out.extend(agent_pool(i, name, p, String::new()));
            }
            "microsoft.compute/virtualmachines" => {
                if let Some(size) = text(p.get("hardwareProfile").and_then(|h| h.get("vmSize"))) {
                    out.push(Compute {
                        resource: i,
                        pool: None,
                        size,
                        count: 1,
                        zones: zones_of(r.extra.get("zones")),
                        location,
                    });
                }
            }
            _ => {}
        }
    }
    // Child node pools run where their cluster runs.
    for c in out.iter_mut().filter(|c| c.location.is_empty()) {
        let cluster_id = plan.resources[c.resource]
            .id
            .rsplit_once("/agentPools/")
            .or_else(|| plan.resources[c.resource].id.rsplit_once("/agentpools/"))
            .map(|(parent, _)| parent.to_owned());
        c.location = cluster_id
            .and_then(|id| plan.resource(&id))
            .and_then(|r| r.location.as_ref())
            .and_then(landfall_template::Value::as_str)
            .map(normalize_location)
            .unwrap_or_default();
    }
    out
}

/// True for an AKS cluster or one of its node pools.
fn is_aks(r: &PlannedResource) -> bool {
    r.resource_type
        .to_ascii_lowercase()
        .starts_with("microsoft.containerservice/managedclusters")
}

/// The AKS cluster a cluster or node pool resource belongs to, as AKS names it in errors.
fn cluster_name(r: &PlannedResource) -> String {
    r.name.split('/').next().unwrap_or(&r.name).to_owned()
}

/// The errors preflight finds for a plan; empty when it passes.
pub fn check(plan: &Plan, scenario: &Scenario, subscription_id: &str) -> Vec<Json> {
    let mut errors = name_errors(plan);
    let computes = compute_of(plan);
    // VM sizes not offered.
    for c in &computes {
        let r = &plan.resources[c.resource];
        for restriction in &scenario.unavailable_skus {
            if normalize_location(&restriction.location) != c.location
                || !restriction.sku.eq_ignore_ascii_case(&c.size)
            {
                continue;
            }
            let zonal: Vec<&String> = c
                .zones
                .iter()
                .filter(|z| restriction.zones.contains(z))
                .collect();
            if restriction.zones.is_empty() && is_aks(r) {
                errors.push(json!({
                    "code": "BadRequest",
                    "target": cluster_name(r),
                    "message": format!(
                        "The VM size of AgentPoolProfile:{} is not allowed in your subscription in location '{}'.  For more details, please visit https://aka.ms/aks/quotas-skus-regions",
                        c.pool.clone().unwrap_or_default(),
                        c.location
                    ),
                }));
            } else if restriction.zones.is_empty() || !zonal.is_empty() {
                let zones: Vec<&str> = c.zones.iter().map(String::as_str).collect();
                errors.push(json!({
                    "code": "SkuNotAvailable",
                    "target": r.name,
                    "message": format!(
                        "The requested size for resource '{}' is currently not available in location '{}' zones '{}' for subscription '{subscription_id}'. Please try another size or deploy to a different location or zones. See https://aka.ms/azureskunotavailable for details.",
                        r.id,
                        c.location,
                        zones.join(",")
                    ),
                }));
            }
        }
    }
    // Regional vCPU quotas: per family and in total ("cores").
    let mut need: BTreeMap<(String, String), (i64, usize)> = BTreeMap::new();
    for c in &computes {
        let Some((vcpus, family)) = vm_size_info(&c.size) else {
            continue;
        };
        let cores = vcpus * c.count.max(0);
        for key in [family.to_ascii_lowercase(), "cores".to_owned()] {
            let e = need
                .entry((c.location.clone(), key))
                .or_insert((0, c.resource));
            e.0 += cores;
        }
    }
    for q in &scenario.quotas {
        let key = (normalize_location(&q.location), q.name.to_ascii_lowercase());
        let Some(&(required, resource)) = need.get(&key) else {
            continue;
        };
        if q.current_value + required <= q.limit {
            continue;
        }
        let r = &plan.resources[resource];
        let (quota_name, link) = if key.1 == "cores" {
            (
                "Total Regional Cores".to_owned(),
                "https://docs.microsoft.com/en-us/azure/azure-supportability/regional-quota-requests",
            )
        } else {
            (
                q.name.clone(),
                "https://docs.microsoft.com/en-us/azure/azure-supportability/per-vm-quota-requests",
            )
        };
        let new_limit = q.current_value + required;
        let core = format!(
            "Operation could not be completed as it results in exceeding approved {quota_name} Cores quota. Additional details - Deployment Model: Resource Manager, Location: {}, Current Limit: {}, Current Usage: {}, Additional Required: {required}, (Minimum) New Limit Required: {new_limit}. Submit a request for Quota increase at https://aka.ms/ProdportalCRP/#blade/Microsoft_Azure_Capacity/UsageAndQuota.ReactView/Parameters/%7B%22subscriptionId%22:%22{subscription_id}%22,%22command%22:%22openQuotaApprovalBlade%22,%22quotas%22:[%7B%22location%22:%22{}%22,%22providerId%22:%22Microsoft.Compute%22,%22resourceName%22:%22{}%22,%22quotaRequest%22:%7B%22properties%22:%7B%22limit%22:{new_limit},%22unit%22:%22Count%22,%22name%22:%7B%22value%22:%22{}%22%7D%7D%7D%7D]%7D by specifying parameters listed in the \u{2018}Details\u{2019} section for deployment to succeed. Please read more about quota limits at {link}",
            key.0, q.limit, q.current_value, key.0, q.name, q.name
        );
        if is_aks(r) {
            let rg = super::runtime::resource_group_of(&r.id).unwrap_or_default();
            errors.push(json!({
                "code": "QuotaExceeded",
                "target": cluster_name(r),
                "message": format!(
                    "Preflight validation check for resource(s) for container service {} in resource group {rg} failed. Message: {core}",
                    cluster_name(r)
                ),
            }));
        } else {
            errors.push(json!({
                "code": "OperationNotAllowed",
                "target": r.name,
                "message": core,
            }));
        }
    }
    errors
}

/// Names the providers refuse in preflight, before anything is created: a storage account
/// name of the wrong form (`AccountNameInvalid`, as in the `PostDeploymentValidateOnResourceGroup`
/// example) and a Key Vault name of the wrong form (`VaultNameNotValid`).
fn name_errors(plan: &Plan) -> Vec<Json> {
    let mut errors = Vec::new();
    for r in &plan.resources {
        let (code, message) = if r
            .resource_type
            .eq_ignore_ascii_case("Microsoft.Storage/storageAccounts")
        {
            if crate::arm::names::storage_name_valid(&r.name) {
                continue;
            }
            (
                "AccountNameInvalid",
                crate::arm::names::storage_name_message(&r.name),
            )
        } else if r
            .resource_type
            .eq_ignore_ascii_case(crate::arm::keyvault::VAULT_TYPE)
        {
            if crate::arm::names::keyvault_name_valid(&r.name) {
                continue;
            }
            (
                "VaultNameNotValid",
                crate::arm::names::keyvault_name_message(&r.name),
            )
        } else {
            continue;
        };
        errors.push(json!({"code": code, "target": r.name, "message": message}));
    }
    errors
}

/// The policy violations of a plan: one `RequestDisallowedByPolicy` per denied resource.
pub fn policy_violations(plan: &Plan, scenario: &Scenario, subscription_id: &str) -> Vec<Json> {
    let mut out = Vec::new();
    for r in &plan.resources {
        for d in &scenario.policy_denials {
            if !d.resource_type.eq_ignore_ascii_case(&r.resource_type) {
                continue;
            }
            let policy = if d.policy_name.is_empty() {
                "Deny resource type".to_owned()
            } else {
                d.policy_name.clone()
            };
            let assignment_name = guid(&[subscription_id, &policy, "assignment"]).replace('-', "");
            let assignment_name = &assignment_name[..24.min(assignment_name.len())];
            let definition_name = guid(&[&policy, "definition"]);
            let assignment_id = format!(
                "/subscriptions/{subscription_id}/providers/Microsoft.Authorization/policyAssignments/{assignment_name}"
            );
            let definition_id =
                format!("/providers/Microsoft.Authorization/policyDefinitions/{definition_name}");
            let identifiers = json!([{
                "policyAssignment": {"name": policy, "id": assignment_id},
                "policyDefinition": {"name": policy, "id": definition_id},
            }]);
            out.push(json!({
                "code": "RequestDisallowedByPolicy",
                "target": r.name,
                "message": format!(
                    "Resource '{}' was disallowed by policy. Policy identifiers: '{identifiers}'.",
                    r.name
                ),
                "additionalInfo": [{
                    "type": "PolicyViolation",
                    "info": {
                        "evaluationDetails": {"evaluatedExpressions": [{
                            "result": "True",
                            "expressionKind": "Field",
                            "expression": "type",
                            "path": "type",
                            "expressionValue": r.resource_type,
                            "targetValue": d.resource_type,
                            "operator": "Equals",
                        }]},
                        "policyDefinitionId": definition_id,
                        "policyDefinitionName": definition_name,
                        "policyDefinitionDisplayName": policy,
                        "policyDefinitionEffect": "deny",
                        "policyAssignmentId": assignment_id,
                        "policyAssignmentName": assignment_name,
                        "policyAssignmentDisplayName": policy,
                        "policyAssignmentScope": format!("/subscriptions/{subscription_id}"),
                        "policyAssignmentParameters": {},
                        "policyExemptionIds": [],
                        "policyEnrollmentIds": [],
                    },
                }],
            }));
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // A failing test should stop loudly.
mod tests {
    use super::vm_size_info;

    #[test]
    fn vm_sizes_map_to_quota_families() {
        let f = |s: &str| vm_size_info(s).unwrap();
        assert_eq!(f("Standard_D4s_v3"), (4, "standardDSv3Family".into()));
        assert_eq!(f("Standard_DS2_v2"), (2, "standardDSv2Family".into()));
        assert_eq!(f("Standard_D4ds_v5"), (4, "standardDDSv5Family".into()));
        assert_eq!(f("Standard_B2s"), (2, "standardBSFamily".into()));
        assert_eq!(f("Standard_E32-16s_v3"), (16, "standardESv3Family".into()));
        assert_eq!(f("standard_d8as_v5"), (8, "standardDASv5Family".into()));
        assert_eq!(vm_size_info("large"), None);
    }
}
