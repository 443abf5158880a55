//! Item storage: the items, their expiry and flush state, cas uniques, and
//! the LRU that evicts them, as memcached 1.6.18's `items.c` keeps them.

use bytes::Bytes;
use memclient::proto::server::item_size;
use memclient::Result;

use super::{server, Cache};

/// memcached's `REALTIME_MAXDELTA`: exptimes up to 30 days are relative.
pub(super) const MAX_RELATIVE_EXPTIME: i64 = 60 * 60 * 24 * 30;
/// memcached's `ITEM_UPDATE_INTERVAL`: an item's access time is refreshed at
/// most once a minute.
const ITEM_UPDATE_INTERVAL: u64 = 60;
/// memcached's largest slab chunk (`slab_chunk_max`, half of a 1 MiB page).
const SLAB_CHUNK_MAX: usize = 512 * 1024;

/// One stored value.
#[derive(Debug, Clone)]
pub(super) struct Item {
    pub data: Bytes,
    pub flags: u32,
    /// Absolute unix seconds; 0: never.
    pub exptime: u64,
    pub cas: u64,
    /// memcached's `it->time`: when it was stored or last bumped (unix seconds).
    pub time: u64,
    pub fetched: bool,
    /// Position in the LRU (larger: more recent).
    pub lru: u64,
    /// memcached's `ITEM_ntotal`, counted against the memory limit.
    pub size: usize,
    /// The marks the meta commands read and set.
    pub marks: Marks,
}

/// memcached's item flags of the meta commands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Marks {
    /// `ITEM_KEY_BINARY`: stored by `ms` with `b`; keys are returned base64.
    pub binary: bool,
    /// `ITEM_STALE`: invalidated by `md I` (or stored by `ms C<older> I`).
    pub stale: bool,
    /// `ITEM_TOKEN_SENT`: some client got the `W` (win) flag.
    pub win_sent: bool,
}

impl Cache {
    /// memcached's `get_cas_id`: one global counter, starting at 1.
    pub(super) fn next_cas(&mut self) -> u64 {
        self.last_cas += 1;
        self.last_cas
    }

    /// memcached's `realtime(EXPTIME_TO_POSITIVE_TIME(exptime))`, in unix seconds.
    pub(super) fn expiry(&self, wire: i64, now: u64) -> u64 {
        // memcached keeps the parsed value in an `int32_t`.
        let exptime = i64::from(wire as i32);
        if exptime < 0 {
            // Negative: already expired.
            1
        } else if exptime == 0 {
            0
        } else if exptime <= MAX_RELATIVE_EXPTIME {
            now.saturating_add(exptime as u64)
        } else {
            (exptime as u64).max(1)
        }
    }

    fn is_expired(item: &Item, now: u64) -> bool {
        item.exptime != 0 && item.exptime <= now
    }

    /// memcached's `item_is_flushed`.
    pub(super) fn is_flushed(&self, item: &Item, now: u64) -> bool {
        if self.oldest_live == 0 || self.oldest_live > now {
            return false;
        }
        item.time <= self.oldest_live || (self.oldest_cas != 0 && item.cas < self.oldest_cas)
    }

    fn is_live(&self, item: &Item, now: u64) -> bool {
        !Self::is_expired(item, now) && !self.is_flushed(item, now)
    }

    /// memcached's `do_item_get`: a live item, or `None` after reclaiming a
    /// flushed or expired one (lazily, as memcached does on access).
    pub(super) fn lookup(&mut self, key: &[u8], now: u64) -> Option<&mut Item> {
        let item = self.items.get(key)?;
        if self.is_flushed(item, now) {
            self.counters.get_flushed += 1;
            self.unlink(key);
            return None;
        }
        if Self::is_expired(item, now) {
            self.counters.get_expired += 1;
            if !item.fetched {
                self.counters.expired_unfetched += 1;
            }
            self.unlink(key);
            return None;
        }
        self.items.get_mut(key)
    }

    /// memcached's `do_item_bump`/`do_item_update`: refresh the access time at
    /// most once a minute, and move the item to the head of the LRU.
    pub(super) fn bump(&mut self, key: &[u8], now: u64) {
        self.lru_tick += 1;
        let tick = self.lru_tick;
        let Some(item) = self.items.get_mut(key) else {
            return;
        };
        if item.time.saturating_add(ITEM_UPDATE_INTERVAL) < now {
            item.time = now;
        }
        if let Some(key) = self.lru.remove(&item.lru) {
            self.lru.insert(tick, key);
        }
        item.lru = tick;
    }

    pub(super) fn unlink(&mut self, key: &[u8]) -> Option<Item> {
        let item = self.items.remove(key)?;
        self.lru.remove(&item.lru);
        self.bytes -= item.size;
        Some(item)
    }

    /// memcached's `do_item_link` (replacing any old item): a new cas, a new
    /// access time, the head of the LRU. Evicts from the LRU tail to make room.
    pub(super) fn link(
        &mut self,
        key: Bytes,
        data: Bytes,
        flags: u32,
        exptime: u64,
        now: u64,
    ) -> Result<()> {
        self.link_marked(key, data, flags, exptime, now, Marks::default())
    }

    /// [`link`](Self::link) with the meta marks of the new item.
    pub(super) fn link_marked(
        &mut self,
        key: Bytes,
        data: Bytes,
        flags: u32,
        exptime: u64,
        now: u64,
        marks: Marks,
    ) -> Result<()> {
        let size = item_size(key.len(), flags, data.len());
        self.unlink(&key);
        while self.bytes + size > self.config.memory_limit {
            let Some((_, victim)) = self.lru.pop_first() else {
                break;
            };
            if let Some(item) = self.items.remove(&victim) {
                self.bytes -= item.size;
                if self.is_live(&item, now) {
                    self.counters.evictions += 1;
                    if !item.fetched {
                        self.counters.evicted_unfetched += 1;
                    }
                } else {
                    self.counters.reclaimed += 1;
                }
            }
        }
        if self.bytes + size > self.config.memory_limit {
            self.counters.store_no_memory += 1;
            return Err(server("out of memory storing object"));
        }
        self.lru_tick += 1;
        let cas = self.next_cas();
        self.lru.insert(self.lru_tick, key.clone());
        self.items.insert(
            key,
            Item {
                data,
                flags,
                exptime,
                cas,
                time: now,
                fetched: false,
                lru: self.lru_tick,
                size,
                marks,
            },
        );
        self.bytes += size;
        self.counters.total_items += 1;
        Ok(())
    }

    // Inspection for tests: live items only, no counters, no LRU bump.

    pub fn get_raw(&self, key: &[u8], now: u64) -> Option<(Bytes, u32)> {
        let item = self.items.get(key)?;
        self.is_live(item, now)
            .then(|| (item.data.clone(), item.flags))
    }

    pub fn keys(&self, now: u64) -> Vec<Bytes> {
        let mut keys: Vec<Bytes> = self
            .items
            .iter()
            .filter(|(_, item)| self.is_live(item, now))
            .map(|(key, _)| key.clone())
            .collect();
        keys.sort();
        keys
    }

    pub fn clear(&mut self) {
        self.items.clear();
        self.lru.clear();
        self.bytes = 0;
    }
}

/// True when memcached stores an item of these sizes in chunks: it then
/// refuses `incr`/`decr` on it as non-numeric, whatever its bytes.
pub(super) fn is_chunked(key_len: usize, flags: u32, value_len: usize) -> bool {
    item_size(key_len, flags, value_len) > SLAB_CHUNK_MAX
}
