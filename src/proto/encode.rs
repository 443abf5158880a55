//! Client side: [`Request`] to bytes.

use std::fmt::Write;

use bytes::{BufMut, BytesMut};

use super::digits::{put_i64, put_u64};

use crate::{
    ArithOp, Lru, LruCrawler, LruMode, RawCommand, Request, Retrieve, RetrieveCommand, Store,
    StoreCommand,
};

/// Room for the fixed words and numbers of any one request line: the longest
/// is `cas <key> <flags> <exptime> <bytes> <unique> noreply\r\n` less its key,
/// well under this.
pub(super) const FIXED_ROOM: usize = 96;

/// Appends the wire form of `request` to `out`.
///
/// Keys must already be valid (the client checks them before any byte is
/// written); this function does not check them again. Capacity is reserved
/// once, and numbers are written without allocating.
pub fn encode_request(request: &Request, out: &mut BytesMut) {
    out.reserve(FIXED_ROOM + variable_len(request));
    match request {
        Request::Retrieve(retrieve) => retrieval(retrieve, out),
        Request::Store(store) => storage(store, out),
        Request::Delete { key, noreply } => {
            out.put_slice(b"delete ");
            out.put_slice(key);
            end_line(*noreply, out);
        }
        Request::Arith {
            op,
            key,
            delta,
            noreply,
        } => {
            out.put_slice(match op {
                ArithOp::Incr => b"incr ",
                ArithOp::Decr => b"decr ",
            });
            out.put_slice(key);
            out.put_u8(b' ');
            put_u64(*delta, out);
            end_line(*noreply, out);
        }
        Request::Touch {
            key,
            exptime,
            noreply,
        } => {
            out.put_slice(b"touch ");
            out.put_slice(key);
            out.put_u8(b' ');
            put_i64(*exptime, out);
            end_line(*noreply, out);
        }
        Request::Stats { args } => {
            out.put_slice(b"stats");
            for arg in args {
                out.put_u8(b' ');
                out.put_slice(arg);
            }
            out.put_slice(b"\r\n");
        }
        Request::FlushAll { delay, noreply } => {
            out.put_slice(b"flush_all");
            if let Some(delay) = delay {
                out.put_u8(b' ');
                put_i64(*delay, out);
            }
            end_line(*noreply, out);
        }
        Request::Version => out.put_slice(b"version\r\n"),
        Request::Verbosity { level, noreply } => {
            out.put_slice(b"verbosity ");
            put_u64(u64::from(*level), out);
            end_line(*noreply, out);
        }
        Request::CacheMemlimit { megabytes, noreply } => {
            out.put_slice(b"cache_memlimit ");
            put_u64(*megabytes, out);
            end_line(*noreply, out);
        }
        Request::Quit => out.put_slice(b"quit\r\n"),
        Request::Shutdown { graceful: false } => out.put_slice(b"shutdown\r\n"),
        Request::Shutdown { graceful: true } => out.put_slice(b"shutdown graceful\r\n"),
        Request::SlabsReassign { source, dest } => {
            out.put_slice(b"slabs reassign ");
            put_i64(i64::from(*source), out);
            out.put_u8(b' ');
            put_i64(i64::from(*dest), out);
            out.put_slice(b"\r\n");
        }
        Request::SlabsAutomove { mode } => {
            out.put_slice(b"slabs automove ");
            put_u64(u64::from(*mode), out);
            out.put_slice(b"\r\n");
        }
        Request::LruCrawler(command) => lru_crawler(command, out),
        Request::Lru(command) => lru(command, out),
        Request::Raw(RawCommand { line, data, .. }) => {
            out.put_slice(line);
            out.put_slice(b"\r\n");
            if let Some(data) = data {
                out.put_slice(data);
                out.put_slice(b"\r\n");
            }
        }
        Request::Meta(meta) => super::meta_encode::meta(meta, out),
        Request::MetaBatch(batch) => super::meta_encode::batch(batch, out),
    }
}

