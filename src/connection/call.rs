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

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::budget::CallsPermit;
use super::driving::{ClaimId, Drive};
use super::shared::Shared;
use super::slot::{CallSlot, SlotPool};
use crate::runtime::Runtime;
use crate::Error;

/// Watches one call (or one batch) from the caller's side; its drop decides
/// what the caller's giving up means for the socket.
pub(crate) struct CallGuard {
    slots: Slots,
    /// The socket the requests were queued on, once they were.
    socket: Option<Arc<Shared>>,
    /// The wire and this call's claim on it, while it drives it (see `driving.rs`).
    driving: Option<(Arc<dyn Drive>, ClaimId)>,
    /// The call's deadline and the runtime that can time it (none for a
    /// connection without a runtime or without a timeout).
    deadline: Option<Deadline>,
    /// Room for the call's place in the queue, given back when the call ends.
    calls: Option<CallsPermit>,
    finished: bool,
}

/// When a call times out, and what times it.
struct Deadline {
    at: Instant,
    /// When the call started, as the clock was read for `at`.
    started: Instant,
    runtime: Arc<dyn Runtime>,
}

/// A call's slots: most calls have one, kept inline rather than in a list.
pub(crate) enum Slots {
    Empty,
    One([Arc<CallSlot>; 1]),
    Many(Vec<Arc<CallSlot>>),
}

impl CallGuard {
    pub(crate) fn new(runtime: Option<&Arc<dyn Runtime>>, timeout: Option<Duration>) -> Self {
        let deadline = match (runtime, timeout) {
            (Some(runtime), Some(limit)) => {
                let started = Instant::now();
                started.checked_add(limit).map(|at| Deadline {
                    at,
                    started,
                    runtime: runtime.clone(),
                })
            }
            _ => None,
        };
        CallGuard {
            slots: Slots::Empty,
            socket: None,
            driving: None,
            deadline,
            calls: None,
            finished: false,
        }
    }

    /// When the call times out (none without a runtime or a timeout).
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.deadline.as_ref().map(|deadline| deadline.at)
    }

    /// When a call with a deadline started: the clock as read for it.
    pub(crate) fn started(&self) -> Option<Instant> {
        self.deadline.as_ref().map(|deadline| deadline.started)
    }

    /// The call was admitted to the queue with `calls`; these are its slots.
    pub(crate) fn hold(&mut self, calls: CallsPermit, slots: Slots) {
        self.calls = Some(calls);
        self.slots = slots;
    }

    /// True when this call is the only one the connection holds, so it may
    /// drive the socket itself (see `driving.rs`).
    pub(crate) fn alone(&self) -> bool {
        self.calls.as_ref().is_some_and(CallsPermit::alone)
    }

    pub(crate) fn slots(&self) -> &[Arc<CallSlot>] {
        match &self.slots {
            Slots::Empty => &[],
            Slots::One(one) => one,
            Slots::Many(all) => all,
        }
    }

    /// The requests are on `socket`; `driving` if this call drives its wire.
    pub(crate) fn queued_on(
        &mut self,
        socket: Arc<Shared>,
        driving: Option<(Arc<dyn Drive>, ClaimId)>,
    ) {
        self.socket = Some(socket);
        self.driving = driving;
    }

    /// `Ready` once every slot has its reply. A call that drives the wire
    /// runs a pass first, and hands the wire back once its replies are in.
    pub(crate) fn poll_replies(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if let Some((engine, claim)) = &self.driving {
            // Replies come in order: the last one in means the pass may
            // stop (a `noreply` request is done earlier, at its flush).
            let slots = self.slots();
            let answered = || slots.last().map_or(true, |slot| slot.is_answered());
            if engine.pass(*claim, cx, &answered) {
                // Every slot: a `noreply` request last in a batch is done
                // once it is flushed, before the replies ahead of it.
                if !slots.iter().all(|slot| slot.is_answered()) {
                    // While it drives, the call waits on the socket's
                    // wake-ups, which go to this task; its slots hold no
                    // waker, so the pass that answers it does not wake it
                    // again. Whoever takes the claim over wakes it.
                    return Poll::Pending;
                }
                self.hand_back();
                return Poll::Ready(());
            }
            // Taken over by the background driver: wait like the others.
            self.driving = None;
        }
        // The waker is left in the first slot still waiting (replies come in
        // order, so that is the next to be answered).
        if !self
            .slots()
            .iter()
            .all(|slot| slot.poll_ready(cx).is_ready())
        {
            return Poll::Pending;
        }
        self.hand_back();
        Poll::Ready(())
    }

    /// Gives the wire back if this call drives it.
    fn hand_back(&mut self) {
        if let Some((engine, claim)) = self.driving.take() {
            engine.hand_back(claim);
        }
    }

    /// Every reply came: nothing to watch. The call's slots go back to
    /// `pool` for the next calls.
    pub(crate) fn finish(mut self, pool: &SlotPool) {
        self.finished = true;
        self.hand_back();
        match std::mem::replace(&mut self.slots, Slots::Empty) {
            Slots::Empty => {}
            Slots::One([slot]) => pool.put_back(slot),
            Slots::Many(all) => all.into_iter().for_each(|slot| pool.put_back(slot)),
        }
    }

    /// The call's timeout fired: a reply still owed is overdue now.
    pub(crate) fn timed_out(mut self) {
        self.finished = true;
        if self.give_up() {
            if let Some(socket) = self.socket.take() {
                socket.retire(Error::ConnectionRetired);
            }
        }
        self.hand_back();
    }

    /// Frees what was never written; true if some written request's reply is owed.
    fn give_up(&self) -> bool {
        // Every slot must give up, not just up to the first owed one.
        self.slots()
            .iter()
            .map(|slot| slot.give_up())
            .fold(false, |owed, this| owed | this)
    }
}

impl Drop for CallGuard {
    fn drop(&mut self) {
        // Given up while driving: the background driver takes over, and
        // reads the reply still owed, if any.
        self.hand_back();
        if self.finished || !self.give_up() {
            return;
        }
        // Cancelled with a reply owed: give the reply until the call's
        // deadline, then retire the socket if it still has not come.
        let (Some(socket), Some(Deadline { at, runtime, .. })) =
            (self.socket.take(), self.deadline.take())
        else {
            return;
        };
        let slots = match std::mem::replace(&mut self.slots, Slots::Empty) {
            Slots::Empty => Vec::new(),
            Slots::One([one]) => vec![one],
            Slots::Many(all) => all,
        };
        super::overdue::watch(socket, slots, at, runtime);
    }
}
