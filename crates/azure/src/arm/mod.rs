//! Typed Resource Manager calls for what the engine needs, as methods on [`Arm`], a facade over
//! an [`ArmClient`].
//!
//! Areas: [`directory`] (subscriptions, tenants, locations), [`resources`] (providers, resource
//! groups, generic resources), [`deployments`] (template deployments at resource-group and
//! subscription scope), [`compute`] (usages and SKUs), [`mysql`] (capabilities), [`names`]
//! (name availability), [`keyvault`] (deleted vaults and purge) and [`authorization`] (the
//! caller's permissions and [`authorization::can`]). DTOs read camelCase JSON, tolerate unknown fields and keep raw JSON
//! where Azure's shapes vary; list calls follow `nextLink` to the last page.

pub mod authorization;
pub mod compute;
pub mod deployments;
pub mod directory;
pub mod keyvault;
pub mod mysql;
pub mod names;
pub mod resources;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value as Json;

use crate::error::Error;
use crate::transport::ArmClient;

pub use authorization::{Permission, PermissionListResponse, can};
pub use compute::{LocalizedName, ResourceSku, ResourceSkuListResponse, Usage, UsageListResponse};
pub use deployments::{
    Deployment, DeploymentListResponse, DeploymentOperation, DeploymentOperationListResponse,
    DeploymentProperties, DeploymentScope, DeploymentValidateResponse, NestedOperation,
    TargetResource, Validation, WhatIfChange, WhatIfResponse,
};
pub use directory::{
    Location, LocationListResponse, Subscription, SubscriptionListResponse, Tenant,
    TenantListResponse,
};
pub use keyvault::{DeletedVault, DeletedVaultListResponse};
pub use mysql::{MySqlCapability, MySqlCapabilityListResponse};
pub use names::NameAvailability;
pub use resources::{
    GenericResource, GenericResourceListResponse, Provider, ProviderListResponse,
    ProviderResourceType, ResourceGroup, ResourceGroupListResponse,
};

/// API version for subscriptions, tenants and locations.
pub const SUBSCRIPTIONS_API: &str = "2022-12-01";
/// API version for providers, resource groups, resources and deployments.
pub const RESOURCES_API: &str = "2024-03-01";
/// API version for compute usages.
pub const COMPUTE_API: &str = "2024-03-01";
/// API version for resource SKUs.
pub const SKUS_API: &str = "2021-07-01";
/// API version for MySQL flexible servers.
pub const MYSQL_API: &str = "2023-12-30";
/// API version for storage name availability.
pub const STORAGE_API: &str = "2023-05-01";
/// API version for Key Vault.
pub const KEYVAULT_API: &str = "2023-07-01";
/// API version for Microsoft.Authorization permissions.
pub const AUTHORIZATION_API: &str = "2022-04-01";

/// One page of an ARM list: `{value, nextLink}`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    /// The items on this page.
    #[serde(default = "Vec::new")]
    pub value: Vec<T>,
    /// The next page's URL, if any.
    #[serde(default)]
    pub next_link: Option<String>,
}

/// The typed ARM calls, over a borrowed [`ArmClient`].
#[derive(Clone, Copy, Debug)]
pub struct Arm<'a> {
    client: &'a ArmClient,
}

impl<'a> Arm<'a> {
    /// A facade over `client`.
    pub fn new(client: &'a ArmClient) -> Self {
        Arm { client }
    }

    /// The underlying client.
    pub fn client(&self) -> &'a ArmClient {
        self.client
    }

    /// GETs `path` and every `nextLink` page after it, returning all items.
    pub async fn list_all<T: DeserializeOwned>(
        &self,
        path: &str,
        api_version: &str,
    ) -> Result<Vec<T>, Error> {
        let mut items = Vec::new();
        let mut next = Some(path.to_owned());
        // A page limit guards against a service that keeps linking to itself.
        let mut pages = 0u32;
        while let Some(link) = next.take() {
            pages += 1;
            if pages > 10_000 {
                return Err(Error::Protocol {
                    message: format!("{path}: more than 10000 pages of nextLink"),
                });
            }
            let page: Page<T> = self.client.get_json(&link, api_version).await?;
            items.extend(page.value);
            next = page.next_link.filter(|l| !l.is_empty());
        }
        Ok(items)
    }
}

/// Percent-encodes a query value (for `$filter`).
pub(crate) fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// Reads a JSON value as `T`, naming `what` on failure.
pub(crate) fn from_json<T: DeserializeOwned>(what: &str, value: Json) -> Result<T, Error> {
    serde_json::from_value(value).map_err(|e| Error::decode(what, &e))
}
