//! The deploy commands: `demo`, `plan`, `deploy`, `status`, `resume`, `cancel`, `instances`.
//! Each builds an [`Installer`] (over the embedded simulator for `demo`, over the signed-in
//! account otherwise) and prints what the engine reports.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use landfall_azure::CancelToken;
use landfall_azure::account::{Accounts, ProfileStore, signed_in_client};
use landfall_azure::auth::{KeyringStore, SecretStore};
use landfall_engine::bundle::Bundle;
use landfall_engine::demo::{self, Demo, DemoOptions};
use landfall_engine::events::Outcome;
use landfall_engine::inputs::resolve;
use landfall_engine::installer::{Installer, Prepared};
use landfall_engine::journal::Journal;
use landfall_engine::preflight::{CheckStatus, PreflightReport};
use landfall_engine::{EngineError, RunKind, Target};
use landfall_sim::Scenario;

use crate::progress::{Mode, Printer, human};
use landfall_engine::paths;

/// The inputs of a deploy, as flags.
#[derive(Args, Clone, Debug, Default)]
pub struct InputArgs {
    /// Start from this preset (demo, small, medium, large).
    #[arg(long)]
    preset: Option<String>,
    /// Set one input: `--set userNodeMax=5` (repeatable; wins over the preset and the file).
    #[arg(long = "set", value_name = "INPUT=VALUE")]
    sets: Vec<String>,
    /// A JSON file of inputs (`{"name": value}` or an ARM parameters file).
    #[arg(long, value_name = "FILE")]
    inputs: Option<PathBuf>,
}

/// `landfall demo`.
#[derive(Args, Debug)]
pub struct DemoArgs {
    /// The preset to install.
    #[arg(long, default_value = "demo")]
    preset: String,
    /// Simulated Azure speed: provisioning takes real durations divided by this.
    #[arg(long, default_value_t = 60.0)]
    speed: f64,
    /// Set one input (repeatable).
    #[arg(long = "set", value_name = "INPUT=VALUE")]
    sets: Vec<String>,
    /// A failure scenario for the simulator (JSON), to show recovery.
    #[arg(long, value_name = "FILE")]
    scenario: Option<PathBuf>,
    /// Re-attach to a demo run left unfinished (the simulator restarts from its saved state),
    /// or retry a failed one from its failed stages.
    #[arg(long, value_name = "RUN")]
    resume: Option<String>,
    /// One JSON event per line on stdout.
    #[arg(long)]
    json: bool,
}

/// `landfall plan` and `landfall deploy`.
#[derive(Args, Debug)]
pub struct DeployArgs {
    #[command(flatten)]
    inputs: InputArgs,
    /// Subscription ID.
    #[arg(long)]
    subscription: String,
    /// Region (ARM location name, e.g. eastus).
    #[arg(long)]
    location: String,
    /// Instance name.
    #[arg(long)]
    name: String,
    /// Resource group (default: derived from the instance name).
    #[arg(long)]
    resource_group: Option<String>,
    /// Do not ask before deploying.
    #[arg(long)]
    yes: bool,
    /// JSON output (one event per line while deploying).
    #[arg(long)]
    json: bool,
}

/// `landfall update`.
#[derive(Args, Debug)]
pub struct UpdateArgs {
    /// The instance.
    instance: String,
    #[command(flatten)]
    inputs: InputArgs,
    /// Do not ask before applying.
    #[arg(long)]
    yes: bool,
    /// JSON output (the what-if, then one event per line).
    #[arg(long)]
    json: bool,
}

/// `landfall status`.
#[derive(Args, Debug)]
pub struct StatusArgs {
    /// The run (default: the latest).
    run: Option<String>,
    /// The snapshot as JSON.
    #[arg(long)]
    json: bool,
}

/// `landfall resume`.
#[derive(Args, Debug)]
pub struct ResumeArgs {
    /// The run.
    run: String,
    /// One JSON event per line.
    #[arg(long)]
    json: bool,
}

/// `landfall cancel`.
#[derive(Args, Debug)]
pub struct CancelArgs {
    /// The run.
    run: String,
    /// Cancel the running deployments in Azure too (otherwise only watching stops).
    #[arg(long)]
    in_azure: bool,
}

/// `landfall instances`.
#[derive(Args, Debug)]
pub struct InstancesArgs {
    /// JSON output.
    #[arg(long)]
    pub(crate) json: bool,
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Runtime::new().map_err(|e| format!("cannot start the runtime: {e}"))
}

