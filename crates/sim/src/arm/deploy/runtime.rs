//! What a resource looks like once Azure has created it: the template's values plus what the
//! resource provider computes (`provisioningState`, FQDNs, endpoints, principal IDs, keys).
//!
//! Every computed value is derived from the resource ID, so redeploying the same resource
//! gives the same values, before and after a restart. [`RuntimeResolver`] answers the
//! template functions that read live state (`reference()`, `list*()`) from these values.
//!
//! Used twice: at submission, to put the finished resource into each operation
//! ([`resource_json`]), and when the operation ends, to store it in
//! [`crate::arm::groups::GroupsState`] ([`to_resource`]). Secret values (Key Vault secrets) are
//! left out, as ARM leaves them out.

use std::collections::HashMap;

use base64::Engine;
use serde_json::{Map, Value as Json, json};
use sha2::{Digest, Sha256};

use landfall_template::hash::{guid, murmur64};
use landfall_template::{PlannedResource, Resolver, Value};

use crate::arm::directory::normalize_location;
use crate::arm::groups::{GroupsState, Resource};

/// What a resource's computed values depend on besides the resource itself.
#[derive(Clone, Debug)]
pub struct RuntimeContext {
    /// Tenant of the subscription (identities, Key Vault).
    pub tenant_id: String,
    /// Deployment time, for `creationTime`-style values.
    pub now: String,
}

/// The resource as ARM will return it, from its plan: `{id, name, type, apiVersion, location,
/// tags, sku, kind, identity, ..., properties}` with the computed values filled in.
pub fn resource_json(r: &PlannedResource, ctx: &RuntimeContext) -> Json {
    let location = r.location.as_ref().map(Value::to_json);
    let mut o = envelope(&r.id, &r.name, &r.resource_type, &r.api_version, location);
    for (k, v) in &r.extra {
        if !o.contains_key(k.as_str()) {
            o.insert(k.clone(), v.to_json());
        }
    }
    let props = match r.properties.to_json() {
        Json::Object(p) => p,
        _ => Map::new(),
    };
    o.insert("properties".into(), Json::Object(props));
    let mut v = Json::Object(o);
    complete(&mut v, ctx);
    v
}

/// `{id, name, type, apiVersion, location?}`: how a resource in `reference(..., 'Full')`
/// shape starts.
fn envelope(
    id: &str,
    name: &str,
    resource_type: &str,
    api_version: &str,
    location: Option<Json>,
) -> Map<String, Json> {
    let mut o = Map::new();
    o.insert("id".into(), id.into());
    o.insert("name".into(), name.into());
    o.insert("type".into(), resource_type.into());
    o.insert("apiVersion".into(), api_version.into());
    if let Some(l) = location {
        o.insert("location".into(), l);
    }
    o
}

/// The resource as the generic resource API stores it.
pub fn to_resource(
    v: &Json,
    now: time::OffsetDateTime,
    previous: Option<&Resource>,
) -> Option<Resource> {
    let o = v.as_object()?;
    let text = |k: &str| o.get(k).and_then(Json::as_str).map(str::to_owned);
    let mut extra = Map::new();
    for (k, val) in o {
        if !matches!(
            k.as_str(),
            "id" | "name" | "type" | "apiVersion" | "location" | "tags" | "properties"
        ) {
            extra.insert(k.clone(), val.clone());
        }
    }
    Some(Resource {
        id: text("id")?,
        name: text("name")?,
        resource_type: text("type")?,
        location: text("location"),
        tags: o
            .get("tags")
            .and_then(Json::as_object)
            .cloned()
            .unwrap_or_default(),
        extra,
        properties: o.get("properties").cloned().unwrap_or_else(|| json!({})),
        api_version: text("apiVersion").unwrap_or_default(),
        created_time: previous.map_or(now, |p| p.created_time),
        changed_time: now,
    })
}

