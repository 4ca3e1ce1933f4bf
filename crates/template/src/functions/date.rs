//! date functions.

use super::FnDef;

/// The date functions.
pub const FUNCTIONS: &[FnDef] = &[];
