//! The bundle: loading and its checks (digest, templates, references, the stage graph), the
//! offline plan of every stage for every preset and for a generated spread of inputs, stage
//! parameters, instance outputs and the cost estimate. Runs on the fixture bundle and, once
//! it exists, on the real one in templates/data-platform.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "fixtures/support.rs"]
mod support;

use std::collections::HashSet;

use indexmap::IndexMap;
use landfall_engine::bundle::{self, Bundle, DIGEST_FILE};
use landfall_engine::cost;
use landfall_engine::inputs::{self, ValidInputs};
use landfall_engine::manifest::CostCategory;
use landfall_engine::render::{self, StageGraph};
use landfall_engine::{EngineError, Target};
use landfall_template::Value;
use proptest::test_runner::{Config, TestRunner};
use serde_json::json;
use support::*;

fn bundle_error(r: Result<Bundle, EngineError>) -> String {
    match r {
        Err(EngineError::Bundle(m)) => m,
        Err(other) => panic!("expected a bundle error, got {other}"),
        Ok(b) => panic!("expected a bundle error, got {b:?}"),
    }
}

fn fixture() -> Bundle {
    Bundle::from_dir(fixture_dir()).unwrap()
}

fn valid(b: &Bundle, preset: Option<&str>, sets: &[&str]) -> ValidInputs {
    let sets: Vec<String> = sets.iter().map(|s| (*s).to_owned()).collect();
    let v = inputs::resolve(&b.manifest, preset, None, &sets).unwrap();
    inputs::validate(&b.manifest, &v, &target()).unwrap()
}

// ---- loading --------------------------------------------------------------------------------

#[test]
fn the_fixture_bundle_loads_and_its_digest_matches() {
    let b = fixture();
    let files = fixture_files();
    assert_eq!(b.digest, bundle::compute_digest(&files));
    assert_eq!(files[DIGEST_FILE].trim(), b.digest);
    assert!(b.digest.starts_with("sha256:") && b.digest.len() == 7 + 64);
    assert_eq!(b.manifest.name, "mini-platform");
    assert!(
        b.template("compute")
            .unwrap()
            .parameters()
            .contains_key("subnetId")
    );
    assert!(matches!(b.template("nope"), Err(EngineError::NotFound(_))));
}

#[test]
fn the_digest_covers_paths_lengths_and_bytes_but_not_itself() {
    let files: IndexMap<String, String> = [("b.json", "{}"), ("a.json", "x")]
        .iter()
        .map(|(k, v)| ((*k).into(), (*v).into()))
        .collect();
    let d = bundle::compute_digest(&files);
    // Order of insertion does not matter; the digest file does not count.
    let mut reordered: IndexMap<String, String> = files
        .iter()
        .rev()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    reordered.insert(DIGEST_FILE.into(), "anything".into());
    assert_eq!(bundle::compute_digest(&reordered), d);
    // Moving a byte between a path and its content changes it.
    let shifted: IndexMap<String, String> = [("b.json", "{}"), ("a.jso", "nx")]
        .iter()
        .map(|(k, v)| ((*k).into(), (*v).into()))
        .collect();
    assert_ne!(bundle::compute_digest(&shifted), d);
    // The hashed stream: "a.json" NUL "1" NUL "x" "b.json" NUL "2" NUL "{}".
    assert_eq!(d, sha256_of(b"a.json\x001\x00xb.json\x002\x00{}"));
}

fn sha256_of(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let hex: String = Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
}

#[test]
fn a_tampered_file_fails_with_the_digest_error() {
    let mut files = fixture_files();
    let t = files.get_mut("templates/network.json").unwrap();
    *t = t.replace("10.10.0.0/16", "10.11.0.0/16");
    let expected = files[DIGEST_FILE].trim().to_owned();
    let found = bundle::compute_digest(&files);
    let m = bundle_error(Bundle::from_files(files));
    assert_eq!(
        m,
        format!(
            "the bundle: its files do not match its digest: digest.txt says {expected}, the files hash to {found}; if the change is intended, regenerate it with `landfall manifest digest DIR --write`"
        )
    );
    let e = EngineError::Bundle(m);
    assert_eq!(e.code(), "bundle");
}

#[test]
fn a_missing_digest_says_how_to_create_it() {
    let mut files = fixture_files();
    files.shift_remove(DIGEST_FILE);
    let m = bundle_error(Bundle::from_files(files));
    assert!(
        m.contains("it has no digest.txt; create it with `landfall manifest digest DIR --write`"),
        "{m}"
    );
}

