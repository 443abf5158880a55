//! Decoder and encoder tests. The expected replies were taken from memcached
//! 1.6.18 answering the same bytes.

use bytes::{Bytes, BytesMut};

use super::*;
use crate::{
    ArithOp, Error, LruCrawler, Request, Response, Retrieve, RetrieveCommand, Store, StoreCommand,
    Value,
};

fn decode_whole(input: &[u8]) -> Vec<Decoded> {
    let mut decoder = RequestDecoder::new();
    let mut buf = BytesMut::from(input);
    let mut out = Vec::new();
    while let Some(decoded) = decoder.decode(&mut buf) {
        out.push(decoded);
    }
    out
}

fn decode_bytewise(input: &[u8]) -> Vec<Decoded> {
    let mut decoder = RequestDecoder::new();
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for &byte in input {
        buf.extend_from_slice(&[byte]);
        while let Some(decoded) = decoder.decode(&mut buf) {
            out.push(decoded);
        }
    }
    out
}

/// Decodes whole and a byte at a time, checks both agree, returns the result.
fn decode(input: &[u8]) -> Vec<Decoded> {
    let whole = decode_whole(input);
    assert_eq!(
        whole,
        decode_bytewise(input),
        "split decoding differs for {input:?}"
    );
    whole
}

fn one(input: &[u8]) -> Request {
    match decode(input).as_slice() {
        [Decoded::Request(request)] => request.clone(),
        other => panic!("{input:?} decoded to {other:?}"),
    }
}

fn replies(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for decoded in decode(input) {
        match decoded {
            Decoded::Reply(reply) => out.extend_from_slice(&reply),
            Decoded::ReplyDroppingUnsent(reply) => {
                out.extend_from_slice(b"<drop>");
                out.extend_from_slice(&reply)
            }
            Decoded::Close => out.extend_from_slice(b"<close>"),
            Decoded::BadDataChunk { noreply } => {
                if !noreply {
                    out.extend_from_slice(b"CLIENT_ERROR bad data chunk\r\n")
                }
            }
            Decoded::TooLarge { noreply, .. } => {
                if !noreply {
                    out.extend_from_slice(b"SERVER_ERROR object too large for cache\r\n")
                }
            }
            Decoded::Request(request) => out.extend_from_slice(format!("<{request:?}>").as_bytes()),
        }
    }
    out
}

fn b(s: &'static str) -> Bytes {
    Bytes::from_static(s.as_bytes())
}

fn store(
    command: StoreCommand,
    key: &'static str,
    flags: u32,
    exptime: i64,
    value: &'static str,
    noreply: bool,
) -> Request {
    Request::Store(Store {
        command,
        key: b(key),
        flags,
        exptime,
        value: b(value),
        noreply,
    })
}

#[test]
fn retrievals() {
    let get = |command, keys: &[&'static str]| {
        Request::Retrieve(Retrieve {
            command,
            keys: keys.iter().map(|k| b(k)).collect(),
        })
    };
    assert_eq!(one(b"get a\r\n"), get(RetrieveCommand::Get, &["a"]));
    assert_eq!(one(b"get a\n"), get(RetrieveCommand::Get, &["a"]));
    assert_eq!(
        one(b"gets  a   b \r\n"),
        get(RetrieveCommand::Gets, &["a", "b"])
    );
    assert_eq!(one(b"bget a\r\n"), get(RetrieveCommand::Get, &["a"]));
    assert_eq!(
        one(b"gat 10 a b\r\n"),
        get(RetrieveCommand::Gat { exptime: 10 }, &["a", "b"])
    );
    assert_eq!(
        one(b"gats -1 a\r\n"),
        get(RetrieveCommand::Gats { exptime: -1 }, &["a"])
    );
    // `gat <exptime>` with no key is valid and answers END.
    assert_eq!(
        one(b"gat 10\r\n"),
        get(RetrieveCommand::Gat { exptime: 10 }, &[])
    );
    // A tab is part of the key; NUL ends the line.
    assert_eq!(one(b"get a\tb\r\n"), get(RetrieveCommand::Get, &["a\tb"]));
    assert_eq!(one(b"get a\0b\r\n"), get(RetrieveCommand::Get, &["a"]));
    // More keys than memcached's 24 tokens.
    let keys: Vec<String> = (0..40).map(|i| format!("k{i}")).collect();
    let line = format!("get {}\r\n", keys.join(" "));
    match one(line.as_bytes()) {
        Request::Retrieve(r) => assert_eq!(r.keys.len(), 40),
        other => panic!("{other:?}"),
    }
}

