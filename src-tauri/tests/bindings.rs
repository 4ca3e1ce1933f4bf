//! The TypeScript bindings the desktop UI imports (`ui/src/lib/bindings`) are exactly what ts-rs
//! generates from the wire types today (the engine's, landfall-azure's errors, and the
//! desktop's own in `src/wire.rs`): one file per type plus an `index.ts` that
//! re-exports them all. `LANDFALL_WRITE_BINDINGS=1` makes the check write the files instead.
//! Files are rendered in memory with `TS::export_to_string` (the bytes `TS::export` writes), so
//! no `TS_RS_EXPORT_DIR` is needed and nothing is written unless asked; the types carry no
//! `#[ts(export)]`, whose generated unit tests would write into `crates/engine/bindings`.
//!
//! `cargo test -p landfall-desktop --test bindings`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::any::TypeId;
use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use landfall_azure::{
    AdditionalInfo, ArmErrorDetail, ErrorCode, ErrorReport, FailedOperation, QuotaShortfall,
    Remediation,
};
use landfall_desktop::wire::{
    CloudOption, DemoOptions, DeployRequest, DeployTarget, InputsCheck, ReviewPlan, SavedFile,
    Session, SignInMethod, SignInPrompt, SubscriptionSummary, TenantSummary,
};
use landfall_engine::cost::{CostEstimate, CostLine};
use landfall_engine::events::{PlannedItem, StageSummary};
use landfall_engine::installer::StageWhatIf;
use landfall_engine::instances::{InstanceSource, InstanceView};
use landfall_engine::journal::{
    InstanceRecord, InstanceState, RunRecord, RunState, StageRecord, Watcher,
};
use landfall_engine::manifest::{
    CostCategory, CostItem, Generate, GroupDef, InputDef, InputType, Manifest, NameDef, OutputDef,
    Preset, PriceSnapshot, RuleDef, StageDef,
};
use landfall_engine::preflight::{
    Check, CheckStatus, Fix, FixAction, GlobalName, MySqlDemand, NameKind, PreflightReport,
    PreflightRequest, StageCheck, VmDemand, WhatIfGroup, WhatIfResource,
};
use landfall_engine::snapshot::{
    NoticeEntry, ResourceSnapshot, ResourceState, RunProgress, RunSnapshot, RunTarget,
    StageSnapshot, StageState,
};
use landfall_engine::{DeploymentEvent, EventEnvelope, InputError, Outcome, Problem, RunKind};
use time::OffsetDateTime;
use ts_rs::{Config, TS, TypeVisitor};

/// Set to `1` to write the bindings into `ui/src/lib/bindings` instead of checking them.
const WRITE_VAR: &str = "LANDFALL_WRITE_BINDINGS";
const REGENERATE: &str = "LANDFALL_WRITE_BINDINGS=1 cargo test -p landfall-desktop --test bindings";

/// The committed bindings, relative to this crate.
fn bindings_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/lib/bindings")
}

/// How the bindings are rendered; the same settings for the check and the writer.
fn config() -> Config {
    // serde_json writes u64 and i64 as JSON numbers, which `JSON.parse` reads as `number`, never
    // as `bigint` (ts-rs's default for 64-bit integers).
    Config::new().with_large_int("number")
}

/// One generated file: the type it declares and its text.
struct Generated {
    rust_name: &'static str,
    ts_name: String,
    text: String,
}

/// Walks the wire types and everything they reference, rendering each exported type once.
struct Collect {
    cfg: Config,
    files: BTreeMap<PathBuf, Generated>,
    seen: HashSet<TypeId>,
    problems: Vec<String>,
}

impl TypeVisitor for Collect {
    fn visit<T: TS + 'static + ?Sized>(&mut self) {
        let Some(path) = T::output_path() else {
            return; // primitives, Vec, Option...: inlined, no file of their own
        };
        if !self.seen.insert(TypeId::of::<T>()) {
            return;
        }
        let rust_name = std::any::type_name::<T>();
        let text = match T::export_to_string(&self.cfg) {
            Ok(text) => text,
            Err(e) => return self.problems.push(format!("{rust_name}: {e}")),
        };
        if let Some(existing) = self.files.get(&path) {
            // A shadow (ts-rs renders `serde_json::Value` as its own `JsonValue`) writes the same
            // file; two different Rust types with one TypeScript name would overwrite each other.
            if existing.text != text {
                self.problems.push(format!(
                    "{} and {rust_name} both export {}: rename one with #[ts(rename = ...)]",
                    existing.rust_name,
                    path.display()
                ));
            }
            return;
        }
        let ts_name = T::ident(&self.cfg);
        self.files.insert(
            path,
            Generated {
                rust_name,
                ts_name,
                text,
            },
        );
        T::visit_dependencies(self);
    }
}

