//! The single-key writes: storage commands, `cas`, `delete`, `touch`.

use std::time::SystemTime;

use bytes::Bytes;

use super::call::{Call, PlainKind, StorageKind};
use super::{unexpected, Client, Ttl};
use crate::proto::{as_classic, as_meta};
use crate::serde::Serde;
use crate::{Backend, Request, Response, Result, Store, StoreCommand};

/// The outcome of [`Client::cas`]: stored, or why not.
///
/// `set`, `add` and `delete` resolve to a `bool`; `cas` tells the two ways
/// it can fail apart, so it resolves to this. Ask it
/// [`is_stored`](Self::is_stored) where a `bool` would do:
///
/// ```
/// # futures_lite::future::block_on(async {
/// # let client = memclient::Client::new(memclient_mock::MockMemcache::new());
/// client.set("k", "v1").await?;
/// let (_, token) = client.gets("k").await?.expect("just stored");
/// if client.cas("k", "v2", token).await?.is_stored() {
///     println!("updated");
/// }
/// // The token is spent: the item changed since.
/// assert_eq!(client.cas("k", "v3", token).await?, memclient::CasOutcome::Exists);
/// # Ok::<_, memclient::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "a cas may not have stored anything: check the outcome"]
pub enum CasOutcome {
    /// Stored: nobody wrote the item since the `gets` (also the result of a
    /// `noreply` cas, which cannot know).
    Stored,
    /// Not stored: the item changed since the `gets`.
    Exists,
    /// Not stored: the item is gone.
    NotFound,
}

impl CasOutcome {
    /// True when the value was stored ([`Stored`](Self::Stored)).
    pub fn is_stored(self) -> bool {
        self == CasOutcome::Stored
    }

    /// True when the item changed since the `gets`
    /// ([`Exists`](Self::Exists)): read it again and retry.
    pub fn is_conflict(self) -> bool {
        self == CasOutcome::Exists
    }
}

impl From<CasOutcome> for bool {
    /// [`CasOutcome::is_stored`].
    fn from(outcome: CasOutcome) -> bool {
        outcome.is_stored()
    }
}

type StoreCall<'a, B, S, T> = Call<'a, B, S, T, StorageKind>;