#[test]
fn storage_commands() {
    use StoreCommand::*;
    assert_eq!(
        one(b"set a 5 10 3\r\nabc\r\n"),
        store(Set, "a", 5, 10, "abc", false)
    );
    assert_eq!(
        one(b"add a 0 0 0 noreply\r\n\r\n"),
        store(Add, "a", 0, 0, "", true)
    );
    assert_eq!(
        one(b"replace a 1 2 1\r\nx\r\n"),
        store(Replace, "a", 1, 2, "x", false)
    );
    assert_eq!(
        one(b"append a 0 0 2\r\n\r\n\r\n"),
        store(Append, "a", 0, 0, "\r\n", false)
    );
    assert_eq!(
        one(b"prepend a 0 0 1 noreply\r\nx\r\n"),
        store(Prepend, "a", 0, 0, "x", true)
    );
    assert_eq!(
        one(b"cas a 0 0 1 77\r\nx\r\n"),
        store(Cas { unique: 77 }, "a", 0, 0, "x", false)
    );
    // memcached truncates flags to 32 bits and keeps exptime's long value
    // (the store truncates it to 32 bits later).
    assert_eq!(
        one(b"set f 4294967297 0 1\r\nx\r\n"),
        store(Set, "f", 1, 0, "x", false)
    );
    assert_eq!(
        one(b"set e 0 2147483648 1\r\nx\r\n"),
        store(Set, "e", 0, 2147483648, "x", false)
    );
    // A trailing space is fine; `noreplyx` is not `noreply`.
    assert_eq!(
        one(b"set s 0 0 1 \r\nx\r\n"),
        store(Set, "s", 0, 0, "x", false)
    );
    assert_eq!(
        one(b"set s 0 0 1 noreplyx\r\nx\r\n"),
        store(Set, "s", 0, 0, "x", false)
    );
}

