//! Meta command decoding and encoding. Expected error replies were taken from
//! memcached 1.6.18 answering the same bytes.

use bytes::{Bytes, BytesMut};

use super::*;
use crate::{
    Error, MetaCommand, MetaFlag, MetaRequest, MetaResponse, MetaStatus, Request, Response,
};

/// Decodes whole and a byte at a time; both must agree.
fn decode(input: &[u8]) -> Vec<Decoded> {
    let run = |step: usize| {
        let mut decoder = RequestDecoder::new();
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for chunk in input.chunks(step) {
            buf.extend_from_slice(chunk);
            while let Some(decoded) = decoder.decode(&mut buf) {
                out.push(decoded);
            }
        }
        out
    };
    let whole = run(input.len().max(1));
    assert_eq!(whole, run(1), "split decoding differs for {input:?}");
    whole
}

fn one(input: &[u8]) -> MetaRequest {
    match decode(input).as_slice() {
        [Decoded::Request(Request::Meta(request))] => request.clone(),
        other => panic!("{input:?} decoded to {other:?}"),
    }
}

/// The reply lines the decoder itself writes; `<req>` for a request.
fn replies(input: &[u8]) -> String {
    let mut out = Vec::new();
    for decoded in decode(input) {
        match decoded {
            Decoded::Reply(reply) | Decoded::ReplyDroppingUnsent(reply) => {
                out.extend_from_slice(&reply)
            }
            Decoded::TooLarge { noreply, .. } => {
                assert!(!noreply);
                out.extend_from_slice(b"<too large>")
            }
            Decoded::Request(_) => out.extend_from_slice(b"<req>"),
            Decoded::Close => out.extend_from_slice(b"<close>"),
            Decoded::BadDataChunk { noreply } => {
                if !noreply {
                    out.extend_from_slice(b"CLIENT_ERROR bad data chunk\r\n")
                }
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn flag(text: &str) -> MetaFlag {
    let bytes = text.as_bytes();
    if bytes.len() > 1 {
        MetaFlag::with(bytes[0], Bytes::copy_from_slice(&bytes[1..]))
    } else {
        MetaFlag::bare(bytes[0])
    }
}

fn flags(text: &str) -> Vec<MetaFlag> {
    text.split_whitespace().map(flag).collect()
}

#[test]
fn decodes_each_meta_command() {
    assert_eq!(
        one(b"mg foo v t O12 k\r\n"),
        MetaRequest {
            command: MetaCommand::Get,
            key: "foo".into(),
            flags: flags("v t O12 k"),
            data: None,
        }
    );
    assert_eq!(
        one(b"ms foo 3 T30 F5 MA\r\nabc\r\n"),
        MetaRequest {
            command: MetaCommand::Set,
            key: "foo".into(),
            flags: flags("T30 F5 MA"),
            data: Some("abc".into()),
        }
    );
    let empty = one(b"ms foo 0\r\n\r\n");
    assert_eq!(empty.data, Some(Bytes::new()));
    assert!(empty.flags.is_empty());
    assert_eq!(one(b"md foo I T30 q\r\n").command, MetaCommand::Delete);
    assert_eq!(one(b"md foo I T30 q\r\n").flags, flags("I T30 q"));
    assert_eq!(
        one(b"ma foo N0 J5 MD D3 v\r\n").command,
        MetaCommand::Arithmetic
    );
    assert_eq!(
        one(b"mn\r\n"),
        MetaRequest {
            command: MetaCommand::Noop,
            key: Bytes::new(),
            flags: Vec::new(),
            data: None,
        }
    );
    // `mn` ignores its arguments.
    assert_eq!(one(b"mn foo bar\r\n").command, MetaCommand::Noop);
    let debug = one(b"me foo\r\n");
    assert_eq!(
        (debug.command, &debug.key[..]),
        (MetaCommand::Debug, &b"foo"[..])
    );
    // `me` ignores tokens other than a `b` right after the key.
    assert!(one(b"me foo zzz\r\n").flags.is_empty());
}

#[test]
fn decodes_base64_keys() {
    let request = one(b"mg YmluYXJ5 b k v\r\n");
    assert_eq!(&request.key[..], b"binary");
    assert_eq!(request.flags, flags("b k v"));
    let request = one(b"ms AP8gCg== 2 b\r\nhi\r\n");
    assert_eq!(&request.key[..], b"\x00\xff \n");
    let request = one(b"me YQ== b\r\n");
    assert_eq!(
        (&request.key[..], request.flags.clone()),
        (&b"a"[..], flags("b"))
    );
}

#[test]
fn rejects_what_memcached_rejects() {
    let long = "k".repeat(251);
    let cases: Vec<(String, &str)> = vec![
        ("mg\r\n".into(), "ERROR\r\n"),
        ("ms\r\n".into(), "ERROR\r\n"),
        ("md\r\n".into(), "ERROR\r\n"),
        ("ma\r\n".into(), "ERROR\r\n"),
        ("mx a\r\n".into(), "ERROR\r\n"),
        ("me\r\n".into(), "CLIENT_ERROR bad command line format\r\n"),
        (
            format!("me {long}\r\n"),
            "CLIENT_ERROR bad command line format\r\n",
        ),
        (
            "me !! b\r\n".into(),
            "CLIENT_ERROR bad command line format\r\n",
        ),
        (
            format!("mg {long} v\r\n"),
            "CLIENT_ERROR bad command line format\r\n",
        ),
        (
            format!("md {long}\r\n"),
            "CLIENT_ERROR bad command line format\r\n",
        ),
        (
            format!("ma {long}\r\n"),
            "CLIENT_ERROR bad command line format\r\n",
        ),
        ("mg a E5 v\r\n".into(), "CLIENT_ERROR invalid flag\r\n"),
        ("mg a x\r\n".into(), "CLIENT_ERROR invalid flag\r\n"),
        ("mg a Nx Z\r\n".into(), "CLIENT_ERROR invalid flag\r\n"),
        ("mg a v v\r\n".into(), "CLIENT_ERROR duplicate flag\r\n"),
        ("mg a \u{e9}\r\n".into(), "CLIENT_ERROR duplicate flag\r\n"),
        (
            "mg a Nx Tx\r\n".into(),
            "CLIENT_ERROR bad token in command line format\r\n",
        ),
        (
            "mg a Rx\r\n".into(),
            "CLIENT_ERROR bad token in command line format\r\n",
        ),
        (
            "mg a Cx\r\n".into(),
            "CLIENT_ERROR bad token in command line format\r\n",
        ),
        (
            "mg a Fx\r\n".into(),
            "CLIENT_ERROR bad command line format\r\n",
        ),
        (
            "mg a Mxy\r\n".into(),
            "CLIENT_ERROR incorrect length for M token\r\n",
        ),
        (
            "mg a Jx\r\n".into(),
            "CLIENT_ERROR invalid numeric initial value\r\n",
        ),
        (
            "mg a Dx\r\n".into(),
            "CLIENT_ERROR invalid numeric delta value\r\n",
        ),
        (
            "mg zz k b\r\n".into(),
            "CLIENT_ERROR error decoding key\r\n",
        ),
        (
            "mg !!!! b\r\n".into(),
            "CLIENT_ERROR error decoding key\r\n",
        ),
        (
            "md zz x\r\n".into(),
            "CLIENT_ERROR invalid or duplicate flag\r\n",
        ),
        (
            "md zz E1\r\n".into(),
            "CLIENT_ERROR invalid or duplicate flag\r\n",
        ),
        (
            "ma zz D-1\r\n".into(),
            "CLIENT_ERROR invalid or duplicate flag\r\n",
        ),
        (
            "ma zz Jx\r\n".into(),
            "CLIENT_ERROR invalid or duplicate flag\r\n",
        ),
        (
            "ma zz MX v\r\n".into(),
            "CLIENT_ERROR invalid mode for ma M token\r\n",
        ),
        (
            "md zz O123456789012345678901234567890123\r\n".into(),
            "CLIENT_ERROR opaque token too long\r\n",
        ),
        (
            "mg n s t c f h k l O1 q u v P L C1 F1 M1 J1 D1\r\n".into(),
            "CLIENT_ERROR options flags are too long\r\n",
        ),
        (
            "md n s t c f h k l O1 q u v P L C1 F1 M1 J1 D1\r\n".into(),
            "CLIENT_ERROR options flags too long\r\n",
        ),
        // Errors show in quiet mode too.
        ("mg a E5 q\r\n".into(), "CLIENT_ERROR invalid flag\r\n"),
    ];
    for (input, want) in cases {
        assert_eq!(replies(input.as_bytes()), want, "{input:?}");
    }
    // 17 flags are fine, as `mg` with an opaque of 31 bytes.
    assert_eq!(
        replies(b"mg n s t c f h k l O1 q u v P L C1 F1 M1 J1\r\n"),
        "<req>"
    );
    assert_eq!(
        replies(b"mg n O1234567890123456789012345678901\r\n"),
        "<req>"
    );
    // `mg` and `ma` check the opaque while answering: the store does.
    assert_eq!(
        replies(b"mg n O12345678901234567890123456789012\r\n"),
        "<req>"
    );
}

#[test]
fn ms_errors_swallow_the_data_block_only_after_its_length() {
    let cases: &[(&[u8], &str)] = &[
        // Without a length, or a bad one: the data is read as a command.
        (b"ms a\r\n", "CLIENT_ERROR bad command line format\r\n"),
        (
            b"ms a x\r\nx\r\n",
            "CLIENT_ERROR bad command line format\r\nERROR\r\n",
        ),
        (
            b"ms n -1\r\nx\r\n",
            "CLIENT_ERROR bad command line format\r\nERROR\r\n",
        ),
        (
            b"ms n 2147483648\r\nx\r\n",
            "CLIENT_ERROR bad command line format\r\nERROR\r\n",
        ),
        (
            b"ms n 1 s t c f h k l O1 q u v P L C1 F1 M1 J1\r\nx\r\n",
            "CLIENT_ERROR options flags too long\r\nERROR\r\n",
        ),
        // After the length: swallowed.
        (b"ms a 1 S\r\nx\r\n", "CLIENT_ERROR invalid flag\r\n"),
        (b"ms a 1 E1\r\nx\r\n", "CLIENT_ERROR invalid flag\r\n"),
        (
            b"ms a 1 MZ\r\nx\r\n",
            "CLIENT_ERROR invalid mode for ms M token\r\n",
        ),
        (
            b"ms a 1 MSS\r\nx\r\n",
            "CLIENT_ERROR incorrect length for M token\r\n",
        ),
        (
            b"ms b64 1 b\r\nx\r\n",
            "CLIENT_ERROR error decoding key\r\n",
        ),
        (
            b"ms n 1 Nfoo\r\nx\r\n",
            "CLIENT_ERROR bad token in command line format\r\n",
        ),
        (
            b"ms a 1 O123456789012345678901234567890123\r\nx\r\n",
            "CLIENT_ERROR opaque token too long\r\n",
        ),
        // A wrong data block: the bytes after the length are the next line.
        (
            b"ms nx 1 c\r\nzz\r\n",
            "CLIENT_ERROR bad data chunk\r\nERROR\r\n",
        ),
        (
            b"ms nx 1 q\r\nzz\r\n",
            "CLIENT_ERROR bad data chunk\r\nERROR\r\n",
        ),
    ];
    for (input, want) in cases {
        assert_eq!(
            replies(input),
            *want,
            "{:?}",
            input.escape_ascii().to_string()
        );
    }
}

#[test]
fn too_large_ms_is_swallowed_and_answered() {
    let mut input = b"ms big 2000000 q MA\r\n".to_vec();
    input.extend(std::iter::repeat(b'v').take(2_000_002));
    input.extend_from_slice(b"mn\r\n");
    let decoded = decode_whole_only(&input);
    assert!(matches!(
        decoded.as_slice(),
        [Decoded::TooLarge { command: crate::StoreCommand::Set, noreply: false, key }, Decoded::Request(Request::Meta(_))]
            if &key[..] == b"big"
    ));
}

fn decode_whole_only(input: &[u8]) -> Vec<Decoded> {
    let mut decoder = RequestDecoder::new();
    let mut buf = BytesMut::from(input);
    let mut out = Vec::new();
    while let Some(decoded) = decoder.decode(&mut buf) {
        out.push(decoded);
    }
    out
}

fn encoded(response: MetaResponse) -> String {
    let mut out = BytesMut::new();
    let request = Request::Meta(MetaRequest {
        command: MetaCommand::Get,
        key: "k".into(),
        flags: Vec::new(),
        data: None,
    });
    encode_reply(&request, &Ok(Response::Meta(response)), &mut out);
    out.escape_ascii().to_string()
}

fn reply_of(status: MetaStatus, flag_text: &str, data: Option<&'static str>) -> MetaResponse {
    MetaResponse {
        status: Some(status),
        flags: flags(flag_text),
        data: data.map(|d| Bytes::from_static(d.as_bytes())),
        debug: Vec::new(),
    }
}

#[test]
fn encodes_meta_replies_as_memcached() {
    assert_eq!(
        encoded(reply_of(
            MetaStatus::Value,
            "s1 f5 t-1 c3 ka O123",
            Some("x")
        )),
        r"VA 1 s1 f5 t-1 c3 ka O123\r\nx\r\n"
    );
    assert_eq!(
        encoded(reply_of(MetaStatus::Value, "W", Some(""))),
        r"VA 0 W\r\n\r\n"
    );
    assert_eq!(encoded(reply_of(MetaStatus::Header, "", None)), r"HD\r\n");
    assert_eq!(
        encoded(reply_of(MetaStatus::Header, "c9 Z X", None)),
        r"HD c9 Z X\r\n"
    );
    assert_eq!(
        encoded(reply_of(MetaStatus::Miss, "O1 kzz", None)),
        r"EN O1 kzz\r\n"
    );
    assert_eq!(
        encoded(reply_of(MetaStatus::NotStored, "O1 kny c0", None)),
        r"NS O1 kny c0\r\n"
    );
    assert_eq!(encoded(reply_of(MetaStatus::Exists, "", None)), r"EX\r\n");
    assert_eq!(encoded(reply_of(MetaStatus::NotFound, "", None)), r"NF\r\n");
    assert_eq!(encoded(reply_of(MetaStatus::Noop, "", None)), r"MN\r\n");
    // A binary key goes out in base64, followed by `b`.
    let mut binary = reply_of(MetaStatus::Header, "O1 c10", None);
    binary.flags.insert(0, MetaFlag::with(b'k', "ab"));
    binary.flags.insert(1, MetaFlag::bare(b'b'));
    assert_eq!(encoded(binary), r"HD kYWI= b O1 c10\r\n");
    let debug = MetaResponse {
        status: Some(MetaStatus::Debug),
        flags: vec![MetaFlag::with(b'k', "a")],
        data: None,
        debug: [
            ("exp", "-100"),
            ("la", "0"),
            ("cas", "1"),
            ("fetch", "no"),
            ("cls", "1"),
            ("size", "61"),
        ]
        .iter()
        .map(|(k, v)| {
            (
                Bytes::from_static(k.as_bytes()),
                Bytes::from_static(v.as_bytes()),
            )
        })
        .collect(),
    };
    assert_eq!(
        encoded(debug),
        r"ME a exp=-100 la=0 cas=1 fetch=no cls=1 size=61\r\n"
    );
    // Suppressed replies come as NoReply; errors as error lines.
    let mut out = BytesMut::new();
    let request = Request::Meta(one(b"mg a q\r\n"));
    encode_reply(&request, &Ok(Response::NoReply), &mut out);
    encode_reply(
        &request,
        &Err(Error::Client("invalid flag".into())),
        &mut out,
    );
    assert_eq!(&out[..], b"CLIENT_ERROR invalid flag\r\n");
}

#[test]
fn meta_options_parse_tokens_like_memcached() {
    let options = meta_options(
        &flags("b q v u I N30 T-1 R2147483648 F4294967297 C7 MA D3 J9"),
        true,
    )
    .unwrap();
    assert!(options.key_binary && options.quiet && options.value && options.no_update);
    assert!(options.invalidate);
    assert_eq!((options.vivify, options.ttl), (Some(30), Some(-1)));
    // Into an `int32_t`, as memcached does.
    assert_eq!(options.recache, Some(i64::from(i32::MIN)));
    assert_eq!(options.client_flags, 1);
    assert_eq!((options.cas, options.mode), (Some(7), Some(b'A')));
    assert_eq!((options.delta, options.initial), (3, 9));
    let defaults = meta_options(&[], true).unwrap();
    assert_eq!(
        (defaults.delta, defaults.initial, defaults.cas),
        (1, 0, None)
    );
    assert_eq!(
        meta_options(&flags("b"), false),
        Err("CLIENT_ERROR error decoding key")
    );
    assert!(opaque_too_long(&flag("O12345678901234567890123456789012")));
    assert!(!opaque_too_long(&flag("O1234567890123456789012345678901")));
}
