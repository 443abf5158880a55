//! [`Client`]: memclient for programs without an async runtime (feature
//! `blocking`): CLI tools, synchronous web frameworks, build scripts.
//!
//! The blocking client is the async [`Client`](crate::Client) driven to
//! completion on the calling thread. Connections open on the
//! [`smol`](crate::smol) adapter: their drivers (the tasks that own the
//! sockets) run on smol's global executor, a background thread started on
//! first use (`SMOL_THREADS` sets how many), and each call blocks its thread
//! in [`block_on`] until its reply is in. So one client can be shared by any
//! number of threads (`&Client` is enough, or an `Arc`), and their calls are
//! pipelined on one connection as the async client's are.
//!
//! Everything of the async client is there:
//!
//! - the common calls as methods that return their result (`get`,
//!   `get_many`, `gets`, `version`, `stats`, ...);
//! - writes return the same builder as the async ones, wrapped in
//!   [`Pending`]: set options (`ttl`, `flags`, `noreply`) and end with
//!   [`send`](Pending::send), as with `reqwest::blocking`;
//! - any other call (the meta commands, admin commands, anything added
//!   later) through [`run`](Client::run), which takes the async call and
//!   blocks on it: `client.run(|c| c.meta_get("k").ttl())`;
//! - every backend and layer: [`Client::new`] wraps an async client over a
//!   pool, a cluster, a retry layer or the mock, with its options and serde.
//!
//! ```no_run
//! # fn demo() -> memclient::Result<()> {
//! use std::time::Duration;
//! let client = memclient::blocking::Client::connect("127.0.0.1:11211")?;
//! client.set("greeting", "hello").ttl(Duration::from_secs(60)).send()?;
//! let value = client.get("greeting")?;
//! assert_eq!(value.as_ref().and_then(|v| v.as_str()), Some("hello"));
//! let item = client.run(|c| c.meta_get("greeting").ttl())?;
//! # Ok(())
//! # }
//! ```
//!
//! Do not call it from inside async code: blocking an executor's thread can
//! stall the very task the call waits for. Use the async client there.

mod pending;

use std::collections::HashMap;
use std::future::{Future, IntoFuture};

use bytes::Bytes;

pub use pending::Pending;

use crate::client::{Call, CasOutcome, DeleteMany, FlushKind, PlainKind, SetMany, StorageKind};
use crate::serde::{PyFlags, Serde};
use crate::smol::Smol;
use crate::{Backend, Config, Connection, Pool, PoolOptions, Result, StatValue, Ttl};

/// Runs `future` to completion on this thread: what every blocking call
/// does. Use it for the async steps of building a backend
/// (`Connection::connect`) or for any async call of memclient.
pub fn block_on<F: Future>(future: F) -> F::Output {
    async_io::block_on(future)
}

/// A memcached client whose calls block: the async [`Client`](crate::Client)
/// over any [`Backend`], without an async runtime. See the
/// [module](self) for how it runs.
///
/// ```
/// # fn main() -> memclient::Result<()> {
/// // The in-memory mock of memclient-mock as the backend, as in a test.
/// let mock = memclient_mock::MockMemcache::new();
/// let client = memclient::blocking::Client::new(memclient::Client::new(mock));
/// assert!(client.set("k", "v").send()?);
/// assert_eq!(client.get("k")?.unwrap().as_str(), Some("v"));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Client<B = Connection, S = PyFlags> {
    inner: crate::Client<B, S>,
}

impl Client<Connection> {
    /// Connects to the server at `address` with every default. Fails when
    /// the address does not parse or the server cannot be reached in time.
    pub fn connect(address: &str) -> Result<Self> {
        Client::connect_with(Config::new(address))
    }
}

impl<B: crate::Open> Client<B> {
    /// Connects as `config` says (timeouts, key prefix, ...), over whichever
    /// backend it builds: `Config::new(address)`, `.pool(..)`,
    /// `Config::servers(..)`, `.retry(..)`.
    pub fn connect_with(config: Config<B>) -> Result<Self> {
        Ok(Client::new(block_on(config.connect(Smol))?))
    }
}

impl Client<Pool> {
    /// A client over a [`Pool`] of connections, opened on first use: short
    /// for `Client::connect_with(config.pool(pool))`.
    pub fn connect_pool(config: Config, pool: PoolOptions) -> Result<Self> {
        Client::connect_with(config.pool(pool))
    }
}

