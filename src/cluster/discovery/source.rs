//! [`Discover`]: where a cluster's nodes come from, and the simplest
//! source, a fixed list ([`StaticNodes`]).

use crate::cluster::scheme::NodeSpec;
use crate::runtime::BoxFuture;
use crate::Result;

/// Where a cluster's nodes come from.
pub trait Discover: Send + Sync + 'static {
    /// The nodes the cluster should have now, or `None` when the source
    /// knows nothing changed since its last answer (a configuration version
    /// already seen). An error leaves the cluster as it is.
    fn discover(&self) -> BoxFuture<'_, Result<Option<Vec<NodeSpec>>>>;
}

/// A fixed list of nodes: a cluster that follows it has these.
#[derive(Debug, Clone)]
pub struct StaticNodes(pub Vec<NodeSpec>);

impl StaticNodes {
    /// The nodes at these addresses (`host:port`, `[v6]:port`, `unix:/path`).
    pub fn parse<A: AsRef<str>>(addresses: impl IntoIterator<Item = A>) -> Result<Self> {
        addresses
            .into_iter()
            .map(|a| a.as_ref().parse().map(NodeSpec::new))
            .collect::<Result<Vec<_>>>()
            .map(StaticNodes)
    }
}

impl Discover for StaticNodes {
    fn discover(&self) -> BoxFuture<'_, Result<Option<Vec<NodeSpec>>>> {
        let nodes = self.0.clone();
        Box::pin(async move { Ok(Some(nodes)) })
    }
}
