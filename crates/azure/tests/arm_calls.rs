//! Every typed ARM call in `landfall_azure::arm` against landfall-sim over HTTPS. The client's
//! sleeps move the simulator's manual clock, so waits take no real time.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use landfall_azure::arm::{Arm, DeploymentScope, Validation, WhatIfResponse, can};
use landfall_azure::clock::SleepFuture;
use landfall_azure::{
    ArmClient, ArmClientOptions, Error, StaticTokenCredential, ThrottleOptions, Timer, TrustedCa,
};
use landfall_sim::faults::Scenario;
use landfall_sim::{ManualClock, Sim, SimHandle, SimOptions};
use serde_json::{Value as Json, json};
use time::OffsetDateTime;
use url::Url;

const SCHEMA: &str =
    "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#";

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
    async fn start() -> Env {
        let now = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
        let clock = Arc::new(ManualClock::new(now));
        let sim = Sim::start(SimOptions {
            clock: clock.clone(),
            scenario: Scenario {
                no_throttling: true,
                ..Scenario::default()
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

    fn arm(&self) -> Arm<'_> {
        Arm::new(&self.client)
    }

    fn sub(&self) -> String {
        self.sim.sim.options.identity.subscription_id.clone()
    }

    async fn group(&self, rg: &str) {
        self.arm()
            .create_or_update_resource_group(&self.sub(), rg, "eastus", Some(&json!({"app": "lf"})))
            .await
            .unwrap();
    }
}

fn storage(name: &str) -> Json {
    json!({"type": "Microsoft.Storage/storageAccounts", "apiVersion": "2023-01-01",
           "name": name, "location": "eastus",
           "sku": {"name": "Standard_LRS"}, "kind": "StorageV2"})
}

fn template(resources: Vec<Json>) -> Json {
    json!({"$schema": SCHEMA, "contentVersion": "1.0.0.0", "resources": resources,
           "outputs": {"ok": {"type": "string", "value": "yes"}}})
}

fn body(template: Json) -> Json {
    json!({"properties": {"template": template, "parameters": {}, "mode": "Incremental"}})
}

#[tokio::test]
async fn subscriptions_tenants_and_locations_are_listed() {
    let env = Env::start().await;
    let arm = env.arm();
    let subs = arm.list_subscriptions().await.unwrap();
    assert!(
        subs.iter().any(|s| s.subscription_id == env.sub()),
        "{subs:?}"
    );
    let one = arm.get_subscription(&env.sub()).await.unwrap();
    assert_eq!(one.subscription_id, env.sub());
    assert_eq!(one.state, "Enabled");
    let tenants = arm.list_tenants().await.unwrap();
    let home = &env.sim.sim.options.identity.tenant_id;
    assert!(tenants.iter().any(|t| &t.tenant_id == home), "{tenants:?}");
    let locations = arm.list_locations(&env.sub()).await.unwrap();
    assert!(
        locations
            .iter()
            .any(|l| l.name == "eastus" && !l.display_name.is_empty())
    );
}

#[tokio::test]
async fn a_provider_is_registered_and_waited_for_until_registered() {
    let env = Env::start().await;
    let arm = env.arm();
    let list = arm.list_providers(&env.sub()).await.unwrap();
    assert!(list.iter().any(|p| p.namespace == "Microsoft.Storage"));
    let before = arm
        .get_provider(&env.sub(), "Microsoft.DBforMySQL")
        .await
        .unwrap();
    assert_eq!(before.registration_state, "NotRegistered");
    assert!(!before.resource_types.is_empty());
    let after = arm
        .register_provider_and_wait(&env.sub(), "Microsoft.DBforMySQL")
        .await
        .unwrap();
    assert!(after.is_registered(), "{after:?}");
    let again = arm
        .get_provider(&env.sub(), "Microsoft.DBforMySQL")
        .await
        .unwrap();
    assert!(again.is_registered());
}

#[tokio::test]
async fn resource_groups_are_created_found_by_tag_and_deleted_through_their_poller() {
    let env = Env::start().await;
    let arm = env.arm();
    let sub = env.sub();
    let rg = arm
        .create_or_update_resource_group(&sub, "rg-a", "eastus", Some(&json!({"app": "lf"})))
        .await
        .unwrap();
    assert_eq!(rg.name, "rg-a");
    assert_eq!(rg.provisioning_state(), Some("Succeeded"));
    arm.create_or_update_resource_group(&sub, "rg-b", "westus", None)
        .await
        .unwrap();
    assert_eq!(
        arm.get_resource_group(&sub, "rg-a").await.unwrap().location,
        "eastus"
    );
    assert!(arm.resource_group_exists(&sub, "rg-a").await.unwrap());
    assert!(!arm.resource_group_exists(&sub, "rg-none").await.unwrap());
    let tagged = arm
        .list_resource_groups(&sub, Some(("app", Some("lf"))))
        .await
        .unwrap();
    assert_eq!(
        tagged.iter().map(|g| g.name.as_str()).collect::<Vec<_>>(),
        ["rg-a"]
    );
    let all = arm.list_resource_groups(&sub, None).await.unwrap();
    assert!(all.len() >= 2);
    let err = arm.get_resource_group(&sub, "rg-none").await.unwrap_err();
    assert_eq!(err.status(), Some(404));
    let poller = arm.begin_delete_resource_group(&sub, "rg-b").await.unwrap();
    assert!(matches!(
        poller.monitor(),
        Some(landfall_azure::Monitor::Location(_))
    ));
    poller.await.unwrap();
    assert!(!arm.resource_group_exists(&sub, "rg-b").await.unwrap());
}

#[tokio::test]
async fn a_group_deployment_validates_predicts_runs_and_lists_nested_operations_with_their_path() {
    let env = Env::start().await;
    let arm = env.arm();
    let sub = env.sub();
    env.group("rg-d").await;
    let scope = DeploymentScope::group(&sub, "rg-d");
    let inner = json!({"type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01",
        "name": "inner", "properties": {"mode": "Incremental",
        "expressionEvaluationOptions": {"scope": "inner"},
        "template": template(vec![storage("lfinner01")])}});
    let t = template(vec![storage("lfouter01"), inner]);

    match arm
        .validate_deployment(&scope, "main", &body(t.clone()))
        .await
        .unwrap()
    {
        Validation::Valid(v) => assert_eq!(v.properties.provisioning_state, "Succeeded"),
        Validation::Invalid(e) => panic!("{e:?}"),
    }
    let what_if = arm
        .begin_what_if(&scope, "main", &body(t.clone()))
        .await
        .unwrap();
    let result = WhatIfResponse::from_result(what_if.await.unwrap()).unwrap();
    assert!(
        result
            .properties
            .changes
            .iter()
            .any(|c| c.change_type == "Create"),
        "{result:?}"
    );

    let deployment = arm
        .begin_create_deployment(&scope, "main", &body(t))
        .await
        .unwrap()
        .await
        .unwrap();
    assert_eq!(deployment["properties"]["provisioningState"], "Succeeded");
    let got = arm.get_deployment(&scope, "main").await.unwrap();
    assert_eq!(got.properties.provisioning_state, "Succeeded");
    assert_eq!(got.properties.outputs["ok"]["value"], "yes");
    let list = arm.list_deployments(&scope).await.unwrap();
    assert!(list.iter().any(|d| d.name == "main"));

    let own = arm
        .list_deployment_operations(&scope, "main")
        .await
        .unwrap();
    assert!(
        own.iter().any(|o| o.nested_deployment().is_some()),
        "{own:?}"
    );
    let all = arm
        .list_deployment_operations_nested(&scope, "main")
        .await
        .unwrap();
    let names: Vec<(Vec<String>, Option<String>)> = all
        .iter()
        .map(|n| {
            let t = n.operation.properties.target_resource.as_ref();
            (n.path.clone(), t.and_then(|t| t.resource_name.clone()))
        })
        .collect();
    assert!(
        names.contains(&(
            vec!["main".into(), "inner".into()],
            Some("lfinner01".into())
        )),
        "{names:?}"
    );
    assert!(
        names.contains(&(vec!["main".into()], Some("lfouter01".into()))),
        "{names:?}"
    );

    let resources = arm.list_resources_in_group(&sub, "rg-d").await.unwrap();
    assert!(
        resources
            .iter()
            .any(|r| r.name == "lfouter01" && r.kind == "Microsoft.Storage/storageAccounts")
    );

    arm.begin_delete_deployment(&scope, "main")
        .await
        .unwrap()
        .await
        .unwrap();
    let err = arm.get_deployment(&scope, "main").await.unwrap_err();
    assert_eq!(err.status(), Some(404));
}

#[tokio::test]
async fn validate_gives_the_error_tree_and_cancel_stops_a_running_deployment() {
    let env = Env::start().await;
    let arm = env.arm();
    let sub = env.sub();
    env.group("rg-v").await;
    let scope = DeploymentScope::group(&sub, "rg-v");
    let bad = template(vec![storage("NOT_valid!")]);
    match arm
        .validate_deployment(&scope, "bad", &body(bad))
        .await
        .unwrap()
    {
        Validation::Invalid(e) => {
            assert_eq!(e.code, "InvalidTemplateDeployment");
            assert_eq!(e.root_causes()[0].code, "AccountNameInvalid");
        }
        Validation::Valid(v) => panic!("{v:?}"),
    }

    let poller = arm
        .begin_create_deployment(&scope, "slow", &body(template(vec![storage("lfslow01")])))
        .await
        .unwrap();
    drop(poller);
    arm.cancel_deployment(&scope, "slow").await.unwrap();
    let got = arm.get_deployment(&scope, "slow").await.unwrap();
    assert_eq!(got.properties.provisioning_state, "Canceled");
}

#[tokio::test]
async fn a_subscription_deployment_predicts_runs_and_creates_its_group() {
    let env = Env::start().await;
    let arm = env.arm();
    let sub = env.sub();
    let scope = DeploymentScope::subscription(&sub);
    let t = json!({"$schema": "https://schema.management.azure.com/schemas/2018-05-01/subscriptionDeploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "resources": [{"type": "Microsoft.Resources/resourceGroups", "apiVersion": "2022-09-01",
                       "name": "rg-from-sub", "location": "eastus"}]});
    let mut b = body(t);
    b["location"] = json!("eastus");
    let what_if = arm.begin_what_if(&scope, "sub1", &b).await.unwrap();
    WhatIfResponse::from_result(what_if.await.unwrap()).unwrap();
    arm.begin_create_deployment(&scope, "sub1", &b)
        .await
        .unwrap()
        .await
        .unwrap();
    assert_eq!(
        arm.get_deployment(&scope, "sub1")
            .await
            .unwrap()
            .properties
            .provisioning_state,
        "Succeeded"
    );
    assert!(
        arm.list_deployments(&scope)
            .await
            .unwrap()
            .iter()
            .any(|d| d.name == "sub1")
    );
    assert!(
        !arm.list_deployment_operations(&scope, "sub1")
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        arm.resource_group_exists(&sub, "rg-from-sub")
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn usages_skus_filtered_by_location_and_mysql_capabilities_are_read() {
    let env = Env::start().await;
    let arm = env.arm();
    let sub = env.sub();
    let usages = arm.list_compute_usages(&sub, "eastus").await.unwrap();
    assert!(
        usages
            .iter()
            .any(|u| u.name.value == "cores" && u.limit > 0),
        "{usages:?}"
    );
    let skus = arm.list_resource_skus(&sub, Some("eastus")).await.unwrap();
    assert!(!skus.is_empty());
    assert!(
        skus.iter()
            .all(|s| s.locations.iter().any(|l| l.eq_ignore_ascii_case("eastus")))
    );
    let caps = arm.list_mysql_capabilities(&sub, "eastus").await.unwrap();
    assert!(!caps.is_empty());
    // `supportedHAMode` on the wire (it was once read as `supportedHaMode`, always empty).
    assert!(
        caps.iter()
            .any(|c| c.supported_ha_mode.iter().any(|m| m == "ZoneRedundant")),
        "{caps:?}"
    );
}

#[tokio::test]
async fn free_and_invalid_names_are_told_apart_for_storage_key_vault_and_mysql() {
    let env = Env::start().await;
    let arm = env.arm();
    let sub = env.sub();
    assert!(
        arm.check_storage_name(&sub, "lffreename01")
            .await
            .unwrap()
            .name_available
    );
    let bad = arm.check_storage_name(&sub, "Bad_Name").await.unwrap();
    assert!(!bad.name_available);
    assert!(bad.reason.is_some());
    assert!(
        arm.check_key_vault_name(&sub, "lf-free-kv-01")
            .await
            .unwrap()
            .name_available
    );
    assert!(
        arm.check_mysql_name(&sub, Some("eastus"), "lf-free-db")
            .await
            .unwrap()
            .name_available
    );
    assert!(
        arm.check_mysql_name(&sub, None, "lf-free-db")
            .await
            .unwrap()
            .name_available
    );
}

#[tokio::test]
async fn a_deleted_vault_is_listed_found_and_purged_and_tagged_resources_are_listed() {
    let env = Env::start().await;
    let arm = env.arm();
    let sub = env.sub();
    env.group("rg-kv").await;
    let vault = format!(
        "/subscriptions/{sub}/resourcegroups/rg-kv/providers/Microsoft.KeyVault/vaults/lf-kv-gone"
    );
    let kv = json!({"type": "Microsoft.KeyVault/vaults", "apiVersion": "2023-07-01",
        "name": "lf-kv-gone", "location": "eastus", "tags": {"app": "lf"},
        "properties": {"tenantId": env.sim.sim.options.identity.tenant_id,
                       "sku": {"family": "A", "name": "standard"}, "accessPolicies": []}});
    let scope = DeploymentScope::group(&sub, "rg-kv");
    arm.begin_create_deployment(&scope, "kv", &body(template(vec![kv])))
        .await
        .unwrap()
        .await
        .unwrap();
    let tagged = arm
        .list_resources_by_tag(&sub, "app", Some("lf"))
        .await
        .unwrap();
    assert_eq!(
        tagged.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
        ["lf-kv-gone"]
    );
    assert_eq!(
        arm.list_resources_by_tag(&sub, "app", None)
            .await
            .unwrap()
            .len(),
        1
    );
    env.client.delete(&vault, "2023-07-01").await.unwrap();
    let deleted = arm.list_deleted_vaults(&sub).await.unwrap();
    assert!(
        deleted.iter().any(|v| v.name == "lf-kv-gone"),
        "{deleted:?}"
    );
    let one = arm
        .get_deleted_vault(&sub, "eastus", "lf-kv-gone")
        .await
        .unwrap();
    assert_eq!(one.location(), Some("eastus"));
    assert!(
        !arm.check_key_vault_name(&sub, "lf-kv-gone")
            .await
            .unwrap()
            .name_available
    );
    arm.begin_purge_deleted_vault(&sub, "eastus", "lf-kv-gone")
        .await
        .unwrap()
        .await
        .unwrap();
    let err = arm
        .get_deleted_vault(&sub, "eastus", "lf-kv-gone")
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404));
}

