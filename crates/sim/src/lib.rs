//! `landfall-sim`: a simulated Azure that runs on the machine, over HTTPS.
//!
//! Tests, demo mode and benchmarks talk to it exactly as they would to Azure: Entra ID v2 token
//! endpoints ([`entra`]) and a Resource Manager subset ([`arm`]). It is faithful enough that
//! Azure's own clients cannot tell the difference for the calls Landfall makes.
//!
//! How it fits together:
//! - [`tls`] makes a CA at start and a server certificate for 127.0.0.1/localhost; [`server`]
//!   accepts TLS connections and serves one axum router, respelling ARM paths first so that
//!   routing is case-insensitive as ARM's is (see [`arm`]).
//! - [`http`] holds what every response shares: the middleware every request passes (request
//!   ID, faults, `api-version`, bearer-token checks, standard headers, the request log at
//!   `GET /_sim/requests`) and ARM's error envelope.
//! - [`entra`] signs people and apps in; its tokens are what [`http`] checks on ARM requests.
//! - [`state::SimState`] is all of the simulated cloud, serialisable (optionally persisted to a
//!   file with atomic writes so a demo survives a restart). Long operations are *scheduled*, not
//!   run: a deployment's resources get start and end times when it is submitted, and every
//!   request first brings the state up to the [`clock::Clock`]'s now. A test moving a manual
//!   clock sees exactly what Azure would show at that moment; no background task exists.
//! - [`faults`] decides, from a scenario and seeded randomness, which requests and resources
//!   fail, how ARM throttles, and which tokens expire.
//!
//! Errors: [`SimError`] is only for starting (binding, certificates, the state file). Once
//! running, every refusal is an HTTP answer in the shape Azure gives it (ARM's error envelope,
//! Entra ID's OAuth errors), built where the failure is found; bad input never panics a
//! handler. A state file that cannot be written is logged and the request still answered.
//! Secrets (the client secret, private keys, codes, tokens) never appear in a log line, an
//! error message or a `Debug` output; they leave the simulator only where a client asks for
//! them (the start-up announcement, `GET /_sim/client-certificate`, token responses).

pub mod arm;
pub mod clock;
pub mod entra;
pub mod faults;
pub mod http;
pub mod server;
pub mod state;
pub mod tls;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

pub use clock::{Clock, ManualClock, SystemClock};
pub use faults::Scenario;

/// What can go wrong starting or running the simulator.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// Binding the listening socket failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Creating the certificates failed.
    #[error("cannot create the simulator's certificates: {0}")]
    Tls(String),
    /// Reading or writing a file failed.
    #[error("cannot {action} '{path}': {source}")]
    File {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A state or scenario file is not valid.
    #[error("'{path}' is not valid: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// The tenant, subscription, service principal and user the simulator accepts. Its `Debug`
/// leaves the secret and the private key out.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Identity {
    /// Home tenant ID.
    pub tenant_id: String,
    /// Tenant display name.
    pub tenant_name: String,
    /// A guest tenant the user also belongs to.
    pub guest_tenant_id: String,
    /// Subscription ID.
    pub subscription_id: String,
    /// Subscription display name.
    pub subscription_name: String,
    /// Service principal application (client) ID.
    pub client_id: String,
    /// Service principal secret.
    pub client_secret: String,
    /// Service principal object ID.
    pub client_object_id: String,
    /// The interactive user's UPN.
    pub user_upn: String,
    /// The interactive user's object ID.
    pub user_object_id: String,
    /// The interactive user's display name (the `name` claim).
    pub user_display_name: String,
    /// The service principal's certificate (PEM) for client assertions; one is generated at
    /// first use when this or the key is empty.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub client_certificate_pem: String,
    /// The private key (PKCS#8 PEM) of `client_certificate_pem`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub client_certificate_key_pem: String,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("tenant_id", &self.tenant_id)
            .field("tenant_name", &self.tenant_name)
            .field("guest_tenant_id", &self.guest_tenant_id)
            .field("subscription_id", &self.subscription_id)
            .field("subscription_name", &self.subscription_name)
            .field("client_id", &self.client_id)
            .field("client_object_id", &self.client_object_id)
            .field("user_upn", &self.user_upn)
            .field("user_object_id", &self.user_object_id)
            .field("user_display_name", &self.user_display_name)
            .finish_non_exhaustive()
    }
}

