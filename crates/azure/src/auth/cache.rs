//! The token cache: access tokens in memory only, refresh tokens and service-principal secrets
//! in a [`SecretStore`] (the OS keyring through [`KeyringStore`], or [`MemoryStore`] in tests),
//! keyed per cloud name + tenant + account. Credentials from [`TokenCache::credential_for`]
//! refresh silently five minutes before expiry and write rotated refresh tokens back;
//! [`TokenCache::sign_out`] forgets an account everywhere.
//!
//! Keyrings cannot list entries by prefix, so each account also has an index entry (the
//! tenants it has secrets in, no secret) that sign-out walks.
//!
//! Store calls are synchronous (a D-Bus round trip on Linux, under a millisecond against a
//! local daemon) and made only when a token is missing or about to expire.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex};

use azure_core::credentials::{AccessToken, Secret, TokenCredential, TokenRequestOptions};

use super::entra::{EntraClient, Session};
use super::error::SignInError;
use super::refresh::{REFRESH_MARGIN, RefreshTokenCredential};

/// The keyring service name Landfall's entries live under.
pub const KEYRING_SERVICE: &str = "landfall";

/// What failed in the token cache. Never carries a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CacheError {
    /// The secret store (OS keyring) failed.
    #[error("the OS keyring failed to {operation} an entry: {message}")]
    Store {
        /// `read`, `write` or `delete`.
        operation: &'static str,
        /// What the store said (never the secret).
        message: String,
    },
    /// No refresh token is stored for this account: sign in again.
    #[error("account {account} is not signed in to tenant {tenant}; sign in again")]
    NotSignedIn {
        /// The account's object ID.
        account: String,
        /// The tenant.
        tenant: String,
    },
    /// The sign-in carried no account object ID (no id_token), so it cannot be keyed.
    #[error("the sign-in did not say which account it is (no id_token); sign in again")]
    NoAccount,
    /// Redeeming the stored refresh token failed.
    #[error(transparent)]
    SignIn(#[from] SignInError),
}

impl From<CacheError> for azure_core::Error {
    fn from(e: CacheError) -> Self {
        azure_core::Error::new(azure_core::error::ErrorKind::Credential, e)
    }
}

/// Where secrets live: get, set and delete by (service, key).
pub trait SecretStore: Send + Sync {
    /// The secret at (service, key), `None` when there is none.
    fn get(&self, service: &str, key: &str) -> Result<Option<Secret>, CacheError>;
    /// Stores `secret` at (service, key), replacing any previous one.
    fn set(&self, service: &str, key: &str, secret: &Secret) -> Result<(), CacheError>;
    /// Removes (service, key); removing what is not there is not an error.
    fn delete(&self, service: &str, key: &str) -> Result<(), CacheError>;
}

/// The OS keyring (Secret Service on Linux, Keychain on macOS, Credential Manager on Windows)
/// through the `keyring` crate's platform default store.
#[derive(Clone, Copy, Debug, Default)]
pub struct KeyringStore;

impl KeyringStore {
    /// The platform's default keyring.
    pub fn new() -> Self {
        KeyringStore
    }

    fn entry(
        service: &str,
        key: &str,
        operation: &'static str,
    ) -> Result<keyring::Entry, CacheError> {
        keyring::Entry::new(service, key).map_err(|e| keyring_error(operation, e))
    }
}

/// A keyring error's text without the data some variants carry (a secret that did not decode).
fn keyring_error(operation: &'static str, e: keyring::Error) -> CacheError {
    let message = match e {
        keyring::Error::BadEncoding(_) | keyring::Error::BadDataFormat(..) => {
            "the stored entry is unreadable".to_owned()
        }
        keyring::Error::Ambiguous(_) => "several entries match".to_owned(),
        other => other.to_string(),
    };
    CacheError::Store { operation, message }
}

impl SecretStore for KeyringStore {
    fn get(&self, service: &str, key: &str) -> Result<Option<Secret>, CacheError> {
        match Self::entry(service, key, "read")?.get_password() {
            Ok(s) => Ok(Some(Secret::new(s))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(keyring_error("read", e)),
        }
    }

    fn set(&self, service: &str, key: &str, secret: &Secret) -> Result<(), CacheError> {
        Self::entry(service, key, "write")?
            .set_password(secret.secret())
            .map_err(|e| keyring_error("write", e))
    }

    fn delete(&self, service: &str, key: &str) -> Result<(), CacheError> {
        match Self::entry(service, key, "delete")?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(keyring_error("delete", e)),
        }
    }
}

/// An in-memory store for tests: never touches the user's keyring.
#[derive(Default)]
pub struct MemoryStore {
    entries: Mutex<HashMap<(String, String), Secret>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryStore::default()
    }

    /// The (service, key) pairs held, sorted (no secrets).
    pub fn keys(&self) -> Vec<(String, String)> {
        let mut keys: Vec<_> = lock(&self.entries).keys().cloned().collect();
        keys.sort();
        keys
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("keys", &self.keys())
            .finish_non_exhaustive()
    }
}

