//! The fault matrix (RELIABILITY.md): each cell is a full install of the demo preset on the
//! simulated Azure with one kind of fault injected. Every cell must end Succeeded, or Failed
//! in a way a retry completes; no stage is deployed twice by one run; and at the end the
//! journal and Azure agree: every stage the journal calls succeeded is a succeeded deployment
//! in Azure, and the resource group holds exactly the top-level resources the run reported.
//!
//! `LANDFALL_FAULT_ROUNDS=N` runs every cell N times with different seeds (the long variant;
//! CI runs one round).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use landfall_azure::CancelToken;
use landfall_azure::arm::{Arm, DeploymentScope};
use landfall_engine::deploy::RunResult;
use landfall_engine::events::{DeploymentEvent, Outcome, RunKind};
use landfall_engine::snapshot::{ResourceState, StageState};
use landfall_sim::Scenario;
use landfall_sim::faults::ResourceFault;
use support::{Collect, Env};

fn rounds() -> u64 {
    std::env::var("LANDFALL_FAULT_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
}

/// What one cell saw, for the report.
#[derive(Debug)]
struct CellReport {
    runs: usize,
    requests: usize,
    faulted_responses: usize,
    dropped: usize,
    lost_answers: usize,
    token_requests: usize,
}

/// Top-level resource IDs (one provider segment, a type with one slash), lower case: what a
/// resource group listing shows.
fn top_level(ids: impl IntoIterator<Item = String>) -> BTreeSet<String> {
    ids.into_iter()
        .map(|id| id.to_ascii_lowercase())
        .filter(|id| {
            id.matches("/providers/").count() == 1
                && id
                    .split("/providers/")
                    .nth(1)
                    .is_some_and(|rest| rest.split('/').count() == 3)
        })
        .collect()
}

/// The journal's view of the instance's runs (`run_ids`, the last one succeeded, earlier ones
/// retried by it) and Azure's agree (see the module comment).
async fn assert_journal_and_azure_agree(env: &Env, run_ids: &[&str]) {
    let installer = env.installer();
    let arm = Arm::new(installer.client());
    let snapshots: Vec<_> = run_ids
        .iter()
        .map(|id| installer.snapshot(id).unwrap())
        .collect();
    let snapshot = snapshots.last().unwrap();
    let scope = DeploymentScope::group(
        &snapshot.target.subscription_id,
        &snapshot.target.resource_group,
    );
    for stage in &snapshot.stages {
        assert_eq!(stage.state, StageState::Succeeded, "stage {}", stage.name);
        let d = arm
            .get_deployment(&scope, &stage.deployment_name)
            .await
            .unwrap();
        assert_eq!(
            d.properties.provisioning_state, "Succeeded",
            "Azure's deployment of stage {}",
            stage.name
        );
    }
    let reported = top_level(
        snapshots
            .iter()
            .flat_map(|s| s.stages.iter())
            .flat_map(|s| s.resources.iter())
            .filter(|r| r.state == ResourceState::Succeeded)
            .map(|r| r.resource_id.clone()),
    );
    let in_azure = top_level(
        arm.list_resources_in_group(
            &snapshot.target.subscription_id,
            &snapshot.target.resource_group,
        )
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id),
    );
    assert!(!reported.is_empty());
    assert_eq!(
        reported, in_azure,
        "the run reported exactly what the resource group holds"
    );
}

