//! Tokens: signed JWTs with the claims Azure puts there (`tid`, `oid`, `upn`, `aud`, `exp`...),
//! issued to the service principal and to the user, and their verification on every ARM request.
//!
//! Tokens are RS256 JWTs, as Entra ID signs them, with the `kid`/`x5t` of a key published at
//! `/{tenant}/discovery/v2.0/keys`. Access tokens are v1 tokens (`ver` 1.0, issuer
//! `{authority}/{tenant}/`), as Entra ID issues for Resource Manager; ID tokens are v2 tokens.
//! Lifetimes come from [`crate::Scenario::token_lifetime_seconds`] and are measured by the
//! simulator's clock, so a test moving a [`crate::ManualClock`] can expire them.
//!
//! Data and errors: [`TokenKeys`] owns the in-memory sign-in [`Store`]; the grants sign through
//! it and ARM's middleware verifies through [`TokenKeys::verify_arm`], whose [`TokenError`]
//! becomes ARM's `401` with the matching code. A signing key that cannot be made makes issuing
//! return `None`, which the token endpoint reports as Entra ID's server error.

use std::sync::{Mutex, MutexGuard, OnceLock};

use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};
use time::OffsetDateTime;

use super::directory::{self, Client, ResourceScopes, Scopes};
use super::keys::{self, KeyMaterial};
use super::store::{Store, UserGrant, random_token};
use crate::http::Caller;
use crate::{Identity, Sim};

/// The claims of a simulated Entra ID access token.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Claims {
    /// Audience: the resource as the client named it (`https://management.azure.com`,
    /// `https://management.core.windows.net/`, the simulator's URL...).
    pub aud: String,
    /// Issuer (`{authority}/{tenant}/`).
    pub iss: String,
    /// Issued at (Unix seconds; Entra ID back-dates it five minutes for clock skew).
    pub iat: i64,
    /// Not before.
    pub nbf: i64,
    /// Expiry.
    pub exp: i64,
    /// Tenant ID.
    pub tid: String,
    /// Object ID of the principal.
    pub oid: String,
    /// Subject (pairwise for users, the object ID for apps).
    pub sub: String,
    /// Application ID of the client.
    #[serde(default)]
    pub appid: String,
    /// How the client authenticated: `0` public, `1` secret, `2` certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appidacr: Option<String>,
    /// User principal name (users only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upn: Option<String>,
    /// Unique name (users only; the UPN).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unique_name: Option<String>,
    /// Display name (users only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `app` for service principals, `user` for users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idtyp: Option<String>,
    /// Scopes granted (delegated tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scp: Option<String>,
    /// Authentication methods (users only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amr: Option<Vec<String>>,
    /// Identity provider, when the user is a guest in `tid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idp: Option<String>,
    /// Unique token identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uti: Option<String>,
    /// Token version (`1.0`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ver: Option<String>,
}

/// Why a token was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// `exp` has passed.
    #[error(
        "The access token expiry UTC time '{expiry}' is earlier than current UTC time '{now}'."
    )]
    Expired {
        /// The token's expiry, as ARM writes times in this message.
        expiry: String,
        /// Now, by the simulator's clock.
        now: String,
    },
    /// The audience is not this Resource Manager.
    #[error(
        "The access token has been obtained for wrong audience or resource '{0}'. It should exactly match with one of the allowed audiences 'https://management.core.windows.net/','https://management.core.windows.net','https://management.azure.com/','https://management.azure.com'."
    )]
    WrongAudience(String),
    /// Not a token this simulator signed.
    #[error("The access token is invalid.")]
    Invalid,
}

impl TokenError {
    /// ARM's error code for this refusal.
    pub fn code(&self) -> &'static str {
        match self {
            TokenError::Expired { .. } => "ExpiredAuthenticationToken",
            TokenError::WrongAudience(_) => "InvalidAuthenticationTokenAudience",
            TokenError::Invalid => "InvalidAuthenticationToken",
        }
    }
}

/// Token signing and verification, and the sign-in state behind them (codes, refresh tokens,
/// device flows; see [`super::store`]).
pub struct TokenKeys {
    store: Mutex<Store>,
    client_certificate: OnceLock<Option<KeyMaterial>>,
}

