//! Client side: meta replies to [`Response::Meta`] and [`Response::MetaBatch`].
//!
//! A reply is `VA <size> <flags>*\r\n<data>\r\n`, `HD`, `EN`, `NS`, `EX`,
//! `NF`, `MN` (each with flags), `ME <key> <k>=<v>*`, or an error line. Like
//! the classic decoder, it is incremental (a `VA` header is parsed once, its
//! data block taken when whole), zero-copy (data and tokens are slices of the
//! read buffer) and strict: anything else breaks the protocol.
//!
//! - A standalone request gets one reply. A quiet one (sent with a trailing
//!   `mn`) gets an optional reply, then `MN`; when quiet mode suppressed the
//!   reply, the decoder answers what was suppressed: `EN` for `mg`, `HD` for
//!   `ms`, `md`, `ma`.
//! - A batch reads lines until `MN` and puts each at the request its `O`
//!   token names. A line without one (an error line, or `me`, which
//!   memcached answers without its opaque) goes to the requests between the
//!   two lines around it: to the one request there, or in order when there
//!   are as many lines as requests; otherwise an error goes to every request
//!   of that gap, and anything else is an error for each of them, never a
//!   value handed to the wrong request.
//! - A returned `k` key (and the key of `ME`) is base64-decoded when the
//!   request had `b`; the key of `ME` is returned as a `k` flag.

use std::ops::Range;

use bytes::{Buf, Bytes, BytesMut};

use super::budget::Budget;
use super::line::{bare_lf, error_line, parse_u64, unexpected, LINE_LIMIT};
use super::meta_key;
use crate::{
    Error, MetaCommand, MetaFlag, MetaRequest, MetaResponse, MetaStatus, Response, Result,
};

/// The progress of the meta reply being decoded.
#[derive(Debug, Default)]
pub(super) struct MetaDecoder {
    /// Bytes at the front of the buffer already searched for `\n` in vain.
    scanned: usize,
    /// A `VA` reply whose data block has not fully arrived, and its length.
    pending: Option<(MetaResponse, usize)>,
    /// A quiet standalone request's reply, seen before its `MN`.
    quiet_reply: Option<Result<MetaResponse>>,
    /// The replies of the batch in progress, by request position.
    replies: Vec<Option<Result<MetaResponse>>>,
    /// The lowest position a next `O` token may name.
    next: usize,
    /// Lines without an `O` token since the last line with one.
    gap: Vec<Result<MetaResponse>>,
}

/// One decoded line (with its data block): a reply, or the server's error.
type Item = Result<MetaResponse>;

/// What a decoded meta reply costs beyond its bytes, and each of its flags.
const REPLY_COST: usize = std::mem::size_of::<Option<Item>>();
const FLAG_COST: usize = std::mem::size_of::<MetaFlag>();

impl MetaDecoder {
    /// Forgets the reply in progress.
    pub(super) fn reset(&mut self) {
        self.scanned = 0;
        self.pending = None;
        self.quiet_reply = None;
        self.replies.clear();
        self.next = 0;
        self.gap.clear();
    }

    /// The reply to one standalone meta request.
    pub(super) fn single(
        &mut self,
        request: &MetaRequest,
        buf: &mut BytesMut,
        budget: &mut Budget,
    ) -> Result<Option<Result<Response>>> {
        let quiet = super::meta_encode::needs_noop(request);
        loop {
            let Some(item) = self.read(buf, budget)? else {
                return Ok(None);
            };
            let is_noop = matches!(&item, Ok(r) if r.status == Some(MetaStatus::Noop));
            if !quiet {
                return Ok(Some(finish(item, request)?.map(Response::Meta)));
            }
            if !is_noop {
                if self.quiet_reply.is_some() {
                    return Err(Error::Protocol(
                        "two replies to one quiet meta request".into(),
                    ));
                }
                self.quiet_reply = Some(finish(item, request)?);
                continue;
            }
            let reply = self
                .quiet_reply
                .take()
                .unwrap_or_else(|| Ok(suppressed(request.command)));
            return Ok(Some(reply.map(Response::Meta)));
        }
    }

