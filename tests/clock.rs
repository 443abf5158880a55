//! Time through the runtime's clock: a test runtime whose sleeps return at
//! once and move its clock drives `get_or_compute`'s wait without waiting.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use memclient::runtime::{BoxFuture, Runtime};
use memclient::{Client, Error};
use memclient_mock::MockMemcache;

/// A runtime whose clock moves only when something sleeps on it: each sleep
/// returns at once, the clock that much later.
#[derive(Clone)]
struct Virtual {
    now: Arc<Mutex<Instant>>,
    sleeps: Arc<AtomicUsize>,
}

impl Virtual {
    fn new() -> Self {
        Virtual {
            now: Arc::new(Mutex::new(Instant::now())),
            sleeps: Arc::default(),
        }
    }
}

impl Runtime for Virtual {
    fn spawn(&self, _future: BoxFuture<'static, ()>) {
        unreachable!("nothing is spawned over the mock");
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        *self.now.lock().unwrap() += duration;
        self.sleeps.fetch_add(1, Ordering::SeqCst);
        Box::pin(async {})
    }

    fn now(&self) -> Instant {
        *self.now.lock().unwrap()
    }
}

#[test]
fn a_loser_waits_out_its_wait_on_the_runtime_clock() {
    futures_lite::future::block_on(async {
        let mock = MockMemcache::new();
        let runtime = Virtual::new();
        let client = Client::new(mock.clone()).with_runtime(runtime.clone());
        // Another caller won the key and never publishes.
        let held = client
            .meta_get("k")
            .cas()
            .vivify(Duration::from_secs(300))
            .await
            .unwrap()
            .expect("a placeholder");
        assert!(held.won);

        let started = Instant::now();
        let result = client
            .get_or_compute("k", Duration::from_secs(60), || async {
                Ok::<_, Error>(memclient::CacheValue::from("never computed"))
            })
            .wait(Duration::from_secs(10))
            .poll(Duration::from_secs(1))
            .await;
        assert!(matches!(result, Err(Error::Timeout(limit)) if limit == Duration::from_secs(10)));
        // Ten polls of one virtual second fill the ten-second wait: the
        // deadline is read from the runtime's clock, not the wall's.
        assert_eq!(runtime.sleeps.load(Ordering::SeqCst), 10);
        assert!(started.elapsed() < Duration::from_secs(5), "no real wait");
    });
}
