//! The template bundle: `manifest.json`, the stage templates and `digest.txt`, compiled into
//! the binary ([`Bundle::builtin`], from `templates/data-platform` by `build.rs`) or read from
//! a folder ([`Bundle::from_dir`]).
//!
//! Loading checks everything a run would otherwise trip over later, and reports every problem
//! at once: the digest, the schema version, each template (parsed once, errors with file, line
//! and column), groups, presets, stage names, every `inputs()`/`names()`/`stageOutputs()`/
//! `price()` reference, and the stage graph.

use std::path::Path;

use indexmap::IndexMap;
use landfall_template::json::Spans;
use landfall_template::value::get_ci;
use landfall_template::{DeploymentScope, Template};
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

use crate::error::EngineError;
use crate::manifest::{InputType, Manifest, SCHEMA_VERSION};
use crate::naming::{Charset, NamingRule};
use crate::render::{Reference, StageGraph, json_references};

mod builtin {
    include!(concat!(env!("OUT_DIR"), "/builtin_bundle.rs"));
}

/// The manifest's file name in a bundle.
pub const MANIFEST_FILE: &str = "manifest.json";
/// The digest's file name in a bundle.
pub const DIGEST_FILE: &str = "digest.txt";

/// A loaded and checked bundle.
#[derive(Clone)]
pub struct Bundle {
    /// The manifest.
    pub manifest: Manifest,
    /// Every file: path relative to the bundle root ('/' separated) -> text.
    pub files: IndexMap<String, String>,
    /// `sha256:<hex>` over the files (see [`compute_digest`]).
    pub digest: String,
    templates: IndexMap<String, Template>,
    graph: StageGraph,
}

impl std::fmt::Debug for Bundle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bundle")
            .field("name", &self.manifest.name)
            .field("version", &self.manifest.version)
            .field("digest", &self.digest)
            .field("files", &self.files.len())
            .finish_non_exhaustive()
    }
}

impl Bundle {
    /// The bundle compiled into this build.
    pub fn builtin() -> Result<Bundle, EngineError> {
        if builtin::FILES.is_empty() {
            return Err(EngineError::Bundle(format!(
                "this build has no built-in bundle: the folder {} was missing or empty when it was compiled; add the templates there and rebuild, or load a bundle from a folder",
                builtin::ROOT
            )));
        }
        if !builtin::UNREADABLE.is_empty() {
            return Err(EngineError::Bundle(format!(
                "the built-in bundle has files that are not UTF-8 text: {}",
                builtin::UNREADABLE.join(", ")
            )));
        }
        let files = builtin::FILES
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        load("the built-in bundle", builtin::ROOT, files)
    }

    /// The bundle in a folder.
    pub fn from_dir(path: impl AsRef<Path>) -> Result<Bundle, EngineError> {
        let path = path.as_ref();
        let files = read_dir(path)?;
        load(
            &format!("the bundle at {}", path.display()),
            &path.display().to_string(),
            files,
        )
    }

    /// A bundle from its files (path -> text).
    pub fn from_files(files: IndexMap<String, String>) -> Result<Bundle, EngineError> {
        load("the bundle", "DIR", files)
    }

    /// A stage's template, parsed at load.
    pub fn template(&self, stage: &str) -> Result<&Template, EngineError> {
        self.templates
            .get(stage)
            .ok_or_else(|| EngineError::NotFound(format!("the bundle has no stage '{stage}'")))
    }

    /// The stage graph.
    pub fn stage_graph(&self) -> &StageGraph {
        &self.graph
    }
}

fn load(origin: &str, dir: &str, files: IndexMap<String, String>) -> Result<Bundle, EngineError> {
    check(files, dir)
        .map_err(|problems| EngineError::Bundle(format!("{origin}: {}", problems.join("; "))))
}

