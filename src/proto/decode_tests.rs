//! Tests of the client-side reply decoder: every reply shape, split at any byte.

use quickcheck::{Arbitrary, Gen, QuickCheck};

use bytes::{Bytes, BytesMut};

use super::line::{LINE_LIMIT, LONG_LINE_LIMIT};
use super::ResponseDecoder;
use crate::{
    Error, LruCrawler, RawCommand, RawReply, Request, Response, Retrieve, RetrieveCommand, Store,
    StoreCommand, Value,
};

/// One decode outcome, comparable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Out {
    Reply(Response),
    ErrorReply(String),
    Protocol,
}

fn retrieve(command: RetrieveCommand, keys: &[&'static str]) -> Request {
    Request::Retrieve(Retrieve {
        command,
        keys: keys
            .iter()
            .map(|k| Bytes::from_static(k.as_bytes()))
            .collect(),
    })
}

fn get(keys: &[&'static str]) -> Request {
    retrieve(RetrieveCommand::Get, keys)
}

fn gets(keys: &[&'static str]) -> Request {
    retrieve(RetrieveCommand::Gets, keys)
}

fn set() -> Request {
    Request::Store(Store {
        command: StoreCommand::Set,
        key: Bytes::from_static(b"a"),
        flags: 0,
        exptime: 0,
        value: Bytes::from_static(b"x"),
        noreply: false,
    })
}

fn delete() -> Request {
    Request::Delete {
        key: Bytes::from_static(b"a"),
        noreply: false,
    }
}

fn touch() -> Request {
    Request::Touch {
        key: Bytes::from_static(b"a"),
        exptime: 10,
        noreply: false,
    }
}

fn incr() -> Request {
    Request::Arith {
        op: crate::ArithOp::Incr,
        key: Bytes::from_static(b"a"),
        delta: 1,
        noreply: false,
    }
}

fn stats() -> Request {
    Request::Stats { args: vec![] }
}

fn metadump() -> Request {
    Request::LruCrawler(LruCrawler::Metadump(Bytes::from_static(b"all")))
}

fn raw(reply: RawReply) -> Request {
    Request::Raw(RawCommand {
        line: Bytes::from_static(b"mn"),
        data: None,
        reply,
    })
}

fn admin_requests() -> Vec<Request> {
    vec![
        Request::FlushAll {
            delay: None,
            noreply: false,
        },
        Request::Verbosity {
            level: 1,
            noreply: false,
        },
        Request::CacheMemlimit {
            megabytes: 2,
            noreply: false,
        },
        Request::SlabsReassign { source: 1, dest: 2 },
        Request::SlabsAutomove { mode: 1 },
        Request::LruCrawler(LruCrawler::Enable),
        Request::LruCrawler(LruCrawler::Disable),
        Request::LruCrawler(LruCrawler::Sleep(100)),
        Request::LruCrawler(LruCrawler::ToCrawl(100)),
        Request::LruCrawler(LruCrawler::Crawl(Bytes::from_static(b"all"))),
    ]
}

fn value(key: &'static str, flags: u32, cas: Option<u64>, data: &'static [u8]) -> Value {
    Value {
        key: Bytes::from_static(key.as_bytes()),
        flags,
        cas,
        data: Bytes::from_static(data),
    }
}

fn lines(lines: &[&'static [u8]]) -> Response {
    Response::Lines(lines.iter().map(|l| Bytes::from_static(l)).collect())
}

/// Feeds `chunks` one after the other, decoding the replies to `requests`
/// in order as far as they go. Returns the outcomes and what is left.
pub(crate) fn feed<'a>(
    decoder: &mut ResponseDecoder,
    requests: &[Request],
    chunks: impl IntoIterator<Item = &'a [u8]>,
) -> (Vec<Out>, BytesMut) {
    let mut buf = BytesMut::new();
    let mut outs = Vec::new();
    let mut next = 0;
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        while next < requests.len() {
            let before = buf.len();
            match decoder.decode(&requests[next], &mut buf) {
                Ok(None) => break,
                Ok(Some(reply)) => {
                    assert!(buf.len() < before, "a reply must consume bytes");
                    outs.push(match reply {
                        Ok(response) => Out::Reply(response),
                        Err(error) => {
                            assert!(error.is_server_reply(), "{error:?}");
                            Out::ErrorReply(format!("{error:?}"))
                        }
                    });
                    next += 1;
                }
                Err(error) => {
                    assert!(matches!(error, Error::Protocol(_)), "{error:?}");
                    outs.push(Out::Protocol);
                    return (outs, buf);
                }
            }
        }
    }
    (outs, buf)
}

pub(crate) fn one_shot(requests: &[Request], bytes: &[u8]) -> (Vec<Out>, BytesMut) {
    feed(&mut ResponseDecoder::new(), requests, [bytes])
}

/// Decodes `bytes` one-shot, one byte at a time, and in two chunks split
/// at every position: all must give `expected` and leave `tail`.
pub(crate) fn check_splits(requests: &[Request], bytes: &[u8], expected: &[Out], tail: &[u8]) {
    let check = |how: &str, (outs, rest): (Vec<Out>, BytesMut)| {
        assert_eq!(
            outs,
            expected,
            "{how}: {:?}",
            bytes.escape_ascii().to_string()
        );
        if expected.last() != Some(&Out::Protocol) {
            assert_eq!(&rest[..], tail, "{how}: what is left");
        }
    };
    check("one shot", one_shot(requests, bytes));
    check(
        "byte by byte",
        feed(&mut ResponseDecoder::new(), requests, bytes.chunks(1)),
    );
    for at in 0..=bytes.len() {
        let (head, rest) = bytes.split_at(at);
        check(
            &format!("split at {at}"),
            feed(&mut ResponseDecoder::new(), requests, [head, rest]),
        );
    }
}

/// The outcome of decoding `bytes` as the whole reply to `request`.
pub(crate) fn decode_one(request: Request, bytes: &[u8]) -> Out {
    let (mut outs, rest) = one_shot(std::slice::from_ref(&request), bytes);
    assert_eq!(
        outs.len(),
        1,
        "{request:?} {:?}",
        bytes.escape_ascii().to_string()
    );
    let out = outs.remove(0);
    if out != Out::Protocol {
        assert!(rest.is_empty(), "left over: {rest:?}");
    }
    out
}

fn reply(response: Response) -> Out {
    Out::Reply(response)
}

fn unknown(message: &str) -> Out {
    Out::ErrorReply(format!("{:?}", Error::UnknownCommand(message.into())))
}

pub(crate) fn client(message: &str) -> Out {
    Out::ErrorReply(format!("{:?}", Error::Client(message.into())))
}

fn server(message: &str) -> Out {
    Out::ErrorReply(format!("{:?}", Error::Server(message.into())))
}

#[test]
fn retrieval_replies() {
    assert_eq!(
        decode_one(get(&["a"]), b"END\r\n"),
        reply(Response::Values(vec![]))
    );
    assert_eq!(
        decode_one(
            get(&["a", "b"]),
            b"VALUE a 5 3\r\nabc\r\nVALUE b 0 0\r\n\r\nEND\r\n"
        ),
        reply(Response::Values(vec![
            value("a", 5, None, b"abc"),
            value("b", 0, None, b"")
        ]))
    );
    assert_eq!(
        decode_one(
            gets(&["a", "b", "a"]),
            b"VALUE a 5 3 1\r\nabc\r\nVALUE a 5 3 1\r\nabc\r\nEND\r\n"
        ),
        reply(Response::Values(vec![
            value("a", 5, Some(1), b"abc"),
            value("a", 5, Some(1), b"abc")
        ]))
    );
    assert_eq!(
        decode_one(
            retrieve(RetrieveCommand::Gat { exptime: 1 }, &["a"]),
            b"VALUE a 4294967295 1\r\nx\r\nEND\r\n"
        ),
        reply(Response::Values(vec![value("a", u32::MAX, None, b"x")]))
    );
    assert_eq!(
        decode_one(
            retrieve(RetrieveCommand::Gats { exptime: 1 }, &["a"]),
            b"VALUE a 0 1 18446744073709551615\r\nx\r\nEND\r\n"
        ),
        reply(Response::Values(vec![value("a", 0, Some(u64::MAX), b"x")]))
    );
}

#[test]
fn single_line_replies() {
    for (text, response) in [
        (&b"STORED\r\n"[..], Response::Stored),
        (b"NOT_STORED\r\n", Response::NotStored),
        (b"EXISTS\r\n", Response::Exists),
        (b"NOT_FOUND\r\n", Response::NotFound),
    ] {
        assert_eq!(decode_one(set(), text), reply(response));
    }
    assert_eq!(
        decode_one(delete(), b"DELETED\r\n"),
        reply(Response::Deleted)
    );
    assert_eq!(
        decode_one(delete(), b"NOT_FOUND\r\n"),
        reply(Response::NotFound)
    );
    assert_eq!(
        decode_one(touch(), b"TOUCHED\r\n"),
        reply(Response::Touched)
    );
    assert_eq!(
        decode_one(touch(), b"NOT_FOUND\r\n"),
        reply(Response::NotFound)
    );
    assert_eq!(decode_one(incr(), b"0\r\n"), reply(Response::Number(0)));
    assert_eq!(
        decode_one(incr(), b"18446744073709551615\r\n"),
        reply(Response::Number(u64::MAX))
    );
    assert_eq!(
        decode_one(incr(), b"NOT_FOUND\r\n"),
        reply(Response::NotFound)
    );
    assert_eq!(
        decode_one(Request::Version, b"VERSION 1.6.18\r\n"),
        reply(Response::Version(Bytes::from_static(b"1.6.18")))
    );
    assert_eq!(
        decode_one(raw(RawReply::Line), b"HD\r\n"),
        reply(Response::Line(Bytes::from_static(b"HD")))
    );
    assert_eq!(
        decode_one(raw(RawReply::Line), b"\r\n"),
        reply(Response::Line(Bytes::new()))
    );
    for request in admin_requests() {
        assert_eq!(decode_one(request, b"OK\r\n"), reply(Response::Ok));
    }
}

#[test]
fn admin_failure_lines_are_server_errors() {
    for (request, text, message) in [
        (
            Request::SlabsReassign { source: 1, dest: 2 },
            &b"NOSPARE source class has no spare pages\r\n"[..],
            "NOSPARE source class has no spare pages",
        ),
        (
            Request::SlabsReassign {
                source: 99,
                dest: 1,
            },
            b"BADCLASS invalid src or dst class id\r\n",
            "BADCLASS invalid src or dst class id",
        ),
        (
            Request::CacheMemlimit {
                megabytes: 2,
                noreply: false,
            },
            b"MEMLIMIT_TOO_SMALL cannot set maxbytes to less than 8m\r\n",
            "MEMLIMIT_TOO_SMALL cannot set maxbytes to less than 8m",
        ),
        (
            Request::LruCrawler(LruCrawler::Crawl(Bytes::from_static(b"99"))),
            b"BADCLASS invalid class id\r\n",
            "BADCLASS invalid class id",
        ),
        (Request::SlabsAutomove { mode: 1 }, b"BUSY\r\n", "BUSY"),
    ] {
        assert_eq!(decode_one(request, text), server(message));
    }
    // A refused metadump is one failure line, not a dump.
    assert_eq!(
        decode_one(metadump(), b"BADCLASS invalid class id\r\n"),
        server("BADCLASS invalid class id")
    );
    // Well-formed replies of other commands are not failures but a desync.
    for text in [
        &b"STORED\r\n"[..],
        b"END\r\n",
        b"VALUE a 0 1\r\n",
        b"12\r\n",
        b"ok\r\n",
    ] {
        assert_eq!(
            decode_one(Request::SlabsAutomove { mode: 1 }, text),
            Out::Protocol
        );
    }
}

#[test]
fn error_lines_answer_any_request() {
    let mut requests = vec![
        get(&["a"]),
        gets(&["a"]),
        set(),
        delete(),
        touch(),
        incr(),
        stats(),
        metadump(),
        Request::Version,
        raw(RawReply::Line),
        raw(RawReply::UntilEnd),
    ];
    requests.extend(admin_requests());
    for request in requests {
        assert_eq!(decode_one(request.clone(), b"ERROR\r\n"), unknown(""));
        assert_eq!(
            decode_one(request.clone(), b"ERROR: shutdown not enabled\r\n"),
            unknown("shutdown not enabled")
        );
        assert_eq!(
            decode_one(
                request.clone(),
                b"ERROR failed to start lru crawler thread\r\n"
            ),
            unknown("failed to start lru crawler thread")
        );
        assert_eq!(
            decode_one(request.clone(), b"CLIENT_ERROR bad command line format\r\n"),
            client("bad command line format")
        );
        assert_eq!(
            decode_one(
                request.clone(),
                b"SERVER_ERROR out of memory storing object\r\n"
            ),
            server("out of memory storing object")
        );
    }
    // After some values, an error line still ends the reply.
    assert_eq!(
        decode_one(
            get(&["a", "b"]),
            b"VALUE a 0 1\r\nx\r\nSERVER_ERROR out of memory\r\n"
        ),
        server("out of memory")
    );
}

#[test]
fn multi_line_replies() {
    assert_eq!(
        decode_one(stats(), b"STAT pid 1\r\nSTAT version 1.6.18\r\nEND\r\n"),
        reply(lines(&[b"STAT pid 1", b"STAT version 1.6.18"]))
    );
    assert_eq!(decode_one(stats(), b"END\r\n"), reply(lines(&[])));
    assert_eq!(
        decode_one(stats(), b"ITEM a [3 b; 0 s]\r\nEND\r\n"),
        reply(lines(&[b"ITEM a [3 b; 0 s]"]))
    );
    assert_eq!(
        decode_one(stats(), b"PREFIX a get 1 hit 1 set 0 del 0\r\nEND\r\n"),
        reply(lines(&[b"PREFIX a get 1 hit 1 set 0 del 0"]))
    );
    // `stats reset` and `stats detail on|off` answer one line.
    assert_eq!(decode_one(stats(), b"RESET\r\n"), reply(Response::Ok));
    assert_eq!(decode_one(stats(), b"OK\r\n"), reply(Response::Ok));
    assert_eq!(
        decode_one(
            metadump(),
            b"key=a exp=-1 la=1 cas=1 fetch=yes cls=1 size=67\nkey=b exp=-1 la=1 cas=2 fetch=no cls=1 size=67\nEND\r\n"
        ),
        reply(lines(&[
            b"key=a exp=-1 la=1 cas=1 fetch=yes cls=1 size=67",
            b"key=b exp=-1 la=1 cas=2 fetch=no cls=1 size=67"
        ]))
    );
    assert_eq!(decode_one(metadump(), b"END\r\n"), reply(lines(&[])));
    assert_eq!(
        decode_one(raw(RawReply::UntilEnd), b"anything at all\r\nEN\r\nEND\r\n"),
        reply(lines(&[b"anything at all", b"EN"]))
    );
}

#[test]
fn no_reply_requests_decode_to_no_reply_without_consuming() {
    let mut buf = BytesMut::from(&b"STORED\r\n"[..]);
    let mut decoder = ResponseDecoder::new();
    for request in [
        Request::Quit,
        raw(RawReply::None),
        Request::Delete {
            key: Bytes::from_static(b"a"),
            noreply: true,
        },
    ] {
        assert!(matches!(
            decoder.decode(&request, &mut buf),
            Ok(Some(Ok(Response::NoReply)))
        ));
    }
    assert_eq!(&buf[..], b"STORED\r\n");
}

#[test]
fn protocol_violations() {
    let cases: Vec<(Request, &[u8])> = vec![
        // Garbage and unexpected reply kinds.
        (get(&["a"]), b"HELLO\r\n"),
        (get(&["a"]), b"STORED\r\n"),
        (set(), b"DELETED\r\n"),
        (set(), b"VALUE a 0 1\r\n"),
        (delete(), b"STORED\r\n"),
        (touch(), b"DELETED\r\n"),
        (incr(), b"STORED\r\n"),
        (Request::Version, b"OK\r\n"),
        (Request::Version, b"VERSION\r\n"),
        (stats(), b"STORED\r\n"),
        (stats(), b"STAT a 1\r\nVALUE a 0 1\r\n"),
        (set(), b"\r\n"),
        (set(), b"\x00\xff\r\n"),
        (metadump(), b"STORED\r\n"),
        // Bad numbers.
        (incr(), b"18446744073709551616\r\n"),
        (incr(), b"-1\r\n"),
        (incr(), b"12 \r\n"),
        (incr(), b"0x10\r\n"),
        (get(&["a"]), b"VALUE a x 1\r\nx\r\nEND\r\n"),
        (get(&["a"]), b"VALUE a 4294967296 1\r\nx\r\nEND\r\n"),
        (get(&["a"]), b"VALUE a 0 -1\r\nEND\r\n"),
        (get(&["a"]), b"VALUE a 0 99999999999999999999\r\n"),
        (gets(&["a"]), b"VALUE a 0 1 x\r\nx\r\nEND\r\n"),
        // Malformed VALUE lines.
        (get(&["a"]), b"VALUE a 0\r\n"),
        (get(&["a"]), b"VALUE a  0 1\r\n"),
        (get(&["a"]), b"VALUE a 0 1 \r\n"),
        (get(&["a"]), b"VALUE \r\n"),
        (gets(&["a"]), b"VALUE a 0 1 2 3\r\n"),
        // cas missing on gets, present on get.
        (gets(&["a"]), b"VALUE a 0 1\r\nx\r\nEND\r\n"),
        (
            retrieve(RetrieveCommand::Gats { exptime: 0 }, &["a"]),
            b"VALUE a 0 1\r\n",
        ),
        (get(&["a"]), b"VALUE a 0 1 5\r\nx\r\nEND\r\n"),
        (
            retrieve(RetrieveCommand::Gat { exptime: 0 }, &["a"]),
            b"VALUE a 0 1 5\r\n",
        ),
        // Data block without its \r\n.
        (get(&["a"]), b"VALUE a 0 1\r\nxy\r\nEND\r\n"),
        (get(&["a"]), b"VALUE a 0 3\r\nx\r\nEND\r\n"),
        (get(&["a"]), b"VALUE a 0 1\r\nx\nEND\r\n"),
        // Keys not requested, or out of order.
        (get(&["a"]), b"VALUE b 0 1\r\nx\r\nEND\r\n"),
        (
            get(&["a", "b"]),
            b"VALUE b 0 1\r\nx\r\nVALUE a 0 1\r\ny\r\nEND\r\n",
        ),
        (
            get(&["a"]),
            b"VALUE a 0 1\r\nx\r\nVALUE a 0 1\r\nx\r\nEND\r\n",
        ),
        (get(&["ab"]), b"VALUE a 0 1\r\nx\r\nEND\r\n"),
        // A bare \n where memcached sends \r\n.
        (set(), b"STORED\n"),
        (get(&["a"]), b"END\n"),
        (get(&["a"]), b"VALUE a 0 1\nx\r\nEND\r\n"),
        (stats(), b"STAT a 1\nEND\r\n"),
        (raw(RawReply::Line), b"HD\n"),
        (raw(RawReply::UntilEnd), b"x\nEND\r\n"),
    ];
    for (request, bytes) in cases {
        let (outs, _) = one_shot(std::slice::from_ref(&request), bytes);
        assert_eq!(
            outs,
            [Out::Protocol],
            "{request:?} {:?}",
            bytes.escape_ascii().to_string()
        );
        check_splits(&[request], bytes, &[Out::Protocol], b"");
    }
}

#[test]
fn lines_longer_than_the_limit_are_protocol_errors() {
    let long = |len: usize, end: &[u8]| [vec![b'S'; len - end.len()], end.to_vec()].concat();
    // An 8 KiB line without `\n` is too long for a single-line reply or a VALUE header...
    for request in [set(), get(&["a"]), incr(), Request::Version] {
        let (outs, _) = one_shot(std::slice::from_ref(&request), &long(LINE_LIMIT, b""));
        assert_eq!(outs, [Out::Protocol], "{request:?}");
        let (outs, _) = one_shot(&[request], &long(LINE_LIMIT - 1, b""));
        assert!(outs.is_empty(), "still waiting");
    }
    // ...but not for stats, metadump or raw lines, which may be up to 64 KiB.
    let mut stat_line = b"STAT x ".to_vec();
    stat_line.extend(long(LINE_LIMIT * 2, b"\r\n"));
    let reply_bytes = [&stat_line[..], b"END\r\n"].concat();
    let (outs, rest) = one_shot(&[stats()], &reply_bytes);
    assert!(matches!(&outs[..], [Out::Reply(Response::Lines(l))] if l.len() == 1));
    assert!(rest.is_empty());
    let (outs, _) = one_shot(&[raw(RawReply::Line)], &long(LONG_LINE_LIMIT, b"\r\n"));
    assert!(matches!(&outs[..], [Out::Reply(Response::Line(_))]));
    for request in [
        stats(),
        metadump(),
        raw(RawReply::Line),
        raw(RawReply::UntilEnd),
    ] {
        let (outs, _) = one_shot(
            std::slice::from_ref(&request),
            &long(LONG_LINE_LIMIT + 1, b"\r\n"),
        );
        assert_eq!(outs, [Out::Protocol], "{request:?}");
    }
    // Byte by byte, the error comes as soon as the limit is passed.
    let mut decoder = ResponseDecoder::new();
    let mut buf = BytesMut::new();
    for n in 1..=LINE_LIMIT {
        buf.extend_from_slice(b"x");
        let outcome = decoder.decode(&set(), &mut buf);
        if n < LINE_LIMIT {
            assert!(matches!(outcome, Ok(None)));
        } else {
            assert!(matches!(outcome, Err(Error::Protocol(_))));
        }
    }
}

#[test]
fn values_larger_than_the_limit_are_protocol_errors() {
    let mut decoder = ResponseDecoder::with_max_reply_len(200);
    let mut buf = BytesMut::from(&b"VALUE a 0 200\r\n"[..]);
    let error = decoder.decode(&get(&["a"]), &mut buf).unwrap_err();
    assert!(error.to_string().contains("max_reply_len"), "{error}");

    let mut buf = BytesMut::from(&b"VALUE a 0 10\r\n0123456789\r\nEND\r\n"[..]);
    let outcome = decoder
        .decode(&get(&["a"]), &mut buf)
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        outcome,
        Response::Values(vec![value("a", 0, None, b"0123456789")])
    );

    let mut buf = BytesMut::from(&b"VALUE a 0 18446744073709551615\r\n"[..]);
    let error = ResponseDecoder::with_max_reply_len(usize::MAX)
        .decode(&get(&["a"]), &mut buf)
        .unwrap_err();
    assert!(matches!(error, Error::Protocol(_)));

    let mut buf = BytesMut::from(&b"VALUE a 0 67108864\r\n"[..]);
    let error = ResponseDecoder::new()
        .decode(&get(&["a"]), &mut buf)
        .unwrap_err();
    assert!(matches!(error, Error::Protocol(_)));
}

#[test]
fn keeps_progress_between_calls() {
    let mut decoder = ResponseDecoder::new();
    let request = get(&["a", "b"]);
    let mut buf = BytesMut::from(&b"VALUE a 0 1\r\nx\r\nVAL"[..]);
    assert!(matches!(decoder.decode(&request, &mut buf), Ok(None)));
    // The first value is parsed and held; only the partial line is left.
    assert_eq!(&buf[..], b"VAL");
    buf.extend_from_slice(b"UE b 0 2\r\ny");
    assert!(matches!(decoder.decode(&request, &mut buf), Ok(None)));
    // The header is consumed; the data block waits until whole.
    assert_eq!(&buf[..], b"y");
    buf.extend_from_slice(b"z\r\nEND\r\nSTORED\r\n");
    let response = decoder
        .decode(&request, &mut buf)
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        response,
        Response::Values(vec![value("a", 0, None, b"x"), value("b", 0, None, b"yz")])
    );
    assert_eq!(&buf[..], b"STORED\r\n");
    // The decoder is fresh for the next request.
    assert_eq!(
        decoder.decode(&set(), &mut buf).unwrap().unwrap().unwrap(),
        Response::Stored
    );
    assert!(buf.is_empty());
}