pub(crate) fn engine_error(e: EngineError) -> String {
    match &e {
        EngineError::Inputs(errors) => {
            let lines: Vec<String> = errors
                .iter()
                .map(|e| format!("  - {}", e.message))
                .collect();
            format!("the inputs are not valid:\n{}", lines.join("\n"))
        }
        _ => {
            let p = e.problem();
            match p.remediation {
                Some(r) => format!("{}\n  fix: {}", p.message, r.message),
                None => p.message,
            }
        }
    }
}

fn demo_dir() -> Result<PathBuf, String> {
    Ok(paths::data_dir()?.join("demo"))
}

async fn start_demo(speed: f64, scenario: Scenario, fresh: bool) -> Result<Demo, String> {
    if !(speed.is_finite() && speed > 0.0) {
        return Err(format!("--speed must be a positive number, not {speed}"));
    }
    demo::start(DemoOptions {
        dir: demo_dir()?,
        speed,
        scenario,
        fresh,
    })
    .await
    .map_err(engine_error)
}

fn stop_on_ctrl_c(printer: Arc<Printer>) -> CancelToken {
    let stop = CancelToken::new();
    let s = stop.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            printer
                .say("stopping: the deployments go on in Azure; `landfall resume RUN` re-attaches");
            s.cancel();
        }
    });
    stop
}

fn print_review(printer: &Printer, prepared: &Prepared, json: bool) {
    if json {
        return;
    }
    printer.say(&format!(
        "instance '{}' in {} (resource group {}): {} resources in {} stages",
        prepared.inputs.instance(),
        prepared.inputs.location(),
        prepared.resource_group,
        prepared.plan.resource_count(),
        prepared.plan.stages.len()
    ));
    let c = &prepared.cost;
    printer.say(&format!(
        "estimated cost: {:.2} {} a month (list prices of {}; {})",
        c.total, c.currency, c.price_date, c.source
    ));
}

fn print_preflight(printer: &Printer, report: &PreflightReport, json: bool) {
    if json {
        if let Ok(line) = serde_json::to_string(&serde_json::json!({"preflight": report})) {
            eprintln!("{line}");
        }
        return;
    }
    for check in &report.checks {
        let mark = match check.status {
            CheckStatus::Pass => "ok  ",
            CheckStatus::Warn => "warn",
            CheckStatus::Fail => "FAIL",
            CheckStatus::Skipped => "skip",
        };
        printer.say(&format!("[{mark}] {}: {}", check.label, check.message));
        if check.status != CheckStatus::Pass
            && let Some(fix) = &check.fix
        {
            printer.say(&format!("       fix: {}", fix.message));
        }
    }
}

/// The `--inputs` file's text, if given.
fn read_inputs_file(args: &InputArgs) -> Result<Option<String>, String> {
    args.inputs
        .as_ref()
        .map(|p| {
            std::fs::read_to_string(p)
                .map_err(|e| format!("--inputs: cannot read '{}': {e}", p.display()))
        })
        .transpose()
}

/// Asks `question` on the terminal unless `yes`; `Err(refusal)` when the answer is not yes,
/// and a clear error when there is no terminal to ask on.
fn confirm(yes: bool, question: &str, refusal: &str) -> Result<(), String> {
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(format!(
            "--yes is needed without a terminal to confirm on ({refusal} otherwise)"
        ));
    }
    eprint!("{question} [y/N] ");
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    if answer.trim().eq_ignore_ascii_case("y") {
        Ok(())
    } else {
        Err(refusal.to_owned())
    }
}

/// Preflight, printed; when only resource providers are missing, registers them (asked
/// unless `yes`) and checks again. Fails when a check still fails: nothing is written then.
async fn preflight_step(
    installer: &Installer,
    prepared: &Prepared,
    printer: &Printer,
    yes: bool,
    json: bool,
) -> Result<(), String> {
    let mut report = installer.preflight(prepared).await;
    if let Some(namespaces) = report.providers_to_register() {
        let question = format!(
            "The subscription needs these resource providers registered: {}. Register them now?",
            namespaces.join(", ")
        );
        if confirm(yes, &question, "providers not registered").is_ok() {
            let (again, registered) = installer
                .register_and_recheck(prepared, report)
                .await
                .map_err(engine_error)?;
            if !json {
                printer.say(&format!(
                    "registered resource providers: {}",
                    registered.join(", ")
                ));
            }
            report = again;
        }
    }
    print_preflight(printer, &report, json);
    if report.passed() {
        Ok(())
    } else {
        Err("preflight failed: nothing was deployed (see the fixes above)".into())
    }
}

