//! The command suite over verified TLS (memcached -Z) on the async-std adapter.
#![cfg(all(feature = "tls", feature = "async-std"))]

#[path = "support/mod.rs"]
mod plain_support;

#[path = "tls_commands/support.rs"]
mod support;

mod rt {
    use std::future::Future;
    use std::time::Duration;

    use memclient::async_std::AsyncStd;
    use memclient::{Client, Config, Connection, Result};

    pub type TestClient = Client<Connection>;

    pub fn block_on<F: Future>(future: F) -> F::Output {
        async_std::task::block_on(future)
    }

    pub async fn connect(config: Config) -> Result<TestClient> {
        config.tls(crate::support::tls()).connect(AsyncStd).await
    }

    pub async fn sleep(duration: Duration) {
        async_std::task::sleep(duration).await;
    }
}

#[path = "suite/commands.rs"]
mod commands;
