//! `landfall-azure`: how Landfall talks to Azure. This is the foundation: clouds, the ARM error
//! model, long-running-operation polling, throttling and a small Resource Manager client;
//! sign-in flows, the keyring token cache and the typed calls build on it.
//!
//! Who owns what:
//! - [`arm`]: typed Resource Manager calls ([`arm::Arm`]) with their DTOs, over [`ArmClient`].
//! - [`cloud`]: a [`Cloud`]'s endpoints (built-in public, US Government, China; custom from a
//!   Resource Manager's metadata document) and the token scope for ARM.
//! - [`tls`]: the HTTPS client (reqwest over rustls with *ring*) trusting an extra CA for
//!   private clouds and the simulator.
//! - [`auth`]: credentials, all implementing azure_core's `TokenCredential`: browser (PKCE,
//!   loopback), device code, refresh token, service principal (secret, certificate), Azure CLI.
//!   Its [`auth::cache`] keeps refresh tokens and secrets in the OS keyring, access tokens in
//!   memory.
//! - [`account`]: the signed-in account between runs: a [`account::Profile`] (cloud, CA,
//!   tenant, who and how, where its secret is in the keyring) in a data directory, and the ARM
//!   client rebuilt from it ([`account::signed_in_client`]).
//! - [`transport`]: [`ArmClient`], JSON requests over azure_core's pipeline (bearer token,
//!   correlation ID, `api-version`), returning [`ArmResponse`] or a typed [`Error`].
//! - [`throttle`]: the pipeline policy that paces requests under ARM's rate limits, waits out
//!   429s and retries transient failures of idempotent requests.
//! - [`poll`]: [`Poller`], the one place the rules for long-running operations live.
//! - [`clock`]: the injected clock and sleep every wait goes through, a fake for tests, and
//!   cancellation.
//! - [`error`]: ARM's error tree ([`ArmErrorDetail`]), the crate's [`Error`], and the
//!   wire-stable [`ErrorReport`] with an [`ErrorCode`] and a [`Remediation`].
//!
//! How data and errors flow: a caller builds an [`ArmClient`] for a [`Cloud`] with a
//! credential; each call goes ArmClient -> ThrottlePolicy (pacing, retries, on the injected
//! timer) -> bearer-token policy -> HTTPS. A 2xx comes back as an [`ArmResponse`]; anything
//! else is parsed into an [`ArmErrorDetail`] tree inside [`Error::Http`] or
//! [`Error::Throttled`]. `begin_*` calls return a [`Poller`] that follows
//! `Azure-AsyncOperation` or `Location` and ends with the resource's JSON, or with
//! [`Error::OperationFailed`] carrying the operation's error tree, [`Error::Timeout`] or
//! [`Error::Canceled`]. At the UI boundary, [`Error::report`] gives `{code, message, details,
//! remediation}`. Tokens never reach an error, a log line or a `Debug` output.

pub mod account;
pub mod arm;
pub mod auth;
pub mod clock;
pub mod cloud;
pub mod error;
pub mod poll;
pub mod throttle;
pub mod tls;
pub mod transport;

pub use auth::StaticTokenCredential;
pub use clock::{CancelToken, Clock, FakeClock, Sleep, SystemClock, Timer, TokioSleep};
pub use cloud::{Cloud, CloudSuffixes};
pub use error::{
    AdditionalInfo, ArmErrorDetail, Error, ErrorCode, ErrorReport, FailedOperation, QuotaShortfall,
    Remediation,
};
pub use poll::{Monitor, PollOptions, PollStep, Poller};
pub use throttle::{ThrottleOptions, ThrottlePolicy};
pub use tls::TrustedCa;
pub use transport::{ArmClient, ArmClientOptions, ArmRequest, ArmResponse};

/// azure_core's HTTP method, re-exported for [`ArmRequest`].
pub use azure_core::http::Method;

/// azure_core's secret string (never printed by `Debug`), re-exported for secret stores.
pub use azure_core::credentials::Secret;
