//! The mock's clock: system time, or a manual clock that only tests move.

use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Where "now" comes from. Expiry and delayed `flush_all` are decided by it.
#[derive(Debug)]
pub(crate) struct Clock {
    /// `None`: system time. `Some(t)`: a manual clock standing at `t` (since the epoch).
    manual: Option<Duration>,
    /// Added to the base time by [`Clock::advance`].
    offset: Mutex<Duration>,
}

fn system_now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
}

impl Clock {
    /// Follows the system clock.
    pub fn system() -> Self {
        Self {
            manual: None,
            offset: Mutex::new(Duration::ZERO),
        }
    }

    /// Stands still at the current system time, cut to a whole second so that
    /// `advance(Duration::from_secs(n))` crosses exactly `n` second boundaries
    /// (memcached's clock counts whole seconds).
    pub fn manual() -> Self {
        Self {
            manual: Some(Duration::from_secs(system_now().as_secs())),
            offset: Mutex::new(Duration::ZERO),
        }
    }

    /// Time since the unix epoch.
    pub fn now(&self) -> Duration {
        let offset = *self.offset.lock().unwrap_or_else(|e| e.into_inner());
        self.manual
            .unwrap_or_else(system_now)
            .saturating_add(offset)
    }

    /// memcached's `current_time`: whole seconds (here since the epoch).
    pub fn now_secs(&self) -> u64 {
        self.now().as_secs()
    }

    /// Moves the clock forward (a system clock gets an offset).
    pub fn advance(&self, by: Duration) {
        let mut offset = self.offset.lock().unwrap_or_else(|e| e.into_inner());
        *offset = offset.saturating_add(by);
    }
}
