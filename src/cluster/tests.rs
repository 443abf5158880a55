//! Placement against the reference vectors, key movement, and the cluster's
//! routing and failure handling over in-memory nodes.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;

use super::*;
use crate::runtime::Address;
use crate::{
    Backend, Error, MetaCommand, MetaFlag, MetaRequest, MetaResponse, MetaStatus, Request,
    Response, Result, Retrieve, RetrieveCommand, Store, Value,
};

const VECTORS: &str = include_str!("testdata/hashing-vectors.tsv");

fn reference_nodes() -> Vec<NodeSpec> {
    (11211..=11214)
        .map(|port| NodeSpec::new(format!("127.0.0.1:{port}").parse().unwrap()))
        .collect()
}

/// `(key, pymemcache's node, libmemcached's node)` of every vector.
fn vectors() -> Vec<Vector> {
    VECTORS
        .lines()
        .skip(1)
        .filter(|line| !line.is_empty())
        .map(|line| {
            let mut fields = line.split('\t');
            let mut next = || fields.next().expect("three fields");
            (next(), next(), next())
        })
        .collect()
}

type Vector = (&'static str, &'static str, &'static str);

fn placed_like_reference(hashing: Hashing, pick: fn(&Vector) -> &'static str) -> usize {
    let nodes = reference_nodes();
    let locator = hashing.locator(&nodes);
    let vectors = vectors();
    assert_eq!(vectors.len(), 200);
    let mut matched = 0;
    for vector in &vectors {
        let index = locator.locate(vector.0.as_bytes()).expect("a node");
        assert_eq!(nodes[index].name(), pick(vector), "key {:?}", vector.0);
        matched += 1;
    }
    matched
}

#[test]
fn rendezvous_places_every_vector_key_as_pymemcache() {
    assert_eq!(placed_like_reference(Hashing::Rendezvous, |v| v.1), 200);
}

#[test]
fn ketama_places_every_vector_key_as_libmemcached() {
    assert_eq!(placed_like_reference(Hashing::ketama(), |v| v.2), 200);
}

/// The share of `count` keys that change node when a fifth node joins four.
fn moved_share(hashing: &Hashing, count: usize) -> f64 {
    let four = reference_nodes();
    let mut five = four.clone();
    five.push(NodeSpec::new("127.0.0.1:11215".parse().unwrap()));
    let before = hashing.locator(&four);
    let after = hashing.locator(&five);
    let mut moved = 0;
    for i in 0..count {
        let key = format!("key:{i}");
        let (old, new) = (before.locate(key.as_bytes()), after.locate(key.as_bytes()));
        if old != new {
            // Only to the new node, never between old ones.
            assert_eq!(new, Some(4), "{key} moved between old nodes");
            moved += 1;
        }
    }
    moved as f64 / count as f64
}

#[test]
fn a_fifth_node_takes_about_a_fifth_of_the_keys() {
    for hashing in [
        Hashing::Rendezvous,
        Hashing::ketama(),
        Hashing::Ketama(KetamaOptions::libmemcached_md5()),
        Hashing::Ketama(KetamaOptions::libmemcached_weighted()),
    ] {
        let share = moved_share(&hashing, 10_000);
        println!("{hashing:?}: {:.2}% of 10000 keys moved", share * 100.0);
        assert!((0.15..0.25).contains(&share), "{hashing:?}: {share}");
    }
}

#[test]
fn weights_shift_the_weighted_continuum() {
    let mut nodes = reference_nodes();
    nodes[0] = nodes[0].clone().with_weight(3);
    let locator = Hashing::ketama().locator(&nodes);
    let heavy = (0..10_000)
        .filter(|i| locator.locate(format!("k{i}").as_bytes()) == Some(0))
        .count();
    // Weight 3 of 6: about half the keys.
    assert!((4_000..6_000).contains(&heavy), "{heavy}");
}

#[test]
fn no_nodes_no_location_and_odd_nodes_do_not_panic() {
    for hashing in [Hashing::Rendezvous, Hashing::ketama()] {
        assert_eq!(hashing.locator(&[]).locate(b"k"), None);
        let odd = vec![
            NodeSpec::new(Address::Unix("/tmp/mc.sock".into())),
            NodeSpec::new("[::1]:11211".parse().unwrap()).with_weight(u32::MAX),
            NodeSpec::new("h:1".parse().unwrap()).with_weight(0),
        ];
        let locator = hashing.locator(&odd);
        for key in [&b""[..], b"\xff\xfe", "ключ".as_bytes()] {
            assert!(locator.locate(key).is_some());
        }
    }
}

// ---- The cluster over in-memory nodes ------------------------------------

/// An in-memory memcached node that can be taken down.
#[derive(Clone, Default)]
struct FakeNode {
    store: Arc<Mutex<HashMap<Bytes, Bytes>>>,
    down: Arc<AtomicBool>,
    calls: Arc<AtomicUsize>,
}

impl FakeNode {
    fn answer(&self, request: Request) -> Result<Response> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        if self.down.load(Ordering::Relaxed) {
            return Err(Error::from(std::io::Error::from(
                std::io::ErrorKind::ConnectionRefused,
            )));
        }
        let mut store = self.store.lock().unwrap();
        Ok(match request {
            Request::Retrieve(retrieve) => Response::Values(
                retrieve
                    .keys
                    .iter()
                    .filter_map(|key| {
                        store.get(key).map(|data| Value {
                            key: key.clone(),
                            flags: 0,
                            cas: None,
                            data: data.clone(),
                        })
                    })
                    .collect(),
            ),
            Request::Store(store_request) => {
                store.insert(store_request.key, store_request.value);
                Response::Stored
            }
            Request::Delete { key, .. } => match store.remove(&key) {
                Some(_) => Response::Deleted,
                None => Response::NotFound,
            },
            Request::FlushAll { .. } => {
                store.clear();
                Response::Ok
            }
            Request::Version => Response::Version(Bytes::from_static(b"1.6.18")),
            Request::Meta(meta) => Response::Meta(meta_get(&store, &meta, None)),
            Request::MetaBatch(batch) => Response::MetaBatch(
                batch
                    .iter()
                    .enumerate()
                    .map(|(index, meta)| {
                        let reply = meta_get(&store, meta, Some(index));
                        (reply.status != Some(MetaStatus::Miss)).then_some(Ok(reply))
                    })
                    .collect(),
            ),
            Request::Stats { .. } => Response::Lines(vec![Bytes::from(format!(
                "STAT curr_items {}",
                store.len()
            ))]),
            _ => return Err(Error::UnknownCommand(String::new())),
        })
    }

    fn holds(&self, key: &str) -> bool {
        self.store.lock().unwrap().contains_key(key.as_bytes())
    }
}

