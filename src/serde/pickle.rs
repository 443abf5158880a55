//! [`Pickle`] and [`PickleValue`]: plain Python data, as pymemcache's
//! `PickleSerde` stores it (feature `pickle`).

use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_pickle::{DeOptions, SerOptions, Value};

use super::pyflags::parse_integer;
use super::{flags, pickle_guard, Serde};
use crate::{Error, Result};

/// The largest value a pickle may decode to by default (64 MiB): a hostile
/// pickle cannot make the client allocate more.
pub const DEFAULT_MAX_DECODED: usize = 64 << 20;

/// The options both pickle serdes share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Options {
    protocol_2: bool,
    max_decoded: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            protocol_2: false,
            max_decoded: DEFAULT_MAX_DECODED,
        }
    }
}

/// Any `Serialize + DeserializeOwned` type, stored as pymemcache's
/// `PickleSerde` stores Python values, so a Python service reads and writes
/// the same keys.
///
/// Writing follows pymemcache: a value that serializes to a string is stored
/// as UTF-8 text (flags 16), to an integer as decimal text (flags 2), to
/// bytes (`serde_bytes`) as raw bytes (flags 0), and anything else (structs
/// and maps become dicts, sequences lists, `Option::None` becomes `None`) as
/// a pickle of protocol 3 (flags 1), which `pickle.loads` reads from Python 3.0
/// on; [`protocol_2`](Self::protocol_2) writes protocol 2 for Python 2 peers.
///
/// Reading takes all of those flags, and pickles of every protocol (0 to 5)
/// that hold plain data only: str, bytes, bytearray, int, float, bool, None,
/// list, tuple, dict, set and frozenset, nested. A pickle that holds anything
/// else (a class instance, a `__reduce__` call, a reference to any global
/// such as `os.system`) is refused with [`Error::Serde`] before it is decoded;
/// nothing is ever called. Compressed values (flag 8) need
/// [`Compressed`](super::Compressed) around this serde. For values whose shape
/// is not known, or integers past `i64`, use [`PickleValue`].
///
/// ```
/// use memclient::serde::{Pickle, Serde};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Debug, PartialEq, Serialize, Deserialize)]
/// struct Session {
///     user: String,
///     roles: Vec<String>,
/// }
///
/// let serde = Pickle::<Session>::new();
/// let session = Session { user: "ada".into(), roles: vec!["admin".into()] };
/// let (data, flags) = serde.serialize(b"k", &session).unwrap();
/// assert_eq!(flags, 1); // a pickle: Python reads {'user': 'ada', 'roles': ['admin']}
/// assert_eq!(serde.deserialize(b"k", data, flags).unwrap(), session);
///
/// // What Python's PickleSerde writes for the str "hi" and the int 7.
/// let text = Pickle::<String>::new().deserialize(b"k", "hi".into(), 16).unwrap();
/// let number = Pickle::<i64>::new().deserialize(b"k", "7".into(), 2).unwrap();
/// assert_eq!((text.as_str(), number), ("hi", 7));
/// ```
pub struct Pickle<T> {
    options: Options,
    _value: PhantomData<fn(T) -> T>,
}

/// Any plain Python value as a dynamic [`serde_pickle::Value`], integers of
/// any size included; otherwise as [`Pickle`].
///
/// ```
/// use memclient::serde::{PickleValue, Serde};
/// use serde_pickle::Value;
///
/// // pickle.dumps({"n": 2**70}, 5)
/// let pickled = b"\x80\x05\x95\x13\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x01n\x94\x8a\t\x00\x00\x00\x00\x00\x00\x00\x00@s.";
/// let value = PickleValue::new()
///     .deserialize(b"k", pickled[..].into(), 1)
///     .unwrap();
/// let Value::Dict(dict) = value else { panic!("a dict") };
/// let n = dict.values().next().unwrap();
/// assert_eq!(n.to_string(), "1180591620717411303424");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PickleValue {
    options: Options,
}

macro_rules! options {
    () => {
        /// Write pickles of protocol 2 (Python 2.3 and later) rather than 3.
        pub fn protocol_2(mut self) -> Self {
            self.options.protocol_2 = true;
            self
        }

        /// Refuse pickles that would decode to more than about `bytes` bytes
        /// (default [`DEFAULT_MAX_DECODED`]).
        pub fn max_decoded(mut self, bytes: usize) -> Self {
            self.options.max_decoded = bytes;
            self
        }
    };
}

impl<T> Pickle<T> {
    /// The serde with protocol 3 and the default bound.
    pub fn new() -> Self {
        Pickle {
            options: Options::default(),
            _value: PhantomData,
        }
    }

