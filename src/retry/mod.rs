//! [`Retry`]: a backend that retries another one.
//!
//! `options`: [`RetryOptions`], how often and how long to wait, with
//! [`RetryOn`] and [`RetryIf`], which failures to retry. `decide`: whether a
//! failed call is tried again, by those options and by whether the request
//! may be sent twice. `backend`: [`Retry`], which loops, sleeping on its
//! runtime.

mod backend;
mod decide;
mod options;
#[cfg(test)]
mod tests;

pub use backend::Retry;
pub use options::{RetryIf, RetryOn, RetryOptions};
