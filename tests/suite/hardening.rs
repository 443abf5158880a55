//! A connection that cannot be wedged, desynchronised or flooded: overdue
//! replies retire the socket, reconnects are shared and bounded by the call
//! timeout, the queue is bounded, and the defaults never hang. Against the
//! small hostile servers of `support::hostile`, on each runtime adapter.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::future::{select, Either};
use memclient::{
    Backend, Client, ClusterOptions, Config, Connection, ConnectionOptions, Error, NodeStatus,
    PoolOptions, Request, Response, Store, StoreCommand, DEFAULT_TIMEOUT,
};

use crate::rt::{self, Stream};
use crate::support::hostile::{Act, FullBacklog, Hostile};
use crate::support::Memcached;

const TIMEOUT: Duration = Duration::from_millis(200);

/// Generous room for scheduling on a loaded CI machine.
const MARGIN: Duration = Duration::from_secs(1);

/// Conn 0 answers its first request, then stalls; later connections answer.
fn stalls_once() -> Hostile {
    Hostile::start(|conn, request| {
        if conn == 0 && request >= 1 {
            Act::Stall
        } else {
            Act::Answer
        }
    })
}

/// Runs `future`, or gives up after `limit`: `None` means it hung.
async fn within<F: std::future::Future>(limit: Duration, future: F) -> Option<F::Output> {
    let future = std::pin::pin!(future);
    let timer = std::pin::pin!(rt::sleep(limit));
    match select(future, timer).await {
        Either::Left((output, _)) => Some(output),
        Either::Right(_) => None,
    }
}

/// Counts the gets of `count` that time out after one reply stalled.
async fn gets_after_a_stall<B: Backend>(client: &Client<B>, count: usize) -> usize {
    assert_eq!(client.get("k").await.unwrap(), None);
    assert!(matches!(client.get("k").await, Err(Error::Timeout(_))));
    let mut timeouts = 0;
    for _ in 0..count {
        match client.get("k").await {
            Ok(None) => {}
            Err(Error::Timeout(_)) => timeouts += 1,
            other => panic!("get after the stall: {other:?}"),
        }
    }
    timeouts
}

#[test]
fn a_stalled_reply_retires_the_socket_and_the_next_calls_succeed() {
    let server = stalls_once();
    let client = rt::block_on(rt::connect(Config::new(&server.address).timeout(TIMEOUT))).unwrap();
    let timeouts = rt::block_on(gets_after_a_stall(&client, 20));
    eprintln!("connection: {timeouts} of 20 gets after the stall timed out");
    assert_eq!(timeouts, 0);
    assert_eq!(server.connections(), 2, "one socket retired, one new");
}

#[test]
fn a_pool_retires_a_stalled_socket_too() {
    let server = stalls_once();
    let timeouts = rt::block_on(async {
        let config = Config::new(&server.address).timeout(TIMEOUT);
        let client = rt::connect_pool(config, PoolOptions::new().max_size(1)).unwrap();
        gets_after_a_stall(&client, 20).await
    });
    eprintln!("pool: {timeouts} of 20 gets after the stall timed out");
    assert_eq!(timeouts, 0);
    assert_eq!(server.connections(), 2);
}

#[test]
fn a_lost_reply_never_hands_answers_to_other_callers() {
    // The third request on the first socket is carried out, its reply lost.
    let server = Hostile::start(|conn, request| {
        if conn == 0 && request == 2 {
            Act::Drop
        } else {
            Act::Answer
        }
    });
    let config = Config::new(&server.address).timeout(Duration::from_millis(300));
    let client = Arc::new(rt::block_on(rt::connect(config)).unwrap());
    let (b, c) = rt::block_on(async {
        assert!(client.set("b", "2000").await.unwrap());
        assert!(client.set("c", "3000").await.unwrap());
        assert!(matches!(client.incr("a", 1).await, Err(Error::Timeout(_))));
        let pairs: Vec<_> = (0..4)
            .map(|_| {
                let client = client.clone();
                rt::spawn(async move {
                    let b = client.incr("b", 1).await;
                    let c = client.incr("c", 1).await;
                    (b, c)
                })
            })
            .collect();
        let (mut b, mut c) = (Vec::new(), Vec::new());
        for pair in pairs {
            let (one, other) = pair.await;
            b.push(one);
            c.push(other);
        }
        (b, c)
    });
    eprintln!("b answers {b:?}, c answers {c:?}");
    let mut b: Vec<u64> = b.into_iter().map(|r| r.unwrap().unwrap()).collect();
    let mut c: Vec<u64> = c.into_iter().map(|r| r.unwrap().unwrap()).collect();
    b.sort_unstable();
    c.sort_unstable();
    assert_eq!(b, [2001, 2002, 2003, 2004]);
    assert_eq!(c, [3001, 3002, 3003, 3004]);
}

