//! Expected durations per resource type: measured history when the journal has some,
//! typical Azure figures otherwise.

use std::collections::HashMap;

/// Seconds a resource type is expected to take.
#[derive(Clone, Debug, Default)]
pub struct Durations {
    history: HashMap<String, f64>,
    scale: Option<f64>,
}

impl Durations {
    /// Typical figures only.
    pub fn defaults() -> Self {
        Durations::default()
    }

    /// Typical figures overlaid with `history` (type -> median seconds).
    pub fn with_history(history: impl IntoIterator<Item = (String, f64)>) -> Self {
        Durations {
            scale: None,
            history: history
                .into_iter()
                .filter(|(_, s)| s.is_finite() && *s >= 0.0)
                .map(|(k, v)| (k.to_ascii_lowercase(), v))
                .collect(),
        }
    }

    /// Typical figures multiplied by `factor` (a simulated Azure running faster than the
    /// real one: 1 / its speed); measured history is already at the right pace.
    pub fn scaled(mut self, factor: f64) -> Self {
        self.scale = (factor.is_finite() && factor > 0.0).then_some(factor);
        self
    }

    /// Seconds `resource_type` is expected to take.
    pub fn expected(&self, resource_type: &str) -> f64 {
        let t = resource_type.to_ascii_lowercase();
        self.history
            .get(&t)
            .copied()
            .unwrap_or_else(|| typical(&t) * self.scale.unwrap_or(1.0))
    }
}

/// Typical provisioning times in Azure (seconds), from the platform team's past installs:
/// AKS clusters and MySQL flexible servers dominate an install.
fn typical(resource_type: &str) -> f64 {
    match resource_type {
        "microsoft.containerservice/managedclusters" => 600.0,
        "microsoft.containerservice/managedclusters/agentpools" => 240.0,
        "microsoft.dbformysql/flexibleservers" => 480.0,
        "microsoft.dbformysql/flexibleservers/databases" => 60.0,
        "microsoft.dbformysql/flexibleservers/configurations"
        | "microsoft.dbformysql/flexibleservers/firewallrules" => 20.0,
        "microsoft.keyvault/vaults" => 30.0,
        "microsoft.keyvault/vaults/secrets" => 5.0,
        "microsoft.storage/storageaccounts" => 25.0,
        "microsoft.storage/storageaccounts/blobservices"
        | "microsoft.storage/storageaccounts/blobservices/containers" => 5.0,
        "microsoft.containerregistry/registries" => 40.0,
        "microsoft.network/privatednszones"
        | "microsoft.network/privatednszones/virtualnetworklinks" => 30.0,
        "microsoft.network/privateendpoints" => 60.0,
        "microsoft.operationalinsights/workspaces" => 30.0,
        "microsoft.authorization/roleassignments" => 5.0,
        t if t.starts_with("microsoft.network/") => 10.0,
        _ => 15.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_overrides_typical_case_insensitively() {
        let d = Durations::with_history([("Microsoft.KeyVault/vaults".to_owned(), 12.5)]);
        assert_eq!(d.expected("microsoft.keyvault/VAULTS"), 12.5);
        assert_eq!(
            d.expected("Microsoft.ContainerService/managedClusters"),
            600.0
        );
        assert_eq!(d.expected("Microsoft.Network/networkSecurityGroups"), 10.0);
        assert_eq!(
            Durations::with_history([("x".to_owned(), f64::NAN)]).expected("x"),
            15.0
        );
    }
}
