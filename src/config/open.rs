//! [`Open`]: how [`Config::connect`] builds each backend it can build.

use crate::cluster::endpoint_options;
use crate::runtime::{connector, BoxFuture, Transport};
use crate::{Backend, Cluster, Config, Connection, Error, Pool, Result, Retry};

/// A backend that [`Config::connect`] can build: [`Connection`], [`Pool`],
/// [`Cluster`], `Cluster<Pool>`, and [`Retry`] around any of them. Sealed:
/// pick one with [`Config::new`], [`Config::servers`], `pool` and `retry`;
/// any other backend goes through [`Client::with_options`](crate::Client::with_options).
pub trait Open: Backend + Sized + sealed::Sealed {
    /// Builds the backend as `config` says, on `runtime`.
    #[doc(hidden)]
    fn open<R: Transport>(config: Config<Self>, runtime: R) -> BoxFuture<'static, Result<Self>>;
}

mod sealed {
    /// Only memclient's backends are built by a [`Config`](crate::Config).
    pub trait Sealed {}
    impl Sealed for crate::Connection {}
    impl Sealed for crate::Pool {}
    impl Sealed for crate::Cluster {}
    impl Sealed for crate::Cluster<crate::Pool> {}
    impl<B: Sealed> Sealed for crate::Retry<B> {}
}

/// The one address of a single-server config.
fn single<B>(config: &Config<B>) -> Result<&str> {
    match config.addresses() {
        [address] => Ok(address),
        other => Err(Error::IllegalInput(format!(
            "a connection or pool has one server, not {}",
            other.len()
        ))),
    }
}

/// The pool of a single-server config (always lazy).
pub(super) fn pool<R: Transport>(config: &Config<Pool>, runtime: R) -> Result<Pool> {
    let (address, options) = endpoint_options(single(config)?, config.connection.clone())?;
    Ok(Pool::connect_to(
        &address,
        runtime,
        options,
        config.pool.clone(),
    ))
}

impl Open for Connection {
    fn open<R: Transport>(config: Config<Self>, runtime: R) -> BoxFuture<'static, Result<Self>> {
        let opened = single(&config).and_then(|a| endpoint_options(a, config.connection.clone()));
        let lazy = config.lazy;
        Box::pin(async move {
            let (address, options) = opened?;
            if lazy {
                let connect = connector(&address, runtime.clone(), options.socket.clone());
                Ok(Connection::new(connect, runtime, options))
            } else {
                Connection::connect(&address, runtime, options).await
            }
        })
    }
}

impl Open for Pool {
    fn open<R: Transport>(config: Config<Self>, runtime: R) -> BoxFuture<'static, Result<Self>> {
        let opened = pool(&config, runtime);
        Box::pin(async move { opened })
    }
}

impl Open for Cluster {
    fn open<R: Transport>(config: Config<Self>, runtime: R) -> BoxFuture<'static, Result<Self>> {
        let opened = Cluster::open(
            config.addresses(),
            runtime,
            config.connection.clone(),
            config.cluster.clone(),
        );
        Box::pin(async move { opened })
    }
}

impl Open for Cluster<Pool> {
    fn open<R: Transport>(config: Config<Self>, runtime: R) -> BoxFuture<'static, Result<Self>> {
        let opened = Cluster::open_pools(
            config.addresses(),
            runtime,
            config.connection.clone(),
            config.pool.clone(),
            config.cluster.clone(),
        );
        Box::pin(async move { opened })
    }
}

impl<B: Open + Send + Sync + 'static> Open for Retry<B> {
    fn open<R: Transport>(config: Config<Self>, runtime: R) -> BoxFuture<'static, Result<Self>> {
        let retry = config.retry.clone();
        let inner = B::open(config.cast(), runtime.clone());
        Box::pin(async move { Ok(Retry::new(inner.await?, runtime, retry)) })
    }
}
