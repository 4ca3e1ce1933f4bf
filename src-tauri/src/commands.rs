//! The Tauri commands: each unwraps its arguments, calls [`AppState`], and answers a value or
//! a [`Problem`] (`{code, message, details, remediation}`). Run progress goes over a
//! [`Channel`], one event per message, each with its `seq`. Every command is `async`: Tauri
//! runs synchronous commands on the main thread, where they would hold up the window.

use std::path::PathBuf;
use std::sync::Arc;

use landfall_engine::Problem;
use landfall_engine::manifest::Manifest;
use landfall_engine::preflight::FixAction;
use serde_json::Value as Json;
use tauri::ipc::Channel;
use tauri::{AppHandle, Runtime, State};
use tauri_plugin_dialog::DialogExt;
use tauri_plugin_opener::OpenerExt;

use crate::app::{AppState, problem};
use crate::wire::{
    CloudOption, DemoOptions, DeployRequest, InputsCheck, SavedFile, Session, SignInMethod,
    SignInPrompt,
};
use landfall_engine::RunKind;

type Answer<T> = Result<T, Problem>;

/// The current sign-in (restoring the saved account), or none.
#[tauri::command]
pub async fn session(state: State<'_, AppState>) -> Answer<Option<Session>> {
    state.session().await
}

/// The clouds the sign-in screen offers.
#[tauri::command]
pub async fn clouds() -> Answer<Vec<CloudOption>> {
    Ok(AppState::clouds())
}

/// Starts the simulated Azure inside the app and signs in to it.
#[tauri::command]
pub async fn start_demo(state: State<'_, AppState>, options: DemoOptions) -> Answer<Session> {
    state.start_demo(options).await
}

/// The run an interrupted demo left unfinished, if any.
#[tauri::command]
pub async fn interrupted_demo(state: State<'_, AppState>) -> Answer<Option<String>> {
    state.interrupted_demo()
}

/// Signs in; the browser URL or device code goes to `on_prompt` while it waits.
#[tauri::command]
pub async fn sign_in<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    method: SignInMethod,
    on_prompt: Channel<SignInPrompt>,
) -> Answer<Session> {
    let prompt = Arc::new(move |p: SignInPrompt| drop(on_prompt.send(p)));
    let opener = Arc::new(move |url: &str| {
        app.opener()
            .open_url(url, None::<&str>)
            .map_err(|e| e.to_string())
    });
    state.sign_in(method, prompt, opener).await
}

/// Gives up the sign-in in progress.
#[tauri::command]
pub async fn cancel_sign_in(state: State<'_, AppState>) -> Answer<()> {
    state.cancel_sign_in();
    Ok(())
}

/// Signs out (the demo: stops the simulated Azure).
#[tauri::command]
pub async fn sign_out(state: State<'_, AppState>) -> Answer<()> {
    state.sign_out().await
}

/// Tenants the signed-in principal can reach.
#[tauri::command]
pub async fn list_tenants(state: State<'_, AppState>) -> Answer<Vec<Json>> {
    state.tenants().await
}

/// Subscriptions the signed-in principal can see.
#[tauri::command]
pub async fn list_subscriptions(state: State<'_, AppState>) -> Answer<Vec<Json>> {
    state.subscriptions().await
}

/// The bundled manifest: inputs, presets, outputs.
#[tauri::command]
pub async fn load_manifest(state: State<'_, AppState>) -> Answer<Manifest> {
    Ok(state.manifest())
}

/// Input errors and the monthly cost, offline.
#[tauri::command]
pub async fn validate_inputs(
    state: State<'_, AppState>,
    values: indexmap::IndexMap<String, Json>,
) -> Answer<InputsCheck> {
    state.validate_inputs(&values).await
}

/// The plan for the review screen: stages, resources, cost, expected time.
#[tauri::command]
pub async fn review(state: State<'_, AppState>, request: DeployRequest) -> Answer<Json> {
    state.review(&request).await
}

/// Every preflight check against the target.
#[tauri::command]
pub async fn preflight(state: State<'_, AppState>, request: DeployRequest) -> Answer<Json> {
    state.preflight(&request).await
}

/// Applies a preflight fix, then answers a fresh report.
#[tauri::command]
pub async fn apply_fix(
    state: State<'_, AppState>,
    request: DeployRequest,
    action: FixAction,
) -> Answer<Json> {
    state.apply_fix(&request, action).await
}

/// Azure's what-if per stage (for an update).
#[tauri::command]
pub async fn what_if(state: State<'_, AppState>, request: DeployRequest) -> Answer<Json> {
    state.what_if(&request).await
}

/// Starts an install; events go to `on_event`; answers the run ID.
#[tauri::command]
pub async fn deploy(
    state: State<'_, AppState>,
    request: DeployRequest,
    on_event: Channel<Json>,
) -> Answer<String> {
    state
        .deploy(&request, RunKind::Install, Arc::new(on_event))
        .await
}

