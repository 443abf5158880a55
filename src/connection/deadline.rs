//! The calls of one connection share their timer.
//!
//! Every call has a deadline, and a timer per call costs about four heap
//! allocations on smol (the boxed sleep, and the reactor's bookkeeping of one
//! more timer), more than the rest of a `get`. But one connection's calls
//! share a timeout, so a later call's deadline is never earlier than an
//! earlier call's: a call can wait on the timer of the call before it, which
//! fires at or before its own deadline, and arm a timer of its own only for
//! what is left when that one fires (rare: a call still waiting two seconds
//! in). A timer never fires late this way, it only hands over early; there
//! is no task involved, each call still sleeps in its own future.

use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use futures_util::future::{FutureExt, Shared};

use crate::runtime::{BoxFuture, Runtime};

type Sleep = Shared<BoxFuture<'static, ()>>;

/// The latest timer of a connection's calls, and when it fires.
#[derive(Default)]
pub(crate) struct SharedTimer {
    latest: Mutex<Option<(Instant, Sleep)>>,
}

impl SharedTimer {
    fn lock(&self) -> MutexGuard<'_, Option<(Instant, Sleep)>> {
        // One assignment at a time: a poisoned lock is still consistent.
        self.latest.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Completes at `deadline`, never before it. `now` is a moment ago, as
    /// the caller read the clock for its deadline (a second read costs as
    /// much as the rest of the timer's set-up): an older `now` can only
    /// make the timer fire a little later, never before `deadline`.
    pub(crate) async fn until(&self, runtime: &dyn Runtime, deadline: Instant, now: Instant) {
        let sleep = {
            let mut latest = self.lock();
            match &*latest {
                // Fires in the future, and no later than this deadline.
                Some((at, sleep)) if *at > now && *at <= deadline => sleep.clone(),
                _ => {
                    let sleep = runtime.sleep(deadline - now.min(deadline)).shared();
                    *latest = Some((deadline, sleep.clone()));
                    sleep
                }
            }
        };
        sleep.await;
        // The shared timer fired at its own deadline, at or before this one.
        let now = Instant::now();
        if now < deadline {
            runtime.sleep(deadline - now).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    /// A runtime whose sleeps are real threads, counted.
    #[derive(Default)]
    struct Counting {
        sleeps: AtomicUsize,
    }

    impl Runtime for Arc<Counting> {
        fn spawn(&self, future: BoxFuture<'static, ()>) {
            std::thread::spawn(move || futures_lite::future::block_on(future));
        }

        fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
            self.sleeps.fetch_add(1, Ordering::SeqCst);
            let (sender, receiver) = futures_channel::oneshot::channel::<()>();
            std::thread::spawn(move || {
                std::thread::sleep(duration);
                let _ = sender.send(());
            });
            Box::pin(async move {
                let _ = receiver.await;
            })
        }
    }

    #[test]
    fn later_deadlines_share_a_timer_and_none_fires_early() {
        let runtime = Arc::new(Counting::default());
        let timer = SharedTimer::default();
        let start = Instant::now();
        let first = start + Duration::from_millis(60);
        let second = start + Duration::from_millis(90);
        let both = futures_util::future::join(
            async {
                timer.until(&runtime, first, start).await;
                Instant::now()
            },
            async {
                timer.until(&runtime, second, start).await;
                Instant::now()
            },
        );
        let (a, b) = futures_lite::future::block_on(both);
        assert!(a >= first, "fired {:?} early", first - a);
        assert!(b >= second, "fired {:?} early", second - b);
        // One shared sleep, and one for the 30 ms the second had left.
        assert_eq!(runtime.sleeps.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn an_earlier_deadline_gets_its_own_timer() {
        let runtime = Arc::new(Counting::default());
        let timer = SharedTimer::default();
        let start = Instant::now();
        let late = start + Duration::from_secs(30);
        let early = start + Duration::from_millis(20);
        // Arms the 30-second timer, then gives up on it at once.
        let mut waiting = Box::pin(timer.until(&runtime, late, start));
        let waker = futures_util::task::noop_waker();
        let _ = waiting
            .as_mut()
            .poll(&mut std::task::Context::from_waker(&waker));
        drop(waiting);
        futures_lite::future::block_on(timer.until(&runtime, early, start));
        assert!(Instant::now() >= early);
        assert!(Instant::now() < late);
        assert_eq!(runtime.sleeps.load(Ordering::SeqCst), 2);
    }
}
