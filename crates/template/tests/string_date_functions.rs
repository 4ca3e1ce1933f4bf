//! String and date functions against what Azure returns: the Microsoft docs samples
//! (`docs-function-expected-outputs.json`), values ARM's engine produced in Azure/bicep
//! baselines and tests, and ARM's error wording.
//!
//! Until the template planner lands, docs templates are run here directly: parameter defaults
//! and variables are evaluated in declaration order, then the outputs.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should stop loudly.

use landfall_template::eval::{EvalError, Evaluator, SimpleScope};
use landfall_template::functions::date::parse_date;
use landfall_template::value::Object;
use landfall_template::{DeploymentContext, NoResolver, Value, hash, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/azure/"
);

/// The docs' utcNow sample was run at this instant (its outputs are 20190305T175318Z...).
fn context() -> DeploymentContext {
    DeploymentContext {
        now: OffsetDateTime::parse("2019-03-05T17:53:18Z", &Rfc3339).unwrap(),
        ..DeploymentContext::default()
    }
}

fn eval_in(
    ctx: DeploymentContext,
    params: &[(&str, Value)],
    expr: &str,
) -> Result<Value, EvalError> {
    let mut scope = SimpleScope::new(ctx, &NoResolver);
    for (k, v) in params {
        scope.parameters.insert((*k).to_owned(), v.clone());
    }
    Evaluator::new(&mut scope).eval_str(expr)
}

fn eval(expr: &str) -> Value {
    eval_in(context(), &[], expr).unwrap_or_else(|e| panic!("{expr}: {}", e.message))
}

fn eval_p(params: &[(&str, Value)], expr: &str) -> Value {
    eval_in(context(), params, expr).unwrap_or_else(|e| panic!("{expr}: {}", e.message))
}

fn eval_err(expr: &str) -> String {
    match eval_in(context(), &[], expr) {
        Ok(v) => panic!("{expr} should fail but gave {v}"),
        Err(e) => e.message,
    }
}

fn s(v: &str) -> Value {
    Value::str(v)
}

fn strs(items: &[&str]) -> Value {
    Value::Array(items.iter().map(|i| s(i)).collect())
}

fn is_guid_v4(v: &Value) -> bool {
    let Some(g) = v.as_str() else { return false };
    let b: Vec<char> = g.chars().collect();
    b.len() == 36
        && g.chars().enumerate().all(|(i, c)| {
            if [8, 13, 18, 23].contains(&i) {
                c == '-'
            } else {
                c.is_ascii_hexdigit() && !c.is_ascii_uppercase()
            }
        })
        && b[14] == '4'
        && matches!(b[19], '8' | '9' | 'a' | 'b')
}

// ---------------------------------------------------------------------------------------------
// Docs samples

fn docs_entry(template: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(format!(
        "{FIXTURES}expressions/docs-function-expected-outputs.json"
    ))
    .unwrap();
    let all: serde_json::Value = serde_json::from_str(&text).unwrap();
    all["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| {
            e["template"]
                .as_str()
                .is_some_and(|t| t.ends_with(template))
        })
        .unwrap_or_else(|| panic!("no docs entry for {template}"))
        .clone()
}

