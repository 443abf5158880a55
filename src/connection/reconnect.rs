//! One connect attempt at a time, shared by every caller that needs it.
//!
//! When the socket is broken, the first caller starts an attempt and the
//! others wait on that same attempt instead of queueing behind a lock to make
//! their own, one after another. Each waits within its own call timeout; the
//! attempt itself within the connect timeout.
//!
//! A caller that joined an attempt someone else began may have come after
//! the cause of its failure went away: a connect begun while a server's
//! backlog was full waits for a SYN retransmit (a second or more) even once
//! the server accepts again, and an attempt whose callers all gave up is
//! left half-way until someone joins it. So a joiner that sees the attempt
//! fail starts one fresh attempt (shared, in turn, with whoever else comes)
//! when its own call has time left for it: at least
//! [`FRESH_ATTEMPT_SHARE`] of its call timeout. Callers that came together,
//! at the start of an attempt that then hangs until the connect timeout,
//! have no such time left when it fails: they end within their timeout,
//! and share that one attempt.

use std::io;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::future::{FutureExt, Shared as SharedFuture};

use super::driver::Driver;
use super::shared::Shared;
use super::{timeout, Connect, ConnectionOptions};
use crate::proto::{ResponseDecoder, SharedReplyBudget};
use crate::runtime::{BoxFuture, Runtime};
use crate::Result;

type Attempt = SharedFuture<BoxFuture<'static, Result<Arc<Shared>>>>;

/// The part of its call timeout a caller must have left to start a fresh
/// attempt after one it joined failed: a quarter (50 ms of a 200 ms timeout).
pub(crate) const FRESH_ATTEMPT_SHARE: u32 = 4;

/// How a connection opens new sockets, and the attempt under way.
pub(crate) struct Reconnect<T> {
    connector: Box<dyn Connect<T>>,
    pub(crate) runtime: Arc<dyn Runtime>,
    attempt: Mutex<Option<Attempt>>,
    /// What the decoders of this connection's sockets share with other
    /// connections (a pool's), if anything.
    reply_budget: Option<Arc<SharedReplyBudget>>,
}

impl<T> Reconnect<T>
where
    T: futures_io::AsyncRead + futures_io::AsyncWrite + Unpin + Send + 'static,
{
    pub(crate) fn new(
        connector: Box<dyn Connect<T>>,
        runtime: Arc<dyn Runtime>,
        reply_budget: Option<Arc<SharedReplyBudget>>,
    ) -> Self {
        Reconnect {
            connector,
            runtime,
            attempt: Mutex::new(None),
            reply_budget,
        }
    }

    /// Opens a socket and spawns its driver, or waits for the attempt another
    /// caller started. `deadline` is when the caller's call times out
    /// (`None`: it has no limit); it decides whether a caller whose joined
    /// attempt failed may try once more (see the module's doc).
    pub(crate) async fn connect(
        &self,
        options: &ConnectionOptions,
        deadline: Option<Instant>,
    ) -> Result<Arc<Shared>> {
        let (attempt, joined) = self.join_or_start(options);
        let result = self.wait(attempt).await;
        match result {
            Err(_) if joined && time_for_another(deadline, options.timeout) => {
                let (attempt, _) = self.join_or_start(options);
                self.wait(attempt).await
            }
            result => result,
        }
    }

    /// The attempt under way, or a new one; true when it was under way.
    fn join_or_start(&self, options: &ConnectionOptions) -> (Attempt, bool) {
        let mut slot = self.attempt.lock().unwrap_or_else(|p| p.into_inner());
        let joined = slot.is_some();
        let attempt = slot.get_or_insert_with(|| self.start(options)).clone();
        (attempt, joined)
    }

    async fn wait(&self, attempt: Attempt) -> Result<Arc<Shared>> {
        let result = attempt.clone().await;
        // Done, whichever way: the next caller that finds the socket broken
        // starts afresh (unless another attempt already replaced this one).
        let mut slot = self.attempt.lock().unwrap_or_else(|p| p.into_inner());
        if slot
            .as_ref()
            .is_some_and(|current| current.ptr_eq(&attempt))
        {
            *slot = None;
        }
        result
    }

    fn start(&self, options: &ConnectionOptions) -> Attempt {
        let connect: BoxFuture<'static, io::Result<T>> = self.connector.connect();
        let runtime = self.runtime.clone();
        let connect_timeout = options.connect_timeout;
        let mut decoder = ResponseDecoder::with_max_reply_len(options.max_reply_len);
        if let Some(budget) = &self.reply_budget {
            decoder = decoder.sharing(budget.clone());
        }
        let attempt: BoxFuture<'static, Result<Arc<Shared>>> = Box::pin(async move {
            let started = Instant::now();
            let stream = timeout(&*runtime, connect_timeout, connect)
                .await
                .and_then(|s| Ok(s?));
            super::events::connect_attempt(stream.is_ok(), started.elapsed());
            let stream = stream?;
            let shared = Arc::new(Shared::default());
            let driver = Driver::new(stream, shared.clone(), decoder);
            runtime.spawn(Box::pin(driver));
            Ok(shared)
        });
        attempt.shared()
    }
}

/// True when a call with `deadline` (of a `call_timeout`) has time left for
/// a fresh connect attempt: at least [`FRESH_ATTEMPT_SHARE`] of its timeout.
fn time_for_another(deadline: Option<Instant>, call_timeout: Option<Duration>) -> bool {
    let (Some(deadline), Some(call_timeout)) = (deadline, call_timeout) else {
        return true;
    };
    let left = deadline.saturating_duration_since(Instant::now());
    !left.is_zero() && left >= call_timeout / FRESH_ATTEMPT_SHARE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_attempt_needs_a_quarter_of_the_call_timeout_left() {
        let timeout = Some(Duration::from_millis(200));
        let now = Instant::now();
        assert!(time_for_another(None, timeout));
        assert!(time_for_another(Some(now), None));
        assert!(time_for_another(
            Some(now + Duration::from_millis(120)),
            timeout
        ));
        assert!(!time_for_another(
            Some(now + Duration::from_millis(20)),
            timeout
        ));
        assert!(!time_for_another(Some(now), timeout));
        assert!(!time_for_another(Some(now), Some(Duration::ZERO)));
    }
}