#[tokio::test]
async fn owner_can_write_role_assignments_and_contributor_cannot() {
    let env = Env::start().await;
    let arm = env.arm();
    let sub = env.sub();
    let write = "Microsoft.Authorization/roleAssignments/write";
    let owner = arm
        .list_permissions(&format!("/subscriptions/{sub}"))
        .await
        .unwrap();
    assert!(can(write, &owner), "{owner:?}");
    {
        let identity = env.sim.sim.options.identity.clone();
        let mut st = env.sim.sim.lock_state();
        let now = env.sim.sim.now();
        st.authorization.set_subscription_role(
            &identity,
            &identity.client_object_id,
            landfall_sim::arm::authorization::CONTRIBUTOR,
            now,
        );
    }
    env.group("rg-p").await;
    let contributor = arm
        .list_permissions(&format!("/subscriptions/{sub}/resourcegroups/rg-p"))
        .await
        .unwrap();
    assert!(!can(write, &contributor), "{contributor:?}");
    assert!(can("Microsoft.Storage/storageAccounts/write", &contributor));
}

#[tokio::test]
async fn an_unknown_subscription_is_an_http_error() {
    let env = Env::start().await;
    let err = env
        .arm()
        .get_subscription("00000000-0000-0000-0000-000000000000")
        .await;
    assert!(matches!(err, Err(Error::Http { .. })), "{err:?}");
}

