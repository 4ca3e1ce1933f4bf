//! What the ARM handlers share about a request: [`ArmRequest`] (the path split into
//! segments, the decoded query, the body, the caller), reading a JSON body with ARM's
//! `InvalidRequestContent` errors, paging list responses with `nextLink`, and the
//! percent-encoding of paths and query strings.
//!
//! Handlers report a refusal as `Err(Box<Response>)` (see [`reject`]): the response is ready to
//! send, and boxing keeps the `Result` small.

use axum::body::Bytes;
use axum::http::{Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::{Value as Json, json};

use crate::Sim;
use crate::http::{Caller, arm_error};

/// An ARM request as the handlers of these modules see it: the path split into segments
/// (percent-decoded, and lower-cased for matching), the query, the body, the caller.
pub(crate) struct ArmRequest {
    /// HTTP method.
    pub(crate) method: Method,
    /// The raw path.
    pub(crate) path: String,
    /// Path segments, percent-decoded, casing as sent.
    pub(crate) segments: Vec<String>,
    /// Path segments, percent-decoded, lower-cased.
    pub(crate) lower: Vec<String>,
    /// Query parameters, decoded (`+` as space), in order.
    pub(crate) query: Vec<(String, String)>,
    /// The body.
    pub(crate) body: Bytes,
    /// The signed-in principal (put there by the middleware).
    pub(crate) caller: Option<Caller>,
}

impl ArmRequest {
    /// Builds the view of a request.
    pub(crate) fn new(method: Method, uri: &Uri, body: Bytes, caller: Option<Caller>) -> Self {
        let path = uri.path().to_owned();
        let segments: Vec<String> = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| percent_decode(s, false))
            .collect();
        let lower = segments.iter().map(|s| s.to_ascii_lowercase()).collect();
        let query = query_pairs(uri.query().unwrap_or("")).collect();
        ArmRequest {
            method,
            path,
            segments,
            lower,
            query,
            body,
            caller,
        }
    }

    /// A query parameter (name compared case-insensitively, as ARM does).
    pub(crate) fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The `api-version` sent (the middleware has already refused requests without one).
    pub(crate) fn api_version(&self) -> &str {
        self.query("api-version").unwrap_or("")
    }

    /// The body as JSON, or ARM's `400 InvalidRequestContent` when it is missing or malformed.
    pub(crate) fn json_body(&self) -> Result<Json, Box<Response>> {
        let text = String::from_utf8_lossy(&self.body);
        if text.trim().is_empty() {
            return reject(invalid_content("The request content is empty."));
        }
        serde_json::from_str::<Json>(&text).map_err(|e| {
            let found = text
                .lines()
                .nth(e.line().saturating_sub(1))
                .and_then(|l| l.chars().nth(e.column().saturating_sub(1)))
                .unwrap_or(' ');
            invalid_content(&format!(
                "Unexpected character encountered while parsing value: {found}. Path '', line {}, position {}.",
                e.line(),
                e.column()
            ))
        })
        .map_err(Box::new)
    }

    /// The body as a JSON object (see [`ArmRequest::json_body`]).
    pub(crate) fn json_object(&self) -> Result<serde_json::Map<String, Json>, Box<Response>> {
        match self.json_body()? {
            Json::Object(m) => Ok(m),
            other => reject(invalid_content(&format!(
                "Error converting value {} to type 'Object'. Path '', line 1, position {}.",
                other,
                other.to_string().len()
            ))),
        }
    }

    /// A required string property of the JSON body.
    pub(crate) fn required_string(
        body: &serde_json::Map<String, Json>,
        name: &str,
    ) -> Result<String, Box<Response>> {
        match body.get(name) {
            Some(Json::String(s)) => Ok(s.clone()),
            _ => reject(invalid_content(&format!(
                "Required property '{name}' not found in JSON. Path '', line 1, position 1."
            ))),
        }
    }

    /// The caller, or ARM's 401 if the middleware did not authenticate one.
    pub(crate) fn caller(&self) -> Result<&Caller, Box<Response>> {
        self.caller
            .as_ref()
            .ok_or_else(|| {
                arm_error(
                    StatusCode::UNAUTHORIZED,
                    "AuthenticationFailed",
                    "Authentication failed. The 'Authorization' header is missing.",
                )
            })
            .map_err(Box::new)
    }

    /// The URL of this request's path (no query) on the simulator.
    pub(crate) fn url(&self, sim: &Sim) -> String {
        format!("{}{}", sim.base_url, self.path)
    }
}

