//! The meta commands through the mock's `Backend` path: what a memclient
//! client decodes from memcached 1.6.18 (checked against the real server by
//! `real_memcached.rs`, on the wire).

use std::time::Duration;

use bytes::Bytes;
use futures_lite::future::block_on;
use memclient::{
    Backend, Error, MetaCommand, MetaFlag, MetaRequest, MetaResponse, MetaStatus, Request, Response,
};
use memclient_mock::MockMemcache;

fn flags(text: &str) -> Vec<MetaFlag> {
    text.split_whitespace()
        .map(|word| {
            let bytes = word.as_bytes();
            if bytes.len() > 1 {
                MetaFlag::with(bytes[0], Bytes::copy_from_slice(&bytes[1..]))
            } else {
                MetaFlag::bare(bytes[0])
            }
        })
        .collect()
}

fn meta(command: MetaCommand, key: &[u8], flag_text: &str, data: Option<&str>) -> MetaRequest {
    MetaRequest {
        command,
        key: Bytes::copy_from_slice(key),
        flags: flags(flag_text),
        data: data.map(|d| Bytes::copy_from_slice(d.as_bytes())),
    }
}

fn mg(key: &str, f: &str) -> MetaRequest {
    meta(MetaCommand::Get, key.as_bytes(), f, None)
}
fn ms(key: &str, data: &str, f: &str) -> MetaRequest {
    meta(MetaCommand::Set, key.as_bytes(), f, Some(data))
}
fn md(key: &str, f: &str) -> MetaRequest {
    meta(MetaCommand::Delete, key.as_bytes(), f, None)
}
fn ma(key: &str, f: &str) -> MetaRequest {
    meta(MetaCommand::Arithmetic, key.as_bytes(), f, None)
}

fn call(mock: &MockMemcache, request: MetaRequest) -> Result<MetaResponse, Error> {
    match block_on(mock.call(Request::Meta(request)))? {
        Response::Meta(reply) => Ok(reply),
        other => panic!("{other:?}"),
    }
}

/// The reply in wire-like text: `VA 1 c3 W`, `EN`, ... (data after `|`).
fn text(reply: &MetaResponse) -> String {
    let code = match reply.status {
        Some(MetaStatus::Value) => "VA",
        Some(MetaStatus::Header) => "HD",
        Some(MetaStatus::Miss) => "EN",
        Some(MetaStatus::NotStored) => "NS",
        Some(MetaStatus::Exists) => "EX",
        Some(MetaStatus::NotFound) => "NF",
        Some(MetaStatus::Noop) => "MN",
        Some(MetaStatus::Debug) => "ME",
        None => "??",
    };
    let mut out = code.to_string();
    for flag in &reply.flags {
        out.push(' ');
        out.push(flag.flag as char);
        if let Some(token) = &flag.token {
            out.push_str(&token.escape_ascii().to_string());
        }
    }
    for (name, value) in &reply.debug {
        out.push_str(&format!(
            " {}={}",
            name.escape_ascii(),
            value.escape_ascii()
        ));
    }
    if let Some(data) = &reply.data {
        out.push('|');
        out.push_str(&data.escape_ascii().to_string());
    }
    out
}

fn ok(mock: &MockMemcache, request: MetaRequest) -> String {
    text(&call(mock, request).unwrap())
}

fn err(mock: &MockMemcache, request: MetaRequest) -> Error {
    call(mock, request).unwrap_err()
}

#[test]
fn get_set_and_returned_flags() {
    let mock = MockMemcache::with_manual_clock();
    assert_eq!(ok(&mock, ms("a", "x", "T0 F5 c k O1")), "HD c1 ka O1");
    assert_eq!(
        ok(&mock, mg("a", "s v f t c k O123 h l")),
        "VA s1 f5 t-1 c1 ka O123 h0 l0|x"
    );
    assert_eq!(ok(&mock, mg("a", "h")), "HD h1");
    assert_eq!(ok(&mock, mg("nope", "v O1 k")), "EN O1 knope");
    assert_eq!(mock.get_raw(b"a"), Some(("x".into(), 5)));
}

