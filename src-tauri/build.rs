//! Tauri's build step. Landfall's commands are declared here so each needs an explicit
//! permission: `capabilities/default.json` grants exactly these (`allow-<command>`), and a
//! command added to the handler but not here cannot be called from the window.

const COMMANDS: &[&str] = &[
    "session",
    "clouds",
    "start_demo",
    "interrupted_demo",
    "sign_in",
    "cancel_sign_in",
    "sign_out",
    "list_tenants",
    "list_subscriptions",
    "load_manifest",
    "validate_inputs",
    "review",
    "preflight",
    "apply_fix",
    "what_if",
    "deploy",
    "update",
    "deployment_snapshot",
    "attach",
    "cancel",
    "retry",
    "resume",
    "instances",
    "update_request",
    "teardown",
    "save_support_bundle",
    "save_summary",
    "open_url",
];

fn main() {
    let attributes = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(e) = tauri_build::try_build(attributes) {
        // A build script reports by failing the build with the reason.
        println!("cargo::error={e:#}");
    }
}
