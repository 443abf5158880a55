//! [`Retry`]: a backend that retries another one.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::runtime::Runtime;
use crate::{Backend, Error, Request, Result};

/// Which errors [`Retry`] retries, by kind.
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

/// A caller's rule for which failed calls [`Retry`] retries: a function of
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

/// How [`Retry`] retries.
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

/// A [`Backend`] that retries the calls of another after transient errors,
/// waiting (on a [`Runtime`]) a growing, jittered delay between tries.
///
/// `call_many` retries only the requests of the batch that failed.
///
/// ```
/// # #[cfg(feature = "smol")]
/// # smol::block_on(async {
/// use std::time::Duration;
/// use memclient::{Client, Error, Retry, RetryOptions};
/// use memclient_mock::MockMemcache;
///
/// let mock = MockMemcache::new();
/// let options = RetryOptions::new()
///     .attempts(3)
///     .delay(Duration::from_millis(5), Duration::from_millis(50));
/// // Any backend: a Connection, a Pool, a Cluster, or the mock.
/// let client = Client::new(Retry::new(mock.clone(), memclient::smol::Smol, options));
///
/// mock.fail_next(2, Error::ConnectionClosed);   // two transient failures
/// client.set("k", "v").await?;                  // the third try succeeds
/// assert!(client.get("k").await?.is_some());
/// # Ok::<_, Error>(())
/// # }).unwrap();
/// ```
pub struct Retry<B> {
    inner: B,
    runtime: Arc<dyn Runtime>,
    options: RetryOptions,
    /// xorshift64* state for the jitter: tiny, and good enough to spread
    /// retries apart.
    random: AtomicU64,
}

impl<B> std::fmt::Debug for Retry<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Retry")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl<B: Backend> Retry<B> {
    /// Retries `inner` as `options` say, sleeping on `runtime`.
    pub fn new(inner: B, runtime: impl Runtime, options: RetryOptions) -> Self {
        Retry {
            inner,
            runtime: Arc::new(runtime),
            options,
            random: AtomicU64::new(seed()),
        }
    }
}

impl<B> Retry<B> {
    /// The wrapped backend.
    pub fn inner(&self) -> &B {
        &self.inner
    }

    /// The retry options.
    pub fn options(&self) -> &RetryOptions {
        &self.options
    }

    fn should_retry(&self, request: &Request, error: &Error) -> bool {
        let wanted = match &self.options.retry_if {
            Some(rule) => rule.retries(error, request),
            None => self.options.retry_on.retries(error),
        };
        wanted && (self.options.non_idempotent || idempotent(request))
    }

    /// The wait before retry number `retry` (1 for the first).
    fn delay(&self, retry: u32) -> Duration {
        let doubled = self.options.delay.saturating_mul(
            1u32.checked_shl(retry.saturating_sub(1))
                .unwrap_or(u32::MAX),
        );
        let delay = doubled.min(self.options.max_delay);
        let jitter = if self.options.jitter.is_finite() {
            self.options.jitter.clamp(0.0, 1.0)
        } else {
            0.0
        };
        delay.mul_f64(1.0 - jitter * self.next_unit())
    }

    /// A random number in [0, 1).
    fn next_unit(&self) -> f64 {
        let step = |mut x: u64| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            x
        };
        let previous = self
            .random
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |x| Some(step(x)))
            .unwrap_or(1);
        let x = step(previous).wrapping_mul(0x2545_f491_4f6c_dd1d);
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}

impl<B: Backend> Backend for Retry<B> {
    fn close(&self) -> impl std::future::Future<Output = ()> + Send {
        self.inner.close()
    }

    async fn call(&self, request: Request) -> Result<crate::Response> {
        let mut tries = 1;
        loop {
            let result = self.inner.call(request.clone()).await;
            match result {
                Err(error)
                    if tries < self.options.attempts && self.should_retry(&request, &error) =>
                {
                    retrying(tries, &error);
                    self.runtime.sleep(self.delay(tries)).await;
                    tries += 1;
                }
                other => return other,
            }
        }
    }

