//! Who drives a connection's socket: a lone call on an idle connection
//! writes and reads in its own task; the background driver takes over
//! whatever that call leaves, and whatever it cannot see.

use std::future::{Future, IntoFuture};
use std::pin::pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::{select, Either};
use memclient::serde::RawBytes;
use memclient::{Client, Config, Connection};
use memclient_mock::MockMemcache;

use crate::rt;
use crate::support::hostile::{Act, Hostile};

/// Polls `future` once, with a waker that does nothing.
fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    let waker = futures_util::task::noop_waker();
    let mut cx = Context::from_waker(&waker);
    std::pin::Pin::new(future).poll(&mut cx)
}

/// Returns once `server` has received `count` requests.
async fn received(server: &Hostile, count: usize) {
    while server.requests() < count {
        rt::sleep(Duration::from_millis(1)).await;
    }
}

/// `future`'s output, or `None` if `limit` passes first.
async fn within<F: Future>(limit: Duration, future: F) -> Option<F::Output> {
    match select(pin!(future), pin!(rt::sleep(limit))).await {
        Either::Left((output, _)) => Some(output),
        Either::Right(_) => None,
    }
}

#[test]
fn a_lone_call_is_answered_before_the_driver_ever_runs() {
    rt::block_on(async {
        let server = MockMemcache::new();
        let (connection, driver) = Connection::from_stream(server.connect());
        let client = Client::new(connection);
        // The driver is alive but never polled: each call, alone on the
        // connection, writes its request and reads its reply itself.
        assert!(client.set("k", "v").await.unwrap());
        let value = client.get("k").await.unwrap();
        assert_eq!(
            value.and_then(|v| v.as_str().map(str::to_owned)),
            Some("v".into())
        );
        assert_eq!(client.get("missing").await.unwrap(), None);
        drop(driver);
        // Without its driver the socket is gone: calls fail, none hangs.
        let error = client.get("k").await.unwrap_err();
        assert!(error.is_connection_error(), "{error}");
    });
}

#[test]
fn a_call_put_aside_while_it_holds_the_socket_holds_up_no_other_call() {
    // The second request's reply (the `get` set aside) comes 100 ms late,
    // so that call is still waiting when it is put aside.
    let server = Hostile::start(|_, request| if request == 1 { Act::Late } else { Act::Answer });
    let config = Config::new(&server.address).timeout(Duration::from_secs(5));
    rt::block_on(async {
        let client = rt::connect(config).await.unwrap().with_serde(RawBytes);
        assert!(client.set("a", Bytes::from_static(b"first")).await.unwrap());
        // Polled once: it found the connection idle, so it holds the socket
        // and has written its request. Then its owner sets it aside.
        let mut aside = Box::pin(client.get("a").into_future());
        assert!(poll_once(&mut aside).is_pending());
        // Another call on the same connection goes through all the same: the
        // background driver takes the socket over.
        let stored = within(
            Duration::from_secs(2),
            client.set("b", Bytes::from_static(b"second")).into_future(),
        )
        .await;
        assert!(stored
            .expect("the second call waited on the one set aside")
            .unwrap());
        assert_eq!(
            client.get("b").await.unwrap(),
            Some(Bytes::from_static(b"second"))
        );
        // The call set aside still gets its own answer, not another's.
        let a = within(Duration::from_secs(2), aside)
            .await
            .expect("answered");
        assert_eq!(a.unwrap(), Some(Bytes::from_static(b"first")));
    });
    assert_eq!(server.connections(), 1, "one socket throughout");
}

#[test]
fn a_call_dropped_while_it_holds_the_socket_leaves_the_next_calls_their_own_answers() {
    // Each round is a set, a get that is dropped, and a get of the set key;
    // the dropped get's reply comes 100 ms late, so it is surely still owed
    // when its call is dropped.
    const ROUNDS: usize = 10;
    let server = Hostile::start(|_, request| {
        if request % 3 == 1 {
            Act::Late
        } else {
            Act::Answer
        }
    });
    let config = Config::new(&server.address).timeout(Duration::from_secs(5));
    rt::block_on(async {
        let client = rt::connect(config).await.unwrap().with_serde(RawBytes);
        for i in 0..ROUNDS {
            let key = format!("k{i}");
            let value = Bytes::from(format!("v{i}"));
            assert!(client.set(&key, value.clone()).await.unwrap());
            // Written, then dropped before its reply is read: the background
            // driver reads that reply and drops it. The first poll usually
            // writes the request itself; on a busy machine it may find the
            // background driver still in its pass and only queue it, so the
            // call is dropped once the server has it, its reply surely owed.
            let sent = server.requests();
            let mut dropped = Box::pin(client.get("other").into_future());
            assert!(poll_once(&mut dropped).is_pending(), "its reply is late");
            assert!(
                within(Duration::from_secs(2), received(&server, sent + 1))
                    .await
                    .is_some(),
                "the request set aside was never written"
            );
            drop(dropped);
            let read = within(Duration::from_secs(2), client.get(&key))
                .await
                .expect("answered")
                .unwrap();
            assert_eq!(read, Some(value));
        }
    });
    assert_eq!(server.connections(), 1, "no socket was retired");
}
