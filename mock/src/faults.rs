//! Faults a test can inject: failing calls, latency, dropped connections.

use std::sync::Mutex;
use std::time::Duration;

use memclient::Error;

#[derive(Debug, Default)]
struct State {
    /// The error to return and how many more calls get it.
    failures: Option<(usize, Error)>,
    latency: Duration,
    /// Set by `drop_connections`: the next Backend call sees `ConnectionClosed`.
    backend_dropped: bool,
}

/// The faults armed on one mock.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    state: Mutex<State>,
}

impl Faults {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn fail_next(&self, count: usize, error: Error) {
        self.lock().failures = (count > 0).then_some((count, error));
    }

    /// Consumes one armed failure, if any.
    pub fn take_failure(&self) -> Option<Error> {
        let mut state = self.lock();
        let (left, error) = state.failures.as_mut()?;
        let error = error.clone();
        *left -= 1;
        if *left == 0 {
            state.failures = None;
        }
        Some(error)
    }

    pub fn set_latency(&self, latency: Duration) {
        self.lock().latency = latency;
    }

    pub fn latency(&self) -> Duration {
        self.lock().latency
    }

    pub fn drop_backend(&self) {
        self.lock().backend_dropped = true;
    }

    /// True once after `drop_backend`.
    pub fn take_backend_drop(&self) -> bool {
        std::mem::take(&mut self.lock().backend_dropped)
    }
}
