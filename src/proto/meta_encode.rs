//! Client side: the meta commands (`mg`, `ms`, `md`, `ma`, `mn`, `me`) to bytes.
//!
//! `<cm> <key> [<datalen>] <flags...>\r\n[<data>\r\n]`. A key with the `b`
//! flag goes out base64-encoded, so any bytes (spaces, `\r\n`, 0xff) travel
//! inside one token. A standalone quiet request is followed by `mn`, so the
//! decoder always sees where its (possibly suppressed) reply ends; a batch is
//! each request with `q` and `O<index>` and one `mn` at the end.

use bytes::{BufMut, BytesMut};

use super::digits::put_u64;
use super::meta_key;
use crate::{MetaCommand, MetaRequest};

/// The two-letter code of `command`.
pub(super) fn code(command: MetaCommand) -> &'static [u8; 2] {
    match command {
        MetaCommand::Get => b"mg",
        MetaCommand::Set => b"ms",
        MetaCommand::Delete => b"md",
        MetaCommand::Arithmetic => b"ma",
        MetaCommand::Noop => b"mn",
        MetaCommand::Debug => b"me",
    }
}

/// True when a standalone `request` is sent with a trailing `mn`: it asked
/// for quiet mode, so its reply may be suppressed. `mn` itself never is.
pub(super) fn needs_noop(request: &MetaRequest) -> bool {
    request.command != MetaCommand::Noop && request.has_flag(b'q')
}

/// A standalone meta request.
pub(super) fn meta(request: &MetaRequest, out: &mut BytesMut) {
    out.reserve(room(request));
    line(request, None, out);
    if needs_noop(request) {
        out.put_slice(b"mn\r\n");
    }
}

/// A quiet batch: each request with `q` and `O<index>`, then `mn`. A `mn`
/// inside the batch is not sent (its `MN` would end the batch early); the
/// decoder answers it itself.
pub(super) fn batch(requests: &[MetaRequest], out: &mut BytesMut) {
    out.reserve(requests.iter().map(|r| room(r) + 24).sum::<usize>() + 4);
    for (index, request) in requests.iter().enumerate() {
        if request.command != MetaCommand::Noop {
            line(request, Some(index), out);
        }
    }
    out.put_slice(b"mn\r\n");
}

/// Bytes a request needs, beyond a small fixed part.
fn room(request: &MetaRequest) -> usize {
    let key = meta_key::encoded_len(request.key.len()) + 1;
    let flags: usize = request
        .flags
        .iter()
        .map(|f| 2 + f.token.as_ref().map_or(0, |t| t.len()))
        .sum();
    let data = request.data.as_ref().map_or(0, |d| d.len() + 2);
    32 + key + flags + data
}

/// One command line (and the data block of `ms`). In a batch (`index` set)
/// the request's own `q` and `O` are replaced by the batch's.
fn line(request: &MetaRequest, index: Option<usize>, out: &mut BytesMut) {
    out.put_slice(code(request.command));
    if request.command == MetaCommand::Noop {
        out.put_slice(b"\r\n");
        return;
    }
    out.put_u8(b' ');
    if request.has_flag(b'b') {
        meta_key::encode(&request.key, out);
    } else {
        out.put_slice(&request.key);
    }
    if request.command == MetaCommand::Set {
        out.put_u8(b' ');
        put_u64(request.data.as_ref().map_or(0, |d| d.len()) as u64, out);
    }
    for flag in &request.flags {
        if index.is_some() && (flag.flag == b'q' || flag.flag == b'O') {
            continue;
        }
        out.put_u8(b' ');
        out.put_u8(flag.flag);
        if let Some(token) = &flag.token {
            out.put_slice(token);
        }
    }
    if let Some(index) = index {
        out.put_slice(b" q O");
        put_u64(index as u64, out);
    }
    out.put_slice(b"\r\n");
    if request.command == MetaCommand::Set {
        if let Some(data) = &request.data {
            out.put_slice(data);
        }
        out.put_slice(b"\r\n");
    }
}
