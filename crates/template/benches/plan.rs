//! Planning speed on real templates: parse plus offline plan with sample parameters, one
//! benchmark per Bicep baseline (`main.json` and `main.symbolicnames.json`) and quickstart
//! (`azuredeploy.json`), plus `plan/all` planning every one of them per iteration.
//!
//! Run with `cargo bench -p landfall-template --bench plan`; BENCHMARKS.md has the figures.
//! Templates Azure itself rejects (duplicate resources, impossible parameters; see
//! tests/templates.rs) are measured up to the error, named `plan/<name>-rejected`.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use landfall_template::template::Parameters;
use landfall_template::{DeploymentContext, NoResolver, Plan, Template, TemplateError, plan};

const BICEP_BASELINES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/azure/templates/bicep-baselines"
);
const QUICKSTARTS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/azure/templates/quickstarts"
);

/// A template to benchmark: its benchmark name and text.
struct Case {
    name: String,
    text: String,
}

/// Subdirectories of `dir`, sorted; empty (with a note) when `dir` cannot be read.
fn subdirectories(dir: &str) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect(),
        Err(e) => {
            eprintln!("note: cannot read {dir}: {e}");
            Vec::new()
        }
    };
    dirs.sort();
    dirs
}

fn dir_name(dir: &Path) -> String {
    dir.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Every Bicep baseline and quickstart template that exists, in a stable order.
fn cases() -> Vec<Case> {
    let mut files = Vec::new();
    for dir in subdirectories(BICEP_BASELINES) {
        for (file, suffix) in [
            ("main.json", "main"),
            ("main.symbolicnames.json", "symbolicnames"),
        ] {
            files.push((format!("{}-{suffix}", dir_name(&dir)), dir.join(file)));
        }
    }
    for dir in subdirectories(QUICKSTARTS) {
        files.push((
            format!("quickstart-{}", dir_name(&dir)),
            dir.join("azuredeploy.json"),
        ));
    }
    files
        .into_iter()
        .filter(|(_, path)| path.is_file())
        .filter_map(|(name, path)| match std::fs::read_to_string(&path) {
            Ok(text) => Some(Case { name, text }),
            Err(e) => {
                eprintln!("note: skipping {name}: cannot read {}: {e}", path.display());
                None
            }
        })
        .collect()
}

/// What is measured: parse the template and plan it with sample values for its parameters.
fn parse_and_plan(text: &str, context: &DeploymentContext) -> Result<Plan, TemplateError> {
    let template = Template::parse(text)?;
    let parameters = Parameters::new().with_samples_for(template.parameters());
    plan(&template, &parameters, context, &NoResolver)
}

fn bench_plan(c: &mut Criterion) {
    let context = DeploymentContext {
        guid_seed: Some(0),
        ..DeploymentContext::default()
    };
    let all = cases();
    let rejected: Vec<bool> = all
        .iter()
        .map(|case| parse_and_plan(&case.text, &context).is_err())
        .collect();
    eprintln!(
        "note: {} templates, {} planned to Azure's error; plan/all runs every one",
        all.len(),
        rejected.iter().filter(|r| **r).count()
    );

    let mut group = c.benchmark_group("plan");
    for (case, rejected) in all.iter().zip(&rejected) {
        let name = if *rejected {
            format!("{}-rejected", case.name)
        } else {
            case.name.clone()
        };
        group.bench_function(name.as_str(), |b| {
            b.iter(|| parse_and_plan(black_box(&case.text), &context))
        });
    }
    group.bench_function("all", |b| {
        b.iter(|| {
            all.iter()
                .map(|case| parse_and_plan(black_box(&case.text), &context).is_ok())
                .filter(|planned| *planned)
                .count()
        })
    });
    group.finish();
}

/// Criterion's generated `benches` function, in a module so it needs no public docs.
mod group {
    use super::*;

    criterion_group! {
        name = benches;
        // Short runs: about 40 benchmarks on a shared 2-core machine. Criterion's command line
        // (`-- --measurement-time 10`) lengthens them when the figures need to be tighter.
        config = Criterion::default()
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(2))
            .sample_size(30);
        targets = bench_plan
    }
}
criterion_main!(group::benches);
