//! `Microsoft.Authorization`: role assignments (get, put, delete, list with `atScope()` and
//! `principalId eq` filters), the built-in role definitions Landfall references (with their
//! real GUIDs and permissions), and the caller's effective permissions at a scope
//! (`GET {scope}/providers/Microsoft.Authorization/permissions`).
//!
//! By default the service principal and the interactive user are Owner of the subscription.
//! A test makes a principal Contributor (which cannot write role assignments) with
//! [`AuthorizationState::set_subscription_role`]. [`AuthorizationState::allows`] is the check
//! ARM applies (actions minus notActions, `*` wildcards, case-insensitive, inherited from
//! parent scopes); deployments can use it for their own `AuthorizationFailed` errors.
//!
//! Data: [`AuthorizationState`] in [`crate::state::SimState`], seeded with the default Owner
//! assignments when the state is created; role definitions are a fixed table. Scopes are checked
//! against what exists (`directory::check_subscription`, then the group and resource)
//! before any handler runs; refusals are ARM's errors (`AuthorizationFailed`,
//! `RoleAssignmentExists`, `RoleDefinitionDoesNotExist`...).

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;
use time::OffsetDateTime;

use super::directory;
use super::groups::{Clause, filter_clauses, group_not_found, resource_not_found};
use super::request::{ArmRequest, invalid_content, method_not_allowed, reject};
use crate::http::{Caller, arm_error, json_response, rfc3339};
use crate::{Identity, Sim};

/// A built-in role definition.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BuiltInRole {
    /// Role definition GUID (the same in every tenant).
    pub id: &'static str,
    /// `roleName`.
    pub name: &'static str,
    /// Description.
    pub description: &'static str,
    /// `actions`.
    pub actions: &'static [&'static str],
    /// `notActions`.
    pub not_actions: &'static [&'static str],
    /// `dataActions`.
    pub data_actions: &'static [&'static str],
    /// `notDataActions`.
    pub not_data_actions: &'static [&'static str],
}

/// Owner.
pub const OWNER: &str = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
/// Contributor.
pub const CONTRIBUTOR: &str = "b24988ac-6180-42a0-ab88-20f7382dd24c";
/// Reader.
pub const READER: &str = "acdd72a7-3385-48ef-bd42-f606fba81ae7";
/// User Access Administrator.
pub const USER_ACCESS_ADMINISTRATOR: &str = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9";
/// AcrPull.
pub const ACR_PULL: &str = "7f951dda-4ed3-4680-a7ca-43fe172d538d";
/// Key Vault Secrets User.
pub const KEY_VAULT_SECRETS_USER: &str = "4633458b-17de-408a-b874-0445c86b69e6";

const KV_CONTROL_READ: &[&str] = &[
    "Microsoft.Authorization/*/read",
    "Microsoft.Insights/alertRules/*",
    "Microsoft.Resources/deployments/*",
    "Microsoft.Resources/subscriptions/resourceGroups/read",
    "Microsoft.Support/*",
    "Microsoft.KeyVault/checkNameAvailability/read",
    "Microsoft.KeyVault/deletedVaults/read",
    "Microsoft.KeyVault/locations/*/read",
    "Microsoft.KeyVault/vaults/*/read",
    "Microsoft.KeyVault/operations/read",
];

