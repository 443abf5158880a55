//! One connect attempt at a time, shared by every caller that needs it.
//!
//! When the socket is broken, the first caller starts an attempt and the
//! others wait on that same attempt instead of queueing behind a lock to make
//! their own, one after another. Each waits within its own call timeout; the
//! attempt itself within the connect timeout.

use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::{FutureExt, Shared as SharedFuture};

use super::driver::Driver;
use super::shared::Shared;
use super::{timeout, Connect};
use crate::proto::ResponseDecoder;
use crate::runtime::{BoxFuture, Runtime};
use crate::Result;

type Attempt = SharedFuture<BoxFuture<'static, Result<Arc<Shared>>>>;

/// How a connection opens new sockets, and the attempt under way.
pub(crate) struct Reconnect<T> {
    connector: Box<dyn Connect<T>>,
    pub(crate) runtime: Arc<dyn Runtime>,
    attempt: Mutex<Option<Attempt>>,
}

impl<T> Reconnect<T>
where
    T: futures_io::AsyncRead + futures_io::AsyncWrite + Unpin + Send + 'static,
{
    pub(crate) fn new(connector: Box<dyn Connect<T>>, runtime: Arc<dyn Runtime>) -> Self {
        Reconnect {
            connector,
            runtime,
            attempt: Mutex::new(None),
        }
    }

    /// Opens a socket and spawns its driver, or waits for the attempt another
    /// caller started.
    pub(crate) async fn connect(
        &self,
        connect_timeout: Option<Duration>,
        max_reply_len: usize,
    ) -> Result<Arc<Shared>> {
        let attempt = {
            let mut slot = self.attempt.lock().unwrap_or_else(|p| p.into_inner());
            slot.get_or_insert_with(|| self.start(connect_timeout, max_reply_len))
                .clone()
        };
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

    fn start(&self, connect_timeout: Option<Duration>, max_reply_len: usize) -> Attempt {
        let connect: BoxFuture<'static, io::Result<T>> = self.connector.connect();
        let runtime = self.runtime.clone();
        let attempt: BoxFuture<'static, Result<Arc<Shared>>> = Box::pin(async move {
            let started = std::time::Instant::now();
            let stream = timeout(&*runtime, connect_timeout, connect)
                .await
                .and_then(|s| Ok(s?));
            super::events::connect_attempt(stream.is_ok(), started.elapsed());
            let stream = stream?;
            let shared = Arc::new(Shared::default());
            let driver = Driver::new(
                stream,
                shared.clone(),
                ResponseDecoder::with_max_reply_len(max_reply_len),
            );
            runtime.spawn(Box::pin(driver));
            Ok(shared)
        });
        attempt.shared()
    }
}
