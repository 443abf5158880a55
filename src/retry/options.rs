//! [`RetryOptions`]: how many tries, how long between them, and which
//! failures to retry ([`RetryOn`] by kind, [`RetryIf`] by a rule of yours).

use std::sync::Arc;
use std::time::Duration;

use crate::{Error, Request};

/// Which errors [`Retry`](super::Retry) retries, by kind.
///
/// Only errors that say nothing about the request can be retried: errors the
/// server sent (`ERROR`, `CLIENT_ERROR`, `SERVER_ERROR`), invalid input and
/// serialization errors would only come back, and are never retried. For
/// any other rule (pymemcache's `retry_for` / `do_not_retry_for`, or a rule
/// that depends on the request) pass a predicate to
/// [`RetryOptions::retry_if`] instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryOn {
    /// [`Error::Io`]: refused, reset, broken pipe. On by default.
    pub io: bool,
    /// [`Error::Timeout`]. On by default.
    pub timeout: bool,
    /// [`Error::ConnectionClosed`] and [`Error::ConnectionRetired`]. On by default.
    pub connection_closed: bool,
    /// [`Error::Protocol`]: the reply was garbled (the connection is then
    /// reopened). Off by default: a server that garbles once may again.
    pub protocol: bool,
    /// [`Error::PoolTimeout`]. Off by default: the pool was busy for its
    /// whole wait already.
    pub pool_timeout: bool,
}

impl Default for RetryOn {
    fn default() -> Self {
        RetryOn {
            io: true,
            timeout: true,
            connection_closed: true,
            protocol: false,
            pool_timeout: false,
        }
    }
}

impl RetryOn {
    /// True if `error` is one of the kinds to retry.
    pub fn retries(&self, error: &Error) -> bool {
        match error {
            Error::Io(_) => self.io,
            Error::Timeout(_) => self.timeout,
            Error::ConnectionClosed | Error::ConnectionRetired => self.connection_closed,
            Error::Protocol(_) => self.protocol,
            Error::PoolTimeout(_) => self.pool_timeout,
            Error::IllegalInput(_)
            | Error::Client(_)
            | Error::Server(_)
            | Error::UnknownCommand(_)
            | Error::Serde(_) => false,
            // A refused handshake fails the same way again; a closed client
            // was closed on purpose.
            Error::Tls { .. } | Error::Closed => false,
        }
    }
}

/// A caller's rule for which failed calls [`Retry`](super::Retry) retries: a function of
/// the error and of the request that failed. Set with
/// [`RetryOptions::retry_if`].
#[derive(Clone)]
pub struct RetryIf(Arc<Predicate>);

/// The function inside a [`RetryIf`].
type Predicate = dyn Fn(&Error, &Request) -> bool + Send + Sync;

impl RetryIf {
    /// The rule `predicate`: `true` retries the request.
    pub fn new(predicate: impl Fn(&Error, &Request) -> bool + Send + Sync + 'static) -> Self {
        RetryIf(Arc::new(predicate))
    }

    /// True if the rule retries `request` after `error`.
    pub fn retries(&self, error: &Error, request: &Request) -> bool {
        (self.0)(error, request)
    }
}

impl std::fmt::Debug for RetryIf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RetryIf(..)")
    }
}

impl PartialEq for RetryIf {
    /// Two rules are equal when they are the same function (clones of one
    /// `RetryIf`).
    fn eq(&self, other: &RetryIf) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

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

    /// Sets [`delay`](Self::delay).
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Sets [`max_delay`](Self::max_delay).
    pub fn max_delay(mut self, max_delay: Duration) -> Self {
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
