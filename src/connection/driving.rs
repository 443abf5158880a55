//! Who drives a connection's socket: the caller whose call finds it idle,
//! or the background [`Driver`](super::Driver) task.
//!
//! A lone call on an idle connection runs the socket's passes itself, in
//! its own task: one write and one read in the caller's thread, with no
//! hop to another task and back. That caller *claims* the wire when it
//! queues its request and *hands it back* when its reply is in, or when it
//! gives up. Calls that arrive meanwhile queue as usual. When a claimer
//! hands back with work still on the wire (others' replies owed, requests
//! queued), the background driver is woken to finish it; when it hands back
//! an idle wire, nobody needs to run, so nobody is woken.
//!
//! Four rules keep every reply reaching its caller:
//! - Only one party drives at a time: the claimer, or else the background
//!   driver. The background task does not touch the socket while a caller
//!   holds the claim.
//! - The claim always goes back: when the claimer's replies are in, and in
//!   its guard's drop when the call is cancelled or times out.
//! - Whatever wakes the driver (a request queued while the wire is claimed,
//!   retiring, closing) wakes the background task, and the background task
//!   then takes the claim over. The claimer's future may be alive yet not
//!   polled (held aside by its owner); no other call may wait on it. While
//!   it drives, the claimer waits on the socket's wake-ups rather than on
//!   its slots (so the pass that answers it does not wake its own task
//!   again), and the background task wakes it when it takes the claim
//!   over, or when the wire stops: the claimer finds the claim gone and
//!   waits for its reply like any other caller.
//! - The socket is always polled with one waker of the wire's own, which
//!   passes each wake-up on to whoever drives now. So the socket never sees
//!   its waker replaced (a runtime may wake the replaced one, and the
//!   claimer and the background task would wake each other), and an idle
//!   wire handed back stays watched: the server closing it wakes the
//!   background task, which ends the wire, so the next call opens a new
//!   socket instead of writing to a closed one.

use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};

use futures_io::{AsyncRead, AsyncWrite};

use super::wire::{Driving, Passed, Wire};

/// A connection's wire, as its callers see it (without its stream type).
pub(crate) trait Drive: Send + Sync {
    /// Claims the wire, if it is idle and nobody else drives it.
    fn claim(&self) -> Option<ClaimId>;
    /// One pass by the claimer of `claim`, for the task of `cx`, until
    /// `answered` says its replies are in; false if the claim was taken over.
    fn pass(&self, claim: ClaimId, cx: &mut Context<'_>, answered: &dyn Fn() -> bool) -> bool;
    /// The claimer of `claim` is done (answered, cancelled or timed out).
    fn hand_back(&self, claim: ClaimId);
}

/// Which claim a claimer holds: a claim taken over and a later one are
/// never confused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ClaimId(u64);

/// The wire and who drives it; the background [`Driver`](super::Driver)
/// owns it, callers reach it through the queue's weak reference.
///
/// Two locks, always taken in this order: `who` (short: who drives), then
/// `turn` (the wire, held for a whole pass). A caller never waits on a
/// background pass: it only tries `turn` when it claims, and the
/// background task passes only while nobody holds the claim, and takes
/// `turn` while it holds `who`, so a claimer holding `who` finds `turn` free.
pub(crate) struct Engine<T> {
    who: Mutex<Who>,
    turn: Mutex<Turn<T>>,
    /// The wire's queue.
    shared: Arc<super::shared::Shared>,
}

/// Who drives the wire.
struct Who {
    /// The claim a caller holds, if one does.
    claimed: Option<ClaimId>,
    /// The number of the next claim.
    next_claim: u64,
    /// The background driver's waker, from its last poll.
    background: Option<Waker>,
}

/// The wire, and the waker its socket is polled with.
struct Turn<T> {
    wire: Wire<T>,
    /// Where the socket's wake-ups go.
    route: Arc<Route>,
    /// The waker the socket is always polled with: `route`'s.
    socket: Waker,
}

/// Passes the socket's wake-ups on to whoever drives the wire now.
#[derive(Default)]
struct Route {
    to: Mutex<Option<Waker>>,
}

impl Route {
    fn lock(&self) -> MutexGuard<'_, Option<Waker>> {
        // One assignment at a time: a poisoned lock is still consistent.
        self.to.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sends the next wake-ups to `waker`.
    fn to(&self, waker: &Waker) {
        super::waker::keep(&mut self.lock(), waker);
    }

    /// Sends the next wake-ups to `waker`, and returns the waker they went
    /// to before, unless it was `waker`'s task.
    fn swap(&self, waker: &Waker) -> Option<Waker> {
        let mut to = self.lock();
        if to.as_ref().is_some_and(|known| known.will_wake(waker)) {
            return None;
        }
        to.replace(waker.clone())
    }

    /// Wakes whoever the wake-ups go to now.
    fn wake_now(&self) {
        let to = self.lock().clone();
        wake(to);
    }
}

impl Wake for Route {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.wake_now();
    }
}

