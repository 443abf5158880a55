//! What one command line asks the decoder to do: the vocabulary shared by the
//! classic parser ([`command`](super::command)) and the meta parser
//! ([`meta`](super::meta)), so that neither imports the other's internals.

use bytes::Bytes;

use crate::{MetaRequest, StoreCommand};

/// The reply to most malformed arguments.
pub(crate) const BAD_FORMAT: &str = "CLIENT_ERROR bad command line format";

/// A storage command whose data block is still to be read.
#[derive(Debug, Clone)]
pub(crate) struct PendingStore {
    pub command: StoreCommand,
    pub key: Bytes,
    pub flags: u32,
    pub exptime: i64,
    pub len: usize,
    pub noreply: bool,
}

/// An `ms` whose data block is still to be read.
#[derive(Debug, Clone)]
pub(crate) struct PendingMeta {
    /// The request, its `data` still `None`.
    pub request: MetaRequest,
    pub len: usize,
}

/// What one line asks for.
pub(crate) enum LineOutcome {
    /// A complete request.
    Request(crate::Request),
    /// A storage command: its data block follows.
    Data(PendingStore),
    /// An `ms`: its data block follows.
    MetaData(PendingMeta),
    /// A rejected `ms`: reply with this text, then swallow its data block.
    SwallowReply { text: &'static str, swallow: usize },
    /// A rejected line: reply with this text unless `noreply`.
    Reply { text: &'static str, noreply: bool },
    /// A rejected `get`: memcached also drops its unsent replies.
    DropUnsent(&'static str),
    /// A value above the item size limit: its data block is to be swallowed.
    TooLarge {
        command: StoreCommand,
        key: Bytes,
        noreply: bool,
        swallow: usize,
    },
    /// memcached drops the connection (an HTTP request line).
    Close,
}

/// A rejected line answered with `text` unless `noreply`.
pub(crate) fn reply(text: &'static str, noreply: bool) -> LineOutcome {
    LineOutcome::Reply { text, noreply }
}
