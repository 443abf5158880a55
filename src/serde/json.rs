//! [`Json`]: any `Serialize + DeserializeOwned` type as JSON (feature `json`).

use std::fmt;
use std::marker::PhantomData;

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{flags, Serde};
use crate::{Error, Result};

/// Structured values as JSON text (serde_json), for values only Rust reads
/// or that other languages read as JSON.
///
/// Values are stored as UTF-8 text with flags 16, so a Python service with
/// pymemcache's default serde gets a `str` for `json.loads`, and
/// [`PyFlags`](super::PyFlags) reads them as text. Reading accepts flags 16
/// and 0 (raw bytes holding JSON); any other flags, or text that is not JSON
/// of the type, is an [`Error::Serde`].
///
/// ```
/// use memclient::serde::{Json, Serde};
/// use std::collections::BTreeMap;
///
/// let serde = Json::<BTreeMap<String, Vec<u32>>>::new();
/// let value = BTreeMap::from([("a".to_string(), vec![1, 2])]);
/// let (data, flags) = serde.serialize(b"k", &value).unwrap();
/// assert_eq!((&data[..], flags), (&br#"{"a":[1,2]}"#[..], 16));
/// assert_eq!(serde.deserialize(b"k", data, flags).unwrap(), value);
/// ```
pub struct Json<T> {
    _value: PhantomData<fn(T) -> T>,
}

impl<T> Json<T> {
    /// The JSON serde.
    pub fn new() -> Self {
        Json {
            _value: PhantomData,
        }
    }
}

impl<T> Default for Json<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Clone for Json<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Json<T> {}

impl<T> fmt::Debug for Json<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Json")
    }
}

impl<T: Serialize + DeserializeOwned> Serde for Json<T> {
    type Value = T;

    fn serialize(&self, key: &[u8], value: &T) -> Result<(Bytes, u32)> {
        let data = serde_json::to_vec(value).map_err(|err| json_error(key, &err))?;
        Ok((data.into(), flags::TEXT))
    }

    fn deserialize(&self, key: &[u8], data: Bytes, flags: u32) -> Result<T> {
        if flags != flags::TEXT && flags != flags::BYTES {
            return Err(Error::Serde(format!(
                "value of key {} has flags {flags}, not JSON (flags 16 or 0){}",
                crate::error::quote(key, 64),
                if flags & flags::COMPRESSED != 0 {
                    ": read it with memclient::serde::Compressed::new(Json::new())"
                } else {
                    ""
                }
            )));
        }
        serde_json::from_slice(&data).map_err(|err| json_error(key, &err))
    }
}

fn json_error(key: &[u8], err: &serde_json::Error) -> Error {
    Error::Serde(format!(
        "value of key {}: JSON: {err}",
        crate::error::quote(key, 64)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serde::{CacheValue, Compressed, PyFlags};

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Entry {
        name: String,
        score: f64,
        tags: Option<Vec<String>>,
    }

    #[test]
    fn round_trips_and_reads_as_text_elsewhere() {
        let serde = Json::<Entry>::new();
        let entry = Entry {
            name: "é".into(),
            score: 0.1,
            tags: None,
        };
        let (data, flags) = serde.serialize(b"k", &entry).unwrap();
        assert_eq!(
            PyFlags.deserialize(b"k", data.clone(), flags).unwrap(),
            CacheValue::Text(r#"{"name":"é","score":0.1,"tags":null}"#.into())
        );
        assert_eq!(serde.deserialize(b"k", data, flags).unwrap(), entry);
    }

    #[test]
    fn compressed_json_comes_back() {
        let serde = Compressed::new(Json::<Vec<String>>::new());
        let value = vec!["memclient".to_string(); 100];
        let (data, flags) = serde.serialize(b"k", &value).unwrap();
        assert_eq!(flags, flags::TEXT | flags::COMPRESSED);
        assert_eq!(serde.deserialize(b"k", data, flags).unwrap(), value);
    }

    #[test]
    fn other_flags_and_bad_json_are_serde_errors() {
        let serde = Json::<Entry>::new();
        for (data, flags) in [(&b"{}"[..], 1), (&b"{"[..], 16), (&br#"{"name":1}"#[..], 0)] {
            let err = serde
                .deserialize(b"k", Bytes::copy_from_slice(data), flags)
                .unwrap_err();
            assert!(matches!(err, Error::Serde(_)), "{err}");
        }
    }
}
