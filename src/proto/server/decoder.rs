//! [`RequestDecoder`]: incremental request parsing over a read buffer.

use bytes::{Bytes, BytesMut};

use super::command::parse_line;
use super::limits::{DEFAULT_MAX_ITEM_SIZE, MAX_LINE_LEN};
use super::outcome::{LineOutcome, PendingMeta, PendingStore};
use crate::{MetaRequest, Request, Store, StoreCommand};

/// A long `get` line is allowed past [`MAX_LINE_LEN`], but not without bound:
/// the mock would otherwise buffer whatever a broken client sends.
const MAX_GET_LINE_LEN: usize = 64 * 1024 * 1024;

/// One thing the server has to act on, in the order the client sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    /// A well-formed request to execute and answer with [`encode_reply`](super::encode_reply).
    Request(Request),
    /// A malformed command that memcached rejects without executing anything:
    /// write these bytes (a complete reply line) back.
    Reply(Bytes),
    /// A `get` with a key over 250 bytes: memcached answers `CLIENT_ERROR bad
    /// command line format`, and first drops every reply of the connection it
    /// has not written yet (those of the commands pipelined before it since
    /// its last write). Write these bytes in their place.
    ReplyDroppingUnsent(Bytes),
    /// A storage command whose value exceeds the item size limit. memcached
    /// answers `SERVER_ERROR object too large for cache` (unless `noreply`),
    /// swallows the data block (the decoder does that), and for `set` removes
    /// the key's old value so that no stale value survives the failed write.
    /// A too-large `ms` comes as `Set` without `noreply`, whatever its mode
    /// and flags: memcached removes the old value and answers in every case.
    TooLarge {
        /// The storage command.
        command: StoreCommand,
        /// Its key.
        key: Bytes,
        /// The command asked for no reply.
        noreply: bool,
    },
    /// A data block not followed by `\r\n`. memcached counts the command as a
    /// set (`cmd_set`) and answers `CLIENT_ERROR bad data chunk` unless the
    /// command had `noreply` (an `ms` always answers); the bytes after the
    /// announced length are read as the next command.
    BadDataChunk {
        /// The command asked for no reply.
        noreply: bool,
    },
    /// memcached closes the connection here without a reply (a line too long
    /// without a line end, an HTTP request). Nothing more will be decoded.
    Close,
}

#[derive(Debug)]
enum State {
    /// Waiting for a command line.
    Line,
    /// Waiting for the data block of a storage command.
    Data(PendingStore),
    /// Waiting for the data block of an `ms`.
    MetaData(PendingMeta),
    /// Discarding this many more bytes (the data block of a too-large value).
    Swallow(usize),
    /// The connection is to be closed; nothing more is decoded.
    Closed,
}

/// Decodes requests from a connection's read buffer, one at a time.
///
/// The decoder keeps its place between calls, so input may arrive in pieces of
/// any size (a byte at a time, or many pipelined commands in one read). Keys
/// and values are slices of the buffer, not copies.
#[derive(Debug)]
pub struct RequestDecoder {
    state: State,
    max_item_size: usize,
}

impl Default for RequestDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl RequestDecoder {
    /// A decoder with memcached's default item size limit (1 MiB).
    pub fn new() -> Self {
        Self::with_max_item_size(DEFAULT_MAX_ITEM_SIZE)
    }

    /// A decoder for a server started with `-I <max_item_size>`: storage
    /// commands whose [`item_size`](super::item_size) exceeds it are rejected
    /// before their data block is read.
    pub fn with_max_item_size(max_item_size: usize) -> Self {
        Self {
            state: State::Line,
            max_item_size,
        }
    }

    /// True while the decoder is inside a data block (reading it, or
    /// swallowing a too-large one). memcached writes no reply in that state:
    /// the replies of the commands before wait until the block is complete.
    pub fn in_data_block(&self) -> bool {
        matches!(
            self.state,
            State::Data(_) | State::MetaData(_) | State::Swallow(_)
        )
    }