#[test]
fn other_commands() {
    assert_eq!(
        one(b"delete a\r\n"),
        Request::Delete {
            key: b("a"),
            noreply: false
        }
    );
    assert_eq!(
        one(b"delete a 0\r\n"),
        Request::Delete {
            key: b("a"),
            noreply: false
        }
    );
    assert_eq!(
        one(b"delete a noreply\r\n"),
        Request::Delete {
            key: b("a"),
            noreply: true
        }
    );
    assert_eq!(
        one(b"delete a 0 noreply\r\n"),
        Request::Delete {
            key: b("a"),
            noreply: true
        }
    );
    assert_eq!(
        one(b"incr a 5\r\n"),
        Request::Arith {
            op: ArithOp::Incr,
            key: b("a"),
            delta: 5,
            noreply: false
        }
    );
    assert_eq!(
        one(b"decr a 18446744073709551615 noreply\r\n"),
        Request::Arith {
            op: ArithOp::Decr,
            key: b("a"),
            delta: u64::MAX,
            noreply: true
        }
    );
    assert_eq!(
        one(b"touch a -1\r\n"),
        Request::Touch {
            key: b("a"),
            exptime: -1,
            noreply: false
        }
    );
    assert_eq!(one(b"stats\r\n"), Request::Stats { args: vec![] });
    assert_eq!(
        one(b"stats settings\r\n"),
        Request::Stats {
            args: vec![b("settings")]
        }
    );
    assert_eq!(
        one(b"flush_all\r\n"),
        Request::FlushAll {
            delay: None,
            noreply: false
        }
    );
    assert_eq!(
        one(b"flush_all -1\r\n"),
        Request::FlushAll {
            delay: Some(-1),
            noreply: false
        }
    );
    assert_eq!(
        one(b"flush_all noreply\r\n"),
        Request::FlushAll {
            delay: None,
            noreply: true
        }
    );
    assert_eq!(
        one(b"flush_all 9 noreply\r\n"),
        Request::FlushAll {
            delay: Some(9),
            noreply: true
        }
    );
    assert_eq!(one(b"version\r\n"), Request::Version);
    assert_eq!(one(b"version x\r\n"), Request::Version);
    assert_eq!(
        one(b"verbosity 1\r\n"),
        Request::Verbosity {
            level: 1,
            noreply: false
        }
    );
    assert_eq!(
        one(b"verbosity 1 noreply\r\n"),
        Request::Verbosity {
            level: 1,
            noreply: true
        }
    );
    assert_eq!(
        one(b"cache_memlimit 100\r\n"),
        Request::CacheMemlimit {
            megabytes: 100,
            noreply: false
        }
    );
    assert_eq!(one(b"quit\r\n"), Request::Quit);
    assert_eq!(one(b"shutdown\r\n"), Request::Shutdown { graceful: false });
    assert_eq!(
        one(b"shutdown graceful\r\n"),
        Request::Shutdown { graceful: true }
    );
    assert_eq!(
        one(b"slabs reassign -1 2\r\n"),
        Request::SlabsReassign {
            source: -1,
            dest: 2
        }
    );
    assert_eq!(
        one(b"slabs automove 2\r\n"),
        Request::SlabsAutomove { mode: 2 }
    );
    assert_eq!(
        one(b"lru_crawler enable\r\n"),
        Request::LruCrawler(LruCrawler::Enable)
    );
    assert_eq!(
        one(b"lru_crawler disable\r\n"),
        Request::LruCrawler(LruCrawler::Disable)
    );
    assert_eq!(
        one(b"lru_crawler sleep 10\r\n"),
        Request::LruCrawler(LruCrawler::Sleep(10))
    );
    assert_eq!(
        one(b"lru_crawler tocrawl 5\r\n"),
        Request::LruCrawler(LruCrawler::ToCrawl(5))
    );
    assert_eq!(
        one(b"lru_crawler crawl all\r\n"),
        Request::LruCrawler(LruCrawler::Crawl(b("all")))
    );
    assert_eq!(
        one(b"lru_crawler metadump 1,2\r\n"),
        Request::LruCrawler(LruCrawler::Metadump(b("1,2")))
    );
    assert!(matches!(one(b"mn\r\n"), Request::Meta(_)));
}

