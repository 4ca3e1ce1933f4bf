//! `landfall sim`: the simulated Azure as a process, until stopped.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;
use landfall_sim::{Scenario, Sim, SimOptions};

/// Options of `landfall sim`.
#[derive(Args)]
pub struct SimArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: SocketAddr,
    /// Where to write the simulator's CA certificate (PEM) for clients to trust.
    #[arg(long)]
    ca_out: PathBuf,
    /// State file: loaded at start if present, saved after every change.
    #[arg(long)]
    state: Option<PathBuf>,
    /// Speed factor: provisioning takes real durations divided by this.
    #[arg(long, default_value_t = 1.0)]
    speed: f64,
    /// Failure scenario (JSON).
    #[arg(long)]
    scenario: Option<PathBuf>,
    /// Seed for random faults and durations.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// Runs the simulator until Ctrl-C or SIGTERM; prints one JSON line with its endpoints first.
pub fn run(args: SimArgs) -> Result<(), String> {
    if !(args.speed.is_finite() && args.speed > 0.0) {
        return Err(format!(
            "--speed must be a positive number, not {}",
            args.speed
        ));
    }
    let scenario = match &args.scenario {
        None => Scenario::default(),
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| format!("cannot read the scenario file '{}': {e}", p.display()))?;
            serde_json::from_str(&text)
                .map_err(|e| format!("the scenario file '{}' is not valid: {e}", p.display()))?
        }
    };
    let options = SimOptions {
        addr: args.addr,
        ca_out: Some(args.ca_out.clone()),
        state_file: args.state,
        speed: args.speed,
        scenario,
        seed: args.seed,
        ..SimOptions::default()
    };
    let runtime =
        tokio::runtime::Runtime::new().map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async move {
        let handle = Sim::start(options).await.map_err(|e| e.to_string())?;
        println!("{}", handle.announcement(Some(&args.ca_out)));
        wait_for_stop().await;
        handle.stop().await;
        Ok(())
    })
}

async fn wait_for_stop() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        if let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = ctrl_c.await;
}
