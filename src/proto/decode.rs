//! Client side: bytes to [`Response`].

use bytes::{Buf, Bytes, BytesMut};

use super::budget::{Budget, DEFAULT_MAX_REPLY_LEN};
use super::line::{
    bare_lf, error_line, is_digits, is_failure_line, parse_u64, text, unexpected, Line, LINE_LIMIT,
    LONG_LINE_LIMIT,
};
use super::meta_decode::MetaDecoder;
use super::table::{Expect, LinesKind};
use crate::{Error, Request, Response, Result, Value};

/// Decodes replies one at a time, in the order the requests were sent.
///
/// The decoder keeps the progress of a reply that has not fully arrived (the
/// values of a multi-key `get` already parsed), so feeding a reply in pieces
/// costs no re-parsing of what came before.
///
/// Its limits keep a broken or hostile server from making it buffer without
/// end: a line of a single-line reply or a `VALUE` header may be 8 KiB long, a
/// line of a `stats`, `lru_crawler metadump` or raw reply 64 KiB, and one
/// whole reply [`max_reply_len`](Self::with_max_reply_len) bytes
/// ([`DEFAULT_MAX_REPLY_LEN`], 64 MiB, by default). The reply's size counts
/// its values, its lines (however many), the replies of a meta batch waiting
/// for `MN`, and the few dozen bytes each decoded line or value takes; a reply
/// that would pass the limit is [`Error::Protocol`] as soon as its bytes (or a
/// `VALUE`/`VA` header declaring them) arrive, so the decoder holds at most
/// the limit plus one read's worth of bytes.
///
/// ```
/// use bytes::BytesMut;
/// use memclient::proto::ResponseDecoder;
/// use memclient::{Error, Request};
///
/// let mut decoder = ResponseDecoder::with_max_reply_len(1024);
/// let stats = Request::Stats { args: vec![] };
/// let mut flood = BytesMut::from(&b"STAT a b\r\n".repeat(200)[..]);
/// assert!(matches!(decoder.decode(&stats, &mut flood), Err(Error::Protocol(_))));
/// ```
#[derive(Debug)]
pub struct ResponseDecoder {
    /// The size limit of one reply, and what the reply in progress took.
    budget: Budget,
    /// Bytes at the front of the buffer already searched for `\n` in vain.
    scanned: usize,
    /// The `VALUE` header parsed whose data block has not fully arrived.
    pending: Option<PendingValue>,
    /// Index of the first request key a next `VALUE` may name.
    next_key: usize,
    /// The values of the retrieval reply in progress.
    values: Vec<Value>,
    /// The lines of the multi-line reply in progress.
    lines: Vec<Bytes>,
    /// The meta reply in progress.
    meta: MetaDecoder,
}

/// A parsed `VALUE` header, waiting for its data block.
#[derive(Debug, Clone, Copy)]
struct PendingValue {
    /// Index of the key in the request's keys.
    key: usize,
    flags: u32,
    cas: Option<u64>,
    /// Length of the data block, without its `\r\n`.
    len: usize,
}

impl Default for ResponseDecoder {
    fn default() -> Self {
        Self::with_max_reply_len(DEFAULT_MAX_REPLY_LEN)
    }
}

impl ResponseDecoder {
    /// A decoder with the default limits.
    pub fn new() -> Self {
        Self::default()
    }

    /// A decoder that rejects, as a protocol violation, a reply larger than
    /// `max_reply_len` bytes (default [`DEFAULT_MAX_REPLY_LEN`], 64 MiB): a
    /// value, the values of a multi-key read together, the lines of a
    /// `stats` or `lru_crawler metadump` reply, a meta batch.
    pub fn with_max_reply_len(max_reply_len: usize) -> Self {
        ResponseDecoder {
            budget: Budget::new(max_reply_len),
            scanned: 0,
            pending: None,
            next_key: 0,
            values: Vec::new(),
            lines: Vec::new(),
            meta: MetaDecoder::default(),
        }
    }

