//! The meta codec: encoding, and decoding split at every byte.

use bytes::{Bytes, BytesMut};

use super::decode_tests::{check_splits, client, decode_one, one_shot, Out};
use super::{encode_request, ResponseDecoder};
use crate::{
    Error, MetaCommand, MetaFlag, MetaRequest, MetaResponse, MetaStatus, Request, Response,
};

fn flag(text: &str) -> MetaFlag {
    let bytes = text.as_bytes();
    if bytes.len() == 1 {
        MetaFlag::bare(bytes[0])
    } else {
        MetaFlag::with(bytes[0], Bytes::copy_from_slice(&bytes[1..]))
    }
}

fn meta(command: MetaCommand, key: &[u8], flags: &str) -> MetaRequest {
    MetaRequest {
        command,
        key: Bytes::copy_from_slice(key),
        flags: flags.split_whitespace().map(flag).collect(),
        data: (command == MetaCommand::Set).then(Bytes::new),
    }
}

fn mg(key: &str, flags: &str) -> MetaRequest {
    meta(MetaCommand::Get, key.as_bytes(), flags)
}

fn ms(key: &str, data: &'static [u8], flags: &str) -> MetaRequest {
    MetaRequest {
        data: Some(Bytes::from_static(data)),
        ..meta(MetaCommand::Set, key.as_bytes(), flags)
    }
}

fn encoded(request: Request) -> String {
    let mut out = BytesMut::new();
    encode_request(&request, &mut out);
    out.escape_ascii().to_string()
}

/// A reply with a status and flags like `"c5 t-1 W"`.
fn resp(status: MetaStatus, flags: &str) -> MetaResponse {
    MetaResponse {
        status: Some(status),
        flags: flags.split_whitespace().map(flag).collect(),
        data: None,
        debug: Vec::new(),
    }
}

fn value(data: &'static [u8], flags: &str) -> MetaResponse {
    MetaResponse {
        data: Some(Bytes::from_static(data)),
        ..resp(MetaStatus::Value, flags)
    }
}

fn single(response: MetaResponse) -> Out {
    Out::Reply(Response::Meta(response))
}

fn batch(entries: Vec<Option<Result<MetaResponse, Error>>>) -> Out {
    Out::Reply(Response::MetaBatch(entries))
}

#[test]
fn encodes_each_command() {
    let cases = [
        (Request::Meta(mg("k", "v f t c")), "mg k v f t c\\r\\n"),
        (Request::Meta(mg("k", "")), "mg k\\r\\n"),
        (
            Request::Meta(ms("k", b"a\r\nb", "T30 F5 MA I C12")),
            "ms k 4 T30 F5 MA I C12\\r\\na\\r\\nb\\r\\n",
        ),
        (
            Request::Meta(meta(MetaCommand::Set, b"k", "")),
            "ms k 0\\r\\n\\r\\n",
        ),
        (
            Request::Meta(meta(MetaCommand::Delete, b"k", "I T30 x")),
            "md k I T30 x\\r\\n",
        ),
        (
            Request::Meta(meta(MetaCommand::Arithmetic, b"k", "N0 J13 D2 MD v")),
            "ma k N0 J13 D2 MD v\\r\\n",
        ),
        (Request::Meta(meta(MetaCommand::Noop, b"", "")), "mn\\r\\n"),
        (Request::Meta(meta(MetaCommand::Noop, b"", "q")), "mn\\r\\n"),
        (
            Request::Meta(meta(MetaCommand::Debug, b"k", "")),
            "me k\\r\\n",
        ),
        // Newer flags are sent as they are.
        (Request::Meta(mg("k", "E99 v")), "mg k E99 v\\r\\n"),
    ];
    for (request, expected) in cases {
        assert_eq!(encoded(request.clone()), expected, "{request:?}");
    }
}

