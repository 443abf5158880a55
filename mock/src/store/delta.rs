//! memcached's `do_add_delta`: the one `incr`/`decr` arithmetic behind the
//! classic `incr`/`decr` and the meta `ma`.
//!
//! The value is read as memcached's `safe_strtoull` reads it (leading spaces,
//! a sign, trailing spaces). `incr` wraps at 2^64, `decr` stops at 0. A
//! number that keeps its length is written in place, padded with spaces (a
//! new cas, the item bumped); a longer one replaces the item, which keeps its
//! flags and TTL. Empty and chunked values are refused as non-numeric,
//! whatever they hold. Counters: `incr_hits`/`decr_hits`, and
//! `incr_misses`/`decr_misses` for a missing key.

use bytes::{Bytes, BytesMut};
use memclient::proto::server::parse_u64;
use memclient::{ArithOp, Error, Result};

use super::items::is_chunked;
use super::Cache;

/// What the arithmetic did.
#[derive(Debug, Clone, Copy)]
pub(super) struct Delta {
    /// The new number.
    pub value: u64,
    /// The item's cas afterwards.
    pub cas: u64,
    /// The item's expiry (absolute; 0: never).
    pub exptime: u64,
    /// The number kept its length: the stored item was changed, not replaced.
    pub in_place: bool,
}

fn non_numeric() -> Error {
    Error::Client("cannot increment or decrement non-numeric value".into())
}

impl Cache {
    /// The check memcached makes before any other (`ma` before its cas):
    /// an empty or chunked value is not a number.
    pub(super) fn check_countable(&self, key: &[u8]) -> Result<()> {
        match self.items.get(key) {
            Some(item)
                if item.data.is_empty() || is_chunked(key.len(), item.flags, item.data.len()) =>
            {
                Err(non_numeric())
            }
            _ => Ok(()),
        }
    }

    /// Counts an `incr`/`decr` of a missing key.
    pub(super) fn count_arith_miss(&mut self, op: ArithOp) {
        match op {
            ArithOp::Incr => self.counters.incr_misses += 1,
            ArithOp::Decr => self.counters.decr_misses += 1,
        }
    }

    /// memcached's `do_add_delta` on the live item under `key` (looked up and
    /// [checked](Self::check_countable) by the caller).
    pub(super) fn add_delta(
        &mut self,
        key: &Bytes,
        op: ArithOp,
        delta: u64,
        now: u64,
    ) -> Result<Delta> {
        let Some(item) = self.items.get(key) else {
            return Err(non_numeric());
        };
        let current = parse_u64(&item.data).ok_or_else(non_numeric)?;
        let (flags, exptime, old_len) = (item.flags, item.exptime, item.data.len());
        let value = match op {
            ArithOp::Incr => {
                self.counters.incr_hits += 1;
                current.wrapping_add(delta)
            }
            ArithOp::Decr => {
                self.counters.decr_hits += 1;
                current.saturating_sub(delta)
            }
        };
        let digits = value.to_string();
        let in_place = digits.len() <= old_len;
        if in_place {
            let mut data = BytesMut::with_capacity(old_len);
            data.extend_from_slice(digits.as_bytes());
            data.resize(old_len, b' ');
            let cas = self.next_cas();
            if let Some(item) = self.items.get_mut(key) {
                item.data = data.freeze();
                item.cas = cas;
            }
            self.bump(key, now);
        } else {
            self.link(key.clone(), Bytes::from(digits), flags, exptime, now)?;
        }
        let cas = self.items.get(key).map_or(0, |item| item.cas);
        Ok(Delta {
            value,
            cas,
            exptime,
            in_place,
        })
    }
}
