//! [`open_socket`]: the connect of the adapters whose sockets are plain file
//! descriptors (smol, async-std), written once.

use std::future::Future;
use std::io;
use std::os::fd::AsFd;
use std::path::PathBuf;

use futures_io::{AsyncRead, AsyncWrite};

use super::{apply_socket_options, finish_connect, Address, SocketOptions, Stream};

/// Opens `address` with the runtime's own connects: `tcp(host, port)` or
/// `unix(path)`. Applies the socket options to a TCP socket, names a failure
/// after the server, and runs the TLS handshake when the options ask for it.
pub(crate) async fn open_socket<Tcp, Unix, TcpFuture, UnixFuture>(
    address: Address,
    options: SocketOptions,
    tcp: impl FnOnce(String, u16) -> TcpFuture,
    unix: impl FnOnce(PathBuf) -> UnixFuture,
) -> io::Result<Stream<Tcp, Unix>>
where
    Tcp: AsyncRead + AsyncWrite + AsFd + Unpin,
    TcpFuture: Future<Output = io::Result<Tcp>>,
    UnixFuture: Future<Output = io::Result<Unix>>,
{
    let opened = async {
        match &address {
            Address::Tcp { host, port } => {
                let stream = tcp(host.clone(), *port).await?;
                apply_socket_options(&stream, &options)?;
                Ok(Stream::Tcp(stream))
            }
            Address::Unix(path) => Ok(Stream::Unix(unix(path.clone()).await?)),
        }
    };
    finish_connect(opened.await, &address, &options).await
}
