//! Preflight against landfall-sim over HTTPS: a fresh subscription fails only on its providers
//! and passes once the fix registered them; then each check made to fail by the simulator's
//! scenario or state (quota, VM size, zone, name taken, soft-deleted vault, permissions, a
//! running deployment, a template Azure rejects), what-if counts, Azure not answering, and the
//! checks running at the same time. The client's sleeps move the simulator's manual clock, so
//! registrations and what-if polls take no real time.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use landfall_azure::arm::{Arm, DeploymentScope};
use landfall_azure::clock::SleepFuture;
use landfall_azure::{
    ArmClient, ArmClientOptions, QuotaShortfall, StaticTokenCredential, ThrottleOptions, Timer,
    TrustedCa,
};
use landfall_engine::preflight::{
    CheckStatus, FixAction, GlobalName, MySqlDemand, NameKind, PreflightReport, PreflightRequest,
    StageCheck, VmDemand, preflight, purge_deleted_vault, register_providers,
};
use landfall_sim::faults::{QuotaOverride, Scenario, SkuRestriction};
use landfall_sim::{ManualClock, Sim, SimHandle, SimOptions};
use serde_json::{Value as Json, json};
use time::OffsetDateTime;
use url::Url;

const SCHEMA: &str =
    "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#";
const GROUP: &str = "rg-lfdemo";

/// The client's clock and sleep, bound to the simulator's manual clock: sleeping moves it.
struct SimTime {
    clock: Arc<ManualClock>,
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
        Box::pin(tokio::task::yield_now())
    }
}

struct Env {
    sim: SimHandle,
    client: ArmClient,
}

impl Env {
    /// A simulator with the scenario (throttling off) and a client signed in to it.
    async fn start(scenario: Scenario) -> Env {
        let now = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
        let clock = Arc::new(ManualClock::new(now));
        let sim = Sim::start(SimOptions {
            clock: clock.clone(),
            scenario: Scenario {
                no_throttling: true,
                ..scenario
            },
            ..SimOptions::default()
        })
        .await
        .unwrap();
        let time = Arc::new(SimTime { clock });
        let token = sim.sim.tokens.service_principal_token(&sim.sim);
        let credential = Arc::new(StaticTokenCredential::new(
            token,
            OffsetDateTime::now_utc() + Duration::from_secs(3600),
        ));
        let options = ArmClientOptions {
            trusted_ca: Some(TrustedCa::from_pem(&sim.ca_pem).unwrap().exclusive()),
            timer: Timer::new(time.clone(), time),
            throttle: ThrottleOptions {
                jitter: 0.0,
                ..ThrottleOptions::default()
            },
            ..ArmClientOptions::default()
        };
        let client = ArmClient::new(
            Url::parse(&sim.base_url).unwrap(),
            credential,
            Some(options),
        )
        .unwrap();
        Env { sim, client }
    }

    /// A simulator whose subscription has every provider the instance needs registered and
    /// the instance's (empty) resource group.
    async fn ready(scenario: Scenario) -> Env {
        let env = Env::start(scenario).await;
        register_providers(
            &env.arm(),
            &env.sub(),
            &[
                "Microsoft.ContainerService".into(),
                "Microsoft.DBforMySQL".into(),
            ],
        )
        .await
        .unwrap();
        env.arm()
            .create_or_update_resource_group(&env.sub(), GROUP, "eastus", None)
            .await
            .unwrap();
        env
    }

    fn arm(&self) -> Arm<'_> {
        Arm::new(&self.client)
    }

    fn sub(&self) -> String {
        self.sim.sim.options.identity.subscription_id.clone()
    }

    async fn run(&self, request: &PreflightRequest) -> PreflightReport {
        preflight(&self.arm(), request).await
    }

    /// Deploys `resources` into the group and waits for the end.
    async fn deploy(&self, name: &str, resources: Vec<Json>) {
        self.arm()
            .begin_create_deployment(
                &DeploymentScope::group(&self.sub(), GROUP),
                name,
                &body(resources),
            )
            .await
            .unwrap()
            .wait()
            .await
            .unwrap();
    }

    fn tenant(&self) -> String {
        self.sim.sim.options.identity.tenant_id.clone()
    }

    /// ARM requests the simulator has served.
    fn arm_requests(&self) -> usize {
        self.sim
            .sim
            .requests
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.path.starts_with("/subscriptions"))
            .count()
    }
}

