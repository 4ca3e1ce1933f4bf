//! Throttling and retries, as one azure_core pipeline policy ([`ThrottlePolicy`]) that wraps
//! every try of every request:
//!
//! - **Pacing.** ARM reports what is left of the caller's request budget in
//!   `x-ms-ratelimit-remaining-{subscription,tenant}-{reads,writes,deletes}`. When fewer than
//!   [`ThrottleOptions::slow_down_below`] remain, requests of that kind are spread over
//!   [`ThrottleOptions::refill_window`] (one every `window / (remaining + 1)`) instead of
//!   running into a 429.
//! - **429.** Throttled requests were not processed, so any method is retried after
//!   `Retry-After` (seconds, milliseconds or an HTTP date); a wait longer than
//!   [`ThrottleOptions::max_retry_after`] is not waited for but returned.
//! - **Transient failures** (408, 500, 502, 503, 504, a dropped or refused connection) are retried
//!   with exponential backoff and jitter, for idempotent requests only: GET, HEAD, PUT and
//!   DELETE are idempotent in ARM; POST only when the caller marks it with [`Idempotent`].
//!
//! azure_core's own retry policy is switched off: it reads the machine's clock and sleeps
//! on its own, so tests could not assert exact times, and it retries POST.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use azure_core::http::headers::{HeaderName, Headers};
use azure_core::http::policies::{Policy, PolicyResult};
use azure_core::http::{Context, Method, Request};
use time::OffsetDateTime;

use crate::clock::Timer;

/// Retry and pacing settings.
#[derive(Clone, Debug, PartialEq)]
pub struct ThrottleOptions {
    /// Retries of a transient failure (5xx, dropped connection) before giving up.
    pub max_retries: u32,
    /// Retries of a 429 before giving up.
    pub max_throttle_retries: u32,
    /// First backoff after a transient failure; doubles each retry.
    pub initial_backoff: Duration,
    /// Longest backoff.
    pub max_backoff: Duration,
    /// Jitter as a fraction of the backoff (0.2 = +/-20 %); 0 for exact times in tests.
    pub jitter: f64,
    /// Longest `Retry-After` waited for on a 429; longer ones are returned as
    /// [`crate::Error::Throttled`] so the caller can tell the user.
    pub max_retry_after: Duration,
    /// Below this many remaining requests, pacing starts.
    pub slow_down_below: u64,
    /// The window remaining requests are spread over when pacing.
    pub refill_window: Duration,
}

impl Default for ThrottleOptions {
    /// 4 retries backing off 1, 2, 4, 8 s (cap 30 s, +/-20 % jitter); up to 10 waits on 429,
    /// each at most 5 minutes; pacing below 25 remaining over a 10 s window. ARM's buckets
    /// refill at 10 to 25 requests a second per principal, so 10 s is generous; the pacing
    /// exists for the older hourly limits and for subscriptions shared with busy automation.
    fn default() -> Self {
        ThrottleOptions {
            max_retries: 4,
            max_throttle_retries: 10,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
            jitter: 0.2,
            max_retry_after: Duration::from_secs(300),
            slow_down_below: 25,
            refill_window: Duration::from_secs(10),
        }
    }
}

/// Marks a POST as safe to retry (put it in the request's azure_core [`Context`]).
#[derive(Clone, Copy, Debug)]
pub struct Idempotent;

/// Marks a write whose repetition is not harmless even though its method is idempotent: a
/// deployment PUT repeated while the first runs is refused (`DeploymentActive`). Only 429s,
/// which ARM answers before doing anything, are retried; after a dropped connection or a 5xx
/// the caller asks Azure what happened.
#[derive(Clone, Copy, Debug)]
pub struct Once;

/// The rate-limit bucket a request draws from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Bucket {
    Reads,
    Writes,
    Deletes,
}

impl Bucket {
    fn of(method: Method) -> Bucket {
        match method {
            Method::Get | Method::Head => Bucket::Reads,
            Method::Delete => Bucket::Deletes,
            _ => Bucket::Writes,
        }
    }

