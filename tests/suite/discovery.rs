//! Discovery and health: a cluster following ElastiCache's `config get
//! cluster` (answered by the mock), DNS and static lists; only the keys the
//! hashing says move; dead nodes probed back in the background. Run on each
//! runtime adapter (see the `rt` module of the including test).

use std::collections::HashMap;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use crate::rt;
use crate::support::Memcached;
use memclient::cluster::{Dns, ElastiCache, Srv, StaticNodes};
use memclient::proto::config::{ClusterConfig, ConfigNode};
use memclient::{
    Client, Cluster, ClusterOptions, ConnectionOptions, Error, Hashing, NodeSpec, NodeStatus, Pool,
    PoolOptions,
};
use memclient_mock::{MockMemcache, ServerHandle};

fn pool(node: &NodeSpec) -> Pool {
    let mut connection = ConnectionOptions::default();
    connection.timeout = Some(Duration::from_millis(500));
    connection.connect_timeout = Some(Duration::from_millis(500));
    Pool::connect_to(
        node.address(),
        rt::transport(),
        connection,
        PoolOptions::default(),
    )
}

fn node(server: &Memcached) -> ConfigNode {
    ConfigNode {
        host: format!("node-{}.example", server.port),
        ip: Some("127.0.0.1".into()),
        port: server.port,
    }
}

/// A mock serving `config get cluster` on a free port.
fn endpoint() -> (MockMemcache, ServerHandle, String) {
    let mock = MockMemcache::new();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let handle = mock.serve_tcp(listener).unwrap();
    (mock, handle, address)
}

fn names(cluster: &Cluster<Pool>) -> Vec<String> {
    let mut names = cluster.node_names();
    names.sort();
    names
}

#[test]
fn elasticache_nodes_follow_the_configuration_version() {
    let servers = [Memcached::start(), Memcached::start(), Memcached::start()];
    let (mock, _handle, address) = endpoint();
    let source = ElastiCache::new(&address, rt::transport()).unwrap();
    let cluster = Cluster::new(ClusterOptions::default());
    rt::block_on(async {
        // No configuration yet: the mock answers ERROR, as memcached does.
        assert!(matches!(
            source.fetch().await,
            Err(Error::UnknownCommand(_))
        ));
        assert!(cluster.discover_once(&source, pool).await.is_err());

        assert_eq!(
            mock.set_cluster_nodes([node(&servers[0]), node(&servers[1])]),
            1
        );
        let changes = cluster.discover_once(&source, pool).await.unwrap();
        assert_eq!(changes.added.len(), 2);
        assert_eq!(source.version(), 1);
        let client = Client::new(cluster.clone());
        for i in 0..20 {
            assert!(client.set(format!("k{i}"), "v").await.unwrap());
        }

        // Version 2: one node replaced by another.
        mock.set_cluster_nodes([node(&servers[1]), node(&servers[2])]);
        let changes = cluster.discover_once(&source, pool).await.unwrap();
        assert_eq!(changes.added, [servers[2].address.clone()]);
        assert_eq!(changes.removed, [servers[0].address.clone()]);
        let mut expected = vec![servers[1].address.clone(), servers[2].address.clone()];
        expected.sort();
        assert_eq!(names(&cluster), expected);
        // Calls reach the new node list.
        for i in 0..20 {
            assert!(client.set(format!("k{i}"), "w").await.unwrap());
        }

        // A lagging endpoint with an older version changes nothing.
        mock.set_cluster_config(Some(ClusterConfig {
            version: 1,
            nodes: vec![node(&servers[0])],
        }));
        assert!(cluster
            .discover_once(&source, pool)
            .await
            .unwrap()
            .is_empty());
        assert_eq!(names(&cluster).len(), 2);
        assert_eq!(source.version(), 2);
    });
}

#[test]
fn a_real_memcached_is_not_a_configuration_endpoint() {
    let server = Memcached::start();
    let source = ElastiCache::new(&server.address, rt::transport()).unwrap();
    assert!(matches!(
        rt::block_on(source.fetch()),
        Err(Error::UnknownCommand(_))
    ));
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let source = ElastiCache::new(&silent.local_addr().unwrap().to_string(), rt::transport())
        .unwrap()
        .timeout(Duration::from_millis(100));
    assert!(matches!(
        rt::block_on(source.fetch()),
        Err(Error::Timeout(_))
    ));
}

