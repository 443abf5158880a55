//! Server administration: stats, version, flush, verbosity, memory, slabs,
//! the LRU and its crawler, quit, shutdown, and raw commands.

use std::collections::HashMap;

use bytes::Bytes;

use super::call::{Call, FlushKind, PlainKind};
use super::stats::{parse_stats, StatValue};
use super::{unexpected, Client};
use crate::serde::Serde;
use crate::{Backend, Lru, LruCrawler, RawCommand, RawReply, Request, Response, Result};

fn expect_ok(response: Response) -> Result<()> {
    match response {
        Response::Ok | Response::NoReply => Ok(()),
        other => Err(unexpected(&other, "an admin command")),
    }
}

fn expect_lines(response: Response) -> Result<Vec<Bytes>> {
    match response {
        Response::Lines(lines) => Ok(lines),
        Response::Ok => Ok(Vec::new()),
        other => Err(unexpected(&other, "a command answered with lines")),
    }
}

impl<B: Backend, S: Serde> Client<B, S> {
    /// The server's statistics: `args` empty for the general ones, or a group
    /// (`["items"]`, `["slabs"]`, `["settings"]`, `["sizes"]`, `["conns"]`,
    /// `["cachedump", "1", "10"]`, ...). Values are typed as pymemcache types
    /// them: integers, floats, booleans for on/off settings, text otherwise.
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// # let client = memclient::Client::new(memclient_mock::MockMemcache::new());
    /// use memclient::StatValue;
    /// client.set("k", "v").await?;
    /// let stats = client.stats([] as [&str; 0]).await?;
    /// assert_eq!(stats.get("curr_items"), Some(&StatValue::Int(1)));
    /// let settings = client.stats(["settings"]).await?;
    /// assert!(settings.contains_key("maxbytes"));
    /// # Ok::<_, memclient::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn stats<A: AsRef<[u8]>>(
        &self,
        args: impl IntoIterator<Item = A>,
    ) -> Result<HashMap<String, StatValue>> {
        let lines = self.stats_lines(args).await?;
        Ok(parse_stats(&lines))
    }

    /// The raw lines of a `stats` reply, without `END`.
    pub async fn stats_lines<A: AsRef<[u8]>>(
        &self,
        args: impl IntoIterator<Item = A>,
    ) -> Result<Vec<Bytes>> {
        let args = args
            .into_iter()
            .map(|arg| check_word(arg.as_ref()))
            .collect::<Result<Vec<_>>>()?;
        expect_lines(self.backend.call(Request::Stats { args }).await?)
    }

    /// The server's version string, e.g. `1.6.18`.
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// # let client = memclient::Client::new(memclient_mock::MockMemcache::new());
    /// let version = client.version().await?;
    /// assert!(version.starts_with("1."));
    /// # Ok::<_, memclient::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn version(&self) -> Result<String> {
        match self.backend.call(Request::Version).await? {
            Response::Version(version) => Ok(String::from_utf8_lossy(&version).into_owned()),
            other => Err(unexpected(&other, "version")),
        }
    }

    /// Invalidates every item, now or after [`delay`](Call::delay).
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// # let client = memclient::Client::new(memclient_mock::MockMemcache::new());
    /// client.set("k", "v").await?;
    /// client.flush_all().await?;
    /// assert_eq!(client.get("k").await?, None);
    /// # Ok::<_, memclient::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn flush_all(&self) -> Call<'_, B, S, (), FlushKind> {
        let request = Request::FlushAll {
            delay: None,
            noreply: false,
        };
        Call::new(self, Ok(request), expect_ok)
    }

    /// Sets the server's logging verbosity.
    pub fn verbosity(&self, level: u32) -> Call<'_, B, S, (), PlainKind> {
        let request = Request::Verbosity {
            level,
            noreply: false,
        };
        Call::new(self, Ok(request), expect_ok)
    }

    /// Changes the server's memory limit, in megabytes.
    pub fn cache_memlimit(&self, megabytes: u64) -> Call<'_, B, S, (), PlainKind> {
        let request = Request::CacheMemlimit {
            megabytes,
            noreply: false,
        };
        Call::new(self, Ok(request), expect_ok)
    }

    /// Asks the server to close this connection. A connection that reconnects
    /// opens a new socket on the next call.
    pub async fn quit(&self) -> Result<()> {
        expect_ok(self.backend.call(Request::Quit).await?)
    }

    /// Asks the server to exit (it must run with `-A`); `graceful` lets it
    /// finish its connections first.
    pub async fn shutdown(&self, graceful: bool) -> Result<()> {
        expect_ok(self.backend.call(Request::Shutdown { graceful }).await?)
    }

    /// Moves a slab page from class `source` (-1: any) to class `dest`. A
    /// refusal (`BUSY`, `NOSPARE`, ...) is [`Error::Server`](crate::Error::Server) with its text.
    pub async fn slabs_reassign(&self, source: i32, dest: i32) -> Result<()> {
        expect_ok(
            self.backend
                .call(Request::SlabsReassign { source, dest })
                .await?,
        )
    }

    /// Sets the slab automove mode (0, 1 or 2; another is
    /// [`Error::IllegalInput`](crate::Error::IllegalInput), before any I/O).
    pub async fn slabs_automove(&self, mode: u8) -> Result<()> {
        let request = Request::SlabsAutomove { mode };
        request.validate()?;
        expect_ok(self.backend.call(request).await?)
    }

    /// Runs an `lru_crawler` command. `Metadump` returns one line per item;
    /// the others return no lines.
    pub async fn lru_crawler(&self, command: LruCrawler) -> Result<Vec<Bytes>> {
        if let LruCrawler::Crawl(arg) | LruCrawler::Metadump(arg) = &command {
            check_word(arg)?;
        }
        expect_lines(self.backend.call(Request::LruCrawler(command)).await?)
    }

    /// Runs an `lru` command: tunes the LRU's shares and factors, switches
    /// between flat and segmented mode, or sets the TEMP LRU's ttl. A
    /// refusal (shares above 80%, a factor not above 0, segmented mode
    /// without the LRU maintainer) is
    /// [`Error::UnknownCommand`](crate::Error::UnknownCommand) with the
    /// server's reason, as memcached answers `ERROR <reason>`.
    ///
    /// ```
    /// # async fn demo<B: memclient::Backend>(client: memclient::Client<B>) -> memclient::Result<()> {
    /// use memclient::{Lru, LruFactor, LruMode};
    /// client
    ///     .lru(Lru::Tune {
    ///         hot_percent: 20,
    ///         warm_percent: 40,
    ///         hot_max_factor: LruFactor(0.2),
    ///         warm_max_factor: LruFactor(2.0),
    ///     })
    ///     .await?;
    /// client.lru(Lru::Mode(LruMode::Segmented)).await?;
    /// client.lru(Lru::TempTtl(61)).await?; // ttls under 61 s: never evicted
    /// # Ok(())
    /// # }
    /// ```
    pub async fn lru(&self, command: Lru) -> Result<()> {
        expect_ok(self.backend.call(Request::Lru(command)).await?)
    }

    /// Sends `line` (and `data`, if any) as is, and reads the reply as `reply`
    /// says. The line may not contain `\r` or `\n`.
    ///
    /// This is the one escape hatch from the checks every other call makes:
    /// the words of the line are not checked (a key in it may hold anything
    /// but a line end), and `data` is sent as is, so a line whose length does
    /// not match its data block desynchronises the server. Never build the
    /// line from untrusted input; use the typed calls instead. The reply is
    /// framed as `reply` says, within the connection's reply size limit.
    pub async fn raw_command(
        &self,
        line: impl Into<Bytes>,
        data: Option<Bytes>,
        reply: RawReply,
    ) -> Result<Response> {
        let line = line.into();
        crate::proto::check::raw_line(&line)?;
        self.backend
            .call(Request::Raw(RawCommand { line, data, reply }))
            .await
    }
}

/// An argument word: non-empty, no spaces or control characters.
fn check_word(word: &[u8]) -> Result<Bytes> {
    crate::proto::check::word(word)?;
    Ok(Bytes::copy_from_slice(word))
}
