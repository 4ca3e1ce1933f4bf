//! `landfall-engine`: from sizing choices to a running single-tenant instance.
//!
//! Who owns what:
//! - [`bundle`]: the template bundle (manifest, templates, digest), built in or from a folder.
//! - [`manifest`]: the manifest's schema.
//! - [`naming`]: Azure's naming rules, checked locally.
//! - [`inputs`]: presets, input files and `--set` values resolved and validated as a whole.
//! - [`cost`]: the monthly estimate from the price snapshot.
//! - [`render`]: the manifest's expressions (`inputs()`, `stageOutputs()`...), the stage
//!   graph, stage parameters and the offline plan.
//! - [`preflight`]: every check before a write, in parallel.
//! - [`events`]: what a run tells its watchers; [`snapshot`] folds them into a run's state.
//! - [`journal`]: the SQLite run journal every event is written to before it is published.
//! - [`deploy`]: runs (install, retry, update, resume, cancel) and the tracker that turns
//!   deployment polling into events; [`teardown`] and [`instances`] for the rest of an
//!   instance's life; [`support`] for the support bundle.
//! - [`error`]: [`EngineError`] and its wire form [`Problem`].
//!
//! The engine knows nothing of Tauri or terminals: fronts give it an ARM client, a journal and
//! a [`secrets::SecretStore`], and subscribe to events.

pub mod bundle;
pub mod cost;
#[cfg(feature = "demo")]
pub mod demo;
pub mod deploy;
pub mod error;
pub mod events;
pub mod inputs;
pub mod installer;
pub mod instances;
pub mod journal;
pub mod manifest;
pub mod naming;
pub mod paths;
pub mod preflight;
pub mod render;
pub mod snapshot;
pub mod support;
pub mod target;
pub mod teardown;

pub use error::{EngineError, InputError, Problem};
pub use events::{DeploymentEvent, EventEnvelope, Outcome, RunKind};
pub use target::Target;