fn storage(name: &str) -> Json {
    json!({"type": "Microsoft.Storage/storageAccounts", "apiVersion": "2023-05-01",
           "name": name, "location": "eastus",
           "sku": {"name": "Standard_LRS"}, "kind": "StorageV2"})
}

fn vault(tenant: &str, name: &str, purge_protection: bool) -> Json {
    let mut properties = json!({"tenantId": tenant, "sku": {"family": "A", "name": "standard"},
        "enableRbacAuthorization": true, "enableSoftDelete": true,
        "softDeleteRetentionInDays": 7});
    if purge_protection {
        properties["enablePurgeProtection"] = json!(true);
    }
    json!({"type": "Microsoft.KeyVault/vaults", "apiVersion": "2023-07-01", "name": name,
           "location": "eastus", "properties": properties})
}

fn body(resources: Vec<Json>) -> Json {
    json!({"properties": {"mode": "Incremental", "parameters": {},
        "template": {"$schema": SCHEMA, "contentVersion": "1.0.0.0", "resources": resources}}})
}

fn stage(name: &str, resources: Vec<Json>) -> StageCheck {
    StageCheck {
        stage: name.into(),
        deployment_name: format!("lfdemo-{name}"),
        body: Some(body(resources)),
        why_not: None,
    }
}

/// What the demo preset asks for.
fn demo_request(env: &Env) -> PreflightRequest {
    PreflightRequest {
        subscription_id: env.sub(),
        location: "eastus".into(),
        resource_group: GROUP.into(),
        instance: "lfdemo".into(),
        providers: [
            "Microsoft.Network",
            "Microsoft.OperationalInsights",
            "Microsoft.KeyVault",
            "Microsoft.Storage",
            "Microsoft.DBforMySQL",
            "Microsoft.ContainerService",
            "Microsoft.ContainerRegistry",
            "Microsoft.Authorization",
        ]
        .map(String::from)
        .to_vec(),
        vm_demands: vec![VmDemand {
            size: "Standard_D2s_v5".into(),
            max_count: 3,
            zones: vec!["1".into(), "2".into(), "3".into()],
        }],
        mysql: Some(MySqlDemand {
            sku: "Standard_B1ms".into(),
            tier: "Burstable".into(),
            storage_gb: 20,
            high_availability: None,
            version: "8.0.21".into(),
        }),
        names: vec![
            GlobalName {
                kind: NameKind::Storage,
                name: "lfdemodata".into(),
            },
            GlobalName {
                kind: NameKind::KeyVault,
                name: "lfdemo-kv".into(),
            },
            GlobalName {
                kind: NameKind::MySql,
                name: "lfdemo-mysql".into(),
            },
        ],
        actions: [
            "Microsoft.Resources/deployments/write",
            "Microsoft.Storage/storageAccounts/write",
            "Microsoft.ContainerService/managedClusters/write",
            "Microsoft.Authorization/roleAssignments/write",
        ]
        .map(String::from)
        .to_vec(),
        deployment_names: ["lfdemo-network", "lfdemo-data", "lfdemo-compute"]
            .map(String::from)
            .to_vec(),
        stages: vec![
            stage("data", vec![storage("lfdemodata")]),
            StageCheck {
                stage: "compute".into(),
                deployment_name: "lfdemo-compute".into(),
                body: None,
                why_not: Some("its parameters need the network stage's outputs.".into()),
            },
        ],
    }
}

fn status(report: &PreflightReport, id: &str) -> CheckStatus {
    report
        .check(id)
        .unwrap_or_else(|| panic!("no check {id} in {report:#?}"))
        .status
}

fn message<'r>(report: &'r PreflightReport, id: &str) -> &'r str {
    &report.check(id).unwrap().message
}

/// Every check except `ids` passed (skipped stage checks allowed).
fn others_pass(report: &PreflightReport, ids: &[&str]) {
    for c in &report.checks {
        if ids.contains(&c.id.as_str()) || c.id == "validate:compute" || c.id == "whatIf:compute" {
            continue;
        }
        assert_eq!(c.status, CheckStatus::Pass, "{c:#?}");
    }
}

