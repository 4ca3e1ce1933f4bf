//! ARM's error model and this crate's one [`Error`].
//!
//! Azure Resource Manager answers failures with an envelope `{"error": {code, message, target,
//! details[], additionalInfo[]}}` (common-types `ErrorResponse`), nested to any depth: a failed
//! validate is `InvalidTemplateDeployment` -> `PreflightValidationCheckFailed` -> the real cause.
//! The same tree appears in an async operation's status body (`{"status": "Failed", "error":
//! ...}`) and in each deployment operation's `statusMessage`, which Azure sends as an object, as
//! a JSON *string*, or with a whole envelope serialised inside a detail's `message`
//! (`"{\r\n  \"status\": \"Failed\",\r\n  \"error\": ...}"`). [`ArmErrorDetail::from_json`]
//! accepts all of them and unfolds the strings, so callers always get one tree.
//!
//! [`Error`] is what every call in this crate returns; [`Error::report`] turns it into the
//! wire-stable [`ErrorReport`] (a small [`ErrorCode`], a plain message, the tree and a
//! [`Remediation`] where we know one) that the engine and the UI branch on.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// How deep nested error trees and JSON-in-strings are followed before giving up.
const MAX_DEPTH: usize = 32;

/// One node of ARM's error tree (`ErrorDetail` in the common types).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct ArmErrorDetail {
    /// Azure's error code (`DeploymentFailed`, `QuotaExceeded`...).
    #[serde(default)]
    pub code: String,
    /// What the error is about (a property path or a resource name), when Azure says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Azure's message.
    #[serde(default)]
    pub message: String,
    /// Inner errors.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<ArmErrorDetail>,
    /// Extra typed information (`PolicyViolation`, `TemplateViolation`...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub additional_info: Vec<AdditionalInfo>,
}

/// One `additionalInfo` entry: `{type, info}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AdditionalInfo {
    /// The `type` (`PolicyViolation`, `TemplateViolation`...).
    #[serde(rename = "type", default)]
    pub kind: String,
    /// The `info` object, as sent.
    #[serde(default)]
    pub info: Json,
}

impl ArmErrorDetail {
    /// Parses an HTTP response body; `None` when it holds no ARM error.
    pub fn from_body(body: &[u8]) -> Option<Self> {
        let value: Json = serde_json::from_slice(body).ok()?;
        Self::from_json(&value)
    }

    /// Reads an error from any shape ARM uses: the `{"error": ...}` envelope, an operation
    /// status `{"status", "error"}`, a bare `{code, message}`, or a string holding one of those.
    pub fn from_json(value: &Json) -> Option<Self> {
        parse(value, 0)
    }

    /// Reads a deployment operation's `statusMessage`: an object or JSON string as in
    /// [`ArmErrorDetail::from_json`], or plain text (kept as the message).
    pub fn from_status_message(value: &Json) -> Option<Self> {
        if let Some(d) = Self::from_json(value) {
            return Some(d);
        }
        match value {
            Json::String(s) if !s.trim().is_empty() => Some(ArmErrorDetail {
                message: s.trim().to_owned(),
                ..ArmErrorDetail::default()
            }),
            _ => None,
        }
    }

    /// The leaves of the tree: the errors that are causes, not wrappers.
    pub fn root_causes(&self) -> Vec<&ArmErrorDetail> {
        let mut out = Vec::new();
        self.collect_leaves(&mut out);
        out
    }

    fn collect_leaves<'a>(&'a self, out: &mut Vec<&'a ArmErrorDetail>) {
        if self.details.is_empty() {
            out.push(self);
        } else {
            for d in &self.details {
                d.collect_leaves(out);
            }
        }
    }

    /// Every node, depth first, this one first.
    pub fn iter(&self) -> Vec<&ArmErrorDetail> {
        let mut out = vec![self];
        for d in &self.details {
            out.extend(d.iter());
        }
        out
    }

    /// The first node (depth first) whose code equals `code`, ignoring case.
    pub fn find_code(&self, code: &str) -> Option<&ArmErrorDetail> {
        self.iter()
            .into_iter()
            .find(|d| d.code.eq_ignore_ascii_case(code))
    }

    /// A one-line summary: the single root cause's message, or this node's when there are
    /// several (the wrapper's message then says "see details").
    pub fn summary(&self) -> String {
        let causes = self.root_causes();
        match causes.as_slice() {
            [only] if !only.message.is_empty() => format_cause(only),
            _ if !self.message.is_empty() => format_cause(self),
            [first, ..] => format_cause(first),
            [] => self.code.clone(),
        }
    }
}

