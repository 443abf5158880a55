//! The cluster against real memcached servers started by the test: placement
//! checked server by server, vectors of our own, a server killed and
//! restarted under load, and a stalled server next to healthy ones. Run on
//! each runtime adapter (see the `rt` module of the including test).

use std::collections::{BTreeMap, BTreeSet};
use std::future::IntoFuture;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use memclient::cluster::KetamaOptions;
use memclient::{
    Backend, Client, Cluster, ClusterOptions, Config, Connection, ConnectionOptions, DeadKeys,
    Hashing, LruCrawler, NodeSpec, NodeStatus, Request, Response,
};

use crate::rt;
use crate::support::Memcached;

type TestCluster = Cluster<Connection>;

fn connection_options() -> ConnectionOptions {
    let mut options = ConnectionOptions::default();
    options.connect_timeout = Some(Duration::from_millis(500));
    options.timeout = Some(Duration::from_millis(500));
    options
}

fn open(addresses: &[String], options: ClusterOptions) -> TestCluster {
    Cluster::open(addresses, rt::transport(), connection_options(), options)
        .expect("addresses parse")
}

fn start(count: usize) -> Vec<Memcached> {
    (0..count).map(|_| Memcached::start()).collect()
}

fn addresses(servers: &[Memcached]) -> Vec<String> {
    servers.iter().map(|s| s.address.clone()).collect()
}

/// A plain single-server client.
async fn direct(address: &str) -> Client<Connection> {
    Config::new(address)
        .timeout(Duration::from_secs(2))
        .connect(rt::transport())
        .await
        .expect("direct connection")
}

fn keys(prefix: &str, count: usize) -> Vec<String> {
    (0..count)
        .map(|i| format!("{prefix}{i}-{}", i * 7919 % 1000))
        .collect()
}

/// Which of `keys` each server holds, by direct gets.
async fn holders(servers: &[String], keys: &[String]) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    for server in servers {
        let client = direct(server).await;
        for chunk in keys.chunks(100) {
            for key in client.get_many(chunk).await.unwrap().keys() {
                let key = String::from_utf8(key.to_vec()).unwrap();
                assert!(
                    found.insert(key.clone(), server.clone()).is_none(),
                    "{key} is on two servers"
                );
            }
        }
    }
    found
}

#[test]
fn placement_matches_the_locator_server_by_server() {
    let servers = start(4);
    let addresses = addresses(&servers);
    let specs: Vec<NodeSpec> = addresses
        .iter()
        .map(|a| NodeSpec::new(a.parse().unwrap()))
        .collect();
    rt::block_on(async {
        for hashing in [Hashing::Rendezvous, Hashing::ketama()] {
            let cluster = open(
                &addresses,
                ClusterOptions::default().hashing(hashing.clone()),
            );
            let client = Client::new(cluster.clone());
            client.flush_all().await.unwrap();
            let keys = keys("place:", 400);
            let missed = client
                .set_many(keys.iter().map(|k| (k.as_str(), k.as_str())))
                .await
                .unwrap();
            assert!(missed.is_empty());
            let found = holders(&addresses, &keys).await;
            assert_eq!(found.len(), keys.len(), "every key on exactly one server");
            let locator = hashing.locator(&specs);
            for key in &keys {
                let index = locator.locate(key.as_bytes()).unwrap();
                assert_eq!(found[key], addresses[index], "{hashing:?}: {key}");
                assert_eq!(cluster.locate(key.as_bytes()).as_ref(), Some(&found[key]));
            }
            // The split read gives every value back, in any order of servers.
            let got = client.get_many(&keys).await.unwrap();
            assert_eq!(got.len(), keys.len());
            // stats per node: the items add up.
            let stats = cluster.call_all(Request::Stats { args: vec![] }).await;
            let items: u64 = stats
                .iter()
                .map(|(_, reply)| curr_items(reply.as_ref().unwrap()))
                .sum();
            assert_eq!(items, keys.len() as u64);
            assert!(
                client.stats(Vec::<&str>::new()).await.is_err(),
                "stats via call"
            );
        }
    });
}

fn curr_items(reply: &Response) -> u64 {
    let Response::Lines(lines) = reply else {
        panic!("stats answered {reply:?}")
    };
    lines
        .iter()
        .find_map(|line| {
            let line = std::str::from_utf8(line).ok()?;
            line.strip_prefix("STAT curr_items ")?.parse().ok()
        })
        .expect("curr_items")
}

