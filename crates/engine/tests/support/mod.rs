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
        let now = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
        let clock = Arc::new(ManualClock::new(now));
        let sim = Sim::start(SimOptions {
            clock: clock.clone(),
            speed,
            scenario,
            ..SimOptions::default()
        })
        .await
        .unwrap();
        let ca = TrustedCa::from_pem(&sim.ca_pem).unwrap().exclusive();
        let http = landfall_azure::tls::http_client(Some(&ca)).unwrap();
        let cloud = Cloud::discover(&url::Url::parse(&sim.base_url).unwrap(), &http)
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
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

    /// PUTs of each stage deployment, by deployment name.
    pub fn deployment_puts(&self) -> std::collections::BTreeMap<String, usize> {
        let mut out = std::collections::BTreeMap::new();
        for (m, p, _) in self.requests() {
            let lower = p.to_ascii_lowercase();
            if m == "PUT" && lower.contains("/providers/microsoft.resources/deployments/") {
                let name = p
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .split('?')
                    .next()
                    .unwrap()
                    .to_owned();
                *out.entry(name).or_insert(0) += 1;
            }
        }
        out
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