impl<B: Backend, S: Serde> Client<B, S> {
    /// Stores `value` under `key`. Resolves to `true` when stored.
    ///
    /// The value is anything that converts into the serde's value: for the
    /// default [`PyFlags`](crate::serde::PyFlags), text, integers and bytes
    /// (`&str`, `String`, `i64`, `Vec<u8>`, `&[u8]` of any lifetime, ...,
    /// see [`CacheValue`](crate::CacheValue)). With
    /// [`RawBytes`](crate::serde::RawBytes) it is [`Bytes`](crate::Bytes): a
    /// `Vec<u8>` moves in without a copy, and a borrowed slice is copied with
    /// `Bytes::copy_from_slice(slice)` (`bytes` only converts `'static`
    /// slices by itself). The request owns its bytes either way, so a
    /// borrowed value is copied once, by `set` or by the caller.
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// # let client = memclient::Client::new(memclient_mock::MockMemcache::new());
    /// use std::time::Duration;
    /// client.set("greeting", "hello").await?;                    // never expires
    /// client.set("visits", 41i64).ttl(Duration::from_secs(3600)).await?;
    /// client.set("blob", vec![0u8, 1, 2]).flags(42).await?;      // your own flags
    /// client.set("fire-and-forget", "x").noreply(true).await?;   // no reply awaited
    /// let buffer = [7u8; 16];
    /// client.set("copy", &buffer[..]).await?;                   // a borrowed slice is copied
    /// assert_eq!(client.get("visits").await?.and_then(|v| v.as_i64()), Some(41));
    /// # Ok::<_, memclient::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn set(
        &self,
        key: impl AsRef<[u8]>,
        value: impl Into<S::Value>,
    ) -> StoreCall<'_, B, S, bool> {
        self.store(StoreCommand::Set, key.as_ref(), value.into())
    }

    /// Stores `value` only if `key` holds nothing. `false`: it was not stored.
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// # let client = memclient::Client::new(memclient_mock::MockMemcache::new());
    /// assert!(client.add("lock:job", "worker-1").await?);    // took it
    /// assert!(!client.add("lock:job", "worker-2").await?);   // already held
    /// # Ok::<_, memclient::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn add(
        &self,
        key: impl AsRef<[u8]>,
        value: impl Into<S::Value>,
    ) -> StoreCall<'_, B, S, bool> {
        self.store(StoreCommand::Add, key.as_ref(), value.into())
    }

    /// Stores `value` only if `key` holds something. `false`: it was not stored.
    pub fn replace(
        &self,
        key: impl AsRef<[u8]>,
        value: impl Into<S::Value>,
    ) -> StoreCall<'_, B, S, bool> {
        self.store(StoreCommand::Replace, key.as_ref(), value.into())
    }

    /// Adds the serialized `value` after the stored data. `false`: the key is missing.
    /// The item keeps its flags and expiry.
    pub fn append(
        &self,
        key: impl AsRef<[u8]>,
        value: impl Into<S::Value>,
    ) -> StoreCall<'_, B, S, bool> {
        self.store(StoreCommand::Append, key.as_ref(), value.into())
    }

    /// Adds the serialized `value` before the stored data. `false`: the key is missing.
    pub fn prepend(
        &self,
        key: impl AsRef<[u8]>,
        value: impl Into<S::Value>,
    ) -> StoreCall<'_, B, S, bool> {
        self.store(StoreCommand::Prepend, key.as_ref(), value.into())
    }

    /// Stores `value` only if the item's cas unique is still `unique` (from
    /// [`gets`](Client::gets)).
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// # let client = memclient::Client::new(memclient_mock::MockMemcache::new());
    /// // The check-and-set loop: read with a token, write only if nobody wrote since.
    /// client.set("counter", "0").await?;
    /// loop {
    ///     let Some((value, token)) = client.gets("counter").await? else { break };
    ///     let next: i64 = value.as_str().unwrap_or("0").parse().unwrap_or(0) + 1;
    ///     match client.cas("counter", next.to_string(), token).await? {
    ///         memclient::CasOutcome::Stored => break,
    ///         memclient::CasOutcome::Exists => continue,    // changed: read again
    ///         memclient::CasOutcome::NotFound => break,     // deleted meanwhile
    ///     }
    /// }
    /// assert_eq!(client.get("counter").await?.as_ref().and_then(|v| v.as_str()), Some("1"));
    /// # Ok::<_, memclient::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn cas(
        &self,
        key: impl AsRef<[u8]>,
        value: impl Into<S::Value>,
        unique: u64,
    ) -> StoreCall<'_, B, S, CasOutcome> {
        let request = self.store_request(StoreCommand::Cas { unique }, key.as_ref(), value.into());
        Call::new(self, request, |response| {
            match as_classic(response, Response::Stored) {
                Response::Stored | Response::NoReply => Ok(CasOutcome::Stored),
                Response::Exists => Ok(CasOutcome::Exists),
                Response::NotFound => Ok(CasOutcome::NotFound),
                other => Err(unexpected(&other, "cas")),
            }
        })
    }

    /// Deletes `key`. `false`: there was nothing to delete.
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// # let client = memclient::Client::new(memclient_mock::MockMemcache::new());
    /// client.set("k", "v").await?;
    /// assert!(client.delete("k").await?);
    /// assert!(!client.delete("k").await?);   // already gone
    /// # Ok::<_, memclient::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn delete(&self, key: impl AsRef<[u8]>) -> Call<'_, B, S, bool, PlainKind> {
        let request = self.delete_request(key.as_ref());
        Call::new(self, request, |response| {
            match as_classic(response, Response::Deleted) {
                Response::Deleted | Response::NoReply => Ok(true),
                Response::NotFound => Ok(false),
                other => Err(unexpected(&other, "delete")),
            }
        })
    }

    /// Sets a new expiry on `key`. `false`: the key is missing.
    /// `Duration::ZERO` expires the item at once, it does not mean never: see [`Ttl`](crate::Ttl).
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// # let client = memclient::Client::new(memclient_mock::MockMemcache::new());
    /// use std::time::Duration;
    /// client.set("session", "data").ttl(Duration::from_secs(60)).await?;
    /// assert!(client.touch("session", Duration::from_secs(1800)).await?);
    /// assert!(client.touch("session", memclient::Ttl::Never).await?);
    /// assert!(!client.touch("no-such-key", Duration::from_secs(60)).await?);
    /// # Ok::<_, memclient::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn touch(
        &self,
        key: impl AsRef<[u8]>,
        ttl: impl Into<Ttl>,
    ) -> Call<'_, B, S, bool, PlainKind> {
        let exptime = ttl.into().to_exptime(SystemTime::now());
        let request = self.keyed(key.as_ref(), |key| {
            Ok(Request::Touch {
                key,
                exptime,
                noreply: false,
            })
        });
        Call::new(self, request, |response| {
            match as_classic(response, Response::Touched) {
                Response::Touched | Response::NoReply => Ok(true),
                Response::NotFound => Ok(false),
                other => Err(unexpected(&other, "touch")),
            }
        })
    }

    fn store(
        &self,
        command: StoreCommand,
        key: &[u8],
        value: S::Value,
    ) -> StoreCall<'_, B, S, bool> {
        let request = self.store_request(command, key, value);
        Call::new(self, request, |response| {
            match as_classic(response, Response::Stored) {
                Response::Stored | Response::NoReply => Ok(true),
                Response::NotStored => Ok(false),
                other => Err(unexpected(&other, "a storage command")),
            }
        })
    }

    pub(crate) fn store_request(
        &self,
        command: StoreCommand,
        key: &[u8],
        value: S::Value,
    ) -> Result<Request> {
        self.keyed(key, |wire_key| {
            let (value, flags) = self.serde.serialize(key, &value)?;
            Ok(Request::Store(Store {
                command,
                key: wire_key,
                flags,
                exptime: 0,
                value,
                noreply: false,
            }))
        })
    }

    /// `delete`, or `md b` for a binary key.
    pub(crate) fn delete_request(&self, key: &[u8]) -> Result<Request> {
        self.keyed(key, |key| {
            Ok(Request::Delete {
                key,
                noreply: false,
            })
        })
    }

    /// The classic request `build` makes of the wire form of `key`, sent as
    /// its meta command when the key needs base64 (a binary key).
    pub(crate) fn keyed(
        &self,
        key: &[u8],
        build: impl FnOnce(Bytes) -> Result<Request>,
    ) -> Result<Request> {
        let (wire_key, binary) = self.meta_key(key)?;
        let request = build(wire_key)?;
        Ok(if binary { as_meta(request) } else { request })
    }
}