#[test]
fn follow_applies_changes_in_the_background() {
    let servers = [Memcached::start(), Memcached::start()];
    let (mock, _handle, address) = endpoint();
    mock.set_cluster_nodes([node(&servers[0])]);
    let cluster = Cluster::new(ClusterOptions::default());
    let source = ElastiCache::new(&address, rt::transport()).unwrap();
    let following = cluster.follow(source, rt::transport(), Duration::from_millis(20), pool);
    let wait_for = |want: usize| {
        let deadline = Instant::now() + Duration::from_secs(10);
        while cluster.node_names().len() != want && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        cluster.node_names().len()
    };
    assert_eq!(wait_for(1), 1);
    mock.set_cluster_nodes([node(&servers[0]), node(&servers[1])]);
    assert_eq!(wait_for(2), 2);
    drop(following);
    // Stopped: later changes are not applied.
    std::thread::sleep(Duration::from_millis(100));
    mock.set_cluster_nodes([node(&servers[1])]);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(cluster.node_names().len(), 2);
}

#[test]
fn dns_and_static_sources() {
    let server = Memcached::start();
    let cluster = Cluster::new(ClusterOptions::default());
    rt::block_on(async {
        let dns = Dns::new("localhost", server.port);
        let changes = cluster.discover_once(&dns, pool).await.unwrap();
        // localhost is 127.0.0.1 (and ::1 where /etc/hosts says so).
        assert!(
            changes.added.contains(&server.address),
            "{changes:?} should name {}",
            server.address
        );
        let fixed = StaticNodes::parse([server.address.as_str()]).unwrap();
        cluster.discover_once(&fixed, pool).await.unwrap();
        assert_eq!(cluster.node_names(), std::slice::from_ref(&server.address));
        let client = Client::new(cluster.clone());
        assert!(client.set("k", "v").await.unwrap());
        assert!(Dns::new("no-such-host.invalid", 1).resolve().is_err());
        assert!(cluster
            .discover_once(&StaticNodes(vec![]), pool)
            .await
            .is_err());
        assert_eq!(
            cluster.node_names().len(),
            1,
            "an empty list keeps the nodes"
        );
    });
}

/// Where each of `keys` lives.
fn placement(cluster: &Cluster<MockMemcache>, keys: &[String]) -> HashMap<String, String> {
    keys.iter()
        .map(|key| (key.clone(), cluster.locate(key.as_bytes()).unwrap()))
        .collect()
}

#[test]
fn a_node_change_moves_only_the_keys_the_hashing_says() {
    let keys: Vec<String> = (0..10_000).map(|i| format!("user:{i}")).collect();
    for hashing in [Hashing::default(), Hashing::ketama()] {
        let cluster = Cluster::new(ClusterOptions::default().hashing(hashing.clone()));
        let four = StaticNodes::parse((1..=4).map(|i| format!("10.0.0.{i}:11211"))).unwrap();
        cluster.set_nodes(&four.0, |_| MockMemcache::new()).unwrap();
        let before = placement(&cluster, &keys);

        // A fifth node: keys move only onto it, about a fifth of them.
        let five = StaticNodes::parse((1..=5).map(|i| format!("10.0.0.{i}:11211"))).unwrap();
        let changes = cluster.set_nodes(&five.0, |_| MockMemcache::new()).unwrap();
        assert_eq!(changes.added, ["10.0.0.5:11211"]);
        let after = placement(&cluster, &keys);
        let moved: Vec<&String> = keys.iter().filter(|k| before[*k] != after[*k]).collect();
        assert!(
            moved.iter().all(|k| after[*k] == "10.0.0.5:11211"),
            "{hashing:?}: a key moved between old nodes"
        );
        let share = moved.len() as f64 / keys.len() as f64;
        assert!((0.12..0.28).contains(&share), "{hashing:?}: {share} moved");

        // Removing a node: only its keys move.
        let without_two: Vec<NodeSpec> = five
            .0
            .iter()
            .filter(|n| n.name() != "10.0.0.2:11211")
            .cloned()
            .collect();
        let changes = cluster
            .set_nodes(&without_two, |_| MockMemcache::new())
            .unwrap();
        assert_eq!(changes.removed, ["10.0.0.2:11211"]);
        let last = placement(&cluster, &keys);
        for key in &keys {
            if after[key] != "10.0.0.2:11211" {
                assert_eq!(after[key], last[key], "{hashing:?}: {key} moved");
            }
        }
    }
}

#[test]
fn a_dead_node_is_probed_back_in_the_background() {
    let a = Memcached::start();
    let b = Memcached::start();
    let port = a.port;
    let options = ClusterOptions::default()
        .probes_before_dead(0)
        .probe_interval(Duration::from_millis(50))
        .dead_timeout(Duration::from_millis(200));
    let cluster = Cluster::new(options);
    let nodes = StaticNodes::parse([a.address.as_str(), b.address.as_str()]).unwrap();
    rt::block_on(async { cluster.set_nodes(&nodes.0, pool) }).unwrap();
    let client = Client::new(cluster.clone());
    let key = (0..100)
        .map(|i| format!("key{i}"))
        .find(|k| cluster.locate(k.as_bytes()).as_deref() == Some(a.address.as_str()))
        .unwrap();
    a.kill();
    rt::block_on(async {
        assert!(client.set(&key, "v").await.is_err());
    });
    let status = |name: &str| {
        cluster
            .status()
            .into_iter()
            .find(|(n, _)| n == name)
            .unwrap()
            .1
    };
    let name = format!("127.0.0.1:{port}");
    assert!(matches!(status(&name), NodeStatus::Dead { .. }));

    let _a = Memcached::start_on(port);
    let _probing = cluster.probe_in_background(rt::transport(), Duration::from_millis(50));
    // No call of ours goes to the node: the probe brings it back.
    let deadline = Instant::now() + Duration::from_secs(10);
    while status(&name) != NodeStatus::Healthy && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(status(&name), NodeStatus::Healthy);
    rt::block_on(async {
        assert!(client.set(&key, "v").await.unwrap());
    });
}

