//! Tests of the request table, the typed meta flags and the classic-to-meta
//! translation, the returned flags: what the driver, `Retry`, the cluster,
//! `noreply` and the typed meta calls read.

use bytes::{Bytes, BytesMut};

use super::table::set_noreply;
use super::{
    as_classic, as_meta, encode_request, set_exptime, set_flags, Flag, MetaMode, Returned, Scope,
};
use crate::{
    ArithOp, Lru, LruCrawler, MetaCommand, MetaFlag, MetaRequest, MetaStatus, RawCommand, RawReply,
    Request, Response, Retrieve, RetrieveCommand, Store, StoreCommand,
};

fn key() -> Bytes {
    Bytes::from_static(b"k")
}

fn store(command: StoreCommand) -> Request {
    Request::Store(Store {
        command,
        key: key(),
        flags: 0,
        exptime: 0,
        value: Bytes::from_static(b"v"),
        noreply: false,
    })
}

fn meta(command: MetaCommand, flags: Vec<MetaFlag>) -> MetaRequest {
    MetaRequest {
        command,
        key: key(),
        flags,
        data: None,
    }
}

fn wire(request: &Request) -> String {
    let mut out = BytesMut::new();
    encode_request(request, &mut out);
    out.escape_ascii().to_string()
}

/// Every request kind, with the scope and idempotency it must have.
fn kinds() -> Vec<(Request, Scope, bool)> {
    use Scope::*;
    let raw = |reply| {
        Request::Raw(RawCommand {
            line: Bytes::from_static(b"stats"),
            data: None,
            reply,
        })
    };
    let mode = |token: &'static str| MetaFlag::with(b'M', token);
    vec![
        (
            Request::Retrieve(Retrieve {
                command: RetrieveCommand::Gets,
                keys: vec![key(), key()],
            }),
            Keys,
            true,
        ),
        (store(StoreCommand::Set), Key, true),
        (store(StoreCommand::Cas { unique: 1 }), Key, true),
        (store(StoreCommand::Append), Key, false),
        (store(StoreCommand::Prepend), Key, false),
        (
            Request::Delete {
                key: key(),
                noreply: false,
            },
            Key,
            true,
        ),
        (
            Request::Arith {
                op: ArithOp::Incr,
                key: key(),
                delta: 1,
                noreply: false,
            },
            Key,
            false,
        ),
        (
            Request::Touch {
                key: key(),
                exptime: 0,
                noreply: false,
            },
            Key,
            true,
        ),
        (Request::Stats { args: vec![] }, OneServer, true),
        (
            Request::FlushAll {
                delay: None,
                noreply: false,
            },
            AllNodes,
            true,
        ),
        (Request::Version, AnyNode, true),
        (
            Request::Verbosity {
                level: 1,
                noreply: false,
            },
            AllNodes,
            true,
        ),
        (
            Request::CacheMemlimit {
                megabytes: 64,
                noreply: false,
            },
            AllNodes,
            true,
        ),
        (Request::Quit, AllNodes, false),
        (Request::Shutdown { graceful: true }, OneServer, false),
        (
            Request::SlabsReassign { source: 1, dest: 2 },
            OneServer,
            true,
        ),
        (Request::SlabsAutomove { mode: 1 }, AllNodes, true),
        (Request::LruCrawler(LruCrawler::Enable), AllNodes, true),
        (
            Request::LruCrawler(LruCrawler::Crawl(Bytes::from_static(b"all"))),
            AllNodes,
            true,
        ),
        (
            Request::LruCrawler(LruCrawler::Metadump(Bytes::from_static(b"all"))),
            OneServer,
            true,
        ),
        (Request::Lru(Lru::TempTtl(60)), AllNodes, true),
        (raw(RawReply::Line), OneServer, false),
        (raw(RawReply::None), OneServer, false),
        (Request::Meta(meta(MetaCommand::Get, vec![])), Key, true),
        (Request::Meta(meta(MetaCommand::Set, vec![])), Key, true),
        (
            Request::Meta(meta(MetaCommand::Set, vec![mode("E")])),
            Key,
            true,
        ),
        (
            Request::Meta(meta(MetaCommand::Set, vec![mode("a")])),
            Key,
            false,
        ),
        (
            Request::Meta(meta(MetaCommand::Set, vec![mode("P")])),
            Key,
            false,
        ),
        (Request::Meta(meta(MetaCommand::Delete, vec![])), Key, true),
        (
            Request::Meta(meta(MetaCommand::Arithmetic, vec![])),
            Key,
            false,
        ),
        (Request::Meta(meta(MetaCommand::Debug, vec![])), Key, true),
        (
            Request::Meta(meta(MetaCommand::Noop, vec![])),
            AnyNode,
            true,
        ),
        (
            Request::MetaBatch(vec![meta(MetaCommand::Get, vec![])]),
            Keys,
            true,
        ),
        (
            Request::MetaBatch(vec![
                meta(MetaCommand::Get, vec![]),
                meta(MetaCommand::Arithmetic, vec![]),
            ]),
            Keys,
            false,
        ),
    ]
}

