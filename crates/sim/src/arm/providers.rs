//! Resource providers: the catalog of namespaces and resource types the simulated cloud
//! offers (with locations and API versions), and each subscription's registration state with
//! the transitions `Registering -> Registered` and `Unregistering -> Unregistered` taking the
//! time they took in `recordings/java-fluent-sdk/canUnregisterAndRegisterProvider.json`
//! (about 75 s and 10 s), divided by the speed factor.
//!
//! A new subscription has `Microsoft.ContainerService` and `Microsoft.DBforMySQL` not
//! registered (as fresh Azure subscriptions do), so preflight has something to fix.
//!
//! Data: the catalog is static ([`provider`], [`resource_type`]); registrations live in
//! [`ProvidersState`] and settle in [`advance`]. Other modules use the catalog to know a
//! namespace's spelling ([`super::canonical_path`]) and its types ([`super::groups`]). An
//! unknown namespace is ARM's `404 InvalidResourceNamespace`.

use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;
use time::OffsetDateTime;

use super::directory;
use super::request::ArmRequest;
use crate::Sim;
use crate::http::{arm_error, json_response};

/// A resource type a provider offers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ResourceTypeInfo {
    /// Type path under the namespace (`storageAccounts`, `vaults/secrets`).
    pub resource_type: &'static str,
    /// API versions, newest first.
    pub api_versions: &'static [&'static str],
    /// `defaultApiVersion`, when Azure lists one.
    pub default_api_version: Option<&'static str>,
    /// `capabilities` (`SupportsTags, SupportsLocation`...).
    pub capabilities: &'static str,
    /// Offered in every physical region (`locations` lists them); otherwise `locations` is empty.
    pub regional: bool,
}

/// A resource provider (namespace).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProviderInfo {
    /// Namespace as Azure spells it (`Microsoft.Storage`, `microsoft.insights`).
    pub namespace: &'static str,
    /// `RegistrationRequired` or `RegistrationFree`.
    pub registration_policy: &'static str,
    /// Registration state in a new subscription.
    pub initial_state: &'static str,
    /// Its resource types.
    pub resource_types: &'static [ResourceTypeInfo],
}

const TRACKED: &str =
    "CrossResourceGroupResourceMove, CrossSubscriptionResourceMove, SupportsTags, SupportsLocation";
const TRACKED_MI: &str = "CrossResourceGroupResourceMove, CrossSubscriptionResourceMove, SystemAssignedResourceIdentity, SupportsTags, SupportsLocation";
const NONE: &str = "None";
const EXTENSION: &str = "SupportsExtension";

/// A table row of [`ResourceTypeInfo`].
const fn rt(
    resource_type: &'static str,
    api_versions: &'static [&'static str],
    capabilities: &'static str,
    regional: bool,
) -> ResourceTypeInfo {
    ResourceTypeInfo {
        resource_type,
        api_versions,
        default_api_version: None,
        capabilities,
        regional,
    }
}

