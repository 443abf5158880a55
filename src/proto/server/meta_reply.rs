//! Meta replies to bytes, as memcached 1.6.18 writes them.
//!
//! `<code> [<size>] <flags>*\r\n`, then the data block of `VA`. Returned
//! flags go out in the order of [`MetaResponse::flags`] (the store keeps
//! memcached's order: the request's order, then `Z`, `X`, `W`). A `k` flag
//! carries the raw key: it is written base64-encoded when the reply also
//! carries a `b` flag, as memcached does for keys stored in binary. `ME`
//! writes its `k` token as its key, in base64 when the reply carries `b`
//! (memcached prints a binary key in base64 there, without a `b` marker),
//! then the `key=value` pairs.
//!
//! Quiet mode is the store's business: a suppressed reply reaches the codec
//! as [`Response::NoReply`](crate::Response::NoReply).

use bytes::{BufMut, BytesMut};

use super::base64::base64_encode;
use crate::{MetaResponse, MetaStatus};

/// Appends the wire form of one meta reply.
pub(crate) fn encode_meta(response: &MetaResponse, out: &mut BytesMut) {
    let Some(status) = response.status else {
        out.put_slice(b"SERVER_ERROR unsupported reply\r\n");
        return;
    };
    let data = response.data.as_ref();
    match status {
        MetaStatus::Value => {
            out.put_slice(b"VA ");
            out.put_slice(data.map_or(0, |d| d.len()).to_string().as_bytes());
        }
        MetaStatus::Header => out.put_slice(b"HD"),
        MetaStatus::Miss => out.put_slice(b"EN"),
        MetaStatus::NotStored => out.put_slice(b"NS"),
        MetaStatus::Exists => out.put_slice(b"EX"),
        MetaStatus::NotFound => out.put_slice(b"NF"),
        MetaStatus::Noop => out.put_slice(b"MN"),
        MetaStatus::Debug => {
            out.put_slice(b"ME");
            if let Some(key) = response.token(b'k') {
                out.put_u8(b' ');
                if response.has_flag(b'b') {
                    out.put_slice(&base64_encode(key));
                } else {
                    out.put_slice(key);
                }
            }
            for (name, value) in &response.debug {
                out.put_u8(b' ');
                out.put_slice(name);
                out.put_u8(b'=');
                out.put_slice(value);
            }
            out.put_slice(b"\r\n");
            return;
        }
    }
    let binary_key = response.has_flag(b'b');
    for flag in &response.flags {
        out.put_u8(b' ');
        out.put_u8(flag.flag);
        match &flag.token {
            Some(token) if flag.flag == b'k' && binary_key => {
                out.put_slice(&base64_encode(token));
            }
            Some(token) => out.put_slice(token),
            None => {}
        }
    }
    out.put_slice(b"\r\n");
    if status == MetaStatus::Value {
        if let Some(data) = data {
            out.put_slice(data);
        }
        out.put_slice(b"\r\n");
    }
}
