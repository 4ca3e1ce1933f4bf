//! Key Vault soft-delete: vaults deleted (alone or with their resource group) stay in
//! [`VaultsState`] until purged or until their scheduled purge date (90 days by default,
//! `softDeleteRetentionInDays` if set); their names stay taken meanwhile. Serves
//! `GET .../Microsoft.KeyVault/deletedVaults`, `GET .../locations/{loc}/deletedVaults/{name}`
//! and `POST .../purge` (`202` + `Location`, async), in the shapes of the 2023-07-01 spec
//! examples (`listDeletedVaults.json`, `purgeDeletedVault.json`).
//!
//! Data: [`VaultsState`] is filled by [`super::groups::delete_resource`] (a vault, or a group
//! holding one, is deleted) and read by [`super::names`] (names stay taken); [`advance`] drops
//! vaults whose purge completed or whose purge date passed. Refusals are ARM errors:
//! `ResourceNotFound` for a vault that is not there, `409` for purge protection.

use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;
use time::{Duration, OffsetDateTime};

use super::groups::Resource;
use super::request::ArmRequest;
use super::{directory, operations};
use crate::Sim;
use crate::http::{accepted_with_location, arm_error, json_response, rfc3339};

/// The Key Vault resource type.
pub const VAULT_TYPE: &str = "Microsoft.KeyVault/vaults";

/// How long a purge takes at speed 1.
const PURGE_SECONDS: f64 = 30.0;

/// Soft-deleted vaults, by lower-cased name (vault names are global).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VaultsState {
    /// Deleted vaults by lower-cased name.
    #[serde(default)]
    pub deleted: BTreeMap<String, DeletedVault>,
}

/// A soft-deleted vault.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletedVault {
    /// Vault name.
    pub name: String,
    /// Its location (`eastus`).
    pub location: String,
    /// The ID it had.
    pub vault_id: String,
    /// Its tags.
    #[serde(default)]
    pub tags: serde_json::Map<String, Json>,
    /// When it was deleted.
    #[serde(with = "time::serde::rfc3339")]
    pub deletion_date: OffsetDateTime,
    /// When Azure purges it by itself.
    #[serde(with = "time::serde::rfc3339")]
    pub scheduled_purge_date: OffsetDateTime,
    /// Purge protection (purging is refused until the scheduled date).
    #[serde(default)]
    pub purge_protection_enabled: bool,
    /// When a requested purge completes, if one is running.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub purge_completes: Option<OffsetDateTime>,
}

impl VaultsState {
    /// Soft-deletes a vault resource at `now` (called when a vault or its group is deleted).
    pub fn soft_delete(&mut self, vault: &Resource, now: OffsetDateTime) {
        let name = vault
            .id
            .rsplit('/')
            .next()
            .unwrap_or(&vault.name)
            .to_owned();
        let retention = vault
            .properties
            .get("softDeleteRetentionInDays")
            .and_then(Json::as_i64)
            .filter(|d| (7..=90).contains(d))
            .unwrap_or(90);
        let purge_protection = vault
            .properties
            .get("enablePurgeProtection")
            .and_then(Json::as_bool)
            .unwrap_or(false);
        let location = vault
            .location
            .as_deref()
            .map(directory::normalize_location)
            .unwrap_or_default();
        self.deleted.insert(
            name.to_ascii_lowercase(),
            DeletedVault {
                name,
                location,
                vault_id: vault.id.clone(),
                tags: vault.tags.clone(),
                deletion_date: now,
                scheduled_purge_date: now + Duration::days(retention),
                purge_protection_enabled: purge_protection,
                purge_completes: None,
            },
        );
    }

    /// The soft-deleted vault with this name, if any (case-insensitive).
    pub fn deleted_vault(&self, name: &str) -> Option<&DeletedVault> {
        self.deleted.get(&name.to_ascii_lowercase())
    }

    /// True when a soft-deleted vault holds this name.
    pub fn is_soft_deleted(&self, name: &str) -> bool {
        self.deleted_vault(name).is_some()
    }
}

/// Applies what is due by `now`: purges completing, scheduled purge dates reached.
pub fn advance(state: &mut crate::state::SimState, now: OffsetDateTime) {
    state
        .vaults
        .deleted
        .retain(|_, v| v.scheduled_purge_date > now && v.purge_completes.is_none_or(|t| t > now));
}

/// The subscription segment of a vault ID.
fn subscription_of(vault_id: &str) -> &str {
    vault_id.split('/').nth(2).unwrap_or("")
}

/// The JSON of a deleted vault.
pub fn deleted_vault_json(v: &DeletedVault) -> Json {
    json!({
        "id": format!(
            "/subscriptions/{}/providers/Microsoft.KeyVault/locations/{}/deletedVaults/{}",
            subscription_of(&v.vault_id), v.location, v.name
        ),
        "name": v.name,
        "type": "Microsoft.KeyVault/deletedVaults",
        "properties": {
            "vaultId": v.vault_id,
            "location": v.location,
            "tags": v.tags,
            "deletionDate": rfc3339(v.deletion_date),
            "scheduledPurgeDate": rfc3339(v.scheduled_purge_date),
            "purgeProtectionEnabled": v.purge_protection_enabled,
        }
    })
}