/// `get|gets|gat <exptime>|gats <exptime> <keys...>\r\n`.
fn retrieval(retrieve: &Retrieve, out: &mut BytesMut) {
    match retrieve.command {
        RetrieveCommand::Get => out.put_slice(b"get"),
        RetrieveCommand::Gets => out.put_slice(b"gets"),
        RetrieveCommand::Gat { exptime } => {
            out.put_slice(b"gat ");
            put_i64(exptime, out);
        }
        RetrieveCommand::Gats { exptime } => {
            out.put_slice(b"gats ");
            put_i64(exptime, out);
        }
    }
    for key in &retrieve.keys {
        out.put_u8(b' ');
        out.put_slice(key);
    }
    out.put_slice(b"\r\n");
}

/// `<command> <key> <flags> <exptime> <bytes> [<unique>] [noreply]\r\n<data>\r\n`.
fn storage(store: &Store, out: &mut BytesMut) {
    out.put_slice(store.command.name().as_bytes());
    out.put_u8(b' ');
    out.put_slice(&store.key);
    out.put_u8(b' ');
    put_u64(u64::from(store.flags), out);
    out.put_u8(b' ');
    put_i64(store.exptime, out);
    out.put_u8(b' ');
    put_u64(store.value.len() as u64, out);
    if let StoreCommand::Cas { unique } = store.command {
        out.put_u8(b' ');
        put_u64(unique, out);
    }
    end_line(store.noreply, out);
    out.put_slice(&store.value);
    out.put_slice(b"\r\n");
}

/// `lru_crawler <subcommand> [<argument>]\r\n`.
fn lru_crawler(command: &LruCrawler, out: &mut BytesMut) {
    out.put_slice(b"lru_crawler ");
    match command {
        LruCrawler::Enable => out.put_slice(b"enable"),
        LruCrawler::Disable => out.put_slice(b"disable"),
        LruCrawler::Sleep(micros) => {
            out.put_slice(b"sleep ");
            put_u64(u64::from(*micros), out);
        }
        LruCrawler::ToCrawl(items) => {
            out.put_slice(b"tocrawl ");
            put_u64(u64::from(*items), out);
        }
        LruCrawler::Crawl(classes) => {
            out.put_slice(b"crawl ");
            out.put_slice(classes);
        }
        LruCrawler::Metadump(classes) => {
            out.put_slice(b"metadump ");
            out.put_slice(classes);
        }
    }
    out.put_slice(b"\r\n");
}

/// `lru tune|mode|temp_ttl <arguments>\r\n`.
fn lru(command: &Lru, out: &mut BytesMut) {
    match command {
        Lru::Tune {
            hot_percent,
            warm_percent,
            hot_max_factor,
            warm_max_factor,
        } => {
            out.put_slice(b"lru tune ");
            put_u64(u64::from(*hot_percent), out);
            out.put_u8(b' ');
            put_u64(u64::from(*warm_percent), out);
            // A float's `Display` is plain decimal (never an exponent),
            // which the server's `strtod` reads back exactly.
            let _ = write!(out, " {} {}", hot_max_factor.0, warm_max_factor.0);
        }
        Lru::Mode(LruMode::Flat) => out.put_slice(b"lru mode flat"),
        Lru::Mode(LruMode::Segmented) => out.put_slice(b"lru mode segmented"),
        Lru::TempTtl(ttl) => {
            out.put_slice(b"lru temp_ttl ");
            put_i64(*ttl, out);
        }
    }
    out.put_slice(b"\r\n");
}

/// ` noreply` when asked, then the line end.
fn end_line(noreply: bool, out: &mut BytesMut) {
    if noreply {
        out.put_slice(b" noreply");
    }
    out.put_slice(b"\r\n");
}

/// The bytes of a request that are not fixed words or numbers: keys, data,
/// arguments, with a separator each.
pub(super) fn variable_len(request: &Request) -> usize {
    match request {
        Request::Retrieve(retrieve) => retrieve.keys.iter().map(|key| key.len() + 1).sum(),
        Request::Store(store) => store.key.len() + store.value.len(),
        Request::Delete { key, .. } | Request::Arith { key, .. } | Request::Touch { key, .. } => {
            key.len()
        }
        Request::Stats { args } => args.iter().map(|arg| arg.len() + 1).sum(),
        Request::LruCrawler(LruCrawler::Crawl(arg) | LruCrawler::Metadump(arg)) => arg.len(),
        Request::Raw(raw) => raw.line.len() + raw.data.as_ref().map_or(0, |data| data.len() + 2),
        _ => 0,
    }
}