#[test]
fn encodes_binary_keys_in_base64_and_quiet_requests_with_mn() {
    assert_eq!(
        encoded(Request::Meta(meta(MetaCommand::Get, b"foo bar", "b v"))),
        "mg Zm9vIGJhcg== b v\\r\\n"
    );
    assert_eq!(
        encoded(Request::Meta(MetaRequest {
            data: Some(Bytes::from_static(b"x")),
            ..meta(MetaCommand::Set, b"\r\n\xff", "b q")
        })),
        "ms DQr/ 1 b q\\r\\nx\\r\\nmn\\r\\n"
    );
    assert_eq!(
        encoded(Request::Meta(mg("k", "q v"))),
        "mg k q v\\r\\nmn\\r\\n"
    );
}

#[test]
fn encodes_batches_with_their_own_q_and_opaque() {
    let requests = vec![
        mg("a", "v"),
        mg("b", "v q Ouser"),
        meta(MetaCommand::Noop, b"", ""),
        ms("c", b"x", "T0"),
    ];
    assert_eq!(
        encoded(Request::MetaBatch(requests)),
        "mg a v q O0\\r\\nmg b v q O1\\r\\nms c 1 T0 q O3\\r\\nx\\r\\nmn\\r\\n"
    );
    assert_eq!(encoded(Request::MetaBatch(vec![])), "mn\\r\\n");
}

#[test]
fn decodes_each_reply() {
    let get = Request::Meta(mg("k", "v"));
    assert_eq!(
        decode_one(get.clone(), b"VA 3 f5 t-1 c1 kk s3\r\nbar\r\n"),
        single(value(b"bar", "f5 t-1 c1 kk s3"))
    );
    assert_eq!(
        decode_one(get.clone(), b"VA 0\r\n\r\n"),
        single(value(b"", ""))
    );
    assert_eq!(
        decode_one(get.clone(), b"HD c1 W\r\n"),
        single(resp(MetaStatus::Header, "c1 W"))
    );
    assert_eq!(
        decode_one(get.clone(), b"EN\r\n"),
        single(resp(MetaStatus::Miss, ""))
    );
    assert_eq!(
        decode_one(get.clone(), b"CLIENT_ERROR invalid flag\r\n"),
        client("invalid flag")
    );
    let set = Request::Meta(ms("k", b"x", ""));
    for (line, status) in [
        (&b"HD\r\n"[..], MetaStatus::Header),
        (b"NS\r\n", MetaStatus::NotStored),
        (b"EX\r\n", MetaStatus::Exists),
        (b"NF\r\n", MetaStatus::NotFound),
    ] {
        assert_eq!(decode_one(set.clone(), line), single(resp(status, "")));
    }
    let arith = Request::Meta(meta(MetaCommand::Arithmetic, b"k", "v"));
    assert_eq!(
        decode_one(arith, b"VA 2 t-1\r\n42\r\n"),
        single(value(b"42", "t-1"))
    );
    assert_eq!(
        decode_one(Request::Meta(meta(MetaCommand::Noop, b"", "")), b"MN\r\n"),
        single(resp(MetaStatus::Noop, ""))
    );
    let debug = Request::Meta(meta(MetaCommand::Debug, b"k", ""));
    let mut dump = resp(MetaStatus::Debug, "kk");
    dump.debug = vec![
        (Bytes::from_static(b"exp"), Bytes::from_static(b"-1")),
        (Bytes::from_static(b"la"), Bytes::from_static(b"0")),
        (Bytes::from_static(b"fetch"), Bytes::from_static(b"no")),
    ];
    assert_eq!(
        decode_one(debug.clone(), b"ME k exp=-1 la=0 fetch=no\r\n"),
        single(dump)
    );
    assert_eq!(
        decode_one(debug, b"EN\r\n"),
        single(resp(MetaStatus::Miss, ""))
    );
}

