//! The store: items, expiry, cas, LRU eviction, and every command's semantics
//! as memcached 1.6.18 implements them.

use std::collections::{BTreeMap, HashMap};

use bytes::{Bytes, BytesMut};
use memclient::proto::server::{item_size, parse_u64};
use memclient::proto::MAX_KEY_LEN;
use memclient::{
    ArithOp, Error, LruCrawler, Request, Response, Result, Retrieve, RetrieveCommand, Store,
    StoreCommand, Value,
};

use crate::cachedump;
use crate::slabs;
use crate::stats::{self, Counters, SettingsView, Snapshot};

mod meta;


/// memcached's `REALTIME_MAXDELTA`: exptimes up to 30 days are relative.
const MAX_RELATIVE_EXPTIME: i64 = 60 * 60 * 24 * 30;
/// memcached's `ITEM_UPDATE_INTERVAL`: an item's access time is refreshed at
/// most once a minute.
const ITEM_UPDATE_INTERVAL: u64 = 60;

/// One stored value.
#[derive(Debug, Clone)]
struct Item {
    data: Bytes,
    flags: u32,
    /// Absolute unix seconds; 0: never.
    exptime: u64,
    cas: u64,
    /// memcached's `it->time`: when it was stored or last bumped (unix seconds).
    time: u64,
    fetched: bool,
    /// Position in the LRU (larger: more recent).
    lru: u64,
    /// memcached's `ITEM_ntotal`, counted against the memory limit.
    size: usize,
    /// The marks the meta commands read and set.
    marks: Marks,
}

/// memcached's item flags of the meta commands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Marks {
    /// `ITEM_KEY_BINARY`: stored by `ms` with `b`; keys are returned base64.
    binary: bool,
    /// `ITEM_STALE`: invalidated by `md I` (or stored by `ms C<older> I`).
    stale: bool,
    /// `ITEM_TOKEN_SENT`: some client got the `W` (win) flag.
    win_sent: bool,
}

/// The configuration a store starts with.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Config {
    pub memory_limit: usize,
    pub max_item_size: usize,
}

/// What the store needs to know about the world for one command.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Env {
    pub now: u64,
    pub curr_connections: u64,
    pub total_connections: u64,
}

/// All items and counters of one mock.
#[derive(Debug)]
pub(crate) struct Cache {
    items: HashMap<Bytes, Item>,
    lru: BTreeMap<u64, Bytes>,
    lru_tick: u64,
    last_cas: u64,
    bytes: usize,
    /// memcached's `settings.oldest_live` (unix seconds; 0: no flush pending).
    oldest_live: u64,
    /// memcached's `settings.oldest_cas`: items with a lower cas were flushed.
    oldest_cas: u64,
    started: u64,
    config: Config,
    verbosity: u32,
    slab_automove: u8,
    lru_crawler: bool,
    lru_crawler_sleep: u32,
    lru_crawler_tocrawl: u32,
    counters: Counters,
}

fn client(message: &str) -> Error {
    Error::Client(message.to_string())
}

fn server(message: &str) -> Error {
    Error::Server(message.to_string())
}

fn bad_format() -> Error {
    client("bad command line format")
}

impl Cache {
    pub fn new(config: Config, now: u64) -> Self {
        Self {
            items: HashMap::new(),
            lru: BTreeMap::new(),
            lru_tick: 0,
            last_cas: 0,
            bytes: 0,
            oldest_live: 0,
            oldest_cas: 0,
            started: now,
            config,
            verbosity: 0,
            slab_automove: 1,
            lru_crawler: true,
            lru_crawler_sleep: 100,
            lru_crawler_tocrawl: 0,
            counters: Counters::default(),
        }
    }

    pub fn max_item_size(&self) -> usize {
        self.config.max_item_size
    }

    /// memcached's `get_cas_id`: one global counter, starting at 1.
    fn next_cas(&mut self) -> u64 {
        self.last_cas += 1;
        self.last_cas
    }

