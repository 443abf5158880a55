//! `ms`: memcached 1.6.18's `process_mset_command` and `do_store_item`.
//!
//! - Modes (`M`): `S` set, `E` add, `A` append, `P` prepend, `R` replace.
//!   With `C<cas>`, set and replace become a cas store (missing: `NF`;
//!   different, or `C0`: `EX`); append and prepend compare the cas when
//!   the item exists; add ignores it.
//! - `I` with `C` below the item's cas stores the value as stale, keeping
//!   the item's TTL and its win mark (`X`, and `Z` if a win was handed out).
//! - `N` does not vivify append/prepend in 1.6.18 (a miss is `NS`); `s`,
//!   `t`, `v` and the other `mg` flags are accepted and ignored; `E` is
//!   refused by the codec.
//! - Returned flags, in request order: `O`, `k` (base64 with `b` when the key
//!   was sent with `b`), `c` (the new cas, or 0 when nothing was stored).
//! - Append and prepend keep the item's flags and TTL and lose its binary
//!   mark, as memcached's re-allocated item does.
//! - `q` suppresses only `HD`. Counters: `cmd_set`, and the cas counters of a
//!   cas store (a stale store counts as a cas hit).

use bytes::{Bytes, BytesMut};
use memclient::proto::server::{item_size, MetaOptions};
use memclient::{MetaFlag, MetaRequest, MetaStatus, Result, StoreCommand};

use super::super::{Cache, Marks};
use super::{push_key, response, MetaReply};

/// memcached's `NREAD_*` for a meta set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Set,
    Add,
    Append,
    Prepend,
    Replace,
    Cas,
}

impl Cache {
    pub(super) fn meta_set(
        &mut self,
        request: &MetaRequest,
        options: &MetaOptions,
        now: u64,
    ) -> Result<MetaReply> {
        let key = &request.key;
        let data = request.data.clone().unwrap_or_default();
        if item_size(key.len(), options.client_flags, data.len()) > self.config.max_item_size {
            return Err(self.too_large(StoreCommand::Set, key, now));
        }
        self.counters.cmd_set += 1;
        let mut mode = match options.mode {
            Some(b'E') => Mode::Add,
            Some(b'A') => Mode::Append,
            Some(b'P') => Mode::Prepend,
            Some(b'R') => Mode::Replace,
            _ => Mode::Set,
        };
        if options.cas.is_some() && matches!(mode, Mode::Set | Mode::Replace) {
            mode = Mode::Cas;
        }
        let wanted_cas = options.cas.unwrap_or(0);
        let stale_allowed = options.invalidate && mode == Mode::Cas;
        let exptime = self.expiry(options.ttl.unwrap_or(0), now);
        let new_marks = Marks {
            binary: options.key_binary,
            ..Marks::default()
        };
        let existing = self.lookup(key, now).map(|item| {
            (
                item.cas,
                item.flags,
                item.exptime,
                item.data.clone(),
                item.marks,
            )
        });
        let status = match (mode, existing) {
            (Mode::Add, Some(_)) => {
                self.bump(key, now);
                MetaStatus::NotStored
            }
            (Mode::Add | Mode::Set, None) => {
                self.store_marked(key, data, options.client_flags, exptime, now, new_marks)?
            }
            (Mode::Set | Mode::Replace, Some(_)) => {
                self.store_marked(key, data, options.client_flags, exptime, now, new_marks)?
            }
            (Mode::Cas, None) => {
                self.counters.cas_misses += 1;
                MetaStatus::NotFound
            }
            (Mode::Replace | Mode::Append | Mode::Prepend, None) => MetaStatus::NotStored,
            (Mode::Cas, Some((cas, _, old_exptime, _, old_marks))) => {
                if wanted_cas != 0 && wanted_cas == cas {
                    self.counters.cas_hits += 1;
                    self.store_marked(key, data, options.client_flags, exptime, now, new_marks)?
                } else if stale_allowed && wanted_cas != 0 && wanted_cas < cas {
                    self.counters.cas_hits += 1;
                    let marks = Marks {
                        stale: true,
                        win_sent: old_marks.win_sent,
                        ..new_marks
                    };
                    self.store_marked(key, data, options.client_flags, old_exptime, now, marks)?
                } else {
                    self.counters.cas_badval += 1;
                    MetaStatus::Exists
                }
            }
            (Mode::Append | Mode::Prepend, Some((cas, old_flags, old_exptime, old, _))) => {
                if wanted_cas != 0 && wanted_cas != cas {
                    MetaStatus::Exists
                } else {
                    let mut joined = BytesMut::with_capacity(old.len() + data.len());
                    if mode == Mode::Append {
                        joined.extend_from_slice(&old);
                        joined.extend_from_slice(&data);
                    } else {
                        joined.extend_from_slice(&data);
                        joined.extend_from_slice(&old);
                    }
                    if item_size(key.len(), old_flags, joined.len()) > self.config.max_item_size {
                        MetaStatus::NotStored
                    } else {
                        let marks = Marks::default();
                        self.store_marked(key, joined.freeze(), old_flags, old_exptime, now, marks)?
                    }
                }
            }
        };
        let stored = status == MetaStatus::Header;
        let cas = if stored {
            self.items.get(key).map_or(0, |item| item.cas)
        } else {
            0
        };
        let mut reply = response(status);
        for flag in &request.flags {
            match flag.flag {
                b'O' => reply.flags.push(flag.clone()),
                b'k' => push_key(&mut reply.flags, key, options.key_binary),
                b'c' => reply.flags.push(MetaFlag::with(b'c', cas.to_string())),
                _ => {}
            }
        }
        Ok(MetaReply {
            response: reply,
            quiet: options.quiet && stored,
        })
    }

    /// Links the new item: `HD`.
    fn store_marked(
        &mut self,
        key: &Bytes,
        data: Bytes,
        flags: u32,
        exptime: u64,
        now: u64,
        marks: Marks,
    ) -> Result<MetaStatus> {
        self.link_marked(key.clone(), data, flags, exptime, now, marks)?;
        Ok(MetaStatus::Header)
    }
}
