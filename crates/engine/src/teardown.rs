//! Teardown: deletes an instance's resource group as a journaled run, then optionally purges
//! the instance's soft-deleted Key Vaults.
//!
//! The group is only touched when it carries the tag `landfall-instance` with the instance's
//! name: a group without it is refused before anything is written. The run is a
//! [`RunKind::Teardown`] run like any other: recorded in the journal, every event written there
//! before it is published, one stage (`teardown`) whose resources are what the group held.
//! While Azure deletes the group, the run lists what is left in it now and then and reports
//! each resource gone. Resources are announced with `resourceProgress` (`Deleting`) rather
//! than `resourceStarted`, so deletion times never enter the journal's creation-duration
//! history. When the group is gone, the instance is `Deleted` and its kept secret inputs leave
//! the secret store.

use std::collections::BTreeSet;

use landfall_azure::arm::{Arm, GenericResource};
use landfall_azure::{CancelToken, Error as AzureError, ErrorReport, PollStep};
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};
use time::OffsetDateTime;

use crate::deploy::remediation::with_remediation;
use crate::deploy::{EventSink, RunResult, new_run_id};
use crate::error::EngineError;
use crate::events::{DeploymentEvent, EventEnvelope, Outcome, PlannedItem, RunKind, StageSummary};
use crate::installer::Installer;
use crate::journal::{InstanceRecord, InstanceState, RunRecord, RunState, host_name};
use crate::manifest::InputType;
use crate::render::TAG_INSTANCE;

/// The one stage of a teardown run.
pub const TEARDOWN_STAGE: &str = "teardown";

/// Seconds a resource group deletion usually takes at speed 1 (AKS dominates).
const EXPECTED_DELETE_SECS: f64 = 300.0;

/// What is left in the group is listed every this many polls of the delete.
const LIST_EVERY_POLLS: u32 = 3;

/// The resource type of a Key Vault.
const VAULT_TYPE: &str = "Microsoft.KeyVault/vaults";

/// An instance to tear down that the journal does not know (found in the subscription).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TeardownTarget {
    /// The instance's name (the group must carry it in `landfall-instance`).
    pub instance: String,
    /// Subscription ID.
    pub subscription_id: String,
    /// Resource group.
    pub resource_group: String,
}

/// What happened to one of the instance's Key Vaults after the group was deleted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VaultPurge {
    /// The vault's name.
    pub name: String,
    /// `purged`, `purgeProtected`, `notDeleted` (not among the soft-deleted vaults) or
    /// `failed`.
    pub result: String,
    /// In plain words.
    pub message: String,
}

/// Deletes the resource group of the journal's instance `instance`; with `purge`, purges its
/// soft-deleted Key Vaults afterwards. Answers the teardown run's ID and how it ended.
pub async fn teardown(
    installer: &Installer,
    instance: &str,
    purge: bool,
    sink: &dyn EventSink,
    stop: CancelToken,
) -> Result<(String, RunResult), EngineError> {
    let record = installer.journal().instance(instance)?.ok_or_else(|| {
        EngineError::NotFound(format!(
            "this machine has no instance named '{instance}'; list the subscription's instances with discovery and name its subscription and resource group"
        ))
    })?;
    let target = TeardownTarget {
        instance: record.name.clone(),
        subscription_id: record.subscription_id.clone(),
        resource_group: record.resource_group.clone(),
    };
    run(installer, &target, Some(record), purge, sink, stop).await
}

/// As [`teardown`], for an instance the journal does not know; it is recorded from now on.
pub async fn teardown_target(
    installer: &Installer,
    target: &TeardownTarget,
    purge: bool,
    sink: &dyn EventSink,
    stop: CancelToken,
) -> Result<(String, RunResult), EngineError> {
    let record = installer.journal().instances()?.into_iter().find(|i| {
        i.name == target.instance
            && i.subscription_id
                .eq_ignore_ascii_case(&target.subscription_id)
            && i.resource_group
                .eq_ignore_ascii_case(&target.resource_group)
    });
    run(installer, target, record, purge, sink, stop).await
}