/// `mg <key> v [O<index>]` on a fake node's store.
fn meta_get(
    store: &HashMap<Bytes, Bytes>,
    meta: &MetaRequest,
    index: Option<usize>,
) -> MetaResponse {
    let mut reply = MetaResponse {
        status: Some(MetaStatus::Miss),
        ..MetaResponse::default()
    };
    if let Some(data) = store.get(&meta.key) {
        reply.status = Some(MetaStatus::Value);
        reply.data = Some(data.clone());
        if let Some(index) = index {
            reply.flags.push(MetaFlag::with(b'O', index.to_string()));
        }
    }
    reply
}

impl Backend for FakeNode {
    fn call(&self, request: Request) -> impl Future<Output = Result<Response>> + Send {
        let reply = self.answer(request);
        async move { reply }
    }
}

fn cluster(options: ClusterOptions) -> (Cluster<FakeNode>, Vec<FakeNode>) {
    let nodes: Vec<FakeNode> = (0..4).map(|_| FakeNode::default()).collect();
    let cluster = Cluster::with_nodes(
        reference_nodes().into_iter().zip(nodes.iter().cloned()),
        options,
    )
    .unwrap();
    (cluster, nodes)
}

fn set(key: &str, value: &str) -> Request {
    Request::Store(Store {
        command: crate::StoreCommand::Set,
        key: Bytes::copy_from_slice(key.as_bytes()),
        flags: 0,
        exptime: 0,
        value: Bytes::copy_from_slice(value.as_bytes()),
        noreply: false,
    })
}

