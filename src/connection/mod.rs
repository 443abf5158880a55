//! [`Connection`]: one memcached server, shared by any number of tasks.

mod driver;
mod shared;

use std::future::Future;
use std::io;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_channel::oneshot;
use futures_io::{AsyncRead, AsyncWrite};

pub use driver::Driver;
use shared::{Pending, Shared};

use crate::proto::ResponseDecoder;
use crate::runtime::{Address, BoxFuture, Runtime, SocketOptions, Transport};
use crate::{Backend, Error, Request, Response, Result};

/// Options of a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectionOptions {
    /// The longest a connect may take. `None`: no limit beyond the OS's own.
    pub connect_timeout: Option<Duration>,
    /// The longest a call may wait for its reply. `None`: no limit. A call that
    /// times out returns [`Error::Timeout`]; its reply is read and discarded
    /// when it comes, so it never reaches another call.
    pub timeout: Option<Duration>,
    /// TCP options applied to each new socket.
    pub socket: SocketOptions,
    /// The largest data block accepted in a reply; a larger one is a protocol
    /// error (a hostile or broken server cannot make the client buffer without bound).
    pub max_value_len: usize,
}

impl Default for ConnectionOptions {
    fn default() -> Self {
        ConnectionOptions {
            connect_timeout: Some(Duration::from_secs(5)),
            timeout: None,
            socket: SocketOptions::default(),
            max_value_len: 1 << 30,
        }
    }
}

/// Opens a new transport: how a connection reconnects.
pub trait Connect<T>: Send + Sync + 'static {
    /// Opens one transport.
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
/// connection serves many tasks at once. The socket is owned by a [`Driver`]
/// future running on the runtime.
///
/// A connection made with [`Connection::new`] or [`Connection::connect`]
/// reconnects on the next call after an I/O error, a protocol violation, the
/// server closing the socket, or `quit`. One made with
/// [`Connection::from_stream`] cannot: it answers [`Error::ConnectionClosed`]
/// once its stream is gone.
pub struct Connection<T> {
    inner: Arc<Inner<T>>,
}

struct Inner<T> {
    current: Mutex<Option<Arc<Shared>>>,
    /// Serialises reconnects, so concurrent callers open one socket, not many.
    reconnecting: async_lock::Mutex<()>,
    reconnect: Option<Reconnect<T>>,
    options: ConnectionOptions,
    /// Set by `close`: no call is made and no socket opened after it.
    closed: AtomicBool,
    _transport: PhantomData<fn() -> T>,
}

struct Reconnect<T> {
    connector: Box<dyn Connect<T>>,
    runtime: Arc<dyn Runtime>,
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
    /// returned [`Driver`] must be spawned (or otherwise polled) for any call to
    /// complete.
    pub fn from_stream(stream: T) -> (Self, Driver<T>) {
        Self::from_stream_with(stream, ConnectionOptions::default())
    }

