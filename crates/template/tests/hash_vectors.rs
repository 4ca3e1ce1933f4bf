//! Every vector of `fixtures/azure/expressions/hash-vectors.json` (external values ARM
//! returned, and the collector's derived regression values), plus the `guid()` and
//! `uniqueString()` values found in Azure/bicep baselines that Microsoft's ARM engine produced.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should stop loudly.

use landfall_template::{Value, hash, json};

const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/azure/expressions/hash-vectors.json"
);
const SPEC_EXAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/azure/specs/examples/resources-2024-03-01_CalculateTemplateHash.json"
);

/// `templateHash_unreproduced` entries, each with why it cannot be checked yet. A new entry in
/// the fixture fails `unreproduced_template_hashes_are_all_explained` until it is listed here.
const UNREPRODUCED_TEMPLATE_HASHES: &[(&str, &str)] = &[
    (
        "4488259817381607990",
        "languageVersion 2.0 template (azd calculateTemplateHash recording): ARM normalises \
         symbolic-name templates before hashing and re-hashing the returned minifiedTemplate \
         does not give this value; the normalisation is unknown",
    ),
    (
        "13135986259522608210",
        "deployment() docs example: the exact template text hashed when the docs were written \
         is not known",
    ),
    (
        "6984782014100993977",
        "bicep 0.4 metadata._generator.templateHash: computed by bicep over the parsed Template \
         object (Azure.Deployments.Core TemplateHelpers.ComputeTemplateHash), whose \
         serialisation is not reproduced",
    ),
];

/// Values produced by Microsoft's ARM expression engine, found in Azure/bicep test baselines.
/// `(function, arguments, expected, source)`.
const BICEP_ENGINE_VECTORS: &[(&str, &[&str], &str, &str)] = &[
    (
        "guid",
        &["asdf"],
        "228d27cc-6fdb-5934-b7ac-1efccebade04",
        "Azure/bicep src/Bicep.Core.Samples/Files/baselines_bicepparam/Expressions/parameters.json \
         @01c6395ce95ad39840536cfb73056abcf66b16a6 (`guid: guid('asdf')` in parameters.bicepparam, \
         evaluated at compile time by the Azure.Deployments expression engine)",
    ),
    (
        "uniqueString",
        &["asd", "asdf", "asdf"],
        "iizpqit7ih3cc",
        "same baseline (`uniqueString: uniqueString('asd', 'asdf', 'asdf')`)",
    ),
    (
        "uniqueString",
        &["/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/myRg"],
        "js26ofeqkqeve",
        "Azure/bicep src/Bicep.Cli.IntegrationTests/SnapshotCommandTests.cs and \
         Files/SnapshotCommandTests/basic/main.snapshot.json @992886f0795f895e7980758cd65ea9e60bf41608: \
         `bicep snapshot` names the storage account 'store' + uniqueString(resourceGroup().id) = \
         storejs26ofeqkqeve for subscription 00000000-... and resource group myRg",
    ),
];

fn vectors() -> serde_json::Value {
    let text = std::fs::read_to_string(VECTORS).expect("hash-vectors.json is readable");
    serde_json::from_str(&text).expect("hash-vectors.json is JSON")
}

fn args_of(entry: &serde_json::Value) -> Vec<String> {
    entry["args"]
        .as_array()
        .expect("args")
        .iter()
        .map(|a| a.as_str().expect("string arg").to_owned())
        .collect()
}

fn check_unique_strings(list: &serde_json::Value) -> usize {
    let list = list.as_array().expect("a list of vectors");
    for entry in list {
        let args = args_of(entry);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_eq!(
            hash::unique_string(&refs),
            entry["expected"].as_str().unwrap(),
            "uniqueString{refs:?}"
        );
    }
    list.len()
}

#[test]
fn external_unique_string_vectors_match_arm() {
    let v = vectors();
    assert_eq!(check_unique_strings(&v["external"]["uniqueString"]), 4);
}

#[test]
fn derived_unique_string_vectors_match_reference_implementation() {
    let v = vectors();
    assert_eq!(check_unique_strings(&v["derived"]["uniqueString"]), 17);
}

#[test]
fn unique_string_rejects_non_arm_implementations_claims() {
    // The fixture lists values other implementations produce; ARM's differ.
    let v = vectors();
    let dsc = &v["non_arm_implementations_do_not_use"][0];
    let call_args = |call: &str| -> Vec<String> {
        call.split('\'')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect()
    };
    for (call, arm) in dsc["arm_value_by_reference_impl"].as_object().unwrap() {
        let args = call_args(call);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_eq!(hash::unique_string(&refs), arm.as_str().unwrap(), "{call}");
        assert_ne!(
            hash::unique_string(&refs),
            dsc["claims"][call].as_str().unwrap(),
            "{call}"
        );
    }
    let psrule = &v["non_arm_implementations_do_not_use"][1];
    for (call, claim) in psrule["claims"].as_object().unwrap() {
        let args = call_args(call);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_ne!(
            hash::unique_string(&refs),
            claim.as_str().unwrap(),
            "{call}"
        );
    }
}

