//! The ARM error model against real material: every error body and status message in the
//! recorded ARM sessions and the spec examples parses; the wire form is pinned; remediations
//! name what to do; no token or secret shows in `Debug` or `Display`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

use common::{Reply, TOKEN, reply, setup};
use landfall_azure::{
    ArmClientOptions, ArmErrorDetail, Error, ErrorCode, FailedOperation, Method,
    StaticTokenCredential,
};
use serde_json::{Value as Json, json};

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/azure"
);

fn fixture(rel: &str) -> PathBuf {
    Path::new(FIXTURES).join(rel)
}

fn read_json(path: &Path) -> Json {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// Every `(status, body)` of a java-fluent-sdk recording, bodies parsed when they are JSON.
fn java_responses(name: &str) -> Vec<(u16, String, Option<Json>)> {
    let doc = read_json(&fixture(&format!("recordings/java-fluent-sdk/{name}")));
    doc["networkCallRecords"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let status: u16 = r["Response"]["StatusCode"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap();
            let body = r["Response"]["Body"].as_str().unwrap_or("").to_owned();
            let parsed = serde_json::from_str(&body).ok();
            (status, body, parsed)
        })
        .collect()
}

/// Every object under an `error` key and every `statusMessage` in a JSON tree.
fn collect(v: &Json, errors: &mut Vec<Json>, messages: &mut Vec<Json>) {
    match v {
        Json::Object(m) => {
            for (k, x) in m {
                if k == "error" && !x.is_null() {
                    errors.push(json!({ "error": x }));
                }
                if k == "statusMessage" {
                    messages.push(x.clone());
                }
                collect(x, errors, messages);
            }
        }
        Json::Array(a) => a.iter().for_each(|x| collect(x, errors, messages)),
        _ => {}
    }
}

#[test]
fn every_error_in_the_recorded_arm_sessions_parses() {
    let dir = fixture("recordings/java-fluent-sdk");
    let mut errors = Vec::new();
    let mut messages = Vec::new();
    let mut error_statuses = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        for (status, body, parsed) in java_responses(&name) {
            if status >= 400 {
                error_statuses += 1;
                // The recorded error statuses are HEAD 404s: no body, so no tree, and the
                // status alone classifies them.
                assert_eq!(ArmErrorDetail::from_body(body.as_bytes()), None, "{name}");
            }
            if let Some(p) = parsed {
                collect(&p, &mut errors, &mut messages);
            }
        }
    }
    assert!(error_statuses >= 2);
    assert!(errors.len() >= 20, "found {} error trees", errors.len());
    for e in &errors {
        let d = ArmErrorDetail::from_json(e).unwrap_or_else(|| panic!("{e}"));
        assert!(!d.code.is_empty() && !d.message.is_empty(), "{e}");
        for n in d.iter() {
            assert!(!n.code.is_empty(), "every node has a code: {e}");
        }
        // Round trip through the wire form loses nothing.
        let back: ArmErrorDetail =
            serde_json::from_value(serde_json::to_value(&d).unwrap()).unwrap();
        assert_eq!(back, d);
    }
    let failed: Vec<_> = messages
        .iter()
        .filter_map(ArmErrorDetail::from_status_message)
        .collect();
    assert!(!failed.is_empty());
    assert!(failed.iter().all(|d| d.code == "InvalidParameter"));
}

#[test]
fn a_failed_recorded_deployment_and_its_failing_operation() {
    let responses =
        java_responses("samples_testDeployUsingARMTemplateWithDeploymentOperations.json");
    let deployment = responses[33].2.clone().unwrap();
    assert_eq!(deployment["properties"]["provisioningState"], "Failed");
    let d = ArmErrorDetail::from_json(&deployment["properties"]["error"]).unwrap();
    assert_eq!(d.code, "DeploymentFailed");
    assert_eq!(d.details.len(), 1);
    assert_eq!(
        d.summary(),
        "InvalidParameter: The value of parameter linuxConfiguration.ssh.publicKeys.keyData is invalid."
    );
    let err = Error::OperationFailed {
        url: "https://management.azure.com/...".into(),
        status: "Failed".into(),
        detail: Some(Box::new(d)),
    };
    assert_eq!(err.code(), ErrorCode::DeploymentFailed);

    let operations = responses[35].2.clone().unwrap();
    let failed = FailedOperation::all_in(&operations);
    assert_eq!(failed.len(), 1);
    let op = &failed[0];
    assert_eq!(op.operation_id, "59D07E9228B7D02E");
    assert_eq!(op.status_code.as_deref(), Some("BadRequest"));
    assert_eq!(
        op.resource_type.as_deref(),
        Some("Microsoft.Compute/virtualMachines")
    );
    assert_eq!(op.resource_name.as_deref(), Some("fluenttest-vm"));
    assert_eq!(op.error.code, "InvalidParameter");
    assert_eq!(
        op.error.target.as_deref(),
        Some("linuxConfiguration.ssh.publicKeys.keyData")
    );
}

