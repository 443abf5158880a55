//! The health of one node: failing, dead, back again.
//!
//! pymemcache's model with its knobs: a node whose call fails with a
//! connection error is *failing*; its calls fail fast until `retry_timeout`
//! has passed, then one call probes it. After `retry_attempts` failed probes
//! it is *dead* for `dead_timeout`; then one call probes it again, and the
//! first answer makes it healthy.
//!
//! Failures are counted per *attempt*, not per call: when a server dies under
//! 64 concurrent calls, all 64 fail, but they were one attempt. Each call
//! carries the epoch it was admitted in, and only a failure of the current
//! epoch counts (and starts a new epoch).

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The knobs of the health model (from [`ClusterOptions`](super::ClusterOptions)).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Policy {
    pub retry_attempts: u32,
    pub retry_timeout: Duration,
    pub dead_timeout: Duration,
}

/// What a cluster knows about one of its nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NodeStatus {
    /// Answering.
    Healthy,
    /// Its last attempts failed; its calls fail fast between probes.
    Failing {
        /// Consecutive failed attempts.
        failures: u32,
    },
    /// Out of rotation until `until`, then probed again.
    Dead {
        /// When it will be probed again.
        until: Instant,
    },
}

/// A call's permission to use the node.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ticket {
    epoch: u64,
}

/// How a reported outcome changed the node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    None,
    /// It just became dead.
    Died,
    /// It answered after failing.
    Recovered,
}

#[derive(Debug)]
pub(crate) struct Health {
    state: Mutex<State>,
}

#[derive(Debug, Clone, Copy)]
struct State {
    epoch: u64,
    kind: Kind,
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Healthy,
    Failing { failures: u32, next_probe: Instant },
    Dead { until: Instant },
}

impl Default for Health {
    fn default() -> Self {
        Health {
            state: Mutex::new(State {
                epoch: 0,
                kind: Kind::Healthy,
            }),
        }
    }
}

impl Health {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is plain data, always consistent: a poisoned lock is fine.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// May a call use the node now? `Err` holds when it may next be tried.
    pub fn admit(&self, now: Instant, policy: &Policy) -> Result<Ticket, Instant> {
        let mut state = self.lock();
        match state.kind {
            Kind::Healthy => {}
            Kind::Failing {
                failures,
                next_probe,
            } => {
                if now < next_probe {
                    return Err(next_probe);
                }
                // This call is the probe; the next one waits another
                // retry_timeout even if this one is cancelled and never reports.
                state.kind = Kind::Failing {
                    failures,
                    next_probe: after(now, policy.retry_timeout),
                };
            }
            Kind::Dead { until } => {
                if now < until {
                    return Err(until);
                }
                // Back on probation: one more failure and it is dead again.
                state.kind = Kind::Failing {
                    failures: policy.retry_attempts,
                    next_probe: after(now, policy.retry_timeout),
                };
                state.epoch += 1;
            }
        }
        Ok(Ticket { epoch: state.epoch })
    }

    /// Records how an admitted call went: `failed` for connection errors only
    /// (any reply of the server, even an error reply, shows it is alive).
    pub fn report(&self, ticket: Ticket, failed: bool, now: Instant, policy: &Policy) -> Change {
        let mut state = self.lock();
        if ticket.epoch != state.epoch {
            // An outcome of an attempt that was already judged.
            return Change::None;
        }
        match (state.kind, failed) {
            (Kind::Healthy, false) => Change::None,
            (Kind::Failing { .. } | Kind::Dead { .. }, false) => {
                state.kind = Kind::Healthy;
                state.epoch += 1;
                Change::Recovered
            }
            (kind, true) => {
                let failures = match kind {
                    Kind::Healthy => 1,
                    Kind::Failing { failures, .. } => failures.saturating_add(1),
                    Kind::Dead { .. } => return Change::None,
                };
                state.epoch += 1;
                if failures > policy.retry_attempts {
                    state.kind = Kind::Dead {
                        until: after(now, policy.dead_timeout),
                    };
                    Change::Died
                } else {
                    state.kind = Kind::Failing {
                        failures,
                        next_probe: after(now, policy.retry_timeout),
                    };
                    Change::None
                }
            }
        }
    }

    /// The node's status.
    pub fn status(&self) -> NodeStatus {
        match self.lock().kind {
            Kind::Healthy => NodeStatus::Healthy,
            Kind::Failing { failures, .. } => NodeStatus::Failing { failures },
            Kind::Dead { until } => NodeStatus::Dead { until },
        }
    }

    /// When the node may be probed next (`None` when it is healthy): for a
    /// failing node the end of its retry timeout, for a dead one the end of
    /// its dead time.
    pub fn due(&self) -> Option<Instant> {
        match self.lock().kind {
            Kind::Healthy => None,
            Kind::Failing { next_probe, .. } => Some(next_probe),
            Kind::Dead { until } => Some(until),
        }
    }

