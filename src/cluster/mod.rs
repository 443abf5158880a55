//! Many servers: consistent hashing that agrees with pymemcache,
//! libmemcached and twemproxy, dead-server handling, and nodes that come and go.
//!
//! [`Cluster`] is a [`Backend`](crate::Backend) over one backend per node. A
//! [`Locator`] maps each key to a node: [`Rendezvous`] (pymemcache's
//! `HashClient`, the default) or [`Ketama`] (libmemcached's modes and
//! twemproxy's, see [`KetamaOptions`]), or your own through [`Hashing::Custom`].
//!
//! Inside, one idea a file:
//!
//! - `router`: where a request goes (one function over the request's scope:
//!   its key's node, split by node, every node, any node, or refused), how a
//!   request of many keys splits by node (one group-by-node helper for
//!   retrievals, meta batches and `call_many`), and how answers merge back in
//!   request order. Pure: no I/O, no backends, no clock.
//! - `scatter`: sends each route's parts to their nodes at once and gathers
//!   the answers; the cluster's [`Backend`](crate::Backend) impl.
//! - `handle`: [`Cluster`] itself, its nodes, one call to one node through
//!   that node's health, and the clock it reads (its runtime's
//!   [`now`](crate::runtime::Runtime::now), see [`Cluster::with_runtime`]).
//! - `table` (the immutable node list a call keeps) and `health` (failing,
//!   dead, back again).
//! - `scheme` ([`NodeSpec`], [`Locator`]), which the hashing schemes
//!   (`rendezvous`, `ketama` with its hashes) and the choice among them
//!   (`locator`: [`Hashing`]) build on.
//! - `discovery` (nodes that come and go, background probes), `proxy`
//!   ([`Twemproxy`]), `open` (clusters of connections or pools by address),
//!   `options` ([`ClusterOptions`]).

mod discovery;
mod fnv;
mod handle;
mod health;
mod jenkins;
mod ketama;
mod locator;
mod murmur3;
mod open;
mod options;
mod proxy;
mod rendezvous;
mod router;
mod scatter;
mod scheme;
mod table;
mod twemproxy;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod vector_tests;

pub use discovery::{Background, Discover, Dns, ElastiCache, NodeChanges, Srv, StaticNodes};
pub use fnv::fnv1a_64;
pub use handle::Cluster;
pub use health::NodeStatus;
pub use jenkins::one_at_a_time;
pub use ketama::{Ketama, KetamaHash, KetamaOptions};
pub use locator::{BuildLocator, Hashing};
pub use murmur3::murmur3_32;
pub(crate) use open::endpoint_options;
pub use options::{ClusterOptions, DeadKeys};
pub use proxy::{twemproxy_supports, Twemproxy};
pub use rendezvous::Rendezvous;
pub use scheme::{Locator, NodeSpec};
