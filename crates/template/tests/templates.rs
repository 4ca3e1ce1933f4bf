//! Every template under `../shared/fixtures/azure/templates` is read here: bicep baselines,
//! quickstarts and the docs samples plan (or fail with the error Azure would give); the arm-ttk
//! fixtures parse or are rejected as their Pass/Fail folder says where that verdict is about
//! syntax; the docs' expected outputs are compared value by value.

// In tests a failed unwrap is a failed test, and contexts read best built field by field.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::field_reassign_with_default
)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use landfall_template::context::{DeploymentContext, DeploymentScope};
use landfall_template::template::Parameters;
use landfall_template::{ErrorCode, NoResolver, Plan, Template, TemplateError, Value, json, plan};

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/azure"
);

fn fixture(rel: &str) -> PathBuf {
    Path::new(FIXTURES).join(rel)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn files_under(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files_under(&p, ext, out);
        } else if p.extension().is_some_and(|e| e == ext) {
            out.push(p);
        }
    }
}

fn context_for(template: &Template) -> DeploymentContext {
    let mut ctx = DeploymentContext::default();
    ctx.scope = template.target_scope();
    ctx.subscription_id = "11111111-2222-3333-4444-555555555555".into();
    ctx.resource_group.name = "rg-fixtures".into();
    ctx.resource_group.location = "eastus".into();
    ctx.now = time::macros::datetime!(2026-11-27 12:00:00 UTC);
    ctx.guid_seed = Some(7);
    ctx
}

/// Plans a template file, with `params` or else sample values for required parameters.
fn plan_path(path: &Path, params: Option<Parameters>) -> Result<Plan, TemplateError> {
    let template = Template::parse(&read(path))?;
    let params = params
        .unwrap_or_default()
        .with_samples_for(template.parameters());
    plan(&template, &params, &context_for(&template), &NoResolver)
}

/// The invariants every plan keeps: each resource appears in exactly one wave, after
/// everything it depends on; IDs are absolute.
fn assert_consistent(plan: &Plan, what: &str) {
    let mut wave_of: HashMap<String, Vec<usize>> = HashMap::new();
    let mut placed = 0;
    for (w, wave) in plan.order.iter().enumerate() {
        for id in wave {
            wave_of.entry(id.to_ascii_lowercase()).or_default().push(w);
            placed += 1;
        }
    }
    assert_eq!(
        placed,
        plan.resources.len(),
        "{what}: every resource is placed exactly once"
    );
    for r in &plan.resources {
        assert!(
            r.id.starts_with('/') || r.id.contains("[("),
            "{what}: absolute ID {}",
            r.id
        );
        let mine = wave_of[&r.id.to_ascii_lowercase()]
            .iter()
            .max()
            .copied()
            .unwrap_or(0);
        for d in &r.depends_on {
            let theirs = wave_of
                .get(&d.to_ascii_lowercase())
                .and_then(|w| w.iter().min().copied())
                .unwrap_or_else(|| panic!("{what}: {} depends on unplanned {d}", r.id));
            assert!(
                theirs < mine || wave_of[&d.to_ascii_lowercase()].len() > 1,
                "{what}: {} must come after {d}",
                r.id
            );
        }
    }
}

fn ids(plan: &Plan) -> Vec<String> {
    let mut v: Vec<String> = plan
        .resources
        .iter()
        .map(|r| r.id.to_ascii_lowercase())
        .collect();
    v.sort();
    v
}

/// Baselines Azure cannot deploy whatever the parameters: it stops them with the error given.
const BASELINES_AZURE_REJECTS: &[(&str, ErrorCode, &str)] = &[
    // `index + 1` must index a 2-item variable while `index - 10` must index `accounts`:
    // every value of `index` makes one of them out of bounds.
    ("Loops_LF", ErrorCode::InvalidExpression, "is out of bounds"),
    // Two module loops over the same list create deployments with the same names.
    (
        "Modules_CRLF",
        ErrorCode::InvalidTemplate,
        "Microsoft.Resources/deployments/one' is defined multiple times",
    ),
    // An output declared `string` whose value is a Boolean.
    (
        "Outputs_CRLF",
        ErrorCode::InvalidTemplate,
        "'expressionBasedIndexer' is not valid: Template output JToken type is not valid. Expected 'String'. Actual 'Boolean'",
    ),
    // Four loops named to collide ("duplicateIdentifiersWithinLoop"...): vnet-0..2 four times.
    (
        "Resources_CRLF",
        ErrorCode::InvalidTemplate,
        "virtualNetworks/vnet-0' is defined multiple times",
    ),
    // A copy loop over two items whose name does not use copyIndex().
    (
        "NestedResources_LF",
        ErrorCode::InvalidTemplate,
        "loopParent/childType/loopChild' is defined multiple times",
    ),
];

