//! `mg`: memcached 1.6.18's `process_mget_command`.
//!
//! - Flags are answered in request order; `T`, `N` and `R` act where they
//!   stand, so `t` before `T30` shows the old TTL. `Z` (someone else won),
//!   `X` (stale) and `W` (you won) follow, in that order.
//! - `N<ttl>` on a miss links an empty item and wins (`W`); later callers see
//!   `Z`. The new item is not marked binary even with `b` (so `k` returns the
//!   raw key), and counts as a hit.
//! - `R<ttl>` wins when the item expires before `ttl` seconds from now and no
//!   win was handed out yet; a stale item (`md I`) hands its win to the first
//!   reader.
//! - `h` and `l` report the state before this fetch; `u` leaves the item
//!   unfetched and unbumped.
//! - `C`, `E` (the compare and explicit cas of the protocol text) do nothing:
//!   `C` is accepted and ignored, `E` refused by the codec.
//! - `q` suppresses only `EN`. An opaque over 32 bytes is refused while
//!   answering, after `T`/`N` acted and (on a miss) after the miss counted.
//! - Counters: a hit counts `cmd_get`/`get_hits`, or with `T`
//!   `cmd_touch`/`touch_hits`; a miss `cmd_get`/`get_misses`, `T` or not.

use memclient::proto::server::{opaque_too_long, MetaOptions};
use memclient::{MetaFlag, MetaRequest, MetaResponse, MetaStatus, Result};

use super::super::Cache;
use super::{opaque_error, push_key, response, MetaReply};

impl Cache {
    pub(super) fn meta_get(
        &mut self,
        request: &MetaRequest,
        options: &MetaOptions,
        now: u64,
    ) -> Result<MetaReply> {
        let key = &request.key;
        let mut created = false;
        if self.lookup(key, now).is_none() && options.vivify.is_some() {
            // An allocation failure leaves a miss, as in memcached.
            created = self
                .link(key.clone(), bytes::Bytes::new(), 0, 0, now)
                .is_ok();
        }
        let Some(item) = self.items.get(key) else {
            return self.meta_get_miss(request, options);
        };
        let (mut exptime, cas, data, flags) =
            (item.exptime, item.cas, item.data.clone(), item.flags);
        let (time, fetched, mut marks) = (item.time, item.fetched, item.marks);
        let mut reply = response(if options.value {
            MetaStatus::Value
        } else {
            MetaStatus::Header
        });
        let mut won = false;
        let mut touched = false;
        let mut failed = false;
        for flag in &request.flags {
            let number = |n: String| MetaFlag::with(flag.flag, n);
            match flag.flag {
                b'T' => {
                    touched = true;
                    exptime = self.expiry(options.ttl.unwrap_or(0), now);
                }
                b'N' if created => {
                    exptime = self.expiry(options.vivify.unwrap_or(0), now);
                    won = true;
                }
                b'R' => {
                    let recache = self.expiry(options.recache.unwrap_or(0), now);
                    if !marks.win_sent && !created && exptime != 0 && exptime < recache {
                        won = true;
                    }
                }
                b's' => reply.flags.push(number(data.len().to_string())),
                b't' => reply
                    .flags
                    .push(MetaFlag::with(b't', self.ttl_token(exptime, now))),
                b'c' => reply.flags.push(number(cas.to_string())),
                b'f' => reply.flags.push(number(flags.to_string())),
                b'l' => reply
                    .flags
                    .push(number((now.saturating_sub(time) as u32).to_string())),
                b'h' => reply
                    .flags
                    .push(number(if fetched { "1" } else { "0" }.to_string())),
                b'O' if opaque_too_long(flag) => {
                    failed = true;
                    break;
                }
                b'O' => reply.flags.push(flag.clone()),
                b'k' => push_key(&mut reply.flags, key, marks.binary),
                _ => {}
            }
        }
        if !failed {
            if marks.win_sent {
                reply.flags.push(MetaFlag::bare(b'Z'));
            }
            if marks.stale {
                reply.flags.push(MetaFlag::bare(b'X'));
                if !marks.win_sent {
                    won = true;
                }
            }
            if won {
                reply.flags.push(MetaFlag::bare(b'W'));
                marks.win_sent = true;
            }
        }
        if let Some(item) = self.items.get_mut(key) {
            item.exptime = exptime;
            item.marks = marks;
            if !failed && !options.no_update {
                item.fetched = true;
            }
        }
        if failed {
            return Err(opaque_error());
        }
        if !options.no_update {
            self.bump(key, now);
        }
        if touched {
            self.counters.cmd_touch += 1;
            self.counters.touch_hits += 1;
        } else {
            self.counters.cmd_get += 1;
            self.counters.get_hits += 1;
        }
        if options.value {
            reply.data = Some(data);
        }
        Ok(MetaReply::shown(reply))
    }

    fn meta_get_miss(&mut self, request: &MetaRequest, options: &MetaOptions) -> Result<MetaReply> {
        self.counters.cmd_get += 1;
        self.counters.get_misses += 1;
        let mut reply: MetaResponse = response(MetaStatus::Miss);
        for flag in &request.flags {
            match flag.flag {
                b'O' if opaque_too_long(flag) => return Err(opaque_error()),
                b'O' => reply.flags.push(flag.clone()),
                b'k' => push_key(&mut reply.flags, &request.key, options.key_binary),
                _ => {}
            }
        }
        Ok(MetaReply {
            response: reply,
            quiet: options.quiet,
        })
    }
}