/// `sha256:` and the hex SHA-256 over the files sorted by path, each as its path, NUL, its
/// length in bytes (decimal), NUL and its bytes. `digest.txt` itself is left out.
pub fn compute_digest(files: &IndexMap<String, String>) -> String {
    let mut sorted: Vec<(&String, &String)> =
        files.iter().filter(|(p, _)| *p != DIGEST_FILE).collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let mut h = Sha256::new();
    for (path, text) in sorted {
        h.update(path.as_bytes());
        h.update([0]);
        h.update(text.len().to_string().as_bytes());
        h.update([0]);
        h.update(text.as_bytes());
    }
    let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// Reads every file of a bundle folder (path relative to it, '/' separated -> text). Files and
/// folders whose name starts with '.' are not part of a bundle.
pub fn read_dir(path: &Path) -> Result<IndexMap<String, String>, EngineError> {
    if !path.is_dir() {
        return Err(EngineError::Bundle(format!(
            "there is no bundle folder at {}",
            path.display()
        )));
    }
    let mut files = Vec::new();
    collect(path, path, &mut files)?;
    files.sort();
    Ok(files.into_iter().collect())
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) -> Result<(), EngineError> {
    let io = |p: &Path, e: std::io::Error| {
        EngineError::Bundle(format!("cannot read {}: {e}", p.display()))
    };
    for entry in std::fs::read_dir(dir).map_err(|e| io(dir, e))? {
        let entry = entry.map_err(|e| io(dir, e))?;
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            collect(root, &path, out)?;
            continue;
        }
        let bytes = std::fs::read(&path).map_err(|e| io(&path, e))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| EngineError::Bundle(format!("{} is not UTF-8 text", path.display())))?;
        let rel = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        out.push((rel, text));
    }
    Ok(())
}

/// Checks a bundle's files and loads it, or lists every problem found. `dir` is how the
/// regenerate hint names the folder.
pub fn check(files: IndexMap<String, String>, dir: &str) -> Result<Bundle, Vec<String>> {
    let mut problems = Vec::new();
    let digest = compute_digest(&files);
    match files.get(DIGEST_FILE).map(|d| d.trim()) {
        None => problems.push(format!(
            "it has no {DIGEST_FILE}; create it with `landfall manifest digest {dir} --write`"
        )),
        Some(expected) if expected != digest => problems.push(format!(
            "its files do not match its digest: {DIGEST_FILE} says {expected}, the files hash to {digest}; if the change is intended, regenerate it with `landfall manifest digest {dir} --write`"
        )),
        Some(_) => {}
    }
    let Some(text) = files.get(MANIFEST_FILE) else {
        problems.push(format!("it has no {MANIFEST_FILE}"));
        return Err(problems);
    };
    let manifest: Manifest = match serde_json::from_str(text) {
        Ok(m) => m,
        Err(e) => {
            problems.push(format!(
                "{MANIFEST_FILE} line {}, column {}: {e}",
                e.line(),
                e.column()
            ));
            return Err(problems);
        }
    };
    let spans = landfall_template::json::parse(text).ok().map(|d| d.spans);
    let mut c = Checker {
        manifest: &manifest,
        files: &files,
        spans: spans.as_ref(),
        templates: IndexMap::new(),
        problems,
        stage_refs_ok: true,
    };
    c.check_all();
    let Checker {
        templates,
        mut problems,
        stage_refs_ok,
        ..
    } = c;
    // Dangling stage references are already reported with their position; the graph adds
    // cycles once every reference resolves.
    let graph = if stage_refs_ok {
        match StageGraph::build(&manifest) {
            Ok(g) => Some(g),
            Err(mut p) => {
                problems.append(&mut p);
                None
            }
        }
    } else {
        None
    };
    match graph {
        Some(graph) if problems.is_empty() => Ok(Bundle {
            manifest,
            files,
            digest,
            templates,
            graph,
        }),
        _ => Err(problems),
    }
}

/// Where a reference may appear.
#[derive(Clone, Copy)]
struct Allowed {
    stage_outputs: bool,
    price: bool,
    tags: bool,
}

struct Checker<'a> {
    manifest: &'a Manifest,
    files: &'a IndexMap<String, String>,
    spans: Option<&'a Spans>,
    templates: IndexMap<String, Template>,
    problems: Vec<String>,
    stage_refs_ok: bool,
}

