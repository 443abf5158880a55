//! The counters: `incr` and `decr`.

use super::call::{Call, PlainKind};
use super::{unexpected, Client};
use crate::proto::as_classic;
use crate::serde::Serde;
use crate::{ArithOp, Backend, Request, Response};

impl<B: Backend, S: Serde> Client<B, S> {
    /// Adds `delta` to the decimal number under `key`, wrapping at 2^64. The new
    /// value, or `None` if the key is missing (or with `noreply`).
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// # let client = memclient::Client::new(memclient_mock::MockMemcache::new());
    /// client.set("visits", 0i64).await?;
    /// assert_eq!(client.incr("visits", 5).await?, Some(5));
    /// assert_eq!(client.decr("visits", 9).await?, Some(0));   // stops at 0
    /// assert_eq!(client.incr("no-such-key", 1).await?, None);
    /// # Ok::<_, memclient::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn incr(
        &self,
        key: impl AsRef<[u8]>,
        delta: u64,
    ) -> Call<'_, B, S, Option<u64>, PlainKind> {
        self.arith(ArithOp::Incr, key.as_ref(), delta)
    }

    /// Subtracts `delta` from the decimal number under `key`, stopping at 0.
    pub fn decr(
        &self,
        key: impl AsRef<[u8]>,
        delta: u64,
    ) -> Call<'_, B, S, Option<u64>, PlainKind> {
        self.arith(ArithOp::Decr, key.as_ref(), delta)
    }

    fn arith(&self, op: ArithOp, key: &[u8], delta: u64) -> Call<'_, B, S, Option<u64>, PlainKind> {
        let request = self.keyed(key, |key| {
            Ok(Request::Arith {
                op,
                key,
                delta,
                noreply: false,
            })
        });
        Call::new(self, request, |response| {
            match as_classic(response, Response::NoReply) {
                Response::Number(value) => Ok(Some(value)),
                Response::NotFound | Response::NoReply => Ok(None),
                other => Err(unexpected(&other, "incr/decr")),
            }
        })
    }
}
