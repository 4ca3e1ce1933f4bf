//! How a run shows on the terminal: progress bars on a terminal, plain lines otherwise, or
//! one JSON event per line (`--json`, the same events the desktop gets).

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use landfall_engine::deploy::EventSink;
use landfall_engine::{DeploymentEvent, EventEnvelope};

/// The output mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// NDJSON on stdout.
    Json,
    /// indicatif bars (stderr).
    Bars,
    /// One line per change (stdout).
    Plain,
}

impl Mode {
    /// JSON when asked, bars on a terminal, plain lines otherwise.
    pub fn pick(json: bool) -> Mode {
        if json {
            Mode::Json
        } else if std::io::stderr().is_terminal() {
            Mode::Bars
        } else {
            Mode::Plain
        }
    }
}

struct Bars {
    multi: MultiProgress,
    overall: ProgressBar,
    stages: HashMap<String, ProgressBar>,
}

/// Prints events as they come.
pub struct Printer {
    mode: Mode,
    bars: Mutex<Option<Bars>>,
    names: Mutex<HashMap<String, String>>,
}

impl Printer {
    /// A printer in `mode`.
    pub fn new(mode: Mode) -> Self {
        Printer {
            mode,
            bars: Mutex::new(None),
            names: Mutex::new(HashMap::new()),
        }
    }

    /// A line for people (not in JSON mode: stdout stays NDJSON-only).
    pub fn say(&self, line: &str) {
        match self.mode {
            Mode::Json => eprintln!("{line}"),
            Mode::Plain => println!("{line}"),
            Mode::Bars => match self
                .bars
                .lock()
                .ok()
                .and_then(|b| b.as_ref().map(|b| b.multi.clone()))
            {
                Some(multi) => {
                    let _ = multi.println(line);
                }
                None => eprintln!("{line}"),
            },
        }
    }

    fn short(&self, id: &str) -> String {
        self.names
            .lock()
            .ok()
            .and_then(|n| n.get(&id.to_ascii_lowercase()).cloned())
            .unwrap_or_else(|| id.rsplit('/').next().unwrap_or(id).to_owned())
    }

    fn plain(&self, e: &EventEnvelope) {
        let line = match &e.event {
            DeploymentEvent::RunStarted {
                run_id,
                instance,
                stages,
                expected_secs,
                resource_group,
                ..
            } => {
                let n: usize = stages.iter().map(|s| s.resources.len()).sum();
                format!(
                    "run {run_id}: installing '{instance}' into resource group {resource_group}: {} stages, {n} resources, about {}",
                    stages.len(),
                    human(*expected_secs)
                )
            }
            DeploymentEvent::ResourceGroupReady {
                resource_group_id, ..
            } => {
                format!("resource group ready: {resource_group_id}")
            }
            DeploymentEvent::StageStarted {
                stage,
                deployment_name,
                reattached,
                ..
            } => {
                if *reattached {
                    format!("{stage}: re-attached to deployment {deployment_name}")
                } else {
                    format!("{stage}: deploying as {deployment_name}")
                }
            }
            DeploymentEvent::ResourceStarted {
                stage,
                resource_type,
                resource_name,
                ..
            } => {
                format!("{stage}: {resource_type} {resource_name} started")
            }
            DeploymentEvent::ResourceProgress {
                stage,
                resource_id,
                provisioning_state,
                ..
            } => {
                format!("{stage}: {} {provisioning_state}", self.short(resource_id))
            }
            DeploymentEvent::ResourceSucceeded {
                stage,
                resource_id,
                elapsed_secs,
                ..
            } => {
                format!(
                    "{stage}: {} succeeded in {}",
                    self.short(resource_id),
                    human(*elapsed_secs)
                )
            }
            DeploymentEvent::ResourceFailed {
                stage,
                resource_id,
                error,
                ..
            } => failure(
                &format!("{stage}: {} FAILED", self.short(resource_id)),
                error,
            ),
            DeploymentEvent::StageSucceeded {
                stage,
                elapsed_secs,
                ..
            } => {
                format!("{stage}: done in {}", human(*elapsed_secs))
            }
            DeploymentEvent::StageFailed { stage, error, .. } => {
                failure(&format!("{stage}: stage FAILED"), error)
            }
            DeploymentEvent::StageCanceled { stage, .. } => format!("{stage}: cancelled in Azure"),
            DeploymentEvent::Progress {
                done,
                total,
                eta_secs,
                ..
            } => {
                format!(
                    "progress: {done}/{total} resources, about {} left",
                    human(*eta_secs)
                )
            }
            DeploymentEvent::Notice { message, .. } => format!("note: {message}"),
            DeploymentEvent::RunFinished {
                outcome,
                elapsed_secs,
                ..
            } => {
                format!("run finished: {outcome:?} after {}", human(*elapsed_secs))
            }
        };
        println!("{line}");
    }