impl Checker<'_> {
    fn at(&mut self, path: &str, message: impl std::fmt::Display) {
        let pos = self
            .spans
            .and_then(|s| s.node(path))
            .map(|n| n.pos())
            .map(|p| format!(" line {}, column {}", p.line, p.column))
            .unwrap_or_default();
        self.problems
            .push(format!("{MANIFEST_FILE}{pos} ({path}): {message}"));
    }

    fn check_all(&mut self) {
        let m = self.manifest;
        if m.schema_version != SCHEMA_VERSION {
            self.at(
                "schemaVersion",
                format!(
                    "schema version {} is not the one this build reads ({SCHEMA_VERSION})",
                    m.schema_version
                ),
            );
        }
        self.check_stages();
        self.check_inputs();
        self.check_names();
        self.check_presets();
        self.check_prices();
        self.check_expressions();
    }

    fn check_stages(&mut self) {
        let m = self.manifest;
        if m.stages.is_empty() {
            self.at("stages", "there are no stages");
        }
        for (i, stage) in m.stages.iter().enumerate() {
            let path = format!("stages[{i}]");
            let valid_name = !stage.name.is_empty()
                && stage.name.len() <= 30
                && stage
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !valid_name {
                self.at(
                    &format!("{path}.name"),
                    format!(
                        "the stage name '{}' must be 1 to 30 letters, digits, hyphens or underscores (it is part of a deployment name)",
                        stage.name
                    ),
                );
            }
            if m.stages[..i].iter().any(|s| s.name == stage.name) {
                self.at(
                    &format!("{path}.name"),
                    format!("the stage name '{}' is used twice", stage.name),
                );
            }
            let Some(text) = self.files.get(&stage.template) else {
                self.at(
                    &format!("{path}.template"),
                    format!(
                        "the stage '{}' uses the template {}, which is not in the bundle",
                        stage.name, stage.template
                    ),
                );
                continue;
            };
            let template = match Template::parse(text) {
                Ok(t) => t,
                Err(e) => {
                    self.problems.push(format!("{}: {e}", stage.template));
                    continue;
                }
            };
            if template.target_scope() != DeploymentScope::ResourceGroup {
                self.problems.push(format!(
                    "{}: the stage '{}' deploys to a resource group, but the template's $schema is for another scope",
                    stage.template, stage.name
                ));
            }
            let declared = template.parameters();
            for p in stage.parameters.keys() {
                if !declared.keys().any(|d| d.eq_ignore_ascii_case(p)) {
                    let list: Vec<&str> = declared.keys().map(String::as_str).collect();
                    self.at(
                        &format!("{path}.parameters.{p}"),
                        format!(
                            "{} declares no parameter '{p}'; it declares {}",
                            stage.template,
                            list.join(", ")
                        ),
                    );
                }
            }
            for (name, def) in declared {
                let given = stage
                    .parameters
                    .keys()
                    .any(|p| p.eq_ignore_ascii_case(name));
                if !given && def.default.is_none() && !def.nullable {
                    self.at(
                        &format!("{path}.parameters"),
                        format!(
                            "{} needs the parameter '{name}', which the stage does not give",
                            stage.template
                        ),
                    );
                }
            }
            self.templates.insert(stage.name.clone(), template);
        }
    }

    fn check_inputs(&mut self) {
        let m = self.manifest;
        for (i, g) in m.groups.iter().enumerate() {
            if m.groups[..i].iter().any(|x| x.name == g.name) {
                self.at(
                    &format!("groups[{i}].name"),
                    format!("the group name '{}' is used twice", g.name),
                );
            }
        }
        for (required, kind) in [("name", InputType::String), ("location", InputType::String)] {
            match m.input(required) {
                None => self.at(
                    "inputs",
                    format!("the engine needs an input '{required}' (string); there is none"),
                ),
                Some(d) if d.kind != kind => self.at(
                    "inputs",
                    format!("the input '{required}' must be of type string"),
                ),
                Some(_) => {}
            }
        }
        for (i, input) in m.inputs.iter().enumerate() {
            let path = format!("inputs[{i}]");
            let name = &input.name;
            if m.inputs[..i].iter().any(|x| x.name == *name) {
                self.at(
                    &format!("{path}.name"),
                    format!("the input name '{name}' is used twice"),
                );
            }
            if !m.groups.iter().any(|g| g.name == input.group) {
                self.at(
                    &format!("{path}.group"),
                    format!(
                        "the input '{name}' is in the group '{}', which is not declared",
                        input.group
                    ),
                );
            }
            if let Some(cs) = &input.charset
                && Charset::parse(cs).is_none()
            {
                let known: Vec<&str> = Charset::ALL.iter().map(|c| c.as_str()).collect();
                self.at(
                    &format!("{path}.charset"),
                    format!("unknown character set '{cs}'; known: {}", known.join(", ")),
                );
            }
            if input.generate.is_some() && input.kind != InputType::Secret {
                self.at(
                    &format!("{path}.generate"),
                    format!(
                        "the input '{name}' is not a secret, so nothing can be generated for it"
                    ),
                );
            }
            if let (Some(lo), Some(hi)) = (input.min, input.max)
                && lo > hi
            {
                self.at(
                    &format!("{path}.min"),
                    format!("min {lo} is above max {hi}"),
                );
            }
            if let (Some(lo), Some(hi)) = (input.min_length, input.max_length)
                && lo > hi
            {
                self.at(
                    &format!("{path}.minLength"),
                    format!("minLength {lo} is above maxLength {hi}"),
                );
            }
            let fits = |v: &Json| match input.kind {
                InputType::String | InputType::Secret => v.is_string(),
                InputType::Int => v.as_i64().is_some(),
                InputType::Bool => v.is_boolean(),
            };
            if let Some(allowed) = &input.allowed {
                if allowed.is_empty() {
                    self.at(
                        &format!("{path}.allowed"),
                        "the list of allowed values is empty",
                    );
                }
                for (j, a) in allowed.iter().enumerate() {
                    if !fits(a) {
                        self.at(
                            &format!("{path}.allowed[{j}]"),
                            format!("the allowed value {a} is not of the input's type"),
                        );
                    }
                }
            }
            if let Some(d) = &input.default
                && !d.is_null()
                && !fits(d)
            {
                self.at(
                    &format!("{path}.default"),
                    format!("the default {d} is not of the input's type"),
                );
            }
        }
    }

    fn check_names(&mut self) {
        let m = self.manifest;
        for (key, def) in &m.names {
            if NamingRule::parse(&def.rule).is_none() {
                let known: Vec<&str> = NamingRule::ALL.iter().map(|r| r.as_str()).collect();
                self.at(
                    &format!("names.{key}.rule"),
                    format!(
                        "unknown naming rule '{}'; known: {}",
                        def.rule,
                        known.join(", ")
                    ),
                );
            }
        }
    }

    fn check_presets(&mut self) {
        let m = self.manifest;
        for (i, preset) in m.presets.iter().enumerate() {
            if m.presets[..i].iter().any(|p| p.name == preset.name) {
                self.at(
                    &format!("presets[{i}].name"),
                    format!("the preset name '{}' is used twice", preset.name),
                );
            }
            for k in preset.values.keys() {
                if m.input(k).is_none() {
                    self.at(
                        &format!("presets[{i}].values.{k}"),
                        format!(
                            "the preset '{}' sets '{k}', which is not an input",
                            preset.name
                        ),
                    );
                }
            }
        }
    }

    fn check_prices(&mut self) {
        let m = self.manifest;
        if m.prices.regions.is_empty() {
            self.at("prices.regions", "the price snapshot has no regions");
        }
        for (region, table) in &m.prices.regions {
            for (meter, price) in table {
                if !price.is_finite() || *price < 0.0 {
                    self.at(
                        &format!("prices.regions.{region}"),
                        format!("the price of '{meter}' in '{region}' is {price}"),
                    );
                }
            }
        }
        for (i, item) in m.cost.iter().enumerate() {
            if m.stage(&item.stage).is_none() {
                self.at(
                    &format!("cost[{i}].stage"),
                    format!(
                        "the cost line '{}' names no stage '{}'",
                        item.label, item.stage
                    ),
                );
            }
        }
    }

    fn check_expressions(&mut self) {
        let m = self.manifest;
        let stage = Allowed {
            stage_outputs: true,
            price: false,
            tags: true,
        };
        let plain = Allowed {
            stage_outputs: false,
            price: false,
            tags: false,
        };
        let before = self.problems.len();
        for (i, s) in m.stages.iter().enumerate() {
            for (p, v) in &s.parameters {
                self.check_refs(&format!("stages[{i}].parameters.{p}"), v, stage);
            }
        }
        self.stage_refs_ok = self.problems.len() == before;
        for (i, input) in m.inputs.iter().enumerate() {
            for (j, rule) in input.rules.iter().enumerate() {
                self.check_refs(
                    &format!("inputs[{i}].rules[{j}].check"),
                    &Json::String(rule.check.clone()),
                    plain,
                );
            }
        }
        for (key, def) in &m.names {
            self.check_refs(
                &format!("names.{key}.value"),
                &Json::String(def.value.clone()),
                plain,
            );
        }
        for (key, def) in &m.outputs {
            self.check_refs(
                &format!("outputs.{key}.value"),
                &Json::String(def.value.clone()),
                stage,
            );
        }
        for (i, item) in m.cost.iter().enumerate() {
            self.check_refs(
                &format!("cost[{i}].monthly"),
                &Json::String(item.monthly.clone()),
                Allowed {
                    stage_outputs: false,
                    price: true,
                    tags: false,
                },
            );
        }
    }

    fn check_refs(&mut self, path: &str, v: &Json, allowed: Allowed) {
        let refs = match json_references(v) {
            Ok(r) => r,
            Err(e) => return self.at(path, e),
        };
        let m = self.manifest;
        for r in refs {
            match r {
                Reference::Input(x) if m.input(&x).is_none() => {
                    self.at(path, format!("inputs('{x}') names no input"));
                }
                Reference::Name(x) if !m.names.contains_key(&x) => {
                    self.at(path, format!("names('{x}') names no derived name"));
                }
                Reference::StageOutput { .. } if !allowed.stage_outputs => self.at(
                    path,
                    "stageOutputs() can be used only in stage parameters and instance outputs",
                ),
                Reference::StageOutput { stage, output } => self.check_output(path, &stage, output),
                Reference::Price(_) if !allowed.price => {
                    self.at(path, "price() can be used only in cost formulas");
                }
                Reference::Price(Some(meter)) => {
                    let missing: Vec<&str> = m
                        .prices
                        .regions
                        .iter()
                        .filter(|(_, t)| !t.contains_key(&meter))
                        .map(|(r, _)| r.as_str())
                        .collect();
                    if !missing.is_empty() {
                        self.at(
                            path,
                            format!(
                                "the price snapshot has no price for the meter '{meter}' in {}",
                                missing.join(", ")
                            ),
                        );
                    }
                }
                Reference::InstanceTags if !allowed.tags => self.at(
                    path,
                    "instanceTags() can be used only in stage parameters and instance outputs",
                ),
                _ => {}
            }
        }
    }

    fn check_output(&mut self, path: &str, stage: &str, output: Option<String>) {
        let Some(def) = self.manifest.stage(stage) else {
            return self.at(path, format!("stageOutputs('{stage}') names no stage"));
        };
        let (Some(output), Some(template)) = (output, self.templates.get(stage)) else {
            return;
        };
        let declared: Vec<String> = match get_ci(template.root(), "outputs") {
            Some(landfall_template::Value::Object(o)) => o.keys().cloned().collect(),
            _ => Vec::new(),
        };
        if !declared.iter().any(|d| d.eq_ignore_ascii_case(&output)) {
            let list = if declared.is_empty() {
                "no outputs".to_owned()
            } else {
                declared.join(", ")
            };
            self.at(
                path,
                format!(
                    "stageOutputs('{stage}').{output}: {} declares no output '{output}' (it declares {list})",
                    def.template
                ),
            );
        }
    }
}
