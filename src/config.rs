//! [`Config`]: everything needed to connect a client to one server.

use std::time::Duration;

use bytes::Bytes;

use crate::runtime::{connector, Endpoint, Transport};
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
    lazy: bool,
}

impl Config {
    /// A configuration for the server at `address` (`host:port`,
    /// `[v6]:port`, `unix:/path` or `/path`; `tls://host:port` for TLS, see
    /// [`Endpoint`]), with every default.
    pub fn new(address: impl Into<String>) -> Self {
        Config {
            address: address.into(),
            connection: ConnectionOptions::default(),
            client: ClientOptions::default(),
            lazy: false,
        }
    }

    /// Speak TLS with these settings (feature `tls`), whatever the address
    /// form; see [`crate::tls`].
    #[cfg(feature = "tls")]
    pub fn tls(mut self, tls: crate::tls::TlsConfig) -> Self {
        self.connection.socket.tls = Some(tls);
        self
    }

    /// Lazy start (off by default): [`connect`](Self::connect) returns at
    /// once and the socket opens on the first call, as pymemcache's
    /// constructor does. A client can then be built while its server is
    /// down; with [`errors_as_misses`](Self::errors_as_misses) its reads are misses
    /// until the server is back.
    pub fn lazy(mut self, on: bool) -> Self {
        self.lazy = on;
        self
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

    /// TCP keepalive with this idle time before the first probe (off by default).
    pub fn keepalive(mut self, idle: Duration) -> Self {
        self.connection.socket.keepalive = Some(idle);
        self
    }

    /// TCP keepalive as pymemcache's `KeepaliveOpts(idle, intvl, cnt)`: the
    /// idle time, the time between unanswered probes, and how many unanswered
    /// probes drop the connection.
    pub fn keepalive_probes(mut self, idle: Duration, interval: Duration, count: u32) -> Self {
        let socket = &mut self.connection.socket;
        socket.keepalive = Some(idle);
        socket.keepalive_interval = Some(interval);
        socket.keepalive_count = Some(count);
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

    /// Read errors become misses (pymemcache's `ignore_exc`); see
    /// [`ClientOptions::errors_as_misses`].
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
    /// an invalid key prefix (before connecting), or (unless [`lazy`](Self::lazy)) a server that
    /// cannot be reached in time or refuses the TLS handshake.
    pub async fn connect<R: Transport>(self, runtime: R) -> Result<Client<Connection<R::Stream>>> {
        let endpoint: Endpoint = self.address.parse()?;
        self.client.validate()?;
        let mut options = self.connection;
        options.socket = endpoint.socket_options(&options.socket)?;
        let connection = if self.lazy {
            let connect = connector(&endpoint.address, runtime.clone(), options.socket.clone());
            Connection::new(connect, runtime.clone(), options)
        } else {
            Connection::connect(&endpoint.address, runtime.clone(), options).await?
        };
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
        let endpoint: Endpoint = self.address.parse()?;
        let mut options = self.connection;
        options.socket = endpoint.socket_options(&options.socket)?;
        let pool = Pool::connect_to(&endpoint.address, runtime.clone(), options, pool);
        Ok(Client::with_options(pool, crate::serde::PyFlags, self.client)?.with_runtime(runtime))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keepalive_probes_set_idle_interval_and_count() {
        let config =
            Config::new("h:1").keepalive_probes(Duration::from_secs(30), Duration::from_secs(5), 4);
        let socket = &config.connection_options().socket;
        assert_eq!(socket.keepalive, Some(Duration::from_secs(30)));
        assert_eq!(socket.keepalive_interval, Some(Duration::from_secs(5)));
        assert_eq!(socket.keepalive_count, Some(4));
    }

    #[cfg(feature = "tls")]
    #[test]
    fn a_tls_address_turns_tls_on_with_the_default_settings() {
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
