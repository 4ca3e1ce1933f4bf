//! Deployments over HTTPS as an Azure client sees them: statuses at exact moments of a manual
//! clock, operations in dependency order, outputs with runtime values, failures and their
//! nested errors, cancel, complete mode, what-if, validate, paging, ARM's errors, restarts,
//! and the quickstart templates and bicep baselines deploying end to end.

// In tests a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use landfall_sim::faults::{PolicyDenial, QuotaOverride, ResourceFault, Scenario, SkuRestriction};
use landfall_sim::{ManualClock, SimHandle, SimOptions};
use landfall_template::template::{ParameterValue, Parameters};
use landfall_template::{Template, Value};
use reqwest::Method;
use serde_json::{Value as Json, json};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const API: &str = "2024-03-01";
const T0: OffsetDateTime = datetime!(2026-03-02 09:00:00 UTC);
const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/azure"
);

/// A simulator on a manual clock and a client for it.
struct Env {
    sim: SimHandle,
    http: reqwest::Client,
    clock: Arc<ManualClock>,
}

struct Reply {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Json,
}

impl Reply {
    fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    }
}

impl Env {
    async fn new(scenario: Scenario) -> Env {
        Env::with(scenario, 1.0, None, T0).await
    }

    async fn with(
        mut scenario: Scenario,
        speed: f64,
        state_file: Option<PathBuf>,
        start: OffsetDateTime,
    ) -> Env {
        scenario.no_throttling = true;
        let clock = Arc::new(ManualClock::new(start));
        let sim = common::start(SimOptions {
            clock: clock.clone(),
            scenario,
            speed,
            state_file,
            ..SimOptions::default()
        })
        .await;
        let http = common::client(&sim);
        Env { sim, http, clock }
    }

    fn sub(&self) -> String {
        self.sim.sim.options.identity.subscription_id.clone()
    }

    fn advance(&self, secs: f64) {
        self.clock.advance(Duration::seconds_f64(secs));
    }

    /// `/subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Resources/deployments/{name}`
    fn rg_deployment(&self, rg: &str, name: &str) -> String {
        format!(
            "/subscriptions/{}/resourcegroups/{rg}/providers/Microsoft.Resources/deployments/{name}",
            self.sub()
        )
    }

    fn sub_deployment(&self, name: &str) -> String {
        format!(
            "/subscriptions/{}/providers/Microsoft.Resources/deployments/{name}",
            self.sub()
        )
    }

    /// A request to a path (or absolute URL) with the API version added when missing.
    async fn call(&self, method: Method, path: &str, body: Option<Json>) -> Reply {
        self.raw(method, path, body.map(|b| b.to_string())).await
    }

    async fn raw(&self, method: Method, path: &str, body: Option<String>) -> Reply {
        let mut url = if path.starts_with("https://") {
            path.to_owned()
        } else {
            format!("{}{path}", self.sim.base_url)
        };
        if !url.contains("api-version=") {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&format!("api-version={API}"));
        }
        // Tokens are minted by the simulator's clock, which tests move by hours.
        let token = self.sim.sim.tokens.service_principal_token(&self.sim.sim);
        let mut req = self.http.request(method, url).bearer_auth(token);
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap();
        let body = if text.is_empty() {
            Json::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Json::String(text))
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    async fn create_group(&self, name: &str, location: &str) {
        let r = self
            .call(
                Method::PUT,
                &format!("/subscriptions/{}/resourcegroups/{name}", self.sub()),
                Some(json!({ "location": location })),
            )
            .await;
        assert!(r.status == 201 || r.status == 200, "{}", r.body);
    }

    async fn put(&self, path: &str, template: &Json, parameters: Json, mode: &str) -> Reply {
        let body = json!({"properties": {
            "template": template, "parameters": parameters, "mode": mode
        }});
        self.call(Method::PUT, path, Some(body)).await
    }

