//! The observability layers: the counters a metrics recorder sees and the
//! spans a tracing subscriber sees, over the mock and over real memcached.
#![cfg(all(feature = "tracing", feature = "metrics", feature = "smol"))]

mod support;

use std::collections::BTreeMap;
use std::future::IntoFuture;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use memclient::observe::{Metered, Traced};
use memclient::{
    Client, Cluster, ClusterOptions, ConnectionOptions, Error, Pool, PoolOptions, Result,
};
use memclient_mock::MockMemcache;
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use metrics_util::MetricKind;

// ---- metrics ----

/// The recorded metrics as `name{label=value,...}` -> value.
fn snapshot(snapshotter: &Snapshotter) -> BTreeMap<String, DebugValue> {
    snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| {
            let (kind, key) = key.into_parts();
            let mut labels: Vec<String> = key
                .labels()
                .map(|l| format!("{}={}", l.key(), l.value()))
                .collect();
            labels.sort();
            let _: MetricKind = kind;
            (format!("{}{{{}}}", key.name(), labels.join(",")), value)
        })
        .collect()
}

fn counter(metrics: &BTreeMap<String, DebugValue>, name: &str) -> u64 {
    match metrics.get(name) {
        Some(DebugValue::Counter(n)) => *n,
        other => panic!("{name}: {other:?} in {:#?}", metrics.keys()),
    }
}

fn gauge(metrics: &BTreeMap<String, DebugValue>, name: &str) -> f64 {
    match metrics.get(name) {
        Some(DebugValue::Gauge(n)) => n.into_inner(),
        other => panic!("{name}: {other:?}"),
    }
}

fn histogram_len(metrics: &BTreeMap<String, DebugValue>, name: &str) -> usize {
    match metrics.get(name) {
        Some(DebugValue::Histogram(values)) => values.len(),
        other => panic!("{name}: {other:?}"),
    }
}

/// Runs `body` with a fresh recorder on this thread, and returns what it saw.
fn recorded<F: FnOnce()>(body: F) -> BTreeMap<String, DebugValue> {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, body);
    snapshot(&snapshotter)
}

#[test]
fn metrics_count_calls_hits_misses_errors_and_bytes() {
    let mock = MockMemcache::new();
    let metrics = recorded(|| {
        smol::block_on(async {
            let client = Client::new(Metered::new(mock.clone()).node("cache-a"));
            assert!(client.set("k", vec![7u8; 100]).await.unwrap());
            assert!(client.get("k").await.unwrap().is_some());
            assert!(client.get("absent").await.unwrap().is_none());
            let many = client.get_many(["k", "x", "y"]).await.unwrap();
            assert_eq!(many.len(), 1);
            mock.fail_next(1, Error::Timeout(Duration::from_millis(5)));
            assert!(matches!(client.get("k").await, Err(Error::Timeout(_))));
            mock.fail_next(1, Error::Server("out of memory".into()));
            assert!(client.set("k", "v").await.is_err());
        })
    });
    let node = "node=cache-a";
    assert_eq!(
        counter(
            &metrics,
            &format!("memclient_calls_total{{command=get,{node}}}")
        ),
        4
    );
    assert_eq!(
        counter(
            &metrics,
            &format!("memclient_calls_total{{command=set,{node}}}")
        ),
        2
    );
    // get hit, get miss, get_many 1 of 3; the timed-out get counts neither.
    assert_eq!(
        counter(&metrics, &format!("memclient_hits_total{{{node}}}")),
        2
    );
    assert_eq!(
        counter(&metrics, &format!("memclient_misses_total{{{node}}}")),
        3
    );
    assert_eq!(
        counter(
            &metrics,
            &format!("memclient_errors_total{{command=get,kind=timeout,{node}}}")
        ),
        1
    );
    assert_eq!(
        counter(
            &metrics,
            &format!("memclient_timeouts_total{{command=get,{node}}}")
        ),
        1
    );
    assert_eq!(
        counter(
            &metrics,
            &format!("memclient_errors_total{{command=set,kind=server_error,{node}}}")
        ),
        1
    );
    assert!(!metrics.contains_key(&format!("memclient_timeouts_total{{command=set,{node}}}")));
    // Two 100-byte values went out (the set) and came back (two hits).
    assert!(counter(&metrics, &format!("memclient_bytes_sent_total{{{node}}}")) > 100);
    assert!(
        counter(
            &metrics,
            &format!("memclient_bytes_received_total{{{node}}}")
        ) > 200
    );
    assert_eq!(
        gauge(&metrics, &format!("memclient_in_flight{{{node}}}")),
        0.0
    );
    assert_eq!(
        histogram_len(
            &metrics,
            &format!("memclient_call_duration_seconds{{command=get,{node}}}")
        ),
        4
    );
}

