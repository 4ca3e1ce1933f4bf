//! Tenants, subscriptions and locations (`Microsoft.Resources` at tenant and subscription
//! level), and the region table the other modules use ([`regions`]).
//!
//! Shapes follow `recordings/java-fluent-sdk/canList{Tenants,Subscriptions,Locations}.json`
//! and the 2022-12-01 locations recorded by azd (`type`, `geography`, `availabilityZoneMappings`
//! with Azure's logical-to-physical zone shuffle 1/3/2).
//!
//! The region table is static data other modules query ([`region`], [`physical_regions`],
//! [`normalize_location`]); the tenant and subscription come from the [`crate::Identity`].
//! `check_subscription` runs before every `/subscriptions/{id}/...` request is dispatched and
//! refuses, with ARM's error, what another subscription or tenant asks.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value as Json, json};

use super::request::{ArmRequest, reject};
use crate::http::{arm_error, json_response, set_header};
use crate::{Identity, Sim};

/// A region as `GET /subscriptions/{id}/locations` describes it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Region {
    /// Programmatic name (`eastus`).
    pub name: &'static str,
    /// Display name (`East US`).
    pub display_name: &'static str,
    /// Display name with its geography group (`(US) East US`).
    pub regional_display_name: &'static str,
    /// `Physical` or `Logical`.
    pub region_type: &'static str,
    /// `Recommended` or `Other`.
    pub category: &'static str,
    /// Geography (`United States`).
    pub geography: &'static str,
    /// Geography group (`US`).
    pub geography_group: &'static str,
    /// Latitude, as Azure writes it (a string).
    pub latitude: &'static str,
    /// Longitude, as Azure writes it.
    pub longitude: &'static str,
    /// Where it is (`Virginia`).
    pub physical_location: &'static str,
    /// Its paired region's name, empty if none.
    pub paired_region: &'static str,
    /// Whether it has availability zones 1, 2 and 3.
    pub zones: bool,
}

impl Region {
    /// True for regions resources can be created in (`regionType` `Physical`).
    pub fn is_physical(&self) -> bool {
        self.region_type == "Physical"
    }

    /// The zones offered (`["1","2","3"]`, or none).
    pub fn zone_names(&self) -> &'static [&'static str] {
        if self.zones { &["1", "2", "3"] } else { &[] }
    }
}

/// A physical region of the table.
#[allow(clippy::too_many_arguments)] // A table row: every field is positional on purpose.
const fn row(
    name: &'static str,
    display_name: &'static str,
    regional_display_name: &'static str,
    category: &'static str,
    geography: &'static str,
    geography_group: &'static str,
    latitude: &'static str,
    longitude: &'static str,
    physical_location: &'static str,
    paired_region: &'static str,
    zones: bool,
) -> Region {
    Region {
        name,
        display_name,
        regional_display_name,
        region_type: "Physical",
        category,
        geography,
        geography_group,
        latitude,
        longitude,
        physical_location,
        paired_region,
        zones,
    }
}