const RESOURCES_API: &[&str] = &[
    "2025-04-01",
    "2024-11-01",
    "2024-07-01",
    "2024-03-01",
    "2023-07-01",
    "2022-09-01",
    "2021-04-01",
    "2021-01-01",
    "2020-10-01",
    "2020-06-01",
    "2019-10-01",
    "2019-05-01",
];
const SUBSCRIPTIONS_API: &[&str] = &[
    "2022-12-01",
    "2022-09-01",
    "2022-01-01",
    "2021-01-01",
    "2020-01-01",
    "2019-11-01",
    "2016-06-01",
];
const NETWORK_API: &[&str] = &[
    "2024-05-01",
    "2024-03-01",
    "2024-01-01",
    "2023-11-01",
    "2023-09-01",
    "2023-06-01",
    "2023-05-01",
    "2023-04-01",
    "2022-07-01",
    "2022-01-01",
    "2021-05-01",
    "2020-11-01",
];
const PRIVATE_DNS_API: &[&str] = &["2024-06-01", "2020-06-01", "2020-01-01", "2018-09-01"];
const STORAGE_API: &[&str] = &[
    "2024-01-01",
    "2023-05-01",
    "2023-04-01",
    "2023-01-01",
    "2022-09-01",
    "2022-05-01",
    "2021-09-01",
    "2021-04-01",
    "2019-06-01",
];
const KEYVAULT_API: &[&str] = &[
    "2024-11-01",
    "2024-04-01-preview",
    "2023-07-01",
    "2023-02-01",
    "2022-07-01",
    "2021-10-01",
    "2019-09-01",
    "2018-02-14",
];
const MYSQL_API: &[&str] = &[
    "2023-12-30",
    "2023-12-01-preview",
    "2023-06-30",
    "2023-06-01-preview",
    "2022-01-01",
    "2021-05-01",
];
const AKS_API: &[&str] = &[
    "2025-01-01",
    "2024-10-01",
    "2024-09-01",
    "2024-08-01",
    "2024-07-01",
    "2024-06-01",
    "2024-05-01",
    "2024-02-01",
    "2023-10-01",
    "2023-08-01",
];
const ACR_API: &[&str] = &[
    "2023-11-01-preview",
    "2023-07-01",
    "2023-01-01-preview",
    "2022-12-01",
    "2021-09-01",
    "2019-05-01",
];
const LOGS_API: &[&str] = &[
    "2023-09-01",
    "2022-10-01",
    "2021-12-01-preview",
    "2021-06-01",
    "2020-08-01",
    "2020-03-01-preview",
];
const ROLE_ASSIGNMENTS_API: &[&str] = &[
    "2022-04-01",
    "2022-01-01-preview",
    "2020-10-01-preview",
    "2020-04-01-preview",
    "2018-09-01-preview",
    "2015-07-01",
];
const ROLE_DEFINITIONS_API: &[&str] = &[
    "2022-05-01-preview",
    "2022-04-01",
    "2018-01-01-preview",
    "2015-07-01",
];
const PERMISSIONS_API: &[&str] = &[
    "2022-04-01",
    "2018-07-01",
    "2018-01-01-preview",
    "2015-07-01",
];
const POLICY_API: &[&str] = &[
    "2024-04-01",
    "2023-04-01",
    "2022-06-01",
    "2021-06-01",
    "2020-09-01",
];
const LOCKS_API: &[&str] = &["2020-05-01", "2017-04-01", "2016-09-01"];
const COMPUTE_API: &[&str] = &[
    "2024-07-01",
    "2024-03-01",
    "2023-09-01",
    "2023-07-01",
    "2023-03-01",
    "2022-11-01",
    "2022-08-01",
    "2022-03-01",
    "2021-11-01",
];
const DISKS_API: &[&str] = &[
    "2024-03-02",
    "2023-10-02",
    "2023-04-02",
    "2022-07-02",
    "2022-03-02",
];
const SKUS_API: &[&str] = &["2021-07-01", "2021-03-01", "2019-04-01", "2017-09-01"];
const IDENTITY_API: &[&str] = &[
    "2024-11-30",
    "2023-07-31-preview",
    "2023-01-31",
    "2022-01-31-preview",
    "2018-11-30",
];
const INSIGHTS_API: &[&str] = &[
    "2023-01-01",
    "2022-06-15",
    "2021-05-01-preview",
    "2020-02-02",
];
const DIAGNOSTICS_API: &[&str] = &["2021-05-01-preview", "2017-05-01-preview", "2016-09-01"];
const WEB_API: &[&str] = &["2024-04-01", "2023-12-01", "2023-01-01", "2022-09-01"];
const SQL_API: &[&str] = &["2023-08-01-preview", "2023-05-01-preview", "2021-11-01"];
const POSTGRES_API: &[&str] = &["2024-08-01", "2023-06-01-preview", "2022-12-01"];
const CACHE_API: &[&str] = &["2024-03-01", "2023-08-01", "2023-04-01"];
const APP_API: &[&str] = &["2024-03-01", "2023-05-01", "2022-10-01"];
const ACI_API: &[&str] = &["2023-05-01", "2022-09-01", "2021-10-01"];

