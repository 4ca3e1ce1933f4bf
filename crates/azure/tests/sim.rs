//! End to end against landfall-sim over HTTPS with its CA: a cloud discovered from its metadata
//! document, a deployment polled to `Succeeded`, a failing deployment's error tree with the
//! operation that failed, a 429 storm, a 5xx burst, dropped connections, and pacing under ARM's
//! token buckets. The client's sleeps move the simulator's manual clock, so provisioning that
//! takes minutes in the simulator takes milliseconds here and poll times are exact.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use landfall_azure::clock::SleepFuture;
use landfall_azure::{
    ArmClient, ArmClientOptions, Cloud, Error, ErrorCode, FailedOperation, PollOptions,
    StaticTokenCredential, ThrottleOptions, Timer, TrustedCa,
};
use landfall_sim::faults::{PolicyDenial, QuotaOverride, ResourceFault, Scenario};
use landfall_sim::{ManualClock, Sim, SimHandle, SimOptions};
use serde_json::{Value as Json, json};
use time::OffsetDateTime;
use url::Url;

const API: &str = "2024-03-01";
const SCHEMA: &str =
    "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#";

/// The client's clock and sleep, bound to the simulator's manual clock: sleeping moves it.
struct SimTime {
    clock: Arc<ManualClock>,
    sleeps: Mutex<Vec<Duration>>,
}

impl landfall_azure::Clock for SimTime {
    fn now(&self) -> OffsetDateTime {
        landfall_sim::Clock::now(&*self.clock)
    }
}

impl landfall_azure::Sleep for SimTime {
    fn sleep(&self, duration: Duration) -> SleepFuture {
        self.clock
            .advance(time::Duration::try_from(duration).unwrap());
        self.sleeps.lock().unwrap().push(duration);
        Box::pin(tokio::task::yield_now())
    }
}

struct Env {
    sim: SimHandle,
    time: Arc<SimTime>,
    client: ArmClient,
}

impl Env {
    async fn start(scenario: Scenario) -> Env {
        let now = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
        let clock = Arc::new(ManualClock::new(now));
        let sim = Sim::start(SimOptions {
            clock: clock.clone(),
            scenario,
            ..SimOptions::default()
        })
        .await
        .unwrap();
        let time = Arc::new(SimTime {
            clock,
            sleeps: Mutex::new(Vec::new()),
        });
        let token = sim.sim.tokens.service_principal_token(&sim.sim);
        let credential = Arc::new(StaticTokenCredential::new(
            token,
            OffsetDateTime::now_utc() + Duration::from_secs(3600),
        ));
        let client = ArmClient::new(
            Url::parse(&sim.base_url).unwrap(),
            credential,
            Some(options(&sim, &time)),
        )
        .unwrap();
        Env { sim, time, client }
    }

    fn sub(&self) -> String {
        self.sim.sim.options.identity.subscription_id.clone()
    }

    fn group(&self, rg: &str) -> String {
        format!("/subscriptions/{}/resourcegroups/{rg}", self.sub())
    }

    fn deployment(&self, rg: &str, name: &str) -> String {
        format!(
            "{}/providers/Microsoft.Resources/deployments/{name}",
            self.group(rg)
        )
    }

    async fn create_group(&self, rg: &str) {
        self.client
            .put(&self.group(rg), API, &json!({"location": "eastus"}))
            .await
            .unwrap();
    }

    fn sleeps(&self) -> Vec<Duration> {
        self.time.sleeps.lock().unwrap().clone()
    }

    /// `(method, status)` of every ARM request the simulator served.
    fn served(&self) -> Vec<(String, u16)> {
        self.sim
            .sim
            .requests
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.path.starts_with("/subscriptions"))
            .map(|r| (r.method.clone(), r.status))
            .collect()
    }
}

fn options(sim: &SimHandle, time: &Arc<SimTime>) -> ArmClientOptions {
    ArmClientOptions {
        trusted_ca: Some(TrustedCa::from_pem(&sim.ca_pem).unwrap().exclusive()),
        timer: Timer::new(time.clone(), time.clone()),
        throttle: ThrottleOptions {
            jitter: 0.0,
            ..ThrottleOptions::default()
        },
        ..ArmClientOptions::default()
    }
}

