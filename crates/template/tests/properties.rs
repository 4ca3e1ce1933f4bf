//! Property tests for the expression parser, the lenient JSON reader and integer arithmetic.
//!
//! The case count is kept small enough that the whole file runs in well under a second in a
//! debug build; `PROPTEST_CASES=100000 cargo test -p landfall-template --test properties` runs
//! more.

use landfall_template::eval::{Evaluator, SimpleScope};
use landfall_template::expr::{self, Expr, ExprKind, Span, TemplateString};
use landfall_template::{DeploymentContext, NoResolver, Value, json};
use proptest::prelude::*;

/// 1000 cases per property unless `PROPTEST_CASES` says otherwise.
fn config() -> ProptestConfig {
    let from_env = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_some() {
        from_env
    } else {
        ProptestConfig {
            cases: 1000,
            ..from_env
        }
    }
}

// ------------------------------------------------------------------------------------------
// Expression trees
// ------------------------------------------------------------------------------------------

/// The tree without source positions, so trees parsed from different texts compare equal.
fn without_spans(e: &Expr) -> Expr {
    let kind = match &e.kind {
        ExprKind::Call {
            namespace,
            name,
            args,
        } => ExprKind::Call {
            namespace: namespace.clone(),
            name: name.clone(),
            args: args.iter().map(without_spans).collect(),
        },
        ExprKind::Property { base, name } => ExprKind::Property {
            base: Box::new(without_spans(base)),
            name: name.clone(),
        },
        ExprKind::Index { base, index } => ExprKind::Index {
            base: Box::new(without_spans(base)),
            index: Box::new(without_spans(index)),
        },
        other => other.clone(),
    };
    Expr {
        kind,
        span: Span::default(),
    }
}

fn node(kind: ExprKind) -> Expr {
    Expr {
        kind,
        span: Span::default(),
    }
}

/// Identifiers as the parser reads them after a `.` or before `(`. They start with a letter or
/// `_`: a property name starting with a digit after an integer (`5.1`) reads as a float.
fn ident() -> impl Strategy<Value = String> {
    "[a-zA-Z_][a-zA-Z0-9_$]{0,8}"
}

fn int_literal() -> impl Strategy<Value = i64> {
    prop_oneof![
        4 => -1000i64..1000,
        1 => any::<i64>(),
        1 => Just(i64::MIN),
        1 => Just(i64::MAX),
    ]
}

fn string_literal() -> impl Strategy<Value = String> {
    prop_oneof![
        // Quotes, brackets and blanks are what the escaping rules are about.
        3 => "[a-z'\\[\\]() ,.]{0,12}",
        1 => any::<String>(),
    ]
}

fn expr_tree() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![
        string_literal().prop_map(|s| node(ExprKind::Str(s))),
        int_literal().prop_map(|i| node(ExprKind::Int(i))),
        any::<bool>().prop_map(|b| node(ExprKind::Bool(b))),
        Just(node(ExprKind::Null)),
        (proptest::option::of(ident()), ident()).prop_map(|(namespace, name)| node(
            ExprKind::Call {
                namespace,
                name,
                args: Vec::new()
            }
        )),
    ];
    leaf.prop_recursive(4, 48, 4, |inner| {
        prop_oneof![
            (
                proptest::option::of(ident()),
                ident(),
                prop::collection::vec(inner.clone(), 0..4)
            )
                .prop_map(|(namespace, name, args)| node(ExprKind::Call {
                    namespace,
                    name,
                    args
                })),
            (inner.clone(), ident()).prop_map(|(base, name)| node(ExprKind::Property {
                base: Box::new(base),
                name
            })),
            (inner.clone(), inner).prop_map(|(base, index)| node(ExprKind::Index {
                base: Box::new(base),
                index: Box::new(index)
            })),
        ]
    })
}

/// Text that looks enough like an expression to get deep into the parser.
fn expression_like_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9_$@'\\[\\]().,+\\- \t\n]{0,48}",
        "\\[[a-z0-9'(),.\\[\\] -]{0,40}\\]",
        any::<String>(),
    ]
}

