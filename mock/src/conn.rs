//! The registry of open connections, so that a test can drop them all and
//! `stats` can count them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::Waker;

type Shutdown = Box<dyn FnMut() + Send>;

#[derive(Default)]
struct State {
    dropped: bool,
    /// The reader waiting for data (in-memory streams).
    waker: Option<Waker>,
    /// Closes the socket under a server thread (TCP/UNIX connections).
    shutdown: Option<Shutdown>,
}

/// One open connection, shared by its owner and the registry.
#[derive(Default)]
pub(crate) struct ConnHandle {
    state: Mutex<State>,
}

impl ConnHandle {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// True once the connection was dropped by the test.
    pub fn is_dropped(&self) -> bool {
        self.lock().dropped
    }

    /// Registers the task to wake when data or a drop arrives.
    pub fn set_waker(&self, waker: &Waker) {
        let mut state = self.lock();
        match &state.waker {
            Some(old) if old.will_wake(waker) => {}
            _ => state.waker = Some(waker.clone()),
        }
    }

    /// Wakes the waiting reader, if any.
    pub fn wake(&self) {
        if let Some(waker) = self.lock().waker.take() {
            waker.wake();
        }
    }

    /// Drops the connection: readers see EOF, the socket (if any) is shut down.
    pub fn drop_now(&self) {
        let (waker, shutdown) = {
            let mut state = self.lock();
            state.dropped = true;
            (state.waker.take(), state.shutdown.take())
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        if let Some(mut shutdown) = shutdown {
            shutdown();
        }
    }
}

/// Every connection of one mock.
#[derive(Default)]
pub(crate) struct Registry {
    conns: Mutex<Vec<Weak<ConnHandle>>>,
    total: AtomicU64,
}

impl Registry {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Weak<ConnHandle>>> {
        self.conns.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a connection; `shutdown` closes its socket when it is dropped.
    pub fn register(&self, shutdown: Option<Shutdown>) -> Arc<ConnHandle> {
        let handle = Arc::new(ConnHandle::default());
        handle.lock().shutdown = shutdown;
        let mut conns = self.lock();
        conns.retain(|c| c.strong_count() > 0);
        conns.push(Arc::downgrade(&handle));
        self.total.fetch_add(1, Ordering::Relaxed);
        handle
    }

    /// Open connections.
    pub fn live(&self) -> u64 {
        self.lock().iter().filter(|c| c.strong_count() > 0).count() as u64
    }

    /// Connections opened since the start.
    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    /// Drops every open connection.
    pub fn drop_all(&self) {
        let conns: Vec<Arc<ConnHandle>> = self.lock().iter().filter_map(Weak::upgrade).collect();
        for conn in conns {
            conn.drop_now();
        }
    }
}
