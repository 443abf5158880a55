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

/// A stream that takes every write and never answers, nor wakes a reader.
struct Silent;

impl futures_util::AsyncRead for Silent {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        _: &mut Context<'_>,
        _: &mut [u8],
    ) -> Poll<std::io::Result<usize>> {
        Poll::Pending
    }
}

impl futures_util::AsyncWrite for Silent {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        _: &mut Context<'_>,
        bytes: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Poll::Ready(Ok(bytes.len()))
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(
        self: std::pin::Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[test]
fn a_call_waiting_on_the_socket_fails_when_its_driver_is_dropped() {
    rt::block_on(async {
        let (connection, driver) = Connection::from_stream(Silent);
        let client = Client::new(connection);
        // Alone, it writes its request and waits on a socket that never
        // answers (and, without a runtime, has no timeout).
        let waiting = rt::spawn(async move { client.get("k").await });
        rt::sleep(Duration::from_millis(50)).await;
        drop(driver);
        let error = within(Duration::from_secs(2), waiting)
            .await
            .expect("the call waiting on the socket was never woken")
            .unwrap_err();
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
fn a_call_waiting_on_the_socket_is_answered_when_another_task_takes_it_over() {
    // The get's reply comes 100 ms late, and a call from another task
    // queues behind it meanwhile.
    let server = Hostile::start(|_, request| if request == 1 { Act::Late } else { Act::Answer });
    // A timeout far past the test's limits: it must not be what wakes the call.
    let config = Config::new(&server.address).timeout(Duration::from_secs(30));
    rt::block_on(async {
        let client = rt::connect(config).await.unwrap().with_serde(RawBytes);
        assert!(client.set("a", Bytes::from_static(b"first")).await.unwrap());
        let sent = server.requests();
        // Alone on an idle connection, in a task of its own: it writes its
        // request and waits on the socket itself.
        let waiting = rt::spawn({
            let client = client.clone();
            async move { client.get("a").await }
        });
        assert!(
            within(Duration::from_secs(2), received(&server, sent + 1))
                .await
                .is_some(),
            "the get was never written"
        );
        // Another task's call queues, and the background driver takes the
        // socket over: it reads the late reply, and must wake the waiting call.
        let other = rt::spawn({
            let client = client.clone();
            async move { client.set("b", Bytes::from_static(b"second")).await }
        });
        let a = within(Duration::from_secs(2), waiting)
            .await
            .expect("the call waiting on the socket was never woken");
        assert_eq!(a.unwrap(), Some(Bytes::from_static(b"first")));
        assert!(within(Duration::from_secs(2), other)
            .await
            .expect("answered")
            .unwrap());
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
