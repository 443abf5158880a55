//! TLS against memcached 1.6.18 started with `-Z` and certificates made by
//! the test (rcgen): the commands over a verified session, each refusal with
//! its reason, mutual TLS, a pool, a cluster, and the mock's TLS server. Run
//! on each runtime adapter (see the `rt` module of the including test).

use std::net::TcpListener;
use std::time::Duration;

use bytes::Bytes;
use memclient::serde::CacheValue;
use memclient::tls::{Roots, TlsConfig};
use memclient::{
    CasOutcome, Client, Cluster, ClusterOptions, Config, Connection, ConnectionOptions, Error,
    PoolOptions, Result, TlsReason,
};
use memclient_mock::MockMemcache;

use crate::rt;
use crate::support::pki::Pki;
use crate::support::Memcached;

/// Trusts the test CA only.
fn trusted() -> TlsConfig {
    TlsConfig::new()
        .roots(Roots::None)
        .add_ca_pem(&Pki::shared().ca_pem)
        .expect("the test CA parses")
}

/// With a certificate the mutual-TLS server accepts.
fn with_client_cert() -> TlsConfig {
    let pki = Pki::shared();
    trusted()
        .client_cert_pem(&pki.client_cert_pem, &pki.client_key_pem)
        .expect("the client certificate parses")
}

fn config(address: &str, tls: TlsConfig) -> Config {
    Config::new(address)
        .tls(tls)
        .connect_timeout(Duration::from_secs(3))
        .timeout(Duration::from_secs(3))
}

/// Connects, then makes one call: a server that refuses the client's
/// certificate after a TLS 1.3 handshake says so on the first call.
async fn connect_and_call(config: Config) -> Result<()> {
    let client = rt::connect(config).await?;
    client.version().await.map(drop)
}

fn tls_failure(result: Result<()>) -> (String, TlsReason) {
    match result {
        Err(Error::Tls { server, reason }) => (server, reason),
        other => panic!("expected a TLS error, got {other:?}"),
    }
}

fn text(value: Option<CacheValue>) -> Option<String> {
    value.and_then(|v| v.as_str().map(str::to_string))
}

#[test]
fn verified_tls_runs_every_kind_of_command() {
    let server = Memcached::start_tls(&[]);
    rt::block_on(async {
        let c = rt::connect(config(&server.tls_address(), trusted()))
            .await
            .expect("a verified TLS connection");
        assert_eq!(c.version().await.unwrap(), "1.6.18");
        assert_eq!(c.get("a").await.unwrap(), None);
        assert!(c.set("a", "1").await.unwrap());
        assert!(!c.add("a", "2").await.unwrap());
        assert!(c.replace("a", "3").await.unwrap());
        assert!(c.append("a", "4").await.unwrap());
        assert!(c.prepend("a", "0").await.unwrap());
        assert_eq!(text(c.get("a").await.unwrap()), Some("034".into()));
        let (_, token) = c.gets("a").await.unwrap().expect("hit");
        assert_eq!(c.cas("a", "5", token).await.unwrap(), CasOutcome::Stored);
        assert_eq!(c.cas("a", "6", token).await.unwrap(), CasOutcome::Exists);
        assert!(c.touch("a", Duration::from_secs(100)).await.unwrap());
        c.set("n", 10i64).await.unwrap();
        assert_eq!(c.incr("n", 5).await.unwrap(), Some(15));
        assert_eq!(c.decr("n", 20).await.unwrap(), Some(0));
        // A value larger than one TLS record (16 KiB) crosses many records.
        let big = Bytes::from(vec![b'x'; 500_000]);
        c.set("big", big.clone()).await.unwrap();
        assert_eq!(c.get("big").await.unwrap(), Some(CacheValue::Bytes(big)));
        let items: Vec<(String, String)> = (0..50)
            .map(|i| (format!("k{i}"), format!("v{i}")))
            .collect();
        assert!(c.set_many(items.clone()).await.unwrap().is_empty());
        let got = c.get_many(items.iter().map(|(k, _)| k)).await.unwrap();
        assert_eq!(got.len(), 50);
        assert_eq!(got[&b"k7"[..]].as_str(), Some("v7"));
        assert!(c.set("quiet", "q").noreply(true).await.unwrap());
        assert_eq!(text(c.get("quiet").await.unwrap()), Some("q".into()));
        let item = c.meta_get("a").cas().await.unwrap().expect("meta hit");
        assert_eq!(
            item.value.and_then(|v| v.as_str().map(str::to_string)),
            Some("5".into())
        );
        assert!(c.delete("a").await.unwrap());
        let stats = c.stats(Vec::<&str>::new()).await.unwrap();
        assert!(stats.contains_key("curr_items"), "{stats:?}");
        c.flush_all().await.unwrap();
        assert_eq!(c.get("n").await.unwrap(), None);
        // Many tasks at once on the one pipelined TLS connection.
        let calls = (0..64).map(|i| {
            let c = &c;
            async move {
                c.set(format!("p{i}"), format!("{i}")).await.unwrap();
                text(c.get(format!("p{i}")).await.unwrap())
            }
        });
        let answers = futures_util::future::join_all(calls).await;
        for (i, answer) in answers.into_iter().enumerate() {
            assert_eq!(answer, Some(i.to_string()));
        }
    });
}

