//! Bit-exact `uniqueString`, `guid` and `templateHash`.
