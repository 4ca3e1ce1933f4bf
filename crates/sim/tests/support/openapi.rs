//! A small validator for the part of OpenAPI 2.0 (Swagger) that the ARM specs under
//! `specs/` use for response bodies: `$ref` (within a file and across files), `allOf`, `type`,
//! `properties`, `required`, `additionalProperties`, `items`, `enum` and `format: date-time`.
//! `readOnly` and every `x-ms-*` extension are ignored, except `x-nullable` (a `null` is
//! accepted where it is true). Enums compare case-insensitively, as ARM's
//! `x-ms-enum.modelAsString` lets clients accept any casing (and values beyond the list when
//! `modelAsString` is true, which is how the specs mark extensible enums).
//!
//! The resources spec refers to `common-types/resource-management/v1/types.json`, which the
//! fixtures do not hold; its `ErrorResponse` (code, message, target, details, additionalInfo)
//! is v5's `ErrorDetail`, so v1 and v2 references are resolved in v5 with that one rename.

use std::collections::BTreeMap;

use serde_json::Value as Json;

/// The loaded spec files, by short name: `resources`, `subscriptions`, `v5`, `v6`.
pub struct Specs {
    docs: BTreeMap<&'static str, Json>,
}

/// What a successful validation saw.
#[derive(Debug, Default)]
pub struct Report {
    /// Values checked against a schema.
    pub checked: usize,
    /// Properties present in the value but not declared by a schema that declares others
    /// (allowed by OpenAPI 2.0, listed for review).
    pub undeclared: Vec<String>,
}

/// Where in the value a check is: its JSON path, whether it is checking one part of an
/// `allOf`, and the definition it is in.
#[derive(Clone, Copy)]
struct At<'a> {
    path: &'a str,
    part: bool,
    def: &'a str,
}

struct Ctx<'a> {
    report: &'a mut Report,
}

impl Specs {
    /// Loads the four spec files from the fixtures.
    pub fn load() -> Specs {
        let mut docs = BTreeMap::new();
        for (name, file) in [
            ("resources", "specs/resources-2024-03-01.json"),
            ("subscriptions", "specs/subscriptions-2022-12-01.json"),
            ("v5", "specs/common-types-v5-types.json"),
            ("v6", "specs/common-types-v6-types.json"),
        ] {
            docs.insert(name, super::fixture_json(file));
        }
        Specs { docs }
    }

    /// The schema of `#/definitions/{name}` in a spec file.
    pub fn definition(&self, doc: &str, name: &str) -> &Json {
        self.docs
            .get(doc)
            .and_then(|d| d.get("definitions"))
            .and_then(|d| d.get(name))
            .unwrap_or_else(|| panic!("no definition {name} in {doc}"))
    }

    /// Validates `value` against `#/definitions/{definition}` of `doc`; the error is the JSON
    /// path of the first mismatch and what is wrong there.
    pub fn validate(&self, doc: &str, definition: &str, value: &Json) -> Result<Report, String> {
        let key = self
            .docs
            .keys()
            .find(|k| **k == doc)
            .copied()
            .unwrap_or_else(|| panic!("no spec {doc}"));
        let schema = self.definition(doc, definition);
        let mut report = Report::default();
        let mut ctx = Ctx {
            report: &mut report,
        };
        self.check(
            key,
            schema,
            value,
            At {
                path: "$",
                part: false,
                def: definition,
            },
            &mut ctx,
        )?;
        Ok(report)
    }

    /// Follows a `$ref` to (file, schema).
    fn resolve(&self, doc: &'static str, reference: &str) -> Result<(&'static str, &Json), String> {
        let (file, pointer) = reference.split_once('#').unwrap_or((reference, ""));
        let (target, rename): (&'static str, Option<(&str, &str)>) = if file.is_empty() {
            (doc, None)
        } else if file.contains("/v5/types.json") {
            ("v5", None)
        } else if file.contains("/v6/types.json") {
            ("v6", None)
        } else if file.contains("/v1/types.json") || file.contains("/v2/types.json") {
            ("v5", Some(("ErrorResponse", "ErrorDetail")))
        } else {
            return Err(format!("cannot resolve $ref {reference}"));
        };
        let mut pointer = pointer.to_owned();
        if let Some((from, to)) = rename
            && pointer == format!("/definitions/{from}")
        {
            pointer = format!("/definitions/{to}");
        }
        let d = &self.docs[target];
        d.pointer(&pointer)
            .map(|s| (target, s))
            .ok_or_else(|| format!("$ref {reference} points nowhere"))
    }

