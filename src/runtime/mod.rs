//! What memclient needs from an async runtime, and the adapters that provide it.
//!
//! The core never names a runtime: a [`Connection`](crate::Connection) asks its
//! [`Runtime`] to spawn its driver, to sleep for timeouts and for the time
//! ([`Runtime::now`], so a test runtime can drive the clock), and a
//! [`Transport`] to open sockets. Each adapter is one small file behind a
//! cargo feature. This is the bottom layer: nothing here names a client or a
//! configuration ([`Config`](crate::Config) builds on it).

mod address;
#[cfg(feature = "async-std")]
pub mod async_std;
#[cfg(any(feature = "smol", feature = "async-std"))]
mod open;
#[cfg(feature = "smol")]
pub mod smol;
mod stream;
mod timeout;
#[cfg(feature = "tokio")]
pub mod tokio;

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::time::Duration;

pub use address::{Address, Endpoint, DEFAULT_PORT};
#[cfg(any(feature = "smol", feature = "async-std"))]
pub(crate) use open::open_socket;
pub use stream::{AnyStream, Stream};
pub(crate) use timeout::timeout;

/// A boxed, sendable future: what the runtime traits pass around.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Spawning, sleeping and the time: all the core asks of a runtime.
pub trait Runtime: Send + Sync + 'static {
    /// Runs `future` to completion in the background.
    fn spawn(&self, future: BoxFuture<'static, ()>);
    /// A future that completes after `duration`.
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()>;
    /// The current time, for deadlines and ages; a test runtime may drive it.
    fn now(&self) -> std::time::Instant {
        std::time::Instant::now()
    }
}

impl Runtime for std::sync::Arc<dyn Runtime> {
    fn spawn(&self, future: BoxFuture<'static, ()>) {
        (**self).spawn(future)
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        (**self).sleep(duration)
    }

    fn now(&self) -> std::time::Instant {
        (**self).now()
    }
}

/// A runtime that can also open connections to memcached.
pub trait Transport: Runtime + Clone {
    /// The byte stream of one connection (TCP or UNIX socket).
    type Stream: futures_io::AsyncRead + futures_io::AsyncWrite + Unpin + Send + 'static;

    /// Opens a connection to `address` with the given socket options.
    ///
    /// The adapters of this crate also run the TLS handshake when
    /// `options.tls` is set (feature `tls`), and name the server in their
    /// errors; a transport of your own that cannot speak TLS must fail when
    /// `options.tls` is set rather than connect in plain text.
    fn connect(
        &self,
        address: &Address,
        options: &SocketOptions,
    ) -> BoxFuture<'static, io::Result<Self::Stream>>;
}

/// How each TCP socket is opened: its options and, with the `tls` feature,
/// its TLS session (ignored for UNIX sockets, except that TLS over one is refused).
///
/// Every options type of memclient has the same shape: public fields, and a
/// by-value setter named like each field that sets exactly that field.
///
/// ```
/// use std::time::Duration;
/// use memclient::runtime::SocketOptions;
///
/// let socket = SocketOptions::new()
///     .keepalive(Some(Duration::from_secs(30)))
///     .keepalive_count(Some(4));
/// assert!(socket.nodelay);
/// assert_eq!(socket.keepalive, Some(Duration::from_secs(30)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SocketOptions {
    /// Disable Nagle's algorithm, so small requests leave at once. On by default.
    pub nodelay: bool,
    /// Enable TCP keepalive with this idle time before the first probe
    /// (TCP_KEEPIDLE). Off by default.
    pub keepalive: Option<Duration>,
    /// With keepalive on: the time between unanswered probes (TCP_KEEPINTVL).
    /// `None`: the OS default (75 s on Linux).
    pub keepalive_interval: Option<Duration>,
    /// With keepalive on: how many unanswered probes drop the connection
    /// (TCP_KEEPCNT). `None`: the OS default (9 on Linux).
    pub keepalive_count: Option<u32>,
    /// TLS settings: `Some` runs a TLS handshake on every new TCP socket.
    #[cfg(feature = "tls")]
    pub tls: Option<crate::tls::TlsConfig>,
}

impl Default for SocketOptions {
    fn default() -> Self {
        SocketOptions {
            nodelay: true,
            keepalive: None,
            keepalive_interval: None,
            keepalive_count: None,
            #[cfg(feature = "tls")]
            tls: None,
        }
    }
}

impl SocketOptions {
    /// Options with every default.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets [`nodelay`](Self::nodelay).
    pub fn nodelay(mut self, on: bool) -> Self {
        self.nodelay = on;
        self
    }

    /// Sets [`keepalive`](Self::keepalive).
    pub fn keepalive(mut self, idle: Option<Duration>) -> Self {
        self.keepalive = idle;
        self
    }

