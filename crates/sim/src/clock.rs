//! Time, injectable: the simulator computes every deployment's progress from timestamps, so a
//! test can move a manual clock and see exactly what Azure would show at that moment.
//!
//! The clock is the simulator's only source of "now": state, tokens, throttling and error
//! timestamps all read it through [`crate::Sim::now`]. (Certificate validity periods are the
//! exception: TLS clients check them against the machine's time.)

use std::sync::Mutex;

use time::{Duration, OffsetDateTime};

/// A source of the current time.
pub trait Clock: Send + Sync {
    /// Now, in UTC.
    fn now(&self) -> OffsetDateTime;
}

/// The machine's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that moves only when told to.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<OffsetDateTime>,
}

impl ManualClock {
    /// A clock stopped at `start`.
    pub fn new(start: OffsetDateTime) -> Self {
        ManualClock {
            now: Mutex::new(start),
        }
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        if let Ok(mut n) = self.now.lock() {
            *n += by;
        }
    }

    /// Sets the clock.
    pub fn set(&self, to: OffsetDateTime) {
        if let Ok(mut n) = self.now.lock() {
            *n = to;
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        self.now
            .lock()
            .map(|n| *n)
            .unwrap_or_else(|e| *e.into_inner())
    }
}
