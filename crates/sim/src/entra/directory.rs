//! Who exists in the simulated directory: tenants (as a request path names them), the apps that
//! may sign in (the service principal and Microsoft's public first-party clients), the user,
//! and the resources tokens can be requested for (scopes).
//!
//! Everything here is derived from the [`crate::Identity`]: nothing is stored. Lookups that fail
//! are the [`EntraError`]s Entra ID answers with (unknown tenant, app or scope).

use std::collections::BTreeSet;

use sha2::Digest as _;

use super::error::EntraError;
use crate::{Identity, Sim};

/// Microsoft Azure CLI, a public client (and the default of azure-identity's developer
/// credentials).
pub const AZURE_CLI: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
/// Microsoft Azure PowerShell, a public client.
pub const AZURE_POWERSHELL: &str = "1950a258-227b-4e31-a9cf-717495945fc2";
/// Visual Studio Code, a public client.
pub const VISUAL_STUDIO_CODE: &str = "aebc6443-996d-45c2-90f0-388ff96faa56";

/// Public first-party clients: ID, display name. They are in every tenant and in "family 1"
/// (FOCI): one's refresh token is accepted for the others, and responses carry `foci: "1"`.
const FIRST_PARTY: [(&str, &str); 3] = [
    (AZURE_CLI, "Microsoft Azure CLI"),
    (AZURE_POWERSHELL, "Microsoft Azure PowerShell"),
    (VISUAL_STUDIO_CODE, "Visual Studio Code"),
];

/// The well-known tenant-independent segments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    /// `common`.
    Common,
    /// `organizations`.
    Organizations,
}

/// The tenant a request's path names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TenantPath {
    /// A real tenant (by ID or one of its domains).
    Tenant {
        /// Its ID.
        id: String,
        /// Whether it is the identity's home tenant (else the guest tenant).
        home: bool,
    },
    /// `common` or `organizations`: the user's home tenant once signed in.
    Multi(Audience),
}

impl TenantPath {
    /// Reads a path segment: a tenant ID, a domain of the home tenant, `common` or
    /// `organizations`. Anything else is AADSTS90002.
    pub fn resolve(identity: &Identity, segment: &str) -> Result<TenantPath, EntraError> {
        let s = segment.to_ascii_lowercase();
        if s == "common" {
            return Ok(TenantPath::Multi(Audience::Common));
        }
        if s == "organizations" {
            return Ok(TenantPath::Multi(Audience::Organizations));
        }
        if s == identity.tenant_id.to_ascii_lowercase() || home_domains(identity).contains(&s) {
            return Ok(TenantPath::Tenant {
                id: identity.tenant_id.clone(),
                home: true,
            });
        }
        if !identity.guest_tenant_id.is_empty()
            && s == identity.guest_tenant_id.to_ascii_lowercase()
        {
            return Ok(TenantPath::Tenant {
                id: identity.guest_tenant_id.clone(),
                home: false,
            });
        }
        Err(EntraError::bad_request(
            "invalid_tenant",
            90002,
            format!(
                "Tenant '{}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.",
                truncate(segment, 100)
            ),
        ))
    }

    /// The tenant ID a user's tokens carry (`tid`): the named tenant, or the home tenant.
    pub fn user_tenant<'a>(&'a self, identity: &'a Identity) -> &'a str {
        match self {
            TenantPath::Tenant { id, .. } => id,
            TenantPath::Multi(_) => &identity.tenant_id,
        }
    }

    /// The segment Entra ID's metadata uses in endpoint URLs: tenant IDs are canonicalised
    /// (a domain becomes the ID), `common` and `organizations` stay.
    pub fn endpoint_segment(&self) -> &str {
        match self {
            TenantPath::Tenant { id, .. } => id,
            TenantPath::Multi(Audience::Common) => "common",
            TenantPath::Multi(Audience::Organizations) => "organizations",
        }
    }

    /// The segment of the `issuer`: the tenant ID, or the `{tenantid}` template Entra ID
    /// publishes for multi-tenant metadata.
    pub fn issuer_segment(&self) -> &str {
        match self {
            TenantPath::Tenant { id, .. } => id,
            TenantPath::Multi(_) => "{tenantid}",
        }
    }

