//! [`RetryOptions`]: how many tries, how long between them, and which
//! failures to retry.

use std::time::Duration;

use super::decide::{RetryIf, RetryOn};
use crate::{Error, Request};

/// How [`Retry`](super::Retry) retries.
///
/// | option           | default | pymemcache's `RetryingClient` |
/// |------------------|---------|-------------------------------|
/// | `attempts`       | 3       | `attempts=2`                  |
/// | `delay`          | 10 ms, doubling to `max_delay` 1 s, 50 % jitter | `retry_delay=0`, fixed |
/// | `retry_on`       | I/O, timeouts, closed connections | `retry_for` (any listed exception) |
/// | `retry_if`       | none    | `retry_for` / `do_not_retry_for` |
/// | `non_idempotent` | off     | (retries everything)          |
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RetryOptions {
    /// Tries in all, the first included. Default 3; 1 (or 0) never retries.
    pub attempts: u32,
    /// The wait before the first retry; it doubles for each next one.
    /// Default 10 ms.
    pub delay: Duration,
    /// The longest wait between tries. Default 1 second.
    pub max_delay: Duration,
    /// The share of each wait that is random, from 0.0 (none) to 1.0 (a wait
    /// anywhere from zero to the full delay). Default 0.5: clients that failed
    /// together do not all retry at the same instant.
    pub jitter: f64,
    /// Which errors to retry, by kind. Not used when
    /// [`retry_if`](Self::retry_if) is set.
    pub retry_on: RetryOn,
    /// A rule over the error and the request that replaces
    /// [`retry_on`](Self::retry_on): it may retry any error, a server's
    /// reply too. [`non_idempotent`](Self::non_idempotent) still applies on
    /// top of it. `None` by default.
    pub retry_if: Option<RetryIf>,
    /// Also retry requests that change the value relative to itself (`incr`,
    /// `decr`, `append`, `prepend`) and raw commands. Off by default: when a
    /// call times out, the server may have applied it, and a retry would
    /// apply it twice.
    pub non_idempotent: bool,
}

impl Default for RetryOptions {
    fn default() -> Self {
        RetryOptions {
            attempts: 3,
            delay: Duration::from_millis(10),
            max_delay: Duration::from_secs(1),
            jitter: 0.5,
            retry_on: RetryOn::default(),
            retry_if: None,
            non_idempotent: false,
        }
    }
}

impl RetryOptions {
    /// Options with every default.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets [`attempts`](Self::attempts).
    pub fn attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts;
        self
    }

    /// Sets [`delay`](Self::delay) and [`max_delay`](Self::max_delay).
    pub fn delay(mut self, delay: Duration, max_delay: Duration) -> Self {
        self.delay = delay;
        self.max_delay = max_delay;
        self
    }

    /// Sets [`jitter`](Self::jitter).
    pub fn jitter(mut self, jitter: f64) -> Self {
        self.jitter = jitter;
        self
    }

    /// Sets [`retry_on`](Self::retry_on).
    pub fn retry_on(mut self, retry_on: RetryOn) -> Self {
        self.retry_on = retry_on;
        self
    }

    /// Retries the calls for which `predicate(error, request)` is true,
    /// instead of the kinds of [`retry_on`](Self::retry_on): pymemcache's
    /// `retry_for` and `do_not_retry_for` in one function, which can look at
    /// the request too. Requests that are not idempotent (`incr`, `append`,
    /// ...) are still retried only with [`non_idempotent`](Self::non_idempotent).
    ///
    /// ```
    /// use memclient::{Error, Request, RetryOptions};
    ///
    /// // Retry reads after any connection error, and a server that was out
    /// // of memory; never retry writes.
    /// let options = RetryOptions::new().retry_if(|error, request| {
    ///     matches!(request, Request::Retrieve(_))
    ///         && (error.is_connection_error()
    ///             || matches!(error, Error::Server(message) if message.contains("out of memory")))
    /// });
    /// ```
    pub fn retry_if(
        mut self,
        predicate: impl Fn(&Error, &Request) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.retry_if = Some(RetryIf::new(predicate));
        self
    }

    /// Sets [`non_idempotent`](Self::non_idempotent).
    pub fn non_idempotent(mut self, on: bool) -> Self {
        self.non_idempotent = on;
        self
    }
}