fn get_many(keys: &[&str]) -> Request {
    Request::Retrieve(Retrieve {
        command: RetrieveCommand::Get,
        keys: keys
            .iter()
            .map(|key| Bytes::copy_from_slice(key.as_bytes()))
            .collect(),
    })
}

fn hit_keys(response: Response) -> Vec<String> {
    let Response::Values(values) = response else {
        panic!("not values: {response:?}")
    };
    values
        .into_iter()
        .map(|value| String::from_utf8(value.key.to_vec()).unwrap())
        .collect()
}

fn index_of(name: &str) -> usize {
    reference_nodes()
        .iter()
        .position(|node| node.name() == name)
        .unwrap()
}

#[test]
fn keys_go_to_their_node_and_reads_merge_in_order() {
    let (cluster, nodes) = cluster(ClusterOptions::default());
    let vectors = vectors();
    smol::block_on(async {
        for (key, _, _) in &vectors[..40] {
            assert_eq!(cluster.call(set(key, key)).await.unwrap(), Response::Stored);
        }
        for (key, home, _) in &vectors[..40] {
            assert!(nodes[index_of(home)].holds(key), "{key} not on {home}");
            assert_eq!(cluster.locate(key.as_bytes()).as_deref(), Some(*home));
        }
        // Hits in request order, misses skipped, repeated keys repeated.
        let mut keys: Vec<&str> = vectors[..40].iter().rev().map(|v| v.0).collect();
        keys.insert(3, "missing");
        keys.push(vectors[0].0);
        let got = hit_keys(cluster.call(get_many(&keys)).await.unwrap());
        let expected: Vec<String> = keys
            .iter()
            .filter(|key| **key != "missing")
            .map(|key| key.to_string())
            .collect();
        assert_eq!(got, expected);
    });
}

#[test]
fn batches_are_grouped_by_node_and_answered_in_order() {
    let (cluster, nodes) = cluster(ClusterOptions::default());
    let vectors = vectors();
    smol::block_on(async {
        let requests: Vec<Request> = vectors.iter().map(|v| set(v.0, v.1)).collect();
        let replies = cluster.call_many(requests).await;
        assert!(replies.iter().all(|r| matches!(r, Ok(Response::Stored))));
        // One batch per node: four calls in all... of which each answers many.
        let deletes: Vec<Request> = ["missing", vectors[1].0, vectors[2].0]
            .iter()
            .map(|key| Request::Delete {
                key: Bytes::copy_from_slice(key.as_bytes()),
                noreply: false,
            })
            .collect();
        let replies: Vec<Response> = cluster
            .call_many(deletes)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(
            replies,
            vec![Response::NotFound, Response::Deleted, Response::Deleted]
        );
        let total: usize = nodes.iter().map(|n| n.store.lock().unwrap().len()).sum();
        assert_eq!(total, 198);
    });
}

