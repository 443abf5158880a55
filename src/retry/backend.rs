//! [`Retry`]: the backend that retries another, with growing, jittered
//! waits between tries.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::decide::should_retry;
use super::options::RetryOptions;
use crate::runtime::Runtime;
use crate::{Backend, Error, Request, Result};

/// A [`Backend`] that retries the calls of another after transient errors,
/// waiting (on a [`Runtime`]) a growing, jittered delay between tries.
///
/// `call_many` retries only the requests of the batch that failed.
///
/// The usual way to get one is [`Config::retry`](crate::Config::retry), over
/// any backend a [`Config`](crate::Config) builds; the client keeps its
/// options (key prefix, `errors_as_misses`, ...) and its runtime:
///
/// ```no_run
/// # #[cfg(feature = "smol")]
/// # async fn demo() -> memclient::Result<()> {
/// use std::time::Duration;
/// use memclient::{Config, RetryOptions, smol::Smol};
///
/// let client = Config::new("127.0.0.1:11211")      // or Config::servers([..]), .pool(..)
///     .key_prefix("app:")
///     .errors_as_misses(true)
///     .retry(RetryOptions::new().delay(Duration::from_millis(5)).max_delay(Duration::from_millis(50)))
///     .connect(Smol)                                // a Client<Retry<Connection>>
///     .await?;
/// # Ok(())
/// # }
/// ```
///
/// Around a backend of your own (here the mock), [`Retry::new`] is the
/// lower-level form: give the client its options and runtime as well, or
/// they are the defaults.
///
/// ```
/// # #[cfg(feature = "smol")]
/// # smol::block_on(async {
/// use memclient::{Client, ClientOptions, Error, Retry, RetryOptions};
/// use memclient::serde::PyFlags;
/// use memclient::smol::Smol;
/// use memclient_mock::MockMemcache;
///
/// let mock = MockMemcache::new();
/// let retry = Retry::new(mock.clone(), Smol, RetryOptions::new().attempts(3));
/// let options = ClientOptions::new().key_prefix("app:").errors_as_misses(true);
/// let client = Client::with_options(retry, PyFlags, options)?.with_runtime(Smol);
///
/// mock.fail_next(2, Error::ConnectionClosed);   // two transient failures
/// client.set("k", "v").await?;                  // the third try succeeds
/// assert!(mock.get_raw(b"app:k").is_some());    // with the client's prefix
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

    /// The wait before retry number `retry` (1 for the first).
    pub(super) fn delay(&self, retry: u32) -> Duration {
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
                    if tries < self.options.attempts
                        && should_retry(&self.options, &request, &error) =>
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
                        .is_err_and(|error| should_retry(&self.options, request, error))
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
