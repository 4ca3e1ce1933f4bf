//! Credentials. Every credential implements azure_core's [`TokenCredential`], so any of them
//! plugs into the ARM client's bearer-token policy. The sign-in flows (browser, device code,
//! service principal, Azure CLI) and the keyring token cache come later; for now there is the
//! static token that tests, the simulator and pre-issued tokens use.

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
