//! Long-running operations: one [`Poller`] owns the rules (the ARM async contract,
//! `specs/arm-rpc/async-api-reference.md`).
//!
//! - Where to poll: `Azure-AsyncOperation` first, then `Location`; a `201` PUT with neither and a
//!   non-terminal `provisioningState` polls the resource itself.
//! - When: after `Retry-After` (seconds or an HTTP date) from the last response, else
//!   [`PollOptions::default_delay`], clamped to [`PollOptions::min_delay`] and
//!   [`PollOptions::max_delay`], and never past the max wait.
//! - What counts as done: `Succeeded`, `Failed` and `Canceled` (any case; `Cancelled` too).
//!   ARM also reports `Accepted`, `Running`, `Creating`, `Deleting`... all of which are in
//!   progress, as is every status it may add.
//! - Bounds: [`PollOptions::max_wait`] from the start of the operation gives
//!   [`Error::Timeout`]; a [`CancelToken`] or dropping the future stops the wait (stopping
//!   watching does not cancel the operation in Azure).
//! - The result: after `Succeeded`, a PUT or PATCH reads the resource, a POST reads its
//!   `Location` if it had one, a DELETE gives `null`.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::time::Duration;

use azure_core::http::Method;
use serde_json::Value as Json;
use time::OffsetDateTime;
use url::Url;

use crate::clock::CancelToken;
use crate::error::{ArmErrorDetail, Error};
use crate::throttle::parse_retry_after;
use crate::transport::{ArmClient, ArmRequest, ArmResponse, display_url};

/// Polling settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PollOptions {
    /// The wait when the service sends no `Retry-After`.
    pub default_delay: Duration,
    /// The shortest wait between polls, whatever `Retry-After` says.
    pub min_delay: Duration,
    /// The longest wait between polls, whatever `Retry-After` says.
    pub max_delay: Duration,
    /// How long to wait for the operation in all, from when it started.
    pub max_wait: Duration,
}

impl Default for PollOptions {
    /// 5 s between polls without `Retry-After` (ARM's documented default of 60 s is too slow
    /// for live progress, and a 5 s poll costs 12 of the 25-per-second read refill a minute),
    /// at least 1 s and at most 60 s whatever the header says, and 3 hours in all (an AKS
    /// cluster alone can take over 30 minutes).
    fn default() -> Self {
        PollOptions {
            default_delay: Duration::from_secs(5),
            min_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
            max_wait: Duration::from_secs(3 * 3600),
        }
    }
}

impl PollOptions {
    /// The wait before the next poll given what the last response asked for.
    pub fn delay(&self, retry_after: Option<Duration>) -> Duration {
        retry_after
            .unwrap_or(self.default_delay)
            .clamp(self.min_delay, self.max_delay.max(self.min_delay))
    }
}

/// Whether an ARM status is terminal (`Succeeded`, `Failed`, `Canceled`, any case).
pub fn is_terminal(status: &str) -> bool {
    ["Succeeded", "Failed", "Canceled", "Cancelled"]
        .iter()
        .any(|t| t.eq_ignore_ascii_case(status))
}

fn is_succeeded(status: &str) -> bool {
    status.eq_ignore_ascii_case("Succeeded")
}

/// Where the poller looks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Monitor {
    /// An `Azure-AsyncOperation` status URL (`{"status": ..., "error": ...}`).
    AsyncOperation(Url),
    /// A `Location` URL: 202 while running, then the result.
    Location(Url),
    /// The resource itself, by its `properties.provisioningState`.
    Resource(Url),
}

impl Monitor {
    fn url(&self) -> &Url {
        match self {
            Monitor::AsyncOperation(u) | Monitor::Location(u) | Monitor::Resource(u) => u,
        }
    }
}

/// What one poll found.
#[derive(Clone, Debug, PartialEq)]
pub enum PollStep {
    /// Still running, with the status ARM reported.
    InProgress(String),
    /// Done; the operation's result (`null` when there is none).
    Done(Json),
}

/// Watches one long-running operation.
pub struct Poller {
    client: ArmClient,
    method: Method,
    resource_url: Url,
    monitor: Option<Monitor>,
    final_location: Option<Url>,
    result: Option<Json>,
    next_retry_after: Option<Duration>,
    started: OffsetDateTime,
    status: String,
    polls: u32,
    cancel: Option<CancelToken>,
}

