//! The one error type of memclient.

use std::io;
use std::sync::Arc;

/// Everything that can go wrong in a memcached call.
///
/// The variants are the cases a caller branches on. Errors that came from the
/// server carry the server's own message. `Error` is `Clone` so that one failure
/// of a shared connection can be handed to every caller waiting on it.
///
/// A miss is not an error (reads return `None`).
/// [`is_connection_error`](Self::is_connection_error) groups the outages,
/// after which the next call uses a new socket;
/// [`is_server_reply`](Self::is_server_reply) the server's refusals:
///
/// ```
/// use memclient::{Client, Error};
/// use memclient_mock::MockMemcache;
///
/// let mock = MockMemcache::new();
/// let client = Client::new(mock.clone());
/// futures_lite::future::block_on(async {
///     mock.fail_next(1, Error::Server("out of memory storing object".into()));
///     match client.set("k", "v").await {
///         Ok(stored) => println!("stored: {stored}"),
///         Err(error) if error.is_connection_error() => println!("cache down: {error}"),
///         Err(Error::Server(message)) => assert_eq!(message, "out of memory storing object"),
///         Err(error) => panic!("a bug: {error}"),
///     }
///     // Invalid input is refused before any I/O.
///     let error = client.get("two words").await.unwrap_err();
///     assert!(matches!(error, Error::IllegalInput(_)));
///     assert!(!error.is_connection_error());
/// });
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The transport failed: connect refused, reset, broken pipe, ...
    #[error("I/O error: {0}")]
    Io(Arc<io::Error>),
    /// The call (or the connect) did not finish within its timeout.
    #[error("timed out after {0:?}")]
    Timeout(std::time::Duration),
    /// The connection was closed (by the server, by `quit`, or after an earlier
    /// failure) before the reply arrived.
    #[error("connection closed")]
    ConnectionClosed,
    /// The input was rejected before any byte was written: an invalid key, a
    /// value that cannot be sent, an option out of range.
    #[error("illegal input: {0}")]
    IllegalInput(String),
    /// The server answered `CLIENT_ERROR <message>`: it judged the request malformed.
    #[error("client error from server: {0}")]
    Client(String),
    /// The server answered `SERVER_ERROR <message>` (for example `object too large
    /// for cache` or `out of memory storing object`), or another failure line of
    /// an admin command (`NOSPARE ...`, `MEMLIMIT_TOO_SMALL ...`).
    #[error("server error: {0}")]
    Server(String),
    /// The server answered `ERROR`: it does not know the command. The message is
    /// empty unless the server added one (`ERROR: shutdown not enabled`).
    #[error("unknown command{}", colon_prefixed(.0))]
    UnknownCommand(String),
    /// The server's reply broke the protocol. The offending bytes (truncated)
    /// are in the message. The connection it came on is closed, never reused.
    #[error("protocol violation: {0}")]
    Protocol(String),
    /// A value could not be serialized or deserialized.
    #[error("serialization error: {0}")]
    Serde(String),
    /// The call was on a socket that was retired because another call's reply
    /// on it became overdue: with no request id in the protocol, the replies
    /// after it could no longer be matched to their requests. The request may
    /// or may not have reached the server; the next call uses a new socket,
    /// so a retry is safe for idempotent requests.
    #[error(
        "connection retired: an earlier reply on it is overdue, so later replies cannot be trusted"
    )]
    ConnectionRetired,
    /// No pooled connection became free within the pool's wait timeout.
    #[error("no connection free in the pool after {0:?}")]
    PoolTimeout(std::time::Duration),
    /// TLS with `server` failed: the handshake was refused, or the server
    /// ended the session with a TLS alert.
    #[error("TLS with {server}: {reason}")]
    Tls {
        /// The server, as addressed (`host:port`).
        server: String,
        /// Why it failed.
        reason: TlsReason,
    },
    /// The client, connection, pool or cluster was closed with `close()`:
    /// it makes no further calls and opens no further sockets.
    #[error("closed: close() was called, no further calls are made")]
    Closed,
}

/// Why a TLS session with a server failed; see [`Error::Tls`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsReason {
    /// The server's certificate is not signed by a trusted certificate authority.
    UnknownIssuer,
    /// The server's certificate is valid, but not for the name it was checked
    /// against (the host, or the configured server name).
    NameMismatch {
        /// The name that was checked.
        expected: String,
    },
    /// The server's certificate is unusable for another reason (expired, not
    /// yet valid, revoked, a bad signature...).
    InvalidCertificate(String),
    /// The server answered something that is not TLS: most likely a memcached
    /// listening without `-Z`.
    NotTls,
    /// The server requires a client certificate and none was configured.
    ClientCertificateRequired,
    /// The server refused the client certificate that was sent.
    ClientCertificateRejected(String),
    /// The TLS settings themselves are unusable (a bad PEM file, no trusted
    /// roots, an invalid server name).
    Config(String),
    /// Any other TLS failure, as rustls describes it.
    Other(String),
}

impl std::fmt::Display for TlsReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TlsReason::UnknownIssuer => {
                f.write_str("the server's certificate is not signed by a trusted CA")
            }
            TlsReason::NameMismatch { expected } => {
                write!(f, "the server's certificate is not valid for {expected:?}")
            }
            TlsReason::InvalidCertificate(why) => {
                write!(f, "the server's certificate is invalid: {why}")
            }
            TlsReason::NotTls => {
                f.write_str("the server does not speak TLS (a memcached started without -Z?)")
            }
            TlsReason::ClientCertificateRequired => {
                f.write_str("the server requires a client certificate and none is configured")
            }
            TlsReason::ClientCertificateRejected(why) => {
                write!(f, "the server refused the client certificate: {why}")
            }
            TlsReason::Config(why) => write!(f, "unusable TLS settings: {why}"),
            TlsReason::Other(why) => f.write_str(why),
        }
    }
}