#[test]
fn malformed_commands_get_memcached_replies() {
    let cases: &[(&[u8], &[u8])] = &[
        (b"bogus\r\n", b"ERROR\r\n"),
        (b"bogus noreply\r\n", b"ERROR\r\n"),
        (b"\r\n", b"ERROR\r\n"),
        (b"\0\r\n", b"ERROR\r\n"),
        (b"g\r\n", b"ERROR\r\n"),
        (b"GET a\r\n", b"ERROR\r\n"),
        (b"get\r\n", b"ERROR\r\n"),
        (b"gat\r\n", b"ERROR\r\n"),
        (
            b"gat abc a\r\n",
            b"CLIENT_ERROR invalid exptime argument\r\n",
        ),
        (b"incr\r\n", b"ERROR\r\n"),
        (b"incr a\r\n", b"ERROR\r\n"),
        (b"decr a 1 2 3\r\n", b"ERROR\r\n"),
        (
            b"incr a -1\r\n",
            b"CLIENT_ERROR invalid numeric delta argument\r\n",
        ),
        (
            b"incr a 18446744073709551616\r\n",
            b"CLIENT_ERROR invalid numeric delta argument\r\n",
        ),
        (b"incr a x noreply\r\n", b""),
        (b"touch a\r\n", b"ERROR\r\n"),
        (
            b"touch a x\r\n",
            b"CLIENT_ERROR invalid exptime argument\r\n",
        ),
        (b"delete\r\n", b"ERROR\r\n"),
        (b"delete a x y z\r\n", b"ERROR\r\n"),
        (
            b"delete a 1\r\n",
            b"CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n",
        ),
        (b"verbosity\r\n", b"ERROR\r\n"),
        (
            b"verbosity x\r\n",
            b"CLIENT_ERROR bad command line format\r\n",
        ),
        (b"verbosity noreply\r\n", b""),
        (
            b"flush_all x\r\n",
            b"CLIENT_ERROR invalid exptime argument\r\n",
        ),
        (b"flush_all 1 2 3\r\n", b"ERROR\r\n"),
        (b"cache_memlimit x\r\n", b"ERROR\r\n"),
        (b"slabs\r\n", b"ERROR\r\n"),
        (b"slabs automove 3\r\n", b"ERROR\r\n"),
        (
            b"slabs reassign a 2\r\n",
            b"CLIENT_ERROR bad command line format\r\n",
        ),
        (b"lru_crawler foo\r\n", b"ERROR\r\n"),
        (
            b"lru_crawler tocrawl x\r\n",
            b"CLIENT_ERROR bad command line format\r\n",
        ),
        (b"mz\r\n", b"ERROR\r\n"),
        // Wrong counts of arguments to storage commands.
        (b"set a 0 0\r\n", b"ERROR\r\n"),
        (b"set t 0 0 1 x y\r\nx\r\n", b"ERROR\r\nERROR\r\n"),
        (b"cas c 0 0 1\r\n", b"ERROR\r\n"),
        // Bad numbers: no data block is read, it becomes the next command.
        (
            b"set f -1 0 1\r\nx\r\n",
            b"CLIENT_ERROR bad command line format\r\nERROR\r\n",
        ),
        (
            b"set kk 0 0 -1\r\n",
            b"CLIENT_ERROR bad command line format\r\n",
        ),
        (
            b"cas c 0 0 1 x\r\ny\r\n",
            b"CLIENT_ERROR bad command line format\r\nERROR\r\n",
        ),
        // noreply silences the error but not the ERROR for the orphan data line.
        (b"set a 0 0 noreply\r\nversion\r\n", b"<Version>"),
        // Data block of the wrong length.
        (
            b"set a 0 0 3\r\nabcdef\r\n",
            b"CLIENT_ERROR bad data chunk\r\nERROR\r\n",
        ),
        (
            b"set a 0 0 1\r\nx\nget a\r\n",
            b"CLIENT_ERROR bad data chunk\r\nERROR\r\n",
        ),
        (
            b"set a 0 0 1\r\nx\r\r\n",
            b"CLIENT_ERROR bad data chunk\r\nERROR\r\n",
        ),
        (b"set a 0 0 3 noreply\r\nabcdef\r\n", b"ERROR\r\n"),
        // HTTP request lines close the connection.
        (b"GET / HTTP/1.1\r\nversion\r\n", b"<close>"),
    ];
    for (input, expected) in cases {
        assert_eq!(
            replies(input).escape_ascii().to_string(),
            expected.escape_ascii().to_string(),
            "input {}",
            input.escape_ascii()
        );
    }
}

#[test]
fn long_keys_are_rejected() {
    let long = "k".repeat(251);
    let bad = b"CLIENT_ERROR bad command line format\r\n".to_vec();
    let dropping = b"<drop>CLIENT_ERROR bad command line format\r\n".to_vec();
    assert_eq!(replies(format!("get {long}\r\n").as_bytes()), dropping);
    assert_eq!(replies(format!("get a {long} b\r\n").as_bytes()), dropping);
    assert_eq!(replies(format!("touch {long} 0\r\n").as_bytes()), bad);
    assert_eq!(replies(format!("incr {long} 0\r\n").as_bytes()), bad);
    assert_eq!(replies(format!("delete {long}\r\n").as_bytes()), bad);
    assert_eq!(
        replies(format!("delete {long} noreply\r\n").as_bytes()),
        b""
    );
    // The data block is not swallowed: it is read as a command.
    let mut expected = bad.clone();
    expected.extend_from_slice(b"ERROR\r\n");
    assert_eq!(
        replies(format!("set {long} 0 0 1\r\nx\r\n").as_bytes()),
        expected
    );
    // 250 bytes are fine.
    let ok = "k".repeat(250);
    assert!(matches!(
        one(format!("get {ok}\r\n").as_bytes()),
        Request::Retrieve(_)
    ));
}

