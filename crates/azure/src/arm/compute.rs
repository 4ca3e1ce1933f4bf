//! Compute usages (cores per VM family against their quota) and resource SKUs.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::{Arm, COMPUTE_API, Page, SKUS_API, encode};
use crate::error::Error;

/// A name with its localized form.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LocalizedName {
    /// The invariant name (`cores`, `standardDSv3Family`).
    #[serde(default)]
    pub value: String,
    /// The display name.
    #[serde(default)]
    pub localized_value: Option<String>,
}

/// One usage against a quota.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    /// Its name.
    #[serde(default)]
    pub name: LocalizedName,
    /// Used now.
    #[serde(default)]
    pub current_value: i64,
    /// The limit.
    #[serde(default)]
    pub limit: i64,
    /// `Count`...
    #[serde(default)]
    pub unit: Option<String>,
}

impl Usage {
    /// What is left under the limit.
    pub fn available(&self) -> i64 {
        self.limit - self.current_value
    }
}

/// `GET .../Microsoft.Compute/locations/{l}/usages`.
pub type UsageListResponse = Page<Usage>;

/// A compute resource SKU.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceSku {
    /// `virtualMachines`, `disks`...
    #[serde(default)]
    pub resource_type: String,
    /// `Standard_D2s_v3`...
    #[serde(default)]
    pub name: String,
    /// `Standard`...
    #[serde(default)]
    pub tier: Option<String>,
    /// `D2s_v3`...
    #[serde(default)]
    pub size: Option<String>,
    /// `standardDSv3Family`...
    #[serde(default)]
    pub family: Option<String>,
    /// Regions.
    #[serde(default)]
    pub locations: Vec<String>,
    /// Zones per region, as sent.
    #[serde(default)]
    pub location_info: Json,
    /// `{name, value}` capabilities, as sent.
    #[serde(default)]
    pub capabilities: Json,
    /// Restrictions (`NotAvailableForSubscription`...), as sent.
    #[serde(default)]
    pub restrictions: Json,
}

impl ResourceSku {
    /// A capability's value by name (any case).
    pub fn capability(&self, name: &str) -> Option<&str> {
        self.capabilities.as_array()?.iter().find_map(|c| {
            let n = c.get("name")?.as_str()?;
            if n.eq_ignore_ascii_case(name) {
                c.get("value")?.as_str()
            } else {
                None
            }
        })
    }
}

/// `GET .../Microsoft.Compute/skus`.
pub type ResourceSkuListResponse = Page<ResourceSku>;

impl Arm<'_> {
    /// Lists compute usages (cores per family) in a region.
    pub async fn list_compute_usages(
        &self,
        subscription_id: &str,
        location: &str,
    ) -> Result<Vec<Usage>, Error> {
        let path = format!(
            "/subscriptions/{subscription_id}/providers/Microsoft.Compute/locations/{location}/usages"
        );
        self.list_all(&path, COMPUTE_API).await
    }

    /// Lists compute resource SKUs, in one region when `location` is given.
    pub async fn list_resource_skus(
        &self,
        subscription_id: &str,
        location: Option<&str>,
    ) -> Result<Vec<ResourceSku>, Error> {
        let mut path = format!("/subscriptions/{subscription_id}/providers/Microsoft.Compute/skus");
        if let Some(l) = location {
            let f = format!("location eq '{}'", l.replace('\'', "''"));
            path.push_str(&format!("?$filter={}", encode(&f)));
        }
        self.list_all(&path, SKUS_API).await
    }
}
