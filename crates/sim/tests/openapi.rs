//! The simulator's responses validate against Azure's OpenAPI definitions in
//! `../shared/fixtures/azure/specs/` (resources 2024-03-01, subscriptions 2022-12-01, common
//! types v5/v6): deployments (running, succeeded, failed, listed), deployment operations,
//! what-if results, validate results, exportTemplate, template hashes, error responses,
//! resource groups, subscriptions, tenants, locations and providers. The validator
//! (`support/openapi.rs`) fails with the JSON path of the first mismatch.

// In tests a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use landfall_sim::Scenario;
use landfall_sim::faults::{PolicyDenial, ResourceFault};
use reqwest::Method;
use serde_json::{Value as Json, json};
use support::openapi::Specs;
use support::{Env, Reply};
use time::macros::datetime;

const T0: time::OffsetDateTime = datetime!(2026-03-02 09:00:00 UTC);

/// Validates a response body and says which definition and request it was, so a failure
/// names both. Returns how many values were checked.
fn valid(specs: &Specs, doc: &str, definition: &str, what: &str, reply: &Reply) -> usize {
    match specs.validate(doc, definition, &reply.body) {
        Ok(report) => {
            for u in &report.undeclared {
                println!("note: {what}: {u} is undeclared");
            }
            report.checked
        }
        Err(e) => panic!(
            "{what} (HTTP {}) does not validate against {doc}#/definitions/{definition}: {e}\n{}",
            reply.status,
            serde_json::to_string_pretty(&reply.body).unwrap()
        ),
    }
}

fn template() -> Json {
    json!({
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {
            "prefix": {"type": "string", "defaultValue": "spec"},
            "secret": {"type": "securestring", "defaultValue": ""}
        },
        "resources": [
            {
                "type": "Microsoft.Network/virtualNetworks",
                "apiVersion": "2023-09-01",
                "name": "[concat(parameters('prefix'), '-vnet')]",
                "location": "[resourceGroup().location]",
                "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}}
            },
            {
                "type": "Microsoft.Network/virtualNetworks/subnets",
                "apiVersion": "2023-09-01",
                "name": "[concat(parameters('prefix'), '-vnet/default')]",
                "dependsOn": [
                    "[resourceId('Microsoft.Network/virtualNetworks', concat(parameters('prefix'), '-vnet'))]"
                ],
                "properties": {"addressPrefix": "10.0.0.0/24"}
            },
            {
                "type": "Microsoft.Storage/storageAccounts",
                "apiVersion": "2023-01-01",
                "name": "[concat(parameters('prefix'), uniqueString(resourceGroup().id))]",
                "location": "[resourceGroup().location]",
                "sku": {"name": "Standard_LRS"},
                "kind": "StorageV2",
                "properties": {}
            }
        ],
        "outputs": {
            "vnetId": {
                "type": "string",
                "value": "[resourceId('Microsoft.Network/virtualNetworks', concat(parameters('prefix'), '-vnet'))]"
            },
            "count": {"type": "int", "value": 3}
        }
    })
}

async fn group(env: &Env, name: &str) -> Reply {
    env.call(
        Method::PUT,
        &format!("/subscriptions/{}/resourcegroups/{name}", env.sub()),
        Some(json!({"location": "eastus", "tags": {"purpose": "spec"}})),
    )
    .await
}

fn deployment_path(env: &Env, rg: &str, name: &str) -> String {
    format!(
        "/subscriptions/{}/resourcegroups/{rg}/providers/Microsoft.Resources/deployments/{name}",
        env.sub()
    )
}

async fn deploy(env: &Env, path: &str, template: &Json) -> Reply {
    env.call(
        Method::PUT,
        path,
        Some(json!({"properties": {
            "mode": "Incremental", "template": template, "parameters": {"prefix": {"value": "spec"}}
        }})),
    )
    .await
}