#[test]
fn data_blocks_are_slices_of_the_read_buffer_and_keys_the_requests_own() {
    let mut buf = BytesMut::from(&b"VALUE a 0 5\r\nhello\r\nVALUE b 0 3\r\nEND\r\nEND\r\n"[..]);
    let start = buf.as_ptr() as usize;
    let range = start..start + buf.len();
    let request = get(&["a", "b"]);
    let response = ResponseDecoder::new()
        .decode(&request, &mut buf)
        .unwrap()
        .unwrap()
        .unwrap();
    let Response::Values(values) = response else {
        panic!("{response:?}")
    };
    assert_eq!(values.len(), 2);
    assert_eq!(&values[1].data[..], b"END");
    for (value, key) in values.iter().zip(request.keys()) {
        let data = value.data.as_ptr() as usize;
        assert!(range.contains(&data), "data copied out of the buffer");
        assert!(range.contains(&(data + value.data.len() - 1)));
        assert_eq!(value.key.as_ptr(), key.as_ptr(), "key copied");
    }
}

#[test]
fn a_large_block_gets_its_room_when_its_header_arrives() {
    let mut buf = BytesMut::from(&b"VALUE a 0 300000\r\nxyz"[..]);
    let mut decoder = ResponseDecoder::new();
    let request = get(&["a"]);
    assert!(decoder.decode(&request, &mut buf).unwrap().is_none());
    // The rest of the block and its trailer fit without the buffer growing
    // again (each growth would copy what came so far).
    assert!(buf.capacity() >= 300_002, "{}", buf.capacity());
    let before = buf.as_ptr();
    buf.extend_from_slice(&vec![b'x'; 300_000 - 3]);
    buf.extend_from_slice(b"\r\n");
    assert_eq!(buf.as_ptr(), before, "the buffer moved");
    buf.extend_from_slice(b"END\r\n");
    let reply = decoder
        .decode(&request, &mut buf)
        .unwrap()
        .unwrap()
        .unwrap();
    let Response::Values(values) = reply else {
        panic!("{reply:?}")
    };
    assert_eq!(values[0].data.len(), 300_000);
    // A length the limit allows but no memory should be taken for up front:
    // at most 1 MiB is reserved ahead of the bytes.
    let mut decoder = ResponseDecoder::with_max_reply_len(usize::MAX);
    let mut buf = BytesMut::from(&b"VALUE a 0 1000000000000\r\n"[..]);
    assert!(decoder.decode(&request, &mut buf).unwrap().is_none());
    assert!(buf.capacity() <= 2 << 20, "{}", buf.capacity());
}

