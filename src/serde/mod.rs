//! Turning values into stored bytes and flags, and back.
//!
//! [`Serde`] is the seam; [`PyFlags`] (the default) speaks pymemcache's flags so
//! a Rust service and a Python service can share one cache; [`RawBytes`] passes
//! bytes through at no cost; [`Compressed`] wraps any serde with zlib or lz4
//! (and reads both). With feature `pickle`, `Pickle` and `PickleValue` read
//! and write the plain Python data of pymemcache's `PickleSerde`; with
//! feature `json`, `Json` stores any serde type as JSON; with feature
//! `postcard`, `Postcard` in a compact binary format.

mod bigint;
mod codec;
mod compressed;
#[cfg(feature = "json")]
mod json;
#[cfg(feature = "pickle")]
mod pickle;
#[cfg(feature = "pickle")]
mod pickle_guard;
#[cfg(all(test, feature = "pickle"))]
mod pickle_tests;
#[cfg(feature = "postcard")]
mod postcard;
mod pyflags;
mod value;

use bytes::Bytes;

pub use bigint::BigInt;
pub use codec::Codec;
pub use compressed::{Compressed, DEFAULT_MAX_DECOMPRESSED, DEFAULT_THRESHOLD};
#[cfg(feature = "json")]
pub use json::Json;
#[cfg(feature = "pickle")]
pub use pickle::{Pickle, PickleValue, DEFAULT_MAX_DECODED};
#[cfg(feature = "postcard")]
pub use postcard::Postcard;
pub use pyflags::{flags, PyFlags};
/// The pickle crate whose [`Value`](serde_pickle::Value) [`PickleValue`] reads
/// and writes (feature `pickle`).
#[cfg(feature = "pickle")]
pub use serde_pickle;
pub use value::CacheValue;

use crate::Result;

/// Serializes values to `(bytes, flags)` for storage, and back.
pub trait Serde: Send + Sync {
    /// The type of the values the client stores and returns.
    type Value;

    /// The bytes and the 32-bit flags to store for `value` under `key`.
    fn serialize(&self, key: &[u8], value: &Self::Value) -> Result<(Bytes, u32)>;

    /// The value stored under `key` as `data` with `flags`.
    fn deserialize(&self, key: &[u8], data: Bytes, flags: u32) -> Result<Self::Value>;
}

/// Bytes in, bytes out: no conversion and no copy. Stores flags 0 and ignores
/// the flags it reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RawBytes;

impl Serde for RawBytes {
    type Value = Bytes;

    fn serialize(&self, _key: &[u8], value: &Bytes) -> Result<(Bytes, u32)> {
        Ok((value.clone(), 0))
    }

    fn deserialize(&self, _key: &[u8], data: Bytes, _flags: u32) -> Result<Bytes> {
        Ok(data)
    }
}

impl<S: Serde + ?Sized> Serde for std::sync::Arc<S> {
    type Value = S::Value;

    fn serialize(&self, key: &[u8], value: &Self::Value) -> Result<(Bytes, u32)> {
        (**self).serialize(key, value)
    }

    fn deserialize(&self, key: &[u8], data: Bytes, flags: u32) -> Result<Self::Value> {
        (**self).deserialize(key, data, flags)
    }
}
