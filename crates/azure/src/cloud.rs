//! Azure clouds: where to sign in, where Resource Manager is, which audience its tokens are for,
//! and the DNS suffixes services use there. Built in: Azure public, US Government and China;
//! custom (Azure Stack Hub, private clouds, the simulator): read from a Resource Manager's
//! metadata document, as the Azure CLI's `cloud register` and Terraform's `metadata_host` do.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use url::Url;

use crate::error::Error;

/// The metadata `api-version` whose answer is ONE cloud object; older versions answer a list
/// or a legacy shape (see landfall-sim's `arm::metadata`).
pub const METADATA_API_VERSION: &str = "2022-09-01";

/// A cloud's endpoints.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cloud {
    /// The cloud's name (`AzureCloud`, `AzureUSGovernment`, `AzureChinaCloud`, or the
    /// metadata's `name`).
    pub name: String,
    /// Entra ID authority host (`https://login.microsoftonline.com/`).
    pub authority_host: Url,
    /// Resource Manager endpoint (`https://management.azure.com/`).
    pub resource_manager: Url,
    /// Token audience for Resource Manager; the scope is this plus `.default`.
    pub audience: String,
    /// Portal URL.
    pub portal: String,
    /// Microsoft Graph resource, when the cloud has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub microsoft_graph: Option<String>,
    /// DNS suffixes of services.
    pub suffixes: CloudSuffixes,
}

/// DNS suffixes of the services Landfall names resources for.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CloudSuffixes {
    /// Storage (`core.windows.net`).
    pub storage: String,
    /// Key Vault DNS (`vault.azure.net`).
    pub key_vault_dns: String,
    /// Container registry login server (`azurecr.io`).
    pub acr_login_server: String,
    /// Azure Database for MySQL (`mysql.database.azure.com`).
    pub mysql_server_endpoint: String,
    /// Azure Database for PostgreSQL (`postgres.database.azure.com`).
    pub postgresql_server_endpoint: String,
    /// Azure SQL (`database.windows.net`).
    pub sql_server_hostname: String,
}

/// A URL from a literal in this file (a unit test parses every built-in).
#[allow(clippy::expect_used)] // Only called with literal URLs that parse.
fn known(url: &str) -> Url {
    Url::parse(url).expect("a built-in cloud URL parses")
}

impl Cloud {
    /// Azure public cloud.
    pub fn azure_public() -> Self {
        Cloud {
            name: "AzureCloud".into(),
            authority_host: known("https://login.microsoftonline.com/"),
            resource_manager: known("https://management.azure.com/"),
            audience: "https://management.core.windows.net/".into(),
            portal: "https://portal.azure.com".into(),
            microsoft_graph: Some("https://graph.microsoft.com/".into()),
            suffixes: CloudSuffixes {
                storage: "core.windows.net".into(),
                key_vault_dns: "vault.azure.net".into(),
                acr_login_server: "azurecr.io".into(),
                mysql_server_endpoint: "mysql.database.azure.com".into(),
                postgresql_server_endpoint: "postgres.database.azure.com".into(),
                sql_server_hostname: "database.windows.net".into(),
            },
        }
    }

    /// Azure US Government.
    pub fn azure_us_government() -> Self {
        Cloud {
            name: "AzureUSGovernment".into(),
            authority_host: known("https://login.microsoftonline.us/"),
            resource_manager: known("https://management.usgovcloudapi.net/"),
            audience: "https://management.core.usgovcloudapi.net/".into(),
            portal: "https://portal.azure.us".into(),
            microsoft_graph: Some("https://graph.microsoft.us/".into()),
            suffixes: CloudSuffixes {
                storage: "core.usgovcloudapi.net".into(),
                key_vault_dns: "vault.usgovcloudapi.net".into(),
                acr_login_server: "azurecr.us".into(),
                mysql_server_endpoint: "mysql.database.usgovcloudapi.net".into(),
                postgresql_server_endpoint: "postgres.database.usgovcloudapi.net".into(),
                sql_server_hostname: "database.usgovcloudapi.net".into(),
            },
        }
    }

    /// Azure operated by 21Vianet in China.
    pub fn azure_china() -> Self {
        Cloud {
            name: "AzureChinaCloud".into(),
            authority_host: known("https://login.chinacloudapi.cn/"),
            resource_manager: known("https://management.chinacloudapi.cn/"),
            audience: "https://management.core.chinacloudapi.cn/".into(),
            portal: "https://portal.azure.cn".into(),
            microsoft_graph: Some("https://microsoftgraph.chinacloudapi.cn/".into()),
            suffixes: CloudSuffixes {
                storage: "core.chinacloudapi.cn".into(),
                key_vault_dns: "vault.azure.cn".into(),
                acr_login_server: "azurecr.cn".into(),
                mysql_server_endpoint: "mysql.database.chinacloudapi.cn".into(),
                postgresql_server_endpoint: "postgres.database.chinacloudapi.cn".into(),
                sql_server_hostname: "database.chinacloudapi.cn".into(),
            },
        }
    }

