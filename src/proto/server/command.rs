//! One command line to a [`Request`], following memcached 1.6.18's
//! `process_command_ascii` check for check, so that malformed lines get the
//! reply the real server gives (and in the same order of checks).

use bytes::Bytes;

use super::limits::item_size;
use super::number::{strtol, strtoul32, strtoull};
use super::outcome::{reply, LineOutcome, PendingStore, BAD_FORMAT};
use super::token::{tokenize, Tokens};
use crate::proto::MAX_KEY_LEN;
use crate::{ArithOp, LruCrawler, Request, Retrieve, RetrieveCommand, StoreCommand};

fn error() -> LineOutcome {
    reply("ERROR", false)
}

/// memcached's `WANT_TOKENS(ntokens, min, max)`: else `ERROR`.
fn want(tokens: &Tokens<'_>, min: usize, max: usize) -> bool {
    let n = tokens.count();
    n >= min && n <= max
}

/// Parses one line (without its line end, cut at the first NUL byte).
pub(crate) fn parse_line(line: &Bytes, max_item_size: usize) -> LineOutcome {
    let tokens = tokenize(line);
    let bytes = |word: &[u8]| line.slice_ref(word);
    let command = tokens.word(0);
    if tokens.words.is_empty() || command.len() < 2 {
        return error();
    }
    // Meta commands are the two-letter words starting with `m`.
    if command[0] == b'm' && command.len() == 2 {
        return super::meta::parse_meta(line, &tokens, command[1], max_item_size);
    }
    match command {
        b"get" | b"gets" | b"gat" | b"gats" | b"bget" => retrieve(line, &tokens),
        b"set" | b"add" | b"replace" | b"append" | b"prepend" | b"cas" => {
            let (store, max) = match command {
                b"set" => (StoreCommand::Set, 7),
                b"add" => (StoreCommand::Add, 7),
                b"replace" => (StoreCommand::Replace, 7),
                b"append" => (StoreCommand::Append, 7),
                b"prepend" => (StoreCommand::Prepend, 7),
                _ => (StoreCommand::Cas { unique: 0 }, 8),
            };
            if !want(&tokens, max - 1, max) {
                return error();
            }
            update(&tokens, store, max_item_size, bytes)
        }
        b"incr" | b"decr" => {
            if !want(&tokens, 4, 5) {
                return error();
            }
            let noreply = tokens.noreply();
            let key = tokens.word(1);
            if key.len() > MAX_KEY_LEN {
                return reply(BAD_FORMAT, noreply);
            }
            let Some(delta) = strtoull(tokens.word(2)) else {
                return reply("CLIENT_ERROR invalid numeric delta argument", noreply);
            };
            let op = if command == b"incr" {
                ArithOp::Incr
            } else {
                ArithOp::Decr
            };
            LineOutcome::Request(Request::Arith {
                op,
                key: bytes(key),
                delta,
                noreply,
            })
        }
        b"touch" => {
            if !want(&tokens, 4, 5) {
                return error();
            }
            let noreply = tokens.noreply();
            let key = tokens.word(1);
            if key.len() > MAX_KEY_LEN {
                return reply(BAD_FORMAT, noreply);
            }
            let Some(exptime) = strtol(tokens.word(2)) else {
                return reply("CLIENT_ERROR invalid exptime argument", noreply);
            };
            LineOutcome::Request(Request::Touch {
                key: bytes(key),
                exptime,
                noreply,
            })
        }
        b"delete" => delete(&tokens, bytes),
        b"flush_all" => {
            if !want(&tokens, 2, 4) {
                return error();
            }
            let noreply = tokens.noreply();
            let mut delay = None;
            if tokens.count() != if noreply { 3 } else { 2 } {
                match strtol(tokens.word(1)) {
                    Some(value) => delay = Some(value),
                    None => return reply("CLIENT_ERROR invalid exptime argument", noreply),
                }
            }
            LineOutcome::Request(Request::FlushAll { delay, noreply })
        }
        b"version" => LineOutcome::Request(Request::Version),
        b"quit" => LineOutcome::Request(Request::Quit),
        b"shutdown" => LineOutcome::Request(Request::Shutdown {
            graceful: tokens.count() == 3 && tokens.word(1) == b"graceful",
        }),
        b"verbosity" => {
            if !want(&tokens, 3, 4) {
                return error();
            }
            let noreply = tokens.noreply();
            match strtoul32(tokens.word(1)) {
                Some(level) => LineOutcome::Request(Request::Verbosity { level, noreply }),
                None => reply(BAD_FORMAT, noreply),
            }
        }
        b"cache_memlimit" => {
            if !want(&tokens, 3, 4) {
                return error();
            }
            let noreply = tokens.noreply();
            match strtoul32(tokens.word(1)) {
                Some(megabytes) => LineOutcome::Request(Request::CacheMemlimit {
                    megabytes: u64::from(megabytes),
                    noreply,
                }),
                None => reply("ERROR", noreply),
            }
        }
        b"stats" => LineOutcome::Request(Request::Stats {
            args: tokens.words[1..].iter().map(|w| bytes(w)).collect(),
        }),
        b"slabs" => slabs(&tokens),
        b"lru_crawler" => lru_crawler(&tokens, bytes),
        _ => {
            // memcached hangs up on what looks like an HTTP request line.
            let n = tokens.words.len();
            if n >= 1 && tokens.words[n - 1].starts_with(b"HTTP/") {
                LineOutcome::Close
            } else {
                error()
            }
        }
    }
}