// What the simulator does not show, on the scripted transport with a fake clock.
mod common;

mod scripted {
    use super::common::{ARM, T0, reply, setup};
    use landfall_azure::arm::{Arm, DeploymentScope, Validation};
    use landfall_azure::{Error, FakeClock, PollOptions, Timer};
    use serde_json::json;
    use std::sync::Arc;
    use std::time::Duration;

    #[tokio::test]
    async fn lists_follow_next_link_to_the_last_page() {
        let (client, fake, _) = setup(vec![
            reply(
                200,
                &[],
                json!({"value": [{"name": "a"}], "nextLink": format!("{ARM}/subscriptions/s/resourcegroups?api-version=2024-03-01&$skiptoken=2")}),
            ),
            reply(
                200,
                &[],
                json!({"value": [{"name": "b"}, {"name": "c"}], "nextLink": ""}),
            ),
        ]);
        let groups = Arm::new(&client)
            .list_resource_groups("s", Some(("app", Some("it's"))))
            .await
            .unwrap();
        let names: Vec<_> = groups.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        let seen = fake.seen();
        assert_eq!(seen.len(), 2);
        assert!(
            seen[0].url.contains(
                "$filter=tagName%20eq%20%27app%27%20and%20tagValue%20eq%20%27it%27%27s%27"
            ),
            "{}",
            seen[0].url
        );
        assert!(seen[1].url.contains("skiptoken=2"));
    }

