//! Input values: gathered from defaults, a preset, an input file and `--set` flags
//! ([`resolve`]), then checked as a whole ([`validate`]) into [`ValidInputs`], which also holds
//! the derived Azure names and the generated secrets.
//!
//! Every problem is an [`InputError`] naming the input and the rule; validation reports all of
//! them at once. Secret values never appear in an error, in `Debug` output or in
//! [`ValidInputs::redacted`].

use std::collections::{BTreeSet, HashSet};

use indexmap::IndexMap;
use landfall_template::Value;
use ring::rand::{SecureRandom, SystemRandom};
use serde_json::Value as Json;

use crate::error::{EngineError, InputError};
use crate::manifest::{Generate, InputDef, InputType, Manifest};
use crate::naming::{Charset, NamingRule};
use crate::render::{self, ManifestScope, Reference, TAG_INSTANCE, TAG_VERSION};
use crate::target::Target;

/// What a redacted secret shows as.
pub const REDACTED: &str = "<redacted>";

/// Length of a generated password.
pub const PASSWORD_LENGTH: usize = 24;

fn err(input: &str, rule: &str, message: impl Into<String>) -> InputError {
    InputError {
        input: input.to_owned(),
        rule: rule.to_owned(),
        message: message.into(),
    }
}

/// Input values as given, not yet validated. Built by [`resolve`] (or [`InputValues::new`])
/// so it knows which inputs are secrets and never prints them.
#[derive(Clone, PartialEq)]
pub struct InputValues {
    values: IndexMap<String, Json>,
    secrets: BTreeSet<String>,
}

impl std::fmt::Debug for InputValues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(
                self.values
                    .iter()
                    .map(|(k, v)| (k, shown_value(&self.secrets, k, v))),
            )
            .finish()
    }
}

fn shown_value(secrets: &BTreeSet<String>, name: &str, v: &Json) -> Json {
    if secrets.contains(name) {
        Json::String(REDACTED.into())
    } else {
        v.clone()
    }
}

impl InputValues {
    /// The manifest's defaults.
    pub fn new(manifest: &Manifest) -> InputValues {
        InputValues {
            values: manifest
                .inputs
                .iter()
                .filter_map(|i| i.default.clone().map(|d| (i.name.clone(), d)))
                .filter(|(_, d)| !d.is_null())
                .collect(),
            secrets: manifest
                .inputs
                .iter()
                .filter(|i| i.kind == InputType::Secret)
                .map(|i| i.name.clone())
                .collect(),
        }
    }

    /// These values with one changed (the desktop's form edits one field at a time).
    pub fn with(mut self, name: impl Into<String>, value: Json) -> InputValues {
        self.set(name, value);
        self
    }

    /// Sets one value; `null` removes it (the input falls back to "not given").
    pub fn set(&mut self, name: impl Into<String>, value: Json) {
        let name = name.into();
        if value.is_null() {
            self.values.shift_remove(&name);
        } else {
            self.values.insert(name, value);
        }
    }

    /// A value.
    pub fn get(&self, name: &str) -> Option<&Json> {
        self.values.get(name)
    }

    /// Every value given, secrets included.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Json)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The values as JSON with secrets replaced by `<redacted>`.
    pub fn redacted(&self) -> Json {
        Json::Object(
            self.values
                .iter()
                .map(|(k, v)| (k.clone(), shown_value(&self.secrets, k, v)))
                .collect(),
        )
    }
}

