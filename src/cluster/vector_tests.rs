//! Placement against the libmemcached MD5 and twemproxy reference vectors:
//! every key lands on the node the real client or proxy chose.

use super::*;

const LIBMEMCACHED_MD5: &str = include_str!("testdata/libmemcached-md5-vectors.tsv");
const TWEMPROXY: &str = include_str!("testdata/twemproxy-vectors.tsv");

/// The rows of a vector file: the key and one node per column, by column name.
fn rows(tsv: &'static str) -> (Vec<&'static str>, Vec<Vec<&'static str>>) {
    let mut lines = tsv.lines().filter(|line| !line.is_empty());
    let header = lines.next().expect("a header").split('\t').collect();
    let rows = lines.map(|line| line.split('\t').collect()).collect();
    (header, rows)
}

/// How many keys of `column` `hashing` places on the node the file names;
/// fails on the first that differs.
fn placed(tsv: &'static str, column: &str, nodes: &[NodeSpec], hashing: Hashing) -> usize {
    let (header, rows) = rows(tsv);
    let at = header
        .iter()
        .position(|name| *name == column)
        .expect(column);
    let locator = hashing.locator(nodes);
    for row in &rows {
        assert_eq!(row.len(), header.len(), "{row:?}");
        let index = locator.locate(row[0].as_bytes()).expect("a node");
        assert_eq!(nodes[index].name(), row[at], "{column}: key {:?}", row[0]);
    }
    rows.len()
}

fn four_nodes() -> Vec<NodeSpec> {
    (11211..=11214)
        .map(|port| NodeSpec::new(format!("127.0.0.1:{port}").parse().unwrap()))
        .collect()
}

/// The servers as the reference twemproxy listed them, with or without names.
fn twemproxy_nodes(named: bool) -> Vec<NodeSpec> {
    (1..=4)
        .map(|n| {
            let line = format!("127.0.0.1:{}:1", 11210 + n);
            let line = if named {
                format!("{line} cache{n}")
            } else {
                line
            };
            NodeSpec::from_twemproxy(&line).unwrap()
        })
        .collect()
}

#[test]
fn libmemcached_ketama_weighted_places_every_vector_key() {
    let hashing = Hashing::Ketama(KetamaOptions::libmemcached_weighted());
    let count = placed(
        LIBMEMCACHED_MD5,
        "libmemcached_ketama_weighted",
        &four_nodes(),
        hashing,
    );
    assert_eq!(count, 200);
}

#[test]
fn libmemcached_ketama_md5_places_every_vector_key() {
    let hashing = Hashing::Ketama(KetamaOptions::libmemcached_md5());
    let count = placed(
        LIBMEMCACHED_MD5,
        "libmemcached_ketama_md5",
        &four_nodes(),
        hashing,
    );
    assert_eq!(count, 200);
}

#[test]
fn twemproxy_fnv1a_64_places_every_vector_key() {
    let hashing = Hashing::Ketama(KetamaOptions::twemproxy(KetamaHash::Fnv1a64));
    let count = placed(
        TWEMPROXY,
        "twemproxy_fnv1a64_ketama",
        &twemproxy_nodes(false),
        hashing,
    );
    assert_eq!(count, 200);
}

#[test]
fn twemproxy_md5_places_every_vector_key() {
    let hashing = Hashing::Ketama(KetamaOptions::twemproxy(KetamaHash::Md5));
    let count = placed(
        TWEMPROXY,
        "twemproxy_md5_ketama",
        &twemproxy_nodes(false),
        hashing,
    );
    assert_eq!(count, 200);
}

#[test]
fn twemproxy_md5_with_named_servers_places_every_vector_key() {
    let hashing = Hashing::Ketama(KetamaOptions::twemproxy(KetamaHash::Md5));
    let nodes = twemproxy_nodes(true);
    let count = placed(TWEMPROXY, "twemproxy_md5_ketama_named", &nodes, hashing);
    assert_eq!(count, 200);
}

#[test]
fn server_names_move_keys_only_when_twemproxy_uses_them() {
    // libmemcached has no server names: the same nodes, named, place alike.
    let (named, plain) = (twemproxy_nodes(true), twemproxy_nodes(false));
    let libmemcached = Hashing::Ketama(KetamaOptions::libmemcached_weighted());
    let twemproxy = Hashing::Ketama(KetamaOptions::twemproxy(KetamaHash::Md5));
    let keys: Vec<String> = (0..1000).map(|i| format!("key:{i}")).collect();
    let moved = |hashing: &Hashing| {
        let (a, b) = (hashing.locator(&named), hashing.locator(&plain));
        keys.iter()
            .filter(|key| a.locate(key.as_bytes()) != b.locate(key.as_bytes()))
            .count()
    };
    assert_eq!(moved(&libmemcached), 0);
    assert!(moved(&twemproxy) > 500, "{}", moved(&twemproxy));
}