    options!();
}

impl PickleValue {
    /// The serde with protocol 3 and the default bound.
    pub fn new() -> Self {
        Self::default()
    }

    options!();
}

impl<T> Default for Pickle<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Clone for Pickle<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Pickle<T> {}

impl<T> fmt::Debug for Pickle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pickle")
            .field("protocol_2", &self.options.protocol_2)
            .field("max_decoded", &self.options.max_decoded)
            .finish()
    }
}

impl<T: Serialize + DeserializeOwned> Serde for Pickle<T> {
    type Value = T;

    fn serialize(&self, key: &[u8], value: &T) -> Result<(Bytes, u32)> {
        let value = serde_pickle::to_value(value).map_err(|err| serde_error(key, &err))?;
        store(key, value, self.options)
    }

    fn deserialize(&self, key: &[u8], data: Bytes, flags: u32) -> Result<T> {
        let value = load(key, data, flags, self.options)?;
        serde_pickle::from_value(value).map_err(|err| serde_error(key, &err))
    }
}

impl Serde for PickleValue {
    type Value = Value;

    fn serialize(&self, key: &[u8], value: &Value) -> Result<(Bytes, u32)> {
        store(key, value.clone(), self.options)
    }

    fn deserialize(&self, key: &[u8], data: Bytes, flags: u32) -> Result<Value> {
        load(key, data, flags, self.options)
    }
}

/// pymemcache's `python_memcache_serializer`: str, int and bytes as
/// themselves, the rest pickled.
fn store(key: &[u8], value: Value, options: Options) -> Result<(Bytes, u32)> {
    Ok(match value {
        Value::String(text) => (text.into_bytes().into(), flags::TEXT),
        Value::I64(number) => (number.to_string().into(), flags::INTEGER),
        Value::Int(number) => (number.to_string().into(), flags::INTEGER),
        Value::Bytes(data) => (data.into(), flags::BYTES),
        other => {
            let ser = if options.protocol_2 {
                SerOptions::new().proto_v2()
            } else {
                SerOptions::new()
            };
            let data =
                serde_pickle::value_to_vec(&other, ser).map_err(|err| serde_error(key, &err))?;
            (data.into(), flags::PICKLE)
        }
    })
}

/// pymemcache's `python_memcache_deserializer`, with pickles checked for
/// plain data first.
fn load(key: &[u8], data: Bytes, flags: u32, options: Options) -> Result<Value> {
    let bad = |what: &str| {
        Error::Serde(format!(
            "value of key {} has flags {flags} but is not {what}",
            crate::error::quote(key, 64)
        ))
    };
    if flags & flags::COMPRESSED != 0 {
        return Err(Error::Serde(format!(
            "value of key {} is compressed (flags {flags}): read it with \
             memclient::serde::Compressed::new(Pickle::new())",
            crate::error::quote(key, 64)
        )));
    }
    if flags == flags::BYTES {
        Ok(Value::Bytes(data.to_vec()))
    } else if flags & flags::TEXT != 0 {
        String::from_utf8(data.to_vec())
            .map(Value::String)
            .map_err(|_| bad("UTF-8 text"))
    } else if flags & (flags::INTEGER | flags::LONG) != 0 {
        let number = parse_integer(&data).ok_or_else(|| bad("a decimal integer"))?;
        if number.as_str().trim_start_matches('-').len() > pickle_guard::MAX_INT_DIGITS {
            return Err(bad("an integer of at most 100000 digits"));
        }
        Ok(match number.to_i64() {
            Some(small) => Value::I64(small),
            None => Value::Int(
                num_bigint::BigInt::from_str(number.as_str()).map_err(|_| bad("an integer"))?,
            ),
        })
    } else if flags & flags::PICKLE != 0 {
        let limit = u64::try_from(options.max_decoded).unwrap_or(u64::MAX);
        pickle_guard::check(&data, limit).map_err(|why| {
            Error::Serde(format!(
                "value of key {} is a pickle that memclient does not unpickle: {why}",
                crate::error::quote(key, 64)
            ))
        })?;
        serde_pickle::value_from_slice(&data, DeOptions::new())
            .map_err(|err| serde_error(key, &err))
    } else {
        Ok(Value::Bytes(data.to_vec()))
    }
}

fn serde_error(key: &[u8], err: &serde_pickle::Error) -> Error {
    Error::Serde(format!(
        "value of key {}: pickle: {err}",
        crate::error::quote(key, 64)
    ))
}