#[test]
fn flags_1_6_18_refuses() {
    let mock = MockMemcache::new();
    let client = |m: &str| Error::Client(m.to_string());
    assert_eq!(err(&mock, mg("a", "E5 v")), client("invalid flag"));
    assert_eq!(err(&mock, ms("a", "x", "E5")), client("invalid flag"));
    assert_eq!(
        err(&mock, md("a", "x")),
        client("invalid or duplicate flag")
    );
    assert_eq!(
        err(&mock, md("a", "E1")),
        client("invalid or duplicate flag")
    );
    assert_eq!(
        err(&mock, ma("a", "E1")),
        client("invalid or duplicate flag")
    );
    assert_eq!(err(&mock, mg("a", "v v")), client("duplicate flag"));
    assert_eq!(
        err(&mock, mg("a", "Tx")),
        client("bad token in command line format")
    );
    assert_eq!(
        err(&mock, ms("a", "x", "MZ")),
        client("invalid mode for ms M token")
    );
    assert_eq!(
        err(&mock, ma("a", "MX")),
        client("invalid mode for ma M token")
    );
    let long = format!("O{}", "1".repeat(32));
    assert_eq!(err(&mock, mg("a", &long)), client("opaque token too long"));
    // A key that cannot travel without `b` is refused before it is sent,
    // as a connection refuses it.
    assert!(matches!(err(&mock, mg("a b", "v")), Error::IllegalInput(_)));
    assert!(mock.is_empty());
}

#[test]
fn vivify_gives_one_win() {
    let mock = MockMemcache::with_manual_clock();
    assert_eq!(ok(&mock, mg("v", "N30 t c v")), "VA t30 c1 W|");
    assert_eq!(ok(&mock, mg("v", "N30 t c v")), "VA t30 c1 Z|");
    assert_eq!(ok(&mock, mg("v", "c")), "HD c1 Z");
    // The winner stores: the new item is clean.
    assert_eq!(ok(&mock, ms("v", "new", "T0")), "HD");
    assert_eq!(ok(&mock, mg("v", "v c t")), "VA c2 t-1|new");
}

#[test]
fn invalidation_marks_stale_and_hands_one_win() {
    let mock = MockMemcache::with_manual_clock();
    ok(&mock, ms("s", "old", ""));
    assert_eq!(ok(&mock, md("s", "I T30")), "HD");
    assert_eq!(ok(&mock, mg("s", "v c t")), "VA c2 t30 X W|old");
    assert_eq!(ok(&mock, mg("s", "v c t")), "VA c2 t30 Z X|old");
    // A cas store older than the item's keeps it stale (a cas hit).
    assert_eq!(ok(&mock, ms("s", "new", "C9 I")), "EX");
    assert_eq!(ok(&mock, ms("s", "mid", "C1 I c")), "HD c3");
    assert_eq!(ok(&mock, mg("s", "v t")), "VA t30 Z X|mid");
    assert_eq!(ok(&mock, ms("s", "fin", "")), "HD");
    assert_eq!(ok(&mock, mg("s", "v")), "VA|fin");
}

#[test]
fn recache_wins_below_the_remaining_ttl() {
    let mock = MockMemcache::with_manual_clock();
    ok(&mock, ms("r", "x", "T100"));
    assert_eq!(ok(&mock, mg("r", "R30")), "HD");
    assert_eq!(ok(&mock, mg("r", "R200")), "HD W");
    assert_eq!(ok(&mock, mg("r", "R200")), "HD Z");
    mock.advance(Duration::from_secs(40));
    assert_eq!(ok(&mock, mg("r", "t T300")), "HD t60 Z");
    assert_eq!(ok(&mock, mg("r", "T400 t")), "HD t400 Z");
}

#[test]
fn set_modes_and_cas() {
    let mock = MockMemcache::new();
    assert_eq!(ok(&mock, ms("ap", "x", "MA N30")), "NS");
    assert_eq!(ok(&mock, ms("ap", "z", "ME F3")), "HD");
    assert_eq!(ok(&mock, ms("ap", "y", "ME")), "NS");
    assert_eq!(ok(&mock, ms("ap", "b", "MA")), "HD");
    assert_eq!(ok(&mock, ms("ap", "a", "MP F7")), "HD");
    assert_eq!(ok(&mock, mg("ap", "v f")), "VA f3|azb");
    assert_eq!(ok(&mock, ms("ap", "q", "MR c")), "HD c4");
    assert_eq!(ok(&mock, ms("no", "q", "MR")), "NS");
    assert_eq!(ok(&mock, ms("no", "q", "C5 O3")), "NF O3");
    assert_eq!(ok(&mock, ms("ap", "q", "C5 O1 k c")), "EX O1 kap c0");
    assert_eq!(ok(&mock, ms("ap", "q", "C0")), "EX");
    assert_eq!(ok(&mock, ms("ap", "r", "C4 c")), "HD c5");
}

