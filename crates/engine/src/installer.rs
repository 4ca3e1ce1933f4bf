//! The journey's engine-side steps over one template bundle: prepare (validate, plan, cost),
//! preflight, install, resume, retry, cancel, and the run snapshot. Fronts (CLI, desktop)
//! hold one [`Installer`] and call these; the steps themselves live in [`crate::inputs`],
//! [`crate::render`], [`crate::preflight`] and [`crate::deploy`].
//!
//! Secrets: secret inputs (the MySQL admin password) are kept in the [`SecretStore`] (the OS
//! keyring) per subscription, instance and input, so a resume, retry or update in another
//! process sends Azure the same value; the journal only ever sees redacted inputs.

use std::collections::BTreeSet;
use std::sync::Arc;

use indexmap::IndexMap;
use landfall_azure::Secret;
use landfall_azure::arm::{Arm, DeploymentScope};
use landfall_azure::auth::SecretStore;
use landfall_azure::{ArmClient, CancelToken};
use serde_json::{Value as Json, json};
use time::OffsetDateTime;

use crate::bundle::Bundle;
use crate::cost::{CostEstimate, estimate};
use crate::deploy::durations::Durations;
use crate::deploy::remediation;
use crate::deploy::schedule::{Node, critical_path};
use crate::deploy::{
    EventSink, RunResult, RunSpec, Runner, RunnerOptions, StageRenderer, StageSpec, new_run_id,
};
use crate::error::EngineError;
use crate::events::{PlannedItem, RunKind, StageSummary};
use crate::inputs::{InputValues, ValidInputs, validate};
use crate::journal::{Claim, InstanceRecord, InstanceState, Journal, RunRecord, RunState};
use crate::preflight::{
    FixAction, GlobalName, MySqlDemand, NameKind, PreflightReport, PreflightRequest, StageCheck,
    VmDemand, WhatIfGroup, group_what_if, preflight, purge_deleted_vault, register_providers,
};
use crate::render::{
    InstancePlan, instance_outputs, plan_instance, resource_group, stage_parameters,
};
use crate::snapshot::{RunSnapshot, StageState};
use crate::target::Target;
use landfall_azure::arm::WhatIfResponse;

/// The keyring service secrets are kept under.
pub const SECRET_SERVICE: &str = "landfall";

/// Azure's what-if for one stage of an update.
#[derive(Clone, Debug, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct StageWhatIf {
    /// The stage.
    pub stage: String,
    /// Counts in words (`1 to modify`).
    pub summary: Vec<String>,
    /// The changes by type.
    pub groups: Vec<WhatIfGroup>,
    /// Why what-if failed, when it did.
    pub error: Option<landfall_azure::ErrorReport>,
}

/// Validated inputs with their plan and cost: what the review screen shows.
#[derive(Clone, Debug)]
pub struct Prepared {
    /// The inputs.
    pub inputs: ValidInputs,
    /// Where it goes.
    pub target: Target,
    /// The resource group.
    pub resource_group: String,
    /// The offline plan.
    pub plan: InstancePlan,
    /// The monthly cost.
    pub cost: CostEstimate,
    /// The preset it started from.
    pub preset: Option<String>,
}

/// The engine over one bundle, one Azure client, one journal and one secret store.
#[derive(Clone)]
pub struct Installer {
    client: Arc<ArmClient>,
    journal: Arc<Journal>,
    bundle: Arc<Bundle>,
    pub(crate) secrets: Arc<dyn SecretStore>,
    pub(crate) secret_service: String,
    options: RunnerOptions,
    pub(crate) duration_scale: f64,
}

