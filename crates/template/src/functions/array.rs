//! array functions.

use super::FnDef;

/// The array functions.
pub const FUNCTIONS: &[FnDef] = &[];
