//! Compression (zlib or lz4) around any serde.

use bytes::Bytes;

use super::codec::{self, Codec};
use super::{flags, Serde};
use crate::{Error, Result};

/// Compresses large values of the wrapped serde (flag 8), as pymemcache's
/// `CompressedSerde` does.
///
/// Values longer than `threshold` bytes (400 by default, as pymemcache: a
/// value of exactly 400 bytes stays plain) are compressed with the
/// [`Codec`] chosen (lz4 by default), and the compressed form is kept unless
/// it is larger than the plain one. Reading decompresses every value that
/// carries flag 8, whether zlib (what pymemcache writes) or lz4 (what
/// memclient writes by default), and hands the rest to the inner serde
/// unchanged, so a cache can hold all three.
///
/// ```
/// use memclient::serde::{Codec, Compressed, PyFlags, Serde, CacheValue};
///
/// // What a Python service with `CompressedSerde()` reads and writes.
/// let serde = Compressed::new(PyFlags).codec(Codec::Zlib);
/// let value = CacheValue::Text("shared ".repeat(100));
/// let (data, flags) = serde.serialize(b"k", &value).unwrap();
/// assert_eq!(flags, 16 | 8);
/// assert_eq!(&data[..2], b"\x78\x9c"); // a zlib stream
/// assert_eq!(serde.deserialize(b"k", data, flags).unwrap(), value);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compressed<S> {
    inner: S,
    threshold: usize,
    codec: Codec,
    max_decompressed: usize,
}

/// pymemcache's default `min_compress_len`.
pub const DEFAULT_THRESHOLD: usize = 400;

/// The largest value [`Compressed`] decompresses by default (64 MiB): a
/// corrupt or hostile value cannot make the client allocate more.
pub const DEFAULT_MAX_DECOMPRESSED: usize = 64 << 20;

impl<S> Compressed<S> {
    /// Wraps `inner` with the default threshold and codec (lz4).
    pub fn new(inner: S) -> Self {
        Compressed {
            inner,
            threshold: DEFAULT_THRESHOLD,
            codec: Codec::default(),
            max_decompressed: DEFAULT_MAX_DECOMPRESSED,
        }
    }

    /// Compress values longer than `threshold` bytes. Unlike pymemcache,
    /// where `min_compress_len=0` turns compression off, 0 compresses every
    /// non-empty value.
    pub fn threshold(mut self, threshold: usize) -> Self {
        self.threshold = threshold;
        self
    }

    /// Write with `codec`. Reading recognizes both codecs whatever this is.
    pub fn codec(mut self, codec: Codec) -> Self {
        self.codec = codec;
        self
    }

    /// Refuse to decompress values that would expand past `bytes`
    /// (default [`DEFAULT_MAX_DECOMPRESSED`]).
    pub fn max_decompressed(mut self, bytes: usize) -> Self {
        self.max_decompressed = bytes;
        self
    }
}

impl<S: Serde> Serde for Compressed<S> {
    type Value = S::Value;

    fn serialize(&self, key: &[u8], value: &S::Value) -> Result<(Bytes, u32)> {
        let (data, flags) = self.inner.serialize(key, value)?;
        if data.len() <= self.threshold || flags & flags::COMPRESSED != 0 {
            return Ok((data, flags));
        }
        let compressed = self.codec.compress(&data);
        // pymemcache keeps the compressed form unless it is larger.
        if compressed.len() <= data.len() {
            Ok((compressed.into(), flags | flags::COMPRESSED))
        } else {
            Ok((data, flags))
        }
    }

    fn deserialize(&self, key: &[u8], data: Bytes, flags: u32) -> Result<S::Value> {
        if flags & flags::COMPRESSED == 0 {
            return self.inner.deserialize(key, data, flags);
        }
        let plain = codec::decompress(&data, self.max_decompressed).ok_or_else(|| {
            Error::Serde(format!(
                "value of key {} has flags {flags} (compressed) but is neither a zlib \
                 stream nor an lz4 block of at most {} bytes",
                crate::error::quote(key, 64),
                self.max_decompressed
            ))
        })?;
        self.inner
            .deserialize(key, plain.into(), flags & !flags::COMPRESSED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serde::{CacheValue, PyFlags, RawBytes};

    #[test]
    fn values_up_to_the_threshold_stay_plain_as_in_pymemcache() {
        for codec in [Codec::Lz4, Codec::Zlib] {
            let serde = Compressed::new(RawBytes).codec(codec);
            let value = Bytes::from(vec![b'a'; 400]);
            let (data, flags) = serde.serialize(b"k", &value).unwrap();
            assert_eq!((data, flags), (value, 0));
            let value = Bytes::from(vec![b'a'; 401]);
            let (data, flags) = serde.serialize(b"k", &value).unwrap();
            assert_eq!(flags, flags::COMPRESSED);
            assert!(data.len() < 100);
        }
    }

    #[test]
    fn a_zlib_writer_and_an_lz4_writer_read_each_other() {
        let zlib = Compressed::new(PyFlags).codec(Codec::Zlib);
        let lz4 = Compressed::new(PyFlags);
        let value = CacheValue::Text("é memclient ".repeat(100));
        let (z, zflags) = zlib.serialize(b"k", &value).unwrap();
        let (l, lflags) = lz4.serialize(b"k", &value).unwrap();
        assert_ne!(z, l);
        assert_eq!(lz4.deserialize(b"k", z, zflags).unwrap(), value);
        assert_eq!(zlib.deserialize(b"k", l, lflags).unwrap(), value);
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
        let serde = Compressed::new(RawBytes).threshold(10).codec(Codec::Zlib);
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