#[test]
fn recorded_deployment_lists_yield_their_root_causes() {
    let mut causes = Vec::new();
    for (_, _, parsed) in java_responses("azure_testDeployments.json") {
        let Some(p) = parsed else { continue };
        let mut errors = Vec::new();
        collect(&p, &mut errors, &mut Vec::new());
        for e in errors {
            let d = ArmErrorDetail::from_json(&e).unwrap();
            causes.extend(d.root_causes().into_iter().map(|c| c.code.clone()));
        }
    }
    for code in [
        "SecurityRuleConflict",
        "OverlappingSubnetsNotPermittedInSecurityRule",
        "AllocationFailed",
        "InternalExecutionError",
        "ResourceNotFound",
    ] {
        assert!(causes.iter().any(|c| c == code), "{code} in {causes:?}");
    }
}

#[test]
fn validate_400_from_the_spec_unfolds_three_levels() {
    let example = read_json(&fixture(
        "specs/examples/deployments-2025-04-01_PostDeploymentValidateOnResourceGroup.json",
    ));
    let body = serde_json::to_vec(&example["responses"]["400"]["body"]).unwrap();
    let d = ArmErrorDetail::from_body(&body).unwrap();
    assert_eq!(d.code, "InvalidTemplateDeployment");
    assert_eq!(d.details[0].code, "PreflightValidationCheckFailed");
    let leaf = &d.details[0].details[0];
    assert_eq!(leaf.code, "AccountNameInvalid");
    assert_eq!(leaf.target.as_deref(), Some("a"));
    assert_eq!(d.root_causes(), vec![leaf]);
    let err = Error::Http {
        method: Method::Post,
        url: "https://management.azure.com/.../validate?api-version=2025-04-01".into(),
        status: 400,
        detail: Some(Box::new(d)),
        request_id: Some("dccf336d-c3ee-4057-a902-9efc0e023cd0".into()),
        correlation_id: Some("dccf336d-c3ee-4057-a902-9efc0e023cd0".into()),
    };
    assert_eq!(err.code(), ErrorCode::InvalidTemplate);
    assert!(
        err.report()
            .message
            .starts_with("AccountNameInvalid: a is not a valid")
    );
}

#[test]
fn the_failed_quota_request_example_parses() {
    let example = read_json(&fixture(
        "specs/examples/quota-2023-02-01_getQuotaRequestStatusFailed.json",
    ));
    let d = ArmErrorDetail::from_json(&example["responses"]["200"]["body"]["properties"]["error"])
        .unwrap();
    assert_eq!(d.code, "ContactSupport");
    assert_eq!(d.message, "Request failed, please contact support.");
}

#[test]
fn every_error_code_has_a_pinned_wire_name() {
    let all = [
        ErrorCode::Unauthorized,
        ErrorCode::Forbidden,
        ErrorCode::PolicyDenied,
        ErrorCode::NotFound,
        ErrorCode::Conflict,
        ErrorCode::Throttled,
        ErrorCode::QuotaExceeded,
        ErrorCode::InvalidTemplate,
        ErrorCode::InvalidRequest,
        ErrorCode::DeploymentFailed,
        ErrorCode::OperationFailed,
        ErrorCode::ServiceUnavailable,
        ErrorCode::Network,
        ErrorCode::Timeout,
        ErrorCode::Canceled,
        ErrorCode::InvalidConfiguration,
        ErrorCode::Unknown,
    ];
    assert_eq!(
        serde_json::to_value(all).unwrap(),
        json!([
            "Unauthorized",
            "Forbidden",
            "PolicyDenied",
            "NotFound",
            "Conflict",
            "Throttled",
            "QuotaExceeded",
            "InvalidTemplate",
            "InvalidRequest",
            "DeploymentFailed",
            "OperationFailed",
            "ServiceUnavailable",
            "Network",
            "Timeout",
            "Canceled",
            "InvalidConfiguration",
            "Unknown"
        ])
    );
}

