//! [`ClusterOptions`]: hashing, and what to do about failing servers.

use std::time::Duration;

use super::health::Policy;
use super::locator::Hashing;

/// What happens to the keys of a dead node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum DeadKeys {
    /// Calls for them fail at once (or miss, for reads, with
    /// [`errors_as_misses`](ClusterOptions::errors_as_misses)). The default:
    /// when the node returns, no other node holds stale copies of its keys.
    #[default]
    Fail,
    /// They go to the remaining nodes, as if the dead node had been removed
    /// (pymemcache's behaviour). More hits while it is dead; but values
    /// written meanwhile are left behind when it returns, and its own old
    /// values are read again.
    Remap,
}

/// How a [`Cluster`](super::Cluster) spreads keys and handles failing servers.
///
/// The knobs are pymemcache's (`retry_attempts`, `retry_timeout`,
/// `dead_timeout`); the defaults differ where pymemcache's are costly: a dead
/// server is probed again after 10 seconds rather than 60, and its keys fail
/// rather than move (see [`DeadKeys`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClusterOptions {
    /// How keys map to nodes. Default: pymemcache's rendezvous hashing.
    pub hashing: Hashing,
    /// Failed attempts (after the first failure) before a node is marked
    /// dead. 0 marks it dead at its first failure. Default 2.
    pub retry_attempts: u32,
    /// How long the calls of a failing node fail fast before one of them
    /// probes it again. Default 1 second.
    pub retry_timeout: Duration,
    /// How long a dead node stays out before it is probed again. Default 10
    /// seconds.
    pub dead_timeout: Duration,
    /// What happens to the keys of a dead node. Default [`DeadKeys::Fail`].
    pub dead_keys: DeadKeys,
    /// Reads (`get`, `gets`, `gat`, `gats`) that fail on a node return
    /// misses for that node's keys, and the hits of the others. One dead
    /// server then costs misses on its keys only. Off by default. Invalid
    /// input is still an error.
    pub errors_as_misses: bool,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        ClusterOptions {
            hashing: Hashing::default(),
            retry_attempts: 2,
            retry_timeout: Duration::from_secs(1),
            dead_timeout: Duration::from_secs(10),
            dead_keys: DeadKeys::Fail,
            errors_as_misses: false,
        }
    }
}

impl ClusterOptions {
    /// Options with every default.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets [`hashing`](Self::hashing).
    pub fn hashing(mut self, hashing: Hashing) -> Self {
        self.hashing = hashing;
        self
    }

    /// Sets [`retry_attempts`](Self::retry_attempts).
    pub fn retry_attempts(mut self, attempts: u32) -> Self {
        self.retry_attempts = attempts;
        self
    }

    /// Sets [`retry_timeout`](Self::retry_timeout).
    pub fn retry_timeout(mut self, timeout: Duration) -> Self {
        self.retry_timeout = timeout;
        self
    }

    /// Sets [`dead_timeout`](Self::dead_timeout).
    pub fn dead_timeout(mut self, timeout: Duration) -> Self {
        self.dead_timeout = timeout;
        self
    }

    /// Sets [`dead_keys`](Self::dead_keys).
    pub fn dead_keys(mut self, dead_keys: DeadKeys) -> Self {
        self.dead_keys = dead_keys;
        self
    }

    /// Sets [`errors_as_misses`](Self::errors_as_misses).
    pub fn errors_as_misses(mut self, on: bool) -> Self {
        self.errors_as_misses = on;
        self
    }

    pub(crate) fn policy(&self) -> Policy {
        Policy {
            retry_attempts: self.retry_attempts,
            retry_timeout: self.retry_timeout,
            dead_timeout: self.dead_timeout,
        }
    }
}
