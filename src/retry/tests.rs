//! Retry over a scripted backend and a runtime whose sleeps are recorded.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;

use super::decide::idempotent;
use super::*;
use crate::runtime::{BoxFuture, Runtime};
use crate::{
    ArithOp, Backend, Error, Request, Response, Result, RetrieveCommand, Store, StoreCommand,
};

/// A backend that answers from a script and records what it was sent.
#[derive(Default)]
struct Scripted {
    replies: Mutex<VecDeque<Result<Response>>>,
    sent: Mutex<Vec<Request>>,
}

impl Scripted {
    fn new(replies: impl IntoIterator<Item = Result<Response>>) -> Self {
        Scripted {
            replies: Mutex::new(replies.into_iter().collect()),
            sent: Mutex::default(),
        }
    }

    fn sent(&self) -> Vec<Request> {
        self.sent.lock().unwrap().clone()
    }
}

impl Backend for Scripted {
    fn call(&self, request: Request) -> impl Future<Output = Result<Response>> + Send {
        self.sent.lock().unwrap().push(request);
        let reply = self
            .replies
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(Err(Error::Server("script ran out".into())));
        async move { reply }
    }
}

/// A runtime whose sleeps end at once, and are recorded.
#[derive(Clone, Default)]
struct Clock(Arc<Mutex<Vec<Duration>>>);

impl Runtime for Clock {
    fn spawn(&self, _future: BoxFuture<'static, ()>) {}

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        self.0.lock().unwrap().push(duration);
        Box::pin(async {})
    }
}

fn get(key: &'static str) -> Request {
    Request::Retrieve(crate::Retrieve {
        command: RetrieveCommand::Get,
        keys: vec![Bytes::from_static(key.as_bytes())],
    })
}

fn io_error() -> Error {
    Error::from(std::io::Error::from(std::io::ErrorKind::ConnectionReset))
}

fn make(script: Scripted, options: RetryOptions) -> (Retry<Scripted>, Clock) {
    let clock = Clock::default();
    (Retry::new(script, clock.clone(), options), clock)
}

#[test]
fn retries_transient_errors_until_success() {
    let script = Scripted::new([
        Err(io_error()),
        Err(Error::Timeout(Duration::from_millis(5))),
        Ok(Response::Values(vec![])),
    ]);
    let (retry, clock) = make(script, RetryOptions::default().jitter(0.0));
    let result = smol::block_on(retry.call(get("a")));
    assert_eq!(result.unwrap(), Response::Values(vec![]));
    assert_eq!(retry.inner().sent().len(), 3);
    // Exponential: 10 ms, then 20 ms.
    assert_eq!(
        *clock.0.lock().unwrap(),
        vec![Duration::from_millis(10), Duration::from_millis(20)]
    );
}

#[test]
fn a_retired_connection_is_retried_like_a_closed_one() {
    let script = Scripted::new([Err(Error::ConnectionRetired), Ok(Response::Values(vec![]))]);
    let (retry, _) = make(script, RetryOptions::default());
    let result = smol::block_on(retry.call(get("a")));
    assert_eq!(result.unwrap(), Response::Values(vec![]));
    let off = RetryOn {
        connection_closed: false,
        ..RetryOn::default()
    };
    assert!(!off.retries(&Error::ConnectionRetired));
}

#[test]
fn gives_up_after_the_attempts() {
    let script = Scripted::new([
        Err(Error::ConnectionClosed),
        Err(Error::ConnectionClosed),
        Err(Error::ConnectionClosed),
        Ok(Response::Stored),
    ]);
    let (retry, _) = make(script, RetryOptions::default());
    let result = smol::block_on(retry.call(get("a")));
    assert!(matches!(result, Err(Error::ConnectionClosed)));
    assert_eq!(retry.inner().sent().len(), 3);
}

#[test]
fn never_retries_what_would_fail_again() {
    for error in [
        Error::IllegalInput("bad key".into()),
        Error::Client("bad data chunk".into()),
        Error::Server("out of memory".into()),
        Error::UnknownCommand(String::new()),
        Error::Protocol("garbled".into()),
    ] {
        let script = Scripted::new([Err(error.clone()), Ok(Response::Stored)]);
        let (retry, clock) = make(script, RetryOptions::default());
        assert!(smol::block_on(retry.call(get("a"))).is_err(), "{error}");
        assert_eq!(retry.inner().sent().len(), 1, "{error}");
        assert!(clock.0.lock().unwrap().is_empty());
    }
}

#[test]
fn chosen_kinds_only() {
    let on = RetryOn {
        io: false,
        protocol: true,
        ..RetryOn::default()
    };
    let script = Scripted::new([Err(Error::Protocol("x".into())), Ok(Response::Stored)]);
    let (retry, _) = make(script, RetryOptions::default().retry_on(on));
    assert_eq!(
        smol::block_on(retry.call(get("a"))).unwrap(),
        Response::Stored
    );
    let script = Scripted::new([Err(io_error()), Ok(Response::Stored)]);
    let (retry, _) = make(script, RetryOptions::default().retry_on(on));
    assert!(smol::block_on(retry.call(get("a"))).is_err());
}

