//! The rest of an instance's life: `destroy` (teardown, with optional purge), `bundle` (the
//! support bundle of a run) and `instances --discover` (the journal's instances plus those
//! found in a subscription by tag).

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use landfall_azure::auth::{KeyringStore, SecretStore, StaticTokenCredential};
use landfall_azure::{ArmClient, CancelToken, Clock, SystemClock};
use landfall_engine::bundle::Bundle;
use landfall_engine::events::Outcome;
use landfall_engine::installer::Installer;
use landfall_engine::instances::{InstanceSource, discover};
use landfall_engine::support::support_bundle;
use landfall_engine::teardown::{TeardownTarget, teardown, teardown_target};

use crate::deploy::{self, account_installer, engine_error, open_journal, runtime};
use crate::progress::{Mode, Printer};
use landfall_engine::paths;

/// `landfall destroy`.
#[derive(Args, Debug)]
pub struct DestroyArgs {
    /// The instance's name.
    instance: String,
    /// Also purge the instance's soft-deleted Key Vaults afterwards (their names become free).
    #[arg(long)]
    purge: bool,
    /// Do not ask for the instance's name to be typed back.
    #[arg(long)]
    yes: bool,
    /// One JSON event per line on stdout.
    #[arg(long)]
    json: bool,
    /// For an instance this machine did not deploy: its subscription ID.
    #[arg(long, requires = "resource_group")]
    subscription: Option<String>,
    /// For an instance this machine did not deploy: its resource group.
    #[arg(long, requires = "subscription")]
    resource_group: Option<String>,
}

/// `landfall bundle`.
#[derive(Args, Debug)]
pub struct BundleArgs {
    /// The run.
    run: String,
    /// Where to write the zip.
    #[arg(short, long)]
    output: PathBuf,
}

/// `landfall instances`.
#[derive(Args, Debug)]
pub struct ListArgs {
    #[command(flatten)]
    base: deploy::InstancesArgs,
    /// Also list the instances found in a subscription by their tags (needs a sign-in).
    #[arg(long, requires = "subscription")]
    discover: bool,
    /// The subscription to search with `--discover`.
    #[arg(long)]
    subscription: Option<String>,
}

/// Asks for the instance name to be typed back; refuses when nobody can answer.
fn confirm(instance: &str, purge: bool) -> Result<(), String> {
    if !std::io::stdin().is_terminal() {
        return Err(format!(
            "destroying '{instance}' deletes its resource group and everything in it; without a terminal to confirm on, add --yes"
        ));
    }
    let purge = if purge {
        " and purges its Key Vaults (no recovery)"
    } else {
        ""
    };
    eprint!(
        "This deletes the resource group of instance '{instance}' with everything in it{purge}.\nType the instance's name to go on: "
    );
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| format!("cannot read the confirmation: {e}"))?;
    if answer.trim() != instance {
        return Err(format!(
            "the name typed does not match '{instance}'; nothing was deleted"
        ));
    }
    Ok(())
}

/// `landfall destroy INSTANCE [--purge] [--yes] [--json]`.
pub fn destroy(args: DestroyArgs) -> Result<(), String> {
    if !args.yes {
        confirm(&args.instance, args.purge)?;
    }
    runtime()?.block_on(async move {
        let installer = account_installer().await?;
        let printer = Arc::new(Printer::new(Mode::pick(args.json)));
        let stop = CancelToken::new();
        let s = stop.clone();
        let p = printer.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                p.say("stopping: Azure goes on deleting the resource group");
                s.cancel();
            }
        });
        let (run_id, result) = match (args.subscription, args.resource_group) {
            (Some(subscription_id), Some(resource_group)) => {
                let target = TeardownTarget {
                    instance: args.instance.clone(),
                    subscription_id,
                    resource_group,
                };
                teardown_target(&installer, &target, args.purge, &*printer, stop).await
            }
            _ => teardown(&installer, &args.instance, args.purge, &*printer, stop).await,
        }
        .map_err(engine_error)?;
        match result.outcome {
            Outcome::Succeeded => {
                if !args.json {
                    printer.say(&format!(
                        "instance '{}' deleted (run {run_id})",
                        args.instance
                    ));
                }
                Ok(())
            }
            Outcome::Detached => Err(format!(
                "stopped watching run {run_id}; Azure goes on deleting the resource group"
            )),
            Outcome::Failed | Outcome::Canceled => Err(format!(
                "run {run_id} failed: {}",
                result
                    .error
                    .as_ref()
                    .map_or("the resource group was not deleted", |e| e.message.as_str())
            )),
        }
    })
}

/// An installer over the journal and keyring only: the support bundle reads the journal (and
/// the kept secrets, to mask them) and sends nothing to Azure, so it needs no sign-in.
fn offline_installer() -> Result<Installer, String> {
    let endpoint = url::Url::parse("https://management.azure.com/").map_err(|e| e.to_string())?;
    // Expired at once and empty: should anything try to call Azure, it fails to sign in.
    let credential = Arc::new(StaticTokenCredential::new("", SystemClock.now()));
    let client = ArmClient::new(endpoint, credential, None).map_err(|e| e.to_string())?;
    let secrets: Arc<dyn SecretStore> = Arc::new(KeyringStore::new());
    Ok(Installer::new(
        Arc::new(client),
        Arc::new(open_journal()?),
        Arc::new(Bundle::builtin().map_err(engine_error)?),
        secrets,
    )
    .secret_service(paths::keyring_service()))
}

/// `landfall bundle RUN -o FILE`.
pub fn bundle(args: BundleArgs) -> Result<(), String> {
    let installer = offline_installer()?;
    support_bundle(&installer, &args.run, &args.output).map_err(engine_error)?;
    println!(
        "support bundle of run {} written to {}",
        args.run,
        args.output.display()
    );
    Ok(())
}

/// `landfall instances [--discover --subscription ID] [--json]`.
pub fn instances(args: ListArgs) -> Result<(), String> {
    let Some(subscription) = args.subscription.filter(|_| args.discover) else {
        return deploy::instances(args.base);
    };
    let json = args.base.json;
    runtime()?.block_on(async move {
        let installer = account_installer().await?;
        let list = discover(&installer, &subscription)
            .await
            .map_err(engine_error)?;
        if json {
            println!(
                "{}",
                serde_json::to_string(&list).map_err(|e| e.to_string())?
            );
            return Ok(());
        }
        if list.is_empty() {
            println!("no instances in the journal or in subscription {subscription}");
        }
        for i in list {
            let state = i.state.map_or_else(|| "-".to_owned(), |s| format!("{s:?}"));
            let source = match i.source {
                InstanceSource::Journal => "journal",
                InstanceSource::Azure => "azure",
                InstanceSource::Both => "journal+azure",
            };
            println!(
                "{:<16} {:<12} {:<14} {}  {}  {}",
                i.name, state, source, i.location, i.resource_group, i.subscription_id
            );
        }
        Ok(())
    })
}
