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
//!
//! The arithmetic itself is the classic commands' ([`delta`](super::super::delta)).

use bytes::Bytes;
use memclient::proto::server::{opaque_too_long, MetaOptions};
use memclient::{ArithOp, Error, MetaFlag, MetaRequest, MetaStatus, Result};

use super::super::delta::Delta;
use super::super::Cache;
use super::{opaque_error, push_key, response, MetaReply};

impl Cache {
    pub(super) fn meta_arith(
        &mut self,
        request: &MetaRequest,
        options: &MetaOptions,
        now: u64,
    ) -> Result<MetaReply> {
        let key = &request.key;
        let op = match options.mode {
            Some(b'D' | b'-') => ArithOp::Decr,
            _ => ArithOp::Incr,
        };
        let mut created = false;
        let mut applied = match self.lookup(key, now).map(|item| item.cas) {
            None if options.vivify.is_some() => {
                let value = options.initial;
                self.link(key.clone(), Bytes::from(value.to_string()), 0, 0, now)
                    .map_err(|_| Error::Server("Out of memory allocating new item".into()))?;
                created = true;
                Delta {
                    value,
                    cas: self.items.get(key).map_or(0, |item| item.cas),
                    exptime: 0,
                    in_place: true,
                }
            }
            None => {
                self.count_arith_miss(op);
                return self.arith_reply(request, options, MetaStatus::NotFound);
            }
            Some(cas) => {
                // Empty values are refused before the cas, others after it.
                self.check_countable(key)?;
                if options
                    .cas
                    .is_some_and(|wanted| wanted != 0 && wanted != cas)
                {
                    return self.arith_reply(request, options, MetaStatus::Exists);
                }
                self.add_delta(key, op, options.delta, now)?
            }
        };
        let mut reply = response(if options.value {
            MetaStatus::Value
        } else {
            MetaStatus::Header
        });
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
                b'N' if created => {
                    applied.exptime = self.expiry(options.vivify.unwrap_or(0), now);
                    self.set_exptime(key, &applied);
                }
                b'O' if opaque_too_long(flag) => return Err(opaque_error()),
                b'O' => reply.flags.push(flag.clone()),
                b'k' => push_key(&mut reply.flags, key, options.key_binary),
                _ => {}
            }
        }
        if options.value {
            reply.data = Some(Bytes::from(applied.value.to_string()));
        }
        Ok(MetaReply {
            response: reply,
            quiet: options.quiet && !created,
        })
    }

    /// `T`/`N` reach the stored item only when it was changed in place.
    fn set_exptime(&mut self, key: &Bytes, applied: &Delta) {
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
