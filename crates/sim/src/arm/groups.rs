//! Resource groups (create, get, update, list with tag filters, async delete) and the generic
//! resources inside them (get, list by group and by tag).
//!
//! [`GroupsState`] is also where deployments put the resources they create.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use time::OffsetDateTime;

use crate::Sim;

/// Resource groups and resources, keyed by lower-cased ID.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupsState {
    /// Resource groups.
    pub groups: BTreeMap<String, ResourceGroup>,
    /// Resources (any type, any scope), created by deployments.
    pub resources: BTreeMap<String, Resource>,
}

/// A resource group.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceGroup {
    /// `/subscriptions/{sub}/resourceGroups/{name}`.
    pub id: String,
    /// Name as created.
    pub name: String,
    /// Location.
    pub location: String,
    /// Tags.
    #[serde(default)]
    pub tags: serde_json::Map<String, Json>,
    /// `managedBy`.
    #[serde(default)]
    pub managed_by: Option<String>,
    /// `Succeeded`, or `Deleting` while an async delete runs.
    pub provisioning_state: String,
    /// When the delete started, if deleting.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub delete_started: Option<OffsetDateTime>,
}

/// A resource as ARM's generic resource API returns it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resource {
    /// Full ID.
    pub id: String,
    /// Name (`parent/child` for child resources, as in templates).
    pub name: String,
    /// Type (`Microsoft.Storage/storageAccounts`).
    #[serde(rename = "type")]
    pub resource_type: String,
    /// Location.
    #[serde(default)]
    pub location: Option<String>,
    /// Tags.
    #[serde(default)]
    pub tags: serde_json::Map<String, Json>,
    /// `sku`, `kind`, `identity`, `zones`, `plan`... as given.
    #[serde(default)]
    pub extra: serde_json::Map<String, Json>,
    /// Properties, including `provisioningState` and the values Azure computes (endpoints,
    /// FQDNs).
    pub properties: Json,
    /// API version it was created with.
    pub api_version: String,
    /// When it was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_time: OffsetDateTime,
    /// When it last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub changed_time: OffsetDateTime,
}

impl GroupsState {
    /// The resource group with this ID (case-insensitive).
    pub fn group(&self, id: &str) -> Option<&ResourceGroup> {
        self.groups.get(&id.to_ascii_lowercase())
    }

    /// The resource with this ID (case-insensitive).
    pub fn resource(&self, id: &str) -> Option<&Resource> {
        self.resources.get(&id.to_ascii_lowercase())
    }

    /// Creates or replaces a resource.
    pub fn put_resource(&mut self, r: Resource) {
        self.resources.insert(r.id.to_ascii_lowercase(), r);
    }

    /// Removes a resource and its children; returns how many were removed.
    pub fn remove_resource(&mut self, id: &str) -> usize {
        let key = id.to_ascii_lowercase();
        let prefix = format!("{key}/");
        let before = self.resources.len();
        self.resources
            .retain(|k, _| *k != key && !k.starts_with(&prefix));
        before - self.resources.len()
    }

    /// Resources inside a resource group (by its ID).
    pub fn resources_in(&self, group_id: &str) -> impl Iterator<Item = &Resource> {
        let prefix = format!("{}/", group_id.to_ascii_lowercase());
        self.resources
            .iter()
            .filter(move |(k, _)| k.starts_with(&prefix))
            .map(|(_, r)| r)
    }
}

/// The routes.
pub fn router() -> Router<Arc<Sim>> {
    Router::new()
}

/// Applies what is due by `now` (resource group deletions completing).
pub fn advance(_state: &mut crate::state::SimState, _now: OffsetDateTime) {}
