//! `landfall`: the headless front of Landfall. Every journey step is a subcommand; this file
//! only parses the command line and maps failures to exit codes.

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Template(cmd) => template::run(cmd),
        Command::Sim(args) => sim::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
