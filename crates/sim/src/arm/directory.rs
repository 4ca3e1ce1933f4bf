//! directory.

use std::sync::Arc;

use axum::Router;

use crate::Sim;

/// The routes.
pub fn router() -> Router<Arc<Sim>> {
    Router::new()
}
