//! Client side: [`Request`] to bytes.

use bytes::BytesMut;

use crate::Request;

/// Appends the wire form of `request` to `out`.
///
/// Keys must already be valid (the client checks them before any byte is
/// written); this function does not check them again.
pub fn encode_request(request: &Request, out: &mut BytesMut) {
    let _ = (request, out);
    todo!("encode_request")
}
