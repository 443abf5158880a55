//! `meta_arithmetic`: `ma`, incr and decr with creation on a miss, typed.

use std::time::Duration;

use bytes::Bytes;

use super::set::MetaWrite;
use super::{seconds, status_of, Meta};
use crate::client::{Client, Ttl};
use crate::proto::{Flag, MetaMode, Returned};
use crate::serde::Serde;
use crate::{Backend, Error, MetaCommand, MetaResponse, MetaStatus, Result};

/// The kind of [`Meta`] calls made by [`Client::meta_arithmetic`].
#[derive(Debug)]
pub enum ArithKind {}

/// What `ma` answered.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MetaCounter {
    /// [`Done`](MetaWrite::Done), [`NotFound`](MetaWrite::NotFound) (a miss
    /// without [`vivify`](Meta::vivify)), [`NotStored`](MetaWrite::NotStored)
    /// or [`Exists`](MetaWrite::Exists) (the cas did not match).
    pub status: MetaWrite,
    /// The new value (`v`, asked by default).
    pub value: Option<u64>,
    /// The time left to live (`t`): `None` when the item never expires.
    pub ttl: Option<Duration>,
    /// The new cas unique (`c`).
    pub cas: Option<u64>,
    /// The key (`k`), without the prefix.
    pub key: Option<Bytes>,
    /// The opaque token (`O`), echoed.
    pub opaque: Option<Bytes>,
}

impl<B: Backend, S: Serde> Client<B, S> {
    /// `ma`: adds 1 to the decimal number under `key` and returns the new
    /// value; set the delta, decrement mode and creation with the builder:
    ///
    /// ```
    /// # async fn demo<B: memclient::Backend>(client: memclient::Client<B>) -> memclient::Result<()> {
    /// use std::time::Duration;
    /// let counter = client
    ///     .meta_arithmetic("visits")
    ///     .delta(5)
    ///     .vivify(Duration::from_secs(3600))
    ///     .initial(100)
    ///     .await?;
    /// println!("{:?}", counter.value);
    /// # Ok(())
    /// # }
    /// ```
    pub fn meta_arithmetic(&self, key: impl AsRef<[u8]>) -> Meta<'_, B, S, MetaCounter, ArithKind> {
        Meta::new(
            self,
            MetaCommand::Arithmetic,
            key.as_ref(),
            &[Flag::ReturnValue],
            finish_arith,
        )
    }
}

impl<B, S, T> Meta<'_, B, S, T, ArithKind> {
    /// The amount to add or subtract (`D`); 1 by default.
    pub fn delta(self, delta: u64) -> Self {
        self.on(Flag::Delta(delta))
    }

    /// Subtract (`MD`), stopping at 0, instead of adding (wrapping at 2^64).
    pub fn decrement(self) -> Self {
        self.on(Flag::Mode(MetaMode::Decr))
    }

    /// Create the item on a miss (`N`) with this ttl, holding
    /// [`initial`](Self::initial) (0 by default). `Duration::ZERO` expires the item at once, it does not mean never: see [`Ttl`](crate::Ttl).
    pub fn vivify(self, ttl: impl Into<Ttl>) -> Self {
        self.ttl_flag(Flag::Vivify, ttl)
    }

    /// The value of an item created on a miss (`J`).
    pub fn initial(self, value: u64) -> Self {
        self.on(Flag::Initial(value))
    }

    /// A new ttl on success (`T`). `Duration::ZERO` expires the item at once, it does not mean never: see [`Ttl`](crate::Ttl).
    pub fn ttl(self, ttl: impl Into<Ttl>) -> Self {
        self.ttl_flag(Flag::Ttl, ttl)
    }

    /// Apply only if the item's cas unique is `cas` (`C`).
    pub fn compare_cas(self, cas: u64) -> Self {
        self.on(Flag::CompareCas(cas))
    }

    /// Give the item this new cas unique (`E`). Needs a memcached newer
    /// than 1.6.18, which answers `CLIENT_ERROR invalid or duplicate flag`.
    pub fn new_cas(self, cas: u64) -> Self {
        self.on(Flag::NewCas(cas))
    }

    /// Return the new value (`v`, the default) or not.
    pub fn value(self, on: bool) -> Self {
        if on {
            self.on(Flag::ReturnValue)
        } else {
            self.off(Flag::ReturnValue)
        }
    }

    /// Return the time left to live (`t`).
    pub fn return_ttl(self) -> Self {
        self.on(Flag::ReturnTtl)
    }

    /// Return the new cas unique (`c`).
    pub fn return_cas(self) -> Self {
        self.on(Flag::ReturnCas)
    }
}

/// A `ma` reply as a [`MetaCounter`].
fn finish_arith<B: Backend, S: Serde>(
    client: &Client<B, S>,
    _key: &Bytes,
    reply: MetaResponse,
) -> Result<MetaCounter> {
    let status = match status_of(&reply)? {
        MetaStatus::Value | MetaStatus::Header => MetaWrite::Done,
        MetaStatus::NotFound => MetaWrite::NotFound,
        MetaStatus::NotStored => MetaWrite::NotStored,
        MetaStatus::Exists => MetaWrite::Exists,
        other => return Err(Error::Protocol(format!("unexpected reply {other:?} to ma"))),
    };
    let value = match &reply.data {
        Some(data) => Some(
            std::str::from_utf8(data)
                .ok()
                .and_then(|text| text.parse().ok())
                .ok_or_else(|| Error::protocol("ma value is not a number", data))?,
        ),
        None => None,
    };
    let returned = Returned::decode(&reply)?;
    Ok(MetaCounter {
        status,
        value,
        ttl: seconds(returned.ttl),
        cas: returned.cas,
        key: client.returned_key(&returned),
        opaque: returned.opaque,
    })
}