impl std::fmt::Debug for Installer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Installer")
            .field("bundle", &self.bundle.manifest.name)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Installer {
    /// An installer.
    pub fn new(
        client: Arc<ArmClient>,
        journal: Arc<Journal>,
        bundle: Arc<Bundle>,
        secrets: Arc<dyn SecretStore>,
    ) -> Self {
        Installer {
            client,
            journal,
            bundle,
            secrets,
            secret_service: SECRET_SERVICE.to_owned(),
            options: RunnerOptions::default(),
            duration_scale: 1.0,
        }
    }

    /// Scales typical resource durations (1 / the speed of a simulated Azure) for ETAs.
    pub fn duration_scale(mut self, factor: f64) -> Self {
        self.duration_scale = factor;
        self
    }

    /// Sets the keyring service secret inputs are kept under (tests use their own).
    pub fn secret_service(mut self, service: impl Into<String>) -> Self {
        self.secret_service = service.into();
        self
    }

    /// Sets how runs poll.
    pub fn runner_options(mut self, options: RunnerOptions) -> Self {
        self.options = options;
        self
    }

    /// The bundle.
    pub fn bundle(&self) -> &Bundle {
        &self.bundle
    }

    /// The journal.
    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// The ARM client.
    pub fn client(&self) -> &ArmClient {
        &self.client
    }

    pub(crate) fn secret_key(subscription: &str, instance: &str, input: &str) -> String {
        format!("instance/{subscription}/{instance}/{input}")
    }

    /// Validates `values` for `target`, then plans and costs the instance. Secret inputs not
    /// given reuse the value kept for this instance, or are generated.
    pub fn prepare(
        &self,
        values: &InputValues,
        target: &Target,
        preset: Option<&str>,
    ) -> Result<Prepared, EngineError> {
        let manifest = &self.bundle.manifest;
        let mut values = values.clone();
        if let Some(Json::String(instance)) = values.get("name").cloned() {
            for input in manifest
                .inputs
                .iter()
                .filter(|i| i.kind == crate::manifest::InputType::Secret)
            {
                if values.get(&input.name).is_some() {
                    continue;
                }
                let key = Self::secret_key(&target.subscription_id, &instance, &input.name);
                if let Ok(Some(kept)) = self.secrets.get(&self.secret_service, &key) {
                    values.set(input.name.clone(), Json::String(kept.secret().to_owned()));
                }
            }
        }
        let inputs = validate(manifest, &values, target)?;
        let plan = plan_instance(&self.bundle, &inputs, target)?;
        let cost = estimate(manifest, &inputs)?;
        Ok(Prepared {
            resource_group: resource_group(manifest, &inputs, target),
            inputs,
            target: target.clone(),
            plan,
            cost,
            preset: preset.map(str::to_owned),
        })
    }

    /// What preflight checks for `prepared`, read from its offline plan.
    pub fn preflight_request(&self, prepared: &Prepared) -> PreflightRequest {
        preflight_request(&self.bundle, prepared)
    }

    /// Runs every preflight check.
    pub async fn preflight(&self, prepared: &Prepared) -> PreflightReport {
        let request = self.preflight_request(prepared);
        preflight(&Arm::new(&self.client), &request).await
    }

    /// Runs a preflight fix (register providers, purge a deleted vault).
    pub async fn apply_fix(
        &self,
        prepared: &Prepared,
        action: &FixAction,
    ) -> Result<(), EngineError> {
        let arm = Arm::new(&self.client);
        let subscription = &prepared.target.subscription_id;
        match action {
            FixAction::RegisterProviders(namespaces) => {
                register_providers(&arm, subscription, namespaces).await?;
            }
            FixAction::PurgeDeletedVault { name, location } => {
                purge_deleted_vault(&arm, subscription, location, name).await?;
            }
        }
        Ok(())
    }

    /// Preflight, then — when the failures need only resource providers registered (see
    /// [`PreflightReport::providers_to_register`]) — registers them and checks again. Fronts
    /// call it on the person's go-ahead: registering changes nothing but the subscription's
    /// catalogue of services. Answers the report and the namespaces registered.
    pub async fn preflight_registering(
        &self,
        prepared: &Prepared,
    ) -> Result<(PreflightReport, Vec<String>), EngineError> {
        let report = self.preflight(prepared).await;
        self.register_and_recheck(prepared, report).await
    }

    /// Registers what `report` asks for (if that is its only fix) and runs preflight again.
    pub async fn register_and_recheck(
        &self,
        prepared: &Prepared,
        report: PreflightReport,
    ) -> Result<(PreflightReport, Vec<String>), EngineError> {
        let Some(namespaces) = report.providers_to_register() else {
            return Ok((report, Vec::new()));
        };
        self.apply_fix(prepared, &FixAction::RegisterProviders(namespaces.clone()))
            .await?;
        Ok((self.preflight(prepared).await, namespaces))
    }

    fn durations_for(&self, plan: &InstancePlan) -> Durations {
        let types: BTreeSet<String> = plan
            .stages
            .iter()
            .flat_map(|s| s.resources.iter().map(|r| r.resource_type.clone()))
            .collect();
        let history = types.into_iter().filter_map(|t| {
            self.journal
                .expected_duration(&t)
                .ok()
                .flatten()
                .map(|d| (t, d))
        });
        Durations::with_history(history).scaled(self.duration_scale)
    }

    /// What a run of `prepared` will announce in `runStarted`: the stages in deploy order
    /// with their resources and expected durations, and the seconds of the whole run (the
    /// critical path across stages). The review screen shows it before anything is created.
    pub fn stage_summaries(
        &self,
        prepared: &Prepared,
    ) -> Result<(Vec<StageSummary>, f64), EngineError> {
        let durations = self.durations_for(&prepared.plan);
        let spec = self.spec("", RunKind::Install, prepared, &durations)?;
        Ok((spec.summaries(), spec.expected_secs()))
    }

    fn spec(
        &self,
        run_id: &str,
        kind: RunKind,
        prepared: &Prepared,
        durations: &Durations,
    ) -> Result<RunSpec, EngineError> {
        let manifest = &self.bundle.manifest;
        let mut stages = Vec::new();
        for def in &manifest.stages {
            let plan = prepared
                .plan
                .stage(&def.name)
                .ok_or_else(|| EngineError::Bundle(format!("stage '{}' has no plan", def.name)))?;
            let text = self.bundle.files.get(&def.template).ok_or_else(|| {
                EngineError::Bundle(format!("the template '{}' is missing", def.template))
            })?;
            let template: Json = serde_json::from_str(text).map_err(|e| {
                EngineError::Bundle(format!(
                    "the template '{}' is not plain JSON (Azure needs it as JSON): {e}",
                    def.template
                ))
            })?;
            let planned: Vec<PlannedItem> = plan
                .resources
                .iter()
                .map(|r| PlannedItem {
                    resource_id: r.id.clone(),
                    resource_type: r.resource_type.clone(),
                    resource_name: r.name.clone(),
                    expected_secs: durations.expected(&r.resource_type),
                })
                .collect();
            let nodes: Vec<Node> = plan
                .resources
                .iter()
                .map(|r| Node {
                    id: r.id.clone(),
                    resource_type: r.resource_type.clone(),
                    depends_on: r.depends_on.clone(),
                })
                .collect();
            stages.push(StageSpec {
                name: def.name.clone(),
                label: def.label.clone(),
                depends_on: plan.depends_on.clone(),
                deployment_name: plan.deployment_name.clone(),
                template,
                planned,
                expected_secs: critical_path(&nodes, durations),
            });
        }
        let tags: serde_json::Map<String, Json> = prepared
            .inputs
            .tags(manifest)
            .into_iter()
            .map(|(k, v)| (k, Json::String(v)))
            .collect();
        Ok(RunSpec {
            run_id: run_id.to_owned(),
            instance: prepared.inputs.instance().to_owned(),
            kind,
            subscription_id: prepared.target.subscription_id.clone(),
            resource_group: prepared.resource_group.clone(),
            location: prepared.inputs.location().to_owned(),
            tags: Json::Object(tags),
            stages,
        })
    }

    /// Keeps the secret inputs in the secret store, so other processes can resume.
    fn keep_secrets(&self, prepared: &Prepared) -> Result<(), EngineError> {
        for name in prepared.inputs.secret_names() {
            if let Some(Json::String(v)) = prepared.inputs.value(name) {
                let key = Self::secret_key(
                    &prepared.target.subscription_id,
                    prepared.inputs.instance(),
                    name,
                );
                self.secrets
                    .set(&self.secret_service, &key, &Secret::new(v.clone()))
                    .map_err(|e| {
                        EngineError::Refused(format!(
                            "cannot keep the secret input '{name}' in the keyring: {e}"
                        ))
                    })?;
            }
        }
        Ok(())
    }

    /// Records a new run of `prepared` in the journal and returns its ID; [`Self::drive`]
    /// then runs it. Refuses while another run of the same instance is being watched.
    pub fn begin(&self, prepared: &Prepared, kind: RunKind) -> Result<String, EngineError> {
        let instance = prepared.inputs.instance();
        if let Some(last) = self.journal.latest_run(instance)?
            && last.state == RunState::Running
            && last
                .watcher
                .as_ref()
                .is_some_and(|w| w.is_live(self.client.timer().now()))
        {
            return Err(EngineError::Refused(format!(
                "run {} of instance '{instance}' is still being watched by process {}; wait for it or stop it first",
                last.run_id,
                last.watcher.map(|w| w.pid).unwrap_or_default()
            )));
        }
        self.keep_secrets(prepared)?;
        let run_id = new_run_id();
        let now = self.client.timer().now();
        self.journal.create_run(&RunRecord {
            run_id: run_id.clone(),
            instance: instance.to_owned(),
            kind,
            state: RunState::Running,
            subscription_id: prepared.target.subscription_id.clone(),
            tenant_id: prepared.target.tenant_id.clone(),
            resource_group: prepared.resource_group.clone(),
            location: prepared.inputs.location().to_owned(),
            manifest_version: self.bundle.manifest.version.clone(),
            preset: prepared.preset.clone(),
            inputs: prepared.inputs.redacted(),
            started_at: now,
            finished_at: None,
            watcher: None,
        })?;
        self.record_instance(prepared, &run_id, InstanceState::Deploying, Json::Null)?;
        Ok(run_id)
    }

    fn record_instance(
        &self,
        prepared: &Prepared,
        run_id: &str,
        state: InstanceState,
        outputs: Json,
    ) -> Result<(), EngineError> {
        let now = self.client.timer().now();
        let previous = self.journal.instance(prepared.inputs.instance())?;
        let outputs = if outputs.is_null() {
            previous
                .as_ref()
                .map(|p| p.outputs.clone())
                .unwrap_or(Json::Null)
        } else {
            outputs
        };
        self.journal.upsert_instance(&InstanceRecord {
            name: prepared.inputs.instance().to_owned(),
            subscription_id: prepared.target.subscription_id.clone(),
            resource_group: prepared.resource_group.clone(),
            location: prepared.inputs.location().to_owned(),
            manifest_name: self.bundle.manifest.name.clone(),
            manifest_version: self.bundle.manifest.version.clone(),
            state,
            inputs: prepared.inputs.redacted(),
            outputs,
            last_run_id: Some(run_id.to_owned()),
            created_at: previous.map(|p| p.created_at).unwrap_or(now),
            updated_at: now,
        })?;
        Ok(())
    }

    /// Installs (or updates, or retries): [`Self::begin`] then [`Self::drive`].
    pub async fn install(
        &self,
        prepared: &Prepared,
        kind: RunKind,
        sink: &dyn EventSink,
        stop: CancelToken,
    ) -> Result<(String, RunResult), EngineError> {
        let run_id = self.begin(prepared, kind)?;
        let result = self
            .drive(&run_id, prepared, IndexMap::new(), sink, stop)
            .await?;
        Ok((run_id, result))
    }

    /// Runs a run recorded by [`Self::begin`]; `carried` are stages whose earlier success
    /// this run keeps (retry).
    pub async fn drive(
        &self,
        run_id: &str,
        prepared: &Prepared,
        carried: IndexMap<String, Json>,
        sink: &dyn EventSink,
        stop: CancelToken,
    ) -> Result<RunResult, EngineError> {
        let durations = self.durations_for(&prepared.plan);
        let spec = self.spec(run_id, self.run_kind(run_id)?, prepared, &durations)?;
        let renderer = BundleRenderer {
            bundle: &self.bundle,
            prepared,
        };
        self.watch(
            run_id,
            || async {
                Runner::new(&self.client, &self.journal, sink, &renderer, &spec)
                    .options(self.options.clone())
                    .durations(durations.clone())
                    .stop_token(stop.clone())
                    .start(carried)
                    .await
            },
            prepared,
        )
        .await
    }

    fn run_kind(&self, run_id: &str) -> Result<RunKind, EngineError> {
        Ok(self
            .journal
            .run(run_id)?
            .ok_or_else(|| EngineError::NotFound(format!("there is no run '{run_id}'")))?
            .kind)
    }

    /// Claims the run for this process, runs `body` with a heartbeat, records the instance's
    /// state at the end and releases the run.
    async fn watch<F, Fut>(
        &self,
        run_id: &str,
        body: F,
        prepared: &Prepared,
    ) -> Result<RunResult, EngineError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<RunResult, EngineError>>,
    {
        let pid = std::process::id();
        let host = crate::journal::host_name();
        let mut claim = self
            .journal
            .claim(run_id, pid, &host, self.client.timer().now())?;
        // A watcher on this machine whose process is gone (killed, crashed) is released at
        // once rather than after its heartbeat goes stale.
        if let Claim::HeldBy(w) = &claim
            && w.host == host
            && process_gone(w.pid)
        {
            self.journal.release(run_id, w.pid, &w.host)?;
            claim = self
                .journal
                .claim(run_id, pid, &host, self.client.timer().now())?;
        }
        match claim {
            Claim::Claimed => {}
            Claim::HeldBy(w) => {
                return Err(EngineError::Refused(format!(
                    "run {run_id} is being watched by process {} on {}; stop it first or wait",
                    w.pid, w.host
                )));
            }
        }
        // Liveness is about this process in real time, so the heartbeat waits on the real
        // clock even when the client's timer is a test's manual clock (a fake sleep there
        // would spin, racing the simulated clock ahead of the run).
        let heartbeat = async {
            loop {
                tokio::time::sleep(std::time::Duration::from_secs(10)).await;
                let _ = self
                    .journal
                    .heartbeat(run_id, pid, &host, self.client.timer().now());
            }
        };
        let result = tokio::select! {
            r = body() => r,
            _ = heartbeat => unreachable_heartbeat(),
        };
        let _ = self.journal.release(run_id, pid, &host);
        let result = result?;
        let state = match result.outcome {
            crate::events::Outcome::Succeeded => InstanceState::Deployed,
            crate::events::Outcome::Failed | crate::events::Outcome::Canceled => {
                InstanceState::Failed
            }
            crate::events::Outcome::Detached => InstanceState::Deploying,
        };
        self.record_instance(prepared, run_id, state, result.outputs.clone())?;
        Ok(result)
    }

    /// Rebuilds a run's inputs from the journal (secrets from the secret store).
    pub fn prepared_for_run(&self, run_id: &str) -> Result<(RunRecord, Prepared), EngineError> {
        let run = self
            .journal
            .run(run_id)?
            .ok_or_else(|| EngineError::NotFound(format!("there is no run '{run_id}'")))?;
        if run.manifest_version != self.bundle.manifest.version {
            return Err(EngineError::Refused(format!(
                "run {run_id} deployed version {} of the templates and this Landfall carries {}; use the matching Landfall to resume it",
                run.manifest_version, self.bundle.manifest.version
            )));
        }
        let mut values = InputValues::new(&self.bundle.manifest);
        if let Some(map) = run.inputs.as_object() {
            for (k, v) in map {
                let is_secret = self
                    .bundle
                    .manifest
                    .input(k)
                    .is_some_and(|i| i.kind == crate::manifest::InputType::Secret);
                if !is_secret {
                    values.set(k.clone(), v.clone());
                }
            }
        }
        let target = Target {
            subscription_id: run.subscription_id.clone(),
            tenant_id: run.tenant_id.clone(),
            resource_group: Some(run.resource_group.clone()),
        };
        let prepared = self.prepare(&values, &target, run.preset.as_deref())?;
        Ok((run, prepared))
    }

    /// Re-attaches to a run whose watcher is gone and carries it to its end. Nothing that
    /// succeeded is deployed again.
    pub async fn resume(
        &self,
        run_id: &str,
        sink: &dyn EventSink,
        stop: CancelToken,
    ) -> Result<RunResult, EngineError> {
        if let Some(run) = self.journal.run(run_id)?
            && run.kind == RunKind::Teardown
        {
            return Err(EngineError::Refused(format!(
                "run {run_id} is a teardown; run `landfall destroy {}` again to carry it on",
                run.instance
            )));
        }
        let (run, prepared) = self.prepared_for_run(run_id)?;
        if run.state != RunState::Running && run.state != RunState::Detached {
            return Err(EngineError::Refused(format!(
                "run {run_id} already ended ({:?}); retry it instead",
                run.state
            )));
        }
        let durations = self.durations_for(&prepared.plan);
        let spec = self.spec(run_id, run.kind, &prepared, &durations)?;
        let renderer = BundleRenderer {
            bundle: &self.bundle,
            prepared: &prepared,
        };
        let started = run.started_at;
        self.watch(
            run_id,
            || async {
                Runner::new(&self.client, &self.journal, sink, &renderer, &spec)
                    .options(self.options.clone())
                    .durations(durations.clone())
                    .stop_token(stop.clone())
                    .resume(started)
                    .await
            },
            &prepared,
        )
        .await
    }

    /// Starts a new run that retries a failed one from its failed stages: stages that
    /// succeeded keep their outputs and are not deployed again. `values`, when given, are
    /// changed inputs (then every stage is deployed again, as an update is).
    pub async fn retry(
        &self,
        run_id: &str,
        values: Option<&InputValues>,
        sink: &dyn EventSink,
        stop: CancelToken,
    ) -> Result<(String, RunResult), EngineError> {
        if let Some(run) = self.journal.run(run_id)?
            && run.kind == RunKind::Teardown
        {
            return Err(EngineError::Refused(format!(
                "run {run_id} is a teardown; run `landfall destroy {}` again to retry it",
                run.instance
            )));
        }
        let (run, mut prepared) = self.prepared_for_run(run_id)?;
        if run.state == RunState::Running {
            return Err(EngineError::Refused(format!(
                "run {run_id} has not ended; resume it instead"
            )));
        }
        let mut carried = IndexMap::new();
        if let Some(values) = values {
            prepared = self.prepare(values, &prepared.target, run.preset.as_deref())?;
        } else {
            for stage in self.journal.stages(run_id)? {
                if stage.state == StageState::Succeeded {
                    carried.insert(stage.stage.clone(), stage.outputs.clone());
                }
            }
        }
        let new_run = self.begin(&prepared, RunKind::Retry)?;
        let result = self.drive(&new_run, &prepared, carried, sink, stop).await?;
        Ok((new_run, result))
    }

    /// Inputs for an update of `instance`: its last inputs (secrets from the secret store)
    /// with `preset`, `file` and `sets` applied on top, validated, planned and costed.
    pub fn prepare_update(
        &self,
        instance: &str,
        preset: Option<&str>,
        file: Option<&str>,
        sets: &[String],
    ) -> Result<Prepared, EngineError> {
        let record = self.journal.instance(instance)?.ok_or_else(|| {
            EngineError::NotFound(format!("there is no instance '{instance}' in the journal"))
        })?;
        let manifest = &self.bundle.manifest;
        let mut base = serde_json::Map::new();
        if let Some(map) = record.inputs.as_object() {
            for (k, v) in map {
                let secret = manifest
                    .input(k)
                    .is_none_or(|i| i.kind == crate::manifest::InputType::Secret);
                if !secret {
                    base.insert(k.clone(), v.clone());
                }
            }
        }
        // The preset first, then the instance's values, then the file and the sets: an update
        // changes only what it names.
        let mut values = crate::inputs::resolve(manifest, preset, None, &[])?;
        if preset.is_none() {
            for (k, v) in &base {
                values.set(k.clone(), v.clone());
            }
        }
        let changes = crate::inputs::resolve(manifest, None, file, sets)?;
        let given: BTreeSet<String> = file
            .and_then(|f| serde_json::from_str::<Json>(f).ok())
            .map(|j| {
                let o = j.get("parameters").cloned().unwrap_or(j);
                o.as_object()
                    .map(|m| m.keys().cloned().collect())
                    .unwrap_or_default()
            })
            .unwrap_or_default();
        for (k, v) in changes.iter() {
            let named = given.contains(k) || sets.iter().any(|s| s.split('=').next() == Some(k));
            if named {
                values.set(k.to_owned(), v.clone());
            }
        }
        for key in ["name", "location"] {
            if let Some(v) = base.get(key) {
                values.set(key, v.clone());
            }
        }
        let target = Target {
            subscription_id: record.subscription_id.clone(),
            tenant_id: String::new(),
            resource_group: Some(record.resource_group.clone()),
        };
        self.prepare(&values, &target, preset)
    }

    /// Outputs of every stage of the instance's last successful run.
    fn deployed_outputs(&self, instance: &str) -> Result<IndexMap<String, Json>, EngineError> {
        let runs = self.journal.runs(Some(instance))?;
        let mut outputs = IndexMap::new();
        for run in runs.iter().filter(|r| r.state == RunState::Succeeded) {
            for stage in self.journal.stages(&run.run_id)? {
                if stage.state == StageState::Succeeded {
                    outputs.entry(stage.stage.clone()).or_insert(stage.outputs);
                }
            }
        }
        Ok(outputs)
    }

    /// Azure's what-if of every stage of an update, with the deployed stages' outputs wired in.
    pub async fn what_if(&self, prepared: &Prepared) -> Result<Vec<StageWhatIf>, EngineError> {
        let outputs = self.deployed_outputs(prepared.inputs.instance())?;
        let arm = Arm::new(&self.client);
        let scope =
            DeploymentScope::group(&prepared.target.subscription_id, &prepared.resource_group);
        let mut out = Vec::new();
        for stage in &prepared.plan.stages {
            let parameters = stage_parameters(
                &self.bundle,
                &stage.name,
                &prepared.inputs,
                &prepared.target,
                &outputs,
            )?;
            let template: Json = self
                .bundle
                .manifest
                .stage(&stage.name)
                .and_then(|d| self.bundle.files.get(&d.template))
                .and_then(|t| serde_json::from_str(t).ok())
                .ok_or_else(|| {
                    EngineError::Bundle(format!("stage '{}' has no JSON template", stage.name))
                })?;
            let body = json!({"properties": {"mode": "Incremental", "template": template, "parameters": parameters}});
            let result = async {
                let value = arm
                    .begin_what_if(&scope, &stage.deployment_name, &body)
                    .await?
                    .wait()
                    .await?;
                WhatIfResponse::from_result(value)
            }
            .await;
            match result {
                Ok(r) => {
                    let (groups, counts) = group_what_if(&r.properties.changes);
                    out.push(StageWhatIf {
                        stage: stage.name.clone(),
                        summary: counts,
                        groups,
                        error: r
                            .error
                            .map(|d| remediation::operation_report("", "Failed", d)),
                    });
                }
                Err(e) => out.push(StageWhatIf {
                    stage: stage.name.clone(),
                    summary: Vec::new(),
                    groups: Vec::new(),
                    error: Some(remediation::with_remediation(e.report())),
                }),
            }
        }
        Ok(out)
    }

    /// Cancels a run's running deployments in Azure; answers the stages that were cancelled.
    /// The watcher (if any) then sees them end `Canceled`.
    pub async fn cancel_in_azure(&self, run_id: &str) -> Result<Vec<String>, EngineError> {
        let run = self
            .journal
            .run(run_id)?
            .ok_or_else(|| EngineError::NotFound(format!("there is no run '{run_id}'")))?;
        let scope = DeploymentScope::group(&run.subscription_id, &run.resource_group);
        let arm = Arm::new(&self.client);
        let mut cancelled = Vec::new();
        for stage in self.journal.stages(run_id)? {
            if stage.state != StageState::Running || stage.deployment_name.is_empty() {
                continue;
            }
            match arm.get_deployment(&scope, &stage.deployment_name).await {
                Ok(d) if !landfall_azure::poll::is_terminal(&d.properties.provisioning_state) => {
                    arm.cancel_deployment(&scope, &stage.deployment_name)
                        .await?;
                    cancelled.push(stage.stage.clone());
                }
                Ok(_) => {}
                Err(landfall_azure::Error::Http { status: 404, .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(cancelled)
    }

    /// A run's snapshot, rebuilt from the journal.
    pub fn snapshot(&self, run_id: &str) -> Result<RunSnapshot, EngineError> {
        self.journal
            .snapshot(run_id)?
            .ok_or_else(|| EngineError::NotFound(format!("there is no run '{run_id}'")))
    }

    /// Now, on the client's clock.
    pub fn now(&self) -> OffsetDateTime {
        self.client.timer().now()
    }
}

/// True when process `pid` certainly does not exist (Linux: no `/proc/<pid>`); elsewhere the
/// heartbeat's staleness decides.
fn process_gone(pid: u32) -> bool {
    cfg!(target_os = "linux")
        && std::path::Path::new("/proc/self").exists()
        && !std::path::Path::new(&format!("/proc/{pid}")).exists()
}

fn unreachable_heartbeat() -> Result<RunResult, EngineError> {
    Err(EngineError::Refused("the heartbeat stopped".into()))
}

/// Renders stage parameters from the bundle for one prepared instance.
struct BundleRenderer<'a> {
    bundle: &'a Bundle,
    prepared: &'a Prepared,
}

impl StageRenderer for BundleRenderer<'_> {
    fn parameters(
        &self,
        stage: &str,
        outputs: &IndexMap<String, Json>,
    ) -> Result<Json, EngineError> {
        stage_parameters(
            self.bundle,
            stage,
            &self.prepared.inputs,
            &self.prepared.target,
            outputs,
        )
        .map(Json::Object)
    }

    fn instance_outputs(&self, outputs: &IndexMap<String, Json>) -> Json {
        instance_outputs(&self.bundle.manifest, &self.prepared.inputs, outputs)
            .unwrap_or(Json::Null)
    }
}

/// The preflight request for `prepared`, read from the offline plan: providers from the
/// resource types, VM demands from the clusters' pools at their largest, the MySQL server,
/// the globally unique names, the actions the templates need, and a validate/what-if body
/// for every stage whose parameters are known before deploying.
pub fn preflight_request(bundle: &Bundle, prepared: &Prepared) -> PreflightRequest {
    let mut providers = BTreeSet::new();
    let mut vm_demands: Vec<VmDemand> = Vec::new();
    let mut mysql = None;
    let mut names = Vec::new();
    let mut actions: BTreeSet<String> = [
        "Microsoft.Resources/deployments/write".to_owned(),
        "Microsoft.Resources/subscriptions/resourceGroups/write".to_owned(),
    ]
    .into();
    let mut stages = Vec::new();
    let mut known_outputs: IndexMap<String, Json> = IndexMap::new();
    for stage in &prepared.plan.stages {
        for r in &stage.resources {
            let t = r.resource_type.as_str();
            if let Some((ns, _)) = t.split_once('/') {
                providers.insert(ns.to_owned());
            }
            let top = t.split('/').take(2).collect::<Vec<_>>().join("/");
            actions.insert(format!("{top}/write"));
            let props = r.properties.to_json();
            let lower = t.to_ascii_lowercase();
            match lower.as_str() {
                "microsoft.containerservice/managedclusters" => {
                    for pool in props["agentPoolProfiles"].as_array().into_iter().flatten() {
                        let size = pool["vmSize"].as_str().unwrap_or_default().to_owned();
                        let count = pool["maxCount"]
                            .as_u64()
                            .or_else(|| pool["count"].as_u64())
                            .unwrap_or(0) as u32;
                        let zones = pool["availabilityZones"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|z| z.as_str().map(str::to_owned))
                            .collect();
                        if size.is_empty() {
                            continue;
                        }
                        match vm_demands.iter_mut().find(|d| d.size == size) {
                            Some(d) => d.max_count += count,
                            None => vm_demands.push(VmDemand {
                                size,
                                max_count: count,
                                zones,
                            }),
                        }
                    }
                }
                "microsoft.dbformysql/flexibleservers" => {
                    let extra = |k: &str| r.extra.get(k).map(|v| v.to_json()).unwrap_or(Json::Null);
                    let sku = extra("sku");
                    mysql = Some(MySqlDemand {
                        sku: sku["name"].as_str().unwrap_or_default().to_owned(),
                        tier: sku["tier"].as_str().unwrap_or_default().to_owned(),
                        storage_gb: props["storage"]["storageSizeGB"].as_u64().unwrap_or(20) as u32,
                        high_availability: props["highAvailability"]["mode"]
                            .as_str()
                            .filter(|m| !m.eq_ignore_ascii_case("Disabled"))
                            .map(str::to_owned),
                        version: props["version"].as_str().unwrap_or_default().to_owned(),
                    });
                    names.push(GlobalName {
                        kind: NameKind::MySql,
                        name: r.name.clone(),
                    });
                }
                "microsoft.storage/storageaccounts" => names.push(GlobalName {
                    kind: NameKind::Storage,
                    name: r.name.clone(),
                }),
                "microsoft.keyvault/vaults" => names.push(GlobalName {
                    kind: NameKind::KeyVault,
                    name: r.name.clone(),
                }),
                _ => {}
            }
        }
        let parameters = stage_parameters(
            bundle,
            &stage.name,
            &prepared.inputs,
            &prepared.target,
            &known_outputs,
        );
        let template = bundle
            .manifest
            .stage(&stage.name)
            .and_then(|d| bundle.files.get(&d.template))
            .and_then(|t| serde_json::from_str::<Json>(t).ok());
        let (body, why_not) = match (parameters, template) {
            (Ok(p), Some(t)) => (
                Some(
                    json!({"properties": {"mode": "Incremental", "template": t, "parameters": p}}),
                ),
                None,
            ),
            (Err(e), _) => (
                None,
                Some(format!(
                    "its parameters depend on values Azure gives only after earlier stages deploy ({e})"
                )),
            ),
            (_, None) => (None, Some("its template is not plain JSON".to_owned())),
        };
        stages.push(StageCheck {
            stage: stage.name.clone(),
            deployment_name: stage.deployment_name.clone(),
            body,
            why_not,
        });
        // Outputs fully known offline feed the next stages' validation.
        let outputs = stage.outputs_value();
        if !outputs.contains_deferred() {
            known_outputs.insert(stage.name.clone(), outputs.to_json());
        }
    }
    PreflightRequest {
        subscription_id: prepared.target.subscription_id.clone(),
        location: prepared.inputs.location().to_owned(),
        resource_group: prepared.resource_group.clone(),
        instance: prepared.inputs.instance().to_owned(),
        providers: providers.into_iter().collect(),
        vm_demands,
        mysql,
        names,
        actions: actions.into_iter().collect(),
        deployment_names: prepared
            .plan
            .stages
            .iter()
            .map(|s| s.deployment_name.clone())
            .collect(),
        stages,
    }
}
