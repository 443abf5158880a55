//! The task that retires a socket when a reply owed to a cancelled caller
//! is still missing at its call's deadline: one task per socket, started by
//! the first owed reply, ending when nothing is owed ([`Watch`] keeps the
//! list).

use std::sync::Arc;
use std::time::Instant;

use super::shared::Shared;
use super::slot::CallSlot;
use super::watch::{Next, Watch};
use crate::runtime::Runtime;
use crate::Error;

/// Watches `slots` of `socket` until `deadline`.
pub(crate) fn watch(
    socket: Arc<Shared>,
    slots: Vec<Arc<CallSlot>>,
    deadline: Instant,
    runtime: Arc<dyn Runtime>,
) {
    if socket.watch().owe(slots, deadline) {
        let sleeper = runtime.clone();
        runtime.spawn(Box::pin(run(socket, sleeper)));
    }
}

async fn run(socket: Arc<Shared>, runtime: Arc<dyn Runtime>) {
    loop {
        let watch: &Watch = socket.watch();
        match watch.next(Instant::now(), socket.is_closed()) {
            Next::Wait(wait) => runtime.sleep(wait).await,
            Next::Retire => {
                // Overdue: nothing on the socket can be trusted.
                socket.retire(Error::ConnectionRetired);
                return;
            }
            Next::Done => return,
        }
    }
}
