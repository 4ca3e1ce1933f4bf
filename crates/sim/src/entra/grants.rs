//! `POST /{tenant}/oauth2/v2.0/token`: the grants.
//!
//! - `client_credentials`: the service principal with its secret (form or HTTP Basic) or a
//!   certificate assertion; a tenant-specific authority and a `/.default` scope are required.
//! - `authorization_code`: single use, 10 minutes, same client, tenant and redirect URI as
//!   at authorize, PKCE (`S256` or `plain`) verified.
//! - `refresh_token`: opaque tokens from [`super::store`]; each refresh returns a new one
//!   (the old one stays valid until it expires, as in Entra ID); family (FOCI) clients share
//!   them; the tenant may change (a home refresh token gets guest tenant tokens).
//! - `urn:ietf:params:oauth:grant-type:device_code`: `authorization_pending` until the user
//!   acts, `slow_down` when polled faster than the interval, `expired_token` after 15 minutes,
//!   `authorization_declined` when declined.
//!
//! Responses and errors are in Entra ID's shape; AADSTS codes are those Entra ID documents or
//! returns for each failure.
//!
//! Data: codes, refresh tokens and device flows come from the sign-in store
//! ([`super::store`], through [`crate::entra::tokens::TokenKeys::store`]) and issued refresh
//! tokens go back into it; the client secret and certificate come from the
//! [`crate::Identity`]. Every refusal is an [`EntraError`], rendered as Entra ID's JSON by the
//! handler; no message quotes a secret, code or token.

use std::collections::HashMap;

use axum::extract::Path;
use axum::extract::rejection::FormRejection;
use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value as Json, json};
use sha2::Digest as _;

use super::Ctx;
use super::assertion::{self, JWT_BEARER};
use super::directory::{Audience, Client, Scopes, TenantPath, same_family, truncate};
use super::discovery::token_issuance_error;
use super::error::{EntraError, entra_json};
use super::keys;
use super::store::{
    CODE_LIFETIME, DEVICE_POLL_INTERVAL, DeviceState, REFRESH_INACTIVITY, UserGrant,
};
use super::tokens::{self, UserTokenRequest};
use crate::http::rfc3339;

/// The device code grant type.
pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// `POST /{tenant}/oauth2/v2.0/token`.
pub async fn token(
    ctx: Ctx,
    Path(tenant): Path<String>,
    form: Result<axum::Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let form = form.map(|axum::Form(f)| f).unwrap_or_default();
    // The signing key is made off the runtime before any handler needs it.
    if keys::signing_key_async().await.is_none() {
        return token_issuance_error(&ctx);
    }
    let result = match handle(&ctx, &tenant, &form).await {
        Ok(Some(body)) => return entra_json(&ctx.err, body),
        Ok(None) => return token_issuance_error(&ctx),
        Err(e) => e,
    };
    result.json(&ctx.err)
}

/// `GET` on the token endpoint: Entra ID's AADSTS900561.
pub async fn token_get(ctx: Ctx) -> Response {
    EntraError {
        status: StatusCode::METHOD_NOT_ALLOWED,
        error: "invalid_request",
        code: 900561,
        message: "The endpoint only accepts POST, OPTIONS requests. Received a GET request.".into(),
    }
    .json(&ctx.err)
}

/// How the client authenticated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ClientAuth {
    /// No credential (a public client flow).
    None,
    /// A client secret (`appidacr` 1).
    Secret,
    /// A certificate assertion (`appidacr` 2).
    Certificate,
}

/// A non-empty form parameter.
fn param<'a>(form: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    form.get(name).map(String::as_str).filter(|v| !v.is_empty())
}

/// `client_id` and secret from HTTP Basic (`client_secret_basic`), form-encoded inside.
fn basic_credentials(ctx: &Ctx) -> Option<(String, String)> {
    let value = ctx.headers.get("authorization")?.to_str().ok()?;
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))?;
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((form_decode(id)?, form_decode(secret)?))
}

/// Decodes `application/x-www-form-urlencoded` text (`+` is a space).
fn form_decode(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = [bytes.next()?, bytes.next()?];
                out.push(u8::from_str_radix(std::str::from_utf8(&hex).ok()?, 16).ok()?);
            }
            _ => out.push(b),
        }
    }
    String::from_utf8(out).ok()
}