fn format_cause(d: &ArmErrorDetail) -> String {
    match (d.code.is_empty(), d.message.is_empty()) {
        (false, false) => format!("{}: {}", d.code, d.message),
        (true, false) => d.message.clone(),
        _ => d.code.clone(),
    }
}

impl fmt::Display for ArmErrorDetail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary())
    }
}

/// Case-insensitive key lookup: ARM is camelCase, some resource providers answer `Code` and
/// `Message`.
fn get<'a>(map: &'a serde_json::Map<String, Json>, key: &str) -> Option<&'a Json> {
    map.get(key).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

fn text(v: Option<&Json>) -> Option<String> {
    match v? {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        Json::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn parse(value: &Json, depth: usize) -> Option<ArmErrorDetail> {
    if depth > MAX_DEPTH {
        return None;
    }
    match value {
        Json::String(s) => {
            let (_, inner) = embedded_json(s)?;
            parse(&inner, depth + 1)
        }
        Json::Object(map) => {
            if let Some(inner) = get(map, "error").filter(|e| !e.is_null()) {
                return parse(inner, depth + 1);
            }
            if get(map, "code").is_some() || get(map, "message").is_some() {
                return Some(node(map, depth));
            }
            None
        }
        _ => None,
    }
}

fn node(map: &serde_json::Map<String, Json>, depth: usize) -> ArmErrorDetail {
    let mut d = ArmErrorDetail {
        code: text(get(map, "code")).unwrap_or_default(),
        target: text(get(map, "target")).filter(|t| !t.is_empty()),
        message: text(get(map, "message")).unwrap_or_default(),
        details: Vec::new(),
        additional_info: Vec::new(),
    };
    if let Some(Json::Array(items)) = get(map, "details") {
        d.details = items.iter().filter_map(|i| parse(i, depth + 1)).collect();
    }
    if let Some(Json::Array(items)) = get(map, "additionalInfo") {
        d.additional_info = items
            .iter()
            .filter_map(|i| {
                let m = i.as_object()?;
                Some(AdditionalInfo {
                    kind: text(get(m, "type")).unwrap_or_default(),
                    info: get(m, "info").cloned().unwrap_or(Json::Null),
                })
            })
            .collect();
    }
    // Azure serialises a whole inner envelope into some messages, sometimes after a prose
    // prefix ("Deployment failed. Correlation ID: ... {\"error\": ...}"). Unfold it into a
    // child so the tree has the real cause.
    if let Some((prefix, inner)) = embedded_json(&d.message)
        && let Some(child) = parse(&inner, depth + 1)
    {
        d.message = if prefix.is_empty() {
            child.message.clone()
        } else {
            prefix
        };
        d.details.insert(0, child);
    }
    d
}

/// A JSON object inside a string (the whole string, or after a prose prefix): the trimmed
/// prefix and the parsed object.
fn embedded_json(s: &str) -> Option<(String, Json)> {
    let start = s.find('{')?;
    let mut stream = serde_json::Deserializer::from_str(&s[start..]).into_iter::<Json>();
    let value = stream.next()?.ok()?;
    if !value.is_object() {
        return None;
    }
    let prefix = s[..start].trim().trim_end_matches(':').trim().to_owned();
    Some((prefix, value))
}

/// A deployment operation that failed, with its resource and error tree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct FailedOperation {
    /// The operation ID.
    pub operation_id: String,
    /// The HTTP status the resource provider answered (`BadRequest`, `Conflict`...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<String>,
    /// The target resource's ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    /// The target resource's type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<String>,
    /// The target resource's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_name: Option<String>,
    /// The error tree from `statusMessage`.
    pub error: ArmErrorDetail,
}

impl FailedOperation {
    /// Reads one item of `.../deployments/{name}/operations`; `None` unless it failed.
    pub fn from_operation(op: &Json) -> Option<Self> {
        let p = op.get("properties")?;
        let state = p.get("provisioningState").and_then(Json::as_str)?;
        if !state.eq_ignore_ascii_case("Failed") {
            return None;
        }
        let error = p
            .get("statusMessage")
            .and_then(ArmErrorDetail::from_status_message)
            .unwrap_or_default();
        let target = p.get("targetResource");
        let field = |k: &str| {
            target
                .and_then(|t| t.get(k))
                .and_then(Json::as_str)
                .map(str::to_owned)
        };
        Some(FailedOperation {
            operation_id: op
                .get("operationId")
                .and_then(Json::as_str)
                .unwrap_or_default()
                .to_owned(),
            status_code: text(p.get("statusCode")),
            resource_id: field("id"),
            resource_type: field("resourceType"),
            resource_name: field("resourceName"),
            error,
        })
    }

    /// The failed operations of an operations list (`{"value": [...]}` or a bare array).
    pub fn all_in(list: &Json) -> Vec<Self> {
        let items = list
            .get("value")
            .and_then(Json::as_array)
            .or_else(|| list.as_array());
        items
            .map(|v| v.iter().filter_map(Self::from_operation).collect())
            .unwrap_or_default()
    }
}

/// The codes the UI branches on. Wire-stable: spelt as the variant names; add, never rename.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[non_exhaustive]
pub enum ErrorCode {
    /// The token is missing, expired or for the wrong audience: sign in again.
    Unauthorized,
    /// Signed in, but the principal lacks a permission.
    Forbidden,
    /// An Azure Policy assignment denies the request.
    PolicyDenied,
    /// The resource (or group, or subscription) does not exist.
    NotFound,
    /// The resource is busy or in a conflicting state.
    Conflict,
    /// Azure Resource Manager is throttling the caller.
    Throttled,
    /// A quota (usually regional vCPUs) is too small.
    QuotaExceeded,
    /// The template or its deployment is not valid (validation and preflight failures).
    InvalidTemplate,
    /// Azure rejected the request as malformed or not allowed.
    InvalidRequest,
    /// A deployment ran and at least one resource failed.
    DeploymentFailed,
    /// Another long-running operation ended `Failed`.
    OperationFailed,
    /// Azure answered with a server error and retries did not help.
    ServiceUnavailable,
    /// The network failed: no connection, a dropped connection, a TLS failure.
    Network,
    /// A wait reached its limit.
    Timeout,
    /// The wait or the operation was cancelled.
    Canceled,
    /// The configuration is not usable (a cloud metadata document, a CA file, a URL).
    InvalidConfiguration,
    /// Anything else.
    Unknown,
}

/// What to do about an error, when we know.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Remediation {
    /// What to do, in plain words.
    pub message: String,
    /// Where to do it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// The quota that is short, when that is the problem.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota: Option<QuotaShortfall>,
}

