//! What the commands do, free of Tauri: the app's state (who is signed in, the engine over
//! that account or the demo, the runs being watched) and one method per command. The
//! commands in [`crate::commands`] only unwrap their arguments and call these.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use landfall_azure::account::{
    AccountError, Accounts, Profile, ProfileStore, SignInTarget, UserFlow, signed_in_client,
};
use landfall_azure::arm::Arm;
use landfall_azure::auth::{
    AZURE_CLI_CLIENT_ID, BrowserOpener, DeviceCodeCredential, DeviceCodePrompt,
    InteractiveBrowserCredential, KeyringStore, SecretStore, SignInError,
};
use landfall_azure::{CancelToken, Cloud, Secret};
use landfall_engine::bundle::Bundle;
use landfall_engine::demo::{self, Demo};
use landfall_engine::inputs::InputValues;
use landfall_engine::installer::{Installer, Prepared, StageWhatIf};
use landfall_engine::instances::{InstanceSource, InstanceView, discover};
use landfall_engine::journal::{Journal, RunState};
use landfall_engine::manifest::Manifest;
use landfall_engine::preflight::{FixAction, PreflightReport};
use landfall_engine::snapshot::RunSnapshot;
use landfall_engine::teardown::teardown;
use landfall_engine::{EngineError, Problem, RunKind, Target};
use landfall_sim::Scenario;
use landfall_sim::faults::ResourceFault;
use serde_json::Value as Json;
use tokio::sync::RwLock;

use crate::mask::Mask;
use crate::runs::{Listener, Runs};
use crate::wire::{
    CloudOption, DemoOptions, DeployRequest, InputsCheck, ReviewPlan, Session, SignInMethod,
    SignInPrompt, SubscriptionSummary, TenantSummary,
};

/// Shows a sign-in prompt to the person.
pub type Prompt = Arc<dyn Fn(SignInPrompt) + Send + Sync>;

/// Opens a URL in the system browser.
pub type Opener = Arc<dyn Fn(&str) -> Result<(), String> + Send + Sync>;

/// A problem with a code and a sentence.
pub fn problem(code: &str, message: impl Into<String>) -> Problem {
    Problem {
        code: code.into(),
        message: message.into(),
        details: Json::Null,
        remediation: None,
    }
}

fn engine(e: EngineError) -> Problem {
    e.problem()
}

fn account(e: AccountError) -> Problem {
    match e {
        AccountError::SignIn(SignInError::Canceled) => {
            problem("cancelled", "the sign-in was cancelled")
        }
        other => problem("signIn", other.to_string()),
    }
}

/// Where the app keeps its state, from the environment (tests pass their own).
#[derive(Clone, Debug)]
pub struct Config {
    /// The data folder (shared with the CLI): the journal, the saved account, the demo.
    pub data_dir: PathBuf,
    /// The keyring service secrets are kept under.
    pub keyring_service: String,
    /// Overrides the demo speed the UI asks for (`LANDFALL_DEMO_SPEED`, for tests).
    pub demo_speed: Option<f64>,
}

impl Config {
    /// `$LANDFALL_DATA_DIR` (or the platform's), `$LANDFALL_KEYRING_SERVICE`,
    /// `$LANDFALL_DEMO_SPEED`.
    pub fn from_env() -> Result<Config, String> {
        let demo_speed = match std::env::var("LANDFALL_DEMO_SPEED") {
            Err(_) => None,
            Ok(raw) => match raw.trim().parse::<f64>() {
                Ok(v) if v.is_finite() && v > 0.0 => Some(v),
                _ => {
                    return Err(format!(
                        "LANDFALL_DEMO_SPEED must be a positive number, not '{raw}'"
                    ));
                }
            },
        };
        Ok(Config {
            data_dir: landfall_engine::paths::data_dir()?,
            keyring_service: landfall_engine::paths::keyring_service(),
            demo_speed,
        })
    }

    fn demo_dir(&self) -> PathBuf {
        self.data_dir.join("desktop-demo")
    }
}

/// The engine over the signed-in account or the demo.
struct Connected {
    installer: Installer,
    session: Session,
    /// The demo's simulated Azure (stopped when dropped) and its ID mask.
    demo: Option<Demo>,
    mask: Option<Arc<Mask>>,
    tenant_id: String,
}

