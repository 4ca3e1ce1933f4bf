//! Inputs: Azure's naming rules (table-driven, with the documentation's examples), resolving
//! defaults, presets, files and `--set`, validating every rule both ways with all errors
//! collected, and secrets that never show.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "fixtures/support.rs"]
mod support;

use landfall_engine::inputs::{self, InputValues, PASSWORD_LENGTH, REDACTED};
use landfall_engine::manifest::Manifest;
use landfall_engine::naming::{Charset, NamingRule};
use landfall_engine::{EngineError, InputError, Target};
use serde_json::{Value as Json, json};
use support::*;

// ---- naming rules ---------------------------------------------------------------------------

/// `None`: valid; `Some(fragment)`: invalid, and the message contains the fragment.
const NAMES: &[(NamingRule, &str, Option<&str>)] = {
    use NamingRule::*;
    &[
        // Storage accounts: 3-24, lowercase letters and digits, global.
        (StorageAccount, "mystorageaccount", None),
        (StorageAccount, "contoso2026data", None),
        (StorageAccount, "abc", None),
        (
            StorageAccount,
            "st",
            Some("must be 3 to 24 characters long (it has 2)"),
        ),
        (
            StorageAccount,
            "abcdefghijklmnopqrstuvwxy",
            Some("(it has 25)"),
        ),
        (
            StorageAccount,
            "my-inst-data",
            Some("may contain only lowercase letters and digits; '-' is not allowed"),
        ),
        (StorageAccount, "MyStorage", Some("'M' is not allowed")),
        (
            StorageAccount,
            "azure",
            Some("may not be the reserved word 'AZURE'"),
        ),
        (
            StorageAccount,
            "microsoftdata",
            Some("may not contain the reserved word 'MICROSOFT'"),
        ),
        (
            StorageAccount,
            "datawindows1",
            Some("may not contain the reserved word 'WINDOWS'"),
        ),
        (
            StorageAccount,
            "loginstore",
            Some("may not start with the reserved word 'LOGIN'"),
        ),
        (StorageAccount, "mylogin", None),
        // Key vaults: 3-24, alphanumerics and hyphens, letter first, no "--".
        (KeyVault, "Contoso-Vault2", None),
        (KeyVault, "kv-contoso", None),
        (
            KeyVault,
            "kv",
            Some("must be 3 to 24 characters long (it has 2)"),
        ),
        (
            KeyVault,
            "1vault",
            Some("must start with a letter ('1' is not)"),
        ),
        (
            KeyVault,
            "vault-",
            Some("must end with a letter or digit ('-' is not)"),
        ),
        (
            KeyVault,
            "my--vault",
            Some("may not contain two hyphens in a row"),
        ),
        (
            KeyVault,
            "my_vault",
            Some("letters, digits and hyphens; '_' is not allowed"),
        ),
        // MySQL flexible servers: 3-63, lowercase letters, digits, hyphens; no hyphen at the ends.
        (MySqlServer, "mydemoserver", None),
        (MySqlServer, "contoso-mysql-01", None),
        (
            MySqlServer,
            "-mysql",
            Some("must start with a letter or digit ('-' is not)"),
        ),
        (
            MySqlServer,
            "mysql-",
            Some("must end with a letter or digit ('-' is not)"),
        ),
        (
            MySqlServer,
            "MyServer",
            Some("lowercase letters, digits and hyphens; 'M' is not allowed"),
        ),
        (
            MySqlServer,
            "ab",
            Some("must be 3 to 63 characters long (it has 2)"),
        ),
        // Container registries: 5-50 alphanumerics.
        (ContainerRegistry, "myContainerRegistry007", None),
        (
            ContainerRegistry,
            "acr1",
            Some("must be 5 to 50 characters long (it has 4)"),
        ),
        (
            ContainerRegistry,
            "my-registry",
            Some("may contain only letters and digits; '-' is not allowed"),
        ),
        // AKS clusters: 1-63, alphanumerics, underscores, hyphens; alphanumeric at both ends.
        (AksCluster, "myAKSCluster", None),
        (AksCluster, "aks_prod-01", None),
        (
            AksCluster,
            "-aks",
            Some("must start with a letter or digit ('-' is not)"),
        ),
        (
            AksCluster,
            "aks_",
            Some("must end with a letter or digit ('_' is not)"),
        ),
        (AksCluster, "aks.prod", Some("'.' is not allowed")),
        // AKS DNS prefixes: 1-54, alphanumerics and hyphens.
        (AksDnsPrefix, "myakscluster-dns", None),
        (
            AksDnsPrefix,
            "dns_prefix",
            Some("letters, digits and hyphens; '_' is not allowed"),
        ),
        (
            AksDnsPrefix,
            "-dns",
            Some("must start with a letter or digit"),
        ),
        (
            AksDnsPrefix,
            "microsoft-aks",
            Some("reserved word 'MICROSOFT'"),
        ),
        // Resource groups: 1-90, Unicode letters and digits, _ - . ( ); no period at the end.
        (ResourceGroup, "myResourceGroup", None),
        (ResourceGroup, "rg-contoso(prod).v2", None),
        (ResourceGroup, "ressourcengruppe-müller", None),
        (ResourceGroup, "microsoft-rg", None),
        (
            ResourceGroup,
            "rg.",
            Some("must end with something other than a period ('.' is not)"),
        ),
        (
            ResourceGroup,
            "",
            Some("must be 1 to 90 characters long (it has 0)"),
        ),
        (ResourceGroup, "rg/prod", Some("'/' is not allowed")),
        (ResourceGroup, "rg prod", Some("a space is not allowed")),
        // Log Analytics workspaces: 4-63, alphanumerics and hyphens, alphanumeric at both ends.
        (LogAnalyticsWorkspace, "DefaultWorkspace-0000-EUS", None),
        (
            LogAnalyticsWorkspace,
            "log",
            Some("must be 4 to 63 characters long (it has 3)"),
        ),
        (
            LogAnalyticsWorkspace,
            "log-ws-",
            Some("must end with a letter or digit ('-' is not)"),
        ),
        (LogAnalyticsWorkspace, "log_ws", Some("'_' is not allowed")),
        // Virtual networks: 2-64, alphanumerics, _ . -; alphanumeric first, no '.' or '-' last.
        (VirtualNetwork, "myVNet", None),
        (VirtualNetwork, "vnet_1.prod_", None),
        (
            VirtualNetwork,
            "v",
            Some("must be 2 to 64 characters long (it has 1)"),
        ),
        (
            VirtualNetwork,
            "_vnet",
            Some("must start with a letter or digit ('_' is not)"),
        ),
        (
            VirtualNetwork,
            "vnet.",
            Some("must end with a letter, digit or underscore ('.' is not)"),
        ),
        // Public IP DNS labels: ^[a-z][a-z0-9-]{1,61}[a-z0-9]$.
        (DnsLabel, "mypublicdns", None),
        (
            DnsLabel,
            "1dns",
            Some("must start with a lowercase letter ('1' is not)"),
        ),
        (
            DnsLabel,
            "dns-",
            Some("must end with a lowercase letter or digit ('-' is not)"),
        ),
        (DnsLabel, "Dns1", Some("'D' is not allowed")),
        (
            DnsLabel,
            "ab",
            Some("must be 3 to 63 characters long (it has 2)"),
        ),
    ]
};