    /// [`Connection::from_stream`] with options (only `max_value_len` applies:
    /// timeouts need a runtime).
    pub fn from_stream_with(stream: T, options: ConnectionOptions) -> (Self, Driver<T>) {
        let shared = Arc::new(Shared::default());
        let driver = Driver::new(
            stream,
            shared.clone(),
            ResponseDecoder::with_max_value_len(options.max_value_len),
        );
        let connection = Connection {
            inner: Arc::new(Inner {
                current: Mutex::new(Some(shared)),
                reconnecting: async_lock::Mutex::new(()),
                reconnect: None,
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
        Connection {
            inner: Arc::new(Inner {
                current: Mutex::new(None),
                reconnecting: async_lock::Mutex::new(()),
                reconnect: Some(Reconnect {
                    connector: Box::new(connector),
                    runtime: Arc::new(runtime),
                }),
                options,
                closed: AtomicBool::new(false),
                _transport: PhantomData,
            }),
        }
    }

    /// Opens a connection to `address` on the runtime `transport`, and waits
    /// until the socket is connected, so a wrong address fails here.
    pub async fn connect<R>(
        address: &Address,
        transport: R,
        options: ConnectionOptions,
    ) -> Result<Self>
    where
        R: Transport<Stream = T>,
    {
        let connector = {
            let address = address.clone();
            let socket = options.socket.clone();
            let transport = transport.clone();
            move || transport.connect(&address, &socket)
        };
        let connection = Connection::new(connector, transport, options);
        connection.shared().await?;
        Ok(connection)
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
        // A reconnect under way finishes first, so its socket is closed too.
        let _no_reconnect = self.inner.reconnecting.lock().await;
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

    /// The live queue of the current socket, opening a socket if there is none.
    async fn shared(&self) -> Result<Arc<Shared>> {
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
        let _one_at_a_time = self.inner.reconnecting.lock().await;
        if self.is_closed() {
            return Err(Error::Closed);
        }
        // Another caller may have reconnected while this one waited.
        if let Some(shared) = self.live() {
            return Ok(shared);
        }
        let stream = timeout(
            &*reconnect.runtime,
            self.inner.options.connect_timeout,
            reconnect.connector.connect(),
        )
        .await??;
        let shared = Arc::new(Shared::default());
        let driver = Driver::new(
            stream,
            shared.clone(),
            ResponseDecoder::with_max_value_len(self.inner.options.max_value_len),
        );
        reconnect.runtime.spawn(Box::pin(driver));
        *self.inner.current.lock().unwrap_or_else(|p| p.into_inner()) = Some(shared.clone());
        Ok(shared)
    }

    fn live(&self) -> Option<Arc<Shared>> {
        let current = self.inner.current.lock().unwrap_or_else(|p| p.into_inner());
        current
            .as_ref()
            .filter(|shared| !shared.is_closed())
            .cloned()
    }

    /// Queues requests on a live socket; reconnects once if the socket died
    /// before the driver took them (they were never written, so that is safe).
    async fn submit(&self, pending: impl IntoIterator<Item = Pending> + Send) -> Result<()> {
        let shared = self.shared().await?;
        let back = match shared.submit(pending) {
            Ok(()) => return Ok(()),
            Err(back) => back,
        };
        let shared = self.shared().await?;
        shared.submit(back).map_err(|_| Error::ConnectionClosed)
    }

    /// Waits for one reply, within the call timeout.
    async fn reply(&self, receiver: oneshot::Receiver<Result<Response>>) -> Result<Response> {
        let receive = async { receiver.await.unwrap_or(Err(Error::ConnectionClosed)) };
        match &self.inner.reconnect {
            Some(reconnect) => {
                timeout(&*reconnect.runtime, self.inner.options.timeout, receive).await?
            }
            None => receive.await,
        }
    }
}

impl<T> Backend for Connection<T>
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    async fn call(&self, request: Request) -> Result<Response> {
        let (reply, receiver) = oneshot::channel();
        self.submit(std::iter::once(Pending { request, reply }))
            .await?;
        self.reply(receiver).await
    }

    async fn call_many(&self, requests: Vec<Request>) -> Vec<Result<Response>> {
        let count = requests.len();
        let mut receivers = Vec::with_capacity(count);
        let pending: Vec<Pending> = requests
            .into_iter()
            .map(|request| {
                let (reply, receiver) = oneshot::channel();
                receivers.push(receiver);
                Pending { request, reply }
            })
            .collect();
        if let Err(error) = self.submit(pending).await {
            return vec![Err(error); count];
        }
        // One deadline for the whole batch: the replies arrive in order.
        let all = futures_util::future::join_all(
            receivers
                .into_iter()
                .map(|receiver| async { receiver.await.unwrap_or(Err(Error::ConnectionClosed)) }),
        );
        match &self.inner.reconnect {
            Some(reconnect) => {
                match timeout(&*reconnect.runtime, self.inner.options.timeout, all).await {
                    Ok(replies) => replies,
                    Err(error) => vec![Err(error); count],
                }
            }
            None => all.await,
        }
    }

    async fn close(&self) {
        Connection::close(self).await
    }
}

/// Runs `future` for at most `limit`, timed by `runtime`.
pub(crate) async fn timeout<F: Future>(
    runtime: &dyn Runtime,
    limit: Option<Duration>,
    future: F,
) -> Result<F::Output> {
    let Some(limit) = limit else {
        return Ok(future.await);
    };
    let future = std::pin::pin!(future);
    match futures_util::future::select(future, runtime.sleep(limit)).await {
        futures_util::future::Either::Left((output, _)) => Ok(output),
        futures_util::future::Either::Right(((), _)) => Err(Error::Timeout(limit)),
    }
}
