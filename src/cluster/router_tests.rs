//! The router without I/O: nodes are named by the last digit of each key.

use bytes::Bytes;

use super::*;
use crate::{
    ArithOp, LruCrawler, MetaFlag, MetaStatus, RawCommand, RawReply, RetrieveCommand, Store,
    StoreCommand,
};

/// The node of a key: its last digit (`"a2"` lives on node 2).
fn by_digit(key: &[u8]) -> Option<usize> {
    key.last()
        .filter(|byte| byte.is_ascii_digit())
        .map(|byte| usize::from(byte - b'0'))
        .or(Some(0))
}

fn no_nodes(_key: &[u8]) -> Option<usize> {
    None
}

fn key(text: &str) -> Bytes {
    Bytes::copy_from_slice(text.as_bytes())
}

fn get(keys: &[&str]) -> Request {
    Request::Retrieve(Retrieve {
        command: RetrieveCommand::Get,
        keys: keys.iter().map(|k| key(k)).collect(),
    })
}

fn set(k: &str) -> Request {
    Request::Store(Store {
        command: StoreCommand::Set,
        key: key(k),
        flags: 0,
        exptime: 0,
        value: Bytes::from_static(b"v"),
        noreply: false,
    })
}

fn meta(command: MetaCommand, k: &str) -> MetaRequest {
    MetaRequest {
        command,
        key: key(k),
        flags: vec![MetaFlag::bare(b'v')],
        data: None,
    }
}

fn positions(groups: &[Group]) -> Vec<(usize, Vec<usize>)> {
    groups
        .iter()
        .map(|group| (group.node, group.positions.clone()))
        .collect()
}

#[test]
fn every_request_kind_has_its_scope() {
    let cases = [
        (get(&["a"]), Scope::Keys),
        (Request::MetaBatch(vec![]), Scope::Keys),
        (set("a"), Scope::Key),
        (
            Request::Delete {
                key: key("a"),
                noreply: false,
            },
            Scope::Key,
        ),
        (
            Request::Arith {
                op: ArithOp::Incr,
                key: key("n"),
                delta: 1,
                noreply: false,
            },
            Scope::Key,
        ),
        (
            Request::Touch {
                key: key("a"),
                exptime: 10,
                noreply: false,
            },
            Scope::Key,
        ),
        (Request::Meta(meta(MetaCommand::Get, "a")), Scope::Key),
        (Request::Meta(meta(MetaCommand::Noop, "")), Scope::AnyNode),
        (Request::Version, Scope::AnyNode),
        (
            Request::FlushAll {
                delay: None,
                noreply: false,
            },
            Scope::AllNodes,
        ),
        (
            Request::Verbosity {
                level: 1,
                noreply: false,
            },
            Scope::AllNodes,
        ),
        (
            Request::CacheMemlimit {
                megabytes: 64,
                noreply: false,
            },
            Scope::AllNodes,
        ),
        (Request::SlabsAutomove { mode: 1 }, Scope::AllNodes),
        (Request::Quit, Scope::AllNodes),
        (Request::LruCrawler(LruCrawler::Enable), Scope::AllNodes),
        (Request::LruCrawler(LruCrawler::Sleep(5)), Scope::AllNodes),
        (
            Request::LruCrawler(LruCrawler::Crawl(key("all"))),
            Scope::AllNodes,
        ),
        (
            Request::LruCrawler(LruCrawler::Metadump(key("all"))),
            Scope::OneServer,
        ),
        (Request::Stats { args: vec![] }, Scope::OneServer),
        (
            Request::SlabsReassign { source: 1, dest: 2 },
            Scope::OneServer,
        ),
        (
            Request::Raw(RawCommand {
                line: key("stats"),
                data: None,
                reply: RawReply::UntilEnd,
            }),
            Scope::OneServer,
        ),
        (Request::Shutdown { graceful: true }, Scope::OneServer),
    ];
    for (request, expected) in cases {
        assert_eq!(request.scope(), expected, "{request:?}");
    }
}

#[test]
fn a_one_key_request_goes_whole_to_its_node() {
    assert_eq!(
        route(set("a3"), by_digit),
        Route::Node {
            node: 3,
            request: set("a3"),
            read: false
        }
    );
    // A meta command is routed on its raw key, a binary one too.
    let binary = meta(MetaCommand::Delete, "\u{1}\u{2} 7");
    assert!(matches!(
        route(Request::Meta(binary), by_digit),
        Route::Node {
            node: 7,
            read: false,
            ..
        }
    ));
    assert_eq!(route(set("a3"), no_nodes), Route::NoNodes { read: false });
}

#[test]
fn server_wide_commands_are_not_split() {
    let flush = Request::FlushAll {
        delay: None,
        noreply: false,
    };
    assert_eq!(route(flush.clone(), by_digit), Route::AllNodes(flush));
    assert_eq!(
        route(Request::Version, no_nodes),
        Route::AnyNode(Request::Version)
    );
    let noop = Request::Meta(meta(MetaCommand::Noop, ""));
    assert_eq!(route(noop.clone(), by_digit), Route::AnyNode(noop));
    assert_eq!(
        route(Request::Stats { args: vec![] }, by_digit),
        Route::OneServer
    );
}