    /// A name for messages ("directory 'Contoso'").
    pub fn display<'a>(&'a self, identity: &'a Identity) -> &'a str {
        match self {
            TenantPath::Tenant { home: true, .. } => &identity.tenant_name,
            TenantPath::Tenant { id, .. } => id,
            TenantPath::Multi(_) => self.endpoint_segment(),
        }
    }

    /// Whether this is the guest tenant.
    pub fn is_guest(&self) -> bool {
        matches!(self, TenantPath::Tenant { home: false, .. })
    }
}

/// Domains of the home tenant accepted in paths: the user's UPN domain and
/// `{tenantname}.onmicrosoft.com`.
fn home_domains(identity: &Identity) -> Vec<String> {
    let mut out = Vec::new();
    if let Some((_, domain)) = identity.user_upn.rsplit_once('@') {
        out.push(domain.to_ascii_lowercase());
    }
    let name: String = identity
        .tenant_name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    if !name.is_empty() {
        out.push(format!("{}.onmicrosoft.com", name.to_ascii_lowercase()));
    }
    out
}

/// An app that may ask for tokens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Client {
    /// The identity's service principal: confidential (secret or certificate) for client
    /// credentials, and allowed public client flows (auth code, device code) for the user.
    ServicePrincipal,
    /// A Microsoft first-party public client.
    FirstParty {
        /// Display name.
        name: &'static str,
    },
}

impl Client {
    /// Finds an app by client ID as seen from a tenant: the service principal exists in the
    /// home tenant only, first-party clients everywhere. Unknown is AADSTS700016.
    pub fn find(
        identity: &Identity,
        tenant: &TenantPath,
        client_id: &str,
    ) -> Result<Client, EntraError> {
        if client_id.eq_ignore_ascii_case(&identity.client_id) && !tenant.is_guest() {
            return Ok(Client::ServicePrincipal);
        }
        if let Some((_, name)) = FIRST_PARTY
            .iter()
            .find(|(id, _)| id.eq_ignore_ascii_case(client_id))
        {
            return Ok(Client::FirstParty { name });
        }
        Err(EntraError::bad_request(
            "unauthorized_client",
            700016,
            format!(
                "Application with identifier '{}' was not found in the directory '{}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
                truncate(client_id, 100),
                tenant.display(identity)
            ),
        ))
    }

    /// The app's display name.
    pub fn name(&self) -> &'static str {
        match self {
            Client::ServicePrincipal => "Landfall",
            Client::FirstParty { name } => name,
        }
    }

    /// Whether the app is in the family of client IDs (FOCI).
    pub fn is_family(&self) -> bool {
        matches!(self, Client::FirstParty { .. })
    }
}

/// Whether two client IDs may share a refresh token: the same app, or both in the family.
pub fn same_family(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
        || (FIRST_PARTY.iter().any(|(id, _)| id.eq_ignore_ascii_case(a))
            && FIRST_PARTY.iter().any(|(id, _)| id.eq_ignore_ascii_case(b)))
}

/// The user's object ID in a tenant: the identity's in the home tenant, a stable derived one
/// in the guest tenant (a guest is a different object there).
pub fn user_object_id(identity: &Identity, tenant_id: &str) -> String {
    if tenant_id.eq_ignore_ascii_case(&identity.tenant_id) {
        identity.user_object_id.clone()
    } else {
        derived_guid(&[&identity.user_object_id, tenant_id])
    }
}