/// Values from the 2026 azd recording of `GET /subscriptions/{id}/locations?api-version=2022-12-01`.
#[rustfmt::skip]
static REGIONS: &[Region] = &[
    row("eastus", "East US", "(US) East US", "Recommended", "United States", "US", "37.3719", "-79.8164", "Virginia", "westus", true),
    row("westus2", "West US 2", "(US) West US 2", "Recommended", "United States", "US", "47.233", "-119.852", "Washington", "westcentralus", true),
    row("australiaeast", "Australia East", "(Asia Pacific) Australia East", "Recommended", "Australia", "Asia Pacific", "-33.86", "151.2094", "New South Wales", "australiasoutheast", true),
    row("southeastasia", "Southeast Asia", "(Asia Pacific) Southeast Asia", "Recommended", "Asia Pacific", "Asia Pacific", "1.283", "103.833", "Singapore", "eastasia", true),
    row("northeurope", "North Europe", "(Europe) North Europe", "Recommended", "Europe", "Europe", "53.3478", "-6.2597", "Ireland", "westeurope", true),
    row("swedencentral", "Sweden Central", "(Europe) Sweden Central", "Recommended", "Sweden", "Europe", "60.67488", "17.14127", "G\u{e4}vle", "swedensouth", true),
    row("westeurope", "West Europe", "(Europe) West Europe", "Recommended", "Europe", "Europe", "52.3667", "4.9", "Netherlands", "northeurope", true),
    row("uksouth", "UK South", "(UK) UK South", "Recommended", "United Kingdom", "UK", "50.941", "-0.799", "London", "ukwest", true),
    row("centralus", "Central US", "(US) Central US", "Recommended", "United States", "US", "41.5908", "-93.6208", "Iowa", "eastus2", true),
    row("eastasia", "East Asia", "(Asia Pacific) East Asia", "Recommended", "Asia Pacific", "Asia Pacific", "22.267", "114.188", "Hong Kong", "southeastasia", true),
    row("japaneast", "Japan East", "(Asia Pacific) Japan East", "Recommended", "Japan", "Asia Pacific", "35.68", "139.77", "Tokyo, Saitama", "japanwest", true),
    row("japanwest", "Japan West", "(Asia Pacific) Japan West", "Recommended", "Japan", "Asia Pacific", "34.6939", "135.5022", "Osaka", "japaneast", true),
    row("eastus2", "East US 2", "(US) East US 2", "Other", "United States", "US", "36.6681", "-78.3889", "Virginia", "centralus", true),
    row("southcentralus", "South Central US", "(US) South Central US", "Other", "United States", "US", "29.4167", "-98.5", "Texas", "northcentralus", true),
    row("westus3", "West US 3", "(US) West US 3", "Other", "United States", "US", "33.448376", "-112.074036", "Phoenix", "eastus", true),
    row("northcentralus", "North Central US", "(US) North Central US", "Other", "United States", "US", "41.8819", "-87.6278", "Illinois", "southcentralus", false),
    row("westus", "West US", "(US) West US", "Other", "United States", "US", "37.783", "-122.417", "California", "eastus", false),
    row("westcentralus", "West Central US", "(US) West Central US", "Other", "United States", "US", "40.89", "-110.234", "Wyoming", "westus2", false),
    row("australiasoutheast", "Australia Southeast", "(Asia Pacific) Australia Southeast", "Other", "Australia", "Asia Pacific", "-37.8136", "144.9631", "Victoria", "australiaeast", false),
    row("ukwest", "UK West", "(UK) UK West", "Other", "United Kingdom", "UK", "53.427", "-3.084", "Cardiff", "uksouth", false),
    // Azure lists staging regions too (regionType Logical); clients must skip them.
    Region {
        name: "eastusstage",
        display_name: "East US (Stage)",
        regional_display_name: "(US) East US (Stage)",
        region_type: "Logical",
        category: "Other",
        geography: "usa",
        geography_group: "US",
        latitude: "",
        longitude: "",
        physical_location: "",
        paired_region: "",
        zones: false,
    },
];

/// Every region the simulated cloud lists, physical and logical.
pub fn regions() -> &'static [Region] {
    REGIONS
}

/// The regions resources can be created in.
pub fn physical_regions() -> impl Iterator<Item = &'static Region> {
    REGIONS.iter().filter(|r| r.is_physical())
}

/// `East US`, `eastus`, `EastUS` -> `eastus`: how ARM compares locations.
pub fn normalize_location(location: &str) -> String {
    location
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase()
}

/// The region a location names (programmatic or display name, any case).
pub fn region(location: &str) -> Option<&'static Region> {
    let n = normalize_location(location);
    REGIONS
        .iter()
        .find(|r| r.name == n || normalize_location(r.display_name) == n)
}

/// The guest tenant's display name and domain (the identity only carries its ID).
const GUEST_TENANT: (&str, &str) = ("Fabrikam Partners", "fabrikam.example");

/// The home tenant's default domain: the user's UPN domain.
fn home_domain(id: &Identity) -> String {
    id.user_upn
        .split_once('@')
        .map_or_else(|| "contoso.example".to_owned(), |(_, d)| d.to_owned())
}

/// The `{name}.onmicrosoft.com` domain every tenant has.
fn onmicrosoft(display: &str) -> String {
    let slug: String = display
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    format!("{slug}.onmicrosoft.com")
}

