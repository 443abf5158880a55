//! The integration suites on the tokio adapter (multi-threaded runtime).
#![cfg(feature = "tokio")]

mod support;

mod rt {
    use std::future::Future;
    use std::sync::OnceLock;
    use std::time::Duration;

    pub use memclient::tokio::Stream;
    use memclient::tokio::Tokio;
    use memclient::{Client, Config, Connection, Pool, PoolOptions, Result};

    pub type TestClient = Client<Connection>;

    fn runtime() -> &'static tokio::runtime::Runtime {
        static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
        RUNTIME.get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("tokio runtime")
        })
    }

    pub fn block_on<F: Future>(future: F) -> F::Output {
        runtime().block_on(future)
    }

    pub async fn connect(config: Config) -> Result<TestClient> {
        config.connect(Tokio::current()).await
    }

    pub type PoolClient = Client<Pool>;

    /// A client over a pool; call it inside `block_on` (tokio needs its context).
    pub fn connect_pool(config: Config, options: PoolOptions) -> Result<PoolClient> {
        // A pool opens no socket until its first call: this future is ready
        // at once, so blocking on it here never blocks.
        futures_lite::future::block_on(config.pool(options).connect(Tokio::current()))
    }

    /// The runtime adapter, bound to the test runtime (callable outside it).
    pub fn transport() -> Tokio {
        Tokio::with_handle(runtime().handle().clone())
    }

    pub async fn sleep(duration: Duration) {
        tokio::time::sleep(duration).await;
    }

    pub fn spawn<F: Future<Output = T> + Send + 'static, T: Send + 'static>(
        future: F,
    ) -> impl Future<Output = T> {
        let handle = runtime().spawn(future);
        async move { handle.await.expect("task panicked") }
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