    /// The former name of [`with_max_reply_len`](Self::with_max_reply_len):
    /// the limit now covers the whole reply, not only one value.
    #[deprecated(note = "renamed to `with_max_reply_len`; the limit covers the whole reply")]
    pub fn with_max_value_len(max_value_len: usize) -> Self {
        Self::with_max_reply_len(max_value_len)
    }

    /// Charges every reply to `budget` too, which other decoders share (a
    /// pool's connections): see `SharedReplyBudget`.
    pub(crate) fn sharing(
        mut self,
        budget: std::sync::Arc<super::budget::SharedReplyBudget>,
    ) -> Self {
        self.budget.share(budget);
        self
    }

    /// The size limit of one reply, in bytes.
    pub fn max_reply_len(&self) -> usize {
        self.budget.limit()
    }

    /// Decodes the reply to `request` from the front of `buf`, consuming what it used.
    ///
    /// - `Ok(None)`: the reply is not complete yet; call again with more bytes.
    /// - `Ok(Some(Ok(response)))`: one complete reply.
    /// - `Ok(Some(Err(error)))`: the server answered with an error reply
    ///   (`ERROR`, `CLIENT_ERROR`, `SERVER_ERROR`, ...); the stream is still in step.
    /// - `Err(Error::Protocol)`: the bytes break the protocol; the connection
    ///   must be closed.
    ///
    /// A request that [expects no reply](Request::expects_reply) decodes to
    /// [`Response::NoReply`] at once, consuming nothing.
    pub fn decode(
        &mut self,
        request: &Request,
        buf: &mut BytesMut,
    ) -> Result<Option<Result<Response>>> {
        let outcome = match super::table::row(request).expect {
            Expect::Nothing => Ok(Some(Ok(Response::NoReply))),
            Expect::Values { cas } => self.values(request.keys(), cas, buf),
            Expect::Lines(kind) => self.lines(kind, buf),
            Expect::Meta | Expect::MetaBatch => self.meta(request, buf),
            single => self.single_line(single, buf),
        };
        if !matches!(outcome, Ok(None)) {
            self.reset();
        }
        outcome
    }

    /// Forgets the reply in progress: the next call starts a new one.
    fn reset(&mut self) {
        self.budget.reset();
        self.scanned = 0;
        self.pending = None;
        self.next_key = 0;
        self.values.clear();
        self.lines.clear();
        self.meta.reset();
    }

    /// A meta reply, or the replies of a meta batch.
    fn meta(&mut self, request: &Request, buf: &mut BytesMut) -> Result<Option<Result<Response>>> {
        match request {
            Request::Meta(meta) => self.meta.single(meta, buf, &mut self.budget),
            Request::MetaBatch(batch) => self.meta.batch(batch, buf, &mut self.budget),
            _ => Err(Error::Protocol("not a meta request".into())),
        }
    }

    /// The next line of `buf`, or `None` while it has not fully arrived.
    fn next_line(&mut self, buf: &BytesMut, limit: usize) -> Result<Option<Line>> {
        self.budget.find_line(buf, &mut self.scanned, limit)
    }

