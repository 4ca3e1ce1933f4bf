//! Entra ID v2, as far as sign-in needs it, served at `{base_url}/{tenant}/...` where the tenant
//! is the tenant ID (or a domain of it), `common`, `organizations` or the guest tenant ID.
//!
//! Who owns what:
//! - [`discovery`]: OpenID configuration, signing keys (JWKS), instance discovery, logout, the
//!   error lookup page.
//! - [`authorize`]: the authorize endpoint, an auto-consent that redirects to the loopback
//!   with a code (or shows Entra ID's error page when it cannot redirect).
//! - [`grants`]: the token endpoint: authorization code with PKCE, refresh token, client
//!   credentials with a secret or a certificate assertion ([`assertion`]), device code.
//! - [`device`]: the device code endpoint, the verification page a person (or a test) uses,
//!   and `POST /_sim/device/approve`. `GET /_sim/client-certificate` hands out the service
//!   principal's certificate and key for clients that sign assertions.
//! - [`directory`]: tenants, apps, the user, resources and scopes; [`tokens`]: the JWTs and
//!   their verification on ARM requests; [`keys`]: the RSA keys and certificates; [`store`]:
//!   codes, refresh tokens and device flows in memory; [`error`]: AADSTS error responses.
//!
//! Errors never carry a secret, code or token; nothing here logs them either.

pub mod assertion;
pub mod authorize;
pub mod device;
pub mod directory;
pub mod discovery;
pub mod error;
pub mod grants;
pub mod keys;
pub mod store;
pub mod tokens;

use std::convert::Infallible;
use std::sync::Arc;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::routing::{get, post};

use crate::Sim;
use crate::http::RequestId;
use error::ErrorContext;

/// The Entra ID routes.
pub fn router() -> Router<Arc<Sim>> {
    Router::new()
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(discovery::openid_configuration),
        )
        .route("/{tenant}/discovery/v2.0/keys", get(discovery::keys))
        .route("/{tenant}/discovery/keys", get(discovery::keys))
        .route("/{tenant}/discovery/instance", get(discovery::instance))
        .route("/{tenant}/oauth2/v2.0/logout", get(discovery::logout))
        .route("/error", get(discovery::error_page))
        .route("/{tenant}/oauth2/v2.0/authorize", get(authorize::authorize))
        .route(
            "/{tenant}/oauth2/v2.0/token",
            post(grants::token).get(grants::token_get),
        )
        .route("/{tenant}/oauth2/v2.0/devicecode", post(device::devicecode))
        .route(
            "/devicelogin",
            get(device::verification_page).post(device::verification_submit),
        )
        .route("/_sim/device/approve", post(device::approve))
        .route(
            "/_sim/client-certificate",
            get(assertion::client_certificate_endpoint),
        )
}

/// What every Entra ID handler needs: the simulator, the error context (trace and correlation
/// IDs, time) and the request headers.
pub struct Ctx {
    /// The simulator.
    pub sim: Arc<Sim>,
    /// Trace, correlation, time.
    pub err: ErrorContext,
    /// The request's headers.
    pub headers: HeaderMap,
}

impl FromRequestParts<Arc<Sim>> for Ctx {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, sim: &Arc<Sim>) -> Result<Self, Infallible> {
        let err = ErrorContext::new(sim, parts.extensions.get::<RequestId>(), &parts.headers);
        Ok(Ctx {
            sim: sim.clone(),
            err,
            headers: parts.headers.clone(),
        })
    }
}

/// Encodes pairs as `application/x-www-form-urlencoded` (for redirect query strings).
pub fn form_encode(pairs: &[(String, String)]) -> String {
    let enc = |s: &str| {
        let mut out = String::with_capacity(s.len());
        for b in s.bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                    out.push(b as char)
                }
                b' ' => out.push('+'),
                _ => out.push_str(&format!("%{b:02X}")),
            }
        }
        out
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_encoding_escapes_reserved_characters() {
        let s = form_encode(&[
            ("a b".into(), "x/y?z=1&w".into()),
            ("c".into(), "AADSTS1: m\r\n".into()),
        ]);
        assert_eq!(s, "a+b=x%2Fy%3Fz%3D1%26w&c=AADSTS1%3A+m%0D%0A");
    }
}