/// A stored resource in the shape `reference(id, api, 'Full')` returns.
pub fn stored_json(r: &Resource) -> Json {
    let location = r.location.clone().map(Json::from);
    let mut o = envelope(&r.id, &r.name, &r.resource_type, &r.api_version, location);
    if !r.tags.is_empty() {
        o.insert("tags".into(), Json::Object(r.tags.clone()));
    }
    for (k, v) in &r.extra {
        o.insert(k.clone(), v.clone());
    }
    o.insert("properties".into(), r.properties.clone());
    Json::Object(o)
}

/// Eight lower-case hex digits derived from a resource ID (AKS FQDN infixes and the like).
fn short_hash(id: &str, salt: &str) -> String {
    let h = murmur64(format!("{}|{salt}", id.to_ascii_lowercase()).as_bytes());
    format!("{:08x}", h >> 32)
}

/// A GUID derived from a resource ID.
fn id_guid(id: &str, salt: &str) -> String {
    guid(&[&id.to_ascii_lowercase(), salt])
}

/// The segment after the first `keyword` segment of a resource ID (case-insensitive).
fn segment_after<'a>(id: &'a str, keyword: &str) -> Option<&'a str> {
    let mut segs = id.split('/');
    segs.find(|s| s.eq_ignore_ascii_case(keyword))?;
    segs.next()
}

/// The resource group name inside a resource ID.
pub fn resource_group_of(id: &str) -> Option<String> {
    segment_after(id, "resourceGroups").map(str::to_owned)
}

/// The subscription ID inside a resource ID.
fn subscription_of(id: &str) -> &str {
    segment_after(id, "subscriptions").unwrap_or("")
}

/// The properties a provider computes and the template never sets: left out when what-if
/// compares a template with what exists.
pub fn computed_property_names(resource_type: &str) -> &'static [&'static str] {
    match resource_type.to_ascii_lowercase().as_str() {
        "microsoft.containerservice/managedclusters" => &[
            "provisioningState",
            "fqdn",
            "azurePortalFQDN",
            "privateFQDN",
            "currentKubernetesVersion",
            "powerState",
            "maxAgentPools",
            "identityProfile",
            "nodeResourceGroup",
            "resourceUID",
        ],
        "microsoft.storage/storageaccounts" => &[
            "provisioningState",
            "primaryEndpoints",
            "primaryLocation",
            "statusOfPrimary",
            "creationTime",
        ],
        "microsoft.dbformysql/flexibleservers" | "microsoft.dbforpostgresql/flexibleservers" => {
            &["provisioningState", "fullyQualifiedDomainName", "state"]
        }
        "microsoft.keyvault/vaults" => &["provisioningState", "vaultUri"],
        "microsoft.containerregistry/registries" => {
            &["provisioningState", "loginServer", "creationDate"]
        }
        "microsoft.operationalinsights/workspaces" => {
            &["provisioningState", "customerId", "createdDate"]
        }
        "microsoft.insights/components" => &[
            "provisioningState",
            "InstrumentationKey",
            "ConnectionString",
            "AppId",
        ],
        "microsoft.network/virtualnetworks"
        | "microsoft.network/networksecuritygroups"
        | "microsoft.network/publicipaddresses" => {
            &["provisioningState", "resourceGuid", "ipAddress"]
        }
        "microsoft.managedidentity/userassignedidentities" => {
            &["provisioningState", "principalId", "clientId", "tenantId"]
        }
        "microsoft.web/sites" => &["provisioningState", "defaultHostName", "state"],
        "microsoft.authorization/roleassignments" => &["scope", "createdOn", "updatedOn"],
        _ => &["provisioningState"],
    }
}

