//! [`Config`]: the one way to build a client, over one connection, a pool, a
//! cluster, or any of them retried.

mod client;
mod open;

use std::marker::PhantomData;
use std::time::Duration;

use bytes::Bytes;

pub use open::Open;

use crate::{
    Client, ClientOptions, Cluster, ClusterOptions, Connection, ConnectionOptions, MultiGet, Pool,
    PoolOptions, Result, Retry, RetryOptions,
};

/// The servers and options of a client, connected on a runtime of your choice.
///
/// `B` is the backend that [`connect`](Self::connect) builds, and the
/// methods that pick it change `B`:
///
/// | built with                              | `connect(runtime)` returns  |
/// |-----------------------------------------|-----------------------------|
/// | `Config::new(address)`                  | `Client<Connection>`        |
/// | `Config::new(address).pool(options)`    | `Client<Pool>`              |
/// | `Config::servers(addresses)`            | `Client<Cluster>`           |
/// | `Config::servers(addresses).pool(options)` | `Client<Cluster<Pool>>`  |
/// | any of them `.retry(options)`           | `Client<Retry<B>>`          |
///
/// Every form keeps the client options (key prefix, `errors_as_misses`, ...),
/// the connection options of each socket, and the runtime (so
/// [`get_or_compute`](Client::get_or_compute) can wait). The fields are
/// public, and each has a by-value setter of its name; the shortcuts below
/// (`timeout`, `key_prefix`, ...) set one field inside them.
///
/// ```no_run
/// # #[cfg(feature = "smol")]
/// # async fn demo() -> memclient::Result<()> {
/// use std::time::Duration;
/// use memclient::{Config, PoolOptions, RetryOptions, smol::Smol};
///
/// let client = Config::new("127.0.0.1:11211")
///     .timeout(Duration::from_millis(250))
///     .key_prefix("app:")
///     .connect(Smol)
///     .await?;
///
/// let pooled = Config::new("127.0.0.1:11211")
///     .pool(PoolOptions::new().max_size(4))
///     .connect(Smol)
///     .await?;
///
/// let cluster = Config::servers(["10.0.0.1:11211", "10.0.0.2:11211"])
///     .errors_as_misses(true)
///     .retry(RetryOptions::new().attempts(2))
///     .connect(Smol)
///     .await?;
/// # Ok(())
/// # }
/// ```
pub struct Config<B = Connection> {
    /// One address for a connection or a pool; any number for a cluster.
    addresses: Vec<String>,
    /// The options of every connection (timeouts, limits, socket, TLS).
    pub connection: ConnectionOptions,
    /// What the client does to keys and replies.
    pub client: ClientOptions,
    /// The pool of each server, for the forms with [`pool`](Config::pool).
    pub pool: PoolOptions,
    /// Hashing and dead servers, for [`Config::servers`].
    pub cluster: ClusterOptions,
    /// How calls are retried, for the forms with [`retry`](Self::retry).
    pub retry: RetryOptions,
    /// Lazy start (off by default) of a single [`Connection`]:
    /// [`connect`](Self::connect) returns at once and the socket opens on the
    /// first call, as pymemcache's constructor does. A client can then be
    /// built while its server is down; with
    /// [`errors_as_misses`](Self::errors_as_misses) its reads are misses until
    /// the server is back. Pools and clusters always start lazily, so that one
    /// server down at start stops nothing.
    pub lazy: bool,
    backend: PhantomData<fn() -> B>,
}

impl<B> Clone for Config<B> {
    fn clone(&self) -> Self {
        Config {
            addresses: self.addresses.clone(),
            connection: self.connection.clone(),
            client: self.client.clone(),
            pool: self.pool.clone(),
            cluster: self.cluster.clone(),
            retry: self.retry.clone(),
            lazy: self.lazy,
            backend: PhantomData,
        }
    }
}

impl<B> std::fmt::Debug for Config<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("backend", &std::any::type_name::<B>())
            .field("addresses", &self.addresses)
            .field("connection", &self.connection)
            .field("client", &self.client)
            .field("pool", &self.pool)
            .field("cluster", &self.cluster)
            .field("retry", &self.retry)
            .field("lazy", &self.lazy)
            .finish()
    }
}

