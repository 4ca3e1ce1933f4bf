//! The ARM HTTP client: JSON requests over azure_core's pipeline.
//!
//! Policies, outermost first: [`ThrottlePolicy`] (pacing, 429 and transient retries, on the
//! injected [`Timer`]) -> azure_core's client-request-ID and user-agent policies -> its retry
//! policy, switched off -> [`BearerTokenAuthorizationPolicy`] with the caller's
//! [`TokenCredential`] (so every retry gets a fresh `Authorization` header) -> logging (which
//! redacts `Authorization`) -> the transport: reqwest 0.13 over rustls/ring with the extra CA
//! ([`crate::tls`]), or any [`HttpClient`] a test plugs in.
//!
//! Every request gets `api-version` (unless its URL has one) and the client's
//! `x-ms-correlation-request-id`, which ARM uses to tie the requests of one session together.
//! Error statuses become [`Error::Http`] or [`Error::Throttled`] with ARM's error tree. A URL
//! on another origin than the endpoint (a poll URL, a `nextLink`) is refused, so the token
//! only ever goes to the Resource Manager the client was built for.

use std::fmt;
use std::sync::Arc;

use azure_core::credentials::TokenCredential;
use azure_core::http::policies::Policy;
use azure_core::http::policies::auth::BearerTokenAuthorizationPolicy;
use azure_core::http::{
    ClientOptions, Context, HttpClient, Method, Pipeline, PipelineSendOptions, Request,
    RetryOptions, Transport,
};
use serde::de::DeserializeOwned;
use serde_json::Value as Json;
use url::Url;

use crate::clock::Timer;
use crate::cloud::{Cloud, scope_for};
use crate::error::{ArmErrorDetail, Error};
use crate::poll::{PollOptions, Poller};
use crate::throttle::{Idempotent, Once, ThrottleOptions, ThrottlePolicy, retry_after};
use crate::tls::{TrustedCa, http_client};

/// How an [`ArmClient`] is built; every field has a default.
#[derive(Clone, Default)]
pub struct ArmClientOptions {
    /// The HTTP client; by default reqwest with the platform roots plus `trusted_ca`.
    pub http_client: Option<Arc<dyn HttpClient>>,
    /// An extra CA to trust (private clouds, the simulator); ignored with `http_client`.
    pub trusted_ca: Option<TrustedCa>,
    /// The token scope; by default `{endpoint}/.default`.
    pub scope: Option<String>,
    /// Retry and pacing.
    pub throttle: ThrottleOptions,
    /// Long-running-operation polling.
    pub poll: PollOptions,
    /// Clock and sleep for every wait.
    pub timer: Timer,
    /// The `x-ms-correlation-request-id` to send; a new UUID by default.
    pub correlation_id: Option<String>,
}

impl fmt::Debug for ArmClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArmClientOptions")
            .field("http_client", &self.http_client.as_ref().map(|_| "custom"))
            .field("trusted_ca", &self.trusted_ca)
            .field("scope", &self.scope)
            .field("throttle", &self.throttle)
            .field("poll", &self.poll)
            .field("correlation_id", &self.correlation_id)
            .finish_non_exhaustive()
    }
}

/// A request to Resource Manager.
#[derive(Clone)]
pub struct ArmRequest {
    method: Method,
    url: Url,
    body: Option<Json>,
    idempotent: bool,
    once: bool,
}

impl ArmRequest {
    /// A request without a body.
    pub fn new(method: Method, url: Url) -> Self {
        ArmRequest {
            method,
            url,
            body: None,
            idempotent: false,
            once: false,
        }
    }

    /// Adds a JSON body.
    pub fn json(mut self, body: Json) -> Self {
        self.body = Some(body);
        self
    }

    /// Marks a POST as safe to retry on transient failures (GET, HEAD, PUT, DELETE always are).
    pub fn idempotent(mut self) -> Self {
        self.idempotent = true;
        self
    }