    /// When a dead node will be probed again (`None` when it is not dead).
    pub fn dead_until(&self) -> Option<Instant> {
        match self.lock().kind {
            Kind::Dead { until } => Some(until),
            _ => None,
        }
    }
}

/// Reports a node's death or return (features `tracing`, `metrics`); see
/// [`observe`](crate::observe).
pub(crate) fn observe_change(_node: &str, _change: Change) {
    #[cfg(feature = "tracing")]
    match _change {
        Change::Died => {
            tracing::warn!(target: "memclient", node = _node, "memcached node marked dead")
        }
        Change::Recovered => {
            tracing::info!(target: "memclient", node = _node, "memcached node recovered")
        }
        Change::None => {}
    }
    #[cfg(feature = "metrics")]
    {
        let (name, up) = match _change {
            Change::Died => ("died", 0.0),
            _ => ("recovered", 1.0),
        };
        let node = _node.to_string();
        metrics::counter!("memclient_node_changes_total", "node" => node.clone(), "change" => name)
            .increment(1);
        metrics::gauge!("memclient_node_up", "node" => node).set(up);
    }
}

/// `now + duration`, without the panic on overflow (a huge timeout means
/// "a century").
fn after(now: Instant, duration: Duration) -> Instant {
    now.checked_add(duration)
        .or_else(|| now.checked_add(Duration::from_secs(100 * 365 * 86_400)))
        .unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: Policy = Policy {
        retry_attempts: 2,
        retry_timeout: Duration::from_secs(1),
        dead_timeout: Duration::from_secs(10),
    };

    fn secs(start: Instant, s: u64) -> Instant {
        start + Duration::from_secs(s)
    }

    #[test]
    fn fails_retries_dies_and_returns() {
        let t0 = Instant::now();
        let health = Health::default();
        let ticket = health.admit(t0, &POLICY).unwrap();
        assert_eq!(health.report(ticket, true, t0, &POLICY), Change::None);
        assert_eq!(health.status(), NodeStatus::Failing { failures: 1 });
        // Within retry_timeout calls fail fast.
        assert_eq!(health.admit(t0, &POLICY).unwrap_err(), secs(t0, 1));
        // One probe after it, then fast failures again until that probe reports.
        let probe = health.admit(secs(t0, 1), &POLICY).unwrap();
        assert!(health.admit(secs(t0, 1), &POLICY).is_err());
        assert_eq!(
            health.report(probe, true, secs(t0, 1), &POLICY),
            Change::None
        );
        assert_eq!(health.status(), NodeStatus::Failing { failures: 2 });
        let probe = health.admit(secs(t0, 2), &POLICY).unwrap();
        assert_eq!(
            health.report(probe, true, secs(t0, 2), &POLICY),
            Change::Died
        );
        assert_eq!(health.dead_until(), Some(secs(t0, 12)));
        assert!(health.admit(secs(t0, 11), &POLICY).is_err());
        // After dead_timeout, one probe; a failure kills it again at once.
        let probe = health.admit(secs(t0, 12), &POLICY).unwrap();
        assert_eq!(
            health.report(probe, true, secs(t0, 12), &POLICY),
            Change::Died
        );
        let probe = health.admit(secs(t0, 22), &POLICY).unwrap();
        assert_eq!(
            health.report(probe, false, secs(t0, 22), &POLICY),
            Change::Recovered
        );
        assert_eq!(health.status(), NodeStatus::Healthy);
    }

    #[test]
    fn concurrent_failures_count_once() {
        let t0 = Instant::now();
        let health = Health::default();
        let tickets: Vec<_> = (0..64)
            .map(|_| health.admit(t0, &POLICY).unwrap())
            .collect();
        for ticket in tickets {
            health.report(ticket, true, t0, &POLICY);
        }
        assert_eq!(health.status(), NodeStatus::Failing { failures: 1 });
    }

    #[test]
    fn stale_success_does_not_hide_a_failure() {
        let t0 = Instant::now();
        let health = Health::default();
        let early = health.admit(t0, &POLICY).unwrap();
        let failing = health.admit(t0, &POLICY).unwrap();
        health.report(failing, true, t0, &POLICY);
        assert_eq!(health.report(early, false, t0, &POLICY), Change::None);
        assert_eq!(health.status(), NodeStatus::Failing { failures: 1 });
    }

    #[test]
    fn no_retries_means_dead_at_first_failure() {
        let policy = Policy {
            retry_attempts: 0,
            ..POLICY
        };
        let t0 = Instant::now();
        let health = Health::default();
        let ticket = health.admit(t0, &policy).unwrap();
        assert_eq!(health.report(ticket, true, t0, &policy), Change::Died);
    }
}
