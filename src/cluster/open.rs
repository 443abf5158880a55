//! [`Cluster::open`] and [`Cluster::open_pools`]: a cluster of connections,
//! or of pools, to a list of addresses. [`Config::servers`](crate::Config::servers)
//! builds on them.

use super::handle::Cluster;
use super::options::ClusterOptions;
use crate::runtime::{connector, Address, Endpoint, Transport};
use crate::{Connection, ConnectionOptions, Pool, PoolOptions, Result};

impl Cluster {
    /// A cluster of one [`Connection`] per address (`host:port`,
    /// `[v6]:port`, `unix:/path` or `/path`; `tls://host:port` for a node
    /// spoken to over TLS, see [`Endpoint`]), opened on `transport`.
    ///
    /// TLS settings in `connection.socket.tls` apply to every node; without
    /// them, `tls://` nodes use the default settings. For nodes with settings
    /// of their own, add them one by one with [`add_address`](Self::add_address).
    /// A node is named after its address without the scheme, so turning TLS
    /// on moves no key.
    ///
    /// Connections open on first use, so a server that is down at start does
    /// not stop the others: its keys fail (or move) as for any failing node.
    /// Fails on an address that does not parse, or a repeated one.
    ///
    /// This is the lower-level form of
    /// [`Config::servers(..).connect(runtime)`](crate::Config::servers), which
    /// also sets the client options (key prefix, `errors_as_misses`, ...) and
    /// the client's runtime:
    ///
    /// ```no_run
    /// # #[cfg(feature = "smol")]
    /// # fn demo() -> memclient::Result<()> {
    /// use std::time::Duration;
    /// use memclient::{Client, Cluster, ClusterOptions, ConnectionOptions};
    ///
    /// let connection = ConnectionOptions::new().timeout(Some(Duration::from_millis(500)));
    /// let cluster = Cluster::open(
    ///     ["10.0.0.1:11211", "10.0.0.2:11211", "10.0.0.3:11211"],
    ///     memclient::smol::Smol,
    ///     connection,
    ///     ClusterOptions::default().errors_as_misses(true),
    /// )?;
    /// let client = Client::new(cluster);
    /// # Ok(())
    /// # }
    /// ```
    pub fn open<R, A>(
        addresses: impl IntoIterator<Item = A>,
        transport: R,
        connection: ConnectionOptions,
        options: ClusterOptions,
    ) -> Result<Self>
    where
        R: Transport,
        A: AsRef<str>,
    {
        let cluster = Cluster::with_runtime(options, transport.clone());
        for address in addresses {
            cluster.add_address(address.as_ref(), transport.clone(), connection.clone())?;
        }
        Ok(cluster)
    }

    /// Adds a node with a new connection to `address` (any [`Endpoint`]
    /// form), with options (TLS settings included) of its own; see
    /// [`Cluster::add_node`].
    pub fn add_address<R>(
        &self,
        address: &str,
        transport: R,
        connection: ConnectionOptions,
    ) -> Result<()>
    where
        R: Transport,
    {
        let (address, connection) = endpoint_options(address, connection)?;
        let connect = connector(&address, transport.clone(), connection.socket.clone());
        self.add_node(address, Connection::new(connect, transport, connection))
    }
}

impl Cluster<Pool> {
    /// A cluster of one [`Pool`] per address: as [`Cluster::open`], with
    /// several pipelined connections to each server.
    pub fn open_pools<R, A>(
        addresses: impl IntoIterator<Item = A>,
        transport: R,
        connection: ConnectionOptions,
        pool: PoolOptions,
        options: ClusterOptions,
    ) -> Result<Self>
    where
        R: Transport,
        A: AsRef<str>,
    {
        let cluster = Cluster::with_runtime(options, transport.clone());
        for address in addresses {
            let (address, connection) = endpoint_options(address.as_ref(), connection.clone())?;
            let node = Pool::connect_to(&address, transport.clone(), connection, pool.clone());
            cluster.add_node(address, node)?;
        }
        Ok(cluster)
    }
}

/// The address of an endpoint, and the options to open it with.
pub(crate) fn endpoint_options(
    text: &str,
    mut connection: ConnectionOptions,
) -> Result<(Address, ConnectionOptions)> {
    let endpoint: Endpoint = text.parse()?;
    connection.socket = endpoint.socket_options(&connection.socket)?;
    Ok((endpoint.address, connection))
}
