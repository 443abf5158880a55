//! The pickle serdes against pickles Python wrote, and against hostile ones.

use std::collections::BTreeMap;

use bytes::Bytes;
use serde_pickle::{HashableValue, Value};

use super::{flags, Pickle, PickleValue, Serde};
use crate::Error;

const PLAIN: &str = include_str!("testdata/plain-pickles.txt");

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(&text[at..at + 2], 16).unwrap())
        .collect()
}

fn read(data: &[u8]) -> crate::Result<Value> {
    PickleValue::new().deserialize(b"k", Bytes::copy_from_slice(data), flags::PICKLE)
}

fn refusal(data: &[u8]) -> String {
    match read(data) {
        Err(Error::Serde(message)) => message,
        other => panic!("not refused: {other:?}"),
    }
}

fn text(s: &str) -> Value {
    Value::String(s.into())
}

fn key(s: &str) -> HashableValue {
    HashableValue::String(s.into())
}

#[test]
fn every_protocol_python_writes_reads_to_the_same_plain_value() {
    let mut read_count = 0;
    for line in PLAIN.lines().filter(|line| !line.starts_with('#')) {
        let (protocol, hex) = line.split_once(' ').unwrap();
        let Value::Dict(dict) = read(&unhex(hex)).unwrap() else {
            panic!("protocol {protocol}: not a dict")
        };
        let get = |name: &str| dict.get(&key(name)).unwrap_or_else(|| panic!("{name}"));
        assert_eq!(get("s"), &text("é😀"), "protocol {protocol}");
        assert_eq!(
            get("b"),
            &Value::Bytes(vec![0, 0xff]),
            "protocol {protocol}"
        );
        assert_eq!(
            get("ba"),
            &Value::Bytes(b"x".to_vec()),
            "protocol {protocol}"
        );
        assert_eq!(get("i").to_string(), "1267650600228229401496703205376");
        assert_eq!(get("neg"), &Value::I64(-5));
        assert_eq!(get("f"), &Value::F64(1.5));
        assert_eq!(get("t"), &Value::Bool(true));
        assert_eq!(get("none"), &Value::None);
        let nested = Value::List(vec![Value::I64(1), Value::List(vec![Value::I64(2)])]);
        assert_eq!(get("l"), &nested);
        assert_eq!(get("tu"), &Value::Tuple(vec![Value::I64(1), text("a")]));
        let set = [HashableValue::I64(1), HashableValue::I64(2)]
            .into_iter()
            .collect();
        assert_eq!(get("set"), &Value::Set(set), "protocol {protocol}");
        let frozen = [HashableValue::I64(3)].into_iter().collect();
        assert_eq!(get("fs"), &Value::FrozenSet(frozen), "protocol {protocol}");
        assert_eq!(get("shared"), &Value::List(vec![text("rep"); 3]));
        read_count += 1;
    }
    assert_eq!(read_count, 6);
}

#[test]
fn writes_str_int_and_bytes_as_pymemcache_and_the_rest_as_pickles() {
    let serde = PickleValue::new();
    let write = |value: Value| serde.serialize(b"k", &value).unwrap();
    assert_eq!(write(text("é")), (Bytes::from("é"), flags::TEXT));
    assert_eq!(write(Value::I64(-3)), (Bytes::from("-3"), flags::INTEGER));
    let big: num_bigint::BigInt = "123456789012345678901234567890".parse().unwrap();
    let (data, flags) = write(Value::Int(big.clone()));
    assert_eq!(
        (&data[..], flags),
        (&b"123456789012345678901234567890"[..], 2)
    );
    assert_eq!(
        serde.deserialize(b"k", data, flags).unwrap(),
        Value::Int(big)
    );
    assert_eq!(
        write(Value::Bytes(vec![1])),
        (Bytes::from_static(b"\x01"), 0)
    );
    let mut dict = BTreeMap::new();
    dict.insert(key("a"), Value::List(vec![Value::F64(0.5), Value::None]));
    let (data, flags) = write(Value::Dict(dict.clone()));
    assert_eq!((&data[..2], flags), (&b"\x80\x03"[..], flags::PICKLE));
    assert_eq!(
        serde.deserialize(b"k", data, flags).unwrap(),
        Value::Dict(dict.clone())
    );
    let (data, _) = PickleValue::new()
        .protocol_2()
        .serialize(b"k", &Value::Dict(dict))
        .unwrap();
    assert_eq!(&data[..2], b"\x80\x02");
}