fn finish(
    result: &landfall_engine::deploy::RunResult,
    run_id: &str,
    printer: &Printer,
    json: bool,
) -> Result<(), String> {
    if !json && let Some(map) = result.outputs.as_object() {
        for (k, v) in map {
            printer.say(&format!(
                "  {k}: {}",
                v.as_str().map_or_else(|| v.to_string(), str::to_owned)
            ));
        }
    }
    match result.outcome {
        Outcome::Succeeded => Ok(()),
        Outcome::Detached => Err(format!(
            "stopped watching run {run_id}; the deployments go on in Azure. Re-attach with `landfall resume {run_id}`"
        )),
        Outcome::Canceled => Err(format!("run {run_id} was cancelled in Azure")),
        Outcome::Failed => Err(format!(
            "run {run_id} failed: {}. Fix the cause, then `landfall resume {run_id}` retries it from the failed stage",
            result
                .error
                .as_ref()
                .map_or("a stage failed", |e| e.message.as_str())
        )),
    }
}

/// `landfall demo`.
pub fn demo(args: DemoArgs) -> Result<(), String> {
    let scenario = match &args.scenario {
        None => Scenario::default(),
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| format!("--scenario: cannot read '{}': {e}", p.display()))?;
            serde_json::from_str(&text).map_err(|e| {
                format!("--scenario: '{}' is not a valid scenario: {e}", p.display())
            })?
        }
    };
    let printer = Arc::new(Printer::new(Mode::pick(args.json)));
    runtime()?.block_on(async move {
        let demo = start_demo(args.speed, scenario, args.resume.is_none()).await?;
        let stop = stop_on_ctrl_c(printer.clone());
        if let Some(run) = &args.resume {
            return resume_or_retry(&demo.installer, run, &printer, stop, args.json).await;
        }
        let manifest = &demo.installer.bundle().manifest;
        let mut sets = args.sets.clone();
        if !sets.iter().any(|s| s.starts_with("name=")) {
            sets.insert(0, "name=demo".into());
        }
        if !sets.iter().any(|s| s.starts_with("location=")) {
            sets.insert(0, "location=eastus".into());
        }
        let values = resolve(manifest, Some(&args.preset), None, &sets).map_err(engine_error)?;
        let prepared = demo
            .installer
            .prepare(&values, &demo.target, Some(&args.preset))
            .map_err(engine_error)?;
        print_review(&printer, &prepared, args.json);
        preflight_step(&demo.installer, &prepared, &printer, true, args.json).await?;
        let (run_id, result) = demo
            .installer
            .install(&prepared, RunKind::Install, printer.as_ref(), stop)
            .await
            .map_err(engine_error)?;
        finish(&result, &run_id, &printer, args.json)
    })
}

/// An installer over the signed-in account.
pub(crate) async fn account_installer() -> Result<Installer, String> {
    let dir = paths::data_dir()?;
    let service = paths::keyring_service();
    let secrets: Arc<dyn SecretStore> = Arc::new(KeyringStore::new());
    let accounts = Accounts::new(ProfileStore::new(dir.clone()), secrets.clone())
        .keyring_service(service.clone());
    let profile = accounts.current().map_err(|e| e.to_string())?;
    let client = signed_in_client(&profile, secrets.clone(), None)
        .await
        .map_err(|e| e.to_string())?;
    let journal = Journal::open(dir.join("journal.sqlite")).map_err(|e| e.to_string())?;
    let bundle = Bundle::builtin().map_err(engine_error)?;
    Ok(Installer::new(
        Arc::new(client),
        Arc::new(journal),
        Arc::new(bundle),
        secrets,
    )
    .secret_service(service))
}

fn deploy_values(
    installer: &Installer,
    args: &DeployArgs,
) -> Result<(landfall_engine::inputs::InputValues, Target), String> {
    let file = read_inputs_file(&args.inputs)?;
    let mut sets = vec![
        format!("name={}", args.name),
        format!("location={}", args.location),
    ];
    sets.extend(args.inputs.sets.iter().cloned());
    let values = resolve(
        &installer.bundle().manifest,
        args.inputs.preset.as_deref(),
        file.as_deref(),
        &sets,
    )
    .map_err(engine_error)?;
    Ok((
        values,
        Target {
            subscription_id: args.subscription.clone(),
            tenant_id: String::new(),
            resource_group: args.resource_group.clone(),
        },
    ))
}