#[test]
fn non_idempotent_requests_only_when_allowed() {
    let incr = Request::Arith {
        op: ArithOp::Incr,
        key: Bytes::from_static(b"n"),
        delta: 1,
        noreply: false,
    };
    let script = Scripted::new([Err(Error::Timeout(Duration::ZERO)), Ok(Response::Number(1))]);
    let (retry, _) = make(script, RetryOptions::default());
    assert!(smol::block_on(retry.call(incr.clone())).is_err());
    let script = Scripted::new([Err(Error::Timeout(Duration::ZERO)), Ok(Response::Number(1))]);
    let (retry, _) = make(script, RetryOptions::default().non_idempotent(true));
    assert_eq!(
        smol::block_on(retry.call(incr)).unwrap(),
        Response::Number(1)
    );
    let append = Request::Store(Store {
        command: StoreCommand::Append,
        key: Bytes::from_static(b"k"),
        flags: 0,
        exptime: 0,
        value: Bytes::from_static(b"x"),
        noreply: false,
    });
    assert!(!idempotent(&append));
}

#[test]
fn batches_retry_only_their_failures() {
    let script = Scripted::new([
        Ok(Response::Stored),
        Err(io_error()),
        Ok(Response::Deleted),
        // The retry batch: only the second request.
        Ok(Response::NotFound),
    ]);
    let (retry, clock) = make(script, RetryOptions::default());
    let replies = smol::block_on(retry.call_many(vec![get("a"), get("b"), get("c")]));
    let replies: Vec<_> = replies.into_iter().map(Result::unwrap).collect();
    assert_eq!(
        replies,
        vec![Response::Stored, Response::NotFound, Response::Deleted]
    );
    assert_eq!(retry.inner().sent()[3], get("b"));
    assert_eq!(clock.0.lock().unwrap().len(), 1);
}

#[test]
fn jitter_stays_within_the_delay_and_varies() {
    let (retry, _) = make(
        Scripted::default(),
        RetryOptions::default()
            .jitter(1.0)
            .delay(Duration::from_millis(100))
            .max_delay(Duration::from_millis(150)),
    );
    let delays: Vec<Duration> = (0..100).map(|_| retry.delay(1)).collect();
    assert!(delays.iter().all(|d| *d <= Duration::from_millis(100)));
    assert!(delays.iter().any(|d| *d != delays[0]));
    // Capped by max_delay, whatever the retry number.
    assert!(retry.delay(u32::MAX) <= Duration::from_millis(150));
    let (plain, _) = retry_with_jitter(f64::NAN);
    assert_eq!(plain.delay(2), Duration::from_millis(20));
}

#[test]
fn a_predicate_decides_by_error_and_request() {
    let only_reads_out_of_memory = RetryOptions::default().retry_if(|error, request| {
        matches!(request, Request::Retrieve(_)) && matches!(error, Error::Server(_))
    });
    let oom = || Error::Server("out of memory".into());
    // A server error, which retry_on never retries, on a read: retried.
    let script = Scripted::new([Err(oom()), Ok(Response::Values(vec![]))]);
    let (retry, _) = make(script, only_reads_out_of_memory.clone());
    assert_eq!(
        smol::block_on(retry.call(get("a"))).unwrap(),
        Response::Values(vec![])
    );
    // The same error on a write: not retried.
    let set = Request::Store(Store {
        command: StoreCommand::Set,
        key: Bytes::from_static(b"k"),
        flags: 0,
        exptime: 0,
        value: Bytes::from_static(b"x"),
        noreply: false,
    });
    let script = Scripted::new([Err(oom()), Ok(Response::Stored)]);
    let (retry, _) = make(script, only_reads_out_of_memory.clone());
    assert_eq!(smol::block_on(retry.call(set)), Err(oom()));
    assert_eq!(retry.inner().sent().len(), 1);
    // An I/O error, which retry_on would retry: the rule says no.
    let script = Scripted::new([Err(io_error()), Ok(Response::Values(vec![]))]);
    let (retry, _) = make(script, only_reads_out_of_memory);
    assert!(smol::block_on(retry.call(get("a"))).is_err());
    assert_eq!(retry.inner().sent().len(), 1);
}

#[test]
fn a_predicate_does_not_lift_the_idempotency_rule() {
    let incr = Request::Arith {
        op: ArithOp::Incr,
        key: Bytes::from_static(b"n"),
        delta: 1,
        noreply: false,
    };
    let always = RetryOptions::default().retry_if(|_, _| true);
    let script = Scripted::new([Err(io_error()), Ok(Response::Number(1))]);
    let (retry, _) = make(script, always.clone());
    assert!(smol::block_on(retry.call(incr.clone())).is_err());
    let script = Scripted::new([Err(io_error()), Ok(Response::Number(1))]);
    let (retry, _) = make(script, always.non_idempotent(true));
    assert_eq!(
        smol::block_on(retry.call(incr)).unwrap(),
        Response::Number(1)
    );
}

fn retry_with_jitter(jitter: f64) -> (Retry<Scripted>, Clock) {
    make(Scripted::default(), RetryOptions::default().jitter(jitter))
}
