//! `meta_set`: `ms` in its five modes, typed; and the outcome shared with
//! `meta_delete`.

use bytes::Bytes;

use super::{status_of, Meta};
use crate::client::{Client, Ttl};
use crate::proto::{Flag, MetaMode, Returned};
use crate::serde::Serde;
use crate::{Backend, Error, MetaCommand, MetaResponse, MetaStatus, Result};

/// The kind of [`Meta`] calls made by [`Client::meta_set`].
#[derive(Debug)]
pub enum SetKind {}

/// How `ms` stores (its `M` flag).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SetMode {
    /// Store unconditionally (`MS`, the default).
    #[default]
    Set,
    /// Store only if the key holds nothing (`ME`).
    Add,
    /// Store only if the key holds something (`MR`).
    Replace,
    /// Add the data after the stored data (`MA`).
    Append,
    /// Add the data before the stored data (`MP`).
    Prepend,
}

impl From<SetMode> for MetaMode {
    fn from(mode: SetMode) -> MetaMode {
        match mode {
            SetMode::Set => MetaMode::Set,
            SetMode::Add => MetaMode::Add,
            SetMode::Replace => MetaMode::Replace,
            SetMode::Append => MetaMode::Append,
            SetMode::Prepend => MetaMode::Prepend,
        }
    }
}

/// The outcome of a meta write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaWrite {
    /// `HD`: stored, or deleted (also the outcome of a quiet write).
    Done,
    /// `NS`: the mode's condition failed (add of an existing key, replace,
    /// append or prepend of a missing one).
    NotStored,
    /// `EX`: the cas unique did not match.
    Exists,
    /// `NF`: the item is missing (a cas write or a delete).
    NotFound,
}

/// What `ms` or `md` answered.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MetaOutcome {
    /// The outcome.
    pub status: MetaWrite,
    /// The item's new cas unique (`c`, `ms` only; memcached sends 0 when not stored).
    pub cas: Option<u64>,
    /// The key (`k`), without the prefix; the original bytes for a binary key.
    pub key: Option<Bytes>,
    /// The opaque token (`O`), echoed.
    pub opaque: Option<Bytes>,
}

impl MetaOutcome {
    /// True for [`MetaWrite::Done`].
    pub fn is_done(&self) -> bool {
        self.status == MetaWrite::Done
    }
}

impl<B: Backend, S: Serde> Client<B, S> {
    /// `ms`: stores `value` under `key` (mode set unless told otherwise).
    ///
    /// ```
    /// # async fn demo<B: memclient::Backend>(client: memclient::Client<B>) -> memclient::Result<()> {
    /// use std::time::Duration;
    /// use memclient::{MetaWrite, SetMode};
    /// let outcome = client
    ///     .meta_set("greeting", "hello")
    ///     .mode(SetMode::Add)
    ///     .ttl(Duration::from_secs(60))
    ///     .return_cas()
    ///     .await?;
    /// if outcome.status == MetaWrite::Done {
    ///     println!("stored with cas {:?}", outcome.cas);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn meta_set(
        &self,
        key: impl AsRef<[u8]>,
        value: impl Into<S::Value>,
    ) -> Meta<'_, B, S, MetaOutcome, SetKind> {
        let key = key.as_ref();
        let mut call = Meta::new(self, MetaCommand::Set, key, &[], finish_write);
        match self.serde.serialize(key, &value.into()) {
            Ok((data, flags)) => {
                if flags != 0 {
                    call = call.on(Flag::ClientFlags(flags));
                }
                if let Ok(request) = &mut call.request {
                    request.data = Some(data);
                }
            }
            Err(error) => call.request = Err(error),
        }
        call
    }
}

impl<B, S, T> Meta<'_, B, S, T, SetKind> {
    /// How to store (`M`); set by default.
    pub fn mode(self, mode: SetMode) -> Self {
        match mode {
            SetMode::Set => self.off(Flag::Mode(MetaMode::Set)),
            mode => self.on(Flag::Mode(mode.into())),
        }
    }

    /// When the item expires (`T`); never by default. `Duration::ZERO` expires the item at once, it does not mean never: see [`Ttl`](crate::Ttl).
    pub fn ttl(self, ttl: impl Into<Ttl>) -> Self {
        self.ttl_flag(Flag::Ttl, ttl)
    }

    /// Store these client flags (`F`) instead of the ones the serde chose.
    pub fn client_flags(self, flags: u32) -> Self {
        if flags == 0 {
            self.off(Flag::ClientFlags(0))
        } else {
            self.on(Flag::ClientFlags(flags))
        }
    }

    /// Store only if the item's cas unique is still `cas` (`C`).
    pub fn compare_cas(self, cas: u64) -> Self {
        self.on(Flag::CompareCas(cas))
    }

    /// Give the stored item this cas unique (`E`). Needs a memcached newer
    /// than 1.6.18, which answers `CLIENT_ERROR invalid flag`.
    pub fn new_cas(self, cas: u64) -> Self {
        self.on(Flag::NewCas(cas))
    }

    /// With [`compare_cas`](Self::compare_cas): when the given cas is older
    /// than the item's, store anyway but mark the item stale (`I`).
    pub fn invalidate(self) -> Self {
        self.on(Flag::Invalidate)
    }

    /// In append or prepend mode, create the item on a miss with this ttl
    /// (`N`). Needs a memcached newer than 1.6.18, which takes the flag but
    /// answers `NS` on a miss all the same. `Duration::ZERO` expires the item at once, it does not mean never: see [`Ttl`](crate::Ttl).
    pub fn vivify(self, ttl: impl Into<Ttl>) -> Self {
        self.ttl_flag(Flag::Vivify, ttl)
    }

    /// Return the new cas unique (`c`).
    pub fn return_cas(self) -> Self {
        self.on(Flag::ReturnCas)
    }
}

/// A `ms` or `md` reply as a [`MetaOutcome`].
pub(super) fn finish_write<B: Backend, S: Serde>(
    client: &Client<B, S>,
    _key: &Bytes,
    reply: MetaResponse,
) -> Result<MetaOutcome> {
    let status = match status_of(&reply)? {
        MetaStatus::Header => MetaWrite::Done,
        MetaStatus::NotStored => MetaWrite::NotStored,
        MetaStatus::Exists => MetaWrite::Exists,
        MetaStatus::NotFound => MetaWrite::NotFound,
        other => {
            return Err(Error::Protocol(format!(
                "unexpected reply {other:?} to a meta write"
            )))
        }
    };
    let returned = Returned::decode(&reply)?;
    Ok(MetaOutcome {
        status,
        cas: returned.cas,
        key: client.returned_key(&returned),
        opaque: returned.opaque,
    })
}