/// Runs a docs template: parameters (overrides, else evaluated defaults), variables, outputs.
fn run_template(template: &str, overrides: &serde_json::Value) -> Object {
    let path = format!(
        "{FIXTURES}templates/docs-json-samples/azure-resource-manager/functions/{template}"
    );
    let t = json::parse_value(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut scope = SimpleScope::new(context(), &NoResolver);
    if let Some(params) = t.get("parameters").and_then(Value::as_object) {
        for (name, decl) in params {
            let value = match overrides.get(name) {
                Some(v) => Value::from_json(v.clone()),
                None => {
                    let default = decl.get("defaultValue").cloned().unwrap_or(Value::Null);
                    Evaluator::new(&mut scope).eval_value(&default).unwrap()
                }
            };
            scope.parameters.insert(name.clone(), value);
        }
    }
    if let Some(vars) = t.get("variables").and_then(Value::as_object) {
        for (name, v) in vars {
            let value = Evaluator::new(&mut scope).eval_value(v).unwrap();
            scope.variables.insert(name.clone(), value);
        }
    }
    let mut out = Object::new();
    for (name, o) in t.get("outputs").and_then(Value::as_object).unwrap() {
        let value = Evaluator::new(&mut scope)
            .eval_value(o.get("value").unwrap())
            .unwrap();
        out.insert(name.clone(), value);
    }
    out
}

/// Every expected output of a deterministic docs entry, compared exactly.
fn check_docs_sample(template: &str) {
    let entry = docs_entry(template);
    assert_eq!(entry["deterministic"], true, "{template}");
    let outputs = run_template(template, &entry["parameters"]);
    let expected = entry["expected_outputs"].as_object().unwrap();
    assert!(!expected.is_empty());
    for (name, want) in expected {
        let got = outputs
            .get(name)
            .unwrap_or_else(|| panic!("{template}: no output {name}"));
        assert_eq!(
            *got,
            Value::from_json(want.clone()),
            "{template}: output {name}"
        );
    }
}

#[test]
fn docs_base64_sample_round_trips_text_and_single_quoted_json() {
    check_docs_sample("string/base64.json");
}

#[test]
fn docs_data_uri_sample_encodes_and_decodes() {
    check_docs_sample("string/datauri.json");
}

#[test]
fn docs_starts_with_ends_with_sample_ignores_case() {
    check_docs_sample("string/startsendswith.json");
}

#[test]
fn docs_format_sample_groups_thousands_with_n0() {
    check_docs_sample("string/format.json");
}

#[test]
fn docs_pad_left_sample_pads_with_zeros() {
    check_docs_sample("string/padleft.json");
}

#[test]
fn docs_replace_sample_replaces_every_occurrence() {
    check_docs_sample("string/replace.json");
}

#[test]
fn docs_split_sample_accepts_string_and_array_delimiters() {
    check_docs_sample("string/split.json");
}

#[test]
fn docs_string_sample_minifies_objects_and_arrays() {
    check_docs_sample("string/string.json");
}

#[test]
fn docs_substring_sample_takes_index_and_length() {
    check_docs_sample("string/substring.json");
}

#[test]
fn docs_to_lower_to_upper_sample_changes_case() {
    check_docs_sample("string/tolower.json");
}

#[test]
fn docs_trim_sample_strips_surrounding_blanks() {
    check_docs_sample("string/trim.json");
}

#[test]
fn docs_uri_sample_combines_and_escapes() {
    check_docs_sample("string/uri.json");
}

#[test]
fn docs_new_guid_sample_returns_a_random_v4_guid() {
    let entry = docs_entry("string/newguid.json");
    assert_eq!(entry["deterministic"], false);
    assert!(is_guid_v4(&Value::from_json(
        entry["expected_outputs"]["guidOutput"].clone()
    )));
    let a = run_template("string/newguid.json", &serde_json::Value::Null);
    let b = run_template("string/newguid.json", &serde_json::Value::Null);
    assert!(is_guid_v4(&a["guidOutput"]), "{}", a["guidOutput"]);
    assert_ne!(a["guidOutput"], b["guidOutput"]);
}

#[test]
fn docs_unique_string_sample_hashes_resource_group_and_deployment() {
    let out = run_template("string/uniquestring.json", &serde_json::Value::Null);
    let ctx = context();
    let rg = ctx.resource_group_id();
    assert_eq!(out["uniqueRG"], s(&hash::unique_string(&[&rg])));
    assert_eq!(
        out["uniqueDeploy"],
        s(&hash::unique_string(&[&rg, &ctx.deployment_name]))
    );
    // The docs' own output for its (unknown) resource group has the same shape.
    let docs = docs_entry("string/concat-string.json");
    let suffix = docs["expected_outputs"]["concatOutput"]
        .as_str()
        .unwrap()
        .strip_prefix("prefix-")
        .unwrap();
    for v in [suffix, out["uniqueRG"].as_str().unwrap()] {
        assert_eq!(v.len(), 13);
        assert!(
            v.chars()
                .all(|c| c.is_ascii_lowercase() || ('2'..='7').contains(&c)),
            "{v}"
        );
    }
}

#[test]
fn docs_guid_sample_is_deterministic_per_scope() {
    let out = run_template("string/guid.json", &serde_json::Value::Null);
    let ctx = context();
    let rg = ctx.resource_group_id();
    assert_eq!(
        out["guidPerSubscription"],
        s(&hash::guid(&[&ctx.subscription_id]))
    );
    assert_eq!(out["guidPerResourceGroup"], s(&hash::guid(&[&rg])));
    assert_eq!(
        out["guidPerDeployment"],
        s(&hash::guid(&[&rg, &ctx.deployment_name]))
    );
}

#[test]
fn docs_utc_now_sample_formats_the_deployment_time() {
    // The docs ran at 2019-03-05T17:53:18Z, which `context()` reproduces, so the sample's
    // outputs must match exactly.
    check_docs_sample_nondeterministic("date/utcnow.json");
}

fn check_docs_sample_nondeterministic(template: &str) {
    let entry = docs_entry(template);
    let outputs = run_template(template, &entry["parameters"]);
    for (name, want) in entry["expected_outputs"].as_object().unwrap() {
        assert_eq!(
            outputs[name],
            Value::from_json(want.clone()),
            "{template}: {name}"
        );
    }
}

#[test]
fn docs_date_time_add_sample_keeps_the_base_format() {
    let entry = docs_entry("date/datetimeadd.json");
    let outputs = run_template("date/datetimeadd.json", &entry["parameters"]);
    // The docs table shows PowerShell's rendering of each value; compare instants...
    for (name, shown) in entry["expected_outputs"].as_object().unwrap() {
        let got = parse_date(outputs[name].as_str().unwrap()).unwrap().value;
        let want = parse_date(shown.as_str().unwrap()).unwrap().value;
        assert_eq!(got, want, "{name}");
    }
    // ...and the raw strings, which keep the base value's layout.
    assert_eq!(outputs["add3YearsOutput"], s("2023-04-07 14:53:14Z"));
    assert_eq!(outputs["subtract9DaysOutput"], s("2020-03-29 14:53:14Z"));
    assert_eq!(outputs["add1HourOutput"], s("2020-04-07 15:53:14Z"));
}

// ---------------------------------------------------------------------------------------------
// Values from ARM's engine (Azure/bicep baselines and EvaluationTests)

/// Azure/bicep src/Bicep.Core.Samples/Files/baselines_bicepparam/Expressions: the `.bicepparam`
/// function calls are evaluated at compile time by the ARM expression engine; `parameters.json`
/// @01c6395ce95ad39840536cfb73056abcf66b16a6 holds the results. Calls to functions outside this
/// file's scope (createArray, items...) are left out.
#[test]
fn bicepparam_baseline_values_match_arm_engine() {
    let cases: &[(&str, Value)] = &[
        ("[base64ToString(base64('abc'))]", s("abc")),
        (
            "[base64ToJson(base64('{\"hi\": \"there\"}')).hi]",
            s("there"),
        ),
        ("[dataUriToString(dataUri('abc'))]", s("abc")),
        (
            "[dateTimeAdd(dateTimeFromEpoch(1680224438), 'P1D')]",
            s("2023-04-01T01:00:38Z"),
        ),
        (
            "[dateTimeToEpoch(dateTimeFromEpoch(1680224438))]",
            Value::Int(1680224438),
        ),
        ("[endsWith('foo', 'o')]", Value::Bool(true)),
        ("[format('->{0}<-', 123)]", s("->123<-")),
        ("[guid('asdf')]", s("228d27cc-6fdb-5934-b7ac-1efccebade04")),
        ("[padLeft(13, 5)]", s("   13")),
        ("[replace('abc', 'b', '/')]", s("a/c")),
        ("[split('a/b/c', '/')]", strs(&["a", "b", "c"])),
        ("[startsWith('abc', 'a')]", Value::Bool(true)),
        ("[string('asdf')]", s("asdf")),
        ("[substring('asdfasf', 3)]", s("fasf")),
        ("[toLower('AiKInIniIN')]", s("aikininiin")),
        ("[toUpper('AiKInIniIN')]", s("AIKININIIN")),
        ("[trim('  adf asdf  ')]", s("adf asdf")),
        ("[uniqueString('asd', 'asdf', 'asdf')]", s("iizpqit7ih3cc")),
        (
            "[uri('https://github.com', 'Azure/bicep')]",
            s("https://github.com/Azure/bicep"),
        ),
        (
            "[uriComponent('UB*8h 0+=_)9h9n')]",
            s("UB%2A8h%200%2B%3D_%299h9n"),
        ),
        ("[uriComponentToString('%20%25%20')]", s(" % ")),
    ];
    for (expr, want) in cases {
        assert_eq!(eval(expr), *want, "{expr}");
    }
    let arr = strs(&["abc", "def", "ghi"]);
    assert_eq!(
        eval_p(&[("a", arr)], "[join(parameters('a'), '/')]"),
        s("abc/def/ghi")
    );
}

/// Azure/bicep EvaluationTests.String_expressions_are_evaluated_successfully, as transcribed in
/// `engine-evaluated-vectors.json`: string interpolation compiles to `format()`.
#[test]
fn format_renders_false_as_capitalised_and_objects_with_single_quotes() {
    let mut o = Object::new();
    o.insert("a".into(), s("b"));
    o.insert("!c".into(), Value::Int(2));
    let params = [
        ("obj", Value::Object(o)),
        (
            "arr",
            Value::Array(vec![Value::Bool(true), Value::Int(2893), s("abc")]),
        ),
    ];
    assert_eq!(
        eval_p(
            &params,
            "[format('>{0}<>{1}<>{2}<>{3}<>{4}<', false(), 12948, 'hello!', parameters('obj'), parameters('arr'))]"
        ),
        s(">False<>12948<>hello!<>{'a':'b','!c':2}<>[true,2893,'abc']<")
    );
}

#[test]
fn join_matches_bicep_evaluation_tests() {
    for (items, sep, want) in [
        (["abc", "def", "ghi"], "", "abcdefghi"),
        (["abc", "def", "ghi"], ",", "abc,def,ghi"),
        (["I", "love", "Bicep"], " ", "I love Bicep"),
    ] {
        let expr = format!("[join(parameters('a'), '{sep}')]");
        assert_eq!(eval_p(&[("a", strs(&items))], &expr), s(want));
    }
}

// ---------------------------------------------------------------------------------------------
// Behaviour

#[test]
fn string_renders_booleans_capitalised_and_objects_as_compact_json() {
    assert_eq!(eval("[string(true())]"), s("True"));
    assert_eq!(eval("[string(false())]"), s("False"));
    assert_eq!(eval("[string(42)]"), s("42"));
    assert_eq!(eval("[string(null())]"), s(""));
    let mut o = Object::new();
    o.insert("a".into(), Value::Float(2.0));
    o.insert("b".into(), s("it's \"q\""));
    o.insert(
        "c".into(),
        Value::Array(vec![Value::Null, Value::Bool(false)]),
    );
    assert_eq!(
        eval_p(&[("o", Value::Object(o))], "[string(parameters('o'))]"),
        s(r#"{"a":2.0,"b":"it's \"q\"","c":[null,false]}"#)
    );
    assert_eq!(
        eval_p(&[("f", Value::Float(1.5))], "[string(parameters('f'))]"),
        s("1.5")
    );
    assert_eq!(
        eval_p(&[("f", Value::Float(2.0))], "[string(parameters('f'))]"),
        s("2")
    );
}

#[test]
fn format_applies_dotnet_numeric_formats_and_alignment() {
    assert_eq!(
        eval("[format('{0:N2}|{0:D8}|{0:X}|{0,8}|{0,-8}|', 8175133)]"),
        s("8,175,133.00|08175133|7CBE1D| 8175133|8175133 |")
    );
    assert_eq!(
        eval("[format('{0:0.00}% {1:P1}', 12, 0)]"),
        s("12.00% 0.0 %")
    );
    assert_eq!(eval("[format('{{{0}}}', 'x')]"), s("{x}"));
    assert_eq!(eval("[format('no args')]"), s("no args"));
    assert_eq!(eval("[format('{0}', null())]"), s(""));
}

#[test]
fn format_reports_dotnet_errors() {
    assert!(
        eval_err("[format('{1}', 'a')]")
            .contains("Index (zero based) must be greater than or equal to zero")
    );
    assert!(eval_err("[format('{0', 'a')]").contains("Input string was not in a correct format."));
    assert!(eval_err("[format('{0:Q}', 1)]").contains("Format specifier was invalid."));
    assert!(eval_err("[format(1)]").contains("expects its first parameter to be of type 'String'"));
}

#[test]
fn starts_with_and_ends_with_ignore_case() {
    assert_eq!(eval("[startsWith('abcdef', 'ABC')]"), Value::Bool(true));
    assert_eq!(eval("[endsWith('abcdef', 'DEF')]"), Value::Bool(true));
    assert_eq!(eval("[startsWith('abc', '')]"), Value::Bool(true));
    assert_eq!(eval("[endsWith('ab', 'abc')]"), Value::Bool(false));
}

#[test]
fn substring_errors_use_arm_wording() {
    assert_eq!(
        eval_err("[substring('abc', 0, 24)]"),
        "Unable to evaluate the template language function 'substring'. The index and length parameters must refer to a location within the string. The index parameter: '0', the length parameter: '24', the length of the string parameter: '3'. Please see https://aka.ms/arm-function-substring for usage details."
    );
    assert_eq!(
        eval_err("[substring('abc', 1, -16)]"),
        "Unable to evaluate the template language function 'substring'. The length parameter cannot be less than zero. The length parameter: '-16'. Please see https://aka.ms/arm-function-substring for usage details."
    );
    assert!(
        eval_err("[substring('abc', -1)]")
            .contains("The index parameter cannot be less than zero.")
    );
    assert!(eval_err("[substring('abc', 4)]").contains("cannot be greater than the length"));
    assert!(
        eval_err("[substring('abc', 9223372036854775807, 9223372036854775807)]")
            .contains("must refer to a location")
    );
    assert_eq!(eval("[substring('abc', 3)]"), s(""));
}

#[test]
fn substring_and_pad_left_count_utf16_units() {
    assert_eq!(eval("[substring('a😀b', 1, 2)]"), s("😀"));
    assert_eq!(eval("[substring('a😀b', 3)]"), s("b"));
    // Half a surrogate pair cannot be represented; it becomes U+FFFD.
    assert_eq!(eval("[substring('a😀b', 1, 1)]"), s("\u{fffd}"));
    assert_eq!(eval("[padLeft('😀', 3, '-')]"), s("-😀"));
}

#[test]
fn pad_left_validates_its_arguments() {
    assert_eq!(eval("[padLeft('abc', 2)]"), s("abc"));
    assert_eq!(eval("[padLeft('abc', 5, 'x')]"), s("xxabc"));
    assert!(
        eval_err("[padLeft('abc', 5, 'xy')]")
            .contains("expects its third parameter to be a single character")
    );
    assert!(eval_err("[padLeft('abc', 5, '')]").contains("single character"));
    assert!(eval_err("[padLeft('abc', -1)]").contains("must not be negative"));
    assert!(eval_err("[padLeft('abc', 9223372036854775807)]").contains("exceeds the maximum"));
    assert!(eval_err("[padLeft(true(), 3)]").contains("'String or Integer'"));
}

#[test]
fn replace_is_case_sensitive_and_rejects_empty_search() {
    assert_eq!(eval("[replace('aAa', 'a', 'b')]"), s("bAb"));
    assert!(eval_err("[replace('abc', '', 'x')]").contains("must not be empty"));
}

#[test]
fn split_handles_edge_cases_like_dotnet() {
    assert_eq!(eval("[split('a,,b,', ',')]"), strs(&["a", "", "b", ""]));
    assert_eq!(eval("[split('abc', '')]"), strs(&["abc"]));
    assert_eq!(
        eval_p(
            &[("d", strs(&["--", "-"]))],
            "[split('a--b-c', parameters('d'))]"
        ),
        strs(&["a", "b", "c"])
    );
    assert!(eval_err("[split('abc', 1)]").contains("'String or Array'"));
    let err = eval_in(
        context(),
        &[("d", Value::Array(vec![Value::Int(1)]))],
        "[split('abc', parameters('d'))]",
    )
    .unwrap_err();
    assert!(err.message.contains("array of strings"), "{}", err.message);
}

#[test]
fn base64_functions_report_invalid_input() {
    assert_eq!(eval("[base64('')]"), s(""));
    assert_eq!(eval("[base64ToString('aGk=')]"), s("hi"));
    assert_eq!(eval("[base64ToString(' aG k= ')]"), s("hi"));
    assert!(eval_err("[base64ToString('aGk')]").contains("is not a valid Base-64 string"));
    assert!(eval_err("[base64ToString('a$Gk')]").contains("is not a valid Base-64 string"));
    assert!(eval_err("[base64ToJson(base64('{oops'))]").contains("not valid JSON"));
    assert_eq!(
        eval("[base64ToJson(base64('[1, 2]'))]"),
        Value::Array(vec![Value::Int(1), Value::Int(2)])
    );
}

#[test]
fn data_uri_to_string_accepts_percent_encoded_data() {
    assert_eq!(eval("[dataUriToString('data:text/plain,a%20b')]"), s("a b"));
    assert_eq!(eval("[dataUriToString('DATA:;BASE64,aGk=')]"), s("hi"));
    assert!(eval_err("[dataUriToString('nope')]").contains("not a valid data URI"));
    assert!(eval_err("[dataUriToString('data:no-comma')]").contains("not a valid data URI"));
}

#[test]
fn uri_requires_an_absolute_base() {
    assert!(eval_err("[uri('contoso.com/a', 'b')]").contains("is not an absolute URI"));
    assert_eq!(
        eval("[uri('http://contoso.org/firstpath/', 'myscript.sh')]"),
        s("http://contoso.org/firstpath/myscript.sh")
    );
}

#[test]
fn to_upper_and_to_lower_use_invariant_simple_casing() {
    assert_eq!(eval("[toUpper('straße')]"), s("STRAßE"));
    assert_eq!(eval("[toLower('ΣΑΣ')]"), s("σασ"));
}

#[test]
fn trim_removes_unicode_white_space_only_at_the_ends() {
    assert_eq!(
        eval_p(
            &[("t", s("\u{3000}\t a b \n\u{a0}"))],
            "[trim(parameters('t'))]"
        ),
        s("a b")
    );
}

#[test]
fn guid_and_unique_string_require_string_arguments() {
    assert!(
        eval_err("[guid('a', 1)]").contains("expects its second parameter to be of type 'String'")
    );
    assert!(
        eval_err("[uniqueString(1)]")
            .contains("expects its first parameter to be of type 'String'")
    );
    assert_eq!(eval("[uniqueString('tyeth')]"), s("zcztcwvu6iyg6"));
}

#[test]
fn new_guid_is_reproducible_with_a_seed() {
    let seeded = || DeploymentContext {
        guid_seed: Some(7),
        ..context()
    };
    let pair = |ctx: DeploymentContext| {
        let mut scope = SimpleScope::new(ctx, &NoResolver);
        let mut ev = Evaluator::new(&mut scope);
        (
            ev.eval_str("[newGuid()]").unwrap(),
            ev.eval_str("[newGuid()]").unwrap(),
        )
    };
    let (x1, x2) = pair(seeded());
    let (y1, y2) = pair(seeded());
    assert_eq!((x1.clone(), x2.clone()), (y1, y2));
    assert_ne!(x1, x2);
    assert!(is_guid_v4(&x1) && is_guid_v4(&x2));
    let (z1, _) = pair(DeploymentContext {
        guid_seed: Some(8),
        ..context()
    });
    assert_ne!(x1, z1);
}

#[test]
fn deferred_arguments_defer_the_call() {
    let v = eval("[toUpper(reference('x').name)]");
    assert!(matches!(v, Value::Deferred(_)), "{v:?}");
}

// ---------------------------------------------------------------------------------------------
// Dates

#[test]
fn utc_now_defaults_to_compact_iso_format() {
    assert_eq!(eval("[utcNow()]"), s("20190305T175318Z"));
    assert_eq!(eval("[utcNow('u')]"), s("2019-03-05 17:53:18Z"));
    assert_eq!(eval("[utcNow('o')]"), s("2019-03-05T17:53:18.0000000Z"));
    assert_eq!(eval("[utcNow('yyyy-MM-dd')]"), s("2019-03-05"));
    assert!(eval_err("[utcNow('q')]").contains("Input string was not in a correct format."));
}

#[test]
fn date_time_add_with_format_renders_utc() {
    assert_eq!(
        eval("[dateTimeAdd('2020-04-07T14:53:14Z', 'PT1H', 'o')]"),
        s("2020-04-07T15:53:14.0000000Z")
    );
    assert_eq!(
        eval("[dateTimeAdd('2020-04-07T14:53:14+02:00', 'PT0S', 'u')]"),
        s("2020-04-07 12:53:14Z")
    );
    assert_eq!(
        eval("[dateTimeAdd('20190305T175318Z', 'P1M')]"),
        s("20190405T175318Z")
    );
    assert_eq!(
        eval("[dateTimeAdd('2020-04-07T14:53:14.250Z', 'PT0.5S')]"),
        s("2020-04-07T14:53:14.750Z")
    );
    assert_eq!(
        eval("[dateTimeAdd('2020-04-07T14:53:14+02:00', 'P1D')]"),
        s("2020-04-08T14:53:14+02:00")
    );
    assert_eq!(eval("[dateTimeAdd('2020-01-31', 'P1M')]"), s("2020-02-29"));
    assert_eq!(
        eval("[dateTimeAdd(utcNow(), '-PT1M')]"),
        s("20190305T175218Z")
    );
}

#[test]
fn date_time_add_reports_bad_input() {
    assert!(
        eval_err("[dateTimeAdd('yesterday', 'P1D')]")
            .contains("String 'yesterday' was not recognized as a valid DateTime.")
    );
    assert!(
        eval_err("[dateTimeAdd('2020-01-01', '1D')]").contains("is not a valid ISO 8601 duration")
    );
    assert!(eval_err("[dateTimeAdd('9999-12-31', 'P1D')]").contains("un-representable DateTime"));
    assert!(
        eval_err("[dateTimeAdd('2020-01-01', 'P1D', '%')]")
            .contains("Input string was not in a correct format.")
    );
}

#[test]
fn epoch_conversions_round_trip() {
    assert_eq!(eval("[dateTimeFromEpoch(0)]"), s("1970-01-01T00:00:00Z"));
    assert_eq!(
        eval("[dateTimeFromEpoch(-62135596800)]"),
        s("0001-01-01T00:00:00Z")
    );
    assert_eq!(
        eval("[dateTimeToEpoch('2023-03-31T01:00:38Z')]"),
        Value::Int(1680224438)
    );
    assert_eq!(
        eval("[dateTimeToEpoch('1970-01-01T01:00:00+01:00')]"),
        Value::Int(0)
    );
    assert_eq!(
        eval("[dateTimeToEpoch('1969-12-31T23:59:59.5Z')]"),
        Value::Int(-1)
    );
    assert!(eval_err("[dateTimeFromEpoch(253402300800)]").contains("outside the range of dates"));
    assert!(
        eval_err("[dateTimeFromEpoch(-9223372036854775808)]")
            .contains("outside the range of dates")
    );
    assert!(
        eval_err("[dateTimeToEpoch('not a date')]")
            .contains("was not recognized as a valid DateTime")
    );
}

// ---------------------------------------------------------------------------------------------
// Robustness: these functions see hostile input (the fuzzers call them too).

mod never_panic {
    use super::*;
    use proptest::prelude::*;

    const CALLS: &[&str] = &[
        "[format(parameters('s'), parameters('i'), parameters('f'), parameters('s'))]",
        "[format('{0:' , parameters('s'), '}')]",
        "[utcNow(parameters('s'))]",
        "[dateTimeAdd(parameters('s'), parameters('t'))]",
        "[dateTimeAdd('2020-01-01T00:00:00Z', parameters('s'), parameters('t'))]",
        "[dateTimeToEpoch(parameters('s'))]",
        "[dateTimeFromEpoch(parameters('i'))]",
        "[padLeft(parameters('s'), parameters('i'), parameters('t'))]",
        "[substring(parameters('s'), parameters('i'), parameters('i'))]",
        "[substring(parameters('s'), parameters('i'))]",
        "[split(parameters('s'), parameters('t'))]",
        "[replace(parameters('s'), parameters('t'), parameters('s'))]",
        "[uri(parameters('s'), parameters('t'))]",
        "[uriComponentToString(parameters('s'))]",
        "[dataUriToString(parameters('s'))]",
        "[base64ToJson(parameters('s'))]",
        "[base64ToString(parameters('s'))]",
        "[toUpper(parameters('s'))]",
        "[startsWith(parameters('s'), parameters('t'))]",
    ];

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            "[-+:/. 0-9a-zA-Z%#,;'\"\\\\{}EeTZPYMWDHS]{0,24}",
            ".{0,12}",
            Just("{0:#,##0.00;(0);'zero'}".to_owned()),
            Just("P1Y2M3DT4H5M6.7S".to_owned()),
            Just("2020-02-29T23:59:59.9999999+14:00".to_owned()),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn string_and_date_functions_never_panic(
            s in text(),
            t in text(),
            i in prop_oneof![-5i64..40, any::<i64>()],
            f in any::<f64>(),
            call in 0..CALLS.len(),
        ) {
            let params = [("s", Value::String(s.clone())), ("t", Value::String(t)), ("i", Value::Int(i)), ("f", Value::Float(f))];
            let _ = eval_in(context(), &params, CALLS[call]);
            let _ = landfall_template::netfmt::format_int(i, &s);
            let _ = landfall_template::netfmt::format_float(f, &s);
            let _ = landfall_template::netfmt::composite_format(&s, &params.map(|(_, v)| v));
        }
    }
}
