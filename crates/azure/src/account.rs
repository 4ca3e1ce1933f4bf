//! The signed-in account as it persists between runs: a [`Profile`] (cloud, extra CA, tenant,
//! who signed in and how, and *where* in the keyring its refresh token or client secret is,
//! never the secret itself), the [`ProfileStore`] that keeps the current one in a data
//! directory the caller chooses (the CLI's data dir, the desktop's app data dir), and
//! [`Accounts`], which turns a finished sign-in into a saved profile and signs out again.
//!
//! Every later step gets its Resource Manager client from the saved profile through
//! [`credential_for`] / [`signed_in_client`]: the refresh token or client secret comes from the
//! [`SecretStore`] (the OS keyring), a certificate from the PEM file the profile points at, an
//! Azure CLI session from `az` itself; access tokens are refreshed silently.
//!
//! The profile file is `profile.json`: `{"format": 1, "profile": {...}}`, written atomically
//! (a temporary file, synced, then renamed over the old one). A file that does not parse is an
//! [`AccountError::Corrupt`] naming it; one from a newer Landfall is refused, not misread.
//! Account names and IDs come from the access token's claims, read without verifying the
//! signature: they label the account and never authorize anything.

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use azure_core::credentials::TokenCredential;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use time::OffsetDateTime;
use url::Url;

use crate::auth::cache::KEYRING_SERVICE;
use crate::auth::{
    CacheError, CliSessionCredential, CliTool, ClientCertificateCredential, EntraClient,
    SecretStore, Session, SignInError, TokenCache, client_secret_credential,
};
use crate::cloud::Cloud;
use crate::tls::{TrustedCa, http_client};
use crate::transport::{ArmClient, ArmClientOptions};

/// A secret (client secret) handed to [`Accounts::sign_in_client_secret`]; its `Debug` hides it.
pub use azure_core::credentials::Secret;

/// The profile file format this version writes and reads.
pub const PROFILE_FORMAT: u32 = 1;

/// The profile file's name inside the data directory.
pub const PROFILE_FILE: &str = "profile.json";

/// The tenant a user signs in to when none is given: any work or school account, whose home
/// tenant the token then names.
pub const DEFAULT_USER_TENANT: &str = "organizations";

/// What went wrong saving, loading or using the signed-in account. Never carries a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AccountError {
    /// No account is signed in (there is no profile).
    #[error("not signed in")]
    NotSignedIn,
    /// A file could not be read, written or removed.
    #[error("cannot {action} '{}': {source}", path.display())]
    File {
        /// `read`, `write`, `create`, `remove`...
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The profile file is not a profile.
    #[error(
        "the profile file '{}' is not valid ({message}); sign in again to replace it",
        path.display()
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// The profile file was written by a newer Landfall.
    #[error(
        "the profile file '{}' has format {found}, newer than the format {supported} this \
         version reads; update Landfall or sign in again",
        path.display()
    )]
    NewerFormat {
        /// The file.
        path: PathBuf,
        /// Its format.
        found: u64,
        /// The format this version reads.
        supported: u32,
    },
    /// The CA certificate given with the account cannot be used.
    #[error("the CA certificate {origin} cannot be used: {source}")]
    Ca {
        /// Where it was (`file '/path'` or `text`).
        origin: String,
        /// Why.
        #[source]
        source: Box<crate::Error>,
    },
    /// The service principal's certificate file cannot be used.
    #[error("the certificate file '{}' cannot be used: {message}", path.display())]
    Certificate {
        /// The PEM file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The keyring has no client secret for the saved service principal any more.
    #[error("the client secret of {client_id} is not in the OS keyring any more; sign in again")]
    MissingSecret {
        /// The application (client) ID.
        client_id: String,
    },
    /// The token cache or the keyring failed.
    #[error(transparent)]
    Cache(#[from] CacheError),
    /// Signing in failed.
    #[error(transparent)]
    SignIn(#[from] SignInError),
    /// Azure (cloud discovery, the HTTPS client, Resource Manager) failed.
    #[error(transparent)]
    Azure(Box<crate::Error>),
}

impl From<crate::Error> for AccountError {
    fn from(e: crate::Error) -> Self {
        AccountError::Azure(Box::new(e))
    }
}

/// Where the extra CA certificate comes from: a PEM file the user keeps (the CLI's
/// `--ca-file`) or PEM text (a certificate is public, fine on disk).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CaSource {
    /// A PEM file, read each time the profile is used.
    File(PathBuf),
    /// PEM text.
    Pem(String),
}

impl CaSource {
    /// Reads the certificates.
    pub fn load(&self) -> Result<TrustedCa, AccountError> {
        let (loaded, origin) = match self {
            CaSource::File(path) => (
                TrustedCa::from_pem_file(path),
                format!("file '{}'", path.display()),
            ),
            CaSource::Pem(pem) => (TrustedCa::from_pem(pem), "text".to_owned()),
        };
        loaded.map_err(|source| AccountError::Ca {
            origin,
            source: Box::new(source),
        })
    }
}

/// How the account signed in, and what later runs need to sign in the same way.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum SignInMethod {
    /// Interactive browser sign-in (authorization code + PKCE); a refresh token in the keyring.
    Browser,
    /// Device code sign-in; a refresh token in the keyring.
    DeviceCode,
    /// A service principal with a client secret, kept in the keyring.
    ClientSecret,
    /// A service principal with a certificate: the PEM file (certificate and private key)
    /// stays where the user keeps it.
    ClientCertificate {
        /// The PEM file.
        certificate: PathBuf,
    },
    /// The Azure CLI's session (`az account get-access-token`); nothing stored.
    AzureCli,
}

