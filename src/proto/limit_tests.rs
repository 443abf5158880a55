//! The size limit of one reply: floods of lines, values and meta replies are
//! refused before the decoder holds more than the limit plus one read.

use bytes::{Bytes, BytesMut};

use super::budget::DEFAULT_MAX_REPLY_LEN;
use super::ResponseDecoder;
use crate::{
    Error, LruCrawler, MetaCommand, MetaFlag, MetaRequest, RawCommand, RawReply, Request, Response,
    Retrieve, RetrieveCommand,
};

/// The size of one read in these tests, as a socket would hand them over.
const READ: usize = 64 * 1024;

/// Feeds `pattern` repeated, one read of [`READ`] bytes at a time, until the
/// decoder gives up or `most` bytes went in. Returns the bytes fed and the
/// decoder's last outcome.
fn flood(
    decoder: &mut ResponseDecoder,
    request: &Request,
    head: &[u8],
    pattern: &[u8],
    most: usize,
) -> (usize, crate::Result<Option<crate::Result<Response>>>) {
    let chunk: Vec<u8> = pattern.iter().copied().cycle().take(READ).collect();
    let mut buf = BytesMut::from(head);
    let mut fed = head.len();
    loop {
        let outcome = decoder.decode(request, &mut buf);
        if !matches!(outcome, Ok(None)) || fed >= most {
            return (fed, outcome);
        }
        // Whole patterns per read, so lines are never cut between reads.
        let whole = READ - READ % pattern.len();
        buf.extend_from_slice(&chunk[..whole]);
        fed += whole;
    }
}

fn assert_refused(
    (fed, outcome): (usize, crate::Result<Option<crate::Result<Response>>>),
    limit: usize,
) {
    match outcome {
        Err(Error::Protocol(message)) => assert!(message.contains("max_reply_len"), "{message}"),
        other => panic!("after {fed} bytes: {other:?}"),
    }
    assert!(
        fed <= limit + READ,
        "fed {fed} bytes for a limit of {limit}"
    );
    // Not refused early either: a line costs its bytes and a `Bytes` (32).
    assert!(
        fed >= limit / 16,
        "refused after {fed} bytes for a limit of {limit}"
    );
}

fn stats() -> Request {
    Request::Stats { args: vec![] }
}

