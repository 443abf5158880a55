//! [`Pool`]: up to N pipelined connections to one server.
//!
//! One [`Connection`] already serves many tasks at once. A pool adds sockets
//! for workloads that benefit from several (a server with many threads, large
//! values that would hold one socket), bounds how much each socket carries,
//! and makes callers wait, within a limit, when every socket is full.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use event_listener::Event;
use futures_io::{AsyncRead, AsyncWrite};

use crate::connection::timeout;
use crate::runtime::{Address, Runtime, Transport};
use crate::{Backend, Connect, Connection, ConnectionOptions, Error, Request, Response, Result};

/// How a [`Pool`] grows, shrinks and waits.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolOptions {
    /// The most connections the pool opens (8 by default).
    pub max_size: usize,
    /// The most calls in flight on one connection (pipelined; 16 by default).
    /// 1 gives each call a connection of its own, as classic pools do.
    pub max_in_flight: usize,
    /// Connections unused this long are closed (pymemcache's
    /// `pool_idle_timeout`; 60 seconds by default; `None` keeps them).
    pub idle_timeout: Option<Duration>,
    /// The longest a call waits for room on a connection before failing with
    /// [`Error::PoolTimeout`] (`None`: wait as long as it takes; 5 seconds by default).
    pub wait_timeout: Option<Duration>,
}

impl Default for PoolOptions {
    fn default() -> Self {
        PoolOptions {
            max_size: 8,
            max_in_flight: 16,
            idle_timeout: Some(Duration::from_secs(60)),
            wait_timeout: Some(Duration::from_secs(5)),
        }
    }
}

impl PoolOptions {
    /// Options with every default.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets [`max_size`](Self::max_size) (at least 1).
    pub fn max_size(mut self, max_size: usize) -> Self {
        self.max_size = max_size.max(1);
        self
    }

    /// Sets [`max_in_flight`](Self::max_in_flight) (at least 1).
    pub fn max_in_flight(mut self, max_in_flight: usize) -> Self {
        self.max_in_flight = max_in_flight.max(1);
        self
    }

    /// Sets [`idle_timeout`](Self::idle_timeout).
    pub fn idle_timeout(mut self, idle_timeout: Option<Duration>) -> Self {
        self.idle_timeout = idle_timeout;
        self
    }

    /// Sets [`wait_timeout`](Self::wait_timeout).
    pub fn wait_timeout(mut self, wait_timeout: Option<Duration>) -> Self {
        self.wait_timeout = wait_timeout;
        self
    }
}

/// A pool of pipelined connections to one server; a [`Backend`].
///
/// A call goes to the connection with the fewest calls in flight; the pool
/// opens another connection (up to `max_size`) rather than queue behind a busy
/// one, and waits (up to `wait_timeout`) when every connection carries
/// `max_in_flight` calls. A connection whose call fails with a connection
/// error (a timeout included: see [`Connection`]'s overdue-reply rule) is
/// discarded and replaced on demand.
pub struct Pool<T> {
    inner: Arc<PoolInner<T>>,
}

struct PoolInner<T> {
    slots: Mutex<Vec<Slot<T>>>,
    /// Notified whenever a call finishes, so waiters look again.
    freed: Event,
    connector: Arc<dyn Connect<T>>,
    runtime: Arc<dyn Runtime>,
    connection_options: ConnectionOptions,
    options: PoolOptions,
}

struct Slot<T> {
    id: u64,
    connection: Connection<T>,
    in_flight: usize,
    last_used: Instant,
}

impl<T> Clone for Pool<T> {
    fn clone(&self) -> Self {
        Pool {
            inner: self.inner.clone(),
        }
    }
}

impl<T> std::fmt::Debug for Pool<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("options", &self.inner.options)
            .field("size", &self.inner.lock().len())
            .finish_non_exhaustive()
    }
}

impl<T> PoolInner<T> {
    fn lock(&self) -> MutexGuard<'_, Vec<Slot<T>>> {
        // Every update under this lock is a single push, remove or counter
        // change, so a poisoned lock still holds consistent slots.
        self.slots
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl<T> Pool<T>
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    /// A pool whose connections open sockets with `connector` on `runtime`.
    /// No socket is opened until the first call.
    pub fn new(
        connector: impl Connect<T>,
        runtime: impl Runtime,
        connection_options: ConnectionOptions,
        options: PoolOptions,
    ) -> Self {
        Pool {
            inner: Arc::new(PoolInner {
                slots: Mutex::new(Vec::new()),
                freed: Event::new(),
                connector: Arc::new(connector),
                runtime: Arc::new(runtime),
                connection_options,
                options,
            }),
        }
    }