impl SignInMethod {
    /// A short name for people (`browser`, `device code`...).
    pub fn describe(&self) -> &'static str {
        match self {
            SignInMethod::Browser => "browser",
            SignInMethod::DeviceCode => "device code",
            SignInMethod::ClientSecret => "service principal with a client secret",
            SignInMethod::ClientCertificate { .. } => "service principal with a certificate",
            SignInMethod::AzureCli => "Azure CLI session",
        }
    }
}

/// The interactive flows that end in a [`Session`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserFlow {
    /// [`crate::auth::InteractiveBrowserCredential`].
    Browser,
    /// [`crate::auth::DeviceCodeCredential`].
    DeviceCode,
}

/// Whether the principal is a person or an application.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PrincipalKind {
    /// A user.
    User,
    /// A service principal (an app registration).
    ServicePrincipal,
}

/// Who signed in, as the token's claims name them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountInfo {
    /// A user or a service principal.
    pub kind: PrincipalKind,
    /// The user principal name, or the application ID of a service principal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The display name, when the token has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// The principal's object ID in the tenant signed in to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_id: Option<String>,
    /// The tenant the principal belongs to (differs from the profile's tenant for a guest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home_tenant: Option<String>,
}

impl AccountInfo {
    /// The best name to show: username, display name, object ID, or `unknown`.
    pub fn label(&self) -> &str {
        self.username
            .as_deref()
            .or(self.display_name.as_deref())
            .or(self.object_id.as_deref())
            .unwrap_or("unknown")
    }
}

/// Where a secret of the account lives in the keyring (never the secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyringRef {
    /// The keyring service name.
    pub service: String,
    /// The token cache's account key: the user's object ID or the application ID.
    pub account: String,
    /// The entry holding the refresh token or client secret.
    pub key: String,
}

/// The signed-in account: everything needed to get tokens again, and no secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    /// The cloud's endpoints.
    pub cloud: Cloud,
    /// The extra CA to trust (private clouds, the simulator).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca: Option<CaSource>,
    /// The tenant ID tokens are asked for.
    pub tenant: String,
    /// Who signed in.
    pub account: AccountInfo,
    /// How.
    pub method: SignInMethod,
    /// The client ID: the public client of a user sign-in, or the service principal's app.
    pub client_id: String,
    /// The keyring entry of the refresh token or client secret, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyring: Option<KeyringRef>,
    /// When the sign-in happened.
    #[serde(with = "time::serde::rfc3339")]
    pub signed_in_at: OffsetDateTime,
}

impl Profile {
    /// The extra CA, read now.
    pub fn trusted_ca(&self) -> Result<Option<TrustedCa>, AccountError> {
        self.ca.as_ref().map(CaSource::load).transpose()
    }
}

/// The file's envelope: the format number first, so a reader can refuse what it cannot read.
#[derive(Serialize)]
struct ProfileFileOut<'a> {
    format: u32,
    profile: &'a Profile,
}

/// Keeps the current [`Profile`] in `{dir}/profile.json`.
#[derive(Clone, Debug)]
pub struct ProfileStore {
    dir: PathBuf,
}

impl ProfileStore {
    /// A store in `dir` (created at the first save).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        ProfileStore { dir: dir.into() }
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The profile file.
    pub fn path(&self) -> PathBuf {
        self.dir.join(PROFILE_FILE)
    }

    /// The current profile, `None` when nobody is signed in.
    pub fn load(&self) -> Result<Option<Profile>, AccountError> {
        let path = self.path();
        let text = match std::fs::read(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(AccountError::File {
                    action: "read",
                    path,
                    source,
                });
            }
        };
        let corrupt = |message: String| AccountError::Corrupt {
            path: path.clone(),
            message,
        };
        let doc: Json =
            serde_json::from_slice(&text).map_err(|e| corrupt(format!("not JSON: {e}")))?;
        let format = doc
            .get("format")
            .and_then(Json::as_u64)
            .ok_or_else(|| corrupt("no 'format' number".into()))?;
        if format > u64::from(PROFILE_FORMAT) {
            return Err(AccountError::NewerFormat {
                path,
                found: format,
                supported: PROFILE_FORMAT,
            });
        }
        if format == 0 {
            return Err(corrupt("format 0 does not exist".into()));
        }
        let profile = doc
            .get("profile")
            .cloned()
            .ok_or_else(|| corrupt("no 'profile'".into()))?;
        serde_json::from_value(profile)
            .map(Some)
            .map_err(|e| corrupt(format!("'profile': {e}")))
    }

    /// The current profile, or [`AccountError::NotSignedIn`].
    pub fn require(&self) -> Result<Profile, AccountError> {
        self.load()?.ok_or(AccountError::NotSignedIn)
    }

    /// Saves `profile` as the current one: written to a temporary file in the same folder,
    /// synced, then renamed over the old file, so a crash leaves the old or the new one.
    pub fn save(&self, profile: &Profile) -> Result<(), AccountError> {
        create_private_dir(&self.dir)?;
        let path = self.path();
        let text = serde_json::to_vec_pretty(&ProfileFileOut {
            format: PROFILE_FORMAT,
            profile,
        })
        .map_err(|e| AccountError::Corrupt {
            path: path.clone(),
            message: format!("cannot serialise the profile: {e}"),
        })?;
        let temp = self
            .dir
            .join(format!(".{PROFILE_FILE}.{}.tmp", std::process::id()));
        let write = |source| AccountError::File {
            action: "write",
            path: temp.clone(),
            source,
        };
        let written = std::fs::File::create(&temp)
            .and_then(|mut f| {
                f.write_all(&text)?;
                f.write_all(b"\n")?;
                f.sync_all()
            })
            .map_err(write);
        let renamed = written.and_then(|()| {
            std::fs::rename(&temp, &path).map_err(|source| AccountError::File {
                action: "replace",
                path: path.clone(),
                source,
            })
        });
        if renamed.is_err() {
            // Best effort: the error that matters is the one returned.
            let _ = std::fs::remove_file(&temp);
        }
        renamed
    }

    /// Removes the profile; `false` when there was none.
    pub fn remove(&self) -> Result<bool, AccountError> {
        let path = self.path();
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(source) => Err(AccountError::File {
                action: "remove",
                path,
                source,
            }),
        }
    }
}