    async fn call_many(&self, requests: Vec<Request>) -> Vec<Result<crate::Response>> {
        let mut results = self.inner.call_many(requests.clone()).await;
        for tries in 1..self.options.attempts {
            let again: Vec<usize> = results
                .iter()
                .zip(&requests)
                .enumerate()
                .filter(|(_, (result, request))| {
                    result
                        .as_ref()
                        .is_err_and(|error| self.should_retry(request, error))
                })
                .map(|(position, _)| position)
                .collect();
            if again.is_empty() {
                break;
            }
            if let Some(Err(error)) = again.first().map(|&p| &results[p]) {
                retrying(tries, error);
            }
            self.runtime.sleep(self.delay(tries)).await;
            let batch = again.iter().map(|&p| requests[p].clone()).collect();
            let replies = self.inner.call_many(batch).await;
            for (position, reply) in again.into_iter().zip(replies) {
                if let Some(slot) = results.get_mut(position) {
                    *slot = reply;
                }
            }
        }
        results
    }
}

/// Reports a retry (feature `tracing`): a DEBUG event with the number of
/// the try that failed and the error's kind.
fn retrying(_tries: u32, _error: &Error) {
    #[cfg(feature = "tracing")]
    tracing::debug!(
        target: "memclient",
        attempt = _tries,
        error.kind = _error.kind(),
        "retrying memcached call"
    );
}

/// True when sending the request twice leaves the same state as once.
fn idempotent(request: &Request) -> bool {
    request.is_idempotent()
}