/// Which quota is short, where and by how much (read from Azure's quota message).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct QuotaShortfall {
    /// The quota's name as Azure says it (`standardDSv3Family`, `Total Regional Cores`).
    pub quota: String,
    /// The region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// The current limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    /// What is in use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_usage: Option<i64>,
    /// What this request needs on top.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_required: Option<i64>,
    /// The smallest limit that would do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_limit_required: Option<i64>,
}

/// An error as it crosses to the UI: `{code, message, details, remediation}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct ErrorReport {
    /// The code to branch on.
    pub code: ErrorCode,
    /// What happened, in plain words.
    pub message: String,
    /// Azure's error tree, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<ArmErrorDetail>,
    /// What to do about it, when we know.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediation: Option<Remediation>,
    /// Seconds to wait before trying again, when Azure said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<u64>,
    /// The `x-ms-correlation-request-id`, for Azure support.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
}

/// Everything that can fail in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Azure Resource Manager answered with an error status.
    #[error("{method} {url} failed with HTTP {status}{}", detail_suffix(detail.as_deref()))]
    Http {
        /// The request method.
        method: azure_core::http::Method,
        /// The request URL (query string dropped except `api-version`).
        url: String,
        /// The HTTP status.
        status: u16,
        /// ARM's error tree, if the body held one.
        detail: Option<Box<ArmErrorDetail>>,
        /// `x-ms-request-id`.
        request_id: Option<String>,
        /// `x-ms-correlation-request-id`.
        correlation_id: Option<String>,
    },
    /// Still throttled (HTTP 429) after the retries allowed, or asked to wait longer than the
    /// longest wait accepted.
    #[error("Azure Resource Manager is throttling {method} {url}{}", retry_suffix(*retry_after))]
    Throttled {
        /// The request method.
        method: azure_core::http::Method,
        /// The request URL.
        url: String,
        /// How long Azure asked to wait.
        retry_after: Option<Duration>,
        /// ARM's error tree, if any.
        detail: Option<Box<ArmErrorDetail>>,
    },
    /// A long-running operation ended `Failed` or `Canceled`.
    #[error("the operation polled at {url} ended {status}{}", detail_suffix(detail.as_deref()))]
    OperationFailed {
        /// The status URL (or the resource URL).
        url: String,
        /// The terminal status (`Failed`, `Canceled`).
        status: String,
        /// The error tree from the status body.
        detail: Option<Box<ArmErrorDetail>>,
    },
    /// The request did not get an answer: no connection, a dropped connection, TLS.
    #[error("{method} {url}: no answer from Azure: {source}")]
    Transport {
        /// The request method.
        method: azure_core::http::Method,
        /// The request URL.
        url: String,
        /// The transport's error.
        #[source]
        source: azure_core::Error,
    },
    /// A wait reached its limit (the poller's max wait).
    #[error("gave up waiting for {url} after {}s (last status {last_status})", waited.as_secs())]
    Timeout {
        /// The URL being polled.
        url: String,
        /// How long it waited.
        waited: Duration,
        /// The last status seen.
        last_status: String,
    },
    /// The wait was cancelled (this stops watching; it does not cancel anything in Azure).
    #[error("stopped waiting for {url}: cancelled")]
    Canceled {
        /// The URL being polled.
        url: String,
    },
    /// A body was not the JSON expected. Only where and what kind of mismatch is kept:
    /// serde_json's messages quote the offending value, which could be a key or a password.
    #[error("cannot read {what}: {reason}")]
    Decode {
        /// What was being read.
        what: String,
        /// The kind of mismatch and where (`data error at line 1, column 17`).
        reason: String,
    },
    /// Azure answered in a way this client does not understand (a 202 with nowhere to poll).
    #[error("unexpected answer from Azure: {message}")]
    Protocol {
        /// What was unexpected.
        message: String,
    },
    /// Getting an access token failed.
    #[error("cannot get an access token: {source}")]
    Credential {
        /// The credential's error.
        #[source]
        source: azure_core::Error,
    },
    /// A file could not be read.
    #[error("cannot read '{path}': {source}")]
    File {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A setting is not usable: a cloud metadata document, a CA certificate, a URL.
    #[error("{message}")]
    Config {
        /// What is wrong.
        message: String,
    },
}

