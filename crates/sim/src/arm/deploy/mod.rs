//! The deployment engine behind [`crate::arm::deployments`]: everything between a request
//! body and what ARM shows about a deployment over time.
//!
//! - [`engine`] reads a request, builds the [`landfall_template::DeploymentContext`], plans
//!   the template (twice: the second time with the values created resources will have), runs
//!   preflight and produces the records to store.
//! - [`preflight`] turns the scenario's policy denials, quotas and unavailable VM sizes into
//!   ARM's validation errors.
//! - [`schedule`] gives each resource a duration and derives when every operation starts and
//!   ends from the dependencies, failures and cancellation.
//! - [`runtime`] fills in what resource providers compute (FQDNs, endpoints, principal IDs,
//!   keys) and answers `reference()`/`list*()` from it.
//! - [`whatif`] compares a plan with what exists.
//! - [`render`] shows a stored deployment and its operations as ARM does at a given moment.
//! - [`text`] holds the formats (timestamps, durations, IDs, query strings).

pub mod engine;
pub mod preflight;
pub mod render;
pub mod runtime;
pub mod schedule;
pub mod text;
pub mod whatif;
