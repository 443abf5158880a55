//! [`Client`]: the typed API over any [`Backend`].

mod admin;
mod call;
mod key;
mod many;
mod meta;
mod read;
pub(crate) mod stats;
mod ttl;
mod write;

use bytes::Bytes;

pub use call::{Call, FlushKind, PlainKind, StorageKind};
pub use many::{DeleteMany, SetMany};
pub use meta::{
    ArithKind, DeleteKind, GetKind, GetOrCompute, Meta, MetaCounter, MetaItem, MetaOutcome,
    MetaWrite, SetKind, SetMode,
};
pub use stats::StatValue;
pub use ttl::Ttl;
pub use write::CasOutcome;

use std::sync::Arc;

use crate::runtime::Runtime;
use crate::serde::{PyFlags, Serde};
use crate::{Backend, Error, Response, Result};

/// What a [`Client`] does to keys and replies, whatever its backend.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientOptions {
    /// Prepended to every key (and stripped from keys handed back). Counts
    /// toward memcached's 250-byte key limit.
    pub key_prefix: Bytes,
    /// Send writes with `noreply` unless a call says otherwise. Off by default:
    /// a write reports what the server said.
    pub default_noreply: bool,
    /// Treat errors of reads (`get`, `gets`, `gat`, `gats` and their `_many`
    /// forms) as cache misses, as pymemcache's `ignore_exc`. Invalid keys are
    /// still errors: they are bugs, not outages.
    pub ignore_errors: bool,
    /// Accept UTF-8 keys (without whitespace or control characters). Off by
    /// default: keys are printable ASCII.
    pub allow_unicode_keys: bool,
    /// Accept keys of any bytes (spaces, control characters, non-UTF-8): a key
    /// the classic protocol cannot carry is sent base64-encoded through the
    /// meta commands (`mg`, `ms`, `md`, `ma` with the `b` flag), transparently
    /// for `get`, `gets`, `get_many`, `gets_many`, the storage commands,
    /// `delete`, `incr`/`decr`, `touch` and every `meta_*` call; the keys
    /// handed back are the original bytes. Its base64 form (with the prefix)
    /// must fit memcached's 250 bytes, so at most 186 bytes. Off by default.
    /// Needs memcached 1.6 or later (the meta commands).
    pub binary_keys: bool,
    /// How `get_many` and `gets_many` ask for many keys.
    pub multi_get: MultiGet,
}

/// How the multi-key reads (`get_many`, `gets_many`) are sent.
///
/// [`Classic`](MultiGet::Classic) is the default because it measured faster:
/// against memcached 1.6.18 over loopback, 100 keys of 100-byte values with
/// half of them missing (`examples/multi_get.rs`, release build, 2 shared
/// cores), one task made about 8,000–9,400 calls/s classic against
/// 6,900–7,200 meta, and 16 tasks on one connection about 51,000 against
/// 18,600: memcached parses one `get` line far faster than 100 `mg`
/// commands. Keys that need the meta commands
/// ([`ClientOptions::binary_keys`]) use [`Meta`](MultiGet::Meta) whatever
/// this says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum MultiGet {
    /// One `get k1 k2 ...` (or `gets`) line: the shortest request; the reply
    /// names each key. Works with any memcached.
    #[default]
    Classic,
    /// A quiet meta batch: `mg <key> v f q O<i>` per key (with `c` for
    /// `gets_many`), then `mn`. Misses cost no bytes in the reply, which
    /// carries an opaque number instead of the key. Needs memcached 1.6+.
    Meta,
}

impl ClientOptions {
    /// Options with every default.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets [`key_prefix`](Self::key_prefix).
    pub fn key_prefix(mut self, prefix: impl Into<Bytes>) -> Self {
        self.key_prefix = prefix.into();
        self
    }

    /// Sets [`default_noreply`](Self::default_noreply).
    pub fn default_noreply(mut self, on: bool) -> Self {
        self.default_noreply = on;
        self
    }

    /// Sets [`ignore_errors`](Self::ignore_errors).
    pub fn ignore_errors(mut self, on: bool) -> Self {
        self.ignore_errors = on;
        self
    }

    /// Sets [`allow_unicode_keys`](Self::allow_unicode_keys).
    pub fn allow_unicode_keys(mut self, on: bool) -> Self {
        self.allow_unicode_keys = on;
        self
    }

    /// Sets [`binary_keys`](Self::binary_keys).
    pub fn binary_keys(mut self, on: bool) -> Self {
        self.binary_keys = on;
        self
    }