/// Creates `dir` (and parents); on Unix the data folder is the user's alone.
fn create_private_dir(dir: &Path) -> Result<(), AccountError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|source| AccountError::File {
        action: "create",
        path: dir.to_path_buf(),
        source,
    })
}

/// Where and as whom to sign in: the cloud, the extra CA, and the tenant (`None`: any work or
/// school account for users; required for service principals).
#[derive(Clone, Debug)]
pub struct SignInTarget {
    /// The cloud.
    pub cloud: Cloud,
    /// The extra CA to trust.
    pub ca: Option<CaSource>,
    /// The tenant (an ID or a domain).
    pub tenant: Option<String>,
}

impl SignInTarget {
    /// The extra CA, read now.
    pub fn trusted_ca(&self) -> Result<Option<TrustedCa>, AccountError> {
        self.ca.as_ref().map(CaSource::load).transpose()
    }

    /// The Entra ID client for this target's tenant (or [`DEFAULT_USER_TENANT`]) as `client_id`.
    pub fn entra(&self, client_id: &str) -> Result<EntraClient, AccountError> {
        let tenant = self.tenant.as_deref().unwrap_or(DEFAULT_USER_TENANT);
        Ok(
            EntraClient::new(self.cloud.clone(), tenant, self.trusted_ca()?.as_ref())?
                .client_id(client_id),
        )
    }
}

/// Reads a cloud from its Resource Manager's metadata: `url` is the Resource Manager endpoint
/// or the full metadata URL (`https://host/metadata/endpoints`, any query), as users copy it.
pub async fn discover_cloud(url: &Url, ca: Option<&TrustedCa>) -> Result<Cloud, AccountError> {
    let arm = resource_manager_of(url);
    let http = http_client(ca)?;
    Ok(Cloud::discover(&arm, &http).await?)
}

/// The Resource Manager endpoint of a metadata URL (the URL itself when it is not one).
fn resource_manager_of(url: &Url) -> Url {
    let mut arm = url.clone();
    arm.set_query(None);
    arm.set_fragment(None);
    let path = arm.path().trim_end_matches('/');
    if let Some(base) = path.strip_suffix("/metadata/endpoints") {
        let base = format!("{base}/");
        arm.set_path(&base);
    }
    arm
}

/// Claims of an access token that label the principal.
#[derive(Default, Deserialize)]
struct Claims {
    preferred_username: Option<String>,
    upn: Option<String>,
    unique_name: Option<String>,
    name: Option<String>,
    oid: Option<String>,
    tid: Option<String>,
    appid: Option<String>,
    azp: Option<String>,
    idp: Option<String>,
    idtyp: Option<String>,
}

impl Claims {
    /// The payload of a JWT, unverified; empty claims when it is not one (an opaque token).
    fn of(jwt: &str) -> Claims {
        jwt.split('.')
            .nth(1)
            .and_then(|p| URL_SAFE_NO_PAD.decode(p.trim_end_matches('=')).ok())
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    /// The principal these claims describe; `kind` when the token does not say.
    fn account(self, kind: PrincipalKind) -> AccountInfo {
        let kind = match self.idtyp.as_deref() {
            Some("app") => PrincipalKind::ServicePrincipal,
            Some("user") => PrincipalKind::User,
            _ => kind,
        };
        let app = self.appid.or(self.azp);
        let username = match kind {
            PrincipalKind::User => self.preferred_username.or(self.upn).or(self.unique_name),
            PrincipalKind::ServicePrincipal => app,
        };
        // A guest's `idp` is its home tenant's issuer (`https://sts.windows.net/{tid}/`).
        let home_tenant = self
            .idp
            .as_deref()
            .and_then(|idp| Url::parse(idp).ok())
            .and_then(|u| {
                u.path_segments()
                    .and_then(|mut s| s.find(|seg| looks_like_guid(seg)).map(str::to_owned))
            })
            .or_else(|| self.tid.clone());
        AccountInfo {
            kind,
            username,
            display_name: self.name,
            object_id: self.oid,
            home_tenant,
        }
    }
}

fn looks_like_guid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// `{cloud}/{account}/{tenant}/{kind}`: the key [`TokenCache`] stores an entry under.
fn cache_key(cloud: &Cloud, account: &str, tenant: &str, kind: &str) -> String {
    format!("{}/{account}/{tenant}/{kind}", cloud.name)
}

/// The signed-in account's bookkeeping: profiles in a [`ProfileStore`], secrets in a
/// [`SecretStore`] under one keyring service name.
#[derive(Clone)]
pub struct Accounts {
    profiles: ProfileStore,
    secrets: Arc<dyn SecretStore>,
    service: String,
}

impl fmt::Debug for Accounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Accounts")
            .field("profiles", &self.profiles)
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

impl Accounts {
    /// Accounts kept in `profiles`, with secrets in `secrets` under [`KEYRING_SERVICE`].
    pub fn new(profiles: ProfileStore, secrets: Arc<dyn SecretStore>) -> Self {
        Accounts {
            profiles,
            secrets,
            service: KEYRING_SERVICE.to_owned(),
        }
    }