impl Default for Identity {
    fn default() -> Self {
        Identity {
            tenant_id: "72f988bf-0000-4000-8000-00000000a001".into(),
            tenant_name: "Contoso".into(),
            guest_tenant_id: "72f988bf-0000-4000-8000-00000000b002".into(),
            subscription_id: "5ca082f3-0000-4000-8000-00000000c003".into(),
            subscription_name: "Contoso Production".into(),
            client_id: "0f1e2d3c-0000-4000-8000-00000000d004".into(),
            client_secret: "sim-secret-7d3c1e".into(),
            client_object_id: "9a8b7c6d-0000-4000-8000-00000000e005".into(),
            user_upn: "admin@contoso.example".into(),
            user_object_id: "1b2c3d4e-0000-4000-8000-00000000f006".into(),
            user_display_name: "Contoso Admin".into(),
            client_certificate_pem: String::new(),
            client_certificate_key_pem: String::new(),
        }
    }
}

/// How to start a simulator.
#[derive(Clone)]
pub struct SimOptions {
    /// Where to listen; port 0 picks a free one.
    pub addr: SocketAddr,
    /// Where to write the CA certificate (PEM), if anywhere.
    pub ca_out: Option<PathBuf>,
    /// State file: loaded at start if it exists, written after every change.
    pub state_file: Option<PathBuf>,
    /// Speed factor: provisioning durations are divided by it.
    pub speed: f64,
    /// Failures to inject.
    pub scenario: Scenario,
    /// Seed for every random choice.
    pub seed: u64,
    /// Who may sign in.
    pub identity: Identity,
    /// The clock.
    pub clock: Arc<dyn Clock>,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            ca_out: None,
            state_file: None,
            speed: 1.0,
            scenario: Scenario::default(),
            seed: 1,
            identity: Identity::default(),
            clock: Arc::new(SystemClock),
        }
    }
}

/// How many requests the simulator remembers for `GET /_sim/requests` (about 10 MB); when it
/// is full the oldest tenth is forgotten.
pub const REQUEST_LOG_CAPACITY: usize = 100_000;

/// The shared state every handler sees.
pub struct Sim {
    /// Options the simulator started with.
    pub options: SimOptions,
    /// `https://127.0.0.1:port`.
    pub base_url: String,
    /// The simulated cloud.
    pub state: Mutex<state::SimState>,
    /// The requests served (the most recent [`REQUEST_LOG_CAPACITY`]), for
    /// `GET /_sim/requests`.
    pub requests: Mutex<Vec<http::RequestRecord>>,
    /// Token signing and verification.
    pub tokens: entra::tokens::TokenKeys,
    /// Fault injection and throttling.
    pub faults: faults::Faults,
}

impl Sim {
    /// Starts a simulator on the current Tokio runtime.
    pub async fn start(options: SimOptions) -> Result<SimHandle, SimError> {
        server::start(options).await
    }

    /// Now, by the simulator's clock.
    pub fn now(&self) -> time::OffsetDateTime {
        self.options.clock.now()
    }

    /// The state, brought up to now. Hold the guard briefly and never across an `.await`.
    pub fn lock_state(&self) -> std::sync::MutexGuard<'_, state::SimState> {
        let mut guard = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        guard.advance(self.now());
        guard
    }

    /// Persists the state if a state file is configured. Call after every change.
    pub fn persist(&self, state: &state::SimState) {
        if let Some(path) = &self.options.state_file
            && let Err(e) = state.save(path)
        {
            tracing::warn!("cannot persist the simulator state: {e}");
        }
    }
}

/// A running simulator.
pub struct SimHandle {
    /// `https://127.0.0.1:port` (the ARM endpoint and the authority host).
    pub base_url: String,
    /// The CA certificate to trust, PEM.
    pub ca_pem: String,
    /// The address it listens on.
    pub addr: SocketAddr,
    /// The shared state (for tests that look inside).
    pub sim: Arc<Sim>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl SimHandle {
    /// The one-line JSON the `landfall sim` command prints at start.
    pub fn announcement(&self, ca_file: Option<&std::path::Path>) -> serde_json::Value {
        let id = &self.sim.options.identity;
        serde_json::json!({
            "armEndpoint": format!("{}/", self.base_url),
            "authorityHost": format!("{}/", self.base_url),
            "audience": format!("{}/", self.base_url),
            "tenantId": id.tenant_id,
            "subscriptionId": id.subscription_id,
            "clientId": id.client_id,
            "clientSecret": id.client_secret,
            "userPrincipalName": id.user_upn,
            "caFile": ca_file.map(|p| p.display().to_string()),
        })
    }

    /// Stops serving and waits for the server task to end.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
