//! Shared by the fake-transport tests: a scripted azure_core `HttpClient` that answers from a
//! queue and records when (on the fake clock) each request arrived, and a client wired to it.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use azure_core::Bytes;
use azure_core::error::ErrorKind;
use azure_core::http::headers::Headers;
use azure_core::http::{AsyncRawResponse, HttpClient, Request, StatusCode};
use landfall_azure::{
    ArmClient, ArmClientOptions, FakeClock, PollOptions, StaticTokenCredential, ThrottleOptions,
    Timer,
};
use time::OffsetDateTime;
use time::macros::datetime;
use url::Url;

/// The fake clock's start.
pub const T0: OffsetDateTime = datetime!(2026-03-02 09:00:00 UTC);
/// The token the test credential hands out; no output may contain it.
pub const TOKEN: &str = "eyJ0eXAi.SECRET-TOKEN-do-not-print.sig";
/// The fake Resource Manager.
pub const ARM: &str = "https://management.example";

/// One scripted answer.
#[derive(Clone, Debug)]
pub enum Reply {
    /// An HTTP response.
    Http {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// The connection drops before an answer.
    Drop,
}

/// `Reply::Http` with a JSON body.
pub fn reply(status: u16, headers: &[(&str, &str)], body: serde_json::Value) -> Reply {
    Reply::Http {
        status,
        headers: headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        body: if body.is_null() {
            String::new()
        } else {
            body.to_string()
        },
    }
}

/// A request the fake saw.
#[derive(Clone, Debug)]
pub struct Seen {
    /// Seconds since `T0` on the fake clock.
    pub at: f64,
    /// `GET`, `PUT`...
    pub method: String,
    /// The full URL.
    pub url: String,
    /// Request headers, names lower case.
    pub headers: Vec<(String, String)>,
}

impl Seen {
    /// The URL's path.
    pub fn path(&self) -> String {
        Url::parse(&self.url).unwrap().path().to_owned()
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The scripted transport.
#[derive(Debug)]
pub struct Fake {
    clock: Arc<FakeClock>,
    script: Mutex<VecDeque<Reply>>,
    seen: Mutex<Vec<Seen>>,
}

impl Fake {
    /// A fake on `clock` answering `script` in order.
    pub fn new(clock: Arc<FakeClock>, script: Vec<Reply>) -> Arc<Self> {
        Arc::new(Fake {
            clock,
            script: Mutex::new(script.into()),
            seen: Mutex::new(Vec::new()),
        })
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// When each request arrived, in seconds since `T0`.
    pub fn times(&self) -> Vec<f64> {
        self.seen().iter().map(|s| s.at).collect()
    }

    /// `METHOD path` of each request.
    pub fn calls(&self) -> Vec<String> {
        self.seen()
            .iter()
            .map(|s| format!("{} {}", s.method, s.path()))
            .collect()
    }

    /// Replies not used yet.
    pub fn left(&self) -> usize {
        self.script.lock().unwrap().len()
    }
}

#[async_trait::async_trait]
impl HttpClient for Fake {
    async fn execute_request(&self, request: &Request) -> azure_core::Result<AsyncRawResponse> {
        use landfall_azure::Clock;
        let at = (self.clock.now() - T0).as_seconds_f64();
        self.seen.lock().unwrap().push(Seen {
            at,
            method: request.method().to_string(),
            url: request.url().to_string(),
            headers: request
                .headers()
                .iter()
                .map(|(k, v)| (k.as_str().to_owned(), v.as_str().to_owned()))
                .collect(),
        });
        let next = self
            .script
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or_else(|| panic!("no scripted reply left for {}", request.url()));
        match next {
            Reply::Drop => Err(azure_core::Error::with_message(
                ErrorKind::Io,
                "connection reset by peer",
            )),
            Reply::Http {
                status,
                headers,
                body,
            } => {
                let mut h = Headers::new();
                for (k, v) in headers {
                    h.insert(k.to_ascii_lowercase(), v);
                }
                Ok(AsyncRawResponse::from_bytes(
                    StatusCode::from(status),
                    h,
                    Bytes::from(body),
                ))
            }
        }
    }
}

/// Retry and poll settings without jitter, so times are exact.
pub fn exact_throttle() -> ThrottleOptions {
    ThrottleOptions {
        jitter: 0.0,
        ..ThrottleOptions::default()
    }
}

/// A fake clock at `T0`, a fake transport with `script`, and a client using both.
pub fn setup(script: Vec<Reply>) -> (ArmClient, Arc<Fake>, Arc<FakeClock>) {
    setup_with(script, exact_throttle(), PollOptions::default())
}

/// As [`setup`], with options.
pub fn setup_with(
    script: Vec<Reply>,
    throttle: ThrottleOptions,
    poll: PollOptions,
) -> (ArmClient, Arc<Fake>, Arc<FakeClock>) {
    let clock = Arc::new(FakeClock::new(T0));
    let fake = Fake::new(clock.clone(), script);
    let client = client_on(fake.clone(), Timer::fake(clock.clone()), throttle, poll);
    (client, fake, clock)
}

/// A client on a transport and timer.
pub fn client_on(
    http: Arc<dyn HttpClient>,
    timer: Timer,
    throttle: ThrottleOptions,
    poll: PollOptions,
) -> ArmClient {
    let credential = Arc::new(StaticTokenCredential::new(
        TOKEN,
        OffsetDateTime::now_utc() + Duration::from_secs(3600),
    ));
    ArmClient::new(
        Url::parse(ARM).unwrap(),
        credential,
        Some(ArmClientOptions {
            http_client: Some(http),
            throttle,
            poll,
            timer,
            correlation_id: Some("corr-1234".into()),
            ..ArmClientOptions::default()
        }),
    )
    .unwrap()
}

/// Seconds as `f64`, for comparing with [`Fake::times`].
pub fn secs(v: &[u64]) -> Vec<f64> {
    v.iter().map(|s| *s as f64).collect()
}