#[test]
fn settings_alone_turn_tls_on_and_ca_files_load() {
    let server = Memcached::start_tls(&[]);
    let tls = TlsConfig::new()
        .roots(Roots::None)
        .add_ca_pem_file(&Pki::shared().ca_file)
        .unwrap();
    // A plain `host:port` address with TLS settings speaks TLS.
    rt::block_on(connect_and_call(config(&server.address, tls))).expect("TLS by settings");
}

#[test]
fn a_caller_supplied_rustls_config_is_used_as_it_is() {
    use memclient::tls::rustls;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;

    let server = Memcached::start_tls(&[]);
    let mut roots = rustls::RootCertStore::empty();
    let ca = CertificateDer::from_pem_slice(Pki::shared().ca_pem.as_bytes()).unwrap();
    roots.add(ca).unwrap();
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let own = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tls = TlsConfig::from_rustls(std::sync::Arc::new(own));
    rt::block_on(connect_and_call(config(&server.address, tls))).expect("own rustls config");
    // Its roots, not the platform's: an empty store refuses the server.
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let empty = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    let (_, reason) = tls_failure(rt::block_on(connect_and_call(config(
        &server.address,
        TlsConfig::from_rustls(std::sync::Arc::new(empty)),
    ))));
    assert_eq!(reason, TlsReason::UnknownIssuer);
}

#[test]
fn a_stream_of_your_own_over_tls() {
    let server = Memcached::start_tls(&[]);
    rt::block_on(async {
        let socket = async_net::TcpStream::connect(&server.address)
            .await
            .unwrap();
        let session = memclient::tls::connect(socket, &trusted(), "127.0.0.1")
            .await
            .expect("a handshake over a socket of our own");
        let (connection, driver) = Connection::from_stream(session);
        let _driver = rt::spawn(driver);
        let c = Client::new(connection);
        assert!(c.set("k", "v").await.unwrap());
        assert_eq!(text(c.get("k").await.unwrap()), Some("v".into()));

        let other = TlsConfig::new()
            .roots(Roots::None)
            .add_ca_pem(&Pki::shared().other_ca_pem)
            .unwrap();
        let socket = async_net::TcpStream::connect(&server.address)
            .await
            .unwrap();
        let refused = memclient::tls::connect(socket, &other, "127.0.0.1").await;
        let error = Error::from(refused.unwrap_err());
        assert_eq!(
            error,
            Error::Tls {
                server: "127.0.0.1".into(),
                reason: TlsReason::UnknownIssuer
            }
        );
    });
}

#[test]
fn an_unknown_ca_is_refused() {
    let server = Memcached::start_tls(&[]);
    let other = TlsConfig::new()
        .roots(Roots::None)
        .add_ca_pem(&Pki::shared().other_ca_pem)
        .unwrap();
    let (named, reason) = tls_failure(rt::block_on(connect_and_call(config(
        &server.tls_address(),
        other,
    ))));
    assert_eq!(named, server.address);
    assert_eq!(reason, TlsReason::UnknownIssuer);
    // The bundled roots do not know a private CA either.
    let bundled = TlsConfig::new().roots(Roots::Bundled);
    let (_, reason) = tls_failure(rt::block_on(connect_and_call(config(
        &server.address,
        bundled,
    ))));
    assert_eq!(reason, TlsReason::UnknownIssuer);
}

