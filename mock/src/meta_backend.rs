//! The meta commands on the [`Backend`](memclient::Backend) path: what a
//! memclient client decodes when it sends the request to memcached 1.6.18.
//!
//! The request is written out as the client writes it and read back by the
//! server codec, so a request the real server would refuse (an `E` flag, a
//! bad token, a long opaque) gets the same error here. Then:
//!
//! - a standalone request with `q` whose reply memcached suppresses answers
//!   what was suppressed, without flags: `EN` for `mg`, `HD` for `ms`, `md`,
//!   `ma` (the client sends a trailing `mn` and sees only `MN`);
//! - a [`Request::MetaBatch`](memclient::Request::MetaBatch) runs each
//!   request with its own `q` and `O` replaced by `q O<index>` (so replies
//!   echo `O<index>`), answers `None` where the reply was suppressed, the
//!   error where memcached sent one, and `MN` for an `mn` inside the batch;
//! - a returned `k` key is the raw key when the request had `b`, and as the
//!   server wrote it otherwise (base64 for a key stored with `b`); `ME`'s key
//!   comes as a `k` flag, likewise.
//!
//! A key or flag token that cannot travel in one token (a space, `\r`,
//! `\n`, NUL; an empty key) without `b` is refused with `CLIENT_ERROR bad
//! command line format`: on the wire it would be a different command.

use bytes::{BufMut, Bytes, BytesMut};
use memclient::proto::server::{base64_encode, Decoded, RequestDecoder};
use memclient::{
    Error, MetaCommand, MetaFlag, MetaRequest, MetaResponse, MetaStatus, Request, Result,
    StoreCommand,
};

use crate::session::reply_error;
use crate::MockMemcache;

impl MockMemcache {
    /// One standalone meta request.
    pub(crate) fn backend_meta(&self, request: &MetaRequest) -> Result<MetaResponse> {
        let reply = self.run_meta(request)?;
        if reply.quiet {
            return Ok(MetaResponse {
                status: Some(suppressed(request.command)),
                ..MetaResponse::default()
            });
        }
        Ok(shape(reply.response, request))
    }

    /// A quiet batch, as the client pipelines it.
    pub(crate) fn backend_meta_batch(
        &self,
        requests: &[MetaRequest],
    ) -> Vec<Option<Result<MetaResponse>>> {
        requests
            .iter()
            .enumerate()
            .map(|(index, request)| {
                if request.command == MetaCommand::Noop {
                    return Some(Ok(MetaResponse {
                        status: Some(MetaStatus::Noop),
                        ..MetaResponse::default()
                    }));
                }
                let mut sent = request.clone();
                sent.flags.retain(|f| f.flag != b'q' && f.flag != b'O');
                sent.flags.push(MetaFlag::bare(b'q'));
                sent.flags.push(MetaFlag::with(b'O', index.to_string()));
                match self.run_meta(&sent) {
                    Err(error) => Some(Err(error)),
                    Ok(reply) if reply.quiet => None,
                    Ok(reply) => Some(Ok(shape(reply.response, request))),
                }
            })
            .collect()
    }

    /// Sends `request` through the server codec and runs what it decodes.
    fn run_meta(&self, request: &MetaRequest) -> Result<crate::store::MetaReply> {
        let mut wire = to_wire(request)?;
        let mut decoder = RequestDecoder::with_max_item_size(self.max_item_size());
        match decoder.decode(&mut wire) {
            Some(Decoded::Request(Request::Meta(parsed))) => {
                let now = self.shared.clock.now_secs();
                self.cache().meta(parsed, now)
            }
            Some(Decoded::Reply(reply) | Decoded::ReplyDroppingUnsent(reply)) => {
                Err(reply_error(&reply))
            }
            Some(Decoded::TooLarge { key, .. }) => Err(self.too_large(StoreCommand::Set, &key)),
            Some(Decoded::BadDataChunk { .. }) => Err(self.bad_data_chunk()),
            _ => Err(Error::Client("bad command line format".into())),
        }
    }
}

/// What quiet mode suppressed, as the client reports it.
fn suppressed(command: MetaCommand) -> MetaStatus {
    match command {
        MetaCommand::Get | MetaCommand::Debug => MetaStatus::Miss,
        MetaCommand::Noop => MetaStatus::Noop,
        MetaCommand::Set | MetaCommand::Delete | MetaCommand::Arithmetic => MetaStatus::Header,
    }
}

/// The reply as the client decodes it: keys base64 on the wire unless the
/// request's `b` lets the client decode them.
fn shape(mut response: MetaResponse, request: &MetaRequest) -> MetaResponse {
    let request_binary = request.has_flag(b'b');
    if response.status == Some(MetaStatus::Debug) {
        if request_binary {
            for flag in response.flags.iter_mut().filter(|f| f.flag == b'k') {
                flag.token = Some(request.key.clone());
            }
        }
        return response;
    }
    if !request_binary && response.has_flag(b'b') {
        for flag in response.flags.iter_mut().filter(|f| f.flag == b'k') {
            if let Some(token) = &flag.token {
                flag.token = Some(Bytes::from(base64_encode(token)));
            }
        }
    }
    response
}

/// True for bytes that would end a token or a line on the wire.
fn breaks_token(bytes: &[u8]) -> bool {
    bytes.iter().any(|b| matches!(b, b' ' | b'\r' | b'\n' | 0))
}

/// The request's wire form, as the client encodes it.
fn to_wire(request: &MetaRequest) -> Result<BytesMut> {
    let bad = || Error::Client("bad command line format".into());
    let mut out = BytesMut::new();
    let code: &[u8] = match request.command {
        MetaCommand::Get => b"mg",
        MetaCommand::Set => b"ms",
        MetaCommand::Delete => b"md",
        MetaCommand::Arithmetic => b"ma",
        MetaCommand::Noop => {
            out.put_slice(b"mn\r\n");
            return Ok(out);
        }
        MetaCommand::Debug => b"me",
    };
    out.put_slice(code);
    out.put_u8(b' ');
    if request.has_flag(b'b') {
        if request.key.is_empty() {
            return Err(bad());
        }
        out.put_slice(&base64_encode(&request.key));
    } else {
        if request.key.is_empty() || breaks_token(&request.key) {
            return Err(bad());
        }
        out.put_slice(&request.key);
    }
    let data = request.data.clone().unwrap_or_default();
    if request.command == MetaCommand::Set {
        out.put_slice(format!(" {}", data.len()).as_bytes());
    }
    for flag in &request.flags {
        let token = flag.token.as_deref().unwrap_or(b"");
        if breaks_token(&[flag.flag]) || breaks_token(token) {
            return Err(bad());
        }
        out.put_u8(b' ');
        out.put_u8(flag.flag);
        out.put_slice(token);
    }
    out.put_slice(b"\r\n");
    if request.command == MetaCommand::Set {
        out.put_slice(&data);
        out.put_slice(b"\r\n");
    }
    Ok(out)
}
