//! Shared by the recording replay, the OpenAPI validation and the Python conformance test: a
//! simulator on a manual clock with an HTTPS client, requests that keep status, headers and
//! body, and the recursive shape comparison of two JSON documents.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod cassettes;
pub mod openapi;

use std::path::PathBuf;
use std::sync::Arc;

use landfall_sim::{ManualClock, Scenario, SimHandle, SimOptions};
use reqwest::Method;
use serde_json::Value as Json;
use time::OffsetDateTime;

#[path = "../common/mod.rs"]
mod common;

/// `../shared/fixtures/azure` beside the checkout.
pub fn fixtures() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/fixtures/azure"
    ))
}

/// Reads a fixture as JSON.
pub fn fixture_json(rel: &str) -> Json {
    let path = fixtures().join(rel);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// A response as a test looks at it.
#[derive(Clone, Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Headers.
    pub headers: reqwest::header::HeaderMap,
    /// Body as JSON (`Null` when empty, a string when not JSON).
    pub body: Json,
}

impl Reply {
    /// A header's value, empty when absent.
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }

    /// True when the header is there.
    pub fn has_header(&self, name: &str) -> bool {
        self.headers.contains_key(name)
    }
}

/// A simulator on a manual clock (throttling off) and a client trusting its CA.
pub struct Env {
    /// The running simulator.
    pub sim: SimHandle,
    /// HTTPS client.
    pub http: reqwest::Client,
    /// The simulator's clock.
    pub clock: Arc<ManualClock>,
}

impl Env {
    /// Starts one at `start` with a scenario.
    pub async fn start(mut scenario: Scenario, start: OffsetDateTime) -> Env {
        scenario.no_throttling = true;
        let clock = Arc::new(ManualClock::new(start));
        let sim = common::start(SimOptions {
            clock: clock.clone(),
            scenario,
            ..SimOptions::default()
        })
        .await;
        let http = common::client(&sim);
        Env { sim, http, clock }
    }

    /// The simulator's subscription.
    pub fn sub(&self) -> String {
        self.sim.sim.options.identity.subscription_id.clone()
    }

    /// Now, by the simulator's clock.
    pub fn now(&self) -> OffsetDateTime {
        self.sim.sim.now()
    }

    /// Moves the clock forward (never back) to `t`.
    pub fn move_to(&self, t: OffsetDateTime) {
        if t > self.now() {
            self.clock.set(t);
        }
    }

    /// Moves the clock forward by seconds.
    pub fn advance(&self, secs: f64) {
        self.clock.advance(time::Duration::seconds_f64(secs));
    }

    /// A request to a path or absolute URL; `api-version` is added when missing.
    pub async fn call(&self, method: Method, path: &str, body: Option<Json>) -> Reply {
        self.raw(method, path, body.map(|b| b.to_string()), "2024-03-01")
            .await
    }

    /// A request with a raw body and a default `api-version`.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        body: Option<String>,
        api_version: &str,
    ) -> Reply {
        let mut url = if path.starts_with("https://") {
            path.to_owned()
        } else {
            format!("{}{path}", self.sim.base_url)
        };
        if !url.contains("api-version=") && !api_version.is_empty() {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&format!("api-version={api_version}"));
        }
        // Minted by the simulator's clock, which the tests move by years.
        let token = self.sim.sim.tokens.service_principal_token(&self.sim.sim);
        let mut req = self.http.request(method, url).bearer_auth(token);
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap();
        let body = if text.is_empty() {
            Json::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Json::String(text))
        };
        Reply {
            status,
            headers,
            body,
        }
    }
}

/// Where two documents differ in shape: every field of `recorded` must be in `ours` with the
/// same JSON type, recursively. Values may differ. A recorded `null` accepts anything. Arrays
/// are compared by the recorded first element against the most similar element of ours (same
/// `changeType`, `provisioningOperation`, `resourceType`... where it has them), so the order of
/// resources does not matter. `skip` names fields not compared anywhere.
pub fn shape_differences(recorded: &Json, ours: &Json, skip: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    shape_walk(recorded, ours, "$", skip, &mut out);
    out
}

fn type_name(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "boolean",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}

fn shape_walk(recorded: &Json, ours: &Json, path: &str, skip: &[&str], out: &mut Vec<String>) {
    match (recorded, ours) {
        (Json::Null, _) => {}
        (Json::Object(r), Json::Object(o)) => {
            for (k, rv) in r {
                if skip.contains(&k.as_str()) {
                    continue;
                }
                match o.get(k) {
                    Some(ov) => shape_walk(rv, ov, &format!("{path}.{k}"), skip, out),
                    None => out.push(format!("{path}.{k}: missing (recorded {})", brief(rv))),
                }
            }
        }
        (Json::Array(r), Json::Array(o)) => {
            let Some(first) = r.first() else { return };
            if o.is_empty() {
                out.push(format!(
                    "{path}: empty, recorded has {} item(s) like {}",
                    r.len(),
                    brief(first)
                ));
                return;
            }
            // The most similar item; the first of equals (scalars: the first item).
            let mut best = &o[0];
            if first.is_object() {
                let mut best_score = similarity(first, best);
                for c in &o[1..] {
                    let score = similarity(first, c);
                    if score > best_score {
                        best = c;
                        best_score = score;
                    }
                }
            }
            shape_walk(first, best, &format!("{path}[0]"), skip, out);
        }
        (r, o) if type_name(r) == type_name(o) => {}
        (r, o) => out.push(format!(
            "{path}: recorded {} {}, got {} {}",
            type_name(r),
            brief(r),
            type_name(o),
            brief(o)
        )),
    }
}

/// How alike two array items are, by the values of the fields that tell items apart.
fn similarity(recorded: &Json, ours: &Json) -> usize {
    const KEYS: &[&str] = &[
        "changeType",
        "provisioningOperation",
        "provisioningState",
        "resourceType",
        "resourceName",
        "type",
        "name",
        "namespace",
        "registrationState",
        "status",
        "code",
        "path",
        "propertyChangeType",
    ];
    fn leaves<'a>(v: &'a Json, depth: usize, acc: &mut Vec<(&'a str, &'a Json)>) {
        if let Json::Object(m) = v {
            for (k, x) in m {
                if KEYS.contains(&k.as_str()) && !x.is_object() && !x.is_array() {
                    acc.push((k, x));
                }
                if depth < 2 {
                    leaves(x, depth + 1, acc);
                }
            }
        }
    }
    let mut r = Vec::new();
    let mut o = Vec::new();
    leaves(recorded, 0, &mut r);
    leaves(ours, 0, &mut o);
    let same = r.iter().filter(|(k, v)| o.contains(&(*k, *v))).count();
    // Same kind of item first, then the one with the most fields in common.
    let fields = match (recorded, ours) {
        (Json::Object(a), Json::Object(b)) => a.keys().filter(|k| b.contains_key(*k)).count(),
        _ => 0,
    };
    same * 1000 + fields
}

/// A short rendering of a value for messages.
pub fn brief(v: &Json) -> String {
    let s = v.to_string();
    if s.len() > 80 {
        let cut: String = s.chars().take(77).collect();
        format!("{cut}...")
    } else {
        s
    }
}
