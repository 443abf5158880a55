//! The observability layers over a real memcached, on each runtime adapter
//! (see the `rt` module of the including test): the counters a recorder
//! sees. The spans and every counter in detail: tests/observe.rs.

use std::collections::BTreeMap;

use memclient::observe::{Metered, Traced};
use memclient::serde::PyFlags;
use memclient::{Client, ClientOptions, Config, PoolOptions};
use metrics_util::debugging::{DebugValue, DebuggingRecorder};

use crate::rt;
use crate::support::{unique_prefix, Memcached};

fn counters(recorder: &DebuggingRecorder) -> BTreeMap<String, u64> {
    recorder
        .snapshotter()
        .snapshot()
        .into_vec()
        .into_iter()
        .filter_map(|(key, _, _, value)| {
            let key = key.key();
            let mut labels: Vec<String> = key
                .labels()
                .map(|l| format!("{}={}", l.key(), l.value()))
                .collect();
            labels.sort();
            match value {
                DebugValue::Counter(n) => {
                    Some((format!("{}{{{}}}", key.name(), labels.join(",")), n))
                }
                _ => None,
            }
        })
        .collect()
}

#[test]
fn layers_count_calls_over_a_connection_and_a_pool() {
    let server = Memcached::shared();
    let recorder = DebuggingRecorder::new();
    metrics::with_local_recorder(&recorder, || {
        rt::block_on(async {
            let config = || Config::new(&server.address);
            let options = ClientOptions::new().key_prefix(unique_prefix("observe"));
            let connection = rt::connect(config()).await.unwrap().backend().clone();
            let layered = Traced::new(Metered::new(connection).node("conn"));
            let client = Client::with_options(layered, PyFlags, options.clone()).unwrap();
            assert!(client.set("a", "1").await.unwrap());
            assert!(client.get("a").await.unwrap().is_some());
            assert!(client.get("b").await.unwrap().is_none());

            let pool = rt::connect_pool(config(), PoolOptions::default())
                .unwrap()
                .backend()
                .clone();
            let client =
                Client::with_options(Metered::new(pool).node("pool"), PyFlags, options).unwrap();
            let many = client.get_many(["a", "b", "c"]).await.unwrap();
            assert_eq!(many.len(), 1);
        })
    });
    let counters = counters(&recorder);
    assert_eq!(counters["memclient_calls_total{command=get,node=conn}"], 2);
    assert_eq!(counters["memclient_calls_total{command=set,node=conn}"], 1);
    assert_eq!(counters["memclient_hits_total{node=conn}"], 1);
    assert_eq!(counters["memclient_misses_total{node=conn}"], 1);
    assert_eq!(counters["memclient_hits_total{node=pool}"], 1);
    assert_eq!(counters["memclient_misses_total{node=pool}"], 2);
}
