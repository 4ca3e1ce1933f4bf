//! Asynchronous operations polled by URL: resource group deletion, what-if, Key Vault purge.
//! A handler creates one with a completion time; polling its URL
//! (`/subscriptions/{sub}/operationresults/{id}`) answers `202` with `Location` and
//! `Retry-After` until then, and the final result after.
//!
//! ```ignore
//! let id = state.operations.start("whatIf", &deployment_id, now, duration, Some(result));
//! let url = operations::polling_url(&sim.base_url, sub, &id, api_version);
//! return accepted_with_location(&url, 0);
//! ```
//!
//! IDs are opaque to clients, shaped like ARM's: base64url of
//! `{"jobId": "...", "jobLocation": "..."}`.
//!
//! Data: [`OperationsState`] in [`crate::state::SimState`], written by the handler that starts
//! an operation (group deletion, what-if, deployment deletion, vault purge) and read by `poll`;
//! the work itself is done by that module's `advance` when the completion time passes. A
//! failing operation carries its ARM error and answers with it once complete; an unknown or
//! forgotten ID is a `404`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;
use time::{Duration, OffsetDateTime};

use super::request::ArmRequest;
use crate::Sim;
use crate::http::{accepted_with_location, arm_error, arm_error_body, json_response};

/// Every async operation, by ID.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationsState {
    /// Operations by ID.
    pub operations: BTreeMap<String, AsyncOperation>,
}

/// One asynchronous operation.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AsyncOperation {
    /// Opaque ID used in the polling URL.
    pub id: String,
    /// What it does (`deleteResourceGroup`, `whatIf`...), for the handler that completes it.
    pub kind: String,
    /// The resource it acts on.
    pub target: String,
    /// When it started.
    #[serde(with = "time::serde::rfc3339")]
    pub started: OffsetDateTime,
    /// When it completes.
    #[serde(with = "time::serde::rfc3339")]
    pub completes: OffsetDateTime,
    /// The final response body (`None`: `200` with no body).
    #[serde(default)]
    pub result: Option<Json>,
    /// The final ARM error, if it fails.
    #[serde(default)]
    pub error: Option<Json>,
    /// The HTTP status to answer once complete (`200` by default).
    #[serde(default = "ok_status")]
    pub final_status: u16,
    /// `Retry-After` on the `202` answers, in seconds.
    #[serde(default)]
    pub retry_after: u64,
}

/// What `final_status` is in state files that predate it.
fn ok_status() -> u16 {
    200
}

/// What [`OperationsState::start_with`] needs; build it with [`NewOperation::new`] and
/// override fields with struct update syntax.
#[derive(Clone, Debug)]
pub struct NewOperation<'a> {
    /// Kind (`deleteResourceGroup`, `whatIf`, `purgeDeletedVault`...).
    pub kind: &'a str,
    /// Target resource ID.
    pub target: &'a str,
    /// Start.
    pub now: OffsetDateTime,
    /// How long until it completes.
    pub duration: Duration,
    /// Final body on success.
    pub result: Option<Json>,
    /// Final ARM error (the inner object: `{code, message, details?}`); makes it fail.
    pub error: Option<Json>,
    /// Final status (default `200`; set e.g. `400` with `error`).
    pub final_status: u16,
    /// `Retry-After` seconds on `202` answers. Azure sends `0` for group deletion and what-if
    /// (azd recordings), which clients read as "use your default interval".
    pub retry_after: u64,
    /// `jobId` inside the opaque ID (default: derived from kind and target, unique).
    pub job_id: Option<String>,
    /// `jobLocation` inside the opaque ID (default `global`).
    pub location: Option<String>,
}

impl<'a> NewOperation<'a> {
    /// An operation succeeding with `200` and no body after `duration`.
    pub fn new(kind: &'a str, target: &'a str, now: OffsetDateTime, duration: Duration) -> Self {
        NewOperation {
            kind,
            target,
            now,
            duration,
            result: None,
            error: None,
            final_status: 200,
            retry_after: 0,
            job_id: None,
            location: None,
        }
    }
}