/// Every wire type (the rest are reached through them): the UI's whole vocabulary.
fn render_all() -> BTreeMap<PathBuf, String> {
    let mut c = Collect {
        cfg: config(),
        files: BTreeMap::new(),
        seen: HashSet::new(),
        problems: Vec::new(),
    };
    // events.rs
    c.visit::<EventEnvelope>();
    c.visit::<DeploymentEvent>();
    c.visit::<RunKind>();
    c.visit::<Outcome>();
    c.visit::<PlannedItem>();
    c.visit::<StageSummary>();
    // snapshot.rs
    c.visit::<RunSnapshot>();
    c.visit::<RunTarget>();
    c.visit::<RunProgress>();
    c.visit::<StageSnapshot>();
    c.visit::<StageState>();
    c.visit::<ResourceSnapshot>();
    c.visit::<ResourceState>();
    c.visit::<NoticeEntry>();
    // preflight.rs
    c.visit::<PreflightRequest>();
    c.visit::<VmDemand>();
    c.visit::<MySqlDemand>();
    c.visit::<NameKind>();
    c.visit::<GlobalName>();
    c.visit::<StageCheck>();
    c.visit::<PreflightReport>();
    c.visit::<Check>();
    c.visit::<CheckStatus>();
    c.visit::<Fix>();
    c.visit::<FixAction>();
    c.visit::<WhatIfGroup>();
    c.visit::<WhatIfResource>();
    // cost.rs
    c.visit::<CostEstimate>();
    c.visit::<CostLine>();
    // manifest.rs
    c.visit::<Manifest>();
    c.visit::<StageDef>();
    c.visit::<GroupDef>();
    c.visit::<InputDef>();
    c.visit::<InputType>();
    c.visit::<Generate>();
    c.visit::<RuleDef>();
    c.visit::<NameDef>();
    c.visit::<Preset>();
    c.visit::<OutputDef>();
    c.visit::<PriceSnapshot>();
    c.visit::<CostCategory>();
    c.visit::<CostItem>();
    // journal.rs
    c.visit::<RunRecord>();
    c.visit::<InstanceRecord>();
    c.visit::<StageRecord>();
    c.visit::<RunState>();
    c.visit::<InstanceState>();
    c.visit::<Watcher>();
    // error.rs
    c.visit::<Problem>();
    c.visit::<InputError>();
    // instances.rs
    c.visit::<InstanceView>();
    c.visit::<InstanceSource>();
    // installer.rs
    c.visit::<StageWhatIf>();
    // landfall-azure's error.rs
    c.visit::<ErrorReport>();
    c.visit::<ErrorCode>();
    c.visit::<ArmErrorDetail>();
    c.visit::<AdditionalInfo>();
    c.visit::<FailedOperation>();
    c.visit::<Remediation>();
    c.visit::<QuotaShortfall>();
    // the desktop's commands (src/wire.rs)
    c.visit::<CloudOption>();
    c.visit::<SignInMethod>();
    c.visit::<SignInPrompt>();
    c.visit::<Session>();
    c.visit::<TenantSummary>();
    c.visit::<SubscriptionSummary>();
    c.visit::<DemoOptions>();
    c.visit::<DeployTarget>();
    c.visit::<DeployRequest>();
    c.visit::<InputsCheck>();
    c.visit::<ReviewPlan>();
    c.visit::<SavedFile>();
    assert!(
        c.problems.is_empty(),
        "cannot render the bindings:\n{}",
        c.problems.join("\n")
    );

    let mut index = String::from(
        "// Generated by src-tauri/tests/bindings.rs from the Rust wire types. Do not edit.\n",
    );
    let mut out = BTreeMap::new();
    for (path, generated) in c.files {
        let module = path.with_extension("");
        let module = module
            .to_str()
            .expect("binding paths are UTF-8")
            .replace('\\', "/");
        writeln!(
            index,
            "export type {{ {} }} from \"./{module}\";",
            generated.ts_name
        )
        .unwrap();
        out.insert(path, generated.text);
    }
    out.insert(PathBuf::from("index.ts"), index);
    out
}

