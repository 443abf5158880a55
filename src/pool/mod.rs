//! [`Pool`]: up to N pipelined connections to one server.
//!
//! One [`Connection`] already serves many tasks at once. A pool adds sockets
//! for workloads that benefit from several (a server with many threads, large
//! values that would hold one socket), bounds how much each socket carries,
//! and makes callers wait, within a limit, when every socket is full.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use event_listener::Event;
use futures_io::{AsyncRead, AsyncWrite};

mod options;

pub use options::PoolOptions;

use crate::connection::events;
use crate::proto::SharedReplyBudget;
use crate::runtime::{connector, timeout, Address, AnyStream, Runtime, Transport};
use crate::{Backend, Connect, Connection, ConnectionOptions, Error, Request, Response, Result};

/// A pool of pipelined connections to one server; a [`Backend`].
///
/// A call goes to the connection with the fewest calls in flight; the pool
/// opens another connection (up to `max_size`) rather than queue behind a busy
/// one, and waits (up to `wait_timeout`) when every connection carries
/// `max_in_flight` calls. A connection whose call fails with a connection
/// error (a timeout included: see [`Connection`]'s overdue-reply rule) is
/// discarded and replaced on demand.
///
/// Most code gets one from [`Config::pool`](crate::Config::pool); here
/// against an in-process server:
///
/// ```
/// # #[cfg(feature = "smol")]
/// # fn main() -> memclient::Result<()> {
/// use std::time::Duration;
/// use memclient::{Config, PoolOptions, smol::Smol};
///
/// let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
/// let address = listener.local_addr().unwrap().to_string();
/// let _server = memclient_mock::MockMemcache::new().serve_tcp(listener).unwrap();
///
/// let options = PoolOptions::new()
///     .max_size(4)                                   // sockets
///     .max_in_flight(32)                             // pipelined calls on each
///     .wait_timeout(Some(Duration::from_secs(1)))    // then Error::PoolTimeout
///     .reply_budget(16 << 20);                       // replies held by all 4 together
/// smol::block_on(async {
///     let client = Config::new(address).pool(options).connect(Smol).await?;
///     client.set("k", "v").await?;
///     assert!(client.get("k").await?.is_some());
///     assert_eq!(client.backend().size(), 1);        // opened on demand
///     Ok(())
/// })
/// # }
/// # #[cfg(not(feature = "smol"))]
/// # fn main() {}
/// ```
///
/// As for [`Connection`], the stream type defaults to [`AnyStream`]: a pool
/// opened from an address is a `Pool`.
pub struct Pool<T = AnyStream> {
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
    /// What the replies in progress on every connection take together.
    reply_budget: Arc<SharedReplyBudget>,
    /// Set by `close`: no connection is handed out or opened after it.
    closed: AtomicBool,
    /// The id of the next slot. Ids are never reused: a checkout of a removed
    /// slot must never give its calls back to a newer slot.
    next_id: AtomicU64,
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
                reply_budget: SharedReplyBudget::new(options.reply_budget),
                options,
                closed: AtomicBool::new(false),
                next_id: AtomicU64::new(0),
            }),
        }
    }

    /// The number of connections open now.
    pub fn size(&self) -> usize {
        self.inner.lock().len()
    }

    /// The pool's options.
    pub fn options(&self) -> &PoolOptions {
        &self.inner.options
    }

    /// Closes the pool: every connection closes as
    /// [`Connection::close`] does, and every later call fails with
    /// [`Error::Closed`]; no connection is opened again.
    pub async fn close(&self) {
        self.inner.closed.store(true, Ordering::SeqCst);
        let slots = std::mem::take(&mut *self.inner.lock());
        // Waiters look again, and find the pool closed.
        self.inner.freed.notify(usize::MAX);
        futures_util::future::join_all(slots.iter().map(|slot| slot.connection.close())).await;
    }

    /// True once [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.inner.closed.load(Ordering::SeqCst)
    }

    /// Runs a whole call (the wait for room, then the connection's call)
    /// within the connection's call timeout, so waiting for a busy pool never
    /// makes a call outlast its limit. A call cut short here is a cancelled
    /// call to its connection, which keeps its replies in step as it does
    /// for any cancelled call.
    async fn within_call_timeout<F: std::future::Future>(&self, call: F) -> Result<F::Output> {
        timeout(
            &*self.inner.runtime,
            self.inner.connection_options.timeout,
            call,
        )
        .await
    }

    /// Reserves room for `calls` calls on one connection, waiting if needed.
    async fn checkout(&self, calls: usize) -> Result<Checkout<T>> {
        // The common case: room at once, no wait to report.
        if let Some(checkout) = self.try_checkout(calls) {
            return Ok(checkout);
        }
        let started = self.inner.runtime.now();
        let wait = async {
            loop {
                // Listen before looking, so a release between the look and
                // the wait is not missed.
                let listener = self.inner.freed.listen();
                if self.is_closed() {
                    return Err(Error::Closed);
                }
                if let Some(checkout) = self.try_checkout(calls) {
                    return Ok(checkout);
                }
                listener.await;
            }
        };
        let result = match self.inner.options.wait_timeout {
            None => wait.await,
            Some(limit) => timeout(&*self.inner.runtime, Some(limit), wait)
                .await
                .map_err(|_| Error::PoolTimeout(limit))
                .and_then(|checkout| checkout),
        };
        if !self.is_closed() {
            let waited = self.inner.runtime.now().saturating_duration_since(started);
            events::pool_wait(waited, result.is_ok());
        }
        result
    }

    fn try_checkout(&self, calls: usize) -> Option<Checkout<T>> {
        let options = &self.inner.options;
        // Documented on the options: 0 counts as 1.
        let max_size = options.max_size.max(1);
        let max_in_flight = options.max_in_flight.max(1);
        let now = self.inner.runtime.now();
        let mut slots = self.inner.lock();
        if self.is_closed() {
            return None;
        }
        if let Some(idle) = options.idle_timeout {
            // Drop connections nobody used for a while (never one in use).
            let before = slots.len();
            slots.retain(|slot| {
                slot.in_flight > 0 || now.saturating_duration_since(slot.last_used) < idle
            });
            if slots.len() != before {
                events::pool_size(slots.len());
            }
        }
        // A batch larger than a connection's limit takes a whole connection.
        let calls = calls.min(max_in_flight);
        let can_grow = slots.len() < max_size;
        let least_busy = slots
            .iter_mut()
            .filter(|slot| slot.in_flight + calls <= max_in_flight)
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
                let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
                let connection = Connection::sharing(
                    self.inner.connector.clone(),
                    self.inner.runtime.clone(),
                    self.inner.connection_options.clone(),
                    Some(self.inner.reply_budget.clone()),
                );
                slots.push(Slot {
                    id,
                    connection: connection.clone(),
                    in_flight: calls,
                    last_used: now,
                });
                events::pool_size(slots.len());
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

impl Pool {
    /// A pool of connections to `address` on the runtime `transport`, their
    /// sockets seen as [`AnyStream`]s. No socket is opened until the first
    /// call. [`Config::pool`](crate::Config::pool) is the usual way: it also
    /// parses `tls://` addresses and sets the client options.
    pub fn connect_to<R: Transport>(
        address: &Address,
        transport: R,
        connection_options: ConnectionOptions,
        options: PoolOptions,
    ) -> Self {
        let connect = connector(
            address,
            transport.clone(),
            connection_options.socket.clone(),
        );
        Pool::new(connect, transport, connection_options, options)
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
                events::pool_size(slots.len());
            } else {
                let slot = &mut slots[index];
                slot.in_flight = slot.in_flight.saturating_sub(self.calls);
                slot.last_used = self.pool.runtime.now();
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
        let call = async {
            let mut checkout = self.checkout(1).await?;
            let result = checkout.connection.call(request).await;
            checkout.observe(&result);
            result
        };
        self.within_call_timeout(call).await?
    }

    async fn call_many(&self, requests: Vec<Request>) -> Vec<Result<Response>> {
        let count = requests.len();
        let call = async {
            let mut checkout = match self.checkout(count).await {
                Ok(checkout) => checkout,
                Err(error) => return vec![Err(error); count],
            };
            let results = checkout.connection.call_many(requests).await;
            for result in &results {
                checkout.observe(result);
            }
            results
        };
        match self.within_call_timeout(call).await {
            Ok(results) => results,
            Err(error) => vec![Err(error); count],
        }
    }

    async fn close(&self) {
        Pool::close(self).await
    }
}

#[cfg(test)]
mod tests;