impl Connected {
    fn hide<T: serde::Serialize>(&self, value: &T) -> Json {
        let v = serde_json::to_value(value).unwrap_or(Json::Null);
        match &self.mask {
            Some(m) => m.hide(v),
            None => v,
        }
    }

    fn reveal(&self, id: &str) -> String {
        match &self.mask {
            Some(m) => m.reveal(id),
            None => id.to_owned(),
        }
    }

    fn unfinished_runs(&self) -> Vec<Json> {
        let runs = self.installer.journal().runs(None).unwrap_or_default();
        let unfinished: Vec<_> = runs
            .into_iter()
            .filter(|r| matches!(r.state, RunState::Running | RunState::Detached))
            .collect();
        unfinished.iter().map(|r| self.hide(r)).collect()
    }
}

/// The app's state.
pub struct AppState {
    config: Config,
    connected: RwLock<Option<Arc<Connected>>>,
    runs: Arc<Runs>,
    sign_in: Mutex<Option<CancelToken>>,
    bundle: Arc<Bundle>,
}

impl AppState {
    /// The state for `config`; fails only when the built-in bundle is broken.
    pub fn new(config: Config) -> Result<AppState, Problem> {
        Ok(AppState {
            config,
            connected: RwLock::new(None),
            runs: Arc::new(Runs::default()),
            sign_in: Mutex::new(None),
            bundle: Arc::new(Bundle::builtin().map_err(engine)?),
        })
    }

    async fn current(&self) -> Result<Arc<Connected>, Problem> {
        if let Some(c) = self.connected.read().await.clone() {
            return Ok(c);
        }
        self.restore().await?.ok_or_else(|| {
            problem(
                "notSignedIn",
                "you are not signed in: sign in to Azure or try the demo first",
            )
        })
    }

    fn accounts(&self) -> Accounts {
        let secrets: Arc<dyn SecretStore> = Arc::new(KeyringStore::new());
        Accounts::new(ProfileStore::new(self.config.data_dir.clone()), secrets)
            .keyring_service(self.config.keyring_service.clone())
    }

    /// Connects with the saved account, if there is one.
    async fn restore(&self) -> Result<Option<Arc<Connected>>, Problem> {
        let accounts = self.accounts();
        let Some(profile) = accounts.profiles().load().map_err(account)? else {
            return Ok(None);
        };
        self.connect(&accounts, profile).await.map(Some)
    }

    async fn connect(
        &self,
        accounts: &Accounts,
        profile: Profile,
    ) -> Result<Arc<Connected>, Problem> {
        let client = signed_in_client(&profile, accounts.secrets().clone(), None)
            .await
            .map_err(account)?;
        let journal = Journal::open(self.config.data_dir.join("journal.sqlite"))
            .map_err(|e| engine(e.into()))?;
        let installer = Installer::new(
            Arc::new(client),
            Arc::new(journal),
            self.bundle.clone(),
            accounts.secrets().clone(),
        )
        .secret_service(self.config.keyring_service.clone());
        let connected = Connected {
            installer,
            session: Session {
                demo: false,
                who: profile.account.label().to_owned(),
                tenant_id: profile.tenant.clone(),
                cloud: profile.cloud.name.clone(),
                method: profile.method.describe().to_owned(),
                unfinished_runs: Vec::new(),
            },
            demo: None,
            mask: None,
            tenant_id: profile.tenant.clone(),
        };
        let connected = Arc::new(connected);
        *self.connected.write().await = Some(connected.clone());
        Ok(connected)
    }

    fn session_of(c: &Connected) -> Result<Session, Problem> {
        let mut session = c.session.clone();
        session.unfinished_runs = c
            .unfinished_runs()
            .into_iter()
            .map(serde_json::from_value)
            .collect::<Result<_, _>>()
            .map_err(|e| problem("internal", format!("a run record did not read back: {e}")))?;
        Ok(session)
    }

    /// The current sign-in, restoring the saved account on first call. Its unfinished runs
    /// leave out those this app is watching now.
    pub async fn session(&self) -> Result<Option<Session>, Problem> {
        let connected = match self.connected.read().await.clone() {
            Some(c) => Some(c),
            None => self.restore().await?,
        };
        let Some(c) = connected else {
            return Ok(None);
        };
        let mut session = Self::session_of(&c)?;
        session
            .unfinished_runs
            .retain(|r| !self.runs.is_live(&r.run_id));
        Ok(Some(session))
    }