fn get(keys: &[&'static str]) -> Request {
    Request::Retrieve(Retrieve {
        command: RetrieveCommand::Get,
        keys: keys
            .iter()
            .map(|k| Bytes::from_static(k.as_bytes()))
            .collect(),
    })
}

fn mg(key: &'static str) -> MetaRequest {
    MetaRequest {
        command: MetaCommand::Get,
        key: Bytes::from_static(key.as_bytes()),
        flags: vec![MetaFlag::bare(b'v')],
        data: None,
    }
}

#[test]
fn the_default_limit_is_64_mib() {
    assert_eq!(DEFAULT_MAX_REPLY_LEN, 64 << 20);
    assert_eq!(ResponseDecoder::new().max_reply_len(), 64 << 20);
    assert_eq!(ResponseDecoder::with_max_reply_len(10).max_reply_len(), 10);
}

#[test]
fn a_stats_flood_is_refused_at_the_default_limit() {
    let mut decoder = ResponseDecoder::new();
    let outcome = flood(&mut decoder, &stats(), b"", b"STAT a b\r\n", 128 << 20);
    assert_refused(outcome, DEFAULT_MAX_REPLY_LEN);
}

#[test]
fn floods_of_lines_are_refused_at_a_configured_limit() {
    let limit = 1 << 20;
    let metadump = Request::LruCrawler(LruCrawler::Metadump(Bytes::from_static(b"all")));
    let raw = Request::Raw(RawCommand {
        line: Bytes::from_static(b"stats"),
        data: None,
        reply: RawReply::UntilEnd,
    });
    let cases: [(Request, &[u8]); 4] = [
        (stats(), b"STAT a b\r\n"),
        (stats(), b"ITEM k [1 b; 0 s]\r\n"),
        (
            metadump,
            b"key=a exp=-1 la=1 cas=1 fetch=no cls=1 size=63\n",
        ),
        (raw, b"x\r\n"),
    ];
    for (request, pattern) in cases {
        let mut decoder = ResponseDecoder::with_max_reply_len(limit);
        assert_refused(flood(&mut decoder, &request, b"", pattern, 64 << 20), limit);
        // The decoder is fresh for the next connection's replies.
        let mut buf = BytesMut::from(&b"STAT pid 1\r\nEND\r\n"[..]);
        let reply = decoder
            .decode(&stats(), &mut buf)
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(
            reply,
            Response::Lines(vec![Bytes::from_static(b"STAT pid 1")])
        );
    }
}

#[test]
fn the_limit_counts_each_line_and_what_it_costs_decoded() {
    // Each line costs its 10 bytes and one `Bytes` (32 bytes); `END` is free.
    let reply = b"STAT a b\r\nSTAT c d\r\nSTAT e f\r\nEND\r\n";
    let cost = 3 * (10 + std::mem::size_of::<Bytes>());
    let mut buf = BytesMut::from(&reply[..]);
    let decoded = ResponseDecoder::with_max_reply_len(cost).decode(&stats(), &mut buf);
    assert!(matches!(decoded, Ok(Some(Ok(Response::Lines(l)))) if l.len() == 3));
    let mut buf = BytesMut::from(&reply[..]);
    let decoded = ResponseDecoder::with_max_reply_len(cost - 1).decode(&stats(), &mut buf);
    assert!(matches!(decoded, Err(Error::Protocol(_))), "{decoded:?}");
}

#[test]
fn an_endless_line_is_cut_at_the_room_left() {
    // Shorter than the 64 KiB line limit, longer than the reply may be.
    let mut decoder = ResponseDecoder::with_max_reply_len(1000);
    let mut buf = BytesMut::from(&b"STAT a "[..]);
    buf.extend_from_slice(&[b'x'; 992]);
    assert!(matches!(decoder.decode(&stats(), &mut buf), Ok(None)));
    buf.extend_from_slice(b"x");
    assert!(matches!(
        decoder.decode(&stats(), &mut buf),
        Err(Error::Protocol(_))
    ));
    // An endless line to a one-line reply stops at the 8 KiB line limit.
    let mut decoder = ResponseDecoder::new();
    let outcome = flood(&mut decoder, &Request::Version, b"", b"x", 1 << 20);
    assert!(matches!(outcome, (fed, Err(Error::Protocol(_))) if fed <= READ));
}

#[test]
fn hostile_value_lengths_fail_at_their_header() {
    for (request, header) in [
        (get(&["k"]), &b"VALUE k 0 1000000000\r\n"[..]),
        (Request::Meta(mg("k")), b"VA 1000000000\r\n"),
        (Request::MetaBatch(vec![mg("k")]), b"VA 1000000000 O0\r\n"),
    ] {
        let mut buf = BytesMut::from(header);
        match ResponseDecoder::new().decode(&request, &mut buf) {
            Err(Error::Protocol(message)) => {
                assert!(message.contains("max_reply_len"), "{message}")
            }
            other => panic!("{request:?}: {other:?}"),
        }
    }
    // The largest value that fits is read.
    let len = 1000 - b"VALUE k 0 952\r\n".len() - 2 - std::mem::size_of::<crate::Value>();
    let reply = format!("VALUE k 0 {len}\r\n{}\r\nEND\r\n", "v".repeat(len));
    let mut buf = BytesMut::from(reply.as_bytes());
    let decoded = ResponseDecoder::with_max_reply_len(1000).decode(&get(&["k"]), &mut buf);
    assert!(matches!(decoded, Ok(Some(Ok(Response::Values(v)))) if v[0].data.len() == len));
}

#[test]
fn the_values_of_a_multi_get_share_the_limit() {
    let reply = b"VALUE a 0 40\r\n0123456789012345678901234567890123456789\r\n\
                  VALUE b 0 40\r\n0123456789012345678901234567890123456789\r\nEND\r\n";
    let mut buf = BytesMut::from(&reply[..]);
    let decoded = ResponseDecoder::with_max_reply_len(150).decode(&get(&["a", "b"]), &mut buf);
    assert!(matches!(decoded, Err(Error::Protocol(_))), "{decoded:?}");
    let mut buf = BytesMut::from(&reply[..]);
    let decoded = ResponseDecoder::with_max_reply_len(1000).decode(&get(&["a", "b"]), &mut buf);
    assert!(matches!(decoded, Ok(Some(Ok(Response::Values(v)))) if v.len() == 2));
}

#[test]
fn a_meta_batch_flooded_with_lines_without_opaque_fails_at_once() {
    // Three requests can have at most three replies: the fourth `EN`
    // without an opaque is refused, not kept until `MN`.
    let batch = Request::MetaBatch(vec![mg("a"), mg("b"), mg("c")]);
    let (fed, outcome) = flood(
        &mut ResponseDecoder::new(),
        &batch,
        b"",
        b"EN\r\n",
        16 << 20,
    );
    match outcome {
        Err(Error::Protocol(message)) => {
            assert!(message.contains("without an opaque"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    assert!(fed <= READ, "{fed}");
    // After the first reply names request 1, only one line may be unnamed.
    let mut buf = BytesMut::from(&b"EN\r\nHD O1\r\nEN\r\n"[..]);
    let outcome = ResponseDecoder::new().decode(&batch, &mut buf);
    assert!(matches!(outcome, Ok(None)), "{outcome:?}");
    let mut buf = BytesMut::from(&b"EN\r\nHD O1\r\nEN\r\nEN\r\n"[..]);
    let outcome = ResponseDecoder::new().decode(&batch, &mut buf);
    assert!(matches!(outcome, Err(Error::Protocol(_))), "{outcome:?}");
}

#[test]
fn a_meta_batch_of_values_is_held_to_the_limit() {
    let requests: Vec<MetaRequest> = (0..10_000).map(|_| mg("k")).collect();
    let batch = Request::MetaBatch(requests);
    let limit = 1 << 20;
    let mut buf = BytesMut::new();
    let mut fed = 0;
    let mut decoder = ResponseDecoder::with_max_reply_len(limit);
    for i in 0..10_000 {
        let reply = format!("VA 200 O{i}\r\n{}\r\n", "v".repeat(200));
        buf.extend_from_slice(reply.as_bytes());
        fed += reply.len();
        match decoder.decode(&batch, &mut buf) {
            Ok(None) => assert!(fed <= limit + 256, "still waiting after {fed} bytes"),
            Err(Error::Protocol(message)) => {
                assert!(message.contains("max_reply_len"), "{message}");
                assert!(fed > limit / 2, "refused early, after {fed} bytes");
                return;
            }
            other => panic!("{other:?}"),
        }
    }
    panic!("never refused");
}
