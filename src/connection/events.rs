//! Events only a connection or a pool sees (features `tracing`, `metrics`):
//! connect attempts, retired sockets, waits for a pooled connection, the
//! pool's size. Without either feature every function here is empty.
//!
//! A connection does not know its server's name (its connector is opaque),
//! so these carry no `node` label; put the layers of
//! [`observe`](crate::observe) around each node for per-node figures.

use std::time::Duration;

/// A connect attempt ended: `ok` when a socket opened.
pub(crate) fn connect_attempt(_ok: bool, _took: Duration) {
    #[cfg(feature = "tracing")]
    if _ok {
        tracing::debug!(target: "memclient", took = ?_took, "memcached socket opened");
    } else {
        tracing::warn!(target: "memclient", took = ?_took, "memcached connect failed");
    }
    #[cfg(feature = "metrics")]
    {
        let outcome = if _ok { "ok" } else { "failed" };
        metrics::counter!("memclient_connects_total", "outcome" => outcome).increment(1);
    }
}

/// A socket was retired: a reply on it is overdue.
pub(crate) fn socket_retired() {
    #[cfg(feature = "tracing")]
    tracing::warn!(
        target: "memclient",
        "memcached socket retired: a reply on it is overdue"
    );
    #[cfg(feature = "metrics")]
    metrics::counter!("memclient_sockets_retired_total").increment(1);
}

/// A call waited `_waited` for room in a full pool (`_got`: it found room).
pub(crate) fn pool_wait(_waited: Duration, _got: bool) {
    #[cfg(feature = "tracing")]
    tracing::debug!(
        target: "memclient",
        waited = ?_waited,
        found_room = _got,
        "waited for a pooled connection"
    );
    #[cfg(feature = "metrics")]
    {
        let outcome = if _got { "ok" } else { "timeout" };
        metrics::counter!("memclient_pool_waits_total", "outcome" => outcome).increment(1);
        metrics::histogram!("memclient_pool_wait_seconds").record(_waited.as_secs_f64());
    }
}

/// The pool holds `_size` connections now.
pub(crate) fn pool_size(_size: usize) {
    #[cfg(feature = "metrics")]
    metrics::gauge!("memclient_pool_connections").set(_size as f64);
}