/// The keys a server holds, as `lru_crawler metadump` lists them.
async fn metadump(address: &str) -> BTreeSet<String> {
    let client = direct(address).await;
    let lines = client
        .lru_crawler(LruCrawler::Metadump(Bytes::from_static(b"all")))
        .await
        .unwrap();
    lines
        .iter()
        .filter_map(|line| {
            let line = std::str::from_utf8(line).ok()?;
            line.strip_prefix("key=")?
                .split(' ')
                .next()
                .map(str::to_string)
        })
        .collect()
}

#[test]
fn our_own_vectors_for_five_servers() {
    let servers = start(5);
    let addresses = addresses(&servers);
    let specs: Vec<NodeSpec> = addresses
        .iter()
        .map(|a| NodeSpec::new(a.parse().unwrap()))
        .collect();
    let keys = keys("vector_", 300);
    let mut table: BTreeMap<String, Vec<String>> = BTreeMap::new();
    rt::block_on(async {
        for hashing in [
            Hashing::Rendezvous,
            Hashing::ketama(),
            Hashing::Ketama(KetamaOptions::libmemcached_weighted()),
        ] {
            let cluster = open(
                &addresses,
                ClusterOptions::default().hashing(hashing.clone()),
            );
            let client = Client::new(cluster);
            client.flush_all().await.unwrap();
            for key in &keys {
                assert!(client.set(key, "v").await.unwrap());
            }
            // Ask each server what it holds.
            let mut placed = BTreeMap::new();
            for address in &addresses {
                for key in metadump(address).await {
                    assert!(placed.insert(key, address.clone()).is_none());
                }
            }
            assert_eq!(placed.len(), keys.len(), "{hashing:?}");
            assert_eq!(placed, holders(&addresses, &keys).await);
            let locator = hashing.locator(&specs);
            for key in &keys {
                let expected = &addresses[locator.locate(key.as_bytes()).unwrap()];
                assert_eq!(&placed[key], expected, "{hashing:?}: {key}");
                table
                    .entry(key.clone())
                    .or_default()
                    .push(placed[key].clone());
            }
        }
    });
    // Kept beside the build for a look (or for another client to check).
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cluster-vectors.tsv");
    let mut text = String::from("key\trendezvous\tketama\tketama_weighted\n");
    for (key, nodes) in &table {
        text.push_str(&format!("{key}\t{}\n", nodes.join("\t")));
    }
    std::fs::write(path, text).unwrap();
}

/// A workload of concurrent tasks over `keys` until `stop`; each task
/// returns its slowest call.
fn workload(
    client: Arc<Client<TestCluster>>,
    keys: Arc<Vec<String>>,
    stop: Arc<AtomicBool>,
    calls: Arc<AtomicUsize>,
) -> Vec<impl std::future::Future<Output = Duration>> {
    (0..8)
        .map(|task| {
            let (client, keys, stop, calls) =
                (client.clone(), keys.clone(), stop.clone(), calls.clone());
            rt::spawn(async move {
                let mut slowest = Duration::ZERO;
                let mut i = task;
                while !stop.load(Ordering::Relaxed) {
                    i = (i * 31 + 17) % keys.len();
                    let started = Instant::now();
                    if i % 3 == 0 {
                        let _ = client.set(&keys[i], keys[i].as_str()).await;
                    } else {
                        let batch = &keys[i..(i + 10).min(keys.len())];
                        // Errors as misses: reads never fail.
                        client.get_many(batch).await.unwrap();
                    }
                    slowest = slowest.max(started.elapsed());
                    calls.fetch_add(1, Ordering::Relaxed);
                    rt::sleep(Duration::from_millis(1)).await;
                }
                slowest
            })
        })
        .collect()
}

fn until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