#[test]
fn typed_values_round_trip_and_mismatches_are_serde_errors() {
    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Entry {
        name: String,
        hits: u32,
        tags: Vec<String>,
    }
    let serde = Pickle::<Entry>::new();
    let entry = Entry {
        name: "a".into(),
        hits: 3,
        tags: vec!["x".into()],
    };
    let (data, flags) = serde.serialize(b"k", &entry).unwrap();
    assert_eq!(serde.deserialize(b"k", data, flags).unwrap(), entry);
    let err = serde
        .deserialize(b"k", Bytes::from("7"), flags::INTEGER)
        .unwrap_err();
    assert!(matches!(err, Error::Serde(_)), "{err}");
    let err = Pickle::<String>::new()
        .deserialize(b"k", Bytes::from_static(b"\xff"), flags::TEXT)
        .unwrap_err();
    assert!(matches!(err, Error::Serde(_)), "{err}");
}

#[test]
fn os_system_through_global_and_reduce_is_refused() {
    // pickle.dumps of an object whose __reduce__ returns (os.system, ("echo pwned",)).
    let protocol_4 = b"\x80\x04\x95%\x00\x00\x00\x00\x00\x00\x00\x8c\x05posix\x94\x8c\x06system\x94\x93\x94\x8c\necho pwned\x94\x85\x94R\x94.";
    let protocol_2 = b"\x80\x02cposix\nsystem\nq\x00X\n\x00\x00\x00echo pwnedq\x01\x85q\x02Rq\x03.";
    let protocol_0 = b"cos\nsystem\n(S'echo pwned'\ntR.";
    for pickle in [&protocol_4[..], &protocol_2[..], &protocol_0[..]] {
        let message = refusal(pickle);
        assert!(message.contains("system"), "{message}");
        assert!(message.contains("does not unpickle"), "{message}");
    }
}

#[test]
fn class_instances_are_refused_not_read_as_dicts() {
    // pickle.dumps(Point()) of `class Point: def __init__(self): self.x = 1`.
    let protocol_4 = b"\x80\x04\x95#\x00\x00\x00\x00\x00\x00\x00\x8c\x08__main__\x94\x8c\x05Point\x94\x93\x94)\x81\x94}\x94\x8c\x01x\x94K\x01sb.";
    let protocol_0 = b"ccopy_reg\n_reconstructor\np0\n(c__main__\nPoint\np1\nc__builtin__\nobject\np2\nNtp3\nRp4\n(dp5\nVx\np6\nI1\nsb.";
    for pickle in [&protocol_4[..], &protocol_0[..]] {
        let message = refusal(pickle);
        assert!(
            message.contains("Point") || message.contains("_reconstructor"),
            "{message}"
        );
    }
    // NEWOBJ on an allowed global is still an instance.
    let message = refusal(b"\x80\x02c__builtin__\nset\n)\x81.");
    assert!(message.contains("class instance"), "{message}");
}

#[test]
fn a_memo_bomb_is_refused_before_it_expands() {
    // Each list holds the previous one twice: 2^40 elements once copied.
    let mut bomb = b"\x80\x02]q\x00".to_vec();
    for level in 1..=40u8 {
        bomb.extend_from_slice(&[b'(', b'h', level - 1, b'h', level - 1, b'l', b'q', level]);
    }
    bomb.push(b'.');
    let message = refusal(&bomb);
    assert!(message.contains("decodes to more than"), "{message}");
}