/// Fills in what the provider computes, in place.
pub fn complete(v: &mut Json, ctx: &RuntimeContext) {
    let Some(o) = v.as_object_mut() else {
        return;
    };
    let id = o.get("id").and_then(Json::as_str).unwrap_or("").to_owned();
    let name = o
        .get("name")
        .and_then(Json::as_str)
        .unwrap_or("")
        .to_owned();
    let last = name.rsplit('/').next().unwrap_or(&name).to_owned();
    let ty = o
        .get("type")
        .and_then(Json::as_str)
        .unwrap_or("")
        .to_ascii_lowercase();
    let location = normalize_location(o.get("location").and_then(Json::as_str).unwrap_or("eastus"));
    let tenant = ctx.tenant_id.clone();
    complete_identity(o, &id, &tenant);
    let mut props = match o.remove("properties") {
        Some(Json::Object(p)) => p,
        _ => Map::new(),
    };
    let set = |p: &mut Map<String, Json>, k: &str, v: Json| {
        p.insert(k.to_owned(), v);
    };
    let default = |p: &mut Map<String, Json>, k: &str, v: Json| {
        p.entry(k.to_owned()).or_insert(v);
    };
    if !matches!(
        ty.as_str(),
        "microsoft.authorization/roleassignments" | "microsoft.resources/deployments"
    ) {
        set(&mut props, "provisioningState", "Succeeded".into());
    }
    if matches!(
        ty.as_str(),
        "microsoft.network/virtualnetworks"
            | "microsoft.network/networksecuritygroups"
            | "microsoft.network/publicipaddresses"
    ) {
        set(
            &mut props,
            "resourceGuid",
            id_guid(&id, "resourceGuid").into(),
        );
    }
    // Microsoft.Network gives every resource (and each subnet) a weak etag that changes
    // with each write.
    let etag = ty
        .starts_with("microsoft.network/")
        .then(|| format!("W/\"{}\"", id_guid(&id, &format!("etag|{}", ctx.now))));
    if let Some(e) = &etag {
        o.insert("etag".into(), e.clone().into());
    }
    match ty.as_str() {
        "microsoft.containerservice/managedclusters" => {
            let prefix = props
                .get("dnsPrefix")
                .and_then(Json::as_str)
                .map_or_else(|| last.clone(), str::to_owned)
                .to_ascii_lowercase();
            let h = short_hash(&id, "fqdn");
            let private = props
                .get("apiServerAccessProfile")
                .and_then(|a| a.get("enablePrivateCluster"))
                .and_then(Json::as_bool)
                .unwrap_or(false);
            set(
                &mut props,
                "fqdn",
                format!("{prefix}-{h}.hcp.{location}.azmk8s.io").into(),
            );
            set(
                &mut props,
                "azurePortalFQDN",
                format!("{prefix}-{h}.portal.hcp.{location}.azmk8s.io").into(),
            );
            if private {
                set(
                    &mut props,
                    "privateFQDN",
                    format!(
                        "{prefix}-{h}.{}.privatelink.{location}.azmk8s.io",
                        short_hash(&id, "private")
                    )
                    .into(),
                );
            }
            default(&mut props, "kubernetesVersion", "1.30.6".into());
            let version = props.get("kubernetesVersion").cloned().unwrap_or_default();
            set(&mut props, "currentKubernetesVersion", version.clone());
            let rg = resource_group_of(&id).unwrap_or_default();
            default(
                &mut props,
                "nodeResourceGroup",
                format!("MC_{rg}_{last}_{location}").into(),
            );
            set(&mut props, "powerState", json!({"code": "Running"}));
            set(&mut props, "maxAgentPools", 100.into());
            set(
                &mut props,
                "resourceUID",
                format!("{:024x}", murmur64(id.to_ascii_lowercase().as_bytes())).into(),
            );
            if let Some(Json::Array(pools)) = props.get_mut("agentPoolProfiles") {
                for p in pools.iter_mut().filter_map(Json::as_object_mut) {
                    p.insert("provisioningState".into(), "Succeeded".into());
                    p.insert("powerState".into(), json!({"code": "Running"}));
                    p.entry("orchestratorVersion").or_insert(version.clone());
                    p.entry("osType").or_insert("Linux".into());
                    p.entry("mode").or_insert("System".into());
                }
            }
            let node_rg = props
                .get("nodeResourceGroup")
                .and_then(Json::as_str)
                .unwrap_or("")
                .to_owned();
            let kubelet = format!(
                "/subscriptions/{}/resourcegroups/{node_rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{last}-agentpool",
                subscription_of(&id)
            );
            set(
                &mut props,
                "identityProfile",
                json!({"kubeletidentity": {
                    "resourceId": kubelet,
                    "clientId": id_guid(&id, "kubelet-client"),
                    "objectId": id_guid(&id, "kubelet-object"),
                }}),
            );
            if props
                .get("oidcIssuerProfile")
                .and_then(|o| o.get("enabled"))
                .and_then(Json::as_bool)
                .unwrap_or(false)
                && let Some(Json::Object(oidc)) = props.get_mut("oidcIssuerProfile")
            {
                oidc.insert(
                    "issuerURL".into(),
                    format!(
                        "https://{location}.oic.prod-aks.azure.com/{tenant}/{}/",
                        id_guid(&id, "oidc")
                    )
                    .into(),
                );
            }
        }
        "microsoft.storage/storageaccounts" => {
            let n = last.to_ascii_lowercase();
            set(
                &mut props,
                "primaryEndpoints",
                json!({
                    "dfs": format!("https://{n}.dfs.core.windows.net/"),
                    "web": format!("https://{n}.z13.web.core.windows.net/"),
                    "blob": format!("https://{n}.blob.core.windows.net/"),
                    "queue": format!("https://{n}.queue.core.windows.net/"),
                    "table": format!("https://{n}.table.core.windows.net/"),
                    "file": format!("https://{n}.file.core.windows.net/"),
                }),
            );
            set(&mut props, "primaryLocation", location.clone().into());
            set(&mut props, "statusOfPrimary", "available".into());
            set(&mut props, "creationTime", ctx.now.clone().into());
        }
        "microsoft.dbformysql/flexibleservers" | "microsoft.dbforpostgresql/flexibleservers" => {
            let mysql = ty.starts_with("microsoft.dbformysql/");
            let domain = if mysql { "mysql" } else { "postgres" };
            set(
                &mut props,
                "fullyQualifiedDomainName",
                format!("{}.{domain}.database.azure.com", last.to_ascii_lowercase()).into(),
            );
            set(&mut props, "state", "Ready".into());
            if mysql {
                default(&mut props, "version", "8.0.21".into());
            }
        }
        "microsoft.keyvault/vaults" => {
            set(
                &mut props,
                "vaultUri",
                format!("https://{}.vault.azure.net/", last.to_ascii_lowercase()).into(),
            );
            default(&mut props, "tenantId", tenant.clone().into());
        }
        "microsoft.keyvault/vaults/secrets" => {
            let vault = name.split('/').next().unwrap_or("").to_ascii_lowercase();
            set(
                &mut props,
                "secretUri",
                format!("https://{vault}.vault.azure.net/secrets/{last}").into(),
            );
            set(
                &mut props,
                "secretUriWithVersion",
                format!(
                    "https://{vault}.vault.azure.net/secrets/{last}/{}",
                    short_hash(&id, "v1").repeat(4)
                )
                .into(),
            );
            // Secret values are never returned by ARM.
            props.remove("value");
        }
        "microsoft.containerregistry/registries" => {
            set(
                &mut props,
                "loginServer",
                format!("{}.azurecr.io", last.to_ascii_lowercase()).into(),
            );
            set(&mut props, "creationDate", ctx.now.clone().into());
        }
        "microsoft.operationalinsights/workspaces" => {
            set(&mut props, "customerId", id_guid(&id, "customerId").into());
            set(&mut props, "createdDate", ctx.now.clone().into());
            default(&mut props, "retentionInDays", 30.into());
        }
        "microsoft.insights/components" => {
            let key = id_guid(&id, "instrumentationKey");
            set(&mut props, "InstrumentationKey", key.clone().into());
            set(&mut props, "AppId", id_guid(&id, "appId").into());
            set(
                &mut props,
                "ConnectionString",
                format!(
                    "InstrumentationKey={key};IngestionEndpoint=https://{location}-0.in.applicationinsights.azure.com/;LiveEndpoint=https://{location}.livediagnostics.monitor.azure.com/"
                )
                .into(),
            );
        }
        "microsoft.network/virtualnetworks" => {
            if let Some(Json::Array(subnets)) = props.get_mut("subnets") {
                for s in subnets.iter_mut().filter_map(Json::as_object_mut) {
                    let sname = s
                        .get("name")
                        .and_then(Json::as_str)
                        .unwrap_or("")
                        .to_owned();
                    s.insert("id".into(), format!("{id}/subnets/{sname}").into());
                    s.insert(
                        "type".into(),
                        "Microsoft.Network/virtualNetworks/subnets".into(),
                    );
                    if let Some(e) = &etag {
                        s.insert("etag".into(), e.clone().into());
                    }
                    if let Some(Json::Object(sp)) = s.get_mut("properties") {
                        sp.insert("provisioningState".into(), "Succeeded".into());
                    }
                }
            }
        }
        "microsoft.network/publicipaddresses" => {
            let h = murmur64(id.to_ascii_lowercase().as_bytes());
            set(
                &mut props,
                "ipAddress",
                format!(
                    "20.{}.{}.{}",
                    (h >> 8) % 256,
                    (h >> 16) % 256,
                    (h >> 24) % 254 + 1
                )
                .into(),
            );
            let label = props
                .get("dnsSettings")
                .and_then(|d| d.get("domainNameLabel"))
                .and_then(Json::as_str)
                .map(str::to_owned);
            if let (Some(label), Some(Json::Object(dns))) = (label, props.get_mut("dnsSettings")) {
                dns.insert(
                    "fqdn".into(),
                    format!("{label}.{location}.cloudapp.azure.com").into(),
                );
            }
        }
        "microsoft.managedidentity/userassignedidentities" => {
            set(
                &mut props,
                "principalId",
                id_guid(&id, "principalId").into(),
            );
            set(&mut props, "clientId", id_guid(&id, "clientId").into());
            set(&mut props, "tenantId", tenant.clone().into());
        }
        "microsoft.web/sites" => {
            set(
                &mut props,
                "defaultHostName",
                format!("{}.azurewebsites.net", last.to_ascii_lowercase()).into(),
            );
            set(&mut props, "state", "Running".into());
        }
        "microsoft.authorization/roleassignments" => {
            let scope = id
                .to_ascii_lowercase()
                .find("/providers/microsoft.authorization/roleassignments/")
                .map_or_else(String::new, |i| id[..i].to_owned());
            set(&mut props, "scope", scope.into());
            set(&mut props, "createdOn", ctx.now.clone().into());
            set(&mut props, "updatedOn", ctx.now.clone().into());
        }
        _ => {}
    }
    apply_defaults(&ty, o, &mut props);
    strip_write_only(&mut props);
    o.insert("properties".into(), Json::Object(props));
}