    fn headers(self) -> [&'static str; 2] {
        match self {
            Bucket::Reads => [
                "x-ms-ratelimit-remaining-subscription-reads",
                "x-ms-ratelimit-remaining-tenant-reads",
            ],
            Bucket::Writes => [
                "x-ms-ratelimit-remaining-subscription-writes",
                "x-ms-ratelimit-remaining-tenant-writes",
            ],
            Bucket::Deletes => [
                "x-ms-ratelimit-remaining-subscription-deletes",
                "x-ms-ratelimit-remaining-tenant-deletes",
            ],
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Whether ARM treats the method as idempotent.
pub fn is_idempotent(method: Method) -> bool {
    matches!(
        method,
        Method::Get | Method::Head | Method::Put | Method::Delete
    )
}

/// The HTTP statuses worth retrying.
pub fn is_transient_status(status: u16) -> bool {
    matches!(status, 408 | 500 | 502 | 503 | 504)
}

/// Reads how long the server asked to wait: `x-ms-retry-after-ms`, `retry-after-ms`, then
/// `Retry-After` (seconds or an HTTP date, relative to `now`).
pub fn retry_after(headers: &Headers, now: OffsetDateTime) -> Option<Duration> {
    for name in ["x-ms-retry-after-ms", "retry-after-ms"] {
        if let Some(ms) = headers
            .get_optional_str(&HeaderName::from_static(name))
            .and_then(|v| v.trim().parse::<u64>().ok())
        {
            return Some(Duration::from_millis(ms));
        }
    }
    let v = headers.get_optional_str(&HeaderName::from_static("retry-after"))?;
    parse_retry_after(v, now)
}

/// Parses a `Retry-After` value: whole or fractional seconds, or an HTTP date.
pub fn parse_retry_after(value: &str, now: OffsetDateTime) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let at = azure_core::time::parse_rfc7231(v).ok()?;
    let secs = (at - now).as_seconds_f64().max(0.0);
    Some(Duration::from_secs_f64(secs))
}

/// The backoff before retry number `attempt` (0-based): `initial * 2^attempt`, capped, with
/// `unit` (uniform in [0, 1)) applied as jitter.
pub fn backoff(options: &ThrottleOptions, attempt: u32, unit: f64) -> Duration {
    let base = options
        .initial_backoff
        .saturating_mul(1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX))
        .min(options.max_backoff);
    let jitter = options.jitter.clamp(0.0, 1.0);
    let factor = 1.0 + jitter * (2.0 * unit.clamp(0.0, 1.0) - 1.0);
    base.mul_f64(factor.max(0.0))
}

#[derive(Clone, Copy, Debug, Default)]
struct Pace {
    /// Requests left as last reported, if below the threshold.
    remaining: Option<u64>,
    /// The earliest time the next request of this bucket may go.
    next_free: Option<OffsetDateTime>,
}

#[derive(Debug)]
struct State {
    paces: [Pace; 3],
    rng: u64,
}

/// The pipeline policy applying [`ThrottleOptions`]; shared by all requests of a client.
#[derive(Debug)]
pub struct ThrottlePolicy {
    options: ThrottleOptions,
    timer: Timer,
    state: Mutex<State>,
}

impl ThrottlePolicy {
    /// A policy with these options, waiting on `timer`.
    pub fn new(options: ThrottleOptions, timer: Timer) -> Self {
        let seed = {
            use std::hash::{BuildHasher, Hasher};
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u64(0x5eed);
            h.finish() | 1
        };
        ThrottlePolicy {
            options,
            timer,
            state: Mutex::new(State {
                paces: [Pace::default(); 3],
                rng: seed,
            }),
        }
    }

    fn with_state<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let mut guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    }

    fn spacing(&self, remaining: u64) -> Duration {
        self.options
            .refill_window
            .div_f64(remaining.saturating_add(1) as f64)
    }

    /// How long to wait before sending, reserving the slot.
    fn pacing_delay(&self, bucket: Bucket, now: OffsetDateTime) -> Duration {
        self.with_state(|s| {
            let pace = &mut s.paces[bucket.index()];
            let (Some(remaining), Some(next_free)) = (pace.remaining, pace.next_free) else {
                return Duration::ZERO;
            };
            let slot = next_free.max(now);
            pace.next_free = Some(slot + self.spacing(remaining));
            to_std(slot - now)
        })
    }

    /// Records what a response says is left.
    fn observe(&self, bucket: Bucket, headers: &Headers, now: OffsetDateTime) {
        let remaining = bucket
            .headers()
            .iter()
            .filter_map(|h| {
                headers
                    .get_optional_str(&HeaderName::from_static(h))
                    .and_then(|v| v.trim().parse::<u64>().ok())
            })
            .min();
        let Some(remaining) = remaining else {
            return;
        };
        self.with_state(|s| {
            let pace = &mut s.paces[bucket.index()];
            if remaining < self.options.slow_down_below {
                pace.remaining = Some(remaining);
                pace.next_free = Some(now + self.spacing(remaining));
            } else {
                *pace = Pace::default();
            }
        });
    }