/// Gathers input values: the manifest's defaults, then the preset, then the input file, then
/// each `--set name=value` (later wins). The file is JSON, either `{"name": value}` or the ARM
/// parameters-file form `{"parameters": {"name": {"value": ...}}}`. `--set` values are read
/// by the input's type. Every problem is reported, not only the first.
pub fn resolve(
    manifest: &Manifest,
    preset: Option<&str>,
    file: Option<&str>,
    sets: &[String],
) -> Result<InputValues, EngineError> {
    let mut values = InputValues::new(manifest);
    let mut errors = Vec::new();
    if let Some(p) = preset {
        match manifest.preset(p) {
            Some(p) => {
                for (k, v) in &p.values {
                    values.set(k.clone(), v.clone());
                }
            }
            None => {
                let known: Vec<&str> = manifest.presets.iter().map(|p| p.name.as_str()).collect();
                errors.push(err(
                    "--preset",
                    "preset",
                    format!(
                        "--preset: there is no preset '{p}'; choose one of {}",
                        known.join(", ")
                    ),
                ));
            }
        }
    }
    if let Some(text) = file {
        match read_file(manifest, text) {
            Ok(entries) => {
                for (k, v) in entries {
                    values.set(k, v);
                }
            }
            Err(mut e) => errors.append(&mut e),
        }
    }
    for s in sets {
        match read_set(manifest, s) {
            Ok((k, v)) => values.set(k, v),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(EngineError::Inputs(errors))
    }
}

fn unknown_input(manifest: &Manifest, name: &str, whence: &str) -> InputError {
    let hint = closest(manifest.inputs.iter().map(|i| i.name.as_str()), name)
        .map(|c| format!("; did you mean '{c}'?"))
        .unwrap_or_default();
    err(
        name,
        "unknown",
        format!("{whence}: there is no input named '{name}'{hint}"),
    )
}

/// The candidate closest to `name` (same letters ignoring case, or at most two edits away).
fn closest<'a>(candidates: impl Iterator<Item = &'a str>, name: &str) -> Option<&'a str> {
    let lower = name.to_ascii_lowercase();
    candidates
        .map(|c| (edit_distance(&c.to_ascii_lowercase(), &lower), c))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