#[test]
fn replies_split_anywhere_decode_the_same() {
    let tricky = b"VALUE a 1 13\r\nEND\r\nVALUE a \r\nVALUE b 2 0\r\n\r\nVALUE c 3 7\r\nx\r\ny\r\nz\r\nEND\r\n";
    let tricky_values = Response::Values(vec![
        value("a", 1, None, b"END\r\nVALUE a "),
        value("b", 2, None, b""),
        value("c", 3, None, b"x\r\ny\r\nz"),
    ]);
    let stats_reply = b"STAT pid 1\r\nSTAT version 1.6.18\r\nEND\r\n";
    let stats_lines = lines(&[b"STAT pid 1", b"STAT version 1.6.18"]);
    let metadump_reply = b"key=a exp=-1 la=1 cas=1 fetch=yes cls=1 size=67\nkey=b exp=-1\nEND\r\n";
    let metadump_lines = lines(&[
        b"key=a exp=-1 la=1 cas=1 fetch=yes cls=1 size=67",
        b"key=b exp=-1",
    ]);
    let gets_reply = b"VALUE a 0 2 10\r\n\r\n\r\nVALUE a 0 1 11\r\n\n\r\nEND\r\n";
    let gets_values = Response::Values(vec![
        value("a", 0, Some(10), b"\r\n"),
        value("a", 0, Some(11), b"\n"),
    ]);
    let get_abc = get(&["a", "b", "c"]);

    let cases: Vec<(Vec<Request>, Vec<u8>, Vec<Out>)> = vec![
        (
            vec![get_abc.clone(), get_abc.clone()],
            [&tricky[..], tricky].concat(),
            vec![reply(tricky_values.clone()), reply(tricky_values.clone())],
        ),
        (
            vec![get_abc.clone(), stats()],
            [&tricky[..], stats_reply].concat(),
            vec![reply(tricky_values.clone()), reply(stats_lines.clone())],
        ),
        (
            vec![gets(&["a", "a"]), metadump()],
            [&gets_reply[..], metadump_reply].concat(),
            vec![reply(gets_values), reply(metadump_lines.clone())],
        ),
        (
            vec![metadump(), metadump()],
            [
                &metadump_reply[..],
                b"BUSY currently processing crawler request\r\n",
            ]
            .concat(),
            vec![
                reply(metadump_lines),
                server("BUSY currently processing crawler request"),
            ],
        ),
        (
            vec![get_abc.clone(), set()],
            b"ERROR: shutdown not enabled\r\nSTORED\r\n".to_vec(),
            vec![unknown("shutdown not enabled"), reply(Response::Stored)],
        ),
        (
            vec![get_abc.clone(), incr()],
            b"VALUE a 0 1\r\nx\r\nCLIENT_ERROR bad data chunk\r\n42\r\n".to_vec(),
            vec![client("bad data chunk"), reply(Response::Number(42))],
        ),
        (
            vec![stats(), Request::Version],
            b"SERVER_ERROR out of memory\r\nVERSION 1.6.18\r\n".to_vec(),
            vec![
                server("out of memory"),
                reply(Response::Version(Bytes::from_static(b"1.6.18"))),
            ],
        ),
        (
            vec![
                Request::SlabsReassign { source: 1, dest: 2 },
                raw(RawReply::Line),
            ],
            b"NOSPARE source class has no spare pages\r\nEN\r\n".to_vec(),
            vec![
                server("NOSPARE source class has no spare pages"),
                reply(Response::Line(Bytes::from_static(b"EN"))),
            ],
        ),
    ];
    for (requests, bytes, expected) in cases {
        // Pipelined: a partial third reply must be left in the buffer.
        let with_tail = [&bytes[..], b"VALUE a"].concat();
        check_splits(&requests, &with_tail, &expected, b"VALUE a");
    }
}

