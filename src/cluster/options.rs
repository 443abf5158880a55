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
/// The knobs are pymemcache's, named for what they do to a node:
/// [`probes_before_dead`](Self::probes_before_dead) is pymemcache's
/// `retry_attempts`, [`probe_interval`](Self::probe_interval) its
/// `retry_timeout`, [`dead_timeout`](Self::dead_timeout) its
/// `dead_timeout`. They decide when a node is out of rotation; they do not
/// retry calls (that is [`Retry`](crate::Retry) and
/// [`RetryOptions::attempts`](crate::RetryOptions::attempts)). The defaults
/// differ where pymemcache's are costly: a dead server is probed again after
/// 10 seconds rather than 60, and its keys fail rather than move (see
/// [`DeadKeys`]).
///
/// ```
/// use std::time::Duration;
/// use memclient::{Client, Cluster, ClusterOptions, DeadKeys};
/// use memclient_mock::MockMemcache;
///
/// # futures_lite::future::block_on(async {
/// let options = ClusterOptions::new()
///     .probes_before_dead(1)                     // pymemcache: retry_attempts
///     .probe_interval(Duration::from_millis(500)) // pymemcache: retry_timeout
///     .dead_timeout(Duration::from_secs(30))
///     .dead_keys(DeadKeys::Remap)                 // pymemcache's behaviour
///     .errors_as_misses(true);                    // pymemcache: ignore_exc
/// let nodes = ["10.0.0.1:11211", "10.0.0.2:11211"]
///     .map(|address| (address.parse::<memclient::runtime::Address>().unwrap(), MockMemcache::new()));
/// let cluster = Cluster::with_nodes(nodes, options)?;
/// let client = Client::new(cluster);
/// client.set("k", "v").await?;
/// assert!(client.get("k").await?.is_some());
/// # Ok::<_, memclient::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClusterOptions {
    /// How keys map to nodes. Default: pymemcache's rendezvous hashing.
    pub hashing: Hashing,
    /// Failed probes (after the first failure) before a node is marked
    /// dead. 0 marks it dead at its first failure. Default 2. pymemcache's
    /// `retry_attempts` (formerly that name here too).
    #[doc(alias = "retry_attempts")]
    pub probes_before_dead: u32,
    /// How long the calls of a failing node fail fast before one of them
    /// probes it again. Default 1 second. pymemcache's `retry_timeout`
    /// (formerly that name here too).
    #[doc(alias = "retry_timeout")]
    pub probe_interval: Duration,
    /// How long a dead node stays out before it is probed again. Default 10
    /// seconds.
    pub dead_timeout: Duration,
    /// What happens to the keys of a dead node. Default [`DeadKeys::Fail`].
    pub dead_keys: DeadKeys,
    /// Reads (`get`, `gets`, `gat`, `gats`) that fail on a node return
    /// misses for that node's keys, and the hits of the others. One dead
    /// server then costs misses on its keys only. Off by default. Invalid
    /// input is still an error. pymemcache's `ignore_exc`; the client-wide
    /// form, for any backend, is
    /// [`ClientOptions::errors_as_misses`](crate::ClientOptions::errors_as_misses).
    #[doc(alias = "ignore_exc")]
    pub errors_as_misses: bool,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        ClusterOptions {
            hashing: Hashing::default(),
            probes_before_dead: 2,
            probe_interval: Duration::from_secs(1),
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

    /// Sets [`probes_before_dead`](Self::probes_before_dead).
    #[doc(alias = "retry_attempts")]
    pub fn probes_before_dead(mut self, probes: u32) -> Self {
        self.probes_before_dead = probes;
        self
    }

    /// Sets [`probe_interval`](Self::probe_interval).
    #[doc(alias = "retry_timeout")]
    pub fn probe_interval(mut self, interval: Duration) -> Self {
        self.probe_interval = interval;
        self
    }

    /// The former name of [`probes_before_dead`](Self::probes_before_dead).
    #[deprecated(
        note = "renamed to `probes_before_dead`: it marks nodes dead, it does not retry calls"
    )]
    pub fn retry_attempts(self, attempts: u32) -> Self {
        self.probes_before_dead(attempts)
    }

    /// The former name of [`probe_interval`](Self::probe_interval).
    #[deprecated(
        note = "renamed to `probe_interval`: it paces probes of a failing node, it does not retry calls"
    )]
    pub fn retry_timeout(self, timeout: Duration) -> Self {
        self.probe_interval(timeout)
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

    /// Sets [`errors_as_misses`](Self::errors_as_misses) (pymemcache's
    /// `ignore_exc`).
    #[doc(alias = "ignore_exc")]
    pub fn errors_as_misses(mut self, on: bool) -> Self {
        self.errors_as_misses = on;
        self
    }

    pub(crate) fn policy(&self) -> Policy {
        Policy {
            retry_attempts: self.probes_before_dead,
            retry_timeout: self.probe_interval,
            dead_timeout: self.dead_timeout,
        }
    }
}
