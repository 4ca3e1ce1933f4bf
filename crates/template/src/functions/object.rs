//! object functions.

use super::FnDef;

/// The object functions.
pub const FUNCTIONS: &[FnDef] = &[];
