//! `get_or_compute`: read-through caching where one caller computes a
//! missing or stale value and everyone else waits for it or is served the
//! stale one (stampede protection), on memcached's `N`/`R` flags and the
//! `W`/`Z`/`X` answers.

use std::future::{Future, IntoFuture};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;

use super::get::item;
use crate::client::{Client, Ttl};
use crate::proto::{Flag, Returned};
use crate::runtime::BoxFuture;
use crate::serde::Serde;
use crate::{Backend, Error, MetaCommand, MetaFlag, MetaRequest, MetaStatus, Result};

/// A read that computes and publishes the value when it is missing, sent
/// when awaited. Made by [`Client::get_or_compute`].
///
/// How it goes, for every caller at once on any number of clients:
///
/// 1. `mg <key> v f c N<lease> [R<recache>]`. A hit is returned as is.
/// 2. On a miss memcached creates an empty placeholder living
///    [`lease`](Self::lease) and tells exactly one caller it won (`W`):
///    that caller runs `compute` and publishes the value with
///    `ms C<cas> T<ttl>` (the cas makes sure it replaces the placeholder it
///    won, not something written since). If `compute` fails, the win is
///    given back and the error is returned: the placeholder is deleted
///    (`md C<cas>`), so the next reader makes a new one and wins.
/// 3. The others see the placeholder with `Z` (someone else won): they poll
///    every [`poll`](Self::poll) until the value is there, for at most
///    [`wait`](Self::wait); then they fail with [`Error::Timeout`], or, with
///    [`compute_on_timeout`](Self::compute_on_timeout), compute the value
///    themselves (without publishing it).
/// 4. An item invalidated with `meta_delete(key).invalidate()` is stale
///    (`X`): the first reader wins and recomputes, every other is served the
///    stale value at once. With [`recache`](Self::recache), the first reader
///    of an item that expires within the threshold wins and recomputes it
///    while the others are served the current value, so a hot key never
///    expires into a stampede. If the winner's compute fails here, the win
///    is given back by marking the item stale again (`md I C<cas>`, which
///    memcached answers by letting the next reader win): the next reader
///    recomputes, the others keep being served the value they had.
///
/// Waiting needs a timer: a client made by [`Config::connect`](crate::Config::connect)
/// (any form: connection, pool, cluster, retry) sleeps on its runtime, and
/// reads the time from it ([`Runtime::now`](crate::runtime::Runtime::now)); give a client built on a bare backend one with
/// [`Client::with_runtime`]. Without one, a call that may wait (any
/// [`wait`](Self::wait) but zero) fails at once with
/// [`Error::IllegalInput`] saying so, before any I/O; with
/// `.wait(Duration::ZERO)` a loser gives up (or computes) at once and
/// needs no runtime.
///
/// A value that serializes to no bytes with flags 0 looks like the
/// placeholder to the losers, who then wait for the next value.
#[must_use = "a call does nothing until it is awaited"]
pub struct GetOrCompute<'a, B, S, F> {
    client: &'a Client<B, S>,
    key: Bytes,
    ttl: Ttl,
    compute: F,
    lease: Duration,
    recache: Option<Duration>,
    wait: Duration,
    poll: Duration,
    compute_on_timeout: bool,
}

