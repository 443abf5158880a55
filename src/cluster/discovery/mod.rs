//! Following a changing fleet: a [`Cluster`] whose nodes come from a
//! [`Discover`] source, re-read at an interval and applied as node adds and
//! removes.
//!
//! Sources: a [`StaticNodes`] list, [`Dns`] (every A/AAAA record of a name,
//! re-resolved), [`Srv`] (the targets of an SRV record) and [`ElastiCache`] (`config get cluster` on the
//! configuration endpoint, applied only when its version goes up). Only the
//! added and removed nodes' keys move: the others' stay where the hashing
//! put them.

mod background;
mod dns;
mod elasticache;
mod probe;
mod source;
mod srv;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub use background::Background;
pub use dns::Dns;
pub use elasticache::ElastiCache;
pub use source::{Discover, StaticNodes};
pub use srv::Srv;

use super::handle::Cluster;
use super::scheme::NodeSpec;
use crate::runtime::Runtime;
use crate::{Error, Result};

/// What applying a node list changed: node names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct NodeChanges {
    /// Nodes added, in the list's order.
    pub added: Vec<String>,
    /// Nodes removed.
    pub removed: Vec<String>,
}

impl NodeChanges {
    /// True when nothing changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty()
    }
}

impl<B> Cluster<B> {
    /// Makes the cluster's nodes these: removes the nodes not in `nodes`,
    /// adds the new ones with a backend from `connect`. Nodes in both keep
    /// their backend, health and keys. An empty list is refused (a source
    /// that suddenly reports nothing is more likely broken than right).
    pub fn set_nodes(
        &self,
        nodes: &[NodeSpec],
        mut connect: impl FnMut(&NodeSpec) -> B,
    ) -> Result<NodeChanges> {
        if nodes.is_empty() {
            return Err(Error::IllegalInput(
                "an empty node list: the cluster keeps its nodes".into(),
            ));
        }
        let wanted: HashSet<&str> = nodes.iter().map(NodeSpec::name).collect();
        let current = self.node_names();
        let mut changes = NodeChanges::default();
        for name in &current {
            if !wanted.contains(name.as_str()) && self.remove_node(name) {
                changes.removed.push(name.clone());
            }
        }
        let present: HashSet<&str> = current.iter().map(String::as_str).collect();
        let mut seen = HashSet::new();
        for node in nodes {
            if present.contains(node.name()) || !seen.insert(node.name()) {
                continue;
            }
            self.add_node(node.clone(), connect(node))?;
            changes.added.push(node.name().to_string());
        }
        Ok(changes)
    }

    /// Asks `source` once and applies its answer; see [`set_nodes`](Self::set_nodes).
    pub async fn discover_once<D: Discover + ?Sized>(
        &self,
        source: &D,
        connect: impl FnMut(&NodeSpec) -> B,
    ) -> Result<NodeChanges> {
        match source.discover().await? {
            Some(nodes) => self.set_nodes(&nodes, connect),
            None => Ok(NodeChanges::default()),
        }
    }
}

impl<B: Send + Sync + 'static> Cluster<B> {
    /// Follows `source` in the background: asks it now and then every
    /// `every`, on `runtime`, and applies each answer. A failed attempt
    /// leaves the nodes as they are (and, with the `tracing` feature, is a
    /// WARN event). Stops when the returned handle is dropped.
    ///
    /// ```no_run
    /// # #[cfg(feature = "smol")]
    /// # fn demo() -> memclient::Result<()> {
    /// use std::time::Duration;
    /// use memclient::cluster::ElastiCache;
    /// use memclient::{Cluster, ClusterOptions, ConnectionOptions, Pool, PoolOptions};
    /// use memclient::smol::Smol;
    ///
    /// let cluster = Cluster::new(ClusterOptions::default());
    /// let source = ElastiCache::new("my-cluster.cfg.use1.cache.amazonaws.com:11211", Smol)?;
    /// let following = cluster.follow(source, Smol, Duration::from_secs(60), |node| {
    ///     Pool::connect_to(node.address(), Smol, ConnectionOptions::default(), PoolOptions::default())
    /// });
    /// let client = memclient::Client::new(cluster);
    /// # Ok(())
    /// # }
    /// ```
    pub fn follow<D, R, F>(&self, source: D, runtime: R, every: Duration, connect: F) -> Background
    where
        D: Discover,
        R: Runtime,
        F: FnMut(&NodeSpec) -> B + Send + 'static,
    {
        let stop = Arc::new(AtomicBool::new(false));
        let cluster = self.clone();
        let stopped = stop.clone();
        let sleeper: Arc<dyn Runtime> = Arc::new(runtime);
        let timer = sleeper.clone();
        sleeper.spawn(Box::pin(async move {
            let mut connect = connect;
            while !stopped.load(Ordering::Acquire) {
                if let Err(_error) = cluster.discover_once(&source, &mut connect).await {
                    #[cfg(feature = "tracing")]
                    tracing::warn!(target: "memclient", error = %_error, "node discovery failed");
                }
                timer.sleep(every).await;
            }
        }));
        Background::new(stop)
    }
}
