//! End-to-end runs of the engine against the simulated Azure: full installs, a failing
//! resource and its retry, a watcher stopped mid-run and resumed, cancel in Azure.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use landfall_azure::CancelToken;
use landfall_engine::events::{DeploymentEvent, Outcome, RunKind};
use landfall_sim::Scenario;
use landfall_sim::faults::{QuotaOverride, ResourceFault};
use support::{Collect, Env};

fn assert_seq_strictly_increasing(events: &[landfall_engine::EventEnvelope]) {
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.seq, i as u64 + 1, "{:?}", e.event.name());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_preset_installs_and_each_stage_is_deployed_once() {
    // The large preset needs more than the default 100 regional vCPUs (preflight says so).
    let quota = |name: &str| QuotaOverride {
        location: "eastus".into(),
        name: name.into(),
        limit: 400,
        current_value: 0,
    };
    for preset in ["demo", "small", "medium", "large"] {
        let scenario = Scenario {
            no_throttling: true,
            quotas: vec![quota("standardDSv5Family"), quota("cores")],
            ..Scenario::default()
        };
        let env = Env::start(scenario, 10.0).await;
        let installer = env.installer();
        let prepared = env.prepare(&installer, preset, &[]);
        let (report, registered) = installer.preflight_registering(&prepared).await.unwrap();
        assert!(report.passed(), "{preset}: {report:#?}");
        assert!(
            !registered.is_empty(),
            "a fresh subscription has providers to register"
        );
        let sink = Collect::default();
        let (run_id, result) = installer
            .install(&prepared, RunKind::Install, &sink, CancelToken::new())
            .await
            .unwrap();
        assert_eq!(
            result.outcome,
            Outcome::Succeeded,
            "{preset}: {:?}",
            result.error
        );
        let events = sink.all();
        assert_seq_strictly_increasing(&events);
        assert_eq!(events.first().unwrap().event.name(), "runStarted");
        assert_eq!(events.last().unwrap().event.name(), "runFinished");
        // Every planned resource reported started and succeeded.
        let planned = prepared.plan.resource_count();
        let succeeded = sink
            .names()
            .iter()
            .filter(|n| **n == "resourceSucceeded")
            .count();
        assert!(succeeded >= planned, "{preset}: {succeeded} of {planned}");
        let puts = env.deployment_puts();
        assert_eq!(puts.len(), prepared.plan.stages.len(), "{puts:?}");
        assert!(puts.values().all(|n| *n == 1), "{puts:?}");
        // Outputs: the instance URL is there.
        assert!(
            result.outputs["instanceUrl"]
                .as_str()
                .unwrap()
                .starts_with("https://"),
            "{}",
            result.outputs
        );
        // The journal rebuilds the same end state.
        let snapshot = installer.snapshot(&run_id).unwrap();
        assert!(snapshot.is_finished());
        assert_eq!(snapshot.last_seq, events.len() as u64);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_resource_is_reported_at_once_and_a_retry_completes() {
    let scenario = Scenario {
        no_throttling: true,
        failing_resources: vec![ResourceFault {
            resource_type: "Microsoft.ContainerRegistry/registries".into(),
            after_seconds: 5.0,
            code: "RegistryQuotaExceeded".into(),
            message: "The registry quota of the subscription is reached.".into(),
            times: 1,
            ..ResourceFault::default()
        }],
        ..Scenario::default()
    };
    let env = Env::start(scenario, 10.0).await;
    let installer = env.installer();
    let prepared = env.prepare(&installer, "demo", &[]);
    let sink = Collect::default();
    let (run_id, result) = installer
        .install(&prepared, RunKind::Install, &sink, CancelToken::new())
        .await
        .unwrap();
    assert_eq!(result.outcome, Outcome::Failed);
    let events = sink.all();
    let failed_at = events
        .iter()
        .position(|e| matches!(&e.event, DeploymentEvent::ResourceFailed { resource_type, .. } if resource_type == "Microsoft.ContainerRegistry/registries"))
        .expect("resourceFailed");
    let stage_failed_at = events
        .iter()
        .position(|e| matches!(&e.event, DeploymentEvent::StageFailed { stage, .. } if stage == "compute"))
        .expect("stageFailed");
    assert!(failed_at < stage_failed_at);
    // Reported when the operation failed, not when the stage ended.
    let (t_res, t_stage) = match (&events[failed_at].event, &events[stage_failed_at].event) {
        (
            DeploymentEvent::ResourceFailed { at: a, .. },
            DeploymentEvent::StageFailed { at: b, .. },
        ) => (*a, *b),
        _ => unreachable!(),
    };
    assert!(t_res < t_stage, "{t_res} vs {t_stage}");
    match &events[failed_at].event {
        DeploymentEvent::ResourceFailed { error, .. } => {
            assert!(error.message.contains("registry quota"), "{error:?}");
        }
        _ => unreachable!(),
    }
    let before = env.deployment_puts();
    let retry_sink = Collect::default();
    let (_retry_id, retried) = installer
        .retry(&run_id, None, &retry_sink, CancelToken::new())
        .await
        .unwrap();
    assert_eq!(retried.outcome, Outcome::Succeeded, "{:?}", retried.error);
    let after = env.deployment_puts();
    // Stages that had succeeded were not deployed again; compute (and what waited for it) was.
    for (name, n) in &before {
        let again = after[name] - n;
        if name.ends_with("-network")
            || name.ends_with("-monitoring")
            || name.ends_with("-secrets")
            || name.ends_with("-data")
        {
            assert_eq!(again, 0, "{name} deployed again");
        }
    }
    assert_eq!(
        after
            .iter()
            .find(|(k, _)| k.ends_with("-compute"))
            .unwrap()
            .1,
        &2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_watcher_resumes_without_deploying_anything_twice() {
    let env = Env::start(
        Scenario {
            no_throttling: true,
            ..Scenario::default()
        },
        10.0,
    )
    .await;
    let installer = env.installer();
    let prepared = env.prepare(&installer, "demo", &[]);
    let stop = CancelToken::new();
    let s = stop.clone();
    let sink = move |e: &landfall_engine::EventEnvelope| {
        // Stop watching once the data stage is running (network and secrets done).
        if matches!(&e.event, DeploymentEvent::StageStarted { stage, .. } if stage == "data") {
            s.cancel();
        }
    };
    let (run_id, first) = installer
        .install(&prepared, RunKind::Install, &sink, stop)
        .await
        .unwrap();
    assert_eq!(first.outcome, Outcome::Detached);
    // A new process: new client, same journal.
    let again = env.installer();
    let collect = Collect::default();
    let resumed = again
        .resume(&run_id, &collect, CancelToken::new())
        .await
        .unwrap();
    assert_eq!(resumed.outcome, Outcome::Succeeded, "{:?}", resumed.error);
    let puts = env.deployment_puts();
    assert!(puts.values().all(|n| *n == 1), "{puts:?}");
    let names = collect.names();
    assert!(names.contains(&"notice"));
    let events = again.journal().events(&run_id, 0).unwrap();
    assert_seq_strictly_increasing(&events);
    assert!(matches!(
        &events.last().unwrap().event,
        DeploymentEvent::RunFinished {
            outcome: Outcome::Succeeded,
            ..
        }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_in_azure_ends_the_run_canceled() {
    let env = Env::start(
        Scenario {
            no_throttling: true,
            ..Scenario::default()
        },
        1.0,
    )
    .await;
    let installer = env.installer();
    let prepared = env.prepare(&installer, "demo", &[]);
    let stop = CancelToken::new();
    let s = stop.clone();
    let sink = move |e: &landfall_engine::EventEnvelope| {
        if matches!(&e.event, DeploymentEvent::StageStarted { stage, .. } if stage == "compute") {
            s.cancel();
        }
    };
    let (run_id, first) = installer
        .install(&prepared, RunKind::Install, &sink, stop)
        .await
        .unwrap();
    assert_eq!(first.outcome, Outcome::Detached);
    let cancelled = installer.cancel_in_azure(&run_id).await.unwrap();
    assert!(cancelled.contains(&"compute".to_owned()), "{cancelled:?}");
    let collect = Collect::default();
    let end = installer
        .resume(&run_id, &collect, CancelToken::new())
        .await
        .unwrap();
    assert_ne!(end.outcome, Outcome::Succeeded);
    assert!(
        collect.names().contains(&"stageCanceled"),
        "{:?}",
        collect.names()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_shows_what_if_per_stage_then_applies() {
    let env = Env::start(
        Scenario {
            no_throttling: true,
            ..Scenario::default()
        },
        10.0,
    )
    .await;
    let installer = env.installer();
    let prepared = env.prepare(&installer, "demo", &[]);
    installer.preflight_registering(&prepared).await.unwrap();
    let (_, first) = installer
        .install(
            &prepared,
            RunKind::Install,
            &Collect::default(),
            CancelToken::new(),
        )
        .await
        .unwrap();
    assert_eq!(first.outcome, Outcome::Succeeded);
    let update = installer
        .prepare_update("lftest", None, None, &["userNodeMax=4".into()])
        .unwrap();
    assert_eq!(update.inputs.value("userNodeMax").unwrap(), 4);
    // Everything else kept, the password included.
    assert_eq!(
        update.inputs.value("mysqlSku"),
        prepared.inputs.value("mysqlSku")
    );
    assert_eq!(
        update.inputs.value("mysqlAdminPassword"),
        prepared.inputs.value("mysqlAdminPassword")
    );
    let what_if = installer.what_if(&update).await.unwrap();
    assert_eq!(what_if.len(), prepared.plan.stages.len());
    assert!(what_if.iter().all(|w| w.error.is_none()), "{what_if:#?}");
    let compute = what_if.iter().find(|w| w.stage == "compute").unwrap();
    assert!(
        compute.groups.iter().any(|g| g.change_type == "Modify"
            && g.resources
                .iter()
                .any(|r| r.resource_type.ends_with("managedClusters"))),
        "{compute:#?}"
    );
    let (_, applied) = installer
        .install(
            &update,
            RunKind::Update,
            &Collect::default(),
            CancelToken::new(),
        )
        .await
        .unwrap();
    assert_eq!(applied.outcome, Outcome::Succeeded, "{:?}", applied.error);
    assert!(env.deployment_puts().values().all(|n| *n == 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_and_transient_errors_throughout_do_not_fail_the_run() {
    let scenario = Scenario {
        throttle_first_requests: 15,
        fail_first_requests: 5,
        transient_error_rate: 0.05,
        drop_rate: 0.02,
        ..Scenario::default()
    };
    let env = Env::start(scenario, 10.0).await;
    let installer = env.installer();
    let prepared = env.prepare(&installer, "demo", &[]);
    let (report, _) = installer.preflight_registering(&prepared).await.unwrap();
    // Checks that could not run through the faults are warnings, never silent passes.
    assert!(report.passed(), "{report:#?}");
    let (_, result) = installer
        .install(
            &prepared,
            RunKind::Install,
            &Collect::default(),
            CancelToken::new(),
        )
        .await
        .unwrap();
    assert_eq!(result.outcome, Outcome::Succeeded, "{:?}", result.error);
    let statuses: Vec<u16> = env.requests().iter().map(|r| r.2).collect();
    assert!(
        statuses.contains(&429) && statuses.iter().any(|s| *s >= 500),
        "faults were injected"
    );
    assert!(env.deployment_puts().values().all(|n| *n >= 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_preflight_failure_is_caught_before_any_write() {
    use landfall_sim::faults::SkuRestriction;
    let cases: Vec<(&str, Scenario)> = vec![
        (
            "quota",
            Scenario {
                quotas: vec![QuotaOverride {
                    location: "eastus".into(),
                    name: "standardDSv5Family".into(),
                    limit: 4,
                    current_value: 2,
                }],
                ..Scenario::default()
            },
        ),
        (
            "vmSizes",
            Scenario {
                unavailable_skus: vec![SkuRestriction {
                    location: "eastus".into(),
                    sku: "Standard_D2s_v5".into(),
                    zones: vec![],
                }],
                ..Scenario::default()
            },
        ),
        (
            "name:lftestdata",
            Scenario {
                taken_names: vec!["lftestdata".into()],
                ..Scenario::default()
            },
        ),
    ];
    for (check_id, scenario) in cases {
        let env = Env::start(
            Scenario {
                no_throttling: true,
                ..scenario
            },
            10.0,
        )
        .await;
        let installer = env.installer();
        let prepared = env.prepare(&installer, "demo", &[]);
        let report = installer.preflight(&prepared).await;
        assert!(!report.passed(), "{check_id}");
        let failing: Vec<&str> = report.failures().map(|c| c.id.as_str()).collect();
        assert!(failing.contains(&check_id), "{check_id}: {failing:?}");
        assert!(
            report.failures().all(|c| c.fix.is_some()),
            "every failure comes with a fix"
        );
        // Preflight only read: no PUT, DELETE or PATCH reached Azure, no run was recorded.
        let writes: Vec<_> = env
            .requests()
            .into_iter()
            .filter(|(m, _, _)| m == "PUT" || m == "DELETE" || m == "PATCH")
            .collect();
        assert!(writes.is_empty(), "{check_id}: {writes:?}");
        assert!(installer.journal().runs(None).unwrap().is_empty());
    }
}