#[test]
fn a_bundle_folder_names_itself_in_errors() {
    let dir = std::env::temp_dir().join(format!("landfall-bundle-test-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    for (k, v) in fixture_files() {
        std::fs::write(dir.join(&k), v).unwrap();
    }
    std::fs::write(dir.join(".hidden"), "not part of the bundle").unwrap();
    assert!(Bundle::from_dir(&dir).is_ok(), "dot files are left out");
    std::fs::write(dir.join("README.md"), "notes").unwrap();
    let m = bundle_error(Bundle::from_dir(&dir));
    assert!(
        m.starts_with(&format!(
            "the bundle at {}: its files do not match",
            dir.display()
        )),
        "{m}"
    );
    assert!(
        m.contains(&format!(
            "landfall manifest digest {} --write",
            dir.display()
        )),
        "{m}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
    let m = bundle_error(Bundle::from_dir(&dir));
    assert!(m.starts_with("there is no bundle folder at"), "{m}");
}

#[test]
fn the_builtin_bundle_loads_when_the_templates_exist() {
    match real_dir() {
        Some(dir) => {
            let b = Bundle::builtin().unwrap();
            let files = bundle::read_dir(&dir).unwrap();
            assert_eq!(b.digest, bundle::compute_digest(&files));
            assert_eq!(b.files, files, "the compiled files are the folder's files");
        }
        None => {
            let m = bundle_error(Bundle::builtin());
            assert!(m.contains("this build has no built-in bundle"), "{m}");
        }
    }
}

#[test]
fn a_template_that_is_not_json_is_named_with_line_and_column() {
    let m = bundle_error(files_with(
        |_| {},
        |f| {
            f.insert(
                "templates/network.json".into(),
                "{\n  \"resources\": [\n    {\"type\": }\n  ]\n}".into(),
            );
        },
    ));
    assert!(
        m.starts_with("the bundle: templates/network.json: InvalidTemplateJson:"),
        "{m}"
    );
    assert!(m.contains("line 3"), "{m}");
}

#[test]
fn a_cyclic_manifest_is_rejected_naming_the_stages() {
    let m = bundle_error(bundle_with(|j| {
        j["stages"][0]["parameters"]["vnetName"] = json!("[stageOutputs('compute').clusterId]");
    }));
    assert_eq!(
        m,
        "the bundle: the stages depend on each other in a cycle: network -> compute -> network"
    );
    let m = bundle_error(bundle_with(|j| {
        j["stages"][1]["parameters"]["workspaceName"] =
            json!("[stageOutputs('monitoring').workspaceId]");
    }));
    assert!(
        m.contains(
            "stage 'monitoring', parameter 'workspaceName': a stage cannot use its own outputs"
        ),
        "{m}"
    );
}

#[test]
fn dangling_and_misplaced_references_are_all_reported_with_positions() {
    let m = bundle_error(bundle_with(|j| {
        j["stages"][2]["parameters"]["delegatedSubnetId"] =
            json!("[stageOutputs('netwrk').dbSubnetId]");
        j["stages"][3]["parameters"]["subnetId"] = json!("[stageOutputs('network').podSubnetId]");
        j["stages"][3]["parameters"]["vmSize"] = json!("[inputs('vmSize')]");
        j["names"]["vnet"]["value"] = json!("[names('network')]");
        j["inputs"][2]["group"] = json!("sizing");
        j["presets"][0]["values"]["nodes"] = json!(3);
        j["cost"][0]["monthly"] =
            json!("[mul(price('vm/Standard_E2s_v5'), stageOutputs('compute').nodes)]");
        j["outputs"]["instanceUrl"]["value"] = json!("[price('x')]");
    }));
    let expected = [
        "manifest.json line 39, column 30 (stages[2].parameters.delegatedSubnetId): stageOutputs('netwrk') names no stage",
        "(stages[3].parameters.vmSize): inputs('vmSize') names no input",
        "(stages[3].parameters.subnetId): stageOutputs('network').podSubnetId: templates/network.json declares no output 'podSubnetId' (it declares vnetId, aksSubnetId, dbSubnetId)",
        "(inputs[2].group): the input 'nodeVmSize' is in the group 'sizing', which is not declared",
        "(presets[0].values.nodes): the preset 'demo' sets 'nodes', which is not an input",
        "(names.vnet.value): names('network') names no derived name",
        "(outputs.instanceUrl.value): price() can be used only in cost formulas",
        "(cost[0].monthly): the price snapshot has no price for the meter 'vm/Standard_E2s_v5' in eastus, westeurope",
        "(cost[0].monthly): stageOutputs() can be used only in stage parameters and instance outputs",
    ];
    for e in expected {
        assert!(m.contains(e), "missing «{e}» in {m}");
    }
}

#[test]
fn structural_mistakes_are_reported() {
    let m = bundle_error(bundle_with(|j| {
        j["schemaVersion"] = json!(2);
        j["stages"][1]["name"] = json!("network");
        j["stages"][2]["template"] = json!("templates/missing.json");
        j["stages"][3]["parameters"]["extra"] = json!(1);
        j["stages"][3]["parameters"]
            .as_object_mut()
            .unwrap()
            .remove("workspaceId");
        j["inputs"][3]["generate"] = json!("password");
        j["inputs"][4]["min"] = json!(11);
        j["inputs"][2]["allowed"] = json!(["Standard_D2s_v5", 4]);
        j["inputs"][8]["charset"] = json!("ascii");
        j["names"]["vnet"]["rule"] = json!("vnet");
        j["cost"][1]["stage"] = json!("database");
    }));
    let expected = [
        "(schemaVersion): schema version 2 is not the one this build reads (1)",
        "(stages[1].name): the stage name 'network' is used twice",
        "(stages[2].template): the stage 'data' uses the template templates/missing.json, which is not in the bundle",
        "(stages[3].parameters.extra): templates/compute.json declares no parameter 'extra'; it declares clusterName,",
        "(stages[3].parameters): templates/compute.json needs the parameter 'workspaceId', which the stage does not give",
        "(inputs[3].generate): the input 'nodeCount' is not a secret, so nothing can be generated for it",
        "(inputs[4].min): min 11 is above max 10",
        "(inputs[2].allowed[1]): the allowed value 4 is not of the input's type",
        "(inputs[8].charset): unknown character set 'ascii'; known: lowerAlnum,",
        "(names.vnet.rule): unknown naming rule 'vnet'; known: storageAccount,",
        "(cost[1].stage): the cost line 'MySQL server' names no stage 'database'",
    ];
    for e in expected {
        assert!(m.contains(e), "missing «{e}» in {m}");
    }
    let m = bundle_error(bundle_with(|j| {
        j["stages"][0]["bogus"] = json!(1);
    }));
    assert!(m.starts_with("the bundle: manifest.json line "), "{m}");
    assert!(m.contains("unknown field `bogus`"), "{m}");
    let m = bundle_error(bundle_with(|j| {
        j["inputs"].as_array_mut().unwrap().remove(1);
    }));
    assert!(
        m.contains("the engine needs an input 'location' (string); there is none"),
        "{m}"
    );
}

// ---- the stage graph ------------------------------------------------------------------------

#[test]
fn the_stage_graph_comes_from_stage_output_references() {
    let b = fixture();
    let g = b.stage_graph();
    assert_eq!(g, &StageGraph::from_manifest(&b.manifest).unwrap());
    assert_eq!(
        g.waves(),
        vec![vec!["network", "monitoring"], vec!["data", "compute"]]
    );
    assert_eq!(g.depends_on("compute"), ["network", "monitoring"]);
    assert!(g.depends_on("network").is_empty());
    assert_eq!(g.dependents("network"), vec!["data", "compute"]);
    let done: HashSet<String> = ["network".to_owned()].into();
    assert_eq!(g.ready(&done), vec!["monitoring", "data"]);
    let done: HashSet<String> = g.stages().map(str::to_owned).collect();
    assert!(g.ready(&done).is_empty());
}

// ---- plans, parameters, outputs, cost ------------------------------------------------------

fn rg_id() -> String {
    format!("/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-contoso")
}

#[test]
fn the_plan_threads_known_outputs_and_defers_the_rest() {
    let b = fixture();
    let v = valid(&b, Some("demo"), &["name=contoso"]);
    let plan = render::plan_instance(&b, &v, &target()).unwrap();
    assert_eq!(
        plan.stages
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>(),
        vec!["network", "monitoring", "data", "compute"]
    );
    assert_eq!(plan.resource_group, "rg-contoso");
    assert_eq!(plan.resource_count(), 6);
    let data = plan.stage("data").unwrap();
    assert_eq!(data.depends_on, vec!["network"]);
    assert_eq!(data.deployment_name, "landfall-contoso-data");
    assert_eq!(
        data.parameters["delegatedSubnetId"],
        Value::str(format!(
            "{}/providers/Microsoft.Network/virtualNetworks/vnet-contoso/subnets/db",
            rg_id()
        ))
    );
    let mysql = data
        .resources
        .iter()
        .find(|r| r.resource_type == "Microsoft.DBforMySQL/flexibleServers")
        .unwrap();
    assert_eq!(
        mysql.id,
        format!(
            "{}/providers/Microsoft.DBforMySQL/flexibleServers/contoso-mysql",
            rg_id()
        )
    );
    assert_eq!(
        mysql
            .properties
            .get("storage")
            .and_then(|s| s.get("storageSizeGB")),
        Some(&Value::Int(20))
    );
    let tags = mysql.extra.get("tags").unwrap();
    assert_eq!(tags.get("landfall-instance"), Some(&Value::str("contoso")));
    match &data.outputs["blobEndpoint"].value {
        Value::Deferred(d) => assert!(d.expr.starts_with("reference("), "{}", d.expr),
        other => panic!("expected a deferred endpoint, got {other:?}"),
    }
    let compute = plan.stage("compute").unwrap();
    let aks = &compute.resources[0];
    let pool = &aks
        .properties
        .get("agentPoolProfiles")
        .unwrap()
        .as_array()
        .unwrap()[0];
    assert_eq!(pool.get("count"), Some(&Value::Int(1)));
    assert_eq!(
        pool.get("vnetSubnetID"),
        Some(&Value::str(format!(
            "{}/providers/Microsoft.Network/virtualNetworks/vnet-contoso/subnets/aks",
            rg_id()
        )))
    );
}

#[test]
fn the_plan_json_masks_every_secret() {
    let b = fixture();
    let secret = "Sup3r-Secret-Value!";
    let v = valid(
        &b,
        None,
        &["name=contoso", &format!("dbAdminPassword={secret}")],
    );
    let plan = render::plan_instance(&b, &v, &target()).unwrap();
    let text = plan.to_json().to_string();
    assert!(!text.contains(secret), "{text}");
    assert!(text.contains("********"));
    assert!(!format!("{plan:?}").contains(secret));
    let data = &plan.to_json()["stages"][2];
    assert_eq!(data["name"], json!("data"));
    assert_eq!(data["parameters"]["adminPassword"], json!("********"));
    assert_eq!(data["parameters"]["adminLogin"], json!("lfadmin"));
}

#[test]
fn stage_parameters_take_the_outputs_azure_returned() {
    let b = fixture();
    let v = valid(&b, Some("large"), &["name=contoso"]);
    let net = json!({
        "vnetId": "/subscriptions/x/vnet",
        "aksSubnetId": "/subscriptions/x/vnet/subnets/aks",
        "dbSubnetId": "/subscriptions/x/vnet/subnets/db"
    });
    let mon = json!({"workspaceId": "/subscriptions/x/ws"});
    let outputs: IndexMap<String, serde_json::Value> =
        [("network".to_owned(), net), ("monitoring".to_owned(), mon)]
            .into_iter()
            .collect();
    let p = render::stage_parameters(&b, "compute", &v, &target(), &outputs).unwrap();
    assert_eq!(
        p["subnetId"],
        json!({"value": "/subscriptions/x/vnet/subnets/aks"})
    );
    assert_eq!(p["workspaceId"], json!({"value": "/subscriptions/x/ws"}));
    assert_eq!(p["nodeCount"], json!({"value": 5}));
    assert_eq!(p["vmSize"], json!({"value": "Standard_D4s_v5"}));
    assert_eq!(
        p["tags"],
        json!({"value": {"landfall-instance": "contoso", "landfall-version": "0.3.0"}})
    );
    // The password goes to Azure as the secureString parameter it is.
    let p = render::stage_parameters(&b, "data", &v, &target(), &outputs).unwrap();
    assert_eq!(
        p["adminPassword"]["value"].as_str(),
        v.value("dbAdminPassword").and_then(|x| x.as_str())
    );
    assert_eq!(p["highAvailability"], json!({"value": true}));

    let only_net: IndexMap<String, serde_json::Value> = outputs
        .iter()
        .take(1)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let e = render::stage_parameters(&b, "compute", &v, &target(), &only_net).unwrap_err();
    assert_eq!(
        e.to_string(),
        "stage 'compute': it needs the outputs of the stage 'monitoring', which has not finished"
    );
}

#[test]
fn stage_parameters_are_checked_against_the_template() {
    let b = bundle_with(|j| j["stages"][3]["parameters"]["nodeCount"] = json!(500)).unwrap();
    let v = valid(&b, None, &["name=contoso"]);
    let outputs: IndexMap<String, serde_json::Value> = [
        ("network".to_owned(), json!({"aksSubnetId": "s"})),
        ("monitoring".to_owned(), json!({"workspaceId": "w"})),
    ]
    .into_iter()
    .collect();
    let e = render::stage_parameters(&b, "compute", &v, &target(), &outputs).unwrap_err();
    assert_eq!(
        e.to_string(),
        "stage 'compute': parameter 'nodeCount': The provided value '500' for the template parameter 'nodeCount' is not valid. The value must be less than or equal to '100'."
    );
    let e = render::plan_instance(&b, &v, &target()).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("stage 'compute': templates/compute.json: "),
        "{e}"
    );
}

#[test]
fn instance_outputs_come_from_finished_stages() {
    let b = fixture();
    let v = valid(&b, None, &["name=contoso"]);
    let outputs: IndexMap<String, serde_json::Value> = [(
        "compute".to_owned(),
        json!({"fqdn": "aks-contoso-1a2b.hcp.eastus.azmk8s.io", "clusterId": "x"}),
    )]
    .into_iter()
    .collect();
    let o = render::instance_outputs(&b.manifest, &v, &outputs).unwrap();
    assert_eq!(
        o,
        json!({"instanceUrl": "https://aks-contoso-1a2b.hcp.eastus.azmk8s.io"})
    );
}

#[test]
fn the_cost_estimate_follows_the_snapshot() {
    let b = fixture();
    let v = valid(&b, Some("demo"), &["name=contoso"]);
    let c = cost::estimate(&b.manifest, &v).unwrap();
    let lines: Vec<(&str, f64)> = c
        .lines
        .iter()
        .map(|l| (l.label.as_str(), l.monthly))
        .collect();
    // 0.096 x 730 x 1; 0.137 x 730; 0.115 x 20; 0.0208 x 100; 2.30 x 5.
    assert_eq!(
        lines,
        vec![
            ("Cluster nodes", 70.08),
            ("MySQL server", 100.01),
            ("MySQL storage", 2.3),
            ("Blob storage (100 GiB)", 2.08),
            ("Log Analytics (5 GiB)", 11.5),
        ]
    );
    assert_eq!(c.total, 185.97);
    assert_eq!(
        c.by_category
            .iter()
            .map(|(k, v)| (*k, *v))
            .collect::<Vec<_>>(),
        vec![
            (CostCategory::Compute, 70.08),
            (CostCategory::Database, 102.31),
            (CostCategory::Storage, 2.08),
            (CostCategory::Network, 11.5),
        ]
    );
    let j = serde_json::to_value(&c).unwrap();
    assert_eq!(j["priceDate"], json!("2026-10-01"));
    assert_eq!(j["byCategory"]["database"], json!(102.31));
    assert_eq!(j["lines"][0]["category"], json!("compute"));

    // High availability doubles the server; a bigger region price moves the total.
    let v = valid(&b, Some("large"), &["name=contoso", "location=westeurope"]);
    let c = cost::estimate(&b.manifest, &v).unwrap();
    assert_eq!(c.lines[0].monthly, 803.0); // 0.22 x 730 x 5
    assert_eq!(c.lines[1].monthly, 220.46); // 0.151 x 730 x 2
}

#[test]
fn a_meter_missing_from_the_region_is_a_clear_error() {
    let b = bundle_with(|j| {
        j["prices"]["regions"]["westeurope"]
            .as_object_mut()
            .unwrap()
            .remove("vm/Standard_D4s_v5");
    })
    .unwrap();
    let v = valid(&b, Some("large"), &["name=contoso", "location=westeurope"]);
    let e = cost::estimate(&b.manifest, &v).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the template bundle is not usable: cost line 'Cluster nodes': the price snapshot of 2026-10-01 has no price for the meter 'vm/Standard_D4s_v5' in the region 'westeurope' (at position 5 of '[mul(price(concat('vm/', inputs('nodeVmSize'))), 730, inputs('nodeCount'))]')"
    );
}

