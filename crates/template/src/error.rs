//! Template errors: what failed, in Azure's words, and where.

use std::fmt;

use crate::json::Pos;

/// Stable codes for template errors, matching the codes Azure returns where there is one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub enum ErrorCode {
    /// The template or parameter file is not valid JSON.
    InvalidJson,
    /// The template is structurally or semantically invalid (`InvalidTemplate` in Azure).
    InvalidTemplate,
    /// An expression failed to parse or evaluate.
    InvalidExpression,
    /// A required parameter has no value.
    MissingParameter,
    /// A parameter was given that the template does not declare.
    UndeclaredParameter,
    /// A parameter value breaks a rule (type, allowed values, range, length).
    InvalidParameter,
    /// Resources depend on each other in a cycle.
    CircularDependency,
    /// A template limit (resources, parameters, outputs, size) is exceeded.
    LimitExceeded,
}

impl ErrorCode {
    /// The code as Azure spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidJson => "InvalidTemplateJson",
            ErrorCode::InvalidTemplate => "InvalidTemplate",
            ErrorCode::InvalidExpression => "InvalidTemplateExpression",
            ErrorCode::MissingParameter => "MissingTemplateParameter",
            ErrorCode::UndeclaredParameter => "UndeclaredTemplateParameter",
            ErrorCode::InvalidParameter => "InvalidTemplateParameter",
            ErrorCode::CircularDependency => "CircularDependency",
            ErrorCode::LimitExceeded => "TemplateLimitExceeded",
        }
    }
}

/// A template error: code, message, and where it happened.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct TemplateError {
    /// Stable code.
    pub code: ErrorCode,
    /// Plain-words message (Azure's wording where it has one).
    pub message: String,
    /// JSON path of the failing value (`resources[2].properties.name`), if known.
    pub path: Option<String>,
    /// Line and column in the file, if known.
    pub pos: Option<Pos>,
    /// Byte offset inside the expression string, for expression errors.
    pub expr_offset: Option<usize>,
}

impl TemplateError {
    /// An error with a code and message, location unknown.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        TemplateError {
            code,
            message: message.into(),
            path: None,
            pos: None,
            expr_offset: None,
        }
    }

    /// Sets the JSON path.
    pub fn at_path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// Fills in the line and column of the error's path from the document's spans.
    pub fn located(mut self, spans: Option<&crate::json::Spans>) -> Self {
        if let (Some(s), Some(p)) = (spans, &self.path) {
            self.pos = Some(s.find(p));
        }
        self
    }
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)?;
        let mut loc = Vec::new();
        if let Some(p) = &self.path {
            loc.push(format!("at '{p}'"));
        }
        if let Some(p) = self.pos {
            loc.push(format!("line {}, column {}", p.line, p.column));
        }
        if let Some(o) = self.expr_offset {
            loc.push(format!("expression position {o}"));
        }
        if !loc.is_empty() {
            write!(f, " ({})", loc.join(", "))?;
        }
        Ok(())
    }
}
