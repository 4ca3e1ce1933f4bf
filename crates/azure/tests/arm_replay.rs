//! The typed ARM DTOs read what real Azure sent: response bodies from the recorded sessions in
//! `../shared/fixtures/azure/recordings/` (and the REST spec examples where no live recording
//! exists) are parsed with the same types the calls use.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use landfall_azure::ArmErrorDetail;
use landfall_azure::arm::{
    Deployment, DeploymentListResponse, DeploymentOperation, DeploymentOperationListResponse,
    DeploymentValidateResponse, LocationListResponse, Provider, ProviderListResponse,
    ResourceGroup, ResourceGroupListResponse, SubscriptionListResponse, TenantListResponse,
    UsageListResponse, WhatIfResponse,
};
use serde::de::DeserializeOwned;
use serde_json::Value as Json;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/azure")
}

/// `(method, uri, status, body)` of every call in a Java SDK recording.
fn java(name: &str) -> Vec<(String, String, u16, String)> {
    let path = fixtures().join("recordings/java-fluent-sdk").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let doc: Json = serde_json::from_str(&text).unwrap();
    doc["networkCallRecords"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["Method"].as_str().unwrap().to_owned(),
                r["Uri"].as_str().unwrap().to_owned(),
                r["Response"]["StatusCode"]
                    .as_str()
                    .unwrap()
                    .parse()
                    .unwrap(),
                r["Response"]["Body"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

/// The bodies of the calls in `name` whose method is `method`, whose status is `status` and
/// whose path (query dropped) ends with `suffix`; at least one must exist.
fn bodies(name: &str, method: &str, status: u16, suffix: &str) -> Vec<String> {
    let found: Vec<String> = java(name)
        .into_iter()
        .filter(|(m, u, s, _)| {
            m == method && *s == status && u.split('?').next().unwrap().ends_with(suffix)
        })
        .map(|(_, _, _, b)| b)
        .collect();
    assert!(!found.is_empty(), "{name}: no {method} {status} *{suffix}");
    found
}

fn parse<T: DeserializeOwned>(body: &str) -> T {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {}", &body[..body.len().min(300)]))
}

/// A spec example's response body for `status`.
fn example(name: &str, status: &str) -> Json {
    let path = fixtures().join("specs/examples").join(name);
    let doc: Json = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    doc["responses"][status]["body"].clone()
}

#[test]
fn recorded_subscription_lists_parse() {
    let body = &bodies("canListSubscriptions.json", "GET", 200, "/subscriptions")[0];
    let page: SubscriptionListResponse = parse(body);
    assert!(!page.value.is_empty());
    let s = &page.value[0];
    assert!(s.id.starts_with("/subscriptions/"));
    assert!(!s.subscription_id.is_empty());
    assert!(!s.state.is_empty());
    let spec: SubscriptionListResponse = serde_json::from_value(example(
        "subscriptions-2022-12-01_GetSubscriptions.json",
        "200",
    ))
    .unwrap();
    assert!(spec.value.iter().all(|s| !s.display_name.is_empty()));
}

#[test]
fn recorded_tenant_lists_parse() {
    let page: TenantListResponse = parse(&bodies("canListTenants.json", "GET", 200, "/tenants")[0]);
    assert_eq!(page.value[0].tenant_category.as_deref(), Some("Home"));
    let spec: TenantListResponse =
        serde_json::from_value(example("subscriptions-2022-12-01_GetTenants.json", "200")).unwrap();
    assert!(!spec.value.is_empty());
    assert!(spec.value.iter().all(|t| !t.tenant_id.is_empty()));
}

#[test]
fn recorded_location_lists_parse() {
    let page: LocationListResponse =
        parse(&bodies("canListLocations.json", "GET", 200, "/locations")[0]);
    assert!(page.value.len() > 10);
    assert!(
        page.value
            .iter()
            .any(|l| l.name == "eastus" && l.display_name == "East US")
    );
    let spec: LocationListResponse =
        serde_json::from_value(example("subscriptions-2022-12-01_GetLocations.json", "200"))
            .unwrap();
    assert!(!spec.value.is_empty());
}

#[test]
fn recorded_providers_parse_through_registration() {
    let list: ProviderListResponse = parse(
        &bodies(
            "canUnregisterAndRegisterProvider.json",
            "GET",
            200,
            "/providers",
        )[0],
    );
    assert!(list.value.len() > 50);
    assert!(
        list.value
            .iter()
            .any(|p| p.namespace == "Microsoft.Compute")
    );
    let states: Vec<String> = bodies(
        "canUnregisterAndRegisterProvider.json",
        "GET",
        200,
        "/Microsoft.ContainerRegistry",
    )
    .iter()
    .map(|b| parse::<Provider>(b).registration_state)
    .collect();
    assert!(states.iter().any(|s| s == "Registering"), "{states:?}");
    assert_eq!(states.last().map(String::as_str), Some("Registered"));
    let registered: Provider = parse(
        &bodies(
            "canUnregisterAndRegisterProvider.json",
            "POST",
            200,
            "/register",
        )[0],
    );
    assert_eq!(registered.namespace, "Microsoft.ContainerRegistry");
    let spec: Provider =
        serde_json::from_value(example("resources-2024-03-01_GetProvider.json", "200")).unwrap();
    assert!(!spec.resource_types.is_empty());
}

#[test]
fn recorded_resource_group_create_get_and_list_parse() {
    let name = "canCreateResourceGroup.json";
    let created: ResourceGroup = parse(&bodies(name, "PUT", 201, "/rg08167a")[0]);
    assert_eq!(created.name, "rg08167a");
    assert_eq!(created.provisioning_state(), Some("Succeeded"));
    let got: ResourceGroup = parse(&bodies(name, "GET", 200, "/rg08167a")[0]);
    assert_eq!(got.location, created.location);
    let updated: ResourceGroup = parse(&bodies(name, "PUT", 200, "/rg08167a")[0]);
    assert_eq!(updated.name, "rg08167a");
    let list: ResourceGroupListResponse = parse(&bodies(name, "GET", 200, "/resourcegroups")[0]);
    assert!(list.value.iter().any(|g| g.name == "rg08167a"));
}

#[test]
fn recorded_deployments_parse_from_accepted_to_succeeded() {
    let name = "canDeployVirtualNetwork.json";
    let d: Deployment = parse(&bodies(name, "GET", 200, "/deployments/dpA39b87802")[0]);
    assert_eq!(d.properties.provisioning_state, "Succeeded");
    assert!(d.properties.correlation_id.is_some());
    let list: DeploymentListResponse = parse(&bodies(name, "GET", 200, "/deployments/")[0]);
    assert!(list.value.iter().any(|x| x.name == "dpA39b87802"));
    // Progress through Accepted and Running to Succeeded, as the full object.
    let states: Vec<String> = java("testDeployUsingARMTemplateWithProgress.json")
        .into_iter()
        .filter(|(m, u, s, _)| {
            m == "GET" && *s == 200 && u.contains("/deployments/") && !u.contains("/operation")
        })
        .map(|(_, _, _, b)| parse::<Deployment>(&b).properties.provisioning_state)
        .collect();
    assert!(states.iter().any(|s| s == "Running"), "{states:?}");
    assert_eq!(states.last().map(String::as_str), Some("Succeeded"));
}

#[test]
fn recorded_failed_deployments_carry_their_error_tree() {
    let mut failed = 0;
    for b in bodies("azure_testDeployments.json", "GET", 200, "/deployments/") {
        let page: DeploymentListResponse = parse(&b);
        for d in page.value {
            if d.properties.provisioning_state == "Failed" {
                let e = d
                    .properties
                    .error
                    .expect("a failed deployment has an error");
                assert!(!e.code.is_empty());
                failed += 1;
            }
        }
    }
    assert!(failed > 0);
    let last: Deployment = bodies(
        "samples_testDeployUsingARMTemplateWithDeploymentOperations.json",
        "GET",
        200,
        "",
    )
    .iter()
    .filter(|b| b.contains("\"provisioningState\":\"Failed\"") && !b.starts_with("{\"value\""))
    .map(|b| parse::<Deployment>(b))
    .next()
    .unwrap();
    assert_eq!(last.properties.provisioning_state, "Failed");
    let e = last.properties.error.unwrap();
    assert_eq!(e.code, "DeploymentFailed");
    assert_eq!(e.details[0].code, "InvalidParameter");
}

#[test]
fn recorded_operations_parse_and_the_failed_one_gives_its_status_message_error() {
    let ops: DeploymentOperationListResponse =
        parse(&bodies("canDeployVirtualNetwork.json", "GET", 200, "/operations")[0]);
    assert!(ops.value.iter().any(|o| {
        o.properties
            .target_resource
            .as_ref()
            .and_then(|t| t.resource_name.as_deref())
            == Some("VNet1")
    }));
    let one: DeploymentOperation = parse(
        &bodies(
            "canDeployVirtualNetwork.json",
            "GET",
            200,
            "/operations/354C155BA0987585",
        )[0],
    );
    assert_eq!(one.properties.provisioning_state, "Succeeded");

    let pages = bodies(
        "samples_testDeployUsingARMTemplateWithDeploymentOperations.json",
        "GET",
        200,
        "/operations",
    );
    let failed: Vec<DeploymentOperation> = pages
        .iter()
        .flat_map(|b| parse::<DeploymentOperationListResponse>(b).value)
        .filter(|o| o.properties.provisioning_state == "Failed")
        .collect();
    assert!(!failed.is_empty());
    let op = &failed[0];
    assert_eq!(op.properties.status_code.as_deref(), Some("BadRequest"));
    let e = op.error().expect("statusMessage holds the error");
    assert_eq!(e.code, "InvalidParameter");
    assert!(e.target.is_some());
    let t = op.properties.target_resource.as_ref().unwrap();
    assert!(t.id.is_some() && t.resource_type.is_some() && t.resource_name.is_some());
    assert!(op.nested_deployment().is_none());
}

#[test]
fn recorded_what_if_results_parse_at_both_scopes() {
    let body = &bodies(
        "canPostDeploymentWhatIfOnResourceGroup.json",
        "GET",
        200,
        "",
    )
    .into_iter()
    .find(|b| b.contains("\"changes\""))
    .unwrap()
    .clone();
    let r = WhatIfResponse::from_result(serde_json::from_str(body).unwrap()).unwrap();
    assert_eq!(r.status.as_deref(), Some("Succeeded"));
    let modify = r
        .properties
        .changes
        .iter()
        .find(|c| c.change_type == "Modify")
        .unwrap();
    assert!(modify.resource_id.starts_with("/subscriptions/"));
    assert!(modify.delta.is_array());
    let sub = bodies("canPostDeploymentWhatIfOnSubscription.json", "GET", 200, "")
        .into_iter()
        .find(|b| b.contains("\"changes\""))
        .unwrap();
    // The recorded subscription-scope what-if predicts no change at all.
    let r = WhatIfResponse::from_result(serde_json::from_str(&sub).unwrap()).unwrap();
    assert_eq!(r.status.as_deref(), Some("Succeeded"));
    assert!(r.properties.changes.is_empty());
    for f in [
        "resources-2024-03-01_PostDeploymentWhatIfOnResourceGroup.json",
        "resources-2024-03-01_PostDeploymentWhatIfOnSubscription.json",
    ] {
        let r = WhatIfResponse::from_result(example(f, "200")).unwrap();
        assert!(!r.properties.changes.is_empty(), "{f}");
    }
}

#[test]
fn spec_validate_200_parses_and_its_400_gives_the_nested_tree() {
    let f = "deployments-2025-04-01_PostDeploymentValidateOnResourceGroup.json";
    let ok: DeploymentValidateResponse = serde_json::from_value(example(f, "200")).unwrap();
    assert_eq!(ok.properties.provisioning_state, "Succeeded");
    assert!(ok.error.is_none());
    let bad = serde_json::to_vec(&example(f, "400")).unwrap();
    let tree = ArmErrorDetail::from_body(&bad).unwrap();
    assert_eq!(tree.code, "InvalidTemplateDeployment");
    assert_eq!(tree.details[0].code, "PreflightValidationCheckFailed");
    assert_eq!(tree.details[0].details[0].code, "AccountNameInvalid");
}

#[test]
fn spec_compute_usages_parse_with_next_link() {
    let page: UsageListResponse = serde_json::from_value(example(
        "compute-2024-03-01_Usage_List_MaximumSet_Gen.json",
        "200",
    ))
    .unwrap();
    assert_eq!(page.value[0].current_value, 17);
    assert_eq!(page.value[0].limit, 19);
    assert_eq!(page.value[0].available(), 2);
    assert!(page.next_link.is_some());
}

#[test]
fn recorded_quota_usages_parse() {
    let body = &azd_bodies(
        "Test_CLI_ProvisionValidationQuota_Sub_InvalidModelName.yaml",
        "/usages",
    )[0];
    let page: UsageListResponse = parse(body);
    assert!(page.value.len() > 10);
    assert!(
        page.value
            .iter()
            .all(|u| !u.name.value.is_empty() && u.unit.as_deref() == Some("Count"))
    );
}

/// `(url, response body)` of every ARM call in an azd (go-vcr) cassette with a body.
fn azd(name: &str) -> Vec<(String, String)> {
    let path = fixtures().join("recordings/azd").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let mut out = Vec::new();
    let mut url = String::new();
    let mut in_response = false;
    for line in text.lines() {
        let t = line.trim_start();
        if let Some(u) = t.strip_prefix("url: ") {
            url = u.to_owned();
            in_response = false;
        } else if t == "response:" {
            in_response = true;
        } else if in_response && t.starts_with("body: '") {
            assert!(t.ends_with('\''), "a multi-line body in {name} at {url}");
            // A single-quoted YAML scalar: strip the quotes and undouble `''`.
            let body = t["body: '".len()..t.len() - 1].replace("''", "'");
            if url.contains("management.azure.com") {
                out.push((url.clone(), body));
            }
            in_response = false;
        }
    }
    out
}

/// The azd response bodies whose URL path ends with `suffix` (query ignored).
fn azd_bodies(name: &str, suffix: &str) -> Vec<String> {
    let found: Vec<String> = azd(name)
        .into_iter()
        .filter(|(u, _)| u.split('?').next().unwrap().ends_with(suffix))
        .map(|(_, b)| b)
        .collect();
    assert!(!found.is_empty(), "{name}: nothing at *{suffix}");
    found
}

#[test]
fn recorded_azd_subscription_scope_session_parses_with_paging() {
    let f = "Test_CLI_ProvisionState.yaml";
    let locations: LocationListResponse = parse(&azd_bodies(f, "/locations")[0]);
    assert!(locations.value.iter().any(|l| l.name == "eastus2"));

    let pages: Vec<DeploymentListResponse> = azd_bodies(f, "/deployments/")
        .iter()
        .map(|b| parse(b))
        .collect();
    assert!(
        pages.iter().any(|p| p.next_link.is_some()),
        "nextLink paging"
    );
    assert!(
        pages
            .iter()
            .flat_map(|p| &p.value)
            .all(|d| !d.name.is_empty())
    );

    let what_if = azd(f)
        .into_iter()
        .find(|(u, b)| u.contains("/operationresults/") && b.contains("\"changes\""))
        .unwrap()
        .1;
    let r = WhatIfResponse::from_result(serde_json::from_str(&what_if).unwrap()).unwrap();
    assert!(
        r.properties
            .changes
            .iter()
            .any(|c| c.change_type == "Create")
    );

    let v: DeploymentValidateResponse = parse(&azd_bodies(f, "/validate")[0]);
    assert!(v.error.is_none());
    assert!(v.properties.template_hash.is_some());

    let got: Vec<Deployment> = azd_bodies(f, "/deployments/azdtest-d8523ca-1775755497")
        .iter()
        .map(|b| parse(b))
        .collect();
    assert!(got.iter().any(
        |d| d.properties.provisioning_state == "Succeeded" && d.properties.outputs.is_object()
    ));

    let tagged: ResourceGroupListResponse = parse(&azd_bodies(f, "/resourcegroups")[0]);
    assert!(tagged.value.iter().all(|g| !g.name.is_empty()));
}

#[test]
fn recorded_azd_resource_group_scope_session_parses() {
    let f = "Test_CLI_Up_ResourceGroupScope.yaml";
    let all = azd(f);
    let rg = all
        .iter()
        .find(|(u, b)| {
            let p = u.split('?').next().unwrap().to_ascii_lowercase();
            p.contains("/resourcegroups/") && !p.contains("/providers/") && b.starts_with("{\"id\"")
        })
        .unwrap();
    let group: ResourceGroup = parse(&rg.1);
    assert!(!group.name.is_empty());
    let deployment = all
        .iter()
        .filter(|(u, _)| {
            let p = u.split('?').next().unwrap();
            p.contains("/deployments/")
                && !p.contains("/operationStatuses/")
                && !p.ends_with("/validate")
        })
        .map(|(_, b)| b)
        .find(|b| b.contains("\"provisioningState\":\"Succeeded\"") && !b.starts_with("{\"value\""))
        .unwrap();
    let d: Deployment = parse(deployment);
    assert!(d.id.to_ascii_lowercase().contains("/resourcegroups/"));
}
