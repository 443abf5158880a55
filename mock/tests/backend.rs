//! Semantics of the mock through its `Backend` path (no parsing), the clock,
//! eviction and faults.

use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_lite::future::block_on;
use memclient::{
    ArithOp, Backend, Error, Request, Response, Retrieve, RetrieveCommand, Store, StoreCommand,
};
use memclient_mock::MockMemcache;

fn call(mock: &MockMemcache, request: Request) -> Result<Response, Error> {
    block_on(mock.call(request))
}

fn store(command: StoreCommand, key: &str, flags: u32, exptime: i64, value: &str) -> Request {
    Request::Store(Store {
        command,
        key: Bytes::copy_from_slice(key.as_bytes()),
        flags,
        exptime,
        value: Bytes::copy_from_slice(value.as_bytes()),
        noreply: false,
    })
}

fn set(key: &str, value: &str) -> Request {
    store(StoreCommand::Set, key, 0, 0, value)
}

fn retrieve(command: RetrieveCommand, keys: &[&str]) -> Request {
    Request::Retrieve(Retrieve {
        command,
        keys: keys
            .iter()
            .map(|k| Bytes::copy_from_slice(k.as_bytes()))
            .collect(),
    })
}

/// `get key` → Some((data, flags)).
fn get(mock: &MockMemcache, key: &str) -> Option<(String, u32)> {
    match call(mock, retrieve(RetrieveCommand::Get, &[key])).unwrap() {
        Response::Values(values) => values
            .first()
            .map(|v| (String::from_utf8_lossy(&v.data).into_owned(), v.flags)),
        other => panic!("{other:?}"),
    }
}

fn gets_cas(mock: &MockMemcache, key: &str) -> u64 {
    match call(mock, retrieve(RetrieveCommand::Gets, &[key])).unwrap() {
        Response::Values(values) => values[0].cas.unwrap(),
        other => panic!("{other:?}"),
    }
}

fn arith(op: ArithOp, key: &str, delta: u64) -> Request {
    Request::Arith {
        op,
        key: Bytes::copy_from_slice(key.as_bytes()),
        delta,
        noreply: false,
    }
}

