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
//! ([`Traced::record_keys`]): they may be private. Events that only a
//! connection sees (a reconnect, an overdue reply) are not reported yet.

mod classify;
#[cfg(feature = "metrics")]
mod metrics;
#[cfg(feature = "tracing")]
mod tracing;

#[cfg(feature = "metrics")]
pub use metrics::Metered;
#[cfg(feature = "tracing")]
pub use tracing::Traced;
