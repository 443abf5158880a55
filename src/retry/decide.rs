//! The retry decision: which failures may be retried ([`RetryOn`] by kind,
//! [`RetryIf`] by a caller's rule) and which requests may be sent twice
//! ([`idempotent`]).

use std::sync::Arc;

use super::options::RetryOptions;
use crate::{Error, Request, StoreCommand};

/// Which errors [`Retry`](super::Retry) retries, by kind.
///
/// Only errors that say nothing about the request can be retried: errors the
/// server sent (`ERROR`, `CLIENT_ERROR`, `SERVER_ERROR`), invalid input and
/// serialization errors would only come back, and are never retried. For
/// any other rule (pymemcache's `retry_for` / `do_not_retry_for`, or a rule
/// that depends on the request) pass a predicate to
/// [`RetryOptions::retry_if`] instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryOn {
    /// [`Error::Io`]: refused, reset, broken pipe. On by default.
    pub io: bool,
    /// [`Error::Timeout`]. On by default.
    pub timeout: bool,
    /// [`Error::ConnectionClosed`] and [`Error::ConnectionRetired`]. On by default.
    pub connection_closed: bool,
    /// [`Error::Protocol`]: the reply was garbled (the connection is then
    /// reopened). Off by default: a server that garbles once may again.
    pub protocol: bool,
    /// [`Error::PoolTimeout`]. Off by default: the pool was busy for its
    /// whole wait already.
    pub pool_timeout: bool,
}

impl Default for RetryOn {
    fn default() -> Self {
        RetryOn {
            io: true,
            timeout: true,
            connection_closed: true,
            protocol: false,
            pool_timeout: false,
        }
    }
}

impl RetryOn {
    /// True if `error` is one of the kinds to retry.
    pub fn retries(&self, error: &Error) -> bool {
        match error {
            Error::Io(_) => self.io,
            Error::Timeout(_) => self.timeout,
            Error::ConnectionClosed | Error::ConnectionRetired => self.connection_closed,
            Error::Protocol(_) => self.protocol,
            Error::PoolTimeout(_) => self.pool_timeout,
            Error::IllegalInput(_)
            | Error::Client(_)
            | Error::Server(_)
            | Error::UnknownCommand(_)
            | Error::Serde(_) => false,
            // A refused handshake fails the same way again; a closed client
            // was closed on purpose.
            Error::Tls { .. } | Error::Closed => false,
        }
    }
}

/// A caller's rule for which failed calls [`Retry`](super::Retry) retries: a function of
/// the error and of the request that failed. Set with
/// [`RetryOptions::retry_if`].
#[derive(Clone)]
pub struct RetryIf(Arc<Predicate>);

/// The function inside a [`RetryIf`].
type Predicate = dyn Fn(&Error, &Request) -> bool + Send + Sync;

impl RetryIf {
    /// The rule `predicate`: `true` retries the request.
    pub fn new(predicate: impl Fn(&Error, &Request) -> bool + Send + Sync + 'static) -> Self {
        RetryIf(Arc::new(predicate))
    }

    /// True if the rule retries `request` after `error`.
    pub fn retries(&self, error: &Error, request: &Request) -> bool {
        (self.0)(error, request)
    }
}

impl std::fmt::Debug for RetryIf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RetryIf(..)")
    }
}

impl PartialEq for RetryIf {
    /// Two rules are equal when they are the same function (clones of one
    /// `RetryIf`).
    fn eq(&self, other: &RetryIf) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// True when `options` retry `request` after `error`: the error is one to
/// retry, and sending the request again is safe (or allowed anyway).
pub(super) fn should_retry(options: &RetryOptions, request: &Request, error: &Error) -> bool {
    let wanted = match &options.retry_if {
        Some(rule) => rule.retries(error, request),
        None => options.retry_on.retries(error),
    };
    wanted && (options.non_idempotent || idempotent(request))
}

/// True when sending the request twice leaves the same state as once.
pub(super) fn idempotent(request: &Request) -> bool {
    match request {
        Request::Arith { .. } | Request::Raw(_) => false,
        Request::Store(store) => {
            !matches!(store.command, StoreCommand::Append | StoreCommand::Prepend)
        }
        // Closing or stopping the server: an error is what is expected.
        Request::Quit | Request::Shutdown { .. } => false,
        Request::Meta(meta) => meta_idempotent(meta),
        Request::MetaBatch(batch) => batch.iter().all(meta_idempotent),
        _ => true,
    }
}

/// The same for a meta command: `ma`, and `ms` in append or prepend mode,
/// change the item again each time.
fn meta_idempotent(meta: &crate::MetaRequest) -> bool {
    let mode = meta
        .flags
        .iter()
        .find(|flag| flag.flag == b'M')
        .and_then(|flag| flag.token.as_ref())
        .and_then(|token| token.first().copied());
    match meta.command {
        crate::MetaCommand::Arithmetic => false,
        crate::MetaCommand::Set => !matches!(mode, Some(b'A' | b'a' | b'P' | b'p')),
        _ => true,
    }
}
