//! `landfall manifest digest` and `landfall manifest check`: the tools for whoever edits the
//! bundled templates.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use landfall_engine::Target;
use landfall_engine::bundle::{self, DIGEST_FILE};
use landfall_engine::{cost, inputs, render};

/// The bundle folder when none is given.
const DEFAULT_DIR: &str = "templates/data-platform";

/// The `manifest` subcommands.
#[derive(Subcommand)]
pub enum ManifestCommand {
    /// Print the digest of a bundle folder, or write it to DIR/digest.txt.
    Digest {
        /// The bundle folder [default: templates/data-platform].
        dir: Option<PathBuf>,
        /// Write DIR/digest.txt instead of printing.
        #[arg(long)]
        write: bool,
    },
    /// Load a bundle and report every problem; then plan and cost every preset offline.
    Check {
        /// The bundle folder [default: templates/data-platform].
        dir: Option<PathBuf>,
        /// The instance name the presets are planned with.
        #[arg(long, default_value = "lfcheck")]
        name: String,
    },
}

/// Runs a `manifest` subcommand.
pub fn run(cmd: ManifestCommand) -> Result<(), String> {
    match cmd {
        ManifestCommand::Digest { dir, write } => {
            digest(&dir.unwrap_or_else(|| DEFAULT_DIR.into()), write)
        }
        ManifestCommand::Check { dir, name } => {
            check(&dir.unwrap_or_else(|| DEFAULT_DIR.into()), &name)
        }
    }
}

fn digest(dir: &Path, write: bool) -> Result<(), String> {
    let files = bundle::read_dir(dir).map_err(|e| e.to_string())?;
    let digest = bundle::compute_digest(&files);
    if write {
        let path = dir.join(DIGEST_FILE);
        std::fs::write(&path, format!("{digest}\n"))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        println!("wrote {digest} to {}", path.display());
    } else {
        println!("{digest}");
    }
    Ok(())
}

fn check(dir: &Path, name: &str) -> Result<(), String> {
    let files = bundle::read_dir(dir).map_err(|e| e.to_string())?;
    let bundle = match bundle::check(files, &dir.display().to_string()) {
        Ok(b) => b,
        Err(problems) => {
            for p in &problems {
                println!("problem: {p}");
            }
            return Err(format!(
                "{} problem(s) in the bundle at {}",
                problems.len(),
                dir.display()
            ));
        }
    };
    let m = &bundle.manifest;
    println!(
        "ok: {} {} ({} stages, {} inputs, {} presets), digest {}",
        m.name,
        m.version,
        m.stages.len(),
        m.inputs.len(),
        m.presets.len(),
        bundle.digest
    );
    let target = Target {
        subscription_id: "00000000-0000-0000-0000-000000000000".into(),
        tenant_id: String::new(),
        resource_group: None,
    };
    let mut failed = 0;
    for preset in &m.presets {
        let sets = [format!("name={name}")];
        let outcome = inputs::resolve(m, Some(&preset.name), None, &sets)
            .and_then(|v| inputs::validate(m, &v, &target))
            .and_then(|valid| {
                let plan = render::plan_instance(&bundle, &valid, &target)?;
                let cost = cost::estimate(m, &valid)?;
                Ok((plan, cost))
            });
        match outcome {
            Ok((plan, cost)) => println!(
                "preset {}: {} resources in {} stages, {:.2} {} a month",
                preset.name,
                plan.resource_count(),
                plan.stages.len(),
                cost.total,
                cost.currency
            ),
            Err(e) => {
                failed += 1;
                println!("problem: preset {}: {e}", preset.name);
            }
        }
    }
    if failed > 0 {
        return Err(format!("{failed} preset(s) do not plan"));
    }
    Ok(())
}
