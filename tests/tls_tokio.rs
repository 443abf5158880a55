//! The command suite over verified TLS (memcached -Z) on the tokio adapter.
#![cfg(all(feature = "tls", feature = "tokio"))]

#[path = "support/mod.rs"]
mod plain_support;

#[path = "tls_commands/support.rs"]
mod support;

mod rt {
    use std::future::Future;
    use std::sync::OnceLock;
    use std::time::Duration;

    use memclient::tokio::Tokio;
    use memclient::{Client, Config, Connection, Result};

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
        config
            .tls(crate::support::tls())
            .connect(Tokio::current())
            .await
    }

    pub async fn sleep(duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}

#[path = "suite/commands.rs"]
mod commands;
