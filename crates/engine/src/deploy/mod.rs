//! Runs: install, retry, update and resume of an instance, stage by stage.
//!
//! A run is described by a [`RunSpec`] (the stages, their templates, their deployment names,
//! what each will create) and a [`StageRenderer`] that turns finished stages' outputs into the
//! next stage's parameters. [`Runner::drive`] then loops: submit every stage whose
//! dependencies succeeded (recording its deployment name in the journal *before* the PUT, so a
//! process that dies right after can find it again), poll the running ones through the
//! [`tracker`], and turn what changed into events, each written to the journal before it is
//! published. A stage that already succeeded, in this run or in the run being resumed or
//! retried, is never submitted again.
//!
//! Waiting goes through the ARM client's timer (fake in tests); stopping is a
//! [`CancelToken`]: the run ends `Detached` and the deployments go on in Azure.

pub mod durations;
pub mod remediation;
pub mod schedule;
pub mod tracker;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use indexmap::IndexMap;
use landfall_azure::arm::{Arm, Deployment, DeploymentScope};

/// The tag on each stage deployment naming the run that sent it.
pub const TAG_RUN: &str = "landfall-run";
use landfall_azure::{ArmClient, ArmErrorDetail, CancelToken, Error as AzureError, ErrorReport};
use serde_json::{Value as Json, json};
use time::OffsetDateTime;

use crate::error::EngineError;
use crate::events::{DeploymentEvent, EventEnvelope, Outcome, PlannedItem, RunKind, StageSummary};
use crate::journal::{Journal, StageRecord};
use crate::snapshot::StageState;
use durations::Durations;
use remediation::with_remediation;
use schedule::{StageProgress, eta_secs};
use tracker::{Tracker, secs_between};

/// Where published events go (after the journal has them).
pub trait EventSink: Send + Sync {
    /// Called once per event, in sequence order.
    fn publish(&self, event: &EventEnvelope);
}

impl<F: Fn(&EventEnvelope) + Send + Sync> EventSink for F {
    fn publish(&self, event: &EventEnvelope) {
        self(event)
    }
}

/// Renders a stage's ARM parameters (`{"name": {"value": v}}`) from the outputs of the stages
/// that finished (stage -> outputs object, name -> value).
pub trait StageRenderer: Send + Sync {
    /// The parameters of `stage`.
    fn parameters(
        &self,
        stage: &str,
        outputs: &IndexMap<String, Json>,
    ) -> Result<Json, EngineError>;
    /// The instance's outputs once every stage is done.
    fn instance_outputs(&self, outputs: &IndexMap<String, Json>) -> Json;
}

/// One stage of a run.
#[derive(Clone, Debug)]
pub struct StageSpec {
    /// Machine name.
    pub name: String,
    /// Shown to people.
    pub label: String,
    /// Stages it waits for.
    pub depends_on: Vec<String>,
    /// The deployment's name in Azure (stable per instance and stage).
    pub deployment_name: String,
    /// The template, as sent to Azure.
    pub template: Json,
    /// What it will create.
    pub planned: Vec<PlannedItem>,
    /// Seconds it is expected to take.
    pub expected_secs: f64,
}

/// Everything a run needs besides parameters.
#[derive(Clone, Debug)]
pub struct RunSpec {
    /// The run's ID.
    pub run_id: String,
    /// The instance's name.
    pub instance: String,
    /// What the run does.
    pub kind: RunKind,
    /// Subscription ID.
    pub subscription_id: String,
    /// Resource group.
    pub resource_group: String,
    /// Region.
    pub location: String,
    /// The tags on the group and every deployment.
    pub tags: Json,
    /// Stages, in manifest order.
    pub stages: Vec<StageSpec>,
}

impl RunSpec {
    /// Seconds the whole run is expected to take from scratch.
    pub fn expected_secs(&self) -> f64 {
        eta_secs(&self.progress_table(&HashMap::new()))
    }

    fn progress_table(
        &self,
        progress: &HashMap<String, StageProgress>,
    ) -> Vec<(String, Vec<String>, f64, StageProgress)> {
        self.stages
            .iter()
            .map(|s| {
                (
                    s.name.clone(),
                    s.depends_on.clone(),
                    s.expected_secs,
                    progress
                        .get(&s.name)
                        .copied()
                        .unwrap_or(StageProgress::Pending),
                )
            })
            .collect()
    }

