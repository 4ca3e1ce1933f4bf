//! A run's state folded from its events: what the deploy screen draws and what the desktop's
//! `deployment_snapshot` command returns after a reload.
//!
//! [`RunSnapshot`] is a pure fold: [`RunSnapshot::from_events`] over a run's journal gives the
//! same value as [`RunSnapshot::apply`] called once per event as they arrive, and an event whose
//! `seq` was already applied is ignored, so a watcher can re-read the journal and re-deliver
//! events without counting anything twice.
//!
//! Times come only from the events (there is no clock here): the elapsed time of a stage or
//! resource still running is measured up to [`RunSnapshot::as_of`], the latest event time seen;
//! a live view extends it with its own clock from `startedAt`.

use std::collections::HashMap;

use landfall_azure::ErrorReport;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use time::{OffsetDateTime, SignedDuration};

use crate::events::{DeploymentEvent, EventEnvelope, Outcome, RunKind, StageSummary};

/// The most recent notices a snapshot keeps; older ones stay in the journal.
pub const MAX_NOTICES: usize = 100;

/// Where a run deploys, as its `runStarted` event says.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct RunTarget {
    /// Subscription ID.
    pub subscription_id: String,
    /// Resource group.
    pub resource_group: String,
    /// Region.
    pub location: String,
}

/// Where a stage is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub enum StageState {
    /// Not submitted yet.
    #[default]
    Pending,
    /// Its deployment is running in Azure.
    Running,
    /// Its deployment succeeded.
    Succeeded,
    /// Its deployment failed or could not be submitted.
    Failed,
    /// Its deployment was cancelled in Azure.
    Canceled,
}

impl StageState {
    /// The stored and wire spelling (`running`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Canceled => "canceled",
        }
    }

    /// Reads [`StageState::as_str`]'s spelling back.
    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::Running,
            Self::Succeeded,
            Self::Failed,
            Self::Canceled,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// Where a resource is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub enum ResourceState {
    /// Planned, its operation not started.
    #[default]
    Pending,
    /// Its operation is running.
    Running,
    /// Its operation succeeded.
    Succeeded,
    /// Its operation failed.
    Failed,
}

/// One resource of a stage.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct ResourceSnapshot {
    /// Full resource ID.
    pub resource_id: String,
    /// Resource type (`Microsoft.Storage/storageAccounts`).
    pub resource_type: String,
    /// Resource name.
    pub resource_name: String,
    /// True when the offline plan announced it; false when it appeared only in operations.
    pub planned: bool,
    /// Where it is.
    pub state: ResourceState,
    /// When its operation started.
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub started_at: Option<OffsetDateTime>,
    /// When its operation ended.
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
    /// Seconds from its start to its end, or to [`RunSnapshot::as_of`] while it runs.
    pub elapsed_secs: Option<f64>,
    /// Seconds it usually takes.
    pub expected_secs: f64,
    /// Azure's last provisioning state (`Creating`...), when one was reported.
    pub provisioning_state: Option<String>,
    /// What failed, when it failed.
    pub error: Option<ErrorReport>,
}

/// One stage of a run and its resources.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct StageSnapshot {
    /// Machine name.
    pub name: String,
    /// Shown to people.
    pub label: String,
    /// The stages it waits for.
    pub depends_on: Vec<String>,
    /// The deployment's name in Azure.
    pub deployment_name: String,
    /// The deployment's correlation ID, once submitted.
    pub correlation_id: Option<String>,
    /// True when a resumed run found the deployment already in Azure.
    pub reattached: bool,
    /// Where it is.
    pub state: StageState,
    /// When its deployment was submitted.
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub started_at: Option<OffsetDateTime>,
    /// When its deployment ended.
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
    /// Seconds from its start to its end, or to [`RunSnapshot::as_of`] while it runs.
    pub elapsed_secs: Option<f64>,
    /// Seconds it usually takes (its critical path).
    pub expected_secs: f64,
    /// Its outputs once it succeeded (secure outputs never reach events).
    pub outputs: Json,
    /// What failed, when it failed.
    pub error: Option<ErrorReport>,
    /// Its resources: planned ones first, in plan order, then the ones operations revealed.
    pub resources: Vec<ResourceSnapshot>,
    #[serde(skip)]
    index: ResourceIndex,
}