#[test]
fn every_bicep_baseline_plans_and_both_language_versions_agree() {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(fixture("templates/bicep-baselines"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert_eq!(dirs.len(), 15);
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let classic = plan_path(&dir.join("main.json"), None);
        let symbolic = plan_path(&dir.join("main.symbolicnames.json"), None);
        if let Some((_, code, fragment)) =
            BASELINES_AZURE_REJECTS.iter().find(|(n, _, _)| *n == name)
        {
            let (a, b) = (classic.unwrap_err(), symbolic.unwrap_err());
            assert_eq!((a.code, b.code), (*code, *code), "{name}: {a} / {b}");
            assert!(
                a.message.contains(fragment) && b.message.contains(fragment),
                "{name}: {a} / {b}"
            );
            assert!(
                a.path.is_some() && a.pos.is_some() && b.path.is_some(),
                "{name}: says where: {a}"
            );
            continue;
        }
        let classic = classic.unwrap_or_else(|e| panic!("{name}/main.json: {e}"));
        let symbolic = symbolic.unwrap_or_else(|e| panic!("{name}/main.symbolicnames.json: {e}"));
        assert_consistent(&classic, &format!("{name}/main.json"));
        assert_consistent(&symbolic, &format!("{name}/main.symbolicnames.json"));
        assert_eq!(
            ids(&classic),
            ids(&symbolic),
            "{name}: both forms plan the same resources"
        );
        assert_eq!(
            classic.outputs.keys().collect::<Vec<_>>(),
            symbolic.outputs.keys().collect::<Vec<_>>(),
            "{name}: both forms have the same outputs"
        );
    }
}

#[test]
fn loops_baseline_fails_where_azure_fails_and_says_where() {
    let dir = fixture("templates/bicep-baselines/Loops_LF");
    let mut params = Parameters::new();
    let accounts = json::parse_value(
        r#"[{"name": "a", "location": "westus", "enabled": true},
            {"name": "b", "location": "eastus", "enabled": false},
            {"name": "c", "location": "northeurope", "enabled": true}]"#,
    )
    .unwrap();
    params
        .set("name", Value::str("acme"))
        .set("accounts", accounts)
        .set("index", Value::Int(0));
    let err = plan_path(&dir.join("main.json"), Some(params)).unwrap_err();
    assert!(
        err.message.contains("array index '-10' is out of bounds"),
        "{err}"
    );
    assert_eq!(err.path.as_deref(), Some("resources[25].dependsOn[2]"));
    assert_eq!(err.pos.map(|p| p.line), Some(600));
}

fn plan_text(text: &str, params: Parameters) -> Result<Plan, TemplateError> {
    let template = Template::parse(text)?;
    plan(&template, &params, &context_for(&template), &NoResolver)
}

#[test]
fn serial_copy_batches_wait_for_the_previous_batch() {
    let plan = plan_text(
        r#"{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
            "contentVersion": "1.0.0.0",
            "resources": [{
              "type": "Microsoft.Storage/storageAccounts", "apiVersion": "2023-01-01",
              "name": "[format('st{0}', copyIndex())]", "location": "westeurope",
              "copy": {"name": "accounts", "count": 5, "mode": "serial", "batchSize": 2}
            }]}"#,
        Parameters::new(),
    )
    .unwrap();
    let waves: Vec<Vec<String>> = plan
        .order
        .iter()
        .map(|w| {
            w.iter()
                .map(|id| id.rsplit('/').next().unwrap().to_owned())
                .collect()
        })
        .collect();
    assert_eq!(
        waves,
        vec![vec!["st0", "st1"], vec!["st2", "st3"], vec!["st4"]]
    );
}