/// Compares secrets in time independent of where they differ.
fn secrets_equal(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Authenticates the client and runs the grant; `Ok(None)` when a token cannot be signed.
async fn handle(
    ctx: &Ctx,
    tenant: &str,
    form: &HashMap<String, String>,
) -> Result<Option<Json>, EntraError> {
    let sim = &ctx.sim;
    let identity = &sim.options.identity;
    let tp = TenantPath::resolve(identity, tenant).map_err(|mut e| {
        // The token endpoint reports an unknown tenant as a bad request, not `invalid_tenant`.
        e.error = "invalid_request";
        e
    })?;
    let grant_type = param(form, "grant_type").ok_or_else(|| EntraError::missing("grant_type"))?;
    let basic = basic_credentials(ctx);
    let client_id = param(form, "client_id")
        .map(str::to_owned)
        .or_else(|| basic.as_ref().map(|(id, _)| id.clone()))
        .ok_or_else(|| EntraError::missing("client_id"))?;
    let client = Client::find(identity, &tp, &client_id)?;

    let secret = param(form, "client_secret")
        .map(str::to_owned)
        .or_else(|| basic.map(|(_, s)| s));
    let assertion = param(form, "client_assertion");
    let auth = match (&client, secret, assertion) {
        (_, None, None) => ClientAuth::None,
        (Client::FirstParty { .. }, _, _) => {
            return Err(EntraError::invalid_client(
                700025,
                "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",
            ));
        }
        (Client::ServicePrincipal, Some(s), _) => {
            if !secrets_equal(&s, &identity.client_secret) {
                return Err(EntraError::invalid_client(
                    7000215,
                    format!(
                        "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{}'.",
                        identity.client_id
                    ),
                ));
            }
            ClientAuth::Secret
        }
        (Client::ServicePrincipal, None, Some(jwt)) => {
            if param(form, "client_assertion_type") != Some(JWT_BEARER) {
                return Err(EntraError::missing("client_assertion_type"));
            }
            let cert = sim.tokens.client_certificate_async(identity).await;
            let audiences = token_endpoints(ctx, tenant, &tp);
            assertion::verify(
                jwt,
                &assertion::Expected {
                    certificate: cert.as_ref(),
                    audiences: &audiences,
                    client_id: &identity.client_id,
                    now: sim.now().unix_timestamp(),
                },
            )?;
            ClientAuth::Certificate
        }
    };

    let user = UserGrantRequest {
        ctx,
        tp: &tp,
        client: &client,
        client_id: &client_id,
        form,
    };
    match grant_type {
        "client_credentials" => client_credentials(ctx, &tp, &client, auth, form),
        "authorization_code" => authorization_code(&user),
        "refresh_token" => refresh_token(&user),
        DEVICE_CODE_GRANT | "device_code" => device_code(&user),
        other => Err(EntraError::bad_request(
            "unsupported_grant_type",
            70003,
            format!(
                "The app requested an unsupported grant type '{}'.",
                truncate(other, 100)
            ),
        )),
    }
}

/// The token endpoint URLs a client assertion's `aud` may name.
fn token_endpoints(ctx: &Ctx, tenant: &str, tp: &TenantPath) -> Vec<String> {
    let base = &ctx.sim.base_url;
    let mut hosts = vec![base.clone()];
    if let Some(port) = base.strip_prefix("https://127.0.0.1:") {
        hosts.push(format!("https://localhost:{port}"));
    }
    let mut out = Vec::new();
    for h in &hosts {
        for seg in [tenant, tp.endpoint_segment()] {
            out.push(format!("{h}/{seg}/oauth2/v2.0/token"));
        }
    }
    out
}

/// The app-only token of the service principal (secret or certificate), for a
/// `/.default` scope at a tenant-specific authority.
fn client_credentials(
    ctx: &Ctx,
    tp: &TenantPath,
    client: &Client,
    auth: ClientAuth,
    form: &HashMap<String, String>,
) -> Result<Option<Json>, EntraError> {
    let sim = &ctx.sim;
    let identity = &sim.options.identity;
    match tp {
        TenantPath::Multi(Audience::Common) => {
            return Err(EntraError::bad_request(
                "invalid_request",
                9001023,
                "The grant type is not supported over the /common or /consumers endpoints. Please use the /organizations or tenant-specific endpoint.",
            ));
        }
        TenantPath::Multi(Audience::Organizations) => {
            return Err(EntraError::bad_request(
                "invalid_request",
                50059,
                "No tenant-identifying information found in either the request or implied by any provided credentials.",
            ));
        }
        TenantPath::Tenant { .. } => {}
    }
    if *client != Client::ServicePrincipal || auth == ClientAuth::None {
        return Err(EntraError::invalid_client(
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        ));
    }
    let scope = param(form, "scope").ok_or_else(|| EntraError::missing("scope"))?;
    let scopes = Scopes::parse(sim, tp.display(identity), scope)?;
    let Some(resource) = scopes.resource.filter(|r| r.is_default_only()) else {
        return Err(EntraError::bad_request(
            "invalid_scope",
            1002012,
            format!(
                "The provided value for scope {} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).",
                truncate(scope, 300)
            ),
        ));
    };
    let acr = if auth == ClientAuth::Certificate {
        "2"
    } else {
        "1"
    };
    let claims = tokens::app_claims(sim, tp.endpoint_segment(), resource.audience(), acr);
    let Some(access) = sim.tokens.sign(&claims) else {
        return Ok(None);
    };
    let lifetime = tokens::token_lifetime(sim);
    Ok(Some(json!({
        "token_type": "Bearer",
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": access,
    })))
}

/// What the grants that issue the user's tokens (authorization code, refresh token, device
/// code) share: the request and the app it comes from.
struct UserGrantRequest<'a> {
    ctx: &'a Ctx,
    tp: &'a TenantPath,
    client: &'a Client,
    client_id: &'a str,
    form: &'a HashMap<String, String>,
}