#[test]
fn a_killed_server_costs_its_keys_only_and_rejoins() {
    let mut servers: Vec<Option<Memcached>> = start(4).into_iter().map(Some).collect();
    let addresses: Vec<String> = servers
        .iter()
        .flatten()
        .map(|s| s.address.clone())
        .collect();
    let options = ClusterOptions::default()
        .probes_before_dead(1)
        .probe_interval(Duration::from_millis(100))
        .dead_timeout(Duration::from_secs(1))
        .errors_as_misses(true);
    let cluster = open(&addresses, options);
    let client = Arc::new(Client::new(cluster.clone()));
    let keys = Arc::new(keys("kill:", 400));
    let victim = 1;
    let victim_name = addresses[victim].clone();
    let (lost, kept): (Vec<String>, Vec<String>) = keys
        .iter()
        .cloned()
        .partition(|k| cluster.locate(k.as_bytes()).as_ref() == Some(&victim_name));
    assert!(!lost.is_empty() && !kept.is_empty());
    rt::block_on(async {
        let missed = client
            .set_many(keys.iter().map(|k| (k.as_str(), k.as_str())))
            .await
            .unwrap();
        assert!(missed.is_empty());
    });
    let stop = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(AtomicUsize::new(0));
    let tasks = workload(client.clone(), keys.clone(), stop.clone(), calls.clone());
    std::thread::sleep(Duration::from_millis(300));
    let port = servers[victim].as_ref().unwrap().port;
    servers[victim].take().unwrap().kill();
    std::thread::sleep(Duration::from_millis(500));
    rt::block_on(async {
        // Its keys miss; every other key is still there.
        let got = client.get_many(keys.iter()).await.unwrap();
        let got: BTreeSet<String> = got
            .keys()
            .map(|k| String::from_utf8(k.to_vec()).unwrap())
            .collect();
        assert_eq!(got, kept.iter().cloned().collect::<BTreeSet<_>>());
        // Writes to its keys fail (fast), writes elsewhere work.
        let started = Instant::now();
        assert!(client.set(&lost[0], "x").await.is_err());
        assert!(started.elapsed() < Duration::from_millis(600));
        assert!(client.set(&kept[0], kept[0].as_str()).await.unwrap());
    });
    assert!(matches!(
        cluster.status()[victim].1,
        NodeStatus::Dead { .. } | NodeStatus::Failing { .. }
    ));
    // Back on its port: it rejoins once dead_timeout has passed. (A key of
    // its own that the workload does not write, to read back below.)
    let probe = (0..)
        .map(|i| format!("probe:{i}"))
        .find(|k| cluster.locate(k.as_bytes()).as_ref() == Some(&victim_name))
        .unwrap();
    let restarted = Memcached::start_on(port);
    let rejoined = until(Duration::from_secs(5), || {
        rt::block_on(client.set(&probe, "back").into_future()).is_ok()
    });
    assert!(rejoined, "the restarted server never rejoined");
    assert_eq!(cluster.status()[victim].1, NodeStatus::Healthy);
    rt::block_on(async {
        let value = direct(&restarted.address).await.get(&probe).await.unwrap();
        assert_eq!(value.unwrap().as_str(), Some("back"));
    });
    stop.store(true, Ordering::Relaxed);
    let slowest = rt::block_on(async {
        let mut slowest = Duration::ZERO;
        for task in tasks {
            slowest = slowest.max(task.await);
        }
        slowest
    });
    assert!(calls.load(Ordering::Relaxed) > 100, "the workload ran");
    // Nothing waits past the 500 ms connection timeouts (plus scheduling).
    assert!(
        slowest < Duration::from_millis(1500),
        "slowest call {slowest:?}"
    );
}

#[test]
fn a_dead_server_keys_can_move_to_the_others() {
    let mut servers: Vec<Option<Memcached>> = start(3).into_iter().map(Some).collect();
    let addresses: Vec<String> = servers
        .iter()
        .flatten()
        .map(|s| s.address.clone())
        .collect();
    let options = ClusterOptions::default()
        .probes_before_dead(0)
        .dead_timeout(Duration::from_secs(30))
        .dead_keys(DeadKeys::Remap);
    let cluster = open(&addresses, options);
    let client = Client::new(cluster.clone());
    let keys = keys("remap:", 200);
    let lost: Vec<&String> = keys
        .iter()
        .filter(|k| cluster.locate(k.as_bytes()).as_ref() == Some(&addresses[0]))
        .collect();
    servers[0].take().unwrap().kill();
    rt::block_on(async {
        // The first failure marks it dead; from then on its keys live elsewhere.
        let _ = client.set(lost[0], "x").await;
        for key in &lost {
            assert!(client.set(key, "moved").await.unwrap());
            assert_eq!(
                client.get(key).await.unwrap().unwrap().as_str(),
                Some("moved")
            );
            assert_ne!(cluster.locate(key.as_bytes()).as_ref(), Some(&addresses[0]));
        }
    });
}