#[test]
fn a_dependency_cycle_is_an_error_that_names_the_cycle() {
    let err = plan_text(
        r#"{"resources": [
            {"type": "A.B/c", "apiVersion": "1", "name": "one", "dependsOn": ["two"]},
            {"type": "A.B/c", "apiVersion": "1", "name": "two", "dependsOn": ["[resourceId('A.B/c', 'one')]"]}
        ]}"#,
        Parameters::new(),
    )
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::CircularDependency);
    assert!(
        err.message.contains("/c/one -> ") && err.message.contains("/c/two -> "),
        "{err}"
    );
}

#[test]
fn every_quickstart_plans_with_its_parameters() {
    for name in [
        "aks",
        "key-vault-create",
        "mysql-flexible-with-vnet",
        "storage-account-create",
        "vnet-two-subnets",
    ] {
        let dir = fixture(&format!("templates/quickstarts/{name}"));
        let pfile = dir.join("azuredeploy.parameters.json");
        let params = pfile
            .exists()
            .then(|| Parameters::parse(&read(&pfile)).unwrap());
        let result = plan_path(&dir.join("azuredeploy.json"), params.clone());
        if name == "aks" {
            // The stored parameter file passes a parameter this template version does not
            // declare: Azure rejects the deployment and names it.
            let err = result.unwrap_err();
            assert_eq!(err.code, ErrorCode::UndeclaredParameter);
            assert!(err.message.contains("'authorizedIPRange'"), "{err}");
            let mut fixed = params.unwrap();
            fixed.values.shift_remove("authorizedIPRange");
            let plan = plan_path(&dir.join("azuredeploy.json"), Some(fixed)).unwrap();
            assert_consistent(&plan, name);
            let fqdn = &plan.outputs["controlPlaneFQDN"].value;
            assert!(
                matches!(fqdn, Value::Deferred(d) if d.expr.starts_with("reference(")),
                "{fqdn:?}"
            );
            continue;
        }
        let plan = result.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_consistent(&plan, name);
        assert!(!plan.resources.is_empty(), "{name}");
    }
}

#[test]
fn mysql_quickstart_orders_resources_listed_out_of_order() {
    let dir = fixture("templates/quickstarts/mysql-flexible-with-vnet");
    let plan = plan_path(&dir.join("azuredeploy.json"), None).unwrap();
    let wave = |needle: &str| {
        plan.order
            .iter()
            .position(|w| w.iter().any(|id| id.to_ascii_lowercase().ends_with(needle)))
            .unwrap()
    };
    let vnet = plan
        .resources
        .iter()
        .find(|r| r.resource_type == "Microsoft.Network/virtualNetworks")
        .unwrap();
    let subnet = plan
        .resources
        .iter()
        .find(|r| r.resource_type == "Microsoft.Network/virtualNetworks/subnets")
        .unwrap();
    let vnet_wave = wave(&vnet.id.to_ascii_lowercase());
    let subnet_wave = wave(&subnet.id.to_ascii_lowercase());
    assert!(vnet_wave < subnet_wave, "the VNet comes before its subnet");
    assert!(subnet.id.contains("/virtualNetworks/") && subnet.id.contains("/subnets/"));
}

#[test]
fn storage_quickstart_names_the_account_with_unique_string() {
    let plan = plan_path(
        &fixture("templates/quickstarts/storage-account-create/azuredeploy.json"),
        None,
    )
    .unwrap();
    let account = &plan.resources[0];
    let expected = landfall_template::hash::unique_string(&[
        "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-fixtures",
    ]);
    assert_eq!(account.name, format!("store{expected}"));
}

/// Docs samples that are not JSON at all: Azure rejects them as we do.
const DOCS_NOT_JSON: &[(&str, &str)] = &[
    (
        "azure-resource-manager/functions/date/datetimeadd-automation.json",
        "'...' placeholder for elided resources",
    ),
    (
        "azure-resource-manager/functions/numeric/float.json",
        "a fragment: properties without the enclosing resource",
    ),
    (
        "azure-resource-manager/functions/resource/pickzones-cosmosdb.json",
        "a fragment: one property, no enclosing object",
    ),
    (
        "azure-resource-manager/ui-forms/steps.json",
        "'...' placeholder for elided steps",
    ),
];