#[tokio::test]
async fn resource_groups_validate_against_the_resource_group_definitions() {
    let specs = Specs::load();
    let env = Env::start(Scenario::default(), T0).await;
    let created = group(&env, "rg-spec").await;
    assert_eq!(created.status, 201);
    valid(
        &specs,
        "resources",
        "ResourceGroup",
        "PUT resource group",
        &created,
    );
    let path = format!("/subscriptions/{}/resourcegroups/rg-spec", env.sub());
    let got = env.call(Method::GET, &path, None).await;
    valid(
        &specs,
        "resources",
        "ResourceGroup",
        "GET resource group",
        &got,
    );
    let patched = env
        .call(Method::PATCH, &path, Some(json!({"tags": {"a": "b"}})))
        .await;
    valid(
        &specs,
        "resources",
        "ResourceGroup",
        "PATCH resource group",
        &patched,
    );
    let list = env
        .call(
            Method::GET,
            &format!("/subscriptions/{}/resourcegroups", env.sub()),
            None,
        )
        .await;
    assert!(!list.body["value"].as_array().unwrap().is_empty());
    valid(
        &specs,
        "resources",
        "ResourceGroupListResult",
        "list resource groups",
        &list,
    );
    let filtered = env
        .call(
            Method::GET,
            &format!(
                "/subscriptions/{}/resourcegroups?$filter=tagName%20eq%20'a'%20and%20tagValue%20eq%20'b'",
                env.sub()
            ),
            None,
        )
        .await;
    valid(
        &specs,
        "resources",
        "ResourceGroupListResult",
        "filtered list",
        &filtered,
    );
}

#[tokio::test]
async fn subscriptions_tenants_and_locations_validate_against_their_definitions() {
    let specs = Specs::load();
    let env = Env::start(Scenario::default(), T0).await;
    let api = "?api-version=2022-12-01";
    let sub = env
        .call(
            Method::GET,
            &format!("/subscriptions/{}{api}", env.sub()),
            None,
        )
        .await;
    valid(
        &specs,
        "subscriptions",
        "Subscription",
        "GET subscription",
        &sub,
    );
    let subs = env
        .call(Method::GET, &format!("/subscriptions{api}"), None)
        .await;
    valid(
        &specs,
        "subscriptions",
        "SubscriptionListResult",
        "list subscriptions",
        &subs,
    );
    let tenants = env.call(Method::GET, &format!("/tenants{api}"), None).await;
    assert!(!tenants.body["value"].as_array().unwrap().is_empty());
    valid(
        &specs,
        "subscriptions",
        "TenantListResult",
        "list tenants",
        &tenants,
    );
    let locations = env
        .call(
            Method::GET,
            &format!("/subscriptions/{}/locations{api}", env.sub()),
            None,
        )
        .await;
    assert!(locations.body["value"].as_array().unwrap().len() > 10);
    valid(
        &specs,
        "subscriptions",
        "LocationListResult",
        "list locations",
        &locations,
    );
}

#[tokio::test]
async fn providers_validate_against_the_provider_definitions() {
    let specs = Specs::load();
    let env = Env::start(Scenario::default(), T0).await;
    let base = format!("/subscriptions/{}/providers", env.sub());
    let list = env.call(Method::GET, &base, None).await;
    assert!(list.body["value"].as_array().unwrap().len() > 3);
    valid(
        &specs,
        "resources",
        "ProviderListResult",
        "list providers",
        &list,
    );
    let one = env
        .call(Method::GET, &format!("{base}/Microsoft.Compute"), None)
        .await;
    valid(&specs, "resources", "Provider", "GET provider", &one);
    let unregistered = env
        .call(
            Method::POST,
            &format!("{base}/Microsoft.ContainerRegistry/unregister"),
            None,
        )
        .await;
    valid(
        &specs,
        "resources",
        "Provider",
        "POST unregister",
        &unregistered,
    );
    let registered = env
        .call(
            Method::POST,
            &format!("{base}/Microsoft.ContainerRegistry/register"),
            None,
        )
        .await;
    valid(
        &specs,
        "resources",
        "Provider",
        "POST register",
        &registered,
    );
    let expanded = env
        .call(
            Method::GET,
            &format!("{base}/Microsoft.Network?$expand=resourceTypes/aliases"),
            None,
        )
        .await;
    valid(
        &specs,
        "resources",
        "Provider",
        "GET provider expanded",
        &expanded,
    );
}