/// Installs the demo preset under `scenario`; a failed run is retried (once) with a new
/// installer. Checks the invariants and answers what happened.
async fn cell(name: &str, scenario: Scenario, speed: f64, seed: u64) -> CellReport {
    let env = Env::start_seeded(scenario, speed, seed).await;
    let installer = env.installer();
    let prepared = env.prepare(&installer, "demo", &[]);
    let (report, _) = installer.preflight_registering(&prepared).await.unwrap();
    assert!(report.passed(), "{name}: preflight {report:#?}");
    let collect = Collect::default();
    let (run_id, result) = installer
        .install(&prepared, RunKind::Install, &collect, CancelToken::new())
        .await
        .unwrap();
    let mut runs = vec![(run_id, result)];
    if runs[0].1.outcome == Outcome::Failed {
        // A failure must be reported clearly: a failed stage with Azure's error and a fix.
        let failed = &runs[0].1;
        let error = failed
            .error
            .as_ref()
            .expect("a failed run carries its error");
        assert!(!error.message.is_empty(), "{name}: {error:?}");
        let retried = env.installer();
        let (id, result) = retried
            .retry(&runs[0].0, None, &Collect::default(), CancelToken::new())
            .await
            .unwrap();
        runs.push((id, result));
    }
    let (last_id, last): &(String, RunResult) = runs.last().unwrap();
    assert_eq!(last.outcome, Outcome::Succeeded, "{name}: {:?}", last.error);
    // One PUT per stage per run; a retry deploys only what failed.
    let puts = env.deployment_puts();
    let stages = env.bundle.manifest.stages.len();
    assert_eq!(puts.len(), stages, "{name}: {puts:?}");
    let total: usize = puts.values().sum();
    assert!(
        total <= stages * runs.len() && puts.values().all(|n| *n <= runs.len()),
        "{name}: a stage deployed twice in one run: {puts:?}"
    );
    if runs.len() == 1 {
        assert!(puts.values().all(|n| *n == 1), "{name}: {puts:?}");
    }
    // Every event of the first run was published once, in order.
    let seqs: Vec<u64> = collect.all().iter().map(|e| e.seq).collect();
    assert!(
        seqs.windows(2).all(|w| w[1] == w[0] + 1),
        "{name}: {seqs:?}"
    );
    let ids: Vec<&str> = runs.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids.last(), Some(&last_id.as_str()));
    assert_journal_and_azure_agree(&env, &ids).await;
    let requests = env.requests();
    CellReport {
        runs: runs.len(),
        requests: requests.len(),
        faulted_responses: requests.iter().filter(|r| r.2 == 429 || r.2 >= 500).count(),
        dropped: env.dropped(),
        lost_answers: env.lost_answers(),
        token_requests: requests.iter().filter(|r| r.1.contains("/oauth2/")).count(),
    }
}

async fn matrix_cell(name: &str, scenario: Scenario) -> Vec<CellReport> {
    matrix_cell_at(name, scenario, 10.0).await
}