#[test]
fn too_large_values_are_swallowed() {
    let max = DEFAULT_MAX_ITEM_SIZE - item_size(1, 0, 0);
    assert_eq!(
        max, 1_048_516,
        "the largest value memcached 1.6.18 stores under a 1-byte key"
    );
    let mut input = format!("set a 0 0 {}\r\n", max + 1).into_bytes();
    input.extend(std::iter::repeat(b'x').take(max + 1));
    input.extend_from_slice(b"\r\nversion\r\n");
    let decoded = decode_whole(&input);
    assert_eq!(
        decoded,
        vec![
            Decoded::TooLarge {
                command: StoreCommand::Set,
                key: b("a"),
                noreply: false
            },
            Decoded::Request(Request::Version),
        ]
    );
    // The swallowed length is the announced one: a short block eats what follows.
    let decoded = decode(b"set big 0 0 2000000\r\nxx\r\nget big\r\n");
    assert_eq!(decoded.len(), 1);
    // With flags the limit is 4 bytes lower.
    let mut decoder = RequestDecoder::new();
    let mut buf = BytesMut::from(format!("set a 1 0 {}\r\n", max - 3).as_bytes());
    assert!(matches!(
        decoder.decode(&mut buf),
        Some(Decoded::TooLarge { .. })
    ));
    let mut decoder = RequestDecoder::with_max_item_size(100);
    let mut buf = BytesMut::from(&b"set a 0 0 41\r\n"[..]);
    assert!(matches!(
        decoder.decode(&mut buf),
        Some(Decoded::TooLarge { .. })
    ));
    let mut buf = BytesMut::from(&b"set a 0 0 40\r\n"[..]);
    let mut decoder = RequestDecoder::with_max_item_size(100);
    assert_eq!(decoder.decode(&mut buf), None);
}

#[test]
fn replies_wait_for_the_data_block() {
    let mut decoder = RequestDecoder::new();
    let mut buf = BytesMut::from(&b"set a 0 0 5\r\nab"[..]);
    assert_eq!(decoder.decode(&mut buf), None);
    assert!(decoder.in_data_block());
    buf.extend_from_slice(b"cde\r\n");
    assert!(matches!(
        decoder.decode(&mut buf),
        Some(Decoded::Request(_))
    ));
    assert!(!decoder.in_data_block());
}

#[test]
fn too_long_lines_close_unless_get() {
    let mut decoder = RequestDecoder::new();
    let mut buf = BytesMut::from(&[b'a'; MAX_LINE_LEN][..]);
    assert_eq!(decoder.decode(&mut buf), None);
    buf.extend_from_slice(b"a");
    assert_eq!(decoder.decode(&mut buf), Some(Decoded::Close));
    assert_eq!(decoder.decode(&mut buf), None);

    let mut decoder = RequestDecoder::new();
    let mut buf = BytesMut::from(&b"  get "[..]);
    buf.extend(std::iter::repeat(b"k ").take(3000).flatten());
    assert_eq!(decoder.decode(&mut buf), None);
    buf.extend_from_slice(b"\r\n");
    assert!(matches!(
        decoder.decode(&mut buf),
        Some(Decoded::Request(_))
    ));

    // A long line that arrives whole with its line end is processed (as by
    // memcached, which reads 16 KiB at a time); a byte at a time it is not.
    let line = format!("version {}\r\n", "a".repeat(10_000));
    assert_eq!(
        decode_whole(line.as_bytes()),
        vec![Decoded::Request(Request::Version)]
    );
    assert_eq!(decode_bytewise(line.as_bytes()), vec![Decoded::Close]);
}

#[test]
fn pipelined_commands_split_anywhere() {
    let input: &[u8] = b"set a 0 0 5\r\nhello\r\nget a b\r\nbogus\r\nincr n 1 noreply\r\n\
        delete a\r\nset big 0 0 2000000 noreply\r\nxx\r\n";
    let decoded = decode(input);
    assert_eq!(decoded.len(), 6, "{decoded:?}");
}

