//! The bundle's `manifest.json`: stages and their templates, the inputs a person chooses, the
//! derived Azure names, presets, the price snapshot and the cost formula.
//!
//! Every value that depends on the inputs is an ARM expression, evaluated by
//! landfall-template with Landfall's host functions (see [`crate::render`]):
//! - `inputs('name')`: a validated input value;
//! - `names('key')`: a derived resource name from [`Manifest::names`];
//! - `instanceTags()`: the tags every instance resource carries;
//! - `stageOutputs('stage')`: an object of a finished stage's outputs (name -> value); a
//!   stage's references to other stages define the stage graph;
//! - `price('meter')`: in cost formulas only, the hourly or monthly list price of a meter in
//!   the chosen region from [`PriceSnapshot`].

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// The manifest schema version this build reads.
pub const SCHEMA_VERSION: u32 = 1;

/// `manifest.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Manifest {
    /// Always [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The bundle's machine name (`data-platform`).
    pub name: String,
    /// The platform version this bundle installs; the `landfall-version` tag.
    pub version: String,
    /// The product name shown to people.
    pub display_name: String,
    /// The stages, in display order. Each deploys one template as one named deployment.
    pub stages: Vec<StageDef>,
    /// Input groups, in display order (basics, cluster, database...).
    pub groups: Vec<GroupDef>,
    /// What a person chooses.
    pub inputs: Vec<InputDef>,
    /// Derived Azure resource names, checked against their naming rule before anything runs.
    pub names: IndexMap<String, NameDef>,
    /// Presets: complete or partial input values.
    pub presets: Vec<Preset>,
    /// The instance's outputs shown when it is done (`instanceUrl`...): expressions over
    /// `stageOutputs()`.
    pub outputs: IndexMap<String, OutputDef>,
    /// The dated list-price snapshot.
    pub prices: PriceSnapshot,
    /// The monthly cost formula, one line per billed resource.
    pub cost: Vec<CostItem>,
}

/// One stage: a template deployed as one named deployment at resource-group scope.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StageDef {
    /// Machine name (`network`); part of the deployment name.
    pub name: String,
    /// Shown to people (`Network`).
    pub label: String,
    /// What it creates, one sentence.
    #[serde(default)]
    pub description: String,
    /// The template file, relative to the bundle root.
    pub template: String,
    /// The template's parameters: plain JSON values or expressions (strings in `[...]`).
    #[serde(default)]
    pub parameters: IndexMap<String, Json>,
}

/// An input group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GroupDef {
    /// Machine name.
    pub name: String,
    /// Shown to people.
    pub label: String,
    /// True for groups the wizard puts in the advanced drawer.
    #[serde(default)]
    pub advanced: bool,
}

/// The type of an input value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub enum InputType {
    /// Text.
    String,
    /// A whole number.
    Int,
    /// True or false.
    Bool,
    /// A secret: never written to the journal, a log or a bundle. With `generate`, the
    /// engine creates it from a CSPRNG when it is not given.
    Secret,
}

/// What the engine generates for a secret input nobody gave.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub enum Generate {
    /// A password meeting Azure's complexity rules (upper, lower, digit, symbol), 24
    /// characters.
    Password,
}

/// One input a person chooses.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InputDef {
    /// Machine name, used in `inputs('name')`, `--set name=value` and input files.
    pub name: String,
    /// The value's type.
    #[serde(rename = "type")]
    pub kind: InputType,
    /// Short label.
    pub label: String,
    /// One or two sentences of help.
    #[serde(default)]
    pub help: String,
    /// The group it is shown in.
    pub group: String,
    /// The value when neither a preset nor the person gives one. Inputs without a default
    /// and without `generate` are required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Json>,
    /// Allowed values (strings or ints), in display order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Vec<Json>>,
    /// Smallest int value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<i64>,
    /// Largest int value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<i64>,
    /// Shortest string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<usize>,
    /// Longest string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<usize>,
    /// Characters a string may contain, as a rule name (see [`crate::naming::Charset`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charset: Option<String>,
    /// The unit shown next to a number (`nodes`, `GiB`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// For secrets: what the engine generates when the value is not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generate: Option<Generate>,
    /// Cross-input rules: expressions that must be true, with the message when not
    /// (`[greaterOrEquals(inputs('userNodeMax'), inputs('userNodeMin'))]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<RuleDef>,
}

/// A rule over several inputs, reported on the input that declares it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RuleDef {
    /// An expression that evaluates to a bool.
    pub check: String,
    /// The message when it is false, in plain words.
    pub message: String,
}

/// A derived Azure resource name.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NameDef {
    /// The naming rule it must satisfy (see [`crate::naming::NamingRule`]).
    pub rule: String,
    /// An expression over `inputs()` giving the name.
    pub value: String,
}

/// A preset.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Preset {
    /// Machine name (`demo`, `small`, `medium`, `large`).
    pub name: String,
    /// Shown on the card.
    pub label: String,
    /// Who it is for, one sentence.
    #[serde(default)]
    pub description: String,
    /// Input values; inputs not listed keep their defaults.
    pub values: IndexMap<String, Json>,
}

/// An instance output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OutputDef {
    /// Shown to people.
    pub label: String,
    /// An expression over `stageOutputs()` (and `inputs()`, `names()`).
    pub value: String,
    /// True for the instance's main URL (shown large).
    #[serde(default)]
    pub primary: bool,
}

/// The dated list-price snapshot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PriceSnapshot {
    /// The day the prices were taken (`2026-10-01`).
    pub date: String,
    /// ISO currency code.
    pub currency: String,
    /// Where they come from, in words.
    pub source: String,
    /// Per region (ARM location name): meter -> price. Meters name their unit: `vm/<size>`
    /// per hour, `mysql/<sku>` per hour, `mysqlStorage` per GiB-month, `blob/<redundancy>`
    /// per GiB-month...
    pub regions: IndexMap<String, IndexMap<String, f64>>,
}

/// What a cost line is counted under (the stacked bar's segments).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub enum CostCategory {
    /// Virtual machines (node pools).
    Compute,
    /// The database server and its storage.
    Database,
    /// Blob storage, the registry.
    Storage,
    /// Networking, monitoring, secrets.
    Network,
}

/// One line of the monthly cost formula.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CostItem {
    /// Shown to people (`AKS user nodes`).
    pub label: String,
    /// Its segment.
    pub category: CostCategory,
    /// The stage that creates the resource.
    pub stage: String,
    /// An expression over `inputs()` and `price()` giving the monthly amount.
    pub monthly: String,
}

impl Manifest {
    /// A stage by name.
    pub fn stage(&self, name: &str) -> Option<&StageDef> {
        self.stages.iter().find(|s| s.name == name)
    }

    /// An input by name.
    pub fn input(&self, name: &str) -> Option<&InputDef> {
        self.inputs.iter().find(|i| i.name == name)
    }

    /// A preset by name.
    pub fn preset(&self, name: &str) -> Option<&Preset> {
        self.presets.iter().find(|p| p.name == name)
    }

    /// The regions the price snapshot covers: the only ones offered.
    pub fn regions(&self) -> impl Iterator<Item = &str> {
        self.prices.regions.keys().map(String::as_str)
    }
}
