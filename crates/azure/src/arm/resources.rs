//! Providers (get, list, register and wait), resource groups and generic resources
//! (`Microsoft.Resources`, 2024-03-01).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};

use super::{Arm, Page, RESOURCES_API, encode};
use crate::error::Error;
use crate::poll::Poller;
use crate::transport::{ArmRequest, display_url};
use azure_core::http::Method;

/// A resource provider and its registration state.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Provider {
    /// Its ID.
    #[serde(default)]
    pub id: Option<String>,
    /// `Microsoft.Compute`...
    #[serde(default)]
    pub namespace: String,
    /// `Registered`, `NotRegistered`, `Registering`, `Unregistering`...
    #[serde(default)]
    pub registration_state: String,
    /// `RegistrationRequired`...
    #[serde(default)]
    pub registration_policy: Option<String>,
    /// Its resource types.
    #[serde(default)]
    pub resource_types: Vec<ProviderResourceType>,
}

impl Provider {
    /// Whether the provider is registered (any case).
    pub fn is_registered(&self) -> bool {
        self.registration_state.eq_ignore_ascii_case("Registered")
    }
}

/// One resource type of a provider.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderResourceType {
    /// `virtualMachines`...
    #[serde(default)]
    pub resource_type: String,
    /// Regions it is offered in (display names).
    #[serde(default)]
    pub locations: Vec<String>,
    /// API versions, newest first.
    #[serde(default)]
    pub api_versions: Vec<String>,
    /// Capabilities (`SupportsTags, SupportsLocation`...).
    #[serde(default)]
    pub capabilities: Option<String>,
}

/// `GET /subscriptions/{id}/providers`.
pub type ProviderListResponse = Page<Provider>;

/// A resource group.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceGroup {
    /// Its ID.
    #[serde(default)]
    pub id: String,
    /// Its name.
    #[serde(default)]
    pub name: String,
    /// Its region.
    #[serde(default)]
    pub location: String,
    /// Who manages it, if anyone.
    #[serde(default)]
    pub managed_by: Option<String>,
    /// Tags, as sent.
    #[serde(default)]
    pub tags: Json,
    /// `provisioningState`, as sent.
    #[serde(default)]
    pub properties: Json,
}

impl ResourceGroup {
    /// `properties.provisioningState`, if present.
    pub fn provisioning_state(&self) -> Option<&str> {
        self.properties
            .get("provisioningState")
            .and_then(Json::as_str)
    }
}

/// `GET /subscriptions/{id}/resourcegroups`.
pub type ResourceGroupListResponse = Page<ResourceGroup>;

/// A resource of any type, as listed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenericResource {
    /// Its ID.
    #[serde(default)]
    pub id: String,
    /// Its name.
    #[serde(default)]
    pub name: String,
    /// `Microsoft.Storage/storageAccounts`...
    #[serde(default, rename = "type")]
    pub kind: String,
    /// Its region.
    #[serde(default)]
    pub location: Option<String>,
    /// `kind` (for storage, `StorageV2`...).
    #[serde(default, rename = "kind")]
    pub resource_kind: Option<String>,
    /// Tags, as sent.
    #[serde(default)]
    pub tags: Json,
    /// SKU, as sent.
    #[serde(default)]
    pub sku: Json,
    /// Properties (only with `$expand`), as sent.
    #[serde(default)]
    pub properties: Json,
}

/// `GET .../resources`.
pub type GenericResourceListResponse = Page<GenericResource>;

fn tag_filter(name: &str, value: Option<&str>) -> String {
    let n = name.replace('\'', "''");
    let f = match value {
        Some(v) => format!(
            "tagName eq '{n}' and tagValue eq '{}'",
            v.replace('\'', "''")
        ),
        None => format!("tagName eq '{n}'"),
    };
    encode(&f)
}

