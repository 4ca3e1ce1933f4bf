//! Conformance with a real Azure client written by others: Microsoft's Python SDK
//! (`azure-identity`, `azure-mgmt-resource`, `azure-mgmt-resource-deployments`, pinned in
//! `conformance/requirements.txt`) drives the simulator through `conformance/run.py`: a
//! client-secret sign-in against the simulator's authority, a resource group, a deployment
//! through the SDK's poller, its operations, a what-if, and the group's deletion through its
//! poller.
//!
//! The packages live in `target/conformance-venv`, made by `scripts/conformance-setup` (which
//! `scripts/test` runs first); without it this test fails and says so.

// In tests a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use landfall_sim::{Sim, SimOptions};
use serde_json::Value as Json;

fn repo() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_azure_python_sdk_deploys_with_pollers_lists_operations_runs_what_if_and_deletes() {
    let python = repo().join("target/conformance-venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run `scripts/conformance-setup` (it creates the venv with the pinned \
         Azure SDK packages from conformance/requirements.txt, about a minute)",
        python.display()
    );
    let dir = std::env::temp_dir().join(format!("landfall-conformance-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("ca.pem");
    // Speed 1000 so the deployment takes milliseconds; port 0 lets the OS pick a free port.
    let mut options = SimOptions {
        ca_out: Some(ca.clone()),
        speed: 1000.0,
        ..SimOptions::default()
    };
    options.scenario.no_throttling = true;
    let sim = Sim::start(options).await.unwrap();
    let announcement = sim.announcement(Some(&ca));

    let run = tokio::process::Command::new(&python)
        .arg(repo().join("conformance/run.py"))
        .arg("--sim")
        .arg(announcement.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(180), run)
        .await
        .expect("the conformance run finishes within 3 minutes")
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "conformance/run.py failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    let summary: Json = serde_json::from_str(&stdout).unwrap();
    assert_eq!(summary["ok"], true);
    assert_eq!(summary["deployment"]["provisioningState"], "Succeeded");
    assert_eq!(
        summary["operations"]["count"], 4,
        "3 resources and the outputs"
    );
    assert!(summary["whatIf"]["changeTypes"]["Modify"].as_u64().unwrap() >= 1);
    assert_eq!(summary["deleted"], true);

    // What the SDK did, as the simulator saw it: the real protocol, not a shortcut.
    let log = sim.sim.requests.lock().unwrap().clone();
    let saw = |method: &str, path_part: &str, status: u16| {
        log.iter().any(|r| {
            r.method == method
                && r.status == status
                && r.path
                    .to_ascii_lowercase()
                    .contains(&path_part.to_ascii_lowercase())
        })
    };
    assert!(saw("POST", "/oauth2/v2.0/token", 200), "client credentials");
    assert!(saw("PUT", "/resourcegroups/rg-conformance", 201));
    assert!(saw("PUT", "/deployments/conformance-deploy", 201));
    assert!(
        saw("GET", "/operationStatuses/", 200),
        "the poller followed Azure-AsyncOperation"
    );
    assert!(saw(
        "GET",
        "/deployments/conformance-deploy/operations",
        200
    ));
    assert!(saw("POST", "/whatIf", 202));
    assert!(saw("DELETE", "/resourcegroups/rg-conformance", 202));
    assert!(
        saw("GET", "/operationresults/", 200),
        "the delete poller followed Location"
    );
    assert!(
        log.iter().all(|r| r.status < 500),
        "no server error: {log:?}"
    );
    sim.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}
