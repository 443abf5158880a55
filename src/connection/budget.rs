//! The bound on one connection's queue: how many calls and how many bytes of
//! unwritten requests it holds at once.
//!
//! A caller takes room before its request is queued and waits (within its
//! timeout) when there is none: backpressure instead of a queue that grows
//! as long as a stalled server lets it. Bytes are given back as soon as the
//! request leaves the queue (written, or freed because its caller gave up);
//! the call's place when the call ends.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use event_listener::Event;

use crate::Request;

pub(crate) struct Budget {
    used: Mutex<Used>,
    /// Notified whenever room is given back while someone waits, so
    /// waiters look again.
    freed: Event,
    /// Callers waiting for room: with none, giving room back notifies no
    /// one (a notification takes the event's lock).
    waiting: AtomicUsize,
    max_calls: usize,
    max_bytes: usize,
}

#[derive(Default)]
struct Used {
    calls: usize,
    bytes: usize,
}

/// Room for some calls; given back on drop.
pub(crate) struct CallsPermit {
    budget: Arc<Budget>,
    calls: usize,
}

/// Room for one queued request's bytes; given back on drop.
pub(crate) struct BytesPermit {
    budget: Arc<Budget>,
    bytes: usize,
}

impl Budget {
    pub(crate) fn new(max_calls: usize, max_bytes: usize) -> Arc<Budget> {
        Arc::new(Budget {
            used: Mutex::new(Used::default()),
            freed: Event::new(),
            waiting: AtomicUsize::new(0),
            max_calls: max_calls.max(1),
            max_bytes: max_bytes.max(1),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Used> {
        // Two counters, each update a single addition or subtraction: a
        // poisoned lock still holds consistent numbers.
        self.used.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits for room for `requests`, one call each. A batch larger than a
    /// limit fits once the connection holds nothing, so it is never refused
    /// for good.
    pub(crate) async fn admit(
        self: &Arc<Self>,
        requests: &[Request],
    ) -> (CallsPermit, Vec<BytesPermit>) {
        let weights: Vec<usize> = requests.iter().map(weight).collect();
        let bytes: usize = weights.iter().sum();
        let calls = requests.len();
        if !self.try_take(calls, bytes) {
            self.wait_for(calls, bytes).await;
        }
        let permits = weights
            .into_iter()
            .map(|bytes| BytesPermit {
                budget: self.clone(),
                bytes,
            })
            .collect();
        let calls = CallsPermit {
            budget: self.clone(),
            calls,
        };
        (calls, permits)
    }

    /// [`admit`](Self::admit) of one request, without the lists: the
    /// allocations of a single call are counted one by one (see BENCHMARKS.md).
    pub(crate) async fn admit_one(
        self: &Arc<Self>,
        request: &Request,
    ) -> (CallsPermit, BytesPermit) {
        let bytes = weight(request);
        // Room is usually there: look before listening, which allocates.
        if !self.try_take(1, bytes) {
            self.wait_for(1, bytes).await;
        }
        let calls = CallsPermit {
            budget: self.clone(),
            calls: 1,
        };
        let bytes = BytesPermit {
            budget: self.clone(),
            bytes,
        };
        (calls, bytes)
    }

    /// Takes room for `calls` and `bytes` once it is given back.
    async fn wait_for(&self, calls: usize, bytes: usize) {
        // Counted before the first look: room given back after that look
        // sees the count, and notifies.
        let _waiting = Waiting::on(&self.waiting);
        loop {
            // Listen before looking, so room given back in between is not missed.
            let listener = self.freed.listen();
            if self.try_take(calls, bytes) {
                return;
            }
            listener.await;
        }
    }

    fn try_take(&self, calls: usize, bytes: usize) -> bool {
        let mut used = self.lock();
        let calls_fit = used.calls == 0 || used.calls + calls <= self.max_calls;
        let bytes_fit = used.bytes == 0 || used.bytes + bytes <= self.max_bytes;
        if calls_fit && bytes_fit {
            used.calls += calls;
            used.bytes += bytes;
        }
        calls_fit && bytes_fit
    }

    fn give_back(&self, calls: usize, bytes: usize) {
        let mut used = self.lock();
        used.calls -= calls;
        used.bytes -= bytes;
        drop(used);
        if self.waiting.load(Ordering::SeqCst) > 0 {
            self.freed.notify(usize::MAX);
        }
    }
}

/// One caller counted among the waiters while it waits (or until its future
/// is dropped).
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn on(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        Waiting(count)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl CallsPermit {
    /// True when these are the only calls the connection holds: no other
    /// caller is using it.
    pub(crate) fn alone(&self) -> bool {
        self.budget.lock().calls <= self.calls
    }
}

impl Drop for CallsPermit {
    fn drop(&mut self) {
        self.budget.give_back(self.calls, 0);
    }
}

impl Drop for BytesPermit {
    fn drop(&mut self) {
        self.budget.give_back(0, self.bytes);
    }
}

/// What a queued request holds in memory: its keys and data blocks, plus a
/// little for the request itself.
fn weight(request: &Request) -> usize {
    const OVERHEAD: usize = 64;
    let keys: usize = request.keys().iter().map(|key| key.len()).sum();
    let data = match request {
        Request::Store(store) => store.value.len(),
        Request::Raw(raw) => raw.line.len() + raw.data.as_ref().map_or(0, |d| d.len()),
        Request::Meta(meta) => meta.data.as_ref().map_or(0, |d| d.len()),
        Request::MetaBatch(batch) => batch
            .iter()
            .map(|meta| meta.key.len() + meta.data.as_ref().map_or(0, |d| d.len()))
            .sum(),
        _ => 0,
    };
    OVERHEAD + keys + data
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn set(len: usize) -> Request {
        Request::Store(crate::Store {
            command: crate::StoreCommand::Set,
            key: Bytes::from_static(b"k"),
            flags: 0,
            exptime: 0,
            value: Bytes::from(vec![0; len]),
            noreply: false,
        })
    }

    #[test]
    fn a_waiting_caller_is_woken_when_room_is_given_back() {
        use std::future::Future;
        use std::task::{Context, Poll};

        let budget = Budget::new(1, 1000);
        let block = futures_lite::future::block_on;
        let request = set(10);
        let first = block(budget.admit_one(&request));
        let woken = Arc::new(WakeCount::default());
        let waker = std::task::Waker::from(woken.clone());
        let mut cx = Context::from_waker(&waker);
        let mut second = Box::pin(budget.admit_one(&request));
        assert!(second.as_mut().poll(&mut cx).is_pending());
        assert_eq!(budget.waiting.load(Ordering::SeqCst), 1);
        drop(first);
        assert!(woken.0.load(Ordering::SeqCst) > 0, "not woken");
        assert!(matches!(second.as_mut().poll(&mut cx), Poll::Ready(_)));
        assert_eq!(budget.waiting.load(Ordering::SeqCst), 0);
        drop(second);
        // A waiter that gives up is no longer counted.
        let held = block(budget.admit_one(&request));
        let mut gave_up = Box::pin(budget.admit_one(&request));
        assert!(gave_up.as_mut().poll(&mut cx).is_pending());
        drop(gave_up);
        assert_eq!(budget.waiting.load(Ordering::SeqCst), 0);
        drop(held);
    }

    #[derive(Default)]
    struct WakeCount(AtomicUsize);

    impl std::task::Wake for WakeCount {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn waits_for_room_and_lets_an_oversized_request_through_alone() {
        let budget = Budget::new(2, 1000);
        let block = futures_lite::future::block_on;
        let one = [set(800)];
        let (calls, bytes) = block(budget.admit(&one));
        // Bytes are full: a second request does not fit until they are given back.
        assert!(!budget.try_take(1, weight(&set(800))));
        drop(bytes);
        assert!(budget.try_take(1, weight(&set(800))));
        budget.give_back(1, weight(&set(800)));
        drop(calls);
        // Alone, a request larger than the limit is admitted.
        let three = [set(5000), set(5000), set(5000)];
        let (calls, bytes) = block(budget.admit(&three));
        assert!(!budget.try_take(1, 0));
        drop((calls, bytes));
        assert!(budget.try_take(2, 0));
    }
}