#[tokio::test]
async fn a_fresh_subscription_fails_on_providers_only_and_passes_once_the_fix_registered_them() {
    let env = Env::start(Scenario::default()).await;
    let request = demo_request(&env);
    let report = env.run(&request).await;
    assert!(!report.passed());
    let providers = report.check("providers").unwrap();
    assert_eq!(providers.status, CheckStatus::Fail, "{providers:#?}");
    let fix = providers.fix.as_ref().unwrap();
    let Some(FixAction::RegisterProviders(namespaces)) = &fix.action else {
        panic!("{fix:#?}");
    };
    assert_eq!(
        namespaces,
        &["Microsoft.DBforMySQL", "Microsoft.ContainerService"]
    );
    assert!(
        providers
            .message
            .contains("Microsoft.DBforMySQL (NotRegistered)"),
        "{}",
        providers.message
    );
    // The group does not exist: permissions are read at the subscription, nothing can run.
    assert!(message(&report, "permissions").contains("the subscription"));
    assert!(message(&report, "runningDeployment").contains("does not exist yet"));
    // Azure's validation waits for the failures to be fixed.
    assert_eq!(status(&report, "validate:data"), CheckStatus::Skipped);
    assert_eq!(status(&report, "whatIf:data"), CheckStatus::Skipped);
    assert!(message(&report, "validate:compute").contains("network stage's outputs"));
    others_pass(&report, &["providers", "validate:data", "whatIf:data"]);

    register_providers(&env.arm(), &env.sub(), namespaces)
        .await
        .unwrap();
    let report = env.run(&request).await;
    assert!(report.passed(), "{report:#?}");
    assert_eq!(status(&report, "providers"), CheckStatus::Pass);
    // Still no group: the stages are checked by Azure when deployed.
    assert!(message(&report, "validate:data").contains("does not exist yet"));

    env.arm()
        .create_or_update_resource_group(&env.sub(), GROUP, "eastus", None)
        .await
        .unwrap();
    let report = env.run(&request).await;
    assert!(report.passed(), "{report:#?}");
    others_pass(&report, &[]);
    assert_eq!(
        message(&report, "quota"),
        "Enough vCPU quota in eastus: Standard DSv5 Family vCPUs: 6 needed, 100 of 100 free; Total Regional vCPUs: 6 needed, 100 of 100 free."
    );
    assert_eq!(
        message(&report, "vmSizes"),
        "Standard_D2s_v5 in zones 1, 2 and 3 available in eastus."
    );
    assert!(
        message(&report, "mysql").contains("Standard_B1ms (Burstable) with MySQL 8.0.21, 20 GiB")
    );
    assert!(message(&report, "permissions").contains("the resource group rg-lfdemo"));
    assert!(message(&report, "validate:data").starts_with("Azure accepts the stage data"));
    let what_if = report.check("whatIf:data").unwrap();
    assert!(what_if.message.contains("1 to create"), "{what_if:#?}");
    let ids: Vec<&str> = report.checks.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "providers",
            "permissions",
            "quota",
            "vmSizes",
            "mysql",
            "name:lfdemodata",
            "name:lfdemo-kv",
            "name:lfdemo-mysql",
            "runningDeployment",
            "validate:data",
            "whatIf:data",
            "validate:compute",
            "whatIf:compute",
        ]
    );
}

#[tokio::test]
async fn a_provider_still_registering_is_a_warning() {
    let env = Env::start(Scenario::default()).await;
    register_providers(&env.arm(), &env.sub(), &["Microsoft.DBforMySQL".into()])
        .await
        .unwrap();
    // Asked for, not waited for: the simulator's clock stands still, so it stays registering.
    let p = env
        .arm()
        .register_provider(&env.sub(), "Microsoft.ContainerService")
        .await
        .unwrap();
    assert_eq!(p.registration_state, "Registering");
    let report = env.run(&demo_request(&env)).await;
    let providers = report.check("providers").unwrap();
    assert_eq!(providers.status, CheckStatus::Warn, "{providers:#?}");
    assert_eq!(
        providers.message,
        "Microsoft.ContainerService is still registering; it usually takes a minute or two."
    );
    assert!(report.passed());
}