#[rustfmt::skip]
static ROLES: &[BuiltInRole] = &[
    BuiltInRole {
        id: OWNER,
        name: "Owner",
        description: "Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.",
        actions: &["*"], not_actions: &[], data_actions: &[], not_data_actions: &[],
    },
    BuiltInRole {
        id: CONTRIBUTOR,
        name: "Contributor",
        description: "Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC, manage assignments in Azure Blueprints, or share image galleries.",
        actions: &["*"],
        not_actions: &[
            "Microsoft.Authorization/*/Delete",
            "Microsoft.Authorization/*/Write",
            "Microsoft.Authorization/elevateAccess/Action",
            "Microsoft.Blueprint/blueprintAssignments/write",
            "Microsoft.Blueprint/blueprintAssignments/delete",
            "Microsoft.Compute/galleries/share/action",
            "Microsoft.Purview/consents/write",
            "Microsoft.Purview/consents/delete",
            "Microsoft.Resources/deploymentStacks/manageDenySetting/action",
            "Microsoft.Subscription/cancel/action",
            "Microsoft.Subscription/enable/action",
        ],
        data_actions: &[], not_data_actions: &[],
    },
    BuiltInRole {
        id: READER,
        name: "Reader",
        description: "View all resources, but does not allow you to make any changes.",
        actions: &["*/read"], not_actions: &[], data_actions: &[], not_data_actions: &[],
    },
    BuiltInRole {
        id: USER_ACCESS_ADMINISTRATOR,
        name: "User Access Administrator",
        description: "Lets you manage user access to Azure resources.",
        actions: &["*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"],
        not_actions: &[], data_actions: &[], not_data_actions: &[],
    },
    BuiltInRole {
        id: "f58310d9-a9f6-439a-9e8d-f62e7b41a168",
        name: "Role Based Access Control Administrator",
        description: "Manage access to Azure resources by assigning roles using Azure RBAC. This role does not allow you to manage access using other ways, such as Azure Policy.",
        actions: &[
            "Microsoft.Authorization/roleAssignments/write",
            "Microsoft.Authorization/roleAssignments/delete",
            "*/read",
            "Microsoft.Support/*",
        ],
        not_actions: &[], data_actions: &[], not_data_actions: &[],
    },
    BuiltInRole {
        id: ACR_PULL,
        name: "AcrPull",
        description: "acr pull",
        actions: &["Microsoft.ContainerRegistry/registries/pull/read"],
        not_actions: &[], data_actions: &[], not_data_actions: &[],
    },
    BuiltInRole {
        id: "8311e382-0749-4cb8-b61a-304f252e45ec",
        name: "AcrPush",
        description: "acr push",
        actions: &[
            "Microsoft.ContainerRegistry/registries/pull/read",
            "Microsoft.ContainerRegistry/registries/push/write",
        ],
        not_actions: &[], data_actions: &[], not_data_actions: &[],
    },
    BuiltInRole {
        id: "00482a5a-887f-4fb3-b363-3b7fe8e74483",
        name: "Key Vault Administrator",
        description: "Perform all data plane operations on a key vault and all objects in it, including certificates, keys, and secrets. Cannot manage key vault resources or manage role assignments. Only works for key vaults that use the 'Azure role-based access control' permission model.",
        actions: KV_CONTROL_READ, not_actions: &[],
        data_actions: &["Microsoft.KeyVault/vaults/*"], not_data_actions: &[],
    },
    BuiltInRole {
        id: "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
        name: "Key Vault Secrets Officer",
        description: "Perform any action on the secrets of a key vault, except manage permissions. Only works for key vaults that use the 'Azure role-based access control' permission model.",
        actions: KV_CONTROL_READ, not_actions: &[],
        data_actions: &["Microsoft.KeyVault/vaults/secrets/*"], not_data_actions: &[],
    },
    BuiltInRole {
        id: KEY_VAULT_SECRETS_USER,
        name: "Key Vault Secrets User",
        description: "Read secret contents. Only works for key vaults that use the 'Azure role-based access control' permission model.",
        actions: &[], not_actions: &[],
        data_actions: &[
            "Microsoft.KeyVault/vaults/secrets/getSecret/action",
            "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
        ],
        not_data_actions: &[],
    },
    BuiltInRole {
        id: "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
        name: "Storage Blob Data Contributor",
        description: "Allows for read, write and delete access to Azure Storage blob containers and data",
        actions: &[
            "Microsoft.Storage/storageAccounts/blobServices/containers/delete",
            "Microsoft.Storage/storageAccounts/blobServices/containers/read",
            "Microsoft.Storage/storageAccounts/blobServices/containers/write",
            "Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action",
        ],
        not_actions: &[],
        data_actions: &[
            "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete",
            "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read",
            "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write",
            "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/move/action",
            "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action",
        ],
        not_data_actions: &[],
    },
    BuiltInRole {
        id: "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
        name: "Storage Blob Data Reader",
        description: "Allows for read access to Azure Storage blob containers and data",
        actions: &[
            "Microsoft.Storage/storageAccounts/blobServices/containers/read",
            "Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action",
        ],
        not_actions: &[],
        data_actions: &["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"],
        not_data_actions: &[],
    },
    BuiltInRole {
        id: "4d97b98b-1d4f-4787-a291-c67834d212e7",
        name: "Network Contributor",
        description: "Lets you manage networks, but not access to them.",
        actions: &[
            "Microsoft.Authorization/*/read",
            "Microsoft.Insights/alertRules/*",
            "Microsoft.Network/*",
            "Microsoft.ResourceHealth/availabilityStatuses/read",
            "Microsoft.Resources/deployments/*",
            "Microsoft.Resources/subscriptions/resourceGroups/read",
            "Microsoft.Support/*",
        ],
        not_actions: &[], data_actions: &[], not_data_actions: &[],
    },
    BuiltInRole {
        id: "f1a07417-d97a-45cb-824c-7a7467783830",
        name: "Managed Identity Operator",
        description: "Read and Assign User Assigned Identity",
        actions: &[
            "Microsoft.ManagedIdentity/userAssignedIdentities/*/read",
            "Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action",
            "Microsoft.Authorization/*/read",
            "Microsoft.Insights/alertRules/*",
            "Microsoft.Resources/subscriptions/resourceGroups/read",
            "Microsoft.Resources/deployments/*",
            "Microsoft.Support/*",
        ],
        not_actions: &[], data_actions: &[], not_data_actions: &[],
    },
    BuiltInRole {
        id: "3913510d-42f4-4e42-8a64-420c390055eb",
        name: "Monitoring Metrics Publisher",
        description: "Enables publishing metrics against Azure resources",
        actions: &[
            "Microsoft.Insights/Register/Action",
            "Microsoft.Support/*",
            "Microsoft.Resources/subscriptions/resourceGroups/read",
        ],
        not_actions: &[],
        data_actions: &["Microsoft.Insights/Metrics/Write", "Microsoft.Insights/Telemetry/Write"],
        not_data_actions: &[],
    },
    BuiltInRole {
        id: "4abbcc35-e782-43d8-92c5-2d3f1bd2253f",
        name: "Azure Kubernetes Service Cluster User Role",
        description: "List cluster user credential action.",
        actions: &[
            "Microsoft.ContainerService/managedClusters/listClusterUserCredential/action",
            "Microsoft.ContainerService/managedClusters/read",
        ],
        not_actions: &[], data_actions: &[], not_data_actions: &[],
    },
    BuiltInRole {
        id: "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b",
        name: "Azure Kubernetes Service RBAC Cluster Admin",
        description: "Lets you manage all resources in the cluster.",
        actions: &[
            "Microsoft.Authorization/*/read",
            "Microsoft.Insights/alertRules/*",
            "Microsoft.Resources/deployments/write",
            "Microsoft.Resources/subscriptions/operationresults/read",
            "Microsoft.Resources/subscriptions/read",
            "Microsoft.Resources/subscriptions/resourceGroups/read",
            "Microsoft.Support/*",
            "Microsoft.ContainerService/managedClusters/listClusterUserCredential/action",
        ],
        not_actions: &[],
        data_actions: &["Microsoft.ContainerService/managedClusters/*"],
        not_data_actions: &[],
    },
];

