//! The blocking client: the typed API without an async runtime, over the
//! mock and over real memcached, alone and shared by threads, on every layer.
#![cfg(feature = "blocking")]

mod support;

use std::sync::Arc;
use std::time::Duration;

use memclient::blocking::{self, Client};
use memclient::serde::CacheValue;
use memclient::{
    CasOutcome, Cluster, ClusterOptions, Config, ConnectionOptions, Error, PoolOptions, Retry,
    RetryOptions,
};
use memclient_mock::MockMemcache;
use support::{unique_prefix, Memcached};

fn text(value: Option<CacheValue>) -> Option<String> {
    value.and_then(|v| v.as_str().map(str::to_string))
}

fn over_mock(mock: &MockMemcache) -> Client<MockMemcache> {
    Client::new(memclient::Client::new(mock.clone()))
}

#[test]
fn the_typed_api_over_the_mock() {
    let mock = MockMemcache::with_manual_clock();
    let c = over_mock(&mock);
    assert_eq!(c.get("a").unwrap(), None);
    assert!(c.set("a", "1").send().unwrap());
    assert!(!c.add("a", "2").send().unwrap());
    assert!(c.replace("a", "3").send().unwrap());
    assert!(c.append("a", "4").send().unwrap());
    assert!(c.prepend("a", "0").send().unwrap());
    assert_eq!(text(c.get("a").unwrap()), Some("034".into()));

    let (_, unique) = c.gets("a").unwrap().unwrap();
    assert_eq!(
        c.cas("a", "new", unique).send().unwrap(),
        CasOutcome::Stored
    );
    assert_eq!(
        c.cas("a", "stale", unique).send().unwrap(),
        CasOutcome::Exists
    );

    assert!(c.set("n", "10").send().unwrap());
    assert_eq!(c.incr("n", 5).send().unwrap(), Some(15));
    assert_eq!(c.decr("n", 20).send().unwrap(), Some(0));
    assert!(c.delete("n").send().unwrap());
    assert!(!c.delete("n").send().unwrap());

    let missed = c.set_many([("x", "1"), ("y", "2")]).send().unwrap();
    assert!(missed.is_empty());
    assert_eq!(c.get_many(["x", "y", "z"]).unwrap().len(), 2);
    assert_eq!(c.delete_many(["x", "z"]).send().unwrap().len(), 1);

    // Options reach the wire: a ttl expires, noreply still writes.
    c.set("short", "v")
        .ttl(Duration::from_secs(2))
        .send()
        .unwrap();
    c.set("quiet", "v").noreply(true).send().unwrap();
    assert_eq!(text(c.get("quiet").unwrap()), Some("v".into()));
    mock.advance(Duration::from_secs(3));
    assert_eq!(c.get("short").unwrap(), None);
    assert!(c.touch("quiet", Duration::from_secs(1)).send().unwrap());
    mock.advance(Duration::from_secs(2));
    assert_eq!(c.get("quiet").unwrap(), None);

    c.set("z", "v").send().unwrap();
    c.flush_all().send().unwrap();
    assert!(mock.is_empty());
}

#[test]
fn run_reaches_every_async_call() {
    let mock = MockMemcache::new();
    let c = over_mock(&mock);
    c.set("k", "v")
        .ttl(Duration::from_secs(100))
        .send()
        .unwrap();
    let item = c.run(|c| c.meta_get("k").ttl()).unwrap().unwrap();
    assert!(item.ttl.is_some_and(|ttl| ttl > Duration::ZERO));
    assert!(c.run(|c| c.meta_noop()).is_ok());
    let mut computed = 0;
    let value = c
        .get_or_compute("page", Duration::from_secs(60), || {
            computed += 1;
            Ok::<_, Error>("built".into())
        })
        .unwrap();
    assert_eq!(value.as_str(), Some("built"));
    let again = c
        .get_or_compute("page", Duration::from_secs(60), || {
            Err::<CacheValue, _>(Error::Server("must not be computed again".into()))
        })
        .unwrap();
    assert_eq!(again.as_str(), Some("built"));
    assert_eq!(computed, 1);
    // Invalid keys fail before any I/O, as in the async client.
    assert!(matches!(c.get("bad key"), Err(Error::IllegalInput(_))));
    assert!(matches!(
        c.set("bad key", "v").send(),
        Err(Error::IllegalInput(_))
    ));
}

#[test]
fn a_retry_layer_sleeps_without_a_runtime() {
    let mock = MockMemcache::new();
    let retry = Retry::new(
        mock.clone(),
        memclient::smol::Smol,
        RetryOptions::default()
            .delay(Duration::from_millis(5))
            .max_delay(Duration::from_millis(10)),
    );
    let c = Client::new(memclient::Client::new(retry));
    c.set("k", "v").send().unwrap();
    mock.fail_next(2, Error::ConnectionClosed);
    assert_eq!(text(c.get("k").unwrap()), Some("v".into()));
}