fn quiet() -> Scenario {
    Scenario {
        no_throttling: true,
        ..Scenario::default()
    }
}

fn storage_and_network() -> Json {
    json!({
        "$schema": SCHEMA, "contentVersion": "1.0.0.0",
        "parameters": {"prefix": {"type": "string", "defaultValue": "lf"}},
        "resources": [
            {"type": "Microsoft.Network/virtualNetworks", "apiVersion": "2023-05-01",
             "name": "[concat(parameters('prefix'), '-net')]", "location": "eastus",
             "properties": {"addressSpace": {"addressPrefixes": ["10.1.0.0/16"]}}},
            {"type": "Microsoft.Storage/storageAccounts", "apiVersion": "2023-01-01",
             "name": "[concat(parameters('prefix'), 'store01')]", "location": "eastus",
             "sku": {"name": "Standard_LRS"}, "kind": "StorageV2"}
        ],
        "outputs": {"storageId": {"type": "string",
            "value": "[resourceId('Microsoft.Storage/storageAccounts', concat(parameters('prefix'), 'store01'))]"}}
    })
}

fn deployment_body(template: Json) -> Json {
    json!({"properties": {"template": template, "parameters": {}, "mode": "Incremental"}})
}

#[tokio::test]
async fn a_deployment_is_polled_through_its_async_operation_to_succeeded() {
    let env = Env::start(quiet()).await;
    env.create_group("rg-app").await;
    let path = env.deployment("rg-app", "main");
    let poller = env
        .client
        .begin_put(&path, API, &deployment_body(storage_and_network()))
        .await
        .unwrap();
    assert!(matches!(
        poller.monitor(),
        Some(landfall_azure::Monitor::AsyncOperation(u)) if u.path().contains("/operationStatuses/")
    ));
    let deployment = poller.await.unwrap();
    let p = &deployment["properties"];
    assert_eq!(p["provisioningState"], "Succeeded");
    assert!(
        p["outputs"]["storageId"]["value"]
            .as_str()
            .unwrap()
            .ends_with("/storageAccounts/lfstore01")
    );
    // The simulator sends no Retry-After on status polls, so every wait is the 5 s default.
    let sleeps = env.sleeps();
    assert!(sleeps.len() >= 2, "{sleeps:?}");
    assert!(
        sleeps.iter().all(|s| *s == Duration::from_secs(5)),
        "{sleeps:?}"
    );
    let served = env.served();
    assert!(served.iter().all(|(_, s)| *s < 400), "{served:?}");
    // PUT group, PUT deployment, one GET per sleep, then the final GET of the deployment.
    assert_eq!(served.len(), 2 + sleeps.len() + 1, "{served:?}");
}

#[tokio::test]
async fn a_failing_deployment_gives_the_error_tree_and_the_failed_operation() {
    let scenario = Scenario {
        failing_resources: vec![ResourceFault {
            resource_type: "Microsoft.Storage/storageAccounts".into(),
            after_seconds: 5.0,
            code: "InvalidParameter".into(),
            message: "The value of parameter minimumTlsVersion is invalid.".into(),
            ..ResourceFault::default()
        }],
        ..quiet()
    };
    let env = Env::start(scenario).await;
    env.create_group("rg-fail").await;
    let path = env.deployment("rg-fail", "failing");
    let err = env
        .client
        .begin_put(&path, API, &deployment_body(storage_and_network()))
        .await
        .unwrap()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::OperationFailed { status, .. } if status == "Failed"),
        "{err:?}"
    );
    assert_eq!(err.code(), ErrorCode::DeploymentFailed);
    let tree = err.detail().unwrap();
    assert_eq!(tree.code, "DeploymentFailed");
    assert_eq!(
        tree.summary(),
        "InvalidParameter: The value of parameter minimumTlsVersion is invalid."
    );
    let report = err.report();
    assert_eq!(report.code, ErrorCode::DeploymentFailed);
    assert_eq!(report.details.as_ref(), Some(tree));

    let operations: Json = env
        .client
        .get_json(&format!("{path}/operations"), API)
        .await
        .unwrap();
    let failed = FailedOperation::all_in(&operations);
    assert_eq!(failed.len(), 1, "{operations}");
    let op = &failed[0];
    assert_eq!(
        op.resource_type.as_deref(),
        Some("Microsoft.Storage/storageAccounts")
    );
    assert_eq!(op.resource_name.as_deref(), Some("lfstore01"));
    assert_eq!(op.status_code.as_deref(), Some("BadRequest"));
    assert_eq!(op.error.code, "InvalidParameter");
}

