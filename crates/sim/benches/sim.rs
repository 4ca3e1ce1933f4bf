//! Benchmarks of the simulator itself (see BENCHMARKS.md, "Simulated Azure").
//!
//! - `polling/*`: requests per second on the deployment polling path every client runs while a
//!   deployment is in progress: `GET .../operationStatuses/{id}` then `GET` of the deployment,
//!   over real HTTPS (TLS 1.3, HTTP/1.1 with keep-alive: the client's TLS configuration offers
//!   no ALPN, like the HTTP/1.1 stacks of most Azure SDKs), from one client and from 8
//!   concurrent clients (8 connections). The deployment stays `Running` for the whole run: the
//!   simulator's clock is a manual one that the benchmark does not move.
//! - memory: the resident set of this process (`/proc/self/statm`) before and after submitting
//!   100 deployments of a 10-resource template (one resource group each), all left running;
//!   printed before the timings, with the size of the simulator's state as JSON.
//!
//! `cargo bench -p landfall-sim --bench sim`

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group};
use landfall_sim::{ManualClock, Sim, SimHandle, SimOptions};
use serde_json::{Value as Json, json};
use time::macros::datetime;

fn runtime() -> tokio::runtime::Runtime {
    match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => panic!("cannot build a Tokio runtime: {e}"),
    }
}

fn must<T, E: std::fmt::Display>(r: Result<T, E>, what: &str) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{what}: {e}"),
    }
}

/// A simulator on a frozen manual clock, throttling off (the benchmark measures the server,
/// not ARM's token buckets).
async fn start() -> (SimHandle, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(datetime!(2026-03-02 09:00:00 UTC)));
    let mut options = SimOptions {
        clock: clock.clone(),
        ..SimOptions::default()
    };
    options.scenario.no_throttling = true;
    (
        must(Sim::start(options).await, "the simulator starts"),
        clock,
    )
}

/// An HTTPS client trusting only the simulator's CA, keeping its connection alive (HTTP/1.1:
/// this TLS configuration offers no ALPN).
fn client(handle: &SimHandle) -> reqwest::Client {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(handle.ca_pem.as_bytes()) {
        must(roots.add(must(cert, "CA PEM")), "CA certificate");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = must(
        rustls::ClientConfig::builder_with_provider(provider).with_safe_default_protocol_versions(),
        "TLS versions",
    )
    .with_root_certificates(roots)
    .with_no_client_auth();
    must(
        reqwest::Client::builder()
            .use_preconfigured_tls(config)
            .pool_idle_timeout(Duration::from_secs(600))
            .build(),
        "HTTP client",
    )
}

struct Arm {
    base: String,
    sub: String,
    token: String,
}

impl Arm {
    fn new(handle: &SimHandle) -> Arm {
        Arm {
            base: handle.base_url.clone(),
            sub: handle.sim.options.identity.subscription_id.clone(),
            token: handle.sim.tokens.service_principal_token(&handle.sim),
        }
    }

    async fn send(
        &self,
        http: &reqwest::Client,
        method: reqwest::Method,
        url: &str,
        body: Option<&Json>,
    ) -> (u16, reqwest::header::HeaderMap, Json) {
        let url = if url.starts_with("https://") {
            url.to_owned()
        } else {
            format!("{}{url}?api-version=2024-03-01", self.base)
        };
        let mut req = http.request(method, url).bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(b);
        }
        let r = must(req.send().await, "request");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let bytes = must(r.bytes().await, "response body");
        (
            status,
            headers,
            serde_json::from_slice(&bytes).unwrap_or(Json::Null),
        )
    }

    async fn group(&self, http: &reqwest::Client, name: &str) {
        let path = format!("/subscriptions/{}/resourcegroups/{name}", self.sub);
        let (status, _, body) = self
            .send(
                http,
                reqwest::Method::PUT,
                &path,
                Some(&json!({"location": "eastus"})),
            )
            .await;
        assert!(status < 300, "resource group: {body}");
    }

    /// Submits a deployment; returns its URL and its operation-status URL.
    async fn deploy(&self, http: &reqwest::Client, group: &str, name: &str) -> (String, String) {
        let path = format!(
            "/subscriptions/{}/resourcegroups/{group}/providers/Microsoft.Resources/deployments/{name}",
            self.sub
        );
        let body = json!({"properties": {"mode": "Incremental", "template": ten_resources()}});
        let (status, headers, reply) = self
            .send(http, reqwest::Method::PUT, &path, Some(&body))
            .await;
        assert_eq!(status, 201, "deployment: {reply}");
        let status_url = headers
            .get("azure-asyncoperation")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (
            format!("{}{path}?api-version=2024-03-01", self.base),
            status_url,
        )
    }
}