/// A TCP proxy to a real server that stops reading from its clients while
/// `stall` is set: the server looks alive but never answers.
fn stalling_proxy(target: &str, stall: Arc<AtomicBool>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let target = target.to_string();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(server) = TcpStream::connect(&target) else {
                continue;
            };
            let (client2, server2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            let stall = stall.clone();
            std::thread::spawn(move || forward(client, server, Some(stall)));
            std::thread::spawn(move || forward(server2, client2, None));
        }
    });
    address
}

fn forward(mut from: TcpStream, mut to: TcpStream, stall: Option<Arc<AtomicBool>>) {
    let stalled = || stall.as_ref().is_some_and(|s| s.load(Ordering::Relaxed));
    let mut buffer = [0u8; 16 * 1024];
    loop {
        while stalled() {
            std::thread::sleep(Duration::from_millis(10));
        }
        let count = match from.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(count) => count,
        };
        // What arrived while stalled is held back until the stall ends.
        while stalled() {
            std::thread::sleep(Duration::from_millis(10));
        }
        if to.write_all(&buffer[..count]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

#[test]
fn a_stalled_server_does_not_hold_up_the_others() {
    let servers = start(3);
    let stall = Arc::new(AtomicBool::new(false));
    let proxy = stalling_proxy(&servers[0].address, stall.clone());
    let addresses = vec![
        proxy.clone(),
        servers[1].address.clone(),
        servers[2].address.clone(),
    ];
    let cluster = open(&addresses, ClusterOptions::default().errors_as_misses(true));
    let client = Arc::new(Client::new(cluster.clone()));
    let keys = keys("slow:", 150);
    let (slow, fast): (Vec<String>, Vec<String>) = keys
        .iter()
        .cloned()
        .partition(|k| cluster.locate(k.as_bytes()).as_ref() == Some(&proxy));
    rt::block_on(async {
        let missed = client
            .set_many(keys.iter().map(|k| (k.as_str(), "v")))
            .await
            .unwrap();
        assert!(missed.is_empty());
        stall.store(true, Ordering::Relaxed);
        // A call to the stalled node waits for its timeout, meanwhile calls
        // to the others answer at once.
        let stuck = {
            let client = client.clone();
            let key = slow[0].clone();
            rt::spawn(async move {
                let started = Instant::now();
                let result = client.set(&key, "x").await;
                (result.is_err(), started.elapsed())
            })
        };
        rt::sleep(Duration::from_millis(50)).await;
        for key in fast.iter().take(20) {
            let started = Instant::now();
            assert!(client.get(key).await.unwrap().is_some());
            assert!(started.elapsed() < Duration::from_millis(400));
        }
        let (failed, waited) = stuck.await;
        assert!(failed, "the stalled node's call must time out");
        assert!(waited < Duration::from_millis(1000), "{waited:?}");
        // A read across all nodes: the others' hits, within the timeout.
        let started = Instant::now();
        let got = client.get_many(&keys).await.unwrap();
        assert!(started.elapsed() < Duration::from_millis(1000));
        assert_eq!(got.len(), fast.len());
        stall.store(false, Ordering::Relaxed);
    });
    drop(servers);
}

#[test]
fn a_cluster_of_pools_places_keys_as_a_cluster_of_connections() {
    let servers = start(3);
    let addresses = addresses(&servers);
    rt::block_on(async {
        let pools = Cluster::open_pools(
            &addresses,
            rt::transport(),
            connection_options(),
            memclient::PoolOptions::new().max_size(4),
            ClusterOptions::default(),
        )
        .expect("addresses parse");
        let client = Arc::new(Client::new(pools.clone()));
        let keys = Arc::new(keys("pooled:", 300));
        // Concurrent writers, so the pools open more than one connection.
        let writers: Vec<_> = (0..16)
            .map(|task| {
                let (client, keys) = (client.clone(), keys.clone());
                rt::spawn(async move {
                    for key in keys.iter().skip(task).step_by(16) {
                        assert!(client.set(key, key.as_str()).await.unwrap());
                    }
                })
            })
            .collect();
        for writer in writers {
            writer.await;
        }
        let found = holders(&addresses, &keys).await;
        let connections = open(&addresses, ClusterOptions::default());
        for key in keys.iter() {
            assert_eq!(
                connections.locate(key.as_bytes()).as_ref(),
                Some(&found[key])
            );
            assert_eq!(pools.locate(key.as_bytes()).as_ref(), Some(&found[key]));
        }
        assert_eq!(
            client.get_many(keys.iter()).await.unwrap().len(),
            keys.len()
        );
    });
}

#[test]
fn admin_commands_reach_every_node() {
    let servers = start(3);
    let addresses = addresses(&servers);
    let cluster = open(&addresses, ClusterOptions::default());
    rt::block_on(async {
        let client = Client::new(cluster.clone());
        client
            .set_many([("a", "1"), ("b", "2"), ("c", "3"), ("d", "4")])
            .await
            .unwrap();
        client.flush_all().await.unwrap();
        assert!(client
            .get_many(["a", "b", "c", "d"])
            .await
            .unwrap()
            .is_empty());
        assert_eq!(client.version().await.unwrap().split('.').count(), 3);
        let versions = cluster.call_all(Request::Version).await;
        assert_eq!(versions.len(), 3);
        for ((name, reply), address) in versions.iter().zip(&addresses) {
            assert_eq!(name, address);
            assert!(matches!(reply, Ok(Response::Version(_))));
        }
        // A backend method straight on the cluster: grouped batches in order.
        let replies = cluster
            .call_many(vec![
                Request::Version,
                Request::Delete {
                    key: Bytes::from_static(b"a"),
                    noreply: false,
                },
            ])
            .await;
        assert!(matches!(replies[0], Ok(Response::Version(_))));
        assert!(matches!(replies[1], Ok(Response::NotFound)));
    });
}

/// The cluster over three in-process mocks (no sockets): the whole typed API
/// through the cluster, each key on its node.
#[test]
fn the_typed_api_through_a_cluster_of_mocks() {
    use memclient_mock::MockMemcache;
    let mocks: Vec<MockMemcache> = (0..3).map(|_| MockMemcache::new()).collect();
    let names = ["10.0.0.1:11211", "10.0.0.2:11211", "10.0.0.3:11211"];
    let cluster = Cluster::with_nodes(
        names
            .iter()
            .map(|n| n.parse::<memclient::runtime::Address>().unwrap())
            .zip(mocks.iter().cloned()),
        ClusterOptions::default()
            .hashing(Hashing::ketama())
            .errors_as_misses(true),
    )
    .unwrap();
    let client = Client::new(cluster.clone());
    let keys = keys("mock:", 120);
    rt::block_on(async {
        let missed = client
            .set_many(keys.iter().map(|k| (k.as_str(), k.as_str())))
            .await
            .unwrap();
        assert!(missed.is_empty());
        for (name, mock) in names.iter().zip(&mocks) {
            for key in mock.keys() {
                assert_eq!(cluster.locate(&key).as_deref(), Some(*name));
            }
        }
        assert_eq!(mocks.iter().map(MockMemcache::len).sum::<usize>(), 120);
        let got = client.gets_many(&keys).await.unwrap();
        assert_eq!(got.len(), 120);
        let (_, token) = &got[keys[5].as_bytes()];
        assert_eq!(
            client.cas(&keys[5], "new", *token).await.unwrap(),
            memclient::CasOutcome::Stored
        );
        client.set("counter", 41i64).await.unwrap();
        assert_eq!(client.incr("counter", 1).await.unwrap(), Some(42));
        let absent = client.delete_many(["mock:0-0", "nope"]).await.unwrap();
        assert_eq!(absent, vec![Bytes::from_static(b"nope")]);
        // One node fails its next call: a split read loses that node's keys only.
        let failing = cluster.locate(keys[10].as_bytes()).unwrap();
        let index = names.iter().position(|n| *n == failing).unwrap();
        mocks[index].fail_next(1, memclient::Error::ConnectionClosed);
        let got = client.get_many(&keys[1..]).await.unwrap();
        let expected = keys[1..]
            .iter()
            .filter(|k| cluster.locate(k.as_bytes()).as_deref() != Some(failing.as_str()))
            .count();
        assert_eq!(got.len(), expected);
    });
}
