//! Client side: [`Request`] to bytes.

use bytes::{BufMut, BytesMut};

use crate::{
    ArithOp, LruCrawler, RawCommand, Request, Retrieve, RetrieveCommand, Store, StoreCommand,
};

/// Room for the fixed words and numbers of any one request line: the longest
/// is `cas <key> <flags> <exptime> <bytes> <unique> noreply\r\n` less its key,
/// well under this.
const FIXED_ROOM: usize = 96;

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

/// ` noreply` when asked, then the line end.
fn end_line(noreply: bool, out: &mut BytesMut) {
    if noreply {
        out.put_slice(b" noreply");
    }
    out.put_slice(b"\r\n");
}

/// The bytes of a request that are not fixed words or numbers: keys, data,
/// arguments, with a separator each.
fn variable_len(request: &Request) -> usize {
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

/// Writes `n` in decimal, without allocating.
pub(super) fn put_u64(mut n: u64, out: &mut BytesMut) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.put_slice(&digits[start..]);
}

/// Writes `n` in decimal, with a `-` when negative.
fn put_i64(n: i64, out: &mut BytesMut) {
    if n < 0 {
        out.put_u8(b'-');
    }
    put_u64(n.unsigned_abs(), out);
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::RawReply;

    fn encoded(request: Request) -> Vec<u8> {
        let mut out = BytesMut::new();
        encode_request(&request, &mut out);
        out.to_vec()
    }

    fn check(request: Request, expected: &[u8]) {
        let got = encoded(request.clone());
        assert_eq!(
            got.escape_ascii().to_string(),
            expected.escape_ascii().to_string(),
            "{request:?}"
        );
    }

    fn keys(keys: &[&'static str]) -> Vec<Bytes> {
        keys.iter()
            .map(|k| Bytes::from_static(k.as_bytes()))
            .collect()
    }

    fn retrieve(command: RetrieveCommand, k: &[&'static str]) -> Request {
        Request::Retrieve(Retrieve {
            command,
            keys: keys(k),
        })
    }

    fn store(command: StoreCommand, noreply: bool) -> Request {
        Request::Store(Store {
            command,
            key: Bytes::from_static(b"k"),
            flags: 16,
            exptime: 300,
            value: Bytes::from_static(b"a\r\nb"),
            noreply,
        })
    }

    #[test]
    fn numbers_cover_their_whole_range() {
        let mut out = BytesMut::new();
        for n in [0, 1, 9, 10, 99, 100, 12345, u64::MAX] {
            out.clear();
            put_u64(n, &mut out);
            assert_eq!(&out[..], n.to_string().as_bytes());
        }
        for n in [0, -1, 7, -30, i64::MIN, i64::MAX] {
            out.clear();
            put_i64(n, &mut out);
            assert_eq!(&out[..], n.to_string().as_bytes());
        }
    }

    #[test]
    fn retrievals() {
        check(retrieve(RetrieveCommand::Get, &["a"]), b"get a\r\n");
        check(
            retrieve(RetrieveCommand::Get, &["a", "b", "a"]),
            b"get a b a\r\n",
        );
        check(
            retrieve(RetrieveCommand::Gets, &["a", "b"]),
            b"gets a b\r\n",
        );
        check(
            retrieve(RetrieveCommand::Gat { exptime: 100 }, &["a", "b"]),
            b"gat 100 a b\r\n",
        );
        check(
            retrieve(RetrieveCommand::Gats { exptime: -1 }, &["a"]),
            b"gats -1 a\r\n",
        );
    }

    #[test]
    fn storage_commands_with_and_without_noreply() {
        for (command, name) in [
            (StoreCommand::Set, "set"),
            (StoreCommand::Add, "add"),
            (StoreCommand::Replace, "replace"),
            (StoreCommand::Append, "append"),
            (StoreCommand::Prepend, "prepend"),
        ] {
            check(
                store(command, false),
                format!("{name} k 16 300 4\r\na\r\nb\r\n").as_bytes(),
            );
            check(
                store(command, true),
                format!("{name} k 16 300 4 noreply\r\na\r\nb\r\n").as_bytes(),
            );
        }
        let cas = StoreCommand::Cas { unique: u64::MAX };
        check(
            store(cas, false),
            b"cas k 16 300 4 18446744073709551615\r\na\r\nb\r\n",
        );
        check(
            store(cas, true),
            b"cas k 16 300 4 18446744073709551615 noreply\r\na\r\nb\r\n",
        );
        check(
            Request::Store(Store {
                command: StoreCommand::Set,
                key: Bytes::from_static(b"e"),
                flags: u32::MAX,
                exptime: -1,
                value: Bytes::new(),
                noreply: false,
            }),
            b"set e 4294967295 -1 0\r\n\r\n",
        );
    }

    #[test]
    fn key_commands_with_and_without_noreply() {
        let key = Bytes::from_static(b"k");
        for noreply in [false, true] {
            let tail: &[u8] = if noreply { b" noreply\r\n" } else { b"\r\n" };
            let with = |line: &[u8]| [line, tail].concat();
            check(
                Request::Delete {
                    key: key.clone(),
                    noreply,
                },
                &with(b"delete k"),
            );
            check(
                Request::Arith {
                    op: ArithOp::Incr,
                    key: key.clone(),
                    delta: 5,
                    noreply,
                },
                &with(b"incr k 5"),
            );
            check(
                Request::Arith {
                    op: ArithOp::Decr,
                    key: key.clone(),
                    delta: u64::MAX,
                    noreply,
                },
                &with(b"decr k 18446744073709551615"),
            );
            check(
                Request::Touch {
                    key: key.clone(),
                    exptime: 0,
                    noreply,
                },
                &with(b"touch k 0"),
            );
            check(
                Request::FlushAll {
                    delay: None,
                    noreply,
                },
                &with(b"flush_all"),
            );
            check(
                Request::FlushAll {
                    delay: Some(10),
                    noreply,
                },
                &with(b"flush_all 10"),
            );
            check(
                Request::Verbosity { level: 1, noreply },
                &with(b"verbosity 1"),
            );
            check(
                Request::CacheMemlimit {
                    megabytes: 64,
                    noreply,
                },
                &with(b"cache_memlimit 64"),
            );
        }
    }

    #[test]
    fn admin_commands() {
        check(Request::Stats { args: vec![] }, b"stats\r\n");
        check(
            Request::Stats {
                args: keys(&["cachedump", "1", "0"]),
            },
            b"stats cachedump 1 0\r\n",
        );
        check(Request::Version, b"version\r\n");
        check(Request::Quit, b"quit\r\n");
        check(Request::Shutdown { graceful: false }, b"shutdown\r\n");
        check(
            Request::Shutdown { graceful: true },
            b"shutdown graceful\r\n",
        );
        check(
            Request::SlabsReassign {
                source: -1,
                dest: 12,
            },
            b"slabs reassign -1 12\r\n",
        );
        check(Request::SlabsAutomove { mode: 2 }, b"slabs automove 2\r\n");
        let crawler = |command| Request::LruCrawler(command);
        check(crawler(LruCrawler::Enable), b"lru_crawler enable\r\n");
        check(crawler(LruCrawler::Disable), b"lru_crawler disable\r\n");
        check(
            crawler(LruCrawler::Sleep(100)),
            b"lru_crawler sleep 100\r\n",
        );
        check(
            crawler(LruCrawler::ToCrawl(0)),
            b"lru_crawler tocrawl 0\r\n",
        );
        check(
            crawler(LruCrawler::Crawl(Bytes::from_static(b"1,2,3"))),
            b"lru_crawler crawl 1,2,3\r\n",
        );
        check(
            crawler(LruCrawler::Metadump(Bytes::from_static(b"all"))),
            b"lru_crawler metadump all\r\n",
        );
    }

    #[test]
    fn raw_commands() {
        check(
            Request::Raw(RawCommand {
                line: Bytes::from_static(b"mn"),
                data: None,
                reply: RawReply::Line,
            }),
            b"mn\r\n",
        );
        check(
            Request::Raw(RawCommand {
                line: Bytes::from_static(b"ms k 2 T0"),
                data: Some(Bytes::from_static(b"hi")),
                reply: RawReply::Line,
            }),
            b"ms k 2 T0\r\nhi\r\n",
        );
        check(
            Request::Raw(RawCommand {
                line: Bytes::from_static(b"set k 0 0 0 noreply"),
                data: Some(Bytes::new()),
                reply: RawReply::None,
            }),
            b"set k 0 0 0 noreply\r\n\r\n",
        );
    }

    #[test]
    fn appends_after_what_is_buffered_and_reserves_enough() {
        let mut out = BytesMut::new();
        out.put_slice(b"get a\r\n");
        let request = store(StoreCommand::Cas { unique: u64::MAX }, true);
        encode_request(&request, &mut out);
        assert_eq!(
            &out[..],
            &b"get a\r\ncas k 16 300 4 18446744073709551615 noreply\r\na\r\nb\r\n"[..]
        );
        // The reservation covers the longest fixed part.
        let long = Request::Store(Store {
            command: StoreCommand::Cas { unique: u64::MAX },
            key: Bytes::from(vec![b'k'; 250]),
            flags: u32::MAX,
            exptime: i64::MIN,
            value: Bytes::from(vec![b'v'; 1000]),
            noreply: true,
        });
        assert!(encoded(long.clone()).len() <= FIXED_ROOM + variable_len(&long));
    }
}