    /// Sends it at most once, whatever its method, except after a 429 (see
    /// [`crate::throttle::Once`]): the caller resolves a dropped connection or a 5xx itself.
    pub fn once(mut self) -> Self {
        self.once = true;
        self
    }

    /// The method.
    pub fn method(&self) -> Method {
        self.method
    }

    /// The URL.
    pub fn url(&self) -> &Url {
        &self.url
    }
}

impl fmt::Debug for ArmRequest {
    /// Bodies carry deployment parameters, `secureString` passwords included: never shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArmRequest")
            .field("method", &self.method)
            .field("url", &display_url(&self.url))
            .field("has_body", &self.body.is_some())
            .field("idempotent", &self.idempotent)
            .field("once", &self.once)
            .finish()
    }
}

/// A successful (2xx) response.
#[derive(Clone)]
pub struct ArmResponse {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl ArmResponse {
    /// A response from parts (for tests and replays); header names are matched ignoring case.
    pub fn new(status: u16, headers: Vec<(String, String)>, body: Vec<u8>) -> Self {
        ArmResponse {
            status,
            headers,
            body,
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The raw body.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The body as JSON; an empty body is `null`.
    pub fn json_value(&self) -> Result<Json, Error> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Json::Null);
        }
        self.json()
    }

    /// The body as `T`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.body)
            .map_err(|e| Error::decode(&format!("an HTTP {} response body", self.status), &e))
    }
}

impl fmt::Debug for ArmResponse {
    /// Bodies can hold keys (`listKeys`), so Debug shows only their size.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArmResponse")
            .field("status", &self.status)
            .field(
                "headers",
                &self.headers.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field("body_bytes", &self.body.len())
            .finish()
    }
}

struct Inner {
    endpoint: Url,
    pipeline: Pipeline,
    correlation_id: String,
    poll: PollOptions,
    timer: Timer,
}

/// A client for Azure Resource Manager; cheap to clone.
#[derive(Clone)]
pub struct ArmClient {
    inner: Arc<Inner>,
}

impl fmt::Debug for ArmClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArmClient")
            .field("endpoint", &self.inner.endpoint.as_str())
            .field("correlation_id", &self.inner.correlation_id)
            .finish_non_exhaustive()
    }
}

impl ArmClient {
    /// A client for the Resource Manager at `endpoint`, authenticating with `credential`.
    pub fn new(
        endpoint: Url,
        credential: Arc<dyn TokenCredential>,
        options: Option<ArmClientOptions>,
    ) -> Result<Self, Error> {
        let options = options.unwrap_or_default();
        if endpoint.scheme() != "https" {
            // azure_core's bearer policy refuses plain HTTP; say so before the first request.
            return Err(Error::Config {
                message: format!("the Resource Manager endpoint must be https: {endpoint}"),
            });
        }
        let scope = options
            .scope
            .clone()
            .unwrap_or_else(|| scope_for(endpoint.as_str()));
        let http: Arc<dyn HttpClient> = match options.http_client {
            Some(c) => c,
            None => Arc::new(http_client(options.trusted_ca.as_ref())?),
        };
        let client_options = ClientOptions {
            transport: Some(Transport::new(http)),
            retry: RetryOptions::none(),
            ..ClientOptions::default()
        };
        let throttle: Arc<dyn Policy> = Arc::new(ThrottlePolicy::new(
            options.throttle.clone(),
            options.timer.clone(),
        ));
        let bearer: Arc<dyn Policy> =
            Arc::new(BearerTokenAuthorizationPolicy::new(credential, [scope]));
        let pipeline = Pipeline::new(
            Some(env!("CARGO_PKG_NAME")),
            Some(env!("CARGO_PKG_VERSION")),
            client_options,
            vec![throttle],
            vec![bearer],
            None,
        );
        let correlation_id = options
            .correlation_id
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        Ok(ArmClient {
            inner: Arc::new(Inner {
                endpoint,
                pipeline,
                correlation_id,
                poll: options.poll,
                timer: options.timer,
            }),
        })
    }

