//! A simulated Azure on a manual clock and an installer over it: every wait of the engine
//! advances the simulator's clock, so a full install runs in moments at exact simulated times.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use landfall_azure::auth::{MemoryStore, client_secret_credential};
use landfall_azure::clock::SleepFuture;
use landfall_azure::{
    ArmClient, ArmClientOptions, Cloud, Secret, ThrottleOptions, Timer, TrustedCa,
};
use landfall_engine::bundle::Bundle;
use landfall_engine::deploy::RunnerOptions;
use landfall_engine::inputs::resolve;
use landfall_engine::installer::{Installer, Prepared};
use landfall_engine::journal::Journal;
use landfall_engine::{EventEnvelope, Target};
use landfall_sim::{ManualClock, Scenario, Sim, SimHandle, SimOptions};
use time::OffsetDateTime;

pub struct SimTime {
    pub clock: Arc<ManualClock>,
}

impl landfall_azure::Clock for SimTime {
    fn now(&self) -> OffsetDateTime {
        landfall_sim::Clock::now(&*self.clock)
    }
}

impl landfall_azure::Sleep for SimTime {
    fn sleep(&self, duration: Duration) -> SleepFuture {
        self.clock
            .advance(time::Duration::try_from(duration).unwrap());
        Box::pin(tokio::task::yield_now())
    }
}

pub struct Env {
    pub sim: SimHandle,
    pub time: Arc<SimTime>,
    pub cloud: Cloud,
    pub ca: TrustedCa,
    pub journal: Arc<Journal>,
    pub secrets: Arc<MemoryStore>,
    pub bundle: Arc<Bundle>,
    pub target: Target,
    pub dir: tempfile::TempDir,
}

impl Env {
    pub async fn start(scenario: Scenario, speed: f64) -> Env {
        Env::start_seeded(scenario, speed, 1).await
    }

    /// With `seed` for the simulator's random choices (which requests fail).
    pub async fn start_seeded(scenario: Scenario, speed: f64, seed: u64) -> Env {
        Env::boot(scenario, speed, seed, false).await
    }

    /// With the simulator keeping its state in a file, so [`Env::restart`] can restart it.
    pub async fn start_with_state(scenario: Scenario, speed: f64, seed: u64) -> Env {
        Env::boot(scenario, speed, seed, true).await
    }

    async fn boot(scenario: Scenario, speed: f64, seed: u64, stateful: bool) -> Env {
        let now = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
        let clock = Arc::new(ManualClock::new(now));
        let dir = tempfile::tempdir().unwrap();
        let sim = Sim::start(SimOptions {
            clock: clock.clone(),
            speed,
            scenario,
            seed,
            state_file: stateful.then(|| dir.path().join("sim-state.json")),
            ..SimOptions::default()
        })
        .await
        .unwrap();
        let (cloud, ca) = Env::connect(&sim).await;
        let journal = Arc::new(Journal::open(dir.path().join("journal.sqlite")).unwrap());
        let identity = sim.sim.options.identity.clone();
        Env {
            target: Target {
                subscription_id: identity.subscription_id.clone(),
                tenant_id: identity.tenant_id.clone(),
                resource_group: None,
            },
            sim,
            time: Arc::new(SimTime { clock }),
            cloud,
            ca,
            journal,
            secrets: Arc::new(MemoryStore::new()),
            bundle: Arc::new(Bundle::builtin().unwrap()),
            dir,
        }
    }

    async fn connect(sim: &SimHandle) -> (Cloud, TrustedCa) {
        let ca = TrustedCa::from_pem(&sim.ca_pem).unwrap().exclusive();
        let http = landfall_azure::tls::http_client(Some(&ca)).unwrap();
        let cloud = Cloud::discover(&url::Url::parse(&sim.base_url).unwrap(), &http)
            .await
            .unwrap();
        (cloud, ca)
    }

