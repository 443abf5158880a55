//! The queue between the handles of one connection and its driver.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use std::task::Waker;

use super::driving::{ClaimId, Drive};
use super::slot::CallSlot;
use super::watch::Watch;
use crate::{Error, Result};

/// A request waiting for the driver.
pub(crate) struct Pending {
    /// The request itself, until the driver writes it or its caller gives
    /// up; then the way back: the driver leaves its reply there.
    pub(crate) slot: Arc<CallSlot>,
}

/// The state one connection's handles and its driver share.
///
/// Callers append to `queue` and wake the driver; the driver swaps the whole
/// queue out at once, so a burst of concurrent calls becomes one write.
#[derive(Default)]
pub(crate) struct Shared {
    state: Mutex<State>,
    /// Replies owed to callers that were cancelled.
    watch: Watch,
    /// The wire these requests go out on, for a caller that drives it.
    engine: OnceLock<Weak<dyn Drive>>,
    /// Set when the last handle is dropped: the driver finishes its work
    /// and stops. Outside the lock because every round of the wire looks
    /// at it; it is set before the lock that takes the driver's waker, and
    /// read under the lock that leaves one, so no wake-up is lost.
    abandoned: AtomicBool,
    /// Set with `State::closed`, for the look every call takes
    /// ([`is_closed`](Self::is_closed)) without the lock.
    closed: AtomicBool,
}

/// How [`Shared::submit`] went.
pub(crate) enum Submitted {
    /// Queued; the caller drives the wire with this claim until it hands it back.
    Driving(Arc<dyn Drive>, ClaimId),
    /// Queued for whoever drives the wire.
    Queued,
    /// Refused: the socket has ended, and nothing was written.
    Refused,
}

#[derive(Default)]
struct State {
    queue: Vec<Pending>,
    driver: Option<Waker>,
    /// Set once the driver has stopped or is stopping; no request is
    /// accepted after that.
    closed: Option<Error>,
    /// Set when the socket is retired: the driver stops with this error.
    retired: Option<Error>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave the state half-updated
        // (every update is a single push, swap or assignment), so a poisoned
        // lock is safe to keep using.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The wire's engine, once its driver exists.
    pub(crate) fn set_engine(&self, engine: Weak<dyn Drive>) {
        let _ = self.engine.set(engine);
    }

    /// Queues the requests of `slots`. A caller `alone` on the connection
    /// claims the wire when it is idle (see `driving.rs`); otherwise the
    /// background driver is woken. `Refused` if the socket has ended: none
    /// is taken (they were never written, so the caller may send them elsewhere).
    pub(crate) fn submit(&self, slots: &[Arc<CallSlot>], alone: bool) -> Submitted {
        let engine = alone.then(|| self.engine.get()?.upgrade()).flatten();
        let claim = engine.as_ref().and_then(|engine| engine.claim());
        let mut state = self.lock();
        if state.closed.is_some() {
            drop(state);
            if let (Some(claim), Some(engine)) = (claim, engine) {
                engine.hand_back(claim);
            }
            return Submitted::Refused;
        }
        state
            .queue
            .extend(slots.iter().map(|slot| Pending { slot: slot.clone() }));
        match (claim, engine) {
            (Some(claim), Some(engine)) => Submitted::Driving(engine, claim),
            _ => {
                let driver = state.driver.take();
                drop(state);
                if let Some(driver) = driver {
                    driver.wake();
                }
                Submitted::Queued
            }
        }
    }

    /// True when requests wait in the queue.
    pub(crate) fn has_queued(&self) -> bool {
        !self.lock().queue.is_empty()
    }

    /// For the background driver while a caller drives: true if there is
    /// work the caller would not see (requests queued, the socket retired,
    /// abandoned or ended). Otherwise leaves `waker` where queueing, retiring and
    /// closing wake the driver, in the same look, so none of them is missed.
    pub(crate) fn needs_driver(&self, waker: &Waker) -> bool {
        let mut state = self.lock();
        if !state.queue.is_empty()
            || state.retired.is_some()
            || self.is_abandoned()
            || state.closed.is_some()
        {
            return true;
        }
        super::waker::keep(&mut state.driver, waker);
        false
    }

    /// Moves every queued request into `into`, and registers the background
    /// driver's waker (`None` when a claimer takes them: see `driving.rs`).
    /// `Err` once the socket was retired: the driver must stop with that error.
    pub(crate) fn take(&self, into: &mut Vec<Pending>, driver: Option<&Waker>) -> Result<()> {
        let mut state = self.lock();
        if let Some(error) = &state.retired {
            return Err(error.clone());
        }
        std::mem::swap(&mut state.queue, into);
        if let Some(waker) = driver {
            super::waker::keep(&mut state.driver, waker);
        }
        Ok(())
    }

    /// Retires the socket: it takes no more requests, and its driver fails
    /// every call still on it with `error` and closes it.
    pub(crate) fn retire(&self, error: Error) {
        let mut state = self.lock();
        if state.retired.is_none() {
            super::events::socket_retired();
        }
        state.retired.get_or_insert(error.clone());
        state.closed.get_or_insert(error);
        self.closed.store(true, Ordering::SeqCst);
        let driver = state.driver.take();
        drop(state);
        if let Some(driver) = driver {
            driver.wake();
        }
    }

    /// The replies this socket owes to cancelled callers.
    pub(crate) fn watch(&self) -> &Watch {
        &self.watch
    }

    /// True once the driver has stopped.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// The error the driver stopped with, if it has.
    pub(crate) fn closed_error(&self) -> Option<Error> {
        self.lock().closed.clone()
    }

    /// Marks the driver stopped with `error` and returns what was still queued.
    pub(crate) fn close(&self, error: Error) -> Vec<Pending> {
        let mut state = self.lock();
        state.closed.get_or_insert(error);
        self.closed.store(true, Ordering::SeqCst);
        state.driver = None;
        std::mem::take(&mut state.queue)
    }

    /// True when every handle is gone: the driver may stop.
    pub(crate) fn is_abandoned(&self) -> bool {
        self.abandoned.load(Ordering::SeqCst)
    }

    /// Tells the driver that no handle is left.
    pub(crate) fn abandon(&self) {
        self.abandoned.store(true, Ordering::SeqCst);
        let mut state = self.lock();
        let driver = state.driver.take();
        drop(state);
        if let Some(driver) = driver {
            driver.wake();
        }
    }
}