    /// A client for a cloud's Resource Manager, asking tokens for the cloud's audience.
    pub fn for_cloud(
        cloud: &Cloud,
        credential: Arc<dyn TokenCredential>,
        options: Option<ArmClientOptions>,
    ) -> Result<Self, Error> {
        let mut options = options.unwrap_or_default();
        options.scope.get_or_insert_with(|| cloud.arm_scope());
        ArmClient::new(cloud.resource_manager.clone(), credential, Some(options))
    }

    /// The Resource Manager endpoint.
    pub fn endpoint(&self) -> &Url {
        &self.inner.endpoint
    }

    /// The `x-ms-correlation-request-id` this client sends.
    pub fn correlation_id(&self) -> &str {
        &self.inner.correlation_id
    }

    /// The timer this client waits on.
    pub fn timer(&self) -> &Timer {
        &self.inner.timer
    }

    /// The polling rules for long-running operations.
    pub fn poll_options(&self) -> &PollOptions {
        &self.inner.poll
    }

    /// `{endpoint}{path}` with `api-version` added (kept if the path has one); `path` may also
    /// be an absolute URL (a `nextLink`, a status URL).
    pub fn url(&self, path: &str, api_version: &str) -> Result<Url, Error> {
        let joined = if path.starts_with("https://") || path.starts_with("http://") {
            path.to_owned()
        } else {
            format!(
                "{}/{}",
                self.inner.endpoint.as_str().trim_end_matches('/'),
                path.trim_start_matches('/')
            )
        };
        let mut url = Url::parse(&joined).map_err(|e| Error::Config {
            message: format!("'{path}' does not make a URL: {e}"),
        })?;
        if !url
            .query_pairs()
            .any(|(k, _)| k.eq_ignore_ascii_case("api-version"))
        {
            url.query_pairs_mut()
                .append_pair("api-version", api_version);
        }
        Ok(url)
    }

    /// Sends a request; 2xx is `Ok`, anything else a typed error.
    pub async fn send(&self, request: ArmRequest) -> Result<ArmResponse, Error> {
        let ArmRequest {
            method,
            url,
            body,
            idempotent,
            once,
        } = request;
        // The bearer token goes to this client's endpoint only, whatever a poll URL or a
        // nextLink from a response says.
        if !same_origin(&url, &self.inner.endpoint) {
            return Err(Error::Protocol {
                message: format!(
                    "refusing to send the token to {}, which is not {}",
                    display_url(&url),
                    self.inner.endpoint
                ),
            });
        }
        let mut req = Request::new(url.clone(), method);
        req.insert_header("accept", "application/json");
        req.insert_header(
            "x-ms-correlation-request-id",
            self.inner.correlation_id.clone(),
        );
        if let Some(body) = body {
            let bytes =
                serde_json::to_vec(&body).map_err(|e| Error::decode("the request body", &e))?;
            req.insert_header("content-type", "application/json");
            req.set_body(bytes);
        }
        let mut ctx = Context::new();
        if idempotent {
            ctx.insert(Idempotent);
        }
        if once {
            ctx.insert(Once);
        }
        let send_options = PipelineSendOptions {
            skip_checks: true,
            ..PipelineSendOptions::default()
        };
        let shown = display_url(&url);
        let raw = self
            .inner
            .pipeline
            .send(&ctx, &mut req, Some(send_options))
            .await
            .map_err(|source| match source.kind() {
                azure_core::error::ErrorKind::Credential => Error::Credential { source },
                _ => Error::Transport {
                    method,
                    url: shown.clone(),
                    source,
                },
            })?;
        let (status, headers, body) = raw.deconstruct();
        let status = u16::from(status);
        if (200..300).contains(&status) {
            let headers = headers
                .iter()
                .map(|(k, v)| (k.as_str().to_owned(), v.as_str().to_owned()))
                .collect();
            return Ok(ArmResponse::new(status, headers, body.to_vec()));
        }
        let detail = ArmErrorDetail::from_body(&body).map(Box::new);
        if status == 429 {
            return Err(Error::Throttled {
                method,
                url: shown,
                retry_after: retry_after(&headers, self.inner.timer.now()),
                detail,
            });
        }
        let header = |n: &'static str| headers.get_optional_string(&n.into());
        Err(Error::Http {
            method,
            url: shown,
            status,
            detail,
            request_id: header("x-ms-request-id"),
            correlation_id: header("x-ms-correlation-request-id"),
        })
    }