    /// The built-in clouds.
    pub fn builtins() -> Vec<Cloud> {
        vec![
            Cloud::azure_public(),
            Cloud::azure_us_government(),
            Cloud::azure_china(),
        ]
    }

    /// A built-in cloud by its name or a short alias (`public`, `usgov`, `china`), any case.
    pub fn builtin(name: &str) -> Option<Cloud> {
        let n = name.trim().to_ascii_lowercase();
        match n.as_str() {
            "azurecloud" | "public" | "azure" | "azurepubliccloud" => Some(Cloud::azure_public()),
            "azureusgovernment" | "usgov" | "usgovernment" | "azureusgovernmentcloud" => {
                Some(Cloud::azure_us_government())
            }
            "azurechinacloud" | "china" | "azurechina" => Some(Cloud::azure_china()),
            _ => None,
        }
    }

    /// The OAuth scope for Resource Manager tokens (`https://management.core.windows.net/.default`).
    pub fn arm_scope(&self) -> String {
        scope_for(&self.audience)
    }

    /// The authority for a tenant (`{authority_host}{tenant}`).
    pub fn authority(&self, tenant: &str) -> Result<Url, Error> {
        self.authority_host
            .join(tenant.trim_matches('/'))
            .map_err(|e| Error::Config {
                message: format!("'{tenant}' is not a usable tenant: {e}"),
            })
    }

    /// Reads an ARM metadata document (`{arm}/metadata/endpoints?api-version=2022-09-01`): one
    /// cloud object with `name`, `authentication.loginEndpoint`, `authentication.audiences`,
    /// `resourceManager`, `portal`, `suffixes`.
    pub fn from_metadata(doc: &Json) -> Result<Cloud, Error> {
        let bad = |message: String| Error::Config {
            message: format!("not a cloud metadata document: {message}"),
        };
        if doc.is_array() {
            return Err(bad(format!(
                "got a list of clouds; ask with api-version={METADATA_API_VERSION}, which answers one"
            )));
        }
        let str_at = |path: &[&str]| -> Option<String> {
            let mut v = doc;
            for p in path {
                v = v.get(p)?;
            }
            v.as_str().map(str::to_owned).filter(|s| !s.is_empty())
        };
        let url_at = |path: &[&str]| -> Result<Url, Error> {
            let s = str_at(path).ok_or_else(|| bad(format!("'{}' is missing", path.join("."))))?;
            let url = Url::parse(&with_slash(&s))
                .map_err(|e| bad(format!("'{}' is not a URL: {e}", path.join("."))))?;
            if url.scheme() != "https" {
                return Err(bad(format!("'{}' must be an https URL", path.join("."))));
            }
            Ok(url)
        };
        let name = str_at(&["name"]).ok_or_else(|| bad("'name' is missing".into()))?;
        let authority_host = url_at(&["authentication", "loginEndpoint"])?;
        let resource_manager = url_at(&["resourceManager"])?;
        // The Azure CLI asks tokens for the first audience; the others are aliases.
        let audience = doc
            .pointer("/authentication/audiences/0")
            .and_then(Json::as_str)
            .filter(|a| !a.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| bad("'authentication.audiences' is empty".into()))?;
        let suffix = |k: &str| str_at(&["suffixes", k]).unwrap_or_default();
        Ok(Cloud {
            name,
            authority_host,
            resource_manager,
            audience,
            portal: str_at(&["portal"]).unwrap_or_default(),
            microsoft_graph: str_at(&["microsoftGraphResourceId"]),
            suffixes: CloudSuffixes {
                storage: suffix("storage"),
                key_vault_dns: suffix("keyVaultDns"),
                acr_login_server: suffix("acrLoginServer"),
                mysql_server_endpoint: suffix("mysqlServerEndpoint"),
                postgresql_server_endpoint: suffix("postgresqlServerEndpoint"),
                sql_server_hostname: suffix("sqlServerHostname"),
            },
        })
    }

    /// The URL of a Resource Manager's metadata document.
    pub fn metadata_url(arm: &Url) -> Result<Url, Error> {
        let mut url = Url::parse(&with_slash(arm.as_str()))
            .and_then(|u| u.join("metadata/endpoints"))
            .map_err(|e| Error::Config {
                message: format!("'{arm}' is not a usable Resource Manager URL: {e}"),
            })?;
        url.query_pairs_mut()
            .append_pair("api-version", METADATA_API_VERSION);
        Ok(url)
    }

