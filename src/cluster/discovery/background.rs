//! [`Background`]: the handle that keeps a cluster's background task
//! running.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A background task of a [`Cluster`](crate::Cluster) ([`Cluster::follow`](crate::Cluster::follow),
/// [`Cluster::probe_in_background`](crate::Cluster::probe_in_background)); it stops (at its next wake-up) when
/// this handle is dropped.
#[derive(Debug)]
#[must_use = "the background task stops when this handle is dropped"]
pub struct Background {
    stop: Arc<AtomicBool>,
}

impl Background {
    pub(crate) fn new(stop: Arc<AtomicBool>) -> Self {
        Background { stop }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
    }
}