/// Properties Azure accepts on a write and never returns (passwords, VM custom data, a
/// service principal's secret): left out of everything the simulator stores or answers.
const WRITE_ONLY: &[&str] = &[
    "administratorLoginPassword",
    "adminPassword",
    "password",
    "customData",
    "secret",
];

/// Removes the [`WRITE_ONLY`] properties at any depth (names compared case-insensitively).
pub fn strip_write_only(props: &mut Map<String, Json>) {
    props.retain(|k, _| !WRITE_ONLY.iter().any(|w| w.eq_ignore_ascii_case(k)));
    for v in props.values_mut() {
        strip_write_only_in(v);
    }
}

fn strip_write_only_in(v: &mut Json) {
    match v {
        Json::Object(o) => strip_write_only(o),
        Json::Array(a) => a.iter_mut().for_each(strip_write_only_in),
        _ => {}
    }
}

/// The values a provider fills in when a template leaves them out, which what-if's `after`
/// shows too: a storage account's `sku.tier` (Standard_LRS -> Standard) and a virtual
/// network's `enableDdosProtection`/`enableVmProtection` (false). `ty` is lower-case.
pub fn apply_defaults(ty: &str, o: &mut Map<String, Json>, props: &mut Map<String, Json>) {
    match ty {
        "microsoft.storage/storageaccounts" => {
            if let Some(Json::Object(sku)) = o.get_mut("sku")
                && !sku.contains_key("tier")
                && let Some(tier) = sku
                    .get("name")
                    .and_then(Json::as_str)
                    .and_then(|n| n.split('_').next())
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
            {
                sku.insert("tier".into(), tier.into());
            }
        }
        "microsoft.network/virtualnetworks" => {
            for k in ["enableDdosProtection", "enableVmProtection"] {
                props.entry(k).or_insert(false.into());
            }
        }
        _ => {}
    }
}

