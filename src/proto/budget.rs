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
//!
//! Decoders may also share one [`SharedReplyBudget`] (a pool's connections
//! do): each charge is then taken from it too, and given back when the reply
//! ends, so the replies in progress on all of them together stay within its
//! limit, however many connections there are.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

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

/// Bytes that the replies in progress on several decoders may take together.
#[derive(Debug)]
pub(crate) struct SharedReplyBudget {
    limit: usize,
    used: AtomicUsize,
}

impl SharedReplyBudget {
    /// A budget of `limit` bytes, none of them taken.
    pub(crate) fn new(limit: usize) -> Arc<Self> {
        Arc::new(SharedReplyBudget {
            limit,
            used: AtomicUsize::new(0),
        })
    }

    /// Bytes taken now by the replies in progress.
    pub(crate) fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    fn room(&self) -> usize {
        self.limit.saturating_sub(self.used())
    }

    /// Takes `bytes` if they fit; false (and nothing taken) if not.
    fn take(&self, bytes: usize) -> bool {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(bytes).filter(|&total| total <= self.limit)
            })
            .is_ok()
    }

    fn give_back(&self, bytes: usize) {
        self.used.fetch_sub(bytes, Ordering::AcqRel);
    }
}

/// The bytes charged so far to the reply in progress, and the limit.
#[derive(Debug)]
pub(super) struct Budget {
    limit: usize,
    used: usize,
    /// The budget this decoder shares with others, if any: `used` is taken
    /// from it too.
    shared: Option<Arc<SharedReplyBudget>>,
}

impl Budget {
    /// A fresh budget of `limit` bytes.
    pub(super) fn new(limit: usize) -> Self {
        Budget {
            limit,
            used: 0,
            shared: None,
        }
    }

    /// Charges every later reply to `shared` as well.
    pub(super) fn share(&mut self, shared: Arc<SharedReplyBudget>) {
        self.give_back();
        self.shared = Some(shared);
    }

    /// The limit of one reply.
    pub(super) fn limit(&self) -> usize {
        self.limit
    }

    /// Starts the next reply.
    pub(super) fn reset(&mut self) {
        self.give_back();
    }

    fn give_back(&mut self) {
        // Most replies charge nothing (single-line ones): no atomic for them.
        if let Some(shared) = self.shared.as_ref().filter(|_| self.used > 0) {
            shared.give_back(self.used);
        }
        self.used = 0;
    }

    /// Bytes the reply may still take under its own limit.
    fn own_room(&self) -> usize {
        self.limit - self.used
    }

    /// Bytes the reply may still take, under its own limit and the shared
    /// one, and whether the shared one left less.
    fn room(&self) -> (usize, bool) {
        let own = self.own_room();
        match self.shared.as_ref().map(|s| s.room()) {
            Some(shared) if shared < own => (shared, true),
            _ => (own, false),
        }
    }

    /// Charges `wire` bytes and `decoded` bytes of bookkeeping to the reply.
    pub(super) fn charge(&mut self, wire: usize, decoded: usize) -> Result<()> {
        let cost = wire.saturating_add(decoded);
        self.take(cost, || format!("{cost} more bytes"))
    }

    /// Charges a `header_len`-byte header line and the data block of `len`
    /// bytes it declares (with its `\r\n`, and `decoded` bytes of
    /// bookkeeping) before the block arrives: a hostile length fails at once,
    /// and the room the block will take is the reply's from the start.
    pub(super) fn charge_block(
        &mut self,
        header_len: usize,
        len: u64,
        decoded: usize,
        header: &[u8],
    ) -> Result<usize> {
        let what = || crate::error::quote(header, 64);
        let block = usize::try_from(len).ok().and_then(|len| {
            len.checked_add(2 + decoded + header_len)
                .map(|cost| (len, cost))
        });
        let Some((len, cost)) = block else {
            return Err(self.exceeded(false, &what()));
        };
        self.take(cost, what)?;
        Ok(len)
    }

    /// Takes `cost` bytes under the reply's own limit and the shared one;
    /// `what` names them in the error when they do not fit.
    fn take(&mut self, cost: usize, what: impl Fn() -> String) -> Result<()> {
        if cost > self.own_room() {
            return Err(self.exceeded(false, &what()));
        }
        if let Some(shared) = &self.shared {
            if !shared.take(cost) {
                return Err(self.exceeded(true, &what()));
            }
        }
        self.used += cost;
        Ok(())
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
        let (room, shared) = self.room();
        let room = room.max(END_LINE_ROOM);
        if room >= line_limit {
            return find_line(buf, scanned, line_limit);
        }
        if buf.is_empty() {
            return Ok(None);
        }
        find_line(buf, scanned, room).map_err(|_| {
            self.exceeded(
                shared,
                &format!(
                    "a line of more than {room} bytes: {}",
                    crate::error::quote(&buf[..buf.len().min(room)], 64)
                ),
            )
        })
    }

