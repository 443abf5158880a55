//! A client's life: lazy start while the server is down, `close()` on every
//! backend, and errors that name their server. Run on each runtime adapter
//! (see the `rt` module of the including test).

use std::io;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use memclient::{Client, Cluster, ClusterOptions, Config, ConnectionOptions, Error, PoolOptions};

use crate::rt;
use crate::support::Memcached;

fn quick(address: &str) -> Config {
    Config::new(address)
        .connect_timeout(Duration::from_millis(500))
        .timeout(Duration::from_secs(2))
}

/// A port on 127.0.0.1 that nothing listens on (for now).
fn dead_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Counts a server's open connections through one connection of its own
/// (kept open, so no earlier probe is still closing when it counts).
struct Probe(rt::TestClient);

impl Probe {
    async fn new(server: &Memcached) -> Probe {
        Probe(rt::connect(quick(&server.address)).await.unwrap())
    }

    /// `curr_connections`: the listening socket and the probe included, so
    /// compare counts taken the same way.
    async fn count(&self) -> i64 {
        let stats = self.0.stats(Vec::<&str>::new()).await.unwrap();
        stats["curr_connections"]
            .as_int()
            .expect("curr_connections")
    }

    /// The count once it stops changing (a connection the server start
    /// probed with may still be closing).
    async fn settled(&self) -> i64 {
        let mut last = self.count().await;
        for _ in 0..100 {
            rt::sleep(Duration::from_millis(30)).await;
            let now = self.count().await;
            if now == last {
                return now;
            }
            last = now;
        }
        last
    }

    /// Waits until the count is `expected`.
    async fn await_count(&self, expected: i64) {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let now = self.count().await;
            if now == expected {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{now} connections, expected {expected}"
            );
            rt::sleep(Duration::from_millis(20)).await;
        }
    }
}

#[test]
fn a_lazy_client_starts_while_its_server_is_down() {
    let port = dead_port();
    let address = format!("127.0.0.1:{port}");
    rt::block_on(async {
        let c = rt::connect(quick(&address).lazy(true).errors_as_misses(true))
            .await
            .expect("a lazy client is built without its server");
        assert_eq!(c.get("k").await.unwrap(), None, "reads are misses");
        assert!(c.get_many(["k", "j"]).await.unwrap().is_empty());
        let write = c.set("k", "v").await.unwrap_err();
        assert!(write.to_string().contains(&address), "{write}");
    });
    let server = Memcached::start_on(port);
    rt::block_on(async {
        let c = rt::connect(quick(&server.address).lazy(true))
            .await
            .unwrap();
        assert!(c.set("k", "v").await.unwrap());
        assert!(c.get("k").await.unwrap().is_some());
    });
}

#[test]
fn connect_errors_name_the_server() {
    let address = format!("127.0.0.1:{}", dead_port());
    let err = rt::block_on(rt::connect(quick(&address))).unwrap_err();
    match &err {
        Error::Io(io) => assert_eq!(io.kind(), io::ErrorKind::ConnectionRefused),
        other => panic!("expected an I/O error, got {other:?}"),
    }
    assert!(err.to_string().contains(&address), "{err}");
    // Through a cluster, the node's error names it too.
    rt::block_on(async {
        let mut options = ConnectionOptions::default();
        options.connect_timeout = Some(Duration::from_millis(500));
        let cluster = Cluster::open(
            [address.as_str()],
            rt::transport(),
            options,
            ClusterOptions::default(),
        )
        .unwrap();
        let err = Client::new(cluster).set("k", "v").await.unwrap_err();
        assert!(err.to_string().contains(&address), "{err}");
    });
}

#[test]
fn close_closes_the_socket_and_later_calls_fail_clearly() {
    let server = Memcached::start();
    rt::block_on(async {
        let probe = Probe::new(&server).await;
        let before = probe.settled().await;
        let c = rt::connect(quick(&server.address)).await.unwrap();
        let lenient = rt::connect(quick(&server.address).errors_as_misses(true))
            .await
            .unwrap();
        assert!(c.set("k", "v").await.unwrap());
        assert!(lenient.get("k").await.unwrap().is_some());
        probe.await_count(before + 2).await;
        c.close().await;
        lenient.close().await;
        probe.await_count(before).await;
        assert_eq!(c.get("k").await.unwrap_err(), Error::Closed);
        assert_eq!(c.set("k", "v").await.unwrap_err(), Error::Closed);
        // Not a miss, even for a client that ignores errors.
        assert_eq!(lenient.get("k").await.unwrap_err(), Error::Closed);
        // Still closed later: no reconnect.
        rt::sleep(Duration::from_millis(50)).await;
        assert_eq!(c.get("k").await.unwrap_err(), Error::Closed);
        assert_eq!(probe.count().await, before);
    });
}

#[test]
fn close_fails_a_call_in_flight() {
    // A server that accepts and never answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    rt::block_on(async {
        let c = rt::connect(Config::new(&address).timeout(Duration::from_secs(30)))
            .await
            .unwrap();
        let (pending, ()) = futures_util::future::join(c.get("k"), async {
            rt::sleep(Duration::from_millis(50)).await;
            c.close().await;
        })
        .await;
        let err = pending.unwrap_err();
        assert!(
            matches!(err, Error::ConnectionClosed | Error::Closed),
            "{err:?}"
        );
        assert_eq!(c.get("k").await.unwrap_err(), Error::Closed);
    });
    drop(listener);
}

#[test]
fn close_on_a_pool_and_a_cluster() {
    let servers = [Memcached::start(), Memcached::start()];
    rt::block_on(async {
        let mut probes = Vec::new();
        let mut before = Vec::new();
        for server in &servers {
            let probe = Probe::new(server).await;
            before.push(probe.settled().await);
            probes.push(probe);
        }
        let pool = rt::connect_pool(quick(&servers[0].address), PoolOptions::new()).unwrap();
        let calls =
            (0..8).map(|i| std::future::IntoFuture::into_future(pool.set(format!("k{i}"), "v")));
        for stored in futures_util::future::join_all(calls).await {
            assert!(stored.unwrap());
        }
        pool.close().await;
        assert!(pool.backend().is_closed());
        assert_eq!(pool.get("k1").await.unwrap_err(), Error::Closed);
        assert_eq!(pool.backend().size(), 0);

        let cluster = Cluster::open(
            servers.iter().map(|s| s.address.as_str()),
            rt::transport(),
            ConnectionOptions::default(),
            ClusterOptions::default().errors_as_misses(true),
        )
        .unwrap();
        let client = Client::new(cluster);
        assert!(client.set("k", "v").await.unwrap());
        client.close().await;
        // Not a miss, although the cluster turns node errors into misses.
        assert_eq!(client.get("k").await.unwrap_err(), Error::Closed);
        assert_eq!(
            client.get_many(["k", "j"]).await.unwrap_err(),
            Error::Closed
        );
        for (probe, before) in probes.iter().zip(before) {
            probe.await_count(before).await;
        }
    });
}
