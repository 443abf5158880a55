//! The retry decision: whether a failed call is tried again, by the
//! options' rule for the error and by whether the request may be sent twice
//! ([`idempotent`]).

use super::options::RetryOptions;
use crate::{Error, Request, StoreCommand};

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