/// Positions in [`StageSnapshot::resources`] by lower-cased resource ID, so folding an install
/// of hundreds of resources stays linear. Derived from the resources, hence always "equal".
#[derive(Clone, Debug, Default)]
struct ResourceIndex(HashMap<String, usize>);

impl PartialEq for ResourceIndex {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// The whole run's progress.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct RunProgress {
    /// Resources finished (succeeded or failed).
    pub done: u32,
    /// Resources in the run.
    pub total: u32,
    /// Seconds since the run started.
    pub elapsed_secs: f64,
    /// Seconds still expected.
    pub eta_secs: f64,
}

/// A notice, kept for the log pane.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct NoticeEntry {
    /// The event's sequence number.
    pub seq: u64,
    /// In plain words.
    pub message: String,
    /// When.
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// A run's state, folded from its events.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct RunSnapshot {
    /// The run (empty until `runStarted`).
    pub run_id: String,
    /// The instance's name.
    pub instance: String,
    /// What the run does (unknown until `runStarted`).
    pub kind: Option<RunKind>,
    /// Where it deploys.
    pub target: RunTarget,
    /// The resource group's ID once it is ready.
    pub resource_group_id: Option<String>,
    /// When the run started.
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub started_at: Option<OffsetDateTime>,
    /// When it finished.
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
    /// The latest event time seen: what running elapsed times are measured to.
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub as_of: Option<OffsetDateTime>,
    /// Seconds the whole run is expected to take.
    pub expected_secs: f64,
    /// The stages, in the order the run announced them.
    pub stages: Vec<StageSnapshot>,
    /// Overall progress: the tracker's latest `progress` event, or counted from the resources
    /// before the first one.
    pub progress: RunProgress,
    /// How it ended; `None` while it runs.
    pub outcome: Option<Outcome>,
    /// The instance's outputs when it succeeded.
    pub outputs: Json,
    /// What stopped it, when it did not succeed.
    pub error: Option<ErrorReport>,
    /// The last sequence number applied.
    pub last_seq: u64,
    /// The latest notices (at most [`MAX_NOTICES`]), oldest first.
    pub notices: Vec<NoticeEntry>,
    /// Whether a `progress` event was seen (then `progress` is the tracker's, not counted).
    #[serde(skip)]
    tracker_progress: bool,
}

impl RunSnapshot {
    /// Folds a run's events, in `seq` order whatever order they are given in; repeated
    /// sequence numbers count once.
    pub fn from_events(events: &[EventEnvelope]) -> Self {
        let mut ordered: Vec<&EventEnvelope> = events.iter().collect();
        ordered.sort_by_key(|e| e.seq);
        let mut snapshot = Self::default();
        for envelope in ordered {
            snapshot.take(envelope);
        }
        // What `apply` recomputes after every event depends only on the state reached, so
        // once at the end gives the same snapshot.
        snapshot.refresh();
        snapshot
    }

    /// Applies one event; returns false (and changes nothing) when its `seq` is not after
    /// [`RunSnapshot::last_seq`].
    pub fn apply(&mut self, envelope: &EventEnvelope) -> bool {
        let taken = self.take(envelope);
        if taken {
            self.refresh();
        }
        taken
    }

    /// Folds one event in, without [`RunSnapshot::refresh`].
    fn take(&mut self, envelope: &EventEnvelope) -> bool {
        if envelope.seq <= self.last_seq {
            return false;
        }
        self.last_seq = envelope.seq;
        let event = &envelope.event;
        if let Some(at) = event_time(event) {
            self.as_of = Some(self.as_of.map_or(at, |seen| seen.max(at)));
        }
        if self.outcome == Some(Outcome::Detached)
            && !matches!(event, DeploymentEvent::RunFinished { .. })
        {
            // A detached run that gets events again was resumed: it is running once more.
            self.outcome = None;
            self.finished_at = None;
            self.error = None;
        }
        self.fold(envelope.seq, event);
        true
    }

