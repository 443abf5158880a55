//! The replies a socket owes to callers that were cancelled: one timer task
//! per socket, not one per cancelled call, retires the socket if one of them
//! is still missing at its call's deadline.
//!
//! Replies come in order, so the owed replies that did arrive gather at the
//! front of the list and are dropped from there; the list holds only what is
//! still owed, and the task runs only while something is.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::slot::CallSlot;

#[derive(Default)]
pub(crate) struct Watch {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Written requests whose callers left, with their calls' deadlines.
    owed: VecDeque<(Instant, Arc<CallSlot>)>,
    /// A timer task is watching this socket.
    running: bool,
}

impl State {
    fn drop_answered(&mut self) {
        while self
            .owed
            .front()
            .is_some_and(|(_, slot)| !slot.owes_reply())
        {
            self.owed.pop_front();
        }
    }
}

/// What the watching task does next.
pub(crate) enum Next {
    /// Sleep this long, then look again.
    Wait(Duration),
    /// A reply is overdue (or the socket is gone): retire the socket; the
    /// list is cleared and the task ends.
    Retire,
    /// Nothing is owed any more: the task ends.
    Done,
}

impl Watch {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Pushes and pops only: a poisoned lock is still consistent.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds the `slots` that still owe a reply, due at `deadline`; true when
    /// a watching task must be started (none runs yet).
    pub(crate) fn owe(&self, slots: Vec<Arc<CallSlot>>, deadline: Instant) -> bool {
        let mut state = self.lock();
        state.drop_answered();
        state.owed.extend(
            slots
                .into_iter()
                .filter(|slot| slot.owes_reply())
                .map(|slot| (deadline, slot)),
        );
        !state.owed.is_empty() && !std::mem::replace(&mut state.running, true)
    }

    /// The watching task's next step at `now`, for a socket that is
    /// `closed` or not.
    pub(crate) fn next(&self, now: Instant, closed: bool) -> Next {
        let mut state = self.lock();
        state.drop_answered();
        match state.owed.front().map(|(deadline, _)| *deadline) {
            Some(deadline) if deadline > now && !closed => Next::Wait(deadline - now),
            Some(_) => {
                state.owed.clear();
                state.running = false;
                Next::Retire
            }
            None => {
                state.running = false;
                Next::Done
            }
        }
    }
}
