//! What every response shares: ARM's error envelope and headers, the request log, bearer-token
//! checks, the `api-version` rule, and the fault hooks. Handlers stay about their resource.
//!
//! Every request passes [`middleware`] in this order: a request ID; the faults
//! ([`crate::faults::Faults::before`]: throttling, transient errors, delays, dropped
//! connections); for ARM paths the `api-version` rule and the bearer token (the [`Caller`] it
//! names goes into the request's extensions); the handler; the standard headers; the request
//! log. A refusal at any step is the response, and is logged like any other. The simulator's
//! own endpoints (`/_sim/...`) skip the faults and checks.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{OriginalUri, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use serde_json::{Value as Json, json};

use crate::Sim;
use crate::faults::FaultAction;

/// One request the simulator served.
#[derive(Clone, Debug, Serialize)]
pub struct RequestRecord {
    /// HTTP method.
    pub method: String,
    /// Path without the query.
    pub path: String,
    /// Response status.
    pub status: u16,
    /// A connection fault injected: `dropped` (never served) or `answerLost` (served, the
    /// answer lost on the way back).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<&'static str>,
}

/// The signed-in principal an ARM request carries, put in the request extensions by the
/// middleware after the token is checked.
#[derive(Clone, Debug)]
pub struct Caller {
    /// Object ID (`oid`).
    pub object_id: String,
    /// Tenant ID (`tid`).
    pub tenant_id: String,
    /// UPN or app ID, for display.
    pub name: String,
}

/// The request ID given to this request (also sent as `x-ms-request-id`).
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// An ARM error response: `{"error": {"code", "message", "target"?, "details"?}}`.
pub fn arm_error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    arm_error_body(
        status,
        json!({"error": {"code": code, "message": message.into()}}),
    )
}

/// An ARM error response with a prepared body (nested details, additional info).
pub fn arm_error_body(status: StatusCode, body: Json) -> Response {
    let mut r = (status, axum::Json(body)).into_response();
    r.headers_mut()
        .insert("x-ms-failure-cause", HeaderValue::from_static("gateway"));
    r
}

/// A JSON response with a status.
pub fn json_response(status: StatusCode, body: Json) -> Response {
    (status, axum::Json(body)).into_response()
}

/// `202 Accepted` with `Location` and `Retry-After` (async operations polled by `Location`).
pub fn accepted_with_location(location: &str, retry_after_secs: u64) -> Response {
    let mut r = StatusCode::ACCEPTED.into_response();
    set_header(r.headers_mut(), "location", location);
    set_header(
        r.headers_mut(),
        "retry-after",
        &retry_after_secs.to_string(),
    );
    r
}

/// RFC 3339, as ARM writes most timestamps and Entra ID writes them in messages.
pub fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Sets a header, ignoring values that are not valid header text.
pub fn set_header(h: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        h.insert(HeaderName::from_static(name), v);
    }
}

/// The caching and transport-security headers Resource Manager and Entra ID both send, with
/// their own `cache-control`.
pub fn set_no_cache_headers(h: &mut HeaderMap, cache_control: &str) {
    set_header(h, "cache-control", cache_control);
    set_header(h, "pragma", "no-cache");
    set_header(h, "expires", "-1");
    set_header(
        h,
        "strict-transport-security",
        "max-age=31536000; includeSubDomains",
    );
    set_header(h, "x-content-type-options", "nosniff");
}

/// `GET /_sim/requests` and other simulator-only endpoints.
pub fn sim_router() -> Router<Arc<Sim>> {
    Router::new().route("/_sim/requests", get(list_requests))
}

/// `GET /_sim/requests`: the requests served (the most recent [`crate::REQUEST_LOG_CAPACITY`]),
/// oldest first.
async fn list_requests(State(sim): State<Arc<Sim>>) -> Response {
    let log = sim.requests.lock().map(|l| l.clone()).unwrap_or_default();
    json_response(
        StatusCode::OK,
        serde_json::to_value(log).unwrap_or(Json::Null),
    )
}

/// True for paths Azure Resource Manager serves (as opposed to Entra ID and metadata).
pub fn is_arm_path(path: &str) -> bool {
    let p = path.to_ascii_lowercase();
    p.starts_with("/subscriptions") || p.starts_with("/tenants") || p.starts_with("/providers")
}

