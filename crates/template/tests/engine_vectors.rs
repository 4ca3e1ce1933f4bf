//! Every vector of `engine-evaluated-vectors.json`: expressions whose values Microsoft's own ARM
//! evaluator produced (asserted by Azure/bicep's integration tests), evaluated here over a
//! `SimpleScope` and compared value for value. One test per vector, so a failure names it.

// A panic is how these tests report a failure, so unwrapping is the point here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use landfall_template::context::{DeploymentContext, DeploymentScope};
use landfall_template::eval::{Evaluator, SimpleScope};
use landfall_template::{NoResolver, Value};

const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/azure/expressions/engine-evaluated-vectors.json"
);

fn vectors() -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(VECTORS).unwrap_or_else(|e| panic!("{VECTORS}: {e}"));
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    doc["vectors"].as_array().unwrap().clone()
}

/// The deployment context a vector describes: subscription, resource group and scope.
fn context_of(v: &serde_json::Value) -> DeploymentContext {
    let mut ctx = DeploymentContext::default();
    let c = &v["context"];
    if let Some(s) = c["subscriptionId"].as_str() {
        ctx.subscription_id = s.to_owned();
    }
    if let Some(s) = c["resourceGroupName"].as_str() {
        ctx.resource_group.name = s.to_owned();
    }
    ctx.scope = match c["scope"].as_str() {
        Some("subscription") => DeploymentScope::Subscription,
        Some("managementGroup") => DeploymentScope::ManagementGroup,
        Some("tenant") => DeploymentScope::Tenant,
        _ => DeploymentScope::ResourceGroup,
    };
    ctx
}

fn check(index: usize) {
    let all = vectors();
    let v = &all[index];
    let expr = v["arm_expression"].as_str().unwrap();
    let mut scope = SimpleScope::new(context_of(v), &NoResolver);
    if let Some(params) = v["context"]["parameters"].as_object() {
        for (k, p) in params {
            scope
                .parameters
                .insert(k.clone(), Value::from_json(p.clone()));
        }
    }
    let expected = Value::from_json(v["expected"].clone());
    let got = Evaluator::new(&mut scope)
        .eval_str(expr)
        .unwrap_or_else(|e| panic!("vector {index} ({}): {expr}\n  failed: {e}", v["test"]));
    assert!(
        got.arm_equals(&expected),
        "vector {index} ({}): {expr}\n  expected {}\n  got      {}",
        v["test"],
        expected.to_json_string(),
        got.to_json_string()
    );
}

macro_rules! vector_tests {
    ($($name:ident => $index:expr,)*) => {
        $(
            #[test]
            fn $name() {
                check($index);
            }
        )*

        /// The vector indexes the tests above cover.
        const COVERED: &[usize] = &[$($index),*];
    };
}

vector_tests! {
    add_adds_two_integers => 0,
    mul_multiplies_two_integers => 1,
    mod_gives_the_remainder => 2,
    div_truncates_toward_zero => 3,
    sub_goes_negative => 4,
    format_renders_bools_numbers_objects_and_arrays_like_dotnet => 5,
    less_compares_integers => 6,
    less_or_equals_compares_integers => 7,
    greater_compares_integers => 8,
    greater_or_equals_compares_integers => 9,
    equals_compares_integers => 10,
    not_negates => 11,
    and_is_false_when_one_argument_is_false => 12,
    or_is_true_when_one_argument_is_true => 13,
    coalesce_skips_leading_nulls => 14,
    items_orders_keys_digits_first_then_letters_lowercase_first => 15,
    join_with_empty_separator => 16,
    join_with_comma => 17,
    join_with_space => 18,
    string_index_of_ignores_case_lowercase_needle => 19,
    string_index_of_ignores_case_uppercase_needle => 20,
    string_index_of_ignores_case_later_lowercase => 21,
    string_index_of_ignores_case_later_uppercase => 22,
    string_contains_is_case_sensitive_lowercase_miss => 23,
    string_contains_finds_exact_case_prefix => 24,
    string_contains_is_case_sensitive_lowercase_suffix_miss => 25,
    string_contains_finds_exact_case_suffix => 26,
    array_index_of_is_case_sensitive_miss => 27,
    array_index_of_finds_exact_string => 28,
    array_index_of_is_case_sensitive_second_miss => 29,
    array_index_of_finds_second_exact_string => 30,
    array_index_of_is_type_strict_for_bools => 31,
    array_index_of_is_type_strict_for_integers => 32,
    array_contains_is_case_sensitive_miss => 33,
    array_contains_finds_exact_string => 34,
    array_contains_is_case_sensitive_second_miss => 35,
    array_contains_finds_second_exact_string => 36,
    array_contains_is_type_strict_for_bools => 37,
    array_contains_is_type_strict_for_integers => 38,
    resource_id_uses_context_subscription_and_group => 39,
    resource_id_with_explicit_group => 40,
    resource_id_with_explicit_subscription_and_group => 41,
    tenant_resource_id_builds_tenant_path => 42,
    subscription_resource_id_uses_context_subscription => 43,
    subscription_resource_id_with_explicit_subscription => 44,
    extension_resource_id_on_management_group => 45,
    extension_resource_id_on_tenant_resource => 46,
    reduce_over_mapped_items_replaces_placeholders => 47,
}

#[test]
fn every_vector_has_a_test() {
    let n = vectors().len();
    let mut covered = COVERED.to_vec();
    covered.sort_unstable();
    covered.dedup();
    assert_eq!(
        covered,
        (0..n).collect::<Vec<_>>(),
        "add a test for each new vector"
    );
}
