//! `landfall`: the headless front of Landfall. Every journey step is a subcommand; this file
//! only parses the command line and maps failures to exit codes.

mod account;
mod deploy;
mod lifecycle;
mod manifest;
mod progress;
mod sim;
mod template;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "landfall",
    version,
    about = "Install the data platform into your own Azure subscription"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Evaluate ARM template expressions and plan templates offline.
    #[command(subcommand)]
    Template(template::TemplateCommand),
    /// Run the simulated Azure (Entra ID and Resource Manager over HTTPS) until stopped.
    Sim(sim::SimArgs),
    /// Check a template bundle and compute its digest.
    #[command(subcommand)]
    Manifest(manifest::ManifestCommand),
    /// Sign in to Azure; the account (cloud, CA, tenant) is remembered for later commands.
    Login(account::LoginArgs),
    /// Sign out: forget the saved account and remove its secrets from the OS keyring.
    Logout,
    /// The signed-in account.
    #[command(subcommand)]
    Account(account::AccountCommand),
    /// List the tenants of the signed-in account (home and guest).
    Tenants(account::ListArgs),
    /// List the subscriptions of the signed-in account in its tenant.
    Subscriptions(account::ListArgs),
    /// Run the whole journey against a simulated Azure built into Landfall (no account needed).
    Demo(deploy::DemoArgs),
    /// Validate inputs, plan every stage offline, estimate the cost and run preflight.
    Plan(deploy::DeployArgs),
    /// Deploy an instance into the signed-in account's subscription.
    Deploy(deploy::DeployArgs),
    /// Show a run (default: the latest) from the journal.
    Status(deploy::StatusArgs),
    /// Change inputs of a deployed instance: Azure's what-if per stage, then apply.
    Update(deploy::UpdateArgs),
    /// Re-attach to a run whose process stopped and carry it to the end (a failed run: retry it
    /// from its failed stages).
    Resume(deploy::ResumeArgs),
    /// Stop a run: only watching, or `--in-azure` its deployments too.
    Cancel(deploy::CancelArgs),
    /// Instances deployed from this machine (`--discover`: and found in a subscription).
    Instances(lifecycle::ListArgs),
    /// Delete an instance's resource group (asks for its name unless --yes).
    Destroy(lifecycle::DestroyArgs),
    /// Write a run's support bundle (a zip with no secret in it).
    Bundle(lifecycle::BundleArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Template(cmd) => template::run(cmd),
        Command::Sim(args) => sim::run(args),
        Command::Manifest(cmd) => manifest::run(cmd),
        Command::Login(args) => account::login(args),
        Command::Logout => account::logout(),
        Command::Account(cmd) => account::account(cmd),
        Command::Tenants(args) => account::tenants(&args),
        Command::Subscriptions(args) => account::subscriptions(&args),
        Command::Demo(args) => deploy::demo(args),
        Command::Plan(args) => deploy::plan(args),
        Command::Deploy(args) => deploy::deploy(args),
        Command::Status(args) => deploy::status(args),
        Command::Update(args) => deploy::update(args),
        Command::Resume(args) => deploy::resume(args),
        Command::Cancel(args) => deploy::cancel(args),
        Command::Instances(args) => lifecycle::instances(args),
        Command::Destroy(args) => lifecycle::destroy(args),
        Command::Bundle(args) => lifecycle::bundle(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
