//! The rest of an instance's life against the simulator: teardown (with purge, and refused for
//! an untagged group), discovery from another journal, and the support bundle.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::Read;
use std::sync::Arc;

use landfall_azure::CancelToken;
use landfall_azure::arm::Arm;
use landfall_azure::auth::SecretStore;
use landfall_engine::installer::{Installer, Prepared, SECRET_SERVICE};
use landfall_engine::instances::{InstanceSource, discover};
use landfall_engine::journal::{InstanceRecord, InstanceState, Journal, RunState};
use landfall_engine::support::support_bundle;
use landfall_engine::teardown::teardown;
use landfall_engine::{DeploymentEvent, EngineError, Outcome, RunKind};
use landfall_sim::Scenario;
use serde_json::{Value as Json, json};
use support::{Collect, Env};

async fn installed() -> (Env, Installer, Prepared, String) {
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
    let (run_id, result) = installer
        .install(
            &prepared,
            RunKind::Install,
            &Collect::default(),
            CancelToken::new(),
        )
        .await
        .unwrap();
    assert_eq!(result.outcome, Outcome::Succeeded, "{:?}", result.error);
    (env, installer, prepared, run_id)
}

fn password_key(env: &Env) -> String {
    format!(
        "instance/{}/lftest/mysqlAdminPassword",
        env.target.subscription_id
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teardown_with_purge_deletes_the_group_purges_the_vault_and_marks_the_instance_deleted() {
    let (env, installer, prepared, _) = installed().await;
    let sub = env.target.subscription_id.clone();
    assert!(
        env.secrets
            .get(SECRET_SERVICE, &password_key(&env))
            .unwrap()
            .is_some()
    );
    let sink = Collect::default();
    let (run_id, result) = teardown(&installer, "lftest", true, &sink, CancelToken::new())
        .await
        .unwrap();
    assert_eq!(result.outcome, Outcome::Succeeded, "{:?}", result.error);

    let arm = Arm::new(installer.client());
    match arm.get_resource_group(&sub, &prepared.resource_group).await {
        Err(landfall_azure::Error::Http { status: 404, .. }) => {}
        other => panic!("the group is still there: {other:?}"),
    }
    let vaults: Vec<String> = result.outputs["vaults"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(vaults.len(), 1, "{}", result.outputs);
    assert_eq!(result.outputs["purges"][0]["result"], "purged");
    let deleted = arm.list_deleted_vaults(&sub).await.unwrap();
    assert!(
        deleted
            .iter()
            .all(|d| !d.name.eq_ignore_ascii_case(&vaults[0])),
        "{deleted:?}"
    );

    let journal = installer.journal();
    let instance = journal.instance("lftest").unwrap().unwrap();
    assert_eq!(instance.state, InstanceState::Deleted);
    assert_eq!(instance.last_run_id.as_deref(), Some(run_id.as_str()));
    let run = journal.run(&run_id).unwrap().unwrap();
    assert_eq!(run.kind, RunKind::Teardown);
    assert_eq!(run.state, RunState::Succeeded);
    // A teardown run is never resumed or retried as an install.
    let resumed = installer
        .resume(&run_id, &Collect::default(), CancelToken::new())
        .await
        .unwrap_err();
    assert!(resumed.to_string().contains("teardown"), "{resumed}");
    let retried = installer
        .retry(&run_id, None, &Collect::default(), CancelToken::new())
        .await
        .unwrap_err();
    assert!(retried.to_string().contains("teardown"), "{retried}");

    let events = journal.events(&run_id, 0).unwrap();
    assert_eq!(
        events,
        sink.all(),
        "published exactly what the journal holds"
    );
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.seq, i as u64 + 1);
    }
    let DeploymentEvent::RunStarted { stages, kind, .. } = &events[0].event else {
        panic!("first is {}", events[0].event.name());
    };
    assert_eq!(*kind, RunKind::Teardown);
    let planned = stages[0].resources.len();
    assert!(planned >= 5, "{planned} resources announced");
    let gone = sink
        .names()
        .iter()
        .filter(|n| **n == "resourceSucceeded")
        .count();
    assert_eq!(gone, planned);
    assert!(sink.names().contains(&"progress"));
    assert!(matches!(
        &events.last().unwrap().event,
        DeploymentEvent::RunFinished {
            outcome: Outcome::Succeeded,
            ..
        }
    ));
    let snapshot = installer.snapshot(&run_id).unwrap();
    assert!(snapshot.is_finished());
    // Deleting the instance removes its kept secret.
    assert!(
        env.secrets
            .get(SECRET_SERVICE, &password_key(&env))
            .unwrap()
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teardown_refuses_a_group_without_the_instance_tag() {
    let env = Env::start(
        Scenario {
            no_throttling: true,
            ..Scenario::default()
        },
        10.0,
    )
    .await;
    let installer = env.installer();
    let sub = env.target.subscription_id.clone();
    let arm = Arm::new(installer.client());
    arm.create_or_update_resource_group(&sub, "rg-customer", "eastus", None)
        .await
        .unwrap();
    arm.create_or_update_resource_group(
        &sub,
        "rg-someone-else",
        "eastus",
        Some(&json!({"landfall-instance": "other"})),
    )
    .await
    .unwrap();
    let now = installer.now();
    for (name, group) in [("mine", "rg-customer"), ("yours", "rg-someone-else")] {
        installer
            .journal()
            .upsert_instance(&InstanceRecord {
                name: name.into(),
                subscription_id: sub.clone(),
                resource_group: group.into(),
                location: "eastus".into(),
                manifest_name: "data-platform".into(),
                manifest_version: "1".into(),
                state: InstanceState::Deployed,
                inputs: json!({}),
                outputs: Json::Null,
                last_run_id: None,
                created_at: now,
                updated_at: now,
            })
            .unwrap();
        let err = teardown(
            &installer,
            name,
            false,
            &Collect::default(),
            CancelToken::new(),
        )
        .await
        .unwrap_err();
        match &err {
            EngineError::Refused(m) => {
                assert!(m.contains(group) && m.contains("landfall-instance"), "{m}")
            }
            other => panic!("{other:?}"),
        }
        assert!(arm.resource_group_exists(&sub, group).await.unwrap());
        assert!(installer.journal().runs(Some(name)).unwrap().is_empty());
        let instance = installer.journal().instance(name).unwrap().unwrap();
        assert_eq!(instance.state, InstanceState::Deployed);
    }
    let deletes = env
        .requests()
        .into_iter()
        .filter(|(m, _, _)| m == "DELETE")
        .count();
    assert_eq!(deletes, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discover_finds_an_instance_deployed_from_another_journal() {
    let (env, installer, prepared, run_id) = installed().await;
    let sub = env.target.subscription_id.clone();
    let mine = discover(&installer, &sub).await.unwrap();
    let seen = mine.iter().find(|v| v.name == "lftest").unwrap();
    assert_eq!(seen.source, InstanceSource::Both);
    assert_eq!(seen.state, Some(InstanceState::Deployed));
    assert_eq!(seen.last_run_id.as_deref(), Some(run_id.as_str()));
    assert_eq!(mine.len(), 1, "{mine:?}");

    let other = Arc::new(Journal::open(env.dir.path().join("other.sqlite")).unwrap());
    let elsewhere = Installer::new(
        Arc::new(env.client()),
        other,
        env.bundle.clone(),
        env.secrets.clone(),
    );
    let found = discover(&elsewhere, &sub).await.unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    let view = &found[0];
    assert_eq!(view.name, "lftest");
    assert_eq!(view.source, InstanceSource::Azure);
    assert_eq!(view.state, None);
    assert_eq!(view.resource_group, prepared.resource_group);
    assert_eq!(view.location, "eastus");
    assert_eq!(view.version, env.bundle.manifest.version);
    let wire = serde_json::to_value(view).unwrap();
    assert_eq!(wire["resourceGroup"], json!(prepared.resource_group));
    assert_eq!(wire["source"], "azure");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn support_bundle_holds_the_run_and_no_secret() {
    let (env, installer, _, run_id) = installed().await;
    let out = env.dir.path().join("support.zip");
    support_bundle(&installer, &run_id, &out).unwrap();

    let mut zip = zip::ZipArchive::new(std::fs::File::open(&out).unwrap()).unwrap();
    let mut names: Vec<String> = zip.file_names().map(|n| n.unwrap().into_owned()).collect();
    names.sort();
    let mut expected: Vec<String> = landfall_engine::support::BUNDLE_FILES
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    expected.sort();
    assert_eq!(names, expected);

    let mut text = std::collections::BTreeMap::new();
    for name in &names {
        let mut s = String::new();
        zip.by_name(name).unwrap().read_to_string(&mut s).unwrap();
        text.insert(name.clone(), s);
    }
    let events = installer.journal().events(&run_id, 0).unwrap();
    assert_eq!(text["events.ndjson"].lines().count(), events.len());
    let first: Json = serde_json::from_str(text["events.ndjson"].lines().next().unwrap()).unwrap();
    assert_eq!(first["event"], "runStarted");
    let run: Json = serde_json::from_str(&text["run.json"]).unwrap();
    assert_eq!(run["runId"], json!(run_id));
    let versions: Json = serde_json::from_str(&text["versions.json"]).unwrap();
    assert_eq!(versions["manifest"]["digest"], json!(env.bundle.digest));
    let correlation: Json = serde_json::from_str(&text["correlation.json"]).unwrap();
    assert_eq!(
        correlation["stages"].as_array().unwrap().len(),
        env.bundle.manifest.stages.len()
    );
    let plan: Json = serde_json::from_str(&text["plan.json"]).unwrap();
    assert!(!plan["stages"].as_array().unwrap().is_empty());
    let errors: Json = serde_json::from_str(&text["errors.json"]).unwrap();
    assert_eq!(errors, json!([]));

    let password = env
        .secrets
        .get(SECRET_SERVICE, &password_key(&env))
        .unwrap()
        .unwrap();
    let client_secret = env.sim.sim.options.identity.client_secret.clone();
    for secret in [password.secret(), client_secret.as_str()] {
        assert!(secret.len() >= 8);
        for (name, body) in &text {
            assert!(!body.contains(secret), "a secret is in {name}");
        }
        let raw = std::fs::read(&out).unwrap();
        assert!(!raw.windows(secret.len()).any(|w| w == secret.as_bytes()));
    }
    // Written by rename: no temporary file is left next to it.
    let left: Vec<_> = std::fs::read_dir(env.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