    /// GET `path`.
    pub async fn get(&self, path: &str, api_version: &str) -> Result<ArmResponse, Error> {
        let url = self.url(path, api_version)?;
        self.send(ArmRequest::new(Method::Get, url)).await
    }

    /// GET `path` and read the body as `T`.
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        api_version: &str,
    ) -> Result<T, Error> {
        self.get(path, api_version).await?.json()
    }

    /// PUT `body` at `path`.
    pub async fn put(
        &self,
        path: &str,
        api_version: &str,
        body: &Json,
    ) -> Result<ArmResponse, Error> {
        let url = self.url(path, api_version)?;
        self.send(ArmRequest::new(Method::Put, url).json(body.clone()))
            .await
    }

    /// POST to `path`; not retried on transient failures (see [`ArmRequest::idempotent`]).
    pub async fn post(
        &self,
        path: &str,
        api_version: &str,
        body: Option<&Json>,
    ) -> Result<ArmResponse, Error> {
        let url = self.url(path, api_version)?;
        let mut req = ArmRequest::new(Method::Post, url);
        if let Some(b) = body {
            req = req.json(b.clone());
        }
        self.send(req).await
    }

    /// DELETE `path`.
    pub async fn delete(&self, path: &str, api_version: &str) -> Result<ArmResponse, Error> {
        let url = self.url(path, api_version)?;
        self.send(ArmRequest::new(Method::Delete, url)).await
    }

    /// PUT `body` at `path` and return a poller for the long-running operation it starts.
    pub async fn begin_put(
        &self,
        path: &str,
        api_version: &str,
        body: &Json,
    ) -> Result<Poller, Error> {
        let url = self.url(path, api_version)?;
        self.begin(ArmRequest::new(Method::Put, url).json(body.clone()))
            .await
    }

    /// DELETE `path` and return a poller for the long-running operation it starts.
    pub async fn begin_delete(&self, path: &str, api_version: &str) -> Result<Poller, Error> {
        let url = self.url(path, api_version)?;
        self.begin(ArmRequest::new(Method::Delete, url)).await
    }

    /// Sends `request` and returns a poller for the long-running operation it starts (a
    /// synchronous answer gives a poller that is already done).
    pub async fn begin(&self, request: ArmRequest) -> Result<Poller, Error> {
        let method = request.method();
        let url = request.url().clone();
        let started = self.inner.timer.now();
        let response = self.send(request).await?;
        Poller::from_response(self.clone(), method, url, &response, started)
    }
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str().map(str::to_ascii_lowercase) == b.host_str().map(str::to_ascii_lowercase)
        && a.port_or_known_default() == b.port_or_known_default()
}

/// A URL fit for errors and logs: the query is dropped except `api-version` (status URLs can
/// carry opaque tokens).
pub fn display_url(url: &Url) -> String {
    let mut shown = url.clone();
    let api: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k.eq_ignore_ascii_case("api-version"))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    shown.set_query(None);
    if !api.is_empty() {
        shown.query_pairs_mut().extend_pairs(api);
    }
    shown.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_url_keeps_only_the_api_version() {
        let u = Url::parse("https://m/x/operationStatuses/1?api-version=2024-03-01&sig=SECRET")
            .unwrap();
        assert_eq!(
            display_url(&u),
            "https://m/x/operationStatuses/1?api-version=2024-03-01"
        );
    }
}
