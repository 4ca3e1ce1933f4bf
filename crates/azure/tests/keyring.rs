//! The real OS keyring through [`KeyringStore`]: set, get, overwrite and delete, and a token
//! cache's sign-out over it. Needs a Secret Service session; `scripts/keyring-test` starts a
//! throwaway one (private D-Bus session, temporary HOME), so the user's keyring is never used.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use azure_core::credentials::Secret;
use landfall_azure::auth::{KeyringStore, SecretStore};

/// A service name of its own, so nothing collides with Landfall's real entries.
const SERVICE: &str = "landfall-keyring-test";

#[test]
#[ignore = "needs a Secret Service session: run scripts/keyring-test"]
fn keyring_store_sets_gets_overwrites_and_deletes() {
    let store = KeyringStore::new();
    let key = format!("cloud/account-{}/tenant/refresh-token", std::process::id());
    assert!(store.get(SERVICE, &key).unwrap().is_none());

    store.set(SERVICE, &key, &Secret::new("rt-one")).unwrap();
    assert_eq!(
        store.get(SERVICE, &key).unwrap().unwrap().secret(),
        "rt-one"
    );
    store.set(SERVICE, &key, &Secret::new("rt-two")).unwrap();
    assert_eq!(
        store.get(SERVICE, &key).unwrap().unwrap().secret(),
        "rt-two"
    );
    assert!(store.get(SERVICE, "another-key").unwrap().is_none());

    store.delete(SERVICE, &key).unwrap();
    assert!(store.get(SERVICE, &key).unwrap().is_none());
    // Deleting what is gone is not an error (sign-out may run twice).
    store.delete(SERVICE, &key).unwrap();
}

// Async like the credentials that call the store from `get_token`: the keyring's blocking
// D-Bus calls must work inside a tokio runtime.
#[tokio::test]
#[ignore = "needs a Secret Service session: run scripts/keyring-test"]
async fn token_cache_keeps_a_client_secret_in_the_keyring_until_sign_out() {
    use std::sync::Arc;

    use landfall_azure::Cloud;
    use landfall_azure::auth::{EntraClient, TokenCache};

    let entra = EntraClient::new(Cloud::azure_public(), "tenant-a", None).unwrap();
    let cache = TokenCache::new(Arc::new(KeyringStore::new()), entra).service(SERVICE);
    let app = format!("app-{}", std::process::id());
    cache
        .store_client_secret("tenant-a", &app, &Secret::new("sp-secret"))
        .unwrap();
    // A second instance (an app restart) reads it from the keyring.
    let entra = EntraClient::new(Cloud::azure_public(), "tenant-a", None).unwrap();
    let again = TokenCache::new(Arc::new(KeyringStore::new()), entra).service(SERVICE);
    let secret = again.client_secret("tenant-a", &app).unwrap().unwrap();
    assert_eq!(secret.secret(), "sp-secret");

    again.sign_out(&app).unwrap();
    assert!(cache.client_secret("tenant-a", &app).unwrap().is_none());
    let index = format!("{}/{app}/index", Cloud::azure_public().name);
    assert!(KeyringStore::new().get(SERVICE, &index).unwrap().is_none());
}