#[test]
fn delete_and_arithmetic() {
    let mock = MockMemcache::new();
    ok(&mock, ms("d", "x", ""));
    assert_eq!(ok(&mock, md("d", "C99 O1 k")), "EX O1 kd");
    assert_eq!(ok(&mock, md("d", "")), "HD");
    assert_eq!(ok(&mock, md("d", "O1 k")), "NF O1 kd");
    assert_eq!(ok(&mock, ma("n", "")), "NF");
    assert_eq!(ok(&mock, ma("n", "N0 J10 v c t")), "VA c2 t-1|10");
    assert_eq!(ok(&mock, ma("n", "MD D3 v")), "VA|7");
    assert_eq!(mock.get_raw(b"n"), Some(("7 ".into(), 0)));
    assert_eq!(ok(&mock, ma("n", "M+ D100 v")), "VA|107");
    assert_eq!(ok(&mock, ma("n", "MD D1000 v")), "VA|0");
    assert_eq!(ok(&mock, ma("n", "C1 O5 k")), "EX O5 kn");
    ok(&mock, ms("s", "x", ""));
    assert_eq!(
        err(&mock, ma("s", "")),
        Error::Client("cannot increment or decrement non-numeric value".into())
    );
}

#[test]
fn binary_keys() {
    let mock = MockMemcache::new();
    let key = b"\x00bin ary\xff";
    let set = meta(MetaCommand::Set, key, "b k c", Some("hi"));
    // The client decodes the key it asked for in base64.
    assert_eq!(ok(&mock, set), "HD k\\x00bin ary\\xff b c1");
    assert_eq!(mock.get_raw(key), Some(("hi".into(), 0)));
    let get = meta(MetaCommand::Get, key, "b k v", None);
    assert_eq!(ok(&mock, get), "VA k\\x00bin ary\\xff b|hi");
    let debug = call(&mock, meta(MetaCommand::Debug, key, "b", None)).unwrap();
    assert_eq!(debug.token(b'k').map(|k| &k[..]), Some(&key[..]));
    // Read without `b`, memcached writes the key in base64 (`kYmluYXJ5 b`),
    // and the client decodes it: the reply names the request's key.
    ok(&mock, meta(MetaCommand::Set, b"binary", "b", Some("x")));
    assert_eq!(ok(&mock, mg("binary", "k")), "HD kbinary b");
    assert_eq!(ok(&mock, mg("binary", "v")), "VA|x");
}

#[test]
fn debug_dump() {
    let mock = MockMemcache::with_manual_clock();
    ok(&mock, ms("d", "x", "T100"));
    assert_eq!(
        ok(&mock, meta(MetaCommand::Debug, b"d", "", None)),
        "ME kd exp=-100 la=0 cas=1 fetch=no cls=1 size=61"
    );
    assert_eq!(ok(&mock, meta(MetaCommand::Debug, b"nope", "", None)), "EN");
    assert_eq!(ok(&mock, meta(MetaCommand::Noop, b"", "", None)), "MN");
}

#[test]
fn standalone_quiet_requests_answer_what_was_suppressed() {
    let mock = MockMemcache::new();
    assert_eq!(ok(&mock, mg("a", "q v k O1")), "EN");
    assert_eq!(ok(&mock, ms("a", "x", "q O1 k")), "HD");
    assert_eq!(ok(&mock, mg("a", "q v")), "VA|x");
    assert_eq!(ok(&mock, md("a", "q")), "HD");
    assert_eq!(ok(&mock, md("a", "q O2")), "NF O2");
    // `ma` that vivifies answers even in quiet mode.
    assert_eq!(ok(&mock, ma("n", "q N0 J5 v")), "VA|5");
    assert_eq!(ok(&mock, ma("n", "q v")), "HD");
    assert_eq!(mock.get_raw(b"n"), Some(("6".into(), 0)));
}

#[test]
fn batches_are_quiet_with_opaque_indexes() {
    let mock = MockMemcache::new();
    let batch = vec![
        ms("a", "x", ""),
        mg("a", "v O99"),
        mg("missing", "v"),
        meta(MetaCommand::Noop, b"", "", None),
        mg("a", "E1"),
        ms("a", "y", "ME k"),
        ma("a", ""),
    ];
    let Response::MetaBatch(replies) = block_on(mock.call(Request::MetaBatch(batch))).unwrap()
    else {
        panic!()
    };
    let shown: Vec<String> = replies
        .iter()
        .map(|reply| match reply {
            None => "-".to_string(),
            Some(Ok(reply)) => text(reply),
            Some(Err(error)) => format!("{error:?}"),
        })
        .collect();
    assert_eq!(
        shown,
        // memcached answers the `E1` error without the opaque: the client
        // cannot tell which of the requests since `O1` it belongs to (the
        // suppressed miss or the `mg a E1`), so both get it.
        vec![
            "-",
            "VA O1|x",
            "Client(\"invalid flag\")",
            "MN",
            "Client(\"invalid flag\")",
            "NS ka O5",
            "Client(\"cannot increment or decrement non-numeric value\")",
        ]
    );
}