    fn check(
        &self,
        doc: &'static str,
        schema: &Json,
        value: &Json,
        at: At<'_>,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), String> {
        let At { path, part, def } = at;
        ctx.report.checked += 1;
        if let Some(r) = schema.get("$ref").and_then(Json::as_str) {
            // A `$ref` may come with sibling keywords (readOnly, description): they add nothing
            // the referenced schema does not check.
            let (d, s) = self.resolve(doc, r)?;
            let name = r.rsplit('/').next().unwrap_or(def);
            return self.check(
                d,
                s,
                value,
                At {
                    path,
                    part,
                    def: name,
                },
                ctx,
            );
        }
        if value.is_null() {
            if schema.get("x-nullable").and_then(Json::as_bool) == Some(true) {
                return Ok(());
            }
            return Err(format!("{path}: null where the spec has no x-nullable"));
        }
        if let Some(all) = schema.get("allOf").and_then(Json::as_array) {
            // A part of an allOf sees the properties of the whole: it does not list undeclared
            // ones.
            for s in all {
                self.check(
                    doc,
                    s,
                    value,
                    At {
                        path,
                        part: true,
                        def,
                    },
                    ctx,
                )?;
            }
        }
        let declared_type = schema.get("type").and_then(Json::as_str);
        let is_object = declared_type == Some("object")
            || (declared_type.is_none()
                && (schema.get("properties").is_some()
                    || schema.get("additionalProperties").is_some()));
        match declared_type {
            Some("string") if !value.is_string() => return Err(mismatch(path, "string", value)),
            Some("boolean") if !value.is_boolean() => return Err(mismatch(path, "boolean", value)),
            Some("integer") if !(value.is_i64() || value.is_u64()) => {
                return Err(mismatch(path, "integer", value));
            }
            Some("number") if !value.is_number() => return Err(mismatch(path, "number", value)),
            Some("array") if !value.is_array() => return Err(mismatch(path, "array", value)),
            _ if is_object && !value.is_object() => return Err(mismatch(path, "object", value)),
            _ => {}
        }
        if let (Some(options), Some(s)) =
            (schema.get("enum").and_then(Json::as_array), value.as_str())
        {
            let extensible = schema
                .pointer("/x-ms-enum/modelAsString")
                .and_then(Json::as_bool)
                == Some(true);
            let known = options
                .iter()
                .filter_map(Json::as_str)
                .any(|o| o.eq_ignore_ascii_case(s));
            if !known && !extensible {
                return Err(format!(
                    "{path}: '{s}' is not one of {}",
                    Json::Array(options.clone())
                ));
            }
        }
        if schema.get("format").and_then(Json::as_str) == Some("date-time")
            && let Some(s) = value.as_str()
            && !looks_like_date_time(s)
        {
            return Err(format!("{path}: '{s}' is not a date-time"));
        }
        if let Some(items) = schema.get("items")
            && let Some(arr) = value.as_array()
        {
            for (i, v) in arr.iter().enumerate() {
                self.check(
                    doc,
                    items,
                    v,
                    At {
                        path: &format!("{path}[{i}]"),
                        part: false,
                        def,
                    },
                    ctx,
                )?;
            }
        }
        if let Some(obj) = value.as_object()
            && is_object
        {
            let props = schema.get("properties").and_then(Json::as_object);
            if let Some(required) = schema.get("required").and_then(Json::as_array) {
                for r in required.iter().filter_map(Json::as_str) {
                    if !obj.contains_key(r) && deviation(def, r) != Some(Deviation::NotRequired) {
                        return Err(format!("{path}: required property '{r}' is missing"));
                    }
                }
            }
            for (k, v) in obj {
                let p = format!("{path}.{k}");
                match (deviation(def, k), v) {
                    (Some(Deviation::AnyJson), _) => continue,
                    (Some(Deviation::NullItems), Json::Array(items)) => {
                        let kept: Vec<Json> =
                            items.iter().filter(|i| !i.is_null()).cloned().collect();
                        if let Some(s) = props.and_then(|m| m.get(k)) {
                            self.check(
                                doc,
                                s,
                                &Json::Array(kept),
                                At {
                                    path: &p,
                                    part: false,
                                    def,
                                },
                                ctx,
                            )?;
                        }
                        continue;
                    }
                    _ => {}
                }
                if let Some(s) = props.and_then(|m| m.get(k)) {
                    self.check(
                        doc,
                        s,
                        v,
                        At {
                            path: &p,
                            part: false,
                            def,
                        },
                        ctx,
                    )?;
                } else if let Some(extra) = schema.get("additionalProperties") {
                    match extra {
                        Json::Bool(false) => {
                            return Err(format!("{path}: property '{k}' is not allowed"));
                        }
                        Json::Object(_) => self.check(
                            doc,
                            extra,
                            v,
                            At {
                                path: &p,
                                part: false,
                                def,
                            },
                            ctx,
                        )?,
                        _ => {}
                    }
                } else if !part && props.is_some() && !self.declared_in_all_of(doc, schema, k) {
                    ctx.report.undeclared.push(format!("{p} (not in {def})"));
                }
            }
        }
        Ok(())
    }

