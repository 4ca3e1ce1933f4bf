//! Where a deployment runs: the facts scope functions return (`subscription()`,
//! `resourceGroup()`, `environment()`...) and the resolver for values only Azure knows.

use serde::Deserialize;
use time::OffsetDateTime;

use crate::value::{Object, Value};

/// The scope a template is deployed at.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DeploymentScope {
    /// A resource group (the default).
    #[default]
    ResourceGroup,
    /// A subscription.
    Subscription,
    /// A management group.
    ManagementGroup,
    /// The tenant.
    Tenant,
}

/// The resource group a deployment targets.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ResourceGroupInfo {
    /// Resource group name.
    pub name: String,
    /// Resource group location.
    pub location: String,
    /// Tags on the resource group.
    pub tags: Option<serde_json::Map<String, serde_json::Value>>,
    /// `managedBy`, for managed application resource groups.
    pub managed_by: Option<String>,
}

impl Default for ResourceGroupInfo {
    fn default() -> Self {
        ResourceGroupInfo {
            name: "landfall-rg".into(),
            location: "eastus".into(),
            tags: None,
            managed_by: None,
        }
    }
}

/// Everything a template can ask about the deployment it runs in.
#[derive(Clone, Debug)]
pub struct DeploymentContext {
    /// The deployment scope.
    pub scope: DeploymentScope,
    /// Subscription ID.
    pub subscription_id: String,
    /// Subscription display name.
    pub subscription_name: String,
    /// Tenant ID.
    pub tenant_id: String,
    /// Tenant display name, as `tenant()` returns it.
    pub tenant_display_name: String,
    /// Target resource group (used at resource-group scope).
    pub resource_group: ResourceGroupInfo,
    /// Management group name (used at management-group scope).
    pub management_group: String,
    /// Management group display name, as `managementGroup()` returns it.
    pub management_group_display_name: String,
    /// Deployment name.
    pub deployment_name: String,
    /// Deployment location (subscription, management-group and tenant scope deployments).
    pub location: String,
    /// The cloud, as `environment()` returns it.
    pub environment: Value,
    /// The principal deploying, as `deployer()` returns it.
    pub deployer: Value,
    /// The deployment's timestamp: `utcNow()` returns this for the whole deployment.
    pub now: OffsetDateTime,
    /// Seed for `newGuid()`; `None` draws fresh random GUIDs.
    pub guid_seed: Option<u64>,
}

impl Default for DeploymentContext {
    fn default() -> Self {
        DeploymentContext {
            scope: DeploymentScope::ResourceGroup,
            subscription_id: "00000000-0000-0000-0000-000000000000".into(),
            subscription_name: "Landfall subscription".into(),
            tenant_id: "00000000-0000-0000-0000-000000000000".into(),
            tenant_display_name: "Landfall tenant".into(),
            resource_group: ResourceGroupInfo::default(),
            management_group: "landfall-mg".into(),
            management_group_display_name: "Landfall management group".into(),
            deployment_name: "landfall".into(),
            location: "eastus".into(),
            environment: azure_cloud_environment(),
            deployer: deployer_value("00000000-0000-0000-0000-000000000000", "", ""),
            now: OffsetDateTime::now_utc(),
            guid_seed: None,
        }
    }
}

impl DeploymentContext {
    /// `subscription().id`.
    pub fn subscription_resource_id(&self) -> String {
        format!("/subscriptions/{}", self.subscription_id)
    }

