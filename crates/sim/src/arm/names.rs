//! Name availability for the globally unique names Landfall creates: storage accounts,
//! Key Vaults (soft-deleted vaults keep their names) and MySQL flexible servers. Names are
//! unique across the whole simulated cloud (every resource in [`super::groups::GroupsState`])
//! plus the scenario's `takenNames` (someone else's resources). The checks are public so
//! deployments fail the same way (`StorageAccountAlreadyTaken`, `VaultAlreadyExists`...).
//!
//! Messages as Azure words them: storage ("... is not a valid storage account name ...",
//! "The storage account named ... is already taken."), Key Vault (`VaultNameNotValid` and
//! `VaultAlreadyExists` texts), MySQL (the 2023-12-30 `CheckNameAvailability` example shape).
//!
//! The checks read the state (resources, soft-deleted vaults) and the scenario, and answer a
//! [`NameCheck`]; the handlers only turn it into each provider's response shape. A body without
//! a `name` is ARM's `InvalidRequestContent`.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use super::request::ArmRequest;
use crate::Sim;
use crate::faults::Scenario;
use crate::http::json_response;
use crate::state::SimState;

/// The result of a name check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameCheck {
    /// Whether the name can be used.
    pub available: bool,
    /// `AccountNameInvalid`, `AlreadyExists`, `Invalid`... when not available.
    pub reason: Option<&'static str>,
    /// Azure's message when not available.
    pub message: Option<String>,
}

impl NameCheck {
    /// The name can be used.
    fn ok() -> Self {
        NameCheck {
            available: true,
            reason: None,
            message: None,
        }
    }

    /// The name cannot be used, and why.
    fn no(reason: &'static str, message: String) -> Self {
        NameCheck {
            available: false,
            reason: Some(reason),
            message: Some(message),
        }
    }
}

/// True when a resource of this type (or a scenario-taken name) already uses `name`.
fn taken(state: &SimState, scenario: &Scenario, resource_types: &[&str], name: &str) -> bool {
    scenario
        .taken_names
        .iter()
        .any(|t| t.eq_ignore_ascii_case(name))
        || state.groups.resources.values().any(|r| {
            resource_types
                .iter()
                .any(|t| r.resource_type.eq_ignore_ascii_case(t))
                && r.id
                    .rsplit('/')
                    .next()
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
        })
}

/// Whether a storage account name has the right form: 3 to 24 lower-case letters and digits.
pub fn storage_name_valid(name: &str) -> bool {
    (3..=24).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
}

/// Azure's message for a storage account name of the wrong form.
pub fn storage_name_message(name: &str) -> String {
    format!(
        "{name} is not a valid storage account name. Storage account name must be between 3 and 24 characters in length and use numbers and lower-case letters only."
    )
}

/// Whether a Key Vault name has the right form: 3 to 24 letters, digits and hyphens, starting
/// with a letter, ending with a letter or digit, no `--`.
pub fn keyvault_name_valid(name: &str) -> bool {
    (3..=24).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
        && !name.contains("--")
}

/// Azure's message for a Key Vault name of the wrong form (`VaultNameNotValid`).
pub fn keyvault_name_message(name: &str) -> String {
    format!(
        "The vault name '{name}' is invalid. A vault's name must be between 3-24 alphanumeric characters. The name must begin with a letter, end with a letter or digit, and not contain consecutive hyphens. Follow this link for more information: https://go.microsoft.com/fwlink/?linkid=2147742"
    )
}

/// Storage account names: 3 to 24 lower-case letters and digits, globally unique.
pub fn check_storage(state: &SimState, scenario: &Scenario, name: &str) -> NameCheck {
    if !storage_name_valid(name) {
        return NameCheck::no("AccountNameInvalid", storage_name_message(name));
    }
    if taken(
        state,
        scenario,
        &["Microsoft.Storage/storageAccounts"],
        name,
    ) {
        return NameCheck::no(
            "AlreadyExists",
            format!("The storage account named {name} is already taken."),
        );
    }
    NameCheck::ok()
}

/// Key Vault names: 3 to 24 letters, digits and hyphens, starting with a letter, ending with a
/// letter or digit, no `--`; globally unique, soft-deleted vaults included.
pub fn check_keyvault(state: &SimState, scenario: &Scenario, name: &str) -> NameCheck {
    if !keyvault_name_valid(name) {
        return NameCheck::no("AccountNameInvalid", keyvault_name_message(name));
    }
    if taken(state, scenario, &[super::keyvault::VAULT_TYPE], name)
        || state.vaults.is_soft_deleted(name)
    {
        return NameCheck::no(
            "AlreadyExists",
            format!(
                "The vault name '{name}' is already in use. Vault names are globally unique so it is possible that the name is already taken. If you are sure that the vault name was not taken then it is possible that a vault with the same name was recently deleted but not purged after being placed in a recoverable state. If the vault is in a recoverable state then the vault will need to be purged before reusing the name. For more information about VaultAlreadyExists, soft delete and purging a vault follow this link https://go.microsoft.com/fwlink/?linkid=2147740."
            ),
        );
    }
    NameCheck::ok()
}

