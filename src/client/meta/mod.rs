//! The typed meta commands: `meta_get`, `meta_set`, `meta_delete`,
//! `meta_arithmetic`, `meta_noop`, `meta_debug`, and `get_or_compute` built
//! on them.
//!
//! Each `meta_*` call returns a [`Meta`] builder: set its flags with its
//! methods, then `.await` it. Flags that need a newer memcached than 1.6.18
//! say so; they are sent anyway, and an older server answers
//! [`Error::Client`](crate::Error::Client) (`CLIENT_ERROR invalid flag`),
//! after which the connection is still usable.

// Declared in the order of the `Client` page (one group each, so that
// rustfmt keeps it): mg, ms, md, ma, mn/me, then stampede protection.
mod get;

mod set;

mod delete;

mod arith;

mod other;

mod compute;

mod many;

use std::future::IntoFuture;
use std::marker::PhantomData;
use std::time::{Duration, SystemTime};

use bytes::Bytes;

pub use arith::{ArithKind, MetaCounter};
pub use compute::GetOrCompute;
pub use delete::DeleteKind;
pub use get::{GetKind, MetaItem};
pub use set::{MetaOutcome, MetaWrite, SetKind, SetMode};

use super::{Client, Ttl};
use crate::proto::{Flag, Returned};
use crate::runtime::BoxFuture;
use crate::serde::Serde;
use crate::{
    Backend, Error, MetaCommand, MetaFlag, MetaRequest, MetaResponse, MetaStatus, Request,
    Response, Result,
};

/// The longest opaque token memcached accepts.
const MAX_OPAQUE_LEN: usize = 32;

/// Turns the reply into the call's result; gets the user's key (without the
/// prefix) for the serde.
type Finish<B, S, T> = fn(&Client<B, S>, &Bytes, MetaResponse) -> Result<T>;

/// A meta command with its flags, sent when awaited.
///
/// The kind parameter decides which flags exist: [`GetKind`] for
/// [`meta_get`](Client::meta_get), [`SetKind`] for
/// [`meta_set`](Client::meta_set), [`DeleteKind`] for
/// [`meta_delete`](Client::meta_delete), [`ArithKind`] for
/// [`meta_arithmetic`](Client::meta_arithmetic). The flags every command
/// takes (`q`, `O`, `k`, and any raw flag) are on all of them.
///
/// A key the classic protocol cannot carry is sent with `b` (base64) when
/// the client has [`binary_keys`](crate::ClientOptions::binary_keys); the
/// keys handed back are the original bytes.
#[must_use = "a call does nothing until it is awaited"]
pub struct Meta<'a, B, S, T, K> {
    client: &'a Client<B, S>,
    /// The user's key, without the prefix.
    key: Bytes,
    /// The request, or why it cannot be sent (reported when awaited, before
    /// any I/O).
    request: Result<MetaRequest>,
    finish: Finish<B, S, T>,
    _kind: PhantomData<fn() -> K>,
}

impl<'a, B: Backend, S: Serde, T, K> Meta<'a, B, S, T, K> {
    /// A call of `command` on `key` with `flags`.
    fn new(
        client: &'a Client<B, S>,
        command: MetaCommand,
        key: &[u8],
        flags: &[Flag],
        finish: Finish<B, S, T>,
    ) -> Self {
        let request = client.meta_key(key).map(|(wire, binary)| {
            let binary = binary.then_some(&Flag::Base64Key);
            let flags = binary.into_iter().chain(flags).map(Flag::encode).collect();
            MetaRequest {
                command,
                key: wire,
                flags,
                data: None,
            }
        });
        Meta {
            client,
            key: Bytes::copy_from_slice(key),
            request,
            finish,
            _kind: PhantomData,
        }
    }
}