    /// Uses another keyring service name for new sign-ins (tests keep apart with it).
    pub fn keyring_service(mut self, service: impl Into<String>) -> Self {
        self.service = service.into();
        self
    }

    /// The profile store.
    pub fn profiles(&self) -> &ProfileStore {
        &self.profiles
    }

    /// The secret store.
    pub fn secrets(&self) -> &Arc<dyn SecretStore> {
        &self.secrets
    }

    /// The current profile, or [`AccountError::NotSignedIn`].
    pub fn current(&self) -> Result<Profile, AccountError> {
        self.profiles.require()
    }

    /// Checks the secret store answers (reads an entry that need not exist), so an interactive
    /// sign-in can fail before the person goes through it rather than after.
    pub fn check_secret_store(&self) -> Result<(), AccountError> {
        self.secrets.get(&self.service, "keyring-check")?;
        Ok(())
    }

    /// A token cache for `entra`'s cloud under this service name.
    fn cache(&self, entra: EntraClient) -> TokenCache {
        TokenCache::new(self.secrets.clone(), entra).service(self.service.clone())
    }

    /// Saves a finished browser or device-code sign-in: its refresh token into the keyring,
    /// the profile to disk (replacing, and signing out, the previous account).
    pub fn complete_user_sign_in(
        &self,
        target: &SignInTarget,
        flow: UserFlow,
        entra: &EntraClient,
        session: &Session,
    ) -> Result<Profile, AccountError> {
        let mut account = Claims::of(session.access_token().secret()).account(PrincipalKind::User);
        if let Some(from_id) = session.account() {
            account.username = account.username.or(from_id.upn.clone());
            account.display_name = account.display_name.or(from_id.name.clone());
            account.object_id = account.object_id.or(from_id.oid.clone());
        }
        let tenant = session
            .account()
            .and_then(|a| a.tid.clone())
            .or_else(|| target.tenant.clone())
            .unwrap_or_else(|| session.tenant().to_owned());
        self.sign_out_previous()?;
        let oid = self.cache(entra.clone()).store_session(session)?;
        let profile = Profile {
            cloud: target.cloud.clone(),
            ca: target.ca.clone(),
            tenant,
            account,
            method: match flow {
                UserFlow::Browser => SignInMethod::Browser,
                UserFlow::DeviceCode => SignInMethod::DeviceCode,
            },
            client_id: entra.public_client_id().to_owned(),
            keyring: Some(KeyringRef {
                service: self.service.clone(),
                key: cache_key(&target.cloud, &oid, session.tenant(), "refresh-token"),
                account: oid,
            }),
            signed_in_at: OffsetDateTime::now_utc(),
        };
        self.profiles.save(&profile)?;
        Ok(profile)
    }

    /// Signs a service principal in with a client secret: checked by getting a Resource
    /// Manager token first, then the secret goes to the keyring and the profile to disk.
    pub async fn sign_in_client_secret(
        &self,
        target: &SignInTarget,
        client_id: &str,
        secret: Secret,
    ) -> Result<Profile, AccountError> {
        let tenant = required_tenant(target)?;
        let http = http_client(target.trusted_ca()?.as_ref())?;
        let credential =
            client_secret_credential(&target.cloud, &tenant, client_id, secret.clone(), http)?;
        let token = credential
            .get_token(&[&target.cloud.arm_scope()], None)
            .await
            .map_err(|e| credential_error(&e))?;
        let claims = Claims::of(token.token.secret());
        let tenant = claims.tid.clone().unwrap_or(tenant);
        let mut account = claims.account(PrincipalKind::ServicePrincipal);
        account.username.get_or_insert_with(|| client_id.to_owned());
        self.sign_out_previous()?;
        let entra = target.entra(client_id)?;
        self.cache(entra)
            .store_client_secret(&tenant, client_id, &secret)?;
        let profile = Profile {
            cloud: target.cloud.clone(),
            ca: target.ca.clone(),
            keyring: Some(KeyringRef {
                service: self.service.clone(),
                account: client_id.to_owned(),
                key: cache_key(&target.cloud, client_id, &tenant, "client-secret"),
            }),
            tenant,
            account,
            method: SignInMethod::ClientSecret,
            client_id: client_id.to_owned(),
            signed_in_at: OffsetDateTime::now_utc(),
        };
        self.profiles.save(&profile)?;
        Ok(profile)
    }

