//! Credentials. Every credential implements azure_core's [`TokenCredential`], so any of them
//! plugs into the ARM client's bearer-token policy.
//!
//! Who owns what:
//! - [`entra`]: an Entra ID endpoint set for a [`crate::Cloud`] and tenant ([`EntraClient`]),
//!   the token response, the signed-in [`Account`] and the [`Session`] a sign-in yields.
//! - [`http`]: the adapter that runs the `oauth2` crate over our reqwest 0.13 client.
//! - [`browser`]: [`InteractiveBrowserCredential`], authorization code + PKCE with a loopback
//!   listener and an injectable [`BrowserOpener`].
//! - [`device`]: [`DeviceCodeCredential`], RFC 8628 polling on the injected [`crate::Timer`].
//! - [`refresh`]: [`RefreshTokenCredential`], refresh-token exchange for any scope and tenant
//!   with an in-memory access-token cache.
//! - [`service`]: service principals with a client secret (azure_identity) and the Azure CLI /
//!   Azure Developer CLI sessions; [`certificate`]: service principals with a certificate.
//! - [`cache`]: [`TokenCache`], refresh tokens and secrets in a [`SecretStore`] (the OS keyring
//!   or memory), access tokens in memory, sign-out.
//!
//! Errors are [`SignInError`]; inside `get_token` they become azure_core credential errors.
//! No token, refresh token, code, verifier or secret reaches an error or a `Debug` output.

pub mod browser;
pub mod cache;
pub mod certificate;
pub mod device;
pub mod entra;
pub mod error;
pub mod http;
pub mod refresh;
pub mod service;

pub use browser::{BrowserOpener, CommandOpener, InteractiveBrowserCredential};
pub use cache::{CacheError, CachedCredential, KeyringStore, MemoryStore, SecretStore, TokenCache};
pub use certificate::ClientCertificateCredential;
pub use device::{DeviceCodeCredential, DeviceCodePrompt};
pub use entra::{AZURE_CLI_CLIENT_ID, Account, EntraClient, Session};
pub use error::SignInError;
pub use refresh::RefreshTokenCredential;
pub use service::{CliSessionCredential, CliTool, client_secret_credential};

use std::fmt;

use azure_core::credentials::{AccessToken, Secret, TokenCredential, TokenRequestOptions};
use time::OffsetDateTime;

/// A bearer token obtained elsewhere, handed out for any scope until it expires.
#[derive(Clone)]
pub struct StaticTokenCredential {
    token: Secret,
    expires_on: OffsetDateTime,
}

impl StaticTokenCredential {
    /// A credential for `token`, valid until `expires_on`.
    pub fn new(token: impl Into<String>, expires_on: OffsetDateTime) -> Self {
        StaticTokenCredential {
            token: Secret::new(token.into()),
            expires_on,
        }
    }

    /// When the token expires.
    pub fn expires_on(&self) -> OffsetDateTime {
        self.expires_on
    }
}

impl fmt::Debug for StaticTokenCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticTokenCredential")
            .field("token", &"<redacted>")
            .field("expires_on", &self.expires_on)
            .finish()
    }
}

#[async_trait::async_trait]
impl TokenCredential for StaticTokenCredential {
    async fn get_token(
        &self,
        _scopes: &[&str],
        _options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        Ok(AccessToken::new(self.token.clone(), self.expires_on))
    }
}
