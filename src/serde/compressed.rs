//! lz4 compression around any serde.

use bytes::Bytes;

use super::{flags, Serde};
use crate::{Error, Result};

/// Compresses large values of the wrapped serde with lz4 (flag 8).
///
/// Values of at least `threshold` bytes (400 by default, as pymemcache) are
/// compressed, and the compressed form is kept only when it is smaller. Reading
/// decompresses values that carry flag 8 and hands the rest to the inner serde
/// unchanged, so a cache can hold both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compressed<S> {
    inner: S,
    threshold: usize,
}

/// pymemcache's default `min_compress_len`.
pub const DEFAULT_THRESHOLD: usize = 400;

impl<S> Compressed<S> {
    /// Wraps `inner` with the default threshold.
    pub fn new(inner: S) -> Self {
        Compressed {
            inner,
            threshold: DEFAULT_THRESHOLD,
        }
    }

    /// Compress values of at least `threshold` bytes.
    pub fn threshold(mut self, threshold: usize) -> Self {
        self.threshold = threshold;
        self
    }
}

impl<S: Serde> Serde for Compressed<S> {
    type Value = S::Value;

    fn serialize(&self, key: &[u8], value: &S::Value) -> Result<(Bytes, u32)> {
        let (data, flags) = self.inner.serialize(key, value)?;
        if data.len() < self.threshold || flags & flags::COMPRESSED != 0 {
            return Ok((data, flags));
        }
        let compressed = lz4_flex::compress_prepend_size(&data);
        if compressed.len() < data.len() {
            Ok((compressed.into(), flags | flags::COMPRESSED))
        } else {
            Ok((data, flags))
        }
    }

    fn deserialize(&self, key: &[u8], data: Bytes, flags: u32) -> Result<S::Value> {
        if flags & flags::COMPRESSED == 0 {
            return self.inner.deserialize(key, data, flags);
        }
        let plain = decompress(&data).ok_or_else(|| {
            Error::Serde(format!(
                "value of key {} does not decompress",
                crate::error::quote(key, 64)
            ))
        })?;
        self.inner
            .deserialize(key, plain.into(), flags & !flags::COMPRESSED)
    }
}

/// Decompresses lz4 data with its size prepended (4 bytes, little endian).
///
/// The declared size is checked against what lz4 can possibly expand to
/// (255 output bytes per input byte) before anything is allocated, so a
/// corrupt or hostile prefix cannot make the client allocate gigabytes.
fn decompress(data: &[u8]) -> Option<Vec<u8>> {
    let (prefix, block) = data.split_first_chunk::<4>()?;
    let size = u32::from_le_bytes(*prefix) as usize;
    if size > block.len().saturating_mul(255) {
        return None;
    }
    let mut plain = vec![0; size];
    let written = lz4_flex::block::decompress_into(block, &mut plain).ok()?;
    (written == size).then_some(plain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serde::{CacheValue, PyFlags, RawBytes};

    #[test]
    fn small_values_stay_plain() {
        let serde = Compressed::new(RawBytes);
        let value = Bytes::from(vec![b'a'; 399]);
        let (data, flags) = serde.serialize(b"k", &value).unwrap();
        assert_eq!((data, flags), (value, 0));
    }

    #[test]
    fn large_compressible_values_are_compressed_and_come_back() {
        let serde = Compressed::new(PyFlags);
        let value = CacheValue::Text("memclient ".repeat(100));
        let (data, flags) = serde.serialize(b"k", &value).unwrap();
        assert_eq!(flags, flags::TEXT | flags::COMPRESSED);
        assert!(data.len() < 1000);
        assert_eq!(serde.deserialize(b"k", data, flags).unwrap(), value);
    }

    #[test]
    fn incompressible_values_are_kept_plain() {
        // A byte sequence with no repeats compresses to more than it was.
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let noise: Vec<u8> = (0..1000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        let serde = Compressed::new(RawBytes).threshold(10);
        let (data, flags) = serde.serialize(b"k", &Bytes::from(noise.clone())).unwrap();
        assert_eq!(flags, 0);
        assert_eq!(&data[..], &noise[..]);
    }

    #[test]
    fn corrupt_compressed_data_is_a_serde_error() {
        let serde = Compressed::new(RawBytes);
        let err = serde
            .deserialize(
                b"k",
                Bytes::from_static(b"\xff\xff\xff\x7fgarbage"),
                flags::COMPRESSED,
            )
            .unwrap_err();
        assert!(matches!(err, Error::Serde(_)), "{err}");
        // A plausible size whose block does not fill it.
        let mut short = lz4_flex::compress_prepend_size(&[b'x'; 500]);
        short[0] = short[0].wrapping_add(1);
        let err = serde
            .deserialize(b"k", short.into(), flags::COMPRESSED)
            .unwrap_err();
        assert!(matches!(err, Error::Serde(_)), "{err}");
    }
}