#[test]
fn calls_in_flight_on_a_retired_socket_fail_at_once_with_a_retryable_error() {
    let server = Hostile::start(|conn, _| if conn == 0 { Act::Stall } else { Act::Answer });
    let mut options = ConnectionOptions::default();
    options.timeout = Some(Duration::from_millis(300));
    let connection = Connection::new(connector(&server.address), rt::transport(), options);
    let client = Arc::new(Client::new(connection));
    let results = rt::block_on(async {
        let first = {
            let client = client.clone();
            rt::spawn(async move { client.get("k").await })
        };
        // Later calls, queued behind the stalled one.
        rt::sleep(Duration::from_millis(150)).await;
        let later: Vec<_> = (0..8)
            .map(|_| {
                let client = client.clone();
                rt::spawn(async move {
                    let started = Instant::now();
                    (client.get("k").await, started.elapsed())
                })
            })
            .collect();
        assert!(matches!(first.await, Err(Error::Timeout(_))));
        let mut results = Vec::new();
        for call in later {
            results.push(call.await);
        }
        results
    });
    for (result, took) in &results {
        // They end when the first times out, well before their own timeout.
        assert!(
            matches!(result, Err(Error::ConnectionRetired)),
            "{result:?}"
        );
        assert!(result.as_ref().unwrap_err().is_connection_error());
        assert!(*took < Duration::from_millis(300), "{took:?}");
    }
    rt::block_on(async { assert_eq!(client.get("k").await.unwrap(), None) });
}

#[test]
fn a_cancelled_call_whose_reply_never_comes_retires_the_socket() {
    let server = stalls_once();
    let client = rt::block_on(rt::connect(Config::new(&server.address).timeout(TIMEOUT))).unwrap();
    rt::block_on(async {
        assert_eq!(client.get("k").await.unwrap(), None);
        // Given up on long before its timeout: its reply is owed, not yet overdue.
        assert!(within(Duration::from_millis(20), client.get("k"))
            .await
            .is_none());
        rt::sleep(TIMEOUT + Duration::from_millis(100)).await;
        // By now the socket was retired: this call opens a new one.
        assert_eq!(client.get("k").await.unwrap(), None);
    });
    assert_eq!(server.connections(), 2);
}

#[test]
fn a_cancelled_call_whose_reply_comes_in_time_keeps_the_socket() {
    let server = Hostile::start(
        |_, request| {
            if request == 1 {
                Act::Late
            } else {
                Act::Answer
            }
        },
    );
    let client = rt::block_on(rt::connect(Config::new(&server.address).timeout(TIMEOUT))).unwrap();
    rt::block_on(async {
        assert_eq!(client.get("k").await.unwrap(), None);
        // Written, then given up on; its reply comes 100 ms later, within the timeout.
        assert!(within(Duration::from_millis(20), client.get("k"))
            .await
            .is_none());
        rt::sleep(TIMEOUT + Duration::from_millis(100)).await;
        assert_eq!(client.get("k").await.unwrap(), None);
    });
    assert_eq!(server.connections(), 1, "the socket was kept");
}

#[test]
fn a_cluster_node_that_stalled_once_rejoins() {
    let healthy = Memcached::shared();
    let stalled = stalls_once();
    let options = ClusterOptions::default()
        .probes_before_dead(0)
        .dead_timeout(Duration::from_millis(300));
    let mut connection = ConnectionOptions::default();
    connection.timeout = Some(TIMEOUT);
    let addresses = [healthy.address.clone(), stalled.address.clone()];
    let cluster = memclient::Cluster::open(&addresses, rt::transport(), connection, options)
        .expect("addresses parse");
    let key = (0..)
        .map(|i| format!("rejoin:{i}"))
        .find(|k| cluster.locate(k.as_bytes()).as_deref() == Some(stalled.address.as_str()))
        .unwrap();
    let client = Client::new(cluster.clone());
    rt::block_on(async {
        assert_eq!(client.get(&key).await.unwrap(), None);
        assert!(matches!(client.get(&key).await, Err(Error::Timeout(_))));
        assert!(matches!(cluster.status()[1].1, NodeStatus::Dead { .. }));
        rt::sleep(Duration::from_millis(400)).await;
        // The probe opens a new socket instead of queueing behind the stuck one.
        assert_eq!(client.get(&key).await.unwrap(), None);
    });
    assert_eq!(cluster.status()[1].1, NodeStatus::Healthy);
}

