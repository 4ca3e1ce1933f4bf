//! The Landfall desktop shell: a thin Tauri 2 layer over landfall-engine. The UI (`ui/`)
//! calls the commands in [`commands`]; what they do lives in [`app`], free of Tauri; run
//! progress fans out to windows through [`runs`]; demo mode masks IDs with [`mask`].

// Every command answers `Result<T, Problem>`: the problem crosses the IPC once per call, as
// JSON, so its size on the stack does not matter and boxing it would only add noise.
#![allow(clippy::result_large_err)]

pub mod app;
pub mod commands;
pub mod mask;
pub mod runs;
pub mod summary;
pub mod wire;

use tauri::Runtime;

pub use app::{AppState, Config};

/// Adds Landfall's state and commands to a builder (the app's, or a mock one in tests).
pub fn setup<R: Runtime>(builder: tauri::Builder<R>, state: AppState) -> tauri::Builder<R> {
    builder
        .manage(state)
        .invoke_handler(tauri::generate_handler![
            commands::session,
            commands::clouds,
            commands::start_demo,
            commands::interrupted_demo,
            commands::sign_in,
            commands::cancel_sign_in,
            commands::sign_out,
            commands::list_tenants,
            commands::list_subscriptions,
            commands::load_manifest,
            commands::validate_inputs,
            commands::review,
            commands::preflight,
            commands::apply_fix,
            commands::what_if,
            commands::deploy,
            commands::update,
            commands::deployment_snapshot,
            commands::attach,
            commands::cancel,
            commands::retry,
            commands::resume,
            commands::instances,
            commands::update_request,
            commands::teardown,
            commands::save_support_bundle,
            commands::save_summary,
            commands::open_url,
        ])
}

/// The official plugins the app uses: opener (sign-in page, instance URL), dialog (save
/// bundles), log (a file in the app's log folder), window-state (size and place remembered).
pub fn plugins<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_dialog::init())
        .plugin(
            tauri_plugin_log::Builder::new()
                .level(log::LevelFilter::Info)
                .build(),
        )
        .plugin(tauri_plugin_window_state::Builder::default().build())
}

/// Runs the app; answers the exit code.
pub fn run() -> i32 {
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("landfall-desktop: {e}");
            return 2;
        }
    };
    let state = match AppState::new(config) {
        Ok(s) => s,
        Err(p) => {
            eprintln!("landfall-desktop: {}", p.message);
            return 2;
        }
    };
    let builder = setup(plugins(tauri::Builder::default()), state);
    match builder.run(tauri::generate_context!()) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("landfall-desktop: {e}");
            1
        }
    }
}