    fn fold(&mut self, seq: u64, event: &DeploymentEvent) {
        match event {
            DeploymentEvent::RunStarted {
                run_id,
                instance,
                kind,
                subscription_id,
                resource_group,
                location,
                stages,
                expected_secs,
                at,
            } => {
                self.run_id.clone_from(run_id);
                self.instance.clone_from(instance);
                self.kind = Some(*kind);
                self.target = RunTarget {
                    subscription_id: subscription_id.clone(),
                    resource_group: resource_group.clone(),
                    location: location.clone(),
                };
                self.expected_secs = *expected_secs;
                self.started_at = Some(*at);
                for summary in stages {
                    self.plan_stage(summary);
                }
            }
            DeploymentEvent::ResourceGroupReady {
                resource_group_id, ..
            } => self.resource_group_id = Some(resource_group_id.clone()),
            DeploymentEvent::StageStarted {
                stage,
                deployment_name,
                correlation_id,
                reattached,
                at,
            } => {
                let s = self.stage_mut(stage);
                s.deployment_name.clone_from(deployment_name);
                if correlation_id.is_some() {
                    s.correlation_id.clone_from(correlation_id);
                }
                s.reattached = *reattached;
                s.state = StageState::Running;
                // A reattached deployment started when it was first submitted, not now.
                if !*reattached || s.started_at.is_none() {
                    s.started_at = Some(*at);
                }
                s.finished_at = None;
                s.elapsed_secs = None;
                s.error = None;
            }
            DeploymentEvent::ResourceStarted {
                stage,
                resource_id,
                resource_type,
                resource_name,
                expected_secs,
                at,
            } => {
                let r = self.stage_mut(stage).resource_mut(resource_id);
                r.resource_type.clone_from(resource_type);
                r.resource_name.clone_from(resource_name);
                r.expected_secs = *expected_secs;
                r.state = ResourceState::Running;
                r.started_at = Some(*at);
                r.finished_at = None;
                r.elapsed_secs = None;
                r.error = None;
            }
            DeploymentEvent::ResourceProgress {
                stage,
                resource_id,
                provisioning_state,
                ..
            } => {
                let r = self.stage_mut(stage).resource_mut(resource_id);
                if r.state == ResourceState::Pending {
                    r.state = ResourceState::Running;
                }
                r.provisioning_state = Some(provisioning_state.clone());
            }
            DeploymentEvent::ResourceSucceeded {
                stage,
                resource_id,
                elapsed_secs,
                at,
            } => {
                let r = self.stage_mut(stage).resource_mut(resource_id);
                r.state = ResourceState::Succeeded;
                if r.started_at.is_none() {
                    r.started_at = start_from(*at, *elapsed_secs);
                }
                r.finished_at = Some(*at);
                r.elapsed_secs = Some(*elapsed_secs);
                r.provisioning_state = Some("Succeeded".into());
                r.error = None;
            }
            DeploymentEvent::ResourceFailed {
                stage,
                resource_id,
                resource_type,
                error,
                at,
            } => {
                let r = self.stage_mut(stage).resource_mut(resource_id);
                if r.resource_type.is_empty() {
                    r.resource_type.clone_from(resource_type);
                }
                r.state = ResourceState::Failed;
                r.finished_at = Some(*at);
                r.elapsed_secs = r.started_at.map(|start| secs_between(start, *at));
                r.provisioning_state = Some("Failed".into());
                r.error = Some(error.clone());
            }
            DeploymentEvent::StageSucceeded {
                stage,
                outputs,
                elapsed_secs,
                at,
            } => {
                let s = self.stage_mut(stage);
                s.state = StageState::Succeeded;
                if s.started_at.is_none() {
                    s.started_at = start_from(*at, *elapsed_secs);
                }
                s.finished_at = Some(*at);
                s.elapsed_secs = Some(*elapsed_secs);
                s.outputs = outputs.clone();
                s.error = None;
            }
            DeploymentEvent::StageFailed { stage, error, at } => {
                let s = self.stage_mut(stage);
                s.state = StageState::Failed;
                s.finished_at = Some(*at);
                s.elapsed_secs = s.started_at.map(|start| secs_between(start, *at));
                s.error = Some(error.clone());
            }
            DeploymentEvent::StageCanceled { stage, at } => {
                let s = self.stage_mut(stage);
                s.state = StageState::Canceled;
                s.finished_at = Some(*at);
                s.elapsed_secs = s.started_at.map(|start| secs_between(start, *at));
                s.error = None;
            }
            DeploymentEvent::Progress {
                done,
                total,
                elapsed_secs,
                eta_secs,
            } => {
                self.tracker_progress = true;
                self.progress = RunProgress {
                    done: *done,
                    total: *total,
                    elapsed_secs: *elapsed_secs,
                    eta_secs: *eta_secs,
                };
            }
            DeploymentEvent::Notice { message, at } => {
                self.notices.push(NoticeEntry {
                    seq,
                    message: message.clone(),
                    at: *at,
                });
                if self.notices.len() > MAX_NOTICES {
                    let excess = self.notices.len() - MAX_NOTICES;
                    self.notices.drain(..excess);
                }
            }
            DeploymentEvent::RunFinished {
                outcome,
                outputs,
                error,
                elapsed_secs,
                at,
            } => {
                // Counted progress is frozen at the finish: count it as it stands now.
                self.refresh();
                self.outcome = Some(*outcome);
                self.outputs = outputs.clone();
                self.error.clone_from(error);
                self.finished_at = Some(*at);
                self.progress.elapsed_secs = *elapsed_secs;
                self.progress.eta_secs = 0.0;
            }
        }
    }