    /// `resourceGroup().id`.
    pub fn resource_group_id(&self) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}",
            self.subscription_id, self.resource_group.name
        )
    }

    /// The object `subscription()` returns.
    pub fn subscription_value(&self) -> Value {
        let mut o = Object::new();
        o.insert("id".into(), Value::str(self.subscription_resource_id()));
        o.insert("subscriptionId".into(), Value::str(&self.subscription_id));
        o.insert("tenantId".into(), Value::str(&self.tenant_id));
        o.insert("displayName".into(), Value::str(&self.subscription_name));
        Value::Object(o)
    }

    /// The object `resourceGroup()` returns.
    pub fn resource_group_value(&self) -> Value {
        let rg = &self.resource_group;
        let mut o = Object::new();
        o.insert("id".into(), Value::str(self.resource_group_id()));
        o.insert("name".into(), Value::str(&rg.name));
        o.insert(
            "type".into(),
            Value::str("Microsoft.Resources/resourceGroups"),
        );
        o.insert("location".into(), Value::str(&rg.location));
        if let Some(m) = &rg.managed_by {
            o.insert("managedBy".into(), Value::str(m));
        }
        if let Some(t) = &rg.tags {
            o.insert(
                "tags".into(),
                Value::from_json(serde_json::Value::Object(t.clone())),
            );
        }
        let mut props = Object::new();
        props.insert("provisioningState".into(), Value::str("Succeeded"));
        o.insert("properties".into(), Value::Object(props));
        Value::Object(o)
    }

    /// The object `tenant()` returns.
    pub fn tenant_value(&self) -> Value {
        let mut o = Object::new();
        o.insert("countryCode".into(), Value::str("US"));
        o.insert("displayName".into(), Value::str(&self.tenant_display_name));
        o.insert(
            "id".into(),
            Value::str(format!("/tenants/{}", self.tenant_id)),
        );
        o.insert("tenantId".into(), Value::str(&self.tenant_id));
        Value::Object(o)
    }

    /// The object `managementGroup()` returns, in ARM's shape (its `type` carries the
    /// `/providers/` prefix, as ARM returns it).
    pub fn management_group_value(&self) -> Value {
        let root = format!(
            "/providers/Microsoft.Management/managementGroups/{}",
            self.tenant_id
        );
        let json = serde_json::json!({
            "id": format!("/providers/Microsoft.Management/managementGroups/{}", self.management_group),
            "name": self.management_group,
            "properties": {
                "details": {
                    "parent": {"displayName": "Tenant Root Group", "id": root, "name": self.tenant_id},
                    "updatedBy": crate::value::get_ci(
                        self.deployer.as_object().unwrap_or(&Object::new()), "objectId"
                    ).and_then(Value::as_str).unwrap_or(""),
                    "updatedTime": self.now.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
                    "version": "1"
                },
                "displayName": self.management_group_display_name,
                "tenantId": self.tenant_id
            },
            "type": "/providers/Microsoft.Management/managementGroups"
        });
        Value::from_json(json)
    }
}

/// The object `deployer()` returns.
pub fn deployer_value(object_id: &str, tenant_id: &str, upn: &str) -> Value {
    let mut o = Object::new();
    o.insert("objectId".into(), Value::str(object_id));
    o.insert("tenantId".into(), Value::str(tenant_id));
    o.insert("userPrincipalName".into(), Value::str(upn));
    Value::Object(o)
}

/// `environment()` for Azure public cloud, as ARM returns it.
pub fn azure_cloud_environment() -> Value {
    let json = serde_json::json!({
        "name": "AzureCloud",
        "gallery": "https://gallery.azure.com/",
        "graph": "https://graph.windows.net/",
        "portal": "https://portal.azure.com",
        "graphAudience": "https://graph.windows.net/",
        "activeDirectoryDataLake": "https://datalake.azure.net/",
        "batch": "https://batch.core.windows.net/",
        "media": "https://rest.media.azure.net",
        "sqlManagement": "https://management.core.windows.net:8443/",
        "vmImageAliasDoc": "https://raw.githubusercontent.com/Azure/azure-rest-api-specs/master/arm-compute/quickstart-templates/aliases.json",
        "resourceManager": "https://management.azure.com/",
        "authentication": {
            "loginEndpoint": "https://login.microsoftonline.com/",
            "audiences": [
                "https://management.core.windows.net/",
                "https://management.azure.com/"
            ],
            "tenant": "common",
            "identityProvider": "AAD"
        },
        "suffixes": {
            "acrLoginServer": ".azurecr.io",
            "azureDatalakeAnalyticsCatalogAndJob": "azuredatalakeanalytics.net",
            "azureDatalakeStoreFileSystem": "azuredatalakestore.net",
            "azureFrontDoorEndpointSuffix": "azurefd.net",
            "keyvaultDns": ".vault.azure.net",
            "sqlServerHostname": ".database.windows.net",
            "storage": "core.windows.net"
        }
    });
    Value::from_json(json)
}

