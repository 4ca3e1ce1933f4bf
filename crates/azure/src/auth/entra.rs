//! Entra ID endpoints for a cloud and tenant, the `oauth2` client over them, what a token
//! response carries, and the signed-in account read from the id_token.

use std::fmt;
use std::time::Duration;

use azure_core::credentials::Secret;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AuthUrl, ClientId, DeviceAuthorizationUrl, EndpointNotSet, EndpointSet, ExtraTokenFields,
    RequestTokenError, StandardRevocableToken, StandardTokenResponse, TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use url::Url;

use super::error::SignInError;
use super::http::{OAuthHttp, OAuthHttpError};
use crate::clock::Timer;
use crate::cloud::Cloud;
use crate::tls::{TrustedCa, http_client};

/// The Azure CLI's public client ID: a well-known first-party app that can call ARM in every
/// tenant without registering anything.
pub const AZURE_CLI_CLIENT_ID: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";

/// Scopes a user sign-in adds to the resource scope: the id_token (account) and a refresh
/// token.
pub(crate) const USER_SCOPES: [&str; 3] = ["openid", "profile", "offline_access"];

/// Entra ID's token response beyond RFC 6749: the id_token.
#[derive(Clone, Default, Deserialize, Serialize)]
pub struct IdTokenField {
    /// The OpenID Connect id_token (a JWT), when `openid` was asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

impl fmt::Debug for IdTokenField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdTokenField").finish_non_exhaustive()
    }
}

impl ExtraTokenFields for IdTokenField {}

/// A token response from Entra ID.
pub type EntraTokenResponse = StandardTokenResponse<IdTokenField, BasicTokenType>;

/// The oauth2 client with the authorize, device-code and token endpoints set.
pub(crate) type OAuthClient = oauth2::Client<
    BasicErrorResponse,
    EntraTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// Where and as whom to sign in: a cloud's authority host, a tenant, a public client ID, our
/// HTTPS client (with the extra CA) and the timer expiries are measured on.
#[derive(Clone)]
pub struct EntraClient {
    cloud: Cloud,
    tenant: String,
    client_id: String,
    http: OAuthHttp,
    timer: Timer,
}

impl fmt::Debug for EntraClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EntraClient")
            .field("cloud", &self.cloud.name)
            .field("authority_host", &self.cloud.authority_host.as_str())
            .field("tenant", &self.tenant)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl EntraClient {
    /// A client for `tenant` (an ID, a domain, `organizations` or `common`) of `cloud`,
    /// trusting `ca` besides the platform's roots, as the Azure CLI's public client.
    pub fn new(cloud: Cloud, tenant: &str, ca: Option<&TrustedCa>) -> Result<Self, SignInError> {
        Ok(Self::with_http(cloud, tenant, http_client(ca)?))
    }

    /// A client over an existing HTTPS client (redirects off, as [`http_client`] builds it).
    pub fn with_http(cloud: Cloud, tenant: &str, http: reqwest::Client) -> Self {
        EntraClient {
            cloud,
            tenant: tenant.trim_matches('/').to_owned(),
            client_id: AZURE_CLI_CLIENT_ID.to_owned(),
            http: OAuthHttp::new(http),
            timer: Timer::system(),
        }
    }

    /// Uses another public client ID.
    pub fn client_id(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = client_id.into();
        self
    }

    /// Measures token expiry (and waits, for the device flow) on `timer`.
    pub fn timer(mut self, timer: Timer) -> Self {
        self.timer = timer;
        self
    }

    /// The same client for another tenant (tenant switching).
    pub fn for_tenant(&self, tenant: &str) -> Self {
        let mut c = self.clone();
        c.tenant = tenant.trim_matches('/').to_owned();
        c
    }

    /// The cloud.
    pub fn cloud(&self) -> &Cloud {
        &self.cloud
    }

    /// The tenant signed in to.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// The public client ID.
    pub fn public_client_id(&self) -> &str {
        &self.client_id
    }

    /// The timer.
    pub(crate) fn clock(&self) -> &Timer {
        &self.timer
    }

    /// The HTTP adapter.
    pub(crate) fn http(&self) -> &OAuthHttp {
        &self.http
    }

    /// `{authority_host}{tenant}/oauth2/v2.0/{leaf}`.
    pub(crate) fn endpoint(&self, leaf: &str) -> Result<Url, SignInError> {
        let authority = self.cloud.authority(&self.tenant)?;
        let path = format!(
            "{}/oauth2/v2.0/{leaf}",
            authority.path().trim_end_matches('/')
        );
        let mut url = authority;
        url.set_path(&path);
        Ok(url)
    }

    /// The oauth2 client for this tenant's endpoints.
    pub(crate) fn oauth(&self) -> Result<OAuthClient, SignInError> {
        let config = |e: url::ParseError| SignInError::Config {
            message: format!("the sign-in endpoint is not a URL: {e}"),
        };
        Ok(oauth2::Client::new(ClientId::new(self.client_id.clone()))
            .set_auth_uri(AuthUrl::from_url(self.endpoint("authorize")?))
            .set_device_authorization_url(DeviceAuthorizationUrl::from_url(
                self.endpoint("devicecode")?,
            ))
            .set_token_uri(TokenUrl::new(self.endpoint("token")?.to_string()).map_err(config)?))
    }

    /// A [`Session`] from a token response, expiry measured on this client's timer.
    pub(crate) fn session(&self, response: &EntraTokenResponse, scopes: &[String]) -> Session {
        let lifetime = response.expires_in().unwrap_or(Duration::from_secs(3600));
        Session {
            access_token: Secret::new(response.access_token().secret().clone()),
            expires_on: self.timer.now() + lifetime,
            refresh_token: response
                .refresh_token()
                .map(|r| Secret::new(r.secret().clone())),
            account: response
                .extra_fields()
                .id_token
                .as_deref()
                .and_then(Account::from_id_token),
            tenant: self.tenant.clone(),
            scopes: scopes.to_vec(),
        }
    }
}