    /// The `stages` part of `runStarted`.
    pub fn summaries(&self) -> Vec<StageSummary> {
        self.stages
            .iter()
            .map(|s| StageSummary {
                name: s.name.clone(),
                label: s.label.clone(),
                depends_on: s.depends_on.clone(),
                deployment_name: s.deployment_name.clone(),
                resources: s.planned.clone(),
                expected_secs: s.expected_secs,
            })
            .collect()
    }
}

/// How a runner waits.
#[derive(Clone, Debug)]
pub struct RunnerOptions {
    /// Time between polls of a running stage.
    pub poll_interval: Duration,
    /// A stage's deployment is read (GET) at least every this many polls even while its
    /// operations are still running (operations alone can miss a deployment-level failure).
    pub deployment_read_every: u32,
    /// At most this many stages run at once (0: as many as the stage graph allows). 1 deploys
    /// the stages one after another, as the shell scripts Landfall replaces did.
    pub max_parallel_stages: usize,
}

impl Default for RunnerOptions {
    fn default() -> Self {
        RunnerOptions {
            poll_interval: Duration::from_secs(2),
            deployment_read_every: 5,
            max_parallel_stages: 0,
        }
    }
}

/// Where a stage is in this run's loop.
#[derive(Clone, Debug, PartialEq)]
enum Lane {
    Pending,
    Running { started: OffsetDateTime, polls: u32 },
    Succeeded(Json),
    Failed,
    Canceled,
}

/// Drives one run to its end.
pub struct Runner<'a> {
    client: &'a ArmClient,
    journal: &'a Journal,
    sink: &'a dyn EventSink,
    renderer: &'a dyn StageRenderer,
    spec: &'a RunSpec,
    options: RunnerOptions,
    durations: Durations,
    stop: CancelToken,
}

/// How a run ended, with its instance outputs.
#[derive(Clone, Debug, PartialEq)]
pub struct RunResult {
    /// The outcome.
    pub outcome: Outcome,
    /// The instance's outputs (empty unless it succeeded).
    pub outputs: Json,
    /// The first error, when it failed.
    pub error: Option<ErrorReport>,
}

impl<'a> Runner<'a> {
    /// A runner for `spec`.
    pub fn new(
        client: &'a ArmClient,
        journal: &'a Journal,
        sink: &'a dyn EventSink,
        renderer: &'a dyn StageRenderer,
        spec: &'a RunSpec,
    ) -> Self {
        Runner {
            client,
            journal,
            sink,
            renderer,
            spec,
            options: RunnerOptions::default(),
            durations: Durations::defaults(),
            stop: CancelToken::new(),
        }
    }

    /// Sets how it waits.
    pub fn options(mut self, options: RunnerOptions) -> Self {
        self.options = options;
        self
    }

    /// Sets the expected durations.
    pub fn durations(mut self, durations: Durations) -> Self {
        self.durations = durations;
        self
    }

    /// Stops watching when `stop` is cancelled (the run ends `Detached`).
    pub fn stop_token(mut self, stop: CancelToken) -> Self {
        self.stop = stop;
        self
    }

    fn scope(&self) -> DeploymentScope {
        DeploymentScope::group(&self.spec.subscription_id, &self.spec.resource_group)
    }

    fn now(&self) -> OffsetDateTime {
        self.client.timer().now()
    }

    /// Writes `event` to the journal, then publishes it.
    fn emit(&self, event: DeploymentEvent) -> Result<EventEnvelope, EngineError> {
        let envelope = self.journal.append(&self.spec.run_id, &event)?;
        self.sink.publish(&envelope);
        Ok(envelope)
    }

