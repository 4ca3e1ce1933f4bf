//! What can go wrong while signing in. Messages name what failed and Entra ID's own words
//! (its `error_description` starts with the AADSTS code); they never quote a token, code,
//! verifier or secret.

use azure_core::error::ErrorKind;

/// A sign-in failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignInError {
    /// Entra ID refused the request (`error` is the OAuth error, `description` holds AADSTS).
    #[error("Entra ID refused the sign-in ({error}): {description}")]
    Entra {
        /// The OAuth error (`invalid_client`, `invalid_grant`...).
        error: String,
        /// Entra ID's `error_description` (`AADSTS7000215: ...`).
        description: String,
    },
    /// The sign-in endpoint could not be reached or answered something unreadable.
    #[error("cannot reach the sign-in endpoint: {message}")]
    Http {
        /// What failed.
        message: String,
    },
    /// The browser came back with a `state` that is not ours (a forged or stale redirect).
    #[error("the browser's sign-in response does not belong to this sign-in (state mismatch)")]
    StateMismatch,
    /// Nobody finished the sign-in in time.
    #[error("the sign-in timed out after {seconds} s")]
    Timeout {
        /// The time-out, in seconds.
        seconds: u64,
    },
    /// The caller cancelled the sign-in.
    #[error("the sign-in was cancelled")]
    Canceled,
    /// The device code expired before the user entered it.
    #[error("the device code expired before the sign-in was completed; start again")]
    DeviceCodeExpired,
    /// The user declined the sign-in.
    #[error("the sign-in was declined: {description}")]
    Declined {
        /// Entra ID's description.
        description: String,
    },
    /// The system browser could not be opened.
    #[error("cannot open the browser: {message}")]
    Browser {
        /// What failed.
        message: String,
    },
    /// The loopback listener failed.
    #[error("the local sign-in listener failed: {message}")]
    Listener {
        /// What failed.
        message: String,
    },
    /// Settings that cannot work (a URL that does not parse, an empty client ID...).
    #[error("invalid sign-in settings: {message}")]
    Config {
        /// What is wrong.
        message: String,
    },
    /// An existing Azure CLI / Azure Developer CLI session cannot be reused.
    #[error("cannot reuse the {tool} session: {message}")]
    CliSession {
        /// The tool (`Azure CLI`, `Azure Developer CLI`).
        tool: &'static str,
        /// Why, and what to do.
        message: String,
    },
    /// Entra ID returned no refresh token (`offline_access` was not granted).
    #[error("Entra ID returned no refresh token; sign in again")]
    NoRefreshToken,
}

impl From<SignInError> for azure_core::Error {
    fn from(e: SignInError) -> Self {
        azure_core::Error::new(ErrorKind::Credential, e)
    }
}

impl From<crate::Error> for SignInError {
    fn from(e: crate::Error) -> Self {
        SignInError::Config {
            message: e.to_string(),
        }
    }
}