/// The generated client certificate, shared by every simulator in the process (RSA key
/// generation is slow in debug builds).
static DEFAULT_CLIENT_CERTIFICATE: OnceLock<Option<KeyMaterial>> = OnceLock::new();

impl TokenKeys {
    /// Token keys for a new simulator. The signing key itself is made at first use.
    pub fn generate() -> Self {
        TokenKeys {
            store: Mutex::new(Store::default()),
            client_certificate: OnceLock::new(),
        }
    }

    /// The sign-in state. Hold the guard briefly and never across an `.await`.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The service principal's client certificate and private key: the identity's
    /// (`clientCertificatePem`, `clientCertificateKeyPem`) if configured, else one generated
    /// at first use. `None` if the configured pair is unusable (logged once).
    pub fn client_certificate(&self, identity: &Identity) -> Option<&KeyMaterial> {
        if identity.client_certificate_pem.is_empty()
            || identity.client_certificate_key_pem.is_empty()
        {
            return DEFAULT_CLIENT_CERTIFICATE
                .get_or_init(|| match KeyMaterial::generate("landfall-sim-client") {
                    Ok(m) => Some(m),
                    Err(e) => {
                        tracing::error!("cannot generate the client certificate: {e}");
                        None
                    }
                })
                .as_ref();
        }
        self.client_certificate
            .get_or_init(|| {
                match KeyMaterial::from_pem(
                    &identity.client_certificate_pem,
                    &identity.client_certificate_key_pem,
                ) {
                    Ok(m) => Some(m),
                    Err(e) => {
                        tracing::warn!("the configured client certificate is unusable: {e}");
                        None
                    }
                }
            })
            .as_ref()
    }

    /// [`Self::client_certificate`] for async handlers: generation runs on a blocking thread.
    pub async fn client_certificate_async(&self, identity: &Identity) -> Option<KeyMaterial> {
        if self.client_certificate.get().is_none() && DEFAULT_CLIENT_CERTIFICATE.get().is_none() {
            let id = identity.clone();
            // Warms the process-wide default (or parses the configured pair) off the runtime.
            let _ = tokio::task::spawn_blocking(move || {
                TokenKeys::generate().client_certificate(&id).is_some()
            })
            .await;
        }
        self.client_certificate(identity).cloned()
    }

    /// Signs claims into a JWT (empty if the signing key could not be made).
    pub fn issue(&self, claims: &Claims) -> String {
        self.sign(claims).unwrap_or_default()
    }

    /// Signs any claims with the signing key, with the `kid`/`x5t` header Entra ID uses.
    pub fn sign<T: Serialize>(&self, claims: &T) -> Option<String> {
        let key = keys::signing_key()?;
        let mut header = Header::new(Algorithm::RS256);
        header.typ = Some("JWT".into());
        header.kid = Some(key.material.x5t.clone());
        header.x5t = Some(key.material.x5t.clone());
        jsonwebtoken::encode(&header, claims, &key.encoding).ok()
    }

    /// Decodes and checks a token's signature, without judging expiry or audience.
    pub fn decode(&self, token: &str) -> Result<Claims, TokenError> {
        let key = keys::existing_signing_key().ok_or(TokenError::Invalid)?;
        let mut v = Validation::new(Algorithm::RS256);
        v.validate_exp = false;
        v.validate_nbf = false;
        v.validate_aud = false;
        v.required_spec_claims.clear();
        jsonwebtoken::decode::<Claims>(token, &key.decoding, &v)
            .map(|d| d.claims)
            .map_err(|_| TokenError::Invalid)
    }

    /// Verifies a token presented to ARM: signature, expiry by the simulator's clock, audience.
    pub fn verify_arm(&self, sim: &Sim, token: &str) -> Result<Caller, TokenError> {
        let claims = self.decode(token)?;
        let now = sim.now();
        if claims.exp <= now.unix_timestamp() {
            let expiry = OffsetDateTime::from_unix_timestamp(claims.exp)
                .map(arm_time)
                .unwrap_or_default();
            return Err(TokenError::Expired {
                expiry,
                now: arm_time(now),
            });
        }
        let aud = claims.aud.trim_end_matches('/').to_ascii_lowercase();
        let base = sim.base_url.trim_end_matches('/').to_ascii_lowercase();
        let mut allowed = vec![
            base.clone(),
            "https://management.azure.com".into(),
            "https://management.core.windows.net".into(),
        ];
        if let Some(port) = base.strip_prefix("https://127.0.0.1:") {
            allowed.push(format!("https://localhost:{port}"));
        }
        if !allowed.contains(&aud) {
            return Err(TokenError::WrongAudience(claims.aud));
        }
        Ok(Caller {
            object_id: claims.oid,
            tenant_id: claims.tid,
            name: claims.upn.unwrap_or(claims.appid),
        })
    }

