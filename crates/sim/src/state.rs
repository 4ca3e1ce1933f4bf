//! The simulated cloud's state: one serialisable value, persisted with atomic writes.
//!
//! Each ARM module owns its part (`arm::groups::GroupsState`...) and the `advance` function
//! that applies its schedule. Long operations are stored as schedules, never run:
//! [`SimState::advance`] brings every part up to a moment in time, and handlers get the state
//! through [`crate::Sim::lock_state`], which advances it to the clock's now first. After a
//! change, a handler calls [`crate::Sim::persist`], which writes the file (if any) with
//! [`write_atomic`]; a write that fails is logged, not returned, since the answer to the
//! client does not depend on it.
//!
//! Loading refuses a newer format or a corrupt file ([`SimError::Invalid`]) rather than
//! starting from scratch, so a demo never silently loses its cloud.

use std::path::Path;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{Identity, SimError, arm};

/// Everything the simulator knows.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SimState {
    /// Format version of the state file.
    pub version: u32,
    /// Who may sign in, and the tenant and subscription they see.
    pub identity: Identity,
    /// Resource providers and their registration state.
    pub providers: arm::providers::ProvidersState,
    /// Resource groups and the resources in them.
    pub groups: arm::groups::GroupsState,
    /// Deployments and their schedules.
    pub deployments: arm::deployments::DeploymentsState,
    /// Key Vault soft-deleted vaults.
    pub vaults: arm::keyvault::VaultsState,
    /// Role assignments.
    pub authorization: arm::authorization::AuthorizationState,
    /// Long-running operations polled by URL (resource group deletes, what-if, registration).
    pub operations: arm::operations::OperationsState,
}

/// The state file format this build reads and writes.
pub const STATE_VERSION: u32 = 1;

impl SimState {
    /// A fresh cloud: the identity's tenant and subscription, default provider registrations,
    /// and the service principal and user as Owners of the subscription.
    pub fn new(identity: &Identity, now: OffsetDateTime) -> Self {
        SimState {
            version: STATE_VERSION,
            identity: identity.clone(),
            providers: arm::providers::ProvidersState::new(now),
            groups: Default::default(),
            deployments: Default::default(),
            vaults: Default::default(),
            authorization: arm::authorization::AuthorizationState::new(identity, now),
            operations: Default::default(),
        }
    }

    /// Applies everything scheduled up to `now`: provisioning finishing, deletions completing,
    /// registrations settling.
    pub fn advance(&mut self, now: OffsetDateTime) {
        arm::deployments::advance(self, now);
        arm::groups::advance(self, now);
        arm::providers::advance(self, now);
        arm::keyvault::advance(self, now);
        arm::operations::advance(self, now);
    }

    /// Loads a state file; a newer format or a corrupt file is an error, never a reset.
    pub fn load(path: &Path) -> Result<SimState, SimError> {
        let text = std::fs::read_to_string(path).map_err(|source| SimError::File {
            action: "read",
            path: path.to_owned(),
            source,
        })?;
        let mut state: SimState = serde_json::from_str(&text).map_err(|e| SimError::Invalid {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        if state.version > STATE_VERSION {
            return Err(SimError::Invalid {
                path: path.to_owned(),
                message: format!(
                    "it was written by a newer simulator (format {}, this one reads up to {STATE_VERSION})",
                    state.version
                ),
            });
        }
        if lacks_default_assignments(&text) {
            let identity = state.identity.clone();
            // These files showed the defaults as created at the epoch until they were written.
            state
                .authorization
                .add_defaults(&identity, OffsetDateTime::UNIX_EPOCH);
        }
        Ok(state)
    }

    /// Writes the state file atomically (temporary file, fsync, rename).
    pub fn save(&self, path: &Path) -> Result<(), SimError> {
        let text = serde_json::to_vec(self).map_err(|e| SimError::Invalid {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        write_atomic(path, &text)
    }
}

/// True for a state file written before the default role assignments were part of a new
/// state: it says `"seeded": false` until a role assignment request wrote them.
fn lacks_default_assignments(text: &str) -> bool {
    #[derive(Deserialize)]
    struct Legacy {
        authorization: LegacyAuthorization,
    }
    #[derive(Deserialize)]
    struct LegacyAuthorization {
        seeded: bool,
    }
    serde_json::from_str::<Legacy>(text).is_ok_and(|l| !l.authorization.seeded)
}

/// Writes a file so that a reader sees the old or the new content, never a torn one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), SimError> {
    use std::io::Write;
    let err = |action: &'static str| {
        move |source| SimError::File {
            action,
            path: path.to_owned(),
            source,
        }
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default(),
        std::process::id()
    ));
    let mut f = std::fs::File::create(&tmp).map_err(err("create"))?;
    f.write_all(bytes).map_err(err("write"))?;
    f.sync_all().map_err(err("sync"))?;
    std::fs::rename(&tmp, path).map_err(err("replace"))?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // A failing test should stop loudly.
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn a_new_state_has_the_default_owners_and_an_old_unseeded_file_gets_them() {
        let identity = Identity::default();
        let state = SimState::new(&identity, datetime!(2026-01-01 0:00 UTC));
        assert_eq!(state.authorization.assignments.len(), 2);

        let mut legacy = serde_json::to_value(&state).unwrap();
        legacy["authorization"] = serde_json::json!({"assignments": {}, "seeded": false});
        let path = std::env::temp_dir().join(format!(
            "landfall-sim-legacy-state-{}.json",
            std::process::id()
        ));
        std::fs::write(&path, legacy.to_string()).unwrap();
        let loaded = SimState::load(&path);
        legacy["authorization"]["seeded"] = true.into();
        std::fs::write(&path, legacy.to_string()).unwrap();
        let seeded = SimState::load(&path);
        let _ = std::fs::remove_file(&path);
        assert_eq!(loaded.unwrap().authorization.assignments.len(), 2);
        assert!(seeded.unwrap().authorization.assignments.is_empty());
    }
}