/// As [`matrix_cell`], with the simulator at `speed`.
async fn matrix_cell_at(name: &str, scenario: Scenario, speed: f64) -> Vec<CellReport> {
    let mut out = Vec::new();
    for round in 0..rounds() {
        let report = cell(name, scenario.clone(), speed, 7 + round).await;
        eprintln!(
            "cell {name} round {round}: {} run(s), {} requests, {} answered 429/5xx, {} dropped, {} answers lost, {} tokens fetched",
            report.runs,
            report.requests,
            report.faulted_responses,
            report.dropped,
            report.lost_answers,
            report.token_requests
        );
        out.push(report);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storm_of_429_with_retry_after() {
    let reports = matrix_cell(
        "429 storm",
        Scenario {
            throttle_first_requests: 60,
            ..Scenario::default()
        },
    )
    .await;
    assert!(
        reports.iter().all(|r| r.faulted_responses >= 60),
        "{reports:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn burst_of_5xx() {
    let reports = matrix_cell(
        "5xx burst",
        Scenario {
            fail_first_requests: 12,
            no_throttling: true,
            ..Scenario::default()
        },
    )
    .await;
    assert!(
        reports.iter().all(|r| r.faulted_responses >= 12),
        "{reports:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_connections_and_transient_errors_throughout() {
    let reports = matrix_cell(
        "dropped connections + transient 5xx",
        Scenario {
            drop_rate: 0.05,
            transient_error_rate: 0.05,
            ..Scenario::default()
        },
    )
    .await;
    assert!(
        reports
            .iter()
            .all(|r| r.faulted_responses > 0 && r.dropped > 0),
        "{reports:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_lost_after_azure_acted() {
    // Writes take effect but their answers are lost: a deployment PUT sent again would be
    // refused as DeploymentActive, so the runner reads the deployment back instead.
    let reports = matrix_cell(
        "lost answers to writes",
        Scenario {
            lost_response_rate: 0.3,
            no_throttling: true,
            ..Scenario::default()
        },
    )
    .await;
    assert!(reports.iter().all(|r| r.runs == 1), "{reports:?}");
    assert!(reports.iter().all(|r| r.lost_answers > 0), "{reports:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_connections() {
    matrix_cell(
        "slow responses",
        Scenario {
            slow_rate: 0.15,
            slow_ms: 150,
            ..Scenario::default()
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_expire_mid_run() {
    // Tokens live two simulated minutes, less than the run and less than the five minutes
    // before expiry at which the credential renews them: a new token is fetched all along.
    let reports = matrix_cell(
        "token expiry",
        Scenario {
            token_lifetime_seconds: Some(120),
            ..Scenario::default()
        },
    )
    .await;
    assert!(reports.iter().all(|r| r.runs == 1), "{reports:?}");
    // Besides the first token, new ones were fetched throughout the run.
    assert!(reports.iter().all(|r| r.token_requests > 20), "{reports:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resource_fails_and_a_retry_completes() {
    let reports = matrix_cell(
        "a failing resource",
        Scenario {
            failing_resources: vec![ResourceFault {
                resource_type: "Microsoft.ContainerService/managedClusters".into(),
                after_seconds: 30.0,
                code: "ProvisioningFailed".into(),
                message: "The node pool could not be created.".into(),
                times: 1,
                ..ResourceFault::default()
            }],
            ..Scenario::default()
        },
    )
    .await;
    assert!(reports.iter().all(|r| r.runs == 2), "{reports:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulator_restarts_mid_run_from_its_state_file() {
    for round in 0..rounds() {
        let env = Env::start_with_state(Scenario::default(), 10.0, 11 + round).await;
        let installer = env.installer();
        let prepared = env.prepare(&installer, "demo", &[]);
        installer.preflight_registering(&prepared).await.unwrap();
        // The watcher loses Azure when it goes down; it stops once the data stage runs.
        let stop = CancelToken::new();
        let s = stop.clone();
        let seen = Arc::new(Mutex::new(false));
        let seen2 = seen.clone();
        let sink = move |e: &landfall_engine::EventEnvelope| {
            if matches!(&e.event, DeploymentEvent::StageStarted { stage, .. } if stage == "data") {
                *seen2.lock().unwrap() = true;
                s.cancel();
            }
        };
        let (run_id, first) = installer
            .install(&prepared, RunKind::Install, &sink, stop)
            .await
            .unwrap();
        assert!(*seen.lock().unwrap());
        assert_eq!(first.outcome, Outcome::Detached);
        let puts_before = env.deployment_puts();
        let env = env.restart().await;
        // A new process against the restarted simulator (new address, new certificate).
        let again = env.installer();
        let resumed = again
            .resume(&run_id, &Collect::default(), CancelToken::new())
            .await
            .unwrap();
        assert_eq!(resumed.outcome, Outcome::Succeeded, "{:?}", resumed.error);
        let mut puts = puts_before;
        for (k, n) in env.deployment_puts() {
            *puts.entry(k).or_insert(0) += n;
        }
        assert!(puts.values().all(|n| *n == 1), "{puts:?}");
        assert_eq!(puts.len(), env.bundle.manifest.stages.len(), "{puts:?}");
        assert_journal_and_azure_agree(&env, &[&run_id]).await;
        eprintln!("cell simulator restart round {round}: ok");
    }
}
