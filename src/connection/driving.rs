//! Who drives a connection's socket: the caller whose call finds it idle,
//! or the background [`Driver`](super::Driver) task.
//!
//! A lone call on an idle connection runs the socket's passes itself, in
//! its own task: one write and one read in the caller's thread, with no
//! hop to another task and back. That caller *claims* the wire when it
//! queues its request and *hands it back* when its reply is in, or when it
//! gives up. Calls that arrive meanwhile queue as usual, and the claimer
//! writes them with its own. When a claimer hands back with work still on
//! the wire (others' replies owed, requests queued), the background driver
//! is woken to finish it; when it hands back an idle wire, nobody needs to
//! run, so nobody is woken.
//!
//! Four rules keep every reply reaching its caller:
//! - Only one party drives at a time: the claimer, or else the background
//!   driver. The background task does not touch the socket while a caller
//!   holds the claim, so the two never take turns replacing each other's
//!   waker on the socket (a runtime may wake the replaced waker, and that
//!   would have them wake each other forever).
//! - The claim always goes back: when the claimer's replies are in, and in
//!   its guard's drop when the call is cancelled or times out.
//! - Whatever wakes the driver (a request queued while the wire is claimed,
//!   retiring, closing) wakes the background task, and the background task
//!   then takes the claim over. The claimer's future may be alive yet not
//!   polled (held aside by its owner); no other call may wait on it. The
//!   claimer finds the claim gone at its next poll and waits for its reply
//!   like any other caller.
//! - An idle wire handed back is unwatched: nobody would notice the server
//!   closing it. So the next claimer reads the socket before it queues: a
//!   socket found closed ends there, its request is never written, and the
//!   call opens a new one.

use std::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use futures_io::{AsyncRead, AsyncWrite};

use super::wire::Wire;

/// A connection's wire, as its callers see it (without its stream type).
pub(crate) trait Drive: Send + Sync {
    /// Claims the wire for the caller of `cx`, if it is idle and nobody
    /// else drives it.
    fn claim(&self, cx: &mut Context<'_>) -> Claim;
    /// One pass by the claimer of `claim`; false if the claim was taken over.
    fn pass(&self, claim: ClaimId, cx: &mut Context<'_>) -> bool;
    /// The claimer of `claim` is done (answered, cancelled or timed out).
    fn hand_back(&self, claim: ClaimId);
}

/// Which claim a claimer holds: a claim taken over and a later one are
/// never confused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ClaimId(u64);

/// What [`Drive::claim`] found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Claim {
    /// The caller drives the wire until it hands it back.
    Driving(ClaimId),
    /// Someone else drives (or work is under way): queue and wait.
    Queue,
    /// The socket was found closed: the wire has ended, nothing was written.
    Ended,
}

/// The wire and who drives it; the background [`Driver`](super::Driver)
/// owns it, callers reach it through the queue's weak reference.
pub(crate) struct Engine<T> {
    turn: Mutex<Turn<T>>,
}

struct Turn<T> {
    wire: Wire<T>,
    /// The claim a caller holds, if one does.
    claimed: Option<ClaimId>,
    /// The number of the next claim.
    next_claim: u64,
    /// The background driver's waker, from its last poll.
    background: Option<Waker>,
    /// The background driver's waker is on the socket: it will see the
    /// server close it.
    watched: bool,
}

impl<T> Engine<T> {
    pub(crate) fn new(wire: Wire<T>) -> Self {
        Engine {
            turn: Mutex::new(Turn {
                wire,
                claimed: None,
                next_claim: 0,
                background: None,
                watched: false,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Turn<T>> {
        // A pass that panicked leaves the wire as it was between two of its
        // steps; its callers are answered when it ends (or it is dropped).
        self.turn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Ends the wire as if its task had stopped: every call still on it fails.
    pub(crate) fn stop(&self) {
        let mut turn = self.lock();
        if !turn.wire.is_done() {
            turn.wire.finish(crate::Error::ConnectionClosed);
        }
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> Engine<T> {
    /// The background driver's poll: a pass unless a caller holds the claim.
    pub(crate) fn poll_background(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut turn = self.lock();
        match &turn.background {
            Some(known) if known.will_wake(cx.waker()) => {}
            _ => {
                // Where queueing, retiring and closing find it, even before
                // its first pass (a claimer may hold the wire from the start).
                turn.wire.shared().set_driver(cx.waker());
                turn.background = Some(cx.waker().clone());
            }
        }
        if turn.wire.is_done() {
            return Poll::Ready(());
        }
        if turn.claimed.is_some() {
            if !turn.wire.shared().needs_driver() {
                // Woken for nothing (the claimer's waker replaced this
                // task's on the socket): the claimer wakes it when done.
                return Poll::Pending;
            }
            // Work the claimer would not see: take the claim over.
            turn.claimed = None;
        }
        let polled = turn.wire.pass(cx, true);
        turn.watched = polled.is_pending();
        polled
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Drive for Engine<T> {
    fn claim(&self, cx: &mut Context<'_>) -> Claim {
        let mut turn = self.lock();
        if turn.claimed.is_some() || turn.wire.is_done() || !turn.wire.is_idle() {
            return Claim::Queue;
        }
        if !turn.watched && !turn.wire.probe(cx) {
            wake(turn.background.clone());
            return Claim::Ended;
        }
        let claim = ClaimId(turn.next_claim);
        turn.next_claim += 1;
        turn.claimed = Some(claim);
        turn.watched = false;
        Claim::Driving(claim)
    }

    fn pass(&self, claim: ClaimId, cx: &mut Context<'_>) -> bool {
        let mut turn = self.lock();
        if turn.claimed != Some(claim) {
            return false;
        }
        if turn.wire.pass(cx, false).is_ready() {
            // Ended under the claimer: let the background task finish too.
            wake(turn.background.clone());
        }
        true
    }

    fn hand_back(&self, claim: ClaimId) {
        let mut turn = self.lock();
        if turn.claimed != Some(claim) {
            return;
        }
        turn.claimed = None;
        // An idle wire needs nobody; anything else is the background's.
        if turn.wire.is_done() || !turn.wire.is_idle() || turn.wire.shared().has_queued() {
            wake(turn.background.clone());
        }
    }
}

fn wake(waker: Option<Waker>) {
    if let Some(waker) = waker {
        waker.wake();
    }
}
