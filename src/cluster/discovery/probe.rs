//! Background health checks: failing and dead nodes are probed with a cheap
//! `version` as soon as they are due, so a recovered node rejoins without a
//! user's call being the probe.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::background::Background;
use crate::cluster::handle::Cluster;
use crate::runtime::Runtime;
use crate::{Backend, Request};

impl<B: Backend> Cluster<B> {
    /// Probes, with `version`, every failing or dead node that is due for a
    /// probe (the same rule as for calls: after `probe_interval` for a
    /// failing node, after `dead_timeout` for a dead one). A node that
    /// answers is healthy again. Returns the names of the nodes probed and
    /// whether each answered.
    pub async fn probe_unhealthy(&self) -> Vec<(String, bool)> {
        let table = self.read();
        let now = self.now();
        let due = table
            .nodes
            .iter()
            .filter(|node| node.health.due().is_some_and(|at| at <= now));
        let probes = due.map(|node| async move {
            let answered = self.call_node(node, Request::Version).await.is_ok();
            (node.spec.name().to_string(), answered)
        });
        futures_util::future::join_all(probes).await
    }

    /// When the next failing or dead node is due for a probe.
    fn next_due(&self) -> Option<Instant> {
        self.read()
            .nodes
            .iter()
            .filter_map(|node| node.health.due())
            .min()
    }
}

impl<B: Backend + 'static> Cluster<B> {
    /// Probes failing and dead nodes in the background, on `runtime`: the
    /// task sleeps until the next node is due (checking at least every
    /// `every` for nodes that start failing), then probes it with
    /// [`probe_unhealthy`](Self::probe_unhealthy). Stops when the returned
    /// handle is dropped.
    ///
    /// A user's call that reaches a node in the instant it falls due can
    /// still be its probe; otherwise the probe is this task's, and with
    /// [`DeadKeys::Fail`](crate::DeadKeys::Fail) the calls for a dead
    /// node's keys fail fast until it has answered.
    pub fn probe_in_background(&self, runtime: impl Runtime, every: Duration) -> Background {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let cluster = self.clone();
        let runtime: Arc<dyn Runtime> = Arc::new(runtime);
        let timer = runtime.clone();
        runtime.spawn(Box::pin(async move {
            while !stopped.load(Ordering::Acquire) {
                let now = cluster.now();
                let wait = cluster
                    .next_due()
                    .map_or(every, |at| at.saturating_duration_since(now).min(every));
                if !wait.is_zero() {
                    timer.sleep(wait).await;
                }
                if stopped.load(Ordering::Acquire) {
                    break;
                }
                let probed = cluster.probe_unhealthy().await;
                if probed.is_empty() && cluster.next_due().is_some_and(|at| at <= cluster.now()) {
                    // Due but not admitted (another call is the probe):
                    // give it a moment instead of spinning.
                    timer.sleep(every.min(Duration::from_millis(10))).await;
                }
            }
        }));
        Background::new(stop)
    }
}
