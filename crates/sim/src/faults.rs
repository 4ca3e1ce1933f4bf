//! Faults on purpose: what a scenario asks for (a resource failing, quota, SKUs not offered,
//! names taken, policy denials), random transient errors, slow and dropped connections, and
//! throttling that follows ARM's token buckets.
//!
//! Resource-level faults are read by the ARM modules when they schedule or validate; the
//! request-level ones are applied by the middleware through [`Faults::before`].
//!
//! Randomness comes from one seeded generator, so a scenario with a seed fails the same way on
//! every run; the counters and token buckets live behind one lock that is never held across an
//! `.await`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};

use crate::Sim;
use crate::http::{arm_error, set_header};

/// A failure scenario: all fields optional, loaded from JSON (`--scenario FILE`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Scenario {
    /// Turns ARM throttling off (it is on by default, as in Azure).
    pub no_throttling: bool,
    /// Resources that fail while provisioning.
    pub failing_resources: Vec<ResourceFault>,
    /// Regional vCPU quota overrides.
    pub quotas: Vec<QuotaOverride>,
    /// VM sizes not offered in a region (or in some zones of it).
    pub unavailable_skus: Vec<SkuRestriction>,
    /// Globally unique names already taken by someone else.
    pub taken_names: Vec<String>,
    /// Resource types an Azure Policy denies.
    pub policy_denials: Vec<PolicyDenial>,
    /// Probability (0 to 1) that an ARM request fails with a transient 500 or 503.
    pub transient_error_rate: f64,
    /// Probability that a request's connection is dropped before it is served.
    pub drop_rate: f64,
    /// Probability that a write (PUT, PATCH, POST, DELETE) to Resource Manager is served and
    /// takes effect, but its answer is lost: the connection drops on the way back.
    pub lost_response_rate: f64,
    /// Probability that a response is delayed by `slow_ms`.
    pub slow_rate: f64,
    /// Delay of a slow response, in milliseconds.
    pub slow_ms: u64,
    /// Lifetime of issued access tokens in seconds (default 3600), to expire them mid-run.
    pub token_lifetime_seconds: Option<u64>,
    /// Throttle this many ARM requests in a row with 429 at the start (a 429 storm).
    pub throttle_first_requests: u32,
    /// Fail this many ARM requests in a row with 503 at the start (a 5xx burst).
    pub fail_first_requests: u32,
}

/// A resource that fails while provisioning.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ResourceFault {
    /// Resource type it applies to (case-insensitive); any when empty.
    pub resource_type: String,
    /// Applies when the resource name contains this; any when empty.
    pub name_contains: String,
    /// Seconds after the resource starts provisioning (before the speed factor).
    pub after_seconds: f64,
    /// ARM error code.
    pub code: String,
    /// ARM error message.
    pub message: String,
    /// ARM error `target`: the failing property (`linuxConfiguration.ssh.publicKeys.keyData`)
    /// or resource name, as the provider reports it; none when empty.
    pub target: String,
    /// Fail only this many times (0: always); a retry after that succeeds.
    pub times: u32,
}

/// A regional vCPU quota.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct QuotaOverride {
    /// Region.
    pub location: String,
    /// Usage name (`standardDSv3Family`, `cores`...).
    pub name: String,
    /// Limit.
    pub limit: i64,
    /// Current usage.
    pub current_value: i64,
}

/// A VM size restricted in a region.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SkuRestriction {
    /// Region.
    pub location: String,
    /// VM size (`Standard_D4s_v3`).
    pub sku: String,
    /// Zones it is restricted in; empty means the whole region.
    pub zones: Vec<String>,
}

/// A policy that denies a resource type.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PolicyDenial {
    /// Resource type denied.
    pub resource_type: String,
    /// Policy display name, shown in the error.
    pub policy_name: String,
}

/// How much larger ARM's subscription-wide bucket is than the per-principal one.
const GLOBAL_FACTOR: f64 = 15.0;

/// Requests left in each throttling bucket.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Remaining {
    /// Per-principal reads.
    pub reads: i64,
    /// Per-principal writes.
    pub writes: i64,
    /// Per-principal deletes.
    pub deletes: i64,
    /// Subscription-wide reads.
    pub global_reads: i64,
    /// Subscription-wide writes.
    pub global_writes: i64,
    /// Subscription-wide deletes.
    pub global_deletes: i64,
}

