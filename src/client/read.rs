//! The reads: `get`, `gets`, `gat`, `gats` and their multi-key forms.

use std::collections::HashMap;
use std::future::Future;
use std::time::SystemTime;

use bytes::Bytes;

use super::{key, unexpected, Client, MultiGet, Ttl};
use crate::serde::Serde;
use crate::{Backend, Error, Request, Response, Result, Retrieve, RetrieveCommand, Value};

impl<B: Backend, S: Serde> Client<B, S> {
    /// The value stored under `key`, or `None` on a miss.
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// # let client = memclient::Client::new(memclient_mock::MockMemcache::new());
    /// client.set("user:1", "Ada").await?;
    /// assert_eq!(client.get("user:1").await?.as_ref().and_then(|v| v.as_str()), Some("Ada"));
    /// assert_eq!(client.get("user:2").await?, None);   // a miss is not an error
    /// # Ok::<_, memclient::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<S::Value>> {
        let key = self.read_key(key.as_ref())?;
        self.read(async {
            let value = self.fetch_one(RetrieveCommand::Get, key).await?.pop();
            value.map(|value| self.deserialize(value)).transpose()
        })
        .await
    }

    /// The values of the keys that hit, by key (without the prefix). One
    /// request: a `get` line or a meta batch, as
    /// [`multi_get`](crate::ClientOptions::multi_get) says. The map's keys
    /// are [`Bytes`](crate::Bytes), which borrow as `[u8]`, not `str`: look
    /// a key up with `map.get("a".as_bytes())` or `map.get(b"a".as_slice())`
    /// (`map.get("a")` does not compile).
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// # let client = memclient::Client::new(memclient_mock::MockMemcache::new());
    /// client.set("a", 1i64).await?;
    /// client.set("b", "two").await?;
    /// let values = client.get_many(["a", "b", "missing"]).await?;
    /// assert_eq!(values.len(), 2);   // misses are left out
    /// // The keys are `Bytes`: look them up with a byte string.
    /// assert_eq!(values.get(b"a".as_slice()).and_then(|v| v.as_i64()), Some(1));
    /// assert_eq!(values.get("b".as_bytes()).and_then(|v| v.as_str()), Some("two"));
    /// # Ok::<_, memclient::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn get_many<K: AsRef<[u8]>>(
        &self,
        keys: impl IntoIterator<Item = K>,
    ) -> Result<HashMap<Bytes, S::Value>> {
        let keys = self.read_keys(keys)?;
        self.read(async {
            let values = self.fetch(RetrieveCommand::Get, keys, true).await?;
            self.to_map(values, |_, value| value)
        })
        .await
    }

    /// [`get_many`](Client::get_many), keeping each hit whose value does not
    /// deserialize as an `Err` under its key beside the others. The call as
    /// a whole fails only when the request does (or, with
    /// [`errors_as_misses`](crate::ClientOptions::errors_as_misses), reads as no hits).
    pub async fn get_many_results<K: AsRef<[u8]>>(
        &self,
        keys: impl IntoIterator<Item = K>,
    ) -> Result<HashMap<Bytes, Result<S::Value>>> {
        let keys = self.read_keys(keys)?;
        self.read(async {
            let values = self.fetch(RetrieveCommand::Get, keys, true).await?;
            Ok(self.to_results(values, |_, value| value).collect())
        })
        .await
    }

    /// The value under `key` with its cas unique, for a later
    /// [`cas`](Client::cas).
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// # let client = memclient::Client::new(memclient_mock::MockMemcache::new());
    /// client.set("k", "v").await?;
    /// let (value, token) = client.gets("k").await?.expect("just stored");
    /// assert_eq!(value.as_str(), Some("v"));
    /// assert!(client.cas("k", "w", token).await?.is_stored());
    /// # Ok::<_, memclient::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn gets(&self, key: impl AsRef<[u8]>) -> Result<Option<(S::Value, u64)>> {
        let key = self.read_key(key.as_ref())?;
        self.read(async {
            let value = self.fetch_one(RetrieveCommand::Gets, key).await?.pop();
            value.map(|value| self.with_cas(value)).transpose()
        })
        .await
    }

    /// [`gets`](Client::gets) for many keys, by key (without the prefix).
    pub async fn gets_many<K: AsRef<[u8]>>(
        &self,
        keys: impl IntoIterator<Item = K>,
    ) -> Result<HashMap<Bytes, (S::Value, u64)>> {
        let keys = self.read_keys(keys)?;
        self.read(async {
            let values = self.fetch(RetrieveCommand::Gets, keys, true).await?;
            self.to_map(values, |cas, value| (value, cas.unwrap_or(0)))
        })
        .await
    }

    /// [`gets_many`](Client::gets_many), keeping each hit whose value does not
    /// deserialize as an `Err` under its key, as
    /// [`get_many_results`](Client::get_many_results).
    pub async fn gets_many_results<K: AsRef<[u8]>>(
        &self,
        keys: impl IntoIterator<Item = K>,
    ) -> Result<HashMap<Bytes, Result<(S::Value, u64)>>> {
        let keys = self.read_keys(keys)?;
        self.read(async {
            let values = self.fetch(RetrieveCommand::Gets, keys, true).await?;
            Ok(self
                .to_results(values, |cas, value| (value, cas.unwrap_or(0)))
                .collect())
        })
        .await
    }

    /// Gets the value under `key` and sets its expiry to `ttl` (get and touch).
    /// `Duration::ZERO` expires the item at once, it does not mean never: see [`Ttl`](crate::Ttl).
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// # let client = memclient::Client::new(memclient_mock::MockMemcache::new());
    /// use std::time::Duration;
    /// client.set("session", "data").ttl(Duration::from_secs(60)).await?;
    /// // Read it and give it another 30 minutes.
    /// let session = client.gat("session", Duration::from_secs(1800)).await?;
    /// assert!(session.is_some());
    /// # Ok::<_, memclient::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn gat(
        &self,
        key: impl AsRef<[u8]>,
        ttl: impl Into<Ttl>,
    ) -> Result<Option<S::Value>> {
        let key = self.wire_key(key.as_ref())?;
        let exptime = ttl.into().to_exptime(SystemTime::now());
        self.read(async {
            let command = RetrieveCommand::Gat { exptime };
            let value = self.retrieve(command, vec![key]).await?.pop();
            value.map(|value| self.deserialize(value)).transpose()
        })
        .await
    }

    /// [`gat`](Client::gat) with the cas unique. `Duration::ZERO` expires the item at once, it does not mean never: see [`Ttl`](crate::Ttl).
    pub async fn gats(
        &self,
        key: impl AsRef<[u8]>,
        ttl: impl Into<Ttl>,
    ) -> Result<Option<(S::Value, u64)>> {
        let key = self.wire_key(key.as_ref())?;
        let exptime = ttl.into().to_exptime(SystemTime::now());
        self.read(async {
            let command = RetrieveCommand::Gats { exptime };
            let value = self.retrieve(command, vec![key]).await?.pop();
            value.map(|value| self.with_cas(value)).transpose()
        })
        .await
    }

    /// A key of `get`/`gets`: classic, or binary (sent with `mg b`).
    fn read_key(&self, key: &[u8]) -> Result<(Bytes, bool)> {
        self.meta_key(key)
    }

    /// Validates and prefixes every key of a multi-key read.
    fn read_keys<K: AsRef<[u8]>>(&self, keys: impl IntoIterator<Item = K>) -> Result<ReadKeys> {
        if self.options.binary_keys {
            return keys
                .into_iter()
                .map(|key| self.read_key(key.as_ref()))
                .collect::<Result<_>>()
                .map(ReadKeys::Tagged);
        }
        // The common case: every key classic, all in one buffer, and the
        // list is the request's own.
        let keys = key::wire_keys(
            &self.options.key_prefix,
            keys,
            self.options.allow_unicode_keys,
        )?;
        Ok(ReadKeys::Classic(keys))
    }

    /// `get` or `gets` of `keys`: a classic line, or a meta batch when a
    /// key needs `b` or, for a multi-key read, the options ask for one.
    async fn fetch(
        &self,
        command: RetrieveCommand,
        keys: ReadKeys,
        many: bool,
    ) -> Result<Vec<Value>> {
        let meta_batch = many && self.options.multi_get == MultiGet::Meta;
        let keys = match keys {
            ReadKeys::Classic(keys) if !meta_batch => return self.retrieve(command, keys).await,
            ReadKeys::Classic(keys) => keys.into_iter().map(|key| (key, false)).collect(),
            ReadKeys::Tagged(keys) => keys,
        };
        if meta_batch || keys.iter().any(|(_, binary)| *binary) {
            return self.meta_get_many(keys, command.returns_cas()).await;
        }
        let keys = keys.into_iter().map(|(key, _)| key).collect();
        self.retrieve(command, keys).await
    }

    /// `fetch` of one key: a classic key goes straight into the request's
    /// list of keys, not through a list of (key, binary) pairs first (one
    /// allocation less per `get`, the call made most often).
    async fn fetch_one(&self, command: RetrieveCommand, key: (Bytes, bool)) -> Result<Vec<Value>> {
        match key {
            (key, false) => self.retrieve(command, vec![key]).await,
            binary => {
                self.fetch(command, ReadKeys::Tagged(vec![binary]), false)
                    .await
            }
        }
    }

    /// Runs a read, turning its errors into misses when the client ignores errors.
    async fn read<T: Default>(&self, read: impl Future<Output = Result<T>>) -> Result<T> {
        match read.await {
            // A client closed on purpose says so, even when it ignores errors.
            Err(error) if self.options.errors_as_misses && !matches!(error, Error::Closed) => {
                Ok(T::default())
            }
            result => result,
        }
    }

    async fn retrieve(&self, command: RetrieveCommand, keys: Vec<Bytes>) -> Result<Vec<Value>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let request = Request::Retrieve(Retrieve { command, keys });
        match self.backend.call(request).await? {
            Response::Values(values) => Ok(values),
            other => Err(unexpected(&other, "a retrieval")),
        }
    }

    fn deserialize(&self, value: Value) -> Result<S::Value> {
        let key = self.user_key_of(&value.key);
        self.serde.deserialize(key, value.data, value.flags)
    }

    fn with_cas(&self, value: Value) -> Result<(S::Value, u64)> {
        let cas = value.cas.unwrap_or(0);
        Ok((self.deserialize(value)?, cas))
    }

    /// The hits by key. A value that does not deserialize fails the whole
    /// map, or with `errors_as_misses` is a miss: the other keys are kept.
    fn to_map<T>(
        &self,
        values: Vec<Value>,
        make: impl Fn(Option<u64>, S::Value) -> T,
    ) -> Result<HashMap<Bytes, T>> {
        let mut map = HashMap::with_capacity(values.len());
        for (key, result) in self.to_results(values, make) {
            match result {
                Ok(value) => {
                    map.insert(key, value);
                }
                Err(_) if self.options.errors_as_misses => {}
                Err(err) => return Err(err),
            }
        }
        Ok(map)
    }

    /// Each hit deserialized on its own.
    fn to_results<'a, T: 'a>(
        &'a self,
        values: Vec<Value>,
        make: impl Fn(Option<u64>, S::Value) -> T + 'a,
    ) -> impl Iterator<Item = (Bytes, Result<T>)> + 'a {
        values.into_iter().map(move |value| {
            let key = self.user_key(value.key);
            let cas = value.cas;
            let data = self.serde.deserialize(&key, value.data, value.flags);
            (key, data.map(|data| make(cas, data)))
        })
    }
}

/// The keys of a multi-key read, validated and prefixed.
enum ReadKeys {
    /// Every key classic (the common case): the request's list as it is.
    Classic(Vec<Bytes>),
    /// Each key with whether it is sent binary, with `mg b`.
    Tagged(Vec<(Bytes, bool)>),
}
