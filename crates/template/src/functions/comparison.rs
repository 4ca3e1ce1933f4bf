//! comparison functions.

use super::FnDef;

/// The comparison functions.
pub const FUNCTIONS: &[FnDef] = &[];
