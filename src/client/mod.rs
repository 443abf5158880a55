//! [`Client`]: the typed API over any [`Backend`].

// The `Client` page of the API docs lists methods in the order these modules
// are declared (one group each, so that rustfmt keeps the order):
// construction, reads, writes, counters, multi-key, meta and stampede
// protection, administration.
mod construct;

mod read;

mod write;

mod counters;

mod many;

mod meta;

mod admin;

mod call;
mod key;
mod options;
pub(crate) mod stats;
mod ttl;

use bytes::{Buf, Bytes};

pub use call::{Call, FlushKind, PlainKind, StorageKind};
pub use many::{DeleteMany, SetMany};
pub use meta::{
    ArithKind, DeleteKind, GetKind, GetOrCompute, Meta, MetaCounter, MetaItem, MetaOutcome,
    MetaWrite, SetKind, SetMode,
};
pub use options::{ClientOptions, MultiGet};
pub use stats::StatValue;
pub use ttl::Ttl;
pub use write::CasOutcome;

pub(crate) use construct::Timer;

use crate::serde::{PyFlags, Serde};
use crate::{Backend, Error, Response, Result};

/// A memcached client: typed calls over a [`Backend`], values through a [`Serde`].
///
/// The backend may be a [`Connection`](crate::Connection), a
/// [`Pool`](crate::Pool), a [`Cluster`](crate::Cluster), a
/// [`Retry`](crate::Retry) around any of them, or the in-memory mock of
/// `memclient-mock`; the API is the same. Keys are validated (and prefixed)
/// before any byte is written. Reads are `async fn`s; writes return a
/// builder ([`Call`]) whose options (`ttl`, `flags`, `noreply`) are set
/// before it is awaited.
///
/// The methods below come in the order a user needs them: construction,
/// reads (`get`, `get_many`, `gets`, `gat`), writes (`set`, `add`, `cas`,
/// `delete`, `touch`), counters (`incr`, `decr`), multi-key writes
/// (`set_many`, `delete_many`), the meta commands and stampede protection
/// (`meta_*`, `get_or_compute`), and administration (`stats`, `flush_all`).
///
/// The examples on this page run against `memclient-mock`'s
/// `MockMemcache`, an in-memory memcached; against a server, only the
/// construction differs ([`Config::connect`](crate::Config::connect)):
///
/// ```
/// use std::time::Duration;
/// use memclient::Client;
/// use memclient_mock::MockMemcache;
///
/// # futures_lite::future::block_on(async {
/// let client = Client::new(MockMemcache::new());
/// client.set("greeting", "hello").ttl(Duration::from_secs(60)).await?;
/// let value = client.get("greeting").await?;
/// assert_eq!(value.as_ref().and_then(|v| v.as_str()), Some("hello"));
/// # Ok::<_, memclient::Error>(())
/// # }).unwrap();
/// ```
///
/// ```no_run
/// # #[cfg(feature = "tokio")]
/// # async fn demo() -> memclient::Result<()> {
/// // The same client on a memcached server, on tokio:
/// let client = memclient::Config::new("127.0.0.1:11211")
///     .connect(memclient::tokio::Tokio)
///     .await?;
/// # Ok(())
/// # }
/// ```
///
#[derive(Debug, Clone)]
pub struct Client<B, S = PyFlags> {
    backend: B,
    serde: S,
    options: ClientOptions,
    /// Sleeps for the calls that wait ([`get_or_compute`](Client::get_or_compute)).
    timer: Timer,
}

/// The keys as sent and as handed back, for every call of the client.
impl<B: Backend, S: Serde> Client<B, S> {
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

    /// The user's key back from a key as sent: the same bytes without the
    /// prefix (moved, so no reference count is taken).
    fn user_key(&self, mut wire: Bytes) -> Bytes {
        wire.advance(self.options.key_prefix.len().min(wire.len()));
        wire
    }

    /// [`user_key`](Self::user_key), borrowed.
    fn user_key_of<'a>(&self, wire: &'a [u8]) -> &'a [u8] {
        &wire[self.options.key_prefix.len().min(wire.len())..]
    }
}

/// The error for a well-formed reply that does not answer the request.
pub(crate) fn unexpected(response: &Response, request: &str) -> Error {
    Error::Protocol(format!("unexpected reply {} to {request}", response.name()))
}