    /// Starts the run: `runStarted`, then everything until the end. `carried` holds stages
    /// that already succeeded in an earlier run (retry, update of unchanged stages): their
    /// outputs are used and they are not submitted.
    pub async fn start(&self, carried: IndexMap<String, Json>) -> Result<RunResult, EngineError> {
        let started = self.now();
        self.emit(DeploymentEvent::RunStarted {
            run_id: self.spec.run_id.clone(),
            instance: self.spec.instance.clone(),
            kind: self.spec.kind,
            subscription_id: self.spec.subscription_id.clone(),
            resource_group: self.spec.resource_group.clone(),
            location: self.spec.location.clone(),
            stages: self.spec.summaries(),
            expected_secs: self.spec.expected_secs(),
            at: started,
        })?;
        let arm = Arm::new(self.client);
        let group = match arm
            .create_or_update_resource_group(
                &self.spec.subscription_id,
                &self.spec.resource_group,
                &self.spec.location,
                Some(&self.spec.tags),
            )
            .await
        {
            Ok(g) => g,
            Err(e) => {
                let report = with_remediation(e.report());
                return self.finish(started, Outcome::Failed, Json::Null, Some(report));
            }
        };
        self.emit(DeploymentEvent::ResourceGroupReady {
            resource_group_id: group.id,
            at: self.now(),
        })?;
        let mut states: BTreeMap<String, Lane> = BTreeMap::new();
        for stage in &self.spec.stages {
            let state = match carried.get(&stage.name) {
                Some(outputs) => {
                    self.emit(DeploymentEvent::StageSucceeded {
                        stage: stage.name.clone(),
                        outputs: outputs.clone(),
                        elapsed_secs: 0.0,
                        at: self.now(),
                    })?;
                    Lane::Succeeded(outputs.clone())
                }
                None => Lane::Pending,
            };
            states.insert(stage.name.clone(), state);
        }
        self.run_loop(started, states, HashMap::new(), 0).await
    }

    /// Re-attaches to a run whose watcher died: reads each stage's deployment in Azure and
    /// carries on from there. Stages the journal has as succeeded are not read again.
    pub async fn resume(&self, run_started: OffsetDateTime) -> Result<RunResult, EngineError> {
        let records: HashMap<String, StageRecord> = self
            .journal
            .stages(&self.spec.run_id)?
            .into_iter()
            .map(|r| (r.stage.clone(), r))
            .collect();
        let arm = Arm::new(self.client);
        let mut states = BTreeMap::new();
        let mut trackers = HashMap::new();
        let reported: Vec<DeploymentEvent> = self
            .journal
            .events(&self.spec.run_id, 0)?
            .into_iter()
            .map(|e| e.event)
            .collect();
        self.emit(DeploymentEvent::Notice {
            message: "Re-attached to the run: reading its deployments in Azure.".into(),
            at: self.now(),
        })?;
        let group_ready = reported
            .iter()
            .any(|e| matches!(e, DeploymentEvent::ResourceGroupReady { .. }));
        if !group_ready {
            // The watcher died before the resource group was written (or confirmed): write
            // it now, as the run's start would have; it is idempotent.
            match arm
                .create_or_update_resource_group(
                    &self.spec.subscription_id,
                    &self.spec.resource_group,
                    &self.spec.location,
                    Some(&self.spec.tags),
                )
                .await
            {
                Ok(group) => {
                    self.emit(DeploymentEvent::ResourceGroupReady {
                        resource_group_id: group.id,
                        at: self.now(),
                    })?;
                }
                Err(e) => {
                    let report = with_remediation(e.report());
                    return self.finish(run_started, Outcome::Failed, Json::Null, Some(report));
                }
            }
        }
        for stage in &self.spec.stages {
            let record = records.get(&stage.name);
            let state = match record.map(|r| r.state) {
                Some(StageState::Succeeded) => {
                    Lane::Succeeded(record.map(|r| r.outputs.clone()).unwrap_or(Json::Null))
                }
                Some(StageState::Failed) => Lane::Failed,
                Some(StageState::Canceled) => Lane::Canceled,
                None | Some(StageState::Pending) => Lane::Pending,
                Some(StageState::Running) => {
                    // Submitted (or about to be): Azure knows whether the PUT arrived.
                    match arm
                        .get_deployment(&self.scope(), &stage.deployment_name)
                        .await
                    {
                        Ok(d) => {
                            let started = record
                                .and_then(|r| r.started_at)
                                .unwrap_or_else(|| self.now());
                            self.emit(DeploymentEvent::StageStarted {
                                stage: stage.name.clone(),
                                deployment_name: stage.deployment_name.clone(),
                                correlation_id: d.properties.correlation_id.clone(),
                                reattached: true,
                                at: self.now(),
                            })?;
                            // What the dead watcher already reported is not reported again.
                            let mut tracker = Tracker::new(&stage.name);
                            tracker.seed(&reported);
                            trackers.insert(stage.name.clone(), tracker);
                            Lane::Running { started, polls: 0 }
                        }
                        Err(AzureError::Http { status: 404, .. }) => Lane::Pending,
                        Err(e) => return Err(e.into()),
                    }
                }
            };
            states.insert(stage.name.clone(), state);
        }
        let finished_before = reported
            .iter()
            .filter(|e| {
                matches!(
                    e,
                    DeploymentEvent::ResourceSucceeded { stage, .. }
                        | DeploymentEvent::ResourceFailed { stage, .. }
                        if matches!(states.get(stage), Some(Lane::Running { .. }))
                )
            })
            .count() as u32;
        self.run_loop(run_started, states, trackers, finished_before)
            .await
    }