/// Docs samples Azure rejects when deployed as they are, with the error we assert.
const DOCS_EXPECTED_ERRORS: &[(&str, ErrorCode, &str)] = &[
    // These parents locate their children relative to their own URL, which exists only when
    // they are themselves deployed from a link; deployed from a file, Azure fails the same way.
    (
        "azure-resource-manager/linkedtemplates/helloworldparent.json",
        ErrorCode::InvalidExpression,
        "'templateLink' doesn't exist",
    ),
    (
        "azure-resource-manager/linkedtemplates/linked-dependency.json",
        ErrorCode::InvalidExpression,
        "'templateLink' doesn't exist",
    ),
    (
        "azure-resource-manager/linkedtemplates/public-ip-parentloadbalancer.json",
        ErrorCode::InvalidExpression,
        "'templateLink' doesn't exist",
    ),
    (
        "azure-resource-manager/linkedtemplates/static-public-ip-parent.json",
        ErrorCode::InvalidExpression,
        "'templateLink' doesn't exist",
    ),
];

/// Parameter values for docs samples whose required parameters take values no generic sample
/// can guess (their createUiDefinition supplies them).
const DOCS_PARAMETERS: &[(&str, &str)] = &[(
    "managed-app-existing-vnet/mainTemplate.json",
    r#"{"virtualNetworkNewOrExisting": "new", "virtualNetworkName": "vnet", "subnetName": "default"}"#,
)];

#[test]
fn every_docs_sample_is_read_and_plans_or_fails_as_azure_would() {
    let mut files = Vec::new();
    files_under(&fixture("templates/docs-json-samples"), "json", &mut files);
    assert!(files.len() > 100);
    let mut planned = 0;
    let mut report = Vec::new();
    for path in &files {
        let rel = path
            .strip_prefix(fixture("templates/docs-json-samples"))
            .unwrap()
            .to_string_lossy()
            .to_string();
        let text = read(path);
        if DOCS_NOT_JSON.iter().any(|(f, _)| *f == rel) {
            assert!(
                json::parse(&text).is_err(),
                "{rel} is expected not to be JSON"
            );
            continue;
        }
        // Most scope/ samples are docs snippets with a bare word (`subscription-resources`)
        // where a whole section goes: not JSON, and rejected at that word.
        if rel.starts_with("azure-resource-manager/scope/")
            && let Err(e) = json::parse(&text)
        {
            assert!(
                e.message.starts_with("Unexpected token")
                    || e.message.starts_with("Expected ':' after property name"),
                "{rel}: {e}"
            );
            continue;
        }
        let value = match json::parse_value(&text) {
            Ok(v) => v,
            Err(e) => {
                report.push(format!("{rel}: not JSON: {e}"));
                continue;
            }
        };
        let schema = value
            .get("$schema")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_ascii_lowercase();
        if schema.contains("deploymentparameters") {
            if let Err(e) = Parameters::parse(&text) {
                report.push(format!("{rel}: parameters: {e}"));
            }
            continue;
        }
        if value.get("resources").is_none() {
            // createUiDefinition and portal form definitions: UI, not deployments.
            let handler = value.get("handler").and_then(Value::as_str).unwrap_or("");
            assert!(
                schema.contains("createuidefinition")
                    || schema.contains("uiformdefinition")
                    || handler.contains("CreateUIDef"),
                "{rel}: {schema}"
            );
            continue;
        }
        let expected = DOCS_EXPECTED_ERRORS.iter().find(|(f, _, _)| *f == rel);
        let params = DOCS_PARAMETERS
            .iter()
            .find(|(f, _)| *f == rel)
            .map(|(_, p)| Parameters::parse(p).unwrap());
        match (plan_path(path, params), expected) {
            (Ok(p), None) => {
                assert_consistent(&p, &rel);
                planned += 1;
            }
            (Err(e), Some((_, code, fragment))) => {
                assert_eq!(e.code, *code, "{rel}: {e}");
                assert!(e.message.contains(fragment), "{rel}: {e}");
            }
            (Ok(_), Some(_)) => report.push(format!("{rel}: planned but an error was expected")),
            (Err(e), None) => report.push(format!("{rel}: {e}")),
        }
    }
    assert!(
        report.is_empty(),
        "{} of {} docs samples need attention:\n{}",
        report.len(),
        files.len(),
        report.join("\n")
    );
    assert!(planned > 80, "planned {planned}");
}

fn arm_ttk(rule: &str, verdict: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let dir = fixture(&format!("templates/arm-ttk-unit-tests/{rule}/{verdict}"));
    if dir.exists() {
        files_under(&dir, "json", &mut out);
    }
    out
}