/// `identity.principalId`/`tenantId` for system-assigned identities and the IDs of the
/// user-assigned ones.
fn complete_identity(o: &mut Map<String, Json>, id: &str, tenant: &str) {
    let Some(Json::Object(identity)) = o.get_mut("identity") else {
        return;
    };
    let ty = identity
        .get("type")
        .and_then(Json::as_str)
        .unwrap_or("")
        .to_ascii_lowercase();
    if ty.contains("systemassigned") {
        identity.insert("principalId".into(), id_guid(id, "principalId").into());
        identity.insert("tenantId".into(), tenant.into());
    }
    if let Some(Json::Object(uais)) = identity.get_mut("userAssignedIdentities") {
        for (uai, v) in uais.iter_mut() {
            *v = json!({
                "principalId": id_guid(uai, "principalId"),
                "clientId": id_guid(uai, "clientId"),
            });
        }
    }
}

/// A key as Azure shows storage and shared keys: 64 bytes, base64.
fn key(id: &str, name: &str) -> String {
    let mut bytes = Vec::with_capacity(64);
    for half in ["a", "b"] {
        let mut h = Sha256::new();
        h.update(id.to_ascii_lowercase().as_bytes());
        h.update(name.as_bytes());
        h.update(half.as_bytes());
        bytes.extend_from_slice(&h.finalize());
    }
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The result of a `list*` action on a resource, where the simulator knows it.
pub fn list_result(function: &str, resource: &Json) -> Option<Json> {
    let id = resource.get("id")?.as_str()?;
    let ty = resource.get("type")?.as_str()?.to_ascii_lowercase();
    let name = resource.get("name")?.as_str()?;
    let f = function.to_ascii_lowercase();
    match (ty.as_str(), f.as_str()) {
        ("microsoft.storage/storageaccounts", "listkeys") => Some(json!({"keys": [
            {"keyName": "key1", "value": key(id, "key1"), "permissions": "FULL"},
            {"keyName": "key2", "value": key(id, "key2"), "permissions": "FULL"},
        ]})),
        ("microsoft.containerregistry/registries", "listcredentials") => Some(json!({
            "username": name,
            "passwords": [
                {"name": "password", "value": key(id, "password")},
                {"name": "password2", "value": key(id, "password2")},
            ],
        })),
        ("microsoft.operationalinsights/workspaces", "listkeys" | "sharedkeys") => Some(json!({
            "primarySharedKey": key(id, "primary"),
            "secondarySharedKey": key(id, "secondary"),
        })),
        (
            "microsoft.containerservice/managedclusters",
            "listclusteradmincredential" | "listclusterusercredential",
        ) => {
            let fqdn = resource
                .get("properties")
                .and_then(|p| p.get("fqdn"))
                .and_then(Json::as_str)
                .unwrap_or("");
            let user = if f.contains("admin") {
                "clusterAdmin"
            } else {
                "clusterUser"
            };
            let kubeconfig = format!(
                "apiVersion: v1\nclusters:\n- cluster:\n    server: https://{fqdn}:443\n  name: {name}\ncontexts:\n- context:\n    cluster: {name}\n    user: {user}_{name}\n  name: {name}\ncurrent-context: {name}\nkind: Config\nusers:\n- name: {user}_{name}\n  user:\n    token: {}\n",
                key(id, user)
            );
            Some(json!({"kubeconfigs": [{
                "name": user,
                "value": base64::engine::general_purpose::STANDARD.encode(kubeconfig),
            }]}))
        }
        _ => None,
    }
}

/// Answers `reference()` and `list*()` from resources as they will be after the deployment,
/// then from what already exists.
pub struct RuntimeResolver<'a> {
    /// This deployment's resources after deployment, by lower-cased ID.
    pub planned: HashMap<String, Json>,
    /// What exists now.
    pub groups: &'a GroupsState,
}

