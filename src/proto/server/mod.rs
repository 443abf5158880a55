//! Server side: bytes to [`Request`](crate::Request), [`Response`](crate::Response) to bytes.
//!
//! Behind the cargo feature `server` (off by default; `memclient-mock`
//! enables it): a client never needs this direction, so it is not part of the
//! client's API. The mock drives it to speak memcached to any client, and
//! runs its `Backend` path through it too.
//! It copies memcached 1.6.18 rather than the protocol text wherever the two
//! differ, including its answers to malformed input, because a test that passes
//! against the mock must pass against the real server:
//!
//! - an unknown command (even with `noreply`) or a wrong number of arguments
//!   gets `ERROR`; bad numbers get `CLIENT_ERROR bad command line format`;
//! - `noreply` (the last word of the line) silences error replies too;
//! - a data block is read by its announced length; when the two bytes after it
//!   are not `\r\n` the answer is `CLIENT_ERROR bad data chunk` (the decoder
//!   says [`Decoded::BadDataChunk`], since memcached counts a set) and the bytes
//!   after the block are read as the next command (memcached does not resync on
//!   a line end);
//! - a value above the item size limit gets `SERVER_ERROR object too large for
//!   cache` at once and its data block (length + 2 bytes) is swallowed;
//! - a key over 250 bytes gets `CLIENT_ERROR bad command line format`, and a
//!   storage command rejected that way does not swallow its data block;
//! - a line of more than 2048 bytes without a line end closes the connection,
//!   unless it starts with `get ` or `gets ` (long multi-gets are allowed).
//!
//! ```
//! use bytes::BytesMut;
//! use memclient::proto::server::{encode_reply, Decoded, RequestDecoder};
//! use memclient::{Request, Response};
//!
//! let mut decoder = RequestDecoder::new();
//! let mut input = BytesMut::from(&b"version\r\nbogus\r\n"[..]);
//! let Some(Decoded::Request(request)) = decoder.decode(&mut input) else { panic!() };
//! assert_eq!(request, Request::Version);
//! let mut out = BytesMut::new();
//! encode_reply(&request, &Ok(Response::Version("1.6.18".into())), &mut out);
//! assert_eq!(&out[..], b"VERSION 1.6.18\r\n");
//! assert!(matches!(decoder.decode(&mut input), Some(Decoded::Reply(r)) if &r[..] == b"ERROR\r\n"));
//! ```

mod base64;
mod command;
mod decoder;
mod limits;
mod meta;
mod meta_flags;
mod meta_reply;
mod number;
mod outcome;
mod reply;
mod token;

#[cfg(test)]
mod meta_tests;
#[cfg(test)]
mod tests;

pub use decoder::{Decoded, RequestDecoder};
pub use limits::{item_size, DEFAULT_MAX_ITEM_SIZE, MAX_LINE_LEN};
pub use meta_flags::{meta_options, opaque_too_long, MetaOptions};
pub use number::parse_u64;
pub use reply::{encode_error, encode_reply};