#[tokio::test]
async fn preflight_quota_and_policy_failures_come_with_remediations() {
    let env = Env::start(Scenario {
        quotas: vec![QuotaOverride {
            location: "eastus".into(),
            name: "standardDSv3Family".into(),
            limit: 10,
            current_value: 4,
        }],
        policy_denials: vec![PolicyDenial {
            resource_type: "Microsoft.Network/publicIPAddresses".into(),
            policy_name: "Deny public IPs".into(),
        }],
        ..quiet()
    })
    .await;
    env.create_group("rg-pre").await;
    let template = |resource: Json| {
        deployment_body(
            json!({"$schema": SCHEMA, "contentVersion": "1.0.0.0", "resources": [resource]}),
        )
    };
    let aks = json!({"type": "Microsoft.ContainerService/managedClusters", "apiVersion": "2024-02-01",
        "name": "aks1", "location": "eastus", "identity": {"type": "SystemAssigned"},
        "properties": {"dnsPrefix": "aks1", "agentPoolProfiles": [
            {"name": "system", "count": 4, "vmSize": "Standard_D2s_v3", "mode": "System"}]}});
    let err = env
        .client
        .begin_put(&env.deployment("rg-pre", "aks"), API, &template(aks))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Http { status: 400, .. }), "{err:?}");
    assert_eq!(err.code(), ErrorCode::QuotaExceeded);
    let quota = err.remediation().unwrap().quota.unwrap();
    assert_eq!(quota.quota, "standardDSv3Family");
    assert_eq!(quota.location.as_deref(), Some("eastus"));
    assert_eq!(
        (
            quota.limit,
            quota.current_usage,
            quota.additional_required,
            quota.new_limit_required
        ),
        (Some(10), Some(4), Some(8), Some(12))
    );

    let pip = json!({"type": "Microsoft.Network/publicIPAddresses", "apiVersion": "2023-05-01",
        "name": "pip", "location": "eastus"});
    let err = env
        .client
        .post(
            &format!("{}/validate", env.deployment("rg-pre", "pip")),
            API,
            Some(&template(pip)),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::PolicyDenied);
    let m = err.remediation().unwrap().message;
    assert!(
        m.contains("'Deny public IPs'") && m.contains("policy owner"),
        "{m}"
    );
}

#[tokio::test]
async fn the_client_rides_out_a_429_storm() {
    let env = Env::start(Scenario {
        throttle_first_requests: 6,
        ..quiet()
    })
    .await;
    env.create_group("rg-storm").await;
    let groups: Json = env
        .client
        .get_json(&format!("/subscriptions/{}/resourcegroups", env.sub()), API)
        .await
        .unwrap();
    assert_eq!(groups["value"][0]["name"], "rg-storm");
    // Six 429s, each waited out for the Retry-After of 1 s the simulator sends.
    assert_eq!(env.sleeps(), vec![Duration::from_secs(1); 6]);
    let statuses: Vec<u16> = env.served().iter().map(|(_, s)| *s).collect();
    assert_eq!(statuses, [429, 429, 429, 429, 429, 429, 201, 200]);
}

#[tokio::test]
async fn the_client_rides_out_a_5xx_burst_for_idempotent_calls_only() {
    let env = Env::start(Scenario {
        fail_first_requests: 3,
        ..quiet()
    })
    .await;
    // A POST is not retried: the first 503 is the caller's to handle.
    let validate = format!("{}/validate", env.deployment("rg-burst", "d"));
    let err = env
        .client
        .post(
            &validate,
            API,
            Some(&deployment_body(storage_and_network())),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Http { status: 503, .. }), "{err:?}");
    assert_eq!(err.code(), ErrorCode::ServiceUnavailable);
    // A PUT rides out the other two with backoff (1 s, then 2 s).
    env.create_group("rg-burst").await;
    assert_eq!(
        env.sleeps(),
        [Duration::from_secs(1), Duration::from_secs(2)]
    );
    let statuses: Vec<u16> = env.served().iter().map(|(_, s)| *s).collect();
    assert_eq!(statuses, [503, 503, 503, 201]);
}