#[rustfmt::skip]
static CATALOG: &[ProviderInfo] = &[
    ProviderInfo {
        namespace: "Microsoft.Resources",
        registration_policy: "RegistrationFree",
        initial_state: "Registered",
        resource_types: &[
            rt("tenants", SUBSCRIPTIONS_API, NONE, false),
            rt("subscriptions", SUBSCRIPTIONS_API, NONE, false),
            rt("locations", SUBSCRIPTIONS_API, NONE, false),
            rt("providers", RESOURCES_API, NONE, false),
            rt("operationresults", RESOURCES_API, NONE, false),
            rt("resources", RESOURCES_API, NONE, false),
            rt("resourceGroups", RESOURCES_API, "SupportsLocation", true),
            rt("subscriptions/resourceGroups", RESOURCES_API, "SupportsTags, SupportsLocation", true),
            rt("subscriptions/resourcegroups/resources", RESOURCES_API, NONE, false),
            rt("subscriptions/locations", SUBSCRIPTIONS_API, NONE, false),
            rt("subscriptions/operationresults", RESOURCES_API, NONE, false),
            rt("deployments", RESOURCES_API, "SupportsTags", false),
            rt("deployments/operations", RESOURCES_API, NONE, false),
            rt("calculateTemplateHash", RESOURCES_API, NONE, false),
            rt("tags", RESOURCES_API, EXTENSION, false),
            rt("deploymentScripts", &["2023-08-01", "2020-10-01", "2019-10-01-preview"], TRACKED, true),
            rt("deploymentScripts/logs", &["2023-08-01", "2020-10-01"], NONE, true),
        ],
    },
    ProviderInfo {
        namespace: "Microsoft.Authorization",
        registration_policy: "RegistrationFree",
        initial_state: "Registered",
        resource_types: &[
            rt("roleAssignments", ROLE_ASSIGNMENTS_API, EXTENSION, false),
            rt("roleDefinitions", ROLE_DEFINITIONS_API, EXTENSION, false),
            rt("permissions", PERMISSIONS_API, EXTENSION, false),
            rt("denyAssignments", &["2022-04-01", "2018-07-01"], EXTENSION, false),
            rt("locks", LOCKS_API, EXTENSION, false),
            rt("policyDefinitions", POLICY_API, EXTENSION, false),
            rt("policySetDefinitions", POLICY_API, EXTENSION, false),
            rt("policyAssignments", POLICY_API, "SystemAssignedResourceIdentity, SupportsExtension", false),
            rt("operations", &["2022-04-01", "2015-07-01"], NONE, false),
        ],
    },
    ProviderInfo {
        namespace: "Microsoft.Network",
        registration_policy: "RegistrationRequired",
        initial_state: "Registered",
        resource_types: &[
            rt("virtualNetworks", NETWORK_API, TRACKED, true),
            rt("virtualNetworks/subnets", NETWORK_API, NONE, true),
            rt("networkSecurityGroups", NETWORK_API, TRACKED, true),
            rt("networkSecurityGroups/securityRules", NETWORK_API, NONE, true),
            rt("publicIPAddresses", NETWORK_API, TRACKED, true),
            rt("natGateways", NETWORK_API, TRACKED, true),
            rt("networkInterfaces", NETWORK_API, TRACKED, true),
            rt("loadBalancers", NETWORK_API, TRACKED, true),
            rt("routeTables", NETWORK_API, TRACKED, true),
            rt("privateEndpoints", NETWORK_API, TRACKED, true),
            rt("privateDnsZones", PRIVATE_DNS_API, TRACKED, false),
            rt("privateDnsZones/virtualNetworkLinks", PRIVATE_DNS_API, TRACKED, false),
            rt("privateDnsZones/A", PRIVATE_DNS_API, NONE, false),
            rt("locations", NETWORK_API, NONE, false),
            rt("locations/usages", NETWORK_API, NONE, true),
            rt("locations/operations", NETWORK_API, NONE, false),
            rt("locations/operationResults", NETWORK_API, NONE, false),
            rt("operations", NETWORK_API, NONE, false),
        ],
    },
    ProviderInfo {
        namespace: "Microsoft.Storage",
        registration_policy: "RegistrationRequired",
        initial_state: "Registered",
        resource_types: &[
            rt("storageAccounts", STORAGE_API, TRACKED_MI, true),
            rt("storageAccounts/blobServices", STORAGE_API, NONE, true),
            rt("storageAccounts/blobServices/containers", STORAGE_API, NONE, true),
            rt("storageAccounts/fileServices", STORAGE_API, NONE, true),
            rt("storageAccounts/managementPolicies", STORAGE_API, NONE, true),
            rt("deletedAccounts", STORAGE_API, NONE, false),
            rt("checkNameAvailability", STORAGE_API, NONE, false),
            rt("locations", STORAGE_API, NONE, false),
            rt("locations/usages", STORAGE_API, NONE, true),
            rt("locations/checkNameAvailability", STORAGE_API, NONE, true),
            rt("locations/asyncoperations", STORAGE_API, NONE, true),
            rt("usages", STORAGE_API, NONE, false),
            rt("operations", STORAGE_API, NONE, false),
        ],
    },
    ProviderInfo {
        namespace: "Microsoft.KeyVault",
        registration_policy: "RegistrationRequired",
        initial_state: "Registered",
        resource_types: &[
            ResourceTypeInfo { default_api_version: Some("2023-07-01"), ..rt("vaults", KEYVAULT_API, TRACKED, true) },
            rt("vaults/secrets", KEYVAULT_API, NONE, true),
            rt("vaults/accessPolicies", KEYVAULT_API, NONE, true),
            rt("deletedVaults", KEYVAULT_API, NONE, true),
            rt("locations", KEYVAULT_API, NONE, false),
            rt("locations/deletedVaults", KEYVAULT_API, NONE, true),
            rt("locations/operationResults", KEYVAULT_API, NONE, true),
            rt("checkNameAvailability", KEYVAULT_API, NONE, false),
            rt("operations", KEYVAULT_API, NONE, false),
        ],
    },
    ProviderInfo {
        namespace: "Microsoft.DBforMySQL",
        registration_policy: "RegistrationRequired",
        initial_state: "NotRegistered",
        resource_types: &[
            rt("flexibleServers", MYSQL_API, TRACKED_MI, true),
            rt("flexibleServers/databases", MYSQL_API, NONE, true),
            rt("flexibleServers/firewallRules", MYSQL_API, NONE, true),
            rt("flexibleServers/configurations", MYSQL_API, NONE, true),
            rt("flexibleServers/administrators", MYSQL_API, NONE, true),
            rt("checkNameAvailability", MYSQL_API, NONE, false),
            rt("locations", MYSQL_API, NONE, false),
            rt("locations/capabilities", MYSQL_API, NONE, true),
            rt("locations/checkNameAvailability", MYSQL_API, NONE, true),
            rt("locations/checkVirtualNetworkSubnetUsage", MYSQL_API, NONE, true),
            rt("locations/operationResults", MYSQL_API, NONE, true),
            rt("locations/azureAsyncOperation", MYSQL_API, NONE, true),
            rt("operations", MYSQL_API, NONE, false),
        ],
    },
    ProviderInfo {
        namespace: "Microsoft.ContainerService",
        registration_policy: "RegistrationRequired",
        initial_state: "NotRegistered",
        resource_types: &[
            rt("managedClusters", AKS_API, "CrossResourceGroupResourceMove, CrossSubscriptionResourceMove, SystemAssignedResourceIdentity, SupportsTags, SupportsLocation", true),
            rt("managedClusters/agentPools", AKS_API, NONE, true),
            rt("managedClusters/maintenanceConfigurations", AKS_API, NONE, true),
            rt("locations", AKS_API, NONE, false),
            rt("locations/kubernetesVersions", AKS_API, NONE, true),
            rt("locations/orchestrators", AKS_API, NONE, true),
            rt("locations/operationresults", AKS_API, NONE, true),
            rt("locations/operations", AKS_API, NONE, true),
            rt("operations", AKS_API, NONE, false),
        ],
    },
    ProviderInfo {
        namespace: "Microsoft.ContainerRegistry",
        registration_policy: "RegistrationRequired",
        initial_state: "Registered",
        resource_types: &[
            rt("registries", ACR_API, TRACKED_MI, true),
            rt("registries/replications", ACR_API, TRACKED, true),
            rt("registries/webhooks", ACR_API, TRACKED, true),
            rt("registries/scopeMaps", ACR_API, NONE, true),
            rt("checkNameAvailability", ACR_API, NONE, false),
            rt("locations", ACR_API, NONE, false),
            rt("locations/operationResults", ACR_API, NONE, true),
            rt("operations", ACR_API, NONE, false),
        ],
    },
    ProviderInfo {
        namespace: "Microsoft.OperationalInsights",
        registration_policy: "RegistrationRequired",
        initial_state: "Registered",
        resource_types: &[
            rt("workspaces", LOGS_API, TRACKED_MI, true),
            rt("workspaces/tables", LOGS_API, NONE, true),
            rt("workspaces/dataSources", LOGS_API, NONE, true),
            rt("deletedWorkspaces", LOGS_API, NONE, false),
            rt("locations", LOGS_API, NONE, false),
            rt("locations/operationStatuses", LOGS_API, NONE, true),
            rt("operations", LOGS_API, NONE, false),
        ],
    },
    ProviderInfo {
        namespace: "Microsoft.Compute",
        registration_policy: "RegistrationRequired",
        initial_state: "Registered",
        resource_types: &[
            rt("virtualMachines", COMPUTE_API, TRACKED_MI, true),
            rt("virtualMachines/extensions", COMPUTE_API, TRACKED, true),
            rt("virtualMachineScaleSets", COMPUTE_API, TRACKED_MI, true),
            rt("availabilitySets", COMPUTE_API, TRACKED, true),
            rt("disks", DISKS_API, TRACKED, true),
            rt("snapshots", DISKS_API, TRACKED, true),
            rt("sshPublicKeys", COMPUTE_API, TRACKED, true),
            rt("skus", SKUS_API, NONE, false),
            rt("locations", COMPUTE_API, NONE, false),
            rt("locations/usages", COMPUTE_API, NONE, true),
            rt("locations/vmSizes", COMPUTE_API, NONE, true),
            rt("locations/operations", COMPUTE_API, NONE, true),
            rt("operations", COMPUTE_API, NONE, false),
        ],
    },
    ProviderInfo {
        namespace: "Microsoft.ManagedIdentity",
        registration_policy: "RegistrationRequired",
        initial_state: "Registered",
        resource_types: &[
            rt("userAssignedIdentities", IDENTITY_API, TRACKED, true),
            rt("userAssignedIdentities/federatedIdentityCredentials", IDENTITY_API, NONE, true),
            rt("Identities", IDENTITY_API, EXTENSION, false),
            rt("operations", IDENTITY_API, NONE, false),
        ],
    },
    ProviderInfo {
        // Azure itself spells this namespace in lower case in provider lists.
        namespace: "microsoft.insights",
        registration_policy: "RegistrationRequired",
        initial_state: "Registered",
        resource_types: &[
            rt("components", &["2020-02-02", "2018-05-01-preview", "2015-05-01"], TRACKED, true),
            rt("actionGroups", INSIGHTS_API, "SupportsTags, SupportsLocation", false),
            rt("metricAlerts", &["2018-03-01"], "SupportsTags, SupportsLocation", false),
            rt("scheduledQueryRules", &["2023-03-15-preview", "2022-06-15", "2021-08-01"], TRACKED, true),
            rt("dataCollectionRules", &["2023-03-11", "2022-06-01", "2021-09-01-preview"], TRACKED, true),
            rt("diagnosticSettings", DIAGNOSTICS_API, EXTENSION, false),
            rt("operations", INSIGHTS_API, NONE, false),
        ],
    },
    ProviderInfo {
        namespace: "Microsoft.Web",
        registration_policy: "RegistrationRequired",
        initial_state: "Registered",
        resource_types: &[
            rt("sites", WEB_API, TRACKED_MI, true),
            rt("serverFarms", WEB_API, TRACKED, true),
        ],
    },
    ProviderInfo {
        namespace: "Microsoft.Sql",
        registration_policy: "RegistrationRequired",
        initial_state: "Registered",
        resource_types: &[
            rt("servers", SQL_API, TRACKED_MI, true),
            rt("servers/databases", SQL_API, TRACKED, true),
        ],
    },
    ProviderInfo {
        namespace: "Microsoft.DBforPostgreSQL",
        registration_policy: "RegistrationRequired",
        initial_state: "NotRegistered",
        resource_types: &[rt("flexibleServers", POSTGRES_API, TRACKED_MI, true)],
    },
    ProviderInfo {
        namespace: "Microsoft.Cache",
        registration_policy: "RegistrationRequired",
        initial_state: "NotRegistered",
        resource_types: &[rt("redis", CACHE_API, TRACKED_MI, true)],
    },
    ProviderInfo {
        namespace: "Microsoft.App",
        registration_policy: "RegistrationRequired",
        initial_state: "NotRegistered",
        resource_types: &[
            rt("containerApps", APP_API, TRACKED_MI, true),
            rt("managedEnvironments", APP_API, TRACKED, true),
        ],
    },
    ProviderInfo {
        namespace: "Microsoft.ContainerInstance",
        registration_policy: "RegistrationRequired",
        initial_state: "NotRegistered",
        resource_types: &[rt("containerGroups", ACI_API, TRACKED_MI, true)],
    },
];