#[test]
fn a_retrieval_splits_by_node_in_first_seen_order() {
    let request = get(&["a2", "b1", "c2", "d0", "e1", "c2"]);
    let Route::Keys { retrieve, groups } = route(request.clone(), by_digit) else {
        panic!("not split")
    };
    assert_eq!(Request::Retrieve(retrieve.clone()), request);
    assert_eq!(
        positions(&groups),
        vec![(2, vec![0, 2, 5]), (1, vec![1, 4]), (0, vec![3])]
    );
    // Each node is asked for its keys in request order.
    let part = part_keys(&retrieve, &groups[0]);
    assert_eq!(part.keys, vec![key("a2"), key("c2"), key("c2")]);
    assert_eq!(part.command, RetrieveCommand::Get);
}

#[test]
fn a_retrieval_on_one_node_is_sent_as_it_is() {
    let request = get(&["a4", "b4"]);
    assert_eq!(
        route(request.clone(), by_digit),
        Route::Node {
            node: 4,
            request,
            read: true
        }
    );
    assert_eq!(
        route(get(&[]), by_digit),
        Route::Keys {
            retrieve: Retrieve {
                command: RetrieveCommand::Get,
                keys: vec![]
            },
            groups: vec![]
        }
    );
    assert_eq!(
        route(get(&["a", "b"]), no_nodes),
        Route::NoNodes { read: true }
    );
}

#[test]
fn a_meta_batch_splits_by_node_and_answers_its_noops() {
    let batch = vec![
        meta(MetaCommand::Get, "a1"),
        meta(MetaCommand::Noop, ""),
        meta(MetaCommand::Set, "b2"),
        meta(MetaCommand::Get, "c1"),
    ];
    let Route::Batch {
        parts,
        groups,
        noops,
        count,
    } = route(Request::MetaBatch(batch.clone()), by_digit)
    else {
        panic!("not split")
    };
    assert_eq!(count, 4);
    assert_eq!(noops, vec![1]);
    assert_eq!(positions(&groups), vec![(1, vec![0, 3]), (2, vec![2])]);
    assert_eq!(
        parts,
        vec![
            vec![batch[0].clone(), batch[3].clone()],
            vec![batch[2].clone()]
        ]
    );
    // Without nodes: an error, unless nothing needs a node.
    assert_eq!(
        route(Request::MetaBatch(batch), no_nodes),
        Route::NoNodes { read: false }
    );
    let noops_only = vec![meta(MetaCommand::Noop, "")];
    assert!(matches!(
        route(Request::MetaBatch(noops_only), no_nodes),
        Route::Batch { groups, noops, .. } if groups.is_empty() && noops == vec![0]
    ));
}

#[test]
fn grouping_partitioning_and_placing_round_trip() {
    let groups = group_by_node([(0, 5), (1, 3), (2, 5), (3, 9), (4, 3)]);
    assert_eq!(
        positions(&groups),
        vec![(5, vec![0, 2]), (3, vec![1, 4]), (9, vec![3])]
    );
    let items = vec!["a", "b", "c", "d", "e", "unlisted"];
    let parts = partition(items, &groups);
    assert_eq!(parts, vec![vec!["a", "c"], vec!["b", "e"], vec!["d"]]);
    // Each part's replies go back to its positions; a missing one stays None.
    let replies = groups
        .iter()
        .zip(parts)
        .map(|(group, part)| (group.positions.clone(), part));
    assert_eq!(
        place(7, replies),
        vec![
            Some("a"),
            Some("b"),
            Some("c"),
            Some("d"),
            Some("e"),
            None,
            None
        ]
    );
    // Positions out of range are ignored, never a panic.
    assert_eq!(place(1, [(vec![3], vec!["x"])]), vec![None]);
}

fn hit(k: &str) -> Value {
    Value {
        key: key(k),
        flags: 0,
        cas: None,
        data: key(k),
    }
}

#[test]
fn hits_merge_back_in_request_order() {
    let keys: Vec<Bytes> = ["a2", "b1", "miss2", "a2", "c1"].map(key).to_vec();
    let merged = merge_hits(
        &keys,
        vec![
            (&[0, 2, 3][..], vec![hit("a2"), hit("a2")]),
            (&[1, 4][..], vec![hit("b1"), hit("c1")]),
        ],
    )
    .unwrap();
    let merged: Vec<Bytes> = merged.into_iter().map(|value| value.key).collect();
    assert_eq!(merged, ["a2", "b1", "a2", "c1"].map(key).to_vec());
    // A key the node was not asked for, or hits out of order: an error.
    for values in [vec![hit("zz")], vec![hit("c1"), hit("b1")]] {
        let result = merge_hits(&keys, vec![(&[1, 4][..], values)]);
        assert!(matches!(result, Err(Error::Protocol(_))), "{result:?}");
    }
}

#[test]
fn batch_replies_carry_their_position_in_the_whole_batch() {
    let reply = MetaResponse {
        status: Some(MetaStatus::Value),
        flags: vec![MetaFlag::with(b'O', "0"), MetaFlag::bare(b'k')],
        ..MetaResponse::default()
    };
    let renumbered = renumber(reply.clone(), 17);
    assert_eq!(renumbered.token(b'O').map(|t| &t[..]), Some(&b"17"[..]));
    assert_eq!(renumbered.flags[1], reply.flags[1]);
    // A reply without an opaque token is left as it is.
    let plain = MetaResponse::default();
    assert_eq!(renumber(plain.clone(), 3), plain);
}