#[test]
fn metrics_count_a_cancelled_call_and_leave_nothing_in_flight() {
    let mock = MockMemcache::new();
    mock.set_latency(Duration::from_secs(30));
    let metrics = recorded(|| {
        smol::block_on(async {
            let client = Client::new(Metered::new(mock.clone()));
            let call = client.get("k");
            let mut call = std::pin::pin!(call);
            assert!(futures_lite::future::poll_once(&mut call).await.is_none());
        })
    });
    assert_eq!(
        counter(&metrics, "memclient_cancelled_total{command=get}"),
        1
    );
    assert_eq!(counter(&metrics, "memclient_calls_total{command=get}"), 1);
    assert_eq!(gauge(&metrics, "memclient_in_flight{}"), 0.0);
}

#[test]
fn metrics_in_flight_counts_calls_still_waiting() {
    let mock = MockMemcache::new();
    mock.set_latency(Duration::from_secs(30));
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let mut while_waiting = 0.0;
    metrics::with_local_recorder(&recorder, || {
        smol::block_on(async {
            let client = Client::new(Metered::new(mock.clone()));
            let (a, b) = (client.get("a"), client.get("b"));
            let (mut a, mut b) = (std::pin::pin!(a), std::pin::pin!(b));
            assert!(futures_lite::future::poll_once(&mut a).await.is_none());
            assert!(futures_lite::future::poll_once(&mut b).await.is_none());
            while_waiting = gauge(&snapshot(&snapshotter), "memclient_in_flight{}");
        })
    });
    assert_eq!(while_waiting, 2.0);
    // A snapshot resets what it read: the rest is what the drops took back.
    let after = gauge(&snapshot(&snapshotter), "memclient_in_flight{}");
    assert_eq!(while_waiting + after, 0.0);
}

/// What only a connection or a pool sees: connect attempts, a wait for a
/// pooled connection, the pool's size, a socket retired for an overdue reply.
#[test]
fn metrics_of_connects_pool_waits_and_retired_sockets() {
    use support::hostile::{Act, Hostile};
    // Every get is answered 100 ms late, so the first of two gets surely
    // holds the pool's one call when the second comes (a lone call on an
    // idle connection may otherwise be answered within its first poll).
    let server = Hostile::start(
        |_, request| {
            if request == 0 {
                Act::Answer
            } else {
                Act::Late
            }
        },
    );
    let silent = Hostile::silent();
    let metrics = recorded(|| {
        smol::block_on(async {
            let pool = Pool::connect_to(
                &server.address.parse().unwrap(),
                memclient::smol::Smol,
                ConnectionOptions::default(),
                PoolOptions::new().max_size(1).max_in_flight(1),
            );
            let client = Client::new(pool);
            client.set("k", "v").await.unwrap();
            // One connection, one call at a time: the second of two waits.
            let (a, b) = futures_lite::future::zip(client.get("k"), client.get("k")).await;
            assert!(a.unwrap().is_some() && b.unwrap().is_some());

            let mut options = ConnectionOptions::default();
            options.timeout = Some(Duration::from_millis(100));
            let stalled = Client::new(memclient::Connection::new(
                {
                    let address: memclient::runtime::Address = silent.address.parse().unwrap();
                    move || {
                        use memclient::runtime::Transport;
                        memclient::smol::Smol.connect(&address, &Default::default())
                    }
                },
                memclient::smol::Smol,
                options,
            ));
            assert!(matches!(stalled.get("k").await, Err(Error::Timeout(_))));
        })
    });
    assert_eq!(counter(&metrics, "memclient_connects_total{outcome=ok}"), 2);
    assert_eq!(
        counter(&metrics, "memclient_pool_waits_total{outcome=ok}"),
        1
    );
    assert_eq!(histogram_len(&metrics, "memclient_pool_wait_seconds{}"), 1);
    assert_eq!(gauge(&metrics, "memclient_pool_connections{}"), 1.0);
    assert_eq!(counter(&metrics, "memclient_sockets_retired_total{}"), 1);
}