fn connector(address: &str) -> impl memclient::Connect<Stream> {
    let address: memclient::runtime::Address = address.parse().unwrap();
    let transport = rt::transport();
    move || {
        use memclient::runtime::Transport;
        transport.connect(&address, &Default::default())
    }
}

/// 64 concurrent calls on a connection whose connects never complete: the
/// times each took to fail, sorted.
fn sixty_four_calls(connection: Connection<Stream>) -> Vec<Duration> {
    let client = Arc::new(Client::new(connection));
    let mut took = rt::block_on(async {
        let calls: Vec<_> = (0..64)
            .map(|_| {
                let client = client.clone();
                rt::spawn(async move {
                    let started = Instant::now();
                    let result = client.get("k").await;
                    assert!(matches!(result, Err(Error::Timeout(_))), "{result:?}");
                    started.elapsed()
                })
            })
            .collect();
        let mut took = Vec::new();
        for call in calls {
            took.push(call.await);
        }
        took
    });
    took.sort();
    eprintln!(
        "64 calls: fastest {:?}, median {:?}, slowest {:?}",
        took[0], took[32], took[63]
    );
    took
}

fn reconnect_options() -> ConnectionOptions {
    let mut options = ConnectionOptions::default();
    options.connect_timeout = Some(Duration::from_millis(200));
    options.timeout = Some(TIMEOUT);
    options
}

#[test]
fn sixty_four_calls_share_one_reconnect_against_a_full_backlog() {
    let backlog = FullBacklog::start();
    let connection = Connection::new(
        connector(&backlog.address),
        rt::transport(),
        reconnect_options(),
    );
    let took = sixty_four_calls(connection);
    assert!(took[63] < Duration::from_millis(400) + MARGIN, "{took:?}");
}

#[test]
fn sixty_four_calls_share_one_reconnect_against_a_connect_that_hangs() {
    let attempts = Arc::new(AtomicUsize::new(0));
    let counted = attempts.clone();
    let connector = move || -> memclient::runtime::BoxFuture<'static, std::io::Result<Stream>> {
        counted.fetch_add(1, Ordering::SeqCst);
        Box::pin(futures_util::future::pending())
    };
    let connection = Connection::new(connector, rt::transport(), reconnect_options());
    let took = sixty_four_calls(connection);
    assert!(took[63] < Duration::from_millis(400) + MARGIN, "{took:?}");
    assert_eq!(attempts.load(Ordering::SeqCst), 1, "one shared attempt");
}

/// A call that joins a connect attempt begun before it, and sees it fail,
/// tries once more while its own timeout leaves time: here the first
/// attempt hangs (a SYN lost to a full backlog) but the server answers
/// the next one, so the joiner succeeds instead of inheriting the timeout.
#[test]
fn a_call_that_joined_a_failed_connect_attempt_tries_once_more_in_its_time_left() {
    let server = Memcached::shared();
    let attempts = Arc::new(AtomicUsize::new(0));
    let counted = attempts.clone();
    let real = connector(&server.address);
    let connector = move || -> memclient::runtime::BoxFuture<'static, std::io::Result<Stream>> {
        match counted.fetch_add(1, Ordering::SeqCst) {
            0 => Box::pin(futures_util::future::pending()),
            _ => memclient::Connect::connect(&real),
        }
    };
    let connection = Connection::new(connector, rt::transport(), reconnect_options());
    let client = Arc::new(Client::new(connection));
    rt::block_on(async {
        let first = rt::spawn({
            let client = client.clone();
            async move { client.get("joined:k").await }
        });
        while attempts.load(Ordering::SeqCst) == 0 {
            rt::sleep(Duration::from_millis(2)).await;
        }
        // Joins the hanging attempt 80 ms before its connect timeout ends
        // it: the joiner then has 120 ms of its own 200 ms left.
        rt::sleep(Duration::from_millis(120)).await;
        let started = Instant::now();
        let second = client.get("joined:k").await;
        assert!(matches!(first.await, Err(Error::Timeout(_))));
        assert_eq!(second.expect("the fresh attempt connects"), None);
        assert!(started.elapsed() < TIMEOUT + MARGIN);
    });
    assert_eq!(attempts.load(Ordering::SeqCst), 2, "one fresh attempt");
}

