//! The async-std adapter (feature `async-std`).

use std::io;
use std::time::Duration;

use async_std::net::TcpStream;
use async_std::os::unix::net::UnixStream;

use super::{open_socket, Address, BoxFuture, Runtime, SocketOptions, Transport};

/// The async-std runtime: `Config::new(address).connect(AsyncStd)`.
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
        Box::pin(open_socket(
            address.clone(),
            options.clone(),
            |host, port| async move { TcpStream::connect((host.as_str(), port)).await },
            UnixStream::connect,
        ))
    }
}