impl SecretStore for MemoryStore {
    fn get(&self, service: &str, key: &str) -> Result<Option<Secret>, CacheError> {
        Ok(lock(&self.entries)
            .get(&(service.to_owned(), key.to_owned()))
            .cloned())
    }

    fn set(&self, service: &str, key: &str, secret: &Secret) -> Result<(), CacheError> {
        lock(&self.entries).insert((service.to_owned(), key.to_owned()), secret.clone());
        Ok(())
    }

    fn delete(&self, service: &str, key: &str) -> Result<(), CacheError> {
        lock(&self.entries).remove(&(service.to_owned(), key.to_owned()));
        Ok(())
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// In-memory access tokens by (tenant, account, sorted scopes).
type TokenMap = HashMap<(String, String, Vec<String>), AccessToken>;

struct Inner {
    store: Arc<dyn SecretStore>,
    service: String,
    entra: EntraClient,
    tokens: Mutex<TokenMap>,
}

/// The token cache for one cloud: refresh tokens and secrets in a [`SecretStore`], access
/// tokens in memory.
#[derive(Clone)]
pub struct TokenCache {
    inner: Arc<Inner>,
}

impl fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenCache")
            .field("service", &self.inner.service)
            .field("entra", &self.inner.entra)
            .field("access_tokens", &lock(&self.inner.tokens).len())
            .finish_non_exhaustive()
    }
}