#[test]
fn external_template_hashes_match_arm() {
    let v = vectors();
    let list = v["external"]["templateHash"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    for entry in list {
        let expected = entry["expected"].as_str().unwrap();
        let minified = entry["template_minified"].as_str().unwrap();
        if minified.starts_with('{') {
            assert_eq!(hash::template_hash_of_minified(minified), expected);
            // The recorded request had whitespace and a `//` comment that ARM strips.
            let template = json::parse_value(
                "{\r\n  \"$schema\": \"https://schema.management.azure.com/schemas/2015-01-01/deploymentParameters.json#\",\r\n  \"contentVersion\": \"1.0.0.0\",\r\n  \"resources\": [] // comment\r\n}",
            )
            .unwrap();
            assert_eq!(hash::minify(&template), minified);
            assert_eq!(hash::template_hash(&template), expected);
        } else {
            assert!(
                minified.contains("CalculateTemplateHash"),
                "unknown vector: {minified}"
            );
            check_spec_example(expected);
        }
    }
}

/// The REST spec example: request template -> `minifiedTemplate` and `templateHash`.
fn check_spec_example(expected: &str) {
    let text = std::fs::read_to_string(SPEC_EXAMPLE).unwrap();
    let example = json::parse_value(&text).unwrap();
    let template = example
        .get("parameters")
        .and_then(|p| p.get("template"))
        .unwrap();
    let body = example
        .get("responses")
        .and_then(|r| r.get("200"))
        .and_then(|r| r.get("body"))
        .unwrap();
    let arm_minified = body
        .get("minifiedTemplate")
        .and_then(Value::as_str)
        .unwrap();
    assert_eq!(
        body.get("templateHash").and_then(Value::as_str),
        Some(expected)
    );
    // ARM returns the minified text already upper-cased.
    assert_eq!(hash::minified_template(template), arm_minified);
    assert_eq!(hash::minify(template).to_uppercase(), arm_minified);
    assert_eq!(hash::template_hash_of_minified(arm_minified), expected);
    assert_eq!(hash::template_hash(template), expected);
}

#[test]
fn spec_example_template_hash_matches_arm() {
    check_spec_example("695440707931307747");
}

#[test]
fn unreproduced_template_hashes_are_all_explained() {
    let v = vectors();
    let list = v["external"]["templateHash_unreproduced"]
        .as_array()
        .unwrap();
    assert_eq!(list.len(), UNREPRODUCED_TEMPLATE_HASHES.len());
    for entry in list {
        let expected = entry["expected"].as_str().unwrap();
        assert!(
            UNREPRODUCED_TEMPLATE_HASHES
                .iter()
                .any(|(h, reason)| *h == expected && !reason.is_empty()),
            "templateHash {expected} is neither reproduced nor in the skip list"
        );
    }
}

#[test]
fn bicep_baseline_values_from_arm_engine_match() {
    for (function, args, expected, source) in BICEP_ENGINE_VECTORS {
        let got = match *function {
            "guid" => hash::guid(args),
            "uniqueString" => hash::unique_string(args),
            other => panic!("unknown function {other}"),
        };
        assert_eq!(got, *expected, "{function}{args:?} from {source}");
    }
}

#[test]
fn guid_is_lowercase_version5_rfc4122() {
    for args in [
        &["a"][..],
        &["a", "b", "c"],
        &[""],
        &["ünïcödé", "/subscriptions/x"],
    ] {
        let g = hash::guid(args);
        assert_eq!(g.len(), 36);
        assert_eq!(g, g.to_lowercase());
        let b: Vec<char> = g.chars().collect();
        assert_eq!([b[8], b[13], b[18], b[23]], ['-'; 4]);
        assert_eq!(b[14], '5', "{g}");
        assert!(matches!(b[19], '8' | '9' | 'a' | 'b'), "{g}");
    }
}

#[test]
fn guid_arguments_are_joined_with_hyphen_like_unique_string() {
    assert_eq!(hash::guid(&["a", "b"]), hash::guid(&["a-b"]));
    assert_ne!(hash::guid(&["a", "b"]), hash::guid(&["ab"]));
    assert_ne!(hash::guid(&["A"]), hash::guid(&["a"]));
}