    /// The replies to a quiet batch, up to its `MN`.
    pub(super) fn batch(
        &mut self,
        requests: &[MetaRequest],
        buf: &mut BytesMut,
        budget: &mut Budget,
    ) -> Result<Option<Result<Response>>> {
        if self.replies.len() != requests.len() {
            self.replies = (0..requests.len()).map(|_| None).collect();
        }
        loop {
            let Some(item) = self.read(buf, budget)? else {
                return Ok(None);
            };
            let position = match &item {
                Ok(reply) if reply.status == Some(MetaStatus::Noop) => {
                    self.close_gap(requests, requests.len())?;
                    for (slot, request) in self.replies.iter_mut().zip(requests) {
                        if request.command == MetaCommand::Noop {
                            *slot = Some(Ok(status(MetaStatus::Noop)));
                        }
                    }
                    let replies = std::mem::take(&mut self.replies);
                    return Ok(Some(Ok(Response::MetaBatch(replies))));
                }
                Ok(reply) => reply
                    .token(b'O')
                    .map(|token| self.position(token, requests)),
                Err(_) => None,
            };
            match position {
                None => {
                    self.gap.push(item);
                    // Each request is answered at most once: more lines
                    // without an opaque than requests left is no reply to
                    // this batch (and must not be buffered until `MN`).
                    if self.gap.len() > requests.len() - self.next {
                        return Err(Error::Protocol(format!(
                            "more replies without an opaque token than the {} requests left",
                            requests.len() - self.next
                        )));
                    }
                }
                Some(position) => {
                    let position = position?;
                    self.close_gap(requests, position)?;
                    self.replies[position] = Some(finish(item, &requests[position])?);
                    self.next = position + 1;
                }
            }
        }
    }

    /// The request position an `O` token names: one this codec sent, after
    /// the last one answered (memcached answers in order).
    fn position(&self, token: &[u8], requests: &[MetaRequest]) -> Result<usize> {
        parse_u64(token)
            .and_then(|n| usize::try_from(n).ok())
            .filter(|&n| {
                n >= self.next && n < requests.len() && requests[n].command != MetaCommand::Noop
            })
            .ok_or_else(|| Error::protocol("opaque token of no waiting request", token))
    }

    /// Hands the lines without an `O` token to the requests from `self.next`
    /// up to (not including) `end`.
    fn close_gap(&mut self, requests: &[MetaRequest], end: usize) -> Result<()> {
        if self.gap.is_empty() {
            return Ok(());
        }
        let lines = std::mem::take(&mut self.gap);
        let candidates: Vec<usize> = (self.next..end)
            .filter(|&i| requests[i].command != MetaCommand::Noop)
            .collect();
        if lines.len() > candidates.len() {
            return Err(Error::Protocol(format!(
                "{} replies without an opaque token for {} requests",
                lines.len(),
                candidates.len()
            )));
        }
        if lines.len() == candidates.len() {
            // Each request answered one line: in order.
            for (line, &position) in lines.into_iter().zip(&candidates) {
                self.replies[position] = Some(finish(line, &requests[position])?);
            }
            return Ok(());
        }
        let errors: Option<Vec<&Error>> = lines.iter().map(|line| line.as_ref().err()).collect();
        let shared = match errors {
            Some(errors) => combine(errors),
            None => Error::Protocol(
                "a meta reply without an opaque token could not be matched to its request".into(),
            ),
        };
        for position in candidates {
            self.replies[position] = Some(Err(shared.clone()));
        }
        Ok(())
    }