// ---- every preset and a spread of inputs ---------------------------------------------------

/// Every preset validates, plans every stage offline, renders parameters the templates
/// accept, and costs something.
fn every_preset_plans(b: &Bundle) {
    for preset in &b.manifest.presets {
        let v = valid(b, Some(&preset.name), &["name=lfcheck"]);
        let plan = render::plan_instance(b, &v, &target())
            .unwrap_or_else(|e| panic!("preset {}: {e}", preset.name));
        assert_eq!(plan.stages.len(), b.manifest.stages.len());
        for s in &plan.stages {
            assert!(
                !s.resources.is_empty(),
                "preset {}: stage {} creates nothing",
                preset.name,
                s.name
            );
        }
        let c = cost::estimate(&b.manifest, &v).unwrap();
        assert!(c.total > 0.0, "preset {}: {c:?}", preset.name);
    }
}

#[test]
fn every_fixture_preset_plans_offline() {
    every_preset_plans(&fixture());
}

#[test]
fn every_real_preset_plans_offline() {
    let Some(dir) = real_dir() else {
        return;
    };
    every_preset_plans(&Bundle::from_dir(dir).unwrap());
}

/// Generated inputs over the declared ranges: every valid combination plans and costs; the
/// generator must find valid combinations often enough to mean something.
fn spread_plans(b: &Bundle, cases: u32) {
    let m = &b.manifest;
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let valid_count = std::cell::Cell::new(0u32);
    runner
        .run(&spread(m), |(preset, set)| {
            let values = values_from(m, preset.as_deref(), &set);
            let Ok(v) = inputs::validate(m, &values, &target()) else {
                return Ok(());
            };
            valid_count.set(valid_count.get() + 1);
            let plan = render::plan_instance(b, &v, &target())
                .map_err(|e| proptest::test_runner::TestCaseError::fail(format!("{e}")))?;
            proptest::prop_assert_eq!(plan.stages.len(), m.stages.len());
            let c = cost::estimate(m, &v)
                .map_err(|e| proptest::test_runner::TestCaseError::fail(format!("{e}")))?;
            proptest::prop_assert!(c.total > 0.0);
            Ok(())
        })
        .unwrap();
    eprintln!(
        "{}: {} of {cases} generated input sets were valid and planned",
        m.name,
        valid_count.get()
    );
    assert!(
        valid_count.get() >= cases / 8,
        "only {} of {cases} generated input sets were valid",
        valid_count.get()
    );
}

