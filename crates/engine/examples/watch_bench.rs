//! Measures one install of the bundled instance on the simulated Azure, in real time:
//! wall time against the critical path of the simulated resource durations, ARM requests
//! and reads per minute while watching, and the delay from a resource changing state in the
//! simulator to its event.
//!
//! `cargo run --release -p landfall-engine --example watch_bench -- [SPEED] [PRESET] [--parallel-only]`
//! (defaults 20 and demo): once with the stages in parallel as the stage graph allows, once one
//! after another as the shell scripts did. Figures go to BENCHMARKS.md.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use landfall_azure::auth::{MemoryStore, client_secret_credential};
use landfall_azure::{ArmClient, ArmClientOptions, CancelToken, Cloud, Secret, TrustedCa};
use landfall_engine::bundle::Bundle;
use landfall_engine::deploy::RunnerOptions;
use landfall_engine::deploy::schedule::{Node, StageProgress, critical_path_by, eta_secs};
use landfall_engine::events::{DeploymentEvent, RunKind};
use landfall_engine::inputs::resolve;
use landfall_engine::installer::Installer;
use landfall_engine::journal::Journal;
use landfall_engine::{EventEnvelope, Target};
use landfall_sim::{Scenario, Sim, SimOptions};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let speed: f64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(20.0);
    let preset = args.get(2).cloned().unwrap_or_else(|| "demo".into());
    let parallel = measure(speed, &preset, 0).await;
    if args.get(3).is_some_and(|a| a == "--parallel-only") {
        return;
    }
    let sequential = measure(speed, &preset, 1).await;
    println!(
        "stages in parallel took {:.3} of the time of stages one after another ({parallel:.1}s vs {sequential:.1}s)",
        parallel / sequential
    );
}

/// One install; prints its figures and answers its wall time.
async fn measure(speed: f64, preset: &str, max_parallel_stages: usize) -> f64 {
    let preset = preset.to_owned();
    let sim = Sim::start(SimOptions {
        speed,
        scenario: Scenario::default(),
        ..SimOptions::default()
    })
    .await
    .unwrap();
    let ca = TrustedCa::from_pem(&sim.ca_pem).unwrap().exclusive();
    let http = landfall_azure::tls::http_client(Some(&ca)).unwrap();
    let cloud = Cloud::discover(&url::Url::parse(&sim.base_url).unwrap(), &http)
        .await
        .unwrap();
    let id = sim.sim.options.identity.clone();
    let cred = client_secret_credential(
        &cloud,
        &id.tenant_id,
        &id.client_id,
        Secret::new(id.client_secret.clone()),
        http,
    )
    .unwrap();
    let client = ArmClient::for_cloud(
        &cloud,
        cred,
        Some(ArmClientOptions {
            trusted_ca: Some(ca),
            ..ArmClientOptions::default()
        }),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let journal = Journal::open(dir.path().join("j.sqlite")).unwrap();
    let poll = Duration::from_secs_f64((2.0 / speed).clamp(0.1, 2.0));
    let installer = Installer::new(
        Arc::new(client),
        Arc::new(journal),
        Arc::new(Bundle::builtin().unwrap()),
        Arc::new(MemoryStore::new()),
    )
    .runner_options(RunnerOptions {
        poll_interval: poll,
        max_parallel_stages,
        ..RunnerOptions::default()
    })
    .duration_scale(1.0 / speed);
    let target = Target {
        subscription_id: id.subscription_id.clone(),
        tenant_id: id.tenant_id.clone(),
        resource_group: None,
    };
    let values = resolve(
        &installer.bundle().manifest,
        Some(&preset),
        None,
        &["name=bench".into(), "location=eastus".into()],
    )
    .unwrap();
    let prepared = installer.prepare(&values, &target, Some(&preset)).unwrap();
    let (report, _) = installer.preflight_registering(&prepared).await.unwrap();
    assert!(report.passed());
    let before = sim.sim.requests.lock().unwrap().len();
    let received: Mutex<Vec<(Instant, EventEnvelope)>> = Mutex::new(Vec::new());
    let sink = |e: &EventEnvelope| received.lock().unwrap().push((Instant::now(), e.clone()));
    let started = Instant::now();
    let (_, result) = installer
        .install(&prepared, RunKind::Install, &sink, CancelToken::new())
        .await
        .unwrap();
    let wall = started.elapsed().as_secs_f64();
    assert_eq!(
        result.outcome,
        landfall_engine::Outcome::Succeeded,
        "{:?}",
        result.error
    );
    let requests: Vec<_> = sim.sim.requests.lock().unwrap()[before..].to_vec();
    let arm: Vec<_> = requests
        .iter()
        .filter(|r| r.path.starts_with("/subscriptions") || r.path.starts_with("/providers"))
        .collect();
    let reads = arm.iter().filter(|r| r.method == "GET").count();
    // Measured duration of every resource (from its operation), for the critical path.
    let events = received.lock().unwrap().clone();
    let mut measured: HashMap<String, f64> = HashMap::new();
    for (_, e) in &events {
        if let DeploymentEvent::ResourceSucceeded {
            resource_id,
            elapsed_secs,
            ..
        } = &e.event
        {
            measured.insert(resource_id.to_ascii_lowercase(), *elapsed_secs);
        }
    }
    let mut table = Vec::new();
    for stage in &prepared.plan.stages {
        // Each resource at its own measured duration, through the plan's dependencies.
        let nodes: Vec<Node> = stage
            .resources
            .iter()
            .map(|r| Node {
                id: r.id.clone(),
                resource_type: r.resource_type.clone(),
                depends_on: r.depends_on.clone(),
            })
            .collect();
        let path = critical_path_by(&nodes, |n| {
            measured
                .get(&n.id.to_ascii_lowercase())
                .copied()
                .unwrap_or(0.0)
        });
        table.push((
            stage.name.clone(),
            stage.depends_on.clone(),
            path,
            StageProgress::Pending,
        ));
    }
    let critical = eta_secs(&table);
    // Delay from the simulator's state change (the operation's end time) to the event.
    let mut delays: Vec<f64> = Vec::new();
    for (when, e) in &events {
        if let DeploymentEvent::ResourceSucceeded { at, .. } = &e.event {
            let now = time::OffsetDateTime::now_utc();
            let since_event = when.elapsed().as_secs_f64();
            let changed_ago = (now - *at).as_seconds_f64();
            delays.push((changed_ago - since_event).max(0.0));
        }
    }
    delays.sort_by(f64::total_cmp);
    let median = delays.get(delays.len() / 2).copied().unwrap_or(0.0);
    let mode = if max_parallel_stages == 1 {
        "one stage at a time"
    } else {
        "stages in parallel"
    };
    println!(
        "{mode}: preset {preset}, speed {speed}, poll interval {:.2}s",
        poll.as_secs_f64()
    );
    println!(
        "wall {wall:.1}s, critical path of measured resource durations {critical:.1}s, ratio {:.3}",
        wall / critical.max(1e-9)
    );
    println!(
        "ARM requests {} ({} reads), {:.0} reads per minute of wall time, {:.0} per simulated minute",
        arm.len(),
        reads,
        reads as f64 / (wall / 60.0),
        reads as f64 / (wall * speed / 60.0)
    );
    println!(
        "median delay from state change to event {median:.2}s ({:.2}s in simulated time)",
        median * speed
    );
    wall
}
