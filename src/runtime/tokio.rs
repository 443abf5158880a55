//! The tokio adapter (feature `tokio`): tokio sockets seen through
//! tokio-util's compat layer as `futures_io` streams.

use std::io;
use std::time::Duration;

use tokio::net::{TcpStream, UnixStream};
use tokio::runtime::Handle;
use tokio_util::compat::{Compat, TokioAsyncReadCompatExt};

use super::{
    apply_socket_options, finish_connect, Address, BoxFuture, Runtime, SocketOptions, Transport,
};

/// A tokio runtime, passed as every runtime is: `connect(Tokio)`, as
/// `connect(Smol)` and `connect(AsyncStd)`.
///
/// The value [`Tokio`](constant@Tokio) uses the runtime of the task that
/// connects (and, later, of the task whose call reconnects): call it from
/// within a tokio runtime, or a connect fails with an I/O error saying so.
/// [`Tokio::current`] binds to the caller's runtime once, so drivers and
/// timers live on that runtime whichever thread later uses the client (it
/// panics outside a runtime, as [`Handle::current`] does);
/// [`Tokio::with_handle`] binds to a given one.
///
/// ```no_run
/// # async fn demo() -> memclient::Result<()> {
/// use memclient::{Config, tokio::Tokio};
///
/// let client = Config::new("127.0.0.1:11211").connect(Tokio).await?;
/// let pinned = Config::new("127.0.0.1:11211").connect(Tokio::current()).await?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Default)]
pub struct Tokio {
    /// `None`: the runtime of whichever task asks.
    handle: Option<Handle>,
}

/// The tokio runtime of the task that uses it; see [the type](struct@Tokio).
#[allow(non_upper_case_globals)]
pub const Tokio: Tokio = Tokio { handle: None };

impl Tokio {
    /// The runtime of the calling task, kept for every later use. Panics
    /// outside a tokio runtime, as [`Handle::current`] does; the value
    /// [`Tokio`](constant@Tokio) does not need one until it connects.
    pub fn current() -> Self {
        Tokio {
            handle: Some(Handle::current()),
        }
    }

    /// A given runtime.
    pub fn with_handle(handle: Handle) -> Self {
        Tokio {
            handle: Some(handle),
        }
    }

    /// The bound runtime, or the caller's.
    fn handle(&self) -> Option<Handle> {
        self.handle.clone().or_else(|| Handle::try_current().ok())
    }
}

/// Why the value `Tokio` cannot work here.
fn no_runtime() -> io::Error {
    io::Error::other(
        "memclient::tokio::Tokio used outside a tokio runtime: connect from within one, \
         or pass Tokio::with_handle(handle)",
    )
}

/// A tokio socket: TCP or UNIX, as a `futures_io` stream.
pub type Stream = super::Stream<Compat<TcpStream>, Compat<UnixStream>>;

impl Runtime for Tokio {
    fn spawn(&self, future: BoxFuture<'static, ()>) {
        // Drivers are spawned after a connect, which already needed a
        // runtime; only a misuse gets here without one.
        match self.handle() {
            Some(handle) => drop(handle.spawn(future)),
            None => panic!("{}", no_runtime()),
        }
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        // A tokio timer binds to the runtime it is created in; without a
        // bound runtime, to the one that first polls it.
        match self.handle() {
            Some(handle) => {
                let _runtime = handle.enter();
                Box::pin(tokio::time::sleep(duration))
            }
            None => Box::pin(async move { tokio::time::sleep(duration).await }),
        }
    }
}

impl Transport for Tokio {
    type Stream = Stream;

    fn connect(
        &self,
        address: &Address,
        options: &SocketOptions,
    ) -> BoxFuture<'static, io::Result<Stream>> {
        let address = address.clone();
        let options = options.clone();
        let handle = self.handle();
        Box::pin(async move {
            let handle = handle
                .or_else(|| Handle::try_current().ok())
                .ok_or_else(no_runtime)?;
            // Sockets register with the runtime that creates them.
            handle
                .spawn(async move {
                    let opened = async {
                        match &address {
                            Address::Tcp { host, port } => {
                                let stream = TcpStream::connect((host.as_str(), *port)).await?;
                                apply_socket_options(&stream, &options)?;
                                Ok(super::Stream::Tcp(stream.compat()))
                            }
                            Address::Unix(path) => Ok(super::Stream::Unix(
                                UnixStream::connect(path).await?.compat(),
                            )),
                        }
                    };
                    finish_connect(opened.await, &address, &options).await
                })
                .await
                .map_err(io::Error::other)?
        })
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;

    use super::*;
    use crate::Config;

    /// A one-connection server that answers `version`.
    fn version_server() -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap().to_string();
        std::thread::spawn(move || {
            let (socket, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(socket.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 {
                (&socket).write_all(b"VERSION 1.6.18\r\n").unwrap();
                line.clear();
            }
        });
        address
    }

    #[test]
    fn the_value_tokio_connects_like_smol_and_async_std() {
        let address = version_server();
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let client = Config::new(&address).connect(Tokio).await.unwrap();
            assert_eq!(client.version().await.unwrap(), "1.6.18");
        });
    }

    #[test]
    fn outside_a_runtime_the_value_tokio_fails_to_connect_without_panicking() {
        let address = version_server();
        let result = futures_lite::future::block_on(Config::new(&address).connect(Tokio));
        let error = result.expect_err("no tokio runtime");
        assert!(
            matches!(&error, crate::Error::Io(io) if io.to_string().contains("outside a tokio runtime")),
            "{error}"
        );
    }
}
