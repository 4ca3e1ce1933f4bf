//! The support bundle: one zip holding everything the vendor's support needs about a run,
//! read from the journal, with no secret in it.
//!
//! Entries: `run.json` (the run record, inputs already redacted), `stages.json`,
//! `events.ndjson` (the wire envelopes, one per line), `snapshot.json`, `errors.json` (every
//! error report the events carry), `correlation.json` (the correlation IDs to quote to Azure
//! support), `versions.json` (Landfall, the template bundle and its digest, the OS) and, when
//! the run's inputs can be rebuilt, `plan.json` (the offline plan, secrets masked).
//!
//! Secrets: the journal never holds one, and the plan masks them; on top of that every entry
//! is masked against the instance's kept secret values before it is written, so a secret that
//! slipped into an event or an Azure message still never leaves the machine. The zip is
//! written to a temporary file next to `out` and renamed over it, so a reader never sees half
//! a bundle.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{Value as Json, json};
use zip::CompressionMethod;
use zip::write::{SimpleFileOptions, ZipWriter};

use crate::error::EngineError;
use crate::events::{DeploymentEvent, EventEnvelope, RunKind};
use crate::installer::Installer;
use crate::manifest::InputType;
use crate::render::mask_json;

/// The files a support bundle holds (`plan.json` only when the plan can be rebuilt).
pub const BUNDLE_FILES: [&str; 8] = [
    "run.json",
    "stages.json",
    "events.ndjson",
    "snapshot.json",
    "errors.json",
    "correlation.json",
    "versions.json",
    "plan.json",
];

/// Writes the support bundle of run `run_id` to `out` (a zip), replacing it atomically.
pub fn support_bundle(installer: &Installer, run_id: &str, out: &Path) -> Result<(), EngineError> {
    let journal = installer.journal();
    let run = journal
        .run(run_id)?
        .ok_or_else(|| EngineError::NotFound(format!("there is no run '{run_id}'")))?;
    let stages = journal.stages(run_id)?;
    let events = journal.events(run_id, 0)?;
    let snapshot = installer.snapshot(run_id)?;
    let secrets = kept_secrets(installer, &run.subscription_id, &run.instance);

    let mut entries: Vec<(&str, Vec<u8>)> = vec![
        ("run.json", pretty(&run, &secrets)?),
        ("stages.json", pretty(&stages, &secrets)?),
        ("events.ndjson", ndjson(&events, &secrets)?),
        ("snapshot.json", pretty(&snapshot, &secrets)?),
        ("errors.json", pretty(&errors(&events), &secrets)?),
        (
            "correlation.json",
            pretty(&correlation_ids(&stages, &events), &secrets)?,
        ),
        ("versions.json", pretty(&versions(installer), &secrets)?),
    ];
    if run.kind != RunKind::Teardown
        && let Ok((_, prepared)) = installer.prepared_for_run(run_id)
    {
        let mut all = secrets.clone();
        all.extend(prepared.inputs.secret_values());
        entries.push(("plan.json", pretty(&prepared.plan.to_json(), &all)?));
    }
    write_atomically(out, &entries)
}

/// The instance's secret input values as the secret store keeps them.
fn kept_secrets(installer: &Installer, subscription_id: &str, instance: &str) -> Vec<String> {
    installer
        .bundle()
        .manifest
        .inputs
        .iter()
        .filter(|i| i.kind == InputType::Secret)
        .filter_map(|i| {
            let key = Installer::secret_key(subscription_id, instance, &i.name);
            installer
                .secrets
                .get(&installer.secret_service, &key)
                .ok()
                .flatten()
        })
        .map(|s| s.secret().to_owned())
        .collect()
}

fn masked(value: &impl Serialize, secrets: &[String]) -> Result<Json, EngineError> {
    let mut v = serde_json::to_value(value).map_err(|e| {
        EngineError::Refused(format!("cannot encode the support bundle as JSON: {e}"))
    })?;
    mask_json(&mut v, secrets);
    Ok(v)
}

fn pretty(value: &impl Serialize, secrets: &[String]) -> Result<Vec<u8>, EngineError> {
    let v = masked(value, secrets)?;
    serde_json::to_vec_pretty(&v)
        .map_err(|e| EngineError::Refused(format!("cannot encode the support bundle: {e}")))
}

