//! The command suite over verified TLS (memcached -Z) on the smol adapter.
#![cfg(all(feature = "tls", feature = "smol"))]

#[path = "support/mod.rs"]
mod plain_support;

#[path = "tls_commands/support.rs"]
mod support;

mod rt {
    use std::future::Future;
    use std::time::Duration;

    use memclient::smol::Smol;
    use memclient::{Client, Config, Connection, Result};

    pub type TestClient = Client<Connection>;

    pub fn block_on<F: Future>(future: F) -> F::Output {
        smol::block_on(future)
    }

    pub async fn connect(config: Config) -> Result<TestClient> {
        config.tls(crate::support::tls()).connect(Smol).await
    }

    pub async fn sleep(duration: Duration) {
        smol::Timer::after(duration).await;
    }
}

#[path = "suite/commands.rs"]
mod commands;