#[test]
fn every_kind_has_its_scope_and_idempotency() {
    for (request, scope, idempotent) in kinds() {
        assert_eq!(request.scope(), scope, "{request:?}");
        assert_eq!(request.is_idempotent(), idempotent, "{request:?}");
    }
}

#[test]
fn noreply_goes_where_each_command_takes_it() {
    for (mut request, _, _) in kinds() {
        let before = wire(&request);
        set_noreply(&mut request, true);
        let after = wire(&request);
        match &request {
            Request::Store(_)
            | Request::Delete { .. }
            | Request::Arith { .. }
            | Request::Touch { .. }
            | Request::FlushAll { .. }
            | Request::Verbosity { .. }
            | Request::CacheMemlimit { .. } => {
                assert!(!request.expects_reply(), "{request:?}");
                let line = after.split("\\r\\n").next().unwrap_or_default();
                assert!(line.ends_with(" noreply"), "{after}");
                set_noreply(&mut request, false);
                assert_eq!(wire(&request), before);
                assert!(request.expects_reply());
            }
            Request::Meta(m)
                if matches!(
                    m.command,
                    MetaCommand::Set | MetaCommand::Delete | MetaCommand::Arithmetic
                ) =>
            {
                // Quiet mode, delimited by a trailing `mn`: a reply still comes.
                assert!(after.contains(" q\\r\\n"), "{after}");
                assert!(after.ends_with("mn\\r\\n"), "{after}");
                assert!(request.expects_reply());
                set_noreply(&mut request, false);
                assert_eq!(wire(&request), before);
            }
            _ => assert_eq!(after, before, "{request:?}"),
        }
    }
}

#[test]
fn only_quit_and_shutdown_close_and_only_metadump_goes_alone() {
    for (request, _, _) in kinds() {
        let closes = matches!(request, Request::Quit | Request::Shutdown { .. });
        let alone = matches!(request, Request::LruCrawler(LruCrawler::Metadump(_)));
        assert_eq!(request.closes_connection(), closes, "{request:?}");
        assert_eq!(request.must_be_alone(), alone, "{request:?}");
    }
}

#[test]
fn requests_without_a_reply() {
    assert!(!Request::Quit.expects_reply());
    let raw = Request::Raw(RawCommand {
        line: Bytes::from_static(b"set k 0 0 0 noreply"),
        data: Some(Bytes::new()),
        reply: RawReply::None,
    });
    assert!(!raw.expects_reply());
    assert!(Request::Shutdown { graceful: false }.expects_reply());
}

#[test]
fn typed_flags_round_trip() {
    let flags = [
        Flag::Base64Key,
        Flag::Quiet,
        Flag::Opaque(Bytes::from_static(b"abc")),
        Flag::ReturnKey,
        Flag::ReturnValue,
        Flag::ReturnClientFlags,
        Flag::ReturnCas,
        Flag::ReturnTtl,
        Flag::ReturnHit,
        Flag::ReturnLastAccess,
        Flag::ReturnSize,
        Flag::NoBump,
        Flag::Ttl(-1),
        Flag::Vivify(30),
        Flag::Recache(10),
        Flag::ClientFlags(u32::MAX),
        Flag::CompareCas(u64::MAX),
        Flag::NewCas(7),
        Flag::Invalidate,
        Flag::RemoveValue,
        Flag::Delta(5),
        Flag::Initial(100),
        Flag::Mode(MetaMode::Set),
        Flag::Mode(MetaMode::Add),
        Flag::Mode(MetaMode::Replace),
        Flag::Mode(MetaMode::Append),
        Flag::Mode(MetaMode::Prepend),
        Flag::Mode(MetaMode::Incr),
        Flag::Mode(MetaMode::Decr),
    ];
    let mut letters = std::collections::HashSet::new();
    for flag in flags {
        let encoded = flag.encode();
        assert!(encoded.validate().is_ok(), "{encoded:?}");
        assert_eq!(encoded.flag, flag.letter());
        assert_eq!(Flag::decode(&encoded), Ok(flag.clone()));
        if !matches!(flag, Flag::Mode(_)) {
            assert!(letters.insert(flag.letter()), "{flag:?} shares a letter");
        }
    }
    assert_eq!(
        Flag::Ttl(-1).encode(),
        MetaFlag::with(b'T', Bytes::from_static(b"-1"))
    );
}

#[test]
fn modes_read_as_memcached_reads_them() {
    for (token, mode) in [
        ("s", MetaMode::Set),
        ("e", MetaMode::Add),
        ("r", MetaMode::Replace),
        ("a", MetaMode::Append),
        ("Prepend", MetaMode::Prepend),
        ("+", MetaMode::Incr),
        ("i", MetaMode::Incr),
        ("-", MetaMode::Decr),
        ("d", MetaMode::Decr),
    ] {
        assert_eq!(MetaMode::parse(token.as_bytes()), Some(mode), "{token}");
    }
    assert_eq!(MetaMode::parse(b""), None);
    assert_eq!(MetaMode::parse(b"X"), None);
}

