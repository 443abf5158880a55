//! [`TlsStream`]: a TLS session over a runtime's socket, whose errors name
//! the server and say why.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};
use futures_rustls::{client, TlsConnector};

use super::reason::classify;
use super::TlsConfig;
use crate::error::TlsFailure;
use crate::proto::whole_requests_len;
use crate::TlsReason;

/// A client TLS session over the socket `S`.
///
/// Read and write errors that come from TLS (a fatal alert, a corrupt record)
/// become [`Error::Tls`](crate::Error::Tls) naming the server; a client
/// certificate refused after a TLS 1.3 handshake shows up here, on the first
/// call, since the server only judges it once the client has finished.
#[derive(Debug)]
pub struct TlsStream<S> {
    inner: client::TlsStream<S>,
    label: Arc<Label>,
}

/// The most plaintext put in one write to rustls (so in the records it
/// makes) when several requests are batched: memcached's read buffer.
const RECORD_TARGET: usize = 16 * 1024;

#[derive(Debug)]
struct Label {
    server: String,
    expected: String,
    client_certificate: bool,
}

impl Label {
    fn fail(&self, reason: TlsReason) -> io::Error {
        TlsFailure {
            server: self.server.clone(),
            reason,
        }
        .into_io()
    }

    fn explain(&self, error: io::Error) -> io::Error {
        match classify(&error, &self.expected, self.client_certificate) {
            Some(reason) => self.fail(reason),
            None => error,
        }
    }
}

/// Runs the TLS handshake with the server `server` (named so in errors) at
/// `host`, over `socket`.
pub(crate) async fn handshake<S>(
    socket: S,
    tls: &TlsConfig,
    host: &str,
    server: String,
) -> io::Result<TlsStream<S>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut label = Label {
        server,
        expected: host.to_string(),
        client_certificate: tls.has_client_certificate(),
    };
    let config = tls
        .build()
        .map_err(|why| label.fail(TlsReason::Config(why)))?;
    let name = tls.name_for(host).map_err(|why| label.fail(why))?;
    label.expected = name.to_str().into_owned();
    match TlsConnector::from(config).connect(name, socket).await {
        Ok(mut inner) => {
            // Each write becomes whole records at once (see `poll_write`),
            // never cut by rustls's send buffer limit; the driver's own
            // write buffer bounds what is queued.
            inner.get_mut().1.set_buffer_limit(None);
            Ok(TlsStream {
                inner,
                label: Arc::new(label),
            })
        }
        // A plain-text server may close on the ClientHello instead of answering.
        Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => {
            Err(label.fail(TlsReason::NotTls))
        }
        Err(error) => Err(label.explain(error)),
    }
}

impl<S> TlsStream<S> {
    /// The TLS session and its socket, for what this type does not expose
    /// (the negotiated protocol version, the server's certificates...).
    pub fn get_ref(&self) -> &client::TlsStream<S> {
        &self.inner
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for TlsStream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        Pin::new(&mut this.inner)
            .poll_read(cx, buf)
            .map_err(|e| this.label.explain(e))
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for TlsStream<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        // Whole requests only, so every TLS record ends where a request
        // does: see `proto::frames` for the memcached stall this avoids.
        let end = whole_requests_len(buf, RECORD_TARGET);
        let this = self.get_mut();
        Pin::new(&mut this.inner)
            .poll_write(cx, &buf[..end])
            .map_err(|e| this.label.explain(e))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        Pin::new(&mut this.inner)
            .poll_flush(cx)
            .map_err(|e| this.label.explain(e))
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        Pin::new(&mut this.inner)
            .poll_close(cx)
            .map_err(|e| this.label.explain(e))
    }
}