    /// memcached's `realtime(EXPTIME_TO_POSITIVE_TIME(exptime))`, in unix seconds.
    fn expiry(&self, wire: i64, now: u64) -> u64 {
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
    fn is_flushed(&self, item: &Item, now: u64) -> bool {
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
    fn lookup(&mut self, key: &[u8], now: u64) -> Option<&mut Item> {
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
    fn bump(&mut self, key: &[u8], now: u64) {
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

    fn unlink(&mut self, key: &[u8]) -> Option<Item> {
        let item = self.items.remove(key)?;
        self.lru.remove(&item.lru);
        self.bytes -= item.size;
        Some(item)
    }

    /// memcached's `do_item_link` (replacing any old item): a new cas, a new
    /// access time, the head of the LRU. Evicts from the LRU tail to make room.
    fn link(&mut self, key: Bytes, data: Bytes, flags: u32, exptime: u64, now: u64) -> Result<()> {
        self.link_marked(key, data, flags, exptime, now, Marks::default())
    }

    /// [`link`](Self::link) with the meta marks of the new item.
    fn link_marked(
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

    /// Runs one request. `noreply` is not looked at: callers drop the reply.
    pub fn execute(&mut self, request: Request, env: Env) -> Result<Response> {
        let now = env.now;
        for key in request.keys() {
            if key.len() > MAX_KEY_LEN {
                return Err(bad_format());
            }
        }
        match request {
            Request::Retrieve(retrieve) => Ok(self.retrieve(retrieve, now)),
            Request::Store(store) => self.store(store, now),
            Request::Delete { key, .. } => {
                if self.lookup(&key, now).is_some() {
                    self.unlink(&key);
                    self.counters.delete_hits += 1;
                    Ok(Response::Deleted)
                } else {
                    self.counters.delete_misses += 1;
                    Ok(Response::NotFound)
                }
            }
            Request::Arith { op, key, delta, .. } => self.arith(op, key, delta, now),
            Request::Touch { key, exptime, .. } => {
                self.counters.cmd_touch += 1;
                let exptime = self.expiry(exptime, now);
                match self.lookup(&key, now) {
                    Some(item) => {
                        item.exptime = exptime;
                        // memcached fetches the item to touch it: it then
                        // counts as hit before (`mg h`, `me` fetch=yes).
                        item.fetched = true;
                        self.bump(&key, now);
                        self.counters.touch_hits += 1;
                        Ok(Response::Touched)
                    }
                    None => {
                        self.counters.touch_misses += 1;
                        Ok(Response::NotFound)
                    }
                }
            }
            Request::Stats { args } => self.stats(&args, env),
            Request::FlushAll { delay, .. } => {
                self.flush_all(delay.unwrap_or(0), now);
                Ok(Response::Ok)
            }
            Request::Version => Ok(Response::Version(Bytes::from_static(
                crate::VERSION.as_bytes(),
            ))),
            Request::Verbosity { level, .. } => {
                self.verbosity = level.min(2);
                Ok(Response::Ok)
            }
            Request::CacheMemlimit { megabytes, .. } => {
                // memcached parses it into a 32-bit value.
                let megabytes = megabytes as u32;
                if megabytes < 8 {
                    Err(server(
                        "MEMLIMIT_TOO_SMALL cannot set maxbytes to less than 8m",
                    ))
                } else if megabytes > 1_000_000_000 {
                    Err(server(
                        "MEMLIMIT_ADJUST_FAILED input value is megabytes not bytes",
                    ))
                } else {
                    self.config.memory_limit = megabytes as usize * 1024 * 1024;
                    Ok(Response::Ok)
                }
            }
            Request::Quit => Ok(Response::NoReply),
            // The mock is memcached started without `-A`.
            Request::Shutdown { .. } => Err(Error::UnknownCommand("shutdown not enabled".into())),
            Request::SlabsReassign { source, dest } => {
                let largest = slabs::largest_class() as i32;
                if source == dest {
                    Err(server("SAME src and dst class are identical"))
                } else if !(0..=largest).contains(&source) || !(0..=largest).contains(&dest) {
                    Err(server("BADCLASS invalid src or dst class id"))
                } else {
                    // The mock has no slab pages to move.
                    Err(server("NOSPARE source class has no spare pages"))
                }
            }
            Request::SlabsAutomove { mode } => {
                if mode <= 2 {
                    self.slab_automove = mode;
                    Ok(Response::Ok)
                } else {
                    Err(Error::UnknownCommand(String::new()))
                }
            }
            Request::LruCrawler(command) => self.lru_crawler(command, now),
            // On the wire, quiet mode suppresses some replies entirely.
            Request::Meta(meta) => self.meta(meta, now).map(|reply| {
                if reply.quiet {
                    Response::NoReply
                } else {
                    Response::Meta(reply.response)
                }
            }),
            _ => Err(Error::UnknownCommand(String::new())),
        }
    }

    fn retrieve(&mut self, retrieve: Retrieve, now: u64) -> Response {
        let touch = match retrieve.command {
            RetrieveCommand::Gat { exptime } | RetrieveCommand::Gats { exptime } => {
                Some(self.expiry(exptime, now))
            }
            _ => None,
        };
        let with_cas = retrieve.command.returns_cas();
        let mut values = Vec::new();
        for key in retrieve.keys {
            self.counters.cmd_get += 1;
            if touch.is_some() {
                self.counters.cmd_touch += 1;
            }
            let Some(item) = self.lookup(&key, now) else {
                // memcached counts a gat miss as a touch miss, not a get miss.
                match touch {
                    Some(_) => self.counters.touch_misses += 1,
                    None => self.counters.get_misses += 1,
                }
                continue;
            };
            if let Some(exptime) = touch {
                item.exptime = exptime;
            }
            item.fetched = true;
            values.push(Value {
                key: key.clone(),
                flags: item.flags,
                cas: with_cas.then_some(item.cas),
                data: item.data.clone(),
            });
            match touch {
                Some(_) => self.counters.touch_hits += 1,
                None => self.counters.get_hits += 1,
            }
            self.bump(&key, now);
        }
        Response::Values(values)
    }

    /// A storage command the decoder rejected as too large: memcached counts it
    /// and, for `set`, removes the old value so no stale value survives.
    pub fn too_large(&mut self, command: StoreCommand, key: &[u8], now: u64) -> Error {
        self.counters.store_too_large += 1;
        if command == StoreCommand::Set && self.lookup(key, now).is_some() {
            self.unlink(key);
        }
        server("object too large for cache")
    }

    /// A data block without its `\r\n`: memcached counts the set first.
    pub fn bad_data_chunk(&mut self) -> Error {
        self.counters.cmd_set += 1;
        client("bad data chunk")
    }

    fn store(&mut self, store: Store, now: u64) -> Result<Response> {
        let Store {
            command,
            key,
            flags,
            exptime,
            value,
            ..
        } = store;
        if item_size(key.len(), flags, value.len()) > self.config.max_item_size {
            return Err(self.too_large(command, &key, now));
        }
        self.counters.cmd_set += 1;
        let exptime = self.expiry(exptime, now);
        let existing = self
            .lookup(&key, now)
            .map(|item| (item.cas, item.flags, item.exptime, item.data.clone()));
        match (command, existing) {
            (StoreCommand::Set, _)
            | (StoreCommand::Add, None)
            | (StoreCommand::Replace, Some(_)) => {
                self.link(key, value, flags, exptime, now)?;
                Ok(Response::Stored)
            }
            (StoreCommand::Add, Some(_)) => {
                // memcached still bumps the existing item.
                self.bump(&key, now);
                Ok(Response::NotStored)
            }
            (StoreCommand::Replace | StoreCommand::Append | StoreCommand::Prepend, None) => {
                Ok(Response::NotStored)
            }
            (StoreCommand::Append | StoreCommand::Prepend, Some((_, old_flags, old_exp, old))) => {
                // The item keeps its flags and expiry; only the data grows.
                let mut data = BytesMut::with_capacity(old.len() + value.len());
                if command == StoreCommand::Append {
                    data.extend_from_slice(&old);
                    data.extend_from_slice(&value);
                } else {
                    data.extend_from_slice(&value);
                    data.extend_from_slice(&old);
                }
                if item_size(key.len(), old_flags, data.len()) > self.config.max_item_size {
                    // memcached fails to allocate the combined item.
                    return Ok(Response::NotStored);
                }
                self.link(key, data.freeze(), old_flags, old_exp, now)?;
                Ok(Response::Stored)
            }
            (StoreCommand::Cas { .. }, None) => {
                self.counters.cas_misses += 1;
                Ok(Response::NotFound)
            }
            (StoreCommand::Cas { unique }, Some((cas, ..))) => {
                if unique == cas {
                    self.counters.cas_hits += 1;
                    self.link(key, value, flags, exptime, now)?;
                    Ok(Response::Stored)
                } else {
                    self.counters.cas_badval += 1;
                    Ok(Response::Exists)
                }
            }
        }
    }

    /// memcached's `do_add_delta`. Besides unparsable values, memcached
    /// refuses empty ones and chunked ones (see [`is_chunked`]) as non-numeric.
    fn arith(&mut self, op: ArithOp, key: Bytes, delta: u64, now: u64) -> Result<Response> {
        let Some(item) = self.lookup(&key, now) else {
            match op {
                ArithOp::Incr => self.counters.incr_misses += 1,
                ArithOp::Decr => self.counters.decr_misses += 1,
            }
            return Ok(Response::NotFound);
        };
        let non_numeric = || client("cannot increment or decrement non-numeric value");
        if item.data.is_empty() || is_chunked(key.len(), item.flags, item.data.len()) {
            return Err(non_numeric());
        }
        let Some(current) = parse_u64(&item.data) else {
            return Err(non_numeric());
        };
        let (flags, exptime, old_len) = (item.flags, item.exptime, item.data.len());
        let value = match op {
            ArithOp::Incr => current.wrapping_add(delta),
            ArithOp::Decr => current.saturating_sub(delta),
        };
        match op {
            ArithOp::Incr => self.counters.incr_hits += 1,
            ArithOp::Decr => self.counters.decr_hits += 1,
        }
        let digits = value.to_string();
        if digits.len() <= old_len {
            // In place: memcached keeps the length and pads with spaces.
            let mut data = BytesMut::with_capacity(old_len);
            data.extend_from_slice(digits.as_bytes());
            data.resize(old_len, b' ');
            let cas = self.next_cas();
            if let Some(item) = self.items.get_mut(&key) {
                item.data = data.freeze();
                item.cas = cas;
            }
            self.bump(&key, now);
        } else {
            self.link(key, Bytes::from(digits), flags, exptime, now)?;
        }
        Ok(Response::Number(value))
    }

    /// memcached's `process_flush_all_command`.
    fn flush_all(&mut self, delay: i64, now: u64) {
        self.counters.cmd_flush += 1;
        let delay = delay as i32;
        let new_oldest = if delay > 0 {
            let at = self.expiry(i64::from(delay), now);
            // An absolute time before the start: memcached's relative clock
            // clamps it to its first second, which disables the flush.
            if i64::from(delay) > MAX_RELATIVE_EXPTIME && at <= self.started {
                1
            } else {
                at
            }
        } else {
            now
        };
        self.oldest_live = new_oldest.saturating_sub(1);
        if self.oldest_live <= now {
            self.oldest_cas = self.next_cas();
        }
    }

    fn stats(&mut self, args: &[Bytes], env: Env) -> Result<Response> {
        let Some(sub) = args.first() else {
            let snapshot = Snapshot {
                counters: &self.counters,
                uptime: env.now.saturating_sub(self.started),
                time: env.now,
                curr_connections: env.curr_connections,
                total_connections: env.total_connections,
                limit_maxbytes: self.config.memory_limit as u64,
                bytes: self.bytes as u64,
                curr_items: self.items.len() as u64,
            };
            return Ok(Response::Lines(stats::general(&snapshot)));
        };
        match sub.as_ref() {
            b"reset" => {
                // Gauges (curr_items, bytes) survive: the mock computes them.
                self.counters = Counters::default();
                Ok(Response::Line(Bytes::from_static(b"RESET")))
            }
            b"settings" => Ok(Response::Lines(stats::settings(&SettingsView {
                maxbytes: self.config.memory_limit as u64,
                verbosity: self.verbosity,
                oldest: 0,
                item_size_max: self.config.max_item_size,
                slab_automove: self.slab_automove,
                lru_crawler: self.lru_crawler,
                lru_crawler_sleep: self.lru_crawler_sleep,
                lru_crawler_tocrawl: self.lru_crawler_tocrawl,
            }))),
            b"detail" => match args.get(1).map(|a| a.as_ref()) {
                Some(b"on") | Some(b"off") => Ok(Response::Ok),
                Some(b"dump") => Ok(Response::Lines(Vec::new())),
                _ => Err(client("usage: stats detail on|off|dump")),
            },
            b"items" | b"slabs" | b"conns" => Ok(Response::Lines(Vec::new())),
            b"cachedump" => {
                let (class, limit) = cachedump::parse(&args[1..]).map_err(client)?;
                let items = self.items.iter().map(|(key, item)| cachedump::Dumped {
                    key,
                    value_len: item.data.len(),
                    exptime: item.exptime,
                    class: slabs::class_of(item.size),
                    stored: item.cas,
                });
                Ok(Response::Lines(cachedump::lines(items, class, limit)))
            }
            b"sizes" => Ok(Response::Lines(vec![Bytes::from_static(
                b"STAT sizes_status disabled",
            )])),
            _ => Err(Error::UnknownCommand(String::new())),
        }
    }

    fn lru_crawler(&mut self, command: LruCrawler, now: u64) -> Result<Response> {
        match command {
            LruCrawler::Enable if self.lru_crawler => Err(Error::UnknownCommand(
                "failed to start lru crawler thread".into(),
            )),
            // Disabling a disabled crawler is OK on memcached too.
            LruCrawler::Enable | LruCrawler::Disable => {
                self.lru_crawler = matches!(command, LruCrawler::Enable);
                Ok(Response::Ok)
            }
            LruCrawler::Sleep(micros) if micros > 1_000_000 => {
                Err(client("sleep must be one second or less"))
            }
            LruCrawler::Sleep(micros) => {
                self.lru_crawler_sleep = micros;
                Ok(Response::Ok)
            }
            LruCrawler::ToCrawl(items) => {
                self.lru_crawler_tocrawl = items;
                Ok(Response::Ok)
            }
            LruCrawler::Crawl(ref classes) | LruCrawler::Metadump(ref classes) => {
                if !self.lru_crawler {
                    return Err(client("lru crawler disabled"));
                }
                let Some(wanted) = parse_classes(classes) else {
                    return Err(server("BADCLASS invalid class id"));
                };
                if matches!(command, LruCrawler::Crawl(_)) {
                    return Ok(Response::Ok);
                }
                Ok(Response::Lines(self.metadump(wanted.as_deref(), now)))
            }
        }
    }

    /// One `key=... exp=... la=... cas=... fetch=... cls=... size=...` line per
    /// live item, sorted by key (memcached's order follows its LRUs).
    fn metadump(&self, classes: Option<&[usize]>, now: u64) -> Vec<Bytes> {
        let mut lines: Vec<(Bytes, Bytes)> = self
            .items
            .iter()
            .filter(|(_, item)| {
                // The crawler skips expired (strictly before now) and flushed items.
                let expired = item.exptime != 0 && item.exptime < now;
                !expired && !self.is_flushed(item, now)
            })
            .filter_map(|(key, item)| {
                let class = slabs::class_of(item.size);
                if classes.is_some_and(|c| !c.contains(&class)) {
                    return None;
                }
                let exp = if item.exptime == 0 {
                    "-1".to_string()
                } else {
                    item.exptime.to_string()
                };
                let line = format!(
                    "key={} exp={} la={} cas={} fetch={} cls={} size={}",
                    uri_encode(key),
                    exp,
                    item.time,
                    item.cas,
                    if item.fetched { "yes" } else { "no" },
                    class,
                    item.size
                );
                Some((key.clone(), Bytes::from(line)))
            })
            .collect();
        lines.sort();
        lines.into_iter().map(|(_, line)| line).collect()
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

/// `all`/`hash` (every class, `None`) or a comma separated list of class ids
/// (1..=63, as memcached's `lru_crawler_crawl` accepts).
fn parse_classes(spec: &[u8]) -> Option<Option<Vec<usize>>> {
    if spec == b"all" || spec == b"hash" {
        return Some(None);
    }
    let mut classes = Vec::new();
    for part in spec.split(|&b| b == b',') {
        let id = parse_u64(part)?;
        if !(1..64).contains(&id) {
            return None;
        }
        classes.push(id as usize);
    }
    Some(Some(classes))
}

/// memcached's `uriencode`: unreserved characters as is, the rest `%XX`.
fn uri_encode(key: &[u8]) -> String {
    let mut out = String::with_capacity(key.len());
    for &byte in key {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// memcached's largest slab chunk (`slab_chunk_max`, half of a 1 MiB page).
const SLAB_CHUNK_MAX: usize = 512 * 1024;

/// True when memcached stores an item of these sizes in chunks: it then
/// refuses `incr`/`decr` on it as non-numeric, whatever its bytes.
pub(crate) fn is_chunked(key_len: usize, flags: u32, value_len: usize) -> bool {
    memclient::proto::server::item_size(key_len, flags, value_len) > SLAB_CHUNK_MAX
}
