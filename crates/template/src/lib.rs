//! `landfall-template`: the ARM template language, offline.
//!
//! - [`json`] reads template and parameter files as ARM does (comments, trailing commas...),
//!   keeping where every value came from.
//! - [`expr`] parses `[...]` expressions; [`eval`] evaluates them against a [`eval::Scope`];
//!   [`functions`] is the function library, [`hash`] the bit-exact `uniqueString`/`guid`/
//!   `templateHash`, [`netfmt`] the .NET formatting ARM inherits (`format()`, dates, casing).
//! - [`template`] turns a template, parameters and a [`context::DeploymentContext`] into a
//!   [`template::Plan`]: every resource with its ID and evaluated properties, the dependency
//!   graph in waves, and the outputs. Values only Azure knows come from a
//!   [`context::Resolver`] or stay [`value::Value::Deferred`] ("known after deployment").
//!
//! Errors flow up as [`TemplateError`], which says where: JSON path, line and column, and the
//! offset inside the expression.

pub mod context;
pub mod error;
pub mod eval;
pub mod expr;
pub mod functions;
pub mod hash;
pub mod json;
pub mod netfmt;
pub mod template;
pub mod value;

pub use context::{DeploymentContext, DeploymentScope, NoResolver, Resolver};
pub use error::{ErrorCode, TemplateError};
pub use template::{Plan, PlannedOutput, PlannedResource, Template, plan};
pub use value::Value;
