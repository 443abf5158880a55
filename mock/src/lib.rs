//! An in-memory memcached for tests.
//!
//! [`MockMemcache`] behaves as memcached 1.6.18 does (flags, cas uniques,
//! expiry, `incr`/`decr` quirks, item size and memory limits, `flush_all`,
//! `stats`, the meta commands, and its replies to malformed commands), with
//! one store behind three ways in:
//!
//! 1. as a [`memclient::Backend`], with no socket: classic requests run on
//!    the store directly; meta requests, quiet meta batches and raw commands,
//!    whose meaning is their wire form, go through memclient's own codec in
//!    both directions (client encoder, server decoder, store, server encoder,
//!    client decoder), so they answer exactly what a memclient `Connection`
//!    to the mock decodes;
//! 2. [`MockMemcache::connect`]: an in-memory `AsyncRead + AsyncWrite` stream;
//! 3. [`MockMemcache::serve_tcp`] / [`MockMemcache::serve_unix`]: real sockets
//!    (and the `memclient-mock` binary) for clients in other languages; with
//!    the feature `tls`, `MockMemcache::serve_tls` serves TLS, so a TLS
//!    configuration can be tested without memcached.
//!
//! The wire format is memclient's: the mock speaks through the server
//! direction of `memclient::proto` (memclient's cargo feature `server`, which
//! this crate enables) and has no encoder of its own.
//!
//! The meta commands (`mg`, `ms`, `md`, `ma`, `mn`, `me`) follow the running
//! 1.6.18 server where it differs from the protocol text: vivify (`N`), win /
//! stale flags (`W`, `Z`, `X`), recache (`R`), invalidation (`md I`, `ms I`),
//! base64 keys (`b`), quiet mode, and the flags it refuses (`E`, `x`, and any
//! unknown letter). On the `Backend` path a [`Request::Meta`] or
//! [`Request::MetaBatch`] answers what a memclient client decodes from the
//! real server: a standalone quiet request whose reply memcached suppresses
//! gets the suppressed status (`EN` for `mg`, `HD` for the writes) without
//! flags; a batch gets `None` for each suppressed reply, the echoed
//! `O<index>` on the others. A request a `Connection` refuses before sending
//! it ([`Request::validate`]) is refused the same way.
//!
//! A test can move the mock's clock ([`MockMemcache::with_manual_clock`],
//! [`MockMemcache::advance`]), inject faults ([`MockMemcache::fail_next`],
//! [`MockMemcache::set_latency`], [`MockMemcache::drop_connections`]) and look
//! inside ([`MockMemcache::get_raw`], [`MockMemcache::keys`]).
//!
//! ```
//! use memclient::{Backend, Request, Response, Retrieve, RetrieveCommand, Store, StoreCommand};
//! use memclient_mock::MockMemcache;
//!
//! let mock = MockMemcache::new();
//! futures_lite::future::block_on(async {
//!     let set = Request::Store(Store {
//!         command: StoreCommand::Set,
//!         key: "k".into(),
//!         flags: 3,
//!         exptime: 0,
//!         value: "v".into(),
//!         noreply: false,
//!     });
//!     assert_eq!(mock.call(set).await.unwrap(), Response::Stored);
//! });
//! assert_eq!(mock.get_raw(b"k"), Some(("v".into(), 3)));
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod cachedump;
mod clock;
mod conn;
mod discovery;
mod faults;
mod loopback;
mod server;
mod session;
mod slabs;
mod stats;
mod store;
mod stream;
#[cfg(feature = "tls")]
mod tls;

use std::io;
use std::net::TcpListener;
use std::os::unix::net::UnixListener;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use memclient::proto::server::DEFAULT_MAX_ITEM_SIZE;
use memclient::{Backend, Error, Request, Response, Result, StoreCommand};

/// The rustls the TLS server is built on (feature `tls`), to build a
/// `ServerConfig` of your own for [`MockMemcache::serve_tls`].
#[cfg(feature = "tls")]
pub use rustls;
pub use server::ServerHandle;
pub use stream::MockStream;
#[cfg(feature = "tls")]
pub use tls::server_config as tls_server_config;

use clock::Clock;
use conn::Registry;
use faults::Faults;
use store::{Cache, Config, Env};

/// The memcached version the mock imitates (and reports).
pub const VERSION: &str = "1.6.18";

/// memcached's default memory limit (`-m 64`).
pub const DEFAULT_MEMORY_LIMIT: usize = 64 * 1024 * 1024;

/// The in-memory memcached. Cheap to clone: clones share one store.
#[derive(Clone)]
pub struct MockMemcache {
    shared: Arc<Shared>,
}