fn parse_bracketed(text: &str) -> Result<Expr, expr::SyntaxError> {
    match expr::parse_template_string(text)? {
        TemplateString::Expression(e) => Ok(e),
        TemplateString::Literal(l) => panic!("{text:?} was read as the literal {l:?}"),
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn printed_expression_parses_back_to_the_same_tree(tree in expr_tree()) {
        let printed = tree.to_string();
        let bare = expr::parse_expression(&printed)
            .map_err(|e| TestCaseError::fail(format!("{printed:?} does not parse: {e}")))?;
        prop_assert_eq!(without_spans(&bare), tree.clone(), "printed as {:?}", printed);

        let bracketed = format!("[{printed}]");
        let in_template = parse_bracketed(&bracketed)
            .map_err(|e| TestCaseError::fail(format!("{bracketed:?} does not parse: {e}")))?;
        prop_assert_eq!(without_spans(&in_template), tree, "printed as {:?}", bracketed);
    }

    #[test]
    fn printed_expression_parses_back_with_blanks_around_brackets(tree in expr_tree()) {
        let text = format!("[ \t{tree} \n]");
        let parsed = parse_bracketed(&text)
            .map_err(|e| TestCaseError::fail(format!("{text:?} does not parse: {e}")))?;
        prop_assert_eq!(without_spans(&parsed), tree);
    }

    #[test]
    fn expression_parser_never_panics_and_error_offsets_are_inside_the_input(
        text in expression_like_text()
    ) {
        for result in [
            expr::parse_template_string(&text).map(|_| ()),
            expr::parse_expression(&text).map(|_| ()),
        ] {
            if let Err(e) = result {
                prop_assert!(
                    e.offset <= text.len(),
                    "offset {} beyond the {} bytes of {:?}: {}", e.offset, text.len(), text, e
                );
                prop_assert!(
                    text.is_char_boundary(e.offset),
                    "offset {} splits a character of {:?}: {}", e.offset, text, e
                );
            }
        }
    }

    #[test]
    fn bracketed_text_that_parses_prints_and_parses_back_the_same(
        text in "\\[[a-z0-9'(),.\\[\\] -]{0,40}\\]"
    ) {
        if let Ok(TemplateString::Expression(first)) = expr::parse_template_string(&text) {
            let printed = format!("[{first}]");
            let second = parse_bracketed(&printed)
                .map_err(|e| TestCaseError::fail(format!("{printed:?} (from {text:?}): {e}")))?;
            prop_assert_eq!(without_spans(&second), without_spans(&first));
        }
    }
}

// ------------------------------------------------------------------------------------------
// Lenient JSON
// ------------------------------------------------------------------------------------------

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(serde_json::Value::from),
        // Above i64::MAX: ARM reads these as floats.
        any::<u64>().prop_map(serde_json::Value::from),
        any::<f64>()
            .prop_filter_map("JSON has no NaN or infinity", serde_json::Number::from_f64)
            .prop_map(serde_json::Value::Number),
        any::<String>().prop_map(serde_json::Value::String),
        "[\"'\\\\/\u{0}-\u{1f}a-z\u{7f}-\u{ff}\u{feff}\u{1f600}]{0,8}"
            .prop_map(serde_json::Value::String),
    ];
    leaf.prop_recursive(4, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            prop::collection::vec(("[a-zA-Z$_ \"'\\\\]{0,6}|\\PC{0,4}", inner), 0..6)
                .prop_map(|entries| serde_json::Value::Object(entries.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn serde_json_output_reads_back_as_the_same_value(
        original in json_value(),
        pretty in any::<bool>()
    ) {
        let text = if pretty {
            serde_json::to_string_pretty(&original)
        } else {
            serde_json::to_string(&original)
        }
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let parsed = json::parse(&text)
            .map_err(|e| TestCaseError::fail(format!("{text:?} does not parse: {e}")))?
            .value;
        let expected = Value::from_json(original);
        prop_assert_eq!(&parsed, &expected, "text {:?}", text);
        // `==` compares keys case-insensitively, as ARM does; the JSON form is exact, key case
        // included.
        prop_assert_eq!(parsed.to_json(), expected.to_json(), "text {:?}", text);
    }

    #[test]
    fn json_reader_never_panics_on_arbitrary_text(
        text in prop_oneof![
            any::<String>(),
            "[{}\\[\\]:,\"'\\\\/*a-z0-9 \n.+eE-]{0,64}",
            "\u{feff}?[{\\[]{0,4}\"(\\\\u[0-9a-fA-FdD]{0,4}){0,3}\"?",
        ]
    ) {
        if let Err(e) = json::parse(&text) {
            prop_assert!(e.pos.line >= 1 && e.pos.column >= 1, "{e}");
        }
    }
}

// ------------------------------------------------------------------------------------------
// Integer arithmetic
// ------------------------------------------------------------------------------------------

/// A well-typed arithmetic expression over integers.
#[derive(Clone, Debug)]
enum Arith {
    Lit(i64),
    Op(&'static str, Box<Arith>, Box<Arith>),
}

impl Arith {
    fn text(&self) -> String {
        match self {
            Arith::Lit(n) => n.to_string(),
            Arith::Op(name, a, b) => format!("{name}({}, {})", a.text(), b.text()),
        }
    }

    /// What ARM computes: checked 64-bit arithmetic, division and remainder truncating toward
    /// zero; `None` where ARM reports an error (overflow, division by zero).
    fn expected(&self) -> Option<i64> {
        match self {
            Arith::Lit(n) => Some(*n),
            Arith::Op(name, a, b) => {
                let (a, b) = (a.expected()?, b.expected()?);
                match *name {
                    "add" => a.checked_add(b),
                    "sub" => a.checked_sub(b),
                    "mul" => a.checked_mul(b),
                    "div" => a.checked_div(b),
                    "mod" => a.checked_rem(b),
                    other => unreachable!("no such operation {other}"),
                }
            }
        }
    }
}

fn arith() -> impl Strategy<Value = Arith> {
    let leaf = prop_oneof![
        8 => (-20i64..=20).prop_map(Arith::Lit),
        1 => prop_oneof![Just(i64::MIN), Just(i64::MAX), Just(-1i64), Just(0i64)]
            .prop_map(Arith::Lit),
    ];
    leaf.prop_recursive(5, 32, 2, |inner| {
        (
            prop_oneof![
                Just("add"),
                Just("sub"),
                Just("mul"),
                Just("div"),
                Just("mod")
            ],
            inner.clone(),
            inner,
        )
            .prop_map(|(name, a, b)| Arith::Op(name, Box::new(a), Box::new(b)))
    })
}

fn evaluate(text: &str) -> Result<Value, String> {
    let mut scope = SimpleScope::new(fixed_context(), &NoResolver);
    Evaluator::new(&mut scope)
        .eval_str(text)
        .map_err(|e| e.message)
}

fn fixed_context() -> DeploymentContext {
    DeploymentContext {
        guid_seed: Some(1),
        ..DeploymentContext::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn integer_arithmetic_matches_checked_i64_with_truncating_division(tree in arith()) {
        let text = format!("[{}]", tree.text());
        let got = evaluate(&text);
        match tree.expected() {
            Some(n) => prop_assert!(
                matches!(got, Ok(Value::Int(m)) if m == n),
                "{} gave {:?}, expected {}", text, got, n
            ),
            None => prop_assert!(got.is_err(), "{} gave {:?}, expected an error", text, got),
        }
    }
}

#[test]
fn division_and_remainder_truncate_toward_zero() {
    for (text, expected) in [
        ("[div(-7, 2)]", -3),
        ("[mod(-7, 2)]", -1),
        ("[div(7, -2)]", -3),
        ("[mod(7, -2)]", 1),
    ] {
        assert_eq!(
            evaluate(text).ok().and_then(|v| v.as_int()),
            Some(expected),
            "{text}"
        );
    }
}

#[test]
fn integer_overflow_and_division_by_zero_are_errors() {
    for text in [
        "[add(9223372036854775807, 1)]",
        "[sub(-9223372036854775808, 1)]",
        "[mul(4611686018427387904, 2)]",
        "[div(-9223372036854775808, -1)]",
        "[mod(-9223372036854775808, -1)]",
        "[div(1, 0)]",
        "[mod(1, 0)]",
    ] {
        assert!(evaluate(text).is_err(), "{text} should fail");
    }
}

// ------------------------------------------------------------------------------------------
// Regressions: inputs that broke a property
// ------------------------------------------------------------------------------------------

/// A high-surrogate escape followed by an escape that is not a low surrogate once overflowed
/// the code point sum in json.rs `Parser::string` (a panic under overflow checks); found by the
/// `json_reader_never_panics_on_arbitrary_text` property, fixed since.
#[test]
fn high_surrogate_escape_followed_by_a_non_surrogate_escape_is_read() {
    for text in [
        r#""\uD800\u0000""#,
        r#""\uD80A\uaAA0""#,
        r#"{"a": "x\uDBFF\uDBFFy"}"#,
    ] {
        assert!(json::parse(text).is_ok(), "{text}");
    }
}

/// Found by property testing: `[0 .0]` once parsed as property `0` of the integer 0 and then
/// printed as `0.0`, which does not parse back. A property name cannot start with a digit.
#[test]
fn a_property_name_cannot_start_with_a_digit() {
    let err = expr::parse_template_string("[0 .0]").unwrap_err();
    assert!(err.message.contains("property name"), "{err}");
    assert_eq!(err.offset, 4);
}
