//! What memclient needs from an async runtime, and the adapters that provide it.
//!
//! The core never names a runtime: a [`Connection`](crate::Connection) asks its
//! [`Runtime`] to spawn its driver and to sleep for timeouts, and a [`Transport`]
//! to open sockets. Each adapter is one small file behind a cargo feature.

mod address;
#[cfg(feature = "async-std")]
pub mod async_std;
#[cfg(feature = "smol")]
pub mod smol;
mod stream;
#[cfg(feature = "tokio")]
pub mod tokio;

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::time::Duration;

pub use address::{Address, DEFAULT_PORT};
pub use stream::Stream;

/// A boxed, sendable future: what the runtime traits pass around.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Spawning and sleeping: all the core asks of a runtime.
pub trait Runtime: Send + Sync + 'static {
    /// Runs `future` to completion in the background.
    fn spawn(&self, future: BoxFuture<'static, ()>);
    /// A future that completes after `duration`.
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()>;
}

impl Runtime for std::sync::Arc<dyn Runtime> {
    fn spawn(&self, future: BoxFuture<'static, ()>) {
        (**self).spawn(future)
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        (**self).sleep(duration)
    }
}

/// A runtime that can also open connections to memcached.
pub trait Transport: Runtime + Clone {
    /// The byte stream of one connection (TCP or UNIX socket).
    type Stream: futures_io::AsyncRead + futures_io::AsyncWrite + Unpin + Send + 'static;

    /// Opens a connection to `address` with the given socket options.
    fn connect(
        &self,
        address: &Address,
        options: &SocketOptions,
    ) -> BoxFuture<'static, io::Result<Self::Stream>>;
}

/// Options applied to each TCP socket when it is opened (ignored for UNIX sockets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketOptions {
    /// Disable Nagle's algorithm, so small requests leave at once. On by default.
    pub nodelay: bool,
    /// Enable TCP keepalive with this idle time before the first probe. Off by default.
    pub keepalive: Option<Duration>,
}

impl Default for SocketOptions {
    fn default() -> Self {
        SocketOptions {
            nodelay: true,
            keepalive: None,
        }
    }
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
        socket.set_tcp_keepalive(&socket2::TcpKeepalive::new().with_time(idle))?;
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
            nodelay: true,
            keepalive: Some(Duration::from_secs(42)),
        };
        apply_socket_options(&stream, &options).unwrap();
        let socket = socket2::SockRef::from(&stream);
        assert!(socket.nodelay().unwrap());
        assert!(socket.keepalive().unwrap());
        assert_eq!(socket.keepalive_time().unwrap(), Duration::from_secs(42));
        apply_socket_options(
            &stream,
            &SocketOptions {
                nodelay: false,
                keepalive: None,
            },
        )
        .unwrap();
        assert!(!socket.nodelay().unwrap());
    }
}
