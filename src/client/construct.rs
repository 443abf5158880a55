//! Building a [`Client`] and looking inside it.

use std::sync::Arc;

use super::{Client, ClientOptions};
use crate::runtime::Runtime;
use crate::serde::{PyFlags, Serde};
use crate::{Backend, Result};

/// The runtime a client sleeps on, if it has one. The core stays
/// runtime-free: a client built on a bare backend has none.
#[derive(Clone, Default)]
pub(crate) struct Timer(pub(crate) Option<Arc<dyn Runtime>>);

impl std::fmt::Debug for Timer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Timer(runtime)"
        } else {
            "Timer(none)"
        })
    }
}

impl<B: Backend> Client<B, PyFlags> {
    /// A client over `backend` with pymemcache's flags and default options.
    pub fn new(backend: B) -> Self {
        Client {
            backend,
            serde: PyFlags,
            options: ClientOptions::default(),
            timer: Timer::default(),
        }
    }
}

impl<B: Backend, S: Serde> Client<B, S> {
    /// A client with its serde and options. Fails if the key prefix is not a
    /// valid key start.
    pub fn with_options(backend: B, serde: S, options: ClientOptions) -> Result<Self> {
        options.validate()?;
        Ok(Client {
            backend,
            serde,
            options,
            timer: Timer::default(),
        })
    }

    /// The same client with another serde.
    pub fn with_serde<S2: Serde>(self, serde: S2) -> Client<B, S2> {
        Client {
            backend: self.backend,
            serde,
            options: self.options,
            timer: self.timer,
        }
    }

    /// The same client with a runtime to sleep on, for the calls that wait
    /// for another caller ([`get_or_compute`](Client::get_or_compute)).
    /// [`Config::connect`](crate::Config::connect) sets the runtime it
    /// connects on.
    pub fn with_runtime(mut self, runtime: impl Runtime) -> Self {
        self.timer = Timer(Some(Arc::new(runtime)));
        self
    }

    /// Whether the client has a runtime to sleep on (see [`Client::with_runtime`]).
    #[cfg(feature = "blocking")]
    pub(crate) fn has_runtime(&self) -> bool {
        self.timer.0.is_some()
    }

    /// Closes the client's backend (connection, pool or cluster): calls in
    /// flight finish or fail, sockets close, and every later call fails with
    /// [`Error::Closed`](crate::Error::Closed), even with `errors_as_misses`.
    pub async fn close(&self) {
        self.backend.close().await
    }

    /// The backend this client sends its requests to.
    pub fn backend(&self) -> &B {
        &self.backend
    }

    /// The serde that turns values into bytes and back.
    pub fn serde(&self) -> &S {
        &self.serde
    }

    /// The client's options.
    pub fn options(&self) -> &ClientOptions {
        &self.options
    }
}