    /// Adds a stage announced by `runStarted`, or fills in one already seen.
    fn plan_stage(&mut self, summary: &StageSummary) {
        let s = self.stage_mut(&summary.name);
        s.label.clone_from(&summary.label);
        s.depends_on.clone_from(&summary.depends_on);
        if s.deployment_name.is_empty() {
            s.deployment_name.clone_from(&summary.deployment_name);
        }
        s.expected_secs = summary.expected_secs;
        for item in &summary.resources {
            let r = s.resource_mut(&item.resource_id);
            r.planned = true;
            if r.resource_type.is_empty() {
                r.resource_type.clone_from(&item.resource_type);
            }
            if r.resource_name.is_empty() {
                r.resource_name.clone_from(&item.resource_name);
            }
            if r.state == ResourceState::Pending {
                r.expected_secs = item.expected_secs;
            }
        }
    }

    /// The stage of that name, added at the end when the run never announced it.
    fn stage_mut(&mut self, name: &str) -> &mut StageSnapshot {
        let index = match self.stages.iter().position(|s| s.name == name) {
            Some(index) => index,
            None => {
                self.stages.push(StageSnapshot {
                    name: name.to_owned(),
                    label: name.to_owned(),
                    ..StageSnapshot::default()
                });
                self.stages.len() - 1
            }
        };
        &mut self.stages[index]
    }

    /// Recomputes what depends on the latest event time: running elapsed times, and the
    /// progress counted from the resources until the tracker reports its own.
    fn refresh(&mut self) {
        let as_of = self.as_of;
        let mut done = 0u32;
        let mut total = 0u32;
        for stage in &mut self.stages {
            if stage.state == StageState::Running {
                stage.elapsed_secs = running_elapsed(stage.started_at, as_of);
            }
            for r in &mut stage.resources {
                total = total.saturating_add(1);
                match r.state {
                    ResourceState::Running => r.elapsed_secs = running_elapsed(r.started_at, as_of),
                    ResourceState::Succeeded | ResourceState::Failed => {
                        done = done.saturating_add(1);
                    }
                    ResourceState::Pending => {}
                }
            }
        }
        if self.outcome.is_some() || self.tracker_progress {
            return;
        }
        let elapsed = running_elapsed(self.started_at, as_of).unwrap_or(0.0);
        self.progress = RunProgress {
            done,
            total,
            elapsed_secs: elapsed,
            eta_secs: (self.expected_secs - elapsed).max(0.0),
        };
    }

    /// The stage of that name, if the run has it.
    pub fn stage(&self, name: &str) -> Option<&StageSnapshot> {
        self.stages.iter().find(|s| s.name == name)
    }

    /// True once the run finished in any way but [`Outcome::Detached`].
    pub fn is_finished(&self) -> bool {
        self.outcome.is_some_and(|o| o != Outcome::Detached)
    }
}

impl StageSnapshot {
    /// The resource with that ID (compared as Azure does, ignoring ASCII case).
    pub fn resource(&self, resource_id: &str) -> Option<&ResourceSnapshot> {
        if self.index.0.len() == self.resources.len() {
            let at = *self.index.0.get(&resource_id.to_ascii_lowercase())?;
            return self.resources.get(at);
        }
        self.resources
            .iter()
            .find(|r| r.resource_id.eq_ignore_ascii_case(resource_id))
    }