#[test]
fn a_client_with_default_options_times_out_on_a_silent_server() {
    let server = Hostile::silent();
    let config = Config::new(&server.address);
    assert_eq!(config.connection_options().timeout, Some(DEFAULT_TIMEOUT));
    let client = rt::block_on(rt::connect(config)).unwrap();
    // The bound is loose: a loaded CI machine can be late by a second or two;
    // what matters is that the call ends, with the default limit as its error.
    let started = Instant::now();
    let result = rt::block_on(within(DEFAULT_TIMEOUT + 3 * MARGIN, client.get("k")));
    let result = result.expect("the call hung past its default timeout");
    assert!(matches!(result, Err(Error::Timeout(limit)) if limit == DEFAULT_TIMEOUT));
    assert!(started.elapsed() >= DEFAULT_TIMEOUT);
}

#[test]
fn callers_beyond_max_in_flight_wait_for_room_within_their_timeout() {
    let server = Hostile::silent();
    let mut options = ConnectionOptions::default();
    options.timeout = Some(Duration::from_millis(500));
    options.max_in_flight = 4;
    let connection = Connection::new(connector(&server.address), rt::transport(), options);
    let client = Arc::new(Client::new(connection));
    let (sent, results) = rt::block_on(async {
        let calls: Vec<_> = (0..16)
            .map(|_| {
                let client = client.clone();
                rt::spawn(async move { client.get("k").await })
            })
            .collect();
        rt::sleep(Duration::from_millis(300)).await;
        // Only the calls that found room reached the server.
        let sent = server.requests();
        let mut results = Vec::new();
        for call in calls {
            results.push(call.await);
        }
        (sent, results)
    });
    eprintln!("{sent} of 16 requests reached the server with max_in_flight 4");
    assert_eq!(sent, 4);
    for result in results {
        assert!(
            matches!(result, Err(Error::Timeout(_) | Error::ConnectionRetired)),
            "{result:?}"
        );
    }
}

/// Values that count how many of them are still alive anywhere.
struct Tracked(Vec<u8>, Arc<AtomicUsize>);

impl AsRef<[u8]> for Tracked {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.1.fetch_sub(1, Ordering::SeqCst);
    }
}

fn set_request(live: &Arc<AtomicUsize>, i: usize) -> Request {
    live.fetch_add(1, Ordering::SeqCst);
    let value = Bytes::from_owner(Tracked(vec![b'x'; 100 * 1024], live.clone()));
    Request::Store(Store {
        command: StoreCommand::Set,
        key: Bytes::from(format!("big{i}")),
        flags: 0,
        exptime: 0,
        value,
        noreply: false,
    })
}

/// 960 sets of 100 KiB against a server that stopped reading, each given up
/// after `give_up`. Returns the values still alive after every caller left.
fn abandoned_sets(
    options: ConnectionOptions,
    give_up: Duration,
) -> (usize, Vec<Result<Response, Error>>) {
    let server = Hostile::deaf();
    let connection = Arc::new(Connection::new(
        connector(&server.address),
        rt::transport(),
        options,
    ));
    let live = Arc::new(AtomicUsize::new(0));
    let results = rt::block_on(async {
        let calls: Vec<_> = (0..960)
            .map(|i| {
                let (connection, request) = (connection.clone(), set_request(&live, i));
                rt::spawn(async move { within(give_up, connection.call(request)).await })
            })
            .collect();
        let mut results = Vec::new();
        for call in calls {
            if let Some(result) = call.await {
                results.push(result);
            }
        }
        // Let the driver see the callers leave.
        rt::sleep(Duration::from_millis(200)).await;
        results
    });
    let left = live.load(Ordering::SeqCst);
    eprintln!("{left} of 960 values of 100 KiB still held after every caller left");
    drop(connection);
    (left, results)
}

#[test]
fn cancelled_calls_free_their_requests_while_the_server_stops_reading() {
    // No call timeout, so nothing is retired: only the queue's own rules free memory.
    let mut options = ConnectionOptions::default();
    options.timeout = None;
    options.max_queued_bytes = 1 << 20;
    let (left, results) = abandoned_sets(options, Duration::from_millis(500));
    assert!(results.is_empty(), "a set was answered: {results:?}");
    // What is left was written: the driver's 1 MiB write buffer and what the
    // kernel took (a few MiB at most); never the 96 MiB the callers queued.
    assert!(left <= 160, "{left} values held");
}

#[test]
fn timed_out_calls_against_a_server_that_stops_reading_leave_nothing_behind() {
    let mut options = ConnectionOptions::default();
    options.timeout = Some(Duration::from_millis(300));
    options.max_queued_bytes = 1 << 20;
    let (left, results) = abandoned_sets(options, Duration::from_millis(300) + MARGIN);
    assert_eq!(results.len(), 960, "every call ended within its timeout");
    for result in &results {
        assert!(
            matches!(result, Err(Error::Timeout(_) | Error::ConnectionRetired)),
            "{result:?}"
        );
    }
    assert_eq!(left, 0);
}
