//! The classic commands: `get`/`gets`/`gat`/`gats`, the storage commands,
//! `delete`, `incr`/`decr` and `touch`, as memcached 1.6.18's
//! `process_*_command` run them. Storage and arithmetic are the semantics
//! the meta commands share ([`write`](super::write), [`delta`](super::delta)).

use bytes::Bytes;
use memclient::{
    ArithOp, Error, Request, Response, Result, Retrieve, RetrieveCommand, Store, StoreCommand,
    Value,
};

use super::write::{Mode, Write, Written};
use super::{client, server, Cache};

impl Cache {
    /// Runs one classic command.
    pub(super) fn classic(&mut self, request: Request, now: u64) -> Result<Response> {
        match request {
            Request::Retrieve(retrieve) => Ok(self.retrieve(retrieve, now)),
            Request::Store(store) => self.store(store, now),
            Request::Delete { key, .. } => Ok(self.delete(&key, now)),
            Request::Arith { op, key, delta, .. } => self.arith(op, key, delta, now),
            Request::Touch { key, exptime, .. } => Ok(self.touch(&key, exptime, now)),
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
        let (mode, cas) = match store.command {
            StoreCommand::Set => (Mode::Set, 0),
            StoreCommand::Add => (Mode::Add, 0),
            StoreCommand::Replace => (Mode::Replace, 0),
            StoreCommand::Append => (Mode::Append, 0),
            StoreCommand::Prepend => (Mode::Prepend, 0),
            StoreCommand::Cas { unique } => (Mode::Cas, unique),
        };
        let write = Write {
            key: store.key,
            data: store.value,
            flags: store.flags,
            exptime: store.exptime,
            mode,
            cas,
            stale_allowed: false,
            binary: false,
            too_large_as: store.command,
        };
        Ok(match self.write(write, now)? {
            Written::Stored => Response::Stored,
            Written::NotStored => Response::NotStored,
            Written::Exists => Response::Exists,
            Written::NotFound => Response::NotFound,
        })
    }

    fn delete(&mut self, key: &[u8], now: u64) -> Response {
        if self.lookup(key, now).is_some() {
            self.unlink(key);
            self.counters.delete_hits += 1;
            Response::Deleted
        } else {
            self.counters.delete_misses += 1;
            Response::NotFound
        }
    }

    fn arith(&mut self, op: ArithOp, key: Bytes, delta: u64, now: u64) -> Result<Response> {
        if self.lookup(&key, now).is_none() {
            self.count_arith_miss(op);
            return Ok(Response::NotFound);
        }
        self.check_countable(&key)?;
        let applied = self.add_delta(&key, op, delta, now)?;
        Ok(Response::Number(applied.value))
    }

    fn touch(&mut self, key: &[u8], exptime: i64, now: u64) -> Response {
        self.counters.cmd_touch += 1;
        let exptime = self.expiry(exptime, now);
        match self.lookup(key, now) {
            Some(item) => {
                item.exptime = exptime;
                // memcached fetches the item to touch it: it then counts as
                // hit before (`mg h`, `me` fetch=yes).
                item.fetched = true;
                self.bump(key, now);
                self.counters.touch_hits += 1;
                Response::Touched
            }
            None => {
                self.counters.touch_misses += 1;
                Response::NotFound
            }
        }
    }
}