    async fn run_loop(
        &self,
        run_started: OffsetDateTime,
        mut states: BTreeMap<String, Lane>,
        mut trackers: HashMap<String, Tracker>,
        finished_before: u32,
    ) -> Result<RunResult, EngineError> {
        let arm = Arm::new(self.client);
        let mut first_error: Option<ErrorReport> = None;
        let mut resources_done: u32 = finished_before;
        let total: u32 = self
            .spec
            .stages
            .iter()
            .map(|s| s.planned.len() as u32)
            .sum();
        // Stages carried over or already finished count as done.
        for s in &self.spec.stages {
            if matches!(states.get(&s.name), Some(Lane::Succeeded(_))) {
                resources_done += s.planned.len() as u32;
            }
        }
        loop {
            // Submit what is ready, unless something failed: a failed run stops starting work.
            if first_error.is_none() {
                for stage in &self.spec.stages {
                    if states.get(&stage.name) != Some(&Lane::Pending) {
                        continue;
                    }
                    let running = states
                        .values()
                        .filter(|s| matches!(s, Lane::Running { .. }))
                        .count();
                    if self.options.max_parallel_stages > 0
                        && running >= self.options.max_parallel_stages
                    {
                        break;
                    }
                    let ready = stage
                        .depends_on
                        .iter()
                        .all(|d| matches!(states.get(d), Some(Lane::Succeeded(_))));
                    if !ready {
                        continue;
                    }
                    let outputs = succeeded_outputs(&states);
                    match self.submit(&arm, stage, &outputs).await {
                        Ok(()) => {
                            trackers.insert(stage.name.clone(), Tracker::new(&stage.name));
                            states.insert(
                                stage.name.clone(),
                                Lane::Running {
                                    started: self.now(),
                                    polls: 0,
                                },
                            );
                        }
                        Err(report) => {
                            self.stage_failed(&stage.name, report.clone())?;
                            first_error.get_or_insert(report);
                            states.insert(stage.name.clone(), Lane::Failed);
                        }
                    }
                }
            }
            let running: Vec<String> = states
                .iter()
                .filter(|(_, s)| matches!(s, Lane::Running { .. }))
                .map(|(n, _)| n.clone())
                .collect();
            if running.is_empty() {
                break;
            }
            tokio::select! {
                _ = self.client.timer().sleep(self.options.poll_interval) => {}
                _ = self.stop.cancelled() => {
                    return self.finish(run_started, Outcome::Detached, Json::Null, None);
                }
            }
            let mut changed = false;
            for name in running {
                let Some(stage) = self.spec.stages.iter().find(|s| s.name == name) else {
                    continue;
                };
                let (started, polls) = match states.get(&name) {
                    Some(Lane::Running { started, polls }) => (*started, *polls),
                    _ => continue,
                };
                let tracker = trackers
                    .entry(name.clone())
                    .or_insert_with(|| Tracker::new(&name));
                let ops = match arm
                    .list_deployment_operations_nested(&self.scope(), &stage.deployment_name)
                    .await
                {
                    Ok(ops) => ops,
                    // A deployment that has not created its operation list yet.
                    Err(AzureError::Http { status: 404, .. }) => Vec::new(),
                    Err(e) => {
                        self.notice(format!(
                            "Could not read the operations of stage '{name}' ({}); trying again.",
                            e.report().message
                        ))?;
                        continue;
                    }
                };
                let events = tracker.observe(&ops, &self.durations, self.now());
                changed |= self.publish_resources(events, &mut resources_done, &mut first_error)?;
                let read_now = tracker.running() == 0
                    || tracker.any_failed()
                    || polls % self.options.deployment_read_every.max(1) == 0;
                let mut next = Lane::Running {
                    started,
                    polls: polls + 1,
                };
                if read_now {
                    match arm
                        .get_deployment(&self.scope(), &stage.deployment_name)
                        .await
                    {
                        Ok(d) => {
                            if landfall_azure::poll::is_terminal(&d.properties.provisioning_state) {
                                // The operations read above may predate the end (under retries
                                // the gap grows): read them once more so every resource is
                                // reported before its stage.
                                let events = self.final_operations(&arm, stage, tracker).await?;
                                changed |= self.publish_resources(
                                    events,
                                    &mut resources_done,
                                    &mut first_error,
                                )?;
                            }
                            if let Some(done) =
                                self.stage_end(stage, &d, started, &mut first_error)?
                            {
                                next = done;
                                changed = true;
                            }
                        }
                        Err(e) => {
                            self.notice(format!(
                                "Could not read the deployment of stage '{name}' ({}); trying again.",
                                e.report().message
                            ))?;
                        }
                    }
                }
                states.insert(name, next);
            }
            if changed {
                let progress: HashMap<String, StageProgress> = states
                    .iter()
                    .map(|(n, s)| {
                        let p = match s {
                            Lane::Pending => StageProgress::Pending,
                            Lane::Running { started, .. } => {
                                StageProgress::Running(secs_between(*started, self.now()))
                            }
                            _ => StageProgress::Done,
                        };
                        (n.clone(), p)
                    })
                    .collect();
                self.emit(DeploymentEvent::Progress {
                    done: resources_done.min(total.max(resources_done)),
                    total: total.max(resources_done),
                    elapsed_secs: secs_between(run_started, self.now()),
                    eta_secs: eta_secs(&self.spec.progress_table(&progress)),
                })?;
            }
        }
        let all_ok = states.values().all(|s| matches!(s, Lane::Succeeded(_)));
        if all_ok {
            let outputs = self.renderer.instance_outputs(&succeeded_outputs(&states));
            self.finish(run_started, Outcome::Succeeded, outputs, None)
        } else if states.values().any(|s| *s == Lane::Canceled)
            && !states.values().any(|s| *s == Lane::Failed)
        {
            self.finish(run_started, Outcome::Canceled, Json::Null, first_error)
        } else {
            let error = first_error.or_else(|| {
                Some(ErrorReport {
                    code: landfall_azure::ErrorCode::DeploymentFailed,
                    message: "A stage did not finish.".into(),
                    details: None,
                    remediation: None,
                    retry_after_seconds: None,
                    correlation_id: None,
                })
            });
            self.finish(run_started, Outcome::Failed, Json::Null, error)
        }
    }

