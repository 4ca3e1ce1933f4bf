//! MySQL flexible server capabilities in a region.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::{Arm, MYSQL_API, Page};
use crate::error::Error;

/// MySQL flexible server capabilities in a region (shapes vary by API version: kept raw).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MySqlCapability {
    /// The zone, if per zone.
    #[serde(default)]
    pub zone: Option<String>,
    /// Supported HA modes (`supportedHAMode` on the wire, not the camel case of the name).
    #[serde(default, rename = "supportedHAMode", alias = "supportedHaMode")]
    pub supported_ha_mode: Vec<String>,
    /// Supported geo-backup options.
    #[serde(default)]
    pub supported_geo_backup_regions: Vec<String>,
    /// Editions with their SKUs and storage, as sent.
    #[serde(default)]
    pub supported_flexible_server_editions: Json,
    /// Server versions, as sent.
    #[serde(default)]
    pub supported_server_versions: Json,
}

/// `GET .../Microsoft.DBforMySQL/locations/{l}/capabilities`.
pub type MySqlCapabilityListResponse = Page<MySqlCapability>;

impl Arm<'_> {
    /// Lists MySQL flexible server capabilities in a region.
    pub async fn list_mysql_capabilities(
        &self,
        subscription_id: &str,
        location: &str,
    ) -> Result<Vec<MySqlCapability>, Error> {
        let path = format!(
            "/subscriptions/{subscription_id}/providers/Microsoft.DBforMySQL/locations/{location}/capabilities"
        );
        self.list_all(&path, MYSQL_API).await
    }
}
