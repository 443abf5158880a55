//! The sans-IO codec: every byte of memcached's text protocol lives here, once.
//!
//! No sockets, no async, no clock: bytes in, values out. The client direction
//! encodes [`Request`](crate::Request)s and decodes [`Response`](crate::Response)s;
//! the server direction (used by the mock server) decodes requests and encodes
//! responses. Decoding is incremental: a reply split at any byte boundary
//! decodes the same, and data blocks are [`Bytes`](bytes::Bytes) slices of the
//! read buffer, never copies.

mod budget;
pub(crate) mod check;
pub mod config;
mod decode;
mod encode;
#[cfg(feature = "tls")]
mod frames;
#[cfg(test)]
mod limit_tests;
mod line;
mod meta_decode;
mod meta_encode;
mod meta_key;
#[cfg(test)]
mod meta_tests;
pub mod server;

pub(crate) use budget::SharedReplyBudget;
pub use budget::DEFAULT_MAX_REPLY_LEN;
pub use decode::ResponseDecoder;
pub use encode::encode_request;
#[cfg(feature = "tls")]
pub(crate) use frames::whole_requests_len;
pub(crate) use meta_key::encoded_len as base64_len;

/// The longest key memcached accepts, in bytes.
pub const MAX_KEY_LEN: usize = 250;