#[test]
fn meta_commands_go_to_their_node_and_batches_merge_in_order() {
    let (cluster, _nodes) = cluster(ClusterOptions::default());
    let vectors = vectors();
    let mg = |key: &str| MetaRequest {
        command: MetaCommand::Get,
        key: Bytes::copy_from_slice(key.as_bytes()),
        flags: vec![MetaFlag::bare(b'v')],
        data: None,
    };
    smol::block_on(async {
        for (key, _, _) in &vectors[..40] {
            cluster.call(set(key, key)).await.unwrap();
        }
        for (key, _, _) in &vectors[..40] {
            let Response::Meta(reply) = cluster.call(Request::Meta(mg(key))).await.unwrap() else {
                panic!("not a meta reply")
            };
            assert_eq!(reply.data.as_deref(), Some(key.as_bytes()));
        }
        let mut batch: Vec<MetaRequest> = vectors[..40].iter().map(|v| mg(v.0)).collect();
        batch.insert(5, mg("missing"));
        batch.insert(
            7,
            MetaRequest {
                command: MetaCommand::Noop,
                key: Bytes::new(),
                flags: vec![],
                data: None,
            },
        );
        let Response::MetaBatch(replies) = cluster
            .call(Request::MetaBatch(batch.clone()))
            .await
            .unwrap()
        else {
            panic!("not a batch")
        };
        assert_eq!(replies.len(), batch.len());
        for (position, (request, reply)) in batch.iter().zip(replies).enumerate() {
            match (request.command, &request.key[..]) {
                (MetaCommand::Noop, _) => {
                    assert_eq!(reply.unwrap().unwrap().status, Some(MetaStatus::Noop))
                }
                (_, b"missing") => assert!(reply.is_none()),
                (_, key) => {
                    let reply = reply.unwrap().unwrap();
                    assert_eq!(reply.data.as_deref(), Some(key));
                    let opaque = reply.token(b'O').unwrap();
                    assert_eq!(&opaque[..], position.to_string().as_bytes());
                }
            }
        }
    });
}

#[test]
fn admin_commands() {
    let (cluster, nodes) = cluster(fast_options());
    smol::block_on(async {
        for v in vectors() {
            cluster.call(set(v.0, v.0)).await.unwrap();
        }
        let stats = cluster.call_all(Request::Stats { args: vec![] }).await;
        assert_eq!(stats.len(), 4);
        assert_eq!(stats[0].0, "127.0.0.1:11211");
        assert!(stats.iter().all(|(_, r)| r.is_ok()));
        let err = cluster.call(Request::Stats { args: vec![] }).await;
        assert!(matches!(err, Err(Error::IllegalInput(m)) if m.contains("call_all")));
        assert!(matches!(
            cluster.call(Request::Version).await,
            Ok(Response::Version(_))
        ));
        nodes[0].down.store(true, Ordering::Relaxed);
        // version: the first node that answers.
        assert!(cluster.call(Request::Version).await.is_ok());
        // flush_all: every node, and an error if one fails.
        let flush = Request::FlushAll {
            delay: None,
            noreply: false,
        };
        assert!(cluster.call(flush.clone()).await.is_err());
        nodes[0].down.store(false, Ordering::Relaxed);
        // Node 0 is failing now: wait out its retry timeout.
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(cluster.call(flush).await.unwrap(), Response::Ok);
        assert!(nodes.iter().all(|n| n.store.lock().unwrap().is_empty()));
    });
}

fn fast_options() -> ClusterOptions {
    ClusterOptions::default()
        .probes_before_dead(1)
        .probe_interval(Duration::from_millis(50))
        .dead_timeout(Duration::from_millis(200))
}

/// Keys of `vectors` on the node at `index` and elsewhere.
fn split_keys(index: usize) -> (Vec<&'static str>, Vec<&'static str>) {
    let name = reference_nodes()[index].name().to_string();
    let (on, off): (Vec<_>, Vec<_>) = vectors().into_iter().partition(|v| v.1 == name);
    (
        on.into_iter().map(|v| v.0).collect(),
        off.into_iter().map(|v| v.0).collect(),
    )
}

#[test]
fn a_dead_node_costs_misses_on_its_keys_only() {
    let (cluster, nodes) = cluster(fast_options().errors_as_misses(true));
    let (lost, kept) = split_keys(2);
    let all: Vec<&str> = vectors().iter().map(|v| v.0).collect();
    smol::block_on(async {
        for key in &all {
            cluster.call(set(key, key)).await.unwrap();
        }
        nodes[2].down.store(true, Ordering::Relaxed);
        let got = hit_keys(cluster.call(get_many(&all)).await.unwrap());
        assert_eq!(got, kept);
        // Single reads of its keys miss; writes to them fail.
        let one = hit_keys(cluster.call(get_many(&lost[..1])).await.unwrap());
        assert!(one.is_empty());
        assert!(cluster.call(set(lost[0], "x")).await.is_err());
        assert_eq!(hit_keys(cluster.call(get_many(&kept)).await.unwrap()), kept);
    });
}

