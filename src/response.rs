//! [`Response`]: one reply of memcached, decoded.
//!
//! Error replies (`ERROR`, `CLIENT_ERROR`, `SERVER_ERROR`) are not responses:
//! they arrive as [`Error`](crate::Error) values.

use bytes::Bytes;

use crate::meta::MetaResponse;

/// One successful reply.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Response {
    /// `VALUE ...` blocks then `END`: the hits of a retrieval, in request order.
    Values(Vec<Value>),
    /// `STORED`.
    Stored,
    /// `NOT_STORED`: the condition of `add`, `replace`, `append`, `prepend` failed.
    NotStored,
    /// `EXISTS`: the cas unique was stale.
    Exists,
    /// `NOT_FOUND`.
    NotFound,
    /// `DELETED`.
    Deleted,
    /// `TOUCHED`.
    Touched,
    /// `OK`.
    Ok,
    /// The new value after `incr`/`decr`.
    Number(u64),
    /// Lines up to `END`, without their line ends and without `END`: `stats`
    /// replies (`STAT name value`, `ITEM key [...]`), `lru_crawler metadump`.
    Lines(Vec<Bytes>),
    /// `VERSION <version>`: the version string.
    Version(Bytes),
    /// One line of a raw command, without its line end.
    Line(Bytes),
    /// Nothing: the request asked for no reply.
    NoReply,
    /// The reply to one meta command.
    Meta(MetaResponse),
    /// The replies to a [`Request::MetaBatch`](crate::Request::MetaBatch), one
    /// per request in order: `None` where quiet mode suppressed the line, or
    /// the error the server sent for that request.
    MetaBatch(Vec<Option<crate::Result<MetaResponse>>>),
}

/// One item of a retrieval reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    /// The key, as the server sent it. From a decoder, it is the request's
    /// own key of those bytes (the reply was checked against it), shared,
    /// not copied.
    pub key: Bytes,
    /// The 32-bit flags stored with the value.
    pub flags: u32,
    /// The cas unique (`gets` and `gats` only).
    pub cas: Option<u64>,
    /// The data block: a slice of the connection's read buffer, not a copy.
    pub data: Bytes,
}

impl Response {
    /// The reply's name, for error messages about unexpected replies.
    pub fn name(&self) -> &'static str {
        match self {
            Response::Values(_) => "VALUE",
            Response::Stored => "STORED",
            Response::NotStored => "NOT_STORED",
            Response::Exists => "EXISTS",
            Response::NotFound => "NOT_FOUND",
            Response::Deleted => "DELETED",
            Response::Touched => "TOUCHED",
            Response::Ok => "OK",
            Response::Number(_) => "a number",
            Response::Lines(_) => "lines",
            Response::Version(_) => "VERSION",
            Response::Line(_) => "a line",
            Response::NoReply => "no reply",
            Response::Meta(_) => "a meta reply",
            Response::MetaBatch(_) => "meta replies",
        }
    }
}