struct Shared {
    cache: Mutex<Cache>,
    clock: Clock,
    faults: Faults,
    registry: Registry,
    discovery: discovery::Discovery,
}

impl std::fmt::Debug for MockMemcache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockMemcache")
            .field("items", &self.len())
            .finish_non_exhaustive()
    }
}

impl Default for MockMemcache {
    fn default() -> Self {
        Self::new()
    }
}

/// Configures a [`MockMemcache`] before it starts.
#[derive(Debug, Clone)]
pub struct Builder {
    memory_limit: usize,
    max_item_size: usize,
    manual_clock: bool,
}

impl Builder {
    /// The memory limit (memcached's `-m`, default 64 MiB), in bytes. Items
    /// are charged their memcached size ([`memclient::proto::server::item_size`])
    /// and the least recently used are evicted to make room. memcached's own
    /// slab allocator wastes some memory, so it evicts somewhat earlier.
    pub fn memory_limit(mut self, bytes: usize) -> Self {
        self.memory_limit = bytes;
        self
    }

    /// The item size limit (memcached's `-I`, default 1 MiB), in bytes,
    /// counting memcached's per-item overhead as memcached does.
    pub fn max_item_size(mut self, bytes: usize) -> Self {
        self.max_item_size = bytes;
        self
    }

    /// Use a manual clock that moves only with [`MockMemcache::advance`].
    pub fn manual_clock(mut self) -> Self {
        self.manual_clock = true;
        self
    }

    /// Starts the mock.
    pub fn build(self) -> MockMemcache {
        let clock = if self.manual_clock {
            Clock::manual()
        } else {
            Clock::system()
        };
        let config = Config {
            memory_limit: self.memory_limit,
            max_item_size: self.max_item_size,
        };
        MockMemcache {
            shared: Arc::new(Shared {
                cache: Mutex::new(Cache::new(config, clock.now_secs())),
                clock,
                faults: Faults::default(),
                registry: Registry::default(),
                discovery: discovery::Discovery::default(),
            }),
        }
    }
}

impl MockMemcache {
    /// A mock with memcached's defaults, on the system clock.
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// A mock whose clock stands still until [`advance`](Self::advance)d.
    pub fn with_manual_clock() -> Self {
        Self::builder().manual_clock().build()
    }

    /// Configures a mock.
    pub fn builder() -> Builder {
        Builder {
            memory_limit: DEFAULT_MEMORY_LIMIT,
            max_item_size: DEFAULT_MAX_ITEM_SIZE,
            manual_clock: false,
        }
    }

    // ---- the clock ----

    /// Moves the mock's clock forward (on the system clock: adds an offset).
    /// Like memcached, the mock counts whole seconds: an item set with exptime
    /// `n` is gone once the clock has crossed `n` second boundaries.
    pub fn advance(&self, by: Duration) {
        self.shared.clock.advance(by);
    }

    /// The mock's current time.
    pub fn now(&self) -> SystemTime {
        UNIX_EPOCH + self.shared.clock.now()
    }

    // ---- faults ----

    /// The next `count` calls (on any path) fail with `error` instead of
    /// running. On the stream and socket paths an error reply is written
    /// (`SERVER_ERROR ...`, `CLIENT_ERROR ...`), or the connection is closed
    /// for connection errors ([`Error::is_connection_error`]).
    pub fn fail_next(&self, count: usize, error: Error) {
        self.shared.faults.fail_next(count, error);
    }

    /// Adds `latency` before every call's reply (`Duration::ZERO` to remove it).
    pub fn set_latency(&self, latency: Duration) {
        self.shared.faults.set_latency(latency);
    }

    /// Drops every open connection: streams and sockets see EOF (a stream
    /// discards what is written to it afterwards), and the next [`Backend`]
    /// call returns [`Error::ConnectionClosed`]. A memclient `Connection`
    /// over a dropped stream or socket answers `ConnectionClosed` too (one
    /// over a socket may also see the kernel's `Io(ConnectionReset)` or
    /// `Io(BrokenPipe)`, as with a real server); one with a reconnect opens
    /// a new connection on its next call. New connections work.
    pub fn drop_connections(&self) {
        self.shared.faults.drop_backend();
        self.shared.registry.drop_all();
    }

    // ---- auto discovery ----

    /// Answers `config get cluster` (on the stream and socket paths) with
    /// these nodes, as an ElastiCache configuration endpoint does, under a
    /// version one above the previous one (the first is 1). Returns the
    /// version. Until called, the mock answers `ERROR`, as memcached does.
    pub fn set_cluster_nodes(
        &self,
        nodes: impl IntoIterator<Item = memclient::proto::config::ConfigNode>,
    ) -> u64 {
        self.shared.discovery.set_nodes(nodes.into_iter().collect())
    }

