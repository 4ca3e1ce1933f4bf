//! Demo mode: the simulated Azure (landfall-sim) started in this process, with an installer
//! signed in to it as its service principal. The CLI's `landfall demo` and the desktop's
//! "Try the demo" both run through here, so a demo is the real engine over real HTTPS.
//!
//! The simulator keeps its cloud in `sim-state.json` and the run journal in `journal.sqlite`,
//! both in the demo folder: a demo interrupted by a closed app or a killed process carries on
//! from there.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use landfall_azure::auth::{MemoryStore, client_secret_credential};
use landfall_azure::{ArmClient, ArmClientOptions, Cloud, Secret, TrustedCa};
use landfall_sim::{Scenario, Sim, SimHandle, SimOptions};

use crate::bundle::Bundle;
use crate::deploy::RunnerOptions;
use crate::error::EngineError;
use crate::installer::Installer;
use crate::journal::Journal;
use crate::target::Target;

/// How to start a demo.
#[derive(Clone, Debug)]
pub struct DemoOptions {
    /// Where the simulator's state and the demo journal live.
    pub dir: PathBuf,
    /// How much faster than Azure the simulator provisions.
    pub speed: f64,
    /// Failures to inject.
    pub scenario: Scenario,
    /// Start from an empty cloud and journal (false: carry on the previous demo).
    pub fresh: bool,
}

/// A running simulated Azure and an installer signed in to it. Dropping it stops the
/// simulator.
pub struct Demo {
    /// The simulator (stops when dropped).
    pub sim: SimHandle,
    /// The engine over it.
    pub installer: Installer,
    /// Its one subscription and tenant.
    pub target: Target,
    /// Who the installer is signed in as (the simulator's service principal).
    pub client_id: String,
}

impl std::fmt::Debug for Demo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Demo")
            .field("base_url", &self.sim.base_url)
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

/// The demo journal in `dir`.
pub fn journal_path(dir: &Path) -> PathBuf {
    dir.join("journal.sqlite")
}

fn demo_error(what: &str, e: impl std::fmt::Display) -> EngineError {
    EngineError::Refused(format!("cannot start the demo: {what}: {e}"))
}

fn remove_if_present(p: &Path) -> Result<(), EngineError> {
    match std::fs::remove_file(p) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(demo_error(&format!("cannot remove '{}'", p.display()), e)),
    }
}

/// Starts the simulator and signs in to it.
pub async fn start(options: DemoOptions) -> Result<Demo, EngineError> {
    let speed = options.speed;
    if !(speed.is_finite() && speed > 0.0) {
        return Err(EngineError::Refused(format!(
            "the demo speed must be a positive number, not {speed}"
        )));
    }
    let dir = &options.dir;
    std::fs::create_dir_all(dir)
        .map_err(|e| demo_error(&format!("cannot create the folder '{}'", dir.display()), e))?;
    let state = dir.join("sim-state.json");
    let journal_path = journal_path(dir);
    if options.fresh {
        remove_if_present(&state)?;
        remove_if_present(&journal_path)?;
        for suffix in ["-wal", "-shm"] {
            remove_if_present(&PathBuf::from(format!(
                "{}{suffix}",
                journal_path.display()
            )))?;
        }
    }
    let sim = Sim::start(SimOptions {
        state_file: Some(state),
        speed,
        scenario: options.scenario,
        ..SimOptions::default()
    })
    .await
    .map_err(|e| demo_error("the simulated Azure did not start", e))?;
    let ca = TrustedCa::from_pem(&sim.ca_pem)
        .map_err(|e| demo_error("its certificate", e))?
        .exclusive();
    let http =
        landfall_azure::tls::http_client(Some(&ca)).map_err(|e| demo_error("HTTPS client", e))?;
    let base = url::Url::parse(&sim.base_url).map_err(|e| demo_error("its address", e))?;
    let cloud = Cloud::discover(&base, &http)
        .await
        .map_err(|e| demo_error("reading its cloud metadata", e))?;
    let identity = sim.sim.options.identity.clone();
    let credential = client_secret_credential(
        &cloud,
        &identity.tenant_id,
        &identity.client_id,
        Secret::new(identity.client_secret.clone()),
        http,
    )
    .map_err(|e| demo_error("signing in", e))?;
    let client = ArmClient::for_cloud(
        &cloud,
        credential,
        Some(ArmClientOptions {
            trusted_ca: Some(ca),
            ..ArmClientOptions::default()
        }),
    )
    .map_err(|e| demo_error("the Resource Manager client", e))?;
    let journal = Journal::open(&journal_path)?;
    let bundle = Bundle::builtin()?;
    let installer = Installer::new(
        Arc::new(client),
        Arc::new(journal),
        Arc::new(bundle),
        Arc::new(MemoryStore::new()),
    )
    .runner_options(RunnerOptions {
        poll_interval: Duration::from_secs_f64((2.0 / speed).clamp(0.1, 2.0)),
        ..RunnerOptions::default()
    })
    .duration_scale(1.0 / speed);
    Ok(Demo {
        sim,
        installer,
        target: Target {
            subscription_id: identity.subscription_id,
            tenant_id: identity.tenant_id,
            resource_group: None,
        },
        client_id: identity.client_id,
    })
}