#[tokio::test]
async fn a_short_quota_fails_with_how_many_more_are_needed_and_where_to_ask() {
    let env = Env::ready(Scenario {
        quotas: vec![
            QuotaOverride {
                location: "eastus".into(),
                name: "standardDSv5Family".into(),
                limit: 10,
                current_value: 8,
            },
            QuotaOverride {
                location: "eastus".into(),
                name: "cores".into(),
                limit: 20,
                current_value: 15,
            },
        ],
        ..Scenario::default()
    })
    .await;
    let report = env.run(&demo_request(&env)).await;
    assert!(!report.passed());
    let quota = report.check("quota").unwrap();
    assert_eq!(quota.status, CheckStatus::Fail);
    assert_eq!(
        quota.message,
        "Not enough vCPU quota in eastus. Standard DSv5 Family vCPUs: the node pools need up to 6 (3 x Standard_D2s_v5 with 2 vCPUs), 2 of 10 are free (8 in use), so 4 more are needed; Total Regional vCPUs: the node pools need up to 6 (every VM size together), 5 of 20 are free (15 in use), so 1 more is needed."
    );
    let fix = quota.fix.as_ref().unwrap();
    assert_eq!(
        fix.link.as_deref(),
        Some("https://portal.azure.com/#view/Microsoft_Azure_Capacity/QuotaMenuBlade/~/myQuotas")
    );
    let shortfall = |quota: &str, limit, current_usage, more, new_limit| QuotaShortfall {
        quota: quota.into(),
        location: Some("eastus".into()),
        limit: Some(limit),
        current_usage: Some(current_usage),
        additional_required: Some(more),
        new_limit_required: Some(new_limit),
    };
    assert_eq!(
        fix.quota,
        [
            shortfall("Standard DSv5 Family vCPUs", 10, 8, 4, 14),
            shortfall("Total Regional vCPUs", 20, 15, 1, 21),
        ]
    );
    assert!(
        fix.message
            .contains("Standard DSv5 Family vCPUs to at least 14 (4 more)")
    );
    assert_eq!(status(&report, "validate:data"), CheckStatus::Skipped);
    others_pass(&report, &["quota", "validate:data", "whatIf:data"]);
}

#[tokio::test]
async fn a_vm_size_not_offered_to_the_subscription_fails_in_the_region_or_in_a_zone() {
    let env = Env::ready(Scenario {
        unavailable_skus: vec![
            SkuRestriction {
                location: "eastus".into(),
                sku: "Standard_D2s_v5".into(),
                zones: vec![],
            },
            SkuRestriction {
                location: "eastus".into(),
                sku: "Standard_E4s_v5".into(),
                zones: vec!["2".into()],
            },
        ],
        ..Scenario::default()
    })
    .await;
    let mut request = demo_request(&env);
    let report = env.run(&request).await;
    let sizes = report.check("vmSizes").unwrap();
    assert_eq!(sizes.status, CheckStatus::Fail);
    assert_eq!(
        sizes.message,
        "Standard_D2s_v5 is not available to this subscription in eastus (NotAvailableForSubscription)."
    );
    assert_eq!(
        sizes.fix.as_ref().unwrap().link.as_deref(),
        Some("https://aka.ms/azureskunotavailable")
    );

    request.vm_demands = vec![
        VmDemand {
            size: "Standard_E4s_v5".into(),
            max_count: 2,
            zones: vec!["1".into(), "2".into()],
        },
        VmDemand {
            size: "Standard_E4s_v5".into(),
            max_count: 2,
            zones: vec!["3".into()],
        },
        VmDemand {
            size: "Standard_Z9_v9".into(),
            max_count: 1,
            zones: vec![],
        },
    ];
    let report = env.run(&request).await;
    assert_eq!(
        message(&report, "vmSizes"),
        "Standard_E4s_v5 is not available to this subscription in zone 2 of eastus (NotAvailableForSubscription); Standard_Z9_v9 is not offered in eastus."
    );
    // The size Azure does not list cannot be counted against a quota.
    assert_eq!(status(&report, "quota"), CheckStatus::Warn);
    assert!(message(&report, "quota").contains("Standard_Z9_v9 could not be counted"));
    assert!(message(&report, "quota").contains("Standard ESv5 Family vCPUs: 16 needed"));
}