/// Each node of a cluster of real servers wrapped in its own layer: the
/// calls are labelled by the node that served them.
#[test]
fn metrics_per_node_of_a_cluster_of_real_servers() {
    let servers = [support::Memcached::start(), support::Memcached::start()];
    let metrics = recorded(|| {
        smol::block_on(async {
            let cluster = Cluster::new(ClusterOptions::default());
            for server in &servers {
                let address = server.address.parse().unwrap();
                let pool = Pool::connect_to(
                    &address,
                    memclient::smol::Smol,
                    ConnectionOptions::default(),
                    PoolOptions::default(),
                );
                cluster
                    .add_node(address, Metered::new(pool).node(server.address.clone()))
                    .unwrap();
            }
            let client = Client::new(cluster);
            for i in 0..40 {
                assert!(client.set(format!("key{i}"), "v").await.unwrap());
            }
            for i in 0..40 {
                assert!(client.get(format!("key{i}")).await.unwrap().is_some());
            }
        })
    });
    let mut total = 0;
    for server in &servers {
        let node = format!("node={}", server.address);
        let sets = counter(
            &metrics,
            &format!("memclient_calls_total{{command=set,{node}}}"),
        );
        let gets = counter(
            &metrics,
            &format!("memclient_calls_total{{command=get,{node}}}"),
        );
        let hits = counter(&metrics, &format!("memclient_hits_total{{{node}}}"));
        assert!(sets > 0, "rendezvous spreads 40 keys over both nodes");
        assert_eq!(sets, gets, "each key read where it was written");
        assert_eq!(hits, gets);
        total += sets;
    }
    assert_eq!(total, 40);
}

// ---- tracing ----

/// One closed span or one event: its name and fields as text.
#[derive(Debug, Clone)]
struct Captured {
    name: String,
    fields: BTreeMap<String, String>,
}

#[derive(Default)]
struct Fields(BTreeMap<String, String>);

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.insert(
            field.name().to_string(),
            format!("{value:?}").replace('"', ""),
        );
    }
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0.insert(field.name().to_string(), value.to_string());
    }
}

/// A subscriber layer that keeps every closed span and every event.
#[derive(Clone, Default)]
struct Capture {
    spans: Arc<Mutex<Vec<Captured>>>,
    events: Arc<Mutex<Vec<Captured>>>,
}

impl<S> tracing_subscriber::Layer<S> for Capture
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        ctx.span(id).unwrap().extensions_mut().insert(fields);
    }

    fn on_record(
        &self,
        id: &tracing::span::Id,
        values: &tracing::span::Record<'_>,
        ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let span = ctx.span(id).unwrap();
        let mut extensions = span.extensions_mut();
        values.record(extensions.get_mut::<Fields>().unwrap());
    }

    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        self.events.lock().unwrap().push(Captured {
            name: event.metadata().name().to_string(),
            fields: fields.0,
        });
    }

    fn on_close(&self, id: tracing::span::Id, ctx: tracing_subscriber::layer::Context<'_, S>) {
        let span = ctx.span(&id).unwrap();
        let fields = span.extensions_mut().remove::<Fields>().unwrap();
        self.spans.lock().unwrap().push(Captured {
            name: span.name().to_string(),
            fields: fields.0,
        });
    }
}