    async fn state(&self, path: &str) -> String {
        let r = self.call(Method::GET, path, None).await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.body["properties"]["provisioningState"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn operations(&self, path: &str) -> Vec<Json> {
        let r = self
            .call(Method::GET, &format!("{path}/operations"), None)
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.body["value"].as_array().unwrap().clone()
    }

    /// Operations that target a resource, by resource name.
    async fn resource_operations(&self, path: &str) -> Vec<(String, Json)> {
        self.operations(path)
            .await
            .into_iter()
            .filter(|o| o["properties"]["targetResource"].is_object())
            .map(|o| {
                let name = o["properties"]["targetResource"]["resourceName"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                (name, o["properties"].clone())
            })
            .collect()
    }

    fn resource(&self, id: &str) -> Option<Json> {
        let st = self.sim.sim.lock_state();
        st.groups
            .resource(id)
            .map(|r| json!({"properties": r.properties, "type": r.resource_type, "name": r.name}))
    }

    fn resource_id(&self, rg: &str, provider_type: &str, name: &str) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{rg}/providers/{provider_type}/{name}",
            self.sub()
        )
    }
}

/// Seconds in an ISO 8601 duration as ARM writes them (`PT1M2.5S`).
fn seconds(iso: &str) -> f64 {
    let rest = iso.strip_prefix("PT").unwrap_or(iso);
    let mut total = 0.0;
    let mut num = String::new();
    for c in rest.chars() {
        match c {
            'H' => {
                total += num.parse::<f64>().unwrap() * 3600.0;
                num.clear();
            }
            'M' => {
                total += num.parse::<f64>().unwrap() * 60.0;
                num.clear();
            }
            'S' => {
                total += num.parse::<f64>().unwrap();
                num.clear();
            }
            c => num.push(c),
        }
    }
    total
}

fn time_of(s: &Json) -> OffsetDateTime {
    OffsetDateTime::parse(
        s.as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap()
}

const SCHEMA: &str =
    "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#";

/// A virtual network with a subnet as a child resource and a storage account, with outputs
/// that only the created resources know.
fn network_and_storage() -> Json {
    json!({
        "$schema": SCHEMA,
        "contentVersion": "1.0.0.0",
        "parameters": {
            "storageName": {"type": "string", "defaultValue": "[format('st{0}', uniqueString(resourceGroup().id))]"},
            "adminPassword": {"type": "securestring", "defaultValue": "Secret-123"},
            "location": {"type": "string", "defaultValue": "[resourceGroup().location]"}
        },
        "resources": [
            {
                "type": "Microsoft.Network/virtualNetworks", "apiVersion": "2023-05-01",
                "name": "vnet1", "location": "[parameters('location')]",
                "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}}
            },
            {
                "type": "Microsoft.Network/virtualNetworks/subnets", "apiVersion": "2023-05-01",
                "name": "vnet1/apps",
                "dependsOn": ["[resourceId('Microsoft.Network/virtualNetworks', 'vnet1')]"],
                "properties": {"addressPrefix": "10.0.1.0/24"}
            },
            {
                "type": "Microsoft.Storage/storageAccounts", "apiVersion": "2023-01-01",
                "name": "[parameters('storageName')]", "location": "[parameters('location')]",
                "sku": {"name": "Standard_LRS"}, "kind": "StorageV2",
                "properties": {"minimumTlsVersion": "TLS1_2"}
            }
        ],
        "outputs": {
            "blobEndpoint": {
                "type": "string",
                "value": "[reference(resourceId('Microsoft.Storage/storageAccounts', parameters('storageName'))).primaryEndpoints.blob]"
            },
            "STORAGE_KEY_LENGTH": {
                "type": "int",
                "value": "[length(listKeys(resourceId('Microsoft.Storage/storageAccounts', parameters('storageName')), '2023-01-01').keys[0].value)]"
            },
            "subnetId": {
                "type": "string",
                "value": "[resourceId('Microsoft.Network/virtualNetworks/subnets', 'vnet1', 'apps')]"
            }
        }
    })
}

#[tokio::test]
async fn resource_group_deployment_moves_from_accepted_to_running_to_succeeded_in_dependency_order()
{
    let env = Env::new(Scenario::default()).await;
    env.create_group("rg-app", "westeurope").await;
    let path = env.rg_deployment("rg-app", "main");
    let template = network_and_storage();

    let r = env.put(&path, &template, json!({}), "Incremental").await;
    assert_eq!(r.status, 201, "{}", r.body);
    let p = &r.body["properties"];
    assert_eq!(p["provisioningState"], "Accepted");
    assert_eq!(p["duration"], "PT0S");
    assert_eq!(p["mode"], "Incremental");
    assert!(p["correlationId"].is_string());
    assert_eq!(
        p["templateHash"],
        landfall_template::hash::template_hash(&Value::from_json(template.clone()))
    );
    // Secure parameters are echoed without their value; defaults are evaluated.
    assert_eq!(
        p["parameters"]["adminPassword"],
        json!({"type": "SecureString"})
    );
    assert_eq!(p["parameters"]["location"]["value"], "westeurope");
    assert!(
        p["parameters"]["storageName"]["value"]
            .as_str()
            .unwrap()
            .starts_with("st")
    );
    assert_eq!(
        p["dependencies"][0]["dependsOn"][0]["resourceName"], "vnet1",
        "{}",
        p["dependencies"]
    );
    assert!(p["providers"].to_string().contains("\"Microsoft.Network\""));
    let status_url = r.header("azure-asyncoperation");
    assert!(
        status_url.contains("/providers/Microsoft.Resources/deployments/main/operationStatuses/")
            && status_url.contains("api-version="),
        "{status_url}"
    );
    let status = |b: &Json| b["status"].as_str().unwrap().to_owned();

    env.advance(1.0);
    assert_eq!(
        status(&env.call(Method::GET, &status_url, None).await.body),
        "Accepted"
    );
    assert!(env.operations(&path).await.is_empty());

    env.advance(1.5);
    assert_eq!(
        status(&env.call(Method::GET, &status_url, None).await.body),
        "Running"
    );
    let ops = env.resource_operations(&path).await;
    let names: Vec<&str> = ops.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(ops.len(), 2, "the subnet waits for its network: {names:?}");
    assert!(names.contains(&"vnet1") && !names.contains(&"vnet1/apps"));
    for (_, o) in &ops {
        assert_eq!(o["provisioningState"], "Running");
        assert_eq!(o["statusCode"], "Created");
        assert_eq!(o["provisioningOperation"], "Create");
        assert!(o["trackingId"].is_string() && o["serviceRequestId"].is_string());
    }
    let vnet_id = env.resource_id("rg-app", "Microsoft.Network/virtualNetworks", "vnet1");
    assert!(
        env.resource(&vnet_id).is_none(),
        "nothing exists before it is created"
    );

    // Virtual networks take 10 s (±10 %): done by 2 + 11 s.
    env.advance(11.0);
    let ops = env.resource_operations(&path).await;
    let vnet = &ops.iter().find(|(n, _)| n == "vnet1").unwrap().1;
    assert_eq!(vnet["provisioningState"], "Succeeded");
    assert_eq!(vnet["statusCode"], "OK");
    let took = seconds(vnet["duration"].as_str().unwrap());
    assert!((9.0..=11.0).contains(&took), "{took}");
    let subnet = &ops.iter().find(|(n, _)| n == "vnet1/apps").unwrap().1;
    assert_eq!(subnet["provisioningState"], "Running");
    assert_eq!(
        env.resource(&vnet_id).unwrap()["properties"]["provisioningState"],
        "Succeeded"
    );
    assert_eq!(env.state(&path).await, "Running");

    // Storage takes 25 s (±10 %); the subnet ends by 2 + 11 + 11 s.
    env.advance(40.0 - 13.5);
    let r = env.call(Method::GET, &path, None).await;
    let p = &r.body["properties"];
    assert_eq!(p["provisioningState"], "Succeeded", "{}", r.body);
    let total = seconds(p["duration"].as_str().unwrap());
    assert!((24.5..=30.5).contains(&total), "{total}");
    let blob = p["outputs"]["blobEndpoint"]["value"].as_str().unwrap();
    assert!(
        blob.starts_with("https://st") && blob.ends_with(".blob.core.windows.net/"),
        "{blob}"
    );
    assert_eq!(p["outputs"]["blobEndpoint"]["type"], "String");
    // ARM camel-cases output names the way Newtonsoft.Json does (recordings/azd).
    assert_eq!(p["outputs"]["storagE_KEY_LENGTH"]["value"], 88);
    assert_eq!(p["outputResources"].as_array().unwrap().len(), 3);
    assert!(p.get("error").is_none());
    assert_eq!(
        status(&env.call(Method::GET, &status_url, None).await.body),
        "Succeeded"
    );

    // Operations: each one ran after what it depends on, and says how long it took.
    let ops = env.resource_operations(&path).await;
    assert_eq!(ops.len(), 3);
    let end_of = |name: &str| {
        let o = &ops.iter().find(|(n, _)| n == name).unwrap().1;
        time_of(&o["timestamp"])
    };
    let start_of = |name: &str| {
        let o = &ops.iter().find(|(n, _)| n == name).unwrap().1;
        time_of(&o["timestamp"]) - Duration::seconds_f64(seconds(o["duration"].as_str().unwrap()))
    };
    assert!((start_of("vnet1/apps") - end_of("vnet1")).abs() < Duration::milliseconds(1));
    assert!((start_of("vnet1") - (T0 + Duration::seconds(2))).abs() < Duration::milliseconds(1));
    let all = env.operations(&path).await;
    assert_eq!(
        all.last().unwrap()["properties"]["provisioningOperation"],
        "EvaluateDeploymentOutput"
    );
    // One operation by ID, at the path the Java SDK uses (no `providers` segment).
    let one = &all[0];
    let legacy = format!(
        "/subscriptions/{}/resourcegroups/rg-app/deployments/main/operations/{}",
        env.sub(),
        one["operationId"].as_str().unwrap()
    );
    let r = env.call(Method::GET, &legacy, None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body, *one);

    // The resources exist with what their providers compute.
    let storage = p["outputResources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .find(|id| id.contains("storageAccounts"))
        .unwrap();
    let st = env.resource(&storage).unwrap();
    assert_eq!(st["properties"]["statusOfPrimary"], "available");
    assert_eq!(st["properties"]["minimumTlsVersion"], "TLS1_2");
    let vnet = env.resource(&vnet_id).unwrap();
    assert_eq!(vnet["properties"]["subnets"][0]["name"], "apps");

    // HEAD, export, and the same path in other casings.
    assert_eq!(env.call(Method::HEAD, &path, None).await.status, 204);
    let exported = env
        .call(Method::POST, &format!("{path}/exportTemplate"), None)
        .await;
    assert_eq!(exported.body["template"], template);
    let shouting = path
        .replace("resourcegroups", "RESOURCEGROUPS")
        .replace("Microsoft.Resources", "microsoft.resources")
        .replace("deployments", "Deployments");
    assert_eq!(env.state(&shouting).await, "Succeeded");
}

#[tokio::test]
async fn subscription_deployment_creates_its_group_and_a_nested_deployment() {
    let env = Env::new(Scenario::default()).await;
    let template = json!({
        "$schema": "https://schema.management.azure.com/schemas/2018-05-01/subscriptionDeploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {"location": {"type": "string"}, "name": {"type": "string"}},
        "resources": [
            {
                "type": "Microsoft.Resources/resourceGroups", "apiVersion": "2021-04-01",
                "name": "[format('rg-{0}', parameters('name'))]", "location": "[parameters('location')]",
                "tags": {"env": "[parameters('name')]"}
            },
            {
                "type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01",
                "name": "resources",
                "resourceGroup": "[format('rg-{0}', parameters('name'))]",
                "dependsOn": ["[subscriptionResourceId('Microsoft.Resources/resourceGroups', format('rg-{0}', parameters('name')))]"],
                "properties": {
                    "expressionEvaluationOptions": {"scope": "inner"},
                    "mode": "Incremental",
                    "parameters": {"location": {"value": "[parameters('location')]"}},
                    "template": {
                        "$schema": SCHEMA,
                        "contentVersion": "1.0.0.0",
                        "parameters": {"location": {"type": "string"}},
                        "resources": [{
                            "type": "Microsoft.KeyVault/vaults", "apiVersion": "2023-02-01",
                            "name": "[format('kv{0}', uniqueString(resourceGroup().id))]",
                            "location": "[parameters('location')]",
                            "properties": {"tenantId": "[subscription().tenantId]", "sku": {"family": "A", "name": "standard"}}
                        }],
                        "outputs": {
                            "vaultUri": {"type": "string", "value": "[reference(resourceId('Microsoft.KeyVault/vaults', format('kv{0}', uniqueString(resourceGroup().id)))).vaultUri]"}
                        }
                    }
                }
            }
        ],
        "outputs": {
            "vaultUri": {"type": "string", "value": "[reference(extensionResourceId(format('/subscriptions/{0}/resourceGroups/rg-{1}', subscription().subscriptionId, parameters('name')), 'Microsoft.Resources/deployments', 'resources'), '2022-09-01').outputs.vaultUri.value]"}
        }
    });
    let path = env.sub_deployment("landing");
    let params = json!({"location": {"value": "northeurope"}, "name": {"value": "demo"}});

    // Subscription deployments need a location.
    let r = env
        .put(&path, &template, params.clone(), "Incremental")
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"]["code"], "LocationRequired");

    let body = json!({"location": "northeurope", "tags": {"owner": "tests"}, "properties": {
        "template": template, "parameters": params, "mode": "Incremental"
    }});
    let r = env.call(Method::PUT, &path, Some(body)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["location"], "northeurope");
    assert_eq!(r.body["tags"]["owner"], "tests");
    assert!(
        r.header("azure-asyncoperation")
            .contains("/operationStatuses/")
    );
    let nested = format!(
        "/subscriptions/{}/resourceGroups/rg-demo/providers/Microsoft.Resources/deployments/resources",
        env.sub()
    );
    // The nested deployment exists once it starts, in a group that exists once created.
    env.advance(1.0);
    assert_eq!(env.call(Method::GET, &nested, None).await.status, 404);

    env.advance(4.0);
    let st = env.sim.sim.lock_state().groups.groups.len();
    assert_eq!(st, 1, "the resource group exists once its operation ends");
    assert_eq!(env.state(&nested).await, "Running");
    let top = env.resource_operations(&path).await;
    let nested_op = top
        .iter()
        .find(|(_, o)| o["targetResource"]["resourceType"] == "Microsoft.Resources/deployments")
        .unwrap();
    assert_eq!(nested_op.1["targetResource"]["id"], nested);
    assert_eq!(nested_op.1["provisioningState"], "Running");
    assert!(
        top.iter().all(|(n, _)| !n.starts_with("kv")),
        "nested operations stay nested"
    );
    let inner = env.resource_operations(&nested).await;
    assert_eq!(inner.len(), 1);
    assert_eq!(
        inner[0].1["targetResource"]["resourceType"],
        "Microsoft.KeyVault/vaults"
    );

    env.advance(60.0);
    let r = env.call(Method::GET, &path, None).await;
    let p = &r.body["properties"];
    assert_eq!(p["provisioningState"], "Succeeded", "{}", r.body);
    let uri = p["outputs"]["vaultUri"]["value"].as_str().unwrap();
    assert!(
        uri.starts_with("https://kv") && uri.ends_with(".vault.azure.net/"),
        "{uri}"
    );
    assert_eq!(env.state(&nested).await, "Succeeded");
    let list = env
        .call(
            Method::GET,
            &format!("/subscriptions/{}/resourcegroups/rg-demo/providers/Microsoft.Resources/deployments/", env.sub()),
            None,
        )
        .await;
    assert_eq!(list.body["value"][0]["name"], "resources");
    let groups = env.sim.sim.lock_state().groups.clone();
    let g = groups
        .group(&format!(
            "/subscriptions/{}/resourceGroups/rg-demo",
            env.sub()
        ))
        .unwrap();
    assert_eq!(g.location, "northeurope");
    assert_eq!(g.tags["env"], "demo");
}

#[tokio::test]
async fn a_failing_resource_fails_the_deployment_with_the_nested_error() {
    let scenario = Scenario {
        failing_resources: vec![ResourceFault {
            resource_type: "Microsoft.Storage/storageAccounts".into(),
            after_seconds: 5.0,
            code: "InvalidParameter".into(),
            message: "The value of parameter minimumTlsVersion is invalid.".into(),
            ..ResourceFault::default()
        }],
        taken_names: vec!["kvtaken".into()],
        ..Scenario::default()
    };
    let env = Env::new(scenario).await;
    env.create_group("rg-fail", "eastus").await;
    let template = json!({
        "$schema": SCHEMA, "contentVersion": "1.0.0.0",
        "resources": [
            {"type": "Microsoft.Storage/storageAccounts", "apiVersion": "2023-01-01", "name": "stfail",
             "location": "eastus", "sku": {"name": "Standard_LRS"}, "kind": "StorageV2"},
            {"type": "Microsoft.Storage/storageAccounts/blobServices/containers", "apiVersion": "2023-01-01",
             "name": "stfail/default/data",
             "dependsOn": ["[resourceId('Microsoft.Storage/storageAccounts', 'stfail')]"]},
            {"type": "Microsoft.KeyVault/vaults", "apiVersion": "2023-02-01", "name": "kvtaken",
             "location": "eastus", "properties": {"tenantId": "[subscription().tenantId]", "sku": {"family": "A", "name": "standard"}}},
            {"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2023-05-01", "name": "nsg1", "location": "eastus"}
        ]
    });
    let path = env.rg_deployment("rg-fail", "failing");
    let r = env.put(&path, &template, json!({}), "Incremental").await;
    assert_eq!(r.status, 201, "{}", r.body);
    let status_url = r.header("azure-asyncoperation");

    // Storage fails 5 s after it starts (at 2 s); the vault's name is taken (3 s).
    env.advance(6.9);
    let ops = env.resource_operations(&path).await;
    let find =
        |ops: &[(String, Json)], n: &str| ops.iter().find(|(x, _)| x == n).map(|(_, o)| o.clone());
    assert_eq!(
        find(&ops, "stfail").unwrap()["provisioningState"],
        "Running"
    );
    let vault = find(&ops, "kvtaken").unwrap();
    assert_eq!(vault["provisioningState"], "Failed");
    assert_eq!(vault["statusCode"], "Conflict");
    assert_eq!(
        vault["statusMessage"]["error"]["code"],
        "VaultAlreadyExists"
    );
    env.advance(0.2);
    let ops = env.resource_operations(&path).await;
    let storage = find(&ops, "stfail").unwrap();
    assert_eq!(storage["provisioningState"], "Failed");
    assert_eq!(storage["statusCode"], "BadRequest");
    assert_eq!(
        storage["statusMessage"],
        json!({"status": "Failed", "error": {"code": "InvalidParameter", "message": "The value of parameter minimumTlsVersion is invalid."}})
    );
    assert_eq!(seconds(storage["duration"].as_str().unwrap()), 5.0);
    assert!(
        find(&ops, "stfail/default/data").is_none(),
        "dependents never start"
    );
    assert_eq!(
        env.state(&path).await,
        "Running",
        "the network security group still runs"
    );

    env.advance(30.0);
    let r = env.call(Method::GET, &path, None).await;
    let p = &r.body["properties"];
    assert_eq!(p["provisioningState"], "Failed");
    let e = &p["error"];
    assert_eq!(e["code"], "DeploymentFailed");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .starts_with("At least one resource deployment operation failed.")
    );
    let details = e["details"].as_array().unwrap();
    let codes: Vec<&str> = details
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes.len(), 2, "{details:?}");
    assert!(codes.contains(&"InvalidParameter") && codes.contains(&"VaultAlreadyExists"));
    assert!(p.get("outputs").is_none());
    let ops = env.resource_operations(&path).await;
    assert_eq!(
        find(&ops, "nsg1").unwrap()["provisioningState"],
        "Succeeded"
    );
    assert!(find(&ops, "stfail/default/data").is_none());
    let s = env.call(Method::GET, &status_url, None).await.body;
    assert_eq!(s["status"], "Failed");
    assert_eq!(s["error"]["code"], "DeploymentFailed");
    assert!(
        env.resource(&env.resource_id("rg-fail", "Microsoft.Storage/storageAccounts", "stfail"))
            .is_none()
    );
    assert!(
        env.resource(&env.resource_id(
            "rg-fail",
            "Microsoft.Network/networkSecurityGroups",
            "nsg1"
        ))
        .is_some()
    );
}

#[tokio::test]
async fn cancel_stops_what_has_not_started() {
    let env = Env::new(Scenario::default()).await;
    env.create_group("rg-cancel", "eastus").await;
    let template = json!({
        "$schema": SCHEMA, "contentVersion": "1.0.0.0",
        "resources": [
            {"type": "Microsoft.Network/virtualNetworks", "apiVersion": "2023-05-01", "name": "net",
             "location": "eastus", "properties": {"addressSpace": {"addressPrefixes": ["10.1.0.0/16"]}}},
            {"type": "Microsoft.Storage/storageAccounts", "apiVersion": "2023-01-01", "name": "stlater",
             "location": "eastus", "sku": {"name": "Standard_LRS"}, "kind": "StorageV2",
             "dependsOn": ["[resourceId('Microsoft.Network/virtualNetworks', 'net')]"]}
        ]
    });
    let path = env.rg_deployment("rg-cancel", "cancelled");
    assert_eq!(
        env.put(&path, &template, json!({}), "Incremental")
            .await
            .status,
        201
    );
    env.advance(5.0);
    let r = env
        .call(Method::POST, &format!("{path}/cancel"), None)
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let r = env.call(Method::GET, &path, None).await;
    assert_eq!(r.body["properties"]["provisioningState"], "Canceled");
    assert_eq!(r.body["properties"]["duration"], "PT5S");
    let r = env
        .call(Method::POST, &format!("{path}/cancel"), None)
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(r.body["error"]["code"], "DeploymentCannotBeCancelled");

    env.advance(120.0);
    let ops = env.resource_operations(&path).await;
    assert_eq!(ops.len(), 1, "the storage account never starts");
    assert_eq!(
        ops[0].1["provisioningState"], "Succeeded",
        "what was running finishes"
    );
    assert!(
        env.resource(&env.resource_id("rg-cancel", "Microsoft.Network/virtualNetworks", "net"))
            .is_some()
    );
    assert!(
        env.resource(&env.resource_id("rg-cancel", "Microsoft.Storage/storageAccounts", "stlater"))
            .is_none()
    );
    assert_eq!(env.state(&path).await, "Canceled");

    // A finished deployment can be replaced (200) and deleted (202 + Location).
    let r = env.put(&path, &template, json!({}), "Incremental").await;
    assert_eq!(r.status, 200);
    let r = env.call(Method::DELETE, &path, None).await;
    assert_eq!(r.status, 409, "not while it runs: {}", r.body);
    assert_eq!(r.body["error"]["code"], "DeploymentActive");
    let r = env.put(&path, &template, json!({}), "Incremental").await;
    assert_eq!(r.body["error"]["code"], "DeploymentActive");
    env.advance(60.0);
    let r = env.call(Method::DELETE, &path, None).await;
    assert_eq!(r.status, 202);
    assert!(r.header("location").contains("/operationresults/"));
    assert_eq!(env.call(Method::GET, &path, None).await.status, 404);
    assert_eq!(env.call(Method::HEAD, &path, None).await.status, 404);
    assert!(
        env.resource(&env.resource_id("rg-cancel", "Microsoft.Storage/storageAccounts", "stlater"))
            .is_some(),
        "deleting a deployment keeps its resources"
    );
}

fn storage(name: &str) -> Json {
    json!({"type": "Microsoft.Storage/storageAccounts", "apiVersion": "2023-01-01", "name": name,
           "location": "eastus", "sku": {"name": "Standard_LRS"}, "kind": "StorageV2",
           "properties": {"minimumTlsVersion": "TLS1_2"}})
}

fn network(name: &str, prefix: &str) -> Json {
    json!({"type": "Microsoft.Network/virtualNetworks", "apiVersion": "2023-05-01", "name": name,
           "location": "eastus", "properties": {"addressSpace": {"addressPrefixes": [prefix]}}})
}

fn template_of(resources: Vec<Json>) -> Json {
    json!({"$schema": SCHEMA, "contentVersion": "1.0.0.0", "resources": resources})
}

#[tokio::test]
async fn complete_mode_removes_what_the_template_does_not_contain() {
    let env = Env::new(Scenario::default()).await;
    env.create_group("rg-mode", "eastus").await;
    let path = env.rg_deployment("rg-mode", "first");
    let both = template_of(vec![storage("stkeep"), network("net", "10.0.0.0/16")]);
    env.put(&path, &both, json!({}), "Incremental").await;
    env.advance(60.0);
    assert_eq!(env.state(&path).await, "Succeeded");

    // Incremental mode keeps what the template does not mention.
    let path2 = env.rg_deployment("rg-mode", "second");
    let nsg = json!({"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2023-05-01", "name": "nsg", "location": "eastus"});
    env.put(&path2, &template_of(vec![nsg]), json!({}), "Incremental")
        .await;
    env.advance(60.0);
    assert_eq!(env.state(&path2).await, "Succeeded");
    let st = env.resource_id("rg-mode", "Microsoft.Storage/storageAccounts", "stkeep");
    assert!(env.resource(&st).is_some());

    // Complete mode removes it, in a cleanup step at the end.
    let path3 = env.rg_deployment("rg-mode", "third");
    let r = env
        .put(
            &path3,
            &template_of(vec![network("net", "10.0.0.0/16")]),
            json!({}),
            "Complete",
        )
        .await;
    assert_eq!(r.body["properties"]["mode"], "Complete");
    env.advance(12.5);
    let ops = env.operations(&path3).await;
    assert_eq!(
        ops[0]["properties"]["provisioningOperation"], "DeploymentCleanup",
        "{ops:?}"
    );
    assert_eq!(ops[0]["properties"]["provisioningState"], "Running");
    assert!(env.resource(&st).is_some(), "removed when the cleanup ends");
    env.advance(60.0);
    assert_eq!(env.state(&path3).await, "Succeeded");
    assert!(env.resource(&st).is_none());
    assert!(
        env.resource(&env.resource_id("rg-mode", "Microsoft.Network/networkSecurityGroups", "nsg"))
            .is_none()
    );
    assert!(
        env.resource(&env.resource_id("rg-mode", "Microsoft.Network/virtualNetworks", "net"))
            .is_some()
    );
    let ops = env.operations(&path3).await;
    assert_eq!(ops[0]["properties"]["provisioningState"], "Succeeded");
}

#[tokio::test]
async fn what_if_compares_the_plan_with_what_exists() {
    let env = Env::new(Scenario::default()).await;
    env.create_group("rg-whatif", "eastus").await;
    let path = env.rg_deployment("rg-whatif", "base");
    env.put(
        &path,
        &template_of(vec![
            storage("stsame"),
            network("net", "10.0.0.0/16"),
            storage("stother"),
        ]),
        json!({}),
        "Incremental",
    )
    .await;
    env.advance(60.0);
    assert_eq!(env.state(&path).await, "Succeeded");

    let nsg = json!({"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2023-05-01", "name": "nsg", "location": "eastus"});
    let next = template_of(vec![storage("stsame"), network("net", "10.1.0.0/16"), nsg]);
    let body = json!({"properties": {"template": next, "mode": "Incremental"}});
    let r = env
        .call(Method::POST, &format!("{path}/whatIf"), Some(body.clone()))
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let location = r.header("location");
    assert!(location.contains("/operationresults/"), "{location}");
    assert!(!r.header("retry-after").is_empty());
    let poll = env.call(Method::GET, &location, None).await;
    assert_eq!(poll.status, 202, "not ready yet");
    env.advance(3.0);
    let poll = env.call(Method::GET, &location, None).await;
    assert_eq!(poll.status, 200, "{}", poll.body);
    assert_eq!(poll.body["status"], "Succeeded");
    let changes = poll.body["properties"]["changes"].as_array().unwrap();
    let change = |name: &str| {
        changes
            .iter()
            .find(|c| {
                c["resourceId"]
                    .as_str()
                    .unwrap()
                    .ends_with(&format!("/{name}"))
            })
            .unwrap()
            .clone()
    };
    assert_eq!(change("stsame")["changeType"], "NoChange");
    let net = change("net");
    assert_eq!(net["changeType"], "Modify", "{net}");
    assert_eq!(
        net["delta"],
        json!([{"path": "properties.addressSpace.addressPrefixes", "propertyChangeType": "Modify",
                "before": ["10.0.0.0/16"], "after": ["10.1.0.0/16"]}])
    );
    assert_eq!(
        net["before"]["properties"]["addressSpace"]["addressPrefixes"][0],
        "10.0.0.0/16"
    );
    assert!(
        net["before"]["properties"]
            .get("provisioningState")
            .is_none()
    );
    let created = change("nsg");
    assert_eq!(created["changeType"], "Create");
    assert_eq!(
        created["after"]["type"],
        "Microsoft.Network/networkSecurityGroups"
    );
    assert_eq!(change("stother")["changeType"], "Ignore");

    // Complete mode would delete what the template does not contain.
    let body = json!({"properties": {"template": template_of(vec![storage("stsame")]), "mode": "Complete"}});
    let r = env
        .call(Method::POST, &format!("{path}/whatIf"), Some(body))
        .await;
    env.advance(3.0);
    let poll = env.call(Method::GET, &r.header("location"), None).await;
    let deleted: Vec<&Json> = poll.body["properties"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["changeType"] == "Delete")
        .collect();
    assert_eq!(deleted.len(), 2, "{}", poll.body);
    assert!(deleted.iter().all(|c| c["before"].is_object()));
    // What-if changes nothing.
    assert!(
        env.resource(&env.resource_id("rg-whatif", "Microsoft.Storage/storageAccounts", "stother"))
            .is_some()
    );
}

#[tokio::test]
async fn validate_answers_200_with_validated_resources_or_400_with_nested_details() {
    let scenario = Scenario {
        policy_denials: vec![PolicyDenial {
            resource_type: "Microsoft.Network/publicIPAddresses".into(),
            policy_name: "Deny public IPs".into(),
        }],
        quotas: vec![QuotaOverride {
            location: "westeurope".into(),
            name: "standardDSv3Family".into(),
            limit: 10,
            current_value: 4,
        }],
        unavailable_skus: vec![SkuRestriction {
            location: "westeurope".into(),
            sku: "Standard_E4s_v5".into(),
            zones: vec![],
        }],
        ..Scenario::default()
    };
    let env = Env::new(scenario).await;
    env.create_group("rg-val", "westeurope").await;
    let path = env.rg_deployment("rg-val", "check");
    let validate = |template: Json| {
        let env = &env;
        let path = path.clone();
        async move {
            env.call(
                Method::POST,
                &format!("{path}/validate"),
                Some(json!({"properties": {"template": template, "mode": "Incremental"}})),
            )
            .await
        }
    };

    let ok = validate(network_and_storage()).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let p = &ok.body["properties"];
    assert_eq!(p["provisioningState"], "Succeeded");
    assert_eq!(p["duration"], "PT0S");
    assert_eq!(p["validatedResources"].as_array().unwrap().len(), 3);
    assert!(
        p["validatedResources"][0]["id"]
            .as_str()
            .unwrap()
            .ends_with("/virtualNetworks/vnet1")
    );
    assert_eq!(ok.body["type"], "Microsoft.Resources/deployments");
    assert_eq!(
        env.call(Method::GET, &path, None).await.status,
        404,
        "validate deploys nothing"
    );

    // A lenient body with a comment, as the Azure CLI sends it: ARM's hash of that template
    // (recordings/azure-cli/test_group_on_error_deployment_lastsuccessful.yaml).
    let cli = "{\"properties\": {\"parameters\": {}, \"mode\": \"Incremental\", template:{\r\n  \"$schema\": \"https://schema.management.azure.com/schemas/2015-01-01/deploymentParameters.json#\",\r\n  \"contentVersion\": \"1.0.0.0\",\r\n  \"resources\": [] // comment\r\n}}}";
    let r = env
        .raw(Method::POST, &format!("{path}/validate"), Some(cli.into()))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["properties"]["templateHash"], "3965660584125802942");

