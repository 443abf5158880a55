//! `me <key>`: memcached 1.6.18's item dump.
//!
//! Where the protocol text says `exp` is the expiration time, 1.6.18 prints
//! `now - exptime`: an item with 100 seconds left shows `exp=-100`. A key
//! stored with `b` is printed in base64 (with no `b` marker). Only `me`
//! moves the `cmd_meta` counter.

use bytes::Bytes;
use memclient::{MetaFlag, MetaResponse, MetaStatus};

use super::super::Cache;
use super::response;
use crate::slabs;

impl Cache {
    pub(super) fn meta_debug(&mut self, key: &Bytes, now: u64) -> MetaResponse {
        self.counters.cmd_meta += 1;
        let Some(item) = self.lookup(key, now) else {
            return response(MetaStatus::Miss);
        };
        // The codec prints the key in base64 when `b` marks it binary.
        let mut flags = vec![MetaFlag::with(b'k', key.clone())];
        if item.marks.binary {
            flags.push(MetaFlag::bare(b'b'));
        }
        let exp = if item.exptime == 0 {
            -1
        } else {
            (now as i64 - item.exptime as i64) as i32
        };
        let pairs = [
            ("exp", exp.to_string()),
            ("la", now.saturating_sub(item.time).to_string()),
            ("cas", item.cas.to_string()),
            ("fetch", if item.fetched { "yes" } else { "no" }.to_string()),
            ("cls", slabs::class_of(item.size).to_string()),
            ("size", item.size.to_string()),
        ];
        MetaResponse {
            status: Some(MetaStatus::Debug),
            flags,
            data: None,
            debug: pairs
                .into_iter()
                .map(|(name, value)| (Bytes::from_static(name.as_bytes()), Bytes::from(value)))
                .collect(),
        }
    }
}
