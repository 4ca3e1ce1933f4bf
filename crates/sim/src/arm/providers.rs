//! providers.

use std::sync::Arc;

use axum::Router;
use serde::{Deserialize, Serialize};

use crate::Sim;

/// State of this area.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProvidersState {}

/// The routes.
pub fn router() -> Router<Arc<Sim>> {
    Router::new()
}

impl ProvidersState {
    /// Providers as a new subscription has them.
    pub fn new(_now: time::OffsetDateTime) -> Self {
        ProvidersState {}
    }
}

/// Settles registrations due by `now`.
pub fn advance(_state: &mut crate::state::SimState, _now: time::OffsetDateTime) {}