    /// The next reply line (with its data block), or `None` until it is whole.
    fn read(&mut self, buf: &mut BytesMut, budget: &mut Budget) -> Result<Option<Item>> {
        if self.pending.is_none() {
            let Some(line) = budget.find_line(buf, &mut self.scanned, LINE_LIMIT)? else {
                return Ok(None);
            };
            if !line.crlf {
                return Err(bare_lf(&buf[..line.total]));
            }
            if let Some(error) = error_line(&buf[..line.content]) {
                budget.charge(line.total, REPLY_COST)?;
                buf.advance(line.total);
                return Ok(Some(Err(error)));
            }
            let frame = buf.split_to(line.total).freeze().slice(..line.content);
            let (reply, len) = parse_line(&frame)?;
            let decoded = REPLY_COST + reply.flags.len() * FLAG_COST;
            let Some(len) = len else {
                budget.charge(line.total, decoded)?;
                return Ok(Some(Ok(reply)));
            };
            // The line and its block at once: a hostile length fails here,
            // before its bytes are waited for.
            let len = budget.charge_block(line.total, len, decoded, &frame)?;
            super::decode::reserve_block(buf, len);
            self.pending = Some((reply, len));
        }
        let Some((_, len)) = &self.pending else {
            return Ok(None);
        };
        let Some(data) = super::decode::take_block(buf, *len)? else {
            return Ok(None);
        };
        let Some((mut reply, _)) = self.pending.take() else {
            return Ok(None);
        };
        reply.data = Some(data);
        Ok(Some(Ok(reply)))
    }
}

/// Parses one reply line; the length of the data block that follows a `VA`.
fn parse_line(line: &Bytes) -> Result<(MetaResponse, Option<u64>)> {
    let bad = || Error::protocol("malformed meta reply", line);
    let (code, rest) = match line.get(2) {
        None => (&line[..], line.slice(line.len()..)),
        Some(b' ') => (&line[..2], line.slice(3..)),
        Some(_) => return Err(unexpected(line)),
    };
    let status = match code {
        b"VA" => MetaStatus::Value,
        b"HD" => MetaStatus::Header,
        b"EN" => MetaStatus::Miss,
        b"NS" => MetaStatus::NotStored,
        b"EX" => MetaStatus::Exists,
        b"NF" => MetaStatus::NotFound,
        b"MN" => MetaStatus::Noop,
        b"ME" => MetaStatus::Debug,
        _ => return Err(unexpected(line)),
    };
    if line.len() == 3 {
        // A code, a space and nothing.
        return Err(bad());
    }
    if status == MetaStatus::Debug {
        return debug(&rest).map(|reply| (reply, None)).ok_or_else(bad);
    }
    let mut tokens = tokens(&rest);
    let mut reply = self::status(status);
    let mut len = None;
    if status == MetaStatus::Value {
        let size = tokens.next().flatten().ok_or_else(bad)?;
        let size = parse_u64(&rest[size]).ok_or_else(bad)?;
        len = Some(size);
    }
    for token in tokens {
        let token = token.ok_or_else(bad)?;
        let Some(&flag) = rest[token.clone()]
            .first()
            .filter(|f| f.is_ascii_alphabetic())
        else {
            return Err(bad());
        };
        reply.flags.push(if token.len() > 1 {
            MetaFlag::with(flag, rest.slice(token.start + 1..token.end))
        } else {
            MetaFlag::bare(flag)
        });
    }
    Ok((reply, len))
}

/// `<key> <k>=<v>*` of an `ME` reply, read from the right: memcached 1.6.18
/// echoes a binary key raw (spaces and all) rather than in base64, so the
/// pairs are the trailing tokens with a `=`, and the key is what is left.
fn debug(rest: &Bytes) -> Option<MetaResponse> {
    let mut reply = status(MetaStatus::Debug);
    let mut end = rest.len();
    while let Some(space) = memchr::memrchr(b' ', &rest[..end]) {
        let pair = rest.slice(space + 1..end);
        let Some(eq) = memchr::memchr(b'=', &pair) else {
            break;
        };
        if eq == 0 {
            return None;
        }
        reply.debug.push((pair.slice(..eq), pair.slice(eq + 1..)));
        end = space;
    }
    // memcached always prints the pairs; a key alone is no dump.
    if end == 0 || reply.debug.is_empty() {
        return None;
    }
    reply.debug.reverse();
    reply.flags.push(MetaFlag::with(b'k', rest.slice(..end)));
    Some(reply)
}

