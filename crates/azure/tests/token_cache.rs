//! The token cache against landfall-sim with a [`MemoryStore`] (never the user's keyring): a
//! device-code sign-in is stored, a new cache instance redeems the stored refresh token for a
//! token ARM accepts, refreshes silently before expiry and writes the rotated refresh token
//! back, switches tenant, and sign-out removes every entry. No secret in `Debug` or errors.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use azure_core::credentials::{Secret, TokenCredential};
use landfall_azure::auth::device::DeviceCodePrompt;
use landfall_azure::auth::{
    CacheError, DeviceCodeCredential, EntraClient, MemoryStore, SecretStore, Session, TokenCache,
};
use landfall_azure::clock::SleepFuture;
use landfall_azure::{ArmClient, ArmClientOptions, Cloud, Timer, TrustedCa};
use landfall_sim::entra::store::DeviceState;
use landfall_sim::{ManualClock, Scenario, Sim, SimHandle, SimOptions};
use time::OffsetDateTime;
use url::Url;

/// The credentials' clock and sleep on the simulator's manual clock; every sleep approves a
/// pending device code (the user enters it).
struct SimTime {
    clock: Arc<ManualClock>,
    sim: Arc<Sim>,
    prompt: Arc<Mutex<Option<DeviceCodePrompt>>>,
}

impl landfall_azure::Clock for SimTime {
    fn now(&self) -> OffsetDateTime {
        landfall_sim::Clock::now(&*self.clock)
    }
}

impl landfall_azure::Sleep for SimTime {
    fn sleep(&self, duration: Duration) -> SleepFuture {
        if let Some(p) = self.prompt.lock().unwrap().clone() {
            let mut store = self.sim.tokens.store();
            if let Some(key) = store.device_by_user_code(&p.user_code)
                && let Some(flow) = store.devices.get_mut(&key)
                && flow.state == DeviceState::Pending
            {
                flow.state = DeviceState::Approved;
            }
        }
        self.clock
            .advance(time::Duration::try_from(duration).unwrap());
        Box::pin(tokio::task::yield_now())
    }
}

struct Env {
    sim: SimHandle,
    time: Arc<SimTime>,
    cloud: Cloud,
    ca: TrustedCa,
    http: reqwest::Client,
}