    /// Sets the configuration `config get cluster` reports, version
    /// included (`None`: answer `ERROR` again).
    pub fn set_cluster_config(&self, config: Option<memclient::proto::config::ClusterConfig>) {
        self.shared.discovery.set(config);
    }

    // ---- inspection ----

    /// The value and flags stored under `key`, if live. Touches no counter
    /// and no LRU position.
    pub fn get_raw(&self, key: &[u8]) -> Option<(Bytes, u32)> {
        let now = self.shared.clock.now_secs();
        self.cache().get_raw(key, now)
    }

    /// The live keys, sorted.
    pub fn keys(&self) -> Vec<Bytes> {
        let now = self.shared.clock.now_secs();
        self.cache().keys(now)
    }

    /// The number of live items.
    pub fn len(&self) -> usize {
        self.keys().len()
    }

    /// True when no live item is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Removes every item at once (counters are kept).
    pub fn clear(&self) {
        self.cache().clear();
    }

    // ---- ways in ----

    /// An in-memory connection speaking memcached's text protocol.
    pub fn connect(&self) -> MockStream {
        MockStream::new(self.clone())
    }

    /// Serves the protocol on `listener`, a thread per connection, until the
    /// returned handle is stopped or dropped.
    pub fn serve_tcp(&self, listener: TcpListener) -> io::Result<ServerHandle> {
        server::serve(self.clone(), listener)
    }

    /// Serves the protocol on a UNIX socket, as [`serve_tcp`](Self::serve_tcp).
    pub fn serve_unix(&self, listener: UnixListener) -> io::Result<ServerHandle> {
        server::serve(self.clone(), listener)
    }

    /// Serves the protocol over TLS on `listener` (feature `tls`), as
    /// [`serve_tcp`](Self::serve_tcp) does in plain text. Build `config`
    /// with [`tls_server_config`] from a PEM certificate and key, or with
    /// [`rustls`] for client certificates and the rest.
    ///
    /// ```no_run
    /// # fn demo(cert_pem: &[u8], key_pem: &[u8]) -> std::io::Result<()> {
    /// let mock = memclient_mock::MockMemcache::new();
    /// let config = memclient_mock::tls_server_config(cert_pem, key_pem)?;
    /// let server = mock.serve_tls(std::net::TcpListener::bind("127.0.0.1:0")?, config)?;
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(feature = "tls")]
    pub fn serve_tls(
        &self,
        listener: TcpListener,
        config: std::sync::Arc<rustls::ServerConfig>,
    ) -> io::Result<ServerHandle> {
        server::serve(
            self.clone(),
            tls::TlsListener {
                tcp: listener,
                config,
            },
        )
    }

    // ---- internals ----

    fn cache(&self) -> MutexGuard<'_, Cache> {
        self.shared.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn env(&self) -> Env {
        Env {
            now: self.shared.clock.now_secs(),
            // A Backend caller counts as one connection, as its client would.
            curr_connections: self.shared.registry.live().max(1),
            total_connections: self.shared.registry.total().max(1),
        }
    }

    pub(crate) fn max_item_size(&self) -> usize {
        self.cache().max_item_size()
    }

    /// Runs one request against the store (no faults, no noreply handling).
    pub(crate) fn execute(&self, request: Request) -> Result<Response> {
        let env = self.env();
        self.cache().execute(request, env)
    }

    /// A data block without its `\r\n`: memcached counts a set anyway.
    pub(crate) fn bad_data_chunk(&self) -> Error {
        self.cache().bad_data_chunk()
    }

    pub(crate) fn too_large(&self, command: StoreCommand, key: &[u8]) -> Error {
        let now = self.shared.clock.now_secs();
        self.cache().too_large(command, key, now)
    }

    async fn call_direct(self, request: Request) -> Result<Response> {
        let latency = self.shared.faults.latency();
        if !latency.is_zero() {
            async_io::Timer::after(latency).await;
        }
        if self.shared.faults.take_backend_drop() {
            return Err(Error::ConnectionClosed);
        }
        if let Some(error) = self.shared.faults.take_failure() {
            return Err(error);
        }
        // memcached without -A answers `shutdown` although it expects no reply.
        let silent = !request.expects_reply() && !matches!(request, Request::Shutdown { .. });
        let result = match &request {
            Request::Meta(_) | Request::MetaBatch(_) | Request::Raw(_) => {
                self.call_over_wire(&request)
            }
            _ => self.execute(request),
        };
        if silent {
            Ok(Response::NoReply)
        } else {
            result
        }
    }
}

impl Backend for MockMemcache {
    fn call(&self, request: Request) -> impl std::future::Future<Output = Result<Response>> + Send {
        self.clone().call_direct(request)
    }
}