/// A DNS name in wire form, written out by hand (RFC 1035 3.1).
fn dns_name(name: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for label in name.split('.') {
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    out
}

/// An SRV answer record for the question's name (pointer to offset 12).
fn srv_record(priority: u16, weight: u16, port: u16, target: &[u8]) -> Vec<u8> {
    let mut data = Vec::new();
    for n in [priority, weight, port] {
        data.extend_from_slice(&n.to_be_bytes());
    }
    data.extend_from_slice(target);
    let mut out = vec![0xc0, 12, 0, 33, 0, 1, 0, 0, 0, 60];
    out.extend_from_slice(&(data.len() as u16).to_be_bytes());
    out.extend_from_slice(&data);
    out
}

/// A name server on 127.0.0.1 that answers one query with `answer(query)`.
fn name_server(answer: impl FnOnce(&[u8]) -> Vec<u8> + Send + 'static) -> std::net::SocketAddr {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let address = socket.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        let (len, from) = socket.recv_from(&mut buf).unwrap();
        socket.send_to(&answer(&buf[..len]), from).unwrap();
    });
    address
}

#[test]
fn srv_targets_of_the_lowest_priority_become_nodes() {
    let (a, b) = (Memcached::start(), Memcached::start());
    let (port_a, port_b) = (a.port, b.port);
    let server = name_server(move |query| {
        let question = &query[12..];
        let mut reply = query[..2].to_vec();
        // Answer, recursion available, no error; 1 question, 3 answers, 1 additional.
        reply.extend_from_slice(&[0x81, 0x80, 0, 1, 0, 3, 0, 0, 0, 1]);
        reply.extend_from_slice(question);
        reply.extend(srv_record(10, 1, port_a, &dns_name("localhost")));
        // The target's name, where the additional record will point to it.
        let b_name_at = reply.len() + 12 + 6;
        reply.extend(srv_record(10, 5, port_b, &dns_name("b.test")));
        reply.extend(srv_record(20, 1, 1, &dns_name("backup.test")));
        reply.extend_from_slice(&[0xc0 | (b_name_at >> 8) as u8, b_name_at as u8]);
        reply.extend_from_slice(&[0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1]);
        reply
    });
    let nodes = Srv::new("_memcache._tcp.cache.test")
        .server(server)
        .resolve()
        .unwrap();
    let found: Vec<(String, u32)> = nodes
        .iter()
        .map(|n| (n.name().to_string(), n.weight()))
        .collect();
    assert!(found.contains(&(a.address.clone(), 1)), "{found:?}");
    assert!(found.contains(&(b.address.clone(), 5)), "{found:?}");
    assert!(
        !found.iter().any(|(name, _)| name.ends_with(":1")),
        "priority 20 is a backup: {found:?}"
    );

    // As a cluster's source.
    let server = name_server(move |query| {
        let mut reply = query[..2].to_vec();
        reply.extend_from_slice(&[0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]);
        reply.extend_from_slice(&query[12..]);
        reply.extend(srv_record(0, 0, port_b, &dns_name("127.0.0.1")));
        reply
    });
    let cluster = Cluster::new(ClusterOptions::default());
    rt::block_on(async {
        let srv = Srv::new("_memcache._tcp.cache.test").server(server);
        let changes = cluster.discover_once(&srv, pool).await.unwrap();
        assert_eq!(changes.added, std::slice::from_ref(&b.address));
        let client = Client::new(cluster.clone());
        assert!(client.set("k", "v").await.unwrap());
    });

    // No such name, and a server that never answers.
    let server = name_server(|query| {
        let mut reply = query.to_vec();
        reply[2] = 0x81;
        reply[3] = 0x83;
        reply
    });
    assert!(Srv::new("_memcache._tcp.none.test")
        .server(server)
        .resolve()
        .is_err());
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let srv = Srv::new("_memcache._tcp.cache.test")
        .server(silent.local_addr().unwrap())
        .timeout(Duration::from_millis(100));
    assert!(matches!(srv.resolve(), Err(Error::Timeout(_))));
}
