//! Every command of the shell, called through Tauri's IPC on the mock runtime with the app's
//! real configuration and capabilities (a command the capability does not grant is refused
//! here as in the app). One demo journey carries the calls: sign-in checks, the simulated
//! Azure, review, preflight, a deploy watched to the end, instances, update with what-if,
//! stop watching and resume, a failing demo retried, the summary and support bundle, teardown.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use landfall_desktop::{AppState, Config, setup};
use serde_json::{Value as Json, json};
use tauri::WebviewWindow;
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder};
use tauri::webview::InvokeRequest;

struct App {
    _app: tauri::App<MockRuntime>,
    window: WebviewWindow<MockRuntime>,
    dir: tempfile::TempDir,
    /// Every answer the window received, to search for secrets.
    answers: std::sync::Mutex<String>,
}

/// A MySQL password given in the deploy request: it must never come back.
const PASSWORD: &str = "Kn0wn-Secret-Pa55word!";

/// Every file under `dir` (the simulator's own state, which stands for Azure, excepted).
fn files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path));
        } else if path.file_name().is_some_and(|n| n != "sim-state.json") {
            out.push(path);
        }
    }
    out
}

fn app() -> App {
    let dir = tempfile::tempdir().unwrap();
    let state = AppState::new(Config {
        data_dir: dir.path().to_path_buf(),
        keyring_service: format!("landfall-desktop-test-{}", std::process::id()),
        demo_speed: None,
    })
    .unwrap();
    let app = setup(mock_builder(), state)
        .build(tauri::generate_context!())
        .unwrap();
    // The capability grants Landfall's commands to the window labelled `main`.
    let window = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();
    App {
        _app: app,
        window,
        dir,
        answers: std::sync::Mutex::new(String::new()),
    }
}