/// What the middleware does with a request.
pub enum FaultAction {
    /// Serve it normally.
    None,
    /// Answer with this response instead.
    Respond(Response),
    /// Serve it after a delay.
    Delay(Duration),
    /// Drop the connection.
    Drop,
    /// Serve it (it takes effect), then drop the connection before the answer.
    LoseResponse,
}

/// Token buckets, as ARM applies them per principal and region (here: per process).
#[derive(Debug)]
struct Bucket {
    tokens: f64,
    burst: f64,
    per_second: f64,
    last: Option<time::OffsetDateTime>,
}

impl Bucket {
    /// A full bucket.
    fn new(burst: f64, per_second: f64) -> Self {
        Bucket {
            tokens: burst,
            burst,
            per_second,
            last: None,
        }
    }

    /// Adds the tokens earned since the last call.
    fn refill(&mut self, now: time::OffsetDateTime) {
        if let Some(last) = self.last {
            let secs = (now - last).as_seconds_f64().max(0.0);
            self.tokens = (self.tokens + secs * self.per_second).min(self.burst);
        }
        self.last = Some(now);
    }

    /// Takes a token, or says how long until one is there.
    fn take(&mut self, now: time::OffsetDateTime) -> Result<(), u64> {
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - self.tokens) / self.per_second).ceil().max(1.0) as u64)
        }
    }
}

struct Counters {
    reads: Bucket,
    writes: Bucket,
    deletes: Bucket,
    /// The subscription-wide buckets ARM reports as `...-subscription-global-*`.
    global_reads: Bucket,
    global_writes: Bucket,
    global_deletes: Bucket,
    arm_requests: u64,
    rng: u64,
    resource_failures: HashMap<usize, u32>,
}

/// The fault injector and throttle shared by all requests.
pub struct Faults {
    scenario: Scenario,
    counters: Mutex<Counters>,
}

impl Faults {
    /// Faults for a scenario, random choices drawn from `seed`.
    pub fn new(scenario: &Scenario, seed: u64) -> Self {
        Faults {
            scenario: scenario.clone(),
            counters: Mutex::new(Counters {
                reads: Bucket::new(250.0, 25.0),
                writes: Bucket::new(200.0, 10.0),
                deletes: Bucket::new(200.0, 10.0),
                global_reads: Bucket::new(250.0 * GLOBAL_FACTOR, 25.0 * GLOBAL_FACTOR),
                global_writes: Bucket::new(200.0 * GLOBAL_FACTOR, 10.0 * GLOBAL_FACTOR),
                global_deletes: Bucket::new(200.0 * GLOBAL_FACTOR, 10.0 * GLOBAL_FACTOR),
                arm_requests: 0,
                rng: seed.max(1),
                resource_failures: HashMap::new(),
            }),
        }
    }

