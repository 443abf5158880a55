//! [`Stream`]: a TCP or UNIX socket behind one type; [`AnyStream`]: any
//! stream behind one type, so handles need not name their stream.

use std::io::{self, IoSlice, IoSliceMut};
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

// Used by the adapters' `finish_connect`.
#[cfg(all(
    feature = "tls",
    any(feature = "smol", feature = "async-std", feature = "tokio")
))]
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

/// Any byte stream, boxed: the stream type of the handles users name
/// ([`Connection`](crate::Connection), [`Pool`](crate::Pool),
/// [`Cluster`](crate::Cluster) default to it), so a client is
/// `Client<Connection>` whichever runtime, transport or TLS setting opened
/// its sockets. [`Config`](crate::Config) and the address-based constructors
/// erase to it; [`Connection::from_stream`](crate::Connection::from_stream)
/// keeps a stream of your own type (or `AnyStream::new(stream)` erases it).
pub struct AnyStream(Box<dyn Io>);

/// What a stream must do to be boxed into an [`AnyStream`].
trait Io: AsyncRead + AsyncWrite + Send + Unpin {}

impl<S: AsyncRead + AsyncWrite + Send + Unpin> Io for S {}

impl AnyStream {
    /// Boxes `stream`.
    pub fn new<S>(stream: S) -> Self
    where
        S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    {
        AnyStream(Box::new(stream))
    }
}

impl std::fmt::Debug for AnyStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AnyStream(..)")
    }
}

impl AsyncRead for AnyStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.0).poll_read(cx, buf)
    }

    fn poll_read_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.0).poll_read_vectored(cx, bufs)
    }
}

impl AsyncWrite for AnyStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.0).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.0).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_close(cx)
    }
}