impl UserGrantRequest<'_> {
    /// A non-empty form parameter.
    fn param(&self, name: &str) -> Option<&str> {
        param(self.form, name)
    }

    /// A parameter the grant cannot do without (AADSTS900144 when missing).
    fn required(&self, name: &str) -> Result<&str, EntraError> {
        self.param(name).ok_or_else(|| EntraError::missing(name))
    }

    /// The scopes a delegated token is issued for: the request's, else the grant's. OIDC
    /// scopes asked at sign-in carry over (MSAL repeats them anyway).
    fn scopes(&self, grant: &UserGrant) -> Result<Scopes, EntraError> {
        let sim = &self.ctx.sim;
        let display = self.tp.display(&sim.options.identity);
        let original = Scopes::parse(sim, display, &grant.scope)?;
        let mut scopes = match self.param("scope") {
            Some(s) => Scopes::parse(sim, display, s)?,
            None => original.clone(),
        };
        scopes.openid |= original.openid;
        scopes.offline_access |= original.offline_access;
        scopes.profile |= original.profile;
        scopes.email |= original.email;
        Ok(scopes)
    }

    /// The token response for `grant`, with a refresh token when `offline_access` is granted.
    fn issue(&self, grant: &UserGrant) -> Result<Option<Json>, EntraError> {
        let scopes = self.scopes(grant)?;
        Ok(tokens::user_token_response(
            &self.ctx.sim,
            &UserTokenRequest {
                grant,
                scopes: &scopes,
                client: self.client,
                client_info: self.param("client_info") == Some("1"),
                refresh: scopes.offline_access,
            },
        ))
    }
}

/// An `invalid_grant` error.
fn invalid_grant(code: u32, message: impl Into<String>) -> EntraError {
    EntraError::bad_request("invalid_grant", code, message)
}

/// AADSTS9002313: an unknown code or token, told apart from nothing else.
fn malformed_grant() -> EntraError {
    invalid_grant(9002313, "Invalid request. Request is malformed or invalid.")
}

/// Redeems an authorization code once, checking client, tenant, redirect URI and PKCE.
fn authorization_code(req: &UserGrantRequest<'_>) -> Result<Option<Json>, EntraError> {
    let (sim, tp, client_id) = (&req.ctx.sim, req.tp, req.client_id);
    let identity = &sim.options.identity;
    let code = req.required("code")?;
    let redirect_uri = req.required("redirect_uri")?;
    let now = sim.now();
    let grant = {
        let mut store = sim.tokens.store();
        store.prune(now);
        let Some(entry) = store.codes.get_mut(code) else {
            return Err(malformed_grant());
        };
        if now >= entry.issued + CODE_LIFETIME {
            return Err(invalid_grant(
                70008,
                "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.",
            ));
        }
        if entry.redeemed {
            return Err(invalid_grant(
                54005,
                "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.",
            ));
        }
        if !entry.grant.client_id.eq_ignore_ascii_case(client_id) {
            return Err(invalid_grant(
                70000,
                "Provided grant is invalid or malformed.",
            ));
        }
        if !entry
            .grant
            .tenant_id
            .eq_ignore_ascii_case(tp.user_tenant(identity))
        {
            return Err(invalid_grant(
                700005,
                "Provided Authorization Code is intended to use against other tenant, thus rejected.",
            ));
        }
        if entry.redirect_uri != redirect_uri {
            return Err(invalid_grant(
                500112,
                format!(
                    "The reply address '{}' does not match the reply address '{}' provided when requesting Authorization code.",
                    truncate(redirect_uri, 300),
                    truncate(&entry.redirect_uri, 300)
                ),
            ));
        }
        if let Some((challenge, method)) = &entry.challenge {
            let Some(verifier) = req.param("code_verifier") else {
                return Err(invalid_grant(
                    50148,
                    "The code_verifier does not match the code_challenge supplied in the authorization request for PKCE.",
                ));
            };
            let computed = if method == "S256" {
                URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
            } else {
                verifier.to_owned()
            };
            if computed != *challenge {
                return Err(invalid_grant(
                    501481,
                    "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
                ));
            }
        }
        entry.redeemed = true;
        entry.grant.clone()
    };
    req.issue(&grant)
}