    // Invalid template: InvalidTemplate, saying where.
    let bad = json!({"$schema": SCHEMA, "contentVersion": "1.0.0.0", "resources": [
        {"type": "Microsoft.Storage/storageAccounts", "apiVersion": "2023-01-01",
         "name": "[concat('st', nosuchfunction())]", "location": "westeurope"}]});
    let r = validate(bad).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"]["code"], "InvalidTemplate", "{}", r.body);
    let info = &r.body["error"]["additionalInfo"][0];
    assert_eq!(info["type"], "TemplateViolation");
    assert!(info["info"]["lineNumber"].as_u64().unwrap() >= 1);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("line '"),
        "{}",
        r.body
    );

    // Policy.
    let pip = json!({"type": "Microsoft.Network/publicIPAddresses", "apiVersion": "2023-05-01", "name": "pip", "location": "westeurope"});
    let r = validate(template_of(vec![pip])).await;
    assert_eq!(r.status, 400);
    let e = &r.body["error"];
    assert_eq!(e["code"], "InvalidTemplateDeployment");
    assert_eq!(e["details"][0]["code"], "RequestDisallowedByPolicy");
    assert_eq!(e["details"][0]["target"], "pip");
    assert_eq!(
        e["details"][0]["additionalInfo"][0]["type"],
        "PolicyViolation"
    );
    assert_eq!(
        e["details"][0]["additionalInfo"][0]["info"]["policyDefinitionDisplayName"],
        "Deny public IPs"
    );

    // Quota: 3 x D2s_v3 = 6 cores over 4 used of 10.
    let aks = |size: &str, count: i64| {
        json!({"type": "Microsoft.ContainerService/managedClusters", "apiVersion": "2024-02-01",
               "name": "aks1", "location": "westeurope", "identity": {"type": "SystemAssigned"},
               "properties": {"dnsPrefix": "aks1", "agentPoolProfiles": [
                   {"name": "system", "count": count, "vmSize": size, "mode": "System"}]}})
    };
    let r = validate(template_of(vec![aks("Standard_D2s_v3", 4)])).await;
    assert_eq!(r.status, 400);
    let e = &r.body["error"];
    assert_eq!(e["code"], "InvalidTemplateDeployment");
    assert_eq!(e["details"][0]["code"], "PreflightValidationCheckFailed");
    let inner = &e["details"][0]["details"][0];
    assert_eq!(inner["code"], "QuotaExceeded");
    let m = inner["message"].as_str().unwrap();
    assert!(
        m.contains("standardDSv3Family Cores quota")
            && m.contains("Current Limit: 10, Current Usage: 4, Additional Required: 8, (Minimum) New Limit Required: 12"),
        "{m}"
    );
    assert_eq!(
        validate(template_of(vec![aks("Standard_D2s_v3", 3)]))
            .await
            .status,
        200
    );
    // A PUT fails the same way, and creates nothing.
    let r = env
        .put(
            &path,
            &template_of(vec![aks("Standard_D2s_v3", 4)]),
            json!({}),
            "Incremental",
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body["error"]["details"][0]["details"][0]["code"],
        "QuotaExceeded"
    );
    assert_eq!(env.call(Method::GET, &path, None).await.status, 404);

    // VM size not offered.
    let r = validate(template_of(vec![aks("Standard_E4s_v5", 1)])).await;
    let inner = &r.body["error"]["details"][0]["details"][0];
    assert_eq!(inner["code"], "BadRequest");
    assert!(
        inner["message"]
            .as_str()
            .unwrap()
            .starts_with("The VM size of AgentPoolProfile:system is not allowed in your subscription in location 'westeurope'."),
        "{inner}"
    );
}