fn detail_suffix(detail: Option<&ArmErrorDetail>) -> String {
    detail.map_or_else(String::new, |d| format!(": {}", d.summary()))
}

fn retry_suffix(retry_after: Option<Duration>) -> String {
    retry_after.map_or_else(String::new, |d| {
        format!(" (retry after {}s)", d.as_secs().max(1))
    })
}

fn is_quota(d: &ArmErrorDetail) -> bool {
    let code = d.code.to_ascii_lowercase();
    code.contains("quotaexceeded")
        || (code == "operationnotallowed" && d.message.to_ascii_lowercase().contains("quota"))
}

fn is_unauthorized_code(code: &str) -> bool {
    let c = code.to_ascii_lowercase();
    c.starts_with("authenticationfailed")
        || c.starts_with("invalidauthenticationtoken")
        || c == "expiredauthenticationtoken"
}

/// Classifies an HTTP status and an error tree: specific causes anywhere in the tree (quota,
/// policy) first, then the status, then the top code.
fn classify(status: Option<u16>, detail: Option<&ArmErrorDetail>) -> ErrorCode {
    if let Some(d) = detail {
        let nodes = d.iter();
        if nodes.iter().any(|n| is_quota(n)) {
            return ErrorCode::QuotaExceeded;
        }
        if nodes
            .iter()
            .any(|n| n.code.eq_ignore_ascii_case("RequestDisallowedByPolicy"))
        {
            return ErrorCode::PolicyDenied;
        }
        if is_unauthorized_code(&d.code) {
            return ErrorCode::Unauthorized;
        }
    }
    match status {
        Some(401) => return ErrorCode::Unauthorized,
        Some(403) => return ErrorCode::Forbidden,
        Some(404) => return ErrorCode::NotFound,
        Some(409) => return ErrorCode::Conflict,
        Some(429) => return ErrorCode::Throttled,
        _ => {}
    }
    if let Some(d) = detail {
        let code = d.code.to_ascii_lowercase();
        if code.starts_with("invalidtemplate") {
            return ErrorCode::InvalidTemplate;
        }
        if code == "deploymentfailed" {
            return ErrorCode::DeploymentFailed;
        }
    }
    match status {
        Some(s) if (400..500).contains(&s) => ErrorCode::InvalidRequest,
        Some(s) if s >= 500 => ErrorCode::ServiceUnavailable,
        _ => ErrorCode::Unknown,
    }
}

