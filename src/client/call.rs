//! [`Call`]: one request with its per-call options, awaited to send it.

use std::future::IntoFuture;
use std::marker::PhantomData;
use std::time::{Duration, SystemTime};

use super::{Client, Ttl};
use crate::runtime::BoxFuture;
use crate::serde::Serde;
use crate::{Backend, Request, Response, Result};

/// A request with options, sent when awaited.
///
/// Every write of [`Client`] returns one: set options with its methods, then
/// `.await` it. The kind parameter decides which options exist: storage
/// commands take a ttl and flags, `flush_all` a delay, and every call that
/// memcached lets skip its reply takes `noreply`.
#[must_use = "a call does nothing until it is awaited"]
pub struct Call<'a, B, S, T, K = PlainKind> {
    client: &'a Client<B, S>,
    /// The request, or why it could not be built (an invalid key, a serde
    /// failure): reported when awaited, before any I/O.
    request: Result<Request>,
    finish: fn(Response) -> Result<T>,
    _kind: PhantomData<fn() -> K>,
}

/// The kind of calls whose only option is `noreply`.
#[derive(Debug)]
pub enum PlainKind {}
/// The kind of storage calls: ttl, flags, `noreply`.
#[derive(Debug)]
pub enum StorageKind {}
/// The kind of `flush_all`: delay, `noreply`.
#[derive(Debug)]
pub enum FlushKind {}

impl<'a, B, S, T, K> Call<'a, B, S, T, K> {
    pub(crate) fn new(
        client: &'a Client<B, S>,
        request: Result<Request>,
        finish: fn(Response) -> Result<T>,
    ) -> Self {
        let request = request.map(|mut request| {
            if client.options.default_noreply {
                set_noreply(&mut request, true);
            }
            request
        });
        Call {
            client,
            request,
            finish,
            _kind: PhantomData,
        }
    }

    /// Ask the server not to reply (or, with `false`, to reply even when the
    /// client's `default_noreply` is on). Without a reply the call cannot know
    /// the outcome: it returns what a success would.
    pub fn noreply(mut self, on: bool) -> Self {
        if let Ok(request) = &mut self.request {
            set_noreply(request, on);
        }
        self
    }
}

impl<B, S, T> Call<'_, B, S, T, StorageKind> {
    /// When the item expires: a `Duration` from now, a `SystemTime`, or a
    /// [`Ttl`]. The default is never ([`Ttl::Never`]). **`Duration::ZERO`
    /// stores an item that is already expired**; for pymemcache's `expire=0`
    /// (never) use [`Ttl::from_expire`].
    pub fn ttl(mut self, ttl: impl Into<Ttl>) -> Self {
        let exptime = ttl.into().to_exptime(SystemTime::now());
        if let Ok(request) = &mut self.request {
            set_exptime(request, exptime);
        }
        self
    }

    /// Store these flags instead of the ones the serde chose.
    pub fn flags(mut self, flags: u32) -> Self {
        if let Ok(request) = &mut self.request {
            set_flags(request, flags);
        }
        self
    }
}

impl<B, S, T> Call<'_, B, S, T, FlushKind> {
    /// Invalidate the items this long from now instead of at once.
    pub fn delay(mut self, delay: Duration) -> Self {
        if let Ok(Request::FlushAll { delay: slot, .. }) = &mut self.request {
            *slot = Some(delay.as_secs().min(i64::MAX as u64) as i64);
        }
        self
    }
}

impl<'a, B, S, T, K> IntoFuture for Call<'a, B, S, T, K>
where
    B: Backend,
    S: Serde,
    T: Send + 'a,
{
    type Output = Result<T>;
    type IntoFuture = BoxFuture<'a, Result<T>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let request = self.request?;
            let response = self.client.backend.call(request).await?;
            (self.finish)(response)
        })
    }
}

pub(crate) use crate::proto::{set_exptime, set_flags, set_noreply};