/// Namespaces that exist in Azure but are not modelled here: a request for them is not
/// refused as an invalid namespace, it just finds nothing.
const OTHER_NAMESPACES: &[&str] = &[
    "Microsoft.AAD",
    "Microsoft.AlertsManagement",
    "Microsoft.ApiManagement",
    "Microsoft.AppConfiguration",
    "Microsoft.Automation",
    "Microsoft.Batch",
    "Microsoft.Cdn",
    "Microsoft.CognitiveServices",
    "Microsoft.CostManagement",
    "Microsoft.Databricks",
    "Microsoft.DataFactory",
    "Microsoft.DocumentDB",
    "Microsoft.EventGrid",
    "Microsoft.EventHub",
    "Microsoft.Features",
    "Microsoft.Kusto",
    "Microsoft.Logic",
    "Microsoft.Maintenance",
    "Microsoft.Management",
    "Microsoft.OperationsManagement",
    "Microsoft.PolicyInsights",
    "Microsoft.RecoveryServices",
    "Microsoft.ResourceHealth",
    "Microsoft.Search",
    "Microsoft.Security",
    "Microsoft.ServiceBus",
    "Microsoft.SignalRService",
    "Microsoft.Subscription",
    "Microsoft.Support",
    "Microsoft.Synapse",
];