impl Env {
    async fn start() -> Env {
        let now = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
        let clock = Arc::new(ManualClock::new(now));
        let sim = Sim::start(SimOptions {
            clock: clock.clone(),
            scenario: Scenario {
                no_throttling: true,
                token_lifetime_seconds: Some(3600),
                ..Scenario::default()
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
            sim: sim.sim.clone(),
            prompt: Arc::default(),
        });
        Env {
            sim,
            time,
            cloud,
            ca,
            http,
        }
    }

    fn tenant(&self) -> String {
        self.sim.sim.options.identity.tenant_id.clone()
    }

    fn oid(&self) -> String {
        self.sim.sim.options.identity.user_object_id.clone()
    }

    fn timer(&self) -> Timer {
        Timer::new(self.time.clone(), self.time.clone())
    }

    fn entra(&self) -> EntraClient {
        EntraClient::with_http(self.cloud.clone(), &self.tenant(), self.http.clone())
            .timer(self.timer())
    }

    fn scope(&self) -> String {
        self.cloud.arm_scope()
    }

    /// A device-code sign-in, the code entered at the first poll.
    async fn sign_in(&self) -> Session {
        let slot = self.time.prompt.clone();
        let credential = DeviceCodeCredential::new(
            self.entra(),
            Arc::new(move |p: &DeviceCodePrompt| *slot.lock().unwrap() = Some(p.clone())),
        );
        credential.sign_in(&[&self.scope()]).await.unwrap()
    }

    /// Token endpoint requests the simulator served.
    fn token_requests(&self) -> usize {
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
    async fn list_subscriptions(&self, credential: Arc<dyn TokenCredential>) -> serde_json::Value {
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

/// The stored refresh token of the env's account in `tenant`.
fn stored_refresh(env: &Env, store: &MemoryStore, tenant: &str) -> Option<String> {
    let key = format!("{}/{}/{tenant}/refresh-token", env.cloud.name, env.oid());
    store
        .get("landfall", &key)
        .unwrap()
        .map(|s| s.secret().to_owned())
}

#[tokio::test]
async fn a_new_cache_redeems_the_stored_refresh_token_for_a_token_arm_accepts() {
    let env = Env::start().await;
    let store = Arc::new(MemoryStore::new());
    let session = env.sign_in().await;
    let oid = TokenCache::new(store.clone(), env.entra())
        .store_session(&session)
        .unwrap();
    assert_eq!(oid, env.oid());
    assert_eq!(
        stored_refresh(&env, &store, &env.tenant()).as_deref(),
        session.refresh_token().map(|s| s.secret())
    );

    // Another instance (an app restart): nothing in memory, the refresh token from the store.
    let served = env.token_requests();
    let cache = TokenCache::new(store.clone(), env.entra());
    let credential = cache
        .credential_for(&oid, &env.tenant(), &env.scope())
        .await
        .unwrap();
    assert_eq!(env.token_requests(), served + 1, "one refresh");
    let subs = env.list_subscriptions(Arc::new(credential)).await;
    assert!(subs["value"].as_array().is_some_and(|v| !v.is_empty()));
    assert_eq!(
        env.token_requests(),
        served + 1,
        "ARM's token came from memory"
    );
}

#[tokio::test]
async fn refreshes_five_minutes_before_expiry_and_writes_the_rotated_refresh_token_back() {
    let env = Env::start().await;
    let store = Arc::new(MemoryStore::new());
    let session = env.sign_in().await;
    let cache = TokenCache::new(store.clone(), env.entra());
    let oid = cache.store_session(&session).unwrap();
    let credential = cache
        .credential_for(&oid, &env.tenant(), &env.scope())
        .await
        .unwrap();
    let scope = env.scope();
    let first = credential.get_token(&[&scope], None).await.unwrap();
    assert_eq!(
        first.token.secret(),
        session.access_token().secret(),
        "the sign-in's token, from memory"
    );
    let served = env.token_requests();

    // 56 minutes into a 60-minute token: still more than five minutes left.
    env.time.clock.advance(time::Duration::minutes(54));
    let same = credential.get_token(&[&scope], None).await.unwrap();
    assert_eq!(same.token.secret(), first.token.secret());
    assert_eq!(env.token_requests(), served);

    // Under five minutes left: refreshed silently, and the rotated refresh token stored.
    env.time.clock.advance(time::Duration::minutes(2));
    let renewed = credential.get_token(&[&scope], None).await.unwrap();
    assert_ne!(renewed.token.secret(), first.token.secret());
    assert_eq!(env.token_requests(), served + 1);
    let stored = stored_refresh(&env, &store, &env.tenant()).unwrap();
    assert_ne!(
        Some(stored.as_str()),
        session.refresh_token().map(|s| s.secret())
    );
    let issued = env
        .sim
        .sim
        .tokens
        .store()
        .refresh_tokens
        .contains_key(&stored);
    assert!(issued, "the stored refresh token is the newest one issued");
    let subs = env.list_subscriptions(Arc::new(credential)).await;
    assert!(subs["value"].as_array().is_some_and(|v| !v.is_empty()));
}

#[tokio::test]
async fn a_guest_tenant_credential_uses_the_home_refresh_token_and_stores_its_own() {
    let env = Env::start().await;
    let store = Arc::new(MemoryStore::new());
    let cache = TokenCache::new(store.clone(), env.entra());
    let oid = cache.store_session(&env.sign_in().await).unwrap();
    let guest = env.sim.sim.options.identity.guest_tenant_id.clone();
    cache
        .credential_for(&oid, &guest, &env.scope())
        .await
        .unwrap();
    assert!(stored_refresh(&env, &store, &guest).is_some());
}

#[tokio::test]
async fn sign_out_removes_every_entry_of_the_account_and_its_access_tokens() {
    let env = Env::start().await;
    let store = Arc::new(MemoryStore::new());
    let cache = TokenCache::new(store.clone(), env.entra());
    let oid = cache.store_session(&env.sign_in().await).unwrap();
    let guest = env.sim.sim.options.identity.guest_tenant_id.clone();
    let credential = cache
        .credential_for(&oid, &guest, &env.scope())
        .await
        .unwrap();
    cache
        .store_client_secret(&env.tenant(), "app-id", &Secret::new("sp-secret"))
        .unwrap();
    assert_eq!(store.keys().len(), 5, "{store:?}");

    cache.sign_out(&oid).unwrap();
    let left: Vec<String> = store.keys().into_iter().map(|(_, k)| k).collect();
    assert!(left.iter().all(|k| !k.contains(&oid)), "{left:?}");
    assert_eq!(
        left.len(),
        2,
        "the service principal's entries stay: {left:?}"
    );
    // The in-memory access token is gone too: the next call needs the (deleted) refresh token.
    let err = credential.token(&[&env.scope()]).await.unwrap_err();
    assert!(matches!(err, CacheError::NotSignedIn { .. }), "{err:?}");
    let err = cache
        .credential_for(&oid, &env.tenant(), &env.scope())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("sign in again"), "{err}");
    assert_eq!(
        cache
            .client_secret(&env.tenant(), "app-id")
            .unwrap()
            .unwrap()
            .secret(),
        "sp-secret"
    );
}

#[tokio::test]
async fn no_token_or_secret_appears_in_debug_or_errors() {
    let env = Env::start().await;
    let store = Arc::new(MemoryStore::new());
    let cache = TokenCache::new(store.clone(), env.entra());
    let session = env.sign_in().await;
    let oid = cache.store_session(&session).unwrap();
    cache
        .store_client_secret(&env.tenant(), "app-id", &Secret::new("sp-SECRET-value"))
        .unwrap();
    let credential = cache
        .credential_for(&oid, &env.tenant(), &env.scope())
        .await
        .unwrap();
    let token = credential.get_token(&[&env.scope()], None).await.unwrap();

    // A refresh token Entra refuses: its error names Entra's code, never the token.
    let bogus_store = Arc::new(MemoryStore::new());
    let key = format!("{}/{oid}/{}/refresh-token", env.cloud.name, env.tenant());
    bogus_store
        .set("landfall", &key, &Secret::new("bogus-REFRESH-xyz"))
        .unwrap();
    let err = TokenCache::new(bogus_store.clone(), env.entra())
        .credential_for(&oid, &env.tenant(), &env.scope())
        .await
        .unwrap_err();

    let secrets = [
        session.access_token().secret().to_owned(),
        session.refresh_token().unwrap().secret().to_owned(),
        stored_refresh(&env, &store, &env.tenant()).unwrap(),
        token.token.secret().to_owned(),
        "sp-SECRET-value".to_owned(),
        "bogus-REFRESH-xyz".to_owned(),
    ];
    let outputs = [
        format!("{cache:?}"),
        format!("{credential:?}"),
        format!("{store:?}"),
        format!("{bogus_store:?}"),
        format!("{err:?}"),
        err.to_string(),
        azure_core::Error::from(err).to_string(),
    ];
    for output in &outputs {
        for secret in &secrets {
            assert!(!output.contains(secret.as_str()), "secret in {output}");
        }
    }
}
