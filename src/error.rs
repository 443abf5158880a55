//! The one error type of memclient.

use std::io;
use std::sync::Arc;

/// Everything that can go wrong in a memcached call.
///
/// The variants are the cases a caller branches on. Errors that came from the
/// server carry the server's own message. `Error` is `Clone` so that one failure
/// of a shared connection can be handed to every caller waiting on it.
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
