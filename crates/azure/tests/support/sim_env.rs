//! Shared by the sign-in tests: a simulator on a manual clock and the credentials' clock and
//! sleep bound to it, so polling flows run instantly and at exact simulated times.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use azure_core::credentials::TokenCredential;
use landfall_azure::auth::EntraClient;
use landfall_azure::clock::SleepFuture;
use landfall_azure::{ArmClient, ArmClientOptions, Cloud, Timer, TrustedCa};
use landfall_sim::{ManualClock, Scenario, Sim, SimHandle, SimOptions};
use time::OffsetDateTime;
use url::Url;

/// Decides how far a sleep moves the simulator's clock (index, asked) and may act on the
/// simulator at that moment.
pub type SleepHook = Box<dyn FnMut(usize, Duration) -> Duration + Send>;

/// The credentials' clock and sleep, bound to the simulator's manual clock.
pub struct SimTime {
    pub clock: Arc<ManualClock>,
    pub sleeps: Mutex<Vec<Duration>>,
    pub hook: Mutex<Option<SleepHook>>,
}

impl landfall_azure::Clock for SimTime {
    fn now(&self) -> OffsetDateTime {
        landfall_sim::Clock::now(&*self.clock)
    }
}

impl landfall_azure::Sleep for SimTime {
    fn sleep(&self, duration: Duration) -> SleepFuture {
        let index = {
            let mut sleeps = self.sleeps.lock().unwrap();
            sleeps.push(duration);
            sleeps.len() - 1
        };
        let advance = match self.hook.lock().unwrap().as_mut() {
            Some(hook) => hook(index, duration),
            None => duration,
        };
        self.clock
            .advance(time::Duration::try_from(advance).unwrap());
        Box::pin(tokio::task::yield_now())
    }
}

pub struct Env {
    pub sim: SimHandle,
    pub time: Arc<SimTime>,
    pub cloud: Cloud,
    pub ca: TrustedCa,
    pub http: reqwest::Client,
}

impl Env {
    pub async fn start(scenario: Scenario) -> Env {
        let now = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
        let clock = Arc::new(ManualClock::new(now));
        let sim = Sim::start(SimOptions {
            clock: clock.clone(),
            scenario: Scenario {
                no_throttling: true,
                ..scenario
            },
            ..SimOptions::default()
        })
        .await
        .unwrap();
        let ca = TrustedCa::from_pem(&sim.ca_pem).unwrap().exclusive();
        let http = landfall_azure::tls::http_client(Some(&ca)).unwrap();
        let cloud = Cloud::discover(&Url::parse(&sim.base_url).unwrap(), &http)
            .await
            .unwrap();
        let time = Arc::new(SimTime {
            clock,
            sleeps: Mutex::new(Vec::new()),
            hook: Mutex::new(None),
        });
        Env {
            sim,
            time,
            cloud,
            ca,
            http,
        }
    }

    pub fn tenant(&self) -> String {
        self.sim.sim.options.identity.tenant_id.clone()
    }

    pub fn timer(&self) -> Timer {
        Timer::new(self.time.clone(), self.time.clone())
    }

    pub fn entra(&self) -> EntraClient {
        EntraClient::with_http(self.cloud.clone(), &self.tenant(), self.http.clone())
            .timer(self.timer())
    }

    pub fn scope(&self) -> String {
        self.cloud.arm_scope()
    }

    pub fn sleeps(&self) -> Vec<Duration> {
        self.time.sleeps.lock().unwrap().clone()
    }

    pub fn on_sleep(&self, hook: SleepHook) {
        *self.time.hook.lock().unwrap() = Some(hook);
    }

    /// Token endpoint requests the simulator served.
    pub fn token_requests(&self) -> usize {
        self.sim
            .sim
            .requests
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.path.ends_with("/oauth2/v2.0/token"))
            .count()
    }

    /// `GET /subscriptions` through the ARM client with `credential`.
    pub async fn list_subscriptions(
        &self,
        credential: Arc<dyn TokenCredential>,
    ) -> serde_json::Value {
        let client = ArmClient::for_cloud(
            &self.cloud,
            credential,
            Some(ArmClientOptions {
                trusted_ca: Some(self.ca.clone()),
                timer: self.timer(),
                ..ArmClientOptions::default()
            }),
        )
        .unwrap();
        client
            .get("/subscriptions", "2022-12-01")
            .await
            .unwrap()
            .json_value()
            .unwrap()
    }
}