    /// The built-in clouds.
    pub fn clouds() -> Vec<CloudOption> {
        Cloud::builtins()
            .into_iter()
            .map(|c| CloudOption {
                label: match c.name.as_str() {
                    "AzureCloud" => "Azure (global)".to_owned(),
                    "AzureUSGovernment" => "Azure US Government".to_owned(),
                    "AzureChinaCloud" => "Azure operated by 21Vianet (China)".to_owned(),
                    other => other.to_owned(),
                },
                name: c.name,
            })
            .collect()
    }

    /// Starts the simulated Azure and signs in to it.
    pub async fn start_demo(&self, options: DemoOptions) -> Result<Session, Problem> {
        if self.runs.any_live() {
            // A new demo takes over the demo's files, which the running one still writes.
            return Err(problem(
                "refused",
                "a deployment is being watched in this app; wait for it or stop watching it before starting a new demo",
            ));
        }
        let speed = self.config.demo_speed.unwrap_or(options.speed);
        let mut scenario = Scenario::default();
        if let Some(name) = options
            .fail_resource
            .as_deref()
            .map(|n| n.replace("{n}", ""))
        {
            if name.trim().is_empty() {
                return Err(problem(
                    "inputs",
                    "failResource: name a resource (part of its name), or leave it empty",
                ));
            }
            // The message is a vCPU quota error: it only fits a cluster.
            scenario.failing_resources.push(ResourceFault {
                resource_type: "Microsoft.ContainerService/managedClusters".into(),
                name_contains: name,
                after_seconds: 20.0,
                code: "QuotaExceeded".into(),
                message: "Operation could not be completed as it results in exceeding approved \
                          standardDSv5Family Cores quota. Additional details - Deployment Model: \
                          Resource Manager, Location: eastus, Current Limit: 24, Current Usage: \
                          20, Additional Required: 8, (Minimum) New Limit Required: 28."
                    .into(),
                times: 1,
                ..ResourceFault::default()
            });
        }
        // The previous demo's simulator stops before a new one takes its files.
        *self.connected.write().await = None;
        let demo = demo::start(demo::DemoOptions {
            dir: self.config.demo_dir(),
            speed,
            scenario,
            fresh: !options.resume,
        })
        .await
        .map_err(engine)?;
        let mask = Arc::new(Mask::new([
            demo.target.subscription_id.as_str(),
            demo.target.tenant_id.as_str(),
        ]));
        let connected = Connected {
            installer: demo.installer.clone(),
            session: Session {
                demo: true,
                who: "demo-admin@contoso.example".into(),
                tenant_id: mask.hide_str(&demo.target.tenant_id),
                cloud: "Simulated Azure".into(),
                method: "demo".into(),
                unfinished_runs: Vec::new(),
            },
            tenant_id: demo.target.tenant_id.clone(),
            demo: Some(demo),
            mask: Some(mask),
        };
        let connected = Arc::new(connected);
        *self.connected.write().await = Some(connected.clone());
        Self::session_of(&connected)
    }

    /// The run an interrupted demo left unfinished, read without starting the demo.
    pub fn interrupted_demo(&self) -> Result<Option<String>, Problem> {
        let path = demo::journal_path(&self.config.demo_dir());
        if !path.exists() {
            return Ok(None);
        }
        let journal = Journal::open(&path).map_err(|e| engine(e.into()))?;
        let runs = journal.runs(None).map_err(|e| engine(e.into()))?;
        Ok(runs
            .into_iter()
            .filter(|r| matches!(r.state, RunState::Running | RunState::Detached))
            .max_by_key(|r| r.started_at)
            .map(|r| r.run_id))
    }

    /// Signs in; prompts go to `prompt`. One sign-in at a time.
    pub async fn sign_in(
        &self,
        method: SignInMethod,
        prompt: Prompt,
        opener: Opener,
    ) -> Result<Session, Problem> {
        let cancel = CancelToken::new();
        {
            let mut slot = self.sign_in.lock().unwrap_or_else(PoisonError::into_inner);
            if slot.as_ref().is_some_and(|c| !c.is_cancelled()) {
                return Err(problem(
                    "refused",
                    "a sign-in is already waiting for you; finish or cancel it first",
                ));
            }
            *slot = Some(cancel.clone());
        }
        let result = self
            .sign_in_with(method, prompt, opener, cancel.clone())
            .await;
        cancel.cancel();
        let profile = result?;
        *self.connected.write().await = None;
        let c = self.connect(&self.accounts(), profile).await?;
        Self::session_of(&c)
    }