impl<B: Backend, S: Serde> Client<B, S> {
    /// The value under `key`; when it is missing (or stale), exactly one
    /// caller across all clients runs `compute` and stores the result for
    /// `ttl`, while the others wait for it. See [`GetOrCompute`].
    /// `Duration::ZERO` as `ttl` stores a value that is already expired,
    /// so every call computes: see [`Ttl`](crate::Ttl).
    ///
    /// ```
    /// # #[cfg(feature = "smol")]
    /// # smol::block_on(async {
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::time::Duration;
    /// use memclient::{CacheValue, Client};
    ///
    /// // Losers wait on a runtime: a client from `Config::connect` has one.
    /// let client = Client::new(memclient_mock::MockMemcache::new())
    ///     .with_runtime(memclient::smol::Smol);
    /// let renders = AtomicUsize::new(0);
    /// let render = || async {
    ///     renders.fetch_add(1, Ordering::Relaxed);
    ///     Ok::<_, memclient::Error>(CacheValue::from("<html>...</html>"))
    /// };
    /// let page = client
    ///     .get_or_compute("page:home", Duration::from_secs(300), render)
    ///     .recache(Duration::from_secs(30))   // refresh before it expires
    ///     .await?;
    /// assert_eq!(page.as_str(), Some("<html>...</html>"));
    /// // Now cached: the next call is a plain hit, nothing is rendered.
    /// let again = client
    ///     .get_or_compute("page:home", Duration::from_secs(300), render)
    ///     .await?;
    /// assert_eq!(again, page);
    /// assert_eq!(renders.load(Ordering::Relaxed), 1);
    /// # Ok::<_, memclient::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn get_or_compute<F>(
        &self,
        key: impl AsRef<[u8]>,
        ttl: impl Into<Ttl>,
        compute: F,
    ) -> GetOrCompute<'_, B, S, F> {
        GetOrCompute {
            client: self,
            key: Bytes::copy_from_slice(key.as_ref()),
            ttl: ttl.into(),
            compute,
            lease: Duration::from_secs(30),
            recache: None,
            wait: Duration::from_secs(10),
            poll: Duration::from_millis(10),
            compute_on_timeout: false,
        }
    }
}

impl<B, S, F> GetOrCompute<'_, B, S, F> {
    /// How long the winner has to publish (the placeholder's ttl, `N`);
    /// 30 seconds by default. Past it the placeholder expires and the next
    /// reader wins.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// Recompute an item that has less than `threshold` left to live (`R`),
    /// by one caller, while the others are served the current value.
    pub fn recache(mut self, threshold: Duration) -> Self {
        self.recache = Some(threshold);
        self
    }

    /// The longest a loser waits for the winner's value; 10 seconds by default.
    pub fn wait(mut self, wait: Duration) -> Self {
        self.wait = wait;
        self
    }

    /// How often a loser looks for the winner's value; 10 ms by default.
    pub fn poll(mut self, poll: Duration) -> Self {
        self.poll = poll;
        self
    }

    /// After [`wait`](Self::wait), compute the value (and return it without
    /// publishing) instead of failing with [`Error::Timeout`].
    pub fn compute_on_timeout(mut self, on: bool) -> Self {
        self.compute_on_timeout = on;
        self
    }
}

