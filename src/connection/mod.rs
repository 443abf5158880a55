//! [`Connection`]: one memcached server, shared by any number of tasks.

mod budget;
mod call;
mod deadline;
mod driver;
mod driving;
pub(crate) mod events;
mod options;
mod overdue;
mod reconnect;
mod shared;
mod slot;
mod waker;
mod watch;
mod wire;

use std::future::Future;
use std::io;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Instant;

use futures_io::{AsyncRead, AsyncWrite};

use budget::{Budget, CallsPermit};
use call::{CallGuard, Slots};
use deadline::SharedTimer;
pub use driver::Driver;
pub use options::{ConnectionOptions, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT};
use reconnect::Reconnect;
use shared::{Shared, Submitted};
use slot::{CallSlot, SlotPool};

use crate::proto::ResponseDecoder;
pub(crate) use crate::runtime::timeout;
use crate::runtime::{connector, Address, AnyStream, BoxFuture, Runtime, Transport};
use crate::{Backend, Error, Request, Response, Result};

/// Opens a new transport: how a connection reconnects.
pub trait Connect<T>: Send + Sync + 'static {
    /// Opens one transport. Resolves to a [`std::io::Result`], not memclient's [`Result`](crate::Result).
    fn connect(&self) -> BoxFuture<'static, io::Result<T>>;
}

impl<T, F> Connect<T> for F
where
    F: Fn() -> BoxFuture<'static, io::Result<T>> + Send + Sync + 'static,
{
    fn connect(&self) -> BoxFuture<'static, io::Result<T>> {
        self()
    }
}

impl<T: 'static> Connect<T> for Arc<dyn Connect<T>> {
    fn connect(&self) -> BoxFuture<'static, io::Result<T>> {
        (**self).connect()
    }
}

/// A pipelined connection to one memcached server.
///
/// Cheap to clone; every clone shares the one socket. Calls from concurrent
/// tasks are queued, written in batches and answered in order, so one
/// connection serves many tasks at once.
///
/// A call alone on an idle connection drives the socket itself: it writes
/// its request and reads its reply in its own task, so a lone call costs one
/// write and one read, as a hand-written loop would. The socket's [`Driver`]
/// future, which the runtime runs in the background, drives it whenever
/// calls overlap (it takes the socket over as soon as another call queues,
/// so a call its owner set aside holds up no other) and reads what a call
/// leaves behind (the reply of one cancelled on the way).
///
/// A connection made with [`Connection::new`] or [`Connection::connect`]
/// reconnects on the next call after an I/O error, a protocol violation, the
/// server closing the socket, `quit`, or an overdue reply (below). Callers
/// that find the socket broken share one connect attempt, each waiting
/// within its own call timeout. One made with [`Connection::from_stream`]
/// cannot: once its stream is gone it answers the error that ended it ([`Error::ConnectionClosed`] at EOF, or the stream's own [`Error::Io`], e.g. `BrokenPipe`).
///
/// # Overdue replies retire the socket
///
/// memcached answers in order and the classic protocol carries no request
/// id, so the client matches replies to requests by position. A reply that
/// never comes would shift every later one onto the wrong caller. Hence the
/// rule: when a call times out after its request was written, or is
/// cancelled and its reply has not come by the end of its timeout, the
/// socket is *retired*. It is closed; every other call still queued or
/// waiting on it fails at once with [`Error::ConnectionRetired`] (retryable,
/// never a wrong answer); the next call opens a new socket. A call that times
/// out or is cancelled before its request was written is simply dropped from
/// the queue, and its request freed. With `timeout: None` no socket is
/// retired for a late reply.
///
/// A write whose call timed out or was cancelled after it was written has
/// an unknown outcome, as in any client: memcached may have applied it, may
/// never see it, or may apply it late. Its bytes can still be in the retired
/// socket's buffers when a later write goes out on the new socket, so the
/// older value can land last. Read it back (or use `cas`) when that matters.
///
/// # Bounded queue
///
/// At most [`max_in_flight`](ConnectionOptions::max_in_flight) calls and
/// [`max_queued_bytes`](ConnectionOptions::max_queued_bytes) of unwritten
/// requests are held at once; a caller beyond that waits for room, within its
/// timeout.
///
/// # The stream type
///
/// `T` is the socket's type. It defaults to [`AnyStream`], which every
/// connection opened from an address ([`Config`](crate::Config),
/// [`Connection::connect`]) uses, so the handle is named `Connection`
/// whatever the runtime or TLS; a connection over a stream of your own
/// ([`Connection::from_stream`], [`Connection::new`]) keeps its type.
pub struct Connection<T = AnyStream> {
    inner: Arc<Inner<T>>,
}