/// `get`, `gets`, `gat`, `gats` (and the ancient `bget`).
fn retrieve(line: &Bytes, tokens: &Tokens<'_>) -> LineOutcome {
    if tokens.count() < 3 {
        return error();
    }
    let mut first_key = 1;
    let command = match tokens.word(0) {
        b"gets" => RetrieveCommand::Gets,
        b"gat" | b"gats" => {
            let Some(exptime) = strtol(tokens.word(1)) else {
                return reply("CLIENT_ERROR invalid exptime argument", false);
            };
            first_key = 2;
            if tokens.word(0) == b"gat" {
                RetrieveCommand::Gat { exptime }
            } else {
                RetrieveCommand::Gats { exptime }
            }
        }
        _ => RetrieveCommand::Get,
    };
    let mut keys = Vec::new();
    let mut words: Vec<&[u8]> = tokens.words.get(first_key..).unwrap_or(&[]).to_vec();
    let mut rest = tokens.rest;
    loop {
        for key in words {
            if key.len() > MAX_KEY_LEN {
                // memcached drops the replies it had stacked and answers only this.
                return LineOutcome::DropUnsent(BAD_FORMAT);
            }
            keys.push(line.slice_ref(key));
        }
        match rest {
            Some(more) => {
                let next = tokenize(more);
                words = next.words;
                rest = next.rest;
            }
            None => break,
        }
    }
    LineOutcome::Request(Request::Retrieve(Retrieve { command, keys }))
}

/// memcached's `process_update_command`.
fn update<'a>(
    tokens: &Tokens<'a>,
    mut command: StoreCommand,
    max_item_size: usize,
    bytes: impl Fn(&'a [u8]) -> Bytes,
) -> LineOutcome {
    let noreply = tokens.noreply();
    let key = tokens.word(1);
    if key.len() > MAX_KEY_LEN {
        return reply(BAD_FORMAT, noreply);
    }
    let (Some(flags), Some(exptime), Some(len)) = (
        strtoul32(tokens.word(2)),
        strtol(tokens.word(3)),
        strtol(tokens.word(4)),
    ) else {
        return reply(BAD_FORMAT, noreply);
    };
    if let StoreCommand::Cas { unique } = &mut command {
        match strtoull(tokens.word(5)) {
            Some(value) => *unique = value,
            None => return reply(BAD_FORMAT, noreply),
        }
    }
    // The length goes through an `int32_t` in memcached.
    let len = len as i32;
    if !(0..=i32::MAX - 2).contains(&len) {
        return reply(BAD_FORMAT, noreply);
    }
    let len = len as usize;
    if item_size(key.len(), flags, len) > max_item_size {
        return LineOutcome::TooLarge {
            command,
            key: bytes(key),
            noreply,
            swallow: len + 2,
        };
    }
    LineOutcome::Data(PendingStore {
        command,
        key: bytes(key),
        flags,
        exptime,
        len,
        noreply,
    })
}

