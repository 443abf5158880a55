//! The `Backend` path of the requests whose meaning is their wire form: meta
//! requests, quiet meta batches and raw commands.
//!
//! Each goes through the real codec in both directions, as it would through
//! a memclient `Connection` to the mock's own stream: checked as a connection
//! checks it ([`Request::validate`]), written by the client's encoder, read
//! by a server [`Session`] that runs it against the store, its reply written
//! by the server's encoder and read back by the client's decoder. So the mock
//! has no encoder of its own, and the answer is what a client decodes from
//! memcached 1.6.18:
//!
//! - a request the real server refuses (an `E` flag, a bad token, a long
//!   opaque) gets the server's error;
//! - a standalone quiet request whose reply memcached suppresses answers
//!   what was suppressed, without flags: `EN` for `mg`, `HD` for `ms`, `md`,
//!   `ma`;
//! - a [`Request::MetaBatch`] gets `None` where a reply was suppressed, the
//!   echoed `O<index>` on the others, and `MN` for an `mn` inside it;
//! - a returned `k` key is the raw key when the request had `b`, and as the
//!   server wrote it otherwise (base64 for a key stored with `b`);
//! - a raw command gets its reply framed as its [`RawReply`](memclient::RawReply)
//!   says (`Response::Line`, `Response::Lines`), not the typed reply of the
//!   command its line names.
//!
//! Faults and latency were applied once, before, by the `Backend` call.

use bytes::BytesMut;
use memclient::proto::{encode_request, ResponseDecoder};
use memclient::{Error, Request, Response, Result};

use crate::session::Session;
use crate::MockMemcache;

impl MockMemcache {
    /// Runs `request` through the codec both ways and the store between.
    pub(crate) fn call_over_wire(&self, request: &Request) -> Result<Response> {
        request.validate()?;
        let mut wire = BytesMut::new();
        encode_request(request, &mut wire);
        let mut replies = BytesMut::new();
        let open = Session::without_faults(self).feed(self, &wire, &mut replies, &mut || {});
        match ResponseDecoder::new().decode(request, &mut replies)? {
            Some(reply) => reply,
            // `quit` (in a raw line), or a line memcached hangs up on.
            None if !open => Err(Error::ConnectionClosed),
            None => Err(Error::Protocol(
                "the mock's reply ended before the request's reply did".into(),
            )),
        }
    }
}
