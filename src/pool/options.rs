//! [`PoolOptions`]: how a pool grows, shrinks and waits.

use std::time::Duration;

use crate::proto::DEFAULT_MAX_REPLY_LEN;

/// How a [`Pool`] grows, shrinks and waits.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolOptions {
    /// The most connections the pool opens (8 by default). 0 counts as 1.
    pub max_size: usize,
    /// The most calls in flight on one connection (pipelined; 16 by default).
    /// 1 gives each call a connection of its own, as classic pools do; 0
    /// counts as 1.
    pub max_in_flight: usize,
    /// Connections unused this long are closed (pymemcache's
    /// `pool_idle_timeout`; 60 seconds by default; `None` keeps them).
    pub idle_timeout: Option<Duration>,
    /// The longest a call waits for room on a connection before failing with
    /// [`Error::PoolTimeout`] (`None`: wait as long as it takes; 5 seconds by default).
    /// The wait also counts against the call's own timeout
    /// ([`ConnectionOptions::timeout`]): a call that reaches that first fails
    /// with [`Error::Timeout`], so no pool call outlasts its limit.
    pub wait_timeout: Option<Duration>,
    /// The most bytes the replies in progress on all of the pool's
    /// connections may hold together ([`DEFAULT_MAX_REPLY_LEN`], 64 MiB, by
    /// default): what the pool as a whole buffers is bounded, not only each
    /// connection ([`ConnectionOptions::max_reply_len`] still bounds one
    /// reply). A reply that would take the pool past it is
    /// [`Error::Protocol`] and its connection is dropped, as for a reply over
    /// `max_reply_len`. Raise it with `max_reply_len` for a server with a
    /// larger item size (`-I`), or for many large multi-key reads at once.
    pub reply_budget: usize,
}

impl Default for PoolOptions {
    fn default() -> Self {
        PoolOptions {
            max_size: 8,
            max_in_flight: 16,
            idle_timeout: Some(Duration::from_secs(60)),
            wait_timeout: Some(Duration::from_secs(5)),
            reply_budget: DEFAULT_MAX_REPLY_LEN,
        }
    }
}

impl PoolOptions {
    /// Options with every default.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets [`max_size`](Self::max_size) (0 counts as 1 when the pool uses it).
    pub fn max_size(mut self, max_size: usize) -> Self {
        self.max_size = max_size;
        self
    }

    /// Sets [`max_in_flight`](Self::max_in_flight) (0 counts as 1 when the
    /// pool uses it).
    pub fn max_in_flight(mut self, max_in_flight: usize) -> Self {
        self.max_in_flight = max_in_flight;
        self
    }

    /// Sets [`idle_timeout`](Self::idle_timeout).
    pub fn idle_timeout(mut self, idle_timeout: Option<Duration>) -> Self {
        self.idle_timeout = idle_timeout;
        self
    }

    /// Sets [`wait_timeout`](Self::wait_timeout).
    pub fn wait_timeout(mut self, wait_timeout: Option<Duration>) -> Self {
        self.wait_timeout = wait_timeout;
        self
    }

    /// Sets [`reply_budget`](Self::reply_budget), in bytes.
    pub fn reply_budget(mut self, reply_budget: usize) -> Self {
        self.reply_budget = reply_budget;
        self
    }
}