struct Inner<T> {
    current: Mutex<Option<Arc<Shared>>>,
    reconnect: Option<Reconnect<T>>,
    budget: Arc<Budget>,
    /// The timer the calls' deadlines share (see `deadline.rs`).
    timer: SharedTimer,
    /// Slots of finished calls, for the next calls.
    slots: SlotPool,
    options: ConnectionOptions,
    /// Set by `close`: no call is made and no socket opened after it.
    closed: AtomicBool,
    _transport: PhantomData<fn() -> T>,
}

impl<T> Clone for Connection<T> {
    fn clone(&self) -> Self {
        Connection {
            inner: self.inner.clone(),
        }
    }
}

impl<T> std::fmt::Debug for Connection<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("options", &self.inner.options)
            .finish_non_exhaustive()
    }
}

impl<T> Drop for Inner<T> {
    fn drop(&mut self) {
        if let Some(shared) = self.current.get_mut().ok().and_then(|s| s.take()) {
            shared.abandon();
        }
    }
}

impl<T> Connection<T>
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    /// A connection over `stream`, without reconnection or timeouts. The
    /// returned [`Driver`] must be spawned (or otherwise polled) for
    /// concurrent calls to complete; a call alone on the connection is
    /// answered even before it runs. Dropping it closes the connection.
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// use memclient::{Client, Connection};
    /// use memclient_mock::MockMemcache;
    ///
    /// let server = MockMemcache::new();
    /// let (connection, driver) = Connection::from_stream(server.connect());
    /// let driver = std::thread::spawn(move || futures_lite::future::block_on(driver));
    /// let client = Client::new(connection);
    /// client.set("k", "v").await?;
    /// assert_eq!(client.get("k").await?.and_then(|v| v.as_str().map(str::to_owned)), Some("v".into()));
    /// client.close().await;
    /// driver.join().unwrap();
    /// # Ok::<_, memclient::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn from_stream(stream: T) -> (Self, Driver<T>) {
        Self::from_stream_with(stream, ConnectionOptions::default())
    }

    /// [`Connection::from_stream`] with options (`max_reply_len`,
    /// `max_in_flight` and `max_queued_bytes` apply; timeouts need a runtime).
    pub fn from_stream_with(stream: T, options: ConnectionOptions) -> (Self, Driver<T>) {
        let shared = Arc::new(Shared::default());
        let driver = Driver::new(
            stream,
            shared.clone(),
            ResponseDecoder::with_max_reply_len(options.max_reply_len),
        );
        let connection = Connection {
            inner: Arc::new(Inner {
                current: Mutex::new(Some(shared)),
                reconnect: None,
                budget: Budget::new(options.max_in_flight, options.max_queued_bytes),
                timer: SharedTimer::default(),
                slots: SlotPool::default(),
                options,
                closed: AtomicBool::new(false),
                _transport: PhantomData,
            }),
        };
        (connection, driver)
    }

    /// A connection that opens its socket with `connector` on first use, and
    /// again after the socket fails. `runtime` spawns the driver and times the
    /// timeouts.
    pub fn new(
        connector: impl Connect<T>,
        runtime: impl Runtime,
        options: ConnectionOptions,
    ) -> Self {
        Self::sharing(connector, runtime, options, None)
    }

    /// [`Connection::new`], whose replies in progress are charged to
    /// `reply_budget` as well (a pool's, shared by its connections).
    pub(crate) fn sharing(
        connector: impl Connect<T>,
        runtime: impl Runtime,
        options: ConnectionOptions,
        reply_budget: Option<Arc<crate::proto::SharedReplyBudget>>,
    ) -> Self {
        let reconnect = Reconnect::new(Box::new(connector), Arc::new(runtime), reply_budget);
        Connection {
            inner: Arc::new(Inner {
                current: Mutex::new(None),
                reconnect: Some(reconnect),
                budget: Budget::new(options.max_in_flight, options.max_queued_bytes),
                timer: SharedTimer::default(),
                slots: SlotPool::default(),
                options,
                closed: AtomicBool::new(false),
                _transport: PhantomData,
            }),
        }
    }

    /// The options this connection was made with.
    pub fn options(&self) -> &ConnectionOptions {
        &self.inner.options
    }

    /// Closes the connection: calls in flight fail with
    /// [`Error::ConnectionClosed`], the socket closes, and every later call
    /// fails with [`Error::Closed`] (it never reconnects). Every clone is closed.
    pub async fn close(&self) {
        self.inner.closed.store(true, Ordering::SeqCst);
        // A reconnect under way sees the flag when it would install its
        // socket (under the same lock), and closes that socket itself.
        let current = self
            .inner
            .current
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(shared) = current {
            shared.abandon();
        }
    }

    /// True once [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.inner.closed.load(Ordering::SeqCst)
    }

    /// The live queue of the current socket, opening a socket if there is
    /// none, for a call that times out at `deadline`.
    async fn shared(&self, deadline: Option<Instant>) -> Result<Arc<Shared>> {
        if self.is_closed() {
            return Err(Error::Closed);
        }
        if let Some(shared) = self.live() {
            return Ok(shared);
        }
        let Some(reconnect) = &self.inner.reconnect else {
            let last = self
                .inner
                .current
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone();
            return Err(last
                .and_then(|shared| shared.closed_error())
                .unwrap_or(Error::ConnectionClosed));
        };
        let shared = reconnect.connect(&self.inner.options, deadline).await?;
        let mut current = self.inner.current.lock().unwrap_or_else(|p| p.into_inner());
        if self.is_closed() {
            drop(current);
            shared.abandon();
            return Err(Error::Closed);
        }
        // Every waiter of the attempt gets the same socket; the first installs
        // it. A later attempt's live socket is never replaced by this one.
        let stale = current.as_ref().map_or(true, |old| old.is_closed());
        if stale {
            *current = Some(shared.clone());
        }
        Ok(shared)
    }

    fn live(&self) -> Option<Arc<Shared>> {
        let current = self.inner.current.lock().unwrap_or_else(|p| p.into_inner());
        current
            .as_ref()
            .filter(|shared| !shared.is_closed())
            .cloned()
    }

    /// Runs one call or batch: room in the queue (`admit`, which makes the
    /// call's slots), a live socket, the replies, all within the call
    /// timeout; `collect` takes the replies from their slots. What giving up
    /// means is `CallGuard`'s.
    async fn run<Out>(
        &self,
        admit: impl Future<Output = (CallsPermit, Slots)>,
        collect: impl FnOnce(&[Arc<CallSlot>]) -> Out,
    ) -> Result<Out> {
        let runtime = self.inner.reconnect.as_ref().map(|r| &r.runtime);
        let mut guard = CallGuard::new(runtime, self.inner.options.timeout);
        let (deadline, started) = (guard.deadline(), guard.started());
        let work = async {
            let (calls, slots) = admit.await;
            guard.hold(calls, slots);
            self.submit(&mut guard).await?;
            // One deadline for the whole batch: the replies arrive in order.
            std::future::poll_fn(|cx| guard.poll_replies(cx)).await;
            Ok(collect(guard.slots()))
        };
        let outcome = match (runtime, deadline, started) {
            (Some(runtime), Some(deadline), Some(started)) => {
                let mut work = std::pin::pin!(work);
                let mut expiry =
                    std::pin::pin!(self.inner.timer.until(&**runtime, deadline, started));
                // The work first: a reply that is in wins over a timer that
                // fired meanwhile.
                std::future::poll_fn(|cx| {
                    if let Poll::Ready(output) = work.as_mut().poll(cx) {
                        return Poll::Ready(Ok(output));
                    }
                    let limit = self.inner.options.timeout.unwrap_or_default();
                    expiry
                        .as_mut()
                        .poll(cx)
                        .map(|()| Err(Error::Timeout(limit)))
                })
                .await
            }
            _ => Ok(work.await),
        };
        match outcome {
            Ok(replies) => {
                guard.finish(&self.inner.slots);
                replies
            }
            Err(error) => {
                guard.timed_out();
                Err(error)
            }
        }
    }

    /// Queues the guard's requests on a live socket; tries a new one if the
    /// socket died before the driver took them (they were never written, so
    /// that is safe).
    async fn submit(&self, guard: &mut CallGuard) -> Result<()> {
        // A socket can be retired between the look and the queueing; a few
        // tries, not an endless loop, if sockets keep dying that fast.
        for _ in 0..3 {
            let shared = self.shared(guard.deadline()).await?;
            // A call alone on the connection drives the socket itself;
            // others queue for whoever drives it.
            let driving = match shared.submit(guard.slots(), guard.alone()) {
                Submitted::Driving(engine, claim) => Some((engine, claim)),
                Submitted::Queued => None,
                Submitted::Refused => {
                    if self.inner.reconnect.is_none() {
                        break;
                    }
                    continue;
                }
            };
            guard.queued_on(shared, driving);
            return Ok(());
        }
        let last = self.inner.current.lock().unwrap_or_else(|p| p.into_inner());
        Err(last
            .as_ref()
            .and_then(|shared| shared.closed_error())
            .unwrap_or(Error::ConnectionClosed))
    }
}

