//! authorization.

use std::sync::Arc;

use axum::Router;
use serde::{Deserialize, Serialize};

use crate::Sim;

/// State of this area.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizationState {}

/// The routes.
pub fn router() -> Router<Arc<Sim>> {
    Router::new()
}
