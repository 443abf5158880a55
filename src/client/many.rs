//! `set_many` and `delete_many`: many keys, one batch of requests.

use std::future::IntoFuture;
use std::time::SystemTime;

use bytes::Bytes;

use super::call::{set_exptime, set_flags, set_noreply};
use super::{Client, Ttl};
use crate::proto::as_classic;
use crate::runtime::BoxFuture;
use crate::serde::Serde;
use crate::{Backend, Request, Response, Result, StoreCommand};

/// `set` of many items, sent as one batch when awaited. Resolves to the keys
/// that were not stored.
///
/// Every key is validated and every value serialized before anything is sent.
/// A server error for one item (`SERVER_ERROR object too large for cache`)
/// lists its key as not stored; a connection error fails the whole call.
#[must_use = "a call does nothing until it is awaited"]
pub struct SetMany<'a, B, S> {
    client: &'a Client<B, S>,
    requests: Result<Vec<Request>>,
}

/// `delete` of many keys, sent as one batch when awaited. Resolves to the keys
/// that were not found (none with `noreply`).
#[must_use = "a call does nothing until it is awaited"]
pub struct DeleteMany<'a, B, S> {
    client: &'a Client<B, S>,
    requests: Result<Vec<Request>>,
}

impl<B: Backend, S: Serde> Client<B, S> {
    /// Stores every `(key, value)`; see [`SetMany`].
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// # let client = memclient::Client::new(memclient_mock::MockMemcache::new());
    /// use std::time::Duration;
    /// let not_stored = client
    ///     .set_many([("a", "1"), ("b", "2"), ("c", "3")])
    ///     .ttl(Duration::from_secs(600))
    ///     .await?;
    /// assert!(not_stored.is_empty());
    /// assert_eq!(client.get_many(["a", "b", "c"]).await?.len(), 3);
    /// # Ok::<_, memclient::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn set_many<K, V>(&self, items: impl IntoIterator<Item = (K, V)>) -> SetMany<'_, B, S>
    where
        K: AsRef<[u8]>,
        V: Into<S::Value>,
    {
        let requests = items
            .into_iter()
            .map(|(key, value)| self.store_request(StoreCommand::Set, key.as_ref(), value.into()))
            .collect::<Result<Vec<_>>>()
            .map(|requests| self.with_default_noreply(requests));
        SetMany {
            client: self,
            requests,
        }
    }

    /// Deletes every key; see [`DeleteMany`].
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// # let client = memclient::Client::new(memclient_mock::MockMemcache::new());
    /// client.set_many([("a", "1"), ("b", "2")]).await?;
    /// let not_found = client.delete_many(["a", "b", "c"]).await?;
    /// assert_eq!(not_found, vec![memclient::Bytes::from("c")]);
    /// # Ok::<_, memclient::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn delete_many<K: AsRef<[u8]>>(
        &self,
        keys: impl IntoIterator<Item = K>,
    ) -> DeleteMany<'_, B, S> {
        let requests = keys
            .into_iter()
            .map(|key| self.delete_request(key.as_ref()))
            .collect::<Result<Vec<_>>>()
            .map(|requests| self.with_default_noreply(requests));
        DeleteMany {
            client: self,
            requests,
        }
    }

    fn with_default_noreply(&self, mut requests: Vec<Request>) -> Vec<Request> {
        if self.options.default_noreply {
            requests.iter_mut().for_each(|r| set_noreply(r, true));
        }
        requests
    }

    /// Sends a batch and collects the user keys whose reply is not `done`
    /// (a meta reply is read as its classic equivalent first).
    async fn batch(&self, requests: Vec<Request>, done: Response) -> Result<Vec<Bytes>> {
        let keys: Vec<Bytes> = requests
            .iter()
            .map(|request| request.keys()[0].clone())
            .collect();
        let replies = self.backend.call_many(requests).await;
        let mut missed = Vec::new();
        for (key, reply) in keys.iter().zip(replies) {
            match reply {
                Ok(response) => {
                    let response = as_classic(response, done.clone());
                    if response != done && response != Response::NoReply {
                        missed.push(self.user_key(key.clone()));
                    }
                }
                Err(error) if error.is_server_reply() => missed.push(self.user_key(key.clone())),
                Err(error) => return Err(error),
            }
        }
        Ok(missed)
    }
}

impl<B, S> SetMany<'_, B, S> {
    /// When the items expire. The default is never. Applies to every item,
    /// those sent as `ms` for their binary key too. `Duration::ZERO` expires the item at once, it does not mean never: see [`Ttl`](crate::Ttl).
    pub fn ttl(mut self, ttl: impl Into<Ttl>) -> Self {
        let exptime = ttl.into().to_exptime(SystemTime::now());
        self.for_each(|request| set_exptime(request, exptime));
        self
    }

    /// Store these flags instead of the ones the serde chose (for every
    /// item, those sent as `ms` too).
    pub fn flags(mut self, flags: u32) -> Self {
        self.for_each(|request| set_flags(request, flags));
        self
    }

    /// Ask the server not to reply (`noreply`, or quiet mode for an item
    /// sent as `ms`); the call then resolves to no keys, but those of items
    /// sent as `ms` that the server refused (quiet mode still reports
    /// failures).
    pub fn noreply(mut self, on: bool) -> Self {
        self.for_each(|request| set_noreply(request, on));
        self
    }

    fn for_each(&mut self, apply: impl FnMut(&mut Request)) {
        if let Ok(requests) = &mut self.requests {
            requests.iter_mut().for_each(apply);
        }
    }
}

impl<B, S> DeleteMany<'_, B, S> {
    /// Ask the server not to reply; the call then resolves to no keys.
    pub fn noreply(mut self, on: bool) -> Self {
        if let Ok(requests) = &mut self.requests {
            requests.iter_mut().for_each(|r| set_noreply(r, on));
        }
        self
    }
}

impl<'a, B: Backend, S: Serde> IntoFuture for SetMany<'a, B, S> {
    type Output = Result<Vec<Bytes>>;
    type IntoFuture = BoxFuture<'a, Result<Vec<Bytes>>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let requests = self.requests?;
            self.client.batch(requests, Response::Stored).await
        })
    }
}

impl<'a, B: Backend, S: Serde> IntoFuture for DeleteMany<'a, B, S> {
    type Output = Result<Vec<Bytes>>;
    type IntoFuture = BoxFuture<'a, Result<Vec<Bytes>>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let requests = self.requests?;
            self.client.batch(requests, Response::Deleted).await
        })
    }
}
