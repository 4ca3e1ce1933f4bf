//! The cloud metadata document, `GET /metadata/endpoints?api-version=...`: how the Azure CLI,
//! SDKs and Terraform register a custom cloud by its Resource Manager URL.
//!
//! Resource Manager answers in one of four shapes depending on `api-version` (reproduced from
//! Azure's responses as recorded in hashicorp/go-azure-sdk's metadata tests):
//! - `2022-09-01` and later: ONE cloud object (`name`, `authentication`, `resourceManager`,
//!   `suffixes`, `microsoftGraphResourceId`...). Clients that expect this fail on a list.
//! - `2019-05-01` up to `2022-09-01`: a list of cloud objects (here, one).
//! - `2018-01-01`: the legacy object with `graphAudience` and `cloudEndpoint`.
//! - `2015-01-01`, `1.0` or no `api-version`: the oldest object (`galleryEndpoint`,
//!   `portalEndpoint`, `authentication`).
//!
//! Endpoints the simulator serves (login, Resource Manager, the audiences it accepts) point at
//! it; the rest keep Azure public cloud's values. The path is not ARM-authenticated.
//!
//! Nothing is read from the state: the document depends only on the simulator's URL and the
//! `api-version`; an `api-version` that is not a date is `400 InvalidApiVersionParameter`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value as Json, json};

use crate::Sim;
use crate::http::{arm_error, json_response, set_header};

/// The name the simulated cloud reports (not `AzureCloud`, so that no client mistakes it for
/// the public cloud and swaps in its built-in endpoints).
pub const CLOUD_NAME: &str = "LandfallSimulatedAzure";

/// The routes.
pub fn router() -> Router<Arc<Sim>> {
    Router::new().route("/metadata/endpoints", get(endpoints))
}

/// Which document shape an `api-version` selects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    V2015,
    V2018,
    V2019List,
    V2022,
}

/// The shape an `api-version` selects; `None` for one ARM would refuse.
fn shape(api_version: Option<&str>) -> Option<Shape> {
    let Some(v) = api_version.filter(|v| !v.is_empty()) else {
        return Some(Shape::V2015);
    };
    if v == "1.0" {
        return Some(Shape::V2015);
    }
    // `YYYY-MM-DD`, optionally with a `-preview` suffix.
    let date = v.get(..10)?;
    let rest = &v[10..];
    let ok = date.len() == 10
        && date.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        })
        && (rest.is_empty() || rest.eq_ignore_ascii_case("-preview"));
    if !ok {
        return None;
    }
    Some(if date >= "2022-09-01" {
        Shape::V2022
    } else if date >= "2019-05-01" {
        Shape::V2019List
    } else if date >= "2018-01-01" {
        Shape::V2018
    } else {
        Shape::V2015
    })
}

/// `GET /metadata/endpoints`.
async fn endpoints(
    State(sim): State<Arc<Sim>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let api_version = q
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("api-version"))
        .map(|(_, v)| v.as_str());
    let Some(shape) = shape(api_version) else {
        let v: String = api_version.unwrap_or("").chars().take(40).collect();
        return arm_error(
            StatusCode::BAD_REQUEST,
            "InvalidApiVersionParameter",
            format!(
                "The api-version '{v}' is invalid. The supported versions are '2022-09-01,2020-06-01,2019-05-01,2018-01-01,2015-01-01,1.0'."
            ),
        );
    };
    let body = match shape {
        Shape::V2022 => cloud_2022(&sim.base_url),
        Shape::V2019List => json!([cloud_2019(&sim.base_url)]),
        Shape::V2018 => cloud_2018(&sim.base_url),
        Shape::V2015 => cloud_2015(&sim.base_url),
    };
    let mut r = json_response(StatusCode::OK, body);
    set_header(
        r.headers_mut(),
        "content-type",
        "application/json; charset=utf-8",
    );
    r
}

/// The audiences ARM accepts here: the simulator's own first (the Azure CLI requests tokens
/// for `audiences[0]`), then public Azure's, which the simulator also accepts.
fn audiences(base: &str) -> Json {
    json!([
        format!("{base}/"),
        "https://management.core.windows.net/",
        "https://management.azure.com/"
    ])
}

/// The `2022-09-01` document: one cloud.
pub fn cloud_2022(base: &str) -> Json {
    cloud(
        base,
        json!(base),
        json!({
            "storageSyncEndpointSuffix": "afs.azure.net",
            "mhsmDns": "managedhsm.azure.net",
            "mysqlServerEndpoint": "mysql.database.azure.com",
            "postgresqlServerEndpoint": "postgres.database.azure.com",
            "mariadbServerEndpoint": "mariadb.database.azure.com",
            "synapseAnalytics": "dev.azuresynapse.net",
            "attestationEndpoint": "attest.azure.net"
        }),
        json!({
            "microsoftGraphResourceId": "https://graph.microsoft.com/",
            "appInsightsResourceId": "https://api.applicationinsights.io",
            "appInsightsTelemetryChannelResourceId": "https://dc.applicationinsights.azure.com/v2/track",
            "attestationResourceId": "https://attest.azure.net",
            "synapseAnalyticsResourceId": "https://dev.azuresynapse.net",
            "logAnalyticsResourceId": "https://api.loganalytics.io",
            "ossrDbmsResourceId": "https://ossrdbms-aad.database.windows.net"
        }),
    )
}