impl<T> Engine<T> {
    pub(crate) fn new(wire: Wire<T>) -> Self {
        let route = Arc::new(Route::default());
        Engine {
            who: Mutex::new(Who {
                claimed: None,
                next_claim: 0,
                background: None,
            }),
            shared: wire.shared().clone(),
            turn: Mutex::new(Turn {
                wire,
                socket: Waker::from(route.clone()),
                route,
            }),
        }
    }

    fn who(&self) -> MutexGuard<'_, Who> {
        // Assignments only: a poisoned lock is still consistent.
        self.who.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn turn(&self) -> MutexGuard<'_, Turn<T>> {
        // A pass that panicked leaves the wire as it was between two of its
        // steps; its callers are answered when it ends (or it is dropped).
        self.turn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Ends the wire as if its task had stopped: every call still on it fails.
    pub(crate) fn stop(&self) {
        let mut turn = self.turn();
        if !turn.wire.is_done() {
            turn.wire.finish(crate::Error::ConnectionClosed);
            // A claimer waits on the socket's wake-ups, not on its slots.
            turn.route.wake_now();
        }
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> Turn<T> {
    /// One pass with the socket's own waker, its wake-ups sent to `waker`,
    /// the task of whoever runs it (`by`).
    fn pass(&mut self, waker: &Waker, by: Driving<'_>) -> Passed {
        self.route.to(waker);
        let mut socket = Context::from_waker(&self.socket);
        self.wire.pass(&mut socket, by)
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> Engine<T> {
    /// The background driver's poll: a pass unless a caller holds the claim.
    pub(crate) fn poll_background(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut who = self.who();
        super::waker::keep(&mut who.background, cx.waker());
        let mut took_over = false;
        if who.claimed.is_some() {
            if !self.shared.needs_driver(cx.waker()) {
                // Nothing the claimer does not see: it wakes this task when
                // it hands back with work left, and queueing, retiring and
                // closing wake it too.
                return Poll::Pending;
            }
            // Work the claimer would not see: take the claim over.
            who.claimed = None;
            took_over = true;
        }
        let mut turn = self.turn();
        drop(who);
        // The claimer waits on the socket's wake-ups, not on its slots:
        // woken now, it finds the claim gone and waits on its slots.
        let claimer = took_over.then(|| turn.route.swap(cx.waker())).flatten();
        let polled = if turn.wire.is_done() {
            Poll::Ready(())
        } else {
            match turn.pass(cx.waker(), Driving::Background(cx.waker())) {
                Passed::Ended => Poll::Ready(()),
                Passed::Waiting | Passed::Busy => Poll::Pending,
            }
        };
        drop(turn);
        wake(claimer);
        polled
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Drive for Engine<T> {
    fn claim(&self) -> Option<ClaimId> {
        let mut who = self.who();
        if who.claimed.is_some() {
            return None;
        }
        // The background task in a pass: the wire is not idle for a caller.
        let turn = match self.turn.try_lock() {
            Ok(turn) => turn,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return None,
        };
        if turn.wire.is_done() || !turn.wire.is_idle() {
            return None;
        }
        let claim = ClaimId(who.next_claim);
        who.next_claim += 1;
        who.claimed = Some(claim);
        Some(claim)
    }

    fn pass(&self, claim: ClaimId, cx: &mut Context<'_>, answered: &dyn Fn() -> bool) -> bool {
        let mut who = self.who();
        if who.claimed != Some(claim) {
            return false;
        }
        let mut turn = self.turn();
        match turn.pass(cx.waker(), Driving::Claimer(answered)) {
            Passed::Waiting => true,
            // Ended under the claimer: let the background task finish too.
            Passed::Ended => {
                wake(who.background.clone());
                true
            }
            // A reply coming in bulk: the background task reads it, and
            // the claimer waits for it like any other caller.
            Passed::Busy => match who.background.clone() {
                Some(background) => {
                    who.claimed = None;
                    turn.route.to(&background);
                    background.wake();
                    false
                }
                // No background task has run yet (a `from_stream` driver
                // not polled): the claimer goes on, after a turn of its
                // executor.
                None => {
                    cx.waker().wake_by_ref();
                    true
                }
            },
        }
    }

    fn hand_back(&self, claim: ClaimId) {
        let mut who = self.who();
        if who.claimed != Some(claim) {
            return;
        }
        who.claimed = None;
        let Some(background) = &who.background else {
            // Not polled yet: its first poll finds whatever is left.
            return;
        };
        let turn = self.turn();
        // The socket's next wake-up (a reply, or the server closing an idle
        // socket) is the background's.
        turn.route.to(background);
        if turn.wire.is_done() || !turn.wire.is_idle() || self.shared.has_queued() {
            background.wake_by_ref();
        }
    }
}

fn wake(waker: Option<Waker>) {
    if let Some(waker) = waker {
        waker.wake();
    }
}
