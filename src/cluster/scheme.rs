//! What every hashing scheme shares: [`NodeSpec`], a server as the schemes
//! see it, and [`Locator`], the map from keys to those servers that each
//! scheme builds. The schemes ([`Rendezvous`](super::Rendezvous),
//! [`Ketama`](super::Ketama)) and the choice among them
//! ([`Hashing`](super::Hashing)) import this module; it imports none of them.

use crate::runtime::Address;

/// One server as the hashing schemes see it: its address and weight.
///
/// The address gives the node its name ([`NodeSpec::name`], `host:port`,
/// `[v6]:port` or the socket path), which rendezvous hashing scores, and the
/// host and port, which ketama's continuum points are named after.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NodeSpec {
    address: Address,
    name: String,
    weight: u32,
    server_name: Option<String>,
}

impl NodeSpec {
    /// A node of weight 1.
    pub fn new(address: Address) -> Self {
        NodeSpec {
            name: address.to_string(),
            address,
            weight: 1,
            server_name: None,
        }
    }

    /// The same node with a server name, as twemproxy's `host:port:weight
    /// name`: ketama with [`server_names`](super::KetamaOptions::server_names)
    /// (twemproxy's) names the node's points after it. Other schemes ignore it.
    pub fn with_server_name(mut self, name: impl Into<String>) -> Self {
        self.server_name = Some(name.into());
        self
    }

    /// The server name given by [`with_server_name`](Self::with_server_name).
    pub fn server_name(&self) -> Option<&str> {
        self.server_name.as_deref()
    }

    /// The same node with another weight (0 counts as 1). Only ketama uses
    /// weights; as in libmemcached, a weight above 1 switches ketama to its
    /// weighted continuum.
    pub fn with_weight(mut self, weight: u32) -> Self {
        self.weight = weight.max(1);
        self
    }

    /// The node's address.
    pub fn address(&self) -> &Address {
        &self.address
    }

    /// The node's name: its address as other clients write it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The node's weight (at least 1).
    pub fn weight(&self) -> u32 {
        self.weight
    }
}

impl From<Address> for NodeSpec {
    fn from(address: Address) -> Self {
        NodeSpec::new(address)
    }
}

/// Maps keys to nodes, for a fixed list of nodes.
///
/// A locator is built for one node list (see [`Hashing::locator`](super::Hashing::locator)) and answers
/// with indexes into that list. The cluster builds a new one whenever the list
/// changes, so implementations need no interior mutability.
pub trait Locator: Send + Sync {
    /// The index of the node that holds `key`; `None` only when there are no nodes.
    fn locate(&self, key: &[u8]) -> Option<usize>;
}