/// The provider catalog.
pub fn catalog() -> &'static [ProviderInfo] {
    CATALOG
}

/// The provider with this namespace (case-insensitive).
pub fn provider(namespace: &str) -> Option<&'static ProviderInfo> {
    CATALOG
        .iter()
        .find(|p| p.namespace.eq_ignore_ascii_case(namespace))
}

/// A resource type (`Microsoft.KeyVault`, `vaults/secrets`), case-insensitive.
pub fn resource_type(namespace: &str, type_path: &str) -> Option<&'static ResourceTypeInfo> {
    provider(namespace)?
        .resource_types
        .iter()
        .find(|t| t.resource_type.eq_ignore_ascii_case(type_path))
}

/// True for a namespace Azure has, modelled here or not.
pub fn is_known_namespace(namespace: &str) -> bool {
    provider(namespace).is_some()
        || OTHER_NAMESPACES
            .iter()
            .any(|n| n.eq_ignore_ascii_case(namespace))
}

/// ARM's `MissingSubscriptionRegistration` error object (status 409) for a deployment or
/// request using a namespace the subscription has not registered.
pub fn missing_registration(namespace: &str) -> Json {
    let ns = provider(namespace).map_or(namespace, |p| p.namespace);
    let message = format!(
        "The subscription is not registered to use namespace '{ns}'. See https://aka.ms/rps-not-found for how to register subscriptions."
    );
    json!({
        "code": "MissingSubscriptionRegistration",
        "message": message,
        "details": [{
            "code": "MissingSubscriptionRegistration",
            "target": ns,
            "message": message
        }]
    })
}

