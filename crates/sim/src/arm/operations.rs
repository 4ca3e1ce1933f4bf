//! Asynchronous operations polled by URL: resource group deletion, what-if, provider
//! registration. A handler creates one with a completion time; polling its URL answers
//! `202` with `Location` and `Retry-After` until then, and the final result after.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use time::OffsetDateTime;

use crate::Sim;

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
}

fn ok_status() -> u16 {
    200
}

/// The routes.
pub fn router() -> Router<Arc<Sim>> {
    Router::new()
}

/// Applies what is due by `now`.
pub fn advance(_state: &mut crate::state::SimState, _now: OffsetDateTime) {}
