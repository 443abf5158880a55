//! Observability layers: [`Traced`] (feature `tracing`) and [`Metered`]
//! (feature `metrics`).
//!
//! Each is a [`Backend`](crate::Backend) wrapping a `Backend`, so it goes
//! anywhere in the stack: around the whole client (one span or one set of
//! counters per call the user makes), around each node of a
//! [`Cluster`](crate::Cluster) (labelled by node), or under a
//! [`Retry`](crate::Retry) (one per try).
//!
//! ```
//! # #[cfg(all(feature = "tracing", feature = "metrics"))]
//! # fn demo<B: memclient::Backend>(connection: B) {
//! use memclient::observe::{Metered, Traced};
//! use memclient::Client;
//! let client = Client::new(Traced::new(Metered::new(connection).node("cache-1")).node("cache-1"));
//! # }
//! ```
//!
//! Neither layer records key or value contents unless asked
//! ([`Traced::record_contents`]): they may be private.
//!
//! Besides the layers, with the features on: a [`Retry`](crate::Retry)
//! emits a DEBUG event `retrying memcached call` (`attempt`, `error.kind`)
//! before each retry, and a [`Cluster`](crate::Cluster) a WARN event
//! `memcached node marked dead` and an INFO event `memcached node recovered`
//! (it answered again after failing) with `node`, counted in
//! `memclient_node_changes_total` (`node`, `change` = `died` / `recovered`)
//! with the gauge `memclient_node_up` (`node`; 0 once dead, 1 once back).
//! What only a connection or a pool sees is reported as well, with no
//! `node` label: connect attempts (`memclient_connects_total`, `outcome` =
//! `ok`/`failed`), sockets retired for an overdue reply
//! (`memclient_sockets_retired_total`), waits for a pooled connection
//! (`memclient_pool_waits_total`, `outcome` = `ok`/`timeout`, and the
//! histogram `memclient_pool_wait_seconds`) and the gauge
//! `memclient_pool_connections`, each with a tracing event.

mod classify;
#[cfg(feature = "metrics")]
mod metrics;
#[cfg(feature = "tracing")]
mod tracing;

#[cfg(feature = "tracing")]
#[cfg(feature = "metrics")]
pub use metrics::Metered;
#[cfg(feature = "tracing")]
pub use tracing::Traced;
