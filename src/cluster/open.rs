//! [`Cluster::open`] and [`Cluster::open_pools`]: a cluster of connections,
//! or of pools, to a list of addresses.

use futures_io::{AsyncRead, AsyncWrite};

use super::dispatch::Cluster;
use super::options::ClusterOptions;
use crate::runtime::{Address, Transport};
use crate::{Connection, ConnectionOptions, Pool, PoolOptions, Result};

impl<S> Cluster<Connection<S>>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    /// A cluster of one [`Connection`] per address (`host:port`,
    /// `[v6]:port`, `unix:/path` or `/path`), opened on `transport`.
    ///
    /// Connections open on first use, so a server that is down at start does
    /// not stop the others: its keys fail (or move) as for any failing node.
    /// Fails on an address that does not parse, or a repeated one.
    ///
    /// ```no_run
    /// # #[cfg(feature = "smol")]
    /// # fn demo() -> memclient::Result<()> {
    /// use std::time::Duration;
    /// use memclient::{Client, Cluster, ClusterOptions, ConnectionOptions};
    ///
    /// let mut connection = ConnectionOptions::default();
    /// connection.timeout = Some(Duration::from_millis(500));
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
        R: Transport<Stream = S>,
        A: AsRef<str>,
    {
        let cluster = Cluster::new(options);
        for address in addresses {
            cluster.add_address(address.as_ref(), transport.clone(), connection.clone())?;
        }
        Ok(cluster)
    }

    /// Adds a node with a new connection to `address`; see [`Cluster::add_node`].
    pub fn add_address<R>(
        &self,
        address: &str,
        transport: R,
        connection: ConnectionOptions,
    ) -> Result<()>
    where
        R: Transport<Stream = S>,
    {
        let address: Address = address.parse()?;
        let connector = {
            let address = address.clone();
            let socket = connection.socket.clone();
            let transport = transport.clone();
            move || transport.connect(&address, &socket)
        };
        self.add_node(address, Connection::new(connector, transport, connection))
    }
}

impl<S> Cluster<Pool<S>>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
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
        R: Transport<Stream = S>,
        A: AsRef<str>,
    {
        let cluster = Cluster::new(options);
        for address in addresses {
            let address: Address = address.as_ref().parse()?;
            let node = Pool::connect_to(
                &address,
                transport.clone(),
                connection.clone(),
                pool.clone(),
            );
            cluster.add_node(address, node)?;
        }
        Ok(cluster)
    }
}
