//! Client side: bytes to [`Response`].

use bytes::BytesMut;

use crate::{Request, Response, Result};

/// Decodes replies one at a time, in the order the requests were sent.
///
/// The decoder keeps the progress of a reply that has not fully arrived (the
/// values of a multi-key `get` already parsed), so feeding a reply in pieces
/// costs no re-parsing of what came before.
#[derive(Debug, Default)]
pub struct ResponseDecoder {}

impl ResponseDecoder {
    /// A decoder with the default limits.
    pub fn new() -> Self {
        Self::default()
    }

    /// A decoder that rejects data blocks longer than `max_value_len`.
    pub fn with_max_value_len(max_value_len: usize) -> Self {
        let _ = max_value_len;
        Self::default()
    }

    /// Decodes the reply to `request` from the front of `buf`, consuming what it used.
    ///
    /// - `Ok(None)`: the reply is not complete yet; call again with more bytes.
    /// - `Ok(Some(Ok(response)))`: one complete reply.
    /// - `Ok(Some(Err(error)))`: the server answered with an error reply
    ///   (`ERROR`, `CLIENT_ERROR`, `SERVER_ERROR`, ...); the stream is still in step.
    /// - `Err(Error::Protocol)`: the bytes break the protocol; the connection
    ///   must be closed.
    pub fn decode(
        &mut self,
        request: &Request,
        buf: &mut BytesMut,
    ) -> Result<Option<Result<Response>>> {
        let _ = (request, buf);
        todo!("ResponseDecoder::decode")
    }
}
