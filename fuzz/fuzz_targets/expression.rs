//! Raw expression strings: parse (bracketed or not), print and evaluate.
#![no_main]

use landfall_template::expr;
use landfall_template_fuzz::eval_expression;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(e) = expr::parse_expression(text) {
        // Printing must not panic either; the printed text is evaluated too.
        eval_expression(&format!("[{e}]"));
    }
    eval_expression(text);
});