/// A deterministic GUID-shaped ID from some parts.
pub fn derived_guid(parts: &[&str]) -> String {
    let mut h = sha2::Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    let d = h.finalize();
    let hex: String = d.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-4{}-8{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

/// The pairwise `sub` Entra ID gives a principal for one app: stable, opaque, 43 characters.
pub fn pairwise_subject(object_id: &str, client_id: &str) -> String {
    use base64::Engine;
    let d = sha2::Sha256::new()
        .chain_update(object_id.to_ascii_lowercase())
        .chain_update([0u8])
        .chain_update(client_id.to_ascii_lowercase())
        .finalize();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(d)
}

/// A resource tokens can be issued for.
struct KnownResource {
    /// Its identifier, lower case, without a trailing slash.
    id: String,
    /// The delegated permission `.default` stands for.
    default_permission: &'static str,
}

/// The resources tokens can be asked for, and the permission `.default` stands for in each.
fn known_resources(sim: &Sim) -> Vec<KnownResource> {
    let base = sim.base_url.trim_end_matches('/').to_ascii_lowercase();
    let mut out = vec![KnownResource {
        id: base.clone(),
        default_permission: "user_impersonation",
    }];
    if let Some(rest) = base.strip_prefix("https://127.0.0.1:") {
        out.push(KnownResource {
            id: format!("https://localhost:{rest}"),
            default_permission: "user_impersonation",
        });
    }
    for (id, default_permission) in [
        ("https://management.azure.com", "user_impersonation"),
        ("https://management.core.windows.net", "user_impersonation"),
        ("https://graph.microsoft.com", "User.Read"),
        ("https://graph.windows.net", "User.Read"),
        ("https://vault.azure.net", "user_impersonation"),
        ("https://storage.azure.com", "user_impersonation"),
        (
            "https://ossrdbms-aad.database.windows.net",
            "user_impersonation",
        ),
    ] {
        out.push(KnownResource {
            id: id.into(),
            default_permission,
        });
    }
    out
}

/// The Graph resource scopes without a prefix (`User.Read`) refer to.
const GRAPH: &str = "https://graph.microsoft.com";

/// A parsed `scope` parameter.
#[derive(Clone, Debug, Default)]
pub struct Scopes {
    /// The resource and the permissions asked of it, if any.
    pub resource: Option<ResourceScopes>,
    /// `openid`: an ID token is wanted.
    pub openid: bool,
    /// `offline_access`: a refresh token is wanted.
    pub offline_access: bool,
    /// `profile`.
    pub profile: bool,
    /// `email`.
    pub email: bool,
}

/// Permissions on one resource.
#[derive(Clone, Debug)]
pub struct ResourceScopes {
    /// The resource as the client wrote it (`https://management.core.windows.net/`), which
    /// becomes the token's `aud`.
    pub prefix: String,
    /// Permissions asked (`.default`, `user_impersonation`...), in order.
    pub permissions: Vec<String>,
    /// What `.default` stands for on this resource.
    pub default_permission: &'static str,
}

impl ResourceScopes {
    /// The token's audience.
    pub fn audience(&self) -> &str {
        &self.prefix
    }

    /// Whether only `.default` was asked (client credentials require it).
    pub fn is_default_only(&self) -> bool {
        self.permissions.iter().all(|p| p == ".default")
    }

    /// The delegated permissions granted (`scp`).
    pub fn granted(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for p in &self.permissions {
            let g = if p == ".default" {
                self.default_permission.to_owned()
            } else {
                p.clone()
            };
            if !out.contains(&g) {
                out.push(g);
            }
        }
        out
    }

    /// The response's `scope`: granted permissions, then `.default` if it was asked, each
    /// prefixed with the resource as written (`https://management.core.windows.net//.default`).
    pub fn response_scope(&self) -> String {
        let mut items: Vec<String> = self
            .granted()
            .into_iter()
            .map(|p| format!("{}/{p}", self.prefix))
            .collect();
        if self.permissions.iter().any(|p| p == ".default") {
            items.push(format!("{}/.default", self.prefix));
        }
        items.join(" ")
    }
}

impl Scopes {
    /// Parses a space-separated `scope`. Errors are Entra ID's: an unknown resource is
    /// AADSTS500011, two resources AADSTS700022, a malformed scope AADSTS70011.
    pub fn parse(sim: &Sim, tenant: &str, scope: &str) -> Result<Scopes, EntraError> {
        let known = known_resources(sim);
        let mut out = Scopes::default();
        let mut resource: Option<ResourceScopes> = None;
        for item in scope.split_whitespace() {
            match item.to_ascii_lowercase().as_str() {
                "openid" => {
                    out.openid = true;
                    continue;
                }
                "offline_access" => {
                    out.offline_access = true;
                    continue;
                }
                "profile" => {
                    out.profile = true;
                    continue;
                }
                "email" => {
                    out.email = true;
                    continue;
                }
                _ => {}
            }
            let (prefix, permission) = if item.contains("://") {
                match item.rsplit_once('/') {
                    Some((prefix, perm)) if !perm.is_empty() && prefix.len() > "https://".len() => {
                        (prefix.to_owned(), perm.to_owned())
                    }
                    _ => return Err(invalid_scope(item)),
                }
            } else {
                (GRAPH.to_owned(), item.to_owned())
            };
            let id = prefix.trim_end_matches('/').to_ascii_lowercase();
            let Some(k) = known.iter().find(|k| k.id == id) else {
                return Err(EntraError::bad_request(
                    "invalid_resource",
                    500011,
                    format!(
                        "The resource principal named {} was not found in the tenant named {}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.",
                        truncate(&prefix, 200),
                        truncate(tenant, 100)
                    ),
                ));
            };
            match &mut resource {
                None => {
                    resource = Some(ResourceScopes {
                        prefix,
                        permissions: vec![permission],
                        default_permission: k.default_permission,
                    })
                }
                Some(r) if r.prefix.trim_end_matches('/').eq_ignore_ascii_case(&id) => {
                    if !r.permissions.contains(&permission) {
                        r.permissions.push(permission);
                    }
                }
                Some(_) => {
                    return Err(EntraError::bad_request(
                        "invalid_scope",
                        700022,
                        format!(
                            "The provided value for the input parameter scope is not valid because it contains more than one resource. Scope {} is not valid.",
                            truncate(scope, 500)
                        ),
                    ));
                }
            }
        }
        out.resource = resource;
        Ok(out)
    }

    /// The OIDC scopes asked, for the ID token and response.
    pub fn oidc(&self) -> BTreeSet<&'static str> {
        let mut s = BTreeSet::new();
        for (on, name) in [
            (self.openid, "openid"),
            (self.profile, "profile"),
            (self.email, "email"),
            (self.offline_access, "offline_access"),
        ] {
            if on {
                s.insert(name);
            }
        }
        s
    }

    /// The resource, or Microsoft Graph's `User.Read` when only OIDC scopes were asked (Entra
    /// ID then issues a Graph token).
    pub fn resource_or_graph(&self) -> ResourceScopes {
        self.resource.clone().unwrap_or_else(|| ResourceScopes {
            prefix: GRAPH.to_owned(),
            permissions: vec!["User.Read".into()],
            default_permission: "User.Read",
        })
    }
}

/// AADSTS70011: a scope that names no known resource.
fn invalid_scope(item: &str) -> EntraError {
    EntraError::bad_request(
        "invalid_scope",
        70011,
        format!(
            "The provided value for the input parameter 'scope' is not valid. The scope {} is not valid.",
            truncate(item, 200)
        ),
    )
}

/// Cuts text echoed from a request so an error message stays small.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        s.chars().take(max).collect::<String>() + "..."
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_paths_resolve_ids_domains_and_aliases() {
        let id = Identity::default();
        assert_eq!(
            TenantPath::resolve(&id, &id.tenant_id.to_uppercase())
                .unwrap()
                .endpoint_segment(),
            id.tenant_id
        );
        assert!(matches!(
            TenantPath::resolve(&id, "contoso.example").unwrap(),
            TenantPath::Tenant { home: true, .. }
        ));
        assert!(
            TenantPath::resolve(&id, &id.guest_tenant_id)
                .unwrap()
                .is_guest()
        );
        assert_eq!(
            TenantPath::resolve(&id, "Organizations").unwrap(),
            TenantPath::Multi(Audience::Organizations)
        );
        let e = TenantPath::resolve(&id, "nope").unwrap_err();
        assert_eq!(e.code, 90002);
    }

    #[test]
    fn the_service_principal_is_unknown_in_the_guest_tenant() {
        let id = Identity::default();
        let guest = TenantPath::resolve(&id, &id.guest_tenant_id).unwrap();
        assert_eq!(
            Client::find(&id, &guest, &id.client_id).unwrap_err().code,
            700016
        );
        assert!(Client::find(&id, &guest, AZURE_CLI).is_ok());
    }

    #[test]
    fn derived_ids_are_guid_shaped_and_stable() {
        let a = derived_guid(&["x", "y"]);
        assert_eq!(a.len(), 36);
        assert_eq!(a, derived_guid(&["x", "y"]));
        assert_ne!(a, derived_guid(&["x", "z"]));
    }

    #[test]
    fn family_clients_share_refresh_tokens_others_do_not() {
        assert!(same_family(AZURE_CLI, AZURE_POWERSHELL));
        assert!(!same_family(
            AZURE_CLI,
            "0f1e2d3c-0000-4000-8000-00000000d004"
        ));
    }
}
