//! pymemcache's flags: the default serialization.

use bytes::Bytes;

use super::{BigInt, CacheValue, Serde};
use crate::{Error, Result};

/// The flag values pymemcache stores beside each value.
pub mod flags {
    /// Raw bytes.
    pub const BYTES: u32 = 0;
    /// A Python pickle: [`PyFlags`](crate::serde::PyFlags) returns it raw;
    /// the `pickle` feature's `Pickle` serde reads its plain data.
    pub const PICKLE: u32 = 1;
    /// A decimal integer.
    pub const INTEGER: u32 = 2;
    /// A decimal Python 2 long.
    pub const LONG: u32 = 4;
    /// The data is compressed (see [`Compressed`](crate::serde::Compressed)).
    pub const COMPRESSED: u32 = 8;
    /// UTF-8 text.
    pub const TEXT: u32 = 16;
}

/// The default serde: pymemcache's `python_memcache_serializer` flags.
///
/// Bytes are stored with flags 0, text with 16, integers with 2, longs with 4.
/// Flags are read as pymemcache reads them, bit by bit in its order (text,
/// integer, long, pickle); integers of any size read losslessly (see
/// [`CacheValue::BigInt`]). Pickles (flags 1) are handed back raw. Flags with
/// none of these bits read as bytes, as pymemcache does. Compressed data
/// (flag 8) needs [`Compressed`](super::Compressed) around this serde.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PyFlags;

impl Serde for PyFlags {
    type Value = CacheValue;

    fn serialize(&self, _key: &[u8], value: &CacheValue) -> Result<(Bytes, u32)> {
        Ok(match value {
            CacheValue::Bytes(data) => (data.clone(), flags::BYTES),
            CacheValue::Pickle(data) => (data.clone(), flags::PICKLE),
            CacheValue::Text(text) => (Bytes::copy_from_slice(text.as_bytes()), flags::TEXT),
            CacheValue::Int(number) => (number.to_string().into(), flags::INTEGER),
            CacheValue::Long(number) => (number.to_string().into(), flags::LONG),
            CacheValue::BigInt(number) => (
                Bytes::copy_from_slice(number.as_str().as_bytes()),
                flags::INTEGER,
            ),
        })
    }

    fn deserialize(&self, key: &[u8], data: Bytes, flags: u32) -> Result<CacheValue> {
        let bad = |what: &str| {
            Error::Serde(format!(
                "value of key {} has flags {flags} but is not {what}",
                crate::error::quote(key, 64)
            ))
        };
        if flags & flags::COMPRESSED != 0 {
            return Err(Error::Serde(format!(
                "value of key {} is compressed (flags {flags}): read it with \
                 memclient::serde::Compressed::new(PyFlags), which decompresses zlib \
                 (pymemcache's CompressedSerde) and lz4",
                crate::error::quote(key, 64)
            )));
        }
        if flags == flags::BYTES {
            Ok(CacheValue::Bytes(data))
        } else if flags & flags::TEXT != 0 {
            String::from_utf8(data.to_vec())
                .map(CacheValue::Text)
                .map_err(|_| bad("UTF-8 text"))
        } else if flags & flags::INTEGER != 0 {
            let number = parse_integer(&data).ok_or_else(|| bad("a decimal integer"))?;
            Ok(number
                .to_i64()
                .map_or(CacheValue::BigInt(number), CacheValue::Int))
        } else if flags & flags::LONG != 0 {
            let number = parse_integer(&data).ok_or_else(|| bad("a decimal integer"))?;
            Ok(number
                .to_i128()
                .map_or(CacheValue::BigInt(number), CacheValue::Long))
        } else if flags & flags::PICKLE != 0 {
            Ok(CacheValue::Pickle(data))
        } else {
            Ok(CacheValue::Bytes(data))
        }
    }
}