/// memcached's `process_delete_command`, with its legacy `0` hold time.
fn delete<'a>(tokens: &Tokens<'a>, bytes: impl Fn(&'a [u8]) -> Bytes) -> LineOutcome {
    if !want(tokens, 3, 5) {
        return error();
    }
    let mut noreply = false;
    if tokens.count() > 3 {
        let hold_is_zero = tokens.word(2) == b"0";
        noreply = tokens.noreply();
        let valid = (tokens.count() == 4 && (hold_is_zero || noreply))
            || (tokens.count() == 5 && hold_is_zero && noreply);
        if !valid {
            return reply(
                "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]",
                noreply,
            );
        }
    }
    let key = tokens.word(1);
    if key.len() > MAX_KEY_LEN {
        return reply(BAD_FORMAT, noreply);
    }
    LineOutcome::Request(Request::Delete {
        key: bytes(key),
        noreply,
    })
}

/// `slabs reassign <src> <dst>` and `slabs automove <n>`.
fn slabs(tokens: &Tokens<'_>) -> LineOutcome {
    let n = tokens.count();
    if n == 5 && tokens.word(1) == b"reassign" {
        return match (strtol(tokens.word(2)), strtol(tokens.word(3))) {
            (Some(source), Some(dest)) => LineOutcome::Request(Request::SlabsReassign {
                source: source as i32,
                dest: dest as i32,
            }),
            _ => reply(BAD_FORMAT, false),
        };
    }
    if n >= 4 && tokens.word(1) == b"automove" {
        let noreply = tokens.noreply();
        if tokens.word(2) == b"ratio" {
            // A tuning knob the mock has no use for; accept it as memcached does.
            let valid = n >= 5
                && std::str::from_utf8(tokens.word(3))
                    .is_ok_and(|s| s.trim().parse::<f64>().is_ok());
            return reply(if valid { "OK" } else { "ERROR" }, noreply);
        }
        return match strtoul32(tokens.word(2)) {
            Some(mode @ 0..=2) => LineOutcome::Request(Request::SlabsAutomove { mode: mode as u8 }),
            Some(_) => reply("ERROR", noreply),
            None => reply(BAD_FORMAT, noreply),
        };
    }
    error()
}

/// memcached's `process_lru_crawler_command`.
fn lru_crawler<'a>(tokens: &Tokens<'a>, bytes: impl Fn(&'a [u8]) -> Bytes) -> LineOutcome {
    let n = tokens.count();
    let sub = tokens.word(1);
    let crawler = |c| LineOutcome::Request(Request::LruCrawler(c));
    match (n, sub) {
        (4, b"crawl") => crawler(LruCrawler::Crawl(bytes(tokens.word(2)))),
        (4, b"metadump") => crawler(LruCrawler::Metadump(bytes(tokens.word(2)))),
        (4, b"tocrawl") => match strtoul32(tokens.word(2)) {
            Some(items) => crawler(LruCrawler::ToCrawl(items)),
            None => reply(BAD_FORMAT, false),
        },
        (4, b"sleep") => match strtoul32(tokens.word(2)) {
            Some(micros) => crawler(LruCrawler::Sleep(micros)),
            None => reply(BAD_FORMAT, false),
        },
        (3, b"enable") => crawler(LruCrawler::Enable),
        (3, b"disable") => crawler(LruCrawler::Disable),
        _ => error(),
    }
}