impl RuntimeResolver<'_> {
    /// A resource by ID: as this deployment will leave it, else as it exists.
    fn find(&self, id: &str) -> Option<Json> {
        let key = id.trim_end_matches('/').to_ascii_lowercase();
        self.planned
            .get(&key)
            .cloned()
            .or_else(|| self.groups.resource(&key).map(stored_json))
    }
}

impl Resolver for RuntimeResolver<'_> {
    fn reference(&self, resource_id: &str, _: Option<&str>, full: bool) -> Option<Value> {
        let r = self.find(resource_id)?;
        let v = if full {
            r
        } else {
            r.get("properties").cloned().unwrap_or_else(|| json!({}))
        };
        Some(Value::from_json(v))
    }

    fn list(&self, function: &str, resource_id: &str, _: &str, _: Option<&Value>) -> Option<Value> {
        let r = self.find(resource_id)?;
        list_result(function, &r).map(Value::from_json)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // A failing test should stop loudly.
mod tests {
    use super::*;

    fn ctx() -> RuntimeContext {
        RuntimeContext {
            tenant_id: "t".into(),
            now: "2026-01-01T00:00:00.0000000Z".into(),
        }
    }

    #[test]
    fn aks_gets_an_fqdn_from_its_dns_prefix() {
        let mut v = json!({
            "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks1",
            "name": "aks1", "type": "Microsoft.ContainerService/managedClusters",
            "location": "West Europe", "identity": {"type": "SystemAssigned"},
            "properties": {"dnsPrefix": "demo", "agentPoolProfiles": [{"name": "sys", "count": 1}]}
        });
        complete(&mut v, &ctx());
        let fqdn = v["properties"]["fqdn"].as_str().unwrap();
        assert!(fqdn.starts_with("demo-") && fqdn.ends_with(".hcp.westeurope.azmk8s.io"));
        assert_eq!(v["properties"]["provisioningState"], "Succeeded");
        assert_eq!(
            v["properties"]["nodeResourceGroup"],
            "MC_rg_aks1_westeurope"
        );
        assert_eq!(v["identity"]["tenantId"], "t");
        let again = {
            let mut w = v.clone();
            complete(&mut w, &ctx());
            w
        };
        assert_eq!(again["properties"]["fqdn"], v["properties"]["fqdn"]);
    }

    #[test]
    fn storage_keys_look_like_azure_keys() {
        let r = json!({"id": "/x/sa", "type": "Microsoft.Storage/storageAccounts", "name": "sa"});
        let keys = list_result("listKeys", &r).unwrap();
        let k = keys["keys"][0]["value"].as_str().unwrap();
        assert_eq!(k.len(), 88);
        assert_eq!(list_result("listSecrets", &r), None);
    }
}
