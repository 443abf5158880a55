//! [`timeout`]: a time limit on any future, timed by a [`Runtime`].

use std::future::Future;
use std::time::Duration;

use futures_util::future::{select, Either};

use super::Runtime;
use crate::{Error, Result};

/// Runs `future` for at most `limit` (`None`: no limit), timed by
/// `runtime`'s sleep; past it, [`Error::Timeout`]. Every timeout of the
/// crate (connect, call, pool wait) is this one, so the core never names a
/// runtime.
pub(crate) async fn timeout<F: Future>(
    runtime: &dyn Runtime,
    limit: Option<Duration>,
    future: F,
) -> Result<F::Output> {
    let Some(limit) = limit else {
        return Ok(future.await);
    };
    let future = std::pin::pin!(future);
    match select(future, runtime.sleep(limit)).await {
        Either::Left((output, _)) => Ok(output),
        Either::Right(((), _)) => Err(Error::Timeout(limit)),
    }
}