    /// True when one of the schema's `allOf` parts (followed through `$ref`s) declares `k`.
    fn declared_in_all_of(&self, doc: &'static str, schema: &Json, k: &str) -> bool {
        let Some(all) = schema.get("allOf").and_then(Json::as_array) else {
            return false;
        };
        all.iter().any(|s| {
            let (d, s) = match s.get("$ref").and_then(Json::as_str) {
                Some(r) => match self.resolve(doc, r) {
                    Ok(x) => x,
                    Err(_) => return false,
                },
                None => (doc, s),
            };
            s.get("properties").and_then(|p| p.get(k)).is_some() || self.declared_in_all_of(d, s, k)
        })
    }
}

/// Where a spec and Azure's real responses disagree, the recordings win: these departures are
/// allowed, each with the recording that shows Azure doing it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Deviation {
    /// Declared required, but Azure leaves it out.
    NotRequired,
    /// Declared `type: object`, but Azure sends any JSON value.
    AnyJson,
    /// An array whose items Azure sometimes sends as `null`.
    NullItems,
}

fn deviation(definition: &str, property: &str) -> Option<Deviation> {
    match (definition, property) {
        // recordings/java-fluent-sdk/canListSubscriptions.json and canListTenants.json: no
        // nextLink on the last (only) page.
        ("SubscriptionListResult" | "TenantListResult", "nextLink") => Some(Deviation::NotRequired),
        // recordings/java-fluent-sdk/canPostDeploymentWhatIfOnResourceGroup.json: a property
        // change's before/after is whatever the property holds (an array of subnets, a
        // location string).
        ("WhatIfPropertyChange", "before" | "after") => Some(Deviation::AnyJson),
        // recordings/java-fluent-sdk/testDeployUsingARMTemplateWithProgress.json: a child type
        // without a location of its own is listed with `"locations": [null]`.
        ("ProviderResourceType", "locations") => Some(Deviation::NullItems),
        _ => None,
    }
}

fn mismatch(path: &str, expected: &str, got: &Json) -> String {
    format!("{path}: expected {expected}, got {}", super::brief(got))
}

/// `2020-07-17T05:45:56.6373322Z` and the like: a date, `T`, a time; fractions and offset
/// free.
fn looks_like_date_time(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| {
        r.into_iter()
            .all(|i| b.get(i).is_some_and(u8::is_ascii_digit))
    };
    b.len() >= 19
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && (b[10] == b'T' || b[10] == b't')
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
}
