//! The admin commands: `stats` (with `settings`, `reset`, `cachedump`),
//! `flush_all`, `version`, `verbosity`, `cache_memlimit`, `slabs`,
//! `lru_crawler` (with `metadump`), `quit` and `shutdown`, as memcached
//! 1.6.18 answers them.

use bytes::Bytes;
use memclient::proto::server::parse_u64;
use memclient::{Error, LruCrawler, Request, Response, Result};

use super::items::MAX_RELATIVE_EXPTIME;
use super::{client, server, Cache, Env};
use crate::cachedump;
use crate::slabs;
use crate::stats::{self, Counters, SettingsView, Snapshot};

impl Cache {
    /// Runs one admin command (anything but the item commands).
    pub(super) fn admin(&mut self, request: Request, env: Env) -> Result<Response> {
        let now = env.now;
        match request {
            Request::Stats { args } => self.stats(&args, env),
            Request::FlushAll { delay, .. } => {
                self.flush_all(delay.unwrap_or(0), now);
                Ok(Response::Ok)
            }
            Request::Version => Ok(Response::Version(Bytes::from_static(
                crate::VERSION.as_bytes(),
            ))),
            Request::Verbosity { level, .. } => {
                self.verbosity = level.min(2);
                Ok(Response::Ok)
            }
            Request::CacheMemlimit { megabytes, .. } => self.cache_memlimit(megabytes),
            Request::Quit => Ok(Response::NoReply),
            // The mock is memcached started without `-A`.
            Request::Shutdown { .. } => Err(Error::UnknownCommand("shutdown not enabled".into())),
            Request::SlabsReassign { source, dest } => {
                let largest = slabs::largest_class() as i32;
                if source == dest {
                    Err(server("SAME src and dst class are identical"))
                } else if !(0..=largest).contains(&source) || !(0..=largest).contains(&dest) {
                    Err(server("BADCLASS invalid src or dst class id"))
                } else {
                    // The mock has no slab pages to move.
                    Err(server("NOSPARE source class has no spare pages"))
                }
            }
            Request::SlabsAutomove { mode } => {
                if mode <= 2 {
                    self.slab_automove = mode;
                    Ok(Response::Ok)
                } else {
                    Err(Error::UnknownCommand(String::new()))
                }
            }
            Request::LruCrawler(command) => self.lru_crawler(command, now),
            Request::Lru(command) => lru(command),
            _ => Err(Error::UnknownCommand(String::new())),
        }
    }

    fn cache_memlimit(&mut self, megabytes: u64) -> Result<Response> {
        // memcached parses it into a 32-bit value.
        let megabytes = megabytes as u32;
        if megabytes < 8 {
            Err(server(
                "MEMLIMIT_TOO_SMALL cannot set maxbytes to less than 8m",
            ))
        } else if megabytes > 1_000_000_000 {
            Err(server(
                "MEMLIMIT_ADJUST_FAILED input value is megabytes not bytes",
            ))
        } else {
            self.config.memory_limit = megabytes as usize * 1024 * 1024;
            Ok(Response::Ok)
        }
    }

    /// memcached's `process_flush_all_command`.
    fn flush_all(&mut self, delay: i64, now: u64) {
        self.counters.cmd_flush += 1;
        let delay = delay as i32;
        let new_oldest = if delay > 0 {
            let at = self.expiry(i64::from(delay), now);
            // An absolute time before the start: memcached's relative clock
            // clamps it to its first second, which disables the flush.
            if i64::from(delay) > MAX_RELATIVE_EXPTIME && at <= self.started {
                1
            } else {
                at
            }
        } else {
            now
        };
        self.oldest_live = new_oldest.saturating_sub(1);
        if self.oldest_live <= now {
            self.oldest_cas = self.next_cas();
        }
    }

    fn stats(&mut self, args: &[Bytes], env: Env) -> Result<Response> {
        let Some(sub) = args.first() else {
            let snapshot = Snapshot {
                counters: &self.counters,
                uptime: env.now.saturating_sub(self.started),
                time: env.now,
                curr_connections: env.curr_connections,
                total_connections: env.total_connections,
                limit_maxbytes: self.config.memory_limit as u64,
                bytes: self.bytes as u64,
                curr_items: self.items.len() as u64,
            };
            return Ok(Response::Lines(stats::general(&snapshot)));
        };
        match sub.as_ref() {
            b"reset" => {
                // Gauges (curr_items, bytes) survive: the mock computes them.
                self.counters = Counters::default();
                Ok(Response::Line(Bytes::from_static(b"RESET")))
            }
            b"settings" => Ok(Response::Lines(stats::settings(&SettingsView {
                maxbytes: self.config.memory_limit as u64,
                verbosity: self.verbosity,
                oldest: 0,
                item_size_max: self.config.max_item_size,
                slab_automove: self.slab_automove,
                lru_crawler: self.lru_crawler,
                lru_crawler_sleep: self.lru_crawler_sleep,
                lru_crawler_tocrawl: self.lru_crawler_tocrawl,
            }))),
            b"detail" => match args.get(1).map(|a| a.as_ref()) {
                Some(b"on") | Some(b"off") => Ok(Response::Ok),
                Some(b"dump") => Ok(Response::Lines(Vec::new())),
                _ => Err(client("usage: stats detail on|off|dump")),
            },
            b"items" | b"slabs" | b"conns" => Ok(Response::Lines(Vec::new())),
            b"cachedump" => {
                let (class, limit) = cachedump::parse(&args[1..]).map_err(client)?;
                let items = self.items.iter().map(|(key, item)| cachedump::Dumped {
                    key,
                    value_len: item.data.len(),
                    exptime: item.exptime,
                    class: slabs::class_of(item.size),
                    stored: item.cas,
                });
                Ok(Response::Lines(cachedump::lines(items, class, limit)))
            }
            b"sizes" => Ok(Response::Lines(vec![Bytes::from_static(
                b"STAT sizes_status disabled",
            )])),
            _ => Err(Error::UnknownCommand(String::new())),
        }
    }

