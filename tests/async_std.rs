//! The integration suites on the async-std adapter.
#![cfg(feature = "async-std")]

mod support;

mod rt {
    use std::future::Future;
    use std::time::Duration;

    use memclient::async_std::AsyncStd;
    pub use memclient::async_std::Stream;
    use memclient::{Client, Config, Connection, Pool, PoolOptions, Result};

    pub type TestClient = Client<Connection>;

    pub fn block_on<F: Future>(future: F) -> F::Output {
        async_std::task::block_on(future)
    }

    pub async fn connect(config: Config) -> Result<TestClient> {
        config.connect(AsyncStd).await
    }

    pub type PoolClient = Client<Pool>;

    /// A client over a pool; call it inside `block_on` (tokio needs its context).
    pub fn connect_pool(config: Config, options: PoolOptions) -> Result<PoolClient> {
        // A pool opens no socket until its first call: this future is ready
        // at once, so blocking on it here never blocks.
        futures_lite::future::block_on(config.pool(options).connect(AsyncStd))
    }

    /// The runtime adapter, for APIs that take a transport.
    pub fn transport() -> AsyncStd {
        AsyncStd
    }

    pub async fn sleep(duration: Duration) {
        async_std::task::sleep(duration).await;
    }

    pub fn spawn<F: Future<Output = T> + Send + 'static, T: Send + 'static>(
        future: F,
    ) -> impl Future<Output = T> {
        async_std::task::spawn(future)
    }
}

#[path = "suite/commands.rs"]
mod commands;

#[path = "suite/concurrency.rs"]
mod concurrency;

#[path = "suite/driving.rs"]
mod driving;

#[path = "suite/transports.rs"]
mod transports;

#[path = "suite/pool.rs"]
mod pool;

#[path = "suite/entry.rs"]
mod entry;

#[path = "suite/meta.rs"]
mod meta;

#[path = "suite/cluster.rs"]
mod cluster;

#[path = "suite/hardening.rs"]
mod hardening;

#[path = "suite/discovery.rs"]
mod discovery;
#[path = "suite/twemproxy.rs"]
mod twemproxy;

#[cfg(all(feature = "tracing", feature = "metrics"))]
#[path = "suite/observe.rs"]
mod observe;
#[cfg(feature = "tls")]
#[path = "suite/tls.rs"]
mod tls;

#[path = "suite/lifecycle.rs"]
mod lifecycle;
