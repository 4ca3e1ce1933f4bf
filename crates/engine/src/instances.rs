//! Instances: the ones this machine's journal recorded, merged with the ones found in a
//! subscription by their `landfall-instance` tag, so an instance deployed from another machine
//! (or whose journal was lost) can still be found, inspected and torn down.
//!
//! Azure side: resource groups carrying the tag, plus groups holding tagged resources (a group
//! whose own tags were edited away still shows up through its resources). One instance is one
//! name, subscription and resource group (compared case-insensitively, as Azure does for
//! groups).

use std::collections::BTreeMap;

use landfall_azure::arm::Arm;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::error::EngineError;
use crate::installer::Installer;
use crate::journal::InstanceState;
use crate::render::{TAG_INSTANCE, TAG_VERSION};

/// Where an instance was seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub enum InstanceSource {
    /// Only in this machine's journal (its group is gone, or in another subscription).
    Journal,
    /// Only in the subscription, by its tags.
    Azure,
    /// In both.
    Both,
}

/// One instance, as the instances screen shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct InstanceView {
    /// The instance's name.
    pub name: String,
    /// Subscription ID.
    pub subscription_id: String,
    /// Resource group.
    pub resource_group: String,
    /// Region (the group's, when only Azure knows it).
    pub location: String,
    /// The template version deployed (the `landfall-version` tag when only Azure knows it).
    pub version: String,
    /// Where the journal has it; `None` when only Azure knows it.
    pub state: Option<InstanceState>,
    /// Where it was seen.
    pub source: InstanceSource,
    /// The last run that touched it, when the journal has one.
    pub last_run_id: Option<String>,
}

type Key = (String, String, String);

fn key(name: &str, subscription_id: &str, group: &str) -> Key {
    (
        name.to_owned(),
        subscription_id.to_ascii_lowercase(),
        group.to_ascii_lowercase(),
    )
}

fn tag<'a>(tags: &'a Json, name: &str) -> Option<&'a str> {
    tags.get(name)
        .and_then(Json::as_str)
        .filter(|v| !v.is_empty())
}

/// Every instance of the journal, plus those found in `subscription_id` by tag. Instances of
/// other subscriptions come from the journal only.
pub async fn discover(
    installer: &Installer,
    subscription_id: &str,
) -> Result<Vec<InstanceView>, EngineError> {
    let mut views: BTreeMap<Key, InstanceView> = BTreeMap::new();
    for r in installer.journal().instances()? {
        views.insert(
            key(&r.name, &r.subscription_id, &r.resource_group),
            InstanceView {
                name: r.name,
                subscription_id: r.subscription_id,
                resource_group: r.resource_group,
                location: r.location,
                version: r.manifest_version,
                state: Some(r.state),
                source: InstanceSource::Journal,
                last_run_id: r.last_run_id,
            },
        );
    }
    let arm = Arm::new(installer.client());
    let groups = arm
        .list_resource_groups(subscription_id, Some((TAG_INSTANCE, None)))
        .await?;
    let mut found: BTreeMap<Key, InstanceView> = BTreeMap::new();
    for g in groups {
        let Some(name) = tag(&g.tags, TAG_INSTANCE) else {
            continue;
        };
        found.insert(
            key(name, subscription_id, &g.name),
            InstanceView {
                name: name.to_owned(),
                subscription_id: subscription_id.to_owned(),
                resource_group: g.name.clone(),
                location: g.location.clone(),
                version: tag(&g.tags, TAG_VERSION).unwrap_or_default().to_owned(),
                state: None,
                source: InstanceSource::Azure,
                last_run_id: None,
            },
        );
    }
    for r in arm
        .list_resources_by_tag(subscription_id, TAG_INSTANCE, None)
        .await?
    {
        let (Some(name), Some(group)) = (tag(&r.tags, TAG_INSTANCE), group_of(&r.id)) else {
            continue;
        };
        found
            .entry(key(name, subscription_id, group))
            .or_insert_with(|| InstanceView {
                name: name.to_owned(),
                subscription_id: subscription_id.to_owned(),
                resource_group: group.to_owned(),
                location: r.location.clone().unwrap_or_default(),
                version: tag(&r.tags, TAG_VERSION).unwrap_or_default().to_owned(),
                state: None,
                source: InstanceSource::Azure,
                last_run_id: None,
            });
    }
    for (k, azure) in found {
        match views.get_mut(&k) {
            Some(known) => known.source = InstanceSource::Both,
            None => {
                views.insert(k, azure);
            }
        }
    }
    Ok(views.into_values().collect())
}

/// The resource group segment of a resource ID.
fn group_of(id: &str) -> Option<&str> {
    let mut parts = id.split('/');
    while let Some(p) = parts.next() {
        if p.eq_ignore_ascii_case("resourceGroups") {
            return parts.next().filter(|g| !g.is_empty());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_of_reads_the_group_segment_in_any_case() {
        assert_eq!(
            group_of("/subscriptions/s/resourceGroups/rg-a/providers/X/y/z"),
            Some("rg-a")
        );
        assert_eq!(group_of("/subscriptions/s/resourcegroups/RG"), Some("RG"));
        assert_eq!(group_of("/subscriptions/s/providers/X/y/z"), None);
    }
}