#[test]
fn without_errors_as_misses_a_split_read_fails() {
    let (cluster, nodes) = cluster(fast_options());
    let all: Vec<&str> = vectors().iter().map(|v| v.0).collect();
    nodes[1].down.store(true, Ordering::Relaxed);
    let result = smol::block_on(cluster.call(get_many(&all)));
    let error = result.unwrap_err();
    assert!(error.is_connection_error());
    // The error says which node failed, though its backend did not.
    let name = cluster.node_names()[1].clone();
    assert!(
        error.to_string().contains(&format!("node {name}: ")),
        "{error}"
    );
}

#[test]
fn failing_nodes_fail_fast_die_and_come_back() {
    let (cluster, nodes) = cluster(fast_options());
    let (lost, _) = split_keys(0);
    smol::block_on(async {
        nodes[0].down.store(true, Ordering::Relaxed);
        assert!(cluster.call(set(lost[0], "v")).await.is_err());
        let calls = nodes[0].calls.load(Ordering::Relaxed);
        // Within probe_interval: fails without calling the node.
        let err = cluster.call(set(lost[0], "v")).await.unwrap_err();
        assert!(err.to_string().contains("127.0.0.1:11211"), "{err}");
        assert_eq!(nodes[0].calls.load(Ordering::Relaxed), calls);
        assert!(matches!(
            cluster.status()[0].1,
            NodeStatus::Failing { failures: 1 }
        ));
        // The probe after probe_interval fails too: dead.
        std::thread::sleep(Duration::from_millis(60));
        assert!(cluster.call(set(lost[0], "v")).await.is_err());
        assert!(matches!(cluster.status()[0].1, NodeStatus::Dead { .. }));
        // It recovers, but stays out until dead_timeout ends.
        nodes[0].down.store(false, Ordering::Relaxed);
        assert!(cluster.call(set(lost[0], "v")).await.is_err());
        std::thread::sleep(Duration::from_millis(210));
        assert_eq!(
            cluster.call(set(lost[0], "v")).await.unwrap(),
            Response::Stored
        );
        assert_eq!(cluster.status()[0].1, NodeStatus::Healthy);
    });
}

#[test]
fn remapped_keys_move_to_live_nodes_and_back() {
    let (cluster, nodes) = cluster(
        fast_options()
            .probes_before_dead(0)
            .dead_keys(DeadKeys::Remap),
    );
    let (lost, kept) = split_keys(3);
    smol::block_on(async {
        nodes[3].down.store(true, Ordering::Relaxed);
        assert!(cluster.call(set(lost[0], "v")).await.is_err());
        // Dead: its keys now live elsewhere, the others stay put.
        for key in &lost {
            assert_eq!(cluster.call(set(key, "v")).await.unwrap(), Response::Stored);
            assert_ne!(
                cluster.locate(key.as_bytes()).as_deref(),
                Some("127.0.0.1:11214")
            );
        }
        for v in vectors().iter().filter(|v| kept.contains(&v.0)) {
            assert_eq!(cluster.locate(v.0.as_bytes()).as_deref(), Some(v.1));
        }
        nodes[3].down.store(false, Ordering::Relaxed);
        std::thread::sleep(Duration::from_millis(210));
        assert_eq!(
            cluster.locate(lost[0].as_bytes()).as_deref(),
            Some("127.0.0.1:11214")
        );
        assert_eq!(
            cluster.call(set(lost[0], "v")).await.unwrap(),
            Response::Stored
        );
        assert!(nodes[3].holds(lost[0]));
    });
}

