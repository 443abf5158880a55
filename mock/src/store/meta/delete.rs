//! `md`: memcached 1.6.18's `process_mdelete_command`.
//!
//! - `C<cas>` must match (else `EX`, counted as a delete miss).
//! - `I` marks the item stale instead: a new cas, its win mark cleared (the
//!   next `mg` wins), and with `T` a new TTL (`T` alone does nothing).
//! - `x` (remove the value, keep the item) and `E` are not in 1.6.18: the
//!   codec refuses them.
//! - Every reply carries `O` and `k` (base64 with `b` when sent with `b`).
//! - `q` suppresses only `HD`. Counters: `delete_hits` for a real delete,
//!   `delete_misses` for `NF` and `EX`, nothing for `I`.

use memclient::proto::server::MetaOptions;
use memclient::{MetaRequest, MetaStatus};

use super::super::Cache;
use super::{push_key, response, MetaReply};

impl Cache {
    pub(super) fn meta_delete(
        &mut self,
        request: &MetaRequest,
        options: &MetaOptions,
        now: u64,
    ) -> MetaReply {
        let key = &request.key;
        let ttl = options.ttl.map(|ttl| self.expiry(ttl, now));
        let status = match self.lookup(key, now).map(|item| item.cas) {
            None => {
                self.counters.delete_misses += 1;
                MetaStatus::NotFound
            }
            Some(cas) if options.cas.is_some_and(|wanted| wanted != cas) => {
                self.counters.delete_misses += 1;
                MetaStatus::Exists
            }
            Some(_) if options.invalidate => {
                let cas = self.next_cas();
                if let Some(item) = self.items.get_mut(key) {
                    if let Some(ttl) = ttl {
                        item.exptime = ttl;
                    }
                    item.marks.stale = true;
                    item.marks.win_sent = false;
                    item.cas = cas;
                }
                MetaStatus::Header
            }
            Some(_) => {
                self.counters.delete_hits += 1;
                self.unlink(key);
                MetaStatus::Header
            }
        };
        let mut reply = response(status);
        for flag in &request.flags {
            match flag.flag {
                b'O' => reply.flags.push(flag.clone()),
                b'k' => push_key(&mut reply.flags, key, options.key_binary),
                _ => {}
            }
        }
        MetaReply {
            response: reply,
            quiet: options.quiet && status == MetaStatus::Header,
        }
    }
}