#[test]
fn unknown_or_malformed_flags_do_not_decode() {
    for flag in [
        MetaFlag::bare(b'Q'),
        MetaFlag::bare(b'T'),
        MetaFlag::with(b'T', "soon"),
        MetaFlag::with(b'F', "4294967296"),
        MetaFlag::with(b'C', "-1"),
        MetaFlag::with(b'v', "1"),
        MetaFlag::with(b'M', "X"),
    ] {
        assert!(Flag::decode(&flag).is_err(), "{flag:?}");
    }
}

#[test]
fn classic_writes_for_binary_keys_go_out_as_meta() {
    let binary = Bytes::from_static(b"a b");
    let with_key = |request: Request| match request {
        Request::Store(mut store) => {
            store.key = binary.clone();
            Request::Store(store)
        }
        other => other,
    };
    let mut add = as_meta(with_key(store(StoreCommand::Add)));
    assert_eq!(wire(&add), "ms YSBi 1 b F0 T0 ME\\r\\nv\\r\\n");
    set_exptime(&mut add, 60);
    set_flags(&mut add, 16);
    set_noreply(&mut add, true);
    assert_eq!(wire(&add), "ms YSBi 1 b F16 T60 ME q\\r\\nv\\r\\nmn\\r\\n");
    let cas = as_meta(with_key(store(StoreCommand::Cas { unique: 9 })));
    assert_eq!(wire(&cas), "ms YSBi 1 b F0 T0 C9\\r\\nv\\r\\n");
    let decr = as_meta(Request::Arith {
        op: ArithOp::Decr,
        key: binary.clone(),
        delta: 3,
        noreply: true,
    });
    assert_eq!(wire(&decr), "ma YSBi b v D3 MD q\\r\\nmn\\r\\n");
    let delete = as_meta(Request::Delete {
        key: binary.clone(),
        noreply: false,
    });
    assert_eq!(wire(&delete), "md YSBi b\\r\\n");
    let touch = as_meta(Request::Touch {
        key: binary,
        exptime: -1,
        noreply: false,
    });
    assert_eq!(wire(&touch), "mg YSBi b T-1\\r\\n");
    // Nothing else has a meta form.
    assert_eq!(as_meta(Request::Version), Request::Version);
}

#[test]
fn meta_replies_read_as_classic_ones() {
    let reply = |status, data: Option<&'static [u8]>| {
        Response::Meta(crate::MetaResponse {
            status: Some(status),
            data: data.map(Bytes::from_static),
            ..Default::default()
        })
    };
    let done = Response::Stored;
    for (meta_reply, classic) in [
        (reply(MetaStatus::Header, None), Response::Stored),
        (reply(MetaStatus::NotStored, None), Response::NotStored),
        (reply(MetaStatus::Exists, None), Response::Exists),
        (reply(MetaStatus::NotFound, None), Response::NotFound),
        (reply(MetaStatus::Miss, None), Response::NotFound),
        (reply(MetaStatus::Value, Some(b"42")), Response::Number(42)),
    ] {
        assert_eq!(as_classic(meta_reply, done.clone()), classic);
    }
    let odd = reply(MetaStatus::Value, Some(b"x"));
    assert_eq!(as_classic(odd.clone(), done.clone()), odd);
    assert_eq!(
        as_classic(Response::Deleted, done.clone()),
        Response::Deleted
    );
}

#[test]
fn returned_flags_decode_once_typed() {
    let reply = |flags: Vec<MetaFlag>| crate::MetaResponse {
        status: Some(MetaStatus::Value),
        flags,
        ..Default::default()
    };
    let full = reply(vec![
        MetaFlag::with(b'c', "7"),
        MetaFlag::with(b'f', "16"),
        MetaFlag::with(b't', "-1"),
        MetaFlag::with(b'l', "3"),
        MetaFlag::with(b'h', "1"),
        MetaFlag::with(b's', "5"),
        MetaFlag::with(b'O', "op"),
        MetaFlag::with(b'k', "key"),
        MetaFlag::bare(b'W'),
        MetaFlag::bare(b'X'),
        MetaFlag::bare(b'Z'),
        MetaFlag::with(b'c', "8"),
        MetaFlag::bare(b'b'),
    ]);
    let returned = Returned::decode(&full).unwrap();
    assert_eq!(returned.cas, Some(7), "the first of a letter counts");
    assert_eq!(returned.client_flags, Some(16));
    assert_eq!(returned.ttl, Some(-1));
    assert_eq!(returned.last_access, Some(3));
    assert_eq!(returned.hit_before, Some(true));
    assert_eq!(returned.size, Some(5));
    assert_eq!(returned.opaque, Some(Bytes::from_static(b"op")));
    assert_eq!(returned.key, Some(Bytes::from_static(b"key")));
    assert!(returned.won && returned.stale && returned.win_sent);
    assert_eq!(
        Returned::decode(&reply(vec![])).unwrap(),
        Returned::default()
    );
    for bad in [
        MetaFlag::with(b'c', "x"),
        MetaFlag::with(b'f', "4294967296"),
        MetaFlag::with(b'h', "-1"),
    ] {
        assert!(matches!(
            Returned::decode(&reply(vec![bad])),
            Err(crate::Error::Protocol(_))
        ));
    }
}