fn read_file(manifest: &Manifest, text: &str) -> Result<Vec<(String, Json)>, Vec<InputError>> {
    let file_err = |m: String| vec![err("--inputs", "file", format!("the inputs file {m}"))];
    // Lenient, as ARM reads parameter files (comments, trailing commas).
    let doc = landfall_template::json::parse(text)
        .map_err(|e| file_err(format!("is not valid JSON: {e}")))?;
    let Json::Object(root) = doc.value.to_json() else {
        return Err(file_err(
            "must hold a JSON object: {\"name\": value} or {\"parameters\": {\"name\": {\"value\": ...}}}".into(),
        ));
    };
    let arm_entries = |p: &serde_json::Map<String, Json>| {
        p.values()
            .all(|e| e.get("value").is_some() || e.get("reference").is_some())
    };
    let marked = root.contains_key("$schema") || root.contains_key("contentVersion");
    let arm = match root.get("parameters") {
        Some(Json::Object(p)) if marked || arm_entries(p) => Some(p),
        _ if marked => {
            return Err(file_err(
                "looks like an ARM parameters file but has no 'parameters' object".into(),
            ));
        }
        _ => None,
    };
    let mut out = Vec::new();
    let mut errors = Vec::new();
    match arm {
        Some(params) => {
            for (name, entry) in params {
                if manifest.input(name).is_none() {
                    errors.push(unknown_input(manifest, name, "the inputs file"));
                    continue;
                }
                match entry.get("value") {
                    Some(Json::Null) => {}
                    Some(v) => out.push((name.clone(), v.clone())),
                    None if entry.get("reference").is_some() => errors.push(err(
                        name,
                        "file",
                        format!(
                            "the inputs file: '{name}' is a Key Vault reference, which Landfall cannot read; give the value itself"
                        ),
                    )),
                    None => errors.push(err(
                        name,
                        "file",
                        format!(
                            "the inputs file: 'parameters.{name}' needs a 'value' property"
                        ),
                    )),
                }
            }
        }
        None => {
            for (name, v) in root {
                if manifest.input(&name).is_none() {
                    errors.push(unknown_input(manifest, &name, "the inputs file"));
                } else if !v.is_null() {
                    out.push((name, v));
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn read_set(manifest: &Manifest, text: &str) -> Result<(String, Json), InputError> {
    let Some((name, raw)) = text.split_once('=').filter(|(n, _)| !n.trim().is_empty()) else {
        // The text may be a secret typed without its name: show it only when it is short and
        // names no secret input.
        let secretish = manifest.inputs.iter().any(|i| {
            i.kind == InputType::Secret
                && text
                    .to_ascii_lowercase()
                    .starts_with(&i.name.to_ascii_lowercase())
        });
        let shown = if secretish || text.is_empty() {
            String::new()
        } else {
            format!(" '{text}'")
        };
        return Err(err(
            "--set",
            "set",
            format!("--set{shown}: needs the form name=value"),
        ));
    };
    let name = name.trim();
    let Some(def) = manifest.input(name) else {
        return Err(unknown_input(manifest, name, &format!("--set {name}")));
    };
    let value = match def.kind {
        InputType::String | InputType::Secret => Json::String(raw.to_owned()),
        InputType::Int => match raw.trim().parse::<i64>() {
            Ok(i) => Json::from(i),
            Err(_) => {
                return Err(err(
                    name,
                    "type",
                    format!("--set {name}={raw}: {name} takes a whole number"),
                ));
            }
        },
        InputType::Bool => match raw.trim().to_ascii_lowercase().as_str() {
            "true" => Json::Bool(true),
            "false" => Json::Bool(false),
            _ => {
                return Err(err(
                    name,
                    "type",
                    format!("--set {name}={raw}: {name} takes true or false"),
                ));
            }
        },
    };
    Ok((name.to_owned(), value))
}

/// Inputs that passed every rule, with the derived names and generated secrets.
#[derive(Clone)]
pub struct ValidInputs {
    values: IndexMap<String, Json>,
    names: IndexMap<String, String>,
    secrets: BTreeSet<String>,
}

impl std::fmt::Debug for ValidInputs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ValidInputs")
            .field("values", &self.redacted())
            .field("names", &self.names)
            .finish()
    }
}

impl ValidInputs {
    /// A value (secrets included).
    pub fn value(&self, name: &str) -> Option<&Json> {
        self.values.get(name)
    }

    /// Every value, secrets included: for rendering, never for display.
    pub fn values(&self) -> &IndexMap<String, Json> {
        &self.values
    }

    /// A derived resource name.
    pub fn name(&self, key: &str) -> Option<&str> {
        self.names.get(key).map(String::as_str)
    }

    /// Every derived resource name.
    pub fn names(&self) -> &IndexMap<String, String> {
        &self.names
    }

    /// The instance's name (the `name` input).
    pub fn instance(&self) -> &str {
        self.values.get("name").and_then(Json::as_str).unwrap_or("")
    }

    /// The region (the `location` input).
    pub fn location(&self) -> &str {
        self.values
            .get("location")
            .and_then(Json::as_str)
            .unwrap_or("")
    }

    /// The names of the secret inputs.
    pub fn secret_names(&self) -> impl Iterator<Item = &str> {
        self.secrets.iter().map(String::as_str)
    }

    /// True for a secret input.
    pub fn is_secret(&self, name: &str) -> bool {
        self.secrets.contains(name)
    }

    /// The values as JSON, secrets replaced by `<redacted>`: what the journal and a support
    /// bundle may hold.
    pub fn redacted(&self) -> Json {
        Json::Object(
            self.values
                .iter()
                .map(|(k, v)| (k.clone(), shown_value(&self.secrets, k, v)))
                .collect(),
        )
    }

    /// The secret values themselves, so displays and logs can mask them.
    pub fn secret_values(&self) -> Vec<String> {
        self.secrets
            .iter()
            .filter_map(|k| self.values.get(k))
            .filter_map(|v| match v {
                Json::String(s) if !s.is_empty() => Some(s.clone()),
                _ => None,
            })
            .collect()
    }

    /// The tags every instance resource carries.
    pub fn tags(&self, manifest: &Manifest) -> IndexMap<String, String> {
        IndexMap::from([
            (TAG_INSTANCE.to_owned(), self.instance().to_owned()),
            (TAG_VERSION.to_owned(), manifest.version.clone()),
        ])
    }

    /// The values back as editable [`InputValues`], generated secrets included, so a change
    /// of one field re-validates without generating a new password.
    pub fn to_input_values(&self) -> InputValues {
        InputValues {
            values: self.values.clone(),
            secrets: self.secrets.clone(),
        }
    }
}

/// Checks every input against its declaration, the cross-input rules, the derived names
/// against Azure's naming rules and the target; all problems are reported together. Secrets
/// declared with `generate` and not given are generated.
pub fn validate(
    manifest: &Manifest,
    values: &InputValues,
    target: &Target,
) -> Result<ValidInputs, EngineError> {
    let mut errors = Vec::new();
    for (name, _) in values.iter() {
        if manifest.input(name).is_none() {
            errors.push(unknown_input(manifest, name, name));
        }
    }
    let mut good: IndexMap<String, Json> = IndexMap::new();
    let mut bad: HashSet<String> = HashSet::new();
    for def in &manifest.inputs {
        let before = errors.len();
        match values.get(&def.name) {
            Some(v) => check_value(def, v, &mut errors),
            None if def.generate.is_some() => {}
            None => errors.push(err(
                &def.name,
                "required",
                format!("{}: {} is required", def.name, def.label),
            )),
        }
        if errors.len() > before {
            bad.insert(def.name.clone());
            continue;
        }
        let value = match (values.get(&def.name), def.generate) {
            (Some(v), _) => v.clone(),
            (None, Some(Generate::Password)) => match generate_password() {
                Ok(p) => Json::String(p),
                Err(e) => {
                    errors.push(err(&def.name, "generate", format!("{}: {e}", def.name)));
                    bad.insert(def.name.clone());
                    continue;
                }
            },
            (None, None) => continue,
        };
        good.insert(def.name.clone(), value);
    }
    if let Some(Json::String(loc)) = good.get("location")
        && !manifest.prices.regions.contains_key(loc)
    {
        let known: Vec<&str> = manifest.regions().collect();
        errors.push(err(
            "location",
            "region",
            format!(
                "location: '{loc}' is not offered (the price snapshot has no prices for it); choose one of {}",
                known.join(", ")
            ),
        ));
        bad.insert("location".into());
    }
    let checked = Checked {
        manifest,
        target,
        location: good
            .get("location")
            .and_then(Json::as_str)
            .unwrap_or("")
            .to_owned(),
        good,
        bad,
    };
    let instance = checked
        .good
        .get("name")
        .and_then(Json::as_str)
        .unwrap_or("")
        .to_owned();
    // The resource group comes first, so names and rules that use resourceGroup() see it.
    let rg = render::resource_group_of(
        manifest,
        target,
        checked.derived_group().as_deref(),
        &instance,
    );
    let names = checked.derive_names(&rg, &mut errors);
    checked.check_rules(&rg, &mut errors);
    check_target(
        manifest,
        target,
        &rg,
        !instance.is_empty() || target.resource_group.is_some(),
        &mut errors,
    );

    if errors.is_empty() {
        Ok(ValidInputs {
            values: checked.good,
            names,
            secrets: values.secrets.clone(),
        })
    } else {
        Err(EngineError::Inputs(errors))
    }
}

fn check_value(def: &InputDef, v: &Json, errors: &mut Vec<InputError>) {
    let name = &def.name;
    let secret = def.kind == InputType::Secret;
    let shown = |v: &Json| match v {
        _ if secret => String::new(),
        Json::String(s) => format!(" (got '{s}')"),
        other => format!(" (got {other})"),
    };
    let type_ok = match def.kind {
        InputType::String | InputType::Secret => v.is_string(),
        InputType::Int => v.as_i64().is_some(),
        InputType::Bool => v.is_boolean(),
    };
    if !type_ok {
        let what = match def.kind {
            InputType::String | InputType::Secret => "text",
            InputType::Int => "a whole number",
            InputType::Bool => "true or false",
        };
        errors.push(err(
            name,
            "type",
            format!("{name}: must be {what}{}", shown(v)),
        ));
        return;
    }
    if let Some(allowed) = &def.allowed
        && !allowed.iter().any(|a| a == v)
    {
        let list: Vec<String> = allowed
            .iter()
            .map(|a| match a {
                Json::String(s) => format!("'{s}'"),
                other => other.to_string(),
            })
            .collect();
        errors.push(err(
            name,
            "allowed",
            format!("{name}: must be one of {}{}", list.join(", "), shown(v)),
        ));
    }
    if let Some(i) = v.as_i64() {
        if let Some(min) = def.min
            && i < min
        {
            errors.push(err(
                name,
                "min",
                format!("{name}: must be at least {min}{}", shown(v)),
            ));
        }
        if let Some(max) = def.max
            && i > max
        {
            errors.push(err(
                name,
                "max",
                format!("{name}: must be at most {max}{}", shown(v)),
            ));
        }
    }
    if let Some(s) = v.as_str() {
        let len = s.chars().count();
        if let Some(min) = def.min_length
            && len < min
        {
            errors.push(err(
                name,
                "minLength",
                format!("{name}: must be at least {min} characters long (it has {len})"),
            ));
        }
        if let Some(max) = def.max_length
            && len > max
        {
            errors.push(err(
                name,
                "maxLength",
                format!("{name}: must be at most {max} characters long (it has {len})"),
            ));
        }
        if let Some(cs) = def.charset.as_deref() {
            match Charset::parse(cs) {
                Some(charset) => {
                    if let Err(m) = charset.check(s) {
                        let m = if secret {
                            format!("may contain only {}", charset.describe())
                        } else {
                            m
                        };
                        errors.push(err(name, "charset", format!("{name}: {m}")));
                    }
                }
                None => errors.push(err(
                    name,
                    "charset",
                    format!("{name}: the manifest names an unknown character set '{cs}'"),
                )),
            }
        }
        if def.generate == Some(Generate::Password) && !complex_enough(s) {
            errors.push(err(
                name,
                "passwordComplexity",
                format!(
                    "{name}: must contain characters from at least three of: uppercase letters, lowercase letters, digits and symbols"
                ),
            ));
        }
    }
}

/// Azure's password complexity (MySQL, VMs): three of the four character classes.
fn complex_enough(p: &str) -> bool {
    let classes = [
        p.chars().any(|c| c.is_ascii_uppercase()),
        p.chars().any(|c| c.is_ascii_lowercase()),
        p.chars().any(|c| c.is_ascii_digit()),
        p.chars().any(|c| !c.is_ascii_alphanumeric()),
    ];
    classes.iter().filter(|b| **b).count() >= 3
}

const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
const DIGITS: &[u8] = b"23456789";
// Symbols Azure Database for MySQL accepts that need no quoting in a shell, a URL query, a
// JSON string or a MySQL connection string.
const SYMBOLS: &[u8] = b"!#*+-_=.";

/// A password of [`PASSWORD_LENGTH`] characters from the operating system's CSPRNG, with at
/// least one uppercase letter, lowercase letter, digit and symbol.
pub fn generate_password() -> Result<String, String> {
    let rng = SystemRandom::new();
    let all: Vec<u8> = [UPPER, LOWER, DIGITS, SYMBOLS].concat();
    let mut chars = Vec::with_capacity(PASSWORD_LENGTH);
    for class in [UPPER, LOWER, DIGITS, SYMBOLS] {
        chars.push(class[random_below(&rng, class.len())?]);
    }
    while chars.len() < PASSWORD_LENGTH {
        chars.push(all[random_below(&rng, all.len())?]);
    }
    // Fisher-Yates, so the guaranteed classes are not always in front.
    for i in (1..chars.len()).rev() {
        let j = random_below(&rng, i + 1)?;
        chars.swap(i, j);
    }
    Ok(chars.into_iter().map(char::from).collect())
}

/// A uniform number below `n` (n <= 256), by rejection sampling.
fn random_below(rng: &SystemRandom, n: usize) -> Result<usize, String> {
    let limit = 256 - 256 % n;
    loop {
        let mut b = [0u8; 1];
        rng.fill(&mut b)
            .map_err(|_| "the system's random number generator failed".to_owned())?;
        if usize::from(b[0]) < limit {
            return Ok(usize::from(b[0]) % n);
        }
    }
}

/// The inputs an expression depends on, through `names()` too.
fn input_refs(manifest: &Manifest, text: &str) -> Result<BTreeSet<String>, String> {
    let mut out = BTreeSet::new();
    let mut seen = BTreeSet::new();
    let mut todo = vec![text.to_owned()];
    while let Some(t) = todo.pop() {
        for r in render::references(&t)? {
            match r {
                Reference::Input(i) => {
                    out.insert(i);
                }
                Reference::Name(n) => {
                    if seen.insert(n.clone())
                        && let Some(d) = manifest.names.get(&n)
                    {
                        todo.push(d.value.clone());
                    }
                }
                _ => {}
            }
        }
    }
    Ok(out)
}

/// What validation knows once every input has been checked on its own.
struct Checked<'a> {
    manifest: &'a Manifest,
    target: &'a Target,
    /// Inputs that passed, with generated secrets.
    good: IndexMap<String, Json>,
    /// Inputs that broke a rule: expressions over them are not evaluated.
    bad: HashSet<String>,
    location: String,
}

impl Checked<'_> {
    fn scope(&self, resource_group: &str) -> ManifestScope<'_> {
        let ctx = render::deployment_context(
            self.target,
            resource_group,
            &self.location,
            "landfall-validate",
        );
        ManifestScope::new(self.manifest, &self.good, ctx)
    }

    /// The inputs an expression uses, or `None` when one of them has no valid value.
    fn usable(&self, text: &str) -> Result<Option<BTreeSet<String>>, String> {
        let refs = input_refs(self.manifest, text)?;
        let ok = refs
            .iter()
            .all(|r| !self.bad.contains(r) && self.good.contains_key(r));
        Ok(ok.then_some(refs))
    }

    /// The derived `resourceGroup` name, when the manifest has one and it can be computed
    /// (its errors are reported with the other names).
    fn derived_group(&self) -> Option<String> {
        let def = self.manifest.names.get("resourceGroup")?;
        self.usable(&def.value).ok()??;
        self.scope("landfall-rg").derived_name("resourceGroup").ok()
    }

    /// Every derived name, each checked against its naming rule; a broken name is reported on
    /// each input it uses.
    fn derive_names(
        &self,
        resource_group: &str,
        errors: &mut Vec<InputError>,
    ) -> IndexMap<String, String> {
        let mut scope = self.scope(resource_group);
        let mut names = IndexMap::new();
        for (key, def) in &self.manifest.names {
            let field = format!("names.{key}");
            let refs = match self.usable(&def.value) {
                Ok(Some(r)) => r,
                Ok(None) => continue,
                Err(e) => {
                    errors.push(err(&field, "name", format!("{field}: {e}")));
                    continue;
                }
            };
            let on: Vec<&str> = if refs.is_empty() {
                vec![field.as_str()]
            } else {
                refs.iter().map(String::as_str).collect()
            };
            let derived = match scope.derived_name(key) {
                Ok(n) => n,
                Err(e) => {
                    for input in &on {
                        errors.push(err(input, "name", format!("{input}: {e}")));
                    }
                    continue;
                }
            };
            let Some(rule) = NamingRule::parse(&def.rule) else {
                errors.push(err(
                    &field,
                    "name",
                    format!(
                        "{field}: the manifest names an unknown naming rule '{}'",
                        def.rule
                    ),
                ));
                continue;
            };
            if let Err(phrase) = rule.check(&derived) {
                let rule_name = format!("{}Name", rule.as_str());
                for input in &on {
                    errors.push(err(
                        input,
                        &rule_name,
                        format!(
                            "{input}: the {} name '{derived}' derived from it {phrase}",
                            rule.label()
                        ),
                    ));
                }
            }
            names.insert(key.clone(), derived);
        }
        names
    }

    /// The inputs' cross-input rules, each reported on the input declaring it; a rule over an
    /// input that is itself invalid is skipped (that input's own error says enough).
    fn check_rules(&self, resource_group: &str, errors: &mut Vec<InputError>) {
        let mut scope = self.scope(resource_group);
        for def in &self.manifest.inputs {
            if self.bad.contains(&def.name) {
                continue;
            }
            for rule in &def.rules {
                match self.usable(&rule.check) {
                    Ok(Some(_)) => {}
                    Ok(None) => continue,
                    Err(e) => {
                        errors.push(err(&def.name, "rule", format!("{}: {e}", def.name)));
                        continue;
                    }
                }
                let name = &def.name;
                match scope.eval(&rule.check) {
                    Ok(Value::Bool(true)) => {}
                    Ok(Value::Bool(false)) => {
                        errors.push(err(name, "rule", format!("{name}: {}", rule.message)));
                    }
                    Ok(other) => errors.push(err(
                        name,
                        "rule",
                        format!(
                            "{name}: the rule '{}' gives {} instead of true or false",
                            rule.check,
                            other.type_name()
                        ),
                    )),
                    Err(e) => errors.push(err(
                        name,
                        "rule",
                        format!("{name}: the rule could not be checked: {e}"),
                    )),
                }
            }
        }
    }
}

