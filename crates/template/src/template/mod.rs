//! Templates: parameters, variables, resources, copy loops, nested deployments, outputs, plan.

/// Placeholder.
pub struct Template;
/// Placeholder.
pub struct Plan;
/// Placeholder.
pub struct PlannedResource;
/// Placeholder.
pub struct PlannedOutput;
/// Placeholder.
pub fn plan() {}
