//! lambda functions.

use super::FnDef;

/// The lambda functions.
pub const FUNCTIONS: &[FnDef] = &[];
