//! [`Client::connect`]: the shortest way to a client, a [`Config`] with every
//! default. It lives with `Config`, so the client layer never imports the
//! layer that builds it.

use crate::runtime::Transport;
use crate::{Client, Config, Connection, Result};

impl Client<Connection> {
    /// Connects to the server at `address` on `runtime` with every default:
    /// short for `Config::new(address).connect(runtime)` (see [`Config`]
    /// for every other form).
    ///
    /// ```no_run
    /// # #[cfg(feature = "tokio")]
    /// # async fn demo() -> memclient::Result<()> {
    /// let client = memclient::Client::connect("127.0.0.1:11211", memclient::tokio::Tokio).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connect(address: &str, runtime: impl Transport) -> Result<Self> {
        Config::new(address).connect(runtime).await
    }
}