/// Registration states, by lower-cased namespace.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProvidersState {
    /// Registrations by lower-cased namespace.
    #[serde(default)]
    pub registrations: BTreeMap<String, Registration>,
}

/// One provider's registration in the subscription.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Registration {
    /// `Registered`, `NotRegistered`, `Registering`, `Unregistering`, `Unregistered`.
    pub state: String,
    /// When a transition settles, if one is running.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub settles_at: Option<OffsetDateTime>,
    /// The state it settles to.
    #[serde(default)]
    pub settles_to: Option<String>,
}

/// How long registering takes at speed 1 (75 s in the recording).
pub const REGISTER_SECONDS: f64 = 75.0;
/// How long unregistering takes at speed 1 (10 s in the recording).
pub const UNREGISTER_SECONDS: f64 = 10.0;

impl ProvidersState {
    /// Providers as a new subscription has them.
    pub fn new(_now: OffsetDateTime) -> Self {
        ProvidersState {
            registrations: CATALOG
                .iter()
                .map(|p| {
                    (
                        p.namespace.to_ascii_lowercase(),
                        Registration {
                            state: p.initial_state.to_owned(),
                            settles_at: None,
                            settles_to: None,
                        },
                    )
                })
                .collect(),
        }
    }

    /// The registration state of a namespace (`NotRegistered` when unknown).
    pub fn state_of(&self, namespace: &str) -> &str {
        if let Some(r) = self.registrations.get(&namespace.to_ascii_lowercase()) {
            return &r.state;
        }
        provider(namespace).map_or("NotRegistered", |p| p.initial_state)
    }