#[test]
fn decodes_base64_keys_back() {
    let get = Request::Meta(meta(MetaCommand::Get, b"foo bar", "b k v"));
    assert_eq!(
        decode_one(get, b"VA 2 kZm9vIGJhcg== b\r\nhi\r\n"),
        single(MetaResponse {
            flags: vec![
                MetaFlag::with(b'k', Bytes::from_static(b"foo bar")),
                MetaFlag::bare(b'b')
            ],
            ..value(b"hi", "")
        })
    );
    let debug = Request::Meta(meta(MetaCommand::Debug, b"\xff", "b"));
    let Out::Reply(Response::Meta(dump)) = decode_one(debug, b"ME /w== exp=-1\r\n") else {
        panic!("not a dump")
    };
    assert_eq!(dump.token(b'k').map(|k| &k[..]), Some(&b"\xff"[..]));
    // memcached 1.6.18 echoes a binary key raw: read from the right.
    let debug = Request::Meta(meta(MetaCommand::Debug, b"a b", "b"));
    let Out::Reply(Response::Meta(dump)) = decode_one(debug, b"ME a b exp=-1 la=0\r\n") else {
        panic!("not a dump")
    };
    assert_eq!(dump.token(b'k').map(|k| &k[..]), Some(&b"a b"[..]));
    assert_eq!(dump.debug.len(), 2);
    assert_eq!(&dump.debug[0].0[..], b"exp");
    // Without `b`, the key is left alone.
    let plain = Request::Meta(mg("Zm9v", "k"));
    assert_eq!(
        decode_one(plain, b"HD kZm9v\r\n"),
        single(resp(MetaStatus::Header, "kZm9v"))
    );
}

#[test]
fn quiet_single_requests_read_up_to_mn() {
    let get = Request::Meta(mg("k", "v q"));
    assert_eq!(
        decode_one(get.clone(), b"MN\r\n"),
        single(resp(MetaStatus::Miss, ""))
    );
    assert_eq!(
        decode_one(get.clone(), b"VA 1\r\nx\r\nMN\r\n"),
        single(value(b"x", ""))
    );
    assert_eq!(
        decode_one(get, b"CLIENT_ERROR bad command line format\r\nMN\r\n"),
        client("bad command line format")
    );
    let set = Request::Meta(ms("k", b"x", "q"));
    assert_eq!(
        decode_one(set.clone(), b"MN\r\n"),
        single(resp(MetaStatus::Header, ""))
    );
    assert_eq!(
        decode_one(set, b"NS\r\nMN\r\n"),
        single(resp(MetaStatus::NotStored, ""))
    );
    let delete = Request::Meta(meta(MetaCommand::Delete, b"k", "q"));
    assert_eq!(
        decode_one(delete, b"MN\r\n"),
        single(resp(MetaStatus::Header, ""))
    );
}

#[test]
fn batches_match_replies_by_opaque() {
    let requests = vec![
        mg("a", "v"),
        mg("b", "v"),
        meta(MetaCommand::Noop, b"", ""),
        mg("c", "v"),
        ms("d", b"x", ""),
    ];
    let request = Request::MetaBatch(requests);
    assert_eq!(
        decode_one(request.clone(), b"VA 1 O1\r\nb\r\nNS O4\r\nMN\r\n"),
        batch(vec![
            None,
            Some(Ok(value(b"b", "O1"))),
            Some(Ok(resp(MetaStatus::Noop, ""))),
            None,
            Some(Ok(resp(MetaStatus::NotStored, "O4"))),
        ])
    );
    // An error between two known positions with one request in between.
    assert_eq!(
        decode_one(
            request.clone(),
            b"VA 1 O0\r\na\r\nCLIENT_ERROR bad\r\nVA 1 O3\r\nc\r\nMN\r\n"
        ),
        batch(vec![
            Some(Ok(value(b"a", "O0"))),
            Some(Err(Error::Client("bad".into()))),
            Some(Ok(resp(MetaStatus::Noop, ""))),
            Some(Ok(value(b"c", "O3"))),
            None,
        ])
    );
    // An error in a gap of several requests goes to each of them.
    assert_eq!(
        decode_one(
            request.clone(),
            b"SERVER_ERROR out of memory\r\nHD O4\r\nMN\r\n"
        ),
        batch(vec![
            Some(Err(Error::Server("out of memory".into()))),
            Some(Err(Error::Server("out of memory".into()))),
            Some(Ok(resp(MetaStatus::Noop, ""))),
            Some(Err(Error::Server("out of memory".into()))),
            Some(Ok(resp(MetaStatus::Header, "O4"))),
        ])
    );
    // As many error lines as requests in the gap: one each, in order.
    assert_eq!(
        decode_one(
            request.clone(),
            b"VA 1 O0\r\na\r\nCLIENT_ERROR one\r\nCLIENT_ERROR two\r\nCLIENT_ERROR three\r\nMN\r\n"
        ),
        batch(vec![
            Some(Ok(value(b"a", "O0"))),
            Some(Err(Error::Client("one".into()))),
            Some(Ok(resp(MetaStatus::Noop, ""))),
            Some(Err(Error::Client("two".into()))),
            Some(Err(Error::Client("three".into()))),
        ])
    );
    // A value without an opaque in a gap of several is never guessed.
    let Out::Reply(Response::MetaBatch(replies)) =
        decode_one(request, b"VA 1\r\nz\r\nHD O4\r\nMN\r\n")
    else {
        panic!("not a batch")
    };
    for reply in &replies[..2] {
        assert!(matches!(reply, Some(Err(Error::Protocol(_)))), "{reply:?}");
    }
    assert!(matches!(replies[3], Some(Err(Error::Protocol(_)))));
}