impl<'a, B, S, F, Fut, E> IntoFuture for GetOrCompute<'a, B, S, F>
where
    B: Backend,
    S: Serde,
    S::Value: Send,
    F: FnOnce() -> Fut + Send + 'a,
    Fut: Future<Output = Result<S::Value, E>> + Send + 'a,
    E: From<Error> + Send + 'a,
{
    type Output = Result<S::Value, E>;
    type IntoFuture = BoxFuture<'a, Result<S::Value, E>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

impl<'a, B, S, F, Fut, E> GetOrCompute<'a, B, S, F>
where
    B: Backend,
    S: Serde,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<S::Value, E>>,
    E: From<Error>,
{
    async fn run(self) -> Result<S::Value, E> {
        let client = self.client;
        if client.timer.0.is_none() && !self.wait.is_zero() {
            // Without a timer a loser could only give up at once, so every
            // caller but the winner would fail in microseconds.
            return Err(Error::IllegalInput(
                "get_or_compute waits for the winner's value and needs a runtime to sleep on: \
                 build the client with Config::connect or Client::with_runtime, \
                 or never wait with .wait(Duration::ZERO)"
                    .into(),
            )
            .into());
        }
        let (wire, binary) = client.meta_key(&self.key)?;
        let now = SystemTime::now();
        let lease = Ttl::After(self.lease.max(Duration::from_secs(1))).to_exptime(now);
        let flags = [
            binary.then_some(Flag::Base64Key),
            Some(Flag::ReturnValue),
            Some(Flag::ReturnClientFlags),
            Some(Flag::ReturnCas),
            Some(Flag::Vivify(lease)),
            self.recache
                .map(|threshold| Flag::Recache(threshold.as_secs())),
        ];
        let read = MetaRequest {
            command: MetaCommand::Get,
            key: wire.clone(),
            flags: flags.into_iter().flatten().map(MetaFlag::from).collect(),
            data: None,
        };
        // The runtime's clock, so a test runtime can drive the wait.
        let now = || {
            client
                .timer
                .0
                .as_ref()
                .map_or_else(Instant::now, |r| r.now())
        };
        let deadline = now() + self.wait;
        loop {
            let reply = client.call_meta(read.clone()).await?;
            if reply.status == Some(MetaStatus::Miss) {
                // No placeholder was made (a server without `N`): nobody
                // won, so compute without publishing over someone else.
                return (self.compute)().await;
            }
            let returned = Returned::decode(&reply)?;
            let placeholder = !returned.stale
                && reply.data.as_ref().is_some_and(Bytes::is_empty)
                && returned.client_flags.unwrap_or(0) == 0;
            let item = item(client, &self.key, reply)?;
            if item.won {
                return self.publish(&wire, binary, item.cas, placeholder).await;
            }
            if !placeholder || item.stale {
                // A value, current or stale, while someone else recomputes.
                return item
                    .value
                    .ok_or_else(|| Error::Protocol("mg v answered without a value".into()).into());
            }
            let timer = client
                .timer
                .0
                .as_ref()
                .filter(|_| now() + self.poll <= deadline);
            match timer {
                Some(runtime) => runtime.sleep(self.poll).await,
                None if self.compute_on_timeout => return (self.compute)().await,
                None => return Err(Error::Timeout(self.wait).into()),
            }
        }
    }

    /// The winner's part: compute, then store over what it won.
    async fn publish(
        self,
        wire: &Bytes,
        binary: bool,
        cas: Option<u64>,
        placeholder: bool,
    ) -> Result<S::Value, E> {
        let client = self.client;
        let base = |command, flags: Vec<Flag>, data| MetaRequest {
            command,
            key: wire.clone(),
            flags: binary
                .then_some(Flag::Base64Key)
                .into_iter()
                .chain(flags)
                .map(MetaFlag::from)
                .collect(),
            data,
        };
        let cas_flag = cas.map(Flag::CompareCas);
        let value = match (self.compute)().await {
            Ok(value) => value,
            Err(error) => {
                // Give the win back, guarded by the cas of what was won so
                // nothing written since is touched: the next reader wins.
                // A placeholder is deleted (the next reader makes a new
                // one); a stale or soon expiring item is marked stale again,
                // which memcached answers by letting the next reader win
                // while the others are still served the value.
                let mut flags: Vec<Flag> = cas_flag.iter().cloned().collect();
                if !placeholder {
                    flags.push(Flag::Invalidate);
                }
                let _ = client
                    .call_meta(base(MetaCommand::Delete, flags, None))
                    .await;
                return Err(error);
            }
        };
        let (data, flags) = client.serde.serialize(&self.key, &value)?;
        let exptime = self.ttl.to_exptime(SystemTime::now());
        let mut store_flags = vec![Flag::Ttl(exptime), Flag::ClientFlags(flags)];
        store_flags.extend(cas_flag);
        // Not stored (`EX`, `NF`) means the item changed since the win (it
        // was invalidated or deleted again): the value is still the one
        // this caller computed, so it is returned all the same.
        client
            .call_meta(base(MetaCommand::Set, store_flags, Some(data)))
            .await?;
        Ok(value)
    }
}