/// A TLS failure carried inside an `io::Error` (transports speak `io::Result`),
/// turned back into [`Error::Tls`] by `From<io::Error>`.
#[derive(Debug)]
pub(crate) struct TlsFailure {
    pub(crate) server: String,
    pub(crate) reason: TlsReason,
}

impl std::fmt::Display for TlsFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TLS with {}: {}", self.server, self.reason)
    }
}

impl std::error::Error for TlsFailure {}

impl TlsFailure {
    /// The failure as an `io::Error` of a kind that matches it.
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    pub(crate) fn into_io(self) -> io::Error {
        let kind = match self.reason {
            TlsReason::Config(_) => io::ErrorKind::InvalidInput,
            TlsReason::Other(_) => io::ErrorKind::Other,
            _ => io::ErrorKind::InvalidData,
        };
        io::Error::new(kind, self)
    }
}

impl Error {
    /// True when the error says nothing about the request and everything about
    /// the connection: the connection that produced it must not be reused and a
    /// retry on a fresh one may succeed.
    pub fn is_connection_error(&self) -> bool {
        matches!(
            self,
            Error::Io(_)
                | Error::Timeout(_)
                | Error::ConnectionClosed
                | Error::ConnectionRetired
                | Error::Protocol(_)
                | Error::Tls { .. }
        )
    }

    /// True for errors the server sent in answer to the request (`ERROR`,
    /// `CLIENT_ERROR`, `SERVER_ERROR`): the connection is still in step.
    pub fn is_server_reply(&self) -> bool {
        matches!(
            self,
            Error::Client(_) | Error::Server(_) | Error::UnknownCommand(_)
        )
    }

    /// The error's case as a short label, for logs and metrics: `io`,
    /// `timeout`, `connection_closed`, `connection_retired`, `illegal_input`,
    /// `client_error`, `server_error`, `unknown_command`, `protocol`,
    /// `serde`, `pool_timeout`, `tls`, `closed`.
    ///
    /// ```
    /// let error = memclient::Error::Timeout(std::time::Duration::from_secs(2));
    /// assert_eq!(error.kind(), "timeout");
    /// ```
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Io(_) => "io",
            Error::Timeout(_) => "timeout",
            Error::ConnectionClosed => "connection_closed",
            Error::ConnectionRetired => "connection_retired",
            Error::IllegalInput(_) => "illegal_input",
            Error::Client(_) => "client_error",
            Error::Server(_) => "server_error",
            Error::UnknownCommand(_) => "unknown_command",
            Error::Protocol(_) => "protocol",
            Error::Serde(_) => "serde",
            Error::PoolTimeout(_) => "pool_timeout",
            Error::Tls { .. } => "tls",
            Error::Closed => "closed",
        }
    }

    /// Builds a protocol error quoting at most 64 bytes of the offending input.
    pub fn protocol(what: &str, bytes: &[u8]) -> Error {
        Error::Protocol(format!("{what}: {}", quote(bytes, 64)))
    }
}

impl PartialEq for Error {
    /// Errors are equal when they are the same case with the same message
    /// (I/O errors: the same kind and message).
    fn eq(&self, other: &Error) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
            && match (self, other) {
                (Error::Io(a), Error::Io(b)) => {
                    a.kind() == b.kind() && a.to_string() == b.to_string()
                }
                _ => self.to_string() == other.to_string(),
            }
    }
}

impl Eq for Error {}

impl From<io::Error> for Error {
    fn from(err: io::Error) -> Self {
        if let Some(tls) = err.get_ref().and_then(|e| e.downcast_ref::<TlsFailure>()) {
            return Error::Tls {
                server: tls.server.clone(),
                reason: tls.reason.clone(),
            };
        }
        Error::Io(Arc::new(err))
    }
}

/// `": message"`, or nothing for an empty message.
fn colon_prefixed(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(": {message}")
    }
}

/// Renders bytes for an error message: printable ASCII as is, the rest escaped,
/// cut after `limit` bytes.
pub(crate) fn quote(bytes: &[u8], limit: usize) -> String {
    let shown = &bytes[..bytes.len().min(limit)];
    let mut text: String = shown.escape_ascii().to_string();
    if bytes.len() > limit {
        text.push_str(&format!("... ({} bytes)", bytes.len()));
    }
    format!("\"{text}\"")
}

/// The result type of memclient.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_error_quotes_and_truncates() {
        let err = Error::protocol("bad line", &[b'a'; 100]);
        let text = err.to_string();
        assert!(text.contains("(100 bytes)"), "{text}");
        let err = Error::protocol("bad line", b"VALUE\r\n\x00");
        assert!(err.to_string().contains("VALUE\\r\\n\\x00"));
    }

    #[test]
    fn unknown_command_shows_message_only_when_present() {
        assert_eq!(
            Error::UnknownCommand(String::new()).to_string(),
            "unknown command"
        );
        assert_eq!(
            Error::UnknownCommand("shutdown not enabled".into()).to_string(),
            "unknown command: shutdown not enabled"
        );
    }
}
