//! The smol adapter (feature `smol`): async-net sockets, async-io timers,
//! tasks on smol's global executor.

use std::io;
use std::time::Duration;

use async_net::unix::UnixStream;
use async_net::TcpStream;

use super::{open_socket, Address, BoxFuture, Runtime, SocketOptions, Transport};

/// The smol runtime: `Config::new(address).connect(Smol)`.
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
        Box::pin(open_socket(
            address.clone(),
            options.clone(),
            |host, port| async move { TcpStream::connect((host.as_str(), port)).await },
            UnixStream::connect,
        ))
    }
}