impl Error {
    /// Whether a write that failed this way may have taken effect anyway: the connection
    /// dropped (the answer may be what was lost) or Azure answered 5xx. Callers of writes sent
    /// once read the resource before sending them again.
    pub fn is_ambiguous(&self) -> bool {
        match self {
            Error::Transport { .. } => true,
            Error::Http { status, .. } => *status >= 500,
            _ => false,
        }
    }

    /// A [`Error::Decode`] from a serde_json error, without the value it quotes.
    pub fn decode(what: &str, e: &serde_json::Error) -> Self {
        let kind = match e.classify() {
            serde_json::error::Category::Io => "read error",
            serde_json::error::Category::Syntax => "not JSON",
            serde_json::error::Category::Data => "unexpected shape",
            serde_json::error::Category::Eof => "truncated JSON",
        };
        Error::Decode {
            what: what.to_owned(),
            reason: format!("{kind} at line {}, column {}", e.line(), e.column()),
        }
    }

    /// The stable code for this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Http { status, detail, .. } => classify(Some(*status), detail.as_deref()),
            Error::Throttled { .. } => ErrorCode::Throttled,
            Error::OperationFailed { status, detail, .. } => {
                if status.eq_ignore_ascii_case("Canceled")
                    || status.eq_ignore_ascii_case("Cancelled")
                {
                    return ErrorCode::Canceled;
                }
                match classify(None, detail.as_deref()) {
                    ErrorCode::Unknown => ErrorCode::OperationFailed,
                    code => code,
                }
            }
            Error::Transport { .. } => ErrorCode::Network,
            Error::Timeout { .. } => ErrorCode::Timeout,
            Error::Canceled { .. } => ErrorCode::Canceled,
            Error::Credential { .. } => ErrorCode::Unauthorized,
            Error::File { .. } | Error::Config { .. } => ErrorCode::InvalidConfiguration,
            Error::Decode { .. } | Error::Protocol { .. } => ErrorCode::Unknown,
        }
    }

    /// Azure's error tree, when there is one.
    pub fn detail(&self) -> Option<&ArmErrorDetail> {
        match self {
            Error::Http { detail, .. }
            | Error::Throttled { detail, .. }
            | Error::OperationFailed { detail, .. } => detail.as_deref(),
            _ => None,
        }
    }

    /// The HTTP status, for errors that have one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Http { status, .. } => Some(*status),
            Error::Throttled { .. } => Some(429),
            _ => None,
        }
    }

    /// How long Azure asked to wait, for throttling.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Throttled { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// What to do about it, when we know.
    pub fn remediation(&self) -> Option<Remediation> {
        let code = self.code();
        let detail = self.detail();
        match code {
            ErrorCode::QuotaExceeded => detail.map(quota_remediation),
            ErrorCode::PolicyDenied => detail.map(policy_remediation),
            ErrorCode::Throttled => Some(Remediation {
                message: match self.retry_after() {
                    Some(d) => format!(
                        "Azure is limiting how fast requests can be made. Wait {} seconds and try again.",
                        d.as_secs().max(1)
                    ),
                    None => "Azure is limiting how fast requests can be made. Wait a minute and try again.".to_owned(),
                },
                link: Some("https://aka.ms/arm-throttling".to_owned()),
                quota: None,
            }),
            ErrorCode::Unauthorized => Some(Remediation {
                message: "Your sign-in has expired or is not valid for this cloud. Sign in again."
                    .to_owned(),
                link: None,
                quota: None,
            }),
            ErrorCode::Forbidden => Some(forbidden_remediation(detail)),
            ErrorCode::Network => Some(Remediation {
                message: "Azure could not be reached. Check the network connection, proxy and firewall, then try again.".to_owned(),
                link: None,
                quota: None,
            }),
            ErrorCode::ServiceUnavailable => Some(Remediation {
                message: "Azure reported a temporary problem. Try again in a few minutes.".to_owned(),
                link: Some("https://status.azure.com".to_owned()),
                quota: None,
            }),
            _ => None,
        }
    }

    /// The wire form for the UI.
    pub fn report(&self) -> ErrorReport {
        let message = match self.detail() {
            Some(d) => d.summary(),
            None => self.to_string(),
        };
        ErrorReport {
            code: self.code(),
            message,
            details: self.detail().cloned(),
            remediation: self.remediation(),
            retry_after_seconds: self.retry_after().map(|d| d.as_secs().max(1)),
            correlation_id: match self {
                Error::Http { correlation_id, .. } => correlation_id.clone(),
                _ => None,
            },
        }
    }
}