#[test]
fn nesting_past_the_bound_is_refused() {
    let depth = super::pickle_guard::MAX_DEPTH as usize + 10;
    let mut deep = b"\x80\x02".to_vec();
    deep.extend(std::iter::repeat(b']').take(depth));
    deep.extend(std::iter::repeat(b'a').take(depth - 1));
    deep.push(b'.');
    assert!(refusal(&deep).contains("nested deeper"));
    // Within the bound it reads.
    let mut ok = b"\x80\x02".to_vec();
    ok.extend(std::iter::repeat(b']').take(50));
    ok.extend(std::iter::repeat(b'a').take(49));
    ok.push(b'.');
    assert!(read(&ok).is_ok());
}

#[test]
fn malformed_pickles_are_serde_errors_never_panics() {
    let mut inputs: Vec<Vec<u8>> = vec![
        vec![],
        b"\x80".to_vec(),
        b"\x80\x09N.".to_vec(),
        b"X\xff\xff\xff\xff".to_vec(),
        b"\x8e\xff\xff\xff\xff\xff\xff\xff\xff".to_vec(),
        b"a.".to_vec(),
        b"(.".to_vec(),
        b"h\x05.".to_vec(),
        b"NN.".to_vec(),
        b"c__builtin__\nset\n.".to_vec(),
    ];
    // Every prefix of a real pickle.
    let (_, hex) = PLAIN.lines().last().unwrap().split_once(' ').unwrap();
    let real = unhex(hex);
    inputs.extend((0..real.len()).map(|len| real[..len].to_vec()));
    for input in inputs {
        let err = read(&input).unwrap_err();
        assert!(matches!(err, Error::Serde(_)), "{input:?}: {err}");
    }
}

#[test]
fn compressed_flags_name_the_wrapper() {
    let err = PickleValue::new()
        .deserialize(
            b"k",
            Bytes::from_static(b"x"),
            flags::PICKLE | flags::COMPRESSED,
        )
        .unwrap_err();
    assert!(err.to_string().contains("Compressed"), "{err}");
}

#[test]
fn integers_too_long_to_convert_quickly_are_refused() {
    let digits = "7".repeat(super::pickle_guard::MAX_INT_DIGITS + 1);
    let err = PickleValue::new()
        .deserialize(b"k", Bytes::from(digits.clone()), flags::INTEGER)
        .unwrap_err();
    assert!(matches!(err, Error::Serde(_)), "{err}");
    let protocol_0 = format!("L{digits}L\n.");
    assert!(refusal(protocol_0.as_bytes()).contains("digits"));
    // Python's own limit (4300 digits) reads.
    let fits = "7".repeat(4300);
    let value = PickleValue::new()
        .deserialize(b"k", Bytes::from(fits.clone()), flags::INTEGER)
        .unwrap();
    assert_eq!(value.to_string(), fits);
}

#[test]
fn mutated_pickles_never_panic() {
    // Every real pickle, with bytes flipped, cut and spliced: errors or
    // values, never a panic or an unbounded allocation.
    let originals: Vec<Vec<u8>> = PLAIN
        .lines()
        .filter(|line| !line.starts_with('#'))
        .map(|line| unhex(line.split_once(' ').unwrap().1))
        .collect();
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for round in 0..20_000 {
        let mut data = originals[round % originals.len()].clone();
        for _ in 0..1 + next() % 4 {
            let at = (next() as usize) % data.len();
            match next() % 3 {
                0 => data[at] = next() as u8,
                1 => data.truncate(at.max(1)),
                _ => {
                    let other = &originals[(next() as usize) % originals.len()];
                    let from = (next() as usize) % other.len();
                    data.splice(at..at, other[from..].iter().take(8).copied());
                }
            }
        }
        let _ = read(&data);
    }
}
