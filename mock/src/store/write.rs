//! memcached's `do_store_item`: the one storage semantic behind the classic
//! `set`, `add`, `replace`, `append`, `prepend` and `cas`, and the meta `ms`
//! with its modes.
//!
//! - `Set` stores; `Add` only a missing key (an existing one is bumped);
//!   `Replace`, `Append` and `Prepend` only an existing one.
//! - `Cas` stores when the cas matches (else `Exists`, `NotFound` when
//!   missing); `ms I` with a cas older than the item's stores it stale,
//!   keeping the item's TTL and its win mark.
//! - `Append`/`Prepend` compare a non-zero cas (`ms C` with `MA`/`MP`; no
//!   counter moves), keep the item's flags and TTL and drop its meta marks,
//!   as memcached's re-allocated item does; a joined item above the item
//!   size limit is not stored.
//! - Counters: `cmd_set`, and `cas_misses`, `cas_hits` (a stale store counts
//!   as a hit), `cas_badval` for a cas store.

use bytes::{Bytes, BytesMut};
use memclient::proto::server::item_size;
use memclient::{Result, StoreCommand};

use super::items::Marks;
use super::Cache;

/// How a write treats the item it finds (memcached's `NREAD_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    Set,
    Add,
    Replace,
    Append,
    Prepend,
    Cas,
}

/// One write, from either dialect.
#[derive(Debug, Clone)]
pub(super) struct Write {
    pub key: Bytes,
    pub data: Bytes,
    pub flags: u32,
    /// The exptime as sent (relative, absolute or negative).
    pub exptime: i64,
    pub mode: Mode,
    /// The cas to compare (0: none). `Cas` stores only when it equals the
    /// item's; `Append`/`Prepend` refuse a non-zero one that differs.
    pub cas: u64,
    /// `ms I`: a cas store older than the item's stores it stale.
    pub stale_allowed: bool,
    /// `ms b`: the key came in base64, and goes back that way.
    pub binary: bool,
    /// The command a value above the item size limit counts as (`ms` is a
    /// `set`: the old value is dropped).
    pub too_large_as: StoreCommand,
}

/// What the write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Written {
    Stored,
    NotStored,
    Exists,
    NotFound,
}

impl Cache {
    /// memcached's `do_store_item`.
    pub(super) fn write(&mut self, write: Write, now: u64) -> Result<Written> {
        let Write { key, data, .. } = &write;
        if item_size(key.len(), write.flags, data.len()) > self.config.max_item_size {
            return Err(self.too_large(write.too_large_as, key, now));
        }
        self.counters.cmd_set += 1;
        let exptime = self.expiry(write.exptime, now);
        let marks = Marks {
            binary: write.binary,
            ..Marks::default()
        };
        let existing = self
            .lookup(key, now)
            .map(|item| (item.cas, item.exptime, item.marks));
        let wanted = write.cas;
        Ok(match (write.mode, existing) {
            (Mode::Add, Some(_)) => {
                // memcached still bumps the existing item.
                self.bump(key, now);
                Written::NotStored
            }
            (Mode::Set | Mode::Add, None) | (Mode::Set | Mode::Replace, Some(_)) => {
                self.link_marked(write.key, write.data, write.flags, exptime, now, marks)?;
                Written::Stored
            }
            (Mode::Replace | Mode::Append | Mode::Prepend, None) => Written::NotStored,
            (Mode::Cas, None) => {
                self.counters.cas_misses += 1;
                Written::NotFound
            }
            (Mode::Cas, Some((cas, old_exptime, old_marks))) => {
                if wanted != 0 && wanted == cas {
                    self.counters.cas_hits += 1;
                    self.link_marked(write.key, write.data, write.flags, exptime, now, marks)?;
                    Written::Stored
                } else if write.stale_allowed && wanted != 0 && wanted < cas {
                    self.counters.cas_hits += 1;
                    let stale = Marks {
                        stale: true,
                        win_sent: old_marks.win_sent,
                        ..marks
                    };
                    let (key, data) = (write.key, write.data);
                    self.link_marked(key, data, write.flags, old_exptime, now, stale)?;
                    Written::Stored
                } else {
                    self.counters.cas_badval += 1;
                    Written::Exists
                }
            }
            (Mode::Append | Mode::Prepend, Some((cas, ..))) => {
                if wanted != 0 && wanted != cas {
                    Written::Exists
                } else {
                    self.join(&write.key, &write.data, write.mode == Mode::Append, now)?
                }
            }
        })
    }

    /// Append or prepend `data` to the live item under `key`.
    fn join(&mut self, key: &Bytes, data: &Bytes, append: bool, now: u64) -> Result<Written> {
        let Some(item) = self.items.get(key) else {
            return Ok(Written::NotStored);
        };
        let (old, flags, exptime) = (item.data.clone(), item.flags, item.exptime);
        let (front, back) = if append { (&old, data) } else { (data, &old) };
        let mut joined = BytesMut::with_capacity(old.len() + data.len());
        joined.extend_from_slice(front);
        joined.extend_from_slice(back);
        if item_size(key.len(), flags, joined.len()) > self.config.max_item_size {
            // memcached fails to allocate the combined item.
            return Ok(Written::NotStored);
        }
        self.link(key.clone(), joined.freeze(), flags, exptime, now)?;
        Ok(Written::Stored)
    }
}
