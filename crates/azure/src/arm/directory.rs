//! Subscriptions, tenants and locations (`Microsoft.Resources/subscriptions`, 2022-12-01).

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::{Arm, Page, SUBSCRIPTIONS_API};
use crate::error::Error;

/// A subscription.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    /// `/subscriptions/{id}`.
    #[serde(default)]
    pub id: String,
    /// The subscription GUID.
    #[serde(default)]
    pub subscription_id: String,
    /// The tenant that owns it.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Its display name.
    #[serde(default)]
    pub display_name: String,
    /// `Enabled`, `Warned`, `PastDue`, `Disabled`, `Deleted`.
    #[serde(default)]
    pub state: String,
    /// Policies (quota IDs, spending limit), as sent.
    #[serde(default)]
    pub subscription_policies: Json,
    /// How access is granted (`RoleBased`...).
    #[serde(default)]
    pub authorization_source: Option<String>,
    /// Tenants that manage it (Lighthouse), as sent.
    #[serde(default)]
    pub managed_by_tenants: Json,
    /// Tags.
    #[serde(default)]
    pub tags: Json,
}

/// `GET /subscriptions`.
pub type SubscriptionListResponse = Page<Subscription>;

/// A tenant the caller can reach.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tenant {
    /// `/tenants/{id}`.
    #[serde(default)]
    pub id: String,
    /// The tenant GUID.
    #[serde(default)]
    pub tenant_id: String,
    /// `Home`, `ProjectedBy` or `ManagedBy`.
    #[serde(default)]
    pub tenant_category: Option<String>,
    /// Its display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Its verified domains.
    #[serde(default)]
    pub domains: Vec<String>,
    /// Its default domain.
    #[serde(default)]
    pub default_domain: Option<String>,
    /// Country code.
    #[serde(default)]
    pub country_code: Option<String>,
    /// `AAD`, `AADB2C`...
    #[serde(default)]
    pub tenant_type: Option<String>,
}

/// `GET /tenants`.
pub type TenantListResponse = Page<Tenant>;

/// A region.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    /// Its ID.
    #[serde(default)]
    pub id: String,
    /// The name used in requests (`eastus`).
    #[serde(default)]
    pub name: String,
    /// `Region` or `EdgeZone`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// Its display name (`East US`).
    #[serde(default)]
    pub display_name: String,
    /// Its regional display name.
    #[serde(default)]
    pub regional_display_name: Option<String>,
    /// Category, geography, pairs, coordinates, as sent.
    #[serde(default)]
    pub metadata: Json,
    /// Availability zone mappings, as sent.
    #[serde(default)]
    pub availability_zone_mappings: Json,
}

/// `GET /subscriptions/{id}/locations`.
pub type LocationListResponse = Page<Location>;

impl Arm<'_> {
    /// Lists the subscriptions the caller can see.
    pub async fn list_subscriptions(&self) -> Result<Vec<Subscription>, Error> {
        self.list_all("/subscriptions", SUBSCRIPTIONS_API).await
    }

    /// Gets one subscription.
    pub async fn get_subscription(&self, subscription_id: &str) -> Result<Subscription, Error> {
        self.client()
            .get_json(
                &format!("/subscriptions/{subscription_id}"),
                SUBSCRIPTIONS_API,
            )
            .await
    }

    /// Lists the tenants the caller belongs to (home and guest).
    pub async fn list_tenants(&self) -> Result<Vec<Tenant>, Error> {
        self.list_all("/tenants", SUBSCRIPTIONS_API).await
    }

    /// Lists a subscription's locations.
    pub async fn list_locations(&self, subscription_id: &str) -> Result<Vec<Location>, Error> {
        self.list_all(
            &format!("/subscriptions/{subscription_id}/locations"),
            SUBSCRIPTIONS_API,
        )
        .await
    }
}