#[test]
fn a_wrong_name_is_refused_and_the_right_one_is_accepted() {
    let server = Memcached::start_tls(&[]);
    let wrong = trusted().server_name("cache.example").unwrap();
    let (named, reason) = tls_failure(rt::block_on(connect_and_call(config(
        &server.address,
        wrong,
    ))));
    assert_eq!(named, server.address);
    assert_eq!(
        reason,
        TlsReason::NameMismatch {
            expected: "cache.example".into()
        }
    );
    // The certificate names localhost: an IP address with that server name passes.
    let right = trusted().server_name("localhost").unwrap();
    rt::block_on(connect_and_call(config(&server.address, right))).expect("SNI override");
    let message = Error::Tls {
        server: server.address.clone(),
        reason: TlsReason::NameMismatch {
            expected: "cache.example".into(),
        },
    }
    .to_string();
    assert!(message.contains(&server.address) && message.contains("cache.example"));
}

#[test]
fn a_plaintext_server_is_refused_as_not_tls() {
    let server = Memcached::start();
    let (named, reason) = tls_failure(rt::block_on(connect_and_call(config(
        &server.tls_address(),
        trusted(),
    ))));
    assert_eq!(named, server.address);
    assert_eq!(reason, TlsReason::NotTls);
}

#[test]
fn danger_accept_invalid_certs_skips_verification() {
    let server = Memcached::start_tls(&[]);
    let blind = TlsConfig::new()
        .roots(Roots::None)
        .danger_accept_invalid_certs(true);
    rt::block_on(connect_and_call(config(&server.address, blind))).expect("unverified TLS");
}

#[test]
fn mutual_tls_needs_the_client_certificate() {
    let pki = Pki::shared();
    let verify = format!("ssl_verify_mode=2,ssl_ca_cert={}", pki.ca_file.display());
    let server = Memcached::start_tls(&["-o", &verify]);
    rt::block_on(async {
        let c = rt::connect(config(&server.tls_address(), with_client_cert()))
            .await
            .expect("mutual TLS");
        assert!(c.set("k", "v").await.unwrap());
        assert_eq!(text(c.get("k").await.unwrap()), Some("v".into()));
    });
    let (named, reason) = tls_failure(rt::block_on(connect_and_call(config(
        &server.tls_address(),
        trusted(),
    ))));
    assert_eq!(named, server.address);
    assert_eq!(reason, TlsReason::ClientCertificateRequired);
}

#[test]
fn a_pool_of_tls_connections() {
    let server = Memcached::start_tls(&[]);
    rt::block_on(async {
        let pool = rt::connect_pool(
            config(&server.tls_address(), trusted()),
            PoolOptions::new().max_size(4).max_in_flight(2),
        )
        .unwrap();
        let calls = (0..32).map(|i| {
            let pool = &pool;
            async move {
                pool.set(format!("k{i}"), format!("{i}")).await.unwrap();
                text(pool.get(format!("k{i}")).await.unwrap())
            }
        });
        let answers = futures_util::future::join_all(calls).await;
        for (i, answer) in answers.into_iter().enumerate() {
            assert_eq!(answer, Some(i.to_string()));
        }
        assert!(pool.backend().size() > 1, "the pool opened several sockets");
    });
}

