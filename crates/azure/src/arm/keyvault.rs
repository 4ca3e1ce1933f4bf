//! Soft-deleted Key Vaults: list, get and purge.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::{Arm, KEYVAULT_API, Page};
use crate::error::Error;
use crate::poll::Poller;
use crate::transport::ArmRequest;
use azure_core::http::Method;

/// A soft-deleted Key Vault.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletedVault {
    /// Its ID.
    #[serde(default)]
    pub id: String,
    /// The vault's name.
    #[serde(default)]
    pub name: String,
    /// `Microsoft.KeyVault/deletedVaults`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// `vaultId`, `location`, `deletionDate`, `scheduledPurgeDate`, `purgeProtectionEnabled`,
    /// as sent.
    #[serde(default)]
    pub properties: Json,
}

impl DeletedVault {
    /// The region it was in.
    pub fn location(&self) -> Option<&str> {
        self.properties.get("location").and_then(Json::as_str)
    }

    /// Whether purge protection is on.
    pub fn purge_protected(&self) -> bool {
        self.properties
            .get("purgeProtectionEnabled")
            .and_then(Json::as_bool)
            .unwrap_or(false)
    }
}

/// `GET .../Microsoft.KeyVault/deletedVaults`.
pub type DeletedVaultListResponse = Page<DeletedVault>;

impl Arm<'_> {
    /// Lists a subscription's soft-deleted Key Vaults.
    pub async fn list_deleted_vaults(
        &self,
        subscription_id: &str,
    ) -> Result<Vec<DeletedVault>, Error> {
        let path =
            format!("/subscriptions/{subscription_id}/providers/Microsoft.KeyVault/deletedVaults");
        self.list_all(&path, KEYVAULT_API).await
    }

    /// Gets a soft-deleted Key Vault.
    pub async fn get_deleted_vault(
        &self,
        subscription_id: &str,
        location: &str,
        name: &str,
    ) -> Result<DeletedVault, Error> {
        self.client()
            .get_json(
                &deleted_vault_path(subscription_id, location, name),
                KEYVAULT_API,
            )
            .await
    }

    /// Purges a soft-deleted Key Vault; the poller follows the 202's `Location`.
    pub async fn begin_purge_deleted_vault(
        &self,
        subscription_id: &str,
        location: &str,
        name: &str,
    ) -> Result<Poller, Error> {
        let path = format!(
            "{}/purge",
            deleted_vault_path(subscription_id, location, name)
        );
        let url = self.client().url(&path, KEYVAULT_API)?;
        self.client()
            .begin(ArmRequest::new(Method::Post, url).idempotent())
            .await
    }
}

fn deleted_vault_path(subscription_id: &str, location: &str, name: &str) -> String {
    format!(
        "/subscriptions/{subscription_id}/providers/Microsoft.KeyVault/locations/{location}/deletedVaults/{name}"
    )
}