    /// Sets [`keepalive_interval`](Self::keepalive_interval).
    pub fn keepalive_interval(mut self, interval: Option<Duration>) -> Self {
        self.keepalive_interval = interval;
        self
    }

    /// Sets [`keepalive_count`](Self::keepalive_count).
    pub fn keepalive_count(mut self, count: Option<u32>) -> Self {
        self.keepalive_count = count;
        self
    }

    /// Sets [`tls`](Self::tls) (feature `tls`).
    #[cfg(feature = "tls")]
    pub fn tls(mut self, tls: Option<crate::tls::TlsConfig>) -> Self {
        self.tls = tls;
        self
    }
}

/// How a connection to `address` on `transport` (re)opens its socket, the
/// stream type erased to [`AnyStream`].
pub(crate) fn connector<R: Transport>(
    address: &Address,
    transport: R,
    socket: SocketOptions,
) -> impl crate::Connect<AnyStream> {
    let address = address.clone();
    move || -> BoxFuture<'static, io::Result<AnyStream>> {
        let opening = transport.connect(&address, &socket);
        Box::pin(async move { opening.await.map(AnyStream::new) })
    }
}

/// Finishes opening a socket for an adapter: names a failure after the
/// server, and runs the TLS handshake when the options ask for it.
#[cfg(any(feature = "smol", feature = "async-std", feature = "tokio"))]
pub(crate) async fn finish_connect<Tcp, Unix>(
    opened: io::Result<Stream<Tcp, Unix>>,
    address: &Address,
    options: &SocketOptions,
) -> io::Result<Stream<Tcp, Unix>>
where
    Tcp: futures_io::AsyncRead + futures_io::AsyncWrite + Unpin,
{
    let stream = opened.map_err(|error| name_error(address, error))?;
    #[cfg(feature = "tls")]
    if let Some(tls) = &options.tls {
        return stream.start_tls(tls, address).await;
    }
    let _ = options;
    Ok(stream)
}

/// `error` with the server's address in its message (its kind kept), so an
/// outage says which server is out.
pub fn name_error(address: &Address, error: io::Error) -> io::Error {
    let already_named = error
        .get_ref()
        .is_some_and(|inner| inner.is::<crate::error::TlsFailure>());
    if already_named {
        return error;
    }
    io::Error::new(error.kind(), format!("{address}: {error}"))
}

/// Applies `options` to a connected TCP socket.
#[cfg(any(feature = "smol", feature = "async-std", feature = "tokio"))]
pub(crate) fn apply_socket_options<S: std::os::fd::AsFd>(
    socket: &S,
    options: &SocketOptions,
) -> io::Result<()> {
    let socket = socket2::SockRef::from(socket);
    socket.set_nodelay(options.nodelay)?;
    if let Some(idle) = options.keepalive {
        let mut keepalive = socket2::TcpKeepalive::new().with_time(idle);
        if let Some(interval) = options.keepalive_interval {
            keepalive = keepalive.with_interval(interval);
        }
        if let Some(count) = options.keepalive_count {
            keepalive = keepalive.with_retries(count);
        }
        socket.set_tcp_keepalive(&keepalive)?;
    }
    Ok(())
}

#[cfg(all(test, any(feature = "smol", feature = "async-std", feature = "tokio")))]
mod tests {
    use super::*;

    #[test]
    fn socket_options_reach_the_socket() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let stream = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let options = SocketOptions {
            keepalive: Some(Duration::from_secs(42)),
            keepalive_interval: Some(Duration::from_secs(7)),
            keepalive_count: Some(3),
            ..SocketOptions::default()
        };
        apply_socket_options(&stream, &options).unwrap();
        let socket = socket2::SockRef::from(&stream);
        assert!(socket.nodelay().unwrap());
        assert!(socket.keepalive().unwrap());
        assert_eq!(socket.keepalive_time().unwrap(), Duration::from_secs(42));
        assert_eq!(socket.keepalive_interval().unwrap(), Duration::from_secs(7));
        assert_eq!(socket.keepalive_retries().unwrap(), 3);
        apply_socket_options(
            &stream,
            &SocketOptions {
                nodelay: false,
                ..SocketOptions::default()
            },
        )
        .unwrap();
        assert!(!socket.nodelay().unwrap());
    }

    #[test]
    fn errors_name_their_server() {
        let address: Address = "10.1.2.3:4567".parse().unwrap();
        let named = name_error(&address, io::ErrorKind::ConnectionRefused.into());
        assert_eq!(named.kind(), io::ErrorKind::ConnectionRefused);
        assert!(named.to_string().starts_with("10.1.2.3:4567: "), "{named}");
    }
}