#[test]
fn a_real_server_with_options() {
    let server = Memcached::shared();
    let prefix = unique_prefix("blocking-real");
    let c = Client::connect_with(
        Config::new(&server.address)
            .key_prefix(prefix.clone())
            .timeout(Duration::from_secs(5)),
    )
    .unwrap();
    assert!(c.set("a", "1").send().unwrap());
    assert_eq!(text(c.get("a").unwrap()), Some("1".into()));
    // The prefix went to the server.
    let plain = Client::connect(&server.address).unwrap();
    assert_eq!(
        text(plain.get(format!("{prefix}a")).unwrap()),
        Some("1".into())
    );
    assert!(c.version().unwrap().starts_with("1."));
    assert!(c.stats(None::<&str>).unwrap().contains_key("curr_items"));
    assert!(Client::connect("127.0.0.1:1").is_err());
}

#[test]
fn a_call_times_out_without_a_runtime() {
    let mock = MockMemcache::new();
    mock.set_latency(Duration::from_millis(500));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let _server = mock.serve_tcp(listener).unwrap();
    let c = Client::connect_with(Config::new(address).timeout(Duration::from_millis(50))).unwrap();
    assert!(matches!(c.get("k"), Err(Error::Timeout(_))));
}

/// Threads share one client (one pipelined connection): every reply reaches
/// the thread that asked.
#[test]
fn threads_share_one_client() {
    let server = Memcached::shared();
    let prefix = unique_prefix("blocking-threads");
    let c =
        Arc::new(Client::connect_with(Config::new(&server.address).key_prefix(prefix)).unwrap());
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let c = c.clone();
            std::thread::spawn(move || {
                for i in 0..200 {
                    let key = format!("t{t}-{}", i % 10);
                    let value = format!("{t}:{i}");
                    assert!(c.set(&key, value.clone()).send().unwrap());
                    assert_eq!(text(c.get(&key).unwrap()), Some(value));
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
}

/// A cluster of pools of real servers, under a retry, with the blocking API.
#[test]
fn a_cluster_of_pools_under_a_retry() {
    let servers = [Memcached::start(), Memcached::start()];
    let cluster = Cluster::open_pools(
        servers.iter().map(|s| s.address.clone()),
        memclient::smol::Smol,
        ConnectionOptions::default(),
        PoolOptions::default().max_size(2),
        ClusterOptions::default(),
    )
    .unwrap();
    let retry = Retry::new(cluster, memclient::smol::Smol, RetryOptions::default());
    let c = Client::new(memclient::Client::new(retry));
    let items: Vec<(String, String)> = (0..40).map(|i| (format!("k{i}"), i.to_string())).collect();
    assert!(c.set_many(items.clone()).send().unwrap().is_empty());
    let got = c.get_many(items.iter().map(|(k, _)| k)).unwrap();
    assert_eq!(got.len(), 40);
    // Both servers hold some of the keys.
    for server in &servers {
        let one = Client::connect(&server.address).unwrap();
        let held = one.get_many(items.iter().map(|(k, _)| k)).unwrap().len();
        assert!(held > 0 && held < 40, "{held} on {}", server.address);
    }
    // A backend built by an async step: block_on serves it.
    let connection = blocking::block_on(memclient::Connection::connect(
        &servers[0].address.parse().unwrap(),
        memclient::smol::Smol,
        ConnectionOptions::default(),
    ))
    .unwrap();
    let direct = Client::new(memclient::Client::new(connection));
    assert!(direct.version().is_ok());
}

/// TLS through the blocking client: the same `Config`, verified against the
/// test CA, served by `memcached -Z`.
#[cfg(feature = "tls")]
#[test]
fn over_verified_tls() {
    use memclient::tls::{Roots, TlsConfig};
    use support::pki::Pki;

    let server = Memcached::start_tls(&[]);
    let tls = TlsConfig::new()
        .roots(Roots::None)
        .add_ca_pem(&Pki::shared().ca_pem)
        .expect("the test CA parses");
    let c = Client::connect_with(Config::new(server.tls_address()).tls(tls)).unwrap();
    assert!(c.set("k", "over tls").send().unwrap());
    assert_eq!(text(c.get("k").unwrap()), Some("over tls".to_string()));

    // Without the CA the handshake is refused, with the TLS error.
    let refused = Client::connect_with(
        Config::new(server.tls_address()).tls(TlsConfig::new().roots(Roots::None)),
    );
    assert!(matches!(refused, Err(Error::Tls { .. })), "{refused:?}");
}