fn stat(mock: &MockMemcache, name: &str) -> u64 {
    let Response::Lines(lines) = call(mock, Request::Stats { args: vec![] }).unwrap() else {
        panic!()
    };
    let prefix = format!("STAT {name} ");
    lines
        .iter()
        .find_map(|l| {
            std::str::from_utf8(l)
                .ok()?
                .strip_prefix(&prefix)?
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no stat {name}"))
}

#[test]
fn storage_commands() {
    let mock = MockMemcache::new();
    use StoreCommand::*;
    assert_eq!(
        call(&mock, store(Set, "k", 7, 0, "v")).unwrap(),
        Response::Stored
    );
    assert_eq!(get(&mock, "k"), Some(("v".into(), 7)));
    assert_eq!(
        call(&mock, store(Add, "k", 0, 0, "x")).unwrap(),
        Response::NotStored
    );
    assert_eq!(
        call(&mock, store(Add, "n", 0, 0, "x")).unwrap(),
        Response::Stored
    );
    assert_eq!(
        call(&mock, store(Replace, "nope", 0, 0, "x")).unwrap(),
        Response::NotStored
    );
    assert_eq!(
        call(&mock, store(Replace, "n", 1, 0, "y")).unwrap(),
        Response::Stored
    );
    assert_eq!(get(&mock, "n"), Some(("y".into(), 1)));
    // append/prepend: NOT_STORED when missing, keep the item's flags.
    assert_eq!(
        call(&mock, store(Append, "nope", 0, 0, "x")).unwrap(),
        Response::NotStored
    );
    assert_eq!(
        call(&mock, store(Prepend, "nope", 0, 0, "x")).unwrap(),
        Response::NotStored
    );
    assert_eq!(
        call(&mock, store(Append, "k", 9, 0, "w")).unwrap(),
        Response::Stored
    );
    assert_eq!(
        call(&mock, store(Prepend, "k", 9, 0, "u")).unwrap(),
        Response::Stored
    );
    assert_eq!(get(&mock, "k"), Some(("uvw".into(), 7)));
    assert_eq!(mock.get_raw(b"k"), Some((Bytes::from("uvw"), 7)));
    assert_eq!(mock.keys(), vec![Bytes::from("k"), Bytes::from("n")]);
    assert_eq!(mock.len(), 2);
}

#[test]
fn cas_uniques_come_from_one_counter() {
    let mock = MockMemcache::new();
    call(&mock, set("a", "1")).unwrap();
    assert_eq!(gets_cas(&mock, "a"), 1);
    // Failed writes take no cas unique.
    call(&mock, store(StoreCommand::Add, "a", 0, 0, "x")).unwrap();
    call(&mock, set("b", "1")).unwrap();
    assert_eq!(gets_cas(&mock, "b"), 2);
    let cas = |unique| store(StoreCommand::Cas { unique }, "a", 0, 0, "new");
    assert_eq!(call(&mock, cas(99)).unwrap(), Response::Exists);
    assert_eq!(call(&mock, cas(1)).unwrap(), Response::Stored);
    assert_eq!(gets_cas(&mock, "a"), 3);
    assert_eq!(
        call(
            &mock,
            store(StoreCommand::Cas { unique: 1 }, "zz", 0, 0, "x")
        )
        .unwrap(),
        Response::NotFound
    );
    // incr changes the cas; touch does not.
    call(&mock, arith(ArithOp::Incr, "b", 1)).unwrap();
    assert_eq!(gets_cas(&mock, "b"), 4);
    let touch = Request::Touch {
        key: "b".into(),
        exptime: 100,
        noreply: false,
    };
    assert_eq!(call(&mock, touch).unwrap(), Response::Touched);
    assert_eq!(gets_cas(&mock, "b"), 4);
    assert_eq!(stat(&mock, "cas_hits"), 1);
    assert_eq!(stat(&mock, "cas_badval"), 1);
    assert_eq!(stat(&mock, "cas_misses"), 1);
}

#[test]
fn incr_and_decr_as_memcached() {
    let mock = MockMemcache::new();
    assert_eq!(
        call(&mock, arith(ArithOp::Incr, "n", 1)).unwrap(),
        Response::NotFound
    );
    call(&mock, set("n", "10")).unwrap();
    assert_eq!(
        call(&mock, arith(ArithOp::Decr, "n", 5)).unwrap(),
        Response::Number(5)
    );
    // The length is kept, padded with spaces.
    assert_eq!(get(&mock, "n"), Some(("5 ".into(), 0)));
    assert_eq!(
        call(&mock, arith(ArithOp::Decr, "n", 50)).unwrap(),
        Response::Number(0)
    );
    assert_eq!(
        call(&mock, arith(ArithOp::Incr, "n", 100)).unwrap(),
        Response::Number(100)
    );
    assert_eq!(get(&mock, "n"), Some(("100".into(), 0)));
    call(&mock, set("max", "18446744073709551615")).unwrap();
    assert_eq!(
        call(&mock, arith(ArithOp::Incr, "max", 1)).unwrap(),
        Response::Number(0)
    );
    assert_eq!(get(&mock, "max"), Some((format!("0{}", " ".repeat(19)), 0)));
    call(&mock, set("text", "12a")).unwrap();
    let err = call(&mock, arith(ArithOp::Incr, "text", 1)).unwrap_err();
    assert!(
        matches!(&err, Error::Client(m) if m == "cannot increment or decrement non-numeric value")
    );
    // Leading spaces and a plus sign are numbers to memcached.
    call(&mock, set("sp", " 12")).unwrap();
    assert_eq!(
        call(&mock, arith(ArithOp::Incr, "sp", 1)).unwrap(),
        Response::Number(13)
    );
    assert_eq!(stat(&mock, "incr_misses"), 1);
    assert_eq!(stat(&mock, "decr_hits"), 2);
}

#[test]
fn noreply_and_errors() {
    let mock = MockMemcache::new();
    let mut quiet = Store {
        command: StoreCommand::Set,
        key: "q".into(),
        flags: 0,
        exptime: 0,
        value: "v".into(),
        noreply: true,
    };
    assert_eq!(
        call(&mock, Request::Store(quiet.clone())).unwrap(),
        Response::NoReply
    );
    assert_eq!(get(&mock, "q"), Some(("v".into(), 0)));
    // Too large with noreply: no reply, and the old value is gone.
    quiet.value = Bytes::from(vec![b'x'; 2 << 20]);
    assert_eq!(
        call(&mock, Request::Store(quiet)).unwrap(),
        Response::NoReply
    );
    assert_eq!(get(&mock, "q"), None);
    let big = Request::Store(Store {
        command: StoreCommand::Set,
        key: "a".into(),
        flags: 0,
        exptime: 0,
        value: Bytes::from(vec![b'x'; 1_048_517]),
        noreply: false,
    });
    assert!(matches!(call(&mock, big), Err(Error::Server(m)) if m == "object too large for cache"));
    let fits = Request::Store(Store {
        command: StoreCommand::Set,
        key: "a".into(),
        flags: 0,
        exptime: 0,
        value: Bytes::from(vec![b'x'; 1_048_516]),
        noreply: false,
    });
    assert_eq!(call(&mock, fits).unwrap(), Response::Stored);
    let long_key = Request::Delete {
        key: Bytes::from(vec![b'k'; 251]),
        noreply: false,
    };
    assert!(
        matches!(call(&mock, long_key), Err(Error::Client(m)) if m == "bad command line format")
    );
    assert!(matches!(
        call(&mock, Request::Shutdown { graceful: false }),
        Err(Error::UnknownCommand(m)) if m == "shutdown not enabled"
    ));
    assert_eq!(call(&mock, Request::Quit).unwrap(), Response::NoReply);
    assert_eq!(
        call(&mock, Request::Version).unwrap(),
        Response::Version("1.6.18".into())
    );
    assert_eq!(
        call(
            &mock,
            Request::Verbosity {
                level: 1,
                noreply: false
            }
        )
        .unwrap(),
        Response::Ok
    );
}

#[test]
fn expiry_follows_the_manual_clock() {
    let mock = MockMemcache::with_manual_clock();
    call(&mock, store(StoreCommand::Set, "one", 0, 1, "x")).unwrap();
    call(&mock, store(StoreCommand::Set, "ten", 0, 10, "x")).unwrap();
    call(&mock, store(StoreCommand::Set, "gone", 0, -1, "x")).unwrap();
    let now = mock
        .now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    call(&mock, store(StoreCommand::Set, "abs", 0, now + 5, "x")).unwrap();
    // An exptime of 2^31 is negative once memcached stores it in 32 bits.
    call(&mock, store(StoreCommand::Set, "wrapped", 0, 1 << 31, "x")).unwrap();
    assert_eq!(get(&mock, "gone"), None);
    assert_eq!(get(&mock, "wrapped"), None);
    assert!(get(&mock, "one").is_some());
    mock.advance(Duration::from_millis(999));
    assert!(get(&mock, "one").is_some());
    mock.advance(Duration::from_millis(1));
    assert_eq!(get(&mock, "one"), None);
    mock.advance(Duration::from_secs(4));
    assert_eq!(get(&mock, "abs"), None);
    // touch and gat move the expiry.
    let touch = Request::Touch {
        key: "ten".into(),
        exptime: 100,
        noreply: false,
    };
    assert_eq!(call(&mock, touch).unwrap(), Response::Touched);
    mock.advance(Duration::from_secs(50));
    assert!(get(&mock, "ten").is_some());
    let gat = retrieve(RetrieveCommand::Gat { exptime: 1 }, &["ten"]);
    assert!(matches!(call(&mock, gat).unwrap(), Response::Values(v) if v.len() == 1));
    mock.advance(Duration::from_secs(1));
    assert_eq!(get(&mock, "ten"), None);
    assert_eq!(stat(&mock, "get_expired"), 5);
}

#[test]
fn flush_all_now_and_later() {
    let mock = MockMemcache::with_manual_clock();
    call(&mock, set("a", "1")).unwrap();
    let flush = |delay| Request::FlushAll {
        delay,
        noreply: false,
    };
    assert_eq!(call(&mock, flush(None)).unwrap(), Response::Ok);
    assert_eq!(get(&mock, "a"), None);
    // Writes right after the flush survive it.
    call(&mock, set("b", "1")).unwrap();
    assert!(get(&mock, "b").is_some());
    // `flush_all 3` takes effect after 2 seconds (memcached's oldest_live is
    // delay - 1), for everything stored up to then.
    assert_eq!(call(&mock, flush(Some(3))).unwrap(), Response::Ok);
    mock.advance(Duration::from_secs(1));
    assert!(get(&mock, "b").is_some());
    mock.advance(Duration::from_secs(1));
    assert_eq!(get(&mock, "b"), None);
    call(&mock, set("c", "1")).unwrap();
    assert_eq!(get(&mock, "c"), None, "stored in the flush's last second");
    mock.advance(Duration::from_secs(1));
    call(&mock, set("c", "1")).unwrap();
    assert!(get(&mock, "c").is_some());
    assert_eq!(call(&mock, flush(Some(-1))).unwrap(), Response::Ok);
    assert_eq!(get(&mock, "c"), None);
}

#[test]
fn memory_limit_evicts_least_recently_used() {
    let mock = MockMemcache::builder().memory_limit(10_000).build();
    let value = "x".repeat(900);
    for i in 0..10 {
        call(&mock, set(&format!("k{i}"), &value)).unwrap();
    }
    // Touch k0 so that k1 is the least recently used.
    assert!(get(&mock, "k0").is_some());
    call(&mock, set("k10", &value)).unwrap();
    assert!(get(&mock, "k0").is_some());
    assert_eq!(get(&mock, "k1"), None);
    assert_eq!(stat(&mock, "evictions"), 1);
    assert_eq!(stat(&mock, "limit_maxbytes"), 10_000);
    assert!(stat(&mock, "bytes") <= 10_000);
}

#[test]
fn stats_count_commands() {
    let mock = MockMemcache::new();
    call(&mock, set("a", "1")).unwrap();
    get(&mock, "a");
    get(&mock, "b");
    call(
        &mock,
        Request::Delete {
            key: "a".into(),
            noreply: false,
        },
    )
    .unwrap();
    call(
        &mock,
        Request::Delete {
            key: "a".into(),
            noreply: false,
        },
    )
    .unwrap();
    assert_eq!(stat(&mock, "cmd_set"), 1);
    assert_eq!(stat(&mock, "cmd_get"), 2);
    assert_eq!(stat(&mock, "get_hits"), 1);
    assert_eq!(stat(&mock, "get_misses"), 1);
    assert_eq!(stat(&mock, "delete_hits"), 1);
    assert_eq!(stat(&mock, "delete_misses"), 1);
    assert_eq!(stat(&mock, "total_items"), 1);
    assert_eq!(stat(&mock, "curr_items"), 0);
    assert!(stat(&mock, "curr_connections") >= 1);
    let Response::Lines(settings) = call(
        &mock,
        Request::Stats {
            args: vec!["settings".into()],
        },
    )
    .unwrap() else {
        panic!()
    };
    assert!(settings.contains(&Bytes::from("STAT item_size_max 1048576")));
    assert_eq!(
        call(
            &mock,
            Request::Stats {
                args: vec!["reset".into()]
            }
        )
        .unwrap(),
        Response::Line("RESET".into())
    );
    assert_eq!(stat(&mock, "cmd_get"), 0);
}

#[test]
fn faults() {
    let mock = MockMemcache::new();
    mock.fail_next(2, Error::Server("out of memory".into()));
    assert!(matches!(
        call(&mock, Request::Version),
        Err(Error::Server(_))
    ));
    assert!(matches!(call(&mock, set("a", "1")), Err(Error::Server(_))));
    assert_eq!(mock.get_raw(b"a"), None, "a failed call does not run");
    assert!(call(&mock, Request::Version).is_ok());

    mock.set_latency(Duration::from_millis(50));
    let start = Instant::now();
    assert!(call(&mock, Request::Version).is_ok());
    assert!(start.elapsed() >= Duration::from_millis(50));
    mock.set_latency(Duration::ZERO);

    mock.drop_connections();
    assert!(matches!(
        call(&mock, Request::Version),
        Err(Error::ConnectionClosed)
    ));
    assert!(call(&mock, Request::Version).is_ok());
}

#[test]
fn clear_and_raw_commands() {
    let mock = MockMemcache::new();
    call(&mock, set("a", "1")).unwrap();
    mock.clear();
    assert!(mock.is_empty());
    let raw = Request::Raw(memclient::RawCommand {
        line: "set r 0 0 2".into(),
        data: Some("hi".into()),
        reply: memclient::RawReply::Line,
    });
    // Framed as the raw command asks, as a connection to memcached reads it.
    assert_eq!(call(&mock, raw).unwrap(), Response::Line("STORED".into()));
    assert_eq!(mock.get_raw(b"r"), Some(("hi".into(), 0)));
    let until_end = |line: &'static str| {
        Request::Raw(memclient::RawCommand {
            line: line.into(),
            data: None,
            reply: memclient::RawReply::UntilEnd,
        })
    };
    assert_eq!(
        call(&mock, until_end("get r")).unwrap(),
        Response::Lines(vec!["VALUE r 0 2".into(), "hi".into()])
    );
    let line = |line: &'static str| {
        Request::Raw(memclient::RawCommand {
            line: line.into(),
            data: None,
            reply: memclient::RawReply::Line,
        })
    };
    assert_eq!(
        call(&mock, line("bogus")),
        Err(Error::UnknownCommand(String::new()))
    );
    assert_eq!(
        call(&mock, line("incr r 1")),
        Err(Error::Client(
            "cannot increment or decrement non-numeric value".into()
        ))
    );
    // `quit` closes the connection it came on.
    assert_eq!(call(&mock, line("quit")), Err(Error::ConnectionClosed));
    // A line end inside the line would be a second command: refused unsent.
    assert!(matches!(
        call(&mock, line("get r\r\nflush_all")),
        Err(Error::IllegalInput(_))
    ));
    assert_eq!(mock.len(), 1);
}

#[test]
fn lru_settings_are_checked_as_memcached_checks_them() {
    use memclient::{Lru, LruFactor, LruMode};
    let mock = MockMemcache::new();
    let tune = |hot, warm, hot_max, warm_max| {
        Request::Lru(Lru::Tune {
            hot_percent: hot,
            warm_percent: warm,
            hot_max_factor: LruFactor(hot_max),
            warm_max_factor: LruFactor(warm_max),
        })
    };
    assert_eq!(call(&mock, tune(20, 20, 0.1, 2.0)), Ok(Response::Ok));
    assert_eq!(
        call(&mock, tune(50, 50, 0.1, 2.0)),
        Err(Error::UnknownCommand(
            "hot and warm pcts must not exceed 80".into()
        ))
    );
    assert_eq!(
        call(&mock, tune(20, 20, 0.0, 2.0)),
        Err(Error::UnknownCommand(
            "hot/warm age factors must be greater than 0".into()
        ))
    );
    let mode = Request::Lru(Lru::Mode(LruMode::Flat));
    assert_eq!(call(&mock, mode), Ok(Response::Ok));
    assert_eq!(
        call(&mock, Request::Lru(Lru::TempTtl(-1))),
        Ok(Response::Ok)
    );
}