/// A request the soup is decoded as, and the bytes: protocol tokens and
/// noise, cut into chunks at arbitrary points.
#[derive(Debug, Clone)]
struct Soup {
    request: usize,
    bytes: Vec<u8>,
    cuts: Vec<usize>,
}

fn soup_requests() -> Vec<Request> {
    let mut requests = vec![
        get(&["a", "b"]),
        gets(&["a", "b", "a"]),
        set(),
        delete(),
        touch(),
        incr(),
        stats(),
        metadump(),
        Request::Version,
        raw(RawReply::Line),
        raw(RawReply::UntilEnd),
    ];
    requests.extend(admin_requests().into_iter().take(2));
    let mg = |flags: &[u8]| crate::MetaRequest {
        command: crate::MetaCommand::Get,
        key: Bytes::from_static(b"a"),
        flags: flags.iter().map(|&f| crate::MetaFlag::bare(f)).collect(),
        data: None,
    };
    requests.push(Request::Meta(mg(b"v")));
    requests.push(Request::Meta(mg(b"vq")));
    requests.push(Request::MetaBatch(vec![mg(b"v"), mg(b"bk"), mg(b"v")]));
    requests
}

impl Arbitrary for Soup {
    fn arbitrary(g: &mut Gen) -> Self {
        const TOKENS: &[&[u8]] = &[
            b"VALUE a 0 3\r\n",
            b"VALUE b 1 0 5\r\n",
            b"VALUE a 0 3 9\r\n",
            b"VALUE c 0 1\r\n",
            b"VALUE a 0 9999999999\r\n",
            b"abc",
            b"\r\n",
            b"\n",
            b"\r",
            b" ",
            b"0",
            b"END\r\n",
            b"STORED\r\n",
            b"NOT_FOUND\r\n",
            b"DELETED\r\n",
            b"TOUCHED\r\n",
            b"OK\r\n",
            b"RESET\r\n",
            b"42\r\n",
            b"VERSION 1.6\r\n",
            b"STAT pid 1\r\n",
            b"key=a exp=-1\n",
            b"ERROR\r\n",
            b"ERROR: nope\r\n",
            b"CLIENT_ERROR x\r\n",
            b"SERVER_ERROR y\r\n",
            b"BUSY z\r\n",
            b"VA 3 O0\r\n",
            b"VA 1 c5 O2\r\n",
            b"HD O1 kYQ==\r\n",
            b"EN\r\n",
            b"MN\r\n",
            b"NS\r\n",
            b"ME a exp=-1\r\n",
        ];
        let mut bytes = Vec::new();
        for _ in 0..usize::arbitrary(g) % 24 {
            if bool::arbitrary(g) && bool::arbitrary(g) {
                bytes.push(u8::arbitrary(g));
            } else {
                bytes.extend_from_slice(g.choose(TOKENS).unwrap());
            }
        }
        let cuts = (0..usize::arbitrary(g) % 6)
            .map(|_| usize::arbitrary(g) % (bytes.len() + 1))
            .collect();
        Soup {
            request: usize::arbitrary(g) % soup_requests().len(),
            bytes,
            cuts,
        }
    }