    fn lru_crawler(&mut self, command: LruCrawler, now: u64) -> Result<Response> {
        match command {
            LruCrawler::Enable if self.lru_crawler => Err(Error::UnknownCommand(
                "failed to start lru crawler thread".into(),
            )),
            // Disabling a disabled crawler is OK on memcached too.
            LruCrawler::Enable | LruCrawler::Disable => {
                self.lru_crawler = matches!(command, LruCrawler::Enable);
                Ok(Response::Ok)
            }
            LruCrawler::Sleep(micros) if micros > 1_000_000 => {
                Err(client("sleep must be one second or less"))
            }
            LruCrawler::Sleep(micros) => {
                self.lru_crawler_sleep = micros;
                Ok(Response::Ok)
            }
            LruCrawler::ToCrawl(items) => {
                self.lru_crawler_tocrawl = items;
                Ok(Response::Ok)
            }
            LruCrawler::Crawl(ref classes) | LruCrawler::Metadump(ref classes) => {
                if !self.lru_crawler {
                    return Err(client("lru crawler disabled"));
                }
                let Some(wanted) = parse_classes(classes) else {
                    return Err(server("BADCLASS invalid class id"));
                };
                if matches!(command, LruCrawler::Crawl(_)) {
                    return Ok(Response::Ok);
                }
                Ok(Response::Lines(self.metadump(wanted.as_deref(), now)))
            }
        }
    }

    /// One `key=... exp=... la=... cas=... fetch=... cls=... size=...` line per
    /// live item, sorted by key (memcached's order follows its LRUs).
    fn metadump(&self, classes: Option<&[usize]>, now: u64) -> Vec<Bytes> {
        let mut lines: Vec<(Bytes, Bytes)> = self
            .items
            .iter()
            .filter(|(_, item)| {
                // The crawler skips expired (strictly before now) and flushed items.
                let expired = item.exptime != 0 && item.exptime < now;
                !expired && !self.is_flushed(item, now)
            })
            .filter_map(|(key, item)| {
                let class = slabs::class_of(item.size);
                if classes.is_some_and(|c| !c.contains(&class)) {
                    return None;
                }
                let exp = if item.exptime == 0 {
                    "-1".to_string()
                } else {
                    item.exptime.to_string()
                };
                let line = format!(
                    "key={} exp={} la={} cas={} fetch={} cls={} size={}",
                    uri_encode(key),
                    exp,
                    item.time,
                    item.cas,
                    if item.fetched { "yes" } else { "no" },
                    class,
                    item.size
                );
                Some((key.clone(), Bytes::from(line)))
            })
            .collect();
        lines.sort();
        lines.into_iter().map(|(_, line)| line).collect()
    }
}

/// `all`/`hash` (every class, `None`) or a comma separated list of class ids
/// (1..=63, as memcached's `lru_crawler_crawl` accepts).
fn parse_classes(spec: &[u8]) -> Option<Option<Vec<usize>>> {
    if spec == b"all" || spec == b"hash" {
        return Some(None);
    }
    let mut classes = Vec::new();
    for part in spec.split(|&b| b == b',') {
        let id = parse_u64(part)?;
        if !(1..64).contains(&id) {
            return None;
        }
        classes.push(id as usize);
    }
    Some(Some(classes))
}

/// memcached's `uriencode`: unreserved characters as is, the rest `%XX`.
fn uri_encode(key: &[u8]) -> String {
    let mut out = String::with_capacity(key.len());
    for &byte in key {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `lru tune|mode|temp_ttl`: memcached's checks and answers. The mock keeps
/// one list per slab class whatever the settings, so they change nothing
/// else.
fn lru(command: memclient::Lru) -> Result<Response> {
    match command {
        memclient::Lru::Tune {
            hot_percent,
            warm_percent,
            hot_max_factor,
            warm_max_factor,
        } => {
            if u16::from(hot_percent) + u16::from(warm_percent) > 80 {
                Err(Error::UnknownCommand(
                    "hot and warm pcts must not exceed 80".into(),
                ))
            } else if !(hot_max_factor.0 > 0.0 && warm_max_factor.0 > 0.0) {
                Err(Error::UnknownCommand(
                    "hot/warm age factors must be greater than 0".into(),
                ))
            } else {
                Ok(Response::Ok)
            }
        }
        _ => Ok(Response::Ok),
    }
}
