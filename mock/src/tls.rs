//! The TCP server over TLS (feature `tls`): rustls, blocking, one thread per
//! connection like the plain server.

use std::io;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

use crate::server::{Listener, Socket};

/// A TCP listener whose connections are TLS sessions.
pub(crate) struct TlsListener {
    pub(crate) tcp: TcpListener,
    pub(crate) config: Arc<ServerConfig>,
}

/// One accepted TLS session. The handshake runs on the first read, in the
/// connection's own thread, so a slow client never holds up the accept loop.
pub(crate) struct TlsSocket {
    session: StreamOwned<ServerConnection, TcpStream>,
}

impl Listener for TlsListener {
    type Stream = TlsSocket;
    fn accept_one(&self) -> io::Result<TlsSocket> {
        let (tcp, _) = self.tcp.accept()?;
        let connection = ServerConnection::new(self.config.clone()).map_err(io::Error::other)?;
        Ok(TlsSocket {
            session: StreamOwned::new(connection, tcp),
        })
    }
    fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()> {
        self.tcp.set_nonblocking(nonblocking)
    }
}

impl io::Read for TlsSocket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.session.read(buf)
    }
}

impl io::Write for TlsSocket {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.session.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.session.flush()
    }
}

impl Socket for TlsSocket {
    fn closer(&self) -> io::Result<Box<dyn FnMut() + Send>> {
        let clone = self.session.sock.try_clone()?;
        Ok(Box::new(move || {
            let _ = clone.shutdown(Shutdown::Both);
        }))
    }
    fn shutdown_both(&mut self) {
        // Say goodbye in TLS (close_notify), then close the socket.
        self.session.conn.send_close_notify();
        let _ = self.session.conn.complete_io(&mut self.session.sock);
        let _ = self.session.sock.shutdown(Shutdown::Both);
    }
    fn set_blocking(&self) -> io::Result<()> {
        let _ = self.session.sock.set_nodelay(true);
        self.session.sock.set_nonblocking(false)
    }
}

/// A rustls server configuration (`ring` provider, TLS 1.2 and 1.3, no
/// client certificates) from a PEM certificate chain and its private key.
pub fn server_config(chain_pem: &[u8], key_pem: &[u8]) -> io::Result<Arc<ServerConfig>> {
    let invalid = |what: &str, e: &dyn std::fmt::Display| {
        io::Error::new(io::ErrorKind::InvalidInput, format!("{what}: {e}"))
    };
    let chain = CertificateDer::pem_slice_iter(chain_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid("certificate PEM", &e))?;
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| invalid("key PEM", &e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid("protocol versions", &e))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| invalid("certificate", &e))?;
    Ok(Arc::new(config))
}
