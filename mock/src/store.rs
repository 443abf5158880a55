//! The store: every command's semantics as memcached 1.6.18 implements them,
//! over typed requests (the codec has parsed and checked them).
//!
//! - [`items`]: item storage (expiry, flush, cas uniques, LRU eviction);
//! - [`write`] and [`delta`]: storage and `incr`/`decr` arithmetic, the
//!   semantics both dialects share (memcached's `do_store_item` and
//!   `do_add_delta`);
//! - [`classic`]: the classic item commands;
//! - [`meta`]: the meta commands;
//! - [`admin`]: `stats`, `flush_all`, `lru_crawler` and the other admin commands.

use std::collections::{BTreeMap, HashMap};

use bytes::Bytes;
use memclient::proto::MAX_KEY_LEN;
use memclient::{Error, Request, Response, Result};

use crate::stats::Counters;

mod admin;
mod classic;
mod delta;
mod items;
mod meta;
mod write;

use items::Item;

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

    /// Runs one request. `noreply` is not looked at: callers drop the reply.
    pub fn execute(&mut self, request: Request, env: Env) -> Result<Response> {
        let now = env.now;
        if request.keys().iter().any(|key| key.len() > MAX_KEY_LEN) {
            return Err(client("bad command line format"));
        }
        match request {
            Request::Retrieve(_)
            | Request::Store(_)
            | Request::Delete { .. }
            | Request::Arith { .. }
            | Request::Touch { .. } => self.classic(request, now),
            // On the wire, quiet mode suppresses some replies entirely.
            Request::Meta(meta) => self.meta(meta, now).map(|reply| {
                if reply.quiet {
                    Response::NoReply
                } else {
                    Response::Meta(reply.response)
                }
            }),
            _ => self.admin(request, env),
        }
    }
}