/// The text between `after` and the next `end`, if `after` occurs.
fn between<'a>(s: &'a str, after: &str, end: &[char]) -> Option<&'a str> {
    let start = s.find(after)? + after.len();
    let rest = &s[start..];
    let stop = rest.find(end).unwrap_or(rest.len());
    Some(rest[..stop].trim())
}

fn number_after(s: &str, label: &str) -> Option<i64> {
    between(s, label, &[',', '.', ' '])?.parse().ok()
}

/// Reads Azure's quota message ("... exceeding approved standardDSv3Family Cores quota.
/// Additional details - Deployment Model: Resource Manager, Location: eastus, Current Limit: 10,
/// Current Usage: 8, Additional Required: 8, (Minimum) New Limit Required: 16. Submit a request
/// for Quota increase at https://aka.ms/...").
fn quota_remediation(detail: &ArmErrorDetail) -> Remediation {
    let node = detail
        .iter()
        .into_iter()
        .rev()
        .find(|n| is_quota(n))
        .unwrap_or(detail);
    let m = node.message.as_str();
    let quota = between(m, "exceeding approved ", &[]).map(quota_name);
    let shortfall = QuotaShortfall {
        quota: quota.unwrap_or_else(|| node.target.clone().unwrap_or_default()),
        location: between(m, "Location: ", &[',', ' ']).map(str::to_owned),
        limit: number_after(m, "Current Limit: "),
        current_usage: number_after(m, "Current Usage: "),
        additional_required: number_after(m, "Additional Required: "),
        new_limit_required: number_after(m, "New Limit Required: "),
    };
    let link = between(m, "Quota increase at ", &[' '])
        .map(|u| u.trim_end_matches('.').to_owned())
        .filter(|u| u.starts_with("https://"))
        .or_else(|| {
            Some(
                "https://portal.azure.com/#view/Microsoft_Azure_Capacity/QuotaMenuBlade/~/myQuotas"
                    .to_owned(),
            )
        });
    let what = if shortfall.quota.is_empty() {
        "the quota".to_owned()
    } else {
        format!("the {} quota", shortfall.quota)
    };
    let mut message = format!("Request an increase of {what}");
    if let Some(l) = &shortfall.location {
        message.push_str(&format!(" in {l}"));
    }
    if let Some(n) = shortfall.new_limit_required {
        message.push_str(&format!(" to at least {n}"));
    }
    if let (Some(limit), Some(usage), Some(extra)) = (
        shortfall.limit,
        shortfall.current_usage,
        shortfall.additional_required,
    ) {
        message.push_str(&format!(
            " (limit {limit}, in use {usage}, this deployment needs {extra} more)"
        ));
    }
    message.push_str(", or choose a smaller size or another region.");
    Remediation {
        message,
        link,
        quota: Some(shortfall),
    }
}