/// The AKS preflight quota error as Azure words it (reproduced by landfall-sim).
fn quota_error() -> Error {
    let message = "Preflight validation check for resource(s) for container service aks1 in resource group rg failed. Message: Operation could not be completed as it results in exceeding approved standardDSv3Family Cores quota. Additional details - Deployment Model: Resource Manager, Location: eastus, Current Limit: 10, Current Usage: 8, Additional Required: 8, (Minimum) New Limit Required: 16. Submit a request for Quota increase at https://aka.ms/ProdportalCRP/#blade/Microsoft_Azure_Capacity/UsageAndQuota.ReactView/Parameters/x by specifying parameters listed in the \u{2018}Details\u{2019} section for deployment to succeed. Please read more about quota limits at https://docs.microsoft.com/en-us/azure/azure-supportability/per-vm-quota-requests";
    let body = json!({"error": {"code": "InvalidTemplateDeployment",
        "message": "The template deployment 'd1' is not valid according to the validation procedure.",
        "details": [{"code": "QuotaExceeded", "target": "aks1", "message": message}]}});
    Error::Http {
        method: Method::Put,
        url: "https://management.azure.com/subscriptions/s1/resourcegroups/rg/providers/Microsoft.Resources/deployments/d1?api-version=2024-03-01".into(),
        status: 400,
        detail: ArmErrorDetail::from_json(&body).map(Box::new),
        request_id: Some("req-1".into()),
        correlation_id: Some("corr-1".into()),
    }
}

#[test]
fn the_wire_form_of_a_quota_error_is_pinned() {
    let report = quota_error().report();
    let wire = serde_json::to_value(&report).unwrap();
    let message = wire["details"]["details"][0]["message"].clone();
    assert_eq!(
        wire,
        json!({
            "code": "QuotaExceeded",
            "message": format!("QuotaExceeded: {}", message.as_str().unwrap()),
            "details": {
                "code": "InvalidTemplateDeployment",
                "message": "The template deployment 'd1' is not valid according to the validation procedure.",
                "details": [{"code": "QuotaExceeded", "target": "aks1", "message": message}]
            },
            "remediation": {
                "message": "Request an increase of the standardDSv3Family quota in eastus to at least 16 (limit 10, in use 8, this deployment needs 8 more), or choose a smaller size or another region.",
                "link": "https://aka.ms/ProdportalCRP/#blade/Microsoft_Azure_Capacity/UsageAndQuota.ReactView/Parameters/x",
                "quota": {
                    "quota": "standardDSv3Family",
                    "location": "eastus",
                    "limit": 10,
                    "currentUsage": 8,
                    "additionalRequired": 8,
                    "newLimitRequired": 16
                }
            },
            "correlationId": "corr-1"
        })
    );
    let back: landfall_azure::ErrorReport = serde_json::from_value(wire).unwrap();
    assert_eq!(back, report);
}

#[test]
fn the_wire_form_of_a_network_error_is_pinned() {
    let err = Error::Timeout {
        url: "https://management.azure.com/x".into(),
        waited: std::time::Duration::from_secs(10800),
        last_status: "Running".into(),
    };
    assert_eq!(
        serde_json::to_value(err.report()).unwrap(),
        json!({"code": "Timeout",
            "message": "gave up waiting for https://management.azure.com/x after 10800s (last status Running)"})
    );
}

#[test]
fn policy_denials_name_the_assignment_to_ask_about() {
    let body = json!({"error": {"code": "InvalidTemplateDeployment", "message": "x", "details": [{
        "code": "RequestDisallowedByPolicy", "target": "st1",
        "message": "Resource 'st1' was disallowed by policy.",
        "additionalInfo": [{"type": "PolicyViolation", "info": {
            "policyAssignmentDisplayName": "Allowed resource types",
            "policyAssignmentScope": "/subscriptions/s1",
            "policyDefinitionEffect": "deny"}}]}]}});
    let err = Error::Http {
        method: Method::Put,
        url: "u".into(),
        status: 400,
        detail: ArmErrorDetail::from_json(&body).map(Box::new),
        request_id: None,
        correlation_id: None,
    };
    assert_eq!(err.code(), ErrorCode::PolicyDenied);
    let r = err.remediation().unwrap();
    assert!(
        r.message
            .contains("'Allowed resource types' (scope /subscriptions/s1)"),
        "{}",
        r.message
    );
    assert!(r.message.contains("policy owner"));
    let info = &err.detail().unwrap().details[0].additional_info[0];
    assert_eq!(info.kind, "PolicyViolation");
    assert_eq!(info.info["policyDefinitionEffect"], "deny");
}

