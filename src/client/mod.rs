//! [`Client`]: the typed API over any [`Backend`].

mod admin;
mod call;
mod key;
mod many;
mod read;
pub(crate) mod stats;
mod ttl;
mod write;

use bytes::Bytes;

pub use call::{Call, FlushKind, PlainKind, StorageKind};
pub use many::{DeleteMany, SetMany};
pub use stats::StatValue;
pub use ttl::Ttl;
pub use write::CasOutcome;

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
}

impl<B: Backend> Client<B, PyFlags> {
    /// A client over `backend` with pymemcache's flags and default options.
    pub fn new(backend: B) -> Self {
        Client {
            backend,
            serde: PyFlags,
            options: ClientOptions::default(),
        }
    }
}

impl<B: Backend, S: Serde> Client<B, S> {
    /// A client with its serde and options. Fails if the key prefix is not a
    /// valid key start.
    pub fn with_options(backend: B, serde: S, options: ClientOptions) -> Result<Self> {
        key::check_prefix(&options.key_prefix, options.allow_unicode_keys)?;
        Ok(Client {
            backend,
            serde,
            options,
        })
    }

    /// The same client with another serde.
    pub fn with_serde<S2: Serde>(self, serde: S2) -> Client<B, S2> {
        Client {
            backend: self.backend,
            serde,
            options: self.options,
        }
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

    /// The user's key back from a key as sent.
    fn user_key(&self, wire: &Bytes) -> Bytes {
        wire.slice(self.options.key_prefix.len().min(wire.len())..)
    }
}

/// The error for a well-formed reply that does not answer the request.
pub(crate) fn unexpected(response: &Response, request: &str) -> Error {
    Error::Protocol(format!("unexpected reply {} to {request}", response.name()))
}
