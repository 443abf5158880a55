//! [`Hashing`]: how a cluster spreads keys, and building its [`Locator`].

use std::fmt;
use std::sync::Arc;

use super::ketama::{Ketama, KetamaOptions};
use super::rendezvous::Rendezvous;
use super::scheme::{Locator, NodeSpec};

/// A function that builds a custom [`Locator`] for a list of nodes.
pub type BuildLocator = dyn Fn(&[NodeSpec]) -> Box<dyn Locator> + Send + Sync;

/// How a cluster spreads keys over its nodes.
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum Hashing {
    /// Rendezvous (highest random weight) hashing, exactly as pymemcache's
    /// `HashClient` does by default. The default: a Python service using
    /// pymemcache with the same server list finds every key where we put it.
    #[default]
    Rendezvous,
    /// A ketama continuum, exactly as libmemcached builds it.
    Ketama(KetamaOptions),
    /// Your own scheme.
    Custom(Arc<BuildLocator>),
}

impl Hashing {
    /// libmemcached's ketama with `MEMCACHED_BEHAVIOR_KETAMA` and no other
    /// setting (see [`KetamaOptions::libmemcached`]).
    pub fn ketama() -> Self {
        Hashing::Ketama(KetamaOptions::libmemcached())
    }

    /// A locator for `nodes`.
    pub fn locator(&self, nodes: &[NodeSpec]) -> Box<dyn Locator> {
        match self {
            Hashing::Rendezvous => Box::new(Rendezvous::new(nodes)),
            Hashing::Ketama(options) => Box::new(Ketama::new(nodes, *options)),
            Hashing::Custom(build) => build(nodes),
        }
    }
}

impl fmt::Debug for Hashing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Hashing::Rendezvous => f.write_str("Rendezvous"),
            Hashing::Ketama(options) => f.debug_tuple("Ketama").field(options).finish(),
            Hashing::Custom(_) => f.write_str("Custom(..)"),
        }
    }
}
