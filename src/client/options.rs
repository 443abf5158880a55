//! [`ClientOptions`]: what a client does to keys and replies, whatever its
//! backend.

use bytes::Bytes;

use super::key;
use crate::Result;

/// What a [`Client`](crate::Client) does to keys and replies, whatever its
/// backend. Built with its setters, or through the [`Config`](crate::Config)
/// methods of the same names.
///
/// ```
/// use memclient::{Client, ClientOptions};
/// use memclient::serde::PyFlags;
/// # futures_lite::future::block_on(async {
/// let options = ClientOptions::new()
///     .key_prefix("app:")
///     .errors_as_misses(true);   // pymemcache's ignore_exc
/// let mock = memclient_mock::MockMemcache::new();
/// let client = Client::with_options(mock.clone(), PyFlags, options)?;
/// client.set("user:1", "Ada").await?;
/// assert!(mock.get_raw(b"app:user:1").is_some());   // the prefix is on the wire
/// # Ok::<_, memclient::Error>(())
/// # }).unwrap();
/// ```
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
    /// forms) as cache misses: pymemcache's `ignore_exc`, and the same name
    /// as [`ClusterOptions::errors_as_misses`](crate::ClusterOptions::errors_as_misses),
    /// which does it per server. Off by default. Writes still fail, and
    /// invalid keys are still errors: they are bugs, not outages. (Formerly
    /// `ignore_errors`.)
    #[doc(alias = "ignore_exc")]
    #[doc(alias = "ignore_errors")]
    pub errors_as_misses: bool,
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

    /// Sets [`errors_as_misses`](Self::errors_as_misses) (pymemcache's
    /// `ignore_exc`).
    #[doc(alias = "ignore_exc")]
    pub fn errors_as_misses(mut self, on: bool) -> Self {
        self.errors_as_misses = on;
        self
    }

    /// The former name of [`errors_as_misses`](Self::errors_as_misses).
    #[deprecated(note = "renamed to `errors_as_misses`, the name `ClusterOptions` uses too")]
    pub fn ignore_errors(self, on: bool) -> Self {
        self.errors_as_misses(on)
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
    /// bytes or more). [`Client::with_options`](crate::Client::with_options) and
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
