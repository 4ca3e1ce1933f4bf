//! Service principals and existing developer sessions, through azure_identity: a client
//! secret against our cloud's authority host over our HTTPS client (with the extra CA), and
//! the Azure CLI / Azure Developer CLI sessions the user already has.

use std::fmt;
use std::sync::Arc;

use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::credentials::Secret;
use azure_core::credentials::{AccessToken, TokenCredential, TokenRequestOptions};
use azure_core::http::{
    ClientOptions, ExponentialRetryOptions, HttpClient, RetryOptions, Transport,
};
use azure_identity::{
    AzureCliCredential, AzureCliCredentialOptions, AzureDeveloperCliCredential,
    AzureDeveloperCliCredentialOptions, ClientSecretCredential, ClientSecretCredentialOptions,
};

use super::error::SignInError;
use crate::cloud::Cloud;

/// azure_identity's pipeline for `cloud` over `http`. Retries are short: the default keeps
/// going for over a minute on a TLS error (PLATFORM.md), and a wrong secret is not transient.
fn client_options(cloud: &Cloud, http: reqwest::Client) -> ClientOptions {
    let mut custom = CustomConfiguration::default();
    custom.authority_host = cloud
        .authority_host
        .as_str()
        .trim_end_matches('/')
        .to_owned();
    let http: Arc<dyn HttpClient> = Arc::new(http);
    ClientOptions {
        transport: Some(Transport::new(http)),
        retry: RetryOptions::exponential(ExponentialRetryOptions {
            max_retries: 2,
            initial_delay: azure_core::time::Duration::milliseconds(200),
            max_delay: azure_core::time::Duration::seconds(2),
            max_total_elapsed: azure_core::time::Duration::seconds(10),
        }),
        cloud: Some(Arc::new(CloudConfiguration::Custom(custom))),
        ..ClientOptions::default()
    }
}

/// A service principal signing in with a client secret to `tenant` of `cloud`, over `http`
/// (build it with [`crate::tls::http_client`] to trust an extra CA).
pub fn client_secret_credential(
    cloud: &Cloud,
    tenant: &str,
    client_id: &str,
    secret: Secret,
    http: reqwest::Client,
) -> Result<Arc<ClientSecretCredential>, SignInError> {
    ClientSecretCredential::new(
        tenant,
        client_id.to_owned(),
        secret,
        Some(ClientSecretCredentialOptions {
            client_options: client_options(cloud, http),
        }),
    )
    .map_err(|e| SignInError::Config {
        message: e.to_string(),
    })
}

/// Which developer tool's session a [`CliSessionCredential`] reuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CliTool {
    /// The Azure CLI (`az login`).
    AzureCli,
    /// The Azure Developer CLI (`azd auth login`).
    AzureDeveloperCli,
}

impl CliTool {
    /// The tool's name and how to sign in with it.
    fn describe(self) -> (&'static str, &'static str) {
        match self {
            CliTool::AzureCli => ("Azure CLI", "az login"),
            CliTool::AzureDeveloperCli => ("Azure Developer CLI", "azd auth login"),
        }
    }
}

/// Reuses the session of the Azure CLI or the Azure Developer CLI (azure_identity runs
/// `az account get-access-token` / `azd auth token`), with errors that say what to do.
pub struct CliSessionCredential {
    tool: CliTool,
    inner: Arc<dyn TokenCredential>,
}

impl fmt::Debug for CliSessionCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CliSessionCredential")
            .field("tool", &self.tool)
            .finish_non_exhaustive()
    }
}

impl CliSessionCredential {
    /// Reuses `tool`'s session, optionally for another tenant.
    pub fn new(tool: CliTool, tenant: Option<&str>) -> Result<Self, SignInError> {
        let tenant_id = tenant.map(str::to_owned);
        let config = |e: azure_core::Error| SignInError::Config {
            message: e.to_string(),
        };
        let inner: Arc<dyn TokenCredential> = match tool {
            CliTool::AzureCli => AzureCliCredential::new(Some(AzureCliCredentialOptions {
                tenant_id,
                ..AzureCliCredentialOptions::default()
            }))
            .map_err(config)?,
            CliTool::AzureDeveloperCli => {
                AzureDeveloperCliCredential::new(Some(AzureDeveloperCliCredentialOptions {
                    tenant_id,
                    ..AzureDeveloperCliCredentialOptions::default()
                }))
                .map_err(config)?
            }
        };
        Ok(CliSessionCredential { tool, inner })
    }

    /// The tool whose session this reuses.
    pub fn tool(&self) -> CliTool {
        self.tool
    }

    /// A token for `scopes` from the tool's session.
    pub async fn token(&self, scopes: &[&str]) -> Result<AccessToken, SignInError> {
        self.inner.get_token(scopes, None).await.map_err(|e| {
            let (name, login) = self.tool.describe();
            SignInError::CliSession {
                tool: name,
                message: format!(
                    "{e}; install the {name} and run `{login}`, or sign in another way"
                ),
            }
        })
    }
}

#[async_trait::async_trait]
impl TokenCredential for CliSessionCredential {
    async fn get_token(
        &self,
        scopes: &[&str],
        _options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        Ok(self.token(scopes).await?)
    }
}
