//! The sans-IO codec: every byte of memcached's text protocol lives here, once.
//!
//! No sockets, no async, no clock: bytes in, values out. The client direction
//! encodes [`Request`](crate::Request)s and decodes [`Response`](crate::Response)s;
//! the server direction (module `server`, behind the cargo feature `server`,
//! which `memclient-mock` enables) decodes requests and encodes responses.
//! Decoding is incremental: a reply split at any byte boundary decodes the
//! same, and data blocks are [`Bytes`](bytes::Bytes) slices of the read
//! buffer, never copies.
//!
//! The client direction, by what it knows:
//!
//! - `table`: what each request kind means beyond its bytes: its reply's
//!   framing, its `noreply` slot, its idempotency and its cluster [`Scope`]
//!   ([`Request::scope`](crate::Request::scope),
//!   [`Request::is_idempotent`](crate::Request::is_idempotent)). A new
//!   command is one row there, one encoder arm and one check arm.
//! - `encode` / `meta_encode`: requests to bytes; `decode` / `meta_decode`:
//!   bytes to replies, framed as the table says; `line`, `budget`, `digits`
//!   and `meta_key` are the pieces they share (line framing and error lines,
//!   the reply size limit, numbers, base64 keys).
//! - `meta_flag`: the typed request flags ([`Flag`], [`MetaMode`]), one
//!   encoder and one decoder; `meta_returned`: the typed flags of a reply
//!   ([`Returned`]); `classic_meta`: the classic commands of a binary key
//!   sent as meta commands, and their replies read back as classic ones.
//! - `check`: what a request may carry so that it stays one command.

mod budget;
pub(crate) mod check;
mod classic_meta;
pub mod config;
mod decode;
#[cfg(test)]
mod decode_tests;
mod digits;
mod encode;
#[cfg(test)]
mod encode_tests;
#[cfg(feature = "tls")]
mod frames;
#[cfg(test)]
mod limit_tests;
mod line;
mod meta_decode;
mod meta_encode;
mod meta_flag;
mod meta_key;
mod meta_returned;
#[cfg(test)]
mod meta_tests;
#[cfg(feature = "server")]
pub mod server;
mod table;
#[cfg(test)]
mod table_tests;

pub(crate) use budget::SharedReplyBudget;
pub use budget::DEFAULT_MAX_REPLY_LEN;
pub use check::MAX_KEY_LEN;
pub(crate) use classic_meta::{as_classic, as_meta, set_exptime, set_flags};
pub use decode::ResponseDecoder;
pub use encode::encode_request;
#[cfg(feature = "tls")]
pub(crate) use frames::whole_requests_len;
pub(crate) use meta_flag::{put as put_flag, remove as remove_flag};
pub use meta_flag::{Flag, MetaMode};
pub(crate) use meta_key::encoded_len as base64_len;
pub use meta_returned::Returned;
pub(crate) use table::set_noreply;
pub use table::Scope;
