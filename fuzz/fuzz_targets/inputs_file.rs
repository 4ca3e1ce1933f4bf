//! Input files and `--set` values against the bundled manifest: resolve, validate, and cost
//! and plan what validates. Bad input must end in an error naming the field, never a panic.
#![no_main]

use std::sync::OnceLock;

use landfall_engine::bundle::Bundle;
use landfall_engine::inputs::{resolve, validate};
use landfall_engine::{Target, cost, render};
use libfuzzer_sys::fuzz_target;

fn bundle() -> &'static Bundle {
    static BUNDLE: OnceLock<Bundle> = OnceLock::new();
    BUNDLE.get_or_init(|| Bundle::builtin().expect("the built-in bundle loads"))
}

fn target() -> Target {
    Target {
        subscription_id: "00000000-0000-0000-0000-000000000001".into(),
        tenant_id: "00000000-0000-0000-0000-000000000002".into(),
        resource_group: None,
    }
}

fn check(values: landfall_engine::inputs::InputValues) {
    let b = bundle();
    if let Ok(valid) = validate(&b.manifest, &values, &target()) {
        let _ = cost::estimate(&b.manifest, &valid);
        let _ = render::plan_instance(b, &valid, &target());
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let manifest = &bundle().manifest;
    // The whole text as an inputs file (either form).
    if let Ok(values) = resolve(manifest, None, Some(text), &[]) {
        check(values);
    }
    // Its lines as `--set` values over a preset.
    let sets: Vec<String> = text.lines().take(16).map(str::to_owned).collect();
    if let Ok(values) = resolve(manifest, Some("demo"), None, &sets) {
        check(values);
    }
});