    /// A one-line reply.
    fn single_line(
        &mut self,
        expect: Expect,
        buf: &mut BytesMut,
    ) -> Result<Option<Result<Response>>> {
        let limit = if expect == Expect::Line {
            LONG_LINE_LIMIT
        } else {
            LINE_LIMIT
        };
        let Some(line) = self.next_line(buf, limit)? else {
            return Ok(None);
        };
        let text_of = &buf[..line.content];
        if !line.crlf {
            return Err(bare_lf(&buf[..line.total]));
        }
        if let Some(error) = error_line(text_of) {
            buf.advance(line.total);
            return Ok(Some(Err(error)));
        }
        let reply = match (expect, text_of) {
            (Expect::Store, b"STORED") => Ok(Response::Stored),
            (Expect::Store, b"NOT_STORED") => Ok(Response::NotStored),
            (Expect::Store, b"EXISTS") => Ok(Response::Exists),
            (Expect::Delete, b"DELETED") => Ok(Response::Deleted),
            (Expect::Touch, b"TOUCHED") => Ok(Response::Touched),
            (Expect::Store | Expect::Delete | Expect::Touch | Expect::Arith, b"NOT_FOUND") => {
                Ok(Response::NotFound)
            }
            (Expect::Arith, number) if is_digits(number) => match parse_u64(number) {
                Some(n) => Ok(Response::Number(n)),
                None => return Err(Error::protocol("number out of range", number)),
            },
            (Expect::Admin, b"OK") => Ok(Response::Ok),
            (Expect::Admin, failure) if is_failure_line(failure) => {
                Err(Error::Server(text(failure)))
            }
            (Expect::Version, line_text) if line_text.starts_with(b"VERSION ") => {
                let frame = buf.split_to(line.total).freeze();
                return Ok(Some(Ok(Response::Version(frame.slice(8..line.content)))));
            }
            (Expect::Line, _) => {
                let mut frame = buf.split_to(line.total).freeze();
                frame.truncate(line.content);
                return Ok(Some(Ok(Response::Line(frame))));
            }
            (_, other) => return Err(unexpected(other)),
        };
        buf.advance(line.total);
        Ok(Some(reply))
    }

    /// `VALUE` blocks then `END`.
    fn values(
        &mut self,
        keys: &[Bytes],
        cas: bool,
        buf: &mut BytesMut,
    ) -> Result<Option<Result<Response>>> {
        loop {
            if let Some(pending) = self.pending {
                let Some(data) = take_block(buf, pending.len)? else {
                    return Ok(None);
                };
                if self.values.capacity() == 0 {
                    self.values.reserve(keys.len());
                }
                // The request's key, equal to the header's (`value_header`
                // checked): a reference count, where slicing the header
                // from the buffer costs a cut.
                self.values.push(Value {
                    key: keys[pending.key].clone(),
                    flags: pending.flags,
                    cas: pending.cas,
                    data,
                });
                self.pending = None;
            }
            let Some(line) = self.next_line(buf, LINE_LIMIT)? else {
                return Ok(None);
            };
            let text_of = &buf[..line.content];
            if !line.crlf {
                return Err(bare_lf(&buf[..line.total]));
            }
            if text_of == b"END" {
                buf.advance(line.total);
                return Ok(Some(Ok(Response::Values(std::mem::take(&mut self.values)))));
            }
            if let Some(header) = text_of.strip_prefix(b"VALUE ") {
                let pending = self.value_header(header, line.total, keys, cas)?;
                self.next_key = pending.key + 1;
                self.pending = Some(pending);
                buf.advance(line.total);
                reserve_block(buf, pending.len);
                continue;
            }
            if let Some(error) = error_line(text_of) {
                buf.advance(line.total);
                return Ok(Some(Err(error)));
            }
            return Err(unexpected(text_of));
        }
    }