impl Arm<'_> {
    /// Gets a provider in a subscription.
    pub async fn get_provider(
        &self,
        subscription_id: &str,
        namespace: &str,
    ) -> Result<Provider, Error> {
        self.client()
            .get_json(
                &format!("/subscriptions/{subscription_id}/providers/{namespace}"),
                RESOURCES_API,
            )
            .await
    }

    /// Lists a subscription's providers.
    pub async fn list_providers(&self, subscription_id: &str) -> Result<Vec<Provider>, Error> {
        self.list_all(
            &format!("/subscriptions/{subscription_id}/providers"),
            RESOURCES_API,
        )
        .await
    }

    /// Asks for a provider to be registered; returns its state as ARM reports it.
    pub async fn register_provider(
        &self,
        subscription_id: &str,
        namespace: &str,
    ) -> Result<Provider, Error> {
        let path = format!("/subscriptions/{subscription_id}/providers/{namespace}/register");
        let url = self.client().url(&path, RESOURCES_API)?;
        self.client()
            .send(ArmRequest::new(Method::Post, url).idempotent())
            .await?
            .json()
    }

    /// Registers a provider and waits until it is `Registered`, polling with the client's
    /// poll rules (default delay, max wait) on its timer.
    pub async fn register_provider_and_wait(
        &self,
        subscription_id: &str,
        namespace: &str,
    ) -> Result<Provider, Error> {
        let timer = self.client().timer().clone();
        let options = self.client().poll_options().clone();
        let started = timer.now();
        let mut provider = self.register_provider(subscription_id, namespace).await?;
        while !provider.is_registered() {
            let now = timer.now();
            let waited = Duration::try_from(now - started).unwrap_or(Duration::ZERO);
            if waited >= options.max_wait {
                let path = format!("/subscriptions/{subscription_id}/providers/{namespace}");
                return Err(Error::Timeout {
                    url: display_url(&self.client().url(&path, RESOURCES_API)?),
                    waited,
                    last_status: provider.registration_state,
                });
            }
            timer
                .sleep(options.delay(None).min(options.max_wait - waited))
                .await;
            provider = self.get_provider(subscription_id, namespace).await?;
        }
        Ok(provider)
    }

    /// Creates or updates a resource group.
    pub async fn create_or_update_resource_group(
        &self,
        subscription_id: &str,
        name: &str,
        location: &str,
        tags: Option<&Json>,
    ) -> Result<ResourceGroup, Error> {
        let mut body = json!({ "location": location });
        if let Some(t) = tags {
            body["tags"] = t.clone();
        }
        self.client()
            .put(&group_path(subscription_id, name), RESOURCES_API, &body)
            .await?
            .json()
    }

    /// Gets a resource group.
    pub async fn get_resource_group(
        &self,
        subscription_id: &str,
        name: &str,
    ) -> Result<ResourceGroup, Error> {
        self.client()
            .get_json(&group_path(subscription_id, name), RESOURCES_API)
            .await
    }

    /// Whether a resource group exists (HEAD: 204 yes, 404 no).
    pub async fn resource_group_exists(
        &self,
        subscription_id: &str,
        name: &str,
    ) -> Result<bool, Error> {
        let url = self
            .client()
            .url(&group_path(subscription_id, name), RESOURCES_API)?;
        match self.client().send(ArmRequest::new(Method::Head, url)).await {
            Ok(_) => Ok(true),
            Err(Error::Http { status: 404, .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Deletes a resource group; the poller follows the 202's `Location` to the end.
    pub async fn begin_delete_resource_group(
        &self,
        subscription_id: &str,
        name: &str,
    ) -> Result<Poller, Error> {
        self.client()
            .begin_delete(&group_path(subscription_id, name), RESOURCES_API)
            .await
    }

    /// Lists resource groups, optionally only those with tag `name` (and `value`).
    pub async fn list_resource_groups(
        &self,
        subscription_id: &str,
        tag: Option<(&str, Option<&str>)>,
    ) -> Result<Vec<ResourceGroup>, Error> {
        let mut path = format!("/subscriptions/{subscription_id}/resourcegroups");
        if let Some((n, v)) = tag {
            path.push_str(&format!("?$filter={}", tag_filter(n, v)));
        }
        self.list_all(&path, RESOURCES_API).await
    }

    /// Lists the resources in a resource group.
    pub async fn list_resources_in_group(
        &self,
        subscription_id: &str,
        group: &str,
    ) -> Result<Vec<GenericResource>, Error> {
        let path = format!("{}/resources", group_path(subscription_id, group));
        self.list_all(&path, RESOURCES_API).await
    }

    /// Lists a subscription's resources with tag `name` (and `value`).
    pub async fn list_resources_by_tag(
        &self,
        subscription_id: &str,
        name: &str,
        value: Option<&str>,
    ) -> Result<Vec<GenericResource>, Error> {
        let path = format!(
            "/subscriptions/{subscription_id}/resources?$filter={}",
            tag_filter(name, value)
        );
        self.list_all(&path, RESOURCES_API).await
    }
}

/// `/subscriptions/{sub}/resourcegroups/{name}`.
pub(crate) fn group_path(subscription_id: &str, name: &str) -> String {
    format!("/subscriptions/{subscription_id}/resourcegroups/{name}")
}