/// A refusal as the error of a helper (`Response` is large, so it travels boxed).
pub(crate) fn reject<T>(r: Response) -> Result<T, Box<Response>> {
    Err(Box::new(r))
}

/// ARM's `400 InvalidRequestContent` with a deserializer message.
pub(crate) fn invalid_content(detail: &str) -> Response {
    arm_error(
        StatusCode::BAD_REQUEST,
        "InvalidRequestContent",
        format!("The request content was invalid and could not be deserialized: '{detail}'."),
    )
}

/// Decodes `%XX` escapes (and `+` as a space in query strings); invalid escapes stay as sent.
pub(crate) fn percent_decode(s: &str, plus_as_space: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = |b: u8| (b as char).to_digit(16);
                match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 3;
                    }
                    _ => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' if plus_as_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The query's `name=value` pairs, decoded (`+` as a space), in order.
pub(crate) fn query_pairs(query: &str) -> impl Iterator<Item = (String, String)> + '_ {
    query.split('&').filter(|kv| !kv.is_empty()).map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        (percent_decode(k, true), percent_decode(v, true))
    })
}

/// A query parameter by name (case-insensitive, as ARM compares them), decoded.
pub(crate) fn query_param(query: &str, name: &str) -> Option<String> {
    query_pairs(query)
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// `405` for a path that exists with another method.
pub(crate) fn method_not_allowed(req: &ArmRequest) -> Response {
    arm_error(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        format!(
            "The requested resource does not support http method '{}'.",
            req.method
        ),
    )
}

/// A page of `items` with ARM's `nextLink` (`$skiptoken`) when more remain.
pub(crate) fn page(sim: &Sim, req: &ArmRequest, items: Vec<Json>, default_size: usize) -> Json {
    let size = req
        .query("$top")
        .and_then(|t| t.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default_size);
    let start = req
        .query("$skiptoken")
        .and_then(decode_skiptoken)
        .unwrap_or(0);
    let end = start.saturating_add(size).min(items.len());
    let value: Vec<Json> = items
        .get(start.min(items.len())..end)
        .map(<[Json]>::to_vec)
        .unwrap_or_default();
    let mut out = json!({ "value": value });
    if end < items.len() {
        let mut q: Vec<String> = req
            .query
            .iter()
            .filter(|(k, _)| !k.eq_ignore_ascii_case("$skiptoken"))
            .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
            .collect();
        q.push(format!("%24skiptoken={}", encode_skiptoken(end)));
        out["nextLink"] = json!(format!("{}?{}", req.url(sim), q.join("&")));
    }
    out
}

/// An opaque `$skiptoken` for the item offset where the next page starts.
fn encode_skiptoken(offset: usize) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{{\"offset\":{offset}}}"))
}

/// The offset in a `$skiptoken` made by [`encode_skiptoken`].
fn decode_skiptoken(token: &str) -> Option<usize> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.trim_end_matches('='))
        .ok()?;
    let v: Json = serde_json::from_slice(&bytes).ok()?;
    v.get("offset")?.as_u64().map(|n| n as usize)
}

/// Percent-encodes a query component (everything but RFC 3986's unreserved characters).
pub(crate) fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // A failing test should stop loudly.
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_handles_plus_and_bad_escapes() {
        assert_eq!(percent_decode("a%20b+c", true), "a b c");
        assert_eq!(percent_decode("a%2", false), "a%2");
        assert_eq!(percent_decode("%zz", false), "%zz");
        assert_eq!(percent_decode("%zz%4", false), "%zz%4");
    }

    #[test]
    fn query_values_are_decoded() {
        let q = "api-version=2021-04-01&%24filter=provisioningState%20eq%20%27Failed%27&$top=2";
        assert_eq!(
            query_param(q, "$filter").unwrap(),
            "provisioningState eq 'Failed'"
        );
        assert_eq!(query_param(q, "$TOP").unwrap(), "2");
        assert_eq!(query_param(q, "missing"), None);
        assert_eq!(percent_encode("a b'"), "a%20b%27");
    }

    #[test]
    fn skiptokens_round_trip() {
        assert_eq!(decode_skiptoken(&encode_skiptoken(42)), Some(42));
        assert_eq!(decode_skiptoken("garbage!"), None);
    }
}