/// Runs `body` under a capturing subscriber; returns the spans and events.
fn traced<F: FnOnce()>(body: F) -> (Vec<Captured>, Vec<Captured>) {
    use tracing_subscriber::layer::SubscriberExt;
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(capture.clone());
    tracing::subscriber::with_default(subscriber, body);
    let spans = capture.spans.lock().unwrap().clone();
    let events = capture.events.lock().unwrap().clone();
    (spans, events)
}

fn field<'a>(span: &'a Captured, name: &str) -> Option<&'a str> {
    span.fields.get(name).map(String::as_str)
}

#[test]
fn one_span_per_call_with_command_node_keys_outcome_and_duration() {
    let mock = MockMemcache::new();
    let (spans, events) = traced(|| {
        smol::block_on(async {
            let client = Client::new(Traced::new(mock.clone()).node("cache-a"));
            client.set("secret-key", "secret-value").await.unwrap();
            client.get("secret-key").await.unwrap();
            client.get("absent").await.unwrap();
            client.get_many(["secret-key", "absent"]).await.unwrap();
        })
    });
    assert_eq!(spans.len(), 4, "{spans:#?}");
    assert!(events.is_empty(), "no failure, no event: {events:#?}");
    let expect = [
        ("set", "1", "stored"),
        ("get", "1", "hit"),
        ("get", "1", "miss"),
        ("get", "2", "partial"),
    ];
    for (span, (command, keys, outcome)) in spans.iter().zip(expect) {
        assert_eq!(span.name, "memclient.call");
        assert_eq!(field(span, "command"), Some(command), "{span:?}");
        assert_eq!(field(span, "node"), Some("cache-a"));
        assert_eq!(field(span, "keys"), Some(keys));
        assert_eq!(field(span, "outcome"), Some(outcome), "{span:?}");
        assert!(field(span, "duration_us").is_some());
        assert_eq!(field(span, "key"), None, "keys are private by default");
        let all: String = span.fields.values().cloned().collect();
        assert!(!all.contains("secret"), "{span:?}");
    }
    assert_eq!(field(&spans[3], "hits"), Some("1"));
    assert_eq!(field(&spans[3], "misses"), Some("1"));
}

#[test]
fn a_failure_is_an_event_and_contents_only_when_asked() {
    let mock = MockMemcache::new();
    let (spans, events) = traced(|| {
        smol::block_on(async {
            let private = Client::new(Traced::new(mock.clone()));
            mock.fail_next(1, Error::Server("out of memory storing k".into()));
            assert!(private.set("k", "v").await.is_err());
            let open = Client::new(Traced::new(mock.clone()).record_contents(true));
            mock.fail_next(1, Error::Server("out of memory storing k".into()));
            assert!(open.set("k", "v").await.is_err());
            open.get_many(["a", "b"]).await.unwrap();
        })
    });
    assert_eq!(spans.len(), 3);
    assert_eq!(field(&spans[0], "outcome"), Some("error"));
    assert_eq!(field(&spans[0], "error.kind"), Some("server_error"));
    assert_eq!(field(&spans[0], "error"), None);
    assert_eq!(field(&spans[0], "key"), None);
    assert_eq!(
        field(&spans[1], "error"),
        Some("server error: out of memory storing k")
    );
    assert_eq!(field(&spans[1], "key"), Some("k"));
    assert_eq!(field(&spans[2], "key"), Some("a…"));
    assert_eq!(events.len(), 2);
    assert_eq!(
        field(&events[0], "error.kind"),
        Some("server_error"),
        "{events:?}"
    );
    assert_eq!(field(&events[0], "error"), None);
    assert!(field(&events[1], "error").is_some());
}

