//! Behaviour of the array, object, comparison, numeric, lambda and CIDR functions, including
//! the outputs Microsoft's documentation gives for its sample templates
//! (`docs-function-expected-outputs.json`) and the examples on the function reference pages.

// A panic is how these tests report a failure, so unwrapping is the point here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use landfall_template::context::DeploymentContext;
use landfall_template::eval::{Evaluator, Scope, SimpleScope};
use landfall_template::value::{Deferred, Object};
use landfall_template::{NoResolver, Resolver, Value, json as lenient_json};
use serde_json::json;

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/azure"
);

fn scope() -> SimpleScope<'static> {
    SimpleScope::new(DeploymentContext::default(), &NoResolver)
}

fn eval_in(scope: &mut SimpleScope<'_>, expr: &str) -> Result<Value, String> {
    Evaluator::new(scope).eval_str(expr).map_err(|e| e.message)
}

fn eval(expr: &str) -> Value {
    eval_in(&mut scope(), expr).unwrap_or_else(|e| panic!("{expr} failed: {e}"))
}

/// The error message of an expression that must fail.
fn fails(expr: &str) -> String {
    match eval_in(&mut scope(), expr) {
        Ok(v) => panic!("{expr} should fail but gave {}", v.to_json_string()),
        Err(e) => e,
    }
}

#[track_caller]
fn assert_eval(expr: &str, expected: serde_json::Value) {
    let got = eval(expr);
    let expected = Value::from_json(expected);
    assert!(
        got.arm_equals(&expected),
        "{expr}\n  expected {}\n  got      {}",
        expected.to_json_string(),
        got.to_json_string()
    );
}

/// `[expr]` evaluated with the given parameter values.
fn eval_with(params: serde_json::Value, expr: &str) -> Value {
    let mut s = scope();
    for (k, v) in params.as_object().unwrap() {
        s.parameters.insert(k.clone(), Value::from_json(v.clone()));
    }
    eval_in(&mut s, expr).unwrap_or_else(|e| panic!("{expr} failed: {e}"))
}

fn deferred(expr: &str) -> Value {
    Value::Deferred(Deferred { expr: expr.into() })
}

// ---------------------------------------------------------------------------------------------
// The documentation's sample templates.
//
// Until these go through the planner, a small scope stands in for it: parameters take their
// defaults (or the entry's overrides) in declaration order, variables evaluate on first use,
// and `copy` variable loops are expanded with copyIndex().

struct DocScope {
    inner: SimpleScope<'static>,
    raw_variables: Object,
    copy_loops: Vec<(String, i64)>,
    resolving: Vec<String>,
}

impl DocScope {
    fn copy_definition(&self, name: &str) -> Option<Value> {
        let copies = self.raw_variables.get("copy")?.as_array()?;
        copies
            .iter()
            .find(|c| {
                c.get("name")
                    .and_then(Value::as_str)
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
            })
            .cloned()
    }

    fn expand_copy(&mut self, def: &Value) -> Result<Value, String> {
        let name = def
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let count = def.get("count").cloned().unwrap_or(Value::Int(0));
        let count = Evaluator::new(self)
            .eval_value(&count)
            .map_err(|e| e.message)?;
        let count = count.as_int().ok_or("copy count is not an integer")?;
        let input = def.get("input").cloned().unwrap_or(Value::Null);
        let mut out = Vec::new();
        for i in 0..count {
            self.copy_loops.push((name.clone(), i));
            let v = Evaluator::new(self)
                .eval_value(&input)
                .map_err(|e| e.message);
            self.copy_loops.pop();
            out.push(v?);
        }
        Ok(Value::Array(out))
    }
}

impl Scope for DocScope {
    fn context(&self) -> &DeploymentContext {
        self.inner.context()
    }

    fn parameter(&mut self, name: &str) -> Result<Value, String> {
        self.inner.parameter(name)
    }

    fn variable(&mut self, name: &str) -> Result<Value, String> {
        if let Ok(v) = self.inner.variable(name) {
            return Ok(v);
        }
        if self.resolving.iter().any(|n| n.eq_ignore_ascii_case(name)) {
            return Err(format!("variable '{name}' depends on itself"));
        }
        self.resolving.push(name.to_owned());
        let value = match (
            self.raw_variables.get(name).cloned(),
            self.copy_definition(name),
        ) {
            (Some(raw), _) => Evaluator::new(self).eval_value(&raw).map_err(|e| e.message),
            (None, Some(def)) => self.expand_copy(&def),
            (None, None) => self.inner.variable(name),
        };
        self.resolving.pop();
        let value = value?;
        self.inner.variables.insert(name.to_owned(), value.clone());
        Ok(value)
    }

    fn copy_index(&self, loop_name: Option<&str>) -> Result<i64, String> {
        let found = match loop_name {
            Some(n) => self
                .copy_loops
                .iter()
                .rev()
                .find(|(l, _)| l.eq_ignore_ascii_case(n)),
            None => self.copy_loops.last(),
        };
        found
            .map(|(_, i)| *i)
            .ok_or_else(|| "copyIndex outside a copy loop".into())
    }

    fn resolver(&self) -> &dyn Resolver {
        &NoResolver
    }
}

