//! Entra ID's error responses: the OAuth JSON body with the AADSTS code, trace and correlation
//! IDs and timestamp repeated in the description, the HTML page the authorize endpoint shows
//! when it cannot redirect, and the headers every Entra ID response carries.
//!
//! Shapes follow real responses (for example `{"error":"authorization_pending",
//! "error_description":"AADSTS70016: ...\r\nTrace ID: ...\r\nCorrelation ID: ...\r\nTimestamp:
//! 2022-08-25 09:34:07Z","error_codes":[70016],"timestamp":"2022-08-25 09:34:07Z","trace_id":
//! "...","correlation_id":"...","error_uri":"https://login.microsoftonline.com/error?code=70016"}`
//! and the sample in Microsoft's "Microsoft Entra authentication and authorization error codes").
//!
//! Every Entra ID handler returns [`EntraError`] for a refusal and renders it here, as JSON,
//! as the HTML page, or as redirect parameters, with the request's [`ErrorContext`]. Messages
//! never carry a secret, code or token.

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::http::{RequestId, set_header, set_no_cache_headers};

/// What an Entra ID error says. Messages never contain a secret, code or token.
#[derive(Clone, Debug)]
pub struct EntraError {
    /// HTTP status (400, or 401 for `invalid_client`).
    pub status: StatusCode,
    /// The OAuth `error` value.
    pub error: &'static str,
    /// The AADSTS number.
    pub code: u32,
    /// The message after `AADSTSnnnn: `.
    pub message: String,
}

impl EntraError {
    /// An error with status 400.
    pub fn bad_request(error: &'static str, code: u32, message: impl Into<String>) -> Self {
        EntraError {
            status: StatusCode::BAD_REQUEST,
            error,
            code,
            message: message.into(),
        }
    }

    /// `invalid_client` with status 401, as Entra ID answers failed client authentication.
    pub fn invalid_client(code: u32, message: impl Into<String>) -> Self {
        EntraError {
            status: StatusCode::UNAUTHORIZED,
            error: "invalid_client",
            code,
            message: message.into(),
        }
    }

    /// AADSTS900144: a required parameter is missing.
    pub fn missing(name: &str) -> Self {
        Self::bad_request(
            "invalid_request",
            900144,
            format!("The request body must contain the following parameter: '{name}'."),
        )
    }

    /// The description as Entra ID writes it: code, message, then trace, correlation and time.
    pub fn description(&self, ctx: &ErrorContext) -> String {
        format!(
            "AADSTS{}: {}\r\nTrace ID: {}\r\nCorrelation ID: {}\r\nTimestamp: {}",
            self.code, self.message, ctx.trace_id, ctx.correlation_id, ctx.timestamp
        )
    }

    /// The JSON error response of the token, device code and discovery endpoints.
    pub fn json(&self, ctx: &ErrorContext) -> Response {
        let body = json!({
            "error": self.error,
            "error_description": self.description(ctx),
            "error_codes": [self.code],
            "timestamp": ctx.timestamp,
            "trace_id": ctx.trace_id,
            "correlation_id": ctx.correlation_id,
            "error_uri": format!("{}/error?code={}", ctx.base_url, self.code),
        });
        let mut r = (self.status, axum::Json(body)).into_response();
        entra_headers(r.headers_mut(), ctx);
        r
    }

    /// The HTML page the sign-in UI shows when it cannot send the error back to the app (an
    /// unknown app or a redirect URI the app does not have).
    pub fn html(&self, ctx: &ErrorContext) -> Response {
        let page = page(
            "Sign in to your account",
            &format!(
                "<h1>Sorry, but we're having trouble signing you in.</h1>\
                 <p id=\"error\">AADSTS{}: {}</p>\
                 <dl><dt>Request Id</dt><dd>{}</dd><dt>Correlation Id</dt><dd>{}</dd>\
                 <dt>Timestamp</dt><dd>{}</dd></dl>",
                self.code,
                escape_html(&self.message),
                escape_html(&ctx.trace_id),
                escape_html(&ctx.correlation_id),
                escape_html(&ctx.timestamp),
            ),
        );
        let mut r = (self.status, page).into_response();
        entra_headers(r.headers_mut(), ctx);
        r
    }

    /// The query parameters of an error redirect to the app.
    pub fn redirect_params(&self, ctx: &ErrorContext) -> Vec<(String, String)> {
        vec![
            ("error".into(), self.error.into()),
            ("error_description".into(), self.description(ctx)),
            (
                "error_uri".into(),
                format!("{}/error?code={}", ctx.base_url, self.code),
            ),
        ]
    }
}

/// What every Entra ID error carries besides the error itself.
#[derive(Clone, Debug)]
pub struct ErrorContext {
    /// The request ID (`x-ms-request-id`), which Entra ID calls the trace ID.
    pub trace_id: String,
    /// The client's `client-request-id`, or a fresh one.
    pub correlation_id: String,
    /// `2022-08-25 09:34:07Z`, by the simulator's clock.
    pub timestamp: String,
    /// The simulator's URL.
    pub base_url: String,
}

impl ErrorContext {
    /// The context of a request: its ID from the middleware, the client's correlation ID.
    pub fn new(
        sim: &crate::Sim,
        request_id: Option<&RequestId>,
        headers: &HeaderMap,
    ) -> ErrorContext {
        let trace_id = request_id
            .map(|r| r.0.clone())
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let correlation_id = headers
            .get("client-request-id")
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty() && v.len() <= 100)
            .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
        ErrorContext {
            trace_id,
            correlation_id,
            timestamp: ests_timestamp(sim.now()),
            base_url: sim.base_url.clone(),
        }
    }
}

/// `2022-08-25 09:34:07Z`: how Entra ID writes times in errors.
pub fn ests_timestamp(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// The headers Entra ID puts on its JSON responses.
pub fn entra_headers(h: &mut HeaderMap, ctx: &ErrorContext) {
    set_no_cache_headers(h, "no-store, no-cache");
    set_header(h, "x-ms-ests-server", "2.1.0 - LANDFALLSIM");
    set_header(h, "client-request-id", &ctx.correlation_id);
    if h.get("content-type")
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"))
    {
        set_header(h, "content-type", "application/json; charset=utf-8");
    }
}

/// A JSON success response with Entra ID's headers.
pub fn entra_json(ctx: &ErrorContext, body: serde_json::Value) -> Response {
    let mut r = (StatusCode::OK, axum::Json(body)).into_response();
    entra_headers(r.headers_mut(), ctx);
    r
}

/// A minimal HTML page.
pub fn page(title: &str, body: &str) -> axum::response::Html<String> {
    axum::response::Html(format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"></head>\
         <body style=\"font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto\">\
         {body}<footer><small>Landfall simulated Azure</small></footer></body></html>",
        escape_html(title)
    ))
}

/// Escapes text for HTML content and attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn timestamps_are_written_as_entra_id_writes_them() {
        assert_eq!(
            ests_timestamp(datetime!(2022-08-25 09:34:07 UTC)),
            "2022-08-25 09:34:07Z"
        );
    }

    #[test]
    fn html_escaping_covers_markup_and_quotes() {
        assert_eq!(
            escape_html("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