impl<B: Backend, S: Serde> Client<B, S> {
    /// Blocks on the calls of `client`: any backend (a pool, a
    /// [`Cluster`](crate::Cluster), a [`Retry`](crate::Retry), the mock),
    /// any serde, any options.
    ///
    /// A client with no runtime of its own (one built with
    /// [`Client::new`](crate::Client::new) over a bare backend such as the
    /// mock) is given the [`Smol`] runtime, so calls that wait for another
    /// caller (`get_or_compute`) can sleep.
    pub fn new(client: crate::Client<B, S>) -> Self {
        let inner = if client.has_runtime() {
            client
        } else {
            client.with_runtime(Smol)
        };
        Client { inner }
    }

    /// The async client underneath.
    pub fn as_async(&self) -> &crate::Client<B, S> {
        &self.inner
    }

    /// The async client, for use in async code.
    pub fn into_async(self) -> crate::Client<B, S> {
        self.inner
    }

    /// The backend the calls go to.
    pub fn backend(&self) -> &B {
        self.inner.backend()
    }

    /// Makes a call of the async client and blocks until it ends: every call
    /// of [`Client`](crate::Client) is there, with its options.
    ///
    /// ```
    /// # fn demo(client: memclient::blocking::Client<impl memclient::Backend>) -> memclient::Result<()> {
    /// let item = client.run(|c| c.meta_get("k").ttl().cas())?;
    /// let removed = client.run(|c| c.delete_many(["a", "b"]).noreply(true))?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn run<'a, F, C>(&'a self, call: F) -> C::Output
    where
        F: FnOnce(&'a crate::Client<B, S>) -> C,
        C: IntoFuture,
    {
        block_on(call(&self.inner).into_future())
    }

    /// The value of `key`; see [`Client::get`](crate::Client::get).
    pub fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<S::Value>> {
        block_on(self.inner.get(key))
    }

    /// The values of the keys found; see
    /// [`Client::get_many`](crate::Client::get_many).
    pub fn get_many<K: AsRef<[u8]>>(
        &self,
        keys: impl IntoIterator<Item = K>,
    ) -> Result<HashMap<Bytes, S::Value>> {
        block_on(self.inner.get_many(keys))
    }

    /// The value of `key` with its cas unique; see
    /// [`Client::gets`](crate::Client::gets).
    pub fn gets(&self, key: impl AsRef<[u8]>) -> Result<Option<(S::Value, u64)>> {
        block_on(self.inner.gets(key))
    }

    /// The values and cas uniques of the keys found; see
    /// [`Client::gets_many`](crate::Client::gets_many).
    pub fn gets_many<K: AsRef<[u8]>>(
        &self,
        keys: impl IntoIterator<Item = K>,
    ) -> Result<HashMap<Bytes, (S::Value, u64)>> {
        block_on(self.inner.gets_many(keys))
    }

    /// Reads `key` and sets its expiry; see [`Client::gat`](crate::Client::gat).
    pub fn gat(&self, key: impl AsRef<[u8]>, ttl: impl Into<Ttl>) -> Result<Option<S::Value>> {
        block_on(self.inner.gat(key, ttl))
    }

    /// [`gat`](Self::gat) with the cas unique; see
    /// [`Client::gats`](crate::Client::gats).
    pub fn gats(
        &self,
        key: impl AsRef<[u8]>,
        ttl: impl Into<Ttl>,
    ) -> Result<Option<(S::Value, u64)>> {
        block_on(self.inner.gats(key, ttl))
    }

    /// Stores `value` under `key`; see [`Client::set`](crate::Client::set).
    pub fn set(
        &self,
        key: impl AsRef<[u8]>,
        value: impl Into<S::Value>,
    ) -> Pending<Call<'_, B, S, bool, StorageKind>> {
        Pending(self.inner.set(key, value))
    }

