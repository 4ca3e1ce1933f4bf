//! numeric functions.

use super::FnDef;

/// The numeric functions.
pub const FUNCTIONS: &[FnDef] = &[];
