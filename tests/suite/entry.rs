//! One way to build: every backend a `Config` builds keeps the client's
//! options and runtime.

use std::time::Duration;

use memclient::{
    Backend, Client, Cluster, Config, Connection, Error, Open, Pool, PoolOptions, Retry,
    RetryOptions,
};

use crate::rt;
use crate::support::{unique_prefix, Memcached};

/// An address where nothing listens: connects are refused.
fn refused() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

/// A write through `client` lands under the config's prefix, seen by a
/// client without one.
async fn prefix_reaches_the_server<B: Backend>(client: &Client<B>, address: &str, prefix: &str) {
    assert!(client.set("k", "v").await.unwrap());
    let plain = Config::new(address).connect(rt::transport()).await.unwrap();
    let raw = plain.get(format!("{prefix}k")).await.unwrap();
    assert_eq!(
        raw.and_then(|v| v.as_str().map(String::from)).as_deref(),
        Some("v")
    );
}

/// The same config, connected on the test's runtime.
async fn connect<B: Open>(config: Config<B>) -> Client<B> {
    config.connect(rt::transport()).await.expect("connect")
}

#[test]
fn every_form_keeps_the_key_prefix() {
    let address = Memcached::shared().address.clone();
    rt::block_on(async {
        let prefix = unique_prefix("entry-connection");
        let client: Client<Connection> =
            connect(Config::new(&address).key_prefix(prefix.clone())).await;
        prefix_reaches_the_server(&client, &address, &prefix).await;

        let prefix = unique_prefix("entry-pool");
        let config = Config::new(&address)
            .key_prefix(prefix.clone())
            .pool(PoolOptions::new().max_size(2));
        let client: Client<Pool> = connect(config).await;
        prefix_reaches_the_server(&client, &address, &prefix).await;
        assert_eq!(client.backend().options().max_size, 2);

        let prefix = unique_prefix("entry-cluster");
        let client: Client<Cluster> =
            connect(Config::servers([&address]).key_prefix(prefix.clone())).await;
        prefix_reaches_the_server(&client, &address, &prefix).await;

        let prefix = unique_prefix("entry-cluster-pools");
        let config = Config::servers([&address])
            .pool(PoolOptions::new())
            .key_prefix(prefix.clone());
        let client: Client<Cluster<Pool>> = connect(config).await;
        prefix_reaches_the_server(&client, &address, &prefix).await;

        let prefix = unique_prefix("entry-retry");
        let config = Config::new(&address)
            .key_prefix(prefix.clone())
            .retry(RetryOptions::new().attempts(5));
        let client: Client<Retry<Connection>> = connect(config).await;
        prefix_reaches_the_server(&client, &address, &prefix).await;
        assert_eq!(client.backend().options().attempts, 5);
    });
}

#[test]
fn every_form_keeps_errors_as_misses() {
    let down = refused();
    rt::block_on(async {
        let retry = || {
            RetryOptions::new()
                .attempts(2)
                .delay(Duration::from_millis(1))
                .max_delay(Duration::from_millis(1))
        };
        let connection = connect(Config::new(&down).lazy(true).errors_as_misses(true)).await;
        assert_eq!(connection.get("k").await.unwrap(), None);
        let pool = connect(
            Config::new(&down)
                .errors_as_misses(true)
                .pool(PoolOptions::new()),
        )
        .await;
        assert_eq!(pool.get("k").await.unwrap(), None);
        let cluster = connect(Config::servers([&down]).errors_as_misses(true)).await;
        assert_eq!(cluster.get("k").await.unwrap(), None);
        let retried = connect(
            Config::servers([&down])
                .errors_as_misses(true)
                .retry(retry()),
        )
        .await;
        assert_eq!(retried.get("k").await.unwrap(), None);
        // Without the option, the same reads fail.
        let strict = connect(Config::servers([&down]).retry(retry())).await;
        assert!(strict.get("k").await.unwrap_err().is_connection_error());
    });
}

#[test]
fn a_retried_cluster_keeps_the_runtime_get_or_compute_waits_on() {
    let address = Memcached::shared().address.clone();
    rt::block_on(async {
        let config = Config::servers([&address])
            .key_prefix(unique_prefix("entry-runtime"))
            .retry(RetryOptions::new());
        let client = connect(config).await;
        // Another caller holds the win, so this caller has to wait: it can
        // only do so on the client's runtime.
        let held = client
            .meta_get("k")
            .cas()
            .vivify(Duration::from_secs(30))
            .await
            .unwrap()
            .expect("a placeholder");
        assert!(held.won);
        let error = client
            .get_or_compute("k", Duration::from_secs(60), || async {
                Ok::<_, Error>(memclient::CacheValue::from("v"))
            })
            .wait(Duration::from_millis(50))
            .await
            .unwrap_err();
        assert!(matches!(error, Error::Timeout(_)), "{error}");
    });
}

#[test]
fn a_single_server_form_refuses_a_bad_address_before_connecting() {
    rt::block_on(async {
        let error = Config::new("host:99999")
            .connect(rt::transport())
            .await
            .unwrap_err();
        assert!(matches!(error, Error::IllegalInput(_)), "{error}");
        let error = Config::servers(["h:1", "h:1"])
            .connect(rt::transport())
            .await
            .unwrap_err();
        assert!(matches!(error, Error::IllegalInput(_)), "{error}");
    });
}
