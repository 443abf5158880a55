//! One request's place in a connection: its request until it is written,
//! then its reply until the caller takes it.
//!
//! The slot is also the way back: the driver leaves the reply in it and wakes
//! the waker the caller left there, so a call needs no channel of its own
//! (one allocation per call, the slot, where a oneshot channel was a second).

use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use super::budget::BytesPermit;
use crate::{Error, Request, Response, Result};

/// Where one request stands; shared by its caller and the driver.
pub(crate) struct CallSlot {
    /// The request must be alone on the wire (see `Request::must_be_alone`).
    alone: bool,
    state: Mutex<State>,
}

struct State {
    stage: Stage,
    /// The caller's task, woken when the reply is in.
    waker: Option<Waker>,
}

enum Stage {
    /// Waiting to be written; holds the request and its room in the queue.
    Queued(Request, BytesPermit),
    /// Written, its reply not yet read.
    Written,
    /// Written, its reply not yet read, and its caller gone: the reply is
    /// still owed, and will be dropped when it comes.
    Orphaned,
    /// The reply, waiting for the caller.
    Replied(Result<Response>),
    /// Done: the caller took the reply or gave up, or an orphaned reply came.
    Done,
}

impl CallSlot {
    pub(crate) fn new(request: Request, permit: BytesPermit) -> Arc<CallSlot> {
        Arc::new(CallSlot {
            alone: request.must_be_alone(),
            state: Mutex::new(State {
                stage: Stage::Queued(request, permit),
                waker: None,
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every update is one assignment: a poisoned lock is still consistent.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The request must be alone on the wire.
    pub(crate) fn alone(&self) -> bool {
        self.alone
    }

    /// The driver takes the request to write it; `None` if its caller gave up.
    /// Its room in the queue is given back here.
    pub(crate) fn start_write(&self) -> Option<Request> {
        let mut state = self.lock();
        match std::mem::replace(&mut state.stage, Stage::Written) {
            Stage::Queued(request, _permit) => Some(request),
            other => {
                state.stage = other;
                None
            }
        }
    }

    /// The driver read the reply (or flushed a request that needs none), or
    /// the socket failed under it. Wakes the caller; a reply whose caller
    /// left is dropped here. The driver's hold on the slot ends before the
    /// caller is woken, so the caller usually finds it its own, to reuse.
    pub(crate) fn answer(self: Arc<Self>, reply: Result<Response>) {
        let mut state = self.lock();
        match state.stage {
            Stage::Queued(..) | Stage::Written => state.stage = Stage::Replied(reply),
            Stage::Orphaned => state.stage = Stage::Done,
            Stage::Replied(_) | Stage::Done => return,
        }
        let waker = state.waker.take();
        drop(state);
        drop(self);
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// `Ready` once the reply is in; otherwise leaves `cx`'s waker to be
    /// woken by it. The check and the waker are under one lock with
    /// `answer`, so a reply can never come between them unseen.
    pub(crate) fn poll_ready(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.lock();
        match state.stage {
            Stage::Replied(_) | Stage::Done => Poll::Ready(()),
            Stage::Queued(..) | Stage::Written | Stage::Orphaned => {
                super::waker::keep(&mut state.waker, cx.waker());
                Poll::Pending
            }
        }
    }

    /// True once the reply is in (or the caller left).
    pub(crate) fn is_answered(&self) -> bool {
        matches!(self.lock().stage, Stage::Replied(_) | Stage::Done)
    }

    /// Takes the reply; a request that never got one failed with its socket.
    pub(crate) fn take_reply(&self) -> Result<Response> {
        let mut state = self.lock();
        match std::mem::replace(&mut state.stage, Stage::Done) {
            Stage::Replied(reply) => reply,
            _ => Err(Error::ConnectionClosed),
        }
    }

    /// True once the caller gave up on a request that was not written.
    pub(crate) fn is_abandoned(&self) -> bool {
        matches!(self.lock().stage, Stage::Done)
    }

    /// The caller gives up. A queued request (or an untaken reply) is freed
    /// now; returns true if it was written and its reply is still owed.
    pub(crate) fn give_up(&self) -> bool {
        let mut state = self.lock();
        state.waker = None;
        match state.stage {
            Stage::Written | Stage::Orphaned => {
                state.stage = Stage::Orphaned;
                true
            }
            // Dropping the request and its permit here frees the memory at
            // once, even while the driver cannot get to the queue.
            Stage::Queued(..) | Stage::Replied(_) | Stage::Done => {
                state.stage = Stage::Done;
                false
            }
        }
    }

    /// True while the server still owes this request's reply.
    pub(crate) fn owes_reply(&self) -> bool {
        matches!(self.lock().stage, Stage::Written | Stage::Orphaned)
    }
}

/// Slots of finished calls, kept for the next calls of the connection: a
/// slot is put back only when nothing else holds it (`Arc::get_mut`), so no
/// driver, queue or watch can see it change hands.
#[derive(Default)]
pub(crate) struct SlotPool {
    free: Mutex<Vec<Arc<CallSlot>>>,
}

/// Slots kept at most: enough for the calls of a busy connection to find
/// one, few enough that an idle one holds little.
const POOL_MAX: usize = 64;

impl SlotPool {
    fn lock(&self) -> MutexGuard<'_, Vec<Arc<CallSlot>>> {
        // Pushes and pops only: a poisoned lock is still consistent.
        self.free.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A slot for `request`: a kept one if there is one, else a new one.
    pub(crate) fn slot(&self, request: Request, permit: BytesPermit) -> Arc<CallSlot> {
        let kept = self.lock().pop();
        if let Some(mut slot) = kept {
            if let Some(fresh) = Arc::get_mut(&mut slot) {
                fresh.alone = request.must_be_alone();
                let state = fresh.state.get_mut().unwrap_or_else(|p| p.into_inner());
                state.stage = Stage::Queued(request, permit);
                state.waker = None;
                return slot;
            }
        }
        CallSlot::new(request, permit)
    }

    /// Keeps `slot` for a later call, if nothing else holds it any more.
    pub(crate) fn put_back(&self, mut slot: Arc<CallSlot>) {
        let Some(done) = Arc::get_mut(&mut slot) else {
            return;
        };
        // Nothing of the finished call stays alive in the pool.
        let state = done.state.get_mut().unwrap_or_else(|p| p.into_inner());
        state.stage = Stage::Done;
        state.waker = None;
        let mut free = self.lock();
        if free.len() < POOL_MAX {
            free.push(slot);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn slot() -> Arc<CallSlot> {
        let budget = super::super::budget::Budget::new(4, 1 << 20);
        let request = Request::Version;
        let (_calls, permit) = futures_lite::future::block_on(budget.admit_one(&request));
        CallSlot::new(request, permit)
    }

    #[test]
    fn a_reply_wakes_the_caller_and_is_taken_once() {
        let slot = slot();
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        assert!(slot.poll_ready(&mut cx).is_pending());
        assert!(slot.start_write().is_some());
        assert!(slot.owes_reply());
        slot.clone().answer(Ok(Response::NoReply));
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert!(slot.poll_ready(&mut cx).is_ready());
        assert!(matches!(slot.take_reply(), Ok(Response::NoReply)));
        assert!(matches!(slot.take_reply(), Err(Error::ConnectionClosed)));
    }

    #[test]
    fn giving_up_frees_a_queued_request_and_orphans_a_written_one() {
        let queued = slot();
        assert!(!queued.give_up());
        assert!(
            queued.start_write().is_none(),
            "never written once given up"
        );
        assert!(queued.is_abandoned());

        let written = slot();
        assert!(written.start_write().is_some());
        assert!(written.give_up(), "its reply is owed");
        assert!(written.owes_reply());
        written.clone().answer(Ok(Response::NoReply));
        assert!(!written.owes_reply(), "the late reply came and was dropped");
        assert!(matches!(written.take_reply(), Err(Error::ConnectionClosed)));
    }

    #[test]
    fn a_slot_is_reused_only_once_nothing_else_holds_it() {
        let pool = SlotPool::default();
        let held = slot();
        let other = held.clone();
        pool.put_back(held);
        assert!(pool.lock().is_empty(), "still held by another: not kept");
        let first = Arc::as_ptr(&other);
        pool.put_back(other);
        assert_eq!(pool.lock().len(), 1);
        let budget = super::super::budget::Budget::new(4, 1 << 20);
        let (_calls, permit) = futures_lite::future::block_on(budget.admit_one(&Request::Version));
        let again = pool.slot(Request::Version, permit);
        assert_eq!(Arc::as_ptr(&again), first, "the kept slot is reused");
        assert!(again.start_write().is_some(), "with the new request in it");
    }
}