#[tokio::test]
async fn mysql_outside_what_the_region_offers_fails_naming_what_is() {
    let env = Env::ready(Scenario::default()).await;
    let mut request = demo_request(&env);
    let cases = [
        (
            MySqlDemand {
                storage_gb: 10,
                ..request.mysql.clone().unwrap()
            },
            "10 GiB of storage is outside what the Burstable tier offers in eastus: 20 to 16384 GiB.",
        ),
        (
            MySqlDemand {
                sku: "Standard_D2ds_v4".into(),
                ..request.mysql.clone().unwrap()
            },
            "Standard_D2ds_v4 is a GeneralPurpose SKU, not a Burstable one.",
        ),
        (
            MySqlDemand {
                high_availability: Some("ZoneRedundant".into()),
                ..request.mysql.clone().unwrap()
            },
            "High availability is not offered in the Burstable tier (asked for ZoneRedundant).",
        ),
        (
            MySqlDemand {
                version: "9.1".into(),
                ..request.mysql.clone().unwrap()
            },
            "MySQL 9.1 is not offered in the Burstable tier in eastus (offered: 5.7 and 8.0.21).",
        ),
    ];
    for (demand, expected) in cases {
        request.mysql = Some(demand);
        let report = env.run(&request).await;
        assert_eq!(status(&report, "mysql"), CheckStatus::Fail);
        assert_eq!(message(&report, "mysql"), expected);
    }
    // West US has no zones: zone-redundant HA is not offered there.
    request.location = "westus".into();
    request.vm_demands.clear();
    request.mysql = Some(MySqlDemand {
        sku: "Standard_D2ds_v4".into(),
        tier: "GeneralPurpose".into(),
        storage_gb: 64,
        high_availability: Some("ZoneRedundant".into()),
        version: "8.0.21".into(),
    });
    let report = env.run(&request).await;
    assert_eq!(
        message(&report, "mysql"),
        "ZoneRedundant high availability is not offered in westus (offered: SameZone)."
    );
    request.mysql.as_mut().unwrap().high_availability = Some("SameZone".into());
    let report = env.run(&request).await;
    assert_eq!(status(&report, "mysql"), CheckStatus::Pass, "{report:#?}");
}

#[tokio::test]
async fn a_name_taken_by_someone_else_fails_and_one_held_by_the_instance_passes() {
    let env = Env::ready(Scenario {
        taken_names: vec!["lfdemo-mysql".into()],
        ..Scenario::default()
    })
    .await;
    env.deploy("lfdemo-data", vec![storage("lfdemodata")]).await;
    let mut request = demo_request(&env);
    let report = env.run(&request).await;
    let mysql = report.check("name:lfdemo-mysql").unwrap();
    assert_eq!(mysql.status, CheckStatus::Fail);
    assert_eq!(
        mysql.message,
        "The MySQL server name lfdemo-mysql is already taken in Azure: Specified server name is already used."
    );
    assert!(
        mysql
            .fix
            .as_ref()
            .unwrap()
            .message
            .contains("Choose another instance name")
    );
    assert_eq!(
        message(&report, "name:lfdemodata"),
        "lfdemodata is already this instance's, in the resource group rg-lfdemo."
    );
    others_pass(
        &report,
        &["name:lfdemo-mysql", "validate:data", "whatIf:data"],
    );

    // The same storage account seen from another instance's group is someone else's.
    env.arm()
        .create_or_update_resource_group(&env.sub(), "rg-other", "eastus", None)
        .await
        .unwrap();
    request.resource_group = "rg-other".into();
    let report = env.run(&request).await;
    assert_eq!(status(&report, "name:lfdemodata"), CheckStatus::Fail);
    assert!(message(&report, "name:lfdemodata").contains("already taken"));

    request.names = vec![GlobalName {
        kind: NameKind::Storage,
        name: "LF_Demo".into(),
    }];
    let report = env.run(&request).await;
    assert!(
        message(&report, "name:LF_Demo")
            .starts_with("LF_Demo is not a valid storage account name: LF_Demo is not a valid storage account name."),
        "{report:#?}"
    );
}