#[tokio::test]
async fn deployments_and_their_operations_validate_while_running_and_once_done() {
    let specs = Specs::load();
    let env = Env::start(Scenario::default(), T0).await;
    group(&env, "rg-spec").await;
    let path = deployment_path(&env, "rg-spec", "spec");
    let put = deploy(&env, &path, &template()).await;
    assert_eq!(put.status, 201, "{}", put.body);
    valid(
        &specs,
        "resources",
        "DeploymentExtended",
        "PUT deployment",
        &put,
    );

    env.advance(3.0);
    let running = env.call(Method::GET, &path, None).await;
    valid(
        &specs,
        "resources",
        "DeploymentExtended",
        "GET running deployment",
        &running,
    );
    let ops = env
        .call(Method::GET, &format!("{path}/operations"), None)
        .await;
    valid(
        &specs,
        "resources",
        "DeploymentOperationsListResult",
        "operations while running",
        &ops,
    );

    env.advance(600.0);
    let done = env.call(Method::GET, &path, None).await;
    assert_eq!(done.body["properties"]["provisioningState"], "Succeeded");
    valid(
        &specs,
        "resources",
        "DeploymentExtended",
        "GET succeeded deployment",
        &done,
    );
    let ops = env
        .call(Method::GET, &format!("{path}/operations"), None)
        .await;
    valid(
        &specs,
        "resources",
        "DeploymentOperationsListResult",
        "operations once done",
        &ops,
    );
    let id = ops.body["value"][0]["operationId"].as_str().unwrap();
    let one = env
        .call(Method::GET, &format!("{path}/operations/{id}"), None)
        .await;
    valid(
        &specs,
        "resources",
        "DeploymentOperation",
        "GET one operation",
        &one,
    );
    let legacy = format!(
        "/subscriptions/{}/resourcegroups/rg-spec/deployments/spec/operations",
        env.sub()
    );
    let ops = env.call(Method::GET, &legacy, None).await;
    valid(
        &specs,
        "resources",
        "DeploymentOperationsListResult",
        "operations (legacy path)",
        &ops,
    );

    let list = env
        .call(
            Method::GET,
            deployment_path(&env, "rg-spec", "").trim_end_matches('/'),
            None,
        )
        .await;
    assert_eq!(list.status, 200, "{}", list.body);
    valid(
        &specs,
        "resources",
        "DeploymentListResult",
        "list deployments",
        &list,
    );
    let paged = env
        .call(
            Method::GET,
            &format!(
                "{}?$top=1",
                deployment_path(&env, "rg-spec", "").trim_end_matches('/')
            ),
            None,
        )
        .await;
    valid(
        &specs,
        "resources",
        "DeploymentListResult",
        "list deployments $top=1",
        &paged,
    );

    let exported = env
        .call(Method::POST, &format!("{path}/exportTemplate"), None)
        .await;
    valid(
        &specs,
        "resources",
        "DeploymentExportResult",
        "exportTemplate",
        &exported,
    );
    let hash = env
        .call(
            Method::POST,
            "/providers/Microsoft.Resources/calculateTemplateHash",
            Some(template()),
        )
        .await;
    valid(
        &specs,
        "resources",
        "TemplateHashResult",
        "calculateTemplateHash",
        &hash,
    );

    // Subscription scope, with a nested deployment.
    let sub_path = format!(
        "/subscriptions/{}/providers/Microsoft.Resources/deployments/spec-sub",
        env.sub()
    );
    let sub_template = json!({
        "$schema": "https://schema.management.azure.com/schemas/2018-05-01/subscriptionDeploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "resources": [{
            "type": "Microsoft.Resources/resourceGroups",
            "apiVersion": "2021-04-01",
            "name": "rg-spec-sub",
            "location": "eastus"
        }]
    });
    let put = env
        .call(
            Method::PUT,
            &sub_path,
            Some(json!({"location": "eastus", "properties": {"mode": "Incremental", "template": sub_template}})),
        )
        .await;
    assert_eq!(put.status, 201, "{}", put.body);
    valid(
        &specs,
        "resources",
        "DeploymentExtended",
        "PUT subscription deployment",
        &put,
    );
    env.advance(600.0);
    let done = env.call(Method::GET, &sub_path, None).await;
    valid(
        &specs,
        "resources",
        "DeploymentExtended",
        "GET subscription deployment",
        &done,
    );
    let ops = env
        .call(Method::GET, &format!("{sub_path}/operations"), None)
        .await;
    valid(
        &specs,
        "resources",
        "DeploymentOperationsListResult",
        "subscription operations",
        &ops,
    );
}

#[tokio::test]
async fn failed_deployments_and_failed_operations_validate() {
    let specs = Specs::load();
    let scenario = Scenario {
        failing_resources: vec![ResourceFault {
            resource_type: "Microsoft.Storage/storageAccounts".into(),
            code: "StorageAccountOperationInProgress".into(),
            message: "An operation is currently performing on this storage account.".into(),
            after_seconds: 2.0,
            ..ResourceFault::default()
        }],
        ..Scenario::default()
    };
    let env = Env::start(scenario, T0).await;
    group(&env, "rg-spec").await;
    let path = deployment_path(&env, "rg-spec", "failing");
    deploy(&env, &path, &template()).await;
    env.advance(600.0);
    let failed = env.call(Method::GET, &path, None).await;
    assert_eq!(failed.body["properties"]["provisioningState"], "Failed");
    valid(
        &specs,
        "resources",
        "DeploymentExtended",
        "GET failed deployment",
        &failed,
    );
    let ops = env
        .call(Method::GET, &format!("{path}/operations"), None)
        .await;
    assert!(
        ops.body["value"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["properties"]["provisioningState"] == "Failed")
    );
    valid(
        &specs,
        "resources",
        "DeploymentOperationsListResult",
        "failed operations",
        &ops,
    );
}