impl TokenCache {
    /// A cache for `entra`'s cloud and client over `store`, under [`KEYRING_SERVICE`].
    pub fn new(store: Arc<dyn SecretStore>, entra: EntraClient) -> Self {
        TokenCache {
            inner: Arc::new(Inner {
                store,
                service: KEYRING_SERVICE.to_owned(),
                entra,
                tokens: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Uses another keyring service name (tests keep their entries apart with it).
    pub fn service(self, service: impl Into<String>) -> Self {
        let inner = &self.inner;
        TokenCache {
            inner: Arc::new(Inner {
                store: inner.store.clone(),
                service: service.into(),
                entra: inner.entra.clone(),
                tokens: Mutex::new(lock(&inner.tokens).clone()),
            }),
        }
    }

    /// Stores a user sign-in's refresh token and keeps its access token in memory; returns the
    /// account's object ID.
    pub fn store_session(&self, session: &Session) -> Result<String, CacheError> {
        let oid = session
            .account()
            .and_then(|a| a.oid.clone())
            .ok_or(CacheError::NoAccount)?;
        let refresh = session.refresh_token().ok_or(SignInError::NoRefreshToken)?;
        self.inner
            .put(&oid, session.tenant(), "refresh-token", refresh)?;
        let scopes: Vec<&str> = session
            .scopes()
            .iter()
            .map(String::as_str)
            .filter(|s| !super::entra::USER_SCOPES.contains(s))
            .collect();
        lock(&self.inner.tokens).insert(
            token_key(session.tenant(), &oid, &scopes),
            AccessToken::new(session.access_token().clone(), session.expires_on()),
        );
        Ok(oid)
    }

    /// Stores a service principal's client secret for `tenant`.
    pub fn store_client_secret(
        &self,
        tenant: &str,
        client_id: &str,
        secret: &Secret,
    ) -> Result<(), CacheError> {
        self.inner.put(client_id, tenant, "client-secret", secret)
    }

    /// A service principal's stored client secret for `tenant`, if any.
    pub fn client_secret(
        &self,
        tenant: &str,
        client_id: &str,
    ) -> Result<Option<Secret>, CacheError> {
        self.inner.get(client_id, tenant, "client-secret")
    }

    /// A credential for `account` (object ID) in `tenant`, checked by getting a token for
    /// `scope` now; it refreshes silently and writes rotated refresh tokens back.
    pub async fn credential_for(
        &self,
        account: &str,
        tenant: &str,
        scope: &str,
    ) -> Result<CachedCredential, CacheError> {
        let credential = CachedCredential {
            inner: self.inner.clone(),
            account: account.to_owned(),
            tenant: tenant.to_owned(),
        };
        credential.token(&[scope]).await?;
        Ok(credential)
    }

    /// Removes every stored entry of `account` (all tenants) and forgets its access tokens.
    pub fn sign_out(&self, account: &str) -> Result<(), CacheError> {
        lock(&self.inner.tokens).retain(|(_, a, _), _| a != account);
        let inner = &self.inner;
        for entry in inner.index(account)? {
            inner
                .store
                .delete(&inner.service, &inner.key_in(account, &entry))?;
        }
        inner
            .store
            .delete(&inner.service, &inner.index_key(account))
    }
}

fn token_key(tenant: &str, account: &str, scopes: &[&str]) -> (String, String, Vec<String>) {
    let mut scopes: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
    scopes.sort();
    (tenant.to_owned(), account.to_owned(), scopes)
}

impl Inner {
    /// `{cloud}/{account}/{tenant}/{kind}`: the account's entries share a prefix.
    fn key(&self, account: &str, tenant: &str, kind: &str) -> String {
        self.key_in(account, &format!("{tenant}/{kind}"))
    }

    fn key_in(&self, account: &str, entry: &str) -> String {
        format!("{}/{account}/{entry}", self.entra.cloud().name)
    }

    fn index_key(&self, account: &str) -> String {
        self.key_in(account, "index")
    }

    /// The `{tenant}/{kind}` entries the account has, from its index entry.
    fn index(&self, account: &str) -> Result<BTreeSet<String>, CacheError> {
        Ok(self
            .store
            .get(&self.service, &self.index_key(account))?
            .map(|s| s.secret().lines().map(str::to_owned).collect())
            .unwrap_or_default())
    }

    fn get(&self, account: &str, tenant: &str, kind: &str) -> Result<Option<Secret>, CacheError> {
        self.store
            .get(&self.service, &self.key(account, tenant, kind))
    }

    fn put(
        &self,
        account: &str,
        tenant: &str,
        kind: &str,
        secret: &Secret,
    ) -> Result<(), CacheError> {
        let mut index = self.index(account)?;
        if index.insert(format!("{tenant}/{kind}")) {
            let list = index.into_iter().collect::<Vec<_>>().join("\n");
            self.store
                .set(&self.service, &self.index_key(account), &Secret::new(list))?;
        }
        self.store
            .set(&self.service, &self.key(account, tenant, kind), secret)
    }
}

/// A credential for one account and tenant from a [`TokenCache`].
#[derive(Clone)]
pub struct CachedCredential {
    inner: Arc<Inner>,
    account: String,
    tenant: String,
}

impl fmt::Debug for CachedCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedCredential")
            .field("account", &self.account)
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}

impl CachedCredential {
    /// An access token for `scopes`: from memory while it has more than five minutes left,
    /// else redeemed from the stored refresh token (a rotated one is stored back).
    pub async fn token(&self, scopes: &[&str]) -> Result<AccessToken, CacheError> {
        let inner = &self.inner;
        let key = token_key(&self.tenant, &self.account, scopes);
        let now = inner.entra.clock().now();
        if let Some(t) = lock(&inner.tokens).get(&key).cloned()
            && t.expires_on - REFRESH_MARGIN > now
        {
            return Ok(t);
        }
        // The tenant's own refresh token, else the account's home one (tenant switching).
        let (stored_tenant, refresh) =
            match inner.get(&self.account, &self.tenant, "refresh-token")? {
                Some(r) => (self.tenant.clone(), r),
                None => inner
                    .index(&self.account)?
                    .iter()
                    .filter_map(|e| e.strip_suffix("/refresh-token"))
                    .find_map(|t| match inner.get(&self.account, t, "refresh-token") {
                        Ok(Some(r)) => Some(Ok((t.to_owned(), r))),
                        Ok(None) => None,
                        Err(e) => Some(Err(e)),
                    })
                    .transpose()?
                    .ok_or_else(|| CacheError::NotSignedIn {
                        account: self.account.clone(),
                        tenant: self.tenant.clone(),
                    })?,
            };
        let credential =
            RefreshTokenCredential::new(inner.entra.for_tenant(&stored_tenant), refresh.clone());
        let session = credential.refresh(&self.tenant, scopes).await?;
        if let Some(rotated) = session.refresh_token()
            && rotated.secret() != refresh.secret()
        {
            inner.put(&self.account, &self.tenant, "refresh-token", rotated)?;
        }
        let token = AccessToken::new(session.access_token().clone(), session.expires_on());
        lock(&inner.tokens).insert(key, token.clone());
        Ok(token)
    }

    /// The account's object ID.
    pub fn account(&self) -> &str {
        &self.account
    }

    /// The tenant.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }
}

#[async_trait::async_trait]
impl TokenCredential for CachedCredential {
    async fn get_token(
        &self,
        scopes: &[&str],
        _options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        Ok(self.token(scopes).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_store_sets_gets_and_deletes() {
        let store = MemoryStore::new();
        store.set("s", "k", &Secret::new("v")).unwrap();
        assert_eq!(store.get("s", "k").unwrap().unwrap().secret(), "v");
        assert!(store.get("s", "other").unwrap().is_none());
        store.delete("s", "k").unwrap();
        store.delete("s", "k").unwrap();
        assert!(store.get("s", "k").unwrap().is_none());
    }

    #[test]
    fn keyring_errors_never_carry_the_stored_bytes() {
        let e = keyring_error("read", keyring::Error::BadEncoding(b"rt-SECRET".to_vec()));
        assert!(!format!("{e} {e:?}").contains("SECRET"));
    }
}