/// Parses a decimal integer of any size the way Python's `int()` reads
/// memcached's data: surrounding whitespace allowed (incr/decr leave
/// trailing spaces).
pub(crate) fn parse_integer(data: &[u8]) -> Option<BigInt> {
    std::str::from_utf8(data).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(value: CacheValue, expected_flags: u32) {
        let (data, flags) = PyFlags.serialize(b"k", &value).unwrap();
        assert_eq!(flags, expected_flags);
        assert_eq!(PyFlags.deserialize(b"k", data, flags).unwrap(), value);
    }

    #[test]
    fn every_kind_round_trips_with_pymemcache_flags() {
        round_trip(CacheValue::from(&b"\x00\xffraw"[..]), 0);
        round_trip(CacheValue::from("héllo"), 16);
        round_trip(CacheValue::Int(-42), 2);
        round_trip(CacheValue::Long(1 << 100), 4);
        round_trip(
            CacheValue::BigInt(format!("-{}", "1".repeat(30)).parse().unwrap()),
            2,
        );
        round_trip(CacheValue::Pickle(Bytes::from_static(b"\x80\x04K\x01.")), 1);
    }

    #[test]
    fn reads_what_pymemcache_writes() {
        // pymemcache stores str(42) with flag 2 and 'text' encoded as UTF-8 with 16.
        let int = PyFlags
            .deserialize(b"k", Bytes::from_static(b"42"), 2)
            .unwrap();
        assert_eq!(int, CacheValue::Int(42));
        // After `incr`, memcached may pad the number with spaces.
        let padded = PyFlags
            .deserialize(b"k", Bytes::from_static(b"5 "), 2)
            .unwrap();
        assert_eq!(padded, CacheValue::Int(5));
        let unknown = PyFlags
            .deserialize(b"k", Bytes::from_static(b"x"), 1 << 20)
            .unwrap();
        assert_eq!(unknown, CacheValue::Bytes(Bytes::from_static(b"x")));
    }

    #[test]
    fn integers_past_i64_and_i128_read_losslessly() {
        let big = "9779422825097170814130520290509729204916177376977609748848";
        for flags in [2, 4] {
            let value = PyFlags
                .deserialize(b"k", Bytes::from_static(big.as_bytes()), flags)
                .unwrap();
            assert_eq!(value, CacheValue::BigInt(big.parse().unwrap()));
        }
        // 2^63 is past i64 (flags 2) but fits i128 (flags 4).
        let two_63 = Bytes::from_static(b"9223372036854775808");
        assert_eq!(
            PyFlags.deserialize(b"k", two_63.clone(), 2).unwrap(),
            CacheValue::BigInt("9223372036854775808".parse().unwrap())
        );
        assert_eq!(
            PyFlags.deserialize(b"k", two_63, 4).unwrap(),
            CacheValue::Long(1 << 63)
        );
    }

    #[test]
    fn flags_are_tested_bit_by_bit_in_pymemcache_order() {
        // pymemcache: text before integer before pickle; no known bit: bytes.
        let text = PyFlags
            .deserialize(b"k", Bytes::from_static(b"12"), 16 | 2)
            .unwrap();
        assert_eq!(text, CacheValue::Text("12".into()));
        let pickle = PyFlags
            .deserialize(b"k", Bytes::from_static(b"\x80\x04K\x01."), 1 | 64)
            .unwrap();
        assert!(matches!(pickle, CacheValue::Pickle(_)));
    }

    #[test]
    fn compressed_data_names_the_serde_that_reads_it() {
        let err = PyFlags
            .deserialize(b"k", Bytes::from_static(b"x\x9c"), 24)
            .unwrap_err();
        assert!(
            err.to_string().contains("Compressed::new(PyFlags)"),
            "{err}"
        );
    }

    #[test]
    fn mismatched_data_is_a_serde_error() {
        for (data, flags) in [(&b"abc"[..], 2), (&b"\xff"[..], 16), (&b"x"[..], 8)] {
            let err = PyFlags
                .deserialize(b"k", Bytes::copy_from_slice(data), flags)
                .unwrap_err();
            assert!(matches!(err, Error::Serde(_)), "{err}");
        }
    }
}
