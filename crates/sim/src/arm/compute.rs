//! `Microsoft.Compute`: regional vCPU usages and quotas
//! (`GET .../locations/{loc}/usages`, shape of `compute-2024-03-01_Usage_List_MaximumSet_Gen`)
//! and resource SKUs (`GET .../skus?$filter=location eq 'x'`, shape of the 2021-07-01
//! `ListAvailableResourceSkus` example, restrictions as Azure reports them with reason
//! `NotAvailableForSubscription`).
//!
//! Usage counts come from the simulated cloud: AKS agent pools (`vmSize` x `count`), virtual
//! machines and scale sets in the region, plus the scenario's `quotas` (`currentValue` there is
//! usage from outside the simulator, added on top; `limit` replaces the default).
//!
//! Everything is computed from static tables, the state and the scenario; an unknown region is
//! `400 NoRegisteredProviderFound`, as the provider answers.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value as Json, json};

use super::directory;
use super::groups::{Clause, parse_filter};
use super::request::ArmRequest;
use crate::Sim;
use crate::faults::Scenario;
use crate::http::{arm_error, json_response};
use crate::state::SimState;

/// A VM size as the SKU API describes it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VmSize {
    /// `Standard_D4s_v3`.
    pub name: &'static str,
    /// Quota family (`standardDSv3Family`).
    pub family: &'static str,
    /// vCPUs.
    pub vcpus: u32,
    /// Memory in GB, as Azure writes it.
    pub memory_gb: &'static str,
    /// Premium storage capable.
    pub premium_io: bool,
    /// Azure Compute Units.
    pub acus: u32,
    /// Temporary disk in MB (0: none).
    pub temp_disk_mb: u32,
}

/// A table row of [`VmSize`].
const fn size(
    name: &'static str,
    family: &'static str,
    vcpus: u32,
    memory_gb: &'static str,
    premium_io: bool,
    acus: u32,
    temp_disk_mb: u32,
) -> VmSize {
    VmSize {
        name,
        family,
        vcpus,
        memory_gb,
        premium_io,
        acus,
        temp_disk_mb,
    }
}

#[rustfmt::skip]
static SIZES: &[VmSize] = &[
    size("Standard_B2s", "standardBSFamily", 2, "4", true, 0, 8192),
    size("Standard_B2ms", "standardBSFamily", 2, "8", true, 0, 16384),
    size("Standard_B4ms", "standardBSFamily", 4, "16", true, 0, 32768),
    size("Standard_B8ms", "standardBSFamily", 8, "32", true, 0, 65536),
    size("Standard_D2s_v3", "standardDSv3Family", 2, "8", true, 160, 16384),
    size("Standard_D4s_v3", "standardDSv3Family", 4, "16", true, 160, 32768),
    size("Standard_D8s_v3", "standardDSv3Family", 8, "32", true, 160, 65536),
    size("Standard_D16s_v3", "standardDSv3Family", 16, "64", true, 160, 131072),
    size("Standard_D32s_v3", "standardDSv3Family", 32, "128", true, 160, 262144),
    size("Standard_D2s_v5", "standardDSv5Family", 2, "8", true, 195, 0),
    size("Standard_D4s_v5", "standardDSv5Family", 4, "16", true, 195, 0),
    size("Standard_D8s_v5", "standardDSv5Family", 8, "32", true, 195, 0),
    size("Standard_D16s_v5", "standardDSv5Family", 16, "64", true, 195, 0),
    size("Standard_D32s_v5", "standardDSv5Family", 32, "128", true, 195, 0),
    size("Standard_D2ds_v5", "standardDDSv5Family", 2, "8", true, 195, 76800),
    size("Standard_D4ds_v5", "standardDDSv5Family", 4, "16", true, 195, 153600),
    size("Standard_D8ds_v5", "standardDDSv5Family", 8, "32", true, 195, 307200),
    size("Standard_D2_v5", "standardDv5Family", 2, "8", false, 195, 0),
    size("Standard_D4_v5", "standardDv5Family", 4, "16", false, 195, 0),
    size("Standard_D8_v5", "standardDv5Family", 8, "32", false, 195, 0),
    size("Standard_D16_v5", "standardDv5Family", 16, "64", false, 195, 0),
    size("Standard_E2s_v5", "standardESv5Family", 2, "16", true, 195, 0),
    size("Standard_E4s_v5", "standardESv5Family", 4, "32", true, 195, 0),
    size("Standard_E8s_v5", "standardESv5Family", 8, "64", true, 195, 0),
    size("Standard_E16s_v5", "standardESv5Family", 16, "128", true, 195, 0),
    size("Standard_F2s_v2", "standardFSv2Family", 2, "4", true, 195, 16384),
    size("Standard_F4s_v2", "standardFSv2Family", 4, "8", true, 195, 32768),
    size("Standard_F8s_v2", "standardFSv2Family", 8, "16", true, 195, 65536),
    size("Standard_F16s_v2", "standardFSv2Family", 16, "32", true, 195, 131072),
];