#[test]
fn nodes_join_and_leave_at_run_time() {
    let (cluster, _nodes) = cluster(ClusterOptions::default());
    let keys: Vec<String> = (0..2_000).map(|i| format!("key:{i}")).collect();
    let before: Vec<Option<String>> = keys.iter().map(|k| cluster.locate(k.as_bytes())).collect();
    let fifth = FakeNode::default();
    cluster
        .add_node("127.0.0.1:11215".parse::<Address>().unwrap(), fifth.clone())
        .unwrap();
    assert!(cluster
        .add_node("127.0.0.1:11215".parse::<Address>().unwrap(), fifth)
        .is_err());
    let after: Vec<Option<String>> = keys.iter().map(|k| cluster.locate(k.as_bytes())).collect();
    for (old, new) in before.iter().zip(&after) {
        assert!(old == new || new.as_deref() == Some("127.0.0.1:11215"));
    }
    assert!(cluster.remove_node("127.0.0.1:11215"));
    assert!(!cluster.remove_node("127.0.0.1:11215"));
    let again: Vec<Option<String>> = keys.iter().map(|k| cluster.locate(k.as_bytes())).collect();
    assert_eq!(before, again);
    assert_eq!(cluster.node_names().len(), 4);
}

#[test]
fn an_empty_cluster_answers_errors() {
    let cluster: Cluster<FakeNode> = Cluster::new(ClusterOptions::default());
    smol::block_on(async {
        assert!(cluster.call(set("a", "b")).await.is_err());
        assert!(cluster.call(get_many(&["a", "b"])).await.is_err());
        assert!(cluster.call(Request::Version).await.is_err());
        assert!(cluster
            .call(Request::FlushAll {
                delay: None,
                noreply: false
            })
            .await
            .is_err());
        assert!(cluster.call_all(Request::Version).await.is_empty());
    });
}

/// A runtime whose clock only the test moves: sleeps end at once and move
/// it on by their length.
#[derive(Clone)]
struct DrivenClock {
    start: std::time::Instant,
    elapsed: Arc<Mutex<Duration>>,
}

impl DrivenClock {
    fn new() -> Self {
        DrivenClock {
            start: std::time::Instant::now(),
            elapsed: Arc::default(),
        }
    }

    fn advance(&self, by: Duration) {
        *self.elapsed.lock().unwrap() += by;
    }
}

impl crate::runtime::Runtime for DrivenClock {
    fn spawn(&self, _future: crate::runtime::BoxFuture<'static, ()>) {}

    fn sleep(&self, duration: Duration) -> crate::runtime::BoxFuture<'static, ()> {
        self.advance(duration);
        Box::pin(async {})
    }

    fn now(&self) -> std::time::Instant {
        self.start + *self.elapsed.lock().unwrap()
    }
}

fn driven_cluster(options: ClusterOptions) -> (Cluster<FakeNode>, Vec<FakeNode>, DrivenClock) {
    let clock = DrivenClock::new();
    let nodes: Vec<FakeNode> = (0..4).map(|_| FakeNode::default()).collect();
    let cluster = Cluster::with_runtime(options, clock.clone());
    for (spec, node) in reference_nodes().into_iter().zip(&nodes) {
        cluster.add_node(spec, node.clone()).unwrap();
    }
    (cluster, nodes, clock)
}

