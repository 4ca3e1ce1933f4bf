//! `landfall template expr` and `landfall template eval` as later checks call them: JSON on
//! stdout and exit 0, or the error on stderr and exit 1.

// In tests a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::{Command, Output};

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/azure"
);

fn landfall(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_landfall"))
        .args(args)
        .output()
        .unwrap()
}

fn json_out(o: &Output) -> serde_json::Value {
    assert!(
        o.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("landfall-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn expr_prints_the_value_as_json() {
    assert_eq!(
        json_out(&landfall(&["template", "expr", "uniqueString('tyeth')"])),
        "zcztcwvu6iyg6"
    );
    assert_eq!(
        json_out(&landfall(&[
            "template",
            "expr",
            "[createArray(1, 'a', true())]"
        ])),
        serde_json::json!([1, "a", true])
    );
    assert_eq!(json_out(&landfall(&["template", "expr", "[div(7, 2)]"])), 3);
}

#[test]
fn expr_reads_the_context_file() {
    let ctx = temp_file(
        "ctx.json",
        r#"{"subscriptionId": "5ca082f3-38f2-4bb0-b0a4-c401184ae3a8", "resourceGroup": {"name": "rg-azdtest-d65c7c0", "location": "eastus2"},
            "parameters": {"environmentName": "azdtest-d65c7c0", "location": "eastus2"}}"#,
    );
    let out = landfall(&[
        "template",
        "expr",
        "toLower(uniqueString(resourceGroup().id, parameters('environmentName'), parameters('location')))",
        "--context",
        ctx.to_str().unwrap(),
    ]);
    assert_eq!(json_out(&out), "ue5q5duuc4yby");
}

#[test]
fn expr_error_goes_to_stderr_with_exit_1() {
    let out = landfall(&["template", "expr", "concat('a', nope())"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("'nope' is not valid") && err.contains("position 13"),
        "{err}"
    );
}

#[test]
fn bad_context_file_names_the_field() {
    let ctx = temp_file("bad.json", r#"{"subscriptionID": "x"}"#);
    let out = landfall(&["template", "expr", "1", "--context", ctx.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("subscriptionID"));
}

#[test]
fn eval_prints_resources_waves_and_outputs() {
    let dir = format!("{FIXTURES}/templates/quickstarts/key-vault-create");
    let out = landfall(&[
        "template",
        "eval",
        &format!("{dir}/azuredeploy.json"),
        "--parameters",
        &format!("{dir}/azuredeploy.parameters.json"),
    ]);
    let plan = json_out(&out);
    let resources = plan["resources"].as_array().unwrap();
    assert_eq!(resources.len(), 2);
    for key in [
        "id",
        "type",
        "name",
        "apiVersion",
        "location",
        "dependsOn",
        "properties",
    ] {
        assert!(resources[0].get(key).is_some(), "{key}");
    }
    assert_eq!(plan["order"].as_array().unwrap().len(), 2);
    let secret = &resources[1];
    assert_eq!(secret["type"], "Microsoft.KeyVault/vaults/secrets");
    assert_eq!(secret["dependsOn"][0], resources[0]["id"]);
    assert!(plan["outputs"].is_object());
}

#[test]
fn eval_error_names_the_parameter() {
    let out = landfall(&[
        "template",
        "eval",
        &format!("{FIXTURES}/templates/quickstarts/aks/azuredeploy.json"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("'dnsPrefix'"), "{err}");
}