/// Supplies values only a live deployment knows. Every method returns `None` when the value is
/// not known, and the evaluator then produces a deferred value ("known after deployment").
pub trait Resolver {
    /// `reference(resourceId, apiVersion, 'Full')`: the resource's runtime state. `full` asks for
    /// the whole resource instead of its `properties`.
    fn reference(&self, resource_id: &str, api_version: Option<&str>, full: bool) -> Option<Value> {
        let _ = (resource_id, api_version, full);
        None
    }

    /// `listKeys(...)`, `listSecrets(...)` and the other `list*` actions.
    fn list(
        &self,
        function: &str,
        resource_id: &str,
        api_version: &str,
        body: Option<&Value>,
    ) -> Option<Value> {
        let _ = (function, resource_id, api_version, body);
        None
    }

    /// `providers(namespace, type)`.
    fn providers(&self, namespace: &str, resource_type: Option<&str>) -> Option<Value> {
        let _ = (namespace, resource_type);
        None
    }

    /// `pickZones(namespace, type, location, count, offset)`.
    fn pick_zones(
        &self,
        namespace: &str,
        resource_type: &str,
        location: &str,
        count: i64,
        offset: i64,
    ) -> Option<Value> {
        let _ = (namespace, resource_type, location, count, offset);
        None
    }
}

/// A resolver that knows nothing: every live value is deferred.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoResolver;

impl Resolver for NoResolver {}

/// The `--context` file of `landfall template`: every field optional.
///
/// ```json
/// {"subscriptionId": "...", "tenantId": "...", "resourceGroup": {"name": "rg", "location": "westeurope"},
///  "deploymentName": "main", "location": "westeurope", "scope": "resourceGroup",
///  "parameters": {"name": "value"}, "variables": {"name": "value"}}
/// ```
///
/// Defaults: subscription and tenant `00000000-0000-0000-0000-000000000000`, resource group
/// `landfall-rg` in `eastus`, deployment `landfall`, location `eastus`, scope `resourceGroup`.
/// `parameters` and `variables` apply to `template expr` only.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContextFile {
    /// Subscription ID.
    pub subscription_id: Option<String>,
    /// Subscription display name.
    pub subscription_name: Option<String>,
    /// Tenant ID.
    pub tenant_id: Option<String>,
    /// Resource group.
    pub resource_group: Option<ResourceGroupInfo>,
    /// Management group name.
    pub management_group: Option<String>,
    /// Deployment name.
    pub deployment_name: Option<String>,
    /// Deployment location.
    pub location: Option<String>,
    /// Deployment scope.
    pub scope: Option<DeploymentScope>,
    /// Fixed `utcNow()` time, RFC 3339.
    pub now: Option<String>,
    /// Parameter values for standalone expressions.
    pub parameters: Option<serde_json::Map<String, serde_json::Value>>,
    /// Variable values for standalone expressions.
    pub variables: Option<serde_json::Map<String, serde_json::Value>>,
}

impl ContextFile {
    /// Parses a context file; errors name the field.
    pub fn parse(text: &str) -> Result<ContextFile, String> {
        serde_json::from_str(text).map_err(|e| format!("The context file is not valid: {e}"))
    }

    /// The deployment context this file describes, defaults filled in.
    pub fn to_context(&self) -> Result<DeploymentContext, String> {
        let mut c = DeploymentContext::default();
        if let Some(v) = &self.subscription_id {
            c.subscription_id = v.clone();
        }
        if let Some(v) = &self.subscription_name {
            c.subscription_name = v.clone();
        }
        if let Some(v) = &self.tenant_id {
            c.tenant_id = v.clone();
        }
        if let Some(v) = &self.resource_group {
            c.resource_group = v.clone();
        }
        if let Some(v) = &self.management_group {
            c.management_group = v.clone();
        }
        if let Some(v) = &self.deployment_name {
            c.deployment_name = v.clone();
        }
        if let Some(v) = &self.location {
            c.location = v.clone();
        }
        if let Some(v) = self.scope {
            c.scope = v;
        }
        if let Some(v) = &self.now {
            c.now = OffsetDateTime::parse(v, &time::format_description::well_known::Rfc3339)
                .map_err(|e| format!("The context field 'now' must be an RFC 3339 time: {e}"))?;
        }
        Ok(c)
    }
}