    fn bars(&self, e: &EventEnvelope) {
        let Ok(mut guard) = self.bars.lock() else {
            return;
        };
        if let DeploymentEvent::RunStarted {
            stages, instance, ..
        } = &e.event
        {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            let total: u64 = stages.iter().map(|s| s.resources.len() as u64).sum();
            let overall = multi.add(ProgressBar::new(total));
            overall.set_style(
                ProgressStyle::with_template(
                    "{prefix:>12.bold} [{bar:30.cyan/blue}] {pos}/{len} {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            overall.set_prefix(instance.clone());
            overall.enable_steady_tick(Duration::from_millis(200));
            let style = ProgressStyle::with_template(
                "{prefix:>12} [{bar:30.green/white}] {pos}/{len} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            let mut map = HashMap::new();
            for s in stages {
                let bar = multi.add(ProgressBar::new(s.resources.len() as u64));
                bar.set_style(style.clone());
                bar.set_prefix(s.name.clone());
                bar.set_message("waiting");
                map.insert(s.name.clone(), bar);
            }
            *guard = Some(Bars {
                multi,
                overall,
                stages: map,
            });
            return;
        }
        let Some(b) = guard.as_mut() else { return };
        match &e.event {
            DeploymentEvent::StageStarted { stage, .. } => {
                if let Some(bar) = b.stages.get(stage) {
                    bar.set_message("deploying");
                }
            }
            DeploymentEvent::ResourceStarted {
                stage,
                resource_name,
                ..
            } => {
                if let Some(bar) = b.stages.get(stage) {
                    bar.set_message(resource_name.clone());
                }
            }
            DeploymentEvent::ResourceSucceeded { stage, .. } => {
                if let Some(bar) = b.stages.get(stage) {
                    bar.inc(1);
                }
            }
            DeploymentEvent::ResourceFailed {
                stage,
                resource_id,
                error,
                ..
            } => {
                let _ = b.multi.println(failure(
                    &format!("{stage}: {} FAILED", self.short(resource_id)),
                    error,
                ));
            }
            DeploymentEvent::StageSucceeded {
                stage,
                elapsed_secs,
                ..
            } => {
                if let Some(bar) = b.stages.get(stage) {
                    bar.finish_with_message(format!("done in {}", human(*elapsed_secs)));
                }
            }
            DeploymentEvent::StageFailed { stage, .. } => {
                if let Some(bar) = b.stages.get(stage) {
                    bar.abandon_with_message("FAILED");
                }
            }
            DeploymentEvent::StageCanceled { stage, .. } => {
                if let Some(bar) = b.stages.get(stage) {
                    bar.abandon_with_message("cancelled");
                }
            }
            DeploymentEvent::Progress {
                done,
                total,
                eta_secs,
                ..
            } => {
                b.overall.set_length(u64::from(*total));
                b.overall.set_position(u64::from(*done));
                b.overall
                    .set_message(format!("about {} left", human(*eta_secs)));
            }
            DeploymentEvent::Notice { message, .. } => {
                let _ = b.multi.println(format!("note: {message}"));
            }
            DeploymentEvent::RunFinished {
                outcome,
                elapsed_secs,
                ..
            } => {
                b.overall
                    .finish_with_message(format!("{outcome:?} after {}", human(*elapsed_secs)));
                for bar in b.stages.values() {
                    if !bar.is_finished() {
                        bar.abandon();
                    }
                }
            }
            _ => {}
        }
    }
}

impl EventSink for Printer {
    fn publish(&self, e: &EventEnvelope) {
        if let DeploymentEvent::RunStarted { stages, .. } = &e.event
            && let Ok(mut names) = self.names.lock()
        {
            for s in stages {
                for r in &s.resources {
                    names.insert(r.resource_id.to_ascii_lowercase(), r.resource_name.clone());
                }
            }
        }
        match self.mode {
            Mode::Json => {
                if let Ok(line) = serde_json::to_string(e) {
                    let mut out = std::io::stdout().lock();
                    let _ = writeln!(out, "{line}");
                    let _ = out.flush();
                }
            }
            Mode::Plain => self.plain(e),
            Mode::Bars => self.bars(e),
        }
    }
}

/// A failure with its Azure code, message and fix.
fn failure(head: &str, error: &landfall_azure::ErrorReport) -> String {
    let mut s = format!("{head}: {}", error.message);
    if let Some(d) = &error.details
        && let Some(root) = d.root_causes().first()
        && !root.code.is_empty()
    {
        s.push_str(&format!(" [{}]", root.code));
    }
    if let Some(r) = &error.remediation {
        s.push_str(&format!("\n    fix: {}", r.message));
        if let Some(link) = &r.link {
            s.push_str(&format!(" ({link})"));
        }
    }
    s
}

/// `1h 2m`, `3m 4s`, `5s`.
pub fn human(secs: f64) -> String {
    let s = secs.max(0.0).round() as u64;
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m {}s", s / 60, s % 60),
        _ => format!("{}h {}m", s / 3600, (s % 3600) / 60),
    }
}