/// Starts an update of a deployed instance; answers the run ID.
#[tauri::command]
pub async fn update(
    state: State<'_, AppState>,
    request: DeployRequest,
    on_event: Channel<Json>,
) -> Answer<String> {
    state
        .deploy(&request, RunKind::Update, Arc::new(on_event))
        .await
}

/// A run as the journal knows it, for a reloaded or second window.
#[tauri::command]
pub async fn deployment_snapshot(state: State<'_, AppState>, run_id: String) -> Answer<Json> {
    state.snapshot(&run_id).await
}

/// Sends a run's events after `after_seq`, then the live ones; false if not watched here.
#[tauri::command]
pub async fn attach(
    state: State<'_, AppState>,
    run_id: String,
    after_seq: u64,
    on_event: Channel<Json>,
) -> Answer<bool> {
    Ok(state.attach(&run_id, after_seq, Arc::new(on_event)))
}

/// Stops watching (`in_azure` false) or cancels the run's deployments in Azure.
#[tauri::command]
pub async fn cancel(state: State<'_, AppState>, run_id: String, in_azure: bool) -> Answer<()> {
    state.cancel(&run_id, in_azure).await
}

/// Retries a failed run from its failed stages; answers the new run ID.
#[tauri::command]
pub async fn retry(
    state: State<'_, AppState>,
    run_id: String,
    on_event: Channel<Json>,
) -> Answer<String> {
    state.retry(&run_id, Arc::new(on_event)).await
}

/// Carries on watching a run whose watcher stopped.
#[tauri::command]
pub async fn resume(
    state: State<'_, AppState>,
    run_id: String,
    on_event: Channel<Json>,
) -> Answer<()> {
    state.resume(&run_id, Arc::new(on_event)).await
}

/// The journal's instances, and with `discover` the subscription's tagged ones.
#[tauri::command]
pub async fn instances(
    state: State<'_, AppState>,
    subscription_id: Option<String>,
    discover: bool,
) -> Answer<Vec<Json>> {
    state.instances(subscription_id.as_deref(), discover).await
}

/// The request that updates an instance (its last inputs, secrets kept back).
#[tauri::command]
pub async fn update_request(state: State<'_, AppState>, instance: String) -> Answer<Json> {
    state.update_request(&instance).await
}

/// Deletes an instance's resource group; answers the teardown run's ID.
#[tauri::command]
pub async fn teardown(
    state: State<'_, AppState>,
    instance: String,
    purge: bool,
    on_event: Channel<Json>,
) -> Answer<String> {
    state.teardown(&instance, purge, Arc::new(on_event)).await
}

/// Asks where to save (a native dialog) unless `path` is given (tests and automation).
async fn save_path<R: Runtime>(
    app: &AppHandle<R>,
    path: Option<String>,
    name: String,
    filter: (&str, &[&str]),
) -> Option<PathBuf> {
    if let Some(p) = path {
        return Some(PathBuf::from(p));
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.dialog()
        .file()
        .set_file_name(name)
        .add_filter(filter.0, filter.1)
        .save_file(move |p| drop(tx.send(p.and_then(|p| p.into_path().ok()))));
    rx.await.ok().flatten()
}

/// Writes a run's support bundle where the person chooses.
#[tauri::command]
pub async fn save_support_bundle<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    run_id: String,
    path: Option<String>,
) -> Answer<Option<SavedFile>> {
    let name = format!("landfall-support-{run_id}.zip");
    let Some(path) = save_path(&app, path, name, ("Zip archive", &["zip"])).await else {
        return Ok(None);
    };
    state.save_support_bundle(&run_id, &path).await?;
    Ok(Some(SavedFile {
        path: path.display().to_string(),
    }))
}

/// Writes a Markdown summary of a run where the person chooses.
#[tauri::command]
pub async fn save_summary<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    run_id: String,
    path: Option<String>,
) -> Answer<Option<SavedFile>> {
    let name = format!("landfall-summary-{run_id}.md");
    let Some(path) = save_path(&app, path, name, ("Markdown", &["md"])).await else {
        return Ok(None);
    };
    state.save_summary(&run_id, &path).await?;
    Ok(Some(SavedFile {
        path: path.display().to_string(),
    }))
}

/// Opens an https address in the system browser.
#[tauri::command]
pub async fn open_url<R: Runtime>(app: AppHandle<R>, url: String) -> Answer<()> {
    let parsed = url::Url::parse(&url)
        .map_err(|e| problem("inputs", format!("url: '{url}' is not a URL: {e}")))?;
    if parsed.scheme() != "https" {
        return Err(problem(
            "inputs",
            format!("url: only https addresses are opened, not '{url}'"),
        ));
    }
    app.opener()
        .open_url(parsed.as_str(), None::<&str>)
        .map_err(|e| problem("io", format!("the system browser did not open {url}: {e}")))
}