async fn run(
    installer: &Installer,
    target: &TeardownTarget,
    record: Option<InstanceRecord>,
    purge: bool,
    sink: &dyn EventSink,
    stop: CancelToken,
) -> Result<(String, RunResult), EngineError> {
    let arm = Arm::new(installer.client());
    let journal = installer.journal();
    let sub = &target.subscription_id;
    let name = &target.instance;
    let group = match arm.get_resource_group(sub, &target.resource_group).await {
        Ok(g) => g,
        Err(AzureError::Http { status: 404, .. }) => {
            return Err(EngineError::NotFound(format!(
                "the resource group '{}' of instance '{name}' does not exist in subscription {sub}; there is nothing to delete",
                target.resource_group
            )));
        }
        Err(e) => return Err(e.into()),
    };
    let tagged = group.tags.get(TAG_INSTANCE).and_then(Json::as_str);
    if tagged != Some(name.as_str()) {
        let found = match tagged {
            Some(other) => format!("its tag '{TAG_INSTANCE}' is '{other}'"),
            None => format!("it has no tag '{TAG_INSTANCE}'"),
        };
        return Err(EngineError::Refused(format!(
            "the resource group '{}' is not instance '{name}''s: {found}; Landfall only deletes groups tagged '{TAG_INSTANCE}={name}'",
            target.resource_group
        )));
    }
    if let Some(last) = journal.latest_run(name)?
        && last.state == RunState::Running
        && last
            .watcher
            .as_ref()
            .is_some_and(|w| w.is_live(installer.now()))
    {
        return Err(EngineError::Refused(format!(
            "run {} of instance '{name}' is still being watched; wait for it or stop it before deleting the instance",
            last.run_id
        )));
    }
    let resources = arm
        .list_resources_in_group(sub, &target.resource_group)
        .await?;
    let vaults: Vec<String> = resources
        .iter()
        .filter(|r| r.kind.eq_ignore_ascii_case(VAULT_TYPE))
        .map(|r| r.name.clone())
        .collect();

    let run_id = new_run_id();
    let now = installer.now();
    let tenant_id = journal
        .latest_run(name)?
        .map(|r| r.tenant_id)
        .unwrap_or_default();
    let manifest_version = record
        .as_ref()
        .map(|r| r.manifest_version.clone())
        .or_else(|| {
            group
                .tags
                .get(crate::render::TAG_VERSION)
                .and_then(Json::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_default();
    let inputs = record
        .as_ref()
        .map(|r| r.inputs.clone())
        .unwrap_or_else(|| json!({}));
    journal.create_run(&RunRecord {
        run_id: run_id.clone(),
        instance: name.clone(),
        kind: RunKind::Teardown,
        state: RunState::Running,
        subscription_id: sub.clone(),
        tenant_id,
        resource_group: target.resource_group.clone(),
        location: group.location.clone(),
        manifest_version: manifest_version.clone(),
        preset: None,
        inputs: inputs.clone(),
        started_at: now,
        finished_at: None,
        watcher: None,
    })?;
    let mut instance = record.unwrap_or_else(|| InstanceRecord {
        name: name.clone(),
        subscription_id: sub.clone(),
        resource_group: target.resource_group.clone(),
        location: group.location.clone(),
        manifest_name: installer.bundle().manifest.name.clone(),
        manifest_version,
        state: InstanceState::TearingDown,
        inputs,
        outputs: Json::Null,
        last_run_id: None,
        created_at: now,
        updated_at: now,
    });
    set_instance(
        installer,
        &mut instance,
        &run_id,
        InstanceState::TearingDown,
    )?;

    let pid = std::process::id();
    let host = host_name();
    journal.claim(&run_id, pid, &host, now)?;
    let teardown = Teardown {
        installer,
        sink,
        run_id: &run_id,
        instance: name,
        subscription_id: sub,
        resource_group: &target.resource_group,
        pid,
        host: &host,
    };
    let result = teardown
        .drive(&group.location, &resources, &vaults, purge, stop)
        .await;
    let _ = journal.release(&run_id, pid, &host);
    let result = result?;
    let state = match result.outcome {
        Outcome::Succeeded => InstanceState::Deleted,
        Outcome::Detached => InstanceState::TearingDown,
        Outcome::Failed | Outcome::Canceled => InstanceState::Failed,
    };
    set_instance(installer, &mut instance, &run_id, state)?;
    if result.outcome == Outcome::Succeeded {
        forget_secrets(installer, sub, name);
    }
    Ok((run_id, result))
}

fn set_instance(
    installer: &Installer,
    instance: &mut InstanceRecord,
    run_id: &str,
    state: InstanceState,
) -> Result<(), EngineError> {
    instance.state = state;
    instance.last_run_id = Some(run_id.to_owned());
    instance.updated_at = installer.now();
    installer.journal().upsert_instance(instance)?;
    Ok(())
}

/// Removes the instance's kept secret inputs; a keyring that fails here leaves a secret
/// behind for a deleted instance, which is not worth failing a finished teardown for.
fn forget_secrets(installer: &Installer, subscription_id: &str, instance: &str) {
    for input in installer
        .bundle()
        .manifest
        .inputs
        .iter()
        .filter(|i| i.kind == InputType::Secret)
    {
        let key = Installer::secret_key(subscription_id, instance, &input.name);
        if let Err(e) = installer.secrets.delete(&installer.secret_service, &key) {
            tracing::warn!(input = %input.name, "could not remove a kept secret input: {e}");
        }
    }
}

/// One teardown run being driven.
struct Teardown<'a> {
    installer: &'a Installer,
    sink: &'a dyn EventSink,
    run_id: &'a str,
    instance: &'a str,
    subscription_id: &'a str,
    resource_group: &'a str,
    pid: u32,
    host: &'a str,
}

impl Teardown<'_> {
    fn now(&self) -> OffsetDateTime {
        self.installer.now()
    }

    /// Writes `event` to the journal, then publishes it.
    fn emit(&self, event: DeploymentEvent) -> Result<EventEnvelope, EngineError> {
        let envelope = self.installer.journal().append(self.run_id, &event)?;
        self.sink.publish(&envelope);
        Ok(envelope)
    }

    fn notice(&self, message: String) -> Result<(), EngineError> {
        self.emit(DeploymentEvent::Notice {
            message,
            at: self.now(),
        })
        .map(|_| ())
    }

    async fn drive(
        &self,
        location: &str,
        resources: &[GenericResource],
        vaults: &[String],
        purge: bool,
        stop: CancelToken,
    ) -> Result<RunResult, EngineError> {
        let started = self.now();
        let expected = EXPECTED_DELETE_SECS * self.installer.duration_scale;
        let planned: Vec<PlannedItem> = resources
            .iter()
            .map(|r| PlannedItem {
                resource_id: r.id.clone(),
                resource_type: r.kind.clone(),
                resource_name: r.name.clone(),
                expected_secs: expected,
            })
            .collect();
        self.emit(DeploymentEvent::RunStarted {
            run_id: self.run_id.to_owned(),
            instance: self.instance.to_owned(),
            kind: RunKind::Teardown,
            subscription_id: self.subscription_id.to_owned(),
            resource_group: self.resource_group.to_owned(),
            location: location.to_owned(),
            stages: vec![StageSummary {
                name: TEARDOWN_STAGE.into(),
                label: format!("Delete resource group {}", self.resource_group),
                depends_on: Vec::new(),
                deployment_name: String::new(),
                resources: planned,
                expected_secs: expected,
            }],
            expected_secs: expected,
            at: started,
        })?;
        let total = u32::try_from(resources.len()).unwrap_or(u32::MAX);
        let arm = Arm::new(self.installer.client());
        let mut poller = match arm
            .begin_delete_resource_group(self.subscription_id, self.resource_group)
            .await
        {
            Ok(p) => p.with_cancel(stop.clone()),
            Err(e) => return self.failed(started, with_remediation(e.report())),
        };
        self.emit(DeploymentEvent::StageStarted {
            stage: TEARDOWN_STAGE.into(),
            deployment_name: String::new(),
            correlation_id: None,
            reattached: false,
            at: self.now(),
        })?;
        for r in resources {
            self.emit(DeploymentEvent::ResourceProgress {
                stage: TEARDOWN_STAGE.into(),
                resource_id: r.id.clone(),
                provisioning_state: "Deleting".into(),
                at: self.now(),
            })?;
        }
        let mut remaining: BTreeSet<String> = resources
            .iter()
            .map(|r| r.id.to_ascii_lowercase())
            .collect();
        let mut status = String::new();
        loop {
            let step = poller.poll().await;
            let _ =
                self.installer
                    .journal()
                    .heartbeat(self.run_id, self.pid, self.host, self.now());
            match step {
                Ok(PollStep::Done(_)) => break,
                Ok(PollStep::InProgress(s)) => {
                    if s != status {
                        self.notice(format!(
                            "Azure reports the deletion of resource group {} as {s}.",
                            self.resource_group
                        ))?;
                        status = s;
                    }
                    if poller.polls() % LIST_EVERY_POLLS == 0 {
                        self.report_gone(&arm, resources, &mut remaining, started)
                            .await?;
                    }
                    self.progress(started, total, &remaining, expected)?;
                }
                Err(AzureError::Canceled { .. }) => {
                    self.notice(format!(
                        "Stopped watching: Azure goes on deleting resource group {}.",
                        self.resource_group
                    ))?;
                    return self.finish(started, Outcome::Detached, Json::Null, None);
                }
                Err(e) => return self.failed(started, with_remediation(e.report())),
            }
        }
        let now = self.now();
        for r in resources {
            if remaining.remove(&r.id.to_ascii_lowercase()) {
                self.gone(r, started, now)?;
            }
        }
        self.progress(started, total, &remaining, expected)?;
        self.emit(DeploymentEvent::StageSucceeded {
            stage: TEARDOWN_STAGE.into(),
            outputs: Json::Null,
            elapsed_secs: secs(started, now),
            at: now,
        })?;
        let purges = if purge {
            self.purge_vaults(&arm, vaults, stop).await?
        } else {
            Vec::new()
        };
        let outputs = json!({
            "deletedResourceGroup": self.resource_group,
            "vaults": vaults,
            "purges": purges,
        });
        self.finish(started, Outcome::Succeeded, outputs, None)
    }

    /// Lists what is left in the group and reports every resource no longer there.
    async fn report_gone(
        &self,
        arm: &Arm<'_>,
        resources: &[GenericResource],
        remaining: &mut BTreeSet<String>,
        started: OffsetDateTime,
    ) -> Result<(), EngineError> {
        // A failed listing only delays the per-resource view; the delete's own status decides.
        let Ok(left) = arm
            .list_resources_in_group(self.subscription_id, self.resource_group)
            .await
        else {
            return Ok(());
        };
        let left: BTreeSet<String> = left.iter().map(|r| r.id.to_ascii_lowercase()).collect();
        let now = self.now();
        for r in resources {
            let id = r.id.to_ascii_lowercase();
            if !left.contains(&id) && remaining.remove(&id) {
                self.gone(r, started, now)?;
            }
        }
        Ok(())
    }

    fn gone(
        &self,
        r: &GenericResource,
        started: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<(), EngineError> {
        self.emit(DeploymentEvent::ResourceSucceeded {
            stage: TEARDOWN_STAGE.into(),
            resource_id: r.id.clone(),
            elapsed_secs: secs(started, now),
            at: now,
        })
        .map(|_| ())
    }

    fn progress(
        &self,
        started: OffsetDateTime,
        total: u32,
        remaining: &BTreeSet<String>,
        expected: f64,
    ) -> Result<(), EngineError> {
        let elapsed = secs(started, self.now());
        let left = u32::try_from(remaining.len()).unwrap_or(u32::MAX);
        self.emit(DeploymentEvent::Progress {
            done: total.saturating_sub(left),
            total,
            elapsed_secs: elapsed,
            eta_secs: if left == 0 {
                0.0
            } else {
                (expected - elapsed).max(0.0)
            },
        })
        .map(|_| ())
    }

    /// Purges each of the instance's vaults that Azure holds soft-deleted; one vault failing
    /// is reported and the others are still purged.
    async fn purge_vaults(
        &self,
        arm: &Arm<'_>,
        vaults: &[String],
        stop: CancelToken,
    ) -> Result<Vec<VaultPurge>, EngineError> {
        if vaults.is_empty() {
            return Ok(Vec::new());
        }
        let deleted = match arm.list_deleted_vaults(self.subscription_id).await {
            Ok(d) => d,
            Err(e) => {
                let message = format!(
                    "Could not list the soft-deleted Key Vaults to purge {}: {}",
                    vaults.join(", "),
                    e.report().message
                );
                self.notice(message.clone())?;
                return Ok(vaults
                    .iter()
                    .map(|v| VaultPurge {
                        name: v.clone(),
                        result: "failed".into(),
                        message: message.clone(),
                    })
                    .collect());
            }
        };
        let mut out = Vec::new();
        for name in vaults {
            let found = deleted.iter().find(|d| d.name.eq_ignore_ascii_case(name));
            let (result, message) = match found {
                None => (
                    "notDeleted",
                    format!(
                        "Key Vault {name} is not among the subscription's soft-deleted vaults (soft delete off, or already purged): nothing to purge."
                    ),
                ),
                Some(d) if d.purge_protected() => (
                    "purgeProtected",
                    format!(
                        "Key Vault {name} has purge protection: Azure keeps it until its scheduled purge date and its name stays taken until then."
                    ),
                ),
                Some(d) => {
                    let location = d.location().unwrap_or_default().to_owned();
                    let outcome = match arm
                        .begin_purge_deleted_vault(self.subscription_id, &location, &d.name)
                        .await
                    {
                        Ok(p) => p.with_cancel(stop.clone()).wait().await.map(|_| ()),
                        Err(e) => Err(e),
                    };
                    match outcome {
                        Ok(()) => (
                            "purged",
                            format!("Purged the soft-deleted Key Vault {name}."),
                        ),
                        Err(e) => (
                            "failed",
                            format!(
                                "Could not purge the soft-deleted Key Vault {name}: {}",
                                e.report().message
                            ),
                        ),
                    }
                }
            };
            self.notice(message.clone())?;
            out.push(VaultPurge {
                name: name.clone(),
                result: result.into(),
                message,
            });
        }
        Ok(out)
    }

    fn failed(
        &self,
        started: OffsetDateTime,
        report: ErrorReport,
    ) -> Result<RunResult, EngineError> {
        self.emit(DeploymentEvent::StageFailed {
            stage: TEARDOWN_STAGE.into(),
            error: report.clone(),
            at: self.now(),
        })?;
        self.finish(started, Outcome::Failed, Json::Null, Some(report))
    }

    fn finish(
        &self,
        started: OffsetDateTime,
        outcome: Outcome,
        outputs: Json,
        error: Option<ErrorReport>,
    ) -> Result<RunResult, EngineError> {
        let now = self.now();
        self.emit(DeploymentEvent::RunFinished {
            outcome,
            outputs: outputs.clone(),
            error: error.clone(),
            elapsed_secs: secs(started, now),
            at: now,
        })?;
        Ok(RunResult {
            outcome,
            outputs,
            error,
        })
    }
}

fn secs(from: OffsetDateTime, to: OffsetDateTime) -> f64 {
    (to - from).as_seconds_f64().max(0.0)
}
