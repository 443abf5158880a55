//! The async-std adapter (feature `async-std`).

use std::io;
use std::time::Duration;

use async_std::net::TcpStream;
use async_std::os::unix::net::UnixStream;

use super::{
    apply_socket_options, finish_connect, Address, BoxFuture, Runtime, SocketOptions, Transport,
};
use crate::{Client, Config, Connection, Result};

/// The async-std runtime.
#[derive(Debug, Clone, Copy, Default)]
pub struct AsyncStd;

/// An async-std socket: TCP or UNIX.
pub type Stream = super::Stream<TcpStream, UnixStream>;

impl Runtime for AsyncStd {
    fn spawn(&self, future: BoxFuture<'static, ()>) {
        async_std::task::spawn(future);
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        Box::pin(async_std::task::sleep(duration))
    }
}

impl Transport for AsyncStd {
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

/// Connects a client with default options: `memclient::async_std::connect("127.0.0.1:11211")`.
pub async fn connect(address: &str) -> Result<Client<Connection<Stream>>> {
    Config::new(address).connect(AsyncStd).await
}