impl App {
    fn call(&self, cmd: &str, args: Json) -> Result<Json, Json> {
        let request = InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        };
        let answer =
            get_ipc_response(&self.window, request).map(|b| b.deserialize::<Json>().unwrap());
        let text = match &answer {
            Ok(v) | Err(v) => v.to_string(),
        };
        self.answers.lock().unwrap().push_str(&text);
        answer
    }

    fn ok(&self, cmd: &str, args: Json) -> Json {
        self.call(cmd, args)
            .unwrap_or_else(|e| panic!("{cmd} failed: {e}"))
    }

    fn problem(&self, cmd: &str, args: Json) -> Json {
        match self.call(cmd, args) {
            Ok(v) => panic!("{cmd} answered {v} where a problem was expected"),
            Err(p) => {
                assert!(p["code"].is_string() && p["message"].is_string(), "{p}");
                p
            }
        }
    }

    /// Polls the run's snapshot until it has an outcome.
    fn wait_outcome(&self, run_id: &str) -> Json {
        let deadline = Instant::now() + Duration::from_secs(240);
        loop {
            let snapshot = self.ok("deployment_snapshot", json!({ "runId": run_id }));
            if !snapshot["outcome"].is_null() {
                return snapshot;
            }
            assert!(
                Instant::now() < deadline,
                "run {run_id} did not end: {snapshot}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// A channel argument as the JavaScript side sends it (the mock webview drops its messages).
fn channel(id: u32) -> Json {
    json!(format!("__CHANNEL__:{id}"))
}

fn request(subscription: &str, name: &str) -> Json {
    json!({
        "target": { "subscriptionId": subscription, "resourceGroup": "", "location": "eastus" },
        "values": { "name": name, "location": "eastus", "systemNodeCount": 1, "userNodeMin": 1,
                    "userNodeMax": 2 },
        "preset": null,
    })
}

#[test]
fn every_command_answers_through_the_ipc() {
    let app = app();

    // Before anyone signs in.
    assert_eq!(app.ok("session", json!({})), Json::Null);
    let clouds = app.ok("clouds", json!({}));
    assert_eq!(clouds.as_array().unwrap().len(), 3, "{clouds}");
    assert_eq!(app.ok("interrupted_demo", json!({})), Json::Null);
    let manifest = app.ok("load_manifest", json!({}));
    assert!(manifest["inputs"].as_array().unwrap().len() > 10);
    let check = app.ok(
        "validate_inputs",
        json!({ "values": { "name": "Bad Name!" } }),
    );
    assert_eq!(check["valid"], json!(false));
    assert!(
        check["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["input"] == "name"),
        "{check}"
    );
    let p = app.problem("list_subscriptions", json!({}));
    assert_eq!(p["code"], "notSignedIn");
    let p = app.problem(
        "sign_in",
        json!({ "method": { "kind": "servicePrincipal", "cloud": "AzureCloud",
            "tenantId": "00000000-0000-0000-0000-000000000001", "clientId": "not-a-guid",
            "clientSecret": "s3cret-value" }, "onPrompt": channel(1) }),
    );
    assert!(
        p["message"].as_str().unwrap().starts_with("clientId:"),
        "{p}"
    );
    assert!(!p.to_string().contains("s3cret-value"), "{p}");
    let p = app.problem(
        "sign_in",
        json!({ "method": { "kind": "browser", "cloud": "Mars", "tenant": null },
                "onPrompt": channel(2) }),
    );
    assert!(p["message"].as_str().unwrap().starts_with("cloud:"), "{p}");
    assert_eq!(app.ok("cancel_sign_in", json!({})), Json::Null);
    let p = app.problem("open_url", json!({ "url": "http://example.com" }));
    assert!(p["message"].as_str().unwrap().contains("https"), "{p}");

    // The demo: IDs masked.
    let session = app.ok(
        "start_demo",
        json!({ "options": { "speed": 60.0, "failResource": null, "resume": false } }),
    );
    assert_eq!(session["demo"], json!(true));
    assert!(
        session["tenantId"].as_str().unwrap().contains('•'),
        "{session}"
    );
    let tenants = app.ok("list_tenants", json!({}));
    assert!(
        tenants[0]["tenantId"].as_str().unwrap().contains('•'),
        "{tenants}"
    );
    let subs = app.ok("list_subscriptions", json!({}));
    let sub = subs[0]["subscriptionId"].as_str().unwrap().to_owned();
    assert!(sub.starts_with("••••••••-"), "{subs}");

    let mut req = request(&sub, "lfdesk");
    req["values"]["mysqlAdminPassword"] = json!(PASSWORD);
    let plan = app.ok("review", json!({ "request": req }));
    assert_eq!(plan["stages"].as_array().unwrap().len(), 6, "{plan}");
    assert!(plan["cost"]["total"].as_f64().unwrap() > 0.0, "{plan}");
    assert!(plan["expectedSecs"].as_f64().unwrap() > 0.0);
    let report = app.ok("preflight", json!({ "request": req }));
    assert!(report["checks"].as_array().unwrap().len() > 3, "{report}");
    let report = app.ok(
        "apply_fix",
        json!({ "request": req, "action": { "kind": "registerProviders", "args": [] } }),
    );
    assert!(report["checks"].is_array(), "{report}");

    // Deploy, watch to the end.
    let run = app.ok("deploy", json!({ "request": req, "onEvent": channel(3) }));
    let run = run.as_str().unwrap().to_owned();
    assert_eq!(
        app.ok(
            "attach",
            json!({ "runId": run, "afterSeq": 0, "onEvent": channel(4) })
        ),
        json!(true)
    );
    assert_eq!(
        app.ok(
            "attach",
            json!({ "runId": "no-such-run", "afterSeq": 0, "onEvent": channel(5) })
        ),
        json!(false)
    );
    let done = app.wait_outcome(&run);
    assert_eq!(done["outcome"], "succeeded", "{done}");
    let text = done.to_string();
    assert!(!text.contains(&sub.replace('•', "")[..4]) || text.contains('•'));

    let list = app.ok(
        "instances",
        json!({ "subscriptionId": null, "discover": false }),
    );
    assert_eq!(list[0]["name"], "lfdesk", "{list}");
    let found = app.ok(
        "instances",
        json!({ "subscriptionId": sub, "discover": true }),
    );
    assert!(!found.as_array().unwrap().is_empty(), "{found}");

    // Update: inputs kept, the password stays in the shell; what-if; stop watching; resume.
    let update = app.ok("update_request", json!({ "instance": "lfdesk" }));
    assert_eq!(update["values"]["name"], "lfdesk", "{update}");
    assert!(
        update["values"].get("mysqlAdminPassword").is_none(),
        "{update}"
    );
    let mut update = update;
    update["values"]["userNodeMax"] = json!(3);
    let what_if = app.ok("what_if", json!({ "request": update }));
    assert_eq!(what_if.as_array().unwrap().len(), 6, "{what_if}");
    let run2 = app.ok(
        "update",
        json!({ "request": update, "onEvent": channel(6) }),
    );
    let run2 = run2.as_str().unwrap().to_owned();
    let p = app.problem(
        "start_demo",
        json!({ "options": { "speed": 60.0, "failResource": null, "resume": false } }),
    );
    assert_eq!(p["code"], "refused", "a new demo while one is watched: {p}");
    assert_eq!(
        app.ok("cancel", json!({ "runId": run2, "inAzure": false })),
        Json::Null
    );
    let stopped = app.wait_outcome(&run2);
    assert_eq!(stopped["outcome"], "detached", "{stopped}");
    // Detached: the session offers to resume it; being watched again, it is not offered.
    let unfinished = |app: &App| -> Vec<Json> {
        app.ok("session", json!({}))["unfinishedRuns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["runId"].clone())
            .collect()
    };
    assert!(unfinished(&app).contains(&json!(run2)));
    assert_eq!(
        app.ok("resume", json!({ "runId": run2, "onEvent": channel(7) })),
        Json::Null
    );
    assert!(!unfinished(&app).contains(&json!(run2)));
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let s = app.ok("deployment_snapshot", json!({ "runId": run2 }));
        if s["outcome"] == "succeeded" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the resumed update did not finish: {s}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // Resuming a run that ended is refused with the engine's reason.
    let p = app.problem("resume", json!({ "runId": run, "onEvent": channel(12) }));
    assert!(p["message"].as_str().unwrap().contains("retry"), "{p}");
    let p = app.problem(
        "cancel",
        json!({ "runId": "no-such-run", "inAzure": false }),
    );
    assert_eq!(p["code"], "notFound", "{p}");

    // Files for the person.
    let out = tempfile::tempdir().unwrap();
    let summary = out.path().join("summary.md");
    let saved = app.ok(
        "save_summary",
        json!({ "runId": run, "path": summary.display().to_string() }),
    );
    assert_eq!(saved["path"], json!(summary.display().to_string()));
    let text = std::fs::read_to_string(&summary).unwrap();
    assert!(
        text.contains("# lfdesk") && text.contains("succeeded"),
        "{text}"
    );
    let zip = out.path().join("support.zip");
    app.ok(
        "save_support_bundle",
        json!({ "runId": run, "path": zip.display().to_string() }),
    );
    assert!(std::fs::metadata(&zip).unwrap().len() > 100);

    // The password went to Azure, and nowhere else: not in any answer, nor in any file of the
    // data folder (journal and WAL included), the summary or the support bundle.
    assert!(!app.answers.lock().unwrap().contains(PASSWORD));
    let mut searched = files(app.dir.path());
    searched.push(summary.clone());
    assert!(
        searched.iter().any(|p| p.ends_with("journal.sqlite")),
        "{searched:?}"
    );
    for path in &searched {
        let bytes = std::fs::read(path).unwrap();
        assert!(
            !bytes
                .windows(PASSWORD.len())
                .any(|w| w == PASSWORD.as_bytes()),
            "the password is in {}",
            path.display()
        );
    }
    let mut bundle = zip::ZipArchive::new(std::fs::File::open(&zip).unwrap()).unwrap();
    for i in 0..bundle.len() {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut bundle.by_index(i).unwrap(), &mut text).unwrap();
        assert!(
            !text.contains(PASSWORD),
            "the password is in the support bundle"
        );
    }

    // Teardown.
    let gone = app.ok(
        "teardown",
        json!({ "instance": "lfdesk", "purge": true, "onEvent": channel(8) }),
    );
    let ended = app.wait_outcome(gone.as_str().unwrap());
    assert_eq!(ended["outcome"], "succeeded", "{ended}");

    // A failing demo, retried; then cancel in Azure on a fresh run.
    app.ok(
        "start_demo",
        json!({ "options": { "speed": 60.0, "failResource": "{n}-aks", "resume": false } }),
    );
    let subs = app.ok("list_subscriptions", json!({}));
    let sub = subs[0]["subscriptionId"].as_str().unwrap().to_owned();
    let req = request(&sub, "lfretry");
    let run = app.ok("deploy", json!({ "request": req, "onEvent": channel(9) }));
    let failed = app.wait_outcome(run.as_str().unwrap());
    assert_eq!(failed["outcome"], "failed", "{failed}");
    let retried = app.ok("retry", json!({ "runId": run, "onEvent": channel(10) }));
    assert_ne!(retried, run);
    let ok = app.wait_outcome(retried.as_str().unwrap());
    assert_eq!(ok["outcome"], "succeeded", "{ok}");

    let req = request(&sub, "lfcancel");
    let run = app.ok("deploy", json!({ "request": req, "onEvent": channel(11) }));
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        app.ok("cancel", json!({ "runId": run, "inAzure": true })),
        Json::Null
    );
    let cancelled = app.wait_outcome(run.as_str().unwrap());
    assert_eq!(cancelled["outcome"], "canceled", "{cancelled}");

    assert_eq!(app.ok("sign_out", json!({})), Json::Null);
    assert_eq!(app.ok("session", json!({})), Json::Null);
}

#[test]
fn an_unknown_command_is_refused() {
    let app = app();
    let e = app.call("delete_everything", json!({})).unwrap_err();
    assert!(e.to_string().contains("delete_everything"), "{e}");
}

#[test]
fn a_window_the_capability_does_not_name_is_refused_every_command() {
    let app = app();
    assert!(app.call("clouds", json!({})).is_ok());
    let other = tauri::WebviewWindowBuilder::new(&app._app, "other", Default::default())
        .build()
        .unwrap();
    let request = InvokeRequest {
        cmd: "clouds".into(),
        callback: CallbackFn(0),
        error: CallbackFn(1),
        url: "tauri://localhost".parse().unwrap(),
        body: InvokeBody::Json(json!({})),
        headers: Default::default(),
        invoke_key: INVOKE_KEY.to_string(),
    };
    let e = get_ipc_response(&other, request).unwrap_err();
    assert!(e.to_string().contains("not allowed"), "{e}");
}