#[test]
fn a_spread_of_fixture_inputs_plans_and_costs() {
    spread_plans(&fixture(), 128);
}

#[test]
fn a_spread_of_real_inputs_plans_and_costs() {
    let Some(dir) = real_dir() else {
        return;
    };
    spread_plans(&Bundle::from_dir(dir).unwrap(), 128);
}

#[test]
fn a_target_group_overrides_the_derived_one() {
    let b = fixture();
    let v = valid(&b, None, &["name=contoso"]);
    let t = Target {
        resource_group: Some("platform-prod".into()),
        ..target()
    };
    let plan = render::plan_instance(&b, &v, &t).unwrap();
    assert_eq!(plan.resource_group, "platform-prod");
    assert!(
        plan.stages[0].resources[0]
            .id
            .contains("/resourceGroups/platform-prod/")
    );
}

#[test]
fn template_errors_never_quote_a_secret() {
    let b = bundle_with(|j| {
        j["stages"][2]["parameters"]["storageGiB"] = json!("[int(inputs('dbAdminPassword'))]");
    })
    .unwrap();
    let secret = "Sup3r-Secret-Value!";
    let v = valid(
        &b,
        None,
        &["name=contoso", &format!("dbAdminPassword={secret}")],
    );
    let e = render::plan_instance(&b, &v, &target())
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("stage 'data': parameter 'storageGiB': "),
        "{e}"
    );
    assert!(!e.contains(secret) && e.contains("********"), "{e}");
    let outputs: IndexMap<String, serde_json::Value> =
        [("network".to_owned(), json!({"dbSubnetId": "s"}))]
            .into_iter()
            .collect();
    let e = render::stage_parameters(&b, "data", &v, &target(), &outputs).unwrap_err();
    assert!(!e.to_string().contains(secret), "{e}");
}
