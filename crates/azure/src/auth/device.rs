//! Device code sign-in (RFC 8628): the code and URL go to a caller-supplied callback to show;
//! polling honours `interval` and adds 5 s per `slow_down` (RFC 8628 §3.5), on the injected
//! [`crate::Timer`] so tests run instantly. The polling loop is ours rather than oauth2's: its
//! loop measures time on chrono's wall clock and does not know Entra ID's
//! `authorization_declined`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use azure_core::credentials::{AccessToken, TokenCredential, TokenRequestOptions};
use oauth2::{DeviceAuthorizationResponse, ExtraDeviceAuthorizationFields, Scope};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex as AsyncMutex;

use super::entra::{EntraClient, EntraTokenResponse, Session, oauth_error, user_scopes};
use super::error::SignInError;
use super::refresh::RefreshTokenCredential;
use crate::clock::CancelToken;

/// RFC 8628 §3.5: "the interval MUST be increased by 5 seconds" on `slow_down`.
const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);

/// Entra ID's `message` beside the standard device authorization fields.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct MessageField {
    /// Ready-to-show instructions.
    #[serde(default)]
    pub message: Option<String>,
}

impl ExtraDeviceAuthorizationFields for MessageField {}

/// What the user must be shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceCodePrompt {
    /// The code to enter (not a secret: it is useless without the device code).
    pub user_code: String,
    /// Where to enter it.
    pub verification_uri: String,
    /// Entra ID's instructions, or ours when it sent none.
    pub message: String,
    /// Seconds until the code expires.
    pub expires_in: u64,
}

/// A callback that shows the prompt.
pub type ShowPrompt = Arc<dyn Fn(&DeviceCodePrompt) + Send + Sync>;

/// A credential that signs the user in with a device code once, then refreshes silently.
pub struct DeviceCodeCredential {
    entra: EntraClient,
    show: ShowPrompt,
    cancel: CancelToken,
    session: super::refresh::SignedInSlot,
}

impl fmt::Debug for DeviceCodeCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceCodeCredential")
            .field("entra", &self.entra)
            .finish_non_exhaustive()
    }
}

/// A token endpoint error body.
#[derive(Deserialize)]
struct ErrorBody {
    error: String,
    #[serde(default)]
    error_description: String,
}

impl DeviceCodeCredential {
    /// A credential for `entra` that hands the prompt to `show`.
    pub fn new(entra: EntraClient, show: ShowPrompt) -> Self {
        DeviceCodeCredential {
            entra,
            show,
            cancel: CancelToken::new(),
            session: AsyncMutex::new(None),
        }
    }

    /// Stops polling when `cancel` is cancelled.
    pub fn cancel_token(mut self, cancel: CancelToken) -> Self {
        self.cancel = cancel;
        self
    }

    /// The refreshing credential after a sign-in (its refresh token is for the cache).
    pub async fn signed_in(&self) -> Option<Arc<RefreshTokenCredential>> {
        self.session.lock().await.clone()
    }

    /// Runs the device code flow for `scopes` and returns the session.
    pub async fn sign_in(&self, scopes: &[&str]) -> Result<Session, SignInError> {
        let all = user_scopes(&scopes.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>());
        let details: DeviceAuthorizationResponse<MessageField> = self
            .entra
            .oauth()?
            .exchange_device_code()
            .add_scopes(all.iter().cloned().map(Scope::new))
            .request_async(self.entra.http())
            .await
            .map_err(oauth_error)?;
        let verification_uri = details.verification_uri().to_string();
        let user_code = details.user_code().secret().clone();
        let prompt = DeviceCodePrompt {
            message: details.extra_fields().message.clone().unwrap_or_else(|| {
                format!("To sign in, open {verification_uri} and enter the code {user_code}.")
            }),
            user_code,
            verification_uri,
            expires_in: details.expires_in().as_secs(),
        };
        (self.show)(&prompt);

        let timer = self.entra.clock();
        let deadline = timer.now() + details.expires_in();
        let mut interval = details.interval();
        let token_url = self.entra.endpoint("token")?;
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "urn:ietf:params:oauth:grant-type:device_code")
            .append_pair("client_id", self.entra.public_client_id())
            .append_pair("device_code", details.device_code().secret())
            .finish();
        loop {
            tokio::select! {
                () = timer.sleep(interval) => {}
                () = self.cancel.cancelled() => return Err(SignInError::Canceled),
            }
            if timer.now() >= deadline {
                return Err(SignInError::DeviceCodeExpired);
            }
            let response = self
                .entra
                .http()
                .client()
                .post(token_url.clone())
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form.clone())
                .send()
                .await
                .map_err(|e| SignInError::Http {
                    message: e.without_url().to_string(),
                })?;
            let ok = response.status().is_success();
            let body = response.bytes().await.map_err(|e| SignInError::Http {
                message: e.without_url().to_string(),
            })?;
            if ok {
                let tokens: EntraTokenResponse =
                    serde_json::from_slice(&body).map_err(|e| SignInError::Http {
                        // The body holds tokens: say where it broke, never what it was.
                        message: format!("unreadable token response at line {}", e.line()),
                    })?;
                return Ok(self.entra.session(&tokens, &all));
            }
            let error: ErrorBody =
                serde_json::from_slice(&body).map_err(|_| SignInError::Http {
                    message: "the token endpoint answered an error that is not OAuth JSON".into(),
                })?;
            match error.error.as_str() {
                "authorization_pending" => {}
                "slow_down" => interval += SLOW_DOWN_STEP,
                "expired_token" => return Err(SignInError::DeviceCodeExpired),
                "authorization_declined" | "access_denied" => {
                    return Err(SignInError::Declined {
                        description: error.error_description,
                    });
                }
                _ => {
                    return Err(SignInError::Entra {
                        error: error.error,
                        description: error.error_description,
                    });
                }
            }
        }
    }
}

#[async_trait::async_trait]
impl TokenCredential for DeviceCodeCredential {
    async fn get_token(
        &self,
        scopes: &[&str],
        options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        super::refresh::token_after_sign_in(&self.session, &self.entra, scopes, options, || {
            self.sign_in(scopes)
        })
        .await
    }
}
