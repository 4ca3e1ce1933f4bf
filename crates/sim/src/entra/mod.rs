//! Entra ID v2, as far as sign-in needs it: OpenID configuration, instance discovery,
//! authorize (auto-consent, redirect to the loopback), token (authorization code + PKCE,
//! refresh token, client credentials with a secret or a certificate assertion, device code),
//! the device code endpoint.

pub mod tokens;

use std::sync::Arc;

use axum::Router;

use crate::Sim;

/// The Entra ID routes.
pub fn router() -> Router<Arc<Sim>> {
    Router::new()
}