/// `landfall plan`: validate, plan and cost offline, then preflight; writes nothing.
pub fn plan(args: DeployArgs) -> Result<(), String> {
    runtime()?.block_on(async move {
        let installer = account_installer().await?;
        let (values, target) = deploy_values(&installer, &args)?;
        let prepared = installer
            .prepare(&values, &target, args.inputs.preset.as_deref())
            .map_err(engine_error)?;
        let report = installer.preflight(&prepared).await;
        if args.json {
            let out = serde_json::json!({
                "plan": prepared.plan.to_json(),
                "cost": prepared.cost,
                "preflight": report,
            });
            println!("{out}");
        } else {
            let printer = Printer::new(Mode::Plain);
            print_review(&printer, &prepared, false);
            for stage in &prepared.plan.stages {
                println!("stage {} ({}):", stage.name, stage.deployment_name);
                for r in &stage.resources {
                    println!("  + {} {}", r.resource_type, r.name);
                }
            }
            print_preflight(&printer, &report, false);
        }
        if report.passed() {
            Ok(())
        } else {
            Err("preflight failed (see the fixes above)".into())
        }
    })
}

/// `landfall deploy`.
pub fn deploy(args: DeployArgs) -> Result<(), String> {
    let printer = Arc::new(Printer::new(Mode::pick(args.json)));
    runtime()?.block_on(async move {
        let installer = account_installer().await?;
        let (values, target) = deploy_values(&installer, &args)?;
        let prepared = installer
            .prepare(&values, &target, args.inputs.preset.as_deref())
            .map_err(engine_error)?;
        print_review(&printer, &prepared, args.json);
        preflight_step(&installer, &prepared, &printer, args.yes, args.json).await?;
        confirm(
            args.yes,
            &format!("Deploy '{}' now?", prepared.inputs.instance()),
            "not deployed",
        )?;
        let kind = match installer.journal().instance(prepared.inputs.instance()) {
            Ok(Some(_)) => RunKind::Update,
            _ => RunKind::Install,
        };
        let stop = stop_on_ctrl_c(printer.clone());
        let (run_id, result) = installer
            .install(&prepared, kind, printer.as_ref(), stop)
            .await
            .map_err(engine_error)?;
        finish(&result, &run_id, &printer, args.json)
    })
}

/// `landfall update`: the instance's inputs with the changes given, Azure's what-if per
/// stage, then (asked, or `--yes`) the update.
pub fn update(args: UpdateArgs) -> Result<(), String> {
    let printer = Arc::new(Printer::new(Mode::pick(args.json)));
    runtime()?.block_on(async move {
        let installer = account_installer().await?;
        let file = read_inputs_file(&args.inputs)?;
        let prepared = installer
            .prepare_update(
                &args.instance,
                args.inputs.preset.as_deref(),
                file.as_deref(),
                &args.inputs.sets,
            )
            .map_err(engine_error)?;
        print_review(&printer, &prepared, args.json);
        let what_if = installer.what_if(&prepared).await.map_err(engine_error)?;
        if args.json {
            println!("{}", serde_json::json!({ "whatIf": what_if }));
        } else {
            for w in &what_if {
                match &w.error {
                    Some(e) => printer.say(&format!("{}: what-if failed: {}", w.stage, e.message)),
                    None if w.summary.is_empty() => printer.say(&format!("{}: no change", w.stage)),
                    None => printer.say(&format!("{}: {}", w.stage, w.summary.join(", "))),
                }
                for g in &w.groups {
                    if g.change_type.eq_ignore_ascii_case("NoChange")
                        || g.change_type.eq_ignore_ascii_case("Ignore")
                    {
                        continue;
                    }
                    for r in &g.resources {
                        let props = if r.changed_properties.is_empty() {
                            String::new()
                        } else {
                            format!(" ({})", r.changed_properties.join(", "))
                        };
                        printer.say(&format!(
                            "    {} {} {}{props}",
                            g.change_type, r.resource_type, r.name
                        ));
                    }
                }
            }
        }
        confirm(
            args.yes,
            &format!("Apply these changes to '{}'?", args.instance),
            "not updated",
        )?;
        let stop = stop_on_ctrl_c(printer.clone());
        let (run_id, result) = installer
            .install(&prepared, RunKind::Update, printer.as_ref(), stop)
            .await
            .map_err(engine_error)?;
        finish(&result, &run_id, &printer, args.json)
    })
}

