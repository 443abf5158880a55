//! [`Config`]: everything needed to connect a client to one server.

use std::time::Duration;

use bytes::Bytes;

use crate::runtime::{Address, Transport};
use crate::{
    Client, ClientOptions, Connection, ConnectionOptions, MultiGet, Pool, PoolOptions, Result,
};

/// The address and options of a client, connected on a runtime of your choice.
///
/// ```no_run
/// # #[cfg(feature = "smol")]
/// # async fn demo() -> memclient::Result<()> {
/// use std::time::Duration;
/// let client = memclient::Config::new("127.0.0.1:11211")
///     .timeout(Duration::from_millis(250))
///     .key_prefix("app:")
///     .connect(memclient::smol::Smol)
///     .await?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Config {
    address: String,
    connection: ConnectionOptions,
    client: ClientOptions,
}

impl Config {
    /// A configuration for the server at `address` (`host:port`,
    /// `[v6]:port`, `unix:/path` or `/path`), with every default.
    pub fn new(address: impl Into<String>) -> Self {
        Config {
            address: address.into(),
            connection: ConnectionOptions::default(),
            client: ClientOptions::default(),
        }
    }

    /// The longest a connect may take (2 seconds by default,
    /// [`DEFAULT_CONNECT_TIMEOUT`](crate::DEFAULT_CONNECT_TIMEOUT)).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connection.connect_timeout = Some(timeout);
        self
    }

    /// The longest a call may take, reconnect and queueing included (2
    /// seconds by default, [`DEFAULT_TIMEOUT`](crate::DEFAULT_TIMEOUT)). See
    /// [`ConnectionOptions::timeout`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.connection.timeout = Some(timeout);
        self
    }

    /// No call timeout at all: calls wait as long as the server takes, and a
    /// stalled server hangs them. Only for calls known to be slow (a big
    /// `lru_crawler metadump`); the default is 2 seconds.
    pub fn no_timeout(mut self) -> Self {
        self.connection.timeout = None;
        self
    }

    /// The most calls queued or waiting for a reply on one connection (1024 by
    /// default); see [`ConnectionOptions::max_in_flight`].
    pub fn max_in_flight(mut self, calls: usize) -> Self {
        self.connection.max_in_flight = calls;
        self
    }

    /// The most bytes of requests queued and not yet written on one
    /// connection (16 MiB by default); see [`ConnectionOptions::max_queued_bytes`].
    pub fn max_queued_bytes(mut self, bytes: usize) -> Self {
        self.connection.max_queued_bytes = bytes;
        self
    }

    /// TCP_NODELAY (on by default).
    pub fn nodelay(mut self, on: bool) -> Self {
        self.connection.socket.nodelay = on;
        self
    }

    /// TCP keepalive with this idle time (off by default).
    pub fn keepalive(mut self, idle: Duration) -> Self {
        self.connection.socket.keepalive = Some(idle);
        self
    }

    /// The largest reply accepted (64 MiB by default); see
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

    /// Prepended to every key; see [`ClientOptions::key_prefix`].
    pub fn key_prefix(mut self, prefix: impl Into<Bytes>) -> Self {
        self.client.key_prefix = prefix.into();
        self
    }

    /// Writes default to `noreply`; see [`ClientOptions::default_noreply`].
    pub fn default_noreply(mut self, on: bool) -> Self {
        self.client.default_noreply = on;
        self
    }

    /// Read errors become misses; see [`ClientOptions::ignore_errors`].
    pub fn ignore_errors(mut self, on: bool) -> Self {
        self.client.ignore_errors = on;
        self
    }

    /// Accept UTF-8 keys; see [`ClientOptions::allow_unicode_keys`].
    pub fn allow_unicode_keys(mut self, on: bool) -> Self {
        self.client.allow_unicode_keys = on;
        self
    }

    /// Keys of any bytes, sent base64-encoded through the meta commands; see
    /// [`ClientOptions::binary_keys`].
    pub fn binary_keys(mut self, on: bool) -> Self {
        self.client.binary_keys = on;
        self
    }

    /// How `get_many` and `gets_many` are sent; see [`ClientOptions::multi_get`].
    pub fn multi_get(mut self, how: MultiGet) -> Self {
        self.client.multi_get = how;
        self
    }

    /// The connection options as set so far.
    pub fn connection_options(&self) -> &ConnectionOptions {
        &self.connection
    }

    /// The client options as set so far.
    pub fn client_options(&self) -> &ClientOptions {
        &self.client
    }

    /// Connects on `runtime` and returns the client. Fails on a bad address,
    /// an invalid key prefix (before connecting), or a server that cannot be
    /// reached in time.
    pub async fn connect<R: Transport>(self, runtime: R) -> Result<Client<Connection<R::Stream>>> {
        let address: Address = self.address.parse()?;
        self.client.validate()?;
        let connection = Connection::connect(&address, runtime.clone(), self.connection).await?;
        Ok(
            Client::with_options(connection, crate::serde::PyFlags, self.client)?
                .with_runtime(runtime),
        )
    }

    /// A client over a [`Pool`] of connections to the server. No socket is
    /// opened until the first call, so an unreachable server fails then.
    pub fn connect_pool<R: Transport>(
        self,
        runtime: R,
        pool: PoolOptions,
    ) -> Result<Client<Pool<R::Stream>>> {
        let address: Address = self.address.parse()?;
        let pool = Pool::connect_to(&address, runtime.clone(), self.connection, pool);
        Ok(Client::with_options(pool, crate::serde::PyFlags, self.client)?.with_runtime(runtime))
    }
}
