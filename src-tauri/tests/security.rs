//! The app's security settings, read from the files Tauri builds it from: a CSP that allows
//! nothing but the app itself and its IPC, one capability granting the main window exactly
//! Landfall's commands (and no plugin or core permission), and a UI that loads nothing remote.
//! (`tests/commands.rs` shows the capability is enforced: another window is refused.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value as Json;

fn read(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn json(relative: &str) -> Json {
    serde_json::from_str(&read(relative)).unwrap()
}

/// The command names declared in build.rs (`const COMMANDS`).
fn declared_commands() -> BTreeSet<String> {
    let build = read("build.rs");
    let start = build.find("const COMMANDS").expect("COMMANDS in build.rs");
    let end = start + build[start..].find("];").unwrap();
    build[start..end]
        .lines()
        .filter_map(|l| l.trim().strip_prefix('"'))
        .filter_map(|l| l.split('"').next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_csp_allows_only_the_app_and_its_ipc() {
    let conf = json("tauri.conf.json");
    let security = &conf["app"]["security"];
    let csp = security["csp"].as_object().expect("a CSP, as directives");
    let directive = |name: &str| csp.get(name).and_then(Json::as_str).unwrap_or("");
    assert_eq!(directive("default-src"), "'self'");
    assert_eq!(directive("script-src"), "'self'");
    assert_eq!(directive("object-src"), "'none'");
    assert_eq!(directive("base-uri"), "'none'");
    assert_eq!(directive("frame-ancestors"), "'none'");
    assert_eq!(directive("form-action"), "'none'");
    assert_eq!(directive("connect-src"), "ipc: http://ipc.localhost");
    for (name, value) in csp {
        let value = value.as_str().unwrap();
        assert!(
            !value.contains("unsafe-eval") && !value.contains('*'),
            "{name}: {value}"
        );
        for source in value.split_whitespace() {
            assert!(
                !(source.starts_with("https:") || source.starts_with("http:"))
                    || source == "http://ipc.localhost",
                "{name} allows a remote source: {source}"
            );
        }
    }
    assert_eq!(security["freezePrototype"], Json::Bool(true));
    assert!(
        security
            .get("dangerousDisableAssetCspModification")
            .is_none()
    );
    assert_ne!(conf["app"]["withGlobalTauri"], Json::Bool(true));
}

#[test]
fn one_capability_grants_the_main_window_exactly_landfalls_commands() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("capabilities");
    let files: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(files.len(), 1, "one capability file");
    let cap = json("capabilities/default.json");
    assert_eq!(cap["windows"], serde_json::json!(["main"]));
    assert!(
        cap.get("remote").is_none(),
        "no remote URL may call commands"
    );
    let granted: BTreeSet<String> = cap["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().expect("plain permission names").to_owned())
        .collect();
    let expected: BTreeSet<String> = declared_commands()
        .iter()
        .map(|c| format!("allow-{}", c.replace('_', "-")))
        .collect();
    assert_eq!(expected.len(), 28, "{expected:?}");
    assert_eq!(granted, expected);
    // Every declared command is registered in the handler, and nothing else.
    let lib = read("src/lib.rs");
    let handler: BTreeSet<String> = lib
        .lines()
        .filter_map(|l| l.trim().strip_prefix("commands::"))
        .map(|l| l.trim_end_matches(',').to_owned())
        .collect();
    assert_eq!(handler, declared_commands());
}

#[test]
fn the_ui_loads_nothing_remote() {
    let html = read("../ui/index.html");
    for needle in ["http://", "https://", "//cdn", "<iframe"] {
        assert!(!html.contains(needle), "ui/index.html contains {needle}");
    }
}