    fn shrink(&self) -> Box<dyn Iterator<Item = Self>> {
        let this = self.clone();
        Box::new(self.bytes.shrink().map(move |bytes| Soup {
            bytes,
            cuts: vec![],
            ..this.clone()
        }))
    }
}

fn soup_decodes_the_same_in_any_chunks(soup: Soup) -> bool {
    let requests = vec![soup_requests()[soup.request].clone(); soup.bytes.len() + 1];
    let whole = one_shot(&requests, &soup.bytes);
    let mut cuts = soup.cuts.clone();
    cuts.sort_unstable();
    cuts.dedup();
    let mut chunks = Vec::new();
    let mut from = 0;
    for cut in cuts {
        chunks.push(&soup.bytes[from..cut]);
        from = cut;
    }
    chunks.push(&soup.bytes[from..]);
    let cut = feed(&mut ResponseDecoder::new(), &requests, chunks);
    let bytewise = feed(&mut ResponseDecoder::new(), &requests, soup.bytes.chunks(1));
    let same = |(outs, rest): &(Vec<Out>, BytesMut)| {
        *outs == whole.0 && (outs.last() == Some(&Out::Protocol) || *rest == whole.1)
    };
    same(&cut) && same(&bytewise)
}

#[test]
fn random_soup_never_panics_and_decodes_the_same_in_any_chunks() {
    QuickCheck::new()
        .tests(3000)
        .quickcheck(soup_decodes_the_same_in_any_chunks as fn(Soup) -> bool);
}