impl std::fmt::Debug for Poller {
    /// The result stays out: it is the resource's body.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Poller")
            .field("method", &self.method)
            .field("resource_url", &display_url(&self.resource_url))
            .field(
                "monitor",
                &self.monitor.as_ref().map(|m| display_url(m.url())),
            )
            .field("status", &self.status)
            .field("polls", &self.polls)
            .field("done", &self.result.is_some())
            .finish_non_exhaustive()
    }
}

fn header_url(response: &ArmResponse, name: &str) -> Option<Url> {
    response.header(name).and_then(|v| Url::parse(v).ok())
}

fn provisioning_state(body: &Json) -> Option<&str> {
    body.pointer("/properties/provisioningState")
        .and_then(Json::as_str)
}

impl Poller {
    /// A poller for the operation an initial response started; `started` is when the
    /// request was sent (the max wait counts from there).
    pub fn from_response(
        client: ArmClient,
        method: Method,
        resource_url: Url,
        response: &ArmResponse,
        started: OffsetDateTime,
    ) -> Result<Self, Error> {
        let body = response.json_value().unwrap_or(Json::Null);
        let async_op = header_url(response, "azure-asyncoperation");
        let location = header_url(response, "location");
        let retry_after = response
            .header("retry-after")
            .and_then(|v| parse_retry_after(v, client.timer().now()));
        let mut status = provisioning_state(&body)
            .unwrap_or(if response.status() == 202 {
                "Accepted"
            } else {
                "Succeeded"
            })
            .to_owned();
        let monitor = match (async_op, location.clone()) {
            (Some(a), _) => Some(Monitor::AsyncOperation(a)),
            (None, Some(l)) if response.status() == 202 => Some(Monitor::Location(l)),
            _ if response.status() == 202 => {
                return Err(Error::Protocol {
                    message: format!(
                        "{method} {} answered 202 without Azure-AsyncOperation or Location",
                        display_url(&resource_url)
                    ),
                });
            }
            _ if matches!(method, Method::Put | Method::Patch) && !is_terminal(&status) => {
                Some(Monitor::Resource(resource_url.clone()))
            }
            _ => None,
        };
        let result = if monitor.is_none() {
            if !is_succeeded(&status) {
                return Err(Error::OperationFailed {
                    url: display_url(&resource_url),
                    status,
                    detail: body
                        .pointer("/properties/error")
                        .and_then(ArmErrorDetail::from_json)
                        .map(Box::new),
                });
            }
            Some(body)
        } else {
            if is_terminal(&status) {
                // The initial body may already say Succeeded while the status URL is authoritative.
                status = "Accepted".into();
            }
            None
        };
        Ok(Poller {
            client,
            method,
            resource_url,
            monitor,
            final_location: location,
            result,
            next_retry_after: retry_after,
            started,
            status,
            polls: 0,
            cancel: None,
        })
    }

    /// Stops waiting when `token` is cancelled.
    pub fn with_cancel(mut self, token: CancelToken) -> Self {
        self.cancel = Some(token);
        self
    }

    /// Where it polls (`None` when the operation finished synchronously).
    pub fn monitor(&self) -> Option<&Monitor> {
        self.monitor.as_ref()
    }

    /// The last status seen.
    pub fn status(&self) -> &str {
        &self.status
    }

    /// How many status requests it has made.
    pub fn polls(&self) -> u32 {
        self.polls
    }

    /// Whether the operation has finished (successfully).
    pub fn is_done(&self) -> bool {
        self.result.is_some()
    }

    /// When the operation started.
    pub fn started(&self) -> OffsetDateTime {
        self.started
    }

    fn deadline(&self) -> OffsetDateTime {
        self.started + self.client.poll_options().max_wait
    }

    fn shown_url(&self) -> String {
        display_url(
            self.monitor
                .as_ref()
                .map_or(&self.resource_url, Monitor::url),
        )
    }

    /// Waits as the rules say, polls once and reports; after `Done` it keeps returning the
    /// result without polling again.
    pub async fn poll(&mut self) -> Result<PollStep, Error> {
        if let Some(r) = &self.result {
            return Ok(PollStep::Done(r.clone()));
        }
        match self.cancel.clone() {
            Some(token) => {
                tokio::select! {
                    biased;
                    _ = token.cancelled() => Err(Error::Canceled { url: self.shown_url() }),
                    step = self.wait_and_poll() => step,
                }
            }
            None => self.wait_and_poll().await,
        }
    }