/// A tenant as `GET /tenants` lists it.
fn tenant_json(tenant_id: &str, category: &str, name: &str, domain: &str) -> Json {
    json!({
        "id": format!("/tenants/{tenant_id}"),
        "tenantId": tenant_id,
        "countryCode": "US",
        "displayName": name,
        "domains": [domain, onmicrosoft(name)],
        "tenantCategory": category,
        "defaultDomain": domain,
        "tenantType": "AAD",
    })
}

/// `GET /tenants`: the home tenant, and for the interactive user the guest tenant too.
pub(crate) fn list_tenants(sim: &Sim, req: &ArmRequest) -> Response {
    let caller = match req.caller() {
        Ok(c) => c.clone(),
        Err(r) => return *r,
    };
    let st = sim.lock_state();
    let id = &st.identity;
    let mut value = vec![tenant_json(
        &id.tenant_id,
        "Home",
        &id.tenant_name,
        &home_domain(id),
    )];
    if caller.object_id.eq_ignore_ascii_case(&id.user_object_id) && !id.guest_tenant_id.is_empty() {
        value.push(tenant_json(
            &id.guest_tenant_id,
            "ProjectedBy",
            GUEST_TENANT.0,
            GUEST_TENANT.1,
        ));
    }
    json_response(StatusCode::OK, json!({ "value": value }))
}

/// The subscription as ARM returns it.
fn subscription_json(id: &Identity) -> Json {
    json!({
        "id": format!("/subscriptions/{}", id.subscription_id),
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "subscriptionId": id.subscription_id,
        "tenantId": id.tenant_id,
        "displayName": id.subscription_name,
        "state": "Enabled",
        "subscriptionPolicies": {
            "locationPlacementId": "Public_2014-09-01",
            "quotaId": "PayAsYouGo_2014-09-01",
            "spendingLimit": "Off"
        }
    })
}

/// `GET /subscriptions`: the subscription, for tokens of its tenant.
pub(crate) fn list_subscriptions(sim: &Sim, req: &ArmRequest) -> Response {
    let caller = match req.caller() {
        Ok(c) => c.clone(),
        Err(r) => return *r,
    };
    let st = sim.lock_state();
    let value: Vec<Json> = if caller
        .tenant_id
        .eq_ignore_ascii_case(&st.identity.tenant_id)
    {
        vec![subscription_json(&st.identity)]
    } else {
        Vec::new()
    };
    let count = value.len();
    json_response(
        StatusCode::OK,
        json!({ "value": value, "count": {"type": "Total", "value": count} }),
    )
}

/// `GET /subscriptions/{id}`.
pub(crate) fn get_subscription(sim: &Sim, _req: &ArmRequest, _sub: &str) -> Response {
    let st = sim.lock_state();
    json_response(StatusCode::OK, subscription_json(&st.identity))
}

/// True for a GUID in its 36-character form (`8-4-4-4-12` hex digits).
pub(crate) fn is_guid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Checks the subscription of a `/subscriptions/{id}/...` request: malformed -> `400
/// InvalidSubscriptionId`, unknown -> `404 SubscriptionNotFound`, token from another tenant ->
/// `401 InvalidAuthenticationTokenTenant`.
pub(crate) fn check_subscription(
    sim: &Sim,
    req: &ArmRequest,
    sub: &str,
) -> Result<(), Box<Response>> {
    if !is_guid(sub) {
        return reject(arm_error(
            StatusCode::BAD_REQUEST,
            "InvalidSubscriptionId",
            format!("The provided subscription identifier '{sub}' is malformed or invalid."),
        ));
    }
    let caller = req.caller()?;
    let st = sim.lock_state();
    let id = &st.identity;
    if !sub.eq_ignore_ascii_case(&id.subscription_id) {
        return reject(arm_error(
            StatusCode::NOT_FOUND,
            "SubscriptionNotFound",
            format!("The subscription '{sub}' could not be found."),
        ));
    }
    if !caller.tenant_id.eq_ignore_ascii_case(&id.tenant_id) {
        let mut r = arm_error(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationTokenTenant",
            format!(
                "The access token is from the wrong issuer 'https://sts.windows.net/{}/'. It must match the tenant 'https://sts.windows.net/{}/' associated with this subscription. Please use the authority (URL) '{}/{}' to get the token. Note, if the subscription is transferred to another tenant there is no impact to the services, but information about new tenant could take time to propagate (up to an hour). If you just transferred your subscription and see this error message, please try back later.",
                caller.tenant_id, id.tenant_id, sim.base_url, id.tenant_id
            ),
        );
        set_header(
            r.headers_mut(),
            "www-authenticate",
            &format!(
                "Bearer authorization_uri=\"{}/{}\", error=\"invalid_token\", error_description=\"The access token is from the wrong issuer.\"",
                sim.base_url, id.tenant_id
            ),
        );
        return reject(r);
    }
    Ok(())
}