    /// True when resources of the namespace can be created.
    pub fn is_registered(&self, namespace: &str) -> bool {
        self.state_of(namespace) == "Registered"
    }

    /// Starts registering (or unregistering) a namespace at `now`; it settles after
    /// [`REGISTER_SECONDS`] (or [`UNREGISTER_SECONDS`]) divided by `speed`.
    pub fn begin(&mut self, namespace: &str, register: bool, now: OffsetDateTime, speed: f64) {
        let Some(p) = provider(namespace) else {
            return;
        };
        let entry = self
            .registrations
            .entry(p.namespace.to_ascii_lowercase())
            .or_insert_with(|| Registration {
                state: p.initial_state.to_owned(),
                settles_at: None,
                settles_to: None,
            });
        let (target, during, secs) = if register {
            ("Registered", "Registering", REGISTER_SECONDS)
        } else {
            ("Unregistered", "Unregistering", UNREGISTER_SECONDS)
        };
        if entry.state == target && entry.settles_at.is_none() {
            return;
        }
        if register && p.registration_policy == "RegistrationFree" {
            *entry = Registration {
                state: target.into(),
                settles_at: None,
                settles_to: None,
            };
            return;
        }
        let ms = (secs * 1000.0 / speed.max(0.001)) as i64;
        *entry = Registration {
            state: during.into(),
            settles_at: Some(now + time::Duration::milliseconds(ms)),
            settles_to: Some(target.into()),
        };
    }
}

/// Settles registrations due by `now`.
pub fn advance(state: &mut crate::state::SimState, now: OffsetDateTime) {
    for r in state.providers.registrations.values_mut() {
        if r.settles_at.is_some_and(|t| t <= now)
            && let Some(to) = r.settles_to.take()
        {
            r.state = to;
            r.settles_at = None;
        }
    }
}