/// The built-in roles.
pub fn built_in_roles() -> &'static [BuiltInRole] {
    ROLES
}

/// A built-in role by GUID or by a full role definition ID ending in it.
pub fn role(id_or_guid: &str) -> Option<&'static BuiltInRole> {
    let guid = id_or_guid.rsplit('/').next().unwrap_or(id_or_guid);
    ROLES.iter().find(|r| r.id.eq_ignore_ascii_case(guid))
}

/// A built-in role by name (`Contributor`), case-insensitive.
pub fn role_named(name: &str) -> Option<&'static BuiltInRole> {
    ROLES.iter().find(|r| r.name.eq_ignore_ascii_case(name))
}

/// Role assignments, by lower-cased ID.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizationState {
    /// Assignments by lower-cased ID.
    #[serde(default)]
    pub assignments: BTreeMap<String, RoleAssignment>,
}

/// A role assignment.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleAssignment {
    /// `{scope}/providers/Microsoft.Authorization/roleAssignments/{name}`.
    pub id: String,
    /// A GUID.
    pub name: String,
    /// The scope (`/subscriptions/{id}`, a group, a resource).
    pub scope: String,
    /// Role definition GUID.
    pub role_definition: String,
    /// Object ID of the principal.
    pub principal_id: String,
    /// `User`, `ServicePrincipal`, `Group`.
    pub principal_type: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Who created it (object ID).
    #[serde(default)]
    pub created_by: Option<String>,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub created_on: OffsetDateTime,
}

