//! The token cache against landfall-sim with a [`MemoryStore`] (never the user's keyring): a
//! device-code sign-in is stored, a new cache instance redeems the stored refresh token for a
//! token ARM accepts, refreshes silently before expiry and writes the rotated refresh token
//! back, switches tenant, and sign-out removes every entry. No secret in `Debug` or errors.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use azure_core::credentials::{Secret, TokenCredential};
use landfall_azure::auth::device::DeviceCodePrompt;
use landfall_azure::auth::{
    CacheError, DeviceCodeCredential, MemoryStore, SecretStore, Session, TokenCache,
};
use landfall_sim::Scenario;
use landfall_sim::entra::store::DeviceState;

#[path = "support/sim_env.rs"]
mod sim_env;

use sim_env::Env;

/// A simulator whose access tokens last an hour, where every sleep of a credential enters a
/// pending device code (the user types it in), and the prompt slot the device flow fills.
async fn start() -> (Env, Arc<Mutex<Option<DeviceCodePrompt>>>) {
    let env = Env::start(Scenario {
        token_lifetime_seconds: Some(3600),
        ..Scenario::default()
    })
    .await;
    let prompt: Arc<Mutex<Option<DeviceCodePrompt>>> = Arc::default();
    let (sim, slot) = (env.sim.sim.clone(), prompt.clone());
    env.on_sleep(Box::new(move |_, duration| {
        if let Some(p) = slot.lock().unwrap().clone() {
            let mut store = sim.tokens.store();
            if let Some(key) = store.device_by_user_code(&p.user_code)
                && let Some(flow) = store.devices.get_mut(&key)
                && flow.state == DeviceState::Pending
            {
                flow.state = DeviceState::Approved;
            }
        }
        duration
    }));
    (env, prompt)
}

/// The signed-in user's object ID.
fn user_oid(env: &Env) -> String {
    env.sim.sim.options.identity.user_object_id.clone()
}

/// A device-code sign-in, the code entered at the first poll.
async fn sign_in(env: &Env, prompt: &Arc<Mutex<Option<DeviceCodePrompt>>>) -> Session {
    let slot = prompt.clone();
    let credential = DeviceCodeCredential::new(
        env.entra(),
        Arc::new(move |p: &DeviceCodePrompt| *slot.lock().unwrap() = Some(p.clone())),
    );
    credential.sign_in(&[&env.scope()]).await.unwrap()
}

/// The stored refresh token of the env's account in `tenant`.
fn stored_refresh(env: &Env, store: &MemoryStore, tenant: &str) -> Option<String> {
    let key = format!(
        "{}/{}/{tenant}/refresh-token",
        env.cloud.name,
        user_oid(env)
    );
    store
        .get("landfall", &key)
        .unwrap()
        .map(|s| s.secret().to_owned())
}

#[tokio::test]
async fn a_new_cache_redeems_the_stored_refresh_token_for_a_token_arm_accepts() {
    let (env, prompt) = start().await;
    let store = Arc::new(MemoryStore::new());
    let session = sign_in(&env, &prompt).await;
    let oid = TokenCache::new(store.clone(), env.entra())
        .store_session(&session)
        .unwrap();
    assert_eq!(oid, user_oid(&env));
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
    let (env, prompt) = start().await;
    let store = Arc::new(MemoryStore::new());
    let session = sign_in(&env, &prompt).await;
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
    let (env, prompt) = start().await;
    let store = Arc::new(MemoryStore::new());
    let cache = TokenCache::new(store.clone(), env.entra());
    let oid = cache.store_session(&sign_in(&env, &prompt).await).unwrap();
    let guest = env.sim.sim.options.identity.guest_tenant_id.clone();
    cache
        .credential_for(&oid, &guest, &env.scope())
        .await
        .unwrap();
    assert!(stored_refresh(&env, &store, &guest).is_some());
}

#[tokio::test]
async fn sign_out_removes_every_entry_of_the_account_and_its_access_tokens() {
    let (env, prompt) = start().await;
    let store = Arc::new(MemoryStore::new());
    let cache = TokenCache::new(store.clone(), env.entra());
    let oid = cache.store_session(&sign_in(&env, &prompt).await).unwrap();
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
    let (env, prompt) = start().await;
    let store = Arc::new(MemoryStore::new());
    let cache = TokenCache::new(store.clone(), env.entra());
    let session = sign_in(&env, &prompt).await;
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