    async fn wait_and_poll(&mut self) -> Result<PollStep, Error> {
        let timer = self.client.timer().clone();
        let now = timer.now();
        let deadline = self.deadline();
        if now >= deadline {
            return Err(self.timeout(now));
        }
        let delay = self.client.poll_options().delay(self.next_retry_after);
        let until_deadline = Duration::try_from(deadline - now).unwrap_or(Duration::ZERO);
        timer.sleep(delay.min(until_deadline)).await;
        self.poll_now().await
    }

    fn timeout(&self, now: OffsetDateTime) -> Error {
        Error::Timeout {
            url: self.shown_url(),
            waited: Duration::try_from(now - self.started).unwrap_or(Duration::ZERO),
            last_status: self.status.clone(),
        }
    }

    /// Polls once, now, without waiting.
    pub async fn poll_now(&mut self) -> Result<PollStep, Error> {
        let Some(monitor) = self.monitor.clone() else {
            return Ok(PollStep::Done(self.result.clone().unwrap_or(Json::Null)));
        };
        self.polls += 1;
        let response = self
            .client
            .send(ArmRequest::new(Method::Get, monitor.url().clone()))
            .await?;
        let now = self.client.timer().now();
        self.next_retry_after = response
            .header("retry-after")
            .and_then(|v| parse_retry_after(v, now));
        let body = response.json_value()?;
        let (status, error) = match &monitor {
            Monitor::AsyncOperation(_) => (
                body.get("status")
                    .and_then(Json::as_str)
                    .unwrap_or("InProgress")
                    .to_owned(),
                body.get("error"),
            ),
            Monitor::Location(_) if response.status() == 202 => ("InProgress".to_owned(), None),
            Monitor::Location(_) => (
                body.get("status")
                    .and_then(Json::as_str)
                    .unwrap_or("Succeeded")
                    .to_owned(),
                body.get("error"),
            ),
            Monitor::Resource(_) => (
                provisioning_state(&body).unwrap_or("Succeeded").to_owned(),
                body.pointer("/properties/error"),
            ),
        };
        self.status = status.clone();
        if !is_terminal(&status) {
            return Ok(PollStep::InProgress(status));
        }
        if !is_succeeded(&status) {
            return Err(Error::OperationFailed {
                url: display_url(monitor.url()),
                status,
                detail: error.and_then(ArmErrorDetail::from_json).map(Box::new),
            });
        }
        let result = match (&monitor, self.method) {
            (Monitor::AsyncOperation(_), Method::Put | Method::Patch) => {
                let r = ArmRequest::new(Method::Get, self.resource_url.clone());
                self.client.send(r).await?.json_value()?
            }
            (Monitor::AsyncOperation(_), Method::Post) => match self.final_location.clone() {
                Some(l) => {
                    let r = ArmRequest::new(Method::Get, l);
                    self.client.send(r).await?.json_value()?
                }
                None => body.get("properties").cloned().unwrap_or(Json::Null),
            },
            (Monitor::AsyncOperation(_), _) => Json::Null,
            (Monitor::Location(_) | Monitor::Resource(_), _) => body,
        };
        self.result = Some(result.clone());
        Ok(PollStep::Done(result))
    }

    /// Polls until the operation is done, fails, the max wait passes or it is cancelled.
    pub async fn wait(mut self) -> Result<Json, Error> {
        loop {
            if let PollStep::Done(r) = self.poll().await? {
                return Ok(r);
            }
        }
    }
}

impl IntoFuture for Poller {
    type Output = Result<Json, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    /// `poller.await` is `poller.wait().await`.
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.wait())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_but_the_three_terminal_ones_is_in_progress() {
        for s in ["Succeeded", "failed", "CANCELED", "Cancelled"] {
            assert!(is_terminal(s), "{s}");
        }
        for s in [
            "Accepted", "Running", "Creating", "Deleting", "Updating", "", "Whatever",
        ] {
            assert!(!is_terminal(s), "{s}");
        }
    }

    #[test]
    fn delay_honours_retry_after_within_floor_and_cap() {
        let o = PollOptions::default();
        assert_eq!(o.delay(None), Duration::from_secs(5));
        assert_eq!(
            o.delay(Some(Duration::from_secs(7))),
            Duration::from_secs(7)
        );
        assert_eq!(o.delay(Some(Duration::ZERO)), Duration::from_secs(1));
        assert_eq!(
            o.delay(Some(Duration::from_secs(600))),
            Duration::from_secs(60)
        );
    }
}
