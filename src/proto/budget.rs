//! The size budget of one reply: what keeps a broken or hostile server from
//! making the decoder buffer without bound.
//!
//! Every part of a reply the decoder keeps until the reply is whole (a line
//! of `stats` or `lru_crawler metadump`, a value of a multi-key `get`, a
//! meta reply waiting for its batch's `MN`) is charged its bytes on the wire
//! plus the memory its decoded form takes. A part that would take the reply
//! past the limit is a protocol error as soon as its header (or the first
//! byte past the room left) arrives, so the decoder never holds more than
//! the limit of one reply, plus whatever a single read brought beyond it.

use super::line::{find_line, Line};
use crate::{Error, Result};

/// The default limit of one reply: 64 MiB.
///
/// memcached's items are at most 1 MiB by default (`-I 1m`), so this is 64
/// values of the largest default size in one multi-key read, or a
/// `stats`/`metadump` of about a million lines, while a flood from a broken
/// server costs at most this much memory per connection. Servers run with a
/// larger `-I` (up to 1 GiB) need a larger limit to read their largest items.
pub const DEFAULT_MAX_REPLY_LEN: usize = 64 << 20;

/// Room always left for the line that ends a reply (`END\r\n`, `MN\r\n`).
const END_LINE_ROOM: usize = 8;

/// The bytes charged so far to the reply in progress, and the limit.
#[derive(Debug, Clone, Copy)]
pub(super) struct Budget {
    limit: usize,
    used: usize,
}

impl Budget {
    /// A fresh budget of `limit` bytes.
    pub(super) fn new(limit: usize) -> Self {
        Budget { limit, used: 0 }
    }

    /// The limit of one reply.
    pub(super) fn limit(&self) -> usize {
        self.limit
    }

    /// Starts the next reply.
    pub(super) fn reset(&mut self) {
        self.used = 0;
    }

    /// Bytes the reply may still take.
    fn room(&self) -> usize {
        self.limit - self.used
    }

    /// Charges `wire` bytes and `decoded` bytes of bookkeeping to the reply.
    pub(super) fn charge(&mut self, wire: usize, decoded: usize) -> Result<()> {
        let cost = wire.saturating_add(decoded);
        if cost > self.room() {
            return Err(self.exceeded(&format!("{cost} more bytes")));
        }
        self.used += cost;
        Ok(())
    }

    /// Checks that a data block of `len` bytes (with its `\r\n`, and
    /// `decoded` bytes of bookkeeping) declared by `header` still fits,
    /// before waiting for it: a hostile length fails at once. The block is
    /// charged when it is taken.
    pub(super) fn check_block(&self, len: u64, decoded: usize, header: &[u8]) -> Result<usize> {
        match usize::try_from(len) {
            Ok(len) if len.saturating_add(2 + decoded) <= self.room() => Ok(len),
            _ => Err(self.exceeded(&crate::error::quote(header, 64))),
        }
    }

    /// The next line of `buf`, no longer than `line_limit` nor than the room
    /// left in the reply. The line that ends a reply (`END`, `MN`) is not
    /// kept, so it is not charged: a few bytes are always allowed for it.
    pub(super) fn find_line(
        &self,
        buf: &[u8],
        scanned: &mut usize,
        line_limit: usize,
    ) -> Result<Option<Line>> {
        let room = self.room().max(END_LINE_ROOM);
        if room >= line_limit {
            return find_line(buf, scanned, line_limit);
        }
        if buf.is_empty() {
            return Ok(None);
        }
        find_line(buf, scanned, room).map_err(|_| {
            self.exceeded(&format!(
                "a line of more than {room} bytes: {}",
                crate::error::quote(&buf[..buf.len().min(room)], 64)
            ))
        })
    }

    fn exceeded(&self, what: &str) -> Error {
        Error::Protocol(format!(
            "reply larger than the limit of {} bytes (max_reply_len), after {} bytes: {what}",
            self.limit, self.used
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charges_until_the_limit_and_no_further() {
        let mut budget = Budget::new(100);
        budget.charge(60, 20).unwrap();
        budget.charge(20, 0).unwrap();
        let error = budget.charge(1, 0).unwrap_err();
        assert!(error.to_string().contains("limit of 100 bytes"), "{error}");
        budget.reset();
        budget.charge(100, 0).unwrap();
        assert!(budget.charge(usize::MAX, usize::MAX).is_err());
    }

    #[test]
    fn data_blocks_must_fit_with_their_trailer() {
        let mut budget = Budget::new(100);
        budget.charge(10, 0).unwrap();
        assert_eq!(budget.check_block(88, 0, b"VA 88").unwrap(), 88);
        assert!(budget.check_block(89, 0, b"VA 89").is_err());
        assert!(budget.check_block(80, 9, b"VA 80").is_err());
        assert!(budget.check_block(u64::MAX, 0, b"VA").is_err());
    }

    #[test]
    fn lines_are_cut_at_the_room_left() {
        let mut budget = Budget::new(20);
        budget.charge(10, 0).unwrap();
        assert_eq!(budget.find_line(b"", &mut 0, 64).unwrap(), None);
        assert!(budget
            .find_line(b"abcdefghi\n", &mut 0, 64)
            .unwrap()
            .is_some());
        assert_eq!(budget.find_line(b"abcdefghi", &mut 0, 64).unwrap(), None);
        let error = budget.find_line(b"abcdefghij", &mut 0, 64).unwrap_err();
        assert!(error.to_string().contains("max_reply_len"), "{error}");
        // A full budget still reads the line that ends the reply.
        budget.charge(10, 0).unwrap();
        assert!(budget.find_line(b"END\r\n", &mut 0, 64).unwrap().is_some());
        assert!(budget.find_line(b"STAT a b", &mut 0, 64).is_err());
        // With room to spare, the line limit applies.
        let budget = Budget::new(1000);
        assert!(budget.find_line(b"abcdefgh", &mut 0, 8).is_err());
    }
}