    /// Checks the options a client cannot work with: a key prefix that is
    /// not a valid start of a key (a space, a control character, non-ASCII
    /// bytes without [`allow_unicode_keys`](Self::allow_unicode_keys), 250
    /// bytes or more). [`Client::with_options`] and
    /// [`Config::connect`](crate::Config::connect) check them once, so the
    /// prefix is never checked again per call.
    pub fn validate(&self) -> Result<()> {
        key::check_prefix(&self.key_prefix, self.allow_unicode_keys)
    }

    /// Sets [`multi_get`](Self::multi_get).
    pub fn multi_get(mut self, how: MultiGet) -> Self {
        self.multi_get = how;
        self
    }
}

/// A memcached client: typed calls over a [`Backend`], values through a [`Serde`].
///
/// The backend may be a [`Connection`](crate::Connection), a pool or cluster of
/// them, or the in-memory mock of `memclient-mock`; the API is the same. Keys are
/// validated (and prefixed) before any byte is written. Writes return builders
/// that are awaited:
///
/// ```
/// # async fn demo<B: memclient::Backend>(client: memclient::Client<B>) -> memclient::Result<()> {
/// use std::time::Duration;
/// client.set("greeting", "hello").ttl(Duration::from_secs(60)).await?;
/// let value = client.get("greeting").await?;
/// assert_eq!(value.as_ref().and_then(|v| v.as_str()), Some("hello"));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Client<B, S = PyFlags> {
    backend: B,
    serde: S,
    options: ClientOptions,
    /// Sleeps for the calls that wait ([`get_or_compute`](Client::get_or_compute)).
    timer: Timer,
}

/// The runtime a client sleeps on, if it has one. The core stays
/// runtime-free: a client built on a bare backend has none.
#[derive(Clone, Default)]
pub(crate) struct Timer(pub(crate) Option<Arc<dyn Runtime>>);

impl std::fmt::Debug for Timer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Timer(runtime)"
        } else {
            "Timer(none)"
        })
    }
}

impl<B: Backend> Client<B, PyFlags> {
    /// A client over `backend` with pymemcache's flags and default options.
    pub fn new(backend: B) -> Self {
        Client {
            backend,
            serde: PyFlags,
            options: ClientOptions::default(),
            timer: Timer::default(),
        }
    }
}

impl<B: Backend, S: Serde> Client<B, S> {
    /// A client with its serde and options. Fails if the key prefix is not a
    /// valid key start.
    pub fn with_options(backend: B, serde: S, options: ClientOptions) -> Result<Self> {
        options.validate()?;
        Ok(Client {
            backend,
            serde,
            options,
            timer: Timer::default(),
        })
    }

    /// The same client with another serde.
    pub fn with_serde<S2: Serde>(self, serde: S2) -> Client<B, S2> {
        Client {
            backend: self.backend,
            serde,
            options: self.options,
            timer: self.timer,
        }
    }

    /// The same client with a runtime to sleep on, for the calls that wait
    /// for another caller ([`get_or_compute`](Client::get_or_compute)).
    /// [`Config::connect`](crate::Config::connect) sets the runtime it
    /// connects on.
    pub fn with_runtime(mut self, runtime: impl Runtime) -> Self {
        self.timer = Timer(Some(Arc::new(runtime)));
        self
    }

    /// The backend this client sends its requests to.
    pub fn backend(&self) -> &B {
        &self.backend
    }

    /// The serde that turns values into bytes and back.
    pub fn serde(&self) -> &S {
        &self.serde
    }

    /// The client's options.
    pub fn options(&self) -> &ClientOptions {
        &self.options
    }

    /// The key as sent: validated, with the prefix.
    fn wire_key(&self, key: &[u8]) -> Result<Bytes> {
        key::wire_key(
            &self.options.key_prefix,
            key,
            self.options.allow_unicode_keys,
        )
    }

    /// The key of a meta command and whether it needs the `b` flag: the
    /// classic key when it is valid, else (with
    /// [`binary_keys`](ClientOptions::binary_keys)) the raw bytes, which the
    /// codec sends in base64.
    fn meta_key(&self, key: &[u8]) -> Result<(Bytes, bool)> {
        match self.wire_key(key) {
            Ok(wire) => Ok((wire, false)),
            Err(_) if self.options.binary_keys && !key.is_empty() => {
                key::binary_key(&self.options.key_prefix, key).map(|wire| (wire, true))
            }
            Err(error) => Err(error),
        }
    }

    /// The user's key back from a key as sent.
    fn user_key(&self, wire: &Bytes) -> Bytes {
        wire.slice(self.options.key_prefix.len().min(wire.len())..)
    }
}

/// The error for a well-formed reply that does not answer the request.
pub(crate) fn unexpected(response: &Response, request: &str) -> Error {
    Error::Protocol(format!("unexpected reply {} to {request}", response.name()))
}