fn docs_entries() -> Vec<serde_json::Value> {
    let path = format!("{FIXTURES}/expressions/docs-function-expected-outputs.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    doc["entries"].as_array().unwrap().clone()
}

/// Evaluates the outputs of the docs sample at `template` (relative to the fixtures) and
/// compares every output the docs give a value for.
fn check_docs_sample(template: &str) {
    let entry = docs_entries()
        .into_iter()
        .find(|e| {
            e["template"]
                .as_str()
                .is_some_and(|t| t.ends_with(template))
        })
        .unwrap_or_else(|| panic!("no docs entry for {template}"));
    let rel = entry["template"].as_str().unwrap();
    let path = format!("{FIXTURES}/{rel}");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let tpl = lenient_json::parse_value(&text).unwrap_or_else(|e| panic!("{path}: {e}"));

    let mut doc = DocScope {
        inner: scope(),
        raw_variables: tpl
            .get("variables")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default(),
        copy_loops: Vec::new(),
        resolving: Vec::new(),
    };
    let overrides = entry["parameters"].as_object().cloned().unwrap_or_default();
    if let Some(params) = tpl.get("parameters").and_then(Value::as_object) {
        for (name, def) in params {
            let value = match overrides.get(name) {
                Some(v) => Value::from_json(v.clone()),
                None => {
                    let default = def.get("defaultValue").cloned().unwrap_or(Value::Null);
                    Evaluator::new(&mut doc)
                        .eval_value(&default)
                        .unwrap_or_else(|e| panic!("{rel}: parameter {name}: {e}"))
                }
            };
            doc.inner.parameters.insert(name.clone(), value);
        }
    }

    let expected = entry["expected_outputs"].as_object().unwrap();
    assert!(
        !expected.is_empty(),
        "{rel}: the docs entry has no expected outputs"
    );
    let outputs = tpl.get("outputs").and_then(Value::as_object).unwrap();
    for (name, want) in expected {
        let out = outputs
            .get(name)
            .unwrap_or_else(|| panic!("{rel}: no output {name}"));
        let value = out
            .get("value")
            .unwrap_or_else(|| panic!("{rel}: output {name} has no value"));
        let got = Evaluator::new(&mut doc)
            .eval_value(value)
            .unwrap_or_else(|e| panic!("{rel}: output {name}: {e}"));
        let want = Value::from_json(want.clone());
        assert!(
            got.arm_equals(&want),
            "{rel}: output {name}\n  expected {}\n  got      {}",
            want.to_json_string(),
            got.to_json_string()
        );
    }
}

const ARRAY_SAMPLES: &str = "templates/docs-json-samples/azure-resource-manager/functions/array";
const OBJECT_SAMPLES: &str = "templates/docs-json-samples/azure-resource-manager/functions/object";
const COMPARISON_SAMPLES: &str =
    "templates/docs-json-samples/azure-resource-manager/functions/comparison";
const NUMERIC_SAMPLES: &str =
    "templates/docs-json-samples/azure-resource-manager/functions/numeric";
const INLINE_SAMPLES: &str = "expressions/doc-inline-templates";

fn sample(dir: &str, file: &str) -> String {
    format!("{dir}/{file}")
}

#[test]
fn docs_array_converts_scalars_and_objects_to_one_element_arrays() {
    check_docs_sample(&sample(ARRAY_SAMPLES, "array.json"));
}

#[test]
fn docs_concat_appends_arrays_in_order() {
    check_docs_sample(&sample(ARRAY_SAMPLES, "concat-array.json"));
}

#[test]
fn docs_contains_searches_strings_objects_and_arrays() {
    check_docs_sample(&sample(ARRAY_SAMPLES, "contains.json"));
}

#[test]
fn docs_create_array_builds_arrays_of_any_values() {
    check_docs_sample(&sample(ARRAY_SAMPLES, "createarray.json"));
}

#[test]
fn docs_empty_is_true_for_empty_array_object_and_string() {
    check_docs_sample(&sample(ARRAY_SAMPLES, "empty.json"));
}

#[test]
fn docs_first_returns_first_element_or_character() {
    check_docs_sample(&sample(ARRAY_SAMPLES, "first.json"));
}

#[test]
fn docs_intersection_keeps_common_elements_and_properties() {
    check_docs_sample(&sample(ARRAY_SAMPLES, "intersection.json"));
}

#[test]
fn docs_last_returns_last_element_or_character() {
    check_docs_sample(&sample(ARRAY_SAMPLES, "last.json"));
}

#[test]
fn docs_length_counts_elements_characters_and_properties() {
    check_docs_sample(&sample(ARRAY_SAMPLES, "length.json"));
}

#[test]
fn docs_range_counts_up_from_the_start() {
    check_docs_sample(&sample(ARRAY_SAMPLES, "range.json"));
}

#[test]
fn docs_skip_drops_leading_elements_and_characters() {
    check_docs_sample(&sample(ARRAY_SAMPLES, "skip.json"));
}

#[test]
fn docs_take_keeps_leading_elements_and_characters() {
    check_docs_sample(&sample(ARRAY_SAMPLES, "take.json"));
}

#[test]
fn docs_union_later_object_wins_and_arrays_deduplicate() {
    check_docs_sample(&sample(ARRAY_SAMPLES, "union.json"));
}

#[test]
fn docs_max_of_array_and_of_arguments() {
    check_docs_sample(&sample(NUMERIC_SAMPLES, "max.json"));
}

#[test]
fn docs_min_of_array_and_of_arguments() {
    check_docs_sample(&sample(NUMERIC_SAMPLES, "min.json"));
}

#[test]
fn docs_create_object_builds_nested_values() {
    check_docs_sample(&sample(OBJECT_SAMPLES, "createobject.json"));
}

#[test]
fn docs_json_parses_each_json_type_and_null() {
    check_docs_sample(&sample(OBJECT_SAMPLES, "json.json"));
}

#[test]
fn docs_null_is_empty() {
    check_docs_sample(&sample(OBJECT_SAMPLES, "null.json"));
}

#[test]
fn docs_items_returns_entries_sorted_by_key() {
    check_docs_sample(&sample(INLINE_SAMPLES, "object_items.json"));
}

#[test]
fn docs_items_drives_a_variable_copy_loop() {
    check_docs_sample(&sample(INLINE_SAMPLES, "object_items-copy.json"));
}

#[test]
fn union_deep_merges_nested_objects() {
    check_docs_sample(&sample(INLINE_SAMPLES, "object_union-deep-merge.json"));
}

#[test]
fn docs_coalesce_returns_first_non_null_of_each_type() {
    check_docs_sample(&sample(COMPARISON_SAMPLES, "coalesce.json"));
}

#[test]
fn docs_equals_compares_ints_arrays_and_objects() {
    check_docs_sample(&sample(COMPARISON_SAMPLES, "equals.json"));
}

#[test]
fn docs_greater_is_culture_aware_for_strings() {
    check_docs_sample(&sample(COMPARISON_SAMPLES, "greater.json"));
}

#[test]
fn docs_greater_or_equals_is_culture_aware_for_strings() {
    check_docs_sample(&sample(COMPARISON_SAMPLES, "greaterorequals.json"));
}

#[test]
fn docs_less_is_culture_aware_for_strings() {
    check_docs_sample(&sample(COMPARISON_SAMPLES, "less.json"));
}

#[test]
fn docs_less_or_equals_is_culture_aware_for_strings() {
    check_docs_sample(&sample(COMPARISON_SAMPLES, "lessorequals.json"));
}

#[test]
fn docs_not_equals_negates_equals() {
    check_docs_sample("functions/logical/not-equals.json");
}

#[test]
fn docs_add_adds() {
    check_docs_sample(&sample(NUMERIC_SAMPLES, "add.json"));
}

#[test]
fn docs_div_truncates() {
    check_docs_sample(&sample(NUMERIC_SAMPLES, "div.json"));
}

#[test]
fn docs_int_parses_a_string() {
    check_docs_sample(&sample(NUMERIC_SAMPLES, "int.json"));
}

#[test]
fn docs_mod_gives_the_remainder() {
    check_docs_sample(&sample(NUMERIC_SAMPLES, "mod.json"));
}

#[test]
fn docs_sub_subtracts() {
    check_docs_sample(&sample(NUMERIC_SAMPLES, "sub.json"));
}

#[test]
fn docs_mul_sample_multiplies_twice() {
    // The docs table predates this sample (see the entry's note): mul(mul(5, 3), 3).
    assert_eval("[mul(mul(5, 3), 3)]", json!(45));
}

// ---------------------------------------------------------------------------------------------
// Array functions.

#[test]
fn concat_mixing_arrays_and_strings_is_an_error() {
    let e = fails("[concat(createArray(1), 'a')]");
    assert!(
        e.contains("Either all or none of the parameters must be an array"),
        "{e}"
    );
}

#[test]
fn concat_of_strings_renders_integers_and_booleans() {
    assert_eval("[concat('a', 1, '-', true())]", json!("a1-True"));
}

#[test]
fn concat_of_objects_is_a_type_error() {
    fails("[concat('a', createObject())]");
}

#[test]
fn contains_on_object_keys_ignores_case() {
    assert_eval("[contains(createObject('Name', 1), 'nAME')]", json!(true));
}

#[test]
fn contains_on_strings_is_case_sensitive() {
    assert_eval("[contains('OneTwo', 'two')]", json!(false));
    assert_eval("[contains('OneTwo', 'Two')]", json!(true));
}

#[test]
fn contains_on_arrays_is_type_strict_and_deep() {
    assert_eval("[contains(createArray(1, 2), '1')]", json!(false));
    assert_eval(
        "[contains(createArray(createObject('a', 1)), createObject('A', 1))]",
        json!(true),
    );
}

#[test]
fn contains_on_a_number_is_a_type_error() {
    fails("[contains(1, 1)]");
}

#[test]
fn create_array_without_arguments_is_empty() {
    assert_eval("[createArray()]", json!([]));
}

#[test]
fn empty_is_true_for_null_and_an_error_for_numbers() {
    assert_eval("[empty(null())]", json!(true));
    assert_eval("[empty(' ')]", json!(false));
    fails("[empty(0)]");
}

#[test]
fn first_and_last_of_empty_values() {
    assert_eval("[first(createArray())]", json!(null));
    assert_eval("[last(createArray())]", json!(null));
    assert_eval("[first('')]", json!(""));
    assert_eval("[last('')]", json!(""));
}

#[test]
fn flatten_joins_one_level_of_nesting() {
    assert_eval(
        "[flatten(createArray(createArray(0, 1), createArray(createArray(2)), createArray()))]",
        json!([0, 1, [2]]),
    );
    assert_eval("[flatten(createArray())]", json!([]));
}

#[test]
fn flatten_rejects_elements_that_are_not_arrays() {
    let e = fails("[flatten(createArray(createArray(1), 2))]");
    assert!(e.contains("element 1"), "{e}");
}

#[test]
fn docs_index_of_and_last_index_of_on_arrays() {
    let params = json!({
        "names": ["one", "two", "three"],
        "numbers": [4, 5, 6],
        "collection": [["one", "two", "three"], [4, 5, 6]],
        "duplicates": [1, 2, 3, 1]
    });
    let cases = [
        ("[lastIndexOf(parameters('names'), 'two')]", 1),
        ("[indexOf(parameters('names'), 'one')]", 0),
        ("[lastIndexOf(parameters('names'), 'Three')]", -1),
        ("[lastIndexOf(parameters('numbers'), 4)]", 0),
        ("[indexOf(parameters('numbers'), 6)]", 2),
        ("[lastIndexOf(parameters('numbers'), '5')]", -1),
        (
            "[indexOf(parameters('collection'), parameters('numbers'))]",
            1,
        ),
        ("[indexOf(parameters('duplicates'), 1)]", 0),
        ("[lastIndexOf(parameters('duplicates'), 1)]", 3),
    ];
    for (expr, want) in cases {
        assert!(
            eval_with(params.clone(), expr).arm_equals(&Value::Int(want)),
            "{expr}"
        );
    }
}

#[test]
fn index_of_on_strings_ignores_case_and_counts_utf16_units() {
    assert_eval("[indexOf('abcdef', 'CD')]", json!(2));
    assert_eval("[lastIndexOf('test', 't')]", json!(3));
    assert_eval("[indexOf('abcdef', 'z')]", json!(-1));
    assert_eval("[indexOf('😀x', 'X')]", json!(2));
}

#[test]
fn length_counts_utf16_units_like_dotnet() {
    assert_eval("[length('😀')]", json!(2));
    assert_eval("[length('')]", json!(0));
}

#[test]
fn index_from_end_counts_from_one() {
    assert_eval("[indexFromEnd(createArray('a', 'b', 'c'), 1)]", json!("c"));
    assert_eval("[indexFromEnd(createArray('a', 'b', 'c'), 3)]", json!("a"));
}

#[test]
fn index_from_end_out_of_range_is_an_error() {
    fails("[indexFromEnd(createArray('a'), 2)]");
    fails("[indexFromEnd(createArray('a'), 0)]");
}

#[test]
fn try_index_from_end_out_of_range_is_null() {
    assert_eval("[tryIndexFromEnd(createArray('a', 'b'), 2)]", json!("a"));
    assert_eval("[tryIndexFromEnd(createArray('a', 'b'), 3)]", json!(null));
    assert_eval("[tryIndexFromEnd(createArray(), 1)]", json!(null));
}

#[test]
fn intersection_of_three_arrays_keeps_first_order_without_duplicates() {
    assert_eval(
        "[intersection(createArray(3, 1, 2, 1), createArray(1, 2, 3), createArray(2, 1))]",
        json!([1, 2]),
    );
}

#[test]
fn intersection_of_objects_needs_equal_values() {
    assert_eval(
        "[intersection(createObject('a', 1, 'b', 2), createObject('A', 1, 'b', 3))]",
        json!({"a": 1}),
    );
}

#[test]
fn range_allows_up_to_ten_thousand_elements() {
    let v = eval("[range(0, 10000)]");
    assert_eq!(v.as_array().map(Vec::len), Some(10000));
    assert_eval("[range(-2, 3)]", json!([-2, -1, 0]));
    assert_eval("[range(7, 0)]", json!([]));
}

#[test]
fn range_count_over_ten_thousand_is_an_error() {
    let e = fails("[range(0, 10001)]");
    assert!(e.contains("10000"), "{e}");
    fails("[range(0, -1)]");
}

#[test]
fn range_end_may_not_pass_int32_max() {
    assert_eval("[range(2147483646, 1)]", json!([2147483646]));
    fails("[range(2147483647, 1)]");
    fails("[range(9223372036854775807, 1)]");
}

#[test]
fn skip_and_take_clamp_their_counts() {
    assert_eval("[skip(createArray(1, 2), -5)]", json!([1, 2]));
    assert_eval("[skip(createArray(1, 2), 5)]", json!([]));
    assert_eval("[take(createArray(1, 2), -5)]", json!([]));
    assert_eval("[take(createArray(1, 2), 5)]", json!([1, 2]));
    assert_eval("[take('abc', 9223372036854775807)]", json!("abc"));
}

#[test]
fn union_of_arrays_deduplicates_in_first_seen_order() {
    assert_eval(
        "[union(createArray(1, 1, 'a'), createArray('a', 2, 1), createArray(createArray(3)))]",
        json!([1, "a", 2, [3]]),
    );
}

#[test]
fn union_replaces_nested_arrays_and_scalars() {
    assert_eval(
        "[union(createObject('a', createArray(1), 'b', createObject('x', 1)), createObject('a', createArray(2), 'b', 'text'))]",
        json!({"a": [2], "b": "text"}),
    );
}

#[test]
fn union_matches_property_names_ignoring_case() {
    let v = eval("[union(createObject('Name', 1), createObject('name', 2))]");
    assert_eq!(v.to_json_string(), r#"{"Name":2}"#);
}

#[test]
fn union_of_array_and_object_is_an_error() {
    fails("[union(createArray(), createObject())]");
}

#[test]
fn structural_functions_carry_nested_deferred_values() {
    let mut s = scope();
    s.parameters.insert(
        "p".into(),
        Value::Array(vec![Value::Int(1), deferred("reference('x').id")]),
    );
    assert!(
        eval_in(&mut s, "[length(parameters('p'))]")
            .unwrap()
            .arm_equals(&Value::Int(2))
    );
    let last = eval_in(&mut s, "[last(parameters('p'))]").unwrap();
    assert!(last.arm_equals(&deferred("reference('x').id")), "{last:?}");
    let v = eval_in(&mut s, "[concat(parameters('p'), createArray(3))]").unwrap();
    assert_eq!(v.as_array().map(Vec::len), Some(3));
    // contains() must look at the values, so it waits for the deployment.
    let c = eval_in(&mut s, "[contains(parameters('p'), 2)]").unwrap();
    assert!(matches!(c, Value::Deferred(_)), "{c:?}");
}

#[test]
fn growing_a_value_without_bound_fails_cleanly() {
    let e = fails(
        "[reduce(range(0, 40), createArray(0), lambda('acc', 'x', concat(lambdaVariables('acc'), lambdaVariables('acc'))))]",
    );
    assert!(e.contains("more than"), "{e}");
    let e = fails(
        "[reduce(range(0, 40), createArray(0), lambda('acc', 'x', createArray(lambdaVariables('acc'), lambdaVariables('acc'))))]",
    );
    assert!(e.contains("more than"), "{e}");
}

#[test]
fn nesting_a_value_too_deeply_fails_cleanly() {
    let e = fails(
        "[reduce(range(0, 2000), 0, lambda('acc', 'x', createArray(lambdaVariables('acc'))))]",
    );
    assert!(e.contains("nested"), "{e}");
    // array() of an array is the array itself, so it cannot be used to nest.
    assert_eval(
        "[reduce(range(0, 2000), 0, lambda('acc', 'x', array(lambdaVariables('acc'))))]",
        json!([0]),
    );
}

#[test]
fn index_of_finds_overlapping_matches() {
    assert_eval("[lastIndexOf('aaaa', 'AA')]", json!(2));
    assert_eval("[indexOf('aaab', 'aab')]", json!(1));
    assert_eval("[indexOf('abc', '')]", json!(0));
}

// ---------------------------------------------------------------------------------------------
// Object functions.

#[test]
fn create_object_rejects_a_repeated_key() {
    let e = fails("[createObject('a', 1, 'a', 2)]");
    assert!(e.contains("'a'"), "{e}");
}

#[test]
fn create_object_needs_key_value_pairs() {
    fails("[createObject('a')]");
    fails("[createObject(1, 2)]");
    assert_eval("[createObject()]", json!({}));
}

#[test]
fn items_returns_key_value_entries_sorted_by_key() {
    assert_eval(
        "[items(createObject('b', 1, 'B', 2, 'a', createArray(3), '10', null()))]",
        json!([
            {"key": "10", "value": null},
            {"key": "a", "value": [3]},
            {"key": "b", "value": 1},
            {"key": "B", "value": 2}
        ]),
    );
}

#[test]
fn json_of_null_text_is_null() {
    assert_eval("[json('null')]", json!(null));
    assert_eval("[empty(json('null'))]", json!(true));
}

#[test]
fn json_accepts_newtonsoft_leniencies() {
    assert_eval(
        "[json('{''a'': [1, 2,], /* note */ b: true}')]",
        json!({"a": [1, 2], "b": true}),
    );
}

#[test]
fn json_of_invalid_text_is_an_error() {
    let e = fails("[json('{')]");
    assert!(e.contains("not valid JSON"), "{e}");
}

#[test]
fn object_keys_keep_declaration_order() {
    assert_eval(
        "[objectKeys(createObject('b', 1, 'a', 2))]",
        json!(["b", "a"]),
    );
}

#[test]
fn shallow_merge_replaces_nested_objects_instead_of_merging() {
    assert_eval(
        "[shallowMerge(createArray(createObject('one', 'a', 'nested', createObject('a', 1, 'nested', createObject('c', 3))), createObject('two', 'b', 'nested', createObject('b', 2))))]",
        json!({"one": "a", "nested": {"b": 2}, "two": "b"}),
    );
    assert_eval("[shallowMerge(createArray())]", json!({}));
}

#[test]
fn shallow_merge_rejects_non_objects() {
    fails("[shallowMerge(createArray(createObject(), 1))]");
}

#[test]
fn try_get_missing_key_or_index_is_null() {
    assert_eval("[tryGet(createObject('a', 1), 'b')]", json!(null));
    assert_eval("[tryGet(createObject('a', 1), 'A')]", json!(1));
    assert_eval("[tryGet(createArray(1, 2), 1)]", json!(2));
    assert_eval("[tryGet(createArray(1, 2), 2)]", json!(null));
    assert_eval("[tryGet(createArray(1, 2), -1)]", json!(null));
    assert_eval("[tryGet(null(), 'a')]", json!(null));
}

#[test]
fn try_get_follows_a_path_of_keys_and_indexes() {
    let params = json!({"o": {"value": {"deeply": {"nested": {"array": [10, 20, 30]}}}}});
    let at = |expr: &str| eval_with(params.clone(), expr).to_json_string();
    assert_eq!(
        at("[tryGet(parameters('o'), 'value', 'deeply', 'nested', 'array', 0)]"),
        "10"
    );
    assert_eq!(
        at(
            "[tryGet(parameters('o'), 'value', 'deeply', 'nested', 'array', createObject('value', 1, 'fromEnd', true()))]"
        ),
        "30"
    );
    assert_eq!(
        at("[tryGet(parameters('o'), 'value', 'missing', 'nested')]"),
        "null"
    );
}

#[test]
fn try_get_with_a_key_of_the_wrong_type_is_an_error() {
    fails("[tryGet(createObject('a', 1), 0)]");
    fails("[tryGet(createArray(1), 'a')]");
    fails("[tryGet('text', 'a')]");
}

// ---------------------------------------------------------------------------------------------
// Comparison functions.

#[test]
fn string_order_is_culture_aware_not_ordinal() {
    assert_eval("[greater('A', 'a')]", json!(true));
    assert_eval("[less('a', 'B')]", json!(true));
    assert_eval("[less('Z', 'a')]", json!(false));
    assert_eval("[less('item10', 'item9')]", json!(true));
    assert_eval("[greaterOrEquals('abc', 'abc')]", json!(true));
    assert_eval("[lessOrEquals('b', 'a')]", json!(false));
}

#[test]
fn comparing_different_types_is_an_error() {
    fails("[greater(1, '1')]");
    fails("[less('a', 1)]");
    fails("[lessOrEquals(true(), false())]");
}

#[test]
fn coalesce_of_only_nulls_is_null() {
    assert_eval("[coalesce(null(), null())]", json!(null));
    assert_eval("[coalesce(null(), createArray(), 1)]", json!([]));
}

#[test]
fn coalesce_waits_for_a_deferred_value_only_when_it_matters() {
    assert_eval("[coalesce('known', reference('x'))]", json!("known"));
    let v = eval("[coalesce(null(), reference('x'), 'fallback')]");
    assert!(
        matches!(&v, Value::Deferred(d) if d.expr.starts_with("coalesce(reference('x')")),
        "{v:?}"
    );
}

#[test]
fn equals_is_deep_type_strict_and_case_sensitive_for_strings() {
    assert_eval(
        "[equals(createObject('A', createArray(1)), createObject('a', createArray(1)))]",
        json!(true),
    );
    assert_eval("[equals(1, '1')]", json!(false));
    assert_eval("[equals('demo', 'Demo')]", json!(false));
    assert_eval("[equals(null(), null())]", json!(true));
}

// ---------------------------------------------------------------------------------------------
// Numeric functions.

#[test]
fn div_and_mod_truncate_toward_zero() {
    assert_eval("[div(-7, 2)]", json!(-3));
    assert_eval("[mod(-7, 2)]", json!(-1));
    assert_eval("[mod(7, -2)]", json!(1));
}

#[test]
fn division_by_zero_is_a_clear_error() {
    let e = fails("[div(1, 0)]");
    assert!(e.contains("zero"), "{e}");
    let e = fails("[mod(1, 0)]");
    assert!(e.contains("zero"), "{e}");
}

#[test]
fn overflow_is_an_error_not_a_wrap() {
    fails("[add(9223372036854775807, 1)]");
    fails("[sub(-9223372036854775807, 2)]");
    fails("[mul(4611686018427387904, 2)]");
    fails("[div(sub(-9223372036854775807, 1), -1)]");
    fails("[mod(sub(-9223372036854775807, 1), -1)]");
}

#[test]
fn int_parses_signed_strings_with_blanks() {
    assert_eval("[int(' -42 ')]", json!(-42));
    assert_eval("[int('+7')]", json!(7));
    assert_eval("[int(5)]", json!(5));
    fails("[int('4.5')]");
    fails("[int('')]");
    fails("[int('99999999999999999999')]");
}

#[test]
fn float_converts_strings_and_integers() {
    assert!(matches!(eval("[float('3.0')]"), Value::Float(f) if f == 3.0));
    assert!(matches!(eval("[float(3)]"), Value::Float(f) if f == 3.0));
    assert!(matches!(eval("[float('-1.5e2')]"), Value::Float(f) if f == -150.0));
    fails("[float('NaN')]");
    fails("[float('abc')]");
}

#[test]
fn max_and_min_take_a_list_or_one_array() {
    assert_eval("[max(-1, -5)]", json!(-1));
    assert_eval("[min(createArray(3, -5, 2))]", json!(-5));
    assert_eval("[max(7)]", json!(7));
    fails("[max(createArray())]");
    fails("[min(1, 'a')]");
    fails("[max(createArray(1, '2'))]");
}

#[test]
fn arithmetic_on_strings_is_a_type_error() {
    let e = fails("[add('1', 2)]");
    assert!(e.contains("Integer"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// Lambda functions: the examples of the ARM lambda reference page, then edge cases.

fn dogs() -> serde_json::Value {
    json!([
        {"name": "Evie", "age": 5, "interests": ["Ball", "Frisbee"]},
        {"name": "Casper", "age": 3, "interests": ["Other dogs"]},
        {"name": "Indy", "age": 2, "interests": ["Butter"]},
        {"name": "Kira", "age": 8, "interests": ["Rubs"]}
    ])
}

#[track_caller]
fn assert_dogs(expr: &str, expected: serde_json::Value) {
    let got = eval_with(json!({"dogs": dogs()}), expr);
    let expected = Value::from_json(expected);
    assert!(
        got.arm_equals(&expected),
        "{expr}\n  expected {}\n  got      {}",
        expected.to_json_string(),
        got.to_json_string()
    );
}

#[test]
fn docs_filter_keeps_elements_the_lambda_accepts() {
    assert_dogs(
        "[filter(parameters('dogs'), lambda('dog', greaterOrEquals(lambdaVariables('dog').age, 5)))]",
        json!([
            {"name": "Evie", "age": 5, "interests": ["Ball", "Frisbee"]},
            {"name": "Kira", "age": 8, "interests": ["Rubs"]}
        ]),
    );
    assert_eval(
        "[filter(range(0, 10), lambda('i', equals(0, mod(lambdaVariables('i'), 2))))]",
        json!([0, 2, 4, 6, 8]),
    );
}

#[test]
fn filter_passes_the_index_when_asked() {
    assert_eval(
        "[filter(createArray('a', 'b', 'c', 'd'), lambda('item', 'i', equals(mod(lambdaVariables('i'), 2), 0)))]",
        json!(["a", "c"]),
    );
}

#[test]
fn filter_lambda_must_return_a_boolean() {
    let e = fails("[filter(createArray(1), lambda('x', 1))]");
    assert!(e.contains("Boolean"), "{e}");
}

#[test]
fn docs_map_applies_the_lambda_to_each_element() {
    assert_dogs(
        "[map(parameters('dogs'), lambda('dog', lambdaVariables('dog').name))]",
        json!(["Evie", "Casper", "Indy", "Kira"]),
    );
    assert_dogs(
        "[map(range(0, length(parameters('dogs'))), lambda('i', createObject('i', lambdaVariables('i'), 'dog', parameters('dogs')[lambdaVariables('i')].name)))]",
        json!([
            {"i": 0, "dog": "Evie"},
            {"i": 1, "dog": "Casper"},
            {"i": 2, "dog": "Indy"},
            {"i": 3, "dog": "Kira"}
        ]),
    );
}

#[test]
fn map_passes_the_index_when_asked() {
    assert_eval(
        "[map(createArray('a', 'b'), lambda('x', 'i', createArray(lambdaVariables('i'), lambdaVariables('x'))))]",
        json!([[0, "a"], [1, "b"]]),
    );
}

#[test]
fn nested_lambdas_see_outer_lambda_variables() {
    assert_eval(
        "[map(range(1, 2), lambda('i', map(range(0, 2), lambda('j', mul(lambdaVariables('i'), lambdaVariables('j'))))))]",
        json!([[0, 1], [0, 2]]),
    );
}

#[test]
fn a_lambda_is_not_a_value() {
    fails("[coalesce(null(), lambda('x', 1))]");
    fails("[reduce(createArray(), lambda('x', 1), lambda('a', 'b', 1))]");
    fails("[map(createArray(1), lambda('x', lambda('y', 1)))]");
    fails("[createArray(lambda('x', 1))]");
    fails("[length(lambda('x', 1))]");
}

#[test]
fn lambda_with_the_wrong_parameter_count_is_an_error() {
    let e = fails("[map(createArray(1), lambda('a', 'b', 'c', 1))]");
    assert!(e.contains("parameter"), "{e}");
    fails("[sort(createArray(1, 2), lambda('a', true()))]");
    fails("[map(createArray(1), 1)]");
}

#[test]
fn docs_reduce_aggregates_from_the_initial_value() {
    assert_dogs(
        "[reduce(map(parameters('dogs'), lambda('dog', lambdaVariables('dog').age)), 0, lambda('cur', 'next', add(lambdaVariables('cur'), lambdaVariables('next'))))]",
        json!(18),
    );
    assert_dogs(
        "[reduce(map(parameters('dogs'), lambda('dog', lambdaVariables('dog').age)), 1, lambda('cur', 'next', add(lambdaVariables('cur'), lambdaVariables('next'))))]",
        json!(19),
    );
    assert_eval(
        "[reduce(createArray(createObject('foo', 123), createObject('bar', 456), createObject('baz', 789)), createObject(), lambda('cur', 'next', union(lambdaVariables('cur'), lambdaVariables('next'))))]",
        json!({"foo": 123, "bar": 456, "baz": 789}),
    );
}

#[test]
fn reduce_passes_the_index_when_asked_and_keeps_the_initial_value_when_empty() {
    assert_eval(
        "[reduce(createArray(10, 20, 30), 0, lambda('acc', 'x', 'i', add(lambdaVariables('acc'), mul(lambdaVariables('x'), lambdaVariables('i')))))]",
        json!(80),
    );
    assert_eval(
        "[reduce(createArray(), 7, lambda('cur', 'next', 0))]",
        json!(7),
    );
}

#[test]
fn docs_sort_orders_by_the_lambda() {
    assert_dogs(
        "[map(sort(parameters('dogs'), lambda('a', 'b', less(lambdaVariables('a').age, lambdaVariables('b').age))), lambda('d', lambdaVariables('d').name))]",
        json!(["Indy", "Casper", "Evie", "Kira"]),
    );
    assert_eval(
        "[sort(createArray(8, 3, 10, -13, 5), lambda('x', 'y', less(lambdaVariables('x'), lambdaVariables('y'))))]",
        json!([-13, 3, 5, 8, 10]),
    );
    assert_eval(
        "[sort(createArray('ghi', 'abc', 'def'), lambda('x', 'y', greater(lambdaVariables('x'), lambdaVariables('y'))))]",
        json!(["ghi", "def", "abc"]),
    );
}

#[test]
fn sort_is_stable_for_equal_keys() {
    assert_eval(
        "[sort(createArray(createObject('k', 1, 'n', 'a'), createObject('k', 0, 'n', 'b'), createObject('k', 1, 'n', 'c'), createObject('k', 0, 'n', 'd')), lambda('x', 'y', less(lambdaVariables('x').k, lambdaVariables('y').k)))]",
        json!([{"k": 0, "n": "b"}, {"k": 0, "n": "d"}, {"k": 1, "n": "a"}, {"k": 1, "n": "c"}]),
    );
}

#[test]
fn sort_survives_an_inconsistent_comparator() {
    let always_true = eval("[sort(range(0, 50), lambda('x', 'y', true()))]");
    let mut got: Vec<i64> = always_true
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_int)
        .collect();
    got.sort_unstable();
    assert_eq!(
        got,
        (0..50).collect::<Vec<_>>(),
        "every element is kept exactly once"
    );
    assert_eval(
        "[sort(createArray(3, 1, 2), lambda('x', 'y', false()))]",
        json!([3, 1, 2]),
    );
    assert_eval("[sort(createArray(), lambda('x', 'y', true()))]", json!([]));
}

#[test]
fn sort_lambda_must_return_a_boolean() {
    fails("[sort(createArray(2, 1), lambda('x', 'y', 'yes'))]");
}

#[test]
fn docs_to_object_keys_elements_by_the_lambda() {
    let by_name = json!({
        "Evie": {"name": "Evie", "age": 5, "interests": ["Ball", "Frisbee"]},
        "Casper": {"name": "Casper", "age": 3, "interests": ["Other dogs"]},
        "Indy": {"name": "Indy", "age": 2, "interests": ["Butter"]},
        "Kira": {"name": "Kira", "age": 8, "interests": ["Rubs"]}
    });
    assert_dogs(
        "[toObject(parameters('dogs'), lambda('entry', lambdaVariables('entry').name))]",
        by_name.clone(),
    );
    assert_dogs(
        "[toObject(parameters('dogs'), lambda('entry', lambdaVariables('entry').name), lambda('entry', lambdaVariables('entry')))]",
        by_name,
    );
    assert_dogs(
        "[toObject(parameters('dogs'), lambda('entry', lambdaVariables('entry').name), lambda('entry', lambdaVariables('entry').age))]",
        json!({"Evie": 5, "Casper": 3, "Indy": 2, "Kira": 8}),
    );
}

#[test]
fn to_object_with_duplicate_keys_is_an_error() {
    let e = fails("[toObject(createArray('a', 'b', 'a'), lambda('x', lambdaVariables('x')))]");
    assert!(e.contains("'a'"), "{e}");
}

#[test]
fn to_object_keys_must_be_strings() {
    let e = fails("[toObject(createArray(1), lambda('x', lambdaVariables('x')))]");
    assert!(e.contains("String"), "{e}");
}

#[test]
fn group_by_collects_elements_per_key_in_first_seen_order() {
    let items = "createArray(createObject('type', 'a', 'value', 123), createObject('type', 'b', 'value', 456), createObject('type', 'a', 'value', 789))";
    assert_eval(
        &format!("[groupBy({items}, lambda('arg', lambdaVariables('arg').type))]"),
        json!({
            "a": [{"type": "a", "value": 123}, {"type": "a", "value": 789}],
            "b": [{"type": "b", "value": 456}]
        }),
    );
    assert_eval(
        &format!(
            "[groupBy({items}, lambda('arg', lambdaVariables('arg').type), lambda('arg', lambdaVariables('arg').value))]"
        ),
        json!({"a": [123, 789], "b": [456]}),
    );
}

#[test]
fn map_values_transforms_each_property_value() {
    assert_eval(
        "[mapValues(createObject('a', 123, 'b', 456), lambda('val', mul(lambdaVariables('val'), 2)))]",
        json!({"a": 246, "b": 912}),
    );
}

#[test]
fn map_over_deferred_elements_defers_only_those_elements() {
    let mut s = scope();
    s.parameters.insert(
        "p".into(),
        Value::Array(vec![
            json_value(json!({"name": "a"})),
            deferred("reference('x')"),
        ]),
    );
    let v = eval_in(
        &mut s,
        "[map(parameters('p'), lambda('i', lambdaVariables('i').name))]",
    )
    .unwrap();
    let items = v.as_array().unwrap();
    assert!(items[0].arm_equals(&Value::str("a")));
    assert!(
        items[1].arm_equals(&deferred("reference('x').name")),
        "{:?}",
        items[1]
    );
}

#[test]
fn filter_defers_the_whole_call_when_the_lambda_result_is_deferred() {
    let mut s = scope();
    s.parameters.insert(
        "p".into(),
        Value::Array(vec![Value::Int(1), deferred("reference('x').n")]),
    );
    let v = eval_in(
        &mut s,
        "[filter(parameters('p'), lambda('i', equals(lambdaVariables('i'), 1)))]",
    )
    .unwrap();
    let Value::Deferred(d) = v else {
        panic!("{v:?}")
    };
    assert!(
        d.expr.starts_with("filter(") && d.expr.contains("lambda('i', "),
        "{}",
        d.expr
    );
}

fn json_value(v: serde_json::Value) -> Value {
    Value::from_json(v)
}

// ---------------------------------------------------------------------------------------------
// CIDR functions: the examples of the ARM CIDR reference page, then edge cases.

#[test]
fn docs_parse_cidr_ipv4() {
    assert_eval(
        "[parseCidr('10.144.0.0/20')]",
        json!({
            "network": "10.144.0.0",
            "netmask": "255.255.240.0",
            "broadcast": "10.144.15.255",
            "firstUsable": "10.144.0.1",
            "lastUsable": "10.144.15.254",
            "cidr": 20
        }),
    );
}

#[test]
fn docs_parse_cidr_ipv6_has_no_broadcast() {
    let v = eval("[parseCidr('fdad:3236:5555::/48')]");
    assert_eq!(
        v.to_json_string(),
        r#"{"network":"fdad:3236:5555::","netmask":"ffff:ffff:ffff::","firstUsable":"fdad:3236:5555::","lastUsable":"fdad:3236:5555:ffff:ffff:ffff:ffff:ffff","cidr":48}"#
    );
}

#[test]
fn docs_cidr_subnet_splits_ipv4_and_ipv6_ranges() {
    assert_eval(
        "[map(range(0, 5), lambda('i', cidrSubnet('10.144.0.0/20', 24, lambdaVariables('i'))))]",
        json!([
            "10.144.0.0/24",
            "10.144.1.0/24",
            "10.144.2.0/24",
            "10.144.3.0/24",
            "10.144.4.0/24"
        ]),
    );
    assert_eval(
        "[map(range(0, 5), lambda('i', cidrSubnet('fdad:3236:5555::/48', 52, lambdaVariables('i'))))]",
        json!([
            "fdad:3236:5555::/52",
            "fdad:3236:5555:1000::/52",
            "fdad:3236:5555:2000::/52",
            "fdad:3236:5555:3000::/52",
            "fdad:3236:5555:4000::/52"
        ]),
    );
}

#[test]
fn docs_cidr_host_counts_from_the_first_usable_address() {
    assert_eval(
        "[map(range(0, 5), lambda('i', cidrHost('10.144.3.0/24', lambdaVariables('i'))))]",
        json!([
            "10.144.3.1",
            "10.144.3.2",
            "10.144.3.3",
            "10.144.3.4",
            "10.144.3.5"
        ]),
    );
    assert_eval(
        "[map(range(0, 5), lambda('i', cidrHost('fdad:3236:5555:3000::/52', lambdaVariables('i'))))]",
        json!([
            "fdad:3236:5555:3000::1",
            "fdad:3236:5555:3000::2",
            "fdad:3236:5555:3000::3",
            "fdad:3236:5555:3000::4",
            "fdad:3236:5555:3000::5"
        ]),
    );
}

#[test]
fn parse_cidr_clears_host_bits() {
    assert_eval("[parseCidr('10.144.3.7/20').network]", json!("10.144.0.0"));
    assert_eval(
        "[cidrSubnet('10.144.3.7/20', 20, 0)]",
        json!("10.144.0.0/20"),
    );
}

#[test]
fn parse_cidr_of_the_smallest_ipv4_ranges() {
    assert_eval(
        "[parseCidr('10.0.0.5/32')]",
        json!({
            "network": "10.0.0.5", "netmask": "255.255.255.255", "broadcast": "10.0.0.5",
            "firstUsable": "10.0.0.5", "lastUsable": "10.0.0.5", "cidr": 32
        }),
    );
    assert_eval("[parseCidr('10.0.0.5/31').broadcast]", json!("10.0.0.5"));
    assert_eval(
        "[parseCidr('0.0.0.0/0').lastUsable]",
        json!("255.255.255.254"),
    );
    assert_eval(
        "[parseCidr('::/0').lastUsable]",
        json!("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
    );
}

#[test]
fn cidr_subnet_index_and_size_are_checked() {
    assert_eval(
        "[cidrSubnet('10.0.0.0/8', 16, 255)]",
        json!("10.255.0.0/16"),
    );
    fails("[cidrSubnet('10.0.0.0/8', 16, 256)]");
    fails("[cidrSubnet('10.0.0.0/8', 16, -1)]");
    fails("[cidrSubnet('10.0.0.0/16', 8, 0)]");
    fails("[cidrSubnet('10.0.0.0/16', 33, 0)]");
    assert_eval(
        "[cidrSubnet('::/0', 128, 9223372036854775807)]",
        json!("::7fff:ffff:ffff:ffff/128"),
    );
}

#[test]
fn cidr_host_stays_inside_the_usable_range() {
    assert_eval("[cidrHost('192.168.1.0/24', 253)]", json!("192.168.1.254"));
    fails("[cidrHost('192.168.1.0/24', 254)]");
    fails("[cidrHost('192.168.1.0/24', -1)]");
    fails("[cidrHost('192.168.1.1/32', 0)]");
    assert_eval("[cidrHost('2001:db8::/127', 0)]", json!("2001:db8::1"));
    fails("[cidrHost('2001:db8::/127', 1)]");
}

#[test]
fn malformed_cidr_strings_are_errors() {
    for bad in [
        "10.0.0.0",
        "10.0.0.0/33",
        "10.0.0/8",
        "10.0.0.0/-1",
        "::/129",
        "x/1",
        "10.0.0.0/8/8",
        "",
    ] {
        let e = fails(&format!("[parseCidr('{bad}')]"));
        assert!(e.contains("CIDR"), "{bad}: {e}");
    }
}