/// Every VM size offered.
pub fn vm_sizes() -> &'static [VmSize] {
    SIZES
}

/// A VM size by name (case-insensitive).
pub fn vm_size(name: &str) -> Option<&'static VmSize> {
    SIZES.iter().find(|s| s.name.eq_ignore_ascii_case(name))
}

/// Usage names, their localized names and default limits in a new pay-as-you-go subscription.
#[rustfmt::skip]
static USAGES: &[(&str, &str, i64)] = &[
    ("availabilitySets", "Availability Sets", 2500),
    ("cores", "Total Regional vCPUs", 100),
    ("virtualMachines", "Virtual Machines", 25000),
    ("virtualMachineScaleSets", "Virtual Machine Scale Sets", 2500),
    ("lowPriorityCores", "Total Regional Low-priority vCPUs", 100),
    ("standardBSFamily", "Standard BS Family vCPUs", 20),
    ("standardDSv3Family", "Standard DSv3 Family vCPUs", 100),
    ("standardDSv5Family", "Standard DSv5 Family vCPUs", 100),
    ("standardDDSv5Family", "Standard DDSv5 Family vCPUs", 50),
    ("standardDv5Family", "Standard Dv5 Family vCPUs", 50),
    ("standardESv5Family", "Standard ESv5 Family vCPUs", 50),
    ("standardFSv2Family", "Standard FSv2 Family vCPUs", 20),
];

/// One usage line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage {
    /// `cores`, `standardDSv3Family`...
    pub name: &'static str,
    /// `Total Regional vCPUs`...
    pub localized_name: &'static str,
    /// Used now.
    pub current_value: i64,
    /// Quota.
    pub limit: i64,
}

