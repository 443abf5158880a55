//! Tests of the client-side request encoder.

use bytes::{BufMut, Bytes, BytesMut};

use super::digits::{put_i64, put_u64};
use super::encode::{variable_len, FIXED_ROOM};
use super::encode_request;
use crate::{
    ArithOp, Lru, LruCrawler, LruFactor, LruMode, RawCommand, RawReply, Request, Retrieve,
    RetrieveCommand, Store, StoreCommand,
};

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
fn lru_commands() {
    check(
        Request::Lru(Lru::Tune {
            hot_percent: 20,
            warm_percent: 40,
            hot_max_factor: LruFactor(0.1),
            warm_max_factor: LruFactor(2.0),
        }),
        b"lru tune 20 40 0.1 2\r\n",
    );
    check(Request::Lru(Lru::Mode(LruMode::Flat)), b"lru mode flat\r\n");
    check(
        Request::Lru(Lru::Mode(LruMode::Segmented)),
        b"lru mode segmented\r\n",
    );
    check(Request::Lru(Lru::TempTtl(-1)), b"lru temp_ttl -1\r\n");
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