#[tokio::test]
async fn a_soft_deleted_vault_fails_with_a_purge_fix_that_frees_the_name() {
    let env = Env::ready(Scenario::default()).await;
    env.deploy("kv", vec![vault(&env.tenant(), "lfdemo-kv", false)])
        .await;
    let id = format!(
        "/subscriptions/{}/resourceGroups/{GROUP}/providers/Microsoft.KeyVault/vaults/lfdemo-kv",
        env.sub()
    );
    env.client.delete(&id, "2023-07-01").await.unwrap();

    let request = demo_request(&env);
    let report = env.run(&request).await;
    let kv = report.check("name:lfdemo-kv").unwrap();
    assert_eq!(kv.status, CheckStatus::Fail, "{kv:#?}");
    assert!(
        kv.message.starts_with(
            "A deleted Key Vault named lfdemo-kv is kept for recovery in eastus until "
        ),
        "{}",
        kv.message
    );
    let fix = kv.fix.as_ref().unwrap();
    let Some(FixAction::PurgeDeletedVault { name, location }) = &fix.action else {
        panic!("{fix:#?}");
    };
    assert_eq!((name.as_str(), location.as_str()), ("lfdemo-kv", "eastus"));
    others_pass(&report, &["name:lfdemo-kv", "validate:data", "whatIf:data"]);

    purge_deleted_vault(&env.arm(), &env.sub(), location, name)
        .await
        .unwrap();
    let report = env.run(&request).await;
    assert!(report.passed(), "{report:#?}");
    assert_eq!(message(&report, "name:lfdemo-kv"), "lfdemo-kv is free.");
}

#[tokio::test]
async fn a_purge_protected_deleted_vault_asks_for_another_name() {
    let env = Env::ready(Scenario::default()).await;
    env.deploy("kv", vec![vault(&env.tenant(), "lfdemo-kv", true)])
        .await;
    let id = format!(
        "/subscriptions/{}/resourceGroups/{GROUP}/providers/Microsoft.KeyVault/vaults/lfdemo-kv",
        env.sub()
    );
    env.client.delete(&id, "2023-07-01").await.unwrap();
    let report = env.run(&demo_request(&env)).await;
    let kv = report.check("name:lfdemo-kv").unwrap();
    assert_eq!(kv.status, CheckStatus::Fail);
    assert!(kv.message.contains("purge protection on"), "{}", kv.message);
    let fix = kv.fix.as_ref().unwrap();
    assert!(fix.action.is_none());
    assert!(fix.message.contains("choose another instance name"));
}

#[tokio::test]
async fn a_contributor_is_told_role_assignments_need_owner_or_user_access_administrator() {
    let env = Env::ready(Scenario::default()).await;
    {
        let identity = env.sim.sim.options.identity.clone();
        let now = env.sim.sim.now();
        let mut st = env.sim.sim.lock_state();
        st.authorization.set_subscription_role(
            &identity,
            &identity.client_object_id,
            landfall_sim::arm::authorization::CONTRIBUTOR,
            now,
        );
    }
    let report = env.run(&demo_request(&env)).await;
    let p = report.check("permissions").unwrap();
    assert_eq!(p.status, CheckStatus::Fail);
    assert_eq!(
        p.message,
        "You are missing 1 permission at the resource group rg-lfdemo: Microsoft.Authorization/roleAssignments/write (the cluster's pull access to the registry needs it)."
    );
    assert!(
        p.fix
            .as_ref()
            .unwrap()
            .message
            .contains("Owner, or Contributor plus User Access Administrator")
    );
    others_pass(&report, &["permissions", "validate:data", "whatIf:data"]);
}

#[tokio::test]
async fn a_stage_deployment_still_running_fails_with_resume_instead() {
    let env = Env::ready(Scenario::default()).await;
    // Submitted and never polled: the simulator's clock stands still, so it stays running.
    let poller = env
        .arm()
        .begin_create_deployment(
            &DeploymentScope::group(&env.sub(), GROUP),
            "lfdemo-network",
            &body(vec![storage("lfnetwork01")]),
        )
        .await
        .unwrap();
    drop(poller);
    let mut request = demo_request(&env);
    request.stages.clear();
    let report = env.run(&request).await;
    let running = report.check("runningDeployment").unwrap();
    assert_eq!(running.status, CheckStatus::Fail, "{running:#?}");
    assert!(
        running
            .message
            .starts_with("A deployment of lfdemo is still running in rg-lfdemo: lfdemo-network ("),
        "{}",
        running.message
    );
    assert!(
        running
            .fix
            .as_ref()
            .unwrap()
            .message
            .starts_with("Resume that run")
    );
    others_pass(&report, &["runningDeployment"]);
}