/// `landfall resume`.
pub fn resume(args: ResumeArgs) -> Result<(), String> {
    let printer = Arc::new(Printer::new(Mode::pick(args.json)));
    runtime()?.block_on(async move {
        let installer = account_installer().await?;
        let stop = stop_on_ctrl_c(printer.clone());
        resume_or_retry(&installer, &args.run, &printer, stop, args.json).await
    })
}

/// Re-attaches to a run that has not ended; a run that failed or was cancelled is retried
/// from its failed stages instead (a new run; stages that succeeded are kept).
async fn resume_or_retry(
    installer: &Installer,
    run: &str,
    printer: &Arc<Printer>,
    stop: CancelToken,
    json: bool,
) -> Result<(), String> {
    let record = installer
        .journal()
        .run(run)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("there is no run '{run}'"))?;
    if matches!(
        record.state,
        landfall_engine::journal::RunState::Failed | landfall_engine::journal::RunState::Canceled
    ) {
        printer.say(&format!(
            "run {run} ended {:?}: retrying it from its failed stages",
            record.state
        ));
        let (new_run, result) = installer
            .retry(run, None, printer.as_ref(), stop)
            .await
            .map_err(engine_error)?;
        return finish(&result, &new_run, printer, json);
    }
    let result = installer
        .resume(run, printer.as_ref(), stop)
        .await
        .map_err(engine_error)?;
    finish(&result, run, printer, json)
}

pub(crate) fn open_journal() -> Result<Journal, String> {
    Journal::open(paths::data_dir()?.join("journal.sqlite")).map_err(|e| e.to_string())
}

/// `landfall status`.
pub fn status(args: StatusArgs) -> Result<(), String> {
    let journal = open_journal()?;
    let run_id = match args.run {
        Some(r) => r,
        None => journal
            .runs(None)
            .map_err(|e| e.to_string())?
            .first()
            .map(|r| r.run_id.clone())
            .ok_or("no run yet")?,
    };
    let snapshot = journal
        .snapshot(&run_id)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("there is no run '{run_id}'"))?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string(&snapshot).map_err(|e| e.to_string())?
        );
        return Ok(());
    }
    let run = journal.run(&run_id).map_err(|e| e.to_string())?;
    if let Some(run) = run {
        println!(
            "run {run_id}: {:?} {:?} of '{}' ({})",
            run.kind, run.state, run.instance, run.resource_group
        );
    }
    for stage in &snapshot.stages {
        println!("  {:<12} {:?}", stage.name, stage.state);
    }
    println!(
        "  {}/{} resources, {} elapsed",
        snapshot.progress.done,
        snapshot.progress.total,
        human(snapshot.progress.elapsed_secs)
    );
    Ok(())
}

/// `landfall cancel`.
pub fn cancel(args: CancelArgs) -> Result<(), String> {
    if !args.in_azure {
        println!(
            "Watching stops when its process ends (Ctrl-C). The deployments of run {} go on in Azure; add --in-azure to cancel them there.",
            args.run
        );
        return Ok(());
    }
    runtime()?.block_on(async move {
        let installer = account_installer().await?;
        let cancelled = installer
            .cancel_in_azure(&args.run)
            .await
            .map_err(engine_error)?;
        if cancelled.is_empty() {
            println!("nothing was running in Azure for run {}", args.run);
        } else {
            println!(
                "cancelled in Azure: {}. Resources already created stay; `landfall destroy` removes the instance.",
                cancelled.join(", ")
            );
        }
        Ok(())
    })
}

/// `landfall instances`.
pub fn instances(args: InstancesArgs) -> Result<(), String> {
    let journal = open_journal()?;
    let list = journal.instances().map_err(|e| e.to_string())?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string(&list).map_err(|e| e.to_string())?
        );
        return Ok(());
    }
    if list.is_empty() {
        println!("no instances yet");
    }
    for i in list {
        println!(
            "{:<16} {:?}  {}  {}  {}",
            i.name, i.state, i.location, i.resource_group, i.subscription_id
        );
    }
    Ok(())
}