    /// The resource with that ID, added (unplanned, its type and name read from the ID) when
    /// the stage does not have it yet.
    fn resource_mut(&mut self, resource_id: &str) -> &mut ResourceSnapshot {
        if self.index.0.len() != self.resources.len() {
            // A deserialised snapshot comes without its index.
            self.index.0 = self
                .resources
                .iter()
                .enumerate()
                .map(|(i, r)| (r.resource_id.to_ascii_lowercase(), i))
                .collect();
        }
        let key = resource_id.to_ascii_lowercase();
        let at = match self.index.0.get(&key) {
            Some(&at) => at,
            None => {
                let (resource_type, resource_name) = type_and_name(resource_id);
                self.resources.push(ResourceSnapshot {
                    resource_id: resource_id.to_owned(),
                    resource_type,
                    resource_name,
                    ..ResourceSnapshot::default()
                });
                self.index.0.insert(key, self.resources.len() - 1);
                self.resources.len() - 1
            }
        };
        &mut self.resources[at]
    }
}

/// When an event happened, for the events that say.
pub(crate) fn event_time(event: &DeploymentEvent) -> Option<OffsetDateTime> {
    match event {
        DeploymentEvent::RunStarted { at, .. }
        | DeploymentEvent::ResourceGroupReady { at, .. }
        | DeploymentEvent::StageStarted { at, .. }
        | DeploymentEvent::ResourceStarted { at, .. }
        | DeploymentEvent::ResourceProgress { at, .. }
        | DeploymentEvent::ResourceSucceeded { at, .. }
        | DeploymentEvent::ResourceFailed { at, .. }
        | DeploymentEvent::StageSucceeded { at, .. }
        | DeploymentEvent::StageFailed { at, .. }
        | DeploymentEvent::StageCanceled { at, .. }
        | DeploymentEvent::Notice { at, .. }
        | DeploymentEvent::RunFinished { at, .. } => Some(*at),
        DeploymentEvent::Progress { .. } => None,
    }
}

fn secs_between(start: OffsetDateTime, end: OffsetDateTime) -> f64 {
    (end - start).as_seconds_f64().max(0.0)
}

/// When something that ended at `end` after `elapsed` seconds started; `None` for an elapsed
/// time no date can hold.
pub(crate) fn start_from(end: OffsetDateTime, elapsed: f64) -> Option<OffsetDateTime> {
    end.checked_sub(SignedDuration::checked_seconds_f64(elapsed)?)
}

fn running_elapsed(start: Option<OffsetDateTime>, as_of: Option<OffsetDateTime>) -> Option<f64> {
    Some(secs_between(start?, as_of?))
}

