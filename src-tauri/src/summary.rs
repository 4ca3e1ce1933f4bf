//! The Markdown summary of an install that the Done screen saves: what was deployed, where,
//! how long each stage took, and the instance's endpoints. Built from the run's snapshot and
//! the manifest's output labels; instance outputs are public by construction (the engine
//! drops secure ones), so the summary holds no secret.

use std::fmt::Write as _;

use landfall_engine::manifest::Manifest;
use landfall_engine::snapshot::RunSnapshot;
use serde_json::Value as Json;
use time::format_description::well_known::Rfc3339;

fn when(t: Option<time::OffsetDateTime>) -> String {
    t.and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| "-".into())
}

fn duration(secs: Option<f64>) -> String {
    match secs {
        Some(s) if s >= 60.0 => format!("{}m {:02}s", (s / 60.0).floor(), (s % 60.0).round()),
        Some(s) => format!("{s:.0}s"),
        None => "-".into(),
    }
}

fn text(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The summary of `snapshot`.
pub fn markdown(snapshot: &RunSnapshot, manifest: &Manifest) -> String {
    let mut out = String::new();
    let outcome = snapshot
        .outcome
        .map(|o| format!("{o:?}").to_lowercase())
        .unwrap_or_else(|| "running".into());
    let _ = writeln!(out, "# {} ({})\n", snapshot.instance, manifest.name);
    let _ = writeln!(out, "| | |\n|---|---|");
    let _ = writeln!(out, "| Outcome | {outcome} |");
    let _ = writeln!(out, "| Run | `{}` |", snapshot.run_id);
    let _ = writeln!(
        out,
        "| Subscription | `{}` |",
        snapshot.target.subscription_id
    );
    let _ = writeln!(
        out,
        "| Resource group | `{}` |",
        snapshot.target.resource_group
    );
    let _ = writeln!(out, "| Region | {} |", snapshot.target.location);
    let _ = writeln!(out, "| Template version | {} |", manifest.version);
    let _ = writeln!(out, "| Started | {} |", when(snapshot.started_at));
    let _ = writeln!(out, "| Finished | {} |", when(snapshot.finished_at));
    if let Some(outputs) = snapshot.outputs.as_object().filter(|o| !o.is_empty()) {
        let _ = writeln!(out, "\n## Endpoints\n\n| | |\n|---|---|");
        for (key, value) in outputs {
            let label = manifest
                .outputs
                .get(key)
                .map_or(key.as_str(), |d| d.label.as_str());
            let _ = writeln!(out, "| {label} | {} |", text(value));
        }
    }
    let _ = writeln!(
        out,
        "\n## Stages\n\n| Stage | State | Took | Resources |\n|---|---|---|---|"
    );
    for stage in &snapshot.stages {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            stage.label,
            format!("{:?}", stage.state).to_lowercase(),
            duration(stage.elapsed_secs),
            stage.resources.len()
        );
    }
    if let Some(error) = &snapshot.error {
        let _ = writeln!(out, "\n## Error\n\n{}", error.message);
    }
    out
}
