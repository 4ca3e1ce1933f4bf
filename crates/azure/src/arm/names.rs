//! Name availability for storage accounts, Key Vaults and MySQL flexible servers.

use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};

use super::{Arm, KEYVAULT_API, MYSQL_API, STORAGE_API};
use crate::error::Error;
use crate::transport::ArmRequest;
use azure_core::http::Method;

/// A `checkNameAvailability` answer.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NameAvailability {
    /// Whether the name can be used.
    #[serde(default)]
    pub name_available: bool,
    /// `AccountNameInvalid`, `AlreadyExists`...
    #[serde(default)]
    pub reason: Option<String>,
    /// Azure's explanation.
    #[serde(default)]
    pub message: Option<String>,
}

impl Arm<'_> {
    async fn check_name(
        &self,
        path: &str,
        api: &str,
        body: Json,
    ) -> Result<NameAvailability, Error> {
        let url = self.client().url(path, api)?;
        self.client()
            .send(ArmRequest::new(Method::Post, url).json(body).idempotent())
            .await?
            .json()
    }

    /// Whether a storage account name is free.
    pub async fn check_storage_name(
        &self,
        subscription_id: &str,
        name: &str,
    ) -> Result<NameAvailability, Error> {
        self.check_name(
            &format!(
                "/subscriptions/{subscription_id}/providers/Microsoft.Storage/checkNameAvailability"
            ),
            STORAGE_API,
            json!({"name": name, "type": "Microsoft.Storage/storageAccounts"}),
        )
        .await
    }

    /// Whether a Key Vault name is free.
    pub async fn check_key_vault_name(
        &self,
        subscription_id: &str,
        name: &str,
    ) -> Result<NameAvailability, Error> {
        self.check_name(
            &format!("/subscriptions/{subscription_id}/providers/Microsoft.KeyVault/checkNameAvailability"),
            KEYVAULT_API,
            json!({"name": name, "type": "Microsoft.KeyVault/vaults"}),
        )
        .await
    }

    /// Whether a MySQL flexible server name is free (in `location`, when given).
    pub async fn check_mysql_name(
        &self,
        subscription_id: &str,
        location: Option<&str>,
        name: &str,
    ) -> Result<NameAvailability, Error> {
        let base = format!("/subscriptions/{subscription_id}/providers/Microsoft.DBforMySQL");
        let path = match location {
            Some(l) => format!("{base}/locations/{l}/checkNameAvailability"),
            None => format!("{base}/checkNameAvailability"),
        };
        self.check_name(
            &path,
            MYSQL_API,
            json!({"name": name, "type": "Microsoft.DBforMySQL/flexibleServers"}),
        )
        .await
    }
}