    /// Parses `<key> <flags> <bytes>[ <cas>]`, checking the key against the
    /// request, and charges the header line (`line_len` bytes) and the data
    /// block it declares to the reply at once, so a hostile length fails
    /// before its bytes are awaited.
    fn value_header(
        &mut self,
        header: &[u8],
        line_len: usize,
        keys: &[Bytes],
        cas: bool,
    ) -> Result<PendingValue> {
        if let Some((flags, len, cas)) = usual_header(header, keys.get(self.next_key), cas) {
            let len = self
                .budget
                .charge_block(line_len, len, VALUE_COST, header)?;
            return Ok(PendingValue {
                key: self.next_key,
                flags,
                cas,
                len,
            });
        }
        let bad = || Error::protocol("malformed VALUE line", header);
        let mut fields = [&b""[..]; 4];
        let mut count = 0;
        for field in header.split(|&b| b == b' ') {
            if field.is_empty() || count == fields.len() {
                return Err(bad());
            }
            fields[count] = field;
            count += 1;
        }
        let cas = match (count, cas) {
            (3, false) => None,
            (4, true) => Some(parse_u64(fields[3]).ok_or_else(bad)?),
            (3, true) => return Err(Error::protocol("VALUE without the cas unique", header)),
            (4, false) => return Err(Error::protocol("VALUE with an unasked cas unique", header)),
            _ => return Err(bad()),
        };
        let flags = parse_u64(fields[1])
            .and_then(|flags| u32::try_from(flags).ok())
            .ok_or_else(bad)?;
        let len = parse_u64(fields[2]).ok_or_else(bad)?;
        let len = self
            .budget
            .charge_block(line_len, len, VALUE_COST, header)?;
        // Values come in the order of the keys, hits only.
        let key = keys
            .iter()
            .skip(self.next_key)
            .position(|key| key[..] == *fields[0])
            .map(|offset| self.next_key + offset)
            .ok_or_else(|| Error::protocol("value for a key not requested", header))?;
        Ok(PendingValue {
            key,
            flags,
            cas,
            len,
        })
    }

    /// Lines up to `END`.
    fn lines(&mut self, kind: LinesKind, buf: &mut BytesMut) -> Result<Option<Result<Response>>> {
        loop {
            let Some(line) = self.next_line(buf, LONG_LINE_LIMIT)? else {
                return Ok(None);
            };
            let text_of = &buf[..line.content];
            // memcached ends metadump lines with a bare `\n` (and `END` with `\r\n`).
            if !line.crlf && kind != LinesKind::Metadump {
                return Err(bare_lf(&buf[..line.total]));
            }
            if text_of == b"END" {
                buf.advance(line.total);
                return Ok(Some(Ok(Response::Lines(std::mem::take(&mut self.lines)))));
            }
            if let Some(error) = error_line(text_of) {
                buf.advance(line.total);
                return Ok(Some(Err(error)));
            }
            let first = self.lines.is_empty();
            match kind {
                LinesKind::Stats => {
                    // `stats reset` answers `RESET`, `stats detail on|off` `OK`.
                    if first && (text_of == b"OK" || text_of == b"RESET") {
                        buf.advance(line.total);
                        return Ok(Some(Ok(Response::Ok)));
                    }
                    if ![&b"STAT "[..], b"ITEM ", b"PREFIX "]
                        .iter()
                        .any(|prefix| text_of.starts_with(prefix))
                    {
                        return Err(unexpected(text_of));
                    }
                }
                LinesKind::Metadump => {
                    // A refusal (`BADCLASS invalid class id`, `BUSY ...`) is one
                    // `\r\n` line instead of the dump.
                    if first && line.crlf && !text_of.starts_with(b"key=") {
                        if is_failure_line(text_of) {
                            let error = Error::Server(text(text_of));
                            buf.advance(line.total);
                            return Ok(Some(Err(error)));
                        }
                        return Err(unexpected(text_of));
                    }
                }
                LinesKind::Raw => {}
            }
            self.budget.charge(line.total, LINE_COST)?;
            let mut frame = buf.split_to(line.total).freeze();
            frame.truncate(line.content);
            self.lines.push(frame);
        }
    }
}

/// The usual `VALUE` header, read in one pass: the `next` requested key,
/// then flags that fit 32 bits, the length, and the cas unique if and only if
/// `cas`, each a run of digits after one space. `None` for anything else,
/// which the field-by-field parse then accepts or refuses with its reason.
fn usual_header(header: &[u8], next: Option<&Bytes>, cas: bool) -> Option<(u32, u64, Option<u64>)> {
    let next = next?;
    let rest = header.strip_prefix(&next[..])?.strip_prefix(b" ")?;
    let mut numbers = [0u64; 3];
    let mut field = 0;
    let mut digits = 0;
    for &byte in rest {
        match byte {
            b'0'..=b'9' => {
                let number = &mut numbers[field];
                *number = number
                    .checked_mul(10)?
                    .checked_add(u64::from(byte - b'0'))?;
                digits += 1;
            }
            b' ' if digits > 0 && field < 2 => {
                field += 1;
                digits = 0;
            }
            _ => return None,
        }
    }
    let fields = field + 1;
    if digits == 0 || fields != if cas { 3 } else { 2 } {
        return None;
    }
    let flags = u32::try_from(numbers[0]).ok()?;
    Some((flags, numbers[1], cas.then_some(numbers[2])))
}