/// One cloud of the `2019-05-01` list.
fn cloud_2019(base: &str) -> Json {
    cloud(
        base,
        json!(format!("{base}/")),
        json!({}),
        json!({"gallery": "https://gallery.azure.com/"}),
    )
}

/// The cloud object of the `2019-05-01` and later documents: what both versions have, then
/// their own `suffixes` and top-level fields (appended, so the key order stays Azure's).
fn cloud(base: &str, login_endpoint: Json, more_suffixes: Json, more: Json) -> Json {
    let mut cloud = json!({
        "portal": "https://portal.azure.com",
        "authentication": {
            "loginEndpoint": login_endpoint,
            "audiences": audiences(base),
            "tenant": "common",
            "identityProvider": "AAD"
        },
        "media": "https://rest.media.azure.net",
        "graphAudience": "https://graph.windows.net/",
        "graph": "https://graph.windows.net/",
        "name": CLOUD_NAME,
        "suffixes": {
            "azureDataLakeStoreFileSystem": "azuredatalakestore.net",
            "acrLoginServer": "azurecr.io",
            "sqlServerHostname": "database.windows.net",
            "azureDataLakeAnalyticsCatalogAndJob": "azuredatalakeanalytics.net",
            "keyVaultDns": "vault.azure.net",
            "storage": "core.windows.net",
            "azureFrontDoorEndpointSuffix": "azurefd.net"
        },
        "batch": "https://batch.core.windows.net/",
        "resourceManager": format!("{base}/"),
        "vmImageAliasDoc": "https://raw.githubusercontent.com/Azure/azure-rest-api-specs/master/arm-compute/quickstart-templates/aliases.json",
        "activeDirectoryDataLake": "https://datalake.azure.net/",
        "sqlManagement": "https://management.core.windows.net:8443/"
    });
    append(&mut cloud["suffixes"], more_suffixes);
    append(&mut cloud, more);
    cloud
}

/// Adds the fields of `more` to the object `to`, after its own.
fn append(to: &mut Json, more: Json) {
    if let (Some(to), Json::Object(more)) = (to.as_object_mut(), more) {
        to.extend(more);
    }
}

/// The `2018-01-01` document.
fn cloud_2018(base: &str) -> Json {
    let host = base.strip_prefix("https://").unwrap_or(base);
    json!({
        "galleryEndpoint": "https://gallery.azure.com/",
        "graphEndpoint": "https://graph.windows.net/",
        "portalEndpoint": "https://portal.azure.com/",
        "graphAudience": "https://graph.windows.net/",
        "authentication": {
            "loginEndpoint": format!("{base}/"),
            "audiences": audiences(base),
            "tenant": "common",
            "identityProvider": "AAD"
        },
        "cloudEndpoint": {
            "landfallSim": {
                "endpoint": host,
                "locations": [
                    "eastus", "eastus2", "westus", "westus2", "westus3", "centralus",
                    "northeurope", "westeurope", "uksouth", "francecentral",
                    "germanywestcentral", "swedencentral", "southeastasia", "japaneast",
                    "australiaeast", "canadacentral", "brazilsouth"
                ]
            }
        }
    })
}

/// The `2015-01-01` document (also `1.0` and no `api-version`).
fn cloud_2015(base: &str) -> Json {
    json!({
        "galleryEndpoint": "https://gallery.azure.com/",
        "graphEndpoint": "https://graph.windows.net/",
        "portalEndpoint": "https://portal.azure.com/",
        "authentication": {
            "loginEndpoint": format!("{base}/"),
            "audiences": audiences(base)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_versions_select_the_shape_azure_uses() {
        assert_eq!(shape(Some("2022-09-01")), Some(Shape::V2022));
        assert_eq!(shape(Some("2023-01-01-preview")), Some(Shape::V2022));
        assert_eq!(shape(Some("2020-06-01")), Some(Shape::V2019List));
        assert_eq!(shape(Some("2019-05-01")), Some(Shape::V2019List));
        assert_eq!(shape(Some("2018-01-01")), Some(Shape::V2018));
        assert_eq!(shape(Some("2015-01-01")), Some(Shape::V2015));
        assert_eq!(shape(Some("1.0")), Some(Shape::V2015));
        assert_eq!(shape(None), Some(Shape::V2015));
        assert_eq!(shape(Some("latest")), None);
        assert_eq!(shape(Some("2022-9-1")), None);
    }

    #[test]
    fn documents_keep_azures_field_order() {
        let keys = |v: &Json| v.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>());
        let v2022 = cloud_2022("https://127.0.0.1:1");
        let top = keys(&v2022).unwrap_or_default();
        assert_eq!(top[..3], ["portal", "authentication", "media"]);
        assert_eq!(top.last().map(String::as_str), Some("ossrDbmsResourceId"));
        let suffixes = keys(&v2022["suffixes"]).unwrap_or_default();
        assert_eq!(suffixes.len(), 14);
        assert_eq!(
            suffixes.last().map(String::as_str),
            Some("attestationEndpoint")
        );
        assert_eq!(
            v2022["authentication"]["loginEndpoint"],
            "https://127.0.0.1:1"
        );
        let v2019 = cloud_2019("https://127.0.0.1:1");
        assert_eq!(
            keys(&v2019).unwrap_or_default().last().map(String::as_str),
            Some("gallery")
        );
        assert_eq!(
            v2019["authentication"]["loginEndpoint"],
            "https://127.0.0.1:1/"
        );
    }
}
