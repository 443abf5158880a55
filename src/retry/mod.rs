//! [`Retry`]: a backend that retries another one.
//!
//! [`RetryOptions`] say how often and how long to wait; the decision of
//! whether a failed call is tried again ([`RetryOn`], [`RetryIf`], and
//! whether the request may be sent twice) is in `decide`; the backend that
//! loops, sleeping on its runtime, in `backend`.

mod backend;
mod decide;
mod options;
#[cfg(test)]
mod tests;

pub use backend::Retry;
pub use decide::{RetryIf, RetryOn};
pub use options::RetryOptions;
