//! The smol adapter (feature `smol`): async-net sockets, async-io timers,
//! tasks on smol's global executor.

use std::io;
use std::time::Duration;

use async_net::unix::UnixStream;
use async_net::TcpStream;

use super::{
    apply_socket_options, finish_connect, Address, BoxFuture, Runtime, SocketOptions, Transport,
};
use crate::{Client, Config, Connection, Result};

/// The smol runtime.
#[derive(Debug, Clone, Copy, Default)]
pub struct Smol;

/// A smol socket: TCP or UNIX.
pub type Stream = super::Stream<TcpStream, UnixStream>;

impl Runtime for Smol {
    fn spawn(&self, future: BoxFuture<'static, ()>) {
        smol::spawn(future).detach();
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            async_io::Timer::after(duration).await;
        })
    }
}

impl Transport for Smol {
    type Stream = Stream;

    fn connect(
        &self,
        address: &Address,
        options: &SocketOptions,
    ) -> BoxFuture<'static, io::Result<Stream>> {
        let address = address.clone();
        let options = options.clone();
        Box::pin(async move {
            let opened = async {
                match &address {
                    Address::Tcp { host, port } => {
                        let stream = TcpStream::connect((host.as_str(), *port)).await?;
                        apply_socket_options(&stream, &options)?;
                        Ok(super::Stream::Tcp(stream))
                    }
                    Address::Unix(path) => {
                        Ok(super::Stream::Unix(UnixStream::connect(path).await?))
                    }
                }
            };
            finish_connect(opened.await, &address, &options).await
        })
    }
}

/// Connects a client with default options: `memclient::smol::connect("127.0.0.1:11211")`.
pub async fn connect(address: &str) -> Result<Client<Connection<Stream>>> {
    Config::new(address).connect(Smol).await
}
