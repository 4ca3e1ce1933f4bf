//! What a run tells its watchers: [`DeploymentEvent`]s, numbered by the journal in an
//! [`EventEnvelope`]. The CLI's `--json` stream, the desktop's channel and the journal all carry
//! exactly this, serialised as `{"seq": N, "event": "<camelCase name>", "data": {...}}`.
//!
//! Timestamps are RFC 3339 UTC; durations are seconds. Secrets never appear: stage outputs of
//! type secureString/secureObject are dropped before an event is built.

use landfall_azure::ErrorReport;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use time::OffsetDateTime;

/// A journal-assigned sequence number and its event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct EventEnvelope {
    /// Strictly increasing within a run, from 1.
    pub seq: u64,
    /// The event.
    #[serde(flatten)]
    pub event: DeploymentEvent,
}

/// What a run is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub enum RunKind {
    /// A first install.
    Install,
    /// Changed inputs applied to a deployed instance.
    Update,
    /// A failed run tried again from its failed stages.
    Retry,
    /// The instance's resource group deleted.
    Teardown,
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    /// Every stage succeeded.
    Succeeded,
    /// A stage failed; the run can be retried.
    Failed,
    /// Cancelled in Azure.
    Canceled,
    /// The watcher stopped; the deployments go on in Azure and `resume` re-attaches.
    Detached,
}

/// A resource a stage will create, as the offline plan knows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct PlannedItem {
    /// Full resource ID (as far as known offline).
    pub resource_id: String,
    /// `Microsoft.Storage/storageAccounts`.
    pub resource_type: String,
    /// The resource's name.
    pub resource_name: String,
    /// Seconds it usually takes (history, or the type's default).
    pub expected_secs: f64,
}

/// A stage as announced when the run starts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct StageSummary {
    /// Machine name.
    pub name: String,
    /// Shown to people.
    pub label: String,
    /// The stages it waits for.
    pub depends_on: Vec<String>,
    /// The deployment's name in Azure.
    pub deployment_name: String,
    /// What it will create.
    pub resources: Vec<PlannedItem>,
    /// Seconds the stage usually takes (its critical path).
    pub expected_secs: f64,
}

