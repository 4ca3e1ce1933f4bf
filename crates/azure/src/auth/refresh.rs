//! Refresh-token exchange: access tokens for any scope and any tenant the user belongs to
//! (tenant switching) from one refresh token, cached in memory until five minutes before they
//! expire. Entra ID rotates refresh tokens; the newest one is kept (and exposed for the
//! keyring cache).

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use azure_core::credentials::{AccessToken, Secret, TokenCredential, TokenRequestOptions};
use oauth2::{RefreshToken, Scope};

use super::entra::{Account, EntraClient, Session, oauth_error, user_scopes};
use super::error::SignInError;

/// A cached token is used until this long before it expires, so a request never goes out
/// with a token that expires in flight (azure_identity refreshes at the same margin).
pub const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// A credential that turns a refresh token into access tokens.
pub struct RefreshTokenCredential {
    entra: EntraClient,
    state: Mutex<State>,
}

struct State {
    refresh_token: Secret,
    account: Option<Account>,
    /// Access tokens by tenant and sorted scopes.
    cache: HashMap<(String, Vec<String>), AccessToken>,
}

impl fmt::Debug for RefreshTokenCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshTokenCredential")
            .field("entra", &self.entra)
            .field("refresh_token", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl RefreshTokenCredential {
    /// A credential for `refresh_token`, issued to `entra`'s client ID.
    pub fn new(entra: EntraClient, refresh_token: Secret) -> Self {
        RefreshTokenCredential {
            entra,
            state: Mutex::new(State {
                refresh_token,
                account: None,
                cache: HashMap::new(),
            }),
        }
    }

    /// A credential from a sign-in, its access token already cached.
    pub fn from_session(entra: EntraClient, session: &Session) -> Result<Self, SignInError> {
        let refresh = session
            .refresh_token()
            .cloned()
            .ok_or(SignInError::NoRefreshToken)?;
        let credential = RefreshTokenCredential::new(entra.for_tenant(session.tenant()), refresh);
        let mut resource: Vec<String> = session
            .scopes()
            .iter()
            .filter(|s| !super::entra::USER_SCOPES.contains(&s.as_str()))
            .cloned()
            .collect();
        resource.sort();
        credential.with_state(|s| {
            s.account = session.account().cloned();
            s.cache.insert(
                (session.tenant().to_owned(), resource),
                AccessToken::new(session.access_token().clone(), session.expires_on()),
            );
        });
        Ok(credential)
    }

    /// The current refresh token, for the token cache to store.
    pub fn refresh_token(&self) -> Secret {
        self.with_state(|s| s.refresh_token.clone())
    }

    /// The signed-in account, when known.
    pub fn account(&self) -> Option<Account> {
        self.with_state(|s| s.account.clone())
    }

    /// The Entra client (cloud, home tenant, client ID).
    pub fn entra(&self) -> &EntraClient {
        &self.entra
    }

    fn with_state<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let mut guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    }

    /// An access token for `scopes` in `tenant` (another tenant than the home one switches
    /// tenant), from the cache while it has more than five minutes left.
    pub async fn token_for_tenant(
        &self,
        tenant: &str,
        scopes: &[&str],
    ) -> Result<AccessToken, SignInError> {
        let mut key_scopes: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
        key_scopes.sort();
        let key = (tenant.to_owned(), key_scopes);
        let now = self.entra.clock().now();
        if let Some(t) = self.with_state(|s| s.cache.get(&key).cloned())
            && t.expires_on - REFRESH_MARGIN > now
        {
            return Ok(t);
        }
        let session = self.refresh(tenant, scopes).await?;
        let token = AccessToken::new(session.access_token().clone(), session.expires_on());
        self.with_state(|s| {
            if let Some(r) = session.refresh_token() {
                s.refresh_token = r.clone();
            }
            if s.account.is_none() {
                s.account = session.account().cloned();
            }
            s.cache.insert(key, token.clone());
        });
        Ok(token)
    }

    /// Redeems the refresh token at `tenant`'s token endpoint, bypassing the cache.
    pub async fn refresh(&self, tenant: &str, scopes: &[&str]) -> Result<Session, SignInError> {
        let entra = self.entra.for_tenant(tenant);
        let all = user_scopes(&scopes.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>());
        let refresh = RefreshToken::new(self.refresh_token().secret().to_owned());
        let response = entra
            .oauth()?
            .exchange_refresh_token(&refresh)
            .add_scopes(all.iter().cloned().map(Scope::new))
            .request_async(entra.http())
            .await
            .map_err(oauth_error)?;
        Ok(entra.session(&response, &all))
    }
}

#[async_trait::async_trait]
impl TokenCredential for RefreshTokenCredential {
    async fn get_token(
        &self,
        scopes: &[&str],
        _options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        let tenant = self.entra.tenant().to_owned();
        Ok(self.token_for_tenant(&tenant, scopes).await?)
    }
}

/// Where an interactive credential keeps what its one sign-in produced: the first token
/// request signs in (the browser or device flow), every later one refreshes from it.
pub(crate) type SignedInSlot = tokio::sync::Mutex<Option<std::sync::Arc<RefreshTokenCredential>>>;

/// A token from the slot, signing in first when nobody has yet. The slot's lock is held across
/// the sign-in so concurrent callers share one browser window or device code.
pub(crate) async fn token_after_sign_in<F, Fut>(
    slot: &SignedInSlot,
    entra: &EntraClient,
    scopes: &[&str],
    options: Option<TokenRequestOptions<'_>>,
    sign_in: F,
) -> azure_core::Result<AccessToken>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<Session, SignInError>>,
{
    let mut guard = slot.lock().await;
    if guard.is_none() {
        let session = sign_in().await?;
        *guard = Some(std::sync::Arc::new(RefreshTokenCredential::from_session(
            entra.clone(),
            &session,
        )?));
    }
    match guard.as_ref() {
        Some(c) => c.get_token(scopes, options).await,
        None => Err(SignInError::NoRefreshToken.into()),
    }
}