fn encoded(request: &Request, reply: Result<Response, Error>) -> String {
    let mut out = BytesMut::new();
    encode_reply(request, &reply, &mut out);
    out.escape_ascii().to_string()
}

#[test]
fn replies_encode_as_memcached_writes_them() {
    let get = Request::Retrieve(Retrieve {
        command: RetrieveCommand::Gets,
        keys: vec![b("a")],
    });
    let values = Response::Values(vec![
        Value {
            key: b("a"),
            flags: 5,
            cas: Some(6),
            data: b("wwxyy"),
        },
        Value {
            key: b("b"),
            flags: 0,
            cas: None,
            data: b(""),
        },
    ]);
    assert_eq!(
        encoded(&get, Ok(values)),
        "VALUE a 5 5 6\\r\\nwwxyy\\r\\nVALUE b 0 0\\r\\n\\r\\nEND\\r\\n"
    );
    assert_eq!(
        encoded(&Request::Version, Ok(Response::Values(vec![]))),
        "END\\r\\n"
    );
    assert_eq!(
        encoded(&Request::Version, Ok(Response::Stored)),
        "STORED\\r\\n"
    );
    assert_eq!(
        encoded(&Request::Version, Ok(Response::NotStored)),
        "NOT_STORED\\r\\n"
    );
    assert_eq!(
        encoded(&Request::Version, Ok(Response::Exists)),
        "EXISTS\\r\\n"
    );
    assert_eq!(
        encoded(&Request::Version, Ok(Response::NotFound)),
        "NOT_FOUND\\r\\n"
    );
    assert_eq!(
        encoded(&Request::Version, Ok(Response::Deleted)),
        "DELETED\\r\\n"
    );
    assert_eq!(
        encoded(&Request::Version, Ok(Response::Touched)),
        "TOUCHED\\r\\n"
    );
    assert_eq!(encoded(&Request::Version, Ok(Response::Ok)), "OK\\r\\n");
    assert_eq!(
        encoded(&Request::Version, Ok(Response::Number(0))),
        "0\\r\\n"
    );
    assert_eq!(encoded(&Request::Version, Ok(Response::NoReply)), "");
    assert_eq!(
        encoded(&Request::Version, Ok(Response::Line(b("RESET")))),
        "RESET\\r\\n"
    );
    assert_eq!(
        encoded(&Request::Version, Ok(Response::Version(b("1.6.18")))),
        "VERSION 1.6.18\\r\\n"
    );
    let stats = Request::Stats { args: vec![] };
    assert_eq!(
        encoded(&stats, Ok(Response::Lines(vec![b("STAT pid 1")]))),
        "STAT pid 1\\r\\nEND\\r\\n"
    );
    let dump = Request::LruCrawler(LruCrawler::Metadump(b("all")));
    assert_eq!(
        encoded(&dump, Ok(Response::Lines(vec![b("key=a exp=-1")]))),
        "key=a exp=-1\\nEND\\r\\n"
    );
}

#[test]
fn errors_encode_as_memcached_writes_them() {
    let r = &Request::Version;
    assert_eq!(
        encoded(r, Err(Error::UnknownCommand(String::new()))),
        "ERROR\\r\\n"
    );
    assert_eq!(
        encoded(r, Err(Error::UnknownCommand("shutdown not enabled".into()))),
        "ERROR: shutdown not enabled\\r\\n"
    );
    assert_eq!(
        encoded(
            r,
            Err(Error::UnknownCommand(
                "failed to start lru crawler thread".into()
            ))
        ),
        "ERROR failed to start lru crawler thread\\r\\n"
    );
    assert_eq!(
        encoded(r, Err(Error::Client("bad data chunk".into()))),
        "CLIENT_ERROR bad data chunk\\r\\n"
    );
    assert_eq!(
        encoded(r, Err(Error::Server("object too large for cache".into()))),
        "SERVER_ERROR object too large for cache\\r\\n"
    );
    assert_eq!(
        encoded(
            r,
            Err(Error::Server(
                "NOSPARE source class has no spare pages".into()
            ))
        ),
        "NOSPARE source class has no spare pages\\r\\n"
    );
}
