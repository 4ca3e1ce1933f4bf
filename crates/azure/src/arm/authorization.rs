//! The caller's permissions at a scope (`Microsoft.Authorization/permissions`) and [`can`],
//! which decides whether they allow an action.

use serde::{Deserialize, Serialize};

use super::{AUTHORIZATION_API, Arm, Page};
use crate::error::Error;

/// One permission entry: actions allowed minus those excluded.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Permission {
    /// Allowed management actions (`*`, `Microsoft.Storage/*/read`...).
    #[serde(default)]
    pub actions: Vec<String>,
    /// Management actions excluded from `actions`.
    #[serde(default)]
    pub not_actions: Vec<String>,
    /// Allowed data actions.
    #[serde(default)]
    pub data_actions: Vec<String>,
    /// Data actions excluded from `dataActions`.
    #[serde(default)]
    pub not_data_actions: Vec<String>,
}

/// `GET {scope}/providers/Microsoft.Authorization/permissions`.
pub type PermissionListResponse = Page<Permission>;

/// Whether `pattern` (with `*` matching any run of characters) matches `action`, ignoring case.
fn matches(pattern: &str, action: &str) -> bool {
    let p: Vec<char> = pattern.to_ascii_lowercase().chars().collect();
    let a: Vec<char> = action.to_ascii_lowercase().chars().collect();
    // Classic wildcard match with backtracking on the last `*`.
    let (mut i, mut j) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while j < a.len() {
        if i < p.len() && p[i] == '*' {
            star = Some((i, j));
            i += 1;
        } else if i < p.len() && p[i] == a[j] {
            i += 1;
            j += 1;
        } else if let Some((si, sj)) = star {
            i = si + 1;
            j = sj + 1;
            star = Some((si, sj + 1));
        } else {
            return false;
        }
    }
    p[i..].iter().all(|c| *c == '*')
}

/// Whether `permissions` allow the management `action`: some entry lists it in `actions`
/// (wildcards, any case) and not in that entry's `notActions`.
pub fn can(action: &str, permissions: &[Permission]) -> bool {
    permissions.iter().any(|p| {
        p.actions.iter().any(|a| matches(a, action))
            && !p.not_actions.iter().any(|n| matches(n, action))
    })
}

impl Arm<'_> {
    /// The caller's permissions at `scope` (a subscription, group or resource ID).
    pub async fn list_permissions(&self, scope: &str) -> Result<Vec<Permission>, Error> {
        let path = format!(
            "{}/providers/Microsoft.Authorization/permissions",
            scope.trim_end_matches('/')
        );
        self.list_all(&path, AUTHORIZATION_API).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn perm(actions: &[&str], not_actions: &[&str]) -> Permission {
        Permission {
            actions: actions.iter().map(|s| (*s).to_owned()).collect(),
            not_actions: not_actions.iter().map(|s| (*s).to_owned()).collect(),
            ..Permission::default()
        }
    }

    #[test]
    fn owner_can_write_role_assignments_contributor_cannot() {
        let w = "Microsoft.Authorization/roleAssignments/write";
        assert!(can(w, &[perm(&["*"], &[])]));
        let contributor = perm(
            &["*"],
            &[
                "Microsoft.Authorization/*/Delete",
                "Microsoft.Authorization/*/Write",
                "Microsoft.Authorization/elevateAccess/Action",
            ],
        );
        assert!(!can(w, std::slice::from_ref(&contributor)));
        assert!(can(
            "Microsoft.Storage/storageAccounts/write",
            &[contributor]
        ));
    }

    #[test]
    fn wildcards_and_case() {
        let reader = perm(&["*/read"], &[]);
        assert!(can(
            "microsoft.compute/virtualMachines/READ",
            std::slice::from_ref(&reader)
        ));
        assert!(!can("Microsoft.Compute/virtualMachines/write", &[reader]));
        assert!(can(
            "Microsoft.Storage/a/b",
            &[perm(&["Microsoft.Storage/*"], &[])]
        ));
        assert!(!can("x", &[]));
    }
}
