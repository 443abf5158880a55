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
use crate::{Client, Config, Connection, Result};

/// A tokio runtime, by its handle.
///
/// [`Tokio::current`] takes the runtime the caller runs on; drivers and timers
/// then live on that runtime whichever thread later uses the client.
#[derive(Debug, Clone)]
pub struct Tokio {
    handle: Handle,
}

impl Tokio {
    /// The runtime of the calling task. Panics outside a tokio runtime, as
    /// [`Handle::current`] does.
    pub fn current() -> Self {
        Tokio {
            handle: Handle::current(),
        }
    }

    /// A given runtime.
    pub fn with_handle(handle: Handle) -> Self {
        Tokio { handle }
    }
}

/// A tokio socket: TCP or UNIX, as a `futures_io` stream.
pub type Stream = super::Stream<Compat<TcpStream>, Compat<UnixStream>>;

impl Runtime for Tokio {
    fn spawn(&self, future: BoxFuture<'static, ()>) {
        self.handle.spawn(future);
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        // A tokio timer binds to the runtime it is created in.
        let _runtime = self.handle.enter();
        Box::pin(tokio::time::sleep(duration))
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
        let handle = self.handle.clone();
        Box::pin(async move {
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

/// Connects a client with default options on the current tokio runtime:
/// `memclient::tokio::connect("127.0.0.1:11211")`.
pub async fn connect(address: &str) -> Result<Client<Connection<Stream>>> {
    Config::new(address).connect(Tokio::current()).await
}