    /// Stores only if `key` is absent; see [`Client::add`](crate::Client::add).
    pub fn add(
        &self,
        key: impl AsRef<[u8]>,
        value: impl Into<S::Value>,
    ) -> Pending<Call<'_, B, S, bool, StorageKind>> {
        Pending(self.inner.add(key, value))
    }

    /// Stores only if `key` is present; see
    /// [`Client::replace`](crate::Client::replace).
    pub fn replace(
        &self,
        key: impl AsRef<[u8]>,
        value: impl Into<S::Value>,
    ) -> Pending<Call<'_, B, S, bool, StorageKind>> {
        Pending(self.inner.replace(key, value))
    }

    /// Adds data after the value; see [`Client::append`](crate::Client::append).
    pub fn append(
        &self,
        key: impl AsRef<[u8]>,
        value: impl Into<S::Value>,
    ) -> Pending<Call<'_, B, S, bool, StorageKind>> {
        Pending(self.inner.append(key, value))
    }

    /// Adds data before the value; see
    /// [`Client::prepend`](crate::Client::prepend).
    pub fn prepend(
        &self,
        key: impl AsRef<[u8]>,
        value: impl Into<S::Value>,
    ) -> Pending<Call<'_, B, S, bool, StorageKind>> {
        Pending(self.inner.prepend(key, value))
    }

    /// Stores if the cas unique is still `unique`; see
    /// [`Client::cas`](crate::Client::cas).
    pub fn cas(
        &self,
        key: impl AsRef<[u8]>,
        value: impl Into<S::Value>,
        unique: u64,
    ) -> Pending<Call<'_, B, S, CasOutcome, StorageKind>> {
        Pending(self.inner.cas(key, value, unique))
    }

    /// Deletes `key`; see [`Client::delete`](crate::Client::delete).
    pub fn delete(&self, key: impl AsRef<[u8]>) -> Pending<Call<'_, B, S, bool, PlainKind>> {
        Pending(self.inner.delete(key))
    }

    /// Adds `delta`; see [`Client::incr`](crate::Client::incr).
    pub fn incr(
        &self,
        key: impl AsRef<[u8]>,
        delta: u64,
    ) -> Pending<Call<'_, B, S, Option<u64>, PlainKind>> {
        Pending(self.inner.incr(key, delta))
    }

    /// Subtracts `delta`; see [`Client::decr`](crate::Client::decr).
    pub fn decr(
        &self,
        key: impl AsRef<[u8]>,
        delta: u64,
    ) -> Pending<Call<'_, B, S, Option<u64>, PlainKind>> {
        Pending(self.inner.decr(key, delta))
    }

    /// Sets the expiry of `key`; see [`Client::touch`](crate::Client::touch).
    pub fn touch(
        &self,
        key: impl AsRef<[u8]>,
        ttl: impl Into<Ttl>,
    ) -> Pending<Call<'_, B, S, bool, PlainKind>> {
        Pending(self.inner.touch(key, ttl))
    }

    /// Stores every `(key, value)` in one batch; see
    /// [`Client::set_many`](crate::Client::set_many).
    pub fn set_many<K, V>(
        &self,
        items: impl IntoIterator<Item = (K, V)>,
    ) -> Pending<SetMany<'_, B, S>>
    where
        K: AsRef<[u8]>,
        V: Into<S::Value>,
    {
        Pending(self.inner.set_many(items))
    }

    /// Deletes every key in one batch; see
    /// [`Client::delete_many`](crate::Client::delete_many).
    pub fn delete_many<K: AsRef<[u8]>>(
        &self,
        keys: impl IntoIterator<Item = K>,
    ) -> Pending<DeleteMany<'_, B, S>> {
        Pending(self.inner.delete_many(keys))
    }

    /// Invalidates every item; see [`Client::flush_all`](crate::Client::flush_all).
    pub fn flush_all(&self) -> Pending<Call<'_, B, S, (), FlushKind>> {
        Pending(self.inner.flush_all())
    }

    /// Reads `key`, computing and storing it on a miss, with stampede
    /// protection; see [`Client::get_or_compute`](crate::Client::get_or_compute).
    /// `compute` is a plain function here; options through
    /// [`run`](Self::run).
    pub fn get_or_compute<F, E>(
        &self,
        key: impl AsRef<[u8]>,
        ttl: impl Into<Ttl>,
        compute: F,
    ) -> Result<S::Value, E>
    where
        F: FnOnce() -> Result<S::Value, E> + Send,
        S::Value: Send,
        E: From<crate::Error> + Send,
    {
        block_on(
            self.inner
                .get_or_compute(key, ttl, || async move { compute() })
                .into_future(),
        )
    }

    /// The server's version string; see
    /// [`Client::version`](crate::Client::version).
    pub fn version(&self) -> Result<String> {
        block_on(self.inner.version())
    }

    /// Statistics, parsed; see [`Client::stats`](crate::Client::stats).
    pub fn stats<A: AsRef<[u8]>>(
        &self,
        args: impl IntoIterator<Item = A>,
    ) -> Result<HashMap<String, StatValue>> {
        block_on(self.inner.stats(args))
    }
}

impl<B: Backend, S: Serde> From<crate::Client<B, S>> for Client<B, S> {
    fn from(client: crate::Client<B, S>) -> Self {
        Client::new(client)
    }
}
