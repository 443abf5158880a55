//! Server side: bytes to [`Request`](crate::Request), [`Response`](crate::Response) to bytes.
//!
//! Used by the mock server (`memclient-mock`) to speak memcached to any client.
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
mod meta;
mod meta_flags;
mod meta_reply;
mod number;
mod reply;
mod token;

#[cfg(test)]
mod meta_tests;
#[cfg(test)]
mod tests;

pub use base64::{base64_decode, base64_encode};
pub use decoder::{Decoded, RequestDecoder};
pub use meta_flags::{meta_options, opaque_too_long, MetaOptions};
pub use reply::{encode_error, encode_reply};

/// Parses a number as memcached's `safe_strtoull` does: leading white space,
/// an optional sign (`-0` is 0; a `-` is refused when the result wraps), then
/// digits, followed by white space, a NUL byte or the end.
///
/// The mock uses it to read stored values for `incr`/`decr`, so that
/// `" 12"`, `"+12"` and `"1 2"` count as numbers exactly when memcached says so.
pub fn parse_u64(bytes: &[u8]) -> Option<u64> {
    number::strtoull(bytes)
}

/// memcached's default item size limit (`-I 1m`).
pub const DEFAULT_MAX_ITEM_SIZE: usize = 1024 * 1024;

/// The longest line memcached waits for without a line end (except `get`/`gets`).
pub const MAX_LINE_LEN: usize = 2048;

/// The reply to most malformed arguments.
pub(crate) const BAD_FORMAT: &str = "CLIENT_ERROR bad command line format";

/// The bytes memcached 1.6.18 (64-bit, cas enabled) charges for an item
/// against the item size limit (`-I`) and the memory limit (`-m`).
///
/// That is its `ITEM_ntotal`: a 48-byte header, the key and a NUL, 4 bytes of
/// flags when they are not 0, the value with its `\r\n`, and the 8-byte cas.
/// With the default 1 MiB limit the largest value stored under a 1-byte key
/// with flags 0 is therefore 1 048 516 bytes, which is what the server accepts.
pub fn item_size(key_len: usize, flags: u32, value_len: usize) -> usize {
    let flags_len = if flags == 0 { 0 } else { 4 };
    48usize
        .saturating_add(key_len)
        .saturating_add(1)
        .saturating_add(flags_len)
        .saturating_add(value_len)
        .saturating_add(2)
        .saturating_add(8)
}
