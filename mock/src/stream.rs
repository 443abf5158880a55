//! [`MockStream`]: an in-memory connection to the mock, for clients that take
//! any `AsyncRead + AsyncWrite` transport.

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use async_io::Timer;
use bytes::{Buf, Bytes, BytesMut};
use futures_io::{AsyncRead, AsyncWrite};

use crate::conn::ConnHandle;
use crate::session::Session;
use crate::MockMemcache;

/// An in-memory connection served by the mock's protocol codec.
///
/// Writes are parsed and answered at once; the replies wait on the read side
/// (after the mock's latency, if one is set). No runtime is needed: a reader
/// waiting for data is woken by the write that produces it, or by
/// [`MockMemcache::drop_connections`].
///
/// Once the server side is closed (`quit`, a dropped-connection fault,
/// [`MockMemcache::drop_connections`]) reads see EOF after what was written
/// before, and writes are taken and discarded, as a kernel takes a write to a
/// peer that has closed: a memclient connection over this stream then
/// answers [`Error::ConnectionClosed`](memclient::Error::ConnectionClosed),
/// as it does when memcached closes a socket.
pub struct MockStream {
    mock: MockMemcache,
    handle: Arc<ConnHandle>,
    session: Session,
    /// Reply chunks and the instant each may be read.
    output: VecDeque<(Instant, Bytes)>,
    /// Waits for the first chunk's instant when a latency is set.
    timer: Option<Timer>,
    /// The server closed the connection (`quit`, a dropped-connection fault):
    /// reads drain what was written before, then see EOF.
    closing: bool,
}

impl std::fmt::Debug for MockStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockStream")
            .field(
                "pending_output",
                &self.output.iter().map(|(_, b)| b.len()).sum::<usize>(),
            )
            .field("closing", &self.closing)
            .finish()
    }
}

impl MockStream {
    pub(crate) fn new(mock: MockMemcache) -> Self {
        let handle = mock.shared.registry.register(None);
        let session = Session::new(&mock);
        Self {
            mock,
            handle,
            session,
            output: VecDeque::new(),
            timer: None,
            closing: false,
        }
    }
}

impl AsyncRead for MockStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        loop {
            if this.handle.is_dropped() {
                return Poll::Ready(Ok(0));
            }
            if let Some((ready_at, chunk)) = this.output.front_mut() {
                if *ready_at > Instant::now() {
                    let at = *ready_at;
                    let timer = this.timer.get_or_insert_with(|| Timer::at(at));
                    if Pin::new(timer).poll(cx).is_pending() {
                        this.handle.set_waker(cx.waker());
                        return Poll::Pending;
                    }
                    this.timer = None;
                    continue;
                }
                let n = chunk.len().min(buf.len());
                buf[..n].copy_from_slice(&chunk[..n]);
                chunk.advance(n);
                if chunk.is_empty() {
                    this.output.pop_front();
                }
                return Poll::Ready(Ok(n));
            }
            if this.closing {
                return Poll::Ready(Ok(0));
            }
            this.handle.set_waker(cx.waker());
            // A drop may have raced with the registration.
            if this.handle.is_dropped() {
                return Poll::Ready(Ok(0));
            }
            return Poll::Pending;
        }
    }
}

impl AsyncWrite for MockStream {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.handle.is_dropped() || this.closing {
            // The server side is gone: the bytes go nowhere, and the reader
            // sees EOF (a real socket fails only later, with a reset).
            this.handle.wake();
            return Poll::Ready(Ok(buf.len()));
        }
        let mut out = BytesMut::new();
        let open = this.session.feed(&this.mock, buf, &mut out, &mut || {});
        if !out.is_empty() {
            let now = Instant::now();
            let ready_at = now
                .checked_add(this.mock.shared.faults.latency())
                .unwrap_or(now + std::time::Duration::from_secs(86_400 * 365));
            this.output.push_back((ready_at, out.freeze()));
        }
        if !open {
            this.closing = true;
        }
        this.handle.wake();
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.closing = true;
        this.handle.wake();
        Poll::Ready(Ok(()))
    }
}