/// ARM's `404` for a deleted vault that is not there.
fn not_found(location: &str, name: &str) -> Response {
    arm_error(
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
        format!(
            "The Resource 'Microsoft.KeyVault/locations/{location}/deletedVaults/{name}' under resource group '<null>' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
        ),
    )
}

/// `GET /subscriptions/{sub}/providers/Microsoft.KeyVault/deletedVaults`.
pub(crate) fn list(sim: &Sim, _req: &ArmRequest, sub: &str) -> Response {
    let st = sim.lock_state();
    let value: Vec<Json> = st
        .vaults
        .deleted
        .values()
        .filter(|v| subscription_of(&v.vault_id).eq_ignore_ascii_case(sub))
        .map(deleted_vault_json)
        .collect();
    json_response(StatusCode::OK, json!({ "value": value }))
}

/// The deleted vault with this name in a subscription and location.
fn find<'a>(
    st: &'a crate::state::SimState,
    sub: &str,
    location: &str,
    name: &str,
) -> Option<&'a DeletedVault> {
    st.vaults.deleted_vault(name).filter(|v| {
        subscription_of(&v.vault_id).eq_ignore_ascii_case(sub)
            && v.location == directory::normalize_location(location)
    })
}

/// `GET /subscriptions/{sub}/providers/Microsoft.KeyVault/locations/{loc}/deletedVaults/{name}`.
pub(crate) fn get(sim: &Sim, _req: &ArmRequest, sub: &str, location: &str, name: &str) -> Response {
    let st = sim.lock_state();
    match find(&st, sub, location, name) {
        Some(v) => json_response(StatusCode::OK, deleted_vault_json(v)),
        None => not_found(location, name),
    }
}

/// `POST .../locations/{loc}/deletedVaults/{name}/purge`: `202` + `Location`; the name is free
/// once the operation completes.
pub(crate) fn purge(
    sim: &Sim,
    req: &ArmRequest,
    sub: &str,
    location: &str,
    name: &str,
) -> Response {
    let now = sim.now();
    let mut st = sim.lock_state();
    let Some(v) = find(&st, sub, location, name).cloned() else {
        return not_found(location, name);
    };
    if v.purge_protection_enabled {
        return arm_error(
            StatusCode::CONFLICT,
            "MethodNotAllowed",
            format!(
                "Operation 'DeletedVaultPurge' is not allowed. Vault '{}' has purge protection enabled; it will be purged after its scheduled purge date {}.",
                v.name,
                rfc3339(v.scheduled_purge_date)
            ),
        );
    }
    let ms = (PURGE_SECONDS * 1000.0 / sim.options.speed.max(0.001)) as i64;
    let completes = v
        .purge_completes
        .unwrap_or(now + Duration::milliseconds(ms));
    let target = format!(
        "/subscriptions/{sub}/providers/Microsoft.KeyVault/locations/{}/deletedVaults/{}",
        v.location, v.name
    );
    let op = st.operations.start_with(operations::NewOperation {
        location: Some(v.location.clone()),
        retry_after: 10,
        ..operations::NewOperation::new("purgeDeletedVault", &target, now, completes - now)
    });
    if let Some(d) = st.vaults.deleted.get_mut(&v.name.to_ascii_lowercase()) {
        d.purge_completes = Some(completes);
    }
    sim.persist(&st);
    let url = operations::polling_url(&sim.base_url, sub, &op, req.api_version());
    accepted_with_location(&url, 10)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn vault(props: Json) -> Resource {
        let t = datetime!(2026-01-01 0:00 UTC);
        Resource {
            id: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/KV1".into(),
            name: "KV1".into(),
            resource_type: VAULT_TYPE.into(),
            location: Some("East US".into()),
            tags: Default::default(),
            extra: Default::default(),
            properties: props,
            api_version: "2023-07-01".into(),
            created_time: t,
            changed_time: t,
        }
    }

    #[test]
    fn soft_delete_keeps_the_name_for_the_retention_period() {
        let t = datetime!(2026-01-01 0:00 UTC);
        let mut v = VaultsState::default();
        v.soft_delete(&vault(json!({"softDeleteRetentionInDays": 7})), t);
        let d = v.deleted_vault("kv1").unwrap();
        assert_eq!(d.location, "eastus");
        assert_eq!(d.scheduled_purge_date, t + Duration::days(7));
        v.soft_delete(&vault(json!({})), t);
        assert_eq!(
            v.deleted_vault("KV1").unwrap().scheduled_purge_date,
            t + Duration::days(90)
        );
    }
}
