//! Values shared with Python: every value pymemcache 4.0 stored in
//! `tests/data/python-values.jsonl` (a copy of shared/reference) reads to the
//! value Python held, and written back by memclient, reads in pymemcache to
//! the same value again.
#![cfg(all(feature = "smol", feature = "pickle"))]

mod support;

#[path = "interop/pyenv.rs"]
mod pyenv;

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

use base64::Engine;
use bytes::Bytes;
use memclient::serde::serde_pickle::{HashableValue, Value};
use memclient::serde::{CacheValue, Codec, Compressed, PickleValue, PyFlags, Serde};
use memclient::{Client, Config, Connection, Result};
use serde_json::{json, Value as Json};
use support::Memcached;

const VALUES: &str = include_str!("data/python-values.jsonl");
const PEER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/interop/pymemcache_peer.py"
);

/// One line of python-values.jsonl.
struct Stored {
    key: String,
    flags: u32,
    data: Bytes,
    python: Json,
}

fn stored() -> Vec<Stored> {
    let b64 = base64::engine::general_purpose::STANDARD;
    VALUES
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let line: Json = serde_json::from_str(line).expect("a JSON line");
            Stored {
                key: line["key"].as_str().expect("key").to_string(),
                flags: line["flags"].as_u64().expect("flags") as u32,
                data: b64
                    .decode(line["data_b64"].as_str().expect("data"))
                    .unwrap()
                    .into(),
                python: line["python"].clone(),
            }
        })
        .collect()
}

/// Stores and reads `(data, flags)` as they are: what Python left.
struct AsStored;

impl Serde for AsStored {
    type Value = (Bytes, u32);

    fn serialize(&self, _key: &[u8], value: &(Bytes, u32)) -> Result<(Bytes, u32)> {
        Ok(value.clone())
    }

    fn deserialize(&self, _key: &[u8], data: Bytes, flags: u32) -> Result<(Bytes, u32)> {
        Ok((data, flags))
    }
}

type Raw = Client<Connection, AsStored>;

fn connect(server: &Memcached) -> Raw {
    smol::block_on(Config::new(&server.address).connect(memclient::smol::Smol))
        .expect("connect")
        .with_serde(AsStored)
}

/// A pickle value in python-values.jsonl's convention: top-level integers as
/// decimal strings, bytes as `{"bytes_b64"}`, tuples and sets as lists.
fn as_json(value: &Value, top: bool) -> Json {
    let b64 = base64::engine::general_purpose::STANDARD;
    match value {
        Value::None => Json::Null,
        Value::Bool(b) => json!(b),
        Value::I64(n) if top => json!(n.to_string()),
        Value::I64(n) => json!(n),
        Value::Int(n) => json!(n.to_string()),
        Value::F64(f) => json!(f),
        Value::Bytes(bytes) => json!({ "bytes_b64": b64.encode(bytes) }),
        Value::String(text) => json!(text),
        Value::List(items) | Value::Tuple(items) => {
            Json::Array(items.iter().map(|item| as_json(item, false)).collect())
        }
        Value::Set(items) | Value::FrozenSet(items) => {
            let items = items
                .iter()
                .map(|item| as_json(&item.clone().into_value(), false));
            Json::Array(items.collect())
        }
        Value::Dict(dict) => Json::Object(
            dict.iter()
                .map(|(key, value)| (hashable_key(key), as_json(value, false)))
                .collect(),
        ),
    }
}

fn hashable_key(key: &HashableValue) -> String {
    match key {
        HashableValue::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// The Python type each kind of key holds.
fn python_type(key: &str) -> &'static str {
    match key.split(':').next().unwrap() {
        "str" | "zstr" => "str",
        "int" | "bigint" | "zint" => "int",
        "bytes" => "bytes",
        "dict" | "dict2" | "zdict" => "dict",
        "float" => "float",
        "list" => "list",
        other => panic!("a kind of key this test does not know: {other}"),
    }
}

/// The serde pymemcache wrote each key with (the reference README).
fn python_serde(key: &str) -> &'static str {
    if key.starts_with('z') {
        "zlib"
    } else {
        "pickle"
    }
}

fn pickles() -> Compressed<PickleValue> {
    Compressed::new(PickleValue::new())
}

/// Every value Python stored reads to the value Python held.
fn read_every_stored_value(server: &Memcached, stored: &[Stored]) -> BTreeMap<String, Value> {
    let raw = connect(server);
    let mut values = BTreeMap::new();
    smol::block_on(async {
        for line in stored {
            assert!(raw
                .set(&line.key, (line.data.clone(), line.flags))
                .await
                .unwrap());
        }
        for line in stored {
            let (data, flags) = raw.get(&line.key).await.unwrap().expect("stored");
            let value = pickles()
                .deserialize(line.key.as_bytes(), data.clone(), flags)
                .unwrap_or_else(|err| panic!("{}: {err}", line.key));
            assert_eq!(as_json(&value, true), line.python, "{}", line.key);
            values.insert(line.key.clone(), value);
            // The default serde reads the values that are not pickles alike.
            if flags & 1 == 0 {
                let plain = Compressed::new(PyFlags)
                    .deserialize(line.key.as_bytes(), data, flags)
                    .unwrap();
                let as_python = match plain {
                    CacheValue::Text(text) => json!(text),
                    CacheValue::Int(n) => json!(n.to_string()),
                    CacheValue::BigInt(n) => json!(n.to_string()),
                    CacheValue::Bytes(bytes) => as_json(&Value::Bytes(bytes.to_vec()), true),
                    other => panic!("{}: read as {other:?}", line.key),
                };
                assert_eq!(as_python, line.python, "PyFlags, {}", line.key);
            }
        }
    });
    values
}