    /// Records the deployment name, then PUTs the stage's deployment.
    async fn submit(
        &self,
        arm: &Arm<'_>,
        stage: &StageSpec,
        outputs: &IndexMap<String, Json>,
    ) -> Result<(), ErrorReport> {
        let parameters = self
            .renderer
            .parameters(&stage.name, outputs)
            .map_err(|e| {
                let p = e.problem();
                ErrorReport {
                    code: landfall_azure::ErrorCode::InvalidTemplate,
                    message: p.message,
                    details: None,
                    remediation: None,
                    retry_after_seconds: None,
                    correlation_id: None,
                }
            })?;
        let now = self.now();
        // Written before the PUT: a process killed between the two finds the name on resume
        // and asks Azure whether the deployment exists.
        self.journal
            .set_stage(&StageRecord {
                run_id: self.spec.run_id.clone(),
                stage: stage.name.clone(),
                deployment_name: stage.deployment_name.clone(),
                correlation_id: None,
                state: StageState::Running,
                started_at: Some(now),
                finished_at: None,
                outputs: Json::Null,
                error: None,
            })
            .map_err(|e| journal_report(&e.into()))?;
        let mut tags = self.spec.tags.clone();
        if let Some(t) = tags.as_object_mut() {
            t.insert(TAG_RUN.into(), Json::String(self.spec.run_id.clone()));
        }
        let body = json!({
            "properties": {
                "mode": "Incremental",
                "template": stage.template,
                "parameters": parameters,
            },
            "tags": tags,
        });
        self.put_stage(arm, stage, &body).await?;
        self.emit(DeploymentEvent::StageStarted {
            stage: stage.name.clone(),
            deployment_name: stage.deployment_name.clone(),
            correlation_id: Some(self.client.correlation_id().to_owned()),
            reattached: false,
            at: now,
        })
        .map_err(|e| journal_report(&e))?;
        Ok(())
    }

