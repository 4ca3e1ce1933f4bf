//! Time, injectable: every wait in this crate (between polls, before a retry, pacing under the
//! rate limit) goes through a [`Timer`], so tests swap in a [`FakeClock`] whose sleep moves its
//! own time forward and assert exact poll times without waiting.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::watch;

/// A future returned by [`Sleep::sleep`].
pub type SleepFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// A source of the current time.
pub trait Clock: Send + Sync {
    /// Now, in UTC.
    fn now(&self) -> OffsetDateTime;
}

/// Something that can wait.
pub trait Sleep: Send + Sync {
    /// Completes after `duration` (as this sleep's clock sees it).
    fn sleep(&self, duration: Duration) -> SleepFuture;
}

/// The machine's clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// Tokio's timer.
#[derive(Clone, Copy, Debug, Default)]
pub struct TokioSleep;

impl Sleep for TokioSleep {
    fn sleep(&self, duration: Duration) -> SleepFuture {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// A clock and a sleep that belong together.
#[derive(Clone)]
pub struct Timer {
    clock: Arc<dyn Clock>,
    sleep: Arc<dyn Sleep>,
}

impl Timer {
    /// A timer from a clock and a sleep (a fake sleep must move the fake clock).
    pub fn new(clock: Arc<dyn Clock>, sleep: Arc<dyn Sleep>) -> Self {
        Timer { clock, sleep }
    }

    /// The machine's clock and Tokio's sleep.
    pub fn system() -> Self {
        Timer::new(Arc::new(SystemClock), Arc::new(TokioSleep))
    }

    /// A timer whose clock and sleep are one fake.
    pub fn fake(clock: Arc<FakeClock>) -> Self {
        Timer::new(clock.clone(), clock)
    }

    /// Now.
    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// Waits `duration`; returns at once for zero.
    pub async fn sleep(&self, duration: Duration) {
        if !duration.is_zero() {
            self.sleep.sleep(duration).await;
        }
    }
}

impl Default for Timer {
    fn default() -> Self {
        Timer::system()
    }
}

impl fmt::Debug for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timer").finish_non_exhaustive()
    }
}

/// A clock that moves only when something sleeps on it (or [`FakeClock::advance`] is called);
/// every sleep is recorded so tests can assert the exact waits.
#[derive(Debug)]
pub struct FakeClock {
    state: Mutex<FakeState>,
}

#[derive(Debug)]
struct FakeState {
    now: OffsetDateTime,
    sleeps: Vec<Duration>,
}

impl FakeClock {
    /// A fake clock stopped at `start`.
    pub fn new(start: OffsetDateTime) -> Self {
        FakeClock {
            state: Mutex::new(FakeState {
                now: start,
                sleeps: Vec::new(),
            }),
        }
    }

    /// Moves the clock forward without recording a sleep.
    pub fn advance(&self, by: Duration) {
        self.with(|s| s.now += by);
    }

    /// Every sleep so far, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.with(|s| s.sleeps.clone())
    }

    fn with<T>(&self, f: impl FnOnce(&mut FakeState) -> T) -> T {
        let mut guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    }
}

impl Clock for FakeClock {
    fn now(&self) -> OffsetDateTime {
        self.with(|s| s.now)
    }
}

impl Sleep for FakeClock {
    fn sleep(&self, duration: Duration) -> SleepFuture {
        self.with(|s| {
            s.now += duration;
            s.sleeps.push(duration);
        });
        // Yield once so a racing cancellation gets a chance to win, as it would in real time.
        Box::pin(tokio::task::yield_now())
    }
}

/// Cancels waits: clone it, hand a clone to a poller, call [`CancelToken::cancel`] anywhere.
/// Dropping a poller's future also stops it (nothing runs in the background).
#[derive(Clone, Debug)]
pub struct CancelToken {
    tx: Arc<watch::Sender<bool>>,
}

impl CancelToken {
    /// A token not yet cancelled.
    pub fn new() -> Self {
        CancelToken {
            tx: Arc::new(watch::Sender::new(false)),
        }
    }

    /// Cancels every wait on this token, now and later.
    pub fn cancel(&self) {
        self.tx.send_replace(true);
    }

    /// Whether [`CancelToken::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        *self.tx.borrow()
    }

    /// Completes once cancelled.
    pub async fn cancelled(&self) {
        let mut rx = self.tx.subscribe();
        // The sender lives in `self`, so `wait_for` can only end by seeing `true`.
        let _ = rx.wait_for(|c| *c).await;
    }
}

impl Default for CancelToken {
    fn default() -> Self {
        CancelToken::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[tokio::test]
    async fn fake_sleep_moves_the_fake_clock_and_records_it() {
        let clock = Arc::new(FakeClock::new(datetime!(2026-01-01 0:00 UTC)));
        let timer = Timer::fake(clock.clone());
        timer.sleep(Duration::from_secs(3)).await;
        timer.sleep(Duration::ZERO).await;
        assert_eq!(timer.now(), datetime!(2026-01-01 0:00:03 UTC));
        assert_eq!(clock.sleeps(), vec![Duration::from_secs(3)]);
    }

    #[tokio::test]
    async fn a_cancelled_token_stays_cancelled() {
        let token = CancelToken::new();
        let clone = token.clone();
        assert!(!clone.is_cancelled());
        token.cancel();
        clone.cancelled().await;
        assert!(clone.is_cancelled());
    }
}
