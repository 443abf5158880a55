//! Many servers: consistent hashing that agrees with pymemcache,
//! libmemcached and twemproxy, dead-server handling, and nodes that come and go.
//!
//! [`Cluster`] is a [`Backend`](crate::Backend) over one backend per node. A
//! [`Locator`] maps each key to a node: [`Rendezvous`] (pymemcache's
//! `HashClient`, the default) or [`Ketama`] (libmemcached's modes and
//! twemproxy's, see [`KetamaOptions`]), or your own through [`Hashing::Custom`].

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
pub use options::{ClusterOptions, DeadKeys};
pub use proxy::{twemproxy_supports, Twemproxy};
pub use rendezvous::Rendezvous;
pub use scheme::{Locator, NodeSpec};