/// MySQL flexible server names: 3 to 63 lower-case letters, digits and hyphens, not starting
/// or ending with a hyphen; globally unique (they become `{name}.mysql.database.azure.com`).
pub fn check_mysql(state: &SimState, scenario: &Scenario, name: &str) -> NameCheck {
    let valid = (3..=63).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if !valid {
        return NameCheck::no(
            "Invalid",
            "Specified server name contains unsupported characters or is too long. Server name must be no longer than 63 characters long, contain only lower-case characters or digits, cannot contain '.' or '_' characters and can't start or end with '-' character.".into(),
        );
    }
    if taken(
        state,
        scenario,
        &[
            "Microsoft.DBforMySQL/flexibleServers",
            "Microsoft.DBforMySQL/servers",
        ],
        name,
    ) {
        return NameCheck::no(
            "AlreadyExists",
            "Specified server name is already used.".into(),
        );
    }
    NameCheck::ok()
}

/// Runs a name check on the `name` of the request body.
fn check_body(
    sim: &Sim,
    req: &ArmRequest,
    check: fn(&SimState, &Scenario, &str) -> NameCheck,
) -> Result<NameCheck, Box<Response>> {
    let body = req.json_object()?;
    let name = ArmRequest::required_string(&body, "name")?;
    let st = sim.lock_state();
    Ok(check(&st, sim.faults.scenario(), &name))
}

/// The answer of the storage and Key Vault checks: `nameAvailable`, and why not.
fn availability(
    sim: &Sim,
    req: &ArmRequest,
    check: fn(&SimState, &Scenario, &str) -> NameCheck,
) -> Response {
    let c = match check_body(sim, req, check) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let body = if c.available {
        json!({"nameAvailable": true})
    } else {
        json!({"nameAvailable": false, "reason": c.reason, "message": c.message})
    };
    json_response(StatusCode::OK, body)
}

/// `POST /subscriptions/{sub}/providers/Microsoft.Storage/checkNameAvailability`.
pub(crate) fn storage(sim: &Sim, req: &ArmRequest) -> Response {
    availability(sim, req, check_storage)
}

/// `POST /subscriptions/{sub}/providers/Microsoft.KeyVault/checkNameAvailability`.
pub(crate) fn keyvault(sim: &Sim, req: &ArmRequest) -> Response {
    availability(sim, req, check_keyvault)
}

/// `POST .../Microsoft.DBforMySQL[/locations/{loc}]/checkNameAvailability`: the same fields
/// always present, as the MySQL provider answers.
pub(crate) fn mysql(sim: &Sim, req: &ArmRequest, _location: Option<&str>) -> Response {
    let c = match check_body(sim, req, check_mysql) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    json_response(
        StatusCode::OK,
        json!({
            "nameAvailable": c.available,
            "message": c.message.unwrap_or_default(),
            "reason": c.reason.unwrap_or_default(),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn state() -> SimState {
        SimState::new(&crate::Identity::default(), datetime!(2026-01-01 0:00 UTC))
    }

    #[test]
    fn storage_names_are_validated_then_checked_for_use() {
        let s = state();
        let mut sc = Scenario::default();
        assert!(check_storage(&s, &sc, "landfalldata01").available);
        assert_eq!(
            check_storage(&s, &sc, "Landfall").reason,
            Some("AccountNameInvalid")
        );
        sc.taken_names.push("TAKENNAME".into());
        assert_eq!(
            check_storage(&s, &sc, "takenname").reason,
            Some("AlreadyExists")
        );
    }

    #[test]
    fn vault_names_follow_key_vault_rules() {
        let s = state();
        let sc = Scenario::default();
        assert!(check_keyvault(&s, &sc, "kv-landfall-1").available);
        for bad in ["1kv", "kv-", "k--v", "kv", "a_b_c"] {
            assert!(!check_keyvault(&s, &sc, bad).available, "{bad}");
        }
    }

    #[test]
    fn mysql_names_are_lower_case_without_edge_hyphens() {
        let s = state();
        let sc = Scenario::default();
        assert!(check_mysql(&s, &sc, "mysql-landfall").available);
        assert_eq!(check_mysql(&s, &sc, "-bad").reason, Some("Invalid"));
        assert_eq!(check_mysql(&s, &sc, "Bad").reason, Some("Invalid"));
    }
}