    /// An ARM access token for the service principal in its home tenant, valid for the
    /// scenario's token lifetime: what a client-credentials sign-in would return. For tests.
    pub fn service_principal_token(&self, sim: &Sim) -> String {
        let id = &sim.options.identity;
        let claims = app_claims(sim, &id.tenant_id, &format!("{}/", sim.base_url), "1");
        self.issue(&claims)
    }
}

/// `11/30/2023 6:38:31 PM`: how ARM writes times in token errors.
fn arm_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let (h12, ampm) = match t.hour() {
        0 => (12, "AM"),
        h @ 1..=11 => (h, "AM"),
        12 => (12, "PM"),
        h => (h - 12, "PM"),
    };
    format!(
        "{}/{}/{} {}:{:02}:{:02} {ampm}",
        u8::from(t.month()),
        t.day(),
        t.year(),
        h12,
        t.minute(),
        t.second()
    )
}

/// Seconds an access token lives: the scenario's `tokenLifetimeSeconds`, default 3600.
pub fn token_lifetime(sim: &Sim) -> i64 {
    sim.faults
        .scenario()
        .token_lifetime_seconds
        .map_or(3600, |s| i64::try_from(s).unwrap_or(i64::MAX / 2))
}

/// Entra ID back-dates `iat` and `nbf` by five minutes to tolerate clock skew.
const SKEW_SECONDS: i64 = 300;

/// Claims of an app-only access token.
pub fn app_claims(sim: &Sim, tenant_id: &str, audience: &str, appidacr: &str) -> Claims {
    let id = &sim.options.identity;
    let now = sim.now().unix_timestamp();
    Claims {
        aud: audience.to_owned(),
        iss: format!("{}/{tenant_id}/", sim.base_url),
        iat: now - SKEW_SECONDS,
        nbf: now - SKEW_SECONDS,
        exp: now.saturating_add(token_lifetime(sim)),
        tid: tenant_id.to_owned(),
        oid: id.client_object_id.clone(),
        sub: id.client_object_id.clone(),
        appid: id.client_id.clone(),
        appidacr: Some(appidacr.to_owned()),
        idtyp: Some("app".into()),
        idp: Some(format!("{}/{tenant_id}/", sim.base_url)),
        uti: Some(random_token(22)),
        ver: Some("1.0".into()),
        ..Claims::default()
    }
}

/// Claims of a delegated access token for the user.
pub fn user_claims(sim: &Sim, grant: &UserGrant, resource: &ResourceScopes) -> Claims {
    let id = &sim.options.identity;
    let now = sim.now().unix_timestamp();
    let oid = directory::user_object_id(id, &grant.tenant_id);
    let guest = !grant.tenant_id.eq_ignore_ascii_case(&id.tenant_id);
    Claims {
        aud: resource.audience().to_owned(),
        iss: format!("{}/{}/", sim.base_url, grant.tenant_id),
        iat: now - SKEW_SECONDS,
        nbf: now - SKEW_SECONDS,
        exp: now.saturating_add(token_lifetime(sim)),
        tid: grant.tenant_id.clone(),
        sub: directory::pairwise_subject(&oid, &grant.client_id),
        oid,
        appid: grant.client_id.clone(),
        appidacr: Some("0".into()),
        upn: (!guest).then(|| id.user_upn.clone()),
        unique_name: Some(id.user_upn.clone()),
        name: Some(id.user_display_name.clone()),
        idtyp: Some("user".into()),
        scp: Some(resource.granted().join(" ")),
        amr: Some(vec!["pwd".into(), "mfa".into()]),
        idp: guest.then(|| format!("{}/{}/", sim.base_url, id.tenant_id)),
        uti: Some(random_token(22)),
        ver: Some("1.0".into()),
    }
}