impl Config {
    /// A configuration for the server at `address` (`host:port`,
    /// `[v6]:port`, `unix:/path` or `/path`; `tls://host:port` for TLS, see
    /// [`Endpoint`](crate::runtime::Endpoint)), with every default: it
    /// connects one [`Connection`].
    pub fn new(address: impl Into<String>) -> Self {
        Config::with_addresses(vec![address.into()])
    }

    /// A [`Pool`] of connections to the server instead of one connection.
    pub fn pool(self, pool: PoolOptions) -> Config<Pool> {
        Config {
            pool,
            ..self.cast()
        }
    }

    /// The former form of `.pool(pool).connect(runtime)`: a client over a
    /// [`Pool`], opened on first use.
    #[deprecated(note = "use `.pool(options).connect(runtime).await`, the shape of every entry")]
    pub fn connect_pool<R: crate::runtime::Transport>(
        self,
        runtime: R,
        pool: PoolOptions,
    ) -> Result<Client<Pool>> {
        let config = self.pool(pool);
        let client = config.client.clone();
        let pool = open::pool(&config, runtime.clone())?;
        Ok(Client::with_options(pool, crate::serde::PyFlags, client)?.with_runtime(runtime))
    }
}

impl Config<Pool> {
    /// Sets [`pool`](Self::pool).
    pub fn pool(mut self, pool: PoolOptions) -> Self {
        self.pool = pool;
        self
    }
}

impl Config<Cluster> {
    /// A configuration for a [`Cluster`] of the servers at `addresses` (each
    /// in any [`Endpoint`](crate::runtime::Endpoint) form), one
    /// [`Connection`] to each; see [`Cluster::open`].
    pub fn servers<A: Into<String>>(addresses: impl IntoIterator<Item = A>) -> Self {
        Config::with_addresses(addresses.into_iter().map(Into::into).collect())
    }

    /// A [`Pool`] to each server instead of one connection; see
    /// [`Cluster::open_pools`].
    pub fn pool(self, pool: PoolOptions) -> Config<Cluster<Pool>> {
        Config {
            pool,
            ..self.cast()
        }
    }
}

impl Config<Cluster<Pool>> {
    /// Sets [`pool`](Self::pool).
    pub fn pool(mut self, pool: PoolOptions) -> Self {
        self.pool = pool;
        self
    }
}

impl<N> Config<Cluster<N>> {
    /// Sets [`cluster`](Self::cluster).
    pub fn cluster(mut self, cluster: ClusterOptions) -> Self {
        self.cluster = cluster;
        self
    }
}

impl<B> Config<B> {
    fn with_addresses(addresses: Vec<String>) -> Self {
        Config {
            addresses,
            connection: ConnectionOptions::default(),
            client: ClientOptions::default(),
            pool: PoolOptions::default(),
            cluster: ClusterOptions::default(),
            retry: RetryOptions::default(),
            lazy: false,
            backend: PhantomData,
        }
    }

    /// The same settings, building another backend.
    fn cast<C>(self) -> Config<C> {
        Config {
            addresses: self.addresses,
            connection: self.connection,
            client: self.client,
            pool: self.pool,
            cluster: self.cluster,
            retry: self.retry,
            lazy: self.lazy,
            backend: PhantomData,
        }
    }

    /// The servers' addresses, as given.
    pub fn addresses(&self) -> &[String] {
        &self.addresses
    }

    /// Retries the calls of the backend as `retry` says: [`connect`](Self::connect)
    /// then returns a `Client<Retry<B>>`, with the same client options and
    /// runtime. Call it last, once.
    pub fn retry(self, retry: RetryOptions) -> Config<Retry<B>> {
        Config {
            retry,
            ..self.cast()
        }
    }

    /// Sets [`connection`](Self::connection).
    pub fn connection(mut self, connection: ConnectionOptions) -> Self {
        self.connection = connection;
        self
    }

    /// Sets [`client`](Self::client).
    pub fn client(mut self, client: ClientOptions) -> Self {
        self.client = client;
        self
    }

    /// Sets [`lazy`](Self::lazy).
    pub fn lazy(mut self, on: bool) -> Self {
        self.lazy = on;
        self
    }

    /// Speak TLS with these settings (feature `tls`), whatever the address
    /// form: sets `connection.socket.tls`; see [`crate::tls`].
    #[cfg(feature = "tls")]
    pub fn tls(mut self, tls: crate::tls::TlsConfig) -> Self {
        self.connection.socket.tls = Some(tls);
        self
    }

