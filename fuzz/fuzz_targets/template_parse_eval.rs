//! Whole templates: parse, plan with sample parameters, and the same text as one expression.
#![no_main]

use landfall_template::template::Parameters;
use landfall_template::{NoResolver, Template, plan};
use landfall_template_fuzz::{context, eval_expression};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(template) = Template::parse(text) {
        let parameters = Parameters::new().with_samples_for(template.parameters());
        let _ = plan(&template, &parameters, context(), &NoResolver);
    }
    eval_expression(text);
});
