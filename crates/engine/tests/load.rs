//! Load (RELIABILITY.md): 50 demo installs at once against one simulated Azure (throttling
//! on, one journal), and one install of about 800 resources. Both must end Succeeded with
//! every resource reported; the time taken and the process's peak memory are printed for the
//! report. The simulator runs on a manual clock, so the figures measure Landfall's own work
//! (HTTP, JSON, tracking, journal writes), not Azure's provisioning time.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::time::Instant;

use landfall_azure::CancelToken;
use landfall_engine::bundle::{Bundle, DIGEST_FILE, compute_digest};
use landfall_engine::events::{Outcome, RunKind};
use landfall_engine::installer::Installer;
use landfall_engine::snapshot::ResourceState;
use landfall_sim::Scenario;
use serde_json::{Value as Json, json};
use support::{Collect, Env};

/// The process's peak resident memory, in MiB (Linux; 0 elsewhere).
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_owned))
        })
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_demo_installs_on_one_simulator() {
    const INSTALLS: usize = 50;
    let env = Env::start(Scenario::default(), 10.0).await;
    let first = env.installer();
    let prepared = env.prepare(&first, "demo", &["name=lf00"]);
    let (report, _) = first.preflight_registering(&prepared).await.unwrap();
    assert!(report.passed(), "{report:#?}");
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..INSTALLS {
        let installer = env.installer();
        let prepared = env.prepare(&installer, "demo", &[&format!("name=lf{i:02}")]);
        tasks.push(tokio::spawn(async move {
            let collect = Collect::default();
            let (run_id, result) = installer
                .install(&prepared, RunKind::Install, &collect, CancelToken::new())
                .await
                .unwrap();
            (run_id, result, collect.all().len())
        }));
    }
    let mut events = 0;
    for task in tasks {
        let (run_id, result, n) = task.await.unwrap();
        assert_eq!(
            result.outcome,
            Outcome::Succeeded,
            "{run_id}: {:?}",
            result.error
        );
        events += n;
    }
    let secs = started.elapsed().as_secs_f64();
    let requests = env.requests();
    let throttled = requests.iter().filter(|r| r.2 == 429).count();
    let puts = env.deployment_puts();
    assert_eq!(puts.len(), INSTALLS * 6, "{}", puts.len());
    assert!(puts.values().all(|n| *n == 1));
    let runs = env.journal.runs(None).unwrap();
    assert_eq!(runs.len(), INSTALLS);
    eprintln!(
        "load: {INSTALLS} concurrent installs succeeded in {secs:.1} s; {} ARM requests ({throttled} throttled with 429), {events} events journaled; peak RSS {:.0} MiB",
        requests.len(),
        peak_rss_mib()
    );
}

/// The built-in bundle with `extra` more network security groups in the network stage (a
/// copy loop), its digest recomputed.
fn bundle_with_extra_resources(extra: usize) -> Bundle {
    let base = Bundle::builtin().unwrap();
    let mut files = base.files.clone();
    let mut network: Json = serde_json::from_str(&files["network.json"]).unwrap();
    let resources = network["resources"].as_array_mut().unwrap();
    let mut nsg = resources
        .iter()
        .find(|r| r["type"] == "Microsoft.Network/networkSecurityGroups")
        .unwrap()
        .clone();
    nsg["name"] = json!("[format('{0}-extra-{1}', parameters('vnetName'), copyIndex())]");
    nsg["copy"] = json!({ "name": "extraNsgs", "count": extra, "mode": "Parallel" });
    resources.push(nsg);
    files.insert(
        "network.json".into(),
        serde_json::to_string_pretty(&network).unwrap(),
    );
    let digest = compute_digest(&files);
    files.insert(DIGEST_FILE.into(), format!("{digest}\n"));
    Bundle::from_files(files).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_install_of_eight_hundred_resources() {
    let env = Env::start(
        Scenario {
            no_throttling: true,
            ..Scenario::default()
        },
        10.0,
    )
    .await;
    let bundle = Arc::new(bundle_with_extra_resources(780));
    let installer = Installer::new(
        Arc::new(env.client()),
        env.journal.clone(),
        bundle,
        env.secrets.clone(),
    );
    let prepared = env.prepare(&installer, "demo", &[]);
    installer.preflight_registering(&prepared).await.unwrap();
    let started = Instant::now();
    let collect = Collect::default();
    let (run_id, result) = installer
        .install(&prepared, RunKind::Install, &collect, CancelToken::new())
        .await
        .unwrap();
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(result.outcome, Outcome::Succeeded, "{:?}", result.error);
    let snapshot = installer.snapshot(&run_id).unwrap();
    let resources: Vec<_> = snapshot.stages.iter().flat_map(|s| &s.resources).collect();
    assert!(resources.len() >= 800, "{}", resources.len());
    assert!(
        resources
            .iter()
            .all(|r| r.state == ResourceState::Succeeded),
        "every resource reported done"
    );
    eprintln!(
        "load: one install of {} resources succeeded in {secs:.1} s; {} events journaled, {} ARM requests; peak RSS {:.0} MiB",
        resources.len(),
        collect.all().len(),
        env.requests().len(),
        peak_rss_mib()
    );
}