/// vCPUs (by family), machines and scale sets the simulated cloud uses in a region.
fn consumption(state: &SimState, location: &str) -> (Vec<(&'static str, i64)>, i64, i64) {
    let loc = directory::normalize_location(location);
    let mut by_family: Vec<(&'static str, i64)> = Vec::new();
    let mut machines = 0i64;
    let mut scale_sets = 0i64;
    let add = |size: &str, count: i64, by_family: &mut Vec<(&'static str, i64)>| {
        if let Some(s) = vm_size(size) {
            let cores = i64::from(s.vcpus).saturating_mul(count.max(0));
            match by_family.iter_mut().find(|(f, _)| *f == s.family) {
                Some((_, n)) => *n = n.saturating_add(cores),
                None => by_family.push((s.family, cores)),
            }
        }
    };
    for r in state.groups.resources.values() {
        let in_region = r
            .location
            .as_deref()
            .is_some_and(|l| directory::normalize_location(l) == loc);
        let t = r.resource_type.to_ascii_lowercase();
        let p = &r.properties;
        match t.as_str() {
            "microsoft.containerservice/managedclusters" if in_region => {
                for pool in p
                    .get("agentPoolProfiles")
                    .and_then(Json::as_array)
                    .into_iter()
                    .flatten()
                {
                    let count = pool.get("count").and_then(Json::as_i64).unwrap_or(1);
                    if let Some(vm) = pool.get("vmSize").and_then(Json::as_str) {
                        add(vm, count, &mut by_family);
                        machines = machines.saturating_add(count.max(0));
                        scale_sets = scale_sets.saturating_add(1);
                    }
                }
            }
            "microsoft.containerservice/managedclusters/agentpools" => {
                // Child pools carry no location; they live in their cluster's region.
                let parent = r.id.to_ascii_lowercase();
                let cluster_in_region = parent
                    .rsplit_once("/agentpools/")
                    .and_then(|(c, _)| state.groups.resource(c))
                    .and_then(|c| c.location.as_deref())
                    .is_some_and(|l| directory::normalize_location(l) == loc);
                if cluster_in_region && let Some(vm) = p.get("vmSize").and_then(Json::as_str) {
                    let count = p.get("count").and_then(Json::as_i64).unwrap_or(1);
                    add(vm, count, &mut by_family);
                    machines = machines.saturating_add(count.max(0));
                    scale_sets = scale_sets.saturating_add(1);
                }
            }
            "microsoft.compute/virtualmachines" if in_region => {
                if let Some(vm) = p.pointer("/hardwareProfile/vmSize").and_then(Json::as_str) {
                    add(vm, 1, &mut by_family);
                    machines = machines.saturating_add(1);
                }
            }
            "microsoft.compute/virtualmachinescalesets" if in_region => {
                let sku = r.extra.get("sku");
                if let Some(vm) = sku.and_then(|s| s.get("name")).and_then(Json::as_str) {
                    let count = sku
                        .and_then(|s| s.get("capacity"))
                        .and_then(Json::as_i64)
                        .unwrap_or(1);
                    add(vm, count, &mut by_family);
                    machines = machines.saturating_add(count.max(0));
                    scale_sets = scale_sets.saturating_add(1);
                }
            }
            _ => {}
        }
    }
    (by_family, machines, scale_sets)
}

/// The usages of a region: defaults, consumption in the simulated cloud, scenario overrides.
pub fn regional_usages(state: &SimState, scenario: &Scenario, location: &str) -> Vec<Usage> {
    let loc = directory::normalize_location(location);
    let (by_family, machines, scale_sets) = consumption(state, location);
    let total = by_family
        .iter()
        .fold(0i64, |acc, (_, n)| acc.saturating_add(*n));
    USAGES
        .iter()
        .map(|&(name, localized_name, default_limit)| {
            let used = match name {
                "cores" => total,
                "virtualMachines" => machines,
                "virtualMachineScaleSets" => scale_sets,
                family => by_family
                    .iter()
                    .find(|(f, _)| *f == family)
                    .map_or(0, |(_, n)| *n),
            };
            let over = scenario.quotas.iter().find(|q| {
                directory::normalize_location(&q.location) == loc
                    && q.name.eq_ignore_ascii_case(name)
            });
            Usage {
                name,
                localized_name,
                current_value: used.saturating_add(over.map_or(0, |q| q.current_value)),
                limit: over.map_or(default_limit, |q| q.limit),
            }
        })
        .collect()
}

/// One usage of a region (`cores`, a family name), case-insensitive.
pub fn usage(state: &SimState, scenario: &Scenario, location: &str, name: &str) -> Option<Usage> {
    regional_usages(state, scenario, location)
        .into_iter()
        .find(|u| u.name.eq_ignore_ascii_case(name))
}

/// The scenario's restriction of a size in a region, if any: `Some(zones)` where an empty list
/// means the whole region.
pub fn restriction(scenario: &Scenario, location: &str, sku: &str) -> Option<Vec<String>> {
    let loc = directory::normalize_location(location);
    let hits: Vec<_> = scenario
        .unavailable_skus
        .iter()
        .filter(|r| {
            directory::normalize_location(&r.location) == loc && r.sku.eq_ignore_ascii_case(sku)
        })
        .collect();
    if hits.is_empty() {
        return None;
    }
    if hits.iter().any(|r| r.zones.is_empty()) {
        return Some(Vec::new());
    }
    let mut zones: Vec<String> = hits.iter().flat_map(|r| r.zones.clone()).collect();
    zones.sort();
    zones.dedup();
    Some(zones)
}

/// True when the size can be deployed in the region (and zone, if given).
pub fn sku_available(scenario: &Scenario, location: &str, sku: &str, zone: Option<&str>) -> bool {
    let in_region = directory::region(location).is_some_and(|r| r.is_physical());
    if !in_region || vm_size(sku).is_none() {
        return false;
    }
    match restriction(scenario, location, sku) {
        None => true,
        Some(zones) if zones.is_empty() => false,
        Some(zones) => zone.is_none_or(|z| !zones.iter().any(|r| r == z)),
    }
}

/// `GET /subscriptions/{sub}/providers/Microsoft.Compute/locations/{loc}/usages`.
pub(crate) fn usages(sim: &Sim, req: &ArmRequest, _sub: &str, location: &str) -> Response {
    if !directory::region(location).is_some_and(|r| r.is_physical()) {
        return directory::no_provider_for_location(
            req,
            location,
            "locations/usages",
            "2024-07-01, 2024-03-01, 2023-09-01, 2023-07-01, 2023-03-01",
        );
    }
    let st = sim.lock_state();
    let value: Vec<Json> = regional_usages(&st, sim.faults.scenario(), location)
        .iter()
        .map(|u| {
            json!({
                "limit": u.limit,
                "unit": "Count",
                "currentValue": u.current_value,
                "name": {"value": u.name, "localizedValue": u.localized_name}
            })
        })
        .collect();
    json_response(StatusCode::OK, json!({ "value": value }))
}

/// The `capabilities` of a VM size's SKU entry (vCPUs, memory, disks...), as Azure lists them.
fn capabilities(s: &VmSize) -> Json {
    let b = |v: bool| if v { "True" } else { "False" };
    let burstable = s.family == "standardBSFamily";
    let mut caps = vec![
        ("MaxResourceVolumeMB", s.temp_disk_mb.to_string()),
        ("OSVhdSizeMB", "1047552".into()),
        ("vCPUs", s.vcpus.to_string()),
        ("MemoryPreservingMaintenanceSupported", "True".into()),
        ("HyperVGenerations", "V1,V2".into()),
        ("MemoryGB", s.memory_gb.into()),
        ("MaxDataDiskCount", (s.vcpus * 2).clamp(4, 64).to_string()),
        ("CpuArchitectureType", "x64".into()),
        ("LowPriorityCapable", b(!burstable).into()),
        ("PremiumIO", b(s.premium_io).into()),
        ("VMDeploymentTypes", "IaaS".into()),
        ("vCPUsAvailable", s.vcpus.to_string()),
    ];
    if s.acus > 0 {
        caps.push(("ACUs", s.acus.to_string()));
    }
    caps.extend([
        ("vCPUsPerCore", if burstable { "1" } else { "2" }.into()),
        ("EphemeralOSDiskSupported", b(s.temp_disk_mb > 0).into()),
        ("EncryptionAtHostSupported", "True".into()),
        ("CapacityReservationSupported", b(!burstable).into()),
        ("AcceleratedNetworkingEnabled", b(!burstable).into()),
        ("RdmaEnabled", "False".into()),
        (
            "MaxNetworkInterfaces",
            (s.vcpus / 2).clamp(2, 8).to_string(),
        ),
    ]);
    Json::Array(
        caps.into_iter()
            .map(|(name, value)| json!({"name": name, "value": value}))
            .collect(),
    )
}

/// One SKU entry: a size in a region, with the scenario's restrictions.
fn sku_json(s: &VmSize, region: &directory::Region, scenario: &Scenario) -> Json {
    let restrictions: Vec<Json> = match restriction(scenario, region.name, s.name) {
        None => Vec::new(),
        Some(zones) if zones.is_empty() => vec![json!({
            "type": "Location",
            "values": [region.name],
            "restrictionInfo": {"locations": [region.name]},
            "reasonCode": "NotAvailableForSubscription"
        })],
        Some(zones) => vec![json!({
            "type": "Zone",
            "values": [region.name],
            "restrictionInfo": {"locations": [region.name], "zones": zones},
            "reasonCode": "NotAvailableForSubscription"
        })],
    };
    json!({
        "resourceType": "virtualMachines",
        "name": s.name,
        "tier": "Standard",
        "size": s.name.trim_start_matches("Standard_"),
        "family": s.family,
        "locations": [region.name],
        "locationInfo": [{
            "location": region.name,
            "zones": region.zone_names(),
            "zoneDetails": []
        }],
        "capabilities": capabilities(s),
        "restrictions": restrictions
    })
}

/// `GET /subscriptions/{sub}/providers/Microsoft.Compute/skus[?$filter=location eq 'x']`: one
/// entry per size and region, as Azure lists them.
pub(crate) fn skus(sim: &Sim, req: &ArmRequest) -> Response {
    let location = match req.query("$filter").map(parse_filter).transpose() {
        Ok(Some(clauses)) => {
            let mut loc = None;
            for c in clauses {
                match c {
                    Clause::Compare {
                        field,
                        value,
                        negate: false,
                    } if field == "location" => loc = Some(value),
                    _ => {
                        return arm_error(
                            StatusCode::BAD_REQUEST,
                            "InvalidFilter",
                            "Only the location filter is supported ($filter=location eq '<location>').",
                        );
                    }
                }
            }
            loc
        }
        Ok(None) => None,
        Err(r) => return *r,
    };
    let scenario = sim.faults.scenario();
    let regions: Vec<&directory::Region> = match &location {
        Some(l) => directory::region(l)
            .filter(|r| r.is_physical())
            .into_iter()
            .collect(),
        None => directory::physical_regions().collect(),
    };
    let value: Vec<Json> = regions
        .iter()
        .flat_map(|r| SIZES.iter().map(move |s| sku_json(s, r, scenario)))
        .collect();
    json_response(StatusCode::OK, json!({ "value": value }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults::{QuotaOverride, SkuRestriction};
    use time::macros::datetime;

    #[test]
    fn quota_overrides_replace_limits_and_add_usage() {
        let s = SimState::new(&crate::Identity::default(), datetime!(2026-01-01 0:00 UTC));
        let sc = Scenario {
            quotas: vec![QuotaOverride {
                location: "East US".into(),
                name: "standardDSv3Family".into(),
                limit: 8,
                current_value: 6,
            }],
            ..Scenario::default()
        };
        let u = usage(&s, &sc, "eastus", "standarddsv3family").unwrap();
        assert_eq!((u.current_value, u.limit), (6, 8));
        assert_eq!(
            usage(&s, &sc, "westus2", "standardDSv3Family")
                .unwrap()
                .limit,
            100
        );
    }

    #[test]
    fn restrictions_cover_regions_or_zones() {
        let sc = Scenario {
            unavailable_skus: vec![
                SkuRestriction {
                    location: "eastus".into(),
                    sku: "Standard_D4s_v3".into(),
                    zones: vec![],
                },
                SkuRestriction {
                    location: "westus2".into(),
                    sku: "Standard_D4s_v3".into(),
                    zones: vec!["2".into()],
                },
            ],
            ..Scenario::default()
        };
        assert!(!sku_available(&sc, "eastus", "Standard_D4s_v3", None));
        assert!(sku_available(&sc, "westus2", "standard_d4s_v3", Some("1")));
        assert!(!sku_available(&sc, "westus2", "Standard_D4s_v3", Some("2")));
        assert!(sku_available(&sc, "centralus", "Standard_D4s_v3", None));
        assert!(!sku_available(&sc, "centralus", "Standard_Z99", None));
    }
}
