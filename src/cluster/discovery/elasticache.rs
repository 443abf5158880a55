//! [`ElastiCache`]: AWS ElastiCache auto discovery through the cluster's
//! configuration endpoint.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::BytesMut;
use futures_util::{AsyncReadExt, AsyncWriteExt};

use super::source::Discover;
use crate::cluster::scheme::NodeSpec;
use crate::proto::config::{ClusterConfig, ConfigDecoder, CONFIG_GET_CLUSTER};
use crate::runtime::{Address, BoxFuture, SocketOptions, Transport};
use crate::{Error, Result};

/// The nodes an ElastiCache configuration endpoint lists in answer to
/// `config get cluster`, applied only when the configuration's version is
/// above the last one applied (a lagging endpoint never undoes a change).
///
/// Each ask opens a connection to the endpoint, sends the command, reads
/// the reply within [`timeout`](Self::timeout) (5 seconds by default) and
/// closes it: asked once a minute, as AWS advises, that is cheaper than
/// keeping a connection. Nodes are named `ip:port` (the host name when the
/// endpoint gives no IP).
pub struct ElastiCache<R> {
    endpoint: Address,
    transport: R,
    timeout: Duration,
    /// The version last returned; 0 before any.
    version: AtomicU64,
}

impl<R> std::fmt::Debug for ElastiCache<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ElastiCache")
            .field("endpoint", &self.endpoint)
            .field("version", &self.version.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl<R: Transport> ElastiCache<R> {
    /// Discovery through the configuration endpoint at `endpoint`
    /// (`host:port`), connected on `transport`.
    pub fn new(endpoint: &str, transport: R) -> Result<Self> {
        Ok(ElastiCache {
            endpoint: endpoint.parse()?,
            transport,
            timeout: Duration::from_secs(5),
            version: AtomicU64::new(0),
        })
    }

    /// The longest one ask may take, connect included.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The configuration version last applied (0 before the first).
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    /// Asks the endpoint for its configuration, whatever its version.
    pub async fn fetch(&self) -> Result<ClusterConfig> {
        let ask = async {
            let mut stream = self
                .transport
                .connect(&self.endpoint, &SocketOptions::default())
                .await?;
            stream.write_all(CONFIG_GET_CLUSTER).await?;
            stream.flush().await?;
            let mut decoder = ConfigDecoder::new();
            let mut buf = BytesMut::new();
            let mut chunk = vec![0; 4096];
            loop {
                if let Some(result) = decoder.decode(&mut buf) {
                    return result;
                }
                let n = stream.read(&mut chunk).await?;
                if n == 0 {
                    return Err(Error::ConnectionClosed);
                }
                buf.extend_from_slice(&chunk[..n]);
            }
        };
        let timeout = self.timeout;
        let expired = async move {
            self.transport.sleep(timeout).await;
            Err(Error::Timeout(timeout))
        };
        futures_util::pin_mut!(ask, expired);
        futures_util::future::select(ask, expired)
            .await
            .factor_first()
            .0
    }
}

impl<R: Transport> Discover for ElastiCache<R> {
    fn discover(&self) -> BoxFuture<'_, Result<Option<Vec<NodeSpec>>>> {
        Box::pin(async move {
            let config = self.fetch().await?;
            let seen = self.version.load(Ordering::Acquire);
            if config.version <= seen {
                return Ok(None);
            }
            let nodes = config
                .nodes
                .iter()
                .map(|node| node.address().parse().map(NodeSpec::new))
                .collect::<Result<Vec<_>>>()?;
            if nodes.is_empty() {
                return Err(Error::Protocol(format!(
                    "configuration version {} lists no node",
                    config.version
                )));
            }
            self.version.fetch_max(config.version, Ordering::AcqRel);
            Ok(Some(nodes))
        })
    }
}
