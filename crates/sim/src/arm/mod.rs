//! Azure Resource Manager, the subset Landfall uses, one module per area:
//! [`metadata`] (cloud metadata document), [`directory`] (tenants, subscriptions, locations),
//! [`providers`], [`groups`] (resource groups and generic resources), [`deployments`]
//! (with the provisioning schedule), [`operations`] (async operation polling), [`compute`]
//! (usages, SKUs), [`mysql`] (capabilities), [`names`] (name availability), [`keyvault`]
//! (deleted vaults), [`authorization`] (permissions, role assignments).

pub mod authorization;
pub mod compute;
pub mod deployments;
pub mod directory;
pub mod groups;
pub mod keyvault;
pub mod metadata;
pub mod mysql;
pub mod names;
pub mod operations;
pub mod providers;

use std::sync::Arc;

use axum::Router;

use crate::Sim;

/// All ARM routes.
pub fn router() -> Router<Arc<Sim>> {
    Router::new()
        .merge(metadata::router())
        .merge(directory::router())
        .merge(providers::router())
        .merge(groups::router())
        .merge(deployments::router())
        .merge(operations::router())
        .merge(compute::router())
        .merge(mysql::router())
        .merge(names::router())
        .merge(keyvault::router())
        .merge(authorization::router())
}
