//! Keeping the waker of the task to wake next.

use std::task::Waker;

/// Keeps `waker` in `slot`, cloning it only when `slot` does not already
/// hold a waker of the same task (a clone is a reference count at least,
/// and polls of the same task are the common case).
pub(crate) fn keep(slot: &mut Option<Waker>, waker: &Waker) {
    match slot {
        Some(known) if known.will_wake(waker) => {}
        _ => *slot = Some(waker.clone()),
    }
}