/// A network with four subnets (in a chain), three storage accounts, a network security group
/// and a public IP: 10 resources in 5 waves.
fn ten_resources() -> Json {
    let mut resources = vec![json!({
        "type": "Microsoft.Network/virtualNetworks", "apiVersion": "2023-09-01",
        "name": "vnet", "location": "[resourceGroup().location]",
        "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}}
    })];
    for i in 0..4 {
        let mut depends = vec![json!(
            "[resourceId('Microsoft.Network/virtualNetworks', 'vnet')]"
        )];
        if i > 0 {
            depends.push(json!(format!(
                "[resourceId('Microsoft.Network/virtualNetworks/subnets', 'vnet', 'subnet{}')]",
                i - 1
            )));
        }
        resources.push(json!({
            "type": "Microsoft.Network/virtualNetworks/subnets", "apiVersion": "2023-09-01",
            "name": format!("vnet/subnet{i}"), "dependsOn": depends,
            "properties": {"addressPrefix": format!("10.0.{i}.0/24")}
        }));
    }
    for i in 0..3 {
        resources.push(json!({
            "type": "Microsoft.Storage/storageAccounts", "apiVersion": "2023-01-01",
            "name": format!("[concat('st{i}', uniqueString(resourceGroup().id))]"),
            "location": "[resourceGroup().location]",
            "sku": {"name": "Standard_LRS"}, "kind": "StorageV2", "properties": {}
        }));
    }
    resources.push(json!({
        "type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2023-09-01",
        "name": "nsg", "location": "[resourceGroup().location]", "properties": {}
    }));
    resources.push(json!({
        "type": "Microsoft.Network/publicIPAddresses", "apiVersion": "2023-09-01",
        "name": "ip", "location": "[resourceGroup().location]", "sku": {"name": "Standard"},
        "properties": {"publicIPAllocationMethod": "Static"}
    }));
    json!({
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "resources": resources
    })
}

/// Resident set size of this process in bytes (`/proc/self/statm`, pages of 4 KiB).
fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Prints the memory taken by 100 concurrent deployments of 10 resources.
fn memory() {
    let rt = runtime();
    rt.block_on(async {
        let (handle, clock) = start().await;
        let http = client(&handle);
        let arm = Arm::new(&handle);
        for i in 0..100 {
            arm.group(&http, &format!("rg-mem-{i}")).await;
        }
        // Warm: one deployment submitted and polled, so code paths and buffers exist.
        let (url, status) = arm.deploy(&http, "rg-mem-0", "warm").await;
        arm.send(&http, reqwest::Method::GET, &status, None).await;
        arm.send(&http, reqwest::Method::GET, &url, None).await;
        let before = resident_bytes();
        let started = Instant::now();
        for i in 0..100 {
            arm.deploy(&http, &format!("rg-mem-{i}"), "load").await;
        }
        let submit = started.elapsed();
        clock.advance(time::Duration::seconds(5));
        let (_, _, one) = arm.send(&http, reqwest::Method::GET, &url, None).await;
        let state = handle
            .sim
            .state
            .lock()
            .map(|s| serde_json::to_vec(&*s).map(|v| v.len()).unwrap_or(0))
            .unwrap_or(0);
        let after = resident_bytes();
        println!(
            "memory: 100 concurrent deployments of 10 resources ({} at +5 s): resident set \
             {:.1} MiB before, {:.1} MiB after, +{:.1} MiB ({:.0} KiB per deployment); \
             simulator state {:.2} MiB as JSON; submitting the 100 took {:.2} s",
            one["properties"]["provisioningState"],
            mib(before),
            mib(after),
            mib(after.saturating_sub(before)),
            after.saturating_sub(before) as f64 / 1024.0 / 100.0,
            mib(state as u64),
            submit.as_secs_f64()
        );
        handle.stop().await;
    });
}

fn polling(c: &mut Criterion) {
    let rt = runtime();
    let (handle, clock, urls) = rt.block_on(async {
        let (handle, clock) = start().await;
        let http = client(&handle);
        let arm = Arm::new(&handle);
        arm.group(&http, "rg-bench").await;
        let urls = arm.deploy(&http, "rg-bench", "polled").await;
        clock.advance(time::Duration::seconds(5));
        let (_, _, d) = arm.send(&http, reqwest::Method::GET, &urls.0, None).await;
        assert_eq!(d["properties"]["provisioningState"], "Running");
        (handle, clock, urls)
    });
    let arm = Arc::new(Arm::new(&handle));
    let (deployment, status) = (Arc::new(urls.0), Arc::new(urls.1));

    let mut group = c.benchmark_group("polling");
    group.sample_size(30);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(5));

    // One client: each iteration is the pair a poller sends (2 requests).
    let http = client(&handle);
    group.throughput(Throughput::Elements(2));
    group.bench_function("one_client", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let started = Instant::now();
                for _ in 0..iters {
                    let s = arm.send(&http, reqwest::Method::GET, &status, None).await;
                    let d = arm
                        .send(&http, reqwest::Method::GET, &deployment, None)
                        .await;
                    black_box((s.0, d.0));
                }
                started.elapsed()
            })
        });
    });

    // Eight clients at once, each with its own connection: each iteration is one pair from
    // every client (16 requests).
    let clients: Vec<reqwest::Client> = (0..8).map(|_| client(&handle)).collect();
    group.throughput(Throughput::Elements(16));
    group.bench_function("eight_clients", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let started = Instant::now();
                let tasks: Vec<_> = clients
                    .iter()
                    .cloned()
                    .map(|http| {
                        let (arm, deployment, status) =
                            (arm.clone(), deployment.clone(), status.clone());
                        tokio::spawn(async move {
                            for _ in 0..iters {
                                let s = arm.send(&http, reqwest::Method::GET, &status, None).await;
                                let d = arm
                                    .send(&http, reqwest::Method::GET, &deployment, None)
                                    .await;
                                black_box((s.0, d.0));
                            }
                        })
                    })
                    .collect();
                for t in tasks {
                    must(t.await, "client task");
                }
                started.elapsed()
            })
        });
    });
    group.finish();
    drop(clock);
    rt.block_on(handle.stop());
}

/// Criterion's generated `benches` function, in a module so it needs no public docs.
mod group {
    use super::*;

    criterion_group!(benches, polling);
}

fn main() {
    memory();
    group::benches();
    Criterion::default().configure_from_args().final_summary();
}