    /// Signs a service principal in with a certificate (a PEM file holding the certificate
    /// and its RSA private key): checked by getting a token; the profile keeps the file's
    /// absolute path, the key stays in the file.
    pub async fn sign_in_client_certificate(
        &self,
        target: &SignInTarget,
        client_id: &str,
        certificate: &Path,
    ) -> Result<Profile, AccountError> {
        let tenant = required_tenant(target)?;
        let certificate =
            std::path::absolute(certificate).map_err(|e| AccountError::Certificate {
                path: certificate.to_path_buf(),
                message: e.to_string(),
            })?;
        let credential = certificate_credential(target.entra(client_id)?, client_id, &certificate)?;
        let token = credential.token(&[&target.cloud.arm_scope()]).await?;
        let claims = Claims::of(token.token.secret());
        let tenant = claims.tid.clone().unwrap_or(tenant);
        let mut account = claims.account(PrincipalKind::ServicePrincipal);
        account.username.get_or_insert_with(|| client_id.to_owned());
        self.sign_out_previous()?;
        let profile = Profile {
            cloud: target.cloud.clone(),
            ca: target.ca.clone(),
            tenant,
            account,
            method: SignInMethod::ClientCertificate { certificate },
            client_id: client_id.to_owned(),
            keyring: None,
            signed_in_at: OffsetDateTime::now_utc(),
        };
        self.profiles.save(&profile)?;
        Ok(profile)
    }

    /// Reuses the Azure CLI's session: checked by asking `az` for a Resource Manager token;
    /// nothing secret is stored.
    pub async fn sign_in_azure_cli(&self, target: &SignInTarget) -> Result<Profile, AccountError> {
        let credential = CliSessionCredential::new(CliTool::AzureCli, target.tenant.as_deref())?;
        let token = credential.token(&[&target.cloud.arm_scope()]).await?;
        let claims = Claims::of(token.token.secret());
        let tenant = claims
            .tid
            .clone()
            .or_else(|| target.tenant.clone())
            .unwrap_or_else(|| DEFAULT_USER_TENANT.to_owned());
        let account = claims.account(PrincipalKind::User);
        self.sign_out_previous()?;
        let profile = Profile {
            cloud: target.cloud.clone(),
            ca: target.ca.clone(),
            tenant,
            account,
            method: SignInMethod::AzureCli,
            client_id: crate::auth::AZURE_CLI_CLIENT_ID.to_owned(),
            keyring: None,
            signed_in_at: OffsetDateTime::now_utc(),
        };
        self.profiles.save(&profile)?;
        Ok(profile)
    }

    /// Signs out: removes the account's keyring entries, then the profile. Returns the profile
    /// that was signed out, `None` when nobody was signed in. When the keyring fails the
    /// profile stays, so nothing is left behind unseen and sign-out can be retried.
    pub fn sign_out(&self) -> Result<Option<Profile>, AccountError> {
        let Some(profile) = self.profiles.load()? else {
            return Ok(None);
        };
        forget_secrets(&profile, &self.secrets)?;
        self.profiles.remove()?;
        Ok(Some(profile))
    }