/// pymemcache's answers for `requests` (`(serde, key)`), in order.
fn python_reads(
    python: &std::path::Path,
    server: &Memcached,
    requests: &[(&str, String)],
) -> Vec<Json> {
    let mut child = Command::new(python)
        .args([PEER, "127.0.0.1", &server.port.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the virtualenv's python runs");
    let mut stdin = child.stdin.take().unwrap();
    for (serde, key) in requests {
        writeln!(stdin, "{serde} {key}").unwrap();
    }
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "the Python peer failed");
    let answers: Vec<Json> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(answers.len(), requests.len());
    answers
}

#[test]
fn every_python_value_reads_and_written_back_reads_in_pymemcache() {
    let stored = stored();
    assert_eq!(stored.len(), 40);
    let server = Memcached::start();
    let values = read_every_stored_value(&server, &stored);
    println!(
        "read {} of {} values Python stored",
        values.len(),
        stored.len()
    );

    let Some(python) = pyenv::python("python round trip", "pymemcache") else {
        return;
    };
    // Written back as a Python service of the same serde would: zlib for the
    // keys pymemcache compressed, pickles (or str/int/bytes) for the rest.
    let raw = connect(&server);
    let mut requests = Vec::new();
    smol::block_on(async {
        for line in &stored {
            let key = format!("rust:{}", line.key);
            let serde = match python_serde(&line.key) {
                "zlib" => pickles().codec(Codec::Zlib),
                _ => pickles(),
            };
            let written = serde.serialize(key.as_bytes(), &values[&line.key]).unwrap();
            assert!(raw.set(&key, written).await.unwrap());
            requests.push((python_serde(&line.key), key));
        }
    });
    let answers = python_reads(&python, &server, &requests);
    for (line, answer) in stored.iter().zip(&answers) {
        assert_eq!(answer.get("error"), None, "{}: {answer}", line.key);
        assert_eq!(
            answer["python"], line.python,
            "pymemcache read back {}",
            line.key
        );
        assert_eq!(answer["type"], python_type(&line.key), "{}", line.key);
    }
    println!(
        "pymemcache read back {} of {} values memclient wrote",
        answers.len(),
        stored.len()
    );
}

#[test]
fn memclient_lz4_values_read_in_python_with_lz4_block() {
    let Some(python) = pyenv::python("lz4 round trip", "pymemcache, lz4.block") else {
        return;
    };
    let server = Memcached::start();
    let raw = connect(&server);
    let texts: Vec<String> = (0..3)
        .map(|n| format!("lz4 é {n} ").repeat(100 + n))
        .collect();
    let mut requests = Vec::new();
    smol::block_on(async {
        for (n, text) in texts.iter().enumerate() {
            let key = format!("lz4:{n}");
            let written = Compressed::new(PyFlags)
                .serialize(key.as_bytes(), &CacheValue::Text(text.clone()))
                .unwrap();
            assert_eq!(written.1, 16 | 8);
            assert!(raw.set(&key, written).await.unwrap());
            requests.push(("lz4", key));
        }
    });
    let answers = python_reads(&python, &server, &requests);
    for (text, answer) in texts.iter().zip(&answers) {
        assert_eq!(answer["python"], json!(text), "{answer}");
    }
}

#[test]
fn a_typed_rust_struct_reads_in_python_as_a_dict() {
    #[derive(serde::Serialize, serde::Deserialize)]
    struct Session {
        user: String,
        roles: Vec<String>,
        score: f64,
        active: bool,
        note: Option<String>,
        visits: u64,
    }
    let Some(python) = pyenv::python("typed round trip", "pymemcache") else {
        return;
    };
    let server = Memcached::start();
    let raw = connect(&server);
    let session = Session {
        user: "ada".into(),
        roles: vec!["admin".into(), "é".into()],
        score: 1.5,
        active: true,
        note: None,
        visits: u64::MAX,
    };
    let written = memclient::serde::Pickle::<Session>::new()
        .serialize(b"typed:session", &session)
        .unwrap();
    assert_eq!(written.1, 1);
    smol::block_on(async { assert!(raw.set("typed:session", written).await.unwrap()) });
    let answers = python_reads(&python, &server, &[("pickle", "typed:session".to_string())]);
    let expected = json!({
        "user": "ada",
        "roles": ["admin", "é"],
        "score": 1.5,
        "active": true,
        "note": null,
        "visits": u64::MAX.to_string(),
    });
    assert_eq!(answers[0]["python"], expected, "{}", answers[0]);
    assert_eq!(answers[0]["type"], "dict");
}