#[tokio::test]
async fn lists_page_with_next_link_and_filter_by_state() {
    let scenario = Scenario {
        failing_resources: vec![ResourceFault {
            name_contains: "broken".into(),
            code: "InternalServerError".into(),
            message: "An internal execution error occurred.".into(),
            ..ResourceFault::default()
        }],
        ..Scenario::default()
    };
    let env = Env::new(scenario).await;
    env.create_group("rg-list", "eastus").await;
    for (name, res) in [("a", "ok1"), ("b", "broken"), ("c", "ok2")] {
        let t = template_of(vec![
            json!({"type": "Microsoft.Network/networkSecurityGroups",
            "apiVersion": "2023-05-01", "name": res, "location": "eastus"}),
        ]);
        let r = env
            .put(
                &env.rg_deployment("rg-list", name),
                &t,
                json!({}),
                "Incremental",
            )
            .await;
        assert_eq!(r.status, 201);
    }
    env.advance(60.0);
    let base = format!(
        "/subscriptions/{}/resourcegroups/rg-list/providers/Microsoft.Resources/deployments/",
        env.sub()
    );
    let first = env.call(Method::GET, &format!("{base}?$top=2"), None).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.body["value"].as_array().unwrap().len(), 2);
    let next = first.body["nextLink"].as_str().unwrap();
    assert!(
        next.starts_with("https://") && next.contains("%24skiptoken="),
        "{next}"
    );
    let second = env.call(Method::GET, next, None).await;
    assert_eq!(second.body["value"].as_array().unwrap().len(), 1);
    assert!(second.body.get("nextLink").is_none());
    let mut names: Vec<String> = first.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second.body["value"].as_array().unwrap())
        .map(|d| d["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["a", "b", "c"]);

    let failed = env
        .call(
            Method::GET,
            &format!("{base}?$filter=provisioningState%20eq%20%27Failed%27"),
            None,
        )
        .await;
    let value = failed.body["value"].as_array().unwrap();
    assert_eq!(value.len(), 1);
    assert_eq!(value[0]["name"], "b");
    assert_eq!(
        value[0]["properties"]["error"]["details"][0]["code"],
        "InternalServerError"
    );
    let op = env
        .resource_operations(&env.rg_deployment("rg-list", "b"))
        .await;
    assert_eq!(op[0].1["statusCode"], "InternalServerError");

    // Subscription-scope lists do not mix in resource-group deployments.
    let sub = env
        .call(
            Method::GET,
            &format!(
                "/subscriptions/{}/providers/Microsoft.Resources/deployments",
                env.sub()
            ),
            None,
        )
        .await;
    assert_eq!(sub.body["value"], json!([]));
}

#[tokio::test]
async fn bad_requests_get_arms_errors() {
    let env = Env::new(Scenario::default()).await;
    let missing_rg = env.rg_deployment("rg-nope", "d");
    let t = template_of(vec![]);
    let r = env.put(&missing_rg, &t, json!({}), "Incremental").await;
    assert_eq!(
        (r.status, r.body["error"]["code"].as_str()),
        (404, Some("ResourceGroupNotFound"))
    );
    assert_eq!(
        r.body["error"]["message"],
        "Resource group 'rg-nope' could not be found."
    );
    assert_eq!(env.call(Method::GET, &missing_rg, None).await.status, 404);

    env.create_group("rg-err", "eastus").await;
    let path = env.rg_deployment("rg-err", "d");
    let r = env.call(Method::GET, &path, None).await;
    assert_eq!(
        (r.status, r.body["error"]["code"].as_str()),
        (404, Some("DeploymentNotFound"))
    );
    assert_eq!(env.call(Method::HEAD, &path, None).await.status, 404);
    let r = env
        .call(Method::GET, &format!("{path}/operations"), None)
        .await;
    assert_eq!(r.body["error"]["code"], "DeploymentNotFound");

    // Malformed JSON.
    let r = env
        .raw(Method::PUT, &path, Some("{\"properties\": {".into()))
        .await;
    assert_eq!(
        (r.status, r.body["error"]["code"].as_str()),
        (400, Some("InvalidRequestContent")),
        "{}",
        r.body
    );
    let r = env.raw(Method::PUT, &path, Some(String::new())).await;
    assert_eq!(r.body["error"]["code"], "InvalidRequestContent");
    let r = env
        .call(
            Method::PUT,
            &path,
            Some(json!({"properties": {"template": t}})),
        )
        .await;
    assert_eq!(
        r.body["error"]["code"], "InvalidRequestContent",
        "mode is required"
    );

    // Template errors: missing and undeclared parameters, bad structure.
    let with_param = json!({"$schema": SCHEMA, "contentVersion": "1.0.0.0",
        "parameters": {"name": {"type": "string"}}, "resources": []});
    let r = env.put(&path, &with_param, json!({}), "Incremental").await;
    assert_eq!(
        (r.status, r.body["error"]["code"].as_str()),
        (400, Some("InvalidTemplate"))
    );
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("'name'"),
        "{}",
        r.body
    );
    let r = env
        .put(
            &path,
            &with_param,
            json!({"name": {"value": "x"}, "extra": {"value": 1}}),
            "Incremental",
        )
        .await;
    assert_eq!(r.body["error"]["code"], "InvalidTemplate");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("'extra'")
    );
    let r = env
        .put(
            &path,
            &json!({"resources": "none"}),
            json!({}),
            "Incremental",
        )
        .await;
    assert_eq!(r.body["error"]["code"], "InvalidTemplate");
    let cycle = template_of(vec![
        json!({"type": "A.B/c", "apiVersion": "1", "name": "one", "dependsOn": ["two"]}),
        json!({"type": "A.B/c", "apiVersion": "1", "name": "two", "dependsOn": ["one"]}),
    ]);
    let r = env.put(&path, &cycle, json!({}), "Incremental").await;
    assert_eq!(r.body["error"]["code"], "InvalidTemplate");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Circular dependency")
    );

    // Deployment names; links the simulator cannot download; other subscriptions.
    let r = env
        .put(
            &env.rg_deployment("rg-err", &"x".repeat(65)),
            &t,
            json!({}),
            "Incremental",
        )
        .await;
    assert_eq!(r.body["error"]["code"], "DeploymentNameLengthLimitExceeded");
    let r = env
        .put(
            &env.rg_deployment("rg-err", "a%20b"),
            &t,
            json!({}),
            "Incremental",
        )
        .await;
    assert_eq!(r.body["error"]["code"], "DeploymentNameInvalidCharacters");
    let r = env
        .call(
            Method::PUT,
            &path,
            Some(json!({"properties": {"mode": "Incremental", "templateLink": {"uri": "https://example.com/t.json"}}})),
        )
        .await;
    assert_eq!(r.body["error"]["code"], "InvalidContentLink");
    let r = env
        .call(
            Method::GET,
            "/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/rg-err/providers/Microsoft.Resources/deployments/d",
            None,
        )
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body["error"]["code"], "SubscriptionNotFound");

    // Any dated API version is accepted; operation status IDs must match.
    let r = env
        .call(
            Method::PUT,
            &format!("{path}?api-version=2016-09-01"),
            Some(json!({"properties": {"template": t, "mode": "Incremental"}})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(
        r.header("azure-asyncoperation")
            .ends_with("api-version=2016-09-01")
    );
    let r = env
        .call(Method::GET, &format!("{path}/operationStatuses/0000"), None)
        .await;
    assert_eq!(r.status, 404);
    let r = env.call(Method::PATCH, &path, None).await;
    assert_eq!(r.status, 405);
}

#[tokio::test]
async fn deployments_survive_a_restart_with_a_state_file() {
    let dir = std::env::temp_dir().join(format!("landfall-sim-deploy-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("state.json");
    let path;
    {
        let env = Env::with(Scenario::default(), 1.0, Some(file.clone()), T0).await;
        env.create_group("rg-keep", "eastus").await;
        path = env.rg_deployment("rg-keep", "kept");
        let r = env
            .put(&path, &network_and_storage(), json!({}), "Incremental")
            .await;
        assert_eq!(r.status, 201);
        env.advance(5.0);
        assert_eq!(env.state(&path).await, "Running");
        env.sim.stop().await;
    }
    // Later, another simulator on the same file: the schedule carried on meanwhile.
    let env = Env::with(
        Scenario::default(),
        1.0,
        Some(file),
        T0 + Duration::minutes(5),
    )
    .await;
    let r = env.call(Method::GET, &path, None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["properties"]["provisioningState"], "Succeeded");
    assert!(r.body["properties"]["outputs"]["blobEndpoint"]["value"].is_string());
    assert_eq!(env.resource_operations(&path).await.len(), 3);
    let vnet = env.resource_id("rg-keep", "Microsoft.Network/virtualNetworks", "vnet1");
    assert!(env.resource(&vnet).is_some());
    let _ = std::fs::remove_dir_all(dir);
}

// ---- the fixtures -------------------------------------------------------------------------

fn fixture(rel: &str) -> PathBuf {
    Path::new(FIXTURES).join(rel)
}

fn read_json(path: &Path) -> Json {
    let text = std::fs::read_to_string(path).unwrap();
    landfall_template::json::parse_value(&text)
        .unwrap()
        .to_json()
}

/// The parameters a template gets: the file's values (if any), sample values for the rest.
fn parameters_for(template: &Json, file: Option<Parameters>) -> Json {
    let t = Template::from_value(Value::from_json(template.clone())).unwrap();
    let params = file.unwrap_or_default().with_samples_for(t.parameters());
    let mut out = serde_json::Map::new();
    for (k, v) in &params.values {
        if let ParameterValue::Value(v) = v {
            out.insert(k.clone(), json!({ "value": v.to_json() }));
        }
    }
    Json::Object(out)
}

/// Bicep baselines Azure itself rejects (see crates/template/tests/templates.rs).
const REJECTED_BASELINES: &[&str] = &[
    "Loops_LF",
    "Modules_CRLF",
    "Outputs_CRLF",
    "Resources_CRLF",
    "NestedResources_LF",
];

#[tokio::test]
async fn quickstarts_and_bicep_baselines_deploy() {
    let env = Env::with(Scenario::default(), 100.0, None, T0).await;
    env.create_group("rg-fixtures", "westeurope").await;
    let mut submitted: Vec<(String, String)> = Vec::new();
    for name in [
        "aks",
        "key-vault-create",
        "mysql-flexible-with-vnet",
        "storage-account-create",
        "vnet-two-subnets",
    ] {
        let dir = fixture(&format!("templates/quickstarts/{name}"));
        let template = read_json(&dir.join("azuredeploy.json"));
        let pfile = dir.join("azuredeploy.parameters.json");
        let mut file = pfile
            .exists()
            .then(|| Parameters::parse(&std::fs::read_to_string(&pfile).unwrap()).unwrap());
        let path = env.rg_deployment("rg-fixtures", name);
        if name == "aks" {
            // The stored parameter file passes a parameter this template version does not
            // declare: Azure refuses it, naming it.
            let params = parameters_for(&template, file.clone());
            let mut with_extra = params.as_object().unwrap().clone();
            with_extra.insert(
                "authorizedIPRange".into(),
                json!({"value": "172.31.128.0/24"}),
            );
            let r = env
                .put(&path, &template, Json::Object(with_extra), "Incremental")
                .await;
            assert_eq!(r.status, 400);
            assert!(
                r.body["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("'authorizedIPRange'")
            );
            if let Some(f) = file.as_mut() {
                f.values.shift_remove("authorizedIPRange");
            }
        }
        let params = parameters_for(&template, file);
        let r = env.put(&path, &template, params, "Incremental").await;
        assert_eq!(r.status, 201, "{name}: {}", r.body);
        submitted.push((name.to_owned(), path));
    }
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(fixture("templates/bicep-baselines"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        if REJECTED_BASELINES.contains(&name.as_str()) {
            continue;
        }
        for file in ["main.json", "main.symbolicnames.json"] {
            let template = read_json(&dir.join(file));
            let t = Template::from_value(Value::from_json(template.clone())).unwrap();
            let form = if file == "main.json" {
                "classic"
            } else {
                "symbolic"
            };
            let deployment = format!("{}-{form}", name.to_ascii_lowercase().replace('_', "-"));
            let subscription =
                t.target_scope() == landfall_template::context::DeploymentScope::Subscription;
            let path = if subscription {
                env.sub_deployment(&deployment)
            } else {
                env.rg_deployment("rg-fixtures", &deployment)
            };
            let mut body = json!({"properties": {
                "template": template, "parameters": parameters_for(&template, None), "mode": "Incremental"
            }});
            if subscription {
                body["location"] = "westeurope".into();
            }
            let mut r = env.call(Method::PUT, &path, Some(body.clone())).await;
            // Templates that deploy into existing groups name them; make them and retry.
            let missing: Vec<String> = r.body["error"]["details"][0]["details"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|d| d["code"] == "ResourceGroupNotFound")
                .map(|d| {
                    d["message"]
                        .as_str()
                        .unwrap()
                        .split('\'')
                        .nth(1)
                        .unwrap()
                        .to_owned()
                })
                .collect();
            if !missing.is_empty() {
                for rg in &missing {
                    env.create_group(rg, "westeurope").await;
                }
                r = env.call(Method::PUT, &path, Some(body)).await;
            }
            assert_eq!(r.status, 201, "{name}/{file}: {}", r.body);
            submitted.push((format!("{name}/{file}"), path));
        }
    }
    // AKS takes 10 minutes at speed 1: 6 s at speed 100. An hour is plenty.
    env.advance(3600.0);
    for (name, path) in &submitted {
        let r = env.call(Method::GET, path, None).await;
        assert_eq!(
            r.body["properties"]["provisioningState"], "Succeeded",
            "{name}: {}",
            r.body
        );
        let ops = env.operations(path).await;
        assert!(
            ops.iter()
                .all(|o| o["properties"]["provisioningState"] == "Succeeded"),
            "{name}: {ops:?}"
        );
        // Every parameter is echoed with its value (defaults evaluated), secure ones without.
        for (p, entry) in r.body["properties"]["parameters"].as_object().unwrap() {
            let secure = entry["type"].as_str().unwrap().starts_with("Secure");
            assert_eq!(
                entry.get("value").is_some(),
                !secure,
                "{name}: {p}: {entry}"
            );
        }
    }
    let aks = env.call(Method::GET, &submitted[0].1, None).await;
    let fqdn = aks.body["properties"]["outputs"]["controlPlaneFQDN"]["value"]
        .as_str()
        .unwrap();
    assert!(
        fqdn.starts_with("gen-unique-") && fqdn.ends_with(".hcp.westeurope.azmk8s.io"),
        "{fqdn}"
    );
    let mysql = env.call(Method::GET, &submitted[2].1, None).await;
    let echoed = &mysql.body["properties"]["parameters"];
    assert_eq!(
        echoed["administratorLoginPassword"],
        json!({"type": "SecureString"})
    );
    // The MySQL server exists with its FQDN, inside the subnet the template gave it.
    let st = env.sim.sim.lock_state().groups.clone();
    let server = st
        .resources
        .values()
        .find(|r| r.resource_type == "Microsoft.DBforMySQL/flexibleServers")
        .unwrap();
    assert!(
        server.properties["fullyQualifiedDomainName"]
            .as_str()
            .unwrap()
            .ends_with(".mysql.database.azure.com")
    );
}

#[tokio::test]
async fn a_fault_with_times_fails_once_and_the_retry_succeeds() {
    let scenario = Scenario {
        failing_resources: vec![ResourceFault {
            resource_type: "Microsoft.ContainerService/managedClusters".into(),
            after_seconds: 120.0,
            code: "OperationNotAllowed".into(),
            message: "The cluster could not be created.".into(),
            times: 1,
            ..ResourceFault::default()
        }],
        ..Scenario::default()
    };
    let env = Env::new(scenario).await;
    env.create_group("rg-retry", "eastus").await;
    let aks = template_of(vec![json!({
        "type": "Microsoft.ContainerService/managedClusters", "apiVersion": "2024-02-01",
        "name": "aks1", "location": "eastus", "identity": {"type": "SystemAssigned"},
        "properties": {"dnsPrefix": "aks1", "agentPoolProfiles": [
            {"name": "system", "count": 1, "vmSize": "Standard_D2s_v3", "mode": "System"}]}
    })]);
    let path = env.rg_deployment("rg-retry", "cluster");
    env.put(&path, &aks, json!({}), "Incremental").await;
    // It fails 120 s after it starts, long before the 10 minutes a cluster takes.
    env.advance(2.0 + 119.0);
    assert_eq!(env.state(&path).await, "Running");
    env.advance(2.0);
    let r = env.call(Method::GET, &path, None).await;
    assert_eq!(
        r.body["properties"]["provisioningState"], "Failed",
        "{}",
        r.body
    );
    let op = &env.resource_operations(&path).await[0].1;
    assert_eq!(op["statusCode"], "Conflict");
    assert_eq!(op["statusMessage"]["error"]["code"], "OperationNotAllowed");

    env.put(&path, &aks, json!({}), "Incremental").await;
    env.advance(2.0 + 9.0 * 60.0);
    assert_eq!(
        env.state(&path).await,
        "Running",
        "a cluster takes about ten minutes"
    );
    env.advance(2.0 * 60.0);
    assert_eq!(env.state(&path).await, "Succeeded");
    let id = env.resource_id(
        "rg-retry",
        "Microsoft.ContainerService/managedClusters",
        "aks1",
    );
    let cluster = env.resource(&id).unwrap();
    assert!(
        cluster["properties"]["fqdn"]
            .as_str()
            .unwrap()
            .ends_with(".hcp.eastus.azmk8s.io")
    );
}

#[tokio::test]
async fn deploying_into_a_group_that_does_not_exist_fails_validation() {
    let env = Env::new(Scenario::default()).await;
    let template = json!({
        "$schema": "https://schema.management.azure.com/schemas/2018-05-01/subscriptionDeploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "resources": [{
            "type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01",
            "name": "inner", "resourceGroup": "rg-absent",
            "properties": {"mode": "Incremental", "template": template_of(vec![])}
        }]
    });
    let body =
        json!({"location": "eastus", "properties": {"template": template, "mode": "Incremental"}});
    let r = env
        .call(Method::PUT, &env.sub_deployment("outer"), Some(body))
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.body["error"]["code"], "InvalidTemplateDeployment");
    assert_eq!(
        r.body["error"]["details"][0]["details"][0],
        json!({"code": "ResourceGroupNotFound", "message": "Resource group 'rg-absent' could not be found."})
    );
}

#[tokio::test]
async fn deleting_the_group_takes_its_deployments() {
    let env = Env::new(Scenario::default()).await;
    env.create_group("rg-gone", "eastus").await;
    let path = env.rg_deployment("rg-gone", "d");
    env.put(
        &path,
        &template_of(vec![storage("stgone")]),
        json!({}),
        "Incremental",
    )
    .await;
    env.advance(60.0);
    assert_eq!(env.state(&path).await, "Succeeded");
    let group = format!("/subscriptions/{}/resourcegroups/rg-gone", env.sub());
    assert_eq!(env.call(Method::DELETE, &group, None).await.status, 202);
    env.advance(3600.0);
    let r = env.call(Method::GET, &path, None).await;
    assert_eq!(
        r.body["error"]["code"], "ResourceGroupNotFound",
        "{}",
        r.body
    );
    // A new group with the same name starts without history.
    env.create_group("rg-gone", "eastus").await;
    assert_eq!(env.call(Method::GET, &path, None).await.status, 404);
    let list = env
        .call(
            Method::GET,
            &format!("{group}/providers/Microsoft.Resources/deployments"),
            None,
        )
        .await;
    assert_eq!(list.body["value"], json!([]));
}

/// Every field of `recorded` is in `ours` with the same JSON type, recursively (arrays by
/// their first item). `skip` names fields the simulator does not send (template links).
fn assert_shape(recorded: &Json, ours: &Json, path: &str, skip: &[&str]) {
    match (recorded, ours) {
        (Json::Object(r), Json::Object(o)) => {
            for (k, rv) in r {
                if skip.contains(&k.as_str()) {
                    continue;
                }
                let Some(ov) = o.get(k) else {
                    panic!("{path}.{k} is missing: {ours}");
                };
                assert_shape(rv, ov, &format!("{path}.{k}"), skip);
            }
        }
        (Json::Array(r), Json::Array(o)) => {
            if let (Some(rv), Some(ov)) = (r.first(), o.first()) {
                assert_shape(rv, ov, &format!("{path}[0]"), skip);
            }
        }
        (Json::Number(_), Json::Number(_))
        | (Json::String(_), Json::String(_))
        | (Json::Bool(_), Json::Bool(_))
        | (Json::Null, Json::Null) => {}
        _ => panic!("{path}: recorded {recorded}, got {ours}"),
    }
}

#[tokio::test]
async fn responses_have_the_shapes_of_the_recorded_java_session() {
    let recording = read_json(&fixture(
        "recordings/java-fluent-sdk/canDeployVirtualNetwork.json",
    ));
    let calls = recording["networkCallRecords"].as_array().unwrap();
    let recorded = |method: &str, needle: &str, nth: usize| -> (u16, Json) {
        let c = calls
            .iter()
            .filter(|c| c["Method"] == method && c["Uri"].as_str().unwrap().contains(needle))
            .nth(nth)
            .unwrap();
        let status = c["Response"]["StatusCode"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let body = c["Response"]["Body"].as_str().unwrap_or("");
        (status, serde_json::from_str(body).unwrap_or(Json::Null))
    };
    let skip = ["templateLink", "parametersLink"];

    let env = Env::new(Scenario::default()).await;
    env.create_group("rg39b87802", "southcentralus").await;
    let path = env.rg_deployment("rg39b87802", "dpA39b87802");
    let template = read_json(&fixture(
        "templates/quickstarts/vnet-two-subnets/azuredeploy.json",
    ));
    let ours = env.put(&path, &template, json!({}), "Complete").await;
    let (status, body) = recorded("PUT", "deployments/dpA39b87802", 0);
    assert_eq!(ours.status, status);
    assert_shape(&body, &ours.body, "put", &skip);
    assert!(!ours.header("azure-asyncoperation").is_empty());

    let status_url = ours.header("azure-asyncoperation");
    let (_, accepted) = recorded("GET", "operationStatuses", 0);
    assert_eq!(
        env.call(Method::GET, &status_url, None).await.body,
        accepted
    );
    env.advance(5.0);
    let (_, running) = recorded("GET", "operationStatuses", 1);
    assert_eq!(env.call(Method::GET, &status_url, None).await.body, running);
    env.advance(60.0);
    let (_, succeeded) = recorded("GET", "operationStatuses", 2);
    assert_eq!(
        env.call(Method::GET, &status_url, None).await.body,
        succeeded
    );

    let (status, body) = recorded("GET", "deployments/dpA39b87802?", 0);
    let ours = env.call(Method::GET, &path, None).await;
    assert_eq!(ours.status, status);
    assert_shape(&body, &ours.body, "get", &skip);

    let (_, body) = recorded("GET", "deployments/?", 0);
    let list = env
        .call(
            Method::GET,
            &format!("/subscriptions/{}/resourcegroups/rg39b87802/providers/Microsoft.Resources/deployments/", env.sub()),
            None,
        )
        .await;
    assert_shape(&body, &list.body, "list", &skip);

    let (status, _) = recorded("HEAD", "deployments/dpA39b87802", 0);
    assert_eq!(env.call(Method::HEAD, &path, None).await.status, status);

    let (status, body) = recorded("POST", "deployments/dpA39b87802/exportTemplate", 0);
    let ours = env
        .call(Method::POST, &format!("{path}/exportTemplate"), None)
        .await;
    assert_eq!(ours.status, status);
    // The recording deployed another version of the template: same envelope, our content.
    assert!(body["template"].is_object());
    assert_eq!(ours.body, json!({ "template": template }));

    // Operations, at the path the Java SDK uses: each recorded kind has its shape here.
    let (status, body) = recorded("GET", "/operations?", 0);
    let legacy = format!(
        "/subscriptions/{}/resourcegroups/rg39b87802/deployments/dpA39b87802/operations",
        env.sub()
    );
    let ours = env.call(Method::GET, &legacy, None).await;
    assert_eq!(ours.status, status);
    let kind = |o: &Json| {
        let p = &o["properties"];
        format!(
            "{}{}",
            p["provisioningOperation"].as_str().unwrap(),
            p["targetResource"]["resourceType"].as_str().unwrap_or("")
        )
    };
    let ops = ours.body["value"].as_array().unwrap();
    for r in body["value"].as_array().unwrap() {
        if r["properties"]["provisioningOperation"] == "EvaluateDeploymentOutput" {
            continue; // This template version has no outputs.
        }
        let o = ops.iter().find(|o| kind(o) == kind(r)).unwrap();
        assert_shape(r, o, &kind(r), &skip);
    }
    assert_eq!(
        ops[0]["properties"]["provisioningOperation"],
        "DeploymentCleanup"
    );
    let one = &ops[1];
    let r = env
        .call(
            Method::GET,
            &format!("{legacy}/{}", one["operationId"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(r.body, *one);
}

/// The first recorded response body (parsed) whose text contains `needle`.
fn recorded_body(file: &str, needle: &str) -> Json {
    let recording = read_json(&fixture(file));
    recording["networkCallRecords"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["Response"]["Body"].as_str())
        .find(|b| b.contains(needle))
        .map(|b| serde_json::from_str(b).unwrap())
        .unwrap()
}

#[tokio::test]
async fn failures_and_what_if_have_the_recorded_shapes() {
    let scenario = Scenario {
        failing_resources: vec![ResourceFault {
            resource_type: "Microsoft.Network/virtualNetworks/subnets".into(),
            code: "InvalidParameter".into(),
            message: "The value of parameter addressPrefix is invalid.".into(),
            after_seconds: 3.0,
            ..ResourceFault::default()
        }],
        ..Scenario::default()
    };
    let env = Env::new(scenario).await;
    env.create_group("rg-shapes", "southcentralus").await;
    let template = read_json(&fixture(
        "templates/quickstarts/vnet-two-subnets/azuredeploy.json",
    ));
    let path = env.rg_deployment("rg-shapes", "failing");
    env.put(&path, &template, json!({}), "Incremental").await;
    env.advance(120.0);

    let file = "recordings/java-fluent-sdk/samples_testDeployUsingARMTemplateWithDeploymentOperations.json";
    let failed_deployment = recorded_body(file, "\"provisioningState\":\"Failed\",\"timestamp\"");
    let ours = env.call(Method::GET, &path, None).await;
    // Parameters are the template's own.
    assert_shape(
        &failed_deployment,
        &ours.body,
        "deployment",
        &["templateLink", "parameters"],
    );
    let failed_ops = recorded_body(file, "\"statusCode\":\"BadRequest\"");
    let failed_op = failed_ops["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["properties"]["provisioningState"] == "Failed")
        .unwrap();
    let ours = env.operations(&path).await;
    let our_failed = ours
        .iter()
        .find(|o| o["properties"]["provisioningState"] == "Failed")
        .unwrap();
    // The recorded provider error carries a `target` ours has not been given.
    let mut expected = failed_op.clone();
    expected["properties"]["statusMessage"]["error"]
        .as_object_mut()
        .unwrap()
        .remove("target");
    assert_shape(&expected, our_failed, "operation", &[]);

    // What-if against what exists: the recorded Modify with a delta.
    let path = env.rg_deployment("rg-shapes", "next");
    let existing = template_of(vec![network("VNet1", "10.0.0.0/16")]);
    env.put(&path, &existing, json!({}), "Incremental").await;
    env.advance(60.0);
    let body = json!({"properties": {"template": template_of(vec![network("VNet1", "10.9.0.0/16")]), "mode": "Incremental"}});
    let r = env
        .call(Method::POST, &format!("{path}/whatIf"), Some(body))
        .await;
    env.advance(5.0);
    let ours = env.call(Method::GET, &r.header("location"), None).await;
    let recorded = recorded_body(
        "recordings/java-fluent-sdk/canPostDeploymentWhatIfOnResourceGroup.json",
        "\"changeType\":\"Modify\"",
    );
    let mut recorded_modify = recorded.clone();
    let mut change = recorded["properties"]["changes"][0].clone();
    // Resource properties are the template's own.
    change["before"]["properties"] = json!({});
    change["after"]["properties"] = json!({});
    change["delta"] = json!([{"path": "", "propertyChangeType": ""}]);
    recorded_modify["properties"]["changes"] = json!([change]);
    let mut ours_modify = ours.body.clone();
    ours_modify["properties"]["changes"] = json!(
        ours.body["properties"]["changes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["changeType"] == "Modify")
            .cloned()
            .collect::<Vec<_>>()
    );
    assert_shape(&recorded_modify, &ours_modify, "whatIf", &[]);
}

#[tokio::test]
async fn preflight_refuses_storage_and_vault_names_of_the_wrong_form() {
    let env = Env::new(Scenario::default()).await;
    env.create_group("rg-names", "eastus").await;
    let template = template_of(vec![
        json!({"type": "Microsoft.Storage/storageAccounts", "apiVersion": "2023-01-01", "name": "Bad_Name",
               "location": "eastus", "sku": {"name": "Standard_LRS"}, "kind": "StorageV2"}),
        json!({"type": "Microsoft.KeyVault/vaults", "apiVersion": "2023-02-01", "name": "1kv--x",
               "location": "eastus", "properties": {"tenantId": "[subscription().tenantId]", "sku": {"family": "A", "name": "standard"}}}),
    ]);
    let path = env.rg_deployment("rg-names", "names");
    let body = json!({"properties": {"template": template, "mode": "Incremental"}});
    for r in [
        env.call(
            Method::POST,
            &format!("{path}/validate"),
            Some(body.clone()),
        )
        .await,
        env.put(&path, &template, json!({}), "Incremental").await,
    ] {
        assert_eq!(r.status, 400, "{}", r.body);
        let e = &r.body["error"];
        assert_eq!(e["code"], "InvalidTemplateDeployment", "{e}");
        let inner = &e["details"][0];
        assert_eq!(inner["code"], "PreflightValidationCheckFailed", "{e}");
        let details = inner["details"].as_array().unwrap();
        let storage = details
            .iter()
            .find(|d| d["code"] == "AccountNameInvalid")
            .unwrap();
        assert_eq!(storage["target"], "Bad_Name");
        assert!(
            storage["message"]
                .as_str()
                .unwrap()
                .starts_with("Bad_Name is not a valid storage account name."),
            "{storage}"
        );
        let vault = details
            .iter()
            .find(|d| d["code"] == "VaultNameNotValid")
            .unwrap();
        assert_eq!(vault["target"], "1kv--x");
    }
    // Nothing was created.
    let r = env.call(Method::GET, &path, None).await;
    assert_eq!(r.status, 404, "{}", r.body);
}

#[tokio::test]
async fn secure_values_are_never_stored_nor_returned() {
    const SECRET: &str = "Sup3r-S3cret-Passw0rd!";
    let dir = std::env::temp_dir().join(format!("landfall-sim-secure-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("state.json");
    let env = Env::with(Scenario::default(), 1.0, Some(file.clone()), T0).await;
    env.create_group("rg-secure", "eastus").await;
    let template = json!({
        "$schema": SCHEMA, "contentVersion": "1.0.0.0",
        "parameters": {"adminPassword": {"type": "secureString"}},
        "resources": [
            {"type": "Microsoft.DBforMySQL/flexibleServers", "apiVersion": "2023-12-30", "name": "mysql-secure-1",
             "location": "eastus", "sku": {"name": "Standard_B1ms", "tier": "Burstable"},
             "properties": {"administratorLogin": "landfall", "administratorLoginPassword": "[parameters('adminPassword')]",
                            "version": "8.0.21"}},
            {"type": "Microsoft.KeyVault/vaults", "apiVersion": "2023-02-01", "name": "kv-secure-1",
             "location": "eastus", "properties": {"tenantId": "[subscription().tenantId]", "sku": {"family": "A", "name": "standard"}}},
            {"type": "Microsoft.KeyVault/vaults/secrets", "apiVersion": "2023-02-01", "name": "kv-secure-1/db-password",
             "dependsOn": ["[resourceId('Microsoft.KeyVault/vaults', 'kv-secure-1')]"],
             "properties": {"value": "[parameters('adminPassword')]"}}
        ]
    });
    let path = env.rg_deployment("rg-secure", "secure");
    let r = env
        .put(
            &path,
            &template,
            json!({"adminPassword": {"value": SECRET}}),
            "Incremental",
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(!r.body.to_string().contains(SECRET), "{}", r.body);
    env.advance(3600.0);
    assert_eq!(env.state(&path).await, "Succeeded");

    let mut seen = Vec::new();
    let dep = env.call(Method::GET, &path, None).await;
    assert_eq!(
        dep.body["properties"]["parameters"]["adminPassword"],
        json!({"type": "SecureString"})
    );
    seen.push(dep.body.to_string());
    seen.push(
        env.call(Method::GET, &format!("{path}/operations"), None)
            .await
            .body
            .to_string(),
    );
    let server = env.resource_id(
        "rg-secure",
        "Microsoft.DBforMySQL/flexibleServers",
        "mysql-secure-1",
    );
    let got = env.call(Method::GET, &server, None).await;
    assert_eq!(got.status, 200, "{}", got.body);
    assert_eq!(got.body["properties"]["administratorLogin"], "landfall");
    assert!(got.body["properties"]["administratorLoginPassword"].is_null());
    seen.push(got.body.to_string());
    let secret = env.resource_id(
        "rg-secure",
        "Microsoft.KeyVault/vaults",
        "kv-secure-1/secrets/db-password",
    );
    let got = env.call(Method::GET, &secret, None).await;
    assert_eq!(got.status, 200, "{}", got.body);
    seen.push(got.body.to_string());
    seen.push(
        env.call(
            Method::GET,
            &format!(
                "/subscriptions/{}/resourceGroups/rg-secure/resources?$expand=properties",
                env.sub()
            ),
            None,
        )
        .await
        .body
        .to_string(),
    );
    for text in &seen {
        assert!(!text.contains(SECRET), "secret returned: {text}");
    }
    env.sim.stop().await;
    let saved = std::fs::read_to_string(&file).unwrap();
    assert!(saved.contains("mysql-secure-1"), "state was saved");
    assert!(!saved.contains(SECRET), "secret in the saved state");
    std::fs::remove_dir_all(&dir).ok();
}