impl RoleAssignment {
    /// An assignment of `role` (a role definition GUID or ID) to a principal (`User` or
    /// `ServicePrincipal`) at a scope; `name` is a GUID.
    pub fn new(
        scope: &str,
        name: &str,
        role: &str,
        principal_id: &str,
        principal_type: &str,
        now: OffsetDateTime,
    ) -> Self {
        RoleAssignment {
            id: format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{name}"),
            name: name.to_owned(),
            scope: scope.to_owned(),
            role_definition: role.rsplit('/').next().unwrap_or(role).to_ascii_lowercase(),
            principal_id: principal_id.to_owned(),
            principal_type: principal_type.to_owned(),
            description: None,
            created_by: None,
            created_on: now,
        }
    }
}

/// Whether `scope` is `parent` or inside it (case-insensitive, on segment boundaries).
fn within(scope: &str, parent: &str) -> bool {
    let s = scope.trim_end_matches('/').to_ascii_lowercase();
    let p = parent.trim_end_matches('/').to_ascii_lowercase();
    p.is_empty() || s == p || s.starts_with(&format!("{p}/"))
}

/// Glob match with `*` (any run of characters), case-insensitive, as ARM matches actions.
pub fn action_matches(pattern: &str, action: &str) -> bool {
    let p: Vec<char> = pattern.to_ascii_lowercase().chars().collect();
    let a: Vec<char> = action.to_ascii_lowercase().chars().collect();
    let (mut pi, mut ai) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ai < a.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ai));
            pi += 1;
        } else if pi < p.len() && p[pi] == a[ai] {
            pi += 1;
            ai += 1;
        } else if let Some((sp, sa)) = star {
            pi = sp + 1;
            ai = sa + 1;
            star = Some((sp, sa + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

impl BuiltInRole {
    /// Whether this role grants a control-plane action.
    pub fn grants(&self, action: &str) -> bool {
        self.actions.iter().any(|p| action_matches(p, action))
            && !self.not_actions.iter().any(|p| action_matches(p, action))
    }
}

impl AuthorizationState {
    /// A new subscription's assignments: the service principal and the user are Owner of it.
    pub fn new(identity: &Identity, now: OffsetDateTime) -> Self {
        let mut state = AuthorizationState::default();
        state.add_defaults(identity, now);
        state
    }

    /// Writes the default assignments (service principal and user are Owner of the
    /// subscription), for [`AuthorizationState::new`] and state files that lack them.
    pub fn add_defaults(&mut self, identity: &Identity, now: OffsetDateTime) {
        let scope = format!("/subscriptions/{}", identity.subscription_id);
        let principals = [
            (&identity.client_object_id, "ServicePrincipal"),
            (&identity.user_object_id, "User"),
        ];
        for (oid, kind) in principals.into_iter().filter(|(oid, _)| !oid.is_empty()) {
            let name = uuid::Uuid::new_v4().to_string();
            let a = RoleAssignment::new(&scope, &name, OWNER, oid, kind, now);
            self.assignments.insert(a.id.to_ascii_lowercase(), a);
        }
    }

    /// Makes a principal hold exactly `role` (a GUID) at the subscription scope, replacing
    /// its other subscription-scope assignments (e.g. to make the caller Contributor).
    pub fn set_subscription_role(
        &mut self,
        identity: &Identity,
        principal_id: &str,
        role_guid: &str,
        now: OffsetDateTime,
    ) {
        let scope = format!("/subscriptions/{}", identity.subscription_id);
        let kind = self
            .assignments
            .values()
            .find(|a| a.principal_id.eq_ignore_ascii_case(principal_id))
            .map_or_else(
                || principal_type_of(identity, principal_id).to_owned(),
                |a| a.principal_type.clone(),
            );
        self.assignments.retain(|_, a| {
            !(a.principal_id.eq_ignore_ascii_case(principal_id)
                && a.scope.eq_ignore_ascii_case(&scope))
        });
        let name = uuid::Uuid::new_v4().to_string();
        let a = RoleAssignment::new(&scope, &name, role_guid, principal_id, &kind, now);
        self.assignments.insert(a.id.to_ascii_lowercase(), a);
    }

    /// Records a role assignment (as a deployment of `Microsoft.Authorization/roleAssignments`
    /// does), replacing one with the same ID.
    pub fn assign(&mut self, assignment: RoleAssignment) {
        self.assignments
            .insert(assignment.id.to_ascii_lowercase(), assignment);
    }

    /// Removes the assignments at or below a scope (when the group or resource is deleted).
    pub fn remove_scope(&mut self, scope: &str) {
        self.assignments.retain(|_, a| !within(&a.scope, scope));
    }

    /// The assignments of a principal that apply at a scope (at it or inherited).
    pub fn effective(&self, principal_id: &str, scope: &str) -> Vec<&RoleAssignment> {
        self.assignments
            .values()
            .filter(|a| {
                a.principal_id.eq_ignore_ascii_case(principal_id) && within(scope, &a.scope)
            })
            .collect()
    }

    /// Whether a principal may perform a control-plane action at a scope.
    pub fn allows(&self, principal_id: &str, scope: &str, action: &str) -> bool {
        self.effective(principal_id, scope)
            .iter()
            .filter_map(|a| role(&a.role_definition))
            .any(|r| r.grants(action))
    }
}

/// The `principalType` of a principal the request did not describe: the user or the app.
fn principal_type_of(identity: &Identity, principal_id: &str) -> &'static str {
    if principal_id.eq_ignore_ascii_case(&identity.user_object_id) {
        "User"
    } else {
        "ServicePrincipal"
    }
}

/// ARM's `403 AuthorizationFailed`.
pub fn authorization_failed(caller: &Caller, action: &str, scope: &str) -> Response {
    arm_error(
        StatusCode::FORBIDDEN,
        "AuthorizationFailed",
        format!(
            "The client '{}' with object id '{}' does not have authorization to perform action '{action}' over scope '{scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.",
            caller.name, caller.object_id
        ),
    )
}

/// A built-in role definition as ARM returns it, at subscription scope or tenant-wide (`None`).
fn role_definition_json(subscription: Option<&str>, r: &BuiltInRole) -> Json {
    let prefix = subscription.map_or_else(String::new, |s| format!("/subscriptions/{s}"));
    json!({
        "id": format!("{prefix}/providers/Microsoft.Authorization/roleDefinitions/{}", r.id),
        "properties": {
            "roleName": r.name,
            "type": "BuiltInRole",
            "description": r.description,
            "assignableScopes": ["/"],
            "permissions": [{
                "actions": r.actions,
                "notActions": r.not_actions,
                "dataActions": r.data_actions,
                "notDataActions": r.not_data_actions
            }],
            "createdOn": "2015-02-02T21:55:09.8806423Z",
            "updatedOn": "2024-11-21T20:29:48.3680000Z",
            "createdBy": null,
            "updatedBy": null
        },
        "type": "Microsoft.Authorization/roleDefinitions",
        "name": r.id
    })
}

/// A role assignment as ARM returns it.
fn assignment_json(subscription: &str, a: &RoleAssignment) -> Json {
    json!({
        "properties": {
            "roleDefinitionId": format!(
                "/subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions/{}",
                a.role_definition
            ),
            "principalId": a.principal_id,
            "principalType": a.principal_type,
            "scope": a.scope,
            "condition": null,
            "conditionVersion": null,
            "createdOn": rfc3339(a.created_on),
            "updatedOn": rfc3339(a.created_on),
            "createdBy": a.created_by,
            "updatedBy": a.created_by,
            "delegatedManagedIdentityResourceId": null,
            "description": a.description
        },
        "id": a.id,
        "type": "Microsoft.Authorization/roleAssignments",
        "name": a.name
    })
}

/// Resolves the scope segments to a canonical scope string, checking it exists.
fn resolve_scope(sim: &Sim, req: &ArmRequest, n: usize) -> Result<Option<String>, Box<Response>> {
    if n == 0 {
        return Ok(None);
    }
    let l = &req.lower[..n];
    let s = &req.segments[..n];
    if l[0] != "subscriptions" || n < 2 {
        return reject(arm_error(
            StatusCode::BAD_REQUEST,
            "MissingSubscription",
            "The request did not have a subscription or a valid tenant level resource provider.",
        ));
    }
    directory::check_subscription(sim, req, &s[1])?;
    let st = sim.lock_state();
    let mut scope = format!("/subscriptions/{}", st.identity.subscription_id);
    if n == 2 {
        return Ok(Some(scope));
    }
    if l[2] != "resourcegroups" || n < 4 {
        return reject(arm_error(
            StatusCode::BAD_REQUEST,
            "InvalidScope",
            format!("The scope '/{}' is not valid.", s.join("/")),
        ));
    }
    let Some(g) = st.groups.group_named(&s[1], &s[3]) else {
        return reject(group_not_found(&s[3]));
    };
    scope = g.id.clone();
    if n == 4 {
        return Ok(Some(scope));
    }
    let id = format!("{scope}/{}", s[4..].join("/"));
    if st.groups.resource(&id).is_none() {
        let typed = s.iter().skip(5).cloned().collect::<Vec<_>>().join("/");
        return reject(resource_not_found(&typed, Some(&g.name)));
    }
    Ok(Some(id))
}

/// Serves `{scope}/providers/Microsoft.Authorization/{permissions|roleAssignments|
/// roleDefinitions}[/{name}]`; `i` is the index of `providers` in the path.
pub(crate) fn handle(sim: &Sim, req: &ArmRequest, i: usize) -> Response {
    let kind = req.lower[i + 2].as_str();
    let name = req.segments.get(i + 3).map(String::as_str);
    let scope = match resolve_scope(sim, req, i) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    match (kind, scope) {
        ("roledefinitions", scope) => role_definitions(sim, req, scope.is_some(), name),
        (_, None) => arm_error(
            StatusCode::BAD_REQUEST,
            "MissingSubscription",
            "The request did not have a subscription or a valid tenant level resource provider.",
        ),
        ("permissions", Some(scope)) if name.is_none() && req.method == Method::GET => {
            permissions(sim, req, &scope)
        }
        ("roleassignments", Some(scope)) => match (name, &req.method) {
            (None, &Method::GET) => list_assignments(sim, req, &scope),
            (Some(n), &Method::GET) => get_assignment(sim, &scope, n),
            (Some(n), &Method::PUT) => put_assignment(sim, req, &scope, n),
            (Some(n), &Method::DELETE) => delete_assignment(sim, req, &scope, n),
            _ => method_not_allowed(req),
        },
        _ => method_not_allowed(req),
    }
}

/// `GET {scope}/providers/Microsoft.Authorization/roleDefinitions[/{id}]` (`$filter` on
/// `roleName` and `type`).
fn role_definitions(
    sim: &Sim,
    req: &ArmRequest,
    at_subscription: bool,
    name: Option<&str>,
) -> Response {
    if req.method != Method::GET {
        return method_not_allowed(req);
    }
    let sub = at_subscription.then(|| sim.lock_state().identity.subscription_id.clone());
    if let Some(n) = name {
        return match role(n) {
            Some(r) => json_response(StatusCode::OK, role_definition_json(sub.as_deref(), r)),
            None => arm_error(
                StatusCode::NOT_FOUND,
                "RoleDefinitionDoesNotExist",
                format!("The specified role definition with ID '{n}' does not exist."),
            ),
        };
    }
    let clauses = match filter_clauses(req) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let value: Vec<Json> = ROLES
        .iter()
        .filter(|r| {
            clauses.iter().all(|c| match c {
                Clause::Compare {
                    field,
                    value,
                    negate,
                } => {
                    let hit = match field.as_str() {
                        "rolename" => r.name.eq_ignore_ascii_case(value),
                        "type" => value.eq_ignore_ascii_case("BuiltInRole"),
                        _ => true,
                    };
                    hit != *negate
                }
                _ => true,
            })
        })
        .map(|r| role_definition_json(sub.as_deref(), r))
        .collect();
    json_response(StatusCode::OK, json!({ "value": value }))
}

/// `GET {scope}/providers/Microsoft.Authorization/permissions`: the caller's effective
/// permissions, one entry per role that applies at the scope.
fn permissions(sim: &Sim, req: &ArmRequest, scope: &str) -> Response {
    let caller = match req.caller() {
        Ok(c) => c.clone(),
        Err(r) => return *r,
    };
    let st = sim.lock_state();
    let value: Vec<Json> = st
        .authorization
        .effective(&caller.object_id, scope)
        .iter()
        .filter_map(|a| role(&a.role_definition))
        .map(|r| {
            json!({
                "actions": r.actions,
                "notActions": r.not_actions,
                "dataActions": r.data_actions,
                "notDataActions": r.not_data_actions
            })
        })
        .collect();
    json_response(StatusCode::OK, json!({ "value": value }))
}

/// `principalId eq '...'` / `assignedTo('...')` and `atScope()` from a role assignment filter.
fn assignment_filter(filter: &str) -> (bool, Option<String>) {
    let lower = filter.to_ascii_lowercase();
    let at_scope = lower.contains("atscope()");
    let quoted_after = |key: &str| -> Option<String> {
        let start = lower.find(key)? + key.len();
        let rest = &filter[start..];
        let open = rest.find('\'')?;
        let rest = &rest[open + 1..];
        let close = rest.find('\'')?;
        Some(rest[..close].to_owned())
    };
    let principal = quoted_after("principalid eq").or_else(|| quoted_after("assignedto("));
    (at_scope, principal)
}

/// `GET {scope}/providers/Microsoft.Authorization/roleAssignments`: the assignments at, above
/// and (without `atScope()`) below the scope.
fn list_assignments(sim: &Sim, req: &ArmRequest, scope: &str) -> Response {
    let (at_scope, principal) = assignment_filter(req.query("$filter").unwrap_or(""));
    let st = sim.lock_state();
    let value: Vec<Json> = st
        .authorization
        .assignments
        .values()
        .filter(|a| {
            let above = within(scope, &a.scope);
            let below = within(&a.scope, scope);
            (above || (!at_scope && below))
                && principal
                    .as_deref()
                    .is_none_or(|p| a.principal_id.eq_ignore_ascii_case(p))
        })
        .map(|a| assignment_json(&st.identity.subscription_id, a))
        .collect();
    json_response(StatusCode::OK, json!({ "value": value }))
}

/// A role assignment's ID from its scope and name.
fn assignment_id(scope: &str, name: &str) -> String {
    format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{name}")
}

/// `GET {scope}/providers/Microsoft.Authorization/roleAssignments/{name}`.
fn get_assignment(sim: &Sim, scope: &str, name: &str) -> Response {
    let st = sim.lock_state();
    match st
        .authorization
        .assignments
        .get(&assignment_id(scope, name).to_ascii_lowercase())
    {
        Some(a) => json_response(
            StatusCode::OK,
            assignment_json(&st.identity.subscription_id, a),
        ),
        None => arm_error(
            StatusCode::NOT_FOUND,
            "RoleAssignmentNotFound",
            format!("The role assignment '{name}' is not found."),
        ),
    }
}

/// `PUT {scope}/providers/Microsoft.Authorization/roleAssignments/{name}`: needs
/// `roleAssignments/write` at the scope; an identical assignment under another name is a
/// `409 RoleAssignmentExists`.
fn put_assignment(sim: &Sim, req: &ArmRequest, scope: &str, name: &str) -> Response {
    let caller = match req.caller() {
        Ok(c) => c.clone(),
        Err(r) => return *r,
    };
    let body = match req.json_object() {
        Ok(b) => b,
        Err(r) => return *r,
    };
    if !directory::is_guid(name) {
        return arm_error(
            StatusCode::BAD_REQUEST,
            "InvalidRoleAssignmentId",
            format!(
                "The role assignment ID '{name}' is not valid. The role assignment ID must be a GUID."
            ),
        );
    }
    let props = match body.get("properties") {
        Some(Json::Object(p)) => p.clone(),
        _ => {
            return invalid_content(
                "Required property 'properties' not found in JSON. Path '', line 1, position 1.",
            );
        }
    };
    let role_id = match ArmRequest::required_string(&props, "roleDefinitionId") {
        Ok(r) => r,
        Err(r) => return *r,
    };
    let principal = match ArmRequest::required_string(&props, "principalId") {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let Some(role_def) = role(&role_id) else {
        let guid = role_id.rsplit('/').next().unwrap_or(&role_id);
        return arm_error(
            StatusCode::BAD_REQUEST,
            "RoleDefinitionDoesNotExist",
            format!("The specified role definition with ID '{guid}' does not exist."),
        );
    };
    let now = sim.now();
    let mut st = sim.lock_state();
    let identity = st.identity.clone();
    let id = assignment_id(scope, name);
    let action = "Microsoft.Authorization/roleAssignments/write";
    if !st.authorization.allows(&caller.object_id, scope, action) {
        return authorization_failed(&caller, action, &id);
    }
    let key = id.to_ascii_lowercase();
    if let Some(existing) = st.authorization.assignments.get(&key) {
        let same = existing.principal_id.eq_ignore_ascii_case(&principal)
            && existing.role_definition.eq_ignore_ascii_case(role_def.id);
        if !same {
            return arm_error(
                StatusCode::BAD_REQUEST,
                "RoleAssignmentUpdateNotPermitted",
                "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
            );
        }
        let out = assignment_json(&identity.subscription_id, existing);
        return json_response(StatusCode::CREATED, out);
    }
    if let Some(dup) = st.authorization.assignments.values().find(|a| {
        a.scope.eq_ignore_ascii_case(scope)
            && a.principal_id.eq_ignore_ascii_case(&principal)
            && a.role_definition.eq_ignore_ascii_case(role_def.id)
    }) {
        return arm_error(
            StatusCode::CONFLICT,
            "RoleAssignmentExists",
            format!(
                "The role assignment already exists. The ID of the existing role assignment is {}.",
                dup.name.replace('-', "")
            ),
        );
    }
    let principal_type = props
        .get("principalType")
        .and_then(Json::as_str)
        .map_or_else(
            || principal_type_of(&identity, &principal).to_owned(),
            str::to_owned,
        );
    let a = RoleAssignment {
        id,
        name: name.to_owned(),
        scope: scope.to_owned(),
        role_definition: role_def.id.to_owned(),
        principal_id: principal,
        principal_type,
        description: props
            .get("description")
            .and_then(Json::as_str)
            .map(str::to_owned),
        created_by: Some(caller.object_id.clone()),
        created_on: now,
    };
    let out = assignment_json(&identity.subscription_id, &a);
    st.authorization.assignments.insert(key, a);
    sim.persist(&st);
    json_response(StatusCode::CREATED, out)
}

/// `DELETE {scope}/providers/Microsoft.Authorization/roleAssignments/{name}`: needs
/// `roleAssignments/delete`; `204` when there is nothing to delete.
fn delete_assignment(sim: &Sim, req: &ArmRequest, scope: &str, name: &str) -> Response {
    let caller = match req.caller() {
        Ok(c) => c.clone(),
        Err(r) => return *r,
    };
    let mut st = sim.lock_state();
    let subscription_id = st.identity.subscription_id.clone();
    let id = assignment_id(scope, name);
    let action = "Microsoft.Authorization/roleAssignments/delete";
    if !st.authorization.allows(&caller.object_id, scope, action) {
        return authorization_failed(&caller, action, &id);
    }
    match st
        .authorization
        .assignments
        .remove(&id.to_ascii_lowercase())
    {
        Some(a) => {
            sim.persist(&st);
            json_response(StatusCode::OK, assignment_json(&subscription_id, &a))
        }
        None => StatusCode::NO_CONTENT.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_like_arm() {
        assert!(action_matches(
            "*",
            "Microsoft.Storage/storageAccounts/write"
        ));
        assert!(action_matches(
            "Microsoft.Authorization/*/Write",
            "microsoft.authorization/roleAssignments/write"
        ));
        assert!(!action_matches(
            "*/read",
            "Microsoft.Storage/storageAccounts/write"
        ));
        assert!(action_matches(
            "*/read",
            "Microsoft.Storage/storageAccounts/read"
        ));
    }

    #[test]
    fn contributor_cannot_write_role_assignments_but_owner_can() {
        let w = "Microsoft.Authorization/roleAssignments/write";
        assert!(role(OWNER).unwrap().grants(w));
        assert!(!role(CONTRIBUTOR).unwrap().grants(w));
        assert!(
            role(CONTRIBUTOR)
                .unwrap()
                .grants("Microsoft.Resources/deployments/write")
        );
    }

    #[test]
    fn a_new_subscription_makes_both_principals_owner() {
        let id = Identity::default();
        let mut a = AuthorizationState::new(&id, OffsetDateTime::UNIX_EPOCH);
        let scope = format!("/subscriptions/{}/resourceGroups/rg", id.subscription_id);
        let w = "Microsoft.Authorization/roleAssignments/write";
        assert!(a.allows(&id.client_object_id, &scope, w));
        a.set_subscription_role(
            &id,
            &id.client_object_id,
            CONTRIBUTOR,
            OffsetDateTime::UNIX_EPOCH,
        );
        assert!(!a.allows(&id.client_object_id, &scope, w));
        assert!(a.allows(&id.user_object_id, &scope, w));
    }

    #[test]
    fn filters_pick_scope_and_principal() {
        assert_eq!(
            assignment_filter("atScope() and principalId eq 'abc'"),
            (true, Some("abc".into()))
        );
        assert_eq!(
            assignment_filter("assignedTo('x')"),
            (false, Some("x".into()))
        );
    }
}