#[test]
fn meta_counters_move_as_in_memcached() {
    let mock = MockMemcache::new();
    ok(&mock, ms("a", "1", ""));
    ok(&mock, mg("a", "v"));
    ok(&mock, mg("a", "T30"));
    ok(&mock, mg("b", "v"));
    ok(&mock, mg("c", "N30"));
    ok(&mock, md("b", ""));
    ok(&mock, meta(MetaCommand::Debug, b"a", "", None));
    ok(&mock, ma("a", ""));
    let Response::Lines(lines) = block_on(mock.call(Request::Stats { args: vec![] })).unwrap()
    else {
        panic!()
    };
    let stat = |name: &str| -> String {
        let prefix = format!("STAT {name} ");
        lines
            .iter()
            .map(|l| String::from_utf8_lossy(l).into_owned())
            .find_map(|l| l.strip_prefix(&prefix).map(str::to_string))
            .unwrap()
    };
    assert_eq!(stat("cmd_get"), "3");
    assert_eq!(stat("get_hits"), "2");
    assert_eq!(stat("get_misses"), "1");
    assert_eq!(stat("cmd_touch"), "1");
    assert_eq!(stat("touch_hits"), "1");
    assert_eq!(stat("cmd_set"), "1");
    assert_eq!(stat("delete_misses"), "1");
    assert_eq!(stat("cmd_meta"), "1");
    assert_eq!(stat("incr_hits"), "1");
    assert_eq!(stat("total_items"), "2");
}

#[test]
fn backend_path_answers_as_a_connection_over_the_stream() {
    use memclient::{Connection, RawCommand, RawReply};
    let raw = |line: &str, reply| {
        Request::Raw(RawCommand {
            line: Bytes::copy_from_slice(line.as_bytes()),
            data: None,
            reply,
        })
    };
    let script = vec![
        Request::Meta(ms("a", "1", "T0 F5 c k O1")),
        Request::Meta(mg("a", "s v f t c k O123 h l")),
        Request::Meta(mg("a", "q v k O1")),
        Request::Meta(mg("nope", "q v k O1")),
        Request::Meta(ms("b", "x", "q O1 k")),
        Request::Meta(ma("a", "q v")),
        Request::Meta(ma("n", "q N0 J5 v")),
        Request::Meta(md("b", "q O2")),
        Request::Meta(md("b", "q O2")),
        Request::Meta(mg("a", "E1")),
        Request::Meta(ms("a", "x", "MZ")),
        Request::Meta(ms(&"k".repeat(10), "x", &format!("O{}", "1".repeat(40)))),
        Request::Meta(meta(
            MetaCommand::Set,
            b"\x00bin ary\xff",
            "b k c",
            Some("hi"),
        )),
        Request::Meta(meta(MetaCommand::Get, b"\x00bin ary\xff", "b k v", None)),
        Request::Meta(meta(MetaCommand::Debug, b"\x00bin ary\xff", "b", None)),
        Request::Meta(meta(MetaCommand::Debug, b"a", "", None)),
        Request::Meta(meta(MetaCommand::Noop, b"", "", None)),
        Request::MetaBatch(vec![
            ms("c", "x", ""),
            mg("c", "v O99"),
            mg("missing", "v"),
            meta(MetaCommand::Noop, b"", "", None),
            mg("c", "E1"),
            ms("c", "y", "ME k"),
            ma("c", ""),
        ]),
        Request::Meta(mg("a b", "v")),
        raw("mg a s", RawReply::Line),
        raw("mn", RawReply::Line),
        raw("get a c", RawReply::UntilEnd),
        raw("incr c 1", RawReply::Line),
        raw("bogus", RawReply::Line),
    ];
    let direct = MockMemcache::with_manual_clock();
    let streamed = MockMemcache::with_manual_clock();
    let (connection, driver) = Connection::from_stream(streamed.connect());
    let calls = async {
        for request in script {
            let over_stream = connection.call(request.clone()).await;
            let on_backend = direct.call(request.clone()).await;
            assert_eq!(on_backend, over_stream, "{request:?}");
        }
    };
    block_on(futures_lite::future::or(calls, async {
        driver.await;
        std::future::pending().await
    }));
    assert_eq!(direct.keys(), streamed.keys());
}