#[tokio::test]
async fn dropped_connections_are_retried_for_reads() {
    let env = Env::start(Scenario {
        drop_rate: 0.3,
        ..quiet()
    })
    .await;
    let path = format!("/subscriptions/{}/resourcegroups", env.sub());
    for _ in 0..15 {
        env.client.get(&path, API).await.unwrap();
    }
    assert!(
        !env.sleeps().is_empty(),
        "with a 30 % drop rate some requests were retried"
    );
}

#[tokio::test]
async fn reads_slow_down_before_the_token_bucket_runs_dry() {
    // Throttling on: 250 reads of burst, 25 a second of refill, as ARM.
    let env = Env::start(Scenario::default()).await;
    let path = format!("/subscriptions/{}/resourcegroups", env.sub());
    for _ in 0..320 {
        env.client.get(&path, API).await.unwrap();
    }
    let served = env.served();
    assert!(
        served.iter().all(|(_, s)| *s == 200),
        "no request was throttled"
    );
    assert_eq!(served.len(), 320);
    let paced: Duration = env.sleeps().iter().sum();
    assert!(
        paced > Duration::from_secs(2),
        "pacing waited {paced:?} for the bucket to refill"
    );
}

#[tokio::test]
async fn a_cloud_discovered_from_the_simulator_gets_tokens_arm_accepts() {
    let env = Env::start(quiet()).await;
    let ca = TrustedCa::from_pem(&env.sim.ca_pem).unwrap().exclusive();
    let http = landfall_azure::tls::http_client(Some(&ca)).unwrap();
    let base = Url::parse(&env.sim.base_url).unwrap();
    let cloud = Cloud::discover(&base, &http).await.unwrap();
    assert_eq!(cloud.name, "LandfallSimulatedAzure");
    assert_eq!(
        cloud.resource_manager.as_str(),
        format!("{}/", env.sim.base_url)
    );
    assert_eq!(cloud.audience, format!("{}/", env.sim.base_url));

    // Client credentials at the discovered authority, for the discovered scope.
    let id = env.sim.sim.options.identity.clone();
    let form = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "client_credentials")
        .append_pair("client_id", &id.client_id)
        .append_pair("client_secret", &id.client_secret)
        .append_pair("scope", &cloud.arm_scope())
        .finish();
    let token_url = cloud
        .authority(&id.tenant_id)
        .unwrap()
        .join(&format!("{}/oauth2/v2.0/token", id.tenant_id))
        .unwrap();
    let reply: Json = http
        .post(token_url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = reply["access_token"].as_str().expect("a token").to_owned();
    let credential = Arc::new(StaticTokenCredential::new(
        token,
        OffsetDateTime::now_utc() + Duration::from_secs(3000),
    ));
    let client =
        ArmClient::for_cloud(&cloud, credential, Some(options(&env.sim, &env.time))).unwrap();
    let subs: Json = client
        .get_json("/subscriptions", "2022-12-01")
        .await
        .unwrap();
    assert_eq!(subs["value"][0]["subscriptionId"], id.subscription_id);

    // Without its CA the simulator is not trusted: a transport error, not a hang.
    let opts = ArmClientOptions {
        poll: PollOptions::default(),
        throttle: ThrottleOptions {
            max_retries: 0,
            ..ThrottleOptions::default()
        },
        ..ArmClientOptions::default()
    };
    let untrusting = ArmClient::for_cloud(
        &cloud,
        Arc::new(StaticTokenCredential::new("x", OffsetDateTime::now_utc())),
        Some(opts),
    )
    .unwrap();
    let err = untrusting
        .get("/subscriptions", "2022-12-01")
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Network, "{err:?}");
}