    /// A pool of connections to `address` on the runtime `transport`.
    pub fn connect_to<R>(
        address: &Address,
        transport: R,
        connection_options: ConnectionOptions,
        options: PoolOptions,
    ) -> Self
    where
        R: Transport<Stream = T>,
    {
        let connector = {
            let address = address.clone();
            let socket = connection_options.socket.clone();
            let transport = transport.clone();
            move || transport.connect(&address, &socket)
        };
        Pool::new(connector, transport, connection_options, options)
    }

    /// The number of connections open now.
    pub fn size(&self) -> usize {
        self.inner.lock().len()
    }

    /// The pool's options.
    pub fn options(&self) -> &PoolOptions {
        &self.inner.options
    }

    /// Reserves room for `calls` calls on one connection, waiting if needed.
    async fn checkout(&self, calls: usize) -> Result<Checkout<T>> {
        let wait = async {
            loop {
                // Listen before looking, so a release between the look and
                // the wait is not missed.
                let listener = self.inner.freed.listen();
                if let Some(checkout) = self.try_checkout(calls) {
                    return checkout;
                }
                listener.await;
            }
        };
        match self.inner.options.wait_timeout {
            None => Ok(wait.await),
            Some(limit) => timeout(&*self.inner.runtime, Some(limit), wait)
                .await
                .map_err(|_| Error::PoolTimeout(limit)),
        }
    }

    fn try_checkout(&self, calls: usize) -> Option<Checkout<T>> {
        let options = &self.inner.options;
        let mut slots = self.inner.lock();
        if let Some(idle) = options.idle_timeout {
            // Drop connections nobody used for a while (never one in use).
            slots.retain(|slot| slot.in_flight > 0 || slot.last_used.elapsed() < idle);
        }
        // A batch larger than a connection's limit takes a whole connection.
        let calls = calls.min(options.max_in_flight);
        let can_grow = slots.len() < options.max_size;
        let least_busy = slots
            .iter_mut()
            .filter(|slot| slot.in_flight + calls <= options.max_in_flight)
            .min_by_key(|slot| slot.in_flight);
        let reuse = match least_busy {
            // Open another socket rather than queue behind a busy one.
            Some(slot) if slot.in_flight > 0 && can_grow => None,
            other => other,
        };
        let reuse = reuse.map(|slot| {
            slot.in_flight += calls;
            (slot.id, slot.connection.clone())
        });
        let (id, connection) = match reuse {
            Some(found) => found,
            None if can_grow => {
                let id = slots.iter().map(|slot| slot.id + 1).max().unwrap_or(0);
                let connection = Connection::new(
                    self.inner.connector.clone(),
                    self.inner.runtime.clone(),
                    self.inner.connection_options.clone(),
                );
                slots.push(Slot {
                    id,
                    connection: connection.clone(),
                    in_flight: calls,
                    last_used: Instant::now(),
                });
                (id, connection)
            }
            None => return None,
        };
        Some(Checkout {
            pool: self.inner.clone(),
            id,
            calls,
            connection,
            broken: false,
        })
    }
}

/// Room for some calls on one connection; given back on drop.
struct Checkout<T> {
    pool: Arc<PoolInner<T>>,
    id: u64,
    calls: usize,
    connection: Connection<T>,
    broken: bool,
}

impl<T> Checkout<T> {
    /// Notes the outcome of a call: a connection error retires the connection.
    /// A timeout does too: its reply may be overdue (the connection has then
    /// closed its socket already), and a fresh connection costs one connect.
    fn observe(&mut self, result: &Result<Response>) {
        if let Err(error) = result {
            if error.is_connection_error() {
                self.broken = true;
            }
        }
    }
}

impl<T> Drop for Checkout<T> {
    fn drop(&mut self) {
        let mut slots = self.pool.lock();
        if let Some(index) = slots.iter().position(|slot| slot.id == self.id) {
            if self.broken {
                slots.remove(index);
            } else {
                let slot = &mut slots[index];
                slot.in_flight -= self.calls;
                slot.last_used = Instant::now();
            }
        }
        drop(slots);
        self.pool.freed.notify(usize::MAX);
    }
}

impl<T> Backend for Pool<T>
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    async fn call(&self, request: Request) -> Result<Response> {
        let mut checkout = self.checkout(1).await?;
        let result = checkout.connection.call(request).await;
        checkout.observe(&result);
        result
    }

    async fn call_many(&self, requests: Vec<Request>) -> Vec<Result<Response>> {
        let count = requests.len();
        let mut checkout = match self.checkout(count).await {
            Ok(checkout) => checkout,
            Err(error) => return vec![Err(error); count],
        };
        let results = checkout.connection.call_many(requests).await;
        for result in &results {
            checkout.observe(result);
        }
        results
    }
}
