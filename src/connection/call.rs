//! One call's request on its way through a connection, and what happens when
//! its caller gives up.
//!
//! A request is *queued* until the driver writes it, then *written* until its
//! reply arrives. A caller that gives up while its request is queued frees it
//! on the spot: it is never sent. A caller that gives up after it was written
//! leaves a reply the server still owes. If that reply does not come within
//! the call's timeout, the socket cannot be trusted any more: the classic
//! protocol has no request id, so every later reply would be matched one
//! place off. The socket is then *retired*: closed, every call still on it
//! failed with [`Error::ConnectionRetired`], and the next call opens a new one.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::budget::{BytesPermit, CallsPermit};
use super::shared::Shared;
use crate::runtime::Runtime;
use crate::{Error, Request};

/// Where one request stands; shared by its caller and the driver.
pub(crate) struct CallSlot {
    stage: Mutex<Stage>,
}

enum Stage {
    /// Waiting to be written; holds the request and its room in the queue.
    Queued(Request, BytesPermit),
    /// Written, its reply not yet read.
    Written,
    /// Its reply was read (or it needs none, and was flushed).
    Answered,
    /// Its caller gave up before it was written: it never will be.
    Abandoned,
}

impl CallSlot {
    pub(crate) fn new(request: Request, permit: BytesPermit) -> Arc<CallSlot> {
        Arc::new(CallSlot {
            stage: Mutex::new(Stage::Queued(request, permit)),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Stage> {
        // Every update is one assignment: a poisoned lock is still consistent.
        self.stage.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The driver takes the request to write it; `None` if its caller gave up.
    /// Its room in the queue is given back here.
    pub(crate) fn start_write(&self) -> Option<Request> {
        let mut stage = self.lock();
        match std::mem::replace(&mut *stage, Stage::Written) {
            Stage::Queued(request, _permit) => Some(request),
            other => {
                *stage = other;
                None
            }
        }
    }

    /// The driver read the reply (or flushed a request that needs none).
    pub(crate) fn answered(&self) {
        *self.lock() = Stage::Answered;
    }

    /// True once the caller gave up on a request that was not written.
    pub(crate) fn is_abandoned(&self) -> bool {
        matches!(*self.lock(), Stage::Abandoned)
    }

    /// The caller gives up. A queued request is freed now; returns true if it
    /// was written and its reply is still owed.
    fn give_up(&self) -> bool {
        let mut stage = self.lock();
        match *stage {
            Stage::Queued(..) => {
                // Dropping the request and its permit here frees the memory
                // at once, even while the driver cannot get to the queue.
                *stage = Stage::Abandoned;
                false
            }
            Stage::Written => true,
            Stage::Answered | Stage::Abandoned => false,
        }
    }

    pub(crate) fn owes_reply(&self) -> bool {
        matches!(*self.lock(), Stage::Written)
    }
}

/// Watches one call (or one batch) from the caller's side; its drop decides
/// what the caller's giving up means for the socket.
pub(crate) struct CallGuard {
    slots: Vec<Arc<CallSlot>>,
    /// The socket the requests were queued on, once they were.
    socket: Option<Arc<Shared>>,
    /// The call's deadline and the runtime that can time it (none for a
    /// connection without a runtime or without a timeout).
    deadline: Option<(Instant, Arc<dyn Runtime>)>,
    /// Room for the call's place in the queue, given back when the call ends.
    _calls: Option<CallsPermit>,
    finished: bool,
}

impl CallGuard {
    pub(crate) fn new(runtime: Option<&Arc<dyn Runtime>>, timeout: Option<Duration>) -> Self {
        let deadline = match (runtime, timeout) {
            (Some(runtime), Some(limit)) => Instant::now()
                .checked_add(limit)
                .map(|at| (at, runtime.clone())),
            _ => None,
        };
        CallGuard {
            slots: Vec::new(),
            socket: None,
            deadline,
            _calls: None,
            finished: false,
        }
    }

    /// When the call times out (none without a runtime or a timeout).
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.deadline.as_ref().map(|(at, _)| *at)
    }

    pub(crate) fn hold(&mut self, calls: CallsPermit) {
        self._calls = Some(calls);
    }

    pub(crate) fn track(&mut self, slot: &Arc<CallSlot>) {
        self.slots.push(slot.clone());
    }

    /// The requests are on `socket`.
    pub(crate) fn queued_on(&mut self, socket: Arc<Shared>) {
        self.socket = Some(socket);
    }

    /// Every reply came: nothing to watch.
    pub(crate) fn finish(mut self) {
        self.finished = true;
    }

    /// The call's timeout fired: a reply still owed is overdue now.
    pub(crate) fn timed_out(mut self) {
        self.finished = true;
        if self.give_up() {
            if let Some(socket) = self.socket.take() {
                socket.retire(Error::ConnectionRetired);
            }
        }
    }

    /// Frees what was never written; true if some written request's reply is owed.
    fn give_up(&self) -> bool {
        // Every slot must give up, not just up to the first owed one.
        self.slots
            .iter()
            .map(|slot| slot.give_up())
            .fold(false, |owed, this| owed | this)
    }
}

impl Drop for CallGuard {
    fn drop(&mut self) {
        if self.finished || !self.give_up() {
            return;
        }
        // Cancelled with a reply owed: give the reply until the call's
        // deadline, then retire the socket if it still has not come.
        let (Some(socket), Some((deadline, runtime))) = (self.socket.take(), self.deadline.take())
        else {
            return;
        };
        super::watch::watch(socket, std::mem::take(&mut self.slots), deadline, runtime);
    }
}