#[test]
fn a_dropped_call_closes_its_span_as_cancelled() {
    let mock = MockMemcache::new();
    mock.set_latency(Duration::from_secs(30));
    let (spans, _) = traced(|| {
        smol::block_on(async {
            let client = Client::new(Traced::new(mock.clone()));
            let call = client.get("k");
            let mut call = std::pin::pin!(call);
            assert!(futures_lite::future::poll_once(&mut call).await.is_none());
        })
    });
    assert_eq!(spans.len(), 1);
    assert_eq!(field(&spans[0], "outcome"), Some("cancelled"));
}

#[test]
fn below_the_subscribers_level_no_span_is_made() {
    use tracing_subscriber::layer::SubscriberExt;
    let mock = MockMemcache::new();
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry()
        .with(capture.clone())
        .with(tracing_subscriber::filter::LevelFilter::INFO);
    tracing::subscriber::with_default(subscriber, || {
        smol::block_on(async {
            let quiet = Client::new(Traced::new(mock.clone()));
            quiet.get("k").await.unwrap();
            let loud = Client::new(Traced::new(mock.clone()).level(tracing::Level::INFO));
            loud.get("k").await.unwrap();
        })
    });
    assert_eq!(capture.spans.lock().unwrap().len(), 1);
}

/// Both layers over a real server, under a retry: a batch is one span, and
/// every request of it is counted.
#[test]
fn both_layers_over_a_real_server() -> Result<()> {
    let server = support::Memcached::start();
    let mut spans = Vec::new();
    let metrics = recorded(|| {
        (spans, _) = traced(|| {
            smol::block_on(async {
                let connection = memclient::Config::new(&server.address)
                    .connect(memclient::smol::Smol)
                    .await
                    .unwrap()
                    .backend()
                    .clone();
                let layered = Traced::new(Metered::new(connection).node("real")).node("real");
                let client = Client::new(memclient::Retry::new(
                    layered,
                    memclient::smol::Smol,
                    memclient::RetryOptions::default(),
                ));
                let stored = client.set_many([("a", "1"), ("b", "2")]).await.unwrap();
                assert!(stored.is_empty(), "{stored:?}");
                assert!(!client.version().await.unwrap().is_empty());
            })
        });
    });
    assert_eq!(spans.len(), 2, "{spans:#?}");
    assert_eq!(field(&spans[0], "command"), Some("set"));
    assert_eq!(field(&spans[0], "requests"), Some("2"));
    assert_eq!(field(&spans[0], "outcome"), Some("ok"));
    assert_eq!(field(&spans[1], "command"), Some("version"));
    assert_eq!(
        counter(&metrics, "memclient_calls_total{command=set,node=real}"),
        2
    );
    assert_eq!(
        counter(&metrics, "memclient_calls_total{command=version,node=real}"),
        1
    );
    Ok(())
}