    /// The scenario.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// Decides what happens to a request before it is served.
    pub fn before(&self, sim: &Sim, method: &str, _path: &str, arm: bool) -> FaultAction {
        let Ok(mut c) = self.counters.lock() else {
            return FaultAction::None;
        };
        let s = &self.scenario;
        if arm {
            c.arm_requests += 1;
            let n = c.arm_requests;
            if n <= u64::from(s.throttle_first_requests) {
                return FaultAction::Respond(throttled(1));
            }
            if n <= u64::from(s.throttle_first_requests) + u64::from(s.fail_first_requests) {
                return FaultAction::Respond(transient(StatusCode::SERVICE_UNAVAILABLE));
            }
            if !s.no_throttling {
                let now = sim.now();
                let c = &mut *c;
                let (bucket, global) = match method {
                    "GET" | "HEAD" => (&mut c.reads, &mut c.global_reads),
                    "DELETE" => (&mut c.deletes, &mut c.global_deletes),
                    _ => (&mut c.writes, &mut c.global_writes),
                };
                if let Err(wait) = bucket.take(now) {
                    return FaultAction::Respond(throttled(wait));
                }
                if let Err(wait) = global.take(now) {
                    return FaultAction::Respond(throttled(wait));
                }
            }
        }
        let roll = |c: &mut Counters| next_unit(&mut c.rng);
        if s.drop_rate > 0.0 && roll(&mut c) < s.drop_rate {
            return FaultAction::Drop;
        }
        if arm
            && method != "GET"
            && method != "HEAD"
            && s.lost_response_rate > 0.0
            && roll(&mut c) < s.lost_response_rate
        {
            return FaultAction::LoseResponse;
        }
        if arm && s.transient_error_rate > 0.0 && roll(&mut c) < s.transient_error_rate {
            let status = if roll(&mut c) < 0.5 {
                StatusCode::INTERNAL_SERVER_ERROR
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            return FaultAction::Respond(transient(status));
        }
        if s.slow_rate > 0.0 && roll(&mut c) < s.slow_rate {
            return FaultAction::Delay(Duration::from_millis(s.slow_ms));
        }
        FaultAction::None
    }

    /// Remaining requests in each bucket, for the `x-ms-ratelimit-remaining-*` headers.
    pub fn remaining(&self, sim: &Sim) -> Remaining {
        let Ok(mut c) = self.counters.lock() else {
            return Remaining::default();
        };
        let now = sim.now();
        let left = |b: &mut Bucket| {
            b.refill(now);
            b.tokens.floor() as i64
        };
        Remaining {
            reads: left(&mut c.reads),
            writes: left(&mut c.writes),
            deletes: left(&mut c.deletes),
            global_reads: left(&mut c.global_reads),
            global_writes: left(&mut c.global_writes),
            global_deletes: left(&mut c.global_deletes),
        }
    }

    /// The scenario's fault for a resource about to be provisioned, if it applies now. Faults
    /// with `times` stop applying after that many failures.
    pub fn resource_fault(&self, resource_type: &str, name: &str) -> Option<ResourceFault> {
        let mut c = self.counters.lock().ok()?;
        for (i, f) in self.scenario.failing_resources.iter().enumerate() {
            let type_ok =
                f.resource_type.is_empty() || f.resource_type.eq_ignore_ascii_case(resource_type);
            let name_ok = f.name_contains.is_empty()
                || name
                    .to_ascii_lowercase()
                    .contains(&f.name_contains.to_ascii_lowercase());
            if type_ok && name_ok {
                let used = c.resource_failures.entry(i).or_insert(0);
                if f.times == 0 || *used < f.times {
                    *used += 1;
                    return Some(f.clone());
                }
            }
        }
        None
    }

    /// A uniform random number in [0, 1) from the seeded generator.
    pub fn random(&self) -> f64 {
        self.counters
            .lock()
            .map(|mut c| next_unit(&mut c.rng))
            .unwrap_or(0.5)
    }
}

/// xorshift64*: small, seeded, good enough for fault injection.
fn next_unit(state: &mut u64) -> f64 {
    let mut x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
}

/// ARM's `429 TooManyRequests` with `Retry-After`.
fn throttled(retry_after: u64) -> Response {
    let mut r = arm_error(
        StatusCode::TOO_MANY_REQUESTS,
        "TooManyRequests",
        "The request is being throttled as the limit has been reached for operation type. Please see https://aka.ms/arm-throttling for more information.",
    );
    set_header(r.headers_mut(), "retry-after", &retry_after.to_string());
    r
}

/// A transient `500`/`503` as ARM words them, with `Retry-After: 1`.
fn transient(status: StatusCode) -> Response {
    let (code, message) = if status == StatusCode::SERVICE_UNAVAILABLE {
        (
            "ServiceUnavailable",
            "The service is temporarily unavailable. Please try again later.",
        )
    } else {
        (
            "InternalServerError",
            "Encountered internal server error. Diagnostic information: timestamp '', subscription id '', tracking id '', request correlation id ''.",
        )
    };
    let mut r = arm_error(status, code, message);
    set_header(r.headers_mut(), "retry-after", "1");
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn bucket_allows_its_burst_then_asks_to_wait() {
        let mut b = Bucket::new(3.0, 1.0);
        let t = datetime!(2026-01-01 0:00 UTC);
        assert!(b.take(t).is_ok() && b.take(t).is_ok() && b.take(t).is_ok());
        assert_eq!(b.take(t), Err(1));
        assert!(b.take(t + time::Duration::seconds(1)).is_ok());
    }

    #[test]
    fn seeded_random_is_repeatable() {
        let (mut a, mut b) = (7, 7);
        assert_eq!(next_unit(&mut a), next_unit(&mut b));
    }
}