fn ndjson(events: &[EventEnvelope], secrets: &[String]) -> Result<Vec<u8>, EngineError> {
    let mut out = Vec::new();
    for e in events {
        let v = masked(e, secrets)?;
        let line = serde_json::to_vec(&v)
            .map_err(|e| EngineError::Refused(format!("cannot encode an event: {e}")))?;
        out.extend(line);
        out.push(b'\n');
    }
    Ok(out)
}

/// Every error report the events carry, with the event that carried it.
fn errors(events: &[EventEnvelope]) -> Json {
    let mut out = Vec::new();
    for e in events {
        let (stage, resource_id, error) = match &e.event {
            DeploymentEvent::ResourceFailed {
                stage,
                resource_id,
                error,
                ..
            } => (Some(stage), Some(resource_id), error),
            DeploymentEvent::StageFailed { stage, error, .. } => (Some(stage), None, error),
            DeploymentEvent::RunFinished {
                error: Some(error), ..
            } => (None, None, error),
            _ => continue,
        };
        out.push(json!({
            "seq": e.seq,
            "event": e.event.name(),
            "stage": stage,
            "resourceId": resource_id,
            "error": error,
        }));
    }
    Json::Array(out)
}

/// Correlation IDs by stage (from the stage records and `stageStarted`) and those of error
/// reports.
fn correlation_ids(stages: &[crate::journal::StageRecord], events: &[EventEnvelope]) -> Json {
    let mut by_stage: BTreeSet<(String, String, String)> = BTreeSet::new();
    for s in stages {
        if let Some(id) = &s.correlation_id {
            by_stage.insert((s.stage.clone(), s.deployment_name.clone(), id.clone()));
        }
    }
    let mut from_errors = BTreeSet::new();
    for e in events {
        match &e.event {
            DeploymentEvent::StageStarted {
                stage,
                deployment_name,
                correlation_id: Some(id),
                ..
            } => {
                by_stage.insert((stage.clone(), deployment_name.clone(), id.clone()));
            }
            DeploymentEvent::ResourceFailed { error, .. }
            | DeploymentEvent::StageFailed { error, .. }
            | DeploymentEvent::RunFinished {
                error: Some(error), ..
            } => {
                if let Some(id) = &error.correlation_id {
                    from_errors.insert(id.clone());
                }
            }
            _ => {}
        }
    }
    json!({
        "stages": by_stage
            .into_iter()
            .map(|(stage, deployment, id)| json!({
                "stage": stage,
                "deploymentName": deployment,
                "correlationId": id,
            }))
            .collect::<Vec<_>>(),
        "errors": from_errors.into_iter().collect::<Vec<_>>(),
    })
}

fn versions(installer: &Installer) -> Json {
    let bundle = installer.bundle();
    json!({
        "landfall": env!("CARGO_PKG_VERSION"),
        "manifest": {
            "name": bundle.manifest.name,
            "version": bundle.manifest.version,
            "digest": bundle.digest,
        },
        "os": std::env::consts::OS,
        "arch": std::env::consts::ARCH,
    })
}

fn io_error(path: &Path, e: impl std::fmt::Display) -> EngineError {
    EngineError::Refused(format!(
        "cannot write the support bundle to {}: {e}",
        path.display()
    ))
}

fn temp_path(out: &Path) -> PathBuf {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "support-bundle.zip".into());
    out.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

fn write_atomically(out: &Path, entries: &[(&str, Vec<u8>)]) -> Result<(), EngineError> {
    let temp = temp_path(out);
    let written = write_zip(&temp, entries)
        .and_then(|()| fs::rename(&temp, out).map_err(|e| io_error(out, e)));
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written
}

fn write_zip(path: &Path, entries: &[(&str, Vec<u8>)]) -> Result<(), EngineError> {
    let file = fs::File::create(path).map_err(|e| io_error(path, e))?;
    let mut zip = ZipWriter::new(file);
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .unix_permissions(0o600);
    for (name, bytes) in entries {
        zip.start_file(*name, options)
            .map_err(|e| io_error(path, e))?;
        zip.write_all(bytes).map_err(|e| io_error(path, e))?;
    }
    let file = zip.finish().map_err(|e| io_error(path, e))?;
    file.sync_all().map_err(|e| io_error(path, e))
}