/// The space-separated tokens of `rest`, as ranges of it, found as they are
/// read (no list per line); an empty one (two spaces, a trailing space) is
/// `None`, which fails the line.
fn tokens(rest: &[u8]) -> impl Iterator<Item = Option<Range<usize>>> + '_ {
    let mut start = 0;
    let ends = (!rest.is_empty()).then(|| memchr::memchr_iter(b' ', rest).chain([rest.len()]));
    ends.into_iter().flatten().map(move |end| {
        let token = (end > start).then_some(start..end);
        start = end + 1;
        token
    })
}

/// A reply with only a status.
fn status(status: MetaStatus) -> MetaResponse {
    MetaResponse {
        status: Some(status),
        ..MetaResponse::default()
    }
}

/// What quiet mode suppressed: `EN` for `mg` (and `me`), `HD` for the writes.
fn suppressed(command: MetaCommand) -> MetaResponse {
    status(match command {
        MetaCommand::Get | MetaCommand::Debug => MetaStatus::Miss,
        MetaCommand::Noop => MetaStatus::Noop,
        MetaCommand::Set | MetaCommand::Delete | MetaCommand::Arithmetic => MetaStatus::Header,
    })
}

/// Checks that a reply can answer `request` and decodes its base64 key.
fn finish(item: Item, request: &MetaRequest) -> Result<Item> {
    let Ok(mut reply) = item else {
        return Ok(item);
    };
    let status = reply.status.unwrap_or(MetaStatus::Noop);
    if !fits(request.command, status) {
        return Err(Error::Protocol(format!(
            "unexpected meta reply {status:?} to {}",
            String::from_utf8_lossy(super::meta_encode::code(request.command))
        )));
    }
    if request.has_flag(b'b') && status == MetaStatus::Debug {
        // The key of `ME` is base64 or raw depending on the server's
        // version: the request's own key is the one it names.
        for flag in reply.flags.iter_mut().filter(|f| f.flag == b'k') {
            flag.token = Some(request.key.clone());
        }
    } else if request.has_flag(b'b') || reply.flags.iter().any(|f| f.flag == b'b') {
        // memcached sends the key of an item stored with a binary key in
        // base64, with `b`, even to a request that named it in plain text.
        for flag in &mut reply.flags {
            if flag.flag == b'k' {
                if let Some(token) = &flag.token {
                    flag.token = Some(meta_key::decode(token)?);
                }
            }
        }
    }
    // A returned key names the item the reply is about: another key means
    // the reply is not this request's, whatever else it says.
    if let Some(key) = reply.token(b'k') {
        if *key != request.key {
            return Err(Error::protocol(
                "meta reply for another key than the request's",
                key,
            ));
        }
    }
    Ok(Ok(reply))
}

/// The statuses each command may be answered with.
fn fits(command: MetaCommand, status: MetaStatus) -> bool {
    use MetaStatus::*;
    match command {
        MetaCommand::Get => matches!(status, Value | Header | Miss),
        MetaCommand::Set => matches!(status, Header | NotStored | Exists | NotFound),
        MetaCommand::Delete => matches!(status, Header | NotFound | Exists),
        MetaCommand::Arithmetic => {
            matches!(status, Value | Header | NotFound | NotStored | Exists)
        }
        MetaCommand::Noop => status == Noop,
        MetaCommand::Debug => matches!(status, Debug | Miss),
    }
}

/// One error for several error lines that cannot be told apart: the first's
/// kind, every message.
fn combine(errors: Vec<&Error>) -> Error {
    let Some(&first) = errors.first() else {
        return Error::Protocol("no error to combine".into());
    };
    if errors.iter().all(|error| *error == first) {
        return first.clone();
    }
    let messages: Vec<String> = errors.iter().map(|error| message(error)).collect();
    let joined = messages.join("; ");
    match first {
        Error::Client(_) => Error::Client(joined),
        Error::UnknownCommand(_) => Error::UnknownCommand(joined),
        _ => Error::Server(joined),
    }
}

/// The server's message inside an error line's error.
fn message(error: &Error) -> String {
    match error {
        Error::Client(m) | Error::Server(m) | Error::UnknownCommand(m) => m.clone(),
        other => other.to_string(),
    }
}
