//! The retry decision: whether a failed call is tried again, by the
//! options' rule for the error and by whether the request may be sent twice
//! ([`idempotent`]).

use super::options::RetryOptions;
use crate::{Error, Request};

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
    request.is_idempotent()
}