    /// Decodes the next thing to act on from the front of `buf`, consuming the
    /// bytes it used. `None` means more input is needed (or the decoder has
    /// returned [`Decoded::Close`]). Malformed commands whose reply is silenced
    /// by `noreply` are skipped without a trace, as memcached does.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Option<Decoded> {
        loop {
            match &mut self.state {
                State::Closed => return None,
                State::Swallow(left) => {
                    let take = (*left).min(buf.len());
                    let _ = buf.split_to(take);
                    *left -= take;
                    if *left > 0 {
                        return None;
                    }
                    self.state = State::Line;
                }
                State::Data(pending) => {
                    let total = pending.len + 2;
                    if buf.len() < total {
                        return None;
                    }
                    let block = buf.split_to(total).freeze();
                    let State::Data(pending) = std::mem::replace(&mut self.state, State::Line)
                    else {
                        unreachable!("matched above")
                    };
                    if block.ends_with(b"\r\n") {
                        return Some(Decoded::Request(Request::Store(Store {
                            command: pending.command,
                            key: pending.key,
                            flags: pending.flags,
                            exptime: pending.exptime,
                            value: block.slice(..pending.len),
                            noreply: pending.noreply,
                        })));
                    }
                    return Some(Decoded::BadDataChunk {
                        noreply: pending.noreply,
                    });
                }
                State::MetaData(pending) => {
                    let total = pending.len + 2;
                    if buf.len() < total {
                        return None;
                    }
                    let block = buf.split_to(total).freeze();
                    let State::MetaData(PendingMeta { request, len }) =
                        std::mem::replace(&mut self.state, State::Line)
                    else {
                        unreachable!("matched above")
                    };
                    if !block.ends_with(b"\r\n") {
                        // `q` does not silence it: meta errors always show.
                        return Some(Decoded::BadDataChunk { noreply: false });
                    }
                    return Some(Decoded::Request(Request::Meta(MetaRequest {
                        data: Some(block.slice(..len)),
                        ..request
                    })));
                }
                State::Line => {
                    let Some(end) = buf.iter().position(|&b| b == b'\n') else {
                        return self.incomplete_line(buf);
                    };
                    let frame = buf.split_to(end + 1).freeze();
                    // memcached strips a `\r` before the `\n` only when the
                    // line has other content (`\r\n` alone stays "\r").
                    let mut line_end = end;
                    if end > 1 && frame[end - 1] == b'\r' {
                        line_end -= 1;
                    }
                    // The line is a C string to memcached: a NUL ends it.
                    if let Some(nul) = frame[..line_end].iter().position(|&b| b == 0) {
                        line_end = nul;
                    }
                    let line = frame.slice(..line_end);
                    match parse_line(&line, self.max_item_size) {
                        LineOutcome::Request(request) => return Some(Decoded::Request(request)),
                        LineOutcome::Data(pending) => self.state = State::Data(pending),
                        LineOutcome::MetaData(pending) => self.state = State::MetaData(pending),
                        LineOutcome::SwallowReply { text, swallow } => {
                            self.state = State::Swallow(swallow);
                            return Some(reply(text));
                        }
                        LineOutcome::Reply { text, noreply } => {
                            if !noreply {
                                return Some(reply(text));
                            }
                        }
                        LineOutcome::DropUnsent(text) => {
                            return Some(match reply(text) {
                                Decoded::Reply(bytes) => Decoded::ReplyDroppingUnsent(bytes),
                                other => other,
                            });
                        }
                        LineOutcome::TooLarge {
                            command,
                            key,
                            noreply,
                            swallow,
                        } => {
                            self.state = State::Swallow(swallow);
                            return Some(Decoded::TooLarge {
                                command,
                                key,
                                noreply,
                            });
                        }
                        LineOutcome::Close => {
                            self.state = State::Closed;
                            return Some(Decoded::Close);
                        }
                    }
                }
            }
        }
    }

    /// No line end yet: wait, or give up on a line that is too long.
    fn incomplete_line(&mut self, buf: &mut BytesMut) -> Option<Decoded> {
        if buf.len() <= MAX_LINE_LEN {
            return None;
        }
        let spaces = buf.iter().take_while(|&&b| b == b' ').count();
        let rest = &buf[spaces..];
        let is_get = spaces <= 100 && (rest.starts_with(b"get ") || rest.starts_with(b"gets "));
        if is_get && buf.len() <= MAX_GET_LINE_LEN {
            return None;
        }
        self.state = State::Closed;
        buf.clear();
        Some(Decoded::Close)
    }
}

fn reply(text: &str) -> Decoded {
    let mut line = Vec::with_capacity(text.len() + 2);
    line.extend_from_slice(text.as_bytes());
    line.extend_from_slice(b"\r\n");
    Decoded::Reply(line.into())
}
