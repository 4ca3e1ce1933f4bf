//! Where an instance goes.

use serde::{Deserialize, Serialize};

/// The subscription and resource group an instance is deployed to. The region and the
/// instance name are inputs (`location`, `name`), validated with the others.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    /// Subscription ID.
    pub subscription_id: String,
    /// Tenant ID (for the deployment context; empty when unknown).
    #[serde(default)]
    pub tenant_id: String,
    /// Resource group; `None` takes the manifest's derived `resourceGroup` name.
    #[serde(default)]
    pub resource_group: Option<String>,
}