/// The JSON ARM returns for a provider.
pub fn provider_json(subscription_id: &str, p: &ProviderInfo, state: &str) -> Json {
    let locations: Vec<&str> = directory::physical_regions()
        .map(|r| r.display_name)
        .collect();
    let types: Vec<Json> = p
        .resource_types
        .iter()
        .map(|t| {
            let mut o = serde_json::Map::new();
            o.insert("resourceType".into(), json!(t.resource_type));
            o.insert(
                "locations".into(),
                if t.regional {
                    json!(locations)
                } else {
                    json!([])
                },
            );
            o.insert("apiVersions".into(), json!(t.api_versions));
            if let Some(d) = t.default_api_version {
                o.insert("defaultApiVersion".into(), json!(d));
            }
            o.insert("capabilities".into(), json!(t.capabilities));
            Json::Object(o)
        })
        .collect();
    json!({
        "id": format!("/subscriptions/{subscription_id}/providers/{}", p.namespace),
        "namespace": p.namespace,
        "resourceTypes": types,
        "registrationState": state,
        "registrationPolicy": p.registration_policy,
    })
}

/// ARM's `404 InvalidResourceNamespace`.
fn invalid_namespace(namespace: &str) -> Response {
    arm_error(
        StatusCode::NOT_FOUND,
        "InvalidResourceNamespace",
        format!("The resource namespace '{namespace}' is invalid."),
    )
}

/// `GET /subscriptions/{sub}/providers`.
pub(crate) fn list(sim: &Sim, _req: &ArmRequest, _sub: &str) -> Response {
    let st = sim.lock_state();
    let sub = &st.identity.subscription_id;
    let value: Vec<Json> = CATALOG
        .iter()
        .map(|p| provider_json(sub, p, st.providers.state_of(p.namespace)))
        .collect();
    json_response(StatusCode::OK, json!({ "value": value }))
}

/// `GET /subscriptions/{sub}/providers/{namespace}`.
pub(crate) fn get(sim: &Sim, _req: &ArmRequest, _sub: &str, namespace: &str) -> Response {
    let Some(p) = provider(namespace) else {
        return invalid_namespace(namespace);
    };
    let st = sim.lock_state();
    let body = provider_json(
        &st.identity.subscription_id,
        p,
        st.providers.state_of(namespace),
    );
    json_response(StatusCode::OK, body)
}

/// `POST /subscriptions/{sub}/providers/{namespace}/register` (or `/unregister`): `200` with
/// the provider in its transitional state, as Azure answers.
pub(crate) fn register(
    sim: &Sim,
    _req: &ArmRequest,
    _sub: &str,
    namespace: &str,
    register: bool,
) -> Response {
    let Some(p) = provider(namespace) else {
        return invalid_namespace(namespace);
    };
    let now = sim.now();
    let mut st = sim.lock_state();
    st.providers
        .begin(p.namespace, register, now, sim.options.speed);
    let body = provider_json(
        &st.identity.subscription_id,
        p,
        st.providers.state_of(p.namespace),
    );
    sim.persist(&st);
    json_response(StatusCode::OK, body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn a_new_subscription_needs_aks_and_mysql_registered() {
        let p = ProvidersState::new(datetime!(2026-01-01 0:00 UTC));
        assert!(!p.is_registered("Microsoft.ContainerService"));
        assert!(!p.is_registered("microsoft.dbformysql"));
        assert!(p.is_registered("Microsoft.Storage"));
    }

    #[test]
    fn registration_settles_after_its_duration() {
        let t = datetime!(2026-01-01 0:00 UTC);
        let mut p = ProvidersState::new(t);
        p.begin("Microsoft.ContainerService", true, t, 1.0);
        assert_eq!(p.state_of("Microsoft.ContainerService"), "Registering");
        let mut s = crate::state::SimState::new(&crate::Identity::default(), t);
        s.providers = p;
        advance(&mut s, t + time::Duration::seconds(74));
        assert_eq!(
            s.providers.state_of("Microsoft.ContainerService"),
            "Registering"
        );
        advance(&mut s, t + time::Duration::seconds(75));
        assert_eq!(
            s.providers.state_of("Microsoft.ContainerService"),
            "Registered"
        );
    }

    #[test]
    fn catalog_namespaces_are_unique_and_resolvable() {
        for p in catalog() {
            assert_eq!(provider(&p.namespace.to_ascii_uppercase()), Some(p));
        }
        assert!(resource_type("microsoft.keyvault", "VAULTS").is_some());
        assert!(is_known_namespace("Microsoft.Web"));
        assert!(!is_known_namespace("Contoso.Widgets"));
    }
}