    async fn sign_in_with(
        &self,
        method: SignInMethod,
        prompt: Prompt,
        opener: Opener,
        cancel: CancelToken,
    ) -> Result<Profile, Problem> {
        let accounts = self.accounts();
        let (cloud, tenant) = match &method {
            SignInMethod::Browser { cloud, tenant }
            | SignInMethod::DeviceCode { cloud, tenant }
            | SignInMethod::AzureCli { cloud, tenant } => (cloud, tenant.clone()),
            SignInMethod::ServicePrincipal {
                cloud, tenant_id, ..
            } => (cloud, Some(tenant_id.clone())),
        };
        let cloud = Cloud::builtin(cloud).ok_or_else(|| {
            problem(
                "inputs",
                format!(
                    "cloud: unknown cloud '{cloud}'; choose AzureCloud, AzureUSGovernment or AzureChinaCloud"
                ),
            )
        })?;
        let tenant = tenant
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty());
        let target = SignInTarget {
            cloud,
            ca: None,
            tenant,
        };
        let scope = target.cloud.arm_scope();
        match method {
            SignInMethod::Browser { .. } => {
                accounts.check_secret_store().map_err(account)?;
                let entra = target.entra(AZURE_CLI_CLIENT_ID).map_err(account)?;
                let credential = InteractiveBrowserCredential::new(entra.clone())
                    .opener(Arc::new(PromptingOpener { prompt, opener }))
                    .cancel_token(cancel);
                let session = Box::pin(credential.sign_in(&[&scope]))
                    .await
                    .map_err(|e| account(e.into()))?;
                accounts
                    .complete_user_sign_in(&target, UserFlow::Browser, &entra, &session)
                    .map_err(account)
            }
            SignInMethod::DeviceCode { .. } => {
                accounts.check_secret_store().map_err(account)?;
                let entra = target.entra(AZURE_CLI_CLIENT_ID).map_err(account)?;
                let show = move |p: &DeviceCodePrompt| {
                    prompt(SignInPrompt::DeviceCode {
                        user_code: p.user_code.clone(),
                        verification_uri: p.verification_uri.clone(),
                        message: p.message.clone(),
                    });
                };
                let credential =
                    DeviceCodeCredential::new(entra.clone(), Arc::new(show)).cancel_token(cancel);
                let session = Box::pin(credential.sign_in(&[&scope]))
                    .await
                    .map_err(|e| account(e.into()))?;
                accounts
                    .complete_user_sign_in(&target, UserFlow::DeviceCode, &entra, &session)
                    .map_err(account)
            }
            SignInMethod::ServicePrincipal {
                client_id,
                client_secret,
                ..
            } => {
                check_guid("clientId", &client_id)?;
                if client_secret.trim().is_empty() {
                    return Err(problem(
                        "inputs",
                        "clientSecret: the client secret is required",
                    ));
                }
                accounts
                    .sign_in_client_secret(&target, client_id.trim(), Secret::new(client_secret))
                    .await
                    .map_err(account)
            }
            SignInMethod::AzureCli { .. } => {
                accounts.sign_in_azure_cli(&target).await.map_err(account)
            }
        }
    }

    /// Gives up the sign-in in progress.
    pub fn cancel_sign_in(&self) {
        if let Some(c) = self
            .sign_in
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
        {
            c.cancel();
        }
    }

    /// Signs out (a demo: stops the simulated Azure).
    pub async fn sign_out(&self) -> Result<(), Problem> {
        let previous = self.connected.write().await.take();
        if previous.as_ref().is_some_and(|c| c.demo.is_some()) {
            return Ok(());
        }
        self.accounts().sign_out().map_err(account)?;
        Ok(())
    }

    /// Tenants the signed-in principal can reach.
    pub async fn tenants(&self) -> Result<Vec<Json>, Problem> {
        let c = self.current().await?;
        let tenants = Arm::new(c.installer.client())
            .list_tenants()
            .await
            .map_err(|e| engine(e.into()))?;
        Ok(tenants
            .into_iter()
            .map(|t| {
                c.hide(&TenantSummary {
                    current: t.tenant_id.eq_ignore_ascii_case(&c.tenant_id),
                    display_name: t.display_name.unwrap_or_else(|| t.tenant_id.clone()),
                    default_domain: t.default_domain.unwrap_or_default(),
                    tenant_id: t.tenant_id,
                })
            })
            .collect())
    }

    /// Subscriptions of the signed-in principal.
    pub async fn subscriptions(&self) -> Result<Vec<Json>, Problem> {
        let c = self.current().await?;
        let subscriptions = Arm::new(c.installer.client())
            .list_subscriptions()
            .await
            .map_err(|e| engine(e.into()))?;
        Ok(subscriptions
            .into_iter()
            .map(|s| {
                c.hide(&SubscriptionSummary {
                    subscription_id: s.subscription_id,
                    display_name: s.display_name,
                    tenant_id: s.tenant_id.unwrap_or_default(),
                    state: s.state,
                })
            })
            .collect())
    }

    /// The bundled manifest.
    pub fn manifest(&self) -> Manifest {
        self.bundle.manifest.clone()
    }

    fn values(&self, raw: &indexmap::IndexMap<String, Json>) -> InputValues {
        let mut values = InputValues::new(&self.bundle.manifest);
        for (k, v) in raw {
            values.set(k.clone(), v.clone());
        }
        values
    }

    /// Input errors and the monthly cost (offline).
    pub async fn validate_inputs(
        &self,
        raw: &indexmap::IndexMap<String, Json>,
    ) -> Result<InputsCheck, Problem> {
        // The rules depend on the subscription's shape only; prepare checks the real target.
        let target = placeholder_target();
        let values = self.values(raw);
        match landfall_engine::inputs::validate(&self.bundle.manifest, &values, &target) {
            Ok(inputs) => Ok(InputsCheck {
                valid: true,
                errors: Vec::new(),
                cost: landfall_engine::cost::estimate(&self.bundle.manifest, &inputs).ok(),
            }),
            Err(EngineError::Inputs(errors)) => Ok(InputsCheck {
                valid: false,
                errors,
                cost: None,
            }),
            Err(e) => Err(engine(e)),
        }
    }

    async fn prepare(
        &self,
        request: &DeployRequest,
    ) -> Result<(Arc<Connected>, Prepared), Problem> {
        let c = self.current().await?;
        let mut values = self.values(&request.values);
        if !request.target.location.trim().is_empty() {
            values.set("location", Json::String(request.target.location.clone()));
        }
        let group = request.target.resource_group.trim();
        let target = Target {
            subscription_id: c.reveal(request.target.subscription_id.trim()),
            tenant_id: c.tenant_id.clone(),
            resource_group: (!group.is_empty()).then(|| group.to_owned()),
        };
        if target.subscription_id.is_empty() {
            return Err(problem("inputs", "subscriptionId: choose a subscription"));
        }
        let prepared = c
            .installer
            .prepare(&values, &target, request.preset.as_deref())
            .map_err(engine)?;
        Ok((c, prepared))
    }

    /// The plan for the review screen.
    pub async fn review(&self, request: &DeployRequest) -> Result<Json, Problem> {
        let (c, prepared) = self.prepare(request).await?;
        let (stages, expected_secs) = c.installer.stage_summaries(&prepared).map_err(engine)?;
        Ok(c.hide(&ReviewPlan {
            resource_group: prepared.resource_group.clone(),
            location: prepared.inputs.location().to_owned(),
            stages,
            cost: prepared.cost.clone(),
            expected_secs,
        }))
    }

    /// Every preflight check.
    pub async fn preflight(&self, request: &DeployRequest) -> Result<Json, Problem> {
        let (c, prepared) = self.prepare(request).await?;
        let report: PreflightReport = c.installer.preflight(&prepared).await;
        Ok(c.hide(&report))
    }

    /// Applies a fix, then checks again.
    pub async fn apply_fix(
        &self,
        request: &DeployRequest,
        action: FixAction,
    ) -> Result<Json, Problem> {
        let (c, prepared) = self.prepare(request).await?;
        c.installer
            .apply_fix(&prepared, &action)
            .await
            .map_err(engine)?;
        let report = c.installer.preflight(&prepared).await;
        Ok(c.hide(&report))
    }

    /// Azure's what-if per stage.
    pub async fn what_if(&self, request: &DeployRequest) -> Result<Json, Problem> {
        let (c, prepared) = self.prepare(request).await?;
        let result: Vec<StageWhatIf> = c.installer.what_if(&prepared).await.map_err(engine)?;
        Ok(c.hide(&result))
    }

    /// Starts an install (or an update); answers the run's ID.
    pub async fn deploy(
        &self,
        request: &DeployRequest,
        kind: RunKind,
        listener: Arc<dyn Listener>,
    ) -> Result<String, Problem> {
        let (c, prepared) = self.prepare(request).await?;
        let mask = c.mask.clone();
        self.runs
            .start(None, mask, listener, move |sink, stop| async move {
                c.installer
                    .install(&prepared, kind, sink.as_ref(), stop)
                    .await
                    .map(|_| ())
            })
            .await
    }

    /// A run as the journal knows it.
    pub async fn snapshot(&self, run_id: &str) -> Result<Json, Problem> {
        let c = self.current().await?;
        let snapshot: RunSnapshot = c.installer.snapshot(run_id).map_err(engine)?;
        Ok(c.hide(&snapshot))
    }

    /// Re-attaches a window to a run this app is watching.
    pub fn attach(&self, run_id: &str, after_seq: u64, listener: Arc<dyn Listener>) -> bool {
        self.runs.attach(run_id, after_seq, listener)
    }

    /// Stops watching, or cancels in Azure.
    pub async fn cancel(&self, run_id: &str, in_azure: bool) -> Result<(), Problem> {
        if in_azure {
            let c = self.current().await?;
            c.installer.cancel_in_azure(run_id).await.map_err(engine)?;
            return Ok(());
        }
        if self.runs.stop(run_id) {
            Ok(())
        } else {
            Err(problem(
                "notFound",
                format!("this app is not watching run {run_id}"),
            ))
        }
    }

    /// Retries a failed run from its failed stages.
    pub async fn retry(
        &self,
        run_id: &str,
        listener: Arc<dyn Listener>,
    ) -> Result<String, Problem> {
        let c = self.current().await?;
        let run_id = run_id.to_owned();
        let mask = c.mask.clone();
        self.runs
            .start(None, mask, listener, move |sink, stop| async move {
                c.installer
                    .retry(&run_id, None, sink.as_ref(), stop)
                    .await
                    .map(|_| ())
            })
            .await
    }

    /// Carries on watching a run whose watcher stopped.
    pub async fn resume(&self, run_id: &str, listener: Arc<dyn Listener>) -> Result<(), Problem> {
        let c = self.current().await?;
        let id = run_id.to_owned();
        let mask = c.mask.clone();
        self.runs
            .start(
                Some(id.clone()),
                mask,
                listener,
                move |sink, stop| async move {
                    c.installer
                        .resume(&id, sink.as_ref(), stop)
                        .await
                        .map(|_| ())
                },
            )
            .await
            .map(|_| ())
    }

    /// The journal's instances, and with `discover` the subscription's tagged ones.
    pub async fn instances(
        &self,
        subscription_id: Option<&str>,
        discover_in_azure: bool,
    ) -> Result<Vec<Json>, Problem> {
        let c = self.current().await?;
        let views = match (discover_in_azure, subscription_id) {
            (true, Some(sub)) => discover(&c.installer, &c.reveal(sub))
                .await
                .map_err(engine)?,
            _ => c
                .installer
                .journal()
                .instances()
                .map_err(|e| engine(e.into()))?
                .into_iter()
                .map(|r| InstanceView {
                    name: r.name,
                    subscription_id: r.subscription_id,
                    resource_group: r.resource_group,
                    location: r.location,
                    version: r.manifest_version,
                    state: Some(r.state),
                    source: InstanceSource::Journal,
                    last_run_id: r.last_run_id,
                })
                .collect(),
        };
        Ok(views.iter().map(|v| c.hide(v)).collect())
    }

    /// The request that updates `instance`: its last inputs, secrets left to the keyring.
    pub async fn update_request(&self, instance: &str) -> Result<Json, Problem> {
        let c = self.current().await?;
        let record = c
            .installer
            .journal()
            .instance(instance)
            .map_err(|e| engine(e.into()))?
            .ok_or_else(|| {
                problem(
                    "notFound",
                    format!("there is no instance '{instance}' on this machine"),
                )
            })?;
        let secret: std::collections::BTreeSet<&str> = self
            .bundle
            .manifest
            .inputs
            .iter()
            .filter(|i| i.kind == landfall_engine::manifest::InputType::Secret)
            .map(|i| i.name.as_str())
            .collect();
        let values = record
            .inputs
            .as_object()
            .map(|m| {
                m.iter()
                    .filter(|(k, _)| !secret.contains(k.as_str()))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default();
        let last_preset = record
            .last_run_id
            .as_deref()
            .and_then(|id| c.installer.journal().run(id).ok().flatten())
            .and_then(|r| r.preset);
        Ok(c.hide(&DeployRequest {
            target: crate::wire::DeployTarget {
                subscription_id: record.subscription_id,
                resource_group: record.resource_group,
                location: record.location,
            },
            values,
            preset: last_preset,
        }))
    }

    /// Deletes an instance's resource group; answers the teardown run's ID.
    pub async fn teardown(
        &self,
        instance: &str,
        purge: bool,
        listener: Arc<dyn Listener>,
    ) -> Result<String, Problem> {
        let c = self.current().await?;
        let instance = instance.to_owned();
        let mask = c.mask.clone();
        self.runs
            .start(None, mask, listener, move |sink, stop| async move {
                teardown(&c.installer, &instance, purge, sink.as_ref(), stop)
                    .await
                    .map(|_| ())
            })
            .await
    }

    /// Writes a run's support bundle (a zip) to `path`.
    pub async fn save_support_bundle(&self, run_id: &str, path: &Path) -> Result<(), Problem> {
        let c = self.current().await?;
        landfall_engine::support::support_bundle(&c.installer, run_id, path).map_err(engine)
    }

    /// Writes a Markdown summary of a run to `path`.
    pub async fn save_summary(&self, run_id: &str, path: &Path) -> Result<(), Problem> {
        let c = self.current().await?;
        let snapshot = c.installer.snapshot(run_id).map_err(engine)?;
        let text = c.mask.as_ref().map_or_else(
            || crate::summary::markdown(&snapshot, &self.bundle.manifest),
            |m| m.hide_str(&crate::summary::markdown(&snapshot, &self.bundle.manifest)),
        );
        write_atomically(path, text.as_bytes())
    }
}

/// A stand-in target for checking inputs before anyone signed in (only the subscription's
/// shape matters to the rules).
fn placeholder_target() -> Target {
    Target {
        subscription_id: "00000000-0000-0000-0000-000000000000".into(),
        tenant_id: String::new(),
        resource_group: None,
    }
}

fn check_guid(field: &str, value: &str) -> Result<(), Problem> {
    let v = value.trim();
    let shape = [8, 4, 4, 4, 12];
    let parts: Vec<&str> = v.split('-').collect();
    let ok = parts.len() == shape.len()
        && parts
            .iter()
            .zip(shape)
            .all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()));
    if ok {
        Ok(())
    } else {
        Err(problem(
            "inputs",
            format!("{field}: must be a GUID like 00000000-0000-0000-0000-000000000000, not '{v}'"),
        ))
    }
}

/// Writes `bytes` to `path` through a temporary file beside it, so a failure leaves nothing
/// half-written.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Problem> {
    let fail = |e: std::io::Error| problem("io", format!("cannot write '{}': {e}", path.display()));
    let tmp = path.with_extension("landfall-tmp");
    std::fs::write(&tmp, bytes).map_err(fail)?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        fail(e)
    })
}

/// Shows the sign-in page to the person and asks the system browser to open it.
struct PromptingOpener {
    prompt: Prompt,
    opener: Opener,
}

impl BrowserOpener for PromptingOpener {
    fn open(&self, url: &url::Url) -> Result<(), SignInError> {
        (self.prompt)(SignInPrompt::OpenBrowser {
            url: url.to_string(),
        });
        if let Err(e) = (self.opener)(url.as_str()) {
            // The page is on screen as a link: the person can still open it.
            tracing::warn!("the system browser did not open: {e}");
        }
        Ok(())
    }
}