#[test]
fn probes_and_dead_time_follow_the_runtime_clock() {
    let (cluster, nodes, clock) = driven_cluster(fast_options());
    let (lost, _) = split_keys(0);
    let calls = || nodes[0].calls.load(Ordering::Relaxed);
    let ms = Duration::from_millis;
    smol::block_on(async {
        nodes[0].down.store(true, Ordering::Relaxed);
        assert!(cluster.call(set(lost[0], "v")).await.is_err());
        assert_eq!(calls(), 1);
        // Failing: calls fail fast until probe_interval (50 ms) has passed
        // on the runtime's clock, however long they take in real time.
        clock.advance(ms(49));
        let err = cluster.call(set(lost[0], "v")).await.unwrap_err();
        assert!(err.to_string().contains("1ms"), "{err}");
        assert_eq!(calls(), 1);
        clock.advance(ms(1));
        assert!(cluster.call(set(lost[0], "v")).await.is_err());
        assert_eq!(calls(), 2, "the probe at 50 ms reached the node");
        // That probe failed too: dead for dead_timeout (200 ms) from now.
        let dead_at = crate::runtime::Runtime::now(&clock);
        assert_eq!(
            cluster.status()[0].1,
            NodeStatus::Dead {
                until: dead_at + ms(200)
            }
        );
        nodes[0].down.store(false, Ordering::Relaxed);
        clock.advance(ms(199));
        assert!(cluster.call(set(lost[0], "v")).await.is_err());
        assert_eq!(calls(), 2);
        // The background prober finds nothing due before the clock says so.
        assert!(cluster.probe_unhealthy().await.is_empty());
        clock.advance(ms(1));
        assert_eq!(
            cluster.probe_unhealthy().await,
            vec![("127.0.0.1:11211".to_string(), true)]
        );
        assert_eq!(cluster.status()[0].1, NodeStatus::Healthy);
        assert_eq!(
            cluster.call(set(lost[0], "v")).await.unwrap(),
            Response::Stored
        );
    });
}

#[test]
fn remapped_keys_come_home_when_the_runtime_clock_ends_the_dead_time() {
    let (cluster, nodes, clock) = driven_cluster(
        fast_options()
            .probes_before_dead(0)
            .dead_keys(DeadKeys::Remap),
    );
    let (lost, _) = split_keys(3);
    let home = Some("127.0.0.1:11214");
    smol::block_on(async {
        nodes[3].down.store(true, Ordering::Relaxed);
        assert!(cluster.call(set(lost[0], "v")).await.is_err());
        assert_ne!(cluster.locate(lost[0].as_bytes()).as_deref(), home);
        nodes[3].down.store(false, Ordering::Relaxed);
        clock.advance(Duration::from_millis(199));
        assert_ne!(cluster.locate(lost[0].as_bytes()).as_deref(), home);
        clock.advance(Duration::from_millis(1));
        assert_eq!(cluster.locate(lost[0].as_bytes()).as_deref(), home);
        assert_eq!(
            cluster.call(set(lost[0], "v")).await.unwrap(),
            Response::Stored
        );
        assert!(nodes[3].holds(lost[0]));
    });
}

#[test]
fn a_mixed_batch_answers_every_request_in_its_place() {
    let (cluster, _nodes) = cluster(ClusterOptions::default());
    let vectors = vectors();
    // Keys on two different nodes, for a retrieval that must be split.
    let first = vectors[0];
    let other = vectors.iter().find(|v| v.1 != first.1).unwrap();
    smol::block_on(async {
        let replies = cluster
            .call_many(vec![
                set(first.0, "1"),
                Request::Version,
                set(other.0, "2"),
                get_many(&[other.0, "missing", first.0]),
                Request::Stats { args: vec![] },
                get_many(&[first.0]),
            ])
            .await;
        assert_eq!(replies.len(), 6);
        assert_eq!(replies[0], Ok(Response::Stored));
        assert!(matches!(replies[1], Ok(Response::Version(_))));
        assert_eq!(replies[2], Ok(Response::Stored));
        // The batch's requests are sent at once: the split read may run
        // before or after the writes, but answers in its own place.
        assert!(matches!(&replies[3], Ok(Response::Values(_))));
        assert!(matches!(&replies[4], Err(Error::IllegalInput(_))));
        assert!(matches!(&replies[5], Ok(Response::Values(_))));
        let got = hit_keys(cluster.call(get_many(&[other.0, first.0])).await.unwrap());
        assert_eq!(got, vec![other.0.to_string(), first.0.to_string()]);
    });
}