impl Connection {
    /// Opens a connection to `address` on the runtime `transport`, and waits
    /// until the socket is connected, so a wrong address fails here. Its
    /// socket (and every later one) is `transport`'s, seen as an
    /// [`AnyStream`]. [`Config::connect`](crate::Config::connect) is the
    /// usual way: it also parses `tls://` addresses and sets the client options.
    pub async fn connect<R: Transport>(
        address: &Address,
        transport: R,
        options: ConnectionOptions,
    ) -> Result<Self> {
        let connect = connector(address, transport.clone(), options.socket.clone());
        let connection = Connection::new(connect, transport, options);
        connection.shared(None).await?;
        Ok(connection)
    }
}

impl<T> Backend for Connection<T>
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    async fn call(&self, request: Request) -> Result<Response> {
        request.validate()?;
        // One request, and no allocation of the connection's own: its slot
        // is a finished call's, or new when none is free.
        let budget = &self.inner.budget;
        let admit = async {
            let (calls, bytes) = budget.admit_one(&request).await;
            (calls, Slots::One([self.inner.slots.slot(request, bytes)]))
        };
        self.run(admit, |slots| slots[0].take_reply()).await?
    }

    async fn call_many(&self, requests: Vec<Request>) -> Vec<Result<Response>> {
        if let Some(error) = requests.iter().find_map(|r| r.validate().err()) {
            return vec![Err(error); requests.len()];
        }
        let count = requests.len();
        let budget = &self.inner.budget;
        let admit = async {
            let (calls, permits) = budget.admit(&requests).await;
            // Finished calls' slots first, as for one request.
            let slots = requests
                .into_iter()
                .zip(permits)
                .map(|(request, permit)| self.inner.slots.slot(request, permit))
                .collect();
            (calls, Slots::Many(slots))
        };
        let collect =
            |slots: &[Arc<CallSlot>]| slots.iter().map(|slot| slot.take_reply()).collect();
        match self.run(admit, collect).await {
            Ok(replies) => replies,
            Err(error) => vec![Err(error); count],
        }
    }

    async fn close(&self) {
        Connection::close(self).await
    }
}