    /// The longest a connect may take: sets `connection.connect_timeout` (2
    /// seconds by default, [`DEFAULT_CONNECT_TIMEOUT`](crate::DEFAULT_CONNECT_TIMEOUT)).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connection.connect_timeout = Some(timeout);
        self
    }

    /// The longest a call may take, reconnect and queueing included: sets
    /// `connection.timeout` (2 seconds by default,
    /// [`DEFAULT_TIMEOUT`](crate::DEFAULT_TIMEOUT)). See
    /// [`ConnectionOptions::timeout`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.connection.timeout = Some(timeout);
        self
    }

    /// No call timeout at all (`connection.timeout = None`): calls wait as
    /// long as the server takes, and a stalled server hangs them. Only for
    /// calls known to be slow (a big `lru_crawler metadump`); the default is
    /// 2 seconds.
    pub fn no_timeout(mut self) -> Self {
        self.connection.timeout = None;
        self
    }

    /// Sets `connection.max_in_flight` (1024 by default); see
    /// [`ConnectionOptions::max_in_flight`].
    pub fn max_in_flight(mut self, calls: usize) -> Self {
        self.connection.max_in_flight = calls;
        self
    }

    /// Sets `connection.max_queued_bytes` (16 MiB by default); see
    /// [`ConnectionOptions::max_queued_bytes`].
    pub fn max_queued_bytes(mut self, bytes: usize) -> Self {
        self.connection.max_queued_bytes = bytes;
        self
    }

    /// TCP_NODELAY (on by default): sets `connection.socket.nodelay`.
    pub fn nodelay(mut self, on: bool) -> Self {
        self.connection.socket.nodelay = on;
        self
    }

    /// TCP keepalive with this idle time before the first probe (off by
    /// default): sets `connection.socket.keepalive`.
    pub fn keepalive(mut self, idle: Duration) -> Self {
        self.connection.socket.keepalive = Some(idle);
        self
    }

    /// TCP keepalive as pymemcache's `KeepaliveOpts(idle, intvl, cnt)`: the
    /// idle time, the time between unanswered probes, and how many unanswered
    /// probes drop the connection (`connection.socket.keepalive*`).
    pub fn keepalive_probes(mut self, idle: Duration, interval: Duration, count: u32) -> Self {
        let socket = &mut self.connection.socket;
        socket.keepalive = Some(idle);
        socket.keepalive_interval = Some(interval);
        socket.keepalive_count = Some(count);
        self
    }

    /// Sets `connection.max_reply_len` (64 MiB by default); see
    /// [`ConnectionOptions::max_reply_len`].
    pub fn max_reply_len(mut self, bytes: usize) -> Self {
        self.connection.max_reply_len = bytes;
        self
    }

    /// The former name of [`max_reply_len`](Self::max_reply_len): the limit
    /// now covers the whole reply, not only one value.
    #[deprecated(note = "renamed to `max_reply_len`; the limit covers the whole reply")]
    pub fn max_value_len(self, bytes: usize) -> Self {
        self.max_reply_len(bytes)
    }

    /// Prepended to every key: sets `client.key_prefix`; see
    /// [`ClientOptions::key_prefix`].
    pub fn key_prefix(mut self, prefix: impl Into<Bytes>) -> Self {
        self.client.key_prefix = prefix.into();
        self
    }

    /// Writes default to `noreply`: sets `client.default_noreply`; see
    /// [`ClientOptions::default_noreply`].
    pub fn default_noreply(mut self, on: bool) -> Self {
        self.client.default_noreply = on;
        self
    }

    /// Read errors become misses (pymemcache's `ignore_exc`), for the whole
    /// client: sets `client.errors_as_misses`; see
    /// [`ClientOptions::errors_as_misses`]. (A cluster's per-server form is
    /// [`ClusterOptions::errors_as_misses`].)
    #[doc(alias = "ignore_exc")]
    pub fn errors_as_misses(mut self, on: bool) -> Self {
        self.client.errors_as_misses = on;
        self
    }

    /// The former name of [`errors_as_misses`](Self::errors_as_misses).
    #[deprecated(note = "renamed to `errors_as_misses`, the name `ClusterOptions` uses too")]
    pub fn ignore_errors(self, on: bool) -> Self {
        self.errors_as_misses(on)
    }

    /// Accept UTF-8 keys: sets `client.allow_unicode_keys`; see
    /// [`ClientOptions::allow_unicode_keys`].
    pub fn allow_unicode_keys(mut self, on: bool) -> Self {
        self.client.allow_unicode_keys = on;
        self
    }

    /// Keys of any bytes, sent base64-encoded through the meta commands:
    /// sets `client.binary_keys`; see [`ClientOptions::binary_keys`].
    pub fn binary_keys(mut self, on: bool) -> Self {
        self.client.binary_keys = on;
        self
    }

    /// How `get_many` and `gets_many` are sent: sets `client.multi_get`; see
    /// [`ClientOptions::multi_get`].
    pub fn multi_get(mut self, how: MultiGet) -> Self {
        self.client.multi_get = how;
        self
    }

    /// The connection options as set so far (the field
    /// [`connection`](Self::connection)).
    pub fn connection_options(&self) -> &ConnectionOptions {
        &self.connection
    }

    /// The client options as set so far (the field [`client`](Self::client)).
    pub fn client_options(&self) -> &ClientOptions {
        &self.client
    }

    /// Builds the backend on `runtime` and returns the client over it, with
    /// the client options and the runtime. Fails on an address that does not
    /// parse or an invalid key prefix (before any socket opens), or, for a
    /// single connection that is not [`lazy`](Self::lazy), a server that
    /// cannot be reached in time or refuses the TLS handshake.
    pub async fn connect<R>(self, runtime: R) -> Result<Client<B>>
    where
        B: Open,
        R: crate::runtime::Transport,
    {
        let client = self.client.clone();
        client.validate()?;
        let backend = B::open(self, runtime.clone()).await?;
        Ok(Client::with_options(backend, crate::serde::PyFlags, client)?.with_runtime(runtime))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keepalive_probes_set_idle_interval_and_count() {
        let config =
            Config::new("h:1").keepalive_probes(Duration::from_secs(30), Duration::from_secs(5), 4);
        let socket = &config.connection.socket;
        assert_eq!(socket.keepalive, Some(Duration::from_secs(30)));
        assert_eq!(socket.keepalive_interval, Some(Duration::from_secs(5)));
        assert_eq!(socket.keepalive_count, Some(4));
    }

    #[test]
    fn changing_the_backend_keeps_every_option() {
        let config = Config::new("h:1")
            .key_prefix("app:")
            .timeout(Duration::from_millis(7))
            .lazy(true)
            .pool(PoolOptions::new().max_size(3))
            .retry(RetryOptions::new().attempts(5));
        assert_eq!(config.addresses(), ["h:1"]);
        assert_eq!(&config.client.key_prefix[..], b"app:");
        assert_eq!(config.connection.timeout, Some(Duration::from_millis(7)));
        assert!(config.lazy);
        assert_eq!(config.pool.max_size, 3);
        assert_eq!(config.retry.attempts, 5);
        let cluster = Config::servers(["a:1", "b:2"])
            .cluster(ClusterOptions::new().probes_before_dead(7))
            .pool(PoolOptions::new().max_in_flight(2));
        assert_eq!(cluster.addresses(), ["a:1", "b:2"]);
        assert_eq!(cluster.cluster.probes_before_dead, 7);
        assert_eq!(cluster.pool.max_in_flight, 2);
    }

    #[cfg(feature = "tls")]
    #[test]
    fn a_tls_address_turns_tls_on_with_the_default_settings() {
        use crate::runtime::Endpoint;
        let endpoint: Endpoint = "tls://h:1".parse().unwrap();
        let plain = crate::runtime::SocketOptions::default();
        assert!(endpoint.socket_options(&plain).unwrap().tls.is_some());
        let own = crate::tls::TlsConfig::new().roots(crate::tls::Roots::Bundled);
        let mut with_own = plain.clone();
        with_own.tls = Some(own.clone());
        assert_eq!(endpoint.socket_options(&with_own).unwrap().tls, Some(own));
        let bare: Endpoint = "h:1".parse().unwrap();
        assert!(bare.socket_options(&plain).unwrap().tls.is_none());
    }
}