/// The quota's name from the text after "exceeding approved ": `standardDSv3Family Cores
/// quota` names `standardDSv3Family`; `Total Regional Cores quota` keeps its `Cores`.
fn quota_name(rest: &str) -> String {
    let name = rest.split(" quota").next().unwrap_or(rest).trim();
    match name.strip_suffix(" Cores") {
        Some(n) if n.ends_with("Cores") || n.to_ascii_lowercase().ends_with("family") => {
            n.to_owned()
        }
        _ => name.to_owned(),
    }
}

fn policy_remediation(detail: &ArmErrorDetail) -> Remediation {
    let node = detail
        .find_code("RequestDisallowedByPolicy")
        .unwrap_or(detail);
    let info = node
        .additional_info
        .iter()
        .find(|i| i.kind.eq_ignore_ascii_case("PolicyViolation"))
        .map(|i| &i.info);
    let field = |k: &str| {
        info.and_then(|i| i.get(k))
            .and_then(Json::as_str)
            .map(str::to_owned)
    };
    let name = field("policyAssignmentDisplayName").or_else(|| field("policyAssignmentName"));
    let scope = field("policyAssignmentScope");
    let message = match (name, scope) {
        (Some(n), Some(s)) => format!(
            "The Azure Policy assignment '{n}' (scope {s}) denies this. Ask the policy owner for an exemption or a change, or choose settings the policy allows."
        ),
        (Some(n), None) => format!(
            "The Azure Policy assignment '{n}' denies this. Ask the policy owner for an exemption or a change, or choose settings the policy allows."
        ),
        _ => "An Azure Policy denies this. Ask the policy owner for an exemption or a change, or choose settings the policy allows.".to_owned(),
    };
    Remediation {
        message,
        link: Some("https://aka.ms/policy-exemptions".to_owned()),
        quota: None,
    }
}