/// ARM's `400 NoRegisteredProviderFound` for a location-scoped type (`locations/usages`...) asked
/// about a location that is not a physical region; `api_versions` are the type's, as ARM lists
/// them.
pub(crate) fn no_provider_for_location(
    req: &ArmRequest,
    location: &str,
    type_name: &str,
    api_versions: &str,
) -> Response {
    let locations: Vec<&str> = physical_regions().map(|r| r.display_name).collect();
    arm_error(
        StatusCode::BAD_REQUEST,
        "NoRegisteredProviderFound",
        format!(
            "No registered resource provider found for location '{location}' and API version '{}' for type '{type_name}'. The supported api-versions are '{api_versions}'. The supported locations are '{}'.",
            req.api_version(),
            locations.join(", ")
        ),
    )
}

/// A region as `GET /subscriptions/{id}/locations` lists it.
fn location_json(sub: &str, r: &Region) -> Json {
    let mut metadata = serde_json::Map::new();
    metadata.insert("regionType".into(), json!(r.region_type));
    metadata.insert("regionCategory".into(), json!(r.category));
    metadata.insert("geography".into(), json!(r.geography));
    metadata.insert("geographyGroup".into(), json!(r.geography_group));
    if r.is_physical() {
        metadata.insert("longitude".into(), json!(r.longitude));
        metadata.insert("latitude".into(), json!(r.latitude));
        metadata.insert("physicalLocation".into(), json!(r.physical_location));
        if !r.paired_region.is_empty() {
            metadata.insert(
                "pairedRegion".into(),
                json!([{
                    "name": r.paired_region,
                    "id": format!("/subscriptions/{sub}/locations/{}", r.paired_region)
                }]),
            );
        }
    }
    let mut o = serde_json::Map::new();
    o.insert(
        "id".into(),
        json!(format!("/subscriptions/{sub}/locations/{}", r.name)),
    );
    o.insert("name".into(), json!(r.name));
    o.insert("type".into(), json!("Region"));
    o.insert("displayName".into(), json!(r.display_name));
    o.insert("regionalDisplayName".into(), json!(r.regional_display_name));
    o.insert("metadata".into(), Json::Object(metadata));
    if r.zones {
        // Azure's mapping for these regions: logical 1 -> az1, 2 -> az3, 3 -> az2.
        o.insert(
            "availabilityZoneMappings".into(),
            json!([
                {"logicalZone": "1", "physicalZone": format!("{}-az1", r.name)},
                {"logicalZone": "2", "physicalZone": format!("{}-az3", r.name)},
                {"logicalZone": "3", "physicalZone": format!("{}-az2", r.name)},
            ]),
        );
    }
    Json::Object(o)
}

/// `GET /subscriptions/{id}/locations`.
pub(crate) fn list_locations(sim: &Sim, _req: &ArmRequest, _sub: &str) -> Response {
    let sub = sim.lock_state().identity.subscription_id.clone();
    let value: Vec<Json> = REGIONS.iter().map(|r| location_json(&sub, r)).collect();
    json_response(StatusCode::OK, json!({ "value": value }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_resolve_by_name_or_display_name() {
        assert_eq!(region("East US 2").map(|r| r.name), Some("eastus2"));
        assert_eq!(region("EASTUS").map(|r| r.name), Some("eastus"));
        assert!(region("atlantis").is_none());
        assert!(physical_regions().all(|r| r.region_type == "Physical"));
    }

    #[test]
    fn paired_regions_exist_in_the_table_where_azure_lists_them() {
        for r in physical_regions() {
            if r.paired_region != "swedensouth" {
                assert!(region(r.paired_region).is_some(), "{}", r.paired_region);
            }
        }
    }

    #[test]
    fn subscription_ids_must_be_guids() {
        assert!(is_guid("5ca082f3-0000-4000-8000-00000000c003"));
        assert!(!is_guid("not-a-guid"));
    }
}