    /// Publishes a tracker's resource events, counting the resources that finished and
    /// keeping the run's first failure. Answers whether there was any.
    fn publish_resources(
        &self,
        events: Vec<DeploymentEvent>,
        done: &mut u32,
        first_error: &mut Option<ErrorReport>,
    ) -> Result<bool, EngineError> {
        let any = !events.is_empty();
        for event in events {
            match &event {
                DeploymentEvent::ResourceSucceeded { .. } => *done += 1,
                DeploymentEvent::ResourceFailed { error, .. } => {
                    *done += 1;
                    first_error.get_or_insert_with(|| error.clone());
                }
                _ => {}
            }
            self.emit(event)?;
        }
        Ok(any)
    }

    /// The resource events of a stage's last operations read, taken once its deployment has
    /// ended; a read that fails is tried again a few times (then the stage ends with what
    /// was seen, and a notice says so).
    async fn final_operations(
        &self,
        arm: &Arm<'_>,
        stage: &StageSpec,
        tracker: &mut Tracker,
    ) -> Result<Vec<DeploymentEvent>, EngineError> {
        const ATTEMPTS: u32 = 5;
        for attempt in 1..=ATTEMPTS {
            match arm
                .list_deployment_operations_nested(&self.scope(), &stage.deployment_name)
                .await
            {
                Ok(ops) => return Ok(tracker.observe(&ops, &self.durations, self.now())),
                Err(e) if attempt == ATTEMPTS => {
                    self.notice(format!(
                        "Could not read the last operations of stage '{}' ({}); some resources may show no final state.",
                        stage.name,
                        e.report().message
                    ))?;
                }
                Err(_) => self.client.timer().sleep(self.options.poll_interval).await,
            }
        }
        Ok(Vec::new())
    }