/// Redeems a refresh token (for the app or its family, at any tenant of the user).
fn refresh_token(req: &UserGrantRequest<'_>) -> Result<Option<Json>, EntraError> {
    let (sim, tp, client_id) = (&req.ctx.sim, req.tp, req.client_id);
    let token = req.required("refresh_token")?;
    let now = sim.now();
    let stored = {
        let store = sim.tokens.store();
        store.refresh_tokens.get(token).cloned()
    };
    let Some(stored) = stored else {
        return Err(malformed_grant());
    };
    if now >= stored.issued + REFRESH_INACTIVITY {
        return Err(invalid_grant(
            700082,
            format!(
                "The refresh token has expired due to inactivity. The token was issued on {} and was inactive for 90.00:00:00.",
                rfc3339(stored.issued)
            ),
        ));
    }
    if !same_family(&stored.grant.client_id, client_id) {
        return Err(invalid_grant(
            70000,
            "Provided grant is invalid or malformed.",
        ));
    }
    let mut grant = stored.grant.clone();
    grant.client_id = client_id.to_owned();
    if let TenantPath::Tenant { id, .. } = tp {
        grant.tenant_id = id.clone();
        grant.tenant_segment = id.clone();
    }
    // The scopes are computed from the grant as stored; the refresh token issued now
    // remembers the scope of this request.
    let scopes = req.scopes(&grant)?;
    if let Some(s) = req.param("scope") {
        grant.scope = s.to_owned();
    }
    Ok(tokens::user_token_response(
        sim,
        &UserTokenRequest {
            grant: &grant,
            scopes: &scopes,
            client: req.client,
            client_info: req.param("client_info") == Some("1"),
            refresh: true,
        },
    ))
}

/// Polls a device flow: pending, slow down, declined, expired or the tokens.
fn device_code(req: &UserGrantRequest<'_>) -> Result<Option<Json>, EntraError> {
    let (sim, tp, client_id) = (&req.ctx.sim, req.tp, req.client_id);
    let identity = &sim.options.identity;
    let code = req.required("device_code")?;
    let now = sim.now();
    let bad_code = || {
        EntraError::bad_request(
            "bad_verification_code",
            9002313,
            "Invalid request. Request is malformed or invalid.",
        )
    };
    let grant = {
        let mut store = sim.tokens.store();
        store.prune(now);
        let Some(flow) = store.devices.get_mut(code) else {
            return Err(bad_code());
        };
        if !flow.grant.client_id.eq_ignore_ascii_case(client_id)
            || !flow
                .grant
                .tenant_id
                .eq_ignore_ascii_case(tp.user_tenant(identity))
        {
            return Err(bad_code());
        }
        if flow.state == DeviceState::Redeemed {
            return Err(invalid_grant(
                54005,
                "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.",
            ));
        }
        if flow.expired(now) {
            return Err(EntraError::bad_request(
                "expired_token",
                70020,
                "The provided value for the input parameter 'device_code' is not valid. This device code has expired.",
            ));
        }
        match flow.state {
            DeviceState::Declined => {
                return Err(EntraError::bad_request(
                    "authorization_declined",
                    65004,
                    "User declined to consent to access the app.",
                ));
            }
            DeviceState::Pending => {
                // `slow_down` (RFC 8628) when polled faster than the interval. One second of
                // tolerance: a client polling on a fixed timer sees network jitter between
                // arrivals.
                let too_fast = flow.last_poll.is_some_and(|last| {
                    (now - last).whole_milliseconds() < i128::from(DEVICE_POLL_INTERVAL - 1) * 1000
                });
                flow.last_poll = Some(now);
                if too_fast {
                    return Err(EntraError::bad_request(
                        "slow_down",
                        70016,
                        format!(
                            "OAuth 2.0 device flow error. Polling too fast: wait at least {DEVICE_POLL_INTERVAL} seconds between requests."
                        ),
                    ));
                }
                return Err(EntraError::bad_request(
                    "authorization_pending",
                    70016,
                    "The provided request has not yet been authorized by the user. The user must input their code.",
                ));
            }
            DeviceState::Approved | DeviceState::Redeemed => {}
        }
        flow.state = DeviceState::Redeemed;
        flow.grant.clone()
    };
    req.issue(&grant)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_comparison_needs_equal_length_and_bytes() {
        assert!(secrets_equal("abc", "abc"));
        assert!(!secrets_equal("abc", "abd"));
        assert!(!secrets_equal("abc", "abcd"));
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        assert_eq!(form_decode("a%2Bb+c").as_deref(), Some("a+b c"));
        assert_eq!(form_decode("%zz"), None);
    }
}