#[test]
fn batches_decode_base64_keys_of_their_own_requests() {
    let request = Request::MetaBatch(vec![
        mg("plain", "k v"),
        meta(MetaCommand::Get, b"a b", "b k v"),
    ]);
    assert_eq!(
        decode_one(request, b"VA 1 kYSBi b O1\r\nx\r\nMN\r\n"),
        batch(vec![
            None,
            Some(Ok(MetaResponse {
                flags: vec![
                    MetaFlag::with(b'k', Bytes::from_static(b"a b")),
                    MetaFlag::bare(b'b'),
                    flag("O1"),
                ],
                ..value(b"x", "")
            })),
        ])
    );
}

#[test]
fn malformed_meta_replies_are_protocol_errors() {
    let get = Request::Meta(mg("k", "v"));
    let quiet = Request::Meta(mg("k", "v q"));
    let two = Request::MetaBatch(vec![mg("a", "v"), mg("b", "v")]);
    let cases: Vec<(Request, &[u8])> = vec![
        (get.clone(), b"XX\r\n"),
        (get.clone(), b"HD \r\n"),
        (get.clone(), b"HD  c1\r\n"),
        (get.clone(), b"HD c1 \r\n"),
        (get.clone(), b"HD 5\r\n"),
        (get.clone(), b"HDc1\r\n"),
        (get.clone(), b"VA\r\n"),
        (get.clone(), b"VA x\r\n"),
        (get.clone(), b"VA -1\r\n"),
        (get.clone(), b"VA 1\r\nxy\r\n"),
        (get.clone(), b"VA 1\nx\r\n"),
        (get.clone(), b"VA 99999999999999999999\r\n"),
        (get.clone(), b"VA 2000000000\r\n"),
        (get.clone(), b"HD\n"),
        (get.clone(), b"STORED\r\n"),
        (get.clone(), b"NS\r\n"),
        (get.clone(), b"MN\r\n"),
        (get.clone(), b"ME k a=1\r\n"),
        (Request::Meta(meta(MetaCommand::Debug, b"k", "")), b"ME\r\n"),
        (
            Request::Meta(meta(MetaCommand::Debug, b"k", "")),
            b"ME k novalue\r\n",
        ),
        (
            Request::Meta(meta(MetaCommand::Get, b"k", "b k")),
            b"HD k!!!\r\n",
        ),
        (quiet.clone(), b"HD\r\nHD\r\nMN\r\n"),
        (two.clone(), b"HD O2\r\nMN\r\n"),
        (two.clone(), b"HD O1\r\nHD O0\r\nMN\r\n"),
        (two.clone(), b"HD O1\r\nHD O1\r\nMN\r\n"),
        (two.clone(), b"HD Ox\r\nMN\r\n"),
        (two.clone(), b"EN\r\nEN\r\nEN\r\nMN\r\n"),
        (two.clone(), b"NS O0\r\nMN\r\n"),
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
fn meta_replies_split_anywhere_decode_the_same() {
    let requests = vec![
        Request::Meta(mg("k", "v k")),
        Request::Meta(mg("k", "v q")),
        Request::MetaBatch(vec![mg("a", "v"), mg("b", "v"), ms("c", b"x", "")]),
        Request::Meta(meta(MetaCommand::Debug, b"k", "")),
        Request::Meta(ms("k", b"x", "q")),
    ];
    let bytes = b"VA 4 kk\r\nMN\r\n\r\nMN\r\nVA 4 O0\r\nEN\r\n\r\nCLIENT_ERROR bad data chunk\r\nNS O2\r\nMN\r\nME k exp=-1 la=0\r\nMN\r\n";
    let mut dump = resp(MetaStatus::Debug, "kk");
    dump.debug = vec![
        (Bytes::from_static(b"exp"), Bytes::from_static(b"-1")),
        (Bytes::from_static(b"la"), Bytes::from_static(b"0")),
    ];
    let expected = vec![
        single(value(b"MN\r\n", "kk")),
        single(resp(MetaStatus::Miss, "")),
        batch(vec![
            Some(Ok(value(b"EN\r\n", "O0"))),
            Some(Err(Error::Client("bad data chunk".into()))),
            Some(Ok(resp(MetaStatus::NotStored, "O2"))),
        ]),
        single(dump),
        single(resp(MetaStatus::Header, "")),
    ];
    let with_tail = [&bytes[..], b"VA 1"].concat();
    check_splits(&requests, &with_tail, &expected, b"VA 1");
}

#[test]
fn data_blocks_are_slices_and_values_respect_the_limit() {
    let mut buf = BytesMut::from(&b"VA 5 c1\r\nhello\r\n"[..]);
    let range = buf.as_ptr() as usize..buf.as_ptr() as usize + buf.len();
    let Ok(Some(Ok(Response::Meta(reply)))) =
        ResponseDecoder::new().decode(&Request::Meta(mg("k", "v c")), &mut buf)
    else {
        panic!("no reply")
    };
    let data = reply.data.expect("a value");
    assert!(range.contains(&(data.as_ptr() as usize)), "data was copied");
    assert!(range.contains(&(reply.flags[0].token.as_ref().unwrap().as_ptr() as usize)));

    let mut buf = BytesMut::from(&b"VA 11\r\n"[..]);
    let outcome =
        ResponseDecoder::with_max_reply_len(10).decode(&Request::Meta(mg("k", "v")), &mut buf);
    assert!(matches!(outcome, Err(Error::Protocol(_))));
}

#[test]
fn a_returned_key_must_be_the_requests() {
    let other_key: Vec<(Request, &[u8])> = vec![
        (Request::Meta(mg("k", "v k")), b"VA 1 kother\r\nx\r\n"),
        (Request::Meta(mg("k", "k")), b"HD kk2\r\n"),
        (
            Request::Meta(meta(MetaCommand::Get, b"a b", "b k v")),
            b"VA 1 kYSBj b\r\nx\r\n",
        ),
        (Request::Meta(mg("k", "k q")), b"HD kj\r\nMN\r\n"),
        (
            Request::MetaBatch(vec![mg("a", "k v"), mg("b", "k v")]),
            b"VA 1 kb O0\r\nx\r\nMN\r\n",
        ),
        (
            Request::Meta(meta(MetaCommand::Debug, b"k", "")),
            b"ME other exp=-1\r\n",
        ),
    ];
    for (request, bytes) in other_key {
        let (outs, _) = one_shot(std::slice::from_ref(&request), bytes);
        assert_eq!(
            outs,
            [Out::Protocol],
            "{:?}",
            bytes.escape_ascii().to_string()
        );
        check_splits(&[request], bytes, &[Out::Protocol], b"");
    }
    assert_eq!(
        decode_one(Request::Meta(mg("k", "k")), b"HD kk\r\n"),
        single(resp(MetaStatus::Header, "kk"))
    );
}
