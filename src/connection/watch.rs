//! The replies a socket owes to callers that were cancelled: one timer task
//! per socket, not one per cancelled call, retires the socket if one of them
//! is still missing at its call's deadline.
//!
//! Replies come in order, so the owed replies that did arrive gather at the
//! front of the list and are dropped from there; the list holds only what is
//! still owed, and the task runs only while something is.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use super::shared::Shared;
use super::slot::CallSlot;
use crate::runtime::Runtime;
use crate::Error;

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

impl Watch {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Pushes and pops only: a poisoned lock is still consistent.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Watches `slots` of `socket` until `deadline`.
pub(crate) fn watch(
    socket: Arc<Shared>,
    slots: Vec<Arc<CallSlot>>,
    deadline: Instant,
    runtime: Arc<dyn Runtime>,
) {
    let start = {
        let mut state = socket.watch().lock();
        state.drop_answered();
        state.owed.extend(
            slots
                .into_iter()
                .filter(|slot| slot.owes_reply())
                .map(|slot| (deadline, slot)),
        );
        !state.owed.is_empty() && !std::mem::replace(&mut state.running, true)
    };
    if start {
        let sleeper = runtime.clone();
        runtime.spawn(Box::pin(run(socket, sleeper)));
    }
}

async fn run(socket: Arc<Shared>, runtime: Arc<dyn Runtime>) {
    loop {
        let wait = {
            let mut state = socket.watch().lock();
            state.drop_answered();
            let next = state.owed.front().map(|(deadline, _)| *deadline);
            let now = Instant::now();
            match next {
                Some(deadline) if deadline > now && !socket.is_closed() => deadline - now,
                Some(_) => {
                    // Overdue (or the socket is gone already): nothing on it
                    // can be trusted, nothing more to watch.
                    socket.retire(Error::ConnectionRetired);
                    state.owed.clear();
                    state.running = false;
                    return;
                }
                None => {
                    state.running = false;
                    return;
                }
            }
        };
        runtime.sleep(wait).await;
    }
}