fn forbidden_remediation(detail: Option<&ArmErrorDetail>) -> Remediation {
    let m = detail.map(|d| d.message.as_str()).unwrap_or_default();
    let action = between(m, "perform action '", &['\'']);
    let scope = between(m, "over scope '", &['\'']);
    let message = match (action, scope) {
        (Some(a), Some(s)) => format!(
            "The signed-in account may not perform '{a}' on '{s}'. Ask an owner of that scope for a role that allows it (for example Contributor), then sign in again."
        ),
        _ => "The signed-in account lacks a permission this needs. Ask an owner of the subscription for a role that allows it (for example Contributor), then sign in again.".to_owned(),
    };
    Remediation {
        message,
        link: None,
        quota: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_status_message_as_a_json_string_is_unfolded() {
        let sm = json!(
            "{\"status\":\"Failed\",\"error\":{\"code\":\"InvalidParameter\",\"target\":\"sku\",\"message\":\"bad sku\"}}"
        );
        let d = ArmErrorDetail::from_status_message(&sm).unwrap();
        assert_eq!(d.code, "InvalidParameter");
        assert_eq!(d.target.as_deref(), Some("sku"));
    }

    #[test]
    fn plain_text_status_messages_are_kept_as_the_message() {
        let d = ArmErrorDetail::from_status_message(&json!("Resource not found")).unwrap();
        assert_eq!(d.message, "Resource not found");
        assert!(d.code.is_empty());
        assert_eq!(ArmErrorDetail::from_status_message(&json!(null)), None);
    }

    #[test]
    fn an_envelope_inside_a_message_becomes_a_child() {
        let body = json!({"error": {"code": "DeploymentFailed", "message": "At least one resource deployment operation failed.",
            "details": [{"code": "Conflict", "message": "{\r\n  \"status\": \"Failed\",\r\n  \"error\": {\r\n    \"code\": \"ResourceDeploymentFailure\",\r\n    \"message\": \"The resource operation completed with terminal provisioning state 'Failed'.\",\r\n    \"details\": [\r\n      {\r\n        \"code\": \"VMExtensionProvisioningError\",\r\n        \"message\": \"VM has reported a failure.\"\r\n      }\r\n    ]\r\n  }\r\n}"}]}});
        let d = ArmErrorDetail::from_json(&body).unwrap();
        let conflict = &d.details[0];
        assert_eq!(conflict.code, "Conflict");
        assert_eq!(
            conflict.message,
            "The resource operation completed with terminal provisioning state 'Failed'."
        );
        assert_eq!(conflict.details[0].code, "ResourceDeploymentFailure");
        let causes: Vec<&str> = d.root_causes().iter().map(|c| c.code.as_str()).collect();
        assert_eq!(causes, ["VMExtensionProvisioningError"]);
        assert_eq!(
            d.summary(),
            "VMExtensionProvisioningError: VM has reported a failure."
        );
    }

    #[test]
    fn a_prose_prefix_before_embedded_json_is_kept() {
        let body = json!({"code": "DeploymentFailed", "message": "Deployment failed. Correlation ID: 1234. {\"error\":{\"code\":\"SkuNotAvailable\",\"message\":\"not here\"}}"});
        let d = ArmErrorDetail::from_json(&body).unwrap();
        assert_eq!(d.message, "Deployment failed. Correlation ID: 1234.");
        assert_eq!(d.details[0].code, "SkuNotAvailable");
    }

    #[test]
    fn capitalised_keys_and_bodies_without_errors() {
        let d = ArmErrorDetail::from_body(br#"{"Code":"NotFound","Message":"gone"}"#).unwrap();
        assert_eq!((d.code.as_str(), d.message.as_str()), ("NotFound", "gone"));
        assert_eq!(ArmErrorDetail::from_body(b""), None);
        assert_eq!(ArmErrorDetail::from_body(b"<html>502</html>"), None);
        assert_eq!(ArmErrorDetail::from_body(br#"{"value": []}"#), None);
    }

    #[test]
    fn quota_names_keep_what_azure_means() {
        assert_eq!(
            quota_name("standardDSv3Family Cores quota. Additional"),
            "standardDSv3Family"
        );
        assert_eq!(
            quota_name("Total Regional Cores quota. Additional"),
            "Total Regional Cores"
        );
        assert_eq!(
            quota_name("Total Regional Cores Cores quota."),
            "Total Regional Cores"
        );
    }

    #[test]
    fn pathological_nesting_stops() {
        let mut v = json!({"code": "Leaf", "message": "x"});
        for _ in 0..100 {
            v = json!({ "error": v });
        }
        assert_eq!(ArmErrorDetail::from_json(&v), None);
    }

    #[test]
    fn classification_prefers_specific_causes() {
        let quota = ArmErrorDetail::from_json(&json!({"error": {"code": "InvalidTemplateDeployment", "message": "x",
            "details": [{"code": "OperationNotAllowed", "message": "Operation could not be completed as it results in exceeding approved Total Regional Cores quota."}]}})).unwrap();
        assert_eq!(classify(Some(400), Some(&quota)), ErrorCode::QuotaExceeded);
        let expired = ArmErrorDetail::from_json(
            &json!({"error": {"code": "ExpiredAuthenticationToken", "message": "x"}}),
        )
        .unwrap();
        assert_eq!(classify(Some(401), Some(&expired)), ErrorCode::Unauthorized);
        assert_eq!(classify(Some(404), None), ErrorCode::NotFound);
        assert_eq!(classify(Some(502), None), ErrorCode::ServiceUnavailable);
        assert_eq!(classify(Some(418), None), ErrorCode::InvalidRequest);
        assert_eq!(classify(None, None), ErrorCode::Unknown);
    }
}
