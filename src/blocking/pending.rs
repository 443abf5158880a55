//! [`Pending`]: a write of the blocking client, with its options, sent by
//! [`send`](Pending::send).

use std::future::IntoFuture;
use std::time::Duration;

use super::block_on;
use crate::client::{Call, DeleteMany, FlushKind, PlainKind, SetMany, StorageKind};
use crate::Ttl;

/// A call of the blocking client that takes options: set them, then
/// [`send`](Self::send) it. Nothing is sent before.
///
/// It wraps the builder of the async [`Client`](crate::Client) (a
/// [`Call`], a [`SetMany`], ...), so the options are the same ones.
///
/// ```
/// # fn demo(client: memclient::blocking::Client<impl memclient::Backend>) -> memclient::Result<()> {
/// use std::time::Duration;
/// let stored = client.set("k", "v").ttl(Duration::from_secs(60)).send()?;
/// client.delete("k").noreply(true).send()?;
/// # Ok(())
/// # }
/// ```
#[must_use = "a write does nothing until it is sent with .send()"]
#[derive(Debug)]
pub struct Pending<C>(pub(crate) C);

impl<C: IntoFuture> Pending<C> {
    /// Sends the call and blocks until its reply is in.
    pub fn send(self) -> C::Output {
        block_on(self.0.into_future())
    }
}

impl<C> Pending<C> {
    /// The async builder inside, for an option this wrapper does not forward.
    pub fn map<D>(self, change: impl FnOnce(C) -> D) -> Pending<D> {
        Pending(change(self.0))
    }

    /// The async builder inside.
    pub fn into_inner(self) -> C {
        self.0
    }
}

impl<B, S, T> Pending<Call<'_, B, S, T, StorageKind>> {
    /// When the item expires; see [`Call::ttl`].
    pub fn ttl(self, ttl: impl Into<Ttl>) -> Self {
        self.map(|call| call.ttl(ttl))
    }

    /// Store these flags instead of the serde's; see [`Call::flags`].
    pub fn flags(self, flags: u32) -> Self {
        self.map(|call| call.flags(flags))
    }

    /// Ask the server not to reply; see [`Call::noreply`].
    pub fn noreply(self, on: bool) -> Self {
        self.map(|call| call.noreply(on))
    }
}

impl<B, S, T> Pending<Call<'_, B, S, T, PlainKind>> {
    /// Ask the server not to reply; see [`Call::noreply`].
    pub fn noreply(self, on: bool) -> Self {
        self.map(|call| call.noreply(on))
    }
}

impl<B, S> Pending<Call<'_, B, S, (), FlushKind>> {
    /// Invalidate the items this long from now; see [`Call::delay`].
    pub fn delay(self, delay: Duration) -> Self {
        self.map(|call| call.delay(delay))
    }

    /// Ask the server not to reply; see [`Call::noreply`].
    pub fn noreply(self, on: bool) -> Self {
        self.map(|call| call.noreply(on))
    }
}

impl<B, S> Pending<SetMany<'_, B, S>> {
    /// When the items expire; see [`SetMany::ttl`].
    pub fn ttl(self, ttl: impl Into<Ttl>) -> Self {
        self.map(|call| call.ttl(ttl))
    }

    /// Store these flags instead of the serde's; see [`SetMany::flags`].
    pub fn flags(self, flags: u32) -> Self {
        self.map(|call| call.flags(flags))
    }

    /// Ask the server not to reply; see [`SetMany::noreply`].
    pub fn noreply(self, on: bool) -> Self {
        self.map(|call| call.noreply(on))
    }
}

impl<B, S> Pending<DeleteMany<'_, B, S>> {
    /// Ask the server not to reply; see [`DeleteMany::noreply`].
    pub fn noreply(self, on: bool) -> Self {
        self.map(|call| call.noreply(on))
    }
}