#[tokio::test]
async fn what_if_validate_and_cancel_results_validate() {
    let specs = Specs::load();
    let scenario = Scenario {
        policy_denials: vec![PolicyDenial {
            resource_type: "Microsoft.Network/publicIPAddresses".into(),
            policy_name: "Deny public IPs".into(),
        }],
        ..Scenario::default()
    };
    let env = Env::start(scenario, T0).await;
    group(&env, "rg-spec").await;
    let path = deployment_path(&env, "rg-spec", "spec");
    deploy(&env, &path, &template()).await;
    env.advance(600.0);

    let mut changed = template();
    changed["resources"][0]["properties"]["addressSpace"]["addressPrefixes"] =
        json!(["10.9.0.0/16"]);
    let body = json!({"properties": {"mode": "Incremental", "template": changed}});
    let accepted = env
        .call(Method::POST, &format!("{path}/whatIf"), Some(body.clone()))
        .await;
    assert_eq!(accepted.status, 202);
    env.advance(10.0);
    let result = env
        .call(Method::GET, &accepted.header("location"), None)
        .await;
    assert_eq!(result.status, 200, "{}", result.body);
    valid(
        &specs,
        "resources",
        "WhatIfOperationResult",
        "what-if result",
        &result,
    );
    let kinds: Vec<&str> = result.body["properties"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["changeType"].as_str())
        .collect();
    assert!(kinds.contains(&"Modify"), "{kinds:?}");

    // Subscription-scope what-if (a resource group to create).
    let sub_path = format!(
        "/subscriptions/{}/providers/Microsoft.Resources/deployments/spec-sub",
        env.sub()
    );
    let sub_body = json!({"location": "eastus", "properties": {"mode": "Incremental", "template": {
        "$schema": "https://schema.management.azure.com/schemas/2018-05-01/subscriptionDeploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "resources": [{"type": "Microsoft.Resources/resourceGroups", "apiVersion": "2021-04-01",
                        "name": "rg-new", "location": "eastus"}]
    }}});
    let accepted = env
        .call(Method::POST, &format!("{sub_path}/whatIf"), Some(sub_body))
        .await;
    env.advance(10.0);
    let result = env
        .call(Method::GET, &accepted.header("location"), None)
        .await;
    valid(
        &specs,
        "resources",
        "WhatIfOperationResult",
        "subscription what-if",
        &result,
    );

    let ok = env
        .call(Method::POST, &format!("{path}/validate"), Some(body))
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    valid(
        &specs,
        "resources",
        "DeploymentValidateResult",
        "validate 200",
        &ok,
    );
    // Preflight refusals (a policy denial, nested details) and an invalid template.
    let mut denied = template();
    denied["resources"].as_array_mut().unwrap().push(json!({
        "type": "Microsoft.Network/publicIPAddresses", "apiVersion": "2023-09-01",
        "name": "spec-ip", "location": "eastus", "sku": {"name": "Standard"},
        "properties": {"publicIPAllocationMethod": "Static"}
    }));
    let bad = env
        .call(
            Method::POST,
            &format!("{path}/validate"),
            Some(json!({"properties": {"mode": "Incremental", "template": denied}})),
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    valid(
        &specs,
        "resources",
        "DeploymentValidateResult",
        "validate 400 (policy)",
        &bad,
    );
    let mut invalid = template();
    invalid["resources"][2]["name"] = json!("[concat('st', nosuchfunction())]");
    let bad = env
        .call(
            Method::POST,
            &format!("{path}/validate"),
            Some(json!({"properties": {"mode": "Incremental", "template": invalid}})),
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    valid(
        &specs,
        "resources",
        "DeploymentValidateResult",
        "validate 400 (template)",
        &bad,
    );

    // Cancel answers 204 with no body; the canceled deployment validates.
    let slow = deployment_path(&env, "rg-spec", "to-cancel");
    deploy(&env, &slow, &template()).await;
    let cancel = env
        .call(Method::POST, &format!("{slow}/cancel"), None)
        .await;
    assert_eq!(cancel.status, 204);
    let canceled = env.call(Method::GET, &slow, None).await;
    assert_eq!(canceled.body["properties"]["provisioningState"], "Canceled");
    valid(
        &specs,
        "resources",
        "DeploymentExtended",
        "GET canceled deployment",
        &canceled,
    );
}

#[tokio::test]
async fn error_responses_validate_as_cloud_error_and_error_response() {
    let specs = Specs::load();
    let env = Env::start(Scenario::default(), T0).await;
    let sub = env.sub();
    let mut errors: Vec<(String, Reply)> = Vec::new();
    errors.push((
        "missing api-version".into(),
        env.raw(
            Method::GET,
            &format!("/subscriptions/{sub}/resourcegroups"),
            None,
            "",
        )
        .await,
    ));
    errors.push((
        "resource group not found".into(),
        env.call(
            Method::GET,
            &format!("/subscriptions/{sub}/resourcegroups/nope"),
            None,
        )
        .await,
    ));
    errors.push((
        "unknown resource type".into(),
        env.call(
            Method::GET,
            &format!("/subscriptions/{sub}/providers/Microsoft.Nope/things"),
            None,
        )
        .await,
    ));
    group(&env, "rg-spec").await;
    let path = deployment_path(&env, "rg-spec", "bad");
    errors.push((
        "malformed JSON".into(),
        env.raw(
            Method::PUT,
            &path,
            Some("{\"properties\": ".into()),
            "2024-03-01",
        )
        .await,
    ));
    errors.push((
        "invalid template".into(),
        env.call(
            Method::PUT,
            &path,
            Some(json!({"properties": {"mode": "Incremental", "template": {
                "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
                "contentVersion": "1.0.0.0",
                "resources": [{"type": "Microsoft.Storage/storageAccounts", "apiVersion": "2023-01-01",
                                "name": "[parameters('missing')]", "location": "eastus"}]
            }}})),
        )
        .await,
    ));
    errors.push((
        "deployment not found".into(),
        env.call(Method::GET, &deployment_path(&env, "rg-spec", "nope"), None)
            .await,
    ));
    errors.push(("expired token".into(), {
        let token = env.sim.sim.tokens.service_principal_token(&env.sim.sim);
        env.advance(7200.0);
        let r = env
            .http
            .get(format!(
                "{}/subscriptions/{sub}/resourcegroups?api-version=2024-03-01",
                env.sim.base_url
            ))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        Reply {
            status,
            headers,
            body: r.json().await.unwrap(),
        }
    }));
    for (what, reply) in &errors {
        assert!(reply.status >= 400, "{what}: {}", reply.status);
        valid(&specs, "resources", "CloudError", what, reply);
        valid(&specs, "v5", "ErrorResponse", what, reply);
        valid(&specs, "v6", "ErrorResponse", what, reply);
    }
}

#[test]
fn the_validator_names_the_path_of_the_first_mismatch() {
    let specs = Specs::load();
    let mut bad = json!({
        "id": "/subscriptions/x/resourceGroups/rg",
        "name": "rg",
        "location": "eastus",
        "properties": {"provisioningState": 7}
    });
    let e = specs
        .validate("resources", "ResourceGroup", &bad)
        .unwrap_err();
    assert!(
        e.starts_with("$.properties.provisioningState: expected string"),
        "{e}"
    );
    bad["properties"]["provisioningState"] = json!("Succeeded");
    bad.as_object_mut().unwrap().remove("location");
    let e = specs
        .validate("resources", "ResourceGroup", &bad)
        .unwrap_err();
    assert_eq!(e, "$: required property 'location' is missing");
    // Enums compare case-insensitively; a value outside a closed enum fails.
    let change = json!({"resourceId": "/x", "changeType": "modify"});
    specs
        .validate("resources", "WhatIfChange", &change)
        .unwrap();
    let change = json!({"resourceId": "/x", "changeType": "Rename"});
    let e = specs
        .validate("resources", "WhatIfChange", &change)
        .unwrap_err();
    assert!(e.starts_with("$.changeType: 'Rename' is not one of"), "{e}");
    // Cross-file references and date-times.
    let op = json!({"properties": {"timestamp": "yesterday"}});
    let e = specs
        .validate("resources", "DeploymentOperation", &op)
        .unwrap_err();
    assert_eq!(e, "$.properties.timestamp: 'yesterday' is not a date-time");
    let err = json!({"error": {"code": "X", "message": "m", "details": [{"code": 1}]}});
    let e = specs.validate("resources", "CloudError", &err).unwrap_err();
    assert!(
        e.starts_with("$.error.details[0].code: expected string"),
        "{e}"
    );
}
