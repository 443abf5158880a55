//! The pool under contention, with a full pool, idle connections, and a
//! server restarted mid-run.

use std::future::IntoFuture;
use std::sync::Arc;
use std::time::Duration;

use memclient::{Config, Error, PoolOptions};

use crate::rt;
use crate::support::{unique_prefix, Memcached};

#[test]
fn many_tasks_share_a_bounded_pool() {
    let config = Config::new(&Memcached::shared().address).key_prefix(unique_prefix("pool"));
    rt::block_on(async {
        let options = PoolOptions::new().max_size(4).max_in_flight(2);
        let client = Arc::new(rt::connect_pool(config, options).unwrap());
        let tasks: Vec<_> = (0..32)
            .map(|task| {
                let client = client.clone();
                rt::spawn(async move {
                    for round in 0..50 {
                        let key = format!("t{task}");
                        let value = format!("{task}:{round}");
                        assert!(client.set(&key, value.as_str()).await.unwrap());
                        let got = client.get(&key).await.unwrap().unwrap();
                        assert_eq!(got.as_str(), Some(value.as_str()));
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await;
        }
        let size = client.backend().size();
        assert!((1..=4).contains(&size), "pool opened {size} connections");
        assert_eq!(size, 4, "32 busy tasks should fill a pool of 4");
    });
}

#[test]
fn waiting_for_a_full_pool_times_out_with_its_own_error() {
    // A server that accepts and never answers keeps every call in flight.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for socket in listener.incoming().flatten() {
            held.push(socket);
        }
    });
    rt::block_on(async {
        let options = PoolOptions::new()
            .max_size(1)
            .max_in_flight(1)
            .wait_timeout(Some(Duration::from_millis(100)));
        let config = Config::new(&address).timeout(Duration::from_millis(600));
        let client = Arc::new(rt::connect_pool(config, options).unwrap());
        let holder = {
            let client = client.clone();
            rt::spawn(async move { client.get("held").await })
        };
        rt::sleep(Duration::from_millis(50)).await;
        match client.get("waiting").await {
            Err(Error::PoolTimeout(limit)) => assert_eq!(limit, Duration::from_millis(100)),
            other => panic!("a full pool: {other:?}"),
        }
        assert!(matches!(holder.await, Err(Error::Timeout(_))));
        // The slot is free again: the next call gets in (and times out on the silent server).
        assert!(matches!(client.get("again").await, Err(Error::Timeout(_))));
    });
}

#[test]
fn idle_connections_are_closed() {
    let config = Config::new(&Memcached::shared().address).key_prefix(unique_prefix("idle"));
    rt::block_on(async {
        let options = PoolOptions::new()
            .max_size(3)
            .idle_timeout(Some(Duration::from_millis(200)));
        let client = rt::connect_pool(config, options).unwrap();
        let calls = (0..3).map(|i| client.set(format!("k{i}"), "v").into_future());
        for stored in futures_util::future::join_all(calls).await {
            assert!(stored.unwrap());
        }
        assert!(client.backend().size() >= 1);
        rt::sleep(Duration::from_millis(300)).await;
        // The next checkout prunes the idle ones and opens one fresh connection.
        assert!(client.get("k0").await.unwrap().is_some());
        assert_eq!(client.backend().size(), 1);
    });
}

#[test]
fn the_pool_survives_a_server_restart() {
    let server = Memcached::start();
    let port = server.port;
    let config = Config::new(&server.address).timeout(Duration::from_secs(2));
    rt::block_on(async {
        let client = Arc::new(rt::connect_pool(config, PoolOptions::new().max_size(4)).unwrap());
        let work = |client: Arc<rt::PoolClient>| async move {
            let (mut ok, mut failed) = (0, 0);
            for i in 0..40 {
                match client.set(format!("k{i}"), "v").await {
                    Ok(_) => ok += 1,
                    Err(err) => {
                        assert!(err.is_connection_error(), "{err}");
                        failed += 1;
                    }
                }
            }
            (ok, failed)
        };
        assert_eq!(work(client.clone()).await, (40, 0));
        drop(server);
        let (_, failed) = work(client.clone()).await;
        assert!(failed > 0, "calls to a dead server fail");
        let _restarted = Memcached::start_on(port);
        assert_eq!(
            work(client.clone()).await,
            (40, 0),
            "all calls succeed once the server is back"
        );
    });
}

/// A server that answers `get`s with a 600-byte value; to the first request
/// of its first connection it sends the value, says so on `holding`, and
/// holds back the `END` until told on `finish`.
fn holds_a_reply_half_way() -> (
    String,
    std::sync::mpsc::Receiver<()>,
    std::sync::mpsc::Sender<()>,
) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let (finish, finished) = std::sync::mpsc::channel::<()>();
    let (hold, holding) = std::sync::mpsc::channel::<()>();
    let value = |key: &str| format!("VALUE {key} 0 600\r\n{}\r\n", "v".repeat(600));
    std::thread::spawn(move || {
        let mut finished = Some(finished);
        for (number, socket) in listener.incoming().flatten().enumerate() {
            let mut held = match number {
                0 => finished.take().map(|finished| (finished, hold.clone())),
                _ => None,
            };
            std::thread::spawn(move || {
                let mut reader = BufReader::new(socket.try_clone().unwrap());
                let mut socket = socket;
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                    let key = line.split_whitespace().nth(1).unwrap_or("k").to_string();
                    let _ = socket.write_all(value(&key).as_bytes());
                    if let Some((finished, hold)) = held.take() {
                        let _ = hold.send(());
                        let _ = finished.recv();
                    }
                    let _ = socket.write_all(b"END\r\n");
                    line.clear();
                }
            });
        }
    });
    (address, holding, finish)
}

#[test]
fn the_replies_in_progress_on_all_connections_share_the_pools_reply_budget() {
    let (address, holding, finish) = holds_a_reply_half_way();
    rt::block_on(async {
        // Each reply (about 640 bytes with its bookkeeping) fits alone; two at once do not.
        let options = PoolOptions::new().max_size(2).reply_budget(1000);
        assert_eq!(PoolOptions::new().reply_budget, 64 << 20);
        let client = Arc::new(rt::connect_pool(Config::new(&address), options).unwrap());
        let held = rt::spawn({
            let client = client.clone();
            async move { client.get("a").await }
        });
        // The first connection holds `a`'s value; the second gets `b`'s.
        holding
            .recv_timeout(Duration::from_secs(5))
            .expect("the first reply is under way");
        match client.get("b").await {
            Err(Error::Protocol(message)) => assert!(message.contains("reply_budget"), "{message}"),
            other => panic!("{other:?}"),
        }
        // The connection that broke the budget is gone; the holder is not.
        assert_eq!(client.backend().size(), 1);
        finish.send(()).unwrap();
        let value = held.await.unwrap().expect("the held reply completes");
        assert_eq!(value.as_bytes().map(<[u8]>::len), Some(600));
        // With the budget free again, the same reply fits.
        let again = client.get("b").await.unwrap().expect("a value");
        assert_eq!(again.as_bytes().map(<[u8]>::len), Some(600));
    });
}