impl<B, S, T, K> Meta<'_, B, S, T, K> {
    /// Sets a typed flag, replacing one of the same letter.
    fn on(mut self, flag: Flag) -> Self {
        if let Ok(request) = &mut self.request {
            crate::proto::put_flag(&mut request.flags, flag);
        }
        self
    }

    /// Removes the flag with the letter of `flag`.
    fn off(mut self, flag: Flag) -> Self {
        if let Ok(request) = &mut self.request {
            crate::proto::remove_flag(&mut request.flags, &flag);
        }
        self
    }

    /// Sets `flag`, replacing one of the same letter. A flag that cannot
    /// travel as one token fails the call before any I/O.
    fn set(mut self, flag: MetaFlag) -> Self {
        if let Err(error) = flag.validate() {
            // The first reason the call cannot be sent is the one reported.
            if self.request.is_ok() {
                self.request = Err(error);
            }
            return self;
        }
        if let Ok(request) = &mut self.request {
            match request.flags.iter_mut().find(|f| f.flag == flag.flag) {
                Some(slot) => *slot = flag,
                None => request.flags.push(flag),
            }
        }
        self
    }

    /// Sets the flag `flag` makes of a ttl's wire value.
    fn ttl_flag(self, flag: fn(i64) -> Flag, ttl: impl Into<Ttl>) -> Self {
        let exptime = ttl.into().to_exptime(SystemTime::now());
        self.on(flag(exptime))
    }

    /// Quiet mode (`q`): the server sends no line for the common outcome (a
    /// miss of `mg`, a success of the writes); the call still resolves to it.
    pub fn quiet(self) -> Self {
        self.on(Flag::Quiet)
    }

    /// An opaque token (`O`), echoed in the reply: up to 32 printable bytes.
    pub fn opaque(mut self, token: impl Into<Bytes>) -> Self {
        let token = token.into();
        let valid = !token.is_empty()
            && token.len() <= MAX_OPAQUE_LEN
            && token.iter().all(u8::is_ascii_graphic);
        if !valid {
            self.request = Err(Error::IllegalInput(format!(
                "opaque token must be 1 to {MAX_OPAQUE_LEN} printable bytes: {}",
                crate::error::quote(&token, 40)
            )));
            return self;
        }
        self.on(Flag::Opaque(token))
    }

    /// Return the key (`k`) in the reply.
    pub fn return_key(self) -> Self {
        self.on(Flag::ReturnKey)
    }

    /// Any flag, sent as is: for flags of newer servers this API does not
    /// know yet. Replaces a flag of the same letter. Its letter must be an
    /// ASCII letter and its token printable ASCII without spaces, or the call
    /// fails with [`Error::IllegalInput`] before any byte is written:
    ///
    /// ```
    /// # async fn demo<B: memclient::Backend>(client: memclient::Client<B>) {
    /// use memclient::{Error, MetaFlag};
    /// let injected = client.meta_get("k").flag(MetaFlag::with(b'T', "0\r\nflush_all")).await;
    /// assert!(matches!(injected, Err(Error::IllegalInput(_))));
    /// # }
    /// ```
    pub fn flag(self, flag: MetaFlag) -> Self {
        self.set(flag)
    }

    /// The request as it will be sent, or why it cannot be.
    pub fn request(&self) -> Result<&MetaRequest> {
        self.request.as_ref().map_err(Clone::clone)
    }
}

impl<'a, B, S, T, K> IntoFuture for Meta<'a, B, S, T, K>
where
    B: Backend,
    S: Serde,
    T: Send + 'a,
    K: 'a,
{
    type Output = Result<T>;
    type IntoFuture = BoxFuture<'a, Result<T>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let request = self.request?;
            crate::proto::check::meta_request(&request)?;
            let reply = self.client.call_meta(request).await?;
            (self.finish)(self.client, &self.key, reply)
        })
    }
}

impl<B: Backend, S: Serde> Client<B, S> {
    /// Sends one meta request and returns its reply.
    pub(crate) async fn call_meta(&self, request: MetaRequest) -> Result<MetaResponse> {
        match self.backend.call(Request::Meta(request)).await? {
            Response::Meta(reply) => Ok(reply),
            other => Err(super::unexpected(&other, "a meta command")),
        }
    }

    /// The user's key from a reply's `k` flag.
    fn returned_key(&self, returned: &Returned) -> Option<Bytes> {
        returned.key.clone().map(|key| self.user_key(key))
    }
}

/// The reply's status, or a protocol error for a default-built reply.
fn status_of(reply: &MetaResponse) -> Result<MetaStatus> {
    reply
        .status
        .ok_or_else(|| Error::Protocol("meta reply without a status".into()))
}

/// Seconds from a `t` or `l` flag: `-1` (no expiry) is `None`.
fn seconds(n: Option<i64>) -> Option<Duration> {
    n.and_then(|n| u64::try_from(n).ok())
        .map(Duration::from_secs)
}
