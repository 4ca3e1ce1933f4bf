//! cidr functions.

use super::FnDef;

/// The cidr functions.
pub const FUNCTIONS: &[FnDef] = &[];
