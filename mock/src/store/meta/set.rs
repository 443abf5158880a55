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
//!
//! The storage itself is the classic commands' ([`write`](super::super::write)).

use memclient::proto::server::MetaOptions;
use memclient::{MetaFlag, MetaRequest, MetaStatus, Result, StoreCommand};

use super::super::write::{Mode, Write, Written};
use super::super::Cache;
use super::{push_key, response, MetaReply};

impl Cache {
    pub(super) fn meta_set(
        &mut self,
        request: &MetaRequest,
        options: &MetaOptions,
        now: u64,
    ) -> Result<MetaReply> {
        let key = &request.key;
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
        let write = Write {
            key: key.clone(),
            data: request.data.clone().unwrap_or_default(),
            flags: options.client_flags,
            exptime: options.ttl.unwrap_or(0),
            mode,
            cas: options.cas.unwrap_or(0),
            stale_allowed: options.invalidate && mode == Mode::Cas,
            binary: options.key_binary,
            too_large_as: StoreCommand::Set,
        };
        let status = match self.write(write, now)? {
            Written::Stored => MetaStatus::Header,
            Written::NotStored => MetaStatus::NotStored,
            Written::Exists => MetaStatus::Exists,
            Written::NotFound => MetaStatus::NotFound,
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
}