/// True for ARM requests counted against the tenant rather than a subscription: `/tenants`,
/// the subscription list, and tenant-level providers (`/providers/...`, such as
/// `calculateTemplateHash`).
pub fn is_tenant_level(path: &str) -> bool {
    let p = path.to_ascii_lowercase();
    let p = p.trim_end_matches('/');
    p == "/tenants"
        || p.starts_with("/tenants/")
        || p == "/subscriptions"
        || p.starts_with("/providers")
}

/// The middleware every request passes: request ID, fault injection, authentication and
/// `api-version` for ARM paths, standard headers, and the request log.
pub async fn middleware(State(sim): State<Arc<Sim>>, mut req: Request, next: Next) -> Response {
    let method = req.method().to_string();
    // The path as the client sent it: ARM paths reach the routes respelled (see `crate::arm`).
    let uri = req
        .extensions()
        .get::<OriginalUri>()
        .map_or_else(|| req.uri().clone(), |o| o.0.clone());
    let path = uri.path().to_owned();
    let query = uri.query().unwrap_or("").to_owned();
    let request_id = uuid::Uuid::new_v4().to_string();
    let correlation = req
        .headers()
        .get("x-ms-correlation-request-id")
        .and_then(|v| v.to_str().ok())
        .map_or_else(|| request_id.clone(), str::to_owned);
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let arm = is_arm_path(&path);

    let mut lose_response = false;
    let mut fault = None;
    let mut response = 'handled: {
        if path.starts_with("/_sim/") {
            break 'handled next.run(req).await;
        }
        match sim.faults.before(&sim, &method, &path, arm) {
            FaultAction::None => {}
            FaultAction::Respond(r) => break 'handled r,
            FaultAction::Delay(d) => tokio::time::sleep(d).await,
            FaultAction::Drop => {
                fault = Some("dropped");
                break 'handled dropped_connection();
            }
            FaultAction::LoseResponse => lose_response = true,
        }
        if arm {
            if !has_api_version(&query) {
                break 'handled arm_error(
                    StatusCode::BAD_REQUEST,
                    "MissingApiVersionParameter",
                    "The api-version query parameter (?api-version=) is required for all requests.",
                );
            }
            match authenticate(&sim, req.headers()) {
                Ok(caller) => {
                    req.extensions_mut().insert(caller);
                }
                Err(r) => break 'handled *r,
            }
        }
        let served = next.run(req).await;
        if lose_response {
            // The request took effect; only its answer is lost on the way back.
            fault = Some("answerLost");
            let mut lost = dropped_connection();
            *lost.status_mut() = served.status();
            break 'handled lost;
        }
        served
    };

    let h = response.headers_mut();
    set_header(h, "x-ms-request-id", &request_id);
    set_header(h, "x-ms-correlation-request-id", &correlation);
    if arm {
        let now = sim.now();
        set_header(
            h,
            "x-ms-routing-request-id",
            &format!("LANDFALLSIM:{}:{request_id}", now.unix_timestamp()),
        );
        let left = sim.faults.remaining(&sim);
        let kind = match method.as_str() {
            "GET" | "HEAD" => "reads",
            "DELETE" => "deletes",
            _ => "writes",
        };
        if is_tenant_level(&path) {
            // Tenant-level requests count against the tenant, which has no deletes counter.
            let (name, value): (&'static str, i64) = if kind == "reads" {
                ("x-ms-ratelimit-remaining-tenant-reads", left.reads)
            } else if kind == "deletes" {
                ("x-ms-ratelimit-remaining-tenant-deletes", left.deletes)
            } else {
                ("x-ms-ratelimit-remaining-tenant-writes", left.writes)
            };
            set_header(h, name, &value.to_string());
        } else {
            let (local, global): ((&'static str, i64), (&'static str, i64)) = match kind {
                "reads" => (
                    ("x-ms-ratelimit-remaining-subscription-reads", left.reads),
                    (
                        "x-ms-ratelimit-remaining-subscription-global-reads",
                        left.global_reads,
                    ),
                ),
                "deletes" => (
                    (
                        "x-ms-ratelimit-remaining-subscription-deletes",
                        left.deletes,
                    ),
                    (
                        "x-ms-ratelimit-remaining-subscription-global-deletes",
                        left.global_deletes,
                    ),
                ),
                _ => (
                    ("x-ms-ratelimit-remaining-subscription-writes", left.writes),
                    (
                        "x-ms-ratelimit-remaining-subscription-global-writes",
                        left.global_writes,
                    ),
                ),
            };
            set_header(h, local.0, &local.1.to_string());
            set_header(h, global.0, &global.1.to_string());
        }
        set_no_cache_headers(h, "no-cache");
    }
    if let Ok(mut log) = sim.requests.lock() {
        remember(
            &mut log,
            RequestRecord {
                method,
                path,
                status: response.status().as_u16(),
                fault,
            },
            crate::REQUEST_LOG_CAPACITY,
        );
    }
    response
}