#[test]
fn naming_rules_match_azure_documentation() {
    let mut failures = Vec::new();
    for (rule, name, expected) in NAMES {
        match (rule.check(name), expected) {
            (Ok(()), None) => {}
            (Err(m), Some(frag)) if m.contains(frag) => {}
            (got, want) => failures.push(format!("{rule:?} '{name}': got {got:?}, want {want:?}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn naming_rule_lengths_are_the_documented_ones() {
    let lengths: Vec<(NamingRule, (usize, usize))> =
        NamingRule::ALL.iter().map(|r| (*r, r.length())).collect();
    use NamingRule::*;
    assert_eq!(
        lengths,
        vec![
            (StorageAccount, (3, 24)),
            (KeyVault, (3, 24)),
            (MySqlServer, (3, 63)),
            (ContainerRegistry, (5, 50)),
            (AksCluster, (1, 63)),
            (AksDnsPrefix, (1, 54)),
            (ResourceGroup, (1, 90)),
            (LogAnalyticsWorkspace, (4, 63)),
            (VirtualNetwork, (2, 64)),
            (DnsLabel, (3, 63)),
        ]
    );
    for r in NamingRule::ALL {
        let (lo, hi) = r.length();
        let fill = |n: usize| "a".repeat(n);
        assert!(r.check(&fill(hi)).is_ok(), "{r:?} at {hi}");
        assert!(r.check(&fill(hi + 1)).is_err(), "{r:?} at {}", hi + 1);
        if lo > 1 {
            assert!(r.check(&fill(lo - 1)).is_err(), "{r:?} at {}", lo - 1);
        }
    }
}

#[test]
fn only_dns_named_resources_are_globally_unique() {
    let global: Vec<NamingRule> = NamingRule::ALL
        .into_iter()
        .filter(|r| r.globally_unique())
        .collect();
    assert_eq!(
        global,
        vec![
            NamingRule::StorageAccount,
            NamingRule::KeyVault,
            NamingRule::MySqlServer,
            NamingRule::ContainerRegistry
        ]
    );
    assert_eq!(NamingRule::StorageAccount.label(), "storage account");
    assert_eq!(NamingRule::parse("keyVault"), Some(NamingRule::KeyVault));
    assert_eq!(NamingRule::parse("vault"), None);
}

#[test]
fn charsets_allow_exactly_their_characters() {
    let cases = [
        (Charset::LowerAlnum, "abc123", "abc-1", "'-'"),
        (Charset::LowerAlnumHyphen, "abc-123", "Abc", "'A'"),
        (Charset::Alnum, "AbC123", "a_b", "'_'"),
        (Charset::AlnumHyphen, "Ab-C1", "a.b", "'.'"),
        (Charset::AlnumHyphenUnderscore, "A_b-1", "a b", "a space"),
    ];
    for (cs, good, bad, shown) in cases {
        assert_eq!(cs.check(good), Ok(()), "{cs:?} {good}");
        let e = cs.check(bad).unwrap_err();
        assert!(
            e.starts_with(&format!("may contain only {}", cs.describe())),
            "{e}"
        );
        assert!(e.contains(shown), "{e}");
    }
}

// ---- resolving ------------------------------------------------------------------------------

fn sets(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn resolve_err(
    m: &Manifest,
    preset: Option<&str>,
    file: Option<&str>,
    set: &[&str],
) -> Vec<InputError> {
    input_errors(inputs::resolve(m, preset, file, &sets(set)).unwrap_err())
}

#[test]
fn defaults_apply_when_nothing_else_is_given() {
    let m = fixture_manifest();
    let v = inputs::resolve(&m, None, None, &[]).unwrap();
    assert_eq!(v.get("nodeCount"), Some(&json!(2)));
    assert_eq!(v.get("location"), Some(&json!("eastus")));
    assert_eq!(v.get("name"), None);
    assert_eq!(v.get("dbAdminPassword"), None);
}

#[test]
fn precedence_is_defaults_then_preset_then_file_then_set() {
    let m = fixture_manifest();
    let file = r#"{"nodeCount": 6, "dbStorageGiB": 64}"#;
    let v = inputs::resolve(&m, Some("large"), Some(file), &sets(&["nodeCount=7"])).unwrap();
    assert_eq!(v.get("nodeCount"), Some(&json!(7)), "--set wins");
    assert_eq!(
        v.get("dbStorageGiB"),
        Some(&json!(64)),
        "the file beats the preset"
    );
    assert_eq!(
        v.get("nodeVmSize"),
        Some(&json!("Standard_D4s_v5")),
        "the preset beats defaults"
    );
    assert_eq!(v.get("location"), Some(&json!("eastus")), "defaults stay");
    let v = inputs::resolve(&m, Some("large"), Some(file), &[]).unwrap();
    assert_eq!(v.get("nodeCount"), Some(&json!(6)));
    let v = inputs::resolve(&m, Some("large"), None, &[]).unwrap();
    assert_eq!(v.get("nodeCount"), Some(&json!(5)));
    let v = inputs::resolve(
        &m,
        Some("large"),
        None,
        &sets(&["nodeCount=1", "nodeCount=3"]),
    )
    .unwrap();
    assert_eq!(v.get("nodeCount"), Some(&json!(3)), "the last --set wins");
}

#[test]
fn set_values_are_read_by_the_input_type() {
    let m = fixture_manifest();
    let v = inputs::resolve(
        &m,
        None,
        None,
        &sets(&[
            "nodeCount= 4",
            "dbHighAvailability=TRUE",
            "name=con=toso",
            "dbAdminPassword=",
        ]),
    )
    .unwrap();
    assert_eq!(v.get("nodeCount"), Some(&json!(4)));
    assert_eq!(v.get("dbHighAvailability"), Some(&json!(true)));
    assert_eq!(
        v.get("name"),
        Some(&json!("con=toso")),
        "split at the first '='"
    );
    assert_eq!(v.get("dbAdminPassword"), Some(&json!("")));
}

#[test]
fn bad_set_flags_are_all_reported_with_the_flag_and_rule() {
    let m = fixture_manifest();
    let errors = resolve_err(
        &m,
        None,
        None,
        &[
            "nodeCount",
            "=5",
            "nodeCount=many",
            "dbHighAvailability=yes",
            "nodecount=3",
            "region=eastus",
        ],
    );
    let shown = show(&errors);
    assert_eq!(errors.len(), 6, "{shown}");
    assert_eq!(
        (errors[0].input.as_str(), errors[0].rule.as_str()),
        ("--set", "set")
    );
    assert_eq!(
        errors[0].message,
        "--set 'nodeCount': needs the form name=value"
    );
    assert_eq!(errors[1].rule, "set");
    assert_eq!(
        (
            errors[2].input.as_str(),
            errors[2].rule.as_str(),
            errors[2].message.as_str()
        ),
        (
            "nodeCount",
            "type",
            "--set nodeCount=many: nodeCount takes a whole number"
        )
    );
    assert_eq!(
        errors[3].message,
        "--set dbHighAvailability=yes: dbHighAvailability takes true or false"
    );
    assert_eq!(errors[4].rule, "unknown");
    assert_eq!(
        errors[4].message,
        "--set nodecount: there is no input named 'nodecount'; did you mean 'nodeCount'?"
    );
    assert_eq!(
        errors[5].message,
        "--set region: there is no input named 'region'"
    );
}

#[test]
fn a_set_flag_without_equals_does_not_echo_a_secret() {
    let m = fixture_manifest();
    let errors = resolve_err(&m, None, None, &["dbAdminPasswordHunter2Secret"]);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].message, "--set: needs the form name=value");
    assert!(!show(&errors).contains("Hunter2"));
}

#[test]
fn input_files_are_read_in_both_forms() {
    let m = fixture_manifest();
    let bare = r#"{"name": "fromfile", "nodeCount": 3, "dbHighAvailability": null}"#;
    let v = inputs::resolve(&m, None, Some(bare), &[]).unwrap();
    assert_eq!(v.get("name"), Some(&json!("fromfile")));
    assert_eq!(v.get("nodeCount"), Some(&json!(3)));
    assert_eq!(
        v.get("dbHighAvailability"),
        Some(&json!(false)),
        "null keeps the default"
    );

    let arm = r#"{
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
        "contentVersion": "1.0.0.0",
        // ARM parameter files may carry comments.
        "parameters": {
            "name": {"value": "armfile"},
            "nodeCount": {"value": 4},
        }
    }"#;
    let v = inputs::resolve(&m, None, Some(arm), &[]).unwrap();
    assert_eq!(v.get("name"), Some(&json!("armfile")));
    assert_eq!(v.get("nodeCount"), Some(&json!(4)));

    let api_form = r#"{"parameters": {"name": {"value": "apiform"}}}"#;
    let v = inputs::resolve(&m, None, Some(api_form), &[]).unwrap();
    assert_eq!(v.get("name"), Some(&json!("apiform")));
}

#[test]
fn malformed_input_files_name_the_problem() {
    let m = fixture_manifest();
    let cases: [(&str, &str, &str, &str); 6] = [
        (
            "{not json",
            "--inputs",
            "file",
            "the inputs file is not valid JSON",
        ),
        (
            "[1, 2]",
            "--inputs",
            "file",
            "the inputs file must hold a JSON object",
        ),
        (
            r#"{"$schema": "x", "contentVersion": "1.0.0.0"}"#,
            "--inputs",
            "file",
            "looks like an ARM parameters file but has no 'parameters' object",
        ),
        (
            r#"{"parameters": {"dbAdminPassword": {"reference": {"keyVault": {"id": "x"}, "secretName": "s"}}}}"#,
            "dbAdminPassword",
            "file",
            "is a Key Vault reference, which Landfall cannot read",
        ),
        (
            r#"{"$schema": "x", "parameters": {"name": {"val": "x"}}}"#,
            "name",
            "file",
            "'parameters.name' needs a 'value' property",
        ),
        (
            r#"{"nodeCont": 3}"#,
            "nodeCont",
            "unknown",
            "the inputs file: there is no input named 'nodeCont'; did you mean 'nodeCount'?",
        ),
    ];
    for (text, input, rule, fragment) in cases {
        let errors = resolve_err(&m, None, Some(text), &[]);
        assert_eq!(errors.len(), 1, "{text}: {}", show(&errors));
        assert_eq!(errors[0].input, input, "{text}");
        assert_eq!(errors[0].rule, rule, "{text}");
        assert!(
            errors[0].message.contains(fragment),
            "{text}: {}",
            errors[0].message
        );
    }
    let errors = resolve_err(&m, None, Some("{\n  \"name\": \"x\",,\n}"), &[]);
    assert!(
        errors[0].message.contains("line 2"),
        "{}",
        errors[0].message
    );
}

#[test]
fn an_unknown_preset_lists_the_presets_and_other_errors_still_show() {
    let m = fixture_manifest();
    let errors = resolve_err(&m, Some("huge"), None, &["nodeCount=x"]);
    assert_eq!(errors.len(), 2, "{}", show(&errors));
    assert_eq!(errors[0].rule, "preset");
    assert_eq!(
        errors[0].message,
        "--preset: there is no preset 'huge'; choose one of demo, small, large"
    );
    assert_eq!(errors[1].input, "nodeCount");
}

// ---- validating -----------------------------------------------------------------------------

fn base(m: &Manifest) -> InputValues {
    InputValues::new(m).with("name", json!("contoso"))
}

fn invalid(m: &Manifest, v: &InputValues) -> Vec<InputError> {
    input_errors(inputs::validate(m, v, &target()).unwrap_err())
}

/// Validates one change: the error list must be exactly one error on `input` with `rule`
/// whose message is `message`.
fn one_error(m: &Manifest, v: InputValues, input: &str, rule: &str, message: &str) {
    let errors = invalid(m, &v);
    assert_eq!(errors.len(), 1, "{}", show(&errors));
    assert_eq!(
        (
            errors[0].input.as_str(),
            errors[0].rule.as_str(),
            errors[0].message.as_str()
        ),
        (input, rule, message)
    );
}

#[test]
fn the_fixture_defaults_with_a_name_are_valid() {
    let m = fixture_manifest();
    let v = inputs::validate(&m, &base(&m), &target()).unwrap();
    assert_eq!(v.instance(), "contoso");
    assert_eq!(v.location(), "eastus");
    assert_eq!(v.name("resourceGroup"), Some("rg-contoso"));
    assert_eq!(v.name("aksDnsPrefix"), v.name("aksCluster"));
    let st = v.name("storageAccount").unwrap();
    assert!(st.starts_with("stcontoso") && st.len() == 15, "{st}");
    assert!(NamingRule::StorageAccount.check(st).is_ok());
}

#[test]
fn required_type_and_allowed_rules() {
    let m = fixture_manifest();
    one_error(
        &m,
        InputValues::new(&m),
        "name",
        "required",
        "name: Instance name is required",
    );
    one_error(
        &m,
        base(&m).with("nodeCount", json!("3")),
        "nodeCount",
        "type",
        "nodeCount: must be a whole number (got '3')",
    );
    one_error(
        &m,
        base(&m).with("nodeCount", json!(2.5)),
        "nodeCount",
        "type",
        "nodeCount: must be a whole number (got 2.5)",
    );
    one_error(
        &m,
        base(&m).with("dbHighAvailability", json!("yes")),
        "dbHighAvailability",
        "type",
        "dbHighAvailability: must be true or false (got 'yes')",
    );
    one_error(
        &m,
        base(&m).with("name", json!(5)),
        "name",
        "type",
        "name: must be text (got 5)",
    );
    one_error(
        &m,
        base(&m).with("location", json!("northpole")),
        "location",
        "allowed",
        "location: must be one of 'eastus', 'westeurope' (got 'northpole')",
    );
    assert!(
        inputs::validate(
            &m,
            &base(&m).with("location", json!("westeurope")),
            &target()
        )
        .is_ok()
    );
}

#[test]
fn range_and_length_rules() {
    let m = fixture_manifest();
    one_error(
        &m,
        base(&m).with("dbStorageGiB", json!(10)),
        "dbStorageGiB",
        "min",
        "dbStorageGiB: must be at least 20 (got 10)",
    );
    one_error(
        &m,
        base(&m).with("dbStorageGiB", json!(2048)),
        "dbStorageGiB",
        "max",
        "dbStorageGiB: must be at most 1024 (got 2048)",
    );
    for ok in [20, 1024] {
        assert!(inputs::validate(&m, &base(&m).with("dbStorageGiB", json!(ok)), &target()).is_ok());
    }
    one_error(
        &m,
        base(&m).with("name", json!("ab")),
        "name",
        "minLength",
        "name: must be at least 3 characters long (it has 2)",
    );
    one_error(
        &m,
        base(&m).with("name", json!("abcdefghijklm")),
        "name",
        "maxLength",
        "name: must be at most 12 characters long (it has 13)",
    );
    assert!(inputs::validate(&m, &base(&m).with("name", json!("abcdefghijkl")), &target()).is_ok());
    one_error(
        &m,
        base(&m).with("name", json!("My-inst")),
        "name",
        "charset",
        "name: may contain only lowercase letters, digits and hyphens; 'M' is not allowed",
    );
}

#[test]
fn cross_input_rules_are_reported_on_the_input_declaring_them() {
    let m = fixture_manifest();
    let v = base(&m)
        .with("nodeMin", json!(5))
        .with("nodeMax", json!(3))
        .with("nodeCount", json!(4));
    let errors = invalid(&m, &v);
    assert_eq!(
        errors
            .iter()
            .map(|e| (e.input.as_str(), e.rule.as_str(), e.message.as_str()))
            .collect::<Vec<_>>(),
        vec![
            (
                "nodeMax",
                "rule",
                "nodeMax: the most nodes must be at least the fewest nodes"
            ),
            (
                "nodeMax",
                "rule",
                "nodeMax: the node count must lie between the fewest and the most nodes"
            ),
        ]
    );
    let v = base(&m)
        .with("nodeMin", json!(3))
        .with("nodeMax", json!(3))
        .with("nodeCount", json!(3));
    assert!(inputs::validate(&m, &v, &target()).is_ok());
    // A rule over an input that is itself invalid is not evaluated (its error is enough).
    let errors = invalid(&m, &base(&m).with("nodeMin", json!("x")));
    assert_eq!(errors.len(), 1, "{}", show(&errors));
    assert_eq!(errors[0].input, "nodeMin");
}

#[test]
fn a_derived_name_error_names_the_input_and_the_derived_name() {
    let m = manifest_with(|j| {
        j["names"]["storageAccount"]["value"] = json!("[format('{0}-data', inputs('name'))]");
    });
    one_error(
        &m,
        base(&m).with("name", json!("my-inst")),
        "name",
        "storageAccountName",
        "name: the storage account name 'my-inst-data' derived from it may contain only lowercase letters and digits; '-' is not allowed",
    );
    assert!(inputs::validate(&m, &base(&m).with("name", json!("myinst")), &target()).is_err());
}

#[test]
fn a_derived_name_error_is_reported_on_each_input_it_uses() {
    let m = manifest_with(|j| {
        j["names"]["mySqlServer"]["value"] =
            json!("[format('{0}-{1}', inputs('name'), inputs('dbAdminLogin'))]");
        j["names"]["keyVault"] =
            json!({"rule": "keyVault", "value": "[format('kv-{0}', inputs('name'))]"});
    });
    let errors = invalid(&m, &base(&m).with("dbAdminLogin", json!("Admin")));
    assert_eq!(
        errors
            .iter()
            .map(|e| (e.input.as_str(), e.rule.as_str()))
            .collect::<Vec<_>>(),
        vec![
            ("dbAdminLogin", "mySqlServerName"),
            ("name", "mySqlServerName")
        ],
        "{}",
        show(&errors)
    );
    assert!(errors[0].message.starts_with(
        "dbAdminLogin: the MySQL server name 'contoso-Admin' derived from it may contain only lowercase letters, digits and hyphens; 'A' is not allowed"
    ));
    // Through names(): the DNS prefix is the cluster's name.
    let errors = invalid(&m, &base(&m).with("name", json!("-ab")));
    let shown = show(&errors);
    assert!(shown.contains("[name / keyVaultName] name: the key vault name 'kv--ab' derived from it may not contain two hyphens in a row"), "{shown}");
    assert!(shown.contains("[name / mySqlServerName]"), "{shown}");
}

#[test]
fn the_region_must_have_prices() {
    let m = manifest_with(|j| {
        j["inputs"][1]["allowed"] = json!(["eastus", "westeurope", "northeurope"]);
    });
    one_error(
        &m,
        base(&m).with("location", json!("northeurope")),
        "location",
        "region",
        "location: 'northeurope' is not offered (the price snapshot has no prices for it); choose one of eastus, westeurope",
    );
}

#[test]
fn given_passwords_must_be_complex_and_long_enough() {
    let m = fixture_manifest();
    one_error(
        &m,
        base(&m).with("dbAdminPassword", json!("alllowercaseletters")),
        "dbAdminPassword",
        "passwordComplexity",
        "dbAdminPassword: must contain characters from at least three of: uppercase letters, lowercase letters, digits and symbols",
    );
    one_error(
        &m,
        base(&m).with("dbAdminPassword", json!("Ab1!")),
        "dbAdminPassword",
        "minLength",
        "dbAdminPassword: must be at least 12 characters long (it has 4)",
    );
    one_error(
        &m,
        base(&m).with("dbAdminPassword", json!(123456789012_i64)),
        "dbAdminPassword",
        "type",
        "dbAdminPassword: must be text",
    );
    let v = inputs::validate(
        &m,
        &base(&m).with("dbAdminPassword", json!("Abcdefgh1234")),
        &target(),
    )
    .unwrap();
    assert_eq!(v.value("dbAdminPassword"), Some(&json!("Abcdefgh1234")));
}

#[test]
fn the_target_is_checked_too() {
    let m = fixture_manifest();
    let mut t = target();
    t.subscription_id = "my-subscription".into();
    t.tenant_id = "contoso.onmicrosoft.com".into();
    t.resource_group = Some("rg.".into());
    let errors = input_errors(inputs::validate(&m, &base(&m), &t).unwrap_err());
    assert_eq!(
        errors
            .iter()
            .map(|e| (e.input.as_str(), e.rule.as_str(), e.message.as_str()))
            .collect::<Vec<_>>(),
        vec![
            (
                "subscription",
                "subscription",
                "subscription: 'my-subscription' is not a subscription ID (a GUID such as 00000000-0000-0000-0000-000000000000)"
            ),
            (
                "tenant",
                "tenant",
                "tenant: 'contoso.onmicrosoft.com' is not a tenant ID (a GUID)"
            ),
            (
                "resourceGroup",
                "resourceGroupName",
                "resourceGroup: the resource group name 'rg.' must end with something other than a period ('.' is not)"
            ),
        ]
    );
    let mut t = target();
    t.resource_group = Some("existing-rg".into());
    let v = inputs::validate(&m, &base(&m), &t).unwrap();
    assert_eq!(
        landfall_engine::render::resource_group(&m, &v, &t),
        "existing-rg"
    );
    assert_eq!(
        landfall_engine::render::resource_group(&m, &v, &target()),
        "rg-contoso"
    );
}

#[test]
fn unknown_inputs_are_rejected_with_a_suggestion() {
    let m = fixture_manifest();
    one_error(
        &m,
        base(&m).with("nodecount", json!(3)),
        "nodecount",
        "unknown",
        "nodecount: there is no input named 'nodecount'; did you mean 'nodeCount'?",
    );
}

#[test]
fn every_error_is_collected_at_once() {
    let m = fixture_manifest();
    let v = InputValues::new(&m)
        .with("name", json!("ab"))
        .with("nodeCount", json!(0))
        .with("location", json!("mars"))
        .with("dbHighAvailability", json!(1))
        .with("dbAdminLogin", json!("admin_1"));
    let t = Target {
        subscription_id: "nope".into(),
        ..target()
    };
    let e = inputs::validate(&m, &v, &t).unwrap_err();
    let message = e.to_string();
    let errors = input_errors(e);
    let got: Vec<(&str, &str)> = errors
        .iter()
        .map(|e| (e.input.as_str(), e.rule.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("name", "minLength"),
            ("location", "allowed"),
            ("nodeCount", "min"),
            ("dbHighAvailability", "type"),
            ("dbAdminLogin", "charset"),
            ("subscription", "subscription"),
        ],
        "{}",
        show(&errors)
    );
    assert!(
        message.starts_with("6 inputs are not valid: name: must be at least 3"),
        "{message}"
    );
}

// ---- secrets --------------------------------------------------------------------------------

const SECRET: &str = "Sup3r-Secret-Value!";

#[test]
fn secrets_never_show_in_debug_redacted_or_errors() {
    let m = fixture_manifest();
    let values = base(&m).with("dbAdminPassword", json!(SECRET));
    assert!(!format!("{values:?}").contains(SECRET));
    assert!(format!("{values:?}").contains(REDACTED));
    assert_eq!(values.redacted()["dbAdminPassword"], json!(REDACTED));
    let valid = inputs::validate(&m, &values, &target()).unwrap();
    assert!(!format!("{valid:?}").contains(SECRET), "{valid:?}");
    assert_eq!(valid.redacted()["dbAdminPassword"], json!(REDACTED));
    assert_eq!(valid.redacted()["name"], json!("contoso"));
    assert_eq!(valid.secret_values(), vec![SECRET.to_owned()]);
    assert!(valid.is_secret("dbAdminPassword") && !valid.is_secret("name"));

    // Invalid secrets: no rule echoes the value, nor a character of it.
    let m = manifest_with(|j| j["inputs"][9]["charset"] = json!("alnum"));
    for bad in [
        json!("Sup3r Secret Value"),
        json!("Sh0rt!"),
        json!(987654321),
    ] {
        let e = inputs::validate(
            &m,
            &base(&m).with("dbAdminPassword", bad.clone()),
            &target(),
        )
        .unwrap_err();
        let text = format!("{e} {e:?} {}", serde_json::to_string(&e.problem()).unwrap());
        let raw = bad.as_str().map_or(bad.to_string(), str::to_owned);
        assert!(!text.contains(&raw), "{text}");
        assert!(!text.contains("' '") && !text.contains("a space"), "{text}");
    }
}

#[test]
fn missing_passwords_are_generated_and_kept_on_revalidation() {
    let m = fixture_manifest();
    let first = inputs::validate(&m, &base(&m), &target()).unwrap();
    let p = first
        .value("dbAdminPassword")
        .and_then(Json::as_str)
        .unwrap()
        .to_owned();
    assert_eq!(p.chars().count(), PASSWORD_LENGTH);
    assert!(p.chars().any(|c| c.is_ascii_uppercase()) && p.chars().any(|c| c.is_ascii_digit()));
    let again = inputs::validate(
        &m,
        &first.to_input_values().with("nodeCount", json!(3)),
        &target(),
    )
    .unwrap();
    assert_eq!(
        again.value("dbAdminPassword").and_then(Json::as_str),
        Some(p.as_str())
    );
    assert_eq!(again.value("nodeCount"), Some(&json!(3)));
    let other = inputs::validate(&m, &base(&m), &target()).unwrap();
    assert_ne!(
        other.value("dbAdminPassword"),
        first.value("dbAdminPassword")
    );
}

#[test]
fn instance_tags_carry_the_name_and_version() {
    let m = fixture_manifest();
    let v = inputs::validate(&m, &base(&m), &target()).unwrap();
    let tags = v.tags(&m);
    assert_eq!(
        tags.into_iter().collect::<Vec<_>>(),
        vec![
            ("landfall-instance".to_owned(), "contoso".to_owned()),
            ("landfall-version".to_owned(), "0.3.0".to_owned()),
        ]
    );
}

#[test]
fn input_errors_carry_a_stable_code_and_details() {
    let m = fixture_manifest();
    let e: EngineError = inputs::validate(&m, &InputValues::new(&m), &target()).unwrap_err();
    let p = e.problem();
    assert_eq!(p.code, "inputs");
    assert_eq!(
        p.details,
        json!([{"input": "name", "rule": "required", "message": "name: Instance name is required"}])
    );
}