#[test]
fn a_cluster_of_tls_servers_and_a_mixed_one() {
    let servers: Vec<Memcached> = (0..2).map(|_| Memcached::start_tls(&[])).collect();
    let plain = Memcached::start();
    rt::block_on(async {
        let mut options = ConnectionOptions::default();
        options.timeout = Some(Duration::from_secs(3));
        options.socket.tls = Some(trusted());
        let addresses: Vec<String> = servers.iter().map(Memcached::tls_address).collect();
        let cluster = Cluster::open(
            &addresses,
            rt::transport(),
            options.clone(),
            ClusterOptions::default(),
        )
        .unwrap();
        // Nodes are named without the scheme: TLS moves no key.
        let names: Vec<String> = servers.iter().map(|s| s.address.clone()).collect();
        assert_eq!(cluster.node_names(), names);
        let client = Client::new(cluster);
        for i in 0..40 {
            client.set(format!("k{i}"), format!("{i}")).await.unwrap();
        }
        let keys: Vec<String> = (0..40).map(|i| format!("k{i}")).collect();
        assert_eq!(client.get_many(&keys).await.unwrap().len(), 40);
        // Every node holds some of the keys, each over its own TLS session.
        for server in &servers {
            let direct = rt::connect(config(&server.address, trusted()))
                .await
                .unwrap();
            let items = direct.stats(Vec::<&str>::new()).await.unwrap()["curr_items"].as_int();
            assert!(items.unwrap_or(0) > 0, "{}: {items:?}", server.address);
        }

        // TLS per node: one TLS node, one plain node, in one cluster.
        let mixed: Cluster<Connection> = Cluster::new(ClusterOptions::default());
        mixed
            .add_address(&servers[0].address, rt::transport(), options.clone())
            .unwrap();
        let mut plain_options = options;
        plain_options.socket.tls = None;
        mixed
            .add_address(&plain.address, rt::transport(), plain_options)
            .unwrap();
        let client = Client::new(mixed);
        for i in 0..20 {
            client.set(format!("m{i}"), "x").await.unwrap();
        }
        let keys: Vec<String> = (0..20).map(|i| format!("m{i}")).collect();
        assert_eq!(client.get_many(&keys).await.unwrap().len(), 20);
    });
}

#[test]
fn the_mock_serves_tls() {
    let pki = Pki::shared();
    let mock = MockMemcache::new();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let tls = memclient_mock::tls_server_config(
        pki.server_cert_pem.as_bytes(),
        pki.server_key_pem.as_bytes(),
    )
    .unwrap();
    let _server = mock.serve_tls(listener, tls).unwrap();
    rt::block_on(async {
        let c = rt::connect(config(&format!("tls://{address}"), trusted()))
            .await
            .expect("TLS to the mock");
        assert!(c.set("k", "v").await.unwrap());
        assert_eq!(text(c.get("k").await.unwrap()), Some("v".into()));
        let big = Bytes::from(vec![7u8; 200_000]);
        c.set("big", big.clone()).await.unwrap();
        assert_eq!(c.get("big").await.unwrap(), Some(CacheValue::Bytes(big)));
    });
    // Stored as text (flag 16), as pymemcache stores a str.
    assert_eq!(mock.get_raw(b"k"), Some((Bytes::from_static(b"v"), 16)));
    // And it refuses a client that does not trust it.
    let other = TlsConfig::new()
        .roots(Roots::None)
        .add_ca_pem(&pki.other_ca_pem)
        .unwrap();
    let (_, reason) = tls_failure(rt::block_on(connect_and_call(config(
        &format!("tls://{address}"),
        other,
    ))));
    assert_eq!(reason, TlsReason::UnknownIssuer);
}

/// memcached 1.6.18 stalls on a pipelined batch of writes over 16 KiB when a
/// TLS record ends inside a data block (see `proto::frames`): the client ends
/// its records at request boundaries, so batches of any size go through.
#[test]
fn large_pipelined_batches_over_tls() {
    let server = Memcached::start_tls(&[]);
    rt::block_on(async {
        let c = rt::connect(config(&server.tls_address(), trusted()))
            .await
            .unwrap();
        // Values of many sizes, so data blocks fall across every boundary.
        let items: Vec<(String, String)> = (0..1500)
            .map(|i| (format!("k{i}"), "v".repeat(1 + i * 37 % 3000)))
            .collect();
        assert!(c.set_many(items.clone()).await.unwrap().is_empty());
        let keys: Vec<String> = items.iter().map(|(k, _)| k.clone()).collect();
        let got = c.get_many(&keys).await.unwrap();
        assert_eq!(got.len(), items.len());
        for (key, value) in &items {
            assert_eq!(got[key.as_bytes()].as_str(), Some(value.as_str()));
        }
        // Concurrent callers' writes batched together by the driver.
        let calls = (0..64).map(|i| {
            let c = &c;
            async move { c.set(format!("t{i}"), "w".repeat(2000 + i)).await }
        });
        for stored in futures_util::future::join_all(calls).await {
            assert!(stored.unwrap());
        }
    });
}
