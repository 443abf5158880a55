//! TLS (feature `tls`): rustls through futures-rustls, so one implementation
//! serves every runtime adapter and the core never learns that its bytes are
//! encrypted.
//!
//! A [`TlsConfig`] says whom to trust and who the client is. Give it to
//! [`Config::tls`](crate::Config::tls) (or set
//! [`SocketOptions::tls`](crate::runtime::SocketOptions::tls) for a pool or a
//! cluster), or write the address as `tls://host:port`, which turns TLS on
//! with the default settings (the platform's trust store) unless settings
//! are given.
//!
//! ```no_run
//! # #[cfg(feature = "smol")]
//! # async fn demo() -> memclient::Result<()> {
//! use memclient::tls::TlsConfig;
//!
//! let tls = TlsConfig::new()
//!     .add_ca_pem_file("/etc/memcached/ca.pem")?
//!     .client_cert_pem_files("/etc/memcached/client.pem", "/etc/memcached/client.key")?;
//! let client = memclient::Config::new("tls://cache.internal:11211")
//!     .tls(tls)
//!     .connect(memclient::smol::Smol)
//!     .await?;
//! # Ok(())
//! # }
//! ```
//!
//! The crypto provider is `ring`: it builds with a C compiler alone (no
//! cmake, no nasm), so `cargo build --features tls` works on a fresh machine.
//!
//! Handshake failures are [`Error::Tls`](crate::Error::Tls), naming the server
//! and a [`TlsReason`](crate::TlsReason): unknown CA, name mismatch, a server
//! that does not speak TLS, a server that requires a client certificate.

mod config;
mod danger;
mod reason;
mod stream;

pub use config::{Roots, TlsConfig};
pub use futures_rustls::rustls;
pub use stream::TlsStream;

pub(crate) use stream::handshake;

/// Runs the TLS handshake over a socket of your own (a custom
/// [`Transport`](crate::runtime::Transport), or [`Connection::from_stream`](crate::Connection::from_stream)),
/// verifying the server as `host` (or as the configured
/// [`server_name`](TlsConfig::server_name)). Its errors convert into
/// [`Error::Tls`](crate::Error::Tls) naming `host`.
///
/// ```no_run
/// # #[cfg(feature = "smol")]
/// # async fn demo(tls: memclient::tls::TlsConfig) -> memclient::Result<()> {
/// let socket = async_net::TcpStream::connect("10.0.0.7:11211").await?;
/// let session = memclient::tls::connect(socket, &tls, "10.0.0.7").await?;
/// let (connection, driver) = memclient::Connection::from_stream(session);
/// smol::spawn(driver).detach();
/// # Ok(())
/// # }
/// ```
pub async fn connect<S>(socket: S, tls: &TlsConfig, host: &str) -> std::io::Result<TlsStream<S>>
where
    S: futures_io::AsyncRead + futures_io::AsyncWrite + Unpin,
{
    handshake(socket, tls, host, host.to_string()).await
}
