//! MySQL flexible server capabilities per region
//! (`GET .../Microsoft.DBforMySQL/locations/{loc}/capabilities`), in the shape of the
//! 2023-12-30 `CapabilitiesByLocationList` example: one entry for `zone: none` and one per
//! availability zone, each with the editions (Burstable, GeneralPurpose, MemoryOptimized),
//! their storage limits, server versions and SKUs, and the HA modes of the region
//! (`ZoneRedundant` only where the region has zones). Name availability lives in
//! [`super::names`].
//!
//! Everything here is computed from the region table ([`super::directory`]); an unknown region
//! is `400 NoRegisteredProviderFound`, as the provider answers.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value as Json, json};

use super::directory::{self, Region};
use super::request::ArmRequest;
use crate::Sim;
use crate::http::json_response;

/// A flexible server SKU: name, vCores, IOPS, memory per vCore (MB).
type Sku = (&'static str, u32, u32, u32);

#[rustfmt::skip]
const BURSTABLE: &[Sku] = &[
    ("Standard_B1s", 1, 400, 1024),
    ("Standard_B1ms", 1, 640, 2048),
    ("Standard_B2s", 2, 1280, 2048),
    ("Standard_B2ms", 2, 1700, 4096),
    ("Standard_B4ms", 4, 2400, 4096),
    ("Standard_B8ms", 8, 3100, 4096),
];

#[rustfmt::skip]
const GENERAL_PURPOSE: &[Sku] = &[
    ("Standard_D2ds_v4", 2, 3200, 4096),
    ("Standard_D4ds_v4", 4, 6400, 4096),
    ("Standard_D8ds_v4", 8, 12800, 4096),
    ("Standard_D16ds_v4", 16, 20000, 4096),
    ("Standard_D32ds_v4", 32, 20000, 4096),
    ("Standard_D48ds_v4", 48, 20000, 4096),
    ("Standard_D64ds_v4", 64, 20000, 4096),
];

#[rustfmt::skip]
const MEMORY_OPTIMIZED: &[Sku] = &[
    ("Standard_E2ds_v4", 2, 3200, 8192),
    ("Standard_E4ds_v4", 4, 6400, 8192),
    ("Standard_E8ds_v4", 8, 12800, 8192),
    ("Standard_E16ds_v4", 16, 20000, 8192),
    ("Standard_E32ds_v4", 32, 20000, 8192),
    ("Standard_E48ds_v4", 48, 20000, 8192),
    ("Standard_E64ds_v4", 64, 20000, 8192),
];

/// The server versions offered.
pub const SERVER_VERSIONS: &[&str] = &["5.7", "8.0.21"];

/// The editions and their SKUs.
pub const EDITIONS: &[(&str, &[Sku])] = &[
    ("Burstable", BURSTABLE),
    ("GeneralPurpose", GENERAL_PURPOSE),
    ("MemoryOptimized", MEMORY_OPTIMIZED),
];

/// Storage limits in MB (20 GiB to 16 TiB) and backup retention days, as in the spec example.
pub const STORAGE: (u64, u64, u32, u32) = (20480, 16_777_216, 7, 35);

/// The edition a SKU name belongs to (`Standard_D2ds_v4` -> `GeneralPurpose`).
pub fn edition_of(sku: &str) -> Option<&'static str> {
    EDITIONS
        .iter()
        .find(|(_, skus)| skus.iter().any(|s| s.0.eq_ignore_ascii_case(sku)))
        .map(|(e, _)| *e)
}

/// The HA modes offered in a region.
pub fn ha_modes(region: &Region) -> &'static [&'static str] {
    if region.zones {
        &["SameZone", "ZoneRedundant"]
    } else {
        &["SameZone"]
    }
}

/// One edition with its storage limits, server versions and SKUs.
fn edition_json(name: &str, skus: &[Sku]) -> Json {
    let skus: Vec<Json> = skus
        .iter()
        .map(|&(n, vcores, iops, mem)| {
            json!({"name": n, "vCores": vcores, "supportedIops": iops, "supportedMemoryPerVCoreMB": mem})
        })
        .collect();
    json!({
        "name": name,
        "supportedStorageEditions": [{
            "name": "Premium",
            "minStorageSize": STORAGE.0,
            "maxStorageSize": STORAGE.1,
            "minBackupRetentionDays": STORAGE.2,
            "maxBackupRetentionDays": STORAGE.3
        }],
        "supportedServerVersions": SERVER_VERSIONS
            .iter()
            .map(|v| json!({"name": v, "supportedSkus": skus}))
            .collect::<Vec<_>>()
    })
}

/// The capability list of a region.
pub fn capabilities_json(region: &Region) -> Json {
    let zones = std::iter::once("none").chain(region.zone_names().iter().copied());
    let geo: Vec<&str> = if region.paired_region.is_empty() {
        Vec::new()
    } else {
        vec![region.paired_region]
    };
    let value: Vec<Json> = zones
        .map(|zone| {
            json!({
                "zone": zone,
                "supportedHAMode": ha_modes(region),
                "supportedGeoBackupRegions": geo,
                "supportedFlexibleServerEditions": EDITIONS
                    .iter()
                    .map(|(n, s)| edition_json(n, s))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    json!({ "value": value })
}

/// `GET /subscriptions/{sub}/providers/Microsoft.DBforMySQL/locations/{loc}/capabilities`.
pub(crate) fn capabilities(_sim: &Sim, req: &ArmRequest, location: &str) -> Response {
    match directory::region(location).filter(|r| r.is_physical()) {
        Some(r) => json_response(StatusCode::OK, capabilities_json(r)),
        None => directory::no_provider_for_location(
            req,
            location,
            "locations/capabilities",
            "2023-12-30, 2023-06-30, 2022-01-01, 2021-05-01",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zonal_regions_list_each_zone_and_zone_redundant_ha() {
        let r = directory::region("eastus").unwrap();
        let v = capabilities_json(r);
        let zones: Vec<&str> = v["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["zone"].as_str().unwrap())
            .collect();
        assert_eq!(zones, ["none", "1", "2", "3"]);
        assert_eq!(v["value"][0]["supportedHAMode"][1], "ZoneRedundant");
        let w = capabilities_json(directory::region("westus").unwrap());
        assert_eq!(w["value"].as_array().unwrap().len(), 1);
        assert_eq!(w["value"][0]["supportedHAMode"], json!(["SameZone"]));
        assert_eq!(edition_of("standard_d2ds_v4"), Some("GeneralPurpose"));
    }
}
