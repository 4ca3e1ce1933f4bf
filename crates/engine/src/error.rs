//! The engine's one error type and its wire form.
//!
//! Everything that reaches a person goes through [`EngineError::problem`]: a stable code to
//! branch on, a plain message, details (the Azure error tree, the failed inputs) and a
//! remediation when we know one.

use landfall_azure::{ErrorReport, Remediation};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::journal::JournalError;

/// One input that broke a rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct InputError {
    /// The input's name (`name`, `userNodeCount`), or the file/flag when no input applies.
    pub input: String,
    /// The rule's short name (`required`, `min`, `allowed`, `storageAccountName`...).
    pub rule: String,
    /// In plain words, naming the input and the rule.
    pub message: String,
}

/// Everything that can fail in the engine.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The template bundle is not usable: digest mismatch, bad manifest, a missing file.
    #[error("the template bundle is not usable: {0}")]
    Bundle(String),
    /// One or more inputs broke a rule.
    #[error("{}", describe_inputs(.0))]
    Inputs(Vec<InputError>),
    /// A template could not be planned or its parameters rendered.
    #[error("stage '{stage}': {message}")]
    Template {
        /// The stage.
        stage: String,
        /// What went wrong, with the template error's position.
        message: String,
    },
    /// Azure refused or failed.
    #[error(transparent)]
    Azure(#[from] landfall_azure::Error),
    /// The journal failed.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// Something asked for does not exist (a run, an instance).
    #[error("{0}")]
    NotFound(String),
    /// The engine refuses, to protect something (teardown of an untagged group, a second
    /// deployment of an instance that is running).
    #[error("{0}")]
    Refused(String),
    /// Preflight found failing checks.
    #[error("preflight failed: {0}")]
    Preflight(String),
}

fn describe_inputs(errors: &[InputError]) -> String {
    match errors {
        [] => "the inputs are not valid".into(),
        [one] => one.message.clone(),
        many => format!(
            "{} inputs are not valid: {}",
            many.len(),
            many.iter()
                .map(|e| e.message.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        ),
    }
}

/// The wire form of an error: what the CLI prints with `--json` and the desktop shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    /// Stable code (`inputs`, `bundle`, `quotaExceeded`...).
    pub code: String,
    /// In plain words.
    pub message: String,
    /// The failed inputs, or Azure's error report.
    #[serde(default, skip_serializing_if = "Json::is_null")]
    pub details: Json,
    /// What to do, when we know.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediation: Option<Remediation>,
}

impl EngineError {
    /// The stable code.
    pub fn code(&self) -> String {
        match self {
            Self::Bundle(_) => "bundle".into(),
            Self::Inputs(_) => "inputs".into(),
            Self::Template { .. } => "template".into(),
            Self::Azure(e) => {
                let report = e.report();
                serde_json::to_value(report.code)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_else(|| "azure".into())
            }
            Self::Journal(_) => "journal".into(),
            Self::NotFound(_) => "notFound".into(),
            Self::Refused(_) => "refused".into(),
            Self::Preflight(_) => "preflight".into(),
        }
    }

    /// The Azure report, for Azure errors.
    pub fn azure_report(&self) -> Option<ErrorReport> {
        match self {
            Self::Azure(e) => Some(e.report()),
            _ => None,
        }
    }

    /// The wire form.
    pub fn problem(&self) -> Problem {
        let (details, remediation) = match self {
            Self::Inputs(errors) => (serde_json::to_value(errors).unwrap_or(Json::Null), None),
            Self::Azure(e) => {
                let report = e.report();
                let remediation = report.remediation.clone();
                (
                    serde_json::to_value(&report).unwrap_or(Json::Null),
                    remediation,
                )
            }
            _ => (Json::Null, None),
        };
        let message = match self {
            Self::Azure(e) => e.report().message,
            other => other.to_string(),
        };
        Problem {
            code: self.code(),
            message,
            details,
            remediation,
        }
    }
}
