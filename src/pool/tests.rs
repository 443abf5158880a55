//! The pool's unit tests: sizing, idle ages on the runtime's clock, checkout.

use std::time::Duration;

use super::*;
use crate::runtime::BoxFuture;

/// A runtime for checkouts alone: nothing here connects, spawns or
/// sleeps, and its clock moves only when the test moves it.
#[derive(Clone)]
struct Idle(Arc<Mutex<Instant>>);

impl Idle {
    fn new() -> Self {
        Idle(Arc::new(Mutex::new(Instant::now())))
    }

    fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }
}

impl Runtime for Idle {
    fn spawn(&self, _future: BoxFuture<'static, ()>) {}
    fn sleep(&self, _duration: Duration) -> BoxFuture<'static, ()> {
        Box::pin(std::future::pending())
    }
    fn now(&self) -> Instant {
        *self.0.lock().unwrap()
    }
}

type TestPool = Pool<futures_util::io::Cursor<Vec<u8>>>;

fn pool_on(clock: Idle, options: PoolOptions) -> TestPool {
    let never = || -> BoxFuture<'static, std::io::Result<_>> {
        Box::pin(async { Err(std::io::ErrorKind::Unsupported.into()) })
    };
    Pool::new(never, clock, ConnectionOptions::default(), options)
}

fn pool(max_size: usize) -> TestPool {
    let options = PoolOptions::new().max_size(max_size).max_in_flight(2);
    pool_on(Idle::new(), options)
}

fn in_flight(pool: &TestPool) -> Vec<usize> {
    pool.inner
        .lock()
        .iter()
        .map(|slot| slot.in_flight)
        .collect()
}

#[test]
fn a_checkout_of_a_removed_connection_never_touches_its_successor() {
    let pool = pool(1);
    let first = pool.try_checkout(1).expect("room");
    let mut second = pool.try_checkout(1).expect("room on the same connection");
    // The second call fails on the connection: it is removed from the pool.
    second.broken = true;
    drop(second);
    assert!(in_flight(&pool).is_empty());
    // A new connection takes the free place and has one call of its own.
    let third = pool.try_checkout(1).expect("room on a new connection");
    assert_eq!(in_flight(&pool), vec![1]);
    // The first call ends: its connection is gone, the new one keeps its call.
    drop(first);
    assert_eq!(in_flight(&pool), vec![1]);
    drop(third);
    assert_eq!(in_flight(&pool), vec![0]);
}

#[test]
fn a_connection_idle_past_the_idle_timeout_of_the_runtime_clock_is_replaced() {
    let clock = Idle::new();
    let options = PoolOptions::new()
        .max_size(1)
        .idle_timeout(Some(Duration::from_secs(60)));
    let pool = pool_on(clock.clone(), options);
    let first = pool.try_checkout(1).expect("room").id;
    clock.advance(Duration::from_secs(59));
    let kept = pool.try_checkout(1).expect("room").id;
    assert_eq!(kept, first, "59 s idle: still the same connection");
    clock.advance(Duration::from_secs(61));
    let fresh = pool.try_checkout(1).expect("room").id;
    assert_ne!(fresh, first, "61 s idle: closed, and a new one opened");
    assert_eq!(pool.size(), 1);
}

#[test]
fn a_zero_size_or_zero_in_flight_counts_as_one_as_documented() {
    let options = PoolOptions::new().max_size(0).max_in_flight(0);
    assert_eq!((options.max_size, options.max_in_flight), (0, 0));
    let pool = pool_on(Idle::new(), options);
    let held = pool.try_checkout(1).expect("one connection, one call");
    assert!(
        pool.try_checkout(1).is_none(),
        "no second call, no second connection"
    );
    drop(held);
    assert!(pool.try_checkout(1).is_some());
}