    fn next_unit(&self) -> f64 {
        self.with_state(|s| {
            // xorshift64*: jitter needs spread, not cryptographic quality.
            let mut x = s.rng;
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            s.rng = x;
            (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
        })
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let unit = if self.options.jitter > 0.0 {
            self.next_unit()
        } else {
            0.5
        };
        backoff(&self.options, attempt, unit)
    }
}

fn to_std(d: time::Duration) -> Duration {
    Duration::try_from(d).unwrap_or(Duration::ZERO)
}

#[async_trait::async_trait]
impl Policy for ThrottlePolicy {
    async fn send(
        &self,
        ctx: &Context,
        request: &mut Request,
        next: &[Arc<dyn Policy>],
    ) -> PolicyResult {
        let method = request.method();
        let bucket = Bucket::of(method);
        let idempotent = ctx.value::<Once>().is_none()
            && (is_idempotent(method) || ctx.value::<Idempotent>().is_some());
        let mut transient_retries = 0u32;
        let mut throttle_retries = 0u32;
        let mut first = true;
        loop {
            let pace = self.pacing_delay(bucket, self.timer.now());
            self.timer.sleep(pace).await;
            if !first {
                request.body_mut().reset().await?;
            }
            first = false;
            let result = next[0].send(ctx, request, &next[1..]).await;
            let now = self.timer.now();
            let wait = match &result {
                Ok(response) => {
                    let status = u16::from(response.status());
                    if status == 429 {
                        let asked = retry_after(response.headers(), now);
                        if throttle_retries >= self.options.max_throttle_retries
                            || asked.is_some_and(|a| a > self.options.max_retry_after)
                        {
                            return result;
                        }
                        throttle_retries += 1;
                        asked.unwrap_or_else(|| self.backoff(throttle_retries - 1))
                    } else {
                        self.observe(bucket, response.headers(), now);
                        if !(is_transient_status(status)
                            && idempotent
                            && transient_retries < self.options.max_retries)
                        {
                            return result;
                        }
                        let asked = retry_after(response.headers(), now).unwrap_or_default();
                        transient_retries += 1;
                        self.backoff(transient_retries - 1)
                            .max(asked.min(self.options.max_backoff))
                    }
                }
                Err(e) => {
                    let transport = matches!(
                        e.kind(),
                        azure_core::error::ErrorKind::Io | azure_core::error::ErrorKind::Connection
                    );
                    if !(transport && idempotent && transient_retries < self.options.max_retries) {
                        return result;
                    }
                    transient_retries += 1;
                    self.backoff(transient_retries - 1)
                }
            };
            tracing_wait(method, status_of(&result), wait);
            self.timer.sleep(wait).await;
        }
    }
}

fn status_of(r: &PolicyResult) -> Option<u16> {
    r.as_ref().ok().map(|r| u16::from(r.status()))
}

/// A retry is worth a debug line; the URL is left out (it is in the request span already).
fn tracing_wait(method: Method, status: Option<u16>, wait: Duration) {
    tracing::debug!(
        %method,
        status = status.unwrap_or(0),
        wait_ms = wait.as_millis() as u64,
        "retrying an ARM request"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn opts() -> ThrottleOptions {
        ThrottleOptions {
            jitter: 0.0,
            ..ThrottleOptions::default()
        }
    }

    #[test]
    fn retry_after_reads_seconds_dates_and_milliseconds() {
        let now = datetime!(2026-03-02 09:00:00 UTC);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("1.5", now),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            parse_retry_after("Mon, 02 Mar 2026 09:00:42 GMT", now),
            Some(Duration::from_secs(42))
        );
        assert_eq!(
            parse_retry_after("Mon, 02 Mar 2026 08:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("-3", now), None);
        assert_eq!(parse_retry_after("soon", now), None);
        let mut h = Headers::new();
        h.insert("retry-after", "9");
        h.insert("x-ms-retry-after-ms", "250");
        assert_eq!(retry_after(&h, now), Some(Duration::from_millis(250)));
    }

    #[test]
    fn backoff_doubles_caps_and_jitters_within_bounds() {
        let o = opts();
        let secs: Vec<u64> = (0..7).map(|a| backoff(&o, a, 0.5).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 30, 30]);
        let j = ThrottleOptions {
            jitter: 0.2,
            ..opts()
        };
        assert_eq!(backoff(&j, 2, 0.0), Duration::from_secs_f64(3.2));
        assert_eq!(backoff(&j, 2, 1.0), Duration::from_secs_f64(4.8));
        assert_eq!(backoff(&o, 40, 0.5), Duration::from_secs(30));
    }

    #[test]
    fn only_arm_idempotent_methods_retry_by_default() {
        assert!(is_idempotent(Method::Get) && is_idempotent(Method::Put));
        assert!(is_idempotent(Method::Delete) && is_idempotent(Method::Head));
        assert!(!is_idempotent(Method::Post) && !is_idempotent(Method::Patch));
    }

    #[test]
    fn pacing_spreads_the_remaining_requests_over_the_window() {
        let t0 = datetime!(2026-03-02 09:00:00 UTC);
        let p = ThrottlePolicy::new(opts(), Timer::system());
        let mut h = Headers::new();
        h.insert("x-ms-ratelimit-remaining-subscription-reads", "4");
        p.observe(Bucket::Reads, &h, t0);
        // 10 s / (4 + 1) = 2 s from the observation, then 2 s more for the next slot.
        assert_eq!(p.pacing_delay(Bucket::Reads, t0), Duration::from_secs(2));
        assert_eq!(p.pacing_delay(Bucket::Reads, t0), Duration::from_secs(4));
        assert_eq!(p.pacing_delay(Bucket::Writes, t0), Duration::ZERO);
        h.insert("x-ms-ratelimit-remaining-subscription-reads", "1000");
        p.observe(Bucket::Reads, &h, t0);
        assert_eq!(p.pacing_delay(Bucket::Reads, t0), Duration::ZERO);
    }
}