    /// The error for a reply that does not fit its own limit, or (`shared`)
    /// the room the shared budget left.
    fn exceeded(&self, shared: bool, what: &str) -> Error {
        match self.shared.as_ref().filter(|_| shared) {
            Some(shared) => Error::Protocol(format!(
                "replies in progress on the pool's connections larger than their shared limit \
                 of {} bytes (reply_budget), after {} bytes of this one and {} in all: {what}",
                shared.limit,
                self.used,
                shared.used()
            )),
            _ => Error::Protocol(format!(
                "reply larger than the limit of {} bytes (max_reply_len), after {} bytes: {what}",
                self.limit, self.used
            )),
        }
    }
}

impl Drop for Budget {
    fn drop(&mut self) {
        // A decoder dropped half-way through a reply (its connection closed)
        // gives its share back.
        self.give_back();
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
        assert!(budget.charge_block(0, 89, 0, b"VA 89").is_err());
        assert!(budget.charge_block(0, 80, 9, b"VA 80").is_err());
        assert!(budget.charge_block(0, u64::MAX, 0, b"VA").is_err());
        assert_eq!(budget.charge_block(0, 88, 0, b"VA 88").unwrap(), 88);
    }

    #[test]
    fn a_block_is_charged_with_its_header_before_it_arrives() {
        let shared = SharedReplyBudget::new(100);
        let mut budget = Budget::new(100);
        budget.share(shared.clone());
        // 10 header bytes, 80 of data, its `\r\n` and 8 of bookkeeping.
        assert_eq!(budget.charge_block(10, 80, 8, b"VALUE k 0 80").unwrap(), 80);
        assert_eq!(shared.used(), 100);
        let error = budget.charge_block(0, 0, 0, b"VALUE k 0 0").unwrap_err();
        assert!(error.to_string().contains("max_reply_len"), "{error}");
        // A failed charge takes nothing; a length past `usize` fails too.
        budget.reset();
        assert!(budget.charge_block(10, 89, 0, b"VALUE k 0 89").is_err());
        assert!(budget.charge_block(1, u64::MAX, 0, b"VALUE").is_err());
        assert_eq!(shared.used(), 0);
        // The shared budget's room, when it is the smaller, says so.
        let mut other = Budget::new(100);
        other.share(shared.clone());
        other.charge(50, 0).unwrap();
        let error = budget.charge_block(10, 40, 0, b"VALUE k 0 40").unwrap_err();
        assert!(error.to_string().contains("reply_budget"), "{error}");
        assert_eq!(shared.used(), 50);
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

    #[test]
    fn a_shared_budget_bounds_the_replies_of_every_decoder_together() {
        let shared = SharedReplyBudget::new(100);
        let (mut a, mut b) = (Budget::new(80), Budget::new(80));
        a.share(shared.clone());
        b.share(shared.clone());
        a.charge(60, 0).unwrap();
        // Within b's own limit, but not within what a left of the shared one.
        let error = b.charge(50, 0).unwrap_err();
        assert!(error.to_string().contains("reply_budget"), "{error}");
        assert!(b.charge_block(0, 39, 0, b"VA 39").is_err());
        assert!(b.find_line(&[b'a'; 50], &mut 0, 64).is_err());
        b.charge(40, 0).unwrap();
        assert_eq!(shared.used(), 100);
        // A reply that ends gives its bytes back; so does a dropped decoder.
        a.reset();
        assert_eq!(shared.used(), 40);
        b.charge(40, 0).unwrap();
        // b's own limit still applies, and says so.
        let error = b.charge(1, 0).unwrap_err();
        assert!(error.to_string().contains("max_reply_len"), "{error}");
        drop(b);
        assert_eq!(shared.used(), 0);
    }

    #[test]
    fn decoders_sharing_a_budget_fail_the_reply_that_does_not_fit() {
        use crate::proto::ResponseDecoder;
        use crate::Request;
        use bytes::BytesMut;

        let shared = SharedReplyBudget::new(1000);
        let mut a = ResponseDecoder::with_max_reply_len(800).sharing(shared.clone());
        let mut b = ResponseDecoder::with_max_reply_len(800).sharing(shared.clone());
        let stats = Request::Stats { args: vec![] };
        // a holds a reply not yet whole: 10 lines, 420 bytes with their
        // bookkeeping.
        let mut held = BytesMut::from(&b"STAT a b\r\n".repeat(10)[..]);
        assert!(a.decode(&stats, &mut held).unwrap().is_none());
        assert!(shared.used() >= 400);
        // b's reply (15 lines) alone fits its own limit, but not beside a's.
        let mut flood = BytesMut::from(&b"STAT a b\r\n".repeat(15)[..]);
        flood.extend_from_slice(b"END\r\n");
        match b.decode(&stats, &mut flood) {
            Err(Error::Protocol(message)) => assert!(message.contains("reply_budget"), "{message}"),
            other => panic!("{other:?}"),
        }
        // Once a's reply is whole, its bytes are back, and b's next fits.
        held.extend_from_slice(b"END\r\n");
        assert!(matches!(a.decode(&stats, &mut held), Ok(Some(Ok(_)))));
        assert_eq!(shared.used(), 0);
        let mut again = BytesMut::from(&b"STAT a b\r\n".repeat(15)[..]);
        again.extend_from_slice(b"END\r\n");
        assert!(matches!(b.decode(&stats, &mut again), Ok(Some(Ok(_)))));
    }
}