/// A resource's type and name from its ID:
/// `.../providers/Microsoft.Network/virtualNetworks/vnet/subnets/data` gives
/// (`Microsoft.Network/virtualNetworks/subnets`, `vnet/data`).
fn type_and_name(resource_id: &str) -> (String, String) {
    let lower = resource_id.to_ascii_lowercase();
    let Some(at) = lower.rfind("/providers/") else {
        let name = resource_id
            .rsplit('/')
            .find(|s| !s.is_empty())
            .unwrap_or("");
        return (String::new(), name.to_owned());
    };
    let mut parts = resource_id[at + "/providers/".len()..]
        .split('/')
        .filter(|s| !s.is_empty());
    let Some(namespace) = parts.next() else {
        return (String::new(), String::new());
    };
    let mut types = vec![namespace];
    let mut names = Vec::new();
    while let (Some(kind), Some(name)) = (parts.next(), parts.next()) {
        types.push(kind);
        names.push(name);
    }
    (types.join("/"), names.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::PlannedItem;
    use landfall_azure::ErrorCode;

    const STORAGE_ID: &str = concat!(
        "/subscriptions/sub/resourceGroups/rg-acme/providers/",
        "Microsoft.Storage/storageAccounts/acmest"
    );

    fn at(secs: i64) -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + SignedDuration::seconds(1_700_000_000 + secs)
    }

    fn env(seq: u64, event: DeploymentEvent) -> EventEnvelope {
        EventEnvelope { seq, event }
    }

    fn started() -> DeploymentEvent {
        DeploymentEvent::RunStarted {
            run_id: "r1".into(),
            instance: "acme".into(),
            kind: RunKind::Install,
            subscription_id: "sub".into(),
            resource_group: "rg-acme".into(),
            location: "westeurope".into(),
            stages: vec![StageSummary {
                name: "data".into(),
                label: "Data".into(),
                depends_on: vec![],
                deployment_name: "acme-data".into(),
                resources: vec![PlannedItem {
                    resource_id: STORAGE_ID.into(),
                    resource_type: "Microsoft.Storage/storageAccounts".into(),
                    resource_name: "acmest".into(),
                    expected_secs: 30.0,
                }],
                expected_secs: 30.0,
            }],
            expected_secs: 60.0,
            at: at(0),
        }
    }

    #[test]
    fn type_and_name_read_nested_ids() {
        assert_eq!(
            type_and_name(concat!(
                "/subscriptions/s/resourceGroups/rg/providers/",
                "Microsoft.Network/virtualNetworks/vnet/subnets/data"
            )),
            (
                "Microsoft.Network/virtualNetworks/subnets".into(),
                "vnet/data".into()
            )
        );
        assert_eq!(
            type_and_name("/subscriptions/s/resourceGroups/rg"),
            (String::new(), "rg".into())
        );
    }

    #[test]
    fn operation_ids_match_planned_ids_ignoring_case() {
        let mut s = RunSnapshot::default();
        s.apply(&env(1, started()));
        s.apply(&env(
            2,
            DeploymentEvent::ResourceStarted {
                stage: "data".into(),
                resource_id: STORAGE_ID.to_uppercase(),
                resource_type: "Microsoft.Storage/storageAccounts".into(),
                resource_name: "acmest".into(),
                expected_secs: 25.0,
                at: at(5),
            },
        ));
        let stage = s.stage("data").unwrap();
        assert_eq!(stage.resources.len(), 1);
        assert_eq!(stage.resources[0].state, ResourceState::Running);
        assert!(stage.resources[0].planned);
        assert_eq!(stage.resources[0].expected_secs, 25.0);
    }

    #[test]
    fn progress_is_counted_until_the_tracker_reports_it() {
        let mut s = RunSnapshot::default();
        s.apply(&env(1, started()));
        s.apply(&env(
            2,
            DeploymentEvent::Notice {
                message: "slow".into(),
                at: at(20),
            },
        ));
        assert_eq!(
            s.progress,
            RunProgress {
                done: 0,
                total: 1,
                elapsed_secs: 20.0,
                eta_secs: 40.0
            }
        );
        s.apply(&env(
            3,
            DeploymentEvent::Progress {
                done: 1,
                total: 3,
                elapsed_secs: 21.0,
                eta_secs: 50.0,
            },
        ));
        s.apply(&env(
            4,
            DeploymentEvent::Notice {
                message: "slower".into(),
                at: at(30),
            },
        ));
        assert_eq!(s.progress.total, 3);
        assert_eq!(s.progress.eta_secs, 50.0);
    }

    #[test]
    fn a_detached_run_that_gets_events_again_is_running() {
        let mut s = RunSnapshot::default();
        s.apply(&env(1, started()));
        s.apply(&env(
            2,
            DeploymentEvent::RunFinished {
                outcome: Outcome::Detached,
                outputs: Json::Null,
                error: Some(ErrorReport {
                    code: ErrorCode::Canceled,
                    message: "stopped watching".into(),
                    details: None,
                    remediation: None,
                    retry_after_seconds: None,
                    correlation_id: None,
                }),
                elapsed_secs: 10.0,
                at: at(10),
            },
        ));
        assert_eq!(s.outcome, Some(Outcome::Detached));
        assert!(!s.is_finished());
        s.apply(&env(
            3,
            DeploymentEvent::StageStarted {
                stage: "data".into(),
                deployment_name: "acme-data".into(),
                correlation_id: None,
                reattached: true,
                at: at(100),
            },
        ));
        assert_eq!(s.outcome, None);
        assert_eq!(s.error, None);
        assert_eq!(s.finished_at, None);
        assert_eq!(s.stage("data").unwrap().state, StageState::Running);
    }

    #[test]
    fn notices_are_capped() {
        let mut s = RunSnapshot::default();
        for seq in 1..=(MAX_NOTICES as u64 + 5) {
            s.apply(&env(
                seq,
                DeploymentEvent::Notice {
                    message: format!("n{seq}"),
                    at: at(seq as i64),
                },
            ));
        }
        assert_eq!(s.notices.len(), MAX_NOTICES);
        assert_eq!(s.notices[0].seq, 6);
    }

    #[test]
    fn stage_state_spelling_round_trips() {
        for s in [
            StageState::Pending,
            StageState::Running,
            StageState::Succeeded,
            StageState::Failed,
            StageState::Canceled,
        ] {
            assert_eq!(StageState::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert_eq!(StageState::parse("Running"), None);
    }
}