    /// Fetches and reads a Resource Manager's metadata document (unauthenticated).
    pub async fn discover(arm: &Url, client: &reqwest::Client) -> Result<Cloud, Error> {
        let url = Cloud::metadata_url(arm)?;
        let transport = |e: reqwest::Error| Error::Transport {
            method: azure_core::http::Method::Get,
            url: url.to_string(),
            source: azure_core::Error::new(azure_core::error::ErrorKind::Io, e),
        };
        let response = client.get(url.clone()).send().await.map_err(transport)?;
        let status = response.status().as_u16();
        let request_id = header(&response, "x-ms-request-id");
        let correlation_id = header(&response, "x-ms-correlation-request-id");
        let body = response.bytes().await.map_err(transport)?;
        if !(200..300).contains(&status) {
            return Err(Error::Http {
                method: azure_core::http::Method::Get,
                url: url.to_string(),
                status,
                detail: crate::error::ArmErrorDetail::from_body(&body).map(Box::new),
                request_id,
                correlation_id,
            });
        }
        let doc: Json = serde_json::from_slice(&body)
            .map_err(|e| Error::decode(&format!("the cloud metadata at {url}"), &e))?;
        Cloud::from_metadata(&doc)
    }
}

fn header(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn with_slash(s: &str) -> String {
    if s.ends_with('/') {
        s.to_owned()
    } else {
        format!("{s}/")
    }
}

/// `{resource}/.default`, with exactly one slash: `https://management.core.windows.net/` gives
/// `https://management.core.windows.net/.default`, as the Azure CLI asks.
pub fn scope_for(resource: &str) -> String {
    format!("{}.default", with_slash(resource))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn builtins_have_https_endpoints_and_resolve_by_alias() {
        for c in Cloud::builtins() {
            assert_eq!(c.authority_host.scheme(), "https", "{}", c.name);
            assert!(c.arm_scope().ends_with("/.default"));
            assert!(!c.arm_scope().contains("//.default"));
            assert_eq!(Cloud::builtin(&c.name), Some(c.clone()));
        }
        assert_eq!(Cloud::builtin("USGov").unwrap().name, "AzureUSGovernment");
        assert_eq!(Cloud::builtin("china").unwrap().name, "AzureChinaCloud");
        assert!(Cloud::builtin("mars").is_none());
        assert_eq!(
            Cloud::azure_public().arm_scope(),
            "https://management.core.windows.net/.default"
        );
        assert_eq!(
            Cloud::azure_public()
                .authority("contoso.onmicrosoft.com")
                .unwrap()
                .as_str(),
            "https://login.microsoftonline.com/contoso.onmicrosoft.com"
        );
    }

    #[test]
    fn metadata_of_the_public_cloud_reads_like_the_builtin() {
        // The 2022-09-01 shape Azure public answers (audiences, suffixes abridged).
        let doc = json!({
            "portal": "https://portal.azure.com",
            "authentication": {"loginEndpoint": "https://login.microsoftonline.com",
                "audiences": ["https://management.core.windows.net/", "https://management.azure.com/"],
                "tenant": "common", "identityProvider": "AAD"},
            "name": "AzureCloud",
            "suffixes": {"storage": "core.windows.net", "keyVaultDns": "vault.azure.net",
                "acrLoginServer": "azurecr.io", "sqlServerHostname": "database.windows.net",
                "mysqlServerEndpoint": "mysql.database.azure.com",
                "postgresqlServerEndpoint": "postgres.database.azure.com"},
            "resourceManager": "https://management.azure.com/",
            "microsoftGraphResourceId": "https://graph.microsoft.com/"
        });
        assert_eq!(Cloud::from_metadata(&doc).unwrap(), Cloud::azure_public());
    }

    #[test]
    fn metadata_lists_and_missing_fields_are_refused() {
        let e = Cloud::from_metadata(&json!([{"name": "x"}])).unwrap_err();
        assert!(e.to_string().contains("list of clouds"), "{e}");
        let e = Cloud::from_metadata(&json!({"name": "x", "resourceManager": "https://a/"}))
            .unwrap_err();
        assert!(e.to_string().contains("loginEndpoint"), "{e}");
        let e = Cloud::from_metadata(&json!({"name": "x", "resourceManager": "http://a/",
            "authentication": {"loginEndpoint": "https://l/", "audiences": ["https://a/"]}}))
        .unwrap_err();
        assert!(e.to_string().contains("https"), "{e}");
    }

    #[test]
    fn metadata_url_keeps_a_path_prefix() {
        let u = Cloud::metadata_url(&Url::parse("https://arm.local/stack").unwrap()).unwrap();
        assert_eq!(
            u.as_str(),
            "https://arm.local/stack/metadata/endpoints?api-version=2022-09-01"
        );
    }
}