/// A node marked dead and coming back is an event and a counter; a retry is
/// an event.
#[test]
fn node_deaths_recoveries_and_retries_are_reported() {
    use memclient::{NodeSpec, NodeStatus, Retry, RetryOptions};
    let (a, b) = (MockMemcache::new(), MockMemcache::new());
    let options = ClusterOptions::default()
        .probes_before_dead(1)
        .probe_interval(Duration::ZERO)
        .dead_timeout(Duration::from_millis(50));
    let cluster = Cluster::new(options);
    let name_a = "127.0.0.1:10001";
    cluster
        .add_node(NodeSpec::new(name_a.parse().unwrap()), a.clone())
        .unwrap();
    cluster
        .add_node(NodeSpec::new("127.0.0.1:10002".parse().unwrap()), b.clone())
        .unwrap();
    let key = (0..100)
        .map(|i| format!("key{i}"))
        .find(|key| cluster.locate(key.as_bytes()).as_deref() == Some(name_a))
        .unwrap();
    let mut events = Vec::new();
    let metrics = recorded(|| {
        (_, events) = traced(|| {
            smol::block_on(async {
                let client = Client::new(cluster.clone());
                for _ in 0..10 {
                    let dead = cluster
                        .status()
                        .iter()
                        .any(|(name, s)| name == name_a && matches!(s, NodeStatus::Dead { .. }));
                    if dead {
                        break;
                    }
                    a.fail_next(1, Error::ConnectionClosed);
                    assert!(client.get(&key).await.is_err());
                }
                smol::Timer::after(Duration::from_millis(60)).await;
                assert!(client.get(&key).await.is_ok());
                assert_eq!(cluster.status()[0].1, NodeStatus::Healthy);

                let retry = Client::new(Retry::new(
                    b.clone(),
                    memclient::smol::Smol,
                    RetryOptions::default()
                        .delay(Duration::ZERO)
                        .max_delay(Duration::ZERO),
                ));
                b.fail_next(2, Error::ConnectionClosed);
                assert!(retry.get("k").await.is_ok());
            })
        });
    });
    let messages: Vec<(&str, Option<&str>, Option<&str>)> = events
        .iter()
        .map(|e| {
            (
                field(e, "message").unwrap_or(""),
                field(e, "node"),
                field(e, "attempt"),
            )
        })
        .collect();
    assert_eq!(
        messages,
        [
            ("memcached node marked dead", Some(name_a), None),
            ("memcached node recovered", Some(name_a), None),
            ("retrying memcached call", None, Some("1")),
            ("retrying memcached call", None, Some("2")),
        ]
    );
    let node = format!("node={name_a}");
    assert_eq!(
        counter(
            &metrics,
            &format!("memclient_node_changes_total{{change=died,{node}}}")
        ),
        1
    );
    assert_eq!(
        counter(
            &metrics,
            &format!("memclient_node_changes_total{{change=recovered,{node}}}")
        ),
        1
    );
    assert_eq!(
        gauge(&metrics, &format!("memclient_node_up{{{node}}}")),
        1.0
    );
}

/// `get_or_compute`'s stampede protection as the layers see it: one caller
/// wins the recompute, the other finds it in progress.
#[test]
fn stampede_wins_and_losses_are_counted() {
    let mock = MockMemcache::new();
    let mut spans = Vec::new();
    let metrics = recorded(|| {
        (spans, _) = traced(|| {
            smol::block_on(async {
                let client = Client::new(Traced::new(Metered::new(mock.clone())))
                    .with_runtime(memclient::smol::Smol);
                let slow = || async {
                    smol::Timer::after(Duration::from_millis(100)).await;
                    Ok::<_, Error>("built".into())
                };
                let never =
                    || async { Err::<memclient::serde::CacheValue, _>(Error::ConnectionClosed) };
                let (a, b) = futures_lite::future::zip(
                    client
                        .get_or_compute("page", Duration::from_secs(60), slow)
                        .into_future(),
                    async {
                        // After the first caller has won.
                        smol::Timer::after(Duration::from_millis(20)).await;
                        client
                            .get_or_compute("page", Duration::from_secs(60), never)
                            .poll(Duration::from_millis(10))
                            .await
                    },
                )
                .await;
                assert_eq!(a.unwrap().as_str(), Some("built"));
                assert_eq!(b.unwrap().as_str(), Some("built"));
            })
        });
    });
    assert_eq!(counter(&metrics, "memclient_stampede_total{result=won}"), 1);
    assert!(counter(&metrics, "memclient_stampede_total{result=lost}") >= 1);
    let won: Vec<_> = spans
        .iter()
        .filter(|s| field(s, "stampede") == Some("won"))
        .collect();
    assert_eq!(won.len(), 1);
    assert_eq!(field(won[0], "command"), Some("mg"));
    assert_eq!(field(won[0], "outcome"), Some("miss"));
}
