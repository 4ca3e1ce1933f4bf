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

/// One of a provider's `authorizations`: the first-party application it grants a role.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProviderAuthorization {
    /// `applicationId`.
    pub application_id: &'static str,
    /// `roleDefinitionId`, when Azure lists one.
    pub role_definition_id: Option<&'static str>,
    /// `managedByRoleDefinitionId`, when Azure lists one.
    pub managed_by_role_definition_id: Option<&'static str>,
}

/// A table row of [`ProviderAuthorization`].
const fn auth(
    application_id: &'static str,
    role_definition_id: Option<&'static str>,
    managed_by_role_definition_id: Option<&'static str>,
) -> ProviderAuthorization {
    ProviderAuthorization {
        application_id,
        role_definition_id,
        managed_by_role_definition_id,
    }
}

/// The `authorizations` Azure lists for a provider (as recorded in the Java SDK's
/// `canUnregisterAndRegisterProvider`); empty for providers that list none.
pub fn authorizations(namespace: &str) -> &'static [ProviderAuthorization] {
    match namespace.to_ascii_lowercase().as_str() {
        "microsoft.authorization" => {
            const A: &[ProviderAuthorization] =
                &[auth("de926fbf-e23b-41f9-ae15-c943a9cfa630", None, None)];
            A
        }
        "microsoft.network" => {
            const A: &[ProviderAuthorization] = &[
                auth(
                    "2cf9eb86-36b5-49dc-86ae-9a63135dfa8c",
                    Some("13ba9ab4-19f0-4804-adc4-14ece36cc7a1"),
                    None,
                ),
                auth(
                    "7c33bfcb-8d33-48d6-8e60-dc6404003489",
                    Some("ad6261e4-fa9a-4642-aa5f-104f1b67e9e3"),
                    None,
                ),
                auth(
                    "1e3e4475-288f-4018-a376-df66fd7fac5f",
                    Some("1d538b69-3d87-4e56-8ff8-25786fd48261"),
                    None,
                ),
                auth(
                    "a0be0c72-870e-46f0-9c49-c98333a996f7",
                    Some("7ce22727-ffce-45a9-930c-ddb2e56fa131"),
                    None,
                ),
                auth(
                    "486c78bf-a0f7-45f1-92fd-37215929e116",
                    Some("98a9e526-0a60-4c1f-a33a-ae46e1f8dc0d"),
                    None,
                ),
                auth(
                    "19947cfd-0303-466c-ac3c-fcc19a7a1570",
                    Some("d813ab6c-bfb7-413e-9462-005b21f0ce09"),
                    None,
                ),
                auth(
                    "341b7f3d-69b3-47f9-9ce7-5b7f4945fdbd",
                    Some("8141843c-c51c-4c1e-a5bf-0d351594b86c"),
                    None,
                ),
                auth(
                    "328fd23b-de6e-462c-9433-e207470a5727",
                    Some("79e29e06-4056-41e5-a6b2-959f1f47747e"),
                    None,
                ),
                auth(
                    "6d057c82-a784-47ae-8d12-ca7b38cf06b4",
                    Some("c27dd31e-c1e5-4ab0-93e1-a12ba34f182e"),
                    None,
                ),
            ];
            A
        }
        "microsoft.storage" => {
            const A: &[ProviderAuthorization] = &[
                auth(
                    "a6aa9161-5291-40bb-8c5c-923b567bee3b",
                    Some("070ab87f-0efc-4423-b18b-756f3bdb0236"),
                    None,
                ),
                auth("e406a681-f3d4-42a8-90b6-c2b029497af1", None, None),
            ];
            A
        }
        "microsoft.keyvault" => {
            const A: &[ProviderAuthorization] = &[
                auth(
                    "cfa8b339-82a2-471a-a3c9-0fc0be7a4093",
                    Some("1cf9858a-28a2-4228-abba-94e606305b95"),
                    None,
                ),
                auth("589d5083-6f11-4d30-a62a-a4b316a14abf", None, None),
            ];
            A
        }
        "microsoft.dbformysql" => {
            const A: &[ProviderAuthorization] = &[
                auth(
                    "76cd24bf-a9fc-4344-b1dc-908275de6d6d",
                    Some("c13b7b9c-2ed1-4901-b8a8-16f35468da29"),
                    None,
                ),
                auth("123cd850-d9df-40bd-94d5-c9f07b7fa203", None, None),
            ];
            A
        }
        "microsoft.containerservice" => {
            const A: &[ProviderAuthorization] = &[
                auth(
                    "7319c514-987d-4e9b-ac3d-d38c4f427f4c",
                    Some("1b4a0c7f-2217-416f-acfa-cf73452fdc1c"),
                    Some("9e3af657-a8ff-583c-a75c-2fe7c4bcb635"),
                ),
                auth(
                    "6dae42f8-4368-4678-94ff-3960e28e3630",
                    Some("831388fc-33b1-4dd1-b64c-40fdcaf96654"),
                    None,
                ),
            ];
            A
        }
        "microsoft.containerregistry" => {
            const A: &[ProviderAuthorization] = &[
                auth(
                    "6a0ec4d3-30cb-4a83-91c0-ae56bc0e3d26",
                    Some("78e18383-93eb-418a-9887-bc9271046576"),
                    None,
                ),
                auth(
                    "737d58c1-397a-46e7-9d12-7d8c830883c2",
                    Some("716bb53a-0390-4428-bf41-b1bedde7d751"),
                    None,
                ),
                auth(
                    "918d0db8-4a38-4938-93c1-9313bdfe0272",
                    Some("dcd2d2c9-3f80-4d72-95a8-2593111b4b12"),
                    None,
                ),
                auth(
                    "d2fa1650-4805-4a83-bcb9-cf41fe63539c",
                    Some("c15f8dab-b103-4f8d-9afb-fbe4b8e98de2"),
                    None,
                ),
                auth(
                    "a4c95b9e-3994-40cc-8953-5dc66d48348d",
                    Some("dc88c655-90fa-48d9-8d51-003cc8738508"),
                    None,
                ),
                auth(
                    "62c559cd-db0c-4da0-bab2-972528c65d42",
                    Some("437b639a-6d74-491d-959f-d172e8c5c1fc"),
                    None,
                ),
            ];
            A
        }
        "microsoft.operationalinsights" => {
            const A: &[ProviderAuthorization] = &[
                auth(
                    "d2a0a418-0aac-4541-82b2-b3142c89da77",
                    Some("86695298-2eb9-48a7-9ec3-2fdb38b6878b"),
                    None,
                ),
                auth(
                    "ca7f3f0b-7d91-482c-8e09-c5d840d0eac5",
                    Some("5d5a2e56-9835-44aa-93db-d2f19e155438"),
                    None,
                ),
            ];
            A
        }
        "microsoft.compute" => {
            const A: &[ProviderAuthorization] = &[
                auth(
                    "60e6cd67-9c8c-4951-9b3c-23c25a2169af",
                    Some("e4770acb-272e-4dc8-87f3-12f44a612224"),
                    None,
                ),
                auth(
                    "a303894e-f1d8-4a37-bf10-67aa654a0596",
                    Some("903ac751-8ad5-4e5a-bfc2-5e49f450a241"),
                    None,
                ),
                auth(
                    "a8b6bf88-1d1a-4626-b040-9a729ea93c65",
                    Some("45c8267c-80ba-4b96-9a43-115b8f49fccd"),
                    None,
                ),
                auth(
                    "184909ca-69f1-4368-a6a7-c558ee6eb0bd",
                    Some("45c8267c-80ba-4b96-9a43-115b8f49fccd"),
                    None,
                ),
                auth(
                    "5e5e43d4-54da-4211-86a4-c6e7f3715801",
                    Some("ffcd6e5b-8772-457d-bb17-89703c03428f"),
                    None,
                ),
                auth(
                    "ce6ff14a-7fdc-4685-bbe0-f6afdfcfa8e0",
                    Some("cb17cddc-dbac-4ae0-ae79-8db34eddfca0"),
                    None,
                ),
                auth(
                    "372140e0-b3b7-4226-8ef9-d57986796201",
                    Some("cb17cddc-dbac-4ae0-ae79-8db34eddfca0"),
                    None,
                ),
                auth(
                    "b9a92e36-2cf8-4f4e-bcb3-9d99e00e14ab",
                    Some("6efa92ca-56b6-40af-a468-5e3d2b5232f0"),
                    None,
                ),
            ];
            A
        }
        "microsoft.insights" => {
            const A: &[ProviderAuthorization] = &[
                auth(
                    "6bccf540-eb86-4037-af03-7fa058c2db75",
                    Some("89dcede2-9219-403a-9723-d3c6473f9472"),
                    None,
                ),
                auth(
                    "11c174dc-1945-4a9a-a36b-c79a0f246b9b",
                    Some("dd9d4347-f397-45f2-b538-85f21c90037b"),
                    None,
                ),
                auth(
                    "035f9e1d-4f00-4419-bf50-bf2d87eb4878",
                    Some("323795fe-ba3d-4f5a-ad42-afb4e1ea9485"),
                    None,
                ),
                auth(
                    "f5c26e74-f226-4ae8-85f0-b4af0080ac9e",
                    Some("529d7ae6-e892-4d43-809d-8547aeb90643"),
                    None,
                ),
                auth(
                    "b503eb83-1222-4dcc-b116-b98ed5216e05",
                    Some("68699c37-c689-44d4-9248-494b782d46ae"),
                    None,
                ),
                auth(
                    "ca7f3f0b-7d91-482c-8e09-c5d840d0eac5",
                    Some("5d5a2e56-9835-44aa-93db-d2f19e155438"),
                    None,
                ),
                auth(
                    "3af5a1e8-2459-45cb-8683-bcd6cccbcc13",
                    Some("b1309299-720d-4159-9897-6158a61aee41"),
                    None,
                ),
                auth(
                    "6a0a243c-0886-468a-a4c2-eff52c7445da",
                    Some("d2eda64b-c5e6-4930-8642-2d80ecd7c2e2"),
                    None,
                ),
                auth(
                    "707be275-6b9d-4ee7-88f9-c0c2bd646e0f",
                    Some("fa027d90-6ba0-4c33-9a54-59edaf2327e7"),
                    None,
                ),
                auth(
                    "461e8683-5575-4561-ac7f-899cc907d62a",
                    Some("68699c37-c689-44d4-9248-494b782d46ae"),
                    None,
                ),
                auth(
                    "562db366-1b96-45d2-aa4a-f2148cef2240",
                    Some("4109c8be-c1c8-4be0-af52-9d3c76c140ab"),
                    None,
                ),
                auth(
                    "e933bd07-d2ee-4f1d-933c-3752b819567b",
                    Some("abbcfd44-e662-419a-9b5a-478f8e2f57c9"),
                    None,
                ),
                auth(
                    "f6b60513-f290-450e-a2f3-9930de61c5e7",
                    Some("4ef11659-08ac-48af-98a7-25fb6b1e1bc4"),
                    None,
                ),
            ];
            A
        }
        "microsoft.sql" => {
            const A: &[ProviderAuthorization] = &[
                auth(
                    "e4ab13ed-33cb-41b4-9140-6e264582cf85",
                    Some("ec3ddc95-44dc-47a2-9926-5e9f5ffd44ec"),
                    None,
                ),
                auth(
                    "0130cc9f-7ac5-4026-bd5f-80a08a54e6d9",
                    Some("45e8abf8-0ec4-44f3-9c37-cff4f7779302"),
                    None,
                ),
                auth(
                    "76cd24bf-a9fc-4344-b1dc-908275de6d6d",
                    Some("c13b7b9c-2ed1-4901-b8a8-16f35468da29"),
                    None,
                ),
                auth(
                    "76c7f279-7959-468f-8943-3954880e0d8c",
                    Some("7f7513a8-73f9-4c5f-97a2-c41f0ea783ef"),
                    None,
                ),
                auth("022907d3-0f1b-48f7-badc-1ba6abab6d66", None, None),
            ];
            A
        }
        "microsoft.dbforpostgresql" => {
            const A: &[ProviderAuthorization] = &[
                auth(
                    "76cd24bf-a9fc-4344-b1dc-908275de6d6d",
                    Some("c13b7b9c-2ed1-4901-b8a8-16f35468da29"),
                    None,
                ),
                auth(
                    "93efed00-6552-4119-833a-422b297199f9",
                    Some("a864a0a2-ab66-47a6-97a8-223dc1379f87"),
                    None,
                ),
                auth("123cd850-d9df-40bd-94d5-c9f07b7fa203", None, None),
            ];
            A
        }
        "microsoft.containerinstance" => {
            const A: &[ProviderAuthorization] = &[auth(
                "6bb8e274-af5d-4df2-98a3-4fd78b4cafd9",
                Some("3c60422b-a83a-428d-9830-22609c77aa6c"),
                None,
            )];
            A
        }
        _ => &[],
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
    let mut out = json!({
        "id": format!("/subscriptions/{subscription_id}/providers/{}", p.namespace),
        "namespace": p.namespace,
        "resourceTypes": types,
        "registrationState": state,
        "registrationPolicy": p.registration_policy,
    });
    let auths: Vec<Json> = authorizations(p.namespace)
        .iter()
        .map(|a| {
            let mut o = serde_json::Map::new();
            o.insert("applicationId".into(), json!(a.application_id));
            if let Some(r) = a.role_definition_id {
                o.insert("roleDefinitionId".into(), json!(r));
            }
            if let Some(r) = a.managed_by_role_definition_id {
                o.insert("managedByRoleDefinitionId".into(), json!(r));
            }
            Json::Object(o)
        })
        .collect();
    if !auths.is_empty()
        && let Some(m) = out.as_object_mut()
    {
        m.insert("authorizations".into(), Json::Array(auths));
    }
    out
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
