//! (being written)

/// Journal failures.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// Placeholder until the journal lands.
    #[error("journal: {0}")]
    Other(String),
}