/// The `len`-byte data block at the front of `buf`, cut with its `\r\n`
/// once both are in; `None` until then. The trailer is checked as soon as
/// its bytes are here, so a wrong length is caught before waiting for bytes
/// that never come.
// It runs for every value: as a call (the plain hint left it one), it cost
// get_many(100) 2% more than the code it replaced in both decoders.
#[inline(always)]
pub(super) fn take_block(buf: &mut BytesMut, len: usize) -> Result<Option<Bytes>> {
    let trailer = &buf[len.min(buf.len())..buf.len().min(len + 2)];
    if !b"\r\n".starts_with(trailer) {
        return Err(Error::protocol(
            "data block not followed by \\r\\n",
            trailer,
        ));
    }
    if buf.len() < len + 2 {
        return Ok(None);
    }
    // One cut with the trailer, which the block's length hides: cheaper
    // than a cut and an advance.
    let mut data = buf.split_to(len + 2).freeze();
    data.truncate(len);
    Ok(Some(data))
}

/// Makes room in `buf` for the rest of a `len`-byte data block and its
/// trailer at once, when its header has arrived (and the reply's budget has
/// taken the block): grown read by read instead, the buffer would copy what
/// came of a large value again at each step. At most [`RESERVE_AHEAD`]
/// bytes ahead of what came, so a declared length, however large the limit
/// allows, never makes a large allocation before its bytes arrive.
pub(super) fn reserve_block(buf: &mut BytesMut, len: usize) {
    let missing = len.saturating_add(2).saturating_sub(buf.len());
    if missing > 0 {
        buf.reserve(missing.min(RESERVE_AHEAD));
    }
}

/// The most a data block's header reserves ahead of its bytes: memcached's
/// default largest item (`-I 1m`). A larger block grows the buffer as it
/// comes, doubling.
const RESERVE_AHEAD: usize = 1 << 20;

/// What a decoded value costs beyond its bytes: its place in the reply.
const VALUE_COST: usize = std::mem::size_of::<Value>();
/// What a decoded line costs beyond its bytes.
const LINE_COST: usize = std::mem::size_of::<Bytes>();

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_usual_header_is_read_in_one_pass_and_anything_else_is_left_to_the_full_parse() {
        let key = Bytes::from_static(b"k1");
        let usual = |header: &[u8], cas| usual_header(header, Some(&key), cas);
        assert_eq!(usual(b"k1 0 100", false), Some((0, 100, None)));
        assert_eq!(
            usual(b"k1 4294967295 0 18446744073709551615", true),
            Some((u32::MAX, 0, Some(u64::MAX)))
        );
        for (header, cas) in [
            (&b"k1 0 100"[..], true),
            (b"k1 0 100 7", false),
            (b"k2 0 100", false),
            (b"k10 0 100", false),
            (b"k1  0 100", false),
            (b"k1 0 100 ", false),
            (b"k1 0", false),
            (b"k1 4294967296 1", false),
            (b"k1 0 18446744073709551616", false),
            (b"k1 0 1x", false),
            (b"k1 0 100 7 8", true),
        ] {
            assert_eq!(
                usual(header, cas),
                None,
                "{}",
                String::from_utf8_lossy(header)
            );
        }
        assert_eq!(usual_header(b"k1 0 1", None, false), None);
    }
}