/// The signed-in user, from the id_token's claims.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// User principal name (`preferred_username`, else `upn`).
    pub upn: Option<String>,
    /// The user's object ID (`oid`).
    pub oid: Option<String>,
    /// The tenant that issued the token (`tid`).
    pub tid: Option<String>,
    /// Display name (`name`).
    pub name: Option<String>,
}

impl Account {
    /// Reads the claims of an id_token WITHOUT verifying its signature: they come straight
    /// from the token endpoint over TLS and only label the account, never authorize.
    pub fn from_id_token(jwt: &str) -> Option<Account> {
        #[derive(Deserialize)]
        struct Claims {
            preferred_username: Option<String>,
            upn: Option<String>,
            oid: Option<String>,
            tid: Option<String>,
            name: Option<String>,
        }
        let payload = jwt.split('.').nth(1)?;
        let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
        let c: Claims = serde_json::from_slice(&bytes).ok()?;
        Some(Account {
            upn: c.preferred_username.or(c.upn),
            oid: c.oid,
            tid: c.tid,
            name: c.name,
        })
    }
}

/// What a user sign-in yields: an access token, its expiry, the refresh token (in memory
/// until the keyring cache stores it) and the account.
#[derive(Clone)]
pub struct Session {
    access_token: Secret,
    expires_on: OffsetDateTime,
    refresh_token: Option<Secret>,
    account: Option<Account>,
    tenant: String,
    scopes: Vec<String>,
}

impl Session {
    /// The access token.
    pub fn access_token(&self) -> &Secret {
        &self.access_token
    }

    /// When the access token expires.
    pub fn expires_on(&self) -> OffsetDateTime {
        self.expires_on
    }

    /// The refresh token, for the token cache to store.
    pub fn refresh_token(&self) -> Option<&Secret> {
        self.refresh_token.as_ref()
    }

    /// The signed-in account, when an id_token came back.
    pub fn account(&self) -> Option<&Account> {
        self.account.as_ref()
    }

    /// The tenant the tokens are for.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// The scopes the access token was asked for.
    pub fn scopes(&self) -> &[String] {
        &self.scopes
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("access_token", &"<redacted>")
            .field("expires_on", &self.expires_on)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .field("account", &self.account)
            .field("tenant", &self.tenant)
            .field("scopes", &self.scopes)
            .finish()
    }
}

/// Maps an oauth2 request error without its body: a body that failed to parse may be a
/// successful response holding tokens.
pub(crate) fn oauth_error(e: RequestTokenError<OAuthHttpError, BasicErrorResponse>) -> SignInError {
    match e {
        RequestTokenError::ServerResponse(r) => SignInError::Entra {
            error: r.error().as_ref().to_owned(),
            description: r.error_description().cloned().unwrap_or_default(),
        },
        RequestTokenError::Request(e) => SignInError::Http {
            message: e.to_string(),
        },
        RequestTokenError::Parse(e, _body) => SignInError::Http {
            message: format!("unreadable token endpoint response at {}", e.path()),
        },
        RequestTokenError::Other(m) => SignInError::Http { message: m },
    }
}

/// The scopes of a user sign-in for `resource_scopes`: those plus openid, profile and
/// offline_access, once each.
pub(crate) fn user_scopes(resource_scopes: &[String]) -> Vec<String> {
    let mut out: Vec<String> = resource_scopes.to_vec();
    for s in USER_SCOPES {
        if !out.iter().any(|o| o == s) {
            out.push(s.to_owned());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_comes_from_unverified_id_token_claims() {
        let payload =
            URL_SAFE_NO_PAD.encode(br#"{"preferred_username":"a@b.c","oid":"o","tid":"t"}"#);
        let account = Account::from_id_token(&format!("x.{payload}.y")).unwrap();
        assert_eq!(account.upn.as_deref(), Some("a@b.c"));
        assert_eq!(account.oid.as_deref(), Some("o"));
        assert_eq!(account.tid.as_deref(), Some("t"));
        assert!(Account::from_id_token("garbage").is_none());
    }
}