    /// PUTs a stage's deployment, once. A PUT whose answer was lost (a dropped connection, a
    /// 5xx) may still have been accepted, and sending it again while it runs would be refused
    /// (`DeploymentActive`): the deployment is read back instead, and it is this run's when
    /// it carries the run's tag. Otherwise the PUT is sent again, a few times, with backoff.
    async fn put_stage(
        &self,
        arm: &Arm<'_>,
        stage: &StageSpec,
        body: &Json,
    ) -> Result<(), ErrorReport> {
        const ATTEMPTS: u32 = 4;
        let scope = self.scope();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let error = match arm
                .begin_create_deployment(&scope, &stage.deployment_name, body)
                .await
            {
                Ok(_) => return Ok(()),
                Err(e) if e.is_ambiguous() && attempt < ATTEMPTS => e,
                Err(e) => return Err(with_remediation(e.report())),
            };
            match arm.get_deployment(&scope, &stage.deployment_name).await {
                Ok(d) if d.tags.get(TAG_RUN).and_then(Json::as_str) == Some(&self.spec.run_id) => {
                    tracing::info!(
                        "stage {}: the PUT's answer was lost ({error}); Azure has the deployment",
                        stage.name
                    );
                    return Ok(());
                }
                Ok(_) | Err(AzureError::Http { status: 404, .. }) => {
                    tracing::info!(
                        "stage {}: the PUT failed ({error}) and Azure has no deployment of this run; sending it again",
                        stage.name
                    );
                }
                Err(e) => return Err(with_remediation(e.report())),
            }
            self.client
                .timer()
                .sleep(Duration::from_secs(1 << attempt))
                .await;
        }
    }

    /// The stage's end, if its deployment reached a terminal state.
    fn stage_end(
        &self,
        stage: &StageSpec,
        d: &Deployment,
        started: OffsetDateTime,
        first_error: &mut Option<ErrorReport>,
    ) -> Result<Option<Lane>, EngineError> {
        let state = d.properties.provisioning_state.as_str();
        let at = self.now();
        if state.eq_ignore_ascii_case("Succeeded") {
            let outputs = public_outputs(&d.properties.outputs);
            self.emit(DeploymentEvent::StageSucceeded {
                stage: stage.name.clone(),
                outputs: outputs.clone(),
                elapsed_secs: secs_between(started, at),
                at,
            })?;
            Ok(Some(Lane::Succeeded(outputs)))
        } else if state.eq_ignore_ascii_case("Failed") {
            let detail = d
                .properties
                .error
                .clone()
                .unwrap_or_else(|| ArmErrorDetail {
                    code: "DeploymentFailed".into(),
                    message: format!("The deployment of stage '{}' failed.", stage.name),
                    ..ArmErrorDetail::default()
                });
            let report = remediation::operation_report(&d.id, "Failed", detail);
            self.stage_failed(&stage.name, report.clone())?;
            first_error.get_or_insert(report);
            Ok(Some(Lane::Failed))
        } else if state.eq_ignore_ascii_case("Canceled") {
            self.emit(DeploymentEvent::StageCanceled {
                stage: stage.name.clone(),
                at,
            })?;
            Ok(Some(Lane::Canceled))
        } else {
            Ok(None)
        }
    }

    fn stage_failed(&self, stage: &str, error: ErrorReport) -> Result<(), EngineError> {
        self.emit(DeploymentEvent::StageFailed {
            stage: stage.to_owned(),
            error,
            at: self.now(),
        })?;
        Ok(())
    }

    fn notice(&self, message: String) -> Result<(), EngineError> {
        self.emit(DeploymentEvent::Notice {
            message,
            at: self.now(),
        })?;
        Ok(())
    }

    fn finish(
        &self,
        run_started: OffsetDateTime,
        outcome: Outcome,
        outputs: Json,
        error: Option<ErrorReport>,
    ) -> Result<RunResult, EngineError> {
        self.emit(DeploymentEvent::RunFinished {
            outcome,
            outputs: outputs.clone(),
            error: error.clone(),
            elapsed_secs: secs_between(run_started, self.now()),
            at: self.now(),
        })?;
        Ok(RunResult {
            outcome,
            outputs,
            error,
        })
    }
}

fn journal_report(e: &EngineError) -> ErrorReport {
    ErrorReport {
        code: landfall_azure::ErrorCode::Unknown,
        message: e.to_string(),
        details: None,
        remediation: None,
        retry_after_seconds: None,
        correlation_id: None,
    }
}

/// Outputs of the stages that succeeded.
fn succeeded_outputs(states: &BTreeMap<String, Lane>) -> IndexMap<String, Json> {
    states
        .iter()
        .filter_map(|(n, s)| match s {
            Lane::Succeeded(o) => Some((n.clone(), o.clone())),
            _ => None,
        })
        .collect()
}

/// A deployment's outputs as name -> value, secure ones left out (Azure never returns their
/// values anyway).
pub fn public_outputs(outputs: &Json) -> Json {
    let mut out = serde_json::Map::new();
    if let Some(map) = outputs.as_object() {
        for (name, o) in map {
            let kind = o.get("type").and_then(Json::as_str).unwrap_or_default();
            if kind.to_ascii_lowercase().starts_with("secure") {
                continue;
            }
            out.insert(name.clone(), o.get("value").cloned().unwrap_or(Json::Null));
        }
    }
    Json::Object(out)
}

/// A new run ID.
pub fn new_run_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