fn check_target(
    manifest: &Manifest,
    target: &Target,
    resource_group: &str,
    group_known: bool,
    errors: &mut Vec<InputError>,
) {
    if !is_guid(&target.subscription_id) {
        errors.push(err(
            "subscription",
            "subscription",
            format!(
                "subscription: '{}' is not a subscription ID (a GUID such as 00000000-0000-0000-0000-000000000000)",
                target.subscription_id
            ),
        ));
    }
    if !target.tenant_id.is_empty() && !is_guid(&target.tenant_id) {
        errors.push(err(
            "tenant",
            "tenant",
            format!("tenant: '{}' is not a tenant ID (a GUID)", target.tenant_id),
        ));
    }
    // A derived group name was checked with the other names.
    let derived = target.resource_group.is_none() && manifest.names.contains_key("resourceGroup");
    if group_known
        && !derived
        && let Err(phrase) = NamingRule::ResourceGroup.check(resource_group)
    {
        errors.push(err(
            "resourceGroup",
            "resourceGroupName",
            format!("resourceGroup: the resource group name '{resource_group}' {phrase}"),
        ));
    }
}

fn is_guid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_passwords_have_every_class_and_differ() {
        let a = generate_password().unwrap();
        let b = generate_password().unwrap();
        assert_ne!(a, b);
        for p in [&a, &b] {
            assert_eq!(p.chars().count(), PASSWORD_LENGTH);
            assert!(p.bytes().any(|c| UPPER.contains(&c)));
            assert!(p.bytes().any(|c| LOWER.contains(&c)));
            assert!(p.bytes().any(|c| DIGITS.contains(&c)));
            assert!(p.bytes().any(|c| SYMBOLS.contains(&c)));
            assert!(complex_enough(p));
        }
    }

    #[test]
    fn random_below_stays_in_range_and_covers_it() {
        let rng = SystemRandom::new();
        let mut seen = [false; 7];
        for _ in 0..2000 {
            let i = random_below(&rng, 7).unwrap();
            seen[i] = true;
        }
        assert!(seen.iter().all(|s| *s));
    }

    #[test]
    fn guids_are_recognised() {
        assert!(is_guid("5ca082f3-0000-4000-8000-00000000c003"));
        assert!(!is_guid("5ca082f3-0000-4000-8000-00000000c00"));
        assert!(!is_guid("my-subscription"));
        assert!(!is_guid(""));
    }

    #[test]
    fn edit_distance_suggests_near_names() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(
            closest(["userNodeCount", "name"].into_iter(), "usernodecount"),
            Some("userNodeCount")
        );
        assert_eq!(closest(["name"].into_iter(), "region"), None);
    }
}
