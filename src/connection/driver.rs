//! [`Driver`]: the background task of a connection's socket.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use super::driving::{Drive, Engine};
use super::shared::Shared;
use super::wire::Wire;
use crate::proto::ResponseDecoder;

/// The background task of one [`Connection`](crate::Connection)'s socket.
///
/// A call alone on an idle connection writes its request and reads its
/// reply itself, in its own task. The driver does the rest: it runs the
/// socket whenever calls overlap, reads the replies of calls that were
/// cancelled, and notices the socket's end. A runtime adapter spawns it; with
/// [`Connection::from_stream`](crate::Connection::from_stream) the caller
/// spawns it, and it must be polled for concurrent calls to complete. It
/// completes when the connection closes: every handle dropped and every call
/// answered, the server gone, an I/O error, a protocol violation, or after
/// `quit`. Dropping it before then fails every call still on the socket
/// with [`Error::ConnectionClosed`](crate::Error::ConnectionClosed).
#[must_use = "the connection does nothing unless its driver is polled"]
pub struct Driver<T> {
    engine: Arc<Engine<T>>,
}

impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Driver<T> {
    /// The driver of `io`, whose requests come from `shared`.
    pub(crate) fn new(io: T, shared: Arc<Shared>, decoder: ResponseDecoder) -> Self {
        let engine = Arc::new(Engine::new(Wire::new(io, shared.clone(), decoder)));
        let weak = Arc::downgrade(&engine);
        shared.set_engine(weak as std::sync::Weak<dyn Drive>);
        Driver { engine }
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> Future for Driver<T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.engine.poll_background(cx)
    }
}

impl<T> Drop for Driver<T> {
    fn drop(&mut self) {
        // Its runtime shut down, or its owner dropped it: no caller may be
        // left waiting on a socket that nobody will drive again.
        self.engine.stop();
    }
}

impl<T> std::fmt::Debug for Driver<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver").finish_non_exhaustive()
    }
}