#[test]
fn every_arm_ttk_fixture_is_lenient_json() {
    // Most arm-ttk verdicts are about best practice, not syntax: every fixture, Pass or Fail,
    // must still read as ARM reads JSON (comments, multi-line strings...).
    let mut files = Vec::new();
    files_under(&fixture("templates/arm-ttk-unit-tests"), "json", &mut files);
    let mut jsonc = Vec::new();
    files_under(
        &fixture("templates/arm-ttk-unit-tests"),
        "jsonc",
        &mut jsonc,
    );
    files.extend(jsonc);
    assert!(files.len() > 400, "{}", files.len());
    // The module's own deliberately broken file (a missing comma) must be rejected.
    let bad = |p: &PathBuf| p.ends_with("_arm-ttk-module/Bad.json");
    let rejected = files
        .iter()
        .filter(|p| bad(p))
        .map(|p| json::parse(&read(p)))
        .collect::<Vec<_>>();
    assert_eq!(rejected.len(), 1);
    assert!(
        rejected[0].as_ref().is_err_and(|e| e.pos.line == 3),
        "{:?}",
        rejected[0].as_ref().err()
    );
    let failures: Vec<String> = files
        .iter()
        .filter(|p| !bad(p))
        .filter_map(|p| {
            json::parse(&read(p))
                .err()
                .map(|e| format!("{}: {e}", p.display()))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn arm_ttk_parameter_file_verdicts_about_structure_hold() {
    for rule in [
        "DeploymentParameters-Should-Have-Value",
        "DeploymentParameters-Should-Have-Parameters",
    ] {
        for p in arm_ttk(rule, "Pass") {
            Parameters::parse(&read(&p)).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        }
        let fails = arm_ttk(rule, "Fail");
        assert!(!fails.is_empty());
        for p in fails {
            assert!(
                Parameters::parse(&read(&p)).is_err(),
                "{} must be rejected",
                p.display()
            );
        }
    }
    for p in arm_ttk("DeploymentParameters-Should-Have-ContentVersion", "Fail") {
        if p.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("NotString"))
        {
            assert!(Parameters::parse(&read(&p)).is_err(), "{}", p.display());
        }
    }
}

#[test]
fn arm_ttk_min_and_max_must_be_integers() {
    // These fixtures are fragments without `resources`; give them an empty list so the
    // verdict under test is about the parameters alone.
    let as_template = |p: &Path| {
        let text = read(p);
        let mut v = json::parse_value(&text).unwrap();
        if let Value::Object(o) = &mut v {
            o.entry("resources".to_owned())
                .or_insert(Value::Array(vec![]));
            if let Some(Value::Object(ps)) = o.get_mut("parameters") {
                for p in ps.values_mut() {
                    if let Value::Object(p) = p {
                        p.entry("type".to_owned()).or_insert(Value::str("int"));
                    }
                }
            }
        }
        let doc = json::parse(&text).unwrap();
        Template::from_value_with_spans(v, Some(doc.spans))
    };
    for p in arm_ttk("Min-And-Max-Value-Are-Numbers", "Pass") {
        as_template(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    }
    for name in ["Max-Is-Not-Int.json", "Min-Is-Not-Int.json"] {
        let p = fixture(&format!(
            "templates/arm-ttk-unit-tests/Min-And-Max-Value-Are-Numbers/Fail/{name}"
        ));
        let err = as_template(&p).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidTemplate, "{err}");
        assert!(err.pos.is_some(), "the error says where: {err}");
    }
}

#[test]
fn arm_ttk_json_validity_pass_fixtures_parse_as_templates() {
    let files = arm_ttk("JSONFiles-Should-Be-Valid", "Pass");
    assert!(!files.is_empty());
    for p in files {
        Template::parse(&read(&p)).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    }
}

#[test]
fn resource_groups_get_subscription_level_ids() {
    let path = fixture("templates/docs-json-samples/azure-resource-manager/emptyrg.json");
    let template = Template::parse(&read(&path)).unwrap();
    let mut ctx = context_for(&template);
    ctx.scope = DeploymentScope::Subscription;
    let params = Parameters::new().with_samples_for(template.parameters());
    let plan = plan(&template, &params, &ctx, &NoResolver).unwrap();
    let rg = plan
        .resources
        .iter()
        .find(|r| r.resource_type == "Microsoft.Resources/resourceGroups")
        .unwrap();
    assert!(
        rg.id
            .starts_with("/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/"),
        "{}",
        rg.id
    );
}