impl OperationsState {
    /// Starts an operation that completes `duration` after `now` with `200` and `result` as
    /// the body (none: empty body). Returns its ID for [`polling_url`].
    pub fn start(
        &mut self,
        kind: &str,
        target: &str,
        now: OffsetDateTime,
        duration: Duration,
        result: Option<Json>,
    ) -> String {
        self.start_with(NewOperation {
            result,
            ..NewOperation::new(kind, target, now, duration)
        })
    }

    /// Starts an operation with every option (failure, status, `Retry-After`, job ID).
    pub fn start_with(&mut self, op: NewOperation<'_>) -> String {
        let job = op.job_id.unwrap_or_else(|| {
            let name = op.target.rsplit('/').next().unwrap_or(op.target);
            let suffix = uuid::Uuid::new_v4()
                .simple()
                .to_string()
                .to_ascii_uppercase();
            format!(
                "{}Job--{}-{}",
                upper_first(op.kind),
                job_escape(name),
                suffix.get(..12).unwrap_or(&suffix)
            )
        });
        let location = op.location.unwrap_or_else(|| "global".into());
        let id = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(json!({"jobId": job, "jobLocation": location}).to_string());
        self.operations.insert(
            id.clone(),
            AsyncOperation {
                id: id.clone(),
                kind: op.kind.to_owned(),
                target: op.target.to_owned(),
                started: op.now,
                completes: op.now + op.duration,
                result: op.result,
                error: op.error,
                final_status: op.final_status,
                retry_after: op.retry_after,
            },
        );
        id
    }

    /// The operation with this ID.
    pub fn get(&self, id: &str) -> Option<&AsyncOperation> {
        self.operations.get(id)
    }

    /// True once the operation has completed (or does not exist).
    pub fn is_done(&self, id: &str, now: OffsetDateTime) -> bool {
        self.operations.get(id).is_none_or(|o| o.completes <= now)
    }
}

/// The absolute polling URL ARM puts in `Location`:
/// `{base}/subscriptions/{sub}/operationresults/{id}?api-version={v}`.
pub fn polling_url(base_url: &str, subscription_id: &str, id: &str, api_version: &str) -> String {
    format!(
        "{base_url}/subscriptions/{subscription_id}/operationresults/{id}?api-version={api_version}"
    )
}

/// How ARM writes names inside job IDs: upper-cased, non-alphanumerics as `:XX` hex
/// (`rg-app` becomes `RG:2DAPP`).
pub fn job_escape(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_uppercase());
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!(":{b:02X}"));
            }
        }
    }
    out
}

/// `whatIf` -> `WhatIf`, for job IDs.
fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Forgets operations completed more than a day ago (their polling URLs then answer 404).
pub fn advance(state: &mut crate::state::SimState, now: OffsetDateTime) {
    state
        .operations
        .operations
        .retain(|_, o| o.completes + Duration::days(1) > now);
}

/// `GET /subscriptions/{sub}/operationresults/{id}`.
pub(crate) fn poll(sim: &Sim, req: &ArmRequest, sub: &str, id: &str) -> Response {
    let now = sim.now();
    let st = sim.lock_state();
    let Some(op) = st.operations.get(id) else {
        return arm_error(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("The operation '{id}' could not be found."),
        );
    };
    if op.completes > now {
        let url = polling_url(&sim.base_url, sub, id, req.api_version());
        return accepted_with_location(&url, op.retry_after);
    }
    let status = StatusCode::from_u16(op.final_status).unwrap_or(StatusCode::OK);
    if let Some(error) = &op.error {
        return arm_error_body(status, json!({ "error": error }));
    }
    match &op.result {
        Some(body) => json_response(status, body.clone()),
        None => status.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn job_ids_escape_like_arm() {
        assert_eq!(job_escape("rg-azdtest-d8523ca"), "RG:2DAZDTEST:2DD8523CA");
    }

    #[test]
    fn operations_complete_after_their_duration() {
        let mut ops = OperationsState::default();
        let t = datetime!(2026-01-01 0:00 UTC);
        let id = ops.start("whatIf", "/x/y", t, Duration::seconds(5), Some(json!({})));
        assert!(!ops.is_done(&id, t + Duration::seconds(4)));
        assert!(ops.is_done(&id, t + Duration::seconds(5)));
        let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&id)
            .unwrap();
        let v: Json = serde_json::from_slice(&decoded).unwrap();
        assert!(v["jobId"].as_str().unwrap().starts_with("WhatIfJob--Y-"));
    }
}
