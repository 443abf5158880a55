//! Replies to bytes, exactly as memcached 1.6.18 writes them.

use bytes::{BufMut, BytesMut};

use crate::{Error, LruCrawler, Request, Response, Result};

/// The failure lines of admin commands that memcached writes without a
/// `SERVER_ERROR` prefix. They travel as [`Error::Server`] with the whole line
/// as the message (`NOSPARE source class has no spare pages`).
const BARE_FAILURES: &[&str] = &[
    "BADCLASS",
    "BUSY",
    "MEMLIMIT_ADJUST_FAILED",
    "MEMLIMIT_TOO_SMALL",
    "NOSPARE",
    "NOTFULL",
    "NOTSTARTED",
    "SAME",
    "UNSAFE",
];

/// Appends the wire form of the reply to `request` to `out`.
///
/// [`Response::NoReply`] writes nothing. The request is needed for the one
/// reply whose framing depends on it: `lru_crawler metadump` ends its item
/// lines with a bare `\n` (only the final `END` gets `\r\n`), where `stats`
/// lines end with `\r\n`.
pub fn encode_reply(request: &Request, reply: &Result<Response>, out: &mut BytesMut) {
    let response = match reply {
        Ok(response) => response,
        Err(error) => return encode_error(error, out),
    };
    let line = |out: &mut BytesMut, text: &[u8]| {
        out.put_slice(text);
        out.put_slice(b"\r\n");
    };
    match response {
        Response::Values(values) => {
            for value in values {
                out.put_slice(b"VALUE ");
                out.put_slice(&value.key);
                let header = match value.cas {
                    Some(cas) => format!(" {} {} {}\r\n", value.flags, value.data.len(), cas),
                    None => format!(" {} {}\r\n", value.flags, value.data.len()),
                };
                out.put_slice(header.as_bytes());
                line(out, &value.data);
            }
            line(out, b"END");
        }
        Response::Stored => line(out, b"STORED"),
        Response::NotStored => line(out, b"NOT_STORED"),
        Response::Exists => line(out, b"EXISTS"),
        Response::NotFound => line(out, b"NOT_FOUND"),
        Response::Deleted => line(out, b"DELETED"),
        Response::Touched => line(out, b"TOUCHED"),
        Response::Ok => line(out, b"OK"),
        Response::Number(n) => line(out, n.to_string().as_bytes()),
        Response::Lines(lines) => {
            let metadump = matches!(request, Request::LruCrawler(LruCrawler::Metadump(_)));
            for text in lines {
                out.put_slice(text);
                out.put_slice(if metadump { b"\n" } else { b"\r\n" });
            }
            line(out, b"END");
        }
        Response::Version(version) => {
            out.put_slice(b"VERSION ");
            line(out, version);
        }
        Response::Line(text) => line(out, text),
        Response::NoReply => {}
        Response::Meta(meta) => super::meta_reply::encode_meta(meta, out),
        Response::MetaBatch(replies) => {
            // The wire form of a quiet batch: the replies not suppressed, in
            // order, then the `MN` of the `mn` that ends it.
            for reply in replies.iter().flatten() {
                match reply {
                    Ok(meta) => super::meta_reply::encode_meta(meta, out),
                    Err(error) => encode_error(error, out),
                }
            }
            line(out, b"MN");
        }
        // `Response` is non-exhaustive; a future reply kind has no wire form yet.
        #[allow(unreachable_patterns)]
        _ => line(out, b"SERVER_ERROR unsupported reply"),
    }
}

/// Appends the error reply line for `error` to `out`.
///
/// - [`Error::Client`]: `CLIENT_ERROR <message>`;
/// - [`Error::Server`]: `SERVER_ERROR <message>`, or the message alone when it
///   is an admin failure line (`NOSPARE ...`, `MEMLIMIT_TOO_SMALL ...`);
/// - [`Error::UnknownCommand`]: `ERROR`, `ERROR: shutdown not enabled`, or
///   `ERROR <message>` (the lru crawler's `ERROR failed to start ...`);
/// - anything else (a fault injected into the mock): `SERVER_ERROR <error>`.
pub fn encode_error(error: &Error, out: &mut BytesMut) {
    let text = match error {
        Error::Client(message) => format!("CLIENT_ERROR {message}"),
        Error::Server(message) => {
            let word = message.split(' ').next().unwrap_or("");
            if BARE_FAILURES.contains(&word) {
                message.clone()
            } else {
                format!("SERVER_ERROR {message}")
            }
        }
        Error::UnknownCommand(message) if message.is_empty() => "ERROR".to_string(),
        Error::UnknownCommand(message) if message == "shutdown not enabled" => {
            format!("ERROR: {message}")
        }
        Error::UnknownCommand(message) => format!("ERROR {message}"),
        other => format!("SERVER_ERROR {other}"),
    };
    out.put_slice(text.as_bytes());
    out.put_slice(b"\r\n");
}