    #[tokio::test]
    async fn register_waits_on_the_poll_clock_until_registered() {
        let provider = |s: &str| json!({"namespace": "Microsoft.Web", "registrationState": s});
        let (client, fake, _) = setup(vec![
            reply(200, &[], provider("Registering")),
            reply(200, &[], provider("Registering")),
            reply(200, &[], provider("Registered")),
        ]);
        let p = Arm::new(&client)
            .register_provider_and_wait("s", "Microsoft.Web")
            .await
            .unwrap();
        assert!(p.is_registered());
        assert_eq!(fake.times(), [0.0, 5.0, 10.0]);
        assert_eq!(
            fake.calls(),
            [
                "POST /subscriptions/s/providers/Microsoft.Web/register",
                "GET /subscriptions/s/providers/Microsoft.Web",
                "GET /subscriptions/s/providers/Microsoft.Web",
            ]
        );
    }

    #[tokio::test]
    async fn register_gives_up_after_the_max_wait() {
        let provider = json!({"namespace": "Microsoft.Web", "registrationState": "Registering"});
        let clock = Arc::new(FakeClock::new(T0));
        let fake =
            super::common::Fake::new(clock.clone(), vec![reply(200, &[], provider.clone()); 4]);
        let poll = PollOptions {
            max_wait: Duration::from_secs(12),
            ..PollOptions::default()
        };
        let client = super::common::client_on(
            fake.clone(),
            Timer::fake(clock),
            super::common::exact_throttle(),
            poll,
        );
        let err = Arm::new(&client)
            .register_provider_and_wait("s", "Microsoft.Web")
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::Timeout { last_status, .. } if last_status == "Registering"),
            "{err:?}"
        );
        assert_eq!(fake.times(), [0.0, 5.0, 10.0, 12.0]);
    }

    #[tokio::test]
    async fn validate_follows_a_202_to_its_400_error_tree() {
        let loc = format!("{ARM}/subscriptions/s/operationresults/v1?api-version=2024-03-01");
        let (client, _, _) = setup(vec![
            reply(
                202,
                &[("location", &loc), ("retry-after", "2")],
                json!(null),
            ),
            reply(
                400,
                &[],
                json!({"error": {"code": "InvalidTemplateDeployment", "message": "m",
                    "details": [{"code": "PreflightValidationCheckFailed", "message": "p",
                        "details": [{"code": "AccountNameInvalid", "message": "a"}]}]}}),
            ),
        ]);
        let v = Arm::new(&client)
            .validate_deployment(&DeploymentScope::group("s", "rg"), "d", &json!({}))
            .await
            .unwrap();
        let Validation::Invalid(tree) = v else {
            panic!("{v:?}")
        };
        assert_eq!(tree.root_causes()[0].code, "AccountNameInvalid");
    }
}
