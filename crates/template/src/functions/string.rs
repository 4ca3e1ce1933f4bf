//! string functions.

use super::FnDef;

/// The string functions.
pub const FUNCTIONS: &[FnDef] = &[];