#[test]
fn forbidden_names_the_action_and_scope_and_unauthorized_says_sign_in() {
    let body = json!({"error": {"code": "AuthorizationFailed", "message": "The client 'a@b.c' with object id '1' does not have authorization to perform action 'Microsoft.Resources/deployments/write' over scope '/subscriptions/s1/resourcegroups/rg' or the scope is invalid."}});
    let forbidden = Error::Http {
        method: Method::Put,
        url: "u".into(),
        status: 403,
        detail: ArmErrorDetail::from_json(&body).map(Box::new),
        request_id: None,
        correlation_id: None,
    };
    assert_eq!(forbidden.code(), ErrorCode::Forbidden);
    let m = forbidden.remediation().unwrap().message;
    assert!(
        m.contains(
            "'Microsoft.Resources/deployments/write' on '/subscriptions/s1/resourcegroups/rg'"
        ),
        "{m}"
    );
    let unauthorized = Error::Http {
        method: Method::Get,
        url: "u".into(),
        status: 401,
        detail: None,
        request_id: None,
        correlation_id: None,
    };
    assert_eq!(unauthorized.code(), ErrorCode::Unauthorized);
    assert!(
        unauthorized
            .remediation()
            .unwrap()
            .message
            .contains("Sign in again")
    );
}

#[tokio::test]
async fn no_token_shows_in_debug_or_display() {
    let credential = StaticTokenCredential::new(TOKEN, time::OffsetDateTime::now_utc());
    assert!(!format!("{credential:?}").contains(TOKEN));
    assert!(!format!("{:?}", ArmClientOptions::default()).contains(TOKEN));

    let (client, _, _) = setup(vec![
        reply(
            401,
            &[(
                "www-authenticate",
                "Bearer authorization_uri=\"https://login/x\", error=\"invalid_token\"",
            )],
            json!({"error": {"code": "ExpiredAuthenticationToken", "message": "The access token expiry UTC time is earlier than current UTC time."}}),
        ),
        Reply::Drop,
        reply(
            500,
            &[],
            json!({"error": {"code": "InternalServerError", "message": "boom"}}),
        ),
        reply(200, &[], json!({"keys": [{"value": "STORAGE-KEY"}]})),
    ]);
    assert!(!format!("{client:?}").contains(TOKEN));
    let e1 = client
        .get("/subscriptions", "2022-12-01")
        .await
        .unwrap_err();
    assert_eq!(e1.code(), ErrorCode::Unauthorized);
    let e2 = client
        .post("/subscriptions/s1/x/listKeys", "2023-01-01", None)
        .await
        .unwrap_err();
    assert_eq!(e2.code(), ErrorCode::Network);
    let e3 = client
        .post("/subscriptions/s1/x/listKeys", "2023-01-01", None)
        .await
        .unwrap_err();
    let ok = client
        .post("/subscriptions/s1/x/listKeys", "2023-01-01", None)
        .await
        .unwrap();
    assert!(
        !format!("{ok:?}").contains("STORAGE-KEY"),
        "response bodies stay out of Debug"
    );
    for e in [&e1, &e2, &e3] {
        for text in [
            format!("{e:?}"),
            format!("{e}"),
            serde_json::to_string(&e.report()).unwrap(),
        ] {
            assert!(!text.contains(TOKEN), "{text}");
            assert!(!text.contains("SECRET"), "{text}");
        }
    }
}

#[test]
fn request_bodies_and_mismatched_values_stay_out_of_debug_and_errors() {
    let url = url::Url::parse("https://m/x?api-version=1").unwrap();
    let request = landfall_azure::ArmRequest::new(Method::Put, url)
        .json(json!({"properties": {"parameters": {"adminPassword": {"value": "P@ss-SECRET"}}}}));
    assert!(!format!("{request:?}").contains("SECRET"));
    let response =
        landfall_azure::ArmResponse::new(200, vec![], br#"{"key": "KEY-SECRET"}"#.to_vec());
    let err = response.json::<Vec<u32>>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot read an HTTP 200 response body: unexpected shape at line 1, column 0"
    );
    let err = landfall_azure::ArmResponse::new(200, vec![], br#"{"key": "KEY-SECRET""#.to_vec())
        .json::<Json>()
        .unwrap_err();
    assert!(!format!("{err:?}").contains("SECRET"), "{err:?}");
}

#[test]
fn urls_in_errors_lose_their_query_but_the_api_version() {
    let err = Error::Http {
        method: Method::Get,
        url: landfall_azure::transport::display_url(
            &url::Url::parse("https://m/ops/1?api-version=2024-03-01&sig=abc").unwrap(),
        ),
        status: 500,
        detail: None,
        request_id: None,
        correlation_id: None,
    };
    assert_eq!(
        err.to_string(),
        "GET https://m/ops/1?api-version=2024-03-01 failed with HTTP 500"
    );
}