/// A v2 ID token for the user and app.
pub fn id_token_claims(sim: &Sim, grant: &UserGrant, scopes: &Scopes) -> Json {
    let id = &sim.options.identity;
    let now = sim.now().unix_timestamp();
    let oid = directory::user_object_id(id, &grant.tenant_id);
    let mut c = json!({
        "aud": grant.client_id,
        "iss": format!("{}/{}/v2.0", sim.base_url, grant.tenant_id),
        "iat": now - SKEW_SECONDS,
        "nbf": now - SKEW_SECONDS,
        "exp": now.saturating_add(3600),
        "auth_time": grant.auth_time.unix_timestamp(),
        "name": id.user_display_name,
        "oid": oid,
        "preferred_username": id.user_upn,
        "sub": directory::pairwise_subject(&oid, &grant.client_id),
        "tid": grant.tenant_id,
        "uti": random_token(22),
        "ver": "2.0",
    });
    if let Some(obj) = c.as_object_mut() {
        if let Some(nonce) = &grant.nonce {
            obj.insert("nonce".into(), Json::String(nonce.clone()));
        }
        if scopes.email {
            obj.insert("email".into(), Json::String(id.user_upn.clone()));
        }
    }
    c
}

/// `client_info`: base64url JSON naming the user's home account, as MSAL expects it.
pub fn client_info(identity: &Identity) -> String {
    use base64::Engine;
    let body = json!({"uid": identity.user_object_id, "utid": identity.tenant_id});
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(body.to_string())
}

/// What a delegated token response needs.
pub struct UserTokenRequest<'a> {
    /// The grant.
    pub grant: &'a UserGrant,
    /// The scopes of this request.
    pub scopes: &'a Scopes,
    /// The app.
    pub client: &'a Client,
    /// Whether the client asked for `client_info`.
    pub client_info: bool,
    /// Whether to issue a refresh token.
    pub refresh: bool,
}

/// Issues a delegated token response in Entra ID's shape, storing the refresh token.
pub fn user_token_response(sim: &Sim, req: &UserTokenRequest<'_>) -> Option<Json> {
    let resource = req.scopes.resource_or_graph();
    let lifetime = token_lifetime(sim);
    let access = sim.tokens.sign(&user_claims(sim, req.grant, &resource))?;
    let mut body = serde_json::Map::new();
    body.insert("token_type".into(), json!("Bearer"));
    body.insert("scope".into(), json!(resource.response_scope()));
    body.insert("expires_in".into(), json!(lifetime));
    body.insert("ext_expires_in".into(), json!(lifetime));
    body.insert("access_token".into(), json!(access));
    if req.refresh {
        let rt = format!("1.A{}", random_token(240));
        let mut store = sim.tokens.store();
        let now = sim.now();
        store.prune(now);
        store.refresh_tokens.insert(
            rt.clone(),
            super::store::RefreshGrant {
                grant: req.grant.clone(),
                issued: now,
            },
        );
        drop(store);
        body.insert("refresh_token".into(), json!(rt));
    }
    if req.scopes.openid {
        let id_token = sim
            .tokens
            .sign(&id_token_claims(sim, req.grant, req.scopes))?;
        body.insert("id_token".into(), json!(id_token));
    }
    if req.client_info {
        body.insert(
            "client_info".into(),
            json!(client_info(&sim.options.identity)),
        );
    }
    if req.client.is_family() {
        body.insert("foci".into(), json!("1"));
    }
    Some(Json::Object(body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn arm_writes_times_with_a_twelve_hour_clock() {
        assert_eq!(
            arm_time(datetime!(2023-11-30 18:38:31 UTC)),
            "11/30/2023 6:38:31 PM"
        );
        assert_eq!(
            arm_time(datetime!(2023-01-02 00:05:09 UTC)),
            "1/2/2023 12:05:09 AM"
        );
    }

    #[test]
    fn signed_tokens_decode_and_foreign_ones_do_not() {
        let keys = TokenKeys::generate();
        let claims = Claims {
            aud: "https://management.azure.com".into(),
            exp: 10,
            ..Claims::default()
        };
        let t = keys.issue(&claims);
        assert_eq!(t.split('.').count(), 3);
        assert_eq!(keys.decode(&t).unwrap().aud, claims.aud);
        let forged = format!("{}x", t);
        assert!(keys.decode(&forged).is_err());
    }
}