    /// Removes the previous account's keyring entries before a new sign-in stores its own
    /// (one account at a time). A corrupt profile has no usable entries: it is overwritten.
    fn sign_out_previous(&self) -> Result<(), AccountError> {
        match self.profiles.load() {
            Ok(Some(previous)) => forget_secrets(&previous, &self.secrets),
            Ok(None) | Err(AccountError::Corrupt { .. } | AccountError::NewerFormat { .. }) => {
                Ok(())
            }
            Err(e) => Err(e),
        }
    }
}

/// Removes every keyring entry of `profile`'s account.
fn forget_secrets(profile: &Profile, secrets: &Arc<dyn SecretStore>) -> Result<(), AccountError> {
    let Some(keyring) = &profile.keyring else {
        return Ok(());
    };
    // Only the cloud's name shapes the keys; the CA file may be gone by now.
    let entra = EntraClient::new(profile.cloud.clone(), &profile.tenant, None)?;
    TokenCache::new(secrets.clone(), entra)
        .service(keyring.service.clone())
        .sign_out(&keyring.account)?;
    Ok(())
}

fn required_tenant(target: &SignInTarget) -> Result<String, AccountError> {
    target.tenant.clone().ok_or_else(|| {
        AccountError::SignIn(SignInError::Config {
            message: "a service principal signs in to one tenant: give its ID".into(),
        })
    })
}

/// An azure_identity credential error as a sign-in error. Its text quotes Entra ID's
/// `error_description` inside a parse error of its own (azure_identity 1.0 cannot read a
/// description holding `\r\n`), so the AADSTS sentence is cut out of it when there is one.
fn credential_error(e: &azure_core::Error) -> AccountError {
    let text = e.to_string();
    AccountError::SignIn(match aadsts(&text) {
        Some((code, description)) => SignInError::Entra {
            error: code,
            description,
        },
        None => SignInError::Http { message: text },
    })
}

/// `("AADSTS7000215", "Invalid client secret provided. ...")` out of a longer text: from the
/// code to the first line break (raw or escaped) or quote.
fn aadsts(text: &str) -> Option<(String, String)> {
    let start = text.find("AADSTS")?;
    let rest = &text[start..];
    let code_len = 6 + rest[6..].bytes().take_while(u8::is_ascii_digit).count();
    if code_len == 6 {
        return None;
    }
    let code = rest[..code_len].to_owned();
    let tail = rest[code_len..].trim_start_matches(':').trim_start();
    let end = ["\\r", "\\n", "\r", "\n", "\""]
        .iter()
        .filter_map(|stop| tail.find(stop))
        .min()
        .unwrap_or(tail.len());
    Some((code, tail[..end].trim().to_owned()))
}

fn certificate_credential(
    entra: EntraClient,
    client_id: &str,
    path: &Path,
) -> Result<ClientCertificateCredential, AccountError> {
    let pem = std::fs::read_to_string(path).map_err(|e| AccountError::Certificate {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    ClientCertificateCredential::new(entra, client_id, &pem, &pem).map_err(|e| {
        AccountError::Certificate {
            path: path.to_path_buf(),
            message: match e {
                SignInError::Config { message } => message,
                other => other.to_string(),
            },
        }
    })
}

/// A credential for the saved account: the stored refresh token (refreshed silently, rotated
/// tokens written back), the stored client secret, the certificate file, or the Azure CLI.
/// All but the Azure CLI's are checked by getting a Resource Manager token now (the CLI's
/// would run `az` twice per command).
pub async fn credential_for(
    profile: &Profile,
    secrets: Arc<dyn SecretStore>,
) -> Result<Arc<dyn TokenCredential>, AccountError> {
    let ca = profile.trusted_ca()?;
    let scope = profile.cloud.arm_scope();
    let entra = || -> Result<EntraClient, AccountError> {
        Ok(
            EntraClient::new(profile.cloud.clone(), &profile.tenant, ca.as_ref())?
                .client_id(profile.client_id.clone()),
        )
    };
    let service = profile
        .keyring
        .as_ref()
        .map_or(KEYRING_SERVICE, |k| k.service.as_str());
    match &profile.method {
        SignInMethod::Browser | SignInMethod::DeviceCode => {
            let account = profile
                .keyring
                .as_ref()
                .map(|k| k.account.clone())
                .or_else(|| profile.account.object_id.clone())
                .ok_or(AccountError::Cache(CacheError::NoAccount))?;
            let credential = TokenCache::new(secrets, entra()?)
                .service(service)
                .credential_for(&account, &profile.tenant, &scope)
                .await?;
            Ok(Arc::new(credential))
        }
        SignInMethod::ClientSecret => {
            let cache = TokenCache::new(secrets, entra()?).service(service);
            let secret = cache
                .client_secret(&profile.tenant, &profile.client_id)?
                .ok_or_else(|| AccountError::MissingSecret {
                    client_id: profile.client_id.clone(),
                })?;
            let http = http_client(ca.as_ref())?;
            let credential = client_secret_credential(
                &profile.cloud,
                &profile.tenant,
                &profile.client_id,
                secret,
                http,
            )?;
            credential
                .get_token(&[&scope], None)
                .await
                .map_err(|e| credential_error(&e))?;
            Ok(credential)
        }
        SignInMethod::ClientCertificate { certificate } => {
            let credential = certificate_credential(entra()?, &profile.client_id, certificate)?;
            credential.token(&[&scope]).await?;
            Ok(Arc::new(credential))
        }
        SignInMethod::AzureCli => {
            // A tenant the token named; without one, the Azure CLI's own default.
            let tenant = (profile.tenant != DEFAULT_USER_TENANT).then_some(profile.tenant.as_str());
            Ok(Arc::new(CliSessionCredential::new(
                CliTool::AzureCli,
                tenant,
            )?))
        }
    }
}

/// A Resource Manager client for the saved account's cloud, trusting its CA (unless
/// `options` brings its own).
pub async fn signed_in_client(
    profile: &Profile,
    secrets: Arc<dyn SecretStore>,
    options: Option<ArmClientOptions>,
) -> Result<ArmClient, AccountError> {
    let credential = credential_for(profile, secrets).await?;
    let mut options = options.unwrap_or_default();
    if options.trusted_ca.is_none() {
        options.trusted_ca = profile.trusted_ca()?;
    }
    Ok(ArmClient::for_cloud(
        &profile.cloud,
        credential,
        Some(options),
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{BrowserOpener, InteractiveBrowserCredential, MemoryStore};
    use landfall_sim::{Sim, SimHandle, SimOptions};

    /// A fresh folder under the system temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> TempDir {
            let dir = std::env::temp_dir().join(format!(
                "landfall-account-{name}-{}-{}",
                std::process::id(),
                uuid::Uuid::new_v4()
            ));
            TempDir(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn sample() -> Profile {
        Profile {
            cloud: Cloud::azure_us_government(),
            ca: Some(CaSource::File("/etc/landfall/ca.pem".into())),
            tenant: "72f988bf-86f1-41af-91ab-2d7cd011db47".into(),
            account: AccountInfo {
                kind: PrincipalKind::User,
                username: Some("ada@contoso.com".into()),
                display_name: Some("Ada".into()),
                object_id: Some("oid-1".into()),
                home_tenant: Some("72f988bf-86f1-41af-91ab-2d7cd011db47".into()),
            },
            method: SignInMethod::ClientCertificate {
                certificate: "/home/ada/sp.pem".into(),
            },
            client_id: "app-1".into(),
            keyring: Some(KeyringRef {
                service: "landfall".into(),
                account: "oid-1".into(),
                key: "AzureUSGovernment/oid-1/t/refresh-token".into(),
            }),
            signed_in_at: OffsetDateTime::from_unix_timestamp(1_770_000_000).unwrap(),
        }
    }

    #[test]
    fn profile_round_trips_through_an_atomic_versioned_file() {
        let dir = TempDir::new("roundtrip");
        let store = ProfileStore::new(dir.0.join("nested"));
        assert!(store.load().unwrap().is_none());
        assert!(matches!(store.require(), Err(AccountError::NotSignedIn)));
        store.save(&sample()).unwrap();
        let mut other = sample();
        other.tenant = "another".into();
        store.save(&other).unwrap();
        assert_eq!(store.load().unwrap(), Some(other));
        let doc: Json = serde_json::from_slice(&std::fs::read(store.path()).unwrap()).unwrap();
        assert_eq!(doc["format"], 1);
        assert_eq!(doc["profile"]["method"]["kind"], "clientCertificate");
        assert_eq!(doc["profile"]["signedInAt"], "2026-02-02T02:40:00Z");
        // Only the profile is left: no temporary file.
        let names: Vec<_> = std::fs::read_dir(store.dir())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from(PROFILE_FILE)]);
        assert!(store.remove().unwrap());
        assert!(!store.remove().unwrap());
    }

    #[test]
    fn a_corrupt_or_newer_profile_is_an_error_naming_the_file() {
        let dir = TempDir::new("corrupt");
        let store = ProfileStore::new(&dir.0);
        std::fs::create_dir_all(&dir.0).unwrap();
        for text in [
            "{not json",
            r#"{"profile": {}}"#,
            r#"{"format": 1, "profile": {}}"#,
        ] {
            std::fs::write(store.path(), text).unwrap();
            let e = store.load().unwrap_err();
            assert!(matches!(e, AccountError::Corrupt { .. }), "{e:?}");
            assert!(
                e.to_string().contains(&store.path().display().to_string()),
                "{e}"
            );
        }
        std::fs::write(store.path(), r#"{"format": 7, "profile": {}}"#).unwrap();
        let e = store.load().unwrap_err();
        assert!(e.to_string().contains("format 7"), "{e}");
    }

    #[test]
    fn keyring_keys_match_the_token_caches() {
        let store = Arc::new(MemoryStore::new());
        let cloud = Cloud::azure_china();
        let entra = EntraClient::new(cloud.clone(), "t", None).unwrap();
        TokenCache::new(store.clone(), entra)
            .service("svc")
            .store_client_secret("t", "app", &Secret::new("s"))
            .unwrap();
        let key = cache_key(&cloud, "app", "t", "client-secret");
        assert!(
            store.keys().contains(&("svc".to_owned(), key.clone())),
            "{:?} lacks {key}",
            store.keys()
        );
    }

    #[test]
    fn aadsts_sentences_are_cut_out_of_azure_identity_errors() {
        let text = "ClientSecretCredential authentication failed. invalid type: string \"AADSTS7000215: \
                    Invalid client secret provided.\\r\\nTrace ID: 1\", expected a borrowed string";
        assert_eq!(
            aadsts(text),
            Some((
                "AADSTS7000215".into(),
                "Invalid client secret provided.".into()
            ))
        );
        assert_eq!(aadsts("no code here"), None);
        assert_eq!(aadsts("AADSTS: nothing"), None);
    }

    #[test]
    fn metadata_urls_lead_to_their_resource_manager() {
        let at = |s: &str| resource_manager_of(&Url::parse(s).unwrap()).to_string();
        assert_eq!(
            at("https://127.0.0.1:8443/metadata/endpoints?api-version=2022-09-01"),
            "https://127.0.0.1:8443/"
        );
        assert_eq!(
            at("https://arm.local/stack/metadata/endpoints/"),
            "https://arm.local/stack/"
        );
        assert_eq!(
            at("https://management.azure.com/"),
            "https://management.azure.com/"
        );
    }

    #[test]
    fn a_guest_token_names_the_home_tenant_from_its_idp() {
        let home = "11111111-2222-3333-4444-555555555555";
        let claims = Claims {
            unique_name: Some("ada@contoso.com".into()),
            tid: Some("guest".into()),
            idp: Some(format!("https://sts.windows.net/{home}/")),
            idtyp: Some("user".into()),
            ..Claims::default()
        };
        let account = claims.account(PrincipalKind::ServicePrincipal);
        assert_eq!(account.kind, PrincipalKind::User);
        assert_eq!(account.home_tenant.as_deref(), Some(home));
        assert_eq!(account.label(), "ada@contoso.com");
        let app = Claims {
            appid: Some("app".into()),
            tid: Some("t".into()),
            ..Claims::default()
        }
        .account(PrincipalKind::ServicePrincipal);
        assert_eq!(
            (app.label(), app.home_tenant.as_deref()),
            ("app", Some("t"))
        );
        assert!(Claims::of("opaque").oid.is_none());
    }

    /// A simulator, its cloud and a target trusting its CA (as PEM text).
    async fn sim(tenant: Option<String>) -> (SimHandle, SignInTarget) {
        let sim = Sim::start(SimOptions::default()).await.unwrap();
        let ca = CaSource::Pem(sim.ca_pem.clone());
        let metadata = Url::parse(&format!("{}/metadata/endpoints", sim.base_url)).unwrap();
        let cloud = discover_cloud(&metadata, Some(&ca.load().unwrap()))
            .await
            .unwrap();
        let tenant = tenant.or_else(|| Some(sim.sim.options.identity.tenant_id.clone()));
        (
            sim,
            SignInTarget {
                cloud,
                ca: Some(ca),
                tenant,
            },
        )
    }

    async fn subscription_ids(profile: &Profile, secrets: Arc<dyn SecretStore>) -> Vec<String> {
        let client = signed_in_client(profile, secrets, None).await.unwrap();
        crate::arm::Arm::new(&client)
            .list_subscriptions()
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.subscription_id)
            .collect()
    }

    #[tokio::test]
    async fn a_client_secret_sign_in_is_saved_reused_and_signed_out() {
        let (sim, target) = sim(None).await;
        let id = sim.sim.options.identity.clone();
        let dir = TempDir::new("secret");
        let secrets = Arc::new(MemoryStore::new());
        let accounts =
            Accounts::new(ProfileStore::new(&dir.0), secrets.clone()).keyring_service("svc");

        let wrong = accounts
            .sign_in_client_secret(&target, &id.client_id, Secret::new("wrong-secret"))
            .await
            .unwrap_err();
        assert!(wrong.to_string().contains("AADSTS7000215"), "{wrong}");
        assert!(!format!("{wrong} {wrong:?}").contains("wrong-secret"));
        assert!(accounts.profiles().load().unwrap().is_none());
        assert!(secrets.keys().is_empty());

        let profile = accounts
            .sign_in_client_secret(
                &target,
                &id.client_id,
                Secret::new(id.client_secret.clone()),
            )
            .await
            .unwrap();
        assert_eq!(profile.account.kind, PrincipalKind::ServicePrincipal);
        assert_eq!(
            profile.account.object_id.as_deref(),
            Some(id.client_object_id.as_str())
        );
        let key = profile.keyring.clone().unwrap();
        assert_eq!(
            secrets.get("svc", &key.key).unwrap().unwrap().secret(),
            id.client_secret
        );
        let text = std::fs::read_to_string(accounts.profiles().path()).unwrap();
        assert!(!text.contains(&id.client_secret));

        // A later run: the profile from disk, the secret from the store.
        let saved = ProfileStore::new(&dir.0).require().unwrap();
        assert_eq!(
            subscription_ids(&saved, secrets.clone()).await,
            vec![id.subscription_id.clone()]
        );

        assert_eq!(accounts.sign_out().unwrap(), Some(saved.clone()));
        assert!(secrets.keys().is_empty(), "{:?}", secrets.keys());
        assert!(accounts.profiles().load().unwrap().is_none());
        let gone = credential_for(&saved, secrets).await.err().unwrap();
        assert!(
            matches!(gone, AccountError::MissingSecret { .. }),
            "{gone:?}"
        );
    }

    /// Acts as the browser: follows the authorize URL's redirect to the loopback.
    struct FollowingBrowser(TrustedCa);

    impl BrowserOpener for FollowingBrowser {
        fn open(&self, url: &Url) -> Result<(), SignInError> {
            let https = http_client(Some(&self.0)).unwrap();
            let url = url.clone();
            tokio::spawn(async move {
                let r = https.get(url).send().await.unwrap();
                let location = r.headers()["location"].to_str().unwrap().to_owned();
                reqwest::Client::new().get(location).send().await.unwrap();
            });
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_browser_sign_in_is_saved_and_refreshed_from_the_stored_token() {
        let (sim, mut target) = sim(None).await;
        target.tenant = None;
        let id = sim.sim.options.identity.clone();
        let dir = TempDir::new("browser");
        let secrets = Arc::new(MemoryStore::new());
        let accounts = Accounts::new(ProfileStore::new(&dir.0), secrets.clone());
        let entra = target.entra(crate::auth::AZURE_CLI_CLIENT_ID).unwrap();
        let opener = FollowingBrowser(target.trusted_ca().unwrap().unwrap());
        let session = InteractiveBrowserCredential::new(entra.clone())
            .opener(Arc::new(opener))
            .sign_in(&[&target.cloud.arm_scope()])
            .await
            .unwrap();
        let profile = accounts
            .complete_user_sign_in(&target, UserFlow::Browser, &entra, &session)
            .unwrap();
        assert_eq!(
            profile.tenant, id.tenant_id,
            "the token's tenant, not 'organizations'"
        );
        assert_eq!(
            profile.account.username.as_deref(),
            Some(id.user_upn.as_str())
        );
        assert_eq!(
            profile.account.home_tenant.as_deref(),
            Some(id.tenant_id.as_str())
        );
        assert_eq!(profile.keyring.as_ref().unwrap().service, KEYRING_SERVICE);
        let key = &profile.keyring.as_ref().unwrap().key;
        assert!(
            secrets.keys().iter().any(|(_, k)| k == key),
            "{:?}",
            secrets.keys()
        );

        assert_eq!(
            subscription_ids(&profile, secrets.clone()).await,
            [id.subscription_id]
        );
        // A new sign-in replaces the account and removes the old one's entries.
        accounts
            .sign_in_client_secret(
                &SignInTarget {
                    tenant: Some(id.tenant_id.clone()),
                    ..target
                },
                &id.client_id,
                Secret::new(id.client_secret.clone()),
            )
            .await
            .unwrap();
        let left: Vec<String> = secrets.keys().into_iter().map(|(_, k)| k).collect();
        assert!(
            left.iter().all(|k| !k.contains(&id.user_object_id)),
            "{left:?}"
        );
    }
}