/// One thing that happened in a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "event", content = "data", rename_all = "camelCase")]
pub enum DeploymentEvent {
    /// Always first.
    #[serde(rename_all = "camelCase")]
    RunStarted {
        /// The run.
        run_id: String,
        /// The instance's name.
        instance: String,
        /// What the run does.
        kind: RunKind,
        /// Subscription ID.
        subscription_id: String,
        /// Resource group.
        resource_group: String,
        /// Region.
        location: String,
        /// The stages, with what each creates.
        stages: Vec<StageSummary>,
        /// Seconds the whole run is expected to take.
        expected_secs: f64,
        /// When.
        #[cfg_attr(feature = "ts", ts(type = "string"))]
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// The instance's resource group exists with the instance tags.
    #[serde(rename_all = "camelCase")]
    ResourceGroupReady {
        /// Its ID.
        resource_group_id: String,
        /// When.
        #[cfg_attr(feature = "ts", ts(type = "string"))]
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// A stage's deployment was submitted (or found running on resume).
    #[serde(rename_all = "camelCase")]
    StageStarted {
        /// Stage name.
        stage: String,
        /// The deployment's name in Azure.
        deployment_name: String,
        /// The deployment's correlation ID, for Azure support.
        correlation_id: Option<String>,
        /// True when a resumed run found the deployment already in Azure.
        reattached: bool,
        /// When.
        #[cfg_attr(feature = "ts", ts(type = "string"))]
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// A resource's operation started.
    #[serde(rename_all = "camelCase")]
    ResourceStarted {
        /// Stage name.
        stage: String,
        /// Full resource ID.
        resource_id: String,
        /// Resource type.
        resource_type: String,
        /// Resource name.
        resource_name: String,
        /// Seconds it usually takes.
        expected_secs: f64,
        /// When the operation started (Azure's timestamp when it gave one).
        #[cfg_attr(feature = "ts", ts(type = "string"))]
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// A resource's provisioning state changed without finishing.
    #[serde(rename_all = "camelCase")]
    ResourceProgress {
        /// Stage name.
        stage: String,
        /// Full resource ID.
        resource_id: String,
        /// Azure's provisioning state (`Creating`, `Updating`...).
        provisioning_state: String,
        /// When.
        #[cfg_attr(feature = "ts", ts(type = "string"))]
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// A resource's operation succeeded.
    #[serde(rename_all = "camelCase")]
    ResourceSucceeded {
        /// Stage name.
        stage: String,
        /// Full resource ID.
        resource_id: String,
        /// Seconds from its start.
        elapsed_secs: f64,
        /// When.
        #[cfg_attr(feature = "ts", ts(type = "string"))]
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// A resource's operation failed: sent as soon as the operation fails.
    #[serde(rename_all = "camelCase")]
    ResourceFailed {
        /// Stage name.
        stage: String,
        /// Full resource ID.
        resource_id: String,
        /// Resource type.
        resource_type: String,
        /// What failed, the Azure error tree, and what to do.
        error: ErrorReport,
        /// When.
        #[cfg_attr(feature = "ts", ts(type = "string"))]
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// A stage's deployment succeeded.
    #[serde(rename_all = "camelCase")]
    StageSucceeded {
        /// Stage name.
        stage: String,
        /// Its outputs (secure outputs left out).
        outputs: Json,
        /// Seconds from its start.
        elapsed_secs: f64,
        /// When.
        #[cfg_attr(feature = "ts", ts(type = "string"))]
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// A stage's deployment failed (or could not be submitted).
    #[serde(rename_all = "camelCase")]
    StageFailed {
        /// Stage name.
        stage: String,
        /// What failed.
        error: ErrorReport,
        /// When.
        #[cfg_attr(feature = "ts", ts(type = "string"))]
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// A stage's deployment was cancelled in Azure.
    #[serde(rename_all = "camelCase")]
    StageCanceled {
        /// Stage name.
        stage: String,
        /// When.
        #[cfg_attr(feature = "ts", ts(type = "string"))]
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// The whole run's progress, after every change.
    #[serde(rename_all = "camelCase")]
    Progress {
        /// Resources finished (succeeded or failed).
        done: u32,
        /// Resources in the run.
        total: u32,
        /// Seconds since the run started.
        elapsed_secs: f64,
        /// Seconds still expected.
        eta_secs: f64,
    },
    /// Something worth a line in the log that changes no state (a retry, a slow-down).
    #[serde(rename_all = "camelCase")]
    Notice {
        /// In plain words.
        message: String,
        /// When.
        #[cfg_attr(feature = "ts", ts(type = "string"))]
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// Always last.
    #[serde(rename_all = "camelCase")]
    RunFinished {
        /// How it ended.
        outcome: Outcome,
        /// The instance's outputs when it succeeded.
        outputs: Json,
        /// What stopped it, when it did not succeed.
        error: Option<ErrorReport>,
        /// Seconds since the run started.
        elapsed_secs: f64,
        /// When.
        #[cfg_attr(feature = "ts", ts(type = "string"))]
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

impl DeploymentEvent {
    /// The event's wire name (`resourceStarted`).
    pub fn name(&self) -> &'static str {
        match self {
            Self::RunStarted { .. } => "runStarted",
            Self::ResourceGroupReady { .. } => "resourceGroupReady",
            Self::StageStarted { .. } => "stageStarted",
            Self::ResourceStarted { .. } => "resourceStarted",
            Self::ResourceProgress { .. } => "resourceProgress",
            Self::ResourceSucceeded { .. } => "resourceSucceeded",
            Self::ResourceFailed { .. } => "resourceFailed",
            Self::StageSucceeded { .. } => "stageSucceeded",
            Self::StageFailed { .. } => "stageFailed",
            Self::StageCanceled { .. } => "stageCanceled",
            Self::Progress { .. } => "progress",
            Self::Notice { .. } => "notice",
            Self::RunFinished { .. } => "runFinished",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_is_seq_event_data() {
        let e = EventEnvelope {
            seq: 7,
            event: DeploymentEvent::Notice {
                message: "slowing down".into(),
                at: OffsetDateTime::UNIX_EPOCH,
            },
        };
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["seq"], 7);
        assert_eq!(json["event"], "notice");
        assert_eq!(json["data"]["message"], "slowing down");
        assert_eq!(json["data"]["at"], "1970-01-01T00:00:00Z");
        let back: EventEnvelope = serde_json::from_value(json).unwrap();
        assert_eq!(back, e);
        assert_eq!(e.event.name(), "notice");
    }
}