    /// Stops the simulator and starts it again from its state file (a new address and
    /// certificate, as after a restart); the request log starts empty.
    pub async fn restart(self) -> Env {
        let options = self.sim.sim.options.clone();
        assert!(options.state_file.is_some(), "start_with_state first");
        let Env {
            sim,
            time,
            journal,
            secrets,
            bundle,
            target,
            dir,
            ..
        } = self;
        sim.stop().await;
        let sim = Sim::start(options).await.unwrap();
        let (cloud, ca) = Env::connect(&sim).await;
        Env {
            sim,
            time,
            cloud,
            ca,
            journal,
            secrets,
            bundle,
            target,
            dir,
        }
    }

    pub fn timer(&self) -> Timer {
        Timer::new(self.time.clone(), self.time.clone())
    }

    /// A fresh ARM client (as a new process would have).
    pub fn client(&self) -> ArmClient {
        let identity = &self.sim.sim.options.identity;
        let http = landfall_azure::tls::http_client(Some(&self.ca)).unwrap();
        let credential = client_secret_credential(
            &self.cloud,
            &identity.tenant_id,
            &identity.client_id,
            Secret::new(identity.client_secret.clone()),
            http,
        )
        .unwrap();
        ArmClient::for_cloud(
            &self.cloud,
            credential,
            Some(ArmClientOptions {
                trusted_ca: Some(self.ca.clone()),
                timer: self.timer(),
                throttle: ThrottleOptions::default(),
                ..ArmClientOptions::default()
            }),
        )
        .unwrap()
    }

    /// An installer, as a new process would build it (same journal file and secrets).
    pub fn installer(&self) -> Installer {
        Installer::new(
            Arc::new(self.client()),
            self.journal.clone(),
            self.bundle.clone(),
            self.secrets.clone(),
        )
        .runner_options(RunnerOptions {
            poll_interval: Duration::from_secs(2),
            ..RunnerOptions::default()
        })
    }

    pub fn prepare(&self, installer: &Installer, preset: &str, sets: &[&str]) -> Prepared {
        let mut all = vec!["name=lftest".to_owned(), "location=eastus".to_owned()];
        all.extend(sets.iter().map(|s| (*s).to_owned()));
        let values = resolve(&self.bundle.manifest, Some(preset), None, &all).unwrap();
        installer
            .prepare(&values, &self.target, Some(preset))
            .unwrap()
    }

    /// Requests the simulator served: (method, path).
    pub fn requests(&self) -> Vec<(String, String, u16)> {
        self.sim
            .sim
            .requests
            .lock()
            .unwrap()
            .iter()
            .map(|r| (r.method.clone(), r.path.clone(), r.status))
            .collect()
    }

    /// PUTs of each stage deployment Azure accepted (2xx, served), by deployment name.
    pub fn deployment_puts(&self) -> std::collections::BTreeMap<String, usize> {
        let mut out = std::collections::BTreeMap::new();
        let log = self.sim.sim.requests.lock().unwrap().clone();
        for r in log {
            let lower = r.path.to_ascii_lowercase();
            let accepted = (200..300).contains(&r.status) && r.fault != Some("dropped");
            if r.method == "PUT"
                && accepted
                && lower.contains("/providers/microsoft.resources/deployments/")
            {
                let name = r.path.rsplit('/').next().unwrap().to_owned();
                *out.entry(name).or_insert(0) += 1;
            }
        }
        out
    }

    /// Requests whose connection the simulator dropped before serving them.
    pub fn dropped(&self) -> usize {
        let log = self.sim.sim.requests.lock().unwrap();
        log.iter().filter(|r| r.fault == Some("dropped")).count()
    }

    /// Requests whose answer the simulator lost after serving them.
    pub fn lost_answers(&self) -> usize {
        let log = self.sim.sim.requests.lock().unwrap();
        log.iter().filter(|r| r.fault == Some("answerLost")).count()
    }
}

/// Collects published events.
#[derive(Default)]
pub struct Collect(pub Mutex<Vec<EventEnvelope>>);

impl landfall_engine::deploy::EventSink for Collect {
    fn publish(&self, e: &EventEnvelope) {
        self.0.lock().unwrap().push(e.clone());
    }
}

impl Collect {
    pub fn names(&self) -> Vec<&'static str> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|e| e.event.name())
            .collect()
    }
    pub fn all(&self) -> Vec<EventEnvelope> {
        self.0.lock().unwrap().clone()
    }
}