/// A seed for the jitter: the clock, mixed with a per-process counter so that
/// two backends made in the same instant differ. Never 0 (xorshift's fixpoint).
fn seed() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|since| since.as_nanos() as u64)
        .unwrap_or(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    (nanos ^ count.wrapping_mul(0x9e37_79b9_7f4a_7c15)) | 1
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::Mutex;

    use super::*;
    use std::future::Future;

    use crate::runtime::BoxFuture;
    use crate::{ArithOp, Response, RetrieveCommand, Store, StoreCommand};
    use bytes::Bytes;

    /// A backend that answers from a script and records what it was sent.
    #[derive(Default)]
    struct Scripted {
        replies: Mutex<VecDeque<Result<Response>>>,
        sent: Mutex<Vec<Request>>,
    }

    impl Scripted {
        fn new(replies: impl IntoIterator<Item = Result<Response>>) -> Self {
            Scripted {
                replies: Mutex::new(replies.into_iter().collect()),
                sent: Mutex::default(),
            }
        }

        fn sent(&self) -> Vec<Request> {
            self.sent.lock().unwrap().clone()
        }
    }

    impl Backend for Scripted {
        fn call(&self, request: Request) -> impl Future<Output = Result<Response>> + Send {
            self.sent.lock().unwrap().push(request);
            let reply = self
                .replies
                .lock()
                .unwrap()
                .pop_front()
                .unwrap_or(Err(Error::Server("script ran out".into())));
            async move { reply }
        }
    }

    /// A runtime whose sleeps end at once, and are recorded.
    #[derive(Clone, Default)]
    struct Clock(Arc<Mutex<Vec<Duration>>>);

    impl Runtime for Clock {
        fn spawn(&self, _future: BoxFuture<'static, ()>) {}

        fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
            self.0.lock().unwrap().push(duration);
            Box::pin(async {})
        }
    }

    fn get(key: &'static str) -> Request {
        Request::Retrieve(crate::Retrieve {
            command: RetrieveCommand::Get,
            keys: vec![Bytes::from_static(key.as_bytes())],
        })
    }

    fn io_error() -> Error {
        Error::from(std::io::Error::from(std::io::ErrorKind::ConnectionReset))
    }

    fn make(script: Scripted, options: RetryOptions) -> (Retry<Scripted>, Clock) {
        let clock = Clock::default();
        (Retry::new(script, clock.clone(), options), clock)
    }

    #[test]
    fn retries_transient_errors_until_success() {
        let script = Scripted::new([
            Err(io_error()),
            Err(Error::Timeout(Duration::from_millis(5))),
            Ok(Response::Values(vec![])),
        ]);
        let (retry, clock) = make(script, RetryOptions::default().jitter(0.0));
        let result = smol::block_on(retry.call(get("a")));
        assert_eq!(result.unwrap(), Response::Values(vec![]));
        assert_eq!(retry.inner().sent().len(), 3);
        // Exponential: 10 ms, then 20 ms.
        assert_eq!(
            *clock.0.lock().unwrap(),
            vec![Duration::from_millis(10), Duration::from_millis(20)]
        );
    }

    #[test]
    fn a_retired_connection_is_retried_like_a_closed_one() {
        let script = Scripted::new([Err(Error::ConnectionRetired), Ok(Response::Values(vec![]))]);
        let (retry, _) = make(script, RetryOptions::default());
        let result = smol::block_on(retry.call(get("a")));
        assert_eq!(result.unwrap(), Response::Values(vec![]));
        let off = RetryOn {
            connection_closed: false,
            ..RetryOn::default()
        };
        assert!(!off.retries(&Error::ConnectionRetired));
    }

    #[test]
    fn gives_up_after_the_attempts() {
        let script = Scripted::new([
            Err(Error::ConnectionClosed),
            Err(Error::ConnectionClosed),
            Err(Error::ConnectionClosed),
            Ok(Response::Stored),
        ]);
        let (retry, _) = make(script, RetryOptions::default());
        let result = smol::block_on(retry.call(get("a")));
        assert!(matches!(result, Err(Error::ConnectionClosed)));
        assert_eq!(retry.inner().sent().len(), 3);
    }

    #[test]
    fn never_retries_what_would_fail_again() {
        for error in [
            Error::IllegalInput("bad key".into()),
            Error::Client("bad data chunk".into()),
            Error::Server("out of memory".into()),
            Error::UnknownCommand(String::new()),
            Error::Protocol("garbled".into()),
        ] {
            let script = Scripted::new([Err(error.clone()), Ok(Response::Stored)]);
            let (retry, clock) = make(script, RetryOptions::default());
            assert!(smol::block_on(retry.call(get("a"))).is_err(), "{error}");
            assert_eq!(retry.inner().sent().len(), 1, "{error}");
            assert!(clock.0.lock().unwrap().is_empty());
        }
    }

    #[test]
    fn chosen_kinds_only() {
        let on = RetryOn {
            io: false,
            protocol: true,
            ..RetryOn::default()
        };
        let script = Scripted::new([Err(Error::Protocol("x".into())), Ok(Response::Stored)]);
        let (retry, _) = make(script, RetryOptions::default().retry_on(on));
        assert_eq!(
            smol::block_on(retry.call(get("a"))).unwrap(),
            Response::Stored
        );
        let script = Scripted::new([Err(io_error()), Ok(Response::Stored)]);
        let (retry, _) = make(script, RetryOptions::default().retry_on(on));
        assert!(smol::block_on(retry.call(get("a"))).is_err());
    }

    #[test]
    fn non_idempotent_requests_only_when_allowed() {
        let incr = Request::Arith {
            op: ArithOp::Incr,
            key: Bytes::from_static(b"n"),
            delta: 1,
            noreply: false,
        };
        let script = Scripted::new([Err(Error::Timeout(Duration::ZERO)), Ok(Response::Number(1))]);
        let (retry, _) = make(script, RetryOptions::default());
        assert!(smol::block_on(retry.call(incr.clone())).is_err());
        let script = Scripted::new([Err(Error::Timeout(Duration::ZERO)), Ok(Response::Number(1))]);
        let (retry, _) = make(script, RetryOptions::default().non_idempotent(true));
        assert_eq!(
            smol::block_on(retry.call(incr)).unwrap(),
            Response::Number(1)
        );
        let append = Request::Store(Store {
            command: StoreCommand::Append,
            key: Bytes::from_static(b"k"),
            flags: 0,
            exptime: 0,
            value: Bytes::from_static(b"x"),
            noreply: false,
        });
        assert!(!idempotent(&append));
    }

    #[test]
    fn batches_retry_only_their_failures() {
        let script = Scripted::new([
            Ok(Response::Stored),
            Err(io_error()),
            Ok(Response::Deleted),
            // The retry batch: only the second request.
            Ok(Response::NotFound),
        ]);
        let (retry, clock) = make(script, RetryOptions::default());
        let replies = smol::block_on(retry.call_many(vec![get("a"), get("b"), get("c")]));
        let replies: Vec<_> = replies.into_iter().map(Result::unwrap).collect();
        assert_eq!(
            replies,
            vec![Response::Stored, Response::NotFound, Response::Deleted]
        );
        assert_eq!(retry.inner().sent()[3], get("b"));
        assert_eq!(clock.0.lock().unwrap().len(), 1);
    }

    #[test]
    fn jitter_stays_within_the_delay_and_varies() {
        let (retry, _) = make(
            Scripted::default(),
            RetryOptions::default()
                .jitter(1.0)
                .delay(Duration::from_millis(100), Duration::from_millis(150)),
        );
        let delays: Vec<Duration> = (0..100).map(|_| retry.delay(1)).collect();
        assert!(delays.iter().all(|d| *d <= Duration::from_millis(100)));
        assert!(delays.iter().any(|d| *d != delays[0]));
        // Capped by max_delay, whatever the retry number.
        assert!(retry.delay(u32::MAX) <= Duration::from_millis(150));
        let (plain, _) = retry_with_jitter(f64::NAN);
        assert_eq!(plain.delay(2), Duration::from_millis(20));
    }

    #[test]
    fn a_predicate_decides_by_error_and_request() {
        let only_reads_out_of_memory = RetryOptions::default().retry_if(|error, request| {
            matches!(request, Request::Retrieve(_)) && matches!(error, Error::Server(_))
        });
        let oom = || Error::Server("out of memory".into());
        // A server error, which retry_on never retries, on a read: retried.
        let script = Scripted::new([Err(oom()), Ok(Response::Values(vec![]))]);
        let (retry, _) = make(script, only_reads_out_of_memory.clone());
        assert_eq!(
            smol::block_on(retry.call(get("a"))).unwrap(),
            Response::Values(vec![])
        );
        // The same error on a write: not retried.
        let set = Request::Store(Store {
            command: StoreCommand::Set,
            key: Bytes::from_static(b"k"),
            flags: 0,
            exptime: 0,
            value: Bytes::from_static(b"x"),
            noreply: false,
        });
        let script = Scripted::new([Err(oom()), Ok(Response::Stored)]);
        let (retry, _) = make(script, only_reads_out_of_memory.clone());
        assert_eq!(smol::block_on(retry.call(set)), Err(oom()));
        assert_eq!(retry.inner().sent().len(), 1);
        // An I/O error, which retry_on would retry: the rule says no.
        let script = Scripted::new([Err(io_error()), Ok(Response::Values(vec![]))]);
        let (retry, _) = make(script, only_reads_out_of_memory);
        assert!(smol::block_on(retry.call(get("a"))).is_err());
        assert_eq!(retry.inner().sent().len(), 1);
    }

    #[test]
    fn a_predicate_does_not_lift_the_idempotency_rule() {
        let incr = Request::Arith {
            op: ArithOp::Incr,
            key: Bytes::from_static(b"n"),
            delta: 1,
            noreply: false,
        };
        let always = RetryOptions::default().retry_if(|_, _| true);
        let script = Scripted::new([Err(io_error()), Ok(Response::Number(1))]);
        let (retry, _) = make(script, always.clone());
        assert!(smol::block_on(retry.call(incr.clone())).is_err());
        let script = Scripted::new([Err(io_error()), Ok(Response::Number(1))]);
        let (retry, _) = make(script, always.non_idempotent(true));
        assert_eq!(
            smol::block_on(retry.call(incr)).unwrap(),
            Response::Number(1)
        );
    }

    fn retry_with_jitter(jitter: f64) -> (Retry<Scripted>, Clock) {
        make(Scripted::default(), RetryOptions::default().jitter(jitter))
    }
}
