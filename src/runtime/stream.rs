//! [`Stream`]: a TCP or UNIX socket behind one type.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

/// A connection's socket: TCP or UNIX, of one runtime's types, or (feature
/// `tls`) a TLS session over TCP.
#[derive(Debug)]
pub enum Stream<Tcp, Unix> {
    /// A TCP socket.
    Tcp(Tcp),
    /// A UNIX domain socket.
    Unix(Unix),
    /// A TLS session over a TCP socket.
    #[cfg(feature = "tls")]
    Tls(Box<crate::tls::TlsStream<Tcp>>),
}

#[cfg(feature = "tls")]
impl<Tcp, Unix> Stream<Tcp, Unix>
where
    Tcp: AsyncRead + AsyncWrite + Unpin,
{
    /// Runs the TLS handshake over a TCP socket.
    pub(crate) async fn start_tls(
        self,
        tls: &crate::tls::TlsConfig,
        address: &super::Address,
    ) -> io::Result<Self> {
        match (self, address) {
            (Stream::Tcp(tcp), super::Address::Tcp { host, .. }) => {
                let session = crate::tls::handshake(tcp, tls, host, address.to_string()).await?;
                Ok(Stream::Tls(Box::new(session)))
            }
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{address}: TLS is for TCP servers, not UNIX sockets"),
            )),
        }
    }
}

impl<Tcp, Unix> AsyncRead for Stream<Tcp, Unix>
where
    Tcp: AsyncRead + AsyncWrite + Unpin,
    Unix: AsyncRead + Unpin,
{
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Tcp(tcp) => Pin::new(tcp).poll_read(cx, buf),
            Stream::Unix(unix) => Pin::new(unix).poll_read(cx, buf),
            #[cfg(feature = "tls")]
            Stream::Tls(tls) => Pin::new(tls.as_mut()).poll_read(cx, buf),
        }
    }
}

impl<Tcp, Unix> AsyncWrite for Stream<Tcp, Unix>
where
    Tcp: AsyncRead + AsyncWrite + Unpin,
    Unix: AsyncWrite + Unpin,
{
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Tcp(tcp) => Pin::new(tcp).poll_write(cx, buf),
            Stream::Unix(unix) => Pin::new(unix).poll_write(cx, buf),
            #[cfg(feature = "tls")]
            Stream::Tls(tls) => Pin::new(tls.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(tcp) => Pin::new(tcp).poll_flush(cx),
            Stream::Unix(unix) => Pin::new(unix).poll_flush(cx),
            #[cfg(feature = "tls")]
            Stream::Tls(tls) => Pin::new(tls.as_mut()).poll_flush(cx),
        }
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(tcp) => Pin::new(tcp).poll_close(cx),
            Stream::Unix(unix) => Pin::new(unix).poll_close(cx),
            #[cfg(feature = "tls")]
            Stream::Tls(tls) => Pin::new(tls.as_mut()).poll_close(cx),
        }
    }
}