/// Appends to the request log; a full log forgets its oldest tenth first, so a demo left
/// running for days keeps memory flat.
fn remember(log: &mut Vec<RequestRecord>, record: RequestRecord, capacity: usize) {
    if log.len() >= capacity {
        log.drain(..(capacity / 10).max(1));
    }
    log.push(record);
}

/// True when the query has a non-empty `api-version` (name in any case).
fn has_api_version(query: &str) -> bool {
    query.split('&').any(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        k.eq_ignore_ascii_case("api-version") && !v.is_empty()
    })
}

/// A response whose body fails mid-stream, so the client sees the connection drop.
fn dropped_connection() -> Response {
    Response::new(Body::new(DroppedBody))
}

/// A body whose first frame is an I/O error: hyper then resets the connection.
struct DroppedBody;

impl http_body::Body for DroppedBody {
    type Data = axum::body::Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        std::task::Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "connection dropped by fault injection",
        ))))
    }
}

/// Checks the bearer token of an ARM request; the error responses are ARM's.
fn authenticate(sim: &Sim, headers: &HeaderMap) -> Result<Caller, Box<Response>> {
    let unauthorized = |code: &str, message: &str, description: &str| {
        let challenge = format!(
            "Bearer authorization_uri=\"{}/{}\", error=\"invalid_token\", error_description=\"{description}\"",
            sim.base_url, sim.options.identity.tenant_id
        );
        let mut r = arm_error(StatusCode::UNAUTHORIZED, code, message);
        set_header(r.headers_mut(), "www-authenticate", &challenge);
        Box::new(r)
    };
    let Some(auth) = headers.get("authorization").and_then(|v| v.to_str().ok()) else {
        return Err(unauthorized(
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.",
            "The authentication failed because of missing 'Authorization' header.",
        ));
    };
    let Some(token) = auth
        .strip_prefix("Bearer ")
        .or_else(|| auth.strip_prefix("bearer "))
    else {
        return Err(unauthorized(
            "AuthenticationFailedInvalidHeader",
            "Authentication failed. The 'Authorization' header is provided in an invalid format.",
            "The authentication failed because the 'Authorization' header is not a bearer token.",
        ));
    };
    sim.tokens.verify_arm(sim, token).map_err(|e| {
        let description = match e.code() {
            "ExpiredAuthenticationToken" => {
                "The access token expiry UTC time is earlier than current UTC time."
            }
            "InvalidAuthenticationTokenAudience" => {
                "The access token has been obtained for wrong audience."
            }
            _ => "The access token is invalid.",
        };
        unauthorized(e.code(), &e.to_string(), description)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_log_forgets_its_oldest_tenth_when_full() {
        let r = |i: usize| RequestRecord {
            method: "GET".into(),
            path: format!("/{i}"),
            status: 200,
            fault: None,
        };
        let mut log = Vec::new();
        for i in 0..25 {
            remember(&mut log, r(i), 20);
        }
        assert!(log.len() <= 20, "{}", log.len());
        assert_eq!(log.last().unwrap().path, "/24");
        // Oldest first, nothing reordered.
        let n: Vec<usize> = log.iter().map(|x| x.path[1..].parse().unwrap()).collect();
        assert!(n.windows(2).all(|w| w[0] + 1 == w[1]), "{n:?}");
        assert!(n[0] > 0, "the oldest were forgotten");
    }
}
