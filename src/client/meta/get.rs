//! `meta_get`: `mg` with every flag of memcached 1.6, typed.

use std::time::Duration;

use bytes::Bytes;

use super::{seconds, status_of, Meta};
use crate::client::{Client, Ttl};
use crate::proto::{Flag, Returned};
use crate::serde::Serde;
use crate::{Backend, Error, MetaCommand, MetaResponse, MetaStatus, Result};

/// The kind of [`Meta`] calls made by [`Client::meta_get`].
#[derive(Debug)]
pub enum GetKind {}

/// What `mg` returned for an item that exists. Each field is `None` (or
/// `false`) unless its flag was asked for (or the server set it).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MetaItem<V> {
    /// The value (`v`), through the client's serde.
    pub value: Option<V>,
    /// The client flags stored with the value (`f`; asked whenever `v` is).
    pub flags: Option<u32>,
    /// The cas unique (`c`).
    pub cas: Option<u64>,
    /// The time left to live (`t`): `None` when the item never expires (or
    /// `t` was not asked).
    pub ttl: Option<Duration>,
    /// The time since the item was last accessed (`l`), before this call.
    pub last_access: Option<Duration>,
    /// Whether the item was read before this call (`h`).
    pub hit_before: Option<bool>,
    /// The size of the value in bytes (`s`).
    pub size: Option<usize>,
    /// The opaque token (`O`), echoed.
    pub opaque: Option<Bytes>,
    /// The key (`k`), without the prefix; the original bytes for a binary key.
    pub key: Option<Bytes>,
    /// `W`: this caller won the right to recache the item (after `N` or
    /// `R`, or the first read of a stale item).
    pub won: bool,
    /// `X`: the item is stale (invalidated by `meta_delete().invalidate()`).
    pub stale: bool,
    /// `Z`: another caller already won the recache.
    pub win_sent: bool,
}

impl<B: Backend, S: Serde> Client<B, S> {
    /// `mg`: the item under `key`, or `None` on a miss. Asks for the value
    /// (`v`, with its flags `f`) unless told otherwise:
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// # let client = memclient::Client::new(memclient_mock::MockMemcache::new());
    /// use std::time::Duration;
    /// client.set("greeting", "hello").ttl(Duration::from_secs(60)).await?;
    /// let item = client.meta_get("greeting").cas().ttl().await?.expect("stored");
    /// assert_eq!(item.value.as_ref().and_then(|v| v.as_str()), Some("hello"));
    /// assert!(item.cas.is_some());
    /// println!("expires in {:?}", item.ttl);
    /// # Ok::<_, memclient::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn meta_get(
        &self,
        key: impl AsRef<[u8]>,
    ) -> Meta<'_, B, S, Option<MetaItem<S::Value>>, GetKind> {
        Meta::new(
            self,
            MetaCommand::Get,
            key.as_ref(),
            &[Flag::ReturnValue, Flag::ReturnClientFlags],
            finish_get,
        )
    }
}

impl<B, S, T> Meta<'_, B, S, T, GetKind> {
    /// Return the value (`v`, the default) or not (`false`: only the
    /// asked-for metadata, answered `HD`).
    pub fn value(self, on: bool) -> Self {
        if on {
            self.on(Flag::ReturnValue).on(Flag::ReturnClientFlags)
        } else {
            self.off(Flag::ReturnValue)
        }
    }

    /// Return the cas unique (`c`).
    pub fn cas(self) -> Self {
        self.on(Flag::ReturnCas)
    }

    /// Return the client flags (`f`).
    pub fn client_flags(self) -> Self {
        self.on(Flag::ReturnClientFlags)
    }

    /// Return whether the item was read before (`h`).
    pub fn hit_before(self) -> Self {
        self.on(Flag::ReturnHit)
    }

    /// Return the time since the last access (`l`).
    pub fn last_access(self) -> Self {
        self.on(Flag::ReturnLastAccess)
    }

    /// Return the size of the value (`s`).
    pub fn size(self) -> Self {
        self.on(Flag::ReturnSize)
    }

    /// Return the remaining time to live (`t`).
    pub fn ttl(self) -> Self {
        self.on(Flag::ReturnTtl)
    }

    /// Don't bump the item in the LRU, nor mark it read (`u`).
    pub fn no_bump(self) -> Self {
        self.on(Flag::NoBump)
    }

    /// Give the item this new cas unique if the call modifies it (`E`).
    /// Needs a memcached newer than 1.6.18, which answers `CLIENT_ERROR invalid flag`.
    pub fn new_cas(self, cas: u64) -> Self {
        self.on(Flag::NewCas(cas))
    }

    /// Vivify on a miss (`N`): create an empty item living `ttl` and make
    /// this caller the winner (`W`); later callers see `Z`. The base of
    /// stampede protection, see [`get_or_compute`](Client::get_or_compute).
    /// `Duration::ZERO` expires the item at once, it does not mean never: see [`Ttl`](crate::Ttl).
    pub fn vivify(self, ttl: impl Into<Ttl>) -> Self {
        self.ttl_flag(Flag::Vivify, ttl)
    }

    /// Win the recache (`R`) when the item has less than `threshold` left to
    /// live, so one caller refreshes a hot item before it expires.
    pub fn recache(self, threshold: Duration) -> Self {
        self.on(Flag::Recache(threshold.as_secs()))
    }

    /// Set a new time to live on a hit (`T`), as `touch` / `gat`. `Duration::ZERO` expires the item at once, it does not mean never: see [`Ttl`](crate::Ttl).
    pub fn touch(self, ttl: impl Into<Ttl>) -> Self {
        self.ttl_flag(Flag::Ttl, ttl)
    }
}

/// A `mg` reply as a [`MetaItem`].
fn finish_get<B: Backend, S: Serde>(
    client: &Client<B, S>,
    key: &Bytes,
    reply: MetaResponse,
) -> Result<Option<MetaItem<S::Value>>> {
    match status_of(&reply)? {
        MetaStatus::Miss => Ok(None),
        MetaStatus::Value | MetaStatus::Header => item(client, key, reply).map(Some),
        other => Err(Error::Protocol(format!("unexpected reply {other:?} to mg"))),
    }
}

/// The typed view of a `VA` or `HD` reply.
pub(super) fn item<B: Backend, S: Serde>(
    client: &Client<B, S>,
    key: &Bytes,
    mut reply: MetaResponse,
) -> Result<MetaItem<S::Value>> {
    let returned = Returned::decode(&reply)?;
    let flags = returned.client_flags;
    let value = match reply.data.take() {
        Some(data) => Some(client.serde.deserialize(key, data, flags.unwrap_or(0))?),
        None => None,
    };
    Ok(MetaItem {
        value,
        flags,
        cas: returned.cas,
        ttl: seconds(returned.ttl),
        last_access: seconds(returned.last_access),
        hit_before: returned.hit_before,
        size: returned.size,
        key: client.returned_key(&returned),
        opaque: returned.opaque,
        won: returned.won,
        stale: returned.stale,
        win_sent: returned.win_sent,
    })
}