/// The `.ts` files under `dir`, relative to it (empty when `dir` does not exist).
fn committed_files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else if path.extension().is_some_and(|e| e == "ts") {
                let relative = path.strip_prefix(root).unwrap().to_path_buf();
                out.insert(relative, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// Makes `dir` hold exactly `files` (other `.ts` files there are stale and removed).
fn write_all(dir: &Path, files: &BTreeMap<PathBuf, String>) {
    for stale in committed_files(dir)
        .keys()
        .filter(|p| !files.contains_key(*p))
    {
        std::fs::remove_file(dir.join(stale)).unwrap();
    }
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

#[test]
fn committed_bindings_match_the_rust_types() {
    let dir = bindings_dir();
    let generated = render_all();
    if std::env::var(WRITE_VAR).is_ok_and(|v| v == "1") {
        write_all(&dir, &generated);
        eprintln!("wrote {} files into {}", generated.len(), dir.display());
        return;
    }

    let committed = committed_files(&dir);
    let mut report = Vec::new();
    for (path, text) in &generated {
        match committed.get(path) {
            None => report.push(format!("missing: {}", path.display())),
            Some(bytes) if bytes != text.as_bytes() => {
                report.push(format!("stale:   {}", path.display()));
            }
            Some(_) => {}
        }
    }
    for path in committed.keys().filter(|p| !generated.contains_key(*p)) {
        report.push(format!(
            "extra:   {} (no Rust type exports it)",
            path.display()
        ));
    }
    assert!(
        report.is_empty(),
        "the TypeScript bindings in ui/src/lib/bindings are out of date:\n  {}\n\
         regenerate them with:\n  {REGENERATE}",
        report.join("\n  ")
    );
}

#[test]
fn every_listed_wire_type_has_a_file() {
    let generated = render_all();
    for name in [
        "EventEnvelope",
        "DeploymentEvent",
        "RunSnapshot",
        "PreflightReport",
        "CostEstimate",
        "Manifest",
        "InputDef",
        "RunRecord",
        "Problem",
        "InstanceView",
        "StageWhatIf",
        "ErrorReport",
        "QuotaShortfall",
    ] {
        let path = PathBuf::from(format!("{name}.ts"));
        let text = generated
            .get(&path)
            .unwrap_or_else(|| panic!("no {name}.ts"));
        assert!(text.contains(&format!("export type {name} = ")), "{text}");
    }
    let index = &generated[Path::new("index.ts")];
    assert_eq!(
        index.lines().count(),
        generated.len(),
        "one re-export per file:\n{index}"
    );
    assert!(index.contains("export type { JsonValue } from \"./serde_json/JsonValue\";"));
}

/// The declaration without its doc comments, on one line.
fn without_docs(ts: &str) -> String {
    let mut out = String::new();
    let mut rest = ts;
    while let Some(start) = rest.find("/**") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("*/").expect("closed doc comment");
        rest = &rest[start + end + 2..];
    }
    out.push_str(rest);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The field names of the object type declared in `ts` (its outermost braces), optional ones
/// marked with `?`.
fn top_level_fields(ts: &str) -> Vec<String> {
    let decl = without_docs(ts);
    let body = &decl[decl.find(" = ").expect("a declaration")..];
    let mut fields = Vec::new();
    let (mut depth, mut word) = (0, String::new());
    for c in body.chars() {
        match c {
            '{' | '(' | '<' | '[' => depth += 1,
            '}' | ')' | '>' | ']' => depth -= 1,
            ':' if depth == 1 && !word.is_empty() => fields.push(std::mem::take(&mut word)),
            c if depth == 1 && (c.is_alphanumeric() || c == '?' || c == '_') => word.push(c),
            _ => word.clear(),
        }
    }
    fields
}

/// Serde's JSON keys for `value` equal the declaration's fields (optional ones may be absent).
fn assert_keys_match<T: serde::Serialize>(generated: &BTreeMap<PathBuf, String>, value: &T) {
    let name = std::any::type_name::<T>().rsplit("::").next().unwrap();
    let fields = top_level_fields(&generated[&PathBuf::from(format!("{name}.ts"))]);
    let json = serde_json::to_value(value).unwrap();
    let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
    for key in &keys {
        assert!(
            fields
                .iter()
                .any(|f| f.trim_end_matches('?') == key.as_str()),
            "{name}: serde writes `{key}`, the TypeScript has {fields:?}"
        );
    }
    for field in fields.iter().filter(|f| !f.ends_with('?')) {
        assert!(
            keys.contains(&field),
            "{name}: `{field}` is required in TypeScript, serde: {keys:?}"
        );
    }
}

#[test]
fn declared_fields_are_the_keys_serde_writes() {
    let generated = render_all();
    assert_keys_match(&generated, &RunSnapshot::default());
    assert_keys_match(&generated, &PreflightReport::default());
    assert_keys_match(&generated, &ArmErrorDetail::default());
    assert_keys_match(
        &generated,
        &Problem {
            code: "inputs".into(),
            message: "nodeCount: must be at least 1".into(),
            details: serde_json::Value::Null,
            remediation: None,
        },
    );
}

/// ts-rs renders the envelope as its `seq` and the flattened, adjacently tagged event; serde's
/// JSON must have exactly that shape, field names included.
#[test]
fn event_envelope_declaration_matches_serde_json() {
    let generated = render_all();
    let envelope = without_docs(&generated[Path::new("EventEnvelope.ts")]);
    let event = EventEnvelope {
        seq: 7,
        event: DeploymentEvent::StageCanceled {
            stage: "network".into(),
            at: OffsetDateTime::UNIX_EPOCH,
        },
    };
    let json = serde_json::to_string(&event).unwrap();
    assert_eq!(
        json,
        r#"{"seq":7,"event":"stageCanceled","data":{"stage":"network","at":"1970-01-01T00:00:00Z"}}"#
    );
    assert!(
        envelope.contains("export type EventEnvelope = { seq: number, } & ("),
        "{envelope}"
    );
    assert!(
        envelope
            .contains(r#"{ "event": "stageCanceled", "data": { stage: string, at: string, } }"#),
        "{envelope}"
    );
    // The flattened union lists every variant, so no event is missing from the UI's envelope.
    let union = &generated[Path::new("DeploymentEvent.ts")];
    assert_eq!(
        envelope.matches("\"event\": ").count(),
        union.matches("\"event\": ").count()
    );
    assert!(union.matches("\"event\": ").count() > 1, "{union}");
}
