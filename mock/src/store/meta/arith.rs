//! `ma`: memcached 1.6.18's `process_marithmetic_command` and `do_add_delta`.
//!
//! - `MI`/`M+` increment (the default), `MD`/`M-` decrement (stopping at 0);
//!   `D` is the delta (default 1). A number that keeps its length is
//!   rewritten in place (padded with spaces); a longer one replaces the item.
//! - `N<ttl>` on a miss creates the item with the value `J` (default 0),
//!   not `J` plus the delta, and that reply is sent even with `q`.
//! - `C<cas>` must match (else `EX`); an empty or non-numeric value is
//!   `CLIENT_ERROR cannot increment or decrement non-numeric value`, checked
//!   before the cas for an empty value and after it otherwise.
//! - `t`, `T`, `N` act where they stand (`t` before `T` shows the old TTL).
//!   When the item was replaced, `T` changes the old copy only: the stored
//!   item keeps its TTL (a 1.6.18 quirk).
//! - `v` returns the number unpadded (`VA <len>`); `c` the new cas.
//! - `q` suppresses `HD`/`VA` of an existing item only. An opaque over 32
//!   bytes is refused after the delta was applied. Counters: the classic
//!   `incr_*`/`decr_*` ones, nothing for a vivified item.

use bytes::{Bytes, BytesMut};
use memclient::proto::server::{opaque_too_long, parse_u64, MetaOptions};
use memclient::{Error, MetaFlag, MetaRequest, MetaStatus, Result};

use super::super::Cache;
use super::{opaque_error, push_key, response, MetaReply};

/// What happened to the item.
struct Applied {
    /// The number, unpadded.
    digits: String,
    cas: u64,
    exptime: u64,
    /// True when the stored item is the one `T` and `N` change.
    in_place: bool,
    created: bool,
}

impl Cache {
    pub(super) fn meta_arith(
        &mut self,
        request: &MetaRequest,
        options: &MetaOptions,
        now: u64,
    ) -> Result<MetaReply> {
        let key = &request.key;
        let incr = !matches!(options.mode, Some(b'D' | b'-'));
        let applied = match self
            .lookup(key, now)
            .map(|item| (item.data.clone(), item.cas, item.flags))
        {
            None if options.vivify.is_some() => {
                let digits = options.initial.to_string();
                self.link(key.clone(), Bytes::from(digits.clone()), 0, 0, now)
                    .map_err(|_| Error::Server("Out of memory allocating new item".into()))?;
                let cas = self.items.get(key).map_or(0, |item| item.cas);
                Some(Applied {
                    digits,
                    cas,
                    exptime: 0,
                    in_place: true,
                    created: true,
                })
            }
            None => {
                if incr {
                    self.counters.incr_misses += 1;
                } else {
                    self.counters.decr_misses += 1;
                }
                None
            }
            Some((data, cas, flags)) => {
                let non_numeric =
                    || Error::Client("cannot increment or decrement non-numeric value".into());
                if data.is_empty() || super::super::is_chunked(key.len(), flags, data.len()) {
                    return Err(non_numeric());
                }
                if options
                    .cas
                    .is_some_and(|wanted| wanted != 0 && wanted != cas)
                {
                    return self.arith_reply(request, options, MetaStatus::Exists);
                }
                let current = parse_u64(&data).ok_or_else(non_numeric)?;
                Some(self.apply_delta(key, &data, current, incr, options.delta, now)?)
            }
        };
        let Some(mut applied) = applied else {
            return self.arith_reply(request, options, MetaStatus::NotFound);
        };
        let mut reply = response(if options.value {
            MetaStatus::Value
        } else {
            MetaStatus::Header
        });
        let mut result = Ok(());
        for flag in &request.flags {
            match flag.flag {
                b'c' => reply
                    .flags
                    .push(MetaFlag::with(b'c', applied.cas.to_string())),
                b't' => reply
                    .flags
                    .push(MetaFlag::with(b't', self.ttl_token(applied.exptime, now))),
                b'T' => {
                    applied.exptime = self.expiry(options.ttl.unwrap_or(0), now);
                    self.set_exptime(key, &applied);
                }
                b'N' if applied.created => {
                    applied.exptime = self.expiry(options.vivify.unwrap_or(0), now);
                    self.set_exptime(key, &applied);
                }
                b'O' if opaque_too_long(flag) => {
                    result = Err(opaque_error());
                    break;
                }
                b'O' => reply.flags.push(flag.clone()),
                b'k' => push_key(&mut reply.flags, key, options.key_binary),
                _ => {}
            }
        }
        result?;
        if options.value {
            reply.data = Some(Bytes::from(applied.digits));
        }
        Ok(MetaReply {
            response: reply,
            quiet: options.quiet && !applied.created,
        })
    }

    /// memcached's `do_add_delta` on a numeric item.
    fn apply_delta(
        &mut self,
        key: &Bytes,
        old: &Bytes,
        current: u64,
        incr: bool,
        delta: u64,
        now: u64,
    ) -> Result<Applied> {
        let value = if incr {
            self.counters.incr_hits += 1;
            current.wrapping_add(delta)
        } else {
            self.counters.decr_hits += 1;
            current.saturating_sub(delta)
        };
        let digits = value.to_string();
        let (flags, exptime) = self
            .items
            .get(key)
            .map_or((0, 0), |item| (item.flags, item.exptime));
        let in_place = digits.len() <= old.len();
        if in_place {
            let mut data = BytesMut::with_capacity(old.len());
            data.extend_from_slice(digits.as_bytes());
            data.resize(old.len(), b' ');
            let cas = self.next_cas();
            if let Some(item) = self.items.get_mut(key) {
                item.data = data.freeze();
                item.cas = cas;
            }
            self.bump(key, now);
        } else {
            self.link(
                key.clone(),
                Bytes::from(digits.clone()),
                flags,
                exptime,
                now,
            )?;
        }
        let cas = self.items.get(key).map_or(0, |item| item.cas);
        Ok(Applied {
            digits,
            cas,
            exptime,
            in_place,
            created: false,
        })
    }

    /// `T`/`N` reach the stored item only when it was changed in place.
    fn set_exptime(&mut self, key: &Bytes, applied: &Applied) {
        if applied.in_place {
            if let Some(item) = self.items.get_mut(key) {
                item.exptime = applied.exptime;
            }
        }
    }

    /// `NF`/`EX`, with `O` and `k`.
    fn arith_reply(
        &self,
        request: &MetaRequest,
        options: &MetaOptions,
        status: MetaStatus,
    ) -> Result<MetaReply> {
        let mut reply = response(status);
        for flag in &request.flags {
            match flag.flag {
                b'O' if opaque_too_long(flag) => return Err(opaque_error()),
                b'O' => reply.flags.push(flag.clone()),
                b'k' => push_key(&mut reply.flags, &request.key, options.key_binary),
                _ => {}
            }
        }
        Ok(MetaReply::shown(reply))
    }
}