#[tokio::test]
async fn a_template_azure_rejects_fails_validation_with_its_root_cause() {
    let env = Env::ready(Scenario::default()).await;
    let mut request = demo_request(&env);
    request.stages = vec![stage("data", vec![storage("NOT_valid!")])];
    let report = env.run(&request).await;
    let validate = report.check("validate:data").unwrap();
    assert_eq!(validate.status, CheckStatus::Fail, "{validate:#?}");
    assert!(
        validate
            .message
            .starts_with("Azure rejects the stage data: AccountNameInvalid: "),
        "{}",
        validate.message
    );
    assert!(validate.fix.is_some());
    assert!(!report.passed());
}

#[tokio::test]
async fn what_if_counts_changes_by_type_and_lists_them() {
    let env = Env::ready(Scenario::default()).await;
    env.deploy("lfdemo-data", vec![storage("lfdemodata")]).await;
    let mut request = demo_request(&env);
    let mut changed = storage("lfdemodata");
    changed["sku"]["name"] = json!("Standard_GRS");
    request.stages = vec![stage(
        "data",
        vec![changed, storage("lfdemodata2"), storage("lfdemodata3")],
    )];
    let report = env.run(&request).await;
    let w = report.check("whatIf:data").unwrap();
    assert_eq!(w.status, CheckStatus::Pass, "{w:#?}");
    assert_eq!(
        w.message,
        "Azure predicts for the stage data: 2 to create, 1 to modify."
    );
    let groups = w.what_if.as_ref().unwrap();
    let created: Vec<&str> = groups[0]
        .resources
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(
        (groups[0].change_type.as_str(), created),
        ("Create", vec!["lfdemodata2", "lfdemodata3"])
    );
    let modified = &groups[1].resources[0];
    assert_eq!(
        (
            groups[1].change_type.as_str(),
            modified.resource_type.as_str(),
            modified.name.as_str()
        ),
        ("Modify", "Microsoft.Storage/storageAccounts", "lfdemodata")
    );
    assert!(
        modified
            .changed_properties
            .iter()
            .any(|p| p.starts_with("sku")),
        "{modified:#?}"
    );
    let json = serde_json::to_value(w).unwrap();
    assert_eq!(json["whatIf"][0]["changeType"], "Create");
    assert_eq!(json["whatIf"][0]["count"], 2);
}

#[tokio::test]
async fn azure_not_answering_turns_every_check_into_a_warning_not_a_pass() {
    let env = Env::ready(Scenario::default()).await;
    let request = demo_request(&env);
    let broken = Env::start(Scenario {
        fail_first_requests: 10_000,
        ..Scenario::default()
    })
    .await;
    let report = preflight(
        &broken.arm(),
        &PreflightRequest {
            subscription_id: broken.sub(),
            ..request
        },
    )
    .await;
    assert!(report.passed(), "warnings do not block: {report:#?}");
    for c in &report.checks {
        match c.id.as_str() {
            "validate:compute" | "whatIf:compute" => assert_eq!(c.status, CheckStatus::Skipped),
            _ => {
                assert_eq!(c.status, CheckStatus::Warn, "{c:#?}");
                assert!(c.message.contains("ould not check"), "{c:#?}");
            }
        }
    }
    let providers = report.check("providers").unwrap();
    assert!(
        providers
            .message
            .contains("The service is temporarily unavailable"),
        "{providers:#?}"
    );
    assert!(providers.fix.as_ref().unwrap().link.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_checks_run_at_the_same_time() {
    // Every request takes 400 ms in the simulator: one after another they would take at least
    // requests x 400 ms; in parallel the longest chain (group, then permissions; deleted vaults,
    // then the vault's name) is two requests deep.
    let slow = Duration::from_millis(400);
    let env = Env::ready(Scenario {
        slow_rate: 1.0,
        slow_ms: 400,
        ..Scenario::default()
    })
    .await;
    let mut request = demo_request(&env);
    request.stages.clear();
    let before = env.arm_requests();
    let started = Instant::now();
    let report = env.run(&request).await;
    let elapsed = started.elapsed();
    let requests = env.arm_requests() - before;
    assert!(report.passed(), "{report:#?}");
    assert!(requests >= 15, "{requests} requests");
    let serial = slow * u32::try_from(requests).unwrap();
    assert!(
        elapsed < serial / 3,
        "{requests} requests took {elapsed:?}; one after another they take at least {serial:?}"
    );
}
